# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The KCONF-* evaluation: a parsed configuration (``kconfig_parser.Kconfig``)
held against the catalogue's kernel options, one result record per ID, and
the kconfig fragment that would fix the failures.

What an option *is* depends on the configuration's form.  In a full one,
what the file says, and an absent option does not exist in that kernel.  In
a minimal one (savedefconfig style), an absent option has its Kconfig
default: ``resolve`` looks it up in the catalogue's ``KCONFIG_DEFAULTS``
(per version and architecture, following ``depends on``/``select`` as the
rules describe them) and answers ``unknown`` where they do not know; a
requirement is then ``unknown`` with the reason, never a guessed failure.
With the version or architecture unknown, every rule that could apply is
tried: the verdict stands only when they all agree.
"""

from ansible_collections.guestready.gce.plugins.module_utils import catalogue as cat
from ansible_collections.guestready.gce.plugins.module_utils import modprobe, privilege
from ansible_collections.guestready.gce.plugins.module_utils.digits import bounded_int
from ansible_collections.guestready.gce.plugins.module_utils.kconfig_parser import EXACT_NOT_SET_SINCE, NOT_SET_VALUE, kconfig_value, show_value
from ansible_collections.guestready.gce.plugins.module_utils.results import record

ON = ("y", "m")
MAX_DEPTH = 4  # longest ``requires`` chain followed (the rules need 2)
RULES = {}
for _rule in cat.KCONFIG_DEFAULTS:
    RULES.setdefault(_rule["name"], []).append(_rule)


class Found(object):
    """One possible value of an option.  ``origin``: ``file`` (as written),
    ``absent`` (a full configuration without it: the option does not exist
    in that kernel), ``default`` (a minimal configuration without it: its
    Kconfig default, ``why`` says which rule) or ``unknown`` (``why`` says
    what is missing).  ``value`` None: absent or not existing."""

    __slots__ = ("value", "origin", "why")

    def __init__(self, value, origin, why=None):
        self.value, self.origin, self.why = value, origin, why

    def on(self):
        """True when the option is y/m, False when off, None when unknown."""
        return None if self.origin == "unknown" else self.value in ON

    def show(self):
        if self.origin == "unknown":
            return "unknown"
        if self.origin != "default":
            return show_value(self.value)
        return "%s (Kconfig default)" % ("absent" if self.value is None else self.value)


def resolve(config, name, _depth=0, kind=None):
    """The possible values of option ``name`` in ``config`` (a list of
    Found: one, unless version or architecture are unknown and the rules
    differ).  ``kind``: the option's type (bool, tristate, int) when the
    catalogue knows it: its value as written is then read as kconfig reads
    it (``kconfig_value``), and one kconfig ignores is unknown: the option
    keeps a Kconfig default that the configuration alone does not show."""
    if kind is not None and name in config.history:
        return [_read_in_turn(config, name, kind, _depth)]
    if name in config.ignored and name not in config.history:
        # the only line naming it is one kconfig skips: the option keeps a default the file does not show
        number, text = config.ignored[name]
        return [Found(None, "unknown", "%s:%d: '%s': kconfig skips this line (it reads CONFIG_X=value and "
                                       "'# CONFIG_X is not set' only at the start of a line, with no "
                                       "space before '='), so CONFIG_%s keeps its Kconfig default, which "
                                       "the configuration does not show" % (config.source, number, text[:80], name))]
    if config.present(name) and config.loose.get(name) == config.lines[name] and \
            (config.version is None or config.version >= EXACT_NOT_SET_SINCE):
        # "# CONFIG_X is not set<more>": n for kconfig before 6.8 (strncmp), skipped since (strcmp)
        number = config.lines[name]
        when = "this is Linux %s" % cat.format_version(config.version) if config.version else \
            "the kernel version is unknown"
        return [Found(None, "unknown", "%s:%d: '# CONFIG_%s is not set' has more after it: the kconfig of Linux "
                                       "%s and later skips such a line (before, it read it as n), and %s; the "
                                       "option then keeps its Kconfig default, which the configuration does not show"
                      % (config.source, number, name, cat.format_version(EXACT_NOT_SET_SINCE), when))]
    if config.present(name):
        return [_file_value(config, name, config.get(name), kind, _depth)]
    if not config.minimal:
        return [Found(None, "absent")]
    return _defaults(config, name, _depth)


def _read_in_turn(config, name, kind, depth):
    """The value kconfig ends with after reading, in turn, every line that
    sets ``name`` (scripts/kconfig/confdata.c conf_read_simple): a value the
    option's type does not allow (``kconfig_value``) leaves the one before,
    and so does an "is not set" of an int, hex or string option (it sets a
    bool or tristate only) or one with more after it from Linux 6.8 on;
    none left: the option keeps its Kconfig default, unknown here."""
    value = ignored = uncertain = None
    for number, text, loose in config.history[name]:
        if text is not None:
            found = kconfig_value(text, kind)
            if found is None:
                ignored = "%s:%d: CONFIG_%s=%s is no valid %s value%s: kconfig ignores it" % (
                    config.source, number, name, text[:80], kind,
                    " (the space or tab around it is part of it)" if text != text.strip() else "")
            else:
                value, uncertain = found, None
        elif kind not in ("bool", "tristate"):
            ignored = "%s:%d: '# CONFIG_%s is not set' sets a bool or tristate option only: kconfig ignores " \
                      "it for this %s option" % (config.source, number, name, kind)
        elif loose and (config.version is None or config.version >= EXACT_NOT_SET_SINCE):
            # "# CONFIG_X is not set<more>": n for kconfig before 6.8 (strncmp), skipped since (strcmp)
            ignored = "%s:%d: '# CONFIG_%s is not set' has more after it: the kconfig of Linux %s and later " \
                      "skips such a line (before, it read it as n), and %s" % (
                          config.source, number, name, cat.format_version(EXACT_NOT_SET_SINCE),
                          "this is Linux %s" % cat.format_version(config.version) if config.version
                          else "the kernel version is unknown")
            if config.version is None:
                value, uncertain = NOT_SET_VALUE, ignored
        else:
            value, uncertain = NOT_SET_VALUE, None
    if value is None or uncertain:
        return Found(None, "unknown", "%s; the option then keeps its Kconfig default, which the configuration "
                                      "does not show" % (uncertain or ignored))
    return _file_value(config, name, value, kind, depth)


def _file_value(config, name, value, kind, depth):
    """The file's ``value`` of ``name`` as kconfig computes it (scripts/kconfig/
    symbol.c sym_calc_value): in a minimal configuration, an ``n`` is ``y``
    when an option it sets selects it (the select is or'ed in, whatever the
    user value), and a ``y`` is ``n`` when an option it depends on is off (the
    user value is and'ed with the dependencies); a tristate ``m`` is ``y``
    when CONFIG_MODULES is off (written so, or its Kconfig default n in a
    minimal configuration): sym_get_type makes a tristate a bool without
    modules, and a bool's m is y."""
    # the catalogue's rules, only where they surely hold: architecture and version known
    rules = [rule for rule in RULES.get(name, ()) if config.minimal and depth < MAX_DEPTH
             and (rule["arches"] is None or config.arch in rule["arches"])
             and (config.version is not None or not (rule["since"] or rule["until"]))
             and cat.in_range(config.version, rule["since"], rule["until"])]
    selectors = [(other, rule) for rule in rules for other in rule["selected_by"] if config.get(other) in ON]
    if selectors and value == NOT_SET_VALUE:
        other, rule = selectors[0]
        return Found("y", "file", "written n, but selected by CONFIG_%s=%s, and a select overrides it; %s"
                     % (other, config.get(other), rule["source"]))
    if not selectors and value in ON:
        for rule in rules:
            for needed in rule["requires"]:
                finds = resolve(config, needed, depth + 1)
                if all(found.on() is False for found in finds):
                    return Found(NOT_SET_VALUE, "file", "written %s, but CONFIG_%s, which it depends on, is %s: "
                                                        "kconfig keeps it n; %s"
                                 % (value, needed, finds[0].show(), rule["source"]))
    if value != "m" or kind != "tristate" or name == "MODULES" or depth >= MAX_DEPTH:
        return Found(value, "file")
    modules = resolve(config, "MODULES", depth + 1, kind="bool")
    if any(found.on() is not False or found.origin == "absent" for found in modules):
        return Found(value, "file")
    return Found("y", "file", "written =m, but CONFIG_MODULES is %s: without modules kconfig builds a "
                              "tristate option in (=y)" % modules[0].show())


def _defaults(config, name, depth):
    arch, version = config.arch, config.version
    rules = [rule for rule in RULES.get(name, ()) if cat.applies_to_arch(rule, arch)]
    where = " on %s" % arch if arch else ""
    if not rules:
        return [Found(None, "unknown", "CONFIG_%s is not in this minimal configuration and the "
                                       "catalogue does not know its Kconfig default%s" % (name, where))]
    found = []
    if version is not None:
        rules = [rule for rule in rules if cat.in_range(version, rule["since"], rule["until"])]
        if not rules:
            return [Found(None, "unknown", "CONFIG_%s is not in this minimal configuration and the "
                                           "catalogue does not know its Kconfig default in Linux "
                                           "%s%s" % (name, cat.format_version(version), where))]
    else:
        spans = _spans(name)
        if not _covered(spans, rules):
            found.append(Found(None, "unknown", "CONFIG_%s is not in this minimal configuration, "
                                                "its Kconfig default depends on the kernel "
                                                "version, and the version is unknown" % name))
        if any(since or until for since, until in spans):
            # outside its versions the option does not exist at all
            found.append(Found(None, "absent", "the kernel version is unknown, and CONFIG_%s "
                                               "exists only in some" % name))
    if arch is None and any(rule["arches"] for rule in rules):
        found.append(Found(None, "unknown", "CONFIG_%s is not in this minimal configuration, its "
                                            "Kconfig default depends on the architecture, and the "
                                            "architecture is unknown" % name))
    # the unknowns first: what is missing is the first thing a reader needs
    return found + [_apply(config, rule, depth) for rule in rules]


def _spans(name):
    """``[(since, until)]`` of option ``name`` in the catalogue's requirements."""
    return [(s["since"], s["until"]) for e in cat.KERNEL_OPTIONS for s in e["symbols"]
            if s["name"] == name]


def _covered(spans, rules):
    """Do ``rules`` cover every version in which the option exists (``spans``;
    every version when there are none)?"""
    start = min((since or (0,) for since, dummy in spans), default=(0,))
    end = max((until or (999,) for dummy, until in spans), default=(999,))
    for rule in sorted(rules, key=lambda rule: rule["since"] or (0,)):
        if (rule["since"] or (0,)) > start:
            return False
        start = max(start, rule["until"] or (999,))
    return start >= end


def _span(since, until):
    if since and until:
        return "Linux %s to %s" % (cat.format_version(since), cat.format_version(until))
    if since:
        return "Linux %s and later" % cat.format_version(since)
    if until:
        return "before Linux %s" % cat.format_version(until)
    return "every version"


def _apply(config, rule, depth):
    name, value = rule["name"], rule["value"]
    cite = "%s (the catalogue's rule for %s)" % (rule["source"], _span(rule["since"], rule["until"]))
    for other in rule["selected_by"]:
        if config.get(other) in ON:
            return Found("y", "default", "selected by CONFIG_%s=%s; %s" % (other, config.get(other),
                                                                           cite))
    for other in rule["implied_by"]:
        if config.get(other) in ON:
            return Found("y", "default", "CONFIG_%s=%s depends on it; %s" % (other, config.get(other),
                                                                             cite))
    if value is None:
        return Found(None, "default", "it does not exist: %s" % cite)
    notes = []
    if value != NOT_SET_VALUE:
        for needed in rule["requires"]:
            if depth >= MAX_DEPTH:
                return Found(None, "unknown", "CONFIG_%s: dependency chain too long" % name)
            finds = resolve(config, needed, depth + 1)
            states = set(found.on() for found in finds)
            if states == set([False]):
                return Found(NOT_SET_VALUE, "default", "%s, and CONFIG_%s is off" % (cite, needed))
            if states != set([True]):
                return Found(None, "unknown", "CONFIG_%s defaults to %s only when CONFIG_%s=y, and "
                                              "that is not known: %s"
                             % (name, value, needed, _undecided(needed, finds)))
            found = finds[0]
            notes.append("CONFIG_%s=%s" % (needed, found.value) if found.origin == "file" else
                         "CONFIG_%s is %s: %s" % (needed, found.value, found.why))
    return Found(value, "default", "; ".join([cite] + notes))


def _number(value):
    try:
        return bounded_int(str(value), 0)
    except (TypeError, ValueError):
        return None


def satisfied(value, expected, compare):
    """Does a symbol's value (None: absent) meet ``expected`` by ``compare``?"""
    if compare == "not_set":
        return value is None or value == NOT_SET_VALUE
    if value is None or value == NOT_SET_VALUE:
        return False
    if compare == "at_least":
        number, wanted = _number(value), _number(expected)
        return number is not None and wanted is not None and number >= wanted
    if compare == "one_of":
        return value in [str(item) for item in expected]
    return str(value) == str(expected)


def _verdict(symbol, finds, expected, compare, version):
    """True, False, or None (undecided) over every possible value."""
    verdicts = set()
    for found in finds:
        if found.origin == "unknown":
            verdicts.add(None)
        elif (found.origin == "absent" and compare == "not_set" and symbol and symbol["since"]
              and version is None):
            # an option younger than the kernel may be: its absence says nothing
            verdicts.add(False)
        else:
            verdicts.add(satisfied(found.value, expected, compare))
    return verdicts.pop() if len(verdicts) == 1 else None


def option_kind(entry, expected, compare):
    """The kconfig type of an option ``entry`` compares by ``expected`` and
    ``compare``: int for a numeric level, bool or tristate for y/n (tristate
    for the drivers the catalogue allows as modules), None when not known."""
    if compare in ("at_least", "at_most", "between"):
        return "int"
    if compare == "not_set" or str(expected) in ("y", "m", "n"):
        return "tristate" if entry.get("tristate") else "bool"
    return None


def expectation(entry, arch):
    """``(expected, compare)`` for ``entry`` on ``arch``: an override wins over
    the per-architecture value."""
    expected = entry["expected"]
    if "overridden_from" not in entry and arch in entry.get("expected_by_arch", {}):
        expected = entry["expected_by_arch"][arch]
    return expected, entry["compare"]


def _line(name, value, compare):
    if compare == "not_set":
        return "# CONFIG_%s is not set" % name
    return "CONFIG_%s=%s" % (name, value)


def _remedy_symbols(entry, config, applicable):
    own = [s for s in applicable if not s["compare"] and s.get("remedy") is not False]
    known = [s for s in own if config.present(s["name"])]
    return (known or own)[-1:] if own else []


def _span_of(symbol):
    since, until = symbol["since"], symbol["until"]
    text = "CONFIG_%s" % symbol["name"]
    if since:
        text += " since %s" % cat.format_version(since)
    if until:
        text += " before %s" % cat.format_version(until)
    return text


def _exists(name, version):
    """False when the catalogue knows ``name`` only outside ``version``."""
    ranges = [s for e in cat.KERNEL_OPTIONS for s in e["symbols"] if s["name"] == name]
    return not ranges or any(cat.in_range(version, s["since"], s["until"]) for s in ranges)


def _bounded(symbol):
    return symbol["since"] is not None or symbol["until"] is not None


def _missing(finds):
    """Every possible value says the option is not there."""
    return all(found.value is None and found.origin in ("absent", "default") for found in finds)


def _default_note(found):
    if found.origin == "file" and found.why:
        return " (%s)" % found.why
    if found.origin != "default":
        return ""
    return " (not listed in this minimal configuration: Kconfig default, %s)" % found.why


def _undecided(name, finds):
    reasons = [found.why for found in finds if found.origin == "unknown" and found.why]
    return reasons[0] if reasons else "CONFIG_%s: value unknown" % name


def _unlisted(entry, config):
    """``(what, hint, line)`` when the feature ``entry`` builds is not named
    by the list option that enables it by default (catalogue ``listed_in``;
    ``line`` sets the option with it added), else None: a configuration
    without that option (older kernels, a minimal one keeping the default)
    says nothing against it."""
    if not entry.get("listed_in"):
        return None
    rule = entry["listed_in"]
    option, name = rule["option"], rule["name"]
    listed = config.get(option) if config.present(option) else None
    if listed is None or listed == NOT_SET_VALUE or name in listed.split(","):
        return None
    value = ",".join([item for item in listed.split(",") if item] + [name])
    line = 'CONFIG_%s="%s"' % (option, value.replace("\\", "\\\\").replace('"', '\\"'))
    return ('CONFIG_%s="%s" does not list %s: %s' % (option, listed[:200], name, rule["why"]),
            "add %s to CONFIG_%s (%s) or %s" % (name, option, line, rule["or"]), line)


def evaluate_entry(entry, config, initramfs=None):
    """One result record for catalogue ``entry`` against ``config``.

    ``initramfs``: what is known of the kernel's initramfs, for tristate
    drivers found ``=m``: None when it was not looked at, else a dict with
    ``path``, ``method``, ``error`` and ``modules`` (a set, or None when it
    could not be inspected)."""
    arch, version = config.arch, config.version
    evidence = {"config": config.source, "version": cat.format_version(version),
                "arch": arch, "form": config.form, "tried": []}

    def result(status, message, expected, symbol=None, found=None, lines=(), **extra):
        lines = list(lines)
        actual = found.value if found is not None else None
        return record(entry, status, expected=expected, actual=actual, evidence=evidence,
                      message=message, remediation="; ".join(lines), symbol=symbol,
                      found=found.show() if found is not None else show_value(None),
                      fragment_lines=lines, **extra)

    expected, compare = expectation(entry, arch)
    if not cat.applies_to_arch(entry, arch):
        return result("not-applicable", "applies to %s only; this kernel is %s"
                      % (", ".join(entry["arches"]), arch), expected)

    applicable = [s for s in entry["symbols"] if cat.in_range(version, s["since"], s["until"])]
    finds, undecided = {}, []
    for symbol in applicable:
        name = symbol["name"]
        wanted = symbol["expected"] or expected
        how = symbol["compare"] or compare
        finds[name] = resolve(config, name, kind=option_kind(entry, wanted, how))
        evidence["tried"].append({"symbol": name, "value": " or ".join(
            sorted(set(found.show() for found in finds[name])))})
        verdict = _verdict(symbol, finds[name], wanted, how, version)
        if verdict is None:
            undecided.append(_undecided(name, finds[name]))
        if not verdict:
            continue
        found = finds[name][0]
        if how == "not_set":
            detail = "absent" if found.value is None else "not set"
            message = "CONFIG_%s is %s" % (name, detail if found.origin != "default" or
                                           found.value is None else "n")
        else:
            message = "CONFIG_%s=%s" % (name, found.value)
        if (name != entry["symbols"][0]["name"] and not symbol["compare"]
                and symbol.get("remedy") is not False):
            message += " (the name of %s in %s)" % (
                entry["symbols"][0]["name"],
                "Linux %s" % cat.format_version(version) if version else
                "this configuration; kernel version unknown")
        if symbol["note"]:
            message += ": " + symbol["note"]
        message += _default_note(found)
        unlisted = _unlisted(entry, config)
        if unlisted:
            option = entry["listed_in"]["option"]
            evidence["tried"].append({"symbol": option, "value": config.get(option)})
            return result("pass", "%s; but %s" % (message, unlisted[0]), wanted, name, found,
                          hint=unlisted[1], warning="%s: %s: %s" % (config.source, entry["id"], unlisted[0]))
        return result("pass", message, wanted, name, found)

    remedies = _remedy_symbols(entry, config, applicable)
    lines = [_line(s["name"], expected, compare) for s in remedies]
    primary = remedies[0]["name"] if remedies else (
        applicable[0]["name"] if applicable else entry["symbols"][0]["name"])
    primary_finds = finds.get(primary) or resolve(config, primary)
    found = primary_finds[0]

    folded = entry.get("folded_into")
    if folded and all(_missing(finds[s["name"]]) for s in applicable):
        fold = resolve(config, folded, kind="bool")
        evidence["tried"].append({"symbol": folded, "value": " or ".join(
            sorted(set(f.show() for f in fold)))})
        why = ("does not exist in Linux %s" % cat.format_version(version)) if not applicable \
            else "is not in this configuration"
        verdict = _verdict(None, fold, "y", "exact", version)
        if verdict:
            return result("pass", "CONFIG_%s %s: it is folded into CONFIG_%s, which is y%s"
                          % (entry["symbols"][0]["name"], why, folded, _default_note(fold[0])),
                          "y", folded, fold[0])
        if verdict is None:
            return result("unknown", "cannot tell: CONFIG_%s %s and it is folded into CONFIG_%s: %s"
                          % (entry["symbols"][0]["name"], why, folded, _undecided(folded, fold)),
                          "y", folded, Found(None, "unknown"), [_line(folded, "y", "exact")])
        if not _exists(folded, version):
            return result("fail", "Linux %s has neither CONFIG_%s nor CONFIG_%s: it needs another "
                          "kernel version" % (cat.format_version(version),
                                              entry["symbols"][0]["name"], folded),
                          "y", folded, Found(None, "absent"))
        fold_lines = [_line(folded, "y", "exact")]
        if version is not None:
            fold_lines += [line for s, line in zip(remedies, lines) if _bounded(s)]
        return result("fail", "CONFIG_%s %s and CONFIG_%s, which it is folded into, is %s%s"
                      % (entry["symbols"][0]["name"], why, folded, show_value(fold[0].value),
                         _default_note(fold[0])),
                      "y", folded, fold[0], fold_lines)

    if not applicable and compare == "not_set":
        return result("pass", "CONFIG_%s does not exist in Linux %s: nothing to disable"
                      % (entry["symbols"][0]["name"], cat.format_version(version)), expected)

    if undecided:
        undecided = sorted(set(undecided), key=undecided.index)
        return result("unknown", "cannot tell: %s" % "; ".join(undecided), expected, primary,
                      Found(None, "unknown") if len(primary_finds) > 1 else found, lines,
                      undecided=undecided)

    if entry.get("tristate") and found.value == "m":
        return _module_result(entry, primary, expected, lines, initramfs, result, found)

    if not applicable:
        spans = ", ".join(_span_of(s) for s in entry["symbols"] if not s["compare"])
        return result("fail", "Linux %s has no option for this requirement (%s): it needs "
                      "another kernel version" % (cat.format_version(version), spans),
                      expected, primary, Found(None, "absent"), lines)
    value = found.value
    if value is None:
        state = " is absent"
    elif value == NOT_SET_VALUE:
        state = " is n" if found.origin == "default" else " is not set"
    else:
        state = "=%s" % value
    wanted = {"not_set": "not set", "at_least": "at least %s" % expected}.get(
        compare, "=%s" % expected)
    message = "CONFIG_%s%s, expected %s" % (primary, state, wanted)
    if arch in entry.get("expected_by_arch", {}) and "overridden_from" not in entry:
        message += " (%s)" % arch
    message += _default_note(found)
    if version is None:
        message += " (kernel version unknown: every name was tried)"
    if arch is None and entry["arches"]:
        message += " (architecture unknown: it applies to %s only)" % ", ".join(entry["arches"])
    exists = (version is not None or not any(_bounded(s) for s in applicable if s["name"] == primary)) \
        and (arch is not None or not entry["arches"])
    if found.origin == "absent" and compare != "not_set" and exists:
        # kconfig writes every option whose dependencies hold, "is not set" included: one a
        # full configuration of a kernel that has it lacks is kept out by them, and a line
        # setting it changes nothing
        message += ("; a full configuration lists every option its dependencies allow, so one of "
                    "CONFIG_%s's is unmet: setting CONFIG_%s alone does not enable it (see its "
                    "'depends on' in make menuconfig's search)" % (primary, primary))
        for selector in entry.get("selected_by") or ():
            if cat.in_range(version, selector["since"], selector["until"]):
                # the option that switches it on, whatever keeps it out of the menu
                message += "; CONFIG_%s=y (%s)" % (selector["name"], selector["note"])
                lines.append(_line(selector["name"], "y", "exact"))
    unlisted = _unlisted(entry, config) if compare == "exact" else None
    if unlisted:
        # built, it would still not start: the list option that starts it is part of the fix
        message += "; and %s" % unlisted[0]
        lines.append(unlisted[2])
    return result("fail", message, expected, primary, found, lines)


def _module_result(entry, symbol, expected, lines, initramfs, result, found):
    module = entry.get("module") or symbol.lower()
    base = "CONFIG_%s=m: built as module %s" % (symbol, module)
    if initramfs is None:
        return result("unknown", base + "; the initramfs was not checked", expected, symbol, found,
                      lines, module=module, initramfs=None)
    shown = dict((key, initramfs.get(key)) for key in ("path", "method", "error"))
    if not initramfs.get("path"):
        # initramfs.not_found decided, as for HW-*: none in /boot at all, or one not attributed
        return result(initramfs.get("absent") or "unknown", "%s; %s" % (base, initramfs.get("error") or "no initramfs given"),
                      expected, symbol, found, lines, module=module, initramfs=shown)
    if privilege.needs_root(initramfs.get("error")):
        unread = result("unknown", "%s; %s" % (initramfs["error"], base), expected, symbol, found,
                        lines, module=module, initramfs=shown)
        unread["remediation"] = privilege.BECOME
        return unread
    if initramfs.get("modules") is None:
        return result("unknown", base + "; could not inspect %s: %s"
                      % (initramfs["path"], initramfs.get("error")),
                      expected, symbol, found, lines, module=module, initramfs=shown)
    tree = initramfs.get("tree")
    # the hardware area's judgement (modalias): the modules it needs count too
    missing = tree.missing_from_initramfs(module, initramfs["modules"]) if tree is not None else \
        [name for name in [module] if name not in initramfs["modules"]]
    if not missing and tree is None and initramfs.get("tree_error"):
        # a table that is there but unreadable is no absent one: what the module needs is unknown
        unread = result("unknown", "%s, present in %s, but the modules it needs are unknown: %s" % (
            base, initramfs["path"], initramfs["tree_error"]), expected, symbol, found,
            module=module, initramfs=shown)
        unread["remediation"] = privilege.BECOME if privilege.needs_root(initramfs["tree_error"]) else \
            "make the modules table named a regular file again (depmod rewrites it), then re-run"
        return unread
    if not missing:
        blocked = _blocked_result(module, base, expected, symbol, found, lines, initramfs, result, shown)
        if blocked is not None:
            return blocked
        unchecked = "" if tree is not None else " (modules.dep not found: the modules it needs were not checked)"
        return result("module-in-initramfs", base + ", present in %s%s" % (initramfs["path"], unchecked),
                      expected, symbol, found, module=module, initramfs=shown)
    if module in missing:
        message = base + ", missing from %s" % initramfs["path"]
        needs = [name for name in missing if name != module]
        if needs:
            message += " (and so are %s, which it needs)" % ", ".join(needs)
    else:
        message = base + ", present in %s, but %s, which it needs, %s not" % (
            initramfs["path"], ", ".join(missing), "is" if len(missing) == 1 else "are")
    add = " ".join(missing)
    return result("module-missing-from-initramfs", message, expected, symbol, found,
                  lines, module=module, initramfs=shown,
                  hint="add %s to the initramfs (initramfs-tools: /etc/initramfs-tools/modules, "
                       "then update-initramfs -u; dracut: add_drivers+=\" %s \")" % (add, add))


def _blocked_result(module, base, expected, symbol, found, lines, initramfs, result, shown):
    """The result for ``module``, present in the initramfs, when what the
    hardware area judges by keeps it from loading at boot there: the image's
    own modprobe.d, the kernel command line (``kconfig._initramfs_view``); None
    when nothing does.  A built-in driver ignores both: the fragment's ``=y`` fixes it."""
    path = initramfs["path"]
    where = (initramfs.get("blocks") or {}).get(module)
    if where:
        why = "%s: %s" % (modprobe.IN_INITRAMFS, modprobe.describe(where))
        fix = "rebuild the initramfs from the current modprobe.d (update-initramfs -u, or dracut -f), " \
              "or remove %s from the file named" % module
    else:
        error = initramfs.get("cmdline_error")
        if initramfs.get("cmdline_blocks") is None and error:
            unread = result("unknown", "%s, present in %s, but %s" % (base, path, error),
                            expected, symbol, found, lines, module=module, initramfs=shown)
            unread["remediation"] = privilege.BECOME if privilege.needs_root(error) else \
                "fix or remove the file named, then re-run"
            return unread
        where = (initramfs.get("cmdline_blocks") or {}).get(module)
        if not where:
            return None
        why = "the kernel command line keeps it from loading: %s" % modprobe.describe(where)
        fix = "remove %s from the kernel command line named" % module
    blocked = result("fail", "%s, present in %s, but %s" % (base, path, why), expected, symbol, found, lines,
                     module=module, initramfs=shown, hint="%s; or build it in, which no blacklist stops" % fix)
    # the lines that keep it, as the hardware area's evidence names them
    blocked["evidence"] = dict(blocked["evidence"], blocked_by=modprobe.block_lines(where))
    return blocked


def evaluate(entries, config, waivers=None, initramfs=None):
    """Results for every KCONF-* ``entries`` (catalogue order), waivers applied."""
    waivers = waivers or {}
    results = []
    for entry in entries:
        result = evaluate_entry(entry, config, initramfs)
        if entry["id"] in waivers:
            reason = waivers[entry["id"]]
            result.update(status="waived", waiver=reason,
                          message="waived: %s (found: %s)" % (reason, result["message"]))
        results.append(result)
    return results


FRAGMENT_STATUSES = ("fail", "module-missing-from-initramfs")


def render_fragment(results, config=None):
    """A kconfig fragment (for ``scripts/kconfig/merge_config.sh``) with the
    lines that make the failing requirements pass, in the option names of the
    configuration's kernel version; undecided ones get the line commented."""
    head = ["# guestready.gce: kernel options that Compute Engine's image requirements need"]
    if config is not None:
        head.append("# for %s" % config.describe())
    head += ["# merge: scripts/kconfig/merge_config.sh -m .config <this file> && make olddefconfig",
             "# (merge_config.sh reports any value a missing dependency keeps out)"]
    body, seen = [], set()
    for result in results:
        lines = [line for line in result.get("fragment_lines") or [] if line not in seen]
        if result["status"] in FRAGMENT_STATUSES and lines:
            body.append("# %s: %s" % (result["id"], result["message"]))
            body.extend(lines)
            seen.update(lines)
        elif result["status"] == "unknown" and lines:
            body.append("# %s: %s" % (result["id"], result["message"]))
            if result.get("found") == "m":
                body.append("# (building it in needs no initramfs:) %s" % lines[0])
            else:
                body.append("# (to be sure, set it explicitly:) %s" % lines[0])
    if not body:
        body = ["# nothing to change: no KCONF-* requirement fails"]
    return "\n".join(head + body) + "\n"
