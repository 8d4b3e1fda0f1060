# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What modprobe's configuration says against loading a module, read as
kmod reads it (libkmod/libkmod-config.c).

``blacklist <module>`` keeps a module from being loaded for a device:
systemd-udevd and systemd-modules-load load with KMOD_PROBE_APPLY_BLACKLIST
(src/shared/module-util.c), in the initramfs too (dracut and
initramfs-tools copy modprobe.d).  ``install <module> /bin/false`` (or
``true``) replaces every load with a command that loads nothing: the first
install line whose module pattern matches counts, for the module and for
each module it needs, unless a softdep of it comes first.  ``alias
<pattern> <module>`` matching a device's modalias overrides depmod's
tables: udev loads that module, not the driver.  On the
kernel command line, ``modprobe.blacklist=a,b`` is kmod's blacklist and
``module_blacklist=a,b`` makes the kernel itself refuse the module.  None of
them stops a driver that is built in.

Files: ``*.conf`` and ``*.alias`` in the directories below, a name in an
earlier directory hiding the same name in later ones (a link to /dev/null
masks it), read in name order; a line ending in ``\\`` goes on on the next,
``#`` starts a comment line, ``-`` and ``_`` in module names are one."""

import posixpath
import re

from ansible_collections.guestready.gce.plugins.module_utils import configfiles, kernel_cmdline
from ansible_collections.guestready.gce.plugins.module_utils.globs import fnmatch
from ansible_collections.guestready.gce.plugins.module_utils.target import TargetError, name_order

CONF_DIRS = ("/etc/modprobe.d", "/run/modprobe.d", "/usr/local/lib/modprobe.d",
             "/usr/lib/modprobe.d", "/lib/modprobe.d")
SUFFIXES = (".conf", ".alias")
# an install command that loads nothing
NO_OP_COMMANDS = ("true", "false")
CMDLINE_PARAMETERS = {"modprobe.blacklist": "kmod's blacklist on the kernel command line",
                      "module_blacklist": "the kernel refuses to load it"}


def module_name(text):
    """A module name (or pattern) as kmod keeps it (shared/util.c,
    underscores): ``-`` is ``_`` outside ``[...]``; None for a ``]``
    without its ``[`` or a ``[`` never closed (kmod ignores the line)."""
    pieces = re.split(r"(\[[^]]*\])", text)
    if any("[" in piece or "]" in piece for piece in pieces[0::2]):
        return None
    return "".join(piece if index % 2 else piece.replace("-", "_") for index, piece in enumerate(pieces))


def loads_nothing(command):
    """Whether an install command (the words after the module) loads
    nothing: ``true`` or ``false`` by any path; with a carriage return after
    it (a file with CRLF line ends) the shell finds no such command, which
    loads nothing either."""
    words = [word for word in _BLANKS.split(command) if word]
    return bool(words) and posixpath.basename(words[0].rstrip("\r")) in NO_OP_COMMANDS


def config_files(target):
    """``[(path, name)]`` kmod reads, in its order.  A directory or a name
    that cannot be stat()ed (a dangling link) is left out and hides no
    later file of its name (libkmod-config.c, conf_files_filter_out runs
    before conf_files_insert_sorted); a link to /dev/null hides it."""
    chosen = {}
    try:
        for directory in CONF_DIRS:
            for suffix in SUFFIXES:
                for name in configfiles.names(target, directory, "*" + suffix):
                    path = posixpath.join(directory, name)
                    if name in chosen:
                        continue
                    if target.is_masked(path):
                        chosen[name] = None
                    elif target.exists(path) and not target.isdir(path):
                        chosen[name] = path
    except TargetError as exc:
        raise configfiles.ConfigError(str(exc))
    return [(chosen[name], name) for name in sorted(chosen, key=name_order) if chosen[name] is not None]


# a backslash and the character it keeps (kmod's freadline_wrapped)
_ESCAPE = re.compile(r"\\(.)", re.S)
# kmod splits a line at blanks and tabs only (strtok_r(line, "\t ")): a
# carriage return stays in the word ("blacklist gve\r" names no module)
_BLANKS = re.compile(r"[\t ]+")
_C_SPACES = re.compile(r"[ \t\n\v\f\r]+")


def _logical_lines(text):
    """``(number, line)`` as kmod reads them (shared/util.c,
    freadline_wrapped), numbered by the line they start on: a backslash is
    dropped and keeps the character after it, and before the end of a line
    joins the next one to it; ``\\\\`` at the end is a backslash, no join."""
    pending, start = [], None
    for number, row in enumerate(configfiles.lines(text), 1):
        if start is None:
            start = number
        if (len(row) - len(row.rstrip("\\"))) % 2:
            pending.append(_ESCAPE.sub(r"\1", row[:-1]))
            continue
        pending.append(_ESCAPE.sub(r"\1", row))
        yield start, "".join(pending)
        pending, start = [], None
    if pending:
        yield start, "".join(pending)


def blocks(target):
    """``{module: [{"source", "line", "text", "how"}]}``: what keeps each
    module from loading, from every configuration file.  A file that cannot
    be read raises configfiles.ConfigError naming it."""
    return text_blocks((target.display(path), configfiles.read(target, path) or "")
                       for path, dummy in config_files(target))


_WILDCARDS = re.compile(r"[*?[\\]")


def _literal(pattern):
    """``(pattern, the part of it before any special character)``."""
    special = _WILDCARDS.search(pattern)
    return pattern, pattern if special is None else pattern[:special.start()]


def _matches(pattern, name):
    """fnmatch(3) of a ``_literal`` pattern, tried only when ``name``
    starts with its literal part."""
    pattern, start = pattern
    return name.startswith(start) and (pattern == name if start == pattern else fnmatch(pattern, name))


class Blocks(dict):
    """``{module: [blacklist lines]}``, and the ``install`` and ``softdep``
    lines apart, in kmod's order: their module is a pattern and only the
    first line matching a module counts (libkmod-module.c,
    kmod_module_get_install_commands and kmod_module_get_softdeps: fnmatch,
    "find only the first command").  ``get`` adds a module's install
    command when it loads nothing."""

    def __init__(self):
        dict.__init__(self)
        # each pattern with its literal start (_literal): a file of a million
        # lines costs a string comparison per line and module, not a match
        self.installs = []   # ((pattern, start), entry, or None for a command that loads the module)
        self.softdeps = []   # ((pattern, start), names)
        self.aliases = []    # ((pattern, start), module, entry)

    def __bool__(self):
        return len(self) > 0 or bool(self.installs or self.aliases)

    def alias_override(self, modalias, module):
        """``[entry]`` of the ``alias`` lines matching ``modalias`` when
        none of them names ``module``: they override every other table
        (libkmod-module.c, kmod_module_new_from_lookup looks in the
        configuration first and stops at a match), so udev loads theirs."""
        matching = [(name, entry) for pattern, name, entry in self.aliases if _matches(pattern, modalias)]
        if any(name == module for name, dummy in matching):
            return []
        return [entry for dummy, entry in matching]

    def install(self, module, resolves=None):
        """``[entry]`` of the install command that replaces loading
        ``module`` by nothing, or [].  kmod ignores the command of a module
        with a softdep naming a module it finds (``resolves``, a name ->
        bool; any name by default): __kmod_module_fill_softdep sets
        ``ignorecmd``."""
        for pattern, names in self.softdeps:
            if _matches(pattern, module):
                if any(resolves(name) if resolves else True for name in names):
                    return []
                break
        for pattern, entry in self.installs:
            if _matches(pattern, module):
                return [entry] if entry else []
        return []

    def get(self, key, default=None):
        return (dict.get(self, key) or []) + self.install(key) or default


def text_blocks(files):
    """``blocks`` of configuration files given as ``(source, text)`` pairs,
    in kmod's order (an initramfs's copy of modprobe.d)."""
    found = Blocks()
    for source, text in files:
        for number, line in _logical_lines(text):
            words = [word for word in _BLANKS.split(line) if word]
            # kmod_config_parse: a blacklist names a module, install and softdep more
            if len(words) < (2 if words[:1] == ["blacklist"] else 3):
                continue
            command, module = words[0], module_name(words[1])
            if module is None:
                continue
            entry = {"source": source, "line": number, "text": line.strip(), "how": command}
            if command == "blacklist":
                found.setdefault(module, []).append(entry)
            elif command == "install":
                found.installs.append((_literal(module), entry if loads_nothing(" ".join(words[2:])) else None))
            elif command == "alias":
                target = module_name(words[2])
                if target is not None:
                    found.aliases.append((_literal(module), target, entry))
            elif command == "softdep":
                # "pre:" and "post:" switch lists; other words before them are ignored; the
                # names end at any isspace() character (kmod_config_add_softdep), a \r too
                names, mode = [], None
                for word in [word for word in _C_SPACES.split(" ".join(words[2:])) if word]:
                    if word in ("pre:", "post:"):
                        mode = word
                    elif mode:
                        names.append(word)
                found.softdeps.append((_literal(module), names))
    return found


# why each kind of block loads nothing, as the hardware and kernel-config areas say it
WHY = {"blacklist": "udev loads with the blacklist applied", "install": "the install command loads nothing",
       "needed-install": "a module it needs, loaded first, is replaced by a command that loads nothing",
       "alias": "the device's modalias is given to another module, which udev loads instead"}
# what the hardware and kernel-config areas say of a module an initramfs carries and its modprobe.d blocks
IN_INITRAMFS = "the initramfs's copy of modprobe.d keeps it from loading there"


def block_lines(where):
    """``["<source>:<line>: <text>"]`` of ``blocks`` entries (the evidence)."""
    return ["%s:%s: %s" % (w["source"], w["line"], w["text"]) for w in where]


def describe(where):
    """What keeps a module from loading (``blocks`` entries), as text."""
    return "; ".join("%s (%s)" % (line, WHY.get(w["how"], w["how"])) for line, w in zip(block_lines(where), where))


def cmdline_blocks(command_lines):
    """``{module: [{"source", "line", "text", "how"}]}`` from the kernel
    command lines (``kernel_cmdline.find`` entries) of one release.  Their
    names are compared as written, unlike modprobe.d's: kmod keeps
    ``modprobe.blacklist=`` names verbatim (libkmod-config.c,
    kcmdline_parse_result) and the kernel compares ``module_blacklist=``
    names byte for byte (kernel/module/main.c, blacklisted()), both against
    the module's own name, which never holds a ``-``: ``virtio-net`` there
    blocks nothing."""
    found = {}
    for entry in command_lines:
        given = kernel_cmdline.parameters(entry["cmdline"])
        if entry.get("kind") == "running":
            # kmod reads /proc/cmdline itself, quotes kept ("a,b" blocks neither a nor b)
            # and past "--" (libkmod-config.c, kmod_config_parse_kcmdline); GRUB's lexer has
            # taken the quotes off the lines it boots before they get there
            given = [(name, value) for name, value in given if name != "modprobe.blacklist"] + [
                ("modprobe.blacklist", parameter[len("blacklist="):])
                for module, parameter in kernel_cmdline.kmod_options(entry["cmdline"])
                if module == "modprobe" and parameter.startswith("blacklist=")]
        # the kernel keeps only the last module_blacklist= (a charp core_param:
        # kernel/params.c, param_set_charp replaces the value); kmod adds up
        # every modprobe.blacklist=
        last = max([index for index, (name, value) in enumerate(given)
                    if name == "module_blacklist" and value is not None] or [None])
        for index, (name, value) in enumerate(given):
            if name not in CMDLINE_PARAMETERS or not value or name == "module_blacklist" and index != last:
                continue
            for module in value.split(","):
                if module:
                    found.setdefault(module, []).append(
                        {"source": entry["source"], "line": entry["line"],
                         "text": "%s=%s" % (name, value), "how": CMDLINE_PARAMETERS[name]})
    return found
