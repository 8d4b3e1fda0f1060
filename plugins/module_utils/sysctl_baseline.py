# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Assess and plan the SYSCTL-* requirements: shared by sysctl_baseline
(which applies the plan) and sysctl_baseline_info (which only assesses)."""

import copy
import os

from ansible_collections.guestready.gce.plugins.module_utils import sysctl as loader
from ansible_collections.guestready.gce.plugins.module_utils.files import write_atomic
from ansible_collections.guestready.gce.plugins.module_utils.results import record, summarize

# The drop-in sorts after every numbered file (Google's
# 60-gce-network-security.conf, Debian's 99-sysctl.conf -> /etc/sysctl.conf,
# 99-protect-links.conf) and after unnumbered package files: what it sets wins
# at boot.  Only procps' `sysctl --system` reads /etc/sysctl.conf after it.
DEFAULT_FILE = "/etc/sysctl.d/zz-guestready-gce.conf"
MARKER = "guestready.gce"
HEADER = (
    "# Managed by guestready.gce (sysctl_baseline): the kernel settings of Compute\n"
    "# Engine's custom image requirements.  Do not edit: set waivers or overrides\n"
    "# in the inventory instead.  Named zz-* so that it is applied after every\n"
    "# numbered drop-in.\n"
)


def _int(value):
    try:
        return int(str(value).split()[0])
    except (ValueError, IndexError, TypeError):
        return None


def complies(entry, value):
    """Does a value (string or int) meet the entry's expectation?"""
    number = _int(value)
    if number is None:
        return False
    if entry["compare"] == "at_least":
        return number >= int(entry["expected"])
    return number == int(entry["expected"])


def boot_loader(root="/"):
    """The loader that applies sysctl.d at boot on this tree."""
    for path in ("run/systemd/system", "lib/systemd/systemd-sysctl",
                 "usr/lib/systemd/systemd-sysctl"):
        if os.path.exists(os.path.join(root, path)):
            return "systemd"
    return "procps"


class Observation(object):
    """Live values of the keys the entries need, and the interfaces."""

    def __init__(self, entries, proc_root="/proc", live=True):
        self.live = live
        self.values = {}
        self.errors = {}
        self.interfaces = loader.ipv4_interfaces(proc_root) if live else []
        keys = set(loader.normalize_key(e["key"]) for e in entries)
        for entry in entries:
            if entry["combine"]:
                leaf = entry["key"].rsplit(".", 1)[1]
                for name in self.interfaces:
                    keys.add("net/ipv4/conf/%s/%s" % (name, leaf))
        for name in self.interfaces:
            keys.add("net/ipv4/conf/%s/forwarding" % name)
        for key in sorted(keys):
            if not live:
                self.errors[key] = "no live kernel (chroot or image root)"
                continue
            value, error = loader.read_live(key, proc_root)
            if error:
                self.errors[key] = error
            else:
                self.values[key] = value


def interface_key(entry, name):
    return "net/ipv4/conf/%s/%s" % (name, entry["key"].rsplit(".", 1)[1])


def per_interface_needed(entry):
    return bool(entry["combine"]) and not loader.all_value_decides(entry["combine"], entry["expected"])


def desired_file(entries, waivers, observation, other_values, per_interface=True):
    """The drop-in's text and the ``{key: value}`` it sets.

    Level keys never go down: the value written is the strictest of the
    expectation, the live value and what the other files would set.  Keys
    whose write resets others (ip_forward) come first: procps applies every
    line in order, so a later ip_forward line would undo accept_redirects."""
    blocks, wanted = [], {}
    for entry in entries:
        if entry["id"] in waivers:
            continue
        key = loader.normalize_key(entry["key"])
        if observation.live and observation.errors.get(key) == "missing":
            continue  # the kernel has no such key: reported, never written
        value = int(entry["expected"])
        if entry["compare"] == "at_least":
            for candidate in (observation.values.get(key), other_values.get(key)):
                if _int(candidate) is not None:
                    value = max(value, _int(candidate))
        wanted[key] = value
        block = "# %s: %s\n%s = %s\n" % (entry["id"], entry["title"], loader.display_key(key), value)
        if per_interface and per_interface_needed(entry):
            for name in observation.interfaces:
                # '-': an interface gone at the next boot is not an error
                iface_key = interface_key(entry, name)
                wanted[iface_key] = int(entry["expected"])
                block += "-%s = %s\n" % (loader.display_key(iface_key), int(entry["expected"]))
        blocks.append((loader.write_order(key)[0], len(blocks), block))
    return "\n".join([HEADER] + [block for dummy, dummy, block in sorted(blocks)]), wanted


def _where(assignment):
    return {"file": assignment["file"], "line": assignment["line"], "value": assignment["value"],
            "text": assignment["text"].strip()}


def assess(entries, waivers, observation, histories, boot, own_file):
    """One result per entry from live values and the loaders' assignment
    histories (``{loader: {key: [assignment, ...]}}``)."""
    results = []
    for entry in entries:
        key = loader.normalize_key(entry["key"])
        live = observation.values.get(key)
        error = observation.errors.get(key)
        boot_history = histories[boot].get(key, [])
        winner = boot_history[-1] if boot_history else None
        conflicts, overridden = [], []
        for name, history in sorted(histories.items()):
            last = history.get(key, [])
            if last and not complies(entry, last[-1]["value"]):
                conflict = _where(last[-1])
                conflict["loader"] = name
                conflicts.append(conflict)
        for assignment in boot_history[:-1]:
            if not complies(entry, assignment["value"]):
                overridden.append(_where(assignment))
        interfaces = {}
        if entry["combine"] and live is not None:
            for name in observation.interfaces:
                own = observation.values.get(interface_key(entry, name))
                forwarding = _int(observation.values.get("net/ipv4/conf/%s/forwarding" % name)) or 0
                if own is None:
                    continue
                effective = loader.combine(entry["combine"], _int(live), _int(own), forwarding)
                interfaces[name] = {"own": _int(own), "forwarding": forwarding,
                                    "effective": effective, "compliant": complies(entry, effective)}
        persisted = winner["value"] if winner else None
        extra = {"key": entry["key"], "before": live, "after": live, "persisted": persisted,
                 "winner": _where(winner) if winner else None, "conflicts": conflicts,
                 "overridden": overridden, "interfaces": interfaces, "changed": False}
        evidence = {"proc": "/proc/sys/" + key, "load_order": boot}

        if not observation.live:
            # an image root or a chroot: only the files can be judged
            error = None
        if error == "missing":
            status, message = "unsupported", "the running kernel has no %s" % entry["key"]
            remediation = "build the kernel with the feature that provides %s, or waive %s" % (
                entry["key"], entry["id"])
        elif error:
            status, message, remediation = "unknown", error, "run as root on the host itself"
        else:
            problems = []
            if observation.live and not complies(entry, live):
                problems.append("live value is %s" % live)
            bad = sorted(n for n, v in interfaces.items() if not v["compliant"])
            if bad:
                problems.append("effective value on %s is %s" % (
                    ", ".join(bad), ", ".join(str(interfaces[n]["effective"]) for n in bad)))
            if winner is None:
                problems.append("not persisted in any sysctl.d file")
            for conflict in conflicts:
                problems.append("%s:%s sets %s, which wins for %s" % (
                    conflict["file"], conflict["line"], conflict["value"], conflict["loader"]))
            status = "fail" if problems else "pass"
            if problems:
                message = "; ".join(problems)
                remediation = "apply guestready.gce.sysctl_baseline%s" % (
                    " with neutralize_conflicts=true, or edit the conflicting file"
                    if conflicts else "")
            else:
                message = "%s = %s, persisted in %s:%s" % (
                    entry["key"], live if observation.live else winner["value"],
                    winner["file"], winner["line"])
                if not observation.live:
                    message += " (no live kernel here: files only)"
                if winner["file"] != own_file:
                    message += " (not the guestready.gce drop-in)"
                remediation = ""
        waiver = waivers.get(entry["id"])
        result = record(entry, status, actual=_int(live) if live is not None else None,
                        evidence=evidence, message=message, remediation=remediation, **extra)
        if waiver:
            result.update(status="waived", waiver=waiver,
                          message="waived: %s (found: %s)" % (waiver, message))
        results.append(result)
    return results


def histories_for(entries, observation, root, replace=None):
    """``{loader: {key: [assignments]}}`` and the loaders' warnings."""
    keys = set(loader.normalize_key(e["key"]) for e in entries)
    histories, warnings = {}, []
    for name in loader.LOADERS:
        assignments, problems = loader.load(root, name, replace)
        histories[name] = loader.winners(assignments, keys)
        warnings.extend(problems)
    return histories, sorted(set(warnings))


def neutralized_texts(results, own_file):
    """``{path: new_text}`` for files whose lines win against the drop-in,
    with those lines commented out behind a marker (the original kept in the
    comment)."""
    edits = {}
    for result in results:
        if result["status"] == "waived":
            continue
        for conflict in result["conflicts"]:
            # one file can be read under two names (99-sysctl.conf -> ../sysctl.conf)
            path = os.path.realpath(conflict["file"])
            if path == os.path.realpath(own_file):
                continue
            if path not in edits:
                edits[path] = loader.read_text(path)
            lines = edits[path].splitlines(True)
            index = conflict["line"] - 1
            if index < len(lines) and not lines[index].lstrip().startswith("#"):
                ending = "\n" if lines[index].endswith("\n") else ""
                lines[index] = "# %s neutralised (%s): %s%s" % (
                    MARKER, result["id"], lines[index].rstrip("\n"), ending)
            edits[path] = "".join(lines)
    return edits


class Plan(object):
    """What sysctl_baseline will do on this host: the drop-in's new text, the
    live values to set, the files to neutralise, and the state it leads to."""

    def __init__(self, entries, waivers, root, own_file, live, per_interface=True,
                 neutralize=False, proc_root="/proc"):
        self.entries, self.waivers, self.root, self.own_file = entries, waivers, root, own_file
        self.proc_root = proc_root
        self.boot = boot_loader(root)
        self.observation = Observation(entries, proc_root, live=live)
        others, dummy = histories_for(entries, self.observation, root, replace={own_file: None})
        other_values = dict((key, history[-1]["value"])
                            for key, history in others[self.boot].items() if history)
        self.text, self.wanted = desired_file(entries, waivers, self.observation, other_values,
                                              per_interface)
        self.old_text = None
        if os.path.exists(own_file):
            self.old_text = loader.read_text(own_file)
        self.live_changes = [
            (key, self.observation.values[key], str(value))
            for key, value in sorted(self.wanted.items(), key=lambda item: loader.write_order(item[0]))
            if live and key in self.observation.values and self.observation.values[key] != str(value)]
        self.edits = {}
        if neutralize:
            # only lines that still win once the drop-in and live values are in place
            planned = copy.copy(self.observation)
            planned.values = dict(self.observation.values)
            planned.values.update((key, new) for key, dummy, new in self.live_changes)
            histories, dummy = histories_for(entries, planned, root, replace={own_file: self.text})
            self.edits = neutralized_texts(
                assess(entries, waivers, planned, histories, self.boot, own_file), own_file)

    @property
    def file_changed(self):
        return self.old_text != self.text

    @property
    def changed(self):
        return bool(self.file_changed or self.live_changes or self.edits)

    def changed_ids(self):
        """IDs whose live value or persisted line this plan changes."""
        old = {}
        if self.old_text is not None:
            old = dict((a["key"], a["value"]) for a in loader.parse_text(self.old_text)[0])
        keys = set(key for key, dummy, dummy in self.live_changes)
        keys.update(key for key, value in self.wanted.items() if old.get(key) != str(value))
        ids = set()
        for entry in self.entries:
            key = loader.normalize_key(entry["key"])
            leaf = key.rsplit("/", 1)[1]
            if key in keys or (entry["combine"] and any(
                    k.startswith("net/ipv4/conf/") and k.rsplit("/", 1)[1] == leaf
                    and k.split("/")[3] not in ("all", "default") for k in keys)):
                ids.add(entry["id"])
        return ids

    def diff(self):
        diffs = []
        if self.file_changed:
            diffs.append({"before_header": self.own_file, "after_header": self.own_file,
                          "before": self.old_text or "", "after": self.text})
        for path, text in sorted(self.edits.items()):
            diffs.append({"before_header": path, "after_header": path,
                          "before": loader.read_text(path), "after": text})
        return diffs

    def assess_current(self):
        """Results for the state the host is in now."""
        histories, warnings = histories_for(self.entries, self.observation, self.root)
        return assess(self.entries, self.waivers, self.observation, histories, self.boot,
                      self.own_file), warnings

    def _write_live(self):
        """Set live values in write order, comparing each with a fresh read:
        an earlier write may have changed it (ip_forward resets
        accept_redirects).  ``live_changes`` becomes what was really written."""
        written, errors = [], []
        if not self.observation.live:
            return errors
        for key, value in sorted(self.wanted.items(), key=lambda item: loader.write_order(item[0])):
            current, problem = loader.read_live(key, self.proc_root)
            if problem or current == str(value):
                continue
            error = loader.write_live(key, value, self.proc_root)
            if error:
                errors.append(error)
            else:
                written.append((key, current, str(value)))
        self.live_changes = written
        return errors

    def apply(self):
        """Write the drop-in and neutralised files, set live values; return
        the results of the state reached and the errors met."""
        if self.file_changed:
            write_atomic(self.own_file, self.text, mode=0o644)
        for path, text in sorted(self.edits.items()):
            write_atomic(path, text)
        errors = self._write_live()
        final = Observation(self.entries, self.proc_root, live=self.observation.live)
        histories, warnings = histories_for(self.entries, final, self.root)
        results = assess(self.entries, self.waivers, final, histories, self.boot, self.own_file)
        for result in results:
            result["before"] = self.observation.values.get(loader.normalize_key(result["key"]))
        return results, warnings, [error for error in errors if error]


# The sysctl_baseline_info module's options and work (shared with compliance_info)
INFO_ARGUMENT_SPEC = dict(
    file=dict(type="path", default=DEFAULT_FILE),
    root=dict(type="path", default="/"),
)


def check_sysctl(params, entries, waivers, module=None):
    """Assess the SYSCTL-* ``entries`` on the tree ``params["root"]``; returns
    the module's result fields; an unreadable file raises SysctlError.
    (``module`` is unused: the signature is that of every area's check.)"""
    root = params["root"]
    own = os.path.join(root, params["file"].lstrip("/"))
    observation = Observation(entries, live=loader.live_kernel_available(root))
    histories, warnings = histories_for(entries, observation, root)
    results = assess(entries, waivers, observation, histories, boot_loader(root), own)
    return dict(results=results, summary=summarize(results), warnings_from_files=warnings)
