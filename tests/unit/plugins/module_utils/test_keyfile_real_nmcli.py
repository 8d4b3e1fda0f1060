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
``read_networkmanager`` on the same file in a tree.  Needs dpkg-deb and the
two .deb files; skipped elsewhere."""

import os
import shutil
import subprocess
import tempfile

import pytest
from hypothesis import given, strategies as st

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
IPV4 = st.lists(st.sampled_from([
    "method=auto", "method=manual", "method=disabled", "method=link-local", "method=shared", "method=bogus",
    "method=auto ", "address1=10.0.0.2/24", "address1=10.0.0.2", "addresses=10.0.0.2/24", "address01=10.0.0.2/24",
    "address0=10.0.0.2/24", "addresses2147483648=10.0.0.2/24", "address2147483647=10.0.0.2/24",
    "address1=10.0.0.2/24,10.0.0.1", "gateway=10.0.0.1", "dns=8.8.8.8;"]), max_size=3)
IPV6 = st.lists(st.sampled_from(["method=auto", "method=ignore", "method=bogus", "method=disabled", "method=dhcp",
                                 "method=shared", "method=link-local", "method=auto "]), max_size=2)
OTHER = st.sampled_from([None, None, "[foo]\nbar=1\n", "[wifi]\nssid=x\n", "[bridge-port]\n", "[bond-port]\n",
                         "[802-3-ethernet]\ninterface-name=ens4\n", "[ethernet]\ninterface-name=eth0\n",
                         "[user]\norg.freedesktop.NetworkManager.origin=cloud-init\n"])


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


@given(KEYFILE)
def test_networkmanager_reads_keyfiles_as_networkmanager_does(nmcli, text):
    profile, error = nmcli_profile(nmcli, text)
    loaded, ignored, configs = read(text)
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
