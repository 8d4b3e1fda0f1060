# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The initramfs reader: which files, and which kernel modules, an initramfs
image carries.

One reader for every module (kernel options, hardware drivers)::

    find_initramfs(release, root="/")  -> path inside the root, or None
    not_found(release, root="/")       -> (status, message) when there is none
    list_files(path, target=None)      -> (files, method, error)
    kernel_modules(path, target=None, release=None)  -> (names, method, error)
    modprobe_config(path, target=None) -> [(member, text)] of its modprobe.d, or None

``files``/``names`` are None when the image could not be inspected; ``error``
then says why, naming the file.  "Could not inspect" is never a pass.

A standard-library reader walks the image as the kernel does
(init/initramfs.c): a sequence of cpio "newc"/"crc" archives, each either
plain or compressed, separated by NUL padding -- typically an uncompressed
early-microcode archive followed by the compressed main one.  gzip, xz, lzma
and bzip2 are decompressed in Python, lzo too (``unlzo``) unless there is an
``lzop`` command; zstd and lz4 through the ``zstd``/``lz4`` command.  The
distribution's lister (``lsinitramfs`` from initramfs-tools, ``lsinitrd``
from dracut) is used for what that reader cannot read.  The reader goes first because it is faster where it counts: on
a Compute-Engine-like TCG guest, Debian 12's 13 MB zstd initramfs took 9.4 s
with it and 30.6 s with lsinitramfs (a shell script forking per member); both
list the same members (tests/image/test_kernel_image.py checks they agree).
"""

import bz2
import contextlib
import errno
import hashlib
import json
import lzma
import os
import posixpath
import re
import shutil
import stat
import struct
import subprocess
import tempfile
import zlib

from ansible_collections.guestready.gce.plugins.module_utils import bootloader, kernel_cmdline, modprobe, runcache, uki, unlzo
from ansible_collections.guestready.gce.plugins.module_utils.kernel_tree import flavor
from ansible_collections.guestready.gce.plugins.module_utils.privilege import unreadable
from ansible_collections.guestready.gce.plugins.module_utils.target import (
    Missing, Target, TargetError, Unreadable)

CHUNK = 1024 * 1024
LISTER_TIMEOUT = 300
MAX_NAME = 4096
# decompressed bytes one image may inflate to; real ones are well under 1 GiB,
# and a compressed bomb must not keep the reader busy (or the memory full)
MAX_INFLATED = 2 * 1024 * 1024 * 1024

CPIO_MAGICS = (b"070701", b"070702")
HEADER_FIELDS = re.compile(rb"[0-9A-Fa-f]{104}\Z")   # 13 fields of 8 hex digits, nothing else
COMPRESSIONS = (
    (b"\x1f\x8b", "gzip"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x5d\x00", "lzma"),           # two bytes, as lib/decompress.c: a 4 KiB dictionary is 5d 00 10 00 00
    (b"BZh", "bzip2"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"\x02\x21\x4c\x18", "lz4"),   # legacy frame, what the kernel's lz4 initramfs uses
    (b"\x89LZO", "lzo"),
)
COMMANDS = {"zstd": ["zstd", "-dcq"], "lz4": ["lz4", "-dcq"], "lzo": ["lzop", "-dcq"]}
LISTERS = ("lsinitramfs", "lsinitrd")
MODULE = re.compile(r"^(.+)\.ko(?:\.(?:xz|zst|gz))?$")
MODULES_UNDER = re.compile(r"^(?:usr/)?lib/modules/([^/]+)/")
# `lsinitrd` prints `ls -l` lines (cpio -tv)
LS_LINE = re.compile(r"^[-dlcbps][-rwxsStT]{9}\S*\s+\d+\s+\S+\s+\S+\s+(?:\d+,\s*)?\d+\s+"
                     r"\S+\s+\d+\s+[\d:]+\s+(.+)$")


class InitramfsError(Exception):
    """The image could not be read; the message names the file."""


class NoArchive(InitramfsError):
    """The file holds no byte of any archive (empty, or only NUL bytes): no
    lister can do better, and one given gigabytes of zeros scans them all."""


class NotForTheKernel(InitramfsError):
    """A segment the kernel cannot unpack although a lister could list it (an
    lz4 frame): what the lister would show never reaches the initramfs."""


# lz4's frame format: the kernel reads only the legacy one (lib/decompress.c
# knows the magic 02 21, lib/decompress_unlz4.c fails on any other header)
LZ4_FRAME = b"\x04\x22\x4d\x18"


NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")


def initramfs_candidates(release, root="/"):
    """Where kernel ``release``'s initramfs may be inside ``root`` (a path or
    a Target), in the order tried: Debian's ``/boot/initrd.img-<release>``,
    dracut's ``/boot/initramfs-<release>.img``, SUSE's ``/boot/initrd-<release>``,
    Arch's ``/boot/initramfs-<pkgbase>.img`` (mkinitcpio's preset, with the
    package name from ``/usr/lib/modules/<release>/pkgbase``) and Alpine's
    ``/boot/initramfs-<flavor>`` (mkinitfs: the release's last dash-separated
    part, ``6.6.31-0-virt``: ``virt``), then kernel-install's
    ``<boot>/<entry token>/<release>/initrd`` (``_kernel_install_paths``)."""
    target = root if isinstance(root, Target) else Target(root)
    paths = ["/boot/" + name % release for name in ("initrd.img-%s", "initramfs-%s.img", "initrd-%s")]
    for directory in ("/usr/lib/modules", "/lib/modules"):
        try:
            pkgbase = target.read_bytes("%s/%s/pkgbase" % (directory, release), limit=256)
        except TargetError:
            continue
        name = pkgbase.decode("utf-8", "replace").strip()
        if NAME.match(name):
            paths.append("/boot/initramfs-%s.img" % name)
        break
    name = flavor(release)
    if name:
        paths.append("/boot/initramfs-%s" % name)
    return paths + _kernel_install_paths(target, release)


# kernel-install (systemd-boot, Fedora's and Arch's sd-boot layouts) puts a
# kernel's initrd at $BOOT/<entry token>/<release>/initrd, $BOOT the XBOOTLDR
# partition or the ESP, the token the machine ID or the os-release ID (an
# image's machine ID is emptied): each token directory holding the release
KERNEL_INSTALL_BASES = ("/boot", "/efi", "/boot/efi")


def _kernel_install_paths(target, release):
    paths = []
    for base in KERNEL_INSTALL_BASES:
        try:
            names = target.listdir(base)
        except TargetError:
            continue
        for token in names:
            path = "%s/%s/%s/initrd" % (base, token, release)
            if NAME.match(token) and target.isdir(posixpath.dirname(path)):
                paths.append(path)
    return paths


def find_initramfs(release, root="/"):
    """The initramfs of kernel ``release`` inside ``root`` (a path or a
    Target), the first of ``initramfs_candidates`` there, else the unified
    kernel image of that release (its .uname) carrying one, as a path inside
    the root; None when there is none."""
    if not release:
        return None
    target = root if isinstance(root, Target) else Target(root)
    for path in initramfs_candidates(release, target):
        if target.exists(path):
            return path
    return _uki_of(target, release)


def not_found(release, root="/"):
    """``(status, message)`` for an ``=m`` driver of ``release`` when no
    initramfs of it was found (KCONF-* and HW-* say the same): a module is
    loaded at boot only from an initramfs, so with no initramfs in /boot at
    all it is missing from it; when /boot holds an image under another name
    it may be this kernel's: unknown, naming it."""
    target = root if isinstance(root, Target) else Target(root)
    looked = ", ".join(target.display(path) for path in initramfs_candidates(release, target))
    try:
        names = target.listdir("/boot")
    except Unreadable as exc:
        return "unknown", "no initramfs of %s found (looked for %s); %s" % (release, looked, exc)
    except TargetError:
        names = []
    others = [name for name in names if name.startswith(("initrd", "initramfs"))]
    ukis = _unified_images(target)
    if ukis:
        # a UKI carries its initramfs in its .initrd section: none in /boot is no "missing" then
        return "unknown", ("no initramfs of %s found (looked for %s); %s may be a unified kernel image "
                           "carrying its own initramfs, not read here: extract it "
                           "(objcopy --dump-section .initrd=FILE) and give FILE with the initramfs option" % (release, looked, ", ".join(ukis[:5])))
    if others:
        return "unknown", ("no initramfs of %s found (looked for %s); %s holds %s, which may be it: "
                           "give it with the initramfs option" % (
                               release, looked, target.display("/boot"), ", ".join(others[:5])))
    return "module-missing-from-initramfs", (
        "no initramfs of %s (looked for %s; %s holds none): a module is loaded at boot only "
        "from an initramfs" % (release, looked, target.display("/boot")))


# the Boot Loader Specification's type #2 entries: $BOOT/EFI/Linux/*.efi, $BOOT the ESP
# (mounted on /efi, /boot or /boot/efi) or the XBOOTLDR partition (/boot)
UKI_DIRS = bootloader.SD_BOOT_UKI_DIRS


def _uki_files(target):
    """Paths inside ``target`` of the unified kernel images (UKIs) there."""
    found = []
    for directory in UKI_DIRS:
        try:
            names = target.listdir(directory)
        except TargetError:
            continue
        found += ["%s/%s" % (directory, name) for name in sorted(names) if name.lower().endswith(".efi")]
    return found


def _unified_images(target):
    """Displayed paths of the unified kernel images (UKIs) inside ``target``."""
    return [target.display(path) for path in _uki_files(target)]


# A UKI is a PE file (uki.py reads it): systemd-stub hands its .initrd section to the kernel
# as the initramfs; its .uname section (ukify, systemd 253 on) is the release
def _uki_of(target, release):
    """The UKI inside ``target`` whose .uname is ``release`` and that carries
    an initramfs (a .initrd section), or None."""
    for path in _uki_files(target):
        try:
            with target.open(path) as handle:
                sections = uki.sections_of(handle, path)
                if sections and ".initrd" in sections and uki.uname(handle, sections, path) == release:
                    return path
        except (TargetError, IOError, OSError, uki.UkiError):
            continue
    return None


@contextlib.contextmanager
def _opened(path, target):
    """The initramfs ``path`` inside ``target`` opened once, by the root's
    own resolution and only as a regular file: yields ``(handle, name)``,
    where ``name`` is ``/proc/<pid>/fd/<n>``, this very open file, for the
    reader and the listers (the lister runs while it is open).  The file is
    never looked up by its name again, so a tree changed meanwhile cannot
    swap another file in."""
    with target.open(path) as handle:
        name = "/proc/%d/fd/%d" % (os.getpid(), handle.fileno())
        yield handle, name if os.path.exists(name) else target.host_path(path)


def _cannot_open(exc, shown, why):
    """The error of a TargetError met opening ``shown``."""
    if isinstance(exc, Missing):
        return "%s: no such file" % shown
    if isinstance(exc, Unreadable):
        return unreadable(shown, why)
    return str(exc)


def _normalize(name):
    name = name.strip()
    while name.startswith("./"):
        name = name[2:]
    return name.lstrip("/")


# --------------------------------------------------------------------------
# the standard-library reader
# --------------------------------------------------------------------------

class _Truncated(Exception):
    pass


class _Stream(object):
    """Bytes pulled from an iterator of chunks, counting what was consumed."""

    def __init__(self, chunks, offset=0, seek=None):
        """``seek(offset)``: the chunks' source, a file, repositioned there
        (``skip`` then passes over an entry's data without reading it)."""
        self.chunks = iter(chunks)
        self.buf = bytearray()
        self.offset = offset
        self.seek = seek

    def _fill(self, size):
        while len(self.buf) < size:
            try:
                chunk = next(self.chunks)
            except StopIteration:
                return False
            self.buf += chunk
        return True

    def peek(self, size):
        self._fill(size)
        return bytes(self.buf[:size])

    def read(self, size):
        if not self._fill(size):
            raise _Truncated()
        data = bytes(self.buf[:size])
        del self.buf[:size]
        self.offset += size
        return data

    def skip(self, size):
        if self.seek is not None and size > len(self.buf):
            self.offset += size
            del self.buf[:]
            self.seek(self.offset)   # past the end: the next read finds nothing
            return
        while size:
            if not self.buf and not self._fill(1):
                raise _Truncated()
            step = min(size, len(self.buf))
            del self.buf[:step]
            self.offset += step
            size -= step

    def skip_zeros(self, past_holes=None):
        """Skip NUL padding; False at the end of the stream.  ``past_holes``:
        given the offset reached, where the next data is (the stream's
        source seeked there), so that a sparse file's holes are not read."""
        while True:
            if not self.buf and not self._fill(1):
                return False
            stripped = len(self.buf) - len(self.buf.lstrip(b"\x00"))
            if stripped < len(self.buf):
                del self.buf[:stripped]
                self.offset += stripped
                return True
            self.offset += len(self.buf)
            del self.buf[:]
            if past_holes:
                self.offset = past_holes(self.offset)


class _Members(list):
    """Member paths, and in ``config`` the text of the modprobe.d files among
    them (``{path: text}``): the initramfs's own copy of modprobe's
    configuration, what udev in the initramfs loads modules by.  ``kinds``
    and ``links``: each path's file type and, for a symbolic link, its
    target, as its last entry left them (the kernel unpacks the archives in
    order, a later entry replacing an earlier one of the same name:
    init/initramfs.c, clean_path); ``wanted``: other paths whose text is kept
    (the targets of modprobe.d links)."""

    def __init__(self, wanted=()):
        list.__init__(self)
        self.config = {}
        self.config_size = 0
        self.kinds = {}
        self.links = {}
        self.wanted = frozenset(wanted)

    def keeps(self, name):
        """Whether the text of regular file ``name`` is kept."""
        return self.config is not None and (_modprobe_member(name) or _by_name_member(name) or name in self.wanted)

    def add_entry(self, name, mode, link=None):
        self.kinds[name] = stat.S_IFMT(mode)
        if link is None:
            self.links.pop(name, None)
        else:
            self.links[name] = link

    def add_config(self, name, text):
        """Keep a modprobe.d file; past MAX_CONFIG bytes in all, none is
        kept (``config`` None: not known), so a hostile image holds no memory."""
        self.config_size += len(text)
        if self.config is not None and self.config_size <= MAX_CONFIG:
            self.config[name] = text
        else:
            self.config = None


# the kernel follows at most 40 symbolic links in one lookup (MAXSYMLINKS, include/linux/namei.h)
MAX_LINKS = 40
# path components _linked_config walks in all, every lookup together: 40 links of 4 KiB
# targets each, or thousands of links to one such chain, stay bounded (real images: dozens)
MAX_STEPS = 1000000


class _TooManySteps(Exception):
    pass


def _follow(members, name, budget=None, directory=False):
    """``(kind, path)`` of what member ``name`` leads to inside the archive,
    following symbolic links as a lookup in the unpacked initramfs would: an
    absolute target from the archive's root, a relative one from the link's
    directory, ``..`` at the root staying there, at most MAX_LINKS links.
    ``kind`` is the S_IFMT of the member reached, None when there is none
    (dangling, a loop, a path through a non-directory).  A directory the
    archive names no entry of is taken to exist when something is under it
    (the lookup finds the member or fails at the end anyway).  ``budget``:
    ``[components left]``, shared by lookups; _TooManySteps when spent.  With
    ``directory``, the last component too is taken to be a directory when
    something is under it (S_IFDIR)."""
    # ``pending``: the components still to walk, the next one last; ``done``: the path
    # reached at each component walked, None past MAX_NAME (no member is named so long)
    done, pending, links = [], name.split("/")[::-1], 0
    while pending:
        part = pending.pop()
        if budget is not None:
            budget[0] -= 1
            if budget[0] < 0:
                raise _TooManySteps()
        if part in ("", "."):
            continue
        if part == "..":
            del done[-1:]
            continue
        parent = done[-1] if done else ""
        path = None if parent is None or len(parent) + len(part) >= MAX_NAME else (
            parent + "/" + part if parent else part)
        kind = members.kinds.get(path)
        if kind == stat.S_IFLNK:
            links += 1
            target = members.links.get(path)
            if links > MAX_LINKS or not target:
                return None, None
            if target.startswith("/"):
                done = []
            pending.extend(target.split("/")[::-1])
            continue
        if kind is None and not pending and not (directory and path is not None and _has_under(members, path)):
            return None, None
        if kind is not None and kind != stat.S_IFDIR and pending:
            return None, None   # a path through a file: ENOTDIR
        done.append(path)
    if not done:
        return stat.S_IFDIR, ""
    return members.kinds.get(done[-1], stat.S_IFDIR if directory else None), done[-1]


def _has_under(members, path):
    prefix = path + "/"
    return any(name.startswith(prefix) for name in members.kinds)


def _config_members(members, budget):
    """``[(name, member)]``: each modprobe.d file kmod opens as ``name`` (a
    CONFIG_DIRS path) and the member path it opens (the same, or through a
    linked directory).  kmod opendir()s each directory, following links
    (libkmod-config.c conf_files_list): a CONFIG_DIRS directory, or one of its
    parents, that is a link inside the archive lists the directory it leads
    to.  With a merged /usr (lib -> usr/lib) lib/modprobe.d lists the files of
    usr/lib/modprobe.d again: same names, same texts, and kmod (and
    modprobe_texts) keep the first directory's."""
    found = [(name, name) for name in members.kinds if _modprobe_member(name)]
    for folder in CONFIG_DIRS:
        reached, path = _follow(members, folder, budget, directory=True)
        if reached != stat.S_IFDIR or path == folder:
            continue
        prefix = path + "/" if path else ""
        for name in members.kinds:
            base = name[len(prefix):]
            if (name.startswith(prefix) and "/" not in base and base.endswith((".conf", ".alias"))
                    and folder + "/" + base not in members.kinds):
                found.append((folder + "/" + base, name))
    return found


def _linked_config(members, reread):
    """The ``config`` of ``members`` with its modprobe.d links followed: a
    link to a regular file in the archive reads as that file (kmod opens the
    name, following the link); one that leads nowhere in the archive, or to
    /dev (a devtmpfs at boot: /dev/null masks), configures nothing yet still
    hides the name in later directories, as on disk; one to a directory is
    skipped by kmod (libkmod-config.c, conf_files_filter_out).  ``reread(wanted)``:
    the texts of paths ``wanted``, from reading the image again (None when
    too big); needed only for link targets outside modprobe.d.  None (not
    known) when the links take more than MAX_STEPS components to follow."""
    if members.config is None:
        return None
    config, wanted, budget = {}, {}, [MAX_STEPS]
    try:
        found = _config_members(members, budget)
    except _TooManySteps:
        return None
    for name, member in found:
        kind = members.kinds[member]
        if kind == stat.S_IFREG:
            if member in members.config or member == name:
                config[name] = members.config.get(member, "")
            else:
                config[name], wanted[name] = "", member
        elif kind == stat.S_IFLNK:
            try:
                reached, path = _follow(members, member, budget)
            except _TooManySteps:
                return None
            if reached == stat.S_IFDIR:
                continue
            config[name] = ""
            if reached == stat.S_IFREG and not path.startswith("dev/"):
                if path in members.config:
                    config[name] = members.config[path]
                else:
                    wanted[name] = path
    if wanted:
        texts = reread(set(wanted.values()))
        if texts is None:
            return None
        for name, path in wanted.items():
            config[name] = texts.get(path, "")
    # the lists of modules loaded by name, as the generator writes them: regular files
    config.update((name, text) for name, text in members.config.items()
                  if _by_name_member(name) and members.kinds.get(name) == stat.S_IFREG)
    return config


# the directories kmod reads (modprobe.CONF_DIRS) as member paths
CONFIG_DIRS = ("etc/modprobe.d", "run/modprobe.d", "usr/local/lib/modprobe.d", "usr/lib/modprobe.d",
               "lib/modprobe.d")
MAX_CONFIG = 1024 * 1024   # bytes of modprobe.d files kept from one image


def _modprobe_member(name):
    directory, dummy, base = name.rpartition("/")
    return directory in CONFIG_DIRS and base.endswith((".conf", ".alias"))


# what the initramfs loads by name, before udev, with ``modprobe <name>``:
# initramfs-tools' conf/modules (/etc/initramfs-tools/modules; scripts/functions,
# load_modules: ``modprobe $m`` for each line not empty nor a comment) and
# dracut's rd.driver.pre= in etc/cmdline.d/*.conf or etc/cmdline (force_drivers:
# dracut.sh writes 20-force_drivers.conf; 80base/dracut-lib.sh getcmdline reads
# them, and parse-kernel.sh and dracut-pre-udev.sh run ``modprobe "$p"`` for
# each comma-separated name)
BY_NAME_LIST = "conf/modules"
BY_NAME_CMDLINE = "etc/cmdline"
BY_NAME_CMDLINE_DIR = "etc/cmdline.d"


def _by_name_member(name):
    directory, dummy, base = name.rpartition("/")
    return name in (BY_NAME_LIST, BY_NAME_CMDLINE) or directory == BY_NAME_CMDLINE_DIR and base.endswith(".conf")


def loaded_by_name(config):
    """``{module: member}``: the modules an initramfs whose kept files are
    ``config`` (``_Members.config``) loads by name, each with the member
    saying so; names with ``-`` written ``_``, as kmod normalises them."""
    found = {}
    for member in sorted(config or ()):
        if member == BY_NAME_LIST:
            # the first word is the module, the rest its parameters (``modprobe $m``)
            names = [line.split()[0] for line in config[member].splitlines()
                     if line.strip() and not line.strip().startswith("#")]
        elif _by_name_member(member):
            words = kernel_cmdline.parameters(" ".join(config[member].splitlines()))
            names = [name for key, value in words if key == "rd.driver.pre" and value for name in value.split(",")]
        else:
            continue
        for name in names:
            module = modprobe.module_name(name)
            if module and not name.startswith("-"):
                found.setdefault(module, member)
    return found


def modprobe_texts(config):
    """``[(member path, text)]`` of an initramfs's modprobe.d files in kmod's
    order: by file name, a name in an earlier directory hiding it in later ones."""
    chosen = {}
    for directory in CONFIG_DIRS:
        for name in sorted(config):
            folder, dummy, base = name.rpartition("/")
            if folder == directory and base not in chosen:
                chosen[base] = name
    return [(chosen[base], config[chosen[base]]) for base in sorted(chosen)]


def _pad4(offset):
    return (4 - offset % 4) % 4


def _parse_archive(stream, names, where):
    """One cpio newc/crc archive up to its TRAILER!!! entry."""
    while True:
        start = stream.offset
        try:
            header = stream.read(110)
        except _Truncated:
            raise InitramfsError("truncated cpio archive (%s, offset %d)" % (where, start))
        if header[:6] not in CPIO_MAGICS:
            raise InitramfsError("corrupt cpio archive: bad header magic %r (%s, offset %d)"
                                 % (header[:6], where, start))
        if not HEADER_FIELDS.match(header[6:]):
            # int(x, 16) would take a sign, spaces or "0x": a negative size went backwards
            raise InitramfsError("corrupt cpio archive: bad header (%s, offset %d)" % (where, start))
        fields = [int(header[6 + 8 * i:14 + 8 * i], 16) for i in range(13)]
        filesize, namesize = fields[6], fields[11]
        if namesize < 1 or namesize > MAX_NAME:
            raise InitramfsError("corrupt cpio archive: name size %d (%s, offset %d)"
                                 % (namesize, where, start))
        try:
            name = stream.read(namesize)
            stream.skip(_pad4(stream.offset))
            name = name.rstrip(b"\x00").decode("utf-8", "replace")
            if name == "TRAILER!!!":
                return
            name = _normalize(name)
            kind, link = stat.S_IFMT(fields[1]), None
            keeps = getattr(names, "keeps", None)
            if keeps is not None and kind == stat.S_IFLNK and filesize <= MAX_NAME:
                # a link's data is its target (the kernel skips a longer one: do_header)
                link = stream.read(filesize).split(b"\x00", 1)[0].decode("utf-8", "replace")
            elif keeps is not None and kind == stat.S_IFREG and keeps(name):
                data = stream.read(min(filesize, MAX_CONFIG + 1))
                stream.skip(filesize - len(data))
                names.add_config(name, data.decode("utf-8", "replace"))
            else:
                stream.skip(filesize)
            if keeps is not None and name and name != ".":
                names.add_entry(name, fields[1], link)
            stream.skip(_pad4(stream.offset))
        except _Truncated:
            raise InitramfsError("truncated cpio archive (%s, in the entry at offset %d)"
                                 % (where, start))
        if name and name != ".":
            names.append(name)


def _parse_stream(stream, names, where):
    """Every archive of a decompressed stream (NUL padding between them)."""
    archives = 0
    while stream.skip_zeros():
        if stream.peek(6) not in CPIO_MAGICS:
            if archives:
                raise InitramfsError("unexpected data after cpio archive %d (%s, offset %d)"
                                     % (archives, where, stream.offset))
            raise InitramfsError("no cpio archive in the decompressed data (%s)" % where)
        _parse_archive(stream, names, where)
        archives += 1
    if not archives:
        raise InitramfsError("no cpio archive in the decompressed data (%s)" % where)


def _decompressor(kind):
    if kind == "lzo":
        return unlzo.Decompressor()
    if kind == "gzip":
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if kind == "xz":
        return lzma.LZMADecompressor(lzma.FORMAT_XZ)
    if kind == "lzma":
        return lzma.LZMADecompressor(lzma.FORMAT_ALONE)
    return bz2.BZ2Decompressor()


def _pieces(decompressor, data):
    """The output of feeding ``data``, in pieces of at most CHUNK bytes (a
    small input can inflate to gigabytes: never all at once)."""
    zlib_like = hasattr(decompressor, "unconsumed_tail")
    while True:
        out = decompressor.decompress(data, CHUNK)
        if out:
            yield out
        if decompressor.eof:
            return
        if zlib_like:
            data = decompressor.unconsumed_tail
            if not data and len(out) < CHUNK:
                return
        elif decompressor.needs_input:
            return
        else:
            data = b""


def _inflated(budget, size, where, stop=None):
    """Count ``size`` more decompressed bytes against the image's MAX_INFLATED
    (``budget``: ``{"out": bytes so far}``); ``stop()`` first when over."""
    budget["out"] += size
    if budget["out"] > MAX_INFLATED:
        if stop:
            stop()
        raise InitramfsError("%s inflates to more than %d MiB (with the segments before it): not "
                             "read further" % (where, MAX_INFLATED // 1048576))


def _python_segment(handle, offset, kind, names, budget):
    """Decompress the segment at ``offset``; returns the compressed bytes used."""
    decompressor = _decompressor(kind)
    state = {"fed": 0, "out": 0}
    where = "%s data at offset %d" % (kind, offset)

    def chunks():
        handle.seek(offset)
        while not decompressor.eof:
            data = handle.read(CHUNK)
            if not data:
                return
            state["fed"] += len(data)
            for out in _pieces(decompressor, data):
                state["out"] += len(out)
                _inflated(budget, len(out), where)
                yield out

    generator = chunks()
    try:
        _parse_stream(_Stream(generator), names, where)
        for dummy in generator:   # a stream may end before its compressed container
            pass
    except (zlib.error, lzma.LZMAError, OSError, EOFError, ValueError) as exc:
        raise InitramfsError("corrupt %s (%s)" % (where, exc))
    except InitramfsError:
        if not state["out"] and not decompressor.eof:
            # the file ended before the stream gave a byte: truncated, not "no cpio archive"
            raise InitramfsError("truncated %s: the compressed stream ends early" % where)
        raise
    if not decompressor.eof:
        raise InitramfsError("truncated %s: the compressed stream ends early" % where)
    return state["fed"] - len(decompressor.unused_data)


def _lzo_segment(path, handle, offset, size, names, budget):
    """Read the lzo segment at ``offset``; ``(compressed bytes used, how)``.
    Its length and block layout are the kernel's (unlzo.stream_length);
    ``lzop`` decompresses it when there is one (some 15 times faster than
    Python: 0.18 s against 2.6 s for 40 MB), else unlzo does."""
    where = "lzo data at offset %d" % offset
    try:
        length = unlzo.stream_length(handle, offset, size)
    except unlzo.LzoError as exc:
        raise InitramfsError("corrupt %s (%s)" % (where, exc))
    if length is not None and shutil.which(COMMANDS["lzo"][0]):
        _command_segment(path, offset, "lzo", names, length, budget)
        return length, "lzo(command)"
    return _python_segment(handle, offset, "lzo", names, budget), "lzo"


def _zstd_length(handle, offset, size):
    """The length of the zstd frames (and skippable frames) starting at
    ``offset``, walked from their headers (RFC 8878, section 3.1) without
    decompressing; None when they do not end inside the file."""
    end = offset
    while end + 4 <= size:
        handle.seek(end)
        magic = struct.unpack("<I", handle.read(4))[0]
        if 0x184D2A50 <= magic <= 0x184D2A5F:          # skippable frame
            raw = handle.read(4)
            if len(raw) < 4:
                return None
            end += 8 + struct.unpack("<I", raw)[0]
            continue
        if magic != 0xFD2FB528:
            break
        descriptor = handle.read(1)
        if not descriptor:
            return None
        flags = descriptor[0]
        single = flags & 0x20
        fcs = (0, 2, 4, 8)[flags >> 6] or (1 if single else 0)
        position = end + 5 + (0 if single else 1) + (0, 1, 2, 4)[flags & 3] + fcs
        while True:
            handle.seek(position)
            raw = handle.read(3)
            if len(raw) < 3:
                return None
            header = raw[0] | raw[1] << 8 | raw[2] << 16
            kind, length = (header >> 1) & 3, header >> 3
            if kind == 3:                               # reserved block type: corrupt
                return None
            position += 3 + (1 if kind == 1 else length)
            if header & 1:                              # last block
                break
        end = position + (4 if flags & 4 else 0)
    return end - offset if offset < end <= size else None


def _lz4_length(handle, offset, size):
    """The length of the legacy lz4 stream at ``offset``, the only lz4 format
    the kernel unpacks (magic 184C2102, then compressed chunks each after its
    32-bit size, to the end of the file, a zero size -- NUL padding -- or the
    next segment); None when that cannot be told."""
    handle.seek(offset)
    if struct.unpack("<I", handle.read(4))[0] != 0x184C2102:
        return None
    position = offset + 4
    while position + 4 <= size:
        handle.seek(position)
        chunk = struct.unpack("<I", handle.read(4))[0]
        if chunk == 0x184C2102:                     # a concatenated legacy stream
            position += 4
            continue
        if chunk == 0:                              # padding: the stream ended
            break
        if position + 4 + chunk > size:
            return None
        position += 4 + chunk
    return position - offset


def _command_segment(path, offset, kind, names, length, budget):
    """Decompress ``length`` bytes from ``offset`` (None: everything to the
    end) with the kind's command.  The kernel skips NUL padding after an
    archive; the commands do not, so when they fail on a file that ends in
    NULs they are given it once more without them (a stream that itself ends
    in zero bytes succeeds the first time)."""
    argv = COMMANDS[kind]
    exe = shutil.which(argv[0])
    if not exe:
        raise InitramfsError("could not inspect: %s-compressed (offset %d) and no `%s` command "
                             "on this host (Python cannot decompress %s)"
                             % (kind, offset, argv[0], kind))
    first = len(names)
    if length is not None:
        _run_command([exe] + argv[1:], path, offset, offset + length, kind, names, budget)
        return
    try:
        _run_command([exe] + argv[1:], path, offset, None, kind, names, budget)
    except InitramfsError:
        end = _end_without_padding(path, offset)
        if end is None:
            raise
        del names[first:]
        try:
            _run_command([exe] + argv[1:], path, offset, end, kind, names, budget)
        except InitramfsError:
            del names[first:]
            _run_command([exe] + argv[1:], path, offset, None, kind, names, budget)  # its own error


def _end_without_padding(path, offset):
    """The offset where trailing NUL padding starts, None without any."""
    with open(path, "rb") as handle:
        end = handle.seek(0, os.SEEK_END)
        while end > offset:
            start = max(offset, end - CHUNK)
            handle.seek(start)
            stripped = len(handle.read(end - start).rstrip(b"\x00"))
            if stripped:
                end = start + stripped
                break
            end = start
    size = os.path.getsize(path)
    return end if end < size else None


def _copy(source, destination, size):
    """Copy up to ``size`` bytes from ``source``'s position, in CHUNK steps."""
    left = size
    while left:
        data = source.read(min(CHUNK, left))
        if not data:
            break
        destination.write(data)
        left -= len(data)


def _run_command(argv, path, offset, end, kind, names, budget):
    """Feed bytes ``offset`` to ``end`` (None: the end of the file) to
    ``argv`` and parse what it prints."""
    where = "%s data at offset %d" % (kind, offset)
    with open(path, "rb") as source, tempfile.TemporaryFile() as errors, \
            tempfile.TemporaryFile() as part:
        source.seek(offset)
        if end is not None:
            _copy(source, part, end - offset)
            part.seek(0)
        proc = subprocess.Popen(argv, stdin=source if end is None else part,
                                stdout=subprocess.PIPE, stderr=errors)
        counted = dict(budget)   # a retry of this segment counts it once

        def chunks():
            while True:
                data = proc.stdout.read(CHUNK)
                if not data:
                    return
                _inflated(counted, len(data), where, stop=proc.kill)
                yield data

        failure = None
        try:
            _parse_stream(_Stream(chunks()), names, where)
        except InitramfsError as exc:
            failure = exc
            if "inflates to more than" not in str(exc):
                try:
                    for dummy in chunks():   # let the command finish: its verdict comes first
                        pass
                except InitramfsError as exc:
                    failure = exc
        finally:
            proc.stdout.close()
            code = proc.wait()
        errors.seek(0)
        message = " ".join(errors.read().decode("utf-8", "replace").split())
    if failure is not None and "inflates to more than" in str(failure):
        raise failure
    if code != 0:
        # the command's complaint (truncated, corrupt) explains a parse failure too
        raise InitramfsError("corrupt or truncated %s (%s: %s)"
                             % (where, os.path.basename(argv[0]), message or "exit %d" % code))
    if failure is not None:
        raise failure
    budget["out"] = counted["out"]


def _kind(magic):
    if magic[:6] in CPIO_MAGICS:
        return "cpio"
    for prefix, kind in COMPRESSIONS:
        if magic.startswith(prefix):
            return kind
    return None


def _data_from(handle, offset, size):
    """The first offset from ``offset`` that is not in a hole of a sparse
    file (``size`` when only holes are left): holes read as NUL padding, and
    a hostile tree's terabyte of them is skipped without reading it."""
    try:
        return os.lseek(handle.fileno(), offset, getattr(os, "SEEK_DATA", 3))
    except OSError as exc:
        return size if exc.errno == errno.ENXIO else offset  # ENXIO: no data after offset


def read_image(path):
    """``(files, method)`` of the image at ``path`` with the standard-library
    reader (and the zstd/lz4/lzop commands); InitramfsError otherwise.
    ``files.config`` holds its modprobe.d files (``_Members``), links followed."""
    names, method = _read_image(path, _Members())
    names.config = _linked_config(names, lambda wanted: _read_image(path, _Members(wanted))[0].config)
    return names, method


def _read_image(path, names):
    """``read_image`` into ``names``, a ``_Members``, links not followed."""
    parts = []
    try:
        size = os.path.getsize(path)
        handle = open(path, "rb")
    except (IOError, OSError) as exc:
        raise InitramfsError("cannot read: %s" % (exc.strerror or exc))
    with handle:
        if size == 0:
            raise NoArchive("empty file")

        def past_holes(offset):
            offset = _data_from(handle, offset, size)
            handle.seek(offset)
            return offset

        offset = 0
        inflated = {"out": 0}   # MAX_INFLATED holds for the image, not for each segment
        while offset < size:
            start = offset = past_holes(offset)
            stream = _Stream(iter(lambda: handle.read(CHUNK), b""), offset, seek=handle.seek)
            if not stream.skip_zeros(past_holes):
                break
            offset = stream.offset
            kind = _kind(stream.peek(8))
            if kind is None and stream.peek(4) == LZ4_FRAME:
                raise NotForTheKernel(
                    "lz4 frame format at offset %d: the kernel unpacks only the legacy lz4 format (lz4 -l), "
                    "so nothing from here on reaches the initramfs at boot (rebuild it with lz4 -l)" % offset)
            if kind is None:
                if not parts:
                    raise InitramfsError("not an initramfs: no cpio archive or known compression "
                                         "at offset %d" % offset)
                raise InitramfsError("unrecognised data at offset %d after %s"
                                     % (offset, "+".join(parts)))
            if kind == "cpio":
                _parse_archive(stream, names, "cpio archive at offset %d" % offset)
                offset = stream.offset
            elif kind == "lzo":
                used, kind = _lzo_segment(path, handle, offset, size, names, inflated)
                offset += used
            elif kind in COMMANDS:
                length = {"zstd": _zstd_length, "lz4": _lz4_length}.get(
                    kind, lambda *args: None)(handle, offset, size)
                _command_segment(path, offset, kind, names, length, inflated)
                kind += "(command)"
                offset = size if length is None else offset + length
            else:
                offset += _python_segment(handle, offset, kind, names, inflated)
            if offset <= start:
                raise InitramfsError("corrupt initramfs: no progress at offset %d" % start)
            if kind not in parts:
                parts.append(kind)
    if not parts:
        raise NoArchive("not an initramfs: only NUL bytes")
    return names, "python:" + "+".join(parts)


# --------------------------------------------------------------------------
# distribution listers
# --------------------------------------------------------------------------

def _run_lister(exe, tool, path):
    """``(files, error)`` from ``lsinitramfs``/``lsinitrd``."""
    try:
        proc = subprocess.run([exe, path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=LISTER_TIMEOUT, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return None, "%s failed: %s" % (tool, exc)
    out = proc.stdout.decode("utf-8", "replace")
    err = proc.stderr.decode("utf-8", "replace").strip()
    # a lister that hit corrupt data may still print a partial listing: any
    # complaint makes the listing untrustworthy
    if proc.returncode != 0 or err:
        first = err.splitlines()[0] if err else "exit %d" % proc.returncode
        return None, "%s: %s" % (tool, first)
    files = []
    for line in out.splitlines():
        if tool == "lsinitrd":
            match = LS_LINE.match(line)
            if not match:
                continue
            line = match.group(1).split(" -> ", 1)[0]
        line = _normalize(line)
        if line and line != ".":
            files.append(line)
    if not files:
        return None, "%s listed nothing" % tool
    return files, None


def list_files(path, listers=True, target=None):
    """``(files, method, error)`` for the initramfs at ``path``.

    ``files``: member paths (no leading ``./`` or ``/``), or None when the
    image could not be inspected; ``method``: ``lsinitramfs``, ``lsinitrd`` or
    ``python:<formats>`` (for example ``python:cpio+gzip`` for an
    early-microcode archive followed by a gzip-compressed one, ``(command)``
    marking a format decompressed by an external command); ``error``: why it
    could not be inspected, naming the file, else None.  ``path`` is inside
    ``target`` (the live system by default).  The distribution's
    listers are tried when the standard-library reader fails, unless
    ``listers=False``."""
    target = target or Target("/")
    shown = target.display(path)
    try:
        with _opened(path, target) as (dummy, name):
            return _list_files(name, shown, listers)
    except TargetError as exc:
        return None, None, _cannot_open(exc, shown, None)


def _uki_initrd(path, shown):
    """``(files, method, error)`` of the .initrd section of the PE file at
    ``path``, None when it is no PE file."""
    with open(path, "rb") as handle:
        try:
            sections = uki.sections_of(handle, shown)
        except uki.UkiError as exc:
            return None, None, str(exc)
        if sections is None:
            return None
        if ".initrd" not in sections:
            return None, None, ("%s: a PE file (an EFI kernel or unified kernel image) with no .initrd section: "
                                "it carries no initramfs" % shown)
        offset, size = sections[".initrd"]
        if size > MAX_INFLATED:
            return None, None, "%s: its .initrd section claims %d bytes: not read" % (shown, size)
        with tempfile.NamedTemporaryFile(prefix="guestready-initrd-") as part:
            handle.seek(offset)
            _copy(handle, part, size)
            part.flush()
            try:
                files, method = read_image(part.name)
            except InitramfsError as exc:
                return None, None, "%s: its .initrd section (offset %d): %s" % (shown, offset, exc)
    return files, "%s (the .initrd section of a unified kernel image)" % method, None


def _list_files(path, shown, listers):
    try:
        found = _uki_initrd(path, shown)
    except (IOError, OSError) as exc:
        return None, None, "%s: cannot read: %s" % (shown, exc.strerror or exc)
    if found is not None:
        return found
    try:
        files, method = read_image(path)
        return files, method, None
    except InitramfsError as exc:
        error = "%s: %s" % (shown, exc)
        nothing = isinstance(exc, (NoArchive, NotForTheKernel))
    if listers and not nothing:
        for tool in LISTERS:
            exe = shutil.which(tool)
            if exe:
                files, lister_error = _run_lister(exe, tool, path)
                if files is not None:
                    return files, tool, None
                error += " (%s)" % lister_error
                break
    return None, None, error


def module_names(files):
    """Kernel module names (``-`` normalised to ``_``) among member paths."""
    return set().union(*modules_by_release(files).values())


def modules_by_release(files):
    """``{release: names}``: the module names among member paths by the
    ``(usr/)lib/modules/<release>/`` directory they are under (``""`` for a
    module under none): an image built for one kernel can be offered for
    another, whose modprobe would not look in the first one's directory."""
    found = {}
    for name in files:
        match = MODULE.match(os.path.basename(name))
        if match:
            where = MODULES_UNDER.match(name.lstrip("./"))
            found.setdefault(where.group(1) if where else "", set()).add(match.group(1).replace("-", "_"))
    return found


# dracut's squash module moves the initramfs (modules too) into an image it
# mounts at boot, beside a loader that keeps only loop, squashfs and overlay:
# squash-root.img (dracut 050-059), squashfs-root.img and erofs-root.img
# (dracut-ng's squash-squashfs and squash-erofs), squash/root.img (049)
SQUASHED = ("squash-root.img", "squashfs-root.img", "erofs-root.img", "squash/root.img")


def squash_image(files):
    """The member of a dracut squash initramfs that holds its modules, or None."""
    return next((name for name in files if name in SQUASHED), None)


def _for_release(found, release):
    """``(names, note)``: the modules ``release`` can load from an image whose
    modules are ``found`` (``modules_by_release``); all of them when the
    release is unknown."""
    if not release:
        return set().union(*found.values()), None
    names = set(found.get(release, ())) | set(found.get("", ()))
    others = sorted(r for r in found if r and r != release)
    if others and release not in found:
        return names, "its modules are those of %s, not of %s" % (", ".join(others), release)
    return names, None


# Listing an initramfs is the slowest thing a check does on a small guest (tens
# of seconds under emulation), and two modules of one run ask for the same
# image: the module names are kept in the run cache, keyed by the image's identity
# (device, inode, size, modification and change times: any write to the file
# moves its change time, which no one can set back), so a changed image is
# listed again.  Not by its path: one file reached through two roots (a bind
# mount, hard links shared by image trees) holds the same bytes either way.  The
# key starts with the entry's format: 2 since modprobe.d links are followed, 3
# since the lists of modules loaded by name are kept (the cache outlives an
# upgrade of the collection; an older entry's texts are not)
CACHE_FORMAT = 3


def _cache_name(st):
    key = "%d|%d|%d|%d|%d|%d" % (CACHE_FORMAT, st.st_dev, st.st_ino, st.st_size,
                                 getattr(st, "st_mtime_ns", int(st.st_mtime * 1e9)),
                                 getattr(st, "st_ctime_ns", int(st.st_ctime * 1e9)))
    return "initramfs-%s.json" % hashlib.sha1(key.encode()).hexdigest()


def _cached(name, listers):
    data = runcache.read(name)
    try:
        entry = json.loads(data.decode("utf-8")) if data is not None else None
    except ValueError:
        return None
    if not isinstance(entry, dict) or entry.get("listers") != listers:
        return None
    try:
        found = dict((release, set(names)) for release, names in entry["by_release"].items())
        squash = entry.get("squash")
        config = entry.get("modprobe")
        return (found, entry["method"] + " (cached)", squash if isinstance(squash, str) else None,
                dict(config) if isinstance(config, dict) else None)
    except (KeyError, TypeError, AttributeError, ValueError):
        return None


def _store(name, found, method, listers, squash, config):
    entry = {"by_release": dict((release, sorted(names)) for release, names in found.items()),
             "method": method, "listers": listers, "squash": squash, "modprobe": config}
    runcache.write(name, json.dumps(entry).encode("utf-8"))


def _listing(handle, name, shown, listers):
    """``(found, method, squash, config, error)`` of the open image: its
    modules by release, how it was read, its dracut squash member, its
    modprobe.d files (None when a lister read it: no contents) -- from the
    run cache when it was listed before."""
    cache = _cache_name(os.fstat(handle.fileno()))
    hit = _cached(cache, listers)
    if hit:
        _CONFIGS[cache, listers] = hit[3]
        return hit + (None,)
    files, method, error = _list_files(name, shown, listers)
    if files is None:
        return None, method, None, None, error
    found, squash, config = modules_by_release(files), squash_image(files), getattr(files, "config", None)
    _store(cache, found, method, listers, squash, config)
    _CONFIGS[cache, listers] = config
    return found, method, squash, config, None


# the modprobe.d files of the images listed by this process: asked for right
# after the modules, they are not listed again when the run cache is unusable
_CONFIGS = {}


def modprobe_config(path, listers=True, target=None):
    """``[(member path, text)]``: the modprobe.d files the initramfs at
    ``path`` inside ``target`` carries, in kmod's order (``modprobe_texts``);
    None when that is not known (the image could not be read, or only a
    distribution lister could list it)."""
    config = _kept(path, listers, target or Target("/"))
    return None if config is None else modprobe_texts(config)


def _kept(path, listers, target):
    """The texts the image keeps (``_Members.config``), None when not known."""
    try:
        with _opened(path, target) as (handle, name):
            key = (_cache_name(os.fstat(handle.fileno())), listers)
            return _CONFIGS[key] if key in _CONFIGS else _listing(handle, name, target.display(path), listers)[3]
    except TargetError:
        return None


def modprobe_blocks(path, listers=True, target=None):
    """``{module: [what keeps it from loading]}`` (modprobe.text_blocks) by
    the initramfs at ``path``'s own modprobe.d, what udev in the initramfs
    loads by, each source ``<image>:<member>``; empty when that is not known
    (``modprobe_config``).  The hardware and kernel-config areas both judge by it.

    A module the image loads by name (``loaded_by_name``) loads despite a
    ``blacklist`` line: kmod's modprobe applies the blacklist only to a name
    looked up as an alias (tools/modprobe.c, insmod:
    KMOD_PROBE_APPLY_BLACKLIST_ALIAS_ONLY; libkmod-module.c,
    kmod_module_probe_insert_module), and a module name is one unless an
    ``alias`` line of modprobe.d matches it (kmod_module_new_from_lookup
    looks in the configuration first).  Its ``install`` command still runs."""
    target = target or Target("/")
    try:
        config = _kept(path, listers, target)
    except (IOError, OSError, ValueError, EOFError, InitramfsError):
        config = None
    shown = target.display(path)
    found = modprobe.text_blocks(("%s:%s" % (shown, member), text) for member, text in modprobe_texts(config or {}))
    for module in loaded_by_name(config):
        if not found.alias_override(module, None):
            found.pop(module, None)
    return found


def kernel_modules(path, listers=True, target=None, release=None):
    """``(names, method, error)``: the set of kernel module names in the
    initramfs at ``path`` inside ``target`` (the live system by default) that
    kernel ``release`` loads (``_for_release``; every one when None); names
    are None when it could not be inspected.  ``method`` says how it was read,
    and when the image holds only other releases' modules."""
    target = target or Target("/")
    shown = target.display(path)
    try:
        with _opened(path, target) as (handle, name):
            found, method, squash, dummy, error = _listing(handle, name, shown, listers)
            if found is None:
                return None, method, error
    except TargetError as exc:
        return None, None, _cannot_open(exc, shown, "the kernel modules it holds")
    if squash:
        # a module the listing lacks may be inside: "missing" would be a guess
        return None, method, ("%s: a dracut squash initramfs: its kernel modules are inside its member %s "
                              "(a squashfs or erofs image), which this reader does not open; check with "
                              "`lsinitrd %s`" % (shown, squash, shown))
    names, note = _for_release(found, release)
    return names, "%s; %s" % (method, note) if note else method, None
