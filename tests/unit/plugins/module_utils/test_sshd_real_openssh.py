"""The sshd_config reader against the real OpenSSH server: generated
configurations (case, separators, quotes, comments, Includes, Match blocks)
are read by the lab guests' own sshd (``sshd -T``, and ``-T -C`` for a
connection no Match block with criteria matches) and by
``sshd.SshdConfig.connection_value``; the values of the keys the GCE-SSH
checks read are the same.

The sshd binary is the one the lab's images install: the openssh-server
package in the lab's apt cache (``<lab cache>/apt-archives``, filled when
the images are built), unpacked into a temporary directory, never
installed.  It runs under chroot in a private mount namespace (``unshare
--mount``) whose /etc is the generated tree (sshd needs its ``sshd`` user
there); nothing is mounted or written outside it, and nothing listens.
Skipped without root, unshare or that package."""

import os
import shutil
import subprocess
import tempfile

import pytest
from hypothesis import assume, example, given, strategies as st

from ansible_collections.guestready.gce.plugins.module_utils import sshd
from ansible_collections.guestready.gce.plugins.module_utils.target import Target
from realtools import cached_deb, chroot_root, run_in_namespace, unavailable, unpack

PACKAGE = cached_deb("apt-archives", "openssh-server")
WHY_NOT = unavailable("dpkg-deb", "ssh-keygen") or (None if PACKAGE else "needs openssh-server in the lab's apt cache")
pytestmark = pytest.mark.skipif(WHY_NOT is not None, reason=str(WHY_NOT))

KEYS = ("passwordauthentication", "permitrootlogin", "clientaliveinterval", "pubkeyauthentication",
        "kbdinteractiveauthentication", "usepam", "authorizedkeysfile")
KEYWORDS = st.sampled_from(["PasswordAuthentication", "passwordauthentication", "PASSWORDAUTHENTICATION",
                            "PermitRootLogin", "ClientAliveInterval", "PubkeyAuthentication",
                            "KbdInteractiveAuthentication", "ChallengeResponseAuthentication", "UsePAM",
                            "AuthorizedKeysFile"])
VALUES = {
    "passwordauthentication": ["yes", "no", "YES", '"no"', "'yes'"],
    "permitrootlogin": ["yes", "no", "prohibit-password", "without-password", "forced-commands-only"],
    "clientaliveinterval": ["0", "120", "2m", "1h30m", "90S"],
    "authorizedkeysfile": [".ssh/authorized_keys", "/etc/keys/%u .ssh/k2", '"a b" c', "none"],
}
SEPARATORS = st.sampled_from([" ", "\t", "=", " = ", "  ", "\t=\t"])
SETTING = st.builds(lambda lead, keyword, separator, index, comment: "%s%s%s%s%s" % (
    lead, keyword, separator, VALUES.get(keyword.lower(), ["yes", "no"])[
        index % len(VALUES.get(keyword.lower(), ["yes", "no"]))], comment),
    st.sampled_from(["", "", "  ", "\t"]), KEYWORDS, SEPARATORS, st.integers(0, 4),
    st.sampled_from(["", "", " # why", "  ", "\t#x"]))
LINE = st.one_of(SETTING, SETTING, SETTING,
                 st.sampled_from(["", "# PasswordAuthentication yes", "Include sshd_config.d/*.conf",
                                  "Include /etc/ssh/extra.conf", "Match User bob", "Match Address 10.0.0.0/8",
                                  "Match all", "  Match User alice,bob Address 10.*", "match ALL",
                                  'Include "sshd_config.d/1*.conf" extra.conf', "Include sshd_config.d/none*",
                                  "PasswordAuthentication no # yes", "PasswordAuthentication \"no\" yes"]))
FILE = st.builds(lambda lines, end: "".join(line + end for line in lines), st.lists(LINE, max_size=7),
                 st.sampled_from(["\n", "\n", "\r\n", " \n", "\t\n"]))
FILES = st.dictionaries(st.sampled_from(["sshd_config.d/10-a.conf", "sshd_config.d/50-cloud-init.conf",
                                         "sshd_config.d/zz.conf", "extra.conf"]), FILE, max_size=3)
# a connection no "Match User bob" or "Match Address 10..." block matches
CONNECTION = "user=nobody,host=client.example,addr=192.0.2.7,laddr=192.0.2.1,lport=22"

RUN = r"""
S=$3
mount --bind "$T/etc" "$R/etc"
mount -t tmpfs none "$R/run"
mkdir -p "$R/run/sshd"
mount --bind "$S" "$R/opt"
for spec in "" "$4"; do
    if chroot "$R" /opt/usr/sbin/sshd -T -f /etc/ssh/sshd_config -h /opt/hostkey ${spec:+-C "$spec"} > "$T/out" 2>&1; then
        sed 's/^/ok /' "$T/out"
    else
        sed 's/^/error /' "$T/out"
    fi
    echo "--"
done
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    where = unpack(str(tmp_path_factory.mktemp("openssh-server")), PACKAGE)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(where, "hostkey")],
                   check=True, stdout=subprocess.DEVNULL)
    return where


def build(base, main, files):
    model = os.path.join(base, "tree")
    os.makedirs(os.path.join(model, "etc/ssh/sshd_config.d"))
    for name in ("passwd", "group"):
        shutil.copy("/etc/" + name, os.path.join(model, "etc", name))
    with open(os.path.join(model, "etc/passwd"), "a") as handle:
        handle.write("sshd:x:900:65534::/run/sshd:/usr/sbin/nologin\n")
    for name, text in dict(files, sshd_config=main).items():
        with open(os.path.join(model, "etc/ssh", name), "w") as handle:
            handle.write(text)
    return model, chroot_root(base, ("etc", "run", "opt"))


def real_values(model, root, server):
    out = run_in_namespace(RUN, root, model, server, CONNECTION)
    dumps = []
    for part in out.split("--\n")[:2]:
        rows = part.splitlines()
        if not rows or rows[0].startswith("error "):
            return None, part
        dumps.append(sshd.parse_dump("\n".join(row[3:] for row in rows)))
    return dumps, None


def normal(key, value):
    value = sshd.ALIASES.get(str(value).lower(), str(value)) if key != "authorizedkeysfile" else str(value)
    if key == "clientaliveinterval":
        return sshd.seconds(value)
    return value.lower() if key != "authorizedkeysfile" else value


@given(main=FILE, files=FILES)
@example(main="UsePAM yes\nMatch all\nUsePAM no\nPermitRootLogin no\n", files={})   # UsePAM: no Match keyword
@example(main="PermitRootLogin yes\nInclude sshd_config.d/*.conf\n",
         files={"sshd_config.d/10-a.conf": "Match User bob\nPasswordAuthentication no\nMatch all\nPermitRootLogin no\n"})
def test_the_values_are_what_sshd_reads(server, main, files):
    base = tempfile.mkdtemp()
    try:
        model, root = build(base, main, files)
        dumps, error = real_values(model, root, server)
        assume(dumps is not None)   # a configuration sshd refuses (the checks then say it does not start)
        config = sshd.SshdConfig(Target(model))
        # sshd -T without -C applies the Match blocks for a connection that matches no criteria
        # (sshd.c: "a blank one that will cause no predicate to match"): -C with such a connection alike
        for dump in dumps:
            for key in KEYS:
                assert normal(key, config.connection_value(key)[0]) == normal(key, dump[key]), (key, main, files)
    finally:
        shutil.rmtree(base)
