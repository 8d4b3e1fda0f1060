"""Planning, applying and assessing the SYSCTL-* requirements on a fake host
(a filesystem tree and a fake /proc/sys)."""

import hashlib
import json
import os
import shutil
import subprocess
import sys

import pytest

from ansible_collections.guestready.gce.plugins.module_utils import sysctl as loader
from ansible_collections.guestready.gce.plugins.module_utils.catalogue import requirements
from ansible_collections.guestready.gce.plugins.module_utils.policy import resolve
from ansible_collections.guestready.gce.plugins.module_utils.sysctl_baseline import (
    APPLY_ARGUMENT_SPEC, INFO_ARGUMENT_SPEC, Plan, apply_sysctl, histories_for)
from ansible_collections.guestready.gce.plugins.module_utils.target import TEMP_PREFIX, Target

# Kernel defaults of a Debian 12 guest before hardening (perf_event_paranoid 3
# is Debian's kernel default), with Yama absent unless a test adds it.
DEFAULTS = {
    "net/ipv4/tcp_syncookies": 1, "net/ipv4/ip_forward": 0,
    "net/ipv4/icmp_echo_ignore_broadcasts": 1, "net/ipv4/icmp_ignore_bogus_error_responses": 1,
    "kernel/randomize_va_space": 2, "fs/protected_hardlinks": 1, "fs/protected_symlinks": 1,
    "kernel/kptr_restrict": 0, "kernel/perf_event_paranoid": 3,
}
CONF = {"accept_source_route": 1, "accept_redirects": 1, "secure_redirects": 1,
        "send_redirects": 1, "rp_filter": 0, "log_martians": 0, "forwarding": 0}


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.write(text)


class Host(object):
    def __init__(self, base, interfaces=("lo", "ens3")):
        self.root = str(base / "root")
        self.proc = str(base / "proc")
        self.own_path = "/etc/sysctl.d/zz-guestready-gce.conf"
        self.own = os.path.join(self.root, self.own_path.lstrip("/"))
        write(os.path.join(self.root, "usr/lib/systemd/systemd-sysctl"), "")
        write(os.path.join(self.root, "usr/lib/sysctl.d/99-protect-links.conf"),
              "fs.protected_hardlinks = 1\nfs.protected_symlinks = 1\n")
        write(os.path.join(self.root, "etc/sysctl.conf"), "# empty\n")
        os.makedirs(os.path.join(self.root, "etc/sysctl.d"))
        os.symlink("../sysctl.conf", os.path.join(self.root, "etc/sysctl.d/99-sysctl.conf"))
        for key, value in DEFAULTS.items():
            self.set(key, value)
        for name in ("all", "default") + tuple(interfaces):
            for leaf, value in CONF.items():
                self.set("net/ipv4/conf/%s/%s" % (name, leaf), value)

    def set(self, key, value):
        write(os.path.join(self.proc, "sys", key), "%s\n" % value)

    def get(self, key):
        return loader.read_live(key, self.proc)[0]

    def plan(self, waivers=None, overrides=None, **options):
        entries, waivers = resolve(requirements("sysctl"), overrides, waivers)
        return Plan(entries, waivers, self.root, self.own_path, True, proc_root=self.proc, **options)

    def etc_hashes(self):
        hashes = {}
        for directory, dummy, names in os.walk(os.path.join(self.root, "etc")):
            for name in names:
                path = os.path.join(directory, name)
                with open(path, "rb") as handle:
                    hashes[path] = hashlib.sha256(handle.read()).hexdigest()
        return hashes


@pytest.fixture
def host(tmp_path):
    return Host(tmp_path)


def by_id(results):
    return dict((r["id"], r) for r in results)


def test_fresh_host_is_hardened_live_and_persisted(host):
    plan = host.plan()
    before, dummy = plan.assess_current()
    assert by_id(before)["SYSCTL-KPTR_RESTRICT"]["status"] == "fail"
    assert by_id(before)["SYSCTL-LOG_MARTIANS-ALL"]["message"].startswith("live value is 0")
    results, warnings, errors = plan.apply()
    assert errors == [] and warnings == []
    statuses = dict((r["id"], r["status"]) for r in results)
    assert statuses.pop("SYSCTL-YAMA_PTRACE_SCOPE") == "unsupported"
    assert set(statuses.values()) == {"pass"}, statuses
    assert host.get("kernel/kptr_restrict") == "1"
    assert host.get("net/ipv4/conf/ens3/send_redirects") == "0"
    assert host.get("net/ipv4/conf/all/log_martians") == "1"
    assert host.get("net/ipv4/conf/ens3/log_martians") == "0", "OR with all=1 decides: left alone"
    with open(host.own) as handle:
        text = handle.read()
    assert "kernel.kptr_restrict = 1\n" in text
    assert "-net.ipv4.conf.ens3.send_redirects = 0\n" in text
    assert "\nnet.ipv4.conf.lo.accept_redirects = 0\n" in text
    # procps applies lines in order: ip_forward (which resets accept_redirects) comes first
    assert text.index("net.ipv4.ip_forward = 0") < text.index("net.ipv4.conf.all.accept_redirects")
    assert "ptrace_scope" not in text, "a key the kernel lacks is never written"
    assert oct(os.stat(host.own).st_mode & 0o777) == "0o644"
    kptr = by_id(results)["SYSCTL-KPTR_RESTRICT"]
    assert kptr["before"] == "0" and kptr["after"] == "1" and kptr["persisted"] == "1"
    assert kptr["winner"]["file"] == host.own


def test_second_run_changes_nothing(host):
    host.plan().apply()
    again = host.plan()
    assert not again.changed
    assert again.changed_ids() == set()
    assert again.diff() == []


def test_stricter_level_is_kept(host):
    host.set("kernel/kptr_restrict", 2)
    results, dummy, dummy = host.plan().apply()
    assert host.get("kernel/perf_event_paranoid") == "3"
    assert host.get("kernel/kptr_restrict") == "2"
    with open(host.own) as handle:
        text = handle.read()
    assert "kernel.perf_event_paranoid = 3\n" in text
    assert "kernel.kptr_restrict = 2\n" in text
    assert by_id(results)["SYSCTL-PERF_EVENT_PARANOID"]["status"] == "pass"


def test_ubuntu_perf_event_paranoid_4_is_kept(host):
    """Ubuntu's kernels default to kernel.perf_event_paranoid = 4 (Debian's
    "perf: Restrict perf_event_open to CAP_SYS_ADMIN if paranoid > 3" patch):
    stricter than 2, so harden keeps it and verification passes it."""
    host.set("kernel/perf_event_paranoid", 4)
    results, dummy, dummy = host.plan().apply()
    assert host.get("kernel/perf_event_paranoid") == "4"
    assert "kernel.perf_event_paranoid = 4\n" in open(host.own).read()
    assert by_id(results)["SYSCTL-PERF_EVENT_PARANOID"]["status"] == "pass"
    assert not host.plan().changed
    host.set("kernel/perf_event_paranoid", 2)  # a reboot into a kernel defaulting lower
    write(os.path.join(host.root, "etc/sysctl.d/10-perf.conf"), "kernel.perf_event_paranoid = 4\n")
    host.plan().apply()
    assert host.get("kernel/perf_event_paranoid") == "4", "the file's stricter level is kept"


def test_stricter_value_in_another_file_is_not_weakened(host):
    write(os.path.join(host.root, "etc/sysctl.d/10-strict.conf"), "kernel.kptr_restrict = 2\n")
    host.plan().apply()
    assert host.get("kernel/kptr_restrict") == "2"


def test_loose_rp_filter_on_an_interface_is_fixed(host):
    host.set("net/ipv4/conf/ens3/rp_filter", 2)
    plan = host.plan()
    before = by_id(plan.assess_current()[0])["SYSCTL-RP_FILTER-ALL"]
    assert before["interfaces"]["ens3"] == {"own": 2, "forwarding": 0, "effective": 2,
                                            "compliant": False}
    results, dummy, dummy = plan.apply()
    after = by_id(results)["SYSCTL-RP_FILTER-ALL"]
    assert after["status"] == "pass"
    assert after["interfaces"]["ens3"]["effective"] == 1
    assert after["changed"] is False  # set by the module, flag comes from the plan
    assert "SYSCTL-RP_FILTER-ALL" in plan.changed_ids()


def test_accept_redirects_depends_on_forwarding(host):
    host.set("net/ipv4/conf/all/accept_redirects", 0)
    host.set("net/ipv4/conf/ens3/forwarding", 1)  # a forwarding interface ANDs
    host.set("net/ipv4/conf/lo/accept_redirects", 1)
    result = by_id(host.plan().assess_current()[0])["SYSCTL-ACCEPT_REDIRECTS-ALL"]
    assert result["interfaces"]["ens3"]["effective"] == 0
    assert result["interfaces"]["lo"]["effective"] == 1
    assert "effective value on lo is 1" in result["message"]


def test_later_file_conflict_is_reported_and_neutralised(host):
    write(os.path.join(host.root, "etc/sysctl.conf"), "# site settings\nkernel.kptr_restrict = 0\n")
    results, dummy, dummy = host.plan(neutralize="none").apply()
    kptr = by_id(results)["SYSCTL-KPTR_RESTRICT"]
    assert kptr["status"] == "fail"
    assert kptr["winner"]["file"] == host.own, "at boot (systemd-sysctl) the drop-in wins"
    assert [c["loader"] for c in kptr["conflicts"]] == ["procps"]
    assert kptr["conflicts"][0]["file"].endswith("etc/sysctl.conf")
    plan = host.plan(neutralize="winning")
    assert list(plan.edits) == ["/etc/sysctl.conf"]
    results, dummy, dummy = plan.apply()
    assert by_id(results)["SYSCTL-KPTR_RESTRICT"]["status"] == "pass"
    with open(os.path.join(host.root, "etc/sysctl.conf")) as handle:
        assert handle.read() == ("# site settings\n# guestready.gce neutralised "
                                 "(SYSCTL-KPTR_RESTRICT): kernel.kptr_restrict = 0\n")
    assert os.path.islink(os.path.join(host.root, "etc/sysctl.d/99-sysctl.conf")), \
        "the symlink to sysctl.conf stays a symlink"


def test_ip_forward_is_written_before_the_keys_it_resets(host):
    # writing ip_forward makes the kernel reset conf/all/accept_redirects
    host.set("net/ipv4/ip_forward", 1)
    keys = [key for key, dummy, dummy in host.plan().live_changes]
    assert keys[0] == "net/ipv4/ip_forward"
    assert "net/ipv4/conf/all/accept_redirects" in keys[1:]


def test_side_effect_of_ip_forward_is_undone(host, monkeypatch):
    """The kernel sets conf/all/accept_redirects = !ip_forward on every change
    of ip_forward; a router seeded that way must still converge in one run."""
    real_write = loader.write_live

    def kernel_write(key, value, proc_root="/proc"):
        if key == "net/ipv4/ip_forward" and loader.read_live(key, proc_root)[0] != str(value):
            real_write("net/ipv4/conf/all/accept_redirects", int(not int(value)), proc_root)
        return real_write(key, value, proc_root)

    monkeypatch.setattr(loader, "write_live", kernel_write)
    host.set("net/ipv4/ip_forward", 1)
    host.set("net/ipv4/conf/all/accept_redirects", 0)  # as the kernel left it
    plan = host.plan()
    results, dummy, errors = plan.apply()
    assert errors == []
    assert host.get("net/ipv4/conf/all/accept_redirects") == "0"
    assert by_id(results)["SYSCTL-ACCEPT_REDIRECTS-ALL"]["status"] == "pass"
    assert "SYSCTL-ACCEPT_REDIRECTS-ALL" in plan.changed_ids()
    assert not host.plan().changed


def test_earlier_file_is_overridden_not_a_conflict(host):
    write(os.path.join(host.root, "etc/sysctl.d/99-router.conf"), "net.ipv4.ip_forward = 1\n")
    host.set("net/ipv4/ip_forward", 1)
    results, dummy, dummy = host.plan(neutralize="winning").apply()
    forward = by_id(results)["SYSCTL-IP_FORWARD"]
    assert forward["status"] == "pass"
    assert forward["overridden"][0]["file"].endswith("99-router.conf")
    assert host.get("net/ipv4/ip_forward") == "0"
    with open(os.path.join(host.root, "etc/sysctl.d/99-router.conf")) as handle:
        assert handle.read() == "net.ipv4.ip_forward = 1\n", "only winning lines are neutralised"


def test_thousands_of_overridden_lines_are_counted_not_all_listed(host):
    """20,000 weaker lines for one key in an earlier file made ``overridden``
    list each (5.7 MB of results): the first 20 are listed, the rest counted."""
    write(os.path.join(host.root, "etc/sysctl.d/10-noise.conf"), "net.ipv4.ip_forward = 1\n" * 20000)
    host.set("net/ipv4/ip_forward", 1)
    results, dummy, dummy = host.plan(neutralize="winning").apply()
    forward = by_id(results)["SYSCTL-IP_FORWARD"]
    assert forward["status"] == "pass", forward
    assert [o["line"] for o in forward["overridden"]] == list(range(1, 21)), forward["overridden"][:3]
    assert forward["overridden_more"] == 19980
    assert "overridden_more" not in by_id(results)["SYSCTL-KPTR_RESTRICT"]


def test_a_file_the_markers_would_grow_past_the_read_limit_is_not_edited(host):
    """neutralize=all on a sysctl.d file just under the 4 MiB the loader reads
    wrote it with a marker on each line, past that size: every later run said
    "larger than 4194304 bytes: not read" and judged nothing.  The file is left
    as it is and the error names it; the other file is still neutralised."""
    big = os.path.join(host.root, "etc/sysctl.d/10-noise.conf")
    text = ("#" * 99999 + "\n") * 40 + "kernel.kptr_restrict = 0\n" * 3000   # 4,075,000 bytes; 52 more a marker
    write(big, text)
    write(os.path.join(host.root, "etc/sysctl.d/20-small.conf"), "net.ipv4.ip_forward = 1\n")
    host.set("net/ipv4/ip_forward", 1)
    plan = host.plan(neutralize="all")
    assert plan.not_neutralized == ["%s: not neutralised: with the markers it would be larger than 4194304 bytes, "
                                    "which this collection does not read: its lines stay in force; edit it by hand"
                                    % plan.target.display("/etc/sysctl.d/10-noise.conf")]
    results, dummy, errors = plan.apply()
    assert errors == plan.not_neutralized
    with open(big) as handle:
        assert handle.read() == text
    with open(os.path.join(host.root, "etc/sysctl.d/20-small.conf")) as handle:
        assert handle.read().startswith("# guestready.gce neutralised (SYSCTL-IP_FORWARD)")
    assert "SYSCTL-IP_FORWARD" in plan.neutralized_ids and "SYSCTL-KPTR_RESTRICT" not in plan.neutralized_ids
    # later runs still read every file: nothing is unknown
    assert set(r["status"] for r in host.plan(neutralize="all").assess_current()[0]) <= {"pass", "fail", "unsupported"}


def test_a_line_of_1_mib_ends_what_systemd_sysctl_reads_and_a_marker_never_makes_one(host):
    """systemd-sysctl reads with read_line(f, LONG_LINE_MAX): a line of 1 MiB
    or more ends what it reads of the file (the settings before it kept);
    sysctl --system reads on.  A weak line that the marker would make 1 MiB
    long is commented out in shorter comment lines, or systemd-sysctl would
    stop there and lose the lines after it."""
    site = os.path.join(host.root, "etc/sysctl.d/10-site.conf")
    padded = "kernel.kptr_restrict = 0" + " " * (loader.LONG_LINE_MAX - 30)   # 1 MiB - 6 bytes
    write(site, "kernel.kptr_restrict = 1\n" + "net.core.somaxconn = " + "1" * loader.LONG_LINE_MAX + "\n"
          "kernel.kptr_restrict = 0\n")
    plan = host.plan()
    histories, warnings = histories_for(plan.entries, plan.observation, plan.target)
    assert [a["value"] for a in histories["systemd"]["kernel/kptr_restrict"]] == ["1"]
    assert [a["value"] for a in histories["procps"]["kernel/kptr_restrict"]] == ["1", "0"]
    assert "%s:2: a line of 1 MiB or more: systemd-sysctl reads no further in the file" % \
        host.plan().target.display("/etc/sysctl.d/10-site.conf") in warnings
    write(site, padded + "\nnet.ipv4.tcp_syncookies = 0\n")
    plan = host.plan(neutralize="all")
    text = plan.edits["/etc/sysctl.d/10-site.conf"]
    assert text.startswith("# guestready.gce neutralised (SYSCTL-KPTR_RESTRICT), in parts:\n#kernel.kptr_restrict = 0 ")
    assert text.endswith("\n# guestready.gce neutralised (SYSCTL-TCP_SYNCOOKIES): net.ipv4.tcp_syncookies = 0\n")
    rows = text.split("\n")
    assert all(len(row) < loader.LONG_LINE_MAX for row in rows) and "".join(row[1:] for row in rows[1:-2]) == padded
    assignments, warnings = loader.parse_text(text, "10-site.conf")
    assert assignments == [] and warnings == []


def test_a_file_that_is_not_utf8_counts_its_line_lengths_in_its_own_bytes(host):
    """A Latin-1 comment of 600,000 bytes is no line of 1 MiB to systemd-sysctl, though its
    characters take 1.2 MB in UTF-8: the setting after it is read."""
    with open(os.path.join(host.root, "etc/sysctl.d/10-site.conf"), "wb") as handle:
        handle.write(b"# " + b"\xe9" * 600000 + b"\nkernel.kptr_restrict = 0\n")
    plan = host.plan()
    histories, warnings = histories_for(plan.entries, plan.observation, plan.target)
    assert [a["value"] for a in histories["systemd"]["kernel/kptr_restrict"]] == ["0"]
    assert not warnings, warnings


def test_waived_id_is_neither_applied_nor_failed(host):
    host.set("net/ipv4/ip_forward", 1)
    results, dummy, dummy = host.plan(waivers={"SYSCTL-IP_FORWARD": "NAT gateway"}).apply()
    forward = by_id(results)["SYSCTL-IP_FORWARD"]
    assert forward["status"] == "waived" and forward["waiver"] == "NAT gateway"
    assert host.get("net/ipv4/ip_forward") == "1"
    with open(host.own) as handle:
        assert "ip_forward" not in handle.read()


def test_override_raises_the_level_written(host):
    host.plan(overrides={"SYSCTL-KPTR_RESTRICT": 2}).apply()
    assert host.get("kernel/kptr_restrict") == "2"


def test_check_assessment_changes_nothing(host):
    write(os.path.join(host.root, "etc/sysctl.conf"), "kernel.kptr_restrict = 0\n")
    hashes = host.etc_hashes()
    plan = host.plan(neutralize="winning")
    results, dummy = plan.assess_current()
    assert plan.changed and plan.diff()
    assert host.etc_hashes() == hashes
    assert host.get("kernel/kptr_restrict") == "0"
    assert by_id(results)["SYSCTL-KPTR_RESTRICT"]["status"] == "fail"


def test_yama_present_is_applied(host):
    host.set("kernel/yama/ptrace_scope", 0)
    results, dummy, dummy = host.plan().apply()
    assert by_id(results)["SYSCTL-YAMA_PTRACE_SCOPE"]["status"] == "pass"
    assert host.get("kernel/yama/ptrace_scope") == "1"


def test_interrupted_write_leaves_no_half_file(host):
    stale = os.path.join(host.root, "etc/sysctl.d", TEMP_PREFIX + "zz-guestready-gce.conf.%d.0a1b2c3d" % (2 ** 22 + 1))
    write(stale, "net.ipv4.ip_")
    assert Target(host.root).remove_stale_temporaries(host.own_path) == [stale]
    host.plan().apply()
    assert sorted(os.listdir(os.path.join(host.root, "etc/sysctl.d"))) == [
        "99-sysctl.conf", "zz-guestready-gce.conf"]


def test_image_root_without_live_kernel(tmp_path):
    host = Host(tmp_path)
    entries, waivers = resolve(requirements("sysctl"))
    plan = Plan(entries, waivers, host.root, host.own_path, False)
    results, dummy, errors = plan.apply()
    assert errors == []
    assert set(r["status"] for r in results) == {"pass"}
    assert by_id(results)["SYSCTL-KPTR_RESTRICT"]["message"].endswith("(no live kernel here: files only)")
    with open(host.own) as handle:
        text = handle.read()
    assert "kernel.kptr_restrict = 1\n" in text and "kernel.yama.ptrace_scope = 1\n" in text
    assert host.get("kernel/kptr_restrict") == "0", "the build host's kernel is not touched"


def test_one_run_reaches_the_fixed_point_when_lines_repeat(host):
    """Found by the fuzzer: the same weak key twice in one file.  Commenting
    out the winning line made the earlier one win; a second run changed it."""
    write(os.path.join(host.root, "etc/sysctl.conf"),
          "net.ipv4.tcp_syncookies=0\nnet.ipv4.tcp_syncookies=0\n")
    host.plan().apply()
    assert not host.plan().changed
    with open(os.path.join(host.root, "etc/sysctl.conf")) as handle:
        assert handle.read().count("# guestready.gce neutralised (SYSCTL-TCP_SYNCOOKIES)") == 2


def test_a_level_never_goes_down_and_one_run_is_enough(host):
    """Issue 13, item 1: a stricter value in an early file, a weaker one in a
    later file, the live value weak (after a reboot): the drop-in takes the
    strictest value anywhere, and the next run changes nothing."""
    write(os.path.join(host.root, "etc/sysctl.d/10-strict.conf"), "kernel.perf_event_paranoid = 3\n")
    write(os.path.join(host.root, "etc/sysctl.d/50-weak.conf"), "kernel.perf_event_paranoid = 1\n")
    host.set("kernel/perf_event_paranoid", 1)
    for neutralize in ("winning", "all", "none"):
        results, dummy, dummy = host.plan(neutralize=neutralize).apply()
        assert "kernel.perf_event_paranoid = 3\n" in open(host.own).read()
        assert host.get("kernel/perf_event_paranoid") == "3"
        assert not host.plan(neutralize=neutralize).changed
    host.set("kernel/perf_event_paranoid", 1)  # a reboot with only the weak value applied
    host.plan().apply()
    assert "kernel.perf_event_paranoid = 3\n" in open(host.own).read()


def test_scanner_clean_neutralises_every_weaker_line_and_nothing_masked(host):
    write(os.path.join(host.root, "etc/sysctl.d/10-early.conf"), "kernel.kptr_restrict = 0\n")
    write(os.path.join(host.root, "usr/lib/sysctl.d/20-vendor.conf"), "net.ipv4.ip_forward = 1\n")
    os.symlink("/dev/null", os.path.join(host.root, "etc/sysctl.d/20-vendor.conf"))  # masked
    write(os.path.join(host.root, "etc/sysctl.d/30-ok.conf"), "kernel.kptr_restrict = 2\n")
    plan = host.plan(neutralize="winning")
    assert plan.edits == {}, "earlier weaker lines do not win: winning mode leaves them"
    plan = host.plan(neutralize="all")
    assert sorted(plan.edits) == ["/etc/sysctl.d/10-early.conf"]
    assert plan.neutralized_ids == {"SYSCTL-KPTR_RESTRICT"}
    results, dummy, dummy = plan.apply()
    with open(os.path.join(host.root, "etc/sysctl.d/10-early.conf")) as handle:
        assert handle.read() == ("# guestready.gce neutralised (SYSCTL-KPTR_RESTRICT): "
                                 "kernel.kptr_restrict = 0\n"), "apply() writes the neutralised line"
    assert by_id(results)["SYSCTL-KPTR_RESTRICT"]["status"] == "pass"
    with open(os.path.join(host.root, "usr/lib/sysctl.d/20-vendor.conf")) as handle:
        assert handle.read() == "net.ipv4.ip_forward = 1\n", "a masked file is never touched"
    assert "SYSCTL-KPTR_RESTRICT" in plan.changed_ids()


def test_interface_line_that_beats_the_dropin_is_neutralised(host):
    write(os.path.join(host.root, "etc/sysctl.d/zzz-late.conf"), "net.ipv4.conf.ens3.rp_filter = 2\n")
    results, dummy, dummy = host.plan(neutralize="none").apply()
    rp = by_id(results)["SYSCTL-RP_FILTER-ALL"]
    assert rp["status"] == "fail" and rp["conflicts"][0]["file"].endswith("zzz-late.conf")
    plan = host.plan()
    assert list(plan.edits) == ["/etc/sysctl.d/zzz-late.conf"]
    results, dummy, dummy = plan.apply()
    assert by_id(results)["SYSCTL-RP_FILTER-ALL"]["status"] == "pass"


def test_diff_shows_neutralised_files_from_before_the_write(host):
    write(os.path.join(host.root, "etc/sysctl.d/zzz-late.conf"), "kernel.kptr_restrict = 0\n")
    plan = host.plan()
    results, dummy, dummy = plan.apply()
    diffs = dict((d["after_header"], d) for d in plan.diff())
    late = diffs[os.path.join(host.root, "etc/sysctl.d/zzz-late.conf")]
    assert late["before"] == "kernel.kptr_restrict = 0\n"
    assert late["after"].startswith("# guestready.gce neutralised (SYSCTL-KPTR_RESTRICT)")
    assert "SYSCTL-KPTR_RESTRICT" in plan.changed_ids()


def test_a_run_under_another_policy_says_it_replaces_the_file(host):
    host.plan(waivers={"SYSCTL-IP_FORWARD": "router"}).apply()
    assert "# Policy: waivers: SYSCTL-IP_FORWARD; overrides: none\n" in open(host.own).read()
    plan = host.plan()
    assert plan.policy_changed and plan.file_changed
    plan.apply()
    assert not host.plan().policy_changed


def test_router_file_enabling_forwarding_through_the_other_name_is_neutralised(host):
    """Google's 60-gce-network-security.conf sets ip_forward = 0; 70-router.conf
    sets net.ipv4.conf.all.forwarding = 1.  systemd-sysctl keeps the drop-in's
    equal ip_forward = 0 at 60-gce's place and writes all.forwarding = 1 after
    it: forwarding is on at boot."""
    write(os.path.join(host.root, "etc/sysctl.d/60-gce-network-security.conf"),
          "net.ipv4.tcp_syncookies = 1\nnet.ipv4.ip_forward = 0\nnet.ipv4.conf.all.rp_filter = 1\n")
    write(os.path.join(host.root, "etc/sysctl.d/70-router.conf"), "net.ipv4.conf.all.forwarding = 1\n")
    results, dummy, dummy = host.plan(neutralize="none").apply()
    forward = by_id(results)["SYSCTL-IP_FORWARD"]
    assert forward["status"] == "fail"
    assert "70-router.conf:1 sets 1, which wins for systemd" in forward["message"]
    plan = host.plan()
    assert list(plan.edits) == ["/etc/sysctl.d/70-router.conf"]
    results, dummy, dummy = plan.apply()
    assert by_id(results)["SYSCTL-IP_FORWARD"]["status"] == "pass"
    with open(os.path.join(host.root, "etc/sysctl.d/70-router.conf")) as handle:
        assert handle.read().startswith("# guestready.gce neutralised (SYSCTL-IP_FORWARD)")
    assert not host.plan().changed


SYSTEMD_50_DEFAULT = (  # systemd's /usr/lib/sysctl.d/50-default.conf (Debian 13: linux-sysctl-defaults)
    "# Source route verification\n"
    "net.ipv4.conf.default.rp_filter = 2\n"
    "net.ipv4.conf.*.rp_filter = 2\n"
    "-net.ipv4.conf.all.rp_filter\n")


def test_rp_filter_glob_reaching_interfaces_created_later_is_overridden_by_the_dropin(host):
    """udev runs systemd-sysctl --prefix=/net/ipv4/conf/<name> for each new
    interface (99-systemd.rules): the glob gives it 2, and max(all=1, 2) = 2.
    The drop-in, read last, gives the same glob 1: systemd's own file stays as
    shipped (a package upgrade would put a commented-out line back)."""
    vendor = os.path.join(host.root, "usr/lib/sysctl.d/50-default.conf")
    write(vendor, SYSTEMD_50_DEFAULT)
    later = by_id(host.plan().assess_current()[0])["SYSCTL-RP_FILTER-DEFAULT"]
    assert later["status"] == "fail"
    assert "50-default.conf:3 sets 2 on every interface created later" in later["message"]
    plan = host.plan()
    assert not plan.edits, "the vendor file is not edited"
    assert "\nnet.ipv4.conf.*.rp_filter = 1\n" in plan.text
    results, dummy, dummy = plan.apply()
    assert by_id(results)["SYSCTL-RP_FILTER-DEFAULT"]["status"] == "pass"
    assert by_id(results)["SYSCTL-RP_FILTER-ALL"]["status"] == "pass", "existing interfaces have own lines"
    with open(vendor) as handle:
        assert handle.read() == SYSTEMD_50_DEFAULT
    assert not host.plan().changed
    # scanner-clean: every non-compliant line any loader reads is commented out, the glob too
    plan = host.plan(neutralize="all")
    assert list(plan.edits) == ["/usr/lib/sysctl.d/50-default.conf"]
    plan.apply()
    with open(vendor) as handle:
        assert handle.read().splitlines()[2] == (
            "# guestready.gce neutralised (SYSCTL-RP_FILTER-DEFAULT): net.ipv4.conf.*.rp_filter = 2")
    assert "\nnet.ipv4.conf.*.rp_filter = 1\n" in host.plan(neutralize="all").text, "kept: no flip-flop"
    assert not host.plan(neutralize="all").changed


def test_a_glob_that_keeps_interfaces_created_later_compliant_passes(host):
    write(os.path.join(host.root, "usr/lib/sysctl.d/50-default.conf"), "net.ipv4.conf.*.log_martians = 0\n")
    results, dummy, dummy = host.plan(neutralize="none").apply()
    assert by_id(results)["SYSCTL-LOG_MARTIANS-DEFAULT"]["status"] == "pass", "OR with all = 1 decides"


def test_a_value_only_in_run_is_not_persisted(host):
    """/run is a tmpfs: /run/sysctl.d is empty when the system boots."""
    write(os.path.join(host.root, "run/sysctl.d/50-runtime.conf"), "kernel.kptr_restrict = 2\n")
    host.set("kernel/kptr_restrict", 2)
    kptr = by_id(host.plan().assess_current()[0])["SYSCTL-KPTR_RESTRICT"]
    assert kptr["status"] == "fail" and kptr["persisted"] is None
    assert "persisted only in" in kptr["message"] and "50-runtime.conf:1, under /run" in kptr["message"]
    results, dummy, dummy = host.plan().apply()
    kptr = by_id(results)["SYSCTL-KPTR_RESTRICT"]
    assert kptr["status"] == "pass" and kptr["persisted"] == "2"
    assert kptr["message"].endswith("zz-guestready-gce.conf:%d" % kptr["winner"]["line"])


def test_a_run_winner_over_a_persisted_line_is_said(host):
    host.plan().apply()
    write(os.path.join(host.root, "run/sysctl.d/zzz-runtime.conf"), "kernel.kptr_restrict = 1\n")
    kptr = by_id(host.plan().assess_current()[0])["SYSCTL-KPTR_RESTRICT"]
    assert kptr["status"] == "pass" and kptr["winner"]["file"].endswith("zzz-runtime.conf")
    assert "zzz-runtime.conf:1, under /run, wins until the next reboot" in kptr["message"]


def test_a_later_bare_key_that_unsets_the_dropin_line_is_neutralised(host):
    """systemd-sysctl drops an assignment a later bare -key names, and writes
    nothing for the key (apply_all() skips value-less entries)."""
    write(os.path.join(host.root, "etc/sysctl.d/zzz-site.conf"), "-kernel.kptr_restrict\n")
    results, dummy, dummy = host.plan(neutralize="none").apply()
    kptr = by_id(results)["SYSCTL-KPTR_RESTRICT"]
    assert kptr["status"] == "fail" and kptr["persisted"] is None
    assert "zzz-site.conf:1 removes the key's earlier assignment" in kptr["message"]
    results, dummy, dummy = host.plan().apply()
    assert by_id(results)["SYSCTL-KPTR_RESTRICT"]["status"] == "pass"
    assert not host.plan().changed


KERNEL_VALUES = [
    ("2", 2), ("0x2", 2), ("0X1f", 31), ("02", 2), ("010", 8), ("-1", -1), ("-0x2", -2), ("0", 0),
    ("1 2", 1), ("2147483647", 2147483647), ("-2147483648", -2147483648),
    # proc_get_long() refuses these: no '+', base 0 (so "08" is a bad octal number), ASCII digits only
    ("+1", None), ("08", None), ("0x", None), ("1.0", None), ("1_0", None), ("\u0661", None), ("1a", None),
    ("", None), ("-", None), ("2147483648", None), ("-2147483649", None), ("0x" + "f" * 40, None),
    # isspace() before the number, only " \t\n" after it; a number of 21 characters or more
    # (sign included) runs past proc_get_long()'s buffer
    ("\f2", 2), ("\v \r1", 1), ("1\tx", 1), ("1\nx", 1), ("2\f", None), ("1\v", None), ("1\rx", None),
    ("2\u00a0", None), ("\u20032", None), ("0" * 19 + "1", 1), ("0" * 20 + "1", None), ("-" + "0" * 19 + "1", None),
    ("0" * 22 + "1", None)]
KERNEL_VALUES = [case for case in KERNEL_VALUES if case[0] is not None]


@pytest.mark.parametrize("text, number", KERNEL_VALUES + [(None, None)])
def test_a_value_is_read_as_the_kernel_reads_it(text, number):
    assert loader.kernel_int(text) == number


def test_the_values_are_read_as_a_real_kernel_reads_them():
    """Each value of the cases above written to an integer key without bounds
    (conf/all/arp_announce: proc_dointvec) in a network namespace of the
    test's own, never the host's: the key keeps its value when the kernel
    refuses the write, and holds kernel_int's number when it does not."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("needs root and unshare(1) for a network namespace of its own")
    script = """if True:
        import json, os, sys
        key = "/proc/sys/net/ipv4/conf/all/arp_announce"
        found = []
        for text in json.load(sys.stdin):
            with open(key, "w") as handle:
                handle.write("12345\\n")
            try:
                fd = os.open(key, os.O_WRONLY)
                try:
                    os.write(fd, text.encode("utf-8") + b"\\n")
                finally:
                    os.close(fd)
            except OSError:
                pass
            with open(key) as handle:
                found.append(int(handle.read()))
        print(json.dumps(found))
    """
    texts = [text for text, number in KERNEL_VALUES]
    run = subprocess.run(["unshare", "--net", sys.executable, "-c", script], input=json.dumps(texts),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
    if run.returncode and "unshare failed" in run.stderr:
        pytest.skip("no network namespace here: " + run.stderr.strip())
    assert run.returncode == 0, run.stderr
    kernel = json.loads(run.stdout)
    assert [(text, 12345 if number is None else number) for text, number in KERNEL_VALUES] == list(zip(texts, kernel))


@pytest.mark.parametrize("text", ["kernel.kptr_restrict = 5\n", "kernel.kptr_restrict = +2\n",
                                  "kernel.kptr_restrict = 08\n"])
def test_a_value_the_kernel_refuses_is_not_a_stricter_level(host, text):
    """kptr_restrict's handler accepts 0 to 2: a later file's 5 is refused at
    boot, and the key keeps whatever it had (the kernel's 0)."""
    host.plan().apply()
    write(os.path.join(host.root, "etc/sysctl.d/zzz-site.conf"), text)
    kptr = by_id(host.plan().assess_current()[0])["SYSCTL-KPTR_RESTRICT"]
    assert kptr["status"] == "fail"
    assert "zzz-site.conf:1 sets %s, which the kernel refuses" % text.split("= ")[1].strip() in kptr["message"]
    plan = host.plan()
    assert list(plan.edits) == ["/etc/sysctl.d/zzz-site.conf"]
    assert "kernel.kptr_restrict = 1\n" in plan.text
    results, dummy, dummy = plan.apply()
    assert by_id(results)["SYSCTL-KPTR_RESTRICT"]["status"] == "pass"


def test_protected_symlinks_2_is_refused_not_stricter(host):
    """fs.protected_fifos and fs.protected_regular have a level 2;
    fs.protected_symlinks and fs.protected_hardlinks accept only 0 and 1."""
    write(os.path.join(host.root, "etc/sysctl.d/zzz-site.conf"), "fs.protected_symlinks = 2\n")
    result = by_id(host.plan().assess_current()[0])["SYSCTL-PROTECTED_SYMLINKS"]
    assert result["status"] == "fail" and "which the kernel refuses" in result["message"]


def test_a_hexadecimal_level_is_read_as_the_kernel_reads_it(host):
    """proc_dointvec() reads numbers as strtoul(..., 0) does: 0x2 is 2, 010 is 8."""
    write(os.path.join(host.root, "etc/sysctl.d/zzz-site.conf"),
          "kernel.kptr_restrict = 0x2\nkernel.perf_event_paranoid = 010\nnet.ipv4.conf.all.rp_filter = 01\n")
    host.set("net/ipv4/conf/all/rp_filter", 1)
    host.set("kernel/kptr_restrict", 2)
    plan = host.plan()
    assert plan.edits == {}, "nothing weaker to neutralise"
    assert "kernel.kptr_restrict = 2\n" in plan.text, "the stricter level is kept"
    results, dummy, dummy = plan.apply()
    for rid in ("SYSCTL-KPTR_RESTRICT", "SYSCTL-RP_FILTER-ALL"):
        assert by_id(results)[rid]["status"] == "pass", by_id(results)[rid]["message"]


def test_an_interface_line_the_kernel_refuses_leaves_the_interface_unset(host):
    """systemd-sysctl keeps the later line for the key, the kernel refuses it:
    ens3 keeps send_redirects = 1 from boot, and OR with all = 0 sends them."""
    host.plan().apply()
    write(os.path.join(host.root, "etc/sysctl.d/zzz-late.conf"), "net.ipv4.conf.ens3.send_redirects = off\n")
    result = by_id(host.plan().assess_current()[0])["SYSCTL-SEND_REDIRECTS-ALL"]
    assert result["status"] == "fail"
    assert "zzz-late.conf:1 sets off, which the kernel refuses" in result["message"]
    plan = host.plan()
    assert list(plan.edits) == ["/etc/sysctl.d/zzz-late.conf"]
    results, dummy, dummy = plan.apply()
    assert by_id(results)["SYSCTL-SEND_REDIRECTS-ALL"]["status"] == "pass"


@pytest.mark.parametrize("live", [False, True])
def test_an_interface_that_exists_before_the_loader_runs_is_reached(tmp_path, live):
    """A NIC whose driver the initramfs loads (or a second NIC, or one renamed
    since) exists before systemd-sysctl runs: it copied the kernel's defaults
    (send_redirects = 1, accept_redirects = 1), which OR with all = 0.  udev's
    coldplug runs systemd-sysctl --prefix=/net/ipv4/conf/<name> for it
    (99-systemd.rules): the drop-in's glob must reach it, as the named lines
    reach the interfaces known when it was written."""
    host = Host(tmp_path)
    entries, waivers = resolve(requirements("sysctl"))
    Plan(entries, waivers, host.root, host.own_path, live, proc_root=host.proc).apply()
    assignments, dummy = loader.load(host.root, "systemd")
    keys = ["net/ipv4/conf/ens5/%s" % leaf for leaf in ("send_redirects", "accept_redirects", "rp_filter")]
    history = loader.winners(assignments, keys, "systemd")
    for key in keys:
        assert history[key] and history[key][-1]["value"] == ("1" if key.endswith("rp_filter") else "0"), key
    for leaf in ("log_martians", "secure_redirects", "accept_source_route"):
        assert "*.%s" % leaf not in open(host.own).read(), "all decides these (OR with 1, AND with 0)"
    assert not Plan(entries, waivers, host.root, host.own_path, live, proc_root=host.proc).changed


def test_no_interface_glob_for_a_procps_boot_or_without_per_interface_lines(host):
    """Only systemd-sysctl expands globs at boot and runs for each new interface."""
    assert "*.send_redirects" not in host.plan(per_interface=False).text
    os.remove(os.path.join(host.root, "usr/lib/systemd/systemd-sysctl"))
    assert "*.send_redirects" not in host.plan().text


def test_no_interface_glob_when_interfaces_created_later_are_waived(host):
    """A waived default entry leaves interfaces created later as the kernel
    seeds them: a glob would reach them through udev."""
    text = host.plan(waivers={"SYSCTL-RP_FILTER-DEFAULT": "CNI interfaces use loose mode"}).text
    assert "*.rp_filter" not in text and "-net.ipv4.conf.ens3.rp_filter = 1\n" in text
    assert "net.ipv4.conf.*.send_redirects = 0\n" in text


def test_a_value_above_the_levels_of_an_unbounded_key_is_taken_by_the_kernel(host):
    """randomize_va_space's and tcp_syncookies' handlers take any integer: 3
    is set and acts as 2 (randomize_va_space > 1) and as 1 (syncookies on)."""
    write(os.path.join(host.root, "etc/sysctl.d/zzz-site.conf"),
          "kernel.randomize_va_space = 3\nnet.ipv4.tcp_syncookies = 3\n")
    host.set("kernel/randomize_va_space", 3)
    host.set("net/ipv4/tcp_syncookies", 3)
    plan = host.plan()
    assert plan.edits == {}
    results, dummy, dummy = plan.apply()
    for rid in ("SYSCTL-RANDOMIZE_VA_SPACE", "SYSCTL-TCP_SYNCOOKIES"):
        assert by_id(results)[rid]["status"] == "pass", by_id(results)[rid]["message"]


@pytest.mark.parametrize("waived", ["SYSCTL-SEND_REDIRECTS-ALL", "SYSCTL-SEND_REDIRECTS-DEFAULT"])
def test_a_glob_written_before_a_waiver_is_dropped_with_it(host, waived):
    """With no literal ``all`` line (its entry waived), systemd-sysctl's glob
    reaches ``all`` too: a glob the drop-in kept from an earlier run would
    force the waived key at boot."""
    host.plan().apply()
    assert "net.ipv4.conf.*.send_redirects = 0\n" in host.plan().text
    plan = host.plan(waivers={waived: "a router"})
    assert "*.send_redirects" not in plan.text and "net.ipv4.conf.*.accept_redirects = 0\n" in plan.text
    plan.apply()
    assert "*.send_redirects" not in host.plan(waivers={waived: "a router"}).text


def test_a_deleted_sysctl_conf_leaves_debians_link_dangling_and_the_host_is_still_hardened(host):
    """Debian ships /etc/sysctl.d/99-sysctl.conf -> ../sysctl.conf; an administrator
    who deletes the comment-only /etc/sysctl.conf leaves it dangling, which both
    loaders skip: the area is judged and applied, with a warning naming the link."""
    os.remove(os.path.join(host.root, "etc/sysctl.conf"))
    results, warnings, errors = host.plan().apply()
    assert errors == []
    link = os.path.join(host.root, "etc/sysctl.d/99-sysctl.conf")
    assert warnings == ["%s: a symbolic link to a missing file: not read (systemd-sysctl skips it, "
                        "sysctl --system warns)" % link]
    statuses = dict((r["id"], r["status"]) for r in results)
    assert statuses.pop("SYSCTL-YAMA_PTRACE_SCOPE") == "unsupported"
    assert set(statuses.values()) == {"pass"}, statuses


def test_a_bare_glob_that_undoes_systemds_rp_filter_glob_is_no_weak_line_for_later_interfaces(host):
    """systemd's 50-default.conf glob (rp_filter = 2 on every interface) undone by a
    site's bare -net.ipv4.conf.*.rp_filter: systemd-sysctl, which alone runs for an
    interface created later (udev), never applies it, so it weakens none; it was
    reported as setting 2 on every one.  Debian 12's procps (4.0.2) still applies it."""
    write(os.path.join(host.root, "usr/lib/sysctl.d/50-default.conf"),
          "net.ipv4.conf.default.rp_filter = 2\nnet.ipv4.conf.*.rp_filter = 2\n-net.ipv4.conf.all.rp_filter\n")
    write(os.path.join(host.root, "etc/sysctl.d/60-site.conf"),
          "net.ipv4.conf.default.rp_filter = 1\n-net.ipv4.conf.*.rp_filter\n")
    for name in ("all", "default", "lo", "ens3"):
        host.set("net/ipv4/conf/%s/rp_filter" % name, 1)
    results, dummy = host.plan().assess_current()
    default = by_id(results)["SYSCTL-RP_FILTER-DEFAULT"]
    assert default["status"] == "pass", default["message"]
    assert default["conflicts"] == []
    rp = by_id(results)["SYSCTL-RP_FILTER-ALL"]
    assert sorted(set((c["loader"], c["value"]) for c in rp["conflicts"])) == [
        ("procps", "2"), ("systemd", None)], "systemd writes no own value for the interfaces"


def test_a_glob_that_weakens_several_interfaces_is_one_conflict_per_loader(tmp_path):
    """Fedora's and RHEL's systemd ship 50-default.conf with net.ipv4.conf.*.rp_filter = 2:
    it reaches lo and both NICs, and was reported once per interface (the same
    sentence three times per loader)."""
    host = Host(tmp_path, interfaces=("lo", "ens3", "ens4"))
    write(os.path.join(host.root, "usr/lib/sysctl.d/50-default.conf"),
          "net.ipv4.conf.default.rp_filter = 2\nnet.ipv4.conf.*.rp_filter = 2\n-net.ipv4.conf.all.rp_filter\n")
    results, dummy = host.plan().assess_current()
    rp = by_id(results)["SYSCTL-RP_FILTER-ALL"]
    assert sorted((c["loader"], c["line"]) for c in rp["conflicts"]) == [("procps", 2), ("systemd", 2)]
    assert rp["message"].count("50-default.conf:2 sets 2, which wins for systemd") == 1


@pytest.mark.parametrize("boot", ["systemd", "procps"])
def test_an_interface_name_with_glob_characters_gets_a_line_that_names_only_it(tmp_path, boot):
    """Linux allows '[', '*' and '?' in interface names (dev_valid_name()); a key holding one
    is a glob to both loaders (string_is_glob()), so '-net.ipv4.conf.veth[1].send_redirects'
    would reach veth1 and not veth[1].  Each such character is written as a bracket expression
    holding only it; a name with '=' cannot be a key at all (the loaders split at the first '=')."""
    host = Host(tmp_path, interfaces=("lo", "veth[1]", "a*b", "x=y"))
    if boot == "procps":  # named lines only, no globs over interface names
        os.remove(os.path.join(host.root, "usr/lib/systemd/systemd-sysctl"))
    host.set("net/ipv4/conf/veth[1]/send_redirects", 1)
    plan = host.plan()
    results, dummy, errors = plan.apply()
    assert errors == []
    with open(host.own) as handle:
        text = handle.read()
    assert "-net.ipv4.conf.veth[[]1].send_redirects = 0\n" in text
    assert "-net.ipv4.conf.a[*]b.send_redirects = 0\n" in text
    assert "veth[1]" not in text and "x=y." not in text
    assert "# Interface 'x=y' has no lines of its own" in text
    keys = ["net/ipv4/conf/veth[1]/send_redirects", "net/ipv4/conf/a*b/send_redirects"]
    for name in loader.LOADERS:
        assignments, dummy = loader.load(host.root, name)
        history = loader.winners(assignments, keys + ["net/ipv4/conf/veth1/send_redirects"], name)
        for key in keys:
            named = [a["text"] for a in history[key] if a["key"].split("/")[3] != "*"]
            assert len(named) == 1 and named[0].startswith("-net.ipv4.conf.%s." % loader.literal_name(
                key.split("/")[3])) and history[key][-1]["path"] == host.own_path, (name, key)
        assert not any("veth" in a["key"] for a in history["net/ipv4/conf/veth1/send_redirects"]), \
            "no other interface is reached"
    assert host.get("net/ipv4/conf/veth[1]/send_redirects") == "0"
    again = host.plan()
    assert not again.changed and again.changed_ids() == set()


GOOGLE = ("net.ipv4.tcp_syncookies=1\nnet.ipv4.conf.all.accept_source_route=0\n"
          "net.ipv4.conf.default.accept_source_route=0\nnet.ipv4.conf.all.accept_redirects=0\n"
          "net.ipv4.conf.default.accept_redirects=0\nnet.ipv4.conf.all.secure_redirects=1\n"
          "net.ipv4.conf.default.secure_redirects=1\nnet.ipv4.ip_forward=0\n")


def test_forwarding_turned_off_after_accept_redirects_leaves_it_at_1(host):
    """systemd-sysctl applies each key once, where its entry stands: the drop-in's
    all.accept_redirects = 0 repeats Google's value, so it is applied at Google's line 4;
    50-router.conf's all.forwarding = 1 is applied first and Google's ip_forward = 0 (the same
    value, line 8) turns forwarding off again after line 4: the kernel's inet_forward_change()
    then sets all.accept_redirects to 1 for good.  procps applies the drop-in last: no reset."""
    write(os.path.join(host.root, "usr/lib/sysctl.d/50-router.conf"), "net.ipv4.conf.all.forwarding = 1\n")
    write(os.path.join(host.root, "etc/sysctl.d/60-gce-network-security.conf"), GOOGLE)
    results, dummy, errors = host.plan(neutralize="none").apply()
    result = by_id(results)["SYSCTL-ACCEPT_REDIRECTS-ALL"]
    assert result["status"] == "fail" and result["persisted"] == "1"
    router = os.path.join(host.root, "usr/lib/sysctl.d/50-router.conf")
    assert "%s:1 turns IPv4 forwarding on and %s:8 turns it off again, after the last line setting the key: " \
        "the kernel then sets net.ipv4.conf.all.accept_redirects to 1 (systemd)" % (
            router, os.path.join(host.root, "etc/sysctl.d/60-gce-network-security.conf")) in result["message"]
    assert [c["loader"] for c in result["conflicts"]] == ["systemd"], "once per line; procps has no reset"
    assert by_id(results)["SYSCTL-IP_FORWARD"]["status"] == "pass"
    # the default neutralize=winning comments out the line that turned forwarding on
    results, dummy, errors = host.plan().apply()
    assert by_id(results)["SYSCTL-ACCEPT_REDIRECTS-ALL"]["status"] == "pass"
    with open(router) as handle:
        assert handle.read().startswith("# guestready.gce neutralised (SYSCTL-ACCEPT_REDIRECTS-ALL): ")
    assignments, dummy = loader.load(host.root, "systemd")
    history = loader.winners(assignments, ["net/ipv4/conf/all/accept_redirects"], "systemd")
    assert history["net/ipv4/conf/all/accept_redirects"][-1]["value"] == "0"


def test_forwarding_reset_follows_the_order_of_application():
    def line(key, value, number):
        return {"key": key, "value": value, "line": number, "glob": "*" in key, "file": "f", "text": "",
                "ignore_failure": False, "path": "/f"}
    ar, fwd, ipf = "net/ipv4/conf/all/accept_redirects", "net/ipv4/conf/all/forwarding", "net/ipv4/ip_forward"
    # forwarding on and off before accept_redirects is written: no reset
    assert loader.forwarding_reset([line(fwd, "1", 1), line(ipf, "0", 2), line(ar, "0", 3)], set()) is None
    # writing the value forwarding already has changes nothing
    assert loader.forwarding_reset([line(ar, "0", 1), line(ipf, "0", 2)], set()) is None
    on, off = line("net/ipv4/conf/*/forwarding", "1", 1), line(ipf, "0", 3)
    assert loader.forwarding_reset([on, line(ar, "0", 2), off], set()) == (on, off)
    # a refused value leaves forwarding as it was
    assert loader.forwarding_reset([line(fwd, "1", 1), line(ar, "0", 2), line(ipf, "x", 3)], set()) is None


@pytest.mark.parametrize("live", [False, True])
def test_a_line_for_an_interface_not_there_yet_is_judged_and_neutralised(tmp_path, live):
    """A file's line for an interface the host does not have now (an image root knows only lo;
    Compute Engine's NIC ens4 appears at boot; a second NIC is hot-plugged) applies when it
    appears: udev runs systemd-sysctl --prefix=/net/ipv4/conf/ens4 (99-systemd.rules), and its
    explicit key beats the drop-in's glob.  rp_filter 2 there is loose mode (max with all)."""
    host = Host(tmp_path)
    entries, waivers = resolve(requirements("sysctl"))

    def plan(**options):
        return Plan(entries, waivers, host.root, host.own_path, live, proc_root=host.proc, **options)

    plan().apply()
    write(os.path.join(host.root, "etc/sysctl.d/50-nic.conf"),
          "net.ipv4.conf.ens4.rp_filter = 2\nnet.ipv4.conf.ens4.send_redirects = 0\n"
          "net.ipv4.conf.eth0:1.rp_filter = 2\n")
    result = by_id(plan().assess_current()[0])["SYSCTL-RP_FILTER-ALL"]
    assert result["status"] == "fail"
    assert "50-nic.conf:1 sets 2, which wins for systemd" in result["message"]
    assert "50-nic.conf:3" not in result["message"], "an alias is no interface: the line sets nothing"
    results, dummy, errors = plan(neutralize="none").apply()
    assert by_id(results)["SYSCTL-RP_FILTER-ALL"]["status"] == "fail", "a conflict, left as it is"
    results, dummy, errors = plan().apply()
    assert by_id(results)["SYSCTL-RP_FILTER-ALL"]["status"] == "pass"
    nic = open(os.path.join(host.root, "etc/sysctl.d/50-nic.conf")).read().splitlines()
    assert nic[0] == "# guestready.gce neutralised (SYSCTL-RP_FILTER-ALL): net.ipv4.conf.ens4.rp_filter = 2"
    assert nic[1:] == ["net.ipv4.conf.ens4.send_redirects = 0", "net.ipv4.conf.eth0:1.rp_filter = 2"]
    assert "ens4" not in open(host.own).read(), "no lines that would outlive the other file's"
    assert not plan().changed


@pytest.mark.parametrize("leaf, rid", [("rp_filter", "SYSCTL-RP_FILTER-ALL"), ("send_redirects", "SYSCTL-SEND_REDIRECTS-ALL")])
def test_an_interface_value_that_is_not_a_number_is_never_a_pass(host, leaf, rid):
    """The kernel only shows numbers; should an interface's own value read as something else,
    there is no effective value to judge: a failure naming it, never a traceback (max() of None)
    nor a pass (OR of 0 and None)."""
    host.plan().apply()
    host.set("net/ipv4/conf/ens3/%s" % leaf, "")
    result = by_id(host.plan().assess_current()[0])[rid]
    assert result["status"] == "fail"
    assert "effective value on ens3 is unknown (its own value '' is not a number)" in result["message"]
    assert result["interfaces"]["ens3"]["compliant"] is False


def test_an_interface_removed_while_its_value_is_set_is_no_error(host, monkeypatch):
    """An interface can go away at any time (a container's veth stops): once its directory is
    gone from /proc/sys there is nothing left to set, and the run does not fail for it."""
    real_write = loader.write_live

    def vanishing_write(key, value, proc_root="/proc"):
        if key.startswith("net/ipv4/conf/ens3/"):
            shutil.rmtree(os.path.join(proc_root, "sys/net/ipv4/conf/ens3"), ignore_errors=True)
        return real_write(key, value, proc_root)

    monkeypatch.setattr(loader, "write_live", vanishing_write)
    results, dummy, errors = host.plan().apply()
    assert errors == []
    assert by_id(results)["SYSCTL-SEND_REDIRECTS-ALL"]["status"] == "pass"


def test_an_all_override_writes_no_glob_that_gives_interfaces_created_later_its_value(host):
    """CIS's secure_redirects=0 for all only: existing interfaces get their own 0 (OR with
    all), but a glob over interface names would also reach every interface created later (udev
    runs systemd-sysctl for it) and override default's 1, failing SYSCTL-SECURE_REDIRECTS-DEFAULT
    on the drop-in's own line."""
    overrides = {"SYSCTL-SECURE_REDIRECTS-ALL": 0}
    results, dummy, errors = host.plan(overrides=overrides).apply()
    text = open(host.own).read()
    assert "-net.ipv4.conf.ens3.secure_redirects = 0\n" in text
    assert "*.secure_redirects" not in text
    assert by_id(results)["SYSCTL-SECURE_REDIRECTS-DEFAULT"]["status"] == "pass"
    assert by_id(results)["SYSCTL-SECURE_REDIRECTS-ALL"]["status"] == "pass"
    assert "*.secure_redirects = 0" in host.plan(overrides=dict(overrides, **{"SYSCTL-SECURE_REDIRECTS-DEFAULT": 0})).text
    assert not host.plan(overrides=overrides).changed


# A tree's systemd as its files tell it: the library's name, or the --version
# text in a binary (NUL-terminated among other strings)
SYSTEMD_TREES = {
    "debian10": ("usr/lib/systemd/libsystemd-shared-241.so", b""),
    "centos7": ("usr/lib/systemd/systemd-sysctl", b"\0Usage: %s\0systemd 219\0+PAM +AUDIT +SELINUX\0"),
    "rhel8.5": ("usr/lib/systemd/libsystemd-shared-239.so", b"\0systemd 239 (239-51.el8_5.2)\n+PAM +AUDIT\0"),
    "rhel8.6": ("usr/lib/systemd/libsystemd-shared-239.so", b"\0systemd 239 (239-58.el8)\n+PAM +AUDIT\0"),
    "244": ("usr/lib/systemd/libsystemd-shared-244.so", b""),
}


def install_systemd(host, tree):
    path, data = SYSTEMD_TREES[tree]
    with open(os.path.join(host.root, path), "wb") as handle:
        handle.write(data)


@pytest.mark.parametrize("tree, version", [("debian10", 241), ("centos7", 219), ("rhel8.5", 239)])
def test_the_drop_in_works_on_a_systemd_before_243(host, tree, version):
    """systemd-sysctl before 243 (Debian 10's 241, RHEL 7's 219 with no
    libsystemd-shared, RHEL 8's 239 before 239-57.el8) reads a leading
    '-' as part of the key (systemd#13191) and no glob (systemd#14589, v245):
    the NIC's lines carry no '-' there (a key the kernel has not is only logged),
    and no glob is written, which the drop-in's header says."""
    install_systemd(host, tree)
    results, warnings, errors = host.plan().apply()
    with open(host.own) as handle:
        text = handle.read()
    assert "\nnet.ipv4.conf.ens3.send_redirects = 0\n" in text
    assert "\nnet.ipv4.conf.ens3.rp_filter = 1\n" in text
    assert "\n-" not in text and "*." not in text
    assert "# systemd-sysctl %d (before 245) reads no globs" % version in text
    assert errors == [] and warnings == []
    statuses = dict((r["id"], r["status"]) for r in results)
    assert statuses.pop("SYSCTL-YAMA_PTRACE_SCOPE") == "unsupported"
    assert set(statuses.values()) == {"pass"}, statuses
    assert not host.plan().changed


@pytest.mark.parametrize("tree", ["244", "rhel8.6"])
def test_a_systemd_before_245_gets_no_globs_but_keeps_the_dash(host, tree):
    """RHEL 8's 239 reads the '-' since 239-57.el8 (the backport of systemd#13191)."""
    install_systemd(host, tree)
    host.plan().apply()
    with open(host.own) as handle:
        text = handle.read()
    assert "\n-net.ipv4.conf.ens3.send_redirects = 0\n" in text and "*." not in text


def test_the_drop_in_has_no_dash_for_a_procps_before_3_3_16(host):
    """RHEL 8's systemd (239-57.el8 and later) reads the '-', its procps 3.3.15
    does not (procps a6c0795d, 3.3.16): `sysctl --system` reads the key
    '-net...', which the kernel has not.  Without the '-' both set the NIC's
    value (a key the kernel has not is only logged by either)."""
    install_systemd(host, "rhel8.6")
    write(os.path.join(host.root, "usr/sbin/sysctl"), "\x7fELF\0%s from %s\n\0procps-ng 3.3.15\0")
    results, warnings, errors = host.plan().apply()
    with open(host.own) as handle:
        text = handle.read()
    assert "\nnet.ipv4.conf.ens3.send_redirects = 0\n" in text and "\n-" not in text
    assert errors == [] and warnings == []
    statuses = dict((r["id"], r["status"]) for r in results)
    assert statuses.pop("SYSCTL-YAMA_PTRACE_SCOPE") == "unsupported"
    assert set(statuses.values()) == {"pass"}, statuses
    assert not host.plan().changed


def test_an_old_drop_in_with_dashed_lines_is_rewritten_for_a_procps_before_3_3_16(host):
    install_systemd(host, "rhel8.6")
    host.plan().apply()
    write(os.path.join(host.root, "usr/sbin/sysctl"), "\x7fELF\0procps-ng 3.3.15\0")
    plan = host.plan()
    assert plan.changed and "SYSCTL-SEND_REDIRECTS-ALL" in plan.changed_ids()


def test_a_modern_systemd_gets_the_same_drop_in_as_an_unknown_one(tmp_path):
    texts = []
    for version in (None, 245, 252):
        host = Host(tmp_path / str(version))
        if version:
            write(os.path.join(host.root, "usr/lib/x86_64-linux-gnu/systemd/libsystemd-shared-%d.so" % version), "")
        host.plan().apply()
        with open(host.own) as handle:
            texts.append(handle.read())
    assert texts[0] == texts[1] == texts[2]
    assert "\n-net.ipv4.conf.ens3.send_redirects = 0\n" in texts[0] and "net.ipv4.conf.*.send_redirects = 0\n" in texts[0]


@pytest.mark.parametrize("version, line", [
    (241, "-net.ipv4.conf.all.send_redirects = 0\n"),
    (244, "net.ipv4.conf.*.send_redirects = 0\n"),
])
def test_a_line_an_older_systemd_ignores_is_not_persisted(host, version, line):
    """The live value is right, and the only file line is one that this
    systemd-sysctl ignores: after a reboot the kernel's default (1) is back."""
    write(os.path.join(host.root, "usr/lib/systemd/libsystemd-shared-%d.so" % version), "")
    write(os.path.join(host.root, "etc/sysctl.d/60-site.conf"), line)
    host.set("net/ipv4/conf/all/send_redirects", 0)
    results, warnings = host.plan().assess_current()
    result = by_id(results)["SYSCTL-SEND_REDIRECTS-ALL"]
    assert result["status"] == "fail" and "not persisted in any sysctl.d file" in result["message"]
    assert result["persisted"] is None
    assert any("60-site.conf:1: systemd-sysctl %d" % version in warning for warning in warnings)


def test_an_old_drop_in_with_dashed_lines_is_rewritten_for_a_systemd_before_243(host):
    host.plan().apply()
    write(os.path.join(host.root, "usr/lib/systemd/libsystemd-shared-241.so"), "")
    plan = host.plan()
    dummy, warnings = plan.assess_current()
    assert any("-net.ipv4.conf.ens3.send_redirects = 0" in warning for warning in warnings)
    assert plan.changed and "SYSCTL-SEND_REDIRECTS-ALL" in plan.changed_ids()
    dummy, warnings, dummy = plan.apply()
    assert warnings == []


def test_the_loopback_without_a_line_of_its_own_fails_at_boot_and_a_nic_gets_default(host):
    """After sysctl_baseline, the drop-in's lines for lo and ens3 and its globs are
    commented out; the live values stay compliant.  A NIC has no address yet when
    systemd-sysctl runs: writing ``default`` copies the value to it
    (devinet_copy_dflt_conf(), net/ipv4/devinet.c), so all's and default's lines are
    enough.  The loopback is up with its address before (ipv4_devconf_setall()):
    it keeps the kernel's send_redirects = 1 and accept_redirects = 1 after a
    reboot, OR'ed with all's 0.  Both passed."""
    host.plan().apply()
    with open(host.own) as handle:
        lines = handle.read().split("\n")

    def without(pattern):
        with open(host.own, "w") as handle:
            handle.write("\n".join("# " + line if pattern in line or ".*." in line else line for line in lines))
        return by_id(host.plan().assess_current()[0])

    results = without(".ens3.")
    assert set(r["status"] for r in results.values()) == {"pass", "unsupported"}
    results = without(".lo.")
    for rid, leaf in (("SYSCTL-SEND_REDIRECTS-ALL", "send_redirects"), ("SYSCTL-ACCEPT_REDIRECTS-ALL", "accept_redirects")):
        assert host.get("net/ipv4/conf/lo/%s" % leaf) == "0"
        assert results[rid]["status"] == "fail", rid
        assert results[rid]["message"].startswith(
            "not persisted for lo: it keeps the kernel's default 1 after a reboot (no sysctl.d line sets "
            "net.ipv4.conf.lo.%s;" % leaf)
    assert results["SYSCTL-RP_FILTER-ALL"]["status"] == "pass", "max(all = 1, lo's 0) is 1"
    # sysctl_baseline writes lo's lines again: a pass
    applied, dummy, dummy = host.plan().apply()
    assert set(r["status"] for r in applied) == {"pass", "unsupported"}
    # a procps boot (no systemd): when sysctl --system runs, before or after lo is up, depends on the init system
    os.remove(os.path.join(host.root, "usr/lib/systemd/systemd-sysctl"))
    results = without(".lo.")
    assert results["SYSCTL-SEND_REDIRECTS-ALL"]["status"] == "pass"


def test_a_file_option_spelt_otherwise_is_the_same_drop_in(tmp_path):
    """The loaders know the drop-in by its directory and name: ``./`` in the
    file option changes nothing (no line of another file is neutralised as if
    the drop-in were not read)."""
    class CheckMode(object):
        check_mode = True

        def warn(self, text):
            raise AssertionError(text)

    outcomes = []
    for index, name in enumerate(("/etc/sysctl.d/zz-guestready-gce.conf", "etc/sysctl.d/./zz-guestready-gce.conf")):
        root = str(tmp_path / str(index))
        write(os.path.join(root, "etc/sysctl.d/50-site.conf"), "kernel.kptr_restrict = 0\n")
        params = dict((option, spec.get("default")) for option, spec in
                      list(INFO_ARGUMENT_SPEC.items()) + list(APPLY_ARGUMENT_SPEC.items()))
        params.update(root=root, file=name, apply_live="never")
        entries, waivers = resolve(requirements("sysctl"), None, {})
        out = apply_sysctl(params, entries, waivers, CheckMode())
        outcomes.append((out["neutralized"], [(d["before_header"].replace(root, ""), d["after"]) for d in out["diff"]]))
    assert outcomes[0] == outcomes[1] and outcomes[0][0] == []


def test_a_latin1_file_names_an_interface_by_its_bytes(tmp_path):
    """A live interface whose name is not UTF-8 (os.listdir()'s surrogates) gets its own lines
    in the drop-in, by its bytes, and the next run changes nothing.  A file that is not UTF-8
    names an interface by bytes: systemd-sysctl writes /proc/sys/net/ipv4/conf/<those bytes>/,
    so its line is that live interface's own line, and a 15-byte Latin-1 name is one the kernel
    allows (dev_valid_name() counts bytes), though its UTF-8 would take 16."""
    host = Host(tmp_path, interfaces=("lo", "ens3", "wl\udce9"))
    results, warnings, errors = host.plan().apply()
    assert errors == [] and set(r["status"] for r in results) == {"pass", "unsupported"}
    with open(host.own, "rb") as handle:
        assert b"-net.ipv4.conf.wl\xe9.send_redirects = 0\n" in handle.read()
    assert not host.plan().changed
    with open(os.path.join(host.root, "etc/sysctl.d/zzz-nic.conf"), "wb") as handle:
        handle.write(b"net.ipv4.conf.wl\xe9.send_redirects = 1\nnet.ipv4.conf.abcdefghijklmn\xe9.send_redirects = 1\n")
    redirects = by_id(host.plan().assess_current()[0])["SYSCTL-SEND_REDIRECTS-ALL"]
    assert redirects["status"] == "fail"
    assert "zzz-nic.conf:1 sets 1, which wins for systemd" in redirects["message"]
    assert sorted(redirects["interfaces"]) == ["ens3", "lo", "wl\udce9"], "the live interface, not a second one"
    entries, waivers = resolve(requirements("sysctl"))
    image = by_id(Plan(entries, waivers, host.root, host.own_path, False).assess_current()[0])
    assert "zzz-nic.conf:2 sets 1, which wins for systemd" in image["SYSCTL-SEND_REDIRECTS-ALL"]["message"]
