"""The fleet run's reports, read the way people and CI read them, and a
--check run of verify.yml that must change nothing on the guests.

Expected failures come from the lab (`lab gaps`): the Compute-Engine-profile
guest fails exactly the gaps QEMU cannot imitate (and the guest environment
its image lacks); the non-compliant guest fails its missing devices, and its
HW-SERIAL is waived by the inventory.
"""

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import jsonschema
import testinfra

ROOT = os.environ["MOLECULE_PROJECT_DIRECTORY"]
EPHEMERAL = os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]
INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
REPORTS = os.path.join(EPHEMERAL, "reports", "harden")
ARTIFACTS = os.path.join(ROOT, "build", "artifacts")
sys.path.insert(0, os.path.join(ROOT, ".ansible", "collections"))
from ansible_collections.guestready.gce.plugins.module_utils.areas import AREAS  # noqa: E402
from ansible_collections.guestready.gce.plugins.module_utils.catalogue import BY_ID, CATALOGUE  # noqa: E402
from ansible_collections.guestready.gce.plugins.module_utils.results import STATUSES  # noqa: E402

GCE, OLD = "mol-fleet-gce", "mol-fleet-old"
# The lab's base images carry no guest environment and no time daemon: harden installs them
# from the package repository the guests reach (the lab's, at 169.254.169.253)
INSTALLED_BY_HARDEN = {"GCE-GUEST-AGENT", "GCE-GUEST-OSLOGIN", "GCE-TIME-METADATA-NTP"}
# the requirements a fleet run judges: every area of the compliance module (IMG-* are the
# image playbook's)
FLEET = [e for e in CATALOGUE if e["area"] in set(c for area in AREAS for c in area.catalogue_areas)]
WAIVER = "legacy appliance: one console port is all it has (ticket OPS-42)"
CHROMIUM = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def load(*parts):
    with open(os.path.join(*parts)) as handle:
        return json.load(handle)


def schema(name):
    return load(ROOT, "docs", "schemas", name)


def statuses(host):
    return dict((r["id"], r["status"]) for r in load(REPORTS, "host-%s.json" % host)["results"])


def lab(*args):
    return subprocess.run([os.path.join(ROOT, "lab", "lab")] + list(args), stdout=subprocess.PIPE,
                          universal_newlines=True, check=True,
                          env=dict(os.environ, GUESTREADY_LAB_STATE=os.path.join(EPHEMERAL, "lab"))).stdout


def guest(host):
    """The lab's record of the guest: its profile and the network it really got (auto: tap or user)."""
    return [g for g in json.loads(lab("status", "--json")) if g["name"] == host][0]


def lab_gap_ids(host):
    """The HW-* gaps of the guest's profile on its network."""
    found = guest(host)
    out = lab("gaps", "--profile", found["profile"], "--net", found["net"], "--json")
    return set(g["id"] for g in json.loads(out)["gaps"] if g["id"].startswith("HW-"))


def failing(host):
    return set(rid for rid, status in statuses(host).items() if STATUSES[status] == "fail")


def test_reports_follow_their_schemas():
    summary = load(REPORTS, "summary.json")
    jsonschema.validate(summary, schema("summary.schema.json"))
    assert sorted(summary["hosts"]) == [GCE, OLD]
    assert summary["run"] == "harden"
    for host in (GCE, OLD):
        assert summary["hosts"][host]["file"] == "host-%s.json" % host
        report = load(REPORTS, "host-%s.json" % host)
        jsonschema.validate(report, schema("host-report.schema.json"))
        assert report["generated"] == summary["generated"]
        assert [r["id"] for r in report["results"]] == [e["id"] for e in FLEET]
        assert report["errors"] == []


def test_compute_engine_guest_fails_only_the_lab_gaps():
    assert failing(GCE) == lab_gap_ids(GCE)
    found = statuses(GCE)
    assert dict((rid, found[rid]) for rid in INSTALLED_BY_HARDEN) == dict.fromkeys(INSTALLED_BY_HARDEN, "pass")
    assert [rid for rid, s in found.items() if rid.startswith("SYSCTL-") and s != "pass"] == []
    assert found["HW-NET-GVNIC"] == "not-applicable" and found["KCONF-X86_PAE"] == "not-applicable"
    assert found["KCONF-VIRTIO_NET"] == "module-in-initramfs"
    if guest(GCE)["net"] == "tap":  # virtio-net with Compute Engine's offloads: the live pass path runs
        assert STATUSES[found["HW-NET-VIRTIO"]] == "ok", found["HW-NET-VIRTIO"]  # user networking fails it


def test_noncompliant_guest_fails_its_devices_and_shows_the_waiver():
    assert failing(OLD) == {"HW-ISA-PIIX4", "HW-NET-VIRTIO", "HW-SCSI-VIRTIO"}
    report = dict((r["id"], r) for r in load(REPORTS, "host-%s.json" % OLD)["results"])
    assert report["HW-SERIAL"]["status"] == "waived"
    assert report["HW-SERIAL"]["waiver"] == WAIVER
    assert "e1000" in report["HW-NET-VIRTIO"]["message"]
    assert [rid for rid, r in report.items() if rid.startswith("SYSCTL-") and r["status"] != "pass"] == []
    summary = load(REPORTS, "summary.json")
    assert summary["hosts"][OLD]["verdict"] == "fail" and summary["gate_failed"] is True


def test_junit_has_a_case_per_host_and_requirement():
    root = ET.parse(os.path.join(REPORTS, "junit.xml")).getroot()
    assert sorted(suite.get("name") for suite in root.findall("testsuite")) == [GCE, OLD]
    for suite in root.findall("testsuite"):
        host = suite.get("name")
        cases = dict((case.get("name"), case) for case in suite.findall("testcase"))
        assert sorted(cases) == sorted(e["id"] for e in FLEET)
        failed = set(name for name, case in cases.items() if case.find("failure") is not None)
        required_failures = set(rid for rid in failing(host) if BY_ID[rid]["severity"] == "required")
        assert failed == required_failures
        assert int(suite.get("failures")) == len(failed)
    old = root.find("testsuite[@name='%s']" % OLD)
    serial = old.find("testcase[@name='HW-SERIAL']/skipped")
    # the skip carries the waived record's message: the reason, then what was found
    report = dict((r["id"], r) for r in load(REPORTS, "host-%s.json" % OLD)["results"])
    assert serial.get("message") == report["HW-SERIAL"]["message"]
    assert serial.get("message").startswith("waived: %s (found: " % WAIVER)


class Cells(HTMLParser):
    """Hosts in the header and {(host, ID): status} of the rendered table."""

    def __init__(self):
        HTMLParser.__init__(self)
        self.hosts, self.cells, self.hidden_rows, self.details_open = [], {}, [], None
        self.row = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag == "th" and "host" in classes:
            self.hosts.append(attrs["data-host"])
        if tag == "tr" and "data-id" in attrs:
            self.row = attrs["data-id"]
            if "hidden" in classes:
                self.hidden_rows.append(self.row)
        if tag == "td" and "data-key" in attrs:
            self.cells[tuple(attrs["data-key"].split("|"))] = attrs["data-status"]
        if tag == "aside" and attrs.get("id") == "details":
            self.details_open = "hidden" not in attrs


def render(url, tmp_path, screenshot=None):
    profile = str(tmp_path / "chromium-profile")
    if screenshot:
        subprocess.run(CHROMIUM + ["--user-data-dir=" + profile, "--window-size=1400,2200",
                                   "--screenshot=" + screenshot, url],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
    dom = subprocess.run(CHROMIUM + ["--user-data-dir=" + profile, "--dump-dom", url], check=True,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, universal_newlines=True,
                         timeout=120).stdout
    parser = Cells()
    parser.feed(dom)
    return parser, dom


def test_html_report_in_headless_chromium(tmp_path):
    page = "file://" + os.path.join(REPORTS, "report.html")
    os.makedirs(ARTIFACTS, exist_ok=True)
    shot = os.path.join(ARTIFACTS, "fleet-report.png")
    dom, dummy = render(page + "?open=%s|HW-SERIAL" % OLD, tmp_path, screenshot=shot)
    assert os.path.getsize(shot) > 10000
    assert dom.hosts == [GCE, OLD]
    for host in (GCE, OLD):
        expected = statuses(host)
        assert dict((rid, s) for (h, rid), s in dom.cells.items() if h == host) == expected
    assert dom.details_open is True  # ?open= shows the cell's evidence

    filtered, text = render(page + "?status=fail", tmp_path)
    shown = set(e["id"] for e in FLEET) - set(filtered.hidden_rows)
    assert shown == failing(GCE) | failing(OLD)
    assert WAIVER in text  # the evidence (with the waiver) is in the page itself


def test_the_fleet_ran_as_the_sudo_user_with_become():
    """harden logged in as `lab` and became root with sudo on every guest (sudo logs each
    module run it started)."""
    hosts = testinfra.get_hosts(["ansible://all"], ansible_inventory=INVENTORY)
    assert sorted(h.backend.get_hostname() for h in hosts) == [GCE, OLD]
    for host in hosts:
        variables = host.ansible.get_variables()
        assert variables["ansible_user"] == "lab" and variables["ansible_become"] is True, variables
        log = host.check_output("journalctl --no-pager -q -o cat _COMM=sudo")
        assert re.search(r"^ *lab : .*USER=root ; COMMAND=/bin/sh -c '?echo BECOME-SUCCESS-\w+ ; "
                         r"/usr/bin/python3 \S+/AnsiballZ_compliance\.py", log, re.M), log[-2000:]


def test_verify_under_check_changes_nothing_on_the_guests(tmp_path):
    hosts = testinfra.get_hosts(["ansible://all"], ansible_inventory=INVENTORY)
    command = "find /etc /usr/local -xdev -type f -print0 | sort -z | xargs -0 sha256sum"
    before = dict((h.backend.get_hostname(), h.check_output(command)) for h in hosts)
    report_dir = str(tmp_path / "verify")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".ansible", "collections"))
    proc = subprocess.run(["ansible-playbook", "-i", INVENTORY, "--check", "guestready.gce.verify",
                           "-e", "guestready_gce_report_dir=%s" % report_dir],
                          env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:]
    recap = proc.stdout.split("PLAY RECAP")[-1]
    assert re.findall(r"changed=(\d+)", recap) == ["0", "0", "0"], recap
    after = dict((h.backend.get_hostname(), h.check_output(command)) for h in hosts)
    assert after == before
    for host in (GCE, OLD):
        verified = dict((r["id"], r["status"]) for r in load(report_dir, "host-%s.json" % host)["results"])
        assert verified == statuses(host)
