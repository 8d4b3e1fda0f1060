# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Time synchronisation configuration on a tree: chrony (chrony.conf with
``include``, ``confdir`` and ``sourcedir``), ntpsec and ntpd (ntp.conf with
``includefile``), systemd-timesyncd (timesyncd.conf and its .d
directories).  Each daemon's view is its servers with the file and line
that names them."""

import posixpath

from ansible_collections.guestready.gce.plugins.module_utils.configfiles import (
    MAX_GLOB_PATHS, ConfigError, check_included, dropins, glob, lines, names, read, strip_comment)

CHRONY_CONFS = ("/etc/chrony/chrony.conf", "/etc/chrony.conf")
NTP_CONFS = ("/etc/ntpsec/ntp.conf", "/etc/ntp.conf")
TIMESYNCD_CONF = "/etc/systemd/timesyncd.conf"
# systemd 256+ conf-parser.c config_parse_standard_file_with_dropins(): the first of these
# that exists is the main file (older systemd reads only /etc's; vendors ship the others with 256+)
TIMESYNCD_CONFS = (TIMESYNCD_CONF, "/run/systemd/timesyncd.conf", "/usr/local/lib/systemd/timesyncd.conf",
                   "/usr/lib/systemd/timesyncd.conf")
TIMESYNCD_DIRS = ("/etc/systemd/timesyncd.conf.d", "/run/systemd/timesyncd.conf.d",
                  "/usr/local/lib/systemd/timesyncd.conf.d", "/usr/lib/systemd/timesyncd.conf.d",
                  "/lib/systemd/timesyncd.conf.d")
SOURCE_DIRECTIVES = ("server", "pool", "peer")
MAX_DEPTH = 10
# chrony's server/pool/peer options (chrony 4.8, cmdparse.c: CPS_ParseNTPSourceAdd and
# CPS_GetSelectOption), without and with a value; any other word makes the line invalid
CHRONY_FLAGS = ("auto_offline", "burst", "copy", "iburst", "offline", "ipv4", "ipv6", "nts", "xleave",
                "noselect", "prefer", "require", "trust")
CHRONY_VALUED = ("certset", "key", "asymmetry", "extfield", "filter", "maxdelay", "maxdelayratio",
                 "maxdelaydevratio", "maxdelayquant", "maxpoll", "maxsamples", "maxsources", "maxunreach",
                 "mindelay", "minpoll", "minsamples", "minstratum", "ntsport", "offset", "port", "polltarget",
                 "presend", "version")

# daemon -> the unit names distributions give it
DAEMONS = (
    ("chrony", ("chrony.service", "chronyd.service")),
    ("ntpsec", ("ntpsec.service",)),
    ("ntpd", ("ntp.service", "ntpd.service")),
    ("timesyncd", ("systemd-timesyncd.service",)),
)


class Source(object):
    """One server line.  ``unused``: why the daemon never takes time from it
    although it is written (noselect, a line chronyd refuses), else None."""

    def __init__(self, kind, host, where, path, line, text, unused=None):
        self.kind, self.host, self.where, self.path, self.line, self.text = kind, host, where, path, line, text
        self.unused = unused

    def describe(self):
        return {"kind": self.kind, "server": self.host, "where": self.where}


class TimeConfig(object):
    """One daemon's configuration: its main file (None when absent), every
    file read, its servers, and (chrony) the directories it reads sources from."""

    def __init__(self, daemon, main):
        self.daemon, self.main = daemon, main
        self.files, self.sources = [], []
        self.sourcedirs, self.confdirs = [], []


def names_server(host, allowed):
    """Whether the host of a server line is one of ``allowed``: a host name
    is matched without regard to case (RFC 4343), and a fully qualified one
    may end in the root's dot as the resolver accepts it
    ("metadata.google.internal." is that name; "metadata." is not the
    search-list name "metadata")."""
    host = host.lower()
    if host.endswith(".") and "." in host[:-1]:
        host = host[:-1]
    return host in set(name.lower() for name in allowed)


def _lines(target, path, config, depth=0, text=False, chrony=False):
    if depth > MAX_DEPTH:
        raise ConfigError("%s: includes nest deeper than %d levels" % (target.display(path), MAX_DEPTH))
    check_included(target, path, len(config.files))
    if text is False:
        text = read(target, path)
    if text is None:
        return
    config.files.append(path)
    for number, raw in enumerate(lines(text), 1):
        if chrony:
            # chrony 4.8, cmdparse.c CPS_NormalizeLine: only a line that starts with !, ;, # or % is
            # a comment; later in a line these are words like any other
            words = raw.split()
            if words and words[0][0] in "!;#%":
                words = []
        else:
            words = strip_comment(raw, "#!;%").split()
        if words:
            yield path, number, raw, words


def read_chrony(target, replace=None):
    replace = replace or {}
    main = next((p for p in CHRONY_CONFS if target.isfile(p)), None)
    config = TimeConfig("chrony", main)
    if main is None:
        return config

    globbed = [MAX_GLOB_PATHS]   # what the include patterns and confdir/sourcedir may still reach
    sourcedirs = []

    def walk(path, depth):
        text = replace[path] if path in replace else False
        for where, number, raw, words in _lines(target, path, config, depth, text, chrony=True):
            key = words[0].lower()
            if key in SOURCE_DIRECTIVES and len(words) > 1:
                # chronyd exits on a server line it cannot parse (conf.c parse_source, fatal)
                invalid = _chrony_invalid(words[2:])
                _add_source(config, target, where, number, raw, key, words[1],
                            invalid and "chronyd does not start: %s" % invalid or _chrony_noselect(words[2:]))
            elif key == "refclock" and len(words) > 1:
                _add_source(config, target, where, number, raw, key, " ".join(words[:3]))
            elif key == "include" and len(words) > 1:
                for included in glob(target, words[1], globbed):
                    walk(included, depth + 1)
            elif key == "confdir":
                # conf.c parse_confdir: read where the directive stands, each directive on its own
                config.confdirs.extend(words[1:])
                for included in _chrony_dir(target, words[1:], ".conf", replace, globbed):
                    walk(included, depth + 1)
            elif key == "sourcedir":
                config.sourcedirs.extend(words[1:])
                sourcedirs.append(words[1:])

    walk(main, 0)
    # conf.c reload_source_dirs: the *.sources of each sourcedir directive once the configuration is read
    for directories in sourcedirs:
        for path in _chrony_dir(target, directories, ".sources", replace, globbed):
            check_included(target, path, len(config.files))
            text = replace[path] if path in replace else read(target, path)
            if text is not None:
                config.files.append(path)
                _sources_from_text(target, path, text, config)
    return config


def _chrony_dir(target, directories, suffix, replace, budget):
    """The files of one confdir or sourcedir directive as chrony's
    search_dirs() (conf.c, chrony 4.8) reads them: ``*suffix`` in each
    directory, a name in an earlier directory hiding the same name in later
    ones, sorted by name; ``replace`` adds (text) or removes (None) files."""
    chosen = {}
    for directory in directories:
        present = set(names(target, directory, "*" + suffix, budget))
        for path, text in replace.items():
            name = posixpath.basename(path)
            if posixpath.dirname(path) == directory.rstrip("/") and name.endswith(suffix) and not name.startswith("."):
                if text is None:
                    present.discard(name)
                else:
                    present.add(name)
        for name in present:
            if name not in chosen:
                path = posixpath.join(directory, name)
                chosen[name] = None if target.is_masked(path) and path not in replace else path
    return [chosen[name] for name in sorted(chosen) if chosen[name] is not None]


def _chrony_invalid(options):
    """Why chrony refuses these server options (cmdparse.c
    CPS_ParseNTPSourceAdd: an unknown word, or an option without its value),
    else None.  The values themselves are not checked."""
    index = 0
    while index < len(options):
        option = options[index].lower()
        if option in CHRONY_VALUED:
            if index + 1 >= len(options):
                return "%s without a value" % options[index]
            index += 2
        elif option in CHRONY_FLAGS:
            index += 1
        else:
            return "invalid option %s" % options[index]
    return None


def _chrony_noselect(options):
    if "noselect" in [option.lower() for option in options]:
        return "noselect: chronyd never synchronises to it"
    return None


def _add_source(config, target, path, number, raw, directive, address, unused=None):
    config.sources.append(Source(directive, address, "%s:%d" % (target.display(path), number),
                                 path, number, raw, unused))


def _sources_from_text(target, path, text, config):
    """A sourcedir's file as conf.c load_source_file() reads it (chrony 4.8):
    up to the first line without a newline, only server, pool and peer lines,
    and a line with an option chrony does not know left out (not fatal)."""
    for number, raw in enumerate(lines(text, True), 1):
        if not raw.endswith("\n"):
            break
        words = raw.split()
        if not words or words[0][0] in "!;#%":
            continue
        if len(words) > 1 and words[0].lower() in SOURCE_DIRECTIVES and not _chrony_invalid(words[2:]):
            _add_source(config, target, path, number, raw.rstrip("\n"), words[0].lower(), words[1],
                        _chrony_noselect(words[2:]))


def read_ntp(target):
    main = next((p for p in NTP_CONFS if target.isfile(p)), None)
    config = TimeConfig("ntpsec" if main and "ntpsec" in main else "ntpd", main)
    if main is None:
        return config

    globbed = [MAX_GLOB_PATHS]

    def walk(path, depth):
        if config.daemon == "ntpsec" and target.isdir(path):
            # ntpsec 1.0+ ntp_scanner.c lex_push_file(): a directory's entries whose names end in
            # .conf, in name order, a directory among them read the same way
            if depth > MAX_DEPTH:
                raise ConfigError("%s: includes nest deeper than %d levels" % (target.display(path), MAX_DEPTH))
            for name in names(target, path, "*.conf", globbed):
                walk(posixpath.join(path, name), depth + 1)
            return
        for where, number, raw, words in _lines(target, path, config, depth):
            # ntp_scanner.c is_keyword() matches keywords byte for byte: "Server" is a syntax error,
            # a line ntpd skips
            key = words[0]
            if key in SOURCE_DIRECTIVES and words[1:2] in (["-4"], ["-6"]):
                words = words[:1] + words[2:]   # ntpd's "server -4 host": the address family first
            if key in SOURCE_DIRECTIVES and len(words) > 1:
                # ntp.conf(5), ntpsec's ntp_conf(5): noselect marks a server "never used for synchronization"
                _add_source(config, target, where, number, raw, key, words[1],
                            "noselect: %s never synchronises to it" % config.daemon if "noselect" in words[2:] else None)
            elif key == "refclock" and len(words) > 1 and config.daemon == "ntpsec":
                _add_source(config, target, where, number, raw, key, " ".join(words[:2]))
            elif key == "includefile" and len(words) > 1:
                included = words[1] if words[1].startswith("/") else posixpath.join(
                    posixpath.dirname(path), words[1])
                walk(included, depth + 1)

    walk(main, 0)
    if config.daemon == "ntpsec":
        # ntp_config.c readconfig(): then the ntp.d directory beside the configuration file
        ntp_d = posixpath.join(posixpath.dirname(main), "ntp.d")
        if target.isdir(ntp_d):
            walk(ntp_d, 1)
    return config


def read_timesyncd(target, replace=None):
    """timesyncd.conf (the first of ``TIMESYNCD_CONFS``) then its drop-ins:
    ``NTP=`` lists add up, an empty assignment resets the list (systemd.syntax(7))."""
    replace = replace or {}
    main = next((p for p in TIMESYNCD_CONFS if (replace[p] is not None if p in replace else target.isfile(p))), None)
    config = TimeConfig("timesyncd", main)
    files = [main or TIMESYNCD_CONF] + [path for path, dummy in dropins(target, TIMESYNCD_DIRS, ".conf")]
    for path, text in replace.items():
        if text is not None and path not in files:
            files.append(path)
    files = [files[0]] + sorted(files[1:], key=posixpath.basename)
    servers = {"NTP": [], "FallbackNTP": []}
    for path in files:
        text = replace[path] if path in replace else read(target, path)
        if text is None:
            continue
        config.files.append(path)
        section = None
        for number, raw in enumerate(lines(text), 1):
            # conf-parser.c parse_line(): a line whose first character is # or ; is a comment; later in
            # a line they are part of the value ("NTP= # reset" names the servers "#" and "reset")
            line = raw.strip()
            if line[:1] in ("#", ";"):
                continue
            if line.startswith("["):
                section = line.strip("[]")
            elif section == "Time" and "=" in line:
                key, value = [part.strip() for part in line.split("=", 1)]
                if key in servers:
                    if not value:
                        servers[key] = []
                    for host in value.split():
                        servers[key].append(Source(key, host, "%s:%d" % (target.display(path), number),
                                                   path, number, raw))
    config.sources = servers["NTP"] or servers["FallbackNTP"]
    config.fallback_only = not servers["NTP"] and bool(servers["FallbackNTP"])
    return config


def read_all(target):
    """``{daemon: TimeConfig}`` for every daemon whose configuration exists."""
    found = {}
    chrony = read_chrony(target)
    if chrony.main:
        found["chrony"] = chrony
    ntp = read_ntp(target)
    if ntp.main:
        found[ntp.daemon] = ntp
    found["timesyncd"] = read_timesyncd(target)
    return found
