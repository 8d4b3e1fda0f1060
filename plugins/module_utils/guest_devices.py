# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The live half of the HW-* checks: does this guest have Compute Engine's
devices, bound to their drivers, with their features on?

Read from the guest's sysfs (``sysfs.py``): PCI functions (IDs, revision,
class, bound driver), virtio devices and their negotiated feature bits, the
NIC's offloads through the ethtool interface (``ethtool.py``), the SCSI
devices behind the controller with their sector sizes, the controller's
request queues, and the serial ports.  A missing device, bus or file is a
finding, never an error.

Request queues: blk-mq gives a disk ``min(queues the device offers, possible
CPUs)`` hardware queues (drivers/scsi/virtio_scsi.c, ``virtscsi_probe``), so
``/sys/block/sda/mq`` cannot tell one queue from two on a one-vCPU guest.
What the controller offers is read from its MSI-X table size instead: a
virtio PCI device has one vector for configuration changes and one per
virtqueue, and virtio-scsi's virtqueues are the control queue, the event
queue and the request queues (virtio 1.2, 5.6.2 "Virtqueues"; QEMU sizes the
table ``num_queues + VIRTIO_SCSI_VQ_NUM_FIXED + 1`` in
hw/virtio/virtio-scsi-pci.c, Linux asks ``VIRTIO_SCSI_VQ_BASE`` + queues
vectors).  Both numbers are reported; the device's is judged.
"""

from ansible_collections.guestready.gce.plugins.module_utils import ethtool, modalias, privilege, sysfs as reader
from ansible_collections.guestready.gce.plugins.module_utils.device_names import (
    QEMU_SUBSYSTEM, SCSI_LEVELS, describe, feature_bit, ident, number)
from ansible_collections.guestready.gce.plugins.module_utils.hardware_results import unique, verdict, worst

FIELD_LABELS = {"subsystem_vendor": "subsystem vendor", "subsystem_device": "subsystem ID",
                "revision": "revision", "class": "class"}
HARDWARE_DIFFERS = ("nothing in the image changes this: the virtual hardware differs from "
                    "Compute Engine's (waive the ID, with the reason, where that is expected, "
                    "e.g. a lab)")
# MSI-X vectors of a virtio-scsi controller that are not request queues:
# configuration changes, the control queue and the event queue
VIRTIO_SCSI_OTHER_VECTORS = 3
# The other physical block size a persistent disk can be created with (gcloud compute disks
# create --physical-block-size: 4096, the default, or 16384; API Disk.physicalBlockSizeBytes)
PD_LARGE_PHYSICAL_BLOCK = 16384
# PCI class and subclass of a chipset's own bridges: host, ISA, EISA, other (include/linux/pci_ids.h)
CHIPSET_BRIDGES = (0x0600, 0x0601, 0x0602, 0x0680)
# A modern-only virtio PCI device's ID is this plus its virtio device ID (include/uapi/linux/
# virtio_pci.h's 0x1040 base; drivers/virtio/virtio_pci_modern_dev.c, vp_modern_probe)
VIRTIO_MODERN_BASE = 0x1040


def same_driver(actual, names):
    """Is ``actual`` (the name a ``driver`` link points to) one of ``names``
    (``virtio-pci`` and ``virtio_pci`` alike)?"""
    return any(modalias.normalize_module(actual) == modalias.normalize_module(name) for name in names)


def sectors(block):
    """``4096/512``: a disk's physical/logical sector sizes, ``?`` for one unknown."""
    return "/".join("?" if size is None else str(size)
                    for size in (block["physical_block_size"], block["logical_block_size"]))


class NotJudged(object):
    """A live half that is not run, saying why in every result."""

    def __init__(self, reason):
        self.reason = reason

    def check(self, entry):
        return verdict("not-applicable", self.reason)

    def presents(self, entry):
        return False


class LiveCheck(object):
    """The devices of the guest whose sysfs is ``sysfs_root`` (a path or a Sysfs)."""

    def __init__(self, sysfs_root="/sys", offloads=None, platform=None):
        """``offloads(ifname)`` reads a NIC's offloads (``ethtool.OffloadReader``);
        ``platform``: the DMI strings already read (``sysfs.dmi``)."""
        self.sysfs = sysfs_root if isinstance(sysfs_root, reader.Sysfs) else reader.Sysfs(sysfs_root)
        self.offloads = offloads or ethtool.no_offload_reader("no ethtool interface given")
        bus = reader.join("bus", "pci", "devices")
        self.pci_bus = self.sysfs.isdir(bus)
        # why a bus/pci/devices that is there tells nothing (links that loop, not a directory)
        self.pci_bus_unknown = None
        if not self.pci_bus:
            real, self.pci_bus_unknown = self.sysfs.resolve(bus)
            if real is not None and self.sysfs.exists(real):
                self.pci_bus_unknown = "%s: not a directory" % self.sysfs.shown(bus)
        self.pci = reader.pci_devices(self.sysfs)
        self.virtio = reader.virtio_devices(self.sysfs)
        self.platform = platform or reader.dmi(self.sysfs)

    def summary(self):
        return {"sysfs_root": self.sysfs.root, "pci_bus": self.pci_bus,
                "platform": {"vendor": self.platform["sys_vendor"], "product": self.platform["product_name"]},
                "pci_devices": ["%s %s rev %s class %s%s" % (
                    d["slot"], ident(d["vendor"], d["device"]) if d["vendor"] else "?",
                    (d["revision"] or "0x?")[2:], (d["class"] or "0x?")[2:],
                    " driver %s" % d["driver"] if d["driver"] else "") for d in self.pci]}

    def _platform_note(self):
        vendor, product = self.platform["sys_vendor"], self.platform["product_name"]
        if vendor is None and product is None:
            return "platform unknown (no DMI in sysfs)"
        return "platform: %s %s" % (vendor or "?", product or "?")

    def check(self, entry):
        expected = entry["expected"]
        if "serial" in expected:
            return self._serial(expected["serial"])
        return self._pci(entry)

    def presents(self, entry):
        """Does this machine have a PCI function with the IDs ``entry`` expects?"""
        return bool(self._matching(entry["expected"]["pci"])) if "pci" in entry["expected"] else False

    # -- PCI devices -------------------------------------------------------

    def _instead(self, entry):
        """Functions of the same kind (class, or subclass for bridges), and the
        modern-only form of an expected virtio device whatever its class."""
        modern = self._modern(entry)
        found = [d for d in self.pci if modern and (number(d["vendor"]), number(d["device"])) == modern]
        wanted = number(entry.get("instead_class") or entry["expected"]["pci"].get("class"))
        if wanted is None:
            return found
        shift = 8 if wanted >> 16 == 0x06 else 16
        return [d for d in self.pci if d in found or d["class"] and number(d["class"]) >> shift == wanted >> shift]

    @staticmethod
    def _modern(entry):
        """``(vendor, device)`` of the modern-only (non-transitional) form of
        the expected virtio device, or None: device ID 0x1040 + the virtio
        device ID (virtio 1.2, 4.1.2.1 "Device Requirements: PCI Device Discovery")."""
        expected = entry["expected"]
        if "virtio" not in expected:
            return None
        return number(expected["pci"]["vendor"]), VIRTIO_MODERN_BASE + expected["virtio"]["device_id"]

    def _matching(self, pci):
        """The functions with the vendor and device ID of ``pci``."""
        want = (number(pci["vendor"]), number(pci["device"]))
        return [d for d in self.pci if (number(d["vendor"]), number(d["device"])) == want]

    def _pci(self, entry):
        expected = entry["expected"]
        evidence = {}
        if not self.pci_bus:
            unknown = self.pci_bus_unknown
            evidence[self.sysfs.shown(reader.join("bus", "pci", "devices"))] = "not read: %s" % unknown if unknown else None
            if unknown:
                return verdict("unknown", "PCI devices unknown (%s)" % unknown, evidence=evidence, devices=[])
            return verdict("fail", "no PCI bus in %s (%s)" % (self.sysfs.root, self._platform_note()),
                           [self._absent_remedy(entry)], evidence, devices=[])
        candidates = self._matching(expected["pci"])
        if not candidates:
            return self._replaced(entry, evidence) or self._undetermined(entry, evidence) or \
                self._absent(entry, evidence)
        # controllers with SCSI devices: an empty one beside them leaves no disk unjudged
        holders = [d["slot"] for d in candidates if "disks" in expected and any(
            reader.scsi_devices(self.sysfs, under=v["real"]) for v in self.virtio
            if v["real"] and v["parent"] == d["real"])]
        results = [self._candidate(entry, device, [slot for slot in holders if slot != device["slot"]])
                   for device in candidates]
        for result in results:
            evidence.update(result.pop("evidence"))
        remediation = unique(line for result in results for line in result.pop("remediation"))
        return verdict(worst([r["status"] for r in results]), "; ".join(r["message"] for r in results),
                       remediation, evidence, devices=results)

    def _undetermined(self, entry, evidence):
        """The unknown verdict of a machine where no function shows the
        expected IDs but one whose vendor or device ID is unreadable or not a
        number may be it (the other ID matches or is unknown too); None when
        there is none."""
        pci = entry["expected"]["pci"]
        pci = (number(pci["vendor"]), number(pci["device"]))
        found = {"unknowns": [], "remediation": [], "evidence": {}}
        for device in self.pci:
            ids = (number(device["vendor"]), number(device["device"]))
            if None not in ids or any(got is not None and got != want for got, want in zip(ids, pci)):
                continue
            found["evidence"].update(device["evidence"])
            for field, label in (("vendor", "vendor ID"), ("device", "device ID")):
                if device[field] is None:
                    self._unknown(found, reader.join(device["path"], field), "%s %s" % (device["slot"], label))
        if not found["unknowns"]:
            return None
        evidence.update(found["evidence"])
        return verdict("unknown", "no PCI function shows %s, but %s: it may be one" % (
            describe(*pci), "; ".join(found["unknowns"])), found["remediation"], evidence, devices=[])

    def _absent(self, entry, evidence):
        expected = entry["expected"]
        instead = self._instead(entry)
        for device in instead:
            evidence.update(device["evidence"])
        message = "no %s PCI device" % describe(expected["pci"]["vendor"], expected["pci"]["device"])
        remedy = self._absent_remedy(entry)
        bridges = []
        if not instead and (number(expected["pci"].get("class")) or 0) >> 16 == 0x06:
            # a chipset without this function (q35's ICH9 has no PIIX4 ACPI): name the one it has,
            # its host, ISA, EISA and "other" bridges (not the PCI-to-PCI bridges of every port)
            bridges = [d for d in self.pci if d["class"] and number(d["class"]) >> 8 in CHIPSET_BRIDGES]
            for device in bridges:
                evidence.update(device["evidence"])
        for label, devices in (("found instead", instead), ("the chipset's bridges", bridges)):
            if devices:
                message += "; %s: %s" % (label, ", ".join(
                    "%s %s%s" % (d["slot"], describe(d["vendor"], d["device"]),
                                 " (driver %s)" % d["driver"] if d["driver"] else "") for d in devices))
        modern = [d for d in instead if (number(d["vendor"]), number(d["device"])) == self._modern(entry)]
        if modern:
            remedy = ("%s %s the modern-only (non-transitional) form of the device; Compute Engine presents the "
                      "transitional %s (QEMU makes a virtio device modern-only with disable-legacy=on, the default "
                      "on a PCI Express port such as a q35 machine's pcie-root-port): %s" % (
                          ", ".join(d["slot"] for d in modern), "is" if len(modern) == 1 else "are",
                          describe(expected["pci"]["vendor"], expected["pci"]["device"]), HARDWARE_DIFFERS))
        if "disks" in expected:
            others = reader.block_devices(self.sysfs)
            if others:
                message += "; disks: %s" % ", ".join(
                    "%s %s on %s" % (b["name"], sectors(b), b["pci_slot"] or "?") for b in others)
        message += " (%s)" % self._platform_note()
        evidence.update(self.platform["evidence"])
        return verdict("fail", message, [remedy], evidence,
                       devices=[], instead=[self._device_summary(d) for d in instead])

    def _replaced(self, entry, evidence):
        """The not-applicable verdict of a machine that has, instead of the
        expected device, the Google device that replaces it on its machine
        series (the catalogue's ``replaced_by``); None when it has not."""
        replaced_by = entry.get("replaced_by")
        found = self._matching(replaced_by["pci"]) if replaced_by else []
        if not found:
            return None
        expected = entry["expected"]
        for device in found:
            evidence.update(device["evidence"])
        evidence.update(self.platform["evidence"])
        what = ", ".join("%s %s, %s" % (d["slot"], describe(d["vendor"], d["device"]),
                                        "driver %s" % d["driver"] if d["driver"] else "no driver bound")
                         for d in found)
        if "disks" in expected:
            # with native NVMe multipath the namespace lives under devices/virtual/nvme-subsystem,
            # not under its controller's PCI function
            slots = set(d["slot"] for d in found)
            disks = [b for b in reader.block_devices(self.sysfs)
                     if b["pci_slot"] in slots or (b["pci_slot"] is None and b["name"].startswith("nvme"))]
            if disks:
                what += ", disks %s" % ", ".join("%s (%s)" % (b["name"], sectors(b)) for b in disks)
        driver = expected["virtio"]["driver"] if "virtio" in expected else expected["driver"]
        message = "no %s PCI device: this machine's %s (%s)%s; the kernel's %s driver is judged offline (%s)" % (
            describe(expected["pci"]["vendor"], expected["pci"]["device"]), replaced_by["what"], what,
            ", which %s checks" % replaced_by["judged_by"] if replaced_by["judged_by"] else "", driver,
            self._platform_note())
        return verdict("not-applicable", message, evidence=evidence, devices=[],
                       instead=[self._device_summary(d) for d in found])

    @staticmethod
    def _device_summary(device):
        return dict((k, device[k]) for k in ("slot",) + reader.PCI_ATTRIBUTES + ("driver",))

    def _absent_remedy(self, entry):
        """What to do about an absent device; the machine may be a Compute
        Engine VM of another series or not one at all (a lab's DMI says Google
        too), so it is not told which."""
        rid = entry["id"]
        if rid == "HW-NET-GVNIC":
            return ("gVNIC is the NIC of Compute Engine's Arm machines (Tau T2A): judge the devices on "
                    "one, or only the kernel (mode: offline)")
        if rid in ("HW-PCI-PIIX4-ACPI", "HW-ISA-PIIX4"):
            return HARDWARE_DIFFERS
        return ("%s is the device of the Compute Engine machine series that use it: judge the devices on "
                "such a machine, or only the kernel (mode: offline)"
                % describe(entry["expected"]["pci"]["vendor"], entry["expected"]["pci"]["device"]))

    def _why(self, evidence, path, kind="a number"):
        """Why the attribute at ``path`` (inside the root) tells nothing, from
        the value ``evidence`` recorded for it: absent, not read, or not ``kind``."""
        shown = self.sysfs.shown(path)
        value = evidence.get(shown)
        if value is None:
            return "%s: absent" % shown
        if value.startswith("not read: "):
            return value[len("not read: "):]
        return "%s: %r is not %s" % (shown, value, kind)

    def _unknown(self, found, path, what, kind="a number"):
        """Record that ``what`` (the attribute at ``path``, inside the root) is
        unknown, and why: absent, not read, or not ``kind`` (its evidence
        says which); nothing is judged from it."""
        why = self._why(found["evidence"], path, kind)
        found["unknowns"].append("%s unknown (%s)" % (what, why))
        if privilege.needs_root(why) and privilege.BECOME not in found["remediation"]:
            found["remediation"].append(privilege.BECOME)

    def _candidate(self, entry, device, holders=()):
        """``holders``: the other candidates' slots with SCSI devices behind them."""
        expected = entry["expected"]
        pci = expected["pci"]
        found = {"problems": [], "unknowns": [], "notes": [], "remediation": [],
                 "evidence": dict(device["evidence"]), "info": self._device_summary(device)}
        for field in ("subsystem_vendor", "subsystem_device", "revision", "class"):
            if field in pci and device[field] is None:
                self._unknown(found, reader.join(device["path"], field), FIELD_LABELS[field])
            elif field in pci and number(device[field]) != number(pci[field]):
                text = "%s %s, expected %s" % (FIELD_LABELS[field], device[field], pci[field])
                if field == "revision" and (number(device["subsystem_vendor"]),
                                            number(device["subsystem_device"])) == QEMU_SUBSYSTEM:
                    text += (" (subsystem 1af4:1100 marks QEMU's emulated chipset: "
                             "QEMU's model reports this revision)")
                found["problems"].append(text)
                if HARDWARE_DIFFERS not in found["remediation"]:
                    found["remediation"].append(HARDWARE_DIFFERS)
        if expected.get("driver"):
            if device["driver_unknown"]:
                found["unknowns"].append("driver unknown (%s)" % device["driver_unknown"])
            elif device["driver"] is None:
                found["problems"].append("no driver bound (%s expected)" % expected["driver"])
                found["remediation"].append("load %s (modprobe %s) and make sure it loads at boot" % (
                    expected["driver"], modalias.normalize_module(expected["driver"])))
            elif not same_driver(device["driver"], expected.get("bound_as") or [expected["driver"]]):
                found["problems"].append("bound to %s, expected %s" % (device["driver"], expected["driver"]))
                found["remediation"].append("unbind %s and let %s drive the device" % (
                    device["driver"], expected["driver"]))
            elif not same_driver(device["driver"], [expected["driver"]]):
                found["notes"].append("bound as %s: %s's name on the PCI bus in older kernels" % (
                    device["driver"], expected["driver"]))
        elif device["driver"]:
            found["notes"].append("bound to %s" % device["driver"])
        child = self._virtio(expected, device, found) if "virtio" in expected else None
        if "offloads" in expected and child is not None:
            self._offloads(expected, child, found)
        if "disks" in expected and child is not None:
            self._disks(expected["disks"], device, child, found, holders)
        label = "%s %s" % (device["slot"], describe(device["vendor"], device["device"]))
        if found["problems"]:
            status, text = "fail", "; ".join(found["problems"])
        elif found["unknowns"]:
            status, text = "unknown", "; ".join(found["unknowns"])
        else:
            status = "pass"
            text = "as expected" + (" (%s)" % ", ".join(found["notes"]) if found["notes"] else "")
        info = found["info"]
        info.update(status=status, message="%s: %s" % (label, text), remediation=found["remediation"],
                    evidence=found["evidence"], problems=found["problems"], unknowns=found["unknowns"])
        return info

    def _virtio(self, expected, device, found):
        want = expected["virtio"]
        problems = found["problems"]
        children = [v for v in self.virtio if v["parent"] and v["parent"] == device["real"]]
        if not children:
            unresolved = [v for v in self.virtio if v["unresolved"]]
            for child in unresolved:  # any of them may be this function's
                found["evidence"].update(child["evidence"])
                found["unknowns"].append("virtio device %s unknown (%s)" % (child["name"], child["unresolved"]))
            if device["driver"] is not None and not unresolved:
                problems.append("no virtio device under it")
            return None
        child = children[0]
        found["evidence"].update(child["evidence"])
        found["info"]["virtio"] = dict((k, child[k]) for k in ("name", "device_id", "driver", "features",
                                                               "interfaces"))
        if child["device_id"] is None:
            self._unknown(found, reader.join(child["path"], "device"), "virtio device ID")
        elif child["device_id"] != want["device_id"]:
            problems.append("%s is virtio device %s, expected %s" % (
                child["name"], child["device_id"], want["device_id"]))
        if child["driver_unknown"]:
            found["unknowns"].append("%s driver unknown (%s)" % (child["name"], child["driver_unknown"]))
        elif child["driver"] is None:
            problems.append("%s has no driver bound (%s expected)" % (child["name"], want["driver"]))
            found["remediation"].append("load %s (modprobe %s) and make sure it loads at boot"
                                        % (want["driver"], want["driver"]))
        elif not same_driver(child["driver"], [want["driver"]]):
            problems.append("%s bound to %s, expected %s" % (child["name"], child["driver"], want["driver"]))
        if child["driver"] is None:
            # sysfs "features" shows what a driver negotiated (drivers/virtio/virtio.c: virtio_dev_probe
            # sets dev->features, features_show prints them): all 0 before one binds, which says
            # nothing of what the device offers; nor is there an interface or a disk to judge
            if not child["driver_unknown"]:
                problems.append("%s features not judged: they are negotiated when %s binds" % (
                    child["name"], want["driver"]))
            return None
        if child["device_id"] is None:
            return child  # its feature bits' names depend on the device type
        if child["features"] is None:
            self._unknown(found, reader.join(child["path"], "features"), "%s features" % child["name"],
                          kind="a bit string")
            return child
        # a string too short to hold a bit says nothing of it (the kernel prints 32, 64 or 128 bits)
        shown = len(child["features_bits"].strip())
        unshown = [f for f in want.get("features", []) if (feature_bit(f, child["device_id"]) or 0) >= shown]
        if unshown:
            found["unknowns"].append("%s feature%s %s unknown (%s shows %d bits, none for bit %s)" % (
                child["name"], "s" if len(unshown) > 1 else "", ", ".join(unshown),
                self.sysfs.shown(reader.join(child["path"], "features")), shown,
                ", ".join(str(feature_bit(f, child["device_id"])) for f in unshown)))
        missing = [f for f in want.get("features", []) if f not in child["features"] and f not in unshown]
        found["info"]["missing_features"] = missing
        if unshown and not missing:
            return child
        if not missing:
            found["notes"].append("features %s on" % ", ".join(want.get("features", [])))
            return child
        text = "%s feature%s off: %s" % (child["name"], "s" if len(missing) > 1 else "", ", ".join(missing))
        if set(missing) & set(("CSUM", "HOST_TSO4")):
            text += (" (the host side offers no checksum/TSO offload to the guest: "
                     "QEMU's user-mode networking (slirp) backend does this; Compute Engine offers them)")
            found["remediation"].append("these bits are negotiated with the hypervisor: on Compute "
                                        "Engine they are offered; elsewhere give the NIC a backend "
                                        "with offloads (e.g. tap with vnet_hdr)")
        else:
            found["remediation"].append("the device does not offer %s: %s" % (
                ", ".join(missing), HARDWARE_DIFFERS))
        problems.append(text)
        return child

    def _offloads(self, expected, child, found):
        interfaces = child["interfaces"]
        if not interfaces:
            found["problems"].append("%s has no network interface (is virtio_net bound?)" % child["name"])
            return
        ifname = interfaces[0]
        result = self.offloads(ifname)
        label = "offloads of %s (%s)" % (ifname, result.get("method") or "ethtool interface")
        found["evidence"][label] = result.get("raw") or result.get("values") or result.get("error")
        found["info"]["interface"] = ifname
        found["info"]["offloads"] = result.get("values")
        if result.get("values") is None:
            found["unknowns"].append("offloads of %s unreadable: %s" % (ifname, result.get("error")))
            return
        unread = [name for name in expected["offloads"] if name not in result["values"]]
        if unread:
            found["unknowns"].append("%s: %s unknown (%s)" % (
                ifname, ", ".join(unread), result.get("error") or "%s does not show %s" % (
                    result.get("method") or "the ethtool interface", "them" if len(unread) > 1 else "it")))
        off = [name for name in expected["offloads"] if name in result["values"] and not result["values"][name]]
        if off:
            by, raw = result.get("by") or {}, result.get("raw") or {}
            # a line that reads "on" with its IPv4 features off (TSO6 on, tx-tcp-segmentation off)
            found["problems"].append("%s: %s off" % (ifname, ", ".join(
                "%s for IPv4 (%s)" % (name, ", ".join(by[name])) if raw.get(name) == "on" and by.get(name)
                else name for name in off)))
            found["remediation"].append(
                "turn them on: ethtool -K %s %s (persist it in the network configuration); if the "
                "device refuses, its virtio features above say why" % (
                    ifname, " ".join(ethtool.ENABLE_WORDS[n] for n in off)))
        elif not unread:
            found["notes"].append("%s: %s on" % (ifname, ", ".join(expected["offloads"])))

    # -- disks and request queues --------------------------------------------

    def _disks(self, want, controller, child, found, holders=()):
        devices = reader.scsi_devices(self.sysfs, under=child["real"])
        found["info"]["scsi_devices"] = []
        problems, remediation = found["problems"], found["remediation"]
        before = len(problems)
        queues = self._queues(controller, found)
        for device in devices:
            found["evidence"].update(device["evidence"])
            if device["unresolved"]:
                found["unknowns"].append("SCSI device %s unknown (%s)" % (device["address"], device["unresolved"]))
                continue
            keys = ("address", "type_name", "scsi_level", "scsi_version", "vendor", "model")
            summary = dict((k, device[k]) for k in keys)
            summary["block"] = device["block"]
            found["info"]["scsi_devices"].append(summary)
            address = device["address"]
            if device["type"] is None:
                self._unknown(found, reader.join(device["path"], "type"), "%s SCSI type" % address)
                continue
            if device["type_name"] not in want["device_types"]:
                problems.append("%s is a %s (SCSI type %s), only %s expected" % (
                    address, device["type_name"], device["type"], "/".join(want["device_types"])))
                remediation.append("detach the %s from the controller (Compute Engine attaches "
                                   "only disks)" % device["type_name"])
                continue
            if device["scsi_level"] is None:
                self._unknown(found, reader.join(device["path"], "scsi_level"), "%s SCSI level" % address)
            elif device["scsi_level"] < want["min_scsi_level"]:
                problems.append("%s reports scsi_level %s (%s), expected %s (%s) or newer%s" % (
                    address, device["scsi_level"], device["scsi_version"], want["min_scsi_level"],
                    SCSI_LEVELS.get(want["min_scsi_level"]),
                    " (QEMU's scsi-hd implements SPC-3)" if device["scsi_level"] == 6
                    and (device["model"] or "").startswith(("QEMU", "PersistentDisk")) else ""))
                remediation.append(HARDWARE_DIFFERS)
            for block in device["block"]:
                sizes = (block["physical_block_size"], block["logical_block_size"])
                for size, label in zip(sizes, ("physical", "logical")):
                    if size is None:
                        self._unknown(found, reader.join(block["path"], "queue", label + "_block_size"),
                                      "%s %s sector size" % (block["name"], label))
                if None not in sizes and sizes != (want["physical_block_size"], want["logical_block_size"]):
                    problems.append("%s sectors %s/%s (physical/logical), expected %s/%s" % (
                        block["name"], sizes[0], sizes[1], want["physical_block_size"],
                        want["logical_block_size"]))
                    if sizes == (PD_LARGE_PHYSICAL_BLOCK, want["logical_block_size"]):
                        remediation.append(
                            "%s is a persistent disk created with --physical-block-size=%d instead of the "
                            "default, %d: nothing in the image changes this; judge a disk created with the "
                            "default, or waive the ID for this machine with the reason" % (
                                block["name"], sizes[0], want["physical_block_size"]))
                    else:
                        remediation.append("use a Compute Engine persistent disk (%s/%s); %s" % (
                            want["physical_block_size"], want["logical_block_size"], HARDWARE_DIFFERS))
                queues["blk_mq"][block["name"]] = block["hw_queues"]
            if not device["block"] and device["driver"] is None and not device["driver_unknown"]:
                # sd (module sd_mod, CONFIG_BLK_DEV_SD) makes a SCSI disk a block device; only
                # sg, if anything, has it without one
                found["unknowns"].append("%s has no block device: no driver bound to it (sd expected: "
                                         "without sd_mod the disk is not usable)" % address)
                found["remediation"].append("load sd_mod (modprobe sd_mod) and make sure it loads at boot")
            elif not device["block"]:
                found["unknowns"].append("%s has no block device%s" % (
                    address, " (driver %s; being removed?)" % device["driver"] if device["driver"] else ""))
        self._judge_queues(want["request_queues"], queues, found)
        if not devices and holders:
            if len(problems) == before:
                found["notes"].append("no SCSI device behind it (the disks are behind %s), %s" % (
                    ", ".join(holders), queues["summary"]))
        elif not devices:
            found["unknowns"].append("no SCSI device behind the controller: nothing to check the disk "
                                     "requirements on")
        elif len(problems) == before:
            found["notes"].append("%d disk(s) %s/%s, %s, SCSI level >= %s" % (
                len(devices), want["physical_block_size"], want["logical_block_size"],
                queues["summary"], want["min_scsi_level"]))

    def _queues(self, controller, found):
        """What tells the request queues: the controller's MSI-X table, and
        the possible CPUs that cap blk-mq (``blk_mq`` is filled per disk)."""
        msix = reader.pci_msix(self.sysfs, controller["path"], found["evidence"])
        queues = {"device": None, "msix": msix, "possible_cpus": reader.possible_cpus(self.sysfs, found["evidence"]),
                  "blk_mq": {}}
        if msix["state"] == "read" and msix["table_size"] > VIRTIO_SCSI_OTHER_VECTORS:
            queues["device"] = msix["table_size"] - VIRTIO_SCSI_OTHER_VECTORS
        elif msix["state"] == "read":
            queues["why"] = "an MSI-X table of %d vectors is too small for a virtio-scsi controller" % (
                msix["table_size"])
        else:
            queues["why"] = msix.get("error") or "the controller has no MSI-X capability"
        found["info"]["request_queues"] = queues
        return queues

    def _judge_queues(self, wanted, queues, found):
        """The controller's count against ``wanted``; blk-mq's counts are
        reported with it, and judged only when the controller's is unknown,
        and only as far as they tell (blk-mq uses min(queues, CPUs))."""
        offered, cpus, msix = queues["device"], queues["possible_cpus"], queues["msix"]
        used = ", ".join("%s %s" % (name, "unknown" if count is None else count)
                         for name, count in sorted(queues["blk_mq"].items()))
        capped = "blk-mq hardware queues: %s (at most one per possible CPU: %s)" % (
            used or "no disk", cpus if cpus is not None else "unknown")
        remedy = ("Compute Engine's controller has %d request queue%s: give the controller "
                  "num_queues=%d; %s" % (wanted, "" if wanted == 1 else "s", wanted, HARDWARE_DIFFERS))
        queues["summary"] = "%d request queue%s" % (wanted, "" if wanted == 1 else "s")
        if offered is not None:
            queues["summary"] += " (MSI-X table of %d vectors)" % msix["table_size"]
            if offered != wanted:
                found["problems"].append(
                    "the controller offers %d request queues, expected %d (MSI-X table of %d vectors "
                    "at %s: %d minus configuration, control and event); %s" % (
                        offered, wanted, msix["table_size"], msix["offset"], msix["table_size"], capped))
                found["remediation"].append(remedy)
            return
        for name, count in sorted(queues["blk_mq"].items()):
            if count is None:
                found["unknowns"].append("%s has no mq directory (not a blk-mq device?)" % name)
            elif count != wanted:
                found["problems"].append("%s has %s hardware queues, expected %s (one request queue)" % (
                    name, count, wanted))
                found["remediation"].append(remedy)
            elif cpus is None or cpus <= count:
                found["unknowns"].append(
                    "%s has %d hardware queue%s, but blk-mq uses at most one per possible CPU (%s) and "
                    "the controller's own count is unreadable (%s): it may offer more" % (
                        name, count, "" if count == 1 else "s", "%d" % cpus if cpus is not None else "unknown", queues["why"]))
                if privilege.needs_root(queues["why"]) and privilege.BECOME not in found["remediation"]:
                    found["remediation"].append(privilege.BECOME)

    # -- serial ------------------------------------------------------------

    def _serial(self, want):
        evidence, problems, remediation, ports, refused, unknowns = {}, [], [], [], [], []
        absent = differs = False
        for name in sorted(want["ports"]):
            expected = want["ports"][name]
            port = reader.serial_port(self.sysfs, name)
            evidence.update(port.pop("evidence"))
            ports.append(port)
            if not port["exists"] and port["unresolved"]:
                unknowns.append("%s unknown (%s)" % (name, port["unresolved"]))
                continue
            if not port["exists"]:
                problems.append("%s absent" % name)
                absent = True
                continue
            if port["unreadable"]:
                refused.extend(port["unreadable"])
                continue  # unreadable is not absent: nothing is judged from the rest
            found = []
            kind = evidence.get(self.sysfs.shown(reader.join(port["path"], "type")))
            if port["uart"] is None and kind is not None and kind.startswith("not read: "):
                unknowns.append("%s UART type unknown (%s)" % (name, kind[len("not read: "):]))
                continue
            if port["uart"] is None:
                found.append("%s shows no UART type (%s: absent or not a number), expected %s" % (
                    name, self.sysfs.shown(reader.join(port["path"], "type")), want["uart"]))
            elif port["uart"] != want["uart"]:
                # PORT_UNKNOWN (0): the 8250 driver's probe found no UART at the port; any other
                # type is a UART of another model there (16550: one whose FIFO does not work)
                found.append("%s is uart:%s, expected %s (%s at %s)" % (
                    name, port["uart"], want["uart"], "no UART" if port["type"] == 0 else "a UART of another model",
                    port["port"] or expected["port"]))
            else:  # the IRQ and I/O port of a port without a UART mean nothing
                if port["irq"] is None:
                    unknowns.append("%s IRQ unknown (%s)" % (
                        name, self._why(evidence, reader.join(port["path"], "irq"))))
                elif port["irq"] != expected["irq"]:
                    found.append("%s on IRQ %s, expected %s" % (name, port["irq"], expected["irq"]))
                if port["port"] is None:
                    unknowns.append("%s I/O port unknown (%s)" % (
                        name, self._why(evidence, reader.join(port["path"], "port"))))
                elif number(port["port"]) != number(expected["port"]):
                    found.append("%s at I/O port %s, expected %s" % (name, port["port"], expected["port"]))
            problems.extend(found)
            differs = differs or bool(found)
        unread = None
        if refused:  # every path is in the evidence; the message names the first
            more = " (and %d more ttyS* attribute%s)" % (len(refused) - 1, "" if len(refused) == 2 else "s")
            unread = privilege.unreadable(refused[0] + (more if len(refused) > 1 else ""),
                                          "UART type, I/O port and IRQ unknown; before Linux 5.7 "
                                          "only root may read them")
        if absent:
            remediation.append("ports missing from sysfs: the kernel registers fewer than four "
                               "(8250.nr_uarts / CONFIG_SERIAL_8250_RUNTIME_UARTS below 4) or "
                               "has no 8250 driver")
        if differs:
            remediation.append("the machine lacks Compute Engine's four 16550A ports: %s" % HARDWARE_DIFFERS)
        if unread and privilege.needs_root(unread):
            remediation.append(privilege.BECOME)
        if problems:
            message = "; ".join(problems + unknowns + ([unread] if unread else [])) + " (%s)" % self._platform_note()
            return verdict("fail", message, remediation, evidence, ports=ports)
        if unread or unknowns:
            return verdict("unknown", "; ".join(unknowns + ([unread] if unread else [])), remediation, evidence,
                           ports=ports)
        return verdict("pass", "%s: %s at IRQ %s" % (
            ", ".join(p["name"] for p in ports), want["uart"],
            "/".join(str(p["irq"]) for p in ports)), evidence=evidence, ports=ports)
