"""Guests: start (from a snapshot or cold), wait for SSH, restart, stop by PID, status.

State dir (${GUESTREADY_LAB_STATE:-<repo>/.lab}):
  guests/<name>/guest.json     what `lab status`/`lab inventory` report
  guests/<name>/procs/*.json   one record per process the lab started (pid + start time):
                               `lab down` stops exactly these, SIGTERM then SIGKILL
  guests/<name>/overlay.qcow2  copy-on-write disk over the cached base image
  guests/<name>/console.log    ttyS0
  guests/<name>/qmp.sock       QEMU monitor (QMP)
  inventory.yml                Ansible inventory of the running guests
"""

import concurrent.futures
import contextlib
import fcntl
import glob
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from . import aptrepo, metadata, profiles, qemu
from . import image as imagemod
from .util import (LAB_DIR, LabError, cache_dir, file_lock, free_port, log, process_alive,
                   read_json, record_process, require_tools, run, state_dir, stop_process,
                   wait_gone, write_json)

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,23}$")
SNAPSHOT_TAG = "lab"
GUEST_IP = "10.0.2.15"      # tap: the same address in every guest's private namespace
TAP_HOST_IP = "10.0.2.2"
USER_GUEST_IP = "169.0.0.15"   # user: slirp's network is qemu.USER_NET
USER_GATEWAY = "169.0.0.2"
HOSTS_LINE = ("169.254.169.254 metadata.google.internal metadata  # Added by the guestready lab "
              "(on Compute Engine: google_set_hostname, GoogleCloudPlatform/guest-configs)")
SSH_OPTS = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR"]


def guests_root():
    return os.path.join(state_dir(), "guests")


def state_tag():
    """8 hex digits naming this lab state dir in host-global names (network namespaces).

    Several checkouts run guests on one machine at once; a guest `gce` of one state dir and a
    guest `gce` of another must not share a namespace. Derived from the state dir's real path,
    so every `lab` command of one state dir agrees on it."""
    return hashlib.sha256(os.path.realpath(state_dir()).encode()).hexdigest()[:8]


def netns_for(name):
    """Network namespace of guest `name` in this state dir: glab-<state tag>-<name>.

    Namespace names are file names under /run/netns (no IFNAMSIZ limit; at most 38 characters
    here). Interfaces inside the namespace (tap0) are private to it, so their names cannot
    collide."""
    return "glab-%s-%s" % (state_tag(), name)


def ssh_argv(key, port, connect_timeout=30, user="root"):
    return ["ssh", "-i", key, "-p", str(port), "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
            "-o", "ConnectTimeout=%d" % connect_timeout] + SSH_OPTS + ["%s@127.0.0.1" % user]


def check_user(user):
    if user not in profiles.LOGIN_USERS:
        raise LabError("unknown login user %r (the lab images let in: %s)"
                       % (user, ", ".join(profiles.LOGIN_USERS)))


class Guest:
    """One QEMU guest and the processes and namespace around it, rooted in a directory."""

    def __init__(self, name, gdir=None, netns=None):
        self.name = name
        self.dir = gdir or os.path.join(guests_root(), name)
        self.procs = os.path.join(self.dir, "procs")
        self.json_path = os.path.join(self.dir, "guest.json")
        self.overlay = os.path.join(self.dir, "overlay.qcow2")
        self.console = os.path.join(self.dir, "console.log")
        self.pidfile = os.path.join(self.dir, "qemu.pid")
        self.netns_name = netns or netns_for(name)
        self.info = read_json(self.json_path) if os.path.exists(self.json_path) else {}
        self.qmp_path = self.info.get("qmp_socket") or os.path.join(self.dir, "qmp.sock")

    # -- records -----------------------------------------------------------------------------
    def records(self):
        recs = []
        for f in sorted(glob.glob(os.path.join(self.procs, "*.json"))):
            try:
                recs.append(read_json(f))
            except (OSError, ValueError):
                pass
        return recs

    def record(self, role):
        path = os.path.join(self.procs, role + ".json")
        return read_json(path) if os.path.exists(path) else None

    def running(self):
        rec = self.record("qemu")
        return bool(rec and process_alive(rec))

    def save(self):
        self.info["qmp_socket"] = self.qmp_path
        write_json(self.json_path, self.info)

    # -- setup -------------------------------------------------------------------------------
    def create_dir(self):
        os.makedirs(self.procs, exist_ok=True)
        if len(self.qmp_path) > 100:  # unix socket paths are limited to 108 bytes
            self.qmp_path = os.path.join(tempfile.mkdtemp(prefix="glab-"), "qmp.sock")
        self.save()

    def netns_exists(self):
        return os.path.exists(os.path.join("/run/netns", self.netns_name))

    def setup_tap(self, profile, hostname=None):
        """Private network namespace with tap0 and dnsmasq; nothing changes in the host netns."""
        require_tools("ip", "dnsmasq")
        if self.netns_exists():
            raise LabError("network namespace %s already exists (left by a killed `lab up` of "
                           "this state dir? `lab down --all`, or `ip netns del %s`)"
                           % (self.netns_name, self.netns_name))
        ns = ["ip", "netns", "exec", self.netns_name]
        run(["ip", "netns", "add", self.netns_name])
        self.info["netns"] = self.netns_name
        self.save()
        run(ns + ["ip", "link", "set", "lo", "up"])
        run(ns + ["ip", "tuntap", "add", "dev", "tap0", "mode", "tap", "vnet_hdr"])
        run(ns + ["ip", "addr", "add", TAP_HOST_IP + "/24", "dev", "tap0"])
        run(ns + ["ip", "link", "set", "tap0", "up"])
        pidfile = os.path.join(self.dir, "dnsmasq.pid")
        cmd = ns + ["dnsmasq", "--conf-file=/dev/null", "--pid-file=" + pidfile,
                    "--interface=tap0", "--bind-interfaces", "--except-interface=lo",
                    "--port=0", "--no-resolv", "--no-hosts", "--leasefile-ro",
                    "--dhcp-authoritative",
                    "--dhcp-range=%s,%s,255.255.255.0,12h" % (GUEST_IP, GUEST_IP)]
        mtu = profiles.PROFILES[profile].get("dhcp_mtu")
        if mtu:
            cmd.append("--dhcp-option=option:mtu,%d" % mtu)
        if hostname:  # DHCP option 12, as Compute Engine's DHCP server hands it out
            cmd.append("--dhcp-host=%s,%s,%s" % (qemu.nic_mac(profile), GUEST_IP, hostname))
        run(cmd)
        record_process(os.path.join(self.procs, "dnsmasq.json"), "dnsmasq", _read_pid(pidfile))

    def write_metadata(self, profile, net):
        """guests/<name>/metadata.json: the metadata server's content (kept across restarts)."""
        path = os.path.join(self.dir, "metadata.json")
        if not os.path.exists(path):
            mtu = (profiles.PROFILES[profile].get("dhcp_mtu") or 1500) if net == "tap" else 1500
            ip, gw = (GUEST_IP, TAP_HOST_IP) if net == "tap" else (USER_GUEST_IP, USER_GATEWAY)
            write_json(path, metadata.default_content(self.name, state_tag(), qemu.nic_mac(profile),
                                                      ip, gw, mtu=mtu))
        return path

    def start_services(self, net, content):
        """The services process (metadata.py): the apt repository, and the metadata API when
        `content` is a file. User networking: on 127.0.0.1 (QEMU forwards to it); tap: on
        169.254.169.253/.254 port 80 inside the guest's namespace. Returns the info dict."""
        ips = [qemu.REPO_IP] + ([qemu.METADATA_IP] if content else [])
        prefix = []
        if net == "tap":
            prefix = ["ip", "netns", "exec", self.netns_name]
            for ip in ips:
                run(prefix + ["ip", "addr", "add", ip + "/32", "dev", "lo"])
            listen = ["%s:80" % ip for ip in ips]
        else:
            listen = ["127.0.0.1:0"]
        ready = os.path.join(self.dir, "services.json")
        with contextlib.suppress(FileNotFoundError):
            os.remove(ready)
        cmd = prefix + [sys.executable, "-m", "guestready_lab.metadata"]
        for address in listen:
            cmd += ["--listen", address]
        cmd += ["--repo", aptrepo.repo_dir(), "--debs", aptrepo.debs_dir(), "--ready", ready]
        if content:
            cmd += ["--content", content]
        logpath = os.path.join(self.dir, "services.log")
        with open(logpath, "ab") as logf:
            proc = subprocess.Popen(cmd, cwd=LAB_DIR, stdin=subprocess.DEVNULL, stdout=logf,
                                    stderr=logf, start_new_session=True)
        record_process(os.path.join(self.procs, "services.json"), "services", proc.pid)
        deadline = time.monotonic() + 20
        while not os.path.exists(ready):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise LabError("the services process of guest %s did not start (%s%s)"
                               % (self.name, logpath, _tail(logpath)))
            time.sleep(0.1)
        ports = read_json(ready)["ports"]
        info = {"port": ports[0] if net == "user" else 80, "metadata": bool(content),
                "metadata_file": content, "addresses": ips}
        self.info["services"] = info
        self.save()
        return info

    def start_forwarder(self):
        """socat on 127.0.0.1:<port> in the host netns -> guest:22 inside the namespace."""
        require_tools("socat")
        for _ in range(5):
            port = free_port()
            logf = open(os.path.join(self.dir, "socat.log"), "ab")
            inner = "ip netns exec %s socat - TCP\\:%s\\:22" % (self.netns_name, GUEST_IP)
            proc = subprocess.Popen(
                ["socat", "TCP-LISTEN:%d,bind=127.0.0.1,fork,reuseaddr" % port, "EXEC:" + inner],
                stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, start_new_session=True)
            logf.close()
            record_process(os.path.join(self.procs, "socat.json"), "socat", proc.pid, group=True)
            time.sleep(0.3)
            if proc.poll() is None:
                return port
        raise LabError("could not start the SSH forwarder (see %s/socat.log)" % self.dir)

    def start_qemu(self, profile, image, net, port, loadvm=False):
        # -name glab-<state tag>-<name>: `ps` tells which state dir a QEMU belongs to
        paths = {"name": self.netns_name, "overlay": self.overlay, "console": self.console,
                 "qmp": self.qmp_path, "pidfile": self.pidfile}
        for attempt in range(5):
            argv = qemu.command(profile, image, paths, net, port, self.info.get("services"))
            if loadvm:
                argv += ["-loadvm", SNAPSHOT_TAG]
            if net == "tap":
                argv = ["ip", "netns", "exec", self.netns_name] + argv
            for stale in (self.pidfile, self.qmp_path):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(stale)
            proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
            if proc.returncode == 0:
                rec = record_process(os.path.join(self.procs, "qemu.json"), "qemu",
                                     _read_pid(self.pidfile))
                self.info.update({"qemu_pid": rec["pid"], "ssh_port": port})
                self.save()
                return rec, port
            err = (proc.stderr.strip().splitlines() or ["?"])[-1]
            if net == "user" and "host forwarding" in err and attempt < 4:
                port = free_port()  # lost a race for the port: take another
                continue
            raise LabError("QEMU failed to start guest %s: %s" % (self.name, err))
        raise LabError("unreachable")

    def ssh(self, key, port, cmd, timeout=120, check=True, connect_timeout=30, user="root"):
        try:
            proc = subprocess.run(ssh_argv(key, port, connect_timeout, user) + [cmd],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            # a guest too slow to answer (TCG on a loaded machine): a failed attempt for a
            # caller that polls, an error otherwise, never a traceback
            if not check:
                return subprocess.CompletedProcess(cmd, 124, "", "no answer within %d s" % timeout)
            raise LabError("ssh %s %r: no answer within %d s" % (self.name, cmd, timeout))
        if check and proc.returncode != 0:
            raise LabError("ssh %s %r failed (exit %d): %s" % (self.name, cmd, proc.returncode,
                                                                proc.stderr.strip()[-200:]))
        return proc

    def wait_ssh(self, key, port, qemu_rec, timeout):
        t0 = time.monotonic()
        # Short connect timeouts first: a SYN sent while the guest is still being restored
        # is lost, and TCP's retransmission backoff would otherwise add 10+ s.
        schedule = [3, 3, 5, 5, 8]
        attempt = 0
        while True:
            if not process_alive(qemu_rec):
                raise LabError("QEMU of guest %s exited before SSH answered (console: %s%s)"
                               % (self.name, self.console, _tail(self.console)))
            try:
                ct = schedule[attempt] if attempt < len(schedule) else 10
                attempt += 1
                if self.ssh(key, port, "true", timeout=30, check=False, connect_timeout=ct).returncode == 0:
                    return time.monotonic() - t0
            except subprocess.TimeoutExpired:
                pass
            if time.monotonic() - t0 > timeout:
                raise LabError("guest %s: SSH on 127.0.0.1:%s did not answer within %d s "
                               "(console: %s%s)" % (self.name, port, timeout, self.console,
                                                    _tail(self.console)))
            time.sleep(1)

    def settle(self, key, port, timeout=300):
        """After a cold boot, wait until systemd has finished starting the system: SSH
        answers early, and services that start later may restart sshd (the guest agent
        after writing host keys or its OS Login configuration), resetting connections.
        A connection-level failure (ssh's exit 255) is retried."""
        deadline = time.monotonic() + timeout
        while True:
            proc = self.ssh(key, port, "systemctl is-system-running --wait", timeout=timeout, check=False)
            if proc.returncode != 255 or time.monotonic() > deadline:
                return proc.stdout.strip()
            time.sleep(2)

    def after_start(self, key, port, set_clock, with_metadata):
        """One SSH round trip as root: after -loadvm the guest clock is where it was at savevm,
        set it from the host; with the metadata server, make metadata.google.internal resolve
        (/etc/hosts, as google_set_hostname does on Compute Engine) unless the image does."""
        cmds = []
        if with_metadata:
            cmds.append("grep -q '^169\\.254\\.169\\.254[[:space:]]' /etc/hosts || echo %s >>/etc/hosts"
                        % shlex.quote(HOSTS_LINE))
        if set_clock:  # last: as close to the host's time as possible
            cmds.append("date -u -s @%.3f >/dev/null" % time.time())
        if not cmds:
            return
        # On a cold first boot the guest agent regenerates the host keys and restarts sshd
        # right after SSH first answered: a connection reset (ssh's own exit 255) is retried.
        deadline = time.monotonic() + 120
        while True:
            proc = self.ssh(key, port, " && ".join(cmds), timeout=60, check=False)
            if proc.returncode != 255 or time.monotonic() > deadline:
                break
            time.sleep(2)
        if proc.returncode != 0:
            raise LabError("ssh %s %r failed (exit %d): %s" % (self.name, " && ".join(cmds), proc.returncode,
                                                                proc.stderr.strip()[-200:]))

    # -- teardown ----------------------------------------------------------------------------
    def stop_all(self):
        """Stop every recorded process (QEMU first), delete the namespace. Returns roles stopped."""
        stopped = []
        order = {"qemu": 0, "socat": 1, "services": 2, "dnsmasq": 3}
        for rec in sorted(self.records(), key=lambda r: order.get(r.get("role"), 9)):
            if stop_process(rec):
                stopped.append("%s %d" % (rec.get("role"), rec["pid"]))
        ns = self.info.get("netns")
        if ns and os.path.exists(os.path.join("/run/netns", ns)):
            run(["ip", "netns", "del", ns])
        return stopped

    def remove(self):
        qmp_dir = os.path.dirname(self.qmp_path)
        if os.path.basename(qmp_dir).startswith("glab-") and qmp_dir.startswith(tempfile.gettempdir()):
            shutil.rmtree(qmp_dir, ignore_errors=True)
        shutil.rmtree(self.dir, ignore_errors=True)


def _read_pid(path):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with open(path) as f:
                return int(f.read().strip())
        except (FileNotFoundError, ValueError):
            time.sleep(0.1)
    raise LabError("no PID in %s" % path)


def _tail(path, n=3):
    try:
        with open(path, errors="replace") as f:
            lines = [l.strip() for l in f.read().splitlines() if l.strip()]
    except OSError:
        return ""
    return "; last lines: " + " | ".join(lines[-n:]) if lines else ""


def tap_possible():
    """(True, why) when the tap backend can work here: root and the tools it runs."""
    if os.geteuid() != 0:
        return False, "not root (the tap backend creates a network namespace)"
    missing = [t for t in ("ip", "dnsmasq", "socat") if shutil.which(t) is None]
    if missing:
        return False, "missing %s" % ", ".join(missing)
    return True, "root, with ip, dnsmasq and socat"


def resolve_net(net):
    """``auto``: tap when it can work here (its NIC offloads are Compute Engine's), else user."""
    if net != "auto":
        return net
    ok, why = tap_possible()
    log("network: %s (auto: %s)" % ("tap" if ok else "user", why))
    return "tap" if ok else "user"


def _validate(profile, net):
    if profile not in profiles.PROFILES:
        raise LabError("unknown profile %r (known: %s)" % (profile, ", ".join(sorted(profiles.PROFILES))))
    if net not in ("user", "tap"):
        raise LabError("unknown network backend %r (use user, tap or auto)" % net)
    require_tools(qemu.QEMU, "qemu-img", "ssh", "socat")  # socat: the services' guestfwd
    if net == "tap":
        require_tools("ip", "dnsmasq", "socat")
        if os.geteuid() != 0:
            raise LabError("--net tap needs root (it creates a network namespace)")


def dhcp_hostname(profile, content):
    """The name the lab's DHCP hands out: the metadata's instance/hostname (first label), for
    images without a static hostname (the guest environment's); else None."""
    if not content or not profiles.IMAGES[profiles.PROFILES[profile]["image"]].get("guest_environment"):
        return None
    name = read_json(content)["instance"].get("hostname", "").split(".")[0]
    return name if re.match(r"^[a-z0-9][a-z0-9-]{0,62}$", name) else None


def _launch(g, profile, net, image, loadvm, with_metadata=False):
    """Network backend, services, QEMU for a prepared guest dir. Returns (qemu record, ssh port)."""
    content = g.write_metadata(profile, net) if with_metadata else None
    hostname = dhcp_hostname(profile, content)
    if net == "tap":
        g.setup_tap(profile, hostname)
    g.start_services(net, content)["hostname"] = hostname
    g.save()
    port = g.start_forwarder() if net == "tap" else free_port()
    return g.start_qemu(profile, image, net, port, loadvm=loadvm)


# ---- snapshots -------------------------------------------------------------------------------

def snapshot_key(profile, net, image, with_metadata=False):
    placeholders = {"name": "@NAME@", "overlay": "@OVERLAY@", "console": "@CONSOLE@",
                    "qmp": "@QMP@", "pidfile": "@PIDFILE@"}
    services = {"port": "@SVCPORT@", "metadata": with_metadata, "hostname": None}
    argv = qemu.command(profile, {"kernel": "@KERNEL@", "initrd": "@INITRD@"}, placeholders,
                        net, "@PORT@", services)
    inputs = {"argv": argv, "image_key": image["key"], "base": image["disk"],
              "qemu": qemu.caps()["version_line"], "accel": qemu.detect_accel()[0]}
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:16]


def ensure_snapshot(profile, net, image, timeout, with_metadata=False):
    key = snapshot_key(profile, net, image, with_metadata)
    root = os.path.join(cache_dir(), "snapshots")
    sdir = os.path.join(root, "%s-%s-%s" % (profile, net, key))
    if os.path.exists(os.path.join(sdir, "snapshot.json")):
        return sdir, key
    with file_lock(os.path.join(cache_dir(), "locks", "snapshot-%s.lock" % key), "snapshot " + key):
        if os.path.exists(os.path.join(sdir, "snapshot.json")):
            return sdir, key
        bdir = os.path.join(root, ".build-%s" % key)
        # The key covers the base image's path, so it differs between caches; one cache builds
        # a key once (the lock above): the namespace name is unique on the host.
        g = Guest("snap-" + key[:8], gdir=bdir, netns="glab-s" + key[:10])
        g.stop_all()  # leftovers of an interrupted build (same lock, so nobody else's)
        g.remove()
        log("no snapshot yet for %s/%s: cold boot once, then savevm (key %s)" % (profile, net, key))
        t0 = time.monotonic()
        try:
            g.create_dir()
            g.info.update({"name": g.name, "profile": profile, "net": net, "snapshot_build": True})
            g.save()
            run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", image["disk"], "-F", "raw", g.overlay])
            rec, port = _launch(g, profile, net, image, loadvm=False, with_metadata=with_metadata)
            boot_s = g.wait_ssh(image["ssh_key"], port, rec, timeout)
            g.ssh(image["ssh_key"], port, "sync")
            t1 = time.monotonic()
            q = qemu.QMP(g.qmp_path, timeout=300)
            out = q.hmp("savevm " + SNAPSHOT_TAG)
            if out.strip():
                raise LabError("savevm failed: %s" % out.strip().splitlines()[-1])
            save_s = time.monotonic() - t1
            try:
                q.execute("quit")
            except LabError:
                pass
            q.close()
            if not wait_gone(rec, 60):
                stop_process(rec)
            g.stop_all()
            listing = run(["qemu-img", "snapshot", "-l", g.overlay]).stdout
            if SNAPSHOT_TAG not in listing.split():
                raise LabError("snapshot %r missing from %s" % (SNAPSHOT_TAG, g.overlay))
            write_json(os.path.join(bdir, "snapshot.json"), {
                "key": key, "profile": profile, "net": net, "image_key": image["key"],
                "base": image["disk"], "qemu": qemu.caps()["version_line"],
                "accel": qemu.detect_accel()[0], "cold_boot_seconds": round(boot_s, 1),
                "savevm_seconds": round(save_s, 1),
                "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            })
            shutil.rmtree(g.procs, ignore_errors=True)
            shutil.rmtree(sdir, ignore_errors=True)
            os.replace(bdir, sdir)
        finally:
            g.stop_all()
            g.remove()
        log("snapshot %s-%s-%s saved in %.0f s (cold boot to SSH %.0f s, savevm %.1f s)"
            % (profile, net, key, time.monotonic() - t0, boot_s, save_s))
    return sdir, key


# ---- commands ----------------------------------------------------------------------------------

def fresh_guest(name):
    """A Guest for `name` with no state left from an earlier one (refused while it runs)."""
    g = Guest(name)
    if os.path.exists(g.dir):
        if g.running():
            raise LabError("guest %s is already running (lab down %s)" % (name, name))
        log("removing stale state of guest %s" % name)
        g.stop_all()
        g.remove()
        g = Guest(name)
    return g


def up(profile, net="user", count=1, name=None, cold=False, timeout=900, user="root",
       with_metadata=None):
    """Start guests. with_metadata: the metadata server stand-in (None: the profile's choice)."""
    net = resolve_net(net)
    _validate(profile, net)
    check_user(user)
    if count < 1:
        raise LabError("--count must be at least 1")
    name = name or profile
    names = [name] if count == 1 else ["%s-%d" % (name, i) for i in range(1, count + 1)]
    for n in names:
        if not NAME_RE.match(n):
            raise LabError("bad guest name %r (lowercase letters, digits, '-', at most 24)" % n)
    accel, reason = qemu.detect_accel()
    log("accel: %s (%s)" % (accel, reason))
    guests = [fresh_guest(n) for n in names]
    p = profiles.PROFILES[profile]
    if with_metadata is None:
        with_metadata = bool(p.get("metadata"))
    if p.get("cold_only") and not cold:
        # a first boot is what it tests (the guest agent's first-boot actions, the hostname
        # from DHCP): a snapshot would replay the snapshot build's
        log("profile %s boots cold (%s)" % (profile, p["cold_only"]))
        cold = True
    image = imagemod.ensure_image(p["image"])
    aptrepo.ensure()
    snap_dir = snap_key = None
    if not cold:
        snap_dir, snap_key = ensure_snapshot(profile, net, image, timeout, with_metadata)
    sb = qemu.south_bridge(profile)
    started = []
    try:
        for g in guests:
            t0 = time.monotonic()
            g.create_dir()
            started.append(g)
            g.info.update({
                "name": g.name, "profile": profile, "net": net, "image_variant": p["image"],
                "image_key": image["key"], "boot_kernel": image["boot_kernel"],
                "ssh_host": "127.0.0.1", "ssh_user": "root", "ssh_key": image["ssh_key"],
                "login_user": user,
                "accel": accel, "accel_reason": reason, "qemu_version": qemu.caps()["version"],
                "south_bridge": sb, "start_mode": "cold" if cold else "snapshot",
                "snapshot_key": snap_key, "state_dir": g.dir, "console_log": g.console,
                "overlay": g.overlay, "netns": None,
                "guest_ip": GUEST_IP if net == "tap" else USER_GUEST_IP,
                "restarts": 0, "gaps": qemu.gaps(profile, net, with_metadata),
                "scsi_version": qemu.scsi_version(profile), "deviations": p["deviations"],
                "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            })
            g.save()
            if cold:
                run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", image["disk"], "-F", "raw", g.overlay])
            else:
                run(["cp", "--sparse=always", os.path.join(snap_dir, "overlay.qcow2"), g.overlay])
            rec, port = _launch(g, profile, net, image, loadvm=not cold, with_metadata=with_metadata)
            g.t0 = t0
            g.rec = rec
            g.port = port
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(guests)) as ex:
            futs = {ex.submit(g.wait_ssh, image["ssh_key"], g.port, g.rec, timeout): g for g in guests}
            for fut in concurrent.futures.as_completed(futs):
                fut.result()
        for g in guests:
            if cold:
                g.settle(image["ssh_key"], g.port)
            g.after_start(image["ssh_key"], g.port, set_clock=not cold, with_metadata=with_metadata)
            if user != "root":  # the inventory will log in as `user` and become root with sudo
                g.ssh(image["ssh_key"], g.port, "sudo -n true", timeout=60, user=user)
            g.info["seconds_to_ssh"] = round(time.monotonic() - g.t0, 1)
            g.save()
    except BaseException:
        for g in started:
            try:
                g.stop_all()
            finally:
                g.remove()
        raise
    return [g.info for g in guests]


def load(name):
    if not NAME_RE.match(name or ""):
        raise LabError("bad guest name %r" % name)
    g = Guest(name)
    if not os.path.exists(g.dir):
        known = ", ".join(all_names()) or "none"
        raise LabError("unknown guest %r (running: %s)" % (name, known))
    return g


def all_names():
    root = guests_root()
    if not os.path.isdir(root):
        return []
    return sorted(n for n in os.listdir(root) if os.path.isdir(os.path.join(root, n)))


def restart(name, kill=False, timeout=900):
    g = load(name)
    info = g.info
    if not info.get("profile"):
        raise LabError("guest %s has no complete state (lab down %s)" % (name, name))
    rec = g.record("qemu")
    if rec and process_alive(rec):
        if kill:
            log("%s: SIGKILL to QEMU %d" % (name, rec["pid"]))
            stop_process(rec, timeout=5, sig=signal.SIGKILL)
        else:
            log("%s: ACPI power-off" % name)
            try:
                q = qemu.QMP(g.qmp_path)
                q.execute("system_powerdown")
                q.close()
            except (LabError, OSError):
                pass
            if not wait_gone(rec, 180):
                log("%s: no clean power-off within 180 s, SIGTERM" % name)
                stop_process(rec)
    if info.get("firmware"):  # `lab up --disk`: the firmware boots the disk again
        image = {k: info.get(k) for k in ("firmware", "ovmf_vars", "ssh_key")}
    else:
        image = imagemod.image_info(os.path.dirname(info["ssh_key"]))
    t0 = time.monotonic()
    # Always a cold boot of the same overlay: never -loadvm a disk that changed since savevm.
    rec, port = g.start_qemu(info["profile"], image, info["net"], info["ssh_port"], loadvm=False)
    g.wait_ssh(image["ssh_key"], port, rec, timeout)
    g.settle(image["ssh_key"], port)
    g.info.update({"start_mode": "cold", "restarts": info.get("restarts", 0) + 1,
                   "seconds_to_ssh": round(time.monotonic() - t0, 1)})
    g.save()
    return g.info


def down(names=None, all_guests=False):
    targets = all_names() if all_guests else list(names or [])
    if not targets and not all_guests:
        raise LabError("name a guest, or use --all")
    out, unknown = [], []
    for n in targets:
        try:
            g = load(n)
        except LabError:
            unknown.append(n)
            continue
        stopped = g.stop_all()
        g.remove()
        out.append((n, stopped))
    if all_guests:  # snapshot builds abandoned by a killed `lab up` (their lock is free)
        for bdir in glob.glob(os.path.join(cache_dir(), "snapshots", ".build-*")):
            key = os.path.basename(bdir)[len(".build-"):]
            lock = os.path.join(cache_dir(), "locks", "snapshot-%s.lock" % key)
            os.makedirs(os.path.dirname(lock), exist_ok=True)
            with open(lock, "w") as f:
                try:
                    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue
                g = Guest("snap-" + key[:8], gdir=bdir, netns="glab-s" + key[:10])
                out.append(("snapshot build " + key, g.stop_all()))
                g.remove()
    return out, unknown


def status():
    out = []
    for n in all_names():
        g = Guest(n)
        info = dict(g.info)
        info.setdefault("name", n)
        info["running"] = g.running()
        info["processes"] = [dict(r, alive=process_alive(r)) for r in g.records()]
        out.append(info)
    return out
