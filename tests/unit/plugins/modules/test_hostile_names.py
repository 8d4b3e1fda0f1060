"""Names the system gives in bytes that are not UTF-8 (a file in a tree, an
interface, a mount point): Python lists them as lone surrogates
(os.fsdecode), which ansible-core refuses in a module's answer ("Refusing to
deserialize an invalid UTF8 string value") -- the whole task failed.  Every
module answers with such a byte shown as \\xNN."""

import json
import os

from ansible_collections.guestready.gce.plugins.module_utils.module import displayable
from ansible_collections.guestready.gce.plugins.modules import compliance_info, sysctl_baseline, sysctl_baseline_info

LATIN1_NAME = os.fsdecode(b"caf\xe9.conf")


def utf8_answer(out):
    """The answer as ansible-core reads it: every text must encode as UTF-8."""
    json.dumps(out, ensure_ascii=False).encode("utf-8")
    return json.dumps(out)


def tree(tmp_path):
    root = os.fsdecode(bytes(tmp_path))
    os.makedirs(os.path.join(root, "etc", "sysctl.d"))
    with open(os.path.join(root, "etc", "sysctl.d", LATIN1_NAME), "w") as handle:
        handle.write("net.ipv4.ip_forward = 1\n")
    return root


def test_a_file_named_in_latin1_is_shown_not_refused(tmp_path, run_module):
    root = tree(tmp_path)
    info = run_module(sysctl_baseline_info, {"root": root})
    forward = next(r for r in info["results"] if r["id"] == "SYSCTL-IP_FORWARD")
    assert forward["status"] == "fail" and "caf\\xe9.conf:1 sets 1" in forward["message"]
    utf8_answer(info)
    # one JSON text per host (results_format=json): its \u escapes must not bring the surrogate back
    out = run_module(compliance_info, {"areas": ["sysctl"], "sysctl": {"root": root}, "results_format": "json"})
    text = out["results_json"]
    assert "\\udce9" not in text and "caf\\\\xe9.conf" in text
    utf8_answer(json.loads(text))
    # applied with a diff: the file is neutralised through its real name, shown with the escape
    applied = run_module(sysctl_baseline, {"root": root, "neutralize": "all"}, diff=True)
    utf8_answer(applied)
    assert applied["rc"] == 0 and [path[-12:] for path in applied["neutralized"]] == ["caf\\xe9.conf"]
    with open(os.path.join(root, "etc", "sysctl.d", LATIN1_NAME)) as handle:
        assert handle.read().startswith("# guestready.gce neutralised (SYSCTL-IP_FORWARD)")


def test_displayable_leaves_valid_answers_alone():
    answer = {"a": ["é", ("x", 1)], "b": None}
    assert displayable(answer) is answer
    assert displayable({os.fsdecode(b"k\xff"): [os.fsdecode(b"v\xfe"), u"\ud800"]}) == {"k\\xff": ["v\\xfe", "\\ud800"]}
