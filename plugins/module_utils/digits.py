# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whole numbers written in text the collection does not trust (image trees,
driver tables, boot menus, file names)."""

import re


def ascii_int(text, most=18):
    """``int(text)`` when ``text`` is 1 to ``most`` ASCII digits, else None:
    ``str.isdigit()`` accepts ``'²'``, which ``int()`` refuses, and a number
    thousands of digits long raises or costs (Python's int limit)."""
    if text and len(text) <= most and all("0" <= char <= "9" for char in text):
        return int(text)
    return None


# A number as C's strtoul(text, NULL, 0) reads it: 0x hexadecimal, a leading 0 octal, else decimal.
# Three groups; readers add their own sign and anchors around it.
C_UNSIGNED = r"0[xX]([0-9a-fA-F]+)|(0[0-7]*)|([1-9][0-9]*)"


def c_unsigned(match, first=1, most=18):
    """The number that ``C_UNSIGNED``'s three groups, from group ``first`` of
    ``match``, spell; None when it has more than ``most`` digits (beyond any
    value a reader takes, and an int() that costs or raises)."""
    hexadecimal, octal, decimal = match.group(first, first + 1, first + 2)
    digits, base = (hexadecimal, 16) if hexadecimal is not None else (octal, 8) if octal is not None else (decimal, 10)
    digits = digits.lstrip("0") or "0"
    return int(digits, base) if len(digits) <= most else None


def bounded_int(text, base=10, most=24):
    """``int(text, base)``, raising ValueError (as int() does for what is not
    a number) for text longer than ``most`` characters: beyond any value a
    reader takes, and an int() of it is quadratic in its length before
    Python 3.11 (a minute for 2 MiB of digits) and refused after 4300."""
    if len(text) > most:
        raise ValueError("%r...: more than %d characters, not a number" % (text[:most], most))
    return int(text, base)


KSTRTOUINT = re.compile(r"\+?(?:%s)\n?\Z" % C_UNSIGNED)
UINT_MAX = 2 ** 32 - 1


def kstrtouint(text):
    """The number the kernel's kstrtouint(text, 0, ...) reads (lib/kstrtox.c:
    an optional '+', then ``C_UNSIGNED``, then at most a newline), or None
    when it refuses it: a sign '-', '0o'/'0b', '_', blanks, non-ASCII
    digits, more than fits 32 bits (which a module parameter keeps its
    default for)."""
    match = KSTRTOUINT.match(text or "")
    number = c_unsigned(match) if match else None
    return number if number is not None and number <= UINT_MAX else None
