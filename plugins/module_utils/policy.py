# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waivers and overrides: the one mechanism, keyed by requirement ID, that
every area shares.

* an *override* raises a requirement's strictness (``SYSCTL-KPTR_RESTRICT: 2``);
  it may never weaken one: weakening is a waiver's job;
* a *waiver* exempts an ID on a host, with a reason that every report shows.
"""

import copy
import difflib
import unicodedata

from ansible_collections.guestready.gce.plugins.module_utils.catalogue import BY_ID, accepts_level, describe_levels


class PolicyError(ValueError):
    """A waiver or override that cannot be honoured; the message says why."""


def _unknown(option, rid):
    # IDs are upper case; a lower-case spelling is no closer to its ID than to any other by case
    close = difflib.get_close_matches(str(rid).strip().upper(), list(BY_ID), n=1)
    hint = " (did you mean %s?)" % close[0] if close else ""
    return PolicyError("%s: unknown requirement ID %r%s; the IDs are listed in "
                       "docs/requirements.md" % (option, rid, hint))


def _as_number(option, rid, value):
    try:
        return int(str(value).strip(), 0)
    except (TypeError, ValueError):
        raise PolicyError("%s: %s must be an integer, got %r" % (option, rid, value))


def validate_override(entry, value, option="overrides"):
    """Return ``value`` normalised to the entry's type, or raise PolicyError
    when it is not a legal, at-least-as-strict replacement of the expectation."""
    rid = entry["id"]
    compare = entry["compare"]
    expected = entry["expected"]
    # hardware identities and image format checks have no value the check reads
    if entry["area"] in ("hardware", "image") or compare in ("not_set", "state"):
        raise PolicyError("%s: %s cannot be overridden (its expectation is fixed); "
                          "waive it instead if this host must differ" % (option, rid))
    if compare == "at_most":
        number = _as_number(option, rid, value)
        if number < 0 or number > int(expected):
            raise PolicyError("%s: %s=%s would weaken the requirement (at most %s); "
                              "waive the ID with a reason instead" % (option, rid, number, expected))
        return number
    if compare == "between":
        number = _as_number(option, rid, value)
        low, high = entry["bounds"]
        if not low <= number <= high:
            raise PolicyError("%s: %s must be between %s and %s, got %s; waive the ID with a "
                              "reason instead" % (option, rid, low, high, number))
        return number
    if isinstance(value, bool) and isinstance(expected, str):
        # an unquoted yes/no in YAML is a boolean: sshd_config's words (kernel options say y/n)
        value = ("y" if value else "n") if entry["area"].startswith("kernel") else ("yes" if value else "no")
    if compare == "one_of":
        allowed = entry.get("values") or []
        if str(value) not in allowed:
            raise PolicyError("%s: %s accepts %s, got %r" % (option, rid, ", ".join(allowed), value))
        return str(value)
    if isinstance(expected, int):
        number = _as_number(option, rid, value)
        if not accepts_level(entry, number):
            raise PolicyError("%s: %s accepts %s, got %s" % (
                option, rid, describe_levels(entry["levels"]), number))
        if compare == "at_least" and number < expected:
            raise PolicyError("%s: %s=%s would weaken the requirement (at least %s); "
                              "waive the ID with a reason instead" % (option, rid, number, expected))
        if compare == "exact" and number != expected and number not in entry.get("alternatives", ()):
            raise PolicyError("%s: %s must stay %s (accepted alternatives: %s); "
                              "waive the ID with a reason instead" % (
                                  option, rid, expected,
                                  ", ".join(str(v) for v in entry.get("alternatives", ())) or "none"))
        return number
    # kernel options compared as strings ("y", "65536")
    if compare == "at_least":
        number = _as_number(option, rid, value)
        if number < int(expected):
            raise PolicyError("%s: %s=%s would weaken the requirement (at least %s); "
                              "waive the ID with a reason instead" % (option, rid, number, expected))
        return str(number)
    if str(value) != str(expected):
        raise PolicyError("%s: %s must stay %s; waive the ID with a reason instead"
                          % (option, rid, expected))
    return str(value)


def normalize_waivers(waivers, option="waivers"):
    """``{ID: reason}`` or ``{ID: {reason: ...}}`` -> ``{ID: reason}``."""
    result = {}
    if not waivers:
        return result
    if not isinstance(waivers, dict):
        raise PolicyError("%s must be a mapping of requirement ID to reason, got %s"
                          % (option, type(waivers).__name__))
    for rid, reason in waivers.items():
        if rid not in BY_ID:
            raise _unknown(option, rid)
        if isinstance(reason, dict):
            # a key this mechanism does not have (an expiry date) would be ignored without a word
            extra = sorted(str(key) for key in reason if key != "reason")
            if extra:
                raise PolicyError("%s: %s: unknown key(s) %s; a waiver is the reason, or a mapping "
                                  "with only a reason key" % (option, rid, ", ".join(extra)))
            reason = reason.get("reason")
        # a reason every report shows: one of only invisible characters (U+200B, a bidi
        # control) would show as nothing
        if not isinstance(reason, str) or not any(unicodedata.category(c)[0] not in "CZ" for c in reason):
            raise PolicyError("%s: %s needs a reason (a string with something to read), got %r"
                              % (option, rid, reason))
        result[rid] = reason.strip()
    return result


def resolve(entries, overrides=None, waivers=None):
    """Apply overrides and waivers to catalogue ``entries``.

    Returns ``(entries, waivers)``: copies of the entries with overridden
    expectations (``overridden_from`` keeps the catalogue value) and the
    normalised waivers.  Overrides and waivers of other areas are validated
    but otherwise ignored, so one inventory variable serves every module.
    """
    waivers = normalize_waivers(waivers)
    overrides = overrides or {}
    if not isinstance(overrides, dict):
        raise PolicyError("overrides must be a mapping of requirement ID to value, got %s"
                          % type(overrides).__name__)
    checked = {}
    for rid, value in overrides.items():
        if rid not in BY_ID:
            raise _unknown("overrides", rid)
        checked[rid] = validate_override(BY_ID[rid], value)
    result = []
    for entry in entries:
        if entry["id"] in checked:
            entry = copy.deepcopy(entry)
            entry["overridden_from"] = entry["expected"]
            entry["expected"] = checked[entry["id"]]
        result.append(entry)
    return result, waivers
