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

from guestready_lab import profiles  # noqa: E402,F401  (lab data, re-exported to the tests)
from guestready_lab.util import process_alive  # noqa: E402

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


FACTS_SCRIPT = r"""
echo "== time"; date +%s.%N
echo "== pci"
for d in /sys/bus/pci/devices/*; do
  drv=-; [ -e $d/driver ] && drv=$(basename $(readlink $d/driver))
  echo $(basename $d) $(cat $d/vendor $d/device $d/subsystem_vendor $d/subsystem_device $d/revision $d/class) $drv
done
echo "== virtio"
for v in /sys/bus/virtio/devices/*; do [ -e $v/features ] && echo $(cat $v/device) $(cat $v/features); done
echo "== serial_proc"; cat /proc/tty/driver/serial
echo "== serial_sys"
for t in /sys/class/tty/ttyS*; do echo $(basename $t) $(cat $t/type $t/irq $t/port); done
echo "== scsi"
for s in /sys/bus/scsi/devices/[0-9]*; do
  [ -e $s/vendor ] && echo $(basename $s) $(cat $s/vendor $s/model $s/rev $s/scsi_level) \
    $(basename $(readlink $s/driver)) $(ls $s/block 2>/dev/null)
done
echo "== sda"
echo $(cat /sys/block/sda/queue/physical_block_size /sys/block/sda/queue/logical_block_size)
echo $(ls /sys/block/sda/mq)
echo $(basename $(readlink /sys/block/sda/device/driver)) $(readlink -f /sys/block/sda)
echo "== byid"; ls /dev/disk/by-id
echo "== dmi"
cat /sys/class/dmi/id/bios_vendor /sys/class/dmi/id/sys_vendor /sys/class/dmi/id/product_name /sys/class/dmi/id/board_vendor
echo "== virt"; systemd-detect-virt || true
echo "== uname"; uname -r
echo "== cmdline"; cat /proc/cmdline
echo "== boot"; ls /boot
echo "== net"
for n in /sys/class/net/*; do
  [ "$(basename $n)" = lo ] && continue
  echo $(basename $n) $(cat $n/mtu) $(basename $(readlink $n/device/driver))
done
for n in /sys/class/net/*; do
  [ "$(basename $n)" = lo ] && continue
  echo "== ethtool $(basename $n)"; ethtool -k $(basename $n)
done
true
"""


class Guest:
    """Facts of a running guest, read from sysfs/procfs in ONE ssh round trip (cached).

    Every SSH connection to a TCG guest costs seconds; the tests assert on these facts."""

    def __init__(self, lab, info):
        self.lab = lab
        self.info = info
        self.name = info["name"]
        self._facts = None
        self.host_time = None

    def sh(self, command, check=True):
        return self.lab.ssh(self.name, command, check=check)

    def raw(self):
        if self._facts is None:
            self.host_time = time.time()
            out = self.sh(FACTS_SCRIPT)
            sections, cur = {}, None
            for line in out.splitlines():
                if line.startswith("== "):
                    cur = line[3:].strip()
                    sections[cur] = []
                elif cur is not None:
                    sections[cur].append(line)
            self._facts = sections
        return self._facts

    def pci(self):
        """{slot: {vendor, device, subsystem_vendor, subsystem_device, revision, class, driver}}"""
        devs = {}
        for line in self.raw()["pci"]:
            f = line.split()
            devs[f[0].split(":", 1)[1]] = dict(zip(
                ["vendor", "device", "subsystem_vendor", "subsystem_device", "revision", "class",
                 "driver"], f[1:]))
        return devs

    def find_pci(self, vendor, device):
        return {slot: d for slot, d in self.pci().items()
                if d["vendor"] == vendor and d["device"] == device}

    def virtio_features(self):
        """{virtio device id (int): feature bit string (index = bit number)}"""
        return {int(l.split()[0], 16): l.split()[1] for l in self.raw()["virtio"] if l.strip()}

    def serial(self):
        """{"ttyS0": {"uart": "16550A", "proc_port": "000003F8", "proc_irq": 4,
                      "type": 4, "irq": 4, "port": "0X3F8"}, ...}"""
        ports = {}
        for line in self.raw()["serial_proc"]:
            f = line.split()
            if f and f[0].rstrip(":").isdigit():
                kv = dict(x.split(":", 1) for x in f[1:] if ":" in x)
                ports.setdefault("ttyS" + f[0].rstrip(":"), {}).update(
                    uart=kv["uart"], proc_port=kv["port"], proc_irq=int(kv["irq"]))
        for line in self.raw()["serial_sys"]:
            f = line.split()
            ports.setdefault(f[0], {}).update(type=int(f[1]), irq=int(f[2]), port=f[3].upper())
        return ports

    def scsi(self):
        """{"0:0:1:0": [vendor, model, rev, scsi_level, driver, block...]}"""
        return {l.split()[0]: l.split()[1:] for l in self.raw()["scsi"] if l.strip()}

    def sda(self):
        sizes, queues, driver = self.raw()["sda"][:3]
        return {"sizes": sizes.split(), "queues": queues.split(), "driver": driver.split()[0],
                "path": driver.split()[1]}

    def lines(self, section):
        return self.raw()[section]

    def net(self):
        """{iface: {"mtu": int, "driver": str}}"""
        return {l.split()[0]: {"mtu": int(l.split()[1]), "driver": l.split()[2]}
                for l in self.raw()["net"] if l.strip()}

    def ethtool_k(self, iface):
        feats = {}
        for line in self.raw()["ethtool " + iface]:
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
