"""Property tests of the initramfs reader on generated images: cpio newc/crc
archives with arbitrary members, alone or as several segments (an
early-microcode archive then a compressed one, NUL padding between), in every
format the reader handles, then truncated or corrupted; and plain random
bytes.  A well-formed image lists exactly its members; anything else is an
InitramfsError (read_image) or an error naming the file (list_files,
kernel_modules) -- never another exception, never a hang.  Profiles (example
counts: GUESTREADY_FUZZ, GUESTREADY_FUZZ_EXAMPLES) are in tests/unit/conftest.py."""

import bz2
import gzip
import itertools
import lzma
import os
import shutil
import subprocess

import pytest

hypothesis = pytest.importorskip("hypothesis", reason="Hypothesis is not installed (requirements-dev.txt)")
from hypothesis import example, given, settings, strategies as st  # noqa: E402

from ansible_collections.guestready.gce.plugins.module_utils import initramfs  # noqa: E402
from ansible_collections.guestready.gce.plugins.module_utils.initramfs import InitramfsError  # noqa: E402

PYTHON_FORMATS = ("gzip", "xz", "lzma", "bzip2")
COMMAND_FORMATS = tuple(kind for kind, tool in (("zstd", "zstd"), ("lz4", "lz4"))
                        if shutil.which(tool))
# the properties that build (and run zstd/lz4 on) whole images take a quarter
# of the profile's examples
HEAVY = settings(max_examples=max(25, settings.default.max_examples // 4))
WORK = None  # the module's scratch directory, made by pytest (nothing is left when a run stops early)
COUNTER = itertools.count()


@pytest.fixture(scope="module", autouse=True)
def _work(tmp_path_factory):
    global WORK
    WORK = str(tmp_path_factory.mktemp("initramfs-fuzz"))


def compress(data, kind):
    if kind == "gzip":
        return gzip.compress(data, 1)
    if kind == "xz":
        return lzma.compress(data, preset=0)
    if kind == "lzma":
        return lzma.compress(data, format=lzma.FORMAT_ALONE, preset=0)
    if kind == "bzip2":
        return bz2.compress(data, 1)
    argv = {"zstd": ["zstd", "-q", "-c", "-1"], "lz4": ["lz4", "-q", "-c", "-l"]}[kind]
    return subprocess.run(argv, input=data, stdout=subprocess.PIPE, check=True).stdout


def newc(members, magic=b"070701"):
    """A cpio newc (070701) or crc (070702) archive of ``members`` [(name, data)]."""
    out = bytearray()
    for ino, (name, data) in enumerate(list(members) + [("TRAILER!!!", b"")], 1):
        encoded = name.encode("utf-8", "surrogateescape") + b"\x00"
        fields = (ino, 0o100644 if data else 0, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(encoded), 0)
        out += magic + "".join("%08X" % field for field in fields).encode() + encoded
        out += b"\x00" * ((4 - len(out) % 4) % 4)
        out += data
        out += b"\x00" * ((4 - len(out) % 4) % 4)
    return bytes(out)


NAMES = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                min_size=1, max_size=60).filter(lambda n: n.strip() and n != "TRAILER!!!")
MEMBERS = st.lists(st.tuples(NAMES, st.binary(max_size=300)), max_size=12)


@st.composite
def image(draw):
    """``(bytes, members)``: one to three segments, each a plain or
    compressed archive, NUL padding to the next aligned offset between (an lz4 segment only last: its
    legacy frames have no end the reader could find)."""
    segments, members = [], []
    count = draw(st.integers(1, 3))
    for number in range(count):
        archive = draw(MEMBERS)
        members += archive
        data = newc(archive, draw(st.sampled_from([b"070701", b"070702"])))
        kind = draw(st.sampled_from((None,) + PYTHON_FORMATS + COMMAND_FORMATS))
        if kind == "lz4" and number < count - 1:
            kind = None  # legacy lz4 has no end marker: only as the last segment
        segments.append(compress(data, kind) if kind else data)
        # the kernel finds an archive only at a 4-byte aligned offset
        # (init/initramfs.c, unpack_to_rootfs): NULs up to it, maybe more
        length = sum(len(segment) for segment in segments)
        segments.append(b"\x00" * ((4 - length % 4) % 4 + draw(st.sampled_from([0, 4, 512]))))
    return b"".join(segments), members


def write(data):
    """A new file per example (the module-name cache is keyed by file)."""
    path = os.path.join(WORK, "initrd.img-%d" % next(COUNTER))
    with open(path, "wb") as handle:
        handle.write(data)
    return path


def expected(members):
    names = []
    for name, dummy in members:
        name = initramfs._normalize(name.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
        if name and name != ".":
            names.append(name)
    return names


def outcome(path):
    """read_image's answer, or its clean error; list_files and kernel_modules
    must answer too (no lister: they are what the host may lack)."""
    try:
        result = initramfs.read_image(path)
    except InitramfsError as exc:
        assert str(exc)
        result = None
    files, method, error = initramfs.list_files(path, listers=False)
    assert (files is None) == (error is not None)
    if error:
        assert error.startswith(path + ": "), error
    names, method, error = initramfs.kernel_modules(path, listers=False)
    assert (names is None) == (error is not None)
    return result


@HEAVY
@given(image())
def test_a_well_formed_image_lists_its_members(generated):
    data, members = generated
    result = outcome(write(data))
    assert result is not None
    files, method = result
    assert files == expected(members)
    assert method.startswith("python:")


@HEAVY
@given(image(), st.data())
def test_truncated_or_corrupted_images_fail_cleanly(generated, draw):
    data = bytearray(generated[0])
    data = data[:draw.draw(st.integers(0, len(data)))]
    for dummy in range(draw.draw(st.integers(0, 6))):
        if data:
            data[draw.draw(st.integers(0, len(data) - 1))] = draw.draw(st.integers(0, 255))
    outcome(write(bytes(data)))


@given(st.binary(max_size=2048))
@example(b"070701" + b"G" * 104)                          # hex fields that are not hex
@example(b"070701" + b"-0000001" * 13)                    # a negative size
@example(b"070701" + b"FFFFFFFF" * 13)                    # a name longer than the file
@example(b"\x1f\x8b\x08\x00" + b"\x00" * 100)
@example(b"\x5d\x00\x00\x80\x00" + b"\xff" * 8)           # lzma-alone magic, garbage after
@example(b"\x00" * 4096)
def test_random_bytes(data):
    outcome(write(data))


@given(st.binary(max_size=1024), st.sampled_from(PYTHON_FORMATS + COMMAND_FORMATS))
def test_compressed_random_data(data, kind):
    outcome(write(compress(data, kind)))


def test_a_compressed_bomb_stops_at_the_limit(monkeypatch):
    """An archive that inflates past MAX_INFLATED is refused, read in
    pieces (never all at once)."""
    monkeypatch.setattr(initramfs, "MAX_INFLATED", 2 * 1024 * 1024)
    member = ("padding", b"\x00" * (4 * 1024 * 1024))
    for kind in PYTHON_FORMATS:
        path = write(compress(newc([member]), kind))
        with pytest.raises(InitramfsError, match="inflates to more than"):
            initramfs.read_image(path)


@pytest.mark.parametrize("field", [b"-00000EC", b"+00000EC", b"0x0000EC", b" 00000EC", b"0000_0EC"])
def test_a_size_field_is_eight_hex_digits(field):
    """int(x, 16) takes a sign, spaces, "0x" and "_": a negative size sent the
    reader back to offset 0, listing the same archive forever."""
    data = bytearray(newc([("a", b"")]))
    data[6 + 8 * 6:14 + 8 * 6] = field   # c_filesize of the first entry
    with pytest.raises(InitramfsError, match="bad header"):
        initramfs.read_image(write(bytes(data)))


def test_the_inflate_limit_holds_for_the_whole_image(monkeypatch):
    """Eight segments, each under MAX_INFLATED, are more than it together."""
    monkeypatch.setattr(initramfs, "MAX_INFLATED", 5 * 1024 * 1024)
    segment = newc([("padding", b"\x00" * (1024 * 1024))])
    for kind in PYTHON_FORMATS + COMMAND_FORMATS:
        one = compress(segment, kind)
        assert initramfs.read_image(write(one))[0] == ["padding"]
        if kind == "lz4":
            continue   # a legacy lz4 frame is read to the file's end: one per image
        with pytest.raises(InitramfsError, match="with the segments before it"):
            initramfs.read_image(write(one * 8))


def test_plain_entry_data_is_passed_over_not_read(monkeypatch):
    """A sparse image whose entries each declare 4 GiB of hole: the reader seeks
    past them (reading them took a minute for 16 GiB)."""
    path = os.path.join(WORK, "sparse-%d.img" % next(COUNTER))
    size = 0xFFFFFFFC
    with open(path, "wb") as handle:
        for number in range(4):
            name = ("f%d" % number).encode() + b"\x00"
            fields = (number + 1, 0o100644, 0, 0, 1, 0, size, 0, 0, 0, 0, len(name), 0)
            header = b"070701" + "".join("%08X" % field for field in fields).encode() + name
            handle.write(header + b"\x00" * ((4 - len(header) % 4) % 4))
            handle.seek(size, 1)
        handle.write(newc([]))
    read = []

    class Counted(object):
        def __init__(self, handle):
            self.handle = handle

        def __getattr__(self, name):
            return getattr(self.handle, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def read(self, *args):
            data = self.handle.read(*args)
            read.append(len(data))
            return data
    monkeypatch.setattr(initramfs, "open", lambda *args: Counted(open(*args)), raising=False)
    try:
        names = initramfs.read_image(path)[0]
    finally:
        os.unlink(path)
    assert names == ["f0", "f1", "f2", "f3"]
    assert sum(read) < 16 * 1024 * 1024
