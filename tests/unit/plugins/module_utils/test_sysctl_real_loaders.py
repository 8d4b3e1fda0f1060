"""The sysctl reader against the real loaders: generated sysctl.d trees are
applied by this machine's own systemd-sysctl and ``sysctl --system`` to a
stand-in /proc/sys, and what each wrote to every key is what ``sysctl.load``
and ``sysctl.winners`` say the last line reaching the key is.

The loaders run under chroot in a private mount namespace (``unshare
--mount``): /usr read-only, the tree's configuration directories bound in,
a tmpfs as /proc.  Nothing is mounted or written outside that namespace,
which ends with the process.  Needs root, unshare and the two loaders
(Debian 12: systemd 252, procps 4.0.2); skipped elsewhere."""

import os
import shutil
import tempfile

import pytest
from hypothesis import given, strategies as st

from ansible_collections.guestready.gce.plugins.module_utils import sysctl as loader
from realtools import chroot_root, run_in_namespace, unavailable

SYSTEMD_SYSCTL = "/usr/lib/systemd/systemd-sysctl"
PROCPS_SYSCTL = "/usr/sbin/sysctl"
pytestmark = pytest.mark.skipif(unavailable(SYSTEMD_SYSCTL, PROCPS_SYSCTL) is not None,
                                reason=str(unavailable(SYSTEMD_SYSCTL, PROCPS_SYSCTL)))

INTERFACES = ("all", "default", "lo", "eth0", "eth0.100", "ens4")
# the keys the stand-in /proc/sys has (path form); forwarding is left out: the kernel, not the loader,
# writes ip_forward when net.ipv4.conf.all.forwarding is written
PROC_KEYS = ["kernel/kptr_restrict", "kernel/perf_event_paranoid", "net/ipv4/tcp_syncookies"] + [
    "net/ipv4/conf/%s/%s" % (name, leaf) for name in INTERFACES for leaf in ("rp_filter", "send_redirects")]
KEYS = ["kernel.kptr_restrict", "kernel/perf_event_paranoid", "net.ipv4.tcp_syncookies", "kernel.missing",
        "net.ipv4.conf.eth0.rp_filter", "net/ipv4/conf/eth0.100/send_redirects", "net.ipv4.conf.eth0.100.rp_filter",
        "net.ipv4.conf.*.rp_filter", "net.ipv4.conf.e*.send_redirects", "net/ipv4/conf/*/send_redirects",
        "net.ipv4.conf.[el]*.rp_filter", "net.ipv4.conf.all.rp_filter", "net.ipv4.conf.default.send_redirects",
        "net.ipv4.conf.[[:alpha:]]*.rp_filter", "net.ipv4.conf.[^e]*.rp_filter", "net.ipv4.conf.e\\th0.rp_filter",
        "net.ipv4.conf.[!a-d]*.send_redirects", "net.ipv4.conf.[[:digit:]]*.send_redirects", "net/ipv4/conf/\\*/rp_filter"]
VALUES = st.one_of(st.sampled_from(["0", "1", "2", "3", "1 2", "0\t", "", " 2 ", "a=b", "1 # 2", "x\x0by"]),
                   st.text(alphabet="01 \t=#-x\x0b\x0c\r", max_size=5))
LINE = st.one_of(
    st.builds(lambda prefix, key, sep, value: "%s%s%s%s" % (prefix, key, sep, value),
              st.sampled_from(["", "", "-", " ", "\t-", "- ", "--", "# ", "; ", "\x0b", "\x0c"]),
              st.sampled_from(KEYS), st.sampled_from(["=", " = ", "\t=", "= ", " =\x0b", "=="]), VALUES),
    # bare keys: they remove an earlier assignment, or keep a glob off a key
    st.builds(lambda prefix, key, end: prefix + key + end, st.sampled_from(["-", "- ", " -", ""]),
              st.sampled_from(KEYS), st.sampled_from(["", " ", "\t"])),
    st.sampled_from(["", "garbage line", "[section]", "=1", "-"]),
    # anything made of what the loaders treat specially
    st.text(alphabet="-#;=*. \t\x0bnetkrl/1", max_size=30))
FILE = st.builds(lambda lines, end, last: end.join(lines) + last, st.lists(LINE, max_size=8),
                 st.sampled_from(["\n", "\n", "\r\n", "\r"]), st.sampled_from(["\n", ""]))
DIRS = ("etc/sysctl.d", "run/sysctl.d", "usr/local/lib/sysctl.d", "usr/lib/sysctl.d")
NAMES = st.sampled_from(["10-a.conf", "50-b.conf", "99-sysctl.conf", "zz-late.conf", "a.conf.disabled"])
# a file's content, or a link: to /dev/null (masks the name), to another file in the tree
CONTENT = st.one_of(FILE, FILE, FILE, st.just(("link", "/dev/null")), st.just(("link", "../../etc/sysctl.conf")))
TREE = st.dictionaries(st.tuples(st.sampled_from(DIRS), NAMES), CONTENT, max_size=6)

RUN = r"""
LOADER=$3
mount -t tmpfs none "$R/usr/local"
mkdir -p "$R/usr/local/lib/sysctl.d"
mount --bind "$T/usr/local/lib/sysctl.d" "$R/usr/local/lib/sysctl.d"
mount --bind "$T/usr/lib/sysctl.d" "$R/usr/lib/sysctl.d"
mount --bind "$T/etc" "$R/etc"
mount --bind "$T/run" "$R/run"
mount -t tmpfs none "$R/proc"
cd "$R/proc"
while read -r key; do mkdir -p "sys/${key%/*}"; echo unset > "sys/$key"; done < "$T/keys"
if [ "$LOADER" = systemd ]; then
    chroot "$R" /usr/lib/systemd/systemd-sysctl >/dev/null 2>&1 || true
else
    chroot "$R" /usr/sbin/sysctl --system >/dev/null 2>&1 || true
fi
while read -r key; do printf '%s\t' "$key"; head -n 1 "sys/$key"; echo; done < "$T/keys"
"""


def build(base, tree):
    model = os.path.join(base, "tree")
    for directory in DIRS:
        os.makedirs(os.path.join(model, directory))
    # the same version as the loaders that run: the model reads it from the tree
    os.makedirs(os.path.join(model, "usr/lib/systemd"))
    open(os.path.join(model, "usr/lib/systemd/libsystemd-shared-252.so"), "w").close()
    os.makedirs(os.path.join(model, "usr/sbin"))
    shutil.copy(PROCPS_SYSCTL, os.path.join(model, "usr/sbin/sysctl"))
    with open(os.path.join(model, "etc/sysctl.conf"), "w") as handle:
        handle.write("kernel.perf_event_paranoid = 2\n-net.ipv4.conf.lo.send_redirects\n")
    for (directory, name), content in tree.items():
        path = os.path.join(model, directory, name)
        if isinstance(content, tuple):
            os.symlink(content[1], path)
        else:
            with open(path, "w") as handle:
                handle.write(content)
    with open(os.path.join(model, "keys"), "w") as handle:
        handle.write("".join("%s\n" % key for key in PROC_KEYS))
    return model, chroot_root(base, ("etc", "run", "proc"))


def real_writes(model, root, which):
    out = run_in_namespace(RUN, root, model, which)
    # a write does not truncate (as in /proc/sys) and ends with a newline: the first line is the last write
    return dict((key, None if value == "unset" else value) for key, value in (row.split("\t", 1) for row in out.split("\n") if row))


def modelled_writes(model, which):
    assignments, dummy = loader.load(model, loader=which)
    history = loader.winners(assignments, PROC_KEYS, loader=which)
    return dict((key, history[key][-1]["value"] if history[key] else None) for key in PROC_KEYS)


def fields(value):
    return None if value is None else " ".join(value.split())


@pytest.mark.parametrize("which", ["systemd", "procps"])
@given(tree=TREE)
def test_every_key_gets_the_value_the_real_loader_writes(which, tree):
    base = tempfile.mkdtemp()
    try:
        model, root = build(base, tree)
        real = real_writes(model, root, which)
        modelled = modelled_writes(model, which)
        assert dict((k, fields(v)) for k, v in modelled.items()) == dict((k, fields(v)) for k, v in real.items()), tree
    finally:
        shutil.rmtree(base)
