"""Superblock probes against filesystems mkfs makes, checked against blkid,
and the FAT reader against trees mtools writes."""

import signal
import struct
import subprocess

import pytest
from disktools import MIB, blkid, mkfs_ext4, mkfs_vfat, mtools, need, pe_image, sparse_file, uki_image, write_at

from ansible_collections.guestready.gce.plugins.module_utils import fat, filesystems, imagefile, partitions
from ansible_collections.guestready.gce.plugins.module_utils.target import Target


def probe(path, offset=0):
    with partitions.Disk(str(path)) as disk:
        return filesystems.probe(disk, offset, disk.size - offset)


def agrees_with_blkid(path, offset=0):
    found, theirs = probe(path, offset), blkid(path, offset)
    assert found["type"] == theirs["TYPE"]
    assert (found["uuid"] or "").lower() == theirs.get("UUID", "").lower()
    assert (found["label"] or "") == theirs.get("LABEL", "")
    return found


EXT2_FEATURES = "^has_journal,^extent,^64bit,^flex_bg,^huge_file,^metadata_csum,^dir_nlink,^extra_isize"


@pytest.mark.parametrize("extra,fstype", [((), "ext4"), (("-O", EXT2_FEATURES), "ext2"),
                                          # ext4-only features but none of extents, 64bit, flex_bg, huge_file
                                          (("-O", "^extent,^64bit,^flex_bg,^huge_file"), "ext4"),
                                          (("-O", EXT2_FEATURES.replace("^has_journal,", "")), "ext3")])
def test_ext_at_an_offset(tmp_path, extra, fstype):
    disk = sparse_file(tmp_path / "ext.raw", 64 * MIB)
    mkfs_ext4(disk, MIB, 32 * MIB, label="lab-root", extra=extra)
    found = agrees_with_blkid(disk, MIB)
    assert found["type"] == fstype and found["mountable"]


@pytest.mark.parametrize("size", [512, 1024])
def test_a_superblock_past_the_end_of_the_partition_is_not_its_filesystem(tmp_path, size):
    """A partition of a few sectors where an ext4 filesystem began (the table
    was rewritten over an old disk): the superblock at byte 1024 lies in the
    next partition, not in this one.  The probe read it and said ext4; blkid,
    limited to the partition's size, finds nothing (found by test_binary_fuzz)."""
    disk = sparse_file(tmp_path / "small.raw", 8 * MIB)
    mkfs_ext4(disk, 0, 8 * MIB)
    need("blkid")
    theirs = subprocess.run(["blkid", "-p", "-o", "export", "--size", str(size), disk], stdout=subprocess.PIPE,
                            universal_newlines=True, check=False).stdout
    assert "TYPE=" not in theirs
    with partitions.Disk(disk) as whole:
        assert filesystems.probe(whole, 0, whole.size)["type"] == "ext4"
        assert filesystems.probe(whole, 0, size)["type"] is None


def test_ext_external_journal_is_no_filesystem(tmp_path):
    disk = sparse_file(tmp_path / "journal.raw", 32 * MIB)
    mkfs_ext4(disk, 0, 32 * MIB, label="jlog", extra=("-O", "journal_dev"))
    found = agrees_with_blkid(disk)
    assert found["type"] == "jbd" and not found["mountable"]


@pytest.mark.parametrize("bits", [12, 16, 32])
def test_vfat(tmp_path, bits):
    disk = sparse_file(tmp_path / "fat.img", {12: 4, 16: 32, 32: 64}[bits] * MIB)
    mkfs_vfat(disk, bits, label="ESP")
    found = agrees_with_blkid(disk)
    assert found["version"] == "FAT%d" % bits


def test_swap(tmp_path):
    need("mkswap")
    disk = sparse_file(tmp_path / "swap.img", 16 * MIB)
    subprocess.run(["mkswap", "-L", "swappy", disk], check=True, stdout=subprocess.PIPE)
    agrees_with_blkid(disk)


def test_luks2_header(tmp_path):
    disk = sparse_file(tmp_path / "luks.img", 16 * MIB)
    header = bytearray(4096)
    header[0:6] = b"LUKS\xba\xbe"
    header[6:8] = struct.pack(">H", 2)
    header[24:30] = b"secret"
    header[168:204] = b"3f1e2c4a-1111-2222-3333-444455556666"
    write_at(disk, 0, bytes(header))
    found = agrees_with_blkid(disk)
    assert found["note"] == "LUKS2 encrypted volume" and not found["mountable"]


def lvm_label(vg="vg_image"):
    sector = bytearray(512)
    sector[0:8] = b"LABELONE"
    sector[8:16] = struct.pack("<Q", 1)
    sector[20:24] = struct.pack("<I", 32)
    sector[24:32] = b"LVM2 001"
    sector[32:64] = b"AbCdEfGhIjKlMnOpQrStUvWxYz012345"
    sector[16:20] = struct.pack("<I", filesystems.lvm_crc(bytes(sector[20:512])))
    return bytes(sector), ('%s {\nid = "abc"\nseqno = 1\n}\n' % vg).encode()


def test_lvm_physical_volume_names_its_volume_group(tmp_path):
    disk = sparse_file(tmp_path / "pv.img", 16 * MIB)
    label, metadata = lvm_label()
    write_at(disk, 512, label)
    write_at(disk, 4096 + 512, metadata)
    found = agrees_with_blkid(disk)
    assert found["type"] == "LVM2_member" and "volume group 'vg_image'" in found["note"]


def test_lvm_metadata_of_one_long_name_is_read_in_linear_time(tmp_path):
    # a hostile megabyte of name characters: the volume group's name search
    # backtracked quadratically (hours), inside the module's own process
    disk = sparse_file(tmp_path / "pv.img", 16 * MIB)
    label, metadata = lvm_label()
    write_at(disk, 512, label)
    write_at(disk, 4096, b"a" * MIB)
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(30)
    try:
        found = probe(disk)
    finally:
        signal.alarm(0)
    assert found["type"] == "LVM2_member" and found["note"] == "LVM physical volume"
    write_at(disk, 4096 + 511, b"\n" + metadata)
    assert "volume group 'vg_image'" in probe(disk)["note"]


def _alarm(signum, frame):
    raise AssertionError("the probe blocked")


def test_lvm_label_with_a_bad_checksum_is_not_lvm(tmp_path):
    disk = sparse_file(tmp_path / "fake.img", 16 * MIB)
    label, dummy = lvm_label()
    write_at(disk, 512, label[:100] + b"X" + label[101:])
    assert probe(disk)["type"] is None


# the XFS magic alone is no XFS to libblkid (xfs_verify_sb()): test_filesystems_real_libblkid.py has real ones
@pytest.mark.parametrize("head,fstype", [(b"XFSB", None), (b"hsqs", "squashfs")])
def test_other_magics(head, fstype):
    data = bytearray(2 * MIB)
    data[0:4] = head
    data[32:48] = bytes(range(16))
    assert filesystems.probe(partitions.BytesDisk(bytes(data)), 0, len(data))["type"] == fstype


def test_btrfs_superblock_at_64k():
    data = bytearray(2 * MIB)
    data[0x10000 + 64:0x10000 + 72] = b"_BHRfS_M"
    data[0x10000 + 32:0x10000 + 48] = bytes(range(16))
    data[0x10000 + 0x12B:0x10000 + 0x12B + 4] = b"root"
    found = filesystems.probe(partitions.BytesDisk(bytes(data)), 0, len(data))
    assert (found["type"], found["uuid"], found["label"]) == ("btrfs", "00010203-0405-0607-0809-0a0b0c0d0e0f", "root")


def test_nothing_and_too_small():
    assert filesystems.probe(partitions.BytesDisk(b"\x00" * 200000), 0, 200000)["type"] is None
    assert filesystems.probe(partitions.BytesDisk(b"\x00" * 100), 0, 100)["note"]


# ------------------------------------------------------------------ FAT reader

def esp(tmp_path, bits=32):
    image = sparse_file(tmp_path / "esp.img", {12: 4, 16: 32, 32: 64}[bits] * MIB)
    mkfs_vfat(image, bits, label="ESP")
    loader = tmp_path / "BOOTX64.EFI"
    loader.write_bytes(pe_image(0x8664, 70000))
    config = tmp_path / "grub.cfg"
    config.write_text("search.fs_uuid 1234 root\nconfigfile ($root)/boot/grub/grub.cfg\n")
    longname = tmp_path / "a rather long file name.efi"
    longname.write_bytes(pe_image(0xAA64))
    mtools(image, ["mmd", "::/EFI", "::/EFI/BOOT", "::/EFI/debian"],
           ["mcopy", str(loader), "::/EFI/BOOT/BOOTX64.EFI"], ["mcopy", str(config), "::/EFI/debian/grub.cfg"],
           ["mcopy", str(longname), "::/EFI/debian/"])
    return image


@pytest.mark.parametrize("bits", [12, 16, 32])
def test_fat_reader_walks_and_reads_what_mtools_wrote(tmp_path, bits):
    image = esp(tmp_path, bits)
    with partitions.Disk(image) as disk:
        reader = fat.FatReader(disk, 0, disk.size)
        assert reader.kind == bits
        tree = dict((path, (is_dir, size)) for path, is_dir, size in reader.walk())
        assert tree["/EFI/BOOT/BOOTX64.EFI"] == (False, 70000)
        assert tree["/EFI/debian/a rather long file name.efi"][0] is False
        assert reader.listdir("/efi/BOOT") == ["BOOTX64.EFI"], "names match case-insensitively"
        assert reader.read("/EFI/debian/grub.cfg").startswith(b"search.fs_uuid 1234")
        assert fat.pe_machine(reader.read("/EFI/BOOT/BOOTX64.EFI", head=512)) == "x86_64"
        assert fat.pe_machine(reader.read("/EFI/debian/a rather long file name.efi")) == "arm64"
        with pytest.raises(fat.FatError, match="no such file"):
            reader.read("/EFI/BOOT/grubx64.efi")
        with pytest.raises(fat.FatError, match="larger than"):
            reader.read("/EFI/BOOT/BOOTX64.EFI", limit=1000)
        with pytest.raises(fat.FatError, match="/EFI/BOOT/BOOTX64.EFI: not a directory"):
            reader.walk("/EFI/BOOT/BOOTX64.EFI")


def test_fat_walk_reads_each_directory_once(tmp_path):
    # looking each child up by its path from the root read every ancestor again:
    # a root with 4,000 subdirectories took 20 s
    image = esp(tmp_path, 32)
    with partitions.Disk(image) as disk:
        reader = fat.FatReader(disk, 0, disk.size)
        read = []
        entries = reader._entries
        reader._entries = lambda where: read.append(where) or entries(where)
        directories = [path for path, is_dir, size in reader.walk() if is_dir]
    assert len(read) == len(directories) + 1 and len(set(map(tuple, read))) == len(read)


def test_fat_reader_refuses_a_looping_chain(tmp_path):
    image = esp(tmp_path, 32)
    with partitions.Disk(image) as disk:
        reader = fat.FatReader(disk, 0, disk.size)
        fat_start = struct.unpack("<H", disk.read(14, 2))[0] * 512
        first = [entry for entry in reader._entries(reader.root) if entry["name"] == "EFI"][0]["cluster"]
    write_at(image, fat_start + first * 4, struct.pack("<I", first))  # the EFI directory's chain points at itself
    with partitions.Disk(image) as disk:
        with pytest.raises(fat.FatError, match="loops back"):
            fat.FatReader(disk, 0, disk.size).listdir("/EFI")


def test_fat_reader_refuses_a_directory_that_loops_back(tmp_path):
    # /EFI/BOOT's entry pointed at /EFI itself: each level lists BOOT again
    image = esp(tmp_path, 16)
    with partitions.Disk(image) as disk:
        reader = fat.FatReader(disk, 0, disk.size)
        efi = [entry for entry in reader._entries(reader.root) if entry["name"] == "EFI"][0]["cluster"]
    with open(image, "rb") as handle:
        data = handle.read()
    where = data.index(b"BOOT       \x10")
    assert data.count(b"BOOT       \x10") == 1
    write_at(image, where + 20, struct.pack("<H", efi >> 16))
    write_at(image, where + 26, struct.pack("<H", efi & 0xFFFF))
    with partitions.Disk(image) as disk:
        with pytest.raises(fat.FatError, match=r"/EFI/BOOT: the directory tree loops back \(cluster %d" % efi):
            fat.FatReader(disk, 0, disk.size).walk()
        assert imagefile.gather_esp(disk, [{"number": 1, "start": 0, "size": disk.size, "type": "0xef"}],
                                    "x86_64")["error"].startswith("/EFI/BOOT: the directory tree loops back")


def test_fat32_with_fewer_clusters_than_the_fat_spec_asks_is_fat32(tmp_path):
    # mkfs.fat -F 32 makes one (with a warning); Linux and libblkid call it FAT32 by its empty
    # 16-bit FAT size: read as FAT16 by its cluster count, its root directory looked empty
    image = sparse_file(tmp_path / "small32.img", 64 * MIB)
    need("mkfs.vfat")
    subprocess.run(["mkfs.vfat", "-F", "32", "-s", "8", "-n", "ESP", image], check=True,
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with open(image, "rb") as handle:
        boot = handle.read(512)
    reserved, fats = struct.unpack("<H", boot[14:16])[0], boot[16]
    root = (reserved + fats * struct.unpack("<I", boot[36:40])[0]) * 512   # cluster 2
    write_at(image, root + 32, _short(b"HELLO   TXT", 0x20, 0, 0))   # after the volume label's entry
    assert blkid(image)["VERSION"] == "FAT32"
    with partitions.Disk(image) as disk:
        reader = fat.FatReader(disk, 0, disk.size)
        assert reader.clusters < 65525 and reader.kind == 32
        assert reader.listdir("/") == ["HELLO.TXT"]
    boot = bytearray(boot)
    boot[22:24] = struct.pack("<H", 64)   # a 16-bit FAT size: FAT16, but too many clusters for it
    boot[13] = 1
    with pytest.raises(fat.FatError, match="more than a FAT16 holds"):
        fat.FatReader(partitions.BytesDisk(bytes(boot) + bytes(64 * MIB - 512)), 0, 64 * MIB)


def _fat32_with_root(tmp_path, entries, links):
    """A 64 MiB FAT32 whose root directory holds ``entries`` and whose FAT links ``{cluster: next}``."""
    image = sparse_file(tmp_path / "crafted32.img", 64 * MIB)
    mkfs_vfat(image, 32)
    with open(image, "rb") as handle:
        boot = handle.read(512)
    reserved, fats, fat_size = struct.unpack("<H", boot[14:16])[0], boot[16], struct.unpack("<I", boot[36:40])[0]
    write_at(image, (reserved + fats * fat_size) * 512, b"".join(entries))
    for cluster, following in links.items():
        write_at(image, reserved * 512 + cluster * 4, struct.pack("<I", following))
    return image


def test_fat_walk_refuses_directories_whose_chains_join(tmp_path):
    # a thousand directories whose chains ran into one 2 MiB tail read the tail a thousand times
    links = dict((cluster, cluster + 1) for cluster in range(100, 110))
    links.update({110: 0x0FFFFFFF, 10: 100, 11: 100})
    image = _fat32_with_root(tmp_path, [_short(b"A          ", 0x10, 10, 0), _short(b"B          ", 0x10, 11, 0)], links)
    with partitions.Disk(image) as disk:
        reader = fat.FatReader(disk, 0, disk.size)
        assert reader.listdir("/") == ["A", "B"]
        with pytest.raises(fat.FatError, match=r"/B: its cluster chain runs into another directory's \(cluster 100 "):
            reader.walk()


def test_fat_reader_reads_a_directory_once_for_many_lookups(tmp_path):
    # gather_esp reads every /loader/entries/*.conf by its path: each read listed the
    # directories on the way again (65,000 entries: 2 MiB read 65,000 times)
    image = esp(tmp_path, 32)
    with partitions.Disk(image) as disk:
        reader = fat.FatReader(disk, 0, disk.size)
        chains = []
        read_chain = reader._read_chain
        reader._read_chain = lambda first, length=None: chains.append(first) or read_chain(first, length)
        for dummy in range(20):
            assert reader.read("/EFI/debian/grub.cfg").startswith(b"search.fs_uuid")
        directories = len(chains) - 20   # one chain per read is the file's own
        assert directories == 3, "the root, /EFI and /EFI/debian, each once"


def test_fat_reader_refuses_garbage():
    with pytest.raises(fat.FatError, match="0x55AA"):
        fat.FatReader(partitions.BytesDisk(b"\x00" * 4096), 0, 4096)
    boot = bytearray(4096)
    boot[510:512] = b"\x55\xaa"
    boot[11:13] = struct.pack("<H", 3)
    with pytest.raises(fat.FatError, match="invalid"):
        fat.FatReader(partitions.BytesDisk(bytes(boot)), 0, 4096)
    assert fat.pe_machine(b"MZ" + b"\x00" * 100) is None


def _lfn_checksum(short):
    total = 0
    for byte in bytearray(short):
        total = (((total & 1) << 7) | (total >> 1)) + byte & 0xFF
    return total


def _lfn_entries(name, short, checksum=None):
    """The VFAT long-name entries for ``name``, as they precede ``short``."""
    checksum = _lfn_checksum(short) if checksum is None else checksum
    units = name.encode("utf-16-le")
    units += b"\x00\x00" if len(units) % 26 else b""
    units += b"\xff" * (-len(units) % 26)
    count = len(units) // 26
    out = b""
    for number in range(count, 0, -1):
        part = units[(number - 1) * 26:number * 26]
        out += bytes([number | (0x40 if number == count else 0)]) + part[0:10] + bytes([0x0F, 0, checksum]) + \
            part[10:22] + b"\x00\x00" + part[22:26]
    return out


def _short(name11, attr, cluster, size):
    return name11 + bytes([attr]) + b"\x00" * 8 + b"\x00\x00" + b"\x00" * 4 + struct.pack("<HI", cluster, size)


def fat12(root, clusters):
    """A 64-sector FAT12 filesystem: 512-byte sectors and clusters, one FAT,
    16 root entries; ``root`` the root directory's bytes, ``clusters`` {n: bytes}."""
    data = bytearray(64 * 512)
    data[0:3] = b"\xeb\x3c\x90"
    data[11:24] = struct.pack("<HBHBHHBH", 512, 1, 1, 1, 16, 64, 0xF8, 1)
    data[510:512] = b"\x55\xaa"
    table = [0xFF8, 0xFFF] + [0] * 60
    for number in clusters:
        table[number] = 0xFFF
    fat_bytes = bytearray(512)
    for index, value in enumerate(table):
        where = index + index // 2
        if index & 1:
            fat_bytes[where] = fat_bytes[where] & 0x0F | (value << 4) & 0xF0
            fat_bytes[where + 1] = value >> 4
        else:
            fat_bytes[where] = value & 0xFF
            fat_bytes[where + 1] = fat_bytes[where + 1] & 0xF0 | value >> 8
    data[512:1024] = fat_bytes
    data[1024:1024 + len(root)] = root
    for number, content in clusters.items():
        data[(3 + number - 2) * 512:(3 + number - 2) * 512 + len(content)] = content
    return partitions.BytesDisk(bytes(data))


@pytest.mark.parametrize("size", [0, 1, 511])
def test_fat_reader_reads_nothing_past_an_area_smaller_than_a_boot_sector(size):
    """The boot sector was read whole whatever the area's size: 512 bytes,
    the next partition's among them (found by test_binary_fuzz)."""
    disk = fat12(_short(b"BOOTX64 EFI", 0x20, 2, 5), {2: b"MZ123"})
    reads = []
    read = disk.read
    disk.read = lambda offset, length: reads.append((offset, length)) or read(offset, length)
    with pytest.raises(fat.FatError):
        fat.FatReader(disk, 0, size)
    assert all(offset + length <= size for offset, length in reads), reads


def test_fat_long_names_whose_checksum_does_not_match_are_orphans():
    # a tool that knows no long names renamed the file: the stale long-name entries
    # stay in front of the new 8.3 entry, and the firmware (checksum) ignores them
    root = _lfn_entries("a stale old name.efi", b"OLDNAME EFI") + _short(b"BOOTX64 EFI", 0x20, 2, 5)
    root += _lfn_entries("grubx64.efi", b"GRUBX64 EFI") + _short(b"GRUBX64 EFI", 0x20, 3, 4)
    reader = fat.FatReader(fat12(root, {2: b"MZ123", 3: b"MZab"}), 0, 64 * 512)
    assert reader.listdir("/") == ["BOOTX64.EFI", "grubx64.efi"]
    assert reader.read("/BOOTX64.EFI") == b"MZ123"


def test_fat_long_name_entries_out_of_sequence_are_orphans():
    good = _lfn_entries("a rather long file name.efi", b"ARATHE~1EFI")
    assert len(good) == 96
    broken = good[0:32] + good[64:96]  # the middle entry is lost
    root = broken + _short(b"ARATHE~1EFI", 0x20, 2, 2)
    root += _lfn_entries("a rather long file name.efi", b"ARATHE~2EFI") + _short(b"ARATHE~2EFI", 0x20, 3, 2)
    reader = fat.FatReader(fat12(root, {2: b"MZ", 3: b"MZ"}), 0, 64 * 512)
    assert reader.listdir("/") == ["ARATHE~1.EFI", "a rather long file name.efi"]


def test_fat12_ignores_the_reserved_high_word_of_the_cluster():
    # bytes 20-21 of an entry are the cluster's high word on FAT32 only; FAT12/16
    # leave them reserved (OS/2 wrote its EA index there) and Linux ignores them
    entry = bytearray(_short(b"BOOTX64 EFI", 0x20, 2, 5))
    entry[20:22] = b"\x07\x00"
    reader = fat.FatReader(fat12(bytes(entry), {2: b"MZ123"}), 0, 64 * 512)
    assert reader.read("/BOOTX64.EFI") == b"MZ123"


RHEL8_EFI_GRUB_CFG = """set pager=1
if [ -f ${config_directory}/grubenv ]; then
  load_env -f ${config_directory}/grubenv
fi
set default="${saved_entry}"
set timeout=0
insmod blscfg
blscfg
"""


def test_rhel_8_uefi_menu_and_grubenv_live_on_the_esp(tmp_path):
    """RHEL 8 on UEFI: grub2-mkconfig writes EFI/redhat/grub.cfg, and
    /boot/grub2/grubenv is a link to ../efi/EFI/redhat/grubenv (the ESP, which
    the image audit reads with its own FAT reader, not through the root)."""
    need("mkfs.vfat", "mmd", "mcopy")
    image = sparse_file(tmp_path / "esp.img", 32 * MIB)
    mkfs_vfat(image, 16, label="ESP")
    kernel = "4.18.0-553.el8_10.x86_64"
    env = "# GRUB Environment Block\nsaved_entry=abc-%s\nkernelopts=root=UUID=1234 ro console=ttyS0\n" % kernel
    (tmp_path / "grub.cfg").write_text(RHEL8_EFI_GRUB_CFG)
    (tmp_path / "grubenv").write_text(env + "#" * (1024 - len(env)))
    # another vendor's leftover, first on the ESP: GRUB loads the grubenv beside its grub.cfg, not the first found
    stale = "# GRUB Environment Block\nsaved_entry=old\nkernelopts=root=/dev/sda2 ro\n"
    (tmp_path / "stale").write_text(stale + "#" * (1024 - len(stale)))
    mtools(image, ["mmd", "::/EFI", "::/EFI/centos", "::/EFI/redhat"], ["mcopy", str(tmp_path / "stale"), "::/EFI/centos/GRUBENV"],
           ["mcopy", str(tmp_path / "grub.cfg"), "::/EFI/redhat/grub.cfg"],
           ["mcopy", str(tmp_path / "grubenv"), "::/EFI/redhat/grubenv"])
    root = tmp_path / "root"
    (root / "boot" / "loader" / "entries").mkdir(parents=True)
    (root / "boot" / "grub2").mkdir()
    (root / "boot" / "grub2" / "grubenv").symlink_to("../efi/EFI/redhat/grubenv")
    (root / "boot" / "loader" / "entries" / ("abc-%s.conf" % kernel)).write_text(
        "title Red Hat\nversion %s\nlinux /vmlinuz-%s\ninitrd /initramfs-%s.img\noptions $kernelopts\n" % (kernel, kernel, kernel))
    with partitions.Disk(image) as disk:
        esp_facts = imagefile.gather_esp(disk, [{"number": 1, "start": 0, "size": disk.size, "type": "0xef"}], "x86_64")
    menu = imagefile.gather_menu(Target(str(root)), esp_facts)
    assert menu["config"] == "ESP /EFI/redhat/grub.cfg" and menu["kind"] == "grub+bls" and menu["error"] is None
    assert menu["default"]["args"] == "root=UUID=1234 ro console=ttyS0"
    # Debian's and RHEL 9's ESP file only loads /boot's: not a menu
    assert imagefile.gather_menu(Target(str(root)), dict(esp_facts, grub_configs=[
        ("ESP /EFI/debian/grub.cfg", "search.fs_uuid 1234 root\nconfigfile ($root)/boot/grub/grub.cfg\n")]))["config"] is None


def test_systemd_boot_default_on_the_esp_is_loader_conf_s(tmp_path):
    """systemd-boot on a disk image: the entries' ids are their file names on the ESP, and
    loader/loader.conf's default picks among them (systemd src/boot/boot.c config_select_default_entry());
    the old code took the entry of the highest version."""
    need("mkfs.vfat", "mmd", "mcopy")
    image = sparse_file(tmp_path / "esp.img", 32 * MIB)
    mkfs_vfat(image, 16, label="ESP")
    # new-lts.conf sorts first, but its kernel is missing: systemd-boot leaves it out (boot_entry_add_type1())
    for name, version in (("arch.conf", "6.12"), ("arch-lts.conf", "6.6"), ("new-lts.conf", "7.0")):
        (tmp_path / name).write_text("title %s\nversion %s\nlinux /vmlinuz-%s\noptions root=UUID=1234 rw\n" % (name, version, version))
    (tmp_path / "loader.conf").write_text("timeout 0\ndefault *-LTS.conf\n")
    (tmp_path / "kernel").write_text("kernel")
    mtools(image, ["mmd", "::/loader", "::/loader/entries"], ["mcopy", str(tmp_path / "loader.conf"), "::/loader/loader.conf"],
           ["mcopy", str(tmp_path / "arch.conf"), "::/loader/entries/arch.conf"],
           ["mcopy", str(tmp_path / "arch-lts.conf"), "::/loader/entries/arch-lts.conf"],
           ["mcopy", str(tmp_path / "new-lts.conf"), "::/loader/entries/new-lts.conf"],
           ["mcopy", str(tmp_path / "kernel"), "::/VMLINUZ-6.6"], ["mcopy", str(tmp_path / "kernel"), "::/vmlinuz-6.12"])
    root = tmp_path / "root"
    root.mkdir()
    with partitions.Disk(image) as disk:
        esp_facts = imagefile.gather_esp(disk, [{"number": 1, "start": 0, "size": disk.size, "type": "0xef"}], "x86_64")
    menu = imagefile.gather_menu(Target(str(root)), esp_facts)
    assert menu["kind"] == "bls" and menu["default"]["title"] == "arch-lts.conf", menu
    assert menu["note"] == "the file of new-lts.conf (/vmlinuz-7.0) is missing from its partition, which systemd-boot leaves out", menu


UKI_OSREL = b'NAME="Fedora Linux"\nID=fedora\nVERSION_ID=41\nPRETTY_NAME="Fedora Linux 41 (Cloud Edition)"\n'


def uki_esp(tmp_path, loader):
    """An ESP image holding two UKIs in EFI/Linux (one hostile), a type #1 entry and loader.conf."""
    need("mkfs.vfat", "mmd", "mcopy")
    image = sparse_file(tmp_path / "esp.img", 32 * MIB)
    mkfs_vfat(image, 16, label="ESP")
    # the small sections after a 300 KiB .initrd: read where they are, not from the start
    sections = [(".linux", b"MZ" + b"k" * 5000), (".initrd", b"\x07" * (300 * 1024)), (".osrel", UKI_OSREL),
                (".cmdline", b"root=UUID=1234 ro console=ttyS0\n"), (".uname", b"6.11.4-301.fc41.x86_64\n")]
    (tmp_path / "fedora.efi").write_bytes(uki_image(sections))
    (tmp_path / "broken.efi").write_bytes(uki_image(sections)[:300])
    (tmp_path / "arch.conf").write_text("title Arch\nversion 6.12\nlinux /vmlinuz-6.12\noptions root=UUID=1234 rw\n")
    (tmp_path / "loader.conf").write_text(loader)
    (tmp_path / "kernel").write_text("kernel")
    mtools(image, ["mmd", "::/loader", "::/loader/entries", "::/EFI", "::/EFI/Linux"],
           ["mcopy", str(tmp_path / "loader.conf"), "::/loader/loader.conf"],
           ["mcopy", str(tmp_path / "arch.conf"), "::/loader/entries/arch.conf"],
           ["mcopy", str(tmp_path / "kernel"), "::/vmlinuz-6.12"],
           ["mcopy", str(tmp_path / "fedora.efi"), "::/EFI/Linux/Fedora-6.11.4.efi"],
           ["mcopy", str(tmp_path / "broken.efi"), "::/EFI/Linux/broken.efi"])
    return image


def test_a_uki_past_the_read_budget_is_the_esp_s_error_not_a_skipped_entry(tmp_path, monkeypatch):
    """A UKI the reader stopped before (its budget spent on cross-linked
    files) was listed as one systemd-boot shows no entry for, and the menu
    chosen without it; systemd-boot reads it, so the ESP's facts say so."""
    image = sparse_file(tmp_path / "esp.img", 32 * MIB)
    mkfs_vfat(image, 16, label="ESP")
    (tmp_path / "fedora.efi").write_bytes(uki_image([(".linux", b"MZ" + b"k" * 5000), (".osrel", UKI_OSREL)]))
    mtools(image, ["mmd", "::/EFI", "::/EFI/Linux"], ["mcopy", str(tmp_path / "fedora.efi"), "::/EFI/Linux/fedora.efi"])
    monkeypatch.setattr(fat, "MAX_READ_BYTES", 100)
    with partitions.Disk(image) as disk:
        esp = imagefile.gather_esp(disk, [{"number": 1, "start": 0, "size": disk.size, "type": "0xef"}], "x86_64")
    assert esp["uki"] == [] and esp["uki_skipped"] == [], esp
    assert esp["error"].startswith("/EFI/Linux/fedora.efi: not read: the files read from this filesystem"), esp


@pytest.mark.parametrize("loader, chosen", [("timeout 0\n", "fedora-6.11.4.efi"), ("default arch.conf\n", "arch.conf"),
                                            ("default fedora-*\n", "fedora-6.11.4.efi")])
def test_a_uki_on_the_esp_is_a_systemd_boot_entry(tmp_path, loader, chosen):
    """systemd-boot's type #2 entries on a disk image's ESP (boot.c config_load_type2_entries()):
    EFI/Linux/*.efi read through the FAT reader, title and command line from the UKI's .osrel and
    .cmdline, joined with the type #1 entries for loader.conf's default; the old code read only
    loader/entries."""
    image = uki_esp(tmp_path, loader)
    root = tmp_path / "root"
    root.mkdir()
    with partitions.Disk(image) as disk:
        parts = [{"number": 1, "start": 0, "size": disk.size, "type": "0xef"}]
        esp_facts = imagefile.gather_esp(disk, parts, "x86_64")
        assert [e["file"] for e in esp_facts["uki"]] == ["Fedora-6.11.4.efi"]
        assert esp_facts["uki_skipped"] == ["ESP /EFI/Linux/broken.efi: its section table (5 sections at offset 328) "
                                            "is past the end of the file (300 bytes)"]
        boot = imagefile.gather_boot(disk, {"kind": "gpt", "partitions": parts}, parts, Target(str(root)), [], "x86_64")
    menu = boot["menu"]
    assert menu["default"]["sd_id"] == chosen, menu
    assert "systemd-boot shows no entry for ESP /EFI/Linux/broken.efi" in menu["note"]
    if chosen == "arch.conf":
        return
    assert menu["config"] == "ESP /EFI/Linux" and menu["default"]["title"] == "Fedora Linux 41 (Cloud Edition)"
    assert menu["default"]["args"] == "root=UUID=1234 ro console=ttyS0"
    # the UKI is the kernel and carries the initramfs: no separate file is looked for
    assert boot["kernel_file"] == {"path": "/EFI/Linux/Fedora-6.11.4.efi", "exists": True, "found": "ESP /EFI/Linux/Fedora-6.11.4.efi",
                                   "uki": True, "has_linux": True, "has_initrd": True}
    assert boot["initrd_files"] == [] and boot["release"] == "6.11.4-301.fc41.x86_64"


def test_fat_read_at_reads_only_the_clusters_asked(tmp_path):
    need("mkfs.vfat", "mcopy")
    image = sparse_file(tmp_path / "esp.img", 32 * MIB)
    mkfs_vfat(image, 16, label="ESP")
    data = bytes(bytearray(i % 251 for i in range(200000)))
    (tmp_path / "blob").write_bytes(data)
    mtools(image, ["mcopy", str(tmp_path / "blob"), "::/blob"])
    with partitions.Disk(image) as disk:
        reader = fat.FatReader(disk, 0, disk.size)
        for offset, length in ((0, 10), (4095, 2), (123457, 5000), (199990, 100), (200000, 5), (10 ** 12, 5)):
            assert reader.read_at("/blob", offset, length) == data[offset:offset + length]


def test_a_type_1_entry_s_uki_line_on_the_esp_boots_that_uki(tmp_path):
    """A loader/entries file with only a ``uki`` line (systemd v258 boot.c boot_entry_add_type1(): LOADER_UKI)
    is the UKI it names, read through the FAT reader: IMG-BOOT_ENTRY passes with the kernel and initramfs it
    carries; the old code failed it as naming no kernel."""
    from ansible_collections.guestready.gce.plugins.module_utils import imagecheck
    image = uki_esp(tmp_path, "default uki.conf\n")
    (tmp_path / "uki.conf").write_text("title Fedora UKI\nuki /EFI/Linux/Fedora-6.11.4.efi\n")
    mtools(image, ["mcopy", str(tmp_path / "uki.conf"), "::/loader/entries/uki.conf"])
    root = tmp_path / "root"
    root.mkdir()
    with partitions.Disk(image) as disk:
        parts = [{"number": 1, "start": 0, "size": disk.size, "type": "0xef"}]
        boot = imagefile.gather_boot(disk, {"kind": "gpt", "partitions": parts}, parts, Target(str(root)), [], "x86_64")
    entry = boot["menu"]["default"]
    assert entry["file"] == "uki.conf" and entry["args"] == "root=UUID=1234 ro console=ttyS0", boot["menu"]
    assert boot["kernel_file"] == {"path": "/EFI/Linux/Fedora-6.11.4.efi", "exists": True, "found": "ESP /EFI/Linux/Fedora-6.11.4.efi",
                                   "uki": True, "has_linux": True, "has_initrd": True}
    assert boot["release"] == "6.11.4-301.fc41.x86_64"
    status, message, dummy, evidence = imagecheck.boot_entry({"root": {"mounted": True}, "boot": boot})
    assert status == "pass" and "unified kernel image carrying its kernel and its initramfs" in message, message


def test_an_esp_entry_for_another_architecture_is_not_the_default(tmp_path):
    """systemd-boot leaves out an entry whose architecture line is not its own EFI machine type (boot.c
    boot_entry_add_type1()): loader.conf's default naming it falls back to the first entry, the note says
    why; with no architecture known (none given, no removable-media loader on the ESP) nothing is left out."""
    image = uki_esp(tmp_path, "default other.conf\n")
    (tmp_path / "other.conf").write_text("title Arm\nlinux /vmlinuz-6.12\narchitecture AA64\n")
    mtools(image, ["mcopy", str(tmp_path / "other.conf"), "::/loader/entries/other.conf"])
    root = tmp_path / "root"
    root.mkdir()
    chosen = {}
    for arch in ("x86_64", None):
        with partitions.Disk(image) as disk:
            parts = [{"number": 1, "start": 0, "size": disk.size, "type": "0xef"}]
            boot = imagefile.gather_boot(disk, {"kind": "gpt", "partitions": parts}, parts, Target(str(root)), [], arch)
        chosen[arch] = boot["menu"]
        assert "arch" not in boot["esp"], "the hint served the menu only"
    assert chosen["x86_64"]["default"]["file"] != "other.conf", chosen["x86_64"]
    assert "other.conf (architecture AA64) is for another architecture than x64" in chosen["x86_64"]["note"], chosen["x86_64"]
    assert chosen[None]["default"]["file"] == "other.conf", chosen[None]


def test_cross_linked_files_are_not_read_without_end(tmp_path):
    """Twenty-four vendor directories whose grub.cfg entries all point at one
    4 MiB file (cross-linked, as fsck.fat calls it): each was read and kept
    whole, 96 MiB from 4 MiB of files (a few thousand such entries exhaust the
    memory).  The files read from one filesystem are bounded."""
    image = sparse_file(tmp_path / "crossed.img", 32 * MIB)
    mkfs_vfat(image, 16)
    big, small = tmp_path / "big.cfg", tmp_path / "grub.cfg"
    big.write_bytes(b"#" * (4 * MIB))
    small.write_bytes(b"set root=x\n")
    vendors = ["::/EFI/v%d" % number for number in range(24)]
    mtools(image, ["mmd", "::/EFI"] + vendors, ["mcopy", str(big), "::/BIG.CFG"],
           *[["mcopy", str(small), vendor + "/grub.cfg"] for vendor in vendors])
    with open(image, "rb") as handle:
        data = bytearray(handle.read())
    target = data.index(b"BIG     CFG")
    cluster, size = data[target + 26:target + 28], data[target + 28:target + 32]
    entries = [at for at in range(0, len(data), 32) if data[at:at + 11] == b"GRUB    CFG"]
    assert len(entries) == len(vendors)
    for at in entries:
        data[at + 26:at + 28], data[at + 28:at + 32] = cluster, size
    disk = partitions.BytesDisk(bytes(data))
    read = []
    plain = disk.read
    disk.read = lambda offset, length: read.append(length) or plain(offset, length)
    esp = imagefile.gather_esp(disk, [{"number": 1, "start": 0, "size": len(data), "type": partitions.ESP_GUID}], "x86_64")
    assert 0 < len(esp["grub_configs"]) < len(vendors)
    assert sum(read) <= fat.MAX_READ_BYTES + 2 * MIB
    # the menu would be judged without the grub.cfg files left unread: said, not skipped in silence
    assert "would add up to more than %d bytes" % fat.MAX_READ_BYTES in (esp["error"] or ""), esp["error"]


@pytest.mark.parametrize("path, limit", [("::/loader/entries/big.conf", 65536), ("::/EFI/debian/grub.cfg", 4 * MIB)])
def test_esp_files_past_the_readers_limits_are_not_skipped_in_silence(tmp_path, path, limit):
    """A loader entry or a vendor grub.cfg larger than the reader takes was
    skipped as if unreadable: systemd-boot and GRUB would read it, so the menu
    was judged from the other files (a default entry that is not the one the
    machine boots).  The ESP's facts name the file instead."""
    image = sparse_file(tmp_path / "esp.img", 32 * MIB)
    mkfs_vfat(image, 16)
    big = tmp_path / "big"
    big.write_bytes(b"title x\n" + b"#" * limit)
    mtools(image, ["mmd", "::/loader", "::/loader/entries", "::/EFI", "::/EFI/debian"], ["mcopy", str(big), path])
    with partitions.Disk(image) as disk:
        esp = imagefile.gather_esp(disk, [{"number": 1, "start": 0, "size": disk.size, "type": partitions.ESP_GUID}],
                                   "x86_64")
    shown = path[2:]
    assert esp["error"] == "%s: larger than %d bytes: not read" % (shown, limit), esp
    assert not esp["bls"] and not esp["grub_configs"]


def _fat16_with_loader_entries(count):
    """A FAT16 whose /loader/entries holds ``count`` empty files e0000000.conf...
    (a long name and its 8.3 entry each), in one long cluster chain."""
    chain = (count * 64 + 511) // 512
    total = 4200 + chain   # FAT16: more than 4085 clusters
    fat_sectors = ((total + 2) * 2 + 511) // 512
    data = bytearray(total * 512)
    data[0:3] = b"\xeb\x3c\x90"
    data[11:24] = struct.pack("<HBHBHHBH", 512, 1, 1, 1, 16, total, 0xF8, fat_sectors)
    data[510:512] = b"\x55\xaa"
    links = [0xFFF8, 0xFFFF, 0xFFFF] + list(range(4, 3 + chain)) + [0xFFFF]
    data[512:512 + 2 * len(links)] = struct.pack("<%dH" % len(links), *links)
    root = (1 + fat_sectors) * 512
    data[root:root + 32] = _short(b"LOADER     ", 0x10, 2, 0)
    data[root + 512:root + 544] = _short(b"ENTRIES    ", 0x10, 3, 0)   # cluster 2
    at = root + 1024                                                      # cluster 3 on
    for number in range(count):
        short = b"E%07dCON" % number
        data[at + 64 * number:at + 64 * (number + 1)] = _lfn_entries("e%07d.conf" % number, short) + _short(short, 0x20, 0, 0)
    return partitions.BytesDisk(bytes(data))


def test_fat_lookups_in_a_large_directory_take_linear_time():
    """Each of a directory's files is looked up by its path: a scan of the
    listing for each took minutes for a 2 MiB /loader/entries (16,000 files:
    45 s; now well under a second)."""
    disk = _fat16_with_loader_entries(16000)

    def blocked(signum, frame):
        raise AssertionError("gather_esp blocked")
    previous = signal.signal(signal.SIGALRM, blocked)
    signal.alarm(10)
    try:
        esp = imagefile.gather_esp(disk, [{"number": 1, "start": 0, "size": disk.size, "type": partitions.ESP_GUID}],
                                   "x86_64")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert len(esp["bls"]) == 16000 and esp["error"] is None
    assert fat.FatReader(disk, 0, disk.size).stat("/LOADER/Entries/e0001234.CONF")["name"] == "e0001234.conf"
