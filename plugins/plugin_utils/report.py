# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side reports: per-host JSON, a fleet summary, JUnit XML, one
self-contained HTML page and a text table, all built from the modules'
result records (plugins/module_utils/results.py)."""

import datetime
import html
import json
import os
import tempfile
import xml.etree.ElementTree as ET

from ansible_collections.guestready.gce.plugins.module_utils.catalogue import CATALOGUE
from ansible_collections.guestready.gce.plugins.module_utils.results import STATUSES, summarize

# The registered results the roles leave on each host.
RESULT_VARS = ("sysctl_result", "kernel_config_result", "hardware_result", "gce_settings_result",
               "compliance_result", "image_result")
OUTCOMES = ("ok", "fail", "warn", "skip")
SCHEMA_VERSION = 1


def _error_of(registered):
    if registered.get("unreachable"):
        return "unreachable: %s" % registered.get("msg", "")
    if registered.get("failed"):
        return registered.get("msg") or "the task failed"
    return None


def host_report(host, hostvars, result_vars=RESULT_VARS):
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
        areas[var] = {"changed": bool(registered.get("changed")), "count": len(records),
                      "error": error}
        results.extend(records)
    # an ID checked twice (an apply, then a check) is reported once: the last word
    results = list(dict((record["id"], record) for record in results).values())
    order = dict((entry["id"], index) for index, entry in enumerate(CATALOGUE))
    results.sort(key=lambda r: order.get(r["id"], len(order)))
    if not areas:
        errors.append("no results: the host was not reached or no check ran")
    return {
        "schema_version": SCHEMA_VERSION,
        "host": host,
        "errors": errors,
        "areas": areas,
        "changed": any(area["changed"] for area in areas.values()),
        "results": results,
        "summary": summarize(results),
    }


def gate(report, strict=False):
    """Why the host fails verification (an empty list when it passes): a
    required ID that fails and is not waived; recommended ones (and results
    that could not be decided) only when ``strict``; errors always."""
    reasons = list(report["errors"])
    for record in report["results"]:
        outcome = STATUSES[record["status"]]
        if outcome == "fail" and (record["severity"] == "required" or strict):
            reasons.append("%s %s" % (record["id"], record["status"]))
        elif outcome == "warn" and strict:
            reasons.append("%s %s" % (record["id"], record["status"]))
    return reasons


def verdict(report, strict=False):
    if gate(report, strict):
        return "fail"
    if any(STATUSES[r["status"]] in ("fail", "warn") for r in report["results"]):
        return "warn"
    return "pass"


def fleet_summary(reports, strict=False, started=None, extra=None):
    hosts, requirements = {}, {}
    for report in reports:
        reasons = gate(report, strict)
        hosts[report["host"]] = {
            "verdict": verdict(report, strict),
            "gate": reasons,
            "summary": report["summary"],
            "errors": report["errors"],
            "changed": report["changed"],
        }
        for record in report["results"]:
            entry = requirements.setdefault(record["id"], {
                "title": record["title"], "area": record["area"], "severity": record["severity"],
                "hosts": {}})
            entry["hosts"][report["host"]] = record["status"]
    totals = dict((name, 0) for name in ("pass", "warn", "fail"))
    for host in hosts.values():
        totals[host["verdict"]] += 1
    summary = {
        "schema_version": SCHEMA_VERSION,
        "generated": started or datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "strict": strict,
        "hosts": hosts,
        "requirements": requirements,
        "totals": totals,
        "gate_failed": totals["fail"] > 0,
    }
    summary.update(extra or {})
    return summary


def _text(value):
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return "" if value is None else str(value)


def junit_xml(reports, strict=False):
    """One test case per host x requirement ID.  A case fails exactly when it
    fails the gate; a recommended failure outside strict mode passes with a
    warning in its output, a waived or not-applicable one is skipped."""
    suites = ET.Element("testsuites", name="guestready.gce")
    for report in reports:
        suite = ET.SubElement(suites, "testsuite", name=report["host"])
        failures = skipped = 0
        for error in report["errors"]:
            case = ET.SubElement(suite, "testcase", classname=report["host"], name="host")
            ET.SubElement(case, "error", message=error).text = error
            failures += 1
        for record in report["results"]:
            case = ET.SubElement(suite, "testcase", classname="%s.%s" % (report["host"], record["area"]),
                                 name=record["id"])
            properties = ET.SubElement(case, "properties")
            for name in ("severity", "status", "expected", "actual", "waiver"):
                ET.SubElement(properties, "property", name=name, value=_text(record.get(name)))
            outcome = STATUSES[record["status"]]
            detail = "%s\nexpected: %s\nactual: %s\nevidence: %s\nremediation: %s" % (
                record["message"], _text(record["expected"]), _text(record["actual"]),
                _text(record["evidence"]), record["remediation"])
            if (outcome == "fail" and (record["severity"] == "required" or strict)) or (
                    outcome == "warn" and strict):
                ET.SubElement(case, "failure", message="%s: %s" % (record["status"], record["message"]),
                              type=record["status"]).text = detail
                failures += 1
            elif outcome == "skip":
                ET.SubElement(case, "skipped", message="%s: %s" % (
                    record["status"], record["waiver"] or record["message"]))
                skipped += 1
            elif outcome in ("fail", "warn"):
                ET.SubElement(case, "system-out").text = "WARNING (%s, %s): %s" % (
                    record["severity"], record["status"], detail)
        suite.set("tests", str(len(report["results"]) + len(report["errors"])))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
        suite.set("skipped", str(skipped))
    return ET.tostring(suites, encoding="unicode")


def text_table(summary):
    """The short table printed at the end of a run."""
    rows = [("host", "verdict", "pass", "fail", "warn", "skip", "first problems")]
    for host in sorted(summary["hosts"]):
        entry = summary["hosts"][host]
        counts = dict((name, 0) for name in OUTCOMES)
        for status, count in entry["summary"].items():
            counts[STATUSES[status]] += count
        problems = ", ".join(entry["gate"][:3]) + (" ..." if len(entry["gate"]) > 3 else "")
        rows.append((host, entry["verdict"].upper(), str(counts["ok"]), str(counts["fail"]),
                     str(counts["warn"]), str(counts["skip"]), problems))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row[:-1], widths)) + "  " + row[-1]
             for row in rows]
    totals = summary["totals"]
    lines.append("%d host(s): %d pass, %d warn, %d fail%s" % (
        sum(totals.values()), totals["pass"], totals["warn"], totals["fail"],
        " (strict)" if summary["strict"] else ""))
    return lines


def html_page(reports, summary):
    """One self-contained page: hosts x requirements, coloured by status,
    filterable; each cell opens its evidence."""
    hosts = [report["host"] for report in reports]
    records = {}
    for report in reports:
        for record in report["results"]:
            records[(report["host"], record["id"])] = record
    head = "".join('<th scope="col" class="host" data-host="%s">%s<br><span class="verdict v-%s">%s</span></th>'
                   % (html.escape(h), html.escape(h), summary["hosts"][h]["verdict"],
                      summary["hosts"][h]["verdict"]) for h in hosts)
    rows, evidence = [], {}
    for entry in CATALOGUE:
        cells = []
        for host in hosts:
            record = records.get((host, entry["id"]))
            if record is None:
                cells.append('<td class="o-none" data-host="%s" data-status="none">-</td>' % html.escape(host))
                continue
            key = "%s|%s" % (host, entry["id"])
            evidence[key] = record
            cells.append('<td class="o-%s" data-host="%s" data-status="%s" data-key="%s" tabindex="0">%s</td>' % (
                STATUSES[record["status"]], html.escape(host), record["status"], html.escape(key),
                html.escape(record["status"])))
        if not any(records.get((h, entry["id"])) for h in hosts):
            continue
        rows.append('<tr data-id="%s" data-area="%s" data-severity="%s"><th scope="row">'
                    '<code>%s</code><div class="title">%s</div></th>%s</tr>' % (
                        entry["id"], entry["area"], entry["severity"], entry["id"],
                        html.escape(entry["title"]), "".join(cells)))
    errors = "".join("<li><b>%s</b>: %s</li>" % (html.escape(r["host"]), html.escape(e))
                     for r in reports for e in r["errors"])
    data = json.dumps(evidence, sort_keys=True).replace("</", "<\\/")
    return _HTML % {
        "generated": html.escape(summary["generated"]),
        "totals": html.escape(", ".join("%d %s" % (v, k) for k, v in summary["totals"].items())),
        "strict": "strict" if summary["strict"] else "required IDs gate, recommended ones warn",
        "head": head, "rows": "\n".join(rows), "data": data,
        "errors": "<ul class=\"errors\">%s</ul>" % errors if errors else "",
    }


def write_reports(directory, reports, summary, strict=False):
    """Write every report into ``directory`` (created); returns the paths."""
    os.makedirs(directory, exist_ok=True)
    paths = {"hosts": {}}
    for report in reports:
        name = "host-%s.json" % report["host"].replace("/", "_")
        paths["hosts"][report["host"]] = _write(directory, name, json.dumps(report, indent=2, sort_keys=True))
    paths["summary"] = _write(directory, "summary.json", json.dumps(summary, indent=2, sort_keys=True))
    paths["junit"] = _write(directory, "junit.xml", junit_xml(reports, strict))
    paths["html"] = _write(directory, "report.html", html_page(reports, summary))
    return paths


def _write(directory, name, text):
    path = os.path.join(directory, name)
    fd, temporary = tempfile.mkstemp(prefix="." + name, dir=directory)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)
    return path


_HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>guestready.gce compliance report</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em;margin:0 0 .3em}
.meta{color:#555;margin-bottom:1em}
.controls{margin:.8em 0;display:flex;gap:1em;flex-wrap:wrap;align-items:center}
table{border-collapse:collapse}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
thead th{position:sticky;top:0;background:#f4f4f4}
td{cursor:pointer;text-align:center;font-weight:600;white-space:nowrap}
.title{font-weight:normal;color:#555;font-size:.85em;max-width:38em}
.o-ok{background:#d7f2d7;color:#125212}.o-fail{background:#f8d0d0;color:#7a0f0f}
.o-warn{background:#fbeeb8;color:#6b5200}.o-skip{background:#e4e4ee;color:#444}
.o-none{background:#fff;color:#999}
.verdict{font-size:.8em;text-transform:uppercase}.v-pass{color:#125212}.v-fail{color:#7a0f0f}.v-warn{color:#6b5200}
tr.hidden,td.hidden,th.hidden{display:none}
#details{position:fixed;right:1em;top:1em;width:34em;max-height:90vh;overflow:auto;background:#fff;
border:2px solid #555;padding:1em;box-shadow:0 2px 12px rgba(0,0,0,.3)}
#details[hidden]{display:none}
pre{white-space:pre-wrap;word-break:break-word;background:#f6f6f6;padding:.5em}
.errors{color:#7a0f0f}
</style></head>
<body>
<h1>guestready.gce compliance report</h1>
<div class="meta">Generated %(generated)s &middot; hosts: %(totals)s &middot; %(strict)s</div>
%(errors)s
<div class="controls">
<label>Requirement <input id="filter-id" type="search" placeholder="ID or words"></label>
<label>Status <select id="filter-status"><option value="">any</option><option value="fail">fail</option>
<option value="warn">warn</option><option value="ok">ok</option><option value="skip">skip</option></select></label>
<label>Area <select id="filter-area"><option value="">any</option><option>hardware</option>
<option>kernel-required</option><option>kernel-security</option><option>sysctl</option><option>gce</option></select></label>
<label>Host <input id="filter-host" type="search" placeholder="host name"></label>
</div>
<table id="matrix"><thead><tr><th scope="col">Requirement</th>%(head)s</tr></thead>
<tbody>
%(rows)s
</tbody></table>
<aside id="details" hidden><button id="close" type="button">close</button><h2 id="d-title"></h2>
<dl id="d-body"></dl></aside>
<script type="application/json" id="evidence">%(data)s</script>
<script>
(function(){
var data=JSON.parse(document.getElementById('evidence').textContent);
var outcome={pass:'ok','module-in-initramfs':'ok',fail:'fail','module-missing-from-initramfs':'fail',
unknown:'warn',unsupported:'warn','not-applicable':'skip',waived:'skip'};
function apply(){
 var id=document.getElementById('filter-id').value.toLowerCase();
 var st=document.getElementById('filter-status').value;
 var area=document.getElementById('filter-area').value;
 var host=document.getElementById('filter-host').value.toLowerCase();
 document.querySelectorAll('thead th.host').forEach(function(th){
  th.classList.toggle('hidden',host&&th.dataset.host.toLowerCase().indexOf(host)<0);});
 document.querySelectorAll('#matrix tbody tr').forEach(function(tr){
  var show=(!id||tr.textContent.toLowerCase().indexOf(id)>=0)&&(!area||tr.dataset.area===area);
  var any=false;
  tr.querySelectorAll('td').forEach(function(td){
   var hidden=host&&td.dataset.host.toLowerCase().indexOf(host)<0;
   td.classList.toggle('hidden',!!hidden);
   if(!hidden&&(!st||outcome[td.dataset.status]===st)) any=true;});
  tr.classList.toggle('hidden',!(show&&any));});
}
['filter-id','filter-status','filter-area','filter-host'].forEach(function(i){
 document.getElementById(i).addEventListener('input',apply);});
function show(td){
 var r=data[td.dataset.key]; if(!r) return;
 document.getElementById('d-title').textContent=td.dataset.host+' \\u2014 '+r.id+': '+r.status;
 var dl=document.getElementById('d-body'); dl.innerHTML='';
 ['title','severity','expected','actual','message','remediation','waiver','evidence','winner',
  'conflicts','interfaces','symbol'].forEach(function(k){
  if(r[k]===undefined||r[k]===null||r[k]===''||(typeof r[k]==='object'&&Object.keys(r[k]).length===0))return;
  var dt=document.createElement('dt');dt.textContent=k;
  var dd=document.createElement('dd');var pre=document.createElement('pre');
  pre.textContent=typeof r[k]==='object'?JSON.stringify(r[k],null,2):String(r[k]);
  dd.appendChild(pre);dl.appendChild(dt);dl.appendChild(dd);});
 document.getElementById('details').hidden=false;
}
document.querySelectorAll('td[data-key]').forEach(function(td){
 td.addEventListener('click',function(){show(td);});
 td.addEventListener('keydown',function(e){if(e.key==='Enter')show(td);});});
document.getElementById('close').addEventListener('click',function(){
 document.getElementById('details').hidden=true;});
var q=new URLSearchParams(location.search);
if(q.get('status'))document.getElementById('filter-status').value=q.get('status');
if(q.get('host'))document.getElementById('filter-host').value=q.get('host');
apply();
if(q.get('open')){var c=document.querySelector('td[data-key="'+q.get('open')+'"]');if(c)show(c);}
})();
</script>
</body></html>
"""
