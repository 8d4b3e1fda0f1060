# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HW-* requirements, as the guest_hardware_info module (and
compliance_info's hardware area) runs them: options in, result fields out.

Which kernel (``select_kernel``), which architecture (``select_arch``),
which halves (``choose_mode``), then one record per ID
(``hardware_results.assess``) from:

* the offline half, ``kernel_drivers.OfflineCheck``: the kernel has the drivers;
* the live half, ``guest_devices.LiveCheck``: this guest has the devices,
  read from sysfs (``sysfs.py``) and the ethtool interface (``ethtool.py``).

Mode ``auto`` (the default) judges both halves on a Compute Engine VM's
running kernel, and only the kernel elsewhere: on an image build VM
(Packer's QEMU builder, a CI runner) the devices are the builder's, not
Compute Engine's (``compute_engine.detect`` tells them apart from SMBIOS).
Every result then says its live half was not judged, and why; ``both`` or
``live`` judge this machine's devices anyway.  An image tree, a chroot or a
release that is not running is judged offline.
"""

import os
import re

from ansible_collections.guestready.gce.plugins.module_utils import compute_engine, ethtool, kconfig, modalias
from ansible_collections.guestready.gce.plugins.module_utils.catalogue import ARCHES, normalize_arch
from ansible_collections.guestready.gce.plugins.module_utils.guest_devices import LiveCheck, NotJudged
from ansible_collections.guestready.gce.plugins.module_utils.hardware_results import assess
from ansible_collections.guestready.gce.plugins.module_utils.host import live_root
from ansible_collections.guestready.gce.plugins.module_utils.kernel_drivers import OfflineCheck
from ansible_collections.guestready.gce.plugins.module_utils.kernel_tree import default_kernel, default_release, guessed_among
from ansible_collections.guestready.gce.plugins.module_utils.results import summarize
from ansible_collections.guestready.gce.plugins.module_utils.sysfs import Sysfs
from ansible_collections.guestready.gce.plugins.module_utils.target import Target, TargetError

MODES = ("auto", "live", "offline", "both")


class HardwareError(Exception):
    """An option that cannot be honoured; the message names it."""


ARGUMENT_SPEC = dict(
    mode=dict(type="str", choices=list(MODES)),
    kernel_release=dict(type="str"),
    root=dict(type="path", default="/"),
    sysfs_root=dict(type="path", default="/sys"),
    initramfs=dict(type="path"),
    arch=dict(type="str"),
)


RELEASE_SUFFIXES = (
    ("-686-pae", "x86_32"), ("-686", "x86_32"), (".i686", "x86_32"),
    ("-amd64", "x86_64"), (".x86_64", "x86_64"),
    ("-arm64", "arm64"), (".aarch64", "arm64"),
)


def release_arch(release):
    """The architecture a Debian- or Fedora-style release name ends with, or None."""
    for suffix, arch in RELEASE_SUFFIXES:
        if (release or "").endswith(suffix):
            return arch
    return None


def select_kernel(params):
    """``(release, modules_path, target, running)``: the modules directory as
    a path inside ``target``, the tree its initramfs is looked for in."""
    root = params["root"]
    target = Target(root)
    wanted = params["kernel_release"]
    running = os.uname()[2]
    if wanted and "/" in wanted:
        path = "/" + os.path.normpath(wanted).lstrip("/")
        if not target.isdir(path):
            raise HardwareError("kernel_release: %s is not a directory" % target.display(path))
        match = re.match(r"^(.*?)/(?:usr/)?lib/modules/[^/]+$", path)
        if match and match.group(1) and root == "/":
            # a tree's lib/modules directory: its initramfs is in that tree's /boot
            return os.path.basename(path), path[len(match.group(1)):], Target(match.group(1)), False
        return os.path.basename(path), path, target, False
    if wanted:
        path = modalias.modules_dir(wanted, target)
        if not target.isdir(path):
            installed = modalias.installed_releases(target)
            raise HardwareError("kernel_release: no %s (installed under %s: %s)" % (
                target.display(path), root, ", ".join(installed) or "none"))
        return wanted, path, target, live_root(root) and wanted == running
    live = live_root(root)
    # the kernel_config area's choice too (kernel_tree): one run judges one kernel
    release = default_release(target, running if live else None)
    if not release:
        raise HardwareError("root: %s has no kernel (no boot/vmlinuz-<release>, no lib/modules/<release> "
                            "with modules.dep); name one with kernel_release" % root)
    return release, modalias.modules_dir(release, target), target, live


def select_arch(params, release, running, offline=None):
    """The architecture judged: the arch option; for a kernel that is not the
    running one, what its configuration says (``offline``'s: the kconfig
    header, or inferred from its options), else its release name's suffix;
    else this machine's."""
    given = params["arch"]
    if given:
        name = normalize_arch(given)
        if name not in ARCHES:
            raise HardwareError("arch: %r is not one of %s" % (given, ", ".join(ARCHES)))
        return {"name": name, "source": "arch option"}
    if not running:
        found = kernel_arch(release, offline.config()[0] if offline else None)
        if found:
            return found
    return {"name": normalize_arch(os.uname()[4]), "source": "uname -m"}


def kernel_arch(release, config):
    """``{name, source}`` of a kernel that is not the running one: what its
    configuration (a ``kconfig`` Kconfig or None) says, else its release
    name's suffix; None when neither says."""
    if config is not None and config.arch in ARCHES:
        # a release named alike on every architecture (6.1.0-1015-gcp) says nothing
        return {"name": config.arch,
                "source": "kernel configuration %s (%s)" % (config.source, config.arch_source)}
    guessed = release_arch(release)
    if guessed in ARCHES:
        return {"name": guessed, "source": "kernel release name"}
    return None


def root_arch(target, live):
    """``{name, source}``: the architecture of the system in ``target`` for a
    check that judges no kernel of its own (the gce_settings area), by
    ``select_arch``'s rules: this machine's when ``target`` is the running
    system, else its default kernel's (``kernel_arch``), else this machine's."""
    if not live:
        release = default_release(target)
        if release:
            config = None
            path, dummy = kconfig.find_config(release, target)
            if path is not None:
                try:
                    config = kconfig.read(path, target=target)
                except (kconfig.KconfigError, TargetError):
                    config = None   # the release name may still say
            found = kernel_arch(release, config)
            if found:
                return found
    return {"name": normalize_arch(os.uname()[4]), "source": "uname -m"}


def choose_mode(requested, running, platform):
    """``(mode, why, live half not judged: its reason or None)``."""
    if requested != "auto":
        return requested, "mode %s, as asked" % requested, None
    if not running:
        return "offline", ("auto: the kernel checked is not the one running here (an image tree, a "
                           "chroot or another release): only its drivers are judged"), None
    if platform["on_gce"]:
        return "both", "auto: %s: its running kernel and its devices are judged" % platform["reason"], None
    why = ("not judged: %s, so its devices are not Compute Engine's; the image's kernel is judged "
           "offline only (mode: both judges this machine's devices anyway)" % platform["reason"])
    return "offline", "auto: %s" % why[len("not judged: "):], why


def offload_reader(sysfs_root, module):
    if os.path.realpath(sysfs_root) == "/sys":
        return ethtool.OffloadReader(ethtool=module.get_bin_path("ethtool"), run_command=module.run_command)
    return ethtool.no_offload_reader(
        "sysfs_root %s is not this host's /sys: the ethtool interface describes this host's "
        "interfaces, not that tree's" % sysfs_root)


def check_hardware(params, entries, waivers, module):
    """Evaluate the HW-* ``entries`` as ``params`` (the module's options) say;
    ``module`` runs ethtool.  Returns the module's result fields; bad input
    raises HardwareError."""
    release, modules_path, target, running = select_kernel(params)
    if not params["kernel_release"] and not running:
        guessed = guessed_among(target, default_kernel(target)[1])
        if guessed:
            module.warn("%s holds several kernels (%s) and neither a boot menu nor a /vmlinuz link names the "
                        "default one: judged the newest, %s; give kernel_release to judge another" % (
                            params["root"], ", ".join(guessed), release))
    if params["initramfs"] and not target.isfile(params["initramfs"]):
        raise HardwareError("initramfs: %s is not a regular file" % target.display(params["initramfs"]))
    requested = params["mode"] or "auto"
    sysfs = platform = None
    if requested in ("live", "both") or (requested == "auto" and running):
        if not os.path.isdir(params["sysfs_root"] or ""):
            # a mistyped sysfs_root would fail every live ID ("no PCI bus")
            raise HardwareError("sysfs_root: %s is not a directory" % (params["sysfs_root"] or "''"))
        sysfs = Sysfs(params["sysfs_root"])
        platform = compute_engine.detect(sysfs)
    mode, why, not_judged = choose_mode(requested, running, platform)
    offline = live = None
    if mode in ("offline", "both"):
        try:
            offline = OfflineCheck(modules_path, root=target, release=release, initramfs=params["initramfs"],
                                   running=running)
        except modalias.ModulesError as exc:
            raise HardwareError(str(exc))
    arch = select_arch(params, release, running, offline)
    if mode in ("live", "both"):
        live = LiveCheck(sysfs, offloads=offload_reader(params["sysfs_root"], module), platform=platform)
    elif not_judged:
        live = NotJudged(not_judged)
    results = assess(entries, waivers, arch["name"], offline=offline, live=live)
    return dict(results=results, summary=summarize(results), mode=mode, mode_reason=why, arch=arch,
                platform=dict((k, platform[k]) for k in ("on_gce", "reason", "evidence")) if platform else None,
                kernel=offline.summary() if offline else None,
                guest=live.summary() if isinstance(live, LiveCheck) else None)
