"""The ifupdown reader against ifupdown itself: generated
/etc/network/interfaces trees (``source`` and ``source-directory``, relative
and absolute, files run-parts would skip, options outside a stanza, unknown
methods, options given twice, stanzas without an option their method
needs) are read by ``ifquery`` and ``ifup --no-act`` (as networking.service
runs it: without --ignore-errors) of Debian 12's ifupdown 0.8, unpacked from the .deb ``make deps`` downloads
to the lab cache (never installed), under chroot in a private mount
namespace (the tree's /etc and /run bound in), and by
``netconf.read_ifupdown``.  When ifupdown cannot read the main file (it then
brings up nothing), the reader refuses it; else, for each interface with an
``inet`` stanza: whether ``auto``/``allow-hotplug`` brings it up, and what
``ifup``'s commands for it do, run as the shell would run them up to the first
that fails (an option given twice makes a second line the shell runs as a
command): whether DHCP starts, the MTU (an ``inet6`` stanza's only raises it;
on the NIC's own MTU, unknown here, it is taken as fixing it) and the MAC
address they leave on the link.  ``mapping`` stanzas are not generated (not modelled).  Needs root, unshare and the downloaded .deb;
skipped elsewhere."""

import os
import re
import shutil
import tempfile

import pytest
from hypothesis import given, strategies as st

from ansible_collections.guestready.gce.plugins.module_utils import netconf
from ansible_collections.guestready.gce.plugins.module_utils.configfiles import ConfigError
from ansible_collections.guestready.gce.plugins.module_utils.target import Target
from realtools import LAB_CACHE, cached_deb, chroot_root, run_in_namespace, unavailable, unpacked

PACKAGE = cached_deb("tool-debs", "ifupdown")
WHY_NOT = unavailable("dpkg-deb") or (None if PACKAGE else "needs ifupdown in %s (make deps)" % os.path.join(LAB_CACHE, "tool-debs"))
pytestmark = pytest.mark.skipif(WHY_NOT is not None, reason=str(WHY_NOT))

NAMES = ("eth0", "ens4", "x")
IFACE = st.builds("iface {} {} {}".format, st.sampled_from(NAMES + ("lo",)), st.sampled_from(["inet", "inet", "inet6"]),
                  st.sampled_from(["dhcp", "dhcp", "static", "static", "manual", "auto", "tunnel", "6to4", "bogus"]))
OPTION = st.sampled_from(["  mtu 1460", "  mtu 1500", "  mtu 9000", "  address 10.0.0.2/24", "  address 10.0.0.2/24",
                          "  hwaddress ether 42:01:0a:00:00:02", "  hwaddress 42:01:0A:00:00:03", "  mtu", "  script /bin/true", "  mode gre",
                          "  endpoint 10.0.0.9", "  local 10.0.0.3", "  netmask 24"])
# a stanza and its options, an option given twice now and then
STANZA = st.builds(lambda head, options, again: "\n".join([head] + options + options[:again]), IFACE,
                   st.lists(OPTION, max_size=3), st.integers(0, 1))
START = st.builds(lambda word, names: word + " " + " ".join(names), st.sampled_from(["auto", "allow-hotplug", "allow-auto"]),
                  st.lists(st.sampled_from(NAMES + ("lo",)), min_size=1, max_size=2))
OTHER = st.sampled_from(["# comment", "", "  # indented comment", "no-auto-down eth0"])
SOURCE = st.sampled_from(["source interfaces.d/*", "source /etc/network/interfaces.d/*", "source-directory interfaces.d",
                          "source-directory /etc/network/more", "source more/*", "source-directory ../network/more",
                          "source-directory interfaces.d/more"])
LINES = st.lists(st.one_of(IFACE, STANZA, STANZA, OPTION, START, OTHER, st.just("source-directory more")), min_size=1,
                 max_size=6)
MAIN = st.lists(st.one_of(IFACE, STANZA, STANZA, OPTION, START, OTHER, SOURCE), min_size=1, max_size=8)
SOURCED = st.dictionaries(st.sampled_from(["interfaces.d/a", "interfaces.d/b.cfg", "interfaces.d/c", "more/m",
                                           "more/.h", "more/n-1", "interfaces.d/more/m"]), LINES, max_size=3)

# ifquery -l (auto), -l --allow=hotplug, each interface's options, and ifup --no-act's commands for it
RUN = r"""
mount --bind "$T/etc" "$R/etc"
mount --bind "$T/run" "$R/run"
mount --bind "$3" "$R/opt"
Q="chroot $R /opt/sbin/ifquery --state-dir /run/network"
echo "== auto"; $Q -l 2>&1 || true
echo "== hotplug"; $Q -l --allow=hotplug 2>&1 || true
for name in eth0 ens4 x; do
  echo "== query $name"; $Q "$name" 2>&1 && echo "== known"
  echo "== up $name"; chroot "$R" /opt/sbin/ifup --no-act --verbose --force \
    --state-dir /run/network "$name" 2>&1 || true
done
"""


@pytest.fixture(scope="module")
def ifupdown():
    with unpacked(PACKAGE) as (where, dummy):
        yield where


def sections(output):
    found, name = {}, None
    for line in output.splitlines():
        if line.startswith("== "):
            name = line[3:]
            found[name] = []
        elif name is not None:
            found[name].append(line)
    return found


def real(base, tree, unpacked):
    root = chroot_root(base, ("etc", "run", "opt"))
    shown = sections(run_in_namespace(RUN, root, tree, unpacked))
    if any("couldn't read interfaces file" in line for line in shown["auto"]):
        return "refused", shown["auto"]
    # (an auto line naming an interface without a stanza: ifquery says so and lists the others)
    started = set(line for line in shown["auto"] + shown["hotplug"] if not line.startswith("ifquery: "))
    return dict((name, (name in started,) + ifup_effects(shown["up %s" % name], name)) for name in NAMES)


# the lines ifup --no-act prints that start a command; any other is the second line of a command
# whose option was given twice, which the shell would run as a command of its own and fail
COMMAND = re.compile(r"^(ip |sysctl |run-parts |echo |modprobe |ifup: |$)")


def ifup_effects(lines, name):
    """``(DHCP started, MTU, MAC address)``: what the commands ifup prints for
    ``name`` do, run as the shell runs them, up to the first that fails.  The MTU
    is None when they set none; a raise (``if [ ... -lt N ]``, its failure ignored)
    on that unknown MTU counts as N, and one broken by a second line sets IPv6's."""
    dhcp, mtu, mac, family, raising = False, None, None, None, False
    for line in lines:
        if raising:   # the raise's lines, up to its fi
            raising = not line.endswith("fi")
            continue
        header = re.match(r"ifup: configuring interface \S+ \((\w+)\)", line)
        family = header.group(1) if header else family
        raised = re.match(r'if \[ "\$\(cat /sys/class/net/%s/mtu\)" -lt (\S+)( \]|$)' % name, line)
        if raised:
            whole, value = raised.group(2) == " ]", raised.group(1)
            if mtu is None or (whole and mtu.isdigit() and value.isdigit() and int(mtu) < int(value)):
                mtu = value
            raising = not whole
            continue
        if not COMMAND.match(line):
            break
        setting = re.match(r"ip link set (dev )?%s (.*)" % name, line)
        if setting:
            words = setting.group(2).split()
            mtu = words[words.index("mtu") + 1] if "mtu" in words[:-1] else mtu
            mac = words[words.index("address") + 1] if "address" in words[:-1] else mac
        dhcp = dhcp or (family == "inet" and "No DHCP client software found" in line)
    return dhcp, mtu, mac


def ours(tree):
    started = []
    try:
        configs = netconf.read_ifupdown(Target(tree), started=started)
    except ConfigError as exc:
        return "refused", str(exc)
    found = {}
    for name in NAMES:
        mine = [config for config in configs if config.names == [name]]
        found[name] = (name in started if mine else None, any(config.dhcp4 for config in mine),
                       mine[0].mtu if mine else None, mine[0].mac if mine else None)
    return found


@given(main=MAIN, sourced=SOURCED)
def test_ifupdown_reads_the_files_as_ifquery_and_ifup_do(ifupdown, main, sourced):
    base = tempfile.mkdtemp()
    try:
        tree = os.path.join(base, "tree")
        for directory in ("etc/network/interfaces.d/more", "etc/network/more", "run/network"):
            os.makedirs(os.path.join(tree, directory))
        files = dict(sourced, interfaces=main)
        for name, lines in files.items():
            with open(os.path.join(tree, "etc/network", name), "w") as handle:
                handle.write("\n".join(lines) + "\n")
        theirs, mine = real(base, tree, ifupdown), ours(tree)
        if isinstance(theirs, tuple) or isinstance(mine, tuple):
            assert isinstance(theirs, tuple) and isinstance(mine, tuple), (theirs, mine)
            return
        for name in NAMES:
            started, dhcp, mtu, mac = theirs[name]
            assert mine[name][1] == dhcp, (name, theirs, mine)
            if mine[name][0] is None:
                continue   # no IPv4 stanza read: whether a line would bring it up says nothing here
            assert mine[name][0] == started and mine[name][2:] == (mtu, mac), (name, theirs, mine)
    finally:
        shutil.rmtree(base)
