"""The netplan reader against netplan itself: generated netplan trees (files
in /etc, /run and /lib/netplan, the same name hiding another, one ID defined
in several files) are rendered by netplan's own ``generate --root-dir`` (of
Debian 12's netplan.io 0.106, unpacked from the .deb ``make deps`` downloads
to the lab cache, never installed) and read by ``netconf.read_netplan``.
Where netplan refuses the configuration (then it writes none: no network at
boot), the reader refuses it too; else, for each ethernet, the .network
netplan writes says what the reader says: the name matched, the MAC
address, DHCPv4, the MTU and whether the DHCP server's MTU is taken; and
netplan hands devices to NetworkManager when the reader says so.  Keys no
netplan knows (typos) are generated, not those only later versions know (the
reader takes those as known).  Skipped without the downloaded .debs or
dpkg-deb."""

import glob
import os
import shutil
import subprocess
import tempfile

import pytest
from hypothesis import given, strategies as st

from ansible_collections.guestready.gce.plugins.module_utils import netconf
from ansible_collections.guestready.gce.plugins.module_utils.configfiles import ConfigError
from ansible_collections.guestready.gce.plugins.module_utils.target import Target
from realtools import LAB_CACHE, cached_deb, unavailable, unpacked

PACKAGES = [cached_deb("tool-debs", name) for name in ("netplan.io", "libnetplan0")]
WHY_NOT = unavailable("dpkg-deb") or (None if all(PACKAGES) else "needs netplan.io and libnetplan0 in %s "
                                      "(make deps)" % os.path.join(LAB_CACHE, "tool-debs"))
pytestmark = pytest.mark.skipif(WHY_NOT is not None, reason=str(WHY_NOT))

DIRS = ("etc/netplan", "run/netplan", "lib/netplan")
BOOLEANS = st.sampled_from(["true", "false", "yes", "no", "on", "off", "y", "n", "True", "FALSE", "'true'", '"no"',
                            "1", "0", "maybe", "", "~"])
MATCH = st.lists(st.sampled_from(["name: eth0", "name: en*", "name: 'eth*'", "macaddress: 42:01:0a:80:00:02",
                                  "macaddress: '42:01:0a:80:00:03'", "driver: gve", "driver: virtio_net"]),
                 max_size=2, unique_by=lambda line: line.split(":")[0])
KEY = st.one_of(
    st.builds("dhcp4: {}".format, BOOLEANS),
    st.builds("mtu: {}".format, st.sampled_from(["1460", "1500", "'1460'", "0", "", "''", "' '", "+5", "-1", "abc", "0x10",
                                                 "70000", "4294967296"])),
    st.builds(lambda lines: "match:" + ("".join("\n  " + line for line in lines) if lines else " {}"), MATCH),
    st.just("match:"),
    st.builds("dhcp4-overrides:\n  use-mtu: {}".format, BOOLEANS),
    st.just("dhcp4-overrides:"),
    st.builds("addresses: [{}]".format, st.sampled_from(["10.0.0.2/24", "", "'10.0.0.3/32'", "\n  10.0.0.2/24\n",
                                                         "10.0.0.2/24,\n'10.0.0.3/32'"])),
    # flow collections over several lines, the continuation indented less than the key or more
    st.builds("match: {{name: eth0,\n{}macaddress: 42:01:0a:80:00:02}}".format, st.sampled_from(["", "  ", "        "])),
    st.builds("dhcp4-overrides: {{\n  use-mtu: {}\n  }}".format, BOOLEANS),
    st.builds("optional: {}".format, BOOLEANS),
    st.builds("set-name: {}".format, st.sampled_from(["eth0", "lan0"])),
    st.builds("renderer: {}".format, st.sampled_from(["networkd", "NetworkManager"])),
    # keys no netplan knows, at each level, and their right spelling
    st.sampled_from(["dhcp-4: true", "gateway: 10.0.0.1", "bogus: ~", "nameserver: {addresses: [8.8.8.8]}",
                     "nameservers: {addresses: [8.8.8.8]}", "nameservers: {address: [8.8.8.8]}", "nameservers:",
                     "routes: [{to: default, via: 10.0.0.1}]", "routes: [{to: default, gw: 10.0.0.1}]", "routes: []",
                     "routes: 5", "dhcp6-overrides: {use-mtu: false}", "dhcp6-overrides: {use-mt: false}",
                     "dhcp4-overrides: {use-mtus: false}", "match: {name: eth0, mac: 42:01:0a:80:00:02}",
                     "wakeonlan: false", "7: x"]))
DEFINITION = st.lists(KEY, max_size=4, unique_by=lambda line: line.split(":")[0])
ETHERNETS = st.dictionaries(st.sampled_from(["eth0", "ens4", "id0", "nic"]), DEFINITION, max_size=2)
DOCUMENT = st.tuples(st.sampled_from([None, "2", "2", "'2'", "1", "x", "2x", "~"]),
                     st.sampled_from([None, "networkd", "NetworkManager"]),
                     st.sampled_from(["block", "block", "block", "flow", "null"]), ETHERNETS,
                     st.sampled_from([None, None, "ethernet: {}", "vlans: {}", "bogus: 1"]))
FILE_NAMES = st.sampled_from(["10-a.yaml", "50-cloud-init.yaml", "90-z.yaml"])
FILES = st.dictionaries(st.tuples(st.sampled_from(DIRS), FILE_NAMES), DOCUMENT, min_size=1, max_size=3)


@pytest.fixture(scope="module")
def generate():
    with unpacked(*PACKAGES) as (where, env):
        yield [os.path.join(where, "usr/libexec/netplan/generate")], env


def document(version, renderer, style, ethernets, other):
    lines = ["network:"] + (["  version: " + version] if version else []) + (["  renderer: " + renderer] if renderer else [])
    lines.extend(["  " + other] if other else [])
    if style == "null":
        lines.append("  ethernets:")
    elif style == "flow" and not ethernets:
        lines.append("  ethernets: {}")
    else:
        lines.append("  ethernets:")
        for ident, keys in sorted(ethernets.items()):
            lines.append("    %s:%s" % (ident, "" if keys else " {}"))
            lines.extend("      " + line for key in keys for line in key.split("\n"))
    return "\n".join(lines) + "\n"


def rendered(root):
    """``({id: (name, mac, dhcp4, mtu, use_mtu)}, NetworkManager)`` from what netplan wrote."""
    found = {}
    for path in glob.glob(os.path.join(root, "run/systemd/network/10-netplan-*.network")):
        section, values = None, {}
        with open(path) as handle:
            for line in handle:
                line = line.strip()
                if line.startswith("["):
                    section = line[1:-1]
                elif "=" in line:
                    key, value = line.split("=", 1)
                    values[(section, key)] = value
        dhcp4 = values.get(("Network", "DHCP"), "no") in ("ipv4", "yes")
        mtu = values.get(("Link", "MTUBytes"))
        found[os.path.basename(path)[len("10-netplan-"):-len(".network")]] = (
            values.get(("Match", "Name")), values.get(("Match", "PermanentMACAddress")), dhcp4,
            int(mtu) if mtu else None, values.get(("DHCP", "UseMTU"), "true") == "true" if dhcp4 else None)
    return found, os.path.exists(os.path.join(root, "run/NetworkManager/conf.d/10-globally-managed-devices.conf"))


def read(root):
    configs, renderer = netconf.read_netplan(Target(root))
    found = {}
    for config in configs:
        ident = config.where.rsplit("(ethernets.", 1)[1][:-1]
        found[ident] = (" ".join(config.names) if config.names else None, config.mac, config.dhcp4, config.mtu,
                        config.use_mtu if config.dhcp4 else None)
    return found, renderer == "NetworkManager"


@given(files=FILES)
def test_netplan_reads_the_files_as_netplan_generate_renders_them(generate, files):
    command, env = generate
    root = tempfile.mkdtemp()
    try:
        for (directory, name), parts in files.items():
            os.makedirs(os.path.join(root, directory), exist_ok=True)
            path = os.path.join(root, directory, name)
            with open(path, "w") as handle:
                handle.write(document(*parts))
            os.chmod(path, 0o600)
        result = subprocess.run(command + ["--root-dir", root], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, universal_newlines=True, timeout=60, check=False)
        try:
            ours = read(root)
        except ConfigError as exc:
            ours = ("refused", str(exc))
        if result.returncode != 0:
            assert ours[0] == "refused", (result.stderr, ours)
            return
        assert ours[0] != "refused", (ours, result.stderr)
        real = rendered(root)
        assert ours[1] == real[1], (ours, real)
        if not real[1]:   # with NetworkManager, no .network files to compare
            assert ours == real, result.stderr
    finally:
        shutil.rmtree(root)
