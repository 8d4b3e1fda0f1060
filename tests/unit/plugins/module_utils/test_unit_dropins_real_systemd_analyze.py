"""Which drop-ins of a unit the reader takes, and in which order, against
this machine's systemd: ``systemd-analyze --root=TREE --offline=true
security UNIT`` loads the unit as the service manager does (its file, then
the drop-ins of its names, their templates and dash prefixes, and the
type's ``service.d``: dropin.c unit_file_find_dropin_paths()) and says
whether ``PrivateTmp=`` ends up set.  The generated drop-ins set it on and
off under the same and different file names, some masked by a link to
/dev/null or empty, in every unit directory; ``units.section_settings``
must end at the same value.  One alias at most: systemd reads the aliases'
directories in the order of a hash set.  Skipped without systemd-analyze."""

import json
import os
import shutil
import subprocess
import tempfile

import pytest
from hypothesis import given, strategies as st

from ansible_collections.guestready.gce.plugins.module_utils import units
from ansible_collections.guestready.gce.plugins.module_utils.target import Target

SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
pytestmark = pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="needs systemd-analyze")

UNIT_DIRS = ("etc/systemd/system", "run/systemd/system", "usr/local/lib/systemd/system", "lib/systemd/system",
             "usr/lib/systemd/system")
# (the unit, its file, an alias link to it, the drop-in directories that may apply, and some that do not)
UNITS = {
    "svc-a-b.service": ("svc-a-b.service", "al.service", [
        "svc-a-b.service.d", "svc-a-.service.d", "svc-.service.d", "service.d", "al.service.d",
        "-.service.d", "svc--.service.d", "svc-a-b-.service.d", "other.service.d"]),
    "tpl-x@i.service": ("tpl-x@.service", "al@.service", [
        "tpl-x@i.service.d", "tpl-x@.service.d", "tpl-.service.d", "tpl-@i.service.d", "tpl-@.service.d",
        "service.d", "al@i.service.d", "al@.service.d", "tpl-x-@.service.d", "al.service.d"]),
}
DROPIN = st.tuples(st.sampled_from(UNIT_DIRS), st.integers(0, 9), st.sampled_from(["10-a.conf", "20-b.conf", "x.txt"]),
                   st.sampled_from(["yes", "no", "yes", "no", "null", "empty"]))
TREE = st.tuples(st.sampled_from(sorted(UNITS)), st.sampled_from(UNIT_DIRS), st.booleans(),
                 st.lists(DROPIN, min_size=1, max_size=8))


def build(base, unit, where, aliased, dropins):
    file_name, alias, directories = UNITS[unit]
    for directory in UNIT_DIRS + ("dev",):
        os.makedirs(os.path.join(base, directory), exist_ok=True)
    with open(os.path.join(base, where, file_name), "w") as handle:
        handle.write("[Service]\nExecStart=/bin/true\n")
    if aliased:
        os.symlink("/%s/%s" % (where, file_name), os.path.join(base, "etc/systemd/system", alias))
    for directory, which, name, value in dropins:
        path = os.path.join(base, directory, directories[which % len(directories)], name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if os.path.lexists(path):
            continue
        if value == "null":
            os.symlink("/dev/null", path)
            continue
        with open(path, "w") as handle:
            handle.write("" if value == "empty" else "[Service]\nPrivateTmp=%s\n" % value)


def private_tmp(base, unit):
    result = subprocess.run([SYSTEMD_ANALYZE, "--root=" + base, "--offline=true", "security", "--json=short", unit],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, check=False)
    return [item["set"] for item in json.loads(result.stdout.decode()) if item["name"] == "PrivateTmp="][0]


@given(tree=TREE)
def test_the_dropins_read_are_those_systemd_reads(tree):
    unit, where, aliased, dropins = tree
    base = tempfile.mkdtemp()
    try:
        build(base, unit, where, aliased, dropins)
        values = [value for key, value, dummy in units.section_settings(Target(base), unit, "Service")
                  if key == "PrivateTmp"]
        assert private_tmp(base, unit) == (values[-1:] == ["yes"]), units.section_settings(Target(base), unit, "Service")
    finally:
        shutil.rmtree(base)
