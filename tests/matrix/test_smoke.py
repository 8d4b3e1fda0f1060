"""One ansible-core line of the version matrix against a Compute-Engine-like lab guest
(`make test-smoke-<line>`, run by that line's virtualenv): harden.yml applies and checks
every area, verify.yml under --check changes nothing, and the reports come out of the
compliance_report action with that line's data model (2.19 tags registered data, older
lines do not).  The IDs the lab cannot imitate are waived, as in `make demo`."""

import json
import os
import re
import subprocess
import sys

import jsonschema
import pytest

from lab_helpers import ROOT, leftovers

BIN = os.path.dirname(sys.executable)
LINE = os.environ.get("GUESTREADY_MATRIX_LINE", "")
NAME = "smoke"


def playbook(name, inventory, report_dir, *extra):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".ansible", "collections"),
               ANSIBLE_TIMEOUT="60", ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", inventory,
                           os.path.join(ROOT, "playbooks", name + ".yml"), "-e", "guestready_gce_hosts=%s" % NAME,
                           "-e", "guestready_gce_report_dir=%s" % report_dir] + list(extra),
                          env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False, timeout=1200)
    print(proc.stdout[-2500:])
    return proc.returncode, proc.stdout


def load(report_dir, name, schema):
    with open(os.path.join(report_dir, name)) as handle:
        data = json.load(handle)
    with open(os.path.join(ROOT, "docs", "schemas", schema)) as handle:
        jsonschema.validate(data, json.load(handle))
    return data


@pytest.fixture(scope="module")
def inventory(lab, tmp_path_factory):
    guest = lab.up("--profile", "gce", "--name", NAME)[0]
    waivers = {}
    for gap in guest.get("gaps", []):
        if gap["id"].startswith("HW-"):
            waivers[gap["id"]] = "lab gap: " + gap["what"]
    path = tmp_path_factory.mktemp("smoke") / "inventory.json"
    path.write_text(json.dumps({"all": {"hosts": {NAME: {
        "ansible_host": guest["ssh_host"], "ansible_port": guest["ssh_port"],
        "ansible_user": guest["ssh_user"], "ansible_ssh_private_key_file": guest["ssh_key"],
        "ansible_python_interpreter": "/usr/bin/python3",
        "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR",
        "guestready_gce_waivers": waivers}}}}))
    yield str(path)
    lab.down(NAME)
    alive, namespaces = leftovers()
    assert not alive and not namespaces, (alive, namespaces)


def test_this_is_the_matrix_line():
    assert LINE, "GUESTREADY_MATRIX_LINE is not set (run `make test-smoke-<line>`)"
    out = subprocess.run([os.path.join(BIN, "ansible-playbook"), "--version"], stdout=subprocess.PIPE,
                         universal_newlines=True, check=True).stdout
    assert re.match(r"ansible-playbook \[core %s\.\d+\]" % re.escape(LINE), out), out


def test_harden_then_verify_under_check(inventory, tmp_path):
    harden_dir = str(tmp_path / "harden")
    rc, out = playbook("harden", inventory, harden_dir)
    assert rc == 0, out[-3000:]
    recap = out.split("PLAY RECAP")[-1]
    assert re.search(r"^%s\s+: ok=\d+\s+changed=[1-9]" % NAME, recap, re.M), recap  # the sysctl settings
    summary = load(harden_dir, "summary.json", "summary.schema.json")
    assert summary["hosts"][NAME]["verdict"] == "pass", summary["hosts"][NAME]
    assert summary["hosts"][NAME]["changed"] is True
    assert summary["gate_failed"] is False

    verify_dir = str(tmp_path / "verify")
    rc, out = playbook("verify", inventory, verify_dir, "--check")
    assert rc == 0, out[-3000:]
    recap = out.split("PLAY RECAP")[-1]
    assert re.findall(r"changed=(\d+)", recap) == ["0", "0"], recap  # localhost and the guest
    summary = load(verify_dir, "summary.json", "summary.schema.json")
    assert summary["hosts"][NAME]["verdict"] == "pass"
    report = load(verify_dir, "host-%s.json" % NAME, "host-report.schema.json")
    statuses = dict((r["id"], r["status"]) for r in report["results"])
    sysctl = [rid for rid in statuses if rid.startswith("SYSCTL-")]
    assert sysctl and all(statuses[rid] == "pass" for rid in sysctl), statuses
    assert any(rid.startswith("KCONF-") for rid in statuses) and any(rid.startswith("HW-") for rid in statuses)
