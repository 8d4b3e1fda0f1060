"""The sysfs reader on captured and hostile trees: PCI configuration space
(MSI-X), possible CPUs, DMI, and trees that try to block or lead out."""

import os
import signal

import pytest

from ansible_collections.guestready.gce.plugins.module_utils import compute_engine, sysfs
import fakesys

SCSI = "bus/pci/devices/0000:00:03.0"


@pytest.fixture
def alarm():
    """Fail instead of hanging when a read blocks (a FIFO opened for reading)."""
    def expired(signum, frame):
        raise AssertionError("a read blocked")
    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def tree(tmp_path, manifest):
    if isinstance(manifest, str):
        manifest = fakesys.Manifest.load(manifest)
    return sysfs.Sysfs(manifest.build(str(tmp_path / "sys")))


@pytest.mark.parametrize("text,count", [("0", 1), ("0-1", 2), ("0-3", 4), ("0,2-5", 6), ("0-1,8", 9),
                                        ("", None), ("x", None), ("0-1-2", None)])
def test_possible_cpus(tmp_path, text, count):
    manifest = fakesys.Manifest().set("devices/system/cpu/possible", text)
    assert sysfs.possible_cpus(tree(tmp_path, manifest)) == count


def test_no_possible_file(tmp_path):
    evidence = {}
    assert sysfs.possible_cpus(tree(tmp_path, fakesys.Manifest()), evidence) is None
    assert list(evidence.values()) == [None]


def test_msix_of_the_captured_controllers(tmp_path):
    one = sysfs.pci_msix(tree(tmp_path / "a", "gce-tap"), "/" + SCSI)
    assert one == {"state": "read", "offset": one["offset"], "table_size": 4, "enabled": True}
    two = sysfs.pci_msix(tree(tmp_path / "b", "gce-scsi-2q"), "/" + SCSI)
    assert (two["state"], two["table_size"], two["enabled"]) == ("read", 5, True)


def test_msix_unprivileged_read(tmp_path):
    """Without root the kernel returns the first 64 bytes: the capabilities are out of reach."""
    manifest = fakesys.Manifest.load("gce-tap")
    manifest.set(SCSI + "/config", manifest.get(SCSI + "/config")[:64])
    evidence = {}
    found = sysfs.pci_msix(tree(tmp_path, manifest), "/" + SCSI, evidence)
    assert found["state"] == "unreadable"
    assert "only 64 bytes readable: reading the capabilities needs root" in found["error"]
    shown = str(tmp_path / "sys" / SCSI / "config")
    assert evidence[shown]["bytes"] == 64


def test_msix_absent_and_looping_lists(tmp_path):
    config = bytearray(256)
    assert sysfs._msix(bytes(config), "c") == {"state": "absent"}      # no capability list
    config[sysfs.PCI_STATUS] = sysfs.PCI_STATUS_CAP_LIST
    config[sysfs.PCI_CAPABILITY_LIST] = 0x40
    config[0x40:0x42] = bytes([0x05, 0x40])                           # MSI, pointing at itself
    assert sysfs._msix(bytes(config), "c")["error"] == "c: the capability list does not end"
    config[0x41] = 0x50
    config[0x50:0x54] = bytes([0x11, 0x00, 0x07, 0x80])               # MSI-X, 8 vectors, enabled
    assert sysfs._msix(bytes(config), "c") == {
        "state": "read", "offset": "0x50", "table_size": 8, "enabled": True}
    assert sysfs._msix(b"\0" * 10, "c")["state"] == "unreadable"


def test_dmi_and_compute_engine(tmp_path):
    gce = compute_engine.detect(tree(tmp_path / "a", "gce-tap"))
    assert gce["on_gce"] is True
    assert gce["reason"] == "SMBIOS product name 'Google Compute Engine': a Compute Engine VM"
    assert gce["evidence"][str(tmp_path / "a" / "sys" / "class/dmi/id/bios_vendor")] == "Google"
    qemu = compute_engine.detect(tree(tmp_path / "b", "noncompliant-user"))
    assert qemu["on_gce"] is False
    assert qemu["reason"].startswith("not a Compute Engine VM (DMI sys_vendor 'QEMU', product_name "
                                     "'Standard PC (i440FX + PIIX, 1996)'")
    none = compute_engine.detect(tree(tmp_path / "c", "buildhost"))
    assert none["on_gce"] is False and none["reason"].startswith("no DMI (SMBIOS) strings in ")


def test_chromebook_vendor_is_not_compute_engine(tmp_path):
    manifest = fakesys.Manifest().set("class/dmi/id/sys_vendor", "Google").set(
        "class/dmi/id/product_name", "Eve").set("class/dmi/id/bios_vendor", "coreboot")
    assert compute_engine.detect(tree(tmp_path, manifest))["on_gce"] is False


def test_fifo_in_a_fake_tree_is_reported_not_read(tmp_path, alarm):
    manifest = fakesys.Manifest.load("gce-tap").fifo(SCSI + "/vendor").fifo(SCSI + "/config")
    reader = tree(tmp_path, manifest)
    evidence = {}
    assert reader.read("/" + SCSI + "/vendor", evidence) is None
    shown = str(tmp_path / "sys" / SCSI / "vendor")
    assert evidence[shown].startswith("not read: ") and "FIFO (named pipe)" in evidence[shown]
    found = sysfs.pci_msix(reader, "/" + SCSI)
    assert found["state"] == "unreadable" and "FIFO (named pipe)" in found["error"]


def test_links_out_of_the_tree_stay_inside(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("0x1234\n")
    manifest = fakesys.Manifest.load("gce-tap")
    root = manifest.build(str(tmp_path / "sys"))
    vendor = os.path.join(root, SCSI, "vendor")
    os.unlink(vendor)
    os.symlink(str(secret), vendor)                          # absolute: resolved inside the tree
    os.unlink(os.path.join(root, SCSI, "device"))
    os.symlink("../../../../../secret", os.path.join(root, SCSI, "device"))  # ".." stops at the root
    reader = sysfs.Sysfs(root)
    assert reader.read("/" + SCSI + "/vendor") is None
    assert reader.read("/" + SCSI + "/device") is None
    assert reader.read("/" + SCSI + "/class") == "0x010000"


def test_the_live_sysfs_keeps_ordinary_resolution():
    """/sys is read with one open per attribute, with the target layer's errors."""
    if not os.path.isdir("/sys/kernel"):
        pytest.skip("no /sys on this host")
    reader = sysfs.Sysfs("/sys")
    assert reader.live and isinstance(reader.target, sysfs.LiveSysfs)
    assert reader.shown("/kernel") == "/sys/kernel"
    with pytest.raises(sysfs.NotRegular) as raised:
        reader.target.read_bytes("/kernel", 10)
    assert raised.value.kind == "directory"
    with pytest.raises(sysfs.Missing):
        reader.target.read_bytes("/no/such/attribute", 10)
    assert reader.read("/no/such/attribute") is None
    assert reader.real("/kernel") == "/kernel"
    assert reader.listdir("/no/such/directory") == []
    assert not sysfs.Sysfs(str(os.path.realpath("/"))).live


def test_an_attribute_too_large_or_behind_looping_links_is_not_read_not_absent(tmp_path):
    """Only a missing file is absent: one larger than a sysfs page can be, or
    whose links loop, is "not read" with the reason."""
    manifest = fakesys.Manifest.load("gce-tap").set(SCSI + "/vendor", "0x1af4" + " " * sysfs.MAX_ATTRIBUTE)
    root = manifest.build(str(tmp_path / "sys"))
    os.unlink(os.path.join(root, SCSI, "device"))
    os.symlink("device", os.path.join(root, SCSI, "device"))
    reader, evidence = sysfs.Sysfs(root), {}
    assert reader.read("/" + SCSI + "/vendor", evidence) is None
    assert reader.read("/" + SCSI + "/device", evidence) is None
    assert reader.read("/" + SCSI + "/nothing", evidence) is None
    shown = str(tmp_path / "sys" / SCSI)
    assert evidence[shown + "/vendor"].startswith("not read: ") and "larger than 65536 bytes" in evidence[shown + "/vendor"]
    assert evidence[shown + "/device"].startswith("not read: ") and "too many levels of symbolic links" in evidence[shown + "/device"]
    assert evidence[shown + "/nothing"] is None


def test_the_live_sysfs_reads_driver_links():
    """A driver link of the live /sys names its driver (bus/<bus>/drivers/<name>)."""
    if not os.path.isdir("/sys/bus/pci/devices"):
        pytest.skip("no PCI bus in this host's /sys")
    reader = sysfs.Sysfs("/sys")
    bound = [slot for slot in reader.listdir("/bus/pci/devices") if os.path.islink("/sys/bus/pci/devices/%s/driver" % slot)]
    if not bound:
        pytest.skip("no PCI function bound to a driver here")
    path = "/bus/pci/devices/" + bound[0]
    name, why = reader.driver(path, real=reader.real(path))
    assert (name, why) == (os.path.basename(os.readlink("/sys%s/driver" % path)), None)
    assert reader.driver("/bus/pci/devices/no-such-slot") == (None, None)


def test_msix_walk_ends_at_a_capability_id_of_all_ones():
    """drivers/pci/pci.c, __pci_find_next_cap_ttl: an ID of 0xff (a function that is
    gone reads all ones) ends the list: no MSI-X, not a list that does not end."""
    assert sysfs._msix(b"\xff" * 256, "c") == {"state": "absent"}
    config = bytearray(256)
    config[sysfs.PCI_STATUS] = sysfs.PCI_STATUS_CAP_LIST
    config[sysfs.PCI_CAPABILITY_LIST] = 0x40
    config[0x40:0x42] = bytes([0xFF, 0x50])
    config[0x50:0x54] = bytes([0x11, 0x00, 0x07, 0x80])               # beyond the end: not found
    assert sysfs._msix(bytes(config), "c") == {"state": "absent"}
