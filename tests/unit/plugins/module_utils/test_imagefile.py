"""What an input is and whether it may be touched: decided before anything
is attached (no mount, no loop device in these tests)."""

import os
import re
import signal
import stat
import subprocess
import sys
import time

import pytest
from disktools import MIB, mkfs_ext4, need, sfdisk, sparse_file

from ansible_collections.guestready.gce.plugins.module_utils import imagefile
from ansible_collections.guestready.gce.plugins.module_utils.imagefile import ImageError, Refused, Unsupported


def image(tmp_path, name="disk.raw", size=64 * MIB):
    path = sparse_file(tmp_path / name, size)
    sfdisk(path, "label: dos\n,,83,*\n")
    mkfs_ext4(path, MIB, size - MIB)
    return path


def qemu_img(*args):
    need("qemu-img")
    subprocess.run(["qemu-img"] + list(args), check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_content_kind(tmp_path):
    path = image(tmp_path, size=8 * MIB)
    assert imagefile.content_kind(path) == "disk"
    subprocess.run(["tar", "-Sczf", "a.tar.gz", "disk.raw"], cwd=str(tmp_path), check=True)
    subprocess.run(["tar", "-ScJf", "a.tar.xz", "disk.raw"], cwd=str(tmp_path), check=True)
    subprocess.run(["tar", "-Scf", "a.tar", "disk.raw"], cwd=str(tmp_path), check=True)
    for name in ("a.tar.gz", "a.tar.xz", "a.tar"):
        assert imagefile.content_kind(str(tmp_path / name)) == "archive", name
    subprocess.run(["xz", "-k", "disk.raw"], cwd=str(tmp_path), check=True)
    with pytest.raises(ImageError, match=r"xz-compressed file, not a tar archive; decompress it first \(xz -dk\)"):
        imagefile.content_kind(str(tmp_path / "disk.raw.xz"))


def test_a_bzip2_bomb_is_judged_from_its_head(tmp_path):
    # 64 MiB of zeros in a few hundred bytes: only the first 4 KiB is inflated
    import bz2
    import tracemalloc
    path = tmp_path / "bomb.bz2"
    path.write_bytes(bz2.compress(b"\x00" * (64 * MIB), 9))
    assert path.stat().st_size < 4096
    tracemalloc.start()
    try:
        with pytest.raises(ImageError, match="bzip2-compressed file, not a tar archive"):
            imagefile.content_kind(str(path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * MIB


def test_a_real_disk_is_described(tmp_path):
    path = image(tmp_path)
    facts = imagefile.describe_disk(path, writable=False)
    assert facts == {"path": path, "format": "raw", "virtual_size": 64 * MIB, "block_device": False,
                     "actual_size": facts["actual_size"]}
    qemu_img("convert", "-O", "qcow2", path, str(tmp_path / "disk.qcow2"))
    assert imagefile.describe_disk(str(tmp_path / "disk.qcow2"), False)["format"] == "qcow2"
    qemu_img("convert", "-O", "vmdk", path, str(tmp_path / "disk.vmdk"))
    assert imagefile.describe_disk(str(tmp_path / "disk.vmdk"), False)["format"] == "vmdk"


def test_not_disk_images(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not a disk\n" * 100000)
    with pytest.raises(ImageError, match="not a disk image: no partition table"):
        imagefile.describe_disk(str(text), False)
    (tmp_path / "tiny").write_bytes(b"x" * 100)
    with pytest.raises(ImageError, match="not a disk image: .*100 bytes"):
        imagefile.describe_disk(str(tmp_path / "tiny"), False)
    with pytest.raises(ImageError, match="a directory, not a disk image"):
        imagefile.describe_disk(str(tmp_path), False)
    with pytest.raises(ImageError, match="No such file"):
        imagefile.describe_disk(str(tmp_path / "absent"), False)


def test_a_damaged_partition_table_is_named_not_called_no_disk_image(tmp_path):
    # both GPT headers unusable: the refusal said "no partition table (MBR or GPT)", of a disk that has one
    path = sparse_file(tmp_path / "disk.raw", 64 * MIB)
    sfdisk(path, "label: gpt\nsize=8M, type=L\n")
    with open(path, "r+b") as handle:
        handle.seek(1024 + 56)      # the first entry's name: its entry array's CRC32 no longer matches
        handle.write(b"\xff")
        handle.seek(64 * MIB - 512)  # the backup header, on the last LBA
        handle.write(b"\x00" * 512)
    with pytest.raises(ImageError) as caught:
        imagefile.describe_disk(path, False)
    assert str(caught.value).startswith("%s: no usable partition table: primary the GPT entry array of the header "
                                        "at LBA 1 fails its CRC32 check; backup no GPT header at LBA %d"
                                        % (path, 64 * MIB // 512 - 1)), caught.value
    protective = sparse_file(tmp_path / "protective.raw", 64 * MIB)
    sfdisk(protective, "label: gpt\nsize=8M, type=L\n")
    with open(protective, "r+b") as handle:
        handle.seek(512)
        handle.write(b"\x00" * 512)
        handle.seek(64 * MIB - 512)
        handle.write(b"\x00" * 512)
    with pytest.raises(ImageError, match="no usable partition table: the MBR is a GPT protective MBR, but there is "
                                         "no valid GPT header at LBA 1"):
        imagefile.describe_disk(protective, False)


def test_truncated_qcow2_is_refused(tmp_path):
    path = image(tmp_path)
    with open(path, "r+b") as handle:
        handle.seek(5 * MIB)
        handle.write(os.urandom(4 * MIB))
    qcow2 = str(tmp_path / "disk.qcow2")
    qemu_img("convert", "-O", "qcow2", path, qcow2)
    with open(qcow2, "r+b") as handle:
        handle.truncate(os.stat(qcow2).st_size // 2)
    with pytest.raises(ImageError, match="the qcow2 image is damaged .* truncated"):
        imagefile.describe_disk(qcow2, False)


def test_a_truncated_vhd_is_damaged_not_in_use(tmp_path):
    # qemu's message names its driver "block-vpc": "lock" in it is no lock held by a running VM
    path = image(tmp_path)
    vhd = str(tmp_path / "disk.vhd")
    qemu_img("convert", "-O", "vpc", path, vhd)
    with open(vhd, "r+b") as handle:
        handle.truncate(os.stat(vhd).st_size // 2)
    with pytest.raises(ImageError) as raised:
        imagefile.describe_disk(vhd, False)
    assert not isinstance(raised.value, Refused) and "in use" not in str(raised.value)
    assert "qemu-img cannot read it as a disk image" in str(raised.value) and "truncated" in str(raised.value)


def test_qemu_lock_messages_are_told_from_other_errors():
    assert imagefile.lock_error('qemu-img: Could not open \'/i/d.qcow2\': Failed to get shared "write" lock\n'
                                'Is another process using the image [/i/d.qcow2]?\n')
    assert imagefile.lock_error('qemu-storage-daemon: Failed to get "write" lock')
    assert not imagefile.lock_error("qemu-img: Could not open 'd.vhd': block-vpc: free_data_block_offset points "
                                    "after the end of file. The image has been truncated.")
    assert not imagefile.lock_error("qemu-img: Could not open '/images/blocked-lock.qcow2': Invalid argument")


@pytest.mark.parametrize("fmt, options, cut", [
    ("vdi", [], 512 * 1024),                            # qemu-img check: "No errors were found on the image."
    ("vmdk", ["-o", "subformat=monolithicSparse"], 4096),  # cut in its last grain: check passes too
    ("qcow", [], 4096),                                 # qcow version 1 has no check at all
])
def test_an_image_cut_short_behind_its_metadata_is_refused(tmp_path, fmt, options, cut):
    path = image(tmp_path)
    with open(path, "r+b") as handle:
        handle.seek(40 * MIB)
        handle.write(os.urandom(MIB))
    converted = str(tmp_path / ("disk." + fmt))
    qemu_img("convert", "-O", fmt, *(options + [path, converted]))
    with open(converted, "r+b") as handle:
        handle.truncate(os.stat(converted).st_size - cut)
    assert subprocess.run(["qemu-img", "check", "-f", fmt, converted], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, check=False).returncode in (0, 63), "qemu-img check finds nothing wrong"
    said = r"the %s image is damaged: the data of its bytes \d+-\d+ lies at file offset \d+-\d+, beyond the end of " \
        r"the file .* truncated" % re.escape(imagefile.FORMAT_NAMES[fmt])
    with pytest.raises(ImageError, match=said):
        imagefile.describe_disk(converted, False)


def test_an_archive_member_is_read_as_raw_whatever_it_looks_like(tmp_path):
    # the import takes disk.raw's bytes as they are: a container inside is never opened as one
    path = image(tmp_path)
    member = str(tmp_path / "disk.raw.member")
    qemu_img("convert", "-O", "vdi", path, member)
    assert imagefile.describe_disk(member, False)["format"] == "vdi"
    with pytest.raises(ImageError, match="not a disk image: no partition table"):
        imagefile.describe_disk(member, False, member=True)
    assert imagefile.describe_disk(path, False, member=True)["format"] == "raw"


def test_backing_files_extents_and_encryption_are_never_followed(tmp_path):
    path = image(tmp_path, size=8 * MIB)
    qemu_img("create", "-f", "qcow2", "-F", "raw", "-b", path, str(tmp_path / "overlay.qcow2"))
    with pytest.raises(ImageError, match="backing file .*never followed"):
        imagefile.describe_disk(str(tmp_path / "overlay.qcow2"), False)
    qemu_img("create", "-f", "vmdk", "-o", "subformat=twoGbMaxExtentSparse", str(tmp_path / "split.vmdk"), "3G")
    with pytest.raises(ImageError, match="VMDK whose data lives in other files"):
        imagefile.describe_disk(str(tmp_path / "split.vmdk"), False)
    qemu_img("create", "--object", "secret,id=s0,data=key", "-f", "luks", "-o", "key-secret=s0,iter-time=10",
             str(tmp_path / "crypt.img"), "16M")
    with pytest.raises(Unsupported, match="LUKS-encrypted disk"):
        imagefile.describe_disk(str(tmp_path / "crypt.img"), False)


def hold(path, mode):
    """A child process holding ``path`` open (``r`` or ``r+``) until killed."""
    child = subprocess.Popen([sys.executable, "-c", "import sys, time; f = open(sys.argv[1], sys.argv[2] + 'b'); "
                              "print('open', flush=True); time.sleep(60)", path, mode], stdout=subprocess.PIPE)
    assert child.stdout.readline().strip() == b"open"
    return child


def test_a_disk_in_use_is_refused(tmp_path):
    path = image(tmp_path)
    info = os.stat(path)
    writer = hold(path, "r+")
    try:
        assert [(pid, mode) for pid, cmd, mode in imagefile.open_by(info)] == [(writer.pid, "write")]
        with pytest.raises(Refused, match=r"in use: python\S* \(pid %d, write\) holds it open for writing" % writer.pid):
            imagefile.describe_disk(path, writable=False)
    finally:
        writer.kill()
        writer.wait()
    reader = hold(path, "r")
    try:
        imagefile.check_not_in_use(path, info, writable=False)  # a reader does not stop an audit
        with pytest.raises(Refused, match="holds it open"):
            imagefile.check_not_in_use(path, info, writable=True)  # it stops harden
    finally:
        reader.kill()
        reader.wait()


def test_loop_devices_are_found_by_their_backing_file(tmp_path):
    path = image(tmp_path)
    sysfs = tmp_path / "sys"
    for name, backing in (("loop0", "/nowhere (deleted)"), ("loop3", path), ("sda", path)):
        (sysfs / name / "loop").mkdir(parents=True)
        (sysfs / name / "loop" / "backing_file").write_text(backing + "\n")
    assert imagefile.loop_devices_of(path, os.stat(path), str(sysfs)) == ["/dev/loop3"]


def test_loop_devices_and_mounts_with_names_in_any_bytes(tmp_path):
    """A loop device's backing_file and mountinfo hold paths as bytes: one
    that is not UTF-8 (any loop device of the host) was a UnicodeDecodeError
    for every disk; a mount point's blanks are octal escapes there."""
    path = os.path.join(os.fsdecode(bytes(tmp_path)), os.fsdecode(b"caf\xe9.img"))
    with open(path, "wb") as handle:
        handle.truncate(MIB)
    sysfs = tmp_path / "sys"
    for name, backing in (("loop0", b"/srv/\xff\xfe.img"), ("loop1", os.fsencode(path))):
        (sysfs / name / "loop").mkdir(parents=True)
        (sysfs / name / "loop" / "backing_file").write_bytes(backing + b"\n")
    assert imagefile.loop_devices_of(path, os.stat(path), str(sysfs)) == ["/dev/loop1"]
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_bytes(b"30 1 7:1 / /tmp/my\\040dir/guestready-1-x/p1 rw - ext4 /dev/loop1 rw\n"
                          b"31 1 7:2 / /mnt/\xff rw - ext4 /dev/loop2 rw\n")
    assert imagefile._mounted_under("/tmp/my dir/guestready-1-x", str(mountinfo))
    assert not imagefile._mounted_under("/tmp/my", str(mountinfo))
    assert imagefile._mounted_devices(str(mountinfo)) == {"7:1": "/tmp/my dir/guestready-1-x/p1",
                                                          "7:2": os.fsdecode(b"/mnt/\xff")}


def test_a_holder_is_named_whatever_its_name(tmp_path):
    """A process names itself (/proc/PID/comm, any bytes): a holder named in
    Latin-1 was a UnicodeDecodeError instead of the refusal naming it."""
    path = image(tmp_path)
    child = subprocess.Popen([sys.executable, "-c", "import sys, time; open('/proc/self/comm', 'wb').write(b'h\\xffld'); "
                              "f = open(sys.argv[1], 'r+b'); print('open', flush=True); time.sleep(60)", path],
                             stdout=subprocess.PIPE)
    try:
        assert child.stdout.readline().strip() == b"open"
        assert imagefile.open_by(os.stat(path)) == [(child.pid, "h\xffld", "write")]
    finally:
        child.kill()
        child.wait()


def test_command_output_in_any_bytes():
    """What a command prints about an image (rpm on a hostile database, a
    tool quoting a Latin-1 path) is decoded, never a UnicodeDecodeError: the
    worker's run_command() as AnsibleModule's (surrogateescape), the image
    tools' messages with replacement characters."""
    from ansible_collections.guestready.gce.plugins.module_utils.imageworker import _Module
    printer = ["sh", "-c", "printf 'v\\377\\n'; printf 'e\\376' >&2; exit 3"]
    assert _Module(True).run_command(printer) == (3, "v\udcff\n", "e\udcfe")
    assert imagefile._run(printer) == (3, "v\ufffd\n", "e\ufffd")


def test_a_workers_children_are_found_whatever_their_names(tmp_path):
    """/proc/PID/stat: "pid (comm) state ppid ...", comm any bytes a process
    chose (read as text, a Latin-1 name hid that child from the cleanup)."""
    from ansible_collections.guestready.gce.plugins.module_utils.imageworker import _children
    for pid, line in (("101", b"101 (qemu\xff) S 100 0"), ("102", b"102 (a) b) R 100 0"), ("103", b"103 (x) S 1 0"),
                      ("self", b"")):
        (tmp_path / pid).mkdir()
        (tmp_path / pid / "stat").write_bytes(line)
    assert sorted(_children(100, str(tmp_path))) == [101, 102]


def root_block_device():
    wanted = os.stat("/").st_dev
    for name in sorted(os.listdir("/dev")):
        path = os.path.join("/dev", name)
        try:
            info = os.stat(path)
        except OSError:
            continue
        if stat.S_ISBLK(info.st_mode) and info.st_rdev == wanted:
            return path, info
    pytest.skip("no block device node for this machine's root filesystem")


def test_this_machines_root_disk_is_refused_without_opening_it():
    path, info = root_block_device()
    with pytest.raises(Refused, match="never touched"):
        imagefile.check_block_device(path, info)


def test_messages_show_the_image_not_the_private_mount_point():
    from ansible_collections.guestready.gce.plugins.module_utils.imageworker import _relabel
    prefix = "/tmp/guestready-image-42-abc"
    answer = {"results": [{"message": "persisted in %s/root/etc/sysctl.d/x.conf:8" % prefix,
                           "evidence": {"config": prefix + "/root"}}], "notes": ["%s/probe-1: busy" % prefix], "n": 3}
    assert _relabel(answer, prefix, "build/disk.qcow2") == {
        "results": [{"message": "persisted in build/disk.qcow2:/etc/sysctl.d/x.conf:8",
                     "evidence": {"config": "build/disk.qcow2:/"}}], "notes": ["build/disk.qcow2:/probe-1: busy"], "n": 3}


def test_a_stop_during_mount_lands_after_the_mount_is_recorded(tmp_path, monkeypatch):
    """SIGTERM arriving while mount(8) runs is held until the mount point is in
    the attachment's list, so the cleanup unmounts it (it once left a mount
    behind and failed the rmdir with EBUSY)."""
    import signal
    mounted = set()

    def fake_run(cmd, timeout=None, **kwargs):
        if os.path.basename(cmd[0]) == "mount":
            os.kill(os.getpid(), signal.SIGTERM)  # the stop lands mid-mount
            mounted.add(cmd[-1])
        elif os.path.basename(cmd[0]) == "umount":
            mounted.discard(cmd[-1])
        return 0, "", ""

    def stop(signum, frame):
        raise KeyboardInterrupt()

    monkeypatch.setattr(imagefile, "_run", fake_run)
    monkeypatch.setattr(imagefile, "tool", lambda name: "/usr/bin/" + name)
    previous = signal.signal(signal.SIGTERM, stop)
    attachment = imagefile.Attachment({"path": "x", "block_device": False, "format": "raw"}, writable=False)
    attachment.raw = "x"
    where = str(tmp_path / "probe-1")
    try:
        with pytest.raises(KeyboardInterrupt):
            attachment.mount({"number": 1, "start": 0, "size": MIB, "filesystem": {}}, "ext4", where)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert attachment.mounts == [where]
    assert attachment.unmount(where) is None
    assert mounted == set() and attachment.mounts == []


FAKE_UNSHARE = """#!%s
# forks a child that outlives it and keeps the answer's pipes, as a worker does when
# unshare is killed before its --kill-child is armed
import os, sys, time
if os.fork() == 0:
    with open(sys.argv[0] + ".pid", "w") as handle:
        handle.write(str(os.getpid()))
    time.sleep(3600)
    os._exit(0)
time.sleep(3600)
"""


def _state(pid):
    """A process's state letter, or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[1].split()[0]
    except (IOError, OSError, IndexError):
        return None


def test_a_timed_out_worker_is_stopped_with_everything_it_forked(tmp_path, monkeypatch):
    import threading
    from ansible_collections.guestready.gce.plugins.module_utils import imageworker
    fake = tmp_path / "unshare"
    fake.write_text(FAKE_UNSHARE % sys.executable)
    fake.chmod(0o755)
    monkeypatch.setattr(imagefile, "tool", lambda name: str(fake))
    monkeypatch.setattr(imageworker, "CLEANUP_MARGIN", 0)
    outcome = []

    def spawn():
        try:
            imageworker.spawn({"label": "disk.raw", "workdir": None}, 1)
        except ImageError as exc:
            outcome.append(str(exc))
    thread = threading.Thread(target=spawn)
    thread.daemon = True
    thread.start()
    thread.join(120)   # a liveness bound, not a speed target: the old wait never ended
    pid_file = tmp_path / "unshare.pid"
    child = int(pid_file.read_text()) if pid_file.exists() else None
    try:
        assert not thread.is_alive(), "spawn still waits for the pipes the forked child holds"
        assert outcome == ["disk.raw: the audit did not finish within 1 s; it was stopped and everything "
                           "it mounted or attached was released"]
        assert child is not None, "the fake unshare never forked"
        # SIGKILL was sent; the kernel may take a moment to finish the exit on a loaded machine
        deadline = time.time() + 30   # a liveness bound, not a speed target
        while os.path.exists("/proc/%d" % child) and _state(child) not in ("Z", None) and time.time() < deadline:
            time.sleep(0.05)
        assert _state(child) in ("Z", None), "the forked child outlived the worker's stop"
    finally:
        if child is not None:
            try:
                os.kill(child, signal.SIGKILL)
            except OSError:
                pass


def test_a_fixed_vhd_is_a_vhd_not_a_raw_disk_with_a_footer(tmp_path):
    # qemu-img recognises VHD by a header copy that only dynamic VHDs have: a fixed
    # VHD (Azure, Hyper-V) looked raw, 512 bytes longer than its disk, footer included
    need("qemu-img", "sfdisk")
    path = str(tmp_path / "azure.vhd")
    subprocess.run(["qemu-img", "create", "-q", "-f", "vpc", "-o", "subformat=fixed,force_size=on", path, "64M"],
                   check=True)
    sfdisk(path, "label: dos\n,32M,83,*\n")
    facts = imagefile.describe_disk(path, False)
    assert facts["format"] == "vpc" and facts["virtual_size"] == 64 * MIB
    # an archive's disk.raw is imported byte for byte: there the footer is part of the disk
    member = imagefile.describe_disk(path, False, member=True)
    assert member["format"] == "raw" and member["virtual_size"] == 64 * MIB + 512
    raw = sparse_file(tmp_path / "plain.raw", 64 * MIB)
    sfdisk(raw, "label: dos\n,32M,83,*\n")
    assert imagefile.describe_disk(raw, False)["format"] == "raw"


@pytest.mark.parametrize("fstab_subvol,probed", [("@", "@"), ("/@", None)])
def test_grub_paths_on_a_btrfs_root_subvolume(tmp_path, fstab_subvol, probed):
    # grub-mkconfig writes paths from the btrfs top level: /@/boot/vmlinuz-... (Ubuntu, Debian with root in @)
    from ansible_collections.guestready.gce.plugins.module_utils.target import Target
    release = "6.8.0-45-generic"
    (tmp_path / "boot" / "grub").mkdir(parents=True)
    (tmp_path / "boot" / ("vmlinuz-" + release)).write_bytes(b"MZ")
    (tmp_path / "boot" / ("initrd.img-" + release)).write_bytes(b"\x1f\x8b")
    (tmp_path / "boot" / "grub" / "grub.cfg").write_text(
        "menuentry 'Ubuntu' --class ubuntu {\n"
        "\tlinux\t/@/boot/vmlinuz-%s root=UUID=%s ro rootflags=subvol=@\n"
        "\tinitrd\t/@/boot/initrd.img-%s\n}\n" % (release, "1" * 8, release))
    fstab = [{"spec": "UUID=11111111", "file": "/", "vfstype": "btrfs", "options": ["defaults", "subvol=" + fstab_subvol],
              "line": 1, "kind": "uuid", "partition": 2},
             {"spec": "UUID=11111111", "file": "/home", "vfstype": "btrfs", "options": ["subvol=@home"],
              "line": 2, "kind": "uuid", "partition": 2}]
    boot = imagefile.gather_boot(None, {"kind": "gpt", "partitions": []}, [], Target(str(tmp_path)), fstab, None,
                                 subvolume=probed)
    assert boot["kernel_file"] == {"path": "/@/boot/vmlinuz-" + release, "exists": True, "found": "/boot/vmlinuz-" + release}
    assert [i["found"] for i in boot["initrd_files"]] == ["/boot/initrd.img-" + release]
    assert boot["release"] == release
    # a path of another subvolume is not taken for the root's
    assert imagefile._locate(Target(str(tmp_path)), "/@home/boot/vmlinuz-" + release, False,
                             imagefile.subvolume_mounts(fstab, probed)) is None


def test_partitions_over_one_area_are_probed_once_and_none_past_linux_s_last(tmp_path, monkeypatch):
    """A hostile GPT may list 32,768 partitions over one LVM volume, each probe a search of its
    metadata (30-60 ms): the same area is probed once, and a partition Linux never adds (past 255,
    block/partitions/efi.c: DISK_MAX_PARTS) not at all."""
    from ansible_collections.guestready.gce.plugins.module_utils import filesystems, partitions
    image = sparse_file(tmp_path / "disk.raw", 4 * MIB)
    calls = []
    real = filesystems.probe
    monkeypatch.setattr(filesystems, "probe", lambda disk, start, size: calls.append((start, size)) or real(disk, start, size))
    parts = [{"number": n, "start": MIB, "size": MIB, "type": "0x83", "name": None, "uuid": None, "logical": False}
             for n in range(1, 1001)] + [{"number": 1001, "start": 2 * MIB, "size": MIB, "type": "0x83", "name": None,
                                          "uuid": None, "logical": False}]
    with partitions.Disk(image) as disk:
        found = imagefile._partitions_with_filesystems(disk, {"kind": "gpt", "partitions": parts})
    assert calls == [(MIB, MIB)], calls
    assert found[254]["filesystem"] == found[0]["filesystem"] and found[254]["filesystem"] is not found[0]["filesystem"]
    assert found[255]["filesystem"]["type"] is None and "past number 255" in found[255]["filesystem"]["note"], found[255]
    assert "past number 255" in found[-1]["filesystem"]["note"]
