"""Which timesyncd.conf files the reader takes, and in which order, against
this machine's systemd: ``systemd-analyze --root=TREE cat-config
systemd/timesyncd.conf`` prints the main file and the drop-ins the daemon
reads (conf-files.c conf_files_list(), the code both run), in order, on
generated trees: names hidden by the same name in a directory before,
masked by a link to /dev/null, hidden and backup names, directories named
like drop-ins.  Each file holds one NTP= line naming
it; an empty or masked one, which systemd prints empty, configures nothing
and counts as absent on both sides.  Only /etc's main file is generated:
where another one is read depends on the version (256+).  Skipped without
systemd-analyze."""

import os
import re
import shutil
import subprocess
import tempfile

import pytest
from hypothesis import given, strategies as st

from ansible_collections.guestready.gce.plugins.module_utils import timesync
from ansible_collections.guestready.gce.plugins.module_utils.target import Target

pytestmark = pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="needs systemd-analyze")

DIRS = ("etc/systemd/timesyncd.conf.d", "run/systemd/timesyncd.conf.d", "usr/local/lib/systemd/timesyncd.conf.d",
        "usr/lib/systemd/timesyncd.conf.d")
NAMES = st.sampled_from(["10-a.conf", "20-b.conf", "20-b.conf", ".hidden.conf", "x.conf~", "c.conf.bak", "Z.conf",
                         "d.CONF", "e.conf.dpkg-dist", "-.conf", "a b.conf"])
# no dangling link: the daemon skips one (ENOENT), cat-config stops at it
KINDS = st.sampled_from(["file", "file", "file", "empty", "null", "relative-null", "link", "directory"])
TREE = st.tuples(st.booleans(), st.dictionaries(st.tuples(st.sampled_from(DIRS), NAMES), KINDS, max_size=8))


def build(base, main, entries):
    for directory in DIRS:
        os.makedirs(os.path.join(base, directory))
    os.makedirs(os.path.join(base, "srv"))
    os.makedirs(os.path.join(base, "dev"))
    open(os.path.join(base, "dev/null"), "w").close()   # what a relative mask leads to, inside the root
    with open(os.path.join(base, "srv/elsewhere.conf"), "w") as handle:
        handle.write("[Time]\nNTP=linked\n")
    if main:
        with open(os.path.join(base, "etc/systemd/timesyncd.conf"), "w") as handle:
            handle.write("[Time]\nNTP=main\n")
    for (directory, name), kind in entries.items():
        path = os.path.join(base, directory, name)
        if kind in ("file", "empty"):
            with open(path, "w") as handle:
                handle.write("[Time]\nNTP=%s/%s\n" % (directory.split("/")[0], name.replace(" ", "_"))
                             if kind == "file" else "")
        elif kind == "directory":
            os.makedirs(path)
        else:
            # relative links: cat-config --root opens a drop-in on the host, where an absolute one would lead
            up = "../" * directory.count("/") + "../"
            os.symlink({"null": "/dev/null", "relative-null": up + "dev/null", "link": up + "srv/elsewhere.conf"}[kind], path)


def configured(base, paths):
    """The paths of ``paths`` (inside the root) whose file says something."""
    target = Target(base)
    found = []
    for path in paths:
        try:
            text = target.read_text(path)
        except Exception:   # pylint: disable=broad-except
            continue
        if text.strip():
            found.append(path)
    return found


def real_files(base):
    # its errors after what it printed (the order of the two streams kept)
    out = subprocess.run(["systemd-analyze", "--root=%s" % base, "--no-pager", "cat-config", "systemd/timesyncd.conf"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
    out = out.stdout + out.stderr
    files, current = [], None
    for line in out.split("\n"):
        header = re.match(r"^# (/.*)$", line)
        if line.startswith("Failed to "):
            # a directory of a drop-in's name: cat-config stops there, as the daemon's parsing does
            files = [entry for entry in files if entry is not current]
            break
        if header and header.group(1).startswith(base + "/"):
            current = [header.group(1)[len(base):], False]
            files.append(current)
        elif current is not None and line.strip():
            current[1] = True
    return [path for path, says in files if says], out


@given(tree=TREE)
def test_timesyncd_reads_the_files_systemd_lists(tree):
    main, entries = tree
    base = tempfile.mkdtemp()
    try:
        build(base, main, entries)
        real, out = real_files(base)
        ours = configured(base, timesync.read_timesyncd(Target(base)).files)
    finally:
        shutil.rmtree(base)
    assert ours == real, (entries, out)
