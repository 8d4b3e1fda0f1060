# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One result record per HW-* ID from its two halves.

The offline half (``kernel_drivers.py``: does the kernel have the drivers)
and the live half (``guest_devices.py``: does this guest have the devices)
each give a *verdict*: a status, a message, remediation lines and evidence.
The ID's status is the worst of the halves that apply, in the order
``fail`` > ``module-missing-from-initramfs`` > ``unknown`` >
``module-in-initramfs`` > ``pass``; a ``not-applicable`` half (a bridge
offline, a live half not judged) does not count.  The record keeps both
halves (``offline`` and ``live``) with their own status, message and
evidence.  An ID of another architecture is ``not-applicable``, unless its
device is judged live wherever a machine presents it (the catalogue's
``live_where_present``: gVNIC on x86)."""

from ansible_collections.guestready.gce.plugins.module_utils.catalogue import applies_to_arch
from ansible_collections.guestready.gce.plugins.module_utils.results import apply_waivers, record

# Worst first; "not-applicable" halves are left out of the combination.
SEVERITY_ORDER = ("fail", "module-missing-from-initramfs", "unknown", "unsupported",
                  "module-in-initramfs", "pass")


def verdict(status, message, remediation=(), evidence=None, **extra):
    """One half's judgement of one ID."""
    result = {"status": status, "message": message, "remediation": list(remediation),
              "evidence": evidence if evidence is not None else {}}
    result.update(extra)
    return result


def worst(statuses):
    statuses = [s for s in statuses if s and s != "not-applicable"]
    if not statuses:
        return "not-applicable"
    return min(statuses, key=SEVERITY_ORDER.index)


def unique(lines):
    seen = []
    for line in lines:
        if line not in seen:
            seen.append(line)
    return seen


def combine(entry, offline=None, live=None):
    """One result from the offline and live verdicts (either may be None: not run)."""
    halves = [("offline", offline), ("live", live)]
    status = worst([half["status"] for name, half in halves if half is not None])
    parts, evidence = [], {}
    for name, half in halves:
        if half is not None:
            parts.append("%s: %s" % (name, half["message"]))
            evidence[name] = half["evidence"]
    remediation = unique(line for name, half in halves if half is not None for line in half["remediation"])
    actual = {}
    if offline is not None:
        actual["drivers"] = dict(
            ("%s:%s" % (d["hop"], d["expected_driver"]), d.get("kind") and "%s%s" % (
                d["kind"], " (initramfs: %s)" % d["initramfs"] if d.get("initramfs") else ""))
            for d in offline.get("drivers", []))
        if offline.get("uarts"):
            actual["uarts"] = offline["uarts"].get("registered")
    if live is not None:
        if "devices" in live:
            actual["devices"] = [d["message"] for d in live["devices"]]
        if "ports" in live:
            actual["ports"] = dict((p["name"], {"uart": p["uart"], "irq": p["irq"], "port": p["port"]})
                                   for p in live["ports"])
    strip = ("evidence", "remediation")
    return record(entry, status, actual=actual, evidence=evidence, message="; ".join(parts),
                  remediation="; ".join(remediation),
                  offline=dict((k, v) for k, v in offline.items() if k not in strip) if offline else None,
                  live=dict((k, v) for k, v in live.items() if k not in strip) if live else None)


def assess(entries, waivers, arch, offline=None, live=None):
    """One record per HW-* entry (in catalogue order), waivers applied;
    ``offline`` and ``live`` are checks with a ``check(entry)`` and a
    ``presents(entry)`` method."""
    results = []
    for entry in entries:
        if applies_to_arch(entry, arch):
            results.append(combine(entry, offline.check(entry) if offline else None,
                                   live.check(entry) if live else None))
            continue
        elsewhere = "applies to %s; this is %s" % (", ".join(entry["arches"]), arch)
        if entry.get("live_where_present") and live is not None and live.presents(entry):
            # gVNIC on x86 (Tier_1 networking, third-generation series): the device is judged
            # live; offline, only kernels of the requirement's own architectures are judged
            note = verdict("not-applicable", "%s: judged live, as this machine presents the device" % elsewhere)
            results.append(combine(entry, note if offline else None, live.check(entry)))
            continue
        results.append(record(entry, "not-applicable", actual={"arch": arch}, message=elsewhere))
    return apply_waivers(results, waivers)
