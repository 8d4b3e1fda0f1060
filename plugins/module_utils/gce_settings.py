# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The GCE-* area: check and apply the non-kernel Compute Engine settings on
a live system or an image tree, in the module execution of the other areas.

``check_gce(params, entries, waivers, module)`` judges every entry from the
readers (boot loader, units, packages, time, network, SSH, fstab, udev) and
``apply_gce(...)`` brings what is safe to compliance:

* files, through the target root: the collection's own drop-ins where the
  software reads drop-ins, and otherwise edits that keep every replaced line
  behind a marker; nothing outside the root, nothing of the user's lost;
* on a live system only: the distribution's packages (apt-get, dnf, zypper), units
  (systemctl), grub.cfg regenerated, services reloaded; in a tree the same
  units are enabled with the links systemctl would make;
* SSH never locks the user out: the new configuration is validated with
  ``sshd -t`` before anything is written, and the run fails *before
  changing anything* when it would refuse the connecting user's own login
  method (``sshd -T -C`` for that user when an sshd can run, the parser
  otherwise).

What cannot be applied safely is reported with its remediation.
"""

import fnmatch
import os
import posixpath
import pwd
import shutil
import stat
import tempfile

from ansible_collections.guestready.gce.plugins.module_utils import (
    bootconfig, bootdisk, bootloader, cmdline, configfiles, fstab, kernel_cmdline, netconf, packages, privilege, sshd, sysctl,
    sysctl_baseline, systemd_conf, timesync, udev, units)
from ansible_collections.guestready.gce.plugins.module_utils.catalogue import BY_ID, CATALOGUE, serial_console
from ansible_collections.guestready.gce.plugins.module_utils.devices import root_arch
from ansible_collections.guestready.gce.plugins.module_utils.configfiles import ConfigError, lines
from ansible_collections.guestready.gce.plugins.module_utils.globs import simple_match
from ansible_collections.guestready.gce.plugins.module_utils.host import live_root
from ansible_collections.guestready.gce.plugins.module_utils.results import listed, record, summarize
from ansible_collections.guestready.gce.plugins.module_utils.target import TargetError, TooLarge, text_bytes

MARKER = "guestready.gce"
HEADER = ("# Managed by guestready.gce (gce_settings): Compute Engine's guest settings.\n"
          "# Do not edit: set waivers or overrides in the inventory instead.\n")
GRUB_DROPIN = "/etc/default/grub.d/zz-guestready-gce.cfg"
SSHD_DROPIN_DIR = "/etc/ssh/sshd_config.d"
SSHD_DROPIN = SSHD_DROPIN_DIR + "/00-guestready-gce.conf"
# the package that carries sshd (Debian, Ubuntu, Red Hat, SUSE, Alpine)
OPENSSH_SERVER = "openssh-server"
SSHD_BLOCK_BEGIN = "# guestready.gce begin: managed block, read before every other setting\n"
SSHD_BLOCK_END = "# guestready.gce end\n"
TIMESYNCD_DROPIN = "/etc/systemd/timesyncd.conf.d/zz-guestready-gce.conf"
CHRONY_SOURCES = "guestready-gce.sources"
NETWORKD_FILE = "/etc/systemd/network/80-guestready-gce.network"
UDEV_DISK_RULES = "/etc/udev/rules.d/65-gce-disk-naming.rules"
REGENERATE_GRUB = "regenerate grub.cfg"
OWN_FILES = (GRUB_DROPIN, SSHD_DROPIN, TIMESYNCD_DROPIN, NETWORKD_FILE)
NETWORK_MANAGERS = (("networkd", "systemd-networkd.service"), ("networkmanager", "NetworkManager.service"),
                    ("ifupdown", "networking.service"), ("ifcfg", "network.service"),
                    ("wicked", "wicked.service"))
# the stage that renders the network configuration (cloud-init's
# systemd/cloud-init-local.service.tmpl: WantedBy=cloud-init.target)
CLOUD_INIT_UNIT = "cloud-init-local.service"
# masked (a link to /dev/null, or an empty file: systemd.link(5)), the kernel's names stay: eth0
# (systemd.io/PREDICTABLE_INTERFACE_NAMES, "mask udev's .link file for the default policy")
NAMING_POLICY_FILES = ("/etc/systemd/network/99-default.link", "/etc/udev/rules.d/80-net-setup-link.rules")
CLOUD_INIT_DISABLED = "/etc/cloud/cloud-init.disabled"
# A unit that counts as enabled when the unit standing in for it is.  Google's guest agent with
# its plugin manager (GoogleCloudPlatform/guest-agent@df9d2037: packaging/debian/rules
# override_dh_installsystemd, packaging/google-guest-agent.spec %post) enables
# google-guest-agent-manager.service, which runs the agent as its core plugin, and leaves
# google-guest-agent.service disabled (disables it on upgrade): enabling both runs two agents.
STAND_INS = {"google-guest-agent.service": "google-guest-agent-manager.service"}
# every unit whose state the checks read (Host.unit), for one is-active call
UNITS = tuple(dict.fromkeys(
    [unit for dummy, unit in NETWORK_MANAGERS]
    + [unit for dummy, names in timesync.DAEMONS for unit in names]
    + [unit for entry in CATALOGUE if entry["area"] == "gce" for unit in entry.get("units") or []]
    + sorted(STAND_INS.values())
    + [CLOUD_INIT_UNIT]))
# the getty of each architecture's first serial port: only this system's is asked about
GETTYS = frozenset(BY_ID["GCE-BOOT-SERIAL-GETTY"]["units"])

# The SCSI part of Google's 65-gce-disk-naming.rules (GoogleCloudPlatform/
# guest-configs@0850c65b, src/lib/udev/rules.d/65-gce-disk-naming.rules,
# Apache License 2.0, Copyright 2016 Google Inc.): the NVMe part needs
# Google's google_nvme_id helper, which only Google's package ships.
UDEV_DISK_TEXT = """# Written by guestready.gce (GCE-UDEV-DISK-NAMING): the SCSI rules of Google's
# 65-gce-disk-naming.rules (GoogleCloudPlatform/guest-configs,
# src/lib/udev/rules.d/65-gce-disk-naming.rules; Copyright 2016 Google Inc.,
# Apache License 2.0).  Google's package google-compute-engine ships the full
# file, NVMe naming included; install it to replace this one.
#
# Name the attached disks as specified by deviceName.
ACTION!="add|change", GOTO="gce_disk_naming_end"
SUBSYSTEM!="block", GOTO="gce_disk_naming_end"

# SCSI naming
KERNEL=="sd*|vd*", IMPORT{program}="scsi_id --export --whitelisted -d $tempnode"

# Don't symlink if it's not our devices.
KERNEL=="sd*|vd*", ENV{ID_VENDOR}!="Google", GOTO="gce_disk_naming_end"

# Symlinks
KERNEL=="sd*|vd*", ENV{DEVTYPE}=="disk", SYMLINK+="disk/by-id/google-$env{ID_SERIAL_SHORT}"
KERNEL=="sd*|vd*", ENV{DEVTYPE}=="partition", SYMLINK+="disk/by-id/google-$env{ID_SERIAL_SHORT}-part%n"

LABEL="gce_disk_naming_end"
"""

ARGUMENT_SPEC = dict(
    root=dict(type="path", default="/"),
    generalize=dict(type="bool", default=False),
    interface=dict(type="str"),
    # unknown keys are refused; auth's value is checked by _validate_root (in any case, as before)
    connection=dict(type="dict", options=dict(user=dict(type="str"), auth=dict(type="str"), addr=dict(type="str"))),
)
APPLY_ARGUMENT_SPEC = dict(
    install_packages=dict(type="bool", default=True),
    regenerate_bootloader=dict(type="bool", default=True),
    reload_services=dict(type="bool", default=True),
    lock_timeout=dict(type="int", default=300),
)


class GceError(Exception):
    """Bad input or a refused change; the message says which and why."""


class _Failed(object):
    """What ``Host.cached`` keeps of an answer that failed: the error, raised again."""

    def __init__(self, error):
        self.error = error


class Host(object):
    """The tree and what the readers make of it, read once (lazily).
    ``replace`` maps paths inside the root to the text they are read as
    (None: as if absent) -- the state a plan leads to, or the state without
    the collection's own files.  ``answers``: a store shared by the Hosts of
    one plan, read before anything is written (see ``cached``)."""

    def __init__(self, params, module, replace=None, answers=None):
        self.params, self.module = params, module
        self.target = configfiles.as_target(params["root"])
        self.live = live_root(params["root"])
        self.image = not self.live or params["generalize"]
        self.replace = dict(replace or {})
        self._cache = {}
        self.answers = {} if answers is None else answers

    def cached(self, name, make, shared=False):
        """``shared``: an answer ``replace`` cannot change (systemctl, the
        unit links, the package database), kept in ``answers``: planning judges
        the host twice (as it is, and without the collection's own files), and
        each systemctl process costs a fraction of a second on a small guest."""
        store = self.answers if shared else self._cache
        if name not in store:
            try:
                store[name] = make()
            except (ConfigError, TargetError) as exc:
                # the same files fail the same way: each check that asks is told, none reads them again
                store[name] = _Failed(exc)
        if isinstance(store[name], _Failed):
            raise store[name].error
        return store[name]

    def text(self, path):
        if path in self.replace:
            return self.replace[path]
        return configfiles.read(self.target, path)

    @property
    def grub(self):
        return self.cached("grub", lambda: bootloader.GrubConfig(self.target, self.replace))

    @property
    def arch(self):
        """``{name, source}``: the architecture of the system judged (``devices.root_arch``)."""
        return self.cached("arch", lambda: root_arch(self.target, self.live), shared=True)

    def serial_console(self, entry):
        """``(device, kernel argument, getty unit)`` of the first serial port on this architecture."""
        return serial_console(entry, self.arch["name"])

    @property
    def sshd(self):
        return self.cached("sshd", lambda: sshd.SshdConfig(self.target, replace=self.replace))

    @property
    def packages(self):
        return self.cached("packages", lambda: packages.Packages(self.target, self.module), shared=True)

    @property
    def openssh_before_8_7(self):
        """The installed OpenSSH's version when older than 8.7 (before it,
        KbdInteractiveAuthentication and ChallengeResponseAuthentication are two
        keywords), else None; None too when the package database cannot tell."""
        def make():
            try:
                version = self.packages.query([OPENSSH_SERVER]).get(OPENSSH_SERVER)
            except ConfigError:
                return None
            return version if sshd.before_8_7(version) else None
        return self.cached("openssh-before-8.7", make, shared=True)

    def unit(self, name):
        """``(state, detail)``: live ``systemctl is-enabled``/``is-active``
        when live, else the tree's links."""
        def make():
            if self.live:
                found = units.live_state(self.module, name, self.active(name), self.unit_file_state(name))
                if found is not None:
                    return found[0], {"is-enabled": found[0], "is-active": found[1]}
            state, links = units.state(self.target, name)
            detail = {"links": links, "preset": units.preset(self.target, name)}
            if state in ("unloadable", "unknown"):
                detail["load_error"] = units.load_error(self.target, name)
            return state, detail
        return self.cached("unit:" + name, make, shared=True)

    def active(self, name):
        """``systemctl is-active`` of a unit the checks ask about, asked of
        all of them (``UNITS``) in one call when the first is needed; None
        for the others (then asked alone)."""
        return (self.cached("is-active", lambda: units.active_states(self.module, self.batched()), shared=True)
                or {}).get(name)

    def unit_file_state(self, name):
        """``systemctl is-enabled``'s answer for a unit the checks ask about,
        from one ``list-unit-files`` call for all of them (``UNITS``); None
        for a unit it does not answer (then asked alone)."""
        return (self.cached("unit-files", lambda: units.unit_file_states(self.module, self.batched()), shared=True)
                or {}).get(name)

    def batched(self):
        """``UNITS`` without the getty of another architecture's serial port."""
        getty = self.serial_console(BY_ID["GCE-BOOT-SERIAL-GETTY"])[2]
        return tuple(name for name in UNITS if name not in GETTYS or name == getty)

    def enabled(self, name):
        return self.unit(name)[0] in ("enabled", "enabled-runtime", "alias", "static", "indirect",
                                      "generated")

    @property
    def network(self):
        return self.cached("network", lambda: netconf.read_all(self.target, self.replace))

    @property
    def boot_disk(self):
        """Which disk holds / and which an fstab entry: live, the running system's
        (``bootdisk.BootDisk``, from sysfs); the root of a disk image, the image's
        partitions (the disk_image worker's module gives a ``bootdisk.ImageDisk``);
        None for a directory tree (not known)."""
        if self.live:
            return self.cached("boot-disk", bootdisk.BootDisk, shared=True)
        return getattr(self.module, "image_disk", None)

    @property
    def fstab_text(self):
        return self.cached("fstab", lambda: self.text(fstab.PATH))

    def boot_menu(self):
        """The boot menu and its default entry (``bootconfig.gather_menu``:
        grub.cfg, the ESP's when it is the menu, its BLS entries with grubenv's
        ``$kernelopts``, systemd-boot's type #1 and type #2 entries)."""
        def make():
            grub = self.grub
            try:
                esp = {"bls": bootconfig.bls_entries(self.target, bootloader.SD_BOOT_ENTRIES) if grub.systemd_boot() else [],
                       "arch": self.arch["name"]}
            except TooLarge as exc:   # the checks that need the default say why (_systemd_boot_default)
                return {"config": None, "kind": "bls", "default": None, "note": None, "error": str(exc),
                        "unread": True}, {"arch": self.arch["name"]}
            if not (grub.files or grub.grub_cfg):   # no GRUB: systemd-boot's type #2 entries too
                esp["uki"], esp["uki_skipped"] = bootconfig.uki_entries(self.target, bootloader.SD_BOOT_UKI_DIRS)
            if grub.loader_conf:
                esp["loader_conf"] = (self.target.display(grub.loader_conf), grub.loader_text or "")
            if grub.grub_cfg and grub.grub_cfg.startswith(bootloader.ESP_EFI_DIR + "/"):
                esp["grub_configs"] = [(grub.grub_cfg, grub.cfg_text or "")]
            return bootconfig.gather_menu(self.target, esp, self.replace), esp
        return self.cached("boot-menu", make)[0]

    def systemd_boot_entries(self):
        """The entries systemd-boot shows, in its order (``bootconfig.systemd_boot_order``
        of the type #1 and type #2 entries ``boot_menu`` read), each with ``where``."""
        if self.boot_menu().get("unread"):   # an entry not read could be any of them: unknown (assess)
            raise TooLarge(self.boot_menu()["error"])
        esp = self._cache["boot-menu"][1]
        shown = bootconfig.systemd_boot_order((esp.get("uki") or []) + (esp.get("bls") or []), esp["arch"])
        for entry in shown:
            entry["where"] = "%s/%s" % (self.target.display(entry["directory"]), entry["file"])
        return shown

    def boot_cmdline(self):
        """``(command line, where)`` the next boot gives the default kernel:
        the boot menu's default entry (``boot_menu``); without a menu, what the
        next one is made from (the GRUB defaults, /etc/kernel/cmdline);
        without either, a live system's /proc/cmdline; ``("", None)``."""
        def make():
            grub = self.grub
            menu = self.boot_menu()
            if menu["default"] is not None:
                entry = menu["default"]
                shown = self.target.display(entry.get("directory", bootloader.BLS_DIR) if menu["kind"] == "bls" else menu["config"])
                return entry["args"] or "", "the default entry%s of %s%s" % (
                    " %r" % entry["title"] if entry.get("title") else "", shown,
                    "; %s" % menu["note"] if menu.get("note") else "")
            if grub.files:
                return grub.cmdline(), "GRUB_CMDLINE_LINUX(_DEFAULT) of %s" % ", ".join(
                    self.target.display(p) for p in grub.files)
            next_kernel = self.text(kernel_cmdline.KERNEL_INSTALL_CMDLINE)
            if next_kernel is not None:   # read as kernel_cmdline.find reads it
                return " ".join(line for line in lines(next_kernel) if not line.startswith("#")), \
                    self.target.display(kernel_cmdline.KERNEL_INSTALL_CMDLINE)
            if self.live:
                return cmdline.read_live() or "", "/proc/cmdline"
            return "", None
        return self.cached("boot-cmdline", make)

    def interface(self):
        """The primary NIC's name: the option, the default route's when live,
        else what the image will call it on Compute Engine (eth0 with
        net.ifnames=0, else ens4)."""
        if self.params.get("interface"):
            return self.params["interface"], "the interface option"
        if self.live and not self.params["generalize"]:
            name = netconf.live_default_interface()
            if name:
                return name, "the default route's interface"
        # the running system names its NICs as its own command line says; an image, as its next boot's
        running = cmdline.read_live() if self.live and not self.params["generalize"] else None
        line, where = (running, "/proc/cmdline") if running is not None else self.boot_cmdline()
        # udev's enable_name_policy() (link-config.c): proc_cmdline_get_bool(), the last value given,
        # as parse_boolean() reads it (no, off, false...); one it cannot read keeps the policy
        ifnames = cmdline.last_value(line, "net.ifnames")
        if ifnames is not None and netconf._bool(ifnames) is False:
            return "eth0", "net.ifnames=%s on the kernel command line (%s)" % (ifnames, where)
        # systemd's other ways to keep the kernel's names (PREDICTABLE_INTERFACE_NAMES):
        # the default naming policy's .link file, or udev's rule applying it, masked
        for path in NAMING_POLICY_FILES:
            if self.target.is_masked(path) or self.text(path) == "":
                return "eth0", "%s masks the predictable naming policy" % self.target.display(path)
        return "ens4", "Compute Engine's first NIC with predictable names"


# ----------------------------------------------------------------- checks
def _outcome(status, actual=None, message="", remediation="", expected=None, **evidence):
    """``expected``: what was required when it depends on the system (the
    architecture's serial console), else the catalogue's expectation."""
    return {"status": status, "actual": actual, "message": message, "remediation": remediation,
            "evidence": evidence, "expected": expected}


def _no_grub(host):
    return _outcome("unknown", None, "no GRUB 2 configuration in %s (no /etc/default/grub, grub.cfg "
                    "or BLS entries): another boot loader, or the kernel is booted directly"
                    % host.params["root"],
                    "configure the boot loader the image uses by hand, or waive the ID")


def _systemd_boot_default(host):
    """``(entry, where, shown)``: the entry systemd-boot boots without a
    keypress on a tree with nothing of GRUB's (``Host.boot_menu``: a type #1
    entry, a UKI, or a type #1 entry's uki line), its file, and that with
    what the choice could not know; Nones without one."""
    grub = host.grub
    if grub.files or grub.grub_cfg:
        return None, None, None
    menu = host.boot_menu()
    if menu.get("unread"):   # the default could be the entry not read: the check is unknown (assess)
        raise TooLarge(menu["error"])
    entry = menu["default"]
    if menu["kind"] != "bls" or entry is None:
        return None, None, None
    where = "%s/%s" % (host.target.display(entry["directory"]), entry["file"])
    return entry, where, where + ("; %s" % menu["note"] if menu.get("note") else "")


def default_entry_cmdlines(entry):
    """``[(what, command line)]`` the kernel of systemd-boot's default entry
    may get.  A type #1 entry: its options lines, joined (boot.c
    boot_entry_add_type1()).  A UKI (type #2): its .cmdline, as systemd-boot
    passes no options to it unless edited (boot_entry_add_type2(): options
    implied).  A type #1 entry's uki line: its options lines, which
    systemd-stub boots with in place of the UKI's .cmdline unless Secure Boot
    is on and the UKI has one (stub.c settle_command_line()): both, since the
    firmware's Secure Boot state is not in the tree."""
    if entry.get("type") == 2:
        return [("the .cmdline of the unified kernel image %s" % entry["kernel"], entry["args"])]
    if entry.get("uki_line") and entry.get("uki_cmdline") is not None:
        return [("its options lines, which the unified kernel image %s boots with when Secure Boot is off"
                 % entry["kernel"], entry["args"]),
                ("the .cmdline of %s, which it boots with instead when Secure Boot is on" % entry["kernel"],
                 entry["uki_cmdline"])]
    if entry.get("uki_line") and not entry.get("options_given"):
        return [("the .cmdline of the unified kernel image %s" % entry["kernel"], entry["args"])]
    return [("its options lines", entry["args"])]


def check_serial_console(host, entry):
    grub = host.grub
    default, default_file, default_at = _systemd_boot_default(host)
    if not grub.found and default is None:
        return _no_grub(host)
    device, arg, dummy = host.serial_console(entry)
    problems = []
    # systemd-boot: what its default entry gives the kernel (a UKI's .cmdline is in no entry file)
    for what, line in default_entry_cmdlines(default) if default else []:
        if not cmdline.has_console(line, device):
            problems.append("no console=%s in %s, systemd-boot's default entry %r (%s): %r" % (
                device, what, default.get("title"), default_at, line))
    line = grub.cmdline()
    if grub.files and not cmdline.has_console(line, device):
        problems.append("GRUB_CMDLINE_LINUX(_DEFAULT) is %r" % line)
    elif grub.files and not _console_in_every_kind(grub, device):
        problems.append("recovery entries get GRUB_CMDLINE_LINUX alone, which is %r"
                        % grub.value("GRUB_CMDLINE_LINUX"))
    if default:
        # every other entry systemd-boot shows, a UKI's .cmdline included (not the GRUB reading of loader/entries)
        entries = [{"where": e["where"], "cmdline": line} for e in host.systemd_boot_entries()
                   if e["where"] != default_file for dummy, line in default_entry_cmdlines(e)]
    else:
        entries = grub.entries()
    missing = sorted(set(e["where"] for e in entries if not cmdline.has_console(e["cmdline"], device)))
    if missing:
        problems.append("no console=%s in %d boot entr%s (%s)" % (
            device, len(missing), "y" if len(missing) == 1 else "ies", ", ".join(missing[:4])))
    # kernel-install builds the next kernel's entry from /etc/kernel/cmdline when it is there
    # (RHEL/Fedora 20-grub.install, systemd 90-loaderentry.install), not from the entries above
    next_kernel = host.text(kernel_cmdline.KERNEL_INSTALL_CMDLINE)
    shown = host.target.display(kernel_cmdline.KERNEL_INSTALL_CMDLINE)
    if next_kernel is not None and not cmdline.has_console(next_kernel, device):
        problems.append("no console=%s in %s, from which kernel-install writes the boot entry of the "
                        "next kernel installed (%r)" % (device, shown, next_kernel.strip()))
    evidence = {"layout": grub.layout, "defaults": [host.target.display(p) for p in grub.files],
                "grub_cfg": host.target.display(grub.grub_cfg) if grub.grub_cfg else None,
                "entries": entries, "kernel_install": shown if next_kernel is not None else None,
                "arch": host.arch}
    remediation = entry["remediation"]
    if default:
        line = default["args"]
        evidence["default_entry"] = {"where": default_at, "cmdlines": default_entry_cmdlines(default)}
        if default.get("type") == 2 or default.get("uki_line"):
            # nothing here rewrites a signed PE file: the UKI is rebuilt with the console
            remediation = "%s; a unified kernel image: rebuild it with %s in its .cmdline (ukify build --cmdline, or " \
                "/etc/kernel/cmdline, then kernel-install add)" % (remediation, arg)
    if problems:
        return _outcome("fail", line, "; ".join(problems), remediation, expected=arg, **evidence)
    return _outcome("pass", line, "console=%s in %s and in %d boot entr%s%s" % (
        device, "systemd-boot's default entry %r (%s)" % (default.get("title"), default_at) if default
        else "the GRUB defaults", len(entries), "y" if len(entries) == 1 else "ies",
        " and in %s" % shown if next_kernel is not None else ""), expected=arg, **evidence)


def _console_in_every_kind(grub, device):
    """Whether every kind of entry grub-mkconfig writes (normal, recovery)
    gets console=``device`` from the GRUB defaults."""
    return all(cmdline.has_console(line, device) for line in grub.entry_cmdlines().values())


def check_cmdline_live(host, entry):
    if not host.live:
        return _outcome("not-applicable", None, "no running kernel: %s is a tree (image root or "
                        "chroot); GCE-BOOT-SERIAL-CONSOLE judges its boot configuration"
                        % host.params["root"])
    device, dummy, dummy2 = host.serial_console(entry)
    line = cmdline.read_live()
    if line is None:
        return _outcome("unknown", None, "/proc/cmdline cannot be read", "mount /proc")
    if cmdline.has_console(line, device):
        return _outcome("pass", line, "the running kernel has console=%s" % ",".join(cmdline.consoles(line)),
                        expected="console=%s in /proc/cmdline" % device)
    return _outcome("fail", line, "the running kernel was booted without console=%s (consoles: %s)"
                    % (device, ", ".join(cmdline.consoles(line)) or "none"), entry["remediation"],
                    expected="console=%s in /proc/cmdline" % device)


def check_getty(host, entry):
    device, dummy, getty = host.serial_console(entry)
    state, detail = host.unit(getty)
    if host.live and detail.get("is-active") == "active":
        return _outcome("pass", "active", "%s is running" % getty, expected=getty, **detail)
    if state in ("masked", "masked-runtime"):
        return _outcome("fail", state, "%s is masked" % getty, "systemctl unmask %s" % getty, expected=getty,
                        **detail)
    if units.unit_file(host.target, getty) is None:
        return _outcome("fail", state, "no %s unit (serial-getty@.service) in %s" % (
            getty, host.params["root"]), "systemctl enable %s" % getty, expected=getty, **detail)
    if state == "unloadable":   # neither enabled nor started by the getty generator: systemd does not load it
        return _outcome("fail", state, _unit_is(host, getty), "mend the unit file of %s" % getty, expected=getty,
                        **detail)
    if host.enabled(getty):
        return _outcome("pass", state, "%s is enabled" % getty, expected=getty, **detail)
    # systemd-boot has no GRUB defaults: what every kernel gets is in the entries it shows, a UKI's .cmdline included
    grub = host.grub
    lines = [] if grub.files or grub.grub_cfg else [
        line for e in host.systemd_boot_entries() for dummy, line in default_entry_cmdlines(e)]
    if grub.found and cmdline.has_console(grub.cmdline(), device):
        lines = [grub.cmdline()]
    if lines and all(cmdline.has_console(line, device) for line in lines):
        version = host.cached("systemd-version", lambda: sysctl.systemd_version(host.target), shared=True)
        off = [line for line in lines if not getty_generator_on_consoles(line, version)]
        if not off:
            return _outcome("pass", state, "systemd's getty generator starts %s for the kernel console "
                            "(console=%s in the boot configuration)" % (getty, device), expected=getty, **detail)
        return _outcome("fail", state, "%s is %s, and systemd's getty generator, which would start it for the kernel "
                        "console, is told not to on the kernel command line (%s)" % (
                            getty, state, " ".join(getty_auto_args(off[0]))),
                        "systemctl enable %s" % getty, expected=getty, **detail)
    if host.live and cmdline.has_console(cmdline.read_live() or "", device):
        # the generator starts it only under systemd, at boot: here it is not running
        return _outcome("fail", state, "%s is not running although %s is a console of the running kernel "
                        "(systemd's getty generator did not start it), and it is %s" % (getty, device, state),
                        "systemctl enable --now %s" % getty, expected=getty, **detail)
    return _outcome("fail", state, "%s is %s and %s is not a kernel console" % (getty, state, device),
                    "systemctl enable %s" % getty, expected=getty, **detail)


# systemd-getty-generator (src/getty-generator/getty-generator.c): systemd.getty_auto= since
# systemd 250, an optional boolean; since 258 also a list of the sources it starts gettys for
GETTY_AUTO_SINCE, GETTY_SOURCES_SINCE = 250, 258
GETTY_SOURCES = ("credential", "container", "console", "builtin")


def getty_auto_args(line):
    """The ``systemd.getty_auto=`` arguments of a command line, as written."""
    return [key if value is None else "%s=%s" % (key, value) for key, value in cmdline.parse(line)
            if key.replace("-", "_") == "systemd.getty_auto"]


def getty_generator_on_consoles(line, version):
    """Whether systemd-getty-generator starts serial gettys on the kernel's
    consoles with ``line`` as the kernel command line, under systemd
    ``version`` (None: a recent one): each ``systemd.getty_auto=`` in turn
    (parse_getty_sources(): nothing or empty is every source, a boolean all
    or none, a list the sources it names; a value it cannot read is
    ignored)."""
    if version is not None and version < GETTY_AUTO_SINCE:
        return True
    on = True
    for key, value in cmdline.parse(line):
        if key.replace("-", "_") != "systemd.getty_auto":   # proc_cmdline_key_streq(): '-' is '_'
            continue
        if not value:
            on = True
        elif netconf._bool(value) is not None:
            on = netconf._bool(value)
        elif version is None or version >= GETTY_SOURCES_SINCE:
            sources = [word for word in value.split(",") if word]
            if all(word in GETTY_SOURCES for word in sources):
                on = "console" in sources
    return on


def check_timeout(host, entry):
    grub = host.grub
    if not grub.found:
        return _no_grub(host)
    limit = int(entry["expected"])
    problems = []
    seconds, where = grub.timeout()
    if grub.files and _too_long(seconds, limit):
        problems.append("%s is %s (%s)" % ("GRUB_HIDDEN_TIMEOUT" if grub.hidden_timeout() else "GRUB_TIMEOUT",
                                           seconds, where))
    if grub.systemd_boot():
        seconds, where = grub.loader_timeout()
        # the firmware's variable belongs to this machine: an image of it boots without it
        efivar = bootloader.efivar_loader_timeout() if host.live and not host.params["generalize"] else None
        if efivar is not None:
            seconds, where = efivar[0], "the LoaderConfigTimeout EFI variable (%s), which overrides %s" % (
                efivar[1], "loader.conf's timeout" if grub.loader_conf else "loader.conf")
        if _too_long(seconds, limit):
            problems.append("systemd-boot's timeout is %s (%s)%s" % (
                "menu-force" if seconds == -1 else seconds, where,
                "; bootctl set-timeout %d sets it" % limit if efivar is not None else ""))
    if grub.files and grub.uses_recordfail():
        # counted: an unattended VM stops uncleanly now and then; Canonical's cloud images set it to 0
        after_failure, failure_where = grub.recordfail_timeout()
        if _too_long(after_failure, limit):
            problems.append("GRUB_RECORDFAIL_TIMEOUT is %s (%s): the menu waits that long after a boot that "
                            "did not finish" % (after_failure, failure_where))
    for line, value in grub.cfg_timeouts():
        if _too_long(value, limit):
            problems.append("%s:%d sets timeout=%d" % (host.target.display(grub.grub_cfg), line, value))
    if problems:
        return _outcome("fail", seconds, "; ".join(problems), entry["remediation"], where=where)
    return _outcome("pass", seconds, "boot menu timeout %s s (%s)" % (seconds, where), where=where)


def _too_long(seconds, limit):
    """A GRUB timeout over ``limit`` (-1 waits for a key; None: not a number)."""
    return seconds is None or seconds > limit or seconds < 0


def _time_configs(host):
    def make():
        configs = {}
        # the chrony unit in use: its command line may name another configuration file (-f)
        unit = next((name for daemon, name in time_daemons(host) if daemon == "chrony"), None)
        chrony = timesync.read_chrony(host.target, host.replace, unit)
        if chrony.main:
            configs["chrony"] = chrony
        ntp = timesync.read_ntp(host.target)
        if ntp.main:
            configs[ntp.daemon] = ntp
        configs["timesyncd"] = timesync.read_timesyncd(host.target, host.replace)
        return configs
    return host.cached("time", make)


def time_daemons(host):
    """``[(daemon, unit)]`` enabled (live: active or enabled), leaving out an
    inactive one whose unit a condition holds back because another daemon is
    installed (Debian's timesyncd beside chrony or ntp) or whose unit another
    one's Conflicts= stops (chronyd.service beside timesyncd)."""
    found, active = [], set()
    for daemon, unit_names in timesync.DAEMONS:
        for name in unit_names:
            state, detail = host.unit(name)
            if detail.get("is-active") == "active" or (
                    host.enabled(name) and not units.held_back_by(host.target, name)):
                found.append((daemon, name))
                if detail.get("is-active") == "active":
                    active.add(name)
                break
    # systemd.unit(5) Conflicts=: of two units a boot's transaction wants to start, "the unit that
    # conflicts will be started and the unit that is conflicted is stopped" (upstream chronyd.service:
    # Conflicts=ntpd.service systemd-timesyncd.service; Debian's chrony.service: ntp.service ntpsec.service)
    conflicting = dict((name, units.conflicts(host.target, name)) for dummy, name in found)
    return [(daemon, name) for daemon, name in found if name in active or not any(
        name in conflicting[other] and other not in conflicting[name] for dummy, other in found if other != name)]


def check_time(host, entry):
    allowed = set(entry["ntp_servers"])
    daemons = time_daemons(host)
    if not daemons:
        return _outcome("fail", None, "no time synchronisation daemon is enabled (chrony, ntpsec, ntpd "
                        "or systemd-timesyncd)", "install chrony or systemd-timesyncd and point it at "
                        "metadata.google.internal")
    configs = _time_configs(host)
    problems, actual, notes = [], {}, []
    for daemon, unit in daemons:
        config = configs.get(daemon) or configs.get("ntpd" if daemon == "ntpsec" else daemon)
        if config is None:
            problems.append("%s is enabled but has no configuration file" % daemon)
            continue
        notes.extend(note for note in (config.started, config.note) if note)
        if config.ignored:
            notes.append("%s ignores %s: no host name or address" % (daemon, ", ".join(listed(config.ignored))))
        if daemon == "chrony":
            if config.fatal:
                problems.append(config.fatal)
                continue
        servers = [source.host for source in config.sources]
        actual[daemon] = listed(servers)
        external = ["%s (%s)" % (s.host, s.where) for s in config.sources
                    if not timesync.names_server(s.host, allowed)]
        unused = ["%s (%s): %s" % (s.host, s.where, s.unused) for s in config.sources
                  if s.unused and timesync.names_server(s.host, allowed)]
        if not servers and daemon == "timesyncd":
            problems.append("timesyncd has no NTP= or FallbackNTP=: it uses its compiled-in servers")
        elif not servers:
            problems.append("%s has no server" % daemon)
        if external:
            problems.append("%s also uses %s" % (daemon, ", ".join(listed(external))))
        if unused:
            problems.append("%s does not use %s" % (daemon, ", ".join(listed(unused))))
    if len(daemons) > 1:
        problems.append("%d time daemons are enabled (%s): they fight over the clock" % (
            len(daemons), ", ".join(d for d, u in daemons)))
    evidence = {"daemons": [d for d, u in daemons],
                "sources": dict((d, listed(s.describe() for s in configs[d].sources)) for d, u in daemons if d in configs)}
    if "chrony" in configs and "chrony" in evidence["daemons"]:
        evidence["chrony_conf"] = configs["chrony"].main
    if problems:
        return _outcome("fail", actual, "; ".join(problems + notes), entry["remediation"], **evidence)
    return _outcome("pass", actual, "; ".join(["%s uses only the metadata server" % " and ".join(actual)] + notes),
                    **evidence)


def network_managers(host):
    """The network configuration systems in use (their unit enabled); a
    unit that is another one's alias is that one (SLES: network.service
    for wicked.service)."""
    named = dict((unit, name) for name, unit in NETWORK_MANAGERS)
    found = []
    for name, unit in NETWORK_MANAGERS:
        if host.enabled(unit):
            name = named.get(units.alias_of(host.target, unit), name)
            found.extend([name] if name not in found else [])
    return found


def cloud_init_runs(host):
    """``(True, None)`` when cloud-init runs on the first boot of each
    instance made from the image as a new instance of Compute Engine's
    datasource (its per-instance modules run again); ``(False, why not)``."""
    def make():
        target = host.target
        if not target.isfile(netconf.CLOUD_INIT_CFG):
            return False, "cloud-init is not installed (no %s)" % target.display(netconf.CLOUD_INIT_CFG)
        if not host.enabled(CLOUD_INIT_UNIT):
            return False, _unit_is(host, CLOUD_INIT_UNIT)
        if target.exists(CLOUD_INIT_DISABLED):
            return False, "%s exists" % target.display(CLOUD_INIT_DISABLED)
        line = host.boot_cmdline()[0]   # what the next boot, an instance's first, gives the kernel
        if cmdline.last_value(line, "cloud-init") == "disabled":
            return False, "cloud-init=disabled on the kernel command line"
        sources, where = netconf.read_cloud_init_config(target).get("datasource_list", (None, None))
        if sources is not None and "GCE" not in (sources if isinstance(sources, list) else [sources]):
            return False, "datasource_list in %s leaves out GCE" % where
        return True, None
    return host.cached("cloud-init-runs", make)


def cloud_init_renders_network(host):
    """``(True, how)`` when cloud-init will render its network configuration
    anew on the first boot of each instance made from the image, with its
    fallback: DHCP on the NIC that reaches the metadata server, matched on
    that instance's MAC address (cloudinit/net/__init__.py
    generate_fallback_config; Compute Engine's datasource gives no network
    configuration of its own); ``(False, why not)`` otherwise."""
    def make():
        runs, why = cloud_init_runs(host)
        if not runs:
            return False, why
        line = host.boot_cmdline()[0]   # what the next boot, an instance's first, gives the kernel
        if cmdline.last_value(line, "network-config") == "disabled":
            return False, "network-config=disabled on the kernel command line"
        network, where = netconf.read_cloud_init_config(host.target).get("network", (None, None))
        if isinstance(network, dict) and network.get("config") == "disabled":
            return False, "%s disables its network configuration (network: {config: disabled})" % where
        if network:
            return False, ("%s gives it a network configuration of its own, rendered instead of DHCP on "
                           "the new NIC" % where)
        return True, ("cloud-init (%s enabled, its network configuration not disabled) renders it anew, "
                      "with the new instance's MAC address, on the first boot of each instance" % CLOUD_INIT_UNIT)
    return host.cached("cloud-init", make)


def cloud_init_makes_host_keys(host):
    """Whether cloud-init's ssh module makes host keys on each new
    instance's first boot (cloudinit/config/cc_ssh.py, per instance: the
    key types of ssh_genkeytypes, default rsa, ecdsa and ed25519, that
    are missing), as on Ubuntu's cloud images, whose guest agent leaves
    set_host_keys off (guest-configs packaging/ubuntu/instance_configs.cfg.distro)."""
    if not cloud_init_runs(host)[0]:
        return False
    found = netconf.read_cloud_init_config(host.target, ("cloud_init_modules", "ssh_genkeytypes"))
    modules = found.get("cloud_init_modules", ([], None))[0]
    names = [m[0] if isinstance(m, list) and m else m for m in (modules if isinstance(modules, list) else [])]
    types = found.get("ssh_genkeytypes", (None, None))[0]
    return any(n in ("ssh", "cc_ssh") for n in names) and not (isinstance(types, list) and not types)


def _covering(host):
    """``(interface, how named, managers, the config that applies or None,
    every config by source)``.  cloud-init's own netplan file applies when
    cloud-init will render it anew: the MAC address it names now is the
    build machine's, the one it will name the new instance's."""
    configs, renderer = host.network
    name, why = host.interface()
    managers = network_managers(host)
    candidates = []
    if configs["netplan"]:
        # netplan renders for its renderer; its files are the configuration
        candidates.extend(configs["netplan"])
    for source in ("networkd", "networkmanager", "ifupdown", "ifcfg", "wicked"):
        if not managers or source in managers or (source == "ifcfg" and "networkmanager" in managers):
            candidates.extend(configs[source])
    rerendered = any(c.generator == "cloud-init" for c in candidates) and cloud_init_renders_network(host)[0]
    applying = next((c for c in candidates if c.covers(name) or (rerendered and c.generator == "cloud-init")), None)
    return name, why, managers, applying, configs, renderer


def _generated(host, config):
    """How cloud-init renders ``config`` at boot, or None (the helper's
    records say how in their ``where``)."""
    return cloud_init_renders_network(host)[1] if config.generator == "cloud-init" else None


def _cloud_init_files(host, configs):
    """Why cloud-init's netplan file among ``configs`` is taken as it is
    (cloud-init will not render it anew), or ''."""
    rendered = [c.where for c in configs if c.generator == "cloud-init"]
    if rendered:
        renders, why = cloud_init_renders_network(host)
        if not renders:
            return " (cloud-init will not render its %s anew: %s)" % (", ".join(rendered), why)
    return ""


def _networkmanager_auto(host, name, managers, renderer):
    """``(True, None)`` when NetworkManager is in use and makes its automatic
    wired connection (DHCP) for ``name``; ``(False, why not)`` when its
    configuration says it makes none (``no-auto-default``,
    ``unmanaged-devices``); ``(False, None)`` without NetworkManager."""
    if "networkmanager" not in managers:
        return False, None
    return host.cached("nm-auto:" + name, lambda: netconf.networkmanager_auto_connection(host.target, name, renderer))


def check_dhcp(host, entry):
    name, why, managers, applying, configs, renderer = _covering(host)
    evidence = {"interface": name, "named_by": why, "managers": managers,
                "configs": [c.describe() for source in sorted(configs) for c in configs[source]]}
    if applying is None:
        # a keyfile NetworkManager skips configures nothing, but the user wrote it: name it and why
        skipped = ""
        for manager, key, ignored in (
                ("NetworkManager", "networkmanager_ignored", netconf.networkmanager_ignored(host.target)),
                ("systemd-networkd", "networkd_ignored", netconf.networkd_ignored(host.target, host.replace))):
            ignored = ["%s (%s)" % (host.target.display(p), reason) for p, reason in ignored]
            if ignored:
                skipped += "; %s ignores %s" % (manager, ", ".join(ignored))
                evidence[key] = ignored
        auto, not_auto = _networkmanager_auto(host, name, managers, renderer)
        if auto:
            return _outcome("pass", "auto", "NetworkManager configures %s with its automatic wired "
                            "connection (DHCP)%s" % (name, skipped), **evidence)
        return _outcome("fail", None, "no network configuration covers %s (%s); network managers "
                        "enabled: %s%s%s%s" % (name, why, ", ".join(managers) or "none",
                                               "; NetworkManager's %s" % not_auto if not_auto else "",
                                               skipped, _cloud_init_files(host, configs["netplan"])),
                        entry["remediation"], **evidence)
    evidence["applies"] = applying.describe()
    generated = _generated(host, applying)
    if generated:
        evidence["generated"] = generated
    if applying.source in ("networkmanager", "ifcfg") and "networkmanager" in managers:
        managed, unmanaged = host.cached("nm-managed:" + name, lambda: netconf.networkmanager_auto_connection(
            host.target, name, renderer, netconf.NM_UNMANAGED))
        if not managed:
            return _outcome("fail", "unmanaged", "%s configures %s, but NetworkManager's %s: the profile is never "
                            "activated" % (applying.where, name, unmanaged), entry["remediation"], **evidence)
    if applying.static or not applying.dhcp4:
        return _outcome("fail", "static" if applying.static else "no-dhcp",
                        "%s configures %s without DHCPv4%s%s" % (
                            applying.where, name, " (static addresses)" if applying.static else "",
                            " (%s)" % applying.note if applying.note else ""),
                        entry["remediation"], **evidence)
    return _outcome("pass", "dhcp", "%s configures %s by DHCP%s" % (
        applying.where, name, " (%s)" % generated if generated else ""), **evidence)


def _nic_drivers():
    """The drivers of Compute Engine's NICs, as the hardware entries name them (virtio_net, gve)."""
    return [BY_ID["HW-NET-VIRTIO"]["expected"]["virtio"]["driver"]] + BY_ID["HW-NET-GVNIC"]["expected"]["bound_as"]


def _link_file(host, name):
    """``(path, MTU or None, where)`` of the .link file udev applies to the NIC ``name``, or None."""
    return host.cached("link-file:" + name, lambda: netconf.link_file(host.target, name, _nic_drivers()))


def _link_mtu_problem(host, name, evidence):
    """The fixed MTU the .link file udev applies to ``name`` sets when the NIC appears (until a
    DHCP client sets the server's), or None."""
    found = _link_file(host, name)
    if found is None or found[1] is None:
        return None
    path, mtu, where = found
    evidence["link_file"] = {"path": host.target.display(path), "mtu": mtu}
    return "%s fixes the MTU at %d when the NIC appears (udev applies the first .link file that matches it, %s)" % (
        where, mtu, host.target.display(path))


def check_mtu(host, entry):
    name, why, managers, applying, configs, renderer = _covering(host)
    if applying is None:
        if _networkmanager_auto(host, name, managers, renderer)[0]:
            return _outcome("pass", None, "NetworkManager's automatic connection takes the DHCP MTU")
        return _outcome("unknown", None, "no network configuration covers %s: nothing to judge "
                        "(see GCE-NET-DHCP)" % name, entry["remediation"])
    evidence = {"interface": name, "applies": applying.describe()}
    if _generated(host, applying):
        evidence["generated"] = _generated(host, applying)
    problems = []
    if applying.mtu not in (None, ""):
        problems.append("%s fixes the MTU at %s" % (applying.where, applying.mtu))
    if applying.source == "ifupdown":
        requests = netconf.dhclient_requests_mtu(host.target)
        evidence["dhclient_requests_mtu"] = requests
        if requests is False:
            problems.append("dhclient.conf does not request interface-mtu")
        superseded = netconf.dhclient_fixed_mtu(host.target)
        if superseded is not None:
            evidence["dhclient_supersedes_mtu"] = superseded
            problems.append("dhclient.conf supersedes the server's interface-mtu with %s" % superseded)
    elif applying.use_mtu is False:
        problems.append("%s does not take the MTU from DHCP (%s)" % (
            applying.where, "UseMTU= is off or unset" if applying.source == "networkd" else "use-mtu: false"))
    if problems:
        # a DHCP client that takes the server's MTU replaces the .link file's; one that does not keeps it
        fixed = _link_mtu_problem(host, name, evidence)
        if fixed:
            problems.append(fixed)
        return _outcome("fail", applying.mtu or (evidence.get("link_file") or {}).get("mtu"), "; ".join(problems),
                        entry["remediation"], **evidence)
    return _outcome("pass", "dhcp", "%s takes the MTU from DHCP" % applying.where, **evidence)


# netplan's generator writes a rule for each set-name on a match by MAC address at every boot
# (netplan src/networkd.c write_rules_file(): run/udev/rules.d/99-netplan-<id>.rules); the netplan
# file it comes from is GCE-NET-NO-MAC-BINDING's to judge, and an edit of it lasts until the next boot
NETPLAN_RULES = "/run/udev/rules.d/99-netplan-*.rules"


def _persistent_rules(host):
    """``(rules, netplan's)``: the persistent-net rules, and the paths of those netplan generated."""
    rules = udev.persistent_net_rules(host.target)
    generated = sorted(set(p for p, n, r in rules if fnmatch.fnmatchcase(p, NETPLAN_RULES)))
    return [rule for rule in rules if rule[0] not in generated], generated


def check_persistent_rules(host, entry):
    rules, generated = _persistent_rules(host)
    found = ["%s:%d" % (host.target.display(p), n) for p, n, r in rules]
    spared = ("; netplan generates %s at each boot from its configuration (GCE-NET-NO-MAC-BINDING judges that)"
              % ", ".join(host.target.display(p) for p in generated)) if generated else ""
    if found:
        return _outcome("fail", listed(found), "interface names bound to MAC addresses: %s%s" % (
            ", ".join(listed(found)), spared), entry["remediation"], rules=listed(r for p, n, r in rules))
    return _outcome("pass", [], "no persistent-net rules" + spared)


# netplan's generator writes a .link file for a match: macaddress with set-name (or other link
# settings) at every boot (netplan src/networkd.c write_link_file(): run/systemd/network/
# 10-netplan-<id>.link): the netplan file it comes from is judged here already
NETPLAN_LINKS = "/run/systemd/network/10-netplan-*.link"
# and, for each netplan interface, networkd's or NetworkManager's file, which keeps its match on a MAC
# address (netplan src/networkd.c, src/nm.c; src/util.c netplan_get_id_from_nm_filename() names the prefix)
NETPLAN_OUTPUTS = ("/run/systemd/network/10-netplan-*.network", "/run/NetworkManager/system-connections/netplan-*.nmconnection")


def _renaming_links(host):
    """``([(path, what binds it)], netplan's)``: the .link files that rename a NIC by its MAC
    address, and the paths of those netplan generated."""
    links, shown = netconf.links_renamed_by_mac(host.target), host.target.display
    generated = [shown(p) for p, mac, name, named in links if fnmatch.fnmatchcase(p, NETPLAN_LINKS)]
    return [(shown(p), "%s, Name=%s%s" % (mac, name, "" if named == shown(p) else " in " + named))
            for p, mac, name, named in links if not fnmatch.fnmatchcase(p, NETPLAN_LINKS)], generated


def check_mac_binding(host, entry):
    configs, renderer = host.network
    bound = [c for source in sorted(configs) for c in configs[source] if c.mac]
    rerendered = [c for c in bound if c.generator == "cloud-init" and cloud_init_renders_network(host)[0]]
    from_netplan = [c for c in bound if any(fnmatch.fnmatchcase(c.path or "", pattern) for pattern in NETPLAN_OUTPUTS)]
    bound = [c for c in bound if c not in rerendered and c not in from_netplan]
    links, generated = _renaming_links(host)
    generated = [c.where for c in from_netplan] + generated
    spared = ("; netplan generates %s at each boot from its configuration" % ", ".join(generated)) if generated else ""
    if bound or links:
        named = [(c.where, c.mac) for c in bound] + links
        return _outcome("fail", listed(where for where, what in named), "bound to a MAC address: %s%s%s" % (
            ", ".join(listed("%s (%s)" % pair for pair in named)), _cloud_init_files(host, bound), spared),
            entry["remediation"])
    if rerendered:
        return _outcome("pass", [], "only cloud-init's own file names a MAC address: %s; %s%s" % (
            ", ".join("%s (%s)" % (c.where, c.mac) for c in rerendered), cloud_init_renders_network(host)[1], spared),
            generated=[c.describe() for c in rerendered])
    return _outcome("pass", [], "no interface configuration names a MAC address" + spared)


def _stood_in(host, unit):
    """The unit that stands in for ``unit`` (``STAND_INS``) when that one is enabled, else None."""
    other = STAND_INS.get(unit)
    return other if other and host.enabled(other) else None


def _stand_in(target, unit):
    """The unit to enable for ``unit``: its stand-in when the tree has that unit's file."""
    other = STAND_INS.get(unit)
    return other if other and units.unit_file(target, other) is not None else unit


def _unit_is(host, unit):
    """"<unit> is <state>", and why systemd does not load it when it does not."""
    state, detail = host.unit(unit)
    why = detail.get("load_error")
    return "%s is %s%s" % (unit, state, " (%s)" % why if why else "")


def _package_check(host, entry, require_units):
    fmt = host.packages.format
    wanted = (entry["packages"] or {}).get(fmt or "deb", [])
    found = host.packages.query(wanted)
    missing = [name for name, version in sorted(found.items()) if version is None]
    evidence = {"package_format": fmt, "versions": found}
    units_state = {}
    asked = entry.get("units", [])
    for unit in asked + [STAND_INS[u] for u in asked if u in STAND_INS]:
        units_state[unit] = host.unit(unit)[0]
    evidence["units"] = units_state
    if missing:
        return _outcome("fail", found, "not installed: %s" % ", ".join(missing), entry["remediation"], **evidence)
    off = [u for u in sorted(asked) if not host.enabled(u) and not _stood_in(host, u) and
           (require_units or units_state[u] != "not-found")]
    if off:
        return _outcome("fail", found, "installed, but %s" % ", ".join(_unit_is(host, u) for u in off),
                        "systemctl enable %s" % " ".join(_stand_in(host.target, u) for u in off), **evidence)
    shown = sorted(u if host.enabled(u) else _stood_in(host, u) or u for u in asked)
    return _outcome("pass", found, "%s installed%s" % (", ".join(
        "%s %s" % (n, v) for n, v in sorted(found.items())),
        " and %s enabled" % ", ".join(shown) if shown else ""), **evidence)


def check_agent(host, entry):
    return _package_check(host, entry, True)


def check_oslogin(host, entry):
    return _package_check(host, entry, False)


def _sshd_value(host, key, parser_only=False):
    """``(value, where)``: sshd -T when live (the authority), else the parser;
    when sshd -T could not answer on a live system, ``where`` says why."""
    why_not = None
    every = host.sshd.connection_value(key)[1] if host.sshd.found else None
    if every is not None and every.every:
        # a Match all block: every connection gets its value (as sshd -T shows it)
        return every.value, "%s (Match all: every connection)" % every.where
    if host.live and not parser_only:
        values, error = host.cached("sshd-T", lambda: sshd.dump(host.module))
        if values is not None:
            return values.get(key, sshd.DEFAULTS.get(key)), "sshd -T"
        # it loads the host keys, which only root can read
        why_not = "sshd -T needs root" if not privilege.is_root() else "sshd -T failed: %s" % error
    value, directive = host.sshd.global_value(key)
    old = key in ("kbdinteractiveauthentication", "challengeresponseauthentication") and host.openssh_before_8_7
    if old:
        value, directive = host.sshd.global_value_before_8_7(key)
    where = directive.where if directive else "sshd's default"
    if old:
        where += ", as OpenSSH %s reads it" % old
    if why_not:
        where += "; %s, so read from the configuration files" % why_not
    return value, where


def _ssh_check(host, entry, complies, parser_only=False):
    if not host.sshd.found:
        return _outcome("not-applicable", None, "no OpenSSH server configuration (%s, %s)"
                        % (host.target.display(sshd.MAIN), host.target.display(sshd.VENDOR_MAIN)))
    key = entry["key"]
    value, where = _sshd_value(host, key, parser_only)
    problems = []
    if value is None or not complies(value):
        problems.append("%s is %s (%s)" % (entry["directive"], value, where))
    exceptions = [d for d in host.sshd.match_values(key) if not complies(d.value)]
    for directive in exceptions:
        problems.append("Match %s (%s) sets %s %s" % (directive.match[0], directive.where,
                                                      entry["directive"], directive.value))
    evidence = {"where": where, "files": [host.target.display(p) for p in host.sshd.files]}
    if problems:
        remediation = entry["remediation"]
        if exceptions:
            remediation += "; change or remove the Match block's setting (never edited here), or waive the ID"
        return _outcome("fail", value, "; ".join(problems), remediation, **evidence)
    return _outcome("pass", value, "%s %s (%s)" % (entry["directive"], value, where), **evidence)


# what sshd.password_logins reads, as sshd_config spells it
PASSWORD_KEYS = (("passwordauthentication", "PasswordAuthentication"),
                 ("kbdinteractiveauthentication", "KbdInteractiveAuthentication"), ("usepam", "UsePAM"),
                 ("challengeresponseauthentication", "ChallengeResponseAuthentication"))


def check_password_auth(host, entry, parser_only=False):
    """PasswordAuthentication, and keyboard-interactive, through which PAM
    asks for the same password: sshd.password_logins, the rule the lock-out
    guard's refusal() follows too."""
    if not host.sshd.found:
        return _outcome("not-applicable", None, "no OpenSSH server configuration (%s, %s)"
                        % (host.target.display(sshd.MAIN), host.target.display(sshd.VENDOR_MAIN)))
    values, wheres, said = {}, {}, []
    for key, name in PASSWORD_KEYS:
        value, where = _sshd_value(host, key, parser_only)
        if value is not None:   # ChallengeResponseAuthentication: sshd -T before OpenSSH 8.7 only
            values[key], wheres[key] = value, where
            said.append("%s %s (%s)" % (name, value, where))
    logins = sshd.password_logins(values)
    problems = []
    if "passwordauthentication" in logins:
        problems.append("%s is %s (%s)" % (entry["directive"], values["passwordauthentication"],
                                           wheres["passwordauthentication"]))
    if "kbdinteractiveauthentication" in logins:
        problems.append("PAM takes passwords through keyboard-interactive: %s" % ", ".join(said[1:]))
    exceptions = []
    for key, name in PASSWORD_KEYS[:2]:
        for directive in host.sshd.match_values(key):
            if key in sshd.password_logins(dict(values, **{key: directive.value})):
                exceptions.append(directive)
                problems.append("Match %s (%s) sets %s %s" % (directive.match[0], directive.where, name,
                                                              directive.value))
    evidence = {"where": wheres["passwordauthentication"], "password_logins": logins,
                "files": [host.target.display(p) for p in host.sshd.files]}
    actual = values["passwordauthentication"]
    if logins == ["kbdinteractiveauthentication"]:
        actual = "yes (keyboard-interactive through PAM)"
    if problems:
        remediation = entry["remediation"]
        if "kbdinteractiveauthentication" in logins:
            remediation += " and KbdInteractiveAuthentication no (ChallengeResponseAuthentication before OpenSSH 8.7)"
        if exceptions:
            remediation += "; change or remove the Match block's setting (never edited here), or waive the ID"
        return _outcome("fail", actual, "; ".join(problems), remediation, **evidence)
    return _outcome("pass", actual, "%s; keyboard-interactive takes no password: %s" % (said[0], ", ".join(said[1:])),
                    **evidence)


def _root_ok(entry):
    allowed = entry["values"]
    if "overridden_from" in entry:
        # sshd reads without-password as prohibit-password (sshd.ALIASES), and so does this check
        expected = sshd.ALIASES.get(entry["expected"], entry["expected"])
        allowed = [expected]
        if expected == "forced-commands-only":
            allowed = ["no", "forced-commands-only"]
        elif expected == "prohibit-password":
            allowed = ["no", "forced-commands-only", "prohibit-password", "without-password"]
    return lambda v: sshd.ALIASES.get(v.lower(), v.lower()) in allowed


def check_root_login(host, entry, parser_only=False):
    return _ssh_check(host, entry, _root_ok(entry), parser_only)


def check_keepalive(host, entry, parser_only=False):
    low, high = entry["bounds"]
    if "overridden_from" in entry:
        low = high = int(entry["expected"])

    def complies(value):
        interval = sshd.seconds(value)
        return interval is not None and low <= interval <= high
    return _ssh_check(host, entry, complies, parser_only)


def host_keys(host):
    """The host key files in /etc/ssh (a directory named alike is not one)."""
    keys = []
    for name in configfiles.names(host.target, "/etc/ssh", "ssh_host_*"):
        try:
            if stat.S_ISDIR(host.target.lstat("/etc/ssh/" + name).st_mode):
                continue
        except TargetError:
            pass   # judged a key: removing it names the problem
        keys.append("/etc/ssh/" + name)
    return keys


def check_host_keys(host, entry):
    if not host.image:
        return _outcome("not-applicable", None, "a running system needs its host keys (an image build "
                        "sets generalize to judge the VM it captures)")
    keys = host_keys(host)
    if keys:
        return _outcome("fail", [host.target.display(k) for k in keys], "%d host key file(s) in the "
                        "image: %s" % (len(keys), ", ".join(posixpath.basename(k) for k in keys)),
                        entry["remediation"], regenerated_by=key_regenerator(host))
    return _outcome("pass", [], "no host keys in the image", regenerated_by=key_regenerator(host))


def key_regenerator(host):
    """What makes host keys at first boot, or None."""
    if host.target.exists(AGENT_BINARY) and not _agent_host_keys_off(host):
        return "google-guest-agent (set_host_keys)"
    if units.unit_file(host.target, "sshd-keygen@.service") or units.unit_file(host.target, "sshd-keygen.service"):
        return "sshd-keygen"
    if units.unit_file(host.target, "regenerate_ssh_host_keys.service"):
        return "regenerate_ssh_host_keys.service"
    if cloud_init_makes_host_keys(host):
        return "cloud-init (its ssh module)"
    return None


# The guest agent's configuration files, each overriding the ones before it (GoogleCloudPlatform/
# guest-agent@7202b3b7, google_guest_agent/cfg/cfg.go Load: go-ini, sections and keys in any
# case, "=" or ":", its booleans); a false in any of them keeps the keys (the README says the
# opposite order)
AGENT_CONFIGS = ("/etc/default/instance_configs.cfg", "/etc/default/instance_configs.cfg.distro",
                 "/etc/default/instance_configs.cfg.template")
AGENT_BINARY = "/usr/bin/google_guest_agent"
GO_INI_FALSE = ("0", "f", "false", "n", "no", "off")


def _agent_host_keys_off(host):
    """Whether a configuration file of the guest agent turns set_host_keys off."""
    for path in AGENT_CONFIGS:
        section, value = None, None
        for raw in lines(host.text(path) or ""):
            line = configfiles.strip_comment(raw.strip(), "#;").strip()
            if line.startswith("[") and line.endswith("]"):
                section = line[1:-1].strip().lower()
                continue
            cut = min(i for i in (line.find("="), line.find(":"), len(line)) if i >= 0)   # go-ini: "=" or ":"
            if cut < len(line) and section == "instancesetup" and line[:cut].strip().lower() == "set_host_keys":
                value = line[cut + 1:].strip().strip("\"'").lower()
        if value in GO_INI_FALSE:
            return True
    return False


MACHINE_ID = "/etc/machine-id"
DBUS_MACHINE_ID = "/var/lib/dbus/machine-id"


def _dbus_copy(host):
    """Whether /var/lib/dbus/machine-id is a file of its own, apart from the
    one /etc/machine-id resolves to.  systemd's machine_id_setup reads it
    (unless it is a link) when /etc/machine-id holds no ID
    (systemd/systemd src/shared/machine-id-setup.c, acquire_machine_id); an
    /etc/machine-id that links to it is that same file, emptied with it, and
    removing it would leave /etc/machine-id dangling (machine_id_setup's
    O_CREAT|O_EXCL|O_NOFOLLOW then fails: no ID at boot)."""
    if host.target.islink(DBUS_MACHINE_ID) or not host.target.isfile(DBUS_MACHINE_ID):
        return False
    try:
        etc, dbus = host.target.stat(MACHINE_ID), host.target.stat(DBUS_MACHINE_ID)
    except TargetError:
        return True
    return (etc.st_dev, etc.st_ino) != (dbus.st_dev, dbus.st_ino)


def check_machine_id(host, entry):
    if not host.image:
        return _outcome("not-applicable", None, "a running system keeps its machine ID (an image build "
                        "sets generalize to judge the VM it captures)")
    text = host.text(MACHINE_ID)
    problems = []
    if text is None:
        problems.append("/etc/machine-id is missing (systemd needs the empty file to make an ID on a "
                        "read-only root)")
    elif text.strip() not in ("", "uninitialized"):
        problems.append("/etc/machine-id holds an ID (%s)" % text.strip()[:32])
    if _dbus_copy(host) and (host.text(DBUS_MACHINE_ID) or "").strip():
        problems.append("%s is a separate copy of an ID" % DBUS_MACHINE_ID)
    if problems:
        return _outcome("fail", (text or "").strip() or None, "; ".join(problems), entry["remediation"])
    return _outcome("pass", "", "/etc/machine-id is empty: a new ID is made at first boot")


def _fstab_entries(host):
    return fstab.parse(host.fstab_text)


def check_fstab_names(host, entry):
    if host.fstab_text is None:
        return _outcome("not-applicable", None, "no /etc/fstab")
    nodes = [e for e in _fstab_entries(host) if e.has_unit and e.device_node()]
    if nodes:
        return _outcome("fail", listed(e.spec for e in nodes), "device names in /etc/fstab: %s" % ", ".join(listed(
            "%s (line %d, %s)" % (e.spec, e.line, e.file) for e in nodes)), entry["remediation"])
    return _outcome("pass", [], "every /etc/fstab entry names its device stably")


def _mounted_at_boot(entry, item):
    """A block device mounted at boot outside the essential mount points, without nofail."""
    return item.has_unit and item.is_block and not item.is_swap and item.file not in entry["essential_mounts"] and \
        item.holds_boot


def _needs_nofail(host, entry, item, mounts):
    return _mounted_at_boot(entry, item) and not _on_boot_disk(host, item) and \
        not fstab.boot_goes_on_without(item, mounts)


def _nofail_missing(host, entry, entries):
    """``[(item, why)]``: the entries GCE-FSTAB-NOFAIL wants nofail on, ``why``
    None for an additional disk's own mount, else why its mount unit requires
    such a disk's mount (mounted below it, or a bind or loop source on it), or a
    mount that requires one in turn: with that disk missing, it fails too and
    holds boot up as well."""
    essential = entry["essential_mounts"]
    mounts = fstab.other_mounts(entries, essential)
    mountable = [e for e in entries if not e.is_swap and e.file not in essential]
    failing = fstab.failing_with(mountable, [e.file for e in mountable if e.is_block and not _on_boot_disk(host, e)])
    missing = []
    for item in entries:
        if _needs_nofail(host, entry, item, mounts):
            missing.append((item, None))
        elif item in failing and item.holds_boot and not fstab.boot_goes_on_without(item, mounts):
            missing.append((item, failing[item]))
    return missing


def _on_boot_disk(host, item):
    """Proven on the disk that holds / (a live system's sysfs says so, or the entry
    names a partition of the disk image judged): the boot disk's own, which boots
    with the VM and must not get nofail (systemd would stop ordering it before
    local-fs.target)."""
    return bool(host.boot_disk is not None and host.boot_disk.on_boot_disk(item.spec))


def check_nofail(host, entry):
    if host.fstab_text is None:
        return _outcome("not-applicable", None, "no /etc/fstab")
    entries = _fstab_entries(host)
    needs = _nofail_missing(host, entry, entries)
    missing = [e for e, reason in needs]
    lines_missing = set(e.line for e in missing)
    own = [e for e in entries if _mounted_at_boot(entry, e) and _on_boot_disk(host, e) and e.line not in lines_missing]
    evidence = {"boot_disk": listed("%s (line %d)" % (e.file, e.line) for e in own)} if own else {}
    others = [e for e in entries if _mounted_at_boot(entry, e) and not _on_boot_disk(host, e)]
    mounts = fstab.other_mounts(entries, entry["essential_mounts"])
    spared = listed("%s (line %d, %s)" % (e.file, e.line, why) for e, why in
                    ((e, fstab.boot_goes_on_without(e, mounts)) for e in others) if why)
    if spared:
        evidence["boot_goes_on"] = spared
    spared_note = "; boot goes on without them, needing none: %s" % "; ".join(spared) if spared else ""
    if missing:
        if host.boot_disk is None:
            why = "a directory tree: which disk each entry is on could not be told"
        elif not host.boot_disk.root_disks():
            why = "the disk holding / could not be told from sysfs"
        else:
            # an empty set: another disk's (a disk image's names are all known)
            unknown = [e for e, reason in needs if reason is None and host.boot_disk.spec_disks(e.spec) is None]
            why = "could not tell which disk %s %s on" % (
                ", ".join(listed(e.spec for e in unknown)), "is" if len(unknown) == 1 else "are") if unknown else ""
        note = "entries on the boot disk itself need no nofail (%s; waive this if they are the boot disk's); " % why \
            if why and any(reason is None for e, reason in needs) else ""
        return _outcome("fail", listed(e.file for e in missing), "%swithout nofail: %s%s" % (note, ", ".join(listed(
            "%s (line %d%s)" % (e.file, e.line, ", " + reason if reason else "") for e, reason in needs)), spared_note),
            entry["remediation"], **evidence)
    return _outcome("pass", [], "every additional disk is mounted with nofail (or noauto)" + (
        "; on the boot disk, needing none: %s" % ", ".join(evidence["boot_disk"]) if own else "") + spared_note,
        **evidence)


def _own_disk_rules_hide(host):
    """The packaged rules files (NVMe naming and all) that the collection's own
    SCSI-only UDEV_DISK_RULES hides by its name, once a package has brought them."""
    if not (host.text(UDEV_DISK_RULES) or "").startswith(UDEV_DISK_TEXT.split("\n", 1)[0]):
        return []
    return udev.hidden_disk_naming_rules(host.target, UDEV_DISK_RULES)


def check_disk_naming(host, entry):
    found = udev.disk_naming_rules(host.target)
    evidence = {"rules": [host.target.display(p) for p in found]}
    if host.live and os.path.isdir("/dev/disk/by-id"):
        evidence["links"] = sorted(n for n in os.listdir("/dev/disk/by-id") if n.startswith("google-"))
    hidden = _own_disk_rules_hide(host)
    if hidden:
        return _outcome("fail", evidence["rules"], "the collection's SCSI-only %s hides the packaged %s (NVMe "
                        "naming included)" % (host.target.display(UDEV_DISK_RULES), ", ".join(
                            host.target.display(p) for p in hidden)),
                        "remove %s" % UDEV_DISK_RULES, **evidence)
    if found:
        return _outcome("pass", evidence["rules"], "disk naming rules: %s" % ", ".join(evidence["rules"]), **evidence)
    return _outcome("fail", [], "no udev rules make /dev/disk/by-id/google-* links", entry["remediation"], **evidence)


def check_sysctl_coexist(host, entry):
    name = "60-gce-network-security.conf"
    files = dict((n, p) for p, n in sysctl.config_files(host.target, "systemd"))
    if name not in files:
        return _outcome("not-applicable", None, "Google's %s is not installed" % name)
    if sysctl.dangling(host.target, files[name]):
        # the loaders skip it (sysctl.load): nothing of it is applied
        return _outcome("not-applicable", None, "Google's %s is a link to a missing file: no loader "
                        "reads it" % name, file=files[name])
    google, dummy = sysctl.parse_text(sysctl.read_text(host.target, files[name]), host.target.display(files[name]))
    keys = sorted(set(a["key"] for a in google if not a["glob"]))
    by_key = dict((sysctl.normalize_key(e["key"]), e) for e in BY_ID.values() if e["area"] == "sysctl")
    histories, seen = {}, {}
    for loader in sysctl.LOADERS:
        assignments, dummy = sysctl.load(host.target, loader, seen=seen)
        histories[loader] = sysctl.winners(assignments, keys, loader)
    problems, actual = [], {}
    for key in keys:
        final = dict((loader, (histories[loader][key] or [{}])[-1]) for loader in sysctl.LOADERS)
        values = set(item.get("value") for item in final.values())
        actual[sysctl.display_key(key)] = sorted(str(v) for v in values)
        if len(values) > 1:
            problems.append("%s ends as %s" % (sysctl.display_key(key), " vs ".join(
                "%s=%s (%s)" % (l, final[l].get("value"), final[l].get("file")) for l in sorted(final))))
            continue
        requirement = by_key.get(key)
        value = values.pop()
        if requirement and not sysctl_baseline.complies(requirement, value):
            problems.append("%s ends as %s, weaker than %s requires" % (
                sysctl.display_key(key), value, requirement["id"]))
    if problems:
        return _outcome("fail", actual, "; ".join(problems), entry["remediation"], file=files[name])
    return _outcome("pass", actual, "every key of %s ends with one compliant value" % name, file=files[name])


CHECKS = {
    "GCE-BOOT-SERIAL-CONSOLE": check_serial_console,
    "GCE-BOOT-CMDLINE-LIVE": check_cmdline_live,
    "GCE-BOOT-SERIAL-GETTY": check_getty,
    "GCE-BOOT-TIMEOUT": check_timeout,
    "GCE-TIME-METADATA-NTP": check_time,
    "GCE-NET-DHCP": check_dhcp,
    "GCE-NET-MTU-DHCP": check_mtu,
    "GCE-NET-NO-PERSISTENT-RULES": check_persistent_rules,
    "GCE-NET-NO-MAC-BINDING": check_mac_binding,
    "GCE-GUEST-AGENT": check_agent,
    "GCE-GUEST-OSLOGIN": check_oslogin,
    "GCE-SSH-NO-PASSWORD-AUTH": check_password_auth,
    "GCE-SSH-NO-ROOT-PASSWORD": check_root_login,
    "GCE-SSH-KEEPALIVE": check_keepalive,
    "GCE-SSH-NO-HOST-KEYS": check_host_keys,
    "GCE-IMAGE-MACHINE-ID": check_machine_id,
    "GCE-FSTAB-STABLE-NAMES": check_fstab_names,
    "GCE-FSTAB-NOFAIL": check_nofail,
    "GCE-UDEV-DISK-NAMING": check_disk_naming,
    "GCE-SYSCTL-COEXIST": check_sysctl_coexist,
}


def assess(host, entries, waivers):
    """One result per entry.  A file that cannot be read makes that entry
    ``unknown`` with the reader's message; the other entries are judged."""
    results = []
    for entry in entries:
        try:
            outcome = CHECKS[entry["id"]](host, entry)
        except (ConfigError, TargetError, sysctl.SysctlError) as exc:
            outcome = _outcome("unknown", None, str(exc), privilege.remediation(
                str(exc), "fix or remove the file named, then re-run"))
        result = record(entry, outcome["status"], expected=outcome.get("expected"), actual=outcome["actual"],
                        evidence=outcome["evidence"],
                        message=outcome["message"], remediation=outcome["remediation"],
                        scope=entry["scope"], changed=False)
        if entry["id"] in waivers:
            result.update(status="waived", waiver=waivers[entry["id"]],
                          message="waived: %s (found: %s)" % (waivers[entry["id"]], outcome["message"] or outcome["status"]))
        results.append(result)
    return results


def check_gce(params, entries, waivers, module=None):
    """The GCE-* results for ``params["root"]`` (the area's check)."""
    host = Host(params, module)
    _validate_root(host)
    results = assess(host, entries, waivers)
    return dict(results=results, summary=summarize(results), root=host.target.display("/"),
                live=host.live, image=host.image)


AUTH_METHODS = ("publickey", "password", "auto")


def _validate_root(host):
    if not host.target.isdir("/"):
        raise GceError("root %s is not a directory" % host.params["root"])
    # a typo must not pass: an unknown auth would be guessed from authorized_keys
    auth = (host.params.get("connection") or {}).get("auth")
    if auth is not None and auth.lower() not in AUTH_METHODS:
        raise GceError("connection: auth %r is none of %s" % (auth, ", ".join(AUTH_METHODS)))


# ------------------------------------------------------------------ plans
def _not_ours(target, path, text):
    """Why the file at one of the collection's own paths is someone else's
    (a link: udev's and systemd's way to mask a file; a file without the
    collection's header), or None."""
    try:
        if target.islink(path):
            return "a symbolic link to %s, not the collection's file" % target.readlink(path)
    except TargetError:
        return None   # the write names the problem
    if text and text.strip() and MARKER not in text[:1024]:
        return "holds settings that are not the collection's (no guestready.gce header)"
    return None


class Plan(object):
    """What apply will do: file texts (cumulative per path), links,
    removals and live commands, each tagged with the IDs it serves."""

    def __init__(self, host):
        self.host = host
        self.files = {}     # path -> [old text, new text, IDs, owned]
        self.links = []     # (unit, IDs)
        self.new_links = {}  # unit -> [(link, text)] enabling it makes in a tree, for the diff
        self.removals = []  # (path, IDs)
        self.packages = []  # (name, IDs)
        self.commands = []  # (argv, why, IDs)
        self.notes = []
        self.refused = []   # the collection's file names someone else's file holds

    def text(self, path):
        if path in self.files:
            return self.files[path][1]
        return self.host.text(path)

    def write(self, path, text, rid, owned=False):
        if path not in self.files:
            old = self.host.text(path)
            why = _not_ours(self.host.target, path, old) if owned else None
            if why:
                self.refused.append("%s: %s: not replaced (%s stays as it is judged); move it away "
                                    "or merge it, then run again" % (self.host.target.display(path), why, rid))
                return
            self.files[path] = [old, text, set(), owned]
        self.files[path][1] = text
        self.files[path][2].add(rid)

    def also(self, path, *rids):
        """Tag the planned write of ``path`` with more IDs (none when it was refused)."""
        if path in self.files:
            self.files[path][2].update(rids)

    def command(self, argv, why, rid):
        for existing in self.commands:
            if existing[0] == argv:
                existing[2].add(rid)
                return
        self.commands.append((argv, why, set([rid])))

    @property
    def file_changes(self):
        return dict((p, v) for p, v in self.files.items() if v[0] != v[1])

    def ids(self):
        ids = set()
        for path, (old, new, rids, owned) in self.file_changes.items():
            ids.update(rids)
        for item in self.links + self.removals + self.packages:
            ids.update(item[1])
        for argv, why, rids in self.commands:
            ids.update(rids)
        return ids

    @property
    def changed(self):
        return bool(self.file_changes or self.links or self.removals or self.packages)

    def diff(self):
        diffs = []
        for path in sorted(self.file_changes):
            old, new, rids, owned = self.files[path]
            shown = self.host.target.display(path)
            diffs.append({"before_header": shown, "after_header": shown, "before": old or "", "after": new})
        for unit, rids in self.links:
            for link, value in self.new_links.get(unit, []):
                shown = self.host.target.display(link)
                diffs.append({"before_header": shown, "after_header": "%s (symbolic link to %s)" % (shown, value),
                              "before": "", "after": "(%s)\n" % ", ".join(sorted(rids))})
        for path, rids in self.removals:
            shown = self.host.target.display(path)
            diffs.append({"before_header": shown, "after_header": "%s (removed)" % shown,
                          "before": "(%s)\n" % ", ".join(sorted(rids)), "after": ""})
        return diffs


def _header(ids):
    return HEADER + "# Requirements: %s\n" % ", ".join(sorted(ids))


def plan_boot(plan, base, failing):
    """Serial console and timeout: the Debian drop-in (contents from the
    state without it), or marked edits of /etc/default/grub; BLS entries
    and grubenv; grub.cfg regenerated live, patched in a tree."""
    wanted = [rid for rid in ("GCE-BOOT-SERIAL-CONSOLE", "GCE-BOOT-TIMEOUT") if rid in failing]
    grub = base.grub
    if not wanted or not grub.found:
        return
    console = failing.get("GCE-BOOT-SERIAL-CONSOLE")
    timeout = failing.get("GCE-BOOT-TIMEOUT")
    device, arg, dummy = base.serial_console(console) if console else (None, None, None)
    limit = int(timeout["expected"]) if timeout else None
    updates = []
    # GRUB_CMDLINE_LINUX: the part recovery entries get too
    # (the drop-in extends the value before it, unless the console would land after a "--", which goes to init)
    linux = grub.value("GRUB_CMDLINE_LINUX")
    if arg and grub.files and not _console_in_every_kind(grub, device):
        updates.append(("GCE-BOOT-SERIAL-CONSOLE", "GRUB_CMDLINE_LINUX",
                        '"$GRUB_CMDLINE_LINUX %s"' % arg if grub.dropins_supported and cmdline.init_start(linux) is None
                        else bootloader._quote(cmdline.append(linux, arg))))
    if limit is not None and grub.files:
        # GRUB_HIDDEN_TIMEOUT may take GRUB_TIMEOUT's place; set to 0 outside Ubuntu it gives way to GRUB_TIMEOUT
        if _too_long(grub.timeout()[0], limit):
            if grub.hidden_timeout():
                updates.append(("GCE-BOOT-TIMEOUT", "GRUB_HIDDEN_TIMEOUT", str(limit)))
            if _too_long(grub.grub_timeout()[0], limit):
                updates.append(("GCE-BOOT-TIMEOUT", "GRUB_TIMEOUT", str(limit)))
        if grub.uses_recordfail() and _too_long(grub.recordfail_timeout()[0], limit):
            updates.append(("GCE-BOOT-TIMEOUT", "GRUB_RECORDFAIL_TIMEOUT", str(limit)))
    if updates and grub.dropins_supported:
        # a drop-in sorting after ours that assigns a name decides its value: its last assignment there
        # is replaced instead, by the value the name ends with plus the change
        later = [p for p in grub.files if posixpath.dirname(p) == bootloader.DEFAULTS_DIR and p > GRUB_DROPIN]
        final = {"GRUB_CMDLINE_LINUX": bootloader._quote(cmdline.append(linux, arg))} if arg else {}
        ours = []
        for rid, name, value in updates:
            deciding = [p for p in later if bootloader.assigns(plan.text(p), name)]
            if deciding:
                plan.write(deciding[-1], bootloader.set_defaults(plan.text(deciding[-1]), [
                    (rid, name, final.get(name, value))]), rid)
            else:
                ours.append((rid, name, value))
        if ours:
            plan.write(GRUB_DROPIN, bootloader.dropin_text(_header(set(u[0] for u in ours)), ours),
                       ours[0][0], owned=True)
            for rid, dummy, dummy2 in ours[1:]:
                plan.also(GRUB_DROPIN, rid)
    elif updates:
        plan.write(bootloader.DEFAULTS, bootloader.set_defaults(plan.text(bootloader.DEFAULTS), updates),
                   updates[0][0])
        for rid, dummy, dummy2 in updates[1:]:
            plan.also(bootloader.DEFAULTS, rid)
    if limit is not None and grub.systemd_boot() and grub.loader_conf and _too_long(grub.loader_timeout()[0], limit):
        plan.write(grub.loader_conf, bootloader.set_loader_timeout(plan.text(grub.loader_conf), limit, "GCE-BOOT-TIMEOUT"),
                   "GCE-BOOT-TIMEOUT")
    current = plan.host.grub
    if arg:
        for path in current.bls_files:
            text, changed = bootloader.add_kernel_arg(plan.text(path), arg, "GCE-BOOT-SERIAL-CONSOLE",
                                                      device=device, lines_re=bootloader.BLS_OPTIONS, grub=current.bls)
            if changed and "$kernelopts" not in (plan.text(path) or ""):
                plan.write(path, text, "GCE-BOOT-SERIAL-CONSOLE")
        # grubenv's kernelopts (unset or empty: grub.cfg's fallback, which grub2-mkconfig also puts in grubenv)
        opts = current.kernelopts()
        if opts is not None and current.grubenv_path and not cmdline.has_console(bootconfig.grub_args(opts), device):
            plan.write(current.grubenv_path, bootloader.set_grubenv(
                plan.text(current.grubenv_path), "kernelopts", cmdline.append(opts, arg)), "GCE-BOOT-SERIAL-CONSOLE")
        next_kernel = plan.text(kernel_cmdline.KERNEL_INSTALL_CMDLINE)
        if next_kernel is not None and not cmdline.has_console(next_kernel, device):
            plan.write(kernel_cmdline.KERNEL_INSTALL_CMDLINE, cmdline.append(next_kernel, arg) + "\n",
                       "GCE-BOOT-SERIAL-CONSOLE")
    if not current.grub_cfg:
        return
    grubenv = current.grubenv
    if limit is not None and current.grubenv_path:
        # a switch such as Fedora's menu_auto_hide=1 picks a branch that waits: unset, as grub2-editenv does
        grubenv = bootconfig.parse_grubenv(plan.text(current.grubenv_path))
        switches = bootloader.timeout_switches(current.cfg_text, grubenv, limit)
        if switches:
            text = plan.text(current.grubenv_path)
            for key in switches:
                text = bootloader.set_grubenv(text, key, None)
            plan.write(current.grubenv_path, text, "GCE-BOOT-TIMEOUT")
            grubenv = bootconfig.parse_grubenv(text)
    if plan.host.live:
        # regenerated when the plan changes what grub-mkconfig reads, or the boot configuration fails as it is
        inputs_changed = any(path in (GRUB_DROPIN, bootloader.DEFAULTS) or posixpath.dirname(path) == bootloader.DEFAULTS_DIR
                             for path in plan.file_changes)
        planned = Host(plan.host.params, plan.host.module, answers=plan.host.answers, replace=_planned_texts(plan))
        stale = [rid for rid in wanted if inputs_changed or CHECKS[rid](planned, failing[rid])["status"] != "pass"]
        if not stale:
            return
        if current.mkconfig and plan.host.params.get("regenerate_bootloader", True):
            argv = ["update-grub"] if current.layout == "debian" and plan.host.target.exists("/usr/sbin/update-grub") \
                else [current.mkconfig, "-o", current.grub_cfg]
            for rid in stale:
                plan.command(argv, REGENERATE_GRUB, rid)
        else:
            plan.notes.append("grub.cfg not regenerated: run %s" % (current.mkconfig or "grub-mkconfig"))
        return
    # a tree: nothing of the tree may run here, so the generated file gets the
    # same change update-grub would make (its next run regenerates it anyway)
    text = plan.text(current.grub_cfg)
    if arg:
        text, dummy = bootloader.add_kernel_arg(text, arg, "GCE-BOOT-SERIAL-CONSOLE", device=device)
    if limit is not None:
        text = bootloader.set_cfg_timeout(text, limit, "GCE-BOOT-TIMEOUT", grubenv)
    if text != plan.text(current.grub_cfg):
        plan.write(current.grub_cfg, text, wanted[0])
        for rid in wanted[1:]:
            plan.also(current.grub_cfg, rid)


def _note_regenerated(plan, rids):
    """A grub.cfg the regeneration rewrote is a change of the run (and in its diff)."""
    grub = plan.host.grub   # read when the boot changes were planned, before anything ran
    try:
        after = configfiles.read(plan.host.target, grub.grub_cfg) if grub.grub_cfg else None
    except ConfigError:
        return   # judging the result again names the problem
    if after is not None and after != grub.cfg_text and grub.grub_cfg not in plan.files:
        plan.files[grub.grub_cfg] = [grub.cfg_text, after, set(rids), False]


def plan_getty(plan, failing):
    if "GCE-BOOT-SERIAL-GETTY" not in failing:
        return
    getty = plan.host.serial_console(failing["GCE-BOOT-SERIAL-GETTY"])[2]
    if units.unit_file(plan.host.target, getty):
        plan.links.append((getty, {"GCE-BOOT-SERIAL-GETTY"}))


def plan_packages(plan, entry, rid):
    host = plan.host
    fmt = host.packages.format
    wanted = (entry["packages"] or {}).get(fmt or "deb", [])
    missing = [n for n, v in sorted(host.packages.query(wanted).items()) if v is None]
    if missing and host.live and host.params.get("install_packages", True):
        for name in missing:
            plan.packages.append((name, {rid}))
    elif missing:
        plan.notes.append("%s: install %s in the image (%s)" % (rid, " ".join(missing), entry["remediation"]))
    installing = [name for name, ids in plan.packages if name in missing]
    for unit in entry.get("units", []):
        if _stood_in(host, unit):
            continue
        unit = _stand_in(host.target, unit)
        present = units.unit_file(host.target, unit) is not None
        if not host.enabled(unit) and ((present and host.unit(unit)[0] in ("disabled", "not-found", "linked")) or
                                       (installing and not present)):
            plan.links.append((unit, {rid}))
        elif present and host.unit(unit)[0] in ("unloadable", "unknown"):
            plan.notes.append("%s: not enabled: %s; mend its unit file" % (rid, _unit_is(host, unit)))


def plan_time(plan, base, entry):
    host = plan.host
    daemons = time_daemons(host)
    configs = _time_configs(host)
    allowed = set(entry["ntp_servers"])
    server = entry["expected"]
    if not daemons:
        for daemon, names in timesync.DAEMONS:
            unit = next((n for n in names if units.unit_file(host.target, n)), None)
            if unit:
                daemons = [(daemon, unit)]
                plan.links.append((unit, {entry["id"]}))
                break
        else:
            if host.live and host.params.get("install_packages", True):
                name = "systemd-timesyncd" if host.packages.format == "deb" else "chrony"
                plan.packages.append((name, {entry["id"]}))
                daemons = [("timesyncd" if name == "systemd-timesyncd" else "chrony",
                            "systemd-timesyncd.service" if name == "systemd-timesyncd" else "chronyd.service")]
            else:
                plan.notes.append("%s: install chrony or systemd-timesyncd" % entry["id"])
                return
    for daemon, unit in daemons:
        rid = entry["id"]
        if daemon == "timesyncd":
            text = (_header([rid]) + "# The metadata server only: empty assignments reset what earlier files set.\n"
                    "[Time]\nNTP=\nNTP=%s\nFallbackNTP=\nFallbackNTP=%s\n" % (server, server))
            plan.write(TIMESYNCD_DROPIN, text, rid, owned=True)
            config, mended = configs["timesyncd"], set()
            while config.stopped and config.stopped[1] is not None and config.stopped[0] not in mended:
                # timesyncd reads no file after one it fails to parse, ours neither: the rest of that file,
                # which it never reads, is commented out (a line too long stays so: the note says where)
                path, first = config.stopped
                old = plan.text(path)
                plan.write(path, _comment_lines(old, range(first, len(systemd_conf.lines(old)) + 1), rid,
                                                systemd_conf.lines), rid)
                mended.add(path)
                config = timesync.read_timesyncd(host.target, _planned_texts(plan))
            if config.stopped:
                plan.notes.append("%s: %s" % (rid, config.note))
            # a drop-in read after ours adds servers to its list or resets it (its name sorts later)
            numbers = {}
            for path, number in config.server_lines:
                if path != config.main and posixpath.basename(path) > posixpath.basename(TIMESYNCD_DROPIN):
                    numbers.setdefault(path, set()).add(number)
            for path in sorted(numbers):
                plan.write(path, _comment_lines(plan.text(path), numbers[path], rid, systemd_conf.lines), rid)
        elif daemon in ("chrony", "ntpsec", "ntpd"):
            config = configs.get(daemon) or configs.get("ntpd")
            if config is None:
                continue
            if config.fatal:
                # no file to write would make chronyd start: its unit's command line, or a line of its
                # configuration it exits on, is the admin's to mend
                plan.notes.append("%s: not applied: %s" % (rid, config.fatal))
                continue
            numbers = {}   # each file's lines in one pass: a pass per line was hours for a file of many
            for source in config.sources:
                if source.unused or not timesync.names_server(source.host, allowed):
                    numbers.setdefault(source.path, set()).add(source.line)
            for path in sorted(numbers):
                plan.write(path, _comment_lines(plan.text(path), numbers[path], rid), rid)
            if not any(timesync.names_server(s.host, allowed) and not s.unused for s in config.sources):
                line = "server %s iburst\n" % server
                # /run is a tmpfs: Debian's first sourcedir (/run/chrony-dhcp) is gone at boot
                kept = [d for d in config.sourcedirs if not _volatile(d)] if daemon == "chrony" else []
                if kept:
                    path = posixpath.join(kept[0], CHRONY_SOURCES)
                    plan.write(path, _header([rid]) + line, rid, owned=True)
                else:
                    text = plan.text(config.main) or ""
                    plan.write(config.main, text + ("" if text.endswith("\n") or not text else "\n") +
                               "# %s (%s)\n%s" % (MARKER, rid, line), rid)
        if host.live and host.params.get("reload_services", True):
            plan.command(["systemctl", "restart", unit], "apply the time sources", rid)


def _planned_texts(plan):
    """``{path: text}`` of the host's files as they stand once ``plan`` is written (None: removed)."""
    return dict(plan.host.replace, **dict((path, change[1]) for path, change in plan.file_changes.items()))


def _comment_lines(text, numbers, rid, split=lines):
    """``text`` with its lines ``numbers`` (as ``split`` counts them) commented out."""
    rows = split(text, True)
    for number in numbers:
        if 0 < number <= len(rows) and not rows[number - 1].lstrip().startswith("#"):
            row = rows[number - 1]
            body = row.rstrip("\r\n")
            rows[number - 1] = "# %s neutralised (%s): %s%s" % (MARKER, rid, body, row[len(body):])
    return "".join(rows)


def plan_network(plan, base, failing):
    host = plan.host
    name, why, managers, applying, configs, renderer = _covering(base)
    if "GCE-NET-DHCP" in failing and applying is None and "networkd" in managers:
        plan.write(NETWORKD_FILE, _header(["GCE-NET-DHCP", "GCE-NET-MTU-DHCP"]) +
                   "[Match]\nName=%s\n\n[Network]\nDHCP=ipv4\n\n[DHCPv4]\nUseMTU=true\n" % " ".join(
                       sorted(set(["en*", "eth*", name]))), "GCE-NET-DHCP", owned=True)
        plan.also(NETWORKD_FILE, "GCE-NET-MTU-DHCP")
    elif "GCE-NET-MTU-DHCP" in failing and applying is not None and applying.source == "networkd" \
            and applying.mtu in (None, "") and not applying.use_mtu:
        dropin = "/etc/systemd/network/%s.d/50-guestready-gce.conf" % posixpath.basename(applying.path)
        plan.write(dropin, _header(["GCE-NET-MTU-DHCP"]) + "[DHCPv4]\nUseMTU=true\n", "GCE-NET-MTU-DHCP", owned=True)
        # a drop-in sorting after ours turns UseMTU= off again (an empty or unreadable value is ignored)
        for part in netconf.networkd_dropins(host.target, applying.path):
            numbers = set(number for section, key, value, first, last in systemd_conf.parse(plan.text(part))[0]
                          if section in ("DHCPv4", "DHCP") and key == "UseMTU" and netconf._bool(value) is False
                          for number in range(first, last + 1))
            if numbers and posixpath.basename(part) > posixpath.basename(dropin):
                plan.write(part, _comment_lines(plan.text(part), numbers, "GCE-NET-MTU-DHCP", systemd_conf.lines),
                           "GCE-NET-MTU-DHCP")
    if "GCE-NET-NO-PERSISTENT-RULES" in failing:
        # each file's rules in one pass: a pass per rule rewrote the whole file each time, hours for a
        # hostile tree's file of many rules
        numbers = {}
        for path, number, rule in _persistent_rules(host)[0]:
            numbers.setdefault(path, []).append(number)
        for path in sorted(numbers):
            edited = udev.comment_out(plan.text(path), numbers[path], "GCE-NET-NO-PERSISTENT-RULES")
            if path.startswith(("/etc/", "/run/")):
                plan.write(path, edited, "GCE-NET-NO-PERSISTENT-RULES")
            else:
                # a package's file is the package's: udevd reads a name once, /etc first (udev(7)), so a
                # copy of it there with the rules commented out hides it and keeps its other rules
                plan.write(udev.RULE_DIRS[0] + "/" + posixpath.basename(path), _header(["GCE-NET-NO-PERSISTENT-RULES"])
                           + "# A copy of %s, which this file hides: its rules that name an interface after its MAC "
                           "address are commented out.\n" % path + edited, "GCE-NET-NO-PERSISTENT-RULES", owned=True)


def plan_fstab(plan, failing):
    host = plan.host
    text = plan.text(fstab.PATH)
    if text is None:
        return
    if "GCE-FSTAB-STABLE-NAMES" in failing and host.live:
        changes = {}
        blkid = host.module.get_bin_path("blkid", opt_dirs=["/sbin", "/usr/sbin"]) if host.module else None
        for item in fstab.parse(text):
            node = item.device_node()
            # a line getmntent() reads only in part is left for a person: rewriting it would drop the rest
            if not node or not blkid or not item.whole or not item.has_unit:
                continue
            rc, out, dummy = host.module.run_command([blkid, "-s", "UUID", "-o", "value", node])
            if rc == 0 and out.strip():
                fields = list(item.fields)
                fields[0] = "UUID=%s" % out.strip()
                changes[item.line] = fields
        if changes:
            text = fstab.replace_lines(text, changes, "GCE-FSTAB-STABLE-NAMES")
            plan.write(fstab.PATH, text, "GCE-FSTAB-STABLE-NAMES")
    entry = failing.get("GCE-FSTAB-NOFAIL")
    if entry:
        items = fstab.parse(text)
        changes = dict((item.line, fstab.with_option(item, "nofail")) for item, why in _nofail_missing(host, entry, items)
                       if item.whole)
        if changes:
            plan.write(fstab.PATH, fstab.replace_lines(text, changes, "GCE-FSTAB-NOFAIL"), "GCE-FSTAB-NOFAIL")


def plan_image(plan, failing):
    host = plan.host
    if "GCE-IMAGE-MACHINE-ID" in failing and host.image:
        plan.write(MACHINE_ID, "", "GCE-IMAGE-MACHINE-ID")
        if _dbus_copy(host):
            plan.removals.append((DBUS_MACHINE_ID, {"GCE-IMAGE-MACHINE-ID"}))
    if "GCE-SSH-NO-HOST-KEYS" in failing and host.image:
        if key_regenerator(host) or "google-guest-agent" in [name for name, ids in plan.packages]:
            for path in host_keys(host):
                plan.removals.append((path, {"GCE-SSH-NO-HOST-KEYS"}))
        else:
            plan.notes.append("GCE-SSH-NO-HOST-KEYS: kept: nothing in the image would make new host keys at "
                              "first boot (%s)" % (
                                  "google-guest-agent's set_host_keys is off; neither sshd-keygen nor cloud-init's "
                                  "ssh module makes them" if host.target.exists(AGENT_BINARY)
                                  else "install google-guest-agent first"))


def _volatile(directory):
    """A directory that does not outlive a boot (``/run``, ``/var/run``)."""
    path = posixpath.normpath("/" + directory.lstrip("/"))  # "//run" stays "//run" in normpath
    return any(path == top or path.startswith(top + "/") for top in ("/run", "/var/run"))


def plan_udev(plan, failing):
    if "GCE-UDEV-DISK-NAMING" in failing and _own_disk_rules_hide(plan.host):
        # the collection's stand-in, once a package brings the full rules (its header says so)
        plan.removals.append((UDEV_DISK_RULES, {"GCE-UDEV-DISK-NAMING"}))
    elif "GCE-UDEV-DISK-NAMING" in failing:
        plan.write(UDEV_DISK_RULES, UDEV_DISK_TEXT, "GCE-UDEV-DISK-NAMING", owned=True)
        if plan.host.live and plan.host.params.get("reload_services", True):
            plan.command(["udevadm", "trigger", "--action=change", "--subsystem-match=block"],
                         "make the disk links now", "GCE-UDEV-DISK-NAMING")


# ---------------------------------------------------------------------- SSH
SSH_IDS = ("GCE-SSH-NO-PASSWORD-AUTH", "GCE-SSH-NO-ROOT-PASSWORD", "GCE-SSH-KEEPALIVE")


def ssh_settings(base, failing):
    """``[(ID, directive, value)]`` the SSH drop-in sets: for each failing
    SSH entry, judged on the state without the collection's own file."""
    settings = []
    checks = {"GCE-SSH-NO-PASSWORD-AUTH": check_password_auth, "GCE-SSH-NO-ROOT-PASSWORD": check_root_login,
              "GCE-SSH-KEEPALIVE": check_keepalive}
    for rid in SSH_IDS:
        entry = failing.get(rid)
        if entry is None:
            continue
        outcome = checks[rid](base, entry, parser_only=True)
        if outcome["status"] == "pass":
            continue
        settings.append((rid, entry["directive"], str(entry["expected"])))
        if "kbdinteractiveauthentication" in outcome["evidence"].get("password_logins", ()):
            # before OpenSSH 8.7 ChallengeResponseAuthentication (on by default) turns keyboard-interactive
            # back on; from 8.7 it is an alias of KbdInteractiveAuthentication (servconf.c), so both say no
            settings += [(rid, "KbdInteractiveAuthentication", "no"), (rid, "ChallengeResponseAuthentication", "no")]
    return settings


def plan_ssh(plan, base, failing):
    """The SSH changes: the drop-in when sshd would read it before every
    other setting (sshd_config includes sshd_config.d at its top and no file
    there sorting before it sets anything), else a marked block at the top
    of sshd_config."""
    if not base.sshd.found:
        return None
    settings = ssh_settings(base, failing)
    if not settings:
        return None
    if base.sshd.main != sshd.MAIN:
        # an /etc/ssh/sshd_config written here would replace the vendor file sshd reads
        plan.notes.append("%s: not changed: sshd reads the vendor configuration %s (no %s); set %s in a file "
                          "of /etc/ssh/sshd_config.d that sorts first" % (
                              ", ".join(dict.fromkeys(s[0] for s in settings)),
                              base.target.display(base.sshd.main), base.target.display(sshd.MAIN),
                              ", ".join("%s %s" % (d, v) for r, d, v in settings)))
        return None
    block = "".join("# %s\n%s %s\n" % (rid, directive, value) for rid, directive, value in settings)
    ids = list(dict.fromkeys(s[0] for s in settings))
    if base.sshd.reads_first(SSHD_DROPIN, block):
        plan.write(SSHD_DROPIN, _header(ids) + block, ids[0], owned=True)
        target_path = SSHD_DROPIN
    else:
        text = _without_block(plan.text(sshd.MAIN))
        plan.write(sshd.MAIN, SSHD_BLOCK_BEGIN + block + SSHD_BLOCK_END + text, ids[0])
        target_path = sshd.MAIN
    plan.also(target_path, *ids)
    return settings


def _without_block(text):
    text = text or ""
    start = text.find(SSHD_BLOCK_BEGIN)
    end = text.find(SSHD_BLOCK_END)
    if start == 0 and end > 0:
        return text[end + len(SSHD_BLOCK_END):]
    return text


def connection(params, live=True):
    """Who is connected and how: ``{"user", "auth", "addr", "port", "laddr",
    "lport"}`` or None when nobody is connected over SSH (local runs,
    image roots). The SSH session this module runs in says nothing about who
    will log in to an image tree (``live`` false): only ``connection`` does."""
    given = dict((k, v) for k, v in (params.get("connection") or {}).items() if v is not None)
    ssh = os.environ.get("SSH_CONNECTION", "").split() if live else []
    if not given and len(ssh) != 4:
        return None  # sudo drops SSH_CONNECTION: the role passes the connection
    user = given.get("user") or os.environ.get("SUDO_USER") or _login_user()
    info = {"user": user, "auth": (given.get("auth") or "auto").lower()}
    if len(ssh) == 4:
        info.update(addr=ssh[0], laddr=ssh[2], lport=ssh[3])
    if given.get("addr"):
        info["addr"] = given["addr"]
    info.setdefault("addr", "127.0.0.1")
    info["host"] = info["addr"]
    return info


def _login_user():
    try:
        with open("/proc/self/loginuid") as handle:
            uid = int(handle.read().strip())
        if uid != 4294967295:
            return pwd.getpwuid(uid).pw_name
    except (IOError, OSError, ValueError, KeyError):
        pass
    return pwd.getpwuid(os.getuid()).pw_name


def authorized_keys(host, user, values):
    """Whether ``user`` has a non-empty authorized keys file in the tree
    (AuthorizedKeysFile with %h, %u, %% expanded), or an
    AuthorizedKeysCommand that may supply keys."""
    if values.get("authorizedkeyscommand", "none") not in ("none", ""):
        return True
    home = None
    passwd = host.text("/etc/passwd") or ""
    for line in lines(passwd):
        fields = line.split(":")
        if len(fields) >= 6 and fields[0] == user:
            home = fields[5]
    if home is None:
        return False
    for pattern in values.get("authorizedkeysfile", sshd.DEFAULTS["authorizedkeysfile"]).split():
        path = pattern.replace("%h", home).replace("%u", user).replace("%%", "%")
        if not path.startswith("/"):
            path = posixpath.join(home, path)
        try:
            if (host.text(path) or "").strip():
                return True
        except ConfigError:
            continue
    return False


def refusal(values, who):
    """Why the configuration ``values`` (sshd -T or the parser's, for that
    user) refuses ``who``'s login method, or None."""
    user, auth = who["user"], who["auth"]
    root = user == "root"
    permit = sshd.ALIASES.get(values.get("permitrootlogin", "").lower(), values.get("permitrootlogin", "").lower())
    methods = values.get("authenticationmethods", "any").lower()
    if auth == "publickey":
        if values.get("pubkeyauthentication", "yes").lower() != "yes":
            return "PubkeyAuthentication would be no"
        if root and permit not in ("yes", "prohibit-password"):
            return "PermitRootLogin would be %s for root, who logs in with a key" % permit
        if methods != "any" and all(("password" in alt or "keyboard-interactive" in alt)
                                    for alt in methods.split()):
            return "AuthenticationMethods would be %s" % methods
        return None
    if auth == "password":
        if not sshd.password_logins(values):
            return "PasswordAuthentication would be no for %s, who logs in with a password" % user
        if root and permit != "yes":
            return "PermitRootLogin would be %s for root, who logs in with a password" % permit
    return None


def _effective_values(host, config_text, who, errors):
    """The configuration ``config_text`` (a whole sshd_config) as sshd sees
    it for ``who``: ``sshd -T -f`` when an sshd can run here, else the parser."""
    if host.module is not None and sshd.sshd_binary(host.module) and host.live:
        directory = tempfile.mkdtemp(prefix="guestready-sshd-")
        try:
            path = os.path.join(directory, "sshd_config")
            with open(path, "wb") as handle:   # not the locale's encoding: sshd reads bytes
                handle.write(config_text.encode("utf-8", "surrogateescape"))
            problem = sshd.test(host.module, path)
            if problem:
                errors.append("sshd -t rejects the new configuration: %s" % problem)
                return None
            connection_spec = dict((k, who[k]) for k in ("user", "host", "addr", "laddr", "lport") if who.get(k))
            values, problem = sshd.dump(host.module, path, connection_spec)
            if values is not None:
                return values
            errors.append("sshd -T: %s" % problem)
            return None
        finally:
            shutil.rmtree(directory, ignore_errors=True)
    view = sshd.SshdConfig(host.target, replace=dict(host.replace, **{sshd.MAIN: config_text}))
    values = {}
    for key in ("passwordauthentication", "permitrootlogin", "pubkeyauthentication",
                "kbdinteractiveauthentication", "authorizedkeysfile", "authenticationmethods", "usepam",
                "authorizedkeyscommand"):
        value, directive = view.connection_value(key)
        for candidate in view.match_values(key):
            if _match_applies(candidate.match[0], who):
                value = candidate.value
                break
        if value is not None:
            values[key] = value
    return values


def _match_applies(criteria, who):
    """A Match line's ``User``/``Group``-free subset for the parser: User and
    Address against the connection; anything else is assumed to match (the
    safe side for a lock-out check)."""
    words = criteria.split()
    pairs = dict((words[i].lower(), words[i + 1]) for i in range(0, len(words) - 1, 2))
    # OpenSSH's match_pattern(): * and ? only
    if "user" in pairs and not any(simple_match(who["user"], p) for p in pairs["user"].split(",")
                                   if not p.startswith("!")):
        return False
    return True


def candidate_config(plan):
    """The whole sshd configuration the plan leads to, as one file sshd can
    test: the SSH drop-in is read before anything else, which is the same
    as its lines at the top of sshd_config."""
    main = plan.text(sshd.MAIN) or ""
    if SSHD_DROPIN in plan.files:
        return plan.files[SSHD_DROPIN][1] + main
    return main


def guard_ssh(plan, base):
    """Fail before anything is written when the planned SSH configuration
    is invalid or refuses the connecting user's own login method."""
    if not any(path in plan.file_changes for path in (SSHD_DROPIN, sshd.MAIN)):
        return {"checked": False, "reason": "no SSH change"}
    who = connection(plan.host.params, plan.host.live)
    errors = []
    candidate = candidate_config(plan)
    if who is None:
        # nobody logs in to a tree; still validate what can be validated
        if plan.host.live:
            _effective_values(plan.host, candidate, {"user": "root", "addr": "127.0.0.1", "host": "127.0.0.1"},
                              errors)
        if errors:
            raise GceError("; ".join(errors) + ": nothing was changed")
        return {"checked": False, "reason": "no SSH connection to protect"}
    if who["auth"] not in ("publickey", "password"):
        before = _effective_values(plan.host, plan.host.text(sshd.MAIN) or "", who, [])
        who["auth"] = "publickey" if authorized_keys(plan.host, who["user"], before or {}) else "password"
        who["auth_detected"] = True
    after = _effective_values(plan.host, candidate, who, errors)
    if errors:
        raise GceError("; ".join(errors) + ": nothing was changed")
    reason = refusal(after or {}, who)
    if reason:
        raise GceError(
            "refusing to change the SSH server: %s, so %s could no longer log in (%s authentication%s); "
            "nothing was changed. Log in with a key (and not as root with a password), or waive the "
            "SSH IDs for this host" % (reason, who["user"], who["auth"],
                                       ", detected from the user's authorized keys" if who.get("auth_detected") else ""))
    return {"checked": True, "user": who["user"], "auth": who["auth"]}


# ------------------------------------------------------------------ apply
def make_plan(params, entries, waivers, module, results, answers=None):
    host = Host(params, module, answers=answers)
    base = Host(params, module, replace=dict((path, None) for path in OWN_FILES), answers=host.answers)
    # the collection's own files are planned from the state without them, so
    # a setting they already satisfy stays in them; without any of them (a
    # first run) that state is the one just judged
    base_results = assess(base, entries, waivers) if _own_files_present(host.target) else results
    failing = dict((e["id"], e) for e in entries if e["id"] not in waivers and (
        _status(results, e["id"]) in ("fail", "unknown") or _status(base_results, e["id"]) in ("fail", "unknown")))
    plan = Plan(host)
    steps = [("SSH", plan_ssh, (plan, base, failing)), ("boot", plan_boot, (plan, base, failing)),
             ("getty", plan_getty, (plan, failing))]
    for rid in ("GCE-GUEST-AGENT", "GCE-GUEST-OSLOGIN"):
        if rid in failing:
            steps.append((rid, plan_packages, (plan, failing[rid], rid)))
    if "GCE-TIME-METADATA-NTP" in failing:
        steps.append(("time", plan_time, (plan, base, failing["GCE-TIME-METADATA-NTP"])))
    steps += [("network", plan_network, (plan, base, failing)), ("fstab", plan_fstab, (plan, failing)),
              ("image", plan_image, (plan, failing)), ("udev", plan_udev, (plan, failing))]
    for name, step, args in steps:
        try:
            step(*args)
        except (ConfigError, TargetError, sysctl.SysctlError) as exc:
            # the entry's result already says what could not be read
            plan.notes.append("%s: not applied: %s" % (name, exc))
    if not host.live:   # check mode and apply alike: links already there are no change
        plan.links = [(unit, rids) for unit, rids in plan.links if not units.links_in_place(host.target, unit)]
        plan.new_links = dict((unit, units.missing_links(host.target, unit)) for unit, rids in plan.links)
    if host.live and params.get("reload_services", True) and any(
            p in plan.file_changes for p in (SSHD_DROPIN, sshd.MAIN)):
        service = "ssh.service" if units.unit_file(host.target, "ssh.service") else "sshd.service"
        for rid in SSH_IDS:
            if rid in failing:
                plan.command(["systemctl", "reload", service], "load the SSH settings", rid)
    return plan


def _own_files_present(target):
    """Whether any of the collection's own files is there (a link counts, and
    so does a path that cannot be looked at)."""
    for path in OWN_FILES:
        try:
            if target.exists(path) or target.islink(path):
                return True
        except TargetError:
            return True
    return False


def _status(results, rid):
    for result in results:
        if result["id"] == rid:
            return result["status"]
    return None


def execute(plan):
    """Carry the plan out: packages first (their scripts enable units),
    then files and links through the target, then commands, then removals.
    Returns the errors met (the run goes on past a failed command or a
    file that cannot be written, which leaves the plan)."""
    host, errors = plan.host, []
    installed = []
    for index, (name, rids) in enumerate(plan.packages):
        ok, output = packages.install(host.module, host.packages.format, [name], update=index == 0)
        if ok:
            installed.append((name, rids))
        else:
            # a host without a reachable repository: the result says so and the gate decides
            ids = ", ".join(sorted(rids))
            plan.notes.append("%s: installing %s failed: %s" % (ids, name, output.strip()[-300:]))
            host.module.warn("gce_settings: installing %s failed (see notes); %s stays failed" % (
                name, ", ".join(sorted(rids))))
    plan.packages = installed
    # a package just installed may bring the unit that stands in for the one planned (STAND_INS)
    plan.links = [(unit, rids) for unit, rids in ((_stand_in(host.target, u), r) for u, r in plan.links)
                  if units.unit_file(host.target, unit) is not None]
    for path, (old, new, rids, owned) in sorted(plan.file_changes.items()):
        # a file that cannot be written is an error of its own: the files written before it are
        # still reported (changed, diff), never left changed behind a failed task that says nothing
        try:
            size = len(new if isinstance(new, bytes) else text_bytes(new))
            if size > configfiles.MAX_SIZE:   # every later run would find it "larger than ... not read"
                raise TargetError("%s: it would be %d bytes, larger than the %d this collection reads" % (
                    host.target.display(path), size, configfiles.MAX_SIZE))
            host.target.makedirs(posixpath.dirname(path))
            host.target.write_atomic(path, new, mode=0o644, owned=owned, expected=old)
        except TargetError as exc:
            errors.append("%s: not written (%s)" % (exc, ", ".join(sorted(rids))))
            del plan.files[path]
    enabled = []
    for unit, rids in plan.links:
        try:
            if units.enable(host.target, unit, host.module, host.live):
                enabled.append((unit, rids))
        except (ConfigError, TargetError) as exc:
            errors.append(str(exc))
    plan.links = enabled   # what was not enabled is not reported as done
    for argv, why, rids in plan.commands:
        binary = host.module.get_bin_path(argv[0], opt_dirs=["/usr/sbin", "/sbin"]) or argv[0]
        rc, out, err = host.module.run_command([binary] + argv[1:])
        if rc != 0:
            errors.append("%s (%s) failed: %s" % (" ".join(argv), why, (err or out).strip()[-500:]))
        elif why == REGENERATE_GRUB:
            _note_regenerated(plan, rids)
    # generalizing (host keys, the dbus machine-id copy) is the image's last step: sshd's
    # reload validates with `sshd -t`, which fails once the host keys are gone
    removed = []
    for path, rids in plan.removals:
        try:   # as a file that cannot be written: what was done before stays reported
            host.target.remove(path)
            removed.append((path, rids))
        except TargetError as exc:
            errors.append("%s (%s)" % (exc, ", ".join(sorted(rids))))
    plan.removals = removed
    return errors


def apply_gce(params, entries, waivers, module):
    """Bring the GCE-* entries to compliance on ``params["root"]`` (only
    plan in check mode).  Returns the area's result fields with ``changed``,
    ``diff`` and ``errors``; a refused SSH change raises GceError before
    anything is written."""
    host = Host(params, module)
    _validate_root(host)
    target = host.target
    try:
        if module.check_mode:
            before = assess(host, entries, waivers)
            plan = make_plan(params, entries, waivers, module, before, host.answers)
            guard = guard_ssh(plan, host)
            results, errors = before, list(plan.refused)
            stale = [target.display(left) for left in target.stale_temporaries(*(set(plan_paths()) | set(plan.files)))]
            plan.notes.extend("would remove %s, left by an interrupted write" % path for path in stale)
        else:
            with target.lock(params.get("lock_timeout", 300), on_wait=module.warn):
                # judged under the lock: a run that waited for it sees what the one before wrote
                before = assess(host, entries, waivers)
                plan = make_plan(params, entries, waivers, module, before, host.answers)
                stale = target.remove_stale_temporaries(*(set(plan_paths()) | set(plan.files)))
                plan.notes.extend("removed %s, left by an interrupted write" % path for path in stale)
                guard = guard_ssh(plan, host)
                errors = plan.refused + execute(plan)
                # nothing written and nothing run: the state is the one just judged
                results = assess(Host(params, module), entries, waivers) if plan.changed or plan.commands else before
    except (ConfigError, TargetError) as exc:
        raise GceError(str(exc))
    ids = plan.ids()
    for result in results:
        result["changed"] = result["id"] in ids and result["status"] != "waived"
    reboot = any(r["id"] == "GCE-BOOT-CMDLINE-LIVE" and r["status"] == "fail" for r in results) and \
        any(r["id"] == "GCE-BOOT-SERIAL-CONSOLE" and r["status"] == "pass" for r in results)
    # removing what an interrupted run left is a change too (check mode: would be)
    return dict(changed=plan.changed or bool(stale), results=results, summary=summarize(results), diff=plan.diff(),
                errors=errors, root=target.display("/"), live=host.live, image=host.image,
                packages=[name for name, rids in plan.packages],
                units_enabled=[unit for unit, rids in plan.links],
                removed=[target.display(p) for p, rids in plan.removals],
                commands=[" ".join(argv) for argv, why, rids in plan.commands],
                notes=plan.notes, ssh_guard=guard, reboot_required=reboot)


def plan_paths():
    return OWN_FILES + (UDEV_DISK_RULES, sshd.MAIN, fstab.PATH, bootloader.DEFAULTS)
