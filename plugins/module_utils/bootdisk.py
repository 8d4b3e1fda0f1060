# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which whole disks a running system's filesystems are on (GCE-FSTAB-NOFAIL:
an /etc/fstab entry on the disk that holds ``/`` is the boot disk's own and
needs no ``nofail``).

Read only: ``/proc/self/mountinfo`` for the device number of ``/``, the
``/dev/disk/by-*`` links udev makes for an fstab name, and sysfs
(``/sys/dev/block/MAJ:MIN``, ``/sys/class/block/<name>``: a partition has a
``partition`` file and sits in its disk's directory; device-mapper and md
list what they are built on in ``slaves/``).  Every answer that cannot be
proven is None: the caller keeps judging as if the entry were another disk's.
The three paths are parameters so that tests give a fake tree.

``ImageDisk`` answers the same questions for the root of a disk image
(disk_image): on Compute Engine the whole image becomes the boot disk, so an
entry naming one of the image's partitions is the boot disk's own.
"""

import os
import re

LIVE_SYS, LIVE_DEV, LIVE_MOUNTINFO = "/sys", "/dev", "/proc/self/mountinfo"
# fstab(5) tags and the udev links systemd's fstab generator waits for
TAGS = {"UUID": "by-uuid", "PARTUUID": "by-partuuid", "LABEL": "by-label", "PARTLABEL": "by-partlabel"}
NAME = re.compile(r"^[A-Za-z0-9._:+-]+$")
NUMBER = re.compile(r"^\d+:\d+$")
MAX_DEPTH = 8   # device-mapper over md over partitions, and some more
# seq_path() / mangle(): the kernel writes a space, tab, newline and backslash in a path of
# /proc/self/mountinfo and /proc/swaps as \ooo
_MANGLED = re.compile(rb"\\([0-7]{3})")
LINKS = dict((link, tag) for tag, link in TAGS.items())
IMAGE = "the disk image"
# what blkid reads no names inside (the filesystems in them have UUIDs and labels too)
CONTAINERS = ("crypto_LUKS", "LVM2_member", "linux_raid_member")


def _udev_escape(value):
    """A tag's value as udev names its link and systemd's fstab generator
    waits for it (encode_devnode_name()): a character of valid UTF-8 that
    systemd deems one (unichar_is_valid(): no surrogate, no U+FDD0..U+FDEF,
    no U+xFFFE or U+xFFFF) and ASCII letters, digits and ``#+-.:=@_`` kept,
    every other byte as ``\\xNN``.  A name that is not UTF-8 keeps its bytes
    (``os.fsdecode``)."""
    data, out, index = value.encode("utf-8", "surrogateescape"), [], 0
    while index < len(data):
        byte = data[index]
        size = 1 if byte < 0x80 else 2 if byte < 0xe0 else 3 if byte < 0xf0 else 4
        try:
            char = data[index:index + size].decode("utf-8")
        except UnicodeDecodeError:
            char = ""
        code = ord(char) if len(char) == 1 else None
        if code is not None and (code >= 0x80 and not 0xfdd0 <= code <= 0xfdef and code & 0xfffe != 0xfffe
                                 or code < 0x80 and (char.isalnum() or char in "#+-.:=@_")):
            out.append(data[index:index + size])
            index += size
        else:
            out.append(b"\\x%02x" % byte)
            index += 1
    return os.fsdecode(b"".join(out))


def tag_value(spec):
    """``(tag, value)`` of ``TAG=value`` as systemd's fstab generator, mount and the initramfs
    read it (fstab_node_to_udev_node(): one of the four tags, in upper case only, its value
    unquoted of one matching pair of quotes), or None for any other spec."""
    tag, equals, value = spec.partition("=")
    if not equals or tag not in TAGS:
        return None
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    return tag, value


def tag_link(spec):
    """The udev link systemd's fstab generator mounts for ``TAG=value``
    (``tag_value``), or None for any other spec."""
    found = tag_value(spec)
    return None if found is None else "/dev/disk/%s/%s" % (TAGS[found[0]], _udev_escape(found[1]))


def _udev_unescape(name):
    """A /dev/disk/by-* link's name as the tag's value (the inverse of ``_udev_escape``)."""
    try:
        data = name.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:   # a lone surrogate no file name decodes to: no value
        return None
    raw = re.sub(br"\\x([0-9a-fA-F]{2})", lambda m: bytes([int(m.group(1), 16)]), data)
    return raw.decode("utf-8", "replace")


def _tag(spec):
    """``(tag, value)`` of an fstab device named by a tag or its udev link, as
    systemd's fstab generator reads it (a tag as its link: ``tag_link``; the
    link's name taken verbatim, so case counts), or None (kernel names,
    device-mapper, by-id); ``(tag, None)`` for a link name udev gives no
    value."""
    link = tag_link(spec) or spec
    parts = link[len("/dev/disk/"):].split("/") if link.startswith("/dev/disk/") else []
    if len(parts) != 2 or parts[0] not in LINKS:
        return None
    tag, value = LINKS[parts[0]], _udev_unescape(parts[1])
    if value and _udev_escape(value) != parts[1]:
        # a name udev makes for no value (/dev/disk/by-label/A\x41: label "AA" is linked as
        # "AA"; \x2F, an invalid byte): no device ever appears there
        return tag, None
    return (tag, value) if value else None


def unmangle(field):
    """A path field (bytes) of mountinfo or /proc/swaps as the path it is:
    octal escapes undone, decoded as ``os.listdir`` decodes names (a name
    that is not UTF-8 keeps its bytes: ``os.fsdecode``)."""
    return os.fsdecode(_MANGLED.sub(lambda found: bytes([int(found.group(1), 8)]), field))


def mounts(mountinfo=LIVE_MOUNTINFO):
    """``[(major:minor, mount point)]`` of a mountinfo file (proc(5)), in
    its order (a later mount covers an earlier one at the same point).
    OSError when it cannot be read."""
    with open(mountinfo, "rb") as handle:
        data = handle.read()
    found = []
    for line in data.split(b"\n"):
        fields = line.split(b" ")
        if len(fields) > 4:
            found.append((fields[2].decode("ascii", "replace"), unmangle(fields[4])))
    return found


class ImageDisk(object):
    """The boot disk a disk image becomes: its partitions' names as blkid
    gives them to udev, which makes the /dev/disk/by-* links systemd waits
    for (60-persistent-storage.rules).  ``parts``: imagefile's partitions,
    each with its ``filesystem`` (filesystems.probe: UUIDs in blkid's case,
    lower case but FAT's upper-case ABCD-1234)."""

    def __init__(self, parts):
        self.names, self.opaque = set(), False
        for part in parts:
            fs = part.get("filesystem") or {}
            # libblkid prints a GPT GUID in lower case (blkid_unparse_uuid) and an MBR PARTUUID
            # as <disk id>-<nn>, none when the disk id is zero (partitions.c, blkid_partition_gen_uuid)
            if part.get("uuid") and not part["uuid"].startswith("00000000-"):
                self.names.add(("PARTUUID", part["uuid"].lower()))
            if part.get("name"):
                self.names.add(("PARTLABEL", part["name"]))
            if fs.get("type") in CONTAINERS:
                self.opaque = True
                continue
            if fs.get("uuid"):
                self.names.add(("UUID", fs["uuid"]))
            if fs.get("label"):
                self.names.add(("LABEL", fs["label"]))

    def root_disks(self):
        return {IMAGE}

    def spec_disks(self, spec):
        """``{IMAGE}`` for a name of one of the image's partitions, an empty set for
        a tag naming none of them (another disk's), None when it cannot be told: a
        kernel name (/dev/sdb2 is the image's on one machine and not on another),
        device-mapper, or a filesystem name when a container hides the image's."""
        found = _tag(spec)
        if found is None:
            return None
        if found in self.names:
            return {IMAGE}
        return None if self.opaque and found[0] in ("UUID", "LABEL") else set()

    def on_boot_disk(self, spec):
        return bool(self.spec_disks(spec))


class BootDisk(object):
    def __init__(self, sys_root=None, dev_root=None, mountinfo=None):
        self.sys = sys_root or LIVE_SYS
        self.dev = dev_root or LIVE_DEV
        self.mountinfo = mountinfo or LIVE_MOUNTINFO
        self._root = False

    def _disks_of(self, name, depth=0):
        """The set of whole disks the block device ``name`` is on, or None."""
        if not NAME.match(name) or depth > MAX_DEPTH:
            return None
        link = os.path.join(self.sys, "class", "block", name)
        if not os.path.lexists(link):
            return None
        path = os.path.realpath(link)
        if os.path.isfile(os.path.join(path, "partition")):
            parent = os.path.basename(os.path.dirname(path))
            return {parent} if os.path.isdir(os.path.join(self.sys, "block", parent)) else None
        try:
            slaves = sorted(os.listdir(os.path.join(path, "slaves")))
        except OSError:
            slaves = []
        if slaves:
            disks = set()
            for slave in slaves:
                found = self._disks_of(slave, depth + 1)
                if not found:
                    return None
                disks |= found
            return disks
        return {name} if os.path.isdir(os.path.join(self.sys, "block", name)) else None

    def root_disks(self):
        """The whole disks under ``/`` (None when not a block device: btrfs, overlay, NFS...)."""
        if self._root is False:
            self._root = None
            number = None
            try:
                for device, point in mounts(self.mountinfo):
                    if point == "/":
                        number = device   # the last one: what is mounted over the others
            except (IOError, OSError):
                number = None
            if number and NUMBER.match(number):
                link = os.path.join(self.sys, "dev", "block", number)
                if os.path.lexists(link):
                    self._root = self._disks_of(os.path.basename(os.path.realpath(link)))
        return self._root

    def spec_disks(self, spec):
        """The whole disks of an fstab device (``UUID=...``, ``/dev/...``), or None."""
        if "=" in spec and not spec.startswith("/"):
            # unquoted as systemd unquotes it: one matching pair of " or ' (LABEL="data is no LABEL=data)
            link = tag_link(spec)
            if link is None or link.endswith("/"):
                return None
            path = os.path.join(self.dev, link[len("/dev/"):])
        elif spec.startswith("/dev/"):
            path = os.path.join(self.dev, spec[len("/dev/"):])
        else:
            return None
        if not os.path.lexists(path):
            return None
        real = os.path.realpath(path)
        if not real.startswith(os.path.realpath(self.dev) + "/"):
            return None
        return self._disks_of(os.path.basename(real))   # the kernel's name: /dev/sda3, /dev/dm-0

    def on_boot_disk(self, spec):
        """True when every disk the entry is on holds ``/`` too: proven the boot disk's own."""
        root = self.root_disks()
        if not root:
            return False
        disks = self.spec_disks(spec)
        return bool(disks) and disks <= root
