"""Which udev rules files the reader takes, and in which order, against this
machine's systemd: ``systemd-analyze --root=TREE cat-config udev/rules.d``
lists what udevd reads (conf_files_list_strv() with the same directories and
flags as udev_rules_load()), in order, on generated trees: names hidden by
the same name in a directory before, masked by a link to /dev/null, hidden
names, directories named like rules files, names sorted by their bytes
(strcmp()).  A directory is where cat-config stops ("Failed to read"); udevd
passes over it, and the reader reads nothing in it.  An empty or masked file,
which cat-config prints empty, holds no rules and counts as absent on both
sides.  Skipped without systemd-analyze."""

import os
import re
import shutil
import subprocess
import tempfile

import pytest
from hypothesis import given, strategies as st

from ansible_collections.guestready.gce.plugins.module_utils import udev
from ansible_collections.guestready.gce.plugins.module_utils.configfiles import listed_text
from ansible_collections.guestready.gce.plugins.module_utils.target import Target

pytestmark = pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="needs systemd-analyze")

# the directories of udev(7) this machine's udevd reads (Debian 12 builds systemd with split-usr: /lib too)
DIRS = tuple(path.lstrip("/") for path in udev.RULE_DIRS)
# names that sort differently as str and as bytes: a byte that is not UTF-8 (a surrogate to Python)
# and characters beyond U+E000
NAMES = st.sampled_from(["10-a.rules", "20-b.rules", "20-b.rules", ".hidden.rules", "x.rules~", "Z.rules",
                         "d.RULES", "-.rules", "a b.rules", "\udcf5.rules", "\U0001f600.rules", "\ue000.rules",
                         "\udcef.rules", "\xe9.rules", "70-persistent-net.rules"])
# no dangling link: udevd skips one (ENOENT), cat-config stops at it
KINDS = st.sampled_from(["file", "file", "file", "empty", "null", "relative-null", "link", "directory"])
TREE = st.dictionaries(st.tuples(st.sampled_from(DIRS), NAMES), KINDS, max_size=10)


def build(base, entries):
    for directory in DIRS + ("srv", "dev"):
        os.makedirs(os.path.join(base, directory))
    open(os.path.join(base, "dev/null"), "w").close()   # what a relative mask leads to, inside the root
    with open(os.path.join(base, "srv/elsewhere.rules"), "w") as handle:
        handle.write('ENV{GUESTREADY}="linked"\n')
    for (directory, name), kind in entries.items():
        path = os.path.join(base, directory, name)
        if kind in ("file", "empty"):
            with open(path, "w", encoding="utf-8", errors="surrogateescape") as handle:
                handle.write('# %s\nENV{GUESTREADY}="%s"\n' % (directory, name) if kind == "file" else "")
        elif kind == "directory":
            os.makedirs(path)
        else:
            # relative links: cat-config --root opens a file on the host, where an absolute one would lead
            up = "../" * directory.count("/") + "../"
            os.symlink({"null": "/dev/null", "relative-null": up + "dev/null", "link": up + "srv/elsewhere.rules"}[kind],
                       path)


def ours(base):
    """``[(path, kind)]`` of the files the reader parses that hold something, and the directories."""
    target = Target(base)
    found = []
    for path, dummy in udev.rule_files(target):
        if target.isdir(path):
            assert listed_text(target, path) == ""
            found.append((path, "directory"))
        elif (listed_text(target, path) or "").strip():
            found.append((path, "rules"))
    return found


def real(base):
    """The same from cat-config, up to the directory it stops at, and whether it stopped."""
    out = subprocess.run(["systemd-analyze", "--root=%s" % base, "--no-pager", "cat-config", "udev/rules.d"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    found, current = [], None
    for line in out.stdout.split(b"\n"):
        header = re.match(rb"^# (/.*)$", line)
        if header and header.group(1).startswith(os.fsencode(base) + b"/"):
            current = [os.fsdecode(header.group(1)[len(os.fsencode(base)):]), False]
            found.append(current)
        elif current is not None and line.strip():
            current[1] = True
    listed = [(path, "rules") for path, says in found if says]
    failed = re.search(rb'Failed to read "(/[^"]*)"', out.stderr)
    if failed:
        # the directory it failed at was printed as a header first
        path = os.fsdecode(failed.group(1)[len(os.fsencode(base)):])
        listed = [entry for entry in listed if entry[0] != path] + [(path, "directory")]
    return listed, bool(failed), out


@given(tree=TREE)
def test_udev_reads_the_rules_files_systemd_lists(tree):
    base = tempfile.mkdtemp()
    try:
        build(base, tree)
        listed, stopped, out = real(base)
        found = ours(base)
    finally:
        shutil.rmtree(base)
    assert (found[:len(listed)] if stopped else found) == listed, (tree, out)
