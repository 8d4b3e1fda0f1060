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
"""

import os
import re

LIVE_SYS, LIVE_DEV, LIVE_MOUNTINFO = "/sys", "/dev", "/proc/self/mountinfo"
# fstab(5) tags and the udev links systemd's fstab generator waits for
TAGS = {"UUID": "by-uuid", "PARTUUID": "by-partuuid", "LABEL": "by-label", "PARTLABEL": "by-partlabel"}
NAME = re.compile(r"^[A-Za-z0-9._:+-]+$")
NUMBER = re.compile(r"^\d+:\d+$")
MAX_DEPTH = 8   # device-mapper over md over partitions, and some more


def _udev_escape(value):
    """A tag's value as udev names its link (udev_encode_string: unsafe bytes as \\xNN)."""
    out = []
    for char in value:
        if char.isalnum() or ord(char) >= 128 or char in "#+-.:=@_":   # udev keeps valid UTF-8
            out.append(char)
        else:
            out.extend("\\x%02x" % byte for byte in char.encode("utf-8"))
    return "".join(out)


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
                with open(self.mountinfo) as handle:
                    for line in handle:
                        fields = line.split()
                        if len(fields) > 4 and fields[4] == "/":
                            number = fields[2]   # the last one: what is mounted over the others
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
            tag, value = spec.split("=", 1)
            if tag not in TAGS or not value:
                return None
            value = value.strip('"')
            path = os.path.join(self.dev, "disk", TAGS[tag], _udev_escape(value))
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
