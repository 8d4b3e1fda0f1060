# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files of ``KEY=value`` lines as systemd reads them (env-file.c
parse_env_file_internal()): a unit's EnvironmentFile= and os-release."""

import re

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")   # env-util.c env_name_is_valid()


def env_file_pairs(text, systemd=None):
    """``[(key, value)]`` in file order: KEY=VALUE lines, a line starting
    with # or ; a comment, single quotes literal, in double quotes a
    backslash escaping ``"\\`$`` and a newline only, outside quotes one
    escaping any character, a backslash-newline going on in the next line,
    blanks around an unquoted value dropped.  Keys are what the file has
    (any text before the "=", trailing blanks dropped): checking them is the
    reader's business.  ``systemd``: its version, None for 254 and later;
    before 254 a backslash ending a comment line escapes the line break too,
    and the comment goes on in the next line."""
    pairs, state, key, value, last_blank = [], "pre_key", [], [], None

    def push():
        pairs.append(("".join(key).rstrip(" \t\r"),
                      "".join(value[:last_blank] if state == "value" and last_blank is not None else value)))

    for char in text:
        if state == "pre_key":
            if char in "#;":
                state = "comment"
            elif char not in " \t\n\r":
                state, key, value = "key", [char], []
        elif state == "key":
            if char in "\n\r":
                state = "pre_key"
            elif char == "=":
                state, last_blank = "pre_value", None
            else:
                key.append(char)
        elif state in ("pre_value", "value"):
            if char in "\n\r":
                push()
                state = "pre_key"
            elif state == "pre_value" and char in "'\"":
                state = "single" if char == "'" else "double"
            elif char == "\\":
                state, last_blank = "value_escape", None
            elif state == "value" or char not in " \t":
                if char in " \t":
                    last_blank = len(value) if last_blank is None else last_blank
                else:
                    last_blank = None
                state = "value"
                value.append(char)
        elif state == "value_escape":
            state = "value"
            if char not in "\n\r":
                value.append(char)
        elif state == "single":
            if char == "'":
                state = "pre_value"
            else:
                value.append(char)
        elif state == "double":
            if char == '"':
                state = "pre_value"
            elif char == "\\":
                state = "double_escape"
            else:
                value.append(char)
        elif state == "double_escape":
            state = "double"
            if char in '"\\`$':
                value.append(char)
            elif char != "\n":
                value.extend(["\\", char])
        elif state == "comment":
            if char == "\\":
                state = "comment_escape"
            elif char in "\n\r":
                state = "pre_key"
        elif state == "comment_escape":
            state = "pre_key" if char in "\n\r" and not (systemd and systemd < 254) else "comment"
    if state not in ("pre_key", "key", "comment", "comment_escape"):
        if state == "value_escape":
            state = "value"
        push()
    return pairs


def load_env_file(data, systemd=None):
    """``(pairs, None)`` of a file's bytes as systemd (``systemd``: its version) loads it (``env_file_pairs``), or
    ``(None, why)`` when it refuses the whole file: a NUL byte (fileio.c read_full_stream():
    EBADMSG), a key or value that is not UTF-8 (check_utf8ness_and_warn(): EINVAL)."""
    if b"\0" in data:
        return None, "it holds a NUL byte"
    pairs = env_file_pairs(data.decode("utf-8", "surrogateescape"), systemd)
    for key, value in pairs:
        if _not_utf8(key) or _not_utf8(value):
            return None, "%s=%s is not UTF-8" % tuple(
                text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")[:80] for text in (key, value))
    return pairs, None


def os_release_values(data, systemd=None):
    """``{KEY: value}`` of an os-release file's bytes as systemd (``systemd``:
    its version) reads it (os-util.c parse_os_release() over
    parse_env_file()): nothing at all from a file ``load_env_file`` refuses;
    a later KEY wins."""
    return dict(load_env_file(data, systemd)[0] or [])


def _not_utf8(text):
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
