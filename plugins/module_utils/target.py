# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The target root: the one layer every path the collection reads or writes
goes through.

A target is the live system (``/``) or a tree: a mounted image, a chroot
directory, an image builder's staging area.  Trees are hostile input, so under
a tree every path resolves the way the booted image would resolve it, with
the semantics of ``openat2(RESOLVE_IN_ROOT)`` and ``chroot``: an absolute
symlink is relative to the root and ``..`` stops at the root.  Nothing outside
the root is ever opened, whatever the tree's links say.  Resolution walks one
component at a time with ``O_NOFOLLOW`` descriptors, so a link swapped in
while we walk cannot lead out either.  Under ``/`` the same walk is ordinary
path resolution.

Only regular files are read: a FIFO, socket, device or directory where a file
is expected is an error naming the path and its type, raised before anything
is opened, so nothing blocks.

Writes replace files atomically (temporary file beside the target, fsync,
rename, fsync of the directory); the new file keeps the replaced one's mode,
owner, extended attributes and encoding (Latin-1 stays Latin-1), and new
files and directories get their mode whatever the umask.  A path the collection owns (its drop-in)
is replaced even when it is a symlink: the link is replaced, never written
through.  Another program's file (a line the collection comments out) is
written where the root's own resolution puts it, which is always inside the
root.

``lock()`` serialises the runs that change one target: an advisory ``flock``
on the root directory itself, so no file is created for it.

Paths given to a Target are paths *inside* the root (``/etc/sysctl.d``);
messages show them joined to the root as the user wrote it
(``/mnt/image/etc/sysctl.d``).
"""

import contextlib
import errno
import fcntl
import os
import stat
import time

from ansible_collections.guestready.gce.plugins.module_utils.digits import ascii_int
from ansible_collections.guestready.gce.plugins.module_utils.privilege import denied, unreadable

TEMP_PREFIX = ".guestready-"
# what read_at_most asks for at least at first (below malloc's mapping threshold), then at once
READ_FIRST, READ_STEP = 64 * 1024, 1024 * 1024
MAX_LINKS = 40  # the kernel's limit on symlinks followed in one resolution
_O_PATH = getattr(os, "O_PATH", os.O_RDONLY)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIR_FLAGS = _O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | _O_CLOEXEC


def read_at_most(handle, limit):
    """Up to ``limit + 1`` bytes of the binary file ``handle`` (one more than
    allowed says it is larger), asked for at about the file's own size: a
    read allocates its whole buffer first, and a 32 MiB allowance for each
    small configuration file costs a fresh mapping per file (milliseconds
    each on an emulated guest).  A file whose size says nothing (procfs) or
    that grows is read on in bounded steps."""
    step = min(limit + 1, max(os.fstat(handle.fileno()).st_size + 1, READ_FIRST))
    chunks, left = [], limit + 1
    while left:
        step = min(step, left)
        chunk = handle.read(step)
        chunks.append(chunk)
        left -= len(chunk)
        if len(chunk) < step:  # a buffered read returns less only at the end
            break
        step = READ_STEP
    return b"".join(chunks)


class NotUtf8(str):
    """The text of a file that is not valid UTF-8, decoded as Latin-1 (a
    character a byte: its bytes are ``text.encode("latin-1")``).  Its own
    type, so that a reader whose program refuses such lines can tell it from
    UTF-8 text holding the same characters."""
    __slots__ = ()


def text_bytes(text):
    """The bytes ``text`` stands for: a ``NotUtf8`` text's Latin-1, else its
    UTF-8, a byte os.fsdecode() kept as a surrogate (a name that is not
    UTF-8) as that byte."""
    if isinstance(text, NotUtf8):
        return text.encode("latin-1")
    return text.encode("utf-8", "surrogateescape")


def name_order(name):
    """The key that sorts names as strcmp() sorts their bytes (as str, a byte that is not UTF-8,
    kept as a surrogate, sorts before U+E000 and every character beyond U+FFFF)."""
    return name.encode("utf-8", "surrogateescape")


def text_of(data):
    """``data`` decoded as UTF-8, else as a ``NotUtf8`` (a character a byte)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return NotUtf8(data.decode("latin-1"))


class TargetError(Exception):
    """A path under the target could not be used; the message names it."""


class Missing(TargetError):
    """The path does not exist (in the root's own resolution)."""


class Unreadable(TargetError):
    """Permission denied reading ``path`` (as the user sees it): without
    root the message says so (``privilege.unreadable``)."""

    def __init__(self, path):
        super(Unreadable, self).__init__(unreadable(path))
        self.path = path


class TooLarge(TargetError):
    """The file is larger than the reader's limit: it may be sound, so a
    reader that skips unreadable files as a boot loader does must not skip it."""


class NotRegular(TargetError):
    """The path is not a regular file (``kind`` says what it is)."""

    def __init__(self, message, kind):
        super(NotRegular, self).__init__(message)
        self.kind = kind


def file_kind(mode):
    """A file type in words, for messages."""
    for test, name in ((stat.S_ISREG, "regular file"), (stat.S_ISDIR, "directory"),
                       (stat.S_ISLNK, "symbolic link"), (stat.S_ISFIFO, "FIFO (named pipe)"),
                       (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "character device"),
                       (stat.S_ISBLK, "block device")):
        if test(mode):
            return name
    return "special file"


def null_device(info):
    """Whether the stat result ``info`` is the null device (1:3), as
    systemd's masking takes it."""
    return stat.S_ISCHR(info.st_mode) and os.major(info.st_rdev) == 1 and os.minor(info.st_rdev) == 3


def _components(path):
    return [part for part in path.split("/") if part and part != "."]


def _close(fds):
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


def _reason(exc):
    return exc.strerror or str(exc)


def _encode(text, where, current):
    """``text`` as the bytes of the file it replaces: Latin-1 when that file
    is not UTF-8, as ``read_text`` decoded it, so that the lines the
    collection leaves alone (a comment, a mount point's name) keep their
    bytes; else ``text_bytes``."""
    if current is not None and not isinstance(text, NotUtf8) and stat.S_ISREG(current.st_mode):
        try:
            fd = os.open(where.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | _O_CLOEXEC,
                         dir_fd=where.dir_fd)
            with os.fdopen(fd, "rb") as handle:
                handle.read().decode("utf-8")
        except UnicodeDecodeError:
            try:
                return text.encode("latin-1")
            except UnicodeEncodeError:
                pass
        except (IOError, OSError):
            pass
    return text_bytes(text)


_ANY = object()  # write_atomic without an expected content


def _holds(where, current, expected):
    """Whether the regular file ``where`` (``current`` its lstat, None when
    absent) holds ``expected``: bytes, text as ``read_text`` decodes it, or
    None for no file."""
    if current is None or expected is None:
        return current is None and expected is None
    wanted = expected if isinstance(expected, bytes) else text_bytes(expected)
    try:   # never more than the expected content (a Latin-1 text's UTF-8 is no shorter than its bytes)
        fd = os.open(where.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | _O_CLOEXEC,
                     dir_fd=where.dir_fd)
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                return False
            data = read_at_most(handle, len(wanted))
    except (IOError, OSError):
        return False
    if data == wanted:
        return True
    if isinstance(expected, bytes):
        return False
    try:
        return data.decode("utf-8") == expected
    except UnicodeDecodeError:
        return data.decode("latin-1") == expected


# attributes the kernel derives from the content (IMA/EVM): copied, they would not match it
_CONTENT_XATTRS = ("security.ima", "security.evm")


def _copy_xattrs(dir_fd, name, fd):
    """Give the new file ``fd`` the extended attributes of the file ``name``
    it replaces: its SELinux label above all.  A file written into a Red Hat
    image from a host without SELinux has no label of its own, and the
    image's policy keeps a confined daemon (sshd, chronyd) from reading an
    unlabelled file.  Also a POSIX ACL.  Where this user may not read or set
    one, the file is written without it, as ``cp -a`` would."""
    if not hasattr(os, "listxattr"):
        return
    try:
        old = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | _O_CLOEXEC, dir_fd=dir_fd)
    except OSError:
        return
    try:
        for key in os.listxattr(old):
            if key not in _CONTENT_XATTRS:
                try:
                    os.setxattr(fd, key, os.getxattr(old, key))
                except OSError:
                    pass
    except OSError:
        pass
    finally:
        os.close(old)


def _mkdir(name, mode, dir_fd):
    """``mkdir`` with exactly ``mode``: under the umask of a hardened build
    host (027, 077) a new /etc/systemd/timesyncd.conf.d would be 0750 or
    0700, and the daemons that read such directories as their own user
    (systemd-timesyncd as systemd-timesync, systemd-networkd as
    systemd-network) would never see the drop-in in it."""
    os.mkdir(name, mode, dir_fd=dir_fd)
    fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | _O_CLOEXEC, dir_fd=dir_fd)
    try:   # the set-group-ID bit a set-group-ID parent passes on stays, as mkdir(2) made it
        os.fchmod(fd, mode | (os.fstat(fd).st_mode & stat.S_ISGID))
    finally:
        os.close(fd)


class _Resolved(object):
    """A resolved path: a descriptor of its directory and its last component
    (``"."`` when the path is a directory reached through ``..`` or ``/``).
    The last component is not a symlink when it was followed."""

    def __init__(self, dir_fd, name):
        self.dir_fd, self.name = dir_fd, name

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _close([self.dir_fd])

    def lstat(self):
        return os.stat(self.name, dir_fd=self.dir_fd, follow_symlinks=False)


class Target(object):
    """Paths under ``root`` (``/`` for the live system)."""

    def __init__(self, root="/"):
        # the root itself is the user's choice, not the tree's: follow it
        self.root = os.path.realpath(root or "/")
        self.live = self.root == "/"
        self._given = root or "/"

    def __repr__(self):
        return "Target(%r)" % self.root

    # ---------------------------------------------------------------- names
    def display(self, path):
        """``path`` (inside the root) as the user sees it on this machine."""
        if self.live:
            return "/" + "/".join(_components(path)) if path.startswith("/") else path
        return os.path.join(self._given, path.lstrip("/"))

    def host_path(self, path, follow=True):
        """The machine's path of ``path`` after the root's own resolution:
        always inside the root.  For tools that take a file name; read
        through the Target where possible."""
        with self._resolve(path, follow) as where:
            try:
                directory = os.readlink("/proc/self/fd/%d" % where.dir_fd)
            except OSError:
                raise TargetError("%s: cannot locate it without /proc" % self.display(path))
            full = directory if where.name == "." else os.path.join(directory, where.name)
        if not self._inside(full):
            raise TargetError("%s: resolves outside %s" % (self.display(path), self.root))
        return full

    def inside(self, host_path):
        """The path inside the root of a path of this machine that lies in
        it (what ``host_path`` returned)."""
        if not self._inside(host_path):
            raise TargetError("%s: not inside %s" % (host_path, self.root))
        if self.live:
            return host_path
        return "/" + os.path.relpath(host_path, self.root) if host_path != self.root else "/"

    def _inside(self, host_path):
        return self.live or host_path == self.root or host_path.startswith(self.root + "/")

    # ----------------------------------------------------------- resolution
    def _resolve(self, path, follow=True, create=None):
        """Walk ``path`` inside the root.  Returns a ``_Resolved`` (a context
        manager closing its descriptor).  Raises Missing when a directory on
        the way does not exist (``create``: a mode to create it with, where
        the root's resolution puts it), TargetError when one is not a
        directory or the links loop."""
        if not isinstance(path, str) or not path:
            raise TargetError("%r: not a path" % (path,))
        if "\0" in path:  # no file name holds one; the system calls would raise ValueError
            raise TargetError("%r: not a path: it holds a NUL byte" % (self.display(path),))
        if self.live and create is None:
            resolved = self._resolve_live(path, follow)
            if resolved is not None:
                return resolved
        try:
            stack = [os.open(self.root, _DIR_FLAGS & ~os.O_NOFOLLOW)]
        except OSError as exc:
            raise TargetError("%s: cannot open the target root: %s" % (self._given, _reason(exc)))
        parts = _components(path)
        links = 0
        try:
            while True:
                if not parts:
                    return _Resolved(os.dup(stack[-1]), ".")
                name = parts.pop(0)
                if name == "..":
                    if len(stack) > 1:
                        os.close(stack.pop())
                    continue
                last = not parts
                try:
                    info = os.stat(name, dir_fd=stack[-1], follow_symlinks=False)
                except OSError as exc:
                    if exc.errno == errno.ENOENT and last:
                        return _Resolved(os.dup(stack[-1]), name)
                    if denied(exc):
                        raise Unreadable(self.display(path))
                    if exc.errno != errno.ENOENT:
                        raise TargetError("%s: cannot resolve: %s" % (self.display(path), _reason(exc)))
                    if create is None:
                        raise Missing("%s: no such file or directory" % self.display(path))
                    try:
                        _mkdir(name, create, stack[-1])
                        info = os.stat(name, dir_fd=stack[-1], follow_symlinks=False)
                    except OSError as exc:
                        raise TargetError("%s: cannot create %s: %s" % (
                            self.display(path), name, _reason(exc)))
                if stat.S_ISLNK(info.st_mode) and (follow or not last):
                    links += 1
                    if links > MAX_LINKS:
                        raise TargetError("%s: too many levels of symbolic links" % self.display(path))
                    target = os.readlink(name, dir_fd=stack[-1])
                    if target.startswith("/"):
                        _close(stack[1:])
                        del stack[1:]
                    parts = _components(target) + parts
                    continue
                if last:
                    return _Resolved(os.dup(stack[-1]), name)
                if not stat.S_ISDIR(info.st_mode):
                    raise TargetError("%s: %s is a %s, not a directory" % (
                        self.display(path), name, file_kind(info.st_mode)))
                try:
                    stack.append(os.open(name, _DIR_FLAGS, dir_fd=stack[-1]))
                except OSError as exc:  # replaced while we walked
                    raise TargetError("%s: cannot resolve: %s" % (self.display(path), _reason(exc)))
        finally:
            _close(stack)

    def _resolve_live(self, path, follow):
        """Under ``/`` the walk is ordinary path resolution, so the kernel
        resolves the directories in one ``open`` (the walk costs a stat and
        an open per component: a second of a verify on an emulated guest).
        None leaves the answer to the walk: an error (its messages), a last
        component that is a link to follow, or ``..``."""
        parts = _components(path)
        if not parts or parts[-1] == "..":
            return None
        try:
            dir_fd = os.open("/" + "/".join(parts[:-1]), _DIR_FLAGS & ~os.O_NOFOLLOW)
        except OSError:
            return None
        if follow:
            try:  # a link to follow
                walk = stat.S_ISLNK(os.stat(parts[-1], dir_fd=dir_fd, follow_symlinks=False).st_mode)
            except OSError as exc:  # absent is an answer; anything else is the walk's message
                walk = exc.errno != errno.ENOENT
            if walk:
                os.close(dir_fd)
                return None
        return _Resolved(dir_fd, parts[-1])

    # -------------------------------------------------------------- queries
    def lstat(self, path):
        """``os.lstat`` of ``path``'s last component (links in the
        directories above it resolved in the root); Missing when absent."""
        with self._resolve(path, follow=False) as where:
            return self._stat(where, path)

    def stat(self, path):
        """``os.stat`` of ``path`` with every link resolved in the root."""
        with self._resolve(path) as where:
            return self._stat(where, path)

    def _stat(self, where, path):
        try:
            return where.lstat()
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                raise Missing("%s: no such file or directory" % self.display(path))
            if denied(exc):
                raise Unreadable(self.display(path))
            raise TargetError("%s: cannot stat: %s" % (self.display(path), _reason(exc)))

    def _kind(self, path, follow=True):
        """The mode of ``path``, None when it is absent or unusable; a
        directory on the way that this user may not search raises
        Unreadable: "absent" would be a guess."""
        try:
            return (self.stat(path) if follow else self.lstat(path)).st_mode
        except Unreadable:
            raise
        except TargetError:
            return None

    def exists(self, path):
        return self._kind(path) is not None

    def isfile(self, path):
        mode = self._kind(path)
        return mode is not None and stat.S_ISREG(mode)

    def isdir(self, path):
        mode = self._kind(path)
        return mode is not None and stat.S_ISDIR(mode)

    def islink(self, path):
        mode = self._kind(path, follow=False)
        return mode is not None and stat.S_ISLNK(mode)

    def readlink(self, path):
        """The text of the symlink at ``path`` (directories above resolved in
        the root)."""
        with self._resolve(path, follow=False) as where:
            try:
                return os.readlink(where.name, dir_fd=where.dir_fd)
            except OSError as exc:
                raise TargetError("%s: not a symbolic link: %s" % (self.display(path), _reason(exc)))

    def is_masked(self, path):
        """systemd's masking: a symlink to ``/dev/null`` (or the null
        device itself) hides the same name in lower-priority directories.
        A relative link (``../../dev/null``, as ``ln -sr`` makes) and a chain
        of links are followed within the root, by their text: an image tree
        need not have a /dev/null of its own."""
        try:
            where = path
            for dummy in range(MAX_LINKS):
                if not self.islink(where):
                    break
                directory = self.inside(self.host_path(os.path.dirname(where)))
                # os.path.join drops the directory for an absolute text; ".." stops at the root
                where = "/" + os.path.normpath(os.path.join(directory, self.readlink(where))).lstrip("/")
                if where == "/dev/null":
                    return True
            info = self.stat(path)
        except TargetError:
            return False
        return null_device(info)

    @contextlib.contextmanager
    def _directory(self, path):
        """A descriptor of the directory ``path``; Missing when absent,
        TargetError when it is not a directory or cannot be read."""
        with self._resolve(path) as where:
            try:
                fd = os.open(where.name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | _O_CLOEXEC,
                             dir_fd=where.dir_fd)
            except OSError as exc:
                if exc.errno == errno.ENOENT:
                    raise Missing("%s: no such directory" % self.display(path))
                if exc.errno == errno.ENOTDIR:
                    raise TargetError("%s: not a directory" % self.display(path))
                if denied(exc):
                    raise Unreadable(self.display(path))
                raise TargetError("%s: cannot list: %s" % (self.display(path), _reason(exc)))
            try:
                yield fd
            except OSError as exc:
                raise TargetError("%s: cannot list: %s" % (self.display(path), _reason(exc)))
            finally:
                os.close(fd)

    def listdir(self, path):
        """Sorted names in the directory ``path``; Missing when absent,
        TargetError when it is not a directory or cannot be read."""
        with self._directory(path) as fd:
            return sorted(os.listdir(fd), key=name_order)

    def symlinks(self, path):
        """``{name: link text}`` of the symbolic links in the directory
        ``path``, from one read of it (the entries' types, no stat each);
        Missing when absent, TargetError when it is no directory."""
        found = {}
        with self._directory(path) as fd:
            for entry in os.scandir(fd):
                if entry.is_symlink():
                    try:
                        found[entry.name] = os.readlink(entry.name, dir_fd=fd)
                    except OSError:   # replaced while we read
                        continue
        return found

    # ---------------------------------------------------------------- reads
    @contextlib.contextmanager
    def open(self, path):
        """A binary file object of the regular file at ``path``.  Anything
        else raises NotRegular before it is opened (a FIFO would block, a
        device could act on being opened)."""
        with self._resolve(path) as where:
            info = self._stat(where, path)
            if not stat.S_ISREG(info.st_mode):
                kind = file_kind(info.st_mode)
                raise NotRegular("%s: is a %s, not a regular file: not read" % (
                    self.display(path), kind), kind)
            try:
                fd = os.open(where.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY
                             | _O_CLOEXEC, dir_fd=where.dir_fd)
            except OSError as exc:
                if denied(exc):
                    raise Unreadable(self.display(path))
                raise TargetError("%s: cannot read: %s" % (self.display(path), _reason(exc)))
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode):  # swapped between the check and the open
            os.close(fd)
            raise NotRegular("%s: is a %s, not a regular file: not read" % (
                self.display(path), file_kind(opened.st_mode)), file_kind(opened.st_mode))
        handle = os.fdopen(fd, "rb")
        try:
            yield handle
        finally:
            handle.close()

    def read_bytes(self, path, limit=None):
        """The content of the regular file ``path``; with ``limit``, a file
        larger than ``limit`` bytes is an error."""
        with self.open(path) as handle:
            try:
                data = handle.read() if limit is None else read_at_most(handle, limit)
            except (IOError, OSError) as exc:
                raise TargetError("%s: cannot read: %s" % (self.display(path), _reason(exc)))
        if limit is not None and len(data) > limit:
            raise TooLarge("%s: larger than %d bytes: not read" % (self.display(path), limit))
        return data

    def read_text(self, path, limit=None):
        """The file's text (UTF-8, else Latin-1: nothing a user wrote is
        lost to a decoding error)."""
        return text_of(self.read_bytes(path, limit))

    def read_optional(self, path, limit=None):
        """``read_text``, or None when the path does not exist."""
        try:
            return self.read_text(path, limit)
        except Missing:
            return None

    # --------------------------------------------------------------- writes
    def makedirs(self, path, mode=0o755):
        """Create ``path`` and its missing parents where the root's own
        resolution puts them (through the tree's links, never outside)."""
        with self._resolve(path, create=mode) as where:
            if where.name == ".":
                return
            try:
                info = where.lstat()
            except OSError:
                try:
                    _mkdir(where.name, mode, where.dir_fd)
                except OSError as exc:
                    raise TargetError("%s: cannot create the directory: %s" % (
                        self.display(path), _reason(exc)))
                return
            if not stat.S_ISDIR(info.st_mode):
                raise TargetError("%s: is a %s, not a directory" % (
                    self.display(path), file_kind(info.st_mode)))

    def write_atomic(self, path, data, mode=None, owned=False, owner=None, expected=_ANY):
        """Replace ``path`` with ``data`` (bytes or text) so that a crash
        leaves the old or the new file, never a mix.

        ``owned``: the path is the collection's own file; a symlink there is
        replaced by the file, not followed.  Otherwise links resolve in the
        root and the file they lead to is replaced.  An existing file keeps
        its mode, owner and extended attributes (its SELinux label); a new
        one gets ``mode`` (0644) and ``owner``
        (``(uid, gid)``, root's when running as root).  ``expected``: the
        content ``data`` was made from (text as ``read_text`` gives it, or
        bytes; None: no file was there); a file that holds anything else
        now (another program wrote it since it was read), other than
        ``data`` itself, is left as it is, a TargetError, never overwritten
        unseen.  Returns the replaced
        file's lstat (None when it was new)."""
        try:
            resolved = self._resolve(path, follow=not owned)
        except Missing:
            if owned or not self.islink(path):
                raise
            # "no such file" of a path that is there: say it is a link leading nowhere
            raise TargetError("%s: is a symbolic link to %s, which leads into no directory of %s: not "
                              "replaced" % (self.display(path), self.readlink(path), self.display("/")))
        with resolved as where:
            if where.name == ".":
                raise TargetError("%s: is a directory" % self.display(path))
            try:
                current = where.lstat()
            except OSError:
                current = None
            if current is not None and not (stat.S_ISREG(current.st_mode) or
                                            (owned and stat.S_ISLNK(current.st_mode))):
                raise NotRegular("%s: is a %s, not a regular file: not replaced" % (
                    self.display(path), file_kind(current.st_mode)), file_kind(current.st_mode))
            # a file that holds ``data`` already lost nothing (one file planned under two names)
            if expected is not _ANY and (current is None or stat.S_ISREG(current.st_mode)) and \
                    not _holds(where, current, expected) and not _holds(where, current, data):
                raise TargetError("%s: changed since it was read (%s): not replaced, so that nothing written "
                                  "there is lost; run again" % (
                                      self.display(path), "removed" if current is None else "another program "
                                      "wrote it" if expected is not None else "created by another program"))
            if not isinstance(data, bytes):
                data = _encode(data, where, current)
            try:
                dir_fd = os.open(".", os.O_RDONLY | os.O_DIRECTORY | _O_CLOEXEC, dir_fd=where.dir_fd)
            except OSError as exc:
                raise TargetError("%s: cannot open its directory: %s" % (self.display(path), _reason(exc)))
            try:
                self._replace(dir_fd, where.name, data, path, current, mode, owner)
            finally:
                os.close(dir_fd)
        return current

    def _replace(self, dir_fd, name, data, path, current, mode, owner):
        temporary = "%s%s.%d.%s" % (TEMP_PREFIX, name, os.getpid(), os.urandom(4).hex())
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | _O_CLOEXEC,
                         0o600, dir_fd=dir_fd)
        except OSError as exc:
            raise TargetError("%s: cannot create a file in its directory: %s" % (
                self.display(path), _reason(exc)))
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
                if current is not None and stat.S_ISREG(current.st_mode):
                    _copy_xattrs(dir_fd, name, fd)
                    os.fchmod(fd, current.st_mode & 0o7777)
                    os.fchown(fd, current.st_uid, current.st_gid)
                else:
                    os.fchmod(fd, 0o644 if mode is None else mode)
                    if owner is not None:
                        os.fchown(fd, owner[0], owner[1])
                    elif os.geteuid() == 0:
                        os.fchown(fd, 0, 0)
            finally:
                os.close(fd)
            os.rename(temporary, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except OSError as exc:
            try:
                os.unlink(temporary, dir_fd=dir_fd)
            except OSError:
                pass
            raise TargetError("%s: cannot write: %s" % (self.display(path), _reason(exc)))
        try:
            os.fsync(dir_fd)
        except OSError:
            pass  # some filesystems cannot sync a directory; the rename stands

    def symlink(self, path, value):
        """Make ``path`` a symbolic link to ``value`` (a systemd wants link),
        atomically, in the directory where the root's own resolution puts it;
        an existing link there is replaced, anything else is an error."""
        with self._resolve(path, follow=False) as where:
            if where.name == ".":
                raise TargetError("%s: is a directory" % self.display(path))
            try:
                current = where.lstat()
            except OSError:
                current = None
            if current is not None and not stat.S_ISLNK(current.st_mode):
                raise NotRegular("%s: is a %s, not a symbolic link: not replaced" % (
                    self.display(path), file_kind(current.st_mode)), file_kind(current.st_mode))
            temporary = "%s%s.%d.%s" % (TEMP_PREFIX, where.name, os.getpid(), os.urandom(4).hex())
            try:
                os.symlink(value, temporary, dir_fd=where.dir_fd)
                os.rename(temporary, where.name, src_dir_fd=where.dir_fd, dst_dir_fd=where.dir_fd)
            except OSError as exc:
                try:
                    os.unlink(temporary, dir_fd=where.dir_fd)
                except OSError:
                    pass
                raise TargetError("%s: cannot make the link: %s" % (self.display(path), _reason(exc)))

    def remove(self, path):
        """Remove the file (or symlink) at ``path``; absent is fine."""
        with self._resolve(path, follow=False) as where:
            try:
                os.unlink(where.name, dir_fd=where.dir_fd)
            except OSError as exc:
                if exc.errno != errno.ENOENT:
                    raise TargetError("%s: cannot remove: %s" % (self.display(path), _reason(exc)))

    def stale_temporaries(self, *paths):
        """The temporary files that interrupted writes of ``paths`` left
        behind, removing nothing (check mode says what a run would remove).
        Only names in the format ``_replace`` writes
        (``.guestready-<name>.<pid>.<8 hex digits>``) are temporaries;
        anything else is someone's file.  One whose process still runs is
        another run's write in progress, not stale.  Each directory is
        listed once, however many of its files are asked about."""
        wanted = {}
        for path in paths:
            directory, name = os.path.split("/" + "/".join(_components(path)))
            wanted.setdefault(directory, set()).add(name)
        stale = []
        for directory in sorted(wanted):
            try:
                names = self.listdir(directory)
            except TargetError:
                continue
            for entry in names:
                if not entry.startswith(TEMP_PREFIX) or entry.count(".") < 3:
                    continue
                name, pid, tag = entry[len(TEMP_PREFIX):].rsplit(".", 2)
                if name not in wanted[directory] or ascii_int(pid) is None or len(tag) != 8 or \
                        tag.strip("0123456789abcdef"):
                    continue
                if ascii_int(pid) != os.getpid() and _process_alive(ascii_int(pid)):
                    continue
                stale.append(os.path.join(directory, entry))
        return stale

    def remove_stale_temporaries(self, *paths):
        """Remove the ``stale_temporaries`` of ``paths``; their displayed
        paths.  Call it under ``lock()``: then no other run is writing, and
        a temporary whose process is gone is stale."""
        removed = []
        for stale in self.stale_temporaries(*paths):
            try:
                self.remove(stale)
                removed.append(self.display(stale))
            except TargetError:
                pass
        return removed

    # -------------------------------------------------------------- locking
    @contextlib.contextmanager
    def lock(self, timeout=300, on_wait=None, poll=0.2):
        """Hold the target's advisory lock: one writer at a time per root.

        ``on_wait(message)`` is called once when another run holds it; after
        ``timeout`` seconds TargetError names that run's process.  Yields the
        seconds spent waiting."""
        try:
            fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | _O_CLOEXEC)
        except OSError as exc:
            raise TargetError("%s: cannot open the target root: %s" % (self._given, _reason(exc)))
        started = time.time()
        try:
            told = False
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except (IOError, OSError) as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                        raise TargetError("%s: cannot lock: %s" % (self._given, _reason(exc)))
                holder = lock_holder(fd)
                waited = time.time() - started
                if waited >= timeout:
                    raise TargetError(
                        "%s: another guestready.gce run%s has held the lock for more than %d s; "
                        "wait for it to finish, or raise the lock timeout" % (
                            self._given, " (pid %s)" % holder if holder else "", timeout))
                if not told and on_wait:
                    on_wait("waiting for another guestready.gce run%s that is changing %s" % (
                        " (pid %s)" % holder if holder else "", self._given))
                    told = True
                time.sleep(poll)
            yield time.time() - started
        finally:
            os.close(fd)  # closing the descriptor releases the lock


def lock_holder(fd, locks_path="/proc/locks"):
    """The pid holding a flock on the file of ``fd`` (from /proc/locks), or
    None when it cannot be told."""
    info = os.fstat(fd)
    wanted = "%02x:%02x:%d" % (os.major(info.st_dev), os.minor(info.st_dev), info.st_ino)
    try:
        with open(locks_path) as handle:
            for line in handle:
                fields = line.split()
                # "1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF"; blocked waiters carry "->"
                if "->" in fields or len(fields) < 6 or fields[1] != "FLOCK":
                    continue
                if fields[5] == wanted and ascii_int(fields[4]) not in (None, os.getpid()):
                    return ascii_int(fields[4])
    except (IOError, OSError):
        pass
    return None


def _process_alive(pid):
    try:
        os.kill(pid, 0)
    except OSError as exc:
        return exc.errno == errno.EPERM
    return True
