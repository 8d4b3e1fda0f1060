# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The partition-table reader: MBR (with extended/logical partitions) and GPT,
read from a raw disk as the firmware and the kernel read it.

Disks are hostile input: every offset and count is checked against the disk
before it is used, an extended-partition chain that loops or runs away ends
with a problem, a GPT whose CRC32s do not match is not trusted (the backup
header is tried), and nothing here raises on a malformed table: ``read_table``
returns what it found and a list of ``problems`` in words.

Layouts (UEFI Specification 2.10, section 5 "GUID Partition Table (GPT) Disk
Layout"; the MBR layout of the same section and of the Linux kernel's
block/partitions/msdos.c and efi.c)::

    LBA 0      MBR: 440 bytes of boot code, disk signature at 440, four
               16-byte entries at 446, 0x55 0xAA at 510
    LBA 1      GPT header "EFI PART" (primary); the backup is on the last LBA
    LBA 2..    GPT entry array (128 entries of 128 bytes by default)

``read_table(disk)`` returns a dict::

    kind         "mbr", "gpt" or None (no table)
    sector_size  512 (4096 for a GPT written for 4 KiB sectors)
    disk_id      MBR signature ("a1b2c3d4") or GPT disk GUID
    partitions   [{number, start, size (bytes), type, type_name, bootable,
                   name, uuid (the kernel's PARTUUID), logical}]
    problems     what makes the table unusable, in words
    warnings     what is odd but boots (a misplaced backup GPT, a stale GPT header behind an MBR)
    hybrid       a GPT whose MBR also describes partitions (hybrid MBR)
    mbr          the MBR facts (boot code, entries) even for a GPT disk
    gpt          header facts (revision, usable range, backup location)
"""

import binascii
import os
import struct
import uuid

SECTOR = 512
MAX_LOGICAL = 128         # extended boot records followed; the kernel stops at fewer (DISK_MAX_PARTS)
MAX_GPT_ENTRIES_BYTES = 4 * 1024 * 1024  # 32768 entries of 128 bytes: far beyond any real table
EXTENDED_TYPES = (0x05, 0x0F, 0x85)
PROTECTIVE = 0xEE
ZERO_GUID = "00000000-0000-0000-0000-000000000000"

MBR_TYPES = {
    0x01: "FAT12", 0x04: "FAT16 <32M", 0x05: "Extended", 0x06: "FAT16", 0x07: "NTFS/exFAT",
    0x0B: "W95 FAT32", 0x0C: "W95 FAT32 (LBA)", 0x0E: "W95 FAT16 (LBA)", 0x0F: "W95 Extended (LBA)",
    0x82: "Linux swap", 0x83: "Linux", 0x85: "Linux extended", 0x8E: "Linux LVM",
    0xA5: "FreeBSD", 0xEE: "GPT protective", 0xEF: "EFI System", 0xFD: "Linux RAID autodetect",
}

ESP_GUID = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
BIOS_BOOT_GUID = "21686148-6449-6E6F-744E-656564454649"
# the Discoverable Partitions Specification's root partition types by architecture
# (systemd sd-gpt.h SD_GPT_ROOT_X86_64, SD_GPT_ROOT_X86, SD_GPT_ROOT_ARM64)
DPS_ROOT_GUIDS = {"x86_64": "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709", "x86_32": "44479540-F297-41B2-9AF7-D131D5F0458A",
                  "arm64": "B921B045-1DF0-41C3-AF44-4C6F280D3FAE"}
GPT_TYPES = {
    ESP_GUID: "EFI System",
    BIOS_BOOT_GUID: "BIOS boot",
    "0FC63DAF-8483-4772-8E79-3D69D8477DE4": "Linux filesystem",
    DPS_ROOT_GUIDS["x86_64"]: "Linux root (x86-64)",
    DPS_ROOT_GUIDS["x86_32"]: "Linux root (x86)",
    DPS_ROOT_GUIDS["arm64"]: "Linux root (ARM-64)",
    "BC13C2FF-59E6-4262-A352-B275FD6F7172": "Linux extended boot",
    "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F": "Linux swap",
    "E6D6D379-F507-44C2-A23C-238F2A3DF928": "Linux LVM",
    "A19D880F-05FC-4D3B-A006-743F0F84911E": "Linux RAID",
    "CA7D7CCB-63ED-4C53-861C-1742536059CC": "Linux LUKS",
    "933AC7E1-2EB4-4F13-B844-0E14E2AEF915": "Linux home",
    "3B8F8425-20E0-4F3B-907F-1A25A76F98E8": "Linux server data",
    "8DA63339-0007-60C0-C436-083AC8230908": "Linux reserved",
    "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7": "Microsoft basic data",
    "E3C9E316-0B5C-4DB8-817D-F92DF00215AE": "Microsoft reserved",
    "DE94BBA4-06D1-4D40-A16A-BFD50179D6AC": "Windows recovery",
    "516E7CB4-6ECF-11D6-8FF8-00022D09712B": "FreeBSD",
    "6A898CC3-1DD2-11B2-99A6-080020736631": "ZFS (Solaris /usr)",
}
GPT_ATTR_LEGACY_BIOS_BOOTABLE = 1 << 2
# the Discoverable Partitions Specification's "do not mount automatically" flag (systemd sd-gpt.h SD_GPT_FLAG_NO_AUTO)
GPT_ATTR_NO_AUTO = 1 << 63


class Disk(object):
    """Random access to the bytes of a disk: a path or an open binary file."""

    def __init__(self, source, size=None):
        if isinstance(source, str):
            self._fd = os.open(source, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
            self._own = True
        else:
            self._fd = source.fileno()
            self._own = False
        self.size = size if size is not None else _size_of(self._fd)

    def read(self, offset, length):
        """``length`` bytes at ``offset``; short (or empty) past the end."""
        if offset < 0 or length <= 0 or offset >= self.size:
            return b""
        length = min(length, self.size - offset)
        chunks = []
        while length > 0:
            chunk = os.pread(self._fd, min(length, 1 << 20), offset)
            if not chunk:
                break
            chunks.append(chunk)
            offset += len(chunk)
            length -= len(chunk)
        return b"".join(chunks)

    def close(self):
        if self._own:
            os.close(self._fd)
            self._own = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class BytesDisk(object):
    """A disk held in memory (tests, small images)."""

    def __init__(self, data):
        self.data = data
        self.size = len(data)

    def read(self, offset, length):
        if offset < 0 or length <= 0:
            return b""
        return self.data[offset:offset + length]


def _size_of(fd):
    end = os.lseek(fd, 0, os.SEEK_END)
    os.lseek(fd, 0, os.SEEK_SET)
    return end


def guid_text(raw):
    """The on-disk (mixed-endian) GUID bytes as the usual upper-case text."""
    return str(uuid.UUID(bytes_le=bytes(raw))).upper()


def crc32(data):
    return binascii.crc32(data) & 0xFFFFFFFF


# --------------------------------------------------------------------------
# MBR
# --------------------------------------------------------------------------

def _mbr_entries(sector):
    entries = []
    for index in range(4):
        raw = sector[446 + 16 * index:446 + 16 * (index + 1)]
        status, ptype, start, count = raw[0], raw[4], struct.unpack("<I", raw[8:12])[0], \
            struct.unpack("<I", raw[12:16])[0]
        entries.append({"slot": index + 1, "status": status, "type": ptype, "start": start,
                        "sectors": count})
    return entries


def boot_code_facts(sector):
    """What the first 440 bytes of the MBR hold: nothing, GRUB's boot.img, or
    another loader.  GRUB 2's boot.img keeps the LBA of the next stage
    (core.img) at offset 0x5C (grub-core/boot/i386/pc/boot.S,
    GRUB_BOOT_MACHINE_KERNEL_SECTOR); compute-image-tools' import precheck
    looks for "GRUB" in the MBR (cli_tools/import_precheck/precheck/
    check_disks_linux.go)."""
    code = sector[:440]
    facts = {"present": any(code), "loader": None, "next_stage_lba": None}
    if not facts["present"]:
        return facts
    if b"GRUB" in code:
        facts["loader"] = "grub"
        facts["next_stage_lba"] = struct.unpack("<Q", sector[0x5C:0x64])[0]
    elif b"SYSLINUX" in code or b"Missing OS" in code or b"Boot error" in code:
        facts["loader"] = "syslinux"
    elif b"Invalid partition table" in code:
        facts["loader"] = "windows"
    else:
        facts["loader"] = "unknown"
    return facts


def read_mbr(disk, sector):
    """The MBR's partitions (primary, then logical from the extended chain)."""
    sectors = disk.size // SECTOR
    problems, partitions = [], []
    signature = struct.unpack("<I", sector[440:444])[0]
    disk_id = "%08x" % signature
    logical = 5  # numbered on across every extended partition, as the kernel does (msdos.c)
    for entry in _mbr_entries(sector):
        if entry["type"] == 0 or entry["sectors"] == 0:
            continue
        if entry["status"] not in (0x00, 0x80):
            problems.append("MBR entry %d has an invalid status byte 0x%02x" % (entry["slot"], entry["status"]))
        if entry["type"] in EXTENDED_TYPES:
            found = _logical(disk, entry["start"], entry["sectors"], disk_id, problems, logical)
            logical += len(found)
            partitions.extend(found)
            continue
        partitions.append(_mbr_partition(entry["slot"], entry, entry["start"], disk_id))
    _check_bounds(partitions, sectors * SECTOR, problems)
    partitions.sort(key=lambda p: p["number"])
    return disk_id, partitions, problems


def _mbr_partition(number, entry, start_lba, disk_id, logical=False):
    return {
        "number": number,
        "start": start_lba * SECTOR,
        "size": entry["sectors"] * SECTOR,
        "type": "0x%02x" % entry["type"],
        "type_name": MBR_TYPES.get(entry["type"], "unknown"),
        "bootable": entry["status"] == 0x80,
        "name": None,
        # what the kernel shows as PARTUUID for an MBR disk (block/partitions/msdos.c)
        "uuid": "%s-%02x" % (disk_id, number),
        "logical": logical,
    }


def _logical(disk, ext_start, ext_sectors, disk_id, problems, number=5):
    """Follow the chain of extended boot records (EBRs); the first logical
    partition found is ``number``."""
    found, seen, current = [], set(), ext_start
    ext_end = ext_start + ext_sectors
    while True:
        if current in seen:
            problems.append("the extended partition's chain of boot records loops back to LBA %d" % current)
            break
        if len(seen) >= MAX_LOGICAL:
            # records, not partitions: a chain of empty records through every sector is followed no further
            problems.append("more than %d extended boot records: the chain was not followed further"
                            % MAX_LOGICAL)
            break
        if not ext_start <= current < ext_end:
            problems.append("an extended boot record at LBA %d lies outside the extended partition" % current)
            break
        seen.add(current)
        ebr = disk.read(current * SECTOR, SECTOR)
        if len(ebr) < SECTOR or ebr[510:512] != b"\x55\xaa":
            problems.append("the extended boot record at LBA %d has no 0x55AA signature" % current)
            break
        first, link = _mbr_entries(ebr)[:2]
        if first["type"] and first["sectors"]:
            found.append(_mbr_partition(number, first, current + first["start"], disk_id, logical=True))
            number += 1
        if not link["type"] or not link["sectors"]:
            break
        current = ext_start + link["start"]
    return found


def _check_bounds(partitions, disk_bytes, problems):
    for part in partitions:
        if part["start"] + part["size"] > disk_bytes:
            problems.append("partition %d ends at byte %d, beyond the end of the disk (%d bytes)" % (
                part["number"], part["start"] + part["size"], disk_bytes))
        if part["start"] == 0:
            problems.append("partition %d starts at sector 0, over the partition table" % part["number"])
    ordered = sorted(partitions, key=lambda p: p["start"])
    for before, after in zip(ordered, ordered[1:]):
        if before["start"] + before["size"] > after["start"]:
            problems.append("partitions %d and %d overlap" % (before["number"], after["number"]))


# --------------------------------------------------------------------------
# GPT
# --------------------------------------------------------------------------

HEADER = struct.Struct("<8sIIIIQQQQ16sQIII")


def _gpt_header(disk, lba, sector_size):
    """The GPT header at ``lba`` and its entries, or (None, reason)."""
    raw = disk.read(lba * sector_size, sector_size)
    if len(raw) < HEADER.size or raw[:8] != b"EFI PART":
        return None, "no GPT header at LBA %d" % lba
    (sig, revision, header_size, header_crc, dummy, current, backup, first_usable, last_usable,
     disk_guid, entries_lba, count, entry_size, entries_crc) = HEADER.unpack(raw[:HEADER.size])
    if not HEADER.size <= header_size <= sector_size:
        return None, "GPT header at LBA %d has an invalid size %d" % (lba, header_size)
    check = raw[:16] + b"\x00\x00\x00\x00" + raw[20:header_size]
    if crc32(check) != header_crc:
        return None, "GPT header at LBA %d fails its CRC32 check" % lba
    if current != lba:
        return None, "GPT header at LBA %d says it is at LBA %d" % (lba, current)
    if entry_size < 128 or entry_size % 128 or count * entry_size > MAX_GPT_ENTRIES_BYTES:
        return None, "GPT header at LBA %d describes an impossible entry array (%d x %d bytes)" % (
            lba, count, entry_size)
    data = disk.read(entries_lba * sector_size, count * entry_size)
    if len(data) != count * entry_size:
        return None, "the GPT entry array of the header at LBA %d lies beyond the end of the disk" % lba
    if crc32(data) != entries_crc:
        return None, "the GPT entry array of the header at LBA %d fails its CRC32 check" % lba
    header = {"lba": lba, "revision": "%d.%d" % (revision >> 16, revision & 0xFFFF),
              "backup_lba": backup, "first_usable_lba": first_usable, "last_usable_lba": last_usable,
              "disk_guid": guid_text(disk_guid), "entries_lba": entries_lba, "entry_count": count,
              "entry_size": entry_size}
    return (header, data), None


def _gpt_partitions(data, entry_size, sector_size, first_usable, last_usable, problems):
    partitions = []
    for index in range(len(data) // entry_size):
        raw = data[index * entry_size:index * entry_size + 128]
        type_guid = guid_text(raw[0:16])
        if type_guid == ZERO_GUID:
            continue
        first, last, attributes = struct.unpack("<QQQ", raw[32:56])
        name = raw[56:128].decode("utf-16-le", "replace").split("\x00", 1)[0]
        number = index + 1
        if last < first:
            problems.append("GPT partition %d ends (LBA %d) before it starts (LBA %d)" % (number, last, first))
            continue
        if first < first_usable or last > last_usable:
            problems.append("GPT partition %d (LBA %d-%d) lies outside the usable range %d-%d" % (
                number, first, last, first_usable, last_usable))
        partitions.append({
            "number": number,
            "start": first * sector_size,
            "size": (last - first + 1) * sector_size,
            "type": type_guid,
            "type_name": GPT_TYPES.get(type_guid, "unknown"),
            "bootable": bool(attributes & GPT_ATTR_LEGACY_BIOS_BOOTABLE),
            "no_auto": bool(attributes & GPT_ATTR_NO_AUTO),
            "name": name,
            "uuid": guid_text(raw[16:32]),
            "logical": False,
        })
    return partitions


def read_gpt(disk):
    """``(facts, partitions, problems, warnings)`` of the GPT, or None when
    the disk has no GPT header at LBA 1 for 512- or 4096-byte sectors."""
    for sector_size in (SECTOR, 4096):
        if disk.read(sector_size, 8) != b"EFI PART":
            continue
        problems, warnings = [], []
        last_lba = disk.size // sector_size - 1
        primary, reason = _gpt_header(disk, 1, sector_size)
        backup = None
        if primary is None:
            problems.append("primary " + reason)
            # where the primary would have said; else the last LBA
            backup, backup_reason = _gpt_header(disk, last_lba, sector_size)
            if backup is None:
                problems.append("backup " + backup_reason)
                return {"sector_size": sector_size, "usable": False}, [], problems, warnings
            problems.append("the primary GPT is damaged: the backup GPT at the end of the disk was read")
            header, data = backup
        else:
            header, data = primary
            if header["backup_lba"] != last_lba:
                warnings.append(
                    "the backup GPT header should be on the disk's last LBA %d but the primary header "
                    "puts it at LBA %d (the disk was resized without moving it; `sgdisk -e` fixes "
                    "that)" % (last_lba, header["backup_lba"]))
            else:
                backup, backup_reason = _gpt_header(disk, last_lba, sector_size)
                if backup is None:
                    warnings.append("backup " + backup_reason)
        if header["last_usable_lba"] > last_lba or header["first_usable_lba"] > header["last_usable_lba"]:
            problems.append("the GPT's usable range (LBA %d-%d) does not fit the disk (last LBA %d)" % (
                header["first_usable_lba"], header["last_usable_lba"], last_lba))
        partitions = _gpt_partitions(data, header["entry_size"], sector_size, header["first_usable_lba"],
                                     header["last_usable_lba"], problems)
        _check_bounds(partitions, disk.size, problems)
        if header["entry_size"] != 128:
            # UEFI allows 128 x 2^n; Linux refuses any other than its struct (efi.c, is_gpt_valid)
            problems.append("the GPT's entries are %d bytes: Linux reads only 128-byte entries and "
                            "would see no partition" % header["entry_size"])
        facts = dict(header, sector_size=sector_size, usable=True, backup_ok=backup is not None)
        return facts, partitions, problems, warnings
    return None


# --------------------------------------------------------------------------
# the table
# --------------------------------------------------------------------------

def read_table(disk):
    """Everything about the disk's partition table (see the module doc)."""
    table = {"kind": None, "sector_size": SECTOR, "disk_id": None, "partitions": [],
             "problems": [], "warnings": [], "hybrid": False, "mbr": None, "gpt": None}
    if disk.size < SECTOR:
        table["problems"].append("the disk is %d bytes: smaller than one sector" % disk.size)
        return table
    sector = disk.read(0, SECTOR)
    has_mbr = sector[510:512] == b"\x55\xaa"
    entries = _mbr_entries(sector) if has_mbr else []
    used = [e for e in entries if e["type"] and e["sectors"]]
    protective = [e for e in used if e["type"] == PROTECTIVE]
    table["mbr"] = {"signature": has_mbr, "boot_code": boot_code_facts(sector),
                    "entries": used, "disk_id": "%08x" % struct.unpack("<I", sector[440:444])[0]}
    gpt = read_gpt(disk)
    # the kernel (block/partitions/efi.c, is_pmbr_valid) and UEFI firmware (EDK2's
    # PartitionDxe) read a GPT only behind a 0x55AA MBR with a 0xEE entry from LBA 1
    guarded = has_mbr and any(e["start"] == 1 for e in protective)
    others = [e for e in used if e["type"] != PROTECTIVE]
    if gpt is not None and not guarded and others and not protective:
        # an MBR disk with a stale GPT header left in LBA 1: the MBR is what boots
        table["warnings"].append("LBA 1 holds a GPT header, but the MBR has no protective (0xEE) entry: "
                                 "the kernel and the firmware ignore that GPT and read the MBR")
        gpt = None
    if gpt is not None:
        facts, partitions, problems, warnings = gpt
        table.update(kind="gpt", sector_size=facts["sector_size"], gpt=facts,
                     disk_id=facts.get("disk_guid"), partitions=partitions, problems=problems,
                     warnings=warnings)
        if not has_mbr:
            table["problems"].append("the GPT disk has no protective MBR (no 0x55AA signature in LBA 0): the "
                                     "kernel and the firmware ignore its GPT (`sgdisk -z` then rewriting the "
                                     "table, or `gdisk`'s recovery menu, writes one)")
        elif not guarded:
            table["problems"].append(
                "the GPT disk's MBR has no protective (0xEE) entry starting at LBA 1%s: the kernel and the "
                "firmware ignore its GPT" % (" (its 0xEE entry starts at LBA %d)" % protective[0]["start"]
                                             if protective else ""))
        if facts["sector_size"] != SECTOR:
            # Compute Engine disks have 512-byte logical sectors: LBA 1 is byte 512 there
            table["problems"].append(
                "the GPT is written for %d-byte sectors: on Compute Engine's disks (512-byte logical "
                "sectors) the kernel and the firmware look for it at byte 512 and find none; "
                "repartition the image with 512-byte sectors" % facts["sector_size"])
        table["hybrid"] = bool(protective) and len(used) > len(protective)
        if not facts.get("usable"):
            table["kind"] = None
        return table
    if protective:
        table["problems"].append("the MBR is a GPT protective MBR, but there is no valid GPT header at LBA 1")
        return table
    if not has_mbr:
        return table
    if not used and not table["mbr"]["boot_code"]["present"]:
        return table  # 0x55AA alone (a filesystem's boot sector, or an empty label)
    if _looks_like_boot_sector(sector) and not used:
        return table
    disk_id, partitions, problems = read_mbr(disk, sector)
    table.update(kind="mbr", disk_id=disk_id, partitions=partitions, problems=problems)
    return table


def _looks_like_boot_sector(sector):
    """A filesystem's own boot sector (FAT, NTFS) also ends with 0x55AA."""
    return sector[3:11] in (b"NTFS    ", b"MSDOS5.0", b"mkfs.fat", b"MSWIN4.1", b"EXFAT   ")


def find_partition(table, number):
    for part in table["partitions"]:
        if part["number"] == number:
            return part
    return None
