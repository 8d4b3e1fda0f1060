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

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAB = os.path.join(ROOT, "lab", "lab")
sys.path.insert(0, os.path.join(ROOT, "lab"))

from guestready_lab import profiles  # noqa: E402,F401  (lab data, re-exported to the tests)
from guestready_lab.util import process_alive  # noqa: E402

CMD_TIMEOUT = 2700  # a cold image build + a cold snapshot boot under TCG fit in this
# `lab up --timeout` for SSH: a cold boot under TCG takes 1-2 min on an idle 2-core machine,
# over 15 min when it runs a dozen other TCG guests (measured: load average 15-20)
BOOT_TIMEOUT = "1800"

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
            proc = self.run("up", "--json", "--timeout", BOOT_TIMEOUT, *args)
        finally:
            self.collect()
        return json.loads(proc.stdout)

    def up_many(self, specs):
        """Start several `lab up` commands at once; return {name: info}."""
        procs = []
        for spec in specs:
            procs.append((spec, subprocess.Popen(
                [LAB, "up", "--json", "--timeout", BOOT_TIMEOUT] + list(spec), env=self.env, text=True,
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


# Runs inside the guest with its python3: one process reads sysfs/procfs (each extra process
# costs tens of milliseconds under TCG), prints sections "== name" followed by lines.
FACTS_PY = r"""
import glob, os, subprocess, time

def rd(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return "-"

def link(path):
    return os.path.basename(os.readlink(path)) if os.path.islink(path) else "-"

def cmd(*argv):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return p.stdout.strip()

out = []
def section(name, lines):
    out.append("== " + name)
    out.extend(lines)

section("time", ["%.3f" % time.time()])
section("pci", [" ".join([os.path.basename(d)] + [rd(d + "/" + f) for f in (
    "vendor", "device", "subsystem_vendor", "subsystem_device", "revision", "class")]
    + [link(d + "/driver")]) for d in sorted(glob.glob("/sys/bus/pci/devices/*"))])
def msix_table_size(dev):
    # PCI capability list (config offset 0x34); MSI-X is ID 0x11, table size - 1 in bits 0-10
    try:
        with open(dev + "/config", "rb") as f:
            cfg = f.read(256)
    except OSError:
        return "-"
    pos, seen = cfg[0x34] if len(cfg) > 0x34 else 0, set()
    while pos and pos not in seen and pos + 3 < len(cfg):
        seen.add(pos)
        if cfg[pos] == 0x11:
            return str((int.from_bytes(cfg[pos + 2:pos + 4], "little") & 0x7FF) + 1)
        pos = cfg[pos + 1]
    return "-"

section("msix", [os.path.basename(d) + " " + msix_table_size(d)
                 for d in sorted(glob.glob("/sys/bus/pci/devices/*"))])
section("cpus", [str(os.cpu_count())])
section("virtio", [rd(v + "/device") + " " + rd(v + "/features")
                   for v in sorted(glob.glob("/sys/bus/virtio/devices/*"))])
section("serial_proc", rd("/proc/tty/driver/serial").splitlines())
section("serial_sys", [" ".join([os.path.basename(t), rd(t + "/type"), rd(t + "/irq"), rd(t + "/port")])
                       for t in sorted(glob.glob("/sys/class/tty/ttyS*"))])
section("scsi", [" ".join([os.path.basename(s)] + [rd(s + "/" + f) for f in ("vendor", "model", "rev", "scsi_level")]
                          + [link(s + "/driver")] + sorted(os.listdir(s + "/block")))
                 for s in sorted(glob.glob("/sys/bus/scsi/devices/[0-9]*")) if os.path.exists(s + "/block")])
section("sda", [rd("/sys/block/sda/queue/physical_block_size") + " " + rd("/sys/block/sda/queue/logical_block_size"),
                " ".join(sorted(os.listdir("/sys/block/sda/mq"))),
                link("/sys/block/sda/device/driver") + " " + os.path.realpath("/sys/block/sda")])
section("byid", sorted(os.listdir("/dev/disk/by-id")))
section("dmi", [rd("/sys/class/dmi/id/" + f) for f in ("bios_vendor", "sys_vendor", "product_name", "board_vendor")])
section("virt", [cmd("systemd-detect-virt")])
section("uname", [os.uname().release])
section("cmdline", [rd("/proc/cmdline")])
section("boot", sorted(os.listdir("/boot")))
nics = sorted(n for n in os.listdir("/sys/class/net") if n != "lo")
section("net", ["%s %s %s" % (n, rd("/sys/class/net/%s/mtu" % n), link("/sys/class/net/%s/device/driver" % n))
                for n in nics])
for n in nics:
    section("ethtool " + n, cmd("ethtool", "-k", n).splitlines())
print("\n".join(out))
"""
FACTS_SCRIPT = "python3 - <<'GUESTREADY_FACTS'\n" + FACTS_PY + "GUESTREADY_FACTS\n"


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

    def msix(self):
        """{slot: MSI-X table size as a string, "-" without MSI-X}"""
        return {l.split()[0].split(":", 1)[1]: l.split()[1] for l in self.raw()["msix"] if l.strip()}

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


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    """The lab CLI bound to a private state dir; `lab down --all` there at the end."""
    cli = LabCLI(str(tmp_path_factory.mktemp("lab-state")))
    yield cli
    cli.collect()
    cli.run("down", "--all", check=False)
