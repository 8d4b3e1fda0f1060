"""The lab's device models, asserted from inside the guests over SSH.

Three guests start together (from their snapshots): `gce` with user networking, `gce` with a
tap backend in a private network namespace (NIC offloads), and `noncompliant`. Where QEMU
cannot imitate Compute Engine the test asserts the documented gap (lab/guestready_lab/
profiles.py GAPS), never a pass.
"""

import pytest

from lab_helpers import Guest, gap, profiles

# virtio-net feature bits (include/uapi/linux/virtio_net.h)
NET_CSUM, NET_GUEST_CSUM, NET_GUEST_TSO4, NET_GUEST_TSO6 = 0, 1, 7, 8
NET_GUEST_ECN, NET_GUEST_UFO, NET_HOST_TSO4, NET_HOST_TSO6 = 9, 10, 11, 12
NET_HOST_ECN, NET_HOST_UFO = 13, 14
# virtio-scsi feature bits (include/uapi/linux/virtio_scsi.h)
SCSI_HOTPLUG, SCSI_CHANGE = 1, 2
VIRTIO_ID_NET, VIRTIO_ID_SCSI = 1, 8
PORT_16550A = 4  # include/uapi/linux/serial_core.h

NAMES = {"gce": "hw-gce", "tap": "hw-tap", "noncompliant": "hw-nc", "scsi2q": "hw-2q"}


@pytest.fixture(scope="module")
def guests(lab):
    started = {}
    try:
        started = lab.up_many([
            ["--profile", "gce", "--name", NAMES["gce"]],
            ["--profile", "gce", "--net", "tap", "--name", NAMES["tap"]],
            ["--profile", "noncompliant", "--name", NAMES["noncompliant"]],
            ["--profile", "gce-scsi-2q", "--name", NAMES["scsi2q"]],
        ])
        yield {key: Guest(lab, started[name]) for key, name in NAMES.items()}
    finally:
        lab.collect()
        present = [n for n in NAMES.values() if n in {g["name"] for g in lab.status()}]
        if present:
            lab.down(*present)


GCE = ["gce", "tap"]


def bit(features, n):
    return features[n] == "1"


# ---- start-up facts ------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["gce", "tap", "noncompliant", "scsi2q"])
def test_started_from_snapshot_with_reported_accel(guests, key):
    info = guests[key].info
    assert info["start_mode"] == "snapshot"
    assert info["accel"] in ("kvm", "tcg") and info["accel_reason"]
    assert info["ssh_host"] == "127.0.0.1"
    assert isinstance(info["qemu_pid"], int)


@pytest.mark.parametrize("key", ["gce", "tap", "noncompliant"])
def test_clock_set_after_restore(guests, key):
    g = guests[key]
    guest_time = float(g.lines("time")[0])
    assert abs(guest_time - g.host_time) < 60


# ---- Compute Engine profile ----------------------------------------------------------------

@pytest.mark.parametrize("key", GCE)
def test_gce_virtio_net_pci(guests, key):
    devs = guests[key].find_pci("0x1af4", "0x1000")
    assert list(devs) == ["00:04.0"], guests[key].pci()
    d = devs["00:04.0"]
    assert (d["subsystem_vendor"], d["subsystem_device"]) == ("0x1af4", "0x0001")
    assert d["class"] == "0x020000"
    assert d["driver"] == "virtio-pci"
    assert guests[key].net()["ens4"]["driver"] == "virtio_net"


@pytest.mark.parametrize("key", GCE)
def test_gce_virtio_scsi_pci(guests, key):
    devs = guests[key].find_pci("0x1af4", "0x1004")
    assert list(devs) == ["00:03.0"], guests[key].pci()
    d = devs["00:03.0"]
    assert (d["subsystem_vendor"], d["subsystem_device"]) == ("0x1af4", "0x0008")
    assert d["driver"] == "virtio-pci"
    known = gap(guests[key].info, "HW-SCSI-VIRTIO")
    # SPC-4 (scsi_level = INQUIRY version + 1 = 7) with QEMU's scsi_version=6, else the gap's
    level = known["lab"]["scsi_level"] if known else "7"
    assert (known is None) == (guests[key].info["scsi_version"] == "6")
    # host:channel:target:lun; the host number follows probe order (ata_piix's two ATA
    # hosts may come first), the rest is the profile's scsi-id=1, lun=0
    (address, fields), = guests[key].scsi().items()
    assert address.split(":", 1)[1] == "0:1:0", address
    assert fields == ["Google", "PersistentDisk", "1", level, "sd", "sda"]


@pytest.mark.parametrize("key", GCE)
def test_gce_disk_sectors_and_single_queue(guests, key):
    g = guests[key]
    assert g.sda()["sizes"] == ["4096", "512"]
    assert g.sda()["queues"] == ["0"]  # exactly one request queue
    assert "scsi-0Google_PersistentDisk_persistent-disk-0" in g.lines("byid")


@pytest.mark.parametrize("key", GCE)
def test_gce_virtio_scsi_features(guests, key):
    f = guests[key].virtio_features()[VIRTIO_ID_SCSI]
    assert bit(f, SCSI_HOTPLUG) and bit(f, SCSI_CHANGE)


@pytest.mark.parametrize("key", GCE)
def test_gce_chipset(guests, key):
    g = guests[key]
    acpi = g.find_pci("0x8086", "0x7113")
    assert [d["revision"] for d in acpi.values()] == ["0x03"]  # PIIX4 ACPI rev 03, as on GCE
    isa = [d for d in g.pci().values() if d["class"] == "0x060100"]
    assert len(isa) == 1
    known = gap(g.info, "HW-ISA-PIIX4")
    # QEMU cannot give PIIX4 ISA rev 03: the deviation must be documented, and be exactly it.
    assert known is not None
    assert (isa[0]["vendor"], isa[0]["device"], isa[0]["revision"]) == (
        known["lab"]["vendor"], known["lab"]["device"], known["lab"]["revision"])
    assert g.info["south_bridge"] == ("piix4-isa" if known["lab"]["device"] == "0x7110" else "piix3")


@pytest.mark.parametrize("key", GCE)
def test_gce_four_16550a_serial_ports(guests, key):
    ports = guests[key].serial()
    for tty, (iobase, irq) in zip(["ttyS0", "ttyS1", "ttyS2", "ttyS3"], profiles.GCE_SERIAL):
        p = ports[tty]
        assert p["uart"] == "16550A" and p["type"] == PORT_16550A, (tty, p)
        assert p["irq"] == p["proc_irq"] == irq, (tty, p)
        assert int(p["port"], 16) == int(p["proc_port"], 16) == iobase, (tty, p)


@pytest.mark.parametrize("key", GCE)
def test_gce_smbios_and_detect_virt(guests, key):
    g = guests[key]
    assert g.lines("virt") == ["google"]
    assert g.lines("dmi") == ["Google", "Google", "Google Compute Engine", "Google"]


@pytest.mark.parametrize("key", GCE)
def test_gce_cloud_kernel_and_serial_console(guests, key):
    g = guests[key]
    assert g.lines("uname")[0].endswith("-cloud-amd64")
    assert "console=ttyS0,38400n8" in g.lines("cmdline")[0].split()


def test_tap_nic_offloads_on(guests):
    g = guests["tap"]
    k = g.ethtool_k("ens4")
    assert k["tx-checksumming"] == "on"
    assert k["tcp-segmentation-offload"] == "on"
    assert k["generic-receive-offload"] == "on"
    assert k["tx-tcp-segmentation"] == "on"  # TSO v4
    f = g.virtio_features()[VIRTIO_ID_NET]
    for b in (NET_CSUM, NET_GUEST_CSUM, NET_HOST_TSO4, NET_GUEST_TSO4):
        assert bit(f, b), b
    for b in (NET_HOST_TSO6, NET_HOST_ECN, NET_HOST_UFO, NET_GUEST_TSO6, NET_GUEST_ECN, NET_GUEST_UFO):
        assert not bit(f, b), b
    assert gap(g.info, "HW-NET-VIRTIO") is None


def test_tap_mtu_from_dhcp(guests):
    assert guests["tap"].net()["ens4"]["mtu"] == 1460


def test_user_networking_hides_offloads_documented(guests):
    """With slirp the device offers no CSUM/TSO: a documented gap, not a pass."""
    g = guests["gce"]
    k = g.ethtool_k("ens4")
    known = gap(g.info, "HW-NET-VIRTIO")
    assert known is not None
    for feature in ("tx-checksumming", "tcp-segmentation-offload", "generic-receive-offload"):
        assert k[feature] == known["lab"][feature], feature
    f = g.virtio_features()[VIRTIO_ID_NET]
    assert not bit(f, NET_CSUM) and not bit(f, NET_HOST_TSO4)


# ---- non-compliant profile -----------------------------------------------------------------

def test_noncompliant_e1000(guests):
    g = guests["noncompliant"]
    nics = [d for d in g.pci().values() if d["class"] == "0x020000"]
    assert len(nics) == 1
    assert (nics[0]["vendor"], nics[0]["device"], nics[0]["driver"]) == ("0x8086", "0x100e", "e1000")
    assert g.find_pci("0x1af4", "0x1000") == {} and g.find_pci("0x1af4", "0x1004") == {}
    assert g.virtio_features() == {}


def test_noncompliant_ide_disk_512(guests):
    g = guests["noncompliant"]
    sda = g.sda()
    assert sda["sizes"] == ["512", "512"] and sda["driver"] == "sd"
    assert "/0000:00:01.1/ata1/" in sda["path"]  # on the PIIX IDE controller
    ide = [d for d in g.pci().values() if d["class"].startswith("0x0101")]
    assert [d["driver"] for d in ide] == ["ata_piix"]


def test_noncompliant_single_real_serial_port(guests):
    ports = guests["noncompliant"].serial()
    assert ports["ttyS0"]["uart"] == "16550A" and ports["ttyS0"]["irq"] == 4
    # ttyS1-3 exist as legacy placeholders, but there is no UART behind them
    for tty in ("ttyS1", "ttyS2", "ttyS3"):
        assert ports[tty]["uart"] == "unknown" and ports[tty]["type"] == 0, (tty, ports[tty])


def test_noncompliant_generic_kernel_and_plain_qemu(guests):
    g = guests["noncompliant"]
    kernel = g.lines("uname")[0]
    assert kernel.endswith("-amd64") and "cloud" not in kernel
    assert g.lines("virt") == ["qemu"]
    assert [n["driver"] for n in g.net().values()] == ["e1000"]
    isa = [d for d in g.pci().values() if d["class"] == "0x060100"]
    assert [(d["vendor"], d["device"]) for d in isa] == [("0x8086", "0x7000")]  # PIIX3


def test_generic_image_has_two_installed_kernels(guests):
    out = guests["noncompliant"].lines("boot")
    configs = sorted(f for f in out if f.startswith("config-"))
    initrds = sorted(f for f in out if f.startswith("initrd.img-"))
    assert len(configs) == 2 and len(initrds) == 2, out
    assert any(c.endswith("-cloud-amd64") for c in configs)
    assert any(c.endswith("-amd64") and "cloud" not in c for c in configs)
    assert [c[len("config-"):] for c in configs] == [i[len("initrd.img-"):] for i in initrds]


# ---- device variants -----------------------------------------------------------------------

def test_scsi_two_queues_on_one_vcpu(guests):
    """gce-scsi-2q: the device offers 2 request queues, blk-mq shows 1 (min(queues, vCPUs))."""
    g = guests["scsi2q"]
    assert g.lines("cpus") == ["1"]
    assert g.sda()["queues"] == ["0"]
    # virtio-scsi vectors: config + control + event + one per request queue
    assert g.msix()["00:03.0"] == "5"
    assert guests["gce"].msix()["00:03.0"] == "4"
    assert g.info["deviations"] == {"HW-SCSI-VIRTIO": profiles.PROFILES["gce-scsi-2q"]["deviations"]["HW-SCSI-VIRTIO"]}
    # everything else is the gce profile
    assert g.find_pci("0x1af4", "0x1004") and g.sda()["sizes"] == ["4096", "512"]
