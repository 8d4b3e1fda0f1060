"""The HW-* engine on fake sysfs and /lib/modules trees.

Captured trees (tests/fixtures/sysfs/README.md): ``gce-user`` and ``gce-tap``
(the lab's Compute Engine profile, user-mode and tap networking),
``noncompliant-user`` (e1000, IDE 512/512, one serial port) and ``buildhost``
(the machine the suite was written on: not Compute Engine at all).  Every
failure mode is a small edit of a captured tree."""

import os
import shutil

import pytest

from ansible_collections.guestready.gce.plugins.module_utils import (
    device_names, guest_devices, hardware_results, imageworker, initramfs, kernel_drivers, privilege)
from ansible_collections.guestready.gce.plugins.module_utils.catalogue import BY_ID, requirements
from ansible_collections.guestready.gce.plugins.module_utils.target import Target
import trees
import fakesys

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures")
CLOUD, GENERIC = "6.1.0-50-cloud-amd64", "6.1.0-50-amd64"
NET = "bus/pci/devices/0000:00:04.0"
SCSI = "bus/pci/devices/0000:00:03.0"
DISK = "bus/scsi/devices/0:0:1:0"
HW = requirements("hardware")


@pytest.fixture
def initramfs_of(monkeypatch):
    """Make the shared initramfs reader answer with a given module set."""
    def install(modules=None, error=None, found=True):
        monkeypatch.setattr(initramfs, "find_initramfs",
                            lambda release, root="/": "/boot/initrd.img-%s" % release if found else None)
        monkeypatch.setattr(initramfs, "kernel_modules",
                            lambda path, target=None, release=None: (None if error else set(modules), "fixture", error))
    return install


def live(tmp_path, manifest, offloads=True):
    if isinstance(manifest, str):
        manifest = fakesys.Manifest.load(manifest)
    root = manifest.build(str(tmp_path / "sys"))
    reader = manifest.offload_reader() if offloads else None
    return guest_devices.LiveCheck(root, offloads=reader)


def offline(tmp_path, release=CLOUD, **install):
    root = str(tmp_path / "root")
    path = trees.install(root, release, **install)
    return kernel_drivers.OfflineCheck("/" + os.path.relpath(path, root), root=root)


def by_id(results):
    return dict((r["id"], r) for r in results)


def statuses(results):
    return dict((r["id"], r["status"]) for r in results)


# -- names ----------------------------------------------------------------

def test_feature_bits_decoded_bit_zero_first():
    tap = fakesys.Manifest.load("gce-tap")
    net = device_names.decode_features(tap.get(NET + "/virtio1/features"), 1)
    assert {"CSUM", "GUEST_CSUM", "HOST_TSO4", "GUEST_TSO4", "VERSION_1", "MAC"} <= set(net)
    assert "HOST_TSO6" not in net  # the lab switches it off, as Compute Engine does
    scsi = device_names.decode_features(tap.get(SCSI + "/virtio0/features"), 8)
    assert scsi[:2] == ["HOTPLUG", "CHANGE"] and "INOUT" not in scsi
    assert device_names.decode_features("0001" + "0" * 41 + "1", 99) == ["BIT_3", "BIT_45"]
    assert device_names.decode_features("1111", 8) == ["INOUT", "HOTPLUG", "CHANGE", "T10_PI"]


def test_scsi_level_names_follow_the_kernel():
    """include/scsi/scsi.h: SCSI_SPC_6 is 14 (version 0x0d + 1), no level 9."""
    assert device_names.SCSI_LEVELS[14] == "SPC-6" and 9 not in device_names.SCSI_LEVELS


def test_worst_status():
    assert hardware_results.worst(["pass", "module-in-initramfs"]) == "module-in-initramfs"
    assert hardware_results.worst(["module-in-initramfs", "unknown"]) == "unknown"
    assert hardware_results.worst(["unknown", "module-missing-from-initramfs"]) == "module-missing-from-initramfs"
    assert hardware_results.worst(["fail", "module-missing-from-initramfs"]) == "fail"
    assert hardware_results.worst(["not-applicable", "pass"]) == "pass"
    assert hardware_results.worst(["not-applicable"]) == hardware_results.worst([]) == "not-applicable"


# -- captured guests ------------------------------------------------------

def test_gce_tap_guest(tmp_path, initramfs_of):
    initramfs_of(trees.initramfs_modules(CLOUD))
    results = hardware_results.assess(HW, {}, "x86_64", offline=offline(tmp_path), live=live(tmp_path, "gce-tap"))
    assert statuses(results) == {
        "HW-PCI-PIIX4-ACPI": "pass",
        "HW-ISA-PIIX4": "fail",          # lab gap: QEMU's PIIX4 ISA is revision 00
        "HW-NET-VIRTIO": "module-in-initramfs",
        "HW-NET-GVNIC": "not-applicable",
        "HW-SCSI-VIRTIO": "fail",        # lab gap: QEMU's scsi-hd is SPC-3
        "HW-SERIAL": "pass",
    }
    result = by_id(results)
    assert "revision 0x00, expected 0x03" in result["HW-ISA-PIIX4"]["message"]
    assert "QEMU" in result["HW-ISA-PIIX4"]["message"]
    assert "scsi_level 6 (SPC-3), expected 7 (SPC-4)" in result["HW-SCSI-VIRTIO"]["message"]
    net = result["HW-NET-VIRTIO"]
    assert net["offline"]["status"] == "module-in-initramfs" and net["live"]["status"] == "pass"
    assert "ens4: tx-checksumming, tcp-segmentation-offload, generic-receive-offload on" in net["message"]
    assert net["live"]["devices"][0]["offloads"] == {
        "tx-checksumming": True, "tcp-segmentation-offload": True, "generic-receive-offload": True}
    hops = [(d["hop"], d["driver"], d["kind"], d["initramfs"]) for d in net["offline"]["drivers"]]
    assert hops == [("pci", "virtio_pci", "module", "present"), ("virtio", "virtio_net", "module", "present")]
    assert any(line.endswith("alias virtio:d00000001v* virtio_net") for line in net["evidence"]["offline"]["alias_lines"])
    live_evidence = net["evidence"]["live"]
    assert live_evidence[str(tmp_path / "sys" / NET / "subsystem_device")] == "0x0001"
    assert live_evidence[str(tmp_path / "sys" / "bus/virtio/devices/virtio1/features")].startswith("1110")
    serial = result["HW-SERIAL"]
    assert serial["actual"]["ports"]["ttyS2"] == {"uart": "16550A", "irq": 6, "port": "0x3e8"}
    assert serial["offline"]["drivers"][0]["kind"] == "built-in"


def test_gce_user_guest_names_the_slirp_gap(tmp_path):
    results = by_id(hardware_results.assess(HW, {}, "x86_64", live=live(tmp_path, "gce-user")))
    net = results["HW-NET-VIRTIO"]
    assert net["status"] == "fail" and net["offline"] is None
    assert "virtio1 features off: CSUM, GUEST_CSUM, HOST_TSO4, GUEST_TSO4" in net["message"]
    assert "user-mode networking (slirp)" in net["message"]
    assert "ens4: tx-checksumming, tcp-segmentation-offload off" in net["message"]
    assert "ethtool -K ens4 tx on tso on" in net["remediation"]
    assert results["HW-SCSI-VIRTIO"]["live"]["devices"][0]["scsi_devices"][0]["model"] == "PersistentDisk"


def test_noncompliant_guest(tmp_path, initramfs_of):
    initramfs_of(trees.initramfs_modules(GENERIC))
    results = hardware_results.assess(HW, {}, "x86_64", offline=offline(tmp_path, GENERIC),
                                      live=live(tmp_path, "noncompliant-user"))
    assert statuses(results) == {
        "HW-PCI-PIIX4-ACPI": "pass", "HW-ISA-PIIX4": "fail", "HW-NET-VIRTIO": "fail",
        "HW-NET-GVNIC": "not-applicable", "HW-SCSI-VIRTIO": "fail", "HW-SERIAL": "fail"}
    result = by_id(results)
    assert "found instead: 0000:00:01.0 8086:7000 Intel 82371SB PIIX3 ISA bridge" in result["HW-ISA-PIIX4"]["message"]
    assert "found instead: 0000:00:02.0 8086:100e Intel 82540EM Gigabit Ethernet (e1000) (driver e1000)" \
        in result["HW-NET-VIRTIO"]["message"]
    assert result["HW-NET-VIRTIO"]["offline"]["status"] == "module-in-initramfs"  # the kernel is fine
    scsi = result["HW-SCSI-VIRTIO"]["message"]
    assert "8086:7010 Intel 82371SB PIIX3 IDE (driver ata_piix)" in scsi and "sda 512/512" in scsi
    serial = result["HW-SERIAL"]["message"]
    assert "ttyS1 is uart:unknown, expected 16550A" in serial and "ttyS0" not in serial
    assert "platform: QEMU Standard PC (i440FX + PIIX, 1996)" in serial
    # the generic kernel's i2c_piix4 matches 8086:7113, which requires no driver
    assert "i2c_piix4 (module) also matches" in result["HW-PCI-PIIX4-ACPI"]["offline"]["message"]
    assert result["HW-PCI-PIIX4-ACPI"]["offline"]["status"] == "not-applicable"


def test_outside_compute_engine_is_a_result(tmp_path):
    results = by_id(hardware_results.assess(HW, {}, "x86_64", live=live(tmp_path, "buildhost")))
    assert "found instead: 0000:00:03.0 1af4:1041 virtio-net (modern only)" in results["HW-NET-VIRTIO"]["message"]
    assert "virtio-blk (modern only)" in results["HW-SCSI-VIRTIO"]["message"]
    assert "ttyS1 absent" in results["HW-SERIAL"]["message"]
    assert "platform unknown (no DMI in sysfs)" in results["HW-SERIAL"]["message"]


def test_no_sysfs_at_all(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    results = by_id(hardware_results.assess(HW, {}, "x86_64", live=guest_devices.LiveCheck(str(empty))))
    assert results["HW-NET-VIRTIO"]["status"] == "fail"
    assert results["HW-NET-VIRTIO"]["message"].startswith("live: no PCI bus in %s" % empty)
    assert results["HW-SERIAL"]["message"].startswith("live: ttyS0 absent; ttyS1 absent")


# -- hand-made failure modes: PCI ---------------------------------------------

def tap():
    return fakesys.Manifest.load("gce-tap")


def net_result(tmp_path, manifest, **kwargs):
    return by_id(hardware_results.assess(HW, {}, "x86_64", live=live(tmp_path, manifest, **kwargs)))["HW-NET-VIRTIO"]


def test_wrong_subsystem_id(tmp_path):
    result = net_result(tmp_path, tap().set(NET + "/subsystem_device", "0x0002"))
    assert result["status"] == "fail"
    assert "subsystem ID 0x0002, expected 0x0001" in result["message"]


def test_wrong_class(tmp_path):
    result = net_result(tmp_path, tap().set(NET + "/class", "0x028000"))
    assert "class 0x028000, expected 0x020000" in result["message"]


def test_missing_device(tmp_path):
    result = net_result(tmp_path, tap().remove(NET))
    assert result["status"] == "fail" and result["live"]["devices"] == []
    assert "no 1af4:1000 virtio-net (transitional) PCI device" in result["message"]
    assert "platform: Google Google Compute Engine" in result["message"]
    assert result["remediation"] == (
        "1af4:1000 virtio-net (transitional) is the device of the Compute Engine machine series that use it: "
        "judge the devices on such a machine, or only the kernel (mode: offline)")


def test_driver_unbound(tmp_path):
    manifest = tap().remove(NET + "/driver").remove("bus/virtio/devices/virtio1")
    result = net_result(tmp_path, manifest)
    assert result["status"] == "fail"
    assert "no driver bound (virtio-pci expected)" in result["message"]
    assert "modprobe virtio_pci" in result["remediation"]
    assert str(tmp_path / "sys" / NET / "driver") in result["evidence"]["live"]


def test_virtio_driver_unbound(tmp_path):
    result = net_result(tmp_path, tap().remove(NET + "/virtio1/driver"))
    assert "virtio1 has no driver bound (virtio_net expected)" in result["message"]


def test_virtio_net_never_loaded_blames_no_host_offloads(tmp_path):
    """Before virtio_net binds, sysfs "features" reads all 0 (it shows what a
    driver negotiated) and there is no interface: the driver is the finding,
    not offloads the host would not offer."""
    manifest = tap().remove(NET + "/virtio1/driver").remove(NET + "/virtio1/net").remove("class/net/ens4")
    manifest.set(NET + "/virtio1/features", "0" * 64)
    result = net_result(tmp_path, manifest)
    assert result["status"] == "fail"
    assert result["message"].endswith(
        "virtio1 has no driver bound (virtio_net expected); "
        "virtio1 features not judged: they are negotiated when virtio_net binds")
    assert result["remediation"] == "load virtio_net (modprobe virtio_net) and make sure it loads at boot"


def test_wrong_virtio_device_behind_the_function(tmp_path):
    result = net_result(tmp_path, tap().set(NET + "/virtio1/device", "0x0002"))
    assert "virtio1 is virtio device 2, expected 1" in result["message"]


def test_offloads_off(tmp_path):
    manifest = tap()
    manifest.ethtool["ens4"] = manifest.ethtool["ens4"].replace(
        "generic-receive-offload: on", "generic-receive-offload: off")
    result = net_result(tmp_path, manifest)
    assert result["status"] == "fail"
    assert "ens4: generic-receive-offload off" in result["message"]
    assert "ethtool -K ens4 gro on" in result["remediation"]
    assert result["live"]["devices"][0]["offloads"]["generic-receive-offload"] is False


def test_offloads_the_ethtool_output_does_not_show_are_unknown_not_off(tmp_path):
    """ethtool 6 printed "tcp segmentation offload: on" (spaces) and no GRO line:
    what the output does not show is unknown, never off."""
    manifest = tap()
    manifest.ethtool["ens4"] = ("Offload parameters for ens4:\nrx-checksumming: on\ntx-checksumming: on\n"
                                "scatter-gather: on\ntcp segmentation offload: on\n")
    result = net_result(tmp_path, manifest)
    assert result["status"] == "unknown", result["message"]
    assert ("ens4: tcp-segmentation-offload, generic-receive-offload unknown "
            "(captured ethtool -k does not show them)") in result["message"]
    assert " off" not in result["message"]


def test_offloads_unreadable_is_unknown(tmp_path):
    result = net_result(tmp_path, tap(), offloads=False)
    assert result["status"] == "unknown"
    assert "offloads of ens4 unreadable" in result["message"]


def test_no_interface_behind_virtio_net(tmp_path):
    manifest = tap().remove("class/net/ens4").remove(NET + "/virtio1/net")
    result = net_result(tmp_path, manifest)
    assert "virtio1 has no network interface" in result["message"]


def test_two_nics_both_judged(tmp_path):
    manifest = tap()
    for path, value in list(manifest.files.items()):
        if path.startswith("devices/pci0000:00/0000:00:04.0/") and "/virtio1/" not in path:
            manifest.files[path.replace("0000:00:04.0", "0000:00:05.0")] = value
    manifest.set("devices/pci0000:00/0000:00:05.0/subsystem_device", "0x0003")
    manifest.link("bus/pci/devices/0000:00:05.0", "../../../devices/pci0000:00/0000:00:05.0")
    result = net_result(tmp_path, manifest)
    assert result["status"] == "fail" and len(result["live"]["devices"]) == 2
    assert "0000:00:05.0 1af4:1000 virtio-net (transitional): subsystem ID 0x0003" in result["message"]


# -- hand-made failure modes: disks ------------------------------------------

def scsi_result(tmp_path, manifest):
    return by_id(hardware_results.assess(HW, {}, "x86_64", live=live(tmp_path, manifest)))["HW-SCSI-VIRTIO"]


def test_disk_with_512_byte_sectors(tmp_path):
    result = scsi_result(tmp_path, tap().set("block/sda/queue/physical_block_size", "512"))
    assert "sda sectors 512/512 (physical/logical), expected 4096/512" in result["message"]


def test_persistent_disk_created_with_16k_physical_blocks(tmp_path):
    """gcloud compute disks create --physical-block-size=16384 makes a persistent disk
    report 16384/512: it is Compute Engine's disk, so "use a Compute Engine persistent
    disk" would send the user after the wrong thing."""
    result = scsi_result(tmp_path, tap().set("block/sda/queue/physical_block_size", "16384"))
    assert result["status"] == "fail"
    assert "sda sectors 16384/512 (physical/logical), expected 4096/512" in result["message"]
    assert "use a Compute Engine persistent disk" not in result["remediation"]
    assert "sda is a persistent disk created with --physical-block-size=16384" in result["remediation"]


def test_two_queue_controller_on_one_vcpu(tmp_path):
    """blk-mq shows one queue (min(queues, CPUs)); the controller's MSI-X table says two."""
    result = scsi_result(tmp_path, "gce-scsi-2q")
    assert result["status"] == "fail"
    assert result["message"] == (
        "live: 0000:00:03.0 1af4:1004 virtio-scsi (transitional): the controller offers 2 request "
        "queues, expected 1 (MSI-X table of 5 vectors at 0x98: 5 minus configuration, control and event); "
        "blk-mq hardware queues: sda 1 (at most one per possible CPU: 1)")
    queues = result["live"]["devices"][0]["request_queues"]
    assert (queues["device"], queues["blk_mq"], queues["possible_cpus"]) == (2, {"sda": 1}, 1)
    assert "num_queues=1" in result["remediation"]
    config = str(tmp_path / "sys" / SCSI / "config")
    assert result["evidence"]["live"][config]["table_size"] == 5


def test_one_queue_controller_passes(tmp_path):
    result = scsi_result(tmp_path, tap().set(DISK + "/scsi_level", "7"))
    queues = result["live"]["devices"][0]["request_queues"]
    assert (queues["device"], queues["blk_mq"], queues["msix"]["table_size"]) == (1, {"sda": 1}, 4)


def unprivileged(manifest):
    """What a user without root reads: the first 64 bytes of config space."""
    return manifest.set(SCSI + "/config", manifest.get(SCSI + "/config")[:64]).set(DISK + "/scsi_level", "7")


def test_unreadable_controller_count_on_one_cpu_is_unknown(tmp_path):
    result = scsi_result(tmp_path, unprivileged(tap()))
    assert result["status"] == "unknown"
    assert ("sda has 1 hardware queue, but blk-mq uses at most one per possible CPU (1) and the "
            "controller's own count is unreadable (") in result["message"]
    assert "only 64 bytes readable: reading the capabilities needs root" in result["message"]


def test_unreadable_controller_count_without_root_says_become(tmp_path, monkeypatch):
    """A user's read of config stops at 64 bytes: the unknown count needs root, and the remediation says so."""
    monkeypatch.setattr(privilege, "is_root", lambda: False)
    result = scsi_result(tmp_path, unprivileged(tap()))
    assert result["status"] == "unknown"
    assert "the controller's own count is unreadable (needs root: " in result["message"]
    assert privilege.BECOME in result["remediation"]


def test_unreadable_controller_count_told_by_blk_mq_on_more_cpus(tmp_path):
    manifest = unprivileged(tap()).set("devices/system/cpu/possible", "0-3")
    assert scsi_result(tmp_path / "a", manifest)["status"] == "pass"
    for queue in ("1", "2", "3"):
        manifest.mkdir("block/sda/mq/" + queue)
    result = scsi_result(tmp_path / "b", manifest)
    assert result["status"] == "fail"
    assert "sda has 4 hardware queues, expected 1" in result["message"]
    assert "4 queue(s): 0 1 2 3" in result["evidence"]["live"].values()


def test_cdrom_behind_the_controller(tmp_path):
    manifest = tap().set(DISK + "/scsi_level", "7")
    base = "devices/pci0000:00/0000:00:03.0/virtio0/host0/target0:0:2/0:0:2:0"
    manifest.set(base + "/type", "5").set(base + "/scsi_level", "6")
    manifest.set(base + "/vendor", "QEMU    ").set(base + "/model", "QEMU CD-ROM     ")
    manifest.link("bus/scsi/devices/0:0:2:0", "../../../" + base)
    result = scsi_result(tmp_path, manifest)
    assert result["status"] == "fail"
    assert result["message"].endswith(
        "0:0:2:0 is a cd/dvd (SCSI type 5), only disk expected")
    assert "detach the cd/dvd" in result["remediation"]


def test_spc4_disk_passes(tmp_path):
    result = scsi_result(tmp_path, tap().set(DISK + "/scsi_level", "7"))
    assert result["status"] == "pass", result["message"]
    assert "1 disk(s) 4096/512, 1 request queue (MSI-X table of 4 vectors), SCSI level >= 7" in result["message"]
    assert "features HOTPLUG, CHANGE on" in result["message"]


def test_compute_engines_unclassified_virtio_scsi_controller_passes(tmp_path):
    """Compute Engine's virtio-scsi function is class 0x000000 (lspci on an N1/N2/E2 VM:
    "00:03.0 Non-VGA unclassified device: Red Hat, Inc. Virtio SCSI"), QEMU's 0x010000."""
    result = scsi_result(tmp_path, tap().set(DISK + "/scsi_level", "7").set(SCSI + "/class", "0x000000"))
    assert result["status"] == "pass", result["message"]
    assert result["live"]["devices"][0]["class"] == "0x000000"


def test_an_unclassified_device_is_not_found_instead_of_the_controller(tmp_path):
    """The virtio RNG (class 0x00ff00) is no disk controller; an IDE controller is."""
    manifest = fakesys.Manifest.load("noncompliant-user")
    rng = "devices/pci0000:00/0000:00:05.0"
    for name, value in (("vendor", "0x1af4"), ("device", "0x1005"), ("class", "0x00ff00")):
        manifest.set(rng + "/" + name, value)
    manifest.link("bus/pci/devices/0000:00:05.0", "../../../" + rng)
    result = scsi_result(tmp_path, manifest)
    assert "8086:7010 Intel 82371SB PIIX3 IDE (driver ata_piix)" in result["message"]
    assert "1af4:1005" not in result["message"]


def test_scsi_features_off(tmp_path):
    manifest = tap().set(DISK + "/scsi_level", "7").set(SCSI + "/virtio0/features", "1" + "0" * 63)
    result = scsi_result(tmp_path, manifest)
    assert "virtio0 features off: HOTPLUG, CHANGE" in result["message"]
    assert "slirp" not in result["message"]


def test_no_disk_behind_the_controller(tmp_path):
    manifest = tap().remove(DISK).remove("block/sda")
    result = scsi_result(tmp_path, manifest)
    assert result["status"] == "unknown"
    assert "no SCSI device behind the controller" in result["message"]


# -- attributes that tell nothing: unknown, never a mismatch ------------------

def _fifo(path):
    return lambda manifest: manifest.fifo(path)


@pytest.mark.parametrize("rid, edit, said", [
    ("HW-NET-VIRTIO", lambda m: m.remove(NET + "/subsystem_device"), "subsystem ID unknown (%s/subsystem_device: absent)" % NET),
    ("HW-NET-VIRTIO", lambda m: m.set(NET + "/revision", "rev?"), None),  # not judged for virtio-net
    ("HW-NET-VIRTIO", lambda m: m.set(NET + "/class", "garbage"), "class unknown (%s/class: 'garbage' is not a number)" % NET),
    ("HW-NET-VIRTIO", _fifo(NET + "/subsystem_device"), "0000:00:04.0/subsystem_device: is a FIFO (named pipe)"),
    ("HW-NET-VIRTIO", lambda m: m.set(NET + "/virtio1/device", "garbage"),
     "virtio device ID unknown (bus/virtio/devices/virtio1/device: 'garbage' is not a number)"),
    ("HW-NET-VIRTIO", lambda m: m.set(NET + "/virtio1/features", "on"),
     "virtio1 features unknown (bus/virtio/devices/virtio1/features: 'on' is not a bit string)"),
    ("HW-SCSI-VIRTIO", lambda m: m.remove("block/sda/queue/logical_block_size"),
     "sda logical sector size unknown (block/sda/queue/logical_block_size: absent)"),
    ("HW-SCSI-VIRTIO", lambda m: m.set(DISK + "/scsi_level", "x"), "0:0:1:0 SCSI level unknown (%s/scsi_level: 'x' is not a number)" % DISK),
    ("HW-SCSI-VIRTIO", lambda m: m.set(DISK + "/type", ""), "0:0:1:0 SCSI type unknown (%s/type: '' is not a number)" % DISK),
])
def test_an_attribute_that_tells_nothing_is_unknown_not_a_mismatch(tmp_path, rid, edit, said):
    """Absent, unreadable or not a number: nothing is judged from it, and no "None" is shown."""
    manifest = edit(tap().set(DISK + "/scsi_level", "7"))
    result = by_id(hardware_results.assess(HW, {}, "x86_64", live=live(tmp_path, manifest)))[rid]
    if said is None:
        assert result["status"] == "pass", result["message"]
        return
    assert result["status"] == "unknown", result["message"]
    assert said.replace("bus/", str(tmp_path / "sys" / "bus") + "/", 1).replace(
        "block/", str(tmp_path / "sys" / "block") + "/", 1) in result["message"], result["message"]
    assert "None" not in result["message"]


# -- hand-made failure modes: serial -----------------------------------------

def serial_result(tmp_path, manifest):
    return by_id(hardware_results.assess(HW, {}, "x86_64", live=live(tmp_path, manifest)))["HW-SERIAL"]


def test_uart_unknown(tmp_path):
    manifest = tap()
    for port in ("ttyS1", "ttyS2", "ttyS3"):
        manifest.set("class/tty/%s/type" % port, "0")
    result = serial_result(tmp_path, manifest)
    assert result["status"] == "fail"
    assert "ttyS3 is uart:unknown, expected 16550A (no UART at 0x2e8)" in result["message"]
    assert result["actual"]["ports"]["ttyS1"]["uart"] == "unknown"


def test_port_without_a_type_attribute_names_it(tmp_path):
    result = serial_result(tmp_path, tap().remove("devices/pnp0/00:03/tty/ttyS0/type"))
    assert result["status"] == "fail"
    assert "ttyS0 shows no UART type (%s: absent or not a number), expected 16550A" % (
        tmp_path / "sys" / "class/tty/ttyS0/type") in result["message"]
    assert "uart:None" not in result["message"]


def test_wrong_irq(tmp_path):
    result = serial_result(tmp_path, tap().set("class/tty/ttyS0/irq", "3"))
    assert result["status"] == "fail"
    assert result["message"].startswith("live: ttyS0 on IRQ 3, expected 4 (platform")
    assert str(tmp_path / "sys" / "class/tty/ttyS0/irq") in result["evidence"]["live"]


def test_wrong_io_port(tmp_path):
    result = serial_result(tmp_path, tap().set("class/tty/ttyS2/port", "0x2E8"))
    assert "ttyS2 at I/O port 0x2e8, expected 0x3e8" in result["message"]


# -- architectures ----------------------------------------------------------

def arm_guest(gvnic=True):
    """A hand-made T2A-like tree: gVNIC (or nothing) and virtio-scsi."""
    manifest = fakesys.Manifest()
    scsi = tap()
    for path, value in scsi.files.items():
        if "0000:00:03.0" in path:
            manifest.files[path] = value
    manifest.dirs.update(d for d in scsi.dirs if "0000:00:03.0" in d)
    manifest.links.update((k, v) for k, v in scsi.links.items() if "0000:00:03.0" in v)
    if gvnic:
        base = "devices/pci0000:00/0000:00:04.0"
        for name, value in (("vendor", "0x1ae0"), ("device", "0x0042"), ("subsystem_vendor", "0x1ae0"),
                            ("subsystem_device", "0x0058"), ("revision", "0x00"), ("class", "0x020000")):
            manifest.set(base + "/" + name, value)
        manifest.link(base + "/driver", "../../../bus/pci/drivers/gve")
        manifest.mkdir(base + "/net/ens4")
        manifest.link("bus/pci/devices/0000:00:04.0", "../../../" + base)
    return manifest


def test_arm64_with_gvnic(tmp_path, initramfs_of):
    initramfs_of({"gve", "virtio_pci", "virtio_scsi", "virtio", "virtio_ring", "scsi_mod",
                  "scsi_common", "virtio_pci_legacy_dev", "virtio_pci_modern_dev"})
    results = hardware_results.assess(HW, {}, "arm64", offline=offline(tmp_path), live=live(tmp_path, arm_guest()))
    assert statuses(results) == {
        "HW-PCI-PIIX4-ACPI": "not-applicable", "HW-ISA-PIIX4": "not-applicable",
        "HW-NET-VIRTIO": "not-applicable", "HW-NET-GVNIC": "module-in-initramfs",
        "HW-SCSI-VIRTIO": "fail", "HW-SERIAL": "not-applicable"}
    gvnic = by_id(results)["HW-NET-GVNIC"]
    assert gvnic["offline"]["drivers"][0]["modalias"] == "pci:v00001AE0d00000042svXXXXXXXXsdXXXXXXXXbc02sc00i00"
    assert "0000:00:04.0 1ae0:0042 Google gVNIC: as expected" in gvnic["message"]
    assert by_id(results)["HW-SERIAL"]["message"] == "applies to x86_64, x86_32; this is arm64"


def test_arm64_without_gvnic(tmp_path):
    results = by_id(hardware_results.assess(HW, {}, "arm64", live=live(tmp_path, arm_guest(gvnic=False))))
    assert results["HW-NET-GVNIC"]["status"] == "fail"
    assert "no 1ae0:0042 Google gVNIC PCI device" in results["HW-NET-GVNIC"]["message"]
    assert "Tau T2A" in results["HW-NET-GVNIC"]["remediation"]


def test_gvnic_bound_to_another_driver(tmp_path):
    manifest = arm_guest().link("devices/pci0000:00/0000:00:04.0/driver", "../../../bus/pci/drivers/vfio-pci")
    results = by_id(hardware_results.assess(HW, {}, "arm64", live=live(tmp_path, manifest)))
    assert "bound to vfio-pci, expected gve" in results["HW-NET-GVNIC"]["message"]


def test_gvnic_bound_under_the_name_gve_registered_before_2023(tmp_path):
    """Until 9d0aba98316d ("gve: unify driver name usage") the gve module
    registered its PCI driver as "gvnic": /sys/bus/pci/drivers/gvnic."""
    manifest = arm_guest().link("devices/pci0000:00/0000:00:04.0/driver", "../../../bus/pci/drivers/gvnic")
    result = by_id(hardware_results.assess(HW, {}, "arm64", live=live(tmp_path, manifest)))["HW-NET-GVNIC"]
    assert result["status"] == "pass", result["message"]
    assert "bound as gvnic: gve's name on the PCI bus in older kernels" in result["message"]
    assert result["live"]["devices"][0]["driver"] == "gvnic"
    link = str(tmp_path / "sys" / "bus/pci/devices/0000:00:04.0/driver")
    assert result["evidence"]["live"][link] == "-> ../../../bus/pci/drivers/gvnic"


def third_generation_guest(gve="gve", nvme="1ae0:001f", multipath=False):
    """An x86 machine of a third-generation series (C3, C4, N4): gVNIC instead
    of virtio-net and the disk on a Google NVMe controller instead of
    virtio-scsi; the chipset and serial ports of the gce-tap capture.  With
    ``multipath`` the namespace lives where native NVMe multipath puts it."""
    manifest = tap().remove(NET).remove(SCSI)
    gvnic = "devices/pci0000:00/0000:00:04.0"
    for name, value in (("vendor", "0x1ae0"), ("device", "0x0042"), ("subsystem_vendor", "0x1ae0"),
                        ("subsystem_device", "0x0058"), ("revision", "0x00"), ("class", "0x020000")):
        manifest.set(gvnic + "/" + name, value)
    if gve:
        manifest.link(gvnic + "/driver", "../../../bus/pci/drivers/" + gve)
    manifest.mkdir(gvnic + "/net/ens4").link("class/net/ens4", "../../" + gvnic + "/net/ens4")
    manifest.link("bus/pci/devices/0000:00:04.0", "../../../" + gvnic)
    controller = "devices/pci0000:00/0000:00:03.0"
    vendor, device = nvme.split(":")
    for name, value in (("vendor", "0x" + vendor), ("device", "0x" + device), ("subsystem_vendor", "0x" + vendor),
                        ("subsystem_device", "0x" + device), ("revision", "0x00"), ("class", "0x010802")):
        manifest.set(controller + "/" + name, value)
    manifest.link(controller + "/driver", "../../../bus/pci/drivers/nvme")
    manifest.mkdir(controller + "/nvme/nvme0")
    disk = "devices/virtual/nvme-subsystem/nvme-subsys0/nvme0n1" if multipath else controller + "/nvme/nvme0/nvme0n1"
    manifest.set(disk + "/queue/logical_block_size", "512").set(disk + "/queue/physical_block_size", "4096")
    manifest.mkdir(disk + "/mq/0").mkdir(disk + "/nvme0n1p1")
    manifest.link("block/nvme0n1", "../" + disk)
    manifest.link("bus/pci/devices/0000:00:03.0", "../../../" + controller)
    return manifest


def test_third_generation_x86_machine_with_gvnic_and_nvme(tmp_path, initramfs_of):
    """gVNIC is required for per-VM Tier_1 networking and the third-generation series
    (Google's "Requirements to build custom images"), whose disks are NVMe."""
    results = hardware_results.assess(HW, {}, "x86_64", live=live(tmp_path / "a", third_generation_guest()))
    assert dict((rid, status) for rid, status in statuses(results).items() if "VIRTIO" in rid or "GVNIC" in rid) == {
        "HW-NET-VIRTIO": "not-applicable", "HW-NET-GVNIC": "pass", "HW-SCSI-VIRTIO": "not-applicable"}
    result = by_id(results)
    assert result["HW-NET-VIRTIO"]["message"] == (
        "live: no 1af4:1000 virtio-net (transitional) PCI device: this machine's NIC is gVNIC (0000:00:04.0 "
        "1ae0:0042 Google gVNIC, driver gve), which HW-NET-GVNIC checks; the kernel's virtio_net driver is "
        "judged offline (platform: Google Google Compute Engine)")
    assert result["HW-NET-VIRTIO"]["remediation"] == ""
    assert "this machine's disks are on Google NVMe (0000:00:03.0 1ae0:001f Google NVMe, driver nvme, disks " \
        "nvme0n1 (4096/512)); the kernel's virtio_scsi driver is judged offline" in result["HW-SCSI-VIRTIO"]["message"]
    assert result["HW-NET-GVNIC"]["message"] == "live: 0000:00:04.0 1ae0:0042 Google gVNIC: as expected"
    # the kernel's drivers are still judged offline; gve is not required on x86 there
    initramfs_of(trees.initramfs_modules(CLOUD))
    both = by_id(hardware_results.assess(HW, {}, "x86_64", offline=offline(tmp_path / "b"),
                                         live=live(tmp_path / "c", third_generation_guest())))
    assert both["HW-NET-VIRTIO"]["status"] == both["HW-SCSI-VIRTIO"]["status"] == "module-in-initramfs"
    assert both["HW-NET-GVNIC"]["status"] == "pass"
    assert both["HW-NET-GVNIC"]["offline"]["message"] == (
        "applies to arm64; this is x86_64: judged live, as this machine presents the device")
    # native NVMe multipath: the namespace is not under the controller, still named
    multipath = scsi_result(tmp_path / "d", third_generation_guest(multipath=True))
    assert multipath["status"] == "not-applicable" and "disks nvme0n1 (4096/512)" in multipath["message"]


def test_native_multipath_hidden_paths_are_no_disks(tmp_path):
    """With native NVMe multipath /sys/block also lists each path (nvme0c0n1, hidden,
    without a /dev node, reporting its own sizes); the disks are the heads."""
    manifest = third_generation_guest(multipath=True)
    for namespace in ("1", "2"):
        path = "devices/pci0000:00/0000:00:03.0/nvme/nvme0/nvme0c0n" + namespace
        manifest.set(path + "/queue/logical_block_size", "512").set(path + "/queue/physical_block_size", "512")
        manifest.set(path + "/hidden", "1").link("block/nvme0c0n" + namespace, "../" + path)
    head = "devices/virtual/nvme-subsystem/nvme-subsys0/nvme0n2"
    manifest.set(head + "/queue/logical_block_size", "4096").set(head + "/queue/physical_block_size", "4096")
    manifest.link("block/nvme0n2", "../" + head)
    result = scsi_result(tmp_path, manifest)
    assert result["status"] == "not-applicable"
    assert "disks nvme0n1 (4096/512), nvme0n2 (4096/4096)); the kernel's" in result["message"], result["message"]
    assert "nvme0c0n" not in result["message"]


def test_unbound_gvnic_of_an_x86_machine_fails(tmp_path):
    results = by_id(hardware_results.assess(HW, {}, "x86_64", live=live(tmp_path, third_generation_guest(gve=None))))
    assert results["HW-NET-GVNIC"]["status"] == "fail"
    assert "0000:00:04.0 1ae0:0042 Google gVNIC: no driver bound (gve expected)" in results["HW-NET-GVNIC"]["message"]
    assert "modprobe gve" in results["HW-NET-GVNIC"]["remediation"]
    assert results["HW-NET-VIRTIO"]["status"] == "not-applicable"


def test_gvnic_of_an_x86_machine_is_not_judged_without_the_live_half(tmp_path):
    judged = hardware_results.assess(HW, {}, "x86_64", live=guest_devices.NotJudged("not a Compute Engine VM"))
    assert by_id(judged)["HW-NET-GVNIC"]["message"] == "applies to arm64; this is x86_64"


def test_an_nvme_controller_that_is_not_googles_still_fails_virtio_scsi(tmp_path):
    """QEMU's NVMe (1b36:0010) is no Compute Engine disk: the device is absent, as before."""
    result = scsi_result(tmp_path, third_generation_guest(nvme="1b36:0010"))
    assert result["status"] == "fail"
    assert "no 1af4:1004 virtio-scsi (transitional) PCI device; found instead" in result["message"]
    assert "1b36:0010 QEMU NVMe controller (driver nvme)" in result["message"]
    assert "judge the devices on such a machine, or only the kernel (mode: offline)" in result["remediation"]


# -- offline failure modes ----------------------------------------------------

def offline_results(tmp_path, release=CLOUD, **install):
    return by_id(hardware_results.assess(HW, {}, "x86_64", offline=offline(tmp_path, release, **install)))


def test_alias_table_without_virtio_net(tmp_path, initramfs_of):
    initramfs_of(trees.initramfs_modules(CLOUD))
    results = offline_results(tmp_path, edits={"modules.alias": trees.without_lines(" virtio_net")})
    net = results["HW-NET-VIRTIO"]
    assert net["status"] == "fail"
    assert ("virtio virtio:d00000001vXXXXXXXX: no driver in modules.alias or the built-in aliases "
            "(virtio_net expected)") in net["message"]
    assert "CONFIG_VIRTIO_NET=y" in net["remediation"]
    assert net["offline"]["drivers"][0]["status"] == "module-in-initramfs"  # virtio_pci still fine
    assert results["HW-SCSI-VIRTIO"]["status"] == "module-in-initramfs"


def test_alias_names_another_driver(tmp_path, initramfs_of):
    initramfs_of(trees.initramfs_modules(CLOUD))

    def edit(text):
        return text.replace("virtio:d00000008v* virtio_scsi", "virtio:d00000008v* vhost_scsi")
    results = offline_results(tmp_path, edits={"modules.alias": edit})
    assert "only vhost_scsi matches, not virtio_scsi" in results["HW-SCSI-VIRTIO"]["message"]


def test_module_missing_from_initramfs(tmp_path, initramfs_of):
    initramfs_of(trees.initramfs_modules(CLOUD) - {"virtio_scsi"})
    scsi = offline_results(tmp_path)["HW-SCSI-VIRTIO"]
    assert scsi["status"] == "module-missing-from-initramfs"
    assert "virtio_scsi is a module missing from the initramfs %s/root/boot/initrd.img-%s" % (
        tmp_path, CLOUD) in scsi["message"]
    assert "echo virtio_scsi >> /etc/initramfs-tools/modules" in scsi["remediation"]
    assert scsi["evidence"]["offline"]["initramfs"] == "%s/root/boot/initrd.img-%s" % (tmp_path, CLOUD)


def test_dependency_missing_from_initramfs(tmp_path, initramfs_of):
    initramfs_of(trees.initramfs_modules(CLOUD) - {"net_failover"})
    net = offline_results(tmp_path)["HW-NET-VIRTIO"]
    assert net["status"] == "module-missing-from-initramfs"
    assert net["offline"]["drivers"][1]["missing_dependencies"] == ["net_failover"]
    assert ("virtio_net is a module in the initramfs %s/root/boot/initrd.img-%s, but net_failover, which it "
            "needs, is not" % (tmp_path, CLOUD)) in net["message"]


def test_unreadable_initramfs_is_unknown(tmp_path, initramfs_of):
    initramfs_of(error="/boot/initrd.img-x: unknown compression")
    results = offline_results(tmp_path)
    assert results["HW-NET-VIRTIO"]["status"] == "unknown"
    assert "could not be inspected: /boot/initrd.img-x: unknown compression" in results["HW-NET-VIRTIO"]["message"]
    assert results["HW-SERIAL"]["status"] == "pass"  # built in: no initramfs needed


def test_no_initramfs(tmp_path, initramfs_of):
    initramfs_of(found=False)
    net = offline_results(tmp_path)["HW-NET-VIRTIO"]
    assert net["status"] == "module-missing-from-initramfs"
    assert "no initramfs of %s (looked for" % CLOUD in net["message"]


def test_builtin_virtio_needs_no_initramfs(tmp_path, initramfs_of):
    initramfs_of(error="must not be needed")

    def builtin(modinfo):
        return modinfo + b"virtio_pci.alias=pci:v00001AF4d*sv*sd*bc*sc*i*\0" \
                         b"virtio_net.alias=virtio:d00000001v*\0virtio_scsi.alias=virtio:d00000008v*\0"
    results = offline_results(tmp_path, edits={
        "modules.builtin.modinfo": builtin,
        "modules.builtin": lambda text: text + "".join(
            "kernel/drivers/%s.ko\n" % m for m in ("virtio/virtio_pci", "net/virtio_net", "scsi/virtio_scsi")),
        "modules.alias": trees.without_lines(" virtio_pci", " virtio_net", " virtio_scsi"),
        "modules.dep": trees.without_lines("virtio_pci.ko:", "virtio_net.ko:", "virtio_scsi.ko:")})
    assert results["HW-NET-VIRTIO"]["status"] == "pass"
    assert results["HW-NET-VIRTIO"]["message"] == "offline: virtio_pci is built in; virtio_net is built in"


def test_old_kernel_without_builtin_aliases(tmp_path, initramfs_of):
    initramfs_of(trees.initramfs_modules(CLOUD))
    results = offline_results(tmp_path, skip=("modules.builtin.modinfo",), edits={
        "modules.builtin": lambda text: text + "kernel/drivers/virtio/virtio_pci.ko\n",
        "modules.alias": trees.without_lines(" virtio_pci")})
    hop = results["HW-SCSI-VIRTIO"]["offline"]["drivers"][0]
    assert (hop["driver"], hop["kind"], hop["status"]) == ("virtio_pci", "built-in", "pass")
    assert "judged by its name in modules.builtin" in hop["note"]


def _built_in(*paths):
    """An edit of modules.builtin adding the drivers at ``paths``."""
    return lambda text: text + "".join("kernel/drivers/%s.ko\n" % path for path in paths)


def test_built_in_drivers_of_a_kernel_before_6_18(tmp_path):
    # Debian trixie's 6.12 (CONFIG_VIRTIO_PCI=y): modules.builtin.modinfo lists only
    # MODULE_ALIAS() names, no device table, as the bookworm file kept here does
    modinfo = trees.read(CLOUD, "modules.builtin.modinfo").decode()
    assert "pci:" not in modinfo and "virtio:" not in modinfo
    results = offline_results(tmp_path, edits={
        "modules.builtin": _built_in("virtio/virtio_pci", "scsi/virtio_scsi", "net/virtio_net"),
        "modules.alias": trees.without_lines(" virtio_pci", " virtio_scsi", " virtio_net"),
        "modules.dep": trees.without_lines("virtio_pci.ko", "virtio_scsi.ko", "virtio_net.ko")})
    for rid in ("HW-NET-VIRTIO", "HW-SCSI-VIRTIO"):
        assert results[rid]["status"] == "pass", results[rid]
        hops = results[rid]["offline"]["drivers"]
        assert [(h["driver"], h["kind"], h["status"]) for h in hops][0] == ("virtio_pci", "built-in", "pass")
        assert "no built-in alias of virtio_pci" in hops[0]["note"]
        assert "judged by its name in modules.builtin" in hops[0]["note"]


def _modinfo_aliases(*records):
    return lambda data: data + b"".join(b"%s\0" % record.encode() for record in records)


def test_built_in_drivers_of_a_kernel_listing_their_device_tables(tmp_path):
    # 6.18 on: the generated aliases of built-in drivers are in modules.builtin.modinfo
    results = offline_results(tmp_path, edits={
        "modules.builtin": _built_in("virtio/virtio_pci", "scsi/virtio_scsi"),
        "modules.builtin.modinfo": _modinfo_aliases("virtio_pci.alias=pci:v00001AF4d*sv*sd*bc*sc*i*",
                                                    "virtio_scsi.alias=virtio:d00000008v*"),
        "modules.alias": trees.without_lines(" virtio_pci", " virtio_scsi"),
        "modules.dep": trees.without_lines("virtio_pci.ko", "virtio_scsi.ko")})
    scsi = results["HW-SCSI-VIRTIO"]
    assert scsi["status"] == "pass", scsi
    assert [(h["driver"], h["kind"], "note" in h) for h in scsi["offline"]["drivers"]] == [
        ("virtio_pci", "built-in", False), ("virtio_scsi", "built-in", False)]
    assert [(m["module"], m["builtin"], m["text"]) for m in scsi["offline"]["drivers"][0]["matches"]] == [
        ("virtio_pci", True, "virtio_pci.alias=pci:v00001AF4d*sv*sd*bc*sc*i*")]


def test_a_built_in_driver_whose_listed_aliases_miss_the_device_fails(tmp_path):
    # the table lists the built-in driver's aliases: they are what the kernel binds by
    results = offline_results(tmp_path, edits={
        "modules.builtin": _built_in("virtio/virtio_pci"),
        "modules.builtin.modinfo": _modinfo_aliases("virtio_pci.alias=pci:v00001AF4d00009999sv*sd*bc*sc*i*"),
        "modules.alias": trees.without_lines(" virtio_pci"),
        "modules.dep": trees.without_lines("virtio_pci.ko")})
    hop = results["HW-SCSI-VIRTIO"]["offline"]["drivers"][0]
    assert hop["status"] == "fail"
    assert "no driver in modules.alias or the built-in aliases (virtio_pci expected)" in hop["message"]


@pytest.mark.parametrize("modinfo, said", [
    (None, "kernel %s has the gVNIC driver gve (built in, by its name in modules.builtin)" % CLOUD),
    ("gve.alias=pci:v00001AE0d00000042sv*sd*bc*sc*i*", "kernel %s has the gVNIC driver gve (built in)" % CLOUD),
    ("gve.alias=pci:v00001AE0d00009999sv*sd*bc*sc*i*", None)])
def test_gvnic_feature_of_an_image_with_gve_built_in(tmp_path, modinfo, said):
    # disk_image's GVNIC guest OS feature: gve built in, its device table listed or not
    trees.install(tmp_path, CLOUD, edits=dict({
        "modules.builtin": _built_in("net/ethernet/google/gve/gve"),
        "modules.alias": trees.without_lines(" gve"),
        "modules.dep": trees.without_lines("/gve.ko")}, **(
            {"modules.builtin.modinfo": _modinfo_aliases(modinfo)} if modinfo else {})))
    assert imageworker._gvnic(Target(str(tmp_path)), CLOUD) == said


def test_depmod_never_ran(tmp_path):
    results = offline_results(tmp_path, skip=("modules.alias", "modules.dep"))
    net = results["HW-NET-VIRTIO"]
    assert net["status"] == "unknown"
    assert "has no modules.alias or modules.dep (depmod has not run for %s)" % CLOUD in net["message"]
    assert "depmod %s" % CLOUD in net["remediation"]


def test_a_damaged_alias_table_is_unknown_not_fail(tmp_path):
    # garbage where modules.alias should be: no driver can be told missing
    results = offline_results(tmp_path, edits={"modules.alias": lambda text: "\x7fELF garbage\n" + text})
    for rid in ("HW-NET-VIRTIO", "HW-SCSI-VIRTIO"):
        assert results[rid]["status"] == "unknown", results[rid]
        assert "modules.alias is damaged (line 1 is not an 'alias PATTERN MODULE' line" in results[rid]["message"]


def test_serial_driver_missing(tmp_path):
    results = offline_results(tmp_path, edits={"modules.builtin": trees.without_lines("/8250.ko")})
    assert results["HW-SERIAL"]["status"] == "fail"
    assert "no 8250 driver" in results["HW-SERIAL"]["message"]
    assert "CONFIG_SERIAL_8250=y" in results["HW-SERIAL"]["remediation"]


# -- offline: modprobe's configuration keeps a module from loading --------------

def put_files(root, files):
    """Write ``files`` ({path inside the root: text}) under ``root``."""
    for where, text in files.items():
        full = root / where.lstrip("/")
        full.parent.mkdir(parents=True, exist_ok=True)
        full.write_text(text)


def blocked_results(tmp_path, files):
    """Offline results on the cloud release with extra ``files``."""
    put_files(tmp_path / "root", files)
    return offline_results(tmp_path)


def test_blacklisted_module_is_never_loaded_for_the_device(tmp_path, initramfs_of):
    initramfs_of(trees.initramfs_modules(CLOUD))
    results = blocked_results(tmp_path, {
        "/etc/modprobe.d/local.conf": "# keep the NIC quiet\nblacklist virtio-net\n"})
    net = results["HW-NET-VIRTIO"]
    assert net["status"] == "fail"
    assert ("virtio_net is a module that is never loaded for the device: %s/root/etc/modprobe.d/local.conf:2: "
            "blacklist virtio-net (udev loads with the blacklist applied)" % tmp_path) in net["message"]
    assert net["evidence"]["offline"]["blocked_by"] == [
        "%s/root/etc/modprobe.d/local.conf:2: blacklist virtio-net" % tmp_path]
    assert "remove virtio_net from %s/root/etc/modprobe.d/local.conf" % tmp_path in net["remediation"]
    assert results["HW-SCSI-VIRTIO"]["status"] == "module-in-initramfs"


def test_install_false_and_the_command_line_block_a_module(tmp_path, initramfs_of):
    initramfs_of(trees.initramfs_modules(CLOUD))
    results = blocked_results(tmp_path, {
        "/lib/modprobe.d/disks.conf": "install virtio_scsi \\\n  /bin/false\n",
        "/etc/default/grub": 'GRUB_CMDLINE_LINUX="console=ttyS0 module_blacklist=gve,virtio_pci"\n'})
    scsi = results["HW-SCSI-VIRTIO"]
    assert scsi["status"] == "fail"
    assert "disks.conf:1: install virtio_scsi   /bin/false (the install command loads nothing)" in scsi["message"]
    # virtio_pci, the first hop of both virtio devices, is refused by the kernel
    net = results["HW-NET-VIRTIO"]
    assert net["status"] == "fail"
    assert "/etc/default/grub:1: module_blacklist=gve,virtio_pci (the kernel refuses to load it)" in net["message"]


def test_an_install_command_of_a_module_it_needs_blocks_it(tmp_path, initramfs_of):
    # kmod loads failover (virtio_net needs it, modules.dep) first, by its install command, and stops
    # there; the pattern "virtio_s*" is the first install line matching virtio_scsi
    initramfs_of(trees.initramfs_modules(CLOUD))
    results = blocked_results(tmp_path, {
        "/etc/modprobe.d/hardening.conf": "install failover /bin/true\nblacklist net_failover\n"
                                          "install virtio_s* /bin/false\ninstall virtio_scsi /sbin/modprobe "
                                          "--ignore-install virtio_scsi\n"})
    net = results["HW-NET-VIRTIO"]
    assert net["status"] == "fail"
    assert ("virtio_net is a module that is never loaded for the device: %s/root/etc/modprobe.d/hardening.conf:1: "
            "install failover /bin/true (a module it needs, loaded first, is replaced by a command that loads "
            "nothing)" % tmp_path) in net["message"]
    assert "remove virtio_net, failover from" in net["remediation"]
    assert "hardening.conf:3: install virtio_s* /bin/false" in results["HW-SCSI-VIRTIO"]["message"]


def test_a_modprobe_d_alias_hands_the_device_to_another_module(tmp_path, initramfs_of):
    # kmod_module_new_from_lookup looks in the configuration's aliases first and stops at a match:
    # udev loads e1000 for the NIC's function, not virtio_pci; an alias naming the driver too leaves it
    initramfs_of(trees.initramfs_modules(CLOUD))
    results = blocked_results(tmp_path, {
        "/etc/modprobe.d/nic.conf": "alias pci:v00001AF4d00001000* e1000\n",
        "/etc/modprobe.d/scsi.conf": "alias virtio:d00000008v* vhost_scsi\nalias virtio:d00000008v* virtio-scsi\n"})
    net = results["HW-NET-VIRTIO"]
    assert net["status"] == "fail"
    assert ("virtio_pci is a module that is never loaded for the device: %s/root/etc/modprobe.d/nic.conf:1: "
            "alias pci:v00001AF4d00001000* e1000 (the device's modalias is given to another module, which udev "
            "loads instead)" % tmp_path) in net["message"]
    assert results["HW-SCSI-VIRTIO"]["status"] == "module-in-initramfs"


def test_a_dashed_name_on_the_command_line_blocks_nothing(tmp_path, initramfs_of):
    # kmod keeps modprobe.blacklist= names verbatim and the kernel compares module_blacklist=
    # byte for byte, both with the module's own name (virtio_net): unlike modprobe.d's
    # "blacklist virtio-net", these load the driver all the same
    initramfs_of(trees.initramfs_modules(CLOUD))
    results = blocked_results(tmp_path, {
        "/etc/default/grub": 'GRUB_CMDLINE_LINUX="modprobe.blacklist=virtio-net module_blacklist=virtio-scsi"\n'})
    assert results_status(results) == {"HW-NET-VIRTIO": "module-in-initramfs", "HW-SCSI-VIRTIO": "module-in-initramfs"}


def test_grub_defaults_the_reader_refuses_leave_the_blocks_unknown_naming_the_line(tmp_path, initramfs_of):
    # a here-document in /etc/default/grub: the reader's error escaped the hardware area as a
    # traceback; the command line that may block a driver is unknown, and the message says where
    initramfs_of(trees.initramfs_modules(CLOUD))
    results = blocked_results(tmp_path, {
        "/etc/default/grub": 'GRUB_TIMEOUT=5\n: <<"EOF"\nGRUB_CMDLINE_LINUX="modprobe.blacklist=virtio_net"\nEOF\n'})
    assert results_status(results) == {"HW-NET-VIRTIO": "unknown", "HW-SCSI-VIRTIO": "unknown"}
    assert ("virtio_net is a module; the kernel command line is unknown: %s/root/etc/default/grub:2: a here-document "
            "(<<) is not read" % tmp_path) in results["HW-NET-VIRTIO"]["message"]


def test_masked_or_unrelated_modprobe_files_change_nothing(tmp_path, initramfs_of):
    initramfs_of(trees.initramfs_modules(CLOUD))
    put_files(tmp_path / "root", {
        "/lib/modprobe.d/gce.conf": "blacklist virtio_net\n",
        "/etc/modprobe.d/blacklist.conf": "blacklist evbug\n#blacklist virtio_scsi\n"
                                          "install virtio_scsi /sbin/modprobe --ignore-install virtio_scsi\n",
        "/etc/modprobe.d/notes.txt": "blacklist virtio_scsi\n"})
    os.symlink("/dev/null", str(tmp_path / "root/etc/modprobe.d/gce.conf"))
    assert results_status(offline_results(tmp_path)) == {
        "HW-NET-VIRTIO": "module-in-initramfs", "HW-SCSI-VIRTIO": "module-in-initramfs"}


def results_status(results):
    return dict((rid, results[rid]["status"]) for rid in ("HW-NET-VIRTIO", "HW-SCSI-VIRTIO"))


def test_blacklist_leaves_built_in_drivers_alone(tmp_path):
    result = serial_offline(tmp_path, files={"/etc/modprobe.d/x.conf": "blacklist 8250\n"})
    assert result["status"] == "pass", result["message"]


def test_unreadable_modprobe_configuration_is_unknown(tmp_path, initramfs_of):
    initramfs_of(trees.initramfs_modules(CLOUD))
    root = tmp_path / "root"
    (root / "etc/modprobe.d").mkdir(parents=True)
    os.mkfifo(str(root / "etc/modprobe.d/fifo.conf"))
    net = offline_results(tmp_path)["HW-NET-VIRTIO"]
    assert net["status"] == "unknown"
    assert "modprobe's configuration is unknown" in net["message"]
    assert "fifo.conf" in net["message"]


def test_a_kernel_without_loadable_modules_is_judged_by_its_configuration(tmp_path):
    """CONFIG_MODULES not set (a Firecracker-style or appliance kernel): no lib/modules
    directory at all, every driver built in or absent; was unknown for want of alias tables."""
    root = tmp_path / "root"
    release = "6.1.99-nomod"
    put_files(root, {"/boot/config-%s" % release: "# Linux/x86 6.1.99 Kernel Configuration\nCONFIG_X86_64=y\n"
                     "# CONFIG_MODULES is not set\nCONFIG_VIRTIO_PCI=y\nCONFIG_VIRTIO_NET=y\n"
                     "# CONFIG_SCSI_VIRTIO is not set\nCONFIG_SERIAL_8250=y\nCONFIG_SERIAL_8250_NR_UARTS=4\n"
                     "CONFIG_SERIAL_8250_RUNTIME_UARTS=4\n"})
    check = kernel_drivers.OfflineCheck("/lib/modules/%s" % release, root=str(root), release=release)
    results = by_id(hardware_results.assess(HW, {}, "x86_64", offline=check))
    assert results["HW-NET-VIRTIO"]["status"] == "pass", results["HW-NET-VIRTIO"]["message"]
    assert "virtio_net is built in (CONFIG_VIRTIO_NET=y; the kernel has no loadable modules)" in \
        results["HW-NET-VIRTIO"]["message"]
    scsi = results["HW-SCSI-VIRTIO"]
    assert scsi["status"] == "fail"
    assert "no virtio_scsi driver: CONFIG_SCSI_VIRTIO is not set and the kernel has no loadable modules" in \
        scsi["message"]
    assert "CONFIG_SCSI_VIRTIO=y" in scsi["remediation"]
    assert results["HW-SERIAL"]["status"] == "pass", results["HW-SERIAL"]["message"]
    # a kernel with modules whose directory is missing is still unknown
    put_files(root, {"/boot/config-%s" % release: "CONFIG_X86_64=y\nCONFIG_MODULES=y\nCONFIG_VIRTIO_NET=y\n"})
    check = kernel_drivers.OfflineCheck("/lib/modules/%s" % release, root=str(root), release=release)
    assert by_id(hardware_results.assess(HW, {}, "x86_64", offline=check))["HW-NET-VIRTIO"]["status"] == "unknown"


# -- offline: how many serial ports the 8250 driver registers -------------------------

def serial_offline(tmp_path, config=None, files=(), running=False, release=CLOUD, skip=()):
    """HW-SERIAL offline on the release's tree, with ``config`` edits (option -> value)
    and extra ``files`` ({path inside the root: text})."""
    root = tmp_path / "root"
    edits = {}
    if config:
        def edit(text):
            for name, value in config.items():
                text = trees.set_option(name, value)(text)
            return text
        edits["config"] = edit
    path = trees.install(str(root), release, edits=edits, skip=skip)
    put_files(root, dict(files))
    check = kernel_drivers.OfflineCheck("/" + os.path.relpath(path, str(root)), root=str(root),
                                        running=running)
    return by_id(hardware_results.assess(HW, {}, "x86_64", offline=check))["HW-SERIAL"]


def test_debian_kernels_register_four_ports(tmp_path):
    for release in (CLOUD, GENERIC):
        result = serial_offline(tmp_path / release, release=release)
        assert result["status"] == "pass", result["message"]
        assert result["message"] == ("offline: 8250 is built in; 8250 registers 4 ports "
                                     "(CONFIG_SERIAL_8250_RUNTIME_UARTS=4, CONFIG_SERIAL_8250_NR_UARTS=32)")
        assert result["actual"]["uarts"] == 4
        assert result["evidence"]["offline"]["uarts"]["config"].endswith("/boot/config-%s" % release)


def test_one_runtime_uart_fails(tmp_path):
    result = serial_offline(tmp_path, {"SERIAL_8250_RUNTIME_UARTS": "1"})
    assert result["status"] == "fail"
    assert result["message"].endswith(
        "8250 registers only 1 port (CONFIG_SERIAL_8250_RUNTIME_UARTS=1, CONFIG_SERIAL_8250_NR_UARTS=32): "
        "ttyS1-ttyS3 can never appear")
    assert "add 8250.nr_uarts=4 to the kernel command line" in result["remediation"]
    assert result["offline"]["uarts"]["registered"] == 1


def test_one_uart_at_most_fails_and_only_a_rebuild_helps(tmp_path):
    result = serial_offline(tmp_path, {"SERIAL_8250_NR_UARTS": "1", "SERIAL_8250_RUNTIME_UARTS": "1"},
                            files={"/etc/default/grub": 'GRUB_CMDLINE_LINUX="8250.nr_uarts=4"\n'})
    assert result["status"] == "fail"
    assert "8250 registers only 1 port (8250.nr_uarts=4, CONFIG_SERIAL_8250_NR_UARTS=1)" in result["message"]
    assert "with the command line of %s/root/etc/default/grub:1 (grub-default)" % tmp_path in result["message"]
    assert "CONFIG_SERIAL_8250_NR_UARTS=4 or more: no kernel parameter can raise it" in result["remediation"]
    assert "8250.nr_uarts" not in result["remediation"]


def test_the_command_line_raises_the_runtime_count(tmp_path):
    grub = "menuentry 'x' {\n\tlinux /boot/vmlinuz-%s root=/dev/sda1 ro 8250.nr_uarts=4\n}\n" % CLOUD
    result = serial_offline(tmp_path, {"SERIAL_8250_RUNTIME_UARTS": "1"}, files={
        "/boot/grub/grub.cfg": grub, "/etc/default/grub": 'GRUB_CMDLINE_LINUX="8250.nr_uarts=4"\n'})
    assert result["status"] == "pass", result["message"]
    assert "8250 registers 4 ports (8250.nr_uarts=4, CONFIG_SERIAL_8250_NR_UARTS=32)" in result["message"]
    assert len(result["offline"]["uarts"]["boots"]) == 2


def test_a_boot_entry_without_the_parameter_fails(tmp_path):
    """/etc/default/grub has it, but grub.cfg was not regenerated."""
    grub = "menuentry 'x' {\n\tlinux /boot/vmlinuz-%s root=/dev/sda1 ro quiet\n}\n" % CLOUD
    result = serial_offline(tmp_path, {"SERIAL_8250_RUNTIME_UARTS": "2"}, files={
        "/boot/grub/grub.cfg": grub, "/etc/default/grub": 'GRUB_CMDLINE_LINUX="8250.nr_uarts=4"\n'})
    assert result["status"] == "fail"
    assert "8250 registers only 2 ports (CONFIG_SERIAL_8250_RUNTIME_UARTS=2, CONFIG_SERIAL_8250_NR_UARTS=32) " \
        "with the command line of %s/root/boot/grub/grub.cfg:2 (grub.cfg): ttyS2-ttyS3" % tmp_path \
        in result["message"]
    assert "update-grub" in result["remediation"]


def test_the_command_line_can_lower_the_count(tmp_path):
    grub = "menuentry 'x' {\n\tlinux /boot/vmlinuz-%s ro 8250.nr_uarts=1\n}\n" % CLOUD
    other = "menuentry 'y' {\n\tlinux /boot/vmlinuz-6.1.0-49-cloud-amd64 ro 8250.nr_uarts=1\n}\n"
    result = serial_offline(tmp_path, files={"/boot/grub/grub.cfg": grub + other})
    assert result["status"] == "fail"
    assert "(8250.nr_uarts=1, CONFIG_SERIAL_8250_NR_UARTS=32)" in result["message"]
    assert len(result["offline"]["uarts"]["boots"]) == 1   # the other kernel's entry does not count
    passing = serial_offline(tmp_path / "other", files={"/boot/grub/grub.cfg": other})
    assert passing["status"] == "pass"


def test_the_deprecated_parameter_counts_only_when_the_kernel_keeps_it(tmp_path):
    line = {"/etc/kernel/cmdline": "root=/dev/sda1 8250_core.nr_uarts=1\n"}
    assert serial_offline(tmp_path / "a", files=line)["status"] == "pass"   # Debian: not set
    kept = serial_offline(tmp_path / "b", {"SERIAL_8250_DEPRECATED_OPTIONS": "y"}, files=line)
    assert kept["status"] == "fail" and "8250_core.nr_uarts=1" in kept["message"]


def test_the_running_kernels_command_line(tmp_path):
    result = serial_offline(tmp_path, files={"/proc/cmdline": "ro 8250.nr_uarts=2\n"}, running=True)
    assert result["status"] == "fail"
    assert "%s/root/proc/cmdline:1 (running)" % tmp_path in result["message"]
    not_running = serial_offline(tmp_path / "image", files={"/proc/cmdline": "ro 8250.nr_uarts=2\n"})
    assert not_running["status"] == "pass"   # a tree's /proc is not a boot's


def test_minimal_config_takes_the_kconfig_defaults(tmp_path):
    result = serial_offline(tmp_path, {"SERIAL_8250_NR_UARTS": None, "SERIAL_8250_RUNTIME_UARTS": None})
    assert result["status"] == "pass"
    assert "CONFIG_SERIAL_8250_RUNTIME_UARTS absent: its default, 4" in result["message"]


def test_no_configuration_is_unknown(tmp_path):
    result = serial_offline(tmp_path, skip=("config",))
    assert result["status"] == "unknown"
    assert "how many ports 8250 registers is unknown: no kernel configuration for %s (tried " % CLOUD \
        in result["message"]
    assert "/boot/config-%s" % CLOUD in result["remediation"]


def test_unreadable_configuration_is_unknown(tmp_path):
    root = tmp_path / "root"
    path = trees.install(str(root), CLOUD, skip=("config",))
    (root / "boot").mkdir()
    os.mkfifo(str(root / "boot" / ("config-" + CLOUD)))
    check = kernel_drivers.OfflineCheck("/" + os.path.relpath(path, str(root)), root=str(root))
    result = by_id(hardware_results.assess(HW, {}, "x86_64", offline=check))["HW-SERIAL"]
    assert result["status"] == "unknown"
    assert "is a FIFO (named pipe), not a regular file" in result["message"]


def test_bridges_are_not_applicable_offline(tmp_path):
    results = offline_results(tmp_path)
    assert results["HW-ISA-PIIX4"]["status"] == "not-applicable"
    assert "no PCI driver is required" in results["HW-ISA-PIIX4"]["message"]


# -- combination, waivers -------------------------------------------------------

def test_offline_failure_fails_a_passing_live_device(tmp_path, initramfs_of):
    initramfs_of(trees.initramfs_modules(CLOUD) - {"virtio_net"})
    result = by_id(hardware_results.assess(HW, {}, "x86_64", offline=offline(tmp_path),
                                           live=live(tmp_path, "gce-tap")))["HW-NET-VIRTIO"]
    assert (result["status"], result["offline"]["status"], result["live"]["status"]) == (
        "module-missing-from-initramfs", "module-missing-from-initramfs", "pass")
    assert result["message"].startswith("offline: virtio_pci is a module in the initramfs; "
                                        "virtio_net is a module missing")
    assert "; live: 0000:00:04.0" in result["message"]


def test_waiver_keeps_the_finding(tmp_path):
    results = by_id(hardware_results.assess(HW, {"HW-ISA-PIIX4": "lab: QEMU's PIIX4 is rev 00"}, "x86_64",
                                            live=live(tmp_path, "gce-tap")))
    isa = results["HW-ISA-PIIX4"]
    assert isa["status"] == "waived" and isa["waiver"] == "lab: QEMU's PIIX4 is rev 00"
    assert "revision 0x00" in isa["message"]


def test_every_hardware_entry_is_answered(tmp_path):
    results = hardware_results.assess(HW, {}, "x86_64", live=live(tmp_path, "gce-tap"))
    assert [r["id"] for r in results] == [e["id"] for e in HW]
    assert all(r["expected"] == BY_ID[r["id"]]["expected"] for r in results)


def test_an_attribute_too_large_to_be_sysfs_is_unknown_not_absent(tmp_path):
    manifest = tap().set(DISK + "/scsi_level", "7").set("block/sda/queue/physical_block_size", "4096" + " " * 70000)
    result = scsi_result(tmp_path, manifest)
    assert result["status"] == "unknown", result["message"]
    assert "sda physical sector size unknown (%s/queue/physical_block_size: larger than 65536 bytes: not read)" % (
        tmp_path / "sys" / tap().resolve("block/sda")) in result["message"]
    assert "absent" not in result["message"]


@pytest.mark.parametrize("edit, said", [
    (lambda m: m.set(SCSI + "/vendor", "0xZZZZ"), "0000:00:03.0 vendor ID unknown (%s/vendor: '0xZZZZ' is not a number)"),
    (lambda m: m.fifo(SCSI + "/device"), "0000:00:03.0 device ID unknown (%s/device: is a FIFO (named pipe)"),
    (lambda m: m.link(SCSI, "0000:00:03.0"), "0000:00:03.0 vendor ID unknown (%s/vendor: too many levels of symbolic links)"),
])
def test_a_function_whose_ids_are_unreadable_may_be_the_device(tmp_path, edit, said):
    """No function shows the IDs, but one whose vendor or device ID tells
    nothing may be it: unknown, naming the file, not "no such device"."""
    result = scsi_result(tmp_path, edit(tap().set(DISK + "/scsi_level", "7")))
    assert result["status"] == "unknown", result["message"]
    assert result["message"].startswith("live: no PCI function shows 1af4:1004 virtio-scsi (transitional), but ")
    shown = str(tmp_path / "sys" / SCSI)
    assert (said % shown) in result["message"] or (said % (tmp_path / "sys" / tap().resolve(SCSI))) in result["message"], \
        result["message"]
    assert "None" not in result["message"]
    # a function whose readable ID differs cannot be it: the others still fail as absent
    assert net_result(tmp_path / "net", tap().set(NET + "/vendor", "0xZZZZ").set(NET + "/device", "0x1234"))["status"] == "fail"


@pytest.mark.parametrize("edit, said", [
    (lambda m: m.set("class/tty/ttyS0/irq", ""), "ttyS0 IRQ unknown (%s/class/tty/ttyS0/irq: '' is not a number)"),
    (lambda m: m.remove("devices/pnp0/00:03/tty/ttyS0/irq"), "ttyS0 IRQ unknown (%s/class/tty/ttyS0/irq: absent)"),
    (lambda m: m.set("class/tty/ttyS1/port", "0xZZ"), "ttyS1 I/O port unknown (%s/class/tty/ttyS1/port: '0xZZ' is not a number)"),
    (lambda m: m.fifo("class/tty/ttyS1/port"), "ttyS1 I/O port unknown (%s/devices/pnp0/00:02/tty/ttyS1/port: is a FIFO"),
])
def test_a_port_whose_irq_or_io_port_tells_nothing_is_unknown(tmp_path, edit, said):
    result = serial_result(tmp_path, edit(tap()))
    assert result["status"] == "unknown", result["message"]
    assert (said % (tmp_path / "sys")) in result["message"], result["message"]
    assert "None" not in result["message"]


def test_a_16550_without_a_working_fifo_is_a_uart_of_another_model(tmp_path):
    """PORT_16550 (3): the 8250 driver found a UART whose FIFO does not work,
    not "no UART" (that is PORT_UNKNOWN, 0)."""
    result = serial_result(tmp_path, tap().set("class/tty/ttyS1/type", "3"))
    assert result["status"] == "fail"
    assert "ttyS1 is uart:16550, expected 16550A (a UART of another model at 0x2f8)" in result["message"]
    assert "no UART" not in result["message"]


def test_features_of_any_length_are_read_by_bit_and_a_bit_not_shown_is_unknown(tmp_path):
    """Linux prints as many bits as its feature set holds (64; 128 since the
    extended features of 6.18, as the buildhost capture shows): a longer
    string passes, one too short to hold a wanted bit leaves it unknown, not off."""
    bits = tap().get(SCSI + "/virtio0/features")
    manifest = tap().set(DISK + "/scsi_level", "7")
    assert scsi_result(tmp_path / "a", manifest.copy().set(SCSI + "/virtio0/features", bits + "0" * 64))["status"] == "pass"
    result = scsi_result(tmp_path / "b", manifest.copy().set(SCSI + "/virtio0/features", "01"))
    assert result["status"] == "unknown", result["message"]
    assert "virtio0 feature CHANGE unknown (%s shows 2 bits, none for bit 2)" % (
        tmp_path / "b" / "sys" / "bus/virtio/devices/virtio0/features") in result["message"]
    assert "off" not in result["message"]


def _replace(relative, make):
    """An edit of the built tree: the file at ``relative`` replaced by what ``make(path)`` creates."""
    def edit(root):
        path = os.path.join(root, relative)
        os.unlink(path)
        make(path)
    return edit


@pytest.mark.parametrize("edit, said", [
    (_replace(SCSI + "/driver", lambda p: os.symlink("driver", p)), "driver unknown ({root}/%s/driver -> driver: not a link to a driver" % SCSI),
    (_replace(SCSI + "/driver", lambda p: os.symlink("/etc", p)), "driver unknown ({root}/%s/driver -> /etc: not a link to a driver" % SCSI),
    (_replace(SCSI + "/driver", os.mkfifo), "driver unknown ({root}/%s/driver: is a FIFO (named pipe), not a link to a driver)" % SCSI),
    (_replace(SCSI + "/virtio0/driver", os.mkdir),
     "virtio0 driver unknown ({root}/bus/virtio/devices/virtio0/driver: is a directory, not a link to a driver)"),
    (_replace("bus/virtio/devices/virtio0", lambda p: os.symlink("virtio0", p)),
     "virtio device virtio0 unknown ({root}/bus/virtio/devices/virtio0: too many levels of symbolic links)"),
    (_replace("bus/virtio/devices/virtio0", lambda p: os.symlink("/etc/passwd", p)),
     "virtio device virtio0 unknown ({root}/bus/virtio/devices/virtio0: does not lead to a device's directory)"),
    (_replace("bus/virtio/devices/virtio0", os.mkfifo),
     "virtio device virtio0 unknown ({root}/bus/virtio/devices/virtio0: does not lead to a device's directory)"),
])
def test_a_driver_or_virtio_link_that_leads_nowhere_is_unknown_not_a_wrong_driver(tmp_path, edit, said):
    """The kernel links ``driver`` to bus/<bus>/drivers/<name>: anything else
    tells nothing of the driver (its text is never followed), and a virtio
    device whose link does not resolve may be the function's."""
    manifest = tap().set(DISK + "/scsi_level", "7")
    root = manifest.build(str(tmp_path / "sys"))
    edit(root)
    result = by_id(hardware_results.assess(HW, {}, "x86_64", live=guest_devices.LiveCheck(
        root, offloads=manifest.offload_reader())))["HW-SCSI-VIRTIO"]
    assert result["status"] == "unknown", result["message"]
    assert said.format(root=root) in result["message"], result["message"]
    assert "bound to" not in result["message"] and "no virtio device" not in result["message"]


def test_a_port_whose_link_loops_is_unknown_not_absent(tmp_path):
    manifest = tap()
    root = manifest.build(str(tmp_path / "sys"))
    _replace("class/tty/ttyS2", lambda p: os.symlink("ttyS2", p))(root)
    result = by_id(hardware_results.assess(HW, {}, "x86_64", live=guest_devices.LiveCheck(root)))["HW-SERIAL"]
    assert result["status"] == "unknown", result["message"]
    assert "ttyS2 unknown (%s/class/tty/ttyS2: too many levels of symbolic links)" % root in result["message"]
    assert "absent" not in result["message"]


@pytest.mark.parametrize("relative, make, rid, said", [
    ("bus/pci/devices", lambda p: os.symlink("devices", p), "HW-NET-VIRTIO",
     "PCI devices unknown ({root}/bus/pci/devices: too many levels of symbolic links)"),
    ("bus/pci/devices", lambda p: open(p, "w").close(), "HW-ISA-PIIX4", "PCI devices unknown ({root}/bus/pci/devices: not a directory)"),
    (DISK, lambda p: os.symlink("0:0:1:0", p), "HW-SCSI-VIRTIO",
     "SCSI device 0:0:1:0 unknown ({root}/%s: too many levels of symbolic links)" % DISK),
])
def test_a_bus_or_scsi_link_that_loops_is_unknown_not_absent(tmp_path, relative, make, rid, said):
    manifest = tap().set(DISK + "/scsi_level", "7")
    root = manifest.build(str(tmp_path / "sys"))
    path = os.path.join(root, relative)
    if os.path.islink(path):
        os.unlink(path)
    else:
        shutil.rmtree(path)
    make(path)
    result = by_id(hardware_results.assess(HW, {}, "x86_64", live=guest_devices.LiveCheck(
        root, offloads=manifest.offload_reader())))[rid]
    assert result["status"] == "unknown", result["message"]
    assert said.format(root=root) in result["message"], result["message"]
    assert "no PCI bus" not in result["message"] and "no SCSI device" not in result["message"]


@pytest.mark.parametrize("make, said", [
    (os.mkfifo, "ttyS1 UART type unknown ({real}/type: is a FIFO (named pipe), not a regular file: not read)"),
    (lambda p: os.symlink("type", p), "ttyS1 UART type unknown ({real}/type: too many levels of symbolic links)"),
])
def test_a_port_type_that_cannot_be_read_is_unknown_not_absent(tmp_path, make, said):
    """Absent or not a number, a port shows no UART (fail); a type that cannot be read tells nothing."""
    root = tap().build(str(tmp_path / "sys"))
    real = os.path.join(root, tap().resolve("class/tty/ttyS1"))
    _replace(os.path.join(real, "type"), make)(root)
    result = serial_result_of(root)
    assert result["status"] == "unknown", result["message"]
    assert said.format(real=real) in result["message"], result["message"]
    assert "absent" not in result["message"]


def serial_result_of(root):
    return by_id(hardware_results.assess(HW, {}, "x86_64", live=guest_devices.LiveCheck(root)))["HW-SERIAL"]


def test_an_unknown_id_or_queue_count_never_shows_none(tmp_path):
    """A function found instead whose vendor is unreadable, and a disk whose
    blk-mq queues are unknown, are shown as unknown, not as Python's None."""
    manifest = fakesys.Manifest.load("noncompliant-user").set("bus/pci/devices/0000:00:01.0/vendor", "")
    isa = by_id(hardware_results.assess(HW, {}, "x86_64", live=live(tmp_path / "a", manifest)))["HW-ISA-PIIX4"]
    assert "found instead: 0000:00:01.0 ?:7000" in isa["message"], isa["message"]
    manifest = fakesys.Manifest.load("gce-scsi-2q")
    root = manifest.build(str(tmp_path / "b" / "sys"))
    _replace("block/sda", lambda p: os.symlink("sda", p))(root)
    scsi = by_id(hardware_results.assess(HW, {}, "x86_64", live=guest_devices.LiveCheck(root)))["HW-SCSI-VIRTIO"]
    assert "blk-mq hardware queues: sda unknown (at most one per possible CPU: 1)" in scsi["message"], scsi["message"]
    assert "None" not in isa["message"] + scsi["message"]


def test_a_disk_found_instead_with_an_unknown_sector_size_shows_a_question_mark(tmp_path):
    manifest = fakesys.Manifest.load("buildhost")
    manifest.set("block/vda/queue/logical_block_size", "")
    scsi = by_id(hardware_results.assess(HW, {}, "x86_64", live=live(tmp_path, manifest)))["HW-SCSI-VIRTIO"]
    assert "disks: vda 4096/? on 0000:00:02.0" in scsi["message"], scsi["message"]
    assert "None" not in scsi["message"]


def test_tso_v4_off_with_tso6_on_fails(tmp_path):
    """ethtool -k prints "tcp-segmentation-offload: on" when any TSO feature is (ethtool's
    off_flags; the kernel's ETHTOOL_GTSO reads NETIF_F_ALL_TSO): with TSO6 on and
    tx-tcp-segmentation (TSO v4) off, the requirement's TSO v4 is off."""
    manifest = tap()
    manifest.ethtool["ens4"] = manifest.ethtool["ens4"].replace(
        "\ttx-tcp-segmentation: on", "\ttx-tcp-segmentation: off").replace(
        "\ttx-tcp6-segmentation: off [fixed]", "\ttx-tcp6-segmentation: on")
    assert "tcp-segmentation-offload: on" in manifest.ethtool["ens4"]
    result = net_result(tmp_path, manifest)
    assert result["status"] == "fail", result["message"]
    assert "ens4: tcp-segmentation-offload for IPv4 (tx-tcp-segmentation) off" in result["message"]
    assert "ethtool -K ens4 tso on" in result["remediation"]
    assert result["live"]["devices"][0]["offloads"]["tcp-segmentation-offload"] is False


@pytest.mark.parametrize("rid, slot, modern, transitional", [
    ("HW-NET-VIRTIO", NET, "1af4:1041 virtio-net (modern only)", "1af4:1000 virtio-net (transitional)"),
    ("HW-SCSI-VIRTIO", SCSI, "1af4:1048 virtio-scsi (modern only)", "1af4:1004 virtio-scsi (transitional)"),
])
def test_a_modern_only_virtio_device_is_named_as_the_cause(tmp_path, rid, slot, modern, transitional):
    """QEMU makes a virtio device modern-only (device ID 0x1040 + its virtio ID) with
    disable-legacy=on, the default on a PCI Express port (QEMU 9a4c0e220d8a, "Enable
    virtio-1.0 for devices plugged into PCIe ports"): the device is there in another form,
    whatever its class (Compute Engine's virtio-scsi is class 0x000000)."""
    manifest = tap().set(slot + "/device", "0x%s" % modern[5:9]).set(slot + "/class", "0x000000")
    result = by_id(hardware_results.assess(HW, {}, "x86_64", live=live(tmp_path, manifest)))[rid]
    assert result["status"] == "fail"
    assert "found instead: " in result["message"] and modern in result["message"], result["message"]
    assert result["remediation"].startswith(
        "%s is the modern-only (non-transitional) form of the device; Compute Engine presents the "
        "transitional %s (QEMU makes a virtio device modern-only with disable-legacy=on" % (slot.rsplit("/", 1)[1], transitional))
    assert "judge the devices on such a machine" not in result["remediation"]


def test_a_q35_chipset_is_named_for_the_piix4_functions_it_lacks(tmp_path):
    """QEMU's q35 has an ICH9 LPC bridge (8086:2918) and no PIIX4 ACPI function at all:
    the message names the chipset's bridges, not only the platform string."""
    manifest = tap().remove("bus/pci/devices/0000:00:01.0").remove("bus/pci/devices/0000:00:01.3")
    lpc = "devices/pci0000:00/0000:00:1f.0"
    for name, value in (("vendor", "0x8086"), ("device", "0x2918"), ("class", "0x060100"), ("revision", "0x02")):
        manifest.set(lpc + "/" + name, value)
    manifest.link("bus/pci/devices/0000:00:1f.0", "../../../" + lpc)
    port = "devices/pci0000:00/0000:00:1c.0"   # a pcie-root-port: no chipset function
    for name, value in (("vendor", "0x1b36"), ("device", "0x000c"), ("class", "0x060400")):
        manifest.set(port + "/" + name, value)
    manifest.link("bus/pci/devices/0000:00:1c.0", "../../../" + port)
    manifest.set("class/dmi/id/product_name", "Google Compute Engine")
    results = by_id(hardware_results.assess(HW, {}, "x86_64", live=live(tmp_path, manifest)))
    acpi = results["HW-PCI-PIIX4-ACPI"]
    assert acpi["status"] == "fail"
    assert ("no 8086:7113 Intel 82371AB/EB/MB PIIX4 ACPI PCI device; the chipset's bridges: "
            "0000:00:00.0 8086:1237, 0000:00:1f.0 8086:2918 Intel ICH9 LPC/ISA bridge (QEMU q35)") in acpi["message"]
    assert str(tmp_path / "sys" / "bus/pci/devices/0000:00:1f.0/device") in acpi["evidence"]["live"]
    assert "1b36:000c" not in acpi["message"]
    isa = results["HW-ISA-PIIX4"]["message"]
    assert "found instead: 0000:00:1f.0 8086:2918 Intel ICH9 LPC/ISA bridge (QEMU q35)" in isa
    assert "the chipset's bridges" not in isa


def second_controller(manifest, slot="0000:00:05.0", name="virtio2"):
    """A copy of the captured virtio-scsi controller at ``slot``, with no SCSI device behind it."""
    for table in (manifest.files, manifest.links):
        for path, value in list(table.items()):
            if path.startswith("devices/pci0000:00/0000:00:03.0/") and "/host0/" not in path:
                table[path.replace("0000:00:03.0", slot).replace("virtio0", name)] = value
    manifest.link("bus/pci/devices/" + slot, "../../../devices/pci0000:00/" + slot)
    return manifest.link("bus/virtio/devices/" + name, "../../../devices/pci0000:00/%s/%s" % (slot, name))


def test_an_empty_controller_beside_one_with_disks_leaves_nothing_unknown(tmp_path):
    """Every disk was judged behind the first controller; the second one's own IDs,
    features and queues are judged, and no disk requirement is left unchecked."""
    result = scsi_result(tmp_path / "a", second_controller(tap().set(DISK + "/scsi_level", "7")))
    assert result["status"] == "pass", result["message"]
    assert ("0000:00:05.0 1af4:1004 virtio-scsi (transitional): as expected (features HOTPLUG, CHANGE on, "
            "no SCSI device behind it (the disks are behind 0000:00:03.0), 1 request queue (MSI-X table of 4 "
            "vectors))") in result["message"]
    # still judged: the empty controller's own queues
    manifest = second_controller(tap().set(DISK + "/scsi_level", "7"))
    manifest.set("devices/pci0000:00/0000:00:05.0/config", fakesys.Manifest.load("gce-scsi-2q").get(SCSI + "/config"))
    result = scsi_result(tmp_path / "b", manifest)
    assert result["status"] == "fail" and "0000:00:05.0 1af4:1004 virtio-scsi (transitional): the controller " \
        "offers 2 request queues, expected 1" in result["message"]
    # no controller with a disk: nothing to check the disk requirements on
    result = scsi_result(tmp_path / "c", second_controller(tap().remove(DISK).remove("block/sda")))
    assert result["status"] == "unknown" and "no SCSI device behind the controller" in result["message"]


def test_a_disk_without_a_block_device_says_whether_sd_is_bound(tmp_path):
    """sd (sd_mod) binds a SCSI disk and makes its block device; the scsi_device's
    driver link says whether it is bound (drivers/base/dd.c, driver_sysfs_add)."""
    manifest = tap().set(DISK + "/scsi_level", "7").remove("block/sda").remove(DISK + "/block")
    result = scsi_result(tmp_path / "a", manifest)
    assert result["status"] == "unknown"
    assert "0:0:1:0 has no block device: no driver bound to it (sd expected" in result["message"]
    assert "modprobe sd_mod" in result["remediation"]
    manifest.link("devices/pci0000:00/0000:00:03.0/virtio0/host0/target0:0:1/0:0:1:0/driver",
                  "../../../../../../../bus/scsi/drivers/sd")
    result = scsi_result(tmp_path / "b", manifest)
    assert result["status"] == "unknown"
    assert "0:0:1:0 has no block device (driver sd; being removed?)" in result["message"]
    assert "modprobe sd_mod" not in result["remediation"]


def test_a_kernel_without_the_revision_attribute_is_judged_by_the_configuration_space(tmp_path):
    """drivers/pci/pci-sysfs.c has a ``revision`` attribute from Linux 4.10 on (Ubuntu
    16.04's and SLES 12 SP3's 4.4 have none): the revision ID is byte 0x08 of ``config``, as lspci reads it."""
    manifest = tap().remove("bus/pci/devices/0000:00:01.3/revision").remove("bus/pci/devices/0000:00:01.0/revision")
    results = by_id(hardware_results.assess(HW, {}, "x86_64", live=live(tmp_path / "a", manifest)))
    assert results["HW-PCI-PIIX4-ACPI"]["status"] == "pass", results["HW-PCI-PIIX4-ACPI"]["message"]
    config = str(tmp_path / "a" / "sys" / "bus/pci/devices/0000:00:01.3/config")
    assert results["HW-PCI-PIIX4-ACPI"]["evidence"]["live"][config]["revision ID (byte 0x08)"] == "0x03"
    assert "revision 0x00, expected 0x03" in results["HW-ISA-PIIX4"]["message"]
    manifest.remove("bus/pci/devices/0000:00:01.3/config")
    acpi = by_id(hardware_results.assess(HW, {}, "x86_64", live=live(tmp_path / "b", manifest)))["HW-PCI-PIIX4-ACPI"]
    assert acpi["status"] == "unknown" and "revision unknown" in acpi["message"], acpi["message"]
