# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a partition holds, from its superblock: the filesystem (or container)
type, its UUID and its label, as ``blkid`` names them, read without mounting
anything and without any tool.

This is how a disk image's root filesystem is found by the UUID or LABEL its
``/etc/fstab`` names, and how an encrypted (LUKS) or LVM root is recognised
and named instead of mounted.  Magic numbers and offsets are those of the
kernel's on-disk formats (include/uapi/linux/magic.h, fs/ext4/ext4.h,
fs/xfs/libxfs/xfs_format.h, fs/btrfs/ (super at 64 KiB), fs/fat/, the LUKS1
and LUKS2 on-disk specifications, LVM2's label format, md's v0.90 and v1.x
superblocks) and util-linux's libblkid probes.

``probe(disk, offset, size)`` returns ``{type, uuid, label, version,
mountable, note, group}`` (``group``: an LVM volume group's name); ``type``
is None when nothing is recognised.
"""

import re
import struct

from ansible_collections.guestready.gce.plugins.module_utils.partitions import SECTOR

MOUNTABLE = ("ext2", "ext3", "ext4", "xfs", "btrfs", "vfat")
CONTAINERS = ("crypto_LUKS", "LVM2_member", "linux_raid_member")


def _uuid(raw):
    hexed = raw.hex()
    return "%s-%s-%s-%s-%s" % (hexed[0:8], hexed[8:12], hexed[12:16], hexed[16:20], hexed[20:32])


def _text(raw):
    return raw.split(b"\x00", 1)[0].decode("utf-8", "replace").strip() or None


def _result(fstype, uuid=None, label=None, version=None, note=None, group=None):
    return {"type": fstype, "uuid": uuid, "label": label, "version": version,
            "mountable": fstype in MOUNTABLE, "note": note, "group": group}


def not_probed(note):
    """The result for an area left unread, ``note`` saying why."""
    return _result(None, note=note)


def _ext(sb):
    compat, incompat, ro_compat = struct.unpack("<III", sb[92:104])
    # libblkid's probe_ext4 (superblocks/ext.c): ext4 is any feature ext3 does not know, beyond
    # filetype, recover, meta_bg and sparse_super, large_file, btree_dir (metadata_csum, dir_nlink...)
    if incompat & 0x8:  # journal_dev: an external journal, no filesystem (probe_jbd)
        return _result("jbd", _uuid(sb[104:120]), _text(sb[120:136]), note="ext3/ext4 external journal")
    if incompat & ~(0x2 | 0x4 | 0x10) or ro_compat & ~(0x1 | 0x2 | 0x4):
        fstype = "ext4"
    elif compat & 0x4:  # has_journal
        fstype = "ext3"
    else:
        fstype = "ext2"
    return _result(fstype, _uuid(sb[104:120]), _text(sb[120:136]))


def _fat(boot):
    if boot[82:90] == b"FAT32   ":
        serial, label, version = boot[67:71], boot[71:82], "FAT32"
    elif boot[54:62] in (b"FAT16   ", b"FAT12   ", b"FAT     "):
        serial, label, version = boot[39:43], boot[43:54], boot[54:62].decode().strip()
    else:
        return None
    number = struct.unpack("<I", serial)[0]
    label_text = _text(label)
    if label_text == "NO NAME":
        label_text = None
    return _result("vfat", "%04X-%04X" % (number >> 16, number & 0xFFFF), label_text, version)


def _luks(head):
    version = struct.unpack(">H", head[6:8])[0]
    uuid = _text(head[168:208])
    label = _text(head[24:72]) if version == 2 else None
    return _result("crypto_LUKS", uuid, label, str(version),
                   note="LUKS%d encrypted volume" % version)


def lvm_crc(data, crc=0xF597A6CF):
    """LVM2's label checksum (lib/misc/crc.c: CRC-32, initial 0xf597a6cf, no
    final inversion), over the label from its offset_xl field to the end of
    the sector."""
    for byte in bytearray(data):
        crc ^= byte
        for dummy in range(8):
            crc = (crc >> 1) ^ (0xEDB88320 if crc & 1 else 0)
    return crc


_VG_NAME = re.compile(rb"(?<![A-Za-z0-9+_.-])([A-Za-z0-9+_.-]{1,127}) \{[ \t\r\n]{0,64}id = \"")


def _lvm(disk, offset, size):
    for index in range(4):
        sector = disk.read(offset + index * SECTOR, SECTOR)
        if sector[0:8] == b"LABELONE" and sector[24:32] == b"LVM2 001" and \
                struct.unpack("<Q", sector[8:16])[0] == index and \
                struct.unpack("<I", sector[16:20])[0] == lvm_crc(sector[20:SECTOR]):
            raw = sector[32:64].decode("ascii", "replace")
            # as blkid shows it: 6-4-4-4-4-4-6
            pv_uuid = "-".join(raw[a:b] for a, b in ((0, 6), (6, 10), (10, 14), (14, 18), (18, 22), (22, 26), (26, 32)))
            # the text metadata starts with the volume group's name:  "vg0 {\nid = ..."
            metadata = disk.read(offset + 4096, min(size - 4096, 1024 * 1024)) if size > 4096 else b""
            # bounded (a volume group's name is at most 127 characters): "+" before
            # the literal backtracked quadratically over a long run of name
            # characters, hours for a hostile megabyte
            match = _VG_NAME.search(metadata)
            vg = match.group(1).decode("ascii") if match else None
            note = "LVM physical volume" + (" of volume group %r" % vg if vg else "")
            return _result("LVM2_member", pv_uuid, note=note, group=vg)
    return None


MD_MAGIC = 0xA92B4EFC


def _md(disk, offset, size):
    for where in (4096, 0):  # v1.2 and v1.1
        raw = disk.read(offset + where, 32)
        if len(raw) >= 32 and struct.unpack("<I", raw[0:4])[0] == MD_MAGIC:
            array_uuid = disk.read(offset + where + 16, 16)
            return _result("linux_raid_member", _uuid(array_uuid), note="Linux software RAID (md) member")
    if size >= 65536 * 2:  # v0.90: 64 KiB aligned, 64 KiB before the end
        where = (size & ~65535) - 65536
        raw = disk.read(offset + where, 4)
        if len(raw) == 4 and struct.unpack("<I", raw)[0] == MD_MAGIC:
            return _result("linux_raid_member", note="Linux software RAID (md) member, v0.90")
    return None


class _Area(object):
    """The ``size`` bytes of ``disk`` from ``offset``, read as the disk reads
    (short or empty past their end): what lies after a partition is the next
    one's, and a superblock there is no filesystem of this one (libblkid
    reads a partition through a probe of its size: probe.c
    blkid_probe_get_buffer() refuses a read past it)."""

    def __init__(self, disk, offset, size):
        self.disk, self.end = disk, offset + max(size, 0)

    def read(self, offset, length):
        return self.disk.read(offset, min(length, self.end - offset))


def probe(disk, offset, size):
    """Recognise what lies at ``offset`` (``size`` bytes) of ``disk``."""
    disk = _Area(disk, offset, size)
    head = disk.read(offset, 4096)
    if len(head) < SECTOR:
        return _result(None, note="too small to hold a filesystem")
    if head[0:6] == b"LUKS\xba\xbe":
        return _luks(head)
    if head[0:4] == b"XFSB":
        return _result("xfs", _uuid(head[32:48]), _text(head[108:120]))
    if head[0:4] == b"hsqs":
        return _result("squashfs", note="read-only squashfs image")
    if head[3:11] == b"NTFS    ":
        return _result("ntfs")
    sb = disk.read(offset + 1024, 1024)
    if len(sb) >= 136 and sb[56:58] == b"\x53\xef":
        return _ext(sb)
    btrfs = disk.read(offset + 0x10000, 0x12B + 256)
    if len(btrfs) >= 0x12B and btrfs[64:72] == b"_BHRfS_M":
        return _result("btrfs", _uuid(btrfs[32:48]), _text(btrfs[0x12B:0x12B + 256]))
    if head[510:512] == b"\x55\xaa":
        fat = _fat(head)
        if fat:
            return fat
    for page in (4096, 8192, 16384, 65536):
        if disk.read(offset + page - 10, 10) in (b"SWAPSPACE2", b"SWAP-SPACE"):
            raw = disk.read(offset + 1024, 44)
            return _result("swap", _uuid(raw[12:28]) if len(raw) >= 28 else None,
                           _text(raw[28:44]) if len(raw) >= 44 else None)
    found = _lvm(disk, offset, size) or _md(disk, offset, size)
    if found:
        return found
    if disk.read(offset + 0x8001, 5) == b"CD001":
        return _result("iso9660", note="ISO 9660 (CD/DVD) filesystem")
    return _result(None)
