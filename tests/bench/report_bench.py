# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: the fleet reports (per-host JSON, summary.json, junit.xml,
report.html) for N synthetic hosts, and the page in headless Chromium.

Usage: python tests/bench/report_bench.py [--hosts 10000] [--ids 80] [--write-docs]
       python tests/bench/report_bench.py --smoke        (200 hosts, checks, no timings judged)
       make bench-reports                                 (the published run, --write-docs)

Three fleets: --small hosts (100) and --hosts hosts (10,000) with the
catalogue's IDs, and --hosts hosts with --ids IDs (80: the catalogue's, then
synthetic ones of the coming GCE-*/IMG-* areas).  Each fleet's records are
made once, registered as the playbooks register them (each host's records as
one JSON text, one record per line: results_format=json), and stored as a
marshal stream: the input, what Ansible already holds in memory when the
report runs.  Then, in fresh child processes (peak RSS is the process's
``ru_maxrss``), over the same records:
  read       reading the stored records alone (what the builds below pay
             besides their own work; subtracted from them)
  json-dump  reading them and writing each host's registered results with
             json.dumps to a file per host: the least any report must do
  reports    reading them and writing every report: report.host_reports
             reads them as the action plugin reads Ansible's hostvars, into
             report.write_reports
Wall and CPU seconds of the fastest of --repeat builds (2) are printed: the
machine is shared, and CPU time is the steadier of the two.

The page is opened in headless Chromium from file:// (a copy with a measuring
script appended, so the product page carries no benchmark code): time to
interactive is the page's own ``guestready-interactive`` performance mark
(navigation start to its script done); each filter is timed from setting the
control and dispatching its ``input`` event to the table laid out again;
opening a cell's evidence (the first open parses the evidence) too.  Medians
of --runs loads.  Numbers are printed, never asserted.

Synthetic hosts: a fleet built from a handful of images (kernel releases,
architectures, a non-compliant generic kernel); drift (sysctl values changed
by a later file), waivers for a group of NAT hosts, undecided results,
per-host interface lists on container hosts (records found on one host only),
a few unreachable hosts and failed modules.
"""

import argparse
import base64
import hashlib
import json
import marshal
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, ".ansible", "collections"))
from ansible_collections.guestready.gce.plugins.module_utils.areas import results_json  # noqa: E402
from ansible_collections.guestready.gce.plugins.module_utils.catalogue import CATALOGUE  # noqa: E402
from ansible_collections.guestready.gce.plugins.module_utils.results import record, waive  # noqa: E402
from ansible_collections.guestready.gce.plugins.plugin_utils import report  # noqa: E402

DOCS = os.path.join(ROOT, "docs", "benchmarks.md")
WORK = os.path.join(ROOT, "build", "bench", "reports")
CHROMIUM = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# The images a fleet is built from: (weight, kernel release, arch, compliant hardware)
IMAGES = [
    (40, "6.1.0-50-cloud-amd64", "x86_64", True),
    (20, "6.1.0-44-cloud-amd64", "x86_64", True),
    (15, "6.12.38+deb13-cloud-amd64", "x86_64", True),
    (10, "5.10.0-35-cloud-amd64", "x86_64", True),
    (8, "6.1.0-50-cloud-arm64", "arm64", True),
    (5, "6.1.0-50-amd64", "x86_64", False),
    (2, "4.19.0-27-amd64", "x86_64", False),
]
NAT_WAIVER = "NAT gateway: forwards by design (change NET-123)"


def future_entries(count):
    """Catalogue-shaped entries for the coming areas (GCE-*, IMG-*)."""
    entries = []
    for number in range(count):
        area, prefix = ("gce", "GCE") if number % 5 < 3 else ("image", "IMG")
        entries.append({"id": "%s-SYNTHETIC-%02d" % (prefix, number), "area": area,
                        "severity": "required" if number % 4 == 0 else "recommended",
                        "title": "Synthetic %s setting %d (a stand-in for the coming area)" % (area, number),
                        "expected": "value-%d" % number})
    return entries


def _sysctl(entry, image, host_state):
    key = entry["key"]
    path = "/etc/sysctl.d/60-gce-network-security.conf" if key.startswith("net.") else "/etc/sysctl.d/zz-guestready-gce.conf"
    value = str(entry["expected"])
    winner = {"file": path, "line": 3 + len(key) % 17, "value": value, "text": "%s = %s" % (key, value)}
    extra = dict(key=key, before=None, after=None, persisted=value, winner=winner, conflicts=[],
                 overridden=[], interfaces={}, changed=False)
    evidence = {"proc": "/proc/sys/" + key.replace(".", "/"), "load_order": "procps"}
    status, message, remediation = "pass", "%s = %s, persisted in %s:%d" % (key, value, path, winner["line"]), ""
    if host_state["drift"] and key in host_state["drift"]:
        bad = "1" if value == "0" else "0"
        conflict = {"file": "/etc/sysctl.d/99-local.conf", "line": 2, "value": bad, "text": "%s = %s" % (key, bad),
                    "loader": "procps"}
        extra.update(persisted=bad, winner=conflict, conflicts=[conflict])
        status, message = "fail", "/etc/sysctl.d/99-local.conf:2 sets %s, which wins for procps" % bad
        remediation = "apply guestready.gce.sysctl_baseline with neutralize=winning (the default) or all, or edit the conflicting file"
    if entry.get("combine") and host_state["interfaces"]:
        extra["interfaces"] = dict((name, {"value": 0 if name.startswith("veth") else int(value),
                                           "effective": int(value)}) for name in host_state["interfaces"])
    if host_state["undecided"] and key.startswith("kernel.yama"):
        status, message = "unsupported", "kernel.yama.ptrace_scope does not exist: the kernel has no Yama"
    result = record(entry, status, actual=int(extra["persisted"]), evidence=evidence, message=message,
                    remediation=remediation, **extra)
    if key == "net.ipv4.ip_forward" and host_state["nat"]:
        result = waive(dict(result, status="fail", actual=1), NAT_WAIVER)
    return result


def _kconf(entry, image, host_state):
    release, arch = image[1], image[2]
    symbol = entry["id"].split("-", 1)[1]
    version = release.split("-")[0].split("+")[0]
    evidence = {"config": "/boot/config-%s" % release, "version": version, "arch": arch,
                "tried": [{"symbol": symbol, "value": entry["expected"]}]}
    status, found = "pass", entry["expected"]
    if entry["arches"] and arch not in entry["arches"]:
        status, found = "not-applicable", None
    elif release.startswith("4.19") and entry["area"] == "kernel-security" and len(symbol) % 3 == 0:
        status, found = "fail", "n" if entry["expected"] == "y" else "y"
    elif entry["expected"] == "m" or (not image[3] and entry["area"] == "kernel-required" and "VIRTIO" in symbol):
        status = "module-in-initramfs" if image[3] else "module-missing-from-initramfs"
    if host_state["undecided"] and entry["area"] == "kernel-required" and status == "pass" and len(symbol) % 2:
        status = "unknown"
    message = "CONFIG_%s=%s" % (symbol, found) if found else "CONFIG_%s does not apply to %s" % (symbol, arch)
    return record(entry, status, actual=found, evidence=evidence, message=message, symbol=symbol,
                  found=found, fragment_lines=[] if status != "fail" else ["CONFIG_%s=%s" % (symbol, entry["expected"])])


def _hardware(entry, image, host_state):
    release = image[1]
    modules = "/lib/modules/%s" % release
    expected = entry["expected"]
    drivers = {}
    for hop in ("pci", "virtio", "serial"):
        if hop in expected:
            drivers["%s:%s" % (hop, (expected.get(hop) or {}).get("driver", hop))] = "module (initramfs: present)"
    pci = expected.get("pci", {})
    evidence = {"offline": {"modules_dir": modules, "alias_lines": [
        "%s/modules.alias:%d: alias pci:v0000%sd0000%ssv*sd*bc*sc*i* %s" % (
            modules, 1000 + len(entry["id"]) * 37, pci.get("vendor", "0x0")[2:].upper(),
            pci.get("device", "0x0")[2:].upper(), entry["id"].lower())]}}
    live = None
    if image[3]:
        live = {"address": "0000:00:%02x.0" % (3 + len(entry["id"]) % 5), "vendor": pci.get("vendor"),
                "device": pci.get("device"), "driver": "virtio-pci", "status": "pass"}
    status = "pass" if image[3] else "fail"
    if not image[3] and entry["id"] in ("HW-PCI-PIIX4-ACPI", "HW-NET-GVNIC"):
        status = "not-applicable"
    if image[2] == "arm64" and entry["arches"] and "arm64" not in entry["arches"]:
        status = "not-applicable"
    message = "live: %s bound to %s" % (pci.get("device", "device"), "virtio-pci") if status == "pass" else (
        "offline: no driver for %s in %s" % (entry["id"], release))
    return record(entry, status, actual={"drivers": drivers}, evidence=evidence, message=message,
                  remediation="" if status == "pass" else "use a kernel with the driver for %s" % entry["id"],
                  offline={"status": status, "kernel_release": release, "drivers": sorted(drivers)}, live=live)


def _future(entry, image, host_state):
    status = "pass"
    if host_state["undecided"] and entry["id"].endswith("3"):
        status = "unknown"
    elif not image[3] and entry["area"] == "image":
        status = "fail"
    return record(entry, status, actual=entry["expected"] if status == "pass" else "other",
                  evidence={"file": "/etc/default/grub", "line": 7, "value": entry["expected"]},
                  message="%s is %s" % (entry["id"], status))


MAKERS = {"sysctl": _sysctl, "kernel-required": _kconf, "kernel-security": _kconf, "hardware": _hardware,
          "gce": _future, "image": _future}


ROLES = ("web", "db", "batch", "web", "nat", "k8s-node", "db", "k8s-node", "web", "batch", "web")
ZONES = ("europe-west1-b", "us-central1-a", "asia-east1-c", "us-east4-c")


def host_name(number):
    return "%s-%05d.%s.example.internal" % (ROLES[number * 7919 % len(ROLES)], number, ZONES[number % len(ZONES)])


def synthetic(hosts, ids=80, seed=20261129):
    """Yield (host name, registered variables) for ``hosts`` hosts, lazily."""
    rng = random.Random(seed)
    entries = list(CATALOGUE) + future_entries(max(0, ids - len(CATALOGUE)))
    entries = entries[:ids]
    weights = [image[0] for image in IMAGES]
    sysctl_keys = [e["key"] for e in CATALOGUE if e["area"] == "sysctl"]
    for number in range(hosts):
        image = rng.choices(IMAGES, weights)[0]
        name = host_name(number)
        fate = rng.random()
        if fate < 0.005:
            yield name, {"compliance_result": {"unreachable": True, "msg": "Failed to connect to the host via ssh: "
                                               "ssh: connect to host %s port 22: Connection timed out" % name}}
            continue
        state = {
            "nat": name.startswith("nat"),
            "drift": set(rng.sample(sysctl_keys, rng.choice((1, 2, 3)))) if rng.random() < 0.08 else None,
            "undecided": rng.random() < 0.02,
            "interfaces": (["ens4", "docker0"] + ["veth%06x" % rng.getrandbits(24) for dummy in range(rng.randint(2, 6))])
            if name.startswith("k8s") else None,
        }
        results = [MAKERS[entry["area"]](entry, image, state) for entry in entries]
        registered = {"changed": False}
        if fate < 0.01:  # the module failed for one area: its results are partial
            registered.update(failed=True, msg="hardware: cannot read /sys/bus/pci: Permission denied")
            results = [r for r in results if r["area"] != "hardware"]
        # as verify.yml and harden.yml register them (results_format=json)
        registered["results_json"] = results_json(results, {})
        yield name, {"compliance_result": registered}


def store(hosts, ids, path):
    """Make the fleet's records once and store them as a marshal stream."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "wb") as handle:
        for item in synthetic(hosts, ids):
            marshal.dump(item, handle)
    os.replace(path + ".tmp", path)


def stored(path):
    """Yield (host name, registered variables) from a stream ``store`` wrote."""
    with open(path, "rb") as handle:
        while True:
            try:
                yield marshal.load(handle)
            except EOFError:
                return


class StreamedHostvars(object):
    """Ansible's hostvars as report.host_reports reads them (``name in``,
    ``[name]``, each host once, in order), read as they are asked for: the
    bench goes through the action plugin's own path without holding the
    fleet."""

    def __init__(self, hosts, records):
        self.names = [host_name(number) for number in range(hosts)]
        self.stream = stored(records)

    def __contains__(self, name):
        return True

    def __getitem__(self, name):
        made, variables = next(self.stream)
        assert made == name, (made, name)
        return variables


# --------------------------------------------------------------------------
# Builds (each in a child process)
# --------------------------------------------------------------------------
def build(mode, hosts, records, directory):
    started, cpu = time.perf_counter(), os.times()
    if mode == "read":
        count = sum(r["compliance_result"].get("results_json", "").count("\n") - 1
                    for dummy, r in stored(records) if "results_json" in r["compliance_result"])
        out = {"records": count}
    elif mode == "json-dump":
        os.makedirs(directory, exist_ok=True)
        for number, (host, registered) in enumerate(stored(records)):
            with open(os.path.join(directory, "%d.json" % number), "w") as handle:
                handle.write(json.dumps(registered))
        out = {}
    else:
        generated = report.now()
        hostvars = StreamedHostvars(hosts, records)
        reports = report.host_reports(hostvars.names, hostvars, generated=generated)
        paths, summary = report.write_reports(directory, reports, started=generated, extra={"run": "bench"})
        out = {"table": len(report.text_table(summary))}
    out["seconds"] = time.perf_counter() - started
    done = os.times()
    out["cpu_seconds"] = done.user - cpu.user + done.system - cpu.system
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return out


def child(mode, hosts, ids, directory, records=None):
    command = [sys.executable, os.path.abspath(__file__), "--child", mode, "--hosts", str(hosts), "--ids", str(ids),
               "--dir", directory]
    if records:
        command += ["--records", records]
    proc = subprocess.run(command, stdout=subprocess.PIPE, universal_newlines=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def sizes(directory):
    total = hosts = 0
    named = {}
    for name in os.listdir(directory):
        size = os.path.getsize(os.path.join(directory, name))
        total += size
        if name.startswith("host-"):
            hosts += size
        else:
            named[name] = size
    named["host-*.json"] = hosts
    named["total"] = total
    return named


# --------------------------------------------------------------------------
# Chromium
# --------------------------------------------------------------------------
MEASURE = """<script>
(function(){
var out={}, doc=document, grid=doc.getElementById('grid');
function settle(){return doc.getElementById('matrix').getBoundingClientRect().height+grid.scrollWidth;}
var mark=performance.getEntriesByName('guestready-interactive');
out.interactive_ms=mark.length?mark[0].startTime:null;
var nav=performance.getEntriesByType('navigation')[0];
out.response_end_ms=nav?nav.responseEnd:null;
out.cells_rendered=doc.querySelectorAll('#matrix td[data-r]').length;
function time(name,id,value){var el=doc.getElementById(id),t=performance.now();el.value=value;
 el.dispatchEvent(new Event('input'));settle();(out[name]=out[name]||[]).push(performance.now()-t);}
for(var rep=0;rep<3;rep++){
 time('status','filter-status','fail');
 if(!rep)out.hosts_failing=doc.getElementById('shown').textContent;
 time('host','filter-host','k8s-node-0');time('area','filter-area','sysctl');time('id','filter-id','forward');
 time('clear','filter-id','');time('clear','filter-area','');time('clear','filter-host','');
 time('clear','filter-status','');}
var t=performance.now();grid.scrollLeft=grid.scrollWidth/2;grid.dispatchEvent(new Event('scroll'));
out.scroll_ms=performance.now()-t;
var cell=doc.querySelector('#matrix td[data-r]');t=performance.now();cell.click();settle();
out.first_evidence_ms=performance.now()-t;
out.details_open=!doc.getElementById('details').hidden;
out.details=doc.getElementById('d-body').textContent.length;
var pre=doc.createElement('pre');pre.id='bench-result';pre.textContent=JSON.stringify(out);doc.body.appendChild(pre);
})();
</script>
"""
FILTERS = ("status", "host", "area", "id", "clear")


def chromium_once(page, timeout):
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    try:
        started = time.perf_counter()
        dom = subprocess.run(CHROMIUM + ["--user-data-dir=" + profile, "--window-size=1400,900", "--dump-dom",
                                         "file://" + page], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             universal_newlines=True, timeout=timeout, check=True).stdout
        wall = time.perf_counter() - started
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    found = re.search(r'<pre id="bench-result">(.*?)</pre>', dom, re.S)
    if not found:
        raise SystemExit("report_bench: the page's script did not run (no bench-result in the DOM)")
    numbers = json.loads(found.group(1).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">")
                         .replace("&amp;", "&"))
    numbers["chromium_wall_s"] = wall
    return numbers


def chromium(page, runs=3, timeout=300):
    """Open ``page`` (a report.html, with the measuring script appended to a
    copy) ``runs`` times; medians of time to interactive, of each filter
    (3 times per load) and of the first evidence opened."""
    with open(page, encoding="utf-8") as handle:
        text = handle.read()
    measured = os.path.join(os.path.dirname(page), "bench-report.html")
    # the page's Content-Security-Policy runs only the scripts it names by hash: name this one too
    script = MEASURE[len("<script>"):-len("</script>\n")]
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    text = text.replace("script-src ", "script-src 'sha256-%s' " % digest, 1)
    with open(measured, "w", encoding="utf-8") as handle:
        handle.write(text.replace("</body></html>", MEASURE + "</body></html>"))
    try:
        loads = [chromium_once(measured, timeout) for dummy in range(runs)]
    finally:
        os.unlink(measured)
    numbers = dict(loads[0])
    for key in ("interactive_ms", "response_end_ms", "first_evidence_ms", "chromium_wall_s"):
        numbers[key] = statistics.median(load[key] for load in loads)
    for key in FILTERS:
        numbers[key] = statistics.median(value for load in loads for value in load[key])
        numbers[key + "_max"] = max(value for load in loads for value in load[key])
    return numbers


# --------------------------------------------------------------------------
# Runs
# --------------------------------------------------------------------------
def fastest(mode, hosts, ids, directory, repeat, records):
    """The fastest of ``repeat`` runs (the machine is shared: the others
    measure its other work), each into a directory of its own: nothing is
    deleted while the bench measures (ext4 without a journal, as here, makes
    every file created within minutes of a mass deletion skip over the
    deleted inodes: 10,000 files took 0.8 s to create on a quiet disk, 2.4
    to 7 s right after 10,000 others were removed)."""
    runs = []
    for number in range(repeat):
        run = child(mode, hosts, ids, "%s-%d" % (directory, number + 1), records)
        run["directory"] = "%s-%d" % (directory, number + 1)
        runs.append(run)
    return min(runs, key=lambda run: run["seconds"])


def measure(hosts, ids, label, runs, repeat):
    base = os.path.join(WORK, label)
    os.makedirs(base)
    log("%s: %d hosts x %d IDs" % (label, hosts, ids))
    row = {"hosts": hosts, "ids": ids}
    records = os.path.join(base, "records.marshal")
    child("store", hosts, ids, records)
    row["read"] = fastest("read", hosts, ids, os.path.join(base, "none"), repeat, records)
    row["json-dump"] = fastest("json-dump", hosts, ids, os.path.join(base, "dump"), repeat, records)
    row["reports"] = fastest("reports", hosts, ids, os.path.join(base, "reports"), repeat, records)
    row["directory"] = row["reports"]["directory"]
    row["sizes"] = sizes(row["directory"])
    row["page"] = chromium(os.path.join(row["directory"], "report.html"), runs)
    return row


def tidy(rows, old):
    """After the measurements: the previous bench's outputs, the stored
    records, the json.dumps files and every build but the one shown go."""
    shutil.rmtree(old, ignore_errors=True)
    kept = set(row["directory"] for row in rows)
    for label in os.listdir(WORK):
        base = os.path.join(WORK, label)
        for name in os.listdir(base) if os.path.isdir(base) else ():
            path = os.path.join(base, name)
            if path not in kept:
                if os.path.isdir(path):
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    os.unlink(path)


def load():
    return "%.1f" % os.getloadavg()[0]


LOAD = [load()]
REPEAT = [1]


def log(message):
    print("[report-bench] %s" % message, file=sys.stderr, flush=True)


def mib(size):
    return "%.1f" % (size / 1048576.0)


def net(row, key="seconds", base="reports"):
    """Seconds of ``base`` less reading the records (the input Ansible holds)."""
    return row[base][key] - row["read"][key]


def verdict(value, limit):
    return "%s: %s" % (limit, "met" if value <= limit else "NOT met")


def lines_for(rows, command):
    small, big, wide = rows
    out = ["Measured %s on this machine (2 cores shared with the other work on it: load average %s at the "
           "start, %s at the end; Python %s, %s) with `%s`; builds: the fastest of %d:" % (
               time.strftime("%Y-%m-%d"), LOAD[0], load(), sys.version.split()[0], chromium_version(), command,
               REPEAT[0]), "",
           "| hosts | IDs/host | read s (CPU) | json.dumps s (CPU) | reports s (CPU) | reports - read s "
           "(CPU) | peak RSS MiB: reports (json.dumps) | host-*.json MiB | summary.json MiB | junit.xml MiB "
           "| report.html MiB |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        size = row["sizes"]
        out.append("| %d | %d | %.2f (%.2f) | %.2f (%.2f) | %.2f (%.2f) | %.2f (%.2f) | %.0f (%.0f) | %s | %s | %s "
                   "| %s |" % (
                       row["hosts"], row["ids"], row["read"]["seconds"], row["read"]["cpu_seconds"],
                       row["json-dump"]["seconds"], row["json-dump"]["cpu_seconds"], row["reports"]["seconds"],
                       row["reports"]["cpu_seconds"], net(row), net(row, "cpu_seconds"),
                       row["reports"]["peak_rss_mib"], row["json-dump"]["peak_rss_mib"], mib(size["host-*.json"]),
                       mib(size["summary.json"]), mib(size["junit.xml"]), mib(size["report.html"])))
    out += ["", "Headless Chromium, medians (filters: 3 loads x 3 times each; clear: the 4 controls emptied one "
            "by one):", "",
            "| hosts | IDs/host | cells in the DOM | interactive ms | status=fail ms | host ms | area ms | ID ms "
            "| clear ms | worst single filter ms | first evidence ms |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        page = row["page"]
        out.append("| %d | %d | %d | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f |" % (
            row["hosts"], row["ids"], page["cells_rendered"], page["interactive_ms"], page["status"], page["host"],
            page["area"], page["id"], page["clear"], max(page[k + "_max"] for k in FILTERS),
            page["first_evidence_ms"]))
    slowest = max(big["page"][k] for k in FILTERS)
    out += ["", "| ratio or target | value | target |", "|---|---|---|",
            "| reports / json.dumps of the same records, both less reading them (%d hosts, %d IDs) "
            "| %.2f (CPU %.2f) | - |" % (
                big["hosts"], big["ids"], net(big) / net(big, base="json-dump"),
                net(big, "cpu_seconds") / net(big, "cpu_seconds", "json-dump")),
            "| reports %d hosts / %d hosts | %.0f | linear: %.0f |" % (
                big["hosts"], small["hosts"], net(big) / max(net(small), 0.001),
                big["hosts"] / float(small["hosts"])),
            "| reports for %d hosts x %d IDs, s | %.1f (CPU %.1f) | <= %s |" % (
                big["hosts"], big["ids"], net(big), net(big, "cpu_seconds"), verdict(net(big), 10)),
            "| reports for %d hosts x %d IDs, s | %.1f (CPU %.1f) | - |" % (
                wide["hosts"], wide["ids"], net(wide), net(wide, "cpu_seconds")),
            "| peak RSS (%d IDs), MiB | %.0f | <= %s |" % (
                wide["ids"], wide["reports"]["peak_rss_mib"], verdict(wide["reports"]["peak_rss_mib"], 500)),
            "| report.html interactive (%d hosts), s | %.2f | <= %s |" % (
                big["hosts"], big["page"]["interactive_ms"] / 1000.0, verdict(big["page"]["interactive_ms"] / 1000.0, 3)),
            "| slowest filter, median (%d hosts), ms | %.0f | <= %s |" % (big["hosts"], slowest, verdict(slowest, 200)),
            "| interactive %d hosts / %d hosts | %.1f | - |" % (
                big["hosts"], small["hosts"], big["page"]["interactive_ms"] / max(small["page"]["interactive_ms"], 1.0))]
    return out


def chromium_version():
    try:
        return subprocess.run(["chromium", "--version"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              universal_newlines=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "chromium unknown"


def write_docs(lines):
    with open(DOCS, encoding="utf-8") as handle:
        text = handle.read()
    begin, end = "<!-- reports:begin -->", "<!-- reports:end -->"
    if begin not in text or end not in text:
        raise SystemExit("report_bench: %s has no %s ... %s section" % (DOCS, begin, end))
    head, rest = text.split(begin, 1)
    tail = rest.split(end, 1)[1]
    with open(DOCS, "w", encoding="utf-8") as handle:
        handle.write(head + begin + "\n" + "\n".join(lines) + "\n" + end + tail)


def smoke(hosts, ids, runs):
    """Build reports for a small fleet and check them (structure only)."""
    base = os.path.join(WORK, "smoke")
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(WORK, exist_ok=True)
    records = os.path.join(WORK, "smoke.marshal")
    child("store", hosts, ids, records)
    result = child("reports", hosts, ids, base, records)
    os.unlink(records)
    files = [name for name in os.listdir(base) if name.startswith("host-")]
    problems = []
    if len(files) != hosts:
        problems.append("%d host files for %d hosts" % (len(files), hosts))
    suites = ET.parse(os.path.join(base, "junit.xml")).getroot().findall("testsuite")
    if len(suites) != hosts:
        problems.append("%d JUnit suites for %d hosts" % (len(suites), hosts))
    page = chromium(os.path.join(base, "report.html"), runs=1)
    if not page["cells_rendered"] or not page["details_open"] or not page["details"]:
        problems.append("the page rendered no cells or opened no evidence: %r" % page)
    print("smoke: %d hosts, %.1f s, peak RSS %.0f MiB, page interactive in %.0f ms, %s" % (
        hosts, result["seconds"], result["peak_rss_mib"], page["interactive_ms"], page["hosts_failing"]))
    if problems:
        raise SystemExit("report_bench smoke: " + "; ".join(problems))
    print("smoke: ok (numbers are not judged)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--hosts", type=int, default=10000)
    parser.add_argument("--small", type=int, default=100, help="the baseline fleet size")
    parser.add_argument("--ids", type=int, default=80,
                        help="IDs per host of the wide run (the catalogue's, then synthetic GCE-*/IMG-*)")
    parser.add_argument("--runs", type=int, default=3, help="Chromium loads per page (medians)")
    parser.add_argument("--repeat", type=int, default=2, help="builds per measurement (the fastest is shown)")
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    parser.add_argument("--records", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child == "store":
        store(args.hosts, args.ids, args.dir)
        print("{}")
    elif args.child:
        print(json.dumps(build(args.child, args.hosts, args.records, args.dir)))
    if args.child:
        return
    if args.smoke:
        smoke(200, args.ids, args.runs)
        return
    catalogue_ids = len(CATALOGUE)
    REPEAT[0] = args.repeat
    # the last bench's outputs are moved aside now and removed at the end
    old = "%s.old-%d" % (WORK, os.getpid())
    if os.path.exists(WORK):
        os.rename(WORK, old)
    rows = (measure(args.small, catalogue_ids, "small", args.runs, args.repeat),
            measure(args.hosts, catalogue_ids, "large", args.runs, args.repeat),
            measure(args.hosts, args.ids, "wide", args.runs, args.repeat))
    command = "python tests/bench/report_bench.py" + ("" if args.hosts == 10000 else " --hosts %d" % args.hosts) + (
        "" if args.ids == 80 else " --ids %d" % args.ids) + (" --write-docs" if args.write_docs else "")
    lines = lines_for(rows, command)
    tidy(rows, old)
    print("\n".join(lines))
    print("\nreports left in %s" % ", ".join(row["directory"] for row in rows))
    if args.write_docs:
        write_docs(lines)


if __name__ == "__main__":
    main()
