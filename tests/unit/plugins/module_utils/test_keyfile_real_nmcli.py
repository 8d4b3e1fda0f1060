"""The NetworkManager keyfile reader against NetworkManager's own: generated
keyfiles are read by ``nmcli --offline`` of Debian 12's network-manager
(1.42), unpacked from the .deb ``make deps`` downloads to the lab cache,
never installed.  ``nmcli --offline connection modify`` reads a keyfile from
its standard input with the daemon's reader (nm-keyfile.c nm_keyfile_read()),
normalizes and verifies the profile as the keyfile plugin does before it
loads one, and prints the profile it keeps or the error that rejects it.
Every generated file has an ``id`` (the daemon would take the file's name;
nmcli has none).  Compared: whether the profile is rejected, and for an
Ethernet profile its interface name, MAC address, MTU, IPv4 method (none
for a port) and autoconnect, with ``netconf.networkmanager_keyfiles`` and
``read_networkmanager`` on the same file in a tree.  The IPv4 and IPv6
groups hold addresses, routes, gateways and DNS servers that the reader keeps
or drops.  One difference is expected: a manual method with a route and no
address, which NetworkManager 1.46 and newer accept (the reader does too)
and 1.42 rejects.  Needs dpkg-deb and the two .deb files; skipped
elsewhere."""

import os
import shutil
import subprocess
import tempfile

import pytest
from hypothesis import example, given, strategies as st

from ansible_collections.guestready.gce.plugins.module_utils import netconf
from ansible_collections.guestready.gce.plugins.module_utils.target import Target
from realtools import LAB_CACHE, cached_deb, unavailable, unpacked

PACKAGES = [cached_deb("tool-debs", name) for name in ("network-manager", "libnm0")]
WHY_NOT = unavailable("dpkg-deb") or (None if all(PACKAGES) else "needs network-manager and libnm0 in %s "
                                      "(make deps)" % os.path.join(LAB_CACHE, "tool-debs"))
pytestmark = pytest.mark.skipif(WHY_NOT is not None, reason=str(WHY_NOT))

CONNECTION = st.lists(st.sampled_from([
    "id=", "type=ethernet", "type=802-3-ethernet", "type=ethernet ", "type=wifi", "type=bogus",
    "interface-name=ens4", "interface-name=eth0", "interface-name=ens4 ", "interface-name=a/b", "interface-name=",
    "autoconnect=false", "autoconnect=0", "autoconnect=False", "autoconnect=false ", "autoconnect= 0",
    "autoconnect=true", "master=br0", "master=bond0", "slave-type=bridge", "slave-type=bond", "slave-type=vrf"]),
    max_size=4)
WIRED = st.lists(st.sampled_from([
    "mtu=1460", "mtu=0x5b4", "mtu= 1500", "mtu=-1", "mtu=abc", "mtu=0", "mtu=99999999999",
    "mac-address=42:01:0a:80:00:02", "mac-address=42-01-0A-80-00-02", "mac-address=42:01:0a:80:00:02 ",
    "mac-address= 42:1:a:80:0:2", "mac-address=a:b:c:d:e:f", "mac-address=42:01:0a:80:00",
    "mac-address=42:01:0a:80:00:02:03", "mac-address=42:01:0a:80:00:02;", "mac-address=42:01-0a:80:00:02",
    "mac-address=42010a800002", "mac-address=42:01:0a:80:00:2g", "mac-address=42\\:01:0a:80:00:02",
    "mac-address=66;1;10;128;0;2;", "mac-address=66;1;10;128;0;2", "mac-address=66;1;10;128;0;2 ;",
    "mac-address=66;1;10;128;0;-0;", "mac-address=66;1;10;128;0;999;", "mac-address=66;1;10;128;0;2;;",
    "mac-address=zz", "mac-address=", "interface-name=ens4"]), max_size=3)
# addresses, routes, gateways and DNS servers as NetworkManager's reader keeps or drops them
ADDRESS4 = st.sampled_from([
    "10.0.0.2/24", "10.0.0.2", "10.0.0.2/24,10.0.0.1", "10.0.0.2/24 ", "10.0.0.2/abc", "10.0.0.2/24,,", "010.0.0.2/24",
    "10.0.0.2/33", "10.0.0.2//", "10.0.0.2;24;10.0.0.1;", "10.0.0.2/24;10.0.0.3/24;", "1.2.3.4/24/1.2.3.5/",
    "1.2.3.4/24,::1", "1.2.3.4/24,1.2.3.5,7", "/24", "", "10.0.0.2\\s/24", "10.0.0.2/24,bad", "10.0.0.2/24,10.0.0.1;"])
ROUTE4 = st.sampled_from(["10.1.0.0/16", "10.1.0.0/16,10.0.0.1", "10.1.0.0/16,,5", "10.1.0.0/16,10.0.0.1,x",
                          "10.1.0.0/16,bad", "10.1.0.0/16,,", "10.1.0.0/16,,99999999999", "0.0.0.0/0,10.0.0.1"])
GATEWAY4 = st.sampled_from(["10.0.0.1", "0.0.0.0", "", "10.0.0.1 ", "bad", "\\x", "::1"])
DNS4 = st.sampled_from(["8.8.8.8;", "x", ";", "8.8.8.8#", "8.8.8.8#a", ";8.8.8.8", "8.8.8.8\\;1.1.1.1", "::1"])
SEARCH = st.sampled_from(["", ";", "a", "a\\x", "a\\;", "a;b;"])


def with_method(methods, rows):
    """A group's rows, most often after a method."""
    return st.builds(lambda method, rest: ([method] if method else []) + rest,
                     st.sampled_from(methods) | st.sampled_from(methods) | st.none(), rows)


IPV4_ROWS = st.lists(st.one_of(
    st.sampled_from(["dhcp-hostname=", "dhcp-hostname=a", "dhcp-hostname=\\x"]),
    st.builds("{}={}".format, st.sampled_from(["address1", "address", "addresses", "address01", "address0",
                                               "addresses2147483648", "address2147483647", "address2"]), ADDRESS4),
    st.builds("route{}={}".format, st.sampled_from(["1", "s", "2"]), ROUTE4),
    st.builds("gateway={}".format, GATEWAY4), st.builds("dns={}".format, DNS4),
    st.builds("dns-search={}".format, SEARCH)), max_size=3)
IPV6_ROWS = st.lists(st.one_of(
    st.builds("address1={}".format, st.sampled_from(["fe80::1/64", "fe80::1%eth0/64", "fe80::1/129", "fe80::1",
                                                     "10.0.0.2/24", "2001:db8::2/64,2001:db8::1"])),
    st.builds("route1={}".format, st.sampled_from(["::/0,fe80::1", "2001:db8::/32,7", "2001:db8::/32,7,8", "::/0,x"])),
    st.builds("gateway={}".format, st.sampled_from(["fe80::1", "::", "10.0.0.1"])),
    st.builds("dns={}".format, st.sampled_from(["::1;", "bad", "8.8.8.8"])),
    st.builds("dns-search={}".format, SEARCH)), max_size=2)
IPV4 = with_method(["method=auto", "method=manual", "method=disabled", "method=link-local", "method=shared",
                    "method=bogus", "method=auto "], IPV4_ROWS)
IPV6 = with_method(["method=auto", "method=ignore", "method=bogus", "method=disabled", "method=dhcp", "method=shared",
                    "method=link-local", "method=manual", "method=auto "], IPV6_ROWS)
OTHER = st.sampled_from([None, None, "[foo]\nbar=1\n", "[wifi]\nssid=x\n", "[bridge-port]\n", "[bond-port]\n",
                         "[802-3-ethernet]\ninterface-name=ens4\n", "[ethernet]\ninterface-name=eth0\n",
                         "[user]\norg.freedesktop.NetworkManager.origin=cloud-init\n",
                         # settings of other types, which verify() checks all the same
                         "[infiniband]\n", "[infiniband]\ntransport-mode=datagram\n", "[vlan]\n", "[vlan]\nparent=eth1\n",
                         "[macsec]\nparent=\n", "[ovs-port]\n", "[ovs-interface]\n", "[pppoe]\nusername=\n",
                         "[wifi-security]\nkey-mgmt=none\n", "[802-1x]\n", "[wifi]\nssid=x\n[802-11-wireless]\n"])


def group(name, rows):
    return "" if rows is None else "[%s]\n%s" % (name, "".join(row + "\n" for row in rows))


def keyfile(connection, wired, wired_group, second_wired, ipv4, ipv6, other):
    """A keyfile with an ``id`` first (``id=`` after it wins), its wired settings in the group of the
    setting's name or its alias, and maybe in the other one too."""
    second = "802-3-ethernet" if wired_group == "ethernet" else "ethernet"
    return "".join([group("connection", ["id=a"] + connection), group(wired_group, wired), group(second, second_wired),
                    group("ipv4", ipv4), group("ipv6", ipv6), other or ""])


KEYFILE = st.builds(keyfile, CONNECTION, st.none() | WIRED, st.sampled_from(["ethernet", "802-3-ethernet"]),
                    st.none() | st.none() | WIRED, st.none() | IPV4, st.none() | IPV6, OTHER)


@pytest.fixture(scope="module")
def nmcli():
    with unpacked(*PACKAGES) as (where, env):
        # a change that changes nothing: the profile read, normalized, verified and written out
        command = [os.path.join(where, "usr/bin/nmcli"), "--offline", "connection", "modify", "connection.zone", ""]
        probe = subprocess.run(command[:1] + ["--version"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               check=False)
        if probe.returncode:
            pytest.skip("the unpacked nmcli does not run here: %s" % probe.stderr.decode(errors="replace"))
        yield command, env


def nmcli_profile(nmcli, text):
    """``({"group.key": value}, None)`` of the profile nmcli keeps, or ``(None, its error)``."""
    command, env = nmcli
    done = subprocess.run(command, input=text.encode(), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=60, check=False)
    if done.returncode:
        return None, done.stderr.decode(errors="replace")
    profile, section = {}, None
    for line in done.stdout.decode().splitlines():
        if line.startswith("["):
            section = line[1:-1]
        elif "=" in line:
            key, value = line.split("=", 1)
            profile["%s.%s" % (section, key)] = value
    return profile, None


def read(text):
    """``(loaded, ignored, configs)`` of the reader on a tree with the keyfile in /etc."""
    root = tempfile.mkdtemp()
    try:
        directory = os.path.join(root, "etc/NetworkManager/system-connections")
        os.makedirs(directory)
        path = os.path.join(directory, "a.nmconnection")
        with open(path, "w") as handle:
            handle.write(text)
        os.chmod(path, 0o600)
        target = Target(root)
        loaded, ignored = netconf.networkmanager_keyfiles(target)
        return loaded, ignored, netconf.read_networkmanager(target)
    finally:
        shutil.rmtree(root)


# each read differently before the reader checked what NetworkManager keeps of them
IP_CASES = ["[ipv4]\nmethod=manual\naddress1=10.0.0.2/24 \n", "[ipv4]\nmethod=manual\naddresses=10.0.0.2/24;10.0.0.3/24;\n",
            "[ipv4]\nmethod=manual\naddress1=10.0.0.2/abc\n", "[ipv4]\nmethod=auto\ngateway=0.0.0.0\n",
            "[ipv4]\nmethod=manual\naddress1=10.0.0.2/24\ngateway=\n", "[ipv4]\nmethod=disabled\ndns=x;\n",
            "[ipv4]\nmethod=shared\ndns-search=a\\x\n", "[ipv4]\nmethod=auto\ndhcp-hostname=\n",
            "[ipv6]\nmethod=manual\naddress1=fe80::1%eth0/64\n", "[ipv6]\nmethod=ignore\ndns=::1\n"]


def ip_examples(test):
    """Every test run sees the IP settings of IP_CASES, in an Ethernet profile."""
    for case in IP_CASES:
        test = example("[connection]\nid=a\ntype=ethernet\n" + case)(test)
    return test


@given(KEYFILE)
@ip_examples
def test_networkmanager_reads_keyfiles_as_networkmanager_does(nmcli, text):
    profile, error = nmcli_profile(nmcli, text)
    loaded, ignored, configs = read(text)
    if profile is None and "cannot be empty for 'method=manual'" in error and configs:
        # NetworkManager 1.46 and newer (the reader reads as they do) take a route without an address
        assert "\nroute" in text, (text, error)
        return
    # a profile the reader names as ignored is one NetworkManager rejects
    assert not ignored or profile is None, (text, profile, ignored)
    if profile is None or profile.get("connection.type") != "ethernet":
        assert configs == [], (text, error or profile)
        return
    assert ignored == [] and len(configs) == 1, (text, profile, ignored)
    config, method = configs[0], profile.get("ipv4.method")
    name = profile.get("connection.interface-name")
    at_boot = profile.get("connection.autoconnect") != "false"
    assert (config.names, config.mac, config.mtu, config.dhcp4, config.static) == (
        [name] if name else None, profile.get("ethernet.mac-address"), profile.get("ethernet.mtu"),
        at_boot and method == "auto", method == "manual"), (text, profile)
    assert (config.note is not None) == ("connection.master" in profile), (text, profile)


@pytest.mark.parametrize("other", [
    "[infiniband]\n", "[vlan]\n", "[vlan]\nparent=\n", "[ovs-port]\n", "[pppoe]\nusername=\n", "[802-1x]\n",
    "[wifi]\nssid=x\n[802-11-wireless]\n",   # the setting's own name hides the alias's group
    "[802-3-ethernet]\nmac-address=42:01:0a:80:00:02\n[vlan]\n", "[infiniband]\ntransport-mode=datagram\n",
    "[wifi-security]\nkey-mgmt=none\n"])
def test_a_setting_of_another_type_is_verified_as_networkmanager_does(nmcli, other):
    """verify() checks every setting a profile has: an Ethernet profile with an [infiniband] group
    and no transport-mode is one NetworkManager rejects, which the reader loaded."""
    text = "[connection]\nid=a\ntype=ethernet\ninterface-name=eth0\n" + other
    profile, error = nmcli_profile(nmcli, text)
    loaded, ignored, configs = read(text)
    assert (profile is None) == bool(ignored) == (configs == []), (text, error, ignored)
