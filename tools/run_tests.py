"""Run the test parts named on the command line and sum them up.

Each part is a `make` target (``test-<part>``).  Parts that run pytest leave a
JUnit file in build/results/<part>.xml and count per test case; ansible-test
sanity counts per sanity test; the others count as one test each.  A part named
``<name>-<line>`` (``unit-2.16``) runs on that ansible-core line of the version
matrix, the others on this virtualenv's.  The table shows which; the last line
printed is ``N passed, N failed``; the exit status is 1 when anything failed.

Parts joined with ``+`` (``smoke-2.16+smoke-2.17``) form a group that runs
TEST_JOBS (default 2) at a time: for parts that keep one core busy (a pytest
process, one TCG guest), so two cores finish them in about half the time.  A
grouped part's output goes to build/results/<part>.log and is printed whole
when it ends; its pytest temporary directories are its own.
"""

import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "build", "results")
GROUP_TMP = "/tmp/guestready-tests"


def junit_counts(path):
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    passed = failed = 0
    for suite in suites:
        total = int(suite.get("tests", 0))
        bad = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped = int(suite.get("skipped", 0))
        failed += bad
        passed += total - bad - skipped
    return passed, failed


def sanity_counts(output, returncode):
    ran = len(re.findall(r'^Running sanity test "', output, re.M))
    match = re.search(r"The (\d+) sanity test\(s\) listed below \(out of (\d+)\) failed", output)
    if match:
        return int(match.group(2)) - int(match.group(1)), int(match.group(1))
    if returncode:
        return 0, max(ran, 1)
    return ran, 0


def run_part(part, grouped=False):
    os.makedirs(RESULTS, exist_ok=True)
    junit = os.path.join(RESULTS, part + ".xml")
    if os.path.exists(junit):
        os.unlink(junit)
    started = time.time()
    print("==> test-%s%s" % (part, " (in a group; its output follows when it ends)" if grouped else ""), flush=True)
    env = dict(os.environ)
    if grouped:
        # concurrent pytest sessions must not prune each other's numbered temporary directories
        basetemp = os.path.join(GROUP_TMP, part)
        os.makedirs(GROUP_TMP, exist_ok=True)
        env["PYTEST_ADDOPTS"] = (env.get("PYTEST_ADDOPTS", "") + " --basetemp=" + basetemp).strip()
    proc = subprocess.Popen(["make", "--no-print-directory", "test-" + part], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True)
    lines = []
    for line in proc.stdout:
        if not grouped:
            sys.stdout.write(line)
            sys.stdout.flush()
        lines.append(line)
    proc.wait()
    output = "".join(lines)
    if grouped:
        with open(os.path.join(RESULTS, part + ".log"), "w") as handle:
            handle.write(output)
        sys.stdout.write("==> test-%s (output, %.0f s)\n%s" % (part, time.time() - started, output))
        sys.stdout.flush()
    if part.split("-")[0] == "sanity":
        passed, failed = sanity_counts(output, proc.returncode)
    elif os.path.exists(junit):
        passed, failed = junit_counts(junit)
        if proc.returncode and not failed:
            failed = 1  # the command failed outside any test case
    else:
        passed, failed = (0, 1) if proc.returncode else (1, 0)
    return passed, failed, time.time() - started


def run_group(parts, jobs):
    """``(part, passed, failed, seconds)`` of each part, run ``jobs`` at a time."""
    if len(parts) == 1:
        return [(parts[0],) + run_part(parts[0])]
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        outcomes = list(pool.map(lambda part: run_part(part, grouped=True), parts))
    return [(part,) + outcome for part, outcome in zip(parts, outcomes)]


def core_line(part):
    """The ansible-core line a part runs on: its ``-<line>`` suffix, else this virtualenv's."""
    match = re.search(r"-(\d+\.\d+)$", part)
    if match:
        return match.group(1)
    try:
        from ansible.release import __version__
    except ImportError:
        return "?"
    return ".".join(__version__.split(".")[:2])


def main(parts):
    summary = []
    jobs = max(1, int(os.environ.get("TEST_JOBS", "2")))
    for group in parts:
        summary.extend(run_group([part for part in group.split("+") if part], jobs))
    print()
    print("%-12s %12s %8s %8s %9s" % ("part", "ansible-core", "passed", "failed", "seconds"))
    for part, passed, failed, seconds in summary:
        print("%-12s %12s %8d %8d %9.0f" % (part, core_line(part), passed, failed, seconds))
    total_passed = sum(row[1] for row in summary)
    total_failed = sum(row[2] for row in summary)
    print("%d passed, %d failed" % (total_passed, total_failed))
    return 1 if total_failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
