"""The NetworkManager.conf reader against NetworkManager's own: generated
configurations (NetworkManager.conf and conf.d files in /usr/lib, /run and
/etc, hidden names, the same name in several directories, ``key+=`` and
``key-=`` on device lists with blanks and escapes, ``[.config] enable=``,
lines GKeyFile refuses) are read by ``NetworkManager --print-config`` of
Debian 12's network-manager (1.42), unpacked from the .deb files ``make
deps`` downloads, never installed, and by ``netconf.networkmanager_conf``:
both refuse the same configurations, and read the same value of every key
(device lists exactly as NetworkManager joins them, string lists as lists).
/run/NetworkManager/conf.d is compiled into NetworkManager: it runs in a
private mount namespace with a tmpfs on /run holding the tree's files.
Needs root, unshare and the .deb files, and a machine whose own
/etc/NetworkManager NetworkManager would read instead of an absent
NetworkManager.conf; skipped elsewhere."""

import os
import shutil
import subprocess
import tempfile

import pytest
from hypothesis import given, strategies as st

from ansible_collections.guestready.gce.plugins.module_utils import netconf
from ansible_collections.guestready.gce.plugins.module_utils.target import Target
from realtools import LAB_CACHE, cached_deb, unavailable, unpacked

PACKAGES = [cached_deb("tool-debs", name) for name in ("network-manager", "libnm0", "libndp0")]
WHY_NOT = unavailable("dpkg-deb") or (None if all(PACKAGES) else "needs network-manager, libnm0 and libndp0 in %s "
                                      "(make deps)" % os.path.join(LAB_CACHE, "tool-debs")) or \
    ("this machine has /etc/NetworkManager" if os.path.exists("/etc/NetworkManager") else None)
pytestmark = pytest.mark.skipif(WHY_NOT is not None, reason=str(WHY_NOT))

# where the tree's files are, and where NetworkManager is told (or, for /run, made) to look
DIRS = {"lib": "usr/lib/NetworkManager/conf.d", "run": "run/NetworkManager/conf.d", "etc": "etc/NetworkManager/conf.d"}
RUN = r"""
set -eu
NM=$1 T=$2
mount -t tmpfs none /run
mkdir -p /run/NetworkManager
cp -a "$T/run/NetworkManager/conf.d" /run/NetworkManager/
main=$T/etc/NetworkManager/NetworkManager.conf
exec "$NM/usr/sbin/NetworkManager" --print-config ${MAIN:+--config="$main"} --config-dir="$T/etc/NetworkManager/conf.d" \
    --system-config-dir="$T/usr/lib/NetworkManager/conf.d" --intern-config="$T/intern.conf"
"""

LINE = st.sampled_from([
    "[main]", "[main]", "[keyfile]", "[.config]", "[device]", "[logging]", "[main ]", "[Main]", "[.intern.main]",
    "no-auto-default=eth0", "no-auto-default=ens4,eth1", "no-auto-default+=ens4", "no-auto-default-=eth0",
    "no-auto-default=*", "no-auto-default=", "no-auto-default-=ens4", "no-auto-default+=eth0;eth2",
    "no-auto-default = eth3 ", "no-auto-default=eth0 , ens4", "no-auto-default-=*", "no-auto-default=eth\\,0",
    "no-auto-default=interface-name:ens4", "no-auto-default-=interface-name:ens4", "no-auto-default+=",
    "no-auto-default=except:ens4", "no-auto-default=ens4;eth0;", "no-auto-default+=eth 0 ,x",
    "no-auto-default+=\\s eth1\\s,y\\;z", "no-auto-default+=a\\\\b,c\\qd", "no-auto-default-=eth 0",
    "no-auto-default+=x\\", "no-auto-default+=\\n", "no-auto-default=eth 0 ,x",
    "unmanaged-devices=interface-name:ens4", "unmanaged-devices+=interface-name:eth*", "unmanaged-devices=",
    "unmanaged-devices-=interface-name:ens4", "unmanaged-devices-=", "unmanaged-devices=mac:42:01:0a:80:00:02",
    "unmanaged-devices+=except:type:ethernet", "unmanaged-devices+= interface-name:ens4 ;;",
    "unmanaged-devices+=\\tq\\t", "enable=false", "enable=true", "enable=nm-version-min:1.0", "enable=no",
    "enable=0", "enable=False", "enable=off", "enable= false ", "enable=maybe", "plugins=keyfile",
    "plugins+=ifupdown", "dhcp+=internal", "dhcp=internal", "garbage", "# comment", "; semicolon"])
FILE = st.lists(LINE, max_size=6).map(lambda lines: "".join(line + "\n" for line in lines))
NAME = st.sampled_from(["10-a.conf", "20-b.conf", "10-a.txt", ".hidden.conf", "00-z.conf", ".conf", "A.conf",
                        "b.conf~"])
TREE = st.tuples(st.dictionaries(st.tuples(st.sampled_from(sorted(DIRS)), NAME), FILE, max_size=4), st.none() | FILE)
# string lists: compared as lists (their own escapes are not modelled)
STRING_LISTS = (("main", "plugins"), ("main", "debug"), ("logging", "domains"))


@pytest.fixture(scope="module")
def networkmanager():
    with unpacked(*PACKAGES) as (where, dummy):
        yield where


def write(root, conf_d, main):
    for directory in DIRS.values():
        os.makedirs(os.path.join(root, directory))
    for (where, name), text in conf_d.items():
        with open(os.path.join(root, DIRS[where], name), "w") as handle:
            handle.write(text)
    if main is not None:
        with open(os.path.join(root, "etc/NetworkManager/NetworkManager.conf"), "w") as handle:
            handle.write(main)


def printed(networkmanager, root):
    """``{(section, key): value}`` NetworkManager prints, or None when it refuses the configuration."""
    env = dict(os.environ, LD_LIBRARY_PATH=os.path.join(networkmanager, "usr/lib/x86_64-linux-gnu"))
    env.pop("MAIN", None)
    if os.path.exists(os.path.join(root, "etc/NetworkManager/NetworkManager.conf")):
        env["MAIN"] = "1"
    done = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", RUN, "sh", networkmanager,
                           root], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, check=False)
    if done.returncode:
        assert b"Failed to read configuration" in done.stderr, done.stderr
        return None
    found, section = {}, None
    for line in done.stdout.decode().splitlines():
        if line.startswith("["):
            section = line[1:-1]
        elif "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            found[(section, key)] = value
    found.pop(("main", "configure-and-quit"), None)   # the command line's, not a file's
    return found


def as_list(value):
    return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]


@given(TREE)
def test_networkmanager_conf_is_read_as_networkmanager_reads_it(networkmanager, tree):
    conf_d, main = tree
    root = tempfile.mkdtemp()
    try:
        write(root, conf_d, main)
        theirs = printed(networkmanager, root)
        read, fatal = netconf.networkmanager_conf(Target(root))
    finally:
        shutil.rmtree(root)
    assert (theirs is None) == (fatal is not None), (tree, fatal)
    if theirs is None:
        return
    ours = dict((key, value) for key, (value, where) in read.items())
    for key in STRING_LISTS:
        assert as_list(ours.pop(key, "")) == as_list(theirs.pop(key, "")), (tree, key)
    assert ours == theirs, tree


@pytest.mark.parametrize("value, specs", [
    ("eth0, ens4 ;x", ["eth0", "ens4", "x"]),
    ("eth\\,0;\\s a\\s", ["eth,0", "  a "]),
    # blanks since the last escape cut as many characters from the end, whatever follows them
    ("eth 0,x", ["eth ", "x"]),
    ("a\\qb,c\\", ["a\\qb", "c"]),
    (" ,; ", []),
])
def test_device_lists_split_as_networkmanager_splits_them(value, specs):
    assert netconf.nm_spec_split(value) == specs
    assert netconf.nm_spec_split(netconf.nm_spec_join(specs)) == specs
