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


def test_latin1_names_in_every_configuration_directory(tmp_path, run_module):
    """Checked and hardened over a tree whose drop-in directories hold files named in Latin-1:
    each read through its real name, every answer valid UTF-8."""
    from test_gce_settings import debian_image
    from ansible_collections.guestready.gce.plugins.modules import compliance
    root = debian_image(tmp_path / "image")
    for directory, suffix, text in (
            ("etc/ssh/sshd_config.d", b".conf", "PasswordAuthentication yes\n"),
            ("etc/systemd/network", b".network", "[Match]\nName=ens4\n[Network]\nDHCP=yes\n"),
            ("etc/systemd/timesyncd.conf.d", b".conf", "[Time]\nNTP=pool.ntp.org\n"),
            ("etc/sysctl.d", b".conf", "net.ipv4.conf.all.rp_filter = 0\n"),
            ("etc/modprobe.d", b".conf", "blacklist virtio_net\n"),
            ("etc/udev/rules.d", b".rules", "# nothing\n"),
            ("etc/default/grub.d", b".cfg", "GRUB_TIMEOUT=30\n")):
        os.makedirs(os.path.join(root, directory), exist_ok=True)
        with open(os.path.join(root, directory, os.fsdecode(b"caf\xe9" + suffix)), "w") as handle:
            handle.write(text)
    args = {"areas": ["gce_settings", "sysctl"], "gce_settings": {"root": root}, "sysctl": {"root": root}}
    checked = run_module(compliance_info, args)
    assert checked["rc"] == 0 and "caf\\\\xe9" in utf8_answer(checked)   # the JSON text of caf\xe9
    applied = run_module(compliance, dict(args, apply=["gce_settings", "sysctl"]), diff=True)
    utf8_answer(applied)
    assert applied["rc"] == 0, applied.get("msg")
    again = run_module(compliance_info, args)
    utf8_answer(again)
    # what harden leaves failing on this image without the Latin-1 files too (test_gce_settings)
    assert set(r["id"] for r in again["results"] if r["status"] == "fail") == {"GCE-GUEST-OSLOGIN", "GCE-FSTAB-STABLE-NAMES"}
