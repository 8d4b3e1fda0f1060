# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The boot loader configuration reader: GRUB 2 in Debian's and Red Hat's
layouts, read through the target root.

* the defaults grub-mkconfig sources: ``/etc/default/grub``, then (where the
  tree's grub-mkconfig supports it, as Debian's does) ``/etc/default/grub.d/
  *.cfg`` in name order -- a shell subset: assignments, quotes, ``$VAR``;
* the generated configuration: ``/boot/grub/grub.cfg`` (Debian) or
  ``/boot/grub2/grub.cfg`` (Red Hat), its ``linux`` lines and ``timeout``;
* Boot Loader Specification entries (``/boot/loader/entries/*.conf``, used
  when grub.cfg calls ``blscfg``) and the ``kernelopts`` of grubenv that
  Red Hat 8 entries refer to as ``$kernelopts``.

The edits keep what the user wrote: a replaced line stays in the file,
commented out behind the collection's marker."""

import itertools
import re

from ansible_collections.guestready.gce.plugins.module_utils import cmdline
from ansible_collections.guestready.gce.plugins.module_utils.bootconfig import (
    BLS_DIR, BLS_ENTRY_MAX, GRUB_CONFIGS, GRUBENV_SIGNATURE, LINUX_COMMANDS, bls_entry_name, bls_loader, expand_grub_vars,
    grub_args, grub_env, grub_linux, grub_lines, grubenv_beside, grubenv_line, grubenv_variables, loader_line, loader_lines,
    parse_bls_entry, parse_grubenv)
from ansible_collections.guestready.gce.plugins.module_utils.configfiles import ConfigError, lines, names, present, read
from ansible_collections.guestready.gce.plugins.module_utils.digits import ascii_int, bounded_int
from ansible_collections.guestready.gce.plugins.module_utils.globs import fnmatch
from ansible_collections.guestready.gce.plugins.module_utils.target import NotUtf8, text_bytes

DEFAULTS = "/etc/default/grub"
DEFAULTS_DIR = "/etc/default/grub.d"
# without /boot's grub.cfg (GRUB_CONFIGS): the ESP's grub.cfg, the menu itself on RHEL 8 and its rebuilds on UEFI
# (grub2-mkconfig -o /boot/efi/EFI/<vendor>/grub.cfg); elsewhere it is a stub that loads /boot's
ESP_EFI_DIR = "/boot/efi/EFI"
GRUBENV_BY_LAYOUT = {"redhat": "/boot/grub2/grubenv", "debian": "/boot/grub/grubenv"}
# systemd-boot reads loader/loader.conf on the ESP (mounted at /boot, /efi or /boot/efi);
# its ``timeout`` (systemd src/boot/efi/boot.c config_defaults_load_from_file()): seconds,
# menu-hidden (0), menu-disabled (no menu), menu-force (waits for a key); unset: menu hidden
LOADER_CONFS = ("/boot/loader/loader.conf", "/efi/loader/loader.conf", "/boot/efi/loader/loader.conf")
# its entries: the ESP's and the XBOOTLDR partition's (mounted at /boot) loader/entries
# (systemd src/boot/boot.c config_load_all_entries(): config_load_type1_entries(), config_load_xbootldr())
SD_BOOT_ENTRIES = (BLS_DIR, "/efi/loader/entries", "/boot/efi/loader/entries")
# its type #2 entries, unified kernel images: EFI/Linux/*.efi of the same partitions (config_load_type2_entries())
SD_BOOT_UKI_DIRS = ("/boot/EFI/Linux", "/efi/EFI/Linux", "/boot/efi/EFI/Linux")
LOADER_TIMEOUTS = {"menu-hidden": 0, "menu-disabled": 0, "menu-force": -1}
UINT32_MAX = 4294967295
# the LoaderConfigTimeout EFI variable (bootctl set-timeout) overrides loader.conf's timeout when it
# holds a valid value (systemd src/boot/boot.c config_load_defaults(), efivar_get_timeout()): a
# UTF-16 string, menu-force, menu-hidden, menu-disabled or decimal seconds capped at UINT32_MAX, which
# is menu-force (bootctl writes the numbers of menu-force and menu-hidden); anything else is ignored.
# efivarfs puts the variable's 4 attribute bytes before its data
LOADER_TIMEOUT_EFIVAR = "/sys/firmware/efi/efivars/LoaderConfigTimeout-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f"
MAX_EFIVAR = 1024 * 1024   # bytes; firmware variable stores hold some 64 KiB in all
MKCONFIGS = (("/usr/sbin/grub-mkconfig", "debian"), ("/usr/sbin/grub2-mkconfig", "redhat"),
             ("/sbin/grub-mkconfig", "debian"), ("/sbin/grub2-mkconfig", "redhat"))
# grub-mkconfig's own default when GRUB_TIMEOUT is not set (util/grub-mkconfig.in)
DEFAULT_TIMEOUT = 5
# Debian's and Ubuntu's 00_header (debian/patches/quick-boot.patch, LP:
# #1443735) write ``if [ "${recordfail}" = 1 ] ; then set
# timeout=${GRUB_RECORDFAIL_TIMEOUT:-30}``; only a build with quick_boot=1
# (Ubuntu's) adds the ``recordfail`` function every entry calls, which sets it
# until userspace records a finished boot
RECORDFAIL_TIMEOUT = 30
HEADER_SCRIPT = "/etc/grub.d/00_header"
RECORDFAIL_FUNCTION = re.compile(r"^[ \t]*function recordfail\b", re.M)
MARKER = "guestready.gce"
GRUBENV_SIZE = 1024

_ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
# the same over the rows of one line for sh (``_statements``)
_STATEMENT = re.compile(_ASSIGNMENT.pattern, re.S)
_WORD = re.compile(r"[^'\" \t;&|<>()`$\\]+|\$")
_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
_PARAMETER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-+=?]|##?|%%?)")
# what a backslash escapes inside double quotes (POSIX sh, 2.2.3 Double-Quotes)
_DQ_ESCAPES = "$`\"\\\n"
# expansions nested deeper in one another than this are kept as written: a hostile
# ``${a:-${a:-...}}`` must neither exhaust Python's recursion limit nor take quadratic time
MAX_NESTING = 8
# characters expansions may add to a value: ``A=$A$A`` on thirty lines doubles it to gigabytes (sh
# runs out of memory, grub-mkconfig with it); a kernel command line holds a few thousand
MAX_SHELL_VALUE = 64 * 1024
# characters the ${A#p} and ${A%p} of one defaults file may match, each cut of a value matched
MAX_PATTERN_WORK = 4 * 1024 * 1024
# the values the calls of a defaults file's functions may assign (each call all its body assigns)
MAX_CALLED = 64 * 1024
# compound commands ({ }, subshells, if, while...) open at once: real files open a few
MAX_GROUPS = 1024
_PATTERN_WORK = [0]
# why expansions of the command being read fail (_dollar: a bad substitution, ${A?} of A unset), an
# error if it runs in this shell
_BAD = []   # spent so far: parse_defaults(), _assignments() and shell_value() start it again


class Unknown(str):
    """A variable's value that only running sh would tell: assigned from a command's output
    (``$(...)``, backquotes) or from a variable that is Unknown, or assigned under a condition
    (after ``&&`` or ``||``, inside ``if``, ``while``, ``case``...).  Its text is the value as read,
    command substitutions as written; ``why`` says which."""

    def __new__(cls, value, why):
        made = str.__new__(cls, value)
        made.why = why
        return made


# reserved words (POSIX sh, 2.4) that open and close the compound commands whose inside runs
# only under a condition, or in a subshell; a { } group runs as it is (a function's body is not
# told apart)
_OPENERS = ("if", "while", "until", "for", "case")
_CLOSERS = ("fi", "done", "esac")
_STARTERS = ("if", "then", "elif", "else", "while", "until", "do", "{", "!")
_COMPOUND = "assigned inside a compound command (if, while, case...)"
_REFERENCE = re.compile(r"\$\{?#?([A-Za-z_][A-Za-z0-9_]*)")
# a special or positional parameter ($0, $#, ${1}, $?...): what grub-mkconfig runs with, not the file's
_SPECIAL = re.compile(r"\$(?:\{#?)?[0-9#?!@*$-]")
_SPECIAL_EXPANSION = re.compile(r"\$\{(?:[0-9]+|[@*#?$!-])")
# ${#NAME}: the value's length
_LENGTH = re.compile(r"\$\{#([A-Za-z_][A-Za-z0-9_]*)\}")
# a length, or the shell's PID ("$${#A}" is $$ and "{#A}")
_LENGTH_OR_PID = re.compile(r"\$\$|" + _LENGTH.pattern)


# a double-quoted span (its escapes), a single-quoted one or an escaped character: group 1 what is not literal
_UNQUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"|\'[^\']*\'|\\.', re.S)
_ESCAPED = re.compile(r"\\.", re.S)


def _unknown_value(value, written, variables, condition):
    """``value`` as an Unknown when the ``written`` word it comes from runs a command or uses an
    Unknown variable, or when ``condition`` (why it may not run) is given; else ``value``."""
    # what is quoted or escaped is literal: a NUL in its place, which joins no "$" to what follows
    outside = _UNQUOTED.sub(lambda match: "\0" if match.group(1) is None else "\0%s\0" % _ESCAPED.sub("\0", match.group(1)),
                            written)
    why = condition or ("set from a command's output" if "`" in outside or "$(" in outside else None)
    special = _SPECIAL.search(_LENGTH_OR_PID.sub(lambda match: "\0" if match.group(1) else "$$", outside))
    shown = special and special.group(0) + ("}" if special.group(0).startswith("${") else "")
    why = why or ("set from a parameter of the running grub-mkconfig (%s)" % shown if special else None)
    wide = [name for name in _LENGTH.findall(outside) if re.search(r"[^\x00-\x7f]", variables.get(name, ""))]
    why = why or ("the length of %s, which dash counts in bytes and bash in characters" % wide[0] if wide else None)
    unknown = [name for name in _REFERENCE.findall(outside) if isinstance(variables.get(name), Unknown)]
    why = why or ("made from %s, whose value only sh knows" % unknown[0] if unknown else None)
    return Unknown(value, why) if why else value


def _dollar(text, index, variables, quoted=False):
    """``(value, end, quoted)`` of the parameter expansion at ``text[index]`` (a
    ``$``): ``$NAME``, ``${NAME}``, ``${NAME:-word}`` and ``:+``, ``:=``,
    ``:?``, with or without the colon (POSIX sh, 2.6.2 Parameter Expansion;
    tuned writes ``"${GRUB_CMDLINE_LINUX_DEFAULT:+$GRUB_CMDLINE_LINUX_DEFAULT }\\$tuned_params"``);
    None for anything else, which is kept as written.  ``quoted``: inside
    double quotes, where the word's quotes are its characters; outside, the
    word's quotes are removed as a word's are, and ``quoted`` says whether
    the value is a word with quotes (``${A:-""}`` is a field, empty or not)."""
    match = _VARIABLE.match(text, index)
    if match:
        return variables.get(match.group(1) or match.group(2), ""), match.end(), False
    if text[index + 1:index + 2] and text[index + 1] in _SPECIAL_PARAMETERS + "123456789":
        # $$, $#, $1...: grub-mkconfig's own, kept as written (_unknown_value)
        return text[index:index + 2], index + 2, False
    match = _LENGTH.match(text, index)
    if match:
        # dash counts bytes, bash characters: the same only in ASCII (``_unknown_value``)
        return str(len(variables.get(match.group(1), "").encode("utf-8", "surrogateescape"))), match.end(), False
    match = _SPECIAL_EXPANSION.match(text, index)
    end = match and _expansion_end(text, index, quoted)
    if end is not None:
        # ${1}, ${$#...}: grub-mkconfig's own parameters, kept as written (_unknown_value)
        _assigned_inside(text[index:end + 1], variables)
        return text[index:end + 1], end + 1, False
    match = _PARAMETER.match(text, index)
    end = None if match or not text.startswith("${", index) else _expansion_end(text, index, quoted)
    if end is not None:
        # ${ A}, ${A x}, ${}, bash's ${A/x/y}: an error where it is expanded (the command's end tells)
        _BAD.append("%s is a bad substitution" % text[index:end + 1][:40].split("\n")[0])
        return text[index:end + 1], end + 1, False
    if not match:
        return None
    end = _closing_brace(text, match.end(), quoted)
    if end is None:
        return None
    name, operator, inner = match.group(1), match.group(2), text[match.end():end]
    # the word of ${A#word} is a pattern: what is quoted or escaped in it matches itself
    literal = _glob_literal if operator[0] in "#%" else _same
    value = variables.get(name)
    is_set = value is not None and (value != "" or ":" not in operator)
    # the word is expanded only when it is used (its ${B=x} assign nothing otherwise): a pattern
    # when the variable is set, :+ when set, the others when not
    used = value is not None if operator[0] in "#%" else (operator[-1] == "+") == is_set
    if not used:
        return ("" if operator[-1] in "#%+" else value), end + 1, False
    if operator[-1] == "?" and not isinstance(value, Unknown):
        _BAD.append("%s is %s: %s" % (name, "empty" if value == "" else "not set", text[index:end + 1][:40].split("\n")[0]))
    if quoted:
        word, has_quotes = _double_quoted(inner, variables, True, literal), True
    else:
        word, dummy, has_quotes = _quoted_word(inner, 0, variables, "", literal)
    if operator[0] in "#%":
        return _removed(value, word, operator), end + 1, False
    if operator[-1] == "=":
        # whether it assigns hangs on the value it had: one only sh knows makes this one such too
        variables[name] = _unknown_value(word, inner, variables, "made from %s, whose value only sh knows" % name
                                         if isinstance(value, Unknown) else None)
        return word, end + 1, False   # the variable's value is substituted, unquoted
    return word, end + 1, has_quotes


# an assignment in an arithmetic expansion: =, +=, <<=... (not ==, <=, >=, !=)
_ARITHMETIC_ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:<<|>>|[-+*/%&^|])?=(?!=)")


def _arithmetic(written, variables):
    """What the arithmetic expansion ``written`` (a ``$((``; any other ``$(`` assigns nothing here)
    assigns in this shell becomes a value only sh knows: the reader does not evaluate it (``$((A=4))``)."""
    if written.startswith("$(("):
        for name in _ARITHMETIC_ASSIGNMENT.findall(written[3:]):
            variables[name] = Unknown(variables.get(name, ""), "assigned by the arithmetic expansion %s" % written[:40])


_NESTED_ASSIGNMENT = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*):?=")


def _assigned_inside(written, variables):
    """What the word of an expansion the reader keeps as written (``${$#${B=w}}``: the pattern is
    expanded) may assign: a value only sh knows."""
    for name in _NESTED_ASSIGNMENT.findall(written, 2):
        variables[name] = Unknown(variables.get(name, ""), "may be assigned inside %s, which only sh expands"
                                  % written[:40].split("\n")[0])
    for start in [match.start() for match in re.finditer(r"\$\(\(", written)]:
        _arithmetic(written[start:], variables)


def _same(text):
    return text


def _glob_literal(text):
    """``text`` as a pattern that matches itself (fnmatch(3) escapes)."""
    return re.sub(r"([*?\[\\])", r"\\\1", text)


def _sized(value, written):
    """``value``, or ConfigError when its expansions made it MAX_SHELL_VALUE
    longer than the ``written`` text it comes from."""
    if len(value) > len(written) + MAX_SHELL_VALUE:
        raise ConfigError("expansions grow a value by more than %d characters (an assignment doubling itself?): sh would run "
                          "out of memory, and grub-mkconfig with it" % MAX_SHELL_VALUE)
    return value


def _removed(value, pattern, operator):
    """``value`` without the shortest (``#``, ``%``) or longest (``##``,
    ``%%``) prefix (``#``) or suffix (``%``) that ``pattern`` matches as
    fnmatch(3) does (POSIX sh, 2.6.2: ``_dollar`` escapes what is quoted in
    it)."""
    # each cut is matched: quadratic in the value, and a file may remove patterns on every line
    _PATTERN_WORK[0] += (len(value) + 1) * (len(value) + 2) // 2
    if _PATTERN_WORK[0] > MAX_PATTERN_WORK:
        raise ConfigError("patterns are removed from values of %d characters and more: past %d characters "
                          "matched, the file is not read further" % (len(value), MAX_PATTERN_WORK))
    cuts = range(len(value) + 1)
    if (operator == "##") != (operator == "%"):
        cuts = reversed(cuts)
    for cut in cuts:
        if operator[0] == "#" and fnmatch(pattern, value[:cut]):
            return value[cut:]
        if operator[0] == "%" and fnmatch(pattern, value[cut:]):
            return value[:cut]
    return value


def _closing_brace(text, index, quoted, outer=0):
    """The index of the ``}`` that closes an expansion whose word starts at
    ``text[index]``, or None: a backslash escapes the next character, a
    ``}`` in double quotes closes nothing, nor outside double quotes
    (``quoted`` False) one in single quotes (inside them a single quote is
    a character: ``"${A:-'}'}"`` is ``''}``, as dash and bash have it);
    expansions and quotes nested deeper than MAX_NESTING (``outer``: the
    levels around this one) are not followed."""
    return _closing(text, index, "}", quoted, outer)


def _expansion_end(text, index, quoted, outer=0):
    """The index of the ``}`` that ends the ``${`` at ``text[index]``, or None: after its
    parameter and operator as dash reads them (``_substitution_header``: a bad one's character
    after the name is dropped, ``${A${B}`` ends at B's brace)."""
    start, opens = _substitution_header(text, index)
    return _closing_brace(text, start, quoted, outer) if opens else start - 1


def _closing_paren(text, index, outer=0):
    """The index of the ``)`` that closes a command substitution (or an
    arithmetic expansion) whose text starts at ``text[index]``, or None: its
    quotes and escapes are its own (double quotes around it change nothing),
    parentheses in it nest."""
    return _closing(text, index, ")", False, outer)


def _closing(text, index, closer, quoted, outer):
    """``_closing_brace`` (``closer`` "}") and ``_closing_paren`` (")")."""
    depth, braces = 1, closer == "}"
    while index < len(text):
        char = text[index]
        if char not in _CLOSING_MARKS:
            index = _CLOSING_PLAIN.match(text, index).end()
        elif char == "\\":
            index += 2
        elif char == "'" and not quoted:
            index = text.find("'", index + 1)
            if index < 0:
                return None
            index += 1
        elif char == '"':
            index = _closing_quote(text, index + 1, outer + (depth if braces else 1))
            if index is None:
                return None
            index += 1
        elif text.startswith("$$", index):
            index += 2   # the shell's PID: no expansion starts
        elif braces and text.startswith("${", index):
            index, opens = _substitution_header(text, index)
            depth += opens
            if outer + depth > MAX_NESTING:
                return None
        elif not braces and char == "(":
            depth += 1
            index += 1
        elif char == closer:
            depth -= 1
            if not depth:
                return index
            index += 1
        else:
            index += 1
    return None


# what _closing and _closing_quote, _double_quoted look at; a run of other characters is taken at once
_CLOSING_MARKS = "\\'\"$(){}"
_CLOSING_PLAIN = re.compile(r"[^\\'\"$(){}]+")
_QUOTED_PLAIN = re.compile(r'[^"$\\]+')


def _closing_quote(text, index, outer=0):
    """The index of the ``"`` that closes double quotes opened before
    ``text[index]``, or None: an expansion's word may hold quotes of its own
    (``"${A:-"in"}"``), and a command substitution (``"$(echo ")")"``)."""
    while index < len(text) and text[index] != '"':
        if text[index] not in '$\\':
            index = _QUOTED_PLAIN.match(text, index).end()
        elif text.startswith("$$", index):
            index += 2
        elif text.startswith("${", index) or text.startswith("$(", index):
            end = None if outer >= MAX_NESTING else _expansion_end(text, index, True, outer + 1) \
                if text[index + 1] == "{" else _closing_paren(text, index + 2, outer + 1)
            index = index + 2 if end is None else end + 1
        else:
            index += 2 if text[index] == "\\" else 1
    return index if index < len(text) else None


def _double_quoted(text, variables, nested=False, literal=_same):
    """What the shell makes of the inside of double quotes: a backslash
    escapes ``$``, a backquote, ``"``, ``\\`` and a newline (and stays before
    anything else), ``$`` expansions as ``_dollar`` reads them.  ``nested``:
    the word of an expansion inside double quotes, where a ``"`` opens or
    closes quotes of its own and is removed.  ``literal`` is applied to
    what is quoted (``_word``)."""
    out, index, inner = [], 0, False
    while index < len(text):
        char = text[index]
        if nested and char == '"':
            inner = not inner
            index += 1
            continue
        mark = literal if inner or not nested else _same
        if char not in '"$\\':
            plain = _QUOTED_PLAIN.match(text, index).group(0)
            out.append(mark(plain))
            index += len(plain)
            continue
        if char == "\\" and text[index + 1:index + 2] and text[index + 1] in _DQ_ESCAPES:
            out.append("" if text[index + 1] == "\n" else literal(text[index + 1]))
            index += 2
            continue
        found = _dollar(text, index, variables, True) if char == "$" else None
        if not found and text.startswith("$(", index):
            # its own quotes and escapes: kept as written, taken at once (only sh knows its value)
            end = _closing_paren(text, index + 2)
            end = len(text) - 1 if end is None else end
            _arithmetic(text[index:end + 1], variables)
            out.append(mark(text[index:end + 1]))
            index = end + 1
            continue
        if found:
            out.append(mark(found[0]))
            index = found[1]
            continue
        out.append(mark(char))
        index += 1
    return _sized("".join(out), text)


def shell_value(text, variables):
    """The value of a shell assignment's right-hand side: quotes removed,
    ``$VAR`` expanded in double quotes and bare words (``_dollar``), single
    quotes literal, a backslash escaping the next character (in double
    quotes only some: ``_double_quoted``); an unquoted blank ends it, a ``#``
    inside the word is part of it.  Command substitutions are kept as written
    (GRUB_DISTRIBUTOR's ``$(lsb_release ...)``)."""
    _PATTERN_WORK[0] = 0
    return _word(text, 0, variables)[0]


def _word_end(text, index):
    """Where the word at ``text[index]`` ends, what its expansions would do left out."""
    failed = len(_BAD)
    end = _word(text, index, {})[1]
    del _BAD[failed:]
    return end


def _word(text, index, variables, stop=" \t\n;&|<>()"):
    """``(value, end)`` of the word at ``text[index]`` (``shell_value``),
    ended by an unquoted character of ``stop``."""
    return _quoted_word(text, index, variables, stop)[:2]


def _quoted_word(text, index, variables, stop=" \t\n;&|<>()", literal=_same):
    """``(value, end, quoted)`` of the word at ``text[index]`` (``_word``):
    ``literal`` is applied to what is quoted or escaped (a pattern's,
    ``_glob_literal``); ``quoted``: some of it is, so that it is a field even
    when empty."""
    out, start, quoted = [], index, False
    while index < len(text):
        char = text[index]
        quoted = quoted or char in "'\"\\"
        if char == "'":
            end = text.find("'", index + 1)
            end = len(text) if end < 0 else end
            out.append(literal(text[index + 1:end]))
            index = end + 1
        elif char == '"':
            end = _closing_quote(text, index + 1)
            end = len(text) if end is None else end
            out.append(_double_quoted(text[index + 1:end], variables, literal=literal))
            index = end + 1
        elif char == "\\":
            # a backslash-newline joins rows; one ending the text (the file, without a newline) is itself
            out.append(literal(text[index + 1:index + 2].replace("\n", "") if index + 1 < len(text) else "\\"))
            index += 2
        elif char in stop:
            break
        elif char == "`" or text.startswith("$(", index):
            end = text.find("`", index + 1) if char == "`" else _closing_paren(text, index + 2)
            end = len(text) - 1 if end is None or end < 0 else end
            _arithmetic(text[index:end + 1], variables)
            out.append(text[index:end + 1])
            index = end + 1
        else:
            match = _WORD.match(text, index)
            # None: a blank or ";" that does not end this word (an expansion's word, ``stop`` "")
            word = match.group(0) if match else char
            if word == "$":
                found = _dollar(text, index, variables)
                if found:
                    out.append(found[0])
                    index, quoted = found[1], quoted or found[2]
                    continue
            out.append(word)
            index += len(word)
    return _sized("".join(out), text[start:index]), index, quoted


# characters _statements() passes over one at a time, as any other
_PLAIN = re.compile(r"[^'\"\\$}()`#<]+")


def _statement_text(rows, first, last, ended=False):
    """The text of the line for sh that ``rows[first:last + 1]`` make (``_statements``).  A
    backslash ending the last row of a text that ends in a newline (``ended``) joins that newline:
    sh removes both (without the newline, the backslash is a character)."""
    text = "\n".join(row.rstrip("\n") for row in rows[first:last + 1])
    ending = rows[last] if ended and last == len(rows) - 1 else ""
    return text + "\n" if (len(ending) - len(ending.rstrip("\\"))) % 2 else text


def _statements(rows, left_open=None):
    """``[(first, last)]``: the indexes of the physical ``rows`` that make one
    line for sh, which goes on past the end of a row while a quote is open or
    after a backslash ending it outside single quotes and comments (POSIX
    sh, 2.2 Quoting, 2.3 Token Recognition), and past a row ending in ``&&``,
    ``||`` or ``|``, whose command follows (2.9.2, 2.9.3).  They end before a
    here-document (``<<``), whose text is the rows after it, not commands.
    ``left_open`` gets ``(row, why)`` for a file sh cannot be followed
    through: one ending inside a quote or an expansion, or a here-document."""
    found, first, quote, braces, substitutions = [], 0, None, 0, []   # each: [quote around it, parens open, arithmetic]
    previous = "\n"   # the character before, the backslash-newlines sh removes left out
    operator = False   # the last row with a command ended in "&&", "||" or "|": blank and comment rows go on after it
    resume = (0, 0)   # the row and position the scan goes on from (past an expansion's header)
    for index, row in enumerate(rows):
        row = row.rstrip("\n")
        if index < resume[0]:
            continue   # all inside the header
        pos, continued, last = resume[1] if index == resume[0] else 0, False, ""   # last: the row's last two no blank
        while pos < len(row):
            # a run of characters no rule below looks at, or of a single-quoted text: taken at once
            if quote == "'":
                end = row.find("'", pos)
                plain = row[pos:len(row) if end < 0 else end]
            else:
                found_plain = _PLAIN.match(row, pos)
                plain = found_plain.group(0) if found_plain else ""
            if plain:
                stripped = plain.rstrip(" \t")
                solid = stripped[:-1].rstrip(" \t")[-1:] + stripped[-1:]   # its last two that are no blank
                last = (last + (solid if quote is None and not braces else "x" * len(solid)))[-2:]
                previous, pos = plain[-1], pos + len(plain)
                continue
            char = row[pos]
            if quote == "'":
                quote = None if char == "'" else quote
            elif char == "\\":
                continued = pos + 1 == len(row)
                last = last if continued else "\\"
                pos += 2
                previous = previous if continued else "\\"   # an escaped blank ends no word
                continue
            elif char == "$" and pos + 2 == len(row) and row[-1] == "\\" and _joined_to(rows, index) in ("$", "("):
                # dash reads the character after a "$" past backslash-newlines: "$", "(" on a later row
                resume = (_joined_to(rows, index, True), 1)
                if rows[resume[0]][0] == "(":
                    substitutions.append([quote, 0, rows[resume[0]].startswith("((")])
                    quote = None
                continued, previous = True, rows[resume[0]][0]
                break
            elif row.startswith("$$", pos):
                pos += 2   # the shell's PID: "${" after it is no expansion
                previous = "$"
                continue
            elif row.startswith("${", pos) or (char == "$" and pos + 2 == len(row) and row[-1] == "\\" and _joined_to(rows, index) == "{"):
                # an expansion goes on to its "}", over rows too
                pos, opens, resume = _header_over_rows(rows, index, pos)
                braces += opens
                previous = "{"
                if resume[0] > index:
                    continued = True
                    break
                continue
            elif char == "}" and braces:
                braces -= 1
            elif row.startswith("$(", pos):
                # a command substitution goes on to its ")", over rows too; quotes in it are its own
                substitutions.append([quote, 0, row.startswith("$((", pos)])
                quote, previous = None, "("
                pos += 2
                continue
            elif char in "()" and substitutions and quote is None:
                if char == "(" or substitutions[-1][1]:
                    substitutions[-1][1] += 1 if char == "(" else -1
                else:
                    quote = substitutions.pop()[0]
                    pos, previous = pos + 1, "$"   # the word goes on after it: a "#" there is no comment
                    continue
            elif quote in ('"', "`"):
                quote = None if char == quote else quote   # a command in backquotes goes on to the next one
            elif char in "'\"`":
                quote = char
            elif char == "#" and previous in " \t;&|<>()\n" and not braces:   # no comment inside ${...}
                break
            elif row.startswith("<<", pos) and not braces and not (substitutions and substitutions[-1][2]):   # $((1<<2)): a shift
                if left_open is not None:
                    left_open.append((index, "a here-document (<<) is not read: the rows after it are its text, "
                                             "not commands"))
                return found
            if not continued:
                previous = row[pos]
            if row[pos] not in " \t":
                last = (last + (row[pos] if quote is None and not braces else "x"))[-2:]
            pos += 1
        if not continued:
            previous = "\n"
        if last in ("&&", "||") or last[-1:] == "|" or operator and not last and quote is None and not continued:
            continued = operator = True   # the command after the operator is on a later row
        else:
            operator = False
        if quote is None and not continued and not braces and not substitutions:
            found.append((first, index))
            first = index + 1
    if first < len(rows):
        found.append((first, len(rows) - 1))
    if left_open is not None and (quote or braces or substitutions):
        left_open.append((found[-1][0], "%s is not closed before the file ends: sh stops with a syntax error, and "
                                        "grub-mkconfig with it" % ("a command substitution" if substitutions else
                                                                   "a quote" if quote else "an expansion")))
    return found


def _joined_to(rows, index, row=False):
    """The first character of the row after ``rows[index]`` (which ends in a backslash) and the rows
    of a backslash only, which sh joins to it ("" at the end); with ``row``, that row's index."""
    following = index + 1
    while following < len(rows) and rows[following].rstrip("\n") == "\\":
        following += 1
    if row:
        return following
    return rows[following][:1] if following < len(rows) else ""


_NAME_START = re.compile(r"[A-Za-z_]")
_NAME_ROW = re.compile(r"[A-Za-z0-9_]*\\\Z")
_NAME_REST = re.compile(r"[A-Za-z0-9_]*")
_SPECIAL_PARAMETERS = "@*#?$!-0"


def _header_over_rows(rows, index, pos):
    """``(end, open, (row, position))``: ``_substitution_header`` of the ``${`` at
    ``rows[index][pos]``, which dash reads past backslash-newlines (pgetc_eatbnl: ``${\\``, a
    newline, then ``A}`` is ``${A}``): ``end`` in the rows joined, and where the scan goes on."""
    joined, starts = rows[index].rstrip("\n"), [0]   # where each row joined starts
    end, opens = _substitution_header(joined, pos)
    while joined.endswith("\\") and end >= len(joined) and index + len(starts) < len(rows):
        pieces, length = [joined[:-1]], len(joined) - 1
        while index + len(starts) < len(rows):
            # the rows of a name's characters and a backslash, joined at once: the header reads them all
            row = rows[index + len(starts)].rstrip("\n")
            starts.append(length)
            named = _NAME_ROW.match(row)
            pieces.append(row[:-1] if named else row)
            length += len(pieces[-1])
            if not named:
                break
        joined = "".join(pieces)
        end, opens = _substitution_header(joined, pos)
    last = max(number for number, start in enumerate(starts) if start <= end)
    return end, opens, (index + last, end - starts[last])


def _substitution_header(row, pos):
    """``(end, open)`` for the ``${`` at ``row[pos]`` as dash 0.5.12 reads it (src/parser.c
    parsesub()): where its parameter and operator end, and whether a word follows that a ``}``
    closes (``${A}`` is closed already).  A bad substitution (``${A x}``) is only an error when it
    is expanded: its word goes on to a ``}`` too, and the character after the name is dropped."""
    index, length = pos + 2, False
    while True:
        char = row[index:index + 1]
        if _NAME_START.match(char):
            index = _NAME_REST.match(row, index + 1).end()
        elif char.isdigit() and char.isascii():
            index += 1
            while row[index:index + 1].isdigit() and row[index:index + 1].isascii():
                index += 1
        elif char not in ("}", ""):
            special, index = char, index + 1
            if special == "#" and not length:
                length, char = True, row[index:index + 1]
                if char == "_" or (char.isalnum() and char.isascii()):
                    continue   # ${#NAME}
                if char == "}" or row[index + 1:index + 2] != "}":
                    special, length = "#", False   # ${#} or ${#-...}: $# itself
                else:
                    special, index = char, index + 1   # ${#?}: the length of $?
            if special not in _SPECIAL_PARAMETERS:
                return index, True   # bad: the character after it is read again
        else:
            return index, True   # ${} or ${ at the end: bad
        break
    char = row[index:index + 1]
    if length:
        return index, True   # its "}" (or a bad one's) is read again and closes it
    colon = char == ":"
    if colon:
        index += 1
        char = row[index:index + 1]
    if char in ("%", "#") and char and not colon:
        index += 2 if row[index + 1:index + 2] == char else 1
        return index, True
    # an operator, "}" or, bad, anything else: the character is taken
    return index + 1, not (char == "}" and not colon)


# an assignment word's start; blanks between words (a backslash-newline is removed before words are read)
_NAME_EQ = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
# bash's NAME+=value
_NAME_APPEND = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\+=")
_APPENDED = "appended to with +=: bash appends, dash runs it as a command it does not find and grub-mkconfig stops"
# a redirection's operator, a file descriptor's number before it (one digit for dash, parser.c readtoken1())
_REDIRECTION = re.compile(r"[0-9]?(?:>>|[<>]&|>\||<>|[<>])")
# a function's definition: the compound command after it is its body, run when it is called (POSIX sh, 2.9.5)
_FUNCTION = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)[ \t]*\([ \t]*\)")
_ESAC = re.compile(r"esac(?![^ \t\n;&|<>()])")
_BLANKS = re.compile(r"(?:[ \t]|\\\n)*")
# what may come between "&&", "||" or "|" and the command after it: blanks, newlines, comments
_AFTER_OPERATOR = re.compile(r"(?:[ \t\n]|\\\n|#[^\n]*)*")
# what keeps the assignments before it in the shell: a special built-in (POSIX sh, 2.14; dash keeps them)
_KEEPING = (":", ".", "break", "continue", "eval", "exec", "exit", "export", "readonly", "return", "set", "shift",
            "times", "trap", "unset")
# eval and . running one another: how deep the reader follows them; the characters they all run in a file
MAX_EVAL_DEPTH = 16
MAX_EVAL_TEXT = 1024 * 1024


_JOINED_PLAIN = re.compile(r"[^'\"\\]+")


def _joined(text):
    """``text`` with each backslash-newline outside single quotes removed, as
    sh removes them before it reads words (POSIX sh, 2.2.1): ``$B\\<newline>x``
    is ``$Bx``."""
    if "\\\n" not in text:
        return text
    out, index, quote = [], 0, None
    while index < len(text):
        char = text[index]
        if char not in "'\"\\":
            plain = _JOINED_PLAIN.match(text, index).group(0)
            out.append(plain)
            index += len(plain)
            continue
        if quote == "'":
            quote = None if char == "'" else quote
        elif char == "\\":
            if text[index + 1:index + 2] != "\n":
                out.append(text[index:index + 2])
            index += 2
            continue
        elif char == '"':
            quote = None if quote == '"' else '"'
        elif char == "'" and quote is None:
            quote = "'"
        out.append(char)
        index += 1
    return "".join(out)


_UNSET = object()


class _Journal(dict):
    """The shell's variables, keeping what one command changed (``changed``: each name's value
    before it, _UNSET for none) so that its state before can be had without copying them all."""

    def __init__(self, values=()):
        dict.__init__(self, values)
        self.changed = {}
        self.outer = []   # the journals of the commands running this one (eval's), which see its changes too

    def __setitem__(self, name, value):
        self._journal(name)
        dict.__setitem__(self, name, value)

    def __delitem__(self, name):
        self._journal(name)
        dict.__delitem__(self, name)

    def _journal(self, name):
        before = self.get(name, _UNSET)
        for changed in [self.changed] + self.outer:
            changed.setdefault(name, before)

    def update(self, pairs):
        for name, value in (pairs.items() if isinstance(pairs, dict) else pairs):
            self[name] = value

    def before(self):
        """The values as they were before the command (_Before, journaling nothing yet)."""
        return _Before(self)

    def undo(self):
        """Put back what the command changed (a subshell's)."""
        for name, value in self.changed.items():
            if value is _UNSET:
                dict.pop(self, name, None)
            else:
                dict.__setitem__(self, name, value)
        self.changed = {}

    def become(self, values):
        """Take ``values``: a copy of the values before the command (``before``), a _Journal in which
        the command's words' expansions assigned.  Only what either changed can differ."""
        for name in set(self.changed) | set(values.changed):
            value = values.get(name, _UNSET)
            if value is _UNSET:
                if name in self:
                    del self[name]
            elif self.get(name, _UNSET) is not value:
                self[name] = value


class _Before(_Journal):
    """The values a _Journal (``base``) had before its command: read through to it, with what the
    command changed put back (``base.changed``, which keeps each name's value before whatever the
    command assigns later), not copied (a file of thousands of variables copied them all at each
    command); what is assigned here stays here."""

    def __init__(self, base):
        _Journal.__init__(self)
        self.base, self.reverted, self.gone = base, base.changed, set()

    def get(self, name, default=None):
        if dict.__contains__(self, name):
            return dict.__getitem__(self, name)
        value = _UNSET if name in self.gone else self.reverted.get(name, _NOT_CHANGED)
        value = dict.get(self.base, name, _UNSET) if value is _NOT_CHANGED else value
        return default if value is _UNSET else value

    def __getitem__(self, name):
        value = self.get(name, _UNSET)
        if value is _UNSET:
            raise KeyError(name)
        return value

    def __contains__(self, name):
        return self.get(name, _UNSET) is not _UNSET

    def __setitem__(self, name, value):
        self._journal(name)
        self.gone.discard(name)
        dict.__setitem__(self, name, value)

    def __delitem__(self, name):
        if name not in self:
            raise KeyError(name)
        self._journal(name)
        dict.pop(self, name, None)
        self.gone.add(name)


_NOT_CHANGED = object()


def _body_assigned(body, scratch):
    """Keep what the last command in a function's body assigned (to ``scratch``): a call assigns it."""
    body["names"].update((name, scratch.get(name, "")) for name in scratch.changed)
    scratch.changed = {}


def _end_body(state):
    """The function whose body just ended is defined; returns the shell's own variables again."""
    body = state.pop("body")
    _body_assigned(body, body["scratch"])
    state.setdefault("functions", {})[body["name"]] = dict((key, body[key]) for key in _FUNCTION_KEPT if key in body)
    body["real"].changed = {}
    return body["real"]


# what a call does, kept from its function's body (_body_runs): names it assigns, functions it calls,
# names it makes read only, whether it runs set, a built-in the reader does not follow there
_FUNCTION_KEPT = ("names", "calls", "readonly", "set", "unfollowed")
_UNFOLLOWED = (".", "eval", "alias", "unalias", "exit", "exec")


def _body_runs(body, command, arguments, declared):
    """Keep what a command in a function's body does besides assigning, for a call (_call): the
    names ``read``, ``getopts``, ``for`` and ``unset`` assign, the ones ``readonly`` makes read
    only (``declared``: its assignments), that ``set`` runs, the function it may be; or that it
    is a built-in the reader does not follow (``.``, ``eval``...).  (A command only sh knows:
    the names among its arguments are assigned in the body, as where one runs.)"""
    named = [word for word in arguments if not word.startswith("-")]
    if command in _UNFOLLOWED and (command != "exec" or arguments) or \
            command == "unset" and any("f" in word for word in arguments if word.startswith("-")) or \
            command in ("read", "getopts", "for", "unset", "readonly") and any(isinstance(w, Unknown) for w in arguments):
        body.setdefault("unfollowed", command)
    elif command in ("read", "getopts", "for", "unset"):
        names = (_read_names(arguments) if command == "read" else arguments[1:2] + ["OPTARG", "OPTIND"]
                 if command == "getopts" else arguments[:1] if command == "for" else named)
        body["names"].update((name, "") for name in names if _NAME_EQ.match(name + "="))
    elif command == "readonly":
        body.setdefault("readonly", []).extend([name for name, dummy in declared] + named)
    elif command == "set":
        body["set"] = True
    else:
        body.setdefault("calls", {})[command] = True


def _compound_word(state, word, variables, piped, opened=None):
    """Follow a command word that opens or closes a compound command (``if``, ``fi``, ``{``,
    ``}``, a function body's...); returns the variables to go on with (a function body's ending).
    Each keeps what is assigned inside it (``state["groups"]``): all of it is undone when it runs
    in a subshell (``piped``: after a ``|``; or a ``|`` or ``&`` after its end).  ``opened``: how
    a ``{`` runs (_opened)."""
    if word in _OPENERS or word in _CLOSERS:
        state["depth"] = max(0, state["depth"] + (1 if word in _OPENERS else -1))
    if word in _OPENERS or word == "{":
        _open_group(state, piped, opened if word == "{" else None)
    elif (word in _CLOSERS or word == "}") and state.get("groups"):
        state.setdefault("closed", []).append(state["groups"].pop())
    body = state.get("body")
    if body:
        body["braces"] += (word == "{") - (word == "}")
        if body["braces"] <= 0 and state["depth"] <= body["depth"] and (word == "}" or word in _CLOSERS):
            return _end_body(state)
        body["started"] = True
    return variables


def _operator(state, operator, variables, opened=None):
    """Follow ``(`` and ``)`` (a subshell, whose assignments are undone when it ends, and whose
    status the next operator tells what becomes of (_closed); a case pattern's end) and ``;;``
    (the next case pattern); returns the variables to go on with.  ``opened``: how a ``(`` runs
    (_opened)."""
    if operator == ";;":
        state["pattern"] = True
    elif operator == ")" and state.get("pattern"):
        state["pattern"] = False
    elif operator == "(":
        body = state.get("body")
        if body and not body["started"]:
            variables = _end_body(state)   # a subshell body: a call assigns nothing
        state["depth"] += 1
        if opened:
            opened.update(depth=state["depth"], subshell=True)
        _open_group(state, True, opened)
    elif operator == ")":
        state["depth"] = max(0, state["depth"] - 1)
        group = state["groups"].pop() if state.get("groups") else _Group(True, None, None)
        _restore(variables, group.saved)
        _scope_ends(state, group, True)
        if group.opened and group.opened["fails"]:
            state.setdefault("closed", []).append(group)   # its status: followed once the next operator is known
    return variables


def _opened(state, connector, why, negated):
    """How a ``{`` or ``(`` group opened here runs: whether wherever the innermost group around it
    (the file, outside every group) does (_group_runs); whether set -e may stop sh where its status
    is not 0 (not after ``!``); the first command in it that certainly fails (``fails``: its message,
    and whether it stops sh whatever set -e and the operators after it say); None inside a function's
    body, which is read, not run."""
    if state.get("body"):
        return None
    return {"runs": _group_runs(state, connector, why), "checked": not negated, "fails": None,
            "depth": state["depth"], "subshell": False, "mark": len(state.setdefault("may_fail", []))}


def _group_runs(state, connector, why):
    """Whether the command here runs wherever the innermost open ``{`` or ``(`` group does (the
    file, outside every group): not after ``&&``, ``||`` or ``|``, nor under a condition of its own
    (``why``, or an if, while, case... inside the group)."""
    if connector in ("&&", "||", "|") or state.get("body") or state.get("why") or state.get("returning"):
        return False
    groups = state.get("groups")
    if not groups:
        return not why
    opened = groups[-1].opened
    return opened is not None and state["depth"] == opened["depth"]


class _Group(object):
    """A compound command open (``state["groups"]``, innermost last)."""
    __slots__ = ("saved", "piped", "opened", "quiet", "subshell", "around", "ended")

    def __init__(self, piped, opened, around):
        self.saved = {}   # what it changed: each name's value before (_UNSET: none), put back if a subshell
        self.piped = piped   # it runs in a subshell
        self.opened = opened   # how a { or ( runs (_opened); None for if, while, until, for and case
        # it or a group around it may not run (_group_why)
        self.quiet = bool(opened and not opened["runs"]) or bool(around and around.quiet)
        self.subshell = self if piped else around and around.subshell   # the innermost subshell it is in
        self.around = around   # the group it is in (None: none)
        self.ended = None   # "normal", or "subshell" where it ran in one (_scope_ends)


def _open_group(state, piped, opened):
    """Open a compound command (_Group); sh nests them without end, the reader MAX_GROUPS deep."""
    groups = state.setdefault("groups", [])
    if len(groups) >= MAX_GROUPS:
        raise _Limit("compound commands open more than %d deep: the reader stops there" % MAX_GROUPS)
    groups.append(_Group(piped, opened, groups[-1] if groups else None))


def _group_why(state):
    """Why what an open ``{`` group assigns is a value only sh knows: the group may not run (it
    follows ``&&`` or ``||``, or a return that may run...)."""
    return _MAY_NOT_RUN if state.get("groups") and state["groups"][-1].quiet else None


_MAY_NOT_RUN = "assigned inside a { } group that may not run (after && or ||, or in a pipeline)"


def _fails(state, message, fatal):
    """A command that fails where it runs, which it does wherever the innermost open group does:
    sh stops there, outside every group (ConfigError); in a group, the first such command is
    remembered for its end (_closed).  ``fatal``: sh stops whatever set -e and the operators after the
    group say (an expansion's error, a special built-in's redirection)."""
    groups = state.get("groups")
    if not groups:
        raise ConfigError("%s: sh stops there, and grub-mkconfig with it" % message)
    opened = groups[-1].opened
    if opened is not None and opened["fails"] is None:
        opened["fails"] = (message, fatal)


def _read_only(state, variables, command, arguments, why):
    """Stop where a command assigns or unsets a variable made read only (sh does, with an error;
    under a condition, ``why``, it may not run); ``readonly`` makes its ``arguments`` read only.
    ``state["readonly"]``: each name's scope, None where it is read only for certain, the group it
    was made in (read only after it unless it runs in a subshell: ``_scope_ends``), or _MAYBE
    (made under a condition)."""
    made = state.setdefault("readonly", {})
    stuck = sorted(name for name in variables.changed if name in made and _scope(made, name) is not _ABSENT)
    if stuck and made[stuck[0]] is None and not (state.get("groups") or why):
        raise ConfigError("%s is read only: sh stops where it is assigned again, and grub-mkconfig with it" % stuck[0])
    for name in stuck:
        # under a condition, or inside a group that may run in a subshell, which the error stops alone
        variables[name] = Unknown(variables.get(name, ""), "assigned though it %s read only (sh stops there where "
                                                           "it runs, unless in a subshell)"
                                  % ("is" if made[name] is None else "may be"))
    if command == "readonly":
        group = state["groups"][-1] if state.get("groups") else None
        # inside a subshell (which gives why) it ends with it; else a condition may not run it
        scope = group and group.subshell or (_MAYBE if why else group)
        for name in arguments:
            if _NAME_EQ.match(name + "=") and (_scope(made, name) in (_MAYBE, _ABSENT) or scope is None):
                made[name] = scope


def _scope(made, name):
    """Where ``name`` is read only (``made``: state["readonly"]): None for certain, the group it
    holds in, _MAYBE, or _ABSENT.  A group that ended hands its names to the group around it (to
    none: for certain), unless it ran in a subshell (_scope_ends); followed here, once per name."""
    scope = resolved = made.get(name, _ABSENT)
    while isinstance(resolved, _Group) and resolved.ended:
        resolved = resolved.around if resolved.ended == "normal" else _ABSENT
    if resolved is _ABSENT and scope is not _ABSENT:
        del made[name]
    elif resolved is not scope:
        made[name] = resolved
    return resolved


_ABSENT = object()


_MAYBE = "made read only under a condition"


def _scope_ends(state, group, subshell):
    """The group ``group`` ended: what it made read only is undone if it ran in a ``subshell``,
    else read only in the group around it (for certain outside every group): _scope follows it."""
    group.ended = "subshell" if subshell else "normal"


def _restore(variables, saved):
    """Put back the values a subshell started with (``saved``: each name's, _UNSET for none)."""
    for name, value in saved.items():
        if value is _UNSET:
            dict.pop(variables, name, None)
        else:
            dict.__setitem__(variables, name, value)


def _closed(state, variables, operator):
    """Follow the compound commands the last command ended: undone if they ran in a subshell,
    else what they assigned is the enclosing one's.  One in which a command certainly failed
    fails where it runs (_fails), unless a ``|`` or ``&`` follows it; a ``&&``, a ``||`` or a ``!``
    before it keeps set -e from stopping sh there, and so does set +e around a subshell."""
    for group in state.pop("closed", ()):
        saved, piped, opened = group.saved, group.piped, group.opened
        if piped or operator in ("|", "&"):
            _restore(variables, saved)
        elif state.get("groups"):
            # the enclosing group's values before it win; the smaller dict goes into the larger (linear in all)
            around = state["groups"][-1]
            if len(saved) > len(around.saved):
                saved.update(around.saved)
                around.saved = saved
            else:
                for name, value in saved.items():
                    around.saved.setdefault(name, value)
        _scope_ends(state, group, piped or operator in ("|", "&"))
        if opened:
            _may_have_failed(state, variables, opened, piped or operator in ("|", "&"), operator)
        if not (opened and opened["fails"] and opened["runs"]) or operator in ("|", "&"):
            continue
        message, fatal = opened["fails"]
        fatal = fatal and not opened["subshell"]   # a subshell's error ends it alone: its status is not 0
        if fatal or opened["checked"] and operator not in ("&&", "||") and \
                (not opened["subshell"] or state.get("errexit", True) is True):
            _fails(state, message if message.endswith(_IN_GROUP) else message + _IN_GROUP, fatal)


_IN_GROUP = " in the group that ends here"


def _may_have_failed(state, variables, opened, subshell, operator):
    """A ``{`` group ended: the assignments made in it by commands whose redirections may fail
    (``state["may_fail"]`` from ``opened["mark"]`` on: a group's are those made since it opened, its
    inner groups' too): where one fails, set -e stops sh, unless a ``&&`` or ``||`` follows the
    group or a ``!`` comes before it; then sh goes on, and what they assigned (unless assigned again
    since) is a value only sh knows.  Otherwise they are the enclosing group's."""
    pending = state.get("may_fail", [])
    if subshell or operator in ("&&", "||") or not opened["checked"]:
        for name, value in pending[opened["mark"]:] if not subshell else ():
            if variables.get(name) is value and not isinstance(value, Unknown):
                variables[name] = Unknown(value, _REDIRECTION_FAILS)
        del pending[opened["mark"]:]


def _builtin(command, arguments, variables, state, why, failing_stops=True, listed=False):
    """``[(NAME, value)]`` that the built-in ``command`` run with ``arguments`` assigns (``unset``
    takes variables and functions away; ``for``, ``read`` and ``getopts`` assign values only sh
    knows; ``eval`` runs its arguments joined; ``.`` runs a file, ``listed``: one a ``&&`` or
    ``||`` follows, whose failure set -e lets go); ConfigError for one after which the reader
    cannot go on (``exit``, ``exec`` of a command), or one that fails where sh stops
    (``failing_stops``)."""
    unknown = [word for word in arguments if isinstance(word, Unknown)]
    if unknown and command in ("unset", "read", "getopts") or unknown[:1] == arguments[:1] and command == "for":
        raise ConfigError("%s is given a name %s" % (command, unknown[0].why))
    if command == "unset":
        options = list(itertools.takewhile(lambda word: word.startswith("-"), arguments))
        if any("f" in option for option in options):
            for name in arguments[len(options):]:
                state["functions"].pop(name, None)
            return []
        made = []
        for name in arguments[len(options):]:
            if why:
                variables[name] = Unknown("", "unset %s" % why)   # unset or not, only sh knows
                made.append((name, variables[name]))
            elif name in variables:
                del variables[name]
        return made
    if command in ("for", "read", "getopts"):
        if command == "for":
            items = arguments[2:] if arguments[1:2] == ["in"] else [""]   # no "in": the positional parameters
            names = arguments[:1] if items else []
            value = items[-1] if items else ""   # (an item only sh knows may be any number of words)
        else:
            names, value = _read_names(arguments) if command == "read" else arguments[1:2] + ["OPTARG", "OPTIND"], ""
            # it fails at a name that is none (bad variable name) or read only: the ones before it
            # are assigned; grub-mkconfig runs with set -e, which stops at a failed command
            readonly = state.get("readonly", {})
            assigned = list(itertools.takewhile(lambda name: _scope(readonly, name) in (_MAYBE, _ABSENT), names))
            if len(assigned) < len(names) and failing_stops:
                raise ConfigError("%s is read only: %s fails there, and grub-mkconfig, which runs with set -e, stops"
                                  % (names[len(assigned)], command))
            names = itertools.takewhile(lambda name: _NAME_EQ.match(name + "="), assigned)
        made = [(name, Unknown(value, "assigned by %s" % command)) for name in names]
        variables.update(made)
        return made
    if command == "eval":
        if unknown:
            raise ConfigError("eval runs a text %s: what it assigns only sh knows too" % unknown[0].why)
        return _eval(" ".join(arguments), variables, state, why, "the text eval runs")
    if command == ".":
        return _source(arguments[0] if arguments else "", variables, state, why, listed)
    if command != "exec" or arguments:
        raise ConfigError("exec runs another program in grub-mkconfig's place" if command == "exec" else
                          "%s here stops sh reading the file, which the reader does not follow" % command)
    return []


def _read_names(arguments):
    """The names ``read`` assigns: the words after its options, which dash reads as its built-ins'
    options (``nextopt("p:r")``: ``-p`` takes the rest of its word or the next one as the prompt;
    ``--`` or a word not an option ends them); none after an option it does not know (an error)."""
    index = 0
    while index < len(arguments) and arguments[index].startswith("-") and arguments[index] != "-":
        word, index = arguments[index], index + 1
        if word == "--":
            break
        for position, letter in enumerate(word[1:], 1):
            if letter == "p":
                index += position == len(word) - 1   # the prompt is the next word
                break
            if letter != "r":
                return []
    return arguments[index:]


def _target(text, start, variables):
    """The file (descriptor) the redirection whose word starts at ``start`` names, expanded."""
    value, end = _word(text, start, variables)
    return _unknown_value(value, text[start:end], variables, None)


_FAILS = "fails"
_REDIRECTION_FAILS = "assigned by a command whose redirection may fail: where it does, sh assigns nothing"


def _redirection_fails(operators, targets):
    """Whether redirections fail: _FAILS for one naming no file, "may" for a file or a descriptor
    but 0, 1 and 2 (only sh knows whether it opens), None for /dev/null, 0, 1, 2 and "-"."""
    failing = None
    for operator, target in zip(operators, targets):
        if target == "" and not isinstance(target, Unknown) and not operator.endswith("&"):
            return _FAILS
        if isinstance(target, Unknown) or target not in (("-", "0", "1", "2") if operator.endswith("&") else ("/dev/null",)):
            failing = "may"
    return failing


def _source(path, variables, state, why, listed=False):
    """What ``. path`` assigns: the file, read by ``state["sourced"](path)`` (its text, None when
    it is not there), run as lines of this one, up to a ``return`` (``listed``: a ``&&`` or ``||``
    follows the ``.``, so that a status not 0 it returns does not stop sh)."""
    reading = state.get("sourced")
    if reading is None or isinstance(path, Unknown) or not path.startswith("/"):
        raise ConfigError("the file sourced here (. %s) is not read: %s" % (
            path, "what it assigns only sh knows" if not reading or not path or isinstance(path, Unknown)
            else "sh reads a relative path from the directory grub-mkconfig runs in" if "/" in path
            else "sh looks a name without a '/' up in PATH"))
    state.setdefault("sources", []).append(path)
    text = reading(path)
    if text is None:
        if why:
            return []   # where it runs, sh stops: grub-mkconfig writes nothing
        raise ConfigError("it sources %s, which is not there: sh stops, and grub-mkconfig with it" % path)
    outer = dict((key, state.pop(key)) for key in _RETURN_STATE if key in state)
    state["listed"], state["entry"] = listed, (why or state.get("why"), state["depth"], len(state.get("groups") or ()))
    opened = dict((key, state.get(key)) for key in ("depth", "body", "pattern"))
    state["status"] = True   # a file without commands returns 0
    try:
        return _eval(text, variables, state, why, "the file %s" % path)
    finally:
        if state.get("returning"):
            # sh reads on only where the return ran: what the file opened after it was never read
            del (state.get("groups") or [])[state["entry"][2]:]
            state.update(opened)
        for key in _RETURN_STATE:
            state.pop(key, None)
        state.update(outer)


# a file sourced and its return (_return): the rest of it is not run, or may not be; whether a &&
# or || follows the "."; the condition, depth and groups it is sourced under
_RETURN_STATE = ("returned", "returning", "listed", "entry")
_MAY_RETURN = "assigned after a return that may run: sh may have stopped reading the file before"
# dash's number() (strtoimax): blanks, a sign, digits, blanks; from 0 to INT_MAX
_STATUS = re.compile(r"[ \t\n\v\f\r]*([+-]?)([0-9]+)[ \t\n\v\f\r]*\Z")


def _return(arguments, state, why, connector, operator):
    """``return`` outside a function: the file sourced ends there (dash, as ksh: the rest of it is
    not read), ``state["returned"]``, where it runs whenever the file does; else what the rest
    assigns is a value only sh knows (``state["returning"]``).  In a subshell it ends only that.
    A status sh cannot take stops sh; so does one not 0 (without one, after ``||``, the last
    command's) under set -e, at the return or at the ``.`` unless a ``&&`` or ``||`` follows
    both: ConfigError where that is certain (not in a group, which may be piped), nothing where
    it may be (grub-mkconfig writes nothing there)."""
    groups = state.get("groups") or ()
    if groups and groups[-1].subshell:
        return
    entry_why, depth, entry_groups = state.get("entry", (None, 0, 0))
    # not after && or ||, nor in a compound command or a group (which may be piped) the file opened
    runs = connector not in ("&&", "||") and state["depth"] == depth and len(groups) == entry_groups and \
        state.get("why") == entry_why and not state.get("returning")
    status = arguments[0] if arguments else None
    known = status is not None and not isinstance(status, Unknown)
    number = _STATUS.match(status) if known else None
    bad = known and (not number or int(number.group(2)) > 2147483647 or number.group(1) == "-" and int(number.group(2)))
    # without a status, the last command's: one not 0 where known (false || return), or after ||
    failed = int(number.group(2)) if number else status is None and (state.get("status") is False or connector == "||")
    if bad or failed and state.get("errexit", True) is True and not (operator in ("&&", "||") and state.get("listed")):
        if runs and not (why or groups):
            raise ConfigError("return %s: %s" % (status or "", "sh takes no such number (Illegal number) and stops, and "
                                                 "grub-mkconfig with it" if bad else
                                                 "a status not 0 under set -e: sh stops, and grub-mkconfig with it"))
        return   # where it runs, sh stops: grub-mkconfig writes nothing
    if runs:
        state["returned"] = True
    else:
        state["returning"] = state.get("returning") or _MAY_RETURN


_BUILTINS = ("unset", "for", "read", "getopts", "eval", ".", "exit", "exec")


class _Limit(ConfigError):
    """A limit of the reader's reached (said once, where the file reaches it)."""


def _subshell_ends(state, command, arguments):
    """``exit`` or ``return`` that certainly runs where the innermost group, a subshell, does ends
    it: with a status not 0 (its low 8 bits), or one sh takes for no number, the subshell fails
    (_fails).  Without a status, the last command's (0 here: one that failed stopped it)."""
    opened = state["groups"][-1].opened
    status = arguments[0] if arguments else None
    if not (opened and opened["subshell"]) or status is None or isinstance(status, Unknown):
        return
    number = _STATUS.match(status)
    if not number or int(number.group(2)) > 2147483647 or int(number.group(2)) % 256 or \
            number.group(1) == "-" and int(number.group(2)):
        _fails(state, "%s %s ends the subshell with a status not 0" % (command, status), False)


def _at(what, row):
    """Where in a sourced file (``what``) an error is: its line."""
    return ", line %d" % (row + 1) if what.startswith("the file") else ""


def _eval(text, variables, state, why, what):
    """What ``eval`` or ``.`` running ``text`` (``what``) assigns: its lines, read as the file's
    are (in ``state``)."""
    state["evals"], state["eval_text"] = state.get("evals", 0) + 1, state.get("eval_text", 0) + len(text)
    if state["evals"] > MAX_EVAL_DEPTH:
        raise _Limit("eval and . run one another more than %d deep: the reader stops there" % MAX_EVAL_DEPTH)
    if state["eval_text"] > MAX_EVAL_TEXT:
        raise _Limit("its evals and the files it sources run more than %d characters: the reader stops there"
                     % MAX_EVAL_TEXT)
    rows, left_open, made, ended = lines(text), [], [], text.endswith("\n")
    statements = _statements(rows, left_open)
    if left_open:
        # sh reads one line at a time: up to it, a return may end the text before
        statements = [(first, last) for first, last in statements if last < left_open[0][0]]
    # the commands it runs start their journals again: the one running eval keeps what they change
    outer, outer_why = variables.changed, state.get("why")
    variables.outer.append(outer)
    state["why"] = why or outer_why
    groups, opened = len(state.get("groups") or ()), None   # a compound command must end in the text it begins in
    try:
        for first, last in statements:
            try:
                made.extend(_line_assignments(_statement_text(rows, first, last, ended), variables, state))
            except _Limit:
                raise
            except ConfigError as exc:
                raise ConfigError("%s%s: %s" % (what, _at(what, first), exc))
            opened = (first if opened is None else opened) if len(state.get("groups") or ()) > groups else None
            if state.get("returned"):
                return made
        if state.get("returning"):
            return made   # sh stops at what follows, unless the return ran: reading on from there
        if left_open:
            raise ConfigError("%s%s: %s" % (what, _at(what, left_open[0][0]), left_open[0][1]))
        if opened is not None:
            raise ConfigError("%s%s: %s" % (what, _at(what, opened), _NOT_CLOSED))
    finally:
        variables.outer.pop()
        variables.changed, state["why"], state["evals"] = outer, outer_why, state["evals"] - 1
    return made


# What reading a file carries from one line to the next (``state`` of _line_assignments):
#   depth      how deep inside compound commands (if, while, case, subshells) the line starts
#   groups     for each open compound command [what it changed (name: value before), runs in a subshell]
#   closed     the groups the last command ended, followed once its operator is known (_closed)
#   pattern    a case pattern is read (up to its ")")
#   body       the function whose body is read: its name, the shell's variables, a copy the body
#              assigns to, what it assigned; functions: each defined one's assignments
#   called     the values calls assigned and the bodies they ran so far (MAX_CALLED); readonly: the names made read only,
#              each with where it holds (_read_only)
#   why        the condition an eval or . runs under; evals, eval_text: how deep, how much (MAX_EVAL_*)
#   sourced    reads a file . sources (None: not read); sources: the files sourced so far


def _environment(text, prefix, variables, run=None):
    """The assignments before a command (``prefix``: ``(NAME, value, start)``) are its environment:
    each made in turn, its expansions' ``${B=x}`` too, then all taken back (dash); ``run()``, run
    in it, gives what this returns (what it assigns to them is taken back too)."""
    saved = []
    for name, dummy, start in prefix:
        value = _word(text, start, variables)[0]
        saved.append((name, variables.get(name, _UNSET)))   # after its own ${NAME=x}
        variables[name] = value
    made = run() if run else None
    for name, value in reversed(saved):
        if value is not _UNSET:
            variables[name] = value
        elif name in variables:
            del variables[name]
    return made


def _call(state, name, variables):
    """``[(NAME, value)]`` a call of the function ``name`` assigns: what its body assigns, and the
    functions it calls, each a value only sh knows; the names their ``readonly`` makes read only
    may be so, and whether set -e holds after a ``set`` only sh knows; ConfigError where one
    runs a built-in the reader does not follow."""
    functions, calls, pending, seen = state["functions"], [], [name], set([name])
    while pending:   # each function the call may run, once
        called = pending.pop()
        function = functions[called]
        if function.get("unfollowed"):
            raise ConfigError("the function %s runs %s, which the reader does not follow where %s is called" % (
                called, function["unfollowed"], name))
        state["called"] = state.get("called", 0) + len(function["names"]) + len(function.get("calls", ())) + 1
        if state["called"] > MAX_CALLED:
            raise ConfigError("its functions' calls assign more than %d values: the reader stops there" % MAX_CALLED)
        calls.extend((assigned, Unknown(value, "assigned when the function %s runs, which the reader does not follow"
                                        % called)) for assigned, value in function["names"].items())
        for other in function.get("calls", ()):
            if other in functions and other not in seen:
                seen.add(other)
                pending.append(other)
        for made in function.get("readonly", ()):
            readonly = state.setdefault("readonly", {})
            if _scope(readonly, made) is _ABSENT:
                readonly[made] = _MAYBE
        if function.get("set"):
            state["errexit"] = None
    variables.update(calls)
    return calls


def _line_assignments(text, variables, state=None):
    """``[(NAME, value)]`` of the assignments sh performs on one line, in
    order (``variables`` follows them): the leading assignment words of each
    simple command (the line split at an unquoted ``;``, ``&&``, ``||``,
    ``|`` or ``&``), each expanded once the ones before it took effect, when
    no command word follows them or the command is ``:`` (a ``NAME=`` word
    after another word is one, even one that expands to nothing); and the
    assignments ``export`` and ``readonly`` are given, all expanded before
    the first is made.  Before another command they are its environment only
    (and under grub-mkconfig's ``set -e`` a command it does not find stops
    it).  A ``#`` at a word's start ends the line.  A command in a pipeline
    or run in the background runs in a subshell: it assigns nothing here.
    A value from a command's output, and one assigned after ``&&`` or ``||``
    or inside a compound command (every ``NAME=`` word there, a ``case``
    branch's too), is ``Unknown``; ``state`` carries how deep inside
    compound commands the next line starts.  A redirection (``>/dev/null``,
    ``2>&1``) is no word: its file's name is expanded after the command's
    words and before the assignments (dash's evalcommand()).  A function's
    body (``f() { ...; }``) assigns nothing where it is defined; what it
    assigns is ``Unknown`` where it is called."""
    state = state if state is not None else {"depth": 0}
    variables = variables if isinstance(variables, _Journal) else _Journal(variables)
    if state.get("body"):
        variables = state["body"]["scratch"]   # the body's assignments go to a copy, kept for a call
    found, index, text, connector = [], 0, _joined(text), ";"
    while index < len(text):
        if connector in ("&&", "||", "|"):
            index = _AFTER_OPERATOR.match(text, index).end()   # the command may follow on a later row
        begin = index   # where the simple command starts: a command substitution in it makes its status sh's
        command, prefix, declared, before, inside, doubt, kept = None, [], [], None, [], None, {}
        words, fieldless, redirections, called, arguments = False, [], [], None, []   # words: one that is no assignment came
        unknown_command = None   # why only sh knows which command runs (its word is such a value)
        wrapped = False   # the command runs through ``command``: a special built-in as a regular one
        redirected, targets = [], []   # each redirection's operator, the file (descriptor) it names
        marked, prefix_bad = None, []   # what failed expanding the assignments before a command, which sh does after its words
        negated = False   # after "!": set -e does not stop sh where the pipeline fails
        variables.changed = {}
        del _BAD[:]
        # after a status that lets it run (true && ...: _status), the command runs as after a ";"; after one
        # that does not (false && ...), it is read only
        status = None if state.get("body") else state.get("status", True)
        connector = ";" if (connector, status) in (("&&", True), ("||", False)) else connector
        skipped = (connector, status) in (("&&", False), ("||", True))
        why = _NOT_RUN if skipped else "assigned after %s" % connector if connector in ("&&", "||") else \
            _COMPOUND if state["depth"] else state.get("why") or state.get("returning") or _group_why(state)

        def assign(name, start):
            value, end = _word(text, start, variables)
            variables[name] = _unknown_value(value, text[start:end], variables, why)
            return variables[name], end

        while True:
            index = _BLANKS.match(text, index).end()
            if state.get("pattern") and index < len(text) and text[index] not in "#;)":
                # a case branch's patterns, up to the ")": matched against, never run
                if _ESAC.match(text, index):
                    state["pattern"] = False
                    variables = _compound_word(state, "esac", variables, connector == "|")
                index = max(_word_end(text, index), index + 1)
                continue
            if index >= len(text) or text[index] in "#;&|()":
                break
            redirection = _REDIRECTION.match(text, index)
            if redirection:
                index = _BLANKS.match(text, redirection.end()).end()
                redirections.append(index)
                redirected.append(redirection.group(0))
                index = max(_word_end(text, index), index)
                continue
            definition = None if command or prefix or words or state.get("body") else _FUNCTION.match(text, index)
            if definition:
                state["body"] = {"name": definition.group(1), "braces": 0, "depth": state["depth"],
                                 "real": variables, "names": {}, "scratch": _Journal(variables), "started": False}
                variables = state["body"]["scratch"]
                index = definition.end()
                continue
            appended = _NAME_APPEND.match(text, index) if command is None and not words else None
            if appended:
                # bash appends, dash runs a command it does not find (grub-mkconfig stops): /bin/sh tells
                value, index = _word(text, appended.end(), variables)
                inside.append((appended.group(1), Unknown(variables.get(appended.group(1), "") + value, _APPENDED)))
                why = why or _APPENDED   # and what else the command assigns
                continue
            match = _NAME_EQ.match(text, index)
            if match and command is None and not words:
                value, end = assign(match.group(0)[:-1], match.end())
                prefix.append((match.group(0)[:-1], value, match.end()))
                index = end
            elif match and command in ("export", "readonly"):
                # a declaration's arguments are all expanded before any is assigned (dash, bash),
                # and before the assignments before it: whether only sh knows one is seen now
                value, end = _word(text, match.end(), variables)
                declared.append((match.group(0)[:-1], _unknown_value(value, text[match.end():end], variables, None)))
                index = end
            elif match and (why or unknown_command):
                # an argument that may be an assignment (then X=1, a case branch's, or one of a
                # command only sh knows, which may be eval or export): the variable's value is no
                # longer known
                value, index = _word(text, match.end(), variables)
                inside.append((match.group(0)[:-1], Unknown(value, why or unknown_command)))
                if command == "alias":
                    arguments.append(match.group(0) + value)
            else:
                # a command's words are expanded before the assignments before it are made
                before = variables.before() if before is None and command is None and prefix else before
                marked = len(_BAD) if marked is None and command is None and prefix else marked
                expanding = before if command is None and prefix else variables
                if expanding is before:
                    before.changed = {}   # what this word's expansions assign
                word, end, quoted = _quoted_word(text, index, expanding)
                words = True
                made_from = _unknown_value("", text[index:end], expanding, None) if prefix and not doubt else None
                doubt = doubt or (made_from.why if isinstance(made_from, Unknown) else None)
                # an unquoted expansion to nothing or to blanks only (split at $IFS) is no field: no
                # command either
                if command is None and (word.strip(" \t\n") or quoted):
                    if expanding is not variables:
                        # what the assignments made, which stays when the word may be no command
                        kept = dict((name, variables[name]) for name in variables.changed if name in variables)
                        variables.become(expanding)
                    command = word
                    if marked:
                        prefix_bad[:], _BAD[:marked] = _BAD[:marked], []
                    unknown_command = _named_by(word, text[index:end], expanding)
                    called = word if word in state.get("functions", ()) and not state.get("body") else None
                    # a reserved word is one as written: "$A}" expanded to "}" closes nothing
                    reserved = word if text[index:end] == word else None
                    if reserved in state.get("aliases", ()):
                        raise ConfigError("%s is an alias here: sh reads the words of its value in its place, which "
                                          "the reader does not follow" % word)
                    variables = _compound_word(state, reserved, variables, connector == "|",
                                               _opened(state, connector, why, negated) if reserved == "{" else None)
                    why = why or (_COMPOUND if state["depth"] else None)
                    negated = negated or reserved == "!"
                    if reserved in _STARTERS and not prefix:
                        # a reserved word the next command follows on the same line
                        command, before, words = None, None, False
                        variables.changed = {}
                elif command == "case" and text[index:end] == "in":
                    state["pattern"] = True
                elif command == "command" and not (arguments or unknown_command) and \
                        (word.strip(" \t\n") or quoted) and (word == "-p" or word[:1] != "-"):
                    # "command NAME ...": NAME runs (never a function), a special built-in as a
                    # regular one; -p only picks the PATH it is looked up in
                    if word != "-p":
                        command, wrapped = word, True
                        unknown_command = _named_by(word, text[index:end], expanding)
                elif command is not None:
                    # an argument (an unquoted one of blanks is no field: unless only sh knows)
                    argument = _unknown_value(word, text[index:end], expanding, None)
                    if word.strip(" \t\n") or quoted or isinstance(argument, Unknown):
                        arguments.append(argument)
                    if unknown_command and text[index:end] == word and _NAME_EQ.match(word + "="):
                        # the command may be unset, read or export of it
                        inside.append((word, Unknown(variables.get(word, ""), unknown_command)))
                elif command is None:
                    fieldless.append(index)
                    if expanding is not variables and expanding.changed:
                        # no field, but its ${B=x} assigned: the prefix is expanded and assigned after that
                        variables.become(expanding)
                        for number, (name, dummy, start) in enumerate(prefix):
                            prefix[number] = (name, assign(name, start)[0], start)
                index = max(end, index + 1)
        if redirections and command is None and prefix:
            # the files' names are expanded before the assignments: again, from the values before them
            replayed = variables.before()
            replayed.changed = {}
            first_pass, _BAD[:] = list(_BAD), []   # what failed in the assignments, expanded again if need be
            for start in fieldless:
                _word(text, start, replayed)
            targets = [_target(text, start, replayed) for start in redirections]
            if replayed.changed:
                variables.become(replayed)
                for number, (name, dummy, start) in enumerate(prefix):
                    prefix[number] = (name, assign(name, start)[0], start)
            else:
                _BAD.extend(first_pass)
        else:
            targets = [_target(text, start, variables) for start in redirections]
        # eval and . through command run in the environment the assignments before them make
        in_environment = wrapped and command in ("eval", ".")
        if command is not None and (command not in _KEEPING or wrapped) and not in_environment:
            _environment(text, prefix, variables)
        if prefix_bad and (in_environment or command in _KEEPING and not wrapped):
            _environment(text, prefix, variables)   # expanded again after the command's words: what still fails
        operator = text[index:index + 2] if text[index:index + 2] in ("&&", "||", ";;") else text[index:index + 1]
        # whether the command runs wherever the innermost group does (the file, outside every group)
        certain = _group_runs(state, connector, why) if state.get("groups") else not (
            why or state.get("body") or connector == "|")
        if _BAD and certain and operator not in ("|", "&"):
            _fails(state, _BAD[0], True)
        if _BAD:
            # a group may run in a subshell (piped), which the error stops alone
            why = why or "%s: sh stops there where it runs, unless in a subshell" % _BAD[0]
        failing = _redirection_fails(redirected, targets)
        if failing and certain and operator not in ("|", "&"):
            # where it fails, a special built-in stops sh, and set -e any other command unless a list goes on
            special = command in _KEEPING and not wrapped
            stops = special or operator not in ("&&", "||") and not negated and state.get("errexit", True) is True
            if failing is _FAILS and stops:
                _fails(state, "a redirection here names no file (it fails)", special)
            opened = state["groups"][-1].opened if state.get("groups") else None
            if command is None and stops and opened:
                # sh stops where it fails, unless a && or || follows the group, or a ! comes before it (_closed)
                state.setdefault("may_fail", []).extend((name, value) for name, value, dummy in prefix)
            elif command is None and not stops:
                # the assignments are not made where it fails
                for number, (name, value, start) in enumerate(prefix):
                    value = value if isinstance(value, Unknown) else Unknown(value, _REDIRECTION_FAILS)
                    variables[name] = value
                    prefix[number] = (name, value, start)
        made = []
        if command is None:
            made = [(name, value) for name, value, dummy in prefix]
        elif command in _KEEPING:
            # the assignments before a command are expanded after its words (POSIX sh, 2.9.1)
            made = [] if wrapped else [(name, assign(name, start)[0]) for name, dummy, start in prefix]
            declared = [(name, Unknown(value, why) if why and not isinstance(value, Unknown) else value)
                        for name, value in declared]
            variables.update(declared)
            made.extend(declared)
        if state.get("body") and command is not None:
            _body_runs(state["body"], command, arguments, declared)
        # an exit (exec) where it may run, or in a group that may be piped: where it runs, grub-mkconfig writes nothing
        stopping = command in ("exit", "exec") and (why or state.get("groups") or connector == "|" or operator in ("|", "&"))
        if command in _BUILTINS and not (state.get("body") or stopping or skipped):
            # set -e (grub-mkconfig's) stops where it fails, unless a list or a pipeline goes on
            failing_stops = not why and operator not in ("&&", "||", "|", "&") and state.get("errexit", True) is True
            listed = operator in ("&&", "||")
            made.extend(_environment(text, prefix, variables, lambda: _builtin(
                command, arguments, variables, state, why, failing_stops, listed)) if in_environment else
                _builtin(command, arguments, variables, state, why, failing_stops, listed))
        if command == "return" and not (state.get("body") or skipped) and connector != "|" and operator not in ("|", "&"):
            _return(arguments, state, why, connector, operator)
        if command in ("exit", "return") and certain and state.get("groups") and operator not in ("|", "&"):
            _subshell_ends(state, command, arguments)
        # the status of a "." is its file's last command's (the reader ran its lines: state["status"])
        sourced = command == "." and not (wrapped or skipped or state.get("body"))
        own = None if failing or called or _SUBSTITUTION.search(text, begin, index) else \
            state.get("status") if sourced else _command_status(command, arguments, variables)
        if own is False and certain and not negated and operator not in ("&&", "||", "|", "&") and \
                state.get("errexit", True) is True:
            _fails(state, "%s under set -e (grub-mkconfig's)" % (
                "the file sourced here ends with a status not 0, which . returns" if sourced else
                "%s fails here" % (command if command == "false" else text[begin:index].strip(" \t\n")[:60])), False)
        if command == "set" and not (state.get("body") or skipped) and connector != "|" and operator not in ("|", "&"):
            _errexit(arguments, state, why)
        if command in ("alias", "unalias") and not (state.get("body") or skipped):
            _aliases(command, arguments, state, why or connector == "|" or operator in ("|", "&"))
        if doubt and (command not in _KEEPING or wrapped):
            # whether a command follows them hangs on a value only sh knows: so do the assignments
            kept.update((name, value) for name, value, dummy in prefix)
            variables.update((name, Unknown(value, "assigned before a word %s" % doubt)) for name, value in kept.items())
            made = [(name, variables[name]) for name, value, dummy in prefix]
        if called and not skipped:
            made.extend(_call(state, called, variables))
        variables.update(inside)
        made.extend(inside)
        if connector == "|" or operator in ("|", "&") or skipped:
            # a pipeline's commands and a background one run in subshells; a command not run assigns nothing
            variables.undo()
            made = []
        elif why:
            # what its expansions assigned (${B=x}) is as uncertain as the command
            for name in list(variables.changed):
                if name in variables and not isinstance(variables[name], Unknown):
                    variables[name] = Unknown(variables[name], why)
        if state.get("body"):
            _body_assigned(state["body"], variables)
            made = []   # read, not run: kept for a call
        for saved in [group.saved for group in state.get("groups", [])[-1:]]:
            for name, value in variables.changed.items():
                saved.setdefault(name, value)   # its value before the compound command, put back if a subshell
        _closed(state, variables, operator)
        if not state.get("body"):
            _read_only(state, variables, command, [name for name, dummy in declared] + arguments, why)
            if command is not None or prefix or redirected or words or operator in ("(", ")"):
                state["status"] = _status(state, own, connector, operator, negated)
        found.extend(made)
        variables = _operator(state, operator, variables,
                              _opened(state, connector, why, negated) if operator == "(" else None)
        if index >= len(text) or text[index] == "#" or state.get("returned"):
            break
        connector = operator or ";"
        index += len(operator or ";")
    if state.get("closed"):
        _closed(state, variables, "")   # a subshell the line ends with: no operator follows it
    return found


_SUBSTITUTION = re.compile(r"\$\(|`")
_NOT_RUN = "after a status that does not let it run"


def _command_status(command, arguments, variables):
    """Whether the simple ``command`` run with ``arguments`` exits 0 (True), not 0 (False), or only
    sh knows (None): assignments alone, ``:``, ``true``, ``export``, ``readonly``, ``false``, and
    ``[`` or ``test`` of strings and integers are followed (_test_status)."""
    if command is None or command in (":", "true", "export", "readonly"):
        return True
    if command == "false":
        return False
    if command in ("[", "test"):
        return _test_status(command, arguments, variables)
    return None


def _status(state, own, connector, operator, negated):
    """The status of the last command the file ran (``state["status"]``: True for 0, False for not
    0, None where only sh knows) after the simple command whose own status is ``own``: a ``&&`` or
    ``||`` before it runs it only after a status that lets it; a ``!`` before it turns it over.  Inside
    a compound command, a group or a pipeline the reader does not follow it; a command run in the
    background has 0."""
    if state["depth"] or state.get("groups") or state.get("returning") or operator in ("(", ")", "|") or \
            connector == "|":
        return None
    if operator == "&":
        return True
    own = (not own) if negated and own is not None else own
    before = state.get("status", True)
    if connector == "&&":
        return before if before is False else own if before else (False if own is False else None)
    if connector == "||":
        return before if before is True else own if before is False else (True if own is True else None)
    return own


# test's unary string primaries and its binary integer ones (a file's test: what only sh knows)
_TEST_STRING = {"-n": bool, "-z": lambda value: not value}
_TEST_INTEGER = {"-eq": int.__eq__, "-ne": int.__ne__, "-gt": int.__gt__, "-ge": int.__ge__, "-lt": int.__lt__,
                 "-le": int.__le__}
_INTEGER = re.compile(r"-?[0-9]{1,18}\Z")   # within intmax_t: sh refuses more


def _test_status(command, arguments, variables):
    """The status of ``[`` or ``test`` with ``arguments`` (POSIX's rules by their number, up to
    four): True, False, or None where only sh knows (a file's test, an argument only sh knows or that
    sh may split into fields or match against file names, a form the rules leave open)."""
    if command == "[":
        if not arguments or arguments[-1] != "]":
            return None if any(isinstance(argument, Unknown) for argument in arguments) else False   # "missing ]"
        arguments = arguments[:-1]
    if "IFS" in variables or any(isinstance(argument, Unknown) or set(argument) & set(" \t\n*?[")
                                 for argument in arguments):
        return None
    return _test(list(arguments))


def _test(arguments):
    """POSIX test of 0 to 4 ``arguments``, each a string sh gives it: True, False or None (the forms
    where dash's parser and POSIX's rules may part: operators as operands, nested "!" and "(")."""
    count = len(arguments)
    if count < 2:
        return bool(arguments and arguments[0])
    if count == 2 and arguments[0] == "!":
        return not arguments[1]
    if count == 2 and arguments[0] in _TEST_STRING:
        return _TEST_STRING[arguments[0]](arguments[1])
    if count == 3 and arguments[1] in ("=", "!="):
        return (arguments[0] == arguments[2]) is (arguments[1] == "=")
    if count == 3 and arguments[1] in _TEST_INTEGER:
        if _INTEGER.match(arguments[0]) and _INTEGER.match(arguments[2]):
            return _TEST_INTEGER[arguments[1]](int(arguments[0]), int(arguments[2]))
        return None
    if arguments[0] == "!" and count in (3, 4) and (arguments[1] in _TEST_STRING if count == 3 else
                                                    arguments[2] in ("=", "!=") or arguments[2] in _TEST_INTEGER):
        inner = _test(arguments[1:])
        return None if inner is None else not inner
    return None


def _errexit(arguments, state, why):
    """Follow ``set -e`` and ``set +e`` (``-o errexit``, ``+o errexit``, with other options):
    ``state["errexit"]`` True (grub-mkconfig's own set -e) or False, None where only sh knows
    (under a condition ``why``, or an option only sh knows)."""
    index = 0
    while index < len(arguments) and arguments[index][:1] in ("-", "+") and arguments[index] not in ("-", "--"):
        argument, index = arguments[index], index + 1
        if isinstance(argument, Unknown):
            state["errexit"] = None
        elif argument[1:] == "o":
            name = arguments[index] if index < len(arguments) else None
            index += 1
            if name == "errexit" or isinstance(name, Unknown):
                state["errexit"] = None if why or isinstance(name, Unknown) else argument[0] == "-"
        elif "e" in argument[1:]:
            state["errexit"] = None if why else argument[0] == "-"


def _aliases(command, arguments, state, uncertain):
    """Follow ``alias NAME=value`` and ``unalias`` in ``state["aliases"]``: the names defined
    (where ``uncertain``, one that may be is kept, one that may be removed too)."""
    aliases = state.setdefault("aliases", set())
    if command == "alias":
        aliases.update(argument.split("=", 1)[0] for argument in arguments if "=" in argument)
    elif not uncertain:
        aliases.difference_update(aliases.copy() if "-a" in arguments else arguments)


def _named_by(word, written, variables):
    """Why only sh knows which command the ``word`` (as ``written``) runs, or None."""
    value = _unknown_value(word, written, variables, None)
    return "named by a command only sh knows (%s)" % value.why if isinstance(value, Unknown) else None


def _assignments(rows):
    """``[(first, last, NAME, alone)]`` of the assignments among ``rows``,
    each one line for sh (``_statements``); ``alone``: the only word of its
    line (``export`` and a comment aside), which an edit may replace whole."""
    # a file it sources (not read here) may assign any name: its line is one of NAME "."
    found, state = [], {"depth": 0, "sourced": lambda path: ""}
    _PATTERN_WORK[0] = 0   # each file's reading has the whole budget
    for first, last in _statements(rows):
        text = _joined(_statement_text(rows, first, last))
        sources = len(state.get("sources", ()))
        try:
            names = [name for name, dummy in _line_assignments(text, {}, state)]
        except ConfigError:
            names = []   # a line sh stops at (a bad substitution its values reach here): nothing to edit in it
        if len(state.get("sources", ())) > sources:
            found.append((first, last, ".", False))
        match = _STATEMENT.match(text) if len(names) == 1 else None
        alone = False
        if match:
            rest = text[_word(text, match.start(2), {})[1]:].lstrip(" \t")
            alone = not rest or rest.startswith("#")
        found.extend((first, last, name, alone) for name in names)
    return found


def parse_defaults(text, source, variables=None, assignments=None, shell=None, sourced=None):
    """Run the assignments of one defaults file as sh does
    (``_line_assignments``); returns ``(variables, assignments)`` where
    assignments maps a name to ``[(file, line, value)]`` (line: where the
    line it is on starts).  ``shell``: what the files sourced before left in
    the same shell besides its variables (``_SHELL_STATE``: the functions
    defined, the variables made read only, whether set -e holds, the aliases),
    which this one goes on from and adds to.  ``sourced(path)``: the text of a file
    ``.`` sources (None: not there); without it, a ``.`` is an error."""
    variables = _Journal(variables or {})
    assignments = assignments if assignments is not None else {}
    _PATTERN_WORK[0] = 0
    rows, left_open, ended = lines(text), [], text.endswith("\n")
    statements = _statements(rows, left_open)
    if left_open:
        # sh reads one line at a time: up to it, a return may end the file before
        statements = [(first, last) for first, last in statements if last < left_open[0][0]]
    shell = shell if shell is not None else {}
    shell.setdefault("functions", {})
    state = dict(shell, depth=0, sourced=sourced)
    opened = None   # the line of the first compound command still open
    ran = None   # the line of the last statement sh ran
    for first, last in statements:
        try:
            made = _line_assignments(_statement_text(rows, first, last, ended), variables, state)
        except ConfigError as exc:
            raise ConfigError("%s:%d: %s" % (source, first + 1, exc))
        for name, value in made:
            assignments.setdefault(name, []).append((source, first + 1, value))
        if state.get("body"):
            state["body"].setdefault("line", first + 1)
        opened = (first if opened is None else opened) if state.get("groups") else None
        ran = first
        if state.get("returned"):
            break
    ended = state.get("returned") or state.get("returning")   # sh may stop reading the file before its end
    if left_open and not ended:
        raise ConfigError("%s:%d: %s" % (source, left_open[0][0] + 1, left_open[0][1]))
    if state.get("body") and not ended:
        raise ConfigError("%s:%d: the body of the function %s is not closed before the file ends: sh stops with a "
                          "syntax error, and grub-mkconfig with it" % (source, state["body"]["line"], state["body"]["name"]))
    if opened is not None and not ended:
        raise ConfigError("%s:%d: %s" % (source, opened + 1, _NOT_CLOSED))
    if state.get("status") is False and state.get("errexit", True) is True and not state.get("returning"):
        raise ConfigError("%s:%d: the file's last command has a status not 0: the . that sources it returns that "
                          "status, and grub-mkconfig, which runs with set -e, stops there" % (source, ran + 1))
    shell.update((key, state[key]) for key in _SHELL_STATE if key in state)
    return dict(variables), assignments


# what one file sourced leaves in grub-mkconfig's shell for the next (_line_assignments' state)
_SHELL_STATE = ("functions", "readonly", "errexit", "aliases")


_NOT_CLOSED = ("a compound command (if, case, while, for, { or a subshell) begun here is not closed before the file ends: "
               "sh stops with a syntax error, and grub-mkconfig with it")


def bls_entry_paths(target, grub, listing):
    """The BLS entry files the boot loader reads: GRUB's blscfg (``grub``)
    /boot/loader/entries, systemd-boot the ESP's too; each takes the names
    ``bls_entry_name`` says and skips a name it cannot open as a file (a
    directory, a link leading nowhere).  ``listing(directory)``: its names,
    [] when it is not there (the caller's errors for the rest)."""
    return [path for directory in ((BLS_DIR,) if grub else SD_BOOT_ENTRIES)
            for path in ("%s/%s" % (directory, n) for n in sorted(listing(directory)) if bls_entry_name(n, grub))
            if target.isfile(path)]


class GrubConfig(object):
    """What GRUB 2 boots with on a tree (``found`` is False without GRUB 2)."""

    def __init__(self, target, replace=None):
        self.target = target
        replace = replace or {}
        self.layout, self.mkconfig = None, None
        for path, layout in MKCONFIGS:
            if target.exists(path):
                self.layout, self.mkconfig = layout, path
                break
        # anything there (a FIFO, a directory, a link loop) is read, and the read names what is wrong
        self.grub_cfg = next((p for p in GRUB_CONFIGS if present(target, p)), None) or self._esp_grub_cfg(replace)
        if self.layout is None and self.grub_cfg:
            self.layout = "redhat" if "grub2" in self.grub_cfg or self.grub_cfg.startswith(ESP_EFI_DIR) else "debian"
        self.dropins_supported = self._dropins_supported()
        self.files, self.variables, self.assignments = [], {}, {}
        text, shell = self._text(DEFAULTS, replace), {}

        def sourced(path):
            return self._text(path, replace)

        if text is not None:
            self.files.append(DEFAULTS)
            self.variables, self.assignments = parse_defaults(text, target.display(DEFAULTS), shell=shell, sourced=sourced)
        if self.dropins_supported:
            paths = ["%s/%s" % (DEFAULTS_DIR, n) for n in names(target, DEFAULTS_DIR, "*.cfg")]
            paths = sorted(set(paths) | set(p for p in replace if p.startswith(DEFAULTS_DIR + "/")
                                            and replace[p] is not None))
            for path in paths:
                text = self._text(path, replace)
                if text is None:
                    continue
                self.files.append(path)
                self.variables, self.assignments = parse_defaults(
                    text, target.display(path), self.variables, self.assignments, shell, sourced)
        # GRUB loads the grubenv beside its grub.cfg; before there is one, where grub-mkconfig's layout keeps it
        candidates = [grubenv_beside(self.grub_cfg)] if self.grub_cfg else \
            [GRUBENV_BY_LAYOUT[self.layout]] if self.layout else list(GRUBENV_BY_LAYOUT.values())
        self.grubenv_path = next((p for p in candidates if present(target, p)), None)
        self.grubenv = parse_grubenv(self._text(self.grubenv_path, replace)) if self.grubenv_path else {}
        self.cfg_text = self._text(self.grub_cfg, replace) if self.grub_cfg else None
        self.env = grub_env(self.cfg_text, self.grubenv)
        self.bls = bool(self.cfg_text and re.search(r"^[ \t]*blscfg\b", self.cfg_text, re.M))
        self.bls_files = bls_entry_paths(target, bool(self.files or self.grub_cfg), lambda d: names(target, d))
        # no GRUB defaults and no grub.cfg: the BLS entries are systemd-boot's
        self.loader_conf = next((p for p in LOADER_CONFS if present(target, p)), None) \
            if not (self.files or self.grub_cfg) else None
        self.loader_text = self._text(self.loader_conf, replace) if self.loader_conf else None
        self.found = bool(self.files or self.grub_cfg or self.bls_files)

    def _text(self, path, replace):
        return replace[path] if path in replace else read(self.target, path)

    def value(self, name):
        """A defaults variable's value ("" when unset); ConfigError when only sh knows it (``Unknown``)."""
        value, found = self.variables.get(name, ""), self.assignments.get(name)
        if isinstance(value, Unknown):
            source, line = found[-1][:2] if found else ("the GRUB defaults", 0)
            _known((source, line, value), name)
        return value

    def _esp_grub_cfg(self, replace):
        """The ESP's EFI/<vendor>/grub.cfg that is a menu of its own (no
        ``configfile`` loading another), or None."""
        for vendor in names(self.target, ESP_EFI_DIR):
            path = "%s/%s/grub.cfg" % (ESP_EFI_DIR, vendor)
            if present(self.target, path):
                text = self._text(path, replace)
                if text is not None and not re.search(r"^[ \t]*configfile\s", text, re.M):
                    return path
        return None

    def _dropins_supported(self):
        """Debian's grub-mkconfig sources /etc/default/grub.d/*.cfg; Red
        Hat's does not.  Read the tree's own script when it is there."""
        if self.mkconfig and self.target.isfile(self.mkconfig):
            try:
                return "default/grub.d" in (read(self.target, self.mkconfig) or "")
            except ConfigError:
                pass
        return self.layout == "debian" or self.target.isdir(DEFAULTS_DIR)

    def cmdline(self):
        """The command line the kernel of a normal entry gets from the
        defaults: grub-mkconfig writes them on its linux lines, which GRUB
        reads (``grub_args``)."""
        return grub_args(" ".join((self.value("GRUB_CMDLINE_LINUX"), self.value("GRUB_CMDLINE_LINUX_DEFAULT"))))

    def entry_cmdlines(self):
        """``{kind: command line}`` for each kind of entry 10_linux writes:
        normal entries get GRUB_CMDLINE_LINUX and GRUB_CMDLINE_LINUX_DEFAULT,
        recovery entries (unless GRUB_DISABLE_RECOVERY=true) GRUB_CMDLINE_LINUX
        alone (util/grub.d/10_linux.in: ``linux_entry ... recovery
        "${GRUB_CMDLINE_LINUX_RECOVERY} ${GRUB_CMDLINE_LINUX}"``)."""
        kinds = {"normal": self.cmdline()}
        if self.value("GRUB_DISABLE_RECOVERY") != "true":
            kinds["recovery"] = grub_args(self.value("GRUB_CMDLINE_LINUX"))
        return kinds

    def timeout(self):
        """``(seconds or None, where)``: the menu timeout grub-mkconfig writes:
        GRUB_TIMEOUT, or the deprecated GRUB_HIDDEN_TIMEOUT where it takes its
        place (``hidden_timeout``)."""
        hidden = self.hidden_timeout()
        if hidden:
            return _seconds(hidden, "GRUB_HIDDEN_TIMEOUT")
        return self.grub_timeout()

    def grub_timeout(self):
        """``(seconds or None, where)``: GRUB_TIMEOUT as grub-mkconfig sees it."""
        found = self.assignments.get("GRUB_TIMEOUT")
        if not found:
            return (DEFAULT_TIMEOUT if self.files else None), "grub-mkconfig's default"
        return _seconds(found[-1], "GRUB_TIMEOUT")

    def hidden_timeout(self):
        """The GRUB_HIDDEN_TIMEOUT assignment ``(file, line, value)`` that 00_header's
        make_timeout() uses instead of GRUB_TIMEOUT, or None: when
        GRUB_TIMEOUT_STYLE is unset or empty and GRUB_HIDDEN_TIMEOUT is set to
        anything but 0 (to 0 as well where 00_header has Debian's quick_boot=1)
        (rhboot/grub2@5e9e7e44e util/grub.d/00_header.in make_timeout();
        Debian's debian/patches/quick-boot.patch)."""
        found = self.assignments.get("GRUB_HIDDEN_TIMEOUT")
        if self.value("GRUB_TIMEOUT_STYLE") or not found or not _known(found[-1], "GRUB_HIDDEN_TIMEOUT")[2]:
            return None
        if found[-1][2] == "0" and not self.quick_boot():
            return None
        return found[-1]

    def quick_boot(self):
        """Whether the tree's 00_header is Ubuntu's build (quick_boot=1)."""
        return 'quick_boot="1"' in (read(self.target, HEADER_SCRIPT) or "")

    def systemd_boot(self):
        """Whether the tree boots with systemd-boot: BLS entries and nothing
        of GRUB's."""
        return bool(self.bls_files) and not self.files and not self.grub_cfg

    def loader_timeout(self):
        """``(seconds or None, where)``: systemd-boot's menu timeout from
        loader.conf, the last valid ``timeout`` line winning (-1: the menu
        waits for a key); unset, the menu is hidden."""
        found = (0, "systemd-boot's default (menu hidden)")
        timeouts = [(number, value) for number, raw in enumerate(lines(self.loader_text), 1)
                    for key, value in loader_lines(raw) if key == "timeout"]
        for number, value in timeouts:
            where = "%s:%d" % (self.target.display(self.loader_conf), number)
            if value in LOADER_TIMEOUTS:
                found = LOADER_TIMEOUTS[value], where
            elif re.match(r"^[0-9]+$", value):
                # a value past UINT32_MAX (or thousands of digits long) is refused
                number = ascii_int(value.lstrip("0") or "0", most=10)
                if number is not None and number <= UINT32_MAX:
                    found = number, where
        return found

    def uses_recordfail(self):
        """Whether the menu waits GRUB_RECORDFAIL_TIMEOUT after a boot that
        did not finish: something sets recordfail (``_set_at_boot``), or the
        tree's 00_header is Ubuntu's (quick_boot=1) and the next grub.cfg will."""
        if _set_at_boot(self.cfg_text, self.grubenv).get("recordfail"):
            return True
        return self.quick_boot()

    def recordfail_timeout(self):
        """``(seconds or None, where)``: GRUB_RECORDFAIL_TIMEOUT as 00_header
        reads it (unset or empty: 30)."""
        found = self.assignments.get("GRUB_RECORDFAIL_TIMEOUT")
        if not found or not found[-1][2]:
            return RECORDFAIL_TIMEOUT, "00_header's default"
        return _seconds(found[-1], "GRUB_RECORDFAIL_TIMEOUT")

    def cfg_timeouts(self):
        """``[(line, seconds)]`` of the generated grub.cfg's timeout
        assignments that can apply at the next boot (``applicable_timeouts``)."""
        found = []
        for number, dummy, dummy2, value in applicable_timeouts(self.cfg_text, self.grubenv):
            try:
                found.append((number, bounded_int(value, 0)))
            except ValueError:
                raise ConfigError("%s:%d: timeout=%r is not a number"
                                  % (self.target.display(self.grub_cfg), number, value))
        return found

    def entries(self):
        """``[{"where", "cmdline"}]``: the command line of every kernel entry
        GRUB offers (grub.cfg ``linux`` lines; BLS entries when grub.cfg
        reads them), ``$kernelopts`` expanded (``kernelopts``), other
        variables from grubenv."""
        found = []
        for number, line in enumerate(grub_lines(self.cfg_text), 1):
            linux = grub_linux(line)
            if linux:
                found.append({"where": "%s:%d" % (self.target.display(self.grub_cfg), number),
                              "cmdline": expand_grub_vars(linux[1], self.env)})
        if self.bls or not self.grub_cfg:
            for path in self.bls_files:
                # read as the loader reads it (GRUB's blscfg, else systemd-boot): an entry it leaves out
                # (GRUB: no linux line; systemd-boot: no linux, efi or uki line) boots nothing
                entry = parse_bls_entry(read(self.target, path, BLS_ENTRY_MAX) or "", grub=self.bls)
                if entry["kernel"] if self.bls else bls_loader(entry):
                    # blscfg puts the options, variables expanded, on a linux line GRUB then reads
                    args = expand_grub_vars(entry["args"], self.env)
                    found.append({"where": self.target.display(path), "cmdline": grub_args(args) if self.bls else args})
        return found

    def kernelopts(self):
        """The ``$kernelopts`` BLS entries get (``grub_env``); None without
        one."""
        return self.env.get("kernelopts")


def efivar_loader_timeout(path=None):
    """``(seconds, value)`` of the running machine's LoaderConfigTimeout as
    systemd-boot reads it (-1: the menu waits for a key), or None when it is
    unset, unreadable or invalid (loader.conf's timeout applies then)."""
    try:
        with open(path or LOADER_TIMEOUT_EFIVAR, "rb") as handle:
            # whole: an odd length past any prefix read makes it invalid (efivar_get())
            data = handle.read(MAX_EFIVAR + 1)
    except (IOError, OSError):
        return None
    data = data[4:]
    if len(data) % 2 or len(data) > MAX_EFIVAR - 4:
        return None
    try:
        value = data.decode("utf-16-le").split("\0", 1)[0]
    except UnicodeDecodeError:
        return None
    if value in LOADER_TIMEOUTS:
        return LOADER_TIMEOUTS[value], value
    # parse_number16(): decimal digits, leading zeros too, no more than UINT64_MAX
    digits = value.lstrip("0") or "0"
    if not re.match(r"[0-9]+\Z", value) or len(digits) > 20 or int(digits) >= 2 ** 64:
        return None
    seconds = min(int(digits), UINT32_MAX)
    return (-1 if seconds == UINT32_MAX else seconds), value


def set_loader_timeout(text, seconds, rid):
    """loader.conf with ``timeout seconds``: the last timeout line kept
    behind the marker, the new one under it; appended when there is none."""
    # systemd-boot also ends a line at a lone \r: such a line is split there, so that only the
    # timeout goes behind the marker and the settings beside it stay
    rows = lines(re.sub(r"\r(?!\n)", "\n", text or ""), True)
    if rows and not rows[-1].endswith("\n"):
        rows[-1] += "\n"
    new = "timeout %d\n" % seconds
    last = None
    for index, row in enumerate(rows):
        if loader_line(row)[0] == "timeout":
            last = index
    if last is None:
        rows.append("# %s (%s)\n%s" % (MARKER, rid, new))
    else:
        rows[last:last + 1] = ["# %s replaced (%s): %s" % (MARKER, rid, rows[last].lstrip()), new]
    return "".join(rows)


def _known(assignment, name):
    """A defaults assignment ``(file, line, value)`` of ``name``; ConfigError when its value is
    ``Unknown``."""
    source, line, value = assignment
    if isinstance(value, Unknown):
        raise ConfigError("%s:%d: %s is %s: its value is known only when grub-mkconfig runs the file"
                          % (source, line, name, value.why))
    return assignment


def _seconds(assignment, name):
    source, line, value = _known(assignment, name)
    try:
        return bounded_int(value), "%s:%d" % (source, line)
    except ValueError:
        return None, "%s:%d (%r is not a number)" % (source, line, value)


# ----------------------------------------------------------------- edits
def _quote(value):
    """``value`` in double quotes, as ``_double_quoted`` reads it back."""
    return '"%s"' % re.sub(r'([$`"\\])', r"\\\1", value)


def dropin_text(header, lines):
    """A /etc/default/grub.d drop-in: ``lines`` are ``(ID, NAME, value)``
    where value may refer to ``$NAME`` (extending the earlier value)."""
    body = "".join("# %s\n%s=%s\n" % (rid, name, value) for rid, name, value in lines)
    return header + body


def assigns(text, name):
    """Whether the defaults file ``text`` assigns ``name`` anywhere (or sources a file, which may)."""
    return any(assigned in (name, ".") for dummy, dummy2, assigned, dummy3 in _assignments(lines(text or "", True)))


def set_defaults(text, updates, header=""):
    """/etc/default/grub with each ``(ID, NAME, value)`` in ``updates`` set:
    the last assignment of NAME (all its rows) is commented out behind the
    marker (kept) and the new one written under it; a missing one is appended.
    After a ``.`` line sourcing a file (which may assign it) the new one goes
    under that line."""
    rows = lines(text, True)
    if rows and not rows[-1].endswith("\n"):
        rows[-1] += "\n"
    for rid, name, value in updates:
        new = "%s=%s\n" % (name, value)
        found = [(first, last, alone) for first, last, assigned, alone in _assignments(rows) if assigned in (name, ".")]
        if not found:
            rows.append("# %s (%s)\n%s" % (MARKER, rid, new))
        elif not found[-1][2]:
            # a line that does more (another assignment, a command): kept whole, the new one after it
            rows.insert(found[-1][1] + 1, "# %s (%s)\n%s" % (MARKER, rid, new))
        else:
            # every row of an assignment that goes on over several (a comment ends at its row)
            first, last, dummy = found[-1]
            rows[first:last + 1] = ["# %s replaced (%s): %s" % (MARKER, rid, rows[first])] + \
                ["# %s" % row for row in rows[first + 1:last + 1]] + [new]
    return "".join(rows)


def add_kernel_arg(text, arg, rid, device="ttyS0", lines_re=None, grub=True):
    """A grub.cfg (``linux`` lines) or BLS entry (``options`` lines) with
    ``arg`` appended where no ``console=<device>`` is given (before a ``--``,
    after which the arguments go to init: ``cmdline.init_start``); the
    original line kept behind the marker.  ``grub``: GRUB reads the lines
    (its lexer takes its quotes off before the kernel sees them)."""
    pattern = lines_re or re.compile(r"^(\s*)(%s)(\s+\S+)(.*)$" % "|".join(LINUX_COMMANDS))
    rows, changed = [], False
    for row in lines(text, True):
        match = pattern.match(row.rstrip("\n"))
        if match and not cmdline.has_console((grub_args if grub else str)(match.group(match.lastindex)), device):
            ending = "\n" if row.endswith("\n") else ""
            rows.append("%s# %s replaced (%s): %s\n" % (match.group(1), MARKER, rid, row.strip()))
            line = row.rstrip("\n").rstrip()
            start = match.start(match.lastindex)
            rows.append("%s%s%s" % (line[:start], _with_arg(line[start:], arg), ending))
            changed = True
        else:
            rows.append(row)
    return "".join(rows), changed


def _with_arg(args, arg):
    """``args`` (blanks first) with `` arg`` added at the end of the kernel's part."""
    end = cmdline.init_start(args)
    return "%s %s" % (args, arg) if end is None else "%s%s %s" % (args[:end], arg, args[end:])


BLS_OPTIONS = re.compile(r"^(\s*)(options)()(.*)$")


# a timeout assignment among a grub.cfg line's commands (GRUB script: '#'
# starts a comment, ';' separates commands, 'set' is optional, either quote)
_TIMEOUT = re.compile(r"""^\s*(?:set\s+)?timeout=(["']?)([^"'\s]*)\1\s*$""")


# Switches: the generated grub.cfg takes a branch that tests one only when it
# is set at boot -- by grubenv (loaded at boot; userspace sets these with
# grub2-editenv) or, for recordfail, by Ubuntu's recordfail function (above).
# Red Hat's 12_menu_auto_hide (``if [ "${menu_show_once}" ]`` timeout=60,
# ``elif [ "${menu_auto_hide}" -a "${menu_hide_ok}" = "1" ]`` timeout=1) and
# 14_menu_show_once (``if [ "${menu_show_once_timeout}" ]``): rhboot/grub2@
# 7878971fb0a4d56d770649750b6ee377731120d6 (rhel-9-main),
# util/grub.d/12_menu_auto_hide.in and 14_menu_show_once.in.  Any other
# condition may hold.
SWITCHES = ("menu_show_once", "menu_auto_hide", "menu_show_once_timeout", "recordfail")
_SWITCH_TEST = re.compile(r'^\[\s+"\$\{(%s)\}"\s+(?:\]|-a\s|=\s+"?1"?\s*\])' % "|".join(SWITCHES))
_BRANCH = re.compile(r"^\s*(if|elif|else|fi|then|do)(?:\s+|$)")


def _set_at_boot(text, grubenv):
    """The variables a boot starts with: grubenv's, and recordfail where
    grub.cfg has the function that sets it after a boot that did not finish."""
    values = dict(grubenv)
    if text and RECORDFAIL_FUNCTION.search(text):
        values.setdefault("recordfail", "1")
    return values


def _branch_possible(condition, values):
    """False for an ``if``/``elif`` condition that tests a switch nothing
    sets at boot; None (the branch may be taken) otherwise."""
    match = _SWITCH_TEST.match(condition.strip())
    return False if match and not values.get(match.group(1)) else None


def applicable_timeouts(text, grubenv):
    """``[(line number, start, end, value)]`` of a grub.cfg's timeout
    assignments, ``$var`` expanded from grubenv, leaving out those inside a
    branch on a switch nothing sets at boot (``_branch_possible``)."""
    values = _set_at_boot(text, grubenv)
    found, branches = [], []   # one entry per open ``if``: False when its current branch is ruled out
    for number, line in enumerate(lines(text), 1):
        start = 0
        for command in line.split("#", 1)[0].split(";"):
            rest = command
            keyword = _BRANCH.match(rest)
            while keyword:   # "then if [ ... ]", "else set timeout=5"
                word, rest = keyword.group(1), rest[keyword.end():]
                if word == "if":
                    branches.append(_branch_possible(rest, values))
                    rest = ""
                elif word == "elif" and branches:
                    branches[-1] = _branch_possible(rest, values)
                    rest = ""
                elif word == "else" and branches:
                    branches[-1] = None
                elif word == "fi" and branches:
                    branches.pop()
                keyword = _BRANCH.match(rest)
            match = _TIMEOUT.match(rest)
            if match and False not in branches:
                value = _VARIABLE.sub(lambda m: grubenv.get(m.group(1) or m.group(2), m.group(0)), match.group(2))
                found.append((number, start + len(command) - len(rest), start + len(command), value))
            start += len(command) + 1
    return found


def _above(value, seconds):
    try:
        return bounded_int(value, 0) > seconds
    except ValueError:
        return True  # not a number GRUB reads as intended: replaced too


def set_cfg_timeout(text, seconds, rid, grubenv=None):
    """grub.cfg with every timeout above ``seconds`` that can apply
    (``applicable_timeouts``) lowered: the line kept behind the marker, then the
    same line with ``set timeout=<seconds>`` in place of each such
    assignment."""
    spans_by_line = {}
    for number, start, end, value in applicable_timeouts(text, grubenv or {}):
        if _above(value, seconds):
            spans_by_line.setdefault(number, []).append((start, end, value))
    rows = []
    for number, row in enumerate(lines(text, True), 1):
        line = row.rstrip("\n")
        spans = spans_by_line.get(number)
        if not spans:
            rows.append(row)
            continue
        indent = line[:len(line) - len(line.lstrip())]
        rows.append("%s# %s replaced (%s): %s\n" % (indent, MARKER, rid, line.strip()))
        for start, end, dummy in reversed(spans):
            command = line[start:end]
            lead = command[:len(command) - len(command.lstrip())]
            line = line[:start] + "%sset timeout=%d" % (lead, seconds) + (" " if end < len(line) else "") + line[end:]
        rows.append(line + "\n")
    return "".join(rows)


def timeout_switches(text, grubenv, seconds):
    """The switches grubenv sets (recordfail aside: GRUB_RECORDFAIL_TIMEOUT is
    its remedy) whose branch of ``text`` sets a timeout above ``seconds``:
    regenerating grub.cfg keeps those branches, so the switch is the cause."""
    def too_long(env):
        return set((number, start) for number, start, end, value in applicable_timeouts(text, env)
                   if _above(value, seconds))
    now = too_long(grubenv)
    return [key for key in SWITCHES if key != "recordfail" and grubenv.get(key) and
            too_long(dict((k, v) for k, v in grubenv.items() if k != key)) < now]


def set_grubenv(text, key, value):
    """A grubenv block with ``key`` set (removed when ``value`` is None, as
    ``grub2-editenv - unset`` does), its other variables as GRUB reads them
    (``bootconfig.grubenv_variables``; every line of the name replaced),
    padded with ``#`` to its size (GRUB reads a fixed 1024-byte block)."""
    variables = [(name, old) for name, old in grubenv_variables(text) if name != key or value is not None]
    if value is not None:
        if any(name == key for name, dummy in variables):
            variables = [(name, value if name == key else old) for name, old in variables]
        else:
            variables.append((key, value))
    # a block that is not UTF-8 stays one (its bytes are its Latin-1), padded by its bytes
    kind = NotUtf8 if isinstance(text, NotUtf8) else str
    data = kind(GRUBENV_SIGNATURE + "".join(grubenv_line(name, old) for name, old in variables))
    size, used = max(GRUBENV_SIZE, len(text_bytes(text or ""))), len(text_bytes(data))
    if used > size:
        raise ConfigError("grubenv: %s=%s does not fit in the %d-byte environment block" % (key, value, size))
    return kind(data + "#" * (size - used))
