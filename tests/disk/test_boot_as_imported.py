"""Boot as imported: the archive the pack step writes is unpacked into a fresh
directory and its disk.raw booted by the firmware Compute Engine would use
(SeaBIOS, or OVMF for an image with UEFI_COMPATIBLE) through the disk's own
boot loader, in the lab's gce device model; then verify.yml runs against it.
Broken images that the audit refuses to pack really fail to boot.

Each boot goes through GRUB under TCG (about 90 s on an idle 2-core machine):
only what must boot boots.  `make test` boots the good image only; the broken
boots (marked full_boot) run in `make test-disk-full`, while `make test` sees
the same images refused by the audit (tests/image) and the lab's diagnosis of
their recorded consoles (tests/lab/test_bootdisk.py).  An fstab naming /dev/sda1 is caught by the audit
(tests/image) but boots here, where the disk is /dev/sda behind virtio-scsi as
on most machine series: it fails on NVMe machine series, which the lab does
not model, so it is not booted."""

import json
import os
import subprocess
import sys

import pytest
from diskimages import (LAB_WAIVERS, ROOT, break_boot_loader, break_initramfs, by_id, copy_disk, lab_disk, leftovers,
                        run)

from ansible_collections.guestready.gce.plugins.module_utils.diskimage import Failed

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="attaching disk images needs root")
VENV_BIN = os.path.dirname(sys.executable)


@pytest.fixture(autouse=True)
def nothing_left(tmp_path):
    yield
    assert leftovers([tmp_path]) == []


def ansible(*args, cwd):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".ansible", "collections"),
               PATH=VENV_BIN + os.pathsep + os.environ.get("PATH", ""))
    return subprocess.run(["ansible-playbook"] + list(args), cwd=str(cwd), env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, check=False)


def unpack(archive, directory):
    """As Compute Engine receives it: the archive's files in a fresh directory."""
    os.makedirs(str(directory))
    subprocess.run(["tar", "--sparse", "-xzf", archive, "-C", str(directory)], check=True)
    return sorted(os.listdir(str(directory)))


def boot(lab, disk, firmware, key, name):
    """`lab up --disk`: the firmware starts the disk's own boot loader."""
    return lab.run("up", "--json", "--disk", str(disk), "--firmware", firmware, "--ssh-key", key,
                   "--name", name, check=False)


def test_the_packed_good_image_boots_as_imported_and_verifies(lab, tmp_path):
    source, info, directory = lab_disk("boot-bios")
    (tmp_path / "build").mkdir()
    disk = copy_disk(source, tmp_path / "build" / "built.raw")
    packed = run(disk, mode="harden", pack=str(tmp_path / "build" / "good"), workdir=str(tmp_path),
                 waivers=LAB_WAIVERS)
    assert packed["changed"] and packed["pack"]["written"]
    features = [f["feature"] for f in packed["pack"]["guest_os_features"]]
    firmware = "uefi" if "UEFI_COMPATIBLE" in features else "bios"
    assert firmware == "bios" and "VIRTIO_SCSI_MULTIQUEUE" in features

    fresh = tmp_path / "import"
    assert unpack(packed["pack"]["archive"], fresh) == ["disk.raw"]
    imported = fresh / "disk.raw"
    assert os.path.getsize(str(imported)) == 2 << 30
    assert os.stat(str(imported)).st_blocks * 512 < (2 << 30) // 2, "unpacked sparse"

    proc = boot(lab, imported, firmware, os.path.join(directory, "id_ed25519"), "imported")
    lab.collect()
    assert proc.returncode == 0, proc.stderr[-2000:]
    guest, = json.loads(proc.stdout)
    assert guest["disk"] == str(imported) and guest["firmware"] == firmware
    # the lab's known gaps (QEMU is not Compute Engine) are waived by name, never passed
    gaps = dict((gap["id"], "lab gap: %s" % gap["what"]) for gap in guest["gaps"] if gap["id"].startswith("HW-"))
    gaps.update(LAB_WAIVERS)
    verify = ansible("guestready.gce.verify", "-i", os.path.join(lab.state, "inventory.yml"),
                     "-e", "guestready_gce_hosts=imported",
                     "-e", "guestready_gce_report_dir=%s" % (tmp_path / "reports"),
                     "-e", json.dumps({"guestready_gce_waivers": gaps}), cwd=tmp_path)
    with open(str(tmp_path / "reports" / "host-imported.json")) as handle:
        results = dict((r["id"], r) for r in json.load(handle)["results"])
    # what harden wrote into the image is what the booted system runs with
    sysctl = set(r["status"] for rid, r in results.items() if rid.startswith("SYSCTL-"))
    assert sysctl == {"pass"}, [(rid, r["message"]) for rid, r in results.items() if r["status"] != "pass"]
    assert results["KCONF-SCSI_VIRTIO"]["status"] == "module-in-initramfs"
    # the booted guest's controller as Compute Engine's (live half), its driver in the initramfs
    # (offline half: the worse of the two ok statuses), unless this QEMU has a gap for it
    scsi = results["HW-SCSI-VIRTIO"]
    if "HW-SCSI-VIRTIO" in gaps:
        assert scsi["status"] == "waived", scsi["message"]
    else:
        assert scsi["status"] == "module-in-initramfs" and scsi["live"]["status"] == "pass", scsi["message"]
    assert verify.returncode == 0, verify.stdout[-3000:]
    lab.down("imported")


def expect_no_boot(lab, disk, key, reason):
    """The boot fails and the lab names ``reason`` from the console (not, say, a missing
    disk or key: "does not exist" alone would match those too)."""
    proc = boot(lab, disk, "bios", key, "broken")
    lab.collect()
    assert proc.returncode != 0, "the broken image booted"
    assert "did not boot from %s (bios): " % disk in proc.stderr and reason in proc.stderr, proc.stderr[-2000:]
    lab.run("down", "--all", check=False)


@pytest.mark.full_boot
def test_without_a_boot_loader_nothing_boots(lab, tmp_path):
    source, info, directory = lab_disk("boot-bios")
    disk = copy_disk(source, tmp_path / "noloader.raw")
    break_boot_loader(disk)
    with pytest.raises(Failed, match="not packed: .*IMG-BIOS_BOOT fail"):
        run(disk, workdir=str(tmp_path), areas=["sysctl"], pack=str(tmp_path / "noloader"))
    # the lab reads the console: SeaBIOS hands over to empty boot code and nothing ever prints again
    expect_no_boot(lab, disk, os.path.join(directory, "id_ed25519"),
                   "the MBR boot code (first 440 bytes) is all zeros, no boot loader")


@pytest.mark.full_boot
def test_without_virtio_scsi_in_the_initramfs_the_root_is_never_found(lab, tmp_path):
    source, info, directory = lab_disk("boot-bios")
    disk = copy_disk(source, tmp_path / "novirtio.raw")
    break_initramfs(disk, info["boot_kernel"], tmp_path, rootdelay=5)
    with pytest.raises(Failed) as failed:
        run(disk, workdir=str(tmp_path), pack=str(tmp_path / "novirtio"))
    assert by_id(failed.value.fields)["IMG-VIRTIO_DRIVERS"]["status"] == "fail"
    # GRUB and the kernel start; the initramfs never sees the disk behind virtio-scsi
    # initramfs-tools: "ALERT!  UUID=... does not exist.  Dropping to a shell!" (lab bootdisk.diagnose)
    expect_no_boot(lab, disk, os.path.join(directory, "id_ed25519"),
                   "initramfs: UUID=%s does not exist" % info["root_uuid"])
