# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading and atomically replacing the files the collection manages."""

import os
import tempfile

TEMP_PREFIX = ".guestready-"


class FileError(Exception):
    """A file could not be read or written; the message names it."""


def read_optional(path):
    """The text of ``path``, or None when it does not exist."""
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError) as exc:
        if not os.path.exists(path):
            return None
        raise FileError("%s: cannot read: %s" % (path, exc.strerror or exc))


def _temporary_prefix(path):
    return "%s%s." % (TEMP_PREFIX, os.path.basename(path))


def write_atomic(path, text, mode=None):
    """Replace ``path`` with ``text`` so that a crash leaves the old or the new
    file, never a half-written one: write a temporary file beside it (a dot
    file, which no *.conf glob reads), fsync it, rename it over the target and
    fsync the directory.  An existing file keeps its mode and owner; a
    symlink is followed, so the file it points to is replaced."""
    path = os.path.realpath(path)
    directory = os.path.dirname(path)
    try:
        current = os.stat(path)
    except OSError:
        current = None
    try:
        fd, temporary = tempfile.mkstemp(prefix=_temporary_prefix(path), dir=directory)
    except (IOError, OSError) as exc:
        raise FileError("%s: cannot create a file in %s: %s" % (path, directory, exc.strerror or exc))
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if current is not None:
            os.chmod(temporary, current.st_mode & 0o7777)
            os.chown(temporary, current.st_uid, current.st_gid)
        else:
            os.chmod(temporary, 0o644 if mode is None else mode)
            if os.geteuid() == 0:
                os.chown(temporary, 0, 0)
        os.rename(temporary, path)
    except (IOError, OSError) as exc:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise FileError("%s: cannot write: %s" % (path, exc.strerror or exc))
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def remove_stale_temporaries(path):
    """Remove temporary files an interrupted write of ``path`` left behind."""
    path = os.path.realpath(path)
    directory, prefix = os.path.dirname(path), _temporary_prefix(path)
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    removed = []
    for name in names:
        if name.startswith(prefix):
            try:
                os.unlink(os.path.join(directory, name))
                removed.append(os.path.join(directory, name))
            except OSError:
                pass
    return removed
