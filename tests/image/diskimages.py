"""Disk images for the disk_image tests: copies of the lab's bootable disks,
broken on purpose, and small synthetic disks built from a directory tree
(sfdisk + mkfs.ext4 -d: no loop device, no mount), plus the check that a run
left nothing behind."""

import glob
import hashlib
import json
import os
import re
import shutil
import struct
import subprocess
import sys

import pytest
from labimage import ROOT, image_dir

sys.path.insert(0, os.path.join(ROOT, ".ansible", "collections"))
from ansible_collections.guestready.gce.plugins.module_utils import diskimage  # noqa: E402
from ansible_collections.guestready.gce.plugins.module_utils.filesystems import lvm_crc  # noqa: E402

MIB = 1 << 20
GIB = 1 << 30
# What the lab's Debian disks lack on purpose, waived by name (never passed): they
# are not built with Google's guest environment, there is no metadata server here.
LAB_WAIVERS = {"GCE-GUEST-AGENT": "the lab's Debian image is built without google-guest-agent "
                                  "(no metadata server in the lab)",
               "GCE-GUEST-OSLOGIN": "the lab's Debian image is built without the guest environment "
                                    "(google-compute-engine-oslogin)",
               "GCE-TIME-METADATA-NTP": "the lab's Debian image has no time daemon (mmdebstrap's apt "
                                        "variant leaves out systemd-timesyncd) and the lab no metadata "
                                        "server to take time from"}
PART_OFFSET = MIB  # the lab's disks (and the synthetic ones) start partition 1 at 1 MiB


# ----------------------------------------------------------------- the lab's disks

def lab_disk(variant):
    """The lab's bootable disk of ``variant`` (boot-bios, boot-uefi), or skip."""
    directory = image_dir(variant, needed=("disk.raw", "image.json"))
    with open(os.path.join(directory, "image.json")) as handle:
        info = json.load(handle)
    return os.path.join(directory, "disk.raw"), info, directory


def copy_disk(source, destination):
    subprocess.run(["cp", "--sparse=always", source, str(destination)], check=True)
    os.chmod(str(destination), 0o644)
    return str(destination)


def root_offset(disk, number=1):
    """Byte offset of partition ``number`` (MBR or GPT), for debugfs."""
    with open(disk, "rb") as handle:
        mbr = handle.read(512)
        if mbr[446 + 4] == 0xEE:  # protective MBR: read the GPT entry
            handle.seek(512)
            header = handle.read(92)
            entries_lba = struct.unpack("<Q", header[72:80])[0]
            handle.seek(entries_lba * 512 + (number - 1) * 128 + 32)
            return struct.unpack("<Q", handle.read(8))[0] * 512
    return struct.unpack("<I", mbr[446 + 16 * (number - 1) + 8:446 + 16 * (number - 1) + 12])[0] * 512


def debugfs(disk, offset, *requests, write=False):
    script = "".join(request + "\n" for request in requests)
    cmd = ["debugfs"] + (["-w"] if write else []) + ["-f", "-", "%s?offset=%d" % (disk, offset)]
    proc = subprocess.run(cmd, input=script, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def replace_file(disk, offset, path, data, tmp_path):
    local = tmp_path / ("replacement-" + os.path.basename(path))
    local.write_bytes(data)
    debugfs(disk, offset, "rm %s" % path, "write %s %s" % (local, path), write=True)


def read_file(disk, offset, path, tmp_path):
    local = tmp_path / ("dump-" + os.path.basename(path))
    debugfs(disk, offset, "dump %s %s" % (path, local))
    return local.read_bytes()


def zero_boot_code(disk):
    with open(disk, "r+b") as handle:
        handle.write(b"\x00" * 440)


def initramfs_without(initrd, names, tmp_path):
    """The initramfs ``initrd`` rebuilt without the kernel modules ``names``
    (unmkinitramfs, then cpio and zstd as initramfs-tools packs it)."""
    for tool in ("unmkinitramfs", "cpio", "zstd"):
        if not shutil.which(tool):
            pytest.skip("needs %s" % tool)
    source = tmp_path / "initrd.in"
    source.write_bytes(initrd)
    tree = tmp_path / "initrd-tree"
    subprocess.run(["unmkinitramfs", str(source), str(tree)], check=True)
    removed = set()
    for name in names:  # /lib is a link to /usr/lib in a merged-/usr initramfs: each file once
        for path in glob.glob(str(tree / "**" / ("%s.ko*" % name)), recursive=True):
            real = os.path.realpath(path)
            if real not in removed:
                os.unlink(real)
                removed.add(real)
    assert removed, "no %s in the initramfs to remove" % names
    parts = [str(tree / "early"), str(tree / "main")] if (tree / "main").is_dir() else [str(tree)]
    out = b""
    for index, part in enumerate(parts):
        listing = subprocess.run("cd %s && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet" % part,
                                 shell=True, stdout=subprocess.PIPE, check=True).stdout
        if index == len(parts) - 1:
            listing = subprocess.run(["zstd", "-q", "-c", "-1"], input=listing, stdout=subprocess.PIPE,
                                     check=True).stdout
        out += listing
    return out


# ---------------------------------------------------------------- synthetic disks

def build_tree(directory, fstab, grub_cfg=None, release="6.1.0-50-cloud-amd64"):
    """A minimal Linux tree: enough for the root to be found and judged."""
    etc = directory / "etc"
    etc.mkdir(parents=True)
    (etc / "os-release").write_text('PRETTY_NAME="Synthetic Linux"\nID=synthetic\n')
    (etc / "fstab").write_text(fstab)
    (directory / "boot" / "grub").mkdir(parents=True)
    if grub_cfg is not None:
        (directory / "boot" / "grub" / "grub.cfg").write_text(grub_cfg)
    return directory


def synthetic_disk(tmp_path, tree=None, size=64 * MIB, name="synthetic.raw", extra_partition=None):
    """MBR, partition 1 (active) ext4 with ``tree``; optional partition 2 of
    ``extra_partition`` bytes (written by the caller)."""
    for tool in ("sfdisk", "mkfs.ext4"):
        if not shutil.which(tool):
            pytest.skip("needs %s" % tool)
    disk = str(tmp_path / name)
    with open(disk, "wb") as handle:
        handle.truncate(size)
    first = (size // 2 if extra_partition else size) - 2 * MIB
    script = "label: dos\nstart=2048, size=%d, type=83, bootable\n" % (first // 512)
    if extra_partition:
        script += "type=83\n"
    subprocess.run(["sfdisk", "-q", "--no-reread", "--no-tell-kernel", disk], input=script,
                   universal_newlines=True, check=True, stdout=subprocess.PIPE)
    cmd = ["mkfs.ext4", "-q", "-F", "-L", "synthetic-root", "-E", "offset=%d" % PART_OFFSET]
    if tree is not None:
        cmd += ["-d", str(tree)]
    subprocess.run(cmd + [disk, "%dk" % (first // 1024)], check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return disk


def second_partition_offset(disk):
    with open(disk, "rb") as handle:
        mbr = handle.read(512)
    return struct.unpack("<I", mbr[446 + 16 + 8:446 + 16 + 12])[0] * 512


def write_luks_header(disk, offset):
    header = bytearray(4096)
    header[0:6] = b"LUKS\xba\xbe"
    header[6:8] = struct.pack(">H", 2)
    header[168:204] = b"3f1e2c4a-1111-2222-3333-444455556666"
    with open(disk, "r+b") as handle:
        handle.seek(offset)
        handle.write(bytes(header))


def write_lvm_label(disk, offset, vg="vg_system"):
    sector = bytearray(512)
    sector[0:8] = b"LABELONE"
    sector[8:16] = struct.pack("<Q", 1)
    sector[20:24] = struct.pack("<I", 32)
    sector[24:32] = b"LVM2 001"
    sector[32:64] = b"AbCdEfGhIjKlMnOpQrStUvWxYz012345"
    sector[16:20] = struct.pack("<I", lvm_crc(bytes(sector[20:512])))
    with open(disk, "r+b") as handle:
        handle.seek(offset + 512)
        handle.write(bytes(sector))
        handle.seek(offset + 4096 + 512)
        handle.write(('%s {\nid = "abc"\nseqno = 1\n}\n' % vg).encode())


# -------------------------------------------------------------------- running it

def params(path, **extra):
    values = dict((key, spec.get("default")) for key, spec in diskimage.ARGUMENT_SPEC.items())
    values.update(path=str(path), waivers={}, overrides={})
    values.update(extra)
    return values


def run(path, check_mode=False, **extra):
    """diskimage.run in this process (the worker is spawned as the module would)."""
    return diskimage.run(params(path, **extra), check_mode)


def by_id(result):
    return dict((r["id"], r) for r in result["results"])


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 22), b""):
            digest.update(chunk)
    return digest.hexdigest()


# ------------------------------------------------------------- nothing left over

def leftovers(paths=()):
    """Mounts, loop devices, nbd devices and processes that a run left: what
    the tests assert is empty."""
    found = []
    with open("/proc/self/mountinfo") as handle:
        for line in handle:
            point = line.split()[4]
            if "guestready-image-" in point or "guestready-archive-" in point:
                found.append("mounted: %s" % point)
    for backing in glob.glob("/sys/block/loop*/loop/backing_file"):
        try:
            with open(backing) as handle:
                text = handle.read().strip()
        except OSError:  # ENODEV/ENOENT: detached between the listing and the read
            continue
        if "guestready-image-" in text or any(str(p) in text for p in paths):
            found.append("loop: %s -> %s" % (backing.split("/")[3], text))
    for pid_file in glob.glob("/sys/block/nbd*/pid"):
        found.append("nbd attached: %s" % pid_file)
    for proc in glob.glob("/proc/[0-9]*/cmdline"):
        try:
            with open(proc, "rb") as handle:
                cmdline = handle.read().replace(b"\x00", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if ("qemu-storage-daemon" in cmdline and "guestready-image-" in cmdline) or \
                re.search(r"imageworker\.main\(\)", cmdline):
            found.append("process %s: %s" % (proc.split("/")[2], cmdline[:120]))
        elif not cmdline and (_comm(proc) or "").startswith("qemu-storage-d"):
            # exited, yet not gone: a thread waits for a FUSE answer only it could give;
            # loop mounts on this machine hang until the connection is aborted (fusectl)
            found.append("process %s: qemu-storage-daemon exited and stuck" % proc.split("/")[2])
    return found


def _comm(cmdline_path):
    try:
        with open(cmdline_path[:-len("cmdline")] + "comm") as handle:
            return handle.read().strip()
    except OSError:
        return None


# ------------------------------------------------------------ broken on purpose

def break_boot_loader(disk):
    """No boot loader: GRUB's boot code in the MBR zeroed (the table stays)."""
    zero_boot_code(disk)


def break_fstab(disk, tmp_path):
    """/etc/fstab mounts the root by its kernel device name."""
    offset = root_offset(disk, 1 if not _is_gpt(disk) else 2)
    text = read_file(disk, offset, "/etc/fstab", tmp_path).decode()
    lines = ["/dev/sda1\t/\text4\tdefaults,errors=remount-ro\t0\t1" if line.split()[1:2] == ["/"] else line
             for line in text.splitlines() if line.strip()]
    replace_file(disk, offset, "/etc/fstab", ("\n".join(lines) + "\n").encode(), tmp_path)


def break_initramfs(disk, release, tmp_path, rootdelay=None):
    """The default kernel's initramfs without virtio_scsi.  ``rootdelay``:
    also shorten how long the initramfs waits for the root disk (a boot that
    must fail then fails sooner)."""
    offset = root_offset(disk, 1 if not _is_gpt(disk) else 2)
    path = "/boot/initrd.img-%s" % release
    rebuilt = initramfs_without(read_file(disk, offset, path, tmp_path), ["virtio_scsi"], tmp_path)
    replace_file(disk, offset, path, rebuilt, tmp_path)
    if rootdelay is not None:
        grub = read_file(disk, offset, "/boot/grub/grub.cfg", tmp_path).decode()
        grub = re.sub(r"(\n\s*linux\s+\S+ [^\n]*)", lambda m: m.group(1).rstrip() + " rootdelay=%d" % rootdelay, grub)
        replace_file(disk, offset, "/boot/grub/grub.cfg", grub.encode(), tmp_path)


def _is_gpt(disk):
    with open(disk, "rb") as handle:
        return handle.read(512)[446 + 4] == 0xEE
