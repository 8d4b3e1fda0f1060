# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The names the kernel and lspci give to what the hardware checks read:
virtio feature bits, UART types, SCSI device types and levels, and the PCI
devices worth naming in a message.  Numbers in, words out; nothing is read
here."""

import re

# include/uapi/linux/virtio_config.h and virtio_ring.h: transport bits 24..41.
VIRTIO_TRANSPORT_FEATURES = {
    24: "NOTIFY_ON_EMPTY", 27: "ANY_LAYOUT", 28: "RING_INDIRECT_DESC", 29: "RING_EVENT_IDX",
    30: "BAD_FEATURE", 32: "VERSION_1", 33: "ACCESS_PLATFORM", 34: "RING_PACKED",
    35: "IN_ORDER", 36: "ORDER_PLATFORM", 37: "SR_IOV", 38: "NOTIFICATION_DATA",
    39: "NOTIF_CONFIG_DATA", 40: "RING_RESET", 41: "ADMIN_VQ",
}
# include/uapi/linux/virtio_net.h (VIRTIO_NET_F_*).
VIRTIO_NET_FEATURES = {
    0: "CSUM", 1: "GUEST_CSUM", 2: "CTRL_GUEST_OFFLOADS", 3: "MTU", 5: "MAC", 6: "GSO",
    7: "GUEST_TSO4", 8: "GUEST_TSO6", 9: "GUEST_ECN", 10: "GUEST_UFO", 11: "HOST_TSO4",
    12: "HOST_TSO6", 13: "HOST_ECN", 14: "HOST_UFO", 15: "MRG_RXBUF", 16: "STATUS",
    17: "CTRL_VQ", 18: "CTRL_RX", 19: "CTRL_VLAN", 20: "CTRL_RX_EXTRA", 21: "GUEST_ANNOUNCE",
    22: "MQ", 23: "CTRL_MAC_ADDR", 50: "DEVICE_STATS", 52: "VQ_NOTF_COAL", 53: "NOTF_COAL",
    54: "GUEST_USO4", 55: "GUEST_USO6", 56: "HOST_USO", 57: "HASH_REPORT", 59: "GUEST_HDRLEN",
    60: "RSS", 61: "RSC_EXT", 62: "STANDBY", 63: "SPEED_DUPLEX",
}
# include/uapi/linux/virtio_scsi.h (VIRTIO_SCSI_F_*).
VIRTIO_SCSI_FEATURES = {0: "INOUT", 1: "HOTPLUG", 2: "CHANGE", 3: "T10_PI"}
VIRTIO_DEVICE_FEATURES = {1: VIRTIO_NET_FEATURES, 8: VIRTIO_SCSI_FEATURES}

# include/uapi/linux/serial_core.h PORT_* as drivers/tty/serial/8250 names them
# (/proc/tty/driver/serial shows "uart:<name>"); sysfs "type" is the number.
UART_TYPES = {
    0: "unknown", 1: "8250", 2: "16450", 3: "16550", 4: "16550A", 5: "Cirrus", 6: "ST16650",
    7: "ST16650V2", 8: "TI16750", 9: "Startech", 10: "16C950/954", 11: "ST16654",
    12: "XR16850", 13: "RSA",
}

# include/scsi/scsi_proto.h TYPE_*; sysfs scsi_level is the SCSI version + 1
# (include/scsi/scsi.h SCSI_*: SPC-6 is version 0x0d, level 14).
SCSI_TYPES = {0: "disk", 1: "tape", 2: "printer", 3: "processor", 4: "worm", 5: "cd/dvd",
              6: "scanner", 7: "optical", 8: "medium changer", 9: "communications",
              0xC: "raid", 0xD: "enclosure", 0xE: "rbc", 0x11: "osd", 0x14: "zbc", 0x1E: "wlun"}
SCSI_LEVELS = {0: "unknown", 1: "SCSI-1", 2: "SCSI-1 CCS", 3: "SCSI-2", 4: "SPC", 5: "SPC-2",
               6: "SPC-3", 7: "SPC-4", 8: "SPC-5", 14: "SPC-6"}

# Devices worth naming in a message (lspci's names; what QEMU and Compute Engine show).
KNOWN_DEVICES = {
    (0x8086, 0x7000): "Intel 82371SB PIIX3 ISA bridge (the south bridge of QEMU's default pc machine)",
    (0x8086, 0x7010): "Intel 82371SB PIIX3 IDE",
    (0x8086, 0x7110): "Intel 82371AB/EB/MB PIIX4 ISA bridge",
    (0x8086, 0x7111): "Intel 82371AB/EB/MB PIIX4 IDE",
    (0x8086, 0x7113): "Intel 82371AB/EB/MB PIIX4 ACPI",
    (0x8086, 0x2918): "Intel ICH9 LPC/ISA bridge (QEMU q35)",
    (0x8086, 0x2922): "Intel ICH9 AHCI controller (QEMU q35)",
    (0x8086, 0x2930): "Intel ICH9 SMBus controller (QEMU q35)",
    (0x8086, 0x100E): "Intel 82540EM Gigabit Ethernet (e1000)",
    (0x8086, 0x10D3): "Intel 82574L Gigabit Ethernet (e1000e)",
    (0x10EC, 0x8139): "Realtek RTL-8139",
    (0x1AF4, 0x1000): "virtio-net (transitional)",
    (0x1AF4, 0x1041): "virtio-net (modern only)",
    (0x1AF4, 0x1001): "virtio-blk (transitional)",
    (0x1AF4, 0x1042): "virtio-blk (modern only)",
    (0x1AF4, 0x1004): "virtio-scsi (transitional)",
    (0x1AF4, 0x1048): "virtio-scsi (modern only)",
    (0x1AE0, 0x0042): "Google gVNIC",
    (0x1AE0, 0x001F): "Google NVMe",
    (0x1B36, 0x0010): "QEMU NVMe controller",
}
# Chipset functions QEMU emulates carry this subsystem ("Red Hat, Inc. QEMU Virtual Machine").
QEMU_SUBSYSTEM = (0x1AF4, 0x1100)


def number(value, base=0):
    """An integer from sysfs text (``"0x1af4"``, ``"4"``), or None."""
    if value is None:
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    # sysfs prints "%d", "%u", "0x%04x": no Python literal syntax (0b, 0o, "_")
    if not re.match(r"^(-?[0-9]+|0[xX][0-9a-fA-F]+)$", text):
        return None
    try:
        return int(text, base)
    except ValueError:
        return None


def hex_id(value, width=4):
    """``"0x1af4"``: a number as sysfs prints IDs, or None."""
    value = number(value)
    return None if value is None else "0x%0*x" % (width, value)


def ident(vendor, device):
    """``1af4:1000``; an ID that is unknown (None: absent, unreadable) shows as ``?``."""
    def part(value):
        found = number(value)
        if found is not None:
            return "%04x" % found
        return "?" if value is None else "?(%r)" % (value,)
    return "%s:%s" % (part(vendor), part(device))


def describe(vendor, device):
    """``1af4:1000 virtio-net (transitional)``: the IDs and, when known, the name."""
    name = KNOWN_DEVICES.get((number(vendor), number(device)))
    return "%s %s" % (ident(vendor, device), name) if name else ident(vendor, device)


def feature_bit(name, device_id=None):
    """The bit number of the virtio feature ``name`` (``decode_features``'s names), or None."""
    for table in (VIRTIO_TRANSPORT_FEATURES, VIRTIO_DEVICE_FEATURES.get(device_id, {})):
        for bit, known in table.items():
            if known == name:
                return bit
    return None


def decode_features(bits, device_id=None):
    """``"1100..."`` (bit 0 first, as sysfs prints it) -> the names of the set bits."""
    names = VIRTIO_DEVICE_FEATURES.get(device_id, {})
    found = []
    for index, char in enumerate((bits or "").strip()):
        if char == "1":
            found.append(VIRTIO_TRANSPORT_FEATURES.get(index) or names.get(index) or "BIT_%d" % index)
    return found
