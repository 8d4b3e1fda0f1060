"""disk_image on inputs it must refuse or cannot use, and on runs that are
cut short: a clear error naming the input, and nothing left mounted,
attached or running (asserted after every test)."""

import io
import os
import re
import signal
import subprocess
import sys
import tarfile
import time

import pytest
from diskimages import (MIB, build_tree, by_id, leftovers, run, second_partition_offset, synthetic_disk,
                        write_luks_header, write_lvm_label)

from ansible_collections.guestready.gce.plugins.module_utils import imageworker
from ansible_collections.guestready.gce.plugins.module_utils.diskimage import Failed
from ansible_collections.guestready.gce.plugins.module_utils.imagefile import ImageError, Refused

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="attaching disk images needs root")


@pytest.fixture(autouse=True)
def nothing_left(tmp_path):
    assert leftovers() == [], "something was left before this test"
    yield
    deadline = time.time() + 10
    while leftovers([tmp_path]) and time.time() < deadline:
        time.sleep(0.2)  # a killed worker's namespace is torn down asynchronously
    assert leftovers([tmp_path]) == []
    assert not [n for n in os.listdir(str(tmp_path)) if n.startswith("guestready-")], "scratch directories left"


GRUB_CFG = """set default="0"
menuentry 'Synthetic' {
  linux /boot/vmlinuz-6.1.0-50-cloud-amd64 root=LABEL=synthetic-root ro
  initrd /boot/initrd.img-6.1.0-50-cloud-amd64
}
"""


def test_a_synthetic_disk_is_audited_without_a_boot_loader(tmp_path):
    tree = build_tree(tmp_path / "tree", "LABEL=synthetic-root / ext4 defaults 0 1\n/dev/sdb1 /data ext4 defaults 0 2\n",
                      GRUB_CFG)
    disk = synthetic_disk(tmp_path, tree)
    result = run(disk, workdir=str(tmp_path), areas=["sysctl"])
    ids = by_id(result)
    assert ids["IMG-ROOT_FILESYSTEM"]["status"] == "pass" and "Synthetic Linux" in ids["IMG-ROOT_FILESYSTEM"]["message"]
    assert ids["IMG-BIOS_BOOT"]["status"] == "fail" and "no boot loader" in ids["IMG-BIOS_BOOT"]["message"]
    assert ids["IMG-DISK_SIZE"]["status"] == "fail", "64 MiB is not a whole GiB"
    assert ids["IMG-FSTAB_STABLE_ID"]["status"] == "fail" and "/dev/sdb1" in ids["IMG-FSTAB_STABLE_ID"]["message"]
    assert ids["IMG-CMDLINE_ROOT_ID"]["status"] == "pass"
    assert ids["IMG-BOOT_ENTRY"]["status"] == "fail" and "missing from the image" in ids["IMG-BOOT_ENTRY"]["message"]
    assert result["image"]["root"] == {"partition": 1, "os": "Synthetic Linux"}
    # messages show the image, never the private mount point
    assert "guestready-image-" not in str(result["results"])


def test_not_packed_when_a_required_requirement_fails(tmp_path):
    tree = build_tree(tmp_path / "tree", "LABEL=synthetic-root / ext4 defaults 0 1\n", GRUB_CFG)
    disk = synthetic_disk(tmp_path, tree)
    with pytest.raises(Failed) as failed:
        run(disk, workdir=str(tmp_path), areas=["sysctl"], pack=str(tmp_path / "out" / "image"))
    assert "not packed" in str(failed.value) and "IMG-BIOS_BOOT fail" in str(failed.value)
    assert not os.path.exists(str(tmp_path / "out" / "image.tar.gz"))


def test_not_a_disk_image(tmp_path):
    text = tmp_path / "notes.img"
    text.write_text("hello\n" * 200000)
    with pytest.raises(ImageError, match="notes.img: not a disk image"):
        run(text, workdir=str(tmp_path))


def test_a_truncated_qcow2(tmp_path):
    tree = build_tree(tmp_path / "tree", "LABEL=synthetic-root / ext4 defaults 0 1\n")
    (tmp_path / "tree" / "filler").write_bytes(os.urandom(8 * MIB))
    disk = synthetic_disk(tmp_path, tree)
    qcow2 = str(tmp_path / "disk.qcow2")
    subprocess.run(["qemu-img", "convert", "-O", "qcow2", disk, qcow2], check=True)
    with open(qcow2, "r+b") as handle:
        handle.truncate(os.stat(qcow2).st_size // 2)
    with pytest.raises(ImageError, match="disk.qcow2: the qcow2 image is damaged"):
        run(qcow2, workdir=str(tmp_path))


@pytest.mark.parametrize("container,words", [("luks", "a LUKS2 encrypted volume on partition 2"),
                                             ("lvm", "an LVM physical volume of volume group 'vg_system' "
                                                     "on partition 2")])
def test_an_encrypted_or_lvm_root_is_unsupported(tmp_path, container, words):
    disk = synthetic_disk(tmp_path, None, extra_partition=True)  # partition 1: an empty /boot-like filesystem
    offset = second_partition_offset(disk)
    (write_luks_header if container == "luks" else write_lvm_label)(disk, offset)
    with pytest.raises(Failed) as failed:
        run(disk, workdir=str(tmp_path))
    message = str(failed.value)
    assert "unsupported" in message and words in message, message
    assert failed.value.fields["kind"] == "unsupported"
    assert by_id(failed.value.fields)["IMG-ROOT_FILESYSTEM"]["status"] == "unsupported"


def test_a_disk_open_elsewhere_is_refused(tmp_path):
    tree = build_tree(tmp_path / "tree", "LABEL=synthetic-root / ext4 defaults 0 1\n")
    disk = synthetic_disk(tmp_path, tree)
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; f = open(sys.argv[1], 'r+b'); "
                               "print(1, flush=True); time.sleep(60)", disk], stdout=subprocess.PIPE)
    try:
        holder.stdout.readline()
        with pytest.raises(Refused, match="synthetic.raw is in use: .*pid %d, write" % holder.pid):
            run(disk, workdir=str(tmp_path))
    finally:
        holder.kill()
        holder.wait()


def test_a_disk_held_by_a_running_vm_is_refused(tmp_path):
    """qemu-storage-daemon serving the disk stands for a VM: it holds QEMU's
    image lock and the file open for writing."""
    tree = build_tree(tmp_path / "tree", "LABEL=synthetic-root / ext4 defaults 0 1\n")
    disk = synthetic_disk(tmp_path, tree)
    socket = str(tmp_path / "vm.sock")
    vm = subprocess.Popen(["qemu-storage-daemon", "--blockdev", "driver=file,filename=%s,node-name=f" % disk,
                           "--blockdev", "driver=raw,file=f,node-name=d",
                           "--nbd-server", "addr.type=unix,addr.path=%s" % socket,
                           "--export", "type=nbd,id=e,node-name=d,writable=on"])
    try:
        deadline = time.time() + 30
        while not os.path.exists(socket) and time.time() < deadline:
            time.sleep(0.1)
        with pytest.raises(Refused, match="synthetic.raw is in use: qemu-storage-d"):
            run(disk, workdir=str(tmp_path))
    finally:
        vm.terminate()
        vm.wait()


def test_a_disk_attached_to_a_loop_device_is_refused(tmp_path):
    tree = build_tree(tmp_path / "tree", "LABEL=synthetic-root / ext4 defaults 0 1\n")
    disk = synthetic_disk(tmp_path, tree)
    loop = subprocess.run(["losetup", "--find", "--show", "--read-only", disk], stdout=subprocess.PIPE,
                          universal_newlines=True, check=True).stdout.strip()
    try:
        with pytest.raises(Refused, match="attached elsewhere: loop device %s" % loop):
            run(disk, workdir=str(tmp_path))
    finally:
        subprocess.run(["losetup", "--detach", loop], check=True)


def test_harden_of_an_archive_and_packing_an_archive_are_refused(tmp_path):
    tree = build_tree(tmp_path / "tree", "LABEL=synthetic-root / ext4 defaults 0 1\n")
    synthetic_disk(tmp_path, tree, name="disk.raw")
    subprocess.run(["tar", "--format=oldgnu", "-Sczf", "a.tar.gz", "disk.raw"], cwd=str(tmp_path), check=True)
    with pytest.raises(ImageError, match="is an import archive .*harden the disk, then pack it"):
        run(tmp_path / "a.tar.gz", mode="harden")
    with pytest.raises(ImageError, match="already an import archive"):
        run(tmp_path / "a.tar.gz", pack=str(tmp_path / "b"))


def test_the_regular_disk_raw_is_audited_when_a_link_of_its_name_comes_first(tmp_path):
    # tar --occurrence=1 restored the link (to nothing useful): "cannot extract ...: rc=0";
    # an empty disk.raw was named by its scratch copy, gone once the run ends
    tree = build_tree(tmp_path / "tree", "LABEL=synthetic-root / ext4 defaults 0 1\n")
    disk = synthetic_disk(tmp_path, tree, name="disk.raw")
    with tarfile.open(str(tmp_path / "a.tar.gz"), "w:gz", format=tarfile.GNU_FORMAT) as archive:
        link = tarfile.TarInfo("disk.raw")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/shadow"
        archive.addfile(link)
        archive.add(disk, "disk.raw")
    results = by_id(run(tmp_path / "a.tar.gz", workdir=str(tmp_path), areas=["sysctl"]))
    assert results["IMG-ROOT_FILESYSTEM"]["status"] == "pass", results["IMG-ROOT_FILESYSTEM"]
    with tarfile.open(str(tmp_path / "empty.tar.gz"), "w:gz", format=tarfile.GNU_FORMAT) as archive:
        archive.addfile(tarfile.TarInfo("disk.raw"), io.BytesIO(b""))
    with pytest.raises(ImageError, match=r"^%s \(member disk.raw\): " % re.escape(str(tmp_path / "empty.tar.gz"))):
        run(tmp_path / "empty.tar.gz", workdir=str(tmp_path))


def test_unknown_area_options_are_refused_before_anything_runs(tmp_path):
    with pytest.raises(ImageError, match="area_options: unknown area"):
        run(tmp_path / "none.raw", area_options={"nonsense": {}})


def wait_for(condition, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def attached(path):
    """A loop device backed by ``path``, or a FUSE export of it."""
    for line in leftovers([path]):
        if line.startswith("loop:"):
            return True
        if line.startswith("process"):
            pid = line.split()[1].rstrip(":")
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as handle:
                    if str(path).encode() in handle.read():
                        return True
            except OSError:
                continue
    return False


def slow_tree(tmp_path):
    """A tree whose audit takes seconds: a kernel with a long driver table
    (the hardware area reads it all), so a signal lands mid-audit."""
    tree = build_tree(tmp_path / "tree", "LABEL=synthetic-root / ext4 defaults 0 1\n", GRUB_CFG)
    modules = tree / "lib" / "modules" / "6.1.0-50-cloud-amd64"
    modules.mkdir(parents=True)
    with open(str(modules / "modules.alias"), "w") as handle:
        for index in range(300000):
            handle.write("alias pci:v%08Xd%08Xsv*sd*bc*sc*i* fake_%d\n" % (index, index, index % 97))
    (modules / "modules.dep").write_text("".join("kernel/fake_%d.ko:\n" % i for i in range(97)))
    return tree


@pytest.mark.parametrize("fmt", ["raw", "qcow2"])
def test_killed_mid_audit_the_kernel_releases_everything(tmp_path, fmt):
    """SIGKILL of the worker's parent (what a timeout or a crashed controller
    does): no cleanup code runs, and still nothing stays mounted, attached or
    running.  The next run removes the scratch directory the dead one left."""
    disk = synthetic_disk(tmp_path, slow_tree(tmp_path))
    if fmt == "qcow2":
        subprocess.run(["qemu-img", "convert", "-O", "qcow2", disk, disk + ".qcow2"], check=True)
        disk += ".qcow2"
    helper = subprocess.Popen([sys.executable, "-c", KILL_HELPER, disk, str(tmp_path)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, start_new_session=True)
    try:
        # raw: the loop device of a probe mount; qcow2: the FUSE export's daemon
        assert wait_for(lambda: attached(disk)), "the worker never attached the disk"
        os.killpg(helper.pid, signal.SIGKILL)
    finally:
        helper.wait()
    assert wait_for(lambda: not leftovers([disk]), 20), leftovers([disk])
    stale = [n for n in os.listdir(str(tmp_path)) if n.startswith("guestready-image-")]
    assert stale, "the killed run's scratch directory is still there (nothing ran its cleanup)"
    run(disk, workdir=str(tmp_path), areas=["sysctl"])
    assert not [n for n in os.listdir(str(tmp_path)) if n.startswith("guestready-image-")]


def loop_sources(backing_suffix):
    """``/dev/loopN`` of every loop device whose backing file ends with ``backing_suffix``."""
    found = set()
    for line in leftovers():
        if line.startswith("loop: ") and line.endswith(backing_suffix):
            found.add("/dev/" + line.split()[1])
    return found


def mount_sources(pid):
    """The source of every mount in the mount namespace of process ``pid``
    (none once it has exited)."""
    try:
        with open("/proc/%d/mountinfo" % pid) as handle:
            return {line.split(" - ", 1)[1].split()[1] for line in handle if " - " in line}
    except OSError:
        return set()


def daemon_pid(disk):
    for line in leftovers([disk]):
        if line.startswith("process") and "qemu-storage-daemon" in line:
            return int(line.split()[1].rstrip(":"))
    return None


def test_the_export_daemon_never_holds_a_mount_read_through_its_export(tmp_path):
    """qemu-storage-daemon's mount namespace has none of the worker's loop
    mounts of the export.  Killed while it held one, the daemon would be the
    last process of that namespace (the worker, PID 1, dies first), and the
    kernel would unmount it in the daemon's exit before the daemon's FUSE
    device is released: a read in flight then waits for the daemon forever,
    and every later loop mount on this machine waits behind it."""
    disk = synthetic_disk(tmp_path, slow_tree(tmp_path))
    subprocess.run(["qemu-img", "convert", "-O", "qcow2", disk, disk + ".qcow2"], check=True)
    disk += ".qcow2"
    helper = subprocess.Popen([sys.executable, "-c", KILL_HELPER, disk, str(tmp_path)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, start_new_session=True)
    try:
        def root_mounted():
            worker = worker_pid()
            loops = loop_sources("/disk")
            return worker and loops and loops & mount_sources(worker)
        assert wait_for(root_mounted), "the worker never mounted a partition of the export"
        daemon = daemon_pid(disk)
        assert daemon, leftovers([disk])
        assert not loop_sources("/disk") & mount_sources(daemon), \
            "the daemon's namespace holds a filesystem read through its own export"
        os.killpg(helper.pid, signal.SIGKILL)
    finally:
        if helper.poll() is None:
            os.killpg(helper.pid, signal.SIGKILL)
        helper.wait()
    assert wait_for(lambda: not leftovers([disk]), 20), leftovers([disk])
    run(disk, workdir=str(tmp_path), areas=["sysctl"])  # and the next run removes the scratch directory


KILL_HELPER = """
import sys, os
sys.path.insert(0, %r)
from ansible_collections.guestready.gce.plugins.module_utils import diskimage
p = dict((k, v.get('default')) for k, v in diskimage.ARGUMENT_SPEC.items())
p.update(path=sys.argv[1], workdir=sys.argv[2], waivers={}, overrides={})
diskimage.run(p)
""" % os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                   ".ansible", "collections")


def test_the_module_side_timeout_kills_the_worker(tmp_path, monkeypatch):
    tree = build_tree(tmp_path / "tree", "LABEL=synthetic-root / ext4 defaults 0 1\n", GRUB_CFG)
    disk = synthetic_disk(tmp_path, tree)
    # the smallest timeout the module takes (1 s), and no margin left: stopped at once, while
    # the worker's own alarm (1 s) has not fired
    monkeypatch.setattr(imageworker, "CLEANUP_MARGIN", -1)
    with pytest.raises(ImageError, match="did not finish within 1 s; it was stopped and everything it mounted"):
        run(disk, workdir=str(tmp_path), timeout=1)


def worker_pid():
    for proc in os.listdir("/proc"):
        if not proc.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % proc, "rb") as handle:
                cmdline = handle.read()
            with open("/proc/%s/comm" % proc) as handle:
                comm = handle.read().strip()
        except OSError:
            continue
        if b"imageworker.main()" in cmdline and comm != "unshare":
            return int(proc)
    return None


def test_a_signal_to_the_worker_unwinds_through_its_cleanup(tmp_path):
    """SIGTERM (or Ctrl-C, or the worker's own deadline: the same unwinding)
    mid-audit: the worker unmounts, stops its daemon and answers."""
    disk = synthetic_disk(tmp_path, slow_tree(tmp_path))
    subprocess.run(["qemu-img", "convert", "-O", "qcow2", disk, disk + ".qcow2"], check=True)
    outcome = {}
    import threading

    def audit():
        try:
            run(disk + ".qcow2", workdir=str(tmp_path))
        except Failed as exc:
            outcome["failed"] = exc
    thread = threading.Thread(target=audit)
    thread.start()
    try:
        assert wait_for(lambda: attached(disk + ".qcow2")), "the worker never attached the disk"
        os.kill(worker_pid(), signal.SIGTERM)
    finally:
        thread.join(120)
    assert "interrupted; everything mounted was released" in str(outcome.get("failed")), outcome
    assert outcome["failed"].fields["kind"] == "interrupted"
