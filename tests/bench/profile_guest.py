# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The guest half of tests/bench/profile_verify.py: runs on a lab guest with
its own Python (standard library only, 3.8+) and prints one JSON document.

    python3 profile_guest.py PAYLOAD [--repeat N]
        PAYLOAD: the AnsiballZ file verify.yml sent (kept with
        ANSIBLE_KEEP_REMOTE_FILES=1).  Explodes it next to itself and times,
        N times each, interleaved: the interpreter start, the module as Ansible
        runs it (zip import: every source compiled), the exploded module with
        cached bytecode, its imports from source and from bytecode; then runs
        itself in --areas mode N times plain and N times under cProfile.
    python3 profile_guest.py --areas DEBUG_DIR [--cprofile]
        One module execution in this process, the areas' checks wrapped:
        seconds per area (and cProfile's top functions per area), the imports,
        and what follows the checks (sorting, the JSON answer).
"""

import argparse
import cProfile
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

PYTHON = sys.executable
MODULE = "ansible_collections.guestready.gce.plugins.modules.compliance"
TOP = 10


def loadavg():
    with open("/proc/loadavg") as handle:
        return [float(value) for value in handle.read().split()[:3]]


def timed(argv, env=None, cwd=None):
    started = time.monotonic()
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd, check=False)
    return time.monotonic() - started, proc


def top_functions(profile, skip):
    """cProfile's ``TOP`` functions by cumulative time, without the wrapper."""
    profile.create_stats()
    rows = []
    for (path, line, name), (dummy, calls, own, cumulative, dummy2) in profile.stats.items():
        where = "%s:%d(%s)" % (os.path.basename(path), line, name) if line else name
        if name in skip or "cProfile" in where or "disable" in name:
            continue
        rows.append({"function": where, "calls": calls, "own": own, "cumulative": cumulative})
    rows.sort(key=lambda row: -row["cumulative"])
    return rows[:TOP]


def areas_mode(debug_dir, use_profile):
    """One module execution, in process, with every area's check timed."""
    started = time.monotonic()
    sys.path.insert(0, debug_dir)
    from ansible.module_utils.basic import AnsibleModule
    from ansible_collections.guestready.gce.plugins.module_utils import areas
    from ansible_collections.guestready.gce.plugins.module_utils.module import POLICY_ARGS
    imported = time.monotonic()
    seconds, profiles = {}, {}

    def wrap(area, check):
        def timed_check(*args):
            profile = cProfile.Profile() if use_profile else None
            begin = time.monotonic()
            if profile:
                profile.enable()
            try:
                return check(*args)
            finally:
                if profile:
                    profile.disable()
                    profiles[area] = top_functions(profile, ("timed_check",))
                seconds[area] = time.monotonic() - begin
        return timed_check

    for area in areas.AREAS:
        area.check = wrap(area.name, area.check)
    # the module's own arguments (plugins/modules/compliance.py main), from the args file
    sys.argv = [sys.argv[0], os.path.join(debug_dir, "args")]
    module = AnsibleModule(argument_spec=dict(areas.module_options(applying=True), **POLICY_ARGS),
                           supports_check_mode=True)
    ready = time.monotonic()
    output, real_stdout = io.StringIO(), sys.stdout
    sys.stdout = output
    try:
        areas.run(module, apply=module.params["apply"], apply_options=True)
    except SystemExit:
        pass
    finally:
        sys.stdout = real_stdout
    finished = time.monotonic()
    checks = sum(seconds.values())
    return {"import": imported - started, "arguments": ready - imported, "areas": seconds,
            "after_checks": finished - ready - checks, "total": finished - started,
            "answer_bytes": len(output.getvalue().encode()), "top": profiles}


def median(values):
    return statistics.median(values) if values else None


def payload_mode(payload, repeat):
    directory = os.path.dirname(os.path.abspath(payload))
    debug_dir = os.path.join(directory, "debug_dir")
    shutil.rmtree(debug_dir, ignore_errors=True)
    subprocess.run([PYTHON, payload, "explode"], check=True, stdout=subprocess.DEVNULL)
    sources = [os.path.join(top, name) for top, dummy, names in os.walk(debug_dir)
               for name in names if name.endswith(".py")]
    env = dict(os.environ, PYTHONPATH=debug_dir)
    importing = [PYTHON, "-c", "import %s" % MODULE]
    subprocess.run(importing, env=env, check=True)  # writes the bytecode the warm runs use
    load_before = loadavg()
    runs = {"interpreter": [], "module_zip": [], "module_exploded": [],
            "import_source": [], "import_bytecode": []}
    answer = None
    for dummy in range(repeat):
        runs["interpreter"].append(timed([PYTHON, "-c", "pass"])[0])
        seconds, proc = timed([PYTHON, payload])
        runs["module_zip"].append(seconds)
        answer = proc.stdout
        runs["module_exploded"].append(timed([PYTHON, payload, "execute"])[0])
        # a copy without bytecode, imported with -B: every source compiled, as from the zip
        fresh = os.path.join(directory, "fresh")
        shutil.rmtree(fresh, ignore_errors=True)
        shutil.copytree(debug_dir, fresh, ignore=shutil.ignore_patterns("__pycache__"))
        runs["import_source"].append(timed([PYTHON, "-B", "-c", "import %s" % MODULE],
                                           env=dict(env, PYTHONPATH=fresh))[0])
        runs["import_bytecode"].append(timed(importing, env=env)[0])
    in_process = []
    for use_profile in [False] * repeat + [True] * repeat:
        argv = [PYTHON, os.path.abspath(__file__), "--areas", debug_dir] + (["--cprofile"] if use_profile else [])
        proc = subprocess.run(argv, stdout=subprocess.PIPE, check=True)
        in_process.append((use_profile, json.loads(proc.stdout.decode())))
    plain = [run for flag, run in in_process if not flag]
    profiled = [run for flag, run in in_process if flag]
    areas = sorted(set(name for run in plain for name in run["areas"]))
    top = {}
    for area in areas:
        samples = {}
        for run in profiled:
            for row in run["top"].get(area, []):
                samples.setdefault(row["function"], []).append(row)
        rows = [{"function": name, "calls": rows_[0]["calls"],
                 "cumulative": median([r["cumulative"] for r in rows_]),
                 "own": median([r["own"] for r in rows_]), "runs": len(rows_)}
                for name, rows_ in samples.items()]
        rows.sort(key=lambda row: -row["cumulative"])
        top[area] = rows[:TOP]
    result = dict((name, median(values)) for name, values in runs.items())
    result.update({
        "samples": runs,
        "payload_bytes": os.path.getsize(payload),
        "payload_sources": len(sources),
        "payload_source_bytes": sum(os.path.getsize(path) for path in sources),
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "areas": dict((area, median([run["areas"][area] for run in plain])) for area in areas),
        "areas_samples": dict((area, [run["areas"][area] for run in plain]) for area in areas),
        "in_process": dict((key, median([run[key] for run in plain]))
                           for key in ("import", "arguments", "after_checks", "total")),
        "answer_bytes": plain[0]["answer_bytes"],
        "top": top,
        "load_before": load_before,
        "load_after": loadavg(),
        "answer": answer.decode("utf-8", "replace") if answer else None,
    })
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("payload", nargs="?")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--areas", metavar="DEBUG_DIR")
    parser.add_argument("--cprofile", action="store_true")
    args = parser.parse_args()
    if args.areas:
        result = areas_mode(args.areas, args.cprofile)
    elif args.payload:
        result = payload_mode(args.payload, args.repeat)
    else:
        parser.error("PAYLOAD or --areas DEBUG_DIR")
    sys.stdout.write(json.dumps(result))


if __name__ == "__main__":
    main()
