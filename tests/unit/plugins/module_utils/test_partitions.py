"""The partition-table reader against tables sfdisk writes, and against
hostile ones written byte by byte."""

import binascii
import struct

import pytest
from disktools import MIB, flip_at, sfdisk, sfdisk_json, sparse_file, write_at

from ansible_collections.guestready.gce.plugins.module_utils import partitions as pt


def read(path):
    with pt.Disk(str(path)) as disk:
        return pt.read_table(disk)


def same_as_sfdisk(path, table):
    """Every partition sfdisk lists, with the same start, size, type and id."""
    theirs = sfdisk_json(path)
    sector = theirs.get("sectorsize", 512)
    # sfdisk lists the extended container too; it holds partitions, it is not one
    listed = [p for p in theirs["partitions"] if p["type"] not in ("5", "f", "85")]
    assert len(listed) == len(table["partitions"])
    for mine, their in zip(table["partitions"], listed):
        assert their["node"].endswith(str(mine["number"]))
        assert mine["start"] == their["start"] * sector
        assert mine["size"] == their["size"] * sector
        if table["kind"] == "gpt":
            assert mine["type"] == their["type"].upper()
            assert mine["uuid"] == their["uuid"].upper()
        else:
            assert int(mine["type"], 16) == int(their["type"], 16)
            assert mine["bootable"] == bool(their.get("bootable"))


def test_mbr_with_logical_partitions(tmp_path):
    disk = sparse_file(tmp_path / "mbr.raw", 256 * MIB)
    sfdisk(disk, "label: dos\nlabel-id: 0x1234abcd\n,32M,83,*\n,32M,82\n,,E\n,16M,83\n,16M,8e\n,,83\n")
    table = read(disk)
    assert table["kind"] == "mbr" and not table["problems"] and table["disk_id"] == "1234abcd"
    numbers = [p["number"] for p in table["partitions"]]
    assert numbers == [1, 2, 5, 6, 7], "the extended container is not a partition; logicals start at 5"
    assert table["partitions"][0]["bootable"] and table["partitions"][0]["uuid"] == "1234abcd-01"
    assert [p["logical"] for p in table["partitions"]] == [False, False, True, True, True]
    assert table["partitions"][3]["type_name"] == "Linux LVM"
    same_as_sfdisk(disk, table)


def test_gpt_with_bios_boot_esp_and_root(tmp_path):
    disk = sparse_file(tmp_path / "gpt.raw", 512 * MIB)
    sfdisk(disk, "label: gpt\nsize=1M, type=21686148-6449-6E6F-744E-656564454649\n"
                 "size=100M, type=U, name=EFI\ntype=L, name=root\n")
    table = read(disk)
    assert table["kind"] == "gpt" and not table["problems"] and not table["warnings"]
    assert [p["type_name"] for p in table["partitions"]] == ["BIOS boot", "EFI System", "Linux filesystem"]
    assert table["partitions"][2]["name"] == "root"
    assert table["gpt"]["backup_ok"] and table["gpt"]["backup_lba"] == 512 * MIB // 512 - 1
    assert table["mbr"]["entries"][0]["type"] == 0xEE and not table["hybrid"]
    same_as_sfdisk(disk, table)


def test_gpt_legacy_bios_bootable_attribute(tmp_path):
    disk = sparse_file(tmp_path / "attr.raw", 64 * MIB)
    sfdisk(disk, "label: gpt\ntype=L, attrs=LegacyBIOSBootable\n")
    assert read(disk)["partitions"][0]["bootable"] is True


def test_damaged_primary_gpt_falls_back_to_the_backup(tmp_path):
    disk = sparse_file(tmp_path / "damaged.raw", 64 * MIB)
    sfdisk(disk, "label: gpt\n,10M,L\n,,L\n")
    flip_at(disk, 512 + 60)  # the disk GUID: the header CRC no longer matches
    table = read(disk)
    assert table["kind"] == "gpt" and len(table["partitions"]) == 2
    assert any("primary GPT header at LBA 1 fails its CRC32" in p for p in table["problems"])
    assert any("backup GPT at the end of the disk was read" in p for p in table["problems"])


def test_damaged_entry_array_and_backup_is_no_table(tmp_path):
    disk = sparse_file(tmp_path / "both.raw", 64 * MIB)
    sfdisk(disk, "label: gpt\n,,L\n")
    write_at(disk, 2 * 512 + 40, b"\x01")          # primary entry array
    flip_at(disk, 64 * MIB - 512 + 60)  # backup header (its disk GUID)
    table = read(disk)
    assert table["kind"] is None and table["partitions"] == []
    assert any("entry array" in p and "CRC32" in p for p in table["problems"])


def test_grown_disk_keeps_its_partitions_and_warns_about_the_backup(tmp_path):
    disk = sparse_file(tmp_path / "grown.raw", 64 * MIB)
    sfdisk(disk, "label: gpt\n,,L\n")
    with open(disk, "r+b") as handle:
        handle.truncate(128 * MIB)  # `qemu-img resize` without `sgdisk -e`
    table = read(disk)
    assert table["kind"] == "gpt" and not table["problems"]
    assert any("sgdisk -e" in w for w in table["warnings"])


def test_partition_beyond_the_end_and_overlaps(tmp_path):
    disk = sparse_file(tmp_path / "bad.raw", 8 * MIB)
    mbr = bytearray(512)
    mbr[446:462] = struct.pack("<BBBBBBBBII", 0x80, 0, 0, 0, 0x83, 0, 0, 0, 2048, 20000)
    mbr[462:478] = struct.pack("<BBBBBBBBII", 0, 0, 0, 0, 0x83, 0, 0, 0, 4096, 100)
    mbr[510:512] = b"\x55\xaa"
    write_at(disk, 0, bytes(mbr))
    table = read(disk)
    assert table["kind"] == "mbr"
    assert any("beyond the end of the disk" in p for p in table["problems"])
    assert any("overlap" in p for p in table["problems"])


def test_a_looping_extended_chain_ends(tmp_path):
    disk = sparse_file(tmp_path / "loop.raw", 16 * MIB)
    mbr = bytearray(512)
    mbr[446:462] = struct.pack("<BBBBBBBBII", 0, 0, 0, 0, 0x05, 0, 0, 0, 2048, 20000)
    mbr[510:512] = b"\x55\xaa"
    ebr = bytearray(512)
    ebr[446:462] = struct.pack("<BBBBBBBBII", 0, 0, 0, 0, 0x83, 0, 0, 0, 63, 100)
    ebr[462:478] = struct.pack("<BBBBBBBBII", 0, 0, 0, 0, 0x05, 0, 0, 0, 0, 200)  # points back at itself
    ebr[510:512] = b"\x55\xaa"
    write_at(disk, 0, bytes(mbr))
    write_at(disk, 2048 * 512, bytes(ebr))
    table = read(disk)
    assert [p["number"] for p in table["partitions"]] == [5]
    assert any("loops back" in p for p in table["problems"])


def test_a_chain_of_empty_extended_records_is_bounded(tmp_path):
    # every record links to the next sector and holds no partition: the limit
    # counted partitions found, so the chain was followed through the whole disk
    disk = sparse_file(tmp_path / "chain.raw", 16 * MIB)
    mbr = bytearray(512)
    mbr[446:462] = struct.pack("<BBBBBBBBII", 0, 0, 0, 0, 0x05, 0, 0, 0, 2048, 20000)
    mbr[510:512] = b"\x55\xaa"
    write_at(disk, 0, bytes(mbr))
    for index in range(pt.MAX_LOGICAL + 10):
        ebr = bytearray(512)
        ebr[462:478] = struct.pack("<BBBBBBBBII", 0, 0, 0, 0, 0x05, 0, 0, 0, index + 1, 1)
        ebr[510:512] = b"\x55\xaa"
        write_at(disk, (2048 + index) * 512, bytes(ebr))
    table = read(disk)
    assert table["partitions"] == []
    assert "more than %d extended boot records: the chain was not followed further" % pt.MAX_LOGICAL \
        in table["problems"]


def test_logical_partitions_of_two_extended_partitions_are_numbered_on(tmp_path):
    # the kernel numbers the logical partitions of every extended partition in
    # one sequence (block/partitions/msdos.c): /dev/sda5, then sda6; two "5"s
    # made an fstab's /dev/sda6 match nothing and its sda5 two partitions
    disk = sparse_file(tmp_path / "two.raw", 32 * MIB)
    mbr = bytearray(512)
    mbr[446:462] = struct.pack("<BBBBBBBBII", 0, 0, 0, 0, 0x05, 0, 0, 0, 2048, 20000)
    mbr[462:478] = struct.pack("<BBBBBBBBII", 0, 0, 0, 0, 0x05, 0, 0, 0, 30000, 20000)
    mbr[510:512] = b"\x55\xaa"
    write_at(disk, 0, bytes(mbr))
    for start in (2048, 30000):
        ebr = bytearray(512)
        ebr[446:462] = struct.pack("<BBBBBBBBII", 0, 0, 0, 0, 0x83, 0, 0, 0, 2048, 1000)
        ebr[510:512] = b"\x55\xaa"
        write_at(disk, start * 512, bytes(ebr))
    table = read(disk)
    assert [(p["number"], p["start"] // 512) for p in table["partitions"]] == [(5, 4096), (6, 32048)]
    assert table["problems"] == []


def gpt_disk(last_usable, count, entry_size, entries=b""):
    """A 101-sector disk: protective MBR, a GPT header at LBA 1 (CRCs right),
    ``entries`` from LBA 2."""
    header = bytearray(512)
    header[0:92] = struct.pack("<8sIIIIQQQQ16sQIII", b"EFI PART", 0x10000, 92, 0, 0, 1, 100, 34, last_usable,
                               b"\x00" * 16, 2, count, entry_size, binascii.crc32(bytes(entries)) & 0xFFFFFFFF)
    header[16:20] = struct.pack("<I", binascii.crc32(bytes(header[:92])) & 0xFFFFFFFF)
    data = bytearray(101 * 512)
    data[510:512] = b"\x55\xaa"
    data[446 + 4] = 0xEE
    data[446 + 8:446 + 16] = struct.pack("<II", 1, 100)
    data[512:1024] = header
    data[1024:1024 + len(entries)] = entries
    return pt.BytesDisk(bytes(data))


def test_impossible_entry_array_is_refused_without_reading_it():
    table = pt.read_table(gpt_disk(60, 0xFFFFFFFF, 128))
    assert table["kind"] is None
    assert any("impossible entry array" in p for p in table["problems"])


def test_gpt_entries_linux_does_not_read_are_a_problem():
    # 256-byte entries: valid for UEFI, refused by the kernel's GPT reader
    entries = bytearray(4 * 256)
    entries[0:16] = b"\xaf\x3d\xc6\x0f\x83\x84\x72\x47\x8e\x79\x3d\x69\xd8\x47\x7d\xe4"  # Linux data
    entries[16:32] = b"\x01" * 16
    entries[32:48] = struct.pack("<QQ", 40, 90)
    table = pt.read_table(gpt_disk(95, 4, 256, bytes(entries)))
    assert table["kind"] == "gpt" and [p["start"] for p in table["partitions"]] == [40 * 512]
    assert "the GPT's entries are 256 bytes: Linux reads only 128-byte entries and would see no partition" \
        in table["problems"]


def test_no_table_protective_without_gpt_and_boot_sectors():
    assert pt.read_table(pt.BytesDisk(b"\x00" * 4096))["kind"] is None
    assert pt.read_table(pt.BytesDisk(b"\x00" * 100))["problems"]
    protective = bytearray(4096)
    protective[446 + 4] = 0xEE
    protective[446 + 12:446 + 16] = struct.pack("<I", 7)
    protective[510:512] = b"\x55\xaa"
    table = pt.read_table(pt.BytesDisk(bytes(protective)))
    assert table["kind"] is None and "no valid GPT header" in table["problems"][0]
    fat = bytearray(4096)
    fat[3:11] = b"mkfs.fat"
    fat[510:512] = b"\x55\xaa"
    assert pt.read_table(pt.BytesDisk(bytes(fat)))["kind"] is None


def test_grub_boot_code_and_its_next_stage():
    sector = bytearray(512)
    sector[0:2] = b"\xeb\x63"
    sector[0x5C:0x64] = struct.pack("<Q", 1)
    sector[0x180:0x190] = b"GRUB \x00Geom\x00Hard"
    sector[0x190:0x198] = b" Disk\x00Re"
    sector[510:512] = b"\x55\xaa"
    facts = pt.boot_code_facts(bytes(sector))
    assert facts == {"present": True, "loader": "grub", "next_stage_lba": 1}
    assert pt.boot_code_facts(b"\x00" * 512)["present"] is False
    other = bytearray(512)
    other[10:20] = b"\x90" * 10
    assert pt.boot_code_facts(bytes(other))["loader"] == "unknown"


@pytest.mark.parametrize("raw,text", [
    (bytes.fromhex("2873 2ac1 1ff8 d211 ba4b 00a0c93ec93b".replace(" ", "")), pt.ESP_GUID),
    (bytes(16), pt.ZERO_GUID)])
def test_guid_text(raw, text):
    assert pt.guid_text(raw) == text


LINUX_DATA = b"\xaf\x3d\xc6\x0f\x83\x84\x72\x47\x8e\x79\x3d\x69\xd8\x47\x7d\xe4"


def crafted_gpt(sectors, parts, sector_size=512, pmbr=(0xEE, 1), mbr_entries=()):
    """A whole GPT disk built byte by byte: primary and backup headers and
    entry arrays with right CRCs; ``parts`` are ``(first, last)`` LBAs;
    ``pmbr`` the MBR's (type, start LBA) entry, or None for no 0x55AA."""
    data = bytearray(sectors * sector_size)
    entries = bytearray(128 * 128)
    for index, (first, last) in enumerate(parts):
        entries[index * 128:index * 128 + 16] = LINUX_DATA
        entries[index * 128 + 16:index * 128 + 32] = bytes([index + 1]) * 16
        entries[index * 128 + 32:index * 128 + 48] = struct.pack("<QQ", first, last)
    array_sectors = len(entries) // sector_size
    last_lba = sectors - 1
    crc = binascii.crc32(bytes(entries)) & 0xFFFFFFFF
    for current, other, array in ((1, last_lba, 2), (last_lba, 1, last_lba - array_sectors)):
        header = bytearray(92)
        header[:] = struct.pack("<8sIIIIQQQQ16sQIII", b"EFI PART", 0x10000, 92, 0, 0, current, other,
                                2 + array_sectors, last_lba - array_sectors - 1, b"\x42" * 16, array, 128, 128, crc)
        header[16:20] = struct.pack("<I", binascii.crc32(bytes(header)) & 0xFFFFFFFF)
        data[current * sector_size:current * sector_size + 92] = header
        data[array * sector_size:array * sector_size + len(entries)] = entries
    rows = list(mbr_entries)
    if pmbr is not None:
        rows.insert(0, (pmbr[0], pmbr[1], min(sectors - max(pmbr[1], 1), 0xFFFFFFFF)))
        data[510:512] = b"\x55\xaa"
    for slot, (ptype, start, count) in enumerate(rows):
        data[446 + 16 * slot:462 + 16 * slot] = struct.pack("<BBBBBBBBII", 0, 0, 0, 0, ptype, 0, 0, 0, start, count)
    return pt.BytesDisk(bytes(data))


def test_a_crafted_gpt_reads_clean():
    table = pt.read_table(crafted_gpt(4096, [(2048, 4000)]))
    assert table["kind"] == "gpt" and table["problems"] == [] and table["warnings"] == []
    assert [(p["start"], p["size"]) for p in table["partitions"]] == [(2048 * 512, 1953 * 512)]


@pytest.mark.parametrize("parts, problem, kept", [
    # 4096 sectors, 128 entries of 128 bytes: usable LBAs 34-4062
    ([(34, 4062)], None, 1),
    ([(2048, 4063)], "GPT partition 1 (LBA 2048-4063) lies outside the usable range 34-4062", 1),
    ([(33, 2047)], "GPT partition 1 (LBA 33-2047) lies outside the usable range 34-4062", 1),
    ([(3000, 2048)], "GPT partition 1 ends (LBA 2048) before it starts (LBA 3000)", 0),
])
def test_gpt_entries_are_held_to_the_usable_range(parts, problem, kept):
    table = pt.read_table(crafted_gpt(4096, parts))
    assert table["kind"] == "gpt"
    assert table["problems"] == ([problem] if problem else []), table["problems"]
    assert len(table["partitions"]) == kept


@pytest.mark.parametrize("sectors, beyond", [(14336, False), (14337, True)])
def test_an_mbr_partition_may_end_exactly_at_the_end_of_the_disk(sectors, beyond):
    mbr = bytearray(8 * MIB)
    mbr[446:462] = struct.pack("<BBBBBBBBII", 0x80, 0, 0, 0, 0x83, 0, 0, 0, 2048, sectors)  # 8 MiB: 16384 sectors
    mbr[510:512] = b"\x55\xaa"
    table = pt.read_table(pt.BytesDisk(bytes(mbr)))
    assert table["kind"] == "mbr"
    assert [p for p in table["problems"] if "beyond the end of the disk" in p] == (
        ["partition 1 ends at byte %d, beyond the end of the disk (%d bytes)" % ((2048 + sectors) * 512, 8 * MIB)]
        if beyond else [])


@pytest.mark.parametrize("pmbr", [None, (0x00, 0)])
def test_a_gpt_without_a_protective_mbr_entry_is_not_seen(pmbr):
    # the kernel (block/partitions/efi.c is_pmbr_valid) and UEFI firmware read
    # a GPT only behind a protective MBR: 0x55AA and a 0xEE entry from LBA 1
    table = pt.read_table(crafted_gpt(4096, [(2048, 4000)], pmbr=pmbr))
    assert any("protective" in p for p in table["problems"]), table


def test_a_protective_entry_that_does_not_start_at_lba_1_is_not_protective():
    table = pt.read_table(crafted_gpt(4096, [(2048, 4000)], pmbr=(0xEE, 0)))
    assert any("protective" in p and "LBA 1" in p for p in table["problems"]), table


def test_a_stale_gpt_header_behind_a_plain_mbr_is_ignored_as_the_kernel_does():
    # repartitioned with an MBR tool that left the old GPT in LBA 1: the kernel reads the MBR
    disk = crafted_gpt(8192, [(2048, 4000)], pmbr=(0x83, 2048))
    table = pt.read_table(disk)
    assert table["kind"] == "mbr" and table["problems"] == [], table
    assert [(p["number"], p["start"] // 512) for p in table["partitions"]] == [(1, 2048)]
    assert any("GPT" in w and "ignore" in w for w in table["warnings"])


def test_a_gpt_for_4k_sectors_is_not_found_on_512_byte_sector_disks():
    # Compute Engine disks have 512-byte logical sectors: the kernel and the
    # firmware look for the GPT header at byte 512, not 4096
    table = pt.read_table(crafted_gpt(1024, [(256, 900)], sector_size=4096))
    assert table["sector_size"] == 4096
    assert table["partitions"] and table["partitions"][0]["start"] == 256 * 4096
    assert any("4096-byte sectors" in p and "512-byte" in p for p in table["problems"]), table


def test_a_hybrid_mbr_is_still_read_as_gpt():
    table = pt.read_table(crafted_gpt(4096, [(2048, 4000)], mbr_entries=[(0x83, 2048, 1953)]))
    assert table["kind"] == "gpt" and table["hybrid"] and table["problems"] == []
