"""Verify the default scenario's guest: it is the lab's Compute Engine device model, converged.

One command per check group: every testinfra round trip is an Ansible run against a TCG guest.
"""

FACTS = r"""
for d in /sys/bus/pci/devices/*; do
  echo pci $(basename $d) $(cat $d/vendor $d/device $d/subsystem_vendor $d/subsystem_device $d/revision)
done
echo virt $(systemd-detect-virt)
echo blocks $(cat /sys/block/sda/queue/physical_block_size /sys/block/sda/queue/logical_block_size)
echo queues $(ls /sys/block/sda/mq | wc -l)
"""


def facts(host):
    out = host.check_output(FACTS)
    pci = {}
    other = {}
    for line in out.splitlines():
        f = line.split()
        if f[0] == "pci":
            pci[f[1]] = tuple(f[2:])
        else:
            other[f[0]] = f[1:]
    return pci, other


def test_compute_engine_device_model(host):
    pci, other = facts(host)
    assert pci["0000:00:04.0"][:4] == ("0x1af4", "0x1000", "0x1af4", "0x0001")  # virtio-net
    assert pci["0000:00:03.0"][:4] == ("0x1af4", "0x1004", "0x1af4", "0x0008")  # virtio-scsi
    assert pci["0000:00:01.3"] == ("0x8086", "0x7113", "0x1af4", "0x1100", "0x03")  # PIIX4 ACPI
    assert other["virt"] == ["google"]
    assert other["blocks"] == ["4096", "512"]
    assert other["queues"] == ["1"]


def test_converged(host):
    f = host.file("/etc/guestready-molecule")
    assert f.exists and f.user == "root" and f.mode == 0o644
    assert host.file("/etc/sysctl.d/60-guestready-molecule.conf").contains("kernel.kptr_restrict = 1")
