"""Helpers for the lab tests: a CLI wrapper, guest fact readers, a PID registry.

Guests are started through the real CLI (`lab/lab`, run by /usr/bin/python3 through its
shebang, without the venv) with GUESTREADY_LAB_STATE pointing at a temporary directory, so
the tests never touch guests a developer has running in <repo>/.lab. The image and snapshot
cache (~/.cache/guestready-lab) is shared: a warm cache makes the tests fast.

Every process the lab records for a guest (qemu, dnsmasq, socat) is collected in a
session-wide registry; test_zz_cleanup.py and pytest_sessionfinish check that none is left.
"""

import glob
import json
import os
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAB = os.path.join(ROOT, "lab", "lab")
sys.path.insert(0, os.path.join(ROOT, "lab"))

from guestready_lab import profiles  # noqa: E402  (lab data, standard library only)
from guestready_lab.util import process_alive, stop_process  # noqa: E402

CMD_TIMEOUT = 1500  # a cold image build + a cold snapshot boot under TCG fit in this

REGISTRY = []        # process records of every guest the tests started
NETNS = set()        # network namespaces the tests' guests used


class LabCLI:
    def __init__(self, state):
        self.state = state
        self.env = dict(os.environ, GUESTREADY_LAB_STATE=state)

    def run(self, *args, check=True, timeout=CMD_TIMEOUT):
        proc = subprocess.run([LAB] + list(args), env=self.env, text=True, timeout=timeout,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if check and proc.returncode != 0:
            raise AssertionError("lab %s failed (exit %d):\n%s%s" % (
                " ".join(args), proc.returncode, proc.stdout, proc.stderr))
        return proc

    def collect(self):
        """Add the process records of all guests in the state dir to the registry."""
        for path in glob.glob(os.path.join(self.state, "guests", "*", "procs", "*.json")):
            with open(path) as f:
                rec = json.load(f)
            if rec not in REGISTRY:
                REGISTRY.append(rec)
        for path in glob.glob(os.path.join(self.state, "guests", "*", "guest.json")):
            with open(path) as f:
                ns = json.load(f).get("netns")
            if ns:
                NETNS.add(ns)

    def up(self, *args):
        try:
            proc = self.run("up", "--json", *args)
        finally:
            self.collect()
        return json.loads(proc.stdout)

    def up_many(self, specs):
        """Start several `lab up` commands at once; return {name: info}."""
        procs = []
        for spec in specs:
            procs.append((spec, subprocess.Popen(
                [LAB, "up", "--json"] + list(spec), env=self.env, text=True,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)))
        out, errors = {}, []
        for spec, p in procs:
            try:
                stdout, stderr = p.communicate(timeout=CMD_TIMEOUT)
            except subprocess.TimeoutExpired:
                p.send_signal(signal.SIGTERM)  # the CLI stops what it started
                stdout, stderr = p.communicate()
            if p.returncode != 0:
                errors.append("lab up %s: exit %d: %s" % (" ".join(spec), p.returncode, stderr.strip()))
                continue
            for g in json.loads(stdout):
                out[g["name"]] = g
        self.collect()
        if errors:
            raise AssertionError("\n".join(errors))
        return out

    def down(self, *names):
        self.collect()
        return self.run("down", *names)

    def restart(self, name, *args):
        try:
            proc = self.run("restart", name, *args)
        finally:
            self.collect()
        return proc

    def status(self):
        return json.loads(self.run("status", "--json").stdout)

    def ssh(self, name, command, check=True, timeout=300):
        proc = self.run("ssh", name, "--", command, check=False, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError("lab ssh %s %r: exit %d: %s" % (name, command, proc.returncode,
                                                                  proc.stderr))
        return proc.stdout


class Guest:
    """Reads sysfs/procfs facts of a running guest over SSH, one round trip per call."""

    def __init__(self, lab, info):
        self.lab = lab
        self.info = info
        self.name = info["name"]
        self._pci = None

    def sh(self, command, check=True):
        return self.lab.ssh(self.name, command, check=check)

    def pci(self):
        """{slot: {vendor, device, subsystem_vendor, subsystem_device, revision, class, driver}}"""
        if self._pci is None:
            out = self.sh(
                "cd /sys/bus/pci/devices && for d in *; do printf '%s' \"$d\"; "
                "for f in vendor device subsystem_vendor subsystem_device revision class; do "
                "printf ' %s' \"$(cat $d/$f)\"; done; "
                "printf ' %s\\n' \"$(basename \"$(readlink $d/driver)\" 2>/dev/null || echo -)\"; done")
            devs = {}
            for line in out.splitlines():
                f = line.split()
                slot = f[0].split(":", 1)[1]  # 0000:00:04.0 -> 00:04.0
                devs[slot] = dict(zip(["vendor", "device", "subsystem_vendor", "subsystem_device",
                                       "revision", "class", "driver"], f[1:]))
            self._pci = devs
        return self._pci

    def find_pci(self, vendor, device):
        return {slot: d for slot, d in self.pci().items()
                if d["vendor"] == vendor and d["device"] == device}

    def virtio_features(self):
        """{virtio device id (int): feature bit string (index = bit number)}"""
        out = self.sh("for v in /sys/bus/virtio/devices/*; do "
                      "echo $(cat $v/device) $(cat $v/features); done", check=False)
        return {int(l.split()[0], 16): l.split()[1] for l in out.splitlines() if l.strip()}

    def serial(self):
        """{"ttyS0": {"uart": "16550A", "port": "0x3F8", "irq": 4, "type": 4}, ...}"""
        out = self.sh("cat /proc/tty/driver/serial; for t in /sys/class/tty/ttyS*; do "
                      "echo SYS $(basename $t) $(cat $t/type) $(cat $t/irq) $(cat $t/port); done")
        ports = {}
        for line in out.splitlines():
            f = line.split()
            if f and f[0].rstrip(":").isdigit():
                kv = dict(x.split(":", 1) for x in f[1:] if ":" in x)
                ports.setdefault("ttyS" + f[0].rstrip(":"), {}).update(
                    uart=kv["uart"], proc_port=kv["port"], proc_irq=int(kv["irq"]))
            elif f and f[0] == "SYS":
                ports.setdefault(f[1], {}).update(type=int(f[2]), irq=int(f[3]), port=f[4].upper())
        return ports

    def ethtool_k(self, iface):
        out = self.sh("ethtool -k %s" % iface)
        feats = {}
        for line in out.splitlines():
            if ":" in line and not line.startswith("Features"):
                k, v = line.split(":", 1)
                feats[k.strip()] = v.split()[0] if v.split() else ""
        return feats


def gap(info, requirement_id):
    """The guest's recorded known gap for a requirement ID, or None."""
    for g in info.get("gaps", []):
        if g["id"] == requirement_id:
            return g
    return None


def wait_until(predicate, timeout, interval=3, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except (AssertionError, subprocess.TimeoutExpired) as e:
            last = e
        time.sleep(interval)
    raise AssertionError("timed out after %d s waiting for %s (last: %r)" % (timeout, what, last))


def leftovers():
    """Registered processes still alive, and namespaces still present."""
    alive = [r for r in REGISTRY if process_alive(r)]
    ns = sorted(n for n in NETNS if os.path.exists(os.path.join("/run/netns", n)))
    return alive, ns
