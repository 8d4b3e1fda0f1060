# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""fnmatch(3) as glibc matches, for the patterns an image's files give to
programs that call it or glob(3): kmod's alias tables, systemd-sysctl's and
procps' sysctl.d globs, systemd's presets (FNM_NOESCAPE) and networkd's
Name=, the includes of sshd and chrony.  Not Python's fnmatch, which reads
a backslash as itself, ``[^a]`` as a set holding ``^`` and knows no POSIX
class (``[[:alpha:]]``).  Time linear in the pattern per character
matched: no regular expression to backtrack."""

import re


# A pattern is a list of tokens, each matching one character, and STAR.
# Matching keeps only the last star's position to retry from (the classic
# wildcard algorithm): at most len(pattern) x len(text) steps, where a
# regular expression's backtracking took seconds on a hostile table line
# such as ``alias pci:v*0*0*0...*Z``.
STAR = object()  # not a character (an escaped \* is the character *)
_TOKENS = {}
_TOKENS_KEPT = 4096
# the POSIX classes of a set (``[[:xdigit:]]``) as the C locale has them:
# modaliases are ASCII
_CLASSES = {
    "alnum": [("0", "9"), ("A", "Z"), ("a", "z")], "alpha": [("A", "Z"), ("a", "z")],
    "blank": [(" ", " "), ("\t", "\t")], "cntrl": [("\0", "\x1f"), ("\x7f", "\x7f")],
    "digit": [("0", "9")], "graph": [("!", "~")], "lower": [("a", "z")], "print": [(" ", "~")],
    "punct": [("!", "/"), (":", "@"), ("[", "`"), ("{", "~")], "space": [("\t", "\r"), (" ", " ")],
    "upper": [("A", "Z")], "xdigit": [("0", "9"), ("A", "F"), ("a", "f")]}


_CLASS_NAME = re.compile(r"[a-z]*\Z")


class _Scans(object):
    """What the bracket scans of one pattern learnt: ``dead``, the indices a
    scan passed (after its first member) without finding the end; and the
    last search for a class's ``:]``.  A scan reaching a dead index will not
    find the end either, so thousands of unclosed ``[`` (or ``[:``) cost one
    pass of the pattern, not one each."""

    def __init__(self, pattern):
        self.pattern, self.dead = pattern, set()
        self._searched = (None, -1)   # (from, found): no ":]" starts in [from, found)

    def class_end(self, index):
        start, found = self._searched
        if start is None or index < start or (found != -1 and index > found):
            self._searched = (index, self.pattern.find(":]", index))
        return self._searched[1]


def _bracket(pattern, start, scans=None, noescape=False):
    """The bracket expression opening at ``pattern[start]`` as ``((negate,
    [(low, high)...]), next index)``, or ``None`` when it is not closed (then
    ``[`` is an ordinary character, as in glibc).  A range whose ends are
    reversed holds nothing.  ``scans``: a ``_Scans`` of the pattern, shared by
    its scans; ``noescape``: FNM_NOESCAPE, a backslash an ordinary character."""
    index = start + 1
    negate = False
    if index < len(pattern) and pattern[index] in "!^":
        negate = True
        index += 1
    ranges = []
    first = True
    passed = []
    while index < len(pattern):
        if not first:
            if scans is not None and index in scans.dead:
                break
            passed.append(index)
        char = pattern[index]
        if char == "]" and not first:
            return (negate, ranges), index + 1
        first = False
        if char == "[" and pattern.startswith(":", index + 1):
            end = scans.class_end(index + 2) if scans is not None else pattern.find(":]", index + 2)
            # a name with other than a-z is no class: its "[" is a member
            # (glibc's fnmatch_loop.c, "cannot possibly be a character class name")
            if end != -1 and _CLASS_NAME.match(pattern, index + 2, end):
                name = pattern[index + 2:end]
                if name not in _CLASSES:
                    # glibc's fnmatch fails on an unknown class: nothing matches
                    return (False, []), len(pattern)
                ranges.extend(_CLASSES[name])
                index = end + 2
                continue
        if char == "\\" and index + 1 < len(pattern) and not noescape:
            index += 1
            char = pattern[index]
        if (index + 2 < len(pattern) and pattern[index + 1] == "-"
                and pattern[index + 2] != "]"):
            # the end of a range may be escaped too (glibc's fnmatch_loop.c:
            # a backslash before it keeps "\]" from closing the set)
            escaped = pattern[index + 2] == "\\" and index + 3 < len(pattern) and not noescape
            ranges.append((char, pattern[index + 2 + escaped]))
            index += 3 + escaped
            continue
        ranges.append((char, char))
        index += 1
    if scans is not None:
        scans.dead.update(passed)
    return None


def glob_tokens(pattern, noescape=False):
    """``pattern`` as tokens: a character, ``(negate, ranges)`` for a set or
    ``?`` (``(True, [])``: any character), and ``STAR``; ``noescape``:
    FNM_NOESCAPE (a backslash is an ordinary character)."""
    tokens = _TOKENS.get((pattern, noescape))
    if tokens is not None:
        return tokens
    tokens = []
    index = 0
    scans = _Scans(pattern)
    while index < len(pattern):
        char = pattern[index]
        bracket = _bracket(pattern, index, scans, noescape) if char == "[" else None
        if char == "*":
            if not tokens or tokens[-1] is not STAR:
                tokens.append(STAR)
        elif char == "?":
            tokens.append((True, []))
        elif bracket is not None:
            token, index = bracket
            tokens.append(token)
            continue
        elif char == "\\" and index + 1 < len(pattern) and not noescape:
            index += 1
            tokens.append(pattern[index])
        elif char == "\\" and not noescape:
            # glibc's fnmatch_loop.c: "Trailing \ loses": a set of nothing
            tokens.append((False, []))
        else:
            tokens.append(char)
        index += 1
    if len(_TOKENS) >= _TOKENS_KEPT:   # a hostile file's thousands of patterns
        _TOKENS.clear()
    _TOKENS[(pattern, noescape)] = tokens
    return tokens


def token_matches(token, char):
    """Whether the glob token ``token`` (a character or a set) matches ``char``."""
    if isinstance(token, tuple):
        negate, ranges = token
        return any(low <= char <= high for low, high in ranges) is not negate
    return token == char


def fnmatch(pattern, text, noescape=False):
    """fnmatch(``pattern``, ``text``, 0) of glibc (FNM_NOESCAPE with
    ``noescape``): ``*`` and ``?`` match any character (``/`` and a leading
    ``.`` included)."""
    return _matches(glob_tokens(pattern, noescape), text)


_ANY = (True, [])


def simple_match(name, pattern):
    """Whether ``name`` matches a pattern of ``*`` (any string) and ``?``
    (any character) only, every other character itself: GLib's
    g_pattern_match_simple() (NetworkManager's ``interface-name:`` specs)
    and OpenSSH's match_pattern() (``Match User``)."""
    return _matches([STAR if char == "*" else _ANY if char == "?" else char for char in pattern], name)


def _matches(tokens, text):
    """Whether ``text`` matches the pattern ``tokens`` (``glob_tokens``)."""
    at = step = 0
    star = retry = None
    while at < len(text):
        if step < len(tokens) and tokens[step] is STAR:
            star, retry = step, at
            step += 1
        elif step < len(tokens) and token_matches(tokens[step], text[at]):
            step += 1
            at += 1
        elif star is not None:
            retry += 1   # the last star takes one more character
            step, at = star + 1, retry
        else:
            return False
    while step < len(tokens) and tokens[step] is STAR:
        step += 1
    return step == len(tokens)


def fnmatchcase(name, pattern, noescape=False):
    """Whether ``name`` matches ``pattern``: glibc's fnmatch(pattern, name, 0),
    FNM_NOESCAPE with ``noescape``."""
    return fnmatch(pattern, name, noescape)
