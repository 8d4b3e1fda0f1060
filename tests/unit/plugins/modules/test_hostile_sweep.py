"""A class-level sweep of the gce_settings area's image-tree readers: every
path that ``compliance_info`` and ``compliance`` (check mode and apply) touch
in a Debian 12 tree is recorded through the one layer that reads the tree
(Target), then replaced by each hostile kind of file in turn, and the three
runs are made again.  Each must end normally or fail with a message (never an
uncaught exception), in time; nothing outside the tree may change and the
secret held outside must never be shown.  A file or directory of mode 000
is swept as the user nobody (root reads anything).

Every (path, kind) pair costs three module runs, so the default (``short``)
profile takes a deterministic quarter of the pairs, every kind and every path
still covered; ``GUESTREADY_FUZZ=long`` runs them all."""

import os
import pathlib
import shutil
import socket
import traceback

import pytest

from hostile import Hang, alarm
from test_compliance_trees import debian_12
from test_hostile_trees import digest
from test_without_root import NOBODY, as_user, module_run, top  # noqa: F401  # pylint: disable=unused-import
from ansible_collections.guestready.gce.plugins.module_utils.target import Target
from ansible_collections.guestready.gce.plugins.modules import compliance, compliance_info

SECRET = "SECRET-OUTSIDE"
ESCAPE = "../" * 30  # more '..' than the tree is deep: stops at the tree's root, would reach / outside it
EVERY_PAIR = os.environ.get("GUESTREADY_FUZZ", "short") == "long"
SAMPLE = 4  # else one pair in SAMPLE


def _path(path):
    return "/" + "/".join(part for part in path.split("/") if part and part != ".")


def _runs(run_module, root):
    """The three runs of a sweep case: (name, output or the uncaught error)."""
    info_args = {"areas": ["gce_settings"], "gce_settings": {"root": root}}
    args = {"areas": ["gce_settings"], "apply": ["gce_settings"], "gce_settings": {"root": root}}
    for name, module, run_args, check_mode in (("compliance_info", compliance_info, info_args, False),
                                               ("compliance check mode", compliance, args, True),
                                               ("compliance apply", compliance, args, False)):
        try:
            with alarm(30):
                out = run_module(module, run_args, check_mode=check_mode, diff=module is compliance)
        except Hang as exc:
            out = "hang: %s" % exc
        except BaseException as exc:  # pytest.raises(SystemExit) lets anything else through: a traceback
            run_module.capsys.readouterr()
            out = "uncaught %s: %s\n%s" % (type(exc).__name__, exc, "".join(traceback.format_exc(limit=-3)))
        if isinstance(out, dict) and "still running after" in repr(out):  # the alarm's Hang caught as bad input
            out = "hang, reported as: %s" % out.get("msg")
        yield name, out


_RECORDED = []


@pytest.fixture
def touched(tmp_path, run_module):
    """The paths inside a pristine Debian 12 tree that the three runs give
    to Target (recorded once), each with the type it had before the runs:
    ``file``, ``link``, ``directory``, or ``own file`` (absent: the
    collection's file, which the apply creates)."""
    if _RECORDED:
        return _RECORDED
    root = debian_12(tmp_path / "record")
    real = os.path.realpath(root)
    seen = set()
    original = Target._resolve

    def recording(self, path, follow=True, create=None):
        if self.root == real and isinstance(path, str) and path:
            seen.add(_path(path))
        return original(self, path, follow, create)

    before = set(_path("/" + os.path.relpath(path, root)) for path in digest(root))
    Target._resolve = recording
    try:
        for name, out in _runs(run_module, root):
            assert isinstance(out, dict) and out["rc"] == 0, (name, out)
    finally:
        Target._resolve = original
    after = digest(root)
    for path in sorted(seen):
        full = os.path.join(root, path.lstrip("/"))
        if path == "/" or full not in after:
            continue  # the root itself is the user's choice; absent paths are probes of what is not there
        if os.path.islink(full) and path in before:
            kind = "link"
        elif os.path.isdir(full):
            kind = "directory"
        else:
            kind = "file" if path in before else "own file"
        _RECORDED.append((path, kind))
    shutil.rmtree(root)
    return _RECORDED


def fifo(full, outside):
    os.mkfifo(full)


def unix_socket(full, outside):
    sock = socket.socket(socket.AF_UNIX)
    cwd = os.getcwd()
    try:  # a relative name: sun_path holds 108 bytes, a deep tree's path may be longer
        os.chdir(os.path.dirname(full))
        sock.bind(os.path.basename(full))
    except OSError as exc:
        pytest.skip("cannot bind a unix socket here: %s" % exc)
    finally:
        os.chdir(cwd)
        sock.close()


def directory(full, outside):
    os.mkdir(full)
    with open(os.path.join(full, "x.conf"), "w") as handle:
        handle.write("x\n")


def dangling_link(full, outside):
    os.symlink("/nonexistent/guestready-sweep", full)


def link_loop(full, outside):
    os.symlink(os.path.basename(full), full)


def absolute_escape(full, outside):
    os.symlink(outside, full)


def relative_escape(full, outside):
    os.symlink(ESCAPE + outside.lstrip("/"), full)


def binary(full, outside, original=b""):
    with open(full, "wb") as handle:
        handle.write(original + b"\xff\xfe\x00garbage\x00\xc3(\n" + original)


# long runs of what parsers repeat: a regex that backtracks on one of them is quadratic in it
LONG_RUNS = [b"GRUB_CMDLINE_LINUX=" + b"x" * 65536, b"a " * 32768, b"A{" * 32768, b'"' * 65536, b"\\" * 65536,
             b"=" * 65536, b"$" * 65536, b"\t" * 65536 + b"x", b"a=b;" * 16384, b"[" * 65536, b"%" * 65536,
             # and of the values the readers look into
             b'GRUB_CMDLINE_LINUX="' + b"console=ttyS0 " * 4096 + b'"', b"NTP=" + b"a " * 32768,
             b"PasswordAuthentication " + b"y" * 65536, b"/dev/sdb1 /data ext4 " + b"defaults," * 8192 + b" 0 2",
             b'SUBSYSTEM=="net", ' * 4096 + b'NAME="eth0"', b"MTUBytes=" + b"9" * 65536]


def long_line(full, outside, original=b""):
    with open(full, "wb") as handle:
        handle.write(original + b"\n".join(LONG_RUNS) + b"\n")


def plain_file(full, outside):
    with open(full, "w") as handle:
        handle.write("not a directory\n")


FILE_KINDS = [fifo, unix_socket, directory, dangling_link, link_loop, absolute_escape, relative_escape,
              binary, long_line]
DIRECTORY_KINDS = [plain_file, fifo, dangling_link, link_loop, absolute_escape, relative_escape]
CONTENT_KINDS = (binary, long_line)


def pairs(touched, kinds, make, classes):
    """The paths of the pairs of a kind: all of them with every pair asked
    for, else one in SAMPLE, by a rotation that gives each path a share of
    the kinds and each kind a share of the paths, the same every run."""
    paths, number = [path for path, kind in touched if kind in classes], kinds.index(make)
    # the first SAMPLE kinds share the paths out among them; each later one is shifted by the
    # path's block, so that no two kinds take the same paths
    return [path for index, path in enumerate(paths)
            if EVERY_PAIR or (index + number + index // SAMPLE * (number // SAMPLE)) % SAMPLE == 0]


def _check(run_module, tmp_path, path, make, with_content, is_directory=False):
    """What went wrong with ``path`` replaced by ``make``: a list of words."""
    top = tmp_path / path.strip("/").replace("/", "_")
    root = debian_12(top)
    outside = str(top / "outside")
    # outside the tree: a file and a directory of files that a run must never read, show or change
    os.makedirs(os.path.join(outside, "d"))
    full = os.path.join(root, path.lstrip("/"))
    original = b""
    if is_directory:  # a directory of the tree, or one the apply makes
        for name in os.listdir(full) if os.path.isdir(full) else []:
            if os.path.isfile(os.path.join(full, name)):
                with open(os.path.join(full, name), "rb") as handle:
                    data = handle.read()
                with open(os.path.join(outside, "d", name), "wb") as handle:
                    handle.write(data + b"\n" + SECRET.encode() + b"\n")
        shutil.rmtree(full, ignore_errors=True)
        target = os.path.join(outside, "d")
    else:
        if os.path.lexists(full):
            if not os.path.islink(full):
                with open(full, "rb") as handle:
                    original = handle.read()
            os.unlink(full)
        target = os.path.join(outside, "secret")
    with open(os.path.join(outside, "secret"), "w") as handle:
        handle.write("PermitRootLogin yes\nGRUB_CMDLINE_LINUX=\"%s\"\n%s\n" % (SECRET, SECRET))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    if with_content:
        make(full, target, original)
    else:
        make(full, target)
    before = digest(str(top), skip=root)
    problems = []
    for name, out in _runs(run_module, root):
        if not isinstance(out, dict):
            problems.append("%s: %s" % (name, out))
            continue
        if SECRET in repr(out):
            problems.append("%s: shows the secret held outside the tree" % name)
        if out["rc"] != 0 and not (out.get("failed") and out.get("msg")):
            problems.append("%s: rc %s without a message" % (name, out["rc"]))
        if "Traceback" in repr(out):
            problems.append("%s: a traceback in the output" % name)
    if digest(str(top), skip=root) != before:
        problems.append("something outside the tree changed")
    shutil.rmtree(str(top))
    return problems


@pytest.mark.parametrize("make", FILE_KINDS, ids=[kind.__name__ for kind in FILE_KINDS])
def test_a_file_the_runs_touch_replaced_by_something_hostile(tmp_path, run_module, touched, make):
    classes = ("file",) if make in CONTENT_KINDS else ("file", "link", "own file")
    failures = []
    for path in pairs(touched, FILE_KINDS, make, classes):
        failures.extend("%s as %s: %s" % (path, make.__name__, problem)
                        for problem in _check(run_module, tmp_path, path, make, make in CONTENT_KINDS))
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("make", DIRECTORY_KINDS, ids=[kind.__name__ for kind in DIRECTORY_KINDS])
def test_a_directory_the_runs_touch_replaced_by_something_hostile(tmp_path, run_module, touched, make):
    failures = []
    for path in pairs(touched, DIRECTORY_KINDS, make, ("directory",)):
        failures.extend("%s as %s: %s" % (path, make.__name__, problem)
                        for problem in _check(run_module, tmp_path, path, make, False, is_directory=True))
    assert not failures, "\n".join(failures)


def test_the_sweep_covers_the_readers(touched):
    # the recording saw the files of every kind of reader, not an empty run
    paths = dict(touched)
    for path in ("/etc/default/grub", "/boot/grub/grub.cfg", "/etc/ssh/sshd_config", "/etc/fstab",
                 "/etc/systemd/timesyncd.conf", "/etc/machine-id", "/var/lib/dpkg/status"):
        assert paths.get(path) == "file", (path, sorted(paths))
    assert paths.get("/etc/ssh/sshd_config.d") == "directory"


def _info_in_time(root):
    try:
        with alarm(30):
            return module_run(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}})
    except Hang as exc:
        return "hang: %s" % exc


def test_a_file_or_directory_the_runs_touch_unreadable_to_the_user(top, touched):
    # mode 000 means nothing to root: compliance_info runs as nobody (an apply without root is refused)
    failures = []
    for index, (path, kind) in enumerate(touched):
        if kind not in ("file", "directory") or not (EVERY_PAIR or index % SAMPLE == 0):
            continue
        root = debian_12(pathlib.Path(top) / str(index))
        if not os.path.lexists(os.path.join(root, path.lstrip("/"))):  # a directory the apply makes
            shutil.rmtree(root)
            continue
        os.chmod(os.path.join(root, path.lstrip("/")), 0)
        try:
            out = as_user(NOBODY, _info_in_time, root)
        except AssertionError as exc:  # the child's traceback
            out = "uncaught: %s" % exc
        if not isinstance(out, dict):
            failures.append("%s (%s) mode 000: %s" % (path, kind, out))
        elif "failed" in out and not out.get("msg"):
            failures.append("%s (%s) mode 000: failed without a message" % (path, kind))
        shutil.rmtree(root)
    assert not failures, "\n".join(failures)


# --- found by the sweep -------------------------------------------------------
@pytest.mark.parametrize("line", ["GRUB_CMDLINE_LINUX=" + "x" * 200000, "A{" * 100000],
                         ids=["long-word", "open-braces"])
def test_a_long_line_in_a_udev_rules_file_is_read_in_linear_time(tmp_path, run_module, line):
    # GCE-NET-DHCP, GCE-NET-MTU-DHCP: the cloud-ifupdown rule search read each rule with a
    # regex that tried every position of a word as a key (quadratic: a 2 MiB line ran for hours)
    root = debian_12(tmp_path)
    with open(os.path.join(root, "etc/udev/rules.d/70-persistent-net.rules"), "a") as handle:
        handle.write(line + "\n")
    with alarm(30):
        out = run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}})
    assert out["rc"] == 0, out.get("msg")
