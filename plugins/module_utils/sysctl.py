# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sysctl.d loader and the live /proc/sys reader.

One reader of sysctl configuration for every module: which files the boot
loaders read, in which order, which assignment wins for a key, and what the
kernel makes of ``all`` and per-interface values.

Keys are handled in path form (``net/ipv4/conf/eth0.100/rp_filter``), the
form /proc/sys uses; ``display_key`` turns them back into dotted form.
"""

import errno
import os
import re
import stat

from ansible_collections.guestready.gce.plugins.module_utils.configfiles import size_counter
from ansible_collections.guestready.gce.plugins.module_utils.digits import C_UNSIGNED, c_unsigned
from ansible_collections.guestready.gce.plugins.module_utils.globs import fnmatchcase
from ansible_collections.guestready.gce.plugins.module_utils.host import live_root
from ansible_collections.guestready.gce.plugins.module_utils.privilege import denied, unreadable
from ansible_collections.guestready.gce.plugins.module_utils.target import (
    MAX_LINKS, Missing, NotUtf8, Target, TargetError, Unreadable, file_kind, name_order, null_device, read_at_most,
    text_of)

# Directories read for *.conf files, highest priority first: a file name in an
# earlier directory hides the same name in a later one (sysctl.d(5), sysctl(8)).
# Both loaders then read the files taken by name across the directories.
CONF_DIRS = ("etc/sysctl.d", "run/sysctl.d", "usr/local/lib/sysctl.d", "usr/lib/sysctl.d",
             "lib/sysctl.d")
SYSCTL_CONF = "etc/sysctl.conf"
RUNTIME_DIR = "run/sysctl.d"
# procps' PreloadSystem() before 3.3.17 put /run/sysctl.d first, so a runtime
# file hides the same name in /etc/sysctl.d (v3.3.2 to v3.3.16 sysctl.c);
# 3.3.17 took systemd's order (procps 24a1574f, "sysctl: config directory
# order", Debian #950788).  An unknown version is taken as a modern one.
PROCPS_ETC_FIRST = (3, 3, 17)
PROCPS_RUN_FIRST_DIRS = (RUNTIME_DIR,) + tuple(d for d in CONF_DIRS if d != RUNTIME_DIR)

# systemd-sysctl reads /etc/sysctl.conf only through the 99-sysctl.conf
# symlink Debian and others ship; procps' `sysctl --system` reads it after
# every drop-in, in every version, so it wins there.
LOADERS = ("systemd", "procps")

# Two names of one kernel value: ip_forward's handler and conf/all/forwarding's
# (devinet_sysctl_forward(), net/ipv4/devinet.c) both set devconf_all's
# forwarding flag.  The loaders know nothing of it: they keep one entry per
# key as written, and whichever is written last decides.
SAME_VALUE = {"net/ipv4/ip_forward": ("net/ipv4/conf/all/forwarding",),
              "net/ipv4/conf/all/forwarding": ("net/ipv4/ip_forward",)}

# A stand-in for the name of an interface created after boot: udev runs
# `systemd-sysctl --prefix=/net/ipv4/conf/<name>` for it (99-systemd.rules), so
# every glob over interface names applies to it.  NUL never occurs in a file read.
LATER_INTERFACE = "\0later"

# systemd's strstrip() and read_line(): lines end at \n, \r or \r\n; only
# these are blanks (str.splitlines() and str.strip() know many more).
LINE_END = re.compile("\r\n|\r|\n")
BLANKS = " \t\r\n"
# procps 4.0's parse_setting_line() strips a line, key and value with lstrip() and
# rstrip(), isspace(): \v and \f too (3.3.x strips what systemd does)
PROCPS4_BLANKS = " \t\n\v\f\r"

# Keys whose write changes other keys, so they are written first: changing
# ip_forward makes the kernel set conf/all/accept_redirects to its inverse and
# every interface's forwarding flag (inet_forward_change(), net/ipv4/devinet.c).
WRITE_FIRST = ("net/ipv4/ip_forward",)

# Real sysctl files are a few KiB; anything this large is not one.
MAX_FILE_SIZE = 4 * 1024 * 1024
# systemd-sysctl reads a line with read_line(f, LONG_LINE_MAX): one of this many
# bytes or more (line end not counted) fails, and it reads no further in that
# file, the settings before it kept.  procps' getline() has no limit.
LONG_LINE_MAX = 1024 * 1024

# systemd-sysctl's syntax by version.  A leading '-' (a failed write is not an
# error; a bare ``-key``) since v243 (systemd#13191): before, the '-' is part of
# the key, a path /proc/sys has not, and the write's ENOENT is only logged, so
# the line sets nothing.  Glob keys since v245 (systemd#14589): before, a key is
# a literal path (``net.ipv4.conf.*.rp_filter`` names an interface called ``*``)
# and a bare ``-key`` is "not an assignment".  An unknown version is taken as a
# modern one.
SYSTEMD_DASH = 243
SYSTEMD_GLOB = 245
# The version is in the name of the shared library every systemd binary links
# (libsystemd-shared-241.so, Fedora's libsystemd-shared-255.4-1.fc40.so).
SHARED_LIBRARY = re.compile(r"libsystemd-shared-([0-9]+)(?:[.~+-][^/]*)?\.so\Z")
LIBRARY_DIRS = ("usr/lib", "lib", "usr/lib64", "lib64")
# Before v231 there is no such library (RHEL 7's 219, Ubuntu 16.04's 229): the
# --version text is a string in systemd-sysctl itself, "systemd 219" (v219
# src/sysctl/sysctl.c: puts(PACKAGE_STRING)) or "systemd 229\n+PAM ..." (v229
# src/basic/util.c version(), linked in statically).
SYSCTL_BINARIES = ("usr/lib/systemd/systemd-sysctl", "lib/systemd/systemd-sysctl")
# Not after a printable byte: not the end of a longer text.
BINARY_VERSION = re.compile(br"(?<![ -~])systemd ([0-9]{1,9})[\0\n]")   # bounded: int() of a hostile run of digits
MAX_BINARY_SIZE = 32 * 1024 * 1024
# RHEL 8's 239 has the '-' prefix since 239-57.el8 (a backport of systemd#13191,
# redhat-plumbers/systemd-rhel8 516fc73142, rhbz#2037807), not globs.  Its spec
# builds with -Dversion-tag=%{version}-%{release}: the library's --version
# text is "systemd 239 (239-74.el8_8.2)" (meson.build's version-tag; more may
# come before "el8" in a rebuild's release).  No release told: no backport known.
RHEL8_RELEASE = re.compile(br"(?<![ -~])systemd 239 \(239-([0-9]{1,9})\.[0-9A-Za-z._]*el8")
RHEL8_DASH_RELEASE = 57

# procps' `sysctl --system` by version.  3.3.x (Debian 11, Ubuntu 22.04, RHEL 9: 3.3.17) writes
# each line as Preload() reads it (v3.3.17 sysctl.c Preload(), WriteSetting()): a key is a
# literal path (no globs), a bare ``-key`` is "invalid syntax", and only one '-' is dropped.
# 4.0.0 reads globs and bare ``-key`` lines (procps 6389deca, parse_setting_line()).  An unknown
# version is taken as a modern one.
PROCPS_GLOB = (4,)
# The '-' prefix since 3.3.16 (procps a6c0795d, "ignore errors from lines starting with -"):
# before (RHEL 8's and Debian 10's 3.3.15), the '-' is part of the key, a path /proc/sys has
# not, and `sysctl --system` passes over the line silently.
PROCPS_DASH = (3, 3, 16)
# 4.0.5's settinglist_findpath() skips a glob's match that a bare glob fnmatch()es (procps
# v4.0.5 src/sysctl.c); before, only a key written as it is.  Not assumed when unknown.
PROCPS_FNMATCH = (4, 0, 5)
# Its -V text is "%s from %s\n" with PACKAGE_STRING, "procps-ng 3.3.17" (include/c.h
# PROCPS_NG_VERSION): a string of its own in the sysctl binary.
PROCPS_BINARIES = ("usr/sbin/sysctl", "sbin/sysctl")
PROCPS_VERSION = re.compile(br"(?<![ -~])procps-ng ([0-9]{1,9}(?:\.[0-9]{1,9})*)[-.~+0-9A-Za-z]*\0")


class DashBackport(int):
    """A systemd version before ``SYSTEMD_DASH`` whose systemd-sysctl reads
    the '-' prefix all the same (RHEL 8's 239 since 239-57.el8)."""


def reads_dashes(version):
    """Whether systemd-sysctl ``version`` (``systemd_version()``) reads a
    leading '-' as "a failed write is no error" (None: a modern one)."""
    return version is None or version >= SYSTEMD_DASH or isinstance(version, DashBackport)


def reads_globs(version):
    """Whether systemd-sysctl ``version`` reads glob keys (and a bare ``-key``)."""
    return version is None or version >= SYSTEMD_GLOB


def procps_reads_dashes(version):
    """Whether procps ``version`` (``procps_version()``) reads a leading '-'."""
    return version is None or version >= PROCPS_DASH


def procps_reads_globs(version):
    """Whether procps ``version`` (``procps_version()``) reads glob keys (and a bare ``-key``)."""
    return version is None or version >= PROCPS_GLOB


def write_order(key):
    """Sort key for live writes: side-effecting keys first, then by name."""
    return (0 if key in WRITE_FIRST else 1, key)


class SysctlError(Exception):
    """A configuration file could not be read; the message names it."""


# what _binary_versions found in each file this process read, by the file's identity (as
# initramfs._CONFIGS): systemd_version is asked several times a run (each loader, each area:
# 9 in one compliance run), and a binary of up to MAX_BINARY_SIZE is read and scanned once
_SCANNED = {}


def _version_tuple(text):
    return tuple(int(part) for part in text.split(b"."))


def _binary_versions(target, path, pattern, convert=int):
    """The distinct first groups of ``pattern`` in the file ``path`` inside
    the target (read up to ``MAX_BINARY_SIZE``), each passed to ``convert``;
    None when it cannot be read."""
    try:
        with target.open(path) as handle:
            info = os.fstat(handle.fileno())
            key = (pattern.pattern, MAX_BINARY_SIZE, info.st_dev, info.st_ino, info.st_size,
                   info.st_mtime_ns, info.st_ctime_ns)
            if key not in _SCANNED:
                data = read_at_most(handle, MAX_BINARY_SIZE)
                _SCANNED[key] = None if len(data) > MAX_BINARY_SIZE else frozenset(
                    convert(match.group(1)) for match in pattern.finditer(data))
    except (TargetError, IOError, OSError):
        return None
    return None if _SCANNED[key] is None else set(_SCANNED[key])


def systemd_version(root="/"):
    """The systemd version of the tree (an int), from the name of its
    libsystemd-shared library in <libdir>/systemd or <libdir>/<multiarch>/systemd,
    else from the --version text in systemd-sysctl; None when there is none,
    or several that disagree.  RHEL 8's 239 with the '-' backport is a
    ``DashBackport``."""
    target = as_target(root)
    found = {}
    for base in LIBRARY_DIRS:
        try:
            names = target.listdir("/" + base)
        except TargetError:
            continue
        for directory in ["/%s/systemd" % base] + ["/%s/%s/systemd" % (base, name) for name in names if "-linux-" in name]:
            try:
                for name in target.listdir(directory):
                    match = SHARED_LIBRARY.match(name)
                    if match:
                        found.setdefault(int(match.group(1)), "%s/%s" % (directory, name))
            except TargetError:
                continue
    if len(found) > 1:
        return None
    if found:
        version, library = found.popitem()
        if version == 239:
            releases = _binary_versions(target, library, RHEL8_RELEASE)
            if releases and min(releases) >= RHEL8_DASH_RELEASE:
                return DashBackport(version)
        return version
    for path in SYSCTL_BINARIES:
        versions = _binary_versions(target, "/" + path, BINARY_VERSION)
        if versions is not None:
            return versions.pop() if len(versions) == 1 else None
    return None


def procps_version(root="/"):
    """The procps-ng version of the tree's sysctl (a tuple: ``(3, 3, 17)``),
    from the version text in the binary; None when there is none, or
    several that disagree."""
    target = as_target(root)
    found = set()
    for path in PROCPS_BINARIES:
        found.update(_binary_versions(target, "/" + path, PROCPS_VERSION, _version_tuple) or ())
    return found.pop() if len(found) == 1 else None


def normalize_key(key):
    """Dotted or slashed key -> canonical path form, as sysctl.d(5) says: if
    the first separator is a slash, dots are literal; if it is a dot, dots and
    slashes are interchanged (``net.ipv4.conf.eth0/100.rp_filter`` names
    interface ``eth0.100``)."""
    key = key.strip(BLANKS)
    dot, slash = key.find("."), key.find("/")
    if dot != -1 and (slash == -1 or dot < slash):
        key = key.translate(str.maketrans("./", "/."))
    # repeated or "." components: systemd's sysctl_normalize() path_simplify()s
    # the key, procps writes it as it is and the kernel's path lookup does the same
    return "/".join(part for part in key.split("/") if part not in ("", "."))


def interface_glob_key(key):
    """``net.ipv4.conf.<anything>.<leaf>`` as the glob over every interface name (path form)."""
    return "net/ipv4/conf/*/%s" % key.rsplit(".", 1)[1]


LITERAL_GLOB = re.compile(r"(?:[^*?\[\\]|\\.|\[[*?\[]\])*\Z")


def literal_name(name):
    """An interface name as a key component that names only that interface.
    Linux allows ``*``, ``?`` and ``[`` in interface names (dev_valid_name()),
    and both loaders take a key holding one as a glob (string_is_glob()), which
    ``veth[1]`` would make a pattern matching ``veth1`` and not itself: each is
    written as a bracket expression holding only that character, which glob(3)
    and fnmatch read alike (``veth[[]1]``)."""
    return "".join("[%s]" % char if char in "*?[" else char for char in name)


def unliteral_name(part):
    """The interface name a key component written by ``literal_name`` names."""
    return re.sub(r"\[([*?\[])\]", r"\1", part)


def valid_interface_name(name):
    """Whether the kernel allows ``name`` for an interface (dev_valid_name(),
    net/core/dev.c): 1 to 15 bytes, not ``.`` or ``..``, no ``/``, ``:`` or
    blank.  A key naming another (``eth0:1``, an alias) never sets anything.
    A name holding bytes that are not UTF-8 has them as os.fsdecode() does."""
    return 0 < len(name.encode("utf-8", "surrogateescape")) < 16 and name not in (".", "..") and \
        not any(char in "/: \t\n\v\f\r" for char in name)


def literal_key(key):
    """A ``net/ipv4/conf/<interface>/<leaf>`` key (path form) with its
    interface name as ``literal_name`` writes it; any other key as it is."""
    parts = key.split("/")
    if len(parts) == 5 and parts[:3] == ["net", "ipv4", "conf"]:
        parts[3] = literal_name(parts[3])
    return "/".join(parts)


def later_interface_key(leaf):
    """The key of an interface created after boot (``LATER_INTERFACE``)."""
    return "net/ipv4/conf/%s/%s" % (LATER_INTERFACE, leaf)


def display_key(path):
    """Canonical path form -> the dotted form sysctl(8) prints."""
    return path.translate(str.maketrans("./", "/."))


# proc_get_long() (kernel/sysctl.c): an optional '-', then a number as
# strtoul(..., 0) reads it (0x hexadecimal, a leading 0 octal), ended by a
# blank; anything else ('+1', '08', '1.0') makes the write fail with EINVAL.
# proc_skip_spaces() skips isspace() before the number; proc_get_long() then
# wants one of proc_wspace_sep (" \t\n") or the end after it, and refuses a number
# of TMPBUFLEN - 1 characters or more (sign included): it may go on past its buffer.
KERNEL_INT = re.compile(r"(-?)(?:%s)(?=[ \t\n]|\Z)" % C_UNSIGNED)
KERNEL_SPACES = " \t\n\v\f\r"
KERNEL_SEPARATORS = re.compile("[ \t\n]+")
TMPBUFLEN = 22
INT_MAX = 2 ** 31 - 1


def kernel_int(value):
    """The number the kernel sets when ``value`` is written to an integer
    key (its first field), or None when the kernel refuses the write.
    Python's int() and str.split() read '+1', '1_0', non-ASCII digits and
    a form feed after the number, which the kernel does not, and read '010'
    as 10 where the kernel reads 8."""
    match = KERNEL_INT.match(str(value).lstrip(KERNEL_SPACES)) if value is not None else None
    if match is None or match.end() >= TMPBUFLEN - 1:
        return None
    number = c_unsigned(match, 2, most=11)  # longer than any int in any of the bases
    if number is None:
        return None
    number = -number if match.group(1) else number
    # proc_dointvec() refuses what does not fit an int
    return number if -INT_MAX - 1 <= number <= INT_MAX else None


def _normalize_value(value):
    # sysctl values compare by their fields, as the kernel separates them (kernel_int)
    return " ".join(field for field in KERNEL_SEPARATORS.split(value) if field)


def split_lines(text, keepends=False):
    """A file's lines as the loaders see them (``LINE_END``)."""
    if not keepends:
        lines = LINE_END.split(text)
        return lines[:-1] if lines and lines[-1] == "" else lines
    rows, start = [], 0
    for match in LINE_END.finditer(text):
        rows.append(text[start:match.end()])
        start = match.end()
    if start < len(text):
        rows.append(text[start:])
    return rows


def _procps_lines(text):
    """``(number, line)`` of the lines procps reads: getline() ends them at
    ``\n`` only, so a bare ``\r`` stays inside (systemd's read_line() ends a
    line there).  Each is numbered by the line ``split_lines()`` starts it
    at, the numbers the neutralising edits use."""
    number = 1
    for line in text.split("\n"):
        yield number, line
        # the rows split_lines() makes of it: one, and one more after each bare \r in it
        number += 1 + line.count("\r", 0, len(line) - 1 if line.endswith("\r") else len(line))


def parse_text(text, source="<string>", loader="systemd", version=None):
    """Parse one sysctl.d file's text as ``loader`` reads it.

    Returns ``(assignments, warnings)``.  Each assignment is a dict: ``key``
    (path form), ``value`` (``None`` for a bare ``-key``, which excludes the
    key from glob assignments), ``line`` (1-based), ``text`` (the line as
    written), ``ignore_failure`` (``-`` prefix), ``glob`` and ``file``; and
    ``excludes`` for a bare glob that keeps other globs off what it matches
    (procps 4.0.5 and later, ``PROCPS_FNMATCH``).

    The ``-`` prefix: systemd-sysctl's parse_file() strips blanks after it
    (``- key = 1`` sets ``key``; before 245 it sets nothing).  procps does not: its key is `` key``,
    a path /proc/sys has not, so the line never sets anything; and its
    setting_new() drops one more ``-`` (procps 4.0: ``--key = 1`` sets
    ``key``; 3.3.17 sets nothing for it, nor does systemd).

    ``version``: systemd's, for ``loader`` systemd (``systemd_version()``,
    ``reads_dashes()``, ``reads_globs()``), procps' for procps
    (``procps_version()``, ``procps_reads_dashes()``, ``procps_reads_globs()``);
    None for a modern one.
    """
    if loader == "systemd":
        dashes, globs = reads_dashes(version), reads_globs(version)
    else:
        dashes, globs = procps_reads_dashes(version), procps_reads_globs(version)
    blanks = PROCPS4_BLANKS if loader == "procps" and globs else BLANKS
    assignments, warnings, size_of = [], [], size_counter(text)
    for number, raw in enumerate(split_lines(text), 1) if loader == "systemd" else _procps_lines(text):
        if loader == "systemd" and 4 * len(raw) >= LONG_LINE_MAX and size_of(raw) >= LONG_LINE_MAX:
            warnings.append("%s:%d: a line of 1 MiB or more: systemd-sysctl reads no further in the file" % (
                source, number))
            break
        line = raw.strip(blanks)
        if not line or line[0] in "#;":
            continue
        ignore_failure = line.startswith("-")
        if ignore_failure and not dashes:
            warnings.append("%s:%d: %s reads the '-' as part of the key, a key the "
                            "kernel has not: the line sets nothing: %s" % (
                                source, number, "systemd-sysctl %d (before %d)" % (version, SYSTEMD_DASH)
                                if loader == "systemd" else "sysctl --system %s (procps before 3.3.16)" % _dotted(version),
                                raw.strip()))
            continue
        if ignore_failure and loader == "procps":
            if line.startswith("--") and not globs:
                # 3.3.x's WriteSetting() drops one '-' (v3.3.17 sysctl.c): the key is '-key'
                warnings.append("%s:%d: sysctl --system %s (procps before 4.0) reads the second '-' as part of "
                                "the key, a key the kernel has not: the line sets nothing: %s" % (
                                    source, number, _dotted(version), raw.strip()))
                continue
            line = line[2:] if line.startswith("--") else line[1:]
            if line[:1] and line[0] in blanks:
                warnings.append("%s:%d: a blank after '-': sysctl --system reads the key with the blank, a "
                                "key the kernel has not, and sets nothing: %s" % (source, number, raw.strip()))
                continue
        elif ignore_failure:
            if not globs and line[1:2] and line[1] in BLANKS and "=" in line:
                # 243, 244 and RHEL 8's backport strip blanks before the '-', not after it
                # (v243 src/sysctl/sysctl.c parse_file(); v245 strips the key after the '-')
                warnings.append("%s:%d: a blank after '-': systemd-sysctl %d (before %d) reads the key with the "
                                "blank, a key the kernel has not, and sets nothing: %s" % (
                                    source, number, version, SYSTEMD_GLOB, raw.strip()))
                continue
            line = line[1:].lstrip(BLANKS)
        if "=" in line:
            key, value = line.split("=", 1)
            if loader == "procps" and not globs:
                # 3.3.x takes the value with strtok(NULL, "\n\r"): it ends at a carriage return
                # (4.0 writes it whole, \r and all, and the kernel refuses a number followed by one)
                value = value.lstrip("\r").split("\r", 1)[0]
            value = _normalize_value(value.strip(blanks))
        elif ignore_failure and line and " " not in line and globs:
            key, value = line, None
        else:
            warnings.append("%s:%d: not an assignment, ignored: %s" % (source, number, raw.strip()))
            continue
        path = normalize_key(key.strip(blanks))
        if isinstance(text, NotUtf8):
            # the key names /proc/sys by these bytes: as os.fsdecode() names them
            path = path.encode("latin-1").decode("utf-8", "surrogateescape")
        if not path:
            warnings.append("%s:%d: empty key, ignored" % (source, number))
            continue
        glob = any(char in path for char in "*?[")
        if glob and not globs:
            # not told for procps 3.3.x: the glob lines are there for systemd-sysctl (the
            # drop-in's own among them), and `sysctl --system` passes over them silently
            # (IgnoreError: no "cannot stat")
            if loader == "systemd":
                warnings.append("%s:%d: systemd-sysctl %d (before %d) reads no globs: the key is a literal name, "
                                "which sets nothing unless /proc/sys has it: %s" % (
                                    source, number, version, SYSTEMD_GLOB, raw.strip()))
            glob = False
        assignments.append({
            "key": path,
            "value": value,
            "line": number,
            "text": raw,
            "ignore_failure": ignore_failure,
            "glob": glob,
            "file": source,
        })
        if loader == "procps" and glob and value is None and version is not None and version >= PROCPS_FNMATCH:
            assignments[-1]["excludes"] = True
    return assignments, warnings


def _dotted(version):
    return ".".join(str(part) for part in version)


def as_target(root):
    """A Target for ``root`` (a path or a Target)."""
    return root if isinstance(root, Target) else Target(root)


def read_text(target, path):
    """A configuration file's text; SysctlError names the file when it cannot
    be read or is not text."""
    try:
        data = target.read_bytes(path, limit=MAX_FILE_SIZE)
    except Unreadable:
        raise  # not bad input: the caller reports what it could not judge
    except TargetError as exc:
        raise SysctlError(str(exc))
    if b"\0" in data:
        raise SysctlError("%s: binary data, not a sysctl configuration file" % target.display(path))
    return text_of(data)


def conf_dirs(loader="systemd", version=None):
    """The sysctl.d directories ``loader`` reads (procps: at ``version``,
    ``procps_version()``), highest priority first."""
    if loader == "procps" and version is not None and version < PROCPS_ETC_FIRST:
        return PROCPS_RUN_FIRST_DIRS
    return CONF_DIRS


def config_files(root="/", loader="systemd", warnings=None, persistent_only=False, version=None, replace=None):
    """The files ``loader`` reads, in the order it applies them: a list of
    ``(path, name)`` with paths inside the root; masked names are left out.
    Each name is taken from the first directory of ``conf_dirs()`` that has
    it (for procps at ``version``, ``procps_version()``: None is a modern
    one), and the names are read sorted; procps reads /etc/sysctl.conf last.
    Entries that are not regular files (a FIFO, a socket, a device) are
    never read: ``warnings`` (a list) gets one line per such entry.  Such
    an entry still takes its name, hiding the same name in a later
    directory, for procps (any entry) and for systemd-sysctl (a symbolic
    link to one; systemd passes over a directory, FIFO or socket itself).

    systemd-sysctl skips names starting with a dot (conf_files_list():
    dirent_is_file_with_suffix()); procps' ``sysctl --system`` skips only
    ``.`` and ``..`` (PreloadSystem()), and only warns when it cannot open one,
    such as an editor's dangling lock link ``.#60-net.conf``.

    ``persistent_only``: leave out /run/sysctl.d, a tmpfs that is empty when
    the system boots (the files a loader reads after a reboot).

    ``replace`` (as ``load()``'s): a path mapped to a text is a regular file,
    taking its name as any other; one mapped to None is gone, so the same
    name in a later directory is read."""
    target = as_target(root)
    replace = replace or {}
    chosen, claimed, new_files = {}, {}, {}
    for path, text in replace.items():   # a plan may replace every file of a tree: sorted out once
        if text is not None:
            new_files.setdefault(os.path.dirname(path), []).append(os.path.basename(path))
    for directory in conf_dirs(loader, version):
        if persistent_only and directory == RUNTIME_DIR:
            continue
        added = new_files.get("/" + directory, [])
        try:
            names = target.listdir("/" + directory)
        except Missing:
            names = []
        except Unreadable:
            raise  # skipping it would judge from part of the files
        except TargetError as exc:
            if warnings is not None:
                warnings.append("%s: not read" % exc)
            continue
        listed = set(names)
        for name in names + [name for name in added if name not in listed]:
            if not name.endswith(".conf") or (loader == "systemd" and name.startswith(".")):
                continue
            if name in chosen:
                if name in claimed and warnings is not None:
                    warnings.append("%s: not read: %s, a %s of the same name, hides it (%s)" % (
                        target.display("/%s/%s" % (directory, name)), target.display(claimed[name][0]),
                        file_kind(claimed[name][1]),
                        "systemd-sysctl" if loader == "systemd" else "sysctl --system"))
                continue
            path = "/%s/%s" % (directory, name)
            if path in replace:
                if replace[path] is not None:
                    chosen[name] = path
                continue
            try:   # a plain file is answered by one lstat; a link is followed in the root
                info = target.lstat(path)
            except TargetError:
                info = None
            plain = info is not None and not stat.S_ISLNK(info.st_mode)
            if null_device(info) if plain else target.is_masked(path):
                chosen[name] = None
                continue
            try:
                mode = info.st_mode if plain else target.stat(path).st_mode
            except TargetError as exc:
                if name.startswith(".") and not isinstance(exc, Unreadable):
                    if warnings is not None:
                        warnings.append("%s: not read (procps only warns)" % exc)
                    continue
                mode = None  # dangling: it still takes the name (load() skips it)
            if mode is not None and not stat.S_ISREG(mode):
                # procps' PreloadSystem() takes every name ending in .conf; systemd's
                # conf_files_list() takes an entry whose d_type is a regular file or a link
                # (dirent_is_file_with_suffix()): a link to a directory, FIFO or socket, never
                # the directory itself.  The name taken hides the same name in a later directory.
                hides = loader == "procps" or target.islink(path)
                if hides:
                    chosen[name] = None
                    claimed[name] = (path, mode)
                if warnings is not None and not stat.S_ISDIR(mode):  # read as empty, or passed over
                    warnings.append("%s: is a %s, not a regular file: not read" % (
                        target.display(path), file_kind(mode)))
                continue
            chosen[name] = path
    files = [(chosen[name], name) for name in sorted(chosen, key=name_order) if chosen[name] is not None]
    conf = "/" + SYSCTL_CONF
    if loader == "procps" and (replace[conf] is not None if conf in replace else target.isfile(conf)):
        files.append((conf, "sysctl.conf"))
    return files


# Empty in an image tree, filled by the booted system: a link into them is not
# known to be dangling there.
BOOT_FILLED = ("/proc", "/sys", "/dev", "/run")


def dangling(target, path):
    """Whether ``path`` is a symbolic link to a file that does not exist, and
    will not when the tree boots: in an image tree a link into /proc, /sys,
    /dev or /run is not (read_text names the problem)."""
    try:
        target.stat(path)
        return False
    except Missing:
        pass
    except TargetError:
        return False  # a loop, not a directory, no permission: read_text names it
    if target.live:
        return True
    where = path
    for dummy in range(MAX_LINKS):
        if not target.islink(where):
            break
        directory = os.path.dirname(where)
        try:  # the directory as the root resolves it (/etc may be a link)
            directory = target.inside(target.host_path(directory))
        except TargetError:
            pass
        where = "/" + os.path.normpath(os.path.join(directory, target.readlink(where))).lstrip("/")
        if any(where == top or where.startswith(top + "/") for top in BOOT_FILLED):
            return False
    return True


def read_once(target, path, seen):
    """``read_text``, once among the reads sharing ``seen`` (``load()``'s);
    None for a link to a file that is gone (``dangling``)."""
    if ("text", path) not in seen:
        try:
            seen["text", path] = read_text(target, path)
        except SysctlError:
            if not dangling(target, path):
                raise
            seen["text", path] = None
    return seen["text", path]


def load(root="/", loader="systemd", replace=None, persistent_only=False, seen=None):
    """Read every file ``loader`` reads.

    ``replace`` maps a path (inside the root) to the text it should be read
    as (a file as it will be after a write), or to ``None`` for a file that
    will not exist.  ``seen``: a dict shared by loads made while nothing
    writes to the tree (a plan's), so that each file is read, and its
    links resolved, once among them.  Returns ``(assignments, warnings)`` in
    application order; each assignment's ``file`` is the path as the user
    sees it and ``path`` the path inside the root.
    """
    target = as_target(root)
    replace = replace or {}
    seen = {} if seen is None else seen
    warnings = []
    version = systemd_version(target) if loader == "systemd" else procps_version(target)
    files = config_files(target, loader, warnings, persistent_only, version, replace)
    assignments = []
    for path, dummy in files:
        key = path
        if key not in replace and replace:
            # one file read under two names (99-sysctl.conf -> ../sysctl.conf)
            if ("inside", path) not in seen:
                try:
                    seen["inside", path] = target.inside(target.host_path(path))
                except TargetError:
                    seen["inside", path] = path
            key = seen["inside", path]
        if key in replace:
            if replace[key] is None:
                continue
            text = replace[key]
        else:
            text = read_once(target, path, seen)
            if text is None:
                # a link to a file that is gone (99-sysctl.conf -> ../sysctl.conf once sysctl.conf is
                # deleted): systemd-sysctl skips it (parse_file(), ignore_enoent), procps warns and
                # reads on (PreloadSystem()); its name still hides the same name in a later directory
                warnings.append("%s: a symbolic link to a missing file: not read (systemd-sysctl skips it, "
                                "sysctl --system warns)" % target.display(path))
                continue
        parsed, problems = parse_text(text, target.display(path), loader, version)
        for assignment in parsed:
            assignment["path"] = path
        assignments.extend(parsed)
        warnings.extend(problems)
    return assignments, warnings


def glob_matches(key, pattern):
    """Whether the glob key ``pattern`` names ``key``, as glob(3) expands it
    over /proc/sys: component by component (``*`` never spans a ``/``), and
    a wildcard never matches a leading dot.  ``LATER_INTERFACE`` stands for
    any name an interface may get, so any wildcard component matches it."""
    return glob_matcher(pattern)(key)


def _star_matcher(pieces):
    """``fnmatch.fnmatchcase(., "*".join(pieces))`` for a pattern whose only
    wildcard is ``*``, without compiling a regular expression for it."""
    first, middle, last = pieces[0], pieces[1:-1], pieces[-1]

    def matches(name):
        start, end = len(first), len(name) - len(last)
        if start > end or not name.startswith(first) or not name.endswith(last):
            return False
        for piece in middle:
            start = name.find(piece, start, end)
            if start == -1:
                return False
            start += len(piece)
        return True
    return matches


def _glibc_matcher(part):
    def matches(name):
        return fnmatchcase(name, part)
    return matches


# compiled components of globs (fnmatch keeps 256: a file may have thousands), dropped past the limit
_PART_MATCHERS = {}
_PART_MATCHERS_LIMIT = 4096


def _part_matcher(part):
    matcher = _PART_MATCHERS.get(part)
    if matcher is None:
        if len(_PART_MATCHERS) >= _PART_MATCHERS_LIMIT:
            _PART_MATCHERS.clear()
        if "?" in part or "[" in part or "\\" in part:
            matcher = _glibc_matcher(part)
        else:
            matcher = _star_matcher(part.split("*"))
        _PART_MATCHERS[part] = matcher
    return matcher


def glob_matcher(pattern):
    """``glob_matches(., pattern)`` with the pattern read once: one glob is
    asked of many keys."""
    parts = []
    for part in pattern.split("/"):
        if not any(char in part for char in "*?[\\"):
            parts.append((part, None, False, False))
        else:
            # a name as literal_name() writes it matches that name only; glob(3) matches a leading
            # "." only by one the pattern writes (an escaped one too)
            parts.append((None, _part_matcher(part), not LITERAL_GLOB.match(part), part.startswith((".", "\\."))))
    count = len(parts)

    def matches(key):
        names = key.split("/")
        if len(names) != count:
            return False
        for name, (plain, match, wild, dot) in zip(names, parts):
            if plain is not None:
                if name != plain:
                    return False
            elif name == LATER_INTERFACE:
                if not wild:
                    return False
            elif name.startswith(".") and wild and not dot:
                return False
            elif not match(name):
                return False
        return True
    return matches


def _writes(assignment, key, explicit, matches=glob_matches):
    """Whether applying ``assignment`` writes ``key``: its own key, the other
    name of the same kernel value, or a glob reaching either where no
    explicit assignment of that name keeps the glob off it.  ``matches``:
    ``glob_matches`` or a faster equal."""
    names = (key,) + SAME_VALUE.get(key, ())
    if not assignment["glob"]:
        return assignment["key"] in names
    return any(name not in explicit and matches(name, assignment["key"]) for name in names)


def _glob_index():
    """``matches(key, pattern)``, ``glob_matches`` with each distinct
    pattern read once and each (key, pattern) answer kept for the key being
    asked only: no table of every key against every glob."""
    matchers, answers = {}, {}

    def matches(key, pattern):
        if answers.get(None) != key:
            answers.clear()
            answers[None] = key
        if pattern not in answers:
            matcher = matchers.get(pattern)
            if matcher is None:
                matcher = matchers[pattern] = glob_matcher(pattern)
            answers[pattern] = matcher(key)
        return answers[pattern]
    return matches


def _reaching(items, first=lambda item: item, matches=glob_matches):
    """``candidates(key, explicit=None)``: the ``items`` (assignments, or
    groups of them led by ``first(item)``) that may write ``key``, in their
    order: those of the key's own names and the globs naming one of them;
    ``_writes`` rules out the others.  Given ``explicit``, those that write
    it (``_writes``), each glob asked once for all its lines.  Keys reached
    by the same lines share one list, never to be changed: a file with a
    glob line repeated for each of its interface lines (N x M) filled the
    memory.  Asking every assignment of every key took hours
    for a file naming many interfaces (a key per interface, a line per
    key), and asking every glob of every key minutes for one with many
    globs too: the globs are grouped by pattern, asked once per pattern,
    and only patterns of the key's length and last component are asked."""
    literal, globs = {}, {}
    for position, item in enumerate(items):
        assignment = first(item)
        if assignment["glob"]:
            parts = assignment["key"].split("/")
            last = parts[-1] if not any(char in parts[-1] for char in "*?[") else None
            globs.setdefault((len(parts), last), {}).setdefault(assignment["key"], []).append(position)
        else:
            literal.setdefault(assignment["key"], []).append(position)

    shared = {}

    def candidates(key, explicit=None):
        positions, patterns = [], []
        for name in (key,) + SAME_VALUE.get(key, ()):
            positions.extend(literal.get(name, ()))
            if explicit is not None and name in explicit:
                continue   # an explicit assignment keeps the globs off it
            parts = name.split("/")
            for bucket in (globs.get((len(parts), parts[-1]), {}), globs.get((len(parts), None), {})):
                patterns.extend((bucket, pattern) for pattern in bucket if matches(name, pattern))
        signature = (tuple(positions), tuple(pattern for dummy, pattern in patterns))
        found = shared.get(signature)
        if found is None:
            for bucket, pattern in patterns:
                positions.extend(bucket[pattern])
            found = shared[signature] = [items[position] for position in sorted(set(positions))]
        return found
    return candidates


def _shared(cache, signature, make):
    """``make()``, made once for each ``signature`` of the lists it is made
    of (``_reaching``'s shared lists, kept alive by it: their ids are theirs)."""
    found = cache.get(signature)
    if found is None:
        found = cache[signature] = make()
    return found


def _systemd_order(assignments):
    """``(dropped, entries)``: systemd-sysctl's parse_file() keeps one entry
    per key as written, in an ordered hashmap.  The same value again keeps
    the entry where it is; another value (a bare ``-key`` included) removes
    it and appends a new one.  ``dropped`` are the assignments so removed,
    never applied; ``entries`` the applied groups of equal assignments, in
    apply_all() order."""
    entries, dropped = {}, []
    for assignment in assignments:
        group = entries.get(assignment["key"])
        if group is not None:
            if group[0]["value"] == assignment["value"]:
                group.append(assignment)
                continue
            dropped.extend(group)
            del entries[assignment["key"]]
        entries[assignment["key"]] = [assignment]
    return dropped, list(entries.values())


# inet_forward_change() (net/ipv4/devinet.c), run when a write changes
# conf/all/forwarding (ip_forward is the same value), sets conf/all/accept_redirects
# to the inverse: turning forwarding off sets it to 1.
FORWARDING = "net/ipv4/conf/all/forwarding"
RESET_BY_FORWARDING = "net/ipv4/conf/all/accept_redirects"


def forwarding_reset(applied, explicit, matches=glob_matches):
    """``(on, off)`` when, in the writes ``applied`` (in order), the last
    change of forwarding after the last write of ``RESET_BY_FORWARDING``
    turns it off, ``on`` being the write that had turned it on (forwarding
    is 0 when the system boots); else None."""
    forwarding, on, reset = 0, None, None
    for assignment in applied:
        if assignment["value"] is None:
            continue
        # a glob over conf/all/* writes accept_redirects before forwarding (glob(3) sorts)
        if _writes(assignment, RESET_BY_FORWARDING, explicit, matches) and kernel_int(assignment["value"]) is not None:
            reset = None
        if _writes(assignment, FORWARDING, explicit, matches):
            number = kernel_int(assignment["value"])
            if number is None or number == forwarding:
                continue  # refused, or no change: the kernel leaves accept_redirects alone
            if number:
                on, reset = assignment, None
            else:
                reset = (on, assignment)
            forwarding = number
    return reset


def _reset_entry(reset):
    """The history entry for accept_redirects set to 1 by ``reset``: the line
    that turned forwarding on (commenting it out ends the reset), with the
    line that turned it off in ``reset_by``."""
    on, off = reset
    entry = dict(on)
    entry.update(value="1", reset_by=off)
    return entry


class _Excluded(frozenset):
    """The names procps 4.0.5's settinglist_findpath() finds: those written as
    they are, and those a bare glob matches as fnmatch() with no flags does
    (a ``*`` spans a ``/``, as fnmatch.fnmatchcase's)."""

    def __new__(cls, names, patterns):
        excluded = super(_Excluded, cls).__new__(cls, names)
        excluded.patterns = patterns
        return excluded

    def __contains__(self, name):
        return frozenset.__contains__(self, name) or any(fnmatchcase(name, pattern) for pattern in self.patterns)


def winners(assignments, keys, loader="systemd"):
    """For each key in ``keys`` (path form): the assignments that reach it,
    in the order ``loader`` applies them; the last one decides the value.
    Keys reached by the same lines share one list: read it, never change it.

    An explicit assignment beats a glob whatever their order, and a bare
    ``-key`` keeps globs off the key.  procps applies every line in file
    order.  systemd applies
    one entry per key as written (``_systemd_order``): assignments it drops
    come first, and a bare ``-key`` that removed the key's own assignment
    (or a bare glob that removed the same glob) comes last when nothing
    else writes the key: the key is then not written at all (value
    ``None``); a bare glob excludes nothing else there (apply_glob_option()
    looks a match up by its exact name).  Writing
    ``net.ipv4.conf.all.forwarding`` writes ``net.ipv4.ip_forward``.

    systemd applies each key once, where its entry stands, not where its
    last line is: when forwarding is turned on and then off again after the
    last write of ``net.ipv4.conf.all.accept_redirects``, the kernel leaves
    that at 1 (``forwarding_reset``), and its history ends with an entry of
    value "1": the line that turned forwarding on, with ``reset_by`` the
    line that turned it off."""
    history = dict((key, []) for key in keys)
    if loader == "systemd":
        dropped, groups = _systemd_order(assignments)
        explicit = set(group[0]["key"] for group in groups if not group[0]["glob"])
        matches = _glob_index()
        dropped_for, groups_for = _reaching(dropped, matches=matches), _reaching(groups, lambda group: group[0], matches)
        made = {}

        def make(dropped_lines, writing, reaching):
            lines = [a for a in dropped_lines if a["value"] is not None]
            applied = [a for group in writing if group[0]["value"] is not None for a in group]
            # a bare glob removes an earlier assignment of the same glob as a bare key does
            removed = [group for group in reaching if group[0]["value"] is None]
            # a removal matters only when it dropped an assignment of the key; the same bare
            # line again joins its entry, as an equal value does (each would remove it alone)
            return lines + (applied or (removed[-1] if removed and lines else []))
        for key in keys:
            lists = (dropped_for(key, explicit), groups_for(key, explicit), groups_for(key))
            history[key] = _shared(made, tuple(id(found) for found in lists), lambda: make(*lists))
        if RESET_BY_FORWARDING in history:
            reset = forwarding_reset([group[0] for group in groups], explicit, matches)
            if reset:   # a new list: the one there may be other keys' too
                history[RESET_BY_FORWARDING] = history[RESET_BY_FORWARDING] + [_reset_entry(reset)]
        return history
    # write_setting_list() skips a glob's match that settinglist_findpath() finds by its
    # name: a key written as it is.  A bare glob excludes nothing before procps 4.0.5
    # (Debian 12 has 4.0.2, Debian 13 and Ubuntu 24.04 4.0.4), which added fnmatch() there
    explicit = set(a["key"] for a in assignments if not a["glob"])
    patterns = [a["key"] for a in assignments if a.get("excludes")]
    if patterns:
        explicit = _Excluded(explicit, patterns)
    matches = _glob_index()
    reaching = _reaching(assignments, matches=matches)
    made = {}
    for key in keys:
        # procps keeps the earlier value for a bare key
        lines = reaching(key, explicit)
        history[key] = _shared(made, id(lines), lambda: [a for a in lines if a["value"] is not None])
    if RESET_BY_FORWARDING in history:
        reset = forwarding_reset(assignments, explicit, matches)
        if reset:   # a new list: the one there may be other keys' too
            history[RESET_BY_FORWARDING] = history[RESET_BY_FORWARDING] + [_reset_entry(reset)]
    return history


# --------------------------------------------------------------------------
# Live values
# --------------------------------------------------------------------------

def proc_path(key, proc_root="/proc"):
    return os.path.join(proc_root, "sys", key)


def read_live(key, proc_root="/proc"):
    """``(value, error)``: the live value, or ``(None, "missing")`` when the
    kernel has no such key, or ``(None, message)`` when it cannot be read."""
    try:
        with open(proc_path(key, proc_root)) as handle:
            return _normalize_value(handle.read()), None
    except (IOError, OSError) as exc:
        if exc.errno == errno.ENOENT:
            return None, "missing"
        if denied(exc):  # a few keys are 0600 (fs.protected_*, on most kernels)
            return None, unreadable(proc_path(key, proc_root), "its live value")
        return None, "%s: %s" % (display_key(key), exc.strerror or exc)


def write_live(key, value, proc_root="/proc"):
    """Set a live value; returns an error message or None."""
    try:
        with open(proc_path(key, proc_root), "w") as handle:
            handle.write("%s\n" % value)
        return None
    except (IOError, OSError) as exc:
        return "cannot set %s=%s: %s" % (display_key(key), value, exc.strerror or exc)


def ipv4_interfaces(proc_root="/proc"):
    """The IPv4 interfaces the kernel has (``lo`` included), sorted."""
    try:
        names = os.listdir(os.path.join(proc_root, "sys", "net", "ipv4", "conf"))
    except OSError:
        return []
    return sorted(name for name in names if name not in ("all", "default"))


# An interface's own values when it is created: ipv4_devconf_dflt (net/ipv4/devinet.c),
# which inetdev_init() copies.  A later write of ``default`` copies the new value to every
# interface whose own value was never set (devinet_copy_dflt_conf()); an IPv4 address marks
# them all set (ipv4_devconf_setall()), as the loopback's does when it comes up.
INTERFACE_DEFAULTS = {"accept_redirects": 1, "send_redirects": 1, "secure_redirects": 1,
                      "accept_source_route": 1, "rp_filter": 0, "log_martians": 0}


def combine(rule, all_value, own_value, forwarding=0):
    """The value the kernel acts on for one interface (include/linux/inetdevice.h):
    ``IN_DEV_ORCONF``, ``IN_DEV_ANDCONF``, ``IN_DEV_MAXCONF``, and
    ``IN_DEV_RX_REDIRECTS`` (AND when the interface forwards, OR otherwise)."""
    if rule == "forwarding":
        rule = "and" if forwarding else "or"
    if rule == "or":
        return 1 if (all_value or own_value) else 0
    if rule == "and":
        return 1 if (all_value and own_value) else 0
    if rule == "max":
        return max(all_value, own_value)
    raise ValueError("unknown combination rule %r" % rule)


def all_value_decides(rule, expected):
    """True when an ``all`` value of ``expected`` fixes every interface's
    effective value whatever the interface's own value (OR with 1, AND with
    0); otherwise each interface's own value must be set too."""
    return (rule == "or" and expected) or (rule == "and" and not expected)


def live_kernel_available(root="/", proc_root="/proc"):
    """Whether the running kernel's values belong to this tree: not when
    working on another root (a mounted image), in a chroot, or without
    /proc/sys."""
    return live_root(root, proc_root) and os.path.isdir(os.path.join(proc_root, "sys", "kernel"))
