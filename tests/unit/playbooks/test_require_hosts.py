"""harden.yml and verify.yml have no default target: without guestready_gce_hosts (or with
a pattern that matches nothing) they stop before any host is contacted, saying how to choose.

The inventory's hosts are unreachable loopback addresses (port 1): nothing is changed
anywhere, and reaching them proves the fleet play ran."""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
FLEET_PLAY = {"harden": "PLAY [Harden guests", "verify": "PLAY [Check guests"}


@pytest.fixture
def inventory(tmp_path):
    host = {"ansible_host": "127.0.0.1", "ansible_port": 1, "ansible_user": "nobody",
            "ansible_python_interpreter": "/usr/bin/python3"}
    path = tmp_path / "inventory.json"
    path.write_text(json.dumps({"all": {"hosts": {"web1": host, "db1": host},
                                        "children": {"web": {"hosts": {"web1": {}}}}}}))
    return str(path)


def run(playbook, inventory, tmp_path, *extra):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".ansible", "collections"),
               ANSIBLE_TIMEOUT="5", ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([PLAYBOOK, "-i", inventory, os.path.join(ROOT, "playbooks", playbook + ".yml"),
                           "-e", "guestready_gce_report_dir=%s" % (tmp_path / "reports")] + list(extra),
                          env=env, cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)
    return proc.returncode, proc.stdout


@pytest.mark.parametrize("playbook, choice", [
    ("harden", ["--tags", "sysctl"]),  # tags never skip the check
    ("verify", []),
    ("harden", ["-e", "guestready_gce_hosts="]),
], ids=["harden-unset-tags", "verify-unset", "empty"])
def test_no_choice_stops_before_any_host(playbook, choice, inventory, tmp_path):
    rc, out = run(playbook, inventory, tmp_path, *choice)
    assert rc != 0
    assert "guestready_gce_hosts is not set" in out
    assert "-e guestready_gce_hosts=<pattern>" in out
    assert FLEET_PLAY[playbook] not in out
    assert "web1" not in out and "db1" not in out
    assert not (tmp_path / "reports").exists()


def test_a_pattern_that_matches_nothing_stops(inventory, tmp_path):
    rc, out = run("verify", inventory, tmp_path, "-e", "guestready_gce_hosts=wbe")
    assert rc != 0
    assert "guestready_gce_hosts=wbe matches no host of the inventory (2 hosts)" in out
    assert FLEET_PLAY["verify"] not in out


@pytest.mark.parametrize("choice, reached", [
    (["-e", "guestready_gce_hosts=web"], ["web1"]),
    (["-e", '{"guestready_gce_hosts": ["web", "db1"]}'], ["db1", "web1"]),
], ids=["group", "list"])
def test_a_choice_runs_on_exactly_those_hosts(choice, reached, inventory, tmp_path):
    rc, out = run("verify", inventory, tmp_path, "--check", *choice)
    assert FLEET_PLAY["verify"] in out, out
    recap = out.split("PLAY RECAP")[-1]
    contacted = sorted(host for host in ("db1", "web1") if "%s " % host in recap)
    assert contacted == reached, recap
    # an unreachable host stays in the run (ignore_unreachable) and its report holds the error
    assert "unreachable=1" in recap or "ignored=1" in recap, recap
    summary = json.loads((tmp_path / "reports" / "summary.json").read_text())
    assert sorted(summary["hosts"]) == reached
    assert all(entry["verdict"] == "fail" for entry in summary["hosts"].values()), summary["hosts"]
    assert rc != 0  # unreachable hosts fail verification


def test_a_choice_in_the_inventory_runs_on_those_hosts(inventory, tmp_path):
    """guestready_gce_hosts in the inventory (group all's vars, as group_vars/all): a play's
    `hosts:` does not see inventory variables, so the check play hands its choice on."""
    with open(inventory) as handle:
        data = json.load(handle)
    data["all"]["vars"] = {"guestready_gce_hosts": "web"}
    with open(inventory, "w") as handle:
        json.dump(data, handle)
    rc, out = run("verify", inventory, tmp_path, "--check")
    assert FLEET_PLAY["verify"] in out, out
    recap = out.split("PLAY RECAP")[-1]
    assert "web1 " in recap and "db1 " not in recap, recap
    assert sorted(json.loads((tmp_path / "reports" / "summary.json").read_text())["hosts"]) == ["web1"]
    assert rc != 0  # web1 is unreachable


def test_skipping_one_area_still_checks_the_others(inventory, tmp_path):
    """--skip-tags sysctl leaves the other areas in the one call: the host is contacted
    (and, unreachable here, reported so), not left without a check."""
    rc, out = run("verify", inventory, tmp_path, "--skip-tags", "sysctl", "-e", "guestready_gce_hosts=web1")
    assert FLEET_PLAY["verify"] in out, out
    report = json.loads((tmp_path / "reports" / "host-web1.json").read_text())
    errors = " ".join(str(error) for error in report["errors"])
    assert "no check ran" not in errors and "unreachable" in errors.lower(), report["errors"]
    assert rc != 0


def test_a_variable_the_role_rejects_is_the_hosts_reported_error(inventory, tmp_path):
    """The role's argument check fails before the module call: the report names that error,
    not "no check ran"."""
    rc, out = run("verify", inventory, tmp_path, "-e", "guestready_gce_hosts=web1",
                  "-e", "guestready_gce_waivers=SYSCTL-IP_FORWARD")
    report = json.loads((tmp_path / "reports" / "host-web1.json").read_text())
    errors = " ".join(str(error) for error in report["errors"])
    assert "no check ran" not in errors and "guestready_gce_waivers" in errors, report["errors"]
    assert rc != 0


def test_an_image_that_cannot_be_read_is_reported(tmp_path):
    """image.yml writes its reports when the image task fails, as harden.yml does."""
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".ansible", "collections"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([PLAYBOOK, os.path.join(ROOT, "playbooks", "image.yml"),
                           "-e", "guestready_gce_image=%s" % (tmp_path / "none.qcow2"),
                           "-e", "guestready_gce_report_dir=%s" % (tmp_path / "reports")],
                          env=env, cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)
    report = json.loads((tmp_path / "reports" / "host-none.qcow2.json").read_text())
    errors = " ".join(str(error) for error in report["errors"])
    assert "none.qcow2" in errors and "no check ran" not in errors, (report["errors"], proc.stdout)
    assert proc.returncode != 0


@pytest.mark.parametrize("setting", ["guestready_gce_image_mode=", "guestready_gce_image_area_options="])
def test_an_empty_image_variable_is_its_default(tmp_path, setting):
    """-e guestready_gce_image_mode= (a blank survey answer) failed the role's argument check
    ("value of image_mode must be one of: audit, harden, got: "), and an empty area_options
    was "not a dict"; the image was never looked at."""
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".ansible", "collections"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([PLAYBOOK, os.path.join(ROOT, "playbooks", "image.yml"),
                           "-e", "guestready_gce_image=%s" % (tmp_path / "none.qcow2"), "-e", setting,
                           "-e", "guestready_gce_report_dir=%s" % (tmp_path / "reports")],
                          env=env, cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)
    report = json.loads((tmp_path / "reports" / "host-none.qcow2.json").read_text())
    errors = " ".join(str(error) for error in report["errors"])
    assert "%s: No such file or directory" % (tmp_path / "none.qcow2") in errors, (errors, proc.stdout[-3000:])
    assert "Validation of arguments failed" not in errors
