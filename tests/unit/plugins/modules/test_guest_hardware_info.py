"""guest_hardware_info driven through AnsibleModule, on fake trees."""

import gzip
import os

import pytest

from ansible_collections.guestready.gce.plugins.module_utils import devices, ethtool, initramfs
from ansible_collections.guestready.gce.plugins.modules import guest_hardware_info
import trees
import fakesys

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures")
KCONFIG = os.path.join(FIXTURES, "kconfig")
CLOUD, GENERIC = "6.1.0-50-cloud-amd64", "6.1.0-50-amd64"


@pytest.fixture(autouse=True)
def no_ethtool_on_this_host(monkeypatch):
    """Offloads are never read from this host's interfaces in unit tests."""
    original = devices.offload_reader

    def reader(sysfs_root, module):
        if os.path.realpath(sysfs_root) == "/sys":
            return ethtool.no_offload_reader("not read in unit tests")
        return original(sysfs_root, module)
    monkeypatch.setattr(devices, "offload_reader", reader)


@pytest.fixture
def image(tmp_path, monkeypatch):
    """An image root with the cloud kernel and its initramfs, and a fake sysfs."""
    root = tmp_path / "image"
    trees.install(str(root), CLOUD)   # with boot/config-<release>
    (root / "boot" / ("initrd.img-" + CLOUD)).write_bytes(b"not read: the reader is stubbed")
    seen = []

    def modules(path, target=None, release=None):
        seen.append(path)
        return trees.initramfs_modules(CLOUD), "fixture", None
    monkeypatch.setattr(initramfs, "kernel_modules", modules)
    sysfs = fakesys.Manifest.load("gce-tap").build(str(tmp_path / "sys"))
    return {"root": str(root), "sysfs": sysfs, "initramfs_paths": seen}


def statuses(out):
    return dict((r["id"], r["status"]) for r in out["results"])


def test_image_root_is_checked_offline(image, run_module):
    out = run_module(guest_hardware_info, {"root": image["root"]}, check_mode=True)
    assert out["rc"] == 0 and out["changed"] is False
    assert out["mode"] == "offline" and out["guest"] is None
    assert out["arch"] == {"name": "x86_64", "source": "kernel configuration %s (header)" % os.path.join(
        image["root"], "boot", "config-" + CLOUD)}
    assert out["kernel"]["kernel_release"] == CLOUD
    assert out["kernel"]["initramfs"]["path"] == os.path.join(image["root"], "boot", "initrd.img-" + CLOUD)
    assert image["initramfs_paths"] == ["/boot/initrd.img-" + CLOUD]  # read once, inside the root
    assert statuses(out) == {
        "HW-PCI-PIIX4-ACPI": "not-applicable", "HW-ISA-PIIX4": "not-applicable",
        "HW-NET-VIRTIO": "module-in-initramfs", "HW-NET-GVNIC": "not-applicable",
        "HW-SCSI-VIRTIO": "module-in-initramfs", "HW-SERIAL": "pass"}
    assert out["summary"]["module-in-initramfs"] == 2 and len(out["results"]) == 6


def test_both_halves_on_fake_trees(image, run_module):
    out = run_module(guest_hardware_info, {"root": image["root"], "sysfs_root": image["sysfs"],
                                           "mode": "both"})
    assert out["mode"] == "both" and out["guest"]["platform"]["product"] == "Google Compute Engine"
    assert out["mode_reason"] == "mode both, as asked" and out["platform"]["on_gce"] is True
    result = statuses(out)
    assert result["HW-ISA-PIIX4"] == "fail" and result["HW-SERIAL"] == "pass"
    # offloads are read through this host's ethtool interface: not for a foreign tree
    net = [r for r in out["results"] if r["id"] == "HW-NET-VIRTIO"][0]
    assert net["status"] == "unknown"
    assert "is not this host's /sys" in net["message"]
    assert any("0000:00:04.0 1af4:1000 rev 00 class 020000 driver virtio-pci" == d
               for d in out["guest"]["pci_devices"])


def test_kernel_release_as_a_path(image, run_module):
    path = os.path.join(image["root"], "lib", "modules", CLOUD)
    out = run_module(guest_hardware_info, {"kernel_release": path})
    assert out["mode"] == "offline" and out["kernel"]["modules_dir"] == path
    # the tree above lib/modules is where the initramfs is looked for
    assert out["kernel"]["initramfs"]["path"].startswith(image["root"] + "/boot/")


def test_arm_release_selects_arm_requirements(tmp_path, run_module, monkeypatch):
    monkeypatch.setattr(initramfs, "kernel_modules", lambda path, target=None, release=None: ({"gve"}, "fixture", None))
    release = "6.1.0-50-arm64"
    # no configuration: the release name tells the architecture
    trees.install(str(tmp_path), CLOUD, directory=str(tmp_path / "lib" / "modules" / release), skip=("config",))
    out = run_module(guest_hardware_info, {"root": str(tmp_path)})
    assert out["arch"] == {"name": "arm64", "source": "kernel release name"}
    result = statuses(out)
    assert result["HW-SERIAL"] == "not-applicable" and result["HW-NET-VIRTIO"] == "not-applicable"
    assert result["HW-NET-GVNIC"] == "module-missing-from-initramfs"  # no initramfs file at all


@pytest.mark.parametrize("release", ["6.1.0-1015-gcp", "6.1.176", "6.1.0-50-cloud-amd64"])
def test_the_kernel_configuration_says_which_architecture(tmp_path, run_module, monkeypatch, release):
    # an arm64 kernel whose release name says nothing (or another architecture): its
    # configuration's header decides, not this x86_64 machine's uname -m
    monkeypatch.setattr(initramfs, "kernel_modules", lambda path, target=None, release=None: ({"gve"}, "fixture", None))
    with gzip.open(os.path.join(KCONFIG, "bookworm_arm64_cloud-arm64.config.gz"), "rt") as handle:
        arm64 = handle.read()
    trees.install(str(tmp_path), CLOUD, directory=str(tmp_path / "lib" / "modules" / release),
                  edits={"config": lambda text: arm64})
    os.rename(str(tmp_path / "boot" / ("config-" + CLOUD)), str(tmp_path / "boot" / ("config-" + release)))
    out = run_module(guest_hardware_info, {"root": str(tmp_path)})
    assert out["arch"] == {"name": "arm64", "source": "kernel configuration %s (header)" % (
        tmp_path / "boot" / ("config-" + release))}
    result = statuses(out)
    assert result["HW-SERIAL"] == "not-applicable" and result["HW-NET-VIRTIO"] == "not-applicable"
    assert result["HW-NET-GVNIC"] == "module-missing-from-initramfs"  # no initramfs file at all


def test_arch_option(image, run_module):
    out = run_module(guest_hardware_info, {"root": image["root"], "arch": "aarch64"})
    assert out["arch"] == {"name": "arm64", "source": "arch option"}
    assert statuses(out)["HW-NET-GVNIC"] == "module-in-initramfs"
    out = run_module(guest_hardware_info, {"root": image["root"], "arch": "sparc"})
    assert out["failed"] and "arch: 'sparc' is not one of x86_64, x86_32, arm64" in out["msg"]


def test_bad_inputs_name_themselves(image, tmp_path, run_module):
    out = run_module(guest_hardware_info, {"root": image["root"], "kernel_release": "9.9.9-1-amd64"})
    assert out["failed"] and "kernel_release: no %s/lib/modules/9.9.9-1-amd64" % image["root"] in out["msg"]
    assert "installed under %s: %s" % (image["root"], CLOUD) in out["msg"]
    empty = tmp_path / "empty"
    empty.mkdir()
    out = run_module(guest_hardware_info, {"root": str(empty)})
    assert out["failed"] and out["msg"].startswith("root: %s has no kernel" % empty)
    out = run_module(guest_hardware_info, {"kernel_release": str(tmp_path / "nowhere" / "6.1")})
    assert out["failed"] and "is not a directory" in out["msg"]
    out = run_module(guest_hardware_info, {"root": image["root"], "initramfs": "/boot/no.img"})
    assert out["failed"] and out["msg"] == "initramfs: %s/boot/no.img is not a regular file" % image["root"]
    out = run_module(guest_hardware_info, {"root": image["root"], "mode": "sometimes"})
    assert out["failed"] and "mode" in out["msg"]


def test_unreadable_module_table_is_a_clean_failure(tmp_path, run_module):
    (tmp_path / "lib" / "modules" / CLOUD / "modules.alias").mkdir(parents=True)
    out = run_module(guest_hardware_info, {"root": str(tmp_path)})
    assert out["failed"] and "modules.alias: is a directory, not a regular file" in out["msg"]


def test_waivers_and_overrides(image, run_module):
    out = run_module(guest_hardware_info, {
        "root": image["root"], "sysfs_root": image["sysfs"], "mode": "live",
        "waivers": {"HW-ISA-PIIX4": "lab: QEMU's PIIX4 ISA bridge is revision 00"}})
    isa = [r for r in out["results"] if r["id"] == "HW-ISA-PIIX4"][0]
    assert isa["status"] == "waived" and "revision 0x00" in isa["message"]
    out = run_module(guest_hardware_info, {"root": image["root"], "overrides": {"HW-SERIAL": 1}})
    assert out["failed"] and "HW-SERIAL cannot be overridden" in out["msg"]
    out = run_module(guest_hardware_info, {"root": image["root"], "waivers": {"HW-PIIX4": "x"}})
    assert out["failed"] and "did you mean" in out["msg"]


def test_this_host_is_a_result_not_a_crash(run_module, monkeypatch):
    """Whatever machine runs the suite: one record per ID, no traceback.  Not a
    Compute Engine VM (a CI runner, a workstation): its kernel is judged, its
    devices are not, and every result says so."""
    monkeypatch.setattr(initramfs, "kernel_modules", lambda path, target=None, release=None: (None, "fixture", "stubbed"))
    out = run_module(guest_hardware_info, {})
    assert out["rc"] == 0, out.get("msg")
    assert out["arch"]["source"] == "uname -m"
    assert out["kernel"]["kernel_release"] == os.uname()[2]
    assert len(out["results"]) == 6
    if out["platform"]["on_gce"]:
        pytest.skip("this host is a Compute Engine VM: auto judges both halves here")
    assert out["mode"] == "offline" and out["guest"] is None
    assert out["mode_reason"].startswith("auto: not a Compute Engine VM") or \
        out["mode_reason"].startswith("auto: no DMI")
    judged = [r for r in out["results"] if "live" in r]   # the others are another architecture's
    assert len(judged) == 5
    for result in judged:
        assert result["live"]["status"] == "not-applicable", result
        assert "live: not judged: " in result["message"]
        assert "mode: both judges this machine's devices anyway" in result["message"]


def test_this_hosts_sysfs_live(run_module, monkeypatch):
    """Asked for, this machine's devices are judged from its own /sys (read
    through the target layer), whatever they are."""
    monkeypatch.setattr(initramfs, "kernel_modules", lambda path, target=None, release=None: (None, "fixture", "stubbed"))
    out = run_module(guest_hardware_info, {"mode": "live"})
    assert out["rc"] == 0, out.get("msg")
    assert out["mode"] == "live" and out["mode_reason"] == "mode live, as asked"
    assert out["guest"]["sysfs_root"] == "/sys" and out["kernel"] is None
    assert out["platform"]["on_gce"] in (True, False)
    statuses = set(r["status"] for r in out["results"])
    assert statuses <= set(("pass", "fail", "unknown", "not-applicable"))


def test_auto_on_a_compute_engine_guest_judges_both(run_module, tmp_path, monkeypatch):
    """The running kernel, and a sysfs whose SMBIOS says Compute Engine."""
    monkeypatch.setattr(initramfs, "kernel_modules", lambda path, target=None, release=None: (None, "fixture", "stubbed"))
    sysfs = fakesys.Manifest.load("gce-tap").build(str(tmp_path / "sys"))
    out = run_module(guest_hardware_info, {"sysfs_root": sysfs})
    assert out["mode"] == "both", out["mode_reason"]
    assert out["mode_reason"] == ("auto: SMBIOS product name 'Google Compute Engine': a Compute Engine VM: "
                                  "its running kernel and its devices are judged")
    assert out["platform"]["on_gce"] is True
    assert out["platform"]["evidence"][os.path.join(sysfs, "class/dmi/id/product_name")] == \
        "Google Compute Engine"
    isa = [r for r in out["results"] if r["id"] == "HW-ISA-PIIX4"][0]
    assert isa["status"] == "fail" and "revision 0x00, expected 0x03" in isa["message"]


def test_auto_elsewhere_judges_the_kernel_only(run_module, tmp_path, monkeypatch):
    """A build VM (the lab's non-compliant guest): its failing devices are not
    the image's fault; asked for explicitly, they are shown."""
    monkeypatch.setattr(initramfs, "kernel_modules", lambda path, target=None, release=None: (None, "fixture", "stubbed"))
    sysfs = fakesys.Manifest.load("noncompliant-user").build(str(tmp_path / "sys"))
    out = run_module(guest_hardware_info, {"sysfs_root": sysfs})
    assert out["mode"] == "offline" and out["guest"] is None
    assert out["platform"]["on_gce"] is False
    reason = ("not a Compute Engine VM (DMI sys_vendor 'QEMU', product_name 'Standard PC (i440FX + PIIX, "
              "1996)', bios_vendor 'SeaBIOS')")
    assert out["mode_reason"].startswith("auto: " + reason)
    net = [r for r in out["results"] if r["id"] == "HW-NET-VIRTIO"][0]
    assert net["live"] == {"status": "not-applicable", "message": net["live"]["message"]}
    assert ("live: not judged: %s, so its devices are not Compute Engine's" % reason) in net["message"]
    assert "e1000" not in net["message"]
    forced = run_module(guest_hardware_info, {"sysfs_root": sysfs, "mode": "both"})
    assert forced["mode"] == "both" and forced["platform"]["on_gce"] is False
    failing = dict((r["id"], r["status"]) for r in forced["results"]
                   if r.get("live") and r["live"]["status"] == "fail")
    assert sorted(failing) == ["HW-ISA-PIIX4", "HW-NET-VIRTIO", "HW-SCSI-VIRTIO", "HW-SERIAL"]
    assert "8086:100e Intel 82540EM Gigabit Ethernet (e1000)" in [
        r for r in forced["results"] if r["id"] == "HW-NET-VIRTIO"][0]["message"]


def test_alpines_configuration_named_by_the_flavor_says_the_architecture(tmp_path, run_module, monkeypatch):
    # Alpine names its /boot files by the flavor (config-virt): the release's
    # configuration is there, and its header tells arm64 from this machine
    monkeypatch.setattr(initramfs, "kernel_modules", lambda path, target=None, release=None: ({"gve"}, "fixture", None))
    release = "6.1.176-0-virt"
    with gzip.open(os.path.join(KCONFIG, "bookworm_arm64_cloud-arm64.config.gz"), "rt") as handle:
        arm64 = handle.read()
    trees.install(str(tmp_path), CLOUD, directory=str(tmp_path / "lib" / "modules" / release),
                  edits={"config": lambda text: arm64})
    os.rename(str(tmp_path / "boot" / ("config-" + CLOUD)), str(tmp_path / "boot" / "config-virt"))
    (tmp_path / "boot" / "vmlinuz-virt").write_text("kernel")
    out = run_module(guest_hardware_info, {"root": str(tmp_path)})
    assert out["kernel"]["kernel_release"] == release
    assert out["kernel"]["config"] == str(tmp_path / "boot" / "config-virt")
    assert out["arch"] == {"name": "arm64", "source": "kernel configuration %s (header)" % (
        tmp_path / "boot" / "config-virt")}
    assert statuses(out)["HW-SERIAL"] == "not-applicable"


def test_the_newest_of_several_kernels_is_a_guess_said(image, run_module):
    # nothing in the tree says which kernel it boots: the newest is judged, and the task says so
    newer = "6.1.0-60-cloud-amd64"
    trees.install(image["root"], CLOUD, directory=os.path.join(image["root"], "lib", "modules", newer), skip=("config",))
    out = run_module(guest_hardware_info, {"root": image["root"]})
    assert out["kernel"]["kernel_release"] == newer
    assert any("%s holds several kernels (%s, %s)" % (image["root"], CLOUD, newer) in str(warning)
               and "judged the newest, %s" % newer in str(warning) for warning in out["warnings"])


def test_a_default_named_by_the_vmlinuz_link_is_no_guess(image, run_module):
    newer = "6.1.0-60-cloud-amd64"
    trees.install(image["root"], CLOUD, directory=os.path.join(image["root"], "lib", "modules", newer), skip=("config",))
    os.symlink("boot/vmlinuz-" + CLOUD, os.path.join(image["root"], "vmlinuz"))
    with open(os.path.join(image["root"], "boot", "vmlinuz-" + CLOUD), "w"):
        pass
    out = run_module(guest_hardware_info, {"root": image["root"]})
    assert out["kernel"]["kernel_release"] == CLOUD
    assert not any(image["root"] + " holds several kernels" in str(warning) for warning in out.get("warnings", []))
