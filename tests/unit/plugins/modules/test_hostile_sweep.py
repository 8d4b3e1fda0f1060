"""A class-level sweep of the image-tree readers of every area that reads an
offline tree given as ``root``: gce_settings, sysctl, kernel_config and
hardware (offline).  Every path that an area's runs touch in a Debian 12
tree is recorded through the one layer that reads the tree (Target), then
replaced by each hostile kind of file in turn (and each path they looked
for and did not find is made one), and the runs are made again:
``compliance_info``, and for an area that applies, ``compliance`` in check
mode and applying; for the kernel areas, ``compliance_info`` with each way
of choosing the kernel and its files.  Each run must end normally or fail
with a message (never an uncaught exception), in time; nothing outside the
tree may change and the secret held outside must never be shown.  A file or
directory of mode 000 is swept as the user nobody (root reads anything).

Every (path, kind) pair costs an area's runs, so the default (``short``)
profile takes a deterministic quarter of the pairs, every kind and every path
still covered (of the paths not found, a quarter, one kind each);
``GUESTREADY_FUZZ=long`` runs them all."""

import contextlib
import gzip
import os
import pathlib
import re
import shutil
import socket
import sys
import traceback

import pytest

import trees
from hostile import Hang, alarm, put
from lzofixtures import cpio
from test_compliance_trees import debian_12
from test_hostile_trees import digest
from test_without_root import NOBODY, as_user, module_run, top  # noqa: F401  # pylint: disable=unused-import
from ansible_collections.guestready.gce.plugins.module_utils.target import Target
from ansible_collections.guestready.gce.plugins.modules import compliance, compliance_info

SECRET = "SECRET-OUTSIDE"
ESCAPE = "../" * 30  # more '..' than the tree is deep: stops at the tree's root, would reach / outside it
EVERY_PAIR = os.environ.get("GUESTREADY_FUZZ", "short") == "long"
SAMPLE = 4  # else one pair in SAMPLE
CLOUD = "6.1.0-50-cloud-amd64"
GRUB_CFG = os.path.join(trees.HERE, "..", "boot", "debian12-bios-grub.cfg")
# what the readers of every area would show of a file they parse: the secret in each of their forms
SECRET_TEXT = """\
PermitRootLogin yes
GRUB_CMDLINE_LINUX="{0}"
{0}
kernel.kptr_restrict = {0}
net.ipv4.ip_forward = 1
# Linux/x86 6.1.0 Kernel Configuration {0}
CONFIG_VIRTIO_NET="{0}"
CONFIG_SERIAL_8250_NR_UARTS={0}
alias pci:v00001AF4d00001000sv*sd*bc*sc*i* {0}
kernel/drivers/{0}.ko:
blacklist virtio_net
install virtio_scsi /bin/false {0}
linux /boot/vmlinuz-{1} {0}
""".format(SECRET, CLOUD)


def debian_12_kernel(top):
    """The Debian 12 tree with the kernel it boots: Debian's cloud kernel
    (its configuration, depmod's tables, an image and a gzip initramfs holding
    its modules and a modprobe.d file), GRUB's menu and environment naming it,
    the /vmlinuz link and a modprobe.d file."""
    root = debian_12(top)
    trees.install(root, CLOUD)
    put(root, "/boot/vmlinuz-" + CLOUD, b"MZ kernel")
    os.symlink("boot/vmlinuz-" + CLOUD, os.path.join(root, "vmlinuz"))
    shutil.copyfile(GRUB_CFG, os.path.join(root, "boot/grub/grub.cfg"))
    env = "# GRUB Environment Block\nsaved_entry=0\n"
    put(root, "/boot/grub/grubenv", env + "#" * (1024 - len(env)))
    put(root, "/etc/default/grub", 'GRUB_DEFAULT=0\nGRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"\n'
        'GRUB_CMDLINE_LINUX="console=ttyS0,38400n8 8250.nr_uarts=4"\n')
    put(root, "/etc/modprobe.d/local.conf", "blacklist floppy\noptions virtio_net napi_tx=1\n")
    modules = "usr/lib/modules/%s/kernel/drivers" % CLOUD
    members = [("init", b"#!/bin/sh\n"), ("etc/modprobe.d/local.conf", b"blacklist floppy\n")]
    members += [("%s/%s.ko" % (modules, name), b"\x7fELF") for name in sorted(trees.initramfs_modules(CLOUD))]
    put(root, "/boot/initrd.img-" + CLOUD, gzip.compress(cpio(members)))
    return root


class Sweep(object):
    """An area's sweep: the tree it reads (``build(top)``, the root), its
    runs on a root (``runs(root)``: ``[(name, module, arguments, check
    mode)]``) and the numbers its readers take (``numbers``: ``{path: a
    pattern whose group is one}``)."""

    def __init__(self, name, build, runs, numbers):
        self.name, self.build, self.runs, self.numbers = name, build, runs, numbers


def applied(area, **options):
    """The runs of an area that applies: checked, and applied in check mode and for real."""
    def runs(root):
        params = {area: dict(options, root=root)}
        args = dict(params, areas=[area], apply=[area])
        return [("compliance_info", compliance_info, dict(params, areas=[area]), False),
                ("compliance check mode", compliance, args, True), ("compliance apply", compliance, args, False)]
    return runs


def checked(area, *ways):
    """The runs of an area that only checks: compliance_info with each of ``ways`` (its options)."""
    def runs(root):
        return [("compliance_info %s" % " ".join("%s=%s" % item for item in sorted(way.items())), compliance_info,
                 {"areas": [area], area: dict(way, root=root)}, False) for way in ways]
    return runs


UARTS = r"^CONFIG_(?:SERIAL_8250_NR_UARTS|SERIAL_8250_RUNTIME_UARTS|DEFAULT_MMAP_MIN_ADDR)=(\d+)$"
SWEEPS = [
    Sweep("gce_settings", debian_12, applied("gce_settings"),
          {"/etc/default/grub": r"GRUB_TIMEOUT=(\d+)", "/boot/grub/grub.cfg": r"timeout=(\d+)", "/etc/fstab": r" (\d+)$"}),
    Sweep("sysctl", debian_12_kernel, applied("sysctl"), {"/etc/sysctl.conf": r"kptr_restrict = (\d+)",
                                                          "/usr/lib/sysctl.d/50-default.conf": r"symlinks = (\d+)"}),
    # the tree's default kernel (its boot menu), every installed one, and one named by every option
    Sweep("kernel_config", debian_12_kernel, checked(
        "kernel_config", {"source": "running"}, {"source": "installed"},
        {"source": "path", "path": "/boot/config-" + CLOUD, "kernel_release": CLOUD,
         "initramfs": "/boot/initrd.img-" + CLOUD, "arch": "x86_64", "version": "6.1.0"}),
        {"/boot/config-" + CLOUD: UARTS}),
    Sweep("hardware", debian_12_kernel, checked(
        "hardware", {"mode": "offline"},
        {"mode": "offline", "kernel_release": CLOUD, "initramfs": "/boot/initrd.img-" + CLOUD, "arch": "x86_64"}),
        {"/boot/config-" + CLOUD: UARTS, "/etc/default/grub": r"8250\.nr_uarts=(\d+)"}),
]
AREAS = dict((sweep.name, sweep) for sweep in SWEEPS)
NAMES = [sweep.name for sweep in SWEEPS]


@contextlib.contextmanager
def int_without_limit():
    """int() as on Python 3.7 to 3.10, which the modules run on: any number
    of digits read, in quadratic time (3.11 refuses more than 4300)."""
    if not hasattr(sys, "set_int_max_str_digits"):
        yield
        return
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        yield
    finally:
        sys.set_int_max_str_digits(old)


def _path(path):
    return "/" + "/".join(part for part in path.split("/") if part and part != ".")


def _runs(run_module, sweep, root):
    """The runs of a sweep case: (name, output or the uncaught error)."""
    for name, module, run_args, check_mode in sweep.runs(root):
        try:
            with alarm(30), int_without_limit():
                out = run_module(module, run_args, check_mode=check_mode, diff=module is compliance)
        except Hang as exc:
            out = "hang: %s" % exc
        except BaseException as exc:  # pytest.raises(SystemExit) lets anything else through: a traceback
            run_module.capsys.readouterr()
            out = "uncaught %s: %s\n%s" % (type(exc).__name__, exc, "".join(traceback.format_exc(limit=-3)))
        if isinstance(out, dict) and "still running after" in repr(out):  # the alarm's Hang caught as bad input
            out = "hang, reported as: %s" % out.get("msg")
        yield name, out


_RECORDED = {}


def recorded(sweep, top, run_module):
    """The paths inside a pristine tree that the area's runs give to Target
    (recorded once per area), each with the type it had before the runs:
    ``file``, ``link``, ``directory``, ``own file`` (absent: the
    collection's file, which the apply creates), or ``absent`` (a path the
    runs looked for and did not find, where a hostile tree may have
    anything)."""
    if sweep.name in _RECORDED:
        return _RECORDED[sweep.name]
    root = sweep.build(top / ("record-" + sweep.name))
    real = os.path.realpath(root)
    seen = set()
    original = Target._resolve

    def recording(self, path, follow=True, create=None):
        if self.root == real and isinstance(path, str) and path:
            seen.add(_path(path))
        return original(self, path, follow, create)

    before = dict((_path("/" + os.path.relpath(path, root)), _kind(path)) for path in digest(root))
    Target._resolve = recording
    try:
        for name, out in _runs(run_module, sweep, root):
            assert isinstance(out, dict) and out["rc"] == 0, (name, out)
    finally:
        Target._resolve = original
    found = []
    for path in sorted(seen):
        full = os.path.join(root, path.lstrip("/"))
        if path == "/":
            continue  # the root itself is the user's choice
        if path in before:  # as it was, also when the apply removed it
            found.append((path, before[path]))
        elif os.path.isdir(full):
            found.append((path, "directory"))  # one the apply makes
        elif os.path.lexists(full):
            found.append((path, "own file"))
        elif _creatable(root, path):
            found.append((path, "absent"))  # a probe of what is not there: a hostile tree may have it
    shutil.rmtree(root)
    _RECORDED[sweep.name] = found
    return found


def _kind(full):
    return "link" if os.path.islink(full) else "directory" if os.path.isdir(full) else "file"


def _creatable(root, path):
    """Whether ``path`` can be made in ``root``: no directory on its way is a
    file (``/boot/config-R/R``, a probe of a kernel-install directory)."""
    parent = os.path.dirname(path)
    while parent != "/":
        full = os.path.join(root, parent.lstrip("/"))
        if os.path.lexists(full):
            return os.path.isdir(full) and not os.path.islink(full)
        parent = os.path.dirname(parent)
    return True


@pytest.fixture
def touched(tmp_path, run_module):
    """``touched(area)``: the paths the area's runs touch (``recorded``)."""
    return lambda area: recorded(AREAS[area], tmp_path, run_module)


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
    # where a directory is looked for (a probe of one the tree lacks: grub.d, loader/entries,
    # a modprobe.d or sysctl.d), its files are read: long runs in the names they read, binary data
    os.mkdir(full)
    for name in ("x.conf", "x.cfg"):
        long_line(os.path.join(full, name), outside)
    binary(os.path.join(full, "y.conf"), outside)


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
             b'SUBSYSTEM=="net", ' * 4096 + b'NAME="eth0"', b"MTUBytes=" + b"9" * 65536,
             # of the kernel areas': sysctl globs, kconfig values, wildcard aliases, module paths, modprobe.d
             b"net.ipv4.conf." + b"*" * 65536 + b".rp_filter = 1", b"-net.ipv4.conf.*" + b"[a" * 32768 + b".x",
             b"kernel.kptr_restrict = " + b"9" * 65536, b"CONFIG_SERIAL_8250_NR_UARTS=" + b"9" * 65536,
             b'CONFIG_CMDLINE="' + b"8250.nr_uarts=4 " * 4096 + b'"', b"CONFIG_" + b"X" * 65536 + b"=y",
             b"alias pci:v" + b"*" * 65536 + b" virtio_net", b"alias pci:v" + b"*a" * 32768 + b"b virtio_net",
             b"alias " + b"[!a-z]*" * 8192 + b" virtio_net",
             b"kernel/drivers/" + b"a/" * 32768 + b"virtio_net.ko: " + b"kernel/x.ko " * 4096,
             b"blacklist " + b"x" * 65536, b"install virtio_net " + b"/bin/false " * 8192,
             b"linux /boot/vmlinuz-6.1.0-50-cloud-amd64 " + b"8250.nr_uarts=" + b"9" * 65536,
             b"saved_entry=" + b">" * 65536]


def long_line(full, outside, original=b""):
    with open(full, "wb") as handle:
        handle.write(original + b"\n".join(LONG_RUNS) + b"\n")


# int() reads it in a minute on Python 3.7 to 3.10 (quadratic): no reader may take it whole
LONG_NUMBER = "9" * (2 * 1024 * 1024)


def long_number(pattern):
    """A content kind: each number ``pattern`` finds (its group) in the file made LONG_NUMBER long."""
    def make(full, outside, original=b""):
        text = re.sub(pattern, lambda match: match.group(0).replace(match.group(1), LONG_NUMBER),
                      original.decode(), flags=re.M)
        assert text != original.decode(), "no number in %s: %s" % (full, pattern)
        with open(full, "w") as handle:
            handle.write(text)
    return make


def many_lines(full, outside, original=b""):
    """The file's own lines repeated to 2 MiB (half what most readers take):
    a reader that asks each line about every other, or each key about every
    line, is quadratic in them."""
    lines = original or b"a = b\n"
    with open(full, "wb") as handle:
        handle.write(lines * (2 * 1024 * 1024 // len(lines) + 1))


def carriage_returns(full, outside, original=b""):
    """The file's lines ended by a bare carriage return (old Mac editors),
    and a Latin-1 byte: systemd's read_line() ends a line there, getline()
    and most parsers do not, and the text is not UTF-8."""
    with open(full, "wb") as handle:
        handle.write(b"# caf\xe9\r" + original.replace(b"\r\n", b"\r").replace(b"\n", b"\r"))


# what the readers refuse rather than read (sh's here-document and unclosed quote, YAML's and
# keyfiles' unclosed brackets, a directive without its argument), after the file's own lines: a
# refusal of one reader must reach the run as a message, whichever area asked for the file
REFUSED = b"""
: <<EOF
[unclosed
\tkey: [a, {b
Include
EOF
GRUB_CMDLINE_LINUX="unclosed
"""


def refused_syntax(full, outside, original=b""):
    with open(full, "wb") as handle:
        handle.write(original + REFUSED)


# what recursive readers recurse on, nested far deeper than any file (Python's recursion limit is 1,000)
DEEP = b"\n".join([b"[" * 20000, b"{" * 20000, b"(" * 20000, b"${A:-" * 20000, b"$(" * 20000, b"- " * 20000 + b"x",
                   b"a: " * 20000 + b"x", b"Match " * 20000, b'"' + b"\\\"" * 20000 + b'"']) + b"\n"


def deep_nesting(full, outside, original=b""):
    with open(full, "wb") as handle:
        handle.write(original + DEEP)


def plain_file(full, outside):
    with open(full, "w") as handle:
        handle.write("not a directory\n")


FILE_KINDS = [fifo, unix_socket, directory, dangling_link, link_loop, absolute_escape, relative_escape,
              binary, long_line, carriage_returns, refused_syntax, deep_nesting] + ([many_lines] if EVERY_PAIR else [])   # minutes a run: long profile
DIRECTORY_KINDS = [plain_file, fifo, dangling_link, link_loop, absolute_escape, relative_escape]
CONTENT_KINDS = (binary, long_line, carriage_returns, refused_syntax, deep_nesting, many_lines)


def pairs(touched, kinds, make, classes):
    """The paths of the pairs of a kind: all of them with every pair asked
    for, else one in SAMPLE, by a rotation that gives each path a share of
    the kinds and each kind a share of the paths, the same every run.  The
    probes of paths the tree lacks (``absent``: many, and what is put there
    is read by the readers of the files that are there) are sampled
    thinner: one in SAMPLE, with one kind each."""
    number = kinds.index(make)
    paths = [path for path, kind in touched if kind in classes and kind != "absent"]
    absent = [path for path, kind in touched if kind in classes and kind == "absent"]
    # the first SAMPLE kinds share the paths out among them; each later one is shifted by the
    # path's block, so that no two kinds take the same paths
    return [path for index, path in enumerate(paths)
            if EVERY_PAIR or (index + number + index // SAMPLE * (number // SAMPLE)) % SAMPLE == 0] + \
        [path for index, path in enumerate(absent)
         if EVERY_PAIR or (index % SAMPLE == 0 and index // SAMPLE % len(kinds) == number)]


def _check(run_module, tmp_path, sweep, path, make, with_content, is_directory=False):
    """What went wrong with ``path`` replaced by ``make``: a list of words."""
    top = tmp_path / path.strip("/").replace("/", "_")
    root = sweep.build(top)
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
                    handle.write(data + b"\n" + SECRET_TEXT.encode() + b"\n")
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
        handle.write(SECRET_TEXT)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    if with_content:
        make(full, target, original)
    else:
        make(full, target)
    before = digest(str(top), skip=root)
    problems = []
    for name, out in _runs(run_module, sweep, root):
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
@pytest.mark.parametrize("area", NAMES)
def test_a_file_the_runs_touch_replaced_by_something_hostile(tmp_path, run_module, touched, area, make):
    classes = ("file", "absent") if make in CONTENT_KINDS else ("file", "link", "own file", "absent")
    failures = []
    for path in pairs(touched(area), FILE_KINDS, make, classes):
        failures.extend("%s as %s: %s" % (path, make.__name__, problem)
                        for problem in _check(run_module, tmp_path, AREAS[area], path, make, make in CONTENT_KINDS))
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("make", DIRECTORY_KINDS, ids=[kind.__name__ for kind in DIRECTORY_KINDS])
@pytest.mark.parametrize("area", NAMES)
def test_a_directory_the_runs_touch_replaced_by_something_hostile(tmp_path, run_module, touched, area, make):
    failures = []
    for path in pairs(touched(area), DIRECTORY_KINDS, make, ("directory",)):
        failures.extend("%s as %s: %s" % (path, make.__name__, problem)
                        for problem in _check(run_module, tmp_path, AREAS[area], path, make, False, is_directory=True))
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("area", NAMES)
def test_a_number_the_readers_take_made_millions_of_digits_long(tmp_path, run_module, touched, area):
    failures = []
    for path, pattern in sorted(AREAS[area].numbers.items()):
        assert (path, "file") in touched(area), path
        failures.extend("%s with a long number: %s" % (path, problem)
                        for problem in _check(run_module, tmp_path, AREAS[area], path, long_number(pattern), True))
    assert not failures, "\n".join(failures)


COPIES = 3000 if EVERY_PAIR else 500


@pytest.mark.parametrize("area", NAMES)
def test_a_directory_the_runs_touch_filled_with_copies_of_its_files(tmp_path, run_module, touched, area):
    """Each directory the runs list, with COPIES more files: copies of one
    of its own, named after it, under each suffix it has.  A reader or a
    plan that asks every file about every other, or goes round once per
    file, is quadratic in them (300 copies of systemd's 50-default.conf
    took a sysctl plan 301 rounds)."""
    failures = []
    sweep = AREAS[area]
    for index, path in enumerate(path for path, kind in touched(area) if kind == "directory"):
        root = sweep.build(tmp_path / ("copies%d" % index))
        full = os.path.join(root, path.lstrip("/"))
        os.makedirs(full, exist_ok=True)   # one the apply makes: the copies are there first
        files = sorted(name for name in os.listdir(full) if os.path.isfile(os.path.join(full, name)))
        suffixes = sorted(set(os.path.splitext(name)[1] for name in files)) or [".conf"]
        data = b"a = b\n"
        if files:
            with open(os.path.join(full, files[0]), "rb") as handle:
                data = handle.read(65536)
        for number in range(COPIES):
            with open(os.path.join(full, "zz%05d%s" % (number, suffixes[number % len(suffixes)])), "wb") as handle:
                handle.write(data)
        for name, out in _runs(run_module, sweep, root):
            if not isinstance(out, dict):
                failures.append("%s with %d copies, %s: %s" % (path, COPIES, name, out))
            elif out["rc"] != 0 and not (out.get("failed") and out.get("msg")) or "Traceback" in repr(out):
                failures.append("%s with %d copies, %s: rc %s: %s" % (path, COPIES, name, out["rc"], out.get("msg")))
        shutil.rmtree(root)
    assert not failures, "\n".join(failures)


# per area, files the recording must have seen (each kind of reader), and directories
COVERS = {
    "gce_settings": (["/etc/default/grub", "/boot/grub/grub.cfg", "/etc/ssh/sshd_config", "/etc/fstab",
                      "/etc/systemd/timesyncd.conf", "/etc/machine-id", "/var/lib/dpkg/status"],
                     ["/etc/ssh/sshd_config.d"]),
    "sysctl": (["/etc/sysctl.conf", "/etc/sysctl.d/10-site.conf", "/usr/lib/sysctl.d/50-default.conf"],
               ["/etc/sysctl.d", "/usr/lib/sysctl.d"]),
    "kernel_config": (["/boot/config-" + CLOUD, "/boot/initrd.img-" + CLOUD, "/boot/grub/grub.cfg",
                       "/lib/modules/%s/modules.dep" % CLOUD],
                      ["/boot", "/lib/modules"]),
    "hardware": (["/boot/config-" + CLOUD, "/boot/initrd.img-" + CLOUD, "/boot/grub/grub.cfg", "/etc/default/grub",
                  "/etc/modprobe.d/local.conf"] + ["/lib/modules/%s/%s" % (CLOUD, name) for name in trees.FILES],
                 ["/boot", "/lib/modules/" + CLOUD, "/etc/modprobe.d"]),
}


@pytest.mark.parametrize("area", NAMES)
def test_the_sweep_covers_the_readers(touched, area):
    # the recording saw the files of every kind of reader, not an empty run
    paths = dict(touched(area))
    files, directories = COVERS[area]
    for path in files:
        assert paths.get(path) == "file", (path, sorted(paths))
    for path in directories:
        assert paths.get(path) == "directory", (path, sorted(paths))


def _info_in_time(sweep, root):
    """The area's check runs (no apply) as this user: their outputs, or the hang."""
    outs = []
    for name, module, args, check_mode in sweep.runs(root):
        if "apply" in args:
            continue
        try:
            with alarm(30):
                outs.append(module_run(module, args))
        except Hang as exc:
            outs.append("hang: %s" % exc)
    return outs


@pytest.mark.parametrize("area", NAMES)
def test_a_file_or_directory_the_runs_touch_unreadable_to_the_user(top, touched, area):
    # mode 000 means nothing to root: compliance_info runs as nobody (an apply without root is refused)
    failures = []
    for index, (path, kind) in enumerate(touched(area)):
        if kind not in ("file", "directory") or not (EVERY_PAIR or index % SAMPLE == 0):
            continue
        root = AREAS[area].build(pathlib.Path(top) / str(index))
        if not os.path.lexists(os.path.join(root, path.lstrip("/"))):  # a directory the apply makes
            shutil.rmtree(root)
            continue
        os.chmod(os.path.join(root, path.lstrip("/")), 0)
        try:
            outs = as_user(NOBODY, _info_in_time, AREAS[area], root)
        except AssertionError as exc:  # the child's traceback
            outs = ["uncaught: %s" % exc]
        for out in outs:
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


NUMBERS = [("hardware", "/etc/default/grub", r"8250\.nr_uarts=(\d+)"),
           ("hardware", "/boot/config-" + CLOUD, r"^CONFIG_SERIAL_8250_RUNTIME_UARTS=(\d+)$"),
           ("kernel_config", "/boot/config-" + CLOUD, r"^CONFIG_DEFAULT_MMAP_MIN_ADDR=(\d+)$"),
           ("gce_settings", "/etc/default/grub", r"GRUB_TIMEOUT=(\d+)"),
           ("gce_settings", "/boot/grub/grub.cfg", r"timeout=(\d+)")]


@pytest.mark.parametrize("area, path, pattern", NUMBERS, ids=["%s:%s" % number[:2] for number in NUMBERS])
def test_a_number_millions_of_digits_long_is_refused_in_linear_time(tmp_path, run_module, area, path, pattern):
    # HW-SERIAL (8250.nr_uarts=, CONFIG_SERIAL_8250_*_UARTS), KCONF-DEFAULT_MMAP_MIN_ADDR, GCE-BOOT-TIMEOUT:
    # int() of the number, in quadratic time on Python 3.7 to 3.10 (a minute for 2 MiB of digits)
    sweep = AREAS[area]
    root = sweep.build(tmp_path)
    full = os.path.join(root, path.lstrip("/"))
    with open(full, "rb") as handle:
        long_number(pattern)(full, None, handle.read())
    name, module, args, check_mode = sweep.runs(root)[0]
    with alarm(30), int_without_limit():
        out = run_module(module, args, check_mode=check_mode)
    assert out["rc"] == 0 or out.get("msg"), out


def _serial(run_module, root, value):
    with open(os.path.join(root, "etc/default/grub"), "a") as handle:
        handle.write('GRUB_CMDLINE_LINUX="console=ttyS0,38400n8 8250.nr_uarts=%s"\n' % value)
    out = run_module(compliance_info, {"areas": ["hardware"], "hardware": {"root": root, "mode": "offline"}})
    return [r for r in out["results"] if r["id"] == "HW-SERIAL"][0]


@pytest.mark.parametrize("value, registered", [("-1", 4), ("0o2", 4), ("1_0", 4), ("4294967298", 4), ("02", 2),
                                               ("0x2", 2), ("+2", 2), ("\u0662", 4)])
def test_8250_nr_uarts_is_read_as_the_kernel_reads_a_uint_parameter(tmp_path, run_module, value, registered):
    # kstrtouint(val, 0): '-1', '0o2', '1_0', non-ASCII digits and a number past 32 bits are refused, and the
    # driver keeps CONFIG_SERIAL_8250_RUNTIME_UARTS (4); '02' is octal.  int(val, 0) read '-1' as 0 ports,
    # '0o2' as 2, and refused '02'
    serial = _serial(run_module, debian_12_kernel(tmp_path), value)
    assert (serial["status"], "registers %d port" % registered in serial["message"] or
            "registers only %d port" % registered in serial["message"]) == \
        ("pass" if registered >= 4 else "fail", True), serial["message"]
