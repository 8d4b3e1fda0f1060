"""Run every molecule scenario (or those named), each to its end whatever the
others did, and write build/results/molecule.xml: one test case per scenario.

Scenarios run MOLECULE_JOBS at a time (default 2): a TCG guest keeps one core busy, so
on a 2-core machine two scenarios take little longer than one.  Each scenario has its own
molecule ephemeral directory and lab state directory; its output goes to
build/results/molecule-<scenario>.log and is printed when it ends.  The longest scenarios
start first."""

import concurrent.futures
import glob
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "build", "results")
# measured minutes on this 2-core machine, two at a time (2026-11-30): longest first
EXPECTED = {"gce_settings": 8.3, "default": 6.9, "sysctl": 6.8, "hardware": 2.3, "kernel_config": 1.0}


def run_scenario(scenario):
    log = os.path.join(RESULTS, "molecule-%s.log" % scenario)
    started = time.time()
    with open(log, "w") as handle:
        code = subprocess.call([os.path.join(os.path.dirname(sys.executable), "molecule"), "test", "-s", scenario],
                               cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT)
    return scenario, code, time.time() - started, log


def main(names):
    scenarios = names or sorted(os.path.basename(os.path.dirname(path))
                                for path in glob.glob(os.path.join(ROOT, "molecule", "*", "molecule.yml")))
    scenarios.sort(key=lambda name: -EXPECTED.get(name, 5))
    jobs = max(1, int(os.environ.get("MOLECULE_JOBS", "2")))
    os.makedirs(RESULTS, exist_ok=True)
    outcomes = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        for scenario in scenarios:
            print("--> molecule test -s %s" % scenario, flush=True)
        for future in concurrent.futures.as_completed([pool.submit(run_scenario, s) for s in scenarios]):
            scenario, code, seconds, log = future.result()
            with open(log) as handle:
                sys.stdout.write(handle.read())
            print("<-- %s: %s in %.0f s (log: %s)" % (scenario, "passed" if code == 0 else "FAILED", seconds,
                                                      os.path.relpath(log, ROOT)), flush=True)
            outcomes[scenario] = (code, seconds)
    suite = ET.Element("testsuite", name="molecule")
    failed = 0
    for scenario in sorted(outcomes):
        code, seconds = outcomes[scenario]
        case = ET.SubElement(suite, "testcase", classname="molecule", name=scenario, time="%.0f" % seconds)
        if code:
            failed += 1
            ET.SubElement(case, "failure", message="molecule test -s %s exited %d" % (scenario, code))
    suite.set("tests", str(len(outcomes)))
    suite.set("failures", str(failed))
    ET.ElementTree(suite).write(os.path.join(RESULTS, "molecule.xml"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
