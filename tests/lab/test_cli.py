"""The lab CLI without guests: bad input gives one clear line, the data is consistent."""

import json
import os
import subprocess

import pytest

from lab_helpers import LAB, ROOT, profiles
from guestready_lab import inventory


def run_lab(args, env=None, python="/usr/bin/python3"):
    return subprocess.run([python, "-I", "-S", LAB] + args, text=True, timeout=60,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=env or dict(os.environ))


@pytest.mark.parametrize("args, message", [
    (["up", "--profile", "nope"], "unknown profile 'nope'"),
    (["up", "--net", "bridge"], "unknown network backend 'bridge'"),
    (["up", "--name", "Bad_Name"], "bad guest name"),
    (["up", "--count", "0"], "--count must be at least 1"),
    (["down", "ghost"], "unknown guest 'ghost'"),
    (["ssh", "ghost"], "unknown guest 'ghost'"),
    (["restart", "ghost"], "unknown guest 'ghost'"),
    (["image", "--variant", "nope"], "unknown image variant 'nope'"),
    (["gaps", "--profile", "nope"], "unknown profile 'nope'"),
    (["down"], "name a guest, or use --all"),
    (["frobnicate"], "invalid choice"),
    (["up", "--count", "x"], "invalid int value"),
    (["up", "--user", "bob"], "unknown login user 'bob'"),
    (["inventory", "--user", "bob"], "unknown login user 'bob'"),
])
def test_bad_input_is_one_line_without_traceback(tmp_path, args, message):
    env = dict(os.environ, GUESTREADY_LAB_STATE=str(tmp_path))
    proc = run_lab(args, env)
    assert proc.returncode in (1, 2)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert message in lines[0] and "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_missing_tool_is_one_line(tmp_path):
    env = dict(os.environ, GUESTREADY_LAB_STATE=str(tmp_path), PATH=str(tmp_path))
    proc = run_lab(["up"], env)
    assert proc.returncode == 1
    assert proc.stderr.strip() == ("lab up: error: missing tool: qemu-system-x86_64 "
                                   "(Debian package qemu-system-x86)")


def test_runs_on_system_python_standard_library_only(tmp_path):
    """-I -S: no venv, no site-packages, no user site: the lab needs nothing but the stdlib."""
    env = dict(os.environ, GUESTREADY_LAB_STATE=str(tmp_path))
    assert json.loads(run_lab(["status", "--json"], env).stdout) == []
    assert "gce" in run_lab(["profiles"], env).stdout
    gaps = json.loads(run_lab(["gaps", "--json"], env).stdout)
    assert gaps["profile"] == "gce" and any(g["id"] == "HW-ISA-PIIX4" for g in gaps["gaps"])


def test_profiles_data_is_complete():
    for name, p in profiles.PROFILES.items():
        assert p["image"] in profiles.IMAGES, name
        for key in ("machine", "smp", "memory_mib", "nic", "disk", "serial", "smbios"):
            assert key in p, (name, key)
    assert profiles.DEFAULT_PROFILE in profiles.PROFILES
    for g in profiles.GAPS:
        assert g["id"] == "-" or g["id"].startswith("HW-"), g
        assert g["what"] and "gce" in g and "lab" in g


def test_every_south_bridge_has_an_isa_gap():
    for sb in ("piix3", "piix4-isa"):
        isa = [g for g in profiles.gaps_for("gce", "tap", sb) if g["id"] == "HW-ISA-PIIX4"]
        assert len(isa) == 1, sb


def test_gaps_follow_devices_and_qemu_capabilities():
    ids = lambda *a, **k: sorted({g["id"] for g in profiles.gaps_for(*a, **k)} - {"-"})
    # QEMU 10 (scsi_version=6) on tap: only the PIIX4 revision is left
    assert ids("gce", "tap", "piix4-isa", "6") == ["HW-ISA-PIIX4"]
    # an older QEMU: SPC-3 and PIIX3; user networking hides the NIC offloads
    assert ids("gce", "user", "piix3", "5") == ["HW-ISA-PIIX4", "HW-NET-VIRTIO", "HW-SCSI-VIRTIO"]
    # gaps follow the devices of a variant: no scsi-hd, no SCSI gap; no virtio-net, no NIC gap
    assert ids("gce-virtio-blk", "tap", "piix4-isa", "5") == ["HW-ISA-PIIX4"]
    assert ids("gce-e1000", "user", "piix4-isa", "6") == ["HW-ISA-PIIX4"]
    metadata_gap = lambda **k: [g for g in profiles.gaps_for("gce", "tap", "piix4-isa", "6", **k)
                                if "metadata server" in g["what"]]
    assert metadata_gap() and not metadata_gap(metadata=True)


def test_device_variants_change_one_thing_and_name_their_deviation():
    base = profiles.PROFILES["gce"]
    wanted = {"gce-scsi-2q", "gce-net-modern", "gce-disk-512", "gce-serial-4343",
              "gce-virtio-blk", "gce-e1000"}
    assert wanted <= set(profiles.PROFILES)
    for name in wanted:
        p = profiles.PROFILES[name]
        assert p["variant_of"] == "gce" and p["family"] == "gce" and p["smp"] == 1
        assert len(p["deviations"]) == 1 and list(p["deviations"])[0].startswith("HW-"), name
        changed = [k for k in base if k not in ("description", "deviations") and p[k] != base[k]]
        assert changed and set(changed) <= {"disk", "nic", "serial", "image"}, (name, changed)
    assert profiles.PROFILES["gce-scsi-2q"]["disk"]["controller"]["props"]["num_queues"] == "2"
    assert base["disk"]["controller"]["props"]["num_queues"] == "1"  # deep copies: base intact
    assert profiles.PROFILES["gce-serial-4343"]["serial"][2:] == [(0x3E8, 4), (0x2E8, 3)]
    assert base["deviations"] == {}


def test_inventory_format():
    guest = {"name": "gce", "profile": "gce", "net": "user", "ssh_host": "127.0.0.1",
             "ssh_port": 2222, "ssh_user": "root", "ssh_key": "/k/id_ed25519", "accel": "tcg",
             "gaps": [{"id": "HW-ISA-PIIX4"}, {"id": "-"}]}
    text = inventory.render([guest, dict(guest, name="nc", profile="noncompliant", gaps=[])])
    assert text.splitlines()[2:] == [
        "all:",
        "  children:",
        "    gce:",
        "      hosts:",
        "        gce:",
        '          ansible_host: "127.0.0.1"',
        "          ansible_port: 2222",
        '          ansible_user: "root"',
        '          ansible_ssh_private_key_file: "/k/id_ed25519"',
        '          ansible_python_interpreter: "/usr/bin/python3"',
        '          ansible_ssh_common_args: "-o StrictHostKeyChecking=no '
        '-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"',
        '          guestready_lab_profile: "gce"',
        '          guestready_lab_net: "user"',
        '          guestready_lab_accel: "tcg"',
        '          guestready_lab_gaps: ["HW-ISA-PIIX4"]',
        "          guestready_lab_deviations: []",
        "    noncompliant:",
        "      hosts:",
        "        nc:",
        '          ansible_host: "127.0.0.1"',
        "          ansible_port: 2222",
        '          ansible_user: "root"',
        '          ansible_ssh_private_key_file: "/k/id_ed25519"',
        '          ansible_python_interpreter: "/usr/bin/python3"',
        '          ansible_ssh_common_args: "-o StrictHostKeyChecking=no '
        '-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"',
        '          guestready_lab_profile: "noncompliant"',
        '          guestready_lab_net: "user"',
        '          guestready_lab_accel: "tcg"',
        "          guestready_lab_gaps: []",
        "          guestready_lab_deviations: []",
    ]


def test_inventory_for_the_sudo_user_becomes_root():
    guest = {"name": "web", "profile": "gce", "net": "user", "ssh_host": "127.0.0.1",
             "ssh_port": 2222, "ssh_user": "root", "login_user": "lab", "ssh_key": "/k/id",
             "accel": "tcg", "gaps": []}
    lines = inventory.render([guest]).splitlines()
    assert '          ansible_user: "lab"' in lines and "          ansible_become: true" in lines
    # `lab inventory --user root` overrides the guest's own login user; root needs no become
    lines = inventory.render([guest], "root").splitlines()
    assert '          ansible_user: "root"' in lines
    assert not any("ansible_become" in line for line in lines)
    assert profiles.SUDO_USER in profiles.LOGIN_USERS and "root" in profiles.LOGIN_USERS


def test_inventory_parses_with_ansible(tmp_path):
    ansible_inventory = os.path.join(ROOT, ".venv", "bin", "ansible-inventory")
    if not os.path.exists(ansible_inventory):
        pytest.skip("no ansible-inventory in .venv")
    guest = {"name": "web-1", "profile": "gce", "net": "tap", "ssh_host": "127.0.0.1",
             "ssh_port": 40022, "ssh_user": "root", "ssh_key": "/k/id", "accel": "kvm", "gaps": []}
    path = inventory.write([guest], str(tmp_path / "inv.yml"))
    out = subprocess.run([ansible_inventory, "-i", path, "--list"], text=True, timeout=120,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True).stdout
    data = json.loads(out)
    assert data["gce"]["hosts"] == ["web-1"]
    hv = data["_meta"]["hostvars"]["web-1"]
    assert hv["ansible_port"] == 40022 and hv["guestready_lab_profile"] == "gce"
    assert hv["ansible_python_interpreter"] == "/usr/bin/python3"


def test_host_global_names_are_unique_per_state_dir(tmp_path):
    """Two checkouts (state dirs) may both run a guest `gce-tap`: their namespaces differ."""
    code = ("import sys; sys.path.insert(0, %r); from guestready_lab import guests; "
            "print(guests.netns_for('gce-tap')); print(guests.netns_for('a' * 24))"
            % os.path.join(ROOT, "lab"))
    names = []
    for state in ("one", "two", "one/../one"):
        env = dict(os.environ, GUESTREADY_LAB_STATE=str(tmp_path / state))
        out = subprocess.run(["/usr/bin/python3", "-I", "-c", code], env=env, text=True,
                             stdout=subprocess.PIPE, check=True).stdout.split()
        names.append(out)
    assert names[0][0] != names[1][0]          # different state dirs: different namespaces
    assert names[0] == names[2]                # the same dir, however spelt: the same names
    for ns in names[0] + names[1]:
        assert ns.startswith("glab-") and len(ns) <= 38 and "/" not in ns, ns
