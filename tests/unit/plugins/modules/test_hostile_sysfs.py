"""Hostile fake sysfs trees."""
import pytest
from hostile import alarm
from test_guest_hardware_info import no_ethtool_on_this_host  # noqa: F401  # pylint: disable=unused-import
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
