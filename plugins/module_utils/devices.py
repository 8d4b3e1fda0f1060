# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HW-* requirements: does this kernel have the drivers (offline), and does
this guest have the devices (live)?

Offline (``OfflineCheck``): for one kernel release, each device's modalias is
built from the catalogue and matched against the release's alias tables
(``modalias.py``); the driver that must bind it is named, as built in or a
module, and a module is looked up in the release's initramfs (the shared
reader, ``initramfs.py``).  Virtio devices take two hops: the PCI function
(``virtio_pci``) and the virtio device (``virtio_net``, ``virtio_scsi``).
Bridges have no PCI driver (platform code serves them): their offline half is
``not-applicable`` and they are judged live.  The serial ports have no
modalias either: the ``8250`` driver must be built in or loadable.

Live (``LiveCheck``): the guest's sysfs -- PCI functions (IDs, revision,
class, bound driver), virtio devices and their negotiated feature bits, the
NIC's offloads through the ethtool interface, the SCSI devices behind the
controller and their block queues, the serial ports.  A missing device, bus or
file is a finding, never an error.

One status per ID (``combine``): the worst of the halves that apply, in the
order ``fail`` > ``module-missing-from-initramfs`` > ``unknown`` >
``module-in-initramfs`` > ``pass``; a ``not-applicable`` half (a bridge
offline, a mode that skips the half) does not count.  The record keeps both
halves (``offline`` and ``live``) with their own status, message and evidence.
"""

import array
import os
import re
import socket
import struct

from ansible_collections.guestready.gce.plugins.module_utils import initramfs as initramfs_reader
from ansible_collections.guestready.gce.plugins.module_utils import modalias
from ansible_collections.guestready.gce.plugins.module_utils.catalogue import (
    ARCHES, applies_to_arch, normalize_arch)
from ansible_collections.guestready.gce.plugins.module_utils.host import live_root
from ansible_collections.guestready.gce.plugins.module_utils.target import Target
from ansible_collections.guestready.gce.plugins.module_utils.results import (
    apply_waivers, record, summarize)

try:
    import fcntl
except ImportError:  # pragma: no cover - not a POSIX host
    fcntl = None

MODES = ("live", "offline", "both")

# Worst first; "not-applicable" halves are left out of the combination.
SEVERITY_ORDER = ("fail", "module-missing-from-initramfs", "unknown", "unsupported",
                  "module-in-initramfs", "pass")

# --------------------------------------------------------------------------
# Names the kernel uses
# --------------------------------------------------------------------------

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

# include/scsi/scsi_proto.h TYPE_*; sysfs scsi_level is the SCSI version + 1.
SCSI_TYPES = {0: "disk", 1: "tape", 2: "printer", 3: "processor", 4: "worm", 5: "cd/dvd",
              6: "scanner", 7: "optical", 8: "medium changer", 9: "communications",
              0xC: "raid", 0xD: "enclosure", 0xE: "rbc", 0x11: "osd", 0x14: "zbc", 0x1E: "wlun"}
SCSI_LEVELS = {0: "unknown", 1: "SCSI-1", 2: "SCSI-1 CCS", 3: "SCSI-2", 4: "SPC", 5: "SPC-2",
               6: "SPC-3", 7: "SPC-4", 8: "SPC-5", 9: "SPC-6"}

# include/uapi/linux/sockios.h and ethtool.h: the legacy get commands
# (struct ethtool_value), answered for every device by the ethtool core.
SIOCETHTOOL = 0x8946
ETHTOOL_GET = {"tx-checksumming": 0x16, "tcp-segmentation-offload": 0x1E,
               "generic-receive-offload": 0x2B}

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
    (0x1B36, 0x0010): "QEMU NVMe controller",
}
# Chipset functions QEMU emulates carry this subsystem ("Red Hat, Inc. QEMU Virtual Machine").
QEMU_SUBSYSTEM = (0x1AF4, 0x1100)

# Kernel options behind the drivers (for remediation text).
DRIVER_OPTIONS = {"virtio_pci": "VIRTIO_PCI", "virtio_net": "VIRTIO_NET",
                  "virtio_scsi": "SCSI_VIRTIO", "gve": "GVE", "8250": "SERIAL_8250"}

PCI_ATTRIBUTES = ("vendor", "device", "subsystem_vendor", "subsystem_device", "revision", "class")
FIELD_LABELS = {"subsystem_vendor": "subsystem vendor", "subsystem_device": "subsystem ID",
                "revision": "revision", "class": "class"}
HARDWARE_DIFFERS = ("nothing in the image changes this: the virtual hardware differs from "
                    "Compute Engine's (waive the ID, with the reason, where that is expected, "
                    "e.g. a lab)")


def _int(value, base=0):
    if value is None:
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip(), base)
    except ValueError:
        return None


def _hex(value, width=4):
    number = _int(value)
    return None if number is None else "0x%0*x" % (width, number)


def _same_driver(actual, expected):
    return modalias.normalize_module(actual) == modalias.normalize_module(expected)


def _ident(vendor, device):
    return "%04x:%04x" % (_int(vendor), _int(device))


def describe(vendor, device):
    name = KNOWN_DEVICES.get((_int(vendor), _int(device)))
    return "%s %s" % (_ident(vendor, device), name) if name else _ident(vendor, device)


def decode_features(bits, device_id=None):
    """``"1100..."`` (bit 0 first, as sysfs prints it) -> the names of the set bits."""
    names = VIRTIO_DEVICE_FEATURES.get(device_id, {})
    found = []
    for index, char in enumerate((bits or "").strip()):
        if char == "1":
            found.append(VIRTIO_TRANSPORT_FEATURES.get(index) or names.get(index) or "BIT_%d" % index)
    return found


def worst(statuses):
    statuses = [s for s in statuses if s and s != "not-applicable"]
    if not statuses:
        return "not-applicable"
    return min(statuses, key=SEVERITY_ORDER.index)


# --------------------------------------------------------------------------
# sysfs
# --------------------------------------------------------------------------

class Sysfs(object):
    """Reads under a sysfs root (``/sys``, or a fake tree in tests), recording
    every path read and the value found (None: absent or unreadable)."""

    def __init__(self, root="/sys"):
        self.root = root

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    @staticmethod
    def read(path, evidence=None):
        try:
            with open(path) as handle:
                value = handle.read().strip()
        except (IOError, OSError, UnicodeDecodeError):
            value = None
        if evidence is not None:
            evidence[path] = value
        return value

    @staticmethod
    def listdir(path):
        try:
            return sorted(os.listdir(path))
        except OSError:
            return []

    @staticmethod
    def link_name(path, evidence=None):
        """The name a sysfs link points to (``driver`` -> ``virtio-pci``), or None."""
        try:
            target = os.readlink(path)
        except OSError:
            target = None
        if evidence is not None:
            evidence[path] = "-> %s" % target if target else None
        return os.path.basename(target) if target else None

    def exists(self, *parts):
        return os.path.exists(self.path(*parts))


def pci_devices(sysfs):
    """Every PCI function: IDs, revision, class and the bound driver."""
    base = sysfs.path("bus", "pci", "devices")
    devices = []
    for slot in sysfs.listdir(base):
        path = os.path.join(base, slot)
        evidence = {}
        device = {"slot": slot, "path": path, "real": os.path.realpath(path), "evidence": evidence}
        for attribute in PCI_ATTRIBUTES:
            width = 6 if attribute == "class" else (2 if attribute == "revision" else 4)
            device[attribute] = _hex(sysfs.read(os.path.join(path, attribute), evidence), width)
        device["driver"] = sysfs.link_name(os.path.join(path, "driver"), evidence)
        devices.append(device)
    return devices


def virtio_devices(sysfs):
    """Every virtio device with its parent (the PCI function's real path)."""
    base = sysfs.path("bus", "virtio", "devices")
    devices = []
    for name in sysfs.listdir(base):
        path = os.path.join(base, name)
        real = os.path.realpath(path)
        evidence = {}
        device_id = _int(sysfs.read(os.path.join(path, "device"), evidence))
        features = sysfs.read(os.path.join(path, "features"), evidence)
        devices.append({
            "name": name, "path": path, "real": real, "parent": os.path.dirname(real),
            "device_id": device_id,
            "vendor": _hex(sysfs.read(os.path.join(path, "vendor"), evidence)),
            "features_bits": features,
            "features": decode_features(features, device_id) if features is not None else None,
            "driver": sysfs.link_name(os.path.join(path, "driver"), evidence),
            "interfaces": sysfs.listdir(os.path.join(real, "net")),
            "evidence": evidence,
        })
    return devices


def scsi_devices(sysfs, under=None):
    """SCSI devices (``H:C:T:L``), optionally only those below the real path ``under``."""
    base = sysfs.path("bus", "scsi", "devices")
    devices = []
    for name in sysfs.listdir(base):
        if not re.match(r"^\d+:\d+:\d+:\d+$", name):
            continue
        path = os.path.join(base, name)
        real = os.path.realpath(path)
        if under is not None and not real.startswith(under.rstrip(os.sep) + os.sep):
            continue
        evidence = {}
        kind = _int(sysfs.read(os.path.join(path, "type"), evidence))
        level = _int(sysfs.read(os.path.join(path, "scsi_level"), evidence))
        device = {
            "address": name, "path": path, "type": kind,
            "type_name": SCSI_TYPES.get(kind, "type %s" % kind),
            "scsi_level": level, "scsi_version": SCSI_LEVELS.get(level, "level %s" % level),
            "vendor": sysfs.read(os.path.join(path, "vendor"), evidence),
            "model": sysfs.read(os.path.join(path, "model"), evidence),
            "block": [block_device(sysfs, b, evidence)
                      for b in sysfs.listdir(os.path.join(path, "block"))],
            "evidence": evidence,
        }
        devices.append(device)
    return devices


def block_device(sysfs, name, evidence):
    path = sysfs.path("block", name)
    real = os.path.realpath(path)
    slots = re.findall(r"/([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7])(?=/)", real)
    mq = sysfs.path("block", name, "mq")
    queues = [q for q in sysfs.listdir(mq) if q.isdigit()]
    evidence[mq] = "%d queue(s): %s" % (len(queues), " ".join(queues)) if os.path.isdir(mq) else None
    return {
        "name": name, "path": path,
        "pci_slot": slots[-1] if slots else None,
        "physical_block_size": _int(sysfs.read(os.path.join(path, "queue", "physical_block_size"), evidence)),
        "logical_block_size": _int(sysfs.read(os.path.join(path, "queue", "logical_block_size"), evidence)),
        "hw_queues": len(queues) if os.path.isdir(mq) else None,
    }


def block_devices(sysfs):
    """Disks the guest has, wherever they are (for "found instead" messages)."""
    found = []
    for name in sysfs.listdir(sysfs.path("block")):
        if re.match(r"^(loop|ram|zram|dm-|md|sr|fd)", name):
            continue
        found.append(block_device(sysfs, name, {}))
    return found


def serial_port(sysfs, name):
    path = sysfs.path("class", "tty", name)
    evidence = {}
    exists = os.path.exists(path)
    kind = _int(sysfs.read(os.path.join(path, "type"), evidence)) if exists else None
    port = sysfs.read(os.path.join(path, "port"), evidence) if exists else None
    if not exists:
        evidence[path] = None
    return {
        "name": name, "path": path, "exists": exists, "type": kind,
        "uart": UART_TYPES.get(kind, "type %s" % kind) if kind is not None else None,
        "irq": _int(sysfs.read(os.path.join(path, "irq"), evidence)) if exists else None,
        "port": _hex(port, 1) if port is not None else None,
        "evidence": evidence,
    }


def platform(sysfs):
    """DMI vendor and product (``Google`` / ``Google Compute Engine`` on Compute Engine)."""
    evidence = {}
    vendor = sysfs.read(sysfs.path("class", "dmi", "id", "sys_vendor"), evidence)
    product = sysfs.read(sysfs.path("class", "dmi", "id", "product_name"), evidence)
    return {"vendor": vendor, "product": product, "evidence": evidence}


# --------------------------------------------------------------------------
# NIC offloads through the ethtool interface
# --------------------------------------------------------------------------

def parse_ethtool_k(text):
    """``{feature: "on"|"off"}`` from ``ethtool -k`` output (``[fixed]`` dropped)."""
    features = {}
    for line in text.splitlines():
        name, colon, value = line.strip().partition(":")
        words = value.split()
        if colon and words and words[0] in ("on", "off") and " " not in name:
            features[name] = words[0]
    return features


def ioctl_offloads(ifname, names=None):
    """``{name: bool}`` through the SIOCETHTOOL ioctl (ETHTOOL_GTXCSUM, GTSO, GGRO)."""
    if fcntl is None:
        raise OSError("no fcntl module on this host")
    names = names or list(ETHTOOL_GET)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        values = {}
        for name in names:
            buffer = array.array("B", struct.pack("=II", ETHTOOL_GET[name], 0))
            address = buffer.buffer_info()[0]
            request = struct.pack("16sP", ifname.encode("utf-8")[:15], address)
            request += b"\0" * (40 - len(request))  # sizeof(struct ifreq)
            fcntl.ioctl(sock.fileno(), SIOCETHTOOL, request)
            values[name] = bool(struct.unpack("=II", buffer.tobytes())[1])
        return values
    finally:
        sock.close()


RAW_KEPT = tuple(ETHTOOL_GET) + ("tx-checksum-ipv4", "tx-checksum-ip-generic", "tx-tcp-segmentation")


def offloads_from_ethtool_k(text, method):
    """An offload reading (see ``OffloadReader``) from ``ethtool -k`` output."""
    raw = parse_ethtool_k(text)
    return {"values": dict((name, raw[name] == "on") for name in ETHTOOL_GET if name in raw),
            "method": method, "error": None,
            "raw": dict((k, v) for k, v in raw.items() if k in RAW_KEPT)}


class OffloadReader(object):
    """Offloads of a local interface: ``ethtool -k`` when the command exists
    (``run_command`` as AnsibleModule's), else the ioctl."""

    def __init__(self, ethtool=None, run_command=None):
        self.ethtool = ethtool
        self.run_command = run_command

    def __call__(self, ifname):
        """``{"values": {name: bool} or None, "method", "error", "raw"}``."""
        error = None
        if self.ethtool and self.run_command:
            command = [self.ethtool, "-k", ifname]
            rc, out, err = self.run_command(command)
            if rc == 0:
                return offloads_from_ethtool_k(out, " ".join(command))
            error = "%s: rc=%s %s" % (" ".join(command), rc, (err or out).strip())
        try:
            values = ioctl_offloads(ifname)
            return {"values": values, "method": "SIOCETHTOOL ioctl", "error": None,
                    "raw": dict((k, "on" if v else "off") for k, v in values.items())}
        except (IOError, OSError) as exc:
            message = "SIOCETHTOOL on %s: %s" % (ifname, getattr(exc, "strerror", None) or exc)
            return {"values": None, "method": "SIOCETHTOOL ioctl",
                    "error": "; ".join(e for e in (error, message) if e), "raw": {}}


def no_offload_reader(reason):
    def reader(ifname):
        return {"values": None, "method": None, "error": reason, "raw": {}}
    return reader


# --------------------------------------------------------------------------
# Verdicts
# --------------------------------------------------------------------------

def verdict(status, message, remediation=(), evidence=None, **extra):
    result = {"status": status, "message": message, "remediation": list(remediation),
              "evidence": evidence if evidence is not None else {}}
    result.update(extra)
    return result


class OfflineCheck(object):
    """The drivers of one kernel release (``modules_path`` = its lib/modules dir)."""

    def __init__(self, modules_path, root="/", initramfs=None, release=None):
        """``modules_path`` (a ``lib/modules/<release>`` directory) and
        ``initramfs`` are paths inside ``root`` (a path or a Target)."""
        self.target = root if isinstance(root, Target) else Target(root)
        self.tree = modalias.KernelModules(modules_path, self.target)
        self.release = release or self.tree.release
        self.initramfs_option = initramfs
        self._initramfs = None

    def initramfs(self):
        """``{"path", "state": read|absent|unreadable, "modules", "method", "error"}``, once."""
        if self._initramfs is None:
            path = self.initramfs_option or initramfs_reader.find_initramfs(self.release, self.target)
            info = {"path": self.target.display(path) if path else None, "modules": None,
                    "method": None, "error": None}
            if not path:
                info["state"] = "absent"
                info["error"] = "no initramfs for %s under %s" % (
                    self.release, self.target.display("/boot"))
            else:
                try:
                    modules, method, error = initramfs_reader.kernel_modules(path, target=self.target)
                except (IOError, OSError, ValueError, EOFError,
                        getattr(initramfs_reader, "InitramfsError", OSError)) as exc:
                    modules, method, error = None, None, "%s: %s" % (path, exc)
                info.update(modules=modules, method=method, error=error,
                            state="unreadable" if modules is None else "read")
            self._initramfs = info
        return self._initramfs

    def summary(self):
        info = self._initramfs or {}
        return {"kernel_release": self.release, "modules_dir": self.tree.path,
                "files": list(self.tree.present), "problem": self.tree.problem(),
                "initramfs": dict((k, info.get(k)) for k in ("path", "state", "method", "error"))
                if info else None}

    def check(self, entry):
        expected = entry["expected"]
        problem = self.tree.problem()
        if "serial" in expected:
            hops = [("serial", None, expected["serial"]["driver"])]
        elif not expected.get("driver"):
            return self._bridge(entry, problem)
        else:
            pci = expected["pci"]
            hops = [("pci", modalias.pci_modalias(pci["vendor"], pci["device"],
                                                  pci.get("subsystem_vendor"),
                                                  pci.get("subsystem_device"), pci.get("class")),
                     expected["driver"])]
            if "virtio" in expected:
                hops.append(("virtio", modalias.virtio_modalias(expected["virtio"]["device_id"]),
                             expected["virtio"]["driver"]))
        if problem:
            return verdict("unknown", "%s: cannot tell which drivers it has" % problem,
                           ["run `depmod %s` (or install the kernel's modules) and check again"
                            % self.release],
                           evidence={"modules_dir": self.tree.path, "files": list(self.tree.present)},
                           kernel_release=self.release, drivers=[])
        drivers = [self._hop(kind, alias, driver) for kind, alias, driver in hops]
        status = worst([d["status"] for d in drivers])
        evidence = {"modules_dir": self.tree.path,
                    "alias_lines": ["%s:%s: %s" % (m["source"], m["line"], m["text"])
                                    for d in drivers for m in d["matches"]]}
        if any(d.get("initramfs") for d in drivers):
            evidence["initramfs"] = self.initramfs()["path"]
        return verdict(status, "; ".join(d["message"] for d in drivers),
                       [r for d in drivers for r in d["remediation"]], evidence,
                       kernel_release=self.release,
                       drivers=[dict((k, v) for k, v in d.items() if k not in ("remediation",))
                                for d in drivers])

    def _bridge(self, entry, problem):
        pci = entry["expected"]["pci"]
        alias = modalias.pci_modalias(pci["vendor"], pci["device"], pci.get("subsystem_vendor"),
                                      pci.get("subsystem_device"), pci.get("class"))
        matches = [] if problem else self.tree.lookup(alias)
        informational = ["%s (%s)" % (m["module"], "built in" if m["builtin"] else "module")
                         for m in matches]
        message = ("bridge %s: no PCI driver is required (platform code serves it), "
                   "checked live" % describe(pci["vendor"], pci["device"]))
        if informational:
            message += "; %s also match%s its modalias (not required)" % (
                ", ".join(informational), "es" if len(informational) == 1 else "")
        return verdict("not-applicable", message,
                       evidence={"modalias": alias,
                                 "alias_lines": ["%s:%s: %s" % (m["source"], m["line"], m["text"])
                                                 for m in matches]},
                       kernel_release=self.release, drivers=[])

    def _hop(self, kind, alias, driver):
        want = modalias.normalize_module(driver)
        hop = {"hop": kind, "modalias": alias, "expected_driver": want, "matches": [],
               "driver": None, "kind": None, "module_path": None, "initramfs": None,
               "missing_dependencies": [], "remediation": []}
        option = DRIVER_OPTIONS.get(want, want.upper())
        if alias is not None:
            hop["matches"] = self.tree.lookup(alias)
            names = sorted(set(m["module"] for m in hop["matches"]))
            if want in names:
                hop["driver"] = want
            elif not self.tree.builtin_aliases_known and self.tree.is_builtin(want):
                # an old kernel without modules.builtin.modinfo: trust the name
                hop["driver"] = want
                hop["note"] = ("no built-in alias table in %s; %s judged by its name in "
                               "modules.builtin" % (self.tree.path, want))
            else:
                what = "%s %s" % (kind, alias)
                if names:
                    message = "%s: only %s match%s, not %s" % (
                        what, ", ".join(names), "es" if len(names) == 1 else "", want)
                else:
                    message = "%s: no driver in modules.alias or the built-in aliases (%s expected)" % (what, want)
                hop.update(status="fail", message=message,
                           remediation=["build %s with CONFIG_%s=y (or =m with the module in the "
                                        "initramfs)" % (self.release, option)])
                return hop
        else:
            hop["driver"] = want if self.tree.kind(want) else None
            if hop["driver"] is None:
                hop.update(status="fail",
                           message="no %s driver: neither in modules.builtin nor in modules.dep" % want,
                           remediation=["build %s with CONFIG_%s=y" % (self.release, option)])
                return hop
        hop["kind"] = self.tree.kind(want) or ("built-in" if any(
            m["builtin"] for m in hop["matches"] if m["module"] == want) else None)
        if hop["kind"] == "built-in":
            hop.update(status="pass", message="%s is built in" % want)
            return hop
        if hop["kind"] is None:
            hop.update(status="fail",
                       message="%s matches in modules.alias but is not in modules.dep "
                               "(stale depmod output?)" % want,
                       remediation=["run `depmod %s` and check again" % self.release])
            return hop
        hop["module_path"] = self.tree.module_path(want)
        return self._initramfs_hop(hop, want)

    def _initramfs_hop(self, hop, want):
        info = self.initramfs()
        needed = [want] + self.tree.dependencies(want)
        if info["state"] == "absent":
            hop.update(initramfs="absent", status="module-missing-from-initramfs",
                       message="%s is a module and %s" % (want, info["error"]),
                       remediation=["build an initramfs for %s carrying %s (update-initramfs -c -k %s, "
                                    "or dracut)" % (self.release, want, self.release)])
            return hop
        if info["state"] == "unreadable":
            hop.update(initramfs="unknown", status="unknown",
                       message="%s is a module; the initramfs %s could not be inspected: %s" % (
                           want, info["path"], info["error"]),
                       remediation=["check %s by hand (lsinitramfs / lsinitrd) for %s"
                                    % (info["path"], want)])
            return hop
        missing = [name for name in needed if name not in info["modules"] and not self.tree.is_builtin(name)]
        hop["missing_dependencies"] = [name for name in missing if name != want]
        if missing:
            if want in missing:
                message = "%s is a module missing from the initramfs %s" % (want, info["path"])
                if hop["missing_dependencies"]:
                    message += " (and so are %s, which it needs)" % ", ".join(hop["missing_dependencies"])
            else:
                message = "%s is a module in the initramfs %s, but %s, which it needs, %s not" % (
                    want, info["path"], ", ".join(missing), "is" if len(missing) == 1 else "are")
            add = " ".join(missing)
            hop.update(initramfs="missing", status="module-missing-from-initramfs", message=message,
                       remediation=[
                           "add %s to the initramfs: Debian/Ubuntu `echo %s >> "
                           "/etc/initramfs-tools/modules && update-initramfs -u -k %s`; "
                           "dracut `add_drivers+=\" %s \"` in /etc/dracut.conf.d/ and `dracut -f`"
                           % (add, want, self.release, add)])
            return hop
        hop.update(initramfs="present", status="module-in-initramfs",
                   message="%s is a module in the initramfs" % want)
        return hop


class LiveCheck(object):
    """The devices of the guest whose sysfs is ``sysfs_root``."""

    def __init__(self, sysfs_root="/sys", offloads=None):
        self.sysfs = Sysfs(sysfs_root)
        self.offloads = offloads or no_offload_reader("no ethtool interface given")
        self.pci_bus = os.path.isdir(self.sysfs.path("bus", "pci", "devices"))
        self.pci = pci_devices(self.sysfs)
        self.virtio = virtio_devices(self.sysfs)
        self.platform = platform(self.sysfs)

    def summary(self):
        return {"sysfs_root": self.sysfs.root, "pci_bus": self.pci_bus,
                "platform": dict((k, self.platform[k]) for k in ("vendor", "product")),
                "pci_devices": ["%s %s rev %s class %s%s" % (
                    d["slot"], _ident(d["vendor"], d["device"]) if d["vendor"] else "?",
                    (d["revision"] or "?")[2:], (d["class"] or "?")[2:],
                    " driver %s" % d["driver"] if d["driver"] else "") for d in self.pci]}

    def _platform_note(self):
        vendor, product = self.platform["vendor"], self.platform["product"]
        if vendor is None and product is None:
            return "platform unknown (no DMI in sysfs)"
        return "platform: %s %s" % (vendor or "?", product or "?")

    def check(self, entry):
        expected = entry["expected"]
        if "serial" in expected:
            return self._serial(expected["serial"])
        return self._pci(entry)

    # -- PCI devices -------------------------------------------------------

    def _family(self, pci):
        number = _int(pci.get("class"))
        if number is None:
            return None, None
        return (number >> 8, 8) if number >> 16 == 0x06 else (number >> 16, 16)

    def _instead(self, pci):
        family, shift = self._family(pci)
        if family is None:
            return []
        return [d for d in self.pci if d["class"] and _int(d["class"]) >> shift == family]

    def _pci(self, entry):
        expected = entry["expected"]
        pci = expected["pci"]
        want = (_int(pci["vendor"]), _int(pci["device"]))
        name = describe(*want)
        evidence = {}
        if not self.pci_bus:
            evidence[self.sysfs.path("bus", "pci", "devices")] = None
            return verdict("fail", "no PCI bus in %s (%s)" % (self.sysfs.root, self._platform_note()),
                           [self._absent_remedy(entry)], evidence, devices=[])
        candidates = [d for d in self.pci if (_int(d["vendor"]), _int(d["device"])) == want]
        if not candidates:
            instead = self._instead(pci)
            for device in instead:
                evidence.update(device["evidence"])
            message = "no %s PCI device" % name
            if instead:
                message += "; found instead: %s" % ", ".join(
                    "%s %s%s" % (d["slot"], describe(d["vendor"], d["device"]),
                                 " (driver %s)" % d["driver"] if d["driver"] else "")
                    for d in instead)
            if "disks" in expected:
                others = block_devices(self.sysfs)
                if others:
                    message += "; disks: %s" % ", ".join(
                        "%s %s/%s on %s" % (b["name"], b["physical_block_size"],
                                            b["logical_block_size"], b["pci_slot"] or "?")
                        for b in others)
            message += " (%s)" % self._platform_note()
            evidence.update(self.platform["evidence"])
            return verdict("fail", message, [self._absent_remedy(entry)], evidence,
                           devices=[], instead=[self._device_summary(d) for d in instead])
        results = [self._candidate(entry, device) for device in candidates]
        for result in results:
            evidence.update(result.pop("evidence"))
        status = worst([r["status"] for r in results])
        message = "; ".join(r["message"] for r in results)
        remediation = []
        for result in results:
            for line in result.pop("remediation"):
                if line not in remediation:
                    remediation.append(line)
        return verdict(status, message, remediation, evidence, devices=results)

    @staticmethod
    def _device_summary(device):
        return dict((k, device[k]) for k in ("slot",) + PCI_ATTRIBUTES + ("driver",))

    def _absent_remedy(self, entry):
        rid = entry["id"]
        if rid == "HW-NET-GVNIC":
            return ("run the image on a Tau T2A (Arm) machine, where gVNIC is the NIC; "
                    "off Compute Engine, check the kernel only (mode: offline)")
        if rid in ("HW-PCI-PIIX4-ACPI", "HW-ISA-PIIX4"):
            return HARDWARE_DIFFERS
        return ("run the image on a Compute Engine x86 machine (%s is its device model); "
                "off Compute Engine, check the kernel only (mode: offline)"
                % describe(entry["expected"]["pci"]["vendor"], entry["expected"]["pci"]["device"]))

    def _candidate(self, entry, device):
        expected = entry["expected"]
        pci = expected["pci"]
        evidence = dict(device["evidence"])
        problems, unknowns, notes, remediation = [], [], [], []
        info = self._device_summary(device)
        for field in ("subsystem_vendor", "subsystem_device", "revision", "class"):
            if field not in pci:
                continue
            if _int(device[field]) != _int(pci[field]):
                problems.append("%s %s, expected %s" % (FIELD_LABELS[field], device[field], pci[field]))
                if field == "revision" and (_int(device["subsystem_vendor"]),
                                            _int(device["subsystem_device"])) == QEMU_SUBSYSTEM:
                    problems[-1] += (" (subsystem 1af4:1100 marks QEMU's emulated chipset: "
                                     "QEMU's model reports this revision)")
                if HARDWARE_DIFFERS not in remediation:
                    remediation.append(HARDWARE_DIFFERS)
        if expected.get("driver"):
            if device["driver"] is None:
                problems.append("no driver bound (%s expected)" % expected["driver"])
                remediation.append("load %s (modprobe %s) and make sure it loads at boot" % (
                    expected["driver"], modalias.normalize_module(expected["driver"])))
            elif not _same_driver(device["driver"], expected["driver"]):
                problems.append("bound to %s, expected %s" % (device["driver"], expected["driver"]))
                remediation.append("unbind %s and let %s drive the device" % (
                    device["driver"], expected["driver"]))
        elif device["driver"]:
            notes.append("bound to %s" % device["driver"])
        child = None
        if "virtio" in expected:
            child = self._virtio(expected, device, problems, unknowns, notes, remediation, evidence, info)
        if "offloads" in expected and child is not None:
            self._offloads(expected, child, problems, unknowns, notes, remediation, evidence, info)
        if "disks" in expected and child is not None:
            self._disks(expected["disks"], child, problems, unknowns, notes, remediation, evidence, info)
        label = "%s %s" % (device["slot"], describe(device["vendor"], device["device"]))
        if problems:
            status, text = "fail", "; ".join(problems)
        elif unknowns:
            status, text = "unknown", "; ".join(unknowns)
        else:
            status = "pass"
            text = "as expected" + (" (%s)" % ", ".join(notes) if notes else "")
        info.update(status=status, message="%s: %s" % (label, text), remediation=remediation,
                    evidence=evidence, problems=problems, unknowns=unknowns)
        return info

    def _virtio(self, expected, device, problems, unknowns, notes, remediation, evidence, info):
        want = expected["virtio"]
        children = [v for v in self.virtio if v["parent"] == device["real"]]
        if not children:
            if device["driver"] is not None:
                problems.append("no virtio device under it")
            return None
        child = children[0]
        evidence.update(child["evidence"])
        info["virtio"] = dict((k, child[k]) for k in ("name", "device_id", "driver", "features",
                                                      "interfaces"))
        if child["device_id"] != want["device_id"]:
            problems.append("%s is virtio device %s, expected %s" % (
                child["name"], child["device_id"], want["device_id"]))
        if child["driver"] is None:
            problems.append("%s has no driver bound (%s expected)" % (child["name"], want["driver"]))
            remediation.append("load %s (modprobe %s) and make sure it loads at boot"
                               % (want["driver"], want["driver"]))
        elif not _same_driver(child["driver"], want["driver"]):
            problems.append("%s bound to %s, expected %s" % (child["name"], child["driver"], want["driver"]))
        if child["features"] is None:
            unknowns.append("%s/features unreadable" % child["path"])
        else:
            missing = [f for f in want.get("features", []) if f not in child["features"]]
            info["missing_features"] = missing
            if missing:
                text = "%s feature%s off: %s" % (child["name"], "s" if len(missing) > 1 else "",
                                                 ", ".join(missing))
                if set(missing) & set(("CSUM", "HOST_TSO4")):
                    text += (" (the host side offers no checksum/TSO offload to the guest: "
                             "QEMU's user-mode networking (slirp) backend does this; "
                             "Compute Engine offers them)")
                problems.append(text)
                remediation.append("these bits are negotiated with the hypervisor: on Compute "
                                   "Engine they are offered; elsewhere give the NIC a backend "
                                   "with offloads (e.g. tap with vnet_hdr)"
                                   if "CSUM" in missing or "HOST_TSO4" in missing else
                                   "the device does not offer %s: %s" % (", ".join(missing), HARDWARE_DIFFERS))
            else:
                notes.append("features %s on" % ", ".join(want.get("features", [])))
        return child

    def _offloads(self, expected, child, problems, unknowns, notes, remediation, evidence, info):
        interfaces = child["interfaces"]
        if not interfaces:
            problems.append("%s has no network interface (is virtio_net bound?)" % child["name"])
            return
        ifname = interfaces[0]
        result = self.offloads(ifname)
        label = "offloads of %s (%s)" % (ifname, result.get("method") or "ethtool interface")
        evidence[label] = result.get("raw") or result.get("values") or result.get("error")
        info["interface"] = ifname
        info["offloads"] = result.get("values")
        if result.get("values") is None:
            unknowns.append("offloads of %s unreadable: %s" % (ifname, result.get("error")))
            return
        off = [name for name in expected["offloads"] if not result["values"].get(name)]
        if off:
            problems.append("%s: %s off" % (ifname, ", ".join(off)))
            remediation.append("turn them on: ethtool -K %s %s (persist it in the network "
                               "configuration); if the device refuses, its virtio features "
                               "above say why" % (ifname, " ".join(
                                   {"tx-checksumming": "tx on", "tcp-segmentation-offload": "tso on",
                                    "generic-receive-offload": "gro on"}[n] for n in off)))
        else:
            notes.append("%s: %s on" % (ifname, ", ".join(expected["offloads"])))

    def _disks(self, want, child, problems, unknowns, notes, remediation, evidence, info):
        devices = scsi_devices(self.sysfs, under=child["real"])
        info["scsi_devices"] = []
        if not devices:
            unknowns.append("no SCSI device behind the controller: nothing to check the disk "
                            "requirements on")
            return
        for device in devices:
            evidence.update(device["evidence"])
            keys = ("address", "type_name", "scsi_level", "scsi_version", "vendor", "model")
            summary = dict((k, device[k]) for k in keys)
            summary["block"] = device["block"]
            info["scsi_devices"].append(summary)
            address = device["address"]
            if device["type_name"] not in want["device_types"]:
                problems.append("%s is a %s (SCSI type %s), only %s expected" % (
                    address, device["type_name"], device["type"], "/".join(want["device_types"])))
                remediation.append("detach the %s from the controller (Compute Engine attaches "
                                   "only disks)" % device["type_name"])
                continue
            if device["scsi_level"] is None or device["scsi_level"] < want["min_scsi_level"]:
                problems.append("%s reports scsi_level %s (%s), expected %s (%s) or newer%s" % (
                    address, device["scsi_level"], device["scsi_version"], want["min_scsi_level"],
                    SCSI_LEVELS.get(want["min_scsi_level"]),
                    " (QEMU's scsi-hd implements SPC-3)" if device["scsi_level"] == 6
                    and (device["model"] or "").startswith(("QEMU", "PersistentDisk")) else ""))
                remediation.append(HARDWARE_DIFFERS)
            for block in device["block"]:
                sizes = (block["physical_block_size"], block["logical_block_size"])
                if sizes != (want["physical_block_size"], want["logical_block_size"]):
                    problems.append("%s sectors %s/%s (physical/logical), expected %s/%s" % (
                        block["name"], sizes[0], sizes[1], want["physical_block_size"],
                        want["logical_block_size"]))
                    remediation.append("use a Compute Engine persistent disk (4096/512); %s"
                                       % HARDWARE_DIFFERS)
                if block["hw_queues"] is None:
                    unknowns.append("%s has no mq directory (not a blk-mq device?)" % block["name"])
                elif block["hw_queues"] != want["request_queues"]:
                    problems.append("%s has %s hardware queues, expected %s (one request queue)" % (
                        block["name"], block["hw_queues"], want["request_queues"]))
                    remediation.append("Compute Engine's controller has one request queue: "
                                       "give the controller num_queues=1; %s" % HARDWARE_DIFFERS)
            if not device["block"]:
                unknowns.append("%s has no block device" % address)
        if not problems:
            notes.append("%d disk(s) %s/%s, %s queue, SCSI level >= %s" % (
                len(devices), want["physical_block_size"], want["logical_block_size"],
                want["request_queues"], want["min_scsi_level"]))

    # -- serial ------------------------------------------------------------

    def _serial(self, want):
        evidence, problems, remediation, ports = {}, [], [], []
        for name in sorted(want["ports"]):
            expected = want["ports"][name]
            port = serial_port(self.sysfs, name)
            evidence.update(port.pop("evidence"))
            ports.append(port)
            if not port["exists"]:
                problems.append("%s absent" % name)
                continue
            if port["uart"] != want["uart"]:
                problems.append("%s is uart:%s, expected %s (no UART at %s)" % (
                    name, port["uart"], want["uart"], port["port"] or expected["port"]))
                continue  # the IRQ of a port without a UART means nothing
            if port["irq"] != expected["irq"]:
                problems.append("%s on IRQ %s, expected %s" % (name, port["irq"], expected["irq"]))
            if _int(port["port"]) != _int(expected["port"]):
                problems.append("%s at I/O port %s, expected %s" % (name, port["port"], expected["port"]))
        if problems:
            if any("absent" in p for p in problems):
                remediation.append("ports missing from sysfs: the kernel registers fewer than four "
                                   "(8250.nr_uarts / CONFIG_SERIAL_8250_RUNTIME_UARTS below 4) or "
                                   "has no 8250 driver")
            if any("uart:" in p or "IRQ" in p or "I/O port" in p for p in problems):
                remediation.append("the machine lacks Compute Engine's four 16550A ports: %s"
                                   % HARDWARE_DIFFERS)
            message = "; ".join(problems) + " (%s)" % self._platform_note()
            return verdict("fail", message, remediation, evidence, ports=ports)
        return verdict("pass", "%s: %s at IRQ %s" % (
            ", ".join(p["name"] for p in ports), want["uart"],
            "/".join(str(p["irq"]) for p in ports)), evidence=evidence, ports=ports)


# --------------------------------------------------------------------------
# One record per ID
# --------------------------------------------------------------------------

def combine(entry, offline=None, live=None):
    """One result from the offline and live verdicts (either may be None: not run)."""
    halves = [("offline", offline), ("live", live)]
    status = worst([half["status"] for name, half in halves if half is not None])
    parts, remediation, evidence = [], [], {}
    for name, half in halves:
        if half is None:
            continue
        parts.append("%s: %s" % (name, half["message"]))
        for line in half["remediation"]:
            if line not in remediation:
                remediation.append(line)
        evidence[name] = half["evidence"]
    actual = {}
    if offline is not None:
        actual["drivers"] = dict(
            ("%s:%s" % (d["hop"], d["expected_driver"]), d.get("kind") and "%s%s" % (
                d["kind"], " (initramfs: %s)" % d["initramfs"] if d.get("initramfs") else ""))
            for d in offline.get("drivers", []))
    if live is not None:
        if "devices" in live:
            actual["devices"] = [d["message"] for d in live["devices"]]
        if "ports" in live:
            actual["ports"] = dict((p["name"], {"uart": p["uart"], "irq": p["irq"], "port": p["port"]})
                                   for p in live["ports"])
    strip = ("evidence", "remediation")
    return record(entry, status, actual=actual, evidence=evidence, message="; ".join(parts),
                  remediation="; ".join(remediation),
                  offline=dict((k, v) for k, v in offline.items() if k not in strip) if offline else None,
                  live=dict((k, v) for k, v in live.items() if k not in strip) if live else None)


def assess(entries, waivers, arch, offline=None, live=None):
    """One record per HW-* entry (in catalogue order), waivers applied."""
    results = []
    for entry in entries:
        if not applies_to_arch(entry, arch):
            results.append(record(
                entry, "not-applicable", actual={"arch": arch},
                message="applies to %s; this is %s" % (", ".join(entry["arches"]), arch)))
            continue
        results.append(combine(entry, offline.check(entry) if offline else None,
                               live.check(entry) if live else None))
    return apply_waivers(results, waivers)


# --------------------------------------------------------------------------
# The guest_hardware_info module's work (shared with compliance_info)
# --------------------------------------------------------------------------

class HardwareError(Exception):
    """An option that cannot be honoured; the message names it."""


ARGUMENT_SPEC = dict(
    mode=dict(type="str", choices=list(MODES)),
    kernel_release=dict(type="str"),
    root=dict(type="path", default="/"),
    sysfs_root=dict(type="path", default="/sys"),
    initramfs=dict(type="path"),
    arch=dict(type="str"),
)


RELEASE_SUFFIXES = (
    ("-686-pae", "x86_32"), ("-686", "x86_32"), (".i686", "x86_32"),
    ("-amd64", "x86_64"), (".x86_64", "x86_64"),
    ("-arm64", "arm64"), (".aarch64", "arm64"),
)


def release_arch(release):
    """The architecture a Debian- or Fedora-style release name ends with, or None."""
    for suffix, arch in RELEASE_SUFFIXES:
        if (release or "").endswith(suffix):
            return arch
    return None


def select_kernel(params):
    """``(release, modules_path, target, running)``: the modules directory as
    a path inside ``target``, the tree its initramfs is looked for in."""
    root = params["root"]
    target = Target(root)
    wanted = params["kernel_release"]
    running = os.uname()[2]
    if wanted and "/" in wanted:
        path = "/" + os.path.normpath(wanted).lstrip("/")
        if not target.isdir(path):
            raise HardwareError("kernel_release: %s is not a directory" % target.display(path))
        match = re.match(r"^(.*?)/(?:usr/)?lib/modules/[^/]+$", path)
        if match and match.group(1) and root == "/":
            # a tree's lib/modules directory: its initramfs is in that tree's /boot
            return os.path.basename(path), path[len(match.group(1)):], Target(match.group(1)), False
        return os.path.basename(path), path, target, False
    if wanted:
        path = modalias.modules_dir(wanted, target)
        if not target.isdir(path):
            installed = modalias.installed_releases(target)
            raise HardwareError("kernel_release: no %s (installed under %s: %s)" % (
                target.display(path), root, ", ".join(installed) or "none"))
        return wanted, path, target, live_root(root) and wanted == running
    if live_root(root):
        return running, modalias.modules_dir(running, target), target, True
    installed = modalias.installed_releases(target)
    if not installed:
        raise HardwareError("root: %s has no kernel (no lib/modules/<release> directory); "
                            "name one with kernel_release" % root)
    return installed[0], modalias.modules_dir(installed[0], target), target, False


def select_arch(params, release, running):
    given = params["arch"]
    if given:
        name = normalize_arch(given)
        if name not in ARCHES:
            raise HardwareError("arch: %r is not one of %s" % (given, ", ".join(ARCHES)))
        return {"name": name, "source": "arch option"}
    if not running:
        guessed = release_arch(release)
        if guessed in ARCHES:
            return {"name": guessed, "source": "kernel release name"}
    return {"name": normalize_arch(os.uname()[4]), "source": "uname -m"}


def check_hardware(params, entries, waivers, module):
    """Evaluate the HW-* ``entries`` as ``params`` (the module's options) say;
    ``module`` runs ethtool.  Returns the module's result fields; bad input
    raises HardwareError."""
    release, modules_path, target, running = select_kernel(params)
    mode = params["mode"] or ("both" if running else "offline")
    arch = select_arch(params, release, running)
    if params["initramfs"] and not target.isfile(params["initramfs"]):
        raise HardwareError("initramfs: %s is not a regular file" % target.display(params["initramfs"]))
    offline = live = None
    if mode in ("offline", "both"):
        try:
            offline = OfflineCheck(modules_path, root=target, release=release,
                                   initramfs=params["initramfs"])
        except modalias.ModulesError as exc:
            raise HardwareError(str(exc))
    if mode in ("live", "both"):
        sysfs_root = params["sysfs_root"]
        if os.path.realpath(sysfs_root) == "/sys":
            reader = OffloadReader(ethtool=module.get_bin_path("ethtool"), run_command=module.run_command)
        else:
            reader = no_offload_reader(
                "sysfs_root %s is not this host's /sys: the ethtool interface describes this "
                "host's interfaces, not that tree's" % sysfs_root)
        live = LiveCheck(sysfs_root, offloads=reader)
    results = assess(entries, waivers, arch["name"], offline=offline, live=live)
    return dict(results=results, summary=summarize(results), mode=mode, arch=arch,
                kernel=offline.summary() if offline else None,
                guest=live.summary() if live else None)
