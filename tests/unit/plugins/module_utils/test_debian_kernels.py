"""The offline HW-* verdicts on Debian's newer kernels: trixie's 6.12 (amd64
and arm64 cloud builds) and sid's 7.2, from their real module tables
(tests/fixtures/modules/README.md).

What each test expects was read from the packages, not from the checks:
``modinfo -F alias`` and ``-F depends`` of the .ko files, modules.dep,
modules.builtin and the configuration:

* ``virtio_pci``, ``virtio``, ``virtio_ring`` and ``8250`` are built in
  (CONFIG_VIRTIO_PCI=y, CONFIG_SERIAL_8250=y with _NR_UARTS=32 on amd64,
  _RUNTIME_UARTS=4); only sid's modules.builtin.modinfo lists virtio_pci's
  device table (``virtio_pci.alias=pci:v00001AF4d*sv*sd*bc*sc*i*``);
* ``virtio_net`` (virtio:d00000001v*) needs net_failover and failover,
  ``virtio_scsi`` (virtio:d00000008v*) scsi_mod and scsi_common, ``gve``
  (pci:v00001AE0d00000042sv*sd*bc*sc*i*) nothing: all three =m."""

import os

import pytest

from ansible_collections.guestready.gce.plugins.module_utils import devices, hardware_results, initramfs, kernel_drivers
from ansible_collections.guestready.gce.plugins.module_utils.catalogue import requirements
import trees

TRIXIE, TRIXIE_ARM, SID = "6.12.117+deb13-cloud-amd64", "6.12.117+deb13-cloud-arm64", "7.2.13+deb14-cloud-amd64"
ARCH = {TRIXIE: "x86_64", TRIXIE_ARM: "arm64", SID: "x86_64"}
# the modules the drivers need, by modules.dep
NEEDED = {"virtio_net", "net_failover", "failover", "virtio_scsi", "scsi_mod", "scsi_common", "gve"}
HW = requirements("hardware")


@pytest.fixture
def initramfs_of(monkeypatch):
    """Make the shared initramfs reader answer with a given module set."""
    def install(modules):
        monkeypatch.setattr(initramfs, "find_initramfs", lambda release, root="/": "/boot/initrd.img-%s" % release)
        monkeypatch.setattr(initramfs, "kernel_modules",
                            lambda path, target=None, release=None: (set(modules), "fixture", None))
    return install


def judged(tmp_path, release):
    """``(arch judged, {id: result})`` of the release's tree, the arch as
    guest_hardware_info picks it for a kernel that is not running."""
    root = str(tmp_path / "root")
    path = trees.install(root, release)
    check = kernel_drivers.OfflineCheck("/" + os.path.relpath(path, root), root=root)
    arch = devices.kernel_arch(release, check.config()[0])["name"]
    return arch, dict((r["id"], r) for r in hardware_results.assess(HW, {}, arch, offline=check))


def hops(result):
    return [(h["driver"], h["kind"], h["status"]) for h in result["offline"]["drivers"]]


@pytest.mark.parametrize("release", [TRIXIE, SID])
def test_amd64_cloud_kernels(tmp_path, initramfs_of, release):
    initramfs_of(NEEDED)
    arch, results = judged(tmp_path, release)
    assert arch == "x86_64"
    assert hops(results["HW-NET-VIRTIO"]) == [("virtio_pci", "built-in", "pass"),
                                              ("virtio_net", "module", "module-in-initramfs")]
    assert hops(results["HW-SCSI-VIRTIO"]) == [("virtio_pci", "built-in", "pass"),
                                               ("virtio_scsi", "module", "module-in-initramfs")]
    assert results["HW-NET-VIRTIO"]["status"] == results["HW-SCSI-VIRTIO"]["status"] == "module-in-initramfs"
    serial = results["HW-SERIAL"]
    assert (serial["status"], hops(serial)) == ("pass", [("8250", "built-in", "pass")])
    assert serial["offline"]["uarts"]["registered"] == 4
    # offline, gVNIC is judged on arm64 kernels only; the cloud kernels have no PIIX4 driver
    assert results["HW-NET-GVNIC"]["status"] == "not-applicable"
    for rid in ("HW-PCI-PIIX4-ACPI", "HW-ISA-PIIX4"):
        assert results[rid]["status"] == "not-applicable"
        assert "also match" not in results[rid]["message"]


def test_arm64_cloud_kernel(tmp_path, initramfs_of):
    initramfs_of(NEEDED)
    arch, results = judged(tmp_path, TRIXIE_ARM)
    assert arch == "arm64"
    assert (results["HW-NET-GVNIC"]["status"], hops(results["HW-NET-GVNIC"])) == (
        "module-in-initramfs", [("gve", "module", "module-in-initramfs")])
    assert results["HW-NET-GVNIC"]["offline"]["drivers"][0]["module_path"] == "kernel/drivers/net/ethernet/google/gve/gve.ko.xz"
    assert hops(results["HW-SCSI-VIRTIO"]) == [("virtio_pci", "built-in", "pass"),
                                               ("virtio_scsi", "module", "module-in-initramfs")]
    for rid in ("HW-PCI-PIIX4-ACPI", "HW-ISA-PIIX4", "HW-NET-VIRTIO", "HW-SERIAL"):
        assert results[rid]["status"] == "not-applicable", rid


def test_gve_missing_from_the_arm64_initramfs(tmp_path, initramfs_of):
    initramfs_of(NEEDED - {"gve"})
    gvnic = judged(tmp_path, TRIXIE_ARM)[1]["HW-NET-GVNIC"]
    assert gvnic["status"] == "module-missing-from-initramfs"
    assert gvnic["offline"]["drivers"][0]["missing_dependencies"] == []


@pytest.mark.parametrize("release", [TRIXIE, TRIXIE_ARM, SID])
def test_the_dependencies_modules_dep_names(tmp_path, initramfs_of, release):
    initramfs_of(NEEDED - {"failover", "scsi_common"})
    results = judged(tmp_path, release)[1]
    scsi = results["HW-SCSI-VIRTIO"]
    assert scsi["status"] == "module-missing-from-initramfs"
    assert scsi["offline"]["drivers"][1]["missing_dependencies"] == ["scsi_common"]
    if ARCH[release] == "x86_64":
        net = results["HW-NET-VIRTIO"]
        assert net["status"] == "module-missing-from-initramfs"
        assert net["offline"]["drivers"][1]["missing_dependencies"] == ["failover"]


@pytest.mark.parametrize("release, listed", [(TRIXIE, False), (TRIXIE_ARM, False), (SID, True)])
def test_built_in_virtio_pci_by_its_device_table_from_7_x(tmp_path, initramfs_of, release, listed):
    # before 6.18 the built-in driver is judged by its name in modules.builtin;
    # sid's kernel lists its device table in modules.builtin.modinfo
    initramfs_of(NEEDED)
    hop = judged(tmp_path, release)[1]["HW-SCSI-VIRTIO"]["offline"]["drivers"][0]
    assert ("note" in hop) is not listed
    sources = set(os.path.basename(m["source"]) for m in hop["matches"])
    assert sources == ({"modules.builtin.modinfo"} if listed else set())


def test_sid_configuration_beside_its_modules(tmp_path, initramfs_of):
    # sid's linux-base package ships lib/modules/<release>/config, no /boot/config-<release>
    initramfs_of(NEEDED)
    serial = judged(tmp_path, SID)[1]["HW-SERIAL"]
    assert serial["evidence"]["offline"]["uarts"]["config"].endswith("/lib/modules/%s/config" % SID)
    assert not os.path.exists(str(tmp_path / "root" / "boot"))
