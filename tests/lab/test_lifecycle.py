"""Guest life cycle: snapshot start vs cold boot, guest-initiated reboot, crash and cold restart.

Cold boots are what make these tests slow under TCG (about a minute each on an idle 2-core
machine, several minutes on a loaded one), so the `--cold` guest boots in the background
while the snapshot guest reboots.
"""

import json
import os
import subprocess

import pytest

from lab_helpers import CMD_TIMEOUT, LAB, ROOT, process_alive, profiles, wait_until

NAME = "life"
COLD = "life-cold"
BOOT_TIMEOUT = 1200


@pytest.fixture(scope="module")
def lifecycle(lab):
    cold_proc = None
    try:
        # the cold boot runs in the background while the snapshot guest is tested
        cold_proc = subprocess.Popen([LAB, "up", "--cold", "--name", COLD, "--json",
                                      "--timeout", str(BOOT_TIMEOUT)], env=lab.env,
                                     text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        state = {"life": lab.up("--name", NAME)[0], "cold_proc": cold_proc}
        state["snapshot_boot_id"] = boot_id(lab, NAME)  # before the reboot test changes it
        yield state
    finally:
        if cold_proc is not None and cold_proc.poll() is None:
            cold_proc.terminate()  # the CLI stops what it started
            cold_proc.communicate(timeout=120)
        lab.collect()
        present = {g["name"] for g in lab.status()}
        names = [n for n in (NAME, COLD) if n in present]
        if names:
            lab.down(*names)


@pytest.fixture(scope="module")
def cold(lab, lifecycle):
    p = lifecycle["cold_proc"]
    stdout, stderr = p.communicate(timeout=CMD_TIMEOUT)
    lab.collect()
    assert p.returncode == 0, stderr
    return json.loads(stdout)[0]


def boot_id(lab, name):
    return lab.ssh(name, "cat /proc/sys/kernel/random/boot_id", timeout=120).strip()


def status_of(lab, name):
    return next(g for g in lab.status() if g["name"] == name)


def console_text(info):
    with open(info["console_log"], errors="replace") as f:
        return f.read()


def test_snapshot_start(lifecycle):
    life = lifecycle["life"]
    assert life["start_mode"] == "snapshot"
    # a restored guest never boots: its console shows no kernel start-up
    assert "Linux version" not in console_text(life)


def test_sudo_user_key_login_and_become(lab, lifecycle, tmp_path):
    """The image's sudo user logs in with the lab key, has no password, and sudo needs none;
    an inventory written with --user lab makes Ansible log in as it and become root."""
    out = lab.run("ssh", "--user", profiles.SUDO_USER, NAME, "--",
                  "id -un; sudo -n id -un; sudo -n getent shadow %s | cut -d: -f2"
                  % profiles.SUDO_USER).stdout.split()
    assert out == [profiles.SUDO_USER, "root", "*"]
    inv = str(tmp_path / "inventory.yml")
    lab.run("inventory", "--user", profiles.SUDO_USER, "--output", inv)
    ansible = os.path.join(ROOT, ".venv", "bin", "ansible")
    if not os.path.exists(ansible):
        pytest.skip("no ansible in .venv")
    proc = subprocess.run([ansible, "-i", inv, NAME, "-m", "ansible.builtin.shell",
                           "-a", "echo $SUDO_USER $(whoami)"], text=True, timeout=600,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          env=dict(os.environ, ANSIBLE_HOST_KEY_CHECKING="False",
                                   ANSIBLE_TIMEOUT="120"))  # TCG: SSH set-up is slow
    assert proc.returncode == 0, proc.stdout
    assert "%s root" % profiles.SUDO_USER in proc.stdout


def test_guest_initiated_reboot_comes_back(lab, lifecycle):
    life = lifecycle["life"]
    before = boot_id(lab, NAME)
    lab.ssh(NAME, "echo r > /root/before-reboot && sync && "
                  "(sleep 2; systemctl reboot) >/dev/null 2>&1 </dev/null &")
    wait_until(lambda: boot_id(lab, NAME) not in ("", before), timeout=BOOT_TIMEOUT, interval=5,
               what="the guest to come back from reboot")
    st = status_of(lab, NAME)
    assert st["running"] and st["qemu_pid"] == life["qemu_pid"]  # same QEMU, reset inside
    assert "Linux version" in console_text(life)  # a real boot this time
    assert lab.ssh(NAME, "cat /root/before-reboot").strip() == "r"


def test_cold_start_boots_a_fresh_kernel(lab, lifecycle, cold):
    """A fresh boot, not a restored one: the kernel starts on the console, and its boot ID is
    its own (every guest restored from the snapshot shares the snapshot's).  How much slower
    it is belongs to the measurements in lab/README.md, not to an assertion."""
    assert cold["start_mode"] == "cold"
    assert "Linux version" in console_text(cold)
    assert boot_id(lab, COLD) != lifecycle["snapshot_boot_id"]


def test_restart_kill_cold_boots_same_disk(lab, cold):
    lab.ssh(COLD, "echo crash > /root/crash-marker && sync")
    before = boot_id(lab, COLD)
    old = status_of(lab, COLD)
    old_qemu = next(p for p in old["processes"] if p["role"] == "qemu")
    out = lab.restart(COLD, "--kill", "--timeout", str(BOOT_TIMEOUT)).stdout
    assert "start=cold" in out
    assert not process_alive(old_qemu)
    st = status_of(lab, COLD)
    assert st["running"] and st["start_mode"] == "cold" and st["restarts"] == 1
    assert st["qemu_pid"] != old["qemu_pid"]
    assert st["ssh_port"] == old["ssh_port"]  # the inventory stays valid
    assert boot_id(lab, COLD) != before
    # same overlay, cold boot: what was synced before the crash is there
    assert lab.ssh(COLD, "cat /root/crash-marker").strip() == "crash"


def test_down_removes_guest_state(lab, cold):
    lab.down(COLD)
    assert not os.path.exists(os.path.dirname(cold["console_log"]))
    assert COLD not in {g["name"] for g in lab.status()}
