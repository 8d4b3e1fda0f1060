# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side reports: per-host JSON, a fleet summary, JUnit XML, one
self-contained HTML page and a text table, all built from the modules'
result records (plugins/module_utils/results.py).

Reports are built in one pass over the hosts (``write_reports`` takes any
iterable), so a fleet of 10,000 hosts never sits in memory as records: each
host's JSON and JUnit suite is written as it comes, and the page keeps only
compact data -- each distinct record once, and one record number per host and
requirement -- which its script turns into a matrix that renders only the
columns in view (docs/benchmarks.md, "Reports")."""

import base64
import datetime
import errno
import gc
import hashlib
import json
import os
import queue
import re
import tempfile
import threading
from array import array

from ansible_collections.guestready.gce.plugins.module_utils.catalogue import AREAS, CATALOGUE, SEVERITIES
from ansible_collections.guestready.gce.plugins.module_utils.results import STATUSES, summarize

# The registered results the roles leave on each host.
RESULT_VARS = ("sysctl_result", "kernel_config_result", "hardware_result", "gce_settings_result",
               "compliance_result", "image_result")
OUTCOMES = ("ok", "fail", "warn", "skip")
# 2: host reports carry "generated"; summary.json maps each host to its "file"
# and says what a merge kept ("merged").
SCHEMA_VERSION = 2
# Distinct records whose evidence report.html embeds, in bytes of JSON; past it
# a passing cell's evidence stays in its host file (the page links to it).
EVIDENCE_BUDGET = 64 * 1024 * 1024
# Hosts the text table lists one by one; past it, only those that do not pass.
TABLE_HOSTS = 100
NO_RESULTS = "no results: no check ran on the host (not reached, or the run stopped before it)"
# a host whose tasks ran, failed nothing and returned no record was not checked: no pass
NO_CHECKS = "no checks: %s returned no result, so nothing was checked on the host"


def no_checks(report):
    """The error of a host report that has neither a record nor an error (its
    tasks returned empty results), or None.  Nothing checked proves nothing,
    as a host the run never reached: it fails the gate, in every report."""
    if report["results"] or report["errors"]:
        return None
    return NO_CHECKS % (", ".join(sorted(report["areas"])) or "the host's tasks")


# The fields every result record has (plugins/module_utils/results.py).
RECORD_KEYS = ("id", "area", "severity", "title", "status", "expected", "actual", "evidence", "message",
               "remediation", "waiver")
_RECORD_KEYS = frozenset(RECORD_KEYS)
_ORDER = dict((entry["id"], index) for index, entry in enumerate(CATALOGUE))
_IDS = tuple(entry["id"] for entry in CATALOGUE)
_BY_ID = dict((entry["id"], entry) for entry in CATALOGUE)


def _jsonable(value):
    """What JSON cannot hold as is (sets, other types) as a list or a string."""
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def _make_encoder():
    """One encoder for every record: compact, ASCII only (a lone surrogate or
    U+2028 in evidence is written as an escape, never raw), keys in the
    modules' order (equal records from the same modules give equal text,
    which is how the page stores each distinct record once).  The C encoder
    built once: per record, json.dumps spends as long setting up as encoding."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return json.JSONEncoder(separators=(",", ":"), default=_jsonable).encode
    encoder = make(None, _jsonable, json.encoder.encode_basestring_ascii, None, ":", ",", False, False, True)
    return lambda value: "".join(encoder(value, 0))


_encode = _make_encoder()


class ReportError(Exception):
    """A report directory that cannot be read or written; the message names it."""


def now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat()


def _error_of(registered):
    if registered.get("unreachable"):
        return "unreachable: %s" % registered.get("msg", "")
    if registered.get("failed"):
        return registered.get("msg") or "the task failed"
    return None


def host_report(host, hostvars, result_vars=RESULT_VARS, generated=None):
    """Merge a host's registered module results into one report."""
    results, errors, areas = [], [], {}
    for var in result_vars:
        registered = hostvars.get(var)
        if not isinstance(registered, dict):
            continue
        error = _error_of(registered)
        if error:
            errors.append("%s: %s" % (var, error))
        if registered.get("skipped"):
            continue
        records = registered.get("results") or []
        if registered.get("json_error"):
            errors.append("%s: %s" % (var, registered["json_error"]))
        if registered.get("malformed"):
            errors.append("%s: %d result(s) left out, not result records (the first: %s)" % (
                var, registered["malformed"], registered.get("malformed_first") or record_problem(None)))
        areas[var] = {"changed": bool(registered.get("changed")), "count": len(records),
                      "error": error}
        results.extend(records)
    # an ID checked twice (an apply, then a check) is reported once: the last word;
    # catalogue order, IDs the catalogue lacks last
    by_id = {record["id"]: record for record in results}
    results = [by_id.pop(rid) for rid in _IDS if rid in by_id] + list(by_id.values())
    if not areas:
        errors.append(NO_RESULTS)
    built = {
        "schema_version": SCHEMA_VERSION,
        "host": host,
        "generated": generated or now(),
        "errors": errors,
        "areas": areas,
        "changed": any(area["changed"] for area in areas.values()),
        "results": results,
        "summary": summarize(results),
    }
    unchecked = no_checks(built)
    if unchecked:
        errors.append(unchecked)
    return built


def _shown(value, length=60):
    return printable(repr(value)[:length])


def record_problem(value):
    """What makes ``value`` no result record (None when it is one): every
    field, and the two the reports index by, ``id`` and ``status``, strings.
    The one check for registered results and for host files merged."""
    if not isinstance(value, dict) or not value.keys() >= _RECORD_KEYS:
        return "a result without %s" % ", ".join(RECORD_KEYS)
    if not isinstance(value["id"], str):
        return "a result whose id is %s, not a string" % _shown(value["id"])
    status = value["status"]
    if not isinstance(status, str) or status not in STATUSES:
        return "a result of %s with the unknown status %s" % (_shown(value["id"]), _shown(status))
    return None


def _is_record(value):
    return record_problem(value) is None


_HEAD, _TAIL = '{"results":[', '],"areas":'


class _RecordTexts(object):
    """Records from results_json (modules' results_format=json): a record
    text met on a second host is decoded once more and its record kept, shared
    by every later host that has the same text (read only), up to ``budget``
    characters of text.  A fleet built from a few images has a few thousand
    distinct records, met again and again; a record met once (a path or an
    interface only one host has) is not kept: decoded objects take several
    times the memory of their text."""

    def __init__(self, budget=16 * 1024 * 1024):
        self.records, self.size, self.budget = {}, 0, budget
        self.seen, self.seen_size = set(), 0  # texts met once, up to the budget too
        self.valid = {}  # id() of a kept record: whether it is a result record (kept alive here)

    def decode(self, text):
        record = self.records.get(text)
        if record is None:
            record = json.loads(text)
            if text not in self.seen:
                if self.seen_size < self.budget:
                    self.seen.add(text)
                    self.seen_size += len(text)
            elif self.size < self.budget:
                self.records[text] = record
                self.size += len(text)
                self.valid[id(record)] = _is_record(record)
        return record

    def split(self, text):
        """``(records, texts, areas)`` of a text written one record per line
        (module_utils/areas.py results_json), or None when it is not in that
        form.  Each line is a whole JSON value, so the text is the JSON of the
        records its lines decode to; a line that is not raises ValueError."""
        if not text.isascii():
            # not the module's text (it escapes all but ASCII): its lines could hold a raw lone
            # surrogate no file can hold; the slow way encodes the records again
            return None
        lines = text.split("\n")
        if len(lines) < 3 or lines[0] != _HEAD or not (lines[-1].startswith(_TAIL) and lines[-1].endswith("}")):
            return None
        texts = lines[1:-1]
        if texts == [""]:
            texts = []
        elif not all(line.endswith(",") for line in texts[:-1]):
            return None
        texts = [line[:-1] for line in texts[:-1]] + texts[-1:]
        return [self.decode(line) for line in texts], texts, json.loads(lines[-1][len(_TAIL):-1])


def _decode_results_json(registered, decoder):
    """A result registered with results_format=json: its ``results`` and
    ``areas`` back from the one JSON text, one host at a time.  Returns
    ``{id(record): (record, its text)}`` (the texts become the host file's lines)."""
    text = registered.pop("results_json", None)
    if text is None:
        return {}
    try:
        split = decoder.split(text) if isinstance(text, str) else None
    except ValueError:
        split = None  # the slow way decides
    try:
        if split is None:
            decoded = json.loads(text)
            split = decoded["results"], None, decoded["areas"]
    except (TypeError, ValueError, KeyError) as exc:
        registered.update(results=[], json_error="results_json is not the JSON text of results "
                          "and areas (%s: %s)" % (type(exc).__name__, exc))
        return {}
    records, texts, areas = split
    registered.update(results=records, areas=areas)
    # the record itself is kept with its text: an id() is unique only while its object lives
    return dict((id(record), (record, text)) for record, text in zip(records, texts)) if texts else {}


def _text_of(text_of, record):
    kept = text_of.get(id(record))
    return kept[1] if kept is not None and kept[0] is record else _encode(record)


def host_reports(hosts, hostvars, result_vars=RESULT_VARS, generated=None):
    """The reports of ``hosts`` (each once, in order) from Ansible's
    hostvars, built one at a time.  Only the structure the reports read is
    copied into plain dicts; the records' values go to the JSON encoder as
    they are (2.19's tagged strings and containers encode as their plain
    types), so a large fleet is not copied value by value.  Records
    registered as JSON text keep their text (``_texts``, the host file's
    lines), so they are never encoded again."""
    generated = generated or now()
    seen = set()
    decoder = _RecordTexts()
    for host in hosts:
        host = str(host)
        if host in seen:
            continue
        seen.add(host)
        variables = hostvars[host] if host in hostvars else {}
        registered, text_of = {}, {}
        for var in result_vars:
            value = variables.get(var)
            if isinstance(value, dict):
                value = dict(value)
                text_of.update(_decode_results_json(value, decoder))
                records = value.get("results")
                records = records if isinstance(records, list) else []
                # a plain dict as is; Ansible's lazy containers copied once
                valid = decoder.valid
                value["results"] = [r if r.__class__ is dict else dict(r) for r in records
                                    if valid.get(id(r)) or (id(r) not in valid and _is_record(r))]
                value["malformed"] = len(records) - len(value["results"])
                if value["malformed"]:
                    value["malformed_first"] = next(filter(None, map(record_problem, records)), None)
                registered[var] = value
        built = host_report(host, registered, result_vars, generated)
        if text_of:
            built["_texts"] = [_text_of(text_of, record) for record in built["results"]]
        yield built


def _gated(record, strict):
    outcome = STATUSES.get(record["status"], "warn")
    return (outcome == "fail" and (record["severity"] == "required" or strict)) or (
        outcome == "warn" and strict)


def gate(report, strict=False):
    """Why the host fails verification (an empty list when it passes): a
    required ID that fails and is not waived; recommended ones (and results
    that could not be decided) only when ``strict``; errors always."""
    reasons = list(report["errors"])
    reasons.extend("%s %s" % (record["id"], record["status"]) for record in report["results"]
                   if _gated(record, strict))
    return reasons


def verdict(report, strict=False):
    if gate(report, strict):
        return "fail"
    if any(STATUSES.get(r["status"], "warn") in ("fail", "warn") for r in report["results"]):
        return "warn"
    return "pass"


# --------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------
_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-")
_READABLE = re.compile(r"[^A-Za-z0-9._-]")


def readable(text, length=48):
    """``text`` cut to ``length`` with anything but ASCII letters, digits,
    ``.``, ``_``, ``-`` made ``_``: safe in any file name."""
    return _READABLE.sub("_", text[:length])


def host_file(host, digits=16):
    """The report file name of ``host``: ``host-<name>.json`` for a short name
    of lower-case letters, digits, ``.``, ``_``, ``-``; any other name (``/``,
    upper case, non-ASCII, control characters, over 100 characters) becomes
    a readable part and a hash, ``host-<readable>~<sha256>.json``.  Plain names
    never contain ``~``, so the two forms never meet; upper case is hashed so
    that names differing in case stay apart on case-insensitive file systems.
    At most 120 bytes (file systems allow 255)."""
    if 0 < len(host) <= 100 and _PLAIN.issuperset(host):
        return "host-%s.json" % host
    digest = hashlib.sha256(host.encode("utf-8", "surrogatepass")).hexdigest()[:digits]
    return "host-%s~%s.json" % (readable(host), digest)


# C0 (line breaks and TAB too: a table line stays one line), DEL, C1 (the Linux
# console reads U+009B as CSI, YAML output U+0085 as a line break), U+2028/U+2029
# (line breaks to YAML), the bidirectional overrides and isolates (they reorder
# what a terminal shows), lone surrogates and the two noncharacters.
_VISIBLE = re.compile(u"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                      u"\ud800-\udfff\ufffe\uffff]")


def _spell(match):
    code = ord(match.group())
    return "\\x%02x" % code if code < 0x100 else "\\u%04x" % code


def printable(text):
    """``text`` with control characters (line breaks included), line and
    bidirectional-override separators and lone surrogates spelled out
    (``\\x1b``, ``\\n``... as ``\\x0a``): one line the terminal shows as it is."""
    return _VISIBLE.sub(_spell, text)


# --------------------------------------------------------------------------
# JUnit XML
# --------------------------------------------------------------------------
# XML 1.0 allows TAB, LF, CR, U+0020-U+D7FF, U+E000-U+FFFD and U+10000 up
# (https://www.w3.org/TR/xml/#charsets): everything else is spelled out.
_XML_FORBIDDEN = re.compile(u"[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value):
    value = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    return _XML_FORBIDDEN.sub(_spell, value)


def xml_attr(value):
    return xml_text(value).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")


def _text(value):
    if isinstance(value, (dict, list)):
        try:
            return json.dumps(value, sort_keys=True, default=_jsonable)
        except TypeError:  # keys of several types cannot be sorted
            return _encode(value)
    return "" if value is None else str(value)


def _junit_case(record, strict):
    """A record's test case after its ``classname="<host>`` (shared by every
    host with the same record) and how it counts: (xml, failed, skipped).
    A passing case is its name (and its status when not plain ``pass``):
    its values are in the host's JSON, and at 10,000 hosts properties on
    every passing case would make the file a third of a gigabyte."""
    outcome = STATUSES.get(record["status"], "warn")
    names = ("severity", "status", "expected", "actual", "waiver") if outcome != "ok" else (
        ("status",) if record["status"] != "pass" else ())
    properties = "".join('<property name="%s" value="%s"/>' % (name, xml_attr(_text(record.get(name))))
                         for name in names)
    head = '.%s" name="%s">%s' % (
        xml_attr(str(record["area"])), xml_attr(str(record["id"])),
        "<properties>%s</properties>" % properties if properties else "")
    if outcome in ("fail", "warn"):
        detail = xml_text("%s\nexpected: %s\nactual: %s\nevidence: %s\nremediation: %s" % (
            record["message"], _text(record["expected"]), _text(record["actual"]),
            _text(record["evidence"]), record["remediation"]))
        if _gated(record, strict):
            return ('%s<failure message="%s" type="%s">%s</failure></testcase>\n' % (
                head, xml_attr("%s: %s" % (record["status"], record["message"])),
                xml_attr(record["status"]), detail), True, False)
        return ("%s<system-out>WARNING (%s, %s): %s</system-out></testcase>\n" % (
            head, xml_text(record["severity"]), xml_text(record["status"]), detail), False, False)
    if outcome == "skip":
        # the modules' waived message is "waived: <reason> (found: ... | not checked: ...)": CI shows what was waived
        message = record["message"] if str(record["message"] or "").startswith(record["status"] + ": ") else "%s: %s" % (
            record["status"], record["waiver"] or record["message"])
        return ('%s<skipped message="%s"/></testcase>\n' % (head, xml_attr(message)), False, True)
    return head + "</testcase>\n", False, False


def junit_head(totals=(0, 0, 0, 0)):
    """The start of junit.xml with the fleet's totals (tests, failures, errors;
    skipped is not a testsuites attribute in junit-4.xsd), always the same
    length: written first, then written again over itself once the fleet is
    counted."""
    tag = '<testsuites name="guestready.gce" tests="%d" failures="%d" errors="%d"' % tuple(totals[:3])
    return '<?xml version="1.0" encoding="UTF-8"?>\n%s>\n' % tag.ljust(100)


_JUNIT_TAIL = "</testsuites>\n"


# --------------------------------------------------------------------------
# The fleet, one host at a time
# --------------------------------------------------------------------------
class Fleet(object):
    """What the fleet files need, gathered one host report at a time: the
    summary entries, each distinct record once (with what a host having it
    gets: its JUnit case, its gate reason...), and per host the numbers of its
    records.  A record's number says its requirement: no per-cell ID is kept."""

    def __init__(self, strict=False, budget=EVIDENCE_BUDGET):
        self.strict = strict
        self.budget = budget
        self.used = 0
        self.hosts = []            # [name, verdict, file]
        self.entries = {}          # name -> summary entry
        self.files = {}            # file -> name
        self.errors = []           # [host number, error]
        self.rows = {}             # ID -> row number (first seen)
        self.row_info = []         # [ID, area, severity, title]
        self.cells = []            # per host: array of its record numbers
        self.index = {}            # record text -> record number
        # per record number:
        self.record_row = []       # its requirement's row
        self.record_status = []    # its status
        self.record_text = []      # its JSON, None past the budget
        self.case = []             # its JUnit test case after classname="<host>
        self.failed = []           # 1 when its case fails (the gate)
        self.skipped = []          # 1 when its case is skipped
        self.reason = []           # its gate reason ("ID status") or None
        self.problem = []          # True when it fails or warns
        self.junit_totals = [0, 0, 0, 0]  # tests, failures, errors, skipped

    def file_for(self, host):
        if host in self.entries:
            raise ValueError("host %r is reported twice" % (host,))
        name = host_file(host)
        if self.files.get(name, host) != host:  # a 64-bit hash collision: take all 256 bits
            name = host_file(host, digits=64)
        self.files[name] = host
        return name

    def _row(self, record):
        row = self.rows.get(record["id"])
        if row is None:
            row = self.rows[record["id"]] = len(self.row_info)
            entry = _BY_ID.get(record["id"], record)
            self.row_info.append([str(entry["id"]), str(entry["area"]), str(entry["severity"]),
                                  str(entry["title"])])
        return row

    def _new(self, text, record):
        """Number a record not seen before (kept for later hosts within the budget)."""
        number = len(self.record_status)
        status = record["status"]
        outcome = STATUSES.get(status, "warn")
        case, failed, skipped = _junit_case(record, self.strict)
        self.record_row.append(self._row(record))
        self.record_status.append(status)
        self.case.append(case)
        self.failed.append(failed)
        self.skipped.append(skipped)
        self.reason.append("%s %s" % (record["id"], status) if _gated(record, self.strict) else None)
        self.problem.append(outcome in ("fail", "warn"))
        # passing evidence may use half the budget, the rest is kept for what fails
        if self.used + len(text) <= (self.budget // 2 if outcome == "ok" else self.budget):
            self.used += len(text)
            self.record_text.append(text)
            self.index[text] = number
        else:  # past the budget: this host's alone (its case is dropped after it)
            self.record_text.append(None)
        return number

    def add(self, report, file, texts):
        """Take one host report (``texts``: its records' JSON); returns its
        JUnit test suite."""
        host, errors, results = report["host"], report["errors"], report["results"]
        numbers = [self.index.get(text) for text in texts]
        if None in numbers:
            numbers = [self._new(text, record) if number is None else number
                       for number, text, record in zip(numbers, texts, results)]
        name = xml_attr(host)
        prefix = '<testcase classname="' + name
        # counted as junit-4.xsd (Ant, Jenkins) counts: failures the cases with <failure>
        # (a record failing the gate), errors those with <error> (the host's errors)
        counts = (len(numbers) + len(errors), sum(map(self.failed.__getitem__, numbers)), len(errors),
                  sum(map(self.skipped.__getitem__, numbers)))
        self.junit_totals = [total + count for total, count in zip(self.junit_totals, counts)]
        # a host's errors: classname "<host>.host" (CI reads the classname up to its last dot as
        # the package: the host's, as for its results), names unique (GitLab keeps one case per
        # classname and name)
        suite = "".join(['<testsuite name="%s" tests="%d" failures="%d" errors="%d" skipped="%d">\n' % (
            (name,) + counts)] + [
            '%s.host" name="error%s"><error message="%s">%s</error></testcase>\n' % (
                prefix, " %d" % number if number > 1 else "", xml_attr(e), xml_text(e))
            for number, e in enumerate(errors, 1)] + ([prefix] if numbers else []) + [
            prefix.join(map(self.case.__getitem__, numbers)), "</testsuite>\n"])
        reasons = errors + [reason for reason in map(self.reason.__getitem__, numbers) if reason]
        verdict_ = "fail" if reasons else "warn" if any(map(self.problem.__getitem__, numbers)) else "pass"
        for number in numbers:
            if self.record_text[number] is None:
                self.case[number] = None  # not shared: keep no JUnit text for it
        self.errors.extend([len(self.hosts), error] for error in errors)
        self.hosts.append([host, verdict_, file])
        self.cells.append(array("i", numbers))
        # generated: when the host was checked, which a merged report's own time is not
        # (the next merge of this directory picks the newest report by it)
        self.entries[host] = entry = {
            "verdict": verdict_, "gate": reasons, "summary": report["summary"],
            "errors": errors, "changed": report["changed"], "file": file, "generated": report["generated"],
        }
        if "source" in report:
            entry["source"] = report["source"]
        return suite

    def summary(self, generated=None, extra=None):
        requirements = {}
        for row in self._ordered_rows():
            rid, area, severity, title = self.row_info[row]
            requirements[rid] = {"title": title, "area": area, "severity": severity, "hosts": {}}
        by_row = [requirements[info[0]]["hosts"] for info in self.row_info]
        row_of, status_of = self.record_row, self.record_status
        for (host, dummy, dummy), numbers in zip(self.hosts, self.cells):
            for number in numbers:
                by_row[row_of[number]][host] = status_of[number]
        totals = dict((name, 0) for name in ("pass", "warn", "fail"))
        for entry in self.entries.values():
            totals[entry["verdict"]] += 1
        summary = {
            "schema_version": SCHEMA_VERSION,
            "generated": generated or now(),
            "strict": self.strict,
            "hosts": self.entries,
            "requirements": requirements,
            "totals": totals,
            # a report of no host proves nothing: it fails, or a selection or merge
            # that matched nothing would pass
            "gate_failed": totals["fail"] > 0 or not self.entries,
        }
        summary.update(extra or {})
        return summary

    def _ordered_rows(self):
        return sorted(range(len(self.row_info)),
                      key=lambda row: (_ORDER.get(self.row_info[row][0], len(_ORDER)), row))

    def html(self, summary):
        return "".join(self.html_parts(summary))

    def html_parts(self, summary, records_per_part=1000):
        """report.html in parts, the evidence a part per ``records_per_part``
        records: written one after the other, the page is never one string
        (nor its escaped and encoded copies) beside the records it embeds."""
        ordered = self._ordered_rows()
        position = [0] * len(ordered)
        for index, row in enumerate(ordered):
            position[row] = index
        width = len(ordered)
        column = [position[row] for row in self.record_row]  # record number -> page row
        cells = [-1] * (width * len(self.hosts))
        for host, numbers in enumerate(self.cells):
            base = host * width
            for number in numbers:
                cells[base + column[number]] = number
        areas = list(AREAS) + sorted(set(self.row_info[row][1] for row in ordered) - set(AREAS))
        data = {
            "generated": summary["generated"], "run": summary.get("run", ""), "strict": self.strict,
            "totals": summary["totals"], "areas": areas, "outcomes": STATUSES,
            "ids": [self.row_info[row] for row in ordered], "hosts": self.hosts,
            "records": self.record_status, "cells": cells, "errors": self.errors,
            "merged": summary.get("merged"),
        }
        head, rest = _HTML.split("%(data)s")
        middle, tail = rest.split("%(evidence)s")
        yield head
        yield script_json(_encode(data))
        yield middle + "["
        texts = self.record_text
        for start in range(0, len(texts), records_per_part):
            # cut between records: no escape sequence spans two parts
            yield ("," if start else "") + script_json(",".join(
                text or "null" for text in texts[start:start + records_per_part]))
        yield "]" + tail


# In JSON text: an escaped backslash, a surrogate pair, a lone surrogate.
_SURROGATE = re.compile(r"\\\\|\\ud[89ab][0-9a-f]{2}\\ud[c-f][0-9a-f]{2}|\\u(d[89a-f][0-9a-f]{2})")


def _spell_surrogate(match):
    return "\\\\u" + match.group(1) if match.group(1) else match.group()


def script_json(text):
    """JSON text made safe inside ``<script type="application/json">``: no
    ``<`` (so no ``</script>`` or ``<!--``), ``>`` or ``&``, and no raw line
    separators (U+2028/U+2029); the escapes are the same JSON.  A lone
    surrogate (which no UTF-8 page can hold, and which makes Chromium abort
    when it serialises the DOM) is spelled out as text, ``\\ud800``."""
    if "\\ud" in text:
        text = _SURROGATE.sub(_spell_surrogate, text)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace(u"\u2028", "\\u2028").replace(u"\u2029", "\\u2029"))


def host_json(report, texts):
    """A host report as JSON text, one record per line (``texts``)."""
    head = "".join('  "%s": %s,\n' % (key, _encode(report[key]))
                   for key in ("schema_version", "host", "generated", "errors", "areas", "changed",
                               "summary", "source") if key in report)
    return '{\n%s  "results": [\n    %s\n  ]\n}\n' % (head, ",\n    ".join(texts))


def summary_json(summary):
    """summary.json, one host and one requirement per line."""
    parts = []
    for key in sorted(summary):
        value = summary[key]
        if key in ("hosts", "requirements") and value:
            value = "{\n%s\n  }" % ",\n".join(
                "    %s: %s" % (_encode(name), _encode(item)) for name, item in value.items())
        else:
            value = _encode(value)
        parts.append("  %s: %s" % (_encode(key), value))
    return "{\n%s\n}\n" % ",\n".join(parts)


def fleet(reports, strict=False):
    """A Fleet from a list of host reports, without writing anything."""
    built = Fleet(strict)
    suites = []
    for report in reports:
        suites.append(built.add(report, built.file_for(report["host"]),
                                [_encode(record) for record in report["results"]]))
    return built, suites


def fleet_summary(reports, strict=False, started=None, extra=None):
    return fleet(reports, strict)[0].summary(started, extra)


def junit_xml(reports, strict=False):
    """One test case per host x requirement ID.  A case fails exactly when it
    fails the gate; a recommended failure outside strict mode passes with a
    warning in its output, a waived or not-applicable one is skipped.  Text
    XML forbids (control characters, lone surrogates) is spelled out."""
    built, suites = fleet(reports, strict)
    return junit_head(built.junit_totals) + "".join(suites) + _JUNIT_TAIL


def html_page(reports, summary=None, strict=False):
    built = fleet(reports, strict)[0]
    return built.html(summary or built.summary())


def text_table(summary, limit=TABLE_HOSTS):
    """The short table printed at the end of a run (beyond ``limit`` hosts,
    only those that do not pass, failing ones first)."""
    names = sorted(summary["hosts"])
    hidden = 0
    if len(names) > limit:
        rank = {"fail": 0, "warn": 1}
        chosen = sorted((name for name in names if summary["hosts"][name]["verdict"] in rank),
                        key=lambda name: (rank[summary["hosts"][name]["verdict"]], name))[:limit]
        hidden = len(names) - len(chosen)
        names = chosen
    # waived has a column of its own (requirements.md section 4: shown as waived in every report)
    rows = [("host", "verdict", "pass", "fail", "warn", "skip", "waived", "first problems")]
    for host in names:
        entry = summary["hosts"][host]
        counts = dict((name, 0) for name in OUTCOMES)
        for status, count in entry["summary"].items():
            counts[STATUSES.get(status, "warn")] += count
        waived = entry["summary"].get("waived", 0)
        problems = ", ".join(entry["gate"][:3]) + (" ..." if len(entry["gate"]) > 3 else "")
        rows.append((printable(host), entry["verdict"].upper(), str(counts["ok"]), str(counts["fail"]),
                     str(counts["warn"]), str(counts["skip"] - waived), str(waived), printable(problems)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row[:-1], widths)) + "  " + row[-1]
             for row in rows]
    if hidden:
        lines.append("... %d more host(s) not listed: see summary.json" % hidden)
    totals = summary["totals"]
    lines.append("%d host(s): %d pass, %d warn, %d fail%s" % (
        sum(totals.values()), totals["pass"], totals["warn"], totals["fail"],
        " (strict)" if summary["strict"] else ""))
    return lines


def gate_message(summary):
    """Why the gate fails, in a sentence ("" when it passes)."""
    if not summary["hosts"]:
        return ("no host was reported: the run's hosts matched nothing and nothing was merged "
                "(check guestready_gce_hosts, --limit and guestready_gce_merge)")
    failing = sorted(host for host, entry in summary["hosts"].items() if entry["verdict"] == "fail")
    if not failing:
        return ""
    return "%d host(s) fail verification (%s%s)" % (
        len(failing), ", ".join(printable(host) for host in failing[:20]), " ..." if len(failing) > 20 else "")


def artifacts(summary, paths):
    """The run in a few fields, for ``set_stats`` (AWX job artifacts): totals,
    each host's verdict, the IDs that fail the gate (with how many hosts), the
    failing hosts with their reasons, and where the reports are."""
    failing_ids = {}
    for entry in summary["hosts"].values():
        for reason in entry["gate"]:
            rid = reason.split(" ", 1)[0]
            if rid in summary["requirements"]:
                failing_ids[rid] = failing_ids.get(rid, 0) + 1
    return {
        "totals": summary["totals"],
        "gate_failed": summary["gate_failed"],
        "strict": summary["strict"],
        "verdicts": dict((host, entry["verdict"]) for host, entry in summary["hosts"].items()),
        "failing_ids": failing_ids,
        "failing_hosts": dict((host, entry["gate"]) for host, entry in summary["hosts"].items()
                              if entry["verdict"] == "fail"),
        "report_dir": paths["directory"],
        "summary": paths["summary"],
        "html": paths["html"],
        "junit": paths["junit"],
    }


# --------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------
class _Output(object):
    """Files replaced atomically in one directory, and only once every file
    of the run is written (``finish``); every temporary file is removed when
    anything fails.  ``write`` hands the file to a writer
    thread: creating a file costs this machine's kernel about as much as
    encoding its records, and the two overlap on two cores (the thread
    holds no lock while in a system call).  One writer, so that file
    creations never queue on the directory's lock."""

    def __init__(self, directory):
        self.directory = directory
        self.temporaries = {}
        self.written = []  # (temporary, name) in the order queued: renamed only when all are written
        self.count = 0
        self.error = None
        self.pid = os.getpid()
        # files go to the writer in batches: a hand-over per file woke the
        # other thread 10,000 times (a context switch each, 1 s of the 10,000
        # host build); a few batches waiting keep it busy, each waits
        # encoded, so more only add memory
        self.batch, self.batch_size = [], 0
        self.queue = queue.Queue(maxsize=4)
        self.thread = threading.Thread(target=self._writer, name="guestready-report-writer")
        self.thread.daemon = True
        self.thread.start()

    def _create(self, name):
        # named after this process and a counter (mkstemp's random names cost
        # more than the write at 10,000 hosts); O_EXCL never takes another's
        self.count += 1
        path = os.path.join(self.directory, ".%s.%d.%d.tmp" % (name[:64], self.pid, self.count))
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            fd, path = tempfile.mkstemp(prefix=".%s." % name[:64], suffix=".tmp", dir=self.directory)
            os.fchmod(fd, 0o644)
        self.temporaries[path] = fd
        return fd, path

    def _writer(self):
        while True:
            batch = self.queue.get()
            if batch is None:
                return
            for item in batch:
                if self.error is None:
                    try:
                        self._write(*item)
                    except BaseException as exc:  # handed to the main thread, which raises it
                        self.error = exc

    def _write(self, name, parts):
        fd, path = self._create(name)
        for data in parts:
            data = memoryview(data)
            while data:
                data = data[os.write(fd, data):]
        os.close(fd)
        self.temporaries[path] = None  # written and closed: renamed by finish(), or removed
        self.written.append((path, name))

    def _check(self):
        if self.error is not None:
            raise self.error

    def open(self, name):
        """A file object for a file written piece by piece (commit it)."""
        fd, path = self._create(name)
        handle = self.temporaries[path] = os.fdopen(fd, "w", encoding="utf-8")
        return handle, path

    def commit(self, path, name):
        handle = self.temporaries.pop(path)
        if isinstance(handle, int):
            os.close(handle)
        elif handle is not None:
            handle.close()
        target = os.path.join(self.directory, name)
        try:
            os.replace(path, target)
        except BaseException:
            os.unlink(path)
            raise
        return target

    def write(self, name, text):
        """Queue ``text`` for ``name``; returns where it will be."""
        return self.write_parts(name, (text.encode("utf-8"),))

    def write_parts(self, name, parts, batch_bytes=1 << 18, batch_files=64):
        """Queue ``name`` made of ``parts`` (bytes, or an iterable made in the
        writer thread); returns where it will be."""
        self._check()
        self.batch.append((name, parts))
        self.batch_size += sum(len(part) for part in parts) if isinstance(parts, tuple) else batch_bytes
        if self.batch_size >= batch_bytes or len(self.batch) >= batch_files:
            self._hand_over()
        return os.path.join(self.directory, name)

    def _hand_over(self):
        if self.batch:
            self.queue.put(self.batch)
            self.batch, self.batch_size = [], 0

    def finish(self):
        """Wait for the writer (raises what it met), then put every file in
        place: none replaces an earlier one before all are written, so a run
        refused part way (a file someone else wrote, a damaged source) leaves
        the directory as it was."""
        self.finish_quietly()
        self._check()
        for path, name in self.written:
            self.commit(path, name)
        self.written = []

    def discard(self):
        """After a failure: the files queued are written (or skipped after
        the writer's own error), then no temporary file is left."""
        self.finish_quietly()
        for path, handle in self.temporaries.items():
            try:
                if isinstance(handle, int):
                    os.close(handle)
                elif handle is not None:
                    handle.close()
            except (OSError, ValueError):
                pass
            try:
                os.unlink(path)
            except OSError:
                pass
        self.temporaries = {}

    def finish_quietly(self):
        if self.thread.is_alive():
            self._hand_over()
            self.queue.put(None)
            self.thread.join()


def prepare_directory(directory):
    """Create ``directory`` (and its parents) if missing and check that it is
    a writable directory; a ReportError names it otherwise."""
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise ReportError("the report directory %s is not a directory" % directory)
    try:
        os.makedirs(directory, exist_ok=True)
    except ValueError as exc:  # a NUL in the path
        raise ReportError("cannot create the report directory %r: %s" % (directory, exc))
    except OSError as exc:
        raise ReportError("cannot create the report directory %s: %s" % (directory, exc.strerror or exc))
    if not os.access(directory, os.W_OK | os.X_OK):
        raise ReportError("the report directory %s is not writable" % directory)
    return os.path.abspath(directory)


def new_directory(parent, name):
    """A directory ``parent/name`` that did not exist (``name-2``, ``-3``...
    when runs start in the same second, like job slices)."""
    prepare_directory(parent)
    for attempt in range(1, 1000):
        path = os.path.join(parent, name if attempt == 1 else "%s-%d" % (name, attempt))
        try:
            os.mkdir(path)
            return os.path.abspath(path)
        except OSError as exc:
            if exc.errno != errno.EEXIST:
                raise ReportError("cannot create the report directory %s: %s" % (path, exc.strerror or exc))
    raise ReportError("cannot create a new report directory in %s" % parent)


# What the start of each file the collection writes holds (summary.json is read whole).
_OWN_MARKS = {"report.html": "<title>guestready.gce compliance report</title>",
              "junit.xml": '<testsuites name="guestready.gce"'}


def _written_here(path, name):
    """Whether the file at ``path`` is one of the collection's reports (any
    schema version): only those are replaced."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            if name == "summary.json":
                value = json.load(handle)
                return isinstance(value, dict) and "hosts" in value and "requirements" in value
            head = handle.read(64 * 1024)
    except (OSError, ValueError):
        return False
    if name in _OWN_MARKS:
        return _OWN_MARKS[name] in head
    return head.lstrip().startswith("{") and '"host": ' in head  # host-*.json


def _refuse_foreign(directory, name, existing):
    if name in existing and not _written_here(os.path.join(directory, name), name):
        raise ReportError("%s is not a report of guestready.gce: not replaced (move it, or choose another "
                          "report directory)" % os.path.join(directory, name))


def write_reports(directory, reports, strict=False, started=None, extra=None, budget=EVIDENCE_BUDGET):
    """Write ``reports`` (an iterable of host reports, read once) into
    ``directory``: a JSON file per host as it comes, then summary.json,
    junit.xml and report.html, each put in place (replacing an earlier run's)
    only once all are written.  Returns (paths, summary).  Raises ReportError
    naming the directory (or a file there that the collection did not write,
    or a damaged source of a merge), leaving the directory as it was; no
    temporary file is left behind."""
    directory = prepare_directory(directory)
    try:
        existing = frozenset(os.listdir(directory))
    except OSError as exc:
        raise ReportError("cannot read the report directory %s: %s" % (directory, exc.strerror or exc))
    for name in ("summary.json", "report.html", "junit.xml"):
        _refuse_foreign(directory, name, existing)
    built = Fleet(strict, budget)
    paths = {"directory": directory, "hosts": {}}
    collecting = gc.isenabled()
    gc.disable()  # nothing here makes cycles; a collection per allocation burst walks the whole fleet
    output = _Output(directory)
    try:
        junit, junit_path = output.open("junit.xml")
        junit.write(junit_head())
        for report in reports:
            name = built.file_for(report["host"])
            if existing:
                _refuse_foreign(directory, name, existing)
            texts = report.get("_texts") or [_encode(record) for record in report["results"]]
            paths["hosts"][report["host"]] = output.write(name, host_json(report, texts))
            junit.write(built.add(report, name, texts))
        junit.write(_JUNIT_TAIL)
        junit.seek(0)
        junit.write(junit_head(built.junit_totals))
        summary = built.summary(started, extra)
        output.write("summary.json", summary_json(summary))
        output.write_parts("report.html", (part.encode("utf-8") for part in built.html_parts(summary)))
        output.finish()  # the host files and the summary are in place before junit.xml
        paths["junit"] = output.commit(junit_path, "junit.xml")
        paths["summary"] = os.path.join(directory, "summary.json")
        paths["html"] = os.path.join(directory, "report.html")
    except OSError as exc:
        output.discard()
        raise ReportError("cannot write the reports to %s: %s" % (
            directory, exc.strerror or exc))
    except BaseException:
        output.discard()
        raise
    finally:
        if collecting:
            gc.enable()
    return paths, summary


# --------------------------------------------------------------------------
# Merging report directories (job slices, serial batches, several runs)
# --------------------------------------------------------------------------
def _load(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except OSError as exc:
        raise ReportError("cannot read %s: %s" % (path, exc.strerror or exc))
    except ValueError as exc:
        raise ReportError("%s is not valid JSON: %s" % (path, exc))


def _when(stamp, path):
    try:
        value = datetime.datetime.fromisoformat(stamp)
    except (TypeError, ValueError):
        raise ReportError("%s: %r is not an ISO 8601 time" % (path, stamp))
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value


def _generated_of(path):
    report = _load(path)
    return report.get("generated") if isinstance(report, dict) else None


def _host_files(directory):
    """(host, generated, path) of every host report in a report directory,
    from its summary.json, or from its host-*.json files when it has none
    (a run that stopped before its summary)."""
    summary_path = os.path.join(directory, "summary.json")
    if os.path.exists(summary_path):
        summary = _load(summary_path)
        if not isinstance(summary, dict) or not isinstance(summary.get("hosts"), dict):
            raise ReportError("%s is not a guestready.gce summary" % summary_path)
        generated = _when(summary.get("generated"), summary_path)
        found = []
        for host, entry in summary["hosts"].items():
            if not isinstance(entry, dict):
                raise ReportError("%s is not a guestready.gce summary: the entry of host %s is %s, not an object" % (
                    summary_path, _shown(host), _shown(entry)))
            name = entry.get("file", "host-%s.json" % host.replace("/", "_"))  # schema 1: no "file"
            if not isinstance(name, str) or os.path.basename(name) != name or name in ("", ".", ".."):
                raise ReportError("%s is not a guestready.gce summary: the file of host %s is %s, not a file name" % (
                    summary_path, _shown(host), _shown(name)))
            path = os.path.join(directory, name)
            if "generated" in entry:
                when = _when(entry["generated"], summary_path)
            elif "merged" in summary:  # an earlier merge's summary: its time is the merge's, not the host's
                when = _when(_generated_of(path), path)
            else:  # a run's summary: its hosts were checked in the run it times
                when = generated
            found.append((host, when, path))
        return found
    try:
        names = sorted(name for name in os.listdir(directory)
                       if name.startswith("host-") and name.endswith(".json"))
    except OSError as exc:
        raise ReportError("cannot read the report directory %s: %s" % (directory, exc.strerror or exc))
    if not names:
        raise ReportError("cannot merge %s: it holds no report (no summary.json, no host-*.json); name the "
                          "report directories themselves, not a directory above them" % directory)
    found = []
    for name in names:
        path = os.path.join(directory, name)
        report = _load(path)
        if not isinstance(report, dict) or not isinstance(report.get("host"), str):
            raise ReportError("%s is not a guestready.gce host report: its host is %s, not a name" % (
                path, _shown(report.get("host") if isinstance(report, dict) else None)))
        stamp = report.get("generated") or datetime.datetime.fromtimestamp(
            os.path.getmtime(path), datetime.timezone.utc).isoformat()
        found.append((report["host"], _when(stamp, path), path))
    return found


# docs/schemas/host-report.schema.json, $defs.result.properties.id.pattern (\Z: no newline after it)
_ID_PATTERN = re.compile(r"(HW|KCONF|SYSCTL|GCE|IMG)-[A-Z0-9_-]+\Z")


def _is_text(value):
    return isinstance(value, str)


def _is_text_or_null(value):
    return value is None or isinstance(value, str)


def _is_count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


# what docs/schemas/host-report.schema.json says of a record's fields (expected, actual: anything)
_RECORD_FIELDS = (
    ("area", lambda value: isinstance(value, str) and value in AREAS, "one of " + ", ".join(AREAS)),
    ("severity", lambda value: isinstance(value, str) and value in SEVERITIES, "one of " + ", ".join(SEVERITIES)),
    ("title", _is_text, "a text"),
    ("evidence", lambda value: isinstance(value, dict), "an object"),
    ("message", _is_text, "a text"),
    ("remediation", _is_text, "a text"),
    ("waiver", _is_text_or_null, "a text or null"),
)
_AREA_FIELDS = (
    ("changed", lambda value: isinstance(value, bool), "true or false"),
    ("count", _is_count, "a count"),
    ("error", _is_text_or_null, "a text or null"),
)


def _merged_record_problem(record):
    """What makes a merged host file's ``record`` break the host report
    schema, or contradict the catalogue (None if nothing).  The catalogue
    decides an ID's severity and area: the gate, JUnit and the page's row
    read them, and a file saying otherwise (edited, or not written by the
    collection) would make a required ID stop gating."""
    problem = record_problem(record)
    if problem:
        return problem
    rid = record["id"]
    if not _ID_PATTERN.match(rid):
        return "a result whose id is %s, not a requirement ID (HW-, KCONF-, SYSCTL-, GCE-, IMG- and " \
               "upper-case letters, digits, _ or -)" % _shown(rid)
    for field, valid, wanted in _RECORD_FIELDS:
        if not valid(record[field]):
            return "the %s of %s is %s, not %s" % (field, printable(rid), _shown(record[field]), wanted)
    entry = _BY_ID.get(rid)
    if entry is not None:
        for field in ("severity", "area"):
            if record[field] != entry[field]:
                return ("the %s of %s is %s, but the requirement catalogue says %s (the catalogue decides "
                        "what gates; check the host again, or correct the file)" % (
                            field, rid, _shown(record[field]), _shown(entry[field])))
    return None


def _shape_problem(report, host):
    """What makes ``report`` unusable as ``host``'s report (None if nothing):
    the fields a merge keeps checked against docs/schemas/host-report.schema.json
    (``generated``, ``summary``, ``schema_version`` and ``source`` are written
    anew; ``errors``, ``areas`` and ``changed`` may be missing, as in schema 1)."""
    if not isinstance(report, dict):
        return "not a JSON object"
    if report.get("host") != host:
        return "it reports %s" % _shown(report.get("host"))
    if not isinstance(report.get("results"), list):
        return "results is %s, not a list" % _shown(report.get("results"))
    errors = report.get("errors", [])
    if not isinstance(errors, list) or not all(isinstance(error, str) for error in errors):
        return "errors is %s, not a list of texts" % _shown(errors)
    changed = report.get("changed", False)
    if not isinstance(changed, bool):
        return "changed is %s, not true or false" % _shown(changed)
    areas = report.get("areas", {})
    if not isinstance(areas, dict):
        return "areas is %s, not an object" % _shown(areas)
    for var, area in areas.items():
        if not isinstance(area, dict) or not area.keys() >= {"changed", "count", "error"}:
            return "areas.%s is %s, not an object with changed, count and error" % (printable(var), _shown(area))
        for field, valid, wanted in _AREA_FIELDS:
            if not valid(area[field]):
                return "areas.%s.%s is %s, not %s" % (printable(var), field, _shown(area[field]), wanted)
    seen = set()
    for record in report["results"]:
        problem = _merged_record_problem(record)
        if problem:
            return problem
        if record["id"] in seen:  # which one counts? neither: the file was not written by a run
            return "requirement ID %s is reported twice" % printable(record["id"])
        seen.add(record["id"])
    return None


def merge_sources(directories, run_hosts=()):
    """Pick, for every host of the report ``directories``, its newest report
    (the run that started last; on a tie, the directory named last); hosts in
    ``run_hosts`` (reported by the current run) are left out: the current
    run is the newest.  Returns (a generator reading the chosen reports one
    at a time, the ``merged`` summary section)."""
    if not directories:
        raise ReportError("nothing to merge: name at least one report directory")
    run_hosts = set(run_hosts)
    chosen, sources, replaced = {}, [], {}
    seen = set()
    for order, directory in enumerate(directories):
        if not os.path.isdir(directory):
            raise ReportError("cannot merge %s: not a directory" % directory)
        # one directory named twice (a trailing /, a link to it): its reports once, or each
        # host would be listed as dropped in favour of the same report
        if os.path.realpath(directory) in seen:
            continue
        seen.add(os.path.realpath(directory))
        found = _host_files(directory)
        sources.append({"directory": os.path.abspath(directory), "hosts": len(found)})
        for host, generated, path in found:
            path = os.path.abspath(path)
            if host in run_hosts:
                note = replaced.setdefault(host, {"kept": "this run", "dropped": []})
                note["dropped"].append(path)
                continue
            before = chosen.get(host)
            if before is not None:
                newer = (generated, order) >= (before[0], before[1])
                kept, dropped = (path, before[2]) if newer else (before[2], path)
                note = replaced.setdefault(host, {"dropped": []})
                note["dropped"] = [p for p in note["dropped"] if p != kept] + [dropped]
                note["kept"] = kept
                if not newer:
                    continue
            chosen[host] = (generated, order, path)
    merged = {"sources": sources, "replaced": replaced,
              "rule": "a host in several directories keeps its newest report (the run that started last)"}

    def reports():
        for host, (generated, dummy, path) in chosen.items():
            report = _load(path)
            problem = _shape_problem(report, host)
            if problem:
                raise ReportError("%s is not the guestready.gce host report of %s: %s" % (path, host, problem))
            report.setdefault("errors", [])
            report.setdefault("areas", {})
            report.setdefault("changed", False)
            unchecked = no_checks(report)  # a file written before this was an error
            if unchecked:
                report["errors"].append(unchecked)
            report["summary"] = summarize(report["results"])  # the records decide, not what the file says
            report["generated"] = generated.isoformat()  # the time it was chosen by (a time, whatever the file says)
            report["schema_version"] = SCHEMA_VERSION
            report["source"] = path
            report.pop("_texts", None)  # the run's own record texts: never taken from a file
            yield report
    return reports(), merged


_HTML = u"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="%(csp)s">
<title>guestready.gce compliance report</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em;margin:0 0 .3em}
.meta{color:#555;margin-bottom:1em}
.controls{margin:.8em 0;display:flex;gap:1em;flex-wrap:wrap;align-items:center}
#grid{overflow:auto;max-height:85vh;max-width:100%}
table{border-collapse:separate;border-spacing:0}
th,td{border:1px solid #ccc;border-width:0 1px 1px 0;padding:3px 8px;text-align:left;vertical-align:top}
tr>:first-child{border-left-width:1px}thead th{border-top-width:1px}
thead th{position:sticky;top:0;background:#f4f4f4;z-index:2}
tbody th{position:sticky;left:0;background:#fff;z-index:1}
thead th.req{left:0;z-index:3}
th.host{cursor:pointer;max-width:16em}
.name{display:-webkit-box;-webkit-line-clamp:3;-webkit-box-orient:vertical;overflow:hidden;overflow-wrap:anywhere}
td{cursor:pointer;text-align:center;font-weight:600;white-space:nowrap}
td.pad,th.pad{padding:0;border:0;background:none}
.title{font-weight:normal;color:#555;font-size:.85em;max-width:38em}
.o-ok{background:#d7f2d7;color:#125212}.o-fail{background:#f8d0d0;color:#7a0f0f}
.o-warn{background:#fbeeb8;color:#6b5200}.o-skip{background:#e4e4ee;color:#444}.o-waived{background:#dde8f6;color:#1d3f6b}
.o-none{background:#fff;color:#999}
.verdict{font-size:.8em;text-transform:uppercase}.v-pass{color:#125212}.v-fail{color:#7a0f0f}.v-warn{color:#6b5200}
tr.hidden{display:none}
.virtual table{table-layout:fixed}
.virtual th,.virtual td{box-sizing:border-box}
.virtual th.host{width:112px;font-size:.85em}
.virtual th.req,.virtual tbody th{width:320px}
.virtual th.host,.virtual td{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.virtual .name{display:block;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.virtual tbody th{overflow:hidden}
#details{position:fixed;right:1em;top:1em;width:34em;max-height:90vh;overflow:auto;background:#fff;
border:2px solid #555;padding:1em;box-shadow:0 2px 12px rgba(0,0,0,.3);z-index:5}
#details[hidden]{display:none}
#details h2{font-size:1.1em;overflow-wrap:anywhere}
pre{white-space:pre-wrap;word-break:break-word;background:#f6f6f6;padding:.5em}
.errors{color:#7a0f0f;overflow-wrap:anywhere}
#shown{color:#555}
</style></head>
<body>
<h1>guestready.gce compliance report</h1>
<div class="meta" id="meta"></div>
<div id="problems"></div>
<div class="controls">
<label>Requirement <input id="filter-id" type="search" placeholder="ID or words"></label>
<label>Status <select id="filter-status"><option value="">any</option><option value="fail">fail</option>
<option value="warn">warn</option><option value="ok">ok</option><option value="skip">skip</option>
<option value="waived">waived</option></select></label>
<label>Area <select id="filter-area"><option value="">any</option></select></label>
<label>Host <input id="filter-host" type="search" placeholder="host name"></label>
<span id="shown"></span>
</div>
<div id="grid"><table id="matrix"></table></div>
<aside id="details" hidden><button id="close" type="button">close</button><h2 id="d-title"></h2>
<dl id="d-body"></dl></aside>
<script type="application/json" id="data">%(data)s</script>
<script>
(function(){
'use strict';
function $(id){return document.getElementById(id);}
function esc(s){return String(s).replace(/[&<>"']/g,function(c){
 return {'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c];});}
var D=JSON.parse($('data').textContent), EV=null;
function evidence(){if(EV===null)EV=JSON.parse($('evidence').textContent);return EV;}
var ids=D.ids,hosts=D.hosts,H=hosts.length,R=ids.length,cells=D.cells;
// waived is an outcome of its own here (a skip in JUnit): shown and filtered as waived
var CODE={ok:1,fail:2,warn:3,skip:4,waived:5},NAME=['none','ok','fail','warn','skip','waived'];
var rc=new Uint8Array(D.records.length),i,h,r;
for(i=0;i<D.records.length;i++)rc[i]=D.records[i]==='waived'?5:CODE[D.outcomes[D.records[i]]]||3;
var code=new Uint8Array(H*R);
for(i=0;i<H*R;i++)code[i]=cells[i]<0?0:rc[cells[i]];
var hostLow=new Array(H),rowLow=new Array(R),hostAttr=new Array(H),idAttr=new Array(R);
for(h=0;h<H;h++)hostLow[h]=hosts[h][0].toLowerCase();
for(r=0;r<R;r++){rowLow[r]=(ids[r][0]+' '+ids[r][3]).toLowerCase();idAttr[r]=esc(ids[r][0]);}
var errs={};D.errors.forEach(function(e){(errs[e[0]]=errs[e[0]]||[]).push(e[1]);});
$('meta').textContent='Generated '+D.generated+(D.run?' \\u00b7 run '+D.run:'')+' \\u00b7 hosts: '+
 ['pass','warn','fail'].map(function(k){return D.totals[k]+' '+k;}).join(', ')+' \\u00b7 '+
 (D.strict?'strict':'required IDs gate, recommended ones warn')+
 (D.merged?' \\u00b7 merged from '+D.merged.sources.length+' report directories ('+
  Object.keys(D.merged.replaced).length+' host(s) in several: the newest report kept)':'');
if(D.errors.length){var ul=document.createElement('ul');ul.className='errors';
 D.errors.slice(0,50).forEach(function(e){var li=document.createElement('li'),b=document.createElement('b');
  b.textContent=hosts[e[0]][0];li.appendChild(b);li.appendChild(document.createTextNode(': '+e[1]));ul.appendChild(li);});
 if(D.errors.length>50){var li=document.createElement('li');
  li.textContent='... '+(D.errors.length-50)+' more: see summary.json or a host\\u2019s column';ul.appendChild(li);}
 if(D.errors.length>5){// many: folded, so that the matrix stays in view
  var box=document.createElement('details'),sum=document.createElement('summary');sum.className='errors';
  sum.textContent=D.errors.length+' error(s): hosts that could not be checked';box.appendChild(sum);box.appendChild(ul);
  $('problems').appendChild(box);}else $('problems').appendChild(ul);}
var area=$('filter-area');
D.areas.forEach(function(a){var o=document.createElement('option');o.textContent=a;area.appendChild(o);});
// Past 3000 cells only the host columns in view are in the DOM: fixed widths
// (CSS .virtual) turn the scroll position into a range of columns.
// Names there are their first DNS label (not an IP address's first number, and only
// when no other host has the same label) and long statuses short (the panel has all).
var grid=$('grid'),table=$('matrix'),VIRTUAL=H*R>3000,COLW=112,FIRSTW=320,OVER=4;
var SHORT=VIRTUAL?{'module-in-initramfs':'in initrd','module-missing-from-initramfs':'no initrd',
 'not-applicable':'n/a'}:{};
var LABEL=null;
function label(h){if(!VIRTUAL)return hosts[h][0];
 if(LABEL===null){var seen=new Map(),k,n,dot;LABEL=new Array(H);
  for(k=0;k<H;k++){n=hosts[k][0];dot=n.indexOf('.');
   LABEL[k]=dot>0&&n.indexOf(':')<0&&/[a-z]/i.test(n.slice(0,dot))?n.slice(0,dot):n;
   seen.set(LABEL[k],(seen.get(LABEL[k])||0)+1);}
  for(k=0;k<H;k++)if(seen.get(LABEL[k])>1)LABEL[k]=hosts[k][0];}
 return LABEL[h];}
var rowHead=[],rowHidden=[];
for(r=0;r<R;r++){var m=ids[r],tr='<tr data-id="'+idAttr[r]+'" data-area="'+esc(m[1])+'" data-severity="'+esc(m[2])+'"',
 th='><th scope="row"><code>'+idAttr[r]+'</code><div class="title">'+esc(m[3])+'</div></th>';
 rowHead.push(tr+th);rowHidden.push(tr+' class="hidden"'+th);}
if(VIRTUAL)grid.className='virtual';
var shown=[],rowOn=new Uint8Array(R),win=[-1,-1];
function filter(){
 var q=$('filter-id').value.toLowerCase(),st=CODE[$('filter-status').value]||0,
  ar=area.value,hq=$('filter-host').value.toLowerCase(),rows=[],hs=[],a,b;
 for(r=0;r<R;r++)if((!q||rowLow[r].indexOf(q)>=0)&&(!ar||ids[r][1]===ar))rows.push(r);
 for(h=0;h<H;h++)if(!hq||hostLow[h].indexOf(hq)>=0)hs.push(h);
 rowOn.fill(0);
 if(st){var hit=new Uint8Array(R),keep=[];
  for(a=0;a<hs.length;a++){var base=hs[a]*R,any=false;
   for(b=0;b<rows.length;b++)if(code[base+rows[b]]===st){any=true;hit[rows[b]]=1;}
   if(any||(st===2&&errs[hs[a]]))keep.push(hs[a]);}
  hs=keep;for(b=0;b<rows.length;b++)rowOn[rows[b]]=hit[rows[b]];
 }else if(hs.length){for(b=0;b<rows.length;b++)rowOn[rows[b]]=1;}
 shown=hs;var n=0;for(r=0;r<R;r++)n+=rowOn[r];
 $('shown').textContent=hs.length+' of '+H+' host(s), '+n+' of '+R+' requirement(s)';
 render(true);
}
function render(force){
 var n=shown.length,first=0,last=n;
 if(VIRTUAL){var x=Math.max(0,grid.scrollLeft);
  first=Math.max(0,Math.floor(x/COLW)-OVER);
  last=Math.min(n,Math.ceil((x+grid.clientWidth-FIRSTW)/COLW)+OVER);
  if(first>last)first=last;}
 if(!force&&first===win[0]&&last===win[1])return;
 win=[first,last];
 var lead=first*COLW,trail=(n-last)*COLW,o=[],k,x2;
 o.push('<thead><tr><th scope="col" class="req">Requirement</th>');
 if(lead)o.push('<th class="pad" style="width:'+lead+'px"></th>');
 for(i=first;i<last;i++){h=shown[i];x2=hosts[h];if(hostAttr[h]===undefined)hostAttr[h]=esc(x2[0]);
  o.push('<th scope="col" class="host" data-h="'+h+'" data-host="'+hostAttr[h]+'" title="'+hostAttr[h]+
   '" tabindex="0"><span class="name">'+esc(label(h))+'</span><span class="verdict v-'+x2[1]+'">'+x2[1]+'</span></th>');}
 if(trail)o.push('<th class="pad" style="width:'+trail+'px"></th>');
 o.push('</tr></thead><tbody>');
 for(r=0;r<R;r++){
  o.push(rowOn[r]?rowHead[r]:rowHidden[r]);
  if(rowOn[r]){if(lead)o.push('<td class="pad"></td>');
   for(i=first;i<last;i++){h=shown[i];k=cells[h*R+r];
    if(k<0)o.push('<td class="o-none" data-host="'+hostAttr[h]+'" data-status="none">-</td>');
    else o.push('<td class="o-'+NAME[rc[k]]+'" data-h="'+h+'" data-r="'+r+'" data-host="'+hostAttr[h]+
     '" data-status="'+esc(D.records[k])+'" data-key="'+hostAttr[h]+'|'+idAttr[r]+'" tabindex="0">'+
     esc(SHORT[D.records[k]]||D.records[k])+'</td>');}
   if(trail)o.push('<td class="pad"></td>');}
  o.push('</tr>');}
 o.push('</tbody>');
 table.innerHTML=o.join('');
 if(VIRTUAL)table.style.width=(FIRSTW+n*COLW)+'px';
}
// scroll events come at most once a frame: render the new range right away
grid.addEventListener('scroll',function(){if(VIRTUAL)render(false);});
function field(dl,k,v){var dt=document.createElement('dt');dt.textContent=k;
 var dd=document.createElement('dd'),pre=document.createElement('pre');
 pre.textContent=typeof v==='object'?JSON.stringify(v,null,2):String(v);
 dd.appendChild(pre);dl.appendChild(dt);dl.appendChild(dd);}
function empty(v){return v===undefined||v===null||v===''||(typeof v==='object'&&Object.keys(v).length===0);}
function link(dl,h,text){var p=document.createElement('p'),a=document.createElement('a');
 a.href=encodeURIComponent(hosts[h][2]);a.textContent=hosts[h][2];p.textContent=text;p.appendChild(a);dl.appendChild(p);}
var FIRST=['title','severity','expected','actual','message','remediation','waiver','evidence'];
function show(h,r){var k=cells[h*R+r];if(k<0)return;
 if(!$('evidence')){document.addEventListener('DOMContentLoaded',function(){show(h,r);});return;}
 var rec=evidence()[k];
 $('d-title').textContent=hosts[h][0]+' \\u2014 '+ids[r][0]+': '+D.records[k];
 var dl=$('d-body');dl.innerHTML='';
 if(!rec){field(dl,'title',ids[r][3]);link(dl,h,'This page is too large to embed this evidence; it is in ');}
 else{FIRST.concat(Object.keys(rec).sort().filter(function(x){
   return FIRST.indexOf(x)<0&&x!=='id'&&x!=='area'&&x!=='status';})).forEach(function(x){
   if(!empty(rec[x]))field(dl,x,rec[x]);});}
 $('details').hidden=false;}
function showHost(h){var x=hosts[h],dl=$('d-body'),reasons=[];
 $('d-title').textContent=x[0]+': '+x[1];dl.innerHTML='';
 for(r=0;r<R;r++){var c=code[h*R+r];
  if((c===2&&(ids[r][2]==='required'||D.strict))||(c===3&&D.strict))reasons.push(ids[r][0]+' '+D.records[cells[h*R+r]]);}
 if(errs[h])field(dl,'errors',errs[h].join('\\n'));
 if(reasons.length)field(dl,'gate',reasons.join('\\n'));
 link(dl,h,'Report: ');$('details').hidden=false;}
function act(e){var t=e.target.closest('td[data-r],th.host');if(!t)return;
 if(t.tagName==='TD')show(+t.dataset.h,+t.dataset.r);else showHost(+t.dataset.h);}
table.addEventListener('click',act);
table.addEventListener('keydown',function(e){if(e.key==='Enter')act(e);});
['filter-id','filter-status','filter-area','filter-host'].forEach(function(x){
 $(x).addEventListener('input',filter);});
$('close').addEventListener('click',function(){$('details').hidden=true;});
document.addEventListener('keydown',function(e){if(e.key==='Escape')$('details').hidden=true;});
var q=new URLSearchParams(location.search);
[['status','filter-status'],['host','filter-host'],['id','filter-id'],['area','filter-area']].forEach(function(p){
 if(q.get(p[0]))$(p[1]).value=q.get(p[0]);});
filter();
var open=q.get('open');
if(open&&open.lastIndexOf('|')>0){var cut=open.lastIndexOf('|'),hn=open.slice(0,cut),id=open.slice(cut+1);
 for(h=0;h<H;h++)if(hosts[h][0]===hn)for(r=0;r<R;r++)if(ids[r][0]===id)show(h,r);}
if(window.performance&&performance.mark)performance.mark('guestready-interactive');
})();
</script>
<!-- after the script: the page is interactive before the browser has read this far -->
<script type="application/json" id="evidence">%(evidence)s</script>
</body></html>
"""


def _policy(page):
    """The page's Content-Security-Policy: its one script (by its SHA-256), inline
    styles (the page sets column widths), nothing else: no other script, no
    fetch, image or font from anywhere, even if markup ever got into the page."""
    start = page.index("<script>") + len("<script>")
    script = page[start:page.index("</script>", start)]
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return ("default-src 'none'; script-src 'sha256-%s'; style-src 'unsafe-inline'; "
            "base-uri 'none'; form-action 'none'" % digest)


_HTML = _HTML.replace("%(csp)s", _policy(_HTML))
