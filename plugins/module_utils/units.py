# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""systemd units on a tree: whether a unit exists, is enabled (the links
``systemctl enable`` makes under /etc/systemd/system), masked, and what the
presets say; ``systemctl`` itself on the live system.

Enabling in a tree makes the links ``systemctl enable`` would make, from the
unit's ``[Install]`` section, through the target root."""

import os
import posixpath
import re
import stat

from ansible_collections.guestready.gce.plugins.module_utils.configfiles import (
    ConfigError, dropins, glob, lines, listed_text, names, read, read_data, strip_comment)
from ansible_collections.guestready.gce.plugins.module_utils import sysctl, systemd_conf
from ansible_collections.guestready.gce.plugins.module_utils.envfile import ENV_NAME, load_env_file
from ansible_collections.guestready.gce.plugins.module_utils.globs import fnmatchcase
from ansible_collections.guestready.gce.plugins.module_utils.target import Missing, TargetError, Unreadable, file_kind

# systemd.unit(5), system unit search path, highest priority first
# (Debian's systemd, built for split /usr up to Debian 12, reads /lib before /usr/lib:
# `systemd-analyze unit-paths`; on a merged /usr they are one directory)
UNIT_DIRS = ("/etc/systemd/system", "/run/systemd/system", "/usr/local/lib/systemd/system",
             "/lib/systemd/system", "/usr/lib/systemd/system")
RUNTIME_DIR = "/run/systemd/system"
PRESET_DIRS = ("/etc/systemd/system-preset", "/run/systemd/system-preset",
               "/usr/local/lib/systemd/system-preset", "/usr/lib/systemd/system-preset",
               "/lib/systemd/system-preset")
CONFIG_DIR = "/etc/systemd/system"


# unit-name.c: the unit types (unit_type_from_string), the characters of a name (VALID_CHARS
# and '@'), and which types may be aliased or templated (unit_type_may_alias/_template)
UNIT_TYPES = ("service", "mount", "swap", "socket", "target", "device", "automount", "timer", "path",
              "slice", "scope")
_ALIAS_TYPES = ("service", "socket", "target", "device", "timer", "path")
_TEMPLATE_TYPES = ("service", "socket", "target", "timer", "path")
_NAME_CHARS = re.compile(r"[0-9A-Za-z:_.\\@-]+\Z")
UNIT_NAME_MAX = 256


def unit_name_kind(name):
    """``"plain"``, ``"template"`` (``foo@.service``) or ``"instance"``
    (``foo@bar.service``), as systemd's unit_name_is_valid() classifies the
    name; None when it is no unit name (a known type after the last dot,
    the characters it allows, no leading '@', shorter than 256 bytes)."""
    prefix, dot, suffix = name.rpartition(".")
    if not prefix or suffix not in UNIT_TYPES or len(name.encode("utf-8", "surrogateescape")) >= UNIT_NAME_MAX \
            or not _NAME_CHARS.match(prefix) or prefix.startswith("@"):
        return None
    if "@" not in prefix:
        return "plain"
    return "template" if prefix.endswith("@") and prefix.index("@") == len(prefix) - 1 else "instance"


def template_of(name):
    """``serial-getty@ttyS0.service`` -> ``serial-getty@.service``; None for
    a name that is no instance."""
    if unit_name_kind(name) != "instance":
        return None
    prefix, suffix = name.rsplit(".", 1)
    return "%s@.%s" % (prefix.split("@", 1)[0], suffix)


def with_instance(name, instance):
    """``foo@.service`` with ``instance``: ``foo@instance.service`` (unit_name_replace_instance())."""
    prefix, suffix = name.rsplit(".", 1)
    return "%s@%s.%s" % (prefix.split("@", 1)[0], instance, suffix)


def _alias_refused(alias, name):
    """Why systemctl refuses ``alias`` for the unit ``name`` (unit-file.c
    unit_validate_alias_symlink_or_warn()), or None."""
    kind, unit_kind = unit_name_kind(alias), unit_name_kind(name)
    if kind is None:
        return "not a unit name"
    suffix = alias.rsplit(".", 1)[1]
    if suffix not in _ALIAS_TYPES or (kind != "plain" and suffix not in _TEMPLATE_TYPES):
        return "%s units cannot have this alias" % suffix
    if not (kind == unit_kind or (kind == "instance" and unit_kind == "template")):
        named = {"plain": "a plain name", "template": "a template", "instance": "an instance"}
        return "it is %s, the unit %s" % (named[kind], named[unit_kind])
    if unit_kind == "instance" and alias.rsplit(".", 1)[0].split("@", 1)[1] != name.rsplit(".", 1)[0].split("@", 1)[1]:
        return "its instance differs"
    if suffix != name.rsplit(".", 1)[1]:
        return "its type differs"
    return None


def masks(info):
    """Whether a unit file with the stat result ``info`` masks its name:
    systemd's null_or_empty() takes an empty regular file and any character
    device (not only /dev/null) for a mask."""
    return (stat.S_ISREG(info.st_mode) and info.st_size <= 0) or stat.S_ISCHR(info.st_mode)


def unit_file(target, name):
    """The path of the unit's file (its template's for an instance), or None
    (none, or masked).  As the service manager finds it: what is no
    regular file is passed over."""
    for candidate in (name, template_of(name)):
        for directory in UNIT_DIRS if candidate else ():
            path = posixpath.join(directory, candidate)
            try:
                info = target.lstat(path)
                if stat.S_ISLNK(info.st_mode):
                    if target.is_masked(path):   # a link to /dev/null, whether the tree has one or not
                        return None
                    info = target.stat(path)
            except Unreadable:
                raise   # "absent" would be a guess
            except TargetError:
                continue
            if masks(info):
                return None
            if stat.S_ISREG(info.st_mode):
                return path
    return None


class _Lookup(Exception):
    """systemctl finds no unit file state: ``state`` is ``not-found`` or
    ``unloadable``, the message says why."""

    def __init__(self, state, message):
        super(_Lookup, self).__init__(message)
        self.state = state


def _load(target, path):
    """``(type, where, [Install] settings)`` of the file at ``path`` as
    install.c unit_file_load_or_readlink() (systemd 252) takes it:
    ``masked`` (where the mask is, or None), ``regular``, ``symlink`` (an
    alias) or ``linked`` (where the link leads); None when there is nothing
    (ENOENT, ENOTDIR, EACCES)."""
    try:
        info = target.lstat(path)
    except TargetError:
        return None
    if stat.S_ISLNK(info.st_mode):
        try:
            return _load_link(target, path)
        except TargetError as exc:
            raise _Lookup("unloadable", str(exc))
    if masks(info):
        return "masked", None, {}
    if not stat.S_ISREG(info.st_mode):
        raise _Lookup("unloadable", "%s is a %s" % (target.display(path), file_kind(info.st_mode)))
    settings, stop = systemd_conf.parse(read(target, path) or "")
    if stop:
        raise _Lookup("unloadable", _failed_at(target, path, stop))
    return "regular", None, _install(settings)


def _chase(target, path):
    """``path`` with the links on its way (not the last) resolved in the
    root; where a directory on the way is missing, the text made absolute
    (chase_symlinks() with CHASE_NOFOLLOW|CHASE_NONEXISTENT)."""
    try:
        return target.inside(target.host_path(path, follow=False))
    except Missing:
        return posixpath.normpath("/" + path.lstrip("/"))


# systemd 252's whole system unit search path (`systemd-analyze unit-paths`): a link into it is an alias
_SEARCH_PATH = UNIT_DIRS + ("/etc/systemd/system.control", "/run/systemd/system.control", "/run/systemd/transient",
                            "/run/systemd/generator.early", "/etc/systemd/system.attached",
                            "/run/systemd/system.attached", "/run/systemd/generator", "/run/systemd/generator.late")


def _load_link(target, path):
    """A unit file that is a link, one step of it (unit-file.c
    unit_file_resolve_symlink() as systemctl 252 calls it): into the search
    path an alias, which must be one systemd accepts; else a mask when it
    leads to /dev/null or to a file that masks, or a linked file."""
    where = _chase(target, posixpath.join(posixpath.dirname(path), target.readlink(path)))
    inside = any(where.startswith(d + "/") for d in _SEARCH_PATH)
    alias, other = posixpath.basename(path), posixpath.basename(where)
    why = inside and other != alias and ("%s is no unit name" % other if unit_name_kind(other) is None
                                         else _alias_refused(alias, other))
    if why:
        raise _Lookup("unloadable", "%s: a link to %s: %s" % (target.display(path), where, why))
    if inside:   # an alias: the unit file found by that name decides, a mask too
        return "symlink", where, {}
    # a tree need not have a /dev/null: a link to that path masks (null_or_empty_path_with_root());
    # where the mask is decides whether it is for this boot only (the link's for /dev/null)
    if where == "/dev/null":
        return "masked", None, {}
    try:
        if masks(target.stat(where)):
            return "masked", where, {}
    except Missing:
        pass
    return "linked", where, {}   # a file linked in from elsewhere, whatever its name


def _search(target, name):
    """``(path, loaded)`` of the first of the unit's (then its template's)
    files in the search path (install.c unit_file_search()); None."""
    for candidate in (name, template_of(name)):
        for directory in UNIT_DIRS if candidate else ():
            path = posixpath.join(directory, candidate)
            loaded = _load(target, path)
            if loaded is not None:
                return path, loaded
    return None


def _discover(target, name):
    """``(name, path, type, [Install] settings)`` of the unit file
    ``systemctl is-enabled name`` looks at (install.c install_info_traverse():
    a link leads to the file it names, or to the unit named by its
    destination, an alias); _Lookup when there is none it can use."""
    found = _search(target, name)
    if found is None:
        raise _Lookup("not-found", "no unit file for %s" % name)
    path, (kind, dest, install) = found
    for dummy in range(64):   # UNIT_FILE_FOLLOW_SYMLINK_MAX
        if kind not in ("symlink", "linked"):
            return name, dest if kind == "masked" and dest else path, kind, install
        other = posixpath.basename(dest)
        if other != name and unit_name_kind(name) == "instance" and unit_name_kind(other) == "template":
            other = with_instance(other, name.rsplit(".", 1)[0].split("@", 1)[1])
        if kind == "linked" or other == name:
            path, loaded = dest, _load(target, dest)
            if loaded is None:
                raise _Lookup("not-found", "%s: no such file" % target.display(dest))
        else:
            if unit_name_kind(other) is None:
                raise _Lookup("unloadable", "%s leads to %s, which is no unit name" % (target.display(path), dest))
            name, found = other, _search(target, other)
            if found is None:   # systemctl: "Link has been severed"
                raise _Lookup("not-found", "%s leads to %s, which has no unit file" % (target.display(path), other))
            path, loaded = found
        kind, dest, install = loaded
    raise _Lookup("unloadable", "%s: too many levels of links" % target.display(path))


def alias_of(target, name):
    """The unit ``name`` is an alias of (a link to its file in the unit
    search path, as ``systemctl is-enabled`` follows it), or None."""
    try:
        found = _discover(target, name)[0]
    except (_Lookup, ConfigError, TargetError):
        return None
    return found if found != name else None


# the conditions a unit is skipped by when another program is installed
# (Debian's systemd-timesyncd.service.d/disable-with-time-daemon.conf:
# ConditionFileIsExecutable=!/usr/sbin/chronyd and the like)
ABSENCE_CONDITIONS = ("ConditionFileIsExecutable", "ConditionPathExists")


def _unit_names(target, name, path):
    """The names systemd knows the unit by, whose drop-in directories it
    reads, its own first (systemd 246+ unit_file_build_name_map: a link in
    the unit path to the unit's file is an alias; Debian's chrony.service
    has Alias=chronyd.service): ``name`` (or, when ``path`` is a link, the
    name of the file it leads to), the links in the unit directories to the
    unit's file (a template's, named for the instance) and the unit's
    ``Alias=`` names linked in /etc/systemd/system."""
    found = [name]
    instance = name.rsplit(".", 1)[0].split("@", 1)[1] if unit_name_kind(name) == "instance" else None
    try:
        if target.islink(path):   # the unit's own name is its file's; ``name`` an alias
            own = posixpath.basename(target.readlink(path))
            found.insert(0, with_instance(own, instance) if instance and unit_name_kind(own) == "template" else own)
        base = posixpath.basename(path)
        links = [entry for directory in UNIT_DIRS for entry, text in sorted(_symlinks(target, directory).items())
                 if entry != base and posixpath.basename(text) == base]
        aliases = install_section(read(target, path) or "").get("Alias", [])
    except (ConfigError, TargetError):
        return found
    found.extend(alias for alias in aliases if unit_name_kind(alias) and target.islink(posixpath.join(CONFIG_DIR, alias)))
    found.extend(with_instance(link, instance) if instance and unit_name_kind(link) == "template" else link
                 for link in links if unit_name_kind(link) and not _alias_refused(link, base))
    return [unit for unit in dict.fromkeys(found) if unit_name_kind(unit)]


def _dropin_names(name):
    """The names whose drop-in directories a unit of that name reads
    (dropin.c unit_file_find_dirs(), systemd 246+): its own, its template's
    (and so on for that), then those of its dash prefixes, the longest
    first: ``foo-bar-baz.service`` reads ``foo-bar-.service.d`` and
    ``foo-.service.d``; an instance ``foo-bar@x.service`` ``foo-@x.service.d``."""
    found = [name]
    kind = unit_name_kind(name)
    if kind == "instance":
        found.extend(_dropin_names(template_of(name)))
    prefix, suffix = name.rsplit(".", 1)
    prefix, at, instance = prefix.partition("@")
    dash = prefix.rfind("-")
    if dash == len(prefix) - 1:   # a trailing dash is chopped off, once
        prefix = prefix[:dash]
        dash = prefix.rfind("-")
    if dash <= 0:
        return found
    built = prefix[:dash + 1] + ("@" + instance if kind == "instance" else "") + "." + suffix
    return found + _dropin_names(built) if unit_name_kind(built) else found


def section_settings(target, name, section):
    """``[(key, value, path)]`` of one section (``Unit``, ``Service``) of the
    unit's file, then of its drop-ins in name order (those of every name of
    the unit and of their dash prefixes, and the ``service.d`` ones every
    service reads, systemd 246+);
    None without a unit file.  As systemd's conf-parser.c config_parse()
    reads them (systemd_conf.parse())."""
    path = unit_file(target, name)
    if path is None:
        return None
    # dropin.c unit_file_find_dropin_paths(): those of the unit's name in each unit directory, then
    # those of each alias (in no set order: systemd iterates a hash set), then the type's
    # (service.d), the most generic, which the more specific ones override
    directories = [posixpath.join(d, dropin + ".d") for unit in _unit_names(target, name, path) for d in UNIT_DIRS
                   for dropin in _dropin_names(unit)] + [
        posixpath.join(d, name.rsplit(".", 1)[-1] + ".d") for d in UNIT_DIRS]
    found = []
    for source in [path] + [p for p, dummy in dropins(target, directories, ".conf")]:
        # a file config_parse() fails is read up to there (load-dropin.c unit_load_dropin()
        # goes on with the next drop-in; a unit's own file failing fails the unit, not judged here)
        found.extend((key, value, source) for current, key, value, dummy, dummy2
                     in systemd_conf.parse(listed_text(target, source) or "")[0] if current == section)
    return found


def _unit_section(target, name):
    """``[(key, value)]`` of the [Unit] section (``section_settings``)."""
    settings = section_settings(target, name, "Unit")
    return None if settings is None else [(key, value) for key, value, dummy in settings]


class Unresolved(Exception):
    """The command line systemd starts a service with cannot be worked out
    from its files; the message says why."""


class NotStarted(Exception):
    """systemd does not start the service as its files stand; the message
    says why."""


# systemd 257 escape.c cunescape_one(): the escapes of a command line and of Environment=
_C_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\",
              '"': '"', "'": "'", "s": " "}


def split_words(text, cunescape=False):
    """The words of ``text`` as systemd's extract_first_word() splits them
    (extract-word.c, EXTRACT_UNQUOTE): at blanks, a quoted part joining the
    word it is in, a backslash taking the next character as it is.  Without
    ``cunescape`` (EXTRACT_RELAX: a variable's value split on an ExecStart=
    line) an open quote ends at the end; with it (an ExecStart= or
    Environment= line) C escapes are decoded and a word systemd refuses is
    Unresolved."""
    words, index, length = [], 0, len(text)
    while True:
        while index < length and text[index] in " \t\n\r":
            index += 1
        if index >= length:
            return words
        word, quote = [], None
        while index < length and (quote or text[index] not in " \t\n\r"):
            char = text[index]
            if char == "\\":
                if index + 1 >= length:
                    if cunescape:
                        raise Unresolved("a backslash at the end of %r" % text)
                    index += 1
                    continue
                escaped, index = _escape(text, index + 1, cunescape)
                word.append(escaped)
                continue
            if quote and char == quote:
                quote = None
            elif not quote and char in "'\"":
                quote = char
            else:
                word.append(char)
            index += 1
        if quote and cunescape:
            raise Unresolved("an unterminated quote in %r" % text)
        words.append("".join(word))


def _escape(text, index, cunescape):
    """``(character, next index)`` of the escape whose character is at ``index``."""
    char = text[index]
    if not cunescape:
        return char, index + 1
    if char in _C_ESCAPES:
        return _C_ESCAPES[char], index + 1
    if char in " \t\n\r":
        return char, index + 1   # load-fragment.c config_parse_exec(): EXTRACT_UNESCAPE_SEPARATORS
    if char == "x" and re.match(r"[0-9a-fA-F]{2}", text[index + 1:index + 3]):
        return chr(int(text[index + 1:index + 3], 16)), index + 3
    if re.match(r"[0-7]{3}", text[index:index + 3]):
        return chr(int(text[index:index + 3], 8)), index + 3
    raise Unresolved("the escape \\%s in %r" % (char, text))


def _specifiers(word, where):
    """``word`` with systemd's ``%%`` resolved; any other specifier (``%i``,
    ``%N``...) names something of the running system: Unresolved."""
    found = re.search(r"%[^%]", word.replace("%%", ""))
    if found or word.replace("%%", "").endswith("%"):
        raise Unresolved("%s uses the specifier %s" % (where, found.group(0) if found else "%"))
    return word.replace("%%", "%")


def _replace_env(word, env):
    """``${NAME}`` in a word replaced by the variable's value (nothing when
    unset), ``$$`` by ``$``; ``$NAME`` inside a word and ``${NAME:-x}``
    stay as written (systemd 257 env-util.c replace_env_full(), flags 0)."""
    out, start, state = [], 0, "word"
    for index, char in enumerate(word):
        if state == "word":
            state = "dollar" if char == "$" else state
        elif state == "dollar":
            if char == "{":
                out.append(word[start:index - 1])
                start, state = index - 1, "variable"
            elif char == "$":
                out.append(word[start:index])
                start, state = index + 1, "word"
            else:
                state = "word"
        elif char == "}":
            name = word[start + 2:index]
            out.append(env.get(name, "") if ENV_NAME.match(name) else "")
            start, state = index + 1, "word"
        elif char == ":":
            state = "word"
    out.append(word[start:])
    return "".join(out)


def expand_command(argv, env):
    """A command line's words with the environment put in, as
    systemd.service(5) says and env-util.c replace_env_argv() does: a word
    that is ``$NAME`` becomes the value split into words (quotes honoured,
    none when unset), ``${NAME}`` anywhere in a word its value as it is."""
    expanded = []
    for word in argv:
        if word.startswith("$") and word[1:2] not in ("{", "$"):
            value = env.get(word[1:]) if ENV_NAME.match(word[1:]) else None
            expanded.extend(split_words(value) if value else [])
        else:
            expanded.append(_replace_env(word, env))
    return expanded


# an environment file is a few lines; one this large is read no further (its characters are
# parsed one by one)
ENV_FILE_LIMIT = 1024 * 1024
# systemd.service(5) ExecStart=: the characters that may come before the path
EXEC_PREFIXES = "-@:+!|"


def service_command(target, name):
    """``(argv, where)``: the command line systemd starts the service with
    from its files, ``where`` the files that made it; None without a unit
    file or an ExecStart=.  The last ExecStart= counts, an empty one
    resetting the list (a service other than Type=oneshot takes exactly
    one: more is Unresolved); Environment= and then the EnvironmentFile=
    files (a later one wins; ``-``: may be missing) are put in as
    systemd.service(5) says, unless the path has the ``:`` prefix.
    NotStarted when systemd does not start it (a required EnvironmentFile=
    missing); Unresolved when the files do not tell (specifiers)."""
    settings = section_settings(target, name, "Service")
    if settings is None:
        return None
    commands, assignments, env_files = [], [], []
    named = any(key == "ExecStart" for key, value, dummy in settings)
    for key, value, path in settings:
        for setting, found in (("ExecStart", commands), ("Environment", assignments), ("EnvironmentFile", env_files)):
            if key == setting:
                if value:
                    found.append((value, path))
                else:
                    del found[:]   # systemd.unit(5): an empty assignment resets the list
    if not commands:
        if named and ("Type", "oneshot") not in [(key, value) for key, value, dummy in settings]:
            # service.c service_verify(): "Service has no ExecStart=, ExecStop=, or SuccessAction=. Refusing."
            raise NotStarted("systemd does not start %s: an empty ExecStart= resets its command and none follows"
                             % name)
        return None
    if len(commands) > 1:
        raise Unresolved("%s has %d ExecStart= lines (%s): systemd takes more than one for Type=oneshot only"
                         % (name, len(commands), ", ".join(target.display(p) for v, p in commands)))
    line, path = commands[0]
    where = "the ExecStart= of %s in %s" % (name, target.display(path))
    words = [_specifiers(word, where) for word in split_words(line, cunescape=True)]
    if ";" in words:
        raise Unresolved("%s runs more than one command" % where)
    first = words[0] if words else ""
    prefixes = first[:len(first) - len(first.lstrip(EXEC_PREFIXES))]
    argv = [first[len(prefixes):]] + words[1:]
    if "@" in prefixes:
        argv = argv[:1] + argv[2:]   # the word after the path is argv[0]: its name is no argument
    sources = [target.display(path)]
    if ":" in prefixes:
        return argv, sources   # no environment variable is put in
    env = {}
    for value, source in assignments:
        for word in split_words(value, cunescape=True):
            variable, equals, content = _specifiers(word, "Environment= in %s" % target.display(source)).partition("=")
            if equals and ENV_NAME.match(variable):
                env[variable] = content
    systemd = sysctl.systemd_version(target) if env_files else None   # how it reads the files
    for value, source in env_files:
        optional = value.startswith("-")
        pattern = _specifiers(value[1:] if optional else value, "EnvironmentFile= in %s" % target.display(source))
        if not pattern.startswith("/"):
            continue   # load-fragment.c config_parse_unit_env_file(): "Path '%s' is not absolute, ignoring."
        paths = glob(target, pattern) if any(c in pattern for c in "*?[") else [pattern]
        files = [(found, read_data(target, found, ENV_FILE_LIMIT)) for found in paths]
        if not optional and (not files or any(data is None for dummy, data in files)):
            # exec-invoke.c exec_context_load_environment(): a required file that is missing fails the start
            raise NotStarted("systemd does not start %s: its EnvironmentFile=%s (%s) does not exist"
                             % (name, value, target.display(source)))
        for found, data in files:
            if data is None:
                continue
            pairs, why = load_env_file(data, systemd)
            if why and optional:
                continue   # a file load_env_file() fails on is skipped with "-", and fails the start without
            if why:
                raise NotStarted("systemd does not start %s: it cannot load its EnvironmentFile=%s (%s): %s: %s"
                                 % (name, value, target.display(source), target.display(found), why))
            env.update((key, text) for key, text in pairs if ENV_NAME.match(key))
            sources.append(target.display(found))
    return expand_command(argv, env), sources


def held_back_by(target, name):
    """The file whose presence a negated ``ABSENCE_CONDITIONS`` of the unit
    (its file, then its drop-ins in name order) finds, so systemd skips
    starting it; None.  An empty assignment resets that condition's list."""
    negated = dict((key, []) for key in ABSENCE_CONDITIONS)
    for key, value in _unit_section(target, name) or []:
        if key not in negated:
            continue
        if not value:
            negated[key] = []
        elif value.startswith("!") and value[1:].startswith("/"):
            negated[key].append(value[1:])
    for key in ABSENCE_CONDITIONS:
        for found in negated[key]:
            if target.isfile(found) if key == "ConditionFileIsExecutable" else target.exists(found):
                return found
    return None


def conflicts(target, name):
    """The units the unit's ``Conflicts=`` names (its file, then its drop-ins
    in name order)."""
    # config_parse_unit_deps(): extract_first_word() with EXTRACT_RETAIN_ESCAPE
    return set(unit for key, value in _unit_section(target, name) or [] if key == "Conflicts"
               for unit in systemd_conf.words(value, retain_escape=True)[0])


def install_section(text):
    """``{"WantedBy": [...], "RequiredBy": [...], "Alias": [...], "DefaultInstance": ...}``
    of a unit file as systemctl reads it (install.c unit_file_load(): config_parse(),
    systemd_conf.parse(); config_parse_strv(): an empty assignment resets a list)."""
    return _install(systemd_conf.parse(text)[0])


def _install(settings):
    found = {}
    for section, key, value, dummy, dummy2 in settings:
        if section != "Install":
            continue
        if key == "DefaultInstance":
            found[key] = value
        elif value:
            # config_parse_strv(): EXTRACT_UNQUOTE|EXTRACT_RETAIN_ESCAPE
            found.setdefault(key, []).extend(systemd_conf.words(value, unquote=True, retain_escape=True)[0])
        else:
            found[key] = []
    return found


def enablement_links(target, name):
    """The ``(link path, link text)`` pairs ``systemctl enable name`` makes
    (install.c install_info_apply()): an ``Alias=`` link each (a template
    alias of an instance gets its instance; an alias to the unit itself is
    none), a ``.wants``/``.requires`` link for each ``WantedBy=`` and
    ``RequiredBy=`` (a template names its ``DefaultInstance=``, else only
    templates and instances may want it), each to the unit's file.
    ConfigError for what systemctl refuses."""
    path, settings, stop = _own_file(target, name)
    if path is None:
        return []
    if stop:
        raise ConfigError("%s: systemctl cannot read it: not enabled" % _failed_at(target, path, stop))
    install, kind = _install(settings), unit_name_kind(name)
    where = target.display(path)
    links = []
    for alias in install.get("Alias", []):
        if unit_name_kind(alias) == "template" and kind == "instance":
            alias = with_instance(alias, name.rsplit(".", 1)[0].split("@", 1)[1])
        if alias == name:
            continue   # an alias to itself: systemctl passes over it
        # a '/' or '..' in it would put the link anywhere in the tree
        why = "not a unit name" if "/" in alias else _alias_refused(alias, name)
        if why:
            raise ConfigError("%s: Alias=%s: %s (systemctl refuses it): not enabled" % (where, alias, why))
        links.append((posixpath.join(CONFIG_DIR, alias), path))
    wanted, kinds = name, ("plain", "template", "instance")
    if kind == "template":
        if install.get("DefaultInstance"):
            wanted = with_instance(name, install["DefaultInstance"])
            if unit_name_kind(wanted) != "instance":
                raise ConfigError("%s: DefaultInstance=%s makes no unit name: not enabled" % (
                    where, install["DefaultInstance"]))
        else:
            kinds = ("template", "instance")   # the instance comes from the unit that wants it
    for key, suffix in (("WantedBy", ".wants"), ("RequiredBy", ".requires")):
        for unit in install.get(key, []):
            if unit_name_kind(unit) not in kinds:
                raise ConfigError("%s: %s=%s is not a unit name%s (systemctl refuses it): not enabled" % (
                    where, key, unit, "" if unit_name_kind(unit) is None else " of a template or an instance"))
            links.append((posixpath.join(CONFIG_DIR, unit + suffix, wanted), path))
    return links


def _known_name(name, install, link_name):
    """install.c is_symlink_with_known_name(): the unit's name, an Alias=
    of it, or its template with DefaultInstance=."""
    if link_name == name or link_name in install.get("Alias", []):
        return True
    default = install.get("DefaultInstance")
    return bool(default) and unit_name_kind(name) == "template" and with_instance(name, default) == link_name


# systemd's hidden_or_backup_file(): what FOREACH_DIRENT passes over
_BACKUP_SUFFIXES = ("~", ".rpmnew", ".rpmsave", ".rpmorig", ".dpkg-old", ".dpkg-new", ".dpkg-tmp", ".dpkg-dist",
                    ".dpkg-bak", ".dpkg-backup", ".dpkg-remove", ".ucf-new", ".ucf-old", ".ucf-dist", ".swp", ".bak",
                    ".old", ".new")


def _symlinks(target, directory):
    """``{name: link text}`` of the links in a unit directory, hidden and
    backup names left out; {} when it is none."""
    try:
        found = target.symlinks(directory)
    except TargetError:
        return {}
    return dict((name, text) for name, text in found.items()
                if not name.startswith(".") and not name.endswith(_BACKUP_SUFFIXES))


def _links_in(directory, links, name, install, match_aliases, ignore_same_name, config_path):
    """``(links, same name link)``: of ``links`` (``{name: text}``) in
    ``directory``, those that tell the unit is enabled (install.c
    find_symlinks_in_directory(), systemd 252): in a ``.wants``/``.requires``
    directory a link by the unit's name (or, for a template, by one of its
    instances), wherever it leads; in the directory itself one by its name
    or to a file by it.  With ``match_aliases`` only by a name its [Install]
    section gives."""
    found, same_name = [], False
    in_wants = directory != config_path
    for entry, text in sorted(links.items()):
        if in_wants:   # the link's name alone (systemd 252 ignores where it leads)
            by_path = entry == name
            by_dest = not by_path and template_of(entry) == name
        else:
            by_path = not ignore_same_name and entry == name
            by_dest = posixpath.basename(text) == name
        if by_path and by_dest and not in_wants:
            same_name = True
        elif (by_path or by_dest) and (not match_aliases or _known_name(name, install, entry)):
            found.append(posixpath.join(directory, entry))
    return found, same_name


def _unit_links(target, directory, read):
    """``([(wants directory, links)], links)``: the links in a unit directory
    and in its ``.wants``/``.requires`` directories (not links to
    directories); ``read`` keeps them for ``state``'s second look."""
    if directory not in read:
        try:
            entries = names(target, directory)
        except (ConfigError, TargetError):
            entries = []
        wants = [posixpath.join(directory, entry) for entry in entries
                 if "." in entry and entry.rpartition(".")[2] in ("wants", "requires")]
        read[directory] = ([(sub, _symlinks(target, sub)) for sub in wants
                            if target.isdir(sub) and not target.islink(sub)],
                           _symlinks(target, directory) if entries else {})
    return read[directory]


def _links_in_scope(target, read, name, path, install, match_aliases):
    """``(state, links)`` from the links in the search path (``_unit_links``;
    install.c find_symlinks_in_scope(), systemd 252): links in
    /etc/systemd/system or its ``.wants``/``.requires`` enable the unit (in
    /run: enabled-runtime); elsewhere they make an instance static (and tell
    nothing of another unit); a link by the unit's name to it in /etc is
    ``linked``.  ``(None, [])`` without any that tell."""
    runtime = at_all = same_config = same_runtime = False
    ignore_same_name = False
    for directory in UNIT_DIRS:
        wants, links = _unit_links(target, directory, read)
        found, same_name = [], False
        for sub, sub_links in wants:
            found.extend(_links_in(sub, sub_links, name, install, match_aliases, ignore_same_name, directory)[0])
        if not found:
            found, same_name = _links_in(directory, links, name, install, match_aliases, ignore_same_name, directory)
        if found:
            if directory == CONFIG_DIR:
                return "enabled", found
            if directory == RUNTIME_DIR:
                runtime = runtime or found
            else:
                at_all = at_all or found
        elif same_name:
            same_config = same_config or directory == CONFIG_DIR
            same_runtime = same_runtime or directory == RUNTIME_DIR
        if path.startswith(directory + "/"):
            ignore_same_name = True   # links by its name below its own file are hidden by it
    if runtime:
        return "enabled-runtime", runtime
    if at_all and unit_name_kind(name) == "instance":
        return "static", at_all
    if same_config or same_runtime:
        return ("linked" if same_config else "linked-runtime"), []
    return None, []


def preset(target, name):
    """``"enable"``, ``"disable"`` or None: the first matching preset line
    (files by name, /etc before /usr), systemd.preset(5)."""
    for path, dummy in dropins(target, PRESET_DIRS, ".preset"):
        for raw in lines(read(target, path)):
            words = strip_comment(raw, "#;").split()
            if len(words) >= 2 and words[0] in ("enable", "disable") and \
                    fnmatchcase(name, words[1], noescape=True):   # systemd: fnmatch(..., FNM_NOESCAPE)
                return words[0]
    return None


def load_error(target, name):
    """Why ``systemctl is-enabled`` cannot tell the unit's state (``state``
    says ``unloadable`` or ``unknown``), or None: its file is one
    config_parse() fails (a drop-in does not count; the service manager
    does not load it either: load-fragment.c unit_load_fragment()), a
    directory, a link systemd refuses, or a file that cannot be read here."""
    try:
        _discover(target, name)
    except _Lookup as exc:
        return str(exc) if exc.state == "unloadable" else None
    except (ConfigError, TargetError) as exc:
        return str(exc)
    return None


def _own_file(target, name):
    """``(path, settings, stop)`` of the unit's own file as systemd_conf.parse()
    reads it; ``(None, [], None)`` when it has none."""
    path = unit_file(target, name)
    if path is None:
        return None, [], None
    settings, stop = systemd_conf.parse(read(target, path) or "")
    return path, settings, stop


def _failed_at(target, path, stop):
    return "%s line %d: %s" % (target.display(path), stop[0], stop[1])


def state(target, name):
    """``(state, links)``: the unit's state from the tree's files as
    ``systemctl is-enabled`` (install.c unit_file_lookup_state(), systemd
    252) tells it: ``masked``/``masked-runtime``, ``alias``, ``enabled``,
    ``enabled-runtime``, ``static``, ``linked``/``linked-runtime``,
    ``indirect`` or ``disabled``, and the links that say so; where it
    fails, ``not-found`` or ``unloadable``, and ``unknown`` where a file
    cannot be read here (``load_error`` says why)."""
    try:
        found, path, kind, install = _discover(target, name)
    except _Lookup as exc:
        return exc.state, []
    except (ConfigError, TargetError):
        return "unknown", []   # a file that cannot be read here is not judged
    if kind == "masked":
        return ("masked-runtime" if path.startswith("/run/") else "masked"), []   # path_is_runtime()
    if name != posixpath.basename(path) and unit_name_kind(found) != "instance":
        return "alias", []
    read = {}
    result, links = _links_in_scope(target, read, found, path, install, True)
    if result:
        return result, links
    # known by other names (links to it under them): it may be in use
    result, links = _links_in_scope(target, read, found, path, install, False)
    if result:
        return "indirect", links
    if any(install.get(key) for key in ("Alias", "WantedBy", "RequiredBy")):
        return "disabled", []
    return ("indirect" if install.get("Also") else "static"), []


def systemctl(module, *args):
    """``(rc, stdout)`` of systemctl, or None when there is none."""
    binary = module.get_bin_path("systemctl") if module else None
    if not binary:
        return None
    rc, out, dummy = module.run_command([binary] + list(args))
    return rc, out.strip()


def live_state(module, name, active=None, enabled=None):
    """``(is-enabled, is-active)`` from systemctl, or None.  ``active``,
    ``enabled``: the unit's ``is-active`` / ``is-enabled`` answers when
    already known (``active_states``, ``unit_file_states``)."""
    enabled = (0, enabled) if enabled is not None else systemctl(module, "is-enabled", name)
    if active is None:
        active = systemctl(module, "is-active", name)
        active = None if active is None else active[1]
    if enabled is None or active is None:
        return None
    return enabled[1] or "unknown", active or "unknown"


def active_states(module, names):
    """``{name: is-active answer}`` of every unit in one ``systemctl
    is-active`` call, or None (no systemctl, or not one line per unit).

    One call instead of one per unit: each costs a process and a D-Bus
    connection (about 0.4 s on an emulated guest).  ``is-active`` prints a
    line for every unit named, in order, a unit that does not exist
    included (``inactive``); names with glob characters are left out (they
    expand to any number of lines).  ``is-enabled`` cannot be batched: it
    stops at the first unit without a unit file, and prints the answers of
    System V scripts first."""
    names = [name for name in dict.fromkeys(names) if not any(c in name for c in "*?[")]
    result = systemctl(module, "is-active", *names) if names else None
    if result is None:
        return None
    states = [line.strip() for line in result[1].splitlines()]
    if len(states) != len(names):
        return None
    return dict(zip(names, states))


# The states ``systemctl list-unit-files`` and ``is-enabled`` both read from a
# unit's own file (systemd's unit_file_lookup_state); ``generated``, ``transient``
# and ``bad`` are left to ``is-enabled`` (System V scripts have their own answer).
SYSV_DIR = "/etc/init.d"  # the live system's System V scripts (systemd's SYSTEM_SYSVINIT_PATH)
UNIT_FILE_STATES = ("enabled", "enabled-runtime", "linked", "linked-runtime", "alias", "masked",
                    "masked-runtime", "static", "indirect", "disabled")


def unit_file_states(module, names):
    """``{name: is-enabled answer}`` of the live system's units, from one
    ``systemctl list-unit-files`` call and at most one ``is-enabled``, or
    None (no systemctl).

    ``is-enabled`` costs a process per call.  ``list-unit-files`` lists every
    unit file the names match, with the state ``is-enabled`` prints for it.
    A unit it does not list has no unit file, and ``is-enabled`` answers
    every such unit alike (an error, or ``not-found``): asked of the first,
    the answer is every one's.  A template's instance is not listed (its
    file is the template's): the instances are asked in the same
    ``is-enabled`` call, before that first missing unit.  ``is-enabled``
    prints one line per unit, in order, until a unit without a unit file
    (systemd 252 stops there; later ones print ``not-found`` and go on), so
    each line belongs to the unit asked in its place; a unit whose line is
    not there is asked alone.  Left out, to be asked alone: a unit with a
    System V script (``is-enabled`` prints the script's answers first) and
    one listed in another state."""
    names = [name for name in dict.fromkeys(names) if not any(c in name for c in "*?[")]
    result = systemctl(module, "list-unit-files", "--no-legend", "--no-pager", "--full", *names) if names else None
    if result is None:
        return None
    listed, found = {}, {}
    for line in result[1].splitlines():
        words = line.split()
        if len(words) >= 2:
            listed[words[0]] = words[1]
    for name in names:
        if listed.get(name) in UNIT_FILE_STATES:
            found[name] = listed[name]
    unlisted = [name for name in names if name not in listed
                and not os.path.lexists(posixpath.join(SYSV_DIR, name.rsplit(".", 1)[0]))]
    instances = [name for name in unlisted if template_of(name) is not None]
    missing = [name for name in unlisted if template_of(name) is None]
    asked = instances + missing[:1]
    lines = _is_enabled_lines(module, asked)
    if lines is None:
        return found
    trusted = len(lines) <= len(asked)  # more lines than units: none is attributed
    if trusted:
        found.update(zip(asked, lines))  # each line is the answer of the unit asked in its place
    if missing:
        if trusted and len(lines) == len(asked):
            probe = lines[-1]
        elif trusted and len(lines) == len(instances):
            probe = ""  # no line for it: is-enabled stopped at it with an error (systemd 252)
        else:
            # an instance stopped the call before it, or the lines cannot be matched: ask it alone
            probe = "\n".join(_is_enabled_lines(module, missing[:1]) or [])
        shared = probe in ("", "not-found")
        found.update(dict.fromkeys(missing if shared else missing[:1], probe))
    return found


def _is_enabled_lines(module, names):
    """The lines ``systemctl is-enabled names...`` prints (one per unit, in
    order, up to a unit it stops at); None without systemctl."""
    if not names:
        return []
    result = systemctl(module, "is-enabled", *names)
    return None if result is None else [line.strip() for line in result[1].splitlines()]


def enable(target, name, module, live):
    """Enable the unit: ``systemctl enable`` when live, else the links.
    Returns the links made (paths inside the root)."""
    if live:
        result = systemctl(module, "enable", name)
        if result is None or result[0] != 0:
            raise ConfigError("systemctl enable %s failed: %s" % (name, result[1] if result else "no systemctl"))
        return [name]
    made = []
    links = enablement_links(target, name)
    if not links:
        raise ConfigError("%s: no unit file with an [Install] section to enable in %s" % (
            name, target.display("/")))
    # a link already there is not made again: the run would say it changed what it did not
    missing = [(link, value) for link, value in links if not _refuse_a_link_elsewhere(target, link, value)]
    for link, value in missing:
        target.makedirs(posixpath.dirname(link))
        target.symlink(link, value)
        made.append(link)
    return made


def missing_links(target, name):
    """The ``(link path, link text)`` pairs enabling ``name`` in a tree
    makes (those not there already); [] when enabling it fails, which
    names the problem."""
    try:
        return [(link, value) for link, value in enablement_links(target, name)
                if not _refuse_a_link_elsewhere(target, link, value)]
    except (ConfigError, TargetError):
        return []


def links_in_place(target, name):
    """Whether every link ``systemctl enable name`` makes in a tree is there
    already (then enabling it changes nothing)."""
    try:
        links = enablement_links(target, name)
        return bool(links) and all(_refuse_a_link_elsewhere(target, link, value) for link, value in links)
    except (ConfigError, TargetError):
        return False   # enabling it names the problem


def _refuse_a_link_elsewhere(target, link, value):
    """True when ``link`` already leads to the unit file ``value``;
    ConfigError when it is a link to another file: ``systemctl enable``
    refuses it too (an admin's alias or wants link; install.c
    create_symlink), and replacing it would lose it."""
    try:
        if not target.islink(link):
            return False
        current = target.readlink(link)
    except TargetError:
        return False   # making the link names the problem
    if current == value:
        return True
    try:
        mine, theirs = target.stat(value), target.stat(link)
        if (mine.st_dev, mine.st_ino) == (theirs.st_dev, theirs.st_ino):
            return True   # the same unit file by another path (/lib and /usr/lib)
    except TargetError:
        pass
    raise ConfigError("%s already exists and is a symbolic link to %s, not %s: not replaced (systemctl "
                      "enable refuses it too)" % (target.display(link), current, value))
