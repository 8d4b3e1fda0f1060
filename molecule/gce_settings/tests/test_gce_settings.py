"""GCE-* on a real guest after guestready.gce.harden (prepare.yml seeded the
settings and proved verify failed exactly the expected IDs).

In file order: verify passes; the SSH server still takes the same key, as the
lab user and as root (no lock-out); after a reboot verify passes again, the
missing extra disk did not stop the boot (nofail), Google's disk links exist;
the guest agent reads a new SSH key from the metadata server stand-in and that
key logs in; the hostname is the metadata's.  Every testinfra call is an
Ansible run against a TCG guest: values are read in few commands.
"""

import json
import os
import subprocess
import sys
import time

import testinfra
import yaml

ROOT = os.environ["MOLECULE_PROJECT_DIRECTORY"]
EPHEMERAL = os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]
INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
NAME = "mol-gce-settings"
LAB = [os.path.join(ROOT, "lab", "lab")]
LAB_ENV = dict(os.environ, GUESTREADY_LAB_STATE=os.path.join(EPHEMERAL, "lab"))
sys.path.insert(0, os.path.join(ROOT, ".ansible", "collections"))
from ansible_collections.guestready.gce.plugins.module_utils.catalogue import requirements  # noqa: E402

GCE_IDS = [e["id"] for e in requirements("gce")]
# the lab boots the kernel directly (lab gaps: no boot loader): GRUB's settings cannot be judged
NO_BOOT_LOADER = {"GCE-BOOT-SERIAL-CONSOLE", "GCE-BOOT-TIMEOUT"}

testinfra_hosts = ["ansible://all?ansible_inventory=%s" % INVENTORY]


def instance():
    with open(os.environ["MOLECULE_INSTANCE_CONFIG"]) as handle:
        return yaml.safe_load(handle)[0]


def ssh(user, key, command="true", timeout=60):
    config = instance()
    return subprocess.run(
        ["ssh", "-i", key, "-p", str(config["port"]), "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
         "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
         "-o", "ConnectTimeout=30", "%s@%s" % (user, config["address"]), command],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=timeout, check=False)


def verify(host):
    result = host.ansible("guestready.gce.compliance_info", "areas=gce_settings", check=False, become=True)
    return dict((r["id"], r) for r in result["results"])


def assert_passes(found):
    assert list(found) == GCE_IDS
    failing = dict((rid, r["message"]) for rid, r in found.items() if r["status"] == "fail")
    assert failing == {}
    undecided = set(rid for rid, r in found.items() if r["status"] == "unknown")
    assert undecided == NO_BOOT_LOADER, undecided


def test_01_verify_passes_after_harden(host):
    found = verify(host)
    assert_passes(found)
    assert found["GCE-GUEST-AGENT"]["status"] == "pass" and found["GCE-BOOT-CMDLINE-LIVE"]["status"] == "pass"
    assert "metadata server" in found["GCE-TIME-METADATA-NTP"]["message"]
    dropin = host.file("/etc/ssh/sshd_config.d/00-guestready-gce.conf")
    assert dropin.exists and "ClientAliveInterval 420" in dropin.content_string
    effective = host.check_output("sudo sshd -T | grep -E '^(passwordauthentication|permitrootlogin|clientaliveinterval) '")
    values = dict(line.split(None, 1) for line in effective.splitlines())
    assert values["clientaliveinterval"] == "420" and values["passwordauthentication"] == "no"
    assert values["permitrootlogin"] in ("prohibit-password", "without-password"), values
    assert "# guestready.gce neutralised (GCE-NET-NO-PERSISTENT-RULES)" in host.file(
        "/etc/udev/rules.d/70-persistent-net.rules").content_string


def test_02_the_same_key_still_logs_in():
    key = instance()["identity_file"]
    for user in ("lab", "root"):
        proc = ssh(user, key, "id -un")
        assert proc.returncode == 0 and proc.stdout.strip() == user, proc.stdout
    # and a password would not get anyone in any more
    config = instance()
    proc = subprocess.run(["ssh", "-p", str(config["port"]), "-o", "BatchMode=yes", "-o", "PubkeyAuthentication=no",
                           "-o", "PreferredAuthentications=password,keyboard-interactive",
                           "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                           "lab@%s" % config["address"], "true"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=60,
                          check=False)
    assert proc.returncode != 0 and "Permission denied" in proc.stdout


def test_03_after_a_reboot(host):
    subprocess.run(LAB + ["restart", NAME, "--timeout", "900"], env=LAB_ENV, check=True, timeout=1200)
    host = testinfra.get_host("ansible://%s?ansible_inventory=%s" % (NAME, INVENTORY))
    facts = host.check_output("systemctl is-system-running || true; findmnt -n /data || echo no-data; "
                              "ls /dev/disk/by-id/ | grep '^google-' || true")
    assert facts.splitlines()[0] in ("running", "degraded"), facts
    assert "no-data" in facts, "the extra disk is not attached: nofail let the boot go on"
    assert "google-persistent-disk-0" in facts, "Google's disk-naming rules made the link"
    assert_passes(verify(host))


def test_04_the_guest_agent_takes_a_key_from_metadata(tmp_path):
    key = str(tmp_path / "alice")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "alice", "-f", key], check=True)
    subprocess.run(LAB + ["metadata", NAME, "--add-ssh-key", "alice=%s.pub" % key], env=LAB_ENV, check=True)
    deadline = time.time() + 300
    while True:
        proc = ssh("alice", key, "id -un; sudo -n true && echo sudo-ok")
        if proc.returncode == 0 or time.time() > deadline:
            break
        time.sleep(10)
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.split() == ["alice", "sudo-ok"]


def test_05_the_hostname_comes_from_metadata(host):
    content = json.loads(subprocess.run(LAB + ["metadata", NAME, "--json"], env=LAB_ENV, check=True,
                                        stdout=subprocess.PIPE, universal_newlines=True).stdout)
    hostname = content["instance"]["hostname"]
    assert host.check_output("hostname") == hostname.split(".")[0]
