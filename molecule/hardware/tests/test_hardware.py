"""Verifier of the hardware scenario: what guest_hardware_info said about each
lab guest (saved by converge.yml) against what the lab says the guest is.

* gce guests pass every HW-* check the lab imitates; each failing ID is one of
  the lab's known gaps for that profile and network (`lab gaps --json`) and
  its message names the deviation; nothing else fails;
* the tap-networked guest proves the offloads (and CSUM/TSO4 features) on;
* the non-compliant guest fails exactly the IDs it should, with the evidence, when live
  judgement is asked for (it is not a Compute Engine VM); with the default mode it is
  judged from its kernel only, and every result says why;
* the Compute Engine guests are recognised as such (SMBIOS) and judged both ways; their
  controller offers one request queue (MSI-X table of 4 vectors) and blk-mq uses one;
* the evidence is true: the sysfs values the module reports were read again
  on the guest by converge.yml with shell builtins, independently of the module.
"""

import json
import os
import subprocess

import pytest
import yaml

EPHEMERAL = os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]
PROJECT = os.environ["MOLECULE_PROJECT_DIRECTORY"]
with open(os.path.join(os.environ["MOLECULE_SCENARIO_DIRECTORY"], "molecule.yml")) as _handle:
    PLATFORMS = dict((p["name"], p) for p in yaml.safe_load(_handle)["platforms"])

FAILED = ("fail", "module-missing-from-initramfs")
NONCOMPLIANT_FAILS = {"HW-ISA-PIIX4", "HW-NET-VIRTIO", "HW-SCSI-VIRTIO", "HW-SERIAL"}


def hardware(host):
    name = host.backend.get_hostname()
    with open(os.path.join(EPHEMERAL, "hardware-%s.json" % name)) as handle:
        result = json.load(handle)
    return name, PLATFORMS[name], dict((r["id"], r) for r in result["results"]), result


def lab_gaps(platform):
    out = subprocess.run([os.path.join(PROJECT, "lab", "lab"), "gaps", "--profile", platform["lab_profile"],
                          "--net", platform["lab_net"], "--json"],
                         stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout
    gaps = {}
    for gap in json.loads(out)["gaps"]:
        if gap["id"].startswith("HW-"):
            gaps.setdefault(gap["id"], []).append(gap)
    return gaps


def names_the_gap(message, gap):
    """The lab's description of the deviation (``gap["lab"]``) shows in the message."""
    lab = gap["lab"]
    wanted = []
    if "revision" in lab:
        wanted.append("revision %s" % lab["revision"])
    if "device" in lab:
        wanted.append("%04x:%04x" % (int(lab["vendor"], 16), int(lab["device"], 16)))
    if "scsi_level" in lab:
        wanted.append("scsi_level %s" % lab["scsi_level"])
    wanted += [name for name, value in lab.items() if value == "off"]
    return wanted and all(text in message for text in wanted), wanted


def test_one_record_per_id_and_no_change(host):
    _, platform, results, raw = hardware(host)
    assert raw["changed"] is False and raw["mode"] == "both"
    if platform["lab_profile"] == "gce":
        assert raw["platform"]["on_gce"] is True and raw["auto"] is None
        assert raw["mode_reason"].startswith("auto: SMBIOS product name 'Google Compute Engine'")
    else:
        assert raw["platform"]["on_gce"] is False and raw["mode_reason"] == "mode both, as asked"
    assert sorted(results) == sorted(["HW-PCI-PIIX4-ACPI", "HW-ISA-PIIX4", "HW-NET-VIRTIO",
                                      "HW-NET-GVNIC", "HW-SCSI-VIRTIO", "HW-SERIAL"])
    assert results["HW-NET-GVNIC"]["status"] == "not-applicable"  # x86 guests


def test_failures_are_the_lab_gaps_or_the_profile(host):
    name, platform, results, _ = hardware(host)
    failing = set(rid for rid, r in results.items() if r["status"] in FAILED)
    if platform["lab_profile"] == "noncompliant":
        assert failing == NONCOMPLIANT_FAILS, dict((r, results[r]["message"]) for r in failing)
        return
    gaps = lab_gaps(platform)
    assert failing == set(gaps), dict((r, results[r]["message"]) for r in failing)
    for rid in failing:
        for gap in gaps[rid]:
            named, wanted = names_the_gap(results[rid]["message"], gap)
            assert named, (rid, wanted, results[rid]["message"])
    for rid, result in results.items():
        if rid not in failing and rid != "HW-NET-GVNIC":
            assert result["status"] in ("pass", "module-in-initramfs"), (rid, result["message"])


def test_drivers_offline_on_every_guest(host):
    """Both kernels carry every driver, as modules in their initramfs (8250 built in)."""
    _, platform, results, raw = hardware(host)
    assert raw["kernel"]["initramfs"]["state"] == "read", raw["kernel"]
    for rid in ("HW-NET-VIRTIO", "HW-SCSI-VIRTIO"):
        drivers = [(d["driver"], d["kind"], d["initramfs"]) for d in results[rid]["offline"]["drivers"]]
        assert drivers and all(d[1:] == ("module", "present") for d in drivers), drivers
    assert results["HW-SERIAL"]["offline"]["status"] == "pass"
    expected = "6.1.0-50-cloud-amd64" if platform["lab_profile"] == "gce" else "6.1.0-50-amd64"
    assert raw["kernel"]["kernel_release"] == expected


def test_offloads(host):
    _, platform, results, _ = hardware(host)
    net = results["HW-NET-VIRTIO"]
    if platform["lab_profile"] != "gce":
        pytest.skip("no virtio-net device on this profile")
    device = net["live"]["devices"][0]
    if platform["lab_net"] == "tap":
        assert net["live"]["status"] == "pass", net["message"]
        assert device["offloads"] == {"tx-checksumming": True, "tcp-segmentation-offload": True,
                                      "generic-receive-offload": True}
        assert {"CSUM", "GUEST_CSUM", "HOST_TSO4", "GUEST_TSO4"} <= set(device["virtio"]["features"])
        assert device["missing_features"] == []
    else:
        assert device["offloads"]["tx-checksumming"] is False
        assert device["missing_features"] == ["CSUM", "GUEST_CSUM", "HOST_TSO4", "GUEST_TSO4"]
        assert "slirp" in net["message"]


def test_noncompliant_evidence(host):
    _, platform, results, _ = hardware(host)
    if platform["lab_profile"] != "noncompliant":
        pytest.skip("compliant profile")
    assert "8086:100e Intel 82540EM Gigabit Ethernet (e1000) (driver e1000)" in results["HW-NET-VIRTIO"]["message"]
    assert "sda 512/512" in results["HW-SCSI-VIRTIO"]["message"]
    assert "8086:7000 Intel 82371SB PIIX3 ISA bridge" in results["HW-ISA-PIIX4"]["message"]
    serial = results["HW-SERIAL"]
    assert serial["actual"]["ports"]["ttyS0"] == {"uart": "16550A", "irq": 4, "port": "0x3f8"}
    assert [p for p, v in serial["actual"]["ports"].items() if v["uart"] == "unknown"] == ["ttyS1", "ttyS2", "ttyS3"]
    assert results["HW-PCI-PIIX4-ACPI"]["status"] == "pass"


def test_default_mode_off_compute_engine(host):
    """The non-compliant guest stands for an image build VM: by default its kernel is
    judged and its devices are not, and each result says so."""
    _, platform, results, raw = hardware(host)
    if platform["lab_profile"] != "noncompliant":
        pytest.skip("a Compute Engine guest: the default mode judges both halves")
    auto = raw["auto"]
    assert auto["mode"] == "offline" and auto["guest"] is None and auto["platform"]["on_gce"] is False
    assert "'QEMU'" in auto["platform"]["reason"] and auto["mode_reason"].startswith("auto: not a Compute Engine VM")
    judged = [r for r in auto["results"] if "live" in r]
    assert sorted(r["id"] for r in judged) == sorted(["HW-PCI-PIIX4-ACPI", "HW-ISA-PIIX4", "HW-NET-VIRTIO",
                                                      "HW-SCSI-VIRTIO", "HW-SERIAL"])
    for result in judged:
        assert result["live"]["status"] == "not-applicable", result
        assert "live: not judged: not a Compute Engine VM" in result["message"], result["message"]
        # the generic kernel has every driver: nothing fails when only the kernel is judged
        assert result["status"] in ("pass", "module-in-initramfs", "not-applicable"), result["message"]
    assert "e1000" not in " ".join(r["message"] for r in judged)


def test_request_queues(host):
    _, platform, results, _ = hardware(host)
    if platform["lab_profile"] != "gce":
        pytest.skip("no virtio-scsi controller on this profile")
    queues = results["HW-SCSI-VIRTIO"]["live"]["devices"][0]["request_queues"]
    assert (queues["device"], queues["blk_mq"], queues["msix"]["table_size"]) == (1, {"sda": 1}, 4)
    assert queues["possible_cpus"] == 1


def test_evidence_matches_the_guest(host):
    """Every sysfs value the module reports equals what converge.yml read again on the
    guest with shell builtins (no Python, no module code)."""
    _, _, results, raw = hardware(host)
    recorded = {}
    for result in results.values():
        for path, value in (result["evidence"].get("live") or {}).items():
            if path.startswith("/sys/") and isinstance(value, str) and not value.startswith("-> ") \
                    and "queue(s)" not in value:
                recorded[path] = value
    assert len(recorded) > 20
    seen = dict(line.split("\t", 1) for line in raw["sysfs_again"] if "\t" in line)
    for path, value in recorded.items():
        assert seen[path].strip() == value, (path, seen[path], value)
