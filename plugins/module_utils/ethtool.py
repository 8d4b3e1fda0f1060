# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A NIC's offloads through the ethtool interface: ``ethtool -k`` when the
command is installed, else the kernel's legacy get requests on a socket
(``SIOCETHTOOL``), which the ethtool core answers for every device; they
also read an offload the command's output does not name (ethtool 6 printed
"tcp segmentation offload" and no GRO line).

Only *get* requests are ever issued: the numbers below are the kernel's
(include/uapi/linux/sockios.h and ethtool.h; the unit tests compare them with
the installed headers)."""

import array
import errno
import os
import socket
import struct

try:
    import fcntl
except ImportError:  # pragma: no cover - not a POSIX host
    fcntl = None

SIOCETHTOOL = 0x8946
ETHTOOL_GTXCSUM = 0x00000016   # get TX hw csum enable (struct ethtool_value)
ETHTOOL_GTSO = 0x0000001E      # get TSO enable (struct ethtool_value)
ETHTOOL_GGRO = 0x0000002B      # get GRO enable (struct ethtool_value)
ETHTOOL_GSTRINGS = 0x0000001B  # get specified string set (struct ethtool_gstrings)
ETHTOOL_GSSET_INFO = 0x00000037  # get string set info (struct ethtool_sset_info)
ETHTOOL_GFEATURES = 0x0000003A  # get device offload settings (struct ethtool_gfeatures)
ETH_SS_FEATURES = 4            # enum ethtool_stringset: device feature names
ETH_GSTRING_LEN = 32
# netdev features are numbered below 64 (NETDEV_FEATURE_COUNT, include/linux/netdev_features.h);
# a count far past it is not believed (it sizes the buffers)
MAX_FEATURES = 1024
IFNAMSIZ = 16
IFREQ_SIZE = 40                # sizeof(struct ifreq) on 64-bit Linux

# ethtool -k's names of the offloads the catalogue asks for, and their get request
OFFLOAD_REQUESTS = {"tx-checksumming": ETHTOOL_GTXCSUM, "tcp-segmentation-offload": ETHTOOL_GTSO,
                    "generic-receive-offload": ETHTOOL_GGRO}
# the features ethtool -k shows under those (kept as evidence)
RAW_KEPT = tuple(OFFLOAD_REQUESTS) + ("tx-checksum-ipv4", "tx-checksum-ip-generic", "tx-tcp-segmentation")
# The features under an ethtool -k line that carry its IPv4 part: the line itself is "on" when
# any feature under it is (ethtool's off_flags, the kernel's ETHTOOL_GTSO mask NETIF_F_ALL_TSO),
# so "tcp-segmentation-offload: on" holds with TSO v4 (tx-tcp-segmentation) off and TSO6 on.
IPV4_FEATURES = {"tx-checksumming": ("tx-checksum-ipv4", "tx-checksum-ip-generic"),
                 "tcp-segmentation-offload": ("tx-tcp-segmentation",)}
ENABLE_WORDS = {"tx-checksumming": "tx on", "tcp-segmentation-offload": "tso on",
                "generic-receive-offload": "gro on"}


def parse_ethtool_k(text):
    """``{feature: "on"|"off"}`` from ``ethtool -k`` output (``[fixed]`` dropped)."""
    features = {}
    for line in text.splitlines():
        name, colon, value = line.strip().partition(":")
        words = value.split()
        if colon and words and words[0] in ("on", "off") and " " not in name:
            features[name] = words[0]
    return features


def _ifreq(ifname, data):
    """``(ifreq bytes, buffer)``: a request whose ifr_data points at a copy of ``data``."""
    buffer = array.array("B", data)
    # the name's own bytes: os.listdir() gives one that is not UTF-8 with surrogates
    request = struct.pack("%dsP" % IFNAMSIZ, os.fsencode(ifname)[:IFNAMSIZ - 1],
                          buffer.buffer_info()[0])               # ifr_name, ifr_data
    return request + b"\0" * (IFREQ_SIZE - len(request)), buffer


def get_request(ifname, command):
    """``(ifreq bytes, ethtool_value buffer)`` for one legacy get request."""
    return _ifreq(ifname, struct.pack("=II", command, 0))       # struct ethtool_value


def _ask(ioctl, fd, ifname, data):
    """The bytes the kernel left in the buffer of one SIOCETHTOOL get request ``data``."""
    request, buffer = _ifreq(ifname, data)
    ioctl(fd, SIOCETHTOOL, request)
    return buffer.tobytes()


def _active_features(ioctl, fd, ifname):
    """``{feature name: active}`` of the device (ETHTOOL_GSSET_INFO for the number of
    ETH_SS_FEATURES strings, ETHTOOL_GSTRINGS for their names, ETHTOOL_GFEATURES for the
    ``active`` bits: feature i is bit i % 32 of block i // 32; include/uapi/linux/ethtool.h
    struct ethtool_sset_info, ethtool_gstrings, ethtool_gfeatures); None when the kernel
    has no such requests (EOPNOTSUPP: before Linux 2.6.39)."""
    try:
        # struct ethtool_sset_info: cmd, reserved, u64 sset_mask, then one u32 per set returned
        info = _ask(ioctl, fd, ifname, struct.pack("=IIQI", ETHTOOL_GSSET_INFO, 0, 1 << ETH_SS_FEATURES, 0))
        dummy, dummy, mask, count = struct.unpack("=IIQI", info)
        if not mask & (1 << ETH_SS_FEATURES) or not 0 < count <= MAX_FEATURES:
            return None
        # struct ethtool_gstrings: cmd, string_set, len, then len strings of ETH_GSTRING_LEN bytes
        strings = _ask(ioctl, fd, ifname, struct.pack("=III", ETHTOOL_GSTRINGS, ETH_SS_FEATURES, count)
                       + b"\0" * (count * ETH_GSTRING_LEN))
        returned = min(struct.unpack_from("=III", strings)[2], count)
        names = [strings[12 + i * ETH_GSTRING_LEN:12 + (i + 1) * ETH_GSTRING_LEN].split(b"\0", 1)[0].decode(
            "ascii", "replace") for i in range(returned)]
        # struct ethtool_gfeatures: cmd, size (blocks), then blocks of available, requested, active, never_changed
        blocks = (count + 31) // 32
        features = _ask(ioctl, fd, ifname, struct.pack("=II", ETHTOOL_GFEATURES, blocks) + b"\0" * (16 * blocks))
    except (IOError, OSError) as exc:
        if exc.errno == errno.EOPNOTSUPP:
            return None
        raise
    active = [struct.unpack_from("=IIII", features, 8 + 16 * block)[2] for block in range(blocks)]
    return dict((name, bool(active[i // 32] >> (i % 32) & 1)) for i, name in enumerate(names) if name)


def ioctl_offloads(ifname, names=None, ioctl=None):
    """``{"values": {name: bool}, "by": {name: [features]}, "raw": {...}, "legacy": [names]}``
    through SIOCETHTOOL.  TX checksumming and TSO are judged by their IPv4 features
    (IPV4_FEATURES, read with ETHTOOL_GFEATURES), as with ``ethtool -k``; ``raw`` keeps their
    line as the legacy get (ETHTOOL_GTXCSUM, GTSO) reads it: on when any checksum / TSO
    feature is.  Where the kernel has no ETHTOOL_GFEATURES (or names no IPv4 feature) the
    legacy get decides (``legacy``).  GRO: ETHTOOL_GGRO.  ``ioctl`` is ``fcntl.ioctl`` unless
    a test gives its own."""
    ioctl = ioctl or (fcntl.ioctl if fcntl is not None else None)
    if ioctl is None:
        raise OSError("no fcntl module on this host")
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        names = names or list(OFFLOAD_REQUESTS)
        features = None
        if any(name in IPV4_FEATURES for name in names):
            features = _active_features(ioctl, sock.fileno(), ifname)
        values, by, raw, legacy = {}, {}, {}, []
        for name in names:
            answer = _ask(ioctl, sock.fileno(), ifname, struct.pack("=II", OFFLOAD_REQUESTS[name], 0))
            values[name] = bool(struct.unpack("=II", answer)[1])
            raw[name] = "on" if values[name] else "off"
            shown = [f for f in IPV4_FEATURES.get(name, ()) if features is not None and f in features]
            if shown:
                values[name] = any(features[f] for f in shown)
                by[name] = shown
                raw.update((f, "on" if features[f] else "off") for f in shown)
            elif name in IPV4_FEATURES:
                legacy.append(name)
        return {"values": values, "by": by, "raw": raw, "legacy": legacy}
    finally:
        sock.close()


def _ioctl_method(reading, asked=None):
    """How ``reading`` (ioctl_offloads) was made, for ``method``."""
    parts = [", ".join(asked)] if asked else []
    if reading["legacy"]:
        parts.append("%s by the legacy get requests: the kernel gives no ETHTOOL_GFEATURES reading of the IPv4 "
                     "features, so any checksum or TSO offload counts" % ", ".join(reading["legacy"]))
    return "SIOCETHTOOL ioctl" + (" (%s)" % "; ".join(parts) if parts else "")


def offloads_from_ethtool_k(text, method):
    """An offload reading (see ``OffloadReader``) from ``ethtool -k`` output;
    an offload is judged by its IPv4 features where the output lists them
    (``by`` names them)."""
    raw = parse_ethtool_k(text)
    values, by = {}, {}
    for name in OFFLOAD_REQUESTS:
        shown = [feature for feature in IPV4_FEATURES.get(name, ()) if feature in raw]
        if shown:
            values[name] = any(raw[feature] == "on" for feature in shown)
            by[name] = shown
        elif name in raw:
            values[name] = raw[name] == "on"
    return {"values": values, "method": method, "error": None, "by": by,
            "raw": dict((k, v) for k, v in raw.items() if k in RAW_KEPT)}


class OffloadReader(object):
    """Offloads of a local interface: ``ethtool -k`` when the command exists
    (``run_command`` as AnsibleModule's), else the ioctl."""

    def __init__(self, ethtool=None, run_command=None, ioctl=None):
        self.ethtool = ethtool
        self.run_command = run_command
        self.ioctl = ioctl

    def __call__(self, ifname):
        """``{"values": {name: bool} or None, "method", "error", "raw"}``."""
        error = None
        if self.ethtool and self.run_command:
            command = [self.ethtool, "-k", ifname]
            rc, out, err = self.run_command(command)
            if rc == 0:
                result = offloads_from_ethtool_k(out, " ".join(command))
                absent = [name for name in OFFLOAD_REQUESTS if name not in result["values"]]
                if absent:
                    # a name the output does not show is not "off": ask the kernel for it
                    self._ioctl_for(ifname, absent, result)
                return result
            error = "%s: rc=%s %s" % (" ".join(command), rc, (err or out).strip())
        try:
            reading = ioctl_offloads(ifname, ioctl=self.ioctl)
            return {"values": reading["values"], "method": _ioctl_method(reading), "error": None,
                    "by": reading["by"], "raw": reading["raw"]}
        except (IOError, OSError) as exc:
            message = "SIOCETHTOOL on %s: %s" % (ifname, getattr(exc, "strerror", None) or exc)
            return {"values": None, "method": "SIOCETHTOOL ioctl",
                    "error": "; ".join(e for e in (error, message) if e), "raw": {}}

    def _ioctl_for(self, ifname, names, result):
        """Complete ``result`` (from ``ethtool -k``) with ``names`` read by the ioctl."""
        try:
            reading = ioctl_offloads(ifname, names, ioctl=self.ioctl)
        except (IOError, OSError) as exc:
            result["error"] = "%s shows no %s; SIOCETHTOOL on %s: %s" % (
                result["method"], ", ".join(names), ifname, getattr(exc, "strerror", None) or exc)
            return
        result["values"].update(reading["values"])
        result["by"].update(reading["by"])
        result["raw"].update(reading["raw"])
        result["method"] += " and " + _ioctl_method(reading, names)


def no_offload_reader(reason):
    """A reader that reads nothing, saying why."""
    def reader(ifname):
        return {"values": None, "method": None, "error": reason, "raw": {}}
    return reader
