"""The initramfs reader on small images built here, in every compression the
reader supports, with and without an early-microcode prefix, and broken ones;
and the KCONF-* module statuses they lead to."""

import bz2
import contextlib
import gzip
import lzma
import os
import shutil
import signal
import stat
import subprocess
import time

import pytest

from ansible_collections.guestready.gce.plugins.module_utils import catalogue as cat
from ansible_collections.guestready.gce.plugins.module_utils import hardware_results, initramfs, kernel_drivers
from ansible_collections.guestready.gce.plugins.module_utils import privilege
from ansible_collections.guestready.gce.plugins.module_utils import runcache
from ansible_collections.guestready.gce.plugins.module_utils import target as target_module
from ansible_collections.guestready.gce.plugins.module_utils.target import Target
from ansible_collections.guestready.gce.plugins.module_utils import kconfig
import trees
from disktools import uki_image

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "..", "..", "fixtures", "kconfig")
RELEASE = "6.1.0-50-cloud-amd64"
MODDIR = "usr/lib/modules/%s/kernel/drivers" % RELEASE
MAIN = [
    ("init", b"#!/bin/sh\n"),
    ("%s/scsi/virtio_scsi.ko" % MODDIR, b"\x7fELF scsi"),
    ("%s/virtio/virtio_pci.ko.xz" % MODDIR, b"\xfd7zXZ pci"),
    ("%s/net/virtio-net.ko.zst" % MODDIR, b"zst"),      # '-' in a file name, '_' in the module
    ("%s/block/nvme.ko.gz" % MODDIR, b"gz"),
    ("usr/lib/modules/%s/modules.dep" % RELEASE, b"kernel/drivers/scsi/virtio_scsi.ko:\n"),
]
EARLY = [("kernel/x86/microcode/GenuineIntel.bin", b"\x01" * 100)]


class Link(bytes):
    """A symbolic link's target, as a cpio entry's data."""


def cpio(entries):
    """A cpio newc archive (directories implied), padded to 512 bytes as
    cpio(1) does."""
    out = bytearray()
    names, seen = [], set()
    for name, data in entries:
        parts = name.split("/")
        for depth in range(1, len(parts)):
            directory = "/".join(parts[:depth])
            if directory not in seen:
                seen.add(directory)
                names.append((directory, None))
        names.append((name, data))

    def add(ino, name, mode, data):
        encoded = name.encode() + b"\x00"
        fields = (ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(encoded), 0)
        out.extend(b"070701" + "".join("%08X" % field for field in fields).encode() + encoded)
        out.extend(b"\x00" * ((4 - len(out) % 4) % 4))
        out.extend(data)
        out.extend(b"\x00" * ((4 - len(out) % 4) % 4))

    add(1, ".", stat.S_IFDIR | 0o755, b"")
    for ino, (name, data) in enumerate(names, 2):
        if data is None:
            add(ino, name, stat.S_IFDIR | 0o755, b"")
        elif isinstance(data, Link):
            add(ino, name, stat.S_IFLNK | 0o777, data)
        else:
            add(ino, name, stat.S_IFREG | 0o644, data)
    add(0, "TRAILER!!!", 0, b"")
    out.extend(b"\x00" * ((512 - len(out) % 512) % 512))
    return bytes(out)


def command(argv, data):
    if not shutil.which(argv[0]):
        pytest.skip("no %s command on this host" % argv[0])
    return subprocess.run(argv, input=data, stdout=subprocess.PIPE, check=True).stdout


COMPRESS = {
    "cpio": lambda data: data,
    "gzip": gzip.compress,
    "xz": lambda data: lzma.compress(data, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32),
    "lzma": lambda data: lzma.compress(data, format=lzma.FORMAT_ALONE),
    "bzip2": bz2.compress,
    "zstd": lambda data: command(["zstd", "-q", "-c"], data),
    "lz4": lambda data: command(["lz4", "-l", "-q", "-c"], data),   # legacy frame, as the kernel's
}
METHOD = {"zstd": "zstd(command)", "lz4": "lz4(command)"}
EXPECTED_MODULES = {"virtio_scsi", "virtio_pci", "virtio_net", "nvme"}


def image(tmp_path, kind, early=False, name="initrd.img"):
    data = COMPRESS[kind](cpio(MAIN))
    if early:
        data = cpio(EARLY) + data
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def expected_files(early):
    files = set()
    for entries in ([EARLY] if early else []) + [MAIN]:
        for name, dummy in entries:
            parts = name.split("/")
            files.update("/".join(parts[:depth]) for depth in range(1, len(parts) + 1))
    return files


@pytest.mark.parametrize("early", [False, True], ids=["plain", "microcode"])
@pytest.mark.parametrize("kind", sorted(COMPRESS))
def test_python_reader(tmp_path, kind, early):
    path = image(tmp_path, kind, early)
    files, method, error = initramfs.list_files(path, listers=False)
    assert error is None
    assert set(files) == expected_files(early)
    parts = (["cpio"] if early and kind != "cpio" else []) + [METHOD.get(kind, kind)]
    assert method == "python:" + "+".join(parts)
    names, method2, error = initramfs.kernel_modules(path, listers=False)
    assert (names, method2, error) == (EXPECTED_MODULES, method, None)


def test_several_compressed_archives_and_padding(tmp_path):
    data = cpio(EARLY) + b"\x00" * 1024 + gzip.compress(cpio(MAIN[:2])) + b"\x00" * 7 \
        + lzma.compress(cpio(MAIN[2:3]))
    path = tmp_path / "initrd"
    path.write_bytes(data)
    files, method, error = initramfs.list_files(str(path), listers=False)
    assert method == "python:cpio+gzip+xz" and error is None
    assert initramfs.module_names(files) == {"virtio_scsi", "virtio_pci"}


def test_cpio_command_archives_are_read(tmp_path):
    if not shutil.which("cpio"):
        pytest.skip("no cpio command on this host")
    tree = tmp_path / "tree"
    (tree / "lib" / "modules").mkdir(parents=True)
    (tree / "lib" / "modules" / "virtio_net.ko").write_bytes(b"x")
    listing = subprocess.run(["find", "."], cwd=str(tree), stdout=subprocess.PIPE, check=True).stdout
    archive = subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=str(tree), input=listing,
                             stdout=subprocess.PIPE, check=True).stdout
    path = tmp_path / "initrd"
    path.write_bytes(gzip.compress(archive))
    assert initramfs.kernel_modules(str(path), listers=False) == ({"virtio_net"}, "python:gzip", None)


@pytest.mark.parametrize("early", [False, True], ids=["plain", "microcode"])
@pytest.mark.parametrize("kind", ["gzip", "xz", "zstd", "lz4"])
def test_distribution_lister_agrees(tmp_path, kind, early):
    exe = shutil.which("lsinitramfs")
    if not exe:
        pytest.skip("lsinitramfs (initramfs-tools) not installed")
    path = image(tmp_path, kind, early)
    files, error = initramfs._run_lister(exe, "lsinitramfs", path)
    assert error is None
    assert set(files) == expected_files(early) == set(initramfs.list_files(path)[0])


def fake_tool(directory, name, script):
    directory.mkdir(exist_ok=True)
    path = directory / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)


def test_lsinitrd_listing_is_parsed(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    listing = tmp_path / "listing.txt"
    listing.write_text("""Image: initrd.img: 12M
========================================================================
Early CPIO image
========================================================================
drwxr-xr-x   3 root     root            0 Jan  1  1970 .
-rw-r--r--   1 root     root        12345 Jan  1  1970 kernel/x86/microcode/GenuineIntel.bin
========================================================================
Version: dracut-059

drwxr-xr-x  12 root     root            0 Mar  3 10:00 .
lrwxrwxrwx   1 root     root            7 Mar  3 10:00 bin -> usr/bin
crw-r--r--   1 root     root       5,   1 Mar  3 10:00 dev/console
-rw-r--r--   1 root     root        81234 Mar  3 10:00 usr/lib/modules/6.8.0/kernel/drivers/net/virtio_net.ko.xz
-rw-r--r--   1 root     root        61234 Mar  3 10:00 usr/lib/modules/6.8.0/kernel/drivers/scsi/virtio_scsi.ko.xz
========================================================================
""")
    # builtins only: PATH holds nothing but the fake tool
    fake_tool(bindir, "lsinitrd", 'while IFS= read -r line; do printf "%%s\\n" "$line"; done < %s\n'
              % listing)
    path = image(tmp_path, "zstd")  # before PATH loses the zstd command
    monkeypatch.setenv("PATH", str(bindir))  # the reader cannot decompress it: the lister can
    files, method, error = initramfs.list_files(path)
    assert (method, error) == ("lsinitrd", None)
    assert "bin" in files and "dev/console" in files
    assert "kernel/x86/microcode/GenuineIntel.bin" in files
    assert initramfs.kernel_modules(path) == ({"virtio_net", "virtio_scsi"}, "lsinitrd", None)


def test_reader_first_and_both_errors_when_both_fail(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    fake_tool(bindir, "lsinitramfs",
              "echo partial/listing.ko; echo 'cpio: premature end of archive' >&2; exit 2\n")
    monkeypatch.setenv("PATH", str(bindir))
    path = image(tmp_path, "gzip")
    files, method, error = initramfs.list_files(path)
    assert method == "python:gzip" and "partial/listing.ko" not in files
    broken = tmp_path / "broken.img"
    broken.write_bytes(gzip.compress(cpio(MAIN))[:100])
    files, method, error = initramfs.list_files(str(broken))
    assert files is None and method is None
    assert error.startswith(str(broken) + ": truncated")
    assert error.endswith("(lsinitramfs: cpio: premature end of archive)")


def test_no_lister_for_a_file_without_any_archive(tmp_path, monkeypatch):
    # before: a file of nothing but NUL bytes (a hostile tree's sparse gigabytes) went
    # to the lister after the reader had scanned it, to be scanned once more
    bindir = tmp_path / "bin"
    called = tmp_path / "called"
    fake_tool(bindir, "lsinitramfs", ": > %s; echo some/file.ko\n" % called)   # builtins only
    monkeypatch.setenv("PATH", str(bindir))
    for data, why in ((b"", "empty file"), (b"\x00" * 4096, "not an initramfs: only NUL bytes")):
        path = tmp_path / "zeros.img"
        path.write_bytes(data)
        assert initramfs.list_files(str(path)) == (None, None, "%s: %s" % (path, why))
    assert not called.exists()
    path.write_bytes(b"hello, world\n")   # unknown data: the lister may know it
    assert initramfs.list_files(str(path)) == (["some/file.ko"], "lsinitramfs", None)
    assert called.exists()


def test_the_file_opened_in_the_root_is_the_one_listed_even_if_swapped(tmp_path, monkeypatch):
    # the lister runs after the image was opened inside the root; a tree changed
    # meanwhile (here: the lister itself swaps a link to the host's file in) must
    # not make it read another file: it is given the open file, never the name
    root = tmp_path / "image"
    (root / "boot").mkdir(parents=True)
    image = root / "boot" / ("initrd.img-%s" % RELEASE)
    image.write_bytes(b"inside\n")    # no archive the reader knows: the lister is asked
    (tmp_path / "outside").write_bytes(b"outside\n")
    bindir = tmp_path / "bin"
    fake_tool(bindir, "lsinitramfs", 'ln -sf %s %s.new && mv -T %s.new %s\nread -r line < "$1"\n'
              'echo "lib/modules/$line.ko"\necho "$1" > %s\n' % (
                  tmp_path / "outside", image, image, image, tmp_path / "given"))
    monkeypatch.setenv("PATH", "%s:/usr/bin:/bin" % bindir)
    names, method, error = initramfs.kernel_modules("/boot/initrd.img-%s" % RELEASE, target=Target(str(root)))
    assert (names, method, error) == ({"inside"}, "lsinitramfs", None)
    assert (tmp_path / "given").read_text().startswith("/proc/%d/fd/" % os.getpid())
    assert os.path.islink(str(image)), "the lister did swap the file"


def test_holes_of_a_sparse_image_are_skipped_not_read(tmp_path):
    # a hostile tree's initramfs: a terabyte of holes (reading it would take hours),
    # alone or before a real archive (the kernel skips NUL padding between archives)
    path = tmp_path / "sparse.img"
    with open(str(path), "wb") as handle:
        handle.truncate(1 << 40)
    files, method, error = initramfs.list_files(str(path), listers=False)
    assert (files, method, error) == (None, None, "%s: not an initramfs: only NUL bytes" % path)
    archive = gzip.compress(cpio(MAIN))
    with open(str(path), "r+b") as handle:
        handle.write(cpio(EARLY))
        handle.seek((1 << 40) - 4096)
        handle.write(archive)
    files, method, error = initramfs.list_files(str(path), listers=False)
    assert error is None and method == "python:cpio+gzip"
    assert set(files) == expected_files(True)


def test_zstd_without_the_command_cannot_be_inspected(tmp_path, monkeypatch):
    path = image(tmp_path, "zstd", early=True)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    files, method, error = initramfs.list_files(path)
    assert files is None
    assert error == ("%s: could not inspect: zstd-compressed (offset %d) and no `zstd` command on "
                     "this host (Python cannot decompress zstd)" % (path, len(cpio(EARLY))))
    assert initramfs.kernel_modules(path) == (None, None, error)


def broken(tmp_path, data):
    path = tmp_path / "broken.img"
    path.write_bytes(data)
    files, method, error = initramfs.list_files(str(path), listers=False)
    assert files is None and method is None
    assert error.startswith(str(path) + ": ")
    return error[len(str(path)) + 2:]


def test_broken_images(tmp_path):
    archive = cpio(MAIN)
    packed = gzip.compress(archive)
    assert broken(tmp_path, b"") == "empty file"
    assert broken(tmp_path, b"\x00" * 4096) == "not an initramfs: only NUL bytes"
    assert broken(tmp_path, b"hello, world\n") == \
        "not an initramfs: no cpio archive or known compression at offset 0"
    assert broken(tmp_path, packed[:len(packed) // 2]).startswith("truncated")
    assert broken(tmp_path, packed[:-6]) == \
        "truncated gzip data at offset 0: the compressed stream ends early"
    corrupt = bytearray(packed)
    corrupt[30:40] = b"\xff" * 10
    assert broken(tmp_path, bytes(corrupt)).startswith("corrupt gzip data at offset 0")
    assert broken(tmp_path, archive[:300]).startswith("truncated cpio archive (cpio archive at offset 0")
    assert broken(tmp_path, archive + b"garbage!").startswith(
        "unrecognised data at offset %d after cpio" % len(archive))
    assert broken(tmp_path, gzip.compress(b"just text")) == \
        "no cpio archive in the decompressed data (gzip data at offset 0)"
    bad_header = bytearray(archive)
    bad_header[6:14] = b"ZZZZZZZZ"
    assert broken(tmp_path, bytes(bad_header)).startswith("corrupt cpio archive: bad header")
    zstd = COMPRESS["zstd"](archive)
    assert broken(tmp_path, zstd[:len(zstd) // 2]).startswith(
        "corrupt or truncated zstd data at offset 0 (zstd:")


def test_missing_and_unreadable(tmp_path):
    assert initramfs.list_files(str(tmp_path / "nope")) == \
        (None, None, "%s: no such file" % (tmp_path / "nope"))
    if os.geteuid() != 0:
        path = image(tmp_path, "gzip")
        os.chmod(path, 0)
        assert initramfs.list_files(path)[2] == privilege.unreadable(path)


def test_find_initramfs(tmp_path):
    boot = tmp_path / "boot"
    boot.mkdir()
    assert initramfs.find_initramfs(RELEASE, str(tmp_path)) is None
    assert initramfs.find_initramfs(None, str(tmp_path)) is None
    (boot / ("initramfs-%s.img" % RELEASE)).write_bytes(b"x")
    assert initramfs.find_initramfs(RELEASE, str(tmp_path)) == "/boot/initramfs-%s.img" % RELEASE
    (boot / ("initrd.img-%s" % RELEASE)).write_bytes(b"x")
    assert initramfs.find_initramfs(RELEASE, str(tmp_path)) == "/boot/initrd.img-%s" % RELEASE


def test_initramfs_is_read_inside_its_root_and_only_as_a_regular_file(tmp_path):
    root = tmp_path / "image"
    (root / "boot").mkdir(parents=True)
    (tmp_path / "outside.img").write_bytes(b"x")
    (root / "boot" / ("initrd.img-%s" % RELEASE)).symlink_to(str(tmp_path / "outside.img"))
    target = Target(str(root))
    names, method, error = initramfs.kernel_modules("/boot/initrd.img-%s" % RELEASE, target=target)
    assert names is None and "no such file" in error, "the controller's file is not read"
    os.unlink(str(root / "boot" / ("initrd.img-%s" % RELEASE)))
    os.mkfifo(str(root / "boot" / ("initrd.img-%s" % RELEASE)))
    names, method, error = initramfs.kernel_modules("/boot/initrd.img-%s" % RELEASE, target=target)
    assert names is None and "is a FIFO (named pipe), not a regular file" in error


def test_module_names():
    assert initramfs.module_names(["a/b/virtio-net.ko", "x/nvme.ko.zst", "y/modules.dep",
                                   "z/ko", "w/x.ko.bak", "crc32c_generic.ko.gz"]) == \
        {"virtio_net", "nvme", "crc32c_generic"}


# -- the KCONF-* statuses the images lead to ------------------------------------

ENTRIES = cat.requirements(("kernel-required", "kernel-security"))


def tree(tmp_path, image_data):
    """An image root: Debian's bookworm cloud kernel config (virtio =m) and an
    initramfs."""
    boot = tmp_path / "root" / "boot"
    boot.mkdir(parents=True)
    with gzip.open(os.path.join(FIXTURES, "bookworm_amd64_cloud-amd64.config.gz")) as handle:
        (boot / ("config-%s" % RELEASE)).write_bytes(handle.read())
    if image_data is not None:
        (boot / ("initrd.img-%s" % RELEASE)).write_bytes(image_data)
    return str(tmp_path / "root")


def statuses(root, **options):
    kernel = kconfig.check_kernel(ENTRIES, {}, RELEASE, "/boot/config-" + RELEASE, "installed",
                                  Target(root), **options)
    return kernel, dict((r["id"], r["status"]) for r in kernel["results"] if r.get("found") == "m")


@pytest.mark.parametrize("kind", ["gzip", "xz", "zstd", "lz4"])
def test_statuses_from_images(tmp_path, kind):
    main = [entry for entry in MAIN if "virtio-net" not in entry[0]]
    data = cpio(EARLY) + COMPRESS[kind](cpio(main))
    kernel, found = statuses(tree(tmp_path, data))
    assert found == {"KCONF-VIRTIO_PCI": "module-in-initramfs",
                     "KCONF-SCSI_VIRTIO": "module-in-initramfs",
                     "KCONF-VIRTIO_NET": "module-missing-from-initramfs"}
    assert kernel["initramfs"]["path"].endswith("/boot/initrd.img-" + RELEASE)
    assert kernel["initramfs"]["error"] is None


def test_statuses_when_the_image_cannot_be_inspected(tmp_path):
    kernel, found = statuses(tree(tmp_path, gzip.compress(cpio(MAIN))[:200]))
    assert set(found.values()) == {"unknown"}
    assert "truncated" in kernel["initramfs"]["error"]
    # no initramfs in /boot at all: a module cannot be loaded at boot (as HW-* says)
    kernel, found = statuses(tree(tmp_path / "none", None))
    assert set(found.values()) == {"module-missing-from-initramfs"}
    assert kernel["initramfs"]["path"] is None
    assert "looked for" in kernel["initramfs"]["error"] and "holds none" in kernel["initramfs"]["error"]
    kernel, found = statuses(tree(tmp_path / "off", cpio(MAIN)), check_initramfs=False)
    assert set(found.values()) == {"unknown"} and kernel["initramfs"] is None


def test_module_names_are_cached_until_the_image_changes(tmp_path, run_cache, monkeypatch):
    path = image(tmp_path, "gzip", False)
    names, method, error = initramfs.kernel_modules(path, listers=False)
    assert (names, method, error) == (EXPECTED_MODULES, "python:gzip", None)
    assert len(os.listdir(run_cache)) == 1
    assert initramfs.kernel_modules(path, listers=False) == (EXPECTED_MODULES, "python:gzip (cached)", None)
    stat = os.stat(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1000))  # a rebuilt image
    assert initramfs.kernel_modules(path, listers=False)[1] == "python:gzip"
    assert initramfs.kernel_modules(path, listers=False)[1] == "python:gzip (cached)"
    # written in place, the same size, its modification time set back: the change time moved
    stat = os.stat(path)
    time.sleep(0.05)  # past the file system's clock tick (a few ms), so the change time moves
    with open(path, "r+b") as handle:
        data = handle.read()
        handle.seek(0)
        handle.write(data)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert os.stat(path).st_mtime_ns == stat.st_mtime_ns and os.stat(path).st_size == stat.st_size
    assert initramfs.kernel_modules(path, listers=False)[1] == "python:gzip"
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setattr(runcache, "CACHE_DIR", str(blocker / "cache"))  # an unusable cache only costs time
    assert initramfs.kernel_modules(image(tmp_path, "xz", True), listers=False)[0] == EXPECTED_MODULES


def test_one_image_reached_through_two_roots_is_listed_once(tmp_path, run_cache):
    # image trees whose /boot files are hard links to one extracted copy (a
    # fleet's shared read-only image): the same inode holds the same bytes
    source = image(tmp_path, "gzip", True)
    roots = []
    for name in ("host-1", "host-2"):
        (tmp_path / name / "boot").mkdir(parents=True)
        os.link(source, str(tmp_path / name / "boot" / "initrd.img"))
        roots.append(Target(str(tmp_path / name)))
    methods = [initramfs.kernel_modules("/boot/initrd.img", listers=False, target=root)[1]
               for root in roots]
    assert methods == ["python:cpio+gzip", "python:cpio+gzip (cached)"]
    # a copy is another file: listed for itself
    (tmp_path / "host-3" / "boot").mkdir(parents=True)
    shutil.copyfile(source, str(tmp_path / "host-3" / "boot" / "initrd.img"))
    names, method, error = initramfs.kernel_modules("/boot/initrd.img", listers=False,
                                                    target=Target(str(tmp_path / "host-3")))
    assert (names, method, error) == (EXPECTED_MODULES, "python:cpio+gzip", None)


# -- where distributions put the initramfs ------------------------------------

def test_arch_initramfs_is_named_by_the_kernel_package(tmp_path):
    # mkinitcpio's preset (/etc/mkinitcpio.d/linux-lts.preset): default_image="/boot/initramfs-${pkgbase}.img"
    release = "6.12.30-1-lts"
    modules = tmp_path / "usr" / "lib" / "modules" / release
    modules.mkdir(parents=True)
    (modules / "pkgbase").write_text("linux-lts\n")
    (tmp_path / "lib").symlink_to("usr/lib")
    boot = tmp_path / "boot"
    boot.mkdir()
    for name in ("initramfs-linux.img", "initramfs-linux-lts.img", "initramfs-linux-lts-fallback.img", "vmlinuz-linux-lts"):
        (boot / name).write_bytes(b"x")
    assert initramfs.find_initramfs(release, str(tmp_path)) == "/boot/initramfs-linux-lts.img"


def test_alpine_initramfs_is_named_by_the_flavor(tmp_path):
    # mkinitfs: /boot/initramfs-<flavor>, flavor = the release's last part (uname -r | cut -d- -f3)
    boot = tmp_path / "boot"
    boot.mkdir()
    for name in ("initramfs-virt", "vmlinuz-virt", "config-virt"):
        (boot / name).write_bytes(b"x")
    assert initramfs.find_initramfs("6.6.31-0-virt", str(tmp_path)) == "/boot/initramfs-virt"
    assert initramfs.find_initramfs("6.6.31-0-lts", str(tmp_path)) is None


def test_no_initramfs_found_is_one_answer(tmp_path):
    boot = tmp_path / "boot"
    boot.mkdir()
    status, why = initramfs.not_found(RELEASE, str(tmp_path))
    assert status == "module-missing-from-initramfs" and "holds none" in why
    (boot / "initramfs-custom.img").write_bytes(b"x")
    status, why = initramfs.not_found(RELEASE, str(tmp_path))
    assert status == "unknown" and "initramfs-custom.img, which may be it" in why


@pytest.mark.parametrize("base", ["boot", "efi", "boot/efi"])
def test_a_unified_kernel_image_may_carry_the_initramfs(tmp_path, base):
    # a UKI (Boot Loader Specification type #2, $BOOT/EFI/Linux/*.efi) has its initramfs in its
    # .initrd section: no initramfs file in /boot does not make a module missing from it
    (tmp_path / "boot").mkdir()
    uki = tmp_path / base / "EFI" / "Linux"
    uki.mkdir(parents=True)
    (uki / ("fedora-%s.efi" % RELEASE)).write_bytes(b"MZ")
    status, why = initramfs.not_found(RELEASE, str(tmp_path))
    assert status == "unknown"
    assert "%s/EFI/Linux/fedora-%s.efi may be a unified kernel image" % (base, RELEASE) in why
    assert "objcopy --dump-section .initrd=" in why


def test_only_the_modules_of_the_judged_release_count(tmp_path, run_cache):
    """An image built for 6.1.0-50 offered for another kernel: that kernel's modprobe looks in
    lib/modules/<its release>/, so the other release's modules are not its own."""
    path = image(tmp_path, "gzip", False)
    assert initramfs.kernel_modules(path, listers=False, release=RELEASE)[0] == EXPECTED_MODULES
    names, method, error = initramfs.kernel_modules(path, listers=False, release="5.14.0-70.13.1.el9_0.x86_64")
    assert names == set() and error is None
    assert method == "python:gzip (cached); its modules are those of %s, not of 5.14.0-70.13.1.el9_0.x86_64" % RELEASE
    assert initramfs.kernel_modules(path, listers=False)[0] == EXPECTED_MODULES  # release unknown: every one
    assert initramfs.modules_by_release(["lib/modules/A/x/a.ko", "./usr/lib/modules/B/b.ko.xz", "c.ko"]) == {
        "A": {"a"}, "B": {"b"}, "": {"c"}}


@pytest.mark.parametrize("member", ["squash-root.img", "squashfs-root.img", "erofs-root.img", "squash/root.img"])
def test_a_dracut_squash_image_hides_its_modules(tmp_path, member):
    # dracut's squash module moves everything but its loader (loop, squashfs,
    # overlay) into a squashfs or erofs image inside the initramfs: a module
    # missing from the listing may be in there, so nothing is known
    loader = [("%s/fs/%s.ko.xz" % (MODDIR, name), b"ko") for name in ("squashfs", "loop", "overlay")]
    data = gzip.compress(cpio([("init", b"#!/bin/sh\n"), (member, b"hsqs")] + loader))
    names, method, error = initramfs.kernel_modules(image_file(tmp_path, data), listers=False)
    assert names is None and method == "python:gzip"
    assert member in error and "dracut" in error
    kernel, found = statuses(tree(tmp_path / "root", data))
    assert set(found.values()) == {"unknown"}
    assert member in kernel["initramfs"]["error"]


def image_file(tmp_path, data):
    path = tmp_path / "squashed.img"
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize("base", ["boot", "efi", "boot/efi"])
def test_find_initramfs_of_kernel_install(tmp_path, base):
    """kernel-install (systemd-boot): $BOOT/<entry token>/<release>/initrd,
    the token a machine ID or, in an image whose machine ID is emptied, the
    os-release ID; a token directory of another release is not it."""
    token = tmp_path / base / "fedora"
    (token / "6.11.4-301.fc41.x86_64").mkdir(parents=True)
    (token / "6.11.4-301.fc41.x86_64" / "initrd").write_bytes(b"x")
    assert initramfs.find_initramfs(RELEASE, str(tmp_path)) is None
    (token / RELEASE).mkdir()
    assert initramfs.find_initramfs(RELEASE, str(tmp_path)) is None
    assert initramfs.not_found(RELEASE, str(tmp_path))[0] == "module-missing-from-initramfs"
    (token / RELEASE / "initrd").write_bytes(b"x")
    assert initramfs.find_initramfs(RELEASE, str(tmp_path)) == "/%s/fedora/%s/initrd" % (base, RELEASE)
    # Debian's own name comes first
    (tmp_path / "boot").mkdir(exist_ok=True)
    (tmp_path / "boot" / ("initrd.img-%s" % RELEASE)).write_bytes(b"x")
    assert initramfs.find_initramfs(RELEASE, str(tmp_path)) == "/boot/initrd.img-%s" % RELEASE


def test_kernel_install_token_that_leaves_the_root_is_not_followed(tmp_path):
    outside = tmp_path / "outside" / RELEASE
    outside.mkdir(parents=True)
    (outside / "initrd").write_bytes(b"x")
    (tmp_path / "image" / "boot").mkdir(parents=True)
    (tmp_path / "image" / "boot" / "token").symlink_to(str(tmp_path / "outside"))
    assert initramfs.find_initramfs(RELEASE, str(tmp_path / "image")) is None


def initramfs_tree(tmp_path, release, members, early=b""):
    """An installed tree of ``release`` whose initrd.img (after ``early``, gzip) holds the
    modules the kernel needs at boot and ``members``; returns the tree's root."""
    root = tmp_path / "root"
    trees.install(str(root), release)
    moddir = "usr/lib/modules/%s/kernel" % release
    modules = [("%s/%s.ko" % (moddir, name), b"ko") for name in sorted(trees.initramfs_modules(release))]
    (root / "boot" / ("initrd.img-" + release)).write_bytes(early + gzip.compress(cpio(modules + members)))
    return root


def hardware_of(root, release):
    check = kernel_drivers.OfflineCheck("/lib/modules/" + release, root=str(root))
    return dict((r["id"], r) for r in hardware_results.assess(cat.requirements("hardware"), {}, "x86_64", offline=check))


def test_the_initramfs_copy_of_modprobe_d_can_keep_a_driver_from_loading(tmp_path, run_cache):
    """udev in the initramfs loads by the initramfs's own copy of modprobe.d: a
    blacklist or an ``install ... /bin/false`` left there (the tree's file since
    fixed, the image not rebuilt) keeps the disk driver from loading at boot."""
    release = "6.1.0-50-cloud-amd64"
    members = [("etc/modprobe.d/disks.conf", b"# no SCSI\nblacklist virtio-scsi\n"),
               ("usr/lib/modprobe.d/nic.conf", b"install virtio_net /bin/false\n"),
               # a link to /dev/null in /etc masks the same name in /usr/lib, as on disk
               ("usr/lib/modprobe.d/gve.conf", b"blacklist virtio_pci\n"),
               ("etc/modprobe.d/gve.conf", Link(b"/dev/null")),
               ("etc/modprobe.d/notes.txt", b"blacklist virtio_pci\n")]
    root = initramfs_tree(tmp_path, release, members, early=cpio(EARLY))
    results = hardware_of(root, release)
    shown = "%s/boot/initrd.img-%s" % (root, release)
    scsi, net = results["HW-SCSI-VIRTIO"], results["HW-NET-VIRTIO"]
    assert scsi["status"] == "fail", scsi["message"]
    assert ("virtio_scsi is a module in the initramfs %s, but the initramfs's copy of modprobe.d keeps it from "
            "loading there: %s:etc/modprobe.d/disks.conf:2: blacklist virtio-scsi (udev loads with the blacklist "
            "applied)" % (shown, shown)) in scsi["message"]
    assert scsi["evidence"]["offline"]["blocked_by"] == ["%s:etc/modprobe.d/disks.conf:2: blacklist virtio-scsi" % shown]
    assert "update-initramfs -u -k %s" % release in scsi["remediation"]
    assert scsi["offline"]["drivers"][0]["status"] == "module-in-initramfs"   # virtio_pci: masked, not blocked
    assert net["status"] == "fail"
    assert "usr/lib/modprobe.d/nic.conf:1: install virtio_net /bin/false (the install command loads nothing)" \
        in net["message"]
    # its modprobe.d files are kept up to a bound: past it, what they say is not known
    big = tmp_path / "big.img"
    big.write_bytes(gzip.compress(cpio([("etc/modprobe.d/a.conf", b"#" * initramfs.MAX_CONFIG + b"\n")])))
    assert initramfs.modprobe_config(str(big)) is None
    assert initramfs.modprobe_config(shown) == [
        ("etc/modprobe.d/disks.conf", "# no SCSI\nblacklist virtio-scsi\n"), ("etc/modprobe.d/gve.conf", ""),
        ("usr/lib/modprobe.d/nic.conf", "install virtio_net /bin/false\n")]


def test_segments_as_the_kernel_tells_them_apart(tmp_path, monkeypatch):
    """lib/decompress.c knows lzma by two bytes (5d 00) and lz4 only in its
    legacy format (lib/decompress_unlz4.c fails on a frame header): an lzma
    segment with a 4 KiB dictionary (5d 00 10 ...) is read; an lz4 frame
    segment is never unpacked at boot, so its modules are not the initramfs's,
    whatever a lister shows (before: the first was "unrecognised data", the
    second read as if the kernel unpacked it)."""
    if not shutil.which("xz") or not shutil.which("lz4"):
        pytest.skip("no xz or lz4 command on this host")
    small = command(["xz", "--format=lzma", "--lzma1=dict=4KiB", "-c"], cpio(MAIN))
    assert small[:3] == b"\x5d\x00\x10"
    path = tmp_path / "lzma.img"
    path.write_bytes(cpio(EARLY) + small)
    assert initramfs.kernel_modules(str(path), listers=False) == (EXPECTED_MODULES, "python:cpio+lzma", None)
    bindir = tmp_path / "bin"
    called = tmp_path / "called"
    fake_tool(bindir, "lsinitramfs", ": > %s; echo %s/net/gve.ko\n" % (called, MODDIR))
    monkeypatch.setenv("PATH", "%s:%s" % (bindir, os.environ["PATH"]))
    path = tmp_path / "frame.img"
    path.write_bytes(cpio(EARLY) + command(["lz4", "-q", "-c"], cpio(MAIN)))
    names, method, error = initramfs.kernel_modules(str(path))
    assert names is None and method is None
    assert error == ("%s: lz4 frame format at offset %d: the kernel unpacks only the legacy lz4 format (lz4 -l), "
                     "so nothing from here on reaches the initramfs at boot (rebuild it with lz4 -l)" % (path, len(cpio(EARLY))))
    assert not called.exists()


@pytest.mark.parametrize("options, segments, status, said", [
    ({}, ("zstd",), "module-in-initramfs", "virtio_scsi is a module in the initramfs"),
    ({"RD_ZSTD": None}, ("zstd",), "module-missing-from-initramfs",
     "the kernel cannot unpack its zstd data (CONFIG_RD_ZSTD is not set), so no module in it is loaded at boot"),
    ({"RD_ZSTD": None}, ("gzip", "zstd"), "unknown",
     "the kernel cannot unpack its zstd data (CONFIG_RD_ZSTD is not set), and which part holds virtio_scsi is not known"),
    ({"BLK_DEV_INITRD": None}, ("gzip",), "module-missing-from-initramfs",
     "the kernel loads no initramfs (CONFIG_BLK_DEV_INITRD is not set), so no module in it is loaded at boot")])
def test_an_initramfs_the_kernel_cannot_unpack_carries_no_module(tmp_path, run_cache, options, segments, status, said):
    """init/initramfs.c stops at a compression the kernel was built without
    ("compression method zstd not configured"), and a kernel without
    BLK_DEV_INITRD loads no initramfs: the modules in it never load at boot
    (before: module-in-initramfs whatever the kernel's configuration)."""
    release = "6.1.0-50-cloud-amd64"
    root = tmp_path / "root"

    def unset(text):
        for name in options:
            text = text.replace("CONFIG_%s=y\n" % name, "# CONFIG_%s is not set\n" % name)
        return text
    trees.install(str(root), release, edits={"config": unset})
    moddir = "usr/lib/modules/%s/kernel" % release
    names = sorted(trees.initramfs_modules(release))
    halves = [names[:len(names) // 2], names[len(names) // 2:]] if len(segments) == 2 else [names]
    data = cpio(EARLY)
    for kind, part in zip(segments, halves):
        data += COMPRESS[kind](cpio([("%s/%s.ko" % (moddir, name), b"ko") for name in part]))
    (root / "boot" / ("initrd.img-" + release)).write_bytes(data)
    check = kernel_drivers.OfflineCheck("/lib/modules/" + release, root=str(root))
    scsi = dict((r["id"], r) for r in hardware_results.assess(
        cat.requirements("hardware"), {}, "x86_64", offline=check))["HW-SCSI-VIRTIO"]
    assert scsi["status"] == status, scsi["message"]
    assert said in scsi["message"]


def test_modprobe_files_do_not_list_the_image_again(tmp_path, monkeypatch):
    # the drivers check asks for the modules, then for the modprobe.d files: one listing,
    # even when the run cache cannot be written
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setattr(runcache, "CACHE_DIR", str(blocker / "cache"))
    calls = []
    real = initramfs.read_image
    monkeypatch.setattr(initramfs, "read_image", lambda path: calls.append(path) or real(path))
    path = tmp_path / "modprobe.img"
    path.write_bytes(gzip.compress(cpio(MAIN + [("etc/modprobe.d/x.conf", b"blacklist nvme\n")])))
    assert initramfs.kernel_modules(str(path), listers=False)[0] == EXPECTED_MODULES
    assert initramfs.modprobe_config(str(path), listers=False) == [("etc/modprobe.d/x.conf", "blacklist nvme\n")]
    assert len(calls) == 1


def test_a_unified_kernel_image_is_read_for_its_release(tmp_path, run_cache):
    """A UKI whose .uname is the release carries its initramfs in its .initrd
    section (systemd-stub hands it to the kernel): found and read (before: not
    found, unknown; given as the initramfs, "not an initramfs")."""
    release = "6.1.0-50-cloud-amd64"
    root = tmp_path / "root"
    trees.install(str(root), release)
    moddir = "usr/lib/modules/%s/kernel" % release
    initrd = cpio(EARLY) + gzip.compress(cpio([("%s/%s.ko.zst" % (moddir, name), b"ko")
                                               for name in sorted(trees.initramfs_modules(release))]))
    ukis = root / "boot" / "efi" / "EFI" / "Linux"
    ukis.mkdir(parents=True)
    (ukis / "debian-other.efi").write_bytes(uki_image([(".uname", b"6.12.0-1-amd64\0"), (".initrd", initrd)]))
    (ukis / "debian-this.efi").write_bytes(uki_image([
        (".osrel", b"ID=debian\n"), (".uname", release.encode() + b"\0"), (".linux", b"\x4d\x5a kernel"),
        (".initrd", initrd)]))
    assert initramfs.find_initramfs(release, str(root)) == "/boot/efi/EFI/Linux/debian-this.efi"
    names, method, error = initramfs.kernel_modules("/boot/efi/EFI/Linux/debian-this.efi", target=Target(str(root)),
                                                    release=release)
    assert error is None and names == trees.initramfs_modules(release)
    assert method == "python:cpio+gzip (the .initrd section of a unified kernel image)"
    check = kernel_drivers.OfflineCheck("/lib/modules/" + release, root=str(root))
    scsi = dict((r["id"], r) for r in hardware_results.assess(
        cat.requirements("hardware"), {}, "x86_64", offline=check))["HW-SCSI-VIRTIO"]
    assert scsi["status"] == "module-in-initramfs", scsi["message"]
    assert scsi["evidence"]["offline"]["initramfs"] == "%s/boot/efi/EFI/Linux/debian-this.efi" % root
    # a PE file without an initramfs in it (a plain EFI-stub kernel) says so
    kernel = tmp_path / "vmlinuz.efi"
    kernel.write_bytes(uki_image([(".text", b"code"), (".uname", release.encode())]))
    assert initramfs.list_files(str(kernel))[2] == (
        "%s: a PE file (an EFI kernel or unified kernel image) with no .initrd section: it carries no initramfs" % kernel)


def test_an_unreadable_configuration_leaves_the_initramfs_judged_by_itself(tmp_path, run_cache, monkeypatch):
    # without root /boot/config-R may be unreadable: arm64 judges no serial port, so nothing
    # else asks for it, and the modules are judged by the image as they were
    release = "6.1.0-50-cloud-amd64"
    root = tmp_path / "root"
    trees.install(str(root), release)
    moddir = "usr/lib/modules/%s/kernel" % release
    (root / "boot" / ("initrd.img-" + release)).write_bytes(gzip.compress(cpio(
        [("%s/%s.ko" % (moddir, name), b"ko") for name in sorted(trees.initramfs_modules(release))])))

    def unreadable(path, **kwargs):
        raise target_module.Unreadable(path)
    monkeypatch.setattr(kconfig, "read", unreadable)
    check = kernel_drivers.OfflineCheck("/lib/modules/" + release, root=str(root))
    results = dict((r["id"], r["status"]) for r in hardware_results.assess(
        cat.requirements("hardware"), {}, "arm64", offline=check))
    assert results["HW-SCSI-VIRTIO"] == "module-in-initramfs"


def test_modprobe_d_links_are_followed_inside_the_archive(tmp_path, run_cache):
    """kmod in the initramfs opens a modprobe.d name through its symbolic
    link: to a file of the archive (an absolute target from the archive's
    root, a relative one from the link's directory, through linked
    directories, ``..`` at the root staying there), it reads that file; a
    link that leads nowhere (dangling, a loop) configures nothing but still
    hides the name in later directories; one to a directory is skipped.  A
    later archive's entry replaces an earlier one of the same name, as the
    kernel unpacks them in order."""
    first = [("etc/modprobe.d/h.conf", b"blacklist nvme\n"),
             ("usr/share/x/a-real", b"blacklist old\n")]
    second = [("usr/share/x/a-real", b"blacklist virtio_scsi\n"),
              ("etc/modprobe.d/a.conf", Link(b"/usr/share/x/a-real")),
              ("usr/lib/modprobe.d/b-real.conf", b"install virtio_net /bin/false\n"),
              ("etc/modprobe.d/b.conf", Link(b"../../usr/lib/modprobe.d/b-real.conf")),
              ("lib", Link(b"usr/lib")),
              ("usr/lib/share/c.txt", b"blacklist gve\n"),
              ("etc/modprobe.d/c.conf", Link(b"c2.conf")),
              ("etc/modprobe.d/c2.conf", Link(b"/lib/share/c.txt")),
              ("etc/modprobe.d/e.conf", Link(b"/nowhere/e.conf")),
              ("usr/lib/modprobe.d/e.conf", b"blacklist e\n"),
              ("etc/modprobe.d/f.conf", Link(b"f.conf")),
              ("etc/modprobe.d/g.conf", Link(b"../../../../../usr/share/x/g")),
              ("usr/share/x/g", b"blacklist g\n"),
              ("etc/modprobe.d/h.conf", Link(b"/usr/share/x/h")),
              ("usr/share/x/h", b"blacklist h\n"),
              ("etc/modprobe.d/dir.conf", Link(b"/usr/share")),
              ("usr/lib/modprobe.d/dir.conf", b"blacklist dir\n"),
              ("etc/modprobe.d/null.conf", Link(b"/dev/null"))]
    path = tmp_path / "links.img"
    path.write_bytes(cpio(first) + gzip.compress(cpio(second)))
    assert initramfs.modprobe_config(str(path), listers=False) == [
        ("etc/modprobe.d/a.conf", "blacklist virtio_scsi\n"),
        ("usr/lib/modprobe.d/b-real.conf", "install virtio_net /bin/false\n"),
        ("etc/modprobe.d/b.conf", "install virtio_net /bin/false\n"),
        ("etc/modprobe.d/c.conf", "blacklist gve\n"),
        ("etc/modprobe.d/c2.conf", "blacklist gve\n"),
        ("usr/lib/modprobe.d/dir.conf", "blacklist dir\n"),
        ("etc/modprobe.d/e.conf", ""),
        ("etc/modprobe.d/f.conf", ""),
        ("etc/modprobe.d/g.conf", "blacklist g\n"),
        ("etc/modprobe.d/h.conf", "blacklist h\n"),
        ("etc/modprobe.d/null.conf", "")]
    # a chain longer than the kernel follows leads nowhere
    chain = [("etc/modprobe.d/l0.conf", Link(b"/l1"))] + [
        ("l%d" % n, Link(b"/l%d" % (n + 1))) for n in range(1, initramfs.MAX_LINKS + 1)] + [
        ("l%d" % (initramfs.MAX_LINKS + 1), b"blacklist deep\n")]
    path.write_bytes(gzip.compress(cpio(chain)))
    assert initramfs.modprobe_config(str(path), listers=False) == [("etc/modprobe.d/l0.conf", "")]
    path.write_bytes(gzip.compress(cpio(chain[:1] + chain[2:])))
    assert initramfs.modprobe_config(str(path), listers=False) == [("etc/modprobe.d/l0.conf", "")]
    path.write_bytes(gzip.compress(cpio([("etc/modprobe.d/l0.conf", Link(b"/l2"))] + chain[2:])))
    assert initramfs.modprobe_config(str(path), listers=False) == [("etc/modprobe.d/l0.conf", "blacklist deep\n")]


@contextlib.contextmanager
def alarm(seconds):
    """Fail what is still running after ``seconds`` (a hang) instead of waiting for it."""
    def expired(*args):
        raise AssertionError("still running after %d s" % seconds)
    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def test_hostile_modprobe_d_links_are_followed_in_bounded_time(tmp_path, run_cache):
    """Links whose 4 KiB targets add thousands of components each, or
    thousands of links through one long chain, were followed component by
    component, each joined with all before it (a chain of 39 such targets:
    46 s for one lookup): the walk is linear and bounded in all (MAX_STEPS;
    past it the image's modprobe.d is not known)."""
    path = tmp_path / "links.img"
    tails = [("l%d" % n, Link(("l%d/" % (n + 1) + "x/" * 2000 + "x").encode())) for n in range(39)]
    path.write_bytes(gzip.compress(cpio([("etc/modprobe.d/a.conf", Link(b"/l0"))] + tails)))
    with alarm(10):
        assert initramfs.modprobe_config(str(path), listers=False) == [("etc/modprobe.d/a.conf", "")]
    dots = [("l%d" % n, Link(("./" * 2000 + "l%d" % (n + 1)).encode())) for n in range(39)]
    dots.append(("l39", b"blacklist nvme\n"))
    many = [("etc/modprobe.d/%05d.conf" % n, Link(b"/l0")) for n in range(20000)]
    path.write_bytes(gzip.compress(cpio(many + dots)))
    with alarm(10):
        assert initramfs.modprobe_config(str(path), listers=False) is None
    # as many links the plain way are all followed
    many = [("etc/modprobe.d/%05d.conf" % n, Link(b"../../usr/share/%d" % (n % 2))) for n in range(20000)]
    path.write_bytes(gzip.compress(cpio(many + [("usr/share/0", b"blacklist a\n"), ("usr/share/1", b"")])))
    with alarm(10):
        config = initramfs.modprobe_config(str(path), listers=False)
    assert len(config) == 20000 and config[:2] == [("etc/modprobe.d/00000.conf", "blacklist a\n"),
                                                   ("etc/modprobe.d/00001.conf", "")]


def test_a_link_walk_past_any_member_s_length_comes_back_with_dot_dot():
    # past MAX_NAME characters no member matches, yet ``..`` leads back to one
    members = initramfs._Members()
    deep = "y/" * 1100 + "f"
    members.add_entry("a", stat.S_IFLNK | 0o777, "y/" * 1500)
    members.add_entry("b", stat.S_IFLNK | 0o777, "a/" + "y/" * 600 + "../" * 1000)
    members.add_entry(deep, stat.S_IFREG | 0o644)
    assert initramfs._follow(members, "b/f") == (stat.S_IFREG, deep)
    assert initramfs._follow(members, "b/g") == (None, None)
    assert initramfs._follow(members, "a/" + "y/" * 600 + "f") == (None, None)


def test_kernel_config_judges_the_initramfs_copy_of_modprobe_d_as_the_hardware_area(tmp_path, run_cache):
    """An ``=m`` driver the initramfs carries but its own modprobe.d (or the
    kernel command line) keeps from loading cannot load at boot: KCONF-*
    fails it, naming the line, in the hardware area's words."""
    release = "6.1.0-50-cloud-amd64"
    members = [("etc/modprobe.d/disks.conf", b"# no SCSI\nblacklist virtio-scsi\n"),
               ("usr/lib/modprobe.d/nic.conf", b"install virtio_net /bin/false\n")]
    root = initramfs_tree(tmp_path, release, members)
    shown = "%s/boot/initrd.img-%s" % (root, release)
    target = Target(str(root))

    def kconf():
        kernel = kconfig.check_kernel(ENTRIES, {}, release, "/boot/config-" + release, "installed", target)
        return dict((r["id"], r) for r in kernel["results"])

    def hardware():
        check = kernel_drivers.OfflineCheck("/lib/modules/" + release, root=str(root))
        return dict((r["id"], r) for r in hardware_results.assess(
            cat.requirements("hardware"), {}, "x86_64", offline=check))

    results, hw = kconf(), hardware()
    scsi, net, pci = results["KCONF-SCSI_VIRTIO"], results["KCONF-VIRTIO_NET"], results["KCONF-VIRTIO_PCI"]
    said = ("the initramfs's copy of modprobe.d keeps it from loading there: %s:etc/modprobe.d/disks.conf:2: "
            "blacklist virtio-scsi (udev loads with the blacklist applied)" % shown)
    assert scsi["status"] == "fail", scsi["message"]
    assert scsi["message"] == "CONFIG_SCSI_VIRTIO=m: built as module virtio_scsi, present in %s, but %s" % (shown, said)
    assert said in hw["HW-SCSI-VIRTIO"]["message"]
    assert scsi["evidence"]["blocked_by"] == hw["HW-SCSI-VIRTIO"]["evidence"]["offline"]["blocked_by"] == [
        "%s:etc/modprobe.d/disks.conf:2: blacklist virtio-scsi" % shown]
    assert "update-initramfs -u" in scsi["hint"]
    assert net["status"] == "fail"
    assert "usr/lib/modprobe.d/nic.conf:1: install virtio_net /bin/false (the install command loads nothing)" \
        in net["message"]
    assert pci["status"] == "module-in-initramfs", pci["message"]
    # the kernel command line's blacklists, as the hardware area reads them
    (root / "etc" / "default").mkdir(parents=True, exist_ok=True)
    (root / "etc" / "default" / "grub").write_text('GRUB_CMDLINE_LINUX="module_blacklist=virtio_pci"\n')
    pci, hw_pci = kconf()["KCONF-VIRTIO_PCI"], hardware()["HW-SCSI-VIRTIO"]
    assert pci["status"] == "fail", pci["message"]
    assert pci["message"].endswith("but the kernel command line keeps it from loading: %s/etc/default/grub:1: "
                                   "module_blacklist=virtio_pci (the kernel refuses to load it)" % root)
    assert pci["evidence"]["blocked_by"] == ["%s/etc/default/grub:1: module_blacklist=virtio_pci" % root]
    assert "%s/etc/default/grub:1: module_blacklist=virtio_pci" % root in hw_pci["evidence"]["offline"]["blocked_by"]


def test_modprobe_d_directories_reached_through_links_are_read(tmp_path, run_cache):
    """kmod opendir()s each modprobe.d directory, following links (libkmod-config.c
    conf_files_list): etc/modprobe.d linked to another directory of the archive, or a parent
    linked (usr -> a directory elsewhere), lists that directory's files as its own.  A merged
    /usr (lib -> usr/lib) lists usr/lib/modprobe.d twice: once per name, the first directory's."""
    first = [("usr/share/modprobe-conf/blacklist.conf", b"blacklist virtio_scsi\n"),
             ("usr/share/modprobe-conf/notes.txt", b"blacklist ignored\n"),
             ("usr/share/modprobe-conf/sub/deep.conf", b"blacklist deeper\n"),
             ("usr/share/modprobe-conf/l.conf", Link(b"../x/real")),
             ("usr/share/x/real", b"blacklist gve\n"),
             ("etc/modprobe.d", Link(b"../usr/share/modprobe-conf")),
             ("run", Link(b"/var/run")),
             ("var/run/modprobe.d/r.alias", b"alias foo virtio_net\n"),
             ("usr/lib/modprobe.d/blacklist.conf", b"blacklist hidden\n"),
             ("usr/lib/modprobe.d/m.conf", b"blacklist nvme\n"),
             ("lib", Link(b"usr/lib"))]
    path = tmp_path / "dirlinks.img"
    path.write_bytes(gzip.compress(cpio(first)))
    assert initramfs.modprobe_config(str(path), listers=False) == [
        ("etc/modprobe.d/blacklist.conf", "blacklist virtio_scsi\n"),
        ("etc/modprobe.d/l.conf", "blacklist gve\n"),
        ("usr/lib/modprobe.d/m.conf", "blacklist nvme\n"),
        ("run/modprobe.d/r.alias", "alias foo virtio_net\n")]


def test_a_linked_modprobe_d_directory_without_an_entry_of_its_own_is_listed():
    # an archive need not name a directory before the files under it (the kernel's
    # unpacker needs it, but a list of members read back may lack it)
    members = initramfs._Members()
    members.add_entry("etc/modprobe.d", stat.S_IFLNK | 0o777, "/x/conf")
    members.add_entry("x/conf/a.conf", stat.S_IFREG | 0o644)
    members.add_entry("usr/lib/modprobe.d", stat.S_IFLNK | 0o777, "/nowhere")
    members.config["x/conf/a.conf"] = "blacklist virtio_net\n"
    assert initramfs._follow(members, "etc/modprobe.d") == (None, None)
    assert initramfs._follow(members, "etc/modprobe.d", directory=True) == (stat.S_IFDIR, "x/conf")
    assert initramfs._linked_config(members, lambda wanted: {}) == {"etc/modprobe.d/a.conf": "blacklist virtio_net\n"}


def test_a_module_the_initramfs_loads_by_name_loads_despite_a_blacklist(tmp_path, run_cache):
    """initramfs-tools loads each module of conf/modules with ``modprobe $m``
    and dracut each rd.driver.pre= of etc/cmdline.d with ``modprobe "$p"``:
    kmod applies the blacklist only to an alias lookup (tools/modprobe.c,
    KMOD_PROBE_APPLY_BLACKLIST_ALIAS_ONLY), so the module loads (HW-SCSI-VIRTIO,
    HW-NET-GVNIC); an install command still replaces the load (HW-NET-VIRTIO)."""
    release = "6.1.0-50-cloud-amd64"
    members = [("etc/modprobe.d/disks.conf", b"blacklist virtio_scsi\nblacklist nvme\ninstall virtio_net /bin/false\n"),
               ("conf/modules", b"# comment\n\nvirtio-scsi\nvirtio_net\n"),
               ("etc/cmdline.d/20-force_drivers.conf", b"rd.driver.pre=nvme\n")]
    root = initramfs_tree(tmp_path, release, members)
    shown = "%s/boot/initrd.img-%s" % (root, release)
    blocks = initramfs.modprobe_blocks(shown)
    assert "virtio_scsi" not in blocks and "nvme" not in blocks
    assert blocks.install("virtio_net")
    results = hardware_of(root, release)
    assert results["HW-SCSI-VIRTIO"]["status"] != "fail", results["HW-SCSI-VIRTIO"]["message"]
    assert results["HW-NET-VIRTIO"]["status"] == "fail"
    kernel = kconfig.check_kernel(ENTRIES, {}, release, "/boot/config-" + release, "installed", Target(str(root)))
    scsi = dict((r["id"], r) for r in kernel["results"])["KCONF-SCSI_VIRTIO"]
    assert scsi["status"] == "module-in-initramfs", scsi["message"]
    # loaded by a name an alias line of modprobe.d matches: an alias lookup, the blacklist holds
    members[-2] = ("conf/modules", b"virtio_scsi\n")
    members += [("etc/modprobe.d/a.conf", b"alias virtio_scsi virtio_scsi\n")]
    initramfs_tree(tmp_path, release, members)
    assert "virtio_scsi" in initramfs.modprobe_blocks(shown)
    assert initramfs.loaded_by_name({"conf/modules": "virtio-scsi opt=1\n  # x\n-b gve\n",
                                     "etc/cmdline.d/a.conf": 'rd.driver.pre=gve,nvme "rd.driver.pre=b"\n',
                                     "etc/cmdline": "rd.driver.pre=virtio_pci\n",
                                     "etc/modprobe.d/x.conf": "rd.driver.pre=no\n"}) == {
        "virtio_scsi": "conf/modules", "gve": "etc/cmdline.d/a.conf", "nvme": "etc/cmdline.d/a.conf",
        "b": "etc/cmdline.d/a.conf", "virtio_pci": "etc/cmdline"}
