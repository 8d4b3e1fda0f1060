"""sysctl_baseline and sysctl_baseline_info driven through AnsibleModule,
against an image root (no live kernel is touched)."""

import hashlib
import os

import pytest

from ansible_collections.guestready.gce.plugins.modules import sysctl_baseline, sysctl_baseline_info


def tree(tmp_path):
    root = tmp_path / "image"
    (root / "etc" / "sysctl.d").mkdir(parents=True)
    (root / "etc" / "sysctl.conf").write_text("kernel.kptr_restrict = 0\n")
    (root / "etc" / "sysctl.d" / "60-gce-network-security.conf").write_text(
        "net.ipv4.tcp_syncookies = 1\nnet.ipv4.ip_forward = 0\n")
    return str(root)


def digest(root):
    result = {}
    for directory, dummy, names in os.walk(root):
        for name in names:
            with open(os.path.join(directory, name), "rb") as handle:
                result[os.path.join(directory, name)] = hashlib.sha256(handle.read()).hexdigest()
    return result


def test_check_mode_reports_and_writes_nothing(tmp_path, run_module):
    root = tree(tmp_path)
    before = digest(root)
    out = run_module(sysctl_baseline, {"root": root}, check_mode=True, diff=True)
    assert out["rc"] == 0 and out["changed"] is True
    assert digest(root) == before
    assert out["diff"][0]["after"].count("\n# SYSCTL-") == 22
    statuses = dict((r["id"], r["status"]) for r in out["results"])
    assert statuses["SYSCTL-TCP_SYNCOOKIES"] == "pass"  # Google's file persists it
    assert statuses["SYSCTL-KPTR_RESTRICT"] == "fail"
    assert out["summary"]["fail"] == 20


def test_apply_then_info_agree(tmp_path, run_module):
    root = tree(tmp_path)
    out = run_module(sysctl_baseline, {"root": root, "neutralize": "winning"})
    assert out["changed"] is True and out["rc"] == 0
    assert out["neutralized"] == [os.path.join(root, "etc", "sysctl.conf")]
    info = run_module(sysctl_baseline_info, {"root": root})
    assert info["changed"] is False
    assert info["summary"]["pass"] == 22, [r["message"] for r in info["results"] if r["status"] != "pass"]
    again = run_module(sysctl_baseline, {"root": root, "neutralize": "winning"})
    assert again["changed"] is False


def test_policy_errors_are_task_failures(tmp_path, run_module):
    out = run_module(sysctl_baseline, {"root": tree(tmp_path), "overrides": {"SYSCTL-IP_FORWARD": 1}})
    assert out["rc"] == 1 and out["failed"] is True
    assert "SYSCTL-IP_FORWARD must stay 0" in out["msg"]
    out = run_module(sysctl_baseline_info, {"root": tree(tmp_path / "b"), "waivers": {"SYSCTL-X": "r"}})
    assert "unknown requirement ID 'SYSCTL-X'" in out["msg"]


def test_broken_file_is_a_task_failure(tmp_path, run_module):
    root = tree(tmp_path)
    with open(os.path.join(root, "etc", "sysctl.d", "10-bin.conf"), "wb") as handle:
        handle.write(b"\x00\x01binary")
    out = run_module(sysctl_baseline_info, {"root": root})
    assert out["failed"] is True and "10-bin.conf: binary data" in out["msg"]


def test_a_users_file_at_the_drop_ins_name_is_not_replaced(tmp_path, run_module):
    root = tree(tmp_path)
    users = os.path.join(root, "etc", "sysctl.d", "zz-guestready-gce.conf")
    with open(users, "w") as handle:
        handle.write("vm.swappiness = 10\n")
    before = digest(root)
    for check_mode in (True, False):
        out = run_module(sysctl_baseline, {"root": root}, check_mode=check_mode)
        assert out["rc"] == 1 and out["failed"] is True
        assert out["msg"] == ("%s holds settings that are not the collection's (no guestready.gce header): "
                              "not replaced; move it away, or name another file with the sysctl area's "
                              "file option" % users)
        assert digest(root) == before
    # the collection's own file, from an earlier run, is replaced as always
    os.unlink(users)
    assert run_module(sysctl_baseline, {"root": root})["changed"] is True
    assert run_module(sysctl_baseline, {"root": root, "overrides": {"SYSCTL-KPTR_RESTRICT": 2}})["changed"] is True


def test_apply_live_always_without_a_kernel_fails_cleanly(tmp_path, run_module):
    out = run_module(sysctl_baseline, {"root": tree(tmp_path), "apply_live": "always"})
    assert out["failed"] is True and "no live kernel here" in out["msg"]


def test_an_image_gets_the_loopback_line_the_kernel_combines_with_all(tmp_path, run_module):
    """lo exists before any sysctl loader runs at boot and keeps its own
    send_redirects (1); the kernel ORs it with all's: the booted image would
    fail SYSCTL-SEND_REDIRECTS-ALL without lo's own line (found by booting a
    hardened image in the lab, tests/disk)."""
    root = tree(tmp_path)
    out = run_module(sysctl_baseline, {"root": root})
    assert out["rc"] == 0
    with open(os.path.join(root, "etc", "sysctl.d", "zz-guestready-gce.conf")) as handle:
        text = handle.read()
    for key in ("send_redirects", "accept_redirects", "rp_filter"):
        assert "\nnet.ipv4.conf.lo.%s = " % key in text, key
    assert "conf.lo.log_martians" not in text, "only where the combination rule makes lo's value count"


def test_info_on_etc_sysctl_conf_knows_debians_link_to_it(tmp_path, run_module):
    """file=/etc/sysctl.conf on Debian 12: systemd-sysctl reads it as
    /etc/sysctl.d/99-sysctl.conf (a link to ../sysctl.conf, shipped by the systemd
    package); the winner is that file, not another one."""
    root = tmp_path / "image"
    (root / "etc" / "sysctl.d").mkdir(parents=True)
    (root / "usr" / "lib" / "systemd").mkdir(parents=True)
    (root / "usr" / "lib" / "systemd" / "systemd-sysctl").write_text("")
    (root / "etc" / "sysctl.conf").write_text("kernel.kptr_restrict = 2\n")
    os.symlink("../sysctl.conf", str(root / "etc" / "sysctl.d" / "99-sysctl.conf"))
    (root / "etc" / "sysctl.d" / "50-other.conf").write_text("kernel.randomize_va_space = 2\n")
    info = run_module(sysctl_baseline_info, {"root": str(root), "file": "/etc/sysctl.conf"})
    results = dict((r["id"], r) for r in info["results"])
    kptr = results["SYSCTL-KPTR_RESTRICT"]
    assert kptr["status"] == "pass"
    assert kptr["message"] == "kernel.kptr_restrict = 2, persisted in %s:1 (no live kernel here: files only)" % (
        root / "etc" / "sysctl.d" / "99-sysctl.conf")
    assert results["SYSCTL-RANDOMIZE_VA_SPACE"]["message"].endswith("(not the guestready.gce drop-in)")


@pytest.mark.parametrize("linked, refused", [("kernel.kptr_restrict = 2\n", True), ("", False), (None, False)])
def test_a_drop_in_name_that_links_to_a_file_of_settings_is_not_replaced(tmp_path, run_module, linked, refused):
    """file=/etc/sysctl.d/99-sysctl.conf on Debian (a link to ../sysctl.conf): the link was
    replaced by the drop-in, with only a warning, and systemd-sysctl stopped reading
    /etc/sysctl.conf at boot.  A link to a file of settings is refused as that file
    itself is; a link to an empty or missing file is still replaced."""
    root = tmp_path / "image"
    (root / "etc" / "sysctl.d").mkdir(parents=True)
    (root / "usr" / "lib" / "systemd").mkdir(parents=True)
    (root / "usr" / "lib" / "systemd" / "systemd-sysctl").write_text("")
    if linked is not None:
        (root / "etc" / "sysctl.conf").write_text(linked)
    link = root / "etc" / "sysctl.d" / "99-sysctl.conf"
    os.symlink("../sysctl.conf", str(link))
    out = run_module(sysctl_baseline, {"root": str(root), "file": "/etc/sysctl.d/99-sysctl.conf"})
    if refused:
        assert out.get("failed") and "is a symbolic link to ../sysctl.conf, a file of settings that are not " \
            "the collection's: not replaced" in out["msg"], out
        assert os.readlink(str(link)) == "../sysctl.conf"
        assert (root / "etc" / "sysctl.conf").read_text() == linked
    else:
        assert not out.get("failed"), out
        assert not os.path.islink(str(link)) and "guestready.gce" in link.read_text()


def test_the_remediation_of_a_conflict_names_an_option_the_module_has(tmp_path, run_module):
    """A conflicting line (/etc/sysctl.conf's kernel.kptr_restrict = 0) was told to apply
    sysctl_baseline 'with neutralize_conflicts=true', an option that no longer exists (it
    became neutralize); a user who followed it got 'unsupported parameters'."""
    out = run_module(sysctl_baseline_info, {"root": tree(tmp_path)})
    result = dict((r["id"], r) for r in out["results"])["SYSCTL-KPTR_RESTRICT"]
    assert result["status"] == "fail" and result["conflicts"]
    assert result["remediation"] == ("apply guestready.gce.sysctl_baseline with neutralize=winning (the default) "
                                     "or all, or edit the conflicting file")
    applied = run_module(sysctl_baseline, {"root": tree(tmp_path / "b"), "neutralize": "winning"})
    assert applied["rc"] == 0 and applied["summary"]["fail"] == 0


def test_the_diff_is_returned_only_in_diff_mode(tmp_path, run_module, monkeypatch):
    """sysctl_baseline and disk_image returned the whole before/after text of every file
    they change (/etc/sysctl.conf, sshd_config...) in every result, --diff or not; a fleet's
    controller held them for nothing. compliance returns them only under --diff."""
    from ansible_collections.guestready.gce.plugins.module_utils import diskimage
    from ansible_collections.guestready.gce.plugins.modules import disk_image
    for diff in (False, True):
        out = run_module(sysctl_baseline, {"root": tree(tmp_path / str(diff))}, check_mode=True, diff=diff)
        assert out["rc"] == 0 and out["changed"] is True
        assert ("diff" in out) is diff
        if diff:
            assert out["diff"][0]["after"].count("\n# SYSCTL-") == 22
    answer = {"changed": True, "results": [], "area_errors": [],
              "diff": [{"before_header": "/etc/ssh/sshd_config", "after_header": "/etc/ssh/sshd_config",
                        "before": "PasswordAuthentication yes\n", "after": "PasswordAuthentication no\n"}]}
    monkeypatch.setattr(diskimage, "run", lambda params, check_mode, warn: dict(answer))
    for diff in (False, True):
        out = run_module(disk_image, {"path": "disk.raw", "mode": "harden"}, check_mode=True, diff=diff)
        assert out["changed"] is True and out.get("diff") == (answer["diff"] if diff else None)


def test_a_file_that_cannot_be_edited_leaves_the_drop_in_reported(tmp_path, run_module, monkeypatch):
    """/etc/sysctl.conf on a read-only file system (simulated: the write
    fails as it does with EROFS): the drop-in was written first, then the
    area failed with that message alone: changed false, no diff.  Now the
    edit is an error of its own and the drop-in is reported."""
    from ansible_collections.guestready.gce.plugins.module_utils import target as target_module
    root = tree(tmp_path)
    real_write = target_module.Target.write_atomic

    def write_atomic(self, path, data, *args, **kwargs):
        if path == "/etc/sysctl.conf":
            raise target_module.TargetError("%s: cannot create a file in its directory: Read-only file system"
                                            % self.display(path))
        return real_write(self, path, data, *args, **kwargs)
    monkeypatch.setattr(target_module.Target, "write_atomic", write_atomic)
    out = run_module(sysctl_baseline, {"root": root, "neutralize": "winning"}, diff=True)
    assert out["rc"] == 1 and "etc/sysctl.conf: cannot create a file in its directory: Read-only file " \
        "system: not written: its lines stay in force" in out["msg"], out["msg"]
    assert out["changed"] is True and out["neutralized"] == []
    assert [d["after_header"] for d in out["diff"]] == [os.path.join(root, "etc/sysctl.d/zz-guestready-gce.conf")]
    assert os.path.isfile(os.path.join(root, "etc/sysctl.d/zz-guestready-gce.conf"))
    kptr = [r for r in out["results"] if r["id"] == "SYSCTL-KPTR_RESTRICT"][0]
    assert kptr["status"] == "fail", kptr   # sysctl.conf still sets 0 after the drop-in


# Google's /etc/sysctl.d/60-gce-network-security.conf (guest-configs): ``all`` and ``default`` lines only
GOOGLE_NETWORK_SECURITY = (
    "net.ipv4.tcp_syncookies = 1\n"
    "net.ipv4.conf.all.accept_source_route = 0\nnet.ipv4.conf.default.accept_source_route = 0\n"
    "net.ipv4.conf.all.accept_redirects = 0\nnet.ipv4.conf.default.accept_redirects = 0\n"
    "net.ipv4.conf.all.secure_redirects = 1\nnet.ipv4.conf.default.secure_redirects = 1\n"
    "net.ipv4.ip_forward = 0\n"
    "net.ipv4.conf.all.send_redirects = 0\nnet.ipv4.conf.default.send_redirects = 0\n"
    "net.ipv4.conf.all.rp_filter = 1\nnet.ipv4.conf.default.rp_filter = 1\n"
    "net.ipv4.icmp_echo_ignore_broadcasts = 1\nnet.ipv4.icmp_ignore_bogus_error_responses = 1\n"
    "net.ipv4.conf.all.log_martians = 1\nnet.ipv4.conf.default.log_martians = 1\n"
    "kernel.randomize_va_space = 2\nfs.protected_hardlinks=1\nfs.protected_symlinks=1\n"
    "kernel.kptr_restrict=1\nkernel.yama.ptrace_scope=1\nkernel.perf_event_paranoid=2\n")


def test_an_image_whose_loopback_keeps_the_kernels_default_at_boot_fails(tmp_path, run_module):
    """An image with only Google's file (``all`` and ``default`` lines): the loopback
    is up, with its address, before systemd-sysctl runs, so its values are marked set
    and ``default`` never reaches it (net/ipv4/devinet.c: ipv4_devconf_setall(),
    devinet_copy_dflt_conf()); it keeps the kernel's send_redirects = 1 and
    accept_redirects = 1, which the kernel ORs with all's 0.  The image check passed
    both, and the booted image failed them (effective value on lo is 1)."""
    root = tmp_path / "image"
    (root / "etc" / "sysctl.d").mkdir(parents=True)
    (root / "usr" / "lib" / "systemd").mkdir(parents=True)
    (root / "usr" / "lib" / "systemd" / "systemd-sysctl").write_text("")
    (root / "etc" / "sysctl.d" / "60-gce-network-security.conf").write_text(GOOGLE_NETWORK_SECURITY)
    info = run_module(sysctl_baseline_info, {"root": str(root)})
    results = dict((r["id"], r) for r in info["results"])
    for rid, key in (("SYSCTL-SEND_REDIRECTS-ALL", "send_redirects"), ("SYSCTL-ACCEPT_REDIRECTS-ALL", "accept_redirects")):
        assert results[rid]["status"] == "fail", rid
        assert results[rid]["message"] == (
            "not persisted for lo: it keeps the kernel's default 1 after a reboot (no sysctl.d line sets "
            "net.ipv4.conf.lo.%s; lo is up before systemd-sysctl runs, so default's value never reaches it), "
            "and the effective value is 1" % key)
        assert results[rid]["remediation"] == "apply guestready.gce.sysctl_baseline"
    # rp_filter: max(all = 1, lo's 0) is 1; the OR'ed keys Google sets to 1 and the AND'ed ones to 0 are decided by all
    assert info["summary"]["fail"] == 2, [r["message"] for r in info["results"] if r["status"] == "fail"]
    # a router's loopback forwards: AND with all = 0 decides accept_redirects
    waivers = {"SYSCTL-IP_FORWARD": "NAT gateway"}
    routed = dict((r["id"], r) for r in run_module(sysctl_baseline_info, {"root": str(root), "waivers": waivers})["results"])
    assert routed["SYSCTL-ACCEPT_REDIRECTS-ALL"]["status"] == "pass"
    # what sysctl_baseline writes (lo's own lines) passes, and the image is judged as before
    out = run_module(sysctl_baseline, {"root": str(root)})
    assert out["rc"] == 0 and out["summary"]["fail"] == 0, [r["message"] for r in out["results"] if r["status"] == "fail"]
    assert run_module(sysctl_baseline_info, {"root": str(root)})["summary"]["fail"] == 0


def test_a_file_another_program_wrote_since_it_was_read_is_not_overwritten(tmp_path, run_module, monkeypatch):
    """/etc/sysctl.conf gets a line from another program after the plan
    read it and before the edit is written: the edit, made from the text
    read, replaced the file and the line was lost without a word.  Now the
    file is left as it is and the error names it."""
    from ansible_collections.guestready.gce.plugins.module_utils import target as target_module
    root = tree(tmp_path)
    real_write = target_module.Target.write_atomic

    def write_atomic(self, path, data, *args, **kwargs):
        if path == "/etc/sysctl.conf":
            with open(os.path.join(root, "etc/sysctl.conf"), "a") as handle:
                handle.write("vm.swappiness = 10\n")
        return real_write(self, path, data, *args, **kwargs)
    monkeypatch.setattr(target_module.Target, "write_atomic", write_atomic)
    out = run_module(sysctl_baseline, {"root": root, "neutralize": "winning"}, diff=True)
    assert out["rc"] == 1 and "etc/sysctl.conf: changed since it was read (another program wrote it): not " \
        "replaced" in out["msg"], out["msg"]
    with open(os.path.join(root, "etc/sysctl.conf")) as handle:
        assert handle.read() == "kernel.kptr_restrict = 0\nvm.swappiness = 10\n"
    assert [d["after_header"] for d in out["diff"]] == [os.path.join(root, "etc/sysctl.d/zz-guestready-gce.conf")]


def test_a_file_naming_thousands_of_interfaces_is_judged_in_seconds(tmp_path, run_module):
    """A tree's sysctl.conf with a line for each of 6000 interfaces (200 KiB,
    far below the 4 MiB a file may have): every key's history asked every
    line, 36 million times a pass, minutes per run, hours for a file
    at the limit.  The lines that may write a key are looked up now."""
    from hostile import alarm
    root = tree(tmp_path)
    with open(os.path.join(root, "etc/sysctl.conf"), "a") as handle:
        handle.writelines("net.ipv4.conf.if%d.rp_filter = 1\n" % number for number in range(6000))
    with alarm(30):
        out = run_module(sysctl_baseline, {"root": root, "neutralize": "all"}, check_mode=True)
    assert out["rc"] == 0, out.get("msg")
    assert [r for r in out["results"] if r["id"] == "SYSCTL-KPTR_RESTRICT"][0]["status"] == "fail"


def test_a_glob_line_repeated_for_thousands_of_interfaces_is_neutralised_in_seconds(tmp_path, run_module):
    """3000 interface lines, each followed by the same failing glob line:
    each interface's history held all 3000 glob lines, and neutralize=all
    judged each line again for each interface, 9 million times a loader
    (over a minute).  Interfaces reached by the same lines are judged once,
    and every glob line is still commented out."""
    from hostile import alarm
    root = tree(tmp_path)
    with open(os.path.join(root, "etc/sysctl.conf"), "a") as handle:
        handle.writelines("net.ipv4.conf.if%d.rp_filter = 1\nnet.ipv4.conf.*.send_redirects = 1\n" % number
                          for number in range(3000))
    with alarm(30):
        out = run_module(sysctl_baseline, {"root": root, "neutralize": "all"})
    assert out["rc"] == 0, out.get("msg")
    with open(os.path.join(root, "etc/sysctl.conf")) as handle:
        rows = handle.read().splitlines()
    assert sum(row.startswith("# ") and row.endswith("net.ipv4.conf.*.send_redirects = 1") for row in rows) == 3000, rows[:6]
    assert "net.ipv4.conf.if2999.rp_filter = 1" in rows


def test_the_same_weak_lines_in_hundreds_of_files_are_neutralised_in_one_round(tmp_path, run_module, monkeypatch):
    """300 copies of systemd's 50-default.conf sorting after the drop-in:
    systemd keeps equal lines as one entry, so commenting out the winning
    copy made the copy before it win, and the plan judged again for each
    (300 rounds of loading every file: minutes; 3000 copies: hours).  The
    equal lines before a winner go in the same round."""
    from ansible_collections.guestready.gce.plugins.module_utils import sysctl_baseline as baseline
    from test_compliance_trees import SYSTEMD_50_DEFAULT
    root = tree(tmp_path)
    os.makedirs(os.path.join(root, "usr/lib/systemd"))
    with open(os.path.join(root, "usr/lib/systemd/systemd-sysctl"), "w"):
        pass   # systemd-sysctl applies sysctl.d at boot
    for number in range(300):
        with open(os.path.join(root, "etc/sysctl.d/zz%04d.conf" % number), "w") as handle:
            handle.write(SYSTEMD_50_DEFAULT)
    rounds = []
    neutralizable = baseline.neutralizable

    def counted(*args, **kwargs):
        rounds.append(1)
        return neutralizable(*args, **kwargs)
    monkeypatch.setattr(baseline, "neutralizable", counted)
    out = run_module(sysctl_baseline, {"root": root})
    assert out["rc"] == 0, out.get("msg")
    assert len(rounds) == 2, len(rounds)   # the lines found, then nothing more
    for number in (0, 150, 299):
        with open(os.path.join(root, "etc/sysctl.d/zz%04d.conf" % number)) as handle:
            rows = handle.read().splitlines()
        # rp_filter=2 and the bare -net.ipv4.conf.all.rp_filter win against the drop-in in each copy
        assert [row.startswith("# guestready.gce neutralised") for row in rows] == [
            True, True, True, False, False, number == 299, False, False], (number, rows)
    assert all(r["status"] == "pass" for r in out["results"] if r["id"].startswith("SYSCTL-RP_FILTER")), out["results"]


def test_a_plan_reads_each_file_once(tmp_path, run_module, monkeypatch):
    """A plan loads the files for each loader, before and after the drop-in,
    round after round of neutralising: 12 loads of 20,000 files read each
    file 12 times (40 s in check mode).  What the plan read is shared among
    its loads and the edits; applying reads again (the state reached)."""
    from ansible_collections.guestready.gce.plugins.module_utils import target as target_module
    root = tree(tmp_path)
    for number in range(40):
        with open(os.path.join(root, "etc/sysctl.d/%02d-user.conf" % number), "w") as handle:
            handle.write("net.ipv4.ip_forward = %d\nvm.swappiness = 10\n" % (number % 2))
    reads = []
    read_bytes = target_module.Target.read_bytes

    def counted(self, path, limit=None):
        reads.append(path)
        return read_bytes(self, path, limit)
    monkeypatch.setattr(target_module.Target, "read_bytes", counted)
    out = run_module(sysctl_baseline, {"root": root, "neutralize": "all"}, check_mode=True)
    assert out["rc"] == 0 and out["changed"] is True, out.get("msg")
    user = [path for path in reads if path.endswith("-user.conf")]
    assert len(user) == 40 and len(set(user)) == 40, sorted(user)[:6]
    del reads[:]
    out = run_module(sysctl_baseline, {"root": root, "neutralize": "all"})
    assert out["rc"] == 0 and out["changed"] is True, out.get("msg")
    user = [path for path in reads if path.endswith("-user.conf")]
    assert set(user) == set("/etc/sysctl.d/%02d-user.conf" % number for number in range(40))
    assert len(user) == 80, len(user)   # planned, then the state reached
    with open(os.path.join(root, "etc/sysctl.d/01-user.conf")) as handle:
        assert handle.read().startswith("# guestready.gce neutralised (SYSCTL-IP_FORWARD): net.ipv4.ip_forward = 1")
    assert [r["status"] for r in out["results"] if r["id"] == "SYSCTL-IP_FORWARD"] == ["pass"], out["results"]


def test_a_weak_line_repeated_thousands_of_times_is_neutralised_in_one_round(tmp_path, run_module):
    """The same failing line 3000 times: commenting out the winner made the
    one before it win, and the plan asked again for each (3000 rounds of
    reading every file: it never finished).  The run of failing lines at the
    end of a history goes in one round; a failing line an earlier compliant
    one follows is not winning, and stays."""
    from hostile import alarm
    root = tree(tmp_path)
    with open(os.path.join(root, "etc/sysctl.conf"), "w") as handle:
        handle.write("kernel.kptr_restrict = 0\nkernel.kptr_restrict = 2\n" + "net.ipv4.ip_forward = 1\n" * 3000)
    with alarm(30):
        out = run_module(sysctl_baseline, {"root": root})
    assert out["rc"] == 0, out.get("msg")
    with open(os.path.join(root, "etc/sysctl.conf")) as handle:
        rows = handle.read().splitlines()
    assert rows[:2] == ["kernel.kptr_restrict = 0", "kernel.kptr_restrict = 2"], rows[:3]
    assert rows[2:] == ["# guestready.gce neutralised (SYSCTL-IP_FORWARD): net.ipv4.ip_forward = 1"] * 3000, rows[2:4]


def _file_of_4_mib(line):
    """sysctl.conf's text at the size a file may have: ``line(number)`` for
    as many numbers as fit."""
    rows, size, number = ["kernel.kptr_restrict = 0\n"], 25, 0
    while True:
        row = line(number)
        if size + len(row) > 4 * 1024 * 1024:
            return "".join(rows)
        rows.append(row)
        size += len(row)
        number += 1


@pytest.mark.parametrize("line", [
    # a line for each of 110,000 interfaces
    lambda number: "net.ipv4.conf.if%d.send_redirects = 1\n" % number,
    # 130,000 globs, each asked of every interface key
    lambda number: "net.ipv4.conf.*%d.%s = 1\n" % (number, ("send_redirects", "rp_filter", "accept_redirects")[number % 3]),
    # 2000 globs over the names of 2000 interfaces, then the interfaces' lines again
    lambda number: "net.ipv4.conf.i*%d.send_redirects = 1\n" % number if number < 2000
    else "net.ipv4.conf.if%d.rp_filter = 2\n" % (number % 2000),
    # a glob line after each interface line, its value changing: every line of it reaches every interface
    lambda number: "net.ipv4.conf.if%d.rp_filter = 1\n" % (number // 2) if number % 2
    else "net.ipv4.conf.*.send_redirects = %d\n" % (number // 2 % 2),
], ids=["interfaces", "globs", "globs-and-interfaces", "a-glob-per-interface"])
def test_a_file_at_the_size_limit_is_judged_within_a_minute(tmp_path, run_module, line):
    """A 4 MiB file (sysctl.MAX_FILE_SIZE) of interface lines, of globs, or of
    both: every glob was asked of every key, one compiled pattern at a time,
    and every interface's key looked up for each requirement, over 3 minutes
    for the globs, 1.5 for both.  Each distinct glob is now read once and
    asked only of the keys it may name.  60,000 interfaces each reached by
    60,000 glob lines were a history of every line for each (billions of
    entries: the memory filled); keys reached by the same lines share one."""
    from hostile import alarm
    root = tree(tmp_path)
    with open(os.path.join(root, "etc/sysctl.conf"), "w") as handle:
        handle.write(_file_of_4_mib(line))
    with alarm(60):
        out = run_module(sysctl_baseline_info, {"root": root})
    assert out["rc"] == 0, out.get("msg")
    assert [r for r in out["results"] if r["id"] == "SYSCTL-KPTR_RESTRICT"][0]["status"] == "fail"
