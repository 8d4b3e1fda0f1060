"""The kernel's lzo initramfs format read in Python, against files real lzop
1.04 wrote (tests/fixtures/initramfs/lzofixtures.py)."""

import gzip
import shutil
import struct
import time

import pytest
from hypothesis import given, strategies as st

from ansible_collections.guestready.gce.plugins.module_utils import initramfs, unlzo
import lzofixtures

READABLE = [fixture for fixture in lzofixtures.FIXTURES if fixture[3]]


def fixture(name):
    with open(lzofixtures.path(name), "rb") as handle:
        return handle.read()


def decompress(data, piece=1 << 20, max_length=1 << 20):
    """Feed ``data`` in pieces as initramfs._pieces does; ``(output, decompressor)``."""
    decompressor, out = unlzo.Decompressor(), bytearray()
    for start in range(0, len(data), piece):
        chunk = data[start:start + piece]
        while True:
            out += decompressor.decompress(chunk, max_length)
            chunk = b""
            if decompressor.eof or decompressor.needs_input:
                break
        if decompressor.eof:
            break
    return bytes(out), decompressor


@pytest.mark.parametrize("name, source", [(f[0], f[1]) for f in READABLE])
@pytest.mark.parametrize("piece, max_length", [(1 << 20, 1 << 20), (7, 1000), (4096, 100)])
def test_what_lzop_wrote_is_read_as_the_kernel_reads_it(name, source, piece, max_length):
    data = fixture(name)
    trailer = b"\x00" * 12 + b"next"
    out, decompressor = decompress(data + trailer, piece, max_length)
    assert out == lzofixtures.archive(source)
    # what was fed past the stream's end (all of it when it came in one piece)
    assert decompressor.eof and decompressor.unused_data == trailer[:(len(data) + piece - 1) // piece * piece - len(data)]
    with open(lzofixtures.path(name), "rb") as handle:
        assert unlzo.stream_length(handle, 0, len(data)) == len(data)


def test_a_stream_without_checksums_is_one_the_kernel_rejects():
    # decompress_unlzo.c skips one checksum per block whatever the flags say: lzop -F's blocks misread
    data = fixture("modules-no-checksum.lzo")
    with pytest.raises(unlzo.LzoError):
        decompress(data)
    with open(lzofixtures.path("modules-no-checksum.lzo"), "rb") as handle:
        with pytest.raises(unlzo.LzoError, match="file corrupted"):
            unlzo.stream_length(handle, 0, len(data))


def header(version, flags, name=b"initrd", level=True):
    """An lzop header as parse_header reads it (no checksum is checked)."""
    head = unlzo.MAGIC + struct.pack(">HHHB", version, 0x20a0, 0x0940, 3)
    if version >= 0x0940 and level:
        head += b"\x05"
    head += struct.pack(">I", flags) + (b"FILT" if flags & unlzo.HEADER_HAS_FILTER else b"")
    head += struct.pack(">II", 0o100644, 0) + (b"\x00" * 4 if version >= 0x0940 else b"")
    return head + bytes([len(name)]) + name + b"CSUM"


@pytest.mark.parametrize("version, flags", [(0x1040, 1), (0x0930, 1), (0x1040, 1 | unlzo.HEADER_HAS_FILTER),
                                            (0x0900, 1 | unlzo.HEADER_HAS_FILTER)])
def test_header_fields_as_parse_header_reads_them(version, flags):
    data = fixture("modules-9.lzo")
    blocks = data[unlzo.header_length(data):]
    assert decompress(header(version, flags) + blocks)[0] == lzofixtures.archive("modules")


def test_corrupt_streams_say_what_is_wrong():
    data = fixture("modules-1.lzo")
    start = unlzo.header_length(data)
    with pytest.raises(unlzo.LzoError, match="invalid header"):
        decompress(b"\x89LZX" + data[4:])
    too_long = data[:start] + struct.pack(">I", unlzo.BLOCK_SIZE + 1) + data[start + 4:]
    with pytest.raises(unlzo.LzoError, match="dest len longer than block size"):
        decompress(too_long)
    dst_len = struct.unpack(">I", data[start:start + 4])[0]
    longer = data[:start + 4] + struct.pack(">I", dst_len + 1) + data[start + 8:]
    with pytest.raises(unlzo.LzoError, match="file corrupted"):
        decompress(longer)
    flipped = bytearray(data)
    flipped[start + 12:start + 40] = b"\xff" * 28
    with pytest.raises(unlzo.LzoError, match="Compressed data violation"):
        decompress(bytes(flipped))
    out, decompressor = decompress(data[:len(data) // 2])
    assert not decompressor.eof


@given(st.binary(max_size=64), st.integers(min_value=0, max_value=6000), st.sampled_from([f[0] for f in READABLE]))
def test_damaged_streams_fail_cleanly(junk, where, name):
    data = bytearray(fixture(name))
    where = min(where, len(data))
    data[where:where + len(junk)] = junk
    try:
        out, dummy = decompress(bytes(data), 4096, 1 << 16)
    except unlzo.LzoError:
        return
    assert len(out) <= 64 * unlzo.BLOCK_SIZE


def test_block_decompressor_checks_like_lzo1x_decompress_safe():
    with pytest.raises(unlzo.LzoError, match="input overrun"):
        unlzo.lzo1x_decompress(b"\x15ab", 10)                     # 4 literals announced, 2 there
    with pytest.raises(unlzo.LzoError, match="lookbehind overrun"):
        unlzo.lzo1x_decompress(b"\x12ab\x40\x05\x11\x00\x00", 10)  # a match before the start
    with pytest.raises(unlzo.LzoError, match="output overrun"):
        unlzo.lzo1x_decompress(b"\x15abcd\x11\x00\x00", 3)
    assert unlzo.lzo1x_decompress(b"\x15abcd\x11\x00\x00", 4) == b"abcd"
    with pytest.raises(unlzo.LzoError, match="input not consumed"):
        unlzo.lzo1x_decompress(b"\x15abcd\x11\x00\x00X", 4)
    with pytest.raises(unlzo.LzoError, match="LZO-RLE"):
        unlzo.lzo1x_decompress(b"\x11\x01\x15abcd\x11\x00\x00", 4)


@given(st.binary(max_size=300), st.integers(min_value=0, max_value=unlzo.BLOCK_SIZE))
def test_any_block_is_decompressed_or_rejected_within_its_size(data, size):
    try:
        out = unlzo.lzo1x_decompress(data, size)
    except unlzo.LzoError:
        return
    assert len(out) == size


def test_hostile_blocks_are_bounded_by_their_lengths():
    """A match or literal run lengthened by many zero bytes, a block claiming
    more than the kernel's 256 KiB, a far or overlapping match: an LzoError
    or exactly the block's length, at once."""
    zeros = b"\x00" * 200000
    for block in (b"\x13ab\x20" + zeros + b"\x01\x00\x00\x11\x00\x00",   # a 51 MB match
                  b"\x13ab\x10" + zeros + b"\x01\x00\x00\x11\x00\x00",   # a far one as long
                  b"\x13ab\x00" + zeros + b"\x01abcd\x11\x00\x00",        # a 51 MB literal run
                  b"\x13ab\x20" + zeros):                                 # a run to the end
        with pytest.raises(unlzo.LzoError, match="overrun|bad end marker"):
            unlzo.lzo1x_decompress(block, unlzo.BLOCK_SIZE)
    # an overlapping match filling the block: 2 + 255 * 1027 + 31 + 224 = 262142 bytes from 2 back
    block = b"\x13ab\x20" + b"\x00" * 1027 + bytes([224]) + b"\x04\x00\x11\x00\x00"
    assert unlzo.lzo1x_decompress(block, unlzo.BLOCK_SIZE) == b"ab" * (unlzo.BLOCK_SIZE // 2)
    header = fixture("modules-1.lzo")[:unlzo.header_length(fixture("modules-1.lzo"))]
    for lengths in ((0xFFFFFFFF, 10), (unlzo.BLOCK_SIZE + 1, 10), (10, 0), (10, 11), (10, 0xFFFFFFFF)):
        with pytest.raises(unlzo.LzoError, match="block size|file corrupted"):
            decompress(header + struct.pack(">II", *lengths) + b"CSUM" + b"x" * 20)
    # a stored block, then the end: what follows is the next segment's
    out, decompressor = decompress(header + struct.pack(">II", 3, 3) + b"CSUMabc" + b"\x00" * 4 + b"next")
    assert out == b"abc" and decompressor.eof and decompressor.unused_data == b"next"


def blocks(name):
    """The compressed blocks of a fixture, each with its two lengths and checksum."""
    data = fixture(name)
    position, found = unlzo.header_length(data), []
    while struct.unpack(">I", data[position:position + 4])[0]:
        src_len = struct.unpack(">I", data[position + 4:position + 8])[0]
        found.append(data[position:position + 12 + src_len])
        position += 12 + src_len
    return data[:unlzo.header_length(data)], found


def test_decompression_rate():
    """40 MB of lzop's blocks decompress in well under a second (0.1 s here);
    the slowest valid block (3-byte matches from 2-byte instructions: 4.6 MB/s
    here) and a stream of 256 KiB bombs stay linear.  The bounds are liveness
    bounds, a hundred times what they take, not speed targets (benchmarks
    measure speed): a decoder gone quadratic never ends within them."""
    header, found = blocks("modules-1.lzo")
    start = time.time()
    out, decompressor = decompress(header + found[0] * 160 + b"\x00" * 4)
    assert len(out) == 160 * unlzo.BLOCK_SIZE and decompressor.eof
    assert time.time() - start < 30
    slow = b"\x13ab" + b"\x40\x00" * 87000 + b"\x11\x00\x00"
    start = time.time()
    assert len(unlzo.lzo1x_decompress(slow, 2 + 3 * 87000)) == 2 + 3 * 87000
    assert time.time() - start < 30


# -- in an initramfs ------------------------------------------------------------

def without_lzop(monkeypatch):
    real = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name, *args, **kwargs: None if name == "lzop" else real(name, *args, **kwargs))


def test_an_lzo_initramfs_is_read_without_lzop(tmp_path, monkeypatch):
    """Without ``lzop`` an lzo image was "could not inspect"; it is read in
    Python, to its exact end, so a segment after it is read too."""
    without_lzop(monkeypatch)
    early = lzofixtures.cpio([("kernel/x86/microcode/GenuineIntel.bin", b"\x01" * 100)])
    after = lzofixtures.cpio([("etc/modprobe.d/late.conf", b"blacklist nvme\n")])
    path = tmp_path / "initrd.img"
    path.write_bytes(early + fixture("modules-9.lzo") + b"\x00" * 8 + gzip.compress(after))
    files, method, error = initramfs.list_files(str(path), listers=False)
    assert error is None and method == "python:cpio+lzo+gzip"
    assert "usr/lib/modules/%s/kernel/drivers/scsi/virtio_scsi.ko" % lzofixtures.RELEASE in files
    assert "etc/modprobe.d/late.conf" in files
    assert initramfs.kernel_modules(str(path), listers=False)[0] == {"virtio_scsi", "copy_of_virtio_scsi", "virtio_net"}
    assert initramfs.modprobe_config(str(path), listers=False) == [
        ("etc/modprobe.d/gce.conf", "blacklist floppy\n"), ("etc/modprobe.d/late.conf", "blacklist nvme\n")]


def test_an_lzo_initramfs_the_kernel_cannot_unpack_says_so(tmp_path, monkeypatch):
    without_lzop(monkeypatch)
    path = tmp_path / "initrd.img"
    path.write_bytes(fixture("modules-no-checksum.lzo"))
    files, method, error = initramfs.list_files(str(path), listers=False)
    assert files is None
    assert error.startswith("%s: corrupt lzo data at offset 0 (file corrupted" % path)
    data = fixture("modules-1.lzo")
    path.write_bytes(data[:-10])
    files, method, error = initramfs.list_files(str(path), listers=False)
    assert error == "%s: truncated cpio archive (lzo data at offset 0, in the entry at offset 35008)" % path
    # cut inside the header or the first block: nothing came out (was "no cpio archive in the decompressed data")
    for end in (20, 200, 4000):
        path.write_bytes(data[:end])
        files, method, error = initramfs.list_files(str(path), listers=False)
        assert error == "%s: truncated lzo data at offset 0: the compressed stream ends early" % path, end


def test_lzop_decompresses_exactly_the_kernel_s_segment_when_there_is_one(tmp_path, monkeypatch):
    # a stand-in lzop that records what it is given and decompresses it in Python
    tool = tmp_path / "bin"
    tool.mkdir()
    (tool / "lzop").write_text(
        "#!/bin/sh\ncat > %s/given\nexec python3 -c 'import sys; sys.path.insert(0, \"%s\"); import unlzo; "
        "sys.stdout.buffer.write(unlzo.Decompressor().decompress(open(\"%s/given\", \"rb\").read()))'\n"
        % (tmp_path, initramfs.os.path.dirname(unlzo.__file__), tmp_path))
    (tool / "lzop").chmod(0o755)
    monkeypatch.setenv("PATH", "%s:%s" % (tool, initramfs.os.environ["PATH"]))
    data = fixture("modules-1.lzo")
    path = tmp_path / "initrd.img"
    path.write_bytes(data + b"\x00" * 4 + gzip.compress(lzofixtures.cpio([("init", b"")])))
    files, method, error = initramfs.list_files(str(path), listers=False)
    assert error is None and method == "python:lzo(command)+gzip"
    assert (tmp_path / "given").read_bytes() == data
