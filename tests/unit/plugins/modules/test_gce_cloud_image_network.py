"""GCE-NET-* on the network layouts of standard cloud images, whose per-NIC
configuration is generated at boot rather than kept in the image:

* Ubuntu with cloud-init: /etc/netplan/50-cloud-init.yaml matches the build
  machine's NIC on its MAC address, and cloud-init renders the file anew, with
  the new instance's MAC address, on the first boot of each instance;
* Debian 11 cloud images: no stanza for the NIC at all; a udev rule runs
  cloud-ifupdown-helper, which writes one from a template when the NIC
  appears.

The file contents are the real ones, cited where they are defined."""

import os

import pytest
import yaml

from ansible_collections.guestready.gce.plugins.module_utils import netconf
from ansible_collections.guestready.gce.plugins.module_utils.configfiles import ConfigError
from ansible_collections.guestready.gce.plugins.module_utils.target import Target
from ansible_collections.guestready.gce.plugins.modules import compliance, compliance_info

from test_gce_settings import link, put, read, statuses

NET_IDS = ["GCE-NET-DHCP", "GCE-NET-MTU-DHCP", "GCE-NET-NO-MAC-BINDING"]
NETPLAN = "/etc/netplan/50-cloud-init.yaml"

# Ubuntu 22.04: cloud-init 22.x/23.x renders Compute Engine's fallback configuration
# (cloudinit/net/__init__.py generate_fallback_config: dhcp4, match on the MAC address, set-name)
# with safeyaml.dumps (indent 4, keys sorted) behind the header of cloudinit/distros/debian.py
# NETWORK_FILE_HEADER (canonical/cloud-init 22.2, cloudinit/net/netplan.py _render_content)
UBUNTU_2204_NETPLAN = """\
# This file is generated from information provided by the datasource.  Changes
# to it will not persist across an instance reboot.  To disable cloud-init's
# network configuration capabilities, write a file
# /etc/cloud/cloud.cfg.d/99-disable-network-config.cfg with the following:
# network: {config: disabled}
network:
    ethernets:
        ens4:
            dhcp4: true
            match:
                macaddress: 42:01:0a:80:00:02
            set-name: ens4
    version: 2
"""
# Ubuntu 24.04: cloud-init 24.2 and later write through libnetplan (cloudinit/net/netplan.py
# netplan_api_write_yaml_file, canonical/cloud-init#4981), which drops the header
# (canonical/cloud-init#6188); 24.1 added dhcp6 to the fallback.  As read on a Compute Engine VM.
UBUNTU_2404_NETPLAN = """\
network:
  version: 2
  ethernets:
    ens4:
      match:
        macaddress: "42:01:0a:a0:00:0d"
      dhcp4: true
      dhcp6: true
      set-name: "ens4"
"""
# the top-level part of Ubuntu's /etc/cloud/cloud.cfg (config/cloud.cfg.tmpl rendered for
# ubuntu): its "network:" is system_info's, not the network configuration
UBUNTU_CLOUD_CFG = """\
# The top level settings are used as module
# and base configuration.

# A set of users which may be applied and/or used by various modules
# when a 'default' entry is found it will reference the 'default_user'
# from the distro configuration specified below
users:
  - default

# If this is set, 'root' will not be able to ssh in and they
# will get a message to login instead as the default $user
disable_root: true

# This will cause the set+update hostname module to not operate (if true)
preserve_hostname: false

# If you use datasource_list array, keep array items in a single line.
# If you use multi line array, ds-identify script won't read array items.
cloud_init_modules:
  - seed_random
  - bootcmd
  - write_files

# System and/or distro specific settings
# (not accessible to handlers/transforms)
system_info:
  # This will affect which distro class gets used
  distro: ubuntu
  default_user:
    name: ubuntu
    lock_passwd: True
    gecos: Ubuntu
    groups: [adm, cdrom, dip, lxd, sudo]
    sudo: ["ALL=(ALL) NOPASSWD:ALL"]
    shell: /bin/bash
  network:
    dhcp_client_priority: [dhcpcd, dhclient, udhcpc]
    renderers: ['netplan', 'eni', 'sysconfig']
    activators: ['netplan', 'eni', 'network-manager', 'networkd']
  ntp_client: auto
"""
# written by the package's postinst from debconf's default (ubuntu/noble branch,
# debian/cloud-init.postinst and debian/cloud-init.templates)
UBUNTU_90_DPKG = """\
# to update this file, run dpkg-reconfigure cloud-init
datasource_list: [ NoCloud, ConfigDrive, OpenNebula, DigitalOcean, Azure, AltCloud, VMware, OVF, MAAS, GCE, \
OpenStack, CloudSigma, SmartOS, Bigstep, Scaleway, AliYun, Ec2, CloudStack, Hetzner, IBMCloud, Oracle, Exoscale, \
RbxCloud, UpCloud, Vultr, LXD, NWCS, Akamai, WSL, CloudCIX, None ]
"""

# Debian 11 cloud images: debian-cloud-images, config_space/files/ (mirrored at
# github.com/GoCarrot/debian-cloud-images, commit 0bfa86237cd2): etc/network/interfaces/CLOUD,
# etc/udev/rules.d/75-cloud-ifupdown.rules/CLOUD, etc/network/cloud-interfaces-template/CLOUD
DEBIAN_INTERFACES = """\
# Include files from /etc/network/interfaces.d:
source-directory /etc/network/interfaces.d

# Cloud images dynamically generate config fragments for newly
# attached interfaces. See /etc/udev/rules.d/75-cloud-ifupdown.rules
# and /etc/network/cloud-ifupdown-helper. Dynamically generated
# configuration fragments are stored in /run:
source-directory /run/network/interfaces.d
"""
DEBIAN_RULE = """\
# Handle allow-hotplug interfaces
SUBSYSTEM=="net", ACTION=="add", ENV{INTERFACE}=="eth*|en*", RUN+="/etc/network/cloud-ifupdown-helper"
"""
# the same file's AZURE variant: a match on the Hyper-V driver, never a Compute Engine NIC
DEBIAN_RULE_AZURE = """\
# Handle allow-hotplug interfaces
SUBSYSTEM=="net", ACTION=="add", DRIVERS=="hv_netvsc", RUN+="/etc/network/cloud-ifupdown-helper"
"""
DEBIAN_TEMPLATE = "auto $INTERFACE\nallow-hotplug $INTERFACE\n\niface $INTERFACE inet dhcp\n"
# etc/network/cloud-ifupdown-helper/CLOUD (Noah Meyerhans, GPL-2.0-or-later): the lines the reader
# relies on, not the whole script -- it writes "$template" with the NIC's name into "$cfgdir"
DEBIAN_HELPER = """\
#!/bin/bash
template="/etc/network/cloud-interfaces-template"
cfgdir="/run/network/interfaces.d"
mkdir -p "$cfgdir"
"""
# Debian's dhclient.conf requests the MTU (isc-dhcp-client's debian/dhclient.conf)
DEBIAN_DHCLIENT = """\
request subnet-mask, broadcast-address, time-offset, routers,
\tdomain-name, domain-name-servers, domain-search, host-name,
\tdhcp6.name-servers, dhcp6.domain-search, dhcp6.fqdn, dhcp6.sntp-servers,
\tnetbios-name-servers, netbios-scope, interface-mtu,
\trfc3442-classless-static-routes, ntp-servers;
"""


def enable(root, unit, target, lib="/lib"):
    put(root, "%s/systemd/system/%s" % (lib, unit), "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=%s\n" % target)
    link(root, "/etc/systemd/system/%s.wants/%s" % (target, unit), "%s/systemd/system/%s" % (lib, unit))


def ubuntu_image(root, netplan=UBUNTU_2204_NETPLAN, lib="/lib"):
    root = str(root)
    enable(root, "systemd-networkd.service", "multi-user.target", lib)
    # dh_installsystemd enables it: cloud-init's systemd/cloud-init-local.service.tmpl [Install]
    enable(root, "cloud-init-local.service", "cloud-init.target", lib)
    put(root, NETPLAN, netplan)
    put(root, "/etc/cloud/cloud.cfg", UBUNTU_CLOUD_CFG)
    put(root, "/etc/cloud/cloud.cfg.d/90_dpkg.cfg", UBUNTU_90_DPKG)
    return root


def debian_11_image(root, rule=DEBIAN_RULE, interfaces=DEBIAN_INTERFACES):
    root = str(root)
    enable(root, "networking.service", "multi-user.target")
    put(root, "/etc/network/interfaces", interfaces)
    os.makedirs(os.path.join(root, "etc/network/interfaces.d"))
    put(root, "/etc/network/cloud-interfaces-template", DEBIAN_TEMPLATE)
    put(root, "/etc/network/cloud-ifupdown-helper", DEBIAN_HELPER, 0o755)
    put(root, "/etc/udev/rules.d/75-cloud-ifupdown.rules", rule)
    put(root, "/etc/dhcp/dhclient.conf", DEBIAN_DHCLIENT)
    return root


def check(run_module, root):
    out = run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}})
    return dict((r["id"], r) for r in out["results"] if r["id"] in NET_IDS)


def apply(run_module, root):
    out = run_module(compliance, {"areas": ["gce_settings"], "apply": ["gce_settings"], "gce_settings": {"root": root}})
    assert out["rc"] == 0, out.get("msg")
    return out


# ------------------------------------------------------------------ readers
@pytest.mark.parametrize("text", [UBUNTU_2204_NETPLAN, UBUNTU_2404_NETPLAN])
def test_cloud_init_s_netplan_file_is_known_by_its_path(tmp_path, text):
    put(tmp_path, NETPLAN, text)
    put(tmp_path, "/etc/netplan/01-netcfg.yaml", text.replace("ens4:", "ens5:", 1))
    configs = dict((c.where.rsplit(".", 1)[1].rstrip(")"), c) for c in netconf.read_netplan(Target(str(tmp_path)))[0])
    assert configs["ens4"].generator == "cloud-init" and configs["ens4"].mac.startswith("42:01:0a:")
    # netplan's .network matches the MAC address and the name set-name gives (PermanentMACAddress=, Name=ens4)
    assert configs["ens4"].dhcp4 and configs["ens4"].names == ["ens4"] and not configs["ens4"].covers("ens4")
    assert configs["ens5"].generator is None, "the same content in a file of one's own is one's own"


def test_a_netplan_file_of_one_s_own_over_cloud_init_s_is_not_generated(tmp_path):
    put(tmp_path, NETPLAN, UBUNTU_2404_NETPLAN)
    put(tmp_path, "/etc/netplan/90-static.yaml", "network:\n  ethernets:\n    ens4:\n      addresses: [10.0.0.2/24]\n")
    (config,) = netconf.read_netplan(Target(str(tmp_path)))[0]
    assert config.generator is None and config.static


def test_cloud_init_config_top_level_keys_merged_in_order(tmp_path):
    put(tmp_path, "/etc/cloud/cloud.cfg", UBUNTU_CLOUD_CFG)
    target = Target(str(tmp_path))
    assert netconf.read_cloud_init_config(target) == {}, "system_info's network: is no network configuration"
    put(tmp_path, "/etc/cloud/cloud.cfg.d/90_dpkg.cfg", UBUNTU_90_DPKG)
    put(tmp_path, "/etc/cloud/cloud.cfg.d/50-net.cfg", "network:\n  version: 2\n  ethernets: {}\n")
    put(tmp_path, "/etc/cloud/cloud.cfg.d/99-disable-network-config.cfg", "network: {config: disabled}\n")
    found = netconf.read_cloud_init_config(target)
    assert found["network"] == ({"version": 2, "ethernets": {}, "config": "disabled"},
                                target.display("/etc/cloud/cloud.cfg.d/99-disable-network-config.cfg"))
    assert "GCE" in found["datasource_list"][0] and found["datasource_list"][0][-1] == "None"


@pytest.mark.parametrize("files, network", [
    # read_conf_d(): a hidden name ending in .cfg is read; a directory with such a name is not
    ({"/etc/cloud/cloud.cfg.d/.off.cfg": "network: {config: disabled}\n"}, {"config": "disabled"}),
    ({"/etc/cloud/cloud.cfg.d/50-dir.cfg/x": "network: {config: disabled}\n"}, None),
    # the last file prevails; a null or a list of lower priority changes nothing, a mapping adds keys
    ({"/etc/cloud/cloud.cfg.d/10-a.cfg": "network: null\n", "/etc/cloud/cloud.cfg.d/90-z.cfg": "network: {config: disabled}\n",
      "/etc/cloud/cloud.cfg": "network: {version: 2}\n"}, {"config": "disabled", "version": 2}),
    ({"/etc/cloud/cloud.cfg.d/10-a.cfg": "network: {config: disabled}\n", "/etc/cloud/cloud.cfg.d/90-z.cfg": "network:\n"},
     None),
    # a string of higher priority is replaced by a mapping (cloud-init's str merger)
    ({"/etc/cloud/cloud.cfg.d/10-a.cfg": "network: {config: disabled}\n", "/etc/cloud/cloud.cfg.d/90-z.cfg": "network: x\n"},
     {"config": "disabled"}),
])
def test_cloud_init_config_merged_as_cloud_init_merges_it(tmp_path, files, network):
    """Compared with cloud-init's own read_conf_with_confd() (test_cloud_init_real_cloud_init.py)."""
    for path, text in files.items():
        put(tmp_path, path, text)
    assert netconf.read_cloud_init_config(Target(str(tmp_path))).get("network", (None,))[0] == network


def test_a_flow_collection_left_open_is_no_string(tmp_path):
    """PyYAML (cloud-init) and libyaml (netplan) fail a file with "network: {config: disabled": it is
    named, never read as the string "{config: disabled"."""
    put(tmp_path, "/etc/cloud/cloud.cfg.d/99-off.cfg", "network: {config: disabled\n")
    with pytest.raises(ConfigError, match="99-off.cfg: a flow collection not closed: {config: disabled"):
        netconf.read_cloud_init_config(Target(str(tmp_path)))
    with pytest.raises(ConfigError, match="not closed: {b: c$"):
        netconf.yaml_load("k: [a, {b: c]\n")


@pytest.mark.parametrize("text", [
    "datasource_list: [\n  GCE,\n  None\n]\n", "a:\n  b: [1,\n2]\n  c: 3\n", "a: [1, # x\n 2]\n",
    "- [1,\n 2]\n", "a: {x: 1,\n y: [2,\n 3]}\n", "a: [1,\n\n 2]\nb: 3\n", "a:\n- {config:\n   disabled}\n",
    "a: [1\n , 2]\n", "- k: [1,\n   2]\n  j: 3\n", 'k: {"a:b": c}\n', 'k: {"a":b}\n', "k: [http://x, a:b]\n",
    "k: {a: x:y, b: c :d}\n", "k: {a: {b: c}, d: [e, f]}\n"])
def test_a_flow_collection_over_several_lines_is_read_as_pyyaml_reads_it(text):
    assert netconf.yaml_load(text) == yaml.safe_load(text)


@pytest.mark.parametrize("text, error", [
    ("a: [1,\n---\n 2]\n", "a document marker inside a flow collection"),
    ("a: [1,\n 'x\n y']\n", "a quoted scalar over several lines"), ("a: [1,\n 2\n", "a flow collection not closed"),
    ("k: {a: b: c}\n", "a flow mapping entry with two values"), ("k: {a: b:}\n", "two values"),
    ("k: [a: b]\n", "a mapping inside a flow sequence"), ("k: [fe80::]\n", "a mapping inside a flow sequence")])
def test_a_flow_collection_yaml_refuses_or_reads_otherwise_is_named(text, error):
    with pytest.raises(ConfigError, match=error):
        netconf.yaml_load(text)


def test_debian_cloud_ifupdown_rule_is_read_as_the_stanza_it_writes(tmp_path):
    root = debian_11_image(tmp_path)
    configs = netconf.read_all(Target(root))[0]["ifupdown"]
    assert len(configs) == 1
    (config,) = configs
    assert config.generator == "cloud-ifupdown-helper" and config.names == ["eth*", "en*"]
    assert config.dhcp4 and not config.static and config.covers("ens4") and config.covers("eth0")
    assert "75-cloud-ifupdown.rules:2" in config.where and "cloud-interfaces-template:4" in config.where


def test_a_case_insensitive_udev_match_is_read_as_udevd_matches_it(tmp_path):
    """udevd matches an i"..." value ignoring case: SUBSYSTEM==i"NET" is the net subsystem and
    ENV{INTERFACE}==i"ETH*" names eth0 (the rule was taken for one on something else)."""
    root = debian_11_image(tmp_path)
    put(root, "/etc/udev/rules.d/75-cloud-ifupdown.rules",
        'SUBSYSTEM==i"NET", ACTION=="add", ENV{INTERFACE}==i"ETH*|En*", RUN+="/etc/network/cloud-ifupdown-helper"\n')
    (config,) = netconf.read_all(Target(root))[0]["ifupdown"]
    assert config.generator == "cloud-ifupdown-helper" and config.names == ["eth*", "en*"]
    assert config.covers("ens4")


@pytest.mark.parametrize("change", [
    lambda root: put(root, "/etc/udev/rules.d/75-cloud-ifupdown.rules", DEBIAN_RULE_AZURE),
    lambda root: os.remove(os.path.join(root, "etc/network/cloud-ifupdown-helper")),
    lambda root: os.remove(os.path.join(root, "etc/network/cloud-interfaces-template")),
    lambda root: put(root, "/etc/network/interfaces", DEBIAN_INTERFACES.replace("source-directory /run", "# /run")),
    lambda root: os.remove(os.path.join(root, "etc/udev/rules.d/75-cloud-ifupdown.rules")),
], ids=["azure-rule", "no-helper", "no-template", "run-not-sourced", "no-rule"])
def test_debian_cloud_ifupdown_needs_the_rule_the_helper_the_template_and_the_source(tmp_path, change):
    root = debian_11_image(tmp_path)
    change(root)
    assert netconf.read_all(Target(root))[0]["ifupdown"] == []


def test_debian_cloud_ifupdown_sourced_with_a_glob(tmp_path):
    root = debian_11_image(tmp_path, interfaces="source /etc/network/interfaces.d/*\nauto lo\niface lo inet loopback\n"
                           "source /run/network/interfaces.d/*\n")
    (config,) = netconf.read_all(Target(root))[0]["ifupdown"]
    assert config.generator == "cloud-ifupdown-helper"


# ------------------------------------------------------------------ checks
@pytest.mark.parametrize("netplan,lib", [(UBUNTU_2204_NETPLAN, "/lib"), (UBUNTU_2404_NETPLAN, "/usr/lib")],
                         ids=["22.04", "24.04"])
def test_ubuntu_cloud_init_netplan_passes_and_apply_leaves_it(tmp_path, run_module, netplan, lib):
    root = ubuntu_image(tmp_path / "image", netplan, lib)
    found = check(run_module, root)
    assert dict((i, r["status"]) for i, r in found.items()) == dict.fromkeys(NET_IDS, "pass"), found
    for rid in ("GCE-NET-DHCP", "GCE-NET-NO-MAC-BINDING"):
        assert "50-cloud-init.yaml (ethernets.ens4)" in found[rid]["message"]
        assert "cloud-init (cloud-init-local.service enabled" in found[rid]["message"]
        assert "new instance's MAC address" in found[rid]["message"]
    assert found["GCE-NET-DHCP"]["evidence"]["applies"]["generator"] == "cloud-init"
    first = apply(run_module, root)
    assert read(root, NETPLAN) == netplan, "cloud-init's file is cloud-init's"
    assert not os.path.exists(os.path.join(root, "etc/systemd/network")), "nothing written beside it"
    assert not [r for r in first["results"] if r["id"] in NET_IDS and (r["changed"] or r["status"] != "pass")]
    again = apply(run_module, root)
    assert again["changed"] is False and statuses(again) == statuses(first)


@pytest.mark.parametrize("change,why", [
    (lambda root: os.remove(os.path.join(root, "etc/systemd/system/cloud-init.target.wants/cloud-init-local.service")),
     "cloud-init-local.service is disabled"),
    (lambda root: put(root, "/etc/cloud/cloud-init.disabled", ""), "cloud-init.disabled exists"),
    (lambda root: put(root, "/etc/cloud/cloud.cfg.d/99-disable-network-config.cfg", "network: {config: disabled}\n"),
     "99-disable-network-config.cfg disables its network configuration"),
    (lambda root: put(root, "/etc/cloud/cloud.cfg.d/50-static.cfg",
                      "network:\n  version: 2\n  ethernets:\n    ens4:\n      addresses: [10.0.0.2/24]\n"),
     "50-static.cfg gives it a network configuration of its own"),
    (lambda root: put(root, "/etc/cloud/cloud.cfg.d/90_dpkg.cfg", "datasource_list: [ NoCloud, None ]\n"),
     "datasource_list in"),
    (lambda root: os.remove(os.path.join(root, "etc/cloud/cloud.cfg")), "cloud-init is not installed"),
    # the command line the next boot gives the kernel: a boot entry's, or kernel-install's without a menu
    # (systemd-boot shows an entry only when its kernel is on the entry's partition)
    (lambda root: (put(root, "/boot/loader/entries/ubuntu.conf", "title Ubuntu\nlinux /vmlinuz\n"
                       "options root=UUID=1 ro network-config=disabled\n"), put(root, "/boot/vmlinuz", "kernel")),
     "network-config=disabled on the kernel command line"),
    (lambda root: put(root, "/etc/kernel/cmdline", "root=UUID=1 ro cloud-init=disabled\n"),
     "cloud-init=disabled on the kernel command line"),
], ids=["unit-disabled", "cloud-init-disabled", "network-disabled", "own-network-config", "no-gce-datasource",
        "not-installed", "network-config-disabled-in-entry", "cloud-init-disabled-in-kernel-cmdline"])
def test_cloud_init_s_file_is_judged_as_it_is_when_cloud_init_will_not_render_it(tmp_path, run_module, change, why):
    root = ubuntu_image(tmp_path / "image")
    change(root)
    found = check(run_module, root)
    assert found["GCE-NET-DHCP"]["status"] == "fail" and why in found["GCE-NET-DHCP"]["message"]
    assert found["GCE-NET-NO-MAC-BINDING"]["status"] == "fail" and why in found["GCE-NET-NO-MAC-BINDING"]["message"]
    assert "42:01:0a:80:00:02" in found["GCE-NET-NO-MAC-BINDING"]["message"]
    apply(run_module, root)
    assert read(root, NETPLAN) == UBUNTU_2204_NETPLAN, "cloud-init's file is never rewritten"
    assert "DHCP=ipv4" in read(root, "/etc/systemd/network/80-guestready-gce.network")


def test_a_netplan_file_of_one_s_own_bound_to_a_mac_fails_beside_cloud_init_s(tmp_path, run_module):
    root = ubuntu_image(tmp_path / "image")
    put(root, "/etc/netplan/60-extra.yaml", "network:\n  ethernets:\n    data:\n      match:\n"
        "        macaddress: 42:01:0a:80:00:09\n      set-name: ens5\n      dhcp4: true\n")
    found = check(run_module, root)
    assert found["GCE-NET-DHCP"]["status"] == "pass"
    assert found["GCE-NET-NO-MAC-BINDING"]["status"] == "fail"
    extra = os.path.join(root, "etc/netplan/60-extra.yaml")
    assert found["GCE-NET-NO-MAC-BINDING"]["actual"] == [extra + " (ethernets.data)"]


# what netplan's generator writes at each boot for cloud-init's set-name on a match by MAC address
# (netplan src/networkd.c write_link_file())
NETPLAN_LINK = "[Match]\nPermanentMACAddress=42:01:0a:80:00:02\n\n[Link]\nName=ens4\nWakeOnLan=off\n"


def test_netplan_s_generated_link_file_is_judged_by_its_netplan_file(tmp_path, run_module):
    """/run/systemd/network/10-netplan-<id>.link comes from the netplan file, judged already (here
    cloud-init's, rendered anew on each instance): it is named, not failed; a .link file of one's
    own renaming the NIC by its MAC address fails."""
    root = ubuntu_image(tmp_path / "image")
    put(root, "/run/systemd/network/10-netplan-ens4.link", NETPLAN_LINK)
    found = check(run_module, root)["GCE-NET-NO-MAC-BINDING"]
    assert found["status"] == "pass", found
    assert "netplan generates %s/run/systemd/network/10-netplan-ens4.link at each boot" % root in found["message"]
    put(root, "/etc/systemd/network/10-ens4.link", NETPLAN_LINK)
    found = check(run_module, root)["GCE-NET-NO-MAC-BINDING"]
    assert found["status"] == "fail" and found["actual"] == ["%s/etc/systemd/network/10-ens4.link" % root], found
    assert "(PermanentMACAddress=42:01:0a:80:00:02, Name=ens4)" in found["message"]


@pytest.mark.parametrize("generated, text", [
    ("/run/systemd/network/10-netplan-ens4.network",
     "[Match]\nPermanentMACAddress=42:01:0a:80:00:02\nName=ens4\n\n[Network]\nDHCP=ipv4\n"),
    ("/run/NetworkManager/system-connections/netplan-ens4.nmconnection",
     "[connection]\nid=netplan-ens4\ntype=ethernet\ninterface-name=ens4\n\n[ethernet]\nmac-address=42:01:0a:80:00:02\n"
     "\n[ipv4]\nmethod=auto\n"),
], ids=["networkd", "NetworkManager"])
def test_the_network_files_netplan_generates_are_judged_by_their_netplan_file(tmp_path, run_module, generated, text):
    """A live Ubuntu VM: netplan writes networkd's (or NetworkManager's) file for cloud-init's interface
    at each boot, keeping its match on the MAC address; cloud-init's file is judged (rendered anew on
    each instance), the generated one named, not failed.  The same file of one's own in /etc fails."""
    root = ubuntu_image(tmp_path / "image")
    put(root, generated, text)
    os.chmod(os.path.join(root, generated.lstrip("/")), 0o600)   # NetworkManager reads no other mode
    found = check(run_module, root)["GCE-NET-NO-MAC-BINDING"]
    assert found["status"] == "pass", found
    assert "netplan generates %s%s at each boot" % (root, generated) in found["message"], found
    own = generated.replace("/run/", "/etc/").replace("netplan-", "")
    put(root, own, text)
    os.chmod(os.path.join(root, own.lstrip("/")), 0o600)
    found = check(run_module, root)["GCE-NET-NO-MAC-BINDING"]
    assert found["status"] == "fail" and root + own in found["actual"][0], found


def test_debian_11_cloud_image_passes_and_apply_writes_nothing_for_it(tmp_path, run_module):
    root = debian_11_image(tmp_path / "image")
    found = check(run_module, root)
    assert dict((i, r["status"]) for i, r in found.items()) == dict.fromkeys(NET_IDS, "pass"), found
    assert "75-cloud-ifupdown.rules:2 (cloud-ifupdown-helper writes" in found["GCE-NET-DHCP"]["message"]
    assert found["GCE-NET-MTU-DHCP"]["evidence"]["dhclient_requests_mtu"] is True
    first = apply(run_module, root)
    assert not os.path.exists(os.path.join(root, "etc/systemd/network"))
    assert read(root, "/etc/network/interfaces") == DEBIAN_INTERFACES
    assert apply(run_module, root)["changed"] is False and statuses(first)["GCE-NET-DHCP"] == "pass"


def test_debian_11_a_stanza_of_one_s_own_comes_before_the_helper_s(tmp_path, run_module):
    # the helper skips a NIC ifupdown already knows (ifup --no-act)
    root = debian_11_image(tmp_path / "image")
    put(root, "/etc/network/interfaces.d/ens4", "auto ens4\niface ens4 inet static\n  address 10.0.0.2/24\n")
    found = check(run_module, root)
    assert found["GCE-NET-DHCP"]["status"] == "fail" and "interfaces.d/ens4:2" in found["GCE-NET-DHCP"]["message"]


# Debian 12 cloud images need neither: systemd-networkd with netplan's /etc/netplan/90-default.yaml,
# matched on names (the file Google's guest agent restores on Debian 12: GoogleCloudPlatform/guest-agent,
# google_guest_agent/network/manager, debian12NetplanConfig)
DEBIAN_12_NETPLAN = """\
network:
    version: 2
    ethernets:
        all-en:
            match:
                name: en*
            dhcp4: true
            dhcp4-overrides:
                use-domains: true
            dhcp6: true
            dhcp6-overrides:
                use-domains: true
        all-eth:
            match:
                name: eth*
            dhcp4: true
            dhcp4-overrides:
                use-domains: true
            dhcp6: true
            dhcp6-overrides:
                use-domains: true
"""


def test_debian_12_cloud_image_matches_on_names(tmp_path, run_module):
    root = str(tmp_path / "image")
    enable(root, "systemd-networkd.service", "multi-user.target")
    put(root, "/etc/netplan/90-default.yaml", DEBIAN_12_NETPLAN)
    found = check(run_module, root)
    assert dict((i, r["status"]) for i, r in found.items()) == dict.fromkeys(NET_IDS, "pass"), found
    assert "90-default.yaml (ethernets.all-en)" in found["GCE-NET-DHCP"]["message"]


# cloud-init's other renderers (canonical/cloud-init, cloudinit/net/): sysconfig.py _make_header()
# for ifcfg-*, network_manager.py dump() and its [user] origin for keyfiles, networkd.py's header,
# and eni.py for Debian's interfaces.d/50-cloud-init (RHEL-family and SUSE cloud images, Debian
# with ifupdown).  Each is rendered anew, with the new instance's MAC address, like the netplan file.
RHEL_IFCFG = """\
# Created by cloud-init automatically, do not edit.
#
AUTOCONNECT_PRIORITY=120
BOOTPROTO=dhcp
DEVICE=eth0
HWADDR=42:01:0a:80:00:02
ONBOOT=yes
TYPE=Ethernet
USERCTL=no
"""
NM_KEYFILE = """\
# Generated by cloud-init. Changes will be lost.

[connection]
id=cloud-init eth0
uuid=1dd9a779-d327-56e1-8454-c65e2556c12c
autoconnect-priority=120
type=ethernet

[user]
org.freedesktop.NetworkManager.origin=cloud-init

[ethernet]
mac-address=42:01:0A:80:00:02

[ipv4]
method=auto
may-fail=false
"""
NETWORKD_FILE = """\
# Generated by cloud-init. Changes will be lost.
[Match]
MACAddress=42:01:0a:80:00:02
Name=eth0

[Network]
DHCP=ipv4
"""
ENI_FILE = """\
# This file is generated from information provided by the datasource.  Changes
# to it will not persist across an instance reboot.  To disable cloud-init's
# network configuration capabilities, write a file
# /etc/cloud/cloud.cfg.d/99-disable-network-config.cfg with the following:
# network: {config: disabled}
auto lo
iface lo inet loopback

auto eth0
iface eth0 inet dhcp
    hwaddress ether 42:01:0a:80:00:02
"""


def test_cloud_init_s_other_renderers_are_known_by_their_headers(tmp_path):
    put(tmp_path, "/etc/sysconfig/network-scripts/ifcfg-eth0", RHEL_IFCFG)
    put(tmp_path, "/etc/sysconfig/network-scripts/ifcfg-eth1", RHEL_IFCFG.split("#\n", 1)[1].replace("eth0", "eth1"))
    put(tmp_path, "/etc/NetworkManager/system-connections/cloud-init-eth0.nmconnection", NM_KEYFILE, 0o600)
    put(tmp_path, "/etc/systemd/network/10-cloud-init-eth0.network", NETWORKD_FILE)
    put(tmp_path, "/etc/network/interfaces", "source /etc/network/interfaces.d/*\n")
    put(tmp_path, "/etc/network/interfaces.d/50-cloud-init", ENI_FILE)
    configs, dummy = netconf.read_all(Target(str(tmp_path)))
    generators = dict((c.where.rsplit("/", 1)[1], c.generator) for source in configs.values() for c in source)
    assert generators == {"ifcfg-eth0": "cloud-init", "ifcfg-eth1": None, "cloud-init-eth0.nmconnection": "cloud-init",
                          "10-cloud-init-eth0.network": "cloud-init", "50-cloud-init:10": "cloud-init"}, generators


def rhel_image(root):
    root = str(root)
    enable(root, "NetworkManager.service", "multi-user.target", "/usr/lib")
    enable(root, "cloud-init-local.service", "cloud-init.target", "/usr/lib")
    put(root, "/etc/sysconfig/network-scripts/ifcfg-eth0", RHEL_IFCFG)
    put(root, "/etc/cloud/cloud.cfg", UBUNTU_CLOUD_CFG.replace("ubuntu", "rhel"))
    return root


def test_rhel_cloud_init_ifcfg_passes_and_apply_leaves_it(tmp_path, run_module):
    root = rhel_image(tmp_path / "image")
    found = check(run_module, root)
    assert found["GCE-NET-DHCP"]["status"] == "pass", found["GCE-NET-DHCP"]
    assert found["GCE-NET-NO-MAC-BINDING"]["status"] == "pass", found["GCE-NET-NO-MAC-BINDING"]
    assert "ifcfg-eth0" in found["GCE-NET-NO-MAC-BINDING"]["message"]
    assert "new instance's MAC address" in found["GCE-NET-NO-MAC-BINDING"]["message"]
    apply(run_module, root)
    assert read(root, "/etc/sysconfig/network-scripts/ifcfg-eth0") == RHEL_IFCFG, "cloud-init's file is cloud-init's"
    put(root, "/etc/cloud/cloud-init.disabled", "")
    found = check(run_module, root)
    assert found["GCE-NET-NO-MAC-BINDING"]["status"] == "fail"
    assert "cloud-init will not render its" in found["GCE-NET-NO-MAC-BINDING"]["message"]
    assert "ifcfg-eth0" in found["GCE-NET-NO-MAC-BINDING"]["message"]


@pytest.mark.parametrize("path, how, status", [
    ("/etc/systemd/network/99-default.link", "link", "pass"),
    ("/etc/systemd/network/99-default.link", "empty", "pass"),
    ("/etc/udev/rules.d/80-net-setup-link.rules", "link", "pass"),
    ("/etc/systemd/network/99-default.link", "policy", "fail"),   # a file of its own: names stay predictable
    (None, None, "fail"),
])
def test_a_masked_naming_policy_keeps_the_kernel_s_eth0(tmp_path, run_module, path, how, status):
    """Masking the default naming policy (systemd.link(5); systemd's PREDICTABLE_INTERFACE_NAMES)
    keeps the kernel's names, as net.ifnames=0 does: the NIC is eth0."""
    root = str(tmp_path / "image")
    enable(root, "systemd-networkd.service", "multi-user.target")
    put(root, "/etc/systemd/network/20-eth0.network", "[Match]\nName=eth0\n[Network]\nDHCP=ipv4\n[DHCPv4]\nUseMTU=true\n")
    if how == "link":
        link(root, path, "/dev/null")
    elif how == "empty":
        put(root, path, "")
    elif how == "policy":
        put(root, path, "[Match]\nOriginalName=*\n[Link]\nNamePolicy=keep kernel database onboard slot path\n")
    found = check(run_module, root)
    assert found["GCE-NET-DHCP"]["status"] == status, found["GCE-NET-DHCP"]
    if status == "pass":
        assert "20-eth0.network configures eth0" in found["GCE-NET-DHCP"]["message"]
    else:
        assert "no network configuration covers ens4" in found["GCE-NET-DHCP"]["message"]


@pytest.mark.parametrize("backup", ["ifcfg-eth0.bak", "ifcfg-eth0~", "ifcfg-eth0.orig", "ifcfg-eth0.rpmnew",
                                    "ifcfg-eth0;5f2a9c01"])
def test_an_ifcfg_backup_networkmanager_ignores_configures_nothing(tmp_path, run_module, backup):
    """NetworkManager's ifcfg-rh plugin skips backups (utils_should_ignore_file()): the old
    static, MAC-bound copy of an admin's edit is not the NIC's configuration."""
    root = str(tmp_path / "image")
    enable(root, "NetworkManager.service", "multi-user.target", "/usr/lib")
    put(root, "/etc/sysconfig/network-scripts/ifcfg-eth0", "DEVICE=eth0\nBOOTPROTO=dhcp\nONBOOT=yes\nTYPE=Ethernet\n")
    put(root, "/etc/sysconfig/network-scripts/" + backup, "DEVICE=eth0\nHWADDR=52:54:00:12:34:56\nBOOTPROTO=none\n"
        "IPADDR=192.168.122.10\nPREFIX=24\nMTU=1500\nONBOOT=yes\n")
    found = check(run_module, root)
    for rid in ("GCE-NET-DHCP", "GCE-NET-MTU-DHCP", "GCE-NET-NO-MAC-BINDING"):
        assert found[rid]["status"] == "pass", found[rid]
    assert backup not in found["GCE-NET-NO-MAC-BINDING"]["message"]
    # without the real file, NetworkManager's automatic wired connection configures the NIC
    os.unlink(os.path.join(root, "etc/sysconfig/network-scripts/ifcfg-eth0"))
    found = check(run_module, root)
    assert found["GCE-NET-DHCP"]["status"] == "pass", found["GCE-NET-DHCP"]
    assert "automatic wired connection" in found["GCE-NET-DHCP"]["message"]


@pytest.mark.parametrize("name, text, status", [
    ("ifcfg-eth0", "DEVICE=eth0\nBOOTPROTO=dhcp\nONBOOT=yes\nTYPE=Ethernet\n", "pass"),
    ("ifcfg-eth0", "DEVICE=eth0\nBOOTPROTO=dhcp\nTYPE=Ethernet\n", "pass"),   # ONBOOT defaults to yes
    # anaconda's profile when "Connect automatically" was left off: NetworkManager never activates it
    ("ifcfg-eth0", "DEVICE=eth0\nBOOTPROTO=dhcp\nONBOOT=no\nTYPE=Ethernet\n", "fail"),
    ("ifcfg-eth0", 'DEVICE=eth0\nBOOTPROTO=dhcp\nONBOOT="no"\nTYPE=Ethernet\n', "fail"),
    ("eth0.nmconnection", "[connection]\nid=eth0\ntype=ethernet\ninterface-name=eth0\n[ipv4]\nmethod=auto\n", "pass"),
    ("eth0.nmconnection", "[connection]\nid=eth0\ntype=ethernet\ninterface-name=eth0\nautoconnect=false\n"
     "[ipv4]\nmethod=auto\n", "fail"),
    # a legacy keyfile name (no suffix) in /etc: NetworkManager reads it
    ("Wired connection 1", "[connection]\nid=eth0\ntype=ethernet\ninterface-name=eth0\nautoconnect=false\n"
     "[ipv4]\nmethod=auto\n", "fail"),
])
def test_a_networkmanager_profile_not_activated_at_boot_configures_nothing(tmp_path, run_module, name, text, status):
    """ONBOOT=no (ifcfg-rh) and autoconnect=false (keyfile) profiles are not activated at boot, and
    NetworkManager makes no automatic connection for a device one of its profiles fits."""
    root = str(tmp_path / "image")
    enable(root, "NetworkManager.service", "multi-user.target", "/usr/lib")
    put(root, "/etc/default/grub", 'GRUB_CMDLINE_LINUX="console=ttyS0,38400n8 net.ifnames=0"\n')
    directory = "/etc/sysconfig/network-scripts/" if name.startswith("ifcfg-") else "/etc/NetworkManager/system-connections/"
    put(root, directory + name, text, 0o600)
    found = check(run_module, root)["GCE-NET-DHCP"]
    assert found["status"] == status, found
    if status == "fail":
        assert "not activated at boot" in found["message"]


@pytest.mark.parametrize("main, dropin, status", [
    ("", "allow-hotplug ens4\niface ens4 inet dhcp\n", "pass"),
    ("", "auto ens4\niface ens4 inet dhcp\n", "pass"),
    ("auto lo ens4\n", "iface ens4 inet dhcp\n", "pass"),   # the auto line may be in another file
    # ifup -a takes the auto interfaces, udev the allow-hotplug ones: without either ens4 stays down
    ("", "iface ens4 inet dhcp\n", "fail"),
    ("", "allow-ovs ens4\niface ens4 inet dhcp\n", "fail"),
])
def test_an_ifupdown_stanza_nothing_brings_up_configures_nothing(tmp_path, run_module, main, dropin, status):
    root = str(tmp_path / "image")
    enable(root, "networking.service", "multi-user.target")
    put(root, "/etc/network/interfaces", "source /etc/network/interfaces.d/*\n" + main + "iface lo inet loopback\n")
    put(root, "/etc/network/interfaces.d/ens4", dropin)
    found = check(run_module, root)["GCE-NET-DHCP"]
    assert found["status"] == status, found
    if status == "fail":
        assert "not brought up at boot" in found["message"]


@pytest.mark.parametrize("dropin, dhcp, mtu, said", [
    # ifupdown's dhcp method runs no command with mtu: DHCP's MTU stays (dhclient requests it)
    ("iface ens4 inet dhcp\n  mtu 1500\n", "pass", "pass", "takes the MTU from DHCP"),
    # an inet6 static stanza raises the link's MTU over DHCP's
    ("iface ens4 inet dhcp\niface ens4 inet6 static\n  address fd00::2/64\n  mtu 1500\n", "pass", "fail",
     "fixes the MTU at 1500"),
    # ifup fails ens4 at a stanza without its method's address: the dhcp stanza after it never runs
    ("iface ens4 inet6 static\n  mtu 1500\niface ens4 inet dhcp\n", "fail", "pass",
     "its inet6 static stanza has no address"),
    # the two hwaddress lines make one command of two lines: the shell fails it before dhclient
    ("iface ens4 inet dhcp\n  hwaddress 42:01:0a:00:00:02\n  hwaddress 42:01:0a:00:00:03\n", "fail", "pass",
     "ifupdown joins its two hwaddress lines into one command"),
])
def test_ifupdown_stanzas_are_judged_by_what_ifup_runs(tmp_path, run_module, dropin, dhcp, mtu, said):
    root = str(tmp_path / "image")
    enable(root, "networking.service", "multi-user.target")
    put(root, "/etc/network/interfaces", "source /etc/network/interfaces.d/*\nauto lo ens4\niface lo inet loopback\n")
    put(root, "/etc/network/interfaces.d/ens4", dropin)
    found = check(run_module, root)
    assert (found["GCE-NET-DHCP"]["status"], found["GCE-NET-MTU-DHCP"]["status"]) == (dhcp, mtu), found
    assert said in found["GCE-NET-DHCP"]["message"] + found["GCE-NET-MTU-DHCP"]["message"], found


def test_an_inet6_stanza_s_hwaddress_binds_the_nic_to_a_mac_address(tmp_path, run_module):
    """ifup sets the link's MAC address from an inet6 static, manual or dhcp stanza's hwaddress too:
    a new instance's NIC would take the build machine's address."""
    root = str(tmp_path / "image")
    enable(root, "networking.service", "multi-user.target")
    put(root, "/etc/network/interfaces", "auto lo ens4\niface lo inet loopback\niface ens4 inet dhcp\n"
        "iface ens4 inet6 dhcp\n  hwaddress ether 42:01:0a:80:00:02\n")
    found = check(run_module, root)["GCE-NET-NO-MAC-BINDING"]
    assert found["status"] == "fail" and "(42:01:0a:80:00:02)" in found["message"], found


# NetworkManager's automatic wired connection ("Wired connection 1", DHCP) is made only for a
# managed device NetworkManager.conf(5) does not list in [main] no-auto-default.  RHEL's and
# Fedora's server installs carry NetworkManager-config-server, whose
# /usr/lib/NetworkManager/conf.d/00-server.conf sets no-auto-default=*; Ubuntu's network-manager
# ships /usr/lib/NetworkManager/conf.d/10-globally-managed-devices.conf, which leaves wired
# devices unmanaged unless netplan's NetworkManager renderer writes an empty
# /run/NetworkManager/conf.d/10-globally-managed-devices.conf over it (canonical/netplan,
# src/generate.c).  Anaconda's profile names the build machine's NIC (ens3), not ens4.
NM_SERVER_CONF = """\
# This configuration file changes NetworkManager's behavior to
# what's expected on "traditional UNIX server" type deployments.
[main]
# Do not do automatic (DHCP/SLAAC) configuration on ethernet devices
# with no other matching connections.
no-auto-default=*

# Ignore the carrier (cable plugged in) state when attempting to
# activate static-IP connections.
ignore-carrier=*
"""
ANACONDA_KEYFILE = "[connection]\nid=ens3\ntype=ethernet\ninterface-name=ens3\n\n[ipv4]\nmethod=auto\n"
UBUNTU_GLOBALLY_MANAGED = "[keyfile]\nunmanaged-devices=*,except:type:wifi,except:type:gsm,except:type:cdma\n"


def nm_image(root):
    root = str(root)
    enable(root, "NetworkManager.service", "multi-user.target", "/usr/lib")
    put(root, "/etc/NetworkManager/NetworkManager.conf", "[main]\n#plugins=keyfile,ifcfg-rh\n")
    put(root, "/etc/NetworkManager/system-connections/ens3.nmconnection", ANACONDA_KEYFILE, 0o600)
    return root


@pytest.mark.parametrize("files, status, words", [
    ({}, "pass", "automatic wired connection"),
    ({"/usr/lib/NetworkManager/conf.d/00-server.conf": NM_SERVER_CONF}, "fail", "00-server.conf"),
    # a file of the same name in /etc hides the one in /usr/lib
    ({"/usr/lib/NetworkManager/conf.d/00-server.conf": NM_SERVER_CONF,
      "/etc/NetworkManager/conf.d/00-server.conf": "[main]\n"}, "pass", "automatic wired connection"),
    # a later file takes the key back, or leaves the NIC out
    ({"/usr/lib/NetworkManager/conf.d/00-server.conf": NM_SERVER_CONF,
      "/etc/NetworkManager/conf.d/50-auto.conf": "[main]\nno-auto-default=\n"}, "pass", "automatic wired connection"),
    ({"/etc/NetworkManager/conf.d/50-noauto.conf": "[main]\nno-auto-default=interface-name:ens*\n"}, "fail",
     "50-noauto.conf"),
    ({"/etc/NetworkManager/conf.d/50-noauto.conf": "[main]\nno-auto-default=interface-name:eth0;mac:42:01:0a:80:00:02\n"},
     "pass", "automatic wired connection"),
    ({"/etc/NetworkManager/conf.d/50-noauto.conf": "[main]\nno-auto-default=*,except:interface-name:ens4\n"}, "pass",
     "automatic wired connection"),
    ({"/usr/lib/NetworkManager/conf.d/10-globally-managed-devices.conf": UBUNTU_GLOBALLY_MANAGED}, "fail", "unmanaged"),
    ({"/usr/lib/NetworkManager/conf.d/10-globally-managed-devices.conf": UBUNTU_GLOBALLY_MANAGED,
      "/etc/netplan/01-network-manager-all.yaml": "network:\n  version: 2\n  renderer: NetworkManager\n"},
     "pass", "automatic wired connection"),
    # NetworkManager reads its files with GKeyFile: a ';' line is no comment, a line that is no group,
    # key=value pair or '#' comment fails the file and NetworkManager exits (read_entire_config())
    ({"/etc/NetworkManager/conf.d/50-site.conf": "; ours\n[main]\ndns=none\n"}, "fail",
     "50-site.conf: line 1 is not a [group], key=value pair or '#' comment: not a keyfile GKeyFile can parse, "
     "so NetworkManager does not start"),
    ({"/etc/NetworkManager/NetworkManager.conf": "[main]\nplugins=keyfile\n[logging] # quiet\n"}, "fail",
     "NetworkManager.conf: line 3 is not a [group]"),
    # a ';' within a '#' comment line, and a conf.d file that [.config] enable=false turns off
    ({"/etc/NetworkManager/conf.d/50-noauto.conf": "# ; site\n[main]\nno-auto-default=*\n[.config]\nenable= No\n"},
     "pass", "automatic wired connection"),
    ({"/etc/NetworkManager/conf.d/50-noauto.conf": "[.config]\nenable=nm-version-min:1.20\n[main]\nno-auto-default=*\n"},
     "fail", "50-noauto.conf"),
    # "key+=" adds to a device list only; on another key NetworkManager drops it
    ({"/usr/lib/NetworkManager/conf.d/00-server.conf": "[main]\nno-auto-default=interface-name:eth9\n",
      "/etc/NetworkManager/conf.d/50-more.conf": "[main]\nno-auto-default+=interface-name:ens4\n"}, "fail", "50-more.conf"),
    ({"/etc/NetworkManager/conf.d/50-more.conf": "[main]\nno-auto-default +=interface-name:ens4\n"}, "pass",
     "automatic wired connection"),
    # match_device_eval(): a tag is matched ignoring case, a pattern is g_pattern_match_simple()'s (* and ?,
    # a "[" itself), "~" marks a pattern and keeps case (it was taken as ignoring case, and [e] as a set)
    ({"/etc/NetworkManager/conf.d/50-noauto.conf": "[main]\nno-auto-default=Interface-Name:ens?\n"}, "fail",
     "50-noauto.conf"),
    ({"/etc/NetworkManager/conf.d/50-noauto.conf": "[main]\nno-auto-default=interface-name:[e]ns4\n"}, "pass",
     "automatic wired connection"),
    ({"/etc/NetworkManager/conf.d/50-noauto.conf": "[main]\nno-auto-default=interface-name:~ENS*\n"}, "pass",
     "automatic wired connection"),
    # _get_config_dir_files(): a hidden name ending in .conf is read too (compared with NetworkManager
    # --print-config, test_nmconf_real_networkmanager.py)
    ({"/etc/NetworkManager/conf.d/.noauto.conf": "[main]\nno-auto-default=*\n"}, "fail", ".noauto.conf"),
    # a key given twice in one file is read once, with its last value (GKeyFile)
    ({"/etc/NetworkManager/conf.d/50-more.conf": "[main]\nno-auto-default+=interface-name:ens4\n"
      "no-auto-default+=interface-name:eth9\n"}, "pass", "automatic wired connection"),
    # nm_match_spec_split(): an escaped ',' is part of the spec; blanks after it and at the ends are not
    ({"/etc/NetworkManager/conf.d/50-noauto.conf": "[main]\nno-auto-default=interface-name:eth0\\,ens4\n"}, "pass",
     "automatic wired connection"),
    ({"/etc/NetworkManager/conf.d/50-noauto.conf": "[main]\nno-auto-default=eth0 ;  interface-name:ens4 \n"}, "fail",
     "50-noauto.conf"),
])
def test_networkmanager_s_automatic_connection_only_where_its_configuration_allows_it(
        tmp_path, run_module, files, status, words):
    root = nm_image(tmp_path / "image")
    for path, text in files.items():
        put(root, path, text)
    found = check(run_module, root)
    assert found["GCE-NET-DHCP"]["status"] == status, found["GCE-NET-DHCP"]
    assert words in found["GCE-NET-DHCP"]["message"], found["GCE-NET-DHCP"]["message"]
    assert found["GCE-NET-MTU-DHCP"]["status"] == ("pass" if status == "pass" else "unknown"), found["GCE-NET-MTU-DHCP"]


@pytest.mark.parametrize("files, status", [
    ({}, "pass"),
    # Ubuntu's NetworkManager without netplan's NetworkManager renderer: wired devices unmanaged
    ({"/usr/lib/NetworkManager/conf.d/10-globally-managed-devices.conf": UBUNTU_GLOBALLY_MANAGED}, "fail"),
    ({"/usr/lib/NetworkManager/conf.d/10-globally-managed-devices.conf": UBUNTU_GLOBALLY_MANAGED,
      "/etc/netplan/01-network-manager-all.yaml": "network:\n  version: 2\n  renderer: NetworkManager\n"}, "pass"),
    # no-auto-default is about NetworkManager's own connection, not a profile's
    ({"/usr/lib/NetworkManager/conf.d/00-server.conf": NM_SERVER_CONF}, "pass"),
    # a configuration file NetworkManager cannot parse: it does not start at all
    ({"/usr/lib/NetworkManager/conf.d/20-vendor.conf": "[main]\nthis line has no equals sign\n"}, "fail"),
])
def test_a_profile_on_a_device_networkmanager_leaves_unmanaged_is_never_activated(tmp_path, run_module, files, status):
    root = nm_image(tmp_path / "image")
    put(root, "/etc/NetworkManager/system-connections/ens4.nmconnection", ANACONDA_KEYFILE.replace("ens3", "ens4"), 0o600)
    for path, text in files.items():
        put(root, path, text)
    found = check(run_module, root)["GCE-NET-DHCP"]
    assert found["status"] == status, found
    if status == "fail":
        assert "never activated" in found["message"], found["message"]
        assert ("unmanaged-devices=" if "10-globally" in str(files) else "so NetworkManager does not start") in \
            found["message"], found["message"]


@pytest.mark.parametrize("extra, said", [
    ("supersede interface-mtu 1500;\n", "supersedes the server's interface-mtu with 1500"),
    ("request subnet-mask, broadcast-address, routers, domain-name-servers;\n", "does not request interface-mtu"),
])
def test_debian_dhclient_that_drops_the_server_s_mtu_fails(tmp_path, run_module, extra, said):
    root = debian_11_image(tmp_path / "image")
    put(root, "/etc/dhcp/dhclient.conf", DEBIAN_DHCLIENT + extra)
    found = check(run_module, root)
    assert found["GCE-NET-MTU-DHCP"]["status"] == "fail" and said in found["GCE-NET-MTU-DHCP"]["message"]
    assert found["GCE-NET-DHCP"]["status"] == "pass"


@pytest.mark.parametrize("files, status", [({}, "pass"), ({"/usr/lib/NetworkManager/conf.d/00-server.conf": NM_SERVER_CONF}, "fail")])
def test_a_keyfile_networkmanager_ignores_is_named_with_why(tmp_path, run_module, files, status):
    """nms_keyfile_utils_check_file_permissions(): a 0644 keyfile is skipped, so it configures nothing
    (the verdict stays NetworkManager's automatic connection, or none), but the user is told which
    file and why instead of the keyfile just disappearing."""
    root = nm_image(tmp_path / "image")
    put(root, "/etc/NetworkManager/system-connections/ens4.nmconnection", ANACONDA_KEYFILE.replace("ens3", "ens4"), 0o644)
    for path, text in files.items():
        put(root, path, text)
    found = check(run_module, root)["GCE-NET-DHCP"]
    assert found["status"] == status, found
    assert "; NetworkManager ignores " in found["message"], found["message"]
    assert ("/etc/NetworkManager/system-connections/ens4.nmconnection (mode 0644: a keyfile "
            "group or others may read; chmod 600)") in found["message"], found["message"]
    assert "ens3.nmconnection" not in found["message"]


def test_a_binary_keyfile_is_skipped_and_named_not_the_whole_network_area(tmp_path, run_module):
    """NetworkManager skips a keyfile GKeyFile cannot parse (glib gkeyfile.c: a line that is no group,
    key=value or comment fails that file) and reads the others; the check did not inspect any."""
    root = nm_image(tmp_path / "image")
    put(root, "/etc/NetworkManager/system-connections/ens4.nmconnection", ANACONDA_KEYFILE.replace("ens3", "ens4"), 0o600)
    full = os.path.join(root, "etc/NetworkManager/system-connections/junk.nmconnection")
    with open(full, "wb") as handle:
        handle.write(b"\x7fELF\x02\x01\x01\x00\x00\x00junk\n\x00\x01\x02")
    os.chmod(full, 0o600)
    found = check(run_module, root)["GCE-NET-DHCP"]
    assert found["status"] == "pass", found
    assert "ens4.nmconnection configures ens4 by DHCP" in found["message"], found["message"]
    assert netconf.networkmanager_ignored(Target(root)) == [
        ("/etc/NetworkManager/system-connections/junk.nmconnection",
         "binary data (NUL bytes): line 1 is not a [group], key=value pair or '#' comment: "
         "not a keyfile GKeyFile can parse")]
    os.unlink(os.path.join(root, "etc/NetworkManager/system-connections/ens4.nmconnection"))
    found = check(run_module, root)["GCE-NET-DHCP"]
    assert "; NetworkManager ignores " in found["message"], found["message"]
    assert "system-connections/junk.nmconnection (binary data (NUL bytes)" in found["message"], found["message"]


def test_a_keyfile_with_a_line_gkeyfile_refuses_configures_nothing(tmp_path, run_module):
    """glib gkeyfile.c g_key_file_parse_line(): one line that is no group, key=value pair or '#'
    comment fails the whole keyfile, which NetworkManager then skips: its DHCP for ens4 does not
    count, and the check names the file, the line and why."""
    root = nm_image(tmp_path / "image")
    put(root, "/usr/lib/NetworkManager/conf.d/00-server.conf", NM_SERVER_CONF)
    put(root, "/etc/NetworkManager/system-connections/ens4.nmconnection",
        ANACONDA_KEYFILE.replace("ens3", "ens4").replace("[ipv4]\n", "[ipv4]\nmay-fail false\n"), 0o600)
    found = check(run_module, root)["GCE-NET-DHCP"]
    assert found["status"] == "fail", found
    assert "; NetworkManager ignores " in found["message"], found["message"]
    assert ("system-connections/ens4.nmconnection (line 7 is not a [group], key=value pair or '#' comment: "
            "not a keyfile GKeyFile can parse)") in found["message"], found["message"]


def test_networkmanager_s_automatic_connection_replaces_a_link_file_s_mtu(tmp_path, run_module):
    """A .link file's MTUBytes= sets the MTU when the NIC appears; NetworkManager's automatic wired
    connection then sets the DHCP server's (GCE-NET-MTU-DHCP passes)."""
    root = nm_image(tmp_path / "image")
    put(root, "/etc/systemd/network/10-jumbo.link", "[Match]\nDriver=virtio_net\n[Link]\nMTUBytes=8896\n")
    found = check(run_module, root)["GCE-NET-MTU-DHCP"]
    assert found["status"] == "pass" and "automatic connection" in found["message"], found


def test_a_keyfile_networkmanager_rejects_for_trailing_whitespace_is_named(tmp_path, run_module):
    """``interface-name=ens4 `` keeps its blank (GKeyFile): NetworkManager rejects the profile, which
    then neither configures the NIC nor hides it from the automatic connection (GCE-NET-DHCP)."""
    root = nm_image(tmp_path / "image")
    put(root, "/etc/NetworkManager/system-connections/ens3.nmconnection",
        ANACONDA_KEYFILE.replace("interface-name=ens3", "interface-name=ens4 ").replace("method=auto", "method=manual"), 0o600)
    found = check(run_module, root)["GCE-NET-DHCP"]
    assert found["status"] == "pass" and "automatic wired connection" in found["message"], found
    assert "ens3.nmconnection (connection.interface-name 'ens4 ' holds whitespace" in found["message"], found["message"]


@pytest.mark.parametrize("flag, name", [("net.ifnames=0", "eth0"), ("net.ifnames=no", "eth0"), ("net.ifnames=Off", "eth0"),
                                        ("net.ifnames=0 net.ifnames", "eth0"), ("net.ifnames=1", "ens4"),
                                        ("net.ifnames=nope", "ens4"), ("net.ifnames", "ens4")])
def test_the_kernel_names_are_kept_as_udev_reads_net_ifnames(tmp_path, run_module, flag, name):
    """link-config.c enable_name_policy(): proc_cmdline_get_bool(), the last value given read by
    parse_boolean() (any case); a bare flag after it changes nothing; a value it cannot read keeps
    the naming policy."""
    from test_gce_settings import debian_image
    root = debian_image(tmp_path / "image")
    put(root, "/boot/grub/grub.cfg", "menuentry 'Debian' {\n\tlinux\t/boot/vmlinuz root=UUID=1 ro %s\n}\n" % flag)
    dhcp = check(run_module, root)["GCE-NET-DHCP"]
    assert dhcp["evidence"]["interface"] == name, dhcp["evidence"]
