# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one sysfs reader: the PCI functions, virtio devices, SCSI devices,
block queues, serial ports, DMI strings and PCI configuration space the
hardware checks look at, from the live ``/sys`` or a tree that imitates it
(a capture, a test's fake).

A tree is read through the target-root layer (``target.py``) rooted at its
directory: its links resolve inside it and only regular files are read (a
FIFO in a fake tree is reported, never opened).  The live ``/sys`` keeps the
kernel's ordinary path resolution (``LiveSysfs``): it is the kernel's own
tree, its links are relative and stay inside it, and one ``open`` per read
instead of the layer's walk in Python keeps the live check as fast as it was
(measured in a TCG lab guest: the walk made it three times slower).  It
still reads only regular files, without blocking.

Paths are inside the sysfs root (``/bus/pci/devices/0000:00:04.0/vendor``);
evidence maps each path as the user sees it (``/sys/bus/...``) to the value
found (None: absent; ``not read: ...`` with the reason when permission was
refused, it is not a regular file, it is too large or its links loop).  A missing device, bus or file is a
value of None, never an error.  A device's attributes are read in its real
directory (resolved once) and shown under the path the user knows.
"""

import errno
import os
import re
import stat

from ansible_collections.guestready.gce.plugins.module_utils import privilege
from ansible_collections.guestready.gce.plugins.module_utils.digits import ascii_int
from ansible_collections.guestready.gce.plugins.module_utils.device_names import (
    SCSI_LEVELS, SCSI_TYPES, UART_TYPES, decode_features, hex_id, number)
from ansible_collections.guestready.gce.plugins.module_utils.target import (
    Missing, NotRegular, Target, TargetError, Unreadable, file_kind)

LIVE_ROOT = "/sys"
MAX_ATTRIBUTE = 64 * 1024   # sysfs attributes are one page; a tree's may be anything
PCI_ATTRIBUTES = ("vendor", "device", "subsystem_vendor", "subsystem_device", "revision", "class")

# include/uapi/linux/pci_regs.h
PCI_STATUS, PCI_STATUS_CAP_LIST = 0x06, 0x10
PCI_REVISION_ID = 0x08
PCI_CAPABILITY_LIST = 0x34
PCI_CAP_ID_MSIX = 0x11
PCI_MSIX_FLAGS_QSIZE, PCI_MSIX_FLAGS_ENABLE = 0x07FF, 0x8000
PCI_STD_HEADER_SIZEOF = 64   # what an unprivileged read of sysfs "config" returns
PCI_FIND_CAP_TTL = 48        # drivers/pci/pci.c: at most 48 capabilities are walked
PCI_CONFIG_MAX = 4096
SLASHES = re.compile("/+")
DRIVER_LINK = re.compile(r"(^|/)bus/[^/]+/drivers/[^/]+/?$")
_READ_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)


def join(*parts):
    """A path inside the sysfs root from its parts (``join("/block", "sda")``)."""
    return SLASHES.sub("/", "/" + "/".join(parts)).rstrip("/") or "/"


class LiveSysfs(object):
    """The live ``/sys`` with the kernel's ordinary path resolution: the few
    Target methods the reader uses, with the same errors."""

    root = LIVE_ROOT

    def display(self, path):
        return self.root + path

    def _error(self, path, exc, what):
        if exc.errno == errno.ENOENT:
            return Missing("%s: no such file or directory" % self.display(path))
        if privilege.denied(exc):
            return Unreadable(self.display(path))
        return TargetError("%s: cannot %s: %s" % (self.display(path), what, exc.strerror or exc))

    def read_bytes(self, path, limit):
        try:
            fd = os.open(self.display(path), _READ_FLAGS)
        except OSError as exc:
            raise self._error(path, exc, "read")
        try:
            kind = os.fstat(fd).st_mode
            if not stat.S_ISREG(kind):
                raise NotRegular("%s: is a %s, not a regular file: not read" % (
                    self.display(path), file_kind(kind)), file_kind(kind))
            chunks, size = [], 0
            while size <= limit:
                chunk = os.read(fd, limit + 1 - size)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        except OSError as exc:
            raise self._error(path, exc, "read")
        finally:
            os.close(fd)
        if size > limit:
            raise TargetError("%s: larger than %d bytes: not read" % (self.display(path), limit))
        return b"".join(chunks)

    def read_text(self, path, limit):
        return self.read_bytes(path, limit).decode("utf-8", "replace")

    def listdir(self, path):
        try:
            return sorted(os.listdir(self.display(path)))
        except OSError as exc:
            raise self._error(path, exc, "list")

    def isdir(self, path):
        return os.path.isdir(self.display(path))

    def exists(self, path):
        return os.path.exists(self.display(path))

    def readlink(self, path):
        try:
            return os.readlink(self.display(path))
        except OSError as exc:
            raise self._error(path, exc, "read the link")

    def lstat(self, path):
        try:
            return os.lstat(self.display(path))
        except OSError as exc:
            raise self._error(path, exc, "stat")

    def host_path(self, path):
        real = os.path.realpath(self.display(path))
        if not os.path.exists(real):
            raise Missing("%s: no such file or directory" % self.display(path))
        return real

    def inside(self, host_path):
        if host_path != self.root and not host_path.startswith(self.root + "/"):
            raise TargetError("%s: not inside %s" % (host_path, self.root))
        return host_path[len(self.root):] or "/"


class Sysfs(object):
    """Reads under a sysfs root (``/sys``, or a tree), recording in
    ``evidence`` every path read and the value found."""

    def __init__(self, root=LIVE_ROOT):
        self.root = root
        self.live = os.path.realpath(root) == LIVE_ROOT
        self.target = LiveSysfs() if self.live else Target(root)

    def shown(self, path):
        """``path`` (inside the root) as the user sees it."""
        return self.target.display(path)

    def _note(self, evidence, path, value):
        if evidence is not None:
            evidence[self.shown(path)] = value

    def read(self, path, evidence=None, shown_as=None, refused=None):
        """The attribute's text without surrounding blanks, or None;
        recorded in ``evidence`` under ``shown_as`` (default ``path``).  A
        path whose read was refused (permission) is appended to ``refused``
        (a list) as the user sees it: None then means unreadable, not absent."""
        try:
            value = self.target.read_text(path, limit=MAX_ATTRIBUTE).strip()
        except (NotRegular, Unreadable) as exc:
            self._note(evidence, shown_as or path, "not read: %s" % exc)
            if refused is not None and isinstance(exc, Unreadable):
                refused.append(self.shown(shown_as or path))
            return None
        except TargetError as exc:
            if isinstance(exc, Missing) or not os.path.isdir(self.root):
                value = None
            else:  # too large, links that loop, a file on the way: unreadable, not absent
                self._note(evidence, shown_as or path, "not read: %s" % exc)
                return None
        self._note(evidence, shown_as or path, value)
        return value

    def attributes(self, path, real, names, evidence, refused=None):
        """``{name: text or None}`` of the attributes of the device at
        ``path`` (a link) whose real directory is ``real`` (``refused``: see ``read``)."""
        return dict((name, self.read(join(real or path, name), evidence, shown_as=join(path, name),
                                     refused=refused))
                    for name in names)

    def read_bytes(self, path, limit):
        """``(bytes or None, why not)``."""
        try:
            return self.target.read_bytes(path, limit=limit), None
        except Missing:
            return None, "%s: absent" % self.shown(path)
        except TargetError as exc:
            return None, str(exc)

    def listdir(self, path):
        """The names in the directory ``path``; none when it is absent or not
        a directory.  A listing refused (permission) raises Unreadable: an
        empty one would read as "no such device"."""
        try:
            return self.target.listdir(path)
        except Unreadable:
            raise
        except TargetError:
            return []

    def isdir(self, path):
        return self.target.isdir(path)

    def exists(self, path):
        return self.target.exists(path)

    def driver(self, path, evidence=None, real=None):
        """``(name, why unknown)`` of the driver bound to the device at
        ``path`` (real directory ``real``): ``("virtio-pci", None)``, ``(None,
        None)`` when none is, ``(None, why)`` when its ``driver`` is not a link
        to a driver.  The kernel links it to the driver's directory,
        ``bus/<bus>/drivers/<name>`` (drivers/base/dd.c, driver_sysfs_add); only
        the link's text is read, it is never followed."""
        link, where = join(path, "driver"), join(real or path, "driver")
        try:
            text = self.target.readlink(where)
        except TargetError:
            text = None
        if text:
            self._note(evidence, link, "-> %s" % text)
            if DRIVER_LINK.search(text):
                return text.rstrip("/").rsplit("/", 1)[-1], None
            return None, "%s -> %s: not a link to a driver (bus/<bus>/drivers/<name>)" % (self.shown(link), text)
        try:
            why = "%s: is a %s, not a link to a driver" % (self.shown(link), file_kind(self.target.lstat(where).st_mode))
        except Missing:
            self._note(evidence, link, None)
            return None, None
        except TargetError as exc:
            why = str(exc)
        self._note(evidence, link, "not read: %s" % why)
        return None, why

    def resolve(self, path):
        """``(path with every link resolved, inside the root, None)``; ``(None,
        None)`` when it is absent, ``(None, why)`` when it cannot be resolved
        (links that loop, a file on the way)."""
        try:
            return self.target.inside(self.target.host_path(path)), None
        except Missing:
            return None, None
        except TargetError as exc:
            return None, str(exc)

    def real(self, path):
        """``path`` with every link resolved (inside the root), or None."""
        return self.resolve(path)[0]


def parent(path):
    return path.rsplit("/", 1)[0] or "/"


# --------------------------------------------------------------------------
# devices
# --------------------------------------------------------------------------

def pci_devices(sysfs):
    """Every PCI function: IDs, revision, class and the bound driver."""
    base = join("bus", "pci", "devices")
    devices = []
    for slot in sysfs.listdir(base):
        path = join(base, slot)
        evidence = {}
        device = {"slot": slot, "path": path, "real": sysfs.real(path), "evidence": evidence}
        values = sysfs.attributes(path, device["real"], PCI_ATTRIBUTES, evidence)
        if values["revision"] is None and evidence[sysfs.shown(join(path, "revision"))] is None:
            values["revision"] = _config_revision(sysfs, path, device["real"], evidence)
        for attribute in PCI_ATTRIBUTES:
            width = 6 if attribute == "class" else (2 if attribute == "revision" else 4)
            device[attribute] = hex_id(values[attribute], width)
        device["driver"], device["driver_unknown"] = sysfs.driver(path, evidence, real=device["real"])
        devices.append(device)
    return devices


def _config_revision(sysfs, path, real, evidence):
    """The revision ID from the configuration space (byte 0x08, in the 64 bytes
    any user reads), as lspci reads it, for a kernel without the ``revision``
    attribute (drivers/pci/pci-sysfs.c has it from Linux 4.10); None when unreadable."""
    config = join(path, "config")
    data, error = sysfs.read_bytes(join(real or path, "config"), PCI_CONFIG_MAX)
    if data is None or len(data) <= PCI_REVISION_ID:
        evidence[sysfs.shown(config)] = "not read: %s" % (error or "%d bytes, no revision ID" % len(data))
        return None
    evidence[sysfs.shown(config)] = {"revision ID (byte 0x08)": "0x%02x" % data[PCI_REVISION_ID], "bytes": len(data)}
    return "0x%02x" % data[PCI_REVISION_ID]


def virtio_devices(sysfs):
    """Every virtio device with its parent (the PCI function's real path)."""
    base = join("bus", "virtio", "devices")
    devices = []
    for name in sysfs.listdir(base):
        path = join(base, name)
        real, unresolved = sysfs.resolve(path)
        if not unresolved and (real is None or not sysfs.isdir(real)):  # listed, but dangling or a file
            real, unresolved = None, "%s: does not lead to a device's directory" % sysfs.shown(path)
        evidence = {}
        values = sysfs.attributes(path, real, ("device", "features", "vendor"), evidence)
        device_id, features = number(values["device"]), values["features"]
        driver, driver_unknown = sysfs.driver(path, evidence, real=real)
        devices.append({
            "name": name, "path": path, "real": real, "parent": parent(real) if real else None,
            "device_id": device_id,
            "vendor": hex_id(values["vendor"]),
            "features_bits": features,
            # sysfs prints one 0 or 1 per feature bit; anything else tells nothing
            "features": decode_features(features, device_id) if re.match(r"^[01]+$", features or "") else None,
            "driver": driver, "driver_unknown": driver_unknown, "unresolved": unresolved,
            "interfaces": sysfs.listdir(join(real, "net")) if real else [],
            "evidence": evidence,
        })
    return devices


def scsi_devices(sysfs, under=None):
    """SCSI devices (``H:C:T:L``), optionally only those below the real path
    ``under``; one whose link cannot be followed is ``{address, path,
    unresolved: why, evidence}``."""
    base = join("bus", "scsi", "devices")
    devices = []
    for name in sysfs.listdir(base):
        if not re.match(r"^\d+:\d+:\d+:\d+$", name):
            continue
        path = join(base, name)
        real, unresolved = sysfs.resolve(path)
        if unresolved:  # a link that loops may be any controller's device
            devices.append({"address": name, "path": path, "unresolved": unresolved,
                            "evidence": {sysfs.shown(path): "not read: %s" % unresolved}})
            continue
        if under is not None and not (real or "").startswith(under.rstrip("/") + "/"):
            continue
        evidence = {}
        values = sysfs.attributes(path, real, ("type", "scsi_level", "vendor", "model"), evidence)
        kind, level = number(values["type"]), number(values["scsi_level"])
        driver, driver_unknown = sysfs.driver(path, evidence, real=real)
        devices.append({
            "address": name, "path": path, "unresolved": None, "type": kind,
            "driver": driver, "driver_unknown": driver_unknown,
            "type_name": SCSI_TYPES.get(kind, "type %s" % kind),
            "scsi_level": level, "scsi_version": SCSI_LEVELS.get(level, "level %s" % level),
            "vendor": values["vendor"], "model": values["model"],
            "block": [block_device(sysfs, b, evidence) for b in sysfs.listdir(join(real or path, "block"))],
            "evidence": evidence,
        })
    return devices


def block_device(sysfs, name, evidence):
    """A disk: its sector sizes, the PCI function it hangs off and the
    hardware queues blk-mq made for it (one directory each under ``mq``)."""
    path = join("block", name)
    real = sysfs.real(path)
    slots = re.findall(r"/([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7])(?=/)", real or "")
    mq = join(real or path, "mq")
    has_mq = sysfs.isdir(mq)
    queues = [q for q in sysfs.listdir(mq) if re.match(r"^[0-9]+$", q)]
    evidence[sysfs.shown(join(path, "mq"))] = "%d queue(s): %s" % (len(queues), " ".join(queues)) \
        if has_mq else None
    sizes = sysfs.attributes(path, real, ("queue/physical_block_size", "queue/logical_block_size"), evidence)
    return {
        "name": name, "path": path,
        "pci_slot": slots[-1] if slots else None,
        "physical_block_size": number(sizes["queue/physical_block_size"]),
        "logical_block_size": number(sizes["queue/logical_block_size"]),
        "hw_queues": len(queues) if has_mq else None,
    }


def block_devices(sysfs):
    """Disks the guest has, wherever they are (for "found instead" messages);
    not native NVMe multipath's hidden paths (``nvme0c0n1``: no /dev node, the
    disk is the subsystem's ``nvme0n1``; ``hidden`` reads 1 where the kernel has it)."""
    return [block_device(sysfs, name, {}) for name in sysfs.listdir(join("block"))
            if not re.match(r"^(loop|ram|zram|dm-|md|sr|fd|nvme[0-9]+c[0-9]+n[0-9]+$)", name)
            and sysfs.read(join("block", name, "hidden")) != "1"]


def serial_port(sysfs, name):
    """A ``ttyS*`` port: its UART type, I/O port and IRQ; ``unresolved`` says
    why its link could not be followed (it loops); ``unreadable`` lists
    the attributes whose read was refused (drivers/tty/serial/serial_core.c
    made them 0440 before Linux 5.7: only root reads them there)."""
    path = join("class", "tty", name)
    evidence, refused = {}, []
    real, unresolved = sysfs.resolve(path)
    exists = real is not None and sysfs.exists(real)
    values = sysfs.attributes(path, real, ("type", "port", "irq"), evidence, refused) if exists else {}
    if not exists:
        evidence[sysfs.shown(path)] = "not read: %s" % unresolved if unresolved else None
    kind, port = number(values.get("type")), values.get("port")
    return {
        "name": name, "path": path, "exists": exists, "unresolved": unresolved, "unreadable": refused, "type": kind,
        "uart": UART_TYPES.get(kind, "type %s" % kind) if kind is not None else None,
        "irq": number(values.get("irq")),
        "port": hex_id(port, 1) if port is not None else None,
        "evidence": evidence,
    }


def dmi(sysfs):
    """The SMBIOS strings the kernel exports (``/sys/class/dmi/id``)."""
    evidence = {}
    values = dict((name, sysfs.read(join("class", "dmi", "id", name), evidence))
                  for name in ("sys_vendor", "product_name", "bios_vendor"))
    values["evidence"] = evidence
    return values


def possible_cpus(sysfs, evidence=None):
    """``nr_cpu_ids``: the highest possible CPU number + 1, from
    ``devices/system/cpu/possible`` (``0-3``, ``0,2-5``); None when unreadable."""
    text = sysfs.read(join("devices", "system", "cpu", "possible"), evidence)
    highest = None
    for part in (text or "").split(","):
        bounds = [ascii_int(bound) for bound in part.strip().split("-")]
        # ascii_int: a bound thousands of digits long is unknown, not int()'s ValueError
        if None in bounds or len(bounds) > 2:
            return None
        highest = max(highest or 0, bounds[-1])
    return None if highest is None else highest + 1


def pci_msix(sysfs, path, evidence=None):
    """The MSI-X capability of the PCI function at ``path``, read from its
    configuration space (``config``; capability 0x11, include/uapi/linux/
    pci_regs.h): ``{"state": "read", "table_size", "enabled", "offset"}``,
    ``{"state": "absent"}`` (no MSI-X) or ``{"state": "unreadable", "error"}``.
    Without root the kernel returns only the first 64 bytes, before the
    capabilities (drivers/pci/pci-sysfs.c, pci_read_config)."""
    config = join(path, "config")
    data, error = sysfs.read_bytes(config, PCI_CONFIG_MAX)
    result = {"state": "unreadable", "error": error}
    if data is not None:
        result = _msix(data, sysfs.shown(config))
    if evidence is not None:
        evidence[sysfs.shown(config)] = dict(result, bytes=len(data) if data is not None else None)
    return result


def _msix(data, shown):
    if len(data) < PCI_CAPABILITY_LIST + 1:
        return {"state": "unreadable", "error": "%s: %d bytes, not a configuration space" % (shown, len(data))}
    if not data[PCI_STATUS] & PCI_STATUS_CAP_LIST:
        return {"state": "absent"}
    position = data[PCI_CAPABILITY_LIST] & 0xFC
    for dummy in range(PCI_FIND_CAP_TTL):
        if position < PCI_STD_HEADER_SIZEOF:
            return {"state": "absent"}
        if position + 4 > len(data):
            if len(data) <= PCI_STD_HEADER_SIZEOF and not privilege.is_root():
                return {"state": "unreadable", "error": privilege.unreadable(
                    shown, "only its first %d bytes: the MSI-X capability is beyond them" % len(data))}
            why = ("only %d bytes readable: reading the capabilities needs root" % len(data)
                   if len(data) <= PCI_STD_HEADER_SIZEOF else "capability at 0x%02x beyond its %d bytes"
                   % (position, len(data)))
            return {"state": "unreadable", "error": "%s: %s" % (shown, why)}
        if data[position] == 0xFF:  # drivers/pci/pci.c, __pci_find_next_cap_ttl: all ones ends the list
            return {"state": "absent"}
        if data[position] == PCI_CAP_ID_MSIX:
            flags = data[position + 2] | data[position + 3] << 8
            return {"state": "read", "offset": "0x%02x" % position,
                    "table_size": (flags & PCI_MSIX_FLAGS_QSIZE) + 1,
                    "enabled": bool(flags & PCI_MSIX_FLAGS_ENABLE)}
        position = data[position + 1] & 0xFC
    return {"state": "unreadable", "error": "%s: the capability list does not end" % shown}
