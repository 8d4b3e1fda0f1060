# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Time synchronisation configuration on a tree: chrony (chrony.conf with
``include``, ``confdir`` and ``sourcedir``), ntpsec and ntpd (ntp.conf with
``includefile``), systemd-timesyncd (timesyncd.conf and its .d
directories).  Each daemon's view is its servers with the file and line
that names them."""

import posixpath
import re

from ansible_collections.guestready.gce.plugins.module_utils import systemd_conf, units
from ansible_collections.guestready.gce.plugins.module_utils.configfiles import (
    MAX_GLOB_PATHS, ConfigError, c_words, check_included, dropins, glob, lines, names, present, read, size_counter,
    strip_comment, utf8_size)
from ansible_collections.guestready.gce.plugins.module_utils.target import TargetError, name_order

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
# chrony conf.c MAX_INCLUDE_LEVEL: the files one include chain may hold, the main file counted
CHRONY_INCLUDE_LEVELS = 10
# glob(3) patterns: what makes one more than a file name (GLOB_NOMAGIC returns any other as it is)
_GLOB_MAGIC = re.compile(r"[*?[]")
# chrony's server/pool/peer options (chrony 4.8, cmdparse.c: CPS_ParseNTPSourceAdd and
# CPS_GetSelectOption), without and with a value; any other word makes the line invalid
CHRONY_FLAGS = ("auto_offline", "burst", "copy", "iburst", "offline", "ipv4", "ipv6", "nts", "xleave",
                "noselect", "prefer", "require", "trust")
CHRONY_VALUED = ("certset", "key", "asymmetry", "extfield", "filter", "maxdelay", "maxdelayratio",
                 "maxdelaydevratio", "maxdelayquant", "maxpoll", "maxsamples", "maxsources", "maxunreach",
                 "mindelay", "minpoll", "minsamples", "minstratum", "ntsport", "offset", "port", "polltarget",
                 "presend", "version")
# how CPS_ParseNTPSourceAdd() reads each value: sscanf() "%d", "%u" ("%"SCNu32), "%x" (extfield) or
# "%lf", and the whole word ("%n": what is left of it would be read as the next option)
_C_INT = re.compile(r"[+-]?[0-9]+\Z")
_C_HEX = re.compile(r"[+-]?(?:0[xX])?[0-9a-fA-F]+\Z")
_C_FLOAT = re.compile(r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|"
                      r"\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?|inf(?:inity)?|nan(?:\([0-9A-Za-z_]*\))?)\Z", re.I)
CHRONY_VALUE_FORMS = dict([(option, _C_FLOAT) for option in (
    "asymmetry", "maxdelay", "maxdelayratio", "maxdelaydevratio", "maxdelayquant", "mindelay", "offset")] +
    [("extfield", _C_HEX)])
# chrony 4.0+ conf.c: CNF_ReadFile() reads a line with fgets() into MAX_LINE_LENGTH bytes and
# CNF_ParseLine() exits on one that fills them ("String too long"; a comment too), and
# load_source_file() stops at a line that does not fit; confdir takes 1 to MAX_CONF_DIRS
# directories (search_dirs(): else "Could not parse confdir directive", fatal; a sourcedir of
# more reads nothing) and include one argument (check_number_of_args(), fatal)
CHRONY_LINE = 2048
CHRONY_DIRS = 10


class ChronyExits(Exception):
    """A configuration line that makes chronyd exit (LOG_FATAL): the message says where and why."""


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
        # timesyncd: (path, line number) of every NTP= and FallbackNTP= line, an empty one too
        self.server_lines = []
        # chrony: why chronyd does not start; how it was found to read ``main`` (its -f); why its
        # unit's command line could not be followed, so ``main`` is the default; (timesyncd) why it
        # stops reading its files
        self.fatal = self.started = self.note = None
        # timesyncd: (path, line) where it fails to parse its files and reads no further (line
        # None: a directory of a drop-in's name, which it fails to read); the words of its NTP= lines
        # it ignores
        self.stopped, self.ignored = None, []


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ASCII_NAME = re.compile(r"(?:[^\x00-\x1f\x7f.]{1,63}\.)*[^\x00-\x1f\x7f.]{1,63}\.?\Z")


def timesyncd_servers(value):
    """``(names, ignored)`` of an ``NTP=`` or ``FallbackNTP=`` value as
    timesyncd-conf.c manager_parse_server_string() reads it: the words of
    extract_first_word() with no flags (systemd_conf.words(); a backslash
    that ends the value is an error, that word ignored), and a word that is
    no address nor valid DNS name (dns_name_is_valid_or_address()) ignored
    ("Invalid NTP server name or address, ignoring")."""
    found, rest = systemd_conf.words(value)
    names, ignored = [], []
    for word in found:
        (names if _host_or_address(word) else ignored).append(word)
    return names, ignored + ([rest] if rest else [])


def _host_or_address(word):
    # dns-domain.c dns_name_concat(): labels of 1 to 63 bytes without control characters,
    # 253 bytes in all, one final dot allowed ("." is the root's name); every IPv4 and IPv6
    # address passes these rules too
    if word == ".":
        return True
    if word.isascii():
        return len(word) - word.endswith(".") <= 253 and bool(_ASCII_NAME.match(word))
    name = word[:-1] if word.endswith(".") else word
    return bool(name) and not _CONTROL.search(name) and utf8_size(name) <= 253 and all(
        0 < utf8_size(label) <= 63 for label in name.split("."))


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
    if chrony and depth >= CHRONY_INCLUDE_LEVELS:
        # conf.c CNF_ReadFile(): the main file is level 1, and a level above MAX_INCLUDE_LEVEL is fatal
        raise ChronyExits("%s is included %d levels deep, more than chronyd reads (\"Maximum include level "
                          "reached\")" % (target.display(path), depth + 1))
    if depth > MAX_DEPTH:
        raise ConfigError("%s: includes nest deeper than %d levels" % (target.display(path), MAX_DEPTH))
    check_included(target, path, len(config.files))
    if text is False:
        text = read(target, path)
    if text is None:
        return
    config.files.append(path)
    rows = lines(text)
    for number, raw in enumerate(rows, 1):
        if chrony:
            if 4 * len(raw) + 1 >= CHRONY_LINE:   # a character is at most 4 bytes: only then count them
                size = size_counter(text)(raw) + (number < len(rows) or text.endswith("\n"))
                if size >= CHRONY_LINE:
                    raise ChronyExits("%s:%d is a line of %d bytes (its newline included): chronyd reads %d at "
                                      "most and exits on a line that fills them (\"String too long\")"
                                      % (target.display(path), number, size, CHRONY_LINE))
            # chrony 4.8, cmdparse.c CPS_NormalizeLine: only a line that starts with !, ;, # or % is
            # a comment; later in a line these are words like any other
            words = c_words(raw)
            if words and words[0][0] in "!;#%":
                words = []
        else:
            words = c_words(strip_comment(raw, "#!;%"))
        if words:
            yield path, number, raw, words


# chrony 4.8 main.c main(): getopt()'s option string ("x:" takes a value)
CHRONYD_GETOPT = "46df:F:hl:L:mnpP:qQrRst:u:Uvx"
# what chronyd does with these options instead of running as the time daemon (main.c)
CHRONYD_EXITS = {"h": "prints its help and exits", "v": "prints its version and exits",
                 "p": "prints its configuration and exits", "q": "sets the clock once and exits",
                 "Q": "prints the offset once and exits"}


def chronyd_options(args):
    """``(file, left, stops, forks)`` of chronyd's arguments as glibc getopt() with
    CHRONYD_GETOPT reads them: ``file`` the value of the last ``-f`` (``-f
    FILE`` or ``-fFILE``, options grouped as ``-df FILE``), ``left`` the
    arguments that are no option (getopt moves them to the end; ``--`` ends
    the options), ``stops`` why chronyd does not run as the daemon (an
    unknown option, one without its value, --help, -v...) or None, ``forks``
    whether it turns into a daemon (no -d or -n)."""
    for word in ("--help", "--version"):   # main.c looks for these before getopt()
        if word in args:
            return None, [], "with %s chronyd prints its %s and exits" % (word, word[2:]), True
    conf, left, index, forks = None, [], 0, True
    while index < len(args):
        arg = args[index]
        index += 1
        if arg == "--":
            left.extend(args[index:])
            break
        if not arg.startswith("-") or arg == "-":
            left.append(arg)
            continue
        for position in range(1, len(arg)):
            option = arg[position]
            spec = CHRONYD_GETOPT.find(option)
            if option == ":" or spec < 0:
                return conf, left, "-%s is no option of chronyd: it prints its help and exits" % option, forks
            if CHRONYD_GETOPT[spec + 1:spec + 2] == ":":
                value = arg[position + 1:]
                if not value:
                    if index >= len(args):
                        return conf, left, "-%s without its value: chronyd prints its help and exits" % option, forks
                    value, index = args[index], index + 1
                if option == "f":
                    conf = value
                break
            if option in CHRONYD_EXITS:
                return conf, left, "with -%s chronyd %s" % (option, CHRONYD_EXITS[option]), forks
            forks = forks and option not in "dn"
    return conf, left, None, forks


def _relative_to(target, name, forks, how):
    """The directory chronyd reads a relative -f from: / when it forks (chrony
    main.c: go_daemon() does chdir("/") before CNF_ReadFile()), else its
    unit's WorkingDirectory= (systemd.exec(5): the root directory for a
    system unit by default; a leading '-' only makes a missing one no error)."""
    if forks:
        return "/"
    directory = "/"
    for key, value, dummy in units.section_settings(target, name, "Service") or []:
        if key == "WorkingDirectory":
            directory = value or "/"
    directory = directory[1:] if directory.startswith("-") else directory
    if not directory.startswith("/") or "%" in directory:
        # "~" (User='s home) or a specifier
        raise ConfigError("%s: its -f is a relative path, read from WorkingDirectory=%s: not judged" % (how, directory))
    return directory


def chronyd_start(target, unit=None):
    """``(file, how, fatal, note)``: the configuration file chronyd is
    started with, from the ``-f`` on its unit's command line
    (``units.service_command``: Debian's chrony.service runs ``chronyd
    $DAEMON_OPTS`` with EnvironmentFile=-/etc/default/chrony, Fedora's
    chronyd.service ``chronyd $OPTIONS`` with /etc/sysconfig/chronyd), or
    None for chrony's default; ``how`` says where the -f came from,
    ``fatal`` why chronyd does not start, ``note`` why the command line
    could not be followed (then the default is read).  ``unit``: the chrony
    unit in use, else the first of DAEMONS' chrony units there is."""
    names = [unit] if unit else [name for daemon, found in DAEMONS if daemon == "chrony" for name in found]
    name = next((n for n in names if units.unit_file(target, n)), None)
    if name is None:
        return None, None, None, None
    try:
        command = units.service_command(target, name)
    except units.NotStarted as exc:
        return None, None, str(exc), None
    except (units.Unresolved, ConfigError, TargetError) as exc:
        return None, None, None, "%s's command line could not be followed (%s): chrony's default file is read" % (
            name, exc)
    if command is None:
        return None, None, None, None
    argv, sources = command
    if posixpath.basename(argv[0]) != "chronyd":
        return None, None, None, "%s runs %s, not chronyd (%s): chrony's default file is read" % (
            name, argv[0], ", ".join(sources))
    conf, left, stops, forks = chronyd_options(argv[1:])
    how = "%s starts chronyd with %s (%s)" % (name, " ".join(argv[1:]) or "no arguments", ", ".join(sources))
    if stops:
        return None, None, "chronyd does not run: %s; %s" % (stops, how), None
    if left:
        # main.c: arguments left after the options are configuration lines, read instead of any file
        raise ConfigError("%s: chronyd takes its configuration from these arguments, not from a file: not judged"
                          % how)
    if conf is not None and not conf.startswith("/"):
        conf = posixpath.normpath(posixpath.join(_relative_to(target, name, forks, how), conf))
    return conf, how if conf is not None else None, None, None


def read_chrony(target, replace=None, unit=None):
    """chrony's configuration: the file its unit starts chronyd with
    (``chronyd_start``), else the first of CHRONY_CONFS, with what it
    includes and its sourcedirs."""
    replace = replace or {}
    conf, how, fatal, note = chronyd_start(target, unit)
    main = conf if conf is not None else next((p for p in CHRONY_CONFS if target.isfile(p)), None)
    config = TimeConfig("chrony", main)
    config.started, config.note = how, note
    if fatal is None and conf is not None and (replace[conf] is None if conf in replace else not present(target, conf)):
        # chrony 4.8 conf.c CNF_ReadFile(): UTI_OpenFile(NULL, filename, NULL, 'R', 0), and util.c
        # UTI_OpenFile() logs an upper-case mode's failure at LOGS_FATAL: chronyd exits
        fatal = "chronyd does not start: %s, which does not exist" % how
    if fatal is not None:
        config.main = config.main or CHRONY_CONFS[0]
        config.fatal = fatal
        return config
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
            elif key == "include":
                if len(words) != 2:
                    raise ChronyExits("%s:%d: include takes one pattern, not %d (\"Could not parse include "
                                      "directive\")" % (target.display(where), number, len(words) - 1))
                for included in _chrony_include(target, words[1], "%s:%d" % (target.display(where), number), globbed):
                    walk(included, depth + 1)
            elif key == "confdir":
                if not 0 < len(words) - 1 <= CHRONY_DIRS:
                    raise ChronyExits("%s:%d: confdir names %d directories, chrony takes 1 to %d (\"Could not "
                                      "parse confdir directive\")"
                                      % (target.display(where), number, len(words) - 1, CHRONY_DIRS))
                # conf.c parse_confdir: read where the directive stands, each directive on its own
                config.confdirs.extend(words[1:])
                for included in _chrony_dir(target, words[1:], ".conf", replace, globbed):
                    walk(included, depth + 1)
            elif key == "sourcedir" and len(words) - 1 <= CHRONY_DIRS:
                config.sourcedirs.extend(words[1:])
                sourcedirs.append(words[1:])

    try:
        walk(main, 0)
    except ChronyExits as exc:
        config.fatal = "chronyd does not start: %s" % exc
        return config
    # conf.c reload_source_dirs: the *.sources of each sourcedir directive once the configuration is read
    for directories in sourcedirs:
        for path in _chrony_dir(target, directories, ".sources", replace, globbed):
            check_included(target, path, len(config.files))
            text = replace[path] if path in replace else read(target, path)
            if text is not None:
                config.files.append(path)
                _sources_from_text(target, path, text, config)
    return config


def _chrony_include(target, pattern, where, budget):
    """The files an ``include`` reads, as chrony's parse_include() globs
    them (GLOB_NOMAGIC | GLOB_ERR): a name without a wildcard is the file
    itself, which chronyd exits without ("Could not open"); a pattern whose
    directory is missing makes it exit too ("Could not search for files
    matching"); no match in a directory that is there is nothing."""
    magic = _GLOB_MAGIC.search(pattern)
    if magic is None:
        if not target.exists(pattern):
            raise ChronyExits("%s: include %s: no such file (\"Could not open\")" % (where, pattern))
        return [pattern]
    directory = pattern[:magic.start()].rsplit("/", 1)[0] or "/"
    if not target.exists(directory) and not target.islink(directory):
        raise ChronyExits("%s: include %s: the directory %s does not exist (\"Could not search for files matching\")"
                          % (where, pattern, target.display(directory)))
    return glob(target, pattern, budget)


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
    return [chosen[name] for name in sorted(chosen, key=name_order) if chosen[name] is not None]


def _chrony_invalid(options):
    """Why chrony refuses these server options (cmdparse.c
    CPS_ParseNTPSourceAdd: an unknown word, an option without its value, or
    a value that is not the number it takes), else None."""
    index = 0
    while index < len(options):
        option = options[index].lower()
        if option in CHRONY_VALUED:
            if index + 1 >= len(options):
                return "%s without a value" % options[index]
            if not CHRONY_VALUE_FORMS.get(option, _C_INT).match(options[index + 1]):
                return "%s %s: not a number" % (options[index], options[index + 1])
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
    up to the first line without a newline (or longer than its buffer), only server, pool and peer lines,
    and a line with an option chrony does not know left out (not fatal)."""
    for number, raw in enumerate(lines(text, True), 1):
        if not raw.endswith("\n") or (4 * len(raw) > CHRONY_LINE and size_counter(text)(raw) > CHRONY_LINE):
            break
        words = c_words(raw)
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
    """timesyncd.conf (the first of ``TIMESYNCD_CONFS``) then its drop-ins,
    as systemd_conf.parse() reads each: ``NTP=`` lists add up, an empty
    assignment resets the list (systemd.syntax(7)); a file timesyncd fails
    to parse is read up to there, and no later one."""
    replace = replace or {}
    main = next((p for p in TIMESYNCD_CONFS if (replace[p] is not None if p in replace else target.isfile(p))), None)
    config = TimeConfig("timesyncd", main)
    files = [main or TIMESYNCD_CONF] + [path for path, dummy in dropins(target, TIMESYNCD_DIRS, ".conf")]
    for path, text in replace.items():
        # a drop-in a plan writes (``replace`` may hold other files of the plan too)
        if text is not None and path not in files and posixpath.dirname(path) in TIMESYNCD_DIRS and path.endswith(".conf"):
            files.append(path)
    files = [files[0]] + sorted(files[1:], key=lambda path: name_order(posixpath.basename(path)))
    servers = {"NTP": [], "FallbackNTP": []}
    for path in files:
        if path not in replace and target.isdir(path):
            # conf-files.c lists a directory of a drop-in's name (hiding that name in later directories);
            # config_parse() fails to read it, and config_parse_many_files() reads nothing after it
            config.stopped = (path, None)
            config.note = "timesyncd stops reading its configuration at %s, a directory: it reads no later file" % (
                target.display(path))
            break
        text = replace[path] if path in replace else read(target, path)
        if text is None:
            continue
        config.files.append(path)
        # a # or ; later in a line is part of the value ("NTP= # reset" names the servers "#" and "reset")
        settings, stop = systemd_conf.parse(text)
        for section, key, value, first, last in settings:
            if section == "Time" and key in servers:
                config.server_lines.extend((path, number) for number in range(first, last + 1))
                if not value:
                    servers[key] = []
                where, line = "%s:%d" % (target.display(path), first), "%s=%s" % (key, value)   # one text for its hosts
                hosts, ignored = timesyncd_servers(value)
                servers[key].extend(Source(key, host, where, path, first, line) for host in hosts)
                config.ignored.extend("%r (%s)" % (word, where) for word in ignored)
        if stop:
            # config_parse_many_files(): what was read stands, no later file is read
            config.stopped = (path, stop[0])
            config.note = "timesyncd stops reading its configuration at %s line %d (%s): it reads no later file" % (
                target.display(path), stop[0], stop[1])
            break
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
