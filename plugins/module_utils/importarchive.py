# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compute Engine's import archive: ``disk.raw`` in a gzip-compressed GNU tar
archive, as ``tar --format=oldgnu -Sczf NAME.tar.gz disk.raw`` writes it
(Google's "Manually import boot disks", "Create the image file").

``read_archive(path)`` reads an archive's headers as a stream (nothing is
extracted): its compression, its tar format, its members, whether the disk
is stored sparse, and what the disk's first bytes are.  ``pack(...)`` writes
the archive with GNU tar itself (the documented command, and the fastest
one), converting a non-raw image to a sparse raw file first; ``extract``
restores the one disk member of an archive, sparse, for an audit of its
content.  ``gcloud_command`` prints the import command; nothing here makes a
network call.

Tar layout: POSIX.1-1988 ustar headers; GNU's ``oldgnu`` header (magic
``ustar  \\0``) with its type ``S`` sparse members (a map of up to 4
``(offset, size)`` pairs in the header, more in extension blocks, and the
disk's real size at byte 483); GNU long names (type ``L``); POSIX.1-2001 pax
headers (types ``x``/``g``), which GNU tar's default ``posix`` format writes
and the import does not want (GNU tar manual, "Formats", "Sparse Formats").
"""

import bz2
import hashlib
import lzma
import os
import re
import shlex
import shutil
import tempfile
import time
import zlib

from ansible_collections.guestready.gce.plugins.module_utils import catalogue as cat
from ansible_collections.guestready.gce.plugins.module_utils import imagefile
from ansible_collections.guestready.gce.plugins.module_utils.imagefile import (
    ImageError, _last_line, _run, sniff_compression, tool)

BLOCK = 512
CHUNK = 1 << 20
MAX_MEMBERS = 100000
MAX_META = 1 << 20      # a long name or a pax header larger than this is hostile
MAX_NAMES = 16 << 20    # all member names together: more is hostile (each may be MAX_META)
MAX_PAX_KEYS = 64       # distinct pax keys listed in the facts
MAX_SPARSE_BLOCKS = 4096  # oldgnu sparse map extension blocks of one member (21 regions each)
SNIFF = 4096
# the magic QEMU's format probes look for (block/*.c): at the start, and VDI's signature at byte 64
CONTAINERS = ((b"QFI\xfb\x00\x00\x00\x01", "qcow"), (b"QFI\xfb", "qcow2"), (b"KDMV", "vmdk"), (b"COWD", "vmdk"),
              (b"# Disk DescriptorFile", "vmdk"), (b"vhdxfile", "vhdx"), (b"conectix", "vpc"), (b"QED\x00", "qed"))
VDI_SIGNATURE = b"\x7f\x10\xda\xbe"   # 0xbeda107f, little-endian, after the 64-byte text header
IMAGE_NAME = re.compile(r"^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?\Z")   # \Z: "$" takes a trailing newline
# Cloud Storage bucket names: 3-63 characters of a-z 0-9 - _ (with dots: up to 222, DNS labels of up to 63)
BUCKET_LABEL = re.compile(r"^[a-z0-9](?:[-_a-z0-9]{0,61}[a-z0-9])?\Z")
BUCKET_PLACEHOLDER = "BUCKET"   # the option's default: printed as is, for the user to replace


class _Stream(object):
    """Decompressed bytes of an archive, read forward once.  At most about
    what is asked for is inflated at a time (a megabyte of deflate can hold
    a gigabyte of zeros), and what is read is taken off the front of the
    buffer without copying the rest."""

    def __init__(self, handle, compression):
        self.handle, self.compression = handle, compression
        self.buffer = bytearray()
        self.position = 0
        self.problem = None
        self._decoder = self._new()
        self._pending = b""   # compressed input the decoder has not taken yet
        self._ended = False

    def _new(self):
        if self.compression == "gzip":
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        if self.compression == "xz":
            return lzma.LZMADecompressor()
        if self.compression == "bzip2":
            return bz2.BZ2Decompressor()
        return None

    def _fill(self, wanted):
        while len(self.buffer) < wanted and not self._ended:
            room = max(wanted - len(self.buffer), CHUNK)
            try:
                data = self._next(room)
            except (zlib.error, lzma.LZMAError, OSError, EOFError) as exc:
                self.problem = "the %s stream is damaged: %s" % (self.compression, exc)
                data = None
            if data is None:
                self._ended = True
                return
            self.buffer += data

    def _next(self, room):
        """Up to ``room`` more bytes (b"" when input was only taken in), or
        None at the end."""
        decoder = self._decoder
        if decoder is None:
            return self.handle.read(CHUNK) or None
        if self.compression != "gzip":
            if decoder.eof:
                return None
            raw = b"" if not decoder.needs_input else self.handle.read(CHUNK)
            if not raw and decoder.needs_input:
                return None
            return decoder.decompress(raw, room)
        raw = self._pending or self.handle.read(CHUNK)
        if not raw:
            tail = decoder.flush()
            if not decoder.eof and not tail:
                self.problem = "the gzip stream ends early: the archive is truncated"
            return tail or None
        data = decoder.decompress(raw, room)
        self._pending = decoder.unconsumed_tail
        if decoder.eof:  # gzip allows several members one after the other
            rest = decoder.unused_data + self._pending
            while rest and len(rest) < 2:
                more = self.handle.read(CHUNK)
                if not more:
                    break
                rest += more
            if rest[:2] == b"\x1f\x8b":
                self._decoder, self._pending = self._new(), rest
            elif rest:
                self._decoder, self._pending = _Ended(), b""
                self._trailing(rest)
        return data

    def _trailing(self, rest):
        """After the last gzip member: zeros (padding) are ignored, as gzip
        and tar ignore them; anything else is trailing garbage, on which
        ``gzip -t`` warns and ``tar -x`` fails (tar 1.34: "Child returned
        status 2")."""
        size, garbage = 0, False
        while rest:
            size += len(rest)
            garbage = garbage or bool(rest.strip(b"\x00"))
            rest = self.handle.read(CHUNK)
        if garbage:
            self.problem = ("%d bytes after the end of the gzip stream are not gzip data (trailing garbage: "
                            "gzip -t warns and tar -x fails on it)" % size)

    def read(self, size):
        self._fill(size)
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        self.position += len(data)
        return data

    def skip(self, size):
        while size > 0:
            self._fill(min(size, CHUNK))
            step = min(size, len(self.buffer))
            if not step:
                return False
            del self.buffer[:step]
            self.position += step
            size -= step
        return True


class _Ended(object):
    """The decoder after the gzip stream's end: nothing more to inflate."""
    eof = True
    unused_data = unconsumed_tail = b""

    def decompress(self, data, room=0):
        return b""

    def flush(self):
        return b""


class _Damaged(Exception):
    """A tar header field that does not hold what it must."""


def _number(field):
    """A tar header number: octal text, or GNU's base-256 (high bit set)."""
    if field and field[0] & 0x80:
        value = 0
        for byte in bytearray(field[1:]):
            value = value << 8 | byte
        return value
    text = field.replace(b"\x00", b" ").strip()
    try:
        return int(text, 8) if text else 0
    except ValueError:
        raise _Damaged("a number field holds %r, not octal digits" % text[:12])


def _pax_number(records, key):
    """A pax record's decimal value, never negative."""
    try:
        value = int(records[key])
    except ValueError:
        value = -1
    if value < 0:
        raise _Damaged("its pax record %s=%r is not a size" % (key, records[key][:20]))
    return value


def _checksum_ok(block):
    stored = block[148:156].replace(b"\x00", b" ").strip()
    if not stored:
        return False
    try:
        wanted = int(stored, 8)
    except ValueError:
        return False
    summed = sum(bytearray(block[:148])) + 8 * 32 + sum(bytearray(block[156:]))
    return wanted == summed


def _text(field):
    return field.split(b"\x00", 1)[0].decode("utf-8", "replace")


def _pax_records(data):
    records, position = {}, 0
    while position < len(data):
        match = re.match(rb"(\d+) ", data[position:position + 24])
        if not match:
            break
        length = int(match.group(1))
        if length <= 0:
            break
        record = data[position + len(match.group(0)):position + length].rstrip(b"\n")
        key, dummy, value = record.partition(b"=")
        records[key.decode("utf-8", "replace")] = value.decode("utf-8", "replace")
        position += length
    return records


def _sparse_map(block, offset, count):
    pairs = []
    for index in range(count):
        start = offset + index * 24
        entry = block[start:start + 24]
        if not entry.strip(b"\x00"):
            break
        pairs.append((_number(entry[:12]), _number(entry[12:24])))
    return pairs


def read_archive(path, first_member_only=False):
    """The facts IMG-ARCHIVE_* and IMG-DISK_RAW are judged on (see
    imagecheck): ``{gzip, compression, size, format, members, pax_keys,
    member_content, problems, stream_problem}`` (``problems``: what is
    damaged, the compressed stream's ``stream_problem`` among them).  ``first_member_only``: stop after the first
    member (a check of an archive this module just wrote)."""
    with open(path, "rb") as handle:
        head = handle.read(8)
        handle.seek(0)
        compression = sniff_compression(head)
        facts = {"gzip": compression == "gzip", "compression": compression or "none",
                 "size": os.fstat(handle.fileno()).st_size, "format": None, "members": [],
                 "pax_keys": [], "member_content": None, "content_member": None, "problems": [],
                 "stream_problem": None}
        if compression in ("zstd", "lz4"):
            facts["problems"].append("%s-compressed: its tar headers were not read" % compression)
            return facts
        stream = _Stream(handle, compression)
        formats = set()
        long_name, pax = None, {}
        header_at = 0
        short = None   # where the tar data ran out
        pax_keys, names_size = set(), 0
        try:
            while True:
                block = stream.read(BLOCK)
                header_at = stream.position - len(block)
                if len(block) < BLOCK:
                    if facts["members"]:
                        short = ("the archive ends in the middle of a header" if block else
                                 "the archive ends without its end-of-archive blocks")
                    else:
                        facts["problems"].append("no tar header%s" % (
                            ": shorter than one 512-byte tar block" if block else " (no data)"))
                    break
                if not block.strip(b"\x00"):
                    if not first_member_only:
                        # to the end of the stream: a gzip stream cut in its padding or its trailer, or
                        # whose CRC does not match, is damaged too (gzip -t; tar -x fails on it)
                        while stream.read(CHUNK):
                            pass
                    break  # end of archive
                if not _checksum_ok(block):
                    facts["problems"].append("a tar header at byte %d fails its checksum: not a tar archive, "
                                             "or a damaged one" % (stream.position - BLOCK))
                    break
                magic = block[257:265]
                formats.add("gnu" if magic == b"ustar  \x00" else "ustar" if magic[:6] == b"ustar\x00" else "v7")
                kind = block[156:157].decode("latin-1") or "0"
                size = _number(block[124:136])
                data_blocks = (size + BLOCK - 1) // BLOCK
                if kind in ("L", "K"):
                    if size > MAX_META:
                        facts["problems"].append("a GNU long name of %d bytes" % size)
                        break
                    data = stream.read(data_blocks * BLOCK)[:size]
                    if kind == "L":
                        long_name = _text(data)
                    continue
                if kind in ("x", "g"):
                    formats.add("pax")
                    if size > MAX_META:
                        facts["problems"].append("a pax header of %d bytes" % size)
                        break
                    records = _pax_records(stream.read(data_blocks * BLOCK)[:size])
                    for key in records:
                        if key not in pax_keys and len(pax_keys) < MAX_PAX_KEYS:
                            pax_keys.add(key)
                            facts["pax_keys"].append(key)
                    if kind == "x":
                        pax = records
                    continue
                name = pax.get("GNU.sparse.name") or pax.get("path") or long_name
                if name is None:
                    name = _text(block[0:100])
                    prefix = _text(block[345:500]) if magic[:6] == b"ustar\x00" else ""
                    if prefix:
                        name = prefix + "/" + name
                if "\x00" in name:
                    facts["problems"].append("a member name holds a NUL byte: %r" % name[:100])
                    break
                names_size += len(name)
                if names_size > MAX_NAMES:
                    facts["problems"].append("the member names take more than %d bytes" % MAX_NAMES)
                    break
                if "size" in pax:
                    size = _pax_number(pax, "size")
                    data_blocks = (size + BLOCK - 1) // BLOCK
                member = {"name": name, "type": kind, "regular": kind in ("0", "\x00", "S", "7"),
                          "sparse": False, "size": size, "real_size": size}
                first_offset = 0
                if kind == "S":
                    member["sparse"] = True
                    member["real_size"] = _number(block[483:495])
                    pairs = _sparse_map(block, 386, 4)
                    extended, blocks = block[482], 0
                    while extended:   # only the first region matters here: the rest is passed over
                        extra = stream.read(BLOCK)
                        blocks += 1
                        if len(extra) < BLOCK or blocks > MAX_SPARSE_BLOCKS:
                            break
                        pairs = pairs or _sparse_map(extra, 0, 21)[:1]
                        extended = extra[504]
                    if blocks > MAX_SPARSE_BLOCKS:
                        facts["problems"].append("member %s has more than %d sparse map blocks"
                                                 % (name, MAX_SPARSE_BLOCKS))
                        break
                    first_offset = pairs[0][0] if pairs else 0
                elif "GNU.sparse.realsize" in pax or "GNU.sparse.size" in pax:
                    member["sparse"] = True
                    member["real_size"] = _pax_number(pax, "GNU.sparse.realsize" if "GNU.sparse.realsize" in pax
                                                      else "GNU.sparse.size")
                    first_offset = None  # the data starts with a sparse map (pax 1.0)
                facts["members"].append(member)
                long_name, pax = None, {}
                # the content of disk.raw, else of the first regular member: the one the importer (and the
                # audit of the disk inside, disk_member) takes
                remaining = data_blocks * BLOCK
                if member["regular"] and (facts["content_member"] is None or (
                        name == cat.IMPORT_ARCHIVE_MEMBER and facts["content_member"] != name)):
                    facts["member_content"], facts["content_member"] = None, name
                    if first_offset == 0 and size:
                        data = stream.read(min(size, SNIFF))
                        facts["member_content"] = content_of(data)
                        remaining -= len(data)
                if first_member_only:
                    break
                if len(facts["members"]) > MAX_MEMBERS:
                    facts["problems"].append("more than %d members" % MAX_MEMBERS)
                    break
                if not stream.skip(remaining):
                    short = "member %s is cut short: the archive is truncated" % name
                    break
        except _Damaged as exc:
            facts["problems"].append("the tar header at byte %d is damaged: %s" % (header_at, exc))
        if stream.problem:  # what the tar data lacks after it is its consequence, not more damage
            facts["problems"].append(stream.problem)
            facts["stream_problem"] = stream.problem
        elif short:
            facts["problems"].append(short)
    others = sorted(formats - {"gnu"})
    if "pax" in formats:
        facts["format"] = "pax"
    else:
        facts["format"] = others[0] if others else ("gnu" if formats else None)
    return facts


def disk_member(facts):
    """The member that holds the disk: the first regular one named disk.raw,
    else the first regular one (None: none)."""
    regular = [m for m in facts["members"] if m["regular"]]
    return next((m for m in regular if m["name"] == cat.IMPORT_ARCHIVE_MEMBER), regular[0] if regular else None)


def content_of(data):
    """``"raw"`` or the container format whose magic ``data`` starts with."""
    for magic, name in CONTAINERS:
        if data.startswith(magic):
            return name
    if data[64:68] == VDI_SIGNATURE:
        return "vdi"
    return "raw"


# --------------------------------------------------------------------------
# writing and restoring
# --------------------------------------------------------------------------

def _gnu_tar():
    tar = tool("tar")
    rc, out, err = _run([tar, "--version"], timeout=30)
    if "GNU tar" not in out:
        raise ImageError("%s is not GNU tar: the import archive needs GNU tar's oldgnu format and "
                         "sparse members" % tar)
    return tar


def archive_path(destination):
    return destination if destination.endswith(".tar.gz") else destination + ".tar.gz"


PACK_PREFIX = ".guestready-pack-"


def _remove_stale_temporaries(archive, workdir):
    """What a killed pack left: its scratch directory and its unfinished archive."""
    directory = os.path.dirname(archive)
    imagefile.remove_stale(workdir or directory, prefixes=(PACK_PREFIX,))
    pattern = re.compile(r"^\.%s\.(\d+)\.tmp$" % re.escape(os.path.basename(archive)))
    for name in os.listdir(directory):
        match = pattern.match(name)
        if match and not imagefile._alive(int(match.group(1))):
            os.unlink(os.path.join(directory, name))


def check_destination(disk_path, archive):
    """ImageError unless ``archive`` may be written: an earlier import
    archive (gzip-compressed, its first member disk.raw) is replaced, never
    the disk being packed, a directory, or any other file (someone's file
    that only has the name)."""
    if not os.path.lexists(archive):
        return
    if os.path.isdir(archive) or (os.path.exists(archive) and not os.path.isfile(archive)):
        raise ImageError("%s: the pack destination exists and is not a file: not replaced" % archive)
    if os.path.exists(archive) and os.path.exists(disk_path) and os.path.samefile(archive, disk_path):
        raise ImageError("%s: the pack destination is the disk being packed (%s): choose another pack path" % (
            archive, disk_path))
    try:
        with open(archive, "rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        raise ImageError("%s: the pack destination exists and cannot be read (%s): not replaced" % (
            archive, exc.strerror))
    if sniff_compression(head) != "gzip":
        raise ImageError("%s: the pack destination exists and is not a gzip-compressed archive: not replaced; "
                         "remove it or choose another pack path" % archive)
    # any other .tar.gz (a backup, a source tarball) is someone's file with the name, as a report
    # directory that is not a report is (plugin_utils/report.py): only an earlier import archive is replaced
    members = read_archive(archive, first_member_only=True)["members"]
    if not members or members[0]["name"] != cat.IMPORT_ARCHIVE_MEMBER:
        raise ImageError("%s: the pack destination exists and is not an import archive (%s, not %s): not replaced; "
                         "remove it or choose another pack path" % (
                             archive, "its first member is %s" % members[0]["name"] if members else "no tar member read",
                             cat.IMPORT_ARCHIVE_MEMBER))


def _has_holes(path):
    """Whether the file takes fewer blocks than its size needs (tar's own test
    of a sparse file)."""
    info = os.stat(path)
    return info.st_blocks < (info.st_size + 511) // 512


def pack(disk, destination, workdir=None):
    """Write ``disk`` (describe_disk's facts) as ``<destination>.tar.gz``
    holding one sparse member ``disk.raw`` (a non-raw image, a block device
    or a raw file without holes is first written as a sparse raw file in
    scratch space); replace an earlier archive
    atomically (check_destination says which files are never replaced).
    Returns ``{archive, sha256, size, seconds, converted, replaced}``."""
    started = time.time()
    tar = _gnu_tar()
    archive = os.path.abspath(archive_path(destination))
    directory = os.path.dirname(archive)
    check_destination(disk["path"], archive)
    try:
        if not os.path.isdir(directory):
            os.makedirs(directory)
    except OSError as exc:
        raise ImageError("%s: cannot create the directory for the archive: %s" % (archive, exc.strerror))
    _remove_stale_temporaries(archive, workdir)
    try:
        scratch = tempfile.mkdtemp(prefix="%s%d-" % (PACK_PREFIX, os.getpid()), dir=workdir or directory)
    except OSError as exc:  # a workdir that is gone, a directory on a read-only filesystem
        raise ImageError("%s: cannot create scratch space for the archive in %s: %s" % (
            archive, workdir or directory, exc.strerror))
    try:
        # the file's own bytes: tar stores a symbolic link as a link member, not the disk it names
        source = os.path.realpath(disk["path"])
        # GNU tar stores a member sparse only when the file has holes (create.c: ST_IS_SPARSE): a raw
        # file written in full (dd, cp --sparse=never, a copy over scp) would be stored dense, every
        # zero of it compressed; qemu-img convert writes the zeros as holes
        converted = disk["format"] != "raw" or disk["block_device"] or not _has_holes(source)
        if converted:
            raw = os.path.join(scratch, cat.IMPORT_ARCHIVE_MEMBER)
            rc, out, err = _run([tool("qemu-img"), "convert", "-f", disk["format"], "-O", "raw", source, raw],
                                timeout=24 * 3600)
            if rc != 0:
                raise ImageError("%s: qemu-img convert to raw failed: %s" % (disk["path"], _last_line(err)))
            source = raw
        temporary = os.path.join(directory, ".%s.%d.tmp" % (os.path.basename(archive), os.getpid()))
        cmd = [tar, "--format=oldgnu", "--sparse", "--create", "--gzip", "--file", temporary,
               "--directory", os.path.dirname(source),
               "--transform", "s|^.*$|%s|" % cat.IMPORT_ARCHIVE_MEMBER, "--", os.path.basename(source)]
        try:
            rc, out, err = _run(cmd, timeout=24 * 3600)
            if rc != 0:
                raise ImageError("tar failed writing %s: %s" % (archive, _last_line(err)))
            digest = hashlib.sha256()
            with open(temporary, "rb") as handle:
                for chunk in iter(lambda: handle.read(CHUNK), b""):
                    digest.update(chunk)
                os.fsync(handle.fileno())
            replaced = os.path.exists(archive)
            os.rename(temporary, archive)
        except OSError as exc:  # the archive's path taken by a directory meanwhile, a full or read-only filesystem
            raise ImageError("%s: cannot write the archive: %s" % (archive, exc.strerror))
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {"archive": archive, "sha256": digest.hexdigest(), "size": os.stat(archive).st_size,
            "seconds": round(time.time() - started, 1), "converted": converted, "replaced": replaced}


def extract(archive, member, directory, occurrence=1):
    """Restore the ``occurrence``-th member named ``member`` of ``archive``
    (sparse) as ``directory/disk.raw``: read_archive's first regular member
    may come after a link or a directory of the same name."""
    tar = _gnu_tar()
    target = os.path.join(directory, cat.IMPORT_ARCHIVE_MEMBER)
    cmd = [tar, "--extract", "--sparse", "--file", archive, "--directory", directory,
           "--occurrence=%d" % occurrence, "--no-same-owner", "--no-same-permissions",
           "--transform", "s|^.*$|%s|" % cat.IMPORT_ARCHIVE_MEMBER, "--", member]
    rc, out, err = _run(cmd, timeout=24 * 3600)
    if rc == 0 and (os.path.islink(target) or not os.path.isfile(target)):
        raise ImageError("%s: member %s was not restored as a regular file: not audited" % (archive, member))
    if rc != 0 or not os.path.isfile(target):
        raise ImageError("%s: cannot extract %s to audit it: %s" % (archive, member, _last_line(err) or "rc=%d" % rc))
    os.chmod(target, 0o600)
    return target


def image_name(given, archive):
    """The image name for gcloud: ``given``, or derived from the archive's
    name (RFC 1035: lower case, digits, hyphens, 63 characters)."""
    if given:
        if not IMAGE_NAME.match(given):
            raise ImageError("image_name %r is not a valid Compute Engine image name (a lower-case letter, then "
                             "up to 62 lower-case letters, digits or hyphens, not ending with a hyphen)" % given)
        return given
    base = os.path.basename(archive)
    base = base[:-len(".tar.gz")] if base.endswith(".tar.gz") else base
    name = re.sub(r"[^a-z0-9-]+", "-", base.lower()).strip("-")
    if not name or not name[0].isalpha():
        name = "image-" + name
    return name[:63].rstrip("-")


def check_bucket(bucket):
    """ImageError unless ``bucket`` is a name Cloud Storage takes ("Bucket
    naming requirements"), or the placeholder."""
    if bucket == BUCKET_PLACEHOLDER:
        return
    labels = (bucket or "").split(".")
    why = None
    if not 3 <= len(bucket or "") <= (222 if len(labels) > 1 else 63):
        why = "it needs 3 to 63 characters (up to 222 with dots)"
    elif not all(BUCKET_LABEL.match(label) for label in labels):
        why = ("it may hold only lower-case letters, digits, hyphens and underscores (dots between parts), each "
               "part starting and ending with a letter or digit; no gs:// and no folder")
    elif re.match(r"^\d+\.\d+\.\d+\.\d+\Z", bucket):
        why = "it is an IP address"
    elif bucket.startswith("goog") or "google" in bucket:
        why = "it starts with goog or holds google"
    if why:
        raise ImageError("bucket %r is not a Cloud Storage bucket name: %s" % (bucket, why))


def gcloud_command(name, bucket, archive, features, arch=None):
    """The import command: ``gcloud compute images create``, with only the
    guest OS features the audit found; one shell command whatever the
    archive's name holds (the user copies it into a shell)."""
    check_bucket(bucket)
    source = "gs://%s/%s" % (bucket, os.path.basename(archive))
    cmd = ["gcloud", "compute", "images", "create", name, "--source-uri=%s" % source]
    if features:
        cmd.append("--guest-os-features=%s" % ",".join(features))
    architecture = {"x86_64": "X86_64", "arm64": "ARM64"}.get(arch or "")
    if architecture:
        cmd.append("--architecture=%s" % architecture)
    return " ".join(shlex.quote(word) for word in cmd), source
