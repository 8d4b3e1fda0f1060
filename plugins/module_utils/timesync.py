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
    MAX_GLOB_PATHS, ConfigError, check_included, dropins, glob, lines, read, strip_comment)

CHRONY_CONFS = ("/etc/chrony/chrony.conf", "/etc/chrony.conf")
NTP_CONFS = ("/etc/ntpsec/ntp.conf", "/etc/ntp.conf")
TIMESYNCD_CONF = "/etc/systemd/timesyncd.conf"
TIMESYNCD_DIRS = ("/etc/systemd/timesyncd.conf.d", "/run/systemd/timesyncd.conf.d",
                  "/usr/local/lib/systemd/timesyncd.conf.d", "/usr/lib/systemd/timesyncd.conf.d",
                  "/lib/systemd/timesyncd.conf.d")
SOURCE_DIRECTIVES = ("server", "pool", "peer")
MAX_DEPTH = 10

# daemon -> the unit names distributions give it
DAEMONS = (
    ("chrony", ("chrony.service", "chronyd.service")),
    ("ntpsec", ("ntpsec.service",)),
    ("ntpd", ("ntp.service", "ntpd.service")),
    ("timesyncd", ("systemd-timesyncd.service",)),
)


class Source(object):
    def __init__(self, kind, host, where, path, line, text):
        self.kind, self.host, self.where, self.path, self.line, self.text = kind, host, where, path, line, text

    def describe(self):
        return {"kind": self.kind, "server": self.host, "where": self.where}


class TimeConfig(object):
    """One daemon's configuration: its main file (None when absent), every
    file read, its servers, and (chrony) the directories it reads sources from."""

    def __init__(self, daemon, main):
        self.daemon, self.main = daemon, main
        self.files, self.sources = [], []
        self.sourcedirs, self.confdirs = [], []


def _lines(target, path, config, depth=0):
    if depth > MAX_DEPTH:
        raise ConfigError("%s: includes nest deeper than %d levels" % (target.display(path), MAX_DEPTH))
    check_included(target, path, len(config.files))
    text = read(target, path)
    if text is None:
        return
    config.files.append(path)
    for number, raw in enumerate(lines(text), 1):
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

    def walk(path, depth):
        for where, number, raw, words in _lines(target, path, config, depth):
            key = words[0].lower()
            if key in SOURCE_DIRECTIVES and len(words) > 1:
                _add_source(config, target, where, number, raw, key, words[1])
            elif key == "include" and len(words) > 1:
                for included in glob(target, words[1], globbed):
                    walk(included, depth + 1)
            elif key == "confdir":
                config.confdirs.extend(words[1:])
            elif key == "sourcedir":
                config.sourcedirs.extend(words[1:])

    walk(main, 0)
    # chrony.conf(5): confdir *.conf and sourcedir *.sources, a name in an
    # earlier directory hiding the same name in a later one, sorted by name
    for directories, suffix in ((config.confdirs, ".conf"), (config.sourcedirs, ".sources")):
        files = dropins(target, directories, suffix, globbed)
        present = set(path for path, dummy in files)
        for path, text in replace.items():
            if text is not None and path not in present and \
                    posixpath.dirname(path) in directories and path.endswith(suffix):
                files.append((path, posixpath.basename(path)))
        for path, dummy in sorted(files, key=lambda item: item[1]):
            if path in replace:
                if replace[path] is None:
                    continue
                _sources_from_text(target, path, replace[path], config)
                config.files.append(path)
            else:
                walk(path, 1)
    return config


def _add_source(config, target, path, number, raw, directive, address):
    config.sources.append(Source(directive, address, "%s:%d" % (target.display(path), number),
                                 path, number, raw))


def _sources_from_text(target, path, text, config):
    for number, raw in enumerate(lines(text), 1):
        words = strip_comment(raw, "#!;%").split()
        if len(words) > 1 and words[0].lower() in SOURCE_DIRECTIVES:
            _add_source(config, target, path, number, raw, words[0].lower(), words[1])


def read_ntp(target):
    main = next((p for p in NTP_CONFS if target.isfile(p)), None)
    config = TimeConfig("ntpsec" if main and "ntpsec" in main else "ntpd", main)
    if main is None:
        return config

    def walk(path, depth):
        for where, number, raw, words in _lines(target, path, config, depth):
            key = words[0].lower()
            if key in SOURCE_DIRECTIVES and words[1:2] in (["-4"], ["-6"]):
                words = words[:1] + words[2:]   # ntpd's "server -4 host": the address family first
            if key in SOURCE_DIRECTIVES and len(words) > 1:
                _add_source(config, target, where, number, raw, key, words[1])
            elif key == "includefile" and len(words) > 1:
                included = words[1] if words[1].startswith("/") else posixpath.join(
                    posixpath.dirname(path), words[1])
                walk(included, depth + 1)

    walk(main, 0)
    return config


def read_timesyncd(target, replace=None):
    """timesyncd.conf then its drop-ins: ``NTP=`` lists add up, an empty
    assignment resets the list (systemd.syntax(7))."""
    replace = replace or {}
    config = TimeConfig("timesyncd", TIMESYNCD_CONF if target.isfile(TIMESYNCD_CONF) else None)
    files = [TIMESYNCD_CONF] + [path for path, dummy in dropins(target, TIMESYNCD_DIRS, ".conf")]
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
            line = strip_comment(raw, "#;").strip()
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
