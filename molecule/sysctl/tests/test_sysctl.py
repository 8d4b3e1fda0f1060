"""SYSCTL-* on a real guest, after the sysctl role converged it (see prepare.yml
for the conflicts it was seeded with).

Expected values come from the catalogue; compliance and the kernel's
per-interface combination are evaluated here independently of the module.
The tests run in file order: check mode, neutralisation, then a reboot.
Every testinfra call is an Ansible run against a TCG guest, so values are read
in one command per phase.
"""

import os
import sys

ROOT = os.environ["MOLECULE_PROJECT_DIRECTORY"]
sys.path.insert(0, os.path.join(ROOT, ".ansible", "collections"))
from ansible_collections.guestready.gce.plugins.module_utils.catalogue import requirements  # noqa: E402

ENTRIES = requirements("sysctl")
COMBINE = {
    "or": lambda all_value, own, forwarding: int(bool(all_value or own)),
    "and": lambda all_value, own, forwarding: int(bool(all_value and own)),
    "max": lambda all_value, own, forwarding: max(all_value, own),
    "forwarding": lambda all_value, own, forwarding: int(bool(all_value and own)) if forwarding
    else int(bool(all_value or own)),
}
OWN = "/etc/sysctl.d/zz-guestready-gce.conf"


def live(host):
    values = {}
    for line in host.check_output("sysctl -a 2>/dev/null").splitlines():
        key, sep, value = line.partition(" = ")
        if sep:
            values[key.strip()] = value.strip()
    return values


def complies(entry, value):
    if entry["compare"] == "at_least":
        return int(value) >= entry["expected"]
    return int(value) == entry["expected"]


def problems(values):
    """Every way the live kernel differs from the catalogue, per interface too."""
    found = []
    interfaces = sorted(set(key.split(".")[3] for key in values if key.startswith("net.ipv4.conf.")
                            and key.split(".")[3] not in ("all", "default")))
    assert "lo" in interfaces and len(interfaces) >= 2, interfaces
    for entry in ENTRIES:
        value = values.get(entry["key"])
        if value is None or not complies(entry, value):
            found.append("%s=%s" % (entry["key"], value))
        if entry["combine"]:
            leaf = entry["key"].rsplit(".", 1)[1]
            for name in interfaces:
                own = int(values["net.ipv4.conf.%s.%s" % (name, leaf)])
                forwarding = int(values["net.ipv4.conf.%s.forwarding" % name])
                effective = COMBINE[entry["combine"]](int(value), own, forwarding)
                if not complies(entry, effective):
                    found.append("%s effective on %s=%s" % (entry["key"], name, effective))
    return found


def info(host):
    result = host.ansible("guestready.gce.sysctl_baseline_info", check=False)
    return dict((r["id"], r) for r in result["results"])


def etc_digest(host):
    return host.check_output("find /etc -xdev -type f -print0 | sort -z | xargs -0 sha256sum")


def test_01_live_and_effective_everywhere(host):
    values = live(host)
    assert problems(values) == []
    assert values["kernel.perf_event_paranoid"] == "3", "Debian's stricter default is kept"
    assert values["kernel.yama.ptrace_scope"] == "2", "a stricter value from 10-strict.conf is kept"
    own = host.file(OWN)
    assert own.exists and own.user == "root" and own.mode == 0o644
    assert own.contains("^net.ipv4.ip_forward = 0$")
    assert own.contains("^kernel.yama.ptrace_scope = 2$")
    assert own.contains(r"^-net\.ipv4\.conf\.lo\.rp_filter = 1$")


def test_02_outcomes_of_the_seeded_conflicts(host):
    results = info(host)
    forward = results["SYSCTL-IP_FORWARD"]
    assert forward["status"] == "pass"
    assert forward["winner"]["file"] == OWN
    assert forward["overridden"][0]["file"] == "/etc/sysctl.d/99-router.conf"
    kptr = results["SYSCTL-KPTR_RESTRICT"]
    assert kptr["status"] == "fail", "sysctl --system reads /etc/sysctl.conf last"
    assert kptr["actual"] == 1 and kptr["winner"]["file"] == OWN
    assert [(c["loader"], c["file"], c["value"]) for c in kptr["conflicts"]] == [
        ("procps", "/etc/sysctl.conf", "0")]
    rp = results["SYSCTL-RP_FILTER-ALL"]
    assert rp["status"] == "pass"
    assert all(v["effective"] == 1 for v in rp["interfaces"].values()), rp["interfaces"]
    assert results["SYSCTL-PERF_EVENT_PARANOID"]["actual"] == 3
    assert results["SYSCTL-YAMA_PTRACE_SCOPE"]["status"] == "pass"
    others = [rid for rid, r in results.items() if r["status"] != "pass" and rid != "SYSCTL-KPTR_RESTRICT"]
    assert others == []


def test_03_check_mode_changes_nothing(host):
    before = etc_digest(host)
    result = host.ansible("guestready.gce.sysctl_baseline", "neutralize=winning", check=True)
    assert result["changed"] is True, "it would neutralise the /etc/sysctl.conf line"
    assert result["neutralized"] == ["/etc/sysctl.conf"]
    assert etc_digest(host) == before


def test_04_neutralise_keeps_the_original_line(host):
    result = host.ansible("guestready.gce.sysctl_baseline", "neutralize=winning", check=False)
    assert result["changed"] is True
    text = host.file("/etc/sysctl.conf").content_string
    assert "# guestready.gce neutralised (SYSCTL-KPTR_RESTRICT): kernel.kptr_restrict = 0" in text
    assert info(host)["SYSCTL-KPTR_RESTRICT"]["status"] == "pass"


def test_05_everything_holds_after_a_reboot(host):
    host.ansible("ansible.builtin.reboot", "reboot_timeout=900", check=False)
    values = live(host)
    assert problems(values) == []
    assert values["net.ipv4.ip_forward"] == "0", "the drop-in beats 99-router.conf at boot"
    assert values["kernel.yama.ptrace_scope"] == "2"
    assert set(r["status"] for r in info(host).values()) == {"pass"}


def test_06_sysctl_system_order_holds_too(host):
    host.check_output("sysctl --system >/dev/null")
    assert problems(live(host)) == []
