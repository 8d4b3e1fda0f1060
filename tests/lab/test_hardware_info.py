"""guest_hardware_info on a lab guest whose hardware differs from Compute Engine's in one
way that the kernel hides, run through Ansible as a user runs it.

`gce-scsi-2q` (lab/guestready_lab/profiles.py): the Compute Engine device model, but the
virtio-scsi controller offers two request queues (`num_queues=2`) to one vCPU.  blk-mq
gives the disk min(queues, CPUs) = 1 hardware queue, so /sys/block/sda/mq cannot tell;
the controller's MSI-X table (5 vectors: configuration, control, event and two request
queues) can.  HW-SCSI-VIRTIO must fail on the controller's count and report both numbers.
The guest's SMBIOS is Compute Engine's, so the default mode (auto) judges its devices.
"""

import json
import os
import subprocess
import sys

import pytest

from lab_helpers import ROOT

PROFILE = "gce-scsi-2q"
NAME = "hwi-2q"


def run_module(inventory, host, args=None):
    """guestready.gce.guest_hardware_info through `ansible` against one lab guest."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".ansible", "collections"),
               ANSIBLE_STDOUT_CALLBACK="ansible.builtin.minimal", ANSIBLE_NOCOLOR="1",
               ANSIBLE_CALLBACK_RESULT_FORMAT="json", ANSIBLE_HOST_KEY_CHECKING="false",
               ANSIBLE_TIMEOUT="60")
    ansible = os.path.join(os.path.dirname(sys.executable), "ansible")
    command = [ansible, host, "-i", inventory, "-m", "guestready.gce.guest_hardware_info"]
    if args:
        command += ["-a", json.dumps(args)]
    proc = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=1200, check=False)
    # minimal callback: "<host> | SUCCESS => {...}"
    assert " => {" in proc.stdout, proc.stdout + proc.stderr
    result = json.loads(proc.stdout[proc.stdout.index(" => {") + 4:])
    assert proc.returncode == 0 and not result.get("failed"), result.get("msg") or proc.stderr
    return result


@pytest.fixture(scope="module")
def two_queues(lab, tmp_path_factory):
    known = json.loads(lab.run("profiles", "--json").stdout)
    if PROFILE not in known:
        pytest.skip("this checkout's lab has no %r profile (lab/guestready_lab/profiles.py)" % PROFILE)
    try:
        info = lab.up("--profile", PROFILE, "--name", NAME)[0]
        inventory = str(tmp_path_factory.mktemp("inventory") / "inventory.yml")
        lab.run("inventory", "--output", inventory)
        yield info, run_module(inventory, NAME)
    finally:
        lab.collect()
        if NAME in {g["name"] for g in lab.status()}:
            lab.down(NAME)


def test_compute_engine_smbios_means_both_halves(two_queues):
    info, result = two_queues
    assert result["mode"] == "both" and result["platform"]["on_gce"] is True
    assert result["changed"] is False and len(result["results"]) == 6


def test_two_request_queues_fail_on_one_vcpu(two_queues):
    info, result = two_queues
    scsi = dict((r["id"], r) for r in result["results"])["HW-SCSI-VIRTIO"]
    assert scsi["status"] == "fail", scsi["message"]
    device = scsi["live"]["devices"][0]
    queues = device["request_queues"]
    # both numbers: what the controller offers, and what blk-mq uses of it
    assert queues["device"] == 2 and queues["msix"]["table_size"] == 5
    assert queues["blk_mq"] == {"sda": 1} and queues["possible_cpus"] == 1
    assert ("the controller offers 2 request queues, expected 1 (MSI-X table of 5 vectors at %s: 5 minus "
            "configuration, control and event); blk-mq hardware queues: sda 1 (at most one per possible "
            "CPU: 1)" % queues["msix"]["offset"]) in scsi["message"]
    assert "num_queues=1" in scsi["remediation"]
    # the lab says this is the profile's one deviation, and why
    assert "HW-SCSI-VIRTIO" in info["deviations"]
    assert "2 request queues" in info["deviations"]["HW-SCSI-VIRTIO"]


def test_everything_else_is_the_gce_profile(two_queues):
    """Only the queue count is wrong on the controller: IDs, driver, features, sectors hold."""
    info, result = two_queues
    scsi = dict((r["id"], r) for r in result["results"])["HW-SCSI-VIRTIO"]
    device = scsi["live"]["devices"][0]
    assert (device["vendor"], device["device"], device["subsystem_device"]) == ("0x1af4", "0x1004", "0x0008")
    assert device["driver"] == "virtio-pci" and device["virtio"]["driver"] == "virtio_scsi"
    assert device["missing_features"] == []
    disk = device["scsi_devices"][0]["block"][0]
    assert (disk["physical_block_size"], disk["logical_block_size"]) == (4096, 512)
    problems = [p for p in device["problems"] if "request queues" not in p]
    # at most the SPC-3 gap of a QEMU without scsi_version; never a second queue problem
    assert all("scsi_level 6 (SPC-3)" in p for p in problems), problems
    assert scsi["offline"]["status"] == "module-in-initramfs"
