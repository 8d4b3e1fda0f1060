# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kernel configurations on a host or in a tree: where they live, one
kernel's whole check, and the work of the ``kernel_config_info`` module
(shared with ``compliance_info``).

The pieces, each in its own file:

* ``kconfig_parser``: reading and parsing a configuration (``read``,
  ``parse_text``, ``decode``, ``Kconfig``, ``KconfigError``);
* ``kconfig_eval``: the KCONF-* evaluation (``evaluate``,
  ``render_fragment``, Kconfig defaults for minimal configurations);
* this module: where configurations live (``installed_configs``,
  ``running_candidates``; ``default_release`` is kernel_tree's, shared
  with the hardware area), ``check_kernel`` and
  ``check_kernels`` with the module's ``ARGUMENT_SPEC``.
"""

import fnmatch
import os

from ansible_collections.guestready.gce.plugins.module_utils import catalogue as cat
from ansible_collections.guestready.gce.plugins.module_utils import initramfs, kernel_cmdline, modalias, modprobe, privilege
from ansible_collections.guestready.gce.plugins.module_utils.host import live_root
from ansible_collections.guestready.gce.plugins.module_utils.kconfig_eval import evaluate, render_fragment, resolve
from ansible_collections.guestready.gce.plugins.module_utils.kconfig_parser import KconfigError, check_overrides, read
# default_release: callers use it from here
from ansible_collections.guestready.gce.plugins.module_utils.kernel_tree import (  # pylint: disable=unused-import
    default_kernel, default_release, flavor, guessed_among, has_kernel, release_key, tree_releases)
from ansible_collections.guestready.gce.plugins.module_utils.results import record, summarize
from ansible_collections.guestready.gce.plugins.module_utils.target import (
    Missing, Target, TargetError, Unreadable, file_kind)


# --------------------------------------------------------------------------
# where configurations live, and one kernel's whole check
# --------------------------------------------------------------------------

PROC_CONFIG = "/proc/config.gz"


# the kernel headers' copy (Arch's linux-headers: /usr/lib/modules/R/build is
# the headers tree, with the .config the kernel was built with; Arch ships no
# /boot/config-R): tried last, for a release that has a kernel there; the
# ``build`` link resolves inside the root like every path
HEADERS_CONFIGS = ("/lib/modules/%s/build/.config", "/usr/lib/modules/%s/build/.config")


def running_candidates(release, live=True):
    """Where kernel ``release``'s configuration may be, inside the root, in
    the order tried: ``/proc/config.gz`` (only for the kernel running here),
    ``/boot/config-R``, ``/lib/modules/R/config``, ``/usr/lib/modules/R/config``,
    then the kernel headers' ``(usr/)lib/modules/R/build/.config``."""
    paths = [PROC_CONFIG] if live else []
    return paths + ["/boot/config-%s" % release, "/lib/modules/%s/config" % release,
                    "/usr/lib/modules/%s/config" % release] + [path % release for path in HEADERS_CONFIGS]


def _flavor_config(release, target):
    """``(path, why not)`` for Alpine's ``/boot/config-<flavor>`` of kernel
    ``release`` (``kernel_tree.flavor``): its path when it is there and is
    this release's (its kconfig header's version is the release's; a file
    that does not say, or cannot be read, is taken: reading it tells);
    ``(None, why)`` when it belongs to another version of the flavor."""
    name = flavor(release)
    path = "/boot/config-%s" % name if name else None
    if not path or not target.exists(path):
        return None, None
    wanted = cat.parse_version(release)
    try:
        version = read(path, target=target).version
    except (KconfigError, TargetError):
        return path, None
    if version is None or wanted is None or version == wanted:
        return path, None
    # another build of the flavor (upgraded, not yet rebooted): not this kernel's
    return None, "%s (Linux %s, not %s)" % (target.display(path), cat.format_version(version),
                                            cat.format_version(wanted))


def find_config(release, target, live=False):
    """``(path, tried)``: the first of ``running_candidates`` there inside
    ``target``, else Alpine's ``/boot/config-<flavor>`` when it is this
    release's; ``path`` None when there is none, ``tried`` then says where
    it was looked for (displayed paths)."""
    tried = running_candidates(release, live=live)
    path = next((p for p in tried if target.exists(p)), None)
    if path is not None:
        return path, []
    shown = [target.display(p) for p in tried]
    path, why_not = _flavor_config(release, target)
    if why_not:
        shown.append(why_not)
    return path, shown


def installed_configs(target, unusable=None):
    """``[(release, path)]`` of every kernel configuration installed inside
    ``target`` (``/boot/config-*``, and ``/lib/modules/*/config`` for kernels,
    like Debian's newest, that ship none in /boot, else the headers'
    ``(usr/)lib/modules/R/build/.config``, Arch's only one), oldest version first;
    paths inside the root.  ``unusable``: a list that gets ``(release, path,
    why)`` for each release whose only configuration there is no regular file
    (a FIFO, a directory, a link loop)."""
    found, seen, broken = {}, set(), {}
    candidates = []
    for directory in ("/boot", "/lib/modules", "/usr/lib/modules"):
        try:
            names = target.listdir(directory)
        except Unreadable:
            raise  # "no kernel there" would be a guess
        except Missing:
            continue
        except TargetError as exc:
            # a /boot that is a link loop, a file or a FIFO: "no kernel there" would be a guess too
            raise KconfigError("%s: the installed kernels cannot be listed" % exc)
        for name in names:
            if directory == "/boot":
                if fnmatch.fnmatchcase(name, "config-*"):
                    candidates.append((name[len("config-"):], "/boot/" + name))
            else:
                candidates.append((name, "%s/%s/config" % (directory, name)))
    # last: the headers' build/.config of a kernel that is installed (headers alone are no kernel)
    modules = sorted(set(release for release, path in candidates if not path.startswith("/boot/")))
    candidates += [(release, path % release) for path in HEADERS_CONFIGS for release in modules
                   if has_kernel(target, release)]
    candidates = [(_flavor_release(release, path, candidates, target), path) for release, path in candidates]
    for release, path in candidates:
        if path.endswith("~") or ".dpkg-" in path or release in found:
            continue
        if not target.isfile(path):
            why = _not_a_file(target, path)
            if why and release not in broken:
                broken[release] = (path, why)
            continue
        real = target.host_path(path)
        if real in seen:
            continue
        seen.add(real)
        found[release] = path
    if unusable is not None:
        unusable.extend(sorted((release, path, why) for release, (path, why) in broken.items()
                               if release not in found))
    return sorted(found.items(), key=_by_version)


def _flavor_release(name, path, candidates, target):
    """The release whose configuration ``/boot/config-<name>`` is, when
    ``name`` is an Alpine flavor (no version) and one release with a modules
    directory has it as its flavor and the configuration's version; else
    ``name``."""
    if not path.startswith("/boot/") or cat.parse_version(name) is not None:
        return name
    owners = sorted(set(release for release, where in candidates
                        if not where.startswith("/boot/") and flavor(release) == name))
    owners = [release for release in owners if _flavor_config(release, target)[0] == path]
    return owners[0] if len(owners) == 1 else name


def _by_version(item):
    return release_key(item[0])


def _listed(target):
    """Every installed kernel, oldest first, with those whose configuration
    is no regular file, and ``{release: why}`` of these: such a kernel is
    judged with every requirement unknown, never left out (an older kernel
    would be judged in its place)."""
    unusable = []
    installed = installed_configs(target, unusable)
    listed = sorted(installed + [(release, path) for release, path, dummy in unusable], key=_by_version)
    return listed, dict((release, why) for release, dummy, why in unusable)


def _not_a_file(target, path):
    """Why ``path``, a name that is there, is no configuration (None when it
    is not there at all: most kernels have no lib/modules/R/config)."""
    try:
        target.lstat(path)
    except TargetError:
        return None
    try:
        mode = target.stat(path).st_mode
    except Missing:
        return None  # a link that leads nowhere in the root: no kernel there either
    except TargetError as exc:
        return str(exc)
    return "%s: is a %s, not a regular file" % (target.display(path), file_kind(mode))


def _initramfs_view(path, release, target, check, running=False):
    """What ``_module_result`` (kconfig_eval) judges an ``=m`` driver by:
    the initramfs's modules and the release's module tables, and what keeps
    a module from loading there, as the hardware area judges it: the
    image's own modprobe.d (``blocks``) and the release's kernel command
    lines (``cmdline_blocks``, None with ``cmdline_error`` when they cannot
    be read).  ``running``: the release runs here (/proc/cmdline counts)."""
    if not check:
        return None
    where = path or initramfs.find_initramfs(release, target)
    if not where:
        if not release:
            return {"path": None, "method": None, "modules": None, "absent": "unknown",
                    "error": "kernel release unknown: set kernel_release or initramfs"}
        status, why = initramfs.not_found(release, target)
        return {"path": None, "method": None, "modules": None, "error": why, "absent": status}
    names, method, error = initramfs.kernel_modules(where, target=target, release=release)
    tree, tree_error = _modules_tree(release, target)
    view = {"path": target.display(where), "method": method, "modules": names, "error": error,
            "tree": tree, "tree_error": tree_error, "blocks": {}, "cmdline_blocks": {}, "cmdline_error": None}
    if names is not None:
        view["blocks"] = initramfs.modprobe_blocks(where, target=target)
        try:
            lines = kernel_cmdline.for_release(kernel_cmdline.find(target, running), release)
            view["cmdline_blocks"] = modprobe.cmdline_blocks(lines)
        except TargetError as exc:
            view["cmdline_blocks"], view["cmdline_error"] = None, "the kernel command line is unknown: %s" % exc
    return view


def _modules_tree(release, target):
    """``(tables, error)``: the release's module tables (for the modules an
    ``=m`` driver needs, modules.dep), None when the tree has none to read;
    ``error`` names a table that is there but cannot be read (a FIFO, a
    directory, a link loop, permission): not the same as no table."""
    if not release:
        return None, None
    try:
        tree = modalias.KernelModules(modalias.modules_dir(release, target), target)
    except modalias.ModulesError as exc:
        return None, str(exc)
    return (tree if tree.dep is not None else None), None


def check_kernel(entries, waivers, release, path, source, target, version=None, arch=None,
                 machine=None, check_initramfs=True, initramfs_path=None, running=False):
    """Everything known of one kernel: its configuration (``path`` inside
    ``target``) read and judged, its initramfs looked into when a required
    driver is ``=m``.  KconfigError when the configuration cannot be read.
    ``running``: ``release`` is the kernel running here (its /proc/cmdline counts)."""
    config = read(path, version=version, arch=arch, target=target)
    if config.version is None and release:
        config.set_version(release, "release")
    if config.arch is None and machine:
        config.set_arch(machine, "running kernel")
    needs = any(entry.get("tristate") and cat.applies_to_arch(entry, config.arch)
                and any(found.value == "m" for s in entry["symbols"]
                        for found in resolve(config, s["name"], kind="tristate"))
                for entry in entries)
    view = _initramfs_view(initramfs_path, release, target, check_initramfs, running) if needs else None
    results = evaluate(entries, config, waivers, view)
    shown = None
    if view is not None:
        shown = dict((key, view[key]) for key in ("path", "method", "error"))
    notes = config.warnings + config.notes() + [result["warning"] for result in results if result.get("warning")]
    if source != "path" and release and path in [where % release for where in HEADERS_CONFIGS]:
        notes.append("%s: kernel %s's configuration read from its kernel headers (build/.config, as Arch's "
                     "linux-headers installs it): there is no /boot/config-%s or lib/modules/%s/config"
                     % (target.display(path), release, release, release))
    return {
        "release": release,
        "config": target.display(path),
        "source": source,
        "version": cat.format_version(config.version),
        "version_source": config.version_source,
        "arch": config.arch,
        "arch_source": config.arch_source,
        "compression": config.compression,
        "form": config.form,
        "form_evidence": config.form_evidence,
        "initramfs": shown,
        "results": results,
        "summary": summarize(results),
        "fragment": render_fragment(results, config),
        "warnings": notes,
        "error": None,
    }


def unreadable_kernel(entries, release, path, source, message):
    """The entry for a kernel whose configuration could not be read: every
    requirement ``unknown``, with the reason."""
    shown = message if privilege.needs_root(message) else "cannot judge: %s" % message
    results = [record(entry, "unknown", message=shown, remediation=privilege.remediation(message),
                      evidence={"config": path}, symbol=None, found=None, fragment_lines=[])
               for entry in entries]
    return {"release": release, "config": path, "source": source, "version": None,
            "version_source": None, "arch": None, "arch_source": None, "compression": None,
            "form": None, "form_evidence": [], "initramfs": None, "results": results, "summary": summarize(results),
            "fragment": "", "warnings": [], "error": message}


# --------------------------------------------------------------------------
# The kernel_config_info module's work (shared with compliance_info)
# --------------------------------------------------------------------------

AREAS = ("kernel-required", "kernel-security")
ARGUMENT_SPEC = dict(
    source=dict(type="str", default="running", choices=["running", "installed", "path"]),
    path=dict(type="path"),
    root=dict(type="path", default="/"),
    kernel_release=dict(type="str"),
    version=dict(type="str"),
    arch=dict(type="str"),
    check_initramfs=dict(type="bool", default=True),
    initramfs=dict(type="path"),
)
REQUIRED_IF = [("source", "path", ["path"])]


def _say_guessed(target, release, chosen_by, root, warn):
    """Warn when the kernel judged by default is only the newest of several
    (no running kernel, no boot menu or /vmlinuz link names one): a guess."""
    releases = guessed_among(target, chosen_by)
    if releases:
        warn("%s holds several kernels (%s) and neither a boot menu nor a /vmlinuz link names the default "
             "one: judged the newest, %s; give kernel_release to judge another, or source=installed to "
             "check every one" % (root, ", ".join(releases), release))


def check_kernels(params, entries, waivers, module):
    """Check the kernels ``params`` select (the module's options; warnings go
    to ``module.warn``); returns the module's result fields; bad input raises
    KconfigError."""
    warn = module.warn
    root = params["root"]
    target = Target(root)
    live = live_root(root)
    running = os.uname()[2] if live else None
    machine = os.uname()[4] if live else None
    common = dict(target=target, version=params["version"], arch=params["arch"],
                  check_initramfs=params["check_initramfs"], initramfs_path=params["initramfs"])

    def check(release, path, source):
        try:
            return check_kernel(entries, waivers, release, path, source,
                                machine=machine if release == running else None,
                                running=bool(running) and release == running, **common)
        except Unreadable as exc:  # the configuration: every option unknown, none guessed
            return unreadable_kernel(entries, release, target.display(path), source, str(exc))

    # before any kernel is read: with source=installed, a kernel whose check fails is only
    # warned about, and a mistyped option made every kernel's results unknown in a passing task
    check_overrides(params["version"], params["arch"])
    if params["initramfs"] and params["check_initramfs"] and not target.isfile(params["initramfs"]):
        # a mistyped image made every =m driver unknown in a passing task (guest_hardware_info fails)
        raise KconfigError("initramfs: %s is not a regular file" % target.display(params["initramfs"]))
    if params["path"] and params["source"] != "path":
        # it was ignored: the verdict was the running (or default) kernel's, as if it were the file's
        raise KconfigError("path: %s is read only with source=path, and source is %s; give source=path "
                           "to check that file" % (params["path"], params["source"]))
    kernels, top = [], None
    if params["kernel_release"]:
        wanted, chosen_by = params["kernel_release"], "kernel_release"
    elif params["source"] == "path":
        wanted, chosen_by = None, None
    else:
        wanted, chosen_by = default_kernel(target, running)
        _say_guessed(target, wanted, chosen_by, root, warn)
    if params["source"] == "path":
        path = params["path"]
        release = params["kernel_release"]
        name = os.path.basename(path)
        if not release and name.startswith("config-"):
            release = name[len("config-"):]
        kernels.append(check(release, path, "path"))
    elif params["source"] == "running":
        # a default kernel whose configuration is no file is still the one the tree boots
        release = wanted
        if not release:
            raise KconfigError("%s: no kernel configuration found under it "
                               "(boot/config-*, lib/modules/*/config, lib/modules/*/build/.config)" % root)
        path, tried = find_config(release, target, live=live and release == running)
        if path is None:
            raise KconfigError("no configuration for kernel %s: tried %s (a kernel without "
                               "CONFIG_IKCONFIG_PROC has no /proc/config.gz; give "
                               "source=path)" % (release, ", ".join(tried)))
        kernels.append(check(release, path, target.display(path)))
    else:
        installed, why_not = _listed(target)
        if not installed:
            raise KconfigError("%s: no installed kernel configuration (boot/config-*, "
                               "lib/modules/*/config, lib/modules/*/build/.config)" % root)
        for release, path in installed:
            if release in why_not:
                warn(why_not[release])
                kernels.append(unreadable_kernel(entries, release, target.display(path),
                                                 "installed", why_not[release]))
                continue
            try:
                kernels.append(check(release, path, "installed"))
            except KconfigError as exc:
                warn(str(exc))
                kernels.append(unreadable_kernel(entries, release, target.display(path),
                                                 "installed", str(exc)))
        top = next((k for k in kernels if k["release"] == wanted), None)
        if top is None and params["kernel_release"]:
            releases = tree_releases(target)
            if params["kernel_release"] not in releases and \
                    not target.isdir(modalias.modules_dir(params["kernel_release"], target)):
                # a mistyped release: another kernel's results were the top-level ones
                raise KconfigError("kernel_release: %s is not installed under %s (installed: %s)" % (
                    params["kernel_release"], root, ", ".join(releases) or "none"))
        if top is None and wanted and ((live and wanted == running) or target.exists("/boot/vmlinuz-" + wanted)
                                       or target.isdir(modalias.modules_dir(wanted, target))):
            # the kernel judged by default (or named) has no installed configuration of its own
            # (only /proc/config.gz, or none at all): another kernel's results must not stand for it
            path, tried = find_config(wanted, target, live=live and wanted == running)
            if path is not None:
                try:
                    top = check(wanted, path, target.display(path))
                except KconfigError as exc:
                    warn(str(exc))
                    top = unreadable_kernel(entries, wanted, target.display(path), target.display(path), str(exc))
            else:
                why = "no configuration for kernel %s: tried %s" % (wanted, ", ".join(tried))
                warn(why)
                top = unreadable_kernel(entries, wanted, None, "installed", why)
            kernels = sorted(kernels + [top], key=lambda kernel: release_key(kernel["release"]))
        if top is None and params["kernel_release"]:
            # only a name (a /boot/config-R that leads nowhere): another kernel must not answer for it
            raise KconfigError("kernel_release: %s is not installed under %s (installed: %s)" % (
                params["kernel_release"], root, ", ".join(kernel["release"] for kernel in kernels)))
        if top is None:
            # the default kernel is no kernel (a dangling /boot/config-R): the newest configuration
            top, chosen_by = kernels[-1], "the newest installed configuration"
    top = top or kernels[-1]
    for kernel in kernels:
        for warning in kernel["warnings"]:
            warn(warning)
    return dict(kernel=top["release"], chosen_by=chosen_by, config=top["config"], results=top["results"],
                summary=top["summary"], fragment=top["fragment"], kernels=kernels)
