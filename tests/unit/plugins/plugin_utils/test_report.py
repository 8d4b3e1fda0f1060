"""Reports: per-host JSON (schema), fleet summary, JUnit, HTML, gate."""

import json
import os
import xml.etree.ElementTree as ET

import jsonschema
import pytest

from ansible_collections.guestready.gce.plugins.module_utils import areas, catalogue
from ansible_collections.guestready.gce.plugins.plugin_utils import report

from conftest import rec, registered, schema


@pytest.fixture
def reports():
    good = report.host_report("gce-1", {
        "sysctl_result": registered(rec("SYSCTL-IP_FORWARD", "pass"),
                                    rec("SYSCTL-KPTR_RESTRICT", "waived", waiver="debugging kernel"),
                                    changed=True),
        "hardware_result": registered(rec("HW-SERIAL", "pass"), rec("HW-NET-GVNIC", "not-applicable")),
        "kernel_config_result": registered(rec("KCONF-SCSI_VIRTIO", "module-in-initramfs"),
                                           rec("KCONF-DEVKMEM", "fail")),
    })
    bad = report.host_report("old-1", {
        "sysctl_result": registered(rec("SYSCTL-YAMA_PTRACE_SCOPE", "unsupported")),
        "hardware_result": registered(rec("HW-NET-VIRTIO", "fail"), rec("HW-SERIAL", "fail")),
        "kernel_config_result": registered(rec("KCONF-VIRTIO_NET", "module-missing-from-initramfs")),
    })
    down = report.host_report("down-1", {"sysctl_result": {"unreachable": True, "msg": "ssh timed out"}})
    missing = report.host_report("never-1", {})
    return [good, bad, down, missing]


def test_host_reports_follow_the_schema(reports):
    for host in reports:
        jsonschema.validate(host, schema("host-report.schema.json"))
    assert [r["id"] for r in reports[0]["results"]] == [
        "HW-NET-GVNIC", "HW-SERIAL", "KCONF-SCSI_VIRTIO", "KCONF-DEVKMEM", "SYSCTL-IP_FORWARD",
        "SYSCTL-KPTR_RESTRICT"], "catalogue order"
    assert reports[0]["changed"] is True
    assert reports[2]["errors"] == ["sysctl_result: unreachable: ssh timed out"]
    assert reports[3]["errors"] == [report.NO_RESULTS]


def test_an_id_reported_twice_keeps_the_last_word():
    """sysctl_baseline applies (its record says fail: the value before), then
    compliance_info checks: the check is the answer, reported once."""
    host = report.host_report("h", {
        "sysctl_result": registered(rec("SYSCTL-IP_FORWARD", "fail", message="was 1, set to 0"), changed=True),
        "compliance_result": registered(rec("SYSCTL-IP_FORWARD", "pass", message="0 now"),
                                        rec("HW-SERIAL", "pass")),
    })
    assert [(r["id"], r["status"], r["message"]) for r in host["results"]] == [
        ("HW-SERIAL", "pass", "HW-SERIAL is pass"), ("SYSCTL-IP_FORWARD", "pass", "0 now")]
    assert host["summary"]["pass"] == 2 and host["summary"]["fail"] == 0
    assert report.verdict(host) == "pass" and host["changed"] is True
    summary = report.fleet_summary([host])
    assert summary["requirements"]["SYSCTL-IP_FORWARD"]["hosts"] == {"h": "pass"}
    suite = ET.fromstring(report.junit_xml([host])).find("testsuite")
    assert suite.get("tests") == "2" and [c.get("name") for c in suite.findall("testcase")] == [
        "HW-SERIAL", "SYSCTL-IP_FORWARD"]


def test_gate_required_fails_recommended_warns(reports):
    good, bad, down, missing = reports
    assert report.gate(good) == [] and report.verdict(good) == "warn"
    assert report.gate(good, strict=True) == ["KCONF-DEVKMEM fail"]
    assert report.gate(bad) == ["HW-NET-VIRTIO fail", "HW-SERIAL fail",
                                "KCONF-VIRTIO_NET module-missing-from-initramfs"]
    assert "SYSCTL-YAMA_PTRACE_SCOPE unsupported" in report.gate(bad, strict=True)
    assert report.verdict(down) == "fail" and report.verdict(missing) == "fail"


@pytest.mark.parametrize("status", ["unknown", "unsupported"])
def test_an_undecided_result_alone_makes_the_host_warn(status):
    """Nothing fails, one result could not be decided: a person must look (warn), and
    only the strict gate fails on it."""
    host = report.host_report("h", {"compliance_result": registered(
        rec("HW-SERIAL", "pass"), rec("SYSCTL-YAMA_PTRACE_SCOPE", status))})
    assert report.gate(host) == [] and report.verdict(host) == "warn"
    assert report.gate(host, strict=True) == ["SYSCTL-YAMA_PTRACE_SCOPE %s" % status]
    assert report.verdict(host, strict=True) == "fail"


def test_fleet_summary_schema_and_totals(reports):
    summary = report.fleet_summary(reports, extra={"run": "verify"})
    jsonschema.validate(summary, schema("summary.schema.json"))
    assert summary["totals"] == {"pass": 0, "warn": 1, "fail": 3}
    assert summary["gate_failed"] is True
    assert summary["requirements"]["HW-SERIAL"]["hosts"] == {"gce-1": "pass", "old-1": "fail"}
    assert summary["hosts"]["old-1"]["gate"] == report.gate(reports[1])
    assert summary["hosts"]["gce-1"]["file"] == "host-gce-1.json"
    for strict in (False, True):
        verdicts = report.fleet_summary(reports, strict=strict)["hosts"]
        assert [verdicts[r["host"]]["verdict"] for r in reports] == [report.verdict(r, strict) for r in reports]
    only_good = report.fleet_summary(reports[:1])
    assert only_good["gate_failed"] is False and report.gate_message(only_good) == ""
    assert report.gate_message(summary) == "3 host(s) fail verification (down-1, never-1, old-1)"
    nobody = report.fleet_summary([])
    assert nobody["gate_failed"] is True, "a report of no host proves nothing"
    assert report.gate_message(nobody).startswith("no host was reported: ")


def test_junit_has_one_case_per_host_and_id(reports):
    root = ET.fromstring(report.junit_xml(reports))
    suites = dict((s.get("name"), s) for s in root.findall("testsuite"))
    assert set(suites) == {"gce-1", "old-1", "down-1", "never-1"}
    good = suites["gce-1"]
    assert good.get("tests") == "6" and good.get("failures") == "0" and good.get("skipped") == "2"
    cases = dict((c.get("name"), c) for c in good.findall("testcase"))
    assert cases["KCONF-DEVKMEM"].find("system-out").text.startswith("WARNING (recommended, fail)")
    assert cases["SYSCTL-KPTR_RESTRICT"].find("skipped").get("message") == "waived: debugging kernel"
    assert cases["HW-SERIAL"].get("classname") == "gce-1.hardware"
    properties = dict((p.get("name"), p.get("value")) for p in cases["KCONF-DEVKMEM"].find("properties"))
    assert properties == {"severity": "recommended", "status": "fail", "expected": str(
        catalogue.BY_ID["KCONF-DEVKMEM"]["expected"]), "actual": "1", "waiver": ""}
    assert cases["HW-SERIAL"].find("properties") is None, "a passing case is its name"
    status = cases["KCONF-SCSI_VIRTIO"].find("properties/property")
    assert (status.get("name"), status.get("value")) == ("status", "module-in-initramfs")
    bad = suites["old-1"]
    assert bad.get("failures") == "3"
    failed = [c.get("name") for c in bad.findall("testcase") if c.find("failure") is not None]
    assert failed == ["HW-NET-VIRTIO", "HW-SERIAL", "KCONF-VIRTIO_NET"]
    assert suites["down-1"].find("testcase/error").get("message").startswith("sysctl_result: unreachable")
    strict = ET.fromstring(report.junit_xml(reports, strict=True))
    assert strict.find("testsuite[@name='gce-1']").get("failures") == "1"


def test_junit_counts_are_the_cases_it_holds(tmp_path):
    """junit-4.xsd (Ant, Jenkins): ``failures`` counts the cases with <failure>,
    ``errors`` those with <error>, ``skipped`` those with <skipped>; the
    testsuites element totals its suites.  An unreachable host (one <error>)
    said failures="1" errors="0"."""
    hostvars = {
        "passes": {"compliance_result": registered(rec("HW-SERIAL", "pass"), rec("KCONF-DEVKMEM", "not-applicable"))},
        "fails": {"compliance_result": registered(rec("HW-SERIAL", "fail"), rec("SYSCTL-IP_FORWARD", "fail"))},
        "waived": {"compliance_result": registered(rec("HW-SERIAL", "waived", waiver="NAT gateway"))},
        "unreachable": {"compliance_result": {"unreachable": True, "msg": "ssh: connect to host 10.0.0.7 port 22: "
                                                                          "Connection refused"}},
        "task-failed": {"compliance_result": registered(rec("HW-SERIAL", "pass"), failed=True,
                                                        msg="image root /mnt/img is not a directory")},
        "no-result": {},
    }
    paths, dummy = report.write_reports(str(tmp_path / "run"), report.host_reports(list(hostvars), hostvars))
    for root in (ET.parse(paths["junit"]).getroot(), ET.fromstring(report.junit_xml(
            report.host_reports(list(hostvars), hostvars)))):
        totals = dict.fromkeys(("tests", "failures", "errors"), 0)
        for suite in root.findall("testsuite"):
            cases = suite.findall("testcase")
            counted = {"tests": len(cases)}
            for name, element in (("failures", "failure"), ("errors", "error"), ("skipped", "skipped")):
                counted[name] = sum(1 for case in cases if case.find(element) is not None)
            assert dict((name, int(suite.get(name))) for name in counted) == counted, suite.get("name")
            for name in totals:
                totals[name] += counted[name]
        assert dict((name, int(root.get(name))) for name in totals) == totals == {"tests": 9, "failures": 1, "errors": 3}
        unreachable = root.find("testsuite[@name='unreachable']")
        assert (unreachable.get("failures"), unreachable.get("errors")) == ("0", "1")


def test_junit_cases_are_unique_and_a_host_s_errors_sit_with_its_results(tmp_path):
    """GitLab keys a test case by classname and name (a second one with the same key replaces
    the first) and Jenkins by its URL: a host with two errors had two cases
    ``classname="<host>" name="host"`` and CI showed one.  Jenkins and GitLab read the
    classname up to its last dot as the package: ``classname="web-1.example.com"`` put the
    error under package ``web-1.example`` (class ``com``), away from the host's results
    (package ``web-1.example.com``)."""
    hostvars = {
        "web-1.example.com": {"sysctl_result": {"unreachable": True, "msg": "ssh: connection refused"},
                              "compliance_result": registered(rec("HW-SERIAL", "pass"), failed=True, msg="boom"),
                              "hardware_result": {"failed": True, "msg": "boom"}},
        "10.0.0.7": {"compliance_result": {"unreachable": True, "msg": "timed out"}},
        "plain": {},
    }
    paths, dummy = report.write_reports(str(tmp_path / "run"), report.host_reports(list(hostvars), hostvars))
    root = ET.parse(paths["junit"]).getroot()
    keys = [(case.get("classname"), case.get("name")) for case in root.iter("testcase")]
    assert len(keys) == len(set(keys)), "no two cases share classname and name"
    for suite in root.findall("testsuite"):
        host = suite.get("name")
        assert [case.get("classname").rsplit(".", 1)[0] for case in suite.findall("testcase")] == [host] * len(
            suite.findall("testcase")), "every case of a host in the host's package"
    errors = [(case.get("classname"), case.get("name")) for case in root.iter("testcase") if case.find("error") is not None]
    assert errors == [("web-1.example.com.host", "error"), ("web-1.example.com.host", "error 2"),
                      ("web-1.example.com.host", "error 3"), ("10.0.0.7.host", "error"), ("plain.host", "error")]


def test_table_and_files(tmp_path, reports):
    summary = report.fleet_summary(reports)
    lines = report.text_table(summary)
    assert lines[0].split()[:7] == ["host", "verdict", "pass", "fail", "warn", "skip", "waived"]
    assert lines[-1] == "4 host(s): 0 pass, 1 warn, 3 fail"
    row = [line for line in lines if line.startswith("gce-1")][0].split()
    assert row[1:7] == ["WARN", "3", "1", "0", "1", "1"], "not-applicable skips, the waiver has its column"
    paths, written = report.write_reports(str(tmp_path / "run"), reports)
    assert sorted(os.listdir(str(tmp_path / "run"))) == [
        "host-down-1.json", "host-gce-1.json", "host-never-1.json", "host-old-1.json",
        "junit.xml", "report.html", "summary.json"]
    with open(paths["hosts"]["old-1"]) as handle:
        assert json.load(handle) == reports[1]
    with open(paths["summary"]) as handle:
        on_disk = json.load(handle)
    assert on_disk == json.loads(json.dumps(written))
    assert on_disk["hosts"]["old-1"]["verdict"] == "fail"
    ET.parse(paths["junit"])


def test_a_large_fleet_table_lists_the_hosts_that_do_not_pass(reports):
    hosts = [report.host_report("ok-%03d" % n, {"sysctl_result": registered(rec("SYSCTL-IP_FORWARD", "pass"))})
             for n in range(150)] + reports
    lines = report.text_table(report.fleet_summary(hosts), limit=100)
    assert [line.split()[0] for line in lines[1:-2]] == ["down-1", "never-1", "old-1", "gce-1"]
    assert lines[-2] == "... 150 more host(s) not listed: see summary.json"
    assert lines[-1] == "154 host(s): 150 pass, 1 warn, 3 fail"


def page_data(page, element="data"):
    start = page.index('<script type="application/json" id="%s">' % element)
    start = page.index(">", start) + 1
    return json.loads(page[start:page.index("</script>", start)])


def test_html_page_is_self_contained_and_compact(reports):
    twins = [report.host_report("twin-%d" % n, {"hardware_result": registered(rec("HW-SERIAL", "pass"))})
             for n in range(3)]
    page = report.html_page(reports + twins)
    assert "<script src" not in page and "<link" not in page and "http://" not in page
    data, evidence = page_data(page), page_data(page, "evidence")
    assert data["areas"] == list(catalogue.AREAS), "the area filter lists the catalogue's areas"
    hosts = [h[0] for h in data["hosts"]]
    ids = [row[0] for row in data["ids"]]
    assert hosts == ["gce-1", "old-1", "down-1", "never-1", "twin-0", "twin-1", "twin-2"]
    assert ids == [e["id"] for e in catalogue.CATALOGUE if any(
        r["id"] == e["id"] for h in reports for r in h["results"])]
    cell = dict(((hosts[n // len(ids)], ids[n % len(ids)]), k) for n, k in enumerate(data["cells"]) if k >= 0)
    assert evidence[cell[("gce-1", "SYSCTL-KPTR_RESTRICT")]]["waiver"] == "debugging kernel"
    assert data["records"][cell[("old-1", "HW-SERIAL")]] == "fail"
    # a record found on several hosts is stored once
    assert cell[("twin-0", "HW-SERIAL")] == cell[("twin-2", "HW-SERIAL")] == cell[("gce-1", "HW-SERIAL")]
    assert len(evidence) == len(data["records"]) == 10
    assert [hosts[e[0]] for e in data["errors"]] == ["down-1", "never-1"]


def test_past_the_evidence_budget_passing_evidence_stays_in_the_host_files():
    hosts = [report.host_report("h%d" % n, {"sysctl_result": registered(
        rec("SYSCTL-IP_FORWARD", "pass", evidence={"host": n}),
        rec("SYSCTL-TCP_SYNCOOKIES", "fail", evidence={"host": n}))}) for n in range(40)]
    built, dummy = report.fleet(hosts)
    assert None not in built.record_text
    small = report.Fleet(budget=4000)
    for host in hosts:
        small.add(host, small.file_for(host["host"]), [report._encode(r) for r in host["results"]])
    kept = [(status, text is not None) for status, text in zip(small.record_status, small.record_text)]
    assert ("fail", True) in kept and ("pass", False) in kept
    assert sum(len(text) for text in small.record_text if text) <= 4000
    assert [s for s, stored in kept if s == "pass" and stored] and len([1 for s, k in kept if s == "fail" and k]) > len(
        [1 for s, k in kept if s == "pass" and k]), "passing evidence gets half the budget"
    data = page_data(small.html(small.summary()))
    assert len(data["records"]) == 80 and data["records"].count("fail") == 40


def test_area_filter_follows_the_catalogue(monkeypatch, reports):
    monkeypatch.setattr(report, "AREAS", catalogue.AREAS + ("future",))
    unknown = dict(rec("HW-SERIAL", "pass"), id="FUT-THING", area="future", title="Later")
    data = page_data(report.html_page(reports + [report.host_report("fut", {"compliance_result": registered(
        unknown)})]))
    assert data["areas"] == list(catalogue.AREAS) + ["future"]
    assert data["ids"][-1] == ["FUT-THING", "future", "required", "Later"], "IDs the catalogue lacks go last"


def test_schemas_carry_the_schema_version():
    for name in ("host-report.schema.json", "summary.schema.json"):
        assert schema(name)["properties"]["schema_version"]["const"] == report.SCHEMA_VERSION


def test_artifacts_are_small(tmp_path, reports):
    paths, summary = report.write_reports(str(tmp_path / "run"), reports)
    stats = report.artifacts(summary, paths)
    assert stats["totals"] == {"pass": 0, "warn": 1, "fail": 3}
    assert stats["verdicts"] == {"gce-1": "warn", "old-1": "fail", "down-1": "fail", "never-1": "fail"}
    assert stats["failing_ids"] == {"HW-NET-VIRTIO": 1, "HW-SERIAL": 1, "KCONF-VIRTIO_NET": 1}
    assert stats["failing_hosts"]["down-1"] == ["sysctl_result: unreachable: ssh timed out"]
    assert stats["html"] == os.path.join(str(tmp_path / "run"), "report.html")
    assert sorted(stats) == ["failing_hosts", "failing_ids", "gate_failed", "html", "junit", "report_dir",
                             "strict", "summary", "totals", "verdicts"], "no records"


def test_registered_results_that_are_not_records_are_named_not_a_traceback():
    good = rec("HW-SERIAL", "pass")
    hostvars = {"h": {"compliance_result": {"changed": False, "results": [
        good, {"id": "HW-NET-VIRTIO"}, dict(good, id="HW-NET-GVNIC", status="bogus"), "text"]},
        "sysctl_result": {"results": "not a list"}}}
    reports = list(report.host_reports(["h", "h", "gone"], hostvars, generated="2026-11-29T00:00:00+00:00"))
    assert [r["host"] for r in reports] == ["h", "gone"], "each host once"
    host = reports[0]
    assert [r["id"] for r in host["results"]] == ["HW-SERIAL"]
    assert host["errors"] == ["compliance_result: 3 result(s) left out, not result records (the first: a result "
                              "without %s)" % ", ".join(report.RECORD_KEYS)]
    assert reports[1]["errors"] == [report.NO_RESULTS]


def test_registered_records_with_an_id_or_status_not_a_string_make_an_error_host(tmp_path):
    """A record set by hand (set_fact, a template) with a list or a mapping where
    the ID or status is: that host's error, named, and every other host still
    gets its report (it was a TypeError and no report at all).  Evidence whose
    keys are numbers and texts (YAML keys ``1:`` and ``b:``) is written as it is."""
    good = rec("HW-SERIAL", "pass")
    hostvars = {
        "status-list": {"compliance_result": registered(dict(good, status=["pass"]), rec("KCONF-DEVKMEM", "pass"))},
        "id-list": {"compliance_result": registered(dict(good, id=["HW-SERIAL"]))},
        "id-mapping": {"compliance_result": registered(dict(good, id={"name": "HW-SERIAL"}))},
        "mixed-keys": {"compliance_result": registered(rec("HW-SERIAL", "fail", evidence={1: "ttyS0", "b": 2}))},
        "fine": {"compliance_result": registered(good)},
    }
    paths, summary = report.write_reports(str(tmp_path / "run"), report.host_reports(list(hostvars), hostvars))
    assert sorted(paths["hosts"]) == sorted(hostvars)
    errors = dict((host, entry["errors"]) for host, entry in summary["hosts"].items())
    assert errors["status-list"] == ["compliance_result: 1 result(s) left out, not result records (the first: a "
                                     "result of 'HW-SERIAL' with the unknown status ['pass'])"]
    assert errors["id-list"] == ["compliance_result: 1 result(s) left out, not result records (the first: a "
                                 "result whose id is ['HW-SERIAL'], not a string)"]
    assert errors["id-mapping"][0].endswith("a result whose id is {'name': 'HW-SERIAL'}, not a string)")
    assert errors["mixed-keys"] == errors["fine"] == []
    assert summary["requirements"]["KCONF-DEVKMEM"]["hosts"] == {"status-list": "pass"}, "the good records stay"
    assert summary["hosts"]["status-list"]["verdict"] == "fail" and summary["hosts"]["fine"]["verdict"] == "pass"
    case = ET.parse(paths["junit"]).getroot().find("testsuite[@name='mixed-keys']/testcase[@name='HW-SERIAL']")
    assert case.find("failure").text.endswith('evidence: {"1":"ttyS0","b":2}\nremediation: %s' % good["remediation"])


def test_results_registered_as_one_json_text_give_the_same_reports(tmp_path):
    """results_format=json (the fleet playbooks): the report takes each record
    from its line of the module's text (a line met on several hosts is decoded
    twice, then shared) or, for any other JSON text, from the whole text;
    the reports are those of the records registered as data.  A text that is
    not that JSON is named in the host's errors."""
    records = [rec("SYSCTL-IP_FORWARD", "pass"), rec("HW-SERIAL", "fail", evidence={"ports": [u"ttyS0 \u2028 \u00e9"]})]
    areas_ = {"sysctl": {"file": "/etc/sysctl.d/zz.conf"}}
    lines = areas.results_json(records, areas_)
    assert lines.count("\n") == len(records) + 1
    whole = json.dumps({"results": records, "areas": areas_}, indent=1)
    hostvars = {
        "listed": {"compliance_result": registered(*records, areas=areas_)},
        "lines-1": {"compliance_result": {"changed": False, "results_json": lines}},
        "lines-2": {"compliance_result": {"changed": False, "results_json": lines}},
        "lines-3": {"compliance_result": {"changed": False, "results_json": lines}},
        "whole": {"compliance_result": {"changed": False, "results_json": whole}},
        # one line holding two records: valid JSON as a whole, read the slow way
        "two-in-a-line": {"compliance_result": {"changed": False, "results_json": lines.replace(
            "},\n{", "},{")}},
        "broken": {"compliance_result": {"changed": False, "results_json": lines.replace("},\n{", "}]\n{")}},
        "empty": {"compliance_result": {"changed": False, "results_json": areas.results_json([], {})}},
    }
    hosts = list(hostvars)
    got = dict((r["host"], r) for r in report.host_reports(hosts, hostvars, generated="2026-11-29T00:00:00+00:00"))
    for host in ("lines-1", "lines-2", "lines-3", "whole", "two-in-a-line"):
        assert dict(got[host], host="listed", _texts=None) == dict(got["listed"], _texts=None), host
    # a text met again is kept, and its record shared from then on (met once, it is not kept)
    assert got["lines-2"]["results"][1] is got["lines-3"]["results"][1], "one record for one text"
    assert got["lines-1"]["results"][1] is not got["lines-2"]["results"][1]
    assert got["broken"]["results"] == [] and len(got["broken"]["errors"]) == 1
    assert got["broken"]["errors"][0].startswith(
        "compliance_result: results_json is not the JSON text of results and areas (JSONDecodeError: ")
    # read without a JSON error; no record, so nothing was checked
    assert got["empty"]["results"] == [] and got["empty"]["errors"] == [report.NO_CHECKS % "compliance_result"]
    assert "results_json" in hostvars["whole"]["compliance_result"], "the registered value is left as it was"
    paths, dummy = report.write_reports(str(tmp_path / "run"), report.host_reports(hosts, hostvars))
    files = dict((host, json.load(open(path))) for host, path in paths["hosts"].items())
    for host in ("lines-1", "whole", "two-in-a-line"):
        assert files[host]["results"] == files["listed"]["results"] == sorted(records, key=lambda r: r["id"])
    assert open(paths["hosts"]["lines-1"]).read().count("\n") == open(paths["hosts"]["listed"]).read().count("\n")


def test_every_catalogue_id_is_a_valid_report_id():
    """The report schema admits every requirement's ID and area (a new area must not make
    every host report invalid)."""
    fields = schema("host-report.schema.json")["$defs"]["result"]["properties"]
    ids, areas = jsonschema.Draft7Validator(fields["id"]), jsonschema.Draft7Validator(fields["area"])
    rejected = [entry["id"] for entry in catalogue.CATALOGUE
                if not ids.is_valid(entry["id"]) or not areas.is_valid(entry["area"])]
    assert not rejected


def test_the_page_shows_and_filters_waived_cells_as_waived(tmp_path, chromium):
    """requirements.md section 4: waivers are shown as waived in every report.  A NAT
    gateway's waived SYSCTL-IP_FORWARD is its own status in the page's filter, apart from
    the IDs that do not apply (both were "skip")."""
    hostvars = {
        "nat-gw-1": {"compliance_result": registered(
            rec("SYSCTL-IP_FORWARD", "waived", waiver="NAT gateway: forwards by design (change NET-123)"),
            rec("HW-SERIAL", "pass"))},
        "web-1": {"compliance_result": registered(rec("SYSCTL-IP_FORWARD", "pass"), rec("HW-NET-GVNIC", "not-applicable"),
                                                  rec("HW-SERIAL", "pass"))},
    }
    paths, dummy = report.write_reports(str(tmp_path / "run"), report.host_reports(list(hostvars), hostvars))
    dom = chromium(paths["html"], query="?status=waived")
    assert dom.hosts == ["nat-gw-1"] and set(dom.rows) - set(dom.hidden_rows) == {"SYSCTL-IP_FORWARD"}
    assert 'class="o-waived"' in dom.text and "<option value=\"waived\">waived</option>" in dom.text
    dom = chromium(paths["html"], query="?status=skip")
    assert dom.hosts == ["web-1"] and set(dom.rows) - set(dom.hidden_rows) == {"HW-NET-GVNIC"}


def test_files_the_collection_did_not_write_are_not_replaced(tmp_path, reports):
    """output_dir=~/my docs holding the user's own report.html, summary.json or a
    host-<name>.json: an error naming the file, which is left as it was.  The
    collection's own reports there (a run written again into the same directory,
    a schema 1 host file) are replaced."""
    directory = tmp_path / "my docs"
    directory.mkdir()
    for name, text in (("report.html", "<html><body>my own notes</body></html>"), ("summary.json", '{"mine": 1}'),
                       ("junit.xml", '<?xml version="1.0"?><testsuites name="pytest"/>'),
                       ("host-gce-1.json", '{"mine": 1}')):
        (directory / name).write_text(text)
        with pytest.raises(report.ReportError) as error:
            report.write_reports(str(directory), reports)
        assert str(error.value) == "%s is not a report of guestready.gce: not replaced (move it, or choose " \
                                   "another report directory)" % (directory / name)
        assert (directory / name).read_text() == text
        assert not [f for f in os.listdir(str(directory)) if f.startswith(".")]
        (directory / name).unlink()
    report.write_reports(str(directory), reports)
    # schema 1 wrote json.dumps(report, indent=2, sort_keys=True)
    (directory / "host-old-1.json").write_text(json.dumps(dict(reports[1], schema_version=1), indent=2, sort_keys=True))
    paths, dummy = report.write_reports(str(directory), reports)
    assert json.loads((directory / "host-old-1.json").read_text()) == reports[1]


def test_a_records_text_is_used_only_for_that_very_record():
    """The texts of JSON-registered records are looked up by id(); an id is
    another object's once the first is freed, so the record is kept and
    compared, and any other object is encoded anew."""
    kept = {"id": "SYSCTL-A", "status": "pass"}
    other = {"id": "SYSCTL-B", "status": "fail"}
    text_of = {id(other): (kept, '{"id": "SYSCTL-A", "status": "pass"}')}
    assert json.loads(report._text_of(text_of, other)) == other
    text_of = {id(kept): (kept, "the text it came from")}
    assert report._text_of(text_of, kept) == "the text it came from"


def test_a_host_whose_tasks_returned_no_result_was_not_checked(tmp_path):
    """compliance_result registered as {changed: false, results: []} (a module of another
    version, a task edited to check nothing): the host passed with zero checks in summary.json,
    JUnit, the page and the table.  Nothing checked proves nothing, as a host never reached:
    an error naming what returned nothing, and the host fails the gate, strict or not."""
    hostvars = {"empty": {"compliance_result": registered()},
                "two-empty": {"sysctl_result": registered(), "compliance_result": registered(changed=True)},
                "checked": {"compliance_result": registered(rec("HW-SERIAL", "pass")), "sysctl_result": registered()}}
    for strict in (False, True):
        paths, summary = report.write_reports(str(tmp_path / str(strict)), report.host_reports(
            list(hostvars), hostvars, generated="2026-11-29T00:00:00+00:00"), strict=strict)
        jsonschema.validate(summary, schema("summary.schema.json"))
        entry = summary["hosts"]["empty"]
        assert entry["verdict"] == "fail", "nothing was checked: no pass"
        expected = report.NO_CHECKS % "compliance_result"
        assert (entry["verdict"], entry["errors"], entry["gate"]) == ("fail", [expected], [expected])
        assert summary["hosts"]["two-empty"]["errors"] == [report.NO_CHECKS % "compliance_result, sysctl_result"]
        assert summary["hosts"]["checked"]["verdict"] == "pass", "one area returning nothing beside another's records"
        assert summary["gate_failed"] and summary["totals"] == {"pass": 1, "warn": 0, "fail": 2}
        host = json.loads(open(paths["hosts"]["empty"]).read())
        jsonschema.validate(host, schema("host-report.schema.json"))
        assert host["errors"] == [expected] and host["results"] == []
        suite = ET.parse(paths["junit"]).getroot().find("testsuite[@name='empty']")
        assert (suite.get("tests"), suite.get("errors")) == ("1", "1")
        assert suite.find("testcase/error").get("message") == expected
        row = [line for line in report.text_table(summary) if line.startswith("empty ")][0]
        assert row.split()[:7] == ["empty", "FAIL", "0", "0", "0", "0", "0"] and row.endswith(expected)
        assert report.gate_message(summary).startswith("2 host(s) fail verification (empty, two-empty)")
        with open(paths["html"], encoding="utf-8") as handle:
            data = page_data(handle.read())
        names = [h[0] for h in data["hosts"]]
        assert data["hosts"][names.index("empty")][1] == "fail"
        assert [names.index("empty"), expected] in data["errors"]


def test_junit_says_a_waiver_of_an_area_not_run_was_not_checked():
    """verify.yml --tags sysctl with an HW-* waiver: the waived record says
    "not checked", and so must the JUnit skip CI shows (not only the reason)."""
    hardware = [area for area in areas.AREAS if area.name == "hardware"]
    entries = catalogue.requirements(hardware[0].catalogue_areas)
    records = areas.add_not_run_waivers([rec("SYSCTL-IP_FORWARD", "pass")], entries,
                                        {"HW-SERIAL": "no serial port on this shape"}, hardware)
    host = report.host_report("gce-1", {"sysctl_result": registered(*records)})
    root = ET.fromstring(report.junit_xml([host]))
    message = root.find(".//testcase[@name='HW-SERIAL']/skipped").get("message")
    assert message == "waived: no serial port on this shape (not checked: the hardware area was not run)"
