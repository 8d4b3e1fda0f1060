"""The ethtool interface without touching this host's interfaces.

The request numbers are checked against the kernel's own headers (Debian's
linux-libc-dev installs them in /usr/include/linux), so a wrong constant --
a *set* request instead of a get, say -- fails here instead of being issued.
No test issues a request on this host: the ioctl is a stand-in that plays
the kernel's part."""

import ctypes
import errno
import os
import re
import struct

import pytest

from ansible_collections.guestready.gce.plugins.module_utils import ethtool
import fakesys

HEADERS = "/usr/include/linux"
# include/uapi/linux/ethtool.h (compared with the installed header below)
ETHTOOL_GSTRINGS, ETHTOOL_GSSET_INFO, ETHTOOL_GFEATURES = 0x1B, 0x37, 0x3A
ETH_SS_FEATURES, ETH_GSTRING_LEN = 4, 32
DEFINE = re.compile(r"^#define\s+(\w+)\s+(0x[0-9a-fA-F]+|\d+)\b(.*)$")


@pytest.fixture(autouse=True)
def no_ioctl_on_this_host(monkeypatch):
    """Any request that would reach this host's kernel fails the test."""
    class Refused(object):
        @staticmethod
        def ioctl(*args):
            raise AssertionError("a unit test issued an ioctl on this host: %r" % (args,))
    monkeypatch.setattr(ethtool, "fcntl", Refused)


def header(name):
    """``{macro: (value, comment)}`` of a kernel uapi header, or skip."""
    path = os.path.join(HEADERS, name)
    if not os.path.isfile(path):
        pytest.skip("%s is not installed (Debian: apt-get install linux-libc-dev): the request "
                    "numbers cannot be compared with the kernel's" % path)
    found = {}
    with open(path) as handle:
        for line in handle:
            match = DEFINE.match(line.strip())
            if match:
                found[match.group(1)] = (int(match.group(2), 0), match.group(3))
    return found


def test_request_numbers_are_the_kernels():
    sockios, ethtool_h, if_h = header("sockios.h"), header("ethtool.h"), header("if.h")
    assert ethtool.SIOCETHTOOL == sockios["SIOCETHTOOL"][0]
    assert ethtool.IFNAMSIZ == if_h["IFNAMSIZ"][0]
    for name in ("ETHTOOL_GTXCSUM", "ETHTOOL_GTSO", "ETHTOOL_GGRO"):
        value, comment = ethtool_h[name]
        assert getattr(ethtool, name) == value, name
        # each is a get answered with a struct ethtool_value, as get_request builds it
        assert "Get" in comment and "(ethtool_value)" in comment, (name, comment)


def test_only_get_requests_are_issued():
    ethtool_h = header("ethtool.h")
    gets = set(v for k, (v, c) in ethtool_h.items() if k.startswith("ETHTOOL_G"))
    sets = set(v for k, (v, c) in ethtool_h.items() if k.startswith("ETHTOOL_S"))
    assert set(ethtool.OFFLOAD_REQUESTS.values()) <= gets
    assert not set(ethtool.OFFLOAD_REQUESTS.values()) & sets
    assert ethtool.OFFLOAD_REQUESTS == {"tx-checksumming": ethtool_h["ETHTOOL_GTXCSUM"][0],
                                        "tcp-segmentation-offload": ethtool_h["ETHTOOL_GTSO"][0],
                                        "generic-receive-offload": ethtool_h["ETHTOOL_GGRO"][0]}


class FakeKernel(object):
    """Answers SIOCETHTOOL get requests as the ethtool core does (net/ethtool/ioctl.c):
    reads ``struct ifreq``, follows ``ifr_data`` and writes the answer in the kernel's
    struct layouts (include/uapi/linux/ethtool.h).  ``answers``: the legacy gets'
    ``struct ethtool_value`` data; ``features``: ``[(name, active)]`` in bit order, the
    device's ETH_SS_FEATURES strings and ETHTOOL_GFEATURES ``active`` bits, or None: a
    kernel without those requests.  Any other request: EOPNOTSUPP, as dev_ethtool()."""

    def __init__(self, answers, ifname="ens4", features=None):
        self.answers, self.ifname, self.calls, self.features = answers, ifname, [], features

    def ioctl(self, fd, request, arg):
        assert request == ethtool.SIOCETHTOOL and isinstance(arg, bytes)
        assert len(arg) == ethtool.IFREQ_SIZE
        name, pointer = struct.unpack_from("%dsP" % ethtool.IFNAMSIZ, arg)
        name = name.rstrip(b"\0").decode()
        cmd = struct.unpack("=I", ctypes.string_at(pointer, 4))[0]
        self.calls.append((name, cmd))
        if name != self.ifname:
            raise OSError(errno.ENODEV, "No such device")
        if cmd in self.answers:
            ctypes.memmove(pointer, struct.pack("=II", cmd, self.answers[cmd]), 8)
        elif self.features is not None and cmd == ETHTOOL_GSSET_INFO:
            # ethtool_get_sset_info(): one u32 count per set asked that the device has
            dummy, dummy, mask = struct.unpack("=IIQ", ctypes.string_at(pointer, 16))
            assert mask == 1 << ETH_SS_FEATURES
            answer = struct.pack("=IIQI", cmd, 0, mask, len(self.features))
            ctypes.memmove(pointer, answer, len(answer))
        elif self.features is not None and cmd == ETHTOOL_GSTRINGS:
            # ethtool_get_strings(): len set to the set's count, then the strings
            dummy, string_set, dummy = struct.unpack("=III", ctypes.string_at(pointer, 12))
            assert string_set == ETH_SS_FEATURES
            answer = struct.pack("=III", cmd, string_set, len(self.features)) + b"".join(
                n.encode().ljust(ETH_GSTRING_LEN, b"\0") for n, dummy in self.features)
            ctypes.memmove(pointer, answer, len(answer))
        elif self.features is not None and cmd == ETHTOOL_GFEATURES:
            # ethtool_get_features(): size = ETHTOOL_DEV_FEATURE_WORDS, then min(size asked, words) blocks
            asked = struct.unpack("=II", ctypes.string_at(pointer, 8))[1]
            words = (len(self.features) + 31) // 32
            blocks = [[0, 0, 0, 0] for dummy in range(words)]
            for bit, (dummy, active) in enumerate(self.features):
                if active:
                    blocks[bit // 32][2] |= 1 << bit % 32
                    blocks[bit // 32][1] |= 1 << bit % 32
            answer = struct.pack("=II", cmd, words) + b"".join(struct.pack("=IIII", *b) for b in blocks[:asked])
            ctypes.memmove(pointer, answer, len(answer))
        else:
            raise OSError(errno.EOPNOTSUPP, "Operation not supported")
        return arg


def test_ioctl_reads_each_offload():
    kernel = FakeKernel({ethtool.ETHTOOL_GTXCSUM: 1, ethtool.ETHTOOL_GTSO: 0, ethtool.ETHTOOL_GGRO: 1})
    values = ethtool.ioctl_offloads("ens4", ioctl=kernel.ioctl)["values"]
    assert values == {"tx-checksumming": True, "tcp-segmentation-offload": False,
                      "generic-receive-offload": True}
    assert sorted(kernel.calls) == sorted([("ens4", ETHTOOL_GSSET_INFO)] + [("ens4", n) for n in ethtool.OFFLOAD_REQUESTS.values()])


def test_long_interface_names_are_cut_to_ifnamsiz():
    request, dummy = ethtool.get_request("x" * 40, ethtool.ETHTOOL_GGRO)
    assert request[:ethtool.IFNAMSIZ] == b"x" * (ethtool.IFNAMSIZ - 1) + b"\0"


def test_reader_prefers_the_ethtool_command():
    text = fakesys.Manifest.load("gce-tap").ethtool["ens4"]
    calls = []

    def run(command):
        calls.append(command)
        return 0, text, ""
    result = ethtool.OffloadReader("/usr/sbin/ethtool", run)("ens4")
    assert calls == [["/usr/sbin/ethtool", "-k", "ens4"]]
    assert result["method"] == "/usr/sbin/ethtool -k ens4"
    assert result["values"] == {"tx-checksumming": True, "tcp-segmentation-offload": True,
                                "generic-receive-offload": True}
    assert result["raw"]["tx-checksum-ip-generic"] == "on"


def test_reader_falls_back_to_the_ioctl_and_reports_both_errors():
    kernel = FakeKernel({}, ifname="ens4")
    result = ethtool.OffloadReader("/usr/sbin/ethtool", lambda c: (76, "", "no such device"),
                                   ioctl=kernel.ioctl)("nosuchif0")
    assert result["values"] is None
    assert "rc=76 no such device" in result["error"] and "SIOCETHTOOL on nosuchif0" in result["error"]
    assert kernel.calls == [("nosuchif0", ETHTOOL_GSSET_INFO)]


def test_reader_without_the_command_uses_the_ioctl():
    kernel = FakeKernel({ethtool.ETHTOOL_GTXCSUM: 0, ethtool.ETHTOOL_GTSO: 0, ethtool.ETHTOOL_GGRO: 1})
    result = ethtool.OffloadReader(None, None, ioctl=kernel.ioctl)("ens4")
    assert result["error"] is None
    # a kernel without ETHTOOL_GFEATURES (EOPNOTSUPP): the legacy gets decide, and the method says so
    assert result["method"] == ("SIOCETHTOOL ioctl (tx-checksumming, tcp-segmentation-offload by the legacy get "
                                "requests: the kernel gives no ETHTOOL_GFEATURES reading of the IPv4 features, "
                                "so any checksum or TSO offload counts)")
    assert result["raw"] == {"tx-checksumming": "off", "tcp-segmentation-offload": "off",
                             "generic-receive-offload": "on"}


def test_ethtool_k_parsed():
    text = fakesys.Manifest.load("gce-user").ethtool["ens4"]
    features = ethtool.parse_ethtool_k(text)
    assert features["tx-checksumming"] == "off" and features["generic-receive-offload"] == "on"
    assert features["tx-checksum-ipv4"] == "off"  # indented, "[fixed]" dropped
    assert "Features for ens4" not in features


# ethtool 6's dump_offload (before ethtool 2.6.33): names with spaces, and no GRO line at all
OLD_ETHTOOL_K = ("Offload parameters for ens4:\nrx-checksumming: on\ntx-checksumming: on\n"
                 "scatter-gather: on\ntcp segmentation offload: on\nudp fragmentation offload: off\n"
                 "generic segmentation offload: on\n")


def test_offloads_an_old_ethtool_does_not_name_are_asked_of_the_kernel():
    kernel = FakeKernel({ethtool.ETHTOOL_GTSO: 1, ethtool.ETHTOOL_GGRO: 1})
    result = ethtool.OffloadReader("/sbin/ethtool", lambda c: (0, OLD_ETHTOOL_K, ""), ioctl=kernel.ioctl)("ens4")
    assert result["values"] == {"tx-checksumming": True, "tcp-segmentation-offload": True,
                                "generic-receive-offload": True}
    assert sorted(kernel.calls) == sorted([("ens4", ETHTOOL_GSSET_INFO), ("ens4", ethtool.ETHTOOL_GTSO),
                                           ("ens4", ethtool.ETHTOOL_GGRO)])
    assert result["method"] == ("/sbin/ethtool -k ens4 and SIOCETHTOOL ioctl "
                                "(tcp-segmentation-offload, generic-receive-offload; tcp-segmentation-offload by the "
                                "legacy get requests: the kernel gives no ETHTOOL_GFEATURES reading of the IPv4 "
                                "features, so any checksum or TSO offload counts)")


def test_offloads_neither_way_tells_are_left_out_not_off():
    kernel = FakeKernel({}, ifname="eth9")
    result = ethtool.OffloadReader("/sbin/ethtool", lambda c: (0, OLD_ETHTOOL_K, ""), ioctl=kernel.ioctl)("ens4")
    assert result["values"] == {"tx-checksumming": True}
    assert result["error"] == ("/sbin/ethtool -k ens4 shows no tcp-segmentation-offload, "
                               "generic-receive-offload; SIOCETHTOOL on ens4: No such device")


def test_offloads_are_judged_by_their_ipv4_features():
    """"tx-checksumming: on" with only IPv6 checksumming on is no IPv4 checksum offload;
    tx-checksum-ip-generic (virtio-net's NETIF_F_HW_CSUM) covers IPv4."""
    text = ("Features for eth0:\ntx-checksumming: on\n\ttx-checksum-ipv4: off\n\ttx-checksum-ip-generic: off [fixed]\n"
            "\ttx-checksum-ipv6: on\ntcp-segmentation-offload: on\n\ttx-tcp-segmentation: off\n"
            "\ttx-tcp6-segmentation: on\ngeneric-receive-offload: on\n")
    result = ethtool.offloads_from_ethtool_k(text, "ethtool -k eth0")
    assert result["values"] == {"tx-checksumming": False, "tcp-segmentation-offload": False,
                                "generic-receive-offload": True}
    assert result["by"]["tcp-segmentation-offload"] == ["tx-tcp-segmentation"]
    generic = text.replace("tx-checksum-ip-generic: off [fixed]", "tx-checksum-ip-generic: on")
    assert ethtool.offloads_from_ethtool_k(generic, "ethtool -k eth0")["values"]["tx-checksumming"] is True


# the first ETH_SS_FEATURES strings in bit order (net/ethtool/common.c netdev_features_strings[],
# bits of include/linux/netdev_features.h; NETIF_F_TSO is NETIF_F_GSO_SHIFT + SKB_GSO_TCPV4_BIT)
FEATURES = ["tx-scatter-gather", "tx-checksum-ipv4", "", "tx-checksum-ip-generic", "tx-checksum-ipv6", "highdma",
            "tx-scatter-gather-fraglist", "tx-vlan-hw-insert", "rx-vlan-hw-parse", "rx-vlan-filter", "vlan-challenged",
            "tx-generic-segmentation", "tx-lockless", "netns-local", "rx-gro", "rx-lro", "tx-tcp-segmentation",
            "tx-gso-robust", "tx-tcp-ecn-segmentation", "tx-tcp-mangleid-segmentation", "tx-tcp6-segmentation"]
LEGACY_ON = {ethtool.ETHTOOL_GTXCSUM: 1, ethtool.ETHTOOL_GTSO: 1, ethtool.ETHTOOL_GGRO: 1}


def features(on):
    return [(name, name in on) for name in FEATURES]


def test_the_feature_requests_are_the_kernels():
    ethtool_h = header("ethtool.h")
    for name in ("ETHTOOL_GSTRINGS", "ETHTOOL_GSSET_INFO", "ETHTOOL_GFEATURES", "ETH_GSTRING_LEN"):
        assert getattr(ethtool, name) == ethtool_h[name][0] == globals()[name], name
    with open(os.path.join(HEADERS, "ethtool.h")) as handle:
        text = handle.read()
    sets = re.search(r"enum ethtool_stringset \{(.*?)\}", text, re.S).group(1)
    assert re.findall(r"(ETH_SS_\w+)", sets).index("ETH_SS_FEATURES") == ethtool.ETH_SS_FEATURES == ETH_SS_FEATURES
    assert "ETH_SS_TEST\t\t= 0" in sets or re.search(r"ETH_SS_TEST\s*=\s*0,", sets)


def test_ioctl_judges_tso_and_checksum_by_their_ipv4_features():
    """The legacy gets answer "any TSO" / "any checksum" (TSO6, IPv6 checksumming on: 1); the
    IPv4 features decide, as they do with ethtool -k."""
    kernel = FakeKernel(LEGACY_ON, features=features({"tx-checksum-ipv6", "tx-tcp6-segmentation", "rx-gro"}))
    result = ethtool.OffloadReader(None, None, ioctl=kernel.ioctl)("ens4")
    assert result["values"] == {"tx-checksumming": False, "tcp-segmentation-offload": False,
                                "generic-receive-offload": True}
    assert result["method"] == "SIOCETHTOOL ioctl" and result["error"] is None
    assert result["by"] == {"tx-checksumming": ["tx-checksum-ipv4", "tx-checksum-ip-generic"],
                            "tcp-segmentation-offload": ["tx-tcp-segmentation"]}
    assert result["raw"] == {"tx-checksumming": "on", "tcp-segmentation-offload": "on", "generic-receive-offload": "on",
                             "tx-checksum-ipv4": "off", "tx-checksum-ip-generic": "off", "tx-tcp-segmentation": "off"}
    assert [cmd for dummy, cmd in kernel.calls if cmd in (ETHTOOL_GSSET_INFO, ETHTOOL_GSTRINGS, ETHTOOL_GFEATURES)] == [
        ETHTOOL_GSSET_INFO, ETHTOOL_GSTRINGS, ETHTOOL_GFEATURES]
    # virtio-net: NETIF_F_HW_CSUM (tx-checksum-ip-generic) covers IPv4
    kernel = FakeKernel(LEGACY_ON, features=features({"tx-checksum-ip-generic", "tx-tcp-segmentation"}))
    assert ethtool.ioctl_offloads("ens4", ioctl=kernel.ioctl)["values"] == {
        "tx-checksumming": True, "tcp-segmentation-offload": True, "generic-receive-offload": True}


def test_ioctl_features_are_found_by_name_in_any_block():
    """Bit numbers differ between kernels: the strings say which bit is which, past the first 32 too."""
    names = ["f%d" % n for n in range(45)] + ["tx-tcp-segmentation", "tx-checksum-ipv4"]
    kernel = FakeKernel(LEGACY_ON, features=[(n, n == "tx-tcp-segmentation") for n in names])
    reading = ethtool.ioctl_offloads("ens4", ["tcp-segmentation-offload", "tx-checksumming"], ioctl=kernel.ioctl)
    assert reading["values"] == {"tcp-segmentation-offload": True, "tx-checksumming": False}
    assert reading["by"]["tx-checksumming"] == ["tx-checksum-ipv4"] and reading["legacy"] == []


def test_an_interface_name_in_any_bytes_is_asked_by_its_bytes():
    """An interface name is any bytes but '/', ':' and blanks; os.listdir() gives one that is
    not UTF-8 with surrogates, which str.encode() refused (a traceback for the whole area)."""
    request, dummy = ethtool.get_request(os.fsdecode(b"e\xff0"), 0xa)
    assert request[:ethtool.IFNAMSIZ] == b"e\xff0" + b"\0" * (ethtool.IFNAMSIZ - 3)
