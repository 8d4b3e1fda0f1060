# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Configuration text read through the target root, for the small readers of
the non-kernel settings (boot loader, units, packages, time, network, SSH,
fstab, udev).

Every read goes through a ``Target``: paths resolve inside the root, only
regular files are read, and anything else is a ``ConfigError`` naming the
path, never a blocked read or a traceback."""

import posixpath
import re

from ansible_collections.guestready.gce.plugins.module_utils.globs import fnmatchcase
from ansible_collections.guestready.gce.plugins.module_utils.target import (
    Missing, NotUtf8, Target, TargetError, Unreadable, name_order, text_of)

# Configuration files are a few KiB; a dpkg status file a few MiB.
MAX_SIZE = 32 * 1024 * 1024


class ConfigError(Exception):
    """A configuration file could not be read or understood; the message
    names it."""


# files one configuration may read through its includes, repeats counted:
# includes that fan out without a loop (a file including another 300 times,
# three levels deep) must not keep a check busy for ever
MAX_INCLUDED = 1024


def check_included(target, path, count, what="includes read"):
    """ConfigError naming ``path`` when ``count`` files were already read
    through the includes of one configuration (``what`` says how)."""
    if count >= MAX_INCLUDED:
        raise ConfigError("%s: %s more than %d files: not read further"
                          % (target.display(path), what, MAX_INCLUDED))


def as_target(root):
    return root if isinstance(root, Target) else Target(root or "/")


def read_data(target, path, limit=MAX_SIZE):
    """The bytes of ``path`` inside the root, or None when it does not
    exist; a non-regular file or an unreadable one is a ConfigError."""
    try:
        return target.read_bytes(path, limit=limit)
    except Missing:
        return None
    except TargetError as exc:
        raise ConfigError(str(exc))


def read(target, path, limit=MAX_SIZE):
    """The text of ``path`` inside the root, or None when it does not exist.
    Binary content, a non-regular file or an unreadable one is a
    ConfigError; a text that is not UTF-8 is a ``NotUtf8``."""
    data = read_data(target, path, limit)
    if data is None:
        return None
    if b"\0" in data:
        raise ConfigError("%s: binary data, not a configuration file" % target.display(path))
    return text_of(data)


def listed_text(target, path):
    """The text of a file a configuration directory lists (``dropins``) as udev and systemd's
    units read it: none in a directory of such a name, which conf_files_list_strv() lists (its
    name hiding the same name in later directories) and the reader fails to read and passes over
    (udev_rules_load(): "Failed to read rules file %s, ignoring"; unit_load_dropin())."""
    return "" if target.isdir(path) else read(target, path)


def present(target, path):
    """Whether ``path`` is there to be read: it exists, or it is a link that
    cannot be resolved (a loop), which the read then names; a dangling link
    is absent, as it is to the program that reads the file."""
    try:
        target.stat(path)
    except Missing:
        return False
    except Unreadable:
        raise
    except TargetError:
        return target.islink(path)
    return True


_ASCII_LOWER = dict((code, code + 32) for code in range(ord("A"), ord("Z") + 1))


def ascii_lower(text):
    """``text`` with A-Z folded to a-z only, as C's tolower() in the C locale
    (``str.lower`` folds other letters too)."""
    return text.translate(_ASCII_LOWER)


def lines(text, keepends=False):
    """The lines of ``text`` as sh, GRUB and libmount see them: split at
    ``\n`` only (``str.splitlines`` also splits at \x0b, \x0c, \x1c-\x1e,
    \x85, U+2028/9, which would turn the rest of a comment into a line)."""
    if not text:
        return []
    rows = text.split("\n")
    if keepends:
        rows = [row + "\n" for row in rows[:-1]] + ([rows[-1]] if rows[-1] else [])
    elif not rows[-1]:
        rows.pop()
    return rows


# paths the includes of one configuration may reach while their patterns
# expand (every name listed, every path tried): a tree with links back up
# (``x -> /``) makes ``/*/*/*/...`` reach exponentially many, and a file of
# many such lines, or of lines listing a large directory, multiplies that
# again; no configuration includes more than MAX_INCLUDED files anyway
MAX_GLOB_PATHS = 16 * MAX_INCLUDED


def _spend(target, budget, count, path):
    if budget is not None:
        budget[0] -= count
        if budget[0] < 0:
            raise ConfigError("%s: the include patterns reach more than %d paths: not expanded"
                              % (target.display(path), MAX_GLOB_PATHS))


def _listing(target, directory):
    try:
        return target.listdir(directory)
    except Missing:
        return []
    except TargetError as exc:
        raise ConfigError(str(exc))


def names(target, directory, pattern="*", budget=None):
    """Sorted names in ``directory`` matching ``pattern`` (glob); [] when
    the directory does not exist.  A name starting with '.' only when the
    pattern does: glob(3) without GLOB_PERIOD (sh, chrony, netplan,
    cloud-init), and systemd's conf-files skip hidden files too
    (hidden_or_backup_file()).  ``budget``: see ``glob``."""
    listing = _listing(target, directory)
    _spend(target, budget, len(listing), directory)
    return [name for name in listing if fnmatchcase(name, pattern)
            and (not name.startswith(".") or pattern.startswith("."))]


def glob(target, pattern, budget=None):
    """Paths inside the root matching an absolute glob pattern (``*``, ``?``,
    ``[...]`` in any component; a name starting with '.' only where the
    component does), sorted like the shell sorts them.
    ``budget``: a list holding how many more paths the includes of one
    configuration may reach (MAX_GLOB_PATHS for this glob alone without it);
    past it, a ConfigError naming the pattern."""
    budget = [MAX_GLOB_PATHS] if budget is None else budget
    parts = [part for part in pattern.split("/") if part]
    found = ["/"]
    for index, part in enumerate(parts):
        following = []
        for base in found:
            if any(char in part for char in "*?["):
                listing = _listing(target, base)
                _spend(target, budget, len(listing), pattern)
                # glob(3) without GLOB_PERIOD: a leading '.' is matched only by a '.' in the pattern
                following.extend(posixpath.join(base, name) for name in listing if fnmatchcase(name, part)
                                 and (not name.startswith(".") or part.startswith(".")))
            else:
                _spend(target, budget, 1, pattern)
                if target.exists(posixpath.join(base, part)) or target.islink(posixpath.join(base, part)):
                    following.append(posixpath.join(base, part))
        # like glob(3), descend only into directories: a file, a dangling link or
        # a link loop where the pattern goes on matches nothing, it is no error
        found = following if index == len(parts) - 1 else [path for path in following if target.isdir(path)]
    return sorted(found, key=name_order)


def dropins(target, directories, suffix, budget=None):
    """systemd-style configuration directories: ``[(path, name)]`` of the
    files ending in ``suffix``, a name in an earlier directory hiding the
    same name in later ones, masked names (links to /dev/null) left out,
    sorted by name.  ``budget`` (see ``glob``): for directories a
    configuration names."""
    chosen = {}
    for directory in directories:
        for name in names(target, directory, "*" + suffix, budget):
            if name in chosen:
                continue
            path = posixpath.join(directory, name)
            chosen[name] = None if target.is_masked(path) else path
    return [(chosen[name], name) for name in sorted(chosen, key=name_order) if chosen[name] is not None]


def strip_comment(line, markers="#"):
    """``line`` without a comment that starts a line or follows whitespace."""
    for index, char in enumerate(line):
        if char in markers and (index == 0 or line[index - 1] in " \t"):
            return line[:index]
    return line


# isspace() of the C locale: what C programs split a line's words at (str.split()
# also splits at \x1c-\x1f, \x85, a no-break space and other Unicode blanks)
_C_WORD = re.compile(r"[^ \t\n\v\f\r]+")


def c_words(text):
    """The words of ``text`` between runs of C ``isspace()`` characters."""
    return _C_WORD.findall(text)


def utf8_size(text):
    """The bytes ``text`` takes in UTF-8: what a line-length limit of a
    program reading the file counts."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogateescape"))


def size_counter(text):
    """How to count the bytes of a piece of ``text`` in its file: a
    character a byte in a ``NotUtf8`` text, its UTF-8 otherwise."""
    return len if isinstance(text, NotUtf8) else utf8_size


def commented(row, header, limit):
    """``row`` (a line, its line end kept) as the comment ``header: row``; in
    comment lines of fewer than ``limit`` bytes each when that one would not
    be, since the program reading the file stops at a line that long (udevd's
    UDEV_LINE_SIZE, systemd-sysctl's LONG_LINE_MAX) and would lose what follows."""
    body = row.rstrip("\r\n")
    end = row[len(body):]
    marked = "%s: %s" % (header, body)
    if utf8_size(marked) < limit:
        return marked + end
    step = (limit - 2) // (1 if body.isascii() else 4)   # up to 4 bytes a character
    parts = [header + ", in parts:"] + ["#" + body[at:at + step] for at in range(0, len(body), step)]
    return (end or "\n").join(parts) + end
