# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Network interface configuration on a tree, whichever system writes it:
netplan YAML, ifupdown (/etc/network/interfaces with ``source`` and
``source-directory``), NetworkManager keyfiles, Red Hat ifcfg files and
systemd-networkd ``.network`` files with their drop-ins; and the two
generators of standard cloud images whose output is not in the image:
cloud-init's netplan file, rendered anew for each new instance, and Debian's
udev rule that writes an ifupdown stanza for each NIC when it appears.

Each reader turns its files into the same records (``InterfaceConfig``):
which interfaces a configuration matches (by name or MAC address), whether
it runs DHCPv4 or sets static addresses, a fixed MTU, and whether the DHCP
client takes the server's MTU.  The guest has no PyYAML: netplan files are
read with the small YAML subset parser below (block mappings and sequences,
flow lists and mappings, quoted and plain scalars, comments)."""

import fnmatch
import posixpath
import re

from ansible_collections.guestready.gce.plugins.module_utils import udev
from ansible_collections.guestready.gce.plugins.module_utils.configfiles import (
    ConfigError, check_included, dropins, glob, lines, names, read, strip_comment)

NETPLAN_DIRS = ("/run/netplan", "/etc/netplan", "/lib/netplan", "/usr/lib/netplan")
NETWORKD_DIRS = ("/etc/systemd/network", "/run/systemd/network", "/usr/local/lib/systemd/network",
                 "/usr/lib/systemd/network", "/lib/systemd/network")
IFUPDOWN = "/etc/network/interfaces"
NM_DIRS = ("/etc/NetworkManager/system-connections", "/run/NetworkManager/system-connections",
           "/usr/lib/NetworkManager/system-connections")
IFCFG_DIR = "/etc/sysconfig/network-scripts"
DHCLIENT_CONFS = ("/etc/dhcp/dhclient.conf", "/etc/dhcp3/dhclient.conf")
# where cloud-init's netplan renderer writes (cloudinit/net/netplan.py,
# CLOUDINIT_NETPLAN_FILE); it renders it anew on each new instance's first boot
CLOUD_INIT_NETPLAN = "/etc/netplan/50-cloud-init.yaml"
CLOUD_INIT_CFG = "/etc/cloud/cloud.cfg"
CLOUD_INIT_CFG_DIR = "/etc/cloud/cloud.cfg.d"
# Debian's cloud images (debian-cloud-images, config_space/files/etc/udev/
# rules.d/75-cloud-ifupdown.rules/CLOUD): the rule's RUN program
CLOUD_IFUPDOWN_HELPER = "cloud-ifupdown-helper"
TRUE = ("yes", "true", "on", "1")
FALSE = ("no", "false", "off", "0")


class InterfaceConfig(object):
    def __init__(self, source, where, path, names_=None, mac=None, dhcp4=False, static=False,
                 mtu=None, use_mtu=None, line=None, generator=None):
        self.source, self.where, self.path, self.line = source, where, path, line
        self.names = names_  # globs; None: any interface
        self.mac, self.dhcp4, self.static = mac, dhcp4, static
        self.mtu, self.use_mtu = mtu, use_mtu
        # who writes it at boot: "cloud-init" (its netplan file) or
        # CLOUD_IFUPDOWN_HELPER (a stanza per NIC added); None: the image's file
        self.generator = generator

    def covers(self, interface):
        if self.names is None:
            return self.mac is None
        positive = [n for n in self.names if not n.startswith("!")]
        negative = [n[1:] for n in self.names if n.startswith("!")]
        if any(fnmatch.fnmatchcase(interface, n) for n in negative):
            return False
        return any(fnmatch.fnmatchcase(interface, n) for n in positive) if positive else True

    def describe(self):
        return {"source": self.source, "where": self.where, "match": self.names, "mac": self.mac,
                "dhcp4": self.dhcp4, "static": self.static, "mtu": self.mtu, "use_mtu": self.use_mtu,
                "generator": self.generator}


def _bool(value):
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    return None


# ------------------------------------------------------------ YAML subset
def _strip_yaml_comment(text):
    quote = None
    for index, char in enumerate(text):
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or text[index - 1] in " \t"):
            return text[:index]
    return text


def _split_flow(text):
    parts, depth, quote, current = [], 0, None, ""
    for char in text:
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        current += char
    if current.strip():
        parts.append(current)
    return [part.strip() for part in parts]


# netplan files nest a few levels; a deeper file would exhaust Python's
# recursion limit (a RecursionError traceback), so it is refused
MAX_NESTING = 64


class _TooDeep(Exception):
    pass


class _Unsupported(Exception):
    pass


def _scalar(text, depth=0):
    if depth > MAX_NESTING:
        raise _TooDeep()
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        return [_scalar(part, depth + 1) for part in _split_flow(text[1:-1])]
    if text.startswith("{") and text.endswith("}"):
        mapping = {}
        for part in _split_flow(text[1:-1]):
            key, dummy, value = part.partition(":")
            key = _scalar(key, depth + 1)
            if isinstance(key, (list, dict)):
                raise _Unsupported("a flow collection as a mapping key: %s" % part.strip()[:80])
            mapping[key] = _scalar(value, depth + 1)
        return mapping
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    lowered = text.lower()
    if lowered in ("true", "yes", "on"):
        return True
    if lowered in ("false", "no", "off"):
        return False
    if lowered in ("", "~", "null"):
        return None
    if re.match(r"^-?\d+$", text):
        return int(text)
    return text


def _key_value(text):
    """``key: value`` -> (key, value text) or None; quotes and URLs respected."""
    # greedy key (it cannot pass a ':' either way): a lazy one followed by \s*
    # is quadratic on a long line without a colon
    match = re.match(r"""^("[^"]*"|'[^']*'|[^'"\s][^:]*):(?:\s+(.*)|\s*)$""", text)
    if not match:
        return None
    key = _scalar(match.group(1).rstrip())
    if isinstance(key, (list, dict)):
        raise _Unsupported("a flow collection as a mapping key: %s" % text[:80])
    return key, (match.group(2) or "").strip()


def yaml_load(text, source="<yaml>"):
    """The YAML subset netplan files use, as dicts, lists and scalars."""
    rows = []
    for number, raw in enumerate(lines(text), 1):
        if "\t" in raw[:len(raw) - len(raw.lstrip())]:
            raise ConfigError("%s:%d: tab in indentation (YAML forbids it)" % (source, number))
        stripped = _strip_yaml_comment(raw).rstrip()
        if not stripped.strip() or stripped.strip() in ("---", "..."):
            continue
        rows.append((len(stripped) - len(stripped.lstrip()), stripped.strip(), number))

    def block(index, indent, depth=0):
        if depth > MAX_NESTING:
            raise _TooDeep()
        if index >= len(rows) or rows[index][0] < indent:
            return None, index
        start_indent = rows[index][0]
        if rows[index][1] == "-" or rows[index][1].startswith("- "):
            items = []
            while index < len(rows) and rows[index][0] == start_indent and \
                    (rows[index][1] == "-" or rows[index][1].startswith("- ")):
                rest = rows[index][1][1:].strip()
                if not rest:
                    value, index = block(index + 1, start_indent + 1, depth + 1)
                elif _key_value(rest) and not rest.startswith(("[", "{", "'", '"')):
                    # "- key: value" starts a mapping indented past the dash
                    column = start_indent + 2
                    rows[index] = (column, rest, rows[index][2])
                    value, index = block(index, column, depth + 1)
                else:
                    value, index = _scalar(rest), index + 1
                items.append(value)
            return items, index
        mapping = {}
        while index < len(rows) and rows[index][0] == start_indent:
            indent_, content, number = rows[index]
            pair = _key_value(content)
            if pair is None:
                raise ConfigError("%s:%d: not a 'key: value' line: %s" % (source, number, content))
            key, value = pair
            if value in ("|", ">", "|-", ">-"):
                raise ConfigError("%s:%d: block scalars are not supported here" % (source, number))
            if value:
                mapping[key] = _scalar(value)
                index += 1
            else:
                child_index = index + 1
                if child_index < len(rows) and (rows[child_index][0] > start_indent or (
                        rows[child_index][0] == start_indent and rows[child_index][1].startswith("-"))):
                    mapping[key], index = block(child_index, rows[child_index][0], depth + 1)
                else:
                    mapping[key], index = None, child_index
        if index < len(rows) and rows[index][0] > start_indent:
            raise ConfigError("%s:%d: unexpected indentation" % (source, rows[index][2]))
        return mapping, index

    if not rows:
        return {}
    try:
        value, index = block(0, rows[0][0])
    except _TooDeep:
        raise ConfigError("%s: nests deeper than %d levels" % (source, MAX_NESTING))
    except _Unsupported as exc:
        raise ConfigError("%s: %s" % (source, exc))
    if index < len(rows):
        raise ConfigError("%s:%d: unexpected indentation" % (source, rows[index][2]))
    return value


def _merge(base, extra):
    if isinstance(base, dict) and isinstance(extra, dict):
        merged = dict(base)
        for key, value in extra.items():
            merged[key] = _merge(base.get(key), value) if key in base else value
        return merged
    return extra


# ----------------------------------------------------------------- netplan
def netplan_files(target):
    chosen = {}
    for directory in NETPLAN_DIRS:
        for name in names(target, directory, "*.yaml"):
            chosen.setdefault(name, posixpath.join(directory, name))
    return [chosen[name] for name in sorted(chosen)]


def read_netplan(target):
    """``(configs, renderer)`` from the merged netplan files."""
    merged, defined_in = {}, {}
    for path in netplan_files(target):
        text = read(target, path)
        if text is None:
            continue
        document = yaml_load(text, target.display(path)) or {}
        if not isinstance(document, dict):
            raise ConfigError("%s: not a YAML mapping" % target.display(path))
        for key, value in (document.get("network") or {}).items():
            merged.setdefault("_where", {})
            if key == "ethernets" and isinstance(value, dict):
                for name in value:
                    merged["_where"][name] = target.display(path)
                    defined_in.setdefault(name, []).append(path)
        merged = _merge(merged, {"network": document.get("network") or {}})
    network = merged.get("network") or {}
    configs = []
    for ident, spec in sorted((network.get("ethernets") or {}).items()):
        spec = spec if isinstance(spec, dict) else {}
        match = spec.get("match") or {}
        globs = match.get("name")
        globs = [globs] if isinstance(globs, str) else None
        if globs is None and not match:
            globs = [str(ident)]
        addresses = spec.get("addresses") or []
        overrides = spec.get("dhcp4-overrides") or {}
        use_mtu = overrides.get("use-mtu")
        rendered = defined_in.get(ident) and all(p == CLOUD_INIT_NETPLAN for p in defined_in[ident])
        configs.append(InterfaceConfig(
            "netplan", "%s (ethernets.%s)" % (merged.get("_where", {}).get(ident, "netplan"), ident),
            None, globs, match.get("macaddress"), spec.get("dhcp4") is True, bool(addresses),
            spec.get("mtu"), True if use_mtu is None else bool(use_mtu),
            generator="cloud-init" if rendered else None))
    return configs, network.get("renderer", "networkd")


def _top_level(text, keys):
    """The YAML text of the top-level ``key:`` blocks of ``keys`` in
    ``text``: cloud.cfg holds much else, none of which is read here."""
    kept, keeping = [], False
    for raw in lines(text):
        if raw[:1] not in (" ", "\t", "#", "-", "") and raw.strip():
            keeping = raw.split(":", 1)[0].strip().strip("'\"") in keys and ":" in raw
        if keeping:
            kept.append(raw)
    return "\n".join(kept) + "\n"


def read_cloud_init_config(target, keys=("network", "datasource_list")):
    """``{key: (value, file that set it last)}`` for the top-level ``keys`` of
    cloud-init's configuration: /etc/cloud/cloud.cfg, then
    /etc/cloud/cloud.cfg.d/*.cfg by name, a later file's mapping merged over
    an earlier one's (cloudinit/util.py read_conf_with_confd)."""
    found = {}
    for path in [CLOUD_INIT_CFG] + [posixpath.join(CLOUD_INIT_CFG_DIR, n) for n in names(target, CLOUD_INIT_CFG_DIR, "*.cfg")]:
        text = read(target, path)
        if not text:
            continue
        document = yaml_load(_top_level(text, keys), target.display(path)) or {}
        for key in keys:
            if isinstance(document, dict) and key in document:
                earlier = found.get(key, (None, None))[0]
                found[key] = (_merge(earlier, document[key]) if isinstance(earlier, dict) else document[key],
                              target.display(path))
    return found


# ---------------------------------------------------------------- networkd
def parse_ini(text):
    """``[(section, key, value, line)]`` of a systemd/NetworkManager INI file."""
    section, found = None, []
    for number, raw in enumerate(lines(text), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
        elif "=" in line:
            key, value = line.split("=", 1)
            found.append((section, key.strip(), value.strip(), number))
    return found


def networkd_files(target, replace=None):
    files = [path for path, dummy in dropins(target, NETWORKD_DIRS, ".network")]
    for path, text in (replace or {}).items():
        if text is not None and path.endswith(".network") and path not in files:
            files.append(path)
    return sorted(files, key=posixpath.basename)


def networkd_dropins(target, path, replace=None):
    name = posixpath.basename(path) + ".d"
    found = dropins(target, [posixpath.join(d, name) for d in NETWORKD_DIRS], ".conf")
    paths = [p for p, dummy in found]
    for extra, text in (replace or {}).items():
        if text is not None and posixpath.basename(posixpath.dirname(extra)) == name and extra not in paths:
            paths.append(extra)
    return sorted(paths, key=posixpath.basename)


def read_networkd(target, replace=None):
    """One record per .network file (with its drop-ins), in the order
    systemd-networkd tries them: the first file that matches a link wins."""
    replace = replace or {}
    configs = []
    for path in networkd_files(target, replace):
        rows = []
        for part in [path] + networkd_dropins(target, path, replace):
            text = replace[part] if part in replace else read(target, part)
            rows.extend((section, key, value, part) for section, key, value, dummy in parse_ini(text))
        globs, mac, dhcp, static, mtu, use_mtu = None, None, False, False, None, None
        for section, key, value, part in rows:
            if section == "Match" and key in ("Name", "OriginalName"):
                globs = (globs or []) + value.split() if value else None
            elif section == "Match" and key in ("MACAddress", "PermanentMACAddress") and value:
                mac = value
            elif section == "Network" and key == "DHCP":
                dhcp = value.lower() in ("yes", "ipv4", "both", "true", "1", "on")
            elif (section == "Network" and key == "Address") or (section == "Address" and key == "Address"):
                static = True
            elif section == "Link" and key == "MTUBytes":
                mtu = value
            elif section in ("DHCPv4", "DHCP") and key == "UseMTU":
                use_mtu = _bool(value)
        configs.append(InterfaceConfig("networkd", target.display(path), path, globs, mac, dhcp, static,
                                       mtu, bool(use_mtu)))
    return configs


# ---------------------------------------------------------------- ifupdown
_STANZAS = ("iface", "mapping", "auto", "source", "source-directory", "rename", "no-auto-down",
            "no-scripts")


def read_ifupdown(target, path=IFUPDOWN, depth=0, sourced=None, includes=None):
    """The ``inet`` stanzas of ``path`` and what it sources; ``includes``, a
    list, gets ``(directive, directory or pattern)`` of every ``source`` and
    ``source-directory`` read."""
    if depth > 10:
        raise ConfigError("%s: sources nest deeper than 10 levels" % target.display(path))
    sourced = [0] if sourced is None else sourced
    check_included(target, path, sourced[0], "sources read")
    sourced[0] += 1
    text = read(target, path)
    configs = []
    if text is None:
        return configs
    current = None
    for number, raw in enumerate(lines(text), 1):
        words = strip_comment(raw).split()
        if not words:
            continue
        key = words[0]
        if key == "iface" and len(words) >= 4:
            current = InterfaceConfig("ifupdown", "%s:%d" % (target.display(path), number), path,
                                      [words[1]], dhcp4=(words[2] == "inet" and words[3] == "dhcp"),
                                      static=(words[3] == "static"), line=number)
            if words[2] == "inet":
                configs.append(current)
            continue
        if key in _STANZAS or key.startswith("allow-"):
            current = None
            if key == "source" and len(words) > 1:
                pattern = words[1] if words[1].startswith("/") else posixpath.join("/etc/network", words[1])
                if includes is not None:
                    includes.append((key, pattern))
                for included in glob(target, pattern):
                    configs.extend(read_ifupdown(target, included, depth + 1, sourced, includes))
            elif key == "source-directory" and len(words) > 1:
                directory = words[1] if words[1].startswith("/") else posixpath.join("/etc/network", words[1])
                if includes is not None:
                    includes.append((key, posixpath.normpath(directory)))
                for name in names(target, directory):
                    if re.match(r"^[a-zA-Z0-9_-]+$", name):
                        configs.extend(read_ifupdown(target, posixpath.join(directory, name), depth + 1,
                                                     sourced, includes))
            continue
        if current is not None:
            if key == "mtu" and len(words) > 1:
                current.mtu = words[1]
            elif key == "hwaddress" and len(words) > 1:
                current.mac = words[-1]
    return configs


_UDEV_TOKEN = re.compile(r'([A-Za-z_]+(?:\{[^}]*\})?)\s*(==|!=|\+=|-=|:=|=)\s*"([^"]*)"')
# match keys whose value is the NIC's name (udev patterns: globs joined by |)
_UDEV_NAME_KEYS = ("KERNEL", "NAME", "ENV{INTERFACE}")


def _hotplug_rule(rule):
    """``(helper path, name globs or None)`` of a udev rule that runs Debian's
    cloud-ifupdown-helper for every network interface added, whatever its
    driver or bus; None for any other rule (a match on something else, e.g.
    the Azure variant's ``DRIVERS=="hv_netvsc"``, says nothing of a
    Compute Engine NIC)."""
    helper, globs, seen = None, [], set()
    for key, operator, value in _UDEV_TOKEN.findall(rule):
        if operator in ("==", "!="):
            seen.add(key)
            if key in _UDEV_NAME_KEYS:
                globs.extend(("!" if operator == "!=" else "") + part for part in value.split("|") if part)
            elif (key, operator, value) not in (("SUBSYSTEM", "==", "net"), ("ACTION", "==", "add")):
                return None
        elif key.split("{")[0] == "RUN" and value.split() and \
                posixpath.basename(value.split()[0]) == CLOUD_IFUPDOWN_HELPER:
            helper = value.split()[0]
    if helper is None or not {"SUBSYSTEM", "ACTION"} <= seen:
        return None
    return helper, globs or None


def _shell_assignment(text, name):
    match = re.search(r'^\s*%s=["\']?([^"\'\s]+)' % name, text or "", re.M)
    return match.group(1) if match else None


def read_cloud_ifupdown(target, includes):
    """Debian's cloud images (11 and earlier) ship no stanza for their NIC: a
    udev rule (/etc/udev/rules.d/75-cloud-ifupdown.rules) runs
    /etc/network/cloud-ifupdown-helper for each NIC added, which writes
    /etc/network/cloud-interfaces-template (``iface $INTERFACE inet dhcp``)
    with the NIC's name into /run/network/interfaces.d and raises it
    (debian-cloud-images, config_space/files/etc/network/).  One record per
    such rule whose helper and template exist and whose directory the
    ifupdown configuration sources (``includes`` from read_ifupdown): what the
    helper will write, matched on the rule's names."""
    configs = []
    for path, dummy in udev.rule_files(target):
        for number, rule in udev.logical_lines(read(target, path)):
            found = _hotplug_rule(rule)
            if found is None:
                continue
            helper, globs = found
            script = read(target, helper)
            template, cfgdir = _shell_assignment(script, "template"), _shell_assignment(script, "cfgdir")
            if not template or not cfgdir or read(target, template) is None:
                continue
            cfgdir = posixpath.normpath(cfgdir)
            if not any((kind == "source-directory" and where == cfgdir) or
                       (kind == "source" and posixpath.dirname(where) == cfgdir and
                        posixpath.basename(where) == "*") for kind, where in includes):
                continue
            stanza = next((c for c in read_ifupdown(target, template) if c.names == ["$INTERFACE"]), None)
            where = "%s:%d (%s writes %s into %s for each NIC added)" % (
                target.display(path), number, CLOUD_IFUPDOWN_HELPER,
                stanza.where if stanza else target.display(template), cfgdir)
            configs.append(InterfaceConfig(
                "ifupdown", where, path, globs, dhcp4=bool(stanza and stanza.dhcp4),
                static=bool(stanza and stanza.static), mtu=stanza.mtu if stanza else None, line=number,
                generator=CLOUD_IFUPDOWN_HELPER))
    return configs


def dhclient_requests_mtu(target):
    """True when dhclient.conf requests interface-mtu, None without the file."""
    for path in DHCLIENT_CONFS:
        text = read(target, path)
        if text is not None:
            body = " ".join(strip_comment(line) for line in lines(text))
            return bool(re.search(r"\b(request|also\s+request)\b[^;]*\binterface-mtu\b", body))
    return None


# ---------------------------------------------------------- NetworkManager
def read_networkmanager(target):
    configs = []
    for path, dummy in dropins(target, NM_DIRS, ".nmconnection"):
        rows = parse_ini(read(target, path))
        values = dict(("%s.%s" % (section, key), value) for section, key, value, dummy2 in rows)
        kind = values.get("connection.type", "")
        if kind not in ("ethernet", "802-3-ethernet"):
            continue
        name = values.get("connection.interface-name")
        mac = values.get("ethernet.mac-address") or values.get("802-3-ethernet.mac-address")
        mtu = values.get("ethernet.mtu") or values.get("802-3-ethernet.mtu")
        method = values.get("ipv4.method", "auto")
        configs.append(InterfaceConfig("networkmanager", target.display(path), path,
                                       [name] if name else None, mac, method == "auto",
                                       method == "manual", None if mtu in (None, "", "0") else mtu, True))
    return configs


def read_ifcfg(target):
    configs = []
    for name in names(target, IFCFG_DIR, "ifcfg-*"):
        if name == "ifcfg-lo":
            continue
        path = posixpath.join(IFCFG_DIR, name)
        values = {}
        for raw in lines(read(target, path)):
            line = strip_comment(raw).strip()
            if "=" in line:
                key, value = line.split("=", 1)
                values[key.strip()] = value.strip().strip("'\"")
        device = values.get("DEVICE") or name[len("ifcfg-"):]
        configs.append(InterfaceConfig("ifcfg", target.display(path), path, [device],
                                       values.get("HWADDR") or values.get("MACADDR"),
                                       values.get("BOOTPROTO", "").lower() == "dhcp",
                                       bool(values.get("IPADDR")), values.get("MTU"), True))
    return configs


# -------------------------------------------------------------- the whole
def read_all(target, replace=None):
    """``{source: [InterfaceConfig]}`` and the netplan renderer."""
    netplan, renderer = read_netplan(target)
    includes = []
    # the image's own stanzas first: the helper skips a NIC ifupdown knows
    ifupdown = [c for c in read_ifupdown(target, includes=includes) if c.names != ["lo"]]
    return {"netplan": netplan, "networkd": read_networkd(target, replace),
            "ifupdown": ifupdown + read_cloud_ifupdown(target, includes),
            "networkmanager": read_networkmanager(target), "ifcfg": read_ifcfg(target)}, renderer


def live_default_interface(proc_root="/proc"):
    """The interface of the IPv4 default route, or None."""
    try:
        with open(posixpath.join(proc_root, "net", "route")) as handle:
            for line in handle.read().splitlines()[1:]:
                fields = line.split()
                if len(fields) > 2 and fields[1] == "00000000":
                    return fields[0]
    except (IOError, OSError):
        pass
    return None
