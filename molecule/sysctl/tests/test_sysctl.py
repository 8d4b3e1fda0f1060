"""SYSCTL-* on a real guest, after the sysctl role converged it (see prepare.yml
for the conflicts it was seeded with).

Expected values come from the catalogue; compliance and the kernel's
per-interface combination are evaluated here independently of the module.
The tests run in file order: check mode, neutralisation, then a reboot.
Every testinfra call is an Ansible run against a TCG guest, so values are read
in one command per phase.
"""

import os
import re
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


def test_00_ansible_logged_in_as_lab_and_became_root(host):
    """Converge ran as Compute Engine users run it: logged in as the sudo user `lab`,
    became root with sudo (sudo's own log line per module run), and the changes the other
    tests check were made that way."""
    variables = host.ansible.get_variables()
    assert variables["ansible_user"] == "lab" and variables["ansible_become"] is True, variables
    assert host.check_output("echo $SUDO_USER; id -un").split() == ["lab", "root"]
    log = host.check_output("journalctl --no-pager -q -o cat _COMM=sudo")
    assert re.search(r"^ *lab : .*USER=root ; COMMAND=/bin/sh -c '?echo BECOME-SUCCESS-\w+ ; "
                     r"/usr/bin/python3 \S+/AnsiballZ_sysctl_baseline\.py", log, re.M), log[-2000:]
    assert host.file(OWN).exists


def test_01_live_and_effective_everywhere(host):
    values = live(host)
    assert problems(values) == []
    assert values["kernel.perf_event_paranoid"] == "3", "the strictest value of any file is kept"
    assert values["kernel.yama.ptrace_scope"] == "2", "a stricter value from 10-strict.conf is kept"
    own = host.file(OWN)
    assert own.exists and own.user == "root" and own.mode == 0o644
    assert own.contains("^net.ipv4.ip_forward = 0$")
    assert own.contains("^kernel.yama.ptrace_scope = 2$")
    assert own.contains("^kernel.perf_event_paranoid = 3$"), "a level never goes down"
    # lo's lines without '-' (systemd-sysctl before 243 reads it as part of the key); the NIC's
    # with it (an interface may be gone at the next boot)
    assert own.contains(r"^net\.ipv4\.conf\.lo\.rp_filter = 1$")
    assert re.search(r"^-net\.ipv4\.conf\.(?!lo\.)[^.\s]+\.rp_filter = 1$", own.content_string, re.M)


def test_02_weaker_winning_lines_are_neutralised_by_default(host):
    results = info(host)
    assert [rid for rid, r in results.items() if r["status"] != "pass"] == []
    forward = results["SYSCTL-IP_FORWARD"]
    assert forward["winner"]["file"] == OWN
    assert forward["overridden"][0]["file"] == "/etc/sysctl.d/99-router.conf"
    kptr = results["SYSCTL-KPTR_RESTRICT"]
    assert kptr["winner"]["file"] == OWN and kptr["conflicts"] == []
    marker = "# guestready.gce neutralised (%s): %s"
    expected = {
        "/etc/sysctl.conf": [marker % ("SYSCTL-KPTR_RESTRICT", "kernel.kptr_restrict = 0")],
        "/etc/sysctl.d/zzz-late.conf": [
            marker % ("SYSCTL-SEND_REDIRECTS-ALL", "net.ipv4.conf.all.send_redirects = 1"),
            marker % ("SYSCTL-ICMP_ECHO_IGNORE_BROADCASTS", "net.ipv4.icmp_echo_ignore_broadcasts = 0")],
        "/etc/sysctl.d/zzz-vendor.conf": [
            marker % ("SYSCTL-RANDOMIZE_VA_SPACE", "kernel.randomize_va_space = 0"),
            marker % ("SYSCTL-LOG_MARTIANS-ALL", "net.ipv4.conf.all.log_martians = 0")],
    }
    for path, lines in expected.items():
        text = host.file(path).content_string.splitlines()
        assert [line for line in lines if line not in text] == [], (path, text)
    # lines that lose at boot stay as they are, and the hidden vendor file is never read
    assert host.file("/etc/sysctl.d/50-weak.conf").content_string == "kernel.perf_event_paranoid = 1\n"
    assert host.file("/usr/lib/sysctl.d/zzz-vendor.conf").content_string == "kernel.randomize_va_space = 2\n"


def test_03_check_mode_changes_nothing(host):
    before = etc_digest(host)
    result = host.ansible("guestready.gce.sysctl_baseline", "neutralize=all", check=True)
    assert result["changed"] is True, "it would neutralise the weaker lines that lose"
    assert result["neutralized"] == ["/etc/sysctl.d/50-loose-rp.conf", "/etc/sysctl.d/50-weak.conf",
                                     "/etc/sysctl.d/99-router.conf"]
    assert etc_digest(host) == before
    again = host.ansible("guestready.gce.sysctl_baseline", check=True)
    assert again["changed"] is False, "the default run is at its fixed point"


def test_04_everything_holds_after_a_reboot_and_the_rerun_changes_nothing(host):
    host.ansible("ansible.builtin.reboot", "reboot_timeout=900", check=False)
    values = live(host)
    assert problems(values) == []
    assert values["net.ipv4.ip_forward"] == "0", "the drop-in beats 99-router.conf at boot"
    assert values["kernel.yama.ptrace_scope"] == "2"
    assert values["kernel.perf_event_paranoid"] == "3"
    assert set(r["status"] for r in info(host).values()) == {"pass"}
    rerun = host.ansible("guestready.gce.sysctl_baseline", check=False)
    assert rerun["changed"] is False


def test_05_sysctl_system_order_holds_too(host):
    host.check_output("sysctl --system >/dev/null")
    assert problems(live(host)) == []


def test_06_scanner_clean_leaves_no_weaker_line(host):
    result = host.ansible("guestready.gce.sysctl_baseline", "neutralize=all", check=False)
    assert result["changed"] is True
    weaker = []
    for entry in ENTRIES:
        for line in host.check_output(
                "grep -rhs '^[[:space:]]*-\\?%s[[:space:]]*=' /etc/sysctl.conf /etc/sysctl.d /run/sysctl.d "
                "/usr/local/lib/sysctl.d /usr/lib/sysctl.d || true" % entry["key"].replace(".", "[./]")
        ).splitlines():
            value = line.split("=", 1)[1].strip()
            if not complies(entry, value):
                weaker.append(line)
    assert weaker == []
    assert host.ansible("guestready.gce.sysctl_baseline", "neutralize=all", check=False)["changed"] is False
