"""Reports built from hostile host names and evidence: one file per host,
valid XML, a page whose script runs (checked in headless Chromium), and no
temporary file left when the disk is full or read-only."""

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import jsonschema
import pytest

from ansible_collections.guestready.gce.plugins.plugin_utils import report

from conftest import ROOT, rec, registered, schema

HOSTILE_NAMES = [
    "x/y", "x_y", "X_Y", "x_Y", "../../etc/passwd", ".", "..", "", "a" * 100, "a" * 101, "a" * 300,
    u"\u00fc" * 200, "\x1b[31mred\x1b[0m", "\x01\x02", "</script><script>document.title='owned'</script>",
    "<!--<script>", u"line\u2028sep\u2029para", "a|b", "tab\there", u"lone\ud800surrogate",
    "CON", "host name with spaces", "'\"&amp;", u"\u0410\u0411", "~tilde", "web-1~0123456789abcdef",
]
HOSTILE_TEXT = (u"</script><!--<script>alert(1)</script> ]]> &amp; \x1b[0m \x01 \x7f "
                u"\u2028\u2029 \ud800 \ufffe end")


def hostile_reports():
    reports = []
    for number, name in enumerate(HOSTILE_NAMES):
        evidence = {"file": HOSTILE_TEXT, "line": number, "key </script>": [HOSTILE_TEXT]}
        records = [rec("HW-NET-VIRTIO", "fail", evidence=evidence, message=HOSTILE_TEXT),
                   rec("HW-SERIAL", "pass" if number % 2 else "fail", evidence={"n": number}),
                   rec("KCONF-DEVKMEM", "waived", waiver=HOSTILE_TEXT)]
        reports.append(report.host_report(name, {"compliance_result": registered(*records)}))
    reports.append(report.host_report(u"down\x1b</script>", {"compliance_result": {
        "unreachable": True, "msg": HOSTILE_TEXT}}))
    return reports


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    directory = str(tmp_path_factory.mktemp("hostile") / "reports")
    paths, summary = report.write_reports(directory, hostile_reports())
    return directory, paths, summary


def test_every_host_name_gets_its_own_stable_file(written):
    directory, paths, summary = written
    names = HOSTILE_NAMES + [u"down\x1b</script>"]
    files = [f for f in os.listdir(directory) if f.startswith("host-")]
    assert len(files) == len(names) == len(set(f.lower() for f in files)), "unique, also case-insensitively"
    assert all(len(f.encode("utf-8")) <= 120 and "/" not in f and f.isascii() for f in files)
    assert set(summary["hosts"]) == set(names)
    for name in names:
        entry = summary["hosts"][name]
        assert entry["file"] == report.host_file(name), "stable: the same name on every run"
        with open(os.path.join(directory, entry["file"]), encoding="utf-8") as handle:
            assert json.load(handle)["host"] == name
        assert paths["hosts"][name] == os.path.join(directory, entry["file"])
    assert summary["hosts"]["x_y"]["file"] == "host-x_y.json"
    assert summary["hosts"]["x/y"]["file"].startswith("host-x_y~")
    assert summary["hosts"]["a" * 100]["file"] == "host-%s.json" % ("a" * 100)
    with open(paths["summary"], encoding="utf-8") as handle:
        jsonschema.validate(json.load(handle), schema("summary.schema.json"))


def test_no_temporary_file_and_valid_json(written):
    directory = written[0]
    assert [f for f in os.listdir(directory) if f.startswith(".")] == []
    for name in os.listdir(directory):
        if name.endswith(".json"):
            with open(os.path.join(directory, name), "rb") as handle:
                data = handle.read()
            assert data.isascii(), "lone surrogates and U+2028 are escapes in the JSON"
            value = json.loads(data.decode("ascii"))
            if name.startswith("host-"):
                jsonschema.validate(value, schema("host-report.schema.json"))


def test_junit_stays_valid_xml_and_spells_forbidden_characters(written):
    root = ET.parse(written[1]["junit"]).getroot()
    suites = root.findall("testsuite")
    assert len(suites) == len(HOSTILE_NAMES) + 1
    names = [s.get("name") for s in suites]
    assert "\\x1b[31mred\\x1b[0m" in names and "x/y" in names and "<!--<script>" in names
    assert u"lone\\ud800surrogate" in names and "tab\there" in names
    case = suites[0].find("testcase[@name='HW-NET-VIRTIO']")
    failure = case.find("failure")
    assert "\\x1b[0m \\x01 \x7f" in failure.get("message") and "\\ud800 \\ufffe end" in failure.text
    assert "</script><!--<script>alert(1)</script> ]]> &amp;" in failure.text
    assert "\u2028\u2029" in failure.text, "characters XML allows stay as they are"
    assert suites[-1].find("testcase/error").get("message").startswith("compliance_result: unreachable: </script>")


@pytest.mark.parametrize("text, expected", [
    ("\x1b", "\\x1b"), ("\x00", "\\x00"), ("\x0b\x0c", "\\x0b\\x0c"), ("\ud800", "\\ud800"),
    ("\udfff", "\\udfff"), ("\ufffe\uffff", "\\ufffe\\uffff"), ("\t\n\r", "\t\n&#13;"),
    ("<&>", "&lt;&amp;&gt;"), (u"\U0001f600", u"\U0001f600"), (u"\u2028", u"\u2028"),
])
def test_xml_text(text, expected):
    assert report.xml_text(text) == expected
    ET.fromstring(("<a b=\"%s\">%s</a>" % (report.xml_attr(text), report.xml_text(text))).encode("utf-8"))


def test_embedded_json_cannot_end_the_script():
    text = report.script_json(report._encode({"a": HOSTILE_TEXT, "b": "<!--", "c": u"\u2028\u2029"}))
    assert "<" not in text and ">" not in text and "&" not in text
    assert u"\u2028" not in text and u"\u2029" not in text
    assert json.loads(text)["a"] == HOSTILE_TEXT.replace(u"\ud800", "\\ud800"), "a lone surrogate is spelled out"


def test_the_hostile_page_works_in_chromium(written, chromium):
    page = written[1]["html"]
    dom = chromium(page)
    # no UTF-8 page holds a lone surrogate: the page spells it out
    assert dom.hosts == [name.replace(u"\ud800", "\\ud800") for name in HOSTILE_NAMES + [u"down\x1b</script>"]]
    assert "document.title" not in dom.text.split("<title>")[1].split("</title>")[0]
    assert dom.shown == "%d of %d host(s), 3 of 3 requirement(s)" % (len(HOSTILE_NAMES) + 1, len(HOSTILE_NAMES) + 1)
    assert dom.cells[("<!--<script>", "HW-NET-VIRTIO")] == "fail"
    assert dom.cells[(u"line\u2028sep\u2029para", "HW-SERIAL")] in ("pass", "fail")

    # the filters, driven the way a person drives them: set the control, fire "input"
    script = ("var s=document.getElementById('filter-status');s.value='ok';s.dispatchEvent(new Event('input'));"
              "var h=document.getElementById('filter-host');h.value='x';h.dispatchEvent(new Event('input'));")
    dom = chromium(page, script=script)
    shown = sorted(set(h for (h, rid) in dom.cells))
    odd = [n for n, name in enumerate(HOSTILE_NAMES) if n % 2 and "x" in name.lower()]
    assert shown == sorted(HOSTILE_NAMES[n] for n in odd), "hosts with a passing cell and an x in the name"
    assert dom.hidden_rows == ["HW-NET-VIRTIO", "KCONF-DEVKMEM"], "only HW-SERIAL passes anywhere"
    assert set(dom.cells.values()) == {"pass"}

    # a hostile host's cell opens its evidence, shown as text
    dom = chromium(page, query="?open=%s|HW-NET-VIRTIO" % "%3C!--%3Cscript%3E")
    assert dom.details_open is True
    assert dom.details_title == "&lt;!--&lt;script&gt; \u2014 HW-NET-VIRTIO: fail"
    assert "&lt;/script&gt;&lt;!--&lt;script&gt;alert(1)&lt;/script&gt;" in dom.details_body


PASSING = ("HW-NET-VIRTIO", "SYSCTL-TCP_SYNCOOKIES", "SYSCTL-RP_FILTER-ALL", "SYSCTL-LOG_MARTIANS-ALL",
           "KCONF-VIRTIO_NET")


def fleet_of(count, tmp_path):
    reports = []
    for n in range(count):
        status = "fail" if n % 7 == 0 else "pass"
        reports.append(report.host_report("node-%04d" % n, {"compliance_result": registered(
            rec("SYSCTL-IP_FORWARD", status, evidence={"n": n % 3}), rec("HW-SERIAL", "pass"),
            rec("KCONF-DEVKMEM", "unknown" if n == 150 else "pass"), *[rec(rid, "pass") for rid in PASSING])}))
    return report.write_reports(str(tmp_path / "fleet"), reports)[0]["html"]


def test_a_large_fleet_renders_the_columns_in_view(tmp_path, chromium):
    page = fleet_of(400, tmp_path)  # 3200 cells: past 3000, only the columns in view
    dom = chromium(page)
    assert dom.shown == "400 of 400 host(s), 8 of 8 requirement(s)"
    assert 0 < len(dom.hosts) < 60 and dom.hosts[0] == "node-0000", "a window of columns, not 400"
    assert len(dom.cells) == 8 * len(dom.hosts)

    dom = chromium(page, query="?status=warn")
    assert dom.hosts == ["node-0150"] and set(dom.rows) - set(dom.hidden_rows) == {"KCONF-DEVKMEM"}
    dom = chromium(page, query="?status=fail&host=node-03")
    failing = ["node-%04d" % n for n in range(300, 400) if n % 7 == 0]
    assert len(dom.hosts) >= 10 and dom.hosts == failing[:len(dom.hosts)], "the first of them, in view"
    assert dom.shown == "15 of 400 host(s), 1 of 8 requirement(s)"

    # scrolling renders the columns that come into view
    script = ("var g=document.getElementById('grid');g.scrollLeft=g.scrollWidth-g.clientWidth;"
              "g.dispatchEvent(new Event('scroll'));")
    scrolled = chromium(page, script=script)
    assert scrolled.hosts[-1] == "node-0399" and "node-0000" not in scrolled.hosts
    assert len(scrolled.cells) == 8 * len(scrolled.hosts) < 8 * 60


def test_a_full_or_read_only_disk_leaves_no_temporary_file(tmp_path):
    """In a private mount namespace (nothing stays mounted): a 64 KiB tmpfs
    that fills up, and a read-only one."""
    if not shutil.which("unshare") or subprocess.run(["unshare", "--mount", "true"], check=False).returncode:
        pytest.skip("no private mount namespace here (unshare --mount)")
    program = """
import json, os, sys
sys.path.insert(0, %r)
sys.path.insert(0, %r)
from ansible_collections.guestready.gce.plugins.plugin_utils import report
from test_report_hostile import hostile_reports
directory = sys.argv[1]
try:
    report.write_reports(os.path.join(directory, sys.argv[2]) if sys.argv[2] else directory, hostile_reports())
    message = None
except report.ReportError as exc:
    message = str(exc)
left = [os.path.join(d, f) for d, dirs, files in os.walk(directory) for f in files if f.startswith(".")]
print(json.dumps({"error": message, "left": left}))
""" % (os.path.join(ROOT, ".ansible", "collections"), os.path.dirname(os.path.abspath(__file__)))
    outcomes = {}
    for kind, options, target in (("full", "size=64k", "reports"), ("read-only", "ro,size=64k", "reports"),
                                  ("read-only-here", "ro,size=64k", "")):
        mountpoint = tmp_path / kind
        mountpoint.mkdir()
        proc = subprocess.run(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c",
             'mount -t tmpfs -o "$1" tmpfs "$2" && exec "$3" -c "$4" "$2" "$5"',
             "sh", options, str(mountpoint), sys.executable, program, target],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr
        outcomes[kind] = json.loads(proc.stdout.strip().splitlines()[-1])
        assert not os.listdir(str(mountpoint)), "the tmpfs stayed in its namespace"
    assert outcomes["read-only-here"] == {"error": "the report directory %s is not writable" % (
        tmp_path / "read-only-here"), "left": []}
    full, read_only = outcomes["full"], outcomes["read-only"]
    assert full["left"] == [] and read_only["left"] == []
    assert full["error"].startswith("cannot write the reports to %s: No space left on device" % (
        tmp_path / "full" / "reports"))
    assert read_only["error"] == "cannot create the report directory %s: Read-only file system" % (
        tmp_path / "read-only" / "reports")


def test_any_failure_while_writing_removes_the_temporaries(tmp_path, monkeypatch):
    directory = tmp_path / "reports"
    calls = []
    original = report.host_json

    def failing(report_, texts):
        calls.append(report_["host"])
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return original(report_, texts)
    monkeypatch.setattr(report, "host_json", failing)
    with pytest.raises(report.ReportError) as error:
        report.write_reports(str(directory), hostile_reports())
    assert str(error.value) == "cannot write the reports to %s: No space left on device" % directory
    # the two host files written before the failure are not put in place: a refused run changes nothing
    assert os.listdir(str(directory)) == []
    monkeypatch.setattr(report, "host_json", original)

    def half_a_page(self, summary):  # the page is written in parts: fail after the first
        yield "<!DOCTYPE html>"
        yield str(1 / 0)
    monkeypatch.setattr(report.Fleet, "html_parts", half_a_page)
    with pytest.raises(ZeroDivisionError):
        report.write_reports(str(directory), hostile_reports())
    assert not [f for f in os.listdir(str(directory)) if f.startswith(".")]


def test_a_report_directory_that_is_not_one(tmp_path):
    plain = tmp_path / "file"
    plain.write_text("x")
    with pytest.raises(report.ReportError) as error:
        report.write_reports(str(plain), [])
    assert str(error.value) == "the report directory %s is not a directory" % plain
    with pytest.raises(report.ReportError) as error:
        report.write_reports(str(plain / "below"), [])
    assert str(error.value) == "cannot create the report directory %s: Not a directory" % (plain / "below")
    with pytest.raises(report.ReportError) as error:
        report.write_reports(str(tmp_path) + "/a\x00b", [])
    assert str(error.value) == "cannot create the report directory %r: embedded null byte" % (str(tmp_path) + "/a\x00b")
    assert report.readable("run/../\x00\u00e9" + "x" * 60) == "run_.._" + "__" + "x" * 39
    first = report.new_directory(str(tmp_path / "reports"), "20261129T000000Z-verify")
    second = report.new_directory(str(tmp_path / "reports"), "20261129T000000Z-verify")
    assert (first, second) == (str(tmp_path / "reports" / "20261129T000000Z-verify"),
                               str(tmp_path / "reports" / "20261129T000000Z-verify-2"))


def test_large_page_labels_keep_ip_addresses_and_stay_distinct(tmp_path, chromium):
    """Past 3000 cells a column reads its host's first DNS label: hosts named by
    IP address (an inventory of addresses) all read "10", and web-1.a.example
    and web-1.b.example both read "web-1".  An address is never cut, nor a
    label two hosts share."""
    from ansible_collections.guestready.gce.plugins.module_utils.catalogue import CATALOGUE
    names = ["10.0.0.%d" % n for n in range(1, 57)] + ["fe80::1", "web-1.a.example", "web-1.b.example", "db-1.example"]
    hostvars = dict((name, {"compliance_result": registered(*[rec(e["id"], "pass") for e in CATALOGUE])})
                    for name in names)
    assert len(names) * len(CATALOGUE) > 3000, "the page renders only the columns in view"
    paths, dummy = report.write_reports(str(tmp_path / "run"), report.host_reports(names, hostvars))
    script = ("var g=document.getElementById('grid');g.scrollLeft=g.scrollWidth-g.clientWidth;"
              "g.dispatchEvent(new Event('scroll'));")
    labels = {}
    for dom in (chromium(paths["html"]), chromium(paths["html"], script=script)):
        shown = re.findall(r'<span class="name">([^<]*)</span>', dom.text)
        labels.update(zip(dom.hosts, shown))
    assert labels["10.0.0.1"] == "10.0.0.1" and labels["10.0.0.56"] == "10.0.0.56"
    assert labels["fe80::1"] == "fe80::1" and labels["db-1.example"] == "db-1"
    assert labels["web-1.a.example"] == "web-1.a.example" and labels["web-1.b.example"] == "web-1.b.example"


# What a terminal or Ansible's YAML output acts on: C0 and C1 controls (the Linux console
# reads U+009B as CSI even in UTF-8 mode, torvalds/linux drivers/tty/vt/vt.c
# "c != 128+27"), line breaks YAML starts a block on (\n, U+0085, U+2028, U+2029:
# ansible/plugins/callback/__init__.py _YAML_BREAK_CHARS) and bidirectional overrides.
_ACTIVE = re.compile(u"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def test_the_table_and_gate_message_stay_one_line_each():
    """An error message carrying a file name from the target (newline, CR, CSI) forged
    table lines and reached the terminal as control sequences."""
    forged = u"cannot read /etc/sysctl.d/x\nweb-9  PASS  40  0\r\x9b2J\x85\u2028\u202eLIAF\ttab"
    reports = [report.host_report(u"web-1\n\u202e", {"compliance_result": {"failed": True, "msg": forged}}),
               report.host_report("web-2", {"compliance_result": registered(rec("HW-NET-VIRTIO", "fail"))})]
    summary = report.fleet_summary(reports)
    lines = report.text_table(summary) + [report.gate_message(summary)]
    assert [line for line in lines if _ACTIVE.search(line)] == []
    row = [line for line in lines if line.startswith("web-1")][0]
    assert row.startswith("web-1\\x0a\\u202e  FAIL") and len(lines) == 5
    assert "/etc/sysctl.d/x\\x0aweb-9  PASS  40  0\\x0d\\x9b2J\\x85\\u2028\\u202eLIAF\\x09tab" in row
    assert lines[-1] == "2 host(s) fail verification (web-1\\x0a\\u202e, web-2)"


def test_results_json_with_raw_characters_is_encoded_again(tmp_path):
    """results_json whose text holds a raw lone surrogate (not what the module writes, which
    escapes all but ASCII: a module answer from a tampered host) ended the report with a
    UnicodeEncodeError traceback while writing the host file."""
    from ansible_collections.guestready.gce.plugins.module_utils.areas import results_json
    text = results_json([rec("HW-SERIAL", "fail", evidence={"file": "x"})], {})
    raw = text.replace('"x"', u'"\udcff\u2028</script>"')
    hostvars = {"h1": {"compliance_result": {"changed": False, "results_json": raw}}}
    paths, summary = report.write_reports(str(tmp_path / "run"), report.host_reports(["h1"], hostvars))
    with open(paths["hosts"]["h1"], "rb") as handle:
        data = handle.read()
    assert data.isascii()
    written = json.loads(data.decode("ascii"))
    assert written["results"][0]["evidence"] == {"file": u"\udcff\u2028</script>"}
    assert summary["hosts"]["h1"]["verdict"] == "fail" and summary["hosts"]["h1"]["errors"] == []
    with open(paths["html"], "rb") as handle:
        page = handle.read().decode("utf-8")
    assert "\\\\udcff" in page and u"\u2028" not in page


def test_the_page_runs_only_its_own_script(written, chromium):
    """report.html had no Content-Security-Policy: markup that got into the page (an escaping
    slip in a later change, a page edited by hand) could run script or load from the network.
    Now its policy allows its one script (by hash) and inline styles, and nothing else."""
    import base64
    import hashlib
    with open(written[1]["html"], encoding="utf-8") as handle:
        page = handle.read()
    policies = re.findall(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', page)
    assert len(policies) == 1 and page.index("Content-Security-Policy") < page.index("<script")
    directives = dict(d.strip().split(" ", 1) for d in policies[0].split(";"))
    assert directives["default-src"] == "'none'" and directives["style-src"] == "'unsafe-inline'"
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode("utf-8")).digest()).decode("ascii")
    assert directives["script-src"] == "'sha256-%s'" % digest
    injected = page.replace('<div id="problems"></div>', '<div id="problems"><img src="no-such.png" '
                            'onerror="document.title=\'owned\'"><script>document.title=\'owned\'</script></div>')
    assert injected != page
    copy = os.path.join(os.path.dirname(written[1]["html"]), "injected-report.html")
    with open(copy, "w", encoding="utf-8") as handle:
        handle.write(injected)
    dom = chromium(copy)
    assert len(dom.hosts) == len(HOSTILE_NAMES) + 1, "the page's own script ran"
    assert "owned" not in dom.text.split("<title>")[1].split("</title>")[0], "the injected ones did not"
