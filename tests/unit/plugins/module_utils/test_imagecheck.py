"""The IMG-* rules on facts, one broken fact at a time."""

import copy
import struct

import pytest

from ansible_collections.guestready.gce.plugins.module_utils import bootconfig, imagecheck, imagefile
from ansible_collections.guestready.gce.plugins.module_utils.catalogue import GIB, requirements
from ansible_collections.guestready.gce.plugins.module_utils.partitions import BIOS_BOOT_GUID, ESP_GUID

ROOT_UUID = "5f5fbdfc-72e9-459d-8f91-126e4737c9fe"


def good_bios():
    parts = [{"number": 1, "start": 1 << 20, "size": 2 * GIB - (1 << 20), "type": "0x83", "type_name": "Linux",
              "bootable": True, "name": None, "uuid": "7934e8f4-01",
              "filesystem": {"type": "ext4", "uuid": ROOT_UUID, "label": None, "mountable": True}}]
    return {
        "input": {"path": "disk.raw", "format": "raw", "virtual_size": 2 * GIB, "block_device": False},
        "archive": None, "inspected": True, "arch": "x86_64",
        "table": {"kind": "mbr", "partitions": parts, "problems": [], "warnings": []},
        "root": {"partition": 1, "filesystem": parts[0]["filesystem"], "os_release": {"PRETTY_NAME": "Debian 12"}},
        "fstab": [{"spec": "UUID=" + ROOT_UUID, "file": "/", "vfstype": "ext4", "options": ["defaults"], "line": 1,
                   "kind": "uuid", "partition": 1}],
        "boot": {"bios": {"boot_code": {"present": True, "loader": "grub", "next_stage_lba": 1},
                          "next_stage": {"lba": 1, "present": True, "where": "the gap before the first partition"}},
                 "esp": None,
                 "menu": {"config": "/boot/grub/grub.cfg", "kind": "grub", "error": None,
                          "default": {"title": "Debian GNU/Linux", "kernel": "/boot/vmlinuz-6.1.0-50-cloud-amd64",
                                      "initrd": ["/boot/initrd.img-6.1.0-50-cloud-amd64"],
                                      "args": "root=UUID=%s ro console=ttyS0,38400n8" % ROOT_UUID}},
                 "kernel_file": {"path": "/boot/vmlinuz-6.1.0-50-cloud-amd64", "exists": True},
                 "initrd_files": [{"path": "/boot/initrd.img-6.1.0-50-cloud-amd64", "exists": True}],
                 "release": "6.1.0-50-cloud-amd64"},
    }


def linked(status="module-in-initramfs"):
    return dict((rid, {"id": rid, "status": status}) for rid in imagecheck.LINKED)


def judge(facts, link=None):
    results = imagecheck.evaluate(facts, requirements("image"), {}, linked() if link is None else link)
    return dict((r["id"], r) for r in results)


def test_a_good_bios_image_passes():
    results = judge(good_bios())
    statuses = dict((rid, r["status"]) for rid, r in results.items())
    assert statuses.pop("IMG-UEFI_BOOT") == "not-applicable"
    for rid in imagecheck.ARCHIVE_IDS:
        assert statuses.pop(rid) == "not-applicable"
    assert set(statuses.values()) == {"pass"}, statuses
    assert results["IMG-DISK_SIZE"]["message"] == "2147483648 bytes = 2 GiB"
    assert results["IMG-VIRTIO_DRIVERS"]["evidence"]["linked"]["KCONF-SCSI_VIRTIO"] == "module-in-initramfs"
    assert all(r["evidence"]["source"] for r in results.values())


def broken(change):
    facts = good_bios()
    change(facts)
    return judge(facts)


@pytest.mark.parametrize("change,rid,status,words", [
    (lambda f: f["boot"]["bios"].update(boot_code={"present": False}), "IMG-BIOS_BOOT", "fail", "no boot loader"),
    (lambda f: f["boot"]["bios"].update(next_stage={"present": False, "problem": "is empty (all zeros)"}),
     "IMG-BIOS_BOOT", "fail", "all zeros"),
    (lambda f: f["boot"]["bios"]["boot_code"].update(loader="syslinux"), "IMG-BIOS_BOOT", "unknown", "not GRUB"),
    (lambda f: f["input"].update(virtual_size=2 * GIB + 512), "IMG-DISK_SIZE", "fail", "qemu-img resize"),
    # 0 % GIB is 0 too; and "grow the disk to 0 GiB" would be no advice
    (lambda f: f["input"].update(virtual_size=0), "IMG-DISK_SIZE", "fail", "the disk is empty (0 bytes)"),
    (lambda f: f["table"].update(kind=None), "IMG-PARTITION_TABLE", "fail", "no partition table"),
    (lambda f: f["table"].update(problems=["partitions 1 and 2 overlap"]), "IMG-PARTITION_TABLE", "fail", "overlap"),
    (lambda f: f["table"]["partitions"][0].update(bootable=False), "IMG-BOOTABLE_PARTITION", "fail", "active"),
    (lambda f: f["fstab"][0].update(spec="/dev/sda1", kind="kernel-name"), "IMG-FSTAB_STABLE_ID", "fail", "/dev/sda1"),
    (lambda f: f["fstab"].append({"spec": "UUID=0000", "file": "/data", "vfstype": "ext4", "options": ["defaults"],
                                  "line": 2, "kind": "uuid", "partition": None}),
     "IMG-FSTAB_STABLE_ID", "fail", "no filesystem on this disk"),
    (lambda f: f["boot"]["menu"]["default"].update(args="root=/dev/sda1 ro"), "IMG-CMDLINE_ROOT_ID", "fail",
     "device name"),
    (lambda f: f["boot"]["menu"]["default"].update(args="ro quiet"), "IMG-CMDLINE_ROOT_ID", "fail", "no root="),
    (lambda f: f["boot"]["menu"]["default"].update(args="root=UUID=0000 ro"), "IMG-CMDLINE_ROOT_ID", "fail",
     "not on this disk"),
    (lambda f: f["boot"]["menu"]["default"].update(args="root=uuid=%s ro" % f["root"]["filesystem"]["uuid"]),
     "IMG-CMDLINE_ROOT_ID", "fail", "upper case only"),
    (lambda f: f["boot"]["menu"].update(default=None, error="no boot loader configuration"), "IMG-BOOT_ENTRY", "fail",
     "no boot entry"),
    (lambda f: f["boot"]["initrd_files"][0].update(exists=False), "IMG-BOOT_ENTRY", "fail", "missing from the image"),
    (lambda f: f.update(root=None, root_status="unsupported", root_problem="found a LUKS2 volume"),
     "IMG-ROOT_FILESYSTEM", "unsupported", "LUKS2"),
])
def test_one_broken_fact(change, rid, status, words):
    result = broken(change)[rid]
    assert result["status"] == status, result["message"]
    assert words in result["message"] + result["remediation"]


def test_what_the_default_entry_s_choice_could_not_know_is_said():
    """systemd-boot's loader.conf ``default @saved`` names an EFI variable the image does not hold:
    the entry judged is systemd-boot's first, and the messages say so (bootconfig.gather_menu's note)."""
    note = "ESP /loader/loader.conf: default @saved is the entry booted last (the EFI variable LoaderEntryLastBooted)"
    results = broken(lambda f: f["boot"]["menu"].update(note=note))
    for rid in ("IMG-BOOT_ENTRY", "IMG-CMDLINE_ROOT_ID"):
        assert results[rid]["status"] == "pass" and note in results[rid]["message"], results[rid]["message"]


@pytest.mark.parametrize("given, archive, commands", [
    ({"path": "build/my disk.img", "format": "raw"}, False,
     "grow the disk to 3 GiB: `qemu-img resize -f raw 'build/my disk.img' 3G` then `sgdisk -e 'build/my disk.img'`"),
    # qemu-img resize -f raw on a qcow2, or of a disk.raw the user does not have, was the advice
    ({"path": "build/vm.qcow2", "format": "qcow2"}, False,
     "grow the disk to 3 GiB: `qemu-img convert -O raw build/vm.qcow2 disk.raw`, then `qemu-img resize -f raw "
     "disk.raw 3G` then `sgdisk -e disk.raw`"),
    ({"path": "/dev/sdx", "format": "raw", "block_device": True}, False,
     "grow the disk to 3 GiB: `qemu-img convert -O raw /dev/sdx disk.raw`, then `qemu-img resize -f raw disk.raw 3G`"),
    ({"path": "vendor.tar.gz", "format": "raw"}, True,
     "grow the disk to 3 GiB: `qemu-img resize -f raw disk.raw 3G` then `sgdisk -e disk.raw`"),
])
def test_the_disk_size_advice_names_the_file_given(given, archive, commands):
    facts = good_bios()
    facts["input"].update(given, virtual_size=2 * GIB + 512)
    facts["table"]["kind"] = "gpt"
    if archive:
        facts["archive"] = {"gzip": True, "size": 1, "format": "gnu", "members": [], "problems": []}
    result = judge(facts)["IMG-DISK_SIZE"]
    assert result["status"] == "fail" and result["remediation"].startswith(commands), result["remediation"]


def test_fstab_entries_that_do_not_hold_boot_are_not_failures():
    def change(facts):
        facts["fstab"].append({"spec": "/dev/sdb1", "file": "/scratch", "vfstype": "ext4",
                               "options": ["defaults", "nofail"], "line": 2, "kind": "kernel-name", "partition": None})
    result = broken(change)["IMG-FSTAB_STABLE_ID"]
    assert result["status"] == "pass" and "not judged" in result["message"]


def test_fstab_entries_boot_goes_on_without_are_not_failures():
    """The image audit reads which entries hold boot up as GCE-FSTAB-NOFAIL does (fstab.boot_goes_on_without):
    a _netdev mount and an automount of a disk the image lacks do not stop the boot, and harden gives them
    no nofail, so they must not fail IMG-FSTAB_STABLE_ID either; a plain mount of such a disk does."""
    def change(text):
        def apply(facts):
            facts["fstab"] = imagefile.resolve_fstab("UUID=%s / ext4 defaults 0 1\n%s" % (ROOT_UUID, text),
                                                     facts["table"]["partitions"])
        return apply
    spared = change("UUID=77 /mnt/iscsi ext4 _netdev 0 0\nUUID=78 /srv/auto ext4 x-systemd.automount 0 2\n"
                    "/dev/sdb1 /srv/b xfs x-systemd.automount 0 2\n")
    result = broken(spared)["IMG-FSTAB_STABLE_ID"]
    assert result["status"] == "pass", result["message"]
    for held in ("UUID=79 /data ext4 defaults 0 2\n", "UUID=80 /early ext4 _netdev,x-initrd.mount 0 2\n",
                 "UUID=81 /srv/auto ext4 x-systemd.automount,nofail,fail 0 2\nUUID=82 /srv ext4 defaults 0 2\n"):
        result = broken(change(held))["IMG-FSTAB_STABLE_ID"]
        assert result["status"] == "fail" and "names no filesystem on this disk has" in result["message"], (held, result)


def test_fstab_tags_not_in_upper_case_are_file_names():
    """systemd's fstab generator (fstab_node_to_udev_node: startswith "UUID=") and libmount
    (mnt_valid_tagname: strcmp) match tags in upper case only: ``uuid=<the root's UUID>`` is a
    file name, a mount that fails at boot, not the root filesystem's name."""
    def change(text):
        def apply(facts):
            facts["fstab"] = imagefile.resolve_fstab(text, facts["table"]["partitions"])
        return apply
    for spec in ("uuid=%s" % ROOT_UUID, "Uuid=%s" % ROOT_UUID):
        result = broken(change("%s / ext4 defaults 0 1\n" % spec))["IMG-FSTAB_STABLE_ID"]
        assert result["status"] == "fail" and "not in upper case" in result["message"], result
        assert result["evidence"]["miscased"] == ["%s (line 1, /)" % spec], result
    result = broken(change("UUID=%s / ext4 defaults 0 1\nlabel=spare /spare ext4 nofail 0 2\n" % ROOT_UUID))
    assert result["IMG-FSTAB_STABLE_ID"]["status"] == "pass" and "label=spare" in result["IMG-FSTAB_STABLE_ID"]["message"]


def test_virtio_drivers_follow_the_linked_kernel_options():
    assert judge(good_bios(), linked("module-missing-from-initramfs"))["IMG-VIRTIO_DRIVERS"]["status"] == "fail"
    assert judge(good_bios(), linked("pass"))["IMG-VIRTIO_DRIVERS"]["status"] == "pass"
    assert judge(good_bios(), {})["IMG-VIRTIO_DRIVERS"]["status"] == "unknown"
    partial = linked("pass")
    partial.pop("KCONF-VIRTIO_NET")
    assert judge(good_bios(), partial)["IMG-VIRTIO_DRIVERS"]["status"] == "unknown"


def uefi_only():
    facts = good_bios()
    facts["table"]["kind"] = "gpt"
    esp = {"number": 1, "start": 1 << 20, "size": 127 << 20, "type": ESP_GUID, "type_name": "EFI System",
           "bootable": False, "name": "", "uuid": "X", "filesystem": {"type": "vfat", "uuid": "6645-0130"}}
    facts["table"]["partitions"][0].update(number=2, type="0FC63DAF-8483-4772-8E79-3D69D8477DE4", bootable=False)
    facts["table"]["partitions"].insert(0, esp)
    facts["root"]["partition"] = 2
    facts["fstab"][0]["partition"] = 2
    facts["boot"]["bios"] = {"boot_code": {"present": False}, "next_stage": None}
    facts["boot"]["esp"] = {"partition": 1, "error": None, "efi_files": ["EFI/BOOT/BOOTX64.EFI"],
                            "loader": {"path": "EFI/BOOT/BOOTX64.EFI", "machine": "x86_64"}}
    return facts


def test_a_uefi_only_image():
    results = judge(uefi_only())
    assert results["IMG-UEFI_BOOT"]["status"] == "pass"
    assert results["IMG-BIOS_BOOT"]["status"] == "not-applicable"
    assert results["IMG-BOOTABLE_PARTITION"]["status"] == "pass"
    features = dict(imagecheck.guest_os_features(uefi_only(), list(results.values())))
    assert set(features) == {"UEFI_COMPATIBLE", "VIRTIO_SCSI_MULTIQUEUE"}


@pytest.mark.parametrize("loader,words", [
    (None, "no EFI/BOOT/BOOTX64.EFI"), ({"path": "EFI/BOOT/BOOTX64.EFI", "machine": "arm64"}, "arm64 PE image"),
    ({"path": "EFI/BOOT/BOOTX64.EFI", "machine": None}, "not a PE image")])
def test_a_broken_esp(loader, words):
    facts = uefi_only()
    facts["boot"]["esp"]["loader"] = loader
    results = judge(facts)
    assert results["IMG-UEFI_BOOT"]["status"] == "fail" and words in results["IMG-UEFI_BOOT"]["message"]
    assert results["IMG-BIOS_BOOT"]["status"] == "fail", "neither firmware can boot it"


def test_gpt_without_a_bootable_partition_and_a_bios_boot_partition():
    facts = uefi_only()
    facts["table"]["partitions"][0].update(type="0FC63DAF-8483-4772-8E79-3D69D8477DE4", type_name="Linux filesystem")
    assert judge(facts)["IMG-BOOTABLE_PARTITION"]["status"] == "fail"
    facts["table"]["partitions"][0].update(type=BIOS_BOOT_GUID, type_name="BIOS boot")
    assert judge(facts)["IMG-BOOTABLE_PARTITION"]["status"] == "pass"


def test_gpt_with_a_hybrid_mbr_is_bios_bootable_as_google_s_inspection_says(tmp_path):
    # a GPT whose MBR also lists a partition (gdisk's hybrid MBR), no ESP, no BIOS boot partition
    from disktools import sfdisk, sparse_file, write_at
    from ansible_collections.guestready.gce.plugins.module_utils import partitions
    path = sparse_file(tmp_path / "hybrid.raw", 64 * 1024 * 1024)
    sfdisk(path, "label: gpt\n,,L\n")
    write_at(path, 446, bytes([0, 0, 0, 0, 0xEE, 0, 0, 0]) + struct.pack("<II", 1, 2047)
             + bytes([0x80, 0, 0, 0, 0x83, 0, 0, 0]) + struct.pack("<II", 2048, 126976))
    with partitions.Disk(path) as disk:
        table = partitions.read_table(disk)
    assert table["kind"] == "gpt" and table["hybrid"] and not table["problems"]
    facts = uefi_only()
    facts["table"] = table
    result = judge(facts)["IMG-BOOTABLE_PARTITION"]
    assert result["status"] == "pass" and "hybrid MBR" in result["message"] and "2 (0x83, active)" in result["message"]


def archive(**change):
    facts = {"gzip": True, "compression": "gzip", "size": 1000, "format": "gnu", "pax_keys": [], "problems": [],
             "member_content": "raw",
             "members": [{"name": "disk.raw", "type": "S", "regular": True, "sparse": True, "size": 10,
                          "real_size": 2 * GIB}]}
    facts.update(change)
    return facts


@pytest.mark.parametrize("change,rid,status,words", [
    ({}, "IMG-ARCHIVE_MEMBER", "pass", "one member"),
    ({"gzip": False, "compression": "xz"}, "IMG-ARCHIVE_GZIP", "fail", "xz"),
    ({"format": "pax", "pax_keys": ["GNU.sparse.major"]}, "IMG-ARCHIVE_TAR_FORMAT", "fail", "pax"),
    ({"format": None, "problems": ["no tar header"]}, "IMG-ARCHIVE_TAR_FORMAT", "fail", "not a tar archive"),
    ({"members": [{"name": "image.raw", "type": "S", "regular": True, "sparse": True, "size": 1, "real_size": GIB}]},
     "IMG-ARCHIVE_MEMBER", "fail", "'image.raw', not disk.raw"),
    ({"members": [{"name": "disk.raw", "type": "0", "regular": True, "sparse": False, "size": GIB, "real_size": GIB},
                  {"name": "README", "type": "0", "regular": True, "sparse": False, "size": 1, "real_size": 1}]},
     "IMG-ARCHIVE_MEMBER", "fail", "2 members"),
    ({"members": [{"name": "disk.raw", "type": "0", "regular": True, "sparse": False, "size": GIB, "real_size": GIB}]},
     "IMG-ARCHIVE_SPARSE", "fail", "dense"),
    ({"member_content": "qcow2"}, "IMG-DISK_RAW", "fail", "qcow2 file"),
    ({"problems": ["the gzip stream ends early: the archive is truncated"],
      "stream_problem": "the gzip stream ends early: the archive is truncated"},
     "IMG-ARCHIVE_GZIP", "fail", "gzip-compressed, but the gzip stream ends early"),
    ({"problems": ["member disk.raw is cut short: the archive is truncated"]},
     "IMG-ARCHIVE_TAR_FORMAT", "fail", "the archive is damaged: member disk.raw is cut short"),
    ({"format": "pax", "problems": ["member disk.raw is cut short: the archive is truncated"]},
     "IMG-ARCHIVE_TAR_FORMAT", "fail", "not GNU (oldgnu); and the archive is damaged: member disk.raw is cut short"),
])
def test_archive_rules(change, rid, status, words):
    facts = good_bios()
    facts["archive"] = archive(**change)
    result = judge(facts)[rid]
    assert result["status"] == status and words in result["message"], result["message"]


def test_only_the_archive_read():
    facts = {"input": {"path": "x.tar.gz", "format": "raw", "virtual_size": GIB, "block_device": False},
             "archive": archive(), "inspected": False, "not_inspected": "audit_archive_contents is false"}
    results = judge(facts, {})
    assert results["IMG-ARCHIVE_MEMBER"]["status"] == "pass" and results["IMG-DISK_SIZE"]["status"] == "pass"
    assert results["IMG-BIOS_BOOT"]["status"] == "unknown"
    assert "audit_archive_contents" in results["IMG-ROOT_FILESYSTEM"]["message"]


def test_waivers_and_qcow2_input():
    facts = good_bios()
    facts["input"]["format"] = "qcow2"
    facts["boot"]["bios"]["boot_code"] = {"present": False}
    results = dict((r["id"], r) for r in imagecheck.evaluate(
        facts, requirements("image"), {"IMG-BIOS_BOOT": "booted by the platform's own loader"}, linked()))
    assert results["IMG-BIOS_BOOT"]["status"] == "waived"
    assert results["IMG-DISK_RAW"]["status"] == "not-applicable" and "converts it" in results["IMG-DISK_RAW"]["message"]


def test_guest_os_features_need_their_conditions():
    facts = good_bios()
    results = list(judge(facts).values())
    assert imagecheck.guest_os_features(facts, results) == [
        ("VIRTIO_SCSI_MULTIQUEUE", "kernel 6.1.0 (3.17 or later) with virtio_scsi at boot")]
    old = copy.deepcopy(facts)
    old["boot"]["release"] = "3.16.0-4-amd64"
    assert imagecheck.guest_os_features(old, results) == []
    gvnic = imagecheck.guest_os_features(facts, results, gvnic="gve module")
    assert ("GVNIC", "gve module") in gvnic
    failing = list(judge(facts, linked("module-missing-from-initramfs")).values())
    assert imagecheck.guest_os_features(facts, failing) == []


def lvm_root():
    """What the worker gathers when the root is an LVM volume: no root mounted, no boot menu read."""
    facts = uefi_only()
    facts["table"]["partitions"][1]["filesystem"] = {"type": "LVM2_member", "uuid": None, "mountable": False}
    facts.update(root=None, fstab=None, root_status="unsupported",
                 root_problem="the root filesystem is not on a plain partition: found an LVM physical volume")
    facts.pop("arch")
    facts["boot"] = {"bios": facts["boot"]["bios"], "esp": facts["boot"]["esp"], "menu": None}
    return facts


def test_a_root_that_was_not_mounted_leaves_what_needs_it_unknown():
    results = judge(lvm_root(), {})
    assert results["IMG-ROOT_FILESYSTEM"]["status"] == "unsupported"
    for rid in ("IMG-FSTAB_STABLE_ID", "IMG-CMDLINE_ROOT_ID", "IMG-BOOT_ENTRY", "IMG-VIRTIO_DRIVERS"):
        assert results[rid]["status"] == "unknown", (rid, results[rid]["message"])
    assert "root filesystem" in results["IMG-BOOT_ENTRY"]["message"]
    # what the raw disk shows is still judged
    assert results["IMG-UEFI_BOOT"]["status"] == "pass" and results["IMG-PARTITION_TABLE"]["status"] == "pass"


def arm64(loaders):
    facts = uefi_only()
    facts["boot"]["esp"].update(loader=None, loaders=loaders, efi_files=sorted(v["path"] for v in loaders.values()))
    facts["arch"] = "arm64"
    return facts


AA64 = {"BOOTAA64.EFI": {"path": "EFI/BOOT/BOOTAA64.EFI", "machine": "arm64"}}


def test_arm64_is_judged_by_its_own_removable_path():
    # the worker learns an image is arm64 from its kernel_config only after the ESP was read
    results = judge(arm64(AA64))
    assert results["IMG-UEFI_BOOT"]["status"] == "pass", results["IMG-UEFI_BOOT"]["message"]
    assert "BOOTAA64.EFI" in results["IMG-UEFI_BOOT"]["message"]
    assert ("UEFI_COMPATIBLE", results["IMG-UEFI_BOOT"]["message"]) in imagecheck.guest_os_features(
        arm64(AA64), list(results.values()))


def test_arm64_boots_with_uefi_only():
    results = judge(arm64({"BOOTX64.EFI": {"path": "EFI/BOOT/BOOTX64.EFI", "machine": "x86_64"}}))
    assert results["IMG-UEFI_BOOT"]["status"] == "fail" and "BOOTAA64.EFI" in results["IMG-UEFI_BOOT"]["message"]
    bios = results["IMG-BIOS_BOOT"]
    assert bios["status"] == "not-applicable" and "i386-pc" not in bios["remediation"], bios
    facts = arm64(AA64)
    facts["boot"]["esp"] = None
    facts["table"]["kind"] = "mbr"
    results = judge(facts)
    assert results["IMG-UEFI_BOOT"]["status"] == "fail" and "UEFI" in results["IMG-UEFI_BOOT"]["message"]
    assert results["IMG-BIOS_BOOT"]["status"] == "not-applicable"


@pytest.mark.parametrize("names,arch", [
    (["BOOTAA64.EFI"], "arm64"), (["BOOTX64.EFI"], "x86_64"), (["BOOTX64.EFI", "BOOTAA64.EFI"], None), ([], None)])
def test_the_architecture_an_esp_shows(names, arch):
    esp = {"loaders": dict((n, {"path": "EFI/BOOT/" + n, "machine": None}) for n in names)}
    assert bootconfig.esp_arch(esp) == arch
    assert bootconfig.esp_arch(None) is None


def uki_default(has_linux=True, has_initrd=True):
    """A UEFI image whose default entry is systemd-boot's type #2 entry, a UKI on the ESP."""
    facts = uefi_only()
    boot = facts["boot"]
    boot["menu"] = {"config": "ESP /EFI/Linux", "kind": "bls", "error": None, "note": None,
                    "default": {"title": "Fedora Linux 41", "kernel": "/EFI/Linux/fedora.efi", "uki": "/EFI/Linux/fedora.efi",
                                "type": 2, "initrd": [], "args": "root=UUID=%s ro console=ttyS0" % ROOT_UUID}}
    boot["kernel_file"] = {"path": "/EFI/Linux/fedora.efi", "exists": True, "found": "ESP /EFI/Linux/fedora.efi",
                           "uki": True, "has_linux": has_linux, "has_initrd": has_initrd}
    boot["initrd_files"] = []
    boot["release"] = "6.11.4-301.fc41.x86_64"
    return facts


def test_a_uki_default_entry_is_its_own_kernel_and_initramfs():
    """The default entry is a UKI: it carries its kernel and initramfs (.linux, .initrd), no separate
    initramfs is looked for; one with no .linux boots nothing (the old code passed it, saying "no
    initramfs: the kernel's drivers must be built in")."""
    result = judge(uki_default())["IMG-BOOT_ENTRY"]
    assert result["status"] == "pass" and result["message"] == (
        "default entry 'Fedora Linux 41': ESP /EFI/Linux/fedora.efi, a unified kernel image carrying its kernel and its "
        "initramfs (.linux, .initrd sections)"), result
    result = judge(uki_default(has_initrd=False))["IMG-BOOT_ENTRY"]
    assert result["status"] == "pass" and "no initramfs (no .initrd section" in result["message"], result
    result = judge(uki_default(has_linux=False))["IMG-BOOT_ENTRY"]
    assert result["status"] == "fail" and "with no kernel in it (no .linux section)" in result["message"], result
    assert judge(uki_default())["IMG-CMDLINE_ROOT_ID"]["status"] == "pass"


X86_64_ROOT = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"


def gpt_auto(root_type=X86_64_ROOT, name="", no_auto=False, loaders=("BOOTX64.EFI",), args="ro console=ttyS0"):
    """A UKI default entry whose command line has no root= on a disk whose root partition has ``root_type``."""
    facts = uki_default()
    facts["boot"]["menu"]["default"]["args"] = args
    facts["boot"]["esp"]["loaders"] = dict((loader, {"path": "EFI/BOOT/" + loader}) for loader in loaders)
    facts["table"]["partitions"][1].update(type=root_type, name=name, no_auto=no_auto)
    return facts


def test_no_root_argument_is_gpt_auto_s_root_partition_unknown_as_the_initrd_is_not_read():
    """systemd-gpt-auto-generator (udev-builtin-blkid.c find_gpt_root()) mounts the partition of the
    architecture's DPS root type when root= is missing and systemd-boot or systemd-stub set
    LoaderDevicePartUUID; it runs only in a systemd initrd, not read here: unknown, saying so (the old
    code failed "no root=")."""
    result = judge(gpt_auto())["IMG-CMDLINE_ROOT_ID"]
    assert result["status"] == "unknown", result
    assert result["message"].endswith("has no root= on its kernel command line ('ro console=ttyS0'); systemd-gpt-auto-generator "
                                      "finds the root filesystem, partition 2, by its type %s (Discoverable Partitions "
                                      "Specification) when the initrd runs systemd, which is not read here" % X86_64_ROOT), result
    assert result["evidence"]["gpt_auto_root"] == 2
    assert judge(gpt_auto(args="root=gpt-auto ro"))["IMG-CMDLINE_ROOT_ID"]["status"] == "unknown"


@pytest.mark.parametrize("change, words", [
    (dict(root_type="0FC63DAF-8483-4772-8E79-3D69D8477DE4"), "no partition has the root partition type of x86_64"),
    (dict(loaders=("BOOTAA64.EFI",)), "no partition has the root partition type of arm64"),
    (dict(no_auto=True), "no partition has the root partition type"),   # SD_GPT_FLAG_NO_AUTO
])
def test_no_root_argument_without_gpt_auto_s_root_partition_fails(change, words):
    result = judge(gpt_auto(**change))["IMG-CMDLINE_ROOT_ID"]
    assert result["status"] == "fail" and "has no root=" in result["message"] and words in result["message"], result


def test_gpt_auto_s_root_is_the_newest_label_and_grub_sets_no_loader_partition():
    facts = gpt_auto(name="root-1")
    facts["table"]["partitions"].append(dict(facts["table"]["partitions"][1], number=3, name="root-2"))
    result = judge(facts)["IMG-CMDLINE_ROOT_ID"]
    assert result["status"] == "fail" and "would mount partition 3 (its root partition type), not the root filesystem " \
        "(partition 2)" in result["message"], result
    facts = gpt_auto()
    facts["boot"]["menu"] = dict(facts["boot"]["menu"], kind="grub", config="/boot/grub/grub.cfg",
                                 default=dict(facts["boot"]["menu"]["default"], type=None, uki=None))
    result = judge(facts)["IMG-CMDLINE_ROOT_ID"]
    assert result["status"] == "fail" and "GRUB, which does not set the EFI variable LoaderDevicePartUUID" in result["message"], result


def test_a_uki_line_naming_a_file_not_read_as_a_uki_is_unknown():
    """A type #1 entry's uki line names a file whose PE sections could not be read (bootconfig.uki_line_entry:
    has_linux None): what it carries is unknown, not "no kernel in it" (the old code failed it so)."""
    result = judge(uki_default(has_linux=None, has_initrd=None))["IMG-BOOT_ENTRY"]
    assert result["status"] == "unknown" and result["message"].endswith("a unified kernel image whose sections could not be read"), result


def test_a_driver_judged_missing_from_an_initramfs_not_found_is_unknown_under_a_uki():
    """kernel_config looks for the release's initramfs in the tree; the UKI on an ESP the tree does not
    mount is out of its reach: "missing from the initramfs" is then unknown, saying why, not a fail."""
    missing = dict((rid, dict(r, initramfs={"path": None, "method": None, "error": "no initramfs of x found"}, message="m"))
                   for rid, r in linked("module-missing-from-initramfs").items())
    facts = uki_default()
    adjusted = dict((rid, imagecheck.uki_initramfs_unread(facts["boot"], r)) for rid, r in missing.items())
    assert set(r["status"] for r in adjusted.values()) == {"unknown"}
    assert adjusted["KCONF-SCSI_VIRTIO"]["message"].startswith(
        "m; but the default entry boots the unified kernel image ESP /EFI/Linux/fedora.efi, which carries its initramfs in its .initrd section")
    assert judge(facts, adjusted)["IMG-VIRTIO_DRIVERS"]["status"] == "unknown"
    # the initramfs was found and read (the ESP mounted): its verdict stands; so it does without a UKI
    read = dict((rid, dict(r, initramfs={"path": "/boot/efi/EFI/Linux/fedora.efi"})) for rid, r in missing.items())
    assert imagecheck.uki_initramfs_unread(facts["boot"], read["KCONF-SCSI_VIRTIO"]) is read["KCONF-SCSI_VIRTIO"]
    assert imagecheck.uki_initramfs_unread(good_bios()["boot"], missing["KCONF-SCSI_VIRTIO"]) is missing["KCONF-SCSI_VIRTIO"]
    assert imagecheck.uki_initramfs_unread(uki_default(has_initrd=False)["boot"], missing["KCONF-SCSI_VIRTIO"])["status"] == \
        "module-missing-from-initramfs"
