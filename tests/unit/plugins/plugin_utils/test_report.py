"""Reports: per-host JSON (schema), fleet summary, JUnit, HTML, gate."""

import json
import os
import xml.etree.ElementTree as ET

import jsonschema
import pytest

from ansible_collections.guestready.gce.plugins.module_utils.catalogue import BY_ID
from ansible_collections.guestready.gce.plugins.module_utils.results import record
from ansible_collections.guestready.gce.plugins.plugin_utils import report

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))))


def schema(name):
    with open(os.path.join(ROOT, "docs", "schemas", name)) as handle:
        return json.load(handle)


def registered(*records, **extra):
    value = {"changed": False, "results": list(records)}
    value.update(extra)
    return value


def rec(rid, status, **extra):
    return record(BY_ID[rid], status, actual=1, message="%s is %s" % (rid, status), **extra)


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
    assert reports[3]["errors"] == ["no results: the host was not reached or no check ran"]


def test_gate_required_fails_recommended_warns(reports):
    good, bad, down, missing = reports
    assert report.gate(good) == [] and report.verdict(good) == "warn"
    assert report.gate(good, strict=True) == ["KCONF-DEVKMEM fail"]
    assert report.gate(bad) == ["HW-NET-VIRTIO fail", "HW-SERIAL fail",
                                "KCONF-VIRTIO_NET module-missing-from-initramfs"]
    assert "SYSCTL-YAMA_PTRACE_SCOPE unsupported" in report.gate(bad, strict=True)
    assert report.verdict(down) == "fail" and report.verdict(missing) == "fail"


def test_fleet_summary_schema_and_totals(reports):
    summary = report.fleet_summary(reports, extra={"run": "verify"})
    jsonschema.validate(summary, schema("summary.schema.json"))
    assert summary["totals"] == {"pass": 0, "warn": 1, "fail": 3}
    assert summary["gate_failed"] is True
    assert summary["requirements"]["HW-SERIAL"]["hosts"] == {"gce-1": "pass", "old-1": "fail"}
    only_good = report.fleet_summary(reports[:1])
    assert only_good["gate_failed"] is False


def test_junit_has_one_case_per_host_and_id(reports):
    root = ET.fromstring(report.junit_xml(reports))
    suites = dict((s.get("name"), s) for s in root.findall("testsuite"))
    assert set(suites) == {"gce-1", "old-1", "down-1", "never-1"}
    good = suites["gce-1"]
    assert good.get("tests") == "6" and good.get("failures") == "0" and good.get("skipped") == "2"
    cases = dict((c.get("name"), c) for c in good.findall("testcase"))
    assert cases["KCONF-DEVKMEM"].find("system-out").text.startswith("WARNING (recommended, fail)")
    assert cases["SYSCTL-KPTR_RESTRICT"].find("skipped").get("message") == "waived: debugging kernel"
    bad = suites["old-1"]
    assert bad.get("failures") == "3"
    failed = [c.get("name") for c in bad.findall("testcase") if c.find("failure") is not None]
    assert failed == ["HW-NET-VIRTIO", "HW-SERIAL", "KCONF-VIRTIO_NET"]
    assert suites["down-1"].find("testcase/error").get("message").startswith("sysctl_result: unreachable")
    strict = ET.fromstring(report.junit_xml(reports, strict=True))
    assert strict.find("testsuite[@name='gce-1']").get("failures") == "1"


def test_table_and_files(tmp_path, reports):
    summary = report.fleet_summary(reports)
    lines = report.text_table(summary)
    assert lines[0].split()[:6] == ["host", "verdict", "pass", "fail", "warn", "skip"]
    assert lines[-1] == "4 host(s): 0 pass, 1 warn, 3 fail"
    row = [line for line in lines if line.startswith("gce-1")][0].split()
    assert row[1:6] == ["WARN", "3", "1", "0", "2"]
    paths = report.write_reports(str(tmp_path / "run"), reports, summary)
    assert sorted(os.listdir(str(tmp_path / "run"))) == [
        "host-down-1.json", "host-gce-1.json", "host-never-1.json", "host-old-1.json",
        "junit.xml", "report.html", "summary.json"]
    with open(paths["hosts"]["old-1"]) as handle:
        assert json.load(handle)["host"] == "old-1"


def test_html_page_is_self_contained(reports):
    page = report.html_page(reports, report.fleet_summary(reports))
    assert "<script src" not in page and "<link" not in page and "http://" not in page
    assert page.count('data-key="gce-1|HW-SERIAL"') == 1
    assert 'class="o-fail" data-host="old-1" data-status="fail"' in page
    start = page.index('<script type="application/json" id="evidence">') + len(
        '<script type="application/json" id="evidence">')
    data = json.loads(page[start:page.index("</script>", start)])
    assert data["gce-1|SYSCTL-KPTR_RESTRICT"]["waiver"] == "debugging kernel"


def test_every_catalogue_id_is_a_valid_report_id():
    """The report schema admits every requirement's ID and area (a new area must not make
    every host report invalid)."""
    fields = schema("host-report.schema.json")["$defs"]["result"]["properties"]
    ids, areas = jsonschema.Draft7Validator(fields["id"]), jsonschema.Draft7Validator(fields["area"])
    rejected = [rid for rid, entry in BY_ID.items()
                if not ids.is_valid(rid) or not areas.is_valid(entry["area"])]
    assert not rejected
