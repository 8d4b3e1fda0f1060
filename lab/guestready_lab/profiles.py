"""Lab data: image variants, hardware profiles and their known gaps.

Adding a profile is a few lines: copy a dict in PROFILES and change the devices. The QEMU
command line is derived from this data in qemu.py; the snapshot cache key is derived from that
command line, so any change here invalidates the affected snapshots automatically.

Gaps are where a lab guest deviates from what Compute Engine presents. Each gap names the
requirement ID it affects (see the requirements catalogue) so that hardware checks running
against lab guests can tell an expected lab deviation from a real failure. A gap is never a
pass: checks must still report the deviation, and may label it as a known lab gap.
"""

# Packages in every image (mmdebstrap --include). The kernel package(s) come from IMAGES.
BASE_PACKAGES = [
    "systemd-sysv", "udev", "dbus", "libpam-systemd", "openssh-server", "python3",
    "pciutils", "ethtool", "iproute2", "procps", "kmod", "netbase", "initramfs-tools",
    # tools tests and the collection's checks use inside the guest
    "sudo", "lz4", "zstd", "cpio", "xz-utils", "file", "less",
]

IMAGES = {
    # Debian's cloud kernel: virtio drivers only (no e1000, no AHCI/ATA).
    "cloud": {
        "kernels": ["linux-image-cloud-amd64"],
        "boot_flavour": "cloud-amd64",
    },
    # Generic kernel booted, cloud kernel also installed: two kernels in /boot.
    "generic": {
        "kernels": ["linux-image-amd64", "linux-image-cloud-amd64"],
        "boot_flavour": "amd64",
    },
    # Bootable disks (build-disk.sh): partitioned, GRUB installed, booted by the firmware
    # (`lab up --disk`). Not used by `make demo`.
    "boot-bios": {  # MBR, GRUB for BIOS (SeaBIOS)
        "kernels": ["linux-image-cloud-amd64"],
        "boot_flavour": "cloud-amd64",
        "firmware": "bios",
        "boot_packages": ["grub-pc"],
    },
    "boot-uefi": {  # GPT + EFI System Partition, GRUB at EFI/BOOT/BOOTX64.EFI (OVMF)
        "kernels": ["linux-image-cloud-amd64"],
        "boot_flavour": "cloud-amd64",
        "firmware": "uefi",
        "boot_packages": ["grub-efi-amd64"],
    },
}

# Kernel command line (Compute Engine's serial console settings).
KERNEL_APPEND = "root=LABEL=lab-root ro console=ttyS0,38400n8"

# Compute Engine's four 16550A ports: (iobase, irq)
GCE_SERIAL = [(0x3F8, 4), (0x2F8, 3), (0x3E8, 6), (0x2E8, 7)]

# SMBIOS as Compute Engine presents it (dmidecode on a Compute Engine VM).
GCE_SMBIOS = [
    "type=0,vendor=Google,version=Google,date=01/01/2011",
    "type=1,manufacturer=Google,product=Google Compute Engine,"
    "serial=GoogleCloud-0000000000000000000000000000000A",
    "type=2,manufacturer=Google,product=Google Compute Engine,"
    "serial=Board-GoogleCloud-0000000000000000000000000000000A",
    "type=3,manufacturer=Google",
]

# virtio-net features Compute Engine does not offer (applied with every backend).
GCE_VIRTIO_NET_PROPS = {
    "host_tso6": "off", "host_ecn": "off", "host_ufo": "off",
    "guest_tso6": "off", "guest_ecn": "off", "guest_ufo": "off",
}

PROFILES = {
    "gce": {
        "description": "Compute Engine x86 device model (virtio-net, virtio-scsi, 4 serial ports)",
        "image": "cloud",
        "machine": "pc",
        # Used when the QEMU binary has it (10.0 does, 7.2 does not), otherwise a gap is reported.
        "south_bridge": "piix4-isa",
        "smp": 1,
        "memory_mib": 1024,
        # PCI slots as on Compute Engine: 00:03.0 virtio-scsi, 00:04.0 virtio-net (ens4)
        "nic": {"device": "virtio-net-pci", "props": dict(GCE_VIRTIO_NET_PROPS, addr="0x4")},
        "disk": {
            "controller": {"device": "virtio-scsi-pci", "props": {"num_queues": "1", "addr": "0x3"}},
            "device": "scsi-hd",
            "props": {
                "physical_block_size": "4096", "logical_block_size": "512",
                "vendor": "Google", "product": "PersistentDisk", "ver": "1",
                "serial": "persistent-disk-0", "scsi-id": "1", "lun": "0",
            },
        },
        "serial": GCE_SERIAL,
        "smbios": GCE_SMBIOS,
        "dhcp_mtu": 1460,
    },
    "noncompliant": {
        "description": "Generic PC: e1000 NIC, IDE disk with 512/512 sectors, one serial port",
        # The cloud kernel has no e1000/ATA driver: boot the generic kernel.
        "image": "generic",
        "machine": "pc",
        "south_bridge": None,
        "smp": 1,
        "memory_mib": 1024,
        "nic": {"device": "e1000", "props": {}},
        "disk": {
            "controller": None,
            "device": "ide-hd",
            "props": {"bus": "ide.0", "physical_block_size": "512", "logical_block_size": "512"},
        },
        "serial": [(0x3F8, 4)],
        "smbios": [],
        "dhcp_mtu": None,
    },
}

DEFAULT_PROFILE = "gce"

# Known gaps of the lab against Compute Engine. "when" selects the situations a gap applies to:
#   profile: only for these profiles; net: only with this network backend;
#   south_bridge: "piix4-isa" (QEMU supports and uses it) or "piix3" (fallback);
#   boot: "kernel" (-kernel/-initrd, the lab's own images) or "firmware" (`lab up --disk`).
# Every gap names the requirement ID it affects ("-" when no requirement ID covers it).
GAPS = [
    {
        "id": "HW-ISA-PIIX4", "profile": ["gce"], "south_bridge": "piix3",
        "what": "ISA bridge is PIIX3 8086:7000 (this QEMU has no x-south-bridge=piix4-isa)",
        "gce": "PIIX4 ISA 8086:7110 rev 03",
        "lab": {"vendor": "0x8086", "device": "0x7000", "revision": "0x00"},
    },
    {
        "id": "HW-ISA-PIIX4", "profile": ["gce"], "south_bridge": "piix4-isa",
        "what": "ISA bridge is PIIX4 8086:7110 but revision 00, not 03 (QEMU's PIIX4 model)",
        "gce": "PIIX4 ISA 8086:7110 rev 03",
        "lab": {"vendor": "0x8086", "device": "0x7110", "revision": "0x00"},
    },
    {
        "id": "-", "profile": ["gce"],
        "what": "extra PIIX IDE function at 00:01.1 (8086:7010 with PIIX3, 8086:7111 with PIIX4), "
                "bound to ata_piix (both kernels have it); QEMU's pc machine always has it",
        "gce": "not present",
        "lab": {"slot": "00:01.1", "class": "0x0101"},
    },
    {
        "id": "HW-NET-VIRTIO", "profile": ["gce"], "net": "user",
        "what": "with user-mode networking (slirp) the virtio-net device offers no checksum/TSO "
                "offload: ethtool shows tx-checksumming and tcp-segmentation-offload off "
                "(use --net tap for the offload checks)",
        "gce": "tx-checksumming, TSO v4, GRO on",
        "lab": {"tx-checksumming": "off", "tcp-segmentation-offload": "off",
                "generic-receive-offload": "on"},
    },
    {
        "id": "HW-SCSI-VIRTIO", "profile": ["gce"],
        "what": "QEMU's scsi-hd answers INQUIRY with version 5 (SPC-3; scsi_level 6 in sysfs); "
                "the requirement names SPC-4/SBC-3. The lab does not claim a level QEMU does "
                "not implement",
        "gce": "SCSI Primary Commands 4, SCSI Block Commands 3",
        "lab": {"scsi_level": "6"},
    },
    {
        "id": "-", "profile": ["gce"], "net": "user",
        "what": "MTU 1500 from slirp's DHCP (Compute Engine's DHCP hands out 1460; "
                "--net tap gives 1460)",
        "gce": "MTU 1460",
        "lab": {"mtu": "1500"},
    },
    {
        "id": "-", "boot": "kernel",
        "what": "direct kernel boot (-kernel/-initrd/-append): SeaBIOS runs but no boot loader; "
                "GRUB and its configuration are not exercised (`lab up --disk` boots a disk's own)",
        "gce": "firmware boots the image's boot loader",
        "lab": {},
    },
    {
        "id": "-", "boot": "firmware",
        "what": "the firmware is QEMU's SeaBIOS or Debian's OVMF (no Secure Boot, no vTPM, no "
                "integrity monitoring); QEMU's virtio-net option ROM (iPXE) tries a network "
                "boot after a disk that does not boot",
        "gce": "Google's firmware (SeaBIOS-based BIOS, or UEFI with Shielded VM options)",
        "lab": {},
    },
    {
        "id": "-", "profile": ["gce"],
        "what": "chipset devices carry QEMU's subsystem 1af4:1100; SMBIOS serials are fixed lab "
                "values; no metadata server (169.254.169.254) and no guest environment",
        "gce": "Google metadata server and guest agent",
        "lab": {},
    },
]


def gaps_for(profile, net, south_bridge, boot="kernel"):
    """The gaps that apply to a guest of this profile, network backend, south bridge and boot."""
    out = []
    for gap in GAPS:
        if "profile" in gap and profile not in gap["profile"]:
            continue
        if "net" in gap and gap["net"] != net:
            continue
        if "south_bridge" in gap and gap["south_bridge"] != south_bridge:
            continue
        if "boot" in gap and gap["boot"] != boot:
            continue
        out.append({k: v for k, v in gap.items() if k not in ("profile", "net", "south_bridge", "boot")})
    return out
