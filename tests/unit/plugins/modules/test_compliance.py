"""compliance: apply and check in one module execution, with the same records
as the area modules, idempotent, check and diff mode."""

import hashlib
import json
import os

import yaml

from ansible_collections.guestready.gce.plugins.module_utils import areas
from ansible_collections.guestready.gce.plugins.module_utils.catalogue import CATALOGUE
from ansible_collections.guestready.gce.plugins.modules import (
    compliance, compliance_info, sysctl_baseline)

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "kconfig")
CONFIG = os.path.abspath(os.path.join(FIXTURES, "bookworm_amd64_cloud-amd64.config.gz"))
KERNEL = {"source": "path", "path": CONFIG, "check_initramfs": False}


def image(path):
    root = path / "image"
    (root / "etc" / "sysctl.d").mkdir(parents=True)
    (root / "etc" / "sysctl.conf").write_text("kernel.kptr_restrict = 0\n")
    (root / "etc" / "sysctl.d" / "99-sysctl.conf").symlink_to("../sysctl.conf")
    return str(root)


def digest(root):
    return dict((os.path.join(d, n), hashlib.sha256(open(os.path.join(d, n), "rb").read()).hexdigest())
                for d, dummy, names in os.walk(root) for n in names
                if not os.path.islink(os.path.join(d, n)))


def test_apply_and_check_in_one_call(tmp_path, run_module):
    root = image(tmp_path)
    args = {"areas": ["sysctl", "kernel_config"], "sysctl": {"root": root}, "kernel_config": KERNEL}
    out = run_module(compliance, args, diff=True)
    assert out["rc"] == 0 and out["changed"] is True and out["applied"] == ["sysctl"]
    assert [r["id"] for r in out["results"]] == [e["id"] for e in CATALOGUE if e["area"] not in ("hardware", "gce", "image")]
    assert out["areas"]["sysctl"]["neutralized"] == [os.path.join(root, "etc", "sysctl.conf")]
    assert [d["after_header"] for d in out["diff"]] == [
        os.path.join(root, "etc/sysctl.d/zz-guestready-gce.conf"), os.path.join(root, "etc/sysctl.conf")]
    # the same state as the area modules reach and see
    check = run_module(compliance_info, args)
    assert [(r["id"], r["status"]) for r in check["results"]] == \
        [(r["id"], r["status"]) for r in out["results"]]
    again = run_module(compliance, args)
    assert again["changed"] is False and "diff" not in again, "files' diffs only in diff mode"
    assert not any(r.get("changed") for r in again["results"])


def test_check_mode_changes_nothing_and_says_what_would(tmp_path, run_module):
    root = image(tmp_path)
    before = digest(root)
    out = run_module(compliance, {"areas": ["sysctl"], "sysctl": {"root": root}},
                     check_mode=True, diff=True)
    assert out["changed"] is True and digest(root) == before
    assert len(out["diff"]) == 2
    kptr = [r for r in out["results"] if r["id"] == "SYSCTL-KPTR_RESTRICT"][0]
    assert kptr["changed"] is True and kptr["status"] == "fail"


def test_same_records_as_the_area_module(tmp_path, run_module):
    one, two = image(tmp_path / "a"), image(tmp_path / "b")
    combined = run_module(compliance, {"areas": ["sysctl"], "sysctl": {"root": one, "neutralize": "all"}})
    alone = run_module(sysctl_baseline, {"root": two, "neutralize": "all"})

    def strip(results, root):
        return [dict((k, str(v).replace(root, "R")) for k, v in r.items()) for r in results]
    assert strip(combined["results"], one) == strip(alone["results"], two)


def test_apply_options_serve_a_check_but_not_the_info_module(tmp_path, run_module):
    root = image(tmp_path)
    before = digest(root)
    sysctl = {"root": root, "neutralize": "all"}
    out = run_module(compliance, {"areas": ["sysctl"], "apply": [], "sysctl": sysctl})
    assert out["rc"] == 0 and out["changed"] is False and digest(root) == before
    assert "applied" not in out
    out = run_module(compliance_info, {"areas": ["sysctl"], "sysctl": {"root": root, "neutralize": "all"}})
    assert out["failed"] and "neutralize" in out["msg"]


def test_documented_choices_are_the_registry(run_module):
    for module, applying in ((compliance, True), (compliance_info, False)):
        options = yaml.safe_load(module.DOCUMENTATION)["options"]
        assert options["areas"]["choices"] == areas.NAMES
        assert set(options) >= set(areas.NAMES)
        if applying:
            assert options["apply"]["choices"] == areas.APPLICABLE


def test_results_as_one_json_text_are_the_same_records(tmp_path, run_module):
    """results_format=json (the fleet playbooks): results and areas come back
    as one JSON text, the same data as the list format; the rest as it was."""
    one, two = image(tmp_path / "a"), image(tmp_path / "b")

    def args(root, results_format):
        return {"areas": ["sysctl", "kernel_config"], "sysctl": {"root": root}, "kernel_config": KERNEL,
                "results_format": results_format}
    listed = run_module(compliance, args(one, "list"), diff=True)
    packed = run_module(compliance, args(two, "json"), diff=True)
    assert "results" not in packed and "areas" not in packed
    decoded = json.loads(packed.pop("results_json"))
    assert sorted(decoded) == ["areas", "results"]
    for name in ("results", "areas"):
        assert json.loads(json.dumps(listed.pop(name)).replace(one, "R")) == \
            json.loads(json.dumps(decoded[name]).replace(two, "R"))
    assert packed["summary"] == listed["summary"] and packed["applied"] == listed["applied"]
    assert len(packed["diff"]) == len(listed["diff"]) == 2 and packed["changed"] is listed["changed"] is True
    info = run_module(compliance_info, args(two, "json"))
    assert [r["id"] for r in json.loads(info["results_json"])["results"]] == [r["id"] for r in decoded["results"]]
