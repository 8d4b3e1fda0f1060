"""Every profile's QEMU command line is accepted by this QEMU, without booting a guest.

QEMU starts paused (-S), answers QMP, and quits: device properties (scsi_version,
disable-legacy, num_queues, serial IRQs...) are checked by QEMU itself in about a second each.
The variants' guests are booted by the tests that need them (test_hardware.py).
"""

import subprocess

import pytest

from lab_helpers import profiles
from guestready_lab import image, qemu
from guestready_lab.util import free_port, record_process, stop_process


@pytest.fixture(scope="module")
def kernel():
    # any kernel will do: the vCPU never runs
    return image.ensure_image("cloud")


@pytest.mark.parametrize("profile", sorted(profiles.PROFILES))
def test_qemu_accepts_profile(profile, kernel, tmp_path):
    overlay = str(tmp_path / "disk.qcow2")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", overlay, "64M"], check=True)
    paths = {"name": "glab-test-" + profile, "overlay": overlay, "console": str(tmp_path / "console.log"),
             "qmp": str(tmp_path / "qmp.sock"), "pidfile": str(tmp_path / "qemu.pid")}
    # with the services' forwards: slirp must accept 169.254.169.253/.254 in its network
    services = {"port": free_port(), "metadata": True, "hostname": "lab-test"}
    argv = [a for a in qemu.command(profile, kernel, paths, "user", free_port(), services)
            if a != "-daemonize"]
    proc = subprocess.Popen(argv + ["-S"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    rec = record_process(str(tmp_path / "qemu.json"), "qemu", proc.pid)
    try:
        q = qemu.QMP(paths["qmp"])
        try:
            status = q.execute("query-status")["status"]
            devices = q.hmp("info qtree")
            q.execute("quit")
        finally:
            q.close()
        proc.wait(timeout=30)
    except Exception:
        stop_process(rec)
        raise AssertionError("QEMU refused profile %s: %s" % (profile, proc.communicate()[1]))
    assert status == "prelaunch"
    p = profiles.PROFILES[profile]
    assert p["nic"]["device"] in devices and p["disk"]["device"] in devices
    if qemu.scsi_version(profile) == "6":
        assert "scsi_version = 6" in devices
