"""The .link file reader against udev's own net_setup_link: generated .link
trees (files in /etc, /run and /usr/lib, drop-ins, a name in an earlier
directory hiding a later one, empty files and links to /dev/null, [Match]
lists with negations and resets, lines that fail a file, MTUBytes= sizes)
are judged by this machine's ``udevadm test-builtin net_setup_link``
(systemd 252) on a veth link the kernel named eth0, in a private network and
mount namespace, and by ``netconf.link_file``: the same file applies (udev's
ID_NET_LINK_FILE) and sets the same MTU (the link's, which net_setup_link
sets).  Only what the reader can judge in an image is generated: no MAC
address that matches (a new VM's is not the build machine's), no Kind= (a
veth has one, a Compute Engine NIC none), no Path=, Property= or conditions.
Nothing leaves the namespaces.  Needs root, unshare, ip and udevadm;
skipped elsewhere."""

import os
import shutil
import subprocess
import tempfile

import pytest
from hypothesis import given, strategies as st

from ansible_collections.guestready.gce.plugins.module_utils import netconf
from ansible_collections.guestready.gce.plugins.module_utils.target import Target
from realtools import unavailable, write_network_tree

WHY_NOT = unavailable("udevadm", "ip")
pytestmark = pytest.mark.skipif(WHY_NOT is not None, reason=str(WHY_NOT))

# the tree's directories and where udev looks for them (/lib is /usr/lib on this merged-/usr system)
DIRS = {"etc": "/etc/systemd/network", "run": "/run/systemd/network", "lib": "/usr/lib/systemd/network"}

MATCH = st.sampled_from(["OriginalName=eth0", "OriginalName=eth*", "OriginalName=ens4", "OriginalName=!eth0",
                         "OriginalName=ens4 eth0", "OriginalName=", "Driver=veth", "Driver=virtio_net",
                         "Driver=!veth", "Driver=", "Type=ether", "Type=wlan", "Type=!wlan", "Type=",
                         "MACAddress=42:01:0a:80:00:09", "MACAddress=", "Bogus=1"])
SETTING = st.sampled_from(["MTUBytes=1400", "MTUBytes=9K", "MTUBytes=1400B", "MTUBytes=bogus", "MTUBytes=67",
                           "MTUBytes=0", "MTUBytes=", "MTUBytes=+1280", "MTUBytes=1.5K", "NamePolicy=",
                           "Description=x", "Name=eth0"])
MATCHING = st.sampled_from(["OriginalName=eth0", "OriginalName=eth*", "Driver=veth", "Type=ether", "OriginalName=!ens4"])


def link(match, settings):
    return "".join("[Match]\n%s\n" % line for line in match) + "".join("[Link]\n%s\n" % line for line in settings)


FILE = st.builds(link, st.lists(MATCH, max_size=3), st.lists(SETTING, max_size=3))
# one criterion that matches first, so that the others decide
LIKELY = st.builds(link, st.builds(lambda first, rest: [first] + rest, MATCHING, st.lists(MATCH, max_size=2)),
                   st.lists(SETTING, min_size=1, max_size=3))
CONTENT = st.one_of(FILE, LIKELY, LIKELY, st.just(""), st.just("/dev/null"),
                    st.just("[Match]\nOriginalName=eth0\n[Link\n"))
NAMES = st.sampled_from(["10-a.link", "50-b.link", "90-c.link", "99-default.link"])
TREE = st.dictionaries(st.tuples(st.sampled_from(sorted(DIRS)), NAMES), CONTENT, min_size=1, max_size=4)
DROPINS = st.dictionaries(st.tuples(st.sampled_from(sorted(DIRS)), NAMES, st.sampled_from(["x.conf", "y.conf"])),
                          st.one_of(st.lists(MATCH, min_size=1, max_size=2).map(lambda m: "[Match]\n" + "\n".join(m) + "\n"),
                                    st.lists(SETTING, min_size=1, max_size=2).map(lambda s: "[Link]\n" + "\n".join(s) + "\n")),
                          max_size=2)

# net_setup_link on a veth the kernel names eth0, the tree's directories bound where udev looks
RUN = r"""
set -eu
T=$1
ip link add eth0 type veth peer name p0
mount -t sysfs none /sys
mount -t tmpfs none /run
mkdir -p /run/systemd/network
mount --bind "$T/etc" /etc/systemd/network
mount --bind "$T/run" /run/systemd/network
mount --bind "$T/lib" /usr/lib/systemd/network
udevadm test-builtin net_setup_link /sys/class/net/eth0 > "$T/properties" 2>/dev/null
cat /sys/class/net/eth0/mtu > "$T/mtu"
"""


def real(base):
    """``(the .link file udev applies or None, the MTU it set or None)``."""
    subprocess.run(["unshare", "--net", "--mount", "--propagation", "private", "sh", "-c", RUN, "sh", base],
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, check=True)
    with open(os.path.join(base, "properties")) as handle:
        properties = dict(line.rstrip("\n").split("=", 1) for line in handle if "=" in line)
    with open(os.path.join(base, "mtu")) as handle:
        mtu = int(handle.read())
    return properties.get("ID_NET_LINK_FILE") or None, mtu if mtu != 1500 else None


def ours(root):
    found = netconf.link_file(Target(root), "eth0", ["veth"])
    if found is None:
        return None, None
    path, mtu, where = found
    return path, mtu if mtu not in (None, 1500) else None


@given(tree=TREE, dropins=DROPINS)
def test_udev_applies_the_link_file_the_reader_says(tree, dropins):
    base = tempfile.mkdtemp()
    try:
        root = write_network_tree(base, DIRS, tree, dropins)
        theirs = real(base)
        # the path udev names is where it found the file; the reader names it inside the image
        theirs = (theirs[0] and "/" + os.path.relpath(theirs[0], "/"), theirs[1])
        assert ours(root) == theirs, (tree, dropins)
    finally:
        shutil.rmtree(base)
