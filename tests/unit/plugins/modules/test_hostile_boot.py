"""Hostile boot-loader inputs."""
import os
import sys

import pytest
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "module_utils"))
from hostile import alarm, put
from ansible_collections.guestready.gce.plugins.module_utils import bootloader, kernel_cmdline
from ansible_collections.guestready.gce.plugins.module_utils.configfiles import ConfigError
from ansible_collections.guestready.gce.plugins.module_utils.target import Target


# --- 1. quadratic shell_value: a long run of '$' in /etc/default/grub --------
N = 2 * 1024 * 1024   # 2 MiB line: below both size limits (32 MiB / 4 MiB)


def test_grubconfig_reads_a_long_run_of_dollars_in_linear_time(tmp_path):
    put(tmp_path, "/etc/default/grub", "GRUB_CMDLINE_LINUX=" + "$" * N + "\n")
    put(tmp_path, "/boot/grub/grub.cfg", "set timeout=1\n")
    with alarm(30):
        config = bootloader.GrubConfig(Target(str(tmp_path)))
    assert config.variables["GRUB_CMDLINE_LINUX"].count("$") == N


def test_kernel_cmdline_reads_a_long_run_of_dollars_in_linear_time(tmp_path):
    put(tmp_path, "/etc/default/grub", "GRUB_CMDLINE_LINUX=" + "$" * N + "\n")
    with alarm(30):
        kernel_cmdline.find(str(tmp_path))


def test_grubconfig_reads_nested_arithmetic_in_double_quotes_in_linear_time(tmp_path):
    # each $(( inside the quotes looked for its closing )) through the rest of the value
    depth = N // 8
    put(tmp_path, "/etc/default/grub", 'GRUB_CMDLINE_LINUX="' + "$(( " * depth + "1" + " ))" * depth + '"\n')
    put(tmp_path, "/boot/grub/grub.cfg", "set timeout=1\n")
    with alarm(30):
        config = bootloader.GrubConfig(Target(str(tmp_path)))
    assert isinstance(config.variables["GRUB_CMDLINE_LINUX"], bootloader.Unknown)


# --- 2. grub.cfg that is a FIFO / not a regular file: silently "absent" ------
def test_serial_console_is_unknown_when_grub_cfg_is_a_fifo(tmp_path, run_module):
    from test_gce_settings import debian_image, by_id
    from ansible_collections.guestready.gce.plugins.modules import compliance_info
    root = debian_image(tmp_path / "image")
    put(root, "/etc/default/grub", 'GRUB_TIMEOUT=1\nGRUB_CMDLINE_LINUX="console=ttyS0,38400n8"\n')
    os.unlink(os.path.join(root, "boot/grub/grub.cfg"))
    os.mkfifo(os.path.join(root, "boot/grub/grub.cfg"))
    with alarm(30):
        out = run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}})
    res = by_id(out)["GCE-BOOT-SERIAL-CONSOLE"]
    print(res)
    # the boot menu GRUB actually reads could not be read: must not be a pass
    assert res["status"] != "pass", res


def test_serial_console_is_unknown_when_grub_cfg_is_a_directory(tmp_path, run_module):
    from test_gce_settings import debian_image, by_id
    from ansible_collections.guestready.gce.plugins.modules import compliance_info
    root = debian_image(tmp_path / "image")
    put(root, "/etc/default/grub", 'GRUB_TIMEOUT=1\nGRUB_CMDLINE_LINUX="console=ttyS0,38400n8"\n')
    os.unlink(os.path.join(root, "boot/grub/grub.cfg"))
    os.mkdir(os.path.join(root, "boot/grub/grub.cfg"))
    out = run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}})
    res = by_id(out)["GCE-BOOT-SERIAL-CONSOLE"]
    print(res)
    assert res["status"] != "pass", res


# --- 3. kernel_cmdline swallows unreadable / oversized grub.cfg -> wrong 8250 verdict
def _serial(tmp_path, grub_cfg_writer):
    from test_devices import serial_offline, CLOUD
    import test_devices
    # a boot entry that LOWERS the port count to 1
    grub = "menuentry 'x' {\n\tlinux /boot/vmlinuz-%s ro 8250.nr_uarts=1\n}\n" % CLOUD
    return serial_offline, CLOUD, grub


def test_serial_ports_unknown_when_grub_cfg_is_too_large(tmp_path):
    from test_devices import serial_offline, CLOUD
    grub = "menuentry 'x' {\n\tlinux /boot/vmlinuz-%s ro 8250.nr_uarts=1\n}\n" % CLOUD
    control = serial_offline(tmp_path / "a", files={"/boot/grub/grub.cfg": grub})
    assert control["status"] == "fail", control["message"]
    padded = grub + ("# " + "x" * 1000 + "\n") * 4200     # ~4.2 MB of comments
    result = serial_offline(tmp_path / "b", files={"/boot/grub/grub.cfg": padded})
    print(result["status"], result["message"])
    assert result["status"] != "pass", result["message"]


def test_serial_ports_unknown_when_grub_cfg_is_a_fifo(tmp_path):
    from test_devices import serial_offline, CLOUD
    result = serial_offline(tmp_path, files={})
    # now make grub.cfg a fifo and re-run on a fresh tree
    from test_devices import kernel_drivers, hardware_results, HW, by_id, trees
    root = tmp_path / "r2"
    path = trees.install(str(root), CLOUD)
    os.makedirs(str(root / "boot/grub"), exist_ok=True)
    os.mkfifo(str(root / "boot/grub/grub.cfg"))
    check = kernel_drivers.OfflineCheck("/" + os.path.relpath(path, str(root)), root=str(root))
    with alarm(30):
        res = by_id(hardware_results.assess(HW, {}, "x86_64", offline=check))["HW-SERIAL"]
    print(res["status"], res["message"])
    assert res["status"] != "pass", res["message"]


# --- 4. re.M '^\s*blscfg' over a grub.cfg of blank lines: quadratic ----------
def test_grubconfig_reads_many_blank_lines_in_linear_time(tmp_path):
    put(tmp_path, "/boot/grub/grub.cfg", "\n" * 300000)     # 300 KB
    with alarm(30):
        bootloader.GrubConfig(Target(str(tmp_path)))


def test_gce_settings_read_many_blank_lines_in_linear_time(tmp_path, run_module):
    from test_gce_settings import debian_image
    from ansible_collections.guestready.gce.plugins.modules import compliance_info
    root = debian_image(tmp_path / "image")
    put(root, "/boot/grub/grub.cfg", "set timeout=0\n" + "\n" * 300000)
    with alarm(30):
        run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}})


# --- 5. nested parameter expansions: recursion limit and quadratic scans ------
def test_grubconfig_reads_deeply_nested_expansions(tmp_path):
    # ${a:-${a:-...x...}} 5000 deep: was a RecursionError traceback
    put(tmp_path, "/etc/default/grub", 'GRUB_CMDLINE_LINUX="%sx%s"\n' % ("${a:-" * 5000, "}" * 5000))
    put(tmp_path, "/boot/grub/grub.cfg", "set timeout=1\n")
    with alarm(30):
        config = bootloader.GrubConfig(Target(str(tmp_path)))
    assert "x" in config.variables["GRUB_CMDLINE_LINUX"]   # the deepest levels kept as written
    assert bootloader.shell_value("${a:-${b:-x}}", {}) == "x"


@pytest.mark.parametrize("value", ["${a:-" * 40000, '"${a:-' * 40000, ('"${a:-' + "x" * 1000) * 2000,
                                   '"' + '${A:-"' * 5000])
def test_grubconfig_reads_unclosed_expansions_in_linear_time(tmp_path, value):
    """40,000 unclosed '${a:-' (200 KB): each used to be scanned to the end of the line; nested
    quotes in expansions ran out of Python's stack, and unclosed ones took quadratic time.  sh
    stops at the syntax error, and grub-mkconfig with it: the file is an error naming its line."""
    put(tmp_path, "/etc/default/grub", "GRUB_TIMEOUT=1\nGRUB_CMDLINE_LINUX=" + value + "\n")
    put(tmp_path, "/boot/grub/grub.cfg", "set timeout=1\n")
    with alarm(10):
        with pytest.raises(ConfigError, match=r"/etc/default/grub:2: an? (quote|expansion) is not closed"):
            bootloader.GrubConfig(Target(str(tmp_path)))


def test_nested_quotes_in_expansions_are_followed_to_a_depth(tmp_path):
    with alarm(10):
        variables, dummy = bootloader.parse_defaults('A="' + '${A:-"' * 3000 + '"}' * 3000 + '"\n', "x")
    assert "A" in variables


def test_a_defaults_file_doubling_a_value_is_refused_in_time(tmp_path, run_module):
    """``A=$A$A`` on thirty lines grows a value to gigabytes: the check ran out of memory (sh would
    too, and grub-mkconfig with it).  Past 64 KiB of expansion the file is an error naming its line."""
    from test_gce_settings import by_id, debian_image
    from ansible_collections.guestready.gce.plugins.modules import compliance_info
    root = debian_image(tmp_path / "image")
    put(root, "/etc/default/grub", 'GRUB_CMDLINE_LINUX="console=ttyS0"\n' + "GRUB_CMDLINE_LINUX=$GRUB_CMDLINE_LINUX$GRUB_CMDLINE_LINUX\n" * 40)
    with alarm(60):
        out = run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}})
    assert out["rc"] == 0, out.get("msg")
    result = by_id(out)["GCE-BOOT-SERIAL-CONSOLE"]
    assert result["status"] == "unknown" and "/etc/default/grub:14: expansions grow a value" in result["message"], result


def test_a_defaults_file_with_a_here_document_is_named_and_left_alone(tmp_path, run_module):
    """The reader does not follow a here-document (its rows are text, not commands): the boot
    settings are unknown, naming the line, and the file is not edited."""
    from test_gce_settings import by_id, debian_image, run
    root = debian_image(tmp_path / "image")
    text = 'GRUB_TIMEOUT=5\n: <<"EOF"\nGRUB_CMDLINE_LINUX="quiet"\nEOF\n'
    put(root, "/etc/default/grub", text)
    out = run(run_module, root)
    assert out["rc"] == 0, out.get("msg")
    for rid in ("GCE-BOOT-SERIAL-CONSOLE", "GCE-BOOT-TIMEOUT"):
        result = by_id(out)[rid]
        assert result["status"] == "unknown", result
        assert "/etc/default/grub:2: a here-document (<<) is not read" in result["message"], result
    with open(os.path.join(root, "etc/default/grub")) as handle:
        assert handle.read() == text


def test_a_function_a_dropin_calls_makes_the_timeout_known_only_to_sh(tmp_path, run_module):
    """/etc/default/grub defines f, whose body is not run there; grub.d/50-call.cfg (sourced by
    grub-mkconfig in the same shell) calls it: what it assigns only sh knows."""
    from test_gce_settings import by_id, debian_image, run
    root = debian_image(tmp_path / "image")
    put(root, "/etc/default/grub", 'f() {\n  GRUB_TIMEOUT=30\n}\nGRUB_TIMEOUT=0\nGRUB_CMDLINE_LINUX="console=ttyS0,38400n8"\n')
    put(root, "/etc/default/grub.d/50-call.cfg", "f\n")
    result = by_id(run(run_module, root, check_mode=True))["GCE-BOOT-TIMEOUT"]
    assert result["status"] == "unknown" and "/etc/default/grub.d/50-call.cfg:1: GRUB_TIMEOUT is assigned when the " \
        "function f runs" in result["message"], result
    os.remove(os.path.join(root, "etc/default/grub.d/50-call.cfg"))
    result = by_id(run(run_module, root, check_mode=True))["GCE-BOOT-TIMEOUT"]
    assert result["status"] != "unknown" and "function f runs" not in result["message"], result


def test_a_parameter_name_over_thousands_of_continued_rows_is_read_in_linear_time():
    """dash reads a ``${`` parameter's name past backslash-newlines: 8,000 rows of a name, each
    joined to the ones before and the header read again, took minutes."""
    text = "GRUB_TIMEOUT=${" + ("x" * 1000 + "\\\n") * 8000 + ":-5}\n"
    with alarm(30):
        variables, dummy = bootloader.parse_defaults(text, "/etc/default/grub")
    assert variables["GRUB_TIMEOUT"] == "5"


def test_function_calls_that_assign_without_end_are_refused_in_time():
    """A body of 3,000 assignments called 20,000 times (66 KB) made sixty million values: the
    reader ran out of memory.  Past MAX_CALLED values the file is an error naming its line."""
    text = "f() { " + "; ".join("V%d=1" % number for number in range(3000)) + "; }\n" + "f\n" * 20000
    with alarm(30):
        with pytest.raises(ConfigError, match=r"^/etc/default/grub:23: its functions' calls assign more than 65536 values"):
            bootloader.parse_defaults(text, "/etc/default/grub")


def test_calls_of_functions_that_call_one_another_are_refused_in_time():
    """A call runs what the functions its body calls assign too: a chain of 5,000 functions, each
    calling the one before, called 100 times, is an error past MAX_CALLED, not minutes of work."""
    text = "f0() { V=1; }\n" + "".join("f%d() { f%d; f%d; }\n" % (n, n - 1, n - 1) for n in range(1, 5000)) + "f4999\n" * 100
    with alarm(30):
        with pytest.raises(ConfigError, match=r"^/etc/default/grub:5007: its functions' calls assign more than 65536 values"):
            bootloader.parse_defaults(text, "/etc/default/grub")


def test_evals_of_a_long_text_are_refused_in_time():
    """eval of a 60 KB value on a thousand lines is 60 MB to read: past MAX_EVAL_TEXT characters
    the file is an error naming its line."""
    text = 'X="' + "A=1; " * 12000 + '"\n' + 'eval "$X"\n' * 1000
    with alarm(30):
        with pytest.raises(ConfigError, match=r"^/etc/default/grub:19: its evals and the files it sources run more than 1048576 characters"):
            bootloader.parse_defaults(text, "/etc/default/grub")


def test_a_defaults_file_sourcing_itself_is_refused_in_time(tmp_path):
    """``. /etc/default/grub`` inside /etc/default/grub: sh recurses until it runs out of file
    descriptors; the reader stops MAX_EVAL_DEPTH deep, naming the line."""
    put(tmp_path, "/etc/default/grub", "GRUB_TIMEOUT=0\n. /etc/default/grub\n")
    put(tmp_path, "/boot/grub/grub.cfg", "set timeout=0\n")
    with alarm(10):
        with pytest.raises(ConfigError, match=r"/etc/default/grub:2: eval and \. run one another more than 16 deep"):
            bootloader.GrubConfig(Target(str(tmp_path)))


@pytest.mark.parametrize("text", ["# " + "conso " * 700000 + "\n", "A='" + "x" * 4000000 + "'\n",
                                  "GRUB_CMDLINE_LINUX=\"" + "quiet " * 600000 + "\"\n"])
def test_a_defaults_file_of_megabytes_is_split_into_lines_in_time(text):
    """The line splitter took each character by itself, with several tests each: 4 MB took
    seconds a read, and the gce_settings fuzz (debian case 71337) over 20 s.  Runs of characters
    no rule looks at are taken at once."""
    with alarm(10):
        rows = bootloader.lines(text)
        for dummy in range(8):
            assert bootloader._statements(rows) == [(0, 0)]


@pytest.mark.parametrize("form", ["A%d=1 :\n", "A%d=$B :\n", "A%d=1 >/dev/null\n"])
def test_assignments_before_a_command_of_many_variables_are_read_in_linear_time(form):
    """The values before a command (its words are expanded from them) were a copy of every
    variable: 60,000 rows of "A1=1 :" (600 KB) took over a minute.  They are read through now."""
    text = "".join(form % number for number in range(60000)) + "GRUB_TIMEOUT=$A59999\n"
    with alarm(30):
        variables, dummy = bootloader.parse_defaults(text, "/etc/default/grub")
    assert variables["GRUB_TIMEOUT"] == ("1" if "$B" not in form else "")


def test_compound_commands_open_without_end_are_refused_in_time():
    """Every command looked at each group open around it, and each group's end moved what it made
    read only and assigned to the one around it: thousands of nested groups took seconds each
    thousand rows.  Past MAX_GROUPS open at once the file is an error naming its line."""
    text = "{ readonly R\n" + "".join("{ A%d=1 >/x\n" % number for number in range(4000)) + "}\n" * 4001
    with alarm(30):
        with pytest.raises(ConfigError, match=r"^/etc/default/grub:1025: compound commands open more than 1024 deep"):
            bootloader.parse_defaults(text, "/etc/default/grub")
    text = "{\n" * 1000 + "".join("readonly A%d; B%d=1 >/x; [ -n x ] && { C=1; }\n" % (n, n) for n in range(20000)) + \
        "}\n" * 999 + "} || :\nreadonly A1\nGRUB_TIMEOUT=$B7\n"
    with alarm(30):
        variables, dummy = bootloader.parse_defaults(text, "/etc/default/grub")
    assert isinstance(variables["GRUB_TIMEOUT"], bootloader.Unknown)   # "|| :": B7=1 may have failed
