"""The default kernel of a tree, the one answer both the kernel_config and
the hardware area judge (kernel_tree), on distribution layouts."""

import os
import shutil

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
    # rpmvercmp: '~' sorts before the end (dpkg and sort -V too), '^' after it but before anything else
    ("6.1.0~rc1", "6.1.0"),
    ("6.1.0~rc1", "6.1.0~rc2"),
    ("6.1.0", "6.1.0^1"),
    ("6.1.0^1", "6.1.0.1"),
    ("6.1.0^1", "6.1.0a"),
    # every other character separates
    ("6.1.0-9%amd64", "6.1.0-10%amd64"),
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


GRUBENV = "# GRUB Environment Block\nsaved_entry=%s\n"
DEBIAN_GRUB_CFG = """set default="%s"
menuentry 'Debian GNU/Linux' --class debian $menuentry_id_option 'gnulinux-simple-1234' {
\tlinux\t/boot/vmlinuz-6.1.0-10-amd64 root=UUID=1234 ro
}
submenu 'Advanced options for Debian GNU/Linux' $menuentry_id_option 'gnulinux-advanced-1234' {
\tmenuentry 'Debian GNU/Linux, with Linux 6.1.0-10-amd64' $menuentry_id_option 'gnulinux-6.1.0-10-amd64-advanced-1234' {
\t\tlinux\t/boot/vmlinuz-6.1.0-10-amd64 root=UUID=1234 ro
\t}
\tmenuentry 'Debian GNU/Linux, with Linux 6.1.0-9-amd64' $menuentry_id_option 'gnulinux-6.1.0-9-amd64-advanced-1234' {
\t\tlinux\t/boot/vmlinuz-6.1.0-9-amd64 root=UUID=1234 ro
\t}
}
"""


@pytest.mark.parametrize("default,saved", [
    ("1>1", None),                                       # GRUB_DEFAULT="1>1"
    ("saved", "gnulinux-advanced-1234>gnulinux-6.1.0-9-amd64-advanced-1234"),   # grub-set-default
    ("saved", "Advanced options for Debian GNU/Linux>Debian GNU/Linux, with Linux 6.1.0-9-amd64"),
])
def test_the_boot_menus_default_entry_is_the_default_kernel(tmp_path, default, saved):
    """GRUB boots the entry ``set default`` (or grubenv's saved_entry) names,
    an older kernel than the newest installed: that one is judged, as for a
    disk image (imagefile.gather_boot), and the choice says why."""
    root = debian(tmp_path)
    (root / "boot" / "grub").mkdir()
    (root / "boot" / "grub" / "grub.cfg").write_text(DEBIAN_GRUB_CFG % default)
    if saved:
        (root / "boot" / "grub" / "grubenv").write_text(GRUBENV % saved)
    os.symlink("boot/vmlinuz-6.1.0-10-amd64", str(root / "vmlinuz"))
    target = Target(str(root))
    release, why = kernel_tree.default_kernel(target)
    assert release == "6.1.0-9-amd64" and why.startswith("the boot menu's default entry (")
    assert hardware_release(root) == "6.1.0-9-amd64"
    # a default that names a kernel no longer installed is no answer (the /vmlinuz link is), and a
    # saved_entry that names no entry makes GRUB boot the first one
    (root / "boot" / "grub" / "grub.cfg").write_text((DEBIAN_GRUB_CFG % default).replace("6.1.0-9-", "6.1.0-8-"))
    assert kernel_tree.default_kernel(target)[0] == "6.1.0-10-amd64"


def test_a_bls_saved_entry_is_the_default_kernel(tmp_path):
    # RHEL 9: grub.cfg runs blscfg, grubby --set-default writes the entry's id to saved_entry
    root = rhel9(tmp_path)
    (root / "boot" / "grub2").mkdir()
    (root / "boot" / "grub2" / "grub.cfg").write_text(
        'if [ -z "${saved_entry}" ]; then\n  set default="${saved_entry}"\nfi\nblscfg\n')
    entries = root / "boot" / "loader" / "entries"
    entries.mkdir(parents=True)
    for release in (RHEL90, RHEL94):
        (entries / ("0123abcd-%s.conf" % release)).write_text(
            "title Red Hat Enterprise Linux (%s)\nversion %s\nlinux /vmlinuz-%s\n" % (release, release, release))
    target = Target(str(root))
    assert kernel_tree.default_kernel(target)[0] == RHEL94     # no saved entry: the newest entry
    (root / "boot" / "grub2" / "grubenv").write_text(GRUBENV % ("0123abcd-" + RHEL90))
    assert kernel_tree.default_kernel(target)[0] == RHEL90
    assert hardware_release(root) == RHEL90
    assert kernel_tree.default_kernel(target, running=RHEL94) == (RHEL94, "the running kernel")


def test_a_menu_entry_named_by_flavor_is_no_release(tmp_path):
    # Alpine's grub.cfg boots /boot/vmlinuz-virt: a flavor, not a release
    root = tmp_path / "alpine"
    (root / "boot" / "grub").mkdir(parents=True)
    (root / "boot" / "grub" / "grub.cfg").write_text("menuentry 'Alpine' {\nlinux /boot/vmlinuz-virt\n}\n")
    (root / "boot" / "vmlinuz-virt").write_text("kernel")
    (root / "lib" / "modules" / "6.6.31-0-virt").mkdir(parents=True)
    (root / "lib" / "modules" / "6.6.31-0-virt" / "modules.dep").write_text("")
    assert kernel_tree.default_kernel(Target(str(root))) == ("6.6.31-0-virt", "the newest installed kernel")


def test_a_kernel_install_entry_is_told_by_its_version(tmp_path):
    # kernel-install (Fedora's systemd-boot layout) names the kernel <token>/<release>/linux
    root = rhel9(tmp_path)
    (root / "boot" / "grub2").mkdir()
    (root / "boot" / "grub2" / "grub.cfg").write_text("blscfg\n")
    (root / "boot" / "grub2" / "grubenv").write_text(GRUBENV % ("0123abcd-" + RHEL90))
    entries = root / "boot" / "loader" / "entries"
    entries.mkdir(parents=True)
    for release in (RHEL90, RHEL94):
        (entries / ("0123abcd-%s.conf" % release)).write_text(
            "title Linux %s\nversion %s\nlinux /0123abcd/%s/linux\n" % (release, release, release))
    assert kernel_tree.default_kernel(Target(str(root))) == (RHEL90, "the boot menu's default entry (Linux %s)" % RHEL90)


def test_a_configuration_alone_is_not_the_default_kernel(tmp_path):
    # /boot/config-R with no kernel image and no modules of R boots nothing: the newest kernel that
    # does is the default (it was the stray configuration, judged as the tree's kernel)
    root = debian(tmp_path)
    (root / "boot" / "config-6.1.0-99-amd64").write_text("CONFIG_X86_64=y\n")
    target = Target(str(root))
    assert kernel_tree.default_kernel(target) == ("6.1.0-10-amd64", "the newest installed kernel")
    assert hardware_release(root) == "6.1.0-10-amd64"
    assert kconfig.find_config("6.1.0-10-amd64", target)[0] == "/boot/config-6.1.0-10-amd64"
    # with nothing but configurations, the newest configuration still is
    for name in os.listdir(str(root / "boot")):
        if not name.startswith("config-"):
            os.unlink(str(root / "boot" / name))
    shutil.rmtree(str(root / "lib"))
    assert kernel_tree.default_release(target) == "6.1.0-99-amd64"
