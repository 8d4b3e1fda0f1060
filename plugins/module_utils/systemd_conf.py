# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""systemd's configuration files (.network and .link files, timesyncd.conf,
unit files, their drop-ins) as its conf-parser.c config_parse() reads them
(systemd v257 src/shared/conf-parser.c, read_line_full() of
src/basic/fileio.c).  One reader for every such file, so that a line ending,
a continued line or a broken section header means the same everywhere."""

import re

from ansible_collections.guestready.gce.plugins.module_utils.configfiles import NotUtf8, size_counter

# read_line_full(): \n, \r, \r\n and \n\r each end one line (a second marker of a
# kind already seen starts the next); NUL too, but configfiles.read() refuses a file holding one
LINE_END = re.compile(r"\r\n|\n\r|\n|\r")
# LONG_LINE_MAX (src/basic/fileio.h): config_parse() fails a file on a line this long, or on
# continued lines longer than it together
LONG_LINE_MAX = 1024 * 1024
# WHITESPACE (src/basic/string-util.h), what strstrip() and skip_leading_chars() take off
WHITESPACE = " \t\n\r"
BOM = u"\ufeff"


def lines(text, keepends=False):
    """The lines of ``text`` as read_line_full() splits them (``LINE_END``)."""
    return list(_rows(text or "", keepends))


def _rows(text, keepends=False):
    # one at a time: a hostile file of millions of lines is not held twice
    start = 0
    for end in LINE_END.finditer(text):
        yield text[start:end.end() if keepends else end.start()]
        start = end.end()
    if start < len(text):
        yield text[start:]


_PLAIN = re.compile(r"[^ \t\n\r]+")


def words(value, unquote=False, retain_escape=False):
    """``(words, rest)`` of a list setting as extract_first_word() splits it
    (src/basic/extract-word.c, separators WHITESPACE): a backslash takes the
    next character as it is unless ``retain_escape`` (EXTRACT_RETAIN_ESCAPE:
    then it is an ordinary character); with ``unquote`` (EXTRACT_UNQUOTE)
    single or double quotes anywhere in a word group blanks and are dropped.
    ``rest`` is None, or the text from the word that is an error (an
    unterminated quote, a backslash that ends the value): the callers keep
    the words before it and ignore the rest ("Invalid syntax, ignoring")."""
    if "\\" not in value and not (unquote and ("'" in value or '"' in value)):
        return _PLAIN.findall(value), None
    found, index, size = [], 0, len(value)
    while True:
        while index < size and value[index] in WHITESPACE:
            index += 1
        if index >= size:
            return found, None
        start, word, quote = index, [], None
        while index < size:
            char = value[index]
            if char == "\\" and not retain_escape:
                if index + 1 >= size:
                    return found, value[start:]
                index += 1
                word.append(value[index])
            elif quote:
                if char == quote:
                    quote = None
                else:
                    word.append(char)
            elif unquote and char in "'\"":
                quote = char
            elif char in WHITESPACE:
                break
            else:
                word.append(char)
            index += 1
        if quote:
            return found, value[start:]
        found.append("".join(word))


def _unsafe(name):
    """string_is_safe() refuses it: a control character, a quote, a backslash or DEL."""
    return any(ord(char) < 32 or char in "\"'\\\x7f" for char in name)


def parse(text):
    """``(settings, stop)`` of one file: ``settings`` is ``[(section, key, value,
    first line, last line)]`` in file order (section None before the first
    header); ``stop`` is None, or ``(line, why)`` where config_parse() fails the
    file (an invalid section header, a line too long).  What came before ``stop``
    was read: a daemon keeps it and reads no further file; networkd and udev
    drop the whole .network or .link file (network_load_one(), link_load_one():
    "Failed to load %s, ignoring").

    A line whose first non-blank character is # or ; is a comment, even inside
    a continuation, and continues nothing; a line ending in an odd number of
    backslashes goes on in the next (that backslash a space); a line without
    '=' or without a key is ignored; the first BOM that starts a line is
    dropped.  A line that is not UTF-8 (in a ``configfiles.NotUtf8`` text,
    where a character is a byte) fails the file there too; a comment is not
    checked."""
    settings, section, pending, size, first, bom_seen = [], None, None, 0, 0, False
    number = 0
    not_utf8 = isinstance(text, NotUtf8)
    bom, size_of = BOM.encode("utf-8").decode("latin-1") if not_utf8 else BOM, size_counter(text)
    for number, row in enumerate(_rows(text or ""), 1):
        row_size = size_of(row)
        if row_size >= LONG_LINE_MAX:
            return settings, (number, "a line of %d bytes or more" % LONG_LINE_MAX)
        if row.lstrip(WHITESPACE).startswith(("#", ";")):
            continue
        if not bom_seen and row.startswith(bom):
            row, bom_seen, row_size = row[len(bom):], True, row_size - 3
        if pending is not None:
            if size + row_size > LONG_LINE_MAX:
                return settings, (number, "continued lines longer than %d bytes" % LONG_LINE_MAX)
            size += row_size
        # the backslashes ending the lines joined so far: the earlier ones end in a space
        if row.endswith("\\") and (len(row) - len(row.rstrip("\\"))) % 2:
            if pending is None:
                pending, size, first = [], row_size, number
            pending.append(row[:-1] + " ")
            continue
        if pending is not None:
            pending.append(row)
            row, pending = "".join(pending), None
        else:
            first = number
        section, stop = _parse_line(row, first, number, settings, section, not_utf8)
        if stop:
            return settings, stop
    if pending is not None:
        # the file ends in a continuation: config_parse() parses what was joined
        section, stop = _parse_line("".join(pending), first, number, settings, section, not_utf8)
        return settings, stop
    return settings, None


def _utf8(line):
    try:
        line.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return False
    return True


def _parse_line(line, first, last, settings, section, not_utf8=False):
    """parse_line(): ``(section, None)``, the section that follows (an
    assignment appended to ``settings``), or ``(section, (line, why))`` when
    the file fails here (``not_utf8``: the line's characters are its bytes)."""
    line = line.strip(WHITESPACE)
    if not line:
        return section, None
    if not_utf8 and not _utf8(line):
        # log_syntax_invalid_utf8() returns -EINVAL, and config_parse() stops with it
        return section, (first, "a line that is not valid UTF-8")
    if line.startswith("["):
        if not line.endswith("]"):
            return section, (first, "invalid section header %r" % line)
        if _unsafe(line[1:-1]):
            return section, (first, "bad characters in section header %r" % line)
        return line[1:-1], None
    key, equals, value = line.partition("=")
    if equals and key:
        settings.append((section, key.strip(WHITESPACE), value.strip(WHITESPACE), first, last))
    return section, None
