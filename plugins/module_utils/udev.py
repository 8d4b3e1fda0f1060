# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""udev rules on a tree (udev(7)): the files udevd reads, a name in an
earlier directory hiding the same name in later ones, and the rules the
GCE-* settings look for."""

import re

from ansible_collections.guestready.gce.plugins.module_utils.configfiles import (
    ascii_lower, commented, dropins, listed_text, size_counter)
from ansible_collections.guestready.gce.plugins.module_utils.globs import STAR, glob_tokens, token_matches
from ansible_collections.guestready.gce.plugins.module_utils.systemd_conf import LINE_END

RULE_DIRS = ("/etc/udev/rules.d", "/run/udev/rules.d", "/usr/local/lib/udev/rules.d",
             "/usr/lib/udev/rules.d", "/lib/udev/rules.d")
MARKER = "guestready.gce"


def rule_files(target):
    """``[(path, name)]`` udevd reads, in its order (masked names left out)."""
    return dropins(target, RULE_DIRS, ".rules")


# read_line(f, UDEV_LINE_SIZE, ...) in udev_rules_parse_file: a line of this many
# bytes or more (line ends not counted) is an error that ends the file
# there; joined continuation lines of this length are one rule left out
LINE_SIZE = 16384


def _rows(text, keepends=False):
    """The lines of ``text`` as udevd's read_line() splits them (systemd_conf.LINE_END;
    ``str.splitlines`` also splits at \\x0b, \\x0c, \\x1c-\\x1e, \\x85,
    U+2028/9, which would cut a rule in two inside a value), up to the first
    one read_line() refuses as too long: udevd reads no further in the file."""
    rows, start, size_of = [], 0, size_counter(text)
    for end in LINE_END.finditer(text or ""):
        if size_of(text[start:end.start()]) >= LINE_SIZE:
            return rows
        rows.append(text[start:end.end() if keepends else end.start()])
        start = end.end()
    if start < len(text or "") and size_of(text[start:]) < LINE_SIZE:
        rows.append(text[start:])
    return rows


def _rules(rows, size_of):
    """``[(line numbers, rule text)]`` of ``rows`` (``_rows``; ``size_of`` counts
    a piece's bytes, configfiles.size_counter()) as udevd joins
    them (systemd src/udev/udev-rules.c, udev_rules_parse_file): a line
    starting with '#' is skipped even inside a continuation, and its trailing
    backslash continues nothing; whether a rule goes on is decided on the
    lines joined so far (an empty line after ``\\\\`` continues it); a rule
    whose joined lines reach LINE_SIZE bytes is read and left out ("Line
    is too long, ignored": its text None); a continuation the file ends in is
    left out with its lines."""
    found, joined, size, numbers, too_long = [], None, 0, [], False
    for number, raw in enumerate(rows, 1):
        line = raw.rstrip("\r\n").lstrip(" \t")
        if line.startswith("#"):
            continue
        if joined is None:
            numbers, size = [], size_of(line)
        elif not too_long:
            size += size_of(line)
            too_long = size >= LINE_SIZE
            joined += line   # bounded: once too long, nothing more is joined
            if not too_long:
                line = joined
        numbers.append(number)
        if line.endswith("\\"):
            if not too_long:
                joined, size = line[:-1], size - 1
            continue
        found.append((numbers, None if too_long else line.strip()))
        joined, too_long = None, False
    return found


def logical_lines(text):
    """``[(first line number, rule text)]``: the rules udevd reads in ``text``
    (``_rules``), continuations joined."""
    return [(numbers[0], rule) for numbers, rule in _rules(_rows(text), size_counter(text)) if rule]


# parse_line: a key ends at whitespace, '=', '{' or an operator; an attribute in
# braces; the operator (parse_operator: "==" before "="); the value's e/i prefix
_TOKEN = re.compile(r'[ \t\n\r,]*((?:[^ \t\n\r={+\-!:]|[+\-!:](?!=))+)(?:\{([^}]*)\})?[ \t\n\r]*'
                    r'(==|!=|\+=|-=|=|:=)[ \t\n\r]*(ei|ie|e|i|)"')
# udev_rule_parse_value: a plain value ends at a '"' not after a backslash; an
# e"..." one skips past every escaped character
_PLAIN = re.compile(r'((?:[^"\\]|\\"|\\(?!"))*)"')
_ESCAPED = re.compile(r'((?:[^"\\]|\\.)*)"', re.S)
_REST = re.compile(r'[ \t\n\r,]*$')
ASSIGN = ("=", "+=", ":=")


def tokens(rule):
    """``[(key, attribute, operator, value)]`` of a rule as udevd parses it
    (systemd src/udev/udev-rules.c, parse_line, udev_rule_parse_value), or
    None for a line it ignores as invalid ("Invalid key/value pair").  An
    e"..." value keeps its escapes: the checks look for words in it.  An
    i"..." match is given in ASCII lower case: udevd matches it ignoring case
    (fnmatch FNM_CASEFOLD), and what the checks match it against (addresses,
    names, subsystems) is lower case."""
    found, index = [], 0
    while not _REST.match(rule, index):
        match = _TOKEN.match(rule, index)
        escaped = bool(match) and "e" in match.group(4)
        value = match and (_ESCAPED if escaped else _PLAIN).match(rule, match.end())
        if not value:
            return None
        text = value.group(1) if escaped else value.group(1).replace('\\"', '"')
        if "i" in match.group(4) and match.group(3) in ("==", "!="):
            text = ascii_lower(text)
        found.append((match.group(1), match.group(2), match.group(3), text))
        index = value.end()
    return found


# the name udev's net_id builtin derives from a NIC's MAC address, ID_NET_NAME_MAC
# (systemd src/udev/udev-builtin-net_id.c names_mac(): the interface type's prefix, get_ifname_prefix(),
# "x" and the 6 bytes in hex without colons, enx42010a800002; none for InfiniBand)
MAC_NAME_PREFIXES = ("enx", "slx", "wlx", "wwx")
# the kernel prints an address in lower case hex (sysfs address: "%pM"; names_mac(): "%02x")
_HEX = "0123456789abcdef"
# what a MAC address (sysfs) and the hex part of ID_NET_NAME_MAC are, one set of characters a position
ADDRESS = (_HEX, _HEX, ":") * 5 + (_HEX, _HEX)
NAME_HEX = (_HEX,) * 12
# sets of glob positions a match may be in after a character: beyond these the glob is taken as bound
_STATES_LIMIT = 512


def _closure(tokens, states):
    """``states`` with the positions after every star they are at (a star may match nothing)."""
    found = set(states)
    for state in sorted(states):
        while state < len(tokens) and tokens[state] is STAR:
            state += 1
            found.add(state)
    return frozenset(found)


def _every(pattern, strings):
    """Whether the fnmatch(3) glob ``pattern`` matches every string of the language ``strings``
    (one string of the characters a position may hold, for each position): the glob run as an
    automaton over all of them at once, a set of glob positions for each string read so far.
    A glob with more characters than a string has matches none; a glob whose sets grow past
    ``_STATES_LIMIT`` is taken as not matching every string, to be safe."""
    tokens = glob_tokens(pattern)
    if sum(token is not STAR for token in tokens) > len(strings):
        return False
    frontier = {_closure(tokens, (0,))}
    for chars in strings:
        following = set()
        for states in frontier:
            for char in chars:
                moved = _closure(tokens, set(s if tokens[s] is STAR else s + 1 for s in states
                                             if s < len(tokens) and (tokens[s] is STAR or token_matches(tokens[s], char))))
                if not moved:
                    return False
                following.add(moved)
        if len(following) > _STATES_LIMIT:
            return False
        frontier = following
    return all(len(tokens) in states for states in frontier)


def _binds(value, languages):
    """Whether a match on ``value`` holds for some MAC addresses only.  udev splits the
    value at '|' into fnmatch(3) globs (udev-rules.c token_match_string()): a value one of
    whose globs matches every address of one of ``languages`` ("?*", "*", "*:*:*:*:*:*",
    "enx*") names none, so such a rule names each NIC, not one; "" matches an empty value
    only.  Any other glob is bound: "42:01:0a:*" names the addresses of one vendor or network
    only, and a new VM's NIC need not have one of them."""
    alternatives = value.split("|")
    return any(alternatives) and not any(_every(a, language) for a in alternatives for language in languages)


def _mac_match(key, attribute, operator, value):
    """Whether a token matches a NIC on its MAC address: ATTR{address}== or ATTRS{address}==
    (sysfs: "42:01:0a:80:00:02"), or ENV{ID_NET_NAME_MAC}== (the name derived from it:
    "enx42010a800002"), for some addresses only."""
    if operator != "==":
        return False
    if key in ("ATTR", "ATTRS") and attribute == "address":
        return _binds(value, (ADDRESS,))
    if key == "ENV" and attribute == "ID_NET_NAME_MAC":
        return _binds(value, [tuple(prefix) + NAME_HEX for prefix in MAC_NAME_PREFIXES])
    return False


def persistent_net_rules(target):
    """``[(path, line, rule)]``: rules naming a network interface after its
    MAC address (what 70-persistent-net.rules holds).  NAME= assigns (so do
    := and +=, which udev takes as =); NAME== and NAME!= only match a name,
    NAME="" and NAME="%k" are ignored (systemd/systemd src/udev/udev-rules.c,
    parse_token "NAME").  Only a network interface takes a NAME=, so a rule
    needs no SUBSYSTEM=="net" (a GOTO may stand for it).  The MAC address is
    matched as sysfs has it or through ID_NET_NAME_MAC (``_mac_match``)."""
    found = []
    for path, dummy in rule_files(target):
        for number, rule in logical_lines(listed_text(target, path)):
            parsed = tokens(rule) or []
            if any(k == "NAME" and op in ASSIGN and v not in ("", "%k") for k, a, op, v in parsed) \
                    and any(_mac_match(*token) for token in parsed):
                found.append((path, number, rule))
    return found


def _makes_disk_links(target, path):
    # SYMLINK+= (=, :=) adds a link; SYMLINK== only matches one, -= removes it (parse_token "SYMLINK")
    return any(k == "SYMLINK" and op in ASSIGN and "disk/by-id/google-" in v
               for number, rule in logical_lines(listed_text(target, path)) for k, a, op, v in tokens(rule) or [])


def disk_naming_rules(target):
    """The rules files that make /dev/disk/by-id/google-* links (in a rule,
    not a comment: a commented-out copy in /etc hides the packaged file)."""
    return [path for path, dummy in rule_files(target) if _makes_disk_links(target, path)]


def hidden_disk_naming_rules(target, path):
    """The files of ``path``'s name in the directories udevd reads after its
    own, which it hides (udev(7)), that make disk/by-id/google-* links."""
    directory, name = path.rsplit("/", 1)
    later = RULE_DIRS[RULE_DIRS.index(directory) + 1:] if directory in RULE_DIRS else ()
    return [d + "/" + name for d in later if target.isfile(d + "/" + name) and _makes_disk_links(target, d + "/" + name)]


def comment_out(text, numbers, rid):
    """``text`` with the (logical) rules starting at ``numbers`` commented out
    behind the marker, continuation lines included (comment lines inside
    them stay as they are: udevd reads on past them)."""
    rows = _rows(text, True)
    starts = set(numbers)
    lines = set(n for rule in _rules(rows, size_counter(text)) if rule[0][0] in starts for n in rule[0])
    out = [commented(row, "# %s neutralised (%s)" % (MARKER, rid), LINE_SIZE) if index in lines else row
           for index, row in enumerate(rows, 1)]
    # what udevd does not read (from a line too long for it on) stays as it is
    return "".join(out) + text[sum(map(len, rows)):]
