# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""/etc/fstab (fstab(5)): entries with their line numbers, and the edits
the GCE-* settings make, each keeping the original line behind a marker.

The entries are the ones boot mounts: systemd's fstab generator reads fstab
with glibc's getmntent() (src/fstab-generator/fstab-generator.c parse_fstab,
v239 to v257), not with libmount as mount(8) does, and where the two differ
(a line of two fields, a CRLF line's last field, escapes, long lines) it is
getmntent's reading that decides what boot waits for."""

import bisect
import re

from ansible_collections.guestready.gce.plugins.module_utils import bootdisk
from ansible_collections.guestready.gce.plugins.module_utils.configfiles import lines
from ansible_collections.guestready.gce.plugins.module_utils.target import NotUtf8, text_bytes

PATH = "/etc/fstab"
MARKER = "guestready.gce"
# kernel device nodes whose names depend on probe order and disk interface
DEVICE_NODE = re.compile(r"^/dev/(sd[a-z]+|vd[a-z]+|hd[a-z]+|xvd[a-z]+|nvme\d+n\d+)(p?\d+)?$")
# filesystem types on no block device (kernel pseudo filesystems, network shares)
PSEUDO = ("proc", "sysfs", "tmpfs", "devpts", "devtmpfs", "cgroup", "cgroup2", "securityfs",
          "debugfs", "tracefs", "mqueue", "hugetlbfs", "pstore", "efivarfs", "bpf", "none",
          "nfs", "nfs4", "cifs", "smb3", "9p", "fuse", "overlay", "autofs", "binfmt_misc",
          "configfs", "fusectl", "ramfs")
# filesystem types systemd's fstab generator mounts for remote-fs.target, a "fuse." prefix dropped
# (systemd fstype_is_network: the list v239 src/basic/mount-util.c has and every release to v257
# src/basic/mountpoint-util.c and filesystems.c "@network" keeps; ceph and smb3 came in v245)
NETWORK = ("afs", "cifs", "smbfs", "sshfs", "ncpfs", "ncp", "nfs", "nfs4", "gfs", "gfs2", "glusterfs",
           "pvfs2", "ocfs2", "lustre")


# glibc's decode_name (misc/mntent_r.c): only these four escapes, and "\\\\" for a backslash
_ESCAPES = {"\\040": " ", "\\011": "\t", "\\012": "\n", "\\134": "\\", "\\\\": "\\"}
_ESCAPE = re.compile(r"\\(?:040|011|012|134|\\)")


def unescape(field):
    """An fstab field as getmntent() decodes it: ``\\040`` (space), ``\\011``
    (tab), ``\\012`` (newline), ``\\134`` and ``\\\\`` (backslash); any other
    backslash stays as written."""
    return _ESCAPE.sub(lambda m: _ESCAPES[m.group(0)], field)


def mount_point(field):
    """The (unescaped) mount point as systemd's fstab generator makes it: a
    path is one with a slash (is_path), taken from / (the generator's working
    directory at boot: ``data/`` is /data), its ``.`` and empty components
    dropped and ``..`` going up (chase() of a path that does not exist yet);
    ``/boot/`` and ``//boot`` are /boot.  ``none``, ``swap`` stay as written."""
    if "/" not in field:
        return field
    parts = []
    for part in field.split("/"):
        if part == "..":
            parts = parts[:-1]
        elif part not in ("", "."):
            parts.append(part)
    return "/" + "/".join(parts)


class Entry(object):
    """One entry as getmntent() returns it: ``fields`` as written (escaped,
    for an edit to rewrite), the four that systemd reads decoded (a missing
    one empty) and ``passno`` as its sscanf() reads it."""

    def __init__(self, line, text, fields, passno=0, whole=True):
        self.line, self.text, self.fields, self.passno = line, text, fields, passno
        # False: getmntent() read the line only in part (a NUL, or longer than its buffer)
        self.whole = whole
        spec, where, vfstype, options = [unescape(field) for field in (fields + ["", "", ""])[:4]]
        self.spec, self.vfstype = spec, vfstype
        self.file = mount_point(where)
        self.options = options.split(",") if options else ["defaults"]

    @property
    def is_block(self):
        # a path in /dev is a device however many colons it holds (by-path names: pci-0000:00:04.0-scsi-0:0:2:0);
        # systemd's fstab generator waits for it (is_device_path); a colon elsewhere is a server's (host:/export)
        return self.vfstype not in PSEUDO and not self.spec.startswith(("//",)) and \
            (self.spec.startswith("/dev/") or ":" not in self.spec.split("=")[0])

    def has_option(self, *names):
        """Whether an option is one of ``names``, bare or with a value, as systemd's
        fstab_test_option matches it (src/shared/fstab-util.c fstab_filter_options)."""
        return any(o.split("=", 1)[0] in names or o in names for o in self.options)

    @property
    def holds_boot(self):
        return holds_boot(self.options)

    @property
    def is_network(self):
        # systemd src/fstab-generator/fstab-generator.c mount_is_network (v239 to v257)
        vfstype = self.vfstype[len("fuse."):] if self.vfstype.startswith("fuse.") else self.vfstype
        return self.has_option("_netdev") or vfstype in NETWORK

    @property
    def has_unit(self):
        """Whether systemd's fstab generator makes a unit of it: swap, or a
        mount on an absolute path (parse_fstab_one: "Mount point %s is not a
        valid path, ignoring."), but not of a tag valued ``..``: its link
        /dev/disk/by-uuid/.. is no unit name (unit_name_from_path()), and the
        generator leaves a unit without What= that nothing starts."""
        return (self.vfstype == "swap" or self.file.startswith("/")) and \
            not (bootdisk.tag_link(self.spec) or "").endswith("/..")

    @property
    def is_swap(self):
        return self.vfstype == "swap" or self.file in ("none", "swap")

    def device_node(self):
        """The kernel device name when the entry names one (/dev/sda1)."""
        return self.spec if DEVICE_NODE.match(self.spec) else None


def says(options, yes, no):
    """Whether the last of ``yes`` and ``no`` among ``options`` is ``yes``, as
    systemd's fstab_test_yes_no_option reads nofail/fail and noauto/auto
    (src/shared/fstab-util.h): "nofail,fail" waits for the disk."""
    for option in reversed(options):
        name = option.split("=", 1)[0]
        if name in (yes, no):
            return name == yes
    return False


def holds_boot(options):
    """Neither nofail nor noauto in force, the last of each pair winning."""
    return not says(options, "nofail", "fail") and not says(options, "noauto", "auto")


def boot_goes_on_without(item, mounts):
    """Why boot reaches its targets without this entry's disk, nofail or not, or None
    (``mounts``: ``other_mounts``, the points an automount must not sit below).
    systemd's fstab generator (src/fstab-generator/fstab-generator.c, parse_fstab_one and
    add_mount, v239 to v257) links a mount without nofail as required by local-fs.target,
    whose failure starts emergency.target (units/local-fs.target OnFailure=), but: a network
    mount (_netdev or a network type) by remote-fs.target, which has no OnFailure= and which
    multi-user.target only wants; with x-systemd.automount, the .automount unit instead, which
    waits for no device (src/core/automount.c: Triggers= the .mount only).  x-initrd.mount puts
    it in the initrd's initrd-fs.target, OnFailure=emergency.target too."""
    if item.has_option("x-initrd.mount"):
        return None
    # x-systemd.required-by= (v245 on) takes the place of the target: local-fs.target, say
    if item.is_network and not item.has_option("x-systemd.required-by"):
        why = "_netdev" if item.has_option("_netdev") else "%s, a network filesystem" % item.vfstype
        return "%s: required by remote-fs.target, whose failure starts no emergency mode" % why
    if not item.has_option("x-systemd.automount", "comment=systemd.automount"):
        return None
    # before v246 the .automount unit also carried x-systemd.requires= and -requires-mounts-for=
    # (Requires=); every release makes it require the mounts of its parent directory
    # (automount_add_mount_dependencies), which another fstab entry may leave failed
    if item.has_option("x-systemd.requires", "x-systemd.requires-mounts-for"):
        return None
    if item.file.startswith("/") and mounts.under(item.file.rsplit("/", 1)[0]):
        return None
    return "x-systemd.automount: local-fs.target requires only the automount point, which waits for no disk"


class MountPoints(object):
    """Mount points (not /), asked which of them a path is or lies below:
    only the prefixes of the path as long as some point are compared, so a
    long path or a long fstab stays linear."""

    def __init__(self, paths=()):
        self.points, self.lengths = set(), []
        for path in paths:
            self.add(path)

    def add(self, path):
        if path.startswith("/") and path != "/" and path not in self.points:
            self.points.add(path)
            index = bisect.bisect_left(self.lengths, len(path))
            if index == len(self.lengths) or self.lengths[index] != len(path):
                self.lengths.insert(index, len(path))

    def __bool__(self):
        return bool(self.points)

    def every_under(self, path):
        """The points ``path`` is or lies below, shortest first."""
        for end in self.lengths:
            if end > len(path):
                break
            if (end == len(path) or path[end] == "/") and path[:end] in self.points:
                yield path[:end]

    def under(self, path):
        """The shortest point ``path`` is or lies below, or None."""
        return next(self.every_under(path), None)


def other_mounts(entries, essential):
    """The mount points below which a mount needs another fstab line's
    mount first: all but swap and ``essential`` (the boot disk's own)."""
    return MountPoints(e.file for e in entries if not e.is_swap and e.file not in essential)


def required_mounts(item, points):
    """``[(what, point)]``: the mounts among ``points`` (MountPoints) that
    systemd makes this entry's mount unit require (src/core/mount.c,
    mount_add_mount_dependencies, v239 to v257): those above the directory it
    is mounted on, and those holding its source when that is a path (a bind
    mount's or a loop file's), each shortest first."""
    found = []
    if item.file.startswith("/") and item.file != "/":
        found.extend(("it is mounted below %s" % point, point) for point in points.every_under(item.file.rsplit("/", 1)[0]))
    source = item.spec
    if source.startswith("/") and not source.startswith("/dev/"):
        # a mount point bound onto itself needs only its own mount
        found.extend(("its source %s is on %s" % (source, point), point)
                     for point in points.every_under(mount_point(source)) if point != item.file)
    return found


def failing_with(entries, fallible):
    """``{entry: why}``: those of ``entries`` whose mount units fail when the
    mounts at the points ``fallible`` fail, because they require one of them
    (``required_mounts``) or an entry that fails in turn, in whatever order
    fstab lists them; ``why`` names the shortest failing mount each requires."""
    points = MountPoints(list(fallible) + [e.file for e in entries])
    waiting = {}
    for item in entries:
        for dummy, point in required_mounts(item, points):
            waiting.setdefault(point, []).append(item)
    failing, queue = MountPoints(fallible), list(fallible)
    found = set()
    while queue:   # each point is queued once (MountPoints.add keeps it once): a bind loop ends
        for item in waiting.pop(queue.pop(), ()):
            found.add(item)
            if item.file not in failing.points:
                failing.add(item.file)
                queue.append(item.file)
    return dict((item, required_mounts(item, failing)[0][0]) for item in found)


# glibc's getmntent() reads a line into a buffer of 4096 bytes (misc/mntent.c BUFFER_SIZE)
GETMNTENT_BUFFER = 4096
_BLANKS = re.compile("[ \t]+")
_BLANK = re.compile("[ \t]")
# sscanf(" %d %d ") after the fourth field: C isspace() skipped before each number
C_SPACE = " \t\n\v\f\r"
_FREQ_PASSNO = re.compile(r"[ \t\n\v\f\r]*[-+]?[0-9]+(?![0-9])[ \t\n\v\f\r]*([-+]?[0-9]+)")


def _c_int(digits):
    """A %d conversion's int: strtol()'s long, held at its limits, stored in an int."""
    value = max(-2 ** 63, min(2 ** 63 - 1, int(digits)))
    return (value + 2 ** 31) % 2 ** 32 - 2 ** 31


def _getmntent_lines(text):
    """``(line number, line, whole)`` of the lines getmntent() reads an entry from
    (glibc misc/mntent_r.c get_mnt_entry), in fgets() pieces of the file's
    bytes: a line ends at its first NUL, and one that fgets() did not read
    to its newline (longer than the buffer, or holding a NUL before it) is
    read on and forgotten up to the next newline that follows, with no
    blanks stripped at its end (``whole`` False); blank and comment lines
    skipped."""
    data = text_bytes(text)
    codec = ("latin-1", "strict") if isinstance(text, NotUtf8) else ("utf-8", "surrogateescape")
    pos, number, end = 0, 1, len(data)
    while pos < end:
        stop = data.find(b"\n", pos, pos + GETMNTENT_BUFFER - 1)
        stop = stop + 1 if stop >= 0 else min(end, pos + GETMNTENT_BUFFER - 1)
        piece, first, pos = data[pos:stop], number, stop
        line = piece.split(b"\0", 1)[0]
        whole = line == piece and (piece.endswith(b"\n") or pos == end)
        number += data.count(b"\n", pos - 1, pos)
        if line.endswith(b"\n"):
            line = line[:-1].rstrip(b" \t")
        else:
            # "Not the whole line was read.  Do it now but forget it.": pieces of 1023 bytes up to one
            # whose text (up to a NUL) holds a newline
            while pos < end:
                stop = data.find(b"\n", pos, pos + 1023)
                stop = stop + 1 if stop >= 0 else min(end, pos + 1023)
                piece, pos = data[pos:stop], stop
                number += data.count(b"\n", pos - 1, pos)
                if b"\n" in piece.split(b"\0", 1)[0]:
                    break
        line = line.lstrip(b" \t")
        if line and not line.startswith(b"#"):
            yield first, line.decode(*codec), whole


def _after_fourth(line):
    """What get_mnt_entry() gives sscanf() after the fourth field (the text
    past the blank that ended it), or None when a field ended the line."""
    rest = line
    for count in range(4):
        cut = _BLANK.search(rest)
        if not cut:
            return None
        rest = rest[cut.start() + 1:]
        if count < 3:
            rest = rest.lstrip(" \t")
    return rest


def parse(text):
    """fstab's entries as systemd's fstab generator gets them from glibc's
    getmntent(): fields split at spaces and tabs only (a no-break space or a
    form feed is part of a field), a missing field empty (a line of two
    fields is a mount of a filesystem type left to probe), and only the
    blanks before a line's newline stripped: a CRLF line's ``\r`` stays in
    its last field (an option "nofail\r" is no nofail).  An autofs entry
    with the option ``ignore`` is skipped, as getmntent() skips it.  passno:
    when nothing but C spaces follows the fourth field (a CRLF line's
    ``\r``), sscanf() converts nothing and returns EOF, and getmntent()
    leaves the previous entry's in place."""
    entries, passno = [], 0
    for number, line, whole in _getmntent_lines(text or ""):
        fields = [field for field in _BLANKS.split(line) if field]
        after = _after_fourth(line)
        if after is None:
            passno = 0
        elif after.strip(C_SPACE):
            freq_passno = _FREQ_PASSNO.match(after)
            passno = _c_int(freq_passno.group(1)) if freq_passno else 0
        entry = Entry(number, line, fields, passno, whole)
        if entry.vfstype == "autofs" and entry.has_option("ignore"):
            passno = 0   # the entry is cleared (memset) before the next is read
            continue
        entries.append(entry)
    return entries


def replace_lines(text, changes, rid):
    """``text`` with each ``{line number: new fields}`` applied; the old line
    stays, commented out behind the marker."""
    rows = lines(text, True)
    out = []   # one pass: inserting into the list per change moved its tail each time
    for number, old in enumerate(rows, 1):
        if number in changes:
            ending = "\n" if old.endswith("\n") else ""
            out += ["# %s replaced (%s): %s\n" % (MARKER, rid, old.rstrip("\n")), "\t".join(changes[number]) + ending]
        else:
            out.append(old)
    return "".join(out)


def with_option(entry, option):
    """The entry's fields with ``option`` added; a CRLF line's ``\r``, which
    getmntent() keeps in the last field, dropped from the options it ends
    (the new line ends at ``\n``: "defaults\r,nofail" would pass mount an
    option "defaults\r"); a missing type is "auto", which probes as an
    empty one does."""
    fields = list(entry.fields)
    if len(fields) == 4:
        fields[3] = fields[3].rstrip("\r")
    while len(fields) < 4:
        fields.append("auto" if len(fields) == 2 else "defaults")
    options = [o for o in fields[3].split(",") if o]
    fields[3] = ",".join(options + [option])
    return fields
