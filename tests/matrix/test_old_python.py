"""The modules on the oldest managed-host Python the collection supports, 3.7, through a
controller line that still sends modules to it (ansible-core 2.16 and 2.17; 2.18 and 2.19
need 3.8 on targets).  Runs on this machine with a local connection: the check reads the
controller's own system, the apply writes only into a tree the test owns."""

import os
import shutil
import subprocess
import sys

import pytest
import yaml

from lab_helpers import ROOT

BIN = os.path.dirname(sys.executable)
LINE = os.environ.get("GUESTREADY_MATRIX_LINE", "")
OLDEST = "3.7"


def interpreter():
    """A Python 3.7 on this machine: on PATH, or pyenv's."""
    found = shutil.which("python" + OLDEST)
    pyenv = os.path.expanduser("~/.pyenv/versions")
    if os.path.isdir(pyenv):
        for name in sorted(os.listdir(pyenv)):
            if name.startswith(OLDEST + "."):
                found = os.path.join(pyenv, name, "bin", "python" + OLDEST)
    return found


pytestmark = pytest.mark.skipif(LINE not in ("2.16", "2.17"),
                                reason="ansible-core %s sends modules to Python 3.8+ only" % (LINE or "?"))

PLAYBOOK = """
- name: The modules on Python 3.7
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Check every area of this machine (read-only)
      guestready.gce.compliance_info:
      register: checked
    - name: Apply the sysctl baseline to a tree
      guestready.gce.sysctl_baseline:
        root: "{{ tree }}"
      register: applied
    - name: Apply it again
      guestready.gce.sysctl_baseline:
        root: "{{ tree }}"
      register: again
    - name: Keep the results
      ansible.builtin.copy:
        content: "{{ {'checked': checked, 'applied': applied, 'again': again} | to_json }}"
        dest: "{{ out }}"
        mode: "0644"
"""


def test_modules_run_on_python_37(tmp_path):
    python = interpreter()
    if not python:
        pytest.fail("no Python %s on this machine (pyenv's ~/.pyenv/versions/%s.* or python%s on PATH)"
                    % (OLDEST, OLDEST, OLDEST))
    version = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout.strip()
    assert version == OLDEST
    tree = tmp_path / "tree"
    (tree / "etc" / "sysctl.d").mkdir(parents=True)
    playbook = tmp_path / "old.yml"
    playbook.write_text(PLAYBOOK)
    out = tmp_path / "out.json"
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".ansible", "collections"),
               ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0")
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", "-c", "local",
                           str(playbook), "-e", "ansible_python_interpreter=%s" % python,
                           "-e", "tree=%s" % tree, "-e", "out=%s" % out],
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:]
    results = yaml.safe_load(out.read_text())
    checked = results["checked"]
    ids = set(r["id"] for r in checked["results"])
    assert set(("SYSCTL-IP_FORWARD", "KCONF-VIRTIO_NET", "GCE-SSH-NO-PASSWORD-AUTH")) <= ids
    assert results["applied"]["changed"] is True and results["again"]["changed"] is False
    dropin = [name for name in os.listdir(str(tree / "etc" / "sysctl.d")) if name.endswith(".conf")]
    assert len(dropin) == 1
    assert "net.ipv4.ip_forward = 0" in (tree / "etc" / "sysctl.d" / dropin[0]).read_text()
