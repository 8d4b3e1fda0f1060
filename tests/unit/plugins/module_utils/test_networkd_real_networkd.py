"""The systemd-networkd reader against systemd-networkd itself: generated
.network trees (files in /etc, /run and /usr/lib, drop-ins, a name in an
earlier directory hiding a later one, empty files and links to /dev/null,
[Match] lists with negations and resets, MAC addresses) are loaded by this
machine's systemd-networkd (systemd 252), run in a private network and mount
namespace with one veth link named ens4 whose MAC address is fixed, and read
by ``netconf.read_networkd``.  networkd's state file names the .network file
it applied (NETWORK_FILE=, or ADMIN_STATE=unmanaged), its debug log whether
it starts the DHCPv4 client, and the link the MTU it set; the reader's first
record that covers ens4 (its names, and its MAC address when it has one)
must be that file, with the same DHCPv4, MTU and Unmanaged=.  Whether the
DHCP server's MTU is taken is not compared (no DHCP server).  /sys is
mounted read-only in the namespace, as in a container, so networkd does not
wait for udev.  Nothing leaves the namespaces: the veth pair, networkd and
its DHCP requests live and die in them (networkd in a PID namespace of
its own).  Needs root, unshare and
systemd-networkd; skipped elsewhere."""

import os
import shutil
import subprocess
import tempfile

import pytest
from hypothesis import given, strategies as st

from ansible_collections.guestready.gce.plugins.module_utils import netconf
from ansible_collections.guestready.gce.plugins.module_utils.target import Target
from realtools import unavailable, write_network_tree

NETWORKD = "/lib/systemd/systemd-networkd"
WHY_NOT = unavailable(NETWORKD, "ip")
pytestmark = pytest.mark.skipif(WHY_NOT is not None, reason=str(WHY_NOT))

MAC = "42:01:0a:80:00:02"
# the tree's directories and where networkd looks for them (/lib is /usr/lib on this merged-/usr system)
DIRS = {"etc": "/etc/systemd/network", "run": "/run/systemd/network", "lib": "/usr/lib/systemd/network"}

MATCH = st.sampled_from(["Name=ens4", "Name=ens*", "Name=eth0", "Name=!ens4", "Name=!eth*", "Name=eth0 ens4", "Name=",
                         "Name=e*4", "MACAddress=" + MAC, "MACAddress=42:01:0A:80:00:02", "MACAddress=42:01:0a:80:00:09",
                         "MACAddress=", "Type=ether", "Type=wlan", "Type=!wlan", "OriginalName=ens4"])
SETTING = st.sampled_from(["[Network]\nDHCP=yes", "[Network]\nDHCP=ipv4", "[Network]\nDHCP=ipv6", "[Network]\nDHCP=no",
                           "[Network]\nDHCP=both", "[Network]\nDHCP=bogus", "[Network]\nDHCP=", "[Link]\nMTUBytes=1460",
                           "[Link]\nMTUBytes=9K", "[Link]\nMTUBytes=1400B", "[Link]\nMTUBytes=bogus",
                           "[Link]\nMTUBytes=67", "[Link]\nMTUBytes=", "[Link]\nUnmanaged=yes", "[Link]\nUnmanaged=no",
                           "[Network]\nAddress=10.0.0.2/24"])
FILE = st.builds(lambda match, settings: "".join("[Match]\n%s\n" % line for line in match) +
                 "".join(setting + "\n" for setting in settings),
                 st.lists(MATCH, max_size=3), st.lists(SETTING, max_size=3))
CONTENT = st.one_of(FILE, FILE, FILE, st.just(""), st.just("/dev/null"))
NAMES = st.sampled_from(["10-a.network", "50-b.network", "90-c.network", "99-default.network"])
TREE = st.dictionaries(st.tuples(st.sampled_from(sorted(DIRS)), NAMES), CONTENT, min_size=1, max_size=4)
DROPINS = st.dictionaries(st.tuples(st.sampled_from(sorted(DIRS)), NAMES, st.sampled_from(["x.conf", "y.conf"])),
                          st.lists(SETTING, min_size=1, max_size=2).map(lambda s: "\n".join(s) + "\n"), max_size=2)

# networkd with the tree's directories bound where it looks, until it has judged ens4 (at most 5 s)
RUN = r"""
set -eu
T=$1
ip link add ens4 type veth peer name p0
ip link set ens4 address %s
ip link set p0 up
mount -t sysfs -o ro none /sys
mount -t tmpfs none /run/systemd
mkdir -p /run/systemd/network /run/systemd/netif
mount --bind "$T/etc" /etc/systemd/network
mount --bind "$T/run" /run/systemd/network
mount --bind "$T/lib" /usr/lib/systemd/network
chown systemd-network: /run/systemd/netif
SYSTEMD_LOG_LEVEL=debug %s > "$T/log" 2>&1 &
P=$!
I=$(cat /sys/class/net/ens4/ifindex)
for i in $(seq 100); do
  grep -q "ADMIN_STATE=\(configuring\|configured\|unmanaged\|failed\|linger\)" /run/systemd/netif/links/$I 2>/dev/null && break
  sleep 0.05
done
sleep 0.3
cat /run/systemd/netif/links/$I > "$T/state" 2>/dev/null || true
cat /sys/class/net/ens4/mtu > "$T/mtu"
kill $P
wait $P || true
""" % (MAC, NETWORKD)


def real(base):
    """``(the file applied or None, unmanaged, DHCPv4 started, the MTU set or None)``."""
    # a PID namespace too: when its first process ends, however it ends, networkd goes with it
    subprocess.run(["unshare", "--net", "--mount", "--pid", "--fork", "--kill-child", "--propagation", "private",
                    "sh", "-c", RUN, "sh", base],
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, check=True)
    with open(os.path.join(base, "state")) as handle:
        state = dict(line.rstrip("\n").split("=", 1) for line in handle if "=" in line and not line.startswith("#"))
    with open(os.path.join(base, "log")) as handle:
        log = handle.read()
    with open(os.path.join(base, "mtu")) as handle:
        mtu = int(handle.read())
    return (state.get("NETWORK_FILE"), state.get("ADMIN_STATE") == "unmanaged", "ens4: DHCPv4 client: STARTED" in log,
            mtu if mtu != 1500 else None)


def ours(root):
    """The same of the reader's first record that covers ens4, its MTU within the link's limits
    (veth: 68 to 65535; with IPv6 on, as here, networkd raises it to 1280 at least)."""
    for config in netconf.read_networkd(Target(root)):
        if config.links or not (config.names is None or netconf.match_list(config.names, "ens4")):
            continue
        if config.mac is not None and MAC not in config.mac.lower().split():
            continue
        unmanaged = bool(config.note and "Unmanaged=yes" in config.note)
        mtu = None if config.mtu is None else min(max(config.mtu, 1280), 65535)
        return None if unmanaged else config.path, unmanaged, config.dhcp4, mtu if mtu != 1500 else None
    return None, True, False, None   # no file: networkd leaves the link unmanaged


@given(tree=TREE, dropins=DROPINS)
def test_networkd_applies_the_file_the_reader_says(tree, dropins):
    base = tempfile.mkdtemp()
    try:
        root = write_network_tree(base, DIRS, tree, dropins)
        theirs, mine = real(base), ours(root)
        assert mine == theirs, (theirs, mine)
    finally:
        shutil.rmtree(base)
