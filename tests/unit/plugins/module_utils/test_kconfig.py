"""The kconfig reader (kconfig_parser) and the KCONF-* evaluation
(kconfig_eval), case by case; every verdict on every fixture is in
test_kconfig_fixtures.py.  ``kconfig`` is used where callers use it (its
names stay importable from there)."""

import gzip
import os

import pytest

from ansible_collections.guestready.gce.plugins.module_utils import catalogue as cat
from ansible_collections.guestready.gce.plugins.module_utils import kconfig
from ansible_collections.guestready.gce.plugins.module_utils import kconfig_eval, kconfig_parser
from ansible_collections.guestready.gce.plugins.module_utils.target import Target
from ansible_collections.guestready.gce.plugins.module_utils.policy import resolve

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "..", "..", "fixtures", "kconfig")
ENTRIES = cat.requirements(("kernel-required", "kernel-security"))


def fixture(name):
    return os.path.join(FIXTURES, name)


def fixture_text(name):
    path = fixture(name)
    if name.endswith(".gz"):
        with gzip.open(path, "rt") as handle:
            return handle.read()
    with open(path) as handle:
        return handle.read()


def by_id(results):
    return dict((r["id"], r) for r in results)


def test_the_split_keeps_the_callers_names():
    # compliance_info and kernel_config_info use these from kconfig
    for name in ("AREAS", "ARGUMENT_SPEC", "REQUIRED_IF", "check_kernels", "check_kernel",
                 "KconfigError", "installed_configs", "default_release", "read"):
        assert hasattr(kconfig, name), name
    assert kconfig.KconfigError is kconfig_parser.KconfigError
    assert kconfig.evaluate is kconfig_eval.evaluate


def test_real_debian_values_are_reported():
    results = by_id(kconfig_eval.evaluate(ENTRIES, kconfig_parser.read(fixture("bookworm_arm64_arm64.config.gz"))))
    mmap = results["KCONF-DEFAULT_MMAP_MIN_ADDR"]
    # 65536 on every architecture, arm64 included
    assert (mmap["actual"], mmap["expected"]) == ("4096", "65536")
    assert mmap["message"] == "CONFIG_DEFAULT_MMAP_MIN_ADDR=4096, expected at least 65536"
    assert mmap["remediation"] == "CONFIG_DEFAULT_MMAP_MIN_ADDR=65536"
    assert results["KCONF-KVM_GUEST"]["message"] == "applies to x86_64, x86_32 only; this kernel is arm64"
    rwx = results["KCONF-DEBUG_RODATA"]
    assert rwx["found"] == "y" and "the name of DEBUG_RODATA in Linux 6.1.176" in rwx["message"]
    results = by_id(kconfig_eval.evaluate(ENTRIES, kconfig_parser.read(fixture("bookworm_amd64_cloud-amd64.config.gz"))))
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
    config = kconfig_parser.read(fixture("bookworm_amd64_cloud-amd64.config.gz"))
    results = by_id(kconfig_eval.evaluate(ENTRIES, config, initramfs=view({"virtio_pci", "virtio_scsi"})))
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
    config = kconfig_parser.read(fixture("bookworm_amd64_amd64.config.gz"))
    results = kconfig_eval.evaluate(ENTRIES, config, initramfs=view(None, error="x: corrupt gzip data"))
    modules = [r for r in results if r["found"] == "m"]
    assert len(modules) == 3
    for result in modules:
        assert result["status"] == "unknown"
        assert "could not inspect /boot/initrd.img-6.1.0-50-cloud-amd64: x: corrupt gzip data" \
            in result["message"]
    missing = kconfig_eval.evaluate(ENTRIES, config, initramfs=view(None, path=None, error="no initramfs of x"))
    assert by_id(missing)["KCONF-VIRTIO_NET"]["message"].endswith("virtio_net; no initramfs of x")


def test_a_driver_not_built_at_all_fails():
    config = kconfig_parser.parse_text("# Linux/x86 6.1.0 Kernel Configuration\nCONFIG_64BIT=y\n"
                                       "CONFIG_X86_64=y\n# CONFIG_VIRTIO_NET is not set\n")
    net = by_id(kconfig_eval.evaluate(ENTRIES, config, initramfs=view(set())))["KCONF-VIRTIO_NET"]
    assert net["status"] == "fail" and net["remediation"] == "CONFIG_VIRTIO_NET=y"


# -- fragments ----------------------------------------------------------------

def fragment_settings(name, initramfs=None):
    config = kconfig_parser.read(fixture(name))
    text = kconfig_eval.render_fragment(kconfig_eval.evaluate(ENTRIES, config, initramfs=initramfs), config)
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
    ("bookworm_arm64_arm64.config.gz", ["CONFIG_DEFAULT_MMAP_MIN_ADDR=65536"]),
    # X86_PAE hidden by HIGHMEM4G=y: the 64GB choice member that selects it is set too
    ("bookworm_i386_686.config.gz", ["CONFIG_X86_PAE=y", "CONFIG_HIGHMEM64G=y"]),
    ("trixie_amd64_cloud-amd64.config.gz", []),
])
def test_fragment_uses_the_names_of_the_kernel_version(name, lines):
    assert fragment_settings(name, initramfs=view({"virtio_pci", "virtio_scsi", "virtio_net"})) == lines


def test_fragment_builds_in_a_driver_the_initramfs_lacks():
    assert fragment_settings("bookworm_amd64_cloud-amd64.config.gz", view({"virtio_pci"})) == \
        ["CONFIG_SCSI_VIRTIO=y", "CONFIG_VIRTIO_NET=y"]
    config = kconfig_parser.read(fixture("bookworm_amd64_cloud-amd64.config.gz"))
    text = kconfig_eval.render_fragment(kconfig_eval.evaluate(ENTRIES, config), config)
    assert "# (building it in needs no initramfs:) CONFIG_SCSI_VIRTIO=y" in text
    assert "\nCONFIG_SCSI_VIRTIO=y" not in text
    assert "for %s (Linux 6.1.176, x86_64)" % fixture("bookworm_amd64_cloud-amd64.config.gz") in text


def test_fragment_for_a_compliant_config_says_so():
    config = kconfig_parser.read(fixture("synthetic/4.2_x86_64_yama-stacked.config"))
    text = kconfig_eval.render_fragment(kconfig_eval.evaluate(ENTRIES, config), config)
    assert text.endswith("# nothing to change: no KCONF-* requirement fails\n")


# -- version and architecture -------------------------------------------------


# -- version and architecture -------------------------------------------------

def test_header_forms():
    old = kconfig_parser.parse_text("# Automatically generated make config: don't edit\n"
                                    "# Linux kernel version: 2.6.32\nCONFIG_X86_64=y\nCONFIG_X86=y\n")
    assert (old.version, old.arch, old.arch_source) == ((2, 6, 32), "x86_64",
                                                        "inferred from CONFIG_X86_64=y")
    uek = kconfig_parser.parse_text("# Linux/x86 4.1.12-124.91.3.el7uek.x86_64 Kernel Configuration\n"
                                    "CONFIG_64BIT=y\nCONFIG_X86_64=y\n")
    assert (uek.version, uek.arch, uek.arch_source) == ((4, 1, 12), "x86_64", "header")
    i386 = kconfig_parser.parse_text("# Linux/i386 3.16.0 Kernel Configuration\nCONFIG_X86_32=y\n")
    assert i386.arch == "x86_32"
    x86_32 = kconfig_parser.parse_text("# Linux/x86 6.1.0 Kernel Configuration\n# CONFIG_64BIT is not set\n")
    assert x86_32.arch == "x86_32"
    rhel = kconfig_parser.parse_text("# Linux/x86_64 3.10.0-1160.el7.x86_64 Kernel Configuration\n"
                                     "CONFIG_64BIT=y\n")
    assert rhel.arch == "x86_64"
    riscv = kconfig_parser.parse_text("# Linux/riscv 6.1.0 Kernel Configuration\nCONFIG_64BIT=y\n")
    assert riscv.arch == "riscv"
    no_header = kconfig_parser.parse_text("CONFIG_ARM64=y\nCONFIG_64BIT=y\n")
    assert (no_header.version, no_header.arch, no_header.version_source, no_header.arch_source) == \
        (None, "arm64", None, "inferred from CONFIG_ARM64=y")


@pytest.mark.parametrize("text,arch,evidence", [
    ("CONFIG_IA32_EMULATION=y\n", "x86_64", "CONFIG_IA32_EMULATION=y"),
    ("# CONFIG_X86_5LEVEL is not set\n", "x86_64", "CONFIG_X86_5LEVEL is not set"),
    ("CONFIG_HIGHMEM64G=y\n", "x86_32", "CONFIG_HIGHMEM64G=y"),
    ("# CONFIG_64BIT is not set\nCONFIG_X86_MSR=y\n", "x86_32",
     "CONFIG_64BIT is not set with CONFIG_X86_MSR (an x86 option)"),
    ("CONFIG_64BIT=y\nCONFIG_X86=y\n", "x86_64", "CONFIG_64BIT=y with CONFIG_X86=y"),
    ("CONFIG_ARM64_VA_BITS_48=y\n", "arm64", "CONFIG_ARM64_VA_BITS_48 (an arm64 option)"),
    ("CONFIG_CRYPTO_SHA1_ARM64_CE=m\n", "arm64", "CONFIG_CRYPTO_SHA1_ARM64_CE (an arm64 option)"),
    ("CONFIG_SYN_COOKIES=y\nCONFIG_64BIT=y\n", None, None),
    # the other architectures' own symbols (they were "unknown": KVM_GUEST and X86_PAE failed)
    ("CONFIG_PPC64=y\nCONFIG_PPC=y\nCONFIG_64BIT=y\n", "powerpc", "CONFIG_PPC=y"),
    ("CONFIG_64BIT=y\nCONFIG_S390=y\n", "s390", "CONFIG_S390=y"),
    ("CONFIG_64BIT=y\nCONFIG_RISCV=y\n", "riscv", "CONFIG_RISCV=y"),
    ("CONFIG_LOONGARCH=y\n", "loongarch", "CONFIG_LOONGARCH=y"),
])
def test_architecture_inferred_without_a_header(text, arch, evidence):
    config = kconfig_parser.parse_text(text)
    assert config.arch == arch
    assert config.arch_source == ("inferred from " + evidence if evidence else None)


def strip_header(text):
    return "".join(line for line in text.splitlines(True)
                   if "Kernel Configuration" not in line and "Automatically generated" not in line)


def test_a_full_config_without_its_header_says_what_was_inferred(tmp_path):
    path = tmp_path / "config-6.1.0-50-amd64"
    path.write_text(strip_header(fixture_text("bookworm_amd64_amd64.config.gz")))
    config = kconfig_parser.read(str(path))
    assert (config.form, config.version, config.arch) == ("full", None, "x86_64")
    assert config.arch_source == "inferred from CONFIG_X86_64=y"
    assert config.form_evidence[0] == "no '# Linux/<arch> <version> Kernel Configuration' header"
    assert config.notes() == ["%s: no kconfig header: kernel version unknown, architecture x86_64 "
                              "inferred from CONFIG_X86_64=y" % path]
    # the same verdicts as with the header, every name tried (DEVKMEM's
    # absence now decides by itself: the version no longer says it was removed)
    with_header = kconfig_eval.evaluate(ENTRIES, kconfig_parser.read(fixture("bookworm_amd64_amd64.config.gz")))
    without = by_id(kconfig_eval.evaluate(ENTRIES, config))
    assert [without[r["id"]]["status"] for r in with_header] == [r["status"] for r in with_header]
    assert [without[r["id"]]["symbol"] for r in with_header if r["id"] != "KCONF-DEVKMEM"] == \
        [r["symbol"] for r in with_header if r["id"] != "KCONF-DEVKMEM"]
    assert without["KCONF-DEVKMEM"]["message"] == "CONFIG_DEVKMEM is absent"
    # the release fills in the version, and the result says where both came from
    kernel = kconfig.check_kernel(ENTRIES, {}, "6.1.0-50-amd64", str(path), "path", Target("/"),
                                  check_initramfs=False)
    assert (kernel["version"], kernel["version_source"]) == ("6.1.0", "release")
    assert (kernel["arch"], kernel["arch_source"]) == ("x86_64", "inferred from CONFIG_X86_64=y")
    assert (kernel["form"], kernel["form_evidence"]) == ("full", config.form_evidence)
    assert kernel["warnings"] == ["%s: no kconfig header: kernel version from the release, "
                                  "architecture x86_64 inferred from CONFIG_X86_64=y" % path]


def test_odd_version_strings_are_no_version(tmp_path):
    """Found by the long fuzz run: a header version of '\u00b9' (a Unicode
    digit int() refuses) was a traceback; so was a 5000-digit one."""
    for version in ("\u00b9", "6.\u00b9", "\u0661\u0662.\u0663", "9" * 5000):
        config = kconfig_parser.parse_text("# Linux/x86 %s Kernel Configuration\nCONFIG_X86_64=y\n"
                                           % version)
        assert (config.version, config.version_source) == (None, None)
    path = tmp_path / "config"
    path.write_text("CONFIG_X86_64=y\n")
    with pytest.raises(kconfig_parser.KconfigError, match="is not a kernel version"):
        kconfig_parser.read(str(path), version="9" * 5000)


def test_overrides_of_version_and_arch(tmp_path):
    path = tmp_path / "config"
    path.write_text("# Linux/x86 4.9.0 Kernel Configuration\nCONFIG_X86_64=y\nCONFIG_DEBUG_RODATA=y\n")
    config = kconfig_parser.read(str(path), version="4.11", arch="aarch64")
    assert (config.version, config.version_source) == ((4, 11, 0), "override")
    assert (config.arch, config.arch_source) == ("arm64", "override")
    rodata = by_id(kconfig_eval.evaluate(ENTRIES, config))["KCONF-DEBUG_RODATA"]
    # judged as 4.11: only STRICT_KERNEL_RWX counts, and that is what the fix sets
    assert rodata["status"] == "fail" and rodata["remediation"] == "CONFIG_STRICT_KERNEL_RWX=y"
    with pytest.raises(kconfig_parser.KconfigError, match="'six' is not a kernel version"):
        kconfig_parser.read(str(path), version="six")


def test_a_configuration_read_twice_is_parsed_once(tmp_path, monkeypatch):
    # kernel_config and hardware read the same file in one execution
    path = tmp_path / "config"
    path.write_text("# Linux/x86 6.1.0 Kernel Configuration\nCONFIG_X86_64=y\nCONFIG_VIRTIO_PCI=m\n")
    parsed = []
    parse_text = kconfig_parser.parse_text
    monkeypatch.setattr(kconfig_parser, "parse_text", lambda *args: parsed.append(args) or parse_text(*args))
    monkeypatch.setattr(kconfig_parser, "_PARSED", {})
    first = kconfig_parser.read(str(path), version="5.10")
    second = kconfig_parser.read(str(path))
    assert len(parsed) == 1 and first is not second
    # each read has its own version and architecture: the override stays with the first
    assert (first.version, first.version_source) == ((5, 10, 0), "override")
    assert (second.version, second.version_source) == ((6, 1, 0), "header")
    assert second.values == {"X86_64": "y", "VIRTIO_PCI": "m"} and second.arch == "x86_64"
    # another path is another source, and a changed file is parsed again
    other = tmp_path / "other"
    other.write_bytes(path.read_bytes())
    assert kconfig_parser.read(str(other)).source == str(other) and len(parsed) == 2
    path.write_text("# Linux/x86 6.1.0 Kernel Configuration\nCONFIG_X86_64=y\nCONFIG_VIRTIO_PCI=y\n")
    assert kconfig_parser.read(str(path)).values["VIRTIO_PCI"] == "y" and len(parsed) == 3
    # a few texts are kept, never more
    for number in range(kconfig_parser._PARSED_KEPT + 2):
        path.write_text("CONFIG_X86_64=y\nCONFIG_NUMBER_%d=y\n" % number)
        kconfig_parser.read(str(path))
    assert len(kconfig_parser._PARSED) == kconfig_parser._PARSED_KEPT


def test_a_configuration_read_twice_is_judged_alike(tmp_path, monkeypatch):
    """The second read came from the parse cache without the lines' history: a value kconfig reads
    by its first character (``y # note``) was y in one area and unknown in the other."""
    path = tmp_path / "config"
    path.write_text("CONFIG_MODULES=y\nCONFIG_A=y # note\nCONFIG_B=12\nCONFIG_B=yes\n# CONFIG_C is not set\n")
    monkeypatch.setattr(kconfig_parser, "_PARSED", {})
    reads = [kconfig_parser.read(str(path), version="6.1") for dummy in range(2)]
    judged = [[(f.value, f.origin) for name, kind in (("A", "bool"), ("B", "int"), ("C", "int"))
               for f in kconfig_eval.resolve(config, name, kind=kind)] for config in reads]
    assert judged[0] == judged[1] == [("y", "file"), ("12", "file"), (None, "unknown")]
    assert reads[1].written == reads[0].written == {"MODULES": (1, "y"), "A": (2, "y # note"), "B": (4, "yes")}


def full_text(*lines):
    """A headerless configuration kconfig wrote (it lists promptless options)."""
    markers = ["CONFIG_HAVE_MARKER_%d=y" % n for n in range(kconfig_parser.FULL_MARKERS)]
    return "\n".join(markers + list(lines)) + "\n"


def test_unknown_version_tries_every_name():
    config = kconfig_parser.parse_text(full_text("CONFIG_X86=y", "CONFIG_X86_64=y", "CONFIG_DEBUG_RODATA=y",
                                                 "CONFIG_STRICT_MODULE_RWX=y", "CONFIG_DEVKMEM=y",
                                                 "CONFIG_KVM_GUEST=y", "CONFIG_CC_STACKPROTECTOR_AUTO=y"))
    assert (config.form, config.version) == ("full", None)
    results = by_id(kconfig_eval.evaluate(ENTRIES, config))
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
    config = kconfig_parser.parse_text(full_text("CONFIG_SYN_COOKIES=y"))
    assert (config.form, config.arch) == ("full", None)
    pae = by_id(kconfig_eval.evaluate(ENTRIES, config))["KCONF-X86_PAE"]
    assert pae["status"] == "fail"
    assert pae["message"].endswith("(architecture unknown: it applies to x86_32 only)")


def test_a_32_bit_arm_config_without_its_header_is_arm():
    """Debian's armmp (armhf) kernel configuration (6.1.0-50-armmp, lines as
    it has them) without its "# Linux/arm 6.1.176 Kernel Configuration"
    header: CONFIG_ARM=y is 32-bit arm's own option, so it is the same arm
    kernel as with the header, and the x86-only options do not apply.  It
    was "architecture unknown", and KVM_GUEST, KVM_CLOCK and X86_PAE failed."""
    lines = ["CONFIG_HAVE_KERNEL_GZIP=y", "CONFIG_HAVE_PERF_EVENTS=y", "CONFIG_ARM=y",
             "CONFIG_HAVE_PROC_CPU=y", "CONFIG_MMU=y", "# CONFIG_ARM_LPAE is not set",
             "CONFIG_PARAVIRT=y", "CONFIG_STACKPROTECTOR=y", "CONFIG_STRICT_KERNEL_RWX=y",
             "CONFIG_PCI_MSI=y", "CONFIG_VIRTIO_PCI=m"]
    config = kconfig_parser.parse_text(full_text(*lines))
    assert (config.form, config.arch, config.arch_source) == ("full", "arm", "inferred from CONFIG_ARM=y")
    with_header = kconfig_parser.parse_text("# Linux/arm 6.1.176 Kernel Configuration\n" + full_text(*lines))
    assert with_header.arch == "arm"
    results = by_id(kconfig_eval.evaluate(ENTRIES, config))
    for rid in ("KCONF-KVM_GUEST", "KCONF-KVM_CLOCK", "KCONF-X86_PAE", "KCONF-COMPAT_VDSO"):
        assert results[rid]["status"] == "not-applicable", results[rid]
        assert results[rid]["message"].endswith("this kernel is arm")
    assert results["KCONF-PCI_MSI"]["status"] == "pass"


def test_an_option_a_full_configuration_lacks_is_kept_out_by_a_dependency():
    """Debian's 686 kernel (bookworm, 6.1.176) has no CONFIG_X86_PAE line at
    all: its CPU choice (CONFIG_MGEODE_LX=y, Geode LX has no PAE) and
    CONFIG_HIGHMEM4G=y hide it (arch/x86/Kconfig: X86_PAE depends on X86_32
    && !HIGHMEM4G).  The fragment's CONFIG_X86_PAE=y alone changes nothing
    there (merge_config.sh drops it); the result said only "is absent" and
    offered the line as the fix.  HIGHMEM64G (the "High Memory Support"
    choice's 64GB member) selects X86_PAE: the fix sets it too (it said
    nothing of it)."""
    config = kconfig_parser.read(fixture("bookworm_i386_686.config.gz"))
    assert "X86_PAE" not in config.values and config.get("HIGHMEM4G") == "y"
    pae = by_id(kconfig_eval.evaluate(ENTRIES, config))["KCONF-X86_PAE"]
    assert pae["status"] == "fail" and pae["remediation"] == "CONFIG_X86_PAE=y; CONFIG_HIGHMEM64G=y"
    assert "; CONFIG_HIGHMEM64G=y (the 64GB member of the \"High Memory Support\" choice, selects X86_PAE, " \
        "which cannot be set while that choice is HIGHMEM4G; both need a processor type" in pae["message"]
    assert "\nCONFIG_HIGHMEM64G=y\n" in kconfig_eval.render_fragment([pae], config)
    # Linux 6.15 removed HIGHMEM64G: from then on nothing to select it with
    later = kconfig_parser.parse_text("# Linux/i386 6.15.0 Kernel Configuration\n" + full_text(
        "CONFIG_X86_32=y", "CONFIG_HIGHMEM4G=y"))
    pae = by_id(kconfig_eval.evaluate(ENTRIES, later))["KCONF-X86_PAE"]
    assert pae["status"] == "fail" and pae["remediation"] == "CONFIG_X86_PAE=y"
    assert "HIGHMEM64G" not in pae["message"]
    before = kconfig_parser.parse_text("# Linux/i386 6.14.0 Kernel Configuration\n" + full_text(
        "CONFIG_X86_32=y", "CONFIG_HIGHMEM4G=y"))
    assert by_id(kconfig_eval.evaluate(ENTRIES, before))["KCONF-X86_PAE"]["remediation"] == \
        "CONFIG_X86_PAE=y; CONFIG_HIGHMEM64G=y"
    assert pae["message"].startswith("CONFIG_X86_PAE is absent, expected =y; ")
    assert "setting CONFIG_X86_PAE alone does not enable it" in pae["message"]
    assert "setting CONFIG_X86_PAE alone" in kconfig_eval.render_fragment([pae], config)
    # "is not set" is a visible option: the line does enable it, no such note
    shown = kconfig_parser.parse_text("# Linux/i386 4.9.0 Kernel Configuration\n"
                                      "CONFIG_X86_32=y\n# CONFIG_X86_PAE is not set\n")
    pae = by_id(kconfig_eval.evaluate(ENTRIES, shown))["KCONF-X86_PAE"]
    assert pae["message"] == "CONFIG_X86_PAE is not set, expected =y"
    # without a version, a renamed option may simply not exist in that kernel: no claim
    headerless = kconfig_parser.parse_text(full_text("CONFIG_X86=y", "CONFIG_X86_64=y"))
    rwx = by_id(kconfig_eval.evaluate(ENTRIES, headerless))["KCONF-DEBUG_RODATA"]
    assert rwx["status"] == "fail" and "alone does not enable it" not in rwx["message"]


def test_release_fills_in_a_missing_version(tmp_path):
    path = tmp_path / "config-4.9.0-8-amd64"
    path.write_text(full_text("CONFIG_X86=y", "CONFIG_X86_64=y", "CONFIG_DEBUG_RODATA=y"))
    kernel = kconfig.check_kernel(ENTRIES, {}, "4.9.0-8-amd64", str(path), "path", Target("/"))
    assert (kernel["version"], kernel["version_source"]) == ("4.9.0", "release")
    assert by_id(kernel["results"])["KCONF-DEBUG_RODATA"]["symbol"] == "DEBUG_RODATA"


# -- STRICT_DEVMEM before CONFIG_DEVMEM existed (4.0) --------------------------

def test_no_devmem_option_before_4_0_means_dev_mem_exists(tmp_path):
    """CentOS 7 (3.10) with STRICT_DEVMEM off: /dev/mem is always built before
    4.0, so DEVMEM's absence proves nothing and the requirement fails."""
    text = fixture_text("distros/centos7_3.10_x86_64.config.gz")
    assert "CONFIG_STRICT_DEVMEM=y\n" in text and "CONFIG_DEVMEM" not in text
    path = tmp_path / "config-3.10.0-1160.119.1.el7.x86_64"
    path.write_text(text.replace("CONFIG_STRICT_DEVMEM=y\n", "# CONFIG_STRICT_DEVMEM is not set\n"))
    devmem = by_id(kconfig_eval.evaluate(ENTRIES, kconfig_parser.read(str(path))))["KCONF-STRICT_DEVMEM"]
    assert devmem["status"] == "fail"
    assert devmem["message"] == "CONFIG_STRICT_DEVMEM is not set, expected =y"
    assert devmem["evidence"]["tried"] == [{"symbol": "STRICT_DEVMEM", "value": "not set"}]
    assert devmem["remediation"] == "CONFIG_STRICT_DEVMEM=y"
    # without the header the version is unknown: DEVMEM is tried, its absence
    # still does not count
    path.write_text(strip_header(path.read_text()))
    config = kconfig_parser.read(str(path))
    assert (config.form, config.version) == ("full", None)
    devmem = by_id(kconfig_eval.evaluate(ENTRIES, config))["KCONF-STRICT_DEVMEM"]
    assert devmem["status"] == "fail"
    assert {"symbol": "DEVMEM", "value": "absent"} in devmem["evidence"]["tried"]
    # the release (its file name) gives the version back
    kernel = kconfig.check_kernel(ENTRIES, {}, "3.10.0-1160.119.1.el7.x86_64", str(path), "path",
                                  Target("/"), check_initramfs=False)
    assert by_id(kernel["results"])["KCONF-STRICT_DEVMEM"]["status"] == "fail"


def test_no_dev_mem_at_all_passes_from_4_0():
    config = kconfig_parser.parse_text("# Linux/x86 4.0.0 Kernel Configuration\nCONFIG_X86_64=y\n"
                                       "# CONFIG_DEVMEM is not set\n# CONFIG_STRICT_DEVMEM is not set\n")
    devmem = by_id(kconfig_eval.evaluate(ENTRIES, config))["KCONF-STRICT_DEVMEM"]
    assert (devmem["status"], devmem["symbol"]) == ("pass", "DEVMEM")
    assert devmem["message"] == "CONFIG_DEVMEM is not set: no /dev/mem at all is stricter still"
    older = kconfig_parser.parse_text("# Linux/x86 3.19.0 Kernel Configuration\nCONFIG_X86_64=y\n"
                                      "# CONFIG_DEVMEM is not set\n# CONFIG_STRICT_DEVMEM is not set\n")
    assert by_id(kconfig_eval.evaluate(ENTRIES, older))["KCONF-STRICT_DEVMEM"]["status"] == "fail"


# -- minimal (savedefconfig-style) configurations ------------------------------

def minimal(*lines, **kwargs):
    config = kconfig_parser.parse_text("\n".join(lines) + "\n", "defconfig")
    assert config.form == "minimal"
    if kwargs.get("version"):
        config.set_version(kwargs["version"], "override")
    return by_id(kconfig_eval.evaluate(ENTRIES, config))


def test_minimal_form_and_its_evidence():
    config = kconfig_parser.read(fixture("minimal/kernel-x86_64_defconfig_6.12.config"))
    assert config.form == "minimal" and config.minimal
    assert config.form_evidence == [
        "no '# Linux/<arch> <version> Kernel Configuration' header",
        "%d option(s), 0 of them promptless ones kconfig always writes (CONFIG_HAVE_*, "
        "CONFIG_ARCH_HAS_*, CONFIG_GENERIC_*...)" % len(config.values)]
    assert "minimal configuration" in config.describe()
    full = kconfig_parser.read(fixture("bookworm_amd64_amd64.config.gz"))
    assert full.form == "full" and full.form_evidence[0] == "kconfig header: Linux 6.1.176"
    # a header makes a file full whatever else it lists (kconfig wrote it)
    assert kconfig_parser.parse_text("# Linux/x86 6.1.0 Kernel Configuration\nCONFIG_X86_64=y\n").form == "full"


def test_minimal_defaults_follow_dependencies():
    x86 = ("CONFIG_IA32_EMULATION=y",)
    # KVM_GUEST defaults to y only with PARAVIRT: off, on, or shown by what depends on it
    off = minimal(*(x86 + ("# CONFIG_PARAVIRT is not set",)), version="6.1")["KCONF-KVM_GUEST"]
    assert (off["status"], off["found"]) == ("fail", "n (Kconfig default)")
    assert "and CONFIG_PARAVIRT is off" in off["message"]
    assert off["remediation"] == "CONFIG_KVM_GUEST=y"
    unset = minimal(*x86, version="6.1")["KCONF-KVM_GUEST"]
    assert unset["status"] == "fail"  # PARAVIRT: no default, nothing here selects it
    on = minimal(*(x86 + ("CONFIG_PARAVIRT=y",)), version="6.1")["KCONF-KVM_GUEST"]
    assert (on["status"], on["found"]) == ("pass", "y (Kconfig default)")
    shown = minimal(*(x86 + ("CONFIG_PARAVIRT_SPINLOCKS=y",)), version="6.1")["KCONF-KVM_GUEST"]
    assert shown["status"] == "pass" and "CONFIG_PARAVIRT_SPINLOCKS=y depends on it" in shown["message"]
    selected = minimal(*(x86 + ("CONFIG_HYPERV=m",)), version="6.1")["KCONF-KVM_GUEST"]
    assert selected["status"] == "pass" and "selected by CONFIG_HYPERV=m" in selected["message"]
    # modules off: the module RWX option is off, and no modules at all passes
    ronx = minimal(*(x86 + ("# CONFIG_MODULES is not set",)), version="6.1")["KCONF-DEBUG_SET_MODULE_RONX"]
    assert (ronx["status"], ronx["symbol"]) == ("pass", "MODULES")
    # PCI_MSI: selected by AMD_IOMMU on x86, by PCI (through the GICv2m) on arm64
    assert minimal(*(x86 + ("CONFIG_AMD_IOMMU=y",)), version="6.1")["KCONF-PCI_MSI"]["status"] == "pass"
    assert minimal(*x86, version="6.1")["KCONF-PCI_MSI"]["status"] == "fail"
    arm = ("CONFIG_ARM64_VA_BITS_48=y",)
    assert minimal(*(arm + ("CONFIG_PCI=y",)), version="6.1")["KCONF-PCI_MSI"]["status"] == "pass"


def test_minimal_unknowns_say_what_is_missing():
    x86 = ("CONFIG_IA32_EMULATION=y", "CONFIG_PARAVIRT=y")
    old = minimal(*x86, version="4.4")["KCONF-KVM_GUEST"]
    assert old["status"] == "unknown"
    assert old["message"] == ("cannot tell: CONFIG_KVM_GUEST is not in this minimal configuration "
                              "and the catalogue does not know its Kconfig default in Linux 4.4.0 "
                              "on x86_64")
    assert old["remediation"] == "CONFIG_KVM_GUEST=y"
    noarch = minimal("CONFIG_PARAVIRT=y", version="6.1")["KCONF-STRICT_DEVMEM"]
    assert noarch["status"] == "unknown" and "depends on the architecture" in noarch["message"]
    # without the version, an option that exists only in some versions may be
    # missing altogether: STRICT_KERNEL_RWX's default y decides nothing, and
    # neither does DEVMEM's absence (before 4.0 /dev/mem always existed), so a
    # STRICT_DEVMEM written off fails whatever the version
    rodata = minimal("CONFIG_IA32_EMULATION=y")["KCONF-DEBUG_RODATA"]
    assert rodata["status"] == "unknown"
    devmem = minimal("CONFIG_IA32_EMULATION=y", "# CONFIG_STRICT_DEVMEM is not set")["KCONF-STRICT_DEVMEM"]
    assert (devmem["status"], devmem["symbol"]) == ("fail", "STRICT_DEVMEM")
    # a default that holds in every version decides without one
    brk = minimal("CONFIG_IA32_EMULATION=y")["KCONF-COMPAT_BRK"]
    assert (brk["status"], brk["found"]) == ("fail", "y (Kconfig default)")
    assert brk["remediation"] == "# CONFIG_COMPAT_BRK is not set"
    # undecided requirements get their line, commented, in the fragment
    config = kconfig_parser.parse_text("CONFIG_IA32_EMULATION=y\n", "defconfig")
    text = kconfig_eval.render_fragment(kconfig_eval.evaluate(ENTRIES, config), config)
    assert "# (to be sure, set it explicitly:) CONFIG_KVM_GUEST=y" in text
    assert "\n# CONFIG_COMPAT_BRK is not set\n" in text
    assert "defconfig (Linux unknown, x86_64, minimal configuration)" in text


def test_minimal_config_through_check_kernel(tmp_path):
    kernel = kconfig.check_kernel(ENTRIES, {}, None, fixture("minimal/alpine-virt_6.6_x86_64.config"),
                                  "path", Target("/"), version="6.6", check_initramfs=False)
    assert (kernel["form"], kernel["version"], kernel["version_source"]) == ("minimal", "6.6.0", "override")
    assert kernel["arch_source"] == "inferred from CONFIG_IA32_EMULATION=y"
    assert len(kernel["warnings"]) == 1
    assert "a minimal configuration (savedefconfig/defconfig style: no '# Linux/<arch> <version> " \
        "Kernel Configuration' header; 1104 option(s), 0 of them promptless" in kernel["warnings"][0]
    assert by_id(kernel["results"])["KCONF-CC_STACKPROTECTOR"]["found"] == "y (Kconfig default)"
    flatcar = kconfig_parser.read(fixture("minimal/flatcar_6.12_x86_64.config"))
    assert flatcar.warnings == ["%s: CONFIG_AUTOFS_FS is repeated with the same value (lines 17 and "
                                "177)" % fixture("minimal/flatcar_6.12_x86_64.config")]


def test_catalogue_defaults_are_well_formed():
    names = set(s["name"] for e in cat.KERNEL_OPTIONS for s in e["symbols"])
    for rule in cat.KCONFIG_DEFAULTS:
        assert rule["source"], rule
        assert rule["value"] in ("y", "n", None) or rule["value"].isdigit(), rule
        assert rule["arches"] is None or set(rule["arches"]) <= set(cat.ARCHES)
        if rule["since"] and rule["until"]:
            assert rule["since"] < rule["until"]
        for other in rule["requires"]:
            assert other in kconfig_eval.RULES, (rule["name"], other)  # resolvable
    # every option a requirement names has a rule, except those whose
    # default the catalogue does not know (judged unknown in minimal files)
    unknown = names - set(kconfig_eval.RULES)
    assert unknown == set(["DEBUG_SET_MODULE_RONX", "CC_STACKPROTECTOR", "CC_STACKPROTECTOR_REGULAR",
                           "CC_STACKPROTECTOR_STRONG", "CC_STACKPROTECTOR_AUTO", "X86_PAE",
                           "SECURITY_YAMA_STACKED"])


def test_waivers_and_overrides():
    entries, waivers = resolve(ENTRIES, overrides={"KCONF-DEFAULT_MMAP_MIN_ADDR": 131072},
                               waivers={"KCONF-X86_PAE": "legacy 32-bit appliance, no PAE CPU"})
    config = kconfig_parser.read(fixture("bookworm_i386_686.config.gz"))
    results = by_id(kconfig_eval.evaluate(entries, config, waivers))
    pae = results["KCONF-X86_PAE"]
    assert pae["status"] == "waived" and pae["waiver"] == "legacy 32-bit appliance, no PAE CPU"
    assert "found: CONFIG_X86_PAE is absent, expected =y" in pae["message"]
    mmap = results["KCONF-DEFAULT_MMAP_MIN_ADDR"]
    assert (mmap["status"], mmap["expected"]) == ("fail", "131072")
    text = kconfig_eval.render_fragment(list(results.values()), config)
    assert "CONFIG_DEFAULT_MMAP_MIN_ADDR=131072" in text and "X86_PAE=y" not in text
    # an override is the expectation everywhere, also where the arch has its own
    arm = by_id(kconfig_eval.evaluate(entries, kconfig_parser.read(fixture("trixie_arm64_arm64.config.gz"))))
    assert arm["KCONF-DEFAULT_MMAP_MIN_ADDR"]["expected"] == "131072"


# -- bad input -----------------------------------------------------------------

GOOD = b"# Linux/x86 6.1.0 Kernel Configuration\nCONFIG_64BIT=y\nCONFIG_X86_64=y\n"


def bad(tmp_path, data, name="config"):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(kconfig_parser.KconfigError) as raised:
        kconfig_parser.read(str(path))
    assert str(raised.value).startswith(str(path) + ": ")
    return str(raised.value)


def test_unreadable(tmp_path):
    with pytest.raises(kconfig_parser.KconfigError, match="nope: no such file or directory"):
        kconfig_parser.read(str(tmp_path / "nope"))
    with pytest.raises(kconfig_parser.KconfigError, match="is a directory, not a regular file"):
        kconfig_parser.read(str(tmp_path))


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
    assert kconfig_parser.read(str(path)).compression is None
    path = tmp_path / "config"
    path.write_bytes(gzip.compress(GOOD))
    assert kconfig_parser.read(str(path)).compression == "gzip"
    import lzma
    path.write_bytes(lzma.compress(GOOD))
    assert kconfig_parser.read(str(path)).compression == "xz"
    assert "zstd-compressed; decompress it first" in bad(tmp_path, b"\x28\xb5\x2f\xfd" + b"\x00" * 20)


def test_binary_data(tmp_path):
    assert bad(tmp_path, b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 64).endswith(
        ": binary data, not a text kernel configuration")
    assert "binary data" in bad(tmp_path, gzip.compress(b"CONFIG_X=y\n\x00\x01\x02"))


def test_a_file_larger_than_any_configuration_is_refused_before_parsing(tmp_path):
    """The largest real configurations are under 0.5 MiB (openSUSE's 6.18
    arm64: 361 KB, 15,000 lines).  Parsing 60 MiB of options took 0.8 GiB of
    memory (a MemoryError traceback on a small guest): anything over 8 MiB,
    plain or once decompressed, is refused with the file named."""
    header = b"# Linux/x86 6.1.0 Kernel Configuration\nCONFIG_64BIT=y\n"
    huge = header + b"".join(b"CONFIG_OPTION_NUMBER_%07d=y\n" % number for number in range(300000))
    assert 8 * 1048576 < len(huge) < 9 * 1048576
    assert bad(tmp_path, huge).endswith(": larger than 8 MiB: not a kernel configuration")
    assert bad(tmp_path, gzip.compress(huge, 1)).endswith(
        ": more than 8 MiB once decompressed: not a kernel configuration")
    # five times the largest real one is still read
    path = tmp_path / "large"
    path.write_bytes(huge[:2 * 1048576].rsplit(b"\n", 1)[0] + b"\n")
    assert kconfig_parser.read(str(path)).get("OPTION_NUMBER_0000001") == "y"


def test_duplicate_symbols(tmp_path):
    message = bad(tmp_path, GOOD + b"CONFIG_VIRTIO_NET=m\n" + b"# CONFIG_X is not set\n"
                  + b"CONFIG_VIRTIO_NET=y\n")
    assert "CONFIG_VIRTIO_NET is set twice with different values: line 4 (m) and line 6 (y)" in message
    assert "make olddefconfig" in message
    message = bad(tmp_path, GOOD + b"# CONFIG_DEVKMEM is not set\nCONFIG_DEVKMEM=y\n")
    assert "line 4 (not set) and line 5 (y)" in message
    path = tmp_path / "same"
    path.write_bytes(GOOD + b"CONFIG_SYN_COOKIES=y\nCONFIG_SYN_COOKIES=y\n")
    config = kconfig_parser.read(str(path))
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
    config = kconfig_parser.read(str(path))
    assert config.get("B") == 'a "quoted" string' and config.get("C") == "0x1000"
    assert config.get("A") is None
    assert len(config.warnings) == 3
    assert "CONFIG_A=maybe is not a value kconfig writes" in config.warnings[0]
    assert "1 line(s) are neither options nor comments (line 5)" in config.warnings[1]
    assert "may be truncated" in config.warnings[2]


# -- values kconfig reads by the option's type (confdata.c conf_set_sym_val) --

def edited_bullseye(tmp_path, edits, line_end="\n"):
    """Debian 11's 5.10 configuration with ``edits`` (``(line, new text)``,
    hand-edited as people do), written with ``line_end``: ``(path, config,
    KCONF-* results by ID)``."""
    text = fixture_text("bullseye_amd64_amd64.config.gz")
    for old, new in edits:
        assert "\n%s\n" % old in text
        text = text.replace("\n%s\n" % old, "\n%s\n" % new)
    path = tmp_path / "config-5.10.0-32-amd64"
    path.write_text(text.replace("\n", line_end))
    config = kconfig_parser.read(str(path))
    return path, config, by_id(kconfig_eval.evaluate(ENTRIES, config))


def test_values_read_as_kconfig_reads_them_for_the_options_type(tmp_path):
    edits = (("# CONFIG_DEVKMEM is not set", "CONFIG_DEVKMEM=y  # needed by our crash tool"),
             ("# CONFIG_COMPAT_BRK is not set", 'CONFIG_COMPAT_BRK="n"'),
             ("CONFIG_SYN_COOKIES=y", "CONFIG_SYN_COOKIES=yes"),
             ("CONFIG_DEFAULT_MMAP_MIN_ADDR=65536", "CONFIG_DEFAULT_MMAP_MIN_ADDR=0x10000"))
    path, config, results = edited_bullseye(tmp_path, edits)
    # a bool is read by its first character: y
    assert results["KCONF-DEVKMEM"]["status"] == "fail"
    assert results["KCONF-DEVKMEM"]["message"] == "CONFIG_DEVKMEM=y, expected not set"
    assert results["KCONF-SYN_COOKIES"]["status"] == "pass"
    # ignored: the option keeps its Kconfig default, which the file does not show
    brk = results["KCONF-COMPAT_BRK"]
    assert brk["status"] == "unknown"
    assert '%s:%d: CONFIG_COMPAT_BRK="n" is no valid bool value: kconfig ignores it' % (
        path, config.written["COMPAT_BRK"][0]) in brk["message"]
    mmap = results["KCONF-DEFAULT_MMAP_MIN_ADDR"]
    assert mmap["status"] == "unknown"
    assert "CONFIG_DEFAULT_MMAP_MIN_ADDR=0x10000 is no valid int value: kconfig ignores it" in mmap["message"]
    warned = [w for w in config.warnings if "is not a value kconfig writes" in w]
    assert len(warned) == 3 and not any("(kconfig ignores it)" in w for w in config.warnings)


def test_spaces_around_a_value_are_part_of_it_as_for_kconfig(tmp_path):
    """kconfig (confdata.c conf_read_simple) strips the line break only: a
    space or tab after ``=`` or after the value stays in it.  A bool is read
    by its first character (``y `` is y, `` y`` is ignored); an int with a
    trailing space is no int (sym_string_valid) and is ignored, so the option
    keeps its default: a hand-edited ``=65536 `` builds a kernel with 4096."""
    edits = (("CONFIG_DEFAULT_MMAP_MIN_ADDR=65536", "CONFIG_DEFAULT_MMAP_MIN_ADDR=65536 "),
             ("CONFIG_SYN_COOKIES=y", "CONFIG_SYN_COOKIES=y\t"),
             ("CONFIG_SECURITY_YAMA=y", "CONFIG_SECURITY_YAMA= y"))
    # CRLF: the \r goes with the line break
    path, config, results = edited_bullseye(tmp_path, edits, "\r\n")
    mmap = results["KCONF-DEFAULT_MMAP_MIN_ADDR"]
    assert mmap["status"] == "unknown"
    assert ("CONFIG_DEFAULT_MMAP_MIN_ADDR=65536  is no valid int value (the space or tab around it is part "
            "of it): kconfig ignores it") in mmap["message"]
    assert results["KCONF-SYN_COOKIES"]["status"] == "pass"
    yama = results["KCONF-SECURITY_YAMA"]
    assert yama["status"] == "unknown" and "CONFIG_SECURITY_YAMA= y is no valid bool value" in yama["message"]
    warned = [w for w in config.warnings if "space or tab" in w]
    assert len(warned) == 1 and "3 line(s)" in warned[0], config.warnings
    # every other option of the CRLF file reads as in the original
    assert results["KCONF-KVM_GUEST"]["status"] == "pass" and config.arch == "x86_64"
    assert not any("not a value kconfig writes" in w or "neither options" in w for w in config.warnings)


def test_a_line_kconfig_skips_sets_nothing(tmp_path):
    """kconfig (confdata.c conf_read_simple) reads ``CONFIG_X=`` and ``# CONFIG_X
    is not set`` only at the start of a line, and the name up to ``=``: an
    indented line, or ``CONFIG_X = y``, is "unexpected data" and the option
    keeps its Kconfig default (COMPAT_BRK: y).  Such a line was read as if
    kconfig took it: an indented ``# CONFIG_COMPAT_BRK is not set`` passed."""
    edits = (("# CONFIG_COMPAT_BRK is not set", "  # CONFIG_COMPAT_BRK is not set"),
             ("CONFIG_DEFAULT_MMAP_MIN_ADDR=65536", "\tCONFIG_DEFAULT_MMAP_MIN_ADDR=65536"),
             ("CONFIG_SECURITY_YAMA=y", "CONFIG_SECURITY_YAMA = y"),
             # a skipped line beside one kconfig reads changes nothing
             ("CONFIG_SYN_COOKIES=y", "CONFIG_SYN_COOKIES=y\n    CONFIG_SYN_COOKIES=n"))
    path, config, results = edited_bullseye(tmp_path, edits)
    for rid, line in (("KCONF-COMPAT_BRK", "# CONFIG_COMPAT_BRK is not set"),
                      ("KCONF-DEFAULT_MMAP_MIN_ADDR", "CONFIG_DEFAULT_MMAP_MIN_ADDR=65536"),
                      ("KCONF-SECURITY_YAMA", "CONFIG_SECURITY_YAMA = y")):
        assert results[rid]["status"] == "unknown", results[rid]
        assert "'%s': kconfig skips this line" % line in results[rid]["message"]
        assert "keeps its Kconfig default" in results[rid]["message"]
    assert results["KCONF-SYN_COOKIES"]["status"] == "pass"
    assert config.get("SYN_COOKIES") == "y"
    warned = [w for w in config.warnings if "kconfig skips them" in w]
    assert len(warned) == 1 and "4 line(s)" in warned[0], config.warnings
    # a file of nothing but such lines names no option kconfig reads
    path.write_text("  CONFIG_SCSI_VIRTIO=y\n  CONFIG_VIRTIO_NET=y\n")
    with pytest.raises(kconfig_parser.KconfigError) as error:
        kconfig_parser.read(str(path))
    assert "no CONFIG_ options found: not a kernel configuration (kconfig skips the 2 indented" in str(error.value)


@pytest.mark.parametrize("fixture_name,status", [
    ("bullseye_amd64_amd64.config.gz", "pass"),      # 5.10: kconfig reads it as n
    ("trixie_amd64_amd64.config.gz", "unknown"),     # 6.12: kconfig skips it
])
def test_is_not_set_with_more_after_it_depends_on_the_kconfig(tmp_path, fixture_name, status):
    """Before Linux 6.8 kconfig took any line starting ``# CONFIG_X is not
    set`` (strncmp); since 6.8 ("kconfig: require an exact match for "is not
    set" to disable CONFIG option") only the exact words, so a hand-edited
    ``# CONFIG_COMPAT_BRK is not set  # heap ASLR`` leaves a 6.12 kernel with
    the default COMPAT_BRK=y.  Such a line passed whatever the version."""
    text = fixture_text(fixture_name)
    old = "\n# CONFIG_COMPAT_BRK is not set\n"
    assert old in text
    path = tmp_path / "config"
    path.write_text(text.replace(old, "\n# CONFIG_COMPAT_BRK is not set  # heap ASLR\n"))
    config = kconfig_parser.read(str(path))
    brk = by_id(kconfig_eval.evaluate(ENTRIES, config))["KCONF-COMPAT_BRK"]
    assert brk["status"] == status, brk
    if status == "unknown":
        assert "the kconfig of Linux 6.8 and later skips such a line" in brk["message"]
        assert "this is Linux 6.12.117" in brk["message"]
    assert any("line(s) have more after those words" in w for w in config.warnings)
    # the exact words on another line of the same option are n for every kconfig
    path.write_text(text.replace(old, "\n# CONFIG_COMPAT_BRK is not set \n# CONFIG_COMPAT_BRK is not set\n"))
    config = kconfig_parser.read(str(path))
    assert by_id(kconfig_eval.evaluate(ENTRIES, config))["KCONF-COMPAT_BRK"]["status"] == "pass"


@pytest.mark.parametrize("text,kind,value", [
    ("y  # comment", "bool", "y"), ("yes", "bool", "y"), ("no", "tristate", "n"), ("m", "tristate", "m"),
    ("m", "bool", None), ('"n"', "bool", None), ("", "bool", None),
    ("65536", "int", "65536"), ("-1", "int", "-1"), ("0x10000", "int", None), ('"65536"', "int", None),
    ("065536", "int", None), ("0x10000", "hex", "0x10000"), ("10000", "hex", "10000"), ('"a b"', "string", "a b"),
    # a string is read to its first unescaped quote; what follows is not read
    ('"a" # note', "string", "a"), ('"a\\"b"', "string", 'a"b'), ('"x\\\\y"', "string", "x\\y"),
    ('"open', "string", None), ("plain", "string", None),
])
def test_kconfig_value_is_conf_set_sym_val(text, kind, value):
    assert kconfig_parser.kconfig_value(text, kind) == value


def _read_as(text, name, kind):
    config = kconfig_parser.parse_text(text, ".config")
    found = kconfig_eval.resolve(config, name, kind=kind)[0]
    return found.value if found.origin == "file" else found.origin


@pytest.mark.parametrize("text,kind,value", [
    # conf_read_simple reads a line up to "\n": a form feed or a lone "\r" does not end it (str.splitlines()
    # made two lines of it, and the int was 12 and the hex set)
    ("CONFIG_A=12\x0cCONFIG_B=0x20\n", "int", "unknown"), ("CONFIG_B=1\nCONFIG_A=y\rCONFIG_B=m\n", "bool", "y"),
    ("CONFIG_A=12\r\r\n", "int", "unknown"), ("CONFIG_A=12\r\n", "int", "12"),
    # a value its type does not allow leaves the one before (the last line written was taken, and unknown)
    ("CONFIG_A=12\nCONFIG_A=yes\n", "int", "12"), ("CONFIG_A=m\nCONFIG_A=m \n", "bool", "unknown"),
    # "is not set" sets a bool or tristate only (it was n for an int)
    ("# CONFIG_A is not set\n", "int", "unknown"), ("# CONFIG_A is not set\n", "string", "unknown"),
])
def test_each_line_is_read_in_turn_as_conf_reads_it(text, kind, value):
    """Checked against kconfig's own conf in test_kconfig_real_conf.py."""
    assert _read_as("CONFIG_MODULES=y\n" + text, "A", kind) == value


@pytest.mark.parametrize("lsm", ['"integrity,apparmor"', '""', '"lockdown, yama,integrity"'])
def test_yama_built_but_not_in_the_lsm_order_is_said(lsm):
    """Since 5.1 (CONFIG_LSM, 13e735c0e953) the kernel starts only the LSMs
    CONFIG_LSM (or lsm=) lists, matched by exact name (security/security.c
    ordered_lsm_parse: strsep on ',' and strcmp; the others are "skipped: not
    in requested order"): CONFIG_SECURITY_YAMA=y with a CONFIG_LSM that does
    not name yama builds Yama but never starts it, so ptrace is not
    restricted.  It passed with nothing said."""
    config = kconfig_parser.parse_text("# Linux/x86 5.3.18 Kernel Configuration\nCONFIG_X86_64=y\n"
                                       "CONFIG_SECURITY=y\nCONFIG_SECURITY_YAMA=y\nCONFIG_LSM=%s\n" % lsm)
    yama = by_id(kconfig_eval.evaluate(ENTRIES, config))["KCONF-SECURITY_YAMA"]
    # the build option is there (the command line's lsm= can start it): still a pass, with the caveat
    assert yama["status"] == "pass"
    assert yama["message"].startswith("CONFIG_SECURITY_YAMA=y; but CONFIG_LSM=%s does not list yama: " % lsm)
    assert "a built Yama not listed there is not enabled by default and ptrace is not restricted" in yama["message"]
    assert yama["hint"].startswith("add yama to CONFIG_LSM (CONFIG_LSM=\"")
    assert yama["hint"].endswith(",yama\") or to the kernel command line's lsm= (with the LSMs it must keep)") \
        or yama["hint"].startswith('add yama to CONFIG_LSM (CONFIG_LSM="yama")')
    assert yama["warning"].startswith("<string>: KCONF-SECURITY_YAMA: CONFIG_LSM=")
    assert {"symbol": "LSM", "value": lsm.strip('"')} in yama["evidence"]["tried"]


@pytest.mark.parametrize("text", [
    # listed: started by default
    "# Linux/x86 6.1.0 Kernel Configuration\nCONFIG_X86_64=y\nCONFIG_SECURITY_YAMA=y\n"
    "CONFIG_LSM=\"landlock,lockdown,yama,apparmor\"\n",
    # before CONFIG_LSM (5.1), a built Yama always stacks
    "# Linux/x86 4.9.0 Kernel Configuration\nCONFIG_X86_64=y\nCONFIG_SECURITY_YAMA=y\n",
])
def test_yama_in_the_lsm_order_or_before_it_passes_plainly(text):
    yama = by_id(kconfig_eval.evaluate(ENTRIES, kconfig_parser.parse_text(text)))["KCONF-SECURITY_YAMA"]
    assert (yama["status"], yama["message"], yama.get("warning")) == ("pass", "CONFIG_SECURITY_YAMA=y", None)


def test_yama_outside_the_lsm_order_is_warned_about_by_the_kernels_check(tmp_path):
    path = tmp_path / "config-5.3.18-59-default"
    path.write_text("# Linux/x86 5.3.18 Kernel Configuration\nCONFIG_X86_64=y\nCONFIG_SECURITY_YAMA=y\n"
                    "CONFIG_LSM=\"integrity,apparmor\"\n")
    kernel = kconfig.check_kernel(ENTRIES, {}, None, str(path), "path", Target("/"))
    assert any(w.startswith("%s: KCONF-SECURITY_YAMA: CONFIG_LSM=\"integrity,apparmor\" does not list yama"
                            % path) for w in kernel["warnings"])


@pytest.mark.parametrize("symbol,arch", [("PPC", "powerpc"), ("S390", "s390"), ("RISCV", "riscv")])
def test_x86_options_do_not_apply_to_a_headerless_configuration_of_another_architecture(symbol, arch):
    """A ppc64le, s390x or riscv64 configuration without its header (lines as
    kconfig writes them) is that architecture's, as with the header: the x86
    requirements do not apply.  They failed (architecture unknown)."""
    lines = ["CONFIG_%s=y" % symbol, "CONFIG_64BIT=y", "CONFIG_SYN_COOKIES=y"]
    for config in (kconfig_parser.parse_text(full_text(*lines)),
                   kconfig_parser.parse_text("# Linux/%s 6.1.0 Kernel Configuration\n" % arch + full_text(*lines))):
        results = by_id(kconfig_eval.evaluate(ENTRIES, config))
        for rid in ("KCONF-KVM_GUEST", "KCONF-KVM_CLOCK", "KCONF-X86_PAE", "KCONF-COMPAT_VDSO"):
            assert results[rid]["status"] == "not-applicable", results[rid]
            assert results[rid]["message"].endswith("this kernel is %s" % arch)


def test_a_yama_fix_lists_yama_in_the_lsm_order_too():
    """SLE 15's 5.3 kernel: Yama not built and CONFIG_LSM="integrity,apparmor":
    the fix's CONFIG_SECURITY_YAMA=y alone builds a Yama the kernel never
    starts; the fix lists it in CONFIG_LSM too."""
    config = kconfig_parser.read(fixture("distros/sle15_5.3_x86_64.config.gz"))
    yama = by_id(kconfig_eval.evaluate(ENTRIES, config))["KCONF-SECURITY_YAMA"]
    assert yama["status"] == "fail"
    assert yama["remediation"] == 'CONFIG_SECURITY_YAMA=y; CONFIG_LSM="integrity,apparmor,yama"'
    assert yama["message"].startswith("CONFIG_SECURITY_YAMA is not set, expected =y; and "
                                      'CONFIG_LSM="integrity,apparmor" does not list yama: ')
    text = kconfig_eval.render_fragment([yama], config)
    assert '\nCONFIG_SECURITY_YAMA=y\nCONFIG_LSM="integrity,apparmor,yama"\n' in text
    # a kernel without CONFIG_LSM (before 5.1): the option alone
    old = kconfig_parser.read(fixture("distros/ol7-uek4_4.1_x86_64.config.gz"))
    assert by_id(kconfig_eval.evaluate(ENTRIES, old))["KCONF-SECURITY_YAMA"]["remediation"] == "CONFIG_SECURITY_YAMA=y"


def test_a_module_kept_from_loading_in_the_initramfs_is_not_counted():
    config = kconfig_parser.read(fixture("bookworm_amd64_cloud-amd64.config.gz"))
    line = {"source": "/boot/initrd.img-6.1.0-50-cloud-amd64:etc/modprobe.d/x.conf", "line": 3,
            "text": "blacklist virtio_scsi", "how": "blacklist"}
    present = view({"virtio_pci", "virtio_scsi", "virtio_net"})
    results = by_id(kconfig_eval.evaluate(ENTRIES, config, initramfs=dict(present, blocks={"virtio_scsi": [line]})))
    scsi = results["KCONF-SCSI_VIRTIO"]
    assert scsi["status"] == "fail"
    assert scsi["message"].endswith(
        "present in /boot/initrd.img-6.1.0-50-cloud-amd64, but the initramfs's copy of modprobe.d keeps it from "
        "loading there: /boot/initrd.img-6.1.0-50-cloud-amd64:etc/modprobe.d/x.conf:3: blacklist virtio_scsi "
        "(udev loads with the blacklist applied)")
    assert scsi["evidence"]["blocked_by"] == ["/boot/initrd.img-6.1.0-50-cloud-amd64:etc/modprobe.d/x.conf:3: "
                                              "blacklist virtio_scsi"]
    assert scsi["remediation"] == "CONFIG_SCSI_VIRTIO=y"
    assert results["KCONF-VIRTIO_NET"]["status"] == "module-in-initramfs"
    assert "blocked_by" not in results["KCONF-VIRTIO_NET"]["evidence"]
    # a command line that cannot be read leaves a present module unknown, as in the hardware area
    unread = dict(present, cmdline_blocks=None, cmdline_error="the kernel command line is unknown: /boot/grub/grub.cfg: "
                  "is a directory")
    net = by_id(kconfig_eval.evaluate(ENTRIES, config, initramfs=unread))["KCONF-VIRTIO_NET"]
    assert net["status"] == "unknown"
    assert net["message"].endswith("but the kernel command line is unknown: /boot/grub/grub.cfg: is a directory")


@pytest.mark.parametrize("config", [
    minimal("CONFIG_IA32_EMULATION=y", "CONFIG_VIRTIO_NET=m", version="6.1"),
    by_id(kconfig_eval.evaluate(ENTRIES, kconfig_parser.parse_text(
        "# Linux/x86 6.1.0 Kernel Configuration\nCONFIG_64BIT=y\nCONFIG_X86_64=y\n"
        "# CONFIG_MODULES is not set\nCONFIG_VIRTIO_NET=m\n"), initramfs=view(set()))),
])
def test_a_tristate_m_without_modules_is_built_in(config):
    # scripts/kconfig/symbol.c: without MODULES a tristate is a bool, and a bool's m is y
    net = config["KCONF-VIRTIO_NET"]
    assert (net["status"], net["found"]) == ("pass", "y")
    assert "written =m, but CONFIG_MODULES is" in net["message"]


def test_a_tristate_m_with_modules_is_a_module():
    net = minimal("CONFIG_IA32_EMULATION=y", "CONFIG_MODULES=y", "CONFIG_VIRTIO_NET=m", version="6.1")["KCONF-VIRTIO_NET"]
    assert (net["status"], net["found"]) == ("unknown", "m")


def test_a_select_overrides_an_n_in_a_minimal_configuration():
    # scripts/kconfig/symbol.c sym_calc_value: the select (rev_dep) is or'ed into the user value
    x86 = ("CONFIG_IA32_EMULATION=y",)
    syn = minimal(*(x86 + ("# CONFIG_SYN_COOKIES is not set", "CONFIG_NFT_SYNPROXY=m")), version="6.1")["KCONF-SYN_COOKIES"]
    assert (syn["status"], syn["found"]) == ("pass", "y")
    assert "written n, but selected by CONFIG_NFT_SYNPROXY=m" in syn["message"]
    msi = minimal(*(x86 + ("# CONFIG_PCI_MSI is not set", "CONFIG_AMD_IOMMU=y")), version="6.1")["KCONF-PCI_MSI"]
    assert msi["status"] == "pass"
    # nothing selects it, or the version the rule holds for is unknown: the n stands
    assert minimal(*(x86 + ("# CONFIG_SYN_COOKIES is not set",)), version="6.1")["KCONF-SYN_COOKIES"]["status"] == "fail"
    unknown = minimal(*(x86 + ("# CONFIG_SYN_COOKIES is not set", "CONFIG_NFT_SYNPROXY=m")))["KCONF-SYN_COOKIES"]
    assert unknown["status"] == "fail"


def test_a_y_whose_dependency_is_off_is_n_in_a_minimal_configuration():
    # scripts/kconfig/symbol.c sym_calc_value: the user value is and'ed with the dependencies
    x86 = ("CONFIG_IA32_EMULATION=y",)
    guest = minimal(*(x86 + ("CONFIG_KVM_GUEST=y", "# CONFIG_PARAVIRT is not set")), version="6.1")["KCONF-KVM_GUEST"]
    assert guest["status"] == "fail"
    assert "written y, but CONFIG_PARAVIRT, which it depends on, is not set: kconfig keeps it n" in guest["message"]
    devmem = minimal(*(x86 + ("CONFIG_STRICT_DEVMEM=y", "# CONFIG_DEVMEM is not set")), version="6.1")
    # (passes: no /dev/mem at all), but STRICT_DEVMEM itself is n
    assert devmem["KCONF-STRICT_DEVMEM"]["evidence"]["tried"][0] == {"symbol": "STRICT_DEVMEM", "value": "not set"}
    # the dependency on, or a select: the y stands
    on = minimal(*(x86 + ("CONFIG_KVM_GUEST=y", "CONFIG_PARAVIRT=y")), version="6.1")["KCONF-KVM_GUEST"]
    assert (on["status"], on["found"]) == ("pass", "y")
    selected = minimal(*(x86 + ("CONFIG_KVM_GUEST=y", "# CONFIG_PARAVIRT is not set", "CONFIG_HYPERV=y")),
                       version="6.1")["KCONF-KVM_GUEST"]
    assert selected["status"] == "pass"
