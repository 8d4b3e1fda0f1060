"""The sysctl.d loader: parsing, load order, winners, per-interface rules."""

import os
import stat

import pytest

from ansible_collections.guestready.gce.plugins.module_utils import sysctl as loader
from ansible_collections.guestready.gce.plugins.module_utils import target as target_module


def write(root, relative, text):
    path = os.path.join(str(root), relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.write(text)
    return path


# -- parsing ---------------------------------------------------------------

def test_parse_comments_whitespace_prefixes_and_separators():
    text = "\n".join([
        "# a comment",
        "; another comment",
        "   ",
        "net.ipv4.ip_forward=0",
        "  kernel.kptr_restrict   =   2  ",
        "-kernel.yama.ptrace_scope = 1",
        "net/ipv4/conf/eth0.100/rp_filter = 1",
        "net.ipv4.conf.eth0/100.log_martians = 1",
        "net.ipv4.tcp_rmem = 4096   87380\t6291456",
        "-net.ipv4.conf.all.rp_filter",
        "this line is wrong",
        "=1",
    ])
    assignments, warnings = loader.parse_text(text, "/etc/sysctl.d/t.conf")
    got = [(a["key"], a["value"], a["line"], a["ignore_failure"]) for a in assignments]
    assert got == [
        ("net/ipv4/ip_forward", "0", 4, False),
        ("kernel/kptr_restrict", "2", 5, False),
        ("kernel/yama/ptrace_scope", "1", 6, True),
        ("net/ipv4/conf/eth0.100/rp_filter", "1", 7, False),
        ("net/ipv4/conf/eth0.100/log_martians", "1", 8, False),
        ("net/ipv4/tcp_rmem", "4096 87380 6291456", 9, False),
        ("net/ipv4/conf/all/rp_filter", None, 10, True),
    ]
    assert warnings == [
        "/etc/sysctl.d/t.conf:11: not an assignment, ignored: this line is wrong",
        "/etc/sysctl.d/t.conf:12: empty key, ignored",
    ]


def test_keys_round_trip_and_aliases():
    # two names of one kernel value stay two keys: the loaders keep them apart
    assert loader.normalize_key("net.ipv4.conf.all.forwarding") == "net/ipv4/conf/all/forwarding"
    assert loader.normalize_key("net/ipv4/ip_forward") == "net/ipv4/ip_forward"
    assert loader.display_key("net/ipv4/conf/eth0.100/rp_filter") == "net.ipv4.conf.eth0/100.rp_filter"


def test_binary_file_is_a_clear_error(tmp_path):
    path = write(tmp_path, "etc/sysctl.d/10-bin.conf", "")
    with open(path, "wb") as handle:
        handle.write(b"\x7fELF\x00\x01")
    with pytest.raises(loader.SysctlError, match="10-bin.conf: binary data"):
        loader.load(str(tmp_path))


def test_a_dangling_link_is_skipped_with_a_warning_and_keeps_its_name(tmp_path):
    """systemd-sysctl skips a file it cannot find (parse_file(): ignore_enoent) and
    procps warns and reads on (PreloadSystem()); neither fails, and the link's name
    still hides the same name in a later directory."""
    os.makedirs(str(tmp_path / "etc" / "sysctl.d" / "broken.conf"))  # a directory: skipped
    write(tmp_path, "etc/sysctl.d/20-x.conf", "a.b = 1\n")
    os.symlink("/nonexistent/target", str(tmp_path / "etc" / "sysctl.d" / "30-dangling.conf"))
    write(tmp_path, "usr/lib/sysctl.d/30-dangling.conf", "a.b = 2\n")
    for name in loader.LOADERS:
        assignments, warnings = loader.load(str(tmp_path), name)
        assert [(a["key"], a["value"]) for a in assignments] == [("a/b", "1")]
        assert warnings == ["%s: a symbolic link to a missing file: not read (systemd-sysctl skips it, "
                            "sysctl --system warns)" % (tmp_path / "etc" / "sysctl.d" / "30-dangling.conf")]


# -- load order --------------------------------------------------------------

@pytest.fixture
def tree(tmp_path):
    write(tmp_path, "usr/lib/sysctl.d/50-default.conf", "net.ipv4.conf.*.rp_filter = 2\n")
    write(tmp_path, "usr/lib/sysctl.d/60-vendor.conf", "kernel.kptr_restrict = 1\n")
    write(tmp_path, "etc/sysctl.d/60-vendor.conf", "kernel.kptr_restrict = 2\n")  # hides usr/lib's
    write(tmp_path, "run/sysctl.d/70-runtime.conf", "kernel.kptr_restrict = 0\n")
    write(tmp_path, "usr/lib/sysctl.d/80-masked.conf", "net.ipv4.ip_forward = 1\n")
    os.symlink("/dev/null", str(tmp_path / "etc" / "sysctl.d" / "80-masked.conf"))
    write(tmp_path, "usr/local/lib/sysctl.d/90-local.conf", "net.ipv4.ip_forward = 0\n")
    write(tmp_path, "etc/sysctl.d/README", "kernel.kptr_restrict = 0\n")  # not *.conf
    write(tmp_path, "etc/sysctl.conf", "kernel.kptr_restrict = 3\n")
    os.symlink("../sysctl.conf", str(tmp_path / "etc" / "sysctl.d" / "99-sysctl.conf"))
    return tmp_path


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod needs root")
def test_the_null_device_itself_masks_a_name(tmp_path):
    """A name is masked by the null device itself as well as by a link to
    it: the node, answered by one lstat, hides the same name in a later
    directory for both loaders.  Another device node is never read: procps
    takes its name, systemd-sysctl passes over it (the later file is read)."""
    write(tmp_path, "usr/lib/sysctl.d/50-vendor.conf", "net.ipv4.ip_forward = 1\n")
    write(tmp_path, "usr/lib/sysctl.d/60-vendor.conf", "kernel.kptr_restrict = 0\n")
    os.makedirs(str(tmp_path / "etc" / "sysctl.d"))
    os.mknod(str(tmp_path / "etc/sysctl.d/50-vendor.conf"), stat.S_IFCHR | 0o644, os.makedev(1, 3))
    os.mknod(str(tmp_path / "etc/sysctl.d/60-vendor.conf"), stat.S_IFCHR | 0o644, os.makedev(1, 5))
    for name, files in (("systemd", [("/usr/lib/sysctl.d/60-vendor.conf", "60-vendor.conf")]), ("procps", [])):
        warnings = []
        assert loader.config_files(str(tmp_path), name, warnings) == files, name
        assert "60-vendor.conf: is a character device" in warnings[0] and "50-vendor" not in str(warnings), warnings


def test_files_in_order_per_loader(tree):
    names = [name for dummy, name in loader.config_files(str(tree), "systemd")]
    assert names == ["50-default.conf", "60-vendor.conf", "70-runtime.conf", "90-local.conf",
                     "99-sysctl.conf"]
    paths = [path for path, dummy in loader.config_files(str(tree), "systemd")]
    assert paths[1].endswith("etc/sysctl.d/60-vendor.conf")
    procps = [name for dummy, name in loader.config_files(str(tree), "procps")]
    assert procps[-1] == "sysctl.conf" and procps[:-1] == names


def test_winner_per_loader(tree):
    keys = ["kernel/kptr_restrict", "net/ipv4/ip_forward"]
    for name in loader.LOADERS:
        assignments, dummy = loader.load(str(tree), name)
        history = loader.winners(assignments, keys)
        kptr = history["kernel/kptr_restrict"]
        assert [a["value"] for a in kptr][-1] == "3"
        assert history["net/ipv4/ip_forward"][-1]["file"].endswith("90-local.conf")
    systemd, dummy = loader.load(str(tree), "systemd")
    history = loader.winners(systemd, keys)["kernel/kptr_restrict"]
    assert [os.path.basename(a["file"]) for a in history] == ["60-vendor.conf", "70-runtime.conf",
                                                              "99-sysctl.conf"]


def test_replace_adds_or_hides_a_file(tree):
    own = "/etc/sysctl.d/zz-own.conf"
    assignments, dummy = loader.load(str(tree), "systemd", replace={own: "kernel.kptr_restrict = 1\n"})
    winner = loader.winners(assignments, ["kernel/kptr_restrict"])["kernel/kptr_restrict"][-1]
    assert winner["file"] == str(tree / "etc" / "sysctl.d" / "zz-own.conf") and winner["path"] == own
    assignments, dummy = loader.load(str(tree), "procps", replace={own: "kernel.kptr_restrict = 1\n"})
    winner = loader.winners(assignments, ["kernel/kptr_restrict"])["kernel/kptr_restrict"][-1]
    assert winner["file"].endswith("etc/sysctl.conf"), "sysctl --system reads sysctl.conf last"


def test_a_replacement_takes_its_name_as_the_file_will(tmp_path):
    """A file about to be written hides the same name in a later directory
    and is hidden by an earlier one; a file about to go leaves its name to
    a later directory; only procps reads /etc/sysctl.conf itself."""
    write(tmp_path, "usr/lib/sysctl.d/50-vendor.conf", "kernel.kptr_restrict = 1\n")
    write(tmp_path, "usr/lib/sysctl.d/60-vendor.conf", "kernel.dmesg_restrict = 0\n")
    write(tmp_path, "etc/sysctl.d/60-vendor.conf", "kernel.dmesg_restrict = 1\n")
    write(tmp_path, "run/sysctl.d/zz-own.conf", "kernel.yama.ptrace_scope = 0\n")
    write(tmp_path, "etc/sysctl.conf", "fs.suid_dumpable = 1\n")
    replace = {"/etc/sysctl.d/50-vendor.conf": "kernel.kptr_restrict = 2\n",
               "/etc/sysctl.d/60-vendor.conf": None,
               "/etc/sysctl.d/zz-own.conf": "kernel.yama.ptrace_scope = 1\n",
               "/etc/sysctl.conf": "fs.suid_dumpable = 0\n"}

    def read(name, **options):
        assignments, dummy = loader.load(str(tmp_path), name, replace, **options)
        return [(a["path"], a["value"]) for a in assignments]

    assert read("systemd") == [("/etc/sysctl.d/50-vendor.conf", "2"), ("/usr/lib/sysctl.d/60-vendor.conf", "0"),
                               ("/etc/sysctl.d/zz-own.conf", "1")]
    assert read("procps") == read("systemd") + [("/etc/sysctl.conf", "0")]
    write_binary(tmp_path, "usr/sbin/sysctl", b"%s from %s\n", b"procps-ng 3.3.15")
    assert read("procps")[2:] == [("/run/sysctl.d/zz-own.conf", "0"), ("/etc/sysctl.conf", "0")]
    assert read("procps", persistent_only=True)[2:] == [("/etc/sysctl.d/zz-own.conf", "1"), ("/etc/sysctl.conf", "0")]


def test_explicit_beats_glob_and_bare_key_excludes(tmp_path):
    write(tmp_path, "etc/sysctl.d/10-explicit.conf", "net.ipv4.conf.eth0.rp_filter = 1\n")
    write(tmp_path, "etc/sysctl.d/50-glob.conf",
          "net.ipv4.conf.*.rp_filter = 2\n-net.ipv4.conf.all.rp_filter\n")
    keys = ["net/ipv4/conf/eth0/rp_filter", "net/ipv4/conf/eth1/rp_filter",
            "net/ipv4/conf/all/rp_filter", "net/ipv4/conf/default/rp_filter", loader.later_interface_key("rp_filter")]
    assignments, dummy = loader.load(str(tmp_path))
    history = loader.winners(assignments, keys)
    assert history["net/ipv4/conf/eth0/rp_filter"][-1]["value"] == "1"
    assert history["net/ipv4/conf/eth1/rp_filter"][-1]["value"] == "2"
    assert history["net/ipv4/conf/default/rp_filter"][-1]["value"] == "2"
    assert history["net/ipv4/conf/all/rp_filter"] == []
    assert [a["value"] for a in history[loader.later_interface_key("rp_filter")]] == ["2"]


# -- per-interface combination ---------------------------------------------

@pytest.mark.parametrize("rule,all_value,own,forwarding,effective", [
    ("or", 0, 0, 0, 0), ("or", 0, 1, 0, 1), ("or", 1, 0, 0, 1),
    ("and", 1, 1, 0, 1), ("and", 1, 0, 0, 0), ("and", 0, 1, 0, 0),
    ("max", 1, 2, 0, 2), ("max", 1, 0, 0, 1), ("max", 0, 0, 0, 0),
    ("forwarding", 0, 1, 0, 1),  # host: OR
    ("forwarding", 0, 1, 1, 0),  # router: AND
    ("forwarding", 1, 0, 1, 0), ("forwarding", 1, 0, 0, 1),
])
def test_combine(rule, all_value, own, forwarding, effective):
    assert loader.combine(rule, all_value, own, forwarding) == effective


def test_all_value_decides():
    assert loader.all_value_decides("or", 1)
    assert loader.all_value_decides("and", 0)
    assert not loader.all_value_decides("or", 0)
    assert not loader.all_value_decides("max", 1)
    assert not loader.all_value_decides("forwarding", 0)


def test_live_reads(tmp_path):
    write(tmp_path, "sys/kernel/kptr_restrict", "1\n")
    write(tmp_path, "sys/net/ipv4/conf/lo/rp_filter", "0\n")
    write(tmp_path, "sys/net/ipv4/conf/all/rp_filter", "0\n")
    proc = str(tmp_path)
    assert loader.read_live("kernel/kptr_restrict", proc) == ("1", None)
    assert loader.read_live("kernel/yama/ptrace_scope", proc) == (None, "missing")
    assert loader.ipv4_interfaces(proc) == ["lo"]
    assert loader.write_live("kernel/kptr_restrict", 2, proc) is None
    assert loader.read_live("kernel/kptr_restrict", proc) == ("2", None)
    assert "cannot set kernel.nope.x=1" in loader.write_live("kernel/nope/x", 1, proc)


def test_a_key_of_separators_only_is_empty():
    """Found by the fuzzer: ``-/`` parsed as an assignment of an empty key."""
    assignments, warnings = loader.parse_text("-/\n/ = 1\n", "/f.conf")
    assert assignments == []
    assert warnings == ["/f.conf:1: empty key, ignored", "/f.conf:2: empty key, ignored"]


# -- systemd-sysctl's ordered hashmap (src/sysctl/sysctl.c parse_file/apply_all) --

GCE_NETWORK_SECURITY = ("net.ipv4.tcp_syncookies = 1\nnet.ipv4.ip_forward = 0\n"
                        "net.ipv4.conf.all.rp_filter = 1\n")


def test_all_forwarding_after_an_equal_ip_forward_wins_under_systemd(tmp_path):
    """Google's 60-gce-network-security.conf sets ip_forward = 0; a later
    70-router.conf sets net.ipv4.conf.all.forwarding = 1 (the same kernel
    value).  The drop-in's equal ip_forward = 0 keeps the 60-gce entry's
    place, so systemd writes all.forwarding = 1 last; procps applies every
    line in file order, so the drop-in's line comes last there."""
    write(tmp_path, "etc/sysctl.d/60-gce-network-security.conf", GCE_NETWORK_SECURITY)
    write(tmp_path, "etc/sysctl.d/70-router.conf", "net.ipv4.conf.all.forwarding = 1\n")
    write(tmp_path, "etc/sysctl.d/zz-own.conf", "net.ipv4.ip_forward = 0\n")
    key = "net/ipv4/ip_forward"
    systemd = loader.winners(loader.load(str(tmp_path), "systemd")[0], [key], "systemd")[key]
    assert [(os.path.basename(a["file"]), a["value"]) for a in systemd] == [
        ("60-gce-network-security.conf", "0"), ("zz-own.conf", "0"), ("70-router.conf", "1")]
    procps = loader.winners(loader.load(str(tmp_path), "procps")[0], [key], "procps")[key]
    assert procps[-1]["file"].endswith("zz-own.conf")


def test_forwarding_glob_writes_ip_forward(tmp_path):
    """The glob writes conf/all/forwarding (no explicit line of that name)."""
    write(tmp_path, "etc/sysctl.d/60-gce-network-security.conf", GCE_NETWORK_SECURITY)
    write(tmp_path, "etc/sysctl.d/70-k8s.conf", "net.ipv4.conf.*.forwarding = 1\n")
    write(tmp_path, "etc/sysctl.d/zz-own.conf", "net.ipv4.ip_forward = 0\n")
    key = "net/ipv4/ip_forward"
    for name in loader.LOADERS:
        history = loader.winners(loader.load(str(tmp_path), name)[0], [key], name)[key]
        assert [a["value"] for a in history] == (["0", "0", "1"] if name == "systemd" else ["0", "1", "0"])


def test_a_later_bare_key_removes_the_assignment_under_systemd(tmp_path):
    write(tmp_path, "etc/sysctl.d/50-own.conf", "kernel.kptr_restrict = 1\n")
    write(tmp_path, "etc/sysctl.d/90-site.conf", "-kernel.kptr_restrict\n")
    key = "kernel/kptr_restrict"
    systemd = loader.winners(loader.load(str(tmp_path), "systemd")[0], [key], "systemd")[key]
    assert [a["value"] for a in systemd] == ["1", None], "not written at boot"
    procps = loader.winners(loader.load(str(tmp_path), "procps")[0], [key], "procps")[key]
    assert [a["value"] for a in procps] == ["1"], "procps keeps the earlier value"


def test_the_same_bare_key_again_joins_the_entry_it_made(tmp_path):
    """systemd's parse_file() keeps the entry of an equal value where it is
    (streq_ptr(), NULL and NULL too), so the second -key is part of the
    first one's entry: with the first commented out, it removes the key on
    its own.  The history held the first alone, so a plan commented them
    out one round each (a round per file: minutes for hundreds)."""
    write(tmp_path, "etc/sysctl.d/50-own.conf", "kernel.kptr_restrict = 1\n")
    write(tmp_path, "etc/sysctl.d/60-a.conf", "-kernel.kptr_restrict\n")
    write(tmp_path, "etc/sysctl.d/70-b.conf", "-kernel.kptr_restrict\n")
    key = "kernel/kptr_restrict"
    systemd = loader.winners(loader.load(str(tmp_path), "systemd")[0], [key], "systemd")[key]
    assert [(a["path"], a["value"]) for a in systemd] == [
        ("/etc/sysctl.d/50-own.conf", "1"), ("/etc/sysctl.d/60-a.conf", None), ("/etc/sysctl.d/70-b.conf", None)]


def test_a_bare_glob_removes_the_same_glob_under_systemd_and_excludes_nothing_under_procps(tmp_path):
    """systemd's own 50-default.conf sets net.ipv4.conf.*.rp_filter = 2; a later
    bare -net.ipv4.conf.*.rp_filter replaces that hashmap entry with one that
    apply_all() skips (systemd src/sysctl/sysctl.c).  A bare glob that names another
    glob excludes nothing under systemd, which looks matches up by their exact name,
    nor under procps before 4.0.5 (Debian 12's is 4.0.2), whose
    settinglist_findpath() compares names with strcmp() (4.0.5 added fnmatch())."""
    write(tmp_path, "usr/lib/sysctl.d/50-default.conf",
          "net.ipv4.conf.default.rp_filter = 2\nnet.ipv4.conf.*.rp_filter = 2\n-net.ipv4.conf.all.rp_filter\n"
          "net.ipv4.conf.*.log_martians = 0\n")
    write(tmp_path, "etc/sysctl.d/60-site.conf", "-net.ipv4.conf.*.rp_filter\n-net.ipv4.conf.e*.log_martians\n")
    later = loader.later_interface_key("rp_filter")
    keys = ["net/ipv4/conf/eth0/rp_filter", later, "net/ipv4/conf/eth0/log_martians"]
    systemd = loader.winners(loader.load(str(tmp_path), "systemd")[0], keys, "systemd")
    assert [a["value"] for a in systemd["net/ipv4/conf/eth0/rp_filter"]] == ["2", None], "not written at boot"
    assert [a["value"] for a in systemd[later]] == ["2", None]
    assert [a["value"] for a in systemd["net/ipv4/conf/eth0/log_martians"]] == ["0"]
    procps = loader.winners(loader.load(str(tmp_path), "procps")[0], keys, "procps")
    assert [a["value"] for a in procps["net/ipv4/conf/eth0/rp_filter"]] == ["2"]
    assert [a["value"] for a in procps["net/ipv4/conf/eth0/log_martians"]] == ["0"]


def test_dot_files_are_read_by_procps_only(tmp_path):
    write(tmp_path, "etc/sysctl.d/.hardening.conf", "kernel.kptr_restrict = 2\n")
    os.symlink("root@host.1234:1700000000", str(tmp_path / "etc" / "sysctl.d" / ".#60-net.conf"))
    assert loader.config_files(str(tmp_path), "systemd") == []
    warnings = []
    assert loader.config_files(str(tmp_path), "procps", warnings) == [
        ("/etc/sysctl.d/.hardening.conf", ".hardening.conf")]
    assert len(warnings) == 1 and ".#60-net.conf" in warnings[0] and "procps only warns" in warnings[0]


def test_glob_star_stops_at_a_slash():
    assert loader.glob_matches("net/ipv4/conf/all/rp_filter", "net/ipv4/conf/*/rp_filter")
    assert not loader.glob_matches("net/ipv4/conf/all/rp_filter", "net/ipv4/*/rp_filter")
    assert not loader.glob_matches("net/ipv4/conf/all/rp_filter", "net/*")
    assert loader.glob_matches(loader.later_interface_key("rp_filter"), "net/ipv4/conf/e*/rp_filter")
    assert not loader.glob_matches(loader.later_interface_key("rp_filter"), "net/ipv4/conf/all/rp_filter")


def test_repeated_separators_are_simplified():
    """systemd's sysctl_normalize() path_simplify()s the key; procps writes
    /proc/sys/net/ipv4//ip_forward, which the kernel resolves the same way."""
    assert loader.normalize_key("net.ipv4..ip_forward") == "net/ipv4/ip_forward"
    assert loader.normalize_key("/net//ipv4/./ip_forward/") == "net/ipv4/ip_forward"


def test_lines_end_only_where_the_loaders_end_them():
    text = "# notes\x0cnet.ipv4.ip_forward = 1\n# caf\x85 net.ipv4.ip_forward = 1\r\nkernel.kptr_restrict = 2\r"
    assignments, warnings = loader.parse_text(text, "/f.conf")
    assert [(a["key"], a["value"], a["line"]) for a in assignments] == [("kernel/kptr_restrict", "2", 3)]
    assert loader.split_lines(text, True)[1].endswith("\r\n")


@pytest.mark.parametrize("version, first", [(None, "1\rnet.ipv4.ip_forward = 1"), ((3, 3, 17), "1")])
def test_a_carriage_return_ends_a_line_for_systemd_only(version, first):
    """systemd's read_line() ends a line at a bare \r; procps reads lines
    with getline(), to \n: what follows a \r is the value's (4.0 writes it
    whole, and the kernel refuses a number followed by a \r) or dropped
    (3.3.x's strtok(NULL, "\n\r")), never a line of its own.  Both were
    read as systemd reads them, so ``sysctl --system`` was judged to set
    ip_forward here.  A line's number is the one systemd's reading gives it
    (the neutralising edits count lines so)."""
    text = "kernel.kptr_restrict = 1\rnet.ipv4.ip_forward = 1\n\rkernel.yama.ptrace_scope = 2\r\nvm.swappiness = 9\r"

    def rows(assignments):
        return [(a["line"], a["key"], a["value"]) for a in assignments]
    assert rows(loader.parse_text(text, "/f.conf", "systemd")[0]) == [
        (1, "kernel/kptr_restrict", "1"), (2, "net/ipv4/ip_forward", "1"), (4, "kernel/yama/ptrace_scope", "2"),
        (5, "vm/swappiness", "9")]
    procps = rows(loader.parse_text(text, "/f.conf", "procps", version)[0])
    assert procps == [(1, "kernel/kptr_restrict", first), (3, "kernel/yama/ptrace_scope", "2"), (5, "vm/swappiness", "9")]
    assert loader.kernel_int(procps[0][2]) == (None if version is None else 1)
    assert [row.rstrip("\r\n") for row in loader.split_lines(text, True)][2:5] == [
        "", "kernel.yama.ptrace_scope = 2", "vm.swappiness = 9"]


@pytest.mark.parametrize("kind", ["directory", "fifo", "link to a directory", "link to a fifo"])
def test_an_entry_that_is_not_a_file_hides_a_later_file_as_each_loader_does(tmp_path, kind):
    """procps' PreloadSystem() takes every name ending in .conf, whatever the entry is;
    systemd's conf_files_list() passes over a directory, FIFO or socket (d_type, in
    dirent_is_file_with_suffix()) but takes a symbolic link: a lower file of that name is
    then never read."""
    entry = tmp_path / "etc" / "sysctl.d" / "60-net.conf"
    write(tmp_path, "usr/lib/sysctl.d/60-net.conf", "net.ipv4.ip_forward = 1\n")
    other = tmp_path / "elsewhere"
    if kind == "directory":
        os.makedirs(str(entry))
    elif kind == "fifo":
        os.makedirs(str(entry.parent))
        os.mkfifo(str(entry))
    elif kind == "link to a directory":
        os.makedirs(str(other))
        os.makedirs(str(entry.parent))
        os.symlink("/elsewhere", str(entry))
    else:
        os.mkfifo(str(other))
        os.makedirs(str(entry.parent))
        os.symlink("/elsewhere", str(entry))
    hidden = {"procps": True, "systemd": kind.startswith("link")}
    for name in loader.LOADERS:
        assignments, warnings = loader.load(str(tmp_path), name)
        values = [(a["key"], a["value"]) for a in assignments]
        assert values == ([] if hidden[name] else [("net/ipv4/ip_forward", "1")]), (name, kind)
        if hidden[name]:
            assert any("usr/lib/sysctl.d/60-net.conf: not read: %s" % entry in w for w in warnings), warnings


def test_the_ignore_failure_prefix_as_each_loader_reads_it(tmp_path):
    """systemd-sysctl strips blanks after '-' (parse_file()); procps' parse_setting_line()
    does not, so its key is ' net.ipv4.ip_forward', which /proc/sys has not: the line sets
    nothing.  procps 4.0's setting_new() drops a second '-', so '--key = 0' sets the key
    there; systemd reads the key '-net...' (sysctl.c, procps 4.0.2 and 4.0.4)."""
    write(tmp_path, "etc/sysctl.d/60-a.conf", "net.ipv4.ip_forward = 0\n- net.ipv4.ip_forward = 1\n")
    write(tmp_path, "etc/sysctl.d/70-b.conf", "kernel.kptr_restrict = 1\n--kernel.kptr_restrict = 2\n")
    keys = ["net/ipv4/ip_forward", "kernel/kptr_restrict"]
    expected = {"systemd": {"net/ipv4/ip_forward": "1", "kernel/kptr_restrict": "1"},
                "procps": {"net/ipv4/ip_forward": "0", "kernel/kptr_restrict": "2"}}
    for name in loader.LOADERS:
        assignments, warnings = loader.load(str(tmp_path), name)
        history = loader.winners(assignments, keys, name)
        assert dict((key, history[key][-1]["value"]) for key in keys) == expected[name], name
        blank = [w for w in warnings if "a blank after '-'" in w]
        assert len(blank) == (1 if name == "procps" else 0), warnings
        assert blank == [] or blank[0].endswith("60-a.conf:2: a blank after '-': sysctl --system reads the key "
                                                "with the blank, a key the kernel has not, and sets nothing: "
                                                "- net.ipv4.ip_forward = 1")


# -- older systemd-sysctl ---------------------------------------------------

@pytest.mark.parametrize("library, version", [
    ("usr/lib/systemd/libsystemd-shared-241.so", 241),                          # Debian 10
    ("lib/systemd/libsystemd-shared-237.so", 237),                              # Ubuntu 18.04
    ("usr/lib/x86_64-linux-gnu/systemd/libsystemd-shared-252.so", 252),         # Debian 12
    ("usr/lib64/systemd/libsystemd-shared-255.4-1.fc40.so", 255),               # Fedora
    ("usr/lib/systemd/libsystemd-core-241.so", None),
    (None, None),
])
def test_the_systemd_version_is_read_from_its_shared_library(tmp_path, library, version):
    write(tmp_path, "usr/lib/systemd/systemd-sysctl", "")
    if library:
        write(tmp_path, library, "")
    assert loader.systemd_version(str(tmp_path)) == version


def test_two_systemd_libraries_that_disagree_are_no_version(tmp_path):
    write(tmp_path, "usr/lib/systemd/libsystemd-shared-241.so", "")
    write(tmp_path, "usr/lib/systemd/libsystemd-shared-247.so", "")
    assert loader.systemd_version(str(tmp_path)) is None


@pytest.mark.parametrize("version", [None, 241, 243, 244, 245, 252])
def test_dashes_and_globs_as_each_systemd_version_reads_them(tmp_path, version):
    """systemd#13191 (v243) taught systemd-sysctl the '-' prefix: before, the '-'
    is part of the key, whose write fails with ENOENT, only logged.  systemd#14589
    (v245) taught it globs: before, a glob is a literal path that does not exist."""
    if version:
        write(tmp_path, "usr/lib/systemd/libsystemd-shared-%d.so" % version, "")
    write(tmp_path, "etc/sysctl.d/50-site.conf",
          "net.ipv4.conf.all.rp_filter = 1\n"
          "-net.ipv4.conf.all.rp_filter = 0\n"
          "net.ipv4.conf.*.send_redirects = 0\n"
          "-net.ipv4.conf.eth1.send_redirects\n")
    assignments, warnings = loader.load(str(tmp_path), "systemd")
    keys = ["net/ipv4/conf/all/rp_filter", "net/ipv4/conf/all/send_redirects"]
    history = loader.winners(assignments, keys, "systemd")
    rp_filter, redirects = (history[key][-1]["value"] if history[key] else None for key in keys)
    modern = version is None or version >= 245
    assert rp_filter == ("0" if version is None or version >= 243 else "1")
    assert redirects == ("0" if modern else None)
    assert any("reads the '-' as part of the key" in w and ":2:" in w for w in warnings) == (
        version is not None and version < 243)
    assert any("reads no globs" in w and ":3:" in w for w in warnings) == (not modern)
    # a bare -key is "not an assignment" before 245
    assert any(":4:" in w for w in warnings) == (not modern)
    # procps is told nothing of systemd's version
    assert loader.load(str(tmp_path), "procps")[1] == []


# What a tree's systemd files hold, as bytes: the --version text sits among
# other NUL-terminated strings of the binary's .rodata.
FEATURES = b"+PAM +AUDIT +SELINUX +IMA -APPARMOR +SMACK +SYSVINIT +UTMP"


def write_binary(root, relative, *strings):
    path = os.path.join(str(root), relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(b"\x7fELF\x02\x01\x01\0" + b"\0".join((b"Failed to parse file '%s': %m",) + strings + (b"",)))
    return path


# systemd 219 (RHEL/CentOS 7, Amazon Linux 2): sysctl.c's --version is puts(PACKAGE_STRING);
# 229 (Ubuntu 16.04): version(), puts(PACKAGE_STRING "\n" SYSTEMD_FEATURES), linked in statically
TREES = {
    "centos7": lambda root: write_binary(root, "usr/lib/systemd/systemd-sysctl", b"systemd 219", FEATURES),
    "ubuntu1604": lambda root: write_binary(root, "lib/systemd/systemd-sysctl", b"systemd 229\n" + FEATURES),
    # RHEL 8's libsystemd-shared-239.so: version() with -Dversion-tag=%{version}-%{release}
    "rhel8.5": lambda root: write_binary(root, "usr/lib/systemd/libsystemd-shared-239.so",
                                         b"systemd 239 (239-51.el8_5.2)\n" + FEATURES),
    "rhel8.6": lambda root: write_binary(root, "usr/lib/systemd/libsystemd-shared-239.so",
                                         b"systemd 239 (239-58.el8)\n" + FEATURES),
    "rhel8.8": lambda root: write_binary(root, "usr/lib/systemd/libsystemd-shared-239.so",
                                         b"systemd 239 (239-74.el8_8.2)\n" + FEATURES),
    # Debian 12: the text is in the library, systemd-sysctl has none (checked on the real files)
    "debian12": lambda root: (
        write_binary(root, "usr/lib/x86_64-linux-gnu/systemd/libsystemd-shared-252.so",
                     b"systemd 252 (252.39-1~deb12u2)\n%s\n"),
        write_binary(root, "usr/lib/systemd/systemd-sysctl", b"Couldn't write '%s' to '%s', ignoring: %m")),
    "unknown": lambda root: write_binary(root, "usr/lib/systemd/systemd-sysctl", b"Couldn't write '%s' to '%s'"),
}


@pytest.mark.parametrize("tree, version, dashes, globs", [
    ("centos7", 219, False, False),
    ("ubuntu1604", 229, False, False),
    ("rhel8.5", 239, False, False),
    ("rhel8.6", 239, True, False),
    ("rhel8.8", 239, True, False),
    ("debian12", 252, True, True),
    ("unknown", None, True, True),
])
def test_the_systemd_version_of_a_tree_without_the_library_or_with_a_backport(tmp_path, tree, version, dashes, globs):
    TREES[tree](tmp_path)
    found = loader.systemd_version(str(tmp_path))
    assert found == version
    assert (loader.reads_dashes(found), loader.reads_globs(found)) == (dashes, globs)


def test_a_systemd_binary_with_a_long_run_of_digits_is_no_version(tmp_path):
    """'systemd ' and 64 KiB of digits: int() of it is a ValueError past 4300 digits on Python 3.11
    (a traceback) and quadratic before; no systemd has a 10-digit version."""
    write_binary(tmp_path, "usr/lib/systemd/systemd-sysctl", b"systemd " + b"7" * (1 << 16))
    write_binary(tmp_path, "usr/lib/systemd/libsystemd-shared-239.so", b"systemd 239 (239-" + b"5" * (1 << 16) + b".el8)\n")
    assert loader.systemd_version(str(tmp_path)) == 239


@pytest.mark.parametrize("strings, version", [
    ((b"systemd 219", b"systemd 219"), 219),
    ((b"systemd 219", b"systemd 229\n+PAM"), None),                 # two that disagree
    ((b"libsystemd 219",), None),                                    # the end of a longer text
    ((b"systemd 252.39-1~deb12u2 running in %ssystem mode",), None),  # pid1's log line, not --version
    ((b"systemd %s",), None),
])
def test_the_version_text_in_systemd_sysctl(tmp_path, strings, version):
    write_binary(tmp_path, "usr/lib/systemd/systemd-sysctl", *strings)
    assert loader.systemd_version(str(tmp_path)) == version


def test_the_library_name_wins_over_the_text_in_systemd_sysctl(tmp_path):
    write_binary(tmp_path, "usr/lib/systemd/systemd-sysctl", b"systemd 219")
    write(tmp_path, "usr/lib/systemd/libsystemd-shared-252.so", "")
    assert loader.systemd_version(str(tmp_path)) == 252


@pytest.mark.parametrize("text", [
    b"systemd 239 (239-7ubuntu10)\n",     # Ubuntu 18.10's 239: no backport
    b"systemd 239\n",                      # no release told: not known to have it
    b"systemd 241 (239-74.el8)\n",
])
def test_a_239_not_known_to_have_the_dash_backport(tmp_path, text):
    write_binary(tmp_path, "usr/lib/systemd/libsystemd-shared-239.so", text + FEATURES)
    assert not loader.reads_dashes(loader.systemd_version(str(tmp_path)))


# -- procps' sysctl by version ----------------------------------------------

@pytest.mark.parametrize("binaries, version", [
    ({"sbin/sysctl": b"procps-ng 3.3.17"}, (3, 3, 17)),                       # Debian 11
    ({"usr/sbin/sysctl": b"procps-ng 4.0.4"}, (4, 0, 4)),                     # Ubuntu 24.04
    ({"usr/sbin/sysctl": b"procps-ng 3.3.17", "sbin/sysctl": b"procps-ng 4.0.2"}, None),
    ({"usr/sbin/sysctl": b"https://gitlab.com/procps-ng 4"}, None),          # the end of a longer text
    ({"usr/sbin/sysctl": b"procps-ng 4." + b"1" * 5000}, (4, 111111111)),     # hostile: no int() limit reached
    ({}, None),
])
def test_the_procps_version_is_read_from_its_sysctl(tmp_path, binaries, version):
    for relative, text in binaries.items():
        write_binary(tmp_path, relative, b"%s from %s\n", text)
    assert loader.procps_version(str(tmp_path)) == version


@pytest.fixture
def run_and_etc(tmp_path):
    write(tmp_path, "usr/lib/sysctl.d/30-vendor.conf", "kernel.kptr_restrict = 1\n")
    write(tmp_path, "run/sysctl.d/40-runtime.conf", "kernel.kptr_restrict = 0\n")
    write(tmp_path, "run/sysctl.d/60-same.conf", "kernel.kptr_restrict = 0\n")
    write(tmp_path, "etc/sysctl.d/60-same.conf", "kernel.kptr_restrict = 2\n")
    write(tmp_path, "etc/sysctl.d/70-admin.conf", "net.ipv4.ip_forward = 0\n")
    write(tmp_path, "usr/local/lib/sysctl.d/70-admin.conf", "net.ipv4.ip_forward = 1\n")
    write(tmp_path, "etc/sysctl.conf", "kernel.dmesg_restrict = 1\n")
    return tmp_path


@pytest.mark.parametrize("version, first", [
    ((3, 3, 10), "run"),    # RHEL 7
    ((3, 3, 12), "run"),    # Debian 9, Ubuntu 18.04
    ((3, 3, 15), "run"),    # RHEL 8, Debian 10
    ((3, 3, 16), "run"),    # Ubuntu 20.04
    ((3, 3, 17), "etc"),    # Debian 11, RHEL 9, Ubuntu 22.04
    ((4, 0, 4), "etc"),     # Ubuntu 24.04
    (None, "etc"),          # unknown: a modern one
])
def test_procps_directory_order_by_version(run_and_etc, version, first):
    """PreloadSystem() takes each name from the first directory that has it,
    sorts all names across directories and reads /etc/sysctl.conf last; its
    directory list began with /run/sysctl.d until 3.3.16 (procps 24a1574f)."""
    files = loader.config_files(str(run_and_etc), "procps", version=version)
    assert files == [
        ("/usr/lib/sysctl.d/30-vendor.conf", "30-vendor.conf"),
        ("/run/sysctl.d/40-runtime.conf", "40-runtime.conf"),
        ("/%s/sysctl.d/60-same.conf" % first, "60-same.conf"),
        ("/etc/sysctl.d/70-admin.conf", "70-admin.conf"),
        ("/etc/sysctl.conf", "sysctl.conf"),
    ]
    # /run/sysctl.d is empty after a reboot: /etc's file is read then
    persistent = loader.config_files(str(run_and_etc), "procps", persistent_only=True, version=version)
    assert [path for path, dummy in persistent] == [
        "/usr/lib/sysctl.d/30-vendor.conf", "/etc/sysctl.d/60-same.conf", "/etc/sysctl.d/70-admin.conf",
        "/etc/sysctl.conf"]
    # systemd-sysctl's order is its own, whatever procps does
    assert ("/etc/sysctl.d/60-same.conf", "60-same.conf") in loader.config_files(str(run_and_etc), "systemd")


@pytest.mark.parametrize("version, value", [("3.3.15", "0"), ("3.3.16", "0"), ("3.3.17", "2"), ("4.0.2", "2")])
def test_procps_load_reads_the_tree_s_version_order(run_and_etc, version, value):
    write_binary(run_and_etc, "usr/sbin/sysctl", b"%s from %s\n", b"procps-ng " + version.encode())
    keys = ["kernel/kptr_restrict"]
    history = loader.winners(loader.load(str(run_and_etc), "procps")[0], keys, "procps")["kernel/kptr_restrict"]
    assert [a["value"] for a in history][-1] == value
    systemd = loader.winners(loader.load(str(run_and_etc), "systemd")[0], keys)["kernel/kptr_restrict"]
    assert [a["value"] for a in systemd][-1] == "2"
    after_reboot = loader.winners(loader.load(str(run_and_etc), "procps", persistent_only=True)[0], keys, "procps")
    assert [a["value"] for a in after_reboot["kernel/kptr_restrict"]][-1] == "2"


@pytest.mark.parametrize("version", [None, "3.3.17", "4.0.2"])
def test_globs_bare_keys_and_two_dashes_as_each_procps_version_reads_them(tmp_path, version):
    """procps 3.3.17 (Debian 11, Ubuntu 22.04, RHEL 9) writes each line as
    Preload() reads it: a glob is a literal path /proc/sys has not, a bare
    -key is "invalid syntax", and WriteSetting() drops one '-' only, so
    '--key = 2' names '-key'.  4.0.0 added globs and bare keys (procps
    6389deca) and setting_new() drops a second '-'."""
    if version:
        write_binary(tmp_path, "usr/sbin/sysctl", b"procps-ng " + version.encode())
    write(tmp_path, "usr/lib/sysctl.d/50-default.conf",
          "net.ipv4.conf.default.rp_filter = 2\nnet.ipv4.conf.*.rp_filter = 2\n-net.ipv4.conf.all.rp_filter\n")
    write(tmp_path, "etc/sysctl.d/60-site.conf", "kernel.kptr_restrict = 1\n--kernel.kptr_restrict = 2\n")
    keys = ["net/ipv4/conf/eth0/rp_filter", "kernel/kptr_restrict"]
    assignments, warnings = loader.load(str(tmp_path), "procps")
    history = loader.winners(assignments, keys, "procps")
    old = version == "3.3.17"
    assert [a["value"] for a in history["net/ipv4/conf/eth0/rp_filter"]] == ([] if old else ["2"])
    assert history["kernel/kptr_restrict"][-1]["value"] == ("1" if old else "2")
    assert not any("50-default.conf:2:" in w for w in warnings), "passed over silently (IgnoreError)"
    assert any("50-default.conf:3: not an assignment" in w for w in warnings) == old
    assert any("60-site.conf:2: sysctl --system 3.3.17 (procps before 4.0) reads the second '-'" in w
               for w in warnings) == old
    # systemd is told nothing of procps' version
    assert loader.load(str(tmp_path), "systemd")[1] == []


@pytest.mark.parametrize("version", [None, "3.3.17", "4.0.2"])
def test_a_form_feed_around_a_key_or_value_as_each_loader_strips_it(tmp_path, version):
    """procps 4.0's parse_setting_line() strips a line, key and value with
    isspace(): '\\f', '\\v' too, so '\\fkernel.kptr_restrict = 2\\f' writes 2.
    systemd-sysctl's strstrip() and procps 3.3's StripLeadingAndTrailingSpaces()
    strip " \\t\\n\\r" only: the key is one /proc/sys has not, and "2\\f" is a
    write the kernel refuses (kernel_int), so the earlier 1 stays."""
    if version:
        write_binary(tmp_path, "usr/sbin/sysctl", b"procps-ng " + version.encode())
    write(tmp_path, "etc/sysctl.d/60-site.conf", "kernel.kptr_restrict = 1\n\fkernel.kptr_restrict\v= 2\f\n"
          "net.ipv4.conf.all.rp_filter = 1\nnet.ipv4.conf.all.rp_filter = \v2\f \n")
    keys = ["kernel/kptr_restrict", "net/ipv4/conf/all/rp_filter"]
    modern = version != "3.3.17"
    for kind in ("procps", "systemd"):
        history = loader.winners(loader.load(str(tmp_path), kind)[0], keys, kind)
        stripped = kind == "procps" and modern
        assert [a["value"] for a in history["kernel/kptr_restrict"]] == (["1", "2"] if stripped else ["1"]), kind
        last = history["net/ipv4/conf/all/rp_filter"][-1]["value"]
        assert loader.kernel_int(last) == (2 if stripped else None), (kind, last)


@pytest.mark.parametrize("version", ["3.3.15", "3.3.16", "3.3.17"])
def test_the_dash_before_procps_3_3_16_is_part_of_the_key(tmp_path, version):
    """procps a6c0795d taught sysctl the '-' prefix in 3.3.16: RHEL 8's and
    Debian 10's 3.3.15 write '-key', a path /proc/sys has not (WriteSetting())."""
    write_binary(tmp_path, "usr/sbin/sysctl", b"procps-ng " + version.encode())
    write(tmp_path, "etc/sysctl.d/60-site.conf", "kernel.kptr_restrict = 1\n-kernel.kptr_restrict = 2\n")
    assignments, warnings = loader.load(str(tmp_path), "procps")
    history = loader.winners(assignments, ["kernel/kptr_restrict"], "procps")["kernel/kptr_restrict"]
    old = version == "3.3.15"
    assert history[-1]["value"] == ("1" if old else "2")
    assert len(warnings) == (1 if old else 0)
    assert not old or warnings[0].endswith("/etc/sysctl.d/60-site.conf:2: sysctl --system 3.3.15 (procps before "
                                           "3.3.16) reads the '-' as part of the key, a key the kernel has not: "
                                           "the line sets nothing: -kernel.kptr_restrict = 2")


@pytest.mark.parametrize("version", [None, "4.0.4", "4.0.5"])
def test_a_bare_glob_excludes_what_it_matches_from_procps_4_0_5(tmp_path, version):
    """procps 4.0.5's settinglist_findpath() skips a glob's match that a bare
    glob fnmatch()es (src/sysctl.c); 4.0.4 compares names with strcmp() only."""
    if version:
        write_binary(tmp_path, "usr/sbin/sysctl", b"procps-ng " + version.encode())
    write(tmp_path, "usr/lib/sysctl.d/50-default.conf", "net.ipv4.conf.*.rp_filter = 2\n")
    write(tmp_path, "etc/sysctl.d/60-site.conf", "-net.ipv4.conf.e*.rp_filter\n")
    keys = ["net/ipv4/conf/eth0/rp_filter", "net/ipv4/conf/lo/rp_filter"]
    history = loader.winners(loader.load(str(tmp_path), "procps")[0], keys, "procps")
    assert [a["value"] for a in history["net/ipv4/conf/eth0/rp_filter"]] == ([] if version == "4.0.5" else ["2"])
    assert [a["value"] for a in history["net/ipv4/conf/lo/rp_filter"]] == ["2"]


@pytest.mark.parametrize("loader_name", ["systemd", "procps"])
def test_globs_of_thousands_of_unclosed_brackets_are_read_in_linear_time(tmp_path, loader_name):
    """fnmatch.translate looks for the ']' of every '[' to the pattern's end:
    a glob or a procps 4.0.5 bare glob of 40,000 unclosed '[' took minutes.
    An unclosed '[' is a literal '[' (no interface has one in its name)."""
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "modules"))
    from hostile import alarm
    write_binary(tmp_path, "usr/sbin/sysctl", b"procps-ng 4.0.5")
    write(tmp_path, "etc/sysctl.d/60-site.conf", "net.ipv4.conf.*.rp_filter = 2\n"
          "net.ipv4.conf.*.rp_filter" + "[" * 40000 + " = 0\n-net.ipv4.conf." + "[!" * 40000 + ".rp_filter\n"
          "net.ipv4.conf.[e[]*.rp_filter = 1\n")
    keys = ["net/ipv4/conf/eth0/rp_filter", "net/ipv4/conf/[x/rp_filter"]
    with alarm(30):
        history = loader.winners(loader.load(str(tmp_path), loader_name)[0], keys, loader_name)
    assert [a["value"] for a in history["net/ipv4/conf/eth0/rp_filter"]] == ["2", "1"]
    assert [a["value"] for a in history["net/ipv4/conf/[x/rp_filter"]] == ["2", "1"]


@pytest.mark.parametrize("loader_name", ["systemd", "procps"])
def test_globs_are_matched_as_glibc_matches_them(tmp_path, loader_name):
    """Both loaders expand a glob with glibc's glob(3): a POSIX class, a "^" set and a backslash escape
    mean there what they mean to fnmatch(3) (Python's fnmatch knew no class, read [^e] as a set of ^ and
    e and a backslash as itself: the rp_filter=0 reached no interface).  Checked against the real
    loaders in test_sysctl_real_loaders.py."""
    write_binary(tmp_path, "usr/sbin/sysctl", b"procps-ng 4.0.2")
    write(tmp_path, "etc/sysctl.d/60-site.conf", "net.ipv4.conf.[[:alpha:]]*.rp_filter = 0\n"
          "net.ipv4.conf.[^e]*.send_redirects = 1\nnet.ipv4.conf.\\e*.accept_redirects = 1\n")
    keys = ["net/ipv4/conf/eth0/rp_filter", "net/ipv4/conf/lo/send_redirects", "net/ipv4/conf/eth0/send_redirects",
            "net/ipv4/conf/eth0/accept_redirects"]
    history = loader.winners(loader.load(str(tmp_path), loader_name)[0], keys, loader_name)
    assert [[a["value"] for a in history[key]] for key in keys] == [["0"], ["1"], [], ["1"]]


def test_a_systemd_sysctl_that_cannot_be_read_tells_no_version(tmp_path, monkeypatch):
    write_binary(tmp_path, "usr/lib/systemd/systemd-sysctl", b"systemd 219")
    monkeypatch.setattr(loader, "MAX_BINARY_SIZE", 16)
    assert loader.systemd_version(str(tmp_path)) is None


def test_systemd_sysctl_outside_the_tree_is_not_read(tmp_path):
    outside = write_binary(tmp_path / "host", "usr/lib/systemd/systemd-sysctl", b"systemd 219")
    root = tmp_path / "tree"
    os.makedirs(str(root / "usr/lib/systemd"))
    os.symlink(outside, str(root / "usr/lib/systemd/systemd-sysctl"))
    os.symlink("../host/usr/lib", str(root / "lib"))  # .. at the root stays at the root
    assert loader.systemd_version(str(root)) is None


def test_a_systemd_binary_is_read_once_per_process_until_it_changes(tmp_path, monkeypatch):
    """systemd_version is asked some 9 times in one compliance run: a 32 MiB
    systemd-sysctl (or RHEL 8's library) was read and scanned each time, a
    second or two apiece; the versions found are kept by the file's identity."""
    reads = []

    def counted(handle, limit):
        reads.append(handle.name)
        return real(handle, limit)
    real = target_module.read_at_most
    monkeypatch.setattr(target_module, "read_at_most", counted)
    monkeypatch.setattr(loader, "read_at_most", counted, raising=False)
    path = write_binary(tmp_path, "usr/lib/systemd/systemd-sysctl", b"systemd 219", b"\0" * 4096)
    assert [loader.systemd_version(str(tmp_path)) for dummy in range(3)] == [219, 219, 219]
    assert len(reads) == 1
    write_binary(tmp_path, "usr/lib/systemd/systemd-sysctl", b"systemd 229\n")   # replaced: read again
    assert loader.systemd_version(str(tmp_path)) == 229 and len(reads) == 2
    os.truncate(path, loader.MAX_BINARY_SIZE + 1)
    assert [loader.systemd_version(str(tmp_path)) for dummy in range(2)] == [None, None]
    assert len(reads) == 3


def test_a_fifo_or_device_at_systemd_sysctl_s_path_is_not_opened(tmp_path):
    os.makedirs(str(tmp_path / "usr/lib/systemd"))
    os.mkfifo(str(tmp_path / "usr/lib/systemd/systemd-sysctl"))   # opening it would block
    write_binary(tmp_path, "lib/systemd/systemd-sysctl", b"systemd 219")
    assert loader.systemd_version(str(tmp_path)) == 219
    library = str(tmp_path / "usr/lib/systemd/libsystemd-shared-239.so")
    os.symlink("/dev/zero", library)   # resolved in the tree: nothing there
    assert loader.systemd_version(str(tmp_path)) == 239
    if os.geteuid() == 0:
        os.remove(library)
        os.mknod(library, stat.S_IFCHR | 0o644, os.makedev(1, 5))   # /dev/zero itself: never read
        assert loader.systemd_version(str(tmp_path)) == 239


@pytest.mark.parametrize("tree, rp_filter, redirects, dash_warning, glob_warning", [
    ("centos7", "1", None, True, True),
    ("ubuntu1604", "1", None, True, True),
    ("rhel8.5", "1", None, True, True),
    ("rhel8.6", "0", None, False, True),      # the '-' backported, globs not
    ("debian12", "0", "0", False, False),
    ("unknown", "0", "0", False, False),
])
def test_dashes_and_globs_as_each_distribution_reads_them(tmp_path, tree, rp_filter, redirects, dash_warning,
                                                          glob_warning):
    """RHEL 8's systemd-sysctl reads the '-' since 239-57.el8 (redhat-plumbers/systemd-rhel8
    516fc73142, a backport of systemd#13191) but no glob: the file of RHEL 8.10 has no
    glob code, and a bare -key is still "not an assignment"."""
    TREES[tree](tmp_path)
    write(tmp_path, "etc/sysctl.d/50-site.conf",
          "net.ipv4.conf.all.rp_filter = 1\n"
          "-net.ipv4.conf.all.rp_filter = 0\n"
          "net.ipv4.conf.*.send_redirects = 0\n"
          "-net.ipv4.conf.eth1.send_redirects\n")
    assignments, warnings = loader.load(str(tmp_path), "systemd")
    keys = ["net/ipv4/conf/all/rp_filter", "net/ipv4/conf/all/send_redirects"]
    history = loader.winners(assignments, keys, "systemd")
    assert [history[key][-1]["value"] if history[key] else None for key in keys] == [rp_filter, redirects]
    assert any("reads the '-' as part of the key" in w and ":2:" in w for w in warnings) == dash_warning
    assert any("reads no globs" in w and ":3:" in w for w in warnings) == glob_warning
    # a bare -key sets nothing before 245: "not an assignment", or the '-' read as part of the key
    assert any(":4: not an assignment" in w for w in warnings) == (glob_warning and not dash_warning)
    assert any(":4:" in w for w in warnings) == glob_warning


@pytest.mark.parametrize("tree, version", [("unknown", None), ("debian12", 252), ("243", 243), ("245", 245),
                                           ("rhel8.6", 239)])
def test_a_blank_after_the_dash_before_systemd_245(tmp_path, tree, version):
    """243 and 244 (and RHEL 8's backport) strip the key before taking the '-' off
    (v243 src/sysctl/sysctl.c parse_file()): "- key" writes /proc/sys/ key, which
    does not exist; 245 strips the key after it."""
    if tree in TREES:
        TREES[tree](tmp_path)
    else:
        write(tmp_path, "usr/lib/systemd/libsystemd-shared-%s.so" % tree, "")
    write(tmp_path, "etc/sysctl.d/a.conf", "- net.ipv4.ip_forward = 1\n-net.ipv4.ip_forward=0\n")
    assignments, warnings = loader.load(str(tmp_path), "systemd")
    modern = version is None or version >= 245
    assert [(a["key"], a["value"]) for a in assignments] == (
        [("net/ipv4/ip_forward", "1")] if modern else []) + [("net/ipv4/ip_forward", "0")]
    assert warnings == ([] if modern else [
        "%s/etc/sysctl.d/a.conf:1: a blank after '-': systemd-sysctl %d (before 245) reads the key with the blank, "
        "a key the kernel has not, and sets nothing: - net.ipv4.ip_forward = 1" % (tmp_path, version)])


def _glob_matches_reference(key, pattern):
    # glob_matches() as it was before glob_matcher(): fnmatch asked for every component
    import fnmatch
    names, parts = key.split("/"), pattern.split("/")
    if len(names) != len(parts):
        return False
    for name, part in zip(names, parts):
        wild = any(char in part for char in "*?[") and not loader.LITERAL_GLOB.match(part)
        if name == loader.LATER_INTERFACE:
            if not wild:
                return False
        elif name.startswith(".") and wild and not part.startswith("."):
            return False
        elif not fnmatch.fnmatchcase(name, part):
            return False
    return True


def test_winners_asking_only_the_globs_that_name_a_key_is_unchanged(monkeypatch):
    """winners() asks each distinct glob once per key, and only globs of the
    key's length and last component, and keys reached by the same lines
    share one history: its histories are those of asking every line of
    every key (checked on 20000 random files when written)."""
    import random
    names = ["eth0", "all", "default", "lo", ".hid", "e*", "[*]x", "*", "?th0", ".*", "[!e]*", "eth[0-1]", "[.]h"]
    leaves = ["rp_filter", "forwarding", "accept_redirects", "*", "send_*"]
    others = ["net/ipv4/ip_forward", "net/ipv4/ip_*", "net/*/ip_forward", "kernel/kptr_restrict", "*/*/*/*/*"]

    def key(chance, plain=False):
        if chance.random() < 0.1:
            return chance.choice(others[:1] + others[3:4] if plain else others)
        name = chance.choice([n for n in names if not plain or not any(c in n for c in "*?[")])
        return "net/ipv4/conf/%s/%s" % (name, chance.choice(leaves[:3] if plain else leaves))

    def reference(assignments, keys, kind):
        with monkeypatch.context() as patched:
            patched.setattr(loader, "glob_matches", _glob_matches_reference)
            patched.setattr(loader, "_glob_index", lambda: _glob_matches_reference)
            patched.setattr(loader, "_reaching", every_line)
            return loader.winners(assignments, keys, kind)

    def every_line(items, first=lambda item: item, matches=None):
        kept = []   # alive while winners() runs, as _reaching's lists are: their ids key what it shares

        def candidates(key, explicit=None):
            kept.append([item for item in items if loader._writes(
                first(item), key, () if explicit is None else explicit, _glob_matches_reference)])
            return kept[-1]
        return candidates

    for seed in range(300):
        chance = random.Random(seed)
        assignments = []
        for number in range(chance.randint(0, 25)):
            written = key(chance)
            assignments.append({"key": written, "value": None if chance.random() < 0.15 else chance.choice("012x"),
                                "line": number + 1, "text": written, "ignore_failure": False, "file": "f",
                                "glob": any(c in written for c in "*?[") and chance.random() < 0.95})
        keys = sorted(set([key(chance, True) for dummy in range(chance.randint(0, 12))] + [
            loader.FORWARDING, loader.RESET_BY_FORWARDING, loader.later_interface_key(chance.choice(leaves[:3]))]))
        for kind in loader.LOADERS:
            assert loader.winners(assignments, keys, kind) == reference(assignments, keys, kind), (seed, kind)
