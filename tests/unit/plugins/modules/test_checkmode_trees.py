"""Check mode, diff mode, ``changed`` and idempotence of the modules that
write, on the image trees of every distribution they support, with every
area of compliance handled: a check-mode run writes nothing (no byte, mode,
owner, mtime, link, directory or temporary file, in the tree or in the
temporary directory), its ``changed`` per result and overall is the real
run's, its diff is what the real run writes (``before`` the file before,
``after`` the file after), a second run writes nothing, and a run where one
write fails leaves each file old or new, names the file, and converges once
the cause is gone."""

import errno
import os
import shutil
import subprocess
import tempfile

import pytest

from ansible_collections.guestready.gce.plugins.modules import compliance, sysctl_baseline

from test_compliance_trees import debian_12, rhel_9, sles_15, snapshot, sysctl_files, ubuntu_24_04
from test_gce_settings import debian_image, put, red_hat_image

# Ubuntu 22.04's cloud image: cloud-init's GRUB drop-in and SSH drop-in (livecd-rootfs)
UBUNTU_GRUB_CLOUDIMG = 'GRUB_CMDLINE_LINUX_DEFAULT="console=tty1 console=ttyS0"\nGRUB_TERMINAL=console\n'


def ubuntu_22_04(top):
    root = debian_image(top / "image")
    put(root, "/etc/default/grub.d/50-cloudimg-settings.cfg", UBUNTU_GRUB_CLOUDIMG)
    put(root, "/etc/ssh/sshd_config.d/60-cloudimg-settings.conf", "PasswordAuthentication yes\n")
    put(root, "/etc/systemd/timesyncd.conf.d/10-site.conf", "[Time]\nNTP=ntp.ubuntu.com\n")
    sysctl_files(root)
    return root


def rhel_8(top):
    # RHEL 8: BLS entries with $kernelopts, grubenv, chrony, sshd without drop-ins
    root = red_hat_image(top / "image")
    sysctl_files(root)
    put(root, "/etc/ssh/sshd_config", "PermitRootLogin yes\nPasswordAuthentication yes\nUsePAM yes\n"
        "Subsystem sftp /usr/libexec/openssh/sftp-server\n", 0o600)
    put(root, "/etc/fstab", "/dev/mapper/rhel-root / xfs defaults 0 0\n/dev/sdb1 /data xfs defaults 0 0\n")
    return root


def arch(top):
    # Arch: /lib -> usr/lib, GRUB, systemd-networkd and timesyncd, sshd, no package database read
    root = str(top / "image")
    units = "/usr/lib/systemd/system/"
    os.makedirs(os.path.join(root, "usr/lib"))
    os.symlink("usr/lib", os.path.join(root, "lib"))
    put(root, "/usr/bin/grub-mkconfig", "#!/bin/sh\n. /etc/default/grub\n")
    put(root, "/etc/default/grub", 'GRUB_DEFAULT=0\nGRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX_DEFAULT="loglevel=3 quiet"\n'
        'GRUB_CMDLINE_LINUX=""\n')
    put(root, "/boot/grub/grub.cfg", "set timeout=5\nmenuentry 'Arch Linux' {\n\tlinux\t/vmlinuz-linux root=UUID=1 rw\n}\n")
    for unit, install in (("serial-getty@.service", "getty.target"), ("systemd-networkd.service", "multi-user.target"),
                          ("systemd-timesyncd.service", "sysinit.target"), ("sshd.service", "multi-user.target")):
        put(root, units + unit, "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=%s\n" % install)
    for unit, install in (("systemd-networkd.service", "multi-user.target"), ("systemd-timesyncd.service", "sysinit.target")):
        os.makedirs(os.path.join(root, "etc/systemd/system/%s.wants" % install), exist_ok=True)
        os.symlink(units + unit, os.path.join(root, "etc/systemd/system/%s.wants/%s" % (install, unit)))
    put(root, "/etc/systemd/timesyncd.conf", "[Time]\n#NTP=\n")
    put(root, "/etc/systemd/network/20-wired.network", "[Match]\nName=en*\n[Network]\nDHCP=yes\n")
    put(root, "/etc/ssh/sshd_config", "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin yes\n"
        "PasswordAuthentication yes\nSubsystem sftp /usr/lib/ssh/sftp-server\n")
    put(root, "/etc/fstab", "UUID=1 / ext4 rw,relatime 0 1\n/dev/sdb1 /data ext4 defaults 0 2\n")
    put(root, "/etc/machine-id", "0123456789abcdef0123456789abcdef\n")
    sysctl_files(root)
    return root


def debian_12_hand_edited(top):
    # files an administrator edited: Latin-1 comments, no final newline, a CRLF line
    root = debian_12(top)
    for path, data in (("etc/fstab", b"# Plattenger\xe4te\n/dev/sda1 / ext4 errors=remount-ro 0 1\n"
                                     b"/dev/sdb1 /data ext4 defaults 0 2"),
                       ("etc/ssh/sshd_config", b"Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin yes\n"
                                               b"PasswordAuthentication yes"),
                       ("etc/sysctl.conf", b"# r\xe9seau\nnet.ipv4.ip_forward=1\r\nkernel.kptr_restrict = 0"),
                       ("etc/default/grub", b'GRUB_DEFAULT=0\nGRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"')):
        with open(os.path.join(root, path), "wb") as handle:
            handle.write(data)
    return root


def rhel_9_rpm_database(top):
    # the tree's own (empty) rpm database: it is read through a copy in the temporary directory
    root = rhel_9(top)
    os.makedirs(os.path.join(root, "var/lib/rpm"))
    subprocess.check_call(["rpm", "--initdb", "--dbpath", os.path.join(root, "var/lib/rpm")])
    return root


DISTROS = [debian_12, debian_12_hand_edited, ubuntu_22_04, ubuntu_24_04, rhel_8, rhel_9, sles_15, arch,
           pytest.param(rhel_9_rpm_database, marks=pytest.mark.skipif(not shutil.which("rpm"), reason="no rpm command"))]


def drop_in_a_link(top):
    # the sysctl drop-in's name a link: the file replaces it, the linked file is left alone
    # (a link at a gce_settings file's name is a mask, left as it is: the task fails, by design)
    root = debian_12(top)
    put(root, "/usr/lib/sysctl.d/zz-old.conf", "")
    os.symlink("/usr/lib/sysctl.d/zz-old.conf", os.path.join(root, "etc/sysctl.d/zz-guestready-gce.conf"))
    return root


def own_files_empty(top):
    root = rhel_9(top)
    put(root, "/etc/sysctl.d/zz-guestready-gce.conf", "")
    put(root, "/etc/ssh/sshd_config.d/00-guestready-gce.conf", "")
    return root


EDGES = [drop_in_a_link, own_files_empty]


def arguments(root):
    # the applied areas (kernel_config and hardware only read, and these trees have no kernel)
    return {"areas": ["sysctl", "gce_settings"], "sysctl": {"root": root, "neutralize": "all"},
            "gce_settings": {"root": root}}


def contents(root):
    """Every regular file's bytes and every link's text under ``root``, by path."""
    found = {}
    for directory, dirs, names in os.walk(root):
        for name in dirs + names:
            path = os.path.join(directory, name)
            if os.path.islink(path):
                found[path] = "-> " + os.readlink(path)
            elif os.path.isfile(path):
                with open(path, "rb") as handle:
                    found[path] = handle.read()
    return found


def as_read(root):
    """What reading each path under ``root`` gives, links followed inside the
    root as the modules follow them: bytes, or None (a link leading nowhere)."""
    found = {}
    for path in contents(root):
        where, data = path, contents_of(path)
        for hop in range(40):
            if not isinstance(data, str):
                break
            value = data[len("-> "):]
            where = os.path.join(root, value.lstrip("/")) if value.startswith("/") else \
                os.path.normpath(os.path.join(os.path.dirname(where), value))
            data = contents_of(where)
        found[path] = None if isinstance(data, str) else data
    return found


def contents_of(path):
    if os.path.islink(path):
        return "-> " + os.readlink(path)
    if os.path.isfile(path):
        with open(path, "rb") as handle:
            return handle.read()
    return None


def text(data):
    """File bytes as the modules show them: UTF-8, else Latin-1."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def changed_ids(out):
    return dict((r["id"], r.get("changed")) for r in out["results"])


@pytest.fixture
def private_tmp(tmp_path_factory, monkeypatch):
    """The temporary directory a module would use (a copy of an rpm database is
    made there and removed), watched: it must be empty after a run."""
    where = tmp_path_factory.mktemp("tmp")
    monkeypatch.setattr(tempfile, "tempdir", str(where))
    return where


@pytest.mark.parametrize("make", DISTROS + EDGES)
def test_check_mode_is_the_real_run_and_the_second_run_writes_nothing(tmp_path, run_module, run_cache, private_tmp, make):
    root = make(tmp_path)
    args = arguments(root)
    before, texts = snapshot(tmp_path, run_cache), as_read(root)
    check = run_module(compliance, args, check_mode=True, diff=True)
    assert check["rc"] == 0 and check["changed"] is True, check.get("msg")
    assert snapshot(tmp_path, run_cache) == before, "check mode wrote"
    assert check["applied"] == ["sysctl", "gce_settings"]
    out = run_module(compliance, args, diff=True)
    assert out["rc"] == 0, out.get("msg")
    assert out["changed"] is True
    # the same results, the same changed per result and the same diff
    assert changed_ids(check) == changed_ids(out)
    assert out["diff"] == check["diff"]
    written = contents(root)
    for diff in out["diff"]:
        path = diff["before_header"].split(" (")[0]
        if " (symbolic link to " in diff["after_header"] or diff["after_header"].endswith(" (removed)"):
            continue   # a link made or a file removed: text in neither
        assert diff["before"] == text(texts.get(path) or b""), path
        assert diff["after"] == text(written[path]), path
    assert os.listdir(str(private_tmp)) == []
    after = snapshot(tmp_path, run_cache)
    # converged: check mode and a real run both say nothing changes, and nothing is touched
    again_check = run_module(compliance, args, check_mode=True, diff=True)
    assert again_check["rc"] == 0 and again_check["changed"] is False, again_check["diff"]
    again = run_module(compliance, args, diff=True)
    assert again["rc"] == 0 and again["changed"] is False, again["diff"]
    assert again["diff"] == [] and not any(r.get("changed") for r in again["results"])
    assert snapshot(tmp_path, run_cache) == after, "the second run wrote"


@pytest.mark.parametrize("make", DISTROS + EDGES)
def test_sysctl_baseline_check_mode_is_the_real_run(tmp_path, run_module, run_cache, private_tmp, make):
    root = make(tmp_path)
    args = {"root": root, "neutralize": "all"}
    before, texts = snapshot(tmp_path, run_cache), as_read(root)
    check = run_module(sysctl_baseline, args, check_mode=True, diff=True)
    assert check["rc"] == 0 and check["changed"] is True, check.get("msg")
    assert snapshot(tmp_path, run_cache) == before, "check mode wrote"
    out = run_module(sysctl_baseline, args, diff=True)
    assert out["rc"] == 0 and out["changed"] is True, out.get("msg")
    assert changed_ids(check) == changed_ids(out) and out["diff"] == check["diff"]
    written = contents(root)
    for diff in out["diff"]:
        path = diff["before_header"].split(" (")[0]
        assert diff["before"] == text(texts.get(path) or b""), path
        assert diff["after"] == text(written[path]), path
    assert os.listdir(str(private_tmp)) == []
    after = snapshot(tmp_path, run_cache)
    again = run_module(sysctl_baseline, args, diff=True)
    assert again["rc"] == 0 and again["changed"] is False, again.get("diff")
    assert snapshot(tmp_path, run_cache) == after, "the second run wrote"


@pytest.mark.parametrize("make", DISTROS)
def test_a_failed_write_leaves_files_old_or_new_and_a_rerun_converges(tmp_path, run_module, run_cache, monkeypatch, make):
    # the converged tree: what a run writes when nothing is in its way
    root = make(tmp_path)
    reference = str(tmp_path / "reference")
    shutil.copytree(root, reference, symlinks=True)
    planned = run_module(compliance, arguments(reference), diff=True)
    assert planned["rc"] == 0, planned.get("msg")
    new = dict((path[len(reference):], data) for path, data in contents(reference).items())
    files = [d["after_header"][len(reference):] for d in planned["diff"] if not d["after_header"].endswith(")")]
    failing = files[len(files) // 2]  # one in the middle: files are written before and after it
    old = dict((path[len(root):], data) for path, data in contents(root).items())
    rename = os.rename

    def full_disk(source, destination, *args, **kwargs):
        # the file system fills up at that file's rename (the data written, the name not yet moved)
        if destination == os.path.basename(failing) and os.path.basename(str(source)).startswith(".guestready-"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return rename(source, destination, *args, **kwargs)
    monkeypatch.setattr(os, "rename", full_disk)
    args = arguments(root)
    out = run_module(compliance, args, diff=True)
    monkeypatch.undo()
    assert out["rc"] == 1 and root + failing in out["msg"], out.get("msg")
    assert "No space left on device" in out["msg"] and out["changed"] is True, out["msg"]
    now = contents(root)
    assert now[root + failing] == old.get(failing, now[root + failing]), "the failed file is not the old one"
    for path, data in now.items():
        assert data in (old.get(path[len(root):]), new.get(path[len(root):])), path
        assert not os.path.basename(path).startswith(".guestready-"), "temporary left: %s" % path
    shown = [d["after_header"] for d in out["diff"]]
    assert root + failing not in shown, "a file not written is in the diff"
    fixed = run_module(compliance, args)
    assert fixed["rc"] == 0 and fixed["changed"] is True, fixed.get("msg")
    assert dict((path[len(root):], data) for path, data in contents(root).items()) == new
    after = snapshot(root, run_cache)
    again = run_module(compliance, args)
    assert again["rc"] == 0 and again["changed"] is False
    assert snapshot(root, run_cache) == after


def _leave_temporaries(root, paths):
    """What a run killed between writing a temporary and renaming it leaves
    (its process gone: pid 999999 is beyond Linux's default pid_max)."""
    left = []
    for path in paths:
        directory, name = os.path.split(os.path.join(root, path.lstrip("/")))
        left.append(os.path.join(directory, ".guestready-%s.999999.deadbeef" % name))
        with open(left[-1], "w") as handle:
            handle.write("half a file\n")
    return left


@pytest.mark.parametrize("make", DISTROS)
def test_removing_what_an_interrupted_run_left_is_a_change_check_mode_reports(tmp_path, run_module, run_cache, make):
    """A converged tree where an earlier run was killed mid-write: the run
    removed its temporaries and said changed false, and check mode said
    nothing would change; both say changed now, and only the real run
    removes them."""
    root = make(tmp_path)
    args = arguments(root)
    assert run_module(compliance, args)["rc"] == 0
    left = _leave_temporaries(root, ["/etc/fstab", "/etc/sysctl.d/zz-guestready-gce.conf"])
    before = snapshot(tmp_path, run_cache)
    check = run_module(compliance, args, check_mode=True)
    assert check["rc"] == 0 and check["changed"] is True, check.get("msg")
    assert snapshot(tmp_path, run_cache) == before, "check mode wrote"
    assert sorted(check["areas"]["sysctl"]["removed_temporaries"]) == left[1:]
    assert "would remove %s, left by an interrupted write" % left[0] in check["areas"]["gce_settings"]["notes"]
    out = run_module(compliance, args)
    assert out["rc"] == 0 and out["changed"] is True, out.get("msg")
    assert not [path for path in left if os.path.exists(path)]
    assert out["areas"]["sysctl"]["removed_temporaries"] == left[1:]
    assert "removed %s, left by an interrupted write" % left[0] in out["areas"]["gce_settings"]["notes"]
    again = run_module(compliance, args)
    assert again["changed"] is False
    alone = _leave_temporaries(root, ["/etc/sysctl.d/zz-guestready-gce.conf"])
    sysctl_args = {"root": root, "neutralize": "all"}
    assert run_module(sysctl_baseline, sysctl_args, check_mode=True)["changed"] is True and os.path.exists(alone[0])
    assert run_module(sysctl_baseline, sysctl_args)["changed"] is True and not os.path.exists(alone[0])
    assert run_module(sysctl_baseline, sysctl_args)["changed"] is False
