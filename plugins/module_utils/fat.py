# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A read-only FAT12/16/32 reader for EFI System Partitions.

An ESP is read, never mounted: the boot files it must hold are a handful of
names and a few PE headers, the machine doing the audit may have no FAT
driver at all (kernels built without CONFIG_VFAT_FS), and a hostile image's
FAT is parsed here, with every cluster number and chain checked, instead of
by the kernel.

Layout: Microsoft's "FAT: General Overview of On-Disk Format" (the BPB, the
FAT entries, 32-byte directory entries with VFAT long-name entries before the
8.3 entry they belong to); the UEFI Specification 2.10, 13.3 "File System
Format" (the ESP is FAT12/16/32).

``FatReader(disk, offset, size)``: ``listdir(path)``, ``stat(path)``,
``read(path, limit)``, ``walk()``.  Paths are ``/``-separated and matched
case-insensitively, as the firmware does.  Errors raise FatError.
"""

import struct

MAX_FAT_BYTES = 16 * 1024 * 1024
MAX_DIR_ENTRIES = 65536
MAX_DEPTH = 16
# what read() and read_at() return, all files of one filesystem together: an ESP's boot files
# are a few MiB, and cross-linked entries (many names, one cluster chain: fsck.fat's
# "cross-linked") made a 4 MiB file read again for each of thousands of names
MAX_READ_BYTES = 64 * 1024 * 1024
ATTR_LFN = 0x0F
ATTR_DIR = 0x10
ATTR_VOLUME = 0x08


class FatError(Exception):
    """The FAT filesystem cannot be read as asked; the message says why."""


class FatLimitError(FatError):
    """A file not read because of this reader's own limits (the size a caller
    allows, MAX_READ_BYTES in all): the file may be sound, so a caller that
    skips unreadable files as a boot loader does must not skip this one."""


class FatReader(object):
    def __init__(self, disk, offset, size):
        self.disk, self.offset, self.size = disk, offset, size
        if size < 512:   # the boot sector's read would take the bytes after the partition
            raise FatError("%d bytes: too small to hold a FAT boot sector" % size)
        boot = disk.read(offset, 512)
        if len(boot) < 512 or boot[510:512] != b"\x55\xaa":
            raise FatError("no FAT boot sector (no 0x55AA signature)")
        (self.bytes_per_sector, self.sectors_per_cluster, reserved, fats, root_entries,
         total16, dummy, fat16) = struct.unpack("<HBHBHHBH", boot[11:24])
        total32, fat32, root_cluster = struct.unpack("<I", boot[32:36])[0], \
            struct.unpack("<I", boot[36:40])[0], struct.unpack("<I", boot[44:48])[0]
        if self.bytes_per_sector not in (512, 1024, 2048, 4096) or self.sectors_per_cluster == 0 or \
                self.sectors_per_cluster & (self.sectors_per_cluster - 1) or fats == 0 or reserved == 0:
            raise FatError("the FAT boot sector's parameters are invalid")
        total = total16 or total32
        fat_sectors = fat16 or fat32
        root_sectors = (root_entries * 32 + self.bytes_per_sector - 1) // self.bytes_per_sector
        self.first_data = reserved + fats * fat_sectors + root_sectors
        if not fat_sectors or total <= self.first_data or total * self.bytes_per_sector > size:
            raise FatError("the FAT boot sector describes %s sectors, which do not fit the "
                           "partition" % total)
        self.clusters = (total - self.first_data) // self.sectors_per_cluster
        # FAT32 is the BPB with no 16-bit FAT size, whatever its cluster count (mkfs.fat -F 32 makes
        # small ones): Linux's fat_fill_super (fs/fat/inode.c) and libblkid's vfat.c decide so
        if not fat16:
            self.kind = 32
        elif self.clusters < 4085:
            self.kind = 12
        elif self.clusters < 65525:
            self.kind = 16
        else:
            # fat_fill_super: "count of clusters too big"
            raise FatError("the FAT12/16 boot sector describes %d clusters, more than a FAT16 holds"
                           % self.clusters)
        self.cluster_bytes = self.bytes_per_sector * self.sectors_per_cluster
        fat_bytes = fat_sectors * self.bytes_per_sector
        if fat_bytes > MAX_FAT_BYTES:
            raise FatError("the FAT is %d bytes, more than an ESP needs" % fat_bytes)
        self.fat = disk.read(offset + reserved * self.bytes_per_sector, fat_bytes)
        if self.kind == 32:
            self.root = ("cluster", root_cluster)
        else:
            start = (reserved + fats * fat_sectors) * self.bytes_per_sector
            self.root = ("fixed", start, root_sectors * self.bytes_per_sector)
        self._listings, self._indexes = {}, {}
        self._read_left = MAX_READ_BYTES

    def _spend(self, path, length):
        if length > self._read_left:
            raise FatLimitError("%s: not read: the files read from this filesystem would add up to more than %d bytes "
                                "(cross-linked files?)" % (path, MAX_READ_BYTES))
        self._read_left -= length

    # ------------------------------------------------------------- clusters
    def _next(self, cluster):
        if self.kind == 12:
            where = cluster + cluster // 2
            value = struct.unpack("<H", self.fat[where:where + 2])[0] if where + 2 <= len(self.fat) else 0xFFF
            value = value >> 4 if cluster & 1 else value & 0xFFF
            return None if value >= 0xFF8 else value
        if self.kind == 16:
            where = cluster * 2
            value = struct.unpack("<H", self.fat[where:where + 2])[0] if where + 2 <= len(self.fat) else 0xFFFF
            return None if value >= 0xFFF8 else value
        where = cluster * 4
        value = (struct.unpack("<I", self.fat[where:where + 4])[0] if where + 4 <= len(self.fat)
                 else 0x0FFFFFFF) & 0x0FFFFFFF
        return None if value >= 0x0FFFFFF8 else value

    def _chain(self, first, limit=None):
        """The clusters of a file or directory, checked: in range, no loop."""
        chain, seen, cluster = [], set(), first
        while cluster is not None:
            if not 2 <= cluster < self.clusters + 2:
                raise FatError("cluster %d is outside the filesystem" % cluster)
            if cluster in seen:
                raise FatError("a cluster chain loops back to cluster %d" % cluster)
            seen.add(cluster)
            chain.append(cluster)
            if limit is not None and len(chain) * self.cluster_bytes >= limit:
                break
            cluster = self._next(cluster)
        return chain

    def _read_chain(self, first, length=None):
        data = []
        for cluster in self._chain(first, length):
            start = self.offset + ((cluster - 2) * self.sectors_per_cluster + self.first_data) * \
                self.bytes_per_sector
            data.append(self.disk.read(start, self.cluster_bytes))
        blob = b"".join(data)
        return blob if length is None else blob[:length]

    # ---------------------------------------------------------- directories
    def _entries(self, where):
        # each directory is read once: a file is looked up from the root, and reading every
        # loader entry by its path read /loader/entries (up to 2 MiB) again for each of them
        key = tuple(where)
        if key not in self._listings:
            self._listings[key] = self._read_entries(where)
        return self._listings[key]

    def _read_entries(self, where):
        if where[0] == "fixed":
            raw = self.disk.read(self.offset + where[1], where[2])
        else:
            raw = self._read_chain(where[1], MAX_DIR_ENTRIES * 32)
        entries, long_parts, expected, checksum = [], [], 0, None
        for index in range(min(len(raw) // 32, MAX_DIR_ENTRIES)):
            entry = raw[index * 32:(index + 1) * 32]
            if entry[0] == 0x00:
                break
            if entry[0] == 0xE5:
                long_parts = []
                continue
            attr = entry[11]
            if attr == ATTR_LFN:
                # a long name's entries come last part first (0x40 on it), numbered down to 1,
                # each with the checksum of its 8.3 entry; out of sequence, they are orphans
                chars = entry[1:11] + entry[14:26] + entry[28:32]
                order = entry[0] & 0x1F
                if entry[0] & 0x40 and order:
                    long_parts, expected, checksum = [chars], order - 1, entry[13]
                elif long_parts and order == expected and order and entry[13] == checksum:
                    long_parts.insert(0, chars)
                    expected -= 1
                else:
                    long_parts = []
                continue
            if attr & ATTR_VOLUME:
                long_parts = []
                continue
            name = None
            if long_parts and (expected or _lfn_checksum(entry[0:11]) != checksum):
                long_parts = []  # incomplete, or left by a tool that renamed the 8.3 entry
            if long_parts:
                name = b"".join(long_parts).decode("utf-16-le", "replace").split("\x00", 1)[0]
                name = name.rstrip("\uffff") or None
            long_parts = []
            if name is None:
                base, ext = entry[0:8].decode("latin-1").rstrip(), entry[8:11].decode("latin-1").rstrip()
                if entry[12] & 0x08:
                    base = base.lower()
                if entry[12] & 0x10:
                    ext = ext.lower()
                name = base + ("." + ext if ext else "")
            if name in (".", ".."):
                continue
            cluster = struct.unpack("<H", entry[26:28])[0]
            if self.kind == 32:   # bytes 20-21 are the high word on FAT32 only (Linux's fat_get_start)
                cluster |= struct.unpack("<H", entry[20:22])[0] << 16
            entries.append({"name": name, "dir": bool(attr & ATTR_DIR), "cluster": cluster,
                            "size": struct.unpack("<I", entry[28:32])[0]})
        return entries

    def _named(self, where):
        """``{lower-case name: entry}`` of a directory, the first entry of a
        name kept: each of a directory's files is looked up by its path, and
        a scan of its listing for each made 30,000 files minutes of work."""
        key = tuple(where)
        if key not in self._indexes:
            index = {}
            for entry in self._entries(where):
                index.setdefault(entry["name"].lower(), entry)
            self._indexes[key] = index
        return self._indexes[key]

    def _lookup(self, path):
        where, node = self.root, {"name": "/", "dir": True, "cluster": None, "size": 0}
        parts = [part for part in path.split("/") if part and part != "."]
        if len(parts) > MAX_DEPTH:
            raise FatError("%s: too deep" % path)
        for depth, part in enumerate(parts):
            if not node["dir"]:
                raise FatError("%s: %s is not a directory" % (path, "/".join(parts[:depth])))
            node = self._named(where).get(part.lower())
            if node is None:
                raise FatError("%s: no such file or directory" % path)
            where = ("cluster", node["cluster"]) if node["dir"] else None
            if node["dir"] and node["cluster"] == 0:  # ".." style reference to the root
                where = self.root
        return node, where

    def stat(self, path):
        node, dummy = self._lookup(path)
        return {"name": node["name"], "dir": node["dir"], "size": node["size"]}

    def exists(self, path):
        try:
            self._lookup(path)
        except FatError:
            return False
        return True

    def listdir(self, path="/"):
        node, where = self._lookup(path)
        if not node["dir"]:
            raise FatError("%s: not a directory" % path)
        return sorted(entry["name"] for entry in self._entries(where))

    def read(self, path, limit=1024 * 1024, head=None):
        """The file's content (its first ``head`` bytes when given)."""
        node, dummy = self._lookup(path)
        if node["dir"]:
            raise FatError("%s: is a directory" % path)
        if node["size"] > limit:
            raise FatLimitError("%s: larger than %d bytes: not read" % (path, limit))
        wanted = node["size"] if head is None else min(head, node["size"])
        if wanted == 0:
            return b""
        self._spend(path, wanted)
        data = self._read_chain(node["cluster"], wanted)
        if len(data) < wanted:
            raise FatError("%s: its clusters end before its size (%d bytes)" % (path, node["size"]))
        return data

    def read_at(self, path, offset, length):
        """``length`` bytes of the file from ``offset``, fewer at its end:
        only the clusters they lie in are read (a UKI's PE sections, not its
        whole 100 MB)."""
        node, dummy = self._lookup(path)
        if node["dir"]:
            raise FatError("%s: is a directory" % path)
        end = min(offset + length, node["size"])
        if offset >= end:
            return b""
        chain = self._chain(node["cluster"], end)
        if len(chain) * self.cluster_bytes < end:
            raise FatError("%s: its clusters end before its size (%d bytes)" % (path, node["size"]))
        self._spend(path, (len(chain) - offset // self.cluster_bytes) * self.cluster_bytes)
        data = []
        for cluster in chain[offset // self.cluster_bytes:]:
            start = self.offset + ((cluster - 2) * self.sectors_per_cluster + self.first_data) * \
                self.bytes_per_sector
            data.append(self.disk.read(start, self.cluster_bytes))
        skip = offset % self.cluster_bytes
        return b"".join(data)[skip:skip + end - offset]

    def walk(self, path="/"):
        """``[(path, is_dir, size)]`` of every file and directory below
        ``path``.  A directory met twice (a subdirectory entry pointing back
        up, or two entries sharing one directory) is a FatError: followed,
        a few such entries made the walk exponential; so are two directories
        whose cluster chains join (cross-linked)."""
        found, seen = [], set()
        node, where = self._lookup(path)
        if not node["dir"]:
            raise FatError("%s: not a directory" % path)
        self._walk(path, where, 0, found, seen)
        return found

    def _walk(self, path, where, depth, found, seen):
        # each directory is read once, by its cluster: looking every child up
        # by its path from the root read each ancestor again (quadratic)
        if depth > MAX_DEPTH:
            return
        for entry in self._entries(where):
            child = path.rstrip("/") + "/" + entry["name"]
            found.append((child, entry["dir"], entry["size"]))
            if len(found) > MAX_DIR_ENTRIES:
                raise FatError("more than %d files and directories: not read further" % MAX_DIR_ENTRIES)
            if entry["dir"] and entry["cluster"] >= 2:
                if entry["cluster"] in seen:
                    raise FatError("%s: the directory tree loops back (cluster %d is listed twice)"
                                   % (child, entry["cluster"]))
                # every cluster of it, not its first only: directories whose chains join into one
                # long tail had each read the whole tail (2 MiB) again
                chain = self._chain(entry["cluster"], MAX_DIR_ENTRIES * 32)
                shared = seen.intersection(chain)
                if shared:
                    raise FatError("%s: its cluster chain runs into another directory's (cluster %d is "
                                   "cross-linked)" % (child, min(shared)))
                seen.update(chain)
                self._walk(child, ("cluster", entry["cluster"]), depth + 1, found, seen)


def _lfn_checksum(short_name):
    """The checksum a long name's entries carry of their 8.3 name (Microsoft's FAT specification)."""
    total = 0
    for byte in bytearray(short_name):
        total = ((total & 1) << 7 | total >> 1) + byte & 0xFF
    return total


def pe_machine(data):
    """The machine type of a PE/COFF image (an EFI application): "x86_64",
    "arm64", "x86_32"..., or None when ``data`` is not a PE image."""
    if len(data) < 64 or data[0:2] != b"MZ":
        return None
    where = struct.unpack("<I", data[60:64])[0]
    if where + 6 > len(data) or data[where:where + 4] != b"PE\x00\x00":
        return None
    machine = struct.unpack("<H", data[where + 4:where + 6])[0]
    return {0x8664: "x86_64", 0xAA64: "arm64", 0x014C: "x86_32", 0x01C2: "arm",
            0x5064: "riscv64"}.get(machine, "0x%04x" % machine)
