"""The import archive: headers read from archives GNU tar writes, the pack
step against `tar -tvzf`, and the gcloud command."""

import gzip
import hashlib
import lzma
import os
import shlex
import shutil
import subprocess
import sys
import zlib

import pytest
from disktools import MIB, need, sfdisk, sparse_file, write_at

from ansible_collections.guestready.gce.plugins.module_utils import importarchive as ia
from ansible_collections.guestready.gce.plugins.module_utils.imagefile import ImageError

COLLECTIONS = os.path.abspath(os.path.join(os.path.dirname(ia.__file__), "..", "..", "..", "..", ".."))


def disk(tmp_path, name="disk.raw", size=64 * MIB):
    path = sparse_file(tmp_path / name, size)
    sfdisk(path, "label: dos\n,,83,*\n")
    write_at(path, 8 * MIB, os.urandom(MIB))
    return path


def tar(*args, cwd):
    need("tar")
    subprocess.run(["tar"] + list(args), cwd=str(cwd), check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_the_documented_command(tmp_path):
    disk(tmp_path)
    tar("--format=oldgnu", "-Sczf", "image.tar.gz", "disk.raw", cwd=tmp_path)
    facts = ia.read_archive(str(tmp_path / "image.tar.gz"))
    assert facts["gzip"] and facts["format"] == "gnu" and not facts["problems"]
    member, = facts["members"]
    assert (member["name"], member["type"], member["sparse"], member["real_size"]) == ("disk.raw", "S", True, 64 * MIB)
    assert member["size"] < 2 * MIB, "only the data is stored"
    assert facts["member_content"] == "raw"


def test_posix_format_with_pax_sparse_headers(tmp_path):
    disk(tmp_path)
    tar("--format=posix", "-Sczf", "image.tar.gz", "disk.raw", cwd=tmp_path)
    facts = ia.read_archive(str(tmp_path / "image.tar.gz"))
    assert facts["format"] == "pax" and "GNU.sparse.realsize" in facts["pax_keys"]
    assert facts["members"][0]["name"] == "disk.raw" and facts["members"][0]["real_size"] == 64 * MIB


def test_several_members_long_names_dense_and_directories(tmp_path):
    disk(tmp_path)
    name = "x" * 150 + ".raw"
    shutil.copy(str(tmp_path / "disk.raw"), str(tmp_path / name))
    (tmp_path / "dir").mkdir()
    tar("--format=gnu", "-czf", "many.tar.gz", name, "dir", cwd=tmp_path)
    facts = ia.read_archive(str(tmp_path / "many.tar.gz"))
    assert [m["name"] for m in facts["members"]] == [name, "dir/"]
    assert facts["members"][0]["sparse"] is False and facts["members"][1]["regular"] is False


def test_xz_compressed_and_plain_tar(tmp_path):
    disk(tmp_path)
    tar("--format=oldgnu", "-SJcf", "image.tar.xz", "disk.raw", cwd=tmp_path)
    facts = ia.read_archive(str(tmp_path / "image.tar.xz"))
    assert not facts["gzip"] and facts["compression"] == "xz" and facts["members"][0]["name"] == "disk.raw"
    tar("--format=oldgnu", "-Scf", "image.tar", "disk.raw", cwd=tmp_path)
    assert ia.read_archive(str(tmp_path / "image.tar"))["compression"] == "none"


def test_a_qcow2_named_disk_raw(tmp_path):
    need("qemu-img")
    source = disk(tmp_path, "source.raw")
    subprocess.run(["qemu-img", "convert", "-O", "qcow2", source, str(tmp_path / "disk.raw")], check=True)
    tar("--format=oldgnu", "-Sczf", "image.tar.gz", "disk.raw", cwd=tmp_path)
    assert ia.read_archive(str(tmp_path / "image.tar.gz"))["member_content"] == "qcow2"


@pytest.mark.parametrize("fmt, options, found", [
    ("vdi", [], "vdi"),            # its magic is at byte 64, after a line of text
    ("qcow", [], "qcow"),          # version 1 of qcow2's magic
    ("vmdk", ["-o", "subformat=streamOptimized"], "vmdk"),
])
def test_other_containers_named_disk_raw(tmp_path, fmt, options, found):
    need("qemu-img")
    source = disk(tmp_path, "source.raw")
    subprocess.run(["qemu-img", "convert", "-O", fmt] + options + [source, str(tmp_path / "disk.raw")], check=True)
    tar("--format=oldgnu", "-Sczf", "image.tar.gz", "disk.raw", cwd=tmp_path)
    assert ia.read_archive(str(tmp_path / "image.tar.gz"))["member_content"] == found


def test_truncated_and_not_a_tar(tmp_path):
    disk(tmp_path)
    tar("--format=oldgnu", "-Sczf", "image.tar.gz", "disk.raw", cwd=tmp_path)
    data = (tmp_path / "image.tar.gz").read_bytes()
    (tmp_path / "cut.tar.gz").write_bytes(data[:len(data) // 2])
    facts = ia.read_archive(str(tmp_path / "cut.tar.gz"))
    assert any("truncated" in p for p in facts["problems"])
    with gzip.open(str(tmp_path / "text.gz"), "wb") as handle:
        handle.write(b"hello world\n" * 1000)
    facts = ia.read_archive(str(tmp_path / "text.gz"))
    assert facts["members"] == [] and any("checksum" in p for p in facts["problems"])
    with lzma.open(str(tmp_path / "x.xz"), "wb") as handle:
        handle.write(b"\x00" * 10)
    assert ia.read_archive(str(tmp_path / "x.xz"))["problems"][0].startswith("no tar header")


@pytest.mark.parametrize("damage, said", [
    (lambda data: data[:-4], "the gzip stream ends early: the archive is truncated"),          # trailer cut
    (lambda data: data[:-8] + bytes([data[-8] ^ 0xFF]) + data[-7:], "incorrect data check"),  # CRC32
    (lambda data: data + b"garbage\n", "bytes after the end of the gzip stream are not gzip data"),
])
def test_a_gzip_stream_damaged_after_the_tar_end_is_a_problem(tmp_path, damage, said):
    # what follows the end-of-archive blocks is the gzip padding and trailer: gzip -t and tar -x fail on it
    disk(tmp_path)
    tar("--format=oldgnu", "-Sczf", "image.tar.gz", "disk.raw", cwd=tmp_path)
    (tmp_path / "bad.tar.gz").write_bytes(damage((tmp_path / "image.tar.gz").read_bytes()))
    assert subprocess.run(["gzip", "-t", str(tmp_path / "bad.tar.gz")], stderr=subprocess.PIPE, check=False).returncode != 0
    facts = ia.read_archive(str(tmp_path / "bad.tar.gz"))
    assert said in facts["stream_problem"] and facts["problems"] == [facts["stream_problem"]]
    assert [m["name"] for m in facts["members"]] == ["disk.raw"]


def test_zeros_after_the_gzip_stream_are_padding_not_damage(tmp_path):
    disk(tmp_path)
    tar("--format=oldgnu", "-Sczf", "image.tar.gz", "disk.raw", cwd=tmp_path)
    padded = tmp_path / "padded.tar.gz"
    padded.write_bytes((tmp_path / "image.tar.gz").read_bytes() + b"\x00" * 10240)
    assert subprocess.run(["gzip", "-t", str(padded)], check=False).returncode == 0
    facts = ia.read_archive(str(padded))
    assert facts["problems"] == [] and facts["stream_problem"] is None


def tar_header(name, size_field, kind=b"0", magic=b"ustar  \x00", edit=None):
    """One tar header with a valid checksum (``edit`` changes it first)."""
    block = bytearray(512)
    block[0:len(name)] = name
    for start, field in ((100, b"0000644\x00"), (108, b"0000000\x00"), (116, b"0000000\x00"),
                         (124, size_field), (136, b"00000000000\x00"), (156, kind), (257, magic)):
        block[start:start + len(field)] = field
    if edit:
        edit(block)
    block[148:156] = b" " * 8
    block[148:156] = b"%06o\x00 " % sum(block)
    return bytes(block)


def gzipped(tmp_path, data):
    path = tmp_path / "hostile.tar.gz"
    path.write_bytes(gzip.compress(data))
    return str(path)


def sparse_map_garbage(block):
    block[386:398], block[398:410] = b"zzzzzzzzzzz\x00", b"00000001000\x00"


@pytest.mark.parametrize("data, said", [
    (tar_header(b"disk.raw", b"9999999999\x00\x00") + b"\x00" * 1024,
     "the tar header at byte 0 is damaged: a number field holds b'9999999999', not octal digits"),
    (tar_header(b"PaxHeader/disk.raw", b"%011o\x00" % 13, kind=b"x", magic=b"ustar\x0000")
     + b"13 size=abcd\n".ljust(512, b"\x00") + tar_header(b"disk.raw", b"00000000000\x00") + b"\x00" * 1024,
     "the tar header at byte 1024 is damaged: its pax record size='abcd' is not a size"),
    (tar_header(b"PaxHeader/disk.raw", b"%011o\x00" % 11, kind=b"x", magic=b"ustar\x0000")
     + b"11 size=-5\n".ljust(512, b"\x00") + tar_header(b"disk.raw", b"00000000000\x00") + b"\x00" * 1024,
     "the tar header at byte 1024 is damaged: its pax record size='-5' is not a size"),
    (tar_header(b"disk.raw", b"00000000000\x00", kind=b"S", edit=sparse_map_garbage) + b"\x00" * 1024,
     "the tar header at byte 0 is damaged: a number field holds b'zzzzzzzzzzz', not octal digits"),
])
def test_damaged_numbers_in_tar_headers_are_problems_not_tracebacks(tmp_path, data, said):
    facts = ia.read_archive(gzipped(tmp_path, data))
    assert said in facts["problems"], facts["problems"]


def pax_header(records):
    body = b"".join(records)
    return (tar_header(b"PaxHeader/x", b"%011o\x00" % len(body), kind=b"x", magic=b"ustar\x0000")
            + body + b"\x00" * ((512 - len(body) % 512) % 512))


def pax_record(key, value):
    text = b" %s=%s\n" % (key, value)
    length = len(text) + len(str(len(text)))
    length += len(str(length)) - len(str(len(text)))
    return b"%d%s" % (length, text)


def test_pax_keys_are_listed_once_and_at_most_max(tmp_path):
    # 20,000 distinct keys: each checked against a list made the read quadratic (minutes)
    records = [pax_record(b"k%d" % number, b"v") for number in range(20000)]
    data = pax_header(records) + tar_header(b"disk.raw", b"00000000000\x00") + b"\x00" * 1024
    facts = ia.read_archive(gzipped(tmp_path, data))
    assert facts["pax_keys"] == ["k%d" % number for number in range(ia.MAX_PAX_KEYS)]
    assert [m["name"] for m in facts["members"]] == ["disk.raw"]


def test_a_member_name_with_a_nul_byte_is_a_problem(tmp_path):
    data = pax_header([pax_record(b"path", b"disk\x00.raw")]) + tar_header(b"x", b"00000000000\x00") \
        + b"\x00" * 1024
    facts = ia.read_archive(gzipped(tmp_path, data))
    assert facts["problems"] == ["a member name holds a NUL byte: 'disk\\x00.raw'"]
    assert facts["members"] == []


def test_member_names_together_are_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(ia, "MAX_NAMES", 3000)
    long_name = b"n" * 1000
    entry = tar_header(b"././@LongLink", b"%011o\x00" % len(long_name), kind=b"L") \
        + long_name + b"\x00" * 24 + tar_header(b"x", b"00000000000\x00")
    facts = ia.read_archive(gzipped(tmp_path, entry * 5 + b"\x00" * 1024))
    assert len(facts["members"]) == 3
    assert facts["problems"] == ["the member names take more than 3000 bytes"]


def test_sparse_map_extension_blocks_are_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(ia, "MAX_SPARSE_BLOCKS", 3)

    def extended(block):
        block[386:398], block[398:410] = b"00000001000\x00", b"00000001000\x00"
        block[482] = 1
    extension = bytearray(512)
    extension[504] = 1
    data = tar_header(b"disk.raw", b"00000001000\x00", kind=b"S", edit=extended) + bytes(extension) * 10
    facts = ia.read_archive(gzipped(tmp_path, data + b"\x00" * 1024))
    assert facts["problems"] == ["member disk.raw has more than 3 sparse map blocks"]


def test_a_gzip_bomb_member_is_skipped_in_bounded_memory(tmp_path):
    # 2 GiB of zeros as one dense member compress to 2 MiB: the stream inflated
    # a whole read at once (a gigabyte per megabyte read) and copied the rest of
    # its buffer on every step of the skip
    size = 2048 * MIB
    head = tar_header(b"disk.raw", b"%011o\x00" % size)
    path = tmp_path / "bomb.tar.gz"
    compressor = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = b"\x00" * (16 * MIB)
    with open(str(path), "wb") as handle:
        handle.write(compressor.compress(head))
        for dummy in range(size // len(zeros)):
            handle.write(compressor.compress(zeros))
        handle.write(compressor.compress(b"\x00" * 1024) + compressor.flush())
    # VmHWM: this process image's own peak (getrusage's ru_maxrss keeps the
    # peak of the forked pytest copy across exec, whatever pytest had grown to)
    program = ("import re, sys; sys.path.insert(0, %r)\n"
               "from ansible_collections.guestready.gce.plugins.module_utils import importarchive as ia\n"
               "facts = ia.read_archive(sys.argv[1])\n"
               "peak = int(re.search(r'VmHWM:\\s*(\\d+)', open('/proc/self/status').read()).group(1))\n"
               "print(facts['members'][0]['size'], facts['problems'], peak // 1024)" % COLLECTIONS)
    out = subprocess.run([sys.executable, "-c", program, str(path)], stdout=subprocess.PIPE,
                         universal_newlines=True, check=True, timeout=300).stdout.split(None, 1)
    assert int(out[0]) == size and out[1].startswith("[] ")
    assert int(out[1].split()[-1]) < 200, "peak RSS in MiB: the stream holds about a megabyte, not gigabytes"


def test_pack_a_raw_image_as_tar_lists_it(tmp_path):
    source = disk(tmp_path, "my image.raw")
    out = ia.pack({"path": source, "format": "raw", "block_device": False}, str(tmp_path / "out" / "good"))
    archive = str(tmp_path / "out" / "good.tar.gz")
    assert out["archive"] == archive and not out["converted"]
    with open(archive, "rb") as handle:
        assert out["sha256"] == hashlib.sha256(handle.read()).hexdigest()
    listing = subprocess.run(["tar", "-tvzf", archive], stdout=subprocess.PIPE, universal_newlines=True,
                             check=True).stdout.splitlines()
    assert len(listing) == 1 and listing[0].split()[2] == str(64 * MIB) and listing[0].endswith(" disk.raw")
    facts = ia.read_archive(archive)
    assert facts["format"] == "gnu" and facts["members"][0]["sparse"] and facts["members"][0]["type"] == "S"
    restored = tmp_path / "restored"
    restored.mkdir()
    path = ia.extract(archive, "disk.raw", str(restored))
    with open(path, "rb") as one, open(source, "rb") as two:
        assert hashlib.sha256(one.read()).digest() == hashlib.sha256(two.read()).digest()
    assert os.stat(path).st_blocks * 512 < 4 * MIB, "restored sparse"
    again = ia.pack({"path": source, "format": "raw", "block_device": False}, archive)
    assert again["replaced"] and not [n for n in os.listdir(str(tmp_path / "out")) if n.startswith(".")]


def test_pack_of_a_disk_past_8_gib_is_what_plain_gnu_tar_restores(tmp_path):
    # the importer's reader is not ours: the archive must be what `tar -xzf` (no -S) restores, the
    # disk's data where it was and its holes kept; past 8 GiB oldgnu's octal size fields overflow and GNU tar writes base-256
    need("tar", "sfdisk")
    size = 9 * 1024 * MIB
    source = sparse_file(tmp_path / "big.raw", size)
    sfdisk(source, "label: gpt\nsize=100M, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B\ntype=L\n")
    write_at(source, 8500 * MIB, os.urandom(MIB))
    out = ia.pack({"path": source, "format": "raw", "block_device": False}, str(tmp_path / "img"))
    listing = subprocess.run(["tar", "-tvzf", out["archive"]], stdout=subprocess.PIPE, universal_newlines=True,
                             check=True).stdout.split()
    assert listing[2] == str(size) and listing[-1] == "disk.raw"
    with gzip.open(out["archive"], "rb") as handle:
        header = handle.read(512)
    assert header[257:265] == b"ustar  \x00" and header[156:157] == b"S", "GNU oldgnu, a sparse member"
    member = ia.read_archive(out["archive"])["members"][0]
    assert (member["real_size"], member["sparse"]) == (size, True) and member["size"] < 4 * MIB
    restored = tmp_path / "restored"
    restored.mkdir()
    subprocess.run(["tar", "-xzf", out["archive"], "-C", str(restored)], check=True)
    assert os.listdir(str(restored)) == ["disk.raw"]
    assert os.stat(str(restored / "disk.raw")).st_blocks * 512 < 8 * MIB, "holes kept"
    with open(str(restored / "disk.raw"), "rb") as one, open(source, "rb") as two:
        for offset in (0, 512, 8500 * MIB, size - 33 * 512):   # MBR, GPT header, the data, the backup GPT
            one.seek(offset)
            two.seek(offset)
            assert one.read(MIB) == two.read(MIB), offset
    assert os.stat(str(restored / "disk.raw")).st_size == size


def test_pack_stores_a_raw_file_written_in_full_sparse(tmp_path):
    # dd or cp --sparse=never leave no holes: tar -S alone would store every zero
    source = disk(tmp_path, "sparse.raw")
    dense = str(tmp_path / "dense.raw")
    with open(source, "rb") as src, open(dense, "wb") as dst:
        for chunk in iter(lambda: src.read(MIB), b""):
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    assert os.stat(dense).st_blocks * 512 >= 64 * MIB, "written in full"
    out = ia.pack({"path": dense, "format": "raw", "block_device": False}, str(tmp_path / "img"))
    member = ia.read_archive(out["archive"])["members"][0]
    assert (member["type"], member["sparse"], member["real_size"]) == ("S", True, 64 * MIB)
    assert member["size"] < 4 * MIB, "the zeros are holes, not data"
    restored = tmp_path / "restored"
    restored.mkdir()
    with open(ia.extract(out["archive"], "disk.raw", str(restored)), "rb") as one, open(dense, "rb") as two:
        assert hashlib.sha256(one.read()).digest() == hashlib.sha256(two.read()).digest()
    assert not os.path.exists(dense + ".tar.gz") and os.stat(dense).st_blocks * 512 >= 64 * MIB, "input untouched"


def test_pack_converts_a_qcow2(tmp_path):
    need("qemu-img")
    source = disk(tmp_path, "source.raw")
    subprocess.run(["qemu-img", "convert", "-O", "qcow2", source, str(tmp_path / "image.qcow2")], check=True)
    out = ia.pack({"path": str(tmp_path / "image.qcow2"), "format": "qcow2", "block_device": False},
                  str(tmp_path / "img"))
    assert out["converted"]
    facts = ia.read_archive(out["archive"])
    assert facts["members"][0]["real_size"] == 64 * MIB and facts["member_content"] == "raw"


def test_image_name_and_gcloud_command():
    assert ia.image_name(None, "/b/My_Image.v2.tar.gz") == "my-image-v2"
    assert ia.image_name(None, "/b/2024.tar.gz") == "image-2024"
    assert ia.image_name("debian-12", "/b/x.tar.gz") == "debian-12"
    with pytest.raises(ImageError, match="not a valid Compute Engine image name"):
        ia.image_name("Bad_Name", "/b/x.tar.gz")
    command, source = ia.gcloud_command("good", "my-bucket", "/b/good.tar.gz", ["UEFI_COMPATIBLE", "GVNIC"], "x86_64")
    assert source == "gs://my-bucket/good.tar.gz"
    assert command == ("gcloud compute images create good --source-uri=gs://my-bucket/good.tar.gz "
                       "--guest-os-features=UEFI_COMPATIBLE,GVNIC --architecture=X86_64")
    assert "--guest-os-features" not in ia.gcloud_command("x", "bkt", "/x.tar.gz", [], None)[0]


def raw_disk(tmp_path, name):
    """A 4 MiB raw disk with data at its start, written without sfdisk."""
    path = sparse_file(tmp_path / name, 4 * MIB)
    write_at(path, 0, b"\xeb\x63" + os.urandom(508) + b"\x55\xaa")
    write_at(path, 2 * MIB, os.urandom(4096))
    return path


def test_pack_follows_a_symlinked_image_to_its_bytes(tmp_path):
    need("tar")
    real = raw_disk(tmp_path, "build-42.raw")
    os.symlink("build-42.raw", str(tmp_path / "latest.raw"))
    out = ia.pack({"path": str(tmp_path / "latest.raw"), "format": "raw", "block_device": False},
                  str(tmp_path / "out"))
    facts = ia.read_archive(out["archive"])
    member = facts["members"][0]
    assert member["name"] == "disk.raw" and member["regular"], member
    assert member["real_size"] == 4 * MIB and facts["member_content"] == "raw"
    restored = tmp_path / "restored"
    restored.mkdir()
    with open(ia.extract(out["archive"], "disk.raw", str(restored)), "rb") as one, open(real, "rb") as two:
        assert one.read() == two.read()


def test_pack_never_writes_over_its_own_input(tmp_path):
    need("tar")
    source = raw_disk(tmp_path, "odd.tar.gz")  # a raw disk, whatever its name says
    with open(source, "rb") as handle:
        before = handle.read()
    with pytest.raises(ImageError, match="odd.tar.gz"):
        ia.pack({"path": source, "format": "raw", "block_device": False}, source)
    with open(source, "rb") as handle:
        assert handle.read() == before
    assert sorted(os.listdir(str(tmp_path))) == ["odd.tar.gz"]


def test_pack_does_not_replace_a_file_that_is_not_an_archive(tmp_path):
    need("tar")
    source = raw_disk(tmp_path, "disk.raw")
    (tmp_path / "notes.tar.gz").write_text("my notes\n")
    with pytest.raises(ImageError, match="notes.tar.gz.*not"):
        ia.pack({"path": source, "format": "raw", "block_device": False}, str(tmp_path / "notes"))
    assert (tmp_path / "notes.tar.gz").read_text() == "my notes\n"


@pytest.mark.parametrize("content", ["other", "text"])
def test_pack_does_not_replace_a_gzip_file_that_is_not_an_import_archive(tmp_path, content):
    # a backup or a source tarball that has the name: its gzip magic alone made it "an earlier archive"
    need("tar")
    source = raw_disk(tmp_path, "disk.raw")
    if content == "other":
        (tmp_path / "home").mkdir()
        (tmp_path / "home" / "thesis.txt").write_text("years of work\n")
        tar("-czf", "backup.tar.gz", "home", cwd=tmp_path)
    else:
        (tmp_path / "backup.tar.gz").write_bytes(gzip.compress(b"my notes\n"))
    before = (tmp_path / "backup.tar.gz").read_bytes()
    said = "its first member is home/" if content == "other" else "no tar member read"
    with pytest.raises(ImageError, match="backup.tar.gz: the pack destination exists and is not an import archive "
                                         "\\(%s, not disk.raw\\): not replaced" % said):
        ia.pack({"path": source, "format": "raw", "block_device": False}, str(tmp_path / "backup"))
    assert (tmp_path / "backup.tar.gz").read_bytes() == before
    assert not [n for n in os.listdir(str(tmp_path)) if n.startswith(".")]


def test_pack_to_a_directory_is_an_error_naming_it(tmp_path):
    need("tar")
    source = raw_disk(tmp_path, "disk.raw")
    (tmp_path / "taken.tar.gz").mkdir()
    with pytest.raises(ImageError, match="taken.tar.gz"):
        ia.pack({"path": source, "format": "raw", "block_device": False}, str(tmp_path / "taken"))
    assert sorted(os.listdir(str(tmp_path))) == ["disk.raw", "taken.tar.gz"]


@pytest.mark.parametrize("where", ["missing", "file"])
def test_pack_scratch_space_that_cannot_be_made_is_an_error_naming_it(tmp_path, where):
    # tempfile.mkdtemp's FileNotFoundError/NotADirectoryError left the module with a traceback, after the audit
    need("tar")
    source = raw_disk(tmp_path, "disk.raw")
    workdir = tmp_path / "scratch"
    if where == "file":
        workdir.write_text("not a directory\n")
    with pytest.raises(ImageError, match="out.tar.gz: cannot create scratch space for the archive in %s: " % workdir):
        ia.pack({"path": source, "format": "raw", "block_device": False}, str(tmp_path / "out"), str(workdir))
    assert not os.path.exists(str(tmp_path / "out.tar.gz"))


def test_pack_onto_a_path_taken_by_a_directory_meanwhile_is_an_error_naming_it(tmp_path, monkeypatch):
    # the destination is checked before the conversion and tar, which take long: the rename's
    # IsADirectoryError was a traceback, and the temporary archive is not left behind
    need("tar")
    source = raw_disk(tmp_path, "disk.raw")
    archive = tmp_path / "out.tar.gz"
    checked = ia.check_destination

    def check_then_taken(disk_path, path):
        checked(disk_path, path)
        archive.mkdir()
    monkeypatch.setattr(ia, "check_destination", check_then_taken)
    with pytest.raises(ImageError, match="out.tar.gz: cannot write the archive: Is a directory"):
        ia.pack({"path": source, "format": "raw", "block_device": False}, str(tmp_path / "out"))
    assert sorted(os.listdir(str(tmp_path))) == ["disk.raw", "out.tar.gz"] and not os.listdir(str(archive))


def test_the_printed_command_is_one_safe_shell_command():
    # the user copies it into a shell: a name with spaces or metacharacters stays one word, runs nothing
    archive = "/b/my image;touch x $(id).tar.gz"
    command, source = ia.gcloud_command("good", "my-bucket", archive, [], "x86_64")
    assert source == "gs://my-bucket/my image;touch x $(id).tar.gz"
    words = shlex.split(command)
    assert words == ["gcloud", "compute", "images", "create", "good", "--source-uri=" + source, "--architecture=X86_64"]
    assert "$(id)" not in command.replace("'--source-uri=gs://my-bucket/my image;touch x $(id).tar.gz'", "")


@pytest.mark.parametrize("bucket", ["my bucket", "b;rm -rf ~", "ab", "My-Bucket", "-bucket", "bucket-", "a" * 64,
                                    "gs://my-bucket", "my-bucket/images", "bucket..name", "192.168.5.4",
                                    "goog-images", "my-google-images", ""])
def test_bucket_names_cloud_storage_refuses(bucket):
    with pytest.raises(ImageError, match="bucket"):
        ia.gcloud_command("good", bucket, "/b/good.tar.gz", [], None)


@pytest.mark.parametrize("bucket", ["my-bucket", "my_bucket.example.com", "a1b", "BUCKET", "0" * 63])
def test_bucket_names_cloud_storage_takes(bucket):
    assert ia.gcloud_command("good", bucket, "/b/good.tar.gz", [], None)[1] == "gs://%s/good.tar.gz" % bucket


@pytest.mark.parametrize("name", ["good\n", "a" * 64, "good-", "1good", ""])
def test_image_names_compute_engine_refuses(name):
    if not name:
        assert ia.image_name(name, "/b/x.tar.gz") == "x"  # none given: derived
        return
    with pytest.raises(ImageError, match="not a valid Compute Engine image name"):
        ia.image_name(name, "/b/x.tar.gz")


def tar_of(tmp_path, members, fmt=None):
    import io
    import tarfile
    path = str(tmp_path / "several.tar.gz")
    with tarfile.open(path, "w:gz", format=fmt or tarfile.GNU_FORMAT) as archive:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_the_content_judged_is_disk_raw_s_whatever_comes_first(tmp_path):
    qcow2 = b"QFI\xfb" + b"\x00" * 8188
    facts = ia.read_archive(tar_of(tmp_path, [("README", b"hello\n"), ("disk.raw", qcow2)]))
    assert [m["name"] for m in facts["members"]] == ["README", "disk.raw"]
    assert facts["member_content"] == "qcow2" and facts["content_member"] == "disk.raw"
    facts = ia.read_archive(tar_of(tmp_path, [("image.raw", qcow2)]))
    assert facts["member_content"] == "qcow2" and facts["content_member"] == "image.raw"
