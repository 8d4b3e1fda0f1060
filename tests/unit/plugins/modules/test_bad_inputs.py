"""Bad user input to the modules: a clear failure naming the option and its
value, never a traceback and never a verdict on something the user did not
mean (an empty root taken for the running system, a root that does not
exist judged as an empty tree)."""

import os

import pytest

from ansible_collections.guestready.gce.plugins.modules import (
    compliance, compliance_info, disk_image, guest_hardware_info, kernel_config_info, sysctl_baseline, sysctl_baseline_info)

# (module, the options that name the tree, the prefix of the message)
TREE_OPTIONS = [
    (sysctl_baseline_info, lambda root: {"root": root}, ""),
    (sysctl_baseline, lambda root: {"root": root, "apply_live": "never"}, ""),
    (kernel_config_info, lambda root: {"source": "installed", "root": root}, ""),
    (guest_hardware_info, lambda root: {"root": root, "mode": "offline"}, ""),
    (compliance_info, lambda root: {"areas": ["sysctl"], "sysctl": {"root": root}}, "sysctl: "),
    (compliance, lambda root: {"areas": ["sysctl"], "sysctl": {"root": root}}, "sysctl: "),
    (compliance_info, lambda root: {"areas": ["kernel_config"], "kernel_config": {"root": root}}, "kernel_config: "),
    (compliance_info, lambda root: {"areas": ["hardware"], "hardware": {"root": root}}, "hardware: "),
    (compliance_info, lambda root: {"areas": ["gce_settings"], "gce_settings": {"root": root}}, "gce_settings: "),
]


@pytest.mark.parametrize("module,options,prefix", TREE_OPTIONS)
def test_an_empty_root_is_refused_not_taken_for_the_running_system(module, options, prefix, run_module):
    """root: "" (an inventory variable set to nothing) read the running
    system's files as if they were an image's, and an apply wrote them
    (check mode here: this test never writes the machine's /etc)."""
    out = run_module(module, options(""), check_mode=True)
    assert out["failed"] is True and "results" not in out
    assert out["msg"].startswith(prefix + "root: ''") and "empty" in out["msg"]


@pytest.mark.parametrize("module,options,prefix", TREE_OPTIONS)
@pytest.mark.parametrize("kind", ["missing", "file"])
def test_a_root_that_is_not_a_directory_is_named(module, options, prefix, kind, tmp_path, run_module):
    """A mistyped root was judged as an empty tree: every sysctl ID failed, as
    if the image were not hardened."""
    root = tmp_path / "image"
    if kind == "file":
        root.write_text("not a tree\n")
    out = run_module(module, options(str(root)), check_mode=True)
    assert out["failed"] is True and "results" not in out
    assert out["msg"].startswith("%sroot: %s is not a directory" % (prefix, root))
    assert not os.path.isdir(str(root)), "nothing created"


def test_a_relative_root_is_named_with_where_it_was_looked_for(tmp_path, run_module, monkeypatch):
    monkeypatch.chdir(str(tmp_path))
    out = run_module(sysctl_baseline_info, {"root": "image"}, check_mode=True)
    assert out["failed"] is True
    assert out["msg"] == "root: image is not a directory (%s: no such file or directory)" % (tmp_path / "image")
    (tmp_path / "image").mkdir()
    out = run_module(sysctl_baseline_info, {"root": "image"}, check_mode=True)
    assert out["rc"] == 0, "a relative root that exists is the user's choice"


@pytest.mark.parametrize("module,options", [
    (guest_hardware_info, {"mode": "live"}),
    (compliance_info, {"areas": ["hardware"], "hardware": {"mode": "live"}}),
])
def test_a_sysfs_root_that_is_not_a_directory_is_named(module, options, tmp_path, run_module):
    """A mistyped sysfs_root failed every live HW-* ID ("no PCI bus")."""
    sysfs = str(tmp_path / "sys")
    if "hardware" in options:
        options = dict(options, hardware=dict(options["hardware"], sysfs_root=sysfs))
    else:
        options = dict(options, sysfs_root=sysfs)
    out = run_module(module, options)
    assert out["failed"] is True
    assert "sysfs_root: %s is not a directory" % sysfs in out["msg"]


@pytest.mark.parametrize("module", [compliance, compliance_info])
def test_no_area_at_all_is_refused_not_a_pass(module, run_module):
    """areas: [] (a filtered inventory list that kept nothing) checked
    nothing and ended as a passing task with no result."""
    out = run_module(module, {"areas": []}, check_mode=True)
    assert out["failed"] is True and "results" not in out
    assert out["msg"].startswith("areas: [] selects no area") and "sysctl, kernel_config" in out["msg"]


@pytest.mark.parametrize("name", ["zz.conf", "/etc/sysctl.d/zz-mine", "/etc/zz.conf", "/etc/sysctl.d/", "",
                                  "/etc/sysctl.d/.zz.conf", "/run/sysctl.d/zz.conf", "/etc/sysctl.d/../zz.conf",
                                  "/etc/sysctl.d/sub/zz.conf"])
@pytest.mark.parametrize("module,options", [
    (sysctl_baseline, lambda root, name: {"root": root, "file": name, "apply_live": "never"}),
    (sysctl_baseline_info, lambda root, name: {"root": root, "file": name}),
    (compliance, lambda root, name: {"areas": ["sysctl"], "sysctl": {"root": root, "file": name}}),
])
def test_a_drop_in_the_boot_loader_never_reads_is_refused(module, options, name, tmp_path, run_module):
    """file: zz.conf (the tree's top), a name without .conf or in /etc: the
    drop-in was written where systemd-sysctl never reads it, every ID failed
    and the run ended changed and green."""
    root = tmp_path / "image"
    (root / "etc" / "sysctl.d").mkdir(parents=True)
    out = run_module(module, options(str(root), name))
    assert out["failed"] is True
    assert "file: %r is not read at boot" % name in out["msg"] and "/etc/sysctl.d/" in out["msg"]
    assert [os.path.join(d, n) for d, dummy, names in os.walk(str(root)) for n in names] == [], "nothing written"


@pytest.mark.parametrize("name", ["/etc/sysctl.d/zz-mine.conf", "etc/sysctl.d/zz-mine.conf", "/usr/lib/sysctl.d/zz-é.conf"])
def test_a_drop_in_in_a_directory_the_boot_loader_reads_is_written(name, tmp_path, run_module):
    root = tmp_path / "image"
    (root / "etc" / "sysctl.d").mkdir(parents=True)
    out = run_module(sysctl_baseline, {"root": str(root), "file": name, "apply_live": "never"})
    assert out["rc"] == 0 and out["summary"]["pass"] == 22
    assert os.path.isfile(os.path.join(str(root), name.lstrip("/")))


def test_etc_sysctl_conf_is_judged_never_written(tmp_path, run_module):
    """The loaders read /etc/sysctl.conf (procps last; systemd through Debian's
    99-sysctl.conf link): it may be the file judged, never the one written."""
    root = tmp_path / "image"
    (root / "etc" / "sysctl.d").mkdir(parents=True)
    (root / "etc" / "sysctl.conf").write_text("kernel.kptr_restrict = 1\n")
    out = run_module(sysctl_baseline_info, {"root": str(root), "file": "/etc/sysctl.conf"})
    assert out.get("failed") is not True, out.get("msg")
    for module, options in ((sysctl_baseline, {"apply_live": "never"}), (compliance, None)):
        params = dict(root=str(root), file="/etc/sysctl.conf", **(options or {}))
        out = run_module(module, params if options else {"areas": ["sysctl"], "sysctl": params})
        assert out["failed"] is True and "the administrator's own file" in out["msg"], out["msg"]
    assert (root / "etc" / "sysctl.conf").read_text() == "kernel.kptr_restrict = 1\n"


@pytest.mark.parametrize("connection, said", [
    ({"user": "bob", "auth": "passwd"}, "passwd"),
    ({"user": "bob", "usr": "alice"}, "usr"),
])
def test_a_mistyped_connection_is_refused_not_guessed(connection, said, tmp_path, run_module):
    """An auth the lock-out guard does not know was taken for auto (guessed
    from authorized_keys), and an unknown key was ignored: a password user
    could pass the guard of an SSH change that refuses passwords."""
    out = run_module(compliance, {"areas": ["gce_settings"], "apply": ["gce_settings"],
                                  "gce_settings": {"root": str(tmp_path), "connection": connection}},
                     check_mode=True)
    assert out["failed"] is True, out
    assert out["msg"].startswith("gce_settings: ") and said in out["msg"] and "connection" in out["msg"], out["msg"]


def test_connection_auth_in_any_case_is_accepted(tmp_path, run_module):
    out = run_module(compliance, {"areas": ["gce_settings"], "apply": ["gce_settings"],
                                  "gce_settings": {"root": str(tmp_path), "connection": {"user": "bob", "auth": "PublicKey"}}},
                     check_mode=True)
    assert "connection" not in (out.get("msg") or ""), out.get("msg")


@pytest.mark.parametrize("area, options, said", [
    ("sysctl", {"neutralise": "all"}, "neutralise"),
    ("kernel_config", {"sourc": "installed"}, "sourc"),
    ("gce_settings", {"connection": {"usr": "alice"}}, "connection.usr"),
])
def test_an_unknown_area_option_is_called_unsupported(area, options, said, run_module):
    """The area's option check said only 'sysctl: neutralise. Supported
    parameters include: ...', never what was wrong with neutralise."""
    out = run_module(compliance, {"areas": [area], area: options}, check_mode=True)
    assert out["failed"] is True
    assert out["msg"].startswith("%s: unsupported parameters: %s. Supported parameters include: " % (area, said)), out["msg"]


@pytest.fixture
def untouched_disk(tmp_path, monkeypatch):
    """A disk file that the test fails on if the module looks at it or starts the worker."""
    def touched(*args, **kwargs):
        raise AssertionError("the disk was looked at")
    for name in ("content_kind", "describe_disk"):
        monkeypatch.setattr(disk_image.diskimage.imagefile, name, touched)
    monkeypatch.setattr(disk_image.diskimage.imageworker, "spawn", touched)
    disk = tmp_path / "disk.raw"
    disk.write_bytes(b"\x00" * 4096)
    return disk


@pytest.mark.parametrize("timeout", [0, -60])
def test_a_timeout_below_one_second_is_refused_before_the_disk_is_touched(timeout, untouched_disk, run_module):
    """timeout: 0 (read as "no limit", as many tools do) set the worker's own alarm to an hour
    but stopped it after the 30 s cleanup margin, saying it "did not finish within 0 s"; a
    negative one stopped it at once."""
    out = run_module(disk_image, {"path": str(untouched_disk), "timeout": timeout})
    assert out["failed"] is True
    assert out["msg"] == ("timeout: %s is not a number of seconds the work on the disk may take; give 1 or more "
                          "(default 1800)" % timeout)


@pytest.mark.parametrize("options, said", [
    ({"sysctl": "neutralize=all"}, "area_options.sysctl: the options of an area are a mapping of option to value, "
                                   "got str 'neutralize=all'"),
    ({"gce_settings": ["generalize"]}, "area_options.gce_settings: the options of an area are a mapping of option "
                                       "to value, got list ['generalize']"),
    ({"sysctl": {"neutralise": "all"}}, "area_options.sysctl: unsupported parameters: neutralise. Supported "
                                        "parameters include: "),
    ({"kernel_config": {"source": "path"}}, "area_options.kernel_config: source is path but all of the following "
                                            "are missing: path"),
])
def test_area_options_are_checked_before_the_disk_is_touched(options, said, untouched_disk, run_module):
    """An area's options that were not a mapping reached the worker's params.update() on the
    mounted image: 'internal error in the image worker: ValueError: dictionary update sequence
    element #0 has length 1; 2 is required'; a misspelt option was found only after the
    image was attached and mounted."""
    out = run_module(disk_image, {"path": str(untouched_disk), "area_options": options})
    assert out["failed"] is True and out["msg"].startswith(said), out["msg"]


def test_the_worker_takes_the_area_options_that_pass_the_early_check(tmp_path):
    from ansible_collections.guestready.gce.plugins.module_utils import imageworker
    from ansible_collections.guestready.gce.plugins.module_utils.target import Target
    options = {"sysctl": {"neutralize": "all", "root": "/elsewhere"}, "kernel_config": None, "hardware": {}}
    disk_image.diskimage._check_areas({"areas": None, "apply": None, "area_options": options})
    work, skipped = imageworker._area_work({"areas": None, "apply": None, "mode": "harden", "area_options": options},
                                           str(tmp_path), None, Target(str(tmp_path)))
    params = dict((area.name, validated) for area, validated, applying in work)
    assert params["sysctl"]["neutralize"] == "all" and params["sysctl"]["root"] == str(tmp_path)
    assert params["kernel_config"]["source"] == "installed" and params["hardware"]["mode"] == "offline"


@pytest.mark.parametrize("module, options, said", [
    (sysctl_baseline, {"file": "/etc/sysctl.d/\0.conf"}, r"etc/sysctl.d/\x00.conf': not a path"),
    (kernel_config_info, {"source": "path", "path": "/boot/config\0"}, r"boot/config\x00': not a path"),
    (kernel_config_info, {"source": "installed", "kernel_release": "6.1\0"}, "kernel_release: 6.1\0 is not installed"),
    (guest_hardware_info, {"kernel_release": "6.1\0"}, "kernel_release: no "),
    (guest_hardware_info, {"initramfs": "/boot/initrd.img\0"}, "initramfs: "),
    (compliance_info, {"areas": ["kernel_config"], "kernel_config": {"source": "installed", "kernel_release": "6.1\0"}},
     "kernel_config: kernel_release: 6.1\0 is not installed"),
])
def test_a_nul_byte_in_a_path_option_is_a_clear_failure(module, options, said, tmp_path, run_module):
    """A NUL byte in an option naming a file inside the tree (a templated
    value gone wrong) ended the module with a traceback: ValueError
    'embedded null byte' from the first system call given the path."""
    root = tmp_path / "image"
    (root / "etc" / "sysctl.d").mkdir(parents=True)
    (root / "boot").mkdir()
    (root / "boot" / "config-6.2").write_text("CONFIG_64BIT=y\n")
    (root / "lib" / "modules" / "6.2").mkdir(parents=True)
    options = dict(options)
    if "areas" in options:
        options["kernel_config"] = dict(options["kernel_config"], root=str(root))
    else:
        options["root"] = str(root)
    out = run_module(module, options, check_mode=True)
    assert out["failed"] is True and said in out["msg"], out["msg"]
    assert "Traceback" not in out["msg"] and "embedded null byte" not in out["msg"]
