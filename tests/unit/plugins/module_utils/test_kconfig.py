"""The kconfig reader and the KCONF-* evaluation, on real Debian configurations
(tests/fixtures/kconfig/*.config.gz, see the README there) and small synthetic
ones for old kernels (tests/fixtures/kconfig/synthetic/)."""

import gzip
import os

import pytest

from ansible_collections.guestready.gce.plugins.module_utils import catalogue as cat
from ansible_collections.guestready.gce.plugins.module_utils import kconfig
from ansible_collections.guestready.gce.plugins.module_utils.target import Target
from ansible_collections.guestready.gce.plugins.module_utils.policy import resolve

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "..", "..", "fixtures", "kconfig")
ENTRIES = cat.requirements(("kernel-required", "kernel-security"))

# Catalogue order; every row below gives one verdict per ID in this order.
IDS = ("KVM_GUEST", "KVM_CLOCK", "VIRTIO_PCI", "SCSI_VIRTIO", "VIRTIO_NET", "PCI_MSI",
       "STRICT_DEVMEM", "DEVKMEM", "DEFAULT_MMAP_MIN_ADDR", "DEBUG_RODATA",
       "DEBUG_SET_MODULE_RONX", "CC_STACKPROTECTOR", "COMPAT_VDSO", "COMPAT_BRK", "X86_PAE",
       "SYN_COOKIES", "SECURITY_YAMA", "SECURITY_YAMA_STACKED")
STATUS = {"P": "pass", "F": "fail", "N": "not-applicable", "U": "unknown"}

# Verdict tokens: <status>[:<symbol that decided>].  U = a required driver
# built as a module, with no initramfs given (the initramfs cases are below).
# Debian x86_64, 6.1: kvmclock folded into KVM_GUEST, virtio drivers =m,
# /dev/kmem gone (5.13), renamed RWX/stack-protector options, Yama stacking
# folded into Yama (4.3).
DEBIAN_61_X86_64 = ("P:KVM_GUEST P:KVM_GUEST U:VIRTIO_PCI U:SCSI_VIRTIO U:VIRTIO_NET P:PCI_MSI "
                    "P:STRICT_DEVMEM P P:DEFAULT_MMAP_MIN_ADDR P:STRICT_KERNEL_RWX "
                    "P:STRICT_MODULE_RWX P:STACKPROTECTOR P:COMPAT_VDSO P:COMPAT_BRK N "
                    "P:SYN_COOKIES P:SECURITY_YAMA P:SECURITY_YAMA")
# 5.10 still has DEVKMEM ("is not set")
DEBIAN_510_X86_64 = DEBIAN_61_X86_64.replace(" P P:DEFAULT", " P:DEVKMEM P:DEFAULT")
# 6.12 and 7.2 build VIRTIO_PCI in
DEBIAN_612_X86_64 = DEBIAN_61_X86_64.replace("U:VIRTIO_PCI", "P:VIRTIO_PCI")
# arm64: no KVM_GUEST/KVM_CLOCK/X86_PAE, COMPAT_VDSO means something else,
# Debian's mmap_min_addr 4096 is below the 32768 expected on arm64
DEBIAN_61_ARM64 = ("N N U:VIRTIO_PCI U:SCSI_VIRTIO U:VIRTIO_NET P:PCI_MSI P:STRICT_DEVMEM P "
                   "F:DEFAULT_MMAP_MIN_ADDR P:STRICT_KERNEL_RWX P:STRICT_MODULE_RWX "
                   "P:STACKPROTECTOR N P:COMPAT_BRK N P:SYN_COOKIES P:SECURITY_YAMA P:SECURITY_YAMA")
DEBIAN_510_ARM64 = DEBIAN_61_ARM64.replace(" P F:DEFAULT", " P:DEVKMEM F:DEFAULT")
DEBIAN_612_ARM64 = DEBIAN_61_ARM64.replace("U:VIRTIO_PCI", "P:VIRTIO_PCI")
# 32-bit x86: X86_PAE applies (686-pae passes, 686 fails)
DEBIAN_61_686PAE = DEBIAN_61_X86_64.replace(" N P:SYN", " P:X86_PAE P:SYN")
DEBIAN_61_686 = DEBIAN_61_X86_64.replace(" N P:SYN", " F:X86_PAE P:SYN")
DEBIAN_510_686PAE = DEBIAN_510_X86_64.replace(" N P:SYN", " P:X86_PAE P:SYN")
DEBIAN_510_686 = DEBIAN_510_X86_64.replace(" N P:SYN", " F:X86_PAE P:SYN")

# fixture -> (version, arch, verdicts)
TABLE = {
    "bullseye_amd64_amd64.config.gz": ((5, 10, 223), "x86_64", DEBIAN_510_X86_64),
    "bullseye_amd64_cloud-amd64.config.gz": ((5, 10, 223), "x86_64", DEBIAN_510_X86_64),
    "bullseye_arm64_arm64.config.gz": ((5, 10, 223), "arm64", DEBIAN_510_ARM64),
    "bullseye_i386_686-pae.config.gz": ((5, 10, 223), "x86_32", DEBIAN_510_686PAE),
    "bullseye_i386_686.config.gz": ((5, 10, 223), "x86_32", DEBIAN_510_686),
    "bookworm_amd64_amd64.config.gz": ((6, 1, 176), "x86_64", DEBIAN_61_X86_64),
    "bookworm_amd64_cloud-amd64.config.gz": ((6, 1, 176), "x86_64", DEBIAN_61_X86_64),
    "bookworm_arm64_arm64.config.gz": ((6, 1, 176), "arm64", DEBIAN_61_ARM64),
    "bookworm_arm64_cloud-arm64.config.gz": ((6, 1, 176), "arm64", DEBIAN_61_ARM64),
    "bookworm_i386_686-pae.config.gz": ((6, 1, 176), "x86_32", DEBIAN_61_686PAE),
    "bookworm_i386_686.config.gz": ((6, 1, 176), "x86_32", DEBIAN_61_686),
    "trixie_amd64_amd64.config.gz": ((6, 12, 117), "x86_64", DEBIAN_612_X86_64),
    "trixie_amd64_cloud-amd64.config.gz": ((6, 12, 117), "x86_64", DEBIAN_612_X86_64),
    "trixie_arm64_arm64.config.gz": ((6, 12, 117), "arm64", DEBIAN_612_ARM64),
    "trixie_arm64_cloud-arm64.config.gz": ((6, 12, 117), "arm64", DEBIAN_612_ARM64),
    "sid_amd64_amd64.config.gz": ((7, 2, 13), "x86_64", DEBIAN_612_X86_64),
    "sid_arm64_arm64.config.gz": ((7, 2, 13), "arm64", DEBIAN_612_ARM64),
    # 3.2: KVM_CLOCK still exists; old names; no Yama before 3.4
    "synthetic/3.2_x86_64_kvmclock.config": (
        (3, 2, 0), "x86_64",
        "P:KVM_GUEST P:KVM_CLOCK P:VIRTIO_PCI P:SCSI_VIRTIO P:VIRTIO_NET P:PCI_MSI P:STRICT_DEVMEM "
        "P:DEVKMEM P:DEFAULT_MMAP_MIN_ADDR P:DEBUG_RODATA P:DEBUG_SET_MODULE_RONX "
        "P:CC_STACKPROTECTOR P:COMPAT_VDSO P:COMPAT_BRK N P:SYN_COOKIES F:SECURITY_YAMA "
        "F:SECURITY_YAMA"),
    "synthetic/3.2_x86_64_kvmclock-off.config": (
        (3, 2, 0), "x86_64",
        "P:KVM_GUEST F:KVM_CLOCK U:VIRTIO_PCI U:SCSI_VIRTIO U:VIRTIO_NET P:PCI_MSI P:STRICT_DEVMEM "
        "F:DEVKMEM P:DEFAULT_MMAP_MIN_ADDR P:DEBUG_RODATA F:DEBUG_SET_MODULE_RONX "
        "F:CC_STACKPROTECTOR P:COMPAT_VDSO P:COMPAT_BRK N P:SYN_COOKIES F:SECURITY_YAMA "
        "F:SECURITY_YAMA"),
    # 3.16: the 3.14 stack-protector choice on NONE: the fix is a choice member
    "synthetic/3.16_x86_64_stackprotector-none.config": (
        (3, 16, 0), "x86_64",
        "P:KVM_GUEST P:KVM_GUEST P:VIRTIO_PCI P:SCSI_VIRTIO P:VIRTIO_NET P:PCI_MSI P:STRICT_DEVMEM "
        "P:DEVKMEM P:DEFAULT_MMAP_MIN_ADDR P:DEBUG_RODATA P:DEBUG_SET_MODULE_RONX "
        "F:CC_STACKPROTECTOR_STRONG P:COMPAT_VDSO P:COMPAT_BRK N P:SYN_COOKIES P:SECURITY_YAMA "
        "P:SECURITY_YAMA_STACKED"),
    "synthetic/4.1_x86_64_yama-unstacked.config": (
        (4, 1, 12), "x86_64",
        "P:KVM_GUEST P:KVM_GUEST P:VIRTIO_PCI P:SCSI_VIRTIO P:VIRTIO_NET P:PCI_MSI P:STRICT_DEVMEM "
        "P:DEVKMEM P:DEFAULT_MMAP_MIN_ADDR F:DEBUG_RODATA P:DEBUG_SET_MODULE_RONX "
        "P:CC_STACKPROTECTOR P:COMPAT_VDSO P:COMPAT_BRK N P:SYN_COOKIES P:SECURITY_YAMA "
        "F:SECURITY_YAMA_STACKED"),
    "synthetic/4.2_x86_64_yama-stacked.config": (
        (4, 2, 0), "x86_64",
        "P:KVM_GUEST P:KVM_GUEST P:VIRTIO_PCI P:SCSI_VIRTIO P:VIRTIO_NET P:PCI_MSI P:STRICT_DEVMEM "
        "P:DEVKMEM P:DEFAULT_MMAP_MIN_ADDR P:DEBUG_RODATA P:DEBUG_SET_MODULE_RONX "
        "P:CC_STACKPROTECTOR P:COMPAT_VDSO P:COMPAT_BRK N P:SYN_COOKIES P:SECURITY_YAMA "
        "P:SECURITY_YAMA_STACKED"),
    "synthetic/4.9_x86_64_devkmem.config": (
        (4, 9, 0), "x86_64",
        "P:KVM_GUEST P:KVM_GUEST P:VIRTIO_PCI P:SCSI_VIRTIO P:VIRTIO_NET P:PCI_MSI P:STRICT_DEVMEM "
        "F:DEVKMEM F:DEFAULT_MMAP_MIN_ADDR P:DEBUG_RODATA P:DEBUG_SET_MODULE_RONX "
        "P:CC_STACKPROTECTOR F:COMPAT_VDSO F:COMPAT_BRK N P:SYN_COOKIES F:SECURITY_YAMA "
        "F:SECURITY_YAMA"),
    "synthetic/4.9_arm64.config": (
        (4, 9, 0), "arm64",
        "N N P:VIRTIO_PCI U:SCSI_VIRTIO U:VIRTIO_NET P:PCI_MSI P:STRICT_DEVMEM P:DEVKMEM "
        "P:DEFAULT_MMAP_MIN_ADDR P:DEBUG_RODATA P:DEBUG_SET_MODULE_RONX P:CC_STACKPROTECTOR N "
        "P:COMPAT_BRK N P:SYN_COOKIES P:SECURITY_YAMA P:SECURITY_YAMA"),
    "synthetic/4.9_i386_nopae.config": (
        (4, 9, 0), "x86_32",
        "P:KVM_GUEST P:KVM_GUEST P:VIRTIO_PCI P:SCSI_VIRTIO P:VIRTIO_NET P:PCI_MSI P:STRICT_DEVMEM "
        "P:DEVKMEM P:DEFAULT_MMAP_MIN_ADDR P:DEBUG_RODATA P:DEBUG_SET_MODULE_RONX "
        "P:CC_STACKPROTECTOR P:COMPAT_VDSO P:COMPAT_BRK F:X86_PAE P:SYN_COOKIES P:SECURITY_YAMA "
        "P:SECURITY_YAMA"),
    "synthetic/4.9_i386_pae.config.gz": (
        (4, 9, 0), "x86_32",
        "P:KVM_GUEST P:KVM_GUEST P:VIRTIO_PCI P:SCSI_VIRTIO P:VIRTIO_NET P:PCI_MSI P:STRICT_DEVMEM "
        "P:DEVKMEM P:DEFAULT_MMAP_MIN_ADDR P:DEBUG_RODATA P:DEBUG_SET_MODULE_RONX "
        "P:CC_STACKPROTECTOR P:COMPAT_VDSO P:COMPAT_BRK P:X86_PAE P:SYN_COOKIES P:SECURITY_YAMA "
        "P:SECURITY_YAMA"),
    # 4.16: AUTO (4.16/4.17 only) counts; no /dev/mem at all satisfies STRICT_DEVMEM
    "synthetic/4.16_x86_64_stackprotector-auto.config": (
        (4, 16, 0), "x86_64",
        "P:KVM_GUEST P:KVM_GUEST P:VIRTIO_PCI P:SCSI_VIRTIO P:VIRTIO_NET P:PCI_MSI P:DEVMEM "
        "P:DEVKMEM P:DEFAULT_MMAP_MIN_ADDR P:STRICT_KERNEL_RWX P:STRICT_MODULE_RWX "
        "P:CC_STACKPROTECTOR_AUTO P:COMPAT_VDSO P:COMPAT_BRK N P:SYN_COOKIES P:SECURITY_YAMA "
        "P:SECURITY_YAMA"),
    # 4.17: no modules at all satisfies module RONX; KVM_GUEST off fails both KVM IDs
    "synthetic/4.17_x86_64_stackprotector-regular.config": (
        (4, 17, 0), "x86_64",
        "F:KVM_GUEST F:KVM_GUEST P:VIRTIO_PCI P:SCSI_VIRTIO P:VIRTIO_NET P:PCI_MSI P:STRICT_DEVMEM "
        "P:DEVKMEM P:DEFAULT_MMAP_MIN_ADDR P:STRICT_KERNEL_RWX P:MODULES P:CC_STACKPROTECTOR "
        "P:COMPAT_VDSO P:COMPAT_BRK N P:SYN_COOKIES P:SECURITY_YAMA P:SECURITY_YAMA"),
}


def fixture(name):
    return os.path.join(FIXTURES, name)


def verdicts(row):
    tokens = row.split()
    assert len(tokens) == len(IDS)
    result = {}
    for rid, token in zip(IDS, tokens):
        status, dummy, symbol = token.partition(":")
        result["KCONF-" + rid] = (STATUS[status], symbol or None)
    return result


def test_table_covers_every_fixture_and_id():
    assert [e["id"] for e in ENTRIES] == ["KCONF-" + rid for rid in IDS]
    on_disk = set(name for name in os.listdir(FIXTURES) if name.endswith(".config.gz"))
    on_disk |= set("synthetic/" + name for name in os.listdir(fixture("synthetic")))
    assert on_disk == set(TABLE)


@pytest.mark.parametrize("name", sorted(TABLE))
def test_every_verdict(name):
    version, arch, row = TABLE[name]
    config = kconfig.read(fixture(name))
    assert (config.version, config.arch, config.version_source) == (version, arch, "header")
    assert config.warnings == []
    got = dict((r["id"], (r["status"], r["symbol"])) for r in kconfig.evaluate(ENTRIES, config))
    assert got == verdicts(row)


@pytest.mark.parametrize("name", sorted(TABLE))
def test_every_result_is_complete(name):
    for result in kconfig.evaluate(ENTRIES, kconfig.read(fixture(name))):
        assert result["message"] and "\n" not in result["message"]
        assert result["evidence"]["config"] == fixture(name)
        if result["status"] == "fail":
            assert result["remediation"] or "another kernel version" in result["message"], result
        if result["status"] == "pass":
            assert result["remediation"] == ""


def by_id(results):
    return dict((r["id"], r) for r in results)


def test_real_debian_values_are_reported():
    results = by_id(kconfig.evaluate(ENTRIES, kconfig.read(fixture("bookworm_arm64_arm64.config.gz"))))
    mmap = results["KCONF-DEFAULT_MMAP_MIN_ADDR"]
    assert (mmap["actual"], mmap["expected"]) == ("4096", "32768")
    assert mmap["message"] == "CONFIG_DEFAULT_MMAP_MIN_ADDR=4096, expected at least 32768 (arm64)"
    assert mmap["remediation"] == "CONFIG_DEFAULT_MMAP_MIN_ADDR=32768"
    assert results["KCONF-KVM_GUEST"]["message"] == "applies to x86_64, x86_32 only; this kernel is arm64"
    rwx = results["KCONF-DEBUG_RODATA"]
    assert rwx["found"] == "y" and "the name of DEBUG_RODATA in Linux 6.1.176" in rwx["message"]
    results = by_id(kconfig.evaluate(ENTRIES, kconfig.read(fixture("bookworm_amd64_cloud-amd64.config.gz"))))
    assert results["KCONF-DEVKMEM"]["message"] == \
        "CONFIG_DEVKMEM does not exist in Linux 6.1.176: nothing to disable"
    assert results["KCONF-KVM_CLOCK"]["message"].startswith(
        "CONFIG_KVM_CLOCK is not in this configuration: it is folded into CONFIG_KVM_GUEST")
    assert results["KCONF-SECURITY_YAMA_STACKED"]["message"].startswith(
        "CONFIG_SECURITY_YAMA_STACKED does not exist in Linux 6.1.176")
    assert results["KCONF-SCSI_VIRTIO"]["found"] == "m"


# -- initramfs statuses for =m drivers ---------------------------------------

def view(modules, path="/boot/initrd.img-6.1.0-50-cloud-amd64", error=None):
    return {"path": path, "method": "python:zstd(command)", "modules": modules, "error": error}


def test_module_in_and_missing_from_initramfs():
    config = kconfig.read(fixture("bookworm_amd64_cloud-amd64.config.gz"))
    results = by_id(kconfig.evaluate(ENTRIES, config, initramfs=view({"virtio_pci", "virtio_scsi"})))
    assert results["KCONF-VIRTIO_PCI"]["status"] == "module-in-initramfs"
    assert results["KCONF-SCSI_VIRTIO"]["status"] == "module-in-initramfs"
    assert results["KCONF-SCSI_VIRTIO"]["module"] == "virtio_scsi"
    assert results["KCONF-SCSI_VIRTIO"]["remediation"] == ""
    net = results["KCONF-VIRTIO_NET"]
    assert net["status"] == "module-missing-from-initramfs"
    assert net["message"] == ("CONFIG_VIRTIO_NET=m: built as module virtio_net, missing from "
                              "/boot/initrd.img-6.1.0-50-cloud-amd64")
    assert net["remediation"] == "CONFIG_VIRTIO_NET=y" and "virtio_net" in net["hint"]
    assert net["initramfs"] == {"path": "/boot/initrd.img-6.1.0-50-cloud-amd64",
                                "method": "python:zstd(command)", "error": None}


def test_could_not_inspect_is_unknown_never_a_pass():
    config = kconfig.read(fixture("bookworm_amd64_amd64.config.gz"))
    results = kconfig.evaluate(ENTRIES, config, initramfs=view(None, error="x: corrupt gzip data"))
    modules = [r for r in results if r["found"] == "m"]
    assert len(modules) == 3
    for result in modules:
        assert result["status"] == "unknown"
        assert "could not inspect /boot/initrd.img-6.1.0-50-cloud-amd64: x: corrupt gzip data" \
            in result["message"]
    missing = kconfig.evaluate(ENTRIES, config, initramfs=view(None, path=None, error="looked for x"))
    assert "no initramfs found to check (looked for x)" in by_id(missing)["KCONF-VIRTIO_NET"]["message"]


def test_a_driver_not_built_at_all_fails():
    config = kconfig.parse_text("# Linux/x86 6.1.0 Kernel Configuration\nCONFIG_64BIT=y\n"
                                "CONFIG_X86_64=y\n# CONFIG_VIRTIO_NET is not set\n")
    net = by_id(kconfig.evaluate(ENTRIES, config, initramfs=view(set())))["KCONF-VIRTIO_NET"]
    assert net["status"] == "fail" and net["remediation"] == "CONFIG_VIRTIO_NET=y"


# -- fragments ----------------------------------------------------------------

def fragment_settings(name, initramfs=None):
    config = kconfig.read(fixture(name))
    text = kconfig.render_fragment(kconfig.evaluate(ENTRIES, config, initramfs=initramfs), config)
    assert text.startswith("# guestready.gce")
    return [line for line in text.splitlines() if line.startswith("CONFIG_") or " is not set" in line
            and not line.startswith("# KCONF")]


@pytest.mark.parametrize("name,lines", [
    ("synthetic/3.2_x86_64_kvmclock-off.config",
     ["CONFIG_KVM_CLOCK=y", "# CONFIG_DEVKMEM is not set", "CONFIG_DEBUG_SET_MODULE_RONX=y",
      "CONFIG_CC_STACKPROTECTOR=y"]),
    # the hidden 3.14-4.17 CC_STACKPROTECTOR cannot be set: a choice member is
    ("synthetic/3.16_x86_64_stackprotector-none.config", ["CONFIG_CC_STACKPROTECTOR_STRONG=y"]),
    ("synthetic/4.1_x86_64_yama-unstacked.config",
     ["CONFIG_DEBUG_RODATA=y", "CONFIG_SECURITY_YAMA_STACKED=y"]),
    ("synthetic/4.9_x86_64_devkmem.config",
     ["# CONFIG_DEVKMEM is not set", "CONFIG_DEFAULT_MMAP_MIN_ADDR=65536",
      "# CONFIG_COMPAT_VDSO is not set", "# CONFIG_COMPAT_BRK is not set",
      "CONFIG_SECURITY_YAMA=y"]),   # once, although two IDs need it
    ("synthetic/4.17_x86_64_stackprotector-regular.config", ["CONFIG_KVM_GUEST=y"]),
    ("synthetic/4.9_i386_nopae.config", ["CONFIG_X86_PAE=y"]),
    ("bookworm_arm64_arm64.config.gz", ["CONFIG_DEFAULT_MMAP_MIN_ADDR=32768"]),
    ("bookworm_i386_686.config.gz", ["CONFIG_X86_PAE=y"]),
    ("trixie_amd64_cloud-amd64.config.gz", []),
])
def test_fragment_uses_the_names_of_the_kernel_version(name, lines):
    assert fragment_settings(name, initramfs=view({"virtio_pci", "virtio_scsi", "virtio_net"})) == lines


def test_fragment_builds_in_a_driver_the_initramfs_lacks():
    assert fragment_settings("bookworm_amd64_cloud-amd64.config.gz", view({"virtio_pci"})) == \
        ["CONFIG_SCSI_VIRTIO=y", "CONFIG_VIRTIO_NET=y"]
    config = kconfig.read(fixture("bookworm_amd64_cloud-amd64.config.gz"))
    text = kconfig.render_fragment(kconfig.evaluate(ENTRIES, config), config)
    assert "# (building it in needs no initramfs:) CONFIG_SCSI_VIRTIO=y" in text
    assert "\nCONFIG_SCSI_VIRTIO=y" not in text
    assert "for %s (Linux 6.1.176, x86_64)" % fixture("bookworm_amd64_cloud-amd64.config.gz") in text


def test_fragment_for_a_compliant_config_says_so():
    config = kconfig.read(fixture("synthetic/4.2_x86_64_yama-stacked.config"))
    text = kconfig.render_fragment(kconfig.evaluate(ENTRIES, config), config)
    assert text.endswith("# nothing to change: no KCONF-* requirement fails\n")


# -- version and architecture -------------------------------------------------

def test_header_forms():
    old = kconfig.parse_text("# Automatically generated make config: don't edit\n"
                             "# Linux kernel version: 2.6.32\nCONFIG_X86_64=y\nCONFIG_X86=y\n")
    assert (old.version, old.arch) == ((2, 6, 32), "x86_64")
    uek = kconfig.parse_text("# Linux/x86 4.1.12-124.91.3.el7uek.x86_64 Kernel Configuration\n"
                             "CONFIG_64BIT=y\nCONFIG_X86_64=y\n")
    assert (uek.version, uek.arch) == ((4, 1, 12), "x86_64")
    i386 = kconfig.parse_text("# Linux/i386 3.16.0 Kernel Configuration\nCONFIG_X86_32=y\n")
    assert i386.arch == "x86_32"
    x86_32 = kconfig.parse_text("# Linux/x86 6.1.0 Kernel Configuration\n# CONFIG_64BIT is not set\n")
    assert x86_32.arch == "x86_32"
    riscv = kconfig.parse_text("# Linux/riscv 6.1.0 Kernel Configuration\nCONFIG_64BIT=y\n")
    assert riscv.arch == "riscv"
    no_header = kconfig.parse_text("CONFIG_ARM64=y\nCONFIG_64BIT=y\n")
    assert (no_header.version, no_header.arch, no_header.version_source) == (None, "arm64", None)


def test_overrides_of_version_and_arch(tmp_path):
    path = tmp_path / "config"
    path.write_text("# Linux/x86 4.9.0 Kernel Configuration\nCONFIG_X86_64=y\nCONFIG_DEBUG_RODATA=y\n")
    config = kconfig.read(str(path), version="4.11", arch="aarch64")
    assert (config.version, config.version_source) == ((4, 11, 0), "override")
    assert (config.arch, config.arch_source) == ("arm64", "override")
    rodata = by_id(kconfig.evaluate(ENTRIES, config))["KCONF-DEBUG_RODATA"]
    # judged as 4.11: only STRICT_KERNEL_RWX counts, and that is what the fix sets
    assert rodata["status"] == "fail" and rodata["remediation"] == "CONFIG_STRICT_KERNEL_RWX=y"
    with pytest.raises(kconfig.KconfigError, match="'six' is not a kernel version"):
        kconfig.read(str(path), version="six")


def test_unknown_version_tries_every_name():
    config = kconfig.parse_text("CONFIG_X86=y\nCONFIG_X86_64=y\nCONFIG_DEBUG_RODATA=y\n"
                                "CONFIG_STRICT_MODULE_RWX=y\nCONFIG_DEVKMEM=y\nCONFIG_KVM_GUEST=y\n"
                                "CONFIG_CC_STACKPROTECTOR_AUTO=y\n")
    assert config.version is None
    results = by_id(kconfig.evaluate(ENTRIES, config))
    assert (results["KCONF-DEBUG_RODATA"]["status"], results["KCONF-DEBUG_RODATA"]["symbol"]) == \
        ("pass", "DEBUG_RODATA")
    assert results["KCONF-DEBUG_SET_MODULE_RONX"]["symbol"] == "STRICT_MODULE_RWX"
    assert "kernel version unknown" in results["KCONF-DEBUG_SET_MODULE_RONX"]["message"]
    assert results["KCONF-CC_STACKPROTECTOR"]["symbol"] == "CC_STACKPROTECTOR_AUTO"
    assert results["KCONF-DEVKMEM"]["status"] == "fail"
    assert results["KCONF-KVM_CLOCK"]["symbol"] == "KVM_GUEST"
    yama = results["KCONF-SECURITY_YAMA"]
    assert yama["status"] == "fail" and "every name was tried" in yama["message"]
    # the name a fix sets, with no version to go by: the newest
    assert yama["remediation"] == "CONFIG_SECURITY_YAMA=y"


def test_unknown_architecture_is_said():
    config = kconfig.parse_text("CONFIG_SYN_COOKIES=y\n")
    assert config.arch is None
    pae = by_id(kconfig.evaluate(ENTRIES, config))["KCONF-X86_PAE"]
    assert pae["status"] == "fail"
    assert pae["message"].endswith("(architecture unknown: it applies to x86_32 only)")


def test_release_fills_in_a_missing_version(tmp_path):
    path = tmp_path / "config-4.9.0-8-amd64"
    path.write_text("CONFIG_X86=y\nCONFIG_X86_64=y\nCONFIG_DEBUG_RODATA=y\n")
    kernel = kconfig.check_kernel(ENTRIES, {}, "4.9.0-8-amd64", str(path), "path", Target("/"))
    assert (kernel["version"], kernel["version_source"]) == ("4.9.0", "release")
    assert by_id(kernel["results"])["KCONF-DEBUG_RODATA"]["symbol"] == "DEBUG_RODATA"


# -- waivers and overrides ---------------------------------------------------

def test_waivers_and_overrides():
    entries, waivers = resolve(ENTRIES, overrides={"KCONF-DEFAULT_MMAP_MIN_ADDR": 131072},
                               waivers={"KCONF-X86_PAE": "legacy 32-bit appliance, no PAE CPU"})
    config = kconfig.read(fixture("bookworm_i386_686.config.gz"))
    results = by_id(kconfig.evaluate(entries, config, waivers))
    pae = results["KCONF-X86_PAE"]
    assert pae["status"] == "waived" and pae["waiver"] == "legacy 32-bit appliance, no PAE CPU"
    assert "found: CONFIG_X86_PAE is absent, expected =y" in pae["message"]
    mmap = results["KCONF-DEFAULT_MMAP_MIN_ADDR"]
    assert (mmap["status"], mmap["expected"]) == ("fail", "131072")
    text = kconfig.render_fragment(list(results.values()), config)
    assert "CONFIG_DEFAULT_MMAP_MIN_ADDR=131072" in text and "X86_PAE=y" not in text
    # an override is the expectation everywhere, also where the arch has its own
    arm = by_id(kconfig.evaluate(entries, kconfig.read(fixture("trixie_arm64_arm64.config.gz"))))
    assert arm["KCONF-DEFAULT_MMAP_MIN_ADDR"]["expected"] == "131072"


# -- bad input -----------------------------------------------------------------

GOOD = b"# Linux/x86 6.1.0 Kernel Configuration\nCONFIG_64BIT=y\nCONFIG_X86_64=y\n"


def bad(tmp_path, data, name="config"):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(kconfig.KconfigError) as raised:
        kconfig.read(str(path))
    assert str(raised.value).startswith(str(path) + ": ")
    return str(raised.value)


def test_unreadable(tmp_path):
    with pytest.raises(kconfig.KconfigError, match="nope: no such file or directory"):
        kconfig.read(str(tmp_path / "nope"))
    with pytest.raises(kconfig.KconfigError, match="is a directory, not a regular file"):
        kconfig.read(str(tmp_path))


def test_empty(tmp_path):
    assert bad(tmp_path, b"").endswith(": empty file")
    assert bad(tmp_path, b"\n \n").endswith(": empty file")
    assert bad(tmp_path, gzip.compress(b"")).endswith(": empty once decompressed (gzip)")


def test_truncated_and_corrupt_gzip(tmp_path):
    data = gzip.compress(GOOD * 50)
    assert "truncated gzip data" in bad(tmp_path, data[:len(data) // 2])
    assert "truncated gzip data" in bad(tmp_path, data[:-4])
    corrupt = bytearray(data)
    corrupt[20:30] = b"\xff" * 10
    assert "corrupt gzip data" in bad(tmp_path, bytes(corrupt))
    assert "corrupt gzip data" in bad(tmp_path, b"\x1f\x8b\x08garbage")


def test_compressed_by_content_not_by_name(tmp_path):
    path = tmp_path / "plain.gz"
    path.write_bytes(GOOD)
    assert kconfig.read(str(path)).compression is None
    path = tmp_path / "config"
    path.write_bytes(gzip.compress(GOOD))
    assert kconfig.read(str(path)).compression == "gzip"
    import lzma
    path.write_bytes(lzma.compress(GOOD))
    assert kconfig.read(str(path)).compression == "xz"
    assert "zstd-compressed; decompress it first" in bad(tmp_path, b"\x28\xb5\x2f\xfd" + b"\x00" * 20)


def test_binary_data(tmp_path):
    assert bad(tmp_path, b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 64).endswith(
        ": binary data, not a text kernel configuration")
    assert "binary data" in bad(tmp_path, gzip.compress(b"CONFIG_X=y\n\x00\x01\x02"))


def test_duplicate_symbols(tmp_path):
    message = bad(tmp_path, GOOD + b"CONFIG_VIRTIO_NET=m\n" + b"# CONFIG_X is not set\n"
                  + b"CONFIG_VIRTIO_NET=y\n")
    assert "CONFIG_VIRTIO_NET is set twice with different values: line 4 (m) and line 6 (y)" in message
    assert "make olddefconfig" in message
    message = bad(tmp_path, GOOD + b"# CONFIG_DEVKMEM is not set\nCONFIG_DEVKMEM=y\n")
    assert "line 4 (not set) and line 5 (y)" in message
    path = tmp_path / "same"
    path.write_bytes(GOOD + b"CONFIG_SYN_COOKIES=y\nCONFIG_SYN_COOKIES=y\n")
    config = kconfig.read(str(path))
    assert config.get("SYN_COOKIES") == "y"
    assert config.warnings == ["%s: CONFIG_SYN_COOKIES is repeated with the same value (lines 4 "
                               "and 5)" % path]


def test_not_a_kernel_config(tmp_path):
    assert bad(tmp_path, b"---\nhosts: all\ntasks: []\n").endswith(
        ": no CONFIG_ options found: not a kernel configuration")
    assert "not a kernel configuration (3 lines are neither options nor comments" in bad(
        tmp_path, b"CONFIG_A=y\nfoo\nbar\nbaz\n")
    assert "no CONFIG_ options found" in bad(tmp_path, gzip.compress(b"# just a comment\n"))


def test_odd_lines_are_warnings(tmp_path):
    path = tmp_path / "config"
    path.write_bytes(GOOD + b"CONFIG_A=maybe\nstray text\nCONFIG_B=\"a \\\"quoted\\\" string\"\n"
                     + b"CONFIG_C=0x1000")
    config = kconfig.read(str(path))
    assert config.get("B") == 'a "quoted" string' and config.get("C") == "0x1000"
    assert config.get("A") is None
    assert len(config.warnings) == 3
    assert "CONFIG_A has an invalid value 'maybe'" in config.warnings[0]
    assert "1 line(s) are neither options nor comments (line 5)" in config.warnings[1]
    assert "may be truncated" in config.warnings[2]
