# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A cache on a tmpfs (gone at reboot) for what is keyed by content or identity.

What is read back is trusted (the module names of an initramfs, compiled code), so only
a directory this user owns and no one else can write is used, and only files in it that
are this user's own. A cache that cannot be used only costs time: every failure is None.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat
import tempfile

CACHE_DIR = "/run/guestready-gce"


def _own(st):
    return st.st_uid == os.geteuid() and not st.st_mode & 0o022


def directory():
    """The cache directory, made if missing; None when it is not this user's own."""
    try:
        os.mkdir(CACHE_DIR, 0o700)
    except OSError:
        pass  # already there, or not possible: lstat says which
    try:
        st = os.lstat(CACHE_DIR)
    except OSError:
        return None
    return CACHE_DIR if stat.S_ISDIR(st.st_mode) and _own(st) else None


def read(name):
    """The bytes kept under ``name``, or None."""
    where = directory()
    if where is None:
        return None
    try:
        fd = os.open(os.path.join(where, name), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or not _own(st):
            return None
        try:
            return handle.read()
        except (IOError, OSError):
            return None


def write(name, data):
    """Keep ``data`` under ``name``, replacing it whole (readers never see a part)."""
    where = directory()
    if where is None:
        return
    try:
        fd, temporary = tempfile.mkstemp(prefix=".%s." % name, dir=where)
    except (IOError, OSError):
        return
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.rename(temporary, os.path.join(where, name))
    except (IOError, OSError):
        try:
            os.unlink(temporary)
        except OSError:
            pass
