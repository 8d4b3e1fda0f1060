"""Lab data: image variants, hardware profiles and their known gaps.

Adding a profile is a few lines: copy a dict in PROFILES and change the devices. The QEMU
command line is derived from this data in qemu.py; the snapshot cache key is derived from that
command line, so any change here invalidates the affected snapshots automatically.

Gaps are where a lab guest deviates from what Compute Engine presents. Each gap names the
requirement ID it affects (see the requirements catalogue) so that hardware checks running
against lab guests can tell an expected lab deviation from a real failure. A gap is never a
pass: checks must still report the deviation, and may label it as a known lab gap.
"""

import copy

# Packages in every image (mmdebstrap --include). The kernel package(s) come from IMAGES.
BASE_PACKAGES = [
    "systemd-sysv", "udev", "dbus", "libpam-systemd", "openssh-server", "python3",
    "pciutils", "ethtool", "iproute2", "procps", "kmod", "netbase", "initramfs-tools",
    # tools tests and the collection's checks use inside the guest
    "sudo", "lz4", "zstd", "cpio", "xz-utils", "file", "less",
]

# Users every image lets in with its lab key: root, and a sudo user (key login only,
# passwordless sudo in /etc/sudoers.d), as people log in on Compute Engine. build-image.sh
# creates SUDO_USER; `lab up/inventory --user` picks the one Ansible logs in as.
SUDO_USER = "lab"
LOGIN_USERS = ("root", SUDO_USER)

# Packages the lab's apt repository offers guests on top of the apt cache (aptrepo.py):
# what roles install with apt on a guest (the guest environment, time sync). Groups of
# co-installable packages: apt resolves each group's dependencies at once (chrony and
# systemd-timesyncd conflict: both provide time-daemon).
REPO_PACKAGES = [["google-guest-agent", "google-compute-engine-oslogin", "chrony",
                  # OpenSCAP in a guest: the scanner-clean sysctl mode is checked with it
                  "openscap-scanner"],
                 ["systemd-timesyncd"]]

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
    # The cloud image plus Debian's guest environment (bookworm: google-guest-agent
    # 20211116, google-compute-engine-oslogin 20210907), enabled as the packages install it,
    # no static hostname, and guest-configs' hostname hooks (not packaged by Debian): the
    # agent starts as on Compute Engine, against the lab's metadata server stand-in
    # (profile gce-agent).
    "gce-agent": {
        "kernels": ["linux-image-cloud-amd64"],
        "boot_flavour": "cloud-amd64",
        # networkd-dispatcher, curl, jq: for guest-configs' hostname hooks (lab/guest-configs)
        "extra_packages": ["google-guest-agent", "google-compute-engine-oslogin",
                           "networkd-dispatcher", "curl", "jq"],
        "guest_environment": True,
    },
    # Bootable disks (build-disk.sh): partitioned, GRUB installed, booted by the firmware
    # (`lab up --disk`). Not used by `make demo`.
    "boot-bios": {  # MBR, GRUB for BIOS (SeaBIOS)
        "kernels": ["linux-image-cloud-amd64"],
        "boot_flavour": "cloud-amd64",
        "firmware": "bios",
        "extra_packages": ["grub-pc"],
    },
    "boot-uefi": {  # GPT + EFI System Partition, GRUB at EFI/BOOT/BOOTX64.EFI (OVMF)
        "kernels": ["linux-image-cloud-amd64"],
        "boot_flavour": "cloud-amd64",
        "firmware": "uefi",
        "extra_packages": ["grub-efi-amd64"],
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
        # gaps of the "gce" family apply to it and to every variant derived from it
        "family": "gce",
        "image": "cloud",
        "machine": "pc",
        # Used when the QEMU binary has it (10.0 does, 7.2 does not), otherwise a gap is reported.
        "south_bridge": "piix4-isa",
        "smp": 1,
        "memory_mib": 1024,
        # PCI slots as on Compute Engine: 00:03.0 virtio-scsi, 00:04.0 virtio-net (ens4);
        # a MAC of Compute Engine's form (42:01 + the internal IPv4 address 10.128.0.2)
        "nic": {"device": "virtio-net-pci",
                "props": dict(GCE_VIRTIO_NET_PROPS, addr="0x4", mac="42:01:0a:80:00:02")},
        "disk": {
            "controller": {"device": "virtio-scsi-pci", "props": {"num_queues": "1", "addr": "0x3"}},
            "device": "scsi-hd",
            "props": {
                "physical_block_size": "4096", "logical_block_size": "512",
                "vendor": "Google", "product": "PersistentDisk", "ver": "1",
                "serial": "persistent-disk-0", "scsi-id": "1", "lun": "0",
            },
            # INQUIRY version 6 = SPC-4, when this QEMU's scsi-hd has scsi_version (10.0 does,
            # detected like x-south-bridge); otherwise QEMU's 5 (SPC-3) and a gap is reported.
            "scsi_version": "6",
        },
        "serial": GCE_SERIAL,
        "smbios": GCE_SMBIOS,
        "dhcp_mtu": 1460,
        # what the checks must report as failures on this profile: {requirement ID: why}
        "deviations": {},
    },
    "noncompliant": {
        "description": "Generic PC: e1000 NIC, IDE disk with 512/512 sectors, one serial port",
        "family": "noncompliant",
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
        "deviations": {
            "HW-ISA-PIIX4": "PIIX3 ISA bridge 8086:7000 (stock -M pc)",
            "HW-NET-VIRTIO": "e1000 8086:100e, no virtio-net",
            "HW-SCSI-VIRTIO": "IDE disk (ata_piix), 512/512 sectors, no virtio-scsi",
            "HW-SERIAL": "one 16550A (ttyS0); ttyS1-3 have no UART",
        },
    },
}


def variant(base, description, changes, deviations):
    """A profile derived from `base`: `changes` maps dotted paths ("disk.props.x") to values
    (None deletes the key); `deviations` maps requirement IDs to why the checks must fail them."""
    p = copy.deepcopy(PROFILES[base])
    for path, value in changes.items():
        *parents, leaf = path.split(".")
        node = p
        for key in parents:
            node = node[key]
        if value is None:
            node.pop(leaf, None)
        else:
            node[leaf] = value
    p.update(description=description, deviations=dict(deviations), variant_of=base)
    return p


# The guest environment on the gce device model, with the metadata server stand-in. Always a
# cold boot: the agent's first-boot actions and the hostname from DHCP are what it is for.
PROFILES["gce-agent"] = variant(
    "gce", "gce with Debian's guest environment and the metadata server stand-in",
    {"image": "gce-agent", "metadata": True,
     "cold_only": "the guest agent's first boot and the DHCP hostname are the point"}, {})

# Device variants of the gce profile: one deviation each, for the checks' live tests (every
# one must be flagged with its real cause, never passed).
PROFILES.update({
    "gce-scsi-2q": variant(
        "gce", "gce, but virtio-scsi offers 2 request queues to 1 vCPU",
        {"disk.controller.props.num_queues": "2"},
        {"HW-SCSI-VIRTIO": "virtio-scsi offers 2 request queues (num_queues=2; MSI-X table of 5 "
                           "vectors); blk-mq shows 1 (/sys/block/sda/mq/0): min(queues, vCPUs)"}),
    "gce-net-modern": variant(
        "gce", "gce, but a modern-only virtio-net (1af4:1041)",
        {"nic.props.disable-legacy": "on"},
        {"HW-NET-VIRTIO": "modern-only virtio-net 1af4:1041 (disable-legacy=on), not the "
                          "transitional 1af4:1000 with subsystem 1af4:0001"}),
    "gce-disk-512": variant(
        "gce", "gce, but the disk has 512-byte physical sectors",
        {"disk.props.physical_block_size": "512"},
        {"HW-SCSI-VIRTIO": "disk reports 512/512 sectors, not 4096 physical / 512 logical"}),
    "gce-serial-4343": variant(
        "gce", "gce, but ttyS2/ttyS3 on IRQ 4/3 (QEMU's isa-serial defaults)",
        {"serial": [(0x3F8, 4), (0x2F8, 3), (0x3E8, 4), (0x2E8, 3)]},
        {"HW-SERIAL": "ttyS2 on IRQ 4 and ttyS3 on IRQ 3, not 6 and 7"}),
    "gce-virtio-blk": variant(
        "gce", "gce, but the disk is virtio-blk (no virtio-scsi controller)",
        {"disk": {"controller": None, "device": "virtio-blk-pci",
                  "props": {"physical_block_size": "4096", "logical_block_size": "512",
                            "serial": "persistent-disk-0", "addr": "0x3"}}},
        {"HW-SCSI-VIRTIO": "disk on virtio-blk 1af4:1001 (/dev/vda), no virtio-scsi 1af4:1004"}),
    "gce-e1000": variant(
        # the cloud kernel has no e1000 driver: the generic image
        "gce", "gce, but an e1000 NIC (generic kernel)",
        {"image": "generic", "nic": {"device": "e1000", "props": {"addr": "0x4"}}},
        {"HW-NET-VIRTIO": "e1000 8086:100e, no virtio-net"}),
})

DEFAULT_PROFILE = "gce"

# Known gaps of the lab against Compute Engine. "when" selects the situations a gap applies
# to (situation() below; a list means any of): family (the profile's), net ("user"/"tap"),
# south_bridge ("piix4-isa" when QEMU supports and uses it, else "piix3"), scsi_version (what
# the scsi-hd answers: "6" or QEMU's default "5"; None without scsi-hd), nic and disk (QEMU
# device names), metadata (the guest has the stand-in metadata server), guest_environment
# (the image carries Google's guest agent; None for a disk given to `lab up --disk`), boot
# ("kernel": -kernel/-initrd, the lab's own images; "firmware": `lab up --disk`).
# Every gap names the requirement ID it affects ("-" when no requirement ID covers it).
GAPS = [
    {
        "id": "HW-ISA-PIIX4", "when": {"family": "gce", "south_bridge": "piix3"},
        "what": "ISA bridge is PIIX3 8086:7000 (this QEMU has no x-south-bridge=piix4-isa)",
        "gce": "PIIX4 ISA 8086:7110 rev 03",
        "lab": {"vendor": "0x8086", "device": "0x7000", "revision": "0x00"},
    },
    {
        "id": "HW-ISA-PIIX4", "when": {"family": "gce", "south_bridge": "piix4-isa"},
        "what": "ISA bridge is PIIX4 8086:7110 but revision 00, not 03: QEMU's PIIX4 model "
                "hard-codes revision 0 and has no property to change it",
        "gce": "PIIX4 ISA 8086:7110 rev 03",
        "lab": {"vendor": "0x8086", "device": "0x7110", "revision": "0x00"},
    },
    {
        "id": "-", "when": {"family": "gce"},
        "what": "extra PIIX IDE function at 00:01.1 (8086:7010 with PIIX3, 8086:7111 with PIIX4), "
                "bound to ata_piix (both kernels have it); QEMU's pc machine always has it",
        "gce": "not present",
        "lab": {"slot": "00:01.1", "class": "0x0101"},
    },
    {
        "id": "HW-NET-VIRTIO", "when": {"family": "gce", "nic": "virtio-net-pci", "net": "user"},
        "what": "with user-mode networking (slirp) the virtio-net device offers no checksum/TSO "
                "offload: ethtool shows tx-checksumming and tcp-segmentation-offload off "
                "(use --net tap for the offload checks)",
        "gce": "tx-checksumming, TSO v4, GRO on",
        "lab": {"tx-checksumming": "off", "tcp-segmentation-offload": "off",
                "generic-receive-offload": "on"},
    },
    {
        "id": "HW-SCSI-VIRTIO", "when": {"family": "gce", "scsi_version": "5"},
        "what": "this QEMU's scsi-hd has no scsi_version property: INQUIRY version 5 (SPC-3; "
                "scsi_level 6 in sysfs); the requirement names SPC-4/SBC-3 (QEMU 10 has it)",
        "gce": "SCSI Primary Commands 4, SCSI Block Commands 3",
        "lab": {"scsi_level": "6"},
    },
    {
        "id": "-", "when": {"family": "gce", "net": "user"},
        "what": "MTU 1500 from slirp's DHCP (Compute Engine's DHCP hands out 1460; "
                "--net tap gives 1460)",
        "gce": "MTU 1460",
        "lab": {"mtu": "1500"},
    },
    {
        "id": "-", "when": {"net": "user"},
        "what": "the guest's address is 169.0.0.15/8 from slirp's DHCP (gateway 169.0.0.2): "
                "slirp forwards only addresses inside its own network, and the lab's services "
                "are 169.254.169.254 (metadata) and 169.254.169.253 (apt repository), on-link",
        "gce": "an address of the VPC subnet; 169.254.169.254 reached through the gateway",
        "lab": {"address": "169.0.0.15/8"},
    },
    {
        "id": "GCE-BOOT-SERIAL-CONSOLE", "when": {"boot": "kernel"},
        "what": "direct kernel boot (-kernel/-initrd/-append): SeaBIOS runs but no boot loader; "
                "the image has no GRUB configuration to carry console=ttyS0 (the running "
                "command line has it, from -append)",
        "gce": "firmware boots the image's boot loader, whose configuration sets the command line",
        "lab": {"cmdline": "-append"},
    },
    {
        "id": "GCE-BOOT-TIMEOUT", "when": {"boot": "kernel"},
        "what": "direct kernel boot: no boot loader, so no boot menu timeout to judge",
        "gce": "firmware boots the image's boot loader",
        "lab": {},
    },
    {
        "id": "-", "when": {"boot": "firmware"},
        "what": "the firmware is QEMU's SeaBIOS or Debian's OVMF (no Secure Boot, no vTPM, no "
                "integrity monitoring); QEMU's virtio-net option ROM (iPXE) tries a network "
                "boot after a disk that does not boot",
        "gce": "Google's firmware (SeaBIOS-based BIOS, or UEFI with Shielded VM options)",
        "lab": {},
    },
    {
        "id": "-", "when": {"family": "gce"},
        "what": "chipset devices carry QEMU's subsystem 1af4:1100; SMBIOS serials are fixed lab "
                "values",
        "gce": "Google's own values",
        "lab": {},
    },
    {
        "id": "-", "when": {"family": "gce", "metadata": False},
        "what": "no metadata server at 169.254.169.254 (lab up --metadata starts the lab's "
                "stand-in)",
        "gce": "Google metadata server",
        "lab": {},
    },
    {
        "id": "-", "when": {"family": "gce", "guest_environment": False},
        "what": "no guest environment in the image (the gce-agent image variant has Debian's "
                "google-guest-agent and google-compute-engine-oslogin)",
        "gce": "Google guest agent",
        "lab": {},
    },
]


def situation(profile, net, south_bridge, scsi_version=None, metadata=False, boot="kernel"):
    """What the gap selectors look at, for a guest of `profile` on backend `net`; boot
    "firmware" is a disk given to `lab up --disk`, whose guest environment the lab cannot tell."""
    p = PROFILES[profile]
    guest_environment = None
    if boot == "kernel":
        guest_environment = bool(IMAGES[p["image"]].get("guest_environment"))
    return {"family": p["family"], "net": net, "south_bridge": south_bridge,
            "scsi_version": scsi_version if p["disk"]["device"] == "scsi-hd" else None,
            "nic": p["nic"]["device"], "disk": p["disk"]["device"], "metadata": bool(metadata),
            "guest_environment": guest_environment, "boot": boot}


def gaps_for(profile, net, south_bridge, scsi_version=None, metadata=False, boot="kernel"):
    """The gaps that apply to a guest of this profile, backend, QEMU capabilities and boot."""
    now = situation(profile, net, south_bridge, scsi_version, metadata, boot)
    out = []
    for gap in GAPS:
        if all(now[k] in (v if isinstance(v, list) else [v]) for k, v in gap.get("when", {}).items()):
            out.append({k: v for k, v in gap.items() if k != "when"})
    return out
