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
    """Answers SIOCETHTOOL get requests from a table, as the ethtool core does:
    reads ``struct ifreq``, follows ``ifr_data`` to the ``struct ethtool_value``
    and writes ``data``."""

    def __init__(self, answers, ifname="ens4"):
        self.answers, self.ifname, self.calls = answers, ifname, []

    def ioctl(self, fd, request, arg):
        assert request == ethtool.SIOCETHTOOL and isinstance(arg, bytes)
        assert len(arg) == ethtool.IFREQ_SIZE
        name, pointer = struct.unpack_from("%dsP" % ethtool.IFNAMSIZ, arg)
        name = name.rstrip(b"\0").decode()
        cmd, data = struct.unpack("=II", ctypes.string_at(pointer, 8))
        self.calls.append((name, cmd))
        if name != self.ifname:
            raise OSError(errno.ENODEV, "No such device")
        ctypes.memmove(pointer, struct.pack("=II", cmd, self.answers[cmd]), 8)
        return arg


def test_ioctl_reads_each_offload():
    kernel = FakeKernel({ethtool.ETHTOOL_GTXCSUM: 1, ethtool.ETHTOOL_GTSO: 0, ethtool.ETHTOOL_GGRO: 1})
    values = ethtool.ioctl_offloads("ens4", ioctl=kernel.ioctl)
    assert values == {"tx-checksumming": True, "tcp-segmentation-offload": False,
                      "generic-receive-offload": True}
    assert sorted(kernel.calls) == sorted(("ens4", n) for n in ethtool.OFFLOAD_REQUESTS.values())


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
    assert kernel.calls == [("nosuchif0", ethtool.ETHTOOL_GTXCSUM)]


def test_reader_without_the_command_uses_the_ioctl():
    kernel = FakeKernel({ethtool.ETHTOOL_GTXCSUM: 0, ethtool.ETHTOOL_GTSO: 0, ethtool.ETHTOOL_GGRO: 1})
    result = ethtool.OffloadReader(None, None, ioctl=kernel.ioctl)("ens4")
    assert result["method"] == "SIOCETHTOOL ioctl" and result["error"] is None
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
    assert sorted(kernel.calls) == sorted([("ens4", ethtool.ETHTOOL_GTSO), ("ens4", ethtool.ETHTOOL_GGRO)])
    assert result["method"] == ("/sbin/ethtool -k ens4 and SIOCETHTOOL ioctl "
                                "(tcp-segmentation-offload, generic-receive-offload)")


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
