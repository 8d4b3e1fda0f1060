"""What harden writes on image trees of the distributions it supports, both
applied areas in one call: check mode leaves every byte, mode, owner, mtime
and link as it was; the diff of check mode is the diff of the run and says
what the run writes, no more, no less; replaced files keep their mode and
owner; a second run changes nothing, not even an mtime."""

import hashlib
import os
import stat

import pytest

from ansible_collections.guestready.gce.plugins.modules import compliance

from test_gce_settings import SLES_IFCFG, debian_image, link, put, red_hat_image, sles_image

# systemd's sysctl.d/50-default.conf (systemd 252), the lines the areas judge
SYSTEMD_50_DEFAULT = """\
net.ipv4.conf.default.rp_filter = 2
net.ipv4.conf.*.rp_filter = 2
-net.ipv4.conf.all.rp_filter
net.ipv4.conf.all.accept_source_route = 0
net.ipv4.conf.default.accept_source_route = 0
-net.ipv4.conf.all.accept_source_route
fs.protected_hardlinks = 1
fs.protected_symlinks = 1
"""
# Ubuntu 24.04's cloud-init netplan file (cloud-init 24.2)
NETPLAN = """\
network:
  version: 2
  ethernets:
    ens4:
      match:
        macaddress: "42:01:0a:a0:00:0d"
      dhcp4: true
      set-name: "ens4"
"""


def sysctl_files(root):
    put(root, "/etc/sysctl.conf", "net.ipv4.ip_forward=1\nkernel.kptr_restrict = 0\n")
    link(root, "/etc/sysctl.d/99-sysctl.conf", "../sysctl.conf")
    put(root, "/usr/lib/sysctl.d/50-default.conf", SYSTEMD_50_DEFAULT)
    put(root, "/usr/lib/systemd/systemd-sysctl", "", 0o755)
    put(root, "/etc/sysctl.d/10-site.conf", "net.ipv4.conf.all.send_redirects = 1\n", 0o640)
    os.chown(os.path.join(root, "etc/sysctl.d/10-site.conf"), os.geteuid(), 4 if os.geteuid() == 0 else os.getegid())


def debian_12(top):
    root = debian_image(top / "image")
    sysctl_files(root)
    os.chmod(os.path.join(root, "etc/ssh/sshd_config"), 0o600)
    os.chmod(os.path.join(root, "etc/fstab"), 0o664)
    return root


def ubuntu_24_04(top):
    # systemd-networkd renders netplan; cloud-init is not enabled: its file, bound to the build
    # machine's MAC address, is taken as it is, and the collection writes a .network file
    root = debian_image(top / "image")
    os.unlink(os.path.join(root, "etc/systemd/network/50-dhcp.network"))
    put(root, "/etc/netplan/50-cloud-init.yaml", NETPLAN, 0o600)
    put(root, "/etc/ssh/sshd_config.d/60-cloudimg-settings.conf", "PasswordAuthentication no\n")
    sysctl_files(root)
    return root


def rhel_9(top):
    root = red_hat_image(top / "image")
    sysctl_files(root)
    put(root, "/etc/ssh/sshd_config", "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin yes\n"
        "Subsystem sftp /usr/libexec/openssh/sftp-server\n", 0o600)
    put(root, "/etc/ssh/sshd_config.d/50-redhat.conf", "ChallengeResponseAuthentication no\nUsePAM yes\n", 0o600)
    put(root, "/etc/fstab", "/dev/sda1 / xfs defaults 0 0\n/dev/sdb1 /data xfs defaults 0 0\n")
    put(root, "/etc/machine-id", "0123456789abcdef0123456789abcdef\n", 0o444)
    return root


def sles_15(top):
    root = sles_image(top / "image", SLES_IFCFG)
    sysctl_files(root)
    put(root, "/usr/etc/ssh/sshd_config", "Include /etc/ssh/sshd_config.d/*.conf\nUsePAM yes\n", 0o640)
    put(root, "/etc/chrony.conf", "pool 2.suse.pool.ntp.org iburst\n")
    return root


def snapshot(top, skip):
    """Every path under ``top``: type and mode, owner, group, mtime, and the
    content's digest or the link's text."""
    found = {}
    for directory, dirs, names in os.walk(str(top)):
        dirs[:] = [name for name in dirs if os.path.join(directory, name) != skip]
        for path in [directory] + [os.path.join(directory, name) for name in dirs + names]:
            info = os.lstat(path)
            entry = (stat.filemode(info.st_mode), info.st_uid, info.st_gid, info.st_mtime_ns)
            if stat.S_ISREG(info.st_mode):
                with open(path, "rb") as handle:
                    entry += (hashlib.sha256(handle.read()).hexdigest(),)
            elif stat.S_ISLNK(info.st_mode):
                entry += (os.readlink(path),)
            found[path] = entry
    return found


@pytest.mark.parametrize("make", [debian_12, ubuntu_24_04, rhel_9, sles_15])
def test_check_diff_run_and_second_run_agree_on_what_is_written(tmp_path, run_module, run_cache, make):
    root = make(tmp_path)
    args = {"areas": ["sysctl", "gce_settings"], "sysctl": {"root": root, "neutralize": "all"},
            "gce_settings": {"root": root}}
    before = snapshot(tmp_path, run_cache)
    check = run_module(compliance, args, check_mode=True, diff=True)
    assert check["rc"] == 0 and check["changed"] is True, check.get("msg")
    assert snapshot(tmp_path, run_cache) == before, "check mode wrote"
    out = run_module(compliance, args, diff=True)
    assert out["rc"] == 0, out.get("msg")
    assert out["diff"] == check["diff"]
    after = snapshot(tmp_path, run_cache)
    shown = set()
    for diff in out["diff"]:
        header = diff["after_header"]
        if header.endswith(" (removed)"):
            path = header[:-len(" (removed)")]
            assert path not in after
        elif " (symbolic link to " in header:
            path, value = header[:-1].split(" (symbolic link to ")
            assert os.readlink(path) == value
        else:
            path = header
            with open(path) as handle:
                assert handle.read() == diff["after"], path
        shown.add(path)
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if old == new or (old and new and old[0][0] == new[0][0] == "d"):
            continue   # a directory's mtime moves with its entries
        if old is None and new[0][0] == "d":
            assert new[:3] == ("drwxr-xr-x", os.geteuid(), os.getegid()), path
            continue
        assert path in shown, "written but in no diff: %s" % path
        if old and new:
            assert old[:3] == new[:3], "mode or owner changed: %s" % path
        elif new and new[0][0] == "-":
            assert new[:3] == ("-rw-r--r--", os.geteuid(), os.getegid()), path
    assert set(r["id"] for r in out["results"] if r["changed"]), "changed, but no requirement says so"
    again = run_module(compliance, args, diff=True)
    assert again["rc"] == 0 and again["changed"] is False, again["diff"]
    assert not any(r["changed"] for r in again["results"])
    assert snapshot(tmp_path, run_cache) == after, "the second run wrote"
