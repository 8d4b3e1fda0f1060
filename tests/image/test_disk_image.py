"""disk_image on the lab's bootable Debian disks (GRUB for BIOS; GRUB at the
UEFI removable path): the good image is audited, hardened and packed through
the guestready.gce.image playbook; copies broken on purpose are caught by the
audit with the right IDs and are not packed.  Booting the packed archive is
tests/disk's job."""

import json
import os
import subprocess
import sys

import pytest
from diskimages import (GIB, LAB_WAIVERS, ROOT, break_boot_loader, break_fstab, break_initramfs, by_id, copy_disk,
                        debugfs, lab_disk, leftovers, root_offset, run, sha256)

from ansible_collections.guestready.gce.plugins.module_utils import imagecheck, importarchive
from ansible_collections.guestready.gce.plugins.module_utils.diskimage import Failed

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="attaching disk images needs root")
REQUIRED_IMG_PASS = ("IMG-DISK_RAW", "IMG-DISK_SIZE", "IMG-PARTITION_TABLE", "IMG-BOOTABLE_PARTITION",
                     "IMG-ROOT_FILESYSTEM", "IMG-FSTAB_STABLE_ID", "IMG-CMDLINE_ROOT_ID", "IMG-BOOT_ENTRY",
                     "IMG-VIRTIO_DRIVERS")


@pytest.fixture(autouse=True)
def nothing_left(tmp_path):
    yield
    assert leftovers([tmp_path]) == []


@pytest.fixture(scope="module")
def bios():
    return lab_disk("boot-bios")


@pytest.fixture(scope="module")
def uefi():
    return lab_disk("boot-uefi")


def playbook(tmp_path, image, *extra):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".ansible", "collections"))
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "guestready.gce.image",
           "-e", "guestready_gce_image=%s" % image, "-e", "guestready_gce_report_dir=%s" % (tmp_path / "reports"),
           "-e", json.dumps({"guestready_gce_waivers": LAB_WAIVERS})]
    for item in extra:
        cmd += ["-e", item]
    return subprocess.run(cmd, cwd=str(tmp_path), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)


def report(tmp_path, host):
    with open(str(tmp_path / "reports" / ("host-%s.json" % host))) as handle:
        return dict((r["id"], r) for r in json.load(handle)["results"])


def test_the_good_image_audits_clean_and_is_not_written(bios, tmp_path):
    disk = copy_disk(bios[0], tmp_path / "good.raw")
    before = sha256(disk)
    proc = playbook(tmp_path, "good.raw")
    assert proc.returncode == 0, proc.stdout[-3000:]
    results = report(tmp_path, "good.raw")
    for rid in REQUIRED_IMG_PASS + ("IMG-BIOS_BOOT",):
        assert results[rid]["status"] == "pass", (rid, results[rid]["message"])
    assert results["IMG-UEFI_BOOT"]["status"] == "not-applicable"
    assert results["KCONF-SCSI_VIRTIO"]["status"] == "module-in-initramfs"
    assert results["SYSCTL-IP_FORWARD"]["status"] == "fail", "the lab image is not hardened yet"
    assert results["GCE-GUEST-AGENT"]["status"] == "waived"
    assert "(no live kernel here: files only)" not in results["SYSCTL-IP_FORWARD"]["message"]
    assert sha256(disk) == before, "an audit never writes the image"


def test_harden_then_pack_the_good_image(bios, tmp_path):
    disk = copy_disk(bios[0], tmp_path / "good.raw")
    proc = playbook(tmp_path, "good.raw", "guestready_gce_image_mode=harden", "guestready_gce_image_pack=out/good",
                    "guestready_gce_image_bucket=my-images")
    assert proc.returncode == 0, proc.stdout[-3000:]
    results = report(tmp_path, "good.raw")
    assert set(r["status"] for rid, r in results.items() if rid.startswith("SYSCTL-")) == {"pass"}
    for rid in imagecheck.ARCHIVE_IDS:
        assert results[rid]["status"] == "pass", (rid, results[rid]["message"])
    offset = root_offset(disk)
    assert "net.ipv4.ip_forward = 0" in debugfs(disk, offset, "cat /etc/sysctl.d/zz-guestready-gce.conf")

    archive = str(tmp_path / "out" / "good.tar.gz")
    listing = subprocess.run(["tar", "-tvzf", archive], stdout=subprocess.PIPE, universal_newlines=True,
                             check=True).stdout.splitlines()
    assert len(listing) == 1 and listing[0].split()[-1] == "disk.raw", listing
    assert int(listing[0].split()[2]) == 2 * GIB
    facts = importarchive.read_archive(archive)
    member, = facts["members"]
    assert facts["format"] == "gnu" and member["type"] == "S" and member["real_size"] == 2 * GIB
    assert member["size"] < GIB, "only the disk's data is stored"
    digest = sha256(archive)
    assert "sha256: %s" % digest in proc.stdout
    assert ("gcloud compute images create good --source-uri=gs://my-images/good.tar.gz "
            "--guest-os-features=VIRTIO_SCSI_MULTIQUEUE,GVNIC --architecture=X86_64") in proc.stdout.replace("\n        ", " ")

    # the archive, audited as Compute Engine receives it: the hardened disk inside
    audited = by_id(run(archive, workdir=str(tmp_path), waivers=LAB_WAIVERS))
    for rid in REQUIRED_IMG_PASS + ("IMG-ARCHIVE_MEMBER", "IMG-ARCHIVE_TAR_FORMAT", "IMG-ARCHIVE_SPARSE"):
        assert audited[rid]["status"] == "pass", (rid, audited[rid]["message"])
    assert audited["SYSCTL-IP_FORWARD"]["status"] == "pass"


def test_the_uefi_image_declares_uefi(uefi, tmp_path):
    disk = copy_disk(uefi[0], tmp_path / "uefi.raw")
    result = run(disk, workdir=str(tmp_path), areas=["kernel_config", "hardware"])
    results = by_id(result)
    assert results["IMG-UEFI_BOOT"]["status"] == "pass" and "EFI/BOOT/BOOTX64.EFI" in results["IMG-UEFI_BOOT"]["message"]
    assert results["IMG-BIOS_BOOT"]["status"] == "not-applicable"
    assert results["IMG-PARTITION_TABLE"]["message"].startswith("GPT")
    assert [f["feature"] for f in result["features"]] == ["UEFI_COMPATIBLE", "VIRTIO_SCSI_MULTIQUEUE", "GVNIC"]
    assert result["image"]["root"]["partition"] == 2


def test_a_qcow2_is_hardened_in_place(bios, tmp_path):
    qcow2 = str(tmp_path / "good.qcow2")
    subprocess.run(["qemu-img", "convert", "-O", "qcow2", bios[0], qcow2], check=True)
    hardened = run(qcow2, mode="harden", workdir=str(tmp_path), areas=["sysctl"])
    assert hardened["changed"] and by_id(hardened)["IMG-DISK_RAW"]["status"] == "not-applicable"
    subprocess.run(["qemu-img", "check", qcow2], check=True, stdout=subprocess.PIPE)
    again = by_id(run(qcow2, workdir=str(tmp_path), areas=["sysctl"]))
    assert again["SYSCTL-IP_FORWARD"]["status"] == "pass"


def audited_but_not_packed(disk, tmp_path, rid, **extra):
    """One run that audits and would pack: refused, naming ``rid``; its results."""
    with pytest.raises(Failed) as failed:
        run(disk, workdir=str(tmp_path), pack=str(tmp_path / "out" / "broken"), **extra)
    assert "not packed" in str(failed.value) and rid in str(failed.value), str(failed.value)
    assert not os.path.exists(str(tmp_path / "out" / "broken.tar.gz"))
    return by_id(failed.value.fields)


def test_no_boot_loader(bios, tmp_path):
    disk = copy_disk(bios[0], tmp_path / "noloader.raw")
    break_boot_loader(disk)
    results = audited_but_not_packed(disk, tmp_path, "IMG-BIOS_BOOT fail", areas=["sysctl"])
    assert results["IMG-BIOS_BOOT"]["status"] == "fail" and "no boot loader" in results["IMG-BIOS_BOOT"]["message"]
    assert results["IMG-PARTITION_TABLE"]["status"] == "pass"
    proc = playbook(tmp_path, "noloader.raw")
    assert proc.returncode != 0 and "IMG-BIOS_BOOT fail" in proc.stdout, "the report gate fails the run"


def test_fstab_with_a_kernel_device_name(bios, tmp_path):
    disk = copy_disk(bios[0], tmp_path / "sda1.raw")
    break_fstab(disk, tmp_path)
    results = audited_but_not_packed(disk, tmp_path, "IMG-FSTAB_STABLE_ID fail", areas=["sysctl"])
    assert "/dev/sda1 (line 1, /)" in results["IMG-FSTAB_STABLE_ID"]["message"]


def test_an_initramfs_without_virtio_scsi(bios, tmp_path):
    disk = copy_disk(bios[0], tmp_path / "novirtio.raw")
    break_initramfs(disk, bios[1]["boot_kernel"], tmp_path)
    results = audited_but_not_packed(disk, tmp_path, "IMG-VIRTIO_DRIVERS fail")
    assert results["KCONF-SCSI_VIRTIO"]["status"] == "module-missing-from-initramfs"
    assert "KCONF-SCSI_VIRTIO module-missing-from-initramfs" in results["IMG-VIRTIO_DRIVERS"]["message"]
    assert results["KCONF-VIRTIO_NET"]["status"] == "module-in-initramfs", "only virtio_scsi was removed"


def test_an_archive_whose_member_is_not_disk_raw(bios, tmp_path):
    disk = copy_disk(bios[0], tmp_path / "image.raw")
    subprocess.run(["tar", "--format=oldgnu", "-Sczf", "named.tar.gz", "image.raw"], cwd=str(tmp_path), check=True)
    os.unlink(disk)
    results = by_id(run(tmp_path / "named.tar.gz", workdir=str(tmp_path), areas=["sysctl"]))
    assert results["IMG-ARCHIVE_MEMBER"]["status"] == "fail"
    assert "named 'image.raw', not disk.raw" in results["IMG-ARCHIVE_MEMBER"]["message"]
    assert results["IMG-ARCHIVE_TAR_FORMAT"]["status"] == "pass"
    assert results["IMG-BIOS_BOOT"]["status"] == "pass", "the disk inside was audited too"
