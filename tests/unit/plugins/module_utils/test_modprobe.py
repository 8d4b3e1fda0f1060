"""modprobe.d and the kernel command line read as kmod reads them
(libkmod/libkmod-config.c, shared/util.c): what keeps a driver from loading."""

import os

from ansible_collections.guestready.gce.plugins.module_utils import kernel_cmdline, modalias, modprobe
from ansible_collections.guestready.gce.plugins.module_utils.target import Target


def blocked(text, source="/etc/modprobe.d/x.conf"):
    """``{module: [line numbers]}`` of one configuration file."""
    return dict((module, [w["line"] for w in where])
                for module, where in modprobe.text_blocks([(source, text)]).items())


def test_a_doubled_backslash_at_the_end_is_a_backslash_not_a_continuation():
    # freadline_wrapped: "\\" keeps one backslash; only an odd one joins the next line
    assert blocked("blacklist evbug\\\\\nblacklist virtio_net\n") == {"evbug\\": [1], "virtio_net": [2]}
    assert blocked("blacklist \\\nvirtio_net\n") == {"virtio_net": [1]}


def test_a_backslash_keeps_the_character_after_it():
    assert blocked("blacklist virtio\\_net\n") == {"virtio_net": [1]}


def test_a_carriage_return_stays_in_the_name():
    # kmod splits at blanks and tabs only: "blacklist virtio_net\r" names "virtio_net\r"
    assert "virtio_net" not in blocked("blacklist virtio_net\r\nblacklist\tgve \r\n")
    assert "gve" in blocked("blacklist virtio_net\r\nblacklist\tgve \r\n")


def installs(text, module, resolves=None):
    return [w["line"] for w in modprobe.text_blocks([("/etc/modprobe.d/x.conf", text)]).install(module, resolves)]


def test_the_first_install_line_matching_a_module_counts_and_its_module_is_a_pattern():
    # kmod_module_get_install_commands: fnmatch(modname, mod->name), the first one only
    assert installs("install virtio_* /bin/false\n", "virtio_net") == [1]
    assert installs("install virtio_net /sbin/modprobe --ignore-install virtio_net\n"
                    "install virtio_net /bin/true\n", "virtio_net") == []
    assert installs("install virtio-[a-z]et /bin/true\n", "virtio_net") == [1]
    assert installs("install virtio_[A-Z]et /bin/true\ninstall virtio_net /bin/sh -c :\n", "virtio_net") == []
    assert installs("install virtio_[n]et /bin/true\n", "virtio_net") == [1]


def test_a_softdep_cancels_the_install_command_when_it_names_a_module_found():
    # __kmod_module_fill_softdep: ignorecmd = (pre != NULL || post != NULL)
    text = "softdep virtio_net pre: crc32c\ninstall virtio_net /bin/false\n"
    assert installs(text, "virtio_net") == []
    assert installs(text, "virtio_net", resolves=lambda name: False) == [2]
    assert installs("softdep virtio_net\ninstall virtio_net /bin/false\n", "virtio_net") == [2]


def test_a_softdep_names_end_at_any_c_space_a_carriage_return_too():
    """kmod_config_add_softdep() splits its names at isspace(): in a file with CRLF line ends
    the last name is crc32c, which resolves and cancels the install command; it was read as
    "crc32c\\r", a module not found, and the driver judged blocked (test_modprobe_real_kmod.py
    compares with kmod's own parse)."""
    text = "softdep virtio_net pre: crc32c\r\ninstall virtio_net /bin/false\n"
    assert installs(text, "virtio_net", resolves=lambda name: name == "crc32c") == []
    text = "softdep virtio_net pre:\x0bcrc32c\x0cpost:\x0bx\ninstall virtio_net /bin/false\n"
    assert installs(text, "virtio_net", resolves=lambda name: name == "crc32c") == []
    # without the softdep, "/bin/false\r" is no command the shell finds: nothing is loaded either
    assert installs("install virtio_net /bin/false\r\n", "virtio_net") == [1]


def test_a_bracket_never_closed_is_a_bad_line():
    # underscores() refuses it; "-" inside [...] stays as written
    assert blocked("blacklist virtio_[net\nblacklist virtio]net\n") == {}
    assert modprobe.module_name("a-b[-_]c-d") == "a_b[-_]c_d"


def test_only_the_last_module_blacklist_counts_and_every_modprobe_blacklist():
    # module_blacklist is a charp core_param: a later one replaces it (kernel/params.c, param_set_charp)
    line = {"source": "/etc/default/grub", "line": 1, "cmdline":
            "module_blacklist=virtio_net modprobe.blacklist=gve module-blacklist=nvme modprobe.blacklist=virtio_scsi"}
    assert sorted(modprobe.cmdline_blocks([line])) == ["gve", "nvme", "virtio_scsi"]
    line["cmdline"] = "module_blacklist=virtio_net module_blacklist= module_blacklist"
    assert modprobe.cmdline_blocks([line]) == {}


def test_kmod_reads_modprobe_blacklist_from_proc_cmdline_with_its_quotes():
    # libkmod-config.c kmod_config_parse_kcmdline keeps the quotes in the value: "a,b" blacklists
    # '"a' and 'b"', and it reads past "--"; the kernel takes them off module_blacklist= (next_arg)
    line = {"source": "/proc/cmdline", "line": 1, "kind": "running",
            "cmdline": 'modprobe.blacklist="gve,virtio_net,nvme" module_blacklist="virtio_pci" -- modprobe.blacklist=virtio_scsi'}
    assert sorted(modprobe.cmdline_blocks([line])) == ['"gve', 'nvme"', "virtio_net", "virtio_pci", "virtio_scsi"]
    # a line GRUB boots reaches /proc/cmdline without them (its lexer takes them off)
    line = dict(line, kind="grub.cfg", source="/boot/grub/grub.cfg")
    assert sorted(modprobe.cmdline_blocks([line])) == ["gve", "nvme", "virtio_net", "virtio_pci"]
    assert kernel_cmdline.kmod_options('"modprobe.blacklist=a b" x"y.z=1" c.d e.f=1') == [
        ("modprobe", 'blacklist="a b"'), ("c", "d"), ("e", "f=1")]


def test_aliases_of_the_configuration_override_the_tables():
    found = modprobe.text_blocks([("/etc/modprobe.d/x.conf", "alias pci:v00001AE0d00000042* my-gve\n")])
    assert [w["line"] for w in found.alias_override("pci:v00001AE0d00000042sv00001AE0sd00000058bc02sc00i00", "gve")] == [1]
    assert found.alias_override("pci:v00001AE0d00000042sv00001AE0sd00000058bc02sc00i00", "my_gve") == []
    assert found.alias_override("pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00", "virtio_pci") == []
    assert found   # a configuration of aliases alone is not empty


def test_a_directory_or_a_dangling_link_named_conf_hides_nothing(tmp_path):
    # conf_files_filter_out drops them before conf_files_insert_sorted: the later file of the name counts
    root = tmp_path / "root"
    for directory in ("etc/modprobe.d", "usr/lib/modprobe.d", "lib/modprobe.d"):
        (root / directory).mkdir(parents=True)
    (root / "etc/modprobe.d/a.conf").mkdir()
    (root / "usr/lib/modprobe.d/a.conf").write_text("blacklist gve\n")
    os.symlink("/nowhere.conf", str(root / "etc/modprobe.d/b.conf"))
    (root / "lib/modprobe.d/b.conf").write_text("blacklist virtio_net\n")
    os.symlink("/dev/null", str(root / "etc/modprobe.d/c.conf"))
    (root / "lib/modprobe.d/c.conf").write_text("blacklist nvme\n")
    assert sorted(modprobe.blocks(Target(str(root)))) == ["gve", "virtio_net"]


def test_many_install_patterns_are_not_each_matched(monkeypatch):
    # a hostile file of many lines: a pattern whose literal start differs is passed by a string
    # comparison, not tokenized (and cached) for fnmatch
    found = modprobe.text_blocks([("x.conf", "".join("install a%d* /bin/true\n" % n for n in range(20000))
                                   + "install virtio_* /bin/false\n")])
    matched = []

    def counting(pattern, text):
        matched.append(pattern)
        return modalias.fnmatch(pattern, text)
    monkeypatch.setattr(modprobe, "fnmatch", counting)
    assert [w["line"] for w in found.install("virtio_net")] == [20001]
    assert matched == ["virtio_*"]
