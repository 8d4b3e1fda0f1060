# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
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


def test_root_on_lvm_follows_the_slaves_to_the_disk(tmp_path):
    disks = cis(tmp_path, root="dm-0")
    assert disks.root_disks() == {"sda"} and disks.on_boot_disk("UUID=aaaa") and not disks.on_boot_disk("/dev/sdb1")


def test_a_root_that_is_no_block_device_proves_nothing(tmp_path):
    # btrfs subvolumes and overlays have anonymous device numbers (0:NN) sysfs does not list
    disks = cis(tmp_path, root="0:31")
    assert disks.root_disks() is None and not disks.on_boot_disk("UUID=aaaa")
    missing = bootdisk.BootDisk(str(tmp_path / "sys"), str(tmp_path / "dev"), str(tmp_path / "nothing"))
    assert missing.root_disks() is None and not missing.on_boot_disk("UUID=aaaa")
