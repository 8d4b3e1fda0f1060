"""Fuzzing the sysctl reader and planner with generated files: every outcome
is a result or a SysctlError, never a traceback, and one apply always reaches
the fixed point (the next plan changes nothing), whatever the files say."""

import os
import re
import shutil
import tempfile

from hypothesis import given, strategies as st

from ansible_collections.guestready.gce.plugins.module_utils import sysctl as loader
from ansible_collections.guestready.gce.plugins.module_utils.catalogue import requirements
from ansible_collections.guestready.gce.plugins.module_utils.policy import resolve
from ansible_collections.guestready.gce.plugins.module_utils.sysctl_baseline import Plan

ENTRIES, WAIVERS = resolve(requirements("sysctl"))
KEYS = [entry["key"] for entry in ENTRIES] + [
    "net.ipv4.conf.eth0.rp_filter", "net.ipv4.conf.*.rp_filter", "net/ipv4/conf/eth0.100/send_redirects",
    "net.ipv4.conf.all.forwarding", "kernel.unknown.key"]
VALUES = st.one_of(st.integers(-3, 5).map(str), st.sampled_from(["", "abc", "1 2", " 0x1", "2\t"]),
                   st.text(max_size=6))
LINE = st.one_of(
    st.builds(lambda prefix, key, sep, value: "%s%s%s%s" % (prefix, key, sep, value),
              st.sampled_from(["", "-", "  ", "# ", "; "]), st.sampled_from(KEYS),
              st.sampled_from(["=", " = ", "\t=\t", " "]), VALUES),
    # bare keys and globs: they exclude keys from globs, or remove an earlier assignment
    st.sampled_from(["-net.ipv4.conf.*.rp_filter", "-net.ipv4.conf.e*.send_redirects",
                     "-net.ipv4.conf.eth0.rp_filter", "-kernel.kptr_restrict"]),
    st.text(max_size=40))
FILE = st.lists(LINE, max_size=12).map("\n".join)
NAMES = st.sampled_from(["10-a.conf", "50-b.conf", "60-gce-network-security.conf", "99-sysctl.conf",
                         "zz-guestready-gce.conf", "zzz-late.conf", "README"])
DIRS = st.sampled_from(["etc/sysctl.d", "run/sysctl.d", "usr/lib/sysctl.d", "lib/sysctl.d"])
TREE = st.dictionaries(st.tuples(DIRS, NAMES), st.one_of(FILE, st.binary(max_size=60)), max_size=6)


@given(st.text())
def test_any_text_parses_to_assignments_and_warnings(text):
    assignments, warnings = loader.parse_text(text, "/f.conf")
    lines = text.splitlines()
    for assignment in assignments:
        assert assignment["key"] and 1 <= assignment["line"] <= len(lines)
        # fields as the kernel separates them (" \t\n"), one space between; other blanks kept (kernel_int)
        assert assignment["value"] is None or not re.search(r"\A | \Z|  |[\t\n]", assignment["value"])
    assert all(w.startswith("/f.conf:") for w in warnings)


def build(root, tree, sysctl_conf):
    for (directory, name), content in tree.items():
        path = os.path.join(root, directory, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb" if isinstance(content, bytes) else "w") as handle:
            handle.write(content)
    os.makedirs(os.path.join(root, "etc", "sysctl.d"), exist_ok=True)
    with open(os.path.join(root, "etc", "sysctl.conf"), "w") as handle:
        handle.write(sysctl_conf)
    os.makedirs(os.path.join(root, "usr", "lib", "systemd"), exist_ok=True)
    open(os.path.join(root, "usr", "lib", "systemd", "systemd-sysctl"), "w").close()


@given(TREE, FILE, st.sampled_from(["winning", "all", "none"]))
def test_any_tree_applies_to_a_fixed_point_or_fails_cleanly(tree, sysctl_conf, neutralize):
    root = tempfile.mkdtemp()
    try:
        build(root, tree, sysctl_conf)
        own = "/etc/sysctl.d/zz-guestready-gce.conf"
        try:
            plan = Plan(ENTRIES, WAIVERS, root, own, False, neutralize=neutralize)
            results, dummy, errors = plan.apply()
        except loader.SysctlError as exc:
            assert str(exc).startswith(root), "the error names the file"
            return
        assert errors == [] and len(results) == len(ENTRIES)
        again = Plan(ENTRIES, WAIVERS, root, own, False, neutralize=neutralize)
        assert not again.changed, (again.diff(), plan.diff())
        if neutralize != "none":
            # compliant at boot: nothing weaker wins under either loader
            assert all(r["status"] == "pass" for r in results), \
                [(r["id"], r["message"]) for r in results if r["status"] != "pass"]
    finally:
        shutil.rmtree(root)
