"""Benchmark: harden.yml / verify.yml against the alternatives, on the same lab
guests, in the same run.

Usage: python tests/bench/bench.py [--sizes 1,4,8] [--repeat 3] [--smoke] [--write-docs]

Contenders (each on guests freshly started from the lab's snapshot, the order
rotated between repetitions):
  ping        ansible -m ping (one round trip)
  floor       one ansible.builtin.shell call that writes the same drop-in file
              and runs sysctl -p on it
  harden      our playbooks/harden.yml (first run), then harden-rerun
              (idempotent rerun) and verify (playbooks/verify.yml); without
              installing the guest environment (install_packages: false):
              Compute Engine's images carry it, the lab's snapshot does not,
              and apt's downloads are not what this measures (a first harden
              on a host without it adds apt's time, about 90 s on TCG)
  sysctl-only our sysctl role alone (harden.yml --tags sysctl)
  posix-22    22 ansible.posix.sysctl tasks, persisted and live
  posix-loop  the same keys as one looped ansible.posix.sysctl task (as
              dev-sec's os_hardening applies them)

The keys and values of every contender come from the requirement catalogue;
ansible.posix comes from the `ansible` package on PyPI (12.x, the release that
matches ansible-core 2.19), never from Galaxy.

Prints medians, the ratios the targets are about, module executions per host
and peak controller memory; --write-docs puts them into docs/benchmarks.md.
The numbers are measurements, not assertions: only --smoke checks the
deterministic parts (module executions, idempotence).
"""

import argparse
import json
import os
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, ".ansible", "collections"))
from ansible_collections.guestready.gce.plugins.module_utils import catalogue  # noqa: E402

WORK = os.path.join(ROOT, "build", "bench")
VENV_BIN = os.path.dirname(sys.executable)
LAB = os.path.join(ROOT, "lab", "lab")
ANSIBLE_RELEASE = "12.3.0"  # the `ansible` package that pairs with ansible-core 2.19
CONTENDERS = ("ping", "floor", "harden", "sysctl-only", "posix-22", "posix-loop")
BENCH_FILE = "/etc/sysctl.d/zz-bench.conf"


def log(message):
    print("[bench] %s" % message, flush=True)


# --smoke: the alternatives set this many keys, so the smoke run in `make test`
# exercises every contender without spending minutes on 22 round trips each.
SMOKE_KEYS = 3


def sysctl_items(limit=None):
    """(key, value) of the SYSCTL-* requirements, from the catalogue."""
    return [(entry["key"], entry["expected"]) for entry in catalogue.requirements("sysctl")][:limit]


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.write(text)
    return path


def generate_playbooks(limit=None):
    """The alternatives, generated from the catalogue (no value restated)."""
    tasks = []
    for key, value in sysctl_items(limit):
        tasks.append(
            "    - name: Set %s\n      ansible.posix.sysctl:\n        name: %s\n        value: \"%s\"\n"
            "        sysctl_file: %s\n        sysctl_set: true\n        state: present\n"
            "        ignoreerrors: true\n" % (key, key, value, BENCH_FILE))
    header = "---\n- name: %s\n  hosts: all\n  gather_facts: false\n  tasks:\n"
    write(os.path.join(WORK, "posix-22.yml"), header % ("%d ansible.posix.sysctl tasks" % len(tasks)) + "".join(tasks))
    items = "".join("          - {name: %s, value: \"%s\"}\n" % item for item in sysctl_items(limit))
    write(os.path.join(WORK, "posix-loop.yml"), header % "One looped ansible.posix.sysctl task" + (
        "    - name: Set the kernel settings\n      ansible.posix.sysctl:\n"
        "        name: \"{{ item.name }}\"\n        value: \"{{ item.value }}\"\n"
        "        sysctl_file: %s\n        sysctl_set: true\n        state: present\n"
        "        ignoreerrors: true\n      loop:\n%s" % (BENCH_FILE, items)))
    drop_in = "".join("        %s = %s\n" % item for item in sysctl_items(limit))
    write(os.path.join(WORK, "floor.yml"), header % "One shell call" + (
        "    - name: Write the drop-in and load it\n      ansible.builtin.shell: |\n"
        "        set -e\n        cat > %s <<'EOF'\n%s        EOF\n        sysctl -e -q -p %s\n"
        "      changed_when: true\n" % (BENCH_FILE, drop_in, BENCH_FILE)))


def ensure_posix():
    """ansible.posix from the `ansible` wheel on PyPI, unpacked once."""
    target = os.path.join(WORK, "collections")
    marker = os.path.join(target, "ansible_collections", "ansible", "posix", "MANIFEST.json")
    if os.path.exists(marker):
        return target
    wheels = os.path.join(WORK, "wheels")
    os.makedirs(wheels, exist_ok=True)
    log("fetching ansible==%s from PyPI for ansible.posix" % ANSIBLE_RELEASE)
    subprocess.run([os.path.join(VENV_BIN, "pip"), "download", "--quiet", "--no-deps",
                    "--only-binary", ":all:", "-d", wheels, "ansible==%s" % ANSIBLE_RELEASE], check=True)
    wheel = [name for name in os.listdir(wheels) if name.startswith("ansible-%s" % ANSIBLE_RELEASE)][0]
    with zipfile.ZipFile(os.path.join(wheels, wheel)) as archive:
        members = [m for m in archive.namelist() if m.startswith("ansible_collections/ansible/posix/")]
        archive.extractall(target, members)
    return target


def lab(*args):
    proc = subprocess.run([sys.executable, LAB] + list(args), check=True,
                          stdout=subprocess.PIPE, universal_newlines=True)
    return proc.stdout


STARTED = []


def stop_guests():
    if STARTED:
        subprocess.run([sys.executable, LAB, "down"] + STARTED, check=False, stdout=subprocess.DEVNULL)
        del STARTED[:]


def start_guests(count, name="bench"):
    """``count`` guests fresh from the lab's snapshot; the previous ones stopped."""
    stop_guests()
    inventory = os.path.join(WORK, "inventory-%s.yml" % name)
    guests = json.loads(lab("up", "--profile", "gce", "--count", str(count), "--name", name,
                            "--inventory", inventory, "--json"))
    STARTED.extend(guest["name"] for guest in guests)
    return guests, inventory


def environment(collections):
    env = dict(os.environ)
    env.update({
        "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": os.pathsep.join(
            [os.path.join(ROOT, ".ansible", "collections"), collections]),
        "ANSIBLE_CALLBACK_PLUGINS": os.path.join(ROOT, "tests", "bench"),
        "ANSIBLE_CALLBACKS_ENABLED": "count_modules",
        "ANSIBLE_FORKS": "16",
        "ANSIBLE_STDOUT_CALLBACK": "default",
        "ANSIBLE_DISPLAY_OK_HOSTS": "false",
        "ANSIBLE_DISPLAY_SKIPPED_HOSTS": "false",
    })
    return env


def command_for(contender, inventory):
    playbook = os.path.join(VENV_BIN, "ansible-playbook")
    reports = ["-e", "guestready_gce_hosts=all",
               "-e", "guestready_gce_report_dir=%s" % os.path.join(WORK, "reports", contender)]
    if contender == "ping":
        return [os.path.join(VENV_BIN, "ansible"), "all", "-i", inventory, "-m", "ansible.builtin.ping"]
    if contender in ("harden", "harden-rerun"):
        return [playbook, "-i", inventory, os.path.join(ROOT, "playbooks", "harden.yml"),
                "-e", json.dumps({"compliance_gce_settings": {"install_packages": False}})] + reports
    if contender == "sysctl-only":
        return [playbook, "-i", inventory, os.path.join(ROOT, "playbooks", "harden.yml"),
                "--tags", "sysctl"] + reports
    if contender == "verify":
        return [playbook, "-i", inventory, os.path.join(ROOT, "playbooks", "verify.yml")] + reports
    return [playbook, "-i", inventory, os.path.join(WORK, contender + ".yml")]


# Runs the command and prints the peak RSS of its largest process (KiB).
PEAK = ("import resource,subprocess,sys;"
        "r=subprocess.run(sys.argv[1:]).returncode;"
        "print('PEAK_RSS_KIB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr);"
        "sys.exit(r)")


def measure(contender, inventory, env):
    fd, counts_file = tempfile.mkstemp(prefix="counts-", dir=WORK)
    os.close(fd)
    env = dict(env, GUESTREADY_BENCH_COUNTS=counts_file)
    command = command_for(contender, inventory)
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", PEAK] + command, env=env, cwd=WORK, check=False,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    seconds = time.monotonic() - started
    peak = 0
    for line in proc.stderr.splitlines():
        if line.startswith("PEAK_RSS_KIB"):
            peak = int(line.split()[1])
    counts = {}
    with open(counts_file) as handle:
        text = handle.read()
    os.unlink(counts_file)
    if text:
        counts = json.loads(text)
    # harden/verify exit 2 when the lab's known gaps fail the gate: that is a result, not an error
    ok = proc.returncode == 0 or (contender in ("harden", "harden-rerun", "verify")
                                  and "fail verification" in proc.stdout)
    if not ok:
        log("%s failed (rc=%d):\n%s\n%s" % (contender, proc.returncode, proc.stdout[-3000:],
                                            proc.stderr[-2000:]))
    modules = max((c["modules"] for c in counts.values()), default=1 if contender == "ping" else 0)
    changed = sum(c["changed"] for c in counts.values())
    return {"contender": contender, "seconds": seconds, "ok": ok, "modules_per_host": modules,
            "changed": changed, "peak_rss_kib": peak, "command": " ".join(map(shlex.quote, command))}


SLOW = ("posix-22", "posix-loop")


def run(sizes, repeat, limit=None, slow_repeat=None, loop_max_guests=None):
    """Every contender ``repeat`` times per size, the slow alternatives
    ``slow_repeat`` times (they take minutes each: a median of their runs is
    not needed to see a 5x difference), the looped task only up to
    ``loop_max_guests`` guests (the same 22 module runs as the 22-task play)."""
    os.makedirs(WORK, exist_ok=True)
    generate_playbooks(limit)
    env = environment(ensure_posix())
    rows = []
    for size in sizes:
        for repetition in range(repeat):
            order = list(CONTENDERS[repetition % len(CONTENDERS):] + CONTENDERS[:repetition % len(CONTENDERS)])
            if repetition % 2:
                order.reverse()
            if slow_repeat is not None and repetition >= slow_repeat:
                order = [contender for contender in order if contender not in SLOW]
            if loop_max_guests is not None and size > loop_max_guests:
                order = [contender for contender in order if contender != "posix-loop"]
            for contender in order:
                dummy, inventory = start_guests(size)
                sequence = ["harden", "harden-rerun", "verify"] if contender == "harden" else [contender]
                for step in sequence:
                    row = measure(step, inventory, env)
                    row.update(guests=size, repetition=repetition)
                    rows.append(row)
                    log("%d guest(s) rep %d %-12s %6.1f s  modules/host=%d changed=%d peak=%d MiB%s" % (
                        size, repetition, step, row["seconds"], row["modules_per_host"], row["changed"],
                        row["peak_rss_kib"] // 1024, "" if row["ok"] else "  FAILED"))
    return rows


def medians(rows):
    table = {}
    for row in rows:
        table.setdefault((row["guests"], row["contender"]), []).append(row)
    result = {}
    for key, group in table.items():
        result[key] = {
            "seconds": statistics.median(r["seconds"] for r in group),
            "modules_per_host": max(r["modules_per_host"] for r in group),
            "changed": max(r["changed"] for r in group),
            "peak_rss_mib": max(r["peak_rss_kib"] for r in group) / 1024.0,
            "runs": len(group), "ok": all(r["ok"] for r in group), "command": group[0]["command"],
        }
    return result


TARGETS = [
    # (label, numerator, denominator, limit)
    ("our sysctl baseline / one-call floor", "sysctl-only", "floor", 1.5),
    ("harden.yml / 22-task playbook", "harden", "posix-22", 0.2),
    ("harden.yml / looped task", "harden", "posix-loop", None),
    ("harden.yml / ping", "harden", "ping", 1.5),
    ("verify.yml / ping", "verify", "ping", 1.3),
]


def report(rows, ratios=True):
    stats = medians(rows)
    sizes = sorted(set(size for size, dummy in stats))
    lines = ["| guests | contender | median s | runs | module executions / host | changed | peak controller RSS MiB |",
             "|---|---|---|---|---|---|---|"]
    for size in sizes:
        for contender in CONTENDERS[:2] + ("harden", "harden-rerun", "verify") + CONTENDERS[3:]:
            s = stats.get((size, contender))
            if s:
                lines.append("| %d | %s | %.1f | %d | %d | %d | %.0f |" % (
                    size, contender, s["seconds"], s["runs"], s["modules_per_host"], s["changed"],
                    s["peak_rss_mib"]))
    if not ratios:
        return stats, lines
    lines += ["", "| guests | ratio | value | target |", "|---|---|---|---|"]
    for size in sizes:
        for label, numerator, denominator, limit in TARGETS:
            a, b = stats.get((size, numerator)), stats.get((size, denominator))
            if a and b:
                ratio = a["seconds"] / b["seconds"]
                verdict = "" if limit is None else (" (target <= %.1f: %s)" % (
                    limit, "met" if ratio <= limit else "MISSED"))
                lines.append("| %d | %s | %.2f | %s |" % (size, label, ratio, verdict.strip(" ()") or "-"))
    return stats, lines


def smoke_checks(stats):
    """What must hold whatever the machine's speed."""
    problems = []
    for (size, contender), s in stats.items():
        if not s["ok"]:
            problems.append("%s failed" % contender)
        if contender in ("harden", "harden-rerun", "verify") and s["modules_per_host"] != 1:
            problems.append("%s ran %d modules per host (the budget is 1)" % (contender, s["modules_per_host"]))
        if contender == "harden-rerun" and s["changed"]:
            problems.append("the idempotent rerun changed %d task(s)" % s["changed"])
    return problems


def write_docs(lines, argv):
    path = os.path.join(ROOT, "docs", "benchmarks.md")
    with open(path) as handle:
        text = handle.read()
    begin, end = "<!-- results:begin -->", "<!-- results:end -->"
    block = "%s\nMeasured %s with `%s`:\n\n%s\n%s" % (
        begin, time.strftime("%Y-%m-%d"), " ".join(["python", "tests/bench/bench.py"] + argv),
        "\n".join(lines), end)
    text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
    with open(path, "w") as handle:
        handle.write(text)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--sizes", default="1,4,8",
                        help="guest counts, in the order run; SIZE:N repeats that size N times")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--loop-max-guests", type=int, default=None,
                        help="run the looped-task alternative only up to this many guests")
    parser.add_argument("--slow-repeat", type=int, default=None,
                        help="runs of the two 22-task alternatives (default: --repeat)")
    parser.add_argument("--smoke", action="store_true", help="one guest, one repetition, checks")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args(argv)
    try:
        sizes = [(1, 1)] if args.smoke else [
            (int(size), int(count or args.repeat))
            for size, dummy, count in (item.partition(":") for item in args.sizes.split(","))]
    except ValueError:
        parser.error("--sizes: expected guest counts like 1,4,8 or 1:3,8:1, got %r" % args.sizes)
    # a plain kill stops the guests too
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))
    rows = []
    try:
        # one size at a time, results written after each: a long run that is
        # cut short still leaves what it measured
        for size, repeat in sizes:
            rows += run([size], repeat, SMOKE_KEYS if args.smoke else None, args.slow_repeat,
                        args.loop_max_guests)
            stats, lines = report(rows, ratios=not args.smoke)
            with open(os.path.join(WORK, "results.json"), "w") as handle:
                json.dump(rows, handle, indent=1)
            if args.write_docs:
                write_docs(lines, argv)
    finally:
        stop_guests()
    print("\n".join(lines))
    if args.smoke:
        problems = smoke_checks(stats)
        for problem in problems:
            print("SMOKE FAILURE: %s" % problem)
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
