"""Run the test parts named on the command line and sum them up.

Each part is a `make` target (``test-<part>``).  Parts that run pytest leave a
JUnit file in build/results/<part>.xml and count per test case; ansible-test
sanity counts per sanity test; the others count as one test each.  A part named
``<name>-<line>`` (``unit-2.16``) runs on that ansible-core line of the version
matrix, the others on this virtualenv's.  The table shows which; the last line
printed is ``N passed, N failed``; the exit status is 1 when anything failed.
"""

import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "build", "results")


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


def run_part(part):
    os.makedirs(RESULTS, exist_ok=True)
    junit = os.path.join(RESULTS, part + ".xml")
    if os.path.exists(junit):
        os.unlink(junit)
    started = time.time()
    print("==> test-%s" % part, flush=True)
    proc = subprocess.Popen(["make", "--no-print-directory", "test-" + part], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True)
    lines = []
    for line in proc.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        lines.append(line)
    proc.wait()
    output = "".join(lines)
    if part.split("-")[0] == "sanity":
        passed, failed = sanity_counts(output, proc.returncode)
    elif os.path.exists(junit):
        passed, failed = junit_counts(junit)
        if proc.returncode and not failed:
            failed = 1  # the command failed outside any test case
    else:
        passed, failed = (0, 1) if proc.returncode else (1, 0)
    return passed, failed, time.time() - started


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
    for part in parts:
        summary.append((part,) + run_part(part))
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
