"""The chrony reader against the real chronyd: generated chrony.conf trees
(``include``, ``confdir``, comments of every kind, valid and invalid server
options) are read by the lab images' own ``chronyd -p`` (which prints the
configuration it parsed, every included file in place, and exits) and by
``timesync.read_chrony``; the servers, pools and peers are the same, and a
configuration chronyd refuses to start with is one the reader says so of.

chronyd is the one the lab's images install: the chrony package in the lab's
apt cache (``<lab cache>/apt-archives``), unpacked into a temporary
directory, never installed; it runs under chroot in a private mount
namespace whose /etc is the generated tree (``realtools``), and ``-p`` makes it
exit before it opens a socket or touches the clock.  Skipped without root,
unshare or that package."""

import glob
import os
import shutil
import tempfile

import pytest
from hypothesis import given, strategies as st

from ansible_collections.guestready.gce.plugins.module_utils import timesync
from ansible_collections.guestready.gce.plugins.module_utils.configfiles import ConfigError
from ansible_collections.guestready.gce.plugins.module_utils.target import Target
from realtools import cached_deb, chroot_root, run_in_namespace, unavailable, unpack

PACKAGE = cached_deb("apt-archives", "chrony")
WHY_NOT = unavailable("dpkg-deb") or (None if PACKAGE else "needs chrony in the lab's apt cache")
pytestmark = pytest.mark.skipif(WHY_NOT is not None, reason=str(WHY_NOT))

LINE = st.one_of(
    st.builds(lambda kind, host, options: " ".join([kind, host] + options),
              st.sampled_from(["server", "pool", "peer", "Server", "POOL"]),
              st.sampled_from(["metadata.google.internal", "169.254.169.254", "2.debian.pool.ntp.org"]),
              st.lists(st.sampled_from(["iburst", "prefer", "noselect", "minpoll 4", "maxpoll", "xleave", "bogus",
                                        "nts", "key 1", "maxsources 2", "minpoll -2", "offset 1e-3", "maxdelay 0x1p3",
                                        "key -1", "extfield F323", "version 4x", "maxdelay .5", "offset inf",
                                        "port 123.", "minpoll +3", "extfield 0xz"]), max_size=3)),
    st.sampled_from(["include /etc/chrony/conf.d/*.conf", "include /etc/chrony/conf.d/a.conf",
                     "include /etc/chrony/missing/*.conf", "confdir /etc/chrony/conf.d",
                     "confdir /etc/chrony/extra.d /etc/chrony/conf.d", "sourcedir /etc/chrony/sources.d",
                     "! server 10.0.0.1", "# server 10.0.0.2", "; pool x", "% server y", "", "  ",
                     "makestep 1 3", "driftfile /var/lib/chrony/chrony.drift", "rtcsync", "\tserver  10.1.1.1\tiburst",
                     "include", "include a b", "leapsectz right/UTC"]))
FILE = st.lists(LINE, max_size=6).map(lambda lines: "".join(line + "\n" for line in lines))
FILES = st.dictionaries(st.sampled_from(["conf.d/a.conf", "conf.d/b.conf", "conf.d/c.txt", "extra.d/b.conf",
                                         "extra.d/d.conf"]), FILE, max_size=4)

RUN = r"""
S=$3
mount --bind "$T/etc" "$R/etc"
mount --bind "$S" "$R/opt"
if chroot "$R" /opt/usr/sbin/chronyd -p -f /etc/chrony/chrony.conf > "$T/out" 2>&1; then
    sed 's/^/ok /' "$T/out"
else
    sed 's/^/error /' "$T/out"
fi
"""


@pytest.fixture(scope="module")
def chronyd(tmp_path_factory):
    return unpack(str(tmp_path_factory.mktemp("chrony")), PACKAGE)


def build(base, main, files):
    model = os.path.join(base, "tree")
    os.makedirs(os.path.join(model, "etc/chrony/conf.d"))
    for name, text in dict(files, **{"chrony.conf": main}).items():
        path = os.path.join(model, "etc/chrony", name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write(text)
    return model, chroot_root(base, ("etc", "opt"))


@given(main=FILE, files=FILES)
def test_the_sources_are_what_chronyd_reads(chronyd, main, files):
    base = tempfile.mkdtemp()
    try:
        model, root = build(base, main, files)
        rows = run_in_namespace(RUN, root, model, chronyd).splitlines()
        try:
            config = timesync.read_chrony(Target(model))
        except ConfigError as exc:
            pytest.fail("%s (chronyd: %s)" % (exc, rows))
        # chronyd exits on a server line it cannot parse: the reader marks that line so
        fatal = config.fatal or next((s.unused for s in config.sources if (s.unused or "").startswith(
            "chronyd does not start")), None)
        if rows and rows[0].startswith("error "):
            assert fatal is not None, (rows, main, files)
            return
        assert fatal is None, (fatal, main, files)
        real = [tuple(row.split()[1:3]) for row in rows if row.split()[1:2] and
                row.split()[1].lower() in timesync.SOURCE_DIRECTIVES]
        sources = set(path for directories in config.sourcedirs for path in glob.glob(model + directories + "/*"))
        modelled = [(s.kind, s.host) for s in config.sources if s.kind in timesync.SOURCE_DIRECTIVES
                    and model + s.path not in sources]
        assert [(kind.lower(), host) for kind, host in real] == modelled, (rows, main, files)
    finally:
        shutil.rmtree(base)
