"""The superblock probes against this machine's libblkid, through ctypes, with
the flags udev's blkid builtin probes with (udev-builtin-blkid.c: label, UUID,
type, version; no bad checksum accepted) and its safe probe: the TYPE, UUID
and LABEL udev gives a partition, from which it makes the /dev/disk/by-uuid
and by-label links an fstab entry waits for.  Filesystems mkfs makes (ext2,
ext3, ext4, FAT12, FAT16, FAT32, swap, XFS) and LUKS1 and LUKS2 headers are
spoilt a few bytes at a time in their superblocks, headers, boot sectors,
FSInfo sectors, root directories and swap headers.  Skipped without libblkid,
mkfs.ext4, mkfs.vfat, mkswap or mkfs.xfs."""

import ctypes
import ctypes.util
import shutil
import struct
import subprocess

import pytest
from hypothesis import given, strategies as st

from ansible_collections.guestready.gce.plugins.module_utils import filesystems, partitions

LIBBLKID = ctypes.util.find_library("blkid")
pytestmark = pytest.mark.skipif(
    not LIBBLKID or not all(shutil.which(tool) for tool in ("mkfs.ext4", "mkfs.vfat", "mkswap", "mkfs.xfs")),
    reason="needs libblkid, mkfs.ext4, mkfs.vfat, mkswap and mkfs.xfs")
# blkid.h BLKID_SUBLKS_LABEL | UUID | TYPE | SECTYPE | USAGE | VERSION: what udev asks for
UDEV_FLAGS = (1 << 1) | (1 << 3) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8)
EXT2 = "^has_journal,^extent,^64bit,^flex_bg,^huge_file,^metadata_csum,^dir_nlink,^extra_isize"
MIB = 1024 * 1024
# (mkfs command, size, the areas worth spoiling: (start, end))
BASES = {
    "ext4": (["mkfs.ext4", "-q", "-F", "-L", "root"], 4 * MIB, [(1024, 1424), (0, 70000)]),
    "ext3": (["mkfs.ext4", "-q", "-F", "-O", EXT2.replace("^has_journal,", "")], 4 * MIB, [(1024, 1424)]),
    "ext2": (["mkfs.ext4", "-q", "-F", "-L", " pad ", "-O", EXT2], 4 * MIB, [(1024, 1424)]),
    "fat12": (["mkfs.vfat", "-F", "12", "-n", "ESP"], 4 * MIB, [(0, 512), (0, 70000)]),
    "fat16": (["mkfs.vfat", "-F", "16"], 40 * MIB, [(0, 512), (0, 120000)]),
    "fat32": (["mkfs.vfat", "-F", "32", "-n", "EFI"], 40 * MIB, [(0, 512), (512, 1024), (0, 600000)]),
    "swap": (["mkswap", "-L", "sw"], 4 * MIB, [(1024, 1540), (4086, 4096), (0, 70000)]),
    "xfs": (["mkfs.xfs", "-q", "-f", "-L", "data"], 300 * MIB, [(0, 160), (0, 512)]),
    # LUKS headers as cryptsetup writes them (version, UUID, a LUKS2 label), the LUKS2 one also as the
    # secondary header alone, at 16 KiB
    "luks1": (None, 5 * MIB, [(0, 8), (168, 208)]),
    "luks2": (None, 5 * MIB, [(0, 8), (24, 72), (168, 208)]),
    "luks2-secondary": (None, 5 * MIB, [(0x4000, 0x4008), (0x4000 + 168, 0x4000 + 208), (0, 8)]),
}


def luks_header(version, magic=b"LUKS\xba\xbe"):
    header = bytearray(512)
    header[0:8] = magic + struct.pack(">H", version)
    header[168:204] = b"2b2dc9c8-8f0e-4bd9-9c51-4e3a7b6f0d11"
    if version == 2:
        header[24:32] = b"cryptroot"[:8]
    return bytes(header)


def libblkid():
    lib = ctypes.CDLL(LIBBLKID)
    lib.blkid_new_probe_from_filename.restype = ctypes.c_void_p
    lib.blkid_new_probe_from_filename.argtypes = [ctypes.c_char_p]
    for name in ("blkid_probe_enable_superblocks", "blkid_probe_set_superblocks_flags"):
        getattr(lib, name).argtypes = [ctypes.c_void_p, ctypes.c_int]
    for name in ("blkid_do_safeprobe", "blkid_probe_numof_values", "blkid_free_probe"):
        getattr(lib, name).argtypes = [ctypes.c_void_p]
    lib.blkid_probe_get_value.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(ctypes.c_char_p),
                                          ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_size_t)]
    return lib


def udev_sees(lib, path):
    """``(TYPE, UUID, LABEL)`` libblkid gives udev for the file, Nones for what it does not."""
    probe = lib.blkid_new_probe_from_filename(path.encode())
    assert probe, path
    try:
        lib.blkid_probe_enable_superblocks(probe, 1)
        lib.blkid_probe_set_superblocks_flags(probe, UDEV_FLAGS)
        values = {}
        if lib.blkid_do_safeprobe(probe) == 0:
            for index in range(lib.blkid_probe_numof_values(probe)):
                name, data, size = ctypes.c_char_p(), ctypes.c_char_p(), ctypes.c_size_t()
                lib.blkid_probe_get_value(probe, index, ctypes.byref(name), ctypes.byref(data), ctypes.byref(size))
                values[name.value] = ctypes.string_at(data, size.value).rstrip(b"\0").decode("utf-8", "replace")
        return tuple(values.get(key) for key in (b"TYPE", b"UUID", b"LABEL"))
    finally:
        lib.blkid_free_probe(probe)


@pytest.fixture(scope="module")
def bases(tmp_path_factory):
    """``({name: path of a sparse image mkfs made}, libblkid)``; each test spoils bytes of an
    image and puts them back."""
    where = tmp_path_factory.mktemp("filesystems")
    made = {}
    for name, (command, size, dummy) in BASES.items():
        made[name] = path = str(where / name)
        with open(path, "wb") as handle:
            handle.truncate(size)
            if name.startswith("luks"):
                handle.seek(0x4000 if name.endswith("secondary") else 0)
                handle.write(luks_header(int(name[4]), b"SKUL\xba\xbe" if name.endswith("secondary") else b"LUKS\xba\xbe"))
        if command:
            subprocess.run(command + [path], check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return made, libblkid()


SPOILS = st.lists(st.tuples(st.integers(0, 3), st.floats(0, 1, exclude_max=True),
                            st.sampled_from([0, 0xFF, 0x20, 0x29, 0x01, None])), min_size=1, max_size=3)


@given(name=st.sampled_from(sorted(BASES)), spoils=SPOILS, value=st.integers(0, 255))
def test_the_probe_sees_what_udev_sees(bases, name, spoils, value):
    made, lib = bases
    path, areas, kept = made[name], BASES[name][2], []
    with open(path, "r+b") as handle:
        try:
            for area, where, byte in spoils:
                start, end = areas[area % len(areas)]
                at = start + int(where * (end - start))
                handle.seek(at)
                old = handle.read(1)[0]
                kept.append((at, old))
                handle.seek(at)
                handle.write(bytes([value if byte is None else byte if old != byte else old ^ 0x80]))
            handle.flush()
            with partitions.Disk(path) as disk:
                found = filesystems.probe(disk, 0, disk.size)
            real = udev_sees(lib, path)
        finally:
            for at, old in reversed(kept):
                handle.seek(at)
                handle.write(bytes([old]))
    assert (found["type"], found["uuid"] and found["uuid"].lower(), found["label"]) == \
        (real[0], real[1] and real[1].lower(), real[2]), (name, spoils, value, found)
