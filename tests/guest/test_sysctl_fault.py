"""Fault injection: the guest loses power (SIGKILL of its QEMU) while
sysctl_baseline is applying.  After a cold boot of the same disk, the drop-in
is either absent or complete (never half-written), and a rerun converges and
leaves no temporary file behind."""

import json
import random
import subprocess
import sys
import time

from lab_helpers import ROOT

sys.path.insert(0, ROOT + "/.ansible/collections")
from ansible_collections.guestready.gce.plugins.module_utils.catalogue import requirements  # noqa: E402

DROP_IN = "/etc/sysctl.d/zz-guestready-gce.conf"
PLAY = """---
- name: Apply the kernel settings
  hosts: all
  gather_facts: false
  tasks:
    - name: Apply the SYSCTL-* requirements
      guestready.gce.sysctl_baseline:
      register: applied
    - name: Keep the results for the test
      ansible.builtin.copy:
        content: "{{ applied.results | to_json }}"
        dest: "{{ results_file }}"
        mode: "0644"
      delegate_to: localhost
"""


def ssh(guest, command, timeout=60):
    return subprocess.run(
        ["ssh", "-p", str(guest["ssh_port"]), "-i", guest["ssh_key"], "-o", "BatchMode=yes",
         "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
         "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=20", "root@127.0.0.1", command],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=timeout,
        check=False)


def inventory(tmp_path, guest):
    path = tmp_path / "inventory.yml"
    path.write_text(json.dumps({"all": {"hosts": {guest["name"]: {
        "ansible_host": "127.0.0.1", "ansible_port": guest["ssh_port"], "ansible_user": "root",
        "ansible_ssh_private_key_file": guest["ssh_key"],
        "ansible_python_interpreter": "/usr/bin/python3",
        "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"}}}}))
    return str(path)


def play(tmp_path, inv, env, background=False):
    playbook = tmp_path / "apply.yml"
    playbook.write_text(PLAY)
    results = tmp_path / "results.json"
    command = ["ansible-playbook", "-i", inv, str(playbook), "-e", "results_file=%s" % results]
    if background:
        return subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, universal_newlines=True), results
    proc = subprocess.run(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, check=False,
                          stderr=subprocess.STDOUT, universal_newlines=True, timeout=900)
    return proc, results


def test_power_loss_while_applying(lab, ansible_env, tmp_path):
    guest = lab.up("--profile", "gce", "--name", "fault")[0]
    inv = inventory(tmp_path, guest)
    # seed a non-compliant state so the module has files and values to write
    assert ssh(guest, "sysctl -q -w net.ipv4.ip_forward=1 kernel.kptr_restrict=0").returncode == 0

    seed = int(time.time())
    delay = random.Random(seed).uniform(0.0, 1.5)
    running, results = play(tmp_path, inv, ansible_env, background=True)
    # wait until the module's Python runs on the guest, then cut the power
    deadline = time.time() + 300
    seen = False
    while time.time() < deadline and running.poll() is None:
        if ssh(guest, "pgrep -x python3 >/dev/null").returncode == 0:
            seen = True
            break
        time.sleep(0.2)
    assert seen, "the module never started on the guest:\n%s" % (running.stdout.read() if running.poll() is not None else "")
    time.sleep(delay)
    lab.run("restart", guest["name"], "--kill")
    running.wait(timeout=300)
    print("power cut %.2fs after the module started (seed %d)" % (delay, seed))

    text = ssh(guest, "cat %s 2>/dev/null || true" % DROP_IN).stdout
    if text:
        # the old file or the new one, whole: header, every key, a final newline
        assert text.startswith("# Managed by guestready.gce") and text.endswith("\n"), text[-300:]
        missing = [e["key"] for e in requirements("sysctl") if "\n%s = " % e["key"] not in text]
        assert missing == [], "half-written drop-in: %s missing" % missing

    proc, results = play(tmp_path, inv, ansible_env)
    assert proc.returncode == 0, proc.stdout[-3000:]
    statuses = set(r["status"] for r in json.loads(results.read_text()))
    assert statuses == {"pass"}, statuses
    leftovers = ssh(guest, "ls -a /etc/sysctl.d | grep '^\\.guestready-' || true").stdout.strip()
    assert leftovers == "", "temporary files left: %s" % leftovers
    lab.run("down", guest["name"])
