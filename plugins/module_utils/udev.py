# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""udev rules on a tree (udev(7)): the files udevd reads, a name in an
earlier directory hiding the same name in later ones, and the rules the
GCE-* settings look for."""

import re

from ansible_collections.guestready.gce.plugins.module_utils.configfiles import dropins, read

RULE_DIRS = ("/etc/udev/rules.d", "/run/udev/rules.d", "/usr/local/lib/udev/rules.d",
             "/usr/lib/udev/rules.d", "/lib/udev/rules.d")
MARKER = "guestready.gce"


def rule_files(target):
    """``[(path, name)]`` udevd reads, in its order (masked names left out)."""
    return dropins(target, RULE_DIRS, ".rules")


def logical_lines(text):
    """``[(first line number, rule text)]`` with backslash continuations joined.
    As udevd reads them (systemd src/udev/udev-rules.c, udev_rules_parse_file):
    a line starting with '#' is skipped even inside a continuation, and its
    trailing backslash continues nothing."""
    found, buffer, start = [], None, None
    for number, raw in enumerate((text or "").splitlines(), 1):
        line = raw.lstrip(" \t")
        if line.startswith("#"):
            continue
        if buffer is None:
            buffer, start = [], number
        if line.endswith("\\"):
            buffer.append(line[:-1])
            continue
        rule = "".join(buffer + [line]).strip()
        if rule:
            found.append((start, rule))
        buffer = None
    return found


def persistent_net_rules(target):
    """``[(path, line, rule)]``: rules naming a network interface after its
    MAC address (what 70-persistent-net.rules holds).  NAME= assigns (so do
    := and +=, which udev takes as =); NAME== and NAME!= only match a name
    (systemd/systemd src/udev/udev-rules.c, parse_token "NAME")."""
    found = []
    for path, dummy in rule_files(target):
        for number, rule in logical_lines(read(target, path)):
            if re.search(r'SUBSYSTEM\s*==\s*"net"', rule) and re.search(r'(^|[,\s])NAME\s*(:=|\+=|=(?!=))', rule) \
                    and re.search(r'ATTRS?\{address\}\s*==', rule):
                found.append((path, number, rule))
    return found


def _makes_disk_links(target, path):
    return any("disk/by-id/google-" in rule for number, rule in logical_lines(read(target, path)))


def disk_naming_rules(target):
    """The rules files that make /dev/disk/by-id/google-* links (in a rule,
    not a comment: a commented-out copy in /etc hides the packaged file)."""
    return [path for path, dummy in rule_files(target) if _makes_disk_links(target, path)]


def hidden_disk_naming_rules(target, path):
    """The files of ``path``'s name in the directories udevd reads after its
    own, which it hides (udev(7)), that make disk/by-id/google-* links."""
    directory, name = path.rsplit("/", 1)
    later = RULE_DIRS[RULE_DIRS.index(directory) + 1:] if directory in RULE_DIRS else ()
    return [d + "/" + name for d in later if target.isfile(d + "/" + name) and _makes_disk_links(target, d + "/" + name)]


def comment_out(text, numbers, rid):
    """``text`` with the (logical) rules starting at ``numbers`` commented out
    behind the marker, continuation lines included."""
    rows = (text or "").splitlines(True)
    index = 0
    out = []
    targets = set(numbers)
    continuing = False
    for index, row in enumerate(rows, 1):
        line = row.rstrip("\r\n").lstrip(" \t")
        if continuing and line.startswith("#"):
            out.append(row)   # a comment inside the rule: udevd reads on past it (logical_lines)
        elif index in targets or continuing:
            out.append("# %s neutralised (%s): %s" % (MARKER, rid, row) if not row.startswith("#") else row)
            continuing = line.endswith("\\")
        else:
            out.append(row)
    return "".join(out)
