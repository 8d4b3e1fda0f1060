# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one result record every module returns, and its status vocabulary.

Reports, tests and the compliance gate know only this shape::

    {"id", "area", "severity", "title", "status", "expected", "actual",
     "evidence", "message", "remediation", "waiver"}

plus area-specific keys (a sysctl result's ``interfaces``, a kernel option's
``symbol``...), which reports show as evidence.
"""

# status -> outcome.  Outcomes decide exit codes and colours:
#   ok    the requirement is met;
#   fail  it is not;
#   warn  it could not be decided (unknown) or the kernel lacks the knob
#         (unsupported): a person must look;
#   skip  it does not apply here (not-applicable) or was waived.
STATUSES = {
    "pass": "ok",
    "module-in-initramfs": "ok",
    "fail": "fail",
    "module-missing-from-initramfs": "fail",
    "unknown": "warn",
    "unsupported": "warn",
    "not-applicable": "skip",
    "waived": "skip",
}

# a result lists at most this many things of one kind (servers, lines): a
# hostile file naming 500,000 servers would make megabytes of report per host
MAX_LISTED = 20


def listed(items, limit=MAX_LISTED):
    """``items`` as a list of at most ``limit`` of them, then "... and N more"."""
    items = list(items)
    if len(items) <= limit:
        return items
    return items[:limit] + ["... and %d more" % (len(items) - limit)]


def outcome(status):
    return STATUSES[status]


def record(entry, status, expected=None, actual=None, evidence=None, message="",
           remediation="", waiver=None, **extra):
    """Build a result for catalogue ``entry``."""
    if status not in STATUSES:
        raise ValueError("unknown status %r" % (status,))
    result = {
        "id": entry["id"],
        "area": entry["area"],
        "severity": entry["severity"],
        "title": entry["title"],
        "status": status,
        "expected": entry["expected"] if expected is None else expected,
        "actual": actual,
        "evidence": evidence or {},
        "message": message,
        "remediation": remediation,
        "waiver": waiver,
    }
    result.update(extra)
    return result


def waive(result, reason):
    """Turn an evaluated result into a waived one, keeping what was found."""
    waived = dict(result)
    waived["status"] = "waived"
    waived["waiver"] = reason
    waived["message"] = "waived: %s (found: %s)" % (reason, result["message"] or result["status"])
    return waived


def apply_waivers(results, waivers):
    return [waive(r, waivers[r["id"]]) if r["id"] in waivers else r for r in results]


def summarize(results):
    """``{status: count}`` over ``results``, every status present."""
    counts = dict((status, 0) for status in STATUSES)
    for result in results:
        counts[result["status"]] += 1
    return counts
