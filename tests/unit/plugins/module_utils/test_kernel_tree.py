"""The default kernel of a tree, the one answer both the kernel_config and
the hardware area judge (kernel_tree), on distribution layouts."""

import os

import pytest

from ansible_collections.guestready.gce.plugins.module_utils import devices, kconfig, kernel_tree, modalias
from ansible_collections.guestready.gce.plugins.module_utils.target import Target
import trees

RHEL90, RHEL94 = trees.RHEL90, trees.RHEL94
GENERIC = "6.1.0-50-amd64"


@pytest.mark.parametrize("older,newer", [
    (RHEL90, RHEL94),
    ("5.14.0-427.13.1.el9_4.x86_64", "5.14.0-427.13.1.el9_10.x86_64"),  # rpm compares 10 and 4 as numbers
    ("5.14.0-70.el9.x86_64", "5.14.0-70.13.1.el9_0.x86_64"),
    ("6.1.0-9-amd64", "6.1.0-10-amd64"),
    ("6.1.0-rc1", "6.1.0-28"),
    ("6.6.31-0-lts", "6.6.31-1-lts"),
    # installkernel keeps the kernel it replaces as R.old: grub ranks it just below R
    ("6.6.0.old", "6.6.0"),
    ("6.5.0", "6.6.0.old"),
    ("6.6.0-rc1.old", "6.6.0-rc1"),
    # a debug kernel is never the default one (RHEL's and Fedora's grub: below every other kernel)
    ("5.14.0-427.13.1.el9_4.x86_64+debug", "5.14.0-427.13.1.el9_4.x86_64"),
    ("5.14.0-503.el9.x86_64+debug", "5.14.0-427.13.1.el9_4.x86_64"),
    ("3.10.0-1160.el7.x86_64.debug", "3.10.0-1160.el7.x86_64"),
])
def test_release_order_is_rpms(older, newer):
    assert kernel_tree.release_key(older) < kernel_tree.release_key(newer)
    assert sorted([newer, older], key=kernel_tree.release_key) == [older, newer]


def rhel9(tmp_path):
    return tmp_path / trees.rhel9(tmp_path / "rhel9")


def debian(tmp_path, releases=("6.1.0-9-amd64", "6.1.0-10-amd64")):
    root = tmp_path / "debian"
    for release in releases:
        trees.install(str(root), GENERIC, directory=str(root / "lib" / "modules" / release))
        os.rename(str(root / "boot" / ("config-" + GENERIC)), str(root / "boot" / ("config-" + release)))
        (root / "boot" / ("vmlinuz-" + release)).write_text("kernel")
    return root


def hardware_release(root):
    params = dict((name, None) for name in devices.ARGUMENT_SPEC)
    params.update(root=str(root), sysfs_root="/sys")
    return devices.select_kernel(params)[0]


def test_rhel9_tree_defaults_to_the_newest_build(tmp_path):
    root = rhel9(tmp_path)
    target = Target(str(root))
    assert [release for release, dummy in kconfig.installed_configs(target)] == [RHEL90, RHEL94]
    assert kernel_tree.default_release(target) == RHEL94
    assert hardware_release(root) == RHEL94


def test_debian_tree_defaults_to_the_newest_abi(tmp_path):
    root = debian(tmp_path)
    target = Target(str(root))
    assert [release for release, dummy in kconfig.installed_configs(target)] == ["6.1.0-9-amd64", "6.1.0-10-amd64"]
    assert kernel_tree.default_release(target) == "6.1.0-10-amd64"
    assert hardware_release(root) == "6.1.0-10-amd64"


def test_the_vmlinuz_link_wins_over_a_leftover_dkms_directory(tmp_path):
    # Debian's /vmlinuz names the booted kernel; a removed newer kernel left
    # only lib/modules/6.1.0-60-amd64/updates/dkms behind: no kernel there
    root = debian(tmp_path, releases=("6.1.0-50-amd64",))
    os.symlink("boot/vmlinuz-6.1.0-50-amd64", str(root / "vmlinuz"))
    leftover = root / "lib" / "modules" / "6.1.0-60-amd64" / "updates" / "dkms"
    leftover.mkdir(parents=True)
    (leftover / "foo.ko").write_text("x")
    target = Target(str(root))
    assert kernel_tree.tree_releases(target) == ["6.1.0-50-amd64"]
    assert hardware_release(root) == "6.1.0-50-amd64"
    # without the link the leftover still is no kernel
    os.unlink(str(root / "vmlinuz"))
    assert hardware_release(root) == "6.1.0-50-amd64"
    assert modalias.installed_releases(target)[0] == "6.1.0-60-amd64"  # listed, never chosen


def test_a_reinstalled_kernels_old_copy_is_not_the_default(tmp_path):
    # `make install` of a release already in /boot: installkernel renames the
    # files it replaces to vmlinuz-R.old and config-R.old (no modules of R.old)
    root = debian(tmp_path, releases=("6.6.0",))
    for name in ("vmlinuz", "config"):
        os.link(str(root / "boot" / ("%s-6.6.0" % name)), str(root / "boot" / ("%s-6.6.0.old" % name)))
    target = Target(str(root))
    assert kernel_tree.tree_releases(target) == ["6.6.0.old", "6.6.0"]
    assert kernel_tree.default_release(target) == "6.6.0"
    assert hardware_release(root) == "6.6.0"
    assert [release for release, dummy in kconfig.installed_configs(target)] == ["6.6.0.old", "6.6.0"]


def test_a_debug_kernel_is_not_the_default(tmp_path):
    root = rhel9(tmp_path)
    debug = RHEL94 + "+debug"
    trees.install(str(root), "6.1.0-50-amd64", directory=str(root / "lib" / "modules" / debug), skip=("config",))
    os.link(str(root / "boot" / ("config-" + RHEL94)), str(root / "boot" / ("config-" + debug)))
    (root / "boot" / ("vmlinuz-" + debug)).write_text("kernel")
    target = Target(str(root))
    assert kernel_tree.default_release(target) == RHEL94
    assert hardware_release(root) == RHEL94
    assert modalias.installed_releases(target)[0] == RHEL94
