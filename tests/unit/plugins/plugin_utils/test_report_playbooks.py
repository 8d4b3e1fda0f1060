"""The playbooks write a report for every host of the run, whatever happened
to it, and report_merge.yml merges report directories.  These run
ansible-playbook against the controller itself (local connection, an image
root that does not exist: nothing on the host is read or changed) and a host
on a closed loopback port (unreachable)."""

import json
import os
import subprocess
import sys

import jsonschema
import pytest

from ansible_collections.guestready.gce.plugins.module_utils import catalogue
from ansible_collections.guestready.gce.plugins.module_utils.results import STATUSES
from ansible_collections.guestready.gce.plugins.plugin_utils import report

from conftest import ROOT, rec, registered, schema


def playbook(tmp_path, name, *extra, **kwargs):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".ansible", "collections"),
               ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_SHOW_CUSTOM_STATS="1",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"), ANSIBLE_STDOUT_CALLBACK="default",
               ANSIBLE_CALLBACK_RESULT_FORMAT="json")
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "guestready.gce." + name]
    command += list(extra)
    if kwargs.get("inventory"):
        command += ["-i", kwargs["inventory"]]
    proc = subprocess.run(command, env=env, cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=300, check=False)
    return proc


def load(*parts):
    with open(os.path.join(*parts)) as handle:
        return json.load(handle)


def inventory(tmp_path, text):
    path = tmp_path / "inventory.ini"
    path.write_text(text)
    return str(path)


def test_the_module_failing_on_the_only_host_still_writes_its_report(tmp_path):
    """An image-root run targets localhost; when its check fails, localhost
    must not drop out of the report play (it would write nothing)."""
    reports = tmp_path / "reports"
    proc = playbook(tmp_path, "verify", "-i", "localhost,", "-c", "local",
                    "-e", "ansible_python_interpreter=%s" % sys.executable, "-e", "guestready_gce_hosts=localhost",
                    "-e", "guestready_gce_image_root=%s" % (tmp_path / "no-such-image"),
                    "-e", "guestready_gce_report_dir=%s" % reports)
    assert proc.returncode == 2, proc.stdout[-4000:]
    assert "1 host(s) fail verification (localhost)" in proc.stdout
    host = load(str(reports), "host-localhost.json")
    jsonschema.validate(host, schema("host-report.schema.json"))
    assert host["errors"] and host["errors"][0].startswith("compliance_result: ")
    assert "no-such-image" in host["errors"][0]
    summary = load(str(reports), "summary.json")
    assert summary["hosts"]["localhost"]["verdict"] == "fail" and summary["run"] == "verify"
    assert sorted(os.listdir(str(reports))) == ["host-localhost.json", "junit.xml", "report.html", "summary.json"]
    # the artifacts AWX keeps (set_stats), printed by ANSIBLE_SHOW_CUSTOM_STATS
    stats = json.loads(proc.stdout.split("CUSTOM STATS:")[1].split("RUN:", 1)[1].strip().splitlines()[0])
    assert stats["guestready_gce"]["verdicts"] == {"localhost": "fail"}
    assert stats["guestready_gce"]["report_dir"] == str(reports)


def test_failed_and_unreachable_hosts_all_get_reports_and_the_rollout_stops(tmp_path):
    """Three hosts one at a time (serial 1) with max_fail_percentage 0: the
    first fails its check, the run stops after that batch; a second run with
    the whole batch unreachable.  Every host of the run gets a report."""
    python = sys.executable
    hosts = inventory(tmp_path, "\n".join([
        "[fleet]",
        "img-a ansible_connection=local ansible_python_interpreter=%s" % python,
        "img-b ansible_connection=local ansible_python_interpreter=%s" % python,
        "img-c ansible_connection=local ansible_python_interpreter=%s" % python,
        "[dead]",
        "dead-1 ansible_host=127.0.0.1 ansible_port=1 ansible_connection=ssh ansible_user=nobody",
        "dead-2 ansible_host=127.0.0.1 ansible_port=1 ansible_connection=ssh ansible_user=nobody", ""]))
    first = tmp_path / "first"
    proc = playbook(tmp_path, "verify", "-e", "guestready_gce_hosts=fleet", "-e", "guestready_gce_serial=1",
                    "-e", "guestready_gce_max_fail_percentage=0",
                    "-e", "guestready_gce_image_root=%s" % (tmp_path / "no-such-image"),
                    "-e", "guestready_gce_report_dir=%s" % first, inventory=hosts)
    assert proc.returncode == 2, proc.stdout[-4000:]
    summary = load(str(first), "summary.json")
    assert sorted(summary["hosts"]) == ["img-a", "img-b", "img-c"]
    assert summary["hosts"]["img-a"]["errors"][0].startswith("compliance_result: ")
    assert summary["hosts"]["img-b"]["errors"] == [report.NO_RESULTS], "the rollout stopped after img-a"
    assert summary["hosts"]["img-c"]["errors"] == [report.NO_RESULTS]

    second = tmp_path / "second"
    proc = playbook(tmp_path, "verify", "-e", "guestready_gce_hosts=dead", "-e", "ansible_timeout=5",
                    "-e", "guestready_gce_report_dir=%s" % second, inventory=hosts)
    assert proc.returncode == 2, proc.stdout[-4000:]
    summary = load(str(second), "summary.json")
    assert sorted(summary["hosts"]) == ["dead-1", "dead-2"]
    for host in ("dead-1", "dead-2"):
        assert summary["hosts"][host]["errors"][0].startswith("compliance_result: unreachable: ")
        assert summary["hosts"][host]["verdict"] == "fail"


def write_run(directory, generated, hosts):
    reports = [report.host_report(name, {"compliance_result": registered(
        rec("HW-SERIAL", status, message="%s at %s" % (status, generated)))}, generated=generated)
        for name, status in hosts]
    return report.write_reports(str(directory), reports, started=generated, extra={"run": "verify"})


def test_merge_two_report_directories(tmp_path):
    """Two job slices, one host in both: the newer report wins, and the
    summary says which report was dropped."""
    older = write_run(tmp_path / "slice-1", "2026-11-29T10:00:00+00:00", [("a", "pass"), ("b/x", "fail")])[0]
    newer = write_run(tmp_path / "slice-2", "2026-11-29T11:00:00+00:00", [("b/x", "pass"), ("c", "fail")])[0]
    merged = tmp_path / "fleet"
    # the newer slice named first: the run's start decides, not the order
    proc = playbook(tmp_path, "report_merge", "-e", json.dumps({"guestready_gce_merge": [
        str(tmp_path / "slice-2"), str(tmp_path / "slice-1")]}), "-e", "guestready_gce_report_dir=%s" % merged)
    assert proc.returncode == 2, proc.stdout[-4000:]  # c fails verification
    assert "1 host(s) fail verification (c)" in proc.stdout
    summary = load(str(merged), "summary.json")
    jsonschema.validate(summary, schema("summary.schema.json"))
    assert summary["run"] == "merge"
    assert dict((h, e["verdict"]) for h, e in summary["hosts"].items()) == {"a": "pass", "b/x": "pass", "c": "fail"}
    assert summary["merged"]["replaced"] == {"b/x": {"kept": newer["hosts"]["b/x"], "dropped": [older["hosts"]["b/x"]]}}
    assert [s["hosts"] for s in summary["merged"]["sources"]] == [2, 2]
    host = load(str(merged), summary["hosts"]["b/x"]["file"])
    assert host["results"][0]["message"] == "pass at 2026-11-29T11:00:00+00:00"
    assert host["source"] == newer["hosts"]["b/x"]
    jsonschema.validate(host, schema("host-report.schema.json"))
    files = sorted(os.listdir(str(merged)))
    expected = [report.host_file(h) for h in ("a", "b/x", "c")] + ["junit.xml", "report.html", "summary.json"]
    assert files == sorted(expected)


def test_merge_reads_a_directory_without_summary_and_names_bad_input(tmp_path):
    write_run(tmp_path / "one", "2026-11-29T10:00:00+00:00", [("a", "pass"), ("b", "fail")])
    write_run(tmp_path / "two", "2026-11-29T10:00:00+00:00", [("b", "pass")])
    os.unlink(str(tmp_path / "one" / "summary.json"))  # a run that stopped before its summary
    reports, merged = report.merge_sources([str(tmp_path / "one"), str(tmp_path / "two")])
    paths, summary = report.write_reports(str(tmp_path / "out"), reports, extra={"merged": merged})
    assert dict((h, e["verdict"]) for h, e in summary["hosts"].items()) == {"a": "pass", "b": "pass"}, \
        "same start: the directory named last wins"
    assert summary["merged"]["replaced"]["b"]["kept"] == str(tmp_path / "two" / "host-b.json")

    with pytest.raises(report.ReportError) as error:
        report.merge_sources([str(tmp_path / "missing")])
    assert str(error.value) == "cannot merge %s: not a directory" % (tmp_path / "missing")
    (tmp_path / "two" / "host-b.json").write_text('{"host": "b", "results": [{"id": "X"}]}')
    with pytest.raises(report.ReportError) as error:
        list(report.merge_sources([str(tmp_path / "two")])[0])
    assert str(error.value).startswith("%s is not the guestready.gce host report of b: a result without id, area" % (
        tmp_path / "two" / "host-b.json"))
    (tmp_path / "two" / "summary.json").write_text("{not json")
    with pytest.raises(report.ReportError) as error:
        report.merge_sources([str(tmp_path / "two")])
    assert str(error.value).startswith("%s is not valid JSON" % (tmp_path / "two" / "summary.json"))


GOOD = rec("HW-SERIAL", "pass")


def host_file_of(host, **fields):
    value = {"schema_version": 2, "host": host, "generated": "2026-11-29T10:00:00+00:00", "errors": [],
             "areas": {}, "changed": False, "results": [GOOD]}
    value.update(fields)
    return value


@pytest.mark.parametrize("files, problem", [
    ({"host-5.json": host_file_of(5)}, "host-5.json is not a guestready.gce host report: its host is 5, not a name"),
    ({"host-x.json": host_file_of(None)}, "host-x.json is not a guestready.gce host report: its host is None, not a name"),
    ({"host-x.json": host_file_of(["a"])}, "host-x.json is not a guestready.gce host report: its host is ['a'], not a name"),
    ({"host-a.json": host_file_of("a", results=[dict(GOOD, id=["HW-SERIAL"])])},
     "host-a.json is not the guestready.gce host report of a: a result whose id is ['HW-SERIAL'], not a string"),
    ({"host-a.json": host_file_of("a", results=[dict(GOOD, status=["pass"])])},
     "host-a.json is not the guestready.gce host report of a: a result of 'HW-SERIAL' with the unknown status ['pass']"),
    ({"host-a.json": host_file_of("a", errors=[1])},
     "host-a.json is not the guestready.gce host report of a: errors is [1], not a list of texts"),
    ({"summary.json": {"generated": "2026-11-29T10:00:00+00:00", "hosts": {"a": "host-a.json"}},
      "host-a.json": host_file_of("a")},
     "summary.json is not a guestready.gce summary: the entry of host 'a' is 'host-a.json', not an object"),
    ({"host-a.json": host_file_of("a", results=[dict(GOOD, status="fail"), dict(GOOD, status="waived", waiver="ok")])},
     "host-a.json is not the guestready.gce host report of a: requirement ID HW-SERIAL is reported twice"),
    ({"summary.json": {"generated": "2026-11-29T10:00:00+00:00", "hosts": {"a": {"file": 7}}}},
     "summary.json is not a guestready.gce summary: the file of host 'a' is 7, not a file name"),
    ({"summary.json": {"generated": "2026-11-29T10:00:00+00:00", "hosts": {"a": {"file": "../../etc/passwd"}}}},
     "summary.json is not a guestready.gce summary: the file of host 'a' is '../../etc/passwd', not a file name"),
])
def test_merge_names_the_file_and_field_of_a_damaged_source(tmp_path, files, problem):
    """Host files and summaries edited by hand or by another tool: a ReportError naming the
    file and what is wrong in it, never a TypeError (the action reports only ReportError)."""
    source = tmp_path / "slice-1"
    source.mkdir()
    for name, content in files.items():
        (source / name).write_text(json.dumps(content))
    with pytest.raises(report.ReportError) as error:
        reports, merged = report.merge_sources([str(source)])
        report.write_reports(str(tmp_path / "fleet"), reports, extra={"merged": merged})
    assert str(error.value) == os.path.join(str(source), problem)


def test_merge_counts_a_host_from_its_records_not_its_stored_summary(tmp_path):
    """A host file whose summary says pass while its record fails (edited, or written by an
    older version): the table, summary.json and the merged host file count the records."""
    source = tmp_path / "slice-1"
    source.mkdir()
    (source / "host-a.json").write_text(json.dumps(host_file_of("a", results=[dict(GOOD, status="fail")],
                                                                summary={"pass": 1})))
    reports, merged = report.merge_sources([str(source)])
    paths, summary = report.write_reports(str(tmp_path / "fleet"), reports, extra={"merged": merged})
    assert summary["hosts"]["a"]["summary"]["fail"] == 1 and summary["hosts"]["a"]["summary"]["pass"] == 0
    assert load(paths["hosts"]["a"])["summary"] == summary["hosts"]["a"]["summary"]
    assert report.text_table(summary)[1].split()[:4] == ["a", "FAIL", "0", "1"]


def test_merge_into_a_link_to_a_source_is_refused(tmp_path):
    """/reports/fleet a symbolic link to /reports/slice-1: the merge would write over
    slice-1's host files and summary (the guard compared the paths as written)."""
    write_run(tmp_path / "slice-1", "2026-11-29T10:00:00+00:00", [("a", "fail")])
    write_run(tmp_path / "slice-2", "2026-11-29T11:00:00+00:00", [("a", "pass")])
    os.symlink(str(tmp_path / "slice-1"), str(tmp_path / "fleet"))
    before = dict((name, (tmp_path / "slice-1" / name).read_bytes()) for name in os.listdir(str(tmp_path / "slice-1")))
    proc = playbook(tmp_path, "report_merge", "-e", json.dumps({"guestready_gce_merge": [
        str(tmp_path / "slice-1"), str(tmp_path / "slice-2")]}), "-e", "guestready_gce_report_dir=%s" % (tmp_path / "fleet"))
    assert proc.returncode == 2, proc.stdout[-4000:]
    assert "cannot merge into %s: it is one of the directories merged" % (tmp_path / "fleet") in proc.stdout
    assert dict((name, (tmp_path / "slice-1" / name).read_bytes()) for name in os.listdir(str(tmp_path / "slice-1"))) == before


def test_merge_playbook_needs_directories(tmp_path):
    proc = playbook(tmp_path, "report_merge")
    assert proc.returncode == 2
    assert "set guestready_gce_merge to the report directories to merge" in proc.stdout


def test_a_merge_or_a_run_that_reports_no_host_fails(tmp_path):
    """The parent of two job directories (or an empty one) holds no report: an error naming
    it, not "0 host(s)" and exit status 0.  A verify run whose --limit leaves none of the
    chosen hosts reports no host: its gate fails too."""
    write_run(tmp_path / "reports" / "1234", "2026-11-29T10:00:00+00:00", [("a", "fail")])
    write_run(tmp_path / "reports" / "1235", "2026-11-29T10:00:00+00:00", [("b", "pass")])
    (tmp_path / "empty").mkdir()
    for source in (tmp_path / "reports", tmp_path / "empty"):
        proc = playbook(tmp_path, "report_merge", "-e", json.dumps({"guestready_gce_merge": [str(source)]}),
                        "-e", "guestready_gce_report_dir=%s" % (tmp_path / "fleet"))
        assert proc.returncode == 2, proc.stdout[-4000:]
        assert "cannot merge %s: it holds no report (no summary.json, no host-*.json)" % source in proc.stdout
        assert "0 host(s)" not in proc.stdout
    hosts = inventory(tmp_path, "\n".join([
        "[fleet]", "img-a ansible_connection=local ansible_python_interpreter=%s" % sys.executable,
        "[controller]", "localhost ansible_connection=local ansible_python_interpreter=%s" % sys.executable, ""]))
    proc = playbook(tmp_path, "verify", "-e", "guestready_gce_hosts=fleet", "--limit", "controller",
                    "-e", "guestready_gce_report_dir=%s" % (tmp_path / "none"), inventory=hosts)
    assert proc.returncode == 2, proc.stdout[-4000:]
    assert "no host was reported: the run's hosts matched nothing" in proc.stdout.replace("''", "'")
    assert load(str(tmp_path / "none"), "summary.json")["gate_failed"] is True


def test_a_failed_merge_leaves_no_empty_report_directory(tmp_path):
    """Without guestready_gce_report_dir the run makes reports/<time>-merge; a merge that
    fails before writing removes it again, so no empty directory looks like a report."""
    proc = playbook(tmp_path, "report_merge", "-e", json.dumps({"guestready_gce_merge": [str(tmp_path / "none")]}))
    assert proc.returncode == 2
    assert "cannot merge %s: not a directory" % (tmp_path / "none") in proc.stdout
    assert not (tmp_path / "reports").exists() or not os.listdir(str(tmp_path / "reports"))


def test_a_merged_report_keeps_each_host_s_own_time_for_the_next_merge(tmp_path):
    """A fleet directory merged at 12:00 from a 10:00 slice, merged again with a run that
    started at 11:00: the host's 11:00 report is the newest.  The fleet's summary time (when
    the merge ran) stood for every host it holds, and the 10:00 failure won."""
    write_run(tmp_path / "slice-1", "2026-11-29T10:00:00+00:00", [("a", "fail"), ("b", "pass")])
    write_run(tmp_path / "rerun", "2026-11-29T11:00:00+00:00", [("a", "pass")])
    reports, merged = report.merge_sources([str(tmp_path / "slice-1")])
    report.write_reports(str(tmp_path / "fleet"), reports, started="2026-11-29T12:00:00+00:00",
                         extra={"merged": merged})
    fleet = load(str(tmp_path / "fleet"), "summary.json")
    jsonschema.validate(fleet, schema("summary.schema.json"))
    assert fleet["hosts"]["a"]["generated"] == "2026-11-29T10:00:00+00:00", "the host's own run, not the merge"
    for order in ([tmp_path / "fleet", tmp_path / "rerun"], [tmp_path / "rerun", tmp_path / "fleet"]):
        reports, merged = report.merge_sources([str(d) for d in order])
        paths, summary = report.write_reports(str(tmp_path / "again"), reports, extra={"merged": merged})
        assert dict((h, e["verdict"]) for h, e in summary["hosts"].items()) == {"a": "pass", "b": "pass"}
        assert summary["merged"]["replaced"]["a"] == {"kept": str(tmp_path / "rerun" / "host-a.json"),
                                                      "dropped": [str(tmp_path / "fleet" / "host-a.json")]}
        assert load(paths["hosts"]["a"])["generated"] == "2026-11-29T11:00:00+00:00"
    # a fleet directory merged before summaries said each host's time: its host files say it
    for entry in fleet["hosts"].values():
        del entry["generated"]
    (tmp_path / "fleet" / "summary.json").write_text(json.dumps(fleet))
    reports, merged = report.merge_sources([str(tmp_path / "fleet"), str(tmp_path / "rerun")])
    assert dict((r["host"], r["results"][0]["status"]) for r in reports) == {"a": "pass", "b": "pass"}


def test_a_merged_host_file_cannot_supply_the_report_s_own_record_texts(tmp_path):
    """``_texts`` is the run's in-memory copy of a host's records as JSON; a host file
    carrying one (edited by hand or another tool) was written out as the records: an
    invalid host file whose evidence said pass while its record failed, or a TypeError."""
    source = tmp_path / "slice-1"
    source.mkdir()
    fake = json.dumps(dict(GOOD, message="forged")) + "]}"
    for texts in ([fake], [1], "x"):
        (source / "host-a.json").write_text(json.dumps(host_file_of("a", results=[dict(GOOD, status="fail")],
                                                                    _texts=texts)))
        reports, merged = report.merge_sources([str(source)])
        paths, summary = report.write_reports(str(tmp_path / "fleet"), reports, extra={"merged": merged})
        host = load(paths["hosts"]["a"])
        jsonschema.validate(host, schema("host-report.schema.json"))
        assert "_texts" not in host and host["results"] == [dict(GOOD, status="fail")]
        assert summary["hosts"]["a"]["verdict"] == "fail"
        with open(paths["html"], encoding="utf-8") as handle:
            assert "forged" not in handle.read()


def test_a_directory_named_twice_is_merged_once(tmp_path):
    """/reports/1234, /reports/1234/ and /reports/latest (a link to it) are one directory:
    merged once, not its every host listed as dropped in favour of the same report."""
    write_run(tmp_path / "1234", "2026-11-29T10:00:00+00:00", [("a", "fail"), ("b", "pass")])
    write_run(tmp_path / "1235", "2026-11-29T11:00:00+00:00", [("b", "fail")])
    os.symlink("1234", str(tmp_path / "latest"))
    reports, merged = report.merge_sources([str(tmp_path / "1234"), str(tmp_path / "1234") + "/",
                                            str(tmp_path / "latest"), str(tmp_path / "1235")])
    assert [source["directory"] for source in merged["sources"]] == [str(tmp_path / "1234"), str(tmp_path / "1235")]
    assert merged["replaced"] == {"b": {"kept": str(tmp_path / "1235" / "host-b.json"),
                                        "dropped": [str(tmp_path / "1234" / "host-b.json")]}}
    assert sorted((r["host"], r["results"][0]["status"]) for r in reports) == [("a", "fail"), ("b", "fail")]


def test_a_refused_run_changes_nothing_in_the_report_directory(tmp_path):
    """/reports/fleet holds an earlier merge; the next merge (or run) is refused part way: a
    host-c.json there that the collection did not write, or a damaged host file in a source.
    host-a.json was replaced before the refusal while summary.json, junit.xml and report.html
    stayed the old ones: a directory whose files disagree.  A refused run leaves it as it was."""
    write_run(tmp_path / "slice-1", "2026-11-29T10:00:00+00:00", [("a", "fail"), ("c", "fail")])
    write_run(tmp_path / "slice-2", "2026-11-29T11:00:00+00:00", [("a", "pass"), ("c", "pass")])
    fleet = tmp_path / "fleet"
    reports, merged = report.merge_sources([str(tmp_path / "slice-1")])
    report.write_reports(str(fleet), reports, extra={"merged": merged})

    def contents():
        return dict((name, (fleet / name).read_bytes()) for name in os.listdir(str(fleet)))
    (fleet / "host-c.json").write_text('{"mine": 1}')
    before = contents()
    reports, merged = report.merge_sources([str(tmp_path / "slice-2")])
    with pytest.raises(report.ReportError) as error:
        report.write_reports(str(fleet), reports, extra={"merged": merged})
    assert str(error.value).startswith("%s is not a report of guestready.gce" % (fleet / "host-c.json"))
    assert contents() == before
    (fleet / "host-c.json").unlink()
    before = contents()
    (tmp_path / "slice-2" / "host-c.json").write_text(json.dumps(host_file_of("c", errors="x")))
    reports, merged = report.merge_sources([str(tmp_path / "slice-2")])
    with pytest.raises(report.ReportError) as error:
        report.write_reports(str(fleet), reports, extra={"merged": merged})
    assert str(error.value).startswith("%s is not the guestready.gce host report of c" % (
        tmp_path / "slice-2" / "host-c.json"))
    assert contents() == before


AREA = {"changed": False, "count": 1, "error": None}
SCHEMA_BREAKS = [
    (host_file_of("a", changed="yes"), "changed is 'yes', not true or false"),
    (host_file_of("a", changed=1), "changed is 1, not true or false"),
    (host_file_of("a", areas=["compliance_result"]), "areas is ['compliance_result'], not an object"),
    (host_file_of("a", areas={"compliance_result": 1}),
     "areas.compliance_result is 1, not an object with changed, count and error"),
    (host_file_of("a", areas={"compliance_result": {"changed": False}}),
     "areas.compliance_result is {'changed': False}, not an object with changed, count and error"),
    (host_file_of("a", areas={"compliance_result": dict(AREA, changed="no")}),
     "areas.compliance_result.changed is 'no', not true or false"),
    (host_file_of("a", areas={"compliance_result": dict(AREA, count=-1)}),
     "areas.compliance_result.count is -1, not a count"),
    (host_file_of("a", areas={"compliance_result": dict(AREA, count=True)}),
     "areas.compliance_result.count is True, not a count"),
    (host_file_of("a", areas={"compliance_result": dict(AREA, error=["x"])}),
     "areas.compliance_result.error is ['x'], not a text or null"),
    (host_file_of("a", results="HW-SERIAL pass"), "results is 'HW-SERIAL pass', not a list"),
    (host_file_of("a", results=[dict(GOOD, title=5)]), "the title of HW-SERIAL is 5, not a text"),
    (host_file_of("a", results=[dict(GOOD, message=None)]), "the message of HW-SERIAL is None, not a text"),
    (host_file_of("a", results=[dict(GOOD, remediation=["x"])]), "the remediation of HW-SERIAL is ['x'], not a text"),
    (host_file_of("a", results=[dict(GOOD, waiver=1)]), "the waiver of HW-SERIAL is 1, not a text or null"),
    (host_file_of("a", results=[dict(GOOD, evidence="none")]), "the evidence of HW-SERIAL is 'none', not an object"),
    (host_file_of("a", results=[dict(GOOD, area="serial")]),
     "the area of HW-SERIAL is 'serial', not one of hardware, kernel-required, kernel-security, sysctl, gce, image"),
    (host_file_of("a", results=[dict(GOOD, severity="optional")]),
     "the severity of HW-SERIAL is 'optional', not one of required, recommended"),
    (host_file_of("a", results=[dict(GOOD, status="ok")]), "a result of 'HW-SERIAL' with the unknown status 'ok'"),
    (host_file_of("a", results=[dict(GOOD, id="serial ports")]),
     "a result whose id is 'serial ports', not a requirement ID (HW-, KCONF-, SYSCTL-, GCE-, IMG- and upper-case "
     "letters, digits, _ or -)"),
    (host_file_of("a", results=[dict(GOOD, id="HW-SERIAL\n")]),
     "a result whose id is 'HW-SERIAL\\n', not a requirement ID (HW-, KCONF-, SYSCTL-, GCE-, IMG- and upper-case "
     "letters, digits, _ or -)"),
]


@pytest.mark.parametrize("content, problem", SCHEMA_BREAKS)
def test_merge_refuses_a_host_file_the_schema_does_not_allow(tmp_path, content, problem):
    """A host file edited by hand or written by another tool, with a field of the wrong type
    or value: the merge wrote a host file and a summary.json that docs/schemas rejects (a
    list of areas, changed "yes", a number as title...).  Now an error naming the file and
    the field, and nothing is written."""
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(content, schema("host-report.schema.json"))
    source = tmp_path / "slice-1"
    source.mkdir()
    (source / "host-a.json").write_text(json.dumps(content))
    with pytest.raises(report.ReportError) as error:
        reports, merged = report.merge_sources([str(source)])
        report.write_reports(str(tmp_path / "fleet"), reports, extra={"merged": merged})
    assert str(error.value) == "%s is not the guestready.gce host report of a: %s" % (source / "host-a.json", problem)
    assert os.listdir(str(tmp_path / "fleet")) == []


def test_the_merge_checks_follow_the_schema():
    """The merge's own checks (no jsonschema on the controller) say what the schema says."""
    result = schema("host-report.schema.json")["$defs"]["result"]["properties"]
    assert result["id"]["pattern"] == "^" + report._ID_PATTERN.pattern[:-2] + "$"
    assert tuple(result["area"]["enum"]) == catalogue.AREAS
    assert tuple(result["severity"]["enum"]) == catalogue.SEVERITIES
    assert sorted(schema("host-report.schema.json")["$defs"]["status"]["enum"]) == sorted(STATUSES)
    assert [name for name, dummy, dummy in report._RECORD_FIELDS] == [
        name for name in report.RECORD_KEYS if name not in ("id", "status", "expected", "actual")]


def test_merge_refuses_a_host_file_whose_severity_or_area_is_not_the_catalogue_s(tmp_path):
    """HW-SERIAL is required.  A slice's host file saying it is recommended (edited, or not
    written by the collection) made its failure a warning: the merged gate passed, summary.json
    and JUnit said warn, while the page's host panel (which reads the catalogue) listed it as
    failing the gate.  Now the merge refuses the file, naming it and the field."""
    source = tmp_path / "slice-1"
    write_run(source, "2026-11-29T10:00:00+00:00", [("a", "fail"), ("b", "pass")])
    host = load(str(source), "host-a.json")
    assert host["results"][0]["severity"] == catalogue.BY_ID["HW-SERIAL"]["severity"] == "required"
    for field, value in (("severity", "recommended"), ("area", "gce")):
        (source / "host-a.json").write_text(json.dumps(dict(host, results=[dict(host["results"][0], **{field: value})])))
        with pytest.raises(report.ReportError) as error:
            reports, merged = report.merge_sources([str(source)])
            report.write_reports(str(tmp_path / "fleet"), reports, extra={"merged": merged})
        assert str(error.value) == (
            "%s is not the guestready.gce host report of a: the %s of HW-SERIAL is %r, but the requirement "
            "catalogue says %r (the catalogue decides what gates; check the host again, or correct the file)" % (
                source / "host-a.json", field, value, catalogue.BY_ID["HW-SERIAL"][field]))
        assert not (tmp_path / "fleet").exists() or os.listdir(str(tmp_path / "fleet")) == []
    # an ID the catalogue does not know (a later version's) keeps its own severity
    (source / "host-a.json").write_text(json.dumps(dict(host, results=[dict(
        host["results"][0], id="HW-NEW-THING", severity="recommended")])))
    reports, merged = report.merge_sources([str(source)])
    paths, summary = report.write_reports(str(tmp_path / "fleet"), reports, extra={"merged": merged})
    assert summary["hosts"]["a"]["verdict"] == "warn"
    assert summary["requirements"]["HW-NEW-THING"]["severity"] == "recommended"


def test_a_merged_host_file_with_no_result_and_no_error_was_not_checked(tmp_path):
    """A host file (written before empty results were an error, or by hand) with results []
    and errors []: merged as a pass with zero checks.  Now it fails as unchecked."""
    source = tmp_path / "slice-1"
    source.mkdir()
    (source / "host-a.json").write_text(json.dumps(host_file_of(
        "a", results=[], areas={"compliance_result": {"changed": False, "count": 0, "error": None}})))
    (source / "host-b.json").write_text(json.dumps(host_file_of("b", results=[], areas={})))
    reports, merged = report.merge_sources([str(source)])
    paths, summary = report.write_reports(str(tmp_path / "fleet"), reports, extra={"merged": merged})
    assert summary["hosts"]["a"]["verdict"] == summary["hosts"]["b"]["verdict"] == "fail"
    assert summary["hosts"]["a"]["errors"] == [report.NO_CHECKS % "compliance_result"]
    assert summary["hosts"]["b"]["errors"] == [report.NO_CHECKS % "the host's tasks"]
    assert load(paths["hosts"]["a"])["errors"] == summary["hosts"]["a"]["errors"]
