# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deterministic mutation fuzzing of the readers of hostile disk bytes: the
partition table (partitions.py), the superblock probe (filesystems.py), the
FAT reader (fat.py) and the PE reader of unified kernel images (uki.py).

Valid seeds are built with the tools the other tests use (sfdisk, mkfs,
mtools, disktools.uki_image); each mutant sets the seed's known fields
(header sizes, entry counts, LBAs, FAT links, directory entries' clusters
and sizes, PE section offsets and sizes) to 0, all ones, huge or
neighbouring values, flips bytes and cuts the image short; a GPT's CRC32s are
mostly set right again after a change, or every mutant would stop at them.
Each mutant is read the way the callers read an image
(imagefile._partitions_with_filesystems, gather_esp, gather_bios; the UKI
and FAT entry points directly): a result or the reader's own error is fine;
any other exception, a case that runs past its time bound, or a read outside
the area a reader was given fails, naming the seed, the case number and the
mutations (the same every run: random.Random(seed name, case number)).

``GUESTREADY_FUZZ=long`` (``make fuzz``) runs many more cases per seed;
GUESTREADY_FUZZ_EXAMPLES sets the count, GUESTREADY_FUZZ_FIRST the first case number
(to run cases no earlier run has)."""

import io
import os
import random
import signal
import struct
import subprocess
import traceback

import pytest
from disktools import MIB, mkfs_ext4, mtools, need, pe_image, sfdisk, sfdisk_json, sparse_file, uki_image, write_at

from ansible_collections.guestready.gce.plugins.module_utils import bootconfig, fat, filesystems, imagefile, partitions, uki

LONG = os.environ.get("GUESTREADY_FUZZ", "short") == "long"
CASES = int(os.environ.get("GUESTREADY_FUZZ_EXAMPLES") or (20000 if LONG else 1500))
FIRST = int(os.environ.get("GUESTREADY_FUZZ_FIRST") or 0)
CASE_SECONDS = 20   # generous: a case takes milliseconds; a hang or a runaway loop takes far longer

OSREL = b'NAME="Fedora Linux"\nID=fedora\nVERSION_ID=41\nPRETTY_NAME="Fedora Linux 41"\n'
UKI_SECTIONS = [(".osrel", OSREL), (".cmdline", b"root=UUID=1234 ro console=ttyS0"),
                (".uname", b"6.11.4-301.fc41.x86_64\0"), (".initrd", b"\x07" * 300), (".linux", b"MZkernel"),
                (".profile", b"ID=one\n"), (".cmdline", b"one")]
ESP_FILES = {
    "EFI/BOOT/BOOTX64.EFI": pe_image(0x8664, 3000),
    "EFI/Linux/fedora-6.11.efi": uki_image(UKI_SECTIONS),
    "EFI/debian/grub.cfg": b"search.fs_uuid 1234 root\nconfigfile ($root)/boot/grub/grub.cfg\n",
    "EFI/debian/grubenv": b"# GRUB Environment Block\nsaved_entry=debian\n".ljust(1024, b"#"),
    "EFI/debian/a rather long file name.efi": pe_image(0xAA64, 600),
    "loader/loader.conf": b"default fedora*\ntimeout 3\n",
    "loader/entries/fedora.conf": b"title Fedora\nlinux /vmlinuz\ninitrd /initrd.img\noptions root=UUID=1 ro\n",
    "vmlinuz": b"MZ" + b"k" * 5000,
}


# ------------------------------------------------------------------ mutants

class Hang(BaseException):
    """Raised by the watchdog; a BaseException so no reader's handler swallows it."""


class Mutant(object):
    """A seed's bytes with patches over them, maybe cut short, read as
    partitions.Disk reads (short or empty past the end); every read asked for
    is logged."""

    def __init__(self, base, size=None):
        self.base = base
        self.size = len(base) if size is None else size
        self.patches = {}
        self.reads = []

    def put(self, offset, data):
        for index, byte in enumerate(bytearray(data)):
            if 0 <= offset + index < len(self.base):
                self.patches[offset + index] = byte

    def peek(self, offset, length):
        """The mutant's bytes, unlogged, ignoring the cut (the fix-ups read them)."""
        data = bytearray(self.base[offset:offset + length])
        for where, byte in self.patches.items():
            if offset <= where < offset + len(data):
                data[where - offset] = byte
        return bytes(data)

    def read(self, offset, length):
        self.reads.append((offset, length))
        if offset < 0 or length <= 0 or offset >= self.size:
            return b""
        return self.peek(offset, min(length, self.size - offset))


def values(rng, width, original):
    top = (1 << (8 * width)) - 1
    return rng.choice([0, 1, 2, top, top - 1, top >> 1, (top >> 1) + 1, rng.randint(0, top),
                       (original + 1) & top, (original - 1) & top, (original * 2) & top, original ^ (1 << (8 * width - 1)),
                       min(original * 4096, top), rng.randint(0, min(top, 4 * original + 64))])


def set_field(mutant, rng, offset, width, value=None):
    original = int.from_bytes(mutant.peek(offset, width).ljust(width, b"\0"), "little")
    value = values(rng, width, original) if value is None else value
    mutant.put(offset, (value & ((1 << (8 * width)) - 1)).to_bytes(width, "little"))
    return "%d@%d=%#x" % (width, offset, value)


def mutate(seed, rng, hot):
    """A mutant of ``seed`` and the list of what was done: fields set, bytes
    flipped in ``hot`` regions ([(offset, length)]), the image cut short."""
    mutant, done = Mutant(seed.data), []
    for dummy in range(rng.choice([1, 1, 2, 3, 5])):
        choice = rng.random()
        if choice < 0.65:
            offset, width = rng.choice(rng.choice(seed.fields))   # a structure, then one of its fields
            done.append(set_field(mutant, rng, offset, width))
        elif choice < 0.8 and seed.links:
            done.append(seed.links(mutant, rng))
        else:
            start, length = rng.choice(hot)
            where = start + rng.randrange(max(length, 1))
            byte = mutant.peek(where, 1) or b"\0"
            mutant.put(where, bytes([byte[0] ^ (1 << rng.randrange(8)) if rng.random() < 0.5 else rng.randrange(256)]))
            done.append("flip@%d" % where)
    if seed.fixup and rng.random() < 0.85:
        seed.fixup(mutant)
        done.append("crc fixed")
    if rng.random() < 0.15:
        start, length = rng.choice(hot)   # mostly inside a structure: a FAT, a directory, a table
        mutant.size = rng.choice([0, 1, 511, 512, 1024, 4096, rng.randrange(len(seed.data)), len(seed.data) - 512,
                                  len(seed.data) - 1] + [start + rng.randrange(max(length, 1))] * 6)
        done.append("cut to %d" % mutant.size)
    return mutant, done


class Seed(object):
    """``fields``: [[(offset, width)]], one list a structure (a partition
    table, a FAT's BPB and directories, a PE header), each as likely to be
    hit however many fields it has; ``hot``: [(offset, length)] where bytes
    are flipped and cuts fall; ``links(mutant, rng)``: changes a FAT link;
    ``fixup(mutant)``: sets checksums right again."""

    def __init__(self, name, data, fields, hot=None, links=None, fixup=None):
        self.name, self.data, self.fields = name, data, fields
        self.hot = hot or [(0, min(len(data), 65536))]
        self.links, self.fixup = links, fixup


# ------------------------------------------------------------------ structures of the seeds

def fat_structure(data, base, size):
    """The fields of the FAT filesystem at ``base``: its BPB, its directories'
    entries, and a link mutator for its FAT (loops, out-of-range clusters)."""
    disk = partitions.BytesDisk(data)
    reader = fat.FatReader(disk, base, size)
    fields = [(base + offset, width) for offset, width in
              ((11, 2), (13, 1), (14, 2), (16, 1), (17, 2), (19, 2), (22, 2), (32, 4), (36, 4), (44, 4))]
    directories = [reader.root]
    for path, is_dir, dummy in reader.walk():
        if is_dir:
            directories.append(reader._lookup(path)[1])
    regions, hot = [], [(base, 512), (base + reader.bytes_per_sector * struct.unpack("<H", data[base + 14:base + 16])[0],
                                      min(len(reader.fat), 4096))]
    for where in directories:
        if where[0] == "fixed":
            regions.append((base + where[1], where[2]))
        else:
            for cluster in reader._chain(where[1]):
                regions.append((cluster_offset(reader, cluster), reader.cluster_bytes))
    for start, length in regions:
        hot.append((start, length))
        for slot in range(start, start + length, 32):
            if data[slot] != 0:
                fields += [(slot + offset, width) for offset, width in ((0, 1), (11, 1), (13, 1), (20, 2), (26, 2), (28, 4))]
    used = []
    for path, dummy, dummy in reader.walk():
        cluster = reader._lookup(path)[0]["cluster"]
        used += reader._chain(cluster) if cluster >= 2 else []
    fat_at = base + reader.bytes_per_sector * struct.unpack("<H", data[base + 14:base + 16])[0]

    def links(mutant, rng):
        cluster = rng.choice(used or [2])
        top = {12: 0xFFF, 16: 0xFFFF, 32: 0x0FFFFFFF}[reader.kind]
        value = rng.choice([cluster, rng.choice(used or [2]), 0, 1, top - 8, top, reader.clusters + 2,
                            reader.clusters + 1, rng.randrange(top + 1), cluster + 1])
        _set_link(mutant, fat_at, reader.kind, cluster, value)
        return "link %d->%#x" % (cluster, value)
    return fields, hot, links


def cluster_offset(reader, cluster):
    return reader.offset + ((cluster - 2) * reader.sectors_per_cluster + reader.first_data) * reader.bytes_per_sector


def _set_link(mutant, fat_at, kind, cluster, value):
    if kind == 12:
        where = fat_at + cluster + cluster // 2
        pair = int.from_bytes(mutant.peek(where, 2).ljust(2, b"\0"), "little")
        pair = (pair & 0x000F) | (value & 0xFFF) << 4 if cluster & 1 else (pair & 0xF000) | (value & 0xFFF)
        mutant.put(where, pair.to_bytes(2, "little"))
    elif kind == 16:
        mutant.put(fat_at + cluster * 2, (value & 0xFFFF).to_bytes(2, "little"))
    else:
        mutant.put(fat_at + cluster * 4, (value & 0xFFFFFFFF).to_bytes(4, "little"))


GPT_HEADER_FIELDS = ((8, 4), (12, 4), (24, 8), (32, 8), (40, 8), (48, 8), (72, 8), (80, 4), (84, 4))
GPT_ENTRY_FIELDS = ((0, 1), (15, 1), (32, 8), (40, 8), (48, 8))
MBR_ENTRY_FIELDS = ((0, 1), (4, 1), (8, 4), (12, 4))


def gpt_fixup(mutant):
    """Set the GPT headers' CRC32s (and their arrays') right for the mutant's fields."""
    last = len(mutant.base) // 512 - 1
    for lba in (1, last):
        raw = mutant.peek(lba * 512, 512)
        if raw[:8] != b"EFI PART":
            continue
        header_size = struct.unpack("<I", raw[12:16])[0]
        entries_lba, count, entry_size = struct.unpack("<QII", raw[72:88])
        if count * entry_size <= partitions.MAX_GPT_ENTRIES_BYTES and entries_lba * 512 < len(mutant.base):
            array = mutant.peek(entries_lba * 512, count * entry_size)
            mutant.put(lba * 512 + 88, struct.pack("<I", partitions.crc32(array)))
        if 92 <= header_size <= 512:
            raw = bytearray(mutant.peek(lba * 512, header_size))
            raw[16:20] = b"\0\0\0\0"
            mutant.put(lba * 512 + 16, struct.pack("<I", partitions.crc32(bytes(raw))))


def table_structure(data):
    """The fields of the seed's partition table: MBR entries, the extended
    chain's records, both GPT headers and the entries in use."""
    fields = [(440, 4), (510, 1), (0x5C, 8)]
    for slot in range(4):
        fields += [(446 + 16 * slot + offset, width) for offset, width in MBR_ENTRY_FIELDS]
    extended = [struct.unpack("<I", data[454 + 16 * slot:458 + 16 * slot])[0] for slot in range(4)
                if data[450 + 16 * slot] in partitions.EXTENDED_TYPES]
    for ext_start in extended:
        current = ext_start
        for dummy in range(16):
            for slot in range(2):
                fields += [(current * 512 + 446 + 16 * slot + offset, width) for offset, width in MBR_ENTRY_FIELDS]
            link = struct.unpack("<I", data[current * 512 + 462 + 8:current * 512 + 462 + 12])[0]
            if not link:
                break
            current = ext_start + link
    last = len(data) // 512 - 1
    gpt = data[512:520] == b"EFI PART"
    if gpt:
        for lba in (1, last):
            fields += [(lba * 512 + offset, width) for offset, width in GPT_HEADER_FIELDS]
            entries_lba = struct.unpack("<Q", data[lba * 512 + 72:lba * 512 + 80])[0]
            for index in range(128):
                at = entries_lba * 512 + index * 128
                if any(data[at:at + 16]):
                    fields += [(at + offset, width) for offset, width in GPT_ENTRY_FIELDS]
    return fields, gpt


# ------------------------------------------------------------------ seeds

def write_esp(tmp_path, name, size, bits):
    image = sparse_file(tmp_path / name, size)
    need("mkfs.vfat", "mmd", "mcopy")
    # one sector a cluster: the smallest filesystems mkfs.fat makes of each kind
    subprocess.run(["mkfs.vfat", "-F", str(bits), "-s", "1", "-n", "ESP", image], check=True,
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    directories = sorted(set("/".join(path.split("/")[:depth]) for path in ESP_FILES
                             for depth in range(1, path.count("/") + 1)))
    commands = [["mmd"] + ["::/" + directory for directory in directories]]
    for number, (path, content) in enumerate(sorted(ESP_FILES.items())):
        source = tmp_path / ("%s-file-%d" % (name, number))
        source.write_bytes(content)
        commands.append(["mcopy", str(source), "::/" + path])
    mtools(image, *commands)
    with open(image, "rb") as handle:
        return handle.read()


def disk_seed(tmp_path, name, script, esp_bits, root_index):
    """A whole disk: the table sfdisk writes, an ESP holding ESP_FILES in its
    first partition, ext4 in partition ``root_index``."""
    need("sfdisk", "mkfs.ext4")
    path = sparse_file(tmp_path / (name + ".raw"), 8 * MIB)
    sfdisk(path, script)
    starts = [(p["start"] * 512, p["size"] * 512) for p in sfdisk_json(path)["partitions"]]
    write_at(path, starts[0][0], write_esp(tmp_path, name + "-esp.img", starts[0][1], esp_bits))
    mkfs_ext4(path, starts[root_index][0], starts[root_index][1], label="root")
    with open(path, "rb") as handle:
        data = handle.read()
    fields, gpt = table_structure(data)
    fat_fields, fat_hot, links = fat_structure(data, starts[0][0], starts[0][1])
    hot = [(0, 1024), (starts[root_index][0], 4096)] + fat_hot
    if gpt:
        hot += [(1024, 16384), (len(data) - 512, 512)]
    return Seed(name, data, [fields, fat_fields], hot, links, gpt_fixup if gpt else None)


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("binary-fuzz")
    return {"tmp": tmp_path}


def built(seeds, name, build):
    if name not in seeds:
        seeds[name] = build(seeds["tmp"])
    return seeds[name]


def lvm_seed(tmp_path):
    """An LVM physical volume's label (sector 1) and text metadata (at 4 KiB)
    on a 192 KiB area: the probe that reads furthest (the metadata to the
    area's end, up to 1 MiB)."""
    data = bytearray(192 * 1024)
    label = data[512:1024]
    label[0:32] = b"LABELONE" + struct.pack("<QII", 1, 0, 32) + b"LVM2 001"
    label[32:64] = b"AbCdEfGhIjKlMnOpQrStUvWxYz012345"
    data[512:1024] = label
    data[4096:4096 + 40] = b'vg_image {\nid = "abc"\nseqno = 1\n}\n'.ljust(40, b"\0")
    data[528:532] = struct.pack("<I", filesystems.lvm_crc(bytes(data[532:1024])))
    fields = [(512 + offset, width) for offset, width in ((0, 1), (8, 8), (16, 4), (20, 4), (24, 1), (32, 1))]
    fields += [(4096, 1), (4096 + 9, 1), (0, 4), (510, 2)]
    return Seed("lvm", bytes(data), [fields], [(0, 1024), (4096, 64)], fixup=lvm_fixup)


def lvm_fixup(mutant):
    mutant.put(528, struct.pack("<I", filesystems.lvm_crc(mutant.peek(532, 492))))


SEEDS = {
    "gpt-disk": lambda tmp: disk_seed(tmp, "gpt-disk", "label: gpt\nsize=3M, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, "
                                      "name=EFI\nsize=1M, type=21686148-6449-6E6F-744E-656564454649\nsize=2M, type=L\n",
                                      16, 2),
    "mbr-disk": lambda tmp: disk_seed(tmp, "mbr-disk", "label: dos\nlabel-id: 0x1234abcd\n,1M,ef\n,2M,83,*\n,4M,5\n,1M,83\n,1M,83\n",
                                      12, 1),
    "fat12": lambda tmp: esp_seed(tmp, 12, MIB),
    "fat16": lambda tmp: esp_seed(tmp, 16, 3 * MIB),
    # mtools cannot add a directory to a FAT32 of fewer clusters than FAT16 holds
    "fat32": lambda tmp: esp_seed(tmp, 32, 34 * MIB),
    "lvm": lvm_seed,
}


def esp_seed(tmp_path, bits, size):
    data = write_esp(tmp_path, "fat%d.img" % bits, size, bits)
    fields, hot, links = fat_structure(data, 0, len(data))
    return Seed("fat%d" % bits, data, [fields], hot, links)


def uki_seed(tmp_path):
    data = uki_image(UKI_SECTIONS)
    pe = struct.unpack("<I", data[60:64])[0]
    table = pe + 24 + struct.unpack("<H", data[pe + 20:pe + 22])[0]
    fields = [(60, 4), (pe, 1), (pe + 6, 2), (pe + 20, 2), (pe + 24, 2)]
    for index in range(len(UKI_SECTIONS)):
        fields += [(table + 40 * index + offset, width) for offset, width in ((0, 1), (1, 1), (8, 4), (16, 4), (20, 4))]
    return Seed("uki", data, [fields], [(0, table + 40 * len(UKI_SECTIONS))])


SEEDS["uki"] = uki_seed


def probe_area(mutant):
    """filesystems.probe of the whole area, as of a disk with no table:
    nothing raised, nothing read past the area."""
    filesystems.probe(mutant, 0, mutant.size)
    within(mutant.reads, 0, mutant.size, "filesystems.probe")


# ------------------------------------------------------------------ how the callers read them

def within(reads, start, size, what):
    # a request of no bytes reads nothing, wherever it points (Disk.read answers it with b"")
    outside = [(offset, length) for offset, length in reads
               if length > 0 and (offset < start or offset + length > start + size)]
    assert not outside, "%s read outside its area (%d bytes at %d): %r" % (what, size, start, outside[:3])


def audit_disk(mutant):
    """What imageworker does with an image before mounting anything: the
    table, each partition's filesystem, the ESP, the BIOS boot code.  None of
    them raises: problems are words in the facts."""
    table = partitions.read_table(mutant)
    parts = imagefile._partitions_with_filesystems(mutant, table)
    for part in parts:
        del mutant.reads[:]
        filesystems.probe(mutant, part["start"], part["size"])
        within(mutant.reads, part["start"], part["size"], "filesystems.probe of partition %d" % part["number"])
    del mutant.reads[:]
    esp = imagefile.gather_esp(mutant, parts, None)
    if esp:
        part = [p for p in parts if p["number"] == esp["partition"]][0]
        within(mutant.reads, part["start"], part["size"], "the FAT reader (gather_esp)")
    imagefile.gather_bios(mutant, table, parts)
    bootconfig.esp_arch(esp)


def read_fat(mutant):
    """gather_esp as the callers run it, then every FatReader entry point
    on the seed's paths: FatError is the one error allowed."""
    imagefile.gather_esp(mutant, [{"number": 1, "start": 0, "size": mutant.size, "type": partitions.ESP_GUID}], "x86_64")
    within(mutant.reads, 0, mutant.size, "the FAT reader (gather_esp)")
    try:
        reader = fat.FatReader(mutant, 0, mutant.size)
        reader.walk()
    except fat.FatError:
        return
    for path in sorted(ESP_FILES) + ["EFI", "EFI/BOOT", "loader/entries", "missing/file"]:
        for call in (lambda: reader.exists(path), lambda: reader.stat(path), lambda: reader.listdir(path),
                     lambda: reader.read(path), lambda: reader.read(path, head=100),
                     lambda: reader.read_at(path, 0, 64), lambda: reader.read_at(path, 1000, 5000)):
            try:
                call()
            except fat.FatError:
                pass
    within(mutant.reads, 0, mutant.size, "the FAT reader")


def read_pe(mutant):
    """read_uki as imagefile reads a UKI on the ESP (a read function and the
    size), then sections_of and uname as initramfs reads one in /boot:
    UkiError is the one error allowed."""
    data = mutant.read(0, mutant.size)
    del mutant.reads[:]
    try:
        uki.read_uki(mutant.read, mutant.size, "x.efi")
    except uki.UkiError:
        pass
    within(mutant.reads, 0, mutant.size, "uki.read_uki")
    handle = io.BytesIO(data)
    try:
        sections = uki.sections_of(handle, "x.efi")
        if sections:
            uki.uname(handle, sections, "x.efi")
    except uki.UkiError:
        pass
    fat.pe_machine(data)


READERS = {"gpt-disk": audit_disk, "mbr-disk": audit_disk, "fat12": read_fat, "fat16": read_fat, "fat32": read_fat,
           "uki": read_pe, "lvm": probe_area}


def _alarm(signum, frame):
    raise Hang()


def run_case(seed, number):
    """None, or why the case failed (with what to reproduce it)."""
    rng = random.Random("%s/%d" % (seed.name, number))
    mutant, done = mutate(seed, rng, seed.hot)
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(CASE_SECONDS)
    try:
        READERS[seed.name](mutant)
    except Hang:
        return "%s case %d (%s): ran for more than %d s" % (seed.name, number, ", ".join(done), CASE_SECONDS)
    except Exception as exc:  # the point: anything the reader did not mean to raise
        frames = traceback.extract_tb(exc.__traceback__)
        return "%s case %d (%s): %s: %s at %s:%d" % (seed.name, number, ", ".join(done), type(exc).__name__, exc,
                                                     os.path.basename(frames[-1].filename), frames[-1].lineno)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    return None


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_mutants_are_read_or_refused_cleanly(seeds, name):
    seed = built(seeds, name, SEEDS[name])
    READERS[name](Mutant(seed.data))   # the seed itself reads clean
    failures = [failure for failure in (run_case(seed, number) for number in range(FIRST, FIRST + CASES)) if failure]
    assert not failures, "%d of %d mutants failed:\n%s" % (len(failures), CASES, "\n".join(failures[:20]))


def test_the_seeds_are_what_the_readers_expect(seeds):
    """The seeds hold what the mutations aim at: a GPT and an MBR with an
    extended chain, an ESP whose files the FAT reader and the UKI reader find."""
    gpt = built(seeds, "gpt-disk", SEEDS["gpt-disk"])
    table = partitions.read_table(Mutant(gpt.data))
    assert table["kind"] == "gpt" and table["problems"] == [] and len(table["partitions"]) == 3
    mbr = built(seeds, "mbr-disk", SEEDS["mbr-disk"])
    table = partitions.read_table(Mutant(mbr.data))
    assert table["kind"] == "mbr" and [p["number"] for p in table["partitions"]] == [1, 2, 5, 6]
    parts = imagefile._partitions_with_filesystems(Mutant(gpt.data), partitions.read_table(Mutant(gpt.data)))
    esp = imagefile.gather_esp(Mutant(gpt.data), parts, None)
    assert esp["error"] is None and esp["loaders"]["BOOTX64.EFI"]["machine"] == "x86_64"
    assert [entry["uname"] for entry in esp["uki"]] == ["6.11.4-301.fc41.x86_64"]
    assert [p["filesystem"]["type"] for p in parts] == ["vfat", None, "ext4"]
    for bits in (12, 16, 32):
        seed = built(seeds, "fat%d" % bits, SEEDS["fat%d" % bits])
        reader = fat.FatReader(Mutant(seed.data), 0, len(seed.data))
        assert reader.kind == bits and reader.read("/loader/loader.conf") == ESP_FILES["loader/loader.conf"]
    assert uki.read_handle(io.BytesIO(built(seeds, "uki", SEEDS["uki"]).data), "x.efi")["profiles"] == 1
    lvm = filesystems.probe(Mutant(built(seeds, "lvm", SEEDS["lvm"]).data), 0, 192 * 1024)
    assert (lvm["type"], lvm["group"]) == ("LVM2_member", "vg_image")
