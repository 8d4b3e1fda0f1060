# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which kernels a tree holds and which one it boots by default: one answer
for every area (kernel_config and hardware judge the same kernel)."""

import os
import re

from ansible_collections.guestready.gce.plugins.module_utils import bootconfig
from ansible_collections.guestready.gce.plugins.module_utils.catalogue import parse_version
from ansible_collections.guestready.gce.plugins.module_utils.target import TargetError, Unreadable

MODULE_DIRS = ("/lib/modules", "/usr/lib/modules")
# what makes lib/modules/<release> a kernel: a leftover updates/dkms alone is none
KERNEL_FILES = ("modules.dep", "modules.alias", "modules.builtin", "vmlinuz", "config", "kernel")
# Alpine's flavor: the release's last part (6.6.31-0-virt: virt), a name, no version
FLAVOR = re.compile(r"^[A-Za-z][A-Za-z0-9._+]*$")
# a debug kernel's release, as grub-mkconfig on RHEL and Fedora tells it ("*?debug")
DEBUG = re.compile(r"[+.]debug$")


def release_key(release):
    """Sort key of a kernel release, newest last.  As rpm's rpmvercmp: the
    name is cut into runs of digits and runs of ASCII letters (every other
    character separates), numbers compare as numbers (``427`` above ``70``, ``10`` above
    ``9``), a number above a word (``6.1.0-28`` above ``6.1.0-rc1``), and a
    name that goes on is newer, unless with ``~`` (``6.1~rc1`` below ``6.1``,
    as for dpkg and ``sort -V`` too); ``^`` goes on below any other character.
    A run of more than 18 digits counts as a word (a hostile name, not a version).

    As grub-mkconfig's ``version_test_gt`` ranks the kernels it offers: ``R.old``
    (the copy installkernel keeps of a kernel ``make install`` replaced) just
    below ``R``, and a debug kernel (RHEL's and Fedora's ``R+debug``,
    RHEL 7's ``R.debug``) below every other kernel: neither is the default."""
    name = release
    old = name.endswith(".old") and len(name) > len(".old")
    if old:
        name = name[:-len(".old")]
    debug = DEBUG.search(name) is not None
    return not debug, bootconfig.version_key(name), not old, release


def flavor(release):
    """Alpine's kernel flavor of ``release``: its last dash-separated part
    (``6.6.31-0-virt``: ``virt``), or None.  Alpine installs one kernel per
    flavor and names its /boot files by it (``config-virt``,
    ``vmlinuz-virt``, ``initramfs-virt``)."""
    if not release or release.count("-") < 2:
        return None
    name = release.rsplit("-", 1)[-1]
    return name if FLAVOR.match(name) else None


def tree_releases(target):
    """Kernel releases installed inside ``target``, oldest first: those with
    a ``/boot/vmlinuz-R`` or ``/boot/config-R``, or a ``(usr/)lib/modules/R``
    that holds a kernel image, a configuration, modules or depmod's tables."""
    found = set()
    try:
        names = target.listdir("/boot")
    except Unreadable:
        raise
    except TargetError:
        names = []
    for name in names:
        for prefix in ("vmlinuz-", "config-"):
            if name.startswith(prefix) and len(name) > len(prefix) and not name.endswith("~") and ".dpkg-" not in name:
                found.add(name[len(prefix):])
    for base in MODULE_DIRS:
        try:
            names = target.listdir(base)
        except Unreadable:
            raise
        except TargetError:
            continue
        for name in names:
            if name not in found and any(target.exists("%s/%s/%s" % (base, name, what)) for what in KERNEL_FILES):
                found.add(name)
    return sorted(found, key=release_key)


def linked_release(target):
    """The release the tree's ``/vmlinuz`` (or ``/boot/vmlinuz``) link names
    (``vmlinuz-R``), or None."""
    for link in ("/vmlinuz", "/boot/vmlinuz"):
        if target.islink(link):
            try:
                name = os.path.basename(target.readlink(link))
            except TargetError:
                continue
            if name.startswith("vmlinuz-") and len(name) > len("vmlinuz-"):
                return name[len("vmlinuz-"):]
    return None


def menu_release(target):
    """``(release, where)`` of the kernel the tree's boot menu boots without
    a keypress (``bootconfig.gather_menu``: grub.cfg's ``set default``,
    grubenv's ``saved_entry``, BLS entries), or ``(None, None)``.  A kernel
    named without a version (Alpine's ``vmlinuz-virt``, Arch's
    ``vmlinuz-linux``) is no answer: the name is a flavor, not a release."""
    entry = bootconfig.gather_menu(target, None).get("default") or {}
    # kernel-install's entries boot /<entry token>/<release>/linux: their version says the release
    release = bootconfig.release_of_kernel(entry.get("kernel")) or entry.get("version")
    if release is None or parse_version(release) is None:
        return None, None
    return release, entry.get("title") or entry.get("id")


def default_kernel(target, running=None):
    """``(release, why)``: the kernel a tree boots by default and how that
    was told: ``running`` (the kernel running here, when ``target`` is this
    system), else the boot menu's default entry when it is an installed
    kernel (GRUB boots it, whatever is newer), else the one the ``/vmlinuz``
    (or ``/boot/vmlinuz``) link names, else the newest installed
    (``release_key``); ``(None, None)`` when the tree holds no kernel."""
    if running:
        return running, "the running kernel"
    releases = tree_releases(target)
    menu, entry = menu_release(target)
    if menu in releases:
        return menu, "the boot menu's default entry (%s)" % entry if entry else "the boot menu's default entry"
    linked = linked_release(target)
    if linked in releases:
        return linked, "the /vmlinuz link"
    # a /boot/config-R alone (no kernel image, no modules) boots nothing: a kernel that does is the default
    bootable = [release for release in releases if has_kernel(target, release)]
    releases = bootable or releases
    return (releases[-1], NEWEST) if releases else (None, None)


def has_kernel(target, release):
    """Whether ``release`` has more than a configuration inside ``target``:
    a ``/boot/vmlinuz-R`` or a ``(usr/)lib/modules/R`` holding a kernel."""
    return target.exists("/boot/vmlinuz-" + release) or any(
        target.exists("%s/%s/%s" % (base, release, what)) for base in MODULE_DIRS for what in KERNEL_FILES)


def default_release(target, running=None):
    """The release of ``default_kernel``."""
    return default_kernel(target, running)[0]


NEWEST = "the newest installed kernel"


def guessed_among(target, why):
    """The kernels installed inside ``target`` when ``default_kernel``'s
    choice (``why``) was only the newest of several, a guess; else None.
    Alpine's ``vmlinuz-virt``, RHEL's ``vmlinuz-0-rescue-<machine id>``:
    names without a version, not more kernels."""
    if why != NEWEST:
        return None
    releases = [name for name in tree_releases(target) if parse_version(name) is not None]
    return releases if len(releases) > 1 else None
