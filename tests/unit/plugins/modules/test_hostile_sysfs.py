"""Hostile fake sysfs trees."""
import os
import shutil
import tempfile

import pytest
from hostile import alarm
from test_guest_hardware_info import no_ethtool_on_this_host  # noqa: F401  # pylint: disable=unused-import
from test_without_root import both, by_id
import fakesys
from ansible_collections.guestready.gce.plugins.module_utils import sysfs as reader, initramfs
from ansible_collections.guestready.gce.plugins.module_utils import guest_devices
from ansible_collections.guestready.gce.plugins.modules import guest_hardware_info

NIC = "devices/pci0000:00/0000:00:04.0"


@pytest.fixture(autouse=True)
def stubs(monkeypatch):
    monkeypatch.setattr(initramfs, "kernel_modules", lambda path, target=None, release=None: (None, "fixture", "stubbed"))


@pytest.mark.parametrize("attr, value", [("device", "garbage"), ("vendor", "0xzz"), ("device", "")])
def test_a_pci_id_that_is_not_hex_is_no_traceback(tmp_path, run_module, attr, value):
    manifest = fakesys.Manifest.load("gce-tap")
    manifest.set("%s/%s" % (NIC, attr), value)
    sysfs = manifest.build(str(tmp_path / "sys"))
    with alarm(30):
        out = run_module(guest_hardware_info, {"sysfs_root": sysfs, "mode": "live"})
    print(out.get("msg"), out.get("exception", "")[-600:])
    assert out["rc"] == 0, out.get("msg")
    assert "Traceback" not in repr(out)


def test_ident_of_ids_that_are_not_numbers(tmp_path):
    manifest = fakesys.Manifest.load("gce-tap")
    manifest.set(NIC + "/device", "garbage")
    sysfs = manifest.build(str(tmp_path / "sys"))
    check = guest_devices.LiveCheck(sysfs)
    devices = check.summary()["pci_devices"]   # was TypeError: %x format needs an integer, not None
    assert any(line.startswith("0000:00:04.0 ") for line in devices), devices


@pytest.mark.parametrize("text", ["0-\u00b2", "\u00b9"])
def test_possible_cpus_with_unicode_digits_are_unknown(tmp_path, text):
    manifest = fakesys.Manifest.load("gce-tap")
    manifest.set("devices/system/cpu/possible", text)
    sysfs = manifest.build(str(tmp_path / "sys"))
    assert reader.possible_cpus(reader.Sysfs(sysfs)) is None


def test_possible_cpus_with_unicode_digits_in_the_module(tmp_path, run_module):
    manifest = fakesys.Manifest.load("gce-tap")
    manifest.set("devices/system/cpu/possible", "0-\u00b2")
    sysfs = manifest.build(str(tmp_path / "sys"))
    with alarm(30):
        out = run_module(guest_hardware_info, {"sysfs_root": sysfs, "mode": "live"})
    assert out["rc"] == 0, out.get("msg")


@pytest.mark.parametrize("text", ["0-" + "9" * 5000, "9" * 4301 + ",0"])
def test_possible_cpus_thousands_of_digits_long_are_unknown_not_a_traceback(tmp_path, run_module, text):
    """int() refuses more than 4300 decimal digits (Python 3.11+): ValueError, not None."""
    manifest = fakesys.Manifest.load("gce-tap")
    manifest.set("devices/system/cpu/possible", text)
    sysfs = manifest.build(str(tmp_path / "sys"))
    assert reader.possible_cpus(reader.Sysfs(sysfs)) is None
    with alarm(30):
        out = run_module(guest_hardware_info, {"sysfs_root": sysfs, "mode": "live"})
    assert out["rc"] == 0, out.get("msg")
    scsi = dict((r["id"], r) for r in out["results"])["HW-SCSI-VIRTIO"]
    assert scsi["live"]["devices"][0]["request_queues"]["possible_cpus"] is None


def test_a_device_list_only_root_reads_is_unknown_not_absent():
    """A tree (or a hardened /sys) whose bus/pci/devices a user may enter but not
    list: the devices are unknown, never "no such PCI device"."""
    top = tempfile.mkdtemp(prefix="guestready-nonroot-")   # every user may enter it, unlike tmp_path
    try:
        os.chmod(top, 0o755)
        sysfs_root = fakesys.Manifest.load("gce-tap").build(os.path.join(top, "sys"))
        os.chmod(os.path.join(sysfs_root, "bus", "pci", "devices"), 0o311)
        as_root, as_nobody = both(guest_hardware_info, {"sysfs_root": sysfs_root, "mode": "live"})
    finally:
        shutil.rmtree(top)
    assert by_id(as_root)["HW-PCI-PIIX4-ACPI"]["status"] == "pass"
    acpi = by_id(as_nobody)["HW-PCI-PIIX4-ACPI"]
    assert acpi["status"] == "unknown", acpi["message"]
    assert "needs root: %s/bus/pci/devices is not readable as user nobody" % sysfs_root in acpi["message"]
    assert "no 8086:7113" not in acpi["message"]


def test_an_unknown_revision_or_class_shows_a_question_mark_in_the_summary(tmp_path):
    manifest = fakesys.Manifest.load("gce-tap")
    for name in ("revision", "config"):
        manifest.remove(NIC + "/" + name)
    manifest.set(NIC + "/class", "junk")
    check = guest_devices.LiveCheck(manifest.build(str(tmp_path / "sys")))
    line = [d for d in check.summary()["pci_devices"] if d.startswith("0000:00:04.0 ")]
    assert line == ["0000:00:04.0 1af4:1000 rev ? class ? driver virtio-pci"], line   # was "rev  class "
