# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The offline half of the HW-* checks: does this kernel release have the
drivers for Compute Engine's devices?  No device is needed.

For one release, each device's modalias is built from the catalogue and
matched against the release's alias tables (``modalias.py``); the driver
that must bind it is named, as built in or a module, and a module is looked
up in the release's initramfs (the shared reader, ``initramfs.py``).  Virtio
devices take two hops: the PCI function (``virtio_pci``) and the virtio
device (``virtio_net``, ``virtio_scsi``).  Bridges have no PCI driver
(platform code serves them): their offline half is ``not-applicable`` and
they are judged live.

The serial ports have no modalias: the ``8250`` driver must be built in or
loadable, and it must register enough ports for ttyS0-ttyS3.  It registers
``nr_uarts`` ports at most: ``CONFIG_SERIAL_8250_RUNTIME_UARTS``, or the
``8250.nr_uarts=`` kernel parameter, capped at
``CONFIG_SERIAL_8250_NR_UARTS`` (drivers/tty/serial/8250/8250_core.c:
``nr_uarts`` defaults to RUNTIME_UARTS, ``serial8250_init`` caps it at
``UART_NR``, and every port, discovered through ACPI/PNP or not, takes one
of the ``nr_uarts`` slots in ``serial8250_find_match_or_unused``).  Both
options default to 4 (drivers/tty/serial/8250/Kconfig); a kernel built with
1 never shows ttyS1-ttyS3.  The options come from the release's
configuration (``kconfig.read``), the parameter from every kernel command
line that boots it (``kernel_cmdline.py``).
"""

from ansible_collections.guestready.gce.plugins.module_utils import initramfs as initramfs_reader
from ansible_collections.guestready.gce.plugins.module_utils import kconfig, kernel_cmdline, modalias, modprobe
from ansible_collections.guestready.gce.plugins.module_utils.configfiles import ConfigError
from ansible_collections.guestready.gce.plugins.module_utils.device_names import describe
from ansible_collections.guestready.gce.plugins.module_utils.digits import bounded_int, kstrtouint
from ansible_collections.guestready.gce.plugins.module_utils.hardware_results import verdict, worst
from ansible_collections.guestready.gce.plugins.module_utils.target import Target, TargetError

# Kernel options behind the drivers (for remediation text).
DRIVER_OPTIONS = {"virtio_pci": "VIRTIO_PCI", "virtio_net": "VIRTIO_NET",
                  "virtio_scsi": "SCSI_VIRTIO", "gve": "GVE", "8250": "SERIAL_8250"}
# drivers/tty/serial/8250/Kconfig: both default to 4
UART_OPTIONS = ("SERIAL_8250_NR_UARTS", "SERIAL_8250_RUNTIME_UARTS")
UART_OPTION_DEFAULT = 4
# the parameter, and its 3.7-era spelling, honoured with SERIAL_8250_DEPRECATED_OPTIONS
NR_UARTS_PARAMETER = "8250.nr_uarts"
DEPRECATED_NR_UARTS_PARAMETER = "8250_core.nr_uarts"


class OfflineCheck(object):
    """The drivers of one kernel release (``modules_path`` = its lib/modules dir)."""

    def __init__(self, modules_path, root="/", initramfs=None, release=None, running=False):
        """``modules_path`` (a ``lib/modules/<release>`` directory) and
        ``initramfs`` are paths inside ``root`` (a path or a Target);
        ``running``: the release is the kernel running this system (its
        /proc/config.gz and /proc/cmdline count)."""
        self.target = root if isinstance(root, Target) else Target(root)
        self.tree = modalias.KernelModules(modules_path, self.target)
        self.release = release or self.tree.release
        self.running = running
        self.initramfs_option = initramfs
        self._initramfs = None
        self._config = None
        self._command_lines = None
        self._blocks = None

    # -- inputs, read once ---------------------------------------------------

    def initramfs(self):
        """``{"path", "state": read|absent|unreadable, "modules", "method", "error"}``, once;
        ``blocks`` (modprobe.blocks) from the image's own modprobe.d when it was read."""
        if self._initramfs is None:
            path = self.initramfs_option or initramfs_reader.find_initramfs(self.release, self.target)
            info = {"path": self.target.display(path) if path else None, "modules": None,
                    "method": None, "error": None}
            if not path:
                info["state"] = "absent"
                info["absent_status"], info["error"] = initramfs_reader.not_found(self.release, self.target)
            else:
                try:
                    modules, method, error = initramfs_reader.kernel_modules(path, target=self.target, release=self.release)
                except (IOError, OSError, ValueError, EOFError, initramfs_reader.InitramfsError) as exc:
                    modules, method, error = None, None, "%s: %s" % (path, exc)
                info.update(modules=modules, method=method, error=error,
                            state="unreadable" if modules is None else "read")
                if modules is not None:
                    info["cannot_unpack"], info["unpacked_some"] = self._cannot_unpack(method)
                    # its own copy of modprobe.d is what udev loads by in the initramfs
                    info["blocks"] = initramfs_reader.modprobe_blocks(path, target=self.target)
            self._initramfs = info
        return self._initramfs

    def _cannot_unpack(self, method):
        """``(reasons, some segment unpacked)``: why this kernel, by its
        configuration, cannot unpack the initramfs read by ``method`` (the
        reader's ``python:cpio+zstd(command)``), wholly or in part: no
        initramfs support at all, or a compression it was built without
        (init/initramfs.c: "compression method %s not configured" ends the
        unpacking there)."""
        try:
            config = self.config()[0]
        except TargetError:
            config = None   # unreadable without root: the drivers are judged as before, by the image alone
        if config is None:
            return [], False
        if config.get("BLK_DEV_INITRD") == "n":
            return ["the kernel loads no initramfs (CONFIG_BLK_DEV_INITRD is not set)"], False
        if not (method or "").startswith("python:"):
            return [], False   # a lister's listing: the compressions are not known
        kinds = [kind.replace("(command)", "") for kind in
                 method[len("python:"):].split(";")[0].split(" ")[0].split("+")]
        packed = [kind for kind in kinds if kind != "cpio"]
        missing = [kind for kind in packed if config.get("RD_" + kind.upper()) == "n"]
        reasons = ["the kernel cannot unpack its %s data (CONFIG_RD_%s is not set)" % (kind, kind.upper())
                   for kind in missing]
        return reasons, len(missing) < len(packed)

    def config(self):
        """``(Kconfig or None, why not)``: the release's configuration, once."""
        if self._config is None:
            path, tried = kconfig.find_config(self.release, self.target, live=self.running)
            if path is None:
                found = (None, "no kernel configuration for %s (tried %s)" % (self.release, ", ".join(tried)))
            else:
                try:
                    found = (kconfig.read(path, target=self.target), None)
                except kconfig.KconfigError as exc:
                    found = (None, str(exc))
            self._config = found
        return self._config

    def command_lines(self):
        """``(the kernel command lines that boot this release, None)`` or
        ``(None, why not)``, once."""
        if self._command_lines is None:
            try:
                lines = kernel_cmdline.find(self.target, self.running)
                self._command_lines = (kernel_cmdline.for_release(lines, self.release), None)
            except TargetError as exc:
                self._command_lines = (None, "the kernel command line is unknown: %s" % exc)
        return self._command_lines

    def blocks(self):
        """``({module: [what keeps it from loading]}, None)`` or ``(None,
        why not)``: modprobe.d and the kernel command line, once."""
        if self._blocks is None:
            lines, error = self.command_lines()
            try:
                found = modprobe.blocks(self.target)
            except ConfigError as exc:
                found, error = None, "modprobe's configuration is unknown: %s" % exc
            if found is not None and lines is not None:
                for module, where in modprobe.cmdline_blocks(lines).items():
                    found.setdefault(module, []).extend(where)
            self._blocks = (found if error is None else None, error)
        return self._blocks

    def summary(self):
        info = self._initramfs or {}
        config = self._config[0] if self._config else None
        return {"kernel_release": self.release, "modules_dir": self.tree.path,
                "files": list(self.tree.present), "problem": self.tree.problem(),
                "config": config.source if config else None,
                "initramfs": dict((k, info.get(k)) for k in ("path", "state", "method", "error"))
                if info else None}

    # -- one entry -----------------------------------------------------------

    def check(self, entry):
        expected = entry["expected"]
        problem = self.tree.problem()
        if "serial" in expected:
            hops = [("serial", None, expected["serial"]["driver"])]
        elif not expected.get("driver"):
            return self._bridge(entry, problem)
        else:
            pci = expected["pci"]
            hops = [("pci", modalias.pci_modalias(pci["vendor"], pci["device"],
                                                  pci.get("subsystem_vendor"),
                                                  pci.get("subsystem_device"), pci.get("class")),
                     expected["driver"])]
            if "virtio" in expected:
                hops.append(("virtio", modalias.virtio_modalias(expected["virtio"]["device_id"]),
                             expected["virtio"]["driver"]))
        if problem and not self.tree.exists:
            judged = self._without_modules(hops, expected)
            if judged is not None:
                return judged
        if problem:
            return verdict("unknown", "%s: cannot tell which drivers it has" % problem,
                           ["run `depmod %s` (or install the kernel's modules) and check again"
                            % self.release],
                           evidence={"modules_dir": self.tree.path, "files": list(self.tree.present)},
                           kernel_release=self.release, drivers=[])
        drivers = [self._hop(kind, alias, driver) for kind, alias, driver in hops]
        evidence = {"modules_dir": self.tree.path,
                    "alias_lines": ["%s:%s: %s" % (m["source"], m["line"], m["text"])
                                    for d in drivers for m in d["matches"]]}
        if any(d.get("initramfs") for d in drivers):
            evidence["initramfs"] = self.initramfs()["path"]
        blocked = [line for d in drivers for line in d.get("blocked_by", ())]
        if blocked:
            evidence["blocked_by"] = blocked
        return self._verdict(expected, drivers, evidence)

    def _verdict(self, expected, drivers, evidence):
        """The result of an entry from its driver hops (and, for the serial
        ports, how many 8250 registers)."""
        parts = list(drivers)
        uarts = None
        if "serial" in expected and drivers[0]["kind"]:
            uarts = self._uarts(len(expected["serial"]["ports"]), drivers[0]["kind"])
            parts.append(uarts)
            evidence["uarts"] = uarts.pop("evidence")
        return verdict(worst([p["status"] for p in parts]), "; ".join(p["message"] for p in parts),
                       [r for p in parts for r in p["remediation"]], evidence,
                       kernel_release=self.release,
                       drivers=[dict((k, v) for k, v in d.items() if k not in ("remediation",))
                                for d in drivers],
                       uarts=dict((k, v) for k, v in uarts.items() if k != "remediation") if uarts else None)

    def _without_modules(self, hops, expected):
        """A kernel built without loadable modules (CONFIG_MODULES not set) has
        no modules directory: every driver is built in or absent, as its
        configuration says.  None when that is not this kernel."""
        config, dummy = self.config()
        if config is None or config.get("MODULES") not in (None, "n"):
            return None
        drivers = []
        for kind, alias, driver in hops:
            want = modalias.normalize_module(driver)
            option = DRIVER_OPTIONS.get(want, want.upper())
            value = config.get(option)
            hop = _new_hop(kind, alias, want)
            if value == "y":
                hop.update(driver=want, kind="built-in", status="pass",
                           message="%s is built in (CONFIG_%s=y; the kernel has no loadable modules)" % (want, option))
            else:
                hop.update(status="fail", message="no %s driver: CONFIG_%s is %s and the kernel has no loadable "
                           "modules" % (want, option, "not set" if value in (None, "n") else value),
                           remediation=["build %s with CONFIG_%s=y" % (self.release, option)])
            drivers.append(hop)
        return self._verdict(expected, drivers, {"config": config.source, "modules_dir": self.tree.path})

    def _bridge(self, entry, problem):
        pci = entry["expected"]["pci"]
        alias = modalias.pci_modalias(pci["vendor"], pci["device"], pci.get("subsystem_vendor"),
                                      pci.get("subsystem_device"), pci.get("class"))
        matches = [] if problem else self.tree.lookup(alias)
        informational = ["%s (%s)" % (m["module"], "built in" if m["builtin"] else "module")
                         for m in matches]
        message = ("bridge %s: no PCI driver is required (platform code serves it), "
                   "checked live" % describe(pci["vendor"], pci["device"]))
        if informational:
            message += "; %s also match%s its modalias (not required)" % (
                ", ".join(informational), "es" if len(informational) == 1 else "")
        return verdict("not-applicable", message,
                       evidence={"modalias": alias,
                                 "alias_lines": ["%s:%s: %s" % (m["source"], m["line"], m["text"])
                                                 for m in matches]},
                       kernel_release=self.release, drivers=[])

    def _hop(self, kind, alias, driver):
        want = modalias.normalize_module(driver)
        hop = _new_hop(kind, alias, want)
        option = DRIVER_OPTIONS.get(want, want.upper())
        if alias is not None:
            hop["matches"] = self.tree.lookup(alias)
            names = sorted(set(m["module"] for m in hop["matches"]))
            if want in names:
                hop["driver"] = want
            elif self.tree.is_builtin(want) and not self.tree.builtin_aliases_listed(want):
                # a built-in driver whose device table the kernel did not list
                # (before 6.18): trust the name
                hop["driver"] = want
                hop["note"] = ("no built-in alias of %s in %s (before Linux 6.18 "
                               "modules.builtin.modinfo lists only MODULE_ALIAS() names, before 5.2 "
                               "there is no such file); %s judged by its name in modules.builtin"
                               % (want, self.tree.path, want))
            else:
                what = "%s %s" % (kind, alias)
                if names:
                    message = "%s: only %s match%s, not %s" % (
                        what, ", ".join(names), "es" if len(names) == 1 else "", want)
                else:
                    message = "%s: no driver in modules.alias or the built-in aliases (%s expected)" % (what, want)
                hop.update(status="fail", message=message,
                           remediation=["build %s with CONFIG_%s=y (or =m with the module in the "
                                        "initramfs)" % (self.release, option)])
                return hop
        else:
            hop["driver"] = want if self.tree.kind(want) else None
            if hop["driver"] is None:
                hop.update(status="fail",
                           message="no %s driver: neither in modules.builtin nor in modules.dep" % want,
                           remediation=["build %s with CONFIG_%s=y" % (self.release, option)])
                return hop
        hop["kind"] = self.tree.kind(want) or ("built-in" if any(
            m["builtin"] for m in hop["matches"] if m["module"] == want) else None)
        if hop["kind"] == "built-in":
            hop.update(status="pass", message="%s is built in" % want)
            return hop
        if hop["kind"] is None:
            hop.update(status="fail",
                       message="%s matches in modules.alias but is not in modules.dep "
                               "(stale depmod output?)" % want,
                       remediation=["run `depmod %s` and check again" % self.release])
            return hop
        hop["module_path"] = self.tree.module_path(want)
        blocked = self._blocked_hop(hop, want)
        return blocked or self._initramfs_hop(hop, want)

    def _blocked_hop(self, hop, want):
        """The hop, failed, when modprobe's configuration or the command line
        keeps module ``want`` from loading; unknown when they cannot be read."""
        found, error = self.blocks()
        if found is None:
            hop.update(status="unknown", message="%s is a module; %s" % (want, error),
                       remediation=["fix or remove the file named, then re-run"])
            return hop
        where = self._blocking(found, want, hop["modalias"])
        if not where:
            return None
        hop["blocked_by"] = modprobe.block_lines(where)
        hop.update(status="fail",
                   message="%s is a module that is never loaded for the device: %s" % (want, modprobe.describe(where)),
                   remediation=["remove %s from %s (then rebuild the initramfs, which carries a copy of "
                                "modprobe.d)" % (", ".join([want] + sorted(set(w["module"] for w in where if "module" in w))),
                                                 ", ".join(sorted(set(w["source"] for w in where))))])
        return hop

    def _blocking(self, found, want, alias):
        """What in ``found`` (modprobe.blocks) keeps module ``want`` from
        loading: its blacklist and install lines, and an install command
        that loads nothing for a module it needs, which kmod loads first and
        stops at when it fails (libkmod-module.c,
        kmod_module_probe_insert_module; KMOD_PROBE_APPLY_BLACKLIST leaves
        their blacklist alone).  A softdep cancels a module's install
        command only when it names a module this kernel has.  An ``alias``
        line matching the device's modalias ``alias`` without naming
        ``want`` hands the device to another module."""
        if not isinstance(found, modprobe.Blocks):
            return found.get(want)

        def resolves(name):
            return bool(self.tree.kind(name) or self.tree.lookup(name))
        where = list(dict.get(found, want) or ()) + found.install(want, resolves)
        if alias is not None:
            where.extend(found.alias_override(alias, want))
        for dep in self.tree.dependencies(want):
            where.extend(dict(entry, how="needed-install", module=dep) for entry in found.install(dep, resolves))
        return where

    def _initramfs_hop(self, hop, want):
        info = self.initramfs()
        if info["state"] == "absent":
            # initramfs.not_found decided, as for KCONF-*
            hop.update(initramfs="absent", status=info["absent_status"],
                       message="%s is a module; %s" % (want, info["error"]),
                       remediation=["build an initramfs for %s carrying %s (update-initramfs -c -k %s, "
                                    "or dracut)" % (self.release, want, self.release)])
            return hop
        if info["state"] == "unreadable":
            hop.update(initramfs="unknown", status="unknown",
                       message="%s is a module; the initramfs %s could not be inspected: %s" % (
                           want, info["path"], info["error"]),
                       remediation=["check %s by hand (lsinitramfs / lsinitrd) for %s"
                                    % (info["path"], want)])
            return hop
        if info.get("cannot_unpack"):
            some = info["unpacked_some"]
            hop.update(initramfs="unknown" if some else "unusable",
                       status="unknown" if some else "module-missing-from-initramfs",
                       message="%s is a module; %s: %s%s" % (
                           want, info["path"], "; ".join(info["cannot_unpack"]),
                           ", and which part holds %s is not known" % want if some else
                           ", so no module in it is loaded at boot"),
                       remediation=["rebuild the initramfs of %s with a compression the kernel has (COMPRESS= in "
                                    "/etc/initramfs-tools/initramfs.conf, compress= in dracut.conf), or the kernel "
                                    "with the option named set" % self.release])
            return hop
        missing = self.tree.missing_from_initramfs(want, info["modules"])
        hop["missing_dependencies"] = [name for name in missing if name != want]
        if missing:
            if want in missing:
                message = "%s is a module missing from the initramfs %s" % (want, info["path"])
                if hop["missing_dependencies"]:
                    message += " (and so are %s, which it needs)" % ", ".join(hop["missing_dependencies"])
            else:
                message = "%s is a module in the initramfs %s, but %s, which it needs, %s not" % (
                    want, info["path"], ", ".join(missing), "is" if len(missing) == 1 else "are")
            add = " ".join(missing)
            hop.update(initramfs="missing", status="module-missing-from-initramfs", message=message,
                       remediation=[
                           "add %s to the initramfs: Debian/Ubuntu `echo %s >> "
                           "/etc/initramfs-tools/modules && update-initramfs -u -k %s`; "
                           "dracut `add_drivers+=\" %s \"` in /etc/dracut.conf.d/ and `dracut -f`"
                           % (add, want, self.release, add)])
            return hop
        where = self._blocking(info.get("blocks", {}), want, hop["modalias"])
        if where:
            # the tree's modprobe.d lets it load, the initramfs's older copy does not
            hop["blocked_by"] = modprobe.block_lines(where)
            hop.update(initramfs="blocked", status="fail",
                       message="%s is a module in the initramfs %s, but %s: %s" % (
                           want, info["path"], modprobe.IN_INITRAMFS, modprobe.describe(where)),
                       remediation=["rebuild the initramfs of %s from the current modprobe.d (update-initramfs "
                                    "-u -k %s, or dracut -f), or remove %s from the file named" % (
                                        self.release, self.release, want)])
            return hop
        hop.update(initramfs="present", status="module-in-initramfs",
                   message="%s is a module in the initramfs" % want)
        return hop

    # -- how many serial ports the 8250 driver registers -----------------------

    def _uarts(self, needed, driver_kind):
        config, error = self.config()
        if config is None:
            return verdict("unknown", "how many ports 8250 registers is unknown: %s" % error,
                           ["install the kernel's configuration (/boot/config-%s) so that "
                            "CONFIG_SERIAL_8250_NR_UARTS and _RUNTIME_UARTS can be checked" % self.release],
                           evidence={"config": error}, needed=needed, registered=None, boots=[])
        options, evidence = {}, {"config": config.source}
        for name in UART_OPTIONS:
            options[name] = _uart_option(config, name)
            evidence["CONFIG_" + name] = options[name]["text"]
        limit, runtime = options["SERIAL_8250_NR_UARTS"]["value"], options["SERIAL_8250_RUNTIME_UARTS"]["value"]
        names = [NR_UARTS_PARAMETER]
        if config.get("SERIAL_8250_DEPRECATED_OPTIONS") in ("y", "m"):
            names.append(DEPRECATED_NR_UARTS_PARAMETER)
        boots = []
        lines, error = self.command_lines()
        if lines is None:
            return verdict("unknown", error, ["fix or remove the file named, then re-run"],
                           evidence=evidence, needed=needed, registered=None, boots=[])
        for line in lines:
            given = [(n, v) for n, v in kernel_cmdline.parameters(line["cmdline"]) if n in names]
            boots.append(_boot(line, given, runtime, limit))
        if not boots:
            boots.append(_boot(None, [], runtime, limit))
        evidence["command_lines"] = ["%s:%s (%s): %s" % (b["source"], b["line"], b["kind"], b["cmdline"])
                                     for b in boots if b["source"]]
        short = [b for b in boots if b["registered"] < needed]
        registered = min(b["registered"] for b in boots)
        if not short:
            return verdict("pass", "8250 registers %d ports (%s)" % (registered, _why(boots[0], options)),
                           evidence=evidence, needed=needed, registered=registered, boots=boots)
        remediation = []
        if limit < needed:
            remediation.append("rebuild %s with CONFIG_SERIAL_8250_NR_UARTS=%d or more: no kernel "
                               "parameter can raise it" % (self.release, needed))
        else:
            remediation.append(
                "add 8250.nr_uarts=%d to the kernel command line (GRUB_CMDLINE_LINUX in "
                "/etc/default/grub, then update-grub or grub2-mkconfig), or rebuild %s with "
                "CONFIG_SERIAL_8250_RUNTIME_UARTS=%d" % (needed, self.release, needed))
            if driver_kind == "module":
                remediation.append("8250 is a module here: `options 8250 nr_uarts=%d` in "
                                   "/etc/modprobe.d/ also works" % needed)
        messages = ["8250 registers only %d port%s (%s)%s" % (
            b["registered"], "" if b["registered"] == 1 else "s", _why(b, options),
            " with %s" % _where(b) if b["source"] else "") for b in short]
        return verdict("fail", "; ".join(messages) + ": ttyS%d-ttyS%d can never appear" % (
            min(b["registered"] for b in short), needed - 1),
            remediation, evidence, needed=needed, registered=registered, boots=boots)


def _new_hop(kind, alias, want):
    """One driver hop, not judged yet."""
    return {"hop": kind, "modalias": alias, "expected_driver": want, "matches": [], "driver": None,
            "kind": None, "module_path": None, "initramfs": None, "missing_dependencies": [], "remediation": []}


def _uart_option(config, name):
    """``{"value", "text"}`` of an integer option; absent means its Kconfig default."""
    text = config.get(name)
    try:
        return {"value": bounded_int(text, 0), "text": "CONFIG_%s=%s" % (name, text)}
    except (TypeError, ValueError):
        return {"value": UART_OPTION_DEFAULT,
                "text": "CONFIG_%s %s: its default, %d" % (
                    name, "absent" if text is None else "is %r" % text, UART_OPTION_DEFAULT)}


def _boot(line, given, runtime, limit):
    """How many ports one kernel command line (None: the configuration
    alone) leaves the 8250 driver."""
    parameter = given[-1] if given else None
    count = runtime
    if parameter is not None:
        # a uint module parameter (kstrtouint): '-1', '0o4', a number past 32 bits are refused, and
        # the driver keeps its default; '010' is 8
        count = kstrtouint(parameter[1] or "")
        if count is None:
            parameter, count = None, runtime
    boot = {"source": line["source"] if line else None, "line": line["line"] if line else None,
            "kind": line["kind"] if line else None, "cmdline": line["cmdline"] if line else None,
            "parameter": "%s=%s" % parameter if parameter else None,
            "registered": max(0, min(count, limit))}
    return boot


def _why(boot, options):
    limit = options["SERIAL_8250_NR_UARTS"]
    if boot["parameter"]:
        return "%s, %s" % (boot["parameter"], limit["text"])
    return "%s, %s" % (options["SERIAL_8250_RUNTIME_UARTS"]["text"], limit["text"])


def _where(boot):
    return "the command line of %s:%s (%s)" % (boot["source"], boot["line"], boot["kind"])
