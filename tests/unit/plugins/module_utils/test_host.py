"""Telling the running system from a chroot or an image tree."""

import os

from ansible_collections.guestready.gce.plugins.module_utils import host


def fake_proc(tmp_path, init_root):
    proc = tmp_path / "proc"
    (proc / "1").mkdir(parents=True)
    os.symlink(str(init_root), str(proc / "1" / "root"))
    return str(proc)


def test_same_root_is_live(tmp_path):
    proc = fake_proc(tmp_path, "/")
    assert not host.in_chroot(proc)
    assert host.live_root("/", proc)
    assert not host.live_root(str(tmp_path), proc), "an image tree is never the running system"


def test_init_elsewhere_means_chroot(tmp_path):
    elsewhere = tmp_path / "build-host-root"
    elsewhere.mkdir()
    proc = fake_proc(tmp_path, elsewhere)
    assert host.in_chroot(proc)
    assert not host.live_root("/", proc)


def test_unreadable_proc_is_not_a_chroot(tmp_path):
    assert not host.in_chroot(str(tmp_path / "no-proc"))
