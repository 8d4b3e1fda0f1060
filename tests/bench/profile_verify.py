"""Where verify.yml spends its time: one lab guest, the module execution
broken down on the guest, the report play on the controller.

Usage: python tests/bench/profile_verify.py [--repeat 3] [--before JSON] [--results JSON] [--write-docs]

Boots one `gce` lab guest (`prof`, from the snapshot; stopped by name at the
end, whatever happens) and measures, each --repeat times (medians):

controller  `ansible -m ping` against the guest; verify.yml against it (the
            first run with ANSIBLE_KEEP_REMOTE_FILES=1: the AnsiballZ payload
            it leaves on the guest is the one measured below); the report play
            (playbooks/report.yml) alone on that host's module answer; a
            one-task localhost playbook (ansible-playbook's own start); the
            report library (plugin_utils/report.py) in process.  Wall time and
            peak RSS.
guest       tests/bench/profile_guest.py, run with the guest's python3: the
            interpreter start, the payload as Ansible runs it, exploded with
            cached bytecode, its imports from source and from bytecode, each
            area's check and cProfile's top functions in each.

Prints a table; --write-docs replaces the profile section of
docs/benchmarks.md.  --before takes the results JSON of an earlier run
(build/bench/profile/results.json) and shows it in a "before" column;
--results shows a saved run instead of measuring.
Numbers are measurements, never assertions.
"""

import argparse
import json
import os
import shlex
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, ".ansible", "collections"))
WORK = os.path.join(ROOT, "build", "bench", "profile")
BIN = os.path.dirname(sys.executable)
LAB = os.path.join(ROOT, "lab", "lab")
NAME = "prof"
PAYLOAD = "AnsiballZ_compliance.py"
PEAK = ("import resource,subprocess,sys;"
        "r=subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL).returncode;"
        "print('PEAK_RSS_KIB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr);"
        "sys.exit(r)")


def log(message):
    print("[profile] %s" % message, flush=True)


def environment(**extra):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".ansible", "collections"),
               ANSIBLE_STDOUT_CALLBACK="default")
    env.update(extra)
    return env


def run_measured(argv, env):
    """``(seconds, peak RSS KiB of the largest process, return code)``."""
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", PEAK] + argv, env=env, cwd=WORK,
                          stderr=subprocess.PIPE, universal_newlines=True, check=False)
    seconds = time.monotonic() - started
    peak = [int(line.split()[1]) for line in proc.stderr.splitlines() if line.startswith("PEAK_RSS_KIB")]
    return seconds, (peak or [0])[0], proc.returncode


class Guest(object):
    def __init__(self, inventory):
        info = json.loads(subprocess.run(
            [sys.executable, LAB, "up", "--profile", "gce", "--name", NAME, "--inventory", inventory,
             "--json"], check=True, stdout=subprocess.PIPE, universal_newlines=True).stdout)[0]
        self.ssh = ["ssh", "-i", info["ssh_key"], "-p", str(info["ssh_port"]), "-o", "StrictHostKeyChecking=no",
                    "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
                    "%s@%s" % (info["ssh_user"], info["ssh_host"])]
        self.info = info

    def run(self, command, stdin=None):
        return subprocess.run(self.ssh + [command], input=stdin, stdout=subprocess.PIPE, check=True).stdout


def controller(inventory, repeat):
    """ping and verify.yml against the guest, ``repeat`` times each, interleaved."""
    rows = {"ping": [], "verify": []}
    reports = os.path.join(WORK, "reports")
    commands = {
        "ping": [os.path.join(BIN, "ansible"), "all", "-i", inventory, "-m", "ansible.builtin.ping"],
        "verify": [os.path.join(BIN, "ansible-playbook"), "-i", inventory,
                   os.path.join(ROOT, "playbooks", "verify.yml"), "-e", "guestready_gce_hosts=all",
                   "-e", "guestready_gce_gate=false", "-e", "guestready_gce_report_dir=%s" % reports],
    }
    for index in range(repeat):
        for name in ("ping", "verify") if index % 2 == 0 else ("verify", "ping"):
            keep = "1" if name == "verify" and index == 0 else "0"
            seconds, peak, rc = run_measured(commands[name], environment(ANSIBLE_KEEP_REMOTE_FILES=keep))
            if rc:
                raise SystemExit("profile: %s failed (rc=%d): %s" % (name, rc, " ".join(commands[name])))
            rows[name].append((seconds, peak))
            log("%-7s %6.1f s  peak %d MiB" % (name, seconds, peak // 1024))
    return rows, commands


def report_play(answer, repeat):
    """The report play alone on one host's module answer (registered as
    verify's role registers it), a one-task localhost playbook for
    ansible-playbook's own cost, and the report library in process."""
    inventory = os.path.join(WORK, "report-inventory.json")
    with open(inventory, "w") as handle:
        json.dump({"all": {"hosts": {NAME: {"compliance_result": answer},
                                     "localhost": {"ansible_connection": "local",
                                                   "ansible_python_interpreter": sys.executable}}}}, handle)
    floor = os.path.join(WORK, "floor.yml")
    with open(floor, "w") as handle:
        handle.write("- name: One controller task\n  hosts: localhost\n  gather_facts: false\n"
                     "  tasks:\n    - name: Say something\n      ansible.builtin.debug:\n        msg: floor\n")
    commands = {
        "report": [os.path.join(BIN, "ansible-playbook"), "-i", inventory,
                   os.path.join(ROOT, "playbooks", "report.yml"),
                   "-e", json.dumps({"guestready_gce_targets": [NAME], "guestready_gce_gate": False,
                                     "guestready_gce_report_dir": os.path.join(WORK, "report-only")})],
        "playbook-floor": [os.path.join(BIN, "ansible-playbook"), "-i", inventory, floor],
    }
    rows = {"report": [], "playbook-floor": []}
    for dummy in range(repeat):
        for name, argv in commands.items():
            seconds, peak, rc = run_measured(argv, environment())
            if rc:
                raise SystemExit("profile: %s failed (rc=%d): %s" % (name, rc, " ".join(argv)))
            rows[name].append((seconds, peak))
            log("%-14s %5.1f s  peak %d MiB" % (name, seconds, peak // 1024))
    from ansible_collections.guestready.gce.plugins.plugin_utils import report
    library = []
    for dummy in range(repeat):
        started = time.monotonic()
        host = report.host_report(NAME, {"compliance_result": answer})
        summary = report.fleet_summary([host], False, "now", extra={"run": "profile"})
        report.write_reports(os.path.join(WORK, "report-library"), [host], summary)
        library.append(time.monotonic() - started)
    return rows, library, commands


def median(pairs, index=0):
    return statistics.median(pair[index] for pair in pairs)


def measure(repeat):
    os.makedirs(WORK, exist_ok=True)
    inventory = os.path.join(WORK, "inventory.yml")
    load_start = os.getloadavg()
    try:
        log("lab up %s" % NAME)
        guest = Guest(inventory)
        rows, commands = controller(inventory, repeat)
        payload = guest.run("ls -t /root/.ansible/tmp/ansible-tmp-*/%s | head -1" % PAYLOAD).decode().strip()
        with open(os.path.join(HERE, "profile_guest.py"), "rb") as handle:
            guest.run("cat > /root/profile_guest.py", stdin=handle.read())
        log("on the guest: %s (about 10 minutes under TCG)" % payload)
        on_guest = json.loads(guest.run("python3 /root/profile_guest.py %s --repeat %d" % (
            shlex.quote(payload), repeat)).decode())
    finally:  # by name, also when `lab up` itself was interrupted
        subprocess.run([sys.executable, LAB, "down", NAME], check=False, stdout=subprocess.DEVNULL)
    answer = json.loads(on_guest.pop("answer"))
    report_rows, library, report_commands = report_play(answer, repeat)
    rows.update(report_rows)
    commands.update(report_commands)
    return {
        "date": time.strftime("%Y-%m-%d"),
        "host_load_start": load_start, "host_load_end": os.getloadavg(),
        "controller": dict((name, {"seconds": median(pairs), "peak_rss_mib": max(p[1] for p in pairs) / 1024.0,
                                   "samples": [p[0] for p in pairs],
                                   "command": " ".join(shlex.quote(a) for a in commands[name])})
                           for name, pairs in rows.items()),
        "report_library": {"seconds": statistics.median(library), "samples": library},
        "guest": on_guest,
        "repeat": repeat,
    }


# (label, getter, what it is)
ROWS = [
    ("controller: `ansible -m ping`", lambda r: r["controller"]["ping"]["seconds"],
     "one round trip: the floor of any module execution"),
    ("controller: verify.yml, whole run", lambda r: r["controller"]["verify"]["seconds"],
     "require_hosts, the one module execution, the report play"),
    ("controller: report play alone", lambda r: r["controller"]["report"]["seconds"],
     "`ansible-playbook playbooks/report.yml` on the guest's module answer"),
    ("controller: one-task localhost playbook", lambda r: r["controller"]["playbook-floor"]["seconds"],
     "ansible-playbook's own start and one debug task: the report play's floor"),
    ("controller: report library in process", lambda r: r["report_library"]["seconds"],
     "plugin_utils/report.py: host report, summary, JSON/JUnit/HTML written"),
    ("guest: `python3 -c pass`", lambda r: r["guest"]["interpreter"], "interpreter start"),
    ("guest: the payload as Ansible runs it", lambda r: r["guest"]["module_zip"],
     "`python3 AnsiballZ_compliance.py`: zip import (ansible-core's sources compiled, the collection's code kept after the first run), the checks, the answer"),
    ("guest: the payload exploded, bytecode cached", lambda r: r["guest"]["module_exploded"],
     "`python3 AnsiballZ_compliance.py execute`"),
    ("guest: imports, compiled from source", lambda r: r["guest"]["import_source"],
     "`python3 -B -c 'import ...modules.compliance'` from a copy without bytecode"),
    ("guest: imports, from cached bytecode", lambda r: r["guest"]["import_bytecode"], "the same with bytecode"),
    ("guest, in process: imports", lambda r: r["guest"]["in_process"]["import"], ""),
    ("guest, in process: area sysctl", lambda r: r["guest"]["areas"].get("sysctl"),
     "areas.AREAS check functions, timed around each call"),
    ("guest, in process: area kernel_config", lambda r: r["guest"]["areas"].get("kernel_config"), ""),
    ("guest, in process: area hardware", lambda r: r["guest"]["areas"].get("hardware"), ""),
    ("guest, in process: area gce_settings", lambda r: r["guest"]["areas"].get("gce_settings"), ""),
    ("guest, in process: after the checks", lambda r: r["guest"]["in_process"]["after_checks"],
     "sorting, summary, exit_json (no_log scrub, JSON)"),
    ("guest, in process: total", lambda r: r["guest"]["in_process"]["total"], ""),
]


def fmt(value):
    return "-" if value is None else "%.2f" % value


def commands_run(result):
    """``run_command`` calls of the gce_settings area, from cProfile's top functions."""
    calls = [row["calls"] for row in result["guest"]["top"].get("gce_settings", [])
             if row["function"].endswith("(run_command)")]
    return calls[0] if calls else None


def table(result, before=None):
    heads = ["before, s", "after, s"] if before else ["seconds"]
    lines = ["| what (medians of %d runs) | %s | what it is |" % (result["repeat"], " | ".join(heads)),
             "|---|%s---|" % ("---|" * len(heads))]
    for label, get, what in ROWS:
        cells = [fmt(get(before))] if before else []
        lines.append("| %s | %s | %s |" % (label, " | ".join(cells + [fmt(get(result))]), what))
    guest = result["guest"]
    lines += ["", "Sizes: the AnsiballZ payload %d bytes (%d Python sources, %d bytes uncompressed); "
              "the module's answer %d bytes. Peak controller RSS: ping %.0f MiB, verify.yml %.0f MiB, "
              "report play %.0f MiB, one-task playbook %.0f MiB." % (
                  guest["payload_bytes"], guest["payload_sources"], guest["payload_source_bytes"],
                  guest["answer_bytes"], result["controller"]["ping"]["peak_rss_mib"],
                  result["controller"]["verify"]["peak_rss_mib"], result["controller"]["report"]["peak_rss_mib"],
                  result["controller"]["playbook-floor"]["peak_rss_mib"])]
    commands = [commands_run(run) for run in (before, result) if run]
    if all(count is not None for count in commands):
        lines += ["", "Commands the `gce_settings` area runs (`run_command` calls in its profile): %s." % (
            " before, ".join(str(count) for count in commands) + (" after" if before else ""))]
    for area in ("sysctl", "kernel_config", "hardware", "gce_settings"):
        rows = guest["top"].get(area, [])
        if not rows:
            continue
        lines += ["", "cProfile, area `%s` (median cumulative seconds of %d profiled runs; cProfile "
                  "slows Python code down, so these add up to more than the plain timing):" % (area, result["repeat"]),
                  "", "| function | calls | cumulative s | own s |", "|---|---|---|---|"]
        lines += ["| `%s` | %d | %.2f | %.2f |" % (row["function"], row["calls"], row["cumulative"], row["own"])
                  for row in rows]
    return lines


def loads(result):
    return "controller load average (1/5/15 min) %s at the start, %s at the end; guest %s before, %s after" % (
        "/".join("%.2f" % v for v in result["host_load_start"]),
        "/".join("%.2f" % v for v in result["host_load_end"]),
        "/".join("%.2f" % v for v in result["guest"]["load_before"]),
        "/".join("%.2f" % v for v in result["guest"]["load_after"]))


def write_docs(lines, result, before, argv):
    path = os.path.join(ROOT, "docs", "benchmarks.md")
    with open(path) as handle:
        text = handle.read()
    begin, end = "<!-- profile:begin -->", "<!-- profile:end -->"
    header = ["Measured %s with `%s` (guest: Python %s, %d vCPU, TCG); %s." % (
        result["date"], result.get("command", "python tests/bench/profile_verify.py " + " ".join(argv)),
        result["guest"]["python"],
        result["guest"]["cpus"], loads(result))]
    if before:
        header.append("The \"before\" column: `%s` on %s, same machine, before the change below; %s." % (
            before.get("command", "?"), before["date"], loads(before)))
    block = "%s\n%s\n\n%s\n%s" % (begin, "\n\n".join(header), "\n".join(lines), end)
    if begin in text:
        text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n## Where verify spends its time\n\n" + block + "\n"
    with open(path, "w") as handle:
        handle.write(text)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--before", help="results JSON of an earlier run, shown as the before column")
    parser.add_argument("--results", help="show (and --write-docs) this saved run instead of measuring")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args(argv)
    saved = {}
    for option in ("before", "results"):
        path = getattr(args, option)
        try:
            if path:
                with open(path) as handle:
                    saved[option] = json.load(handle)
        except (OSError, ValueError) as exc:
            parser.error("--%s %s: %s" % (option, path, exc))
    before = saved.get("before")
    if "results" in saved:
        result = saved["results"]
    else:
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))  # the finally stops the guest
        result = measure(args.repeat)
        result["command"] = " ".join(["python", "tests/bench/profile_verify.py"] + argv)
        with open(os.path.join(WORK, "results.json"), "w") as handle:
            json.dump(result, handle, indent=1)
    lines = table(result, before)
    print("\n".join(lines))
    print(loads(result))
    if args.write_docs:
        write_docs(lines, result, before, argv)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
