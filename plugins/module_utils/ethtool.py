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


def get_request(ifname, command):
    """``(ifreq bytes, ethtool_value buffer)`` for one legacy get request."""
    buffer = array.array("B", struct.pack("=II", command, 0))   # struct ethtool_value
    request = struct.pack("%dsP" % IFNAMSIZ, ifname.encode("utf-8")[:IFNAMSIZ - 1],
                          buffer.buffer_info()[0])               # ifr_name, ifr_data
    return request + b"\0" * (IFREQ_SIZE - len(request)), buffer


def ioctl_offloads(ifname, names=None, ioctl=None):
    """``{name: bool}`` through SIOCETHTOOL (ETHTOOL_GTXCSUM, GTSO, GGRO);
    ``ioctl`` is ``fcntl.ioctl`` unless a test gives its own."""
    ioctl = ioctl or (fcntl.ioctl if fcntl is not None else None)
    if ioctl is None:
        raise OSError("no fcntl module on this host")
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        values = {}
        for name in names or list(OFFLOAD_REQUESTS):
            request, buffer = get_request(ifname, OFFLOAD_REQUESTS[name])
            ioctl(sock.fileno(), SIOCETHTOOL, request)
            values[name] = bool(struct.unpack("=II", buffer.tobytes())[1])
        return values
    finally:
        sock.close()


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
            values = ioctl_offloads(ifname, ioctl=self.ioctl)
            return {"values": values, "method": "SIOCETHTOOL ioctl", "error": None,
                    "raw": dict((k, "on" if v else "off") for k, v in values.items())}
        except (IOError, OSError) as exc:
            message = "SIOCETHTOOL on %s: %s" % (ifname, getattr(exc, "strerror", None) or exc)
            return {"values": None, "method": "SIOCETHTOOL ioctl",
                    "error": "; ".join(e for e in (error, message) if e), "raw": {}}

    def _ioctl_for(self, ifname, names, result):
        """Complete ``result`` (from ``ethtool -k``) with ``names`` read by the ioctl."""
        try:
            values = ioctl_offloads(ifname, names, ioctl=self.ioctl)
        except (IOError, OSError) as exc:
            result["error"] = "%s shows no %s; SIOCETHTOOL on %s: %s" % (
                result["method"], ", ".join(names), ifname, getattr(exc, "strerror", None) or exc)
            return
        result["values"].update(values)
        result["raw"].update((k, "on" if v else "off") for k, v in values.items())
        result["method"] += " and SIOCETHTOOL ioctl (%s)" % ", ".join(names)


def no_offload_reader(reason):
    """A reader that reads nothing, saying why."""
    def reader(ifname):
        return {"values": None, "method": None, "error": reason, "raw": {}}
    return reader
