"""Integrity of the requirement catalogue, checked against the spec it restates."""

import os
import re
import subprocess
import sys

import pytest

from ansible_collections.guestready.gce.plugins.module_utils import catalogue as cat

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))))
SPEC = os.path.join(ROOT, "docs", "source", "requirements-spec.md")
COMMON_FIELDS = ("id", "area", "severity", "title", "rationale", "expected", "compare",
                 "arches", "kernel")
# The areas restating "Requirements to build custom images" (the spec's tables);
# the others (IMG-*: the import of a disk) come from other documents.
SPEC_AREAS = ("hardware", "kernel-required", "kernel-security", "sysctl")


def spec_rows():
    """(ID, second column, third column) of every table row of the spec."""
    rows = []
    with open(SPEC) as handle:
        for line in handle:
            match = re.match(r"^\| `([A-Z0-9_-]+)` \| (.*?) \| (.*?) \|", line)
            if match:
                rows.append(match.groups())
    return rows


def test_every_spec_id_exists_exactly_once():
    spec_ids = [row[0] for row in spec_rows()]
    all_ids = [entry["id"] for entry in cat.CATALOGUE]
    assert len(all_ids) == len(set(all_ids)), "duplicate IDs in the catalogue"
    ids = [entry["id"] for entry in cat.requirements(SPEC_AREAS)]
    assert len(spec_ids) == 46
    assert sorted(ids) == sorted(spec_ids)
    assert ids == spec_ids, "the catalogue keeps the document's order"


@pytest.mark.parametrize("area,count", [("hardware", 6), ("kernel-required", 6),
                                        ("kernel-security", 12), ("sysctl", 22), ("gce", 20)])
def test_area_counts(area, count):
    assert len(cat.requirements(area)) == count


@pytest.mark.parametrize("entry", cat.CATALOGUE, ids=lambda e: e["id"])
def test_entry_is_complete_and_valid(entry):
    for field in COMMON_FIELDS:
        assert field in entry, field
    assert entry["area"] in cat.AREAS
    assert entry["severity"] in cat.SEVERITIES
    assert entry["compare"] in cat.COMPARISONS
    assert entry["title"] and entry["rationale"]
    assert "\n" not in entry["rationale"], "rationale is one line"
    assert entry["arches"] is None or set(entry["arches"]) <= set(cat.ARCHES)
    if entry["area"] in SPEC_AREAS:
        expected_severity = "required" if entry["area"] in ("hardware", "kernel-required") else "recommended"
        assert entry["severity"] == expected_severity
    if entry["compare"] == "at_least":
        int(entry["expected"])
    if entry["compare"] == "not_set":
        assert entry["expected"] == "not set"


@pytest.mark.parametrize("entry", cat.requirements(("kernel-required", "kernel-security")),
                         ids=lambda e: e["id"])
def test_kernel_entries(entry):
    assert entry["id"] == "KCONF-" + entry["symbols"][0]["name"]
    for symbol in entry["symbols"]:
        assert re.match(r"^[A-Z0-9_]+$", symbol["name"])
        if symbol["since"] and symbol["until"]:
            assert symbol["since"] < symbol["until"]
        if symbol["compare"]:
            assert symbol["compare"] in cat.COMPARISONS
    assert set(entry["expected_by_arch"]) <= set(cat.ARCHES)
    if entry["tristate"]:
        assert entry["expected"] == "y"


@pytest.mark.parametrize("entry", cat.requirements("sysctl"), ids=lambda e: e["id"])
def test_sysctl_entries(entry):
    assert isinstance(entry["expected"], int)
    is_all = ".conf.all." in entry["key"]
    assert (entry["combine"] in cat.COMBINE_RULES) if is_all else entry["combine"] is None
    if entry["levels"]:
        assert entry["compare"] == "at_least" and cat.accepts_level(entry, entry["expected"])
    assert entry["bounded"] in (True, False)
    for alternative in entry["alternatives"]:
        assert alternative != entry["expected"]


@pytest.mark.parametrize("entry", cat.requirements("hardware"), ids=lambda e: e["id"])
def test_hardware_entries(entry):
    expected = entry["expected"]
    assert set(expected) <= {"pci", "driver", "bound_as", "virtio", "offloads", "disks", "serial"}
    assert "pci" in expected or "serial" in expected
    for field, value in expected.get("pci", {}).items():
        assert re.match(r"^0x[0-9a-f]{2,6}$", value), (field, value)
    if "virtio" in expected:
        assert expected["driver"] == "virtio-pci"
    if "bound_as" in expected:
        assert expected["driver"] in expected["bound_as"]
    for name, port in expected.get("serial", {}).get("ports", {}).items():
        assert re.match(r"^ttyS[0-3]$", name) and 0 < port["irq"] < 16


def test_values_match_the_spec_tables():
    """Keys, options and values say what the document says."""
    rows = dict((rid, (second, third)) for rid, second, third in spec_rows())
    for entry in cat.requirements("sysctl"):
        key, value = rows[entry["id"]]
        assert key == "`%s`" % entry["key"]
        assert int(value) == entry["expected"]
    for entry in cat.requirements(("kernel-required", "kernel-security")):
        option = rows[entry["id"]][0].strip("`")
        name, value = option.split("=")
        assert name == "CONFIG_" + entry["symbols"][0]["name"]
        assert value == {"y": "y", "not set": "n"}.get(entry["expected"], entry["expected"])


def test_combination_rules_follow_inetdevice_h():
    combine = dict((e["key"].split(".")[-1], e["combine"])
                   for e in cat.requirements("sysctl") if e["combine"])
    assert combine == {"accept_source_route": "and", "accept_redirects": "forwarding",
                       "secure_redirects": "or", "send_redirects": "or", "rp_filter": "max",
                       "log_martians": "or"}


@pytest.mark.parametrize("text,version", [
    ("6.1.0-28-cloud-amd64", (6, 1, 0)), ("4.9", (4, 9, 0)), ("5.10.0", (5, 10, 0)),
    ("3.16.0-4-686-pae", (3, 16, 0)), ("garbage", None), ("", None), (None, None)])
def test_parse_version(text, version):
    assert cat.parse_version(text) == version


def test_in_range_and_arch():
    assert cat.in_range((4, 11, 0), since=(4, 11))
    assert not cat.in_range((4, 10, 9), since=(4, 11))
    assert not cat.in_range((4, 18, 0), until=(4, 18))
    assert cat.in_range(None, since=(9, 9))
    assert cat.normalize_arch("aarch64") == "arm64"
    assert cat.normalize_arch("i686") == "x86_32"
    assert cat.normalize_arch("amd64") == "x86_64"


def test_docs_are_generated_from_the_catalogue():
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "gen_requirements_doc.py"),
                           "--check"], check=False, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True)
    assert proc.returncode == 0, proc.stdout


@pytest.mark.parametrize("entry", cat.requirements("image"), ids=lambda e: e["id"])
def test_image_entries_cite_their_source(entry):
    assert entry["id"].startswith("IMG-")
    assert entry["source"], "every IMG-* requirement names the document it comes from"
    assert entry["compare"] == "exact"


def test_image_section():
    ids = [entry["id"] for entry in cat.requirements("image")]
    assert ids[:4] == ["IMG-ARCHIVE_GZIP", "IMG-ARCHIVE_TAR_FORMAT", "IMG-ARCHIVE_MEMBER", "IMG-ARCHIVE_SPARSE"]
    assert cat.IMPORT_ARCHIVE_MEMBER == "disk.raw" and cat.GIB == 1 << 30
    linked = cat.BY_ID["IMG-VIRTIO_DRIVERS"]["expected"]["linked"]
    assert all(rid in cat.BY_ID for rid in linked)
    assert set(cat.GUEST_OS_FEATURES) == {"UEFI_COMPATIBLE", "VIRTIO_SCSI_MULTIQUEUE", "GVNIC"}


@pytest.mark.parametrize("entry", cat.requirements("gce"), ids=lambda e: e["id"])
def test_gce_entries_are_cited_and_have_a_check(entry):
    from ansible_collections.guestready.gce.plugins.module_utils import gce_settings
    assert re.match(r"^GCE-[A-Z0-9-]+$", entry["id"])
    assert entry["source"] and all(isinstance(s, str) and len(s) > 20 for s in entry["source"])
    assert all(("docs" in s and "(" in s) or "@" in s or "Debian" in s for s in entry["source"]), \
        "a source names a documentation page and section, or a repository file at a commit"
    for field in ("check", "apply", "remediation"):
        assert entry[field] and "\n" not in entry[field]
    assert entry["scope"] in cat.SCOPES
    assert entry["id"] in gce_settings.CHECKS
    if entry["compare"] == "between":
        low, high = entry["bounds"]
        assert low <= entry["expected"] <= high
    if entry["compare"] == "one_of":
        assert entry["expected"] in entry["values"]


def test_every_gce_check_has_an_entry():
    from ansible_collections.guestready.gce.plugins.module_utils import gce_settings
    assert sorted(gce_settings.CHECKS) == sorted(e["id"] for e in cat.requirements("gce"))
