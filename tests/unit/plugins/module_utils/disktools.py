"""Real disks for the disk-image tests: partition tables written by sfdisk,
filesystems made by mkfs, FAT trees filled by mtools, all in sparse files."""

import os
import shutil
import struct
import subprocess

import pytest

MIB = 1024 * 1024


def need(*tools):
    missing = [t for t in tools if not shutil.which(t)]
    if missing:
        pytest.skip("needs %s" % ", ".join(missing))


def sparse_file(path, size):
    with open(str(path), "wb") as handle:
        handle.truncate(size)
    return str(path)


def sfdisk(path, script):
    need("sfdisk")
    subprocess.run(["sfdisk", "-q", "--no-reread", "--no-tell-kernel", str(path)], input=script,
                   universal_newlines=True, check=True, stdout=subprocess.PIPE)


def sfdisk_json(path):
    import json
    out = subprocess.run(["sfdisk", "-J", str(path)], stdout=subprocess.PIPE, universal_newlines=True, check=True)
    return json.loads(out.stdout)["partitiontable"]


def mkfs_ext4(path, offset, size, label=None, extra=()):
    need("mkfs.ext4")
    cmd = ["mkfs.ext4", "-q", "-F", "-E", "offset=%d" % offset] + (["-L", label] if label else []) + \
        list(extra) + [str(path), "%dk" % (size // 1024)]
    subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def mkfs_vfat(path, fat_bits=32, label=None, volume_id=None):
    need("mkfs.vfat")
    cmd = ["mkfs.vfat", "-F", str(fat_bits)] + (["-n", label] if label else []) + (["-i", volume_id] if volume_id else []) + [str(path)]
    subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def mtools(image, *commands):
    """Run mtools commands (``mmd``/``mcopy`` argument lists) on a FAT image file."""
    need("mmd", "mcopy")
    for command in commands:
        subprocess.run([command[0], "-i", str(image)] + list(command[1:]), check=True,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ, MTOOLS_SKIP_CHECK="1"))


def pe_image(machine=0x8664, size=8192):
    """A minimal PE/COFF header (what an EFI application starts with)."""
    data = bytearray(size)
    data[0:2] = b"MZ"
    data[60:64] = struct.pack("<I", 128)
    data[128:132] = b"PE\x00\x00"
    data[132:134] = struct.pack("<H", machine)
    return bytes(data)


def uki_image(sections, machine=0x8664, optional=240):
    """A well-formed PE32+ file holding ``sections`` (``[(name, bytes)]``)
    as ukify lays out a unified kernel image: the DOS header pointing at
    "PE\\0\\0", the COFF header, a PE32+ optional header of ``optional``
    bytes, the section table, then each section's data aligned to 512
    bytes (no code: the sections are all that is read)."""
    def align(size):
        return (size + 511) // 512 * 512
    table, body = b"", b""
    start = align(64 + 24 + optional + 40 * len(sections))
    for name, data in sections:
        table += name.encode().ljust(8, b"\0") + struct.pack(
            "<IIIIIIHHI", len(data), 0x1000 + len(body), align(len(data)), start + len(body), 0, 0, 0, 0, 0x40000040)
        body += data.ljust(align(len(data)), b"\0")
    dos = b"MZ" + b"\0" * 58 + struct.pack("<I", 64)
    coff = b"PE\0\0" + struct.pack("<HHIIIHH", machine, len(sections), 0, 0, 0, optional, 0x22)
    opt = struct.pack("<H", 0x20B).ljust(optional, b"\0")[:optional]
    return (dos + coff + opt + table).ljust(start, b"\0") + body


def blkid(path, offset=0):
    need("blkid")
    out = subprocess.run(["blkid", "-p", "-o", "export", "-O", str(offset), str(path)],
                         stdout=subprocess.PIPE, universal_newlines=True, check=False)
    return dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)


def write_at(path, offset, data):
    with open(str(path), "r+b") as handle:
        handle.seek(offset)
        handle.write(data)


def flip_at(path, offset):
    """Invert the byte at ``offset``: a change whatever the byte was (a fixed
    value written over a random GUID byte is no change once in 256 runs)."""
    with open(str(path), "r+b") as handle:
        handle.seek(offset)
        byte = handle.read(1)
        handle.seek(offset)
        handle.write(bytes([byte[0] ^ 0xFF]))


def cis_disk(directory, table="gpt"):
    """A CIS-style disk image in ``directory``: an ESP (FAT12), / and a separate /var/log/audit (ext4,
    labelled "audit log"); ``table`` "gpt" or an MBR disk ID ("0x1234abcd").  Returns its path."""
    path = sparse_file(os.path.join(str(directory), "disk.raw"), 64 * MIB)
    if table == "gpt":
        sfdisk(path, "label: gpt\nsize=4M, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=EFI\n"
               "size=24M, type=L, name=root\nsize=16M, type=L, name=audit\n")
    else:
        sfdisk(path, "label: dos\nlabel-id: %s\n,4M,ef\n,24M,83,*\n,16M,83\n" % table)
    starts = [(p["start"] * 512, p["size"] * 512) for p in sfdisk_json(path)["partitions"]]
    esp = sparse_file(os.path.join(str(directory), "esp.raw"), starts[0][1])
    # a volume ID with letters: tests compare its upper and lower case (a random one may be all digits)
    mkfs_vfat(esp, 12, label="ESP", volume_id="4e2ab91c")
    with open(esp, "rb") as handle:
        write_at(path, starts[0][0], handle.read())
    os.unlink(esp)
    mkfs_ext4(path, starts[1][0], starts[1][1], label="root")
    mkfs_ext4(path, starts[2][0], starts[2][1], label="audit log")
    return path
