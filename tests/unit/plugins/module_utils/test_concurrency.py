"""Eight sysctl applies at once on one tree, with different policies,
repeated: every run succeeds (one writer at a time), no temporary file is
left, and the drop-in is exactly the file one of the policies writes alone."""

import multiprocessing
import os
import shutil

from ansible_collections.guestready.gce.plugins.module_utils.catalogue import requirements
from ansible_collections.guestready.gce.plugins.module_utils.policy import resolve
from ansible_collections.guestready.gce.plugins.module_utils.sysctl_baseline import (
    APPLY_ARGUMENT_SPEC, DEFAULT_FILE, INFO_ARGUMENT_SPEC, apply_sysctl)
from ansible_collections.guestready.gce.plugins.module_utils.target import TEMP_PREFIX

WAIVABLE = ["SYSCTL-IP_FORWARD", "SYSCTL-LOG_MARTIANS-ALL", "SYSCTL-LOG_MARTIANS-DEFAULT",
            "SYSCTL-SEND_REDIRECTS-ALL", "SYSCTL-SEND_REDIRECTS-DEFAULT", "SYSCTL-RP_FILTER-ALL",
            "SYSCTL-RP_FILTER-DEFAULT", "SYSCTL-TCP_SYNCOOKIES"]
RUNS, ROUNDS = 8, 4


class FakeModule(object):
    check_mode = False

    def __init__(self):
        self.warnings = []

    def warn(self, text):
        self.warnings.append(text)


def seed(root):
    os.makedirs(os.path.join(root, "etc", "sysctl.d"))
    with open(os.path.join(root, "etc", "sysctl.conf"), "w") as handle:
        handle.write("kernel.kptr_restrict = 0\n")
    os.symlink("../sysctl.conf", os.path.join(root, "etc", "sysctl.d", "99-sysctl.conf"))


def apply(args):
    root, index = args
    params = dict((name, spec.get("default")) for name, spec in
                  list(INFO_ARGUMENT_SPEC.items()) + list(APPLY_ARGUMENT_SPEC.items()))
    params.update(root=root, lock_timeout=60)
    entries, waivers = resolve(requirements("sysctl"), None, {WAIVABLE[index]: "run %d" % index})
    try:
        out = apply_sysctl(params, entries, waivers, FakeModule())
    except Exception as exc:  # the test counts every failure, whatever it is
        return index, "%s: %s" % (type(exc).__name__, exc)
    return index, "; ".join(out["errors"]) or None


def read(path):
    with open(path) as handle:
        return handle.read()


def test_concurrent_applies_serialise(tmp_path):
    # what each policy writes when it runs alone on the seeded tree
    alone = {}
    for index in range(RUNS):
        root = str(tmp_path / ("alone-%d" % index))
        seed(root)
        assert apply((root, index)) == (index, None)
        alone[index] = read(os.path.join(root, DEFAULT_FILE.lstrip("/")))
    assert len(set(alone.values())) == RUNS

    context = multiprocessing.get_context("fork")
    failures, finals = [], []
    for round_number in range(ROUNDS):
        root = str(tmp_path / ("shared-%d" % round_number))
        seed(root)
        with context.Pool(RUNS) as pool:
            outcomes = pool.map(apply, [(root, index) for index in range(RUNS)])
        failures.extend("round %d run %d: %s" % (round_number, index, error)
                        for index, error in outcomes if error)
        final = read(os.path.join(root, DEFAULT_FILE.lstrip("/")))
        finals.append(final)
        assert final in alone.values(), "the drop-in must be exactly one policy's file"
        left = [name for name in os.listdir(os.path.join(root, "etc", "sysctl.d"))
                if name.startswith(TEMP_PREFIX)]
        assert left == []
        shutil.rmtree(root)
    assert failures == []
