"""kernel_config_info driven through AnsibleModule, on fake image trees built
from the real Debian fixtures (nothing of the host is read, except where a
test says so)."""

import gzip
import os
import shutil
import stat

import pytest

from ansible_collections.guestready.gce.plugins.module_utils import kconfig
from ansible_collections.guestready.gce.plugins.modules import kernel_config_info

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "..", "..", "fixtures", "kconfig")
CLOUD = "6.1.0-50-cloud-amd64"
SID = "7.2.13+deb14-amd64"


def fixture_text(name):
    with gzip.open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


def cpio(files):
    out = bytearray()
    for ino, name in enumerate(list(files) + ["TRAILER!!!"], 1):
        encoded = name.encode() + b"\x00"
        mode = 0 if name == "TRAILER!!!" else stat.S_IFREG | 0o644
        fields = (ino, mode, 0, 0, 1, 0, 0, 0, 0, 0, 0, len(encoded), 0)
        out.extend(b"070701" + "".join("%08X" % f for f in fields).encode() + encoded)
        out.extend(b"\x00" * ((4 - len(out) % 4) % 4))
    return bytes(out)


def tree(tmp_path, initrd_modules=("virtio_pci", "virtio_scsi")):
    """An image root with Debian's bookworm cloud kernel (virtio =m, in
    /boot, with a gzip initramfs) and sid's kernel (config only under
    /usr/lib/modules, as sid ships it); /vmlinuz points at the cloud one."""
    root = tmp_path / "image"
    (root / "boot").mkdir(parents=True)
    (root / "boot" / ("config-" + CLOUD)).write_bytes(fixture_text("bookworm_amd64_cloud-amd64.config.gz"))
    modules = ["usr/lib/modules/%s/kernel/%s.ko" % (CLOUD, name) for name in initrd_modules]
    (root / "boot" / ("initrd.img-" + CLOUD)).write_bytes(gzip.compress(cpio(modules)))
    sid = root / "usr" / "lib" / "modules" / SID
    sid.mkdir(parents=True)
    (sid / "config").write_bytes(fixture_text("sid_amd64_amd64.config.gz"))
    os.symlink("boot/vmlinuz-" + CLOUD, str(root / "vmlinuz"))
    (root / "boot" / ("vmlinuz-" + CLOUD)).write_bytes(b"")
    return str(root)


def statuses(results):
    return dict((r["id"], r["status"]) for r in results)


def test_path_source_on_a_gzip_config(run_module):
    path = os.path.join(FIXTURES, "bookworm_i386_686.config.gz")
    out = run_module(kernel_config_info, {"source": "path", "path": path}, check_mode=True)
    assert out["rc"] == 0 and out["changed"] is False
    assert out["config"] == path and out["kernel"] is None
    assert len(out["results"]) == 18 and out["kernels"][0]["results"] == out["results"]
    kernel = out["kernels"][0]
    assert (kernel["version"], kernel["version_source"], kernel["arch"], kernel["compression"]) == \
        ("6.1.176", "header", "x86_32", "gzip")
    assert statuses(out["results"])["KCONF-X86_PAE"] == "fail"
    # no release, no initramfs to look into: =m drivers are unknown, not passes
    assert kernel["initramfs"]["path"] is None
    assert out["summary"] == dict(kernel["summary"])
    assert out["summary"]["unknown"] == 3 and out["summary"]["fail"] == 1
    assert "CONFIG_X86_PAE=y" in out["fragment"]


def test_path_source_with_the_kernels_initramfs(tmp_path, run_module):
    root = tree(tmp_path)
    out = run_module(kernel_config_info, {"source": "path", "root": root,
                                          "path": "/boot/config-" + CLOUD})
    assert out["kernel"] == CLOUD   # from the file name
    found = statuses(out["results"])
    assert (found["KCONF-VIRTIO_PCI"], found["KCONF-SCSI_VIRTIO"], found["KCONF-VIRTIO_NET"]) == \
        ("module-in-initramfs", "module-in-initramfs", "module-missing-from-initramfs")
    assert out["kernels"][0]["initramfs"] == {
        "path": os.path.join(root, "boot", "initrd.img-" + CLOUD),
        "method": out["kernels"][0]["initramfs"]["method"], "error": None}
    assert out["fragment"].count("\nCONFIG_") == 1 and "\nCONFIG_VIRTIO_NET=y\n" in out["fragment"]


def test_installed_checks_every_kernel(tmp_path, run_module):
    root = tree(tmp_path)
    out = run_module(kernel_config_info, {"source": "installed", "root": root})
    assert [(k["release"], k["source"]) for k in out["kernels"]] == \
        [(CLOUD, "installed"), (SID, "installed")]
    assert out["kernels"][1]["config"] == os.path.join(root, "usr/lib/modules", SID, "config")
    assert out["kernels"][1]["version"] == "7.2.13"
    # the tree's default kernel (its /vmlinuz) is the top-level one
    assert out["kernel"] == CLOUD and out["results"] == out["kernels"][0]["results"]
    sid = statuses(out["kernels"][1]["results"])
    assert sid["KCONF-VIRTIO_PCI"] == "pass"
    assert sid["KCONF-VIRTIO_NET"] == "unknown"   # no initramfs for it in the tree
    out = run_module(kernel_config_info, {"source": "installed", "root": root, "kernel_release": SID})
    assert out["kernel"] == SID


def test_installed_reports_an_unreadable_kernel_and_goes_on(tmp_path, run_module):
    root = tree(tmp_path)
    with open(os.path.join(root, "boot", "config-5.10.0-9-amd64"), "wb") as handle:
        handle.write(gzip.compress(b"# Linux/x86 5.10.0 Kernel Configuration\nCONFIG_X86_64=y\n")[:30])
    out = run_module(kernel_config_info, {"source": "installed", "root": root})
    assert out["rc"] == 0 and "failed" not in out
    broken = out["kernels"][0]
    assert broken["release"] == "5.10.0-9-amd64"
    assert broken["error"].endswith("config-5.10.0-9-amd64: truncated gzip data (the compressed stream "
                                    "ends early)")
    assert set(statuses(broken["results"]).values()) == {"unknown"}
    assert broken["results"][0]["message"] == "cannot judge: " + broken["error"]
    # ansible-core 2.19 returns warnings as WarningSummary records
    assert any("truncated gzip" in str(warning) for warning in out["warnings"])
    assert out["kernel"] == CLOUD


def test_running_source_in_an_image_tree(tmp_path, run_module):
    root = tree(tmp_path)
    out = run_module(kernel_config_info, {"root": root})
    assert out["kernel"] == CLOUD
    assert out["config"] == os.path.join(root, "boot", "config-" + CLOUD)
    out = run_module(kernel_config_info, {"root": root, "kernel_release": SID})
    assert out["config"] == os.path.join(root, "usr/lib/modules", SID, "config")
    assert out["kernels"][0]["source"] == out["config"]
    out = run_module(kernel_config_info, {"root": root, "kernel_release": "9.9.9"})
    assert out["failed"] is True
    assert out["msg"].startswith("no configuration for kernel 9.9.9: tried %s/boot/config-9.9.9" % root)


def test_running_kernel_prefers_proc_config(tmp_path, run_module, monkeypatch):
    proc = tmp_path / "config.gz"
    proc.write_bytes(gzip.compress(fixture_text("trixie_amd64_cloud-amd64.config.gz")))
    monkeypatch.setattr(kconfig, "PROC_CONFIG", str(proc))
    monkeypatch.setattr(os, "uname", lambda: ("Linux", "host", "6.12.117+deb13-cloud-amd64",
                                              "#1 SMP", "x86_64"))
    out = run_module(kernel_config_info, {"check_initramfs": False})
    assert (out["kernel"], out["config"]) == ("6.12.117+deb13-cloud-amd64", str(proc))
    assert out["kernels"][0]["source"] == str(proc)
    assert out["kernels"][0]["initramfs"] is None
    assert statuses(out["results"])["KCONF-SCSI_VIRTIO"] == "unknown"
    assert "the initramfs was not checked" in out["results"][3]["message"]


def test_overrides_of_version_arch_and_policy(run_module):
    path = os.path.join(FIXTURES, "synthetic", "4.9_x86_64_devkmem.config")
    out = run_module(kernel_config_info, {"source": "path", "path": path, "version": "5.13",
                                          "arch": "aarch64",
                                          "waivers": {"KCONF-SECURITY_YAMA": "ticket 42"},
                                          "overrides": {"KCONF-DEFAULT_MMAP_MIN_ADDR": 65536}})
    kernel = out["kernels"][0]
    assert (kernel["version"], kernel["version_source"], kernel["arch"], kernel["arch_source"]) == \
        ("5.13.0", "override", "arm64", "override")
    found = statuses(out["results"])
    # judged as 5.13 on arm64: DEVKMEM no longer exists, KVM_GUEST does not apply
    assert (found["KCONF-DEVKMEM"], found["KCONF-KVM_GUEST"], found["KCONF-SECURITY_YAMA"]) == \
        ("pass", "not-applicable", "waived")
    mmap = [r for r in out["results"] if r["id"] == "KCONF-DEFAULT_MMAP_MIN_ADDR"][0]
    assert mmap["expected"] == "65536"


@pytest.mark.parametrize("config, arch", [
    ("4.9_x86_64_devkmem.config", "x86_64"), ("4.9_i386_nopae.config", "x86_32")])
def test_arch_x86_is_the_family_of_both(run_module, config, arch):
    # ARCH=x86 and the header's "Linux/x86" name both: the configuration says which
    out = run_module(kernel_config_info, {"source": "path", "path": os.path.join(FIXTURES, "synthetic", config),
                                          "arch": "x86"})
    kernel = out["kernels"][0]
    assert (kernel["arch"], kernel["arch_source"]) == (arch, "override")
    assert statuses(out["results"])["KCONF-X86_PAE"] == ("not-applicable" if arch == "x86_64" else "fail")


def test_arch_x86_needs_a_configuration_that_says_32_or_64_bit(tmp_path, run_module):
    path = tmp_path / "config"
    path.write_text("CONFIG_SYN_COOKIES=y\nCONFIG_SECURITY_YAMA=y\n")
    out = run_module(kernel_config_info, {"source": "path", "path": str(path), "arch": "x86"})
    assert out["rc"] == 1 and out["failed"] is True
    assert "arch 'x86': %s does not say whether it is 32- or 64-bit x86 (CONFIG_64BIT); give x86_64 or " \
        "x86_32" % path in out["msg"]


@pytest.mark.parametrize("args,message", [
    ({"source": "path"}, "source is path but all of the following are missing: path"),
    ({"source": "path", "path": "/nonexistent/config"}, "/nonexistent/config: no such file or directory"),
    ({"source": "path", "path": os.path.join(FIXTURES, "README.md")},
     "README.md: no CONFIG_ options found: not a kernel configuration"),
    ({"source": "path", "path": os.path.join(FIXTURES, "synthetic", "4.9_arm64.config"),
      "version": "four"}, "version 'four' is not a kernel version"),
    ({"source": "path", "path": os.path.join(FIXTURES, "synthetic", "4.9_arm64.config"),
      "overrides": {"KCONF-DEVKMEM": "y"}}, "KCONF-DEVKMEM cannot be overridden"),
    ({"source": "path", "path": os.path.join(FIXTURES, "synthetic", "4.9_arm64.config"),
      "waivers": {"KCONF-NOPE": "x"}}, "unknown requirement ID 'KCONF-NOPE'"),
    ({"source": "path", "path": os.path.join(FIXTURES, "synthetic", "4.9_x86_64_devkmem.config"),
      "arch": "x64"}, "arch 'x64' is not one of x86_64, x86_32, arm64 (amd64, aarch64, i686 and x86 are accepted)"),
])
def test_bad_input_is_a_clean_failure(run_module, args, message):
    out = run_module(kernel_config_info, args)
    assert out["rc"] == 1 and out["failed"] is True
    assert message in out["msg"]


def test_duplicate_symbols_fail_naming_the_file(tmp_path, run_module):
    path = tmp_path / ".config"
    path.write_text("# Linux/x86 6.1.0 Kernel Configuration\nCONFIG_X86_64=y\nCONFIG_VIRTIO_NET=m\n"
                    "CONFIG_VIRTIO_NET=y\n")
    out = run_module(kernel_config_info, {"source": "path", "path": str(path)})
    assert out["failed"] is True
    assert out["msg"].startswith("%s: CONFIG_VIRTIO_NET is set twice with different values: line 3 (m) "
                                 "and line 4 (y)" % path)


def test_installed_without_kernels_fails(tmp_path, run_module):
    out = run_module(kernel_config_info, {"source": "installed", "root": str(tmp_path)})
    assert out["failed"] is True and "no installed kernel configuration" in out["msg"]


def test_installed_lists_configurations_that_are_no_file_as_unreadable_kernels(tmp_path, run_module):
    # before: left out, and with nothing else "no installed kernel configuration", as if
    # the tree had no kernel
    boot = tmp_path / "boot"
    boot.mkdir()
    os.mkfifo(str(boot / "config-6.1.0-1-amd64"))
    (boot / "config-6.1.0-2-amd64").mkdir()
    (boot / "config-6.1.0-3-amd64").symlink_to("config-6.1.0-3-amd64")
    (boot / "config-6.1.0-4-amd64").symlink_to("/nowhere")   # leads nowhere: no kernel
    out = run_module(kernel_config_info, {"source": "installed", "root": str(tmp_path)})
    assert out["rc"] == 0 and "failed" not in out
    reasons = {"6.1.0-1-amd64": "config-6.1.0-1-amd64: is a FIFO (named pipe), not a regular file",
               "6.1.0-2-amd64": "config-6.1.0-2-amd64: is a directory, not a regular file",
               "6.1.0-3-amd64": "config-6.1.0-3-amd64: too many levels of symbolic links"}
    assert [k["release"] for k in out["kernels"]] == sorted(reasons)
    for kernel in out["kernels"]:
        assert kernel["error"].startswith("%s/boot/%s" % (tmp_path, reasons[kernel["release"]]))
        assert set(statuses(kernel["results"]).values()) == {"unknown"}
        assert any(kernel["error"] in str(warning) for warning in out["warnings"])
    assert out["kernel"] == "6.1.0-3-amd64"


def test_a_default_kernel_whose_configuration_is_no_file_is_not_replaced(tmp_path, run_module):
    # the tree boots the cloud kernel: with its configuration a FIFO, the other kernel
    # must not be judged in its place
    root = tree(tmp_path)
    config = os.path.join(root, "boot", "config-" + CLOUD)
    os.unlink(config)
    os.mkfifo(config)
    out = run_module(kernel_config_info, {"source": "installed", "root": root})
    assert out["kernel"] == CLOUD and "FIFO" in out["kernels"][0]["error"]
    assert set(statuses(out["results"]).values()) == {"unknown"}
    out = run_module(kernel_config_info, {"root": root})   # source=running in a tree
    assert out["failed"] is True and config in out["msg"] and "FIFO" in out["msg"]


def test_fifo_as_path_is_named_and_never_blocks(tmp_path, run_module):
    fifo = tmp_path / "config.fifo"
    os.mkfifo(str(fifo))
    out = run_module(kernel_config_info, {"source": "path", "path": str(fifo)})
    assert out["failed"] and "config.fifo: is a FIFO (named pipe), not a regular file" in out["msg"]


def test_image_configs_resolve_inside_the_image(tmp_path, run_module):
    """A tree whose /boot/config-* links to the controller's file: the file is
    not read (the link resolves inside the tree, where nothing is)."""
    outside = tmp_path / "controller-config"
    outside.write_bytes(fixture_text("bookworm_amd64_cloud-amd64.config.gz"))
    root = tmp_path / "image"
    (root / "boot").mkdir(parents=True)
    (root / "boot" / ("config-" + CLOUD)).symlink_to(str(outside))
    out = run_module(kernel_config_info, {"source": "installed", "root": str(root)})
    assert out["failed"] and "no installed kernel configuration" in out["msg"]
    # the same link, once the tree has its own file at that place, reads the tree's
    inner = root / str(outside).lstrip("/")
    inner.parent.mkdir(parents=True)
    inner.write_bytes(fixture_text("bookworm_arm64_arm64.config.gz"))
    out = run_module(kernel_config_info, {"source": "installed", "root": str(root)})
    assert out["rc"] == 0 and out["kernels"][0]["arch"] == "arm64"


def test_a_minimal_configuration_is_said_and_judged_by_its_defaults(run_module):
    """Alpine's virt.x86_64.config (savedefconfig output of linux-lts 6.6):
    no false failure for the options it leaves to their Kconfig default."""
    path = os.path.join(FIXTURES, "minimal", "alpine-virt_6.6_x86_64.config")
    out = run_module(kernel_config_info, {"source": "path", "path": path, "version": "6.6.35",
                                          "check_initramfs": False})
    kernel = out["kernels"][0]
    assert (kernel["form"], kernel["arch"], kernel["arch_source"]) == \
        ("minimal", "x86_64", "inferred from CONFIG_IA32_EMULATION=y")
    assert kernel["form_evidence"][0] == "no '# Linux/<arch> <version> Kernel Configuration' header"
    assert "a minimal configuration (savedefconfig/defconfig style" in kernel["warnings"][0]
    assert kernel["warnings"][0] in str(out["warnings"])  # and the task warns
    found = statuses(out["results"])
    for rid in ("KCONF-KVM_GUEST", "KCONF-KVM_CLOCK", "KCONF-DEBUG_RODATA",
                "KCONF-DEBUG_SET_MODULE_RONX", "KCONF-CC_STACKPROTECTOR"):
        assert found[rid] == "pass", rid
    assert found["KCONF-SECURITY_YAMA"] == "fail"  # not listed, and Yama defaults to n
    # without the version: unknown where the default depends on it, never fail
    out = run_module(kernel_config_info, {"source": "path", "path": path, "check_initramfs": False})
    found = statuses(out["results"])
    assert found["KCONF-KVM_GUEST"] == found["KCONF-CC_STACKPROTECTOR"] == "unknown"
    assert "fail" not in found.values()


ALPINE = "5.4.21-0-virt"


def alpine_tree(tmp_path, release=ALPINE):
    """Alpine's layout: one kernel per flavor, its /boot files named by the
    flavor (config-virt, vmlinuz-virt, initramfs-virt), its modules under
    lib/modules/<release>; no /proc/config.gz (CONFIG_IKCONFIG=m)."""
    root = tmp_path / "alpine"
    (root / "boot").mkdir(parents=True)
    (root / "boot" / "config-virt").write_bytes(fixture_text("distros/alpine-edge_5.4_x86_64.config.gz"))
    (root / "boot" / "vmlinuz-virt").write_bytes(b"")
    drivers = ("virtio_pci", "virtio_net", "virtio_scsi")
    modules = root / "lib" / "modules" / release
    modules.mkdir(parents=True)
    (modules / "modules.dep").write_text("".join("kernel/%s.ko.gz:\n" % name for name in drivers))
    (modules / "modules.alias").write_text("")
    members = ["lib/modules/%s/kernel/%s.ko.gz" % (release, name) for name in drivers]
    (root / "boot" / "initramfs-virt").write_bytes(gzip.compress(cpio(members)))
    return str(root)


@pytest.mark.parametrize("source", ["running", "installed"])
def test_alpines_configuration_is_named_by_the_flavor(tmp_path, run_module, source):
    root = alpine_tree(tmp_path)
    out = run_module(kernel_config_info, {"source": source, "root": root})
    # vmlinuz-virt and config-virt name the one kernel: no guess among several
    assert not any(root + " holds several kernels" in str(warning) for warning in out.get("warnings", []))
    assert out["rc"] == 0, out
    assert out["kernel"] == ALPINE and out["config"] == os.path.join(root, "boot", "config-virt")
    assert [kernel["release"] for kernel in out["kernels"]] == [ALPINE]
    found = statuses(out["results"])
    assert (found["KCONF-VIRTIO_PCI"], found["KCONF-SCSI_VIRTIO"], found["KCONF-VIRTIO_NET"]) == \
        ("module-in-initramfs",) * 3
    assert out["kernels"][0]["initramfs"]["path"] == os.path.join(root, "boot", "initramfs-virt")


def test_a_flavors_configuration_of_another_version_is_not_the_kernels(tmp_path, run_module):
    # the virt kernel was upgraded: /boot/config-virt is 5.4.21's, the modules 5.4.22's
    root = alpine_tree(tmp_path, release="5.4.22-0-virt")
    out = run_module(kernel_config_info, {"source": "running", "root": root})
    assert out["failed"] and out["rc"] == 1
    assert "no configuration for kernel 5.4.22-0-virt" in out["msg"]
    assert "%s (Linux 5.4.21, not 5.4.22)" % os.path.join(root, "boot", "config-virt") in out["msg"]


@pytest.mark.parametrize("source", [None, "running", "installed"])
def test_a_path_without_source_path_is_refused_not_ignored(tmp_path, run_module, source):
    """path: <a .config about to be built> without source: path was ignored: the verdict was
    that of the tree's default kernel (or the running one), shown as if it were the file's."""
    root = tree(tmp_path)
    other = "/build/.config"  # read under root
    os.makedirs(os.path.join(root, "build"))
    with open(os.path.join(FIXTURES, "synthetic", "4.9_arm64.config"), "rb") as src:
        with open(os.path.join(root, "build", ".config"), "wb") as dst:
            dst.write(src.read())
    args = {"root": root, "path": other}
    if source:
        args["source"] = source
    out = run_module(kernel_config_info, args)
    assert out["rc"] == 1 and out["failed"] is True and "results" not in out
    assert out["msg"] == ("path: %s is read only with source=path, and source is %s; give source=path to check "
                          "that file" % (other, source or "running"))
    out = run_module(kernel_config_info, dict(args, source="path"))
    assert out["rc"] == 0 and out["config"] == os.path.join(root, "build", ".config")
    assert out["kernels"][0]["arch"] == "arm64"  # the file's, not the tree's x86_64 kernel


@pytest.mark.parametrize("source", ["running", "installed"])
@pytest.mark.parametrize("option, value, said", [
    ("version", "four", "version 'four' is not a kernel version (for example 6.1 or 4.9.0)"),
    ("version", "  ", "version '  ' is not a kernel version (for example 6.1 or 4.9.0)"),
    ("arch", "x64", "arch 'x64' is not one of x86_64, x86_32, arm64 (amd64, aarch64, i686 and x86 are accepted)"),
])
def test_a_bad_version_or_arch_fails_whatever_the_source(tmp_path, run_module, source, option, value, said):
    """With source=installed (what an image audit uses), a mistyped version or arch was only a
    warning per kernel: every KCONF-* result became unknown, which warns, in a task that passed."""
    out = run_module(kernel_config_info, {"root": tree(tmp_path), "source": source, option: value})
    assert out["rc"] == 1 and out["failed"] is True and "results" not in out
    assert out["msg"] == said


@pytest.mark.parametrize("release", ["6.1.0-50-cloud-amd46", "  "])
def test_installed_with_a_kernel_release_that_is_not_installed_fails(tmp_path, run_module, release):
    """source=installed with a mistyped kernel_release made the newest kernel's results (sid's)
    the top-level ones, without a word, as if they were the named kernel's."""
    root = tree(tmp_path)
    out = run_module(kernel_config_info, {"root": root, "source": "installed", "kernel_release": release})
    assert out["rc"] == 1 and out["failed"] is True and "results" not in out
    assert out["msg"] == "kernel_release: %s is not installed under %s (installed: %s, %s)" % (release, root, CLOUD, SID)
    out = run_module(kernel_config_info, {"root": root, "source": "installed", "kernel_release": CLOUD})
    assert out["rc"] == 0 and out["kernel"] == CLOUD


@pytest.mark.parametrize("make", [os.mkfifo, lambda path: os.symlink("boot", path)], ids=["fifo", "loop"])
def test_a_boot_that_cannot_be_listed_is_an_error_not_no_kernel(tmp_path, run_module, make):
    """A tree whose /boot is a FIFO or a link loop: its kernels were silently 'none
    installed' (the /lib/modules ones judged instead, or nothing at all)."""
    root = tree(tmp_path)
    shutil.rmtree(os.path.join(root, "boot"))
    make(os.path.join(root, "boot"))
    out = run_module(kernel_config_info, {"source": "installed", "root": root})
    assert out["failed"] is True and "Traceback" not in repr(out)
    assert "the installed kernels cannot be listed" in out["msg"] and "/boot" in out["msg"], out["msg"]


@pytest.mark.parametrize("named", [False, True])
def test_installed_never_judges_another_kernel_for_one_without_configuration(tmp_path, run_module, named):
    """The tree boots (or kernel_release names) a kernel whose configuration is nowhere (its
    modules are installed, its config file is not): the older kernel's results were the
    top-level ones, as if it were the kernel judged."""
    root = tree(tmp_path)
    newer = "6.1.0-60-cloud-amd64"
    modules = os.path.join(root, "lib", "modules", newer)
    os.makedirs(modules)
    with open(os.path.join(modules, "modules.dep"), "w") as handle:
        handle.write("")
    os.unlink(os.path.join(root, "vmlinuz"))
    os.symlink("boot/vmlinuz-" + newer, os.path.join(root, "vmlinuz"))
    open(os.path.join(root, "boot", "vmlinuz-" + newer), "w").close()
    params = {"source": "installed", "root": root}
    if named:
        params["kernel_release"] = newer
    out = run_module(kernel_config_info, params)
    assert out["rc"] == 0 and out["kernel"] == newer
    assert [k["release"] for k in out["kernels"]] == [CLOUD, newer, SID]
    missing = out["kernels"][1]
    assert missing["error"].startswith("no configuration for kernel %s: tried " % newer)
    assert os.path.join(root, "boot", "config-" + newer) in missing["error"]
    assert set(statuses(out["results"]).values()) == {"unknown"}
    assert any(missing["error"] in str(warning) for warning in out["warnings"])


def test_the_choice_of_kernel_is_said(tmp_path, run_module):
    root = tree(tmp_path)
    out = run_module(kernel_config_info, {"root": root})
    assert (out["kernel"], out["chosen_by"]) == (CLOUD, "the /vmlinuz link")
    assert not any(root + " holds several kernels" in str(warning) for warning in out.get("warnings", []))
    out = run_module(kernel_config_info, {"root": root, "kernel_release": SID})
    assert (out["kernel"], out["chosen_by"]) == (SID, "kernel_release")
    # nothing tells which kernel the tree boots: the newest is a guess, and the task says so
    os.unlink(os.path.join(root, "vmlinuz"))
    for source in ("running", "installed"):
        out = run_module(kernel_config_info, {"root": root, "source": source})
        assert (out["kernel"], out["chosen_by"]) == (SID, "the newest installed kernel")
        assert any("holds several kernels (%s, %s)" % (CLOUD, SID) in str(warning) and "judged the newest, " + SID
                   in str(warning) for warning in out["warnings"])
    out = run_module(kernel_config_info, {"source": "path", "root": root, "path": "/boot/config-" + CLOUD})
    assert out["chosen_by"] is None


def test_installed_with_a_kernel_release_that_is_only_a_dangling_name_fails(tmp_path, run_module):
    # /boot/config-R leads nowhere in the tree and R has no kernel image or modules: the newest
    # kernel's results were the top-level ones, as if they were R's
    root = tree(tmp_path)
    os.symlink("/nowhere", os.path.join(root, "boot", "config-6.1.0-4-amd64"))
    out = run_module(kernel_config_info, {"root": root, "source": "installed", "kernel_release": "6.1.0-4-amd64"})
    assert out["failed"] is True
    assert out["msg"] == "kernel_release: 6.1.0-4-amd64 is not installed under %s (installed: %s, %s)" % (root, CLOUD, SID)


ARCH = "6.18.7-arch1-1"


def arch_tree(tmp_path, link=True):
    """An Arch Linux root: the kernel in /usr/lib/modules/R (vmlinuz, no
    /boot/config-R), /lib a link to usr/lib, and linux-headers' configuration
    in R/build/.config (``build`` an absolute link to the headers tree, as a
    copied root may have it; Arch's own is a directory)."""
    root = tmp_path / "arch"
    modules = root / "usr" / "lib" / "modules" / ARCH
    modules.mkdir(parents=True)
    (modules / "vmlinuz").write_bytes(b"kernel")
    (root / "boot").mkdir()
    (root / "boot" / "vmlinuz-linux").write_bytes(b"kernel")
    os.symlink("usr/lib", str(root / "lib"))
    headers = root / "usr" / "src" / ("linux-" + ARCH) if link else modules / "build"
    headers.mkdir(parents=True)
    (headers / ".config").write_bytes(fixture_text(os.path.join("distros", "arch_6.18_x86_64.config.gz")))
    if link:
        os.symlink("/usr/src/linux-" + ARCH, str(modules / "build"))
    return str(root)


@pytest.mark.parametrize("link", [True, False])
def test_arch_linux_configuration_is_found_in_the_kernel_headers(tmp_path, run_module, link):
    root = arch_tree(tmp_path, link)
    config = os.path.join(root, "lib/modules", ARCH, "build/.config")
    out = run_module(kernel_config_info, {"root": root, "check_initramfs": False})
    assert out.get("failed") is not True, out.get("msg")
    assert (out["kernel"], out["config"]) == (ARCH, config)
    kernel = out["kernels"][0]
    assert (kernel["version"], kernel["arch"], kernel["source"]) == ("6.18.7", "x86_64", config)
    assert any("read from its kernel headers (build/.config" in warning for warning in kernel["warnings"])
    assert statuses(out["results"])["KCONF-SECURITY_YAMA"] == "pass"
    out = run_module(kernel_config_info, {"root": root, "source": "installed", "check_initramfs": False})
    assert [(k["release"], k["config"]) for k in out["kernels"]] == [(ARCH, config)]
    assert out["kernel"] == ARCH


def test_kernel_headers_alone_are_no_installed_kernel(tmp_path, run_module):
    # linux-headers installed for a kernel that is not: its build/.config is not a kernel to judge
    root = arch_tree(tmp_path)
    other = tmp_path / "arch" / "usr" / "lib" / "modules" / "6.17.1-arch1-1"
    other.mkdir()
    os.symlink("/usr/src/linux-" + ARCH, str(other / "build"))
    out = run_module(kernel_config_info, {"root": root, "source": "installed", "check_initramfs": False})
    assert [k["release"] for k in out["kernels"]] == [ARCH]


def test_a_build_link_out_of_the_root_is_read_inside_it(tmp_path, run_module):
    root = arch_tree(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / ".config").write_text("CONFIG_X86_64=y\nCONFIG_SECURITY_YAMA=y\n")
    build = os.path.join(root, "usr/lib/modules", ARCH, "build")
    os.unlink(build)
    os.symlink("../../../../../../outside", build)
    out = run_module(kernel_config_info, {"root": root, "check_initramfs": False})
    # the link leads nowhere inside the root: no configuration, never the host's file
    assert out["failed"] is True and "no configuration for kernel %s" % ARCH in out["msg"]


@pytest.mark.parametrize("source", ["installed", "running", "path"])
@pytest.mark.parametrize("initramfs", ["/boot/initrd.img-6.1.0-50-cloud", "/boot", "/boot/fifo", "/boot/out"])
def test_an_initramfs_that_is_no_file_is_a_clear_failure(tmp_path, run_module, source, initramfs):
    """initramfs naming nothing (a typo), a directory, a FIFO or a link out
    of the tree: the task passed, every =m driver unknown and the reason
    only in kernels[].initramfs.error; guest_hardware_info fails on the
    same option.  Now the task fails naming it, before anything is read."""
    root = tree(tmp_path)
    os.mkfifo(os.path.join(root, "boot", "fifo"))
    outside = tmp_path / "initrd.img"
    outside.write_bytes(gzip.compress(cpio(["usr/lib/modules/%s/kernel/virtio_pci.ko" % CLOUD])))
    os.symlink(str(outside), os.path.join(root, "boot", "out"))
    options = {"source": source, "root": root, "initramfs": initramfs}
    if source == "path":
        options["path"] = "/boot/config-" + CLOUD
    out = run_module(kernel_config_info, options)
    assert out["failed"] is True and out["msg"] == "initramfs: %s%s is not a regular file" % (root, initramfs)
    assert "results" not in out
    options["initramfs"] = "/boot/initrd.img-" + CLOUD
    assert run_module(kernel_config_info, options)["rc"] == 0
