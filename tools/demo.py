"""`make demo`: the collection's main job on one Compute-Engine-like lab guest.

Boots a `gce` lab guest from the lab's snapshot, runs playbooks/harden.yml and
then playbooks/verify.yml against it, prints the summary tables and where the
reports are, and stops the guest (by PID, also on failure or Ctrl-C).

The guest uses the tap network (a private network namespace) when privileges
allow (root, `ip`, `dnsmasq`, `socat`), so the NIC offloads are those of
Compute Engine; otherwise, or when starting it fails, user networking, whose
missing offloads are then a waived gap. The lab cannot imitate everything
Compute Engine presents (lab/README.md, `lab/lab gaps`): those IDs are waived
in the demo's inventory with the gap as the reason, so they show as `waived`,
never as a pass. With QEMU 10 on tap only the PIIX4 ISA revision is left.
"""

import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
LAB = os.path.join(ROOT, "lab", "lab")
WORK = os.path.join(ROOT, "build", "demo")
NAME = "demo"
sys.path.insert(0, os.path.join(ROOT, "lab"))
from guestready_lab.guests import tap_possible  # noqa: E402


def say(message):
    print("\n==> %s" % message, flush=True)


def lab(*args):
    return subprocess.run([LAB] + list(args), check=True, stdout=subprocess.PIPE,
                          universal_newlines=True).stdout


def start_guest():
    """`lab up` on tap when possible, else (or when that fails) on user networking."""
    ok, why = tap_possible()
    if ok:
        proc = subprocess.run([LAB, "up", "--profile", "gce", "--net", "tap", "--name", NAME, "--json"],
                              stdout=subprocess.PIPE, universal_newlines=True, check=False)
        if proc.returncode == 0:
            print("network: tap in a private namespace (%s)" % why)
            return json.loads(proc.stdout)[0]
        why = "starting it failed (exit %d, message above)" % proc.returncode
    print("network: user-mode (tap not used: %s); its missing NIC offloads are waived" % why)
    return json.loads(lab("up", "--profile", "gce", "--name", NAME, "--json"))[0]


def inventory(guest, gaps):
    waivers = {}
    for gap in gaps:
        if gap["id"] != "-":
            reason = "lab gap: " + gap["what"]
            waivers[gap["id"]] = waivers[gap["id"]] + "; " + gap["what"] if gap["id"] in waivers else reason
    host = {
        "ansible_host": guest["ssh_host"], "ansible_port": guest["ssh_port"],
        "ansible_user": guest["ssh_user"], "ansible_ssh_private_key_file": guest["ssh_key"],
        "ansible_python_interpreter": "/usr/bin/python3",
        "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
                                   "-o LogLevel=ERROR",
        "guestready_gce_waivers": waivers,
    }
    path = os.path.join(WORK, "inventory.json")
    os.makedirs(WORK, exist_ok=True)
    with open(path, "w") as handle:
        json.dump({"all": {"hosts": {guest["name"]: host}}}, handle, indent=2)
    return path, waivers


def playbook(name, inv):
    report_dir = os.path.join(WORK, "reports", name)
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".ansible", "collections"),
               ANSIBLE_TIMEOUT="60", ANSIBLE_DISPLAY_SKIPPED_HOSTS="false")
    started = time.time()
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", inv,
                           os.path.join(ROOT, "playbooks", name + ".yml"), "-e", "guestready_gce_hosts=%s" % NAME,
                           "-e", "guestready_gce_report_dir=%s" % report_dir], env=env, cwd=ROOT,
                          check=False)
    print("%s.yml finished in %.0f s with exit status %d" % (name, time.time() - started, proc.returncode))
    return proc.returncode, report_dir


def main():
    say("Starting a Compute-Engine-like lab guest (lab/README.md)")
    subprocess.run([LAB, "down", NAME], check=False, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)  # a guest left by an interrupted demo
    guest = start_guest()
    print("%s: ssh 127.0.0.1:%s, %s, started from %s in %.0f s" % (
        guest["name"], guest["ssh_port"], guest["accel"], guest["start_mode"], guest["seconds_to_ssh"]))
    try:
        gaps = json.loads(lab("gaps", "--profile", "gce", "--net", guest["net"], "--json"))["gaps"]
        inv, waivers = inventory(guest, gaps)
        say("Waived because the lab cannot imitate them (shown as 'waived' in every report):")
        for rid, reason in sorted(waivers.items()):
            print("  %s: %s" % (rid, reason))
        say("ansible-playbook playbooks/harden.yml -e guestready_gce_hosts=%s: apply SYSCTL-*, check every area" % NAME)
        harden_rc, dummy = playbook("harden", inv)
        say("ansible-playbook playbooks/verify.yml -e guestready_gce_hosts=%s: check only" % NAME)
        verify_rc, report_dir = playbook("verify", inv)
        say("Reports of the verify run")
        for name in sorted(os.listdir(report_dir)):
            print("  %s" % os.path.join(report_dir, name))
        print("Open report.html in a browser: hosts x requirements, click a cell for its evidence.")
        return 0 if harden_rc == 0 and verify_rc == 0 else 1
    finally:
        say("Stopping the guest")
        print(lab("down", NAME).strip())


if __name__ == "__main__":
    sys.exit(main())
