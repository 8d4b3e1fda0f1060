"""A corpus of hostile image trees, each driven through sysctl_baseline
(apply, with diff) and sysctl_baseline_info: nothing outside the tree may
change, nothing outside may be shown, and the result or the error names the
problem.  Every case hashes everything outside the tree before and after."""

import hashlib
import os
import re
import shutil
import signal
import stat

import pytest

from ansible_collections.guestready.gce.plugins.modules import sysctl_baseline, sysctl_baseline_info
from ansible_collections.guestready.gce.plugins.module_utils.target import TEMP_PREFIX

DROPIN = "etc/sysctl.d/zz-guestready-gce.conf"
SECRET = "net.ipv4.ip_forward = 1\nSECRET-OUTSIDE\n"


def digest(top, skip=None):
    result = {}
    for directory, dirs, names in os.walk(top):
        if skip and os.path.abspath(directory).startswith(skip):
            dirs[:] = []
            continue
        for name in dirs + names:
            path = os.path.join(directory, name)
            info = os.lstat(path)
            if stat.S_ISREG(info.st_mode):
                with open(path, "rb") as handle:
                    result[path] = hashlib.sha256(handle.read()).hexdigest()
            elif stat.S_ISLNK(info.st_mode):
                result[path] = "-> " + os.readlink(path)
            else:
                result[path] = stat.S_IFMT(info.st_mode)
    return result


def put(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.write(text)


# Each case builds the tree and returns (expect, pattern, check): expect is
# "ok" (the run succeeds; pattern must appear in its warnings or results) or
# "error" (the task fails with a message matching pattern).
def dropin_absolute_link(root, outside):
    os.symlink(os.path.join(outside, "victim.conf"), os.path.join(root, DROPIN))
    return "ok", r"was a symbolic link \(to .*victim.conf\): replaced", None


def dropin_relative_escape(root, outside):
    os.symlink("../../../../../../../../../../" + outside.lstrip("/") + "/victim.conf",
               os.path.join(root, DROPIN))
    return "ok", r"was a symbolic link", None


def sysctl_dir_is_outside(root, outside):
    shutil.rmtree(os.path.join(root, "etc/sysctl.d"))
    os.symlink(outside, os.path.join(root, "etc/sysctl.d"))

    def check(root, out):
        inner = os.path.join(root, outside.lstrip("/"), "zz-guestready-gce.conf")
        assert os.path.isfile(inner), "the drop-in lands where the image resolves the directory"
    return "ok", None, check


def conflicting_link_to_outside(root, outside):
    # a weak winning line reached through a link out of the tree: inside the
    # tree the link resolves to the tree's own copy, which is what is edited
    os.symlink("../../../../../../" + outside.lstrip("/") + "/victim.conf",
               os.path.join(root, "etc/sysctl.d/zzz-late.conf"))
    put(os.path.join(root, outside.lstrip("/"), "victim.conf"), "kernel.kptr_restrict = 0\n")

    def check(root, out):
        with open(os.path.join(root, outside.lstrip("/"), "victim.conf")) as handle:
            assert handle.read().startswith("# guestready.gce neutralised (SYSCTL-KPTR_RESTRICT)")
    return "ok", None, check


def absolute_link_inside_only(root, outside):
    put(os.path.join(root, "srv/conf/50-site.conf"), "kernel.kptr_restrict = 2\n")
    os.symlink("/srv/conf/50-site.conf", os.path.join(root, "etc/sysctl.d/50-site.conf"))

    def check(root, out):
        kptr = dict((r["id"], r) for r in out["results"])["SYSCTL-KPTR_RESTRICT"]
        assert kptr["persisted"] == "2", "the image's own file is read, not the controller's"
    return "ok", None, check


def absolute_link_to_controller_file(root, outside):
    # exists on the controller, not in the tree: must not be read; in the tree (and so
    # at boot) it is a link to a missing file, which the loaders skip
    os.symlink(os.path.join(outside, "victim.conf"), os.path.join(root, "etc/sysctl.d/40-x.conf"))
    return "ok", r"40-x.conf: a symbolic link to a missing file: not read", None


def link_to_proc(root, outside):
    os.symlink("/proc/self/environ", os.path.join(root, "etc/sysctl.d/40-proc.conf"))
    return "error", r"40-proc.conf: no such file", None


def link_to_device(root, outside):
    os.makedirs(os.path.join(root, "dev"))
    os.symlink("/dev/zero", os.path.join(root, "etc/sysctl.d/40-dev.conf"))
    return "error", r"40-dev.conf: no such file", None


def device_node(root, outside):
    if os.geteuid() != 0:
        pytest.skip("mknod needs root")
    os.mknod(os.path.join(root, "etc/sysctl.d/40-zero.conf"), stat.S_IFCHR | 0o644, os.makedev(1, 5))
    return "ok", r"40-zero.conf: is a character device, not a regular file: not read", None


def fifo_in_sysctl_dir(root, outside):
    os.mkfifo(os.path.join(root, "etc/sysctl.d/40-fifo.conf"))
    return "ok", r"40-fifo.conf: is a FIFO \(named pipe\), not a regular file: not read", None


def fifo_at_dropin(root, outside):
    # the check reports it and reads on; the apply refuses to replace it
    os.mkfifo(os.path.join(root, DROPIN))
    return "error", r"zz-guestready-gce.conf: is a FIFO \(named pipe\), not a regular file", "info-ok"


def socket_in_sysctl_dir(root, outside):
    import socket
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(os.path.join(root, "etc/sysctl.d/40-sock.conf"))
    sock.close()
    return "ok", r"40-sock.conf: is a socket", None


def hard_link_to_outside(root, outside):
    os.unlink(os.path.join(root, "etc/sysctl.conf"))
    put(os.path.join(outside, "shared.conf"), "kernel.kptr_restrict = 0\n")
    os.link(os.path.join(outside, "shared.conf"), os.path.join(root, "etc/sysctl.conf"))

    def check(root, out):
        with open(os.path.join(root, "etc/sysctl.conf")) as handle:
            assert "neutralised" in handle.read()
    return "ok", None, check


def symlinked_etc_escaping(root, outside):
    os.rename(os.path.join(root, "etc"), os.path.join(root, "real-etc"))
    os.symlink("../../../../../../real-etc", os.path.join(root, "etc"))
    return "ok", None, None


def link_loop(root, outside):
    os.symlink("41-loop.conf", os.path.join(root, "etc/sysctl.d/40-loop.conf"))
    os.symlink("/etc/sysctl.d/40-loop.conf", os.path.join(root, "etc/sysctl.d/41-loop.conf"))
    return "error", r"too many levels of symbolic links", None


def dropin_dir_is_a_file(root, outside):
    shutil.rmtree(os.path.join(root, "etc/sysctl.d"))
    put(os.path.join(root, "etc/sysctl.d"), "not a directory\n")
    return "error", r"sysctl.d.*not a directory", "info-ok"


CASES = [dropin_absolute_link, dropin_relative_escape, sysctl_dir_is_outside,
         conflicting_link_to_outside, absolute_link_inside_only, absolute_link_to_controller_file,
         link_to_proc, link_to_device, device_node, fifo_in_sysctl_dir, fifo_at_dropin,
         socket_in_sysctl_dir, hard_link_to_outside, symlinked_etc_escaping, link_loop,
         dropin_dir_is_a_file]


@pytest.fixture
def hostile(tmp_path):
    root = str(tmp_path / "image")
    outside = str(tmp_path / "outside")
    put(os.path.join(root, "etc/sysctl.conf"), "kernel.kptr_restrict = 0\n")
    os.makedirs(os.path.join(root, "etc/sysctl.d"))
    os.symlink("../sysctl.conf", os.path.join(root, "etc/sysctl.d/99-sysctl.conf"))
    put(os.path.join(root, "usr/lib/systemd/systemd-sysctl"), "")
    put(os.path.join(outside, "victim.conf"), SECRET)
    return root, outside, str(tmp_path)


def _alarm(signum, frame):
    raise AssertionError("the module blocked (a FIFO was opened?)")


@pytest.mark.parametrize("case", CASES, ids=[case.__name__ for case in CASES])
def test_hostile_tree(case, hostile, run_module):
    root, outside, top = hostile
    expect, pattern, check = case(root, outside)
    before = digest(top, skip=root)
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(30)
    try:
        out = run_module(sysctl_baseline, {"root": root}, diff=True)
        info = run_module(sysctl_baseline_info, {"root": root})
    finally:
        signal.alarm(0)
    assert digest(top, skip=root) == before, "nothing outside the tree may change"
    shown = repr(out) + repr(info)
    assert "SECRET-OUTSIDE" not in shown, "nothing outside the tree may be read or shown"
    if expect == "error":
        assert out["rc"] == 1 and out["failed"], out
        assert re.search(pattern, out["msg"]), out["msg"]
        if check == "info-ok":
            assert info["rc"] == 0 and re.search(pattern, " ".join(info["warnings_from_files"]))
        else:
            assert info["failed"] and re.search(pattern, info["msg"]), info["msg"]
        assert "Traceback" not in out["msg"]
    else:
        assert out["rc"] == 0, out.get("msg")
        if pattern:
            said = " ".join([str(w) for w in out.get("warnings", [])] + out["warnings_from_files"])
            assert re.search(pattern, said), said
        if check:
            check(root, out)
        again = run_module(sysctl_baseline, {"root": root})
        assert again["changed"] is False, again.get("diff", [])
    leftovers = [os.path.join(d, n) for d, dummy, names in os.walk(root) for n in names
                 if n.startswith(TEMP_PREFIX)]
    assert leftovers == []
