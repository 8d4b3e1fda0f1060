"""Run every molecule scenario (or those named), each to its end whatever the
others did, and write build/results/molecule.xml: one test case per scenario."""

import glob
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main(names):
    scenarios = names or sorted(os.path.basename(os.path.dirname(path))
                                for path in glob.glob(os.path.join(ROOT, "molecule", "*", "molecule.yml")))
    suite = ET.Element("testsuite", name="molecule")
    failed = 0
    for scenario in scenarios:
        print("--> molecule test -s %s" % scenario, flush=True)
        started = time.time()
        code = subprocess.call([os.path.join(os.path.dirname(sys.executable), "molecule"), "test", "-s", scenario],
                               cwd=ROOT)
        seconds = time.time() - started
        print("<-- %s: %s in %.0f s" % (scenario, "passed" if code == 0 else "FAILED", seconds), flush=True)
        case = ET.SubElement(suite, "testcase", classname="molecule", name=scenario, time="%.0f" % seconds)
        if code:
            failed += 1
            ET.SubElement(case, "failure", message="molecule test -s %s exited %d" % (scenario, code))
    suite.set("tests", str(len(scenarios)))
    suite.set("failures", str(failed))
    os.makedirs(os.path.join(ROOT, "build", "results"), exist_ok=True)
    ET.ElementTree(suite).write(os.path.join(ROOT, "build", "results", "molecule.xml"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
