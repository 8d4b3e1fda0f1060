# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The OpenSSH server's configuration: a parser for trees (image roots),
and ``sshd -T`` -- the authority -- on a live system.

sshd_config(5) rules the parser follows: keywords are case-insensitive;
for most keywords the first value obtained wins; ``Include`` takes globs
(relative paths are relative to /etc/ssh) and is expanded in place, also
inside a ``Match`` block, whose lines then belong to that block; a ``Match``
block lasts until the next ``Match`` or the end of the file that holds it
(servconf.c restores the includer's Match state after an Include); in a
file included in a Match block with criteria, a ``Match`` adds its criteria
to the block's (servconf.c reads the file with SSHCFG_NEVERMATCH unless the
block matches), and ``Match all`` there is the block itself.  For a
connection, the values of matching ``Match`` blocks (first one wins) replace
the global ones, for the keywords a Match block may set (``MATCH_KEYWORDS``).
``Match all`` matches every connection, and its lines are also read with the
global ones when sshd starts (match_cfg_line() answers 1 for "all" even with
no connection), so the start-up value is the first of them, but a
connection gets the block's value, and so does ``sshd -T`` (without ``-C``
it applies the Match blocks for a connection that matches no criteria)."""

import functools
import posixpath
import re

from ansible_collections.guestready.gce.plugins.module_utils.configfiles import (
    MAX_GLOB_PATHS, ConfigError, check_included, glob, lines, read)
from ansible_collections.guestready.gce.plugins.module_utils.digits import ascii_int
from ansible_collections.guestready.gce.plugins.module_utils.globs import fnmatchcase

MAIN = "/etc/ssh/sshd_config"
# SUSE's vendor configuration (openSUSE Tumbleweed and Leap 16, SLE 16: openssh's
# %{_distconfdir}/ssh/sshd_config): sshd reads it when /etc/ssh/sshd_config is absent
VENDOR_MAIN = "/usr/etc/ssh/sshd_config"
MAX_DEPTH = 16
# sshd's built-in defaults (OpenSSH 7.0 and newer) for the keys the GCE-* checks read
DEFAULTS = {"passwordauthentication": "yes", "permitrootlogin": "prohibit-password",
            "clientaliveinterval": "0", "pubkeyauthentication": "yes",
            "kbdinteractiveauthentication": "yes", "usepam": "no",
            "authorizedkeysfile": ".ssh/authorized_keys .ssh/authorized_keys2"}
# The keywords a Match block may set (sshd_config(5), "Match"; servconf.c SSHCFG_MATCH): only
# their values are copied for a connection (copy_set_server_options()); another keyword in a
# Match block is read at start-up in a "Match all" block (first value wins, as a global line)
# and makes sshd refuse to start in a block with criteria
MATCH_KEYWORDS = frozenset(
    "acceptenv allowagentforwarding allowgroups allowstreamlocalforwarding allowtcpforwarding allowusers "
    "authenticationmethods authorizedkeyscommand authorizedkeyscommanduser authorizedkeysfile "
    "authorizedprincipalscommand authorizedprincipalscommanduser authorizedprincipalsfile banner "
    "casignaturealgorithms channeltimeout chrootdirectory clientalivecountmax clientaliveinterval denygroups "
    "denyusers disableforwarding exposeauthinfo forcecommand gatewayports gssapiauthentication "
    "hostbasedacceptedalgorithms hostbasedauthentication hostbasedusesnamefrompacketonly ignorerhosts include "
    "ipqos kbdinteractiveauthentication kerberosauthentication loglevel maxauthtries maxsessions "
    "passwordauthentication permitemptypasswords permitlisten permitopen permitrootlogin permittty "
    "permittunnel permituserrc pubkeyacceptedalgorithms pubkeyauthentication pubkeyauthoptions rekeylimit "
    "revokedkeys setenv streamlocalbindmask streamlocalbindunlink trustedusercakeys unusedconnectiontimeout "
    "x11displayoffset x11forwarding x11uselocalhost".split())
# servconf.c keywords[] since OpenSSH 8.7: ChallengeResponseAuthentication and SKeyAuthentication
# are KbdInteractiveAuthentication (before, SKeyAuthentication was ignored: sDeprecated)
ALIASES = {"challengeresponseauthentication": "kbdinteractiveauthentication",
           "skeyauthentication": "kbdinteractiveauthentication",
           "without-password": "prohibit-password"}


class Directive(object):
    def __init__(self, key, args, path, line, where, match=None, keyword=None):
        self.key, self.args, self.path, self.line, self.where, self.match = key, args, path, line, where, match
        self.keyword = keyword or key   # as written (lower-case), before ALIASES

    @property
    def every(self):
        """In a ``Match all`` block: it applies to every connection."""
        return self.match is not None and self.match[0].lower() == "all"

    @property
    def value(self):
        value = " ".join(self.args)
        return ALIASES.get(value.lower(), value) if self.key in (
            "permitrootlogin", "passwordauthentication") else value


# servconf.c splits the keyword off with misc.c strdelim(): it ends at WHITESPACE
# (" \t\r\n") or at one '=', which may have blanks on either side ("Key = value")
KEYWORD_END = re.compile(r"[ \t\r\n]*(?:=[ \t\r\n]*)?")
# what sshd takes off a line: load_server_config() the leading " \t\r", then
# process_server_config_line_depth() the trailing WHITESPACE and \f (a \v or a
# leading \f stays, and makes a keyword sshd refuses)
LEADING_BLANKS, TRAILING_BLANKS = " \t\r", " \t\r\n\f"
# misc.c convtime(): a whole number of seconds, or numbers each with a unit
TIME_PART = re.compile(r"([0-9]+)([sSmMhHdDwW]?)")
TIME_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
INT_MAX = 2 ** 31 - 1


def _words(line):
    """``_split(line)`` as a list (see there)."""
    return list(_split(line))


# an Include that reaches its own file is read again at each level until sshd's limit
# (MAX_DEPTH), and each plan reads the configuration again: a line is split once
@functools.lru_cache(maxsize=256)
def _split(line):
    """sshd's splitting: the keyword (see KEYWORD_END), then misc.c
    argv_split() for the arguments: blanks separate, double or single quotes
    group, a backslash escapes a quote, a backslash or (unquoted) a blank,
    and a word starting with '#' ends the line (servconf.c passes
    terminate_on_comment since OpenSSH 8.7; before, sshd refused such a line)."""
    keyword = re.match(r'[^ \t\r\n="]*', line).group(0)
    if not keyword:
        return tuple(_arguments(line))
    return tuple([keyword] + _arguments(KEYWORD_END.sub("", line[len(keyword):], 1)))


def _arguments(text):
    words, current, quote, started, index = [], "", None, False, 0
    while index < len(text):
        char = text[index]
        if char == "\\" and text[index + 1:index + 2] in ("'", '"', "\\") + ((" ",) if quote is None else ()):
            index += 1
            current += text[index]
            started = True
        elif char in " \t" and quote is None:
            if started:
                words.append(current)
            current, started = "", False
        elif char == "#" and quote is None and not started:
            break
        elif char in "'\"" and quote is None:
            quote, started = char, True
        elif char == quote:
            quote = None
        else:
            current += char
            started = True
        index += 1
    if started:
        words.append(current)
    return words


def seconds(text):
    """A time value as sshd reads it (misc.c convtime(): ``420``, ``7m``,
    ``1h30m``; units s, m, h, d, w in either case) -> seconds, or None where
    convtime refuses it (no number, another unit, a sign, a fraction, more
    than INT_MAX seconds)."""
    text = str(text)
    total, position = 0, 0
    while text and position < len(text):
        part = TIME_PART.match(text, position)
        number = ascii_int(part.group(1)) if part else None
        if number is None:
            return None
        total += number * TIME_UNITS[part.group(2).lower()]
        if total > INT_MAX:
            return None
        position = part.end()
    return total if text else None


def password_logins(values):
    """The keywords through which the configuration ``values`` (``sshd -T``
    keys, or the parser's) lets a password in: PasswordAuthentication, and
    keyboard-interactive, which asks for the password through PAM.  Without
    UsePAM keyboard-interactive has no device for passwords on Linux
    (auth2-chall.c drops "pam"); before OpenSSH 8.7 it answered only when
    ChallengeResponseAuthentication was on too (auth2-kbdint.c; sshd -T
    prints both keywords there, KbdInteractiveAuthentication forced on by
    ChallengeResponseAuthentication)."""
    def on(key):
        return str(values.get(key, DEFAULTS.get(key)) or "").lower() == "yes"
    found = []
    if on("passwordauthentication"):
        found.append("passwordauthentication")
    if on("kbdinteractiveauthentication") and on("usepam") and \
            str(values.get("challengeresponseauthentication", "yes")).lower() == "yes":
        found.append("kbdinteractiveauthentication")
    return found


class SshdConfig(object):
    """Every directive in file order with Includes expanded; ``files`` read."""

    def __init__(self, target, main=None, replace=None):
        self.target = target
        self.replace = replace or {}
        if main is None:
            main = VENDOR_MAIN if self._text(MAIN) is None and self._text(VENDOR_MAIN) is not None else MAIN
        self.main = main
        self.files, self.directives = [], []
        self.globbed = [MAX_GLOB_PATHS]   # what the Include patterns may still reach
        self.found = self._text(main) is not None
        if self.found:
            self._walk(main, 0, [None])

    def _text(self, path):
        return self.replace[path] if path in self.replace else read(self.target, path)

    def _walk(self, path, depth, match, within=None):
        if depth > MAX_DEPTH:
            raise ConfigError("%s: Include nests deeper than %d levels" % (self.target.display(path), MAX_DEPTH))
        check_included(self.target, path, len(self.files), "Include reads")
        text = self._text(path)
        if text is None:
            return
        self.files.append(path)
        for number, raw in enumerate(lines(text), 1):
            line = raw.lstrip(LEADING_BLANKS).rstrip(TRAILING_BLANKS)
            if not line or line.startswith("#"):
                continue
            words = _words(line)
            if not words:
                continue
            keyword = words[0].lower()
            key = ALIASES.get(keyword, keyword)
            where = "%s:%d" % (self.target.display(path), number)
            if key == "match":
                criteria = " ".join(words[1:])
                if within is not None:
                    # a file included in a Match block with criteria: servconf.c reads it with
                    # SSHCFG_NEVERMATCH unless that block matches, so its Match lines add their
                    # criteria to the block's ("Match all" there is that block, never every connection)
                    criteria = within if criteria.lower() == "all" else "%s %s" % (within, criteria)
                match[0] = criteria
                match.append(where)
                continue
            if key == "include":
                for pattern in words[1:]:
                    if not pattern.startswith("/"):
                        pattern = posixpath.join("/etc/ssh", pattern)
                    matched = glob(self.target, pattern, self.globbed)
                    matched += sorted(p for p in self.replace if self.replace[p] is not None and
                                      p not in matched and _glob_matches(pattern, p))
                    for included in sorted(set(matched)):
                        self._walk(included, depth + 1, list(match),
                                   None if match[0] is None or match[0].lower() == "all" else match[0])
                continue
            self.directives.append(Directive(key, words[1:], path, number, where,
                                             None if match[0] is None else (match[0], match[-1]), keyword))

    def global_value(self, key):
        """``(value, directive or None)``: the first value read when sshd
        starts (global lines and ``Match all`` ones), else the default."""
        for directive in self.directives:
            if directive.key == key and (directive.match is None or directive.every):
                return directive.value, directive
        return DEFAULTS.get(key), None

    def connection_value(self, key):
        """``(value, directive or None)`` for a connection no earlier Match
        block matches: the first ``Match all`` value (the Match pass applies it
        over the global one), else ``global_value``.  A keyword no Match block
        may set (``MATCH_KEYWORDS``) keeps its start-up value."""
        if key not in MATCH_KEYWORDS:
            return self.global_value(key)
        for directive in self.directives:
            if directive.key == key and directive.every:
                return directive.value, directive
        return self.global_value(key)

    def global_value_before_8_7(self, key):
        """``global_value`` of KbdInteractiveAuthentication or
        ChallengeResponseAuthentication as OpenSSH before 8.7 reads them: two
        keywords, not aliases; ChallengeResponseAuthentication (default yes)
        forces KbdInteractiveAuthentication (default no) on (sshd.c)."""
        def first(keyword, default):
            for directive in self.directives:
                if directive.keyword == keyword and (directive.match is None or directive.every):
                    return directive.value, directive
            return default, None
        challenge = first("challengeresponseauthentication", "yes")
        if key == "challengeresponseauthentication" or challenge[0].lower() == "yes":
            return challenge
        return first("kbdinteractiveauthentication", "no")

    def match_values(self, key):
        """Directives inside Match blocks with criteria that set ``key`` and
        can win for some connection: those before the first ``Match all``
        line setting it (its value is obtained first for every connection).
        None of a keyword no Match block may set (``MATCH_KEYWORDS``)."""
        found = []
        for directive in self.directives if key in MATCH_KEYWORDS else ():
            if directive.key != key or directive.match is None:
                continue
            if directive.every:
                break
            found.append(directive)
        return found

    def reads_first(self, path, text):
        """True when sshd would read the file ``path`` holding ``text`` (some
        settings) before every other setting: the main file's Includes reach
        it, globally, before any line that sets anything -- in the main file,
        or in an included file that sorts before it (glob(3) order).  The
        first value wins (servconf.c: ``if (*activep && *intptr == -1)``)."""
        view = SshdConfig(self.target, self.main, dict(self.replace, **{path: text}))
        return bool(view.directives) and view.directives[0].path == path and view.directives[0].match is None


def _glob_matches(pattern, path):
    """Whether ``path`` (a file a plan writes) is one the absolute glob
    ``pattern`` reaches, each component matched as configfiles.glob matches
    it (glob(3)); a regular expression of the whole pattern took exponential
    time on a hostile one (thousands of '*')."""
    parts = [part for part in pattern.split("/") if part]
    names = [name for name in path.split("/") if name]
    return len(parts) == len(names) and all(
        fnmatchcase(name, part) and (not name.startswith(".") or part.startswith("."))
        for part, name in zip(parts, names))


def before_8_7(version):
    """True for an OpenSSH package version older than 8.7 (``1:8.4p1-5``,
    ``8.0p1-19.el8_8``); False when newer or not read."""
    match = re.match(r"(?:[0-9]+:)?([0-9]{1,9})\.([0-9]{1,9})", version or "")
    return bool(match) and (int(match.group(1)), int(match.group(2))) < (8, 7)


def parse_dump(text):
    """``sshd -T`` output -> ``{key: value}`` (first word lower-case)."""
    values = {}
    for line in (text or "").splitlines():
        words = line.split(None, 1)
        if words:
            key = words[0].lower()
            values.setdefault(key, words[1].strip() if len(words) > 1 else "")
    return values


def sshd_binary(module):
    return module.get_bin_path("sshd", opt_dirs=["/usr/sbin", "/sbin"]) if module else None


def dump(module, config=None, connection=None):
    """``(values, error)`` from ``sshd -T`` (``-f config``; ``-C`` for a
    connection: ``{"user", "host", "addr"}``)."""
    binary = sshd_binary(module)
    if not binary:
        return None, "no sshd binary"
    command = [binary, "-T"]
    if config:
        command += ["-f", config]
    if connection:
        spec = ",".join("%s=%s" % (k, v) for k, v in sorted(connection.items()) if v)
        command += ["-C", spec]
    rc, out, err = module.run_command(command)
    if rc != 0:
        return None, (err or out).strip() or "sshd -T exited %d" % rc
    return parse_dump(out), None


def test(module, config):
    """``sshd -t -f config``: None when valid, else sshd's message."""
    binary = sshd_binary(module)
    if not binary:
        return "no sshd binary to validate with"
    rc, out, err = module.run_command([binary, "-t", "-f", config])
    return None if rc == 0 else ((err or out).strip() or "sshd -t exited %d" % rc)
