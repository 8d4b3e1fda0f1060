# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Is this the running system, or a tree that merely looks like one?

Inside a chroot (Packer's chroot builder, --connection=chroot into a mounted
image) /proc and /sys, when mounted, belong to the build host: reading them
would judge the wrong kernel, writing them would change it."""

import os


def in_chroot(proc_root="/proc"):
    """True when / is not the root of the system's init process."""
    try:
        own = os.stat("/")
        init = os.stat(os.path.join(proc_root, "1", "root", "."))
    except OSError:
        return False
    return (own.st_dev, own.st_ino) != (init.st_dev, init.st_ino)


def live_root(root="/", proc_root="/proc"):
    """True when ``root`` is the running system itself: not a mounted image
    tree, not a chroot."""
    return os.path.realpath(root) == "/" and not in_chroot(proc_root)
