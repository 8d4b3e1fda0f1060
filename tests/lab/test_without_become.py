"""The fleet playbooks as the lab's sudo user `lab` WITHOUT become, on a Compute-Engine-like
guest seeded with root-only files (a sysctl.d drop-in and an sshd drop-in of mode 0600, as a
site's configuration management writes them): verify.yml names what it could not read
(unknown, "needs root: <path>", remediation "run with become") and every other result keeps
the verdict a run with become gives; harden.yml fails with the refusal and changes nothing
on the guest."""

import json
import os
import re
import subprocess

import pytest

from lab_helpers import ROOT, leftovers, profiles

NAME = "nobecome"
SYSCTL_SITE = "/etc/sysctl.d/50-site.conf"
SSHD_SITE = "/etc/ssh/sshd_config.d/50-site.conf"


def playbook(name, inventory, report_dir, *extra):
    ansible = os.path.join(ROOT, ".venv", "bin", "ansible-playbook")
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".ansible", "collections"),
               ANSIBLE_TIMEOUT="120", ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([ansible, "-i", inventory, os.path.join(ROOT, "playbooks", name + ".yml"),
                           "-e", "guestready_gce_hosts=%s" % NAME, "-e", "guestready_gce_gate=false",
                           "-e", "guestready_gce_report_dir=%s" % report_dir] + list(extra),
                          env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False, timeout=1800)
    print(proc.stdout[-3000:])
    return proc.returncode, proc.stdout


def results(report_dir):
    with open(os.path.join(report_dir, "host-%s.json" % NAME)) as handle:
        return dict((r["id"], r) for r in json.load(handle)["results"])


@pytest.fixture(scope="module")
def guest(lab, tmp_path_factory):
    """The guest, logged in as `lab`; its inventory says ansible_become: true (`lab up --user
    lab`), so the runs without become override it with -e ansible_become=false."""
    try:
        info = lab.up("--profile", "gce", "--name", NAME, "--user", profiles.SUDO_USER)[0]
        lab.ssh(NAME, "umask 077 && printf 'kernel.kptr_restrict = 1\\n' > %s && "
                      "printf 'ClientAliveInterval 120\\n' > %s" % (SYSCTL_SITE, SSHD_SITE))
        inventory = str(tmp_path_factory.mktemp("nobecome") / "inventory.yml")
        lab.run("inventory", "--user", profiles.SUDO_USER, "--output", inventory)
        yield {"info": info, "inventory": inventory}
    finally:
        lab.down(NAME)
        alive, namespaces = leftovers()
        assert not alive and not namespaces, (alive, namespaces)


def test_the_login_is_lab_and_the_files_are_root_only(lab, guest):
    out = lab.run("ssh", "--user", profiles.SUDO_USER, NAME, "--",
                  "id -un; cat %s; echo rc=$?" % SYSCTL_SITE, check=False)
    assert out.stdout.split()[0] == profiles.SUDO_USER
    assert "rc=1" in out.stdout and "Permission denied" in out.stderr


def test_verify_without_become_names_what_it_could_not_read(lab, guest, tmp_path):
    rc, out = playbook("verify", guest["inventory"], str(tmp_path / "user"), "-e", "ansible_become=false")
    assert rc == 0, out[-3000:]
    as_user = results(str(tmp_path / "user"))
    rc, out = playbook("verify", guest["inventory"], str(tmp_path / "root"))   # the inventory's become
    assert rc == 0, out[-3000:]
    as_root = results(str(tmp_path / "root"))
    assert sorted(as_user) == sorted(as_root)
    sysctl = [rid for rid in as_user if rid.startswith("SYSCTL-")]
    assert sysctl, sorted(as_user)  # the loop below judges them: none would check nothing
    ssh = ["GCE-SSH-NO-PASSWORD-AUTH", "GCE-SSH-NO-ROOT-PASSWORD", "GCE-SSH-KEEPALIVE"]
    for rid, path in [(rid, SYSCTL_SITE) for rid in sysctl] + [(rid, SSHD_SITE) for rid in ssh]:
        found = as_user[rid]
        assert found["status"] == "unknown", found
        assert found["message"].startswith("needs root: %s is not readable as user %s" % (
            path, profiles.SUDO_USER)), found["message"]
        assert found["remediation"].startswith("run with become (-b"), found
        assert "needs root" not in as_root[rid]["message"] and as_root[rid]["status"] != "unknown", as_root[rid]
    # whatever else differs is unknown for want of root, and says so
    for rid, found in as_user.items():
        if found["status"] != as_root[rid]["status"]:
            assert found["status"] == "unknown" and "needs root" in found["message"], (found, as_root[rid])
    # the run as root kept the collection's compiled code in the run cache, root's own; `lab`
    # (first) could not make the directory in /run, and kept nothing anywhere else
    kept = lab.ssh(NAME, "stat -c '%U %a %F' /run/guestready-gce; "
                         "stat -c '%U %a %F' /run/guestready-gce/code-* | sort | uniq -c").splitlines()
    assert kept[0] == "root 700 directory", kept
    assert len(kept) == 2 and kept[1].split()[1:] == ["root", "600", "regular", "file"], kept
    assert int(kept[1].split()[0]) >= 30, kept  # the modules' collection sources, one file each
    assert lab.ssh(NAME, "find /home /tmp /var/tmp /run -user %s -name 'code-*' | wc -l" % profiles.SUDO_USER).strip() == "0"


def test_harden_without_become_is_refused_and_changes_nothing(lab, guest, tmp_path):
    keys = "kernel.kptr_restrict net.ipv4.conf.all.accept_redirects net.ipv4.conf.all.rp_filter"
    lab.ssh(NAME, "touch /run/before-harden")
    before = lab.ssh(NAME, "sysctl %s" % keys)
    rc, out = playbook("harden", guest["inventory"], str(tmp_path / "harden"), "-e", "ansible_become=false",
                       "-e", "guestready_gce_gate=true")
    assert rc != 0  # the gate: the host's report holds the refusal as its error
    refusal = (r"changing the running system needs root, and this runs as user %s: nothing was "
               r"changed; run with become \(-b" % profiles.SUDO_USER)
    assert re.search(refusal, out), out[-3000:]
    # the failed task is rescued so that the host still gets its report
    assert re.search(r"^%s\s+: ok=\d+\s+changed=0 .*failed=0 .*rescued=1" % NAME, out.split("PLAY RECAP")[-1],
                     re.M), out
    with open(str(tmp_path / "harden" / "summary.json")) as handle:
        host = json.load(handle)["hosts"][NAME]
    assert host["verdict"] == "fail" and any(re.search(refusal, error) for error in host["errors"]), host
    assert lab.ssh(NAME, "sysctl %s" % keys) == before
    newer = lab.ssh(NAME, "find /etc /boot /usr/lib /lib -xdev -newer /run/before-harden -print")
    assert newer.strip() == "", newer
