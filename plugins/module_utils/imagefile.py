# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A disk image file on this machine: what it is (by its content), whether
anything else is using it, and the worker that attaches it, mounts what its
fstab needs, runs every requirement area on the mounted tree and judges the
IMG-* requirements -- and always detaches it.

Inputs accepted: a regular file that ``qemu-img`` recognises by content as
raw, qcow2, qcow, VMDK (a single-file one), VHD (vpc), VHDX, VDI or QED,
without a backing file or external data file; a block device that nothing on
this machine uses (not mounted, no partition mounted, not swap, not held by
device-mapper/md, not this machine's root disk); a tar archive (gzip or not)
to audit as an import archive.  Anything else is refused with the reason.

The worker runs as PID 1 of its own PID namespace in its own private mount
namespace (``unshare --mount --propagation private --pid --fork
--kill-child``): the kernel drops every mount it made when it exits for any
reason (an error, a signal, the timeout's SIGKILL), and kills every process
it started (qemu-storage-daemon).  Partitions are mounted from loop devices
with autoclear (``mount -o loop,offset=,sizelimit=``): a loop device detaches
itself when its filesystem is unmounted, so nothing stays attached either.
Raw images and block devices are used directly; other formats are exposed
as a raw file by ``qemu-storage-daemon``'s FUSE export (in the same private
namespaces, writable only for harden), so a qcow2 is changed in place and
nothing is converted to audit it; the worker then mounts in a mount namespace
of its own, never in the daemon's (``leave_mount_namespace`` says why).  The ESP is read by the FAT reader, not
mounted.  Audits mount read-only from read-only loop devices (ext4 without
journal replay, XFS without log recovery): an audit never writes the image.
"""

import errno
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import time

from ansible_collections.guestready.gce.plugins.module_utils import (
    bootconfig, bootdisk, fat, filesystems, fstab, partitions, sysctl, uki)
from ansible_collections.guestready.gce.plugins.module_utils.envfile import os_release_values
from ansible_collections.guestready.gce.plugins.module_utils.bootconfig import gather_menu
from ansible_collections.guestready.gce.plugins.module_utils.digits import ascii_int
from ansible_collections.guestready.gce.plugins.module_utils.target import Missing, TargetError, text_of

FORMATS = ("raw", "qcow2", "qcow", "vmdk", "vpc", "vhdx", "vdi", "qed")
FORMAT_NAMES = {"raw": "raw", "qcow2": "qcow2", "qcow": "qcow (v1)", "vmdk": "VMDK", "vpc": "VHD",
                "vhdx": "VHDX", "vdi": "VDI", "qed": "QED"}
COMPRESSIONS = ((b"\x1f\x8b", "gzip"), (b"\xfd7zXZ\x00", "xz"), (b"BZh", "bzip2"),
                (b"\x28\xb5\x2f\xfd", "zstd"), (b"\x04\x22\x4d\x18", "lz4"))
MOUNTABLE_ROOTS = ("ext2", "ext3", "ext4", "xfs", "btrfs")
BOOT_DISKS = ("sda", "vda", "hda", "xvda", "nvme0n1", "mmcblk0")
COMMAND_TIMEOUT = 600


class ImageError(Exception):
    """The input cannot be handled; the message names it and says why."""
    kind = "error"


class Refused(ImageError):
    """The input is in use, or is this machine's own disk."""
    kind = "refused"


class Unsupported(ImageError):
    """The input is a disk, but one this collection cannot audit."""
    kind = "unsupported"


def _run(cmd, timeout=COMMAND_TIMEOUT, **kwargs):
    try:
        # UTF-8 whatever the locale; a message quoting an image's bytes (a path, a label) is shown
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                              universal_newlines=True, encoding="utf-8", errors="replace", check=False, **kwargs)
    except OSError as exc:
        raise ImageError("cannot run %s: %s" % (cmd[0], exc.strerror))
    except subprocess.TimeoutExpired:
        raise ImageError("%s did not finish within %d s" % (" ".join(cmd[:3]), timeout))
    return proc.returncode, proc.stdout, proc.stderr


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGALRM)


class _SignalsDeferred(object):
    """Hold SIGINT/SIGTERM/SIGALRM while a mount or unmount runs: a stop that
    landed between the mount(8) call and its bookkeeping would leave a mount
    nobody knows about.  The held signal is delivered on exit."""

    def __enter__(self):
        self.previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        return self

    def __exit__(self, *exc):
        signal.pthread_sigmask(signal.SIG_SETMASK, self.previous)
        return False


def tool(name):
    """The path of a command this needs, or ImageError naming its package."""
    found = shutil.which(name) or next((os.path.join(d, name) for d in ("/usr/sbin", "/sbin", "/usr/bin")
                                        if os.access(os.path.join(d, name), os.X_OK)), None)
    if not found:
        package = {"qemu-img": "qemu-utils", "qemu-storage-daemon": "qemu-utils", "unshare": "util-linux",
                   "mount": "mount", "tar": "tar"}.get(name, name)
        raise ImageError("%s is needed and not installed (package %s)" % (name, package))
    return found


def _last_line(text):
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1] if lines else ""


# --------------------------------------------------------------------------
# what the input is
# --------------------------------------------------------------------------

def sniff_compression(head):
    for magic, name in COMPRESSIONS:
        if head.startswith(magic):
            return name
    return None


def is_tar_header(block):
    return len(block) >= 512 and block[257:262] == b"ustar"


def content_kind(path):
    """``"archive"`` (a tar archive, compressed or not), ``"disk"``, or
    ImageError for a compressed file that is not a tar archive."""
    with open(path, "rb") as handle:
        head = handle.read(4096)
    compression = sniff_compression(head)
    if compression is None:
        return "archive" if is_tar_header(head[:512]) else "disk"
    if compression == "gzip":
        return "archive"
    # a tarball compressed another way is still an archive to judge (it fails IMG-ARCHIVE_GZIP)
    inner = _decompress_head(path, compression)
    if inner is not None and is_tar_header(inner[:512]):
        return "archive"
    raise ImageError("%s: a %s-compressed file%s; decompress it first (%s)" % (
        path, compression, "" if inner is None else ", not a tar archive",
        {"xz": "xz -dk", "bzip2": "bunzip2 -k", "zstd": "zstd -d", "lz4": "lz4 -d"}[compression]))


def _decompress_head(path, compression):
    import bz2
    import lzma
    with open(path, "rb") as handle:
        data = handle.read(1 << 20)
    try:
        if compression == "xz":
            return lzma.LZMADecompressor().decompress(data, 4096)
        if compression == "bzip2":
            return bz2.BZ2Decompressor().decompress(data, 4096)  # a bomb inflates no further
    except (lzma.LZMAError, OSError, EOFError, ValueError):
        return b""
    return None


# QEMU's image locking (block/file-posix.c, raw_check_lock_bytes): 'Failed to get "write" lock',
# 'Failed to get shared "write" lock', with the hint 'Is another process using the image [PATH]?'
LOCK_ERROR = re.compile(r'Failed to get (?:shared )?"[a-z ]+" lock|Is another process using the image')


def lock_error(text):
    """Whether a qemu tool's error says another process holds the image's
    lock (not any message with "lock" in it: "block-vpc: ... The image has
    been truncated" is a damaged VHD)."""
    return bool(LOCK_ERROR.search(text or ""))


def qemu_info(path, fmt=None):
    """``qemu-img info`` of ``path`` (without ``-U``: it takes the image's
    shared lock, so an image a running QEMU holds is reported here)."""
    cmd = [tool("qemu-img"), "info", "--output=json"] + (["-f", fmt] if fmt else []) + [path]
    rc, out, err = _run(cmd, timeout=120)
    if rc != 0:
        reason = _last_line(err)
        if lock_error(err):
            raise Refused("%s is in use: %s (a running VM holds it; stop it first)" % (path, reason))
        raise ImageError("%s: qemu-img cannot read it as a disk image: %s" % (path, reason or "rc=%d" % rc))
    try:
        return json.loads(out)
    except ValueError:
        raise ImageError("%s: qemu-img info printed no JSON" % path)


def qemu_check(path, fmt):
    """``qemu-img check`` for formats that have metadata to check: a
    truncated or corrupt image is refused before anything mounts it."""
    rc, out, err = _run([tool("qemu-img"), "check", "-f", fmt, "--output=json", path], timeout=600)
    if rc in (0, 3):   # 3: leaked clusters only: harmless for reading
        return
    if rc == 63:       # the format has no checks
        return
    detail = _last_line(err) or _last_line(out)
    try:
        report = json.loads(out)
        detail = "%s corruption(s), %s check error(s)%s" % (
            report.get("corruptions", 0), report.get("check-errors", 0),
            "; " + detail if detail and not detail.startswith("{") and not detail.startswith("}") else "")
    except ValueError:
        pass
    raise ImageError("%s: the %s image is damaged (qemu-img check: %s); is it truncated or an "
                     "incomplete copy?" % (path, FORMAT_NAMES.get(fmt, fmt), detail or "rc=%d" % rc))


# formats whose qemu-img check does not compare the clusters with the file's end (qcow2's and
# QED's do, and tolerate a last cluster that is partly past it, which qemu reads as zeros)
MAP_CHECKED = ("vdi", "vmdk", "vpc", "vhdx", "qcow")


def qemu_map_check(path, fmt):
    """Refuse an image whose allocation map points past the end of its file.
    ``qemu-img check`` does not look for that in every format (a truncated
    VDI, or a VMDK cut in its last grains, is "No errors were found"), and
    QEMU reads the missing part as zeros: the disk would be audited and
    packed with holes where its data was."""
    rc, out, err = _run([tool("qemu-img"), "map", "-f", fmt, "--output=json", path], timeout=600)
    if rc != 0:
        raise ImageError("%s: the %s image's allocation map cannot be read (qemu-img map: %s); is it truncated "
                         "or an incomplete copy?" % (path, FORMAT_NAMES.get(fmt, fmt), _last_line(err) or "rc=%d" % rc))
    try:
        extents = json.loads(out)
    except ValueError:
        raise ImageError("%s: qemu-img map printed no JSON" % path)
    size = os.stat(path).st_size
    for extent in extents if isinstance(extents, list) else []:
        offset, length = extent.get("offset"), extent.get("length")
        if extent.get("data") and isinstance(offset, int) and isinstance(length, int) and offset + length > size:
            raise ImageError("%s: the %s image is damaged: the data of its bytes %d-%d lies at file offset %d-%d, "
                             "beyond the end of the file (%d bytes); is it truncated or an incomplete copy?" % (
                                 path, FORMAT_NAMES.get(fmt, fmt), extent.get("start", 0),
                                 extent.get("start", 0) + length, offset, offset + length, size))


def describe_disk(path, writable, member=False):
    """What the disk at ``path`` is: ``{path, format, virtual_size,
    block_device}``, after every refusal and sanity check.  ``member``: an
    import archive's disk.raw, whose bytes the import takes as they are."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise ImageError("%s: %s" % (path, exc.strerror))
    block = stat.S_ISBLK(info.st_mode)
    if block:
        check_block_device(path, info)
    elif not stat.S_ISREG(info.st_mode):
        raise ImageError("%s: a %s, not a disk image file or a block device" % (
            path, "directory" if stat.S_ISDIR(info.st_mode) else "special file"))
    if writable and not os.access(path, os.W_OK):
        raise ImageError("%s: not writable: harden changes the image" % path)
    check_not_in_use(path, info, writable)
    # an archive's disk.raw is raw bytes to the import whatever they look like: never probed
    # (a VDI renamed disk.raw would be opened as a VDI and its content audited)
    facts = qemu_info(path, "raw" if member else None)
    fmt = facts.get("format")
    if fmt == "raw" and not block and not member and _fixed_vhd(path):
        # qemu-img probes VHD by the header copy only dynamic VHDs have: a fixed VHD
        # looks raw, its footer a 512-byte tail that is no part of the disk
        facts = qemu_info(path, "vpc")
        fmt = facts.get("format")
    if fmt == "luks":
        raise Unsupported("%s: a LUKS-encrypted disk (qemu-img sees format luks): it cannot be read "
                          "without its key, and Compute Engine does not import software-encrypted disks" % path)
    if fmt not in FORMATS:
        raise ImageError("%s: format %r: not a disk image format this accepts (%s)" % (
            path, fmt, ", ".join(FORMATS)))
    if facts.get("backing-filename"):
        raise ImageError("%s: a %s image with a backing file (%s): flatten it first (qemu-img convert); "
                         "a backing file is never followed" % (path, fmt, facts["backing-filename"]))
    specific = (facts.get("format-specific") or {}).get("data") or {}
    if specific.get("data-file"):
        raise ImageError("%s: a qcow2 image with an external data file (%s): not followed" % (
            path, specific["data-file"]))
    if specific.get("encrypt") or facts.get("encrypted"):
        raise Unsupported("%s: an encrypted %s image: not readable without its key" % (path, fmt))
    if fmt == "vmdk":
        for extent in specific.get("extents") or []:
            filename = extent.get("filename")
            if filename and os.path.realpath(filename) != os.path.realpath(path):
                raise ImageError("%s: a VMDK whose data lives in other files (%s): give a single-file "
                                 "(monolithic) VMDK; other files are never followed" % (path, filename))
    if fmt in ("qcow2", "qed", "vdi", "vhdx", "vmdk", "qcow"):
        qemu_check(path, fmt)
    if fmt in MAP_CHECKED and not block:
        qemu_map_check(path, fmt)
    size = facts.get("virtual-size")
    if not size:
        raise ImageError("%s: qemu-img reports no size" % path)
    if fmt == "raw":
        # qemu-img calls anything it does not recognise raw: look for a disk in it
        with partitions.Disk(path) as disk:
            table = partitions.read_table(disk)
            if table["kind"] is None:
                found = filesystems.probe(disk, 0, disk.size)
                if found["type"] is None and table["problems"] and disk.size >= partitions.SECTOR:
                    # a damaged table (both GPT headers, a protective MBR without its GPT) is no "not a disk image"
                    raise ImageError("%s: no usable partition table: %s; and no filesystem on the whole disk: repair "
                                     "the table (gdisk's recovery menu, sgdisk, sfdisk)" % (
                                         path, "; ".join(table["problems"])))
                if found["type"] is None:
                    raise ImageError("%s: not a disk image: no partition table (MBR or GPT) and no filesystem "
                                     "in it (%d bytes of what qemu-img can only call raw data)" % (path, disk.size))
                if found["type"] == "iso9660":
                    raise ImageError("%s: an ISO 9660 (CD/DVD) image, not a disk image" % path)
    return {"path": path, "format": fmt, "virtual_size": int(size), "block_device": block,
            "actual_size": facts.get("actual-size")}


def _fixed_vhd(path):
    """Whether the file ends with a fixed VHD's footer ("conectix", disk type 2)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            if handle.tell() < 1024:
                return False
            handle.seek(-512, os.SEEK_END)
            footer = handle.read(512)
    except OSError:
        return False
    return footer[0:8] == b"conectix" and footer[60:64] == b"\x00\x00\x00\x02"


# --------------------------------------------------------------------------
# in use?
# --------------------------------------------------------------------------

def _same_file(info, other):
    if stat.S_ISBLK(info.st_mode):
        return stat.S_ISBLK(other.st_mode) and other.st_rdev == info.st_rdev
    return (other.st_dev, other.st_ino) == (info.st_dev, info.st_ino)


def open_by(info, proc="/proc"):
    """``[(pid, command, mode)]`` of the processes that hold the file open
    (mode ``read`` or ``write``)."""
    holders = []
    me = os.getpid()
    for pid in os.listdir(proc):
        if ascii_int(pid) is None or ascii_int(pid) == me:
            continue
        fd_dir = os.path.join(proc, pid, "fd")
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                other = os.stat(os.path.join(fd_dir, fd))
            except OSError:
                continue
            if not _same_file(info, other):
                continue
            mode = "read"
            try:
                with open(os.path.join(proc, pid, "fdinfo", fd)) as handle:
                    for line in handle:
                        if line.startswith("flags:"):
                            if int(line.split()[1], 8) & 3:
                                mode = "write"
            except (OSError, ValueError):
                pass
            try:
                # a process names itself: any bytes
                with open(os.path.join(proc, pid, "comm"), "rb") as handle:
                    command = text_of(handle.read().strip())
            except OSError:
                command = "?"
            holders.append((int(pid), command, mode))
    return holders


def loop_devices_of(path, info, sys_block="/sys/block"):
    """Loop devices whose backing file is ``path``."""
    found = []
    try:
        names = os.listdir(sys_block)
    except OSError:
        return found
    for name in names:
        if not name.startswith("loop"):
            continue
        try:
            # the path as the kernel has it (d_path(), any bytes), then a newline
            with open(os.path.join(sys_block, name, "loop", "backing_file"), "rb") as handle:
                backing = os.fsdecode(handle.read().rstrip(b"\n"))
        except OSError:
            continue
        backing = re.sub(r" \(deleted\)$", "", backing)
        try:
            if _same_file(info, os.stat(backing)):
                found.append("/dev/" + name)
        except OSError:
            if os.path.realpath(backing) == os.path.realpath(path):
                found.append("/dev/" + name)
    return found


def check_not_in_use(path, info, writable):
    """Refuse a disk another process or a loop device holds (a running VM,
    another tool): any writer, and for harden any holder at all."""
    holders = open_by(info)
    writers = [h for h in holders if h[2] == "write"]
    blocking = holders if writable else writers
    if blocking:
        raise Refused("%s is in use: %s hold%s it open%s (a running VM?); stop %s first" % (
            path, ", ".join("%s (pid %d, %s)" % (cmd, pid, mode) for pid, cmd, mode in blocking),
            "s" if len(blocking) == 1 else "", " for writing" if not writable else "",
            "it" if len(blocking) == 1 else "them"))
    loops = loop_devices_of(path, info) if not stat.S_ISBLK(info.st_mode) else []
    if loops:
        raise Refused("%s is attached elsewhere: loop device %s (losetup -d it first)" % (path, ", ".join(loops)))


def _mounted_devices(mountinfo="/proc/self/mountinfo"):
    """``{"major:minor": mount point}`` of what is mounted in this mount namespace."""
    mounted = {}
    try:
        for device, point in bootdisk.mounts(mountinfo):
            mounted.setdefault(device, point)
    except OSError:
        pass
    return mounted


def check_block_device(path, info):
    """Refuse a block device this machine uses: mounted (or a partition of it
    is), swap, held by device-mapper/md/LVM, or claimed by the kernel."""
    number = "%d:%d" % (os.major(info.st_rdev), os.minor(info.st_rdev))
    sysfs = os.path.realpath("/sys/dev/block/%s" % number)
    devices = {number: os.path.basename(sysfs)}
    try:
        for child in os.listdir(sysfs):
            dev_file = os.path.join(sysfs, child, "dev")
            if os.path.exists(os.path.join(sysfs, child, "partition")) and os.path.exists(dev_file):
                with open(dev_file) as handle:
                    devices[handle.read().strip()] = child
    except OSError:
        pass
    mounted = _mounted_devices()
    for dev, name in sorted(devices.items()):
        if dev in mounted:
            raise Refused("%s is this machine's disk: %s is mounted at %s; never touched" % (path, name, mounted[dev]))
    root = os.stat("/").st_dev
    if "%d:%d" % (os.major(root), os.minor(root)) in devices:
        raise Refused("%s holds this machine's root filesystem; never touched" % path)
    for dev, name in devices.items():
        holders = os.path.join(os.path.realpath("/sys/dev/block/%s" % dev), "holders")
        try:
            held = os.listdir(holders)
        except OSError:
            held = []
        if held:
            raise Refused("%s is in use: %s is held by %s (device-mapper, LVM, RAID or a loop device); "
                          "never touched" % (path, name, ", ".join(held)))
    try:
        with open("/proc/swaps", "rb") as handle:
            for line in handle.read().splitlines()[1:]:
                swap = bootdisk.unmangle(line.split()[0])
                try:
                    if stat.S_ISBLK(os.stat(swap).st_mode) and \
                            "%d:%d" % (os.major(os.stat(swap).st_rdev), os.minor(os.stat(swap).st_rdev)) in devices:
                        raise Refused("%s is in use as swap (%s); never touched" % (path, swap))
                except OSError:
                    continue
    except OSError:
        pass
    try:
        fd = os.open(path, os.O_RDONLY | os.O_EXCL)
    except OSError as exc:
        if exc.errno == errno.EBUSY:
            raise Refused("%s is in use by the kernel (mounted, swap, or part of a dm/md device); "
                          "never touched" % path)
        raise ImageError("%s: %s" % (path, exc.strerror))
    os.close(fd)


# --------------------------------------------------------------------------
# attaching and mounting (in the worker's private namespaces)
# --------------------------------------------------------------------------

class Attachment(object):
    """The disk as a raw file, and what is mounted from it, under a private
    directory.  Leaving the context unmounts, stops the FUSE export and
    removes the directory; the namespaces are the backstop for a crash."""

    def __init__(self, disk, writable, workdir=None, owner=None):
        self.disk, self.writable = disk, writable
        self.workdir = workdir
        # the module's PID (the worker is PID 1 of its namespace): a directory whose
        # owner is gone was left by a killed run, and the next run removes it
        self.owner = owner or os.getpid()
        self.dir = None
        self.raw = None
        self.mounts = []
        self.qsd_pid = None
        self.exclusive_fd = None
        self.vfat = _kernel_has("vfat")

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="%s%d-" % (SCRATCH_PREFIX, self.owner), dir=self.workdir)
        os.chmod(self.dir, 0o700)
        try:
            if self.disk["block_device"]:
                # keep other users out while we work (the kernel's exclusive claim)
                self.exclusive_fd = os.open(self.disk["path"], os.O_RDONLY | os.O_EXCL)
            if self.disk["format"] == "raw":
                self.raw = self.disk["path"]
            else:
                self.raw = self._export()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def _export(self):
        """Expose a non-raw image as a raw file (qemu-storage-daemon, FUSE)."""
        export = os.path.join(self.dir, "disk")
        open(export, "w").close()
        pidfile = os.path.join(self.dir, "qsd.pid")
        ro = not self.writable
        blockdevs = [
            {"driver": "file", "filename": os.path.abspath(self.disk["path"]), "node-name": "file",
             "read-only": ro, "locking": "on"},
            {"driver": self.disk["format"], "file": "file", "node-name": "disk", "read-only": ro},
        ]
        cmd = [tool("qemu-storage-daemon")]
        for blockdev in blockdevs:
            cmd += ["--blockdev", json.dumps(blockdev)]
        cmd += ["--export", json.dumps({"type": "fuse", "id": "export", "node-name": "disk",
                                        "mountpoint": export, "writable": not ro}),
                "--daemonize", "--pidfile", pidfile]
        rc, out, err = _run(cmd, timeout=120)
        if rc != 0:
            reason = _last_line(err)
            if lock_error(err):
                raise Refused("%s is in use: %s" % (self.disk["path"], reason))
            raise ImageError("%s: qemu-storage-daemon cannot expose it as a raw disk: %s" % (
                self.disk["path"], reason or "rc=%d" % rc))
        with open(pidfile) as handle:
            self.qsd_pid = int(handle.read().strip())
        size = os.stat(export).st_size
        if size != self.disk["virtual_size"]:
            raise ImageError("%s: the raw view is %d bytes, qemu-img said %d" % (
                self.disk["path"], size, self.disk["virtual_size"]))
        leave_mount_namespace()
        return export

    def mount(self, partition, fstype, where, writable=None, options=()):
        """Mount the filesystem of ``partition`` (``start``/``size`` bytes of
        the raw disk) at ``where`` (a directory that exists)."""
        writable = self.writable if writable is None else writable
        if fstype == "vfat" and not self.vfat:
            raise ImageError("this machine's kernel has no FAT (vfat) driver")
        if fstype == "btrfs" and partition.get("filesystem", {}).get("uuid") and \
                os.path.exists("/sys/fs/btrfs/%s" % partition["filesystem"]["uuid"]):
            raise Refused("partition %s is a btrfs filesystem with the UUID of one this machine has "
                          "mounted; it is not mounted here" % partition["number"])
        # an audit executes nothing from the image; harden may (an area that runs the
        # image's own tools in a chroot), still without device nodes or setuid
        opts = ["loop", "offset=%d" % partition["start"], "sizelimit=%d" % partition["size"],
                "rw" if writable else "ro", "nodev", "nosuid"] + ([] if writable else ["noexec"]) + list(options)
        if not writable:
            opts += {"ext2": ["noload"], "ext3": ["noload"], "ext4": ["noload"], "xfs": ["norecovery"],
                     "btrfs": ["rescue=nologreplay"]}.get(fstype, [])
        if fstype == "xfs":
            opts.append("nouuid")
        if fstype == "vfat":
            opts += ["umask=077"]
        command = [tool("mount"), "-t", fstype, "-o", ",".join(opts), "--", self.raw, where]
        with _SignalsDeferred():
            rc, out, err = _run(command, timeout=120)
            if rc == 0 or os.path.ismount(where):
                self.mounts.append(where)
        if rc != 0:
            raise ImageError("cannot mount partition %s (%s): %s" % (partition["number"], fstype, _last_line(err)))
        return where

    def unmount(self, where):
        """Unmount ``where`` if this attachment mounted it; the error text, or None."""
        if where not in self.mounts:
            return None
        with _SignalsDeferred():
            rc, out, err = _run([tool("umount"), "--", where], timeout=300)
            if rc != 0 and os.path.ismount(where):
                _run([tool("umount"), "-l", "--", where], timeout=60)
            self.mounts.remove(where)
        return err if rc != 0 else None

    def close(self):
        errors = [e for e in (self.unmount(where) for where in reversed(list(self.mounts))) if e]
        if self.qsd_pid:
            # our copy of the export first: once the daemon is gone it answers nothing,
            # not even the stat that would tell it is a mount point
            export = os.path.join(self.dir, "disk")
            if os.path.ismount(export) and _run([tool("umount"), "--", export], timeout=60)[0] != 0:
                _run([tool("umount"), "-l", "--", export], timeout=60)
            _stop(self.qsd_pid)
            self.qsd_pid = None
        if self.exclusive_fd is not None:
            os.close(self.exclusive_fd)
            self.exclusive_fd = None
        if self.dir and os.path.isdir(self.dir):
            if os.path.ismount(os.path.join(self.dir, "disk")):
                _run(["umount", "-l", "--", os.path.join(self.dir, "disk")], timeout=60)
            shutil.rmtree(self.dir, ignore_errors=True)
        return errors


SCRATCH_PREFIX = "guestready-image-"
CLONE_NEWNS, MS_REC, MS_PRIVATE = 0x00020000, 0x4000, 0x40000


def leave_mount_namespace():
    """Move this process to a mount namespace of its own, a private copy of
    the one it shares with the export's daemon: what it mounts from now on
    is not in the daemon's namespace.  Were a filesystem read through the
    export in the daemon's namespace, and the daemon its last process (the
    worker, PID 1, dies first when killed), the kernel would unmount it in
    the daemon's exit before releasing the daemon's /dev/fuse: a read in
    flight would wait for the daemon forever, and every later loop mount on
    the machine behind it."""
    import ctypes  # only here: the worker is the one user, and Linux the one system
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNS) != 0 or libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        raise ImageError("cannot create a mount namespace apart from qemu-storage-daemon's: %s" % (
            os.strerror(ctypes.get_errno())))


def _mounted_under(path, mountinfo="/proc/self/mountinfo"):
    try:
        return any(point == path or point.startswith(path + "/") for dummy, point in bootdisk.mounts(mountinfo))
    except OSError:
        return True


def remove_stale(directory=None, prefixes=(SCRATCH_PREFIX, "guestready-archive-")):
    """Remove the scratch directories of runs that were killed: named
    ``<prefix><owner pid>-...``, their owner gone, nothing mounted under them
    here (their mounts lived in the dead worker's namespace).  Returns what
    was removed."""
    directory = directory or tempfile.gettempdir()
    removed = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    for name in names:
        prefix = next((p for p in prefixes if name.startswith(p)), None)
        if prefix is None:
            continue
        owner = name[len(prefix):].split("-", 1)[0]
        path = os.path.join(directory, name)
        if ascii_int(owner) is None or _alive(ascii_int(owner)) or not os.path.isdir(path) or os.path.islink(path) \
                or _mounted_under(os.path.realpath(path)):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _stop(pid, grace=60):
    """Stop qemu-storage-daemon (it flushes the image on SIGTERM) and reap it."""
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError:
        return
    deadline = time.time() + grace
    while time.time() < deadline:
        try:
            done, dummy = os.waitpid(pid, os.WNOHANG)
        except OSError:  # not our child: poll for it
            done = 0 if _alive(pid) else pid
        if done:
            return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except OSError:
        pass


def _alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def _kernel_has(fstype):
    try:
        with open("/proc/filesystems") as handle:
            return any(line.split()[-1] == fstype for line in handle if line.strip())
    except OSError:
        return False


# --------------------------------------------------------------------------
# what the disk holds
# --------------------------------------------------------------------------

# the last partition number Linux adds: block/partitions/efi.c efi_partition() stops at
# state->limit - 1 entries, and msdos.c at state->limit, which is at most DISK_MAX_PARTS (256)
LINUX_LAST_PARTITION = 255


def _partitions_with_filesystems(disk, table):
    """The table's partitions, each with its ``filesystem``; the whole disk
    as partition 0 when it has no partition table.  A hostile table's many
    partitions over one area are probed once, and none Linux never shows."""
    parts = [dict(part) for part in table["partitions"]]
    if table["kind"] is None:
        parts = [{"number": 0, "start": 0, "size": disk.size, "type": None, "type_name": "whole disk",
                  "bootable": False, "name": None, "uuid": None, "logical": False}]
    probed = {}
    for part in parts:
        if part["number"] > LINUX_LAST_PARTITION:
            part["filesystem"] = filesystems.not_probed(
                "not read: Linux adds no partition past number %d (DISK_MAX_PARTS)" % LINUX_LAST_PARTITION)
            continue
        area = (part["start"], part["size"])
        if area not in probed:
            probed[area] = filesystems.probe(disk, part["start"], part["size"])
        part["filesystem"] = dict(probed[area])
    return parts


def _root_candidate(target):
    """os-release and fstab facts of a mounted tree, or None if it is no root."""
    has_release = target.isfile("/etc/os-release") or target.islink("/etc/os-release") or \
        target.isfile("/usr/lib/os-release")
    has_fstab = target.isfile(fstab.PATH)
    if not (has_release or has_fstab):
        return None
    os_release = {}
    # os-util.c open_os_release(): /usr/lib/os-release only when /etc/os-release does not exist
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        try:
            os_release = os_release_values(target.read_bytes(path, limit=65536), sysctl.systemd_version(target))
        except Missing:
            continue
        except TargetError:
            pass
        break
    fstab_text = None
    if has_fstab:
        try:
            fstab_text = target.read_text(fstab.PATH, limit=1024 * 1024)
        except TargetError:
            fstab_text = None
    return {"os_release": os_release, "fstab_text": fstab_text}


def _not_a_root_reason(parts):
    """Why no root filesystem could be used: the containers found, named."""
    containers = []
    for part in parts:
        fs = part["filesystem"]
        where = "partition %d" % part["number"] if part["number"] else "the whole disk"
        if fs["type"] == "crypto_LUKS":
            containers.append("a LUKS%s encrypted volume on %s" % (fs.get("version") or "", where))
        elif fs["type"] == "LVM2_member":
            containers.append("an LVM physical volume%s on %s" % (
                " of volume group %r" % fs["group"] if fs.get("group") else "", where))
        elif fs["type"] == "linux_raid_member":
            containers.append("a Linux RAID (md) member on %s" % where)
    if containers:
        return "unsupported", (
            "the root filesystem is not on a plain partition: found %s. Opening it would change this "
            "machine's device-mapper state (LVM activation, a LUKS key); Compute Engine's import supports "
            "neither software-encrypted disks nor a root spread over volumes" % "; ".join(containers))
    seen = ", ".join("%s: %s" % ("partition %d" % p["number"] if p["number"] else "whole disk",
                                 p["filesystem"]["type"] or "no filesystem recognised") for p in parts)
    return "fail", "no root filesystem (a Linux tree with /etc/os-release and /etc/fstab) on the disk (%s)" % (
        seen or "no partitions")


def resolve_fstab(text, parts):
    """fstab's block-device entries, each with ``kind`` and the matching
    ``partition`` number of this disk (None: not on this disk)."""
    entries = []
    for entry in bootconfig.parse_fstab(text or ""):
        if not bootconfig.is_block_entry(entry):
            continue
        kind, value = bootconfig.classify_spec(entry["spec"])
        found = None
        if kind in bootconfig.STABLE_KINDS:
            found = bootconfig.match_partition(entry["spec"], parts)
        elif kind == "kernel-name" and value[0] in BOOT_DISKS and value[1] is not None:
            found = partitions.find_partition({"partitions": parts}, value[1])
        entries.append(dict(entry, kind=kind, partition=found["number"] if found else None))
    return entries


def gather_bios(disk, table, parts):
    code = (table.get("mbr") or {}).get("boot_code") or {"present": False}
    facts = {"boot_code": code, "next_stage": None}
    lba = code.get("next_stage_lba")
    if code.get("loader") == "grub" and lba is not None:
        stage = {"lba": lba, "present": False}
        sector = disk.read(lba * 512, 512) if lba * 512 < disk.size else b""
        if not sector:
            stage["problem"] = "lies beyond the end of the disk"
        elif not any(sector):
            stage["problem"] = "is empty (all zeros)"
        else:
            stage["present"] = True
            inside = [p for p in parts if p["start"] <= lba * 512 < p["start"] + p["size"]]
            if not inside:
                stage["where"] = "the gap before the first partition" if table["kind"] == "mbr" else "outside any partition"
            elif inside[0]["type"] == partitions.BIOS_BOOT_GUID:
                stage["where"] = "BIOS boot partition %d" % inside[0]["number"]
            else:
                stage["where"] = "inside partition %d (block lists)" % inside[0]["number"]
        facts["next_stage"] = stage
    return facts


def gather_esp(disk, parts, arch):
    esps = [p for p in parts if p["type"] in (partitions.ESP_GUID, "0xef")]
    if not esps:
        return None
    esp = esps[0]
    facts = {"partition": esp["number"], "error": None, "loader": None, "efi_files": [], "bls": [],
             "uki": [], "uki_skipped": [], "grub_configs": [], "grubenvs": {}, "loader_conf": None}
    try:
        reader = fat.FatReader(disk, esp["start"], esp["size"])
        files = reader.walk()
    except fat.FatError as exc:
        facts["error"] = str(exc)
        return facts
    facts["efi_files"] = [path.lstrip("/") for path, is_dir, size in files
                          if not is_dir and path.lower().endswith(".efi")][:50]
    # the removable-media paths, by architecture (UEFI Specification 2.10, 3.5.1.1)
    facts["loaders"] = {}
    for name in bootconfig.LOADER_NAMES.values():
        path = "/EFI/BOOT/" + name
        if reader.exists(path):
            try:
                head = reader.read(path, limit=256 * 1024 * 1024, head=4096)
            except fat.FatError as exc:
                facts["error"] = str(exc)
                continue
            facts["loaders"][name] = {"path": "EFI/BOOT/" + reader.stat(path)["name"],
                                      "machine": fat.pe_machine(head)}
    facts["loader"] = facts["loaders"].get(bootconfig.LOADER_NAMES.get(arch or "x86_64"))
    for path, is_dir, size in files:
        if not is_dir and path.lower().rsplit("/", 1)[0] == "/loader/entries" and \
                bootconfig.bls_entry_name(path.rsplit("/", 1)[1]):
            try:
                entry = bootconfig.parse_bls_entry(reader.read(path, bootconfig.BLS_ENTRY_MAX).decode("utf-8", "replace"))
            except fat.FatLimitError as exc:   # our limit, not systemd-boot's skip: judged without it, the menu is wrong
                facts["error"] = str(exc)
                continue
            except fat.FatError:
                continue
            # systemd-boot's id is the file name (bootconfig.systemd_boot_order)
            entry["file"] = path.rsplit("/", 1)[-1]
            entry["id"] = entry["file"][:-len(".conf")]
            if bootconfig.bls_loader(entry):   # systemd-boot leaves out an entry whose file it cannot open
                entry["loader_missing"] = not reader.exists(bootconfig.bls_loader(entry))
                if not entry["loader_missing"] and bootconfig.wants_uki_read(entry):
                    try:
                        _esp_uki_line(reader, entry)
                    except fat.FatLimitError as exc:
                        facts["error"] = str(exc)
                        continue
            facts["bls"].append(entry)
        name = path.rsplit("/", 1)[-1]
        if not is_dir and path.lower() == "/efi/linux/" + name.lower() and bootconfig.uki_listed(name):
            try:
                _esp_uki(reader, path, size, facts)
            except fat.FatLimitError as exc:
                facts["error"] = str(exc)
        if not is_dir and path.lower() == "/loader/loader.conf":
            try:
                facts["loader_conf"] = ("ESP " + path, reader.read(path).decode("utf-8", "replace"))
            except fat.FatError as exc:
                facts["error"] = str(exc)
        # GRUB's own files in the vendor directory: the whole grub.cfg where grub2-mkconfig wrote it
        # there (RHEL 8 on UEFI, /boot/grub2/grubenv a link to EFI/redhat/grubenv), else a stub
        parts = path.lower().split("/")
        if not is_dir and len(parts) == 4 and parts[1] == "efi" and parts[3] in ("grub.cfg", "grubenv"):
            try:
                text = reader.read(path, bootconfig.GRUB_FILE_MAX).decode("utf-8", "replace")
            except fat.FatError as exc:   # GRUB reads it: the menu cannot be judged without it
                facts["error"] = str(exc)
                continue
            if parts[3] == "grub.cfg":
                facts["grub_configs"].append(("ESP " + path, text))
            else:   # GRUB loads the one beside the grub.cfg it reads (bootconfig.grubenv_beside)
                facts["grubenvs"][("ESP " + path).lower()] = text
    return facts


def _read_esp_uki(reader, path, size=None):
    """``(info, None)`` of the UKI at ``path`` on the ESP (``uki.read_uki``:
    its PE sections read where they are, not the whole file), or ``(None,
    why)`` naming it; ``size``: the file's, when the directory walk gave it."""
    shown = "ESP " + path
    try:
        if size is None:
            found = reader.stat(path)
            if found["dir"]:
                raise fat.FatError("a directory")
            size = found["size"]
        return uki.read_uki(lambda offset, length: reader.read_at(path, offset, length), size, shown), None
    except uki.UkiError as exc:
        return None, str(exc)
    except fat.FatLimitError:   # systemd-boot reads it: not a reason it shows no entry
        raise
    except fat.FatError as exc:
        return None, "%s (%s)" % (shown, exc)


def _esp_uki(reader, path, size, facts):
    """The type #2 entry of the UKI at ``path`` on the ESP into
    ``facts["uki"]``, or why systemd-boot shows none into ``facts["uki_skipped"]``."""
    info, why = _read_esp_uki(reader, path, size)
    entry, why = (None, why) if why else bootconfig.type2_entry(info, path.rsplit("/", 1)[-1], path, "ESP " + path)
    if entry is None:
        facts["uki_skipped"].append(why)
    else:
        facts["uki"].append(entry)


def _esp_uki_line(reader, entry):
    """A type #1 entry of the ESP whose ``uki`` line names a UKI there, read
    as that UKI (``bootconfig.uki_line_entry``)."""
    path = bootconfig.bls_loader(entry)
    info, why = _read_esp_uki(reader, path)
    bootconfig.uki_line_entry(entry, why or info, "ESP " + path)


def subvolume_mounts(fstab, root_subvolume=None):
    """``[(subvolume path, mount point)]`` of the btrfs subvolumes fstab
    mounts (``subvol=@`` on ``/``) and of the root's, where found."""
    found = [("/" + root_subvolume.strip("/"), "/")] if root_subvolume and root_subvolume.strip("/") else []
    for entry in fstab or []:
        for option in entry.get("options") or []:
            if option.startswith("subvol=") and option[len("subvol="):].strip("/"):
                found.append(("/" + option[len("subvol="):].strip("/"), entry["file"]))
    return found


def _locate(target, path, boot_separate, subvolumes=()):
    """A boot-loader path inside the image tree: as written, relative to a
    separate /boot partition, or relative to the btrfs top level (GRUB's
    ``/@/boot/vmlinuz`` for a root in the subvolume ``@``)."""
    if not path:
        return None
    clean = "/" + path.split(")", 1)[-1].lstrip("/")  # "(hd0,gpt2)/vmlinuz" -> "/vmlinuz"
    candidates = [clean] + (["/boot" + clean] if boot_separate or not clean.startswith("/boot/") else [])
    for subvolume, mount_point in subvolumes:
        if clean.startswith(subvolume + "/"):
            candidates.append(mount_point.rstrip("/") + clean[len(subvolume):])
    for candidate in candidates:
        if target.isfile(candidate):
            return candidate
    return None


def gather_boot(disk, table, parts, target, fstab, arch, subvolume=None):
    """The boot loaders and the default entry's files; ``subvolume``: the
    btrfs subvolume the root was found in."""
    boot_separate = any(e["file"] == "/boot" for e in fstab or [])
    subvolumes = subvolume_mounts(fstab, subvolume)
    esp = gather_esp(disk, parts, arch)
    if esp:   # systemd-boot leaves out entries for another architecture: the ESP's loader tells it
        esp["arch"] = arch or bootconfig.esp_arch(esp)
    menu = gather_menu(target, esp)
    if esp:   # the texts served the menu; the facts keep their names
        esp["grub_configs"] = [path for path, text in esp["grub_configs"]]
        for key in ("grubenvs", "loader_conf", "arch"):
            esp.pop(key, None)
    facts = {"bios": gather_bios(disk, table, parts), "esp": esp, "menu": menu, "kernel_file": None,
             "initrd_files": [], "release": None}
    entry = menu.get("default")
    if entry and (entry.get("type") == 2 or entry.get("uki_line")):
        # a UKI is its own kernel and carries its initramfs (.linux, .initrd: systemd-stub); a type #1
        # entry's uki line names one (bootconfig.uki_line_entry)
        facts["kernel_file"] = {"path": entry["kernel"], "exists": True, "found": "ESP " + entry["kernel"],
                                "uki": True, "has_linux": entry["has_linux"], "has_initrd": entry["has_initrd"]}
        facts["release"] = entry.get("uname")
    elif entry and entry.get("kernel"):
        found = _locate(target, entry["kernel"], boot_separate, subvolumes)
        facts["kernel_file"] = {"path": entry["kernel"], "exists": found is not None, "found": found}
        release = bootconfig.release_of_kernel(entry["kernel"])
        if release is None and found and target.islink(found):
            release = bootconfig.release_of_kernel(target.readlink(found))
        facts["release"] = release
        for initrd in entry.get("initrd") or []:
            where = _locate(target, initrd, boot_separate, subvolumes)
            facts["initrd_files"].append({"path": initrd, "exists": where is not None, "found": where})
    return facts
