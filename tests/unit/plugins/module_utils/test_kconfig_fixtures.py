"""Every KCONF-* verdict on every real and synthetic configuration fixture
(tests/fixtures/kconfig, origins in its README.md and SOURCES.md).

The rows were written by reading each configuration's lines for the
catalogue's options (and, for the minimal ones, the Kconfig defaults the
catalogue cites), not copied from the code's output."""

import gzip
import hashlib
import os
import re

import pytest

from ansible_collections.guestready.gce.plugins.module_utils import catalogue as cat
from ansible_collections.guestready.gce.plugins.module_utils import kconfig_eval, kconfig_parser

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "..", "..", "fixtures", "kconfig")
ENTRIES = cat.requirements(("kernel-required", "kernel-security"))

# Catalogue order; every row gives one verdict per ID in this order.
IDS = ("KVM_GUEST", "KVM_CLOCK", "VIRTIO_PCI", "SCSI_VIRTIO", "VIRTIO_NET", "PCI_MSI",
       "STRICT_DEVMEM", "DEVKMEM", "DEFAULT_MMAP_MIN_ADDR", "DEBUG_RODATA",
       "DEBUG_SET_MODULE_RONX", "CC_STACKPROTECTOR", "COMPAT_VDSO", "COMPAT_BRK", "X86_PAE",
       "SYN_COOKIES", "SECURITY_YAMA", "SECURITY_YAMA_STACKED")
STATUS = {"P": "pass", "F": "fail", "N": "not-applicable", "U": "unknown"}


def verdicts(row):
    """``<status>[:<symbol that decided>]`` per ID; no symbol: the result names
    none; ``:*``: any symbol."""
    tokens = row.split()
    assert len(tokens) == len(IDS)
    result = {}
    for rid, token in zip(IDS, tokens):
        status, dummy, symbol = token.partition(":")
        result["KCONF-" + rid] = (STATUS[status], symbol or None)
    return result


def judged(results, row):
    want = verdicts(row)
    got = {}
    for result in results:
        symbol = "*" if want[result["id"]][1] == "*" else result["symbol"]
        got[result["id"]] = (result["status"], symbol)
    return got, want


# -- Debian (tools/fetch_kernel_configs.sh --debian) --------------------------
# U = a required driver built as a module, with no initramfs given.
# x86_64 6.1: kvmclock folded into KVM_GUEST, virtio drivers =m, /dev/kmem
# gone (5.13), renamed RWX/stack-protector options, Yama stacking folded into
# Yama (4.3).
DEBIAN_61_X86_64 = ("P:KVM_GUEST P:KVM_GUEST U:VIRTIO_PCI U:SCSI_VIRTIO U:VIRTIO_NET P:PCI_MSI "
                    "P:STRICT_DEVMEM P P:DEFAULT_MMAP_MIN_ADDR P:STRICT_KERNEL_RWX "
                    "P:STRICT_MODULE_RWX P:STACKPROTECTOR P:COMPAT_VDSO P:COMPAT_BRK N "
                    "P:SYN_COOKIES P:SECURITY_YAMA P:SECURITY_YAMA")
DEBIAN_510_X86_64 = DEBIAN_61_X86_64.replace(" P P:DEFAULT", " P:DEVKMEM P:DEFAULT")  # "is not set"
DEBIAN_612_X86_64 = DEBIAN_61_X86_64.replace("U:VIRTIO_PCI", "P:VIRTIO_PCI")  # built in
# arm64: no KVM_GUEST/KVM_CLOCK/X86_PAE, COMPAT_VDSO means something else,
# mmap_min_addr 4096 is below the 65536 required everywhere
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

# fixture -> (version, arch, verdicts); version and arch from the header
FULL = {
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

    # -- other distributions (--git): what each file says ------------------------
    # CentOS 7: 3.10 with RHEL's backports: the 3.14 stack-protector choice next
    # to the old hidden CC_STACKPROTECTOR, no DEVMEM (4.0), DEBUG_RODATA and
    # DEBUG_SET_MODULE_RONX (4.11 renamed them), Yama stacked, mmap_min_addr 4096
    "distros/centos7_3.10_x86_64.config.gz": (
        (3, 10, 0), "x86_64",
        "P:KVM_GUEST P:KVM_GUEST U:VIRTIO_PCI U:SCSI_VIRTIO U:VIRTIO_NET P:PCI_MSI P:STRICT_DEVMEM "
        "P:DEVKMEM F:DEFAULT_MMAP_MIN_ADDR P:DEBUG_RODATA P:DEBUG_SET_MODULE_RONX "
        "P:CC_STACKPROTECTOR P:COMPAT_VDSO P:COMPAT_BRK N P:SYN_COOKIES P:SECURITY_YAMA "
        "P:SECURITY_YAMA_STACKED"),
    # UEK4 4.1: DEBUG_RODATA not set, Yama not set (and so not stacked either)
    "distros/ol7-uek4_4.1_x86_64.config.gz": (
        (4, 1, 12), "x86_64",
        "P:KVM_GUEST P:KVM_GUEST U:VIRTIO_PCI U:SCSI_VIRTIO U:VIRTIO_NET P:PCI_MSI P:STRICT_DEVMEM "
        "P:DEVKMEM F:DEFAULT_MMAP_MIN_ADDR F:DEBUG_RODATA P:DEBUG_SET_MODULE_RONX "
        "P:CC_STACKPROTECTOR P:COMPAT_VDSO P:COMPAT_BRK N P:SYN_COOKIES F:SECURITY_YAMA "
        "F:SECURITY_YAMA"),
    # Trisquel 8 (Ubuntu 16.04's 4.4): virtio-net built in
    "distros/trisquel8_4.4_x86_64.config.gz": (
        (4, 4, 0), "x86_64",
        "P:KVM_GUEST P:KVM_GUEST P:VIRTIO_PCI U:SCSI_VIRTIO P:VIRTIO_NET P:PCI_MSI P:STRICT_DEVMEM "
        "P:DEVKMEM P:DEFAULT_MMAP_MIN_ADDR P:DEBUG_RODATA P:DEBUG_SET_MODULE_RONX "
        "P:CC_STACKPROTECTOR P:COMPAT_VDSO P:COMPAT_BRK N P:SYN_COOKIES P:SECURITY_YAMA "
        "P:SECURITY_YAMA"),
    "distros/debian9_4.9_x86_64.config.gz": (
        (4, 9, 88), "x86_64",
        "P:KVM_GUEST P:KVM_GUEST U:VIRTIO_PCI U:SCSI_VIRTIO U:VIRTIO_NET P:PCI_MSI P:STRICT_DEVMEM "
        "P:DEVKMEM P:DEFAULT_MMAP_MIN_ADDR P:DEBUG_RODATA P:DEBUG_SET_MODULE_RONX "
        "P:CC_STACKPROTECTOR P:COMPAT_VDSO P:COMPAT_BRK N P:SYN_COOKIES P:SECURITY_YAMA "
        "P:SECURITY_YAMA"),
    # openSUSE Leap 15.1: CONFIG_DEVKMEM=y, Yama not set
    "distros/opensuse-leap15.1_4.12_x86_64.config.gz": (
        (4, 12, 14), "x86_64",
        "P:KVM_GUEST P:KVM_GUEST P:VIRTIO_PCI U:SCSI_VIRTIO U:VIRTIO_NET P:PCI_MSI P:STRICT_DEVMEM "
        "F:DEVKMEM P:DEFAULT_MMAP_MIN_ADDR P:STRICT_KERNEL_RWX P:STRICT_MODULE_RWX "
        "P:CC_STACKPROTECTOR P:COMPAT_VDSO P:COMPAT_BRK N P:SYN_COOKIES F:SECURITY_YAMA "
        "F:SECURITY_YAMA"),
    # Amazon Linux 2: mmap_min_addr 4096, Yama not set
    "distros/amazonlinux2_4.14_x86_64.config.gz": (
        (4, 14, 165), "x86_64",
        "P:KVM_GUEST P:KVM_GUEST U:VIRTIO_PCI U:SCSI_VIRTIO U:VIRTIO_NET P:PCI_MSI P:STRICT_DEVMEM "
        "P:DEVKMEM F:DEFAULT_MMAP_MIN_ADDR P:STRICT_KERNEL_RWX P:STRICT_MODULE_RWX "
        "P:CC_STACKPROTECTOR P:COMPAT_VDSO P:COMPAT_BRK N P:SYN_COOKIES F:SECURITY_YAMA "
        "F:SECURITY_YAMA"),
    "distros/ol7-uek5_4.14_x86_64.config.gz": (
        (4, 14, 35), "x86_64",
        "P:KVM_GUEST P:KVM_GUEST U:VIRTIO_PCI U:SCSI_VIRTIO U:VIRTIO_NET P:PCI_MSI P:STRICT_DEVMEM "
        "P:DEVKMEM F:DEFAULT_MMAP_MIN_ADDR P:STRICT_KERNEL_RWX P:STRICT_MODULE_RWX "
        "P:CC_STACKPROTECTOR P:COMPAT_VDSO P:COMPAT_BRK N P:SYN_COOKIES P:SECURITY_YAMA "
        "P:SECURITY_YAMA"),
    # `make defconfig` of 4.14: no KVM guest, no virtio, stack protector on
    # NONE (the fix is a choice member), STRICT_DEVMEM not set, no Yama
    "distros/upstream-defconfig_4.14_x86_64.config.gz": (
        (4, 14, 356), "x86_64",
        "F:KVM_GUEST F:KVM_GUEST F:VIRTIO_PCI F:SCSI_VIRTIO F:VIRTIO_NET P:PCI_MSI F:STRICT_DEVMEM "
        "P:DEVKMEM F:DEFAULT_MMAP_MIN_ADDR P:STRICT_KERNEL_RWX P:STRICT_MODULE_RWX "
        "F:CC_STACKPROTECTOR_STRONG P:COMPAT_VDSO P:COMPAT_BRK N P:SYN_COOKIES F:SECURITY_YAMA "
        "F:SECURITY_YAMA"),
    # 4.16 and 4.17: no hidden CC_STACKPROTECTOR line, STRONG chosen (AUTO not)
    "distros/qubes_4.16_x86_64.config.gz": (
        (4, 16, 8), "x86_64",
        "P:KVM_GUEST P:KVM_GUEST U:VIRTIO_PCI U:SCSI_VIRTIO U:VIRTIO_NET P:PCI_MSI P:STRICT_DEVMEM "
        "P:DEVKMEM P:DEFAULT_MMAP_MIN_ADDR P:STRICT_KERNEL_RWX P:STRICT_MODULE_RWX "
        "P:CC_STACKPROTECTOR_STRONG P:COMPAT_VDSO P:COMPAT_BRK N P:SYN_COOKIES P:SECURITY_YAMA "
        "P:SECURITY_YAMA"),
    "distros/kali_4.17_x86_64.config.gz": (
        (4, 17, 6), "x86_64",
        "P:KVM_GUEST P:KVM_GUEST U:VIRTIO_PCI U:SCSI_VIRTIO U:VIRTIO_NET P:PCI_MSI P:STRICT_DEVMEM "
        "P:DEVKMEM P:DEFAULT_MMAP_MIN_ADDR P:STRICT_KERNEL_RWX P:STRICT_MODULE_RWX "
        "P:CC_STACKPROTECTOR_STRONG P:COMPAT_VDSO P:COMPAT_BRK N P:SYN_COOKIES P:SECURITY_YAMA "
        "P:SECURITY_YAMA"),
    # Alma 8 (RHEL 8, 4.18): STACKPROTECTOR already; mmap_min_addr 4096
    "distros/alma8_4.18_x86_64.config.gz": (
        (4, 18, 0), "x86_64",
        "P:KVM_GUEST P:KVM_GUEST P:VIRTIO_PCI U:SCSI_VIRTIO U:VIRTIO_NET P:PCI_MSI P:STRICT_DEVMEM "
        "P:DEVKMEM F:DEFAULT_MMAP_MIN_ADDR P:STRICT_KERNEL_RWX P:STRICT_MODULE_RWX "
        "P:STACKPROTECTOR P:COMPAT_VDSO P:COMPAT_BRK N P:SYN_COOKIES P:SECURITY_YAMA "
        "P:SECURITY_YAMA"),
    "distros/sle15_5.3_x86_64.config.gz": (
        (5, 3, 16), "x86_64",
        "P:KVM_GUEST P:KVM_GUEST U:VIRTIO_PCI U:SCSI_VIRTIO U:VIRTIO_NET P:PCI_MSI P:STRICT_DEVMEM "
        "P:DEVKMEM P:DEFAULT_MMAP_MIN_ADDR P:STRICT_KERNEL_RWX P:STRICT_MODULE_RWX "
        "P:STACKPROTECTOR P:COMPAT_VDSO P:COMPAT_BRK N P:SYN_COOKIES F:SECURITY_YAMA "
        "F:SECURITY_YAMA"),
    "distros/alpine-edge_5.4_x86_64.config.gz": (
        (5, 4, 21), "x86_64",
        "P:KVM_GUEST P:KVM_GUEST U:VIRTIO_PCI U:SCSI_VIRTIO U:VIRTIO_NET P:PCI_MSI P:STRICT_DEVMEM "
        "P:DEVKMEM F:DEFAULT_MMAP_MIN_ADDR P:STRICT_KERNEL_RWX P:STRICT_MODULE_RWX "
        "P:STACKPROTECTOR P:COMPAT_VDSO P:COMPAT_BRK N P:SYN_COOKIES P:SECURITY_YAMA "
        "P:SECURITY_YAMA"),
    "distros/ubuntu20.04_5.4_x86_64.config.gz": (
        (5, 4, 0), "x86_64",
        "P:KVM_GUEST P:KVM_GUEST P:VIRTIO_PCI U:SCSI_VIRTIO U:VIRTIO_NET P:PCI_MSI P:STRICT_DEVMEM "
        "P:DEVKMEM P:DEFAULT_MMAP_MIN_ADDR P:STRICT_KERNEL_RWX P:STRICT_MODULE_RWX "
        "P:STACKPROTECTOR P:COMPAT_VDSO P:COMPAT_BRK N P:SYN_COOKIES P:SECURITY_YAMA "
        "P:SECURITY_YAMA"),
    # arm64 5.4: DEVKMEM depends on !ARM64, so absent; mmap_min_addr 32768 fails
    "distros/ol8-uek6_5.4_arm64.config.gz": (
        (5, 4, 17), "arm64",
        "N N U:VIRTIO_PCI U:SCSI_VIRTIO U:VIRTIO_NET P:PCI_MSI P:STRICT_DEVMEM P:DEVKMEM "
        "F:DEFAULT_MMAP_MIN_ADDR P:STRICT_KERNEL_RWX P:STRICT_MODULE_RWX P:STACKPROTECTOR N "
        "P:COMPAT_BRK N P:SYN_COOKIES P:SECURITY_YAMA P:SECURITY_YAMA"),
    "distros/alma9_5.14_x86_64.config.gz": (
        (5, 14, 0), "x86_64",
        "P:KVM_GUEST P:KVM_GUEST P:VIRTIO_PCI U:SCSI_VIRTIO U:VIRTIO_NET P:PCI_MSI P:STRICT_DEVMEM "
        "P P:DEFAULT_MMAP_MIN_ADDR P:STRICT_KERNEL_RWX P:STRICT_MODULE_RWX P:STACKPROTECTOR "
        "P:COMPAT_VDSO P:COMPAT_BRK N P:SYN_COOKIES P:SECURITY_YAMA P:SECURITY_YAMA"),
    # Alma 9 arm64 has no /dev/mem at all (CONFIG_DEVMEM is not set)
    "distros/alma9_5.14_arm64.config.gz": (
        (5, 14, 0), "arm64",
        "N N P:VIRTIO_PCI U:SCSI_VIRTIO U:VIRTIO_NET P:PCI_MSI P:DEVMEM P P:DEFAULT_MMAP_MIN_ADDR "
        "P:STRICT_KERNEL_RWX P:STRICT_MODULE_RWX P:STACKPROTECTOR N P:COMPAT_BRK N "
        "P:SYN_COOKIES P:SECURITY_YAMA P:SECURITY_YAMA"),
    "distros/ubuntu22.04_5.15_x86_64.config.gz": (
        (5, 15, 0), "x86_64",
        "P:KVM_GUEST P:KVM_GUEST P:VIRTIO_PCI U:SCSI_VIRTIO U:VIRTIO_NET P:PCI_MSI P:STRICT_DEVMEM "
        "P P:DEFAULT_MMAP_MIN_ADDR P:STRICT_KERNEL_RWX P:STRICT_MODULE_RWX P:STACKPROTECTOR "
        "P:COMPAT_VDSO P:COMPAT_BRK N P:SYN_COOKIES P:SECURITY_YAMA P:SECURITY_YAMA"),
    # Ubuntu's arm64 kernel builds the virtio drivers in; mmap_min_addr 32768 fails
    "distros/ubuntu24.04_6.8_arm64.config.gz": (
        (6, 8, 1), "arm64",
        "N N P:VIRTIO_PCI P:SCSI_VIRTIO P:VIRTIO_NET P:PCI_MSI P:STRICT_DEVMEM P "
        "F:DEFAULT_MMAP_MIN_ADDR P:STRICT_KERNEL_RWX P:STRICT_MODULE_RWX P:STACKPROTECTOR N "
        "P:COMPAT_BRK N P:SYN_COOKIES P:SECURITY_YAMA P:SECURITY_YAMA"),
    "distros/centos10-stream_6.12_x86_64.config.gz": (
        (6, 12, 0), "x86_64",
        "P:KVM_GUEST P:KVM_GUEST P:VIRTIO_PCI U:SCSI_VIRTIO U:VIRTIO_NET P:PCI_MSI P:STRICT_DEVMEM "
        "P P:DEFAULT_MMAP_MIN_ADDR P:STRICT_KERNEL_RWX P:STRICT_MODULE_RWX P:STACKPROTECTOR "
        "P:COMPAT_VDSO P:COMPAT_BRK N P:SYN_COOKIES P:SECURITY_YAMA P:SECURITY_YAMA"),
    "distros/opensuse-leap16.0_6.12_x86_64.config.gz": (
        (6, 12, 0), "x86_64",
        "P:KVM_GUEST P:KVM_GUEST P:VIRTIO_PCI U:SCSI_VIRTIO U:VIRTIO_NET P:PCI_MSI P:STRICT_DEVMEM "
        "P P:DEFAULT_MMAP_MIN_ADDR P:STRICT_KERNEL_RWX P:STRICT_MODULE_RWX P:STACKPROTECTOR "
        "P:COMPAT_VDSO P:COMPAT_BRK N P:SYN_COOKIES P:SECURITY_YAMA P:SECURITY_YAMA"),
    # `make defconfig` of 6.12: what minimal/kernel-*_defconfig_6.12 expand to
    "distros/upstream-defconfig_6.12_x86_64.config.gz": (
        (6, 12, 68), "x86_64",
        "P:KVM_GUEST P:KVM_GUEST P:VIRTIO_PCI P:SCSI_VIRTIO P:VIRTIO_NET P:PCI_MSI P:STRICT_DEVMEM "
        "P F:DEFAULT_MMAP_MIN_ADDR P:STRICT_KERNEL_RWX P:STRICT_MODULE_RWX P:STACKPROTECTOR "
        "P:COMPAT_VDSO P:COMPAT_BRK N P:SYN_COOKIES F:SECURITY_YAMA F:SECURITY_YAMA"),
    "distros/upstream-defconfig_6.12_arm64.config.gz": (
        (6, 12, 68), "arm64",
        "N N P:VIRTIO_PCI F:SCSI_VIRTIO P:VIRTIO_NET P:PCI_MSI P:STRICT_DEVMEM P "
        "F:DEFAULT_MMAP_MIN_ADDR P:STRICT_KERNEL_RWX P:STRICT_MODULE_RWX P:STACKPROTECTOR N "
        "P:COMPAT_BRK N F:SYN_COOKIES F:SECURITY_YAMA F:SECURITY_YAMA"),
    "distros/fedora43_6.17_x86_64.config.gz": (
        (6, 17, 1), "x86_64",
        "P:KVM_GUEST P:KVM_GUEST P:VIRTIO_PCI U:SCSI_VIRTIO U:VIRTIO_NET P:PCI_MSI P:STRICT_DEVMEM "
        "P P:DEFAULT_MMAP_MIN_ADDR P:STRICT_KERNEL_RWX P:STRICT_MODULE_RWX P:STACKPROTECTOR "
        "P:COMPAT_VDSO P:COMPAT_BRK N P:SYN_COOKIES P:SECURITY_YAMA P:SECURITY_YAMA"),
    # Arch: virtio-scsi built in, virtio-net a module
    "distros/arch_6.18_x86_64.config.gz": (
        (6, 18, 7), "x86_64",
        "P:KVM_GUEST P:KVM_GUEST P:VIRTIO_PCI P:SCSI_VIRTIO U:VIRTIO_NET P:PCI_MSI P:STRICT_DEVMEM "
        "P P:DEFAULT_MMAP_MIN_ADDR P:STRICT_KERNEL_RWX P:STRICT_MODULE_RWX P:STACKPROTECTOR "
        "P:COMPAT_VDSO P:COMPAT_BRK N P:SYN_COOKIES P:SECURITY_YAMA P:SECURITY_YAMA"),
    "distros/opensuse-tumbleweed_6.18_arm64.config.gz": (
        (6, 18, 7), "arm64",
        "N N P:VIRTIO_PCI U:SCSI_VIRTIO U:VIRTIO_NET P:PCI_MSI P:STRICT_DEVMEM P "
        "P:DEFAULT_MMAP_MIN_ADDR P:STRICT_KERNEL_RWX P:STRICT_MODULE_RWX P:STACKPROTECTOR N "
        "P:COMPAT_BRK N P:SYN_COOKIES P:SECURITY_YAMA P:SECURITY_YAMA"),
    "distros/upstream-defconfig_6.18_arm64.config.gz": (
        (6, 18, 8), "arm64",
        "N N P:VIRTIO_PCI F:SCSI_VIRTIO P:VIRTIO_NET P:PCI_MSI P:STRICT_DEVMEM P "
        "F:DEFAULT_MMAP_MIN_ADDR P:STRICT_KERNEL_RWX P:STRICT_MODULE_RWX P:STACKPROTECTOR N "
        "P:COMPAT_BRK N F:SYN_COOKIES F:SECURITY_YAMA F:SECURITY_YAMA"),
    # Container-Optimized OS (lakitu_defconfig, a full .config, cos-5.15):
    # Google's own Compute Engine kernel, so every required option holds and
    # the virtio drivers are built in; no /dev/mem at all (DEVMEM is not set,
    # STRICT_DEVMEM with it), mmap_min_addr 65536 on arm64 too
    "distros/cos-lakitu_5.15_x86_64.config.gz": (
        (5, 15, 63), "x86_64",
        "P:KVM_GUEST P:KVM_GUEST P:VIRTIO_PCI P:SCSI_VIRTIO P:VIRTIO_NET P:PCI_MSI P:DEVMEM "
        "P P:DEFAULT_MMAP_MIN_ADDR P:STRICT_KERNEL_RWX P:STRICT_MODULE_RWX P:STACKPROTECTOR "
        "P:COMPAT_VDSO P:COMPAT_BRK N P:SYN_COOKIES P:SECURITY_YAMA P:SECURITY_YAMA"),
    "distros/cos-lakitu_5.15_arm64.config.gz": (
        (5, 15, 63), "arm64",
        "N N P:VIRTIO_PCI P:SCSI_VIRTIO P:VIRTIO_NET P:PCI_MSI P:DEVMEM P "
        "P:DEFAULT_MMAP_MIN_ADDR P:STRICT_KERNEL_RWX P:STRICT_MODULE_RWX P:STACKPROTECTOR N "
        "P:COMPAT_BRK N P:SYN_COOKIES P:SECURITY_YAMA P:SECURITY_YAMA"),

    # -- synthetic (hand-written, see each file's comment) -----------------------
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
    # arm64 4.9: mmap_min_addr 32768 is below the 65536 required on arm64 too
    "synthetic/4.9_arm64.config": (
        (4, 9, 0), "arm64",
        "N N P:VIRTIO_PCI U:SCSI_VIRTIO U:VIRTIO_NET P:PCI_MSI P:STRICT_DEVMEM P:DEVKMEM "
        "F:DEFAULT_MMAP_MIN_ADDR P:DEBUG_RODATA P:DEBUG_SET_MODULE_RONX P:CC_STACKPROTECTOR N "
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

# Minimal (savedefconfig-style) configurations: no header, so the version is
# given (as a user gives `version`/`kernel_release`) and the architecture is
# inferred.  An absent option is judged by its Kconfig default.
# fixture -> (version given, arch, what the arch is inferred from, verdicts)
MINIMAL = {
    # Alpine linux-lts 6.6.35 "virt": KVM_GUEST defaults to y as PARAVIRT is on
    # (PARAVIRT_SPINLOCKS=y depends on it, HYPERV=m selects it); STRICT_DEVMEM,
    # STRICT_*_RWX and STACKPROTECTOR default to y; COMPAT_VDSO to n; the
    # SYNPROXY targets select SYN_COOKIES; Yama is not listed and defaults to n
    "minimal/alpine-virt_6.6_x86_64.config": (
        "6.6.35", "x86_64", "CONFIG_IA32_EMULATION=y",
        "P:KVM_GUEST P:KVM_GUEST P:VIRTIO_PCI U:SCSI_VIRTIO U:VIRTIO_NET P:PCI_MSI P:STRICT_DEVMEM "
        "P P:DEFAULT_MMAP_MIN_ADDR P:STRICT_KERNEL_RWX P:STRICT_MODULE_RWX P:STACKPROTECTOR "
        "P:COMPAT_VDSO P:COMPAT_BRK N P:SYN_COOKIES F:SECURITY_YAMA F:SECURITY_YAMA"),
    # Flatcar 6.12 (amd64_defconfig + commonconfig): PARAVIRT=y, mmap_min_addr
    # not listed (default 4096), DEVKMEM listed as not set but gone in 6.12
    "minimal/flatcar_6.12_x86_64.config": (
        "6.12.103", "x86_64", "CONFIG_IA32_EMULATION=y",
        "P:KVM_GUEST P:KVM_GUEST P:VIRTIO_PCI U:SCSI_VIRTIO U:VIRTIO_NET P:PCI_MSI P:STRICT_DEVMEM "
        "P F:DEFAULT_MMAP_MIN_ADDR P:STRICT_KERNEL_RWX P:STRICT_MODULE_RWX P:STACKPROTECTOR "
        "P:COMPAT_VDSO P:COMPAT_BRK N P:SYN_COOKIES F:SECURITY_YAMA F:SECURITY_YAMA"),
    "minimal/flatcar_6.12_arm64.config": (
        "6.12.103", "arm64", "CONFIG_ARM64_ACPI_PARKING_PROTOCOL (an arm64 option)",
        "N N P:VIRTIO_PCI U:SCSI_VIRTIO U:VIRTIO_NET P:PCI_MSI P:STRICT_DEVMEM P "
        "F:DEFAULT_MMAP_MIN_ADDR P:STRICT_KERNEL_RWX P:STRICT_MODULE_RWX P:STACKPROTECTOR N "
        "P:COMPAT_BRK N P:SYN_COOKIES F:SECURITY_YAMA F:SECURITY_YAMA"),
    # the kernel's own defconfigs: the same verdicts as the full configuration
    # `make defconfig` writes from them (distros/upstream-defconfig_6.12_*)
    "minimal/kernel-x86_64_defconfig_6.12.config": (
        "6.12", "x86_64", "CONFIG_IA32_EMULATION=y",
        FULL["distros/upstream-defconfig_6.12_x86_64.config.gz"][2]),
    "minimal/kernel-arm64_defconfig_6.12.config": (
        "6.12", "arm64", "CONFIG_CRYPTO_AES_ARM64_BS (an arm64 option)",
        FULL["distros/upstream-defconfig_6.12_arm64.config.gz"][2]),
    # i386: the same, but X86_PAE applies and its default is not in the catalogue
    "minimal/kernel-i386_defconfig_6.12.config": (
        "6.12", "x86_32", "CONFIG_64BIT is not set with CONFIG_X86_ACPI_CPUFREQ (an x86 option)",
        FULL["distros/upstream-defconfig_6.12_x86_64.config.gz"][2].replace(" N P:SYN",
                                                                            " U:X86_PAE P:SYN")),
}


def fixture(name):
    return os.path.join(FIXTURES, name)


def test_tables_cover_every_fixture():
    assert [e["id"] for e in ENTRIES] == ["KCONF-" + rid for rid in IDS]
    on_disk = set(name for name in os.listdir(FIXTURES) if name.endswith(".config.gz"))
    for sub in ("distros", "minimal", "synthetic"):
        on_disk |= set("%s/%s" % (sub, name) for name in os.listdir(fixture(sub)))
    assert on_disk == set(FULL) | set(MINIMAL)


@pytest.mark.parametrize("name", sorted(FULL))
def test_full_configurations(name):
    version, arch, row = FULL[name]
    config = kconfig_parser.read(fixture(name))
    assert (config.version, config.arch, config.version_source, config.arch_source) == \
        (version, arch, "header", "header")
    assert config.form == "full" and config.notes() == []
    assert config.warnings == []
    got, want = judged(kconfig_eval.evaluate(ENTRIES, config), row)
    assert got == want


@pytest.mark.parametrize("name", sorted(MINIMAL))
def test_minimal_configurations(name):
    version, arch, evidence, row = MINIMAL[name]
    config = kconfig_parser.read(fixture(name), version=version)
    assert config.form == "minimal"
    assert config.form_evidence[0].startswith("no '# Linux/<arch> <version> Kernel Configuration'")
    assert (config.arch, config.arch_source) == (arch, "inferred from " + evidence)
    results = kconfig_eval.evaluate(ENTRIES, config)
    got, want = judged(results, row)
    assert got == want
    for result in results:
        if result["found"].endswith("(Kconfig default)"):
            assert "not listed in this minimal configuration: Kconfig default" in result["message"]


@pytest.mark.parametrize("name", sorted(FULL) + sorted(MINIMAL))
def test_every_result_is_complete(name):
    version = MINIMAL[name][0] if name in MINIMAL else None
    for result in kconfig_eval.evaluate(ENTRIES, kconfig_parser.read(fixture(name), version=version)):
        assert result["message"] and "\n" not in result["message"]
        assert result["evidence"]["config"] == fixture(name)
        if result["status"] == "fail":
            assert result["remediation"] or "another kernel version" in result["message"], result
        if result["status"] == "pass":
            assert result["remediation"] == ""


def test_minimal_defconfigs_judge_as_their_expansion():
    """The kernel's x86_64 and arm64 defconfigs, judged with the catalogue's
    Kconfig defaults, give every ID the status `make defconfig`'s full
    configuration of the same kernel gives it."""
    for arch in ("x86_64", "arm64"):
        minimal = kconfig_parser.read(fixture("minimal/kernel-%s_defconfig_6.12.config" % arch),
                                      version="6.12")
        full = kconfig_parser.read(fixture("distros/upstream-defconfig_6.12_%s.config.gz" % arch))
        assert [r["status"] for r in kconfig_eval.evaluate(ENTRIES, minimal)] == \
            [r["status"] for r in kconfig_eval.evaluate(ENTRIES, full)]


def test_minimal_without_version_is_never_a_guessed_failure():
    """Without a version most defaults cannot be told: unknown, with the
    reason; what the file says (and defaults that hold in every version)
    still decides."""
    config = kconfig_parser.read(fixture("minimal/alpine-virt_6.6_x86_64.config"))
    assert config.version is None
    results = kconfig_eval.evaluate(ENTRIES, config)
    got, want = judged(results, "U:* U:* P:VIRTIO_PCI U:SCSI_VIRTIO U:VIRTIO_NET P:PCI_MSI U:* U:* "
                                "P:DEFAULT_MMAP_MIN_ADDR U:* U:* U:* U:* P:COMPAT_BRK N U:* U:* U:*")
    assert got == want
    by_id = dict((r["id"], r) for r in results)
    assert "the version is unknown" in by_id["KCONF-KVM_GUEST"]["message"]
    assert by_id["KCONF-SECURITY_YAMA"]["message"].startswith("cannot tell: ")
    assert "give the kernel version" in config.notes()[0]


def test_sources_record_every_fixture_and_its_checksum():
    """SOURCES.md names where each distros/ and minimal/ file comes from, and
    the SHA256 of its content (uncompressed): the fixtures are what was fetched."""
    with open(fixture("SOURCES.md")) as handle:
        rows = dict(re.findall(r"^\| `([^`]+)` \| .* \| `([0-9a-f]{64})` \|$", handle.read(), re.M))
    names = [name for name in list(FULL) + list(MINIMAL) if name.startswith(("distros/", "minimal/"))]
    assert sorted(rows) == sorted(names)
    for name in names:
        opener = gzip.open if name.endswith(".gz") else open
        with opener(fixture(name), "rb") as handle:
            assert hashlib.sha256(handle.read()).hexdigest() == rows[name], name
