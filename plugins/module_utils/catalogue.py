# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The requirement catalogue: every requirement of Compute Engine's
"Requirements to build custom images", written down once, as data.

Modules, roles, reports, docs and tests read this table; nothing else states a
requirement's value.  IDs are stable: they never change meaning once released.

Vocabulary of the fields:

``compare`` -- how an actual value is held against ``expected``:
  ``exact``     equal (kernel option ``=y``, sysctl switch, device identity);
  ``at_least``  numerically >= expected: a stricter (higher) level passes;
  ``not_set``   kconfig ``=n``: satisfied by ``# CONFIG_X is not set`` or absence;
  ``one_of``    the actual value is one of the listed values.
``arches`` -- architectures where the requirement applies (``None``: all).
  Names: ``x86_64``, ``x86_32``, ``arm64`` (see ``normalize_arch``).
``kernel`` -- ``(since, until)`` kernel versions, ``until`` exclusive.
``symbols`` (kconfig) -- the option's names by kernel version, tried in
  order; each may carry its own ``expected``/``compare`` (an equivalent way to
  satisfy the requirement) and a ``since``/``until`` range.
``combine`` (sysctl ``net.ipv4.conf.all.*``) -- how the kernel combines the
  ``all`` value with each interface's own (include/linux/inetdevice.h):
  ``or``, ``and``, ``max`` or ``forwarding`` (AND when the interface forwards,
  OR when it does not).

More comparisons, for the non-kernel Compute Engine settings (``GCE-*``):
  ``at_most``   numerically <= expected: a lower value is stricter (a boot
                timeout);
  ``between``   a number within ``bounds`` (inclusive); ``expected`` is the
                value written when it is applied;
  ``state``     a described state, judged by the entry's ``check``; it has no
                value an override could change.
``scope`` (GCE-*) -- where a requirement is judged: ``any``; ``live`` (only on
  a running system: the kernel command line it booted with); ``image`` (only
  in an image about to be captured: an image root, or a live build VM when
  ``generalize`` is set -- a running host needs its own host keys and ID).
``source`` (GCE-*) -- where the requirement comes from: Google's documentation
  (page and section) or a repository file (repository, commit, path).
"""

AREAS = ("hardware", "kernel-required", "kernel-security", "sysctl", "gce", "image")
SEVERITIES = ("required", "recommended")
COMPARISONS = ("exact", "at_least", "not_set", "one_of", "at_most", "between", "state")
SCOPES = ("any", "live", "image")
ARCHES = ("x86_64", "x86_32", "arm64")
COMBINE_RULES = ("or", "and", "max", "forwarding")

X86 = ("x86_64", "x86_32")


def _req(rid, area, severity, title, rationale, expected, compare, arches=None,
         kernel=None, **extra):
    entry = {
        "id": rid,
        "area": area,
        "severity": severity,
        "title": title,
        "rationale": rationale,
        "expected": expected,
        "compare": compare,
        "arches": arches,
        "kernel": kernel,
    }
    entry.update(extra)
    return entry


# --------------------------------------------------------------------------
# 1. Hardware the kernel must support (required)
# --------------------------------------------------------------------------
# ``expected`` of a hardware entry is a structured description of the device:
#   ``pci``      the identity a live guest must show (sysfs values, lower-case
#                hex) and, with ``class``, what the offline check turns into a
#                modalias to match against modules.alias / modules.builtin.alias;
#   ``driver``   the kernel driver that must bind the PCI function (absent for
#                bridges: platform code serves them, no PCI driver binds);
#   ``bound_as`` every name that driver has registered with the PCI bus (the
#                sysfs ``driver`` link), when it differs from the module's:
#                gve registered ``gvnic`` until 9d0aba98316d ("gve: unify driver
#                name usage", 2023; "Kernel driver in use: gvnic" in
#                GoogleCloudPlatform/compute-virtual-ethernet-linux issue #31);
#   ``virtio``   the virtio device id, its driver and the feature bits that
#                must be on; ``offloads`` the NIC offloads (ethtool names);
#   ``disks``    what every SCSI device behind the controller must report
#                (sysfs scsi_level is the SCSI version + 1: SPC-4 reads 7);
#                ``request_queues`` counts the queues the controller offers
#                (its MSI-X table), not blk-mq's, which are capped at the CPUs;
#   ``serial``   the ports, their UART type, IRQ and I/O port, and the driver
#                that must be built in or loadable (no modalias exists) and
#                register at least as many ports as are listed (8250's
#                nr_uarts: CONFIG_SERIAL_8250_RUNTIME_UARTS or 8250.nr_uarts=,
#                capped at CONFIG_SERIAL_8250_NR_UARTS).
# Beside ``expected``, for the live check only (the offline half is unchanged):
#   ``replaced_by``  the Google device that takes this one's place on some
#                machine series: gVNIC is required for per-VM Tier_1 networking,
#                Tau T2A and every third-generation series (C3, C4, N4, ...), and
#                those series attach their disks through NVMe (Google's
#                "Requirements to build custom images").  A machine without the
#                expected device but with ``pci`` is not-applicable live; ``what``
#                says what it has, ``judged_by`` the ID that checks it;
#   ``live_where_present``  outside ``arches``, the live half is judged when
#                the machine presents the device (gVNIC on x86);
#   ``instead_class``  the class whose functions an absent device's message
#                lists as found instead, when ``pci`` names no class.
# The spec names no class: ``pci`` has one only where every machine shows
# it.  Compute Engine's virtio-scsi function is "Non-VGA unclassified"
# (class 0x000000; lspci on N1/N2/E2 VMs: "00:03.0 Non-VGA unclassified
# device: Red Hat, Inc. Virtio SCSI"), QEMU's is SCSI storage (0x010000).

def _hw(rid, title, rationale, expected, arches, **live):
    return _req(rid, "hardware", "required", title, rationale, expected, "exact", arches=arches, **live)


HARDWARE = [
    _hw("HW-PCI-PIIX4-ACPI",
        "PCI bridge: Intel 82371AB/EB/MB PIIX4 ACPI (rev 03)",
        "Compute Engine's x86 machines present this PIIX4 power-management function.",
        {"pci": {"vendor": "0x8086", "device": "0x7113", "revision": "0x03", "class": "0x068000"}},
        X86),
    _hw("HW-ISA-PIIX4",
        "ISA bridge: Intel 82371AB/EB/MB PIIX4 ISA (rev 03)",
        "The legacy ISA bridge behind which the serial ports live.",
        {"pci": {"vendor": "0x8086", "device": "0x7110", "revision": "0x03", "class": "0x060100"}},
        X86),
    _hw("HW-NET-VIRTIO",
        "Virtio-Net Ethernet adapter (1af4:1000, subsystem 0x1) with checksum offload, TSO v4 and GRO",
        "The network card of Compute Engine's x86 machines; live, a machine with gVNIC in its place "
        "(HW-NET-GVNIC) is not-applicable.",
        {"pci": {"vendor": "0x1af4", "device": "0x1000", "subsystem_device": "0x0001",
                 "class": "0x020000"},
         "driver": "virtio-pci",
         "virtio": {"device_id": 1, "driver": "virtio_net",
                    "features": ["CSUM", "GUEST_CSUM", "HOST_TSO4", "GUEST_TSO4"]},
         "offloads": ["tx-checksumming", "tcp-segmentation-offload", "generic-receive-offload"]},
        X86,
        replaced_by={"pci": {"vendor": "0x1ae0", "device": "0x0042"}, "what": "NIC is gVNIC",
                     "judged_by": "HW-NET-GVNIC"}),
    _hw("HW-NET-GVNIC",
        "gVNIC, Google Virtual NIC (1ae0:0042), driver gve",
        "Required instead of virtio-net on Tau T2A (Arm) machines; on x86, for per-VM Tier_1 "
        "networking and the third-generation series (C3, C4, N4, ...), judged live on a machine "
        "that presents one.",
        {"pci": {"vendor": "0x1ae0", "device": "0x0042", "class": "0x020000"},
         "driver": "gve", "bound_as": ["gve", "gvnic"]},
        ("arm64",), live_where_present=True),
    _hw("HW-SCSI-VIRTIO",
        "Virtio-SCSI controller (1af4:1004, subsystem 0x8): one request queue, disks only, "
        "4 KiB physical / 512-byte logical sectors, SPC-4, hotplug/event features",
        "The persistent-disk controller of Compute Engine; live, a machine whose disks are on NVMe "
        "instead (third-generation series) is not-applicable.",
        {"pci": {"vendor": "0x1af4", "device": "0x1004", "subsystem_device": "0x0008"},
         "driver": "virtio-pci",
         "virtio": {"device_id": 8, "driver": "virtio_scsi", "features": ["HOTPLUG", "CHANGE"]},
         "disks": {"request_queues": 1, "physical_block_size": 4096, "logical_block_size": 512,
                   "min_scsi_level": 7, "device_types": ["disk"]}},
        None,
        replaced_by={"pci": {"vendor": "0x1ae0", "device": "0x001f"}, "what": "disks are on Google NVMe",
                     "judged_by": None},
        instead_class="0x010000"),
    _hw("HW-SERIAL",
        "Four 16550A serial ports: ttyS0 IRQ 4, ttyS1 IRQ 3, ttyS2 IRQ 6, ttyS3 IRQ 7",
        "The serial console and the ports Compute Engine's tooling reads.",
        {"serial": {"uart": "16550A", "driver": "8250",
                    "ports": {"ttyS0": {"irq": 4, "port": "0x3f8"},
                              "ttyS1": {"irq": 3, "port": "0x2f8"},
                              "ttyS2": {"irq": 6, "port": "0x3e8"},
                              "ttyS3": {"irq": 7, "port": "0x2e8"}}}},
        X86),
]


# --------------------------------------------------------------------------
# 2. and 3. Kernel build options
# --------------------------------------------------------------------------
# Version boundaries, checked against the kernel's history (commit ids are
# torvalds/linux; "seen" cites real configurations read while checking):
#   v3.4   SECURITY_YAMA added (2d514487faf1 "security: Yama LSM").
#   v4.0   DEVMEM added ("config DEVMEM ... default y" in drivers/char/Kconfig,
#          73f0718e74e2 "Make /dev/mem an optional device", listed under
#          Memory management in kernelnewbies.org/Linux_4.0).  Before it
#          /dev/mem was always built, so DEVMEM's absence means "no /dev/mem"
#          only from 4.0 on: the symbol's ``since`` (and, with the version
#          unknown, absence of a ``since``-bounded symbol proves nothing).
#          Seen: CentOS 7's 3.10.0-1160 configuration has no DEVMEM line.
#   v3.14  CC_STACKPROTECTOR becomes a hidden bool selected by the new choice
#          CC_STACKPROTECTOR_{NONE,REGULAR,STRONG} (8779657d29c0).  Seen: a
#          3.16-rc1 .config has CC_STACKPROTECTOR=y next to the choice's
#          CC_STACKPROTECTOR_REGULAR=y; Oracle UEK4 (4.1.12) likewise with
#          _STRONG.  Setting the hidden symbol in a fragment does nothing, so
#          the remedy there is a choice member (``remedy``).
#   v4.3   SECURITY_YAMA_STACKED removed: Yama always stacks with the major LSM
#          (730daa164e7c "Yama: remove needless CONFIG_SECURITY_YAMA_STACKED").
#   v4.6   x86 (9ccaf77cf059) and v4.9 arm64 (40982fd6b975 "arm64: always
#          enable DEBUG_RODATA and remove the Kconfig option") keep
#          DEBUG_RODATA as an always-y symbol until the 4.11 rename, so a
#          config of those versions still shows CONFIG_DEBUG_RODATA=y.
#   v4.11  DEBUG_RODATA -> STRICT_KERNEL_RWX and DEBUG_SET_MODULE_RONX ->
#          STRICT_MODULE_RWX (0f5bf6d0afe4 "arch: Rename CONFIG_DEBUG_RODATA
#          and CONFIG_DEBUG_MODULE_RONX").  Seen: UEK4 (4.1.12) has
#          DEBUG_RODATA / DEBUG_SET_MODULE_RONX; Debian 5.10+ STRICT_*_RWX.
#   v4.16  CC_STACKPROTECTOR_AUTO added to the choice (44c6dc940b19); AUTO
#          does not select the hidden CC_STACKPROTECTOR (the Makefile picks
#          the flag), so AUTO itself must count.
#   v4.18  CC_STACKPROTECTOR[_STRONG] -> STACKPROTECTOR[_STRONG] (050e9baa9dc9)
#          and AUTO dropped (2a61f4747eea).
#   v5.13  DEVKMEM removed with /dev/kmem (bbcd53c96071 "drivers/char: remove
#          /dev/kmem for good"): absence satisfies =n.  Seen: Debian 5.10 has
#          "# CONFIG_DEVKMEM is not set", Debian 6.1 has no DEVKMEM line.
#   KVM_CLOCK was merged into KVM_GUEST ("KVM Guest support (including
#          kvmclock)") in the 3.x series.  Seen: a 3.5-rc5 and a 3.6-rc1
#          .config have both KVM_CLOCK and KVM_GUEST; 3.16-rc1, UEK4 4.1 and
#          CentOS 7's 3.10 (a backport) have KVM_GUEST only.  The exact release
#          is not pinned here: when a config has no KVM_CLOCK symbol, kvmclock
#          is judged by KVM_GUEST, whatever the version.
#   DEFAULT_MMAP_MIN_ADDR: 65536 on every architecture, arm64 included (the
#          seed's value; the Kconfig help's "not higher than 32768" is about
#          32-bit arm, and kernel-hardening-checker expects 65536 on arm64 too).
#   X86_PAE: "depends on X86_32 && !HIGHMEM4G" (X86_32 && X86_HAVE_PAE, a
#          processor type with PAE, after Arnd Bergmann's "x86: rework
#          CONFIG_X86_PAE dependency", 2023), and selected by HIGHMEM64G, the
#          64GB member of the "High Memory Support" choice (itself only for a
#          processor type with PAE), until HIGHMEM64G's removal in 6.15 ("x86:
#          remove HIGHMEM64G support").  Seen: Debian 686 (6.1) has HIGHMEM4G=y
#          and no X86_PAE line; 686-pae has HIGHMEM64G=y and X86_PAE=y.  When a
#          full configuration lacks X86_PAE, the fragment sets HIGHMEM64G too
#          (``selected_by``): X86_PAE=y alone does not leave HIGHMEM4G.
# ``selected_by`` (per entry): options whose =y selects the option a fragment
# sets, each with its versions and why (``note``): added to a failure's fix
# when a full configuration lacks the option (a dependency keeps it out).
# ``listed_in`` (per entry): ``option``, a comma-separated list option that
# must name (``name``) the built feature for it to be active by default,
# ``why`` and the other way to enable it (``or``); a
# configuration that has the option (a full one, or a minimal one setting it)
# and does not list ``name`` passes with that said (hint and warning), or,
# failing, gets the option with ``name`` added in its fix.
#   v5.1   CONFIG_LSM, the default order of the LSMs started (13e735c0e953
#          "LSM: Introduce CONFIG_LSM"; backported to RHEL 8's 4.18): since,
#          security/security.c starts only the LSMs it lists (or the kernel
#          command line's lsm= lists) and skips every other one "not in
#          requested order"; Yama (DEFINE_LSM(yama), no flags) is one of
#          them.  Seen: SLE 15's 5.3 has CONFIG_LSM="integrity,apparmor".
# ``module``: the loadable module a tristate driver builds, looked up in the
# initramfs when the option is =m.  ``remedy`` (per symbol): False for names
# that satisfy the requirement but are not what a fragment should set (the
# 3.14-4.17 hidden CC_STACKPROTECTOR, REGULAR, AUTO); by default every symbol
# compared with the entry's own expectation may be set by a fragment.

def _sym(name, since=None, until=None, expected=None, compare=None, note=None, remedy=None):
    return {"name": name, "since": since, "until": until, "expected": expected,
            "compare": compare, "note": note, "remedy": remedy}


def _kconf(rid, severity, title, rationale, expected, compare, symbols, arches=None,
           kernel=None, tristate=False, folded_into=None, expected_by_arch=None, module=None,
           selected_by=(), listed_in=None):
    area = "kernel-required" if severity == "required" else "kernel-security"
    return _req(rid, area, severity, title, rationale, expected, compare, arches=arches,
                kernel=kernel, symbols=symbols, tristate=tristate, folded_into=folded_into,
                expected_by_arch=expected_by_arch or {}, module=module, selected_by=list(selected_by),
                listed_in=listed_in)


KERNEL_OPTIONS = [
    _kconf("KCONF-KVM_GUEST", "required", "CONFIG_KVM_GUEST=y",
           "Paravirtualisation features when running on KVM (x86 only: arm64 has no such option).",
           "y", "exact", [_sym("KVM_GUEST")], arches=X86),
    _kconf("KCONF-KVM_CLOCK", "required", "CONFIG_KVM_CLOCK=y (where the kernel version has it)",
           "Paravirtualised clock; modern kernels build it into KVM_GUEST.",
           "y", "exact", [_sym("KVM_CLOCK")], arches=X86, folded_into="KVM_GUEST"),
    _kconf("KCONF-VIRTIO_PCI", "required", "CONFIG_VIRTIO_PCI=y",
           "Paravirtualised PCI devices (virtio-net, virtio-scsi).",
           "y", "exact", [_sym("VIRTIO_PCI")], tristate=True, module="virtio_pci"),
    _kconf("KCONF-SCSI_VIRTIO", "required", "CONFIG_SCSI_VIRTIO=y",
           "Access to the paravirtualised persistent disks.",
           "y", "exact", [_sym("SCSI_VIRTIO")], tristate=True, module="virtio_scsi"),
    _kconf("KCONF-VIRTIO_NET", "required", "CONFIG_VIRTIO_NET=y",
           "Networking through virtio-net.",
           "y", "exact", [_sym("VIRTIO_NET")], tristate=True, module="virtio_net"),
    _kconf("KCONF-PCI_MSI", "required", "CONFIG_PCI_MSI=y",
           "High-performance interrupt delivery, needed by local SSDs.",
           "y", "exact", [_sym("PCI_MSI")]),

    _kconf("KCONF-STRICT_DEVMEM", "recommended", "CONFIG_STRICT_DEVMEM=y",
           "Restrict /dev/mem to PCI space, BIOS code and data regions.",
           "y", "exact",
           [_sym("STRICT_DEVMEM"),
            _sym("DEVMEM", since=(4, 0), expected="not set", compare="not_set",
                 note="no /dev/mem at all is stricter still")]),
    _kconf("KCONF-DEVKMEM", "recommended", "CONFIG_DEVKMEM=n",
           "No /dev/kmem: blocks access to kernel memory (removed from Linux in 5.13).",
           "not set", "not_set", [_sym("DEVKMEM", until=(5, 13))]),
    _kconf("KCONF-DEFAULT_MMAP_MIN_ADDR", "recommended", "CONFIG_DEFAULT_MMAP_MIN_ADDR=65536",
           "Low virtual memory protected from user-space allocation.",
           "65536", "at_least", [_sym("DEFAULT_MMAP_MIN_ADDR")]),
    _kconf("KCONF-DEBUG_RODATA", "recommended", "CONFIG_DEBUG_RODATA=y (STRICT_KERNEL_RWX since 4.11)",
           "Kernel read-only data write-protected in the page tables.",
           "y", "exact",
           [_sym("DEBUG_RODATA", until=(4, 11)), _sym("STRICT_KERNEL_RWX", since=(4, 11))]),
    _kconf("KCONF-DEBUG_SET_MODULE_RONX", "recommended",
           "CONFIG_DEBUG_SET_MODULE_RONX=y (STRICT_MODULE_RWX since 4.11)",
           "Module text and read-only data protected; module data not executable.",
           "y", "exact",
           [_sym("DEBUG_SET_MODULE_RONX", until=(4, 11)), _sym("STRICT_MODULE_RWX", since=(4, 11)),
            _sym("MODULES", expected="not set", compare="not_set",
                 note="a kernel without loadable modules has no module memory to protect")]),
    _kconf("KCONF-CC_STACKPROTECTOR", "recommended",
           "CONFIG_CC_STACKPROTECTOR=y (STACKPROTECTOR since 4.18)",
           "Stack canaries (-fstack-protector) detect stack buffer overflows.",
           "y", "exact",
           [_sym("CC_STACKPROTECTOR", until=(3, 14)),
            _sym("CC_STACKPROTECTOR", since=(3, 14), until=(4, 18), remedy=False,
                 note="hidden, selected by the REGULAR/STRONG choice"),
            _sym("CC_STACKPROTECTOR_REGULAR", since=(3, 14), until=(4, 18), remedy=False,
                 note="the regular (-fstack-protector) mode of the choice"),
            _sym("CC_STACKPROTECTOR_STRONG", since=(3, 14), until=(4, 18)),
            _sym("CC_STACKPROTECTOR_AUTO", since=(4, 16), until=(4, 18), remedy=False,
                 note="AUTO picks the strongest mode the compiler supports at build time"),
            _sym("STACKPROTECTOR", since=(4, 18))]),
    _kconf("KCONF-COMPAT_VDSO", "recommended", "CONFIG_COMPAT_VDSO=n",
           "The vDSO is not mapped at a predictable address (x86; on arm64 the option "
           "means a 32-bit vDSO and is not a risk).",
           "not set", "not_set", [_sym("COMPAT_VDSO")], arches=X86),
    _kconf("KCONF-COMPAT_BRK", "recommended", "CONFIG_COMPAT_BRK=n",
           "Heap randomisation is not disabled.",
           "not set", "not_set", [_sym("COMPAT_BRK")]),
    _kconf("KCONF-X86_PAE", "recommended", "CONFIG_X86_PAE=y (32-bit x86 kernels only)",
           "PAE is needed for NX on 32-bit kernels; 64-bit kernels always have it.",
           "y", "exact", [_sym("X86_PAE")], arches=("x86_32",),
           selected_by=[_sym("HIGHMEM64G", until=(6, 15),
                             note="the 64GB member of the \"High Memory Support\" choice, selects X86_PAE, "
                                  "which cannot be set while that choice is HIGHMEM4G; both need a "
                                  "processor type (\"Processor family\") with PAE")]),
    _kconf("KCONF-SYN_COOKIES", "recommended", "CONFIG_SYN_COOKIES=y",
           "SYN-flood protection.",
           "y", "exact", [_sym("SYN_COOKIES")]),
    _kconf("KCONF-SECURITY_YAMA", "recommended", "CONFIG_SECURITY_YAMA=y",
           "Yama LSM: ptrace scope restriction.",
           "y", "exact", [_sym("SECURITY_YAMA", since=(3, 4))],
           listed_in={"option": "LSM", "name": "yama",
                      "why": "the kernel starts only the LSMs CONFIG_LSM lists (unless the kernel command "
                             "line's lsm= lists others): a built Yama not listed there is not enabled by "
                             "default and ptrace is not restricted",
                      "or": "to the kernel command line's lsm= (with the LSMs it must keep)"}),
    _kconf("KCONF-SECURITY_YAMA_STACKED", "recommended",
           "CONFIG_SECURITY_YAMA_STACKED=y (always stacked since 4.3)",
           "Yama stacks with the primary LSM; since 4.3 it always does when built.",
           "y", "exact", [_sym("SECURITY_YAMA_STACKED", until=(4, 3))],
           folded_into="SECURITY_YAMA"),
]


# Kconfig defaults, for minimal configurations.  A savedefconfig/defconfig
# file (no kconfig header, only the options that differ from their default:
# Alpine's virt.*.config, Flatcar's commonconfig + <arch>_defconfig, the
# kernel's own arch/*/configs/*defconfig) does not list an option that keeps
# its default; ``make olddefconfig`` fills it in.  These rules say what such
# an absent option is, per kernel version and architecture; an option (or a
# version, or an architecture) without a rule is judged ``unknown``, never
# failed.  Fields:
#   ``value``        the default: "y", "n", a number, or None when the option
#                    does not exist in those versions;
#   ``requires``     options that must be y for ``value`` to hold (Kconfig
#                    ``depends on``, resolved the same way); otherwise n;
#   ``selected_by``  options that switch it on when the file sets them (=y or
#                    =m: Kconfig ``select``), whatever ``value`` says;
#   ``implied_by``   options that exist only when it is on (they depend on
#                    it): one of them set in the file shows it is y;
#   ``source``       where the rule is written in the kernel.
# Checked in the Kconfig files of Debian's linux-source-5.10 (5.10.223),
# -6.1 (6.1.176) and -6.12 (6.12.107); where a rule starts earlier, the
# commit that introduced the default is cited.  Rules without ``until`` are
# assumed to hold in later kernels.  ``select`` sources were listed with
# grep over arch/x86, arch/arm64, drivers, net, security, mm, lib, kernel
# and init of those three trees.

def _default(name, value, since=None, until=None, arches=None, requires=(), selected_by=(),
             implied_by=(), source=""):
    return {"name": name, "value": value, "since": since, "until": until, "arches": arches,
            "requires": tuple(requires), "selected_by": tuple(selected_by),
            "implied_by": tuple(implied_by), "source": source}


X86_ARM64 = X86 + ("arm64",)
CHECKED = (5, 10)  # the oldest tree the rules below were read in

KCONFIG_DEFAULTS = [
    _default("KVM_GUEST", "y", since=CHECKED, arches=X86, requires=("PARAVIRT",),
             source="arch/x86/Kconfig: depends on PARAVIRT, default y"),
    _default("PARAVIRT", "n", since=CHECKED, arches=X86,
             selected_by=("X86_VSMP", "HYPERV"),
             implied_by=("KVM_GUEST", "XEN", "PARAVIRT_SPINLOCKS", "PARAVIRT_TIME_ACCOUNTING",
                         "PARAVIRT_DEBUG"),
             source="arch/x86/Kconfig: no default; selected by X86_VSMP and HYPERV "
                    "(drivers/hv/Kconfig)"),
    _default("KVM_CLOCK", None, since=(3, 16), arches=X86,
             source="no such option from 3.16 on (not in the 3.16-rc1 configuration seen, nor "
                    "in the 5.10, 6.1 and 6.12 trees): kvmclock is part of KVM_GUEST"),
    _default("VIRTIO_PCI", "n", since=CHECKED,
             source="drivers/virtio/Kconfig: no default, selected by nothing"),
    _default("SCSI_VIRTIO", "n", since=CHECKED,
             source="drivers/scsi/Kconfig: no default, selected by nothing"),
    _default("VIRTIO_NET", "n", since=CHECKED,
             source="drivers/net/Kconfig: no default, selected by nothing"),
    _default("PCI_MSI", "n", since=CHECKED, arches=X86, selected_by=("AMD_IOMMU",),
             source="drivers/pci/Kconfig: no default; selected by AMD_IOMMU"),
    _default("PCI_MSI", "n", since=CHECKED, arches=("arm64",), selected_by=("PCI",),
             source="drivers/pci/Kconfig: no default; arm64 selects ARM_GIC_V2M if PCI, "
                    "which selects PCI_MSI"),
    _default("DEVMEM", "y", since=(4, 0),
             source="drivers/char/Kconfig: default y since it was added (73f0718e74e2, 4.0)"),
    _default("STRICT_DEVMEM", "y", since=CHECKED, arches=X86_ARM64, requires=("DEVMEM",),
             source="lib/Kconfig.debug: depends on DEVMEM, default y if PPC || X86 || ARM64"),
    _default("DEVKMEM", "n", since=CHECKED, until=(5, 13), arches=X86,
             source="drivers/char/Kconfig: no default"),
    _default("DEVKMEM", None, since=CHECKED, until=(5, 13), arches=("arm64",),
             source="drivers/char/Kconfig: depends on !ARM64"),
    _default("DEFAULT_MMAP_MIN_ADDR", "4096", since=CHECKED,
             source="mm/Kconfig: default 4096"),
    _default("DEBUG_RODATA", "y", since=(4, 6), until=(4, 11), arches=X86,
             source="arch/x86/Kconfig: def_bool y (9ccaf77cf059, 4.6)"),
    _default("DEBUG_RODATA", "y", since=(4, 9), until=(4, 11), arches=("arm64",),
             source="arch/arm64/Kconfig: def_bool y (40982fd6b975, 4.9)"),
    _default("STRICT_KERNEL_RWX", "y", since=(4, 11), arches=X86_ARM64,
             source="arch/Kconfig: default y and no prompt where the architecture does not "
                    "select ARCH_OPTIONAL_KERNEL_RWX (0f5bf6d0afe4, 4.11)"),
    _default("STRICT_MODULE_RWX", "y", since=(4, 11), arches=X86_ARM64, requires=("MODULES",),
             source="arch/Kconfig: depends on MODULES, default y and no prompt where the "
                    "architecture does not select ARCH_OPTIONAL_KERNEL_RWX (0f5bf6d0afe4, 4.11)"),
    _default("MODULES", "n", since=CHECKED,
             source="kernel/module/Kconfig (init/Kconfig before 5.19): no default"),
    _default("STACKPROTECTOR", "y", since=(4, 18), arches=X86_ARM64,
             source="arch/Kconfig: default y when the compiler supports -fstack-protector "
                    "(2a61f4747eea, 4.18)"),
    _default("STACKPROTECTOR_STRONG", "y", since=(4, 18), arches=X86_ARM64,
             requires=("STACKPROTECTOR",),
             source="arch/Kconfig: depends on STACKPROTECTOR, default y when the compiler "
                    "supports -fstack-protector-strong (2a61f4747eea, 4.18)"),
    _default("COMPAT_VDSO", "n", since=CHECKED, arches=X86,
             source="arch/x86/Kconfig: def_bool n"),
    _default("COMPAT_BRK", "y",
             source="init/Kconfig (mm/Kconfig since 6.0): default y since it was added in "
                    "2.6.25"),
    _default("SYN_COOKIES", "n", since=CHECKED,
             selected_by=("IP_NF_TARGET_SYNPROXY", "IP6_NF_TARGET_SYNPROXY", "NFT_SYNPROXY"),
             source="net/ipv4/Kconfig: no default; selected by the SYNPROXY targets"),
    _default("SECURITY_YAMA", "n", since=CHECKED,
             source="security/yama/Kconfig: default n"),
]


# --------------------------------------------------------------------------
# 4. Kernel runtime settings (sysctl)
# --------------------------------------------------------------------------
# ``alternatives``: values another hardening baseline prefers that an
# override may choose although they are not "higher" (CIS wants
# secure_redirects=0; with accept_redirects=0 both are safe).
# ``values``: the values the key accepts, weakest first where it is a level.

def _sysctl(rid, key, expected, compare, title, rationale, combine=None, alternatives=(),
            levels=None, bounded=True):
    """``levels``: for a level key (``at_least``), the ``(lowest, highest)``
    integers that are its levels, higher being stricter; ``highest`` is None
    when the kernel sets no upper bound (its handler is plain proc_dointvec).
    ``bounded``: the kernel refuses a value outside the levels (its handler
    is proc_dointvec_minmax), so a file setting one leaves the key as it was;
    when False it takes any integer, and one above ``highest`` acts as a
    level (tcp_syncookies 3 as 1, randomize_va_space 3 as 2)."""
    return _req(rid, "sysctl", "recommended", title, rationale, expected, compare,
                key=key, combine=combine, alternatives=list(alternatives),
                levels=list(levels) if levels else None, bounded=bounded)


def accepts_level(entry, number):
    """Whether the kernel accepts ``number`` for a level key (True for a key
    without ``levels``)."""
    if not entry.get("levels"):
        return True
    lowest, highest = entry["levels"]
    return number >= lowest and (highest is None or number <= highest)


def describe_levels(levels):
    lowest, highest = levels
    if highest is None:
        return "any integer from %s up" % lowest
    return ", ".join(str(v) for v in range(lowest, highest + 1))


def _conf_pair(name, key, expected, compare, title, rationale, combine, alternatives=()):
    """An ``all`` and a ``default`` requirement for one net.ipv4.conf key."""
    return [
        _sysctl("SYSCTL-%s-ALL" % name, "net.ipv4.conf.all.%s" % key, expected, compare,
                title + " (all interfaces)", rationale, combine=combine, alternatives=alternatives),
        _sysctl("SYSCTL-%s-DEFAULT" % name, "net.ipv4.conf.default.%s" % key, expected, compare,
                title + " (interfaces created later)", rationale, alternatives=alternatives),
    ]


SYSCTL = (
    [_sysctl("SYSCTL-TCP_SYNCOOKIES", "net.ipv4.tcp_syncookies", 1, "at_least",
             "SYN cookies on", "SYN-flood protection (2 sends cookies unconditionally).",
             levels=(0, 2), bounded=False)]
    + _conf_pair("ACCEPT_SOURCE_ROUTE", "accept_source_route", 0, "exact",
                 "Ignore source-routed packets", "Source routing lets a sender pick the path.",
                 "and")
    + _conf_pair("ACCEPT_REDIRECTS", "accept_redirects", 0, "exact",
                 "Ignore ICMP redirects", "Redirects can reroute traffic through an attacker.",
                 "forwarding")
    + _conf_pair("SECURE_REDIRECTS", "secure_redirects", 1, "exact",
                 "Accept redirects only from gateways", "Limits redirects to known gateways.",
                 "or", alternatives=(0,))
    + [_sysctl("SYSCTL-IP_FORWARD", "net.ipv4.ip_forward", 0, "exact",
               "Not a router", "A guest does not forward traffic between networks.")]
    + _conf_pair("SEND_REDIRECTS", "send_redirects", 0, "exact",
                 "Send no ICMP redirects", "Only routers send redirects.", "or")
    + _conf_pair("RP_FILTER", "rp_filter", 1, "exact",
                 "Strict reverse-path filtering", "Drops spoofed source addresses (2 is loose mode).",
                 "max")
    + [_sysctl("SYSCTL-ICMP_ECHO_IGNORE_BROADCASTS", "net.ipv4.icmp_echo_ignore_broadcasts", 1,
               "exact", "Ignore broadcast pings", "No part in Smurf attacks."),
       _sysctl("SYSCTL-ICMP_IGNORE_BOGUS_ERROR_RESPONSES",
               "net.ipv4.icmp_ignore_bogus_error_responses", 1, "exact",
               "Ignore bogus ICMP errors", "Keeps bogus error responses out of the log.")]
    + _conf_pair("LOG_MARTIANS", "log_martians", 1, "exact",
                 "Log martian packets", "Logs spoofed, source-routed and redirect packets.", "or")
    + [_sysctl("SYSCTL-RANDOMIZE_VA_SPACE", "kernel.randomize_va_space", 2, "at_least",
               "Full address-space randomisation", "Randomises mmap base, heap, stack and vDSO.",
               levels=(0, 2), bounded=False),
       _sysctl("SYSCTL-PROTECTED_HARDLINKS", "fs.protected_hardlinks", 1, "at_least",
               "Protected hardlinks", "Blocks hardlink-based TOCTOU attacks.", levels=(0, 1)),
       _sysctl("SYSCTL-PROTECTED_SYMLINKS", "fs.protected_symlinks", 1, "at_least",
               "Protected symlinks", "Blocks symlink-based TOCTOU attacks.", levels=(0, 1)),
       _sysctl("SYSCTL-KPTR_RESTRICT", "kernel.kptr_restrict", 1, "at_least",
               "Hide kernel addresses", "Makes kernel addresses harder to find (2 is stricter).",
               levels=(0, 2)),
       _sysctl("SYSCTL-YAMA_PTRACE_SCOPE", "kernel.yama.ptrace_scope", 1, "at_least",
               "Restrict ptrace", "Only descendants can be traced (2 and 3 are stricter).",
               levels=(0, 3)),
       _sysctl("SYSCTL-PERF_EVENT_PARANOID", "kernel.perf_event_paranoid", 2, "at_least",
               "perf for root only", "Unprivileged users cannot profile the kernel (3 and up are stricter).",
               # mainline's handler has no bounds; Debian's and Ubuntu's kernels
               # read 3 (Debian's default) and 4 (Ubuntu's) as stricter than 2
               levels=(-1, None), bounded=False)]
)


# --------------------------------------------------------------------------
# 5. Non-kernel Compute Engine settings (GCE-*): the document's next step
# --------------------------------------------------------------------------
# The document ends by pointing to configuring the image's settings outside
# the kernel.  This list is decided from Google's own public sources:
#   DOC_IMPORT     cloud.google.com/compute/docs/import/configuring-imported-images,
#                  "Configure imported images for Compute Engine" (NTP from
#                  metadata.google.internal, DHCP MTU, remove persistent network
#                  rules, SSH: no root login, no password authentication,
#                  keep-alive, no SSH keys in the image);
#   DOC_OS_DETAILS cloud.google.com/compute/docs/images/os-details, "Image
#                  configuration" (boot timeout 0, no local users with passwords);
#   DOC_GUEST_ENV  cloud.google.com/compute/docs/images/guest-environment,
#                  "Guest environment components" (google-guest-agent,
#                  google-compute-engine-oslogin);
#   DOC_NTP        cloud.google.com/compute/docs/instances/configure-ntp,
#                  "Configure NTP for your instances";
#   DOC_SERIAL     cloud.google.com/compute/docs/troubleshooting/troubleshooting-using-serial-console,
#                  "Enabling interactive access" (a login on ttyS0);
#   DOC_MTU        cloud.google.com/vpc/docs/mtu, "MTU and DHCP" (interface-mtu, option 26);
#   DOC_DISKS      cloud.google.com/compute/docs/disks/format-mount-disk-linux,
#                  "Configure automatic mounting on VM restart" (UUID, nofail);
#   DOC_IDLE       cloud.google.com/compute/docs/troubleshooting/general-tips,
#                  "Idle connections are dropped" (VPC connection tracking: 10 minutes);
#   TRANSLATE      GoogleCloudPlatform/compute-image-tools@19adc438 (the last commit
#                  with the import workflows), daisy_workflows/image_import/
#                  {debian,ubuntu,enterprise_linux}/translate.py and
#                  linux_common/utils/common.py CommonRoutines: what Google changed
#                  on import (console=ttyS0,38400n8 in GRUB_CMDLINE_LINUX,
#                  GRUB_TIMEOUT=0, DHCP on the NIC, 70-persistent-net.rules and
#                  SSH host keys removed, guest packages installed);
#   EL_KICKSTART   GoogleCloudPlatform/compute-image-tools@433e600c,
#                  daisy_workflows/image_build/enterprise_linux/kickstart/rhel_9_consolidated.cfg
#                  (PasswordAuthentication no, ClientAliveInterval 420, bootloader
#                  --timeout=0, ntpservers metadata.google.internal);
#   GCE_EL_ARM     the same commit, the Arm builds of rhel_9_consolidated.cfg (IS_ARM:
#                  exec &> /dev/ttyAMA0, else /dev/ttyS0) and centos_stream_9_arm64.cfg
#                  (--log=/dev/ttyAMA0): serial port 1 of an Arm VM is ttyAMA0;
#   DEBIAN_FAI     the same commit, daisy_workflows/image_build/debian/fai_config:
#                  files/etc/systemd/timesyncd.conf.d/01_debian_cloud.conf,
#                  scripts/GCE_CLEAN/10-gce-clean (empty /etc/machine-id, host keys
#                  shredded);
#   GRUB_INSTALL_PLUGIN  the grub2 package's kernel-install plugin 20-grub.install (Fedora/RHEL
#                  dist-git): with GRUB_ENABLE_BLSCFG=true the new kernel's BLS options are
#                  /etc/kernel/cmdline when that file exists (else /usr/lib/kernel/cmdline,
#                  else /proc/cmdline), after grub2-mkconfig refreshed it if /etc/default/grub
#                  is newer; systemd's 90-loaderentry.install reads the same file;
#   GUEST_CONFIGS  GoogleCloudPlatform/guest-configs@0850c65b, src/lib/udev/rules.d/
#                  65-gce-disk-naming.rules and src/etc/sysctl.d/60-gce-network-security.conf;
#   DEBIAN_AGENT   Debian bookworm google-guest-agent 20211116.00-6: units
#                  google-guest-agent.service, google-startup-scripts.service,
#                  google-shutdown-scripts.service (preset enabled);
#                  /etc/default/instance_configs.cfg "set_host_keys = true" (the
#                  agent writes host keys before ssh.service starts).
# ``packages``/``units``: what the guest environment consists of per package
# format; ``ntp_servers``: the names that reach Google's time service;
# ``kernel_arg``: the argument written; ``essential_mounts``: mount points of
# the boot disk itself, which must not get ``nofail``.

DOC_IMPORT = ("Compute Engine docs: Configure imported images "
              "(compute/docs/import/configuring-imported-images), "
              "section \"Configure imported images for Compute Engine\"")
DOC_OS_DETAILS = ("Compute Engine docs: Operating system details (compute/docs/images/os-details), "
                  "\"Image configuration\" of each Google-built image")
DOC_GUEST_ENV = ("Compute Engine docs: Guest environment (compute/docs/images/guest-environment), "
                 "\"Guest environment components\"")
DOC_NTP = ("Compute Engine docs: Configure NTP on a VM (compute/docs/instances/configure-ntp), "
           "\"Configure NTP for your instances\"")
DOC_SERIAL = ("Compute Engine docs: Troubleshooting using the serial console "
              "(compute/docs/troubleshooting/troubleshooting-using-serial-console), "
              "\"Enabling interactive access\"")
DOC_MTU = "VPC docs: Maximum transmission unit (vpc/docs/mtu), \"MTU and DHCP\" (option 26, interface-mtu)"
DOC_DISKS = ("Compute Engine docs: Format and mount a non-boot disk on a Linux VM "
             "(compute/docs/disks/format-mount-disk-linux), "
             "\"Configure automatic mounting on VM restart\"")
DOC_IDLE = ("Compute Engine docs: Troubleshooting, general tips "
            "(compute/docs/troubleshooting/general-tips), \"Idle connections are dropped\" "
            "(VPC tracks a TCP connection for 10 minutes)")
TRANSLATE = ("GoogleCloudPlatform/compute-image-tools@19adc438564565a715be223183ccecadc4257532: "
             "daisy_workflows/image_import/{debian,ubuntu,enterprise_linux}/translate.py")
SUSE_TRANSLATE = ("GoogleCloudPlatform/compute-image-tools@19adc438564565a715be223183ccecadc4257532: "
                  "daisy_workflows/image_import/suse/suse_import/translate.py")
COMMON_ROUTINES = ("GoogleCloudPlatform/compute-image-tools@19adc438564565a715be223183ccecadc4257532: "
                   "daisy_workflows/linux_common/utils/common.py (CommonRoutines)")
EL_KICKSTART = ("GoogleCloudPlatform/compute-image-tools@433e600ca8f2085007d5e9c43888102ec9424c1b: "
                "daisy_workflows/image_build/enterprise_linux/kickstart/rhel_9_consolidated.cfg")
DEBIAN_FAI = ("GoogleCloudPlatform/compute-image-tools@433e600ca8f2085007d5e9c43888102ec9424c1b: "
              "daisy_workflows/image_build/debian/fai_config")
GCE_EL_ARM = ("GoogleCloudPlatform/compute-image-tools@433e600ca8f2085007d5e9c43888102ec9424c1b: "
              "daisy_workflows/image_build/enterprise_linux/kickstart/rhel_9_consolidated.cfg and "
              "centos_stream_9_arm64.cfg")
# Canonical's cloud image build (Launchpad livecd-rootfs; its GitHub mirror at a commit)
UBUNTU_CLOUDIMG = ("lubuntu-team/livecd-rootfs@5fb3d42d36bdbd710f6f7e92ebe6c1b0f650699c: "
                   "live-build/ubuntu-cpc/hooks.d/chroot/999-cpc-fixes.chroot")
GUEST_CONFIGS = "GoogleCloudPlatform/guest-configs@0850c65b6d3340798bc7669a3397efe04fc7498f"
# Fedora/RHEL grub2 package's kernel-install plugin (dist-git mirror at a commit)
GRUB_INSTALL_PLUGIN = "jmontleon/grub2-dist-git@d483971ab1be34cc7e5a4d60a817f6d50fe0edde: 20-grub.install"
DEBIAN_AGENT = "Debian bookworm package google-guest-agent 20211116.00-6"

SERIAL_CONSOLE_ARG = "console=ttyS0,38400n8"
# The first serial port (the one Compute Engine shows and logs) per architecture
# (``normalize_arch`` names): x86 VMs have a 16550A (8250 driver, ttyS0); Arm VMs
# (Tau T2A, C4A, Axion) a PL011 UART (amba-pl011 driver, ttyAMA0).  GCE_EL_ARM
# (Google's Arm image builds log to /dev/ttyAMA0, x86 ones to /dev/ttyS0);
# UBUNTU_CLOUDIMG (arm64: GRUB_CMDLINE_LINUX_DEFAULT="console=tty1 console=ttyAMA0").
SERIAL_CONSOLES = {"x86_64": "ttyS0", "x86_32": "ttyS0", "arm64": "ttyAMA0"}
SERIAL_CONSOLE_ARGS = {"x86_64": SERIAL_CONSOLE_ARG, "x86_32": SERIAL_CONSOLE_ARG, "arm64": "console=ttyAMA0"}


def serial_console(entry, arch):
    """``(device, kernel argument, getty unit)`` of the first serial port on
    ``arch`` for a GCE-BOOT-* entry (its ``consoles``/``kernel_args``); x86's
    when the architecture is unknown or has none of its own."""
    consoles = entry.get("consoles") or SERIAL_CONSOLES
    key = arch if arch in consoles else "x86_64"
    device = consoles[key]
    args = entry.get("kernel_args") or SERIAL_CONSOLE_ARGS
    return device, args.get(key, "console=%s" % device), "serial-getty@%s.service" % device


METADATA_NTP = "metadata.google.internal"


def _gce(rid, severity, title, rationale, expected, compare, source, check, apply,
         remediation, scope="any", **extra):
    return _req(rid, "gce", severity, title, rationale, expected, compare, source=list(source),
                check=check, apply=apply, remediation=remediation, scope=scope, **extra)


GCE = [
    _gce("GCE-BOOT-SERIAL-CONSOLE", "required",
         "The boot loader passes console=ttyS0 (ttyAMA0 on Arm) to the kernel",
         "Compute Engine shows and logs the boot on the first serial port; without it the serial "
         "console and its log stay empty. The port is ttyS0 on x86 and ttyAMA0 (a PL011 UART) on Arm "
         "VMs, judged for the architecture of the system (uname -m when live, else its default "
         "kernel's configuration or release name).",
         SERIAL_CONSOLE_ARG, "state",
         [TRANSLATE + " (GRUB_CMDLINE_LINUX gets console=ttyS0,38400n8; update-grub / grub2-mkconfig)",
          DOC_SERIAL, GRUB_INSTALL_PLUGIN + " (with BLS, the new kernel's options are /etc/kernel/cmdline)",
          GCE_EL_ARM + " (Arm builds log to /dev/ttyAMA0)",
          UBUNTU_CLOUDIMG + " (arm64: console=ttyAMA0)"],
         "GRUB 2: the command line GRUB_CMDLINE_LINUX(_DEFAULT) builds from /etc/default/grub and "
         "/etc/default/grub.d/*.cfg for each kind of entry (normal entries get both, recovery entries "
         "GRUB_CMDLINE_LINUX alone), every kernel entry of the generated grub.cfg, and with BLS the "
         "options of /boot/loader/entries/*.conf (and grubenv kernelopts) carry console=ttyS0; so does "
         "/etc/kernel/cmdline where it exists, from which kernel-install writes the boot entry of the "
         "next kernel installed; systemd-boot: the command line of every entry it shows, its default entry "
         "named (a type #1 entry's options lines; a unified kernel image's .cmdline; a type #1 entry's uki "
         "line: its options lines and, as Secure Boot keeps it in their place, the image's .cmdline)",
         "GRUB_CMDLINE_LINUX (which every entry gets); Debian layout: a drop-in "
         "/etc/default/grub.d/zz-guestready-gce.cfg (a drop-in sorting after it that sets the variable "
         "again gets the change in its last assignment instead, or under its last line sourcing a file); "
         "Red Hat layout: the "
         "GRUB_CMDLINE_LINUX line of /etc/default/grub (the original kept behind a marker) and the "
         "BLS entries' options; /etc/kernel/cmdline where it exists; then update-grub or grub2-mkconfig "
         "on a live system",
         "add console=ttyS0,38400n8 (Arm: console=ttyAMA0) to GRUB_CMDLINE_LINUX and regenerate "
         "grub.cfg (in an image: run update-grub or grub2-mkconfig inside it, e.g. in a chroot)",
         kernel_arg=SERIAL_CONSOLE_ARG, kernel_args=SERIAL_CONSOLE_ARGS, consoles=SERIAL_CONSOLES),
    _gce("GCE-BOOT-CMDLINE-LIVE", "required",
         "The running kernel was booted with console=ttyS0 (ttyAMA0 on Arm)",
         "The boot loader configuration takes effect at the next boot; the running kernel shows "
         "whether it did.",
         "console=ttyS0 in /proc/cmdline", "state",
         [DOC_SERIAL, TRANSLATE],
         "/proc/cmdline of the running kernel has console=ttyS0 (ttyAMA0 on Arm)",
         "nothing to write: reboot once GCE-BOOT-SERIAL-CONSOLE passes (reboot_required)",
         "reboot after the boot loader configuration is fixed", scope="live", consoles=SERIAL_CONSOLES),
    _gce("GCE-BOOT-SERIAL-GETTY", "recommended",
         "A login prompt (getty) on ttyS0 (ttyAMA0 on Arm)",
         "Interactive serial console access needs a getty on the first serial port.",
         "serial-getty@ttyS0.service", "state",
         [DOC_SERIAL],
         "serial-getty@ttyS0.service (serial-getty@ttyAMA0.service on Arm) is enabled "
         "(getty.target.wants), or systemd's getty generator starts it because the boot loader passes "
         "that console; live: the unit is active",
         "enable serial-getty@ttyS0.service (Arm: serial-getty@ttyAMA0.service; systemctl enable; a "
         "getty.target.wants link in an image)",
         "systemctl enable serial-getty@ttyS0.service (Arm: serial-getty@ttyAMA0.service)",
         units=sorted(set("serial-getty@%s.service" % d for d in SERIAL_CONSOLES.values())),
         consoles=SERIAL_CONSOLES),
    _gce("GCE-BOOT-TIMEOUT", "recommended",
         "No boot menu delay (GRUB_TIMEOUT=0)",
         "Nobody sees the boot menu of a cloud VM; Google's images boot without waiting.",
         0, "at_most",
         [DOC_OS_DETAILS + " (\"the boot timeout in the grub configuration is set to 0\")",
          TRANSLATE + " (enterprise_linux: GRUB_TIMEOUT=0)", EL_KICKSTART + " (bootloader --timeout=0)",
          UBUNTU_CLOUDIMG + " (50-cloudimg-settings.cfg: GRUB_RECORDFAIL_TIMEOUT=0, GRUB_TIMEOUT=0)"],
         "GRUB_TIMEOUT from /etc/default/grub and its grub.d drop-ins (the last assignment wins; the deprecated "
         "GRUB_HIDDEN_TIMEOUT in its place where set, not 0 and GRUB_TIMEOUT_STYLE unset), "
         "GRUB_RECORDFAIL_TIMEOUT where Ubuntu's grub.cfg sets recordfail (the wait after a boot that did "
         "not finish, 30 s unless set), and the timeouts of the generated grub.cfg; a branch on a variable "
         "nothing sets at boot does not count (Red Hat's grubenv switches menu_show_once, menu_auto_hide, "
         "menu_show_once_timeout; recordfail outside Ubuntu); systemd-boot (BLS entries without GRUB): the "
         "timeout of loader/loader.conf on the ESP (unset: the menu is hidden; menu-force waits for a key); "
         "on a live system that is not generalized, the LoaderConfigTimeout EFI variable overrides it when set",
         "the same drop-in or marked /etc/default/grub line as GCE-BOOT-SERIAL-CONSOLE (GRUB_TIMEOUT, "
         "GRUB_HIDDEN_TIMEOUT where it is the timeout, and GRUB_RECORDFAIL_TIMEOUT where recordfail is set), then the grub.cfg is regenerated; a grubenv "
         "switch whose branch waits longer (Fedora's menu_auto_hide=1) is unset, as grub2-editenv does; "
         "systemd-boot: loader.conf's timeout line replaced behind a marker (a LoaderConfigTimeout EFI "
         "variable is left alone: bootctl set-timeout changes it)",
         "set GRUB_TIMEOUT=0 and regenerate grub.cfg"),
    _gce("GCE-TIME-METADATA-NTP", "recommended",
         "Time comes from the metadata server (metadata.google.internal) and nothing else",
         "Google's time service smears leap seconds; mixing it with external servers makes the "
         "clock jump.",
         METADATA_NTP, "state",
         [DOC_NTP, DOC_IMPORT + " (ntp.conf: only \"server metadata.google.internal iburst\")",
          DEBIAN_FAI + "/files/etc/systemd/timesyncd.conf.d/01_debian_cloud.conf",
          EL_KICKSTART + " (timezone --ntpservers=metadata.google.internal)"],
         "the time daemon the system uses (chrony with its confdir/sourcedir, ntpsec or ntpd, or "
         "systemd-timesyncd with timesyncd.conf.d) is enabled and its only servers are the "
         "metadata server; chrony's configuration is the file its unit starts chronyd with: the -f on "
         "the unit's last ExecStart= (drop-ins included) once Environment= and EnvironmentFile= are put "
         "in (Debian's /etc/default/chrony DAEMON_OPTS, Red Hat's /etc/sysconfig/chronyd OPTIONS), else "
         "chrony.conf; a -f file that does not exist, or a line chronyd exits on (2048 bytes or more, a "
         "confdir of more than 10 directories or none, an include of other than one pattern), fails "
         "(chronyd does not start)",
         "chrony: a sources file in the sourcedir of the file chronyd reads (or a line in that file) and "
         "other pool/server lines commented out behind a marker; ntpsec/ntpd: the same in ntp.conf; timesyncd: a "
         "drop-in /etc/systemd/timesyncd.conf.d/zz-guestready-gce.conf, and the NTP=/FallbackNTP= lines of "
         "drop-ins sorting after it commented out, as is the rest of a file from a line timesyncd fails to "
         "parse (it reads no file after that one, nor after a directory named like a drop-in, which is "
         "reported); the daemon restarted when live",
         "configure the time daemon with \"server metadata.google.internal iburst\" only",
         ntp_servers=[METADATA_NTP, "169.254.169.254", "metadata"]),
    _gce("GCE-NET-DHCP", "required",
         "The primary NIC is configured by DHCP",
         "Compute Engine hands out addresses, routes and the MTU by DHCP; a static or missing "
         "configuration leaves the VM unreachable.",
         "DHCPv4 on the primary NIC", "state",
         [TRANSLATE + " (\"Reset network for DHCP\": iface eth0 inet dhcp, ifcfg-eth0 BOOTPROTO=dhcp, "
          "netplan dhcp4: true)", SUSE_TRANSLATE + " (_reset_network: /etc/sysconfig/network/ifcfg-eth0 "
          "BOOTPROTO=dhcp, STARTMODE=auto)", DOC_IMPORT],
         "the configuration of the network manager in use (netplan, ifupdown, NetworkManager "
         "keyfiles or ifcfg, SUSE's wicked ifcfg files with a STARTMODE that starts them at boot, "
         "systemd-networkd, which drops a .network file it fails to parse: named in the message) matches "
         "the primary NIC (ens4/eth0, or the "
         "default-route interface when live) and enables DHCPv4 without a static address, or else "
         "NetworkManager makes its automatic wired connection for it (NetworkManager.conf and its conf.d "
         "neither list it in no-auto-default nor in unmanaged-devices, and GKeyFile parses each of them: "
         "NetworkManager exits on one it cannot); what "
         "standard cloud images generate at boot counts: cloud-init's "
         "/etc/netplan/50-cloud-init.yaml when cloud-init (cloud-init-local.service enabled, no "
         "/etc/cloud/cloud-init.disabled, its network configuration neither disabled nor given in "
         "cloud.cfg) renders it anew for each instance, and Debian's 75-cloud-ifupdown.rules whose "
         "cloud-ifupdown-helper writes cloud-interfaces-template for each NIC added",
         "when no configuration covers the NIC and systemd-networkd is the manager: a "
         "/etc/systemd/network/80-guestready-gce.network with DHCP=ipv4 (never rewrites an "
         "existing configuration)",
         "configure DHCP on the primary NIC in the network manager the image uses",
         interfaces=["ens4", "eth0"]),
    _gce("GCE-NET-MTU-DHCP", "recommended",
         "The MTU is taken from DHCP (no fixed MTU on the NIC)",
         "VPC networks can have an MTU other than 1500 (1460 by default); the DHCP server sends it "
         "as option 26.",
         "MTU from DHCP option 26", "state",
         [DOC_IMPORT + " (\"Set the DHCP MTU to the network MTU\")", DOC_MTU],
         "no fixed MTU on the NIC's configuration (MTUBytes=, mtu:, mtu, ethernet.mtu, MTU=), and the DHCP "
         "client uses the server's MTU (networkd [DHCPv4] UseMTU=true; netplan dhcp4-overrides "
         "use-mtu not false; dhclient requests interface-mtu: in its last request statement or an also request, "
         "and no supersede interface-mtu); a failure also names the MTUBytes= of the systemd .link file udev "
         "applies to the NIC (the first whose [Match] matches), which stays until a DHCP client sets the server's",
         "systemd-networkd: a drop-in <file>.network.d/50-guestready-gce.conf with UseMTU=true, and the "
         "UseMTU= lines that turn it off again in drop-ins sorting after it commented out",
         "take the MTU from DHCP (networkd: [DHCPv4] UseMTU=true) and remove fixed MTUs"),
    _gce("GCE-NET-NO-PERSISTENT-RULES", "required",
         "No persistent-net udev rules bind interface names to MAC addresses",
         "A new VM has a new MAC address: a rule naming the old one renames the NIC and the VM "
         "has no network.",
         "no NAME= rules matched on a MAC address (ATTR{address}, ID_NET_NAME_MAC)", "state",
         [DOC_IMPORT + " (\"rm -f /etc/udev/rules.d/70-persistent-net.rules\")", COMMON_ROUTINES],
         "no udev rule in /etc/udev/rules.d, /run/udev/rules.d or /lib/udev/rules.d sets NAME= for "
         "a network interface matched on its MAC address (70-persistent-net.rules and the like): ATTR{address}==, "
         "ATTRS{address}== or ENV{ID_NET_NAME_MAC}== (enx<address>) with a pattern that names some addresses only, "
         "a partial glob such as 42:01:0a:* too; a pattern that matches every address (?*, *) names each NIC "
         "and binds nothing; the rules "
         "netplan generates at each boot (/run/udev/rules.d/99-netplan-*.rules) are named, and their netplan "
         "file is GCE-NET-NO-MAC-BINDING's to judge",
         "each such rule is commented out behind a marker that keeps the original line; in a package's file "
         "(/usr/lib/udev/rules.d, /lib/udev/rules.d), in a copy of it in /etc/udev/rules.d, which hides it",
         "remove /etc/udev/rules.d/70-persistent-net.rules"),
    _gce("GCE-NET-NO-MAC-BINDING", "required",
         "No interface configuration is bound to a MAC address",
         "A configuration matched on the build machine's MAC address never applies on a new VM.",
         "no MAC match in network configurations or renaming .link files", "state",
         [DOC_IMPORT + " (\"prevent the instance from remembering MAC addresses\")", TRANSLATE],
         "no netplan match: macaddress, networkd [Match] MACAddress=, NetworkManager mac-address= "
         "or ifcfg HWADDR= in the network configuration, no ifupdown hwaddress that ifup sets on the NIC (an inet "
         "or inet6 stanza's whose method uses it), and no systemd .link file (as udev reads them: drop-ins, "
         "masking) that renames a NIC matched on [Match] MACAddress= or PermanentMACAddress= ([Link] Name=; one "
         "without Name= sets that NIC's properties only); the files netplan generates at each boot "
         "(/run/systemd/network/10-netplan-*.link and .network, /run/NetworkManager/system-connections/netplan-*) "
         "are named, their netplan file judged; cloud-init's "
         "/etc/netplan/50-cloud-init.yaml passes (named in the message) when cloud-init renders it "
         "anew, with the new instance's MAC address, on each instance's first boot (see GCE-NET-DHCP)",
         "reported only: a configuration that names a MAC address is the user's to change",
         "match the interface by name (ens4/eth0) instead of its MAC address"),
    _gce("GCE-GUEST-AGENT", "required",
         "The guest environment's agent is installed and enabled (google-guest-agent)",
         "SSH keys from metadata, OS Login, the hostname, startup scripts and the network setup "
         "all come from the guest agent.",
         "google-guest-agent", "state",
         [DOC_GUEST_ENV, DOC_IMPORT + " (\"Install the Compute Engine guest environment\")",
          DEBIAN_AGENT, TRANSLATE + " (google-compute-engine installed on import)"],
         "the package is installed (dpkg status, rpm -q --whatprovides) and google-guest-agent.service is enabled "
         "(wants link, preset; systemctl is-enabled when live), or google-guest-agent-manager.service, which "
         "Google's plugin-manager builds enable in its place",
         "live: the distribution's package installed with apt-get, dnf or zypper; the unit enabled "
         "(systemctl, or a multi-user.target.wants link in an image)",
         "install google-guest-agent from the distribution (Debian: apt-get install google-guest-agent) "
         "or Google's repository, and enable google-guest-agent.service",
         packages={"deb": ["google-guest-agent"], "rpm": ["google-guest-agent"]},
         units=["google-guest-agent.service"]),
    _gce("GCE-GUEST-OSLOGIN", "recommended",
         "OS Login is installed (google-compute-engine-oslogin)",
         "OS Login manages SSH access with IAM; the guest agent switches it on from metadata.",
         "google-compute-engine-oslogin", "state",
         [DOC_GUEST_ENV + " (google-compute-engine-oslogin)", DEBIAN_AGENT],
         "the package, or one that provides it (SUSE's google-guest-oslogin), is installed (its NSS "
         "cache timer enabled where the package ships one)",
         "live: the distribution's package installed with apt-get, dnf or zypper",
         "install google-compute-engine-oslogin",
         packages={"deb": ["google-compute-engine-oslogin"], "rpm": ["google-compute-engine-oslogin"]},
         units=["google-oslogin-cache.timer"]),
    _gce("GCE-SSH-NO-PASSWORD-AUTH", "recommended",
         "SSH refuses password authentication",
         "Compute Engine manages SSH keys; a password login is a brute-force target on a public "
         "address.",
         "no", "exact",
         [DOC_IMPORT + " (\"Disable password authentication\")", EL_KICKSTART],
         "the effective PasswordAuthentication (sshd -T when live; the configuration with its "
         "Include files and first-value-wins rule otherwise, from /etc/ssh/sshd_config or, without it, "
         "SUSE's vendor /usr/etc/ssh/sshd_config) is no, keyboard-interactive takes no "
         "password through PAM (KbdInteractiveAuthentication no, ChallengeResponseAuthentication no "
         "before OpenSSH 8.7, or UsePAM no), and no Match block turns either on",
         "a drop-in /etc/ssh/sshd_config.d/00-guestready-gce.conf read before every other setting "
         "(or, where sshd would read another setting first, a marked block at the top of sshd_config) with "
         "PasswordAuthentication no, and KbdInteractiveAuthentication no with "
         "ChallengeResponseAuthentication no when PAM takes passwords, validated with "
         "sshd -t; the run fails before writing when the connecting user logs in with a password; "
         "reported only when sshd reads SUSE's vendor /usr/etc/ssh/sshd_config",
         "set PasswordAuthentication no", key="passwordauthentication", directive="PasswordAuthentication"),
    _gce("GCE-SSH-NO-ROOT-PASSWORD", "recommended",
         "SSH never lets root log in with a password",
         "Root is every attacker's first guess; keys (or no root login at all) close that door.",
         "prohibit-password", "one_of",
         [DOC_IMPORT + " (\"Disable root SSH login\")", EL_KICKSTART + " (PermitRootLogin no)",
          DEBIAN_FAI + "/scripts/GCE_SPECIFIC/12-sshd (PermitRootLogin no)"],
         "the effective PermitRootLogin is no, prohibit-password (without-password) or "
         "forced-commands-only, and no Match block sets yes",
         "the same SSH drop-in; an override may choose no, which is refused when the connecting "
         "user is root",
         "set PermitRootLogin prohibit-password (or no)", key="permitrootlogin",
         directive="PermitRootLogin",
         values=["no", "forced-commands-only", "prohibit-password", "without-password"]),
    _gce("GCE-SSH-KEEPALIVE", "recommended",
         "SSH keeps idle sessions alive within Compute Engine's 10-minute idle timeout "
         "(ClientAliveInterval 420)",
         "The VPC forgets an idle TCP connection after 10 minutes; a keep-alive below that keeps "
         "SSH sessions open.",
         420, "between",
         [DOC_IMPORT + " (ClientAliveInterval 420)", DOC_IDLE,
          EL_KICKSTART + " (ClientAliveInterval 420, ServerAliveInterval 420)"],
         "the effective ClientAliveInterval is between 1 and 599 seconds",
         "the same SSH drop-in: ClientAliveInterval 420",
         "set ClientAliveInterval 420", key="clientaliveinterval", directive="ClientAliveInterval",
         bounds=[1, 599]),
    _gce("GCE-SSH-NO-HOST-KEYS", "recommended",
         "No SSH host keys baked into the image",
         "Every VM made from an image with host keys shares them: one stolen image key lets an "
         "attacker impersonate all of them.",
         "no /etc/ssh/ssh_host_*_key", "state",
         [DOC_IMPORT + " (\"Remove SSH keys from your image\")", COMMON_ROUTINES + " (rm -f /etc/ssh/ssh_host_*)",
          DEBIAN_FAI + "/scripts/GCE_CLEAN/10-gce-clean (shred ssh_host_*)",
          DEBIAN_AGENT + " (set_host_keys = true: new keys at first boot, before ssh.service)",
          GUEST_CONFIGS + ": packaging/ubuntu/instance_configs.cfg.distro (set_host_keys = false: "
          "cloud-init makes them)"],
         "no ssh_host_* key files in /etc/ssh of the image",
         "removed from the image only when something makes new ones at first boot (the guest "
         "agent with set_host_keys, sshd-keygen units, or cloud-init's ssh module on Ubuntu, whose agent "
         "leaves set_host_keys off); otherwise reported",
         "remove /etc/ssh/ssh_host_* as the image build's last step, with the guest agent installed",
         scope="image"),
    _gce("GCE-IMAGE-MACHINE-ID", "required",
         "The image's /etc/machine-id is empty",
         "systemd makes a new ID at first boot only when the file is empty; VMs sharing one ID "
         "share DHCP client identifiers and journal IDs.",
         "empty /etc/machine-id", "state",
         [DEBIAN_FAI + "/scripts/GCE_CLEAN/10-gce-clean (\"Empty file needed for on-boot generation\")"],
         "/etc/machine-id exists and is empty (or \"uninitialized\"), and /var/lib/dbus/machine-id "
         "is not a separate copy",
         "the file is emptied in the image, a separate dbus copy removed",
         "truncate /etc/machine-id to zero bytes and remove /var/lib/dbus/machine-id as the image "
         "build's last step", scope="image"),
    _gce("GCE-FSTAB-STABLE-NAMES", "required",
         "/etc/fstab names block devices by UUID or LABEL, never /dev/sdX",
         "Device names follow probe order and the disk interface (SCSI sdX, NVMe nvmeXnY): the same "
         "disk gets another name on another machine type.",
         "UUID=, LABEL=, PARTUUID= or a /dev/disk/by-* link", "state",
         [DOC_DISKS + " (\"use the UUID\")"],
         "no /etc/fstab entry names a kernel device node (/dev/sd*, /dev/vd*, /dev/hd*, /dev/xvd*, "
         "/dev/nvme*)",
         "live: each such entry rewritten to UUID= (read with blkid), the original kept behind a "
         "marker; in an image: reported",
         "replace the device names in /etc/fstab with UUID= (blkid shows them)"),
    _gce("GCE-FSTAB-NOFAIL", "recommended",
         "Non-boot disks in /etc/fstab are mounted with nofail",
         "A VM must boot when an additional disk is detached or missing.",
         "nofail on every mount outside the boot disk's own", "state",
         [DOC_DISKS + " (\"the nofail option ... allows the VM to boot even if the disk isn't available\")"],
         "every block-device entry of /etc/fstab other than /, /usr, /var, /boot, /boot/efi, /efi "
         "and swap has nofail (or noauto), but one proven on the boot disk itself (live: the disk holding /, "
         "from sysfs; a disk image: one of its own partitions, by UUID, LABEL, PARTUUID or PARTLABEL) and one whose "
         "disk systemd's fstab generator keeps out of local-fs.target (x-systemd.automount, _netdev or a network "
         "filesystem type; not with x-initrd.mount, nor a network one with x-systemd.required-by=, nor an "
         "automount below another fstab mount or with x-systemd.requires=); so has every mount that systemd makes "
         "require such a disk's mount, which fails with it: one mounted below it, or a bind or loop mount of a "
         "path on it (and so on, down the fstab)",
         "nofail is added to those entries, the original line kept behind a marker",
         "add nofail to the mount options of additional disks",
         essential_mounts=["/", "/usr", "/var", "/boot", "/boot/efi", "/efi"]),
    _gce("GCE-UDEV-DISK-NAMING", "recommended",
         "Google's disk-naming udev rules are installed (/dev/disk/by-id/google-*)",
         "The rules name each disk after the device name given at attach time, which is how "
         "scripts and fstab find a disk on Compute Engine.",
         "65-gce-disk-naming.rules", "state",
         [GUEST_CONFIGS + ": src/lib/udev/rules.d/65-gce-disk-naming.rules"],
         "a udev rules file (not masked) creates disk/by-id/google-* links; live: the links exist "
         "for Google persistent disks",
         "when no package provides them: the SCSI part of Google's rules as "
         "/etc/udev/rules.d/65-gce-disk-naming.rules (Apache-2.0, attributed), removed again when it hides "
         "a packaged file of that name",
         "install Google's guest-configs (package google-compute-engine) or its "
         "65-gce-disk-naming.rules"),
    _gce("GCE-SYSCTL-COEXIST", "recommended",
         "Google's 60-gce-network-security.conf and the sysctl baseline give one answer",
         "Where Google's guest-configs ship sysctl settings, both loaders must end with the same "
         "compliant value for every key it sets, not two files fighting.",
         "one compliant value per key", "state",
         [GUEST_CONFIGS + ": src/etc/sysctl.d/60-gce-network-security.conf"],
         "for each key 60-gce-network-security.conf sets: systemd-sysctl and procps end with the same "
         "value, and it meets the SYSCTL-* requirement for that key; not applicable without the file",
         "the sysctl area applies it (its drop-in sorts after 60-*, weaker winning lines neutralised)",
         "apply the sysctl area (guestready.gce.harden)"),
]


# --------------------------------------------------------------------------
# 6. The disk and its import archive (IMG-*)
# --------------------------------------------------------------------------
# What Compute Engine's manual import of a boot disk needs.  ``source`` cites
# where each requirement is written; the documents are Google's:
#   BEST    "Image management best practices", section "Understanding images"
#           (cloud.google.com/compute/docs/images/image-management-best-practices):
#           a partition table (MBR or GPT), a bootable partition, the disk's
#           bytes in a file named disk.raw, archived with tar, compressed with
#           gzip.
#   MANUAL  "Manually import boot disks" (cloud.google.com/compute/docs/import/
#           import-existing-image), "Create the image file":
#           `tar --format=oldgnu -Sczf /tmp/compressed-image.tar.gz disk.raw`;
#           the disk's size in whole GB (quoted in rancher/os#1998 and the
#           cause of osbuild/image-builder#2413: 1 GB = 1,073,741,824 bytes).
#   VDISK   "Import virtual disks" (cloud.google.com/compute/docs/import/
#           importing-virtual-disks), "Limitations": software-encrypted disks
#           cannot be imported; Linux disks boot with GRUB and meet the custom
#           image requirements, Virtio-SCSI support included.
#   API     Compute Engine API, images resource: rawDisk.containerType TAR,
#           guestOsFeatures (cloud.google.com/compute/docs/reference/rest/v1/images).
#   TOOLS   GoogleCloudPlatform/compute-image-tools (before the import tools
#           were removed in d2bfbe3d): cli_tools/import_precheck/precheck/
#           check_disks_linux.go (MBR signature, "GRUB" in the MBR, root on one
#           disk); daisy_workflows/image_import/inspection/src/boot_inspect/
#           inspection.py (UEFI-bootable = an EFI System Partition, BIOS-bootable
#           GPT = a BIOS boot partition or a hybrid MBR);
#           cli_tools/common/image/importer/process_planner.go (UEFI_COMPATIBLE
#           for a UEFI-only disk).
# ``expected`` says what is checked; ``compare`` is "exact" (the check decides).

GIB = 1073741824   # IMG-DISK_SIZE's unit: the import takes whole GB (GiB)


def _img(rid, severity, title, rationale, expected, source):
    return _req(rid, "image", severity, title, rationale, expected, "exact", source=source)


IMAGE = [
    _img("IMG-ARCHIVE_GZIP", "required", "The import archive is gzip-compressed",
         "Compute Engine imports a .tar.gz file: a tar archive compressed with gzip.",
         "gzip", "BEST; MANUAL"),
    _img("IMG-ARCHIVE_TAR_FORMAT", "required",
         "The archive is a GNU tar archive, as tar --format=oldgnu writes it",
         "The documented command is tar --format=oldgnu -Sczf; POSIX/pax extended headers "
         "(GNU.sparse.* pax keys) are not what the importer reads.",
         "oldgnu", "MANUAL; API (rawDisk.containerType TAR)"),
    _img("IMG-ARCHIVE_MEMBER", "required", "The archive holds exactly one file, named disk.raw",
         "The importer reads the member disk.raw; any other name or layout fails the import.",
         "disk.raw", "BEST; MANUAL"),
    _img("IMG-ARCHIVE_SPARSE", "recommended", "disk.raw is stored sparse (tar -S)",
         "Unallocated disk space is recorded as holes, not gigabytes of zeros to compress, upload and "
         "inflate.", "GNU sparse member", "MANUAL"),
    _img("IMG-DISK_RAW", "required", "disk.raw holds the disk's raw bytes, not a qcow2/VMDK/VHD container",
         "The file is the complete sequence of the disk's bytes; a container format renamed "
         "disk.raw does not boot.", "raw", "BEST"),
    _img("IMG-DISK_SIZE", "required", "The disk's size is a whole number of GB (GiB)",
         "An image file whose size is not a multiple of 1 GB (%d bytes) is not imported." % GIB,
         {"multiple_of": GIB}, "MANUAL (rancher/os#1998, osbuild/image-builder#2413)"),
    _img("IMG-PARTITION_TABLE", "required", "A valid partition table: MBR or GPT",
         "A bootable image carries a partition table that points to its partitions.",
         ["mbr", "gpt"], "BEST; TOOLS (check_disks_linux.go)"),
    _img("IMG-BOOTABLE_PARTITION", "required",
         "A bootable partition: MBR active flag, or on GPT an EFI System or BIOS boot partition (or a hybrid MBR)",
         "A bootable image contains a bootable partition.",
         {"mbr": "active (0x80) partition", "gpt": ["EFI System", "BIOS boot", "legacy BIOS bootable", "hybrid MBR"]},
         "BEST; TOOLS (inspection.py)"),
    _img("IMG-BIOS_BOOT", "required",
         "A boot loader BIOS can start: GRUB in the MBR and its core image where the MBR points",
         "Compute Engine boots an image without UEFI_COMPATIBLE with BIOS firmware; without a "
         "boot loader in the MBR nothing boots (not applicable to a UEFI-only image).",
         {"mbr_boot_code": "GRUB", "next_stage": "present"}, "TOOLS (check_disks_linux.go, inspection.py); VDISK"),
    _img("IMG-UEFI_BOOT", "required",
         "When the image declares UEFI support (an EFI System Partition): EFI/BOOT/BOOTX64.EFI there",
         "An image with UEFI_COMPATIBLE boots with UEFI firmware and empty NVRAM: the firmware "
         "starts the removable-media path of the ESP. Arm (arm64) machines boot with UEFI only: an "
         "arm64 image needs the ESP, and IMG-BIOS_BOOT does not apply to it.",
         {"esp": "FAT", "loader": "EFI/BOOT/BOOTX64.EFI (BOOTAA64.EFI on arm64), a PE image of the "
                                  "image's architecture"},
         "TOOLS (inspection.py, process_planner.go); UEFI Specification 2.10, 3.5.1.1"),
    _img("IMG-ROOT_FILESYSTEM", "required",
         "The root filesystem is a plain filesystem on a partition of this disk",
         "Found by /etc/os-release and /etc/fstab; a root on LVM, LUKS or RAID is not imported "
         "(software-encrypted disks cannot be read, the import supports a single block device).",
         "ext2/3/4, xfs, btrfs on a partition", "VDISK; TOOLS (check_disks_linux.go)"),
    _img("IMG-FSTAB_STABLE_ID", "required",
         "/etc/fstab mounts the disk's filesystems by UUID or LABEL (or PARTUUID/PARTLABEL)",
         "Kernel device names change on Compute Engine (/dev/sda behind virtio-scsi, "
         "/dev/nvme0n1 on NVMe machine series): a /dev/sda1 line does not find the disk there.",
         ["UUID=", "LABEL=", "PARTUUID=", "PARTLABEL="], "VDISK; MANUAL"),
    _img("IMG-CMDLINE_ROOT_ID", "required",
         "The boot loader's kernel command line names the root filesystem by UUID or LABEL",
         "root= on the default boot entry must find this disk's root filesystem whatever the "
         "disk's device name. Without root= (or with root=gpt-auto), systemd-gpt-auto-generator mounts the "
         "partition of the architecture's root type (Discoverable Partitions Specification) when systemd-boot "
         "or a unified kernel image boots the kernel and the initrd runs systemd: unknown when that partition "
         "is the root filesystem, as the initrd is not read.", "root=UUID=<root filesystem UUID>", "VDISK; MANUAL"),
    _img("IMG-BOOT_ENTRY", "required",
         "The default boot entry's kernel and initramfs exist in the image",
         "GRUB or systemd-boot loads the kernel and initramfs its default entry names; a missing file "
         "is a boot failure. A unified kernel image (systemd-boot's EFI/Linux/*.efi) carries its own "
         "kernel and initramfs (its .linux and .initrd sections).",
         {"kernel": "present", "initramfs": "present"}, "VDISK"),
    _img("IMG-VIRTIO_DRIVERS", "required",
         "The default kernel and its initramfs carry virtio_scsi, virtio_net and virtio_pci",
         "The root disk is behind virtio-scsi; a driver built as a module works at boot only from "
         "the initramfs. Judged by KCONF-SCSI_VIRTIO, KCONF-VIRTIO_NET and KCONF-VIRTIO_PCI of "
         "the kernel the boot loader starts.",
         {"linked": ["KCONF-VIRTIO_PCI", "KCONF-SCSI_VIRTIO", "KCONF-VIRTIO_NET"]},
         "VDISK; Requirements to build custom images (HW-SCSI-VIRTIO, KCONF-*)"),
]

# Guest OS features the pack step offers for `gcloud compute images create
# --guest-os-features`, and when (Google's "Enable guest operating system
# features", cloud.google.com/compute/docs/images/create-custom#guest-os-features):
#   UEFI_COMPATIBLE         the image boots with UEFI firmware (IMG-UEFI_BOOT);
#   VIRTIO_SCSI_MULTIQUEUE  Linux images with kernel 3.17 or later (and, here,
#                           virtio_scsi available at boot: IMG-VIRTIO_DRIVERS);
#   GVNIC                   the image has the gVNIC driver (gve, PCI 1ae0:0042).
GUEST_OS_FEATURES = {
    "UEFI_COMPATIBLE": {"requires": "IMG-UEFI_BOOT"},
    "VIRTIO_SCSI_MULTIQUEUE": {"requires": "IMG-VIRTIO_DRIVERS", "kernel": (3, 17)},
    "GVNIC": {"driver": "gve", "pci": {"vendor": "0x1ae0", "device": "0x0042"}},
}
IMPORT_ARCHIVE_MEMBER = "disk.raw"


CATALOGUE = HARDWARE + KERNEL_OPTIONS + SYSCTL + GCE + IMAGE
BY_ID = dict((entry["id"], entry) for entry in CATALOGUE)


def requirements(area=None):
    """The catalogue entries, in document order, optionally of one area (or a
    tuple of areas)."""
    if area is None:
        return list(CATALOGUE)
    areas = (area,) if isinstance(area, str) else tuple(area)
    return [entry for entry in CATALOGUE if entry["area"] in areas]


def normalize_arch(machine):
    """Map ``uname -m`` and kconfig spellings to the catalogue's arch names."""
    machine = (machine or "").strip().lower()
    if machine in ("x86_64", "amd64", "x86-64"):
        return "x86_64"
    if machine in ("i386", "i486", "i586", "i686", "x86", "x86_32"):
        return "x86_32"
    if machine in ("aarch64", "arm64", "aarch64_be"):
        return "arm64"
    return machine or None


def applies_to_arch(entry, arch):
    """True when ``entry`` applies to ``arch`` (an unknown arch gets every entry)."""
    return entry["arches"] is None or arch is None or arch in entry["arches"]


def parse_version(text):
    """``"6.1.0-28-cloud-amd64"`` -> ``(6, 1, 0)``; ``None`` when unparsable."""
    if text is None:
        return None
    if isinstance(text, tuple):
        return text
    numbers = []
    for part in str(text).strip().split("-", 1)[0].split("."):
        digits = ""
        for char in part:
            if char not in "0123456789":  # ASCII only: str.isdigit() accepts '¹'
                break
            digits += char
        if not digits or len(digits) > 9:  # no version part has 10 digits
            break
        numbers.append(int(digits))
        if len(numbers) == 3:
            break
    if len(numbers) < 2:
        return None
    while len(numbers) < 3:
        numbers.append(0)
    return tuple(numbers)


def in_range(version, since=None, until=None):
    """True when ``version`` lies in ``[since, until)``; an unknown version is
    in every range."""
    if version is None:
        return True
    if since is not None and tuple(version[:len(since)]) < tuple(since):
        return False
    if until is not None and tuple(version[:len(until)]) >= tuple(until):
        return False
    return True


def format_version(version):
    return ".".join(str(part) for part in version) if version else "unknown"
