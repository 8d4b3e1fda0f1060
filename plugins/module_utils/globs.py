# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""fnmatch for patterns an image's files give: the same answers, in time
linear in the pattern (sysctl.d globs, presets, includes, matches)."""

import fnmatch


def _close_brackets(pattern):
    """``pattern`` with each '[' that no ']' closes written as the class
    '[[]': it matches the '[' fnmatch takes literally, and fnmatch.translate
    (CPython 3.11 Lib/fnmatch.py translate()) no longer looks for its ']' to
    the pattern's end, once per '[' -- quadratic: 8,000 of them take seconds,
    a hostile file's 30,000 more than a minute.  Walks as translate does: a
    class that is closed is copied whole (the '[' inside it are not classes)."""
    last = pattern.rfind("]")
    if last < 0 and "[" not in pattern:
        return pattern
    out, index, size = [], 0, len(pattern)
    while index < size:
        char = pattern[index]
        index += 1
        if char != "[":
            out.append(char)
            continue
        end = index
        if end < size and pattern[end] == "!":
            end += 1
        if end < size and pattern[end] == "]":
            end += 1
        if last < end:   # no ']' closes it: a literal '['
            out.append("[[]")
            continue
        close = pattern.index("]", end)
        out.append(pattern[index - 1:close + 1])
        index = close + 1
    return "".join(out)


def translate(pattern):
    """fnmatch.translate(pattern), linear in the pattern."""
    return fnmatch.translate(_close_brackets(pattern))


def fnmatchcase(name, pattern):
    """fnmatch.fnmatchcase(name, pattern), linear in the pattern."""
    return fnmatch.fnmatchcase(name, _close_brackets(pattern))
