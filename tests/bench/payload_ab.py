"""One module payload against another on one lab guest: what a change to the
collection costs or saves per module execution, without Ansible's own time.

Usage: python tests/bench/payload_ab.py BEFORE [AFTER] [--repeat 3] [--module compliance_info]
                                        [--args "areas=..."] [--clear-run-cache]

BEFORE and AFTER are git revisions of this repository (AFTER: the working tree).
For each, the AnsiballZ payload Ansible builds for the module (on this
controller, ANSIBLE_KEEP_REMOTE_FILES=1) is kept; one `gce` lab guest (`ab`,
from the snapshot; stopped by name at the end, whatever happens) then runs the
two payloads with its own python3 (`-X importtime`), alternately, --repeat
times each after one warm-up run of BEFORE (so both meet the same page cache
and initramfs listing): wall seconds, and the seconds the module's imports of
the collection took (less noisy than the whole run on a shared machine).
With --clear-run-cache, AFTER also runs once more per round with the
collection's run cache emptied first (/run/guestready-gce/code-*: a host's
first execution). Prints each run and the medians; numbers are measurements,
never assertions.
"""

import argparse
import glob
import os
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BIN = os.path.dirname(sys.executable)
LAB = os.path.join(ROOT, "lab", "lab")
NAME = "ab"
# wall seconds of one run, and what `-X importtime` says the collection's
# imports took (the module's own imports: the shallowest collection lines)
TIMED = r"""import re, subprocess, sys, time
t = time.time()
err = subprocess.run(['python3', '-X', 'importtime', sys.argv[1]], stdout=subprocess.DEVNULL,
                     stderr=subprocess.PIPE, universal_newlines=True).stderr
wall = time.time() - t
found = [(len(m.group(2)), int(m.group(1))) for m in
         re.finditer(r'import time:\s+\d+ \|\s+(\d+) \|( +)ansible_collections\.guestready\.', err)]
shallow = min([depth for depth, us in found] or [0])
print('%.2f %.2f' % (wall, sum(us for depth, us in found if depth == shallow) / 1e6))
"""


def log(message):
    print("[ab] %s" % message, flush=True)


def payload(revision, module, args, work):
    """The AnsiballZ payload of ``module`` from ``revision`` (None: the working tree)."""
    collections = os.path.join(work, "collections-%s" % (revision or "tree"))
    link = os.path.join(collections, "ansible_collections", "guestready", "gce")
    os.makedirs(os.path.dirname(link))
    source = ROOT
    if revision:
        source = os.path.join(work, "tree-%s" % revision)
        subprocess.run(["git", "-C", ROOT, "worktree", "add", "-q", "--detach", source, revision], check=True)
    os.symlink(source, link)
    kept = os.path.join(work, "kept-%s" % (revision or "tree"))
    os.makedirs(kept)
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=collections,
               ANSIBLE_KEEP_REMOTE_FILES="1", ANSIBLE_REMOTE_TMP=kept)
    subprocess.run([os.path.join(BIN, "ansible"), "localhost", "-c", "local", "-e",
                    "ansible_python_interpreter=/usr/bin/python3", "-m", "guestready.gce." + module,
                    "-a", args], env=env, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=False)  # only the payload it leaves matters, whatever the module answered here
    found = glob.glob(os.path.join(kept, "*", "AnsiballZ_%s.py" % module))
    if revision:
        subprocess.run(["git", "-C", ROOT, "worktree", "remove", "--force", source], check=True)
    if len(found) != 1:
        raise SystemExit("payload_ab: no payload of %s from %s" % (module, revision or "the working tree"))
    return found[0]


def ssh(command, **kwargs):
    """``command`` (one shell command line) on the guest."""
    return subprocess.run([LAB, "ssh", NAME, "--", command], check=True, universal_newlines=True, **kwargs)


def timed(path):
    """``(wall seconds, seconds importing the collection)`` of one run of the payload at ``path``."""
    wall, imports = ssh("python3 -c %s %s" % (shlex.quote(TIMED), path), stdout=subprocess.PIPE).stdout.split()[-2:]
    return float(wall), float(imports)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("before")
    parser.add_argument("after", nargs="?")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--module", default="compliance_info")
    parser.add_argument("--args", default="areas=sysctl,kernel_config,hardware,gce_settings")
    parser.add_argument("--clear-run-cache", action="store_true")
    args = parser.parse_args(argv)
    work = tempfile.mkdtemp(prefix="payload-ab-")
    runs = {}
    try:
        payloads = {"before": payload(args.before, args.module, args.args, work),
                    "after": payload(args.after, args.module, args.args, work)}
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))  # the finally stops the guest
        subprocess.run([LAB, "up", "--profile", "gce", "--name", NAME], check=True, stdout=subprocess.DEVNULL)
        try:
            for label, path in sorted(payloads.items()):
                with open(path, "rb") as handle:
                    ssh("cat > /root/%s.py" % label, stdin=handle)
            log("warm-up: before %.2f s (imports %.2f s)" % timed("/root/before.py"))
            for round_ in range(args.repeat):
                order = [("before", False), ("after", False)]
                if args.clear_run_cache:
                    order.insert(1, ("after", True))
                for label, clear in order:
                    if clear:
                        ssh("rm -f /run/guestready-gce/code-*")
                    seconds = timed("/root/%s.py" % label)
                    name = label + (", run cache emptied" if clear else "")
                    runs.setdefault(name, []).append(seconds)
                    log("round %d %-28s %6.2f s  imports %5.2f s" % ((round_ + 1, name) + seconds))
            log("guest load: %s" % ssh("cat /proc/loadavg", stdout=subprocess.PIPE).stdout.strip())
        finally:
            subprocess.run([LAB, "down", NAME], check=False, stdout=subprocess.DEVNULL)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        subprocess.run(["git", "-C", ROOT, "worktree", "prune"], check=False)
    for name, seconds in runs.items():
        walls, imports = [wall for wall, dummy in seconds], [spent for dummy, spent in seconds]
        print("%-30s median %6.2f s (%s); the collection's imports %5.2f s (%s)" % (
            name, statistics.median(walls), ", ".join("%.2f" % s for s in walls),
            statistics.median(imports), ", ".join("%.2f" % s for s in imports)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
