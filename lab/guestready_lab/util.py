"""Small helpers: errors, paths, locks, processes by PID, ports. Standard library only."""

import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

LAB_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO_ROOT = os.path.dirname(LAB_DIR)

# tool -> Debian package that provides it (for error messages and the CI package list)
TOOLS = {
    "qemu-system-x86_64": "qemu-system-x86",
    "qemu-img": "qemu-utils",
    "mmdebstrap": "mmdebstrap",
    "mkfs.ext4": "e2fsprogs",
    "sfdisk": "fdisk",
    "mkfs.vfat": "dosfstools",
    "mmd": "mtools",
    "mcopy": "mtools",
    "zstd": "zstd",
    "tar": "tar",
    "ssh": "openssh-client",
    "ssh-keygen": "openssh-client",
    "ip": "iproute2",
    "dnsmasq": "dnsmasq-base",
    "socat": "socat",
}


class LabError(Exception):
    """An error with a one-line message for the user (no traceback)."""


def log(msg):
    print("lab: " + msg, file=sys.stderr, flush=True)


def cache_dir():
    return os.path.abspath(os.path.expanduser(
        os.environ.get("GUESTREADY_LAB_CACHE") or "~/.cache/guestready-lab"))


def state_dir():
    return os.path.abspath(os.path.expanduser(
        os.environ.get("GUESTREADY_LAB_STATE") or os.path.join(REPO_ROOT, ".lab")))


def require_tools(*names):
    for name in names:
        if shutil.which(name) is None:
            pkg = TOOLS.get(name)
            hint = " (Debian package %s)" % pkg if pkg else ""
            raise LabError("missing tool: %s%s" % (name, hint))


def run(cmd, check=True, capture=True, timeout=None, **kw):
    """Run a command; on failure raise LabError with the last line of its stderr."""
    try:
        proc = subprocess.run(cmd, check=False, timeout=timeout, text=True,
                              stdout=subprocess.PIPE if capture else None,
                              stderr=subprocess.PIPE if capture else None, **kw)
    except FileNotFoundError:
        raise LabError("missing tool: %s" % cmd[0]) from None
    except subprocess.TimeoutExpired:
        raise LabError("timed out after %ss: %s" % (timeout, " ".join(cmd[:3]))) from None
    if check and proc.returncode != 0:
        err = (proc.stderr or proc.stdout or "").strip().splitlines() if capture else []
        raise LabError("%s failed (exit %d)%s" % (" ".join(cmd[:3]), proc.returncode,
                                                  ": " + err[-1] if err else ""))
    return proc


def write_json(path, data):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        json.dump(data, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


def read_json(path):
    with open(path) as f:
        return json.load(f)


@contextlib.contextmanager
def file_lock(path, what):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log("waiting for another lab process (%s)" % what)
            fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- processes, recorded and stopped by PID ------------------------------------------------

def proc_starttime(pid):
    """Start time (clock ticks since boot) of a process, or None if it does not exist.

    Recorded next to every PID so that a recycled PID is never signalled."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError, ValueError):
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    if fields[0] == "Z":  # zombie: reap it if it is ours, and count it as gone
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)
        return None
    return int(fields[19])


def record_process(path, role, pid, group=False):
    """Write <path> = {"role", "pid", "start", "group"}: the record `lab down` stops by."""
    rec = {"role": role, "pid": pid, "start": proc_starttime(pid), "group": group}
    write_json(path, rec)
    return rec


def process_alive(rec):
    start = proc_starttime(rec["pid"])
    return start is not None and (rec.get("start") is None or start == rec["start"])


def stop_process(rec, timeout=10.0, sig=signal.SIGTERM):
    """SIGTERM (or `sig`), wait up to `timeout` s, then SIGKILL. True if it was running."""
    if not process_alive(rec):
        return False
    pid = rec["pid"]

    def send(s):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if rec.get("group"):
                os.killpg(pid, s)
            else:
                os.kill(pid, s)

    send(sig)
    if wait_gone(rec, timeout):
        return True
    send(signal.SIGKILL)
    if not wait_gone(rec, 10):
        raise LabError("process %d (%s) survived SIGKILL" % (pid, rec.get("role")))
    return True


def wait_gone(rec, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process_alive(rec):
            return True
        time.sleep(0.1)
    return not process_alive(rec)
