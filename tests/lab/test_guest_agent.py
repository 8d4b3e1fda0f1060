"""Debian's guest environment (google-guest-agent 20211116) against the metadata stand-in.

One `gce-agent` guest (image variant gce-agent: the cloud image plus google-guest-agent and
google-compute-engine-oslogin from bookworm), booted cold as a new instance with the lab's
metadata server. Proves, as on Compute Engine:
(a) an SSH key added to the instance metadata (`ssh-keys`, `user:ssh-ed25519 ...`) while the
    guest runs reaches the agent through its long poll; it creates the user and installs the
    key, and a login with that key works;
(b) the hostname comes from the metadata server: the image has no static hostname; when the
    NIC is routable, Google's guest-configs hook (as on Compute Engine images with
    systemd-networkd; Debian does not package it, the image carries it) reads
    instance/?recursive=true from the stand-in and sets the hostname and /etc/hosts.
"""

import json
import os
import subprocess

import pytest

from lab_helpers import wait_until

NAME = "agent"
USER = "alice"


@pytest.fixture(scope="module")
def agent(lab):
    try:
        info = lab.up("--profile", "gce-agent", "--name", NAME)[0]
        yield info
    finally:
        lab.collect()
        if NAME in {g["name"] for g in lab.status()}:
            lab.down(NAME)


def test_agent_runs_against_the_stand_in(lab, agent):
    assert agent["start_mode"] == "cold" and agent["services"]["metadata"]
    out = lab.ssh(NAME, "dpkg-query -W -f '${Version}\\n' google-guest-agent; "
                        "systemctl is-active google-guest-agent; "
                        "cat /etc/google_instance_id", timeout=300)
    version, active, instance_id = out.split()
    assert version.startswith("20211116") and active == "active"
    # first-boot actions ran against our metadata: the instance ID it stored is ours
    content = lab.run("metadata", NAME, "--json").stdout
    assert int(instance_id) == json.loads(content)["instance"]["id"]


def test_hostname_comes_from_the_metadata_server(lab, agent):
    """guest-configs' networkd-dispatcher hook (lab/guest-configs) asks the metadata server for
    instance/?recursive=true when ens4 is routable and sets the hostname and /etc/hosts."""
    content = json.loads(lab.run("metadata", NAME, "--json").stdout)
    fqdn = content["instance"]["hostname"]
    ip = content["instance"]["network-interfaces"][0]["ip"]

    def hostname():
        out = lab.ssh(NAME, "hostname; grep 'Added by Google' /etc/hosts; true").splitlines()
        return out if out and out[0] == fqdn.split(".")[0] else None

    lines = wait_until(hostname, timeout=600, interval=10, what="the hostname from the metadata")
    assert "%s %s %s  # Added by Google" % (ip, fqdn, fqdn.split(".")[0]) in lines
    assert "169.254.169.254 metadata.google.internal  # Added by Google" in lines
    # it was read over HTTP from the stand-in (the hook's curl), not baked into the image
    with open(os.path.join(agent["state_dir"], "services.log")) as f:
        assert "GET /computeMetadata/v1/instance/?recursive=true " in f.read()


def test_ssh_key_from_metadata_logs_in(lab, agent, tmp_path):
    key = str(tmp_path / "alice")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "alice@lab", "-f", key],
                   check=True)
    lab.run("metadata", NAME, "--add-ssh-key", "%s=%s.pub" % (USER, key))
    port = str(agent["ssh_port"])
    argv = ["ssh", "-i", key, "-p", port, "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=30", "%s@127.0.0.1" % USER,
            "id -un; sudo -n id -un"]

    def login():
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=120)
        return p.stdout.split() if p.returncode == 0 else None

    # the agent's long poll returns with the new ETag; it creates alice and writes the key
    out = wait_until(login, timeout=600, interval=10, what="the agent to install alice's key")
    assert out == [USER, "root"]   # the agent's google-sudoers group gives sudo, as on GCE
    journal = lab.ssh(NAME, "journalctl -u google-guest-agent --no-pager -o cat | "
                            "grep -E 'Creating user alice|Updating keys for user alice'")
    assert "alice" in journal
    os.remove(key)
