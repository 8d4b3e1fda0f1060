# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
import os

import fakedisks

from ansible_collections.guestready.gce.plugins.module_utils import bootdisk


def cis(tmp_path, root="sda2"):
    """A CIS-style disk: /, /home, /var/log/audit on sda, a data disk sdb, /home on LVM over sda5."""
    paths = fakedisks.build(
        str(tmp_path), {"sda": [(1, "8:1"), (2, "8:2"), (5, "8:5"), (6, "8:6")], "sdb": [(1, "8:17")]},
        mappers={"dm-0": ("253:0", ["sda5"]), "dm-1": ("253:1", ["sda6", "sdb1"])}, root=root,
        links={"disk/by-uuid/aaaa": "sda2", "disk/by-uuid/bbbb": "sdb1", "disk/by-partuuid/p-5": "sda5",
               "disk/by-label/audit\\x20log": "sda6", "mapper/vg-home": "dm-0", "mapper/vg-span": "dm-1",
               "disk/by-id/google-persistent-disk-0-part2": "sda2"})
    return bootdisk.BootDisk(*paths)


def test_entries_on_the_root_filesystems_disk_are_the_boot_disks_own(tmp_path):
    disks = cis(tmp_path)
    assert disks.root_disks() == {"sda"}
    for spec in ("UUID=aaaa", "PARTUUID=p-5", "LABEL=audit log", "/dev/mapper/vg-home", "/dev/sda6",
                 "/dev/disk/by-id/google-persistent-disk-0-part2"):
        assert disks.on_boot_disk(spec), spec
    # another disk, a volume spanning both, and names nothing resolves: not proven
    for spec in ("UUID=bbbb", "/dev/sdb1", "/dev/mapper/vg-span", "UUID=cccc", "LABEL=", "/dev/../etc/passwd",
                 "server:/export", "tmpfs"):
        assert not disks.on_boot_disk(spec), spec
    assert disks.spec_disks("/dev/mapper/vg-span") == {"sda", "sdb"}


def test_a_tags_quotes_are_taken_off_as_systemd_takes_them_off(tmp_path):
    """fstab_node_to_udev_node unquotes one matching pair of " or ': LABEL="audit log is the
    link by-label/\x22audit\x20log, which never appears; strip('"') proved it the boot disk's."""
    disks = cis(tmp_path)
    for spec in ("LABEL='audit log'", 'LABEL="audit log"', 'UUID="aaaa"'):
        assert disks.on_boot_disk(spec), spec
    for spec in ('LABEL="audit log', 'UUID=aaaa"', 'UUID=""aaaa""', "UUID='aaaa\""):
        assert not disks.on_boot_disk(spec), spec


def test_a_tags_link_is_named_as_udev_encodes_it():
    """encode_devnode_name(): valid UTF-8 kept, but not the characters systemd's
    unichar_is_valid() refuses (noncharacters), nor bytes that are not UTF-8; tags
    in upper case only (what systemd-fstab-generator writes as What=)."""
    assert bootdisk.tag_link("LABEL=caf\xe9 1") == "/dev/disk/by-label/caf\xe9\\x201"
    assert bootdisk.tag_link("PARTLABEL=a\ufdd0\U0001fffe\U0001f600") == \
        "/dev/disk/by-partlabel/a\\xef\\xb7\\x90\\xf0\\x9f\\xbf\\xbe\U0001f600"
    assert bootdisk.tag_link("UUID=\udce9\\") == "/dev/disk/by-uuid/\\xe9\\x5c"
    assert bootdisk.tag_link("uuid=aaaa") is None and bootdisk.tag_link("/dev/sda1") is None


def test_root_on_lvm_follows_the_slaves_to_the_disk(tmp_path):
    disks = cis(tmp_path, root="dm-0")
    assert disks.root_disks() == {"sda"} and disks.on_boot_disk("UUID=aaaa") and not disks.on_boot_disk("/dev/sdb1")


def test_a_root_that_is_no_block_device_proves_nothing(tmp_path):
    # btrfs subvolumes and overlays have anonymous device numbers (0:NN) sysfs does not list
    disks = cis(tmp_path, root="0:31")
    assert disks.root_disks() is None and not disks.on_boot_disk("UUID=aaaa")
    missing = bootdisk.BootDisk(str(tmp_path / "sys"), str(tmp_path / "dev"), str(tmp_path / "nothing"))
    assert missing.root_disks() is None and not missing.on_boot_disk("UUID=aaaa")


def test_mountinfo_paths_are_read_as_the_kernel_writes_them(tmp_path):
    """proc(5): a path's space, tab, newline and backslash are written as
    \\ooo; any other byte is itself, UTF-8 or not (a mount point named in
    Latin-1 made every root_disks() a UnicodeDecodeError)."""
    sys_root, dev, mountinfo = fakedisks.build(str(tmp_path), {"sda": [(1, "8:1"), (2, "8:2")]}, root="sda2")
    with open(mountinfo, "ab") as handle:
        handle.write(b"40 1 8:1 / /media/caf\xe9\\040cl\303\251\\134 rw - vfat /dev/sda1 rw\n"
                     b"41 1 0:50 / /srv\\011x rw - tmpfs tmpfs rw\n")
    assert bootdisk.mounts(mountinfo)[-2:] == [("8:1", os.fsdecode(b"/media/caf\xe9 cl\xc3\xa9\\")), ("0:50", "/srv\tx")]
    assert bootdisk.BootDisk(sys_root, dev, mountinfo).root_disks() == {"sda"}


# ---------------------------------------------------------------- a disk image's own partitions

def cis_image(tmp_path, table="gpt"):
    """A real CIS-style disk image's partitions as the disk_image worker reads them (no root needed)."""
    from disktools import cis_disk
    from ansible_collections.guestready.gce.plugins.module_utils import imagefile, partitions
    with partitions.Disk(cis_disk(tmp_path, table)) as raw:
        return imagefile._partitions_with_filesystems(raw, partitions.read_table(raw))


def test_an_images_own_partitions_are_its_boot_disks_by_every_name_udev_gives_them(tmp_path):
    """On Compute Engine the whole image becomes the boot disk: an fstab entry naming one of its
    partitions needs no nofail, as on a live system.  Names as blkid gives them to udev (the links
    systemd's fstab generator waits for): FAT's UUID in upper case, ext4's and GPT's in lower case."""
    from disktools import blkid
    parts = cis_image(tmp_path)
    disk = bootdisk.ImageDisk(parts)
    audit = blkid(str(tmp_path / "disk.raw"), parts[2]["start"])
    esp = blkid(str(tmp_path / "disk.raw"), parts[0]["start"])
    partuuid = parts[2]["uuid"].lower()
    assert audit["LABEL"].replace("\\ ", " ") == "audit log" and esp["UUID"] == esp["UUID"].upper() and "-" in esp["UUID"]
    assert disk.root_disks() == {bootdisk.IMAGE}
    for spec in ("UUID=" + audit["UUID"], 'UUID="%s"' % audit["UUID"], "LABEL=audit log", "PARTLABEL=audit",
                 "PARTUUID=" + partuuid, "UUID=" + esp["UUID"], "/dev/disk/by-uuid/" + audit["UUID"],
                 "/dev/disk/by-label/audit\\x20log", "/dev/disk/by-partuuid/" + partuuid,
                 "/dev/disk/by-partlabel/audit"):
        assert disk.spec_disks(spec) == {bootdisk.IMAGE} and disk.on_boot_disk(spec), spec
    # another disk's: named by what is none of the image's partitions
    for spec in ("UUID=0b4e7c1d-3c0f-4d43-9b0a-2d6c2e1f9a11", "LABEL=data", "PARTLABEL=data", "/dev/disk/by-label/\\xff\udcff",
                 "PARTUUID=" + partuuid[:-1] + ("0" if partuuid[-1] != "0" else "1"),
                 "/dev/disk/by-uuid/0b4e7c1d-3c0f-4d43-9b0a-2d6c2e1f9a11",
                 # the udev link systemd waits for is named in blkid's case: these never appear
                 "UUID=" + esp["UUID"].lower(), "PARTUUID=" + partuuid.upper(), "UUID=" + audit["UUID"].upper(),
                 "LABEL=AUDIT LOG"):
        assert disk.spec_disks(spec) == set() and not disk.on_boot_disk(spec), spec
    # kernel names, device-mapper, hardware names, tags systemd does not read: not proven either way
    for spec in ("/dev/sda3", "/dev/vda3", "/dev/nvme0n1p3", "/dev/mapper/vg-home", "/dev/disk/by-id/google-x-part3",
                 "uuid=" + audit["UUID"], "UUID=", "/dev/disk/by-uuid/", "server:/export", "/dev/disk/by-uuid/../../sda3"):
        assert disk.spec_disks(spec) is None and not disk.on_boot_disk(spec), spec


def test_a_link_name_udev_makes_for_no_value_is_no_partition_of_the_image():
    """udev escapes only what it must (udev_encode_string: lower-case \\xNN): an fstab
    link with any other escape names a link that never appears (systemd waits for it
    and fails the boot without nofail); it was unescaped and taken as the image's."""
    from ansible_collections.guestready.gce.plugins.module_utils import filesystems
    disk = bootdisk.ImageDisk([{"number": 1, "uuid": "0FC63DAF-8483-4772-8E79-3D69D8477DE4", "name": "a/b",
                                "filesystem": filesystems._result("ext4", "2f1e5c2a-0000-4000-8000-000000000001",
                                                                  label="AA")}])
    for spec in ("/dev/disk/by-label/AA", "/dev/disk/by-partlabel/a\\x2fb", "LABEL=AA", "PARTLABEL=a/b"):
        assert disk.spec_disks(spec) == {bootdisk.IMAGE}, spec
    for spec in ("/dev/disk/by-label/A\\x41", "/dev/disk/by-label/\\x41A", "/dev/disk/by-partlabel/a\\x2Fb",
                 "/dev/disk/by-partlabel/a/b", "/dev/disk/by-label/AA\\x00", "/dev/disk/by-label/\\xff",
                 "/dev/disk/by-label/\\x", "/dev/disk/by-label/" + "\\x41" * 100000, "/dev/disk/by-label/\ud800"):
        assert disk.spec_disks(spec) in (set(), None) and not disk.on_boot_disk(spec), spec[:40]
    for spec in ("UUID=", "=", "=x", "UUID=\"\"", "/dev/disk/by-uuid/", "/dev/disk/", "/dev/disk/by-uuid/\\x00",
                 "LABEL=" + "A" * 100000, "/dev/disk/by-label/" + "A" * 100000):
        assert not disk.on_boot_disk(spec), spec[:40]


def test_an_mbr_images_partuuids_are_its_disk_id_and_number(tmp_path):
    disk = bootdisk.ImageDisk(cis_image(tmp_path, "0x1234abcd"))
    assert disk.on_boot_disk("PARTUUID=1234abcd-03") and disk.on_boot_disk("PARTUUID=1234abcd-02")
    assert disk.spec_disks("PARTUUID=1234abcd-04") == set() and not disk.on_boot_disk("PARTUUID=1234ABCD-03")
    # a zero disk ID gives no PARTUUID (libblkid's blkid_partition_gen_uuid): no link to wait for
    assert not bootdisk.ImageDisk(cis_image(tmp_path, "0")).on_boot_disk("PARTUUID=00000000-03")


def test_a_container_in_the_image_hides_the_names_of_what_it_holds():
    from ansible_collections.guestready.gce.plugins.module_utils import filesystems
    parts = [{"number": 1, "uuid": "0FC63DAF-8483-4772-8E79-3D69D8477DE4", "name": "root",
              "filesystem": filesystems._result("ext4", "2f1e5c2a-0000-4000-8000-000000000001")},
             {"number": 2, "uuid": "5D2E3C0B-8B6E-4A0E-9C55-2A7E1B7C0D12", "name": "lvm",
              "filesystem": filesystems._result("LVM2_member", "pvid", group="vg")}]
    disk = bootdisk.ImageDisk(parts)
    assert disk.on_boot_disk("UUID=2f1e5c2a-0000-4000-8000-000000000001")
    # an LV's filesystem may well be on the image: not told; the partition table is read whole
    assert disk.spec_disks("UUID=3a9c0d1e-0000-4000-8000-000000000002") is None
    assert disk.spec_disks("LABEL=home") is None and not disk.on_boot_disk("UUID=pvid")
    assert disk.spec_disks("PARTLABEL=data") == set() and disk.on_boot_disk("PARTLABEL=lvm")
