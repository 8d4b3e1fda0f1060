# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Installed packages on a tree: dpkg's status file (read through the
target root), or ``rpm -q --whatprovides`` when the tree has an rpm database
(a private copy of the tree's own database: rpm writes even when it only
reads); installs with the distribution's own tool on a live system."""

import os
import posixpath
import re
import shutil
import stat
import tempfile

from ansible_collections.guestready.gce.plugins.module_utils.configfiles import ConfigError, glob, present, read
from ansible_collections.guestready.gce.plugins.module_utils.target import Missing, TargetError

DPKG_STATUS = "/var/lib/dpkg/status"
DPKG_UPDATES = "/var/lib/dpkg/updates"
# dpkg folds its journal (updates/0000 on) into the status file after 250 updates (lib/dpkg/dpkg.h,
# MAXUPDATES; lib/dpkg/dbmodify.c, modstatdb_note)
DPKG_MAXUPDATES = 250
# the states of a package dpkg has configured (man dpkg, "Package states"): triggers-pending and
# triggers-awaited only have triggers left to run, an apt run passes through them, and dpkg takes
# triggers-pending as installed for dependencies (src/main/packages.c, deppossi_ok_found)
DPKG_CONFIGURED = ("installed", "triggers-pending", "triggers-awaited")
# where rpm's database is when the tree's macro files do not say (RPM_MACRO_FILES, %_dbpath)
RPM_DBS = ("/var/lib/rpm", "/usr/lib/sysimage/rpm")
# rpm's macro path in its order, a later definition winning (lib/rpmrc.cc, setDefaults; rpmio/macro.cc,
# macros::init; rpm 4.x to 6.1), less the entries that depend on what is not in the tree: the
# platform's (%{_target}: the machine rpm runs on) and the user's (~/.rpmmacros, XDG_CONFIG_HOME).
# The vendor's directory is RPM_VENDOR of rpm's build: redhat on Fedora and RHEL, suse on SUSE.
RPM_MACRO_FILES = ("/usr/lib/rpm/macros", "/usr/lib/rpm/macros.d/macros.*", "/usr/lib/rpm/fileattrs/*.attr",
                   "/usr/lib/rpm/redhat/macros", "/usr/lib/rpm/suse/macros", "/etc/rpm/macros.*", "/etc/rpm/macros")
# the macros a %_dbpath may name (macros.in: %_dbpath %{_var}/lib/rpm; Fedora 36 and SUSE
# %{_usr}/lib/sysimage/rpm); the platform file (not read) defines %_prefix, %_lib and the like
RPM_PATH_MACROS = ("_usr", "_var")
# the database files of rpm's backends: sqlite (RHEL 9, Fedora, SUSE), ndb (SUSE before), bdb (RHEL 8)
RPM_DB_FILES = ("rpmdb.sqlite", "Packages.db", "Packages")
# what a tree's database directory may hold in all before it is copied (RHEL 8's bdb
# Packages reaches a few hundred MiB on a large system)
RPM_DB_MAX_BYTES = 2 << 30


def parse_dpkg_status(text, source=DPKG_STATUS):
    """``{package: version}`` of the packages dpkg has configured
    (``DPKG_CONFIGURED``).  A line dpkg itself would refuse (not ``Field:
    value``, not a continuation) is a ConfigError naming ``source``: garbage
    tells nothing about what is installed."""
    return _configured(_status_records(_dpkg_stanzas(text, source), source))


def _dpkg_stanzas(text, source):
    """The stanzas of a dpkg database file, each ``{field (lower case): value}``."""
    stanzas, fields = [], {}
    rows = (text or "").split("\n")
    if rows[-1].strip(" \t"):
        # lib/dpkg/parse.c: "end of file during value of field ... (missing final newline)", fatal
        raise ConfigError("%s line %d ends without a newline in the middle of a field, so dpkg cannot read "
                          "it: %r" % (source, len(rows), rows[-1][:80]))
    for number, line in enumerate(rows + [""], 1):
        if line[:1] in (" ", "\t", "#"):   # a continuation (most lines) or a comment
            continue
        if not line:
            if fields.get("package"):
                stanzas.append(fields)
            fields = {}
            continue
        key, colon, value = line.partition(":")
        if not colon or not key or " " in key or "\t" in key or "\0" in line:
            raise ConfigError("%s line %d is not a 'Field: value' line, so it is not dpkg's status database "
                              "(dpkg cannot read it either): %r" % (source, number, line[:80]))
        if key.lower() in fields:   # lib/dpkg/parse.c: "duplicate value for ... field", fatal
            raise ConfigError("%s line %d sets the %s field a second time in the record of %s: dpkg cannot "
                              "read the database either" % (source, number, key, fields.get("package", "a package")))
        fields[key.lower()] = value.strip()
    return stanzas


def _installed_instance(fields):
    """Whether dpkg counts the record as an instance (its state is not not-installed)."""
    return fields.get("status", "").split()[-1:] != ["not-installed"]


def _same(fields):
    return fields.get("multi-arch", "").lower() == "same"


def _place(records, fields, source, journal=False):
    """Put a record into ``records`` (``{(package, architecture): record}``)
    as dpkg does (lib/dpkg/parse.c): the package's installed instances must
    be one, or all ``Multi-Arch: same`` (parse_find_set_slot: the new record
    counts too when it is from the status file), and a journal record that
    is not ``Multi-Arch: same`` cannot join several, else dpkg refuses the
    database; the status file has a slot per architecture, and a journal
    record replaces the package's only installed instance whatever its
    architecture (a cross-grade) unless both are ``Multi-Arch: same``
    (parse_find_pkg_slot)."""
    package = fields["package"]
    installed = [key for key, other in records.items() if key[0] == package and _installed_instance(other)]
    counted = [records[key] for key in installed] + ([fields] if not journal and _installed_instance(fields) else [])
    singles = sum(1 for other in counted if not _same(other))
    if singles > 1 or (singles and len(counted) > singles):
        raise ConfigError("%s: %s has installed records that are not all Multi-Arch: same, so dpkg cannot read the "
                          "database (\"%s non-coinstallable package instances present\")" % (
                              source, package, "multiple" if singles > 1 else "mixed"))
    if journal and len(installed) > 1 and not _same(fields):
        raise ConfigError("%s: %s is not Multi-Arch: same but the package has %d installed instances, so dpkg "
                          "cannot read the database (\"is not co-installable\")" % (source, package, len(installed)))
    if journal and len(installed) == 1 and not (_same(records[installed[0]]) and _same(fields)):
        del records[installed[0]]
    records[(package, fields.get("architecture"))] = fields


def _status_records(stanzas, source):
    records = {}
    for fields in stanzas:
        _place(records, fields, source)
    return records


def _configured(records):
    installed = {}
    for fields in records.values():
        status = fields.get("status", "").split()
        if status[-1:] and status[-1].lower() in DPKG_CONFIGURED:
            installed[fields["package"]] = fields.get("version", "")
    return installed


def dpkg_installed(target):
    """``parse_dpkg_status`` of the status file with dpkg's journal on top:
    a dpkg run records each package's new state in ``updates/NNNN`` and
    folds them into the status file only every 250 and at its end, so after
    a run cut short (an image taken during an upgrade) the journal is
    newer; dpkg and dpkg-query read it too (lib/dpkg/dbmodify.c,
    cleanupdates).  Each file is the package's whole record: it replaces the
    package's (``_place``)."""
    records = _status_records(_dpkg_stanzas(read(target, DPKG_STATUS), target.display(DPKG_STATUS)),
                              target.display(DPKG_STATUS))
    try:
        names = [name for name in target.listdir(DPKG_UPDATES) if name.isdigit() and name.isascii()]
    except Missing:
        names = []
    except TargetError as exc:
        raise ConfigError(str(exc))
    if len(names) > DPKG_MAXUPDATES + 1:
        raise ConfigError("%s: %d journal files, more than dpkg leaves (it folds them in after %d): not dpkg's" % (
            target.display(DPKG_UPDATES), len(names), DPKG_MAXUPDATES))
    for name in sorted(names, key=int):   # dpkg: names of one length, in order (alphasort)
        path = posixpath.join(DPKG_UPDATES, name)
        for fields in _dpkg_stanzas(read(target, path), target.display(path)):
            _place(records, fields, target.display(path), journal=True)
    return _configured(records)


def _macro_lines(text):
    """``(line number, logical line)`` of the definitions (lines starting
    with ``%``) of an rpm macro file: a definition goes on while its line
    ends in a backslash or a ``%{``, ``%(`` or ``%[`` is open (rpmio/macro.cc,
    rdcl)."""
    rows = text.split("\n")
    index = 0
    while index < len(rows):
        number, line = index + 1, rows[index].rstrip("\r")
        index += 1
        if not line.lstrip(" \t").startswith("%"):
            continue
        depth = {"{": 0, "(": 0, "[": 0}
        part = line
        while True:
            _open_groups(part, depth)
            if not (part.endswith("\\") or any(depth.values())) or index == len(rows):
                break
            part = rows[index].rstrip("\r")
            line += "\n" + part
            index += 1
        yield number, line


def _open_groups(text, depth):
    """Count into ``depth`` the groups ``text`` opens and closes, as rdcl does."""
    closing = {"}": "{", ")": "(", "]": "["}
    index = 0
    while index < len(text):
        char, following = text[index], text[index + 1:index + 2]
        if char == "\\" and following:
            index += 1
        elif char == "%" and following in ("{", "(", "[", "%"):
            if following != "%":
                depth[following] += 1
            index += 1
        elif char in depth and depth[char]:
            depth[char] += 1
        elif char in closing and depth[closing[char]]:
            depth[closing[char]] -= 1
        index += 1


def rpm_macros(target, wanted=("_dbpath",) + RPM_PATH_MACROS):
    """``{name: (body, file, line number)}``: the last definition of each
    macro of ``wanted`` in the tree's macro files (RPM_MACRO_FILES), as rpm
    loads them: a file ending in .rpmnew, .rpmsave, .rpmorig or in neither
    letter nor digit is skipped (macros::init), a definition with an empty
    body is refused and leaves the one before it (doDefine).  Only regular
    files are read, through the root; the bodies are not expanded."""
    found = {}
    try:
        paths = [path for pattern in RPM_MACRO_FILES for path in glob(target, pattern)
                 if not path.endswith((".rpmnew", ".rpmsave", ".rpmorig")) and re.search(r"[A-Za-z0-9]\Z", path)
                 and target.isfile(path)]
    except TargetError as exc:   # a directory on the way this user may not search
        raise ConfigError(str(exc))
    for path in paths:
        for number, line in _macro_lines(read(target, path) or ""):
            name = re.match(r"[ \t]*%([A-Za-z0-9_]*)(.*)", line, re.S)
            body = name.group(2).strip(" \t\r\n")
            if name.group(1) in wanted and body:
                found[name.group(1)] = (body, target.display(path), number)
    return found


def _expand_path_macro(macros, name, seen=()):
    """The value of the macro ``name`` of ``macros`` (``rpm_macros``), its
    references to RPM_PATH_MACROS expanded; anything else -- a shell
    expansion ``%(...)``, a conditional, an undefined macro, a body over
    lines -- is a ConfigError naming its file and line: never run, never
    guessed."""
    body, path, number = macros[name]

    def expand(found):
        inner = found.group(1) or found.group(2)
        if inner in seen + (name,):
            raise ConfigError("%s line %d: %%%s names %%%s, which names it back: not expanded" % (path, number, name, inner))
        if inner not in RPM_PATH_MACROS or inner not in macros:
            raise ConfigError("%s line %d: %%%s names %%%s, which is not a path macro defined in rpm's macro files "
                              "(%s): not expanded" % (path, number, name, inner, ", ".join("%" + n for n in RPM_PATH_MACROS)))
        return _expand_path_macro(macros, inner, seen + (name,))
    if not re.match(r"(?:[A-Za-z0-9_./+-]|%\{[A-Za-z0-9_]+\}|%[A-Za-z0-9_]+)+\Z", body):
        raise ConfigError("%s line %d: %%%s %s is not a path of plain characters and path macros: not expanded "
                          "(rpm's shell and other expansions are not run)" % (path, number, name, body[:120]))
    return re.sub(r"%\{([A-Za-z0-9_]+)\}|%([A-Za-z0-9_]+)", expand, body)


def rpm_dbpaths(target):
    """Where the tree's rpm keeps its database: ``(%_dbpath,)`` when its
    macro files define it (Fedora 36 on and SUSE moved it to
    /usr/lib/sysimage/rpm, an administrator may move it anywhere), else
    RPM_DBS.  A %_dbpath that is not an absolute path once expanded is a
    ConfigError."""
    macros = rpm_macros(target)
    if "_dbpath" not in macros:
        return RPM_DBS
    dbpath = _expand_path_macro(macros, "_dbpath")
    if not dbpath.startswith("/"):
        body, path, number = macros["_dbpath"]
        raise ConfigError("%s line %d: %%_dbpath %s is not an absolute path" % (path, number, body[:120]))
    return (dbpath,)


def rpm_dbpath(target, dbpaths=None):
    """The tree's rpm database directory, as a path inside the root with no
    link on it, or None when no directory of ``dbpaths`` (``rpm_dbpaths``)
    holds a database file.  rpm opens ``--root`` + ``--dbpath`` as a path of
    this machine and follows links there (lib/rpmdb.c, rpmdbNew), so a link
    in the tree would lead it out (``var/lib/rpm -> /var/lib/rpm``: this
    machine's database): links are resolved inside the root (Fedora's
    ``/var/lib/rpm -> ../../usr/lib/sysimage/rpm``), as is a ``..`` of a
    %_dbpath, and a database directory holding a link is a ConfigError."""
    dbpaths = rpm_dbpaths(target) if dbpaths is None else dbpaths
    try:
        found = [target.inside(target.host_path(path)) for path in dbpaths if target.isdir(path)]
        # the directory holding a database file (or a link by that name, refused below)
        chosen = next((path for path in found if any(
            target.isfile(posixpath.join(path, name)) or target.islink(posixpath.join(path, name))
            for name in RPM_DB_FILES)), None)
        if chosen is not None:
            for name in target.listdir(chosen):
                if stat.S_ISLNK(target.lstat(posixpath.join(chosen, name)).st_mode):
                    raise ConfigError("%s/%s: is a symbolic link, which rpm would follow outside %s: "
                                      "the rpm database is not read" % (
                                          target.display(chosen), name, target.display("/")))
    except TargetError as exc:
        raise ConfigError(str(exc))
    return chosen


def _rpm_dbpaths_or_error(target):
    """``rpm_dbpaths(target)``, or the ConfigError it raised: the query
    raises it, saying why, while the format is still rpm."""
    try:
        return rpm_dbpaths(target)
    except ConfigError as exc:
        return exc


def package_format(target, dbpaths=None):
    """``deb``, ``rpm`` or None.  An empty dpkg status file beside an rpm
    database is dpkg installed on an rpm system (Fedora's and EPEL's
    dpkg.spec create it empty); a Debian system's lists dpkg itself.
    ``dbpaths``: what ``_rpm_dbpaths_or_error`` answered, if known."""
    dbpaths = _rpm_dbpaths_or_error(target) if dbpaths is None else dbpaths
    # rpm's macro files naming a database the query refuses still make it an rpm system
    rpm = isinstance(dbpaths, ConfigError) or any(target.isdir(path) for path in RPM_DBS + dbpaths)
    # a status file that is not a regular file is still dpkg's: its read says what it is
    if present(target, DPKG_STATUS) and not (rpm and target.isfile(DPKG_STATUS) and target.stat(DPKG_STATUS).st_size == 0):
        return "deb"
    return "rpm" if rpm else None


class Packages(object):
    """What is installed on ``target``; ``query(names)`` answers ``{name:
    version or None}``, or raises ConfigError when it cannot tell."""

    def __init__(self, target, module=None):
        self.target, self.module = target, module
        self._dbpaths = _rpm_dbpaths_or_error(target)   # the tree's rpm macro files, read once
        self.format = package_format(target, self._dbpaths)
        self._dpkg = None
        self._tree_rpm = {}   # a tree's answers: nothing installs into a tree during a run

    def query(self, wanted):
        if self.format == "deb":
            if self._dpkg is None:
                self._dpkg = dpkg_installed(self.target)
            return dict((name, self._dpkg.get(name)) for name in wanted)
        if self.format == "rpm":
            return self._rpm(wanted)
        raise ConfigError("%s: no package database (dpkg or rpm) found" % self.target.display("/"))

    def _rpm(self, wanted):
        rpm = self.module.get_bin_path("rpm") if self.module else None
        if not rpm:
            raise ConfigError("%s has an rpm database but there is no rpm command here to read it"
                              % self.target.display("/"))
        if self.target.live:
            return self._rpm_query([rpm], wanted)
        # the tree's own database, named: rpm's compiled-in one differs by host (Debian's
        # rpm reads ~/.rpmdb) and a missing one is created, in the tree, empty
        dbpaths = self._dbpaths
        if isinstance(dbpaths, ConfigError):
            raise dbpaths
        dbpath = rpm_dbpath(self.target, dbpaths)
        if dbpath is None:
            raise ConfigError("%s: no rpm database file (%s) in %s" % (
                self.target.display("/"), ", ".join(RPM_DB_FILES), " or ".join(dbpaths)))
        asked = [name for name in wanted if name not in self._tree_rpm]
        if asked:   # one copy of the database for the names not asked yet
            copy = tempfile.mkdtemp(prefix="guestready-gce-rpmdb-")
            try:
                copy_rpm_db(self.target, dbpath, copy)
                tree_files = set(os.listdir(copy))
                found = self._rpm_query([rpm, "--dbpath", copy], asked)
                # an rpm without the backend of the tree's database (Debian's and Ubuntu's have no
                # ndb, SUSE's Packages.db) makes a new, empty one of its own and answers from it that
                # nothing is installed, with no error (lib/backend/dbi.cc, dbDetectBackend)
                made = sorted(set(RPM_DB_FILES) & (set(os.listdir(copy)) - tree_files))
                if made:
                    raise ConfigError("%s: this machine's rpm has no backend for the database %s: it made an "
                                      "empty %s and read that, so what is installed is not known" % (
                                          self.target.display(dbpath), " ".join(sorted(set(RPM_DB_FILES) & tree_files)),
                                          made[0]))
                self._tree_rpm.update(found)
            finally:
                shutil.rmtree(copy, ignore_errors=True)
        return dict((name, self._tree_rpm[name]) for name in wanted)

    def _rpm_query(self, command, wanted):
        found = {}
        for name in wanted:
            # what provides the name, the package of that name included: SUSE's google-guest-oslogin
            # provides google-compute-engine-oslogin (openSUSE's google-guest-oslogin.spec)
            rc, out, err = self.module.run_command(
                command + ["-q", "--whatprovides", "--qf", "%{NAME} %{VERSION}-%{RELEASE}\\n", name])
            errors = [line for line in (err or "").splitlines() if line.startswith("error:")]
            if errors:
                raise ConfigError("rpm cannot read the package database of %s: %s" % (
                    self.target.display("/"), errors[-1]))
            found[name] = _provider_version(name, out) if rc == 0 else None
        return found


def copy_rpm_db(target, dbpath, copy):
    """Copy the regular files of the tree's database directory ``dbpath`` into
    the directory ``copy``, read through ``target`` (confined to its root).
    rpm is given the copy: even a query writes where the database is (a
    sqlite database in WAL mode gets its ``-shm`` and ``-wal`` files, bdb its
    ``__db.*`` environment), and an image that is only checked must not
    change.  A directory larger than RPM_DB_MAX_BYTES is a ConfigError."""
    left = RPM_DB_MAX_BYTES
    try:
        for name in target.listdir(dbpath):
            path = posixpath.join(dbpath, name)
            if not stat.S_ISREG(target.lstat(path).st_mode):
                continue
            with target.open(path) as source:
                with open(os.path.join(copy, name), "wb") as sink:
                    while True:
                        chunk = source.read(min(left + 1, 1 << 20))
                        if not chunk:
                            break
                        left -= len(chunk)
                        if left < 0:
                            raise ConfigError("%s: the rpm database holds more than %d MiB: not read" % (
                                target.display(dbpath), RPM_DB_MAX_BYTES >> 20))
                        sink.write(chunk)
    except TargetError as exc:
        raise ConfigError(str(exc))
    except (IOError, OSError) as exc:
        raise ConfigError("%s: cannot copy the rpm database to read it: %s" % (
            target.display(dbpath), exc.strerror or exc))


def _provider_version(name, out):
    """``VERSION-RELEASE`` of the package ``name`` in ``rpm -q --whatprovides``
    output (``NAME VERSION-RELEASE`` lines), else ``VERSION-RELEASE (NAME)``
    of the first package providing it; None without one."""
    providers = [line.split(" ", 1) for line in out.splitlines() if len(line.split(" ", 1)) == 2]
    for provider, version in providers:
        if provider == name:
            return version
    return "%s (%s)" % (providers[0][1], providers[0][0]) if providers else None


def install(module, package_format_name, names, update=True):
    """Install ``names`` with apt-get, dnf (yum) or zypper, after ``apt-get
    update`` when ``update``; returns ``(ok, output)``."""
    if package_format_name == "deb":
        apt = module.get_bin_path("apt-get")
        if not apt:
            return False, "no apt-get"
        env = {"DEBIAN_FRONTEND": "noninteractive"}
        # images ship without package lists: read the configured sources first
        if update:
            module.run_command([apt, "update"], environ_update=env)
        rc, out, err = module.run_command(
            [apt, "install", "-y", "--no-install-recommends", "-o", "Dpkg::Options::=--force-confold"] + list(names),
            environ_update=env)
        return rc == 0, (out + err)[-2000:]
    tool = module.get_bin_path("dnf") or module.get_bin_path("yum")
    if tool:
        rc, out, err = module.run_command([tool, "install", "-y"] + list(names))
        return rc == 0, (out + err)[-2000:]
    zypper = module.get_bin_path("zypper")   # SUSE; it installs a package providing the name, as dnf does
    if zypper:
        rc, out, err = module.run_command([zypper, "--non-interactive", "install"] + list(names))
        return rc == 0, (out + err)[-2000:]
    return False, "no dnf, yum or zypper"
