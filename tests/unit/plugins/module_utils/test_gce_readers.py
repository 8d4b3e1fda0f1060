"""The readers behind GCE-*: kernel command line, GRUB 2 (Debian and Red Hat
layouts, BLS, grubenv), systemd units, packages, time sync, network
configurations, sshd_config, fstab and udev -- on fixture trees, through the
target root."""

import os
import re
import shutil
import stat
import subprocess
import time

import pytest

from ansible_collections.guestready.gce.plugins.module_utils import (
    bootconfig, bootloader, cmdline, configfiles, envfile, fstab, netconf, packages, sshd, timesync, udev, units)
from ansible_collections.guestready.gce.plugins.module_utils.configfiles import ConfigError
from ansible_collections.guestready.gce.plugins.module_utils.target import Target


def put(root, path, text):
    full = os.path.join(str(root), path.lstrip("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as handle:
        handle.write(text)
    return full


def link(root, path, value):
    full = os.path.join(str(root), path.lstrip("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    os.symlink(value, full)


# ------------------------------------------------------------------ cmdline
@pytest.mark.parametrize("text,args", [
    ('BOOT_IMAGE=/vmlinuz root=UUID=1 ro console=tty0 console=ttyS0,38400n8',
     ["BOOT_IMAGE=/vmlinuz", "root=UUID=1", "ro", "console=tty0", "console=ttyS0,38400n8"]),
    ('a="b c" d  e=', ["a=b c", "d", "e="]),
    ('"quoted whole" x', ["quoted whole", "x"]),
    ("", []),
])
def test_cmdline_split(text, args):
    assert cmdline.split(text) == args


@pytest.mark.parametrize("text,args", [
    # lib/cmdline.c next_arg(): only a quote opening the argument or its value goes, with
    # the argument's last quote; quotes inside a word are characters
    ('console=tty"S0" x', [(0, "console", 'tty"S0"'), (16, "x", None)]),
    ('a"b c"d', [(0, 'a"b c"d', None)]),
    ('"a="b""', [(0, "a", 'b"')]),       # the closing quote goes once
    ('"a="b c', [(0, "a", "b"), (6, "c", None)]),
    ('foo="', [(0, "foo", "")]),
    ("=a=b =c", [(0, "=a", "b"), (5, "=c", None)]),   # an '=' starting the argument splits nothing
    # the kernel's isspace(): not \x1c-\x1f, \x85 or Unicode spaces, but byte 0xa0
    ("ro\x1c-- q\x85r s\u2003t u\xa0v",
     [(0, "ro\x1c--", None), (6, "q\x85r", None), (10, "s\u2003t", None), (14, "u", None), (16, "v", None)]),
])
def test_cmdline_args_as_next_arg_takes_them(text, args):
    assert cmdline.args(text) == args


def test_cmdline_quotes_and_blanks_the_kernel_keeps():
    assert not cmdline.has_console('console=tty"S0"')             # console_setup() finds no "tty\"S"
    assert cmdline.has_console("ro\x1c-- console=ttyS0")          # "ro\x1c--" is no "--": the kernel's
    assert cmdline.init_start('ro -"-" console=ttyS0') is None
    assert cmdline.init_start('ro "--" console=ttyS0') == 3


def test_cmdline_read_live_takes_any_bytes(tmp_path):
    """/proc/cmdline holds what the boot loader passed, UTF-8 or not: read
    as Latin-1 then, never a decoding error."""
    (tmp_path / "cmdline").write_bytes(b"BOOT_IMAGE=/vmlinuz console=ttyS0,38400n8 label=\xff\xe9t\xe9\0\n")
    line = cmdline.read_live(str(tmp_path))
    assert line == "BOOT_IMAGE=/vmlinuz console=ttyS0,38400n8 label=\xff\xe9t\xe9"
    assert cmdline.has_console(line) and cmdline.last_value(line, "label") == "\xff\xe9t\xe9"


def test_the_default_routes_interface_in_any_bytes(tmp_path):
    """An interface name is any bytes but '/', ':' and blanks: /proc/net/route
    prints it raw; named as os.listdir() names it (was a UnicodeDecodeError)."""
    (tmp_path / "net").mkdir()
    (tmp_path / "net" / "route").write_bytes(
        b"Iface\tDestination\tGateway\tFlags\n"
        b"e\xff0\t0002000A\t00000000\t0001\n"
        b"e\xff0\t00000000\t0102000A\t0003\n")
    assert netconf.live_default_interface(str(tmp_path)) == os.fsdecode(b"e\xff0")
    (tmp_path / "net" / "route").write_bytes(b"Iface\tDestination\n")
    assert netconf.live_default_interface(str(tmp_path)) is None


def test_cmdline_consoles_and_values():
    line = "console=tty0 console=ttyS0,38400n8 8250.nr_uarts=4 8250.nr_uarts=1 quiet"
    assert cmdline.consoles(line) == ["tty0", "ttyS0"]
    assert cmdline.has_console(line) and not cmdline.has_console("console=ttyS1")
    assert cmdline.last_value(line, "8250.nr_uarts") == "1"
    assert cmdline.last_value(line, "quiet") is None and ("quiet", None) in cmdline.parse(line)


@pytest.mark.parametrize("line, devices", [
    ("console=uart8250,io,0x3f8,115200n8", ["ttyS0"]),   # univ8250_console_match(): the port at 0x3f8
    ("console=uart,io,0x2F8", ["ttyS1"]),
    ("console=uart8250,io,1016 console=uart8250,io,01750", ["ttyS0", "ttyS2"]),   # simple_strtoull(, 0)
    ("console=uart8250,mmio,0x3f8", ["uart8250"]),   # memory-mapped: no x86 port
    ("console=uart8250,io,0x3f9", ["uart8250"]),
    ("console=uart8250,io,", ["uart8250"]),
    ("console=0,115200", ["ttyS0"]),   # console_setup(): a leading digit is ttyS
    ("console=ttyS00 console=ttyS01x", ["ttyS0", "ttyS1"]),   # the index is the digits after the name
    ("console=ttyS99999999999999", ["ttyS99999999999999"]),
    ("console=uart8250,io," + "1" * 5000 + " console=uart8250,io,0" + "0" * 5000 + "1770", ["uart8250", "ttyS0"]),
    ("console=tty console=ttyAMA0,115200", ["tty", "ttyAMA0"]),
])
def test_cmdline_console_devices_as_the_kernel_decodes_them(line, devices):
    assert cmdline.consoles(line) == devices
    assert cmdline.has_console(line, "ttyS0") == ("ttyS0" in devices)


def test_cmdline_console_after_dashes_is_init_s():
    """kernel/params.c parse_args(): a ``--`` argument ends the kernel's
    parameters; what follows goes to init."""
    assert cmdline.consoles('quiet "--" console=ttyS0') == []
    assert not cmdline.has_console("ro -- console=ttyS0,38400n8")
    assert cmdline.consoles('console=tty0 a="x -- y" console=ttyS0 --x') == ["tty0", "ttyS0"]
    assert cmdline.append("ro -- single", "console=ttyS0") == "ro console=ttyS0 -- single"
    assert cmdline.append("-- single", "console=ttyS0") == "console=ttyS0 -- single"
    assert cmdline.append("ro --x", "console=ttyS0") == "ro --x console=ttyS0"
    cfg, changed = bootloader.add_kernel_arg("\tlinux /vmlinuz ro -- console=ttyS0\n", "console=ttyS0,38400n8", "X")
    assert changed and cfg.endswith("\tlinux /vmlinuz ro console=ttyS0,38400n8 -- console=ttyS0\n")
    entry, changed = bootloader.add_kernel_arg("options root=x --\n", "console=ttyS0", "X",
                                               lines_re=bootloader.BLS_OPTIONS)
    assert changed and entry.endswith("\noptions root=x console=ttyS0 --\n")


# --------------------------------------------------------------- bootloader
def debian_grub(root, cmdline_linux='""', dropin=None):
    put(root, "/usr/sbin/grub-mkconfig", '#!/bin/sh\nfor x in ${sysconfdir}/default/grub.d/*.cfg ; do . "$x"; done\n')
    put(root, "/etc/default/grub", "GRUB_DEFAULT=0\nGRUB_TIMEOUT=5\nGRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`\n"
        "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\nGRUB_CMDLINE_LINUX=%s\n" % cmdline_linux)
    if dropin:
        put(root, "/etc/default/grub.d/50-cloud.cfg", dropin)
    put(root, "/boot/grub/grub.cfg", "set timeout=5\nmenuentry 'Debian' {\n\tlinux\t/boot/vmlinuz-6.1.0 root=UUID=abc ro quiet\n}\n"
        "menuentry 'Debian (recovery)' {\n\tlinux\t/boot/vmlinuz-6.1.0 root=UUID=abc ro single\n}\n")


def test_grub_debian_layout_with_dropins(tmp_path):
    debian_grub(tmp_path, dropin='GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX console=ttyS0,115200"\nGRUB_TIMEOUT=0\n')
    grub = bootloader.GrubConfig(Target(str(tmp_path)))
    assert grub.found and grub.layout == "debian" and grub.dropins_supported
    assert grub.cmdline() == "console=ttyS0,115200 quiet"
    assert grub.timeout() == (0, "%s/etc/default/grub.d/50-cloud.cfg:2" % tmp_path)
    assert grub.variables["GRUB_DISTRIBUTOR"].startswith("`lsb_release")
    entries = grub.entries()
    assert len(entries) == 2 and not any(cmdline.has_console(e["cmdline"]) for e in entries)
    assert grub.cfg_timeouts() == [(1, 5)]


@pytest.mark.parametrize("text,value", [
    ('"${V:+$V }\\$tuned_params"', "console=ttyS0 $tuned_params"),
    ('"${U:+$U }\\$tuned_params"', "$tuned_params"),
    ('"${E:-console=ttyS0}"', "console=ttyS0"),
    ('"${E-x}${U-y}${U:=z}$U"', "yzz"),
    ('"a\\\\b \\"c\\" \\x"', 'a\\b "c" \\x'),
    ("a\\ console=ttyS0", "a console=ttyS0"),
    ("console=ttyS0#1 # comment", "console=ttyS0#1"),
    ("'$V'\"$V\"$V", "$Vconsole=ttyS0console=ttyS0"),
])
def test_grub_defaults_values_as_sh_reads_them(text, value):
    """POSIX sh: parameter expansions with a word, backslashes (in double
    quotes before a dollar, backquote, double quote or backslash only),
    ``#`` inside a word."""
    variables = {"V": "console=ttyS0", "E": ""}
    assert bootloader.shell_value(text, variables) == value
    assert bootloader.shell_value(bootloader._quote(value), {}) == value


@pytest.mark.parametrize("text,expected", [
    # every assignment word of a line is made (only the first was)
    ('GRUB_TIMEOUT=0 GRUB_CMDLINE_LINUX="console=ttyS0"\n', {"GRUB_TIMEOUT": "0", "GRUB_CMDLINE_LINUX": "console=ttyS0"}),
    ("A=x; GRUB_CMDLINE_LINUX=$A\n", {"A": "x", "GRUB_CMDLINE_LINUX": "x"}),
    # outside double quotes an expansion's word has its quotes removed ('s' was kept with its quotes)
    ("GRUB_CMDLINE_LINUX=${A:-'s'}\n", {"GRUB_CMDLINE_LINUX": "s"}),
    ('GRUB_CMDLINE_LINUX="${A:-"in"}"\n', {"GRUB_CMDLINE_LINUX": "in"}),
    # a backslash-newline is removed before words are read: $B<newline>x is $Bx
    ("GRUB_CMDLINE_LINUX=$A\\\nconsole=ttyS0\n", {"GRUB_CMDLINE_LINUX": "=ttyS0"}),
    # a '#' after a backslash-newline is inside a word; the assignment after it is made
    ("GRUB_CMDLINE_LINUX=\\\n# GRUB_CMDLINE_LINUX=\\\nconsole=ttyS0\n", {"GRUB_CMDLINE_LINUX": "console=ttyS0"}),
    # export expands all its arguments first; assignments before a command are its environment
    ("export A= B=${A-z}\n", {"A": "", "B": "z"}), ("A=x true\n", {}),
    ("GRUB_CMDLINE_LINUX=${A%%=*}\n", {"GRUB_CMDLINE_LINUX": ""}),
])
def test_grub_defaults_lines_as_sh_runs_them(text, expected):
    """Checked against this machine's /bin/sh in test_grub_defaults_real_sh.py."""
    variables, dummy = bootloader.parse_defaults(text, "/etc/default/grub")
    assert variables == expected


def test_a_defaults_line_that_does_more_than_the_assignment_is_kept_whole():
    """Editing GRUB_CMDLINE_LINUX commented out its whole line, GRUB_TIMEOUT=0 with it."""
    text = 'GRUB_TIMEOUT=0 GRUB_CMDLINE_LINUX="quiet"\n'
    edited = bootloader.set_defaults(text, [("GCE-X", "GRUB_CMDLINE_LINUX", '"quiet console=ttyS0"')])
    assert edited == text + '# guestready.gce (GCE-X)\nGRUB_CMDLINE_LINUX="quiet console=ttyS0"\n'
    assert bootloader.parse_defaults(edited, "x")[0] == {"GRUB_TIMEOUT": "0", "GRUB_CMDLINE_LINUX": "quiet console=ttyS0"}


def test_grub_red_hat_layout_bls_and_grubenv(tmp_path):
    put(tmp_path, "/usr/sbin/grub2-mkconfig", "#!/bin/sh\n. /etc/default/grub\n")
    put(tmp_path, "/etc/default/grub", 'GRUB_TIMEOUT=1\nGRUB_CMDLINE_LINUX="crashkernel=auto rhgb quiet"\n'
        'GRUB_ENABLE_BLSCFG=true\n')
    put(tmp_path, "/boot/grub2/grub.cfg", "set timeout=1\ninsmod blscfg\nblscfg\n")
    put(tmp_path, "/boot/loader/entries/abc-5.14.conf", "title RHEL\nlinux /vmlinuz-5.14\noptions $kernelopts\n")
    put(tmp_path, "/boot/loader/entries/abc-5.15.conf", "title RHEL\nlinux /vmlinuz-5.15\n"
        "options root=/dev/mapper/rhel-root ro console=ttyS0,38400n8\n")
    put(tmp_path, "/boot/grub2/grubenv", bootloader.set_grubenv("", "kernelopts", "root=/dev/mapper/rhel-root ro"))
    grub = bootloader.GrubConfig(Target(str(tmp_path)))
    assert grub.layout == "redhat" and not grub.dropins_supported and grub.bls
    assert grub.grubenv["kernelopts"] == "root=/dev/mapper/rhel-root ro"
    by_file = dict((os.path.basename(e["where"]), e["cmdline"]) for e in grub.entries())
    assert by_file["abc-5.14.conf"] == "root=/dev/mapper/rhel-root ro"  # $kernelopts expanded
    assert cmdline.has_console(by_file["abc-5.15.conf"])
    env = bootloader.set_grubenv(open(os.path.join(str(tmp_path), "boot/grub2/grubenv")).read(),
                                 "kernelopts", "root=x console=ttyS0")
    assert len(env) == 1024 and "kernelopts=root=x console=ttyS0\n" in env


def test_a_bls_entry_past_the_limit_is_refused_by_both_readers_of_the_menu(tmp_path):
    """The entries GRUB's blscfg offers were read up to 32 MiB for the
    console check and up to 64 KiB for the boot menu: one entry judged by
    one reader and refused by the other.  Both take bootconfig's limit."""
    put(tmp_path, "/boot/grub2/grub.cfg", "set timeout=1\ninsmod blscfg\nblscfg\n")
    head = "title RHEL\nlinux /vmlinuz-5.14\noptions root=/dev/sda1 console=ttyS0\n"
    put(tmp_path, "/boot/loader/entries/abc-5.14.conf", head + "#" * bootconfig.BLS_ENTRY_MAX)
    target = Target(str(tmp_path))
    with pytest.raises(ConfigError, match="abc-5.14.conf: larger than %d bytes" % bootconfig.BLS_ENTRY_MAX):
        bootloader.GrubConfig(target).entries()
    menu = bootconfig.gather_menu(target, None)
    assert menu["default"] is None and "abc-5.14.conf: larger than %d bytes" % bootconfig.BLS_ENTRY_MAX in menu["error"]
    put(tmp_path, "/boot/loader/entries/abc-5.14.conf", head + "#" * (bootconfig.BLS_ENTRY_MAX - len(head)))
    assert [e["cmdline"] for e in bootloader.GrubConfig(target).entries()] == ["root=/dev/sda1 console=ttyS0"]
    assert bootconfig.gather_menu(target, None)["default"]["args"] == "root=/dev/sda1 console=ttyS0"


def test_grub_edits_keep_the_original(tmp_path):
    text = 'GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX="quiet"\n'
    edited = bootloader.set_defaults(text, [("GCE-BOOT-TIMEOUT", "GRUB_TIMEOUT", "0")])
    assert "# guestready.gce replaced (GCE-BOOT-TIMEOUT): GRUB_TIMEOUT=5\nGRUB_TIMEOUT=0\n" in edited
    variables, dummy = bootloader.parse_defaults(edited, "grub")
    assert variables["GRUB_TIMEOUT"] == "0" and variables["GRUB_CMDLINE_LINUX"] == "quiet"
    cfg, changed = bootloader.add_kernel_arg("\tlinux /vmlinuz ro console=ttyS0\n\tlinux16 /vmlinuz ro\n",
                                             "console=ttyS0,38400n8", "X")
    assert changed and cfg.count("console=ttyS0,38400n8") == 1 and "# guestready.gce replaced (X): linux16" in cfg
    assert bootloader.set_cfg_timeout("set timeout=5\nset timeout=0\n", 0, "T").count("set timeout=0") == 2


def test_switched_branches_in_any_layout_of_commands():
    """12_menu_auto_hide's branches as grub.cfg may put them: nested, on one
    line, after ``then``/``else``; recordfail counts where something sets it
    (Ubuntu's recordfail function, or grubenv), not in Debian's grub.cfg."""
    text = ('if [ "${menu_show_once}" ]; then set timeout=60; elif [ "${menu_auto_hide}" -a "${menu_hide_ok}" = "1" ]; '
            'then if [ "${fastboot}" = "1" ]; then set timeout=0; else set timeout=1; fi; fi\n'
            'if [ "${recordfail}" = 1 ] ; then\n  set timeout=30\nelse\n  set timeout=0\nfi\n'
            'if [ "${menu_show_once_timeout}" ]; then\n  set timeout="${menu_show_once_timeout}"\nfi\n')

    def values(grubenv, cfg=text):
        return [(number, value) for number, start, end, value in bootloader.applicable_timeouts(cfg, grubenv)]
    assert values({}) == [(5, "0")]
    assert values({"recordfail": "1"}) == [(3, "30"), (5, "0")]
    assert values({"menu_auto_hide": "1"}) == [(1, "0"), (1, "1"), (5, "0")]
    assert values({"menu_show_once": "1"}) == [(1, "60"), (5, "0")]
    assert values({"menu_show_once_timeout": "10"}) == [(5, "0"), (8, "10")]
    ubuntu = "function recordfail {\n  set recordfail=1\n}\n" + text
    assert values({}, ubuntu) == [(6, "30"), (8, "0")]
    # lowering touches only what can apply; a command after "then" keeps its keyword
    lowered = bootloader.set_cfg_timeout(text, 0, "T", {"menu_auto_hide": "1"})
    assert "then set timeout=60; elif" in lowered and "else set timeout=0 ; fi; fi" in lowered
    assert "  set timeout=30\nelse\n" in lowered and 'set timeout="${menu_show_once_timeout}"' in lowered


def test_recovery_entries_get_grub_cmdline_linux_alone(tmp_path):
    debian_grub(tmp_path, dropin='GRUB_CMDLINE_LINUX_DEFAULT="console=tty1 console=ttyS0"\n')
    grub = bootloader.GrubConfig(Target(str(tmp_path)))
    assert grub.entry_cmdlines() == {"normal": "console=tty1 console=ttyS0", "recovery": ""}
    put(tmp_path, "/etc/default/grub.d/60-no-recovery.cfg", 'GRUB_DISABLE_RECOVERY="true"\n')
    assert bootloader.GrubConfig(Target(str(tmp_path))).entry_cmdlines() == {"normal": "console=tty1 console=ttyS0"}


@pytest.mark.parametrize("name", ["/boot/grub/grub.cfg", "/boot/grub/grubenv"])
def test_grub_file_that_is_a_link_loop_is_read_not_taken_for_absent(tmp_path, name):
    # like a FIFO there: GRUB cannot read it, so nothing is judged from the other files alone
    debian_grub(tmp_path)
    put(tmp_path, "/boot/grub/grubenv", "# GRUB Environment Block\nkernelopts=root=/dev/sda1\n")
    os.unlink(os.path.join(str(tmp_path), name.lstrip("/")))
    link(tmp_path, name, os.path.basename(name))
    with pytest.raises(ConfigError, match=r"%s: too many levels of symbolic links" % name.rsplit("/", 1)[1]):
        bootloader.GrubConfig(Target(str(tmp_path)))
    # a dangling link is no file at all
    os.unlink(os.path.join(str(tmp_path), name.lstrip("/")))
    link(tmp_path, name, "/nowhere/" + os.path.basename(name))
    bootloader.GrubConfig(Target(str(tmp_path)))


def test_no_grub_is_not_found(tmp_path):
    put(tmp_path, "/etc/hostname", "x\n")
    assert not bootloader.GrubConfig(Target(str(tmp_path))).found


# -------------------------------------------------------------------- units
def test_units_enabled_masked_template_and_install(tmp_path):
    put(tmp_path, "/lib/systemd/system/google-guest-agent.service",
        "[Unit]\nDescription=x\n[Install]\nWantedBy=multi-user.target\nAlias=gga.service\n")
    put(tmp_path, "/lib/systemd/system/serial-getty@.service", "[Install]\nWantedBy=getty.target\n")
    put(tmp_path, "/lib/systemd/system/chrony.service", "[Install]\nWantedBy=multi-user.target\n")
    link(tmp_path, "/etc/systemd/system/multi-user.target.wants/chrony.service", "/lib/systemd/system/chrony.service")
    link(tmp_path, "/etc/systemd/system/ntp.service", "/dev/null")
    put(tmp_path, "/lib/systemd/system-preset/90-google.preset", "enable google-guest-agent.service\n")
    put(tmp_path, "/etc/systemd/system-preset/10-local.preset", "disable google-*\n")
    target = Target(str(tmp_path))
    assert units.state(target, "chrony.service")[0] == "enabled"
    assert units.state(target, "google-guest-agent.service")[0] == "disabled"
    assert units.state(target, "ntp.service")[0] == "masked"
    assert units.state(target, "nothing.service")[0] == "not-found"
    assert units.unit_file(target, "serial-getty@ttyS0.service") == "/lib/systemd/system/serial-getty@.service"
    assert units.preset(target, "google-guest-agent.service") == "disable", "the /etc preset file sorts first"
    assert sorted(units.enablement_links(target, "google-guest-agent.service")) == [
        ("/etc/systemd/system/gga.service", "/lib/systemd/system/google-guest-agent.service"),
        ("/etc/systemd/system/multi-user.target.wants/google-guest-agent.service",
         "/lib/systemd/system/google-guest-agent.service")]
    made = units.enable(target, "serial-getty@ttyS0.service", None, live=False)
    assert made == ["/etc/systemd/system/getty.target.wants/serial-getty@ttyS0.service"]
    assert units.state(target, "serial-getty@ttyS0.service")[0] == "enabled"


def test_units_required_by_and_masked_at_runtime(tmp_path):
    """A RequiredBy= link (<unit>.requires/) enables a unit as a WantedBy= link does, and a
    mask in /run/systemd/system (systemctl mask --runtime) masks it like one in /etc."""
    put(tmp_path, "/lib/systemd/system/google-guest-agent.service", "[Install]\nRequiredBy=multi-user.target\n")
    link(tmp_path, "/etc/systemd/system/multi-user.target.requires/google-guest-agent.service",
         "/lib/systemd/system/google-guest-agent.service")
    put(tmp_path, "/lib/systemd/system/chrony.service", "[Install]\nWantedBy=multi-user.target\n")
    link(tmp_path, "/run/systemd/system/chrony.service", "/dev/null")
    target = Target(str(tmp_path))
    assert units.state(target, "google-guest-agent.service") == (
        "enabled", ["/etc/systemd/system/multi-user.target.requires/google-guest-agent.service"])
    assert units.state(target, "chrony.service") == ("masked-runtime", [])


def test_units_read_as_systemctl_and_systemd_read_them(tmp_path):
    """An [Install] list is reset by an empty assignment (config_parse_strv()), a lone \r ends
    a line, and a continued ExecStart= is one line (systemd_conf)."""
    put(tmp_path, "/lib/systemd/system/agent.service",
        "[Service]\rExecStart=/usr/bin/agent \\\r  --flag\r[Install]\rWantedBy=graphical.target\rWantedBy=\r"
        "WantedBy=multi-user.target\r")
    put(tmp_path, "/etc/systemd/system/agent.service.d/10-dir.conf", "[Service]\r\nWorkingDirectory=/srv\r\n")
    target = Target(str(tmp_path))
    assert units.enablement_links(target, "agent.service") == [
        ("/etc/systemd/system/multi-user.target.wants/agent.service", "/lib/systemd/system/agent.service")]
    assert units.section_settings(target, "agent.service", "Service") == [
        ("ExecStart", "/usr/bin/agent    --flag", "/lib/systemd/system/agent.service"),
        ("WorkingDirectory", "/srv", "/etc/systemd/system/agent.service.d/10-dir.conf")]
    assert units.service_command(target, "agent.service")[0] == ["/usr/bin/agent", "--flag"]


def test_unit_drop_in_directory_hides_and_holds_nothing(tmp_path):
    """A directory of a drop-in's name is listed (conf_files_list_strv() with no type filter), hides
    the same name below and fails to parse, which unit_load_dropin() passes over; it was an error."""
    put(tmp_path, "/usr/lib/systemd/system/agent.service", "[Service]\nExecStart=/usr/bin/agent\n")
    put(tmp_path, "/usr/lib/systemd/system/agent.service.d/20-user.conf", "[Service]\nUser=nobody\n")
    put(tmp_path, "/usr/lib/systemd/system/agent.service.d/30-group.conf", "[Service]\nGroup=nogroup\n")
    os.makedirs(os.path.join(str(tmp_path), "etc/systemd/system/agent.service.d/20-user.conf"))
    assert units.section_settings(Target(str(tmp_path)), "agent.service", "Service") == [
        ("ExecStart", "/usr/bin/agent", "/usr/lib/systemd/system/agent.service"),
        ("Group", "nogroup", "/usr/lib/systemd/system/agent.service.d/30-group.conf")]


def test_enabling_follows_systemctls_install_rules(tmp_path):
    """systemctl enable (install.c install_info_apply()): a template names its DefaultInstance in
    the wants link; an instance's template alias gets its instance, an alias to the unit itself is
    no link, an alias of another kind is refused; a WantedBy= of no known unit type is refused; an
    instance with a file of its own links to that file.  The links were the template's name, an
    invalid alias link was made, and any lower-case suffix passed (test_units_real_systemctl.py
    compares with the real systemctl)."""
    put(tmp_path, "/lib/systemd/system/serial-getty@.service",
        "[Install]\nWantedBy=getty.target\nDefaultInstance=ttyS0\nAlias=console-getty@.service\n")
    put(tmp_path, "/etc/systemd/system/serial-getty@ttyS1.service", "[Install]\nWantedBy=getty.target\n")
    target = Target(str(tmp_path))
    template = "/lib/systemd/system/serial-getty@.service"
    assert units.enablement_links(target, "serial-getty@.service") == [
        ("/etc/systemd/system/console-getty@.service", template),
        ("/etc/systemd/system/getty.target.wants/serial-getty@ttyS0.service", template)]
    assert units.enablement_links(target, "serial-getty@ttyS2.service") == [
        ("/etc/systemd/system/console-getty@ttyS2.service", template),
        ("/etc/systemd/system/getty.target.wants/serial-getty@ttyS2.service", template)]
    assert units.enablement_links(target, "serial-getty@ttyS1.service") == [
        ("/etc/systemd/system/getty.target.wants/serial-getty@ttyS1.service",
         "/etc/systemd/system/serial-getty@ttyS1.service")]
    for install, refused in (("Alias=other.service", "Alias=other.service: it is a plain name, the unit an instance"),
                             ("Alias=serial-getty@ttyS3.service", "its instance differs"),
                             ("WantedBy=getty.tgt", "WantedBy=getty.tgt is not a unit name")):
        put(tmp_path, "/lib/systemd/system/serial-getty@.service", "[Install]\nWantedBy=getty.target\n%s\n" % install)
        with pytest.raises(ConfigError, match=re.escape(refused)):
            units.enablement_links(target, "serial-getty@ttyS2.service")
    put(tmp_path, "/lib/systemd/system/serial-getty@.service", "[Install]\nAlias=serial-getty@.service\n")
    assert units.enablement_links(target, "serial-getty@ttyS2.service") == [], "an alias to itself"


def test_unit_lists_are_split_into_the_words_systemd_takes(tmp_path):
    """config_parse_strv() unquotes [Install] lists; Conflicts= (config_parse_unit_deps())
    splits at systemd's blanks only, so a no-break space is part of a unit's name."""
    put(tmp_path, "/lib/systemd/system/agent.service", u"[Unit]\nConflicts=chrony.service\u00a0ntp.service\n"
        u"[Install]\nWantedBy=\"multi-user.target\" 'getty.target'\n")
    target = Target(str(tmp_path))
    assert units.enablement_links(target, "agent.service") == [
        ("/etc/systemd/system/multi-user.target.wants/agent.service", "/lib/systemd/system/agent.service"),
        ("/etc/systemd/system/getty.target.wants/agent.service", "/lib/systemd/system/agent.service")]
    assert units.conflicts(target, "agent.service") == {u"chrony.service\u00a0ntp.service"}


def test_unit_states_as_systemctl_is_enabled_tells_them(tmp_path):
    """systemd takes an empty unit file for a mask as it takes a link to
    /dev/null (null_or_empty()), in any unit directory; a name linked to
    another unit's file is an alias; a unit without [Install] is static;
    a directory by the unit's name or an alias systemd refuses leaves it
    unloadable, and a link to a unit with no file not-found."""
    getty = "[Unit]\n[Service]\nExecStart=/sbin/agetty\n[Install]\nWantedBy=getty.target\n"
    put(tmp_path, "/lib/systemd/system/serial-getty@.service", getty)
    link(tmp_path, "/etc/systemd/system/getty.target.wants/serial-getty@ttyS0.service",
         "/lib/systemd/system/serial-getty@.service")
    put(tmp_path, "/etc/systemd/system/serial-getty@ttyS0.service", "")
    put(tmp_path, "/lib/systemd/system/chrony.service", "[Install]\nWantedBy=multi-user.target\nAlias=chronyd.service\n")
    link(tmp_path, "/etc/systemd/system/chronyd.service", "/lib/systemd/system/chrony.service")
    link(tmp_path, "/usr/lib/systemd/system/ntp.service", "/dev/null")
    put(tmp_path, "/lib/systemd/system/static.service", "[Service]\nExecStart=/bin/true\n")
    os.makedirs(str(tmp_path / "etc/systemd/system/dir.service"))
    put(tmp_path, "/lib/systemd/system/dir.service", getty)
    link(tmp_path, "/etc/systemd/system/wrong.service", "/lib/systemd/system/serial-getty@.service")
    link(tmp_path, "/etc/systemd/system/severed.service", "/lib/systemd/system/gone.service")
    target = Target(str(tmp_path))
    assert units.state(target, "serial-getty@ttyS0.service") == ("masked", [])
    assert units.unit_file(target, "serial-getty@ttyS0.service") is None
    assert units.state(target, "chrony.service") == ("enabled", ["/etc/systemd/system/chronyd.service"])
    assert units.state(target, "chronyd.service") == ("alias", [])
    assert units.alias_of(target, "chronyd.service") == "chrony.service"
    assert units.state(target, "ntp.service") == ("masked", [])
    assert units.state(target, "static.service") == ("static", [])
    assert units.state(target, "dir.service") == ("unloadable", [])
    assert units.load_error(target, "dir.service") == "%s/etc/systemd/system/dir.service is a directory" % tmp_path
    assert units.state(target, "wrong.service")[0] == "unloadable"
    assert "it is a plain name, the unit a template" in units.load_error(target, "wrong.service")
    assert units.state(target, "severed.service") == ("not-found", [])


def test_unit_dropins_of_dash_prefixes_templates_and_aliases(tmp_path):
    """systemd 246+ reads the drop-ins of a unit's dash prefixes (systemd-.service.d for
    systemd-timesyncd.service), of its template and of its aliases, its own name's first, in
    every unit directory, before the aliases' and the type's (dropin.c)."""
    put(tmp_path, "/lib/systemd/system/systemd-timesyncd.service", "[Unit]\nDescription=t\n")
    put(tmp_path, "/etc/systemd/system/systemd-.service.d/50-x.conf", "[Unit]\nConditionPathExists=!/x\n")
    put(tmp_path, "/lib/systemd/system/getty@.service", "[Unit]\nDescription=g\n")
    link(tmp_path, "/etc/systemd/system/autovt@.service", "/lib/systemd/system/getty@.service")
    put(tmp_path, "/usr/lib/systemd/system/autovt@.service.d/10-a.conf", "[Unit]\nDescription=alias\n")
    put(tmp_path, "/etc/systemd/system/service.d/10-a.conf", "[Unit]\nDescription=type\n")
    put(tmp_path, "/usr/lib/systemd/system/getty@tty1.service.d/20-b.conf", "[Unit]\nDescription=own\n")
    target = Target(str(tmp_path))
    assert units.section_settings(target, "systemd-timesyncd.service", "Unit") == [
        ("Description", "t", "/lib/systemd/system/systemd-timesyncd.service"),
        ("Description", "type", "/etc/systemd/system/service.d/10-a.conf"),
        ("ConditionPathExists", "!/x", "/etc/systemd/system/systemd-.service.d/50-x.conf")]
    assert units.section_settings(target, "getty@tty1.service", "Unit") == [
        ("Description", "g", "/lib/systemd/system/getty@.service"),
        ("Description", "alias", "/usr/lib/systemd/system/autovt@.service.d/10-a.conf"),
        ("Description", "own", "/usr/lib/systemd/system/getty@tty1.service.d/20-b.conf")]


def test_a_unit_file_systemd_cannot_parse_is_unloadable_and_not_enabled(tmp_path):
    put(tmp_path, "/lib/systemd/system/serial-getty@.service", "[Unit]\n[Install] # getty\nWantedBy=getty.target\n")
    link(tmp_path, "/etc/systemd/system/getty.target.wants/serial-getty@ttyS0.service",
         "/lib/systemd/system/serial-getty@.service")
    target = Target(str(tmp_path))
    assert units.state(target, "serial-getty@ttyS0.service") == ("unloadable", [])
    assert units.load_error(target, "serial-getty@ttyS0.service") == (
        "%s/lib/systemd/system/serial-getty@.service line 2: invalid section header '[Install] # getty'" % tmp_path)
    with pytest.raises(ConfigError, match="line 2: invalid section header .*: systemctl cannot read it: not enabled"):
        units.enablement_links(target, "serial-getty@ttyS1.service")

    # a line that is not UTF-8 fails it too; a comment that is not does not
    with open(put(tmp_path, "/lib/systemd/system/serial-getty@.service", ""), "wb") as handle:
        handle.write(b"# f\xfcr ttyS0\n[Unit]\nDescription=Serial Getty f\xfcr %I\n[Install]\nWantedBy=getty.target\n")
    assert units.load_error(target, "serial-getty@ttyS0.service") == (
        "%s/lib/systemd/system/serial-getty@.service line 3: a line that is not valid UTF-8" % tmp_path)


# ----------------------------------------------------------------- packages
def test_dpkg_status():
    text = ("Package: google-guest-agent\nStatus: install ok installed\nVersion: 20211116.00-6\n"
            "Description: x\n multi-line\n\nPackage: chrony\nStatus: deinstall ok config-files\nVersion: 4.3\n\n"
            "Package: openssh-server\nStatus: install ok installed\nVersion: 1:9.2p1-2\n")
    assert packages.parse_dpkg_status(text) == {"google-guest-agent": "20211116.00-6",
                                                "openssh-server": "1:9.2p1-2"}


@pytest.mark.parametrize("state", ["triggers-pending", "triggers-awaited", "installed"])
def test_dpkg_status_counts_a_package_configured_with_triggers_left_as_installed(state):
    """A dpkg run that defers triggers (``--no-triggers``), or one cut
    short, leaves packages in triggers-pending or triggers-awaited until the
    triggers run: configured, their files all there (man dpkg, "Package
    states"); unpacked and half-configured ones are not configured."""
    text = ("Package: openssh-server\nStatus: install ok %s\nVersion: 1:9.2p1-2+deb12u3\n\n"
            "Package: google-guest-agent\nStatus: install reinstreq half-configured\nVersion: 20211116.00-6\n\n"
            "Package: chrony\nStatus: install ok unpacked\nVersion: 4.3-2\n" % state)
    assert packages.parse_dpkg_status(text) == {"openssh-server": "1:9.2p1-2+deb12u3"}


def test_dpkg_journal_of_a_run_cut_short_is_newer_than_the_status_file(tmp_path):
    """dpkg writes each package's new record to updates/NNNN and folds them
    into the status file only at its end (lib/dpkg/dbmodify.c): an image
    taken during an upgrade that installed the guest agent and removed
    chrony has the status file from before.  dpkg-query reads both."""
    put(tmp_path, "/var/lib/dpkg/status",
        "Package: chrony\nStatus: install ok installed\nArchitecture: amd64\nVersion: 4.3-2\n\n"
        "Package: openssh-server\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1:9.2p1-2\n\n"
        "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nMulti-Arch: same\nVersion: 2.36-9\n\n"
        "Package: libc6\nStatus: install ok installed\nArchitecture: i386\nMulti-Arch: same\nVersion: 2.36-9\n")
    put(tmp_path, "/var/lib/dpkg/updates/0000",
        "Package: google-guest-agent\nStatus: install ok half-installed\nArchitecture: amd64\nVersion: 20211116.00-6\n")
    put(tmp_path, "/var/lib/dpkg/updates/0001",
        "Package: google-guest-agent\nStatus: install ok installed\nArchitecture: amd64\nVersion: 20211116.00-6\n")
    put(tmp_path, "/var/lib/dpkg/updates/0002", "Package: chrony\nStatus: deinstall ok config-files\n"
        "Architecture: amd64\nVersion: 4.3-2\n")
    put(tmp_path, "/var/lib/dpkg/updates/0003", "Package: libc6\nStatus: install ok unpacked\nArchitecture: i386\n"
        "Multi-Arch: same\nVersion: 2.36-9\n")
    put(tmp_path, "/var/lib/dpkg/updates/tmp.i", "Package: openssh-server\nStatus: purge ok not-installed\n")
    found = packages.Packages(Target(str(tmp_path))).query(["google-guest-agent", "chrony", "openssh-server", "libc6"])
    assert found == {"google-guest-agent": "20211116.00-6", "chrony": None, "openssh-server": "1:9.2p1-2",
                     "libc6": "2.36-9"}
    put(tmp_path, "/var/lib/dpkg/updates/0004", "\x7fELF\x02\x01\x01\0\0\0")
    with pytest.raises(ConfigError, match=r"/var/lib/dpkg/updates/0004: binary data"):
        packages.Packages(Target(str(tmp_path))).query(["google-guest-agent"])


@pytest.mark.parametrize("garbage", ["\x7fELF\x02\x01\x01\0\0\0", "<html><body>not found</body></html>\n",
                                     "Package: chrony\nStatus: install ok installed\nthis line has no field\n"])
def test_dpkg_status_that_dpkg_cannot_read_is_an_error_not_not_installed(tmp_path, garbage):
    put(tmp_path, "/var/lib/dpkg/status", garbage)
    with pytest.raises(ConfigError, match=r"/var/lib/dpkg/status(: binary data| line \d+ is not a 'Field: value' line)"):
        packages.Packages(Target(str(tmp_path))).query(["google-guest-agent"])


CHRONY = "Package: chrony\nStatus: install ok installed\nArchitecture: %s\nVersion: 4.3-2\n"
LIBC = "Package: libc6\nStatus: install ok installed\nArchitecture: %s\n%sVersion: 2.36-9\n"


@pytest.mark.parametrize("status, journal, refused", [
    (CHRONY % "amd64" + "Version: 4.3-3\n", None, "line 5 sets the Version field a second time in the record of chrony"),
    ((CHRONY % "amd64")[:-1], None, "line 4 ends without a newline in the middle of a field"),
    (CHRONY % "amd64" + "\n" + CHRONY % "i386", None, "chrony has installed records that are not all Multi-Arch: "
     "same, so dpkg cannot read the database (\"multiple non-coinstallable"),
    (LIBC % ("amd64", "Multi-Arch: same\n") + "\n" + LIBC % ("i386", ""), None, "(\"mixed non-coinstallable"),
    (LIBC % ("amd64", "Multi-Arch: same\n") + "\n" + LIBC % ("i386", "Multi-Arch: same\n"), LIBC % ("amd64", ""),
     "updates/0000: libc6 is not Multi-Arch: same but the package has 2 installed instances"),
])
def test_dpkg_database_dpkg_refuses_is_refused(tmp_path, status, journal, refused):
    """What dpkg-query refuses (lib/dpkg/parse.c: a field given twice, a file ending inside a field,
    instances of a package that cannot be installed together) is an error naming the file, not a
    list of packages (test_dpkg_real_dpkg_query.py compares with the real dpkg-query)."""
    put(tmp_path, "/var/lib/dpkg/status", status)
    if journal:
        put(tmp_path, "/var/lib/dpkg/updates/0000", journal)
    with pytest.raises(ConfigError, match=re.escape(refused)):
        packages.Packages(Target(str(tmp_path))).query(["chrony"])
    status = LIBC % ("amd64", "Multi-Arch: same\n") + "\n" + LIBC % ("i386", "Multi-Arch: same\n") + "\n" + \
        "Package: chrony\nStatus: purge ok not-installed\nArchitecture: i386\n\n" + CHRONY % "amd64"
    put(tmp_path, "/var/lib/dpkg/status", status)
    put(tmp_path, "/var/lib/dpkg/updates/0000", (CHRONY % "all").replace("4.3-2", "4.3-3"))   # a cross-grade
    assert packages.Packages(Target(str(tmp_path))).query(["chrony", "libc6"]) == {"chrony": "4.3-3", "libc6": "2.36-9"}


@pytest.mark.parametrize("kind,make", [
    ("FIFO", os.mkfifo), ("directory", os.mkdir), ("link loop", lambda path: os.symlink("status", path))])
def test_a_dpkg_status_that_is_not_a_regular_file_is_named(tmp_path, kind, make):
    """Not "no package database found": the status file is there, and the error says what it is."""
    put(tmp_path, "/var/lib/dpkg/available", "")
    make(str(tmp_path / "var/lib/dpkg/status"))
    with pytest.raises(ConfigError, match=r"/var/lib/dpkg/status: .*(FIFO|directory|link)") as error:
        packages.Packages(Target(str(tmp_path))).query(["google-guest-agent"])
    assert "no package database" not in str(error.value)


def test_packages_without_a_database(tmp_path):
    put(tmp_path, "/etc/hostname", "x\n")
    with pytest.raises(ConfigError, match="no package database"):
        packages.Packages(Target(str(tmp_path))).query(["x"])


class RpmModule(object):
    """rpm (and the install tools) as on openSUSE Leap 15.6 with SUSE's guest
    packages: google-guest-oslogin provides google-compute-engine-oslogin
    (openSUSE's google-guest-oslogin.spec); ``rpm -q NAME`` matches names
    only, ``--whatprovides`` names and what packages provide."""
    installed = {"google-guest-agent": ("20240701.00", "150000.1.49.1", ()),
                 "google-guest-oslogin": ("20240701.00", "150000.1.35.1", ("google-compute-engine-oslogin",))}

    def __init__(self, tools=("rpm", "zypper")):
        self.tools, self.commands = tools, []

    def get_bin_path(self, name, required=False, opt_dirs=None):
        return "/usr/bin/" + name if name in self.tools else None

    def run_command(self, argv, environ_update=None):
        self.commands.append(argv)
        if not argv[0].endswith("/rpm"):
            return 0, "", ""
        name, form = argv[-1], argv[argv.index("--qf") + 1]
        provides = "--whatprovides" in argv
        found = [(n, v, r) for n, (v, r, also) in sorted(self.installed.items()) if n == name or provides and name in also]
        if not found:
            return 1, ("no package provides %s\n" if provides else "package %s is not installed\n") % name, ""
        return 0, "".join(form.replace("%{NAME}", n).replace("%{VERSION}", v).replace("%{RELEASE}", r).replace("\\n", "\n")
                          for n, v, r in found), ""


def test_rpm_packages_count_what_provides_the_name(tmp_path):
    put(tmp_path, "/usr/lib/sysimage/rpm/rpmdb.sqlite", "SQLite format 3\0")
    module = RpmModule()
    wanted = ["google-guest-agent", "google-compute-engine-oslogin", "google-compute-engine"]
    expected = {"google-guest-agent": "20240701.00-150000.1.49.1",
                "google-compute-engine-oslogin": "20240701.00-150000.1.35.1 (google-guest-oslogin)",
                "google-compute-engine": None}
    assert packages.Packages(Target(str(tmp_path)), module).query(wanted) == expected
    # a private copy of the tree's database (rpm writes where it reads), never the tree's own path
    assert all(c[:2] == ["/usr/bin/rpm", "--dbpath"] and c[3:5] == ["-q", "--whatprovides"] and "--root" not in c
               and not c[2].startswith(str(tmp_path)) for c in module.commands)
    # the tree's answers are kept: asking again copies and runs nothing, a new name is asked alone
    tree = packages.Packages(Target(str(tmp_path)), module)
    tree.query(wanted)
    count = len(module.commands)
    assert tree.query(wanted[:2]) == dict((name, expected[name]) for name in wanted[:2])
    assert len(module.commands) == count
    assert tree.query(["google-guest-agent", "google-osconfig-agent"]) == {
        "google-guest-agent": expected["google-guest-agent"], "google-osconfig-agent": None}
    assert len(module.commands) == count + 1 and module.commands[-1][-1] == "google-osconfig-agent"
    # the running system's database: the same query without --root (this host need not be an rpm system)
    module = RpmModule()
    assert packages.Packages(Target("/"), module)._rpm(wanted) == expected
    assert all(c[:3] == ["/usr/bin/rpm", "-q", "--whatprovides"] for c in module.commands)


class DebianRpmModule(RpmModule):
    """Debian's rpm 4.18 (package rpm 4.18.0+dfsg-1+deb12u1): its compiled-in
    database is ~/.rpmdb, so without --dbpath a tree's database is not read
    (and rpm creates an empty one in the tree: no package provides anything);
    a database it cannot open: error lines on stderr, rc 1."""

    def __init__(self, broken=False):
        super(DebianRpmModule, self).__init__()
        self.broken = broken

    def run_command(self, argv, environ_update=None):
        if "--dbpath" not in argv:
            self.commands.append(argv)
            return 1, "no package provides %s\n" % argv[-1], ""
        dbpath = argv[argv.index("--dbpath") + 1]
        self.seen = sorted(os.listdir(dbpath))
        if self.broken:
            self.commands.append(argv)
            return 1, "no package provides %s\n" % argv[-1], (
                "error: sqlite failure: CREATE TABLE IF NOT EXISTS 'Packages' (...): file is not a database\n"
                "error: cannot open Packages database in %s\n" % dbpath)
        return super(DebianRpmModule, self).run_command(argv, environ_update)


@pytest.mark.parametrize("layout", [
    {"/var/lib/rpm/rpmdb.sqlite": None},                                   # RHEL 9
    {"/var/lib/rpm/Packages": None},                                       # RHEL 8 (bdb)
    # Fedora, SUSE: the database moved, /var/lib/rpm a link to it
    {"/usr/lib/sysimage/rpm/rpmdb.sqlite": None, "/var/lib/rpm": "../../usr/lib/sysimage/rpm"},
])
def test_rpm_reads_the_tree_s_own_database_whatever_the_host_s_rpm_defaults_to(tmp_path, layout):
    for path, value in layout.items():
        if value is None:
            put(tmp_path, path, "db")
        else:
            os.makedirs(os.path.dirname(str(tmp_path) + path), exist_ok=True)
            os.symlink(value, str(tmp_path) + path)
    module = DebianRpmModule()
    assert packages.Packages(Target(str(tmp_path)), module).query(["google-guest-agent"]) == {
        "google-guest-agent": "20240701.00-150000.1.49.1"}
    # rpm read a copy of the database directory the layout has
    assert module.seen == [os.path.basename([p for p, v in layout.items() if v is None][0])]


def test_rpm_system_with_dpkg_installed_reads_rpm(tmp_path):
    """Fedora's and EPEL's dpkg package creates an empty /var/lib/dpkg/status
    (dpkg.spec, %install): the system's packages are still rpm's."""
    put(tmp_path, "/var/lib/rpm/rpmdb.sqlite", "db")
    put(tmp_path, "/var/lib/dpkg/status", "")
    tree = packages.Packages(Target(str(tmp_path)), DebianRpmModule())
    assert tree.format == "rpm"
    assert tree.query(["google-guest-agent"]) == {"google-guest-agent": "20240701.00-150000.1.49.1"}
    # a Debian system (dpkg lists itself) with rpm's database too is still a dpkg system
    put(tmp_path, "/var/lib/dpkg/status", "Package: dpkg\nStatus: install ok installed\nVersion: 1.21.22\n")
    assert packages.Packages(Target(str(tmp_path)), DebianRpmModule()).format == "deb"
    os.unlink(str(tmp_path / "var/lib/rpm/rpmdb.sqlite"))
    os.rmdir(str(tmp_path / "var/lib/rpm"))
    put(tmp_path, "/var/lib/dpkg/status", "")
    assert packages.Packages(Target(str(tmp_path)), DebianRpmModule()).format == "deb"


def test_rpm_database_that_cannot_be_read_is_unknown_not_missing(tmp_path):
    os.makedirs(str(tmp_path / "var/lib/rpm"))
    with pytest.raises(ConfigError, match=r"no rpm database file \(rpmdb.sqlite, Packages.db, Packages\)"):
        packages.Packages(Target(str(tmp_path)), DebianRpmModule()).query(["google-guest-agent"])
    put(tmp_path, "/var/lib/rpm/rpmdb.sqlite", "garbage")
    with pytest.raises(ConfigError, match="rpm cannot read the package database of .*cannot open Packages database"):
        packages.Packages(Target(str(tmp_path)), DebianRpmModule(broken=True)).query(["google-guest-agent"])


class NoNdbRpm(RpmModule):
    """Debian's and Ubuntu's rpm (sqlite and bdb_ro, no ndb) on SUSE's
    Packages.db: dbDetectBackend (lib/backend/dbi.cc) finds no backend for
    it, so rpm makes an empty rpmdb.sqlite beside it and answers from that,
    with no error, that no package provides anything."""

    def run_command(self, argv, environ_update=None):
        self.commands.append(argv)
        dbpath = argv[argv.index("--dbpath") + 1]
        if not os.path.exists(os.path.join(dbpath, "rpmdb.sqlite")):
            with open(os.path.join(dbpath, "rpmdb.sqlite"), "w") as handle:
                handle.write("SQLite format 3\0")
        return 1, "no package provides %s\n" % argv[-1], ""


def test_rpm_without_the_backend_of_the_tree_s_database_is_unknown_not_missing(tmp_path):
    put(tmp_path, "/usr/lib/sysimage/rpm/Packages.db", "ndb")   # SLES 15, openSUSE Leap 15
    link(tmp_path, "/var/lib/rpm", "../../usr/lib/sysimage/rpm")
    with pytest.raises(ConfigError, match=r"usr/lib/sysimage/rpm: this machine's rpm has no backend for the database "
                                          r"Packages.db: it made an empty rpmdb.sqlite"):
        packages.Packages(Target(str(tmp_path)), NoNdbRpm()).query(["google-guest-agent"])
    assert sorted(os.listdir(str(tmp_path / "usr/lib/sysimage/rpm"))) == ["Packages.db"]


@pytest.mark.skipif(not shutil.which("rpm"), reason="needs rpm (Debian: rpm)")
def test_real_rpm_on_a_database_it_cannot_read_is_unknown_not_missing(tmp_path):
    """This machine's rpm on a SUSE Packages.db (here not a real one): without
    ndb (Debian's rpm) it makes an empty sqlite database, with ndb it cannot
    open it; either way no answer, never \"not installed\"."""
    put(tmp_path, "/usr/lib/sysimage/rpm/Packages.db", "not really ndb")
    before = tree_state(tmp_path)
    with pytest.raises(ConfigError, match=str(tmp_path)):   # the database or the tree named
        packages.Packages(Target(str(tmp_path)), CommandModule()).query(["google-guest-agent"])
    assert tree_state(tmp_path) == before


class JoiningRpm(RpmModule):
    """rpm as it finds its database: ``--root`` + ``--dbpath`` (else this
    machine's %_dbpath: /var/lib/rpm, Debian's rpm ~/.rpmdb) opened as a
    path of this machine, links followed (rpm's lib/rpmdb.c, rpmdbNew); the
    database here is a text file of ``name version`` lines."""

    def __init__(self, default_dbpath="/var/lib/rpm"):
        super(JoiningRpm, self).__init__()
        self.default_dbpath = default_dbpath

    def run_command(self, argv, environ_update=None):
        self.commands.append(argv)
        root = argv[argv.index("--root") + 1] if "--root" in argv else "/"
        dbpath = argv[argv.index("--dbpath") + 1] if "--dbpath" in argv else self.default_dbpath
        try:
            with open(os.path.join(root, dbpath.lstrip("/"), "rpmdb.sqlite")) as handle:
                rows = dict(line.split() for line in handle)
        except (IOError, OSError):
            return 1, "", "error: cannot open Packages database in %s\n" % dbpath
        name = argv[-1]
        return (0, "%s %s\n" % (name, rows[name]), "") if name in rows else (1, "no package provides %s\n" % name, "")


class CommandModule(object):
    """The two calls Packages makes of AnsibleModule, run for real."""
    commands = []

    def get_bin_path(self, name, required=False, opt_dirs=None):
        return shutil.which(name)

    def run_command(self, argv, environ_update=None):
        done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
        return done.returncode, done.stdout, done.stderr


def tree_state(root):
    """Every path under ``root`` with its type, size, mode, mtime and content."""
    state = {}
    for top, dirs, files in os.walk(str(root)):
        for name in dirs + files:
            path = os.path.join(top, name)
            info = os.lstat(path)
            content = None
            if stat.S_ISREG(info.st_mode):
                with open(path, "rb") as handle:
                    content = handle.read()
            state[path] = (info.st_mode, info.st_size, info.st_mtime_ns, content)
    return state


@pytest.mark.skipif(not (shutil.which("rpm") and shutil.which("rpmbuild")), reason="needs rpm and rpmbuild (Debian: rpm)")
@pytest.mark.parametrize("sidecars", [False, True], ids=["shut-down", "with-shm"])
def test_rpm_query_of_a_tree_writes_nothing_into_it(tmp_path, sidecars):
    """A real rpm (Debian's 4.18, sqlite) on a tree's database in WAL mode, as
    RHEL 9, Fedora and SUSE ship it: even ``rpm -q`` creates
    ``rpmdb.sqlite-shm`` and ``-wal`` where the database is and touches the
    directory.  A checked image must not change: rpm reads a private copy."""
    spec = tmp_path / "oslogin.spec"
    spec.write_text("Name: google-guest-oslogin\nVersion: 20240701.00\nRelease: 1\nSummary: t\nLicense: MIT\n"
                    "Provides: google-compute-engine-oslogin\nBuildArch: noarch\n%description\nt\n%files\n")
    top = tmp_path / "rpmbuild"
    # --nodeps: rpmbuild checks build dependencies in this machine's database (~/.rpmdb on Debian),
    # which it would create
    subprocess.run(["rpmbuild", "--define", "_topdir %s" % top, "--nodeps", "-bb", str(spec)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    built = [os.path.join(d, f) for d, dirs, files in os.walk(str(top / "RPMS")) for f in files]
    root = tmp_path / "image"
    dbdir = root / "usr/lib/sysimage/rpm"
    dbdir.mkdir(parents=True)
    subprocess.run(["rpm", "--dbpath", str(dbdir), "-i", "--justdb", "--nodeps", "--noscripts"] + built, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    link(root, "/var/lib/rpm", "../../usr/lib/sysimage/rpm")
    for name in os.listdir(str(dbdir)):   # what a cleanly shut down image keeps
        if name != "rpmdb.sqlite" and not (sidecars and name == "rpmdb.sqlite-shm"):
            os.unlink(str(dbdir / name))
    time.sleep(0.01)
    before = tree_state(root)
    found = packages.Packages(Target(str(root)), CommandModule()).query(
        ["google-compute-engine-oslogin", "google-guest-agent"])
    assert found == {"google-compute-engine-oslogin": "20240701.00-1 (google-guest-oslogin)", "google-guest-agent": None}
    assert tree_state(root) == before


@pytest.mark.parametrize("default_dbpath", ["/var/lib/rpm", "/root/.rpmdb"])
def test_rpm_reads_the_trees_database_never_one_a_link_leads_to(tmp_path, default_dbpath):
    root, outside = tmp_path / "image", tmp_path / "outside"
    # SUSE's layout: the database in /usr/lib/sysimage/rpm; /var/lib/rpm a link to this machine's
    put(root, "/usr/lib/sysimage/rpm/rpmdb.sqlite", "google-guest-agent 20240701.00-1\n")
    put(outside, "/rpmdb.sqlite", "google-guest-agent 666-OUTSIDE\n")
    link(root, "/var/lib/rpm", str(outside))
    module = JoiningRpm(default_dbpath)
    found = packages.Packages(Target(str(root)), module).query(["google-guest-agent"])
    assert found == {"google-guest-agent": "20240701.00-1"}, module.commands
    assert "--root" not in module.commands[0]
    # Fedora's layout: /var/lib/rpm -> ../../usr/lib/sysimage/rpm: the link is resolved in the tree
    os.unlink(str(root / "var/lib/rpm"))
    link(root, "/var/lib/rpm", "../../usr/lib/sysimage/rpm")
    assert packages.Packages(Target(str(root)), JoiningRpm(default_dbpath)).query(
        ["google-guest-agent"]) == {"google-guest-agent": "20240701.00-1"}
    # a database file that is a link out of the tree is not handed to rpm
    os.unlink(str(root / "usr/lib/sysimage/rpm/rpmdb.sqlite"))
    link(root, "/usr/lib/sysimage/rpm/rpmdb.sqlite", str(outside / "rpmdb.sqlite"))
    module = JoiningRpm(default_dbpath)
    with pytest.raises(ConfigError, match=r"rpm/rpmdb.sqlite: is a symbolic link, which rpm would follow outside"):
        packages.Packages(Target(str(root)), module).query(["google-guest-agent"])
    assert module.commands == []


# rpm's own /usr/lib/rpm/macros (macros.in, rpm 4.x to 6.1): %_dbpath %{_var}/lib/rpm, with a
# definition over lines after it whose second line starts with a '%' (rdcl joins them)
RPM_MACROS = ("%_usr\t\t\t/usr\n%_var\t\t\t/var\n%_dbpath\t\t%{_var}/lib/rpm\n#%_dbpath /commented\n"
              "%_rpmlock_path\t%{_dbpath}/.rpm.lock\n%__spec_install_template\\\n%_dbpath /not/this\\\n%{nil}\n"
              "%__lua_body %{lua:\n%_dbpath /not/this either\n}\n")


@pytest.mark.parametrize("macros,expected", [
    # an administrator's: the last definition in rpm's order wins; backups and .rpmnew files are not read
    ({"/etc/rpm/macros.dbpath": "# moved\n%_dbpath /var/lib/rpmdb-custom\n",
      "/etc/rpm/macros.dbpath.rpmnew": "%_dbpath /var/lib/rpm\n", "/etc/rpm/macros.zz~": "%_dbpath /var/lib/rpm\n",
      "/usr/lib/rpm/macros.d/macros.zz": "%_dbpath /var/lib/rpm\n"}, "/var/lib/rpmdb-custom"),
    # Fedora 36 on (%{_usr}/lib/sysimage/rpm), as a vendor's file would set it
    ({"/usr/lib/rpm/redhat/macros": "%_dbpath %{_usr}/lib/sysimage/rpm\n"}, "/usr/lib/sysimage/rpm"),
    # %_var redefined later: rpm expands %_dbpath when it is used, with the last %_var
    ({"/etc/rpm/macros": "%_var /srv/var\n%_dbpath\n"}, "/srv/var/lib/rpm"),
    ({"/etc/rpm/macros.custom": "%_dbpath %_var/lib/rpmdb-custom  \n"}, "/var/lib/rpmdb-custom"),
    # rpm-ostree's images (Fedora CoreOS, bootc): rust/src/composepost.rs, postprocess_rpm_macro
    ({"/usr/lib/rpm/macros.d/macros.rpm-ostree": "%_dbpath /usr/share/rpm\n"}, "/usr/share/rpm"),
])
def test_rpm_database_where_the_tree_s_macro_files_put_it(tmp_path, macros, expected):
    """rpm opens the database %_dbpath names, read from its macro files in
    order (lib/rpmrc.cc, setDefaults; rpmio/macro.cc, macros::init), not
    the first directory of a fixed list: a stale database left in
    /var/lib/rpm is not the system's."""
    put(tmp_path, "/usr/lib/rpm/macros", RPM_MACROS)
    for path, text in macros.items():
        put(tmp_path, path, text)
    os.makedirs(str(tmp_path / "etc/rpm"), exist_ok=True)
    os.mkfifo(str(tmp_path / "etc/rpm/macros.fifo"))   # not a regular file: not opened (it would block)
    for path in ("/var/lib/rpm", "/usr/lib/sysimage/rpm", "/var/lib/rpmdb-custom", "/srv/var/lib/rpm", "/usr/share/rpm"):
        put(tmp_path, path + "/rpmdb.sqlite", "google-guest-agent %s\n" % ("20240701.00-1" if path == expected else "1-STALE"))
    target = Target(str(tmp_path))
    assert packages.rpm_dbpath(target) == expected
    module = JoiningRpm()
    assert packages.Packages(target, module).query(["google-guest-agent"]) == {"google-guest-agent": "20240701.00-1"}


def test_rpm_database_named_by_macros_is_the_only_one(tmp_path):
    """A %_dbpath holding no database: rpm finds none, so none is read, not
    the one in /var/lib/rpm; the tree is still an rpm system."""
    put(tmp_path, "/etc/rpm/macros.dbpath", "%_dbpath /var/lib/rpmdb-custom\n")
    put(tmp_path, "/var/lib/rpm/rpmdb.sqlite", "google-guest-agent 1-STALE\n")
    os.makedirs(str(tmp_path / "var/lib/rpmdb-custom"))
    module = JoiningRpm()
    tree = packages.Packages(Target(str(tmp_path)), module)
    assert tree.format == "rpm"
    with pytest.raises(ConfigError, match=r"no rpm database file \(rpmdb.sqlite, Packages.db, Packages\) in /var/lib/rpmdb-custom\Z"):
        tree.query(["google-guest-agent"])
    assert module.commands == []


def test_rpm_macro_files_are_read_once_per_package_reader(tmp_path, monkeypatch):
    """Telling the format and querying both need %_dbpath: the tree's macro
    files are read once, and a refused %_dbpath is still refused by the query."""
    reads = []
    real = packages.rpm_macros
    monkeypatch.setattr(packages, "rpm_macros", lambda target: reads.append(target) or real(target))
    put(tmp_path, "/etc/rpm/macros.dbpath", "%_dbpath /var/lib/rpmdb-custom\n")
    put(tmp_path, "/var/lib/rpmdb-custom/rpmdb.sqlite", "google-guest-agent 20240701.00-1\n")
    tree = packages.Packages(Target(str(tmp_path)), JoiningRpm())
    assert tree.query(["google-guest-agent"]) == {"google-guest-agent": "20240701.00-1"}
    assert tree.query(["google-compute-engine-oslogin"]) == {"google-compute-engine-oslogin": None}
    assert len(reads) == 1


@pytest.mark.parametrize("dbpath", ["/../outside", "/var/lib/link-out", "/var/lib/link-up"])
def test_rpm_database_macro_leading_out_of_the_tree_reads_nothing_outside(tmp_path, dbpath):
    root, outside = tmp_path / "image", tmp_path / "outside"
    put(outside, "/rpmdb.sqlite", "google-guest-agent 666-OUTSIDE\n")
    put(root, "/etc/rpm/macros.dbpath", "%%_dbpath %s\n" % dbpath)
    link(root, "/var/lib/link-out", str(outside))
    link(root, "/var/lib/link-up", "../../../../outside")
    put(root, "/var/lib/rpm/rpmdb.sqlite", "google-guest-agent 1-STALE\n")
    module = JoiningRpm()
    with pytest.raises(ConfigError, match=r"no rpm database file .* in %s\Z" % dbpath):
        packages.Packages(Target(str(root)), module).query(["google-guest-agent"])
    assert module.commands == []


@pytest.mark.parametrize("text,message", [
    ("%_dbpath %(rm -rf /)\n", r"macros.dbpath line 1: %_dbpath %\(rm -rf /\) is not a path of plain characters"),
    ("# run\n%_dbpath %(touch /tmp/x\\\n)/rpm\n", r"line 2: %_dbpath %\(touch /tmp/x\\\n\)/rpm is not a path"),
    ("%_dbpath %{?_home}/rpm\n", r"line 1: %_dbpath %\{\?_home\}/rpm is not a path"),
    ("%_dbpath /var/lib/rpm # moved\n", r"line 1: %_dbpath /var/lib/rpm # moved is not a path"),
    ("%_dbpath %{_sysconfdir}/rpmdb\n", r"line 1: %_dbpath names %_sysconfdir, which is not a path macro defined in rpm's"),
    ("%_dbpath %{_usr}/rpmdb\n", r"line 1: %_dbpath names %_usr, which is not a path macro defined"),
    ("%_usr %{_var}\n%_var %_usr\n%_dbpath %{_var}/rpm\n", r"line 1: %_usr names %_var, which names it back"),
    ("%_var %(id)\n%_dbpath %{_var}/rpm\n", r"line 1: %_var %\(id\) is not a path"),
    ("%_dbpath var/lib/rpm\n", r"line 1: %_dbpath var/lib/rpm is not an absolute path"),
])
def test_rpm_database_macro_that_is_not_a_plain_path_is_refused(tmp_path, text, message):
    """rpm would run a shell for %(...) (rpmio/macro.cc, doShellEscape): a
    checker runs nothing of the tree's, and names the file and line."""
    put(tmp_path, "/etc/rpm/macros.dbpath", text)
    put(tmp_path, "/var/lib/rpm/rpmdb.sqlite", "google-guest-agent 1-STALE\n")
    module = JoiningRpm()
    tree = packages.Packages(Target(str(tmp_path)), module)
    assert tree.format == "rpm"
    with pytest.raises(ConfigError, match=message):
        tree.query(["google-guest-agent"])
    assert module.commands == [] and not os.path.exists("/tmp/x")


def test_packages_install_with_zypper_on_suse():
    module = RpmModule(tools=("rpm", "zypper"))
    ok, output = packages.install(module, "rpm", ["google-compute-engine-oslogin"])
    assert ok and module.commands == [["/usr/bin/zypper", "--non-interactive", "install", "google-compute-engine-oslogin"]]
    module = RpmModule(tools=("rpm", "dnf", "zypper"))
    packages.install(module, "rpm", ["google-guest-agent"])
    assert module.commands == [["/usr/bin/dnf", "install", "-y", "google-guest-agent"]]
    assert packages.install(RpmModule(tools=("rpm",)), "rpm", ["x"]) == (False, "no dnf, yum or zypper")


# ------------------------------------------------------------------- time
def test_chrony_include_confdir_sourcedir(tmp_path):
    put(tmp_path, "/etc/chrony/chrony.conf", "confdir /etc/chrony/conf.d\npool 2.debian.pool.ntp.org iburst\n"
        "sourcedir /run/chrony-dhcp\nsourcedir /etc/chrony/sources.d\ninclude /etc/chrony/extra/*.conf\n")
    put(tmp_path, "/etc/chrony/conf.d/10-site.conf", "server ntp.example.com iburst\n")
    put(tmp_path, "/etc/chrony/sources.d/gce.sources", "# gce\nserver metadata.google.internal iburst\n")
    put(tmp_path, "/etc/chrony/extra/a.conf", "peer 10.0.0.1\n! server commented.example\n")
    config = timesync.read_chrony(Target(str(tmp_path)))
    # a confdir is read where the directive stands (conf.c parse_confdir), the sourcedirs after the configuration
    assert [(s.kind, s.host) for s in config.sources] == [
        ("server", "ntp.example.com"), ("pool", "2.debian.pool.ntp.org"), ("peer", "10.0.0.1"),
        ("server", "metadata.google.internal")]
    assert config.sourcedirs == ["/run/chrony-dhcp", "/etc/chrony/sources.d"]


def test_chrony_confdir_directives_each_hide_names_only_in_their_own_directories(tmp_path):
    """chrony 4.8 conf.c search_dirs(): a name in an earlier directory of one
    confdir line hides it in later ones of that line only; a confdir in a
    file that a confdir reads is read too."""
    put(tmp_path, "/etc/chrony/chrony.conf", "confdir /etc/chrony/a /etc/chrony/b\nconfdir /etc/chrony/c\n")
    put(tmp_path, "/etc/chrony/a/10.conf", "server a.example\nconfdir /etc/chrony/d\n")
    put(tmp_path, "/etc/chrony/b/10.conf", "server hidden.example\n")
    put(tmp_path, "/etc/chrony/b/20.conf", "server b.example\n")
    put(tmp_path, "/etc/chrony/c/10.conf", "server c.example\n")
    put(tmp_path, "/etc/chrony/d/10.conf", "server d.example\n")
    config = timesync.read_chrony(Target(str(tmp_path)))
    assert [s.host for s in config.sources] == ["a.example", "d.example", "b.example", "c.example"]


def test_chrony_sources_file_is_read_as_load_source_file_reads_it(tmp_path):
    """chrony 4.8 conf.c load_source_file(): it stops at a line without a
    newline, reads only server/pool/peer, and leaves out a line whose options
    it refuses (a trailing ``# comment`` is an option there)."""
    put(tmp_path, "/etc/chrony/chrony.conf", "sourcedir /etc/chrony/sources.d\n")
    put(tmp_path, "/etc/chrony/sources.d/a.sources", "server metadata.google.internal iburst # gce\n"
        "include /etc/chrony/x.conf\nserver ok.example iburst\nserver last.example")
    put(tmp_path, "/etc/chrony/x.conf", "server included.example\n")
    config = timesync.read_chrony(Target(str(tmp_path)))
    assert [s.host for s in config.sources] == ["ok.example"]


def test_chrony_and_ntp_words_end_where_c_isspace_ends_them(tmp_path):
    """chronyd (CPS_NormalizeLine()) and ntpd split a line at the C locale's isspace():
    a vertical tab separates words, a no-break space is part of the host name."""
    put(tmp_path, "/etc/chrony/chrony.conf", u"server\x0bmetadata.google.internal\x0ciburst\n"
        u"server metadata.google.internal\u00a0iburst\nsourcedir /etc/chrony/sources.d\n")
    put(tmp_path, "/etc/chrony/sources.d/a.sources", u"server\x0bsrc.example\n")
    put(tmp_path, "/etc/ntpsec/ntp.conf", u"server\x0bmetadata.google.internal\u00a0iburst\n")
    assert [s.host for s in timesync.read_chrony(Target(str(tmp_path))).sources] == [
        "metadata.google.internal", u"metadata.google.internal\u00a0iburst", "src.example"]
    assert [s.host for s in timesync.read_ntp(Target(str(tmp_path))).sources] == [
        u"metadata.google.internal\u00a0iburst"]


def test_chrony_server_lines_chronyd_does_not_use(tmp_path):
    """noselect (chrony 4.8 cmdparse.c CPS_GetSelectOption) is never selected; a
    word after ``#`` later in a chrony.conf line is an option chronyd refuses
    (CPS_NormalizeLine takes only a line's first character as a comment),
    so chronyd exits; a refclock is a time source too."""
    put(tmp_path, "/etc/chrony.conf", "server metadata.google.internal iburst noselect\n"
        "server 169.254.169.254 iburst # gce\nserver metadata prefer minpoll 4\n"
        "refclock PHC /dev/ptp_hyperv poll 3\nserver m2 maxpoll iburst\nserver m3 offset 1e-3 extfield F323\n")
    config = timesync.read_chrony(Target(str(tmp_path)))
    assert [(s.host, s.unused) for s in config.sources] == [
        ("metadata.google.internal", "noselect: chronyd never synchronises to it"),
        ("169.254.169.254", "chronyd does not start: invalid option #"),
        ("metadata", None), ("refclock PHC /dev/ptp_hyperv", None),
        # sscanf() of each value: a word that is not the number it takes makes the line one chronyd refuses
        ("m2", "chronyd does not start: maxpoll iburst: not a number"), ("m3", None)]


# chrony's unit as Debian 12 ships it (chrony 4.3-2+deb12u3, /lib/systemd/system/chrony.service), shortened
DEBIAN_CHRONY_UNIT = ("[Unit]\nDescription=chrony, an NTP client/server\n\n[Service]\nType=forking\n"
                      "EnvironmentFile=-/etc/default/chrony\nUser=_chrony\n"
                      "# Daemon is started as root, but still sandboxed\nExecStart=!/usr/sbin/chronyd $DAEMON_OPTS\n\n"
                      "[Install]\nAlias=chronyd.service\nWantedBy=multi-user.target\n")
# chrony's examples/chronyd.service, which Fedora and RHEL ship (their /etc/sysconfig/chronyd: OPTIONS="-F 2")
RED_HAT_CHRONY_UNIT = ("[Service]\nType=forking\nPIDFile=/run/chrony/chronyd.pid\n"
                       "EnvironmentFile=-/etc/sysconfig/chronyd\nExecStart=/usr/sbin/chronyd $OPTIONS\n\n"
                       "[Install]\nWantedBy=multi-user.target\n")


def chrony_tree(root, unit_path, unit_text):
    """A tree whose default chrony.conf names a pool and /etc/chrony/gce.conf the metadata server."""
    put(root, unit_path, unit_text)
    put(root, "/etc/chrony/chrony.conf", "pool 2.debian.pool.ntp.org iburst\n")
    put(root, "/etc/chrony.conf", "pool 2.rhel.pool.ntp.org iburst\n")
    put(root, "/etc/chrony/gce.conf", "server metadata.google.internal iburst\nsourcedir /etc/chrony/gce.d\n")
    return Target(str(root))


def assert_reads_gce_conf(config, path="/etc/chrony/gce.conf"):
    assert config.main == path and not config.fatal and not config.note, vars(config)
    assert [s.host for s in config.sources] == ["metadata.google.internal"]
    assert config.sourcedirs == ["/etc/chrony/gce.d"]


@pytest.mark.parametrize("options", [
    '"-F 1 -f /etc/chrony/gce.conf"', "'-F 1 -f/etc/chrony/gce.conf'", '-F 1 -df /etc/chrony/gce.conf',
    '"-f /etc/chrony/chrony.conf -F 1" # comment\nDAEMON_OPTS="-F 1 \\\n -f /etc/chrony/gce.conf"',
])
def test_chrony_is_read_from_the_file_debians_daemon_opts_name(tmp_path, options):
    """Debian's chrony.service runs ``chronyd $DAEMON_OPTS`` with
    EnvironmentFile=-/etc/default/chrony: the -f there is the file chronyd
    reads (chrony 4.8 main.c: getopt's -f, attached or not, grouped after
    -d; the last assignment in the file wins, a backslash-newline goes on)."""
    target = chrony_tree(tmp_path, "/lib/systemd/system/chrony.service", DEBIAN_CHRONY_UNIT)
    put(tmp_path, "/etc/default/chrony", "# Options to pass to chrony.\nDAEMON_OPTS=%s\n" % options)
    config = timesync.read_chrony(target, unit="chrony.service")
    assert_reads_gce_conf(config)
    assert "chrony.service starts chronyd with" in config.started and "/etc/default/chrony" in config.started
    assert_reads_gce_conf(timesync.read_chrony(target))   # the unit found without being named


def test_chrony_is_read_from_the_file_red_hats_options_name(tmp_path):
    target = chrony_tree(tmp_path, "/usr/lib/systemd/system/chronyd.service", RED_HAT_CHRONY_UNIT)
    put(tmp_path, "/etc/sysconfig/chronyd", "# Command-line options for chronyd\nOPTIONS='-F 2' ; comment\n"
        "OPTIONS=\"-F 2 -f /etc/chrony/gce.conf\"\n")
    assert_reads_gce_conf(timesync.read_chrony(target, unit="chronyd.service"))


def test_chrony_command_line_from_a_drop_in_that_resets_execstart(tmp_path):
    """systemd.service(5): an empty ExecStart= resets the list, the last line
    counts; a drop-in of the alias (chronyd.service.d) applies to Debian's
    chrony.service too; the ``!`` and ``-`` prefixes are no part of the path."""
    target = chrony_tree(tmp_path, "/lib/systemd/system/chrony.service", DEBIAN_CHRONY_UNIT)
    link(tmp_path, "/etc/systemd/system/chronyd.service", "/lib/systemd/system/chrony.service")
    put(tmp_path, "/etc/systemd/system/chronyd.service.d/override.conf", "[Service]\nExecStart=\n"
        "ExecStart=-!/usr/sbin/chronyd -F 1 \\\n  -f /etc/chrony/gce.conf\n")
    assert_reads_gce_conf(timesync.read_chrony(target, unit="chrony.service"))


def test_chrony_command_line_with_quoting_environment_and_a_missing_optional_file(tmp_path):
    """Environment= words are unquoted; ``$VAR`` as a word is split at blanks
    (quotes honoured), ``${VAR}`` is one word (systemd.service(5)); a
    missing ``-`` EnvironmentFile= is no error."""
    unit = ("[Service]\nEnvironment=\"GCE=-f '/etc/chrony/my gce.conf'\" CONF=/etc/chrony/other\\x20gce.conf\n"
            "EnvironmentFile=-/etc/sysconfig/chronyd\nExecStart=/usr/sbin/chronyd $OPTIONS $GCE\n")
    target = chrony_tree(tmp_path, "/usr/lib/systemd/system/chronyd.service", unit)
    put(tmp_path, "/etc/chrony/my gce.conf", "server metadata.google.internal iburst\nsourcedir /etc/chrony/gce.d\n")
    assert_reads_gce_conf(timesync.read_chrony(target, unit="chronyd.service"), "/etc/chrony/my gce.conf")
    put(tmp_path, "/etc/systemd/system/chronyd.service.d/conf.conf", "[Service]\nExecStart=\n"
        "ExecStart=/usr/sbin/chronyd -f ${CONF}\n")
    put(tmp_path, "/etc/chrony/other gce.conf", "server metadata.google.internal iburst\nsourcedir /etc/chrony/gce.d\n")
    assert_reads_gce_conf(timesync.read_chrony(target, unit="chronyd.service"), "/etc/chrony/other gce.conf")


@pytest.mark.parametrize("version, main", [(252, "/etc/chrony/chrony.conf"), (254, "/etc/chrony/gce.conf")])
def test_environment_file_comment_ending_in_a_backslash_as_the_images_systemd_reads_it(tmp_path, version, main):
    """Before systemd 254 a comment line ending in a backslash goes on in the next line (env-file.c
    COMMENT_ESCAPE): on Debian 12 (252) the OPTIONS= after it is comment, and chronyd reads its default."""
    target = chrony_tree(tmp_path, "/usr/lib/systemd/system/chronyd.service", RED_HAT_CHRONY_UNIT)
    put(tmp_path, "/usr/lib/x86_64-linux-gnu/systemd/libsystemd-shared-%d.so" % version, "")
    put(tmp_path, "/etc/sysconfig/chronyd", '# the GCE configuration \\\nOPTIONS="-f /etc/chrony/gce.conf"\n')
    put(tmp_path, "/etc/chrony/gce.conf", "server metadata.google.internal iburst\n")
    assert timesync.read_chrony(target, unit="chronyd.service").main == main


def test_chrony_without_the_file_its_f_names_does_not_start(tmp_path):
    """chrony 4.8 conf.c CNF_ReadFile() opens the file with UTI_OpenFile(...,
    'R'): chronyd exits when it is missing; so does systemd's start when a
    required EnvironmentFile= is missing."""
    target = chrony_tree(tmp_path, "/usr/lib/systemd/system/chronyd.service", RED_HAT_CHRONY_UNIT)
    put(tmp_path, "/etc/sysconfig/chronyd", 'OPTIONS="-F 2 -f /etc/chrony/missing.conf"\n')
    config = timesync.read_chrony(target, unit="chronyd.service")
    assert config.main == "/etc/chrony/missing.conf" and config.sources == []
    assert config.fatal.startswith("chronyd does not start: chronyd.service starts chronyd with -F 2 -f "
                                   "/etc/chrony/missing.conf") and config.fatal.endswith("which does not exist")
    put(tmp_path, "/etc/systemd/system/chronyd.service.d/env.conf", "[Service]\nEnvironmentFile=/etc/chrony/env\n")
    config = timesync.read_chrony(target, unit="chronyd.service")
    assert config.fatal == ("systemd does not start chronyd.service: its EnvironmentFile=/etc/chrony/env "
                            "(%s) does not exist" % target.display("/etc/systemd/system/chronyd.service.d/env.conf"))
    put(tmp_path, "/etc/systemd/system/chronyd.service.d/env.conf", "[Service]\nExecStart=\n")
    assert timesync.read_chrony(target, unit="chronyd.service").fatal == (
        "systemd does not start chronyd.service: an empty ExecStart= resets its command and none follows")


@pytest.mark.parametrize("data, why", [
    (b'OPTIONS="-f /etc/chrony/missing.conf"\nX=caf\xe9\n', "X=caf\ufffd is not UTF-8"),
    (b'OPTIONS="-f /etc/chrony/missing.conf"\n\0', "it holds a NUL byte"),
])
def test_an_environment_file_systemd_cannot_load(tmp_path, data, why):
    """env-file.c: a NUL byte or a value that is not UTF-8 fails the whole file; exec_context_load_environment()
    then skips a "-" file (its -f never reaches chronyd) and fails the start with a required one."""
    target = chrony_tree(tmp_path, "/usr/lib/systemd/system/chronyd.service", RED_HAT_CHRONY_UNIT)
    put(tmp_path, "/etc/sysconfig/chronyd", "")
    with open(str(tmp_path / "etc/sysconfig/chronyd"), "wb") as handle:
        handle.write(data)
    config = timesync.read_chrony(target, unit="chronyd.service")
    assert config.main == "/etc/chrony/chrony.conf" and config.fatal is None
    put(tmp_path, "/etc/systemd/system/chronyd.service.d/env.conf", "[Service]\nEnvironmentFile=/etc/sysconfig/chronyd\n")
    config = timesync.read_chrony(target, unit="chronyd.service")
    assert config.fatal == ("systemd does not start chronyd.service: it cannot load its EnvironmentFile=/etc/sysconfig/"
                            "chronyd (%s): %s: %s" % (target.display("/etc/systemd/system/chronyd.service.d/env.conf"),
                                                      target.display("/etc/sysconfig/chronyd"), why))


@pytest.mark.parametrize("text, fatal", [
    ("# " + "x" * 2045 + "\nserver metadata.google.internal\n", ":1 is a line of 2048 bytes (its newline included)"),
    ("server metadata.google.internal\n# " + "\u00e9" * 1023 + "\n", ":2 is a line of 2049 bytes"),
    ("server metadata.google.internal " + " " * 2013 + "\n", None),   # 2047 bytes with its newline
    ("server metadata.google.internal\n# " + "x" * 2045, None),       # the last line, no newline: 2047
    ("server metadata.google.internal\nconfdir " + "/etc/chrony/c " * 11 + "\n",
     ":2: confdir names 11 directories, chrony takes 1 to 10"),
    ("server metadata.google.internal\nconfdir\n", ":2: confdir names 0 directories"),
    ("server metadata.google.internal\nconfdir " + "/etc/chrony/c " * 10 + "\n", None),
    ("server metadata.google.internal\ninclude /etc/chrony/a.conf /etc/chrony/b.conf\n",
     ":2: include takes one pattern, not 2"),
    ("server metadata.google.internal\nconfdir " + "a " * 550000 + "\n", ":2 is a line of 1100009 bytes"),
    # parse_include(): glob(GLOB_NOMAGIC | GLOB_ERR), and CNF_ReadFile()'s MAX_INCLUDE_LEVEL
    ("server metadata.google.internal\ninclude /etc/chrony/none.conf\n",
     ":2: include /etc/chrony/none.conf: no such file (\"Could not open\")"),
    ("server metadata.google.internal\ninclude /etc/chrony/missing/*.conf\n",
     ":2: include /etc/chrony/missing/*.conf: the directory"),
    ("server metadata.google.internal\ninclude /etc/chrony/*.none\n", None),
    ("server metadata.google.internal\ninclude /etc/chrony/chrony.conf\n",
     " is included 11 levels deep, more than chronyd reads"),
])
def test_chrony_lines_that_make_chronyd_exit(tmp_path, text, fatal):
    """chrony 4.0+ conf.c: a line that fills CNF_ReadFile()'s 2048-byte buffer
    (a comment too: "String too long"), a confdir of more than 10 directories
    or none, an include of other than one pattern make chronyd exit.  They
    were read as if chronyd ran, and a confdir of 550,000 directories listed
    each (minutes).  Now chronyd does not start, and the message names the line."""
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "modules"))
    from hostile import alarm
    put(tmp_path, "/etc/chrony/chrony.conf", text)
    target = Target(str(tmp_path))
    with alarm(30):
        config = timesync.read_chrony(target)
    if fatal is None:
        assert config.fatal is None and [s.host for s in config.sources] == ["metadata.google.internal"]
    else:
        assert config.fatal.startswith("chronyd does not start: %s%s" % (target.display("/etc/chrony/chrony.conf"), fatal)), \
            config.fatal


def test_chrony_reads_no_sources_past_what_load_source_file_reads(tmp_path):
    """A sourcedir of more than 10 directories reads none (search_dirs(), not
    fatal there); a .sources line that does not fit load_source_file()'s
    buffer ends the file, as a line without its newline does."""
    put(tmp_path, "/etc/chrony/chrony.conf", "sourcedir " + "/etc/chrony/s " * 11 + "\nsourcedir /etc/chrony/t\n")
    put(tmp_path, "/etc/chrony/s/a.sources", "server eleven.example\n")
    put(tmp_path, "/etc/chrony/t/a.sources", "server first.example " + " " * 2026 + "\n"
        "server long.example " + " " * 2028 + "\nserver after.example\n")
    config = timesync.read_chrony(Target(str(tmp_path)))
    assert config.fatal is None and config.sourcedirs == ["/etc/chrony/t"]
    assert [s.host for s in config.sources] == ["first.example"]


@pytest.mark.parametrize("args, expected", [
    (["-F", "1", "-f", "/a", "-f/b"], ("/b", [], None, True)),   # the last -f counts
    (["-df", "/a", "line"], ("/a", ["line"], None, False)),
    (["-f", "-d"], ("-d", [], None, True)),   # getopt takes the next argument as the value, whatever it is
    (["-n", "-F", "1"], (None, [], None, False)),
    (["-f"], (None, [], "-f without its value: chronyd prints its help and exits", True)),
    (["-F", "1", "-Z"], (None, [], "-Z is no option of chronyd: it prints its help and exits", True)),
    (["-q"], (None, [], "with -q chronyd sets the clock once and exits", True)),
    (["-f", "/a", "--help"], (None, [], "with --help chronyd prints its help and exits", True)),
])
def test_chronyd_options_as_getopt_reads_them(args, expected):
    assert timesync.chronyd_options(args) == expected


def test_chronyd_that_does_not_run_for_its_options(tmp_path):
    target = chrony_tree(tmp_path, "/usr/lib/systemd/system/chronyd.service", RED_HAT_CHRONY_UNIT)
    put(tmp_path, "/etc/sysconfig/chronyd", 'OPTIONS="-F 2 -Z -f /etc/chrony/gce.conf"\n')
    config = timesync.read_chrony(target, unit="chronyd.service")
    assert config.fatal.startswith("chronyd does not run: -Z is no option of chronyd: it prints its help and exits; "
                                   "chronyd.service starts chronyd with -F 2 -Z -f /etc/chrony/gce.conf")


@pytest.mark.parametrize("command, message", [
    ("/usr/sbin/chronyd -n -f gce.conf\nWorkingDirectory=~", "its -f is a relative path, read from WorkingDirectory=~"),
    ("/usr/sbin/chronyd -d -f gce.conf\nWorkingDirectory=%S/chrony", "read from WorkingDirectory=%S/chrony"),
    ("/usr/sbin/chronyd -- -f /etc/chrony/gce.conf", "takes its configuration from these arguments"),
    ("/usr/sbin/chronyd 'server metadata.google.internal'", "takes its configuration from these arguments"),
])
def test_chrony_command_lines_not_judged(tmp_path, command, message):
    target = chrony_tree(tmp_path, "/usr/lib/systemd/system/chronyd.service", "[Service]\nExecStart=%s\n" % command)
    with pytest.raises(ConfigError, match=message):
        timesync.read_chrony(target, unit="chronyd.service")


@pytest.mark.parametrize("command, read", [
    # chrony main.c: go_daemon() does chdir("/") before CNF_ReadFile(), whatever WorkingDirectory= says
    ("/usr/sbin/chronyd -f etc/chrony/gce.conf\nWorkingDirectory=/var/lib", "/etc/chrony/gce.conf"),
    # -n/-d: no fork, the unit's working directory (systemd.exec(5): / for a system unit by default)
    ("/usr/sbin/chronyd -n -f ./gce.conf\nWorkingDirectory=-/etc/chrony", "/etc/chrony/gce.conf"),
    ("/usr/sbin/chronyd -d -f etc/chrony/gce.conf", "/etc/chrony/gce.conf"),
])
def test_a_relative_f_is_read_from_chronyd_s_working_directory(tmp_path, command, read):
    target = chrony_tree(tmp_path, "/usr/lib/systemd/system/chronyd.service", "[Service]\nExecStart=%s\n" % command)
    put(tmp_path, "/etc/chrony/gce.conf", "server metadata.google.internal iburst\n")
    config = timesync.read_chrony(target, unit="chronyd.service")
    assert config.main == read and config.fatal is None, (config.main, config.fatal)
    assert [s.host for s in config.sources] == ["metadata.google.internal"]


@pytest.mark.parametrize("dropin, why", [
    ("[Service]\nExecStart=/usr/sbin/chronyd -f /etc/chrony/gce.conf\n", "2 ExecStart= lines"),
    ("[Service]\nExecStart=\nExecStart=/usr/sbin/chronyd -f /etc/chrony/%i.conf\n", "uses the specifier %i"),
    ("[Service]\nExecStart=\nExecStart=/usr/sbin/chronyd -f '/etc/chrony/gce.conf\n", "an unterminated quote"),
    ("[Service]\nEnvironmentFile=/etc/sysconfig/big\n", "larger than 1048576 bytes: not read"),
    ("[Service]\nExecStart=\nExecStart=/usr/local/bin/start-chrony -f /etc/chrony/gce.conf\n",
     "runs /usr/local/bin/start-chrony, not chronyd"),
])
def test_chrony_command_line_that_cannot_be_followed_falls_back_and_says_so(tmp_path, dropin, why):
    target = chrony_tree(tmp_path, "/usr/lib/systemd/system/chronyd.service", RED_HAT_CHRONY_UNIT)
    put(tmp_path, "/etc/sysconfig/chronyd", 'OPTIONS="-f /etc/chrony/gce.conf"\n')
    put(tmp_path, "/etc/systemd/system/chronyd.service.d/x.conf", dropin)
    put(tmp_path, "/etc/sysconfig/big", "A=%s\n" % ("x" * units.ENV_FILE_LIMIT))
    config = timesync.read_chrony(target, unit="chronyd.service")
    assert config.main == "/etc/chrony/chrony.conf" and why in config.note and "chrony's default file is read" in config.note


def test_systemd_environment_file_syntax():
    """systemd 254+ env-file.c parse_env_file_internal()."""
    text = ("# comment \\\nA=not a comment\n; B=1\n  C = 'x  y'z \nD=\"a\\\"b\\$c\\n\\\nd\"\nE=one\\\n two  \n"
            "F\nG=\nH=\"unterminated")
    assert dict(envfile.env_file_pairs(text)) == {
        "A": "not a comment", "C": "x  yz", "D": 'a"b$c\\nd', "E": "one two", "G": "", "H": "unterminated"}


def test_timesyncd_dropins_reset(tmp_path):
    put(tmp_path, "/etc/systemd/timesyncd.conf", "[Time]\nNTP=0.debian.pool.ntp.org 1.debian.pool.ntp.org\n")
    put(tmp_path, "/usr/lib/systemd/timesyncd.conf.d/01-cloud.conf", "[Time]\nFallbackNTP=metadata.google.internal\n")
    target = Target(str(tmp_path))
    assert [s.host for s in timesync.read_timesyncd(target).sources] == ["0.debian.pool.ntp.org", "1.debian.pool.ntp.org"]
    put(tmp_path, "/etc/systemd/timesyncd.conf.d/50-reset.conf", "[Time]\nNTP=\n")
    config = timesync.read_timesyncd(target)
    assert [s.host for s in config.sources] == ["metadata.google.internal"] and config.fallback_only


def test_timesyncd_main_file_is_the_first_in_the_configuration_paths(tmp_path):
    # systemd 256+ config_parse_standard_file_with_dropins(): /etc, /run, /usr/local/lib, /usr/lib
    put(tmp_path, "/usr/lib/systemd/timesyncd.conf", "[Time]\nNTP=2.fedora.pool.ntp.org\n")
    target = Target(str(tmp_path))
    config = timesync.read_timesyncd(target)
    assert config.main == "/usr/lib/systemd/timesyncd.conf" and [s.host for s in config.sources] == ["2.fedora.pool.ntp.org"]
    put(tmp_path, "/etc/systemd/timesyncd.conf", "[Time]\n#NTP=\n")
    assert timesync.read_timesyncd(target).sources == []


def test_timesyncd_comment_only_at_the_start_of_a_line(tmp_path):
    """conf-parser.c parse_line(): "NTP= # reset" is no empty assignment; its
    words are servers."""
    put(tmp_path, "/etc/systemd/timesyncd.conf", "[Time]\nNTP=0.debian.pool.ntp.org\n")
    put(tmp_path, "/etc/systemd/timesyncd.conf.d/gce.conf", "[Time]\nNTP= # reset\n  ; NTP=\n"
        "NTP=metadata.google.internal\n")
    assert [s.host for s in timesync.read_timesyncd(Target(str(tmp_path))).sources] == [
        "0.debian.pool.ntp.org", "#", "reset", "metadata.google.internal"]


@pytest.mark.parametrize("value, names, ignored", [
    # extract_first_word() splits at WHITESPACE only: a no-break space or a form feed is part of the
    # name (a form feed, a control character, makes it no name)
    (u"metadata.google.internal\u00a0", [u"metadata.google.internal\u00a0"], []),
    ("a.example\x0cb.example c.example", ["c.example"], ["a.example\x0cb.example"]),
    ("\tmetadata.google.internal\r", ["metadata.google.internal"], []),
    # a backslash takes the next character as it is, quotes are ordinary characters
    ("metadata\\.google\\.internal", ["metadata.google.internal"], []),
    ("a\\ b.example 'c.example'", ["a b.example", "'c.example'"], []),
    # a backslash at the end fails that word; the words before stay
    ("a.example b.example\\", ["a.example"], ["b.example\\"]),
    # dns_name_is_valid_or_address(): a control character, an empty or over-long label is no name
    ("bad\x01name 10.0.0.1 fe80::1 a..b %s.example x. ." % ("l" * 64), ["10.0.0.1", "fe80::1", "x.", "."],
     ["bad\x01name", "a..b", "%s.example" % ("l" * 64)]),
    # 253 bytes at most, the root's dot not counted; a non-ASCII label counts its UTF-8 bytes
    ("%s %s. %sl" % ((".".join(["l" * 63] * 3 + ["l" * 61]),) * 3), [".".join(["l" * 63] * 3 + ["l" * 61]), ".".join(["l" * 63] * 3 + ["l" * 61]) + "."],
     [".".join(["l" * 63] * 3 + ["l" * 61]) + "l"]),
    (u"%s %s" % (u"\u00e9" * 31, u"\u00e9" * 32), [u"\u00e9" * 31], [u"\u00e9" * 32]),
])
def test_timesyncd_splits_and_checks_server_names_as_timesyncd_does(value, names, ignored):
    assert timesync.timesyncd_servers(value) == (names, ignored)


def test_timesyncd_reads_ntp_in_the_time_section_only(tmp_path):
    """timesyncd.conf(5) options live in [Time]: NTP= under another section is an
    unknown-section key systemd ignores, not a server."""
    put(tmp_path, "/etc/systemd/timesyncd.conf", "[Time]\nNTP=metadata.google.internal\n"
        "[Other]\nNTP=pool.ntp.org\n")
    assert [s.host for s in timesync.read_timesyncd(Target(str(tmp_path))).sources] == ["metadata.google.internal"]


def test_ntpsec_includefile(tmp_path):
    put(tmp_path, "/etc/ntpsec/ntp.conf", "pool 0.debian.pool.ntp.org iburst\nincludefile extra.conf\n")
    put(tmp_path, "/etc/ntpsec/extra.conf", "server metadata.google.internal iburst\n")
    config = timesync.read_ntp(Target(str(tmp_path)))
    assert config.daemon == "ntpsec" and [s.host for s in config.sources] == [
        "0.debian.pool.ntp.org", "metadata.google.internal"]


def test_ntpsec_reads_its_ntp_d_directory_and_included_directories(tmp_path):
    """ntpsec 1.0+ ntp_config.c readconfig() reads ntp.d beside ntp.conf, and
    ntp_scanner.c lex_push_file() a directory's ``*.conf`` in name order."""
    put(tmp_path, "/etc/ntpsec/ntp.conf", "server metadata.google.internal iburst\nincludefile site\n")
    put(tmp_path, "/etc/ntpsec/site/a.conf", "server a.example\n")
    put(tmp_path, "/etc/ntpsec/site/notes.txt", "server not-read.example\n")
    put(tmp_path, "/etc/ntpsec/ntp.d/20-pool.conf", "pool 2.debian.pool.ntp.org iburst\n")
    put(tmp_path, "/etc/ntpsec/ntp.d/10-more.conf/x.conf", "server b.example\n")
    config = timesync.read_ntp(Target(str(tmp_path)))
    assert [s.host for s in config.sources] == [
        "metadata.google.internal", "a.example", "b.example", "2.debian.pool.ntp.org"]


def test_ntp_keywords_are_lower_case(tmp_path):
    # ntpsec ntp_scanner.c is_keyword(): no keyword but "server"; ntp_parser.y skips the line (error T_EOC)
    put(tmp_path, "/etc/ntp.conf", "SERVER 0.pool.ntp.org\nServer 1.pool.ntp.org\nserver metadata.google.internal\n")
    assert [s.host for s in timesync.read_ntp(Target(str(tmp_path))).sources] == ["metadata.google.internal"]


def test_ntp_noselect_server(tmp_path):
    put(tmp_path, "/etc/ntp.conf", "server metadata.google.internal iburst noselect\n")
    assert [s.unused for s in timesync.read_ntp(Target(str(tmp_path))).sources] == [
        "noselect: ntpd never synchronises to it"]


@pytest.mark.parametrize("host, matched", [
    ("metadata.google.internal", True), ("METADATA.Google.Internal", True), ("metadata.google.internal.", True),
    ("169.254.169.254", True), ("metadata", True), ("metadata.", False), ("metadata.google.internal..", False),
    ("metadata.google", False)])
def test_metadata_server_names(host, matched):
    assert timesync.names_server(host, ["metadata.google.internal", "169.254.169.254", "metadata"]) is matched


def test_ntp_server_with_an_address_family(tmp_path):
    # ntpd and ntpsec: "server [-4|-6] address [options]"
    put(tmp_path, "/etc/ntp.conf", "server -4 metadata.google.internal iburst\npool -6 2.debian.pool.ntp.org\n")
    config = timesync.read_ntp(Target(str(tmp_path)))
    assert [s.host for s in config.sources] == ["metadata.google.internal", "2.debian.pool.ntp.org"]


# ---------------------------------------------------------------- network
def test_netplan_merge_and_mac_match(tmp_path):
    put(tmp_path, "/lib/netplan/00-base.yaml", "network:\n  version: 2\n  ethernets:\n    ens4:\n      dhcp4: false\n")
    put(tmp_path, "/etc/netplan/50-cloud-init.yaml", "# from cloud-init\nnetwork:\n  version: 2\n  ethernets:\n"
        "    ens4:\n      dhcp4: true\n      mtu: 1500\n      dhcp4-overrides: {use-mtu: false}\n"
        "    old:\n      match:\n        macaddress: \"42:01:0a:00:00:02\"\n      set-name: eth0\n"
        "      addresses: [10.0.0.2/24]\n")
    configs, renderer = netconf.read_netplan(Target(str(tmp_path)))
    assert renderer == "networkd"
    by_name = dict((c.where.split("ethernets.")[1].rstrip(")"), c) for c in configs)
    assert by_name["ens4"].dhcp4 and by_name["ens4"].mtu == 1500 and by_name["ens4"].use_mtu is False
    assert by_name["ens4"].covers("ens4") and not by_name["ens4"].covers("eth0")
    assert by_name["old"].mac == "42:01:0a:00:00:02" and by_name["old"].static and not by_name["old"].covers("eth0")


@pytest.mark.parametrize("text,message", [
    ("network:\n\tversion: 2\n", "tab in indentation"),
    ("network:\n  a: |\n    x\n", "block scalars"),
    ("network:\n  - a\n  b: c\n", "unexpected indentation|not a 'key: value'"),
])
def test_yaml_subset_errors(text, message):
    with pytest.raises(ConfigError, match=message):
        netconf.yaml_load(text, "f.yaml")


@pytest.mark.parametrize("text", [
    "network:\n  a: " + "[" * 3000 + "]" * 3000 + "\n",                        # flow collections
    "\n".join(" " * level + "k%d:" % level for level in range(3000)) + "\n",  # indentation
])
def test_yaml_deep_nesting_is_an_error_not_a_recursion_error(text):
    with pytest.raises(ConfigError, match=r"^f\.yaml: nests deeper than 64 levels"):
        netconf.yaml_load(text, "f.yaml")


def test_yaml_subset_values():
    assert netconf.yaml_load("a:\n- x\n- {k: v, n: 2}\nb: 'q: r' # c\nc: ~\nd: [1, \"two\"]\n") == {
        "a": ["x", {"k": "v", "n": 2}], "b": "q: r", "c": None, "d": [1, "two"]}


def test_networkd_first_file_and_dropins(tmp_path):
    put(tmp_path, "/usr/lib/systemd/network/99-default.network", "[Match]\nName=*\n[Network]\nDHCP=yes\n")
    put(tmp_path, "/etc/systemd/network/10-ens4.network", "[Match]\nName=ens4 eth0\n[Network]\nAddress=10.0.0.5/24\n"
        "[Link]\nMTUBytes=1500\n")
    put(tmp_path, "/etc/systemd/network/20-mac.network", "[Match]\nMACAddress=42:01:0a:00:00:02\n[Network]\nDHCP=ipv4\n")
    put(tmp_path, "/etc/systemd/network/10-ens4.network.d/mtu.conf", "[DHCPv4]\nUseMTU=yes\n")
    configs = netconf.read_networkd(Target(str(tmp_path)))
    assert [os.path.basename(c.where) for c in configs] == ["10-ens4.network", "20-mac.network", "99-default.network"]
    first = configs[0]
    assert first.static and not first.dhcp4 and first.mtu == 1500 and first.use_mtu is True
    assert configs[1].mac and not configs[1].covers("ens4") and configs[2].covers("ens4")


@pytest.mark.parametrize("text, found", [
    # config_parse_dhcp(), config_parse_bool(), config_parse_mtu(): an empty or unreadable value is
    # ignored, the earlier one kept (no reset); MTUBytes=0 unsets; a size may have a "+" and a suffix
    ("[Network]\nDHCP=yes\nDHCP=\n[DHCPv4]\nUseMTU=yes\nUseMTU=\n[Link]\nMTUBytes=1400\nMTUBytes=bogus\n",
     (True, True, 1400, None)),
    ("[Network]\nDHCP=ipv4\n[Link]\nMTUBytes=9K\nMTUBytes=\n", (True, False, 9216, None)),
    ("[Network]\nDHCP=ipv4\n[Link]\nMTUBytes=1400\nMTUBytes=0\n", (True, False, None, None)),
    ("[Network]\nDHCP=ipv4\n[Link]\nMTUBytes=+1460\n", (True, False, 1460, None)),
    # Unmanaged=yes: networkd leaves the link alone, no DHCP, no MTU; an unreadable value keeps it
    ("[Network]\nDHCP=ipv4\n[Link]\nMTUBytes=1460\nUnmanaged=yes\nUnmanaged=maybe\n", (False, False, None, "Unmanaged=yes")),
])
def test_networkd_settings_as_networkd_parses_them(tmp_path, text, found):
    put(tmp_path, "/etc/systemd/network/50-dhcp.network", "[Match]\nName=ens4\n" + text)
    config, = netconf.read_networkd(Target(str(tmp_path)))
    note = found[3] and config.note and found[3] in config.note and found[3]
    assert (config.dhcp4, config.use_mtu, config.mtu, note or None) == found


def test_networkd_match_lists_as_networkd_reads_them(tmp_path):
    """MACAddress= adds to the list (an empty one resets it); OriginalName= is a .link file's key,
    which networkd 252 ignores in a .network file: a file matched on it alone matches nothing."""
    put(tmp_path, "/etc/systemd/network/10-mac.network", "[Match]\nMACAddress=42:01:0a:80:00:02\n"
        "MACAddress=42:01:0a:80:00:03\n[Network]\nDHCP=yes\n")
    put(tmp_path, "/etc/systemd/network/20-original.network", "[Match]\nOriginalName=eth0\n[Network]\nDHCP=yes\n")
    put(tmp_path, "/etc/systemd/network/30-both.network", "[Match]\nName=ens4\nOriginalName=eth9\n[Network]\nDHCP=yes\n")
    configs = netconf.read_networkd(Target(str(tmp_path)))
    assert [(os.path.basename(c.path), c.names, c.mac) for c in configs] == [
        ("10-mac.network", None, "42:01:0a:80:00:02 42:01:0a:80:00:03"), ("30-both.network", ["ens4"], None)]


def test_networkd_directories_named_like_its_files(tmp_path):
    """systemd lists a directory of a .network, .link or drop-in's name (conf_files_list_strv() with
    no type filter) and fails to read it: a .network so named hides the same name below and is not
    loaded, and so is a .network with a drop-in so named ("Failed to load %s, ignoring"); the
    readers stopped with an error."""
    put(tmp_path, "/usr/lib/systemd/network/50-dhcp.network", "[Match]\nName=*\n[Network]\nDHCP=yes\n")
    put(tmp_path, "/usr/lib/systemd/network/99-default.link", "[Match]\nOriginalName=*\n[Link]\nMTUBytes=1500\n")
    put(tmp_path, "/etc/systemd/network/60-eth.network", "[Match]\nName=eth0\n[Network]\nDHCP=yes\n")
    put(tmp_path, "/etc/systemd/network/70-any.network", "[Match]\nName=*\n[Network]\nDHCP=yes\n")
    for directory in ("etc/systemd/network/50-dhcp.network", "etc/systemd/network/60-eth.network.d/mtu.conf",
                      "etc/systemd/network/99-default.link"):
        os.makedirs(os.path.join(str(tmp_path), directory))
    target = Target(str(tmp_path))
    assert [c.path for c in netconf.read_networkd(target)] == ["/etc/systemd/network/70-any.network"]
    assert [(path, why.replace(str(tmp_path), "")) for path, why in netconf.networkd_ignored(target)] == [
        ("/etc/systemd/network/50-dhcp.network", "is a directory, which systemd fails to read"),
        ("/etc/systemd/network/60-eth.network",
         "/etc/systemd/network/60-eth.network.d/mtu.conf is a directory, which systemd fails to read")]
    assert list(netconf._link_files(target)) == []


def test_networkd_negated_name_match(tmp_path):
    """``Name=!lo`` (systemd.network(5): a list prefixed with "!" inverts the test)
    matches every link but lo; a YAML-style '#' inside a value is no comment."""
    put(tmp_path, "/etc/systemd/network/50-all-but-lo.network", "[Match]\nName=!lo\n[Network]\nDHCP=yes\n")
    config, = netconf.read_networkd(Target(str(tmp_path)))
    assert config.names == ["!lo"] and config.dhcp4
    assert config.covers("ens4") and config.covers("eth0") and not config.covers("lo")
    assert netconf.yaml_load("a: x#y # comment\n") == {"a": "x#y"}


def test_networkd_leading_bang_inverts_the_whole_name_list(tmp_path):
    """systemd's config_parse_match_strv(): a leading '!' inverts every word of
    the list, so Name=!lo docker* matches neither lo nor docker0."""
    put(tmp_path, "/etc/systemd/network/50-nics.network", "[Match]\nName=!lo docker*\n[Network]\nDHCP=yes\n")
    config, = netconf.read_networkd(Target(str(tmp_path)))
    assert config.names == ["!lo", "!docker*"]
    assert config.covers("ens4") and not config.covers("docker0") and not config.covers("lo")


@pytest.mark.parametrize("version,covers", [(None, False), (246, False), (245, True)])
def test_networkd_file_without_match_settings_is_ignored_since_246(tmp_path, version, covers):
    """network_verify() (systemd 246, commit dade7349): a .network file without [Match]
    settings or conditions is ignored ("add Name=*"); before, it matched every link.
    An empty file is always skipped (network_load_one(): null_or_empty_path())."""
    if version:
        put(tmp_path, "/usr/lib/x86_64-linux-gnu/systemd/libsystemd-shared-%d.so" % version, "")
    put(tmp_path, "/etc/systemd/network/00-empty.network", "")
    put(tmp_path, "/etc/systemd/network/10-all.network", "[Match]\n[Network]\nDHCP=yes\n")
    put(tmp_path, "/etc/systemd/network/20-reset.network", "[Match]\nName=ens4\n[Network]\nDHCP=yes\n")
    put(tmp_path, "/etc/systemd/network/20-reset.network.d/all.conf", "[Match]\nName=\n")
    put(tmp_path, "/etc/systemd/network/30-vm.network", "[Match]\nVirtualization=yes\n[Network]\nDHCP=yes\n")
    configs = netconf.read_networkd(Target(str(tmp_path)))
    names = [os.path.basename(c.where) for c in configs]
    assert names == (["10-all.network", "20-reset.network"] if covers else []) + ["30-vm.network"]
    assert all(c.covers("ens4") for c in configs)


@pytest.mark.parametrize("version, applies", [(None, "99-default.link"), (246, "99-default.link"), (245, "50-all.link")])
def test_link_file_the_first_that_matches_the_nic(tmp_path, version, applies):
    """udev applies the first .link file whose [Match] matches (link-config.c link_config_get()): 99-default.link
    ([Match] OriginalName=*) comes last; a file without [Match] settings matched every link before
    systemd ignored it with the empty .network files; an empty file is skipped."""
    if version:
        put(tmp_path, "/usr/lib/x86_64-linux-gnu/systemd/libsystemd-shared-%d.so" % version, "")
    put(tmp_path, "/usr/lib/systemd/network/99-default.link",
        "[Match]\nOriginalName=*\n\n[Link]\nNamePolicy=keep kernel database onboard slot path\nMACAddressPolicy=persistent\n")
    put(tmp_path, "/etc/systemd/network/00-empty.link", "")
    put(tmp_path, "/etc/systemd/network/50-all.link", "[Match]\n[Link]\nMTUBytes=1.5K\n")
    found = netconf.link_file(Target(str(tmp_path)), "ens4", ["virtio_net", "gve"])
    assert os.path.basename(found[0]) == applies
    assert found[1] == (1536 if applies == "50-all.link" else None)


@pytest.mark.parametrize("value, size", [
    ("1460", 1460), ("9K", 9216), ("1.5K", 1536), ("9 K", 9216), ("1M", 1048576), ("0", 0), ("4G", None),
    ("", None), ("-1500", None), ("9k", None), ("abc", None), ("1500 bytes", None),
    ("\u0661\u0665\u0660\u0660", None),   # Arabic-Indic digits: not for systemd, though int() reads them
    ("1" * 5000, None), ("0" * 5000 + "1460", 1460), ("1." + "5" * 5000 + "K", 1592),   # no int() limit reached
])
def test_link_mtu_bytes_as_systemd_parses_a_size(value, size):
    """parse_mtu(): parse_size(value, 1024) (src/basic/parse-util.c), at most UINT32_MAX."""
    assert netconf._link_mtu(value) == size


@pytest.mark.parametrize("values,read", [
    (["no"], False), (["!yes"], False), (["container"], False), (["docker"], False), (["!vm"], False),
    (["yes", "!container"], True), (["vm"], True), (["kvm"], True), (["!google"], True), (["no", ""], True),
])
def test_networkd_virtualization_condition_on_a_compute_engine_vm(tmp_path, values, read):
    """condition_test_virtualization(): a Compute Engine VM is virtualized, a VM, no
    container; its id (google, or kvm before systemd knew it) is left untested."""
    put(tmp_path, "/etc/systemd/network/10-metal.network", "[Match]\nName=ens4\n" +
        "".join("Virtualization=%s\n" % value for value in values) + "[Network]\nAddress=10.0.0.2/24\n")
    assert len(netconf.read_networkd(Target(str(tmp_path)))) == (1 if read else 0)


@pytest.mark.parametrize("values,dhcp4", [
    (["y"], True), (["T"], True), (["v4"], True), (["both"], True), (["ipv4"], True),
    (["ipv6"], False), (["none"], False), (["no", "yes"], True),
    (["yes", "IPV4"], True), (["no", "Both"], False),  # refused (case-sensitive names): the earlier value stays
])
def test_networkd_dhcp_values_as_systemd_reads_them(tmp_path, values, dhcp4):
    """config_parse_dhcp(): parse_boolean() (any case), ipv4/ipv6, the old none/v4/v6/both."""
    put(tmp_path, "/etc/systemd/network/50-ens4.network", "[Match]\nName=ens4\n[Network]\n" +
        "".join("DHCP=%s\n" % value for value in values) + "[DHCPv4]\nUseMTU=y\n")
    config, = netconf.read_networkd(Target(str(tmp_path)))
    assert config.dhcp4 is dhcp4 and config.use_mtu is True


def test_networkd_mac_reset_and_unmanaged_link(tmp_path):
    """An empty MACAddress= in a drop-in resets the list (systemd.network(5));
    [Link] Unmanaged=yes: networkd does not touch the link, so no DHCP."""
    put(tmp_path, "/etc/systemd/network/10-mac.network", "[Match]\nName=ens4\nMACAddress=42:01:0a:00:00:02\n"
        "[Network]\nDHCP=yes\n")
    put(tmp_path, "/etc/systemd/network/10-mac.network.d/any.conf", "[Match]\nMACAddress=\n")
    put(tmp_path, "/etc/systemd/network/20-off.network", "[Match]\nName=ens4\n[Link]\nUnmanaged=yes\n"
        "[Network]\nDHCP=yes\n")
    first, second = netconf.read_networkd(Target(str(tmp_path)))
    assert first.mac is None and first.covers("ens4") and first.dhcp4
    assert second.covers("ens4") and not second.dhcp4


@pytest.mark.parametrize("network,renderer", [
    ("  ethernets:\n    eth1:\n      renderer: NetworkManager\n      dhcp4: true\n", "NetworkManager"),
    ("  ethernets:\n    renderer: NetworkManager\n    eth1:\n      dhcp4: true\n", "NetworkManager"),
    ("  renderer: NetworkManager\n  ethernets:\n    eth1:\n      renderer: networkd\n", "NetworkManager"),
    ("  renderer: NetworkManager\n", "NetworkManager"),
    ("  ethernets:\n    renderer: NetworkManager\n", "networkd"),
    ("  ethernets:\n    eth1:\n      dhcp4: true\n", "networkd"),
])
def test_netplan_renderer_used_anywhere(tmp_path, network, renderer):
    """netplan writes its empty 10-globally-managed-devices.conf when
    "renderer: NetworkManager" is used anywhere (src/configure.c): globally,
    for a device type or for one definition; a type's renderer is no interface."""
    put(tmp_path, "/etc/netplan/50-x.yaml", "network:\n" + network)
    configs, found = netconf.read_netplan(Target(str(tmp_path)))
    assert found == renderer and all("renderer" not in c.names for c in configs)


def test_name_and_mac_match_needs_the_mac_too(tmp_path):
    """systemd.network(5) and netplan: every match property must match, so a
    name and a MAC address match only the NIC with that address."""
    put(tmp_path, "/etc/systemd/network/10-ens4.network", "[Match]\nName=ens4\nMACAddress=42:01:0a:00:00:02\n"
        "[Network]\nDHCP=yes\n")
    put(tmp_path, "/etc/netplan/50-x.yaml", "network:\n  ethernets:\n    nic:\n      match:\n        name: ens4\n"
        "        macaddress: 42:01:0a:00:00:02\n      dhcp4: true\n")
    target = Target(str(tmp_path))
    configs = netconf.read_networkd(target) + netconf.read_netplan(target)[0]
    assert len(configs) == 2 and all(c.mac and not c.covers("ens4") for c in configs)


@pytest.mark.parametrize("dhcp4,use_mtu,expected", [
    ('"true"', "'false'", (True, False)), ("y", "n", (True, False)), ("Y", "N", (True, False)),
    ("'on'", "YES", (True, True)), ("'no'", '"off"', (False, False)),
])
def test_netplan_booleans_as_netplan_reads_them(tmp_path, dhcp4, use_mtu, expected):
    """netplan's handle_generic_bool(): the scalar's text, quoted or not, any case:
    true/on/yes/y and false/off/no/n."""
    put(tmp_path, "/etc/netplan/50-gce.yaml", "network:\n  ethernets:\n    ens4:\n      dhcp4: %s\n"
        "      dhcp4-overrides:\n        use-mtu: %s\n" % (dhcp4, use_mtu))
    config, = netconf.read_netplan(Target(str(tmp_path)))[0]
    assert (config.dhcp4, config.use_mtu) == expected


@pytest.mark.parametrize("files, refused", [
    ({"/etc/netplan/50-gce.yaml": "network:\n  version: 2\n  ethernets:\n"}, "network.ethernets: expected a mapping"),
    ({"/etc/netplan/50-gce.yaml": "network:\n  ethernets:\n    ens4:\n"}, "network.ethernets.ens4: expected a mapping"),
    ({"/etc/netplan/50-gce.yaml": "network:\n  ethernets:\n    ens4: {dhcp4: 1}\n"}, "dhcp4: 1 is no boolean"),
    ({"/etc/netplan/50-gce.yaml": "network:\n  ethernets:\n    ens4: {dhcp4: true, optional: ~}\n"},
     "optional: None is no boolean"),
    ({"/etc/netplan/50-gce.yaml": "network:\n  ethernets:\n    ens4: {dhcp4: true, mtu: -1}\n"},
     "mtu: -1 is no unsigned number"),
    ({"/etc/netplan/50-gce.yaml": "network:\n  ethernets:\n    ens4: {dhcp4: true, set-name: eth0}\n"},
     "set-name: it requires match:"),
    ({"/etc/netplan/50-gce.yaml": "network:\n  renderer: NetworkManager\n  ethernets:\n"
      "    nic: {dhcp4: true, match: {driver: gve}}\n"}, "NetworkManager definitions cannot match by driver"),
    # a later file's match: comes too late for an earlier set-name
    ({"/etc/netplan/10-a.yaml": "network:\n  ethernets:\n    nic: {set-name: eth0}\n",
      "/etc/netplan/20-b.yaml": "network:\n  ethernets:\n    nic: {match: {driver: gve}}\n"}, "requires match:"),
    # a key no netplan knows, at any level, null too; a version other than 2
    ({"/etc/netplan/50-gce.yaml": "network:\n  ethernets:\n    ens4: {dhcp4: true, gateway: 10.0.0.1}\n"},
     "network.ethernets.ens4.gateway: unknown key"),
    ({"/etc/netplan/50-gce.yaml": "network:\n  ethernet:\n    ens4: {dhcp4: true}\n"}, "network.ethernet: unknown key"),
    ({"/etc/netplan/50-gce.yaml": "network:\n  ethernets:\n    ens4: {dhcp4: true, nameservers: {address: [1.1.1.1]}}\n"},
     "network.ethernets.ens4.nameservers.address: unknown key"),
    ({"/etc/netplan/50-gce.yaml": "network:\n  ethernets:\n    ens4:\n      dhcp4: true\n      routes:\n"
      "        - to: default\n          gw: 10.0.0.1\n"}, "network.ethernets.ens4.routes.gw: unknown key"),
    ({"/etc/netplan/50-gce.yaml": "network:\n  ethernets:\n    ens4: {dhcp4: true, match: {mac: 42:01:0a:80:00:02}}\n"},
     "network.ethernets.ens4.match.mac: unknown key"),
    ({"/etc/netplan/50-gce.yaml": "network:\n  ethernets:\n    ens4: {dhcp4: true, dhcp6-overrides: {use-mt: false}}\n"},
     "dhcp6-overrides.use-mt: unknown key"),
    ({"/etc/netplan/50-gce.yaml": "network:\n  ethernets:\n    ens4: {dhcp4: true, bogus: ~}\n"}, "bogus: unknown key"),
    ({"/etc/netplan/50-gce.yaml": "network:\n  version: 1\n  ethernets:\n    ens4: {dhcp4: true}\n"},
     "network.version: 1: only version 2 is supported"),
])
def test_netplan_refuses_what_netplan_generate_refuses(tmp_path, files, refused):
    """netplan writes no network configuration at all when one file has an error
    (netplan 0.106 src/parse.c): the reader refuses the tree, naming the file and the key."""
    for path, text in files.items():
        put(tmp_path, path, text)
    with pytest.raises(ConfigError, match="netplan refuses") as caught:
        netconf.read_netplan(Target(str(tmp_path)))
    assert refused in str(caught.value)


@pytest.mark.parametrize("text", [
    "network:\n  version: '2'\n  ethernets:\n    ens4: {dhcp4: true}\n",
    # keys only later netplan versions know are taken as known: the image's netplan may be one of them
    "network:\n  version: 2\n  ethernets:\n    ens4: {dhcp4: true, hairpin: true, ra-overrides: {use-dns: true}}\n",
    "network:\n  ethernets:\n    ens4:\n      dhcp4: true\n      nameservers: {addresses: [169.254.169.254]}\n"
    "      routes: [{to: default, via: 10.128.0.1, on-link: true}]\n      dhcp6-overrides: {use-mtu: true}\n",
])
def test_netplan_reads_the_keys_some_netplan_knows(tmp_path, text):
    put(tmp_path, "/etc/netplan/50-gce.yaml", text)
    assert [(c.names, c.dhcp4) for c in netconf.read_netplan(Target(str(tmp_path)))[0]] == [(["ens4"], True)]


def test_netplan_names_matched_as_netplan_writes_them(tmp_path):
    """The .network netplan writes matches set-name's name, else match's name, else the ID when
    the ID was first defined without match: ("match: {}" in its first definition matches every
    interface); an mtu of 0 or none is no MTU; a set-name with a match: of an earlier file holds."""
    put(tmp_path, "/etc/netplan/10-a.yaml", "network:\n  ethernets:\n    eth0: {dhcp4: true}\n"
        "    any: {dhcp4: true, match: {}, mtu: 0}\n    nic: {match: {driver: gve}}\n")
    put(tmp_path, "/etc/netplan/20-b.yaml", "network:\n  ethernets:\n    eth0: {match: {macaddress: "
        "'42:01:0a:80:00:02'}, mtu: ''}\n    nic: {set-name: lan0, dhcp4: yes, mtu: '+1460'}\n")
    configs = dict((c.where.rsplit(".", 1)[1][:-1], c) for c in netconf.read_netplan(Target(str(tmp_path)))[0])
    assert (configs["eth0"].names, configs["eth0"].mac, configs["eth0"].mtu) == (["eth0"], "42:01:0a:80:00:02", None)
    assert (configs["any"].names, configs["any"].mtu) == (None, None)
    assert (configs["nic"].names, configs["nic"].mtu) == (["lan0"], 1460)


def test_ifupdown_sources_and_options(tmp_path):
    put(tmp_path, "/etc/network/interfaces", "source /etc/network/interfaces.d/*\nauto lo\niface lo inet loopback\n"
        "source-directory interfaces.more\n")
    put(tmp_path, "/etc/network/interfaces.d/eth0", "allow-hotplug eth0\niface eth0 inet manual\n  mtu 1500\n")
    put(tmp_path, "/etc/network/interfaces.more/ens4", "iface ens4 inet static\n  address 10.0.0.2/24\n"
        "  hwaddress ether 42:01:0a:00:00:02\n")
    put(tmp_path, "/etc/network/interfaces.more/skip.bak", "iface bogus inet dhcp\n")
    configs = dict((c.names[0], c) for c in netconf.read_ifupdown(Target(str(tmp_path))))
    assert sorted(configs) == ["ens4", "eth0", "lo"]
    assert not configs["eth0"].dhcp4 and configs["eth0"].mtu == "1500"
    assert configs["ens4"].static and configs["ens4"].mac == "42:01:0a:00:00:02"


def test_ifupdown_words_end_where_c_isspace_ends_them(tmp_path):
    """ifupdown splits a line with isspace(): a vertical tab separates words; a no-break
    space does not, so "ens5<NBSP>inet" is one word and that iface line lacks its method:
    ifupdown cannot read the file (ifquery: "unknown or no address type")."""
    put(tmp_path, "/etc/network/interfaces", u"iface\x0bens4\x0binet\x0bdhcp\n")
    configs = netconf.read_ifupdown(Target(str(tmp_path)))
    assert [(c.names, c.dhcp4) for c in configs] == [(["ens4"], True)]
    put(tmp_path, "/etc/network/interfaces", u"iface\x0bens4\x0binet\x0bdhcp\niface ens5\u00a0inet dhcp\n")
    with pytest.raises(ConfigError, match="interfaces:2: unknown or no address type: ifupdown cannot read"):
        netconf.read_ifupdown(Target(str(tmp_path)))


@pytest.mark.parametrize("text, why", [
    ("  mtu 1460\nauto eth0\niface eth0 inet dhcp\n", "interfaces:1: misplaced option"),
    ("auto eth0\n  mtu 1460\niface eth0 inet dhcp\n", "interfaces:2: misplaced option"),
    ("auto eth0\niface eth0 inet dhcp\n  mtu\n", "interfaces:3: option with empty value"),
    ("auto eth0\niface eth0 inet DHCP\n", "interfaces:2: unknown method DHCP"),
    ("auto eth0\niface eth0 ip4 dhcp\n", "interfaces:2: unknown or no address type"),
    ("auto eth0\niface eth0 inet dhcp inherits\n", "'inherits' keyword is missing a parameter"),
])
def test_ifupdown_refuses_a_main_file_ifupdown_cannot_read(tmp_path, text, why):
    """ifupdown 0.8 reads nothing of an interfaces file with such a line ("couldn't read
    interfaces file"): ifup -a brings up no interface at boot."""
    put(tmp_path, "/etc/network/interfaces", text)
    with pytest.raises(ConfigError, match="ifupdown cannot read the file") as caught:
        netconf.read_ifupdown(Target(str(tmp_path)))
    assert why in str(caught.value)


def test_ifupdown_sourced_files_relative_paths_and_repeated_options(tmp_path):
    """A sourced file ifupdown cannot read is read up to that line (ifquery says so and goes on);
    a relative path is relative to the directory of the file that names it (interfaces(5));
    an mtu given twice: ifup sets the first, then fails the interface on the second line."""
    put(tmp_path, "/etc/network/interfaces", "source interfaces.d/*\nauto ens4 eth1\n")
    put(tmp_path, "/etc/network/interfaces.d/a", "iface ens4 inet manual\n  mtu 1460\n  mtu 1500\n"
        "auto ens4\n  mtu 9000\niface ens5 inet dhcp\n")
    put(tmp_path, "/etc/network/interfaces.d/b", "source-directory more\n")
    put(tmp_path, "/etc/network/interfaces.d/more/eth1", "iface eth1 inet dhcp\n")
    put(tmp_path, "/etc/network/more/eth1", "iface eth1 inet static\n")
    configs = netconf.read_ifupdown(Target(str(tmp_path)))
    assert [(c.names, c.dhcp4, c.mtu) for c in configs] == [(["ens4"], False, "1460"), (["eth1"], True, None)]


@pytest.mark.parametrize("text, mtus", [
    # the dhcp and auto methods leave mtu to DHCP (ifup runs no command with it)
    ("iface ens4 inet dhcp\n  mtu 1500\niface ens4 inet6 auto\n  mtu 9000\n", [None]),
    # static and manual set it, in the stanzas' order
    ("iface ens4 inet static\n  address 10.0.0.2/24\n  mtu 9000\niface ens4 inet manual\n  mtu 1500\n",
     ["1500", "1500"]),
    # an inet6 static or manual stanza only raises it: on DHCP's MTU it is the one fixed
    ("iface ens4 inet dhcp\niface ens4 inet6 manual\n  mtu 1500\n", ["1500"]),
    ("iface ens4 inet manual\n  mtu 9000\niface ens4 inet6 static\n  address fd00::2/64\n  mtu 1500\n", ["9000"]),
    ("iface ens4 inet manual\n  mtu 1400\niface ens4 inet6 static\n  address fd00::2/64\n  mtu 1500\n", ["1500"]),
    # a tunnel method sets it
    ("iface ens4 inet dhcp\niface ens4 inet6 6to4\n  local 10.0.0.3\n  mtu 1480\n", ["1480"]),
])
def test_ifupdown_mtu_is_what_ifup_leaves_on_the_link(tmp_path, text, mtus):
    """An interface's MTU is what ifup's commands for its stanzas leave on the link
    (ifupdown 0.8's inet.defn and inet6.defn), not the first mtu ifquery lists."""
    put(tmp_path, "/etc/network/interfaces", "auto ens4\n" + text)
    assert [c.mtu for c in netconf.read_ifupdown(Target(str(tmp_path)))] == mtus


def test_ifupdown_a_stanza_without_what_its_method_needs_ends_the_interface(tmp_path):
    """ifup fails an interface at a stanza without an option its method needs ("missing required
    variable": a static stanza without address) and configures none of its later stanzas: no DHCP."""
    put(tmp_path, "/etc/network/interfaces", "auto ens4\niface ens4 inet6 static\n  mtu 1500\n"
        "iface ens4 inet dhcp\niface eth1 inet dhcp\niface eth1 inet static\n")
    configs = netconf.read_ifupdown(Target(str(tmp_path)))
    assert [(c.names, c.dhcp4, c.mtu) for c in configs] == [(["ens4"], False, None), (["eth1"], True, None),
                                                            (["eth1"], False, None)]
    assert configs[0].note.startswith("ifup fails ens4 at ") and \
        configs[0].note.endswith("interfaces:2: its inet6 static stanza has no address"), configs[0].note


@pytest.mark.parametrize("text, found, why", [
    # ifupdown joins the two values into one command: the shell sets the first MAC address, then
    # fails on the second line, and ifup fails ens4 there: dhclient never starts
    ("iface ens4 inet dhcp\n  hwaddress 42:01:0a:00:00:02\n  hwaddress 42:01:0a:00:00:03\n",
     (False, None, "42:01:0a:00:00:02"), "its two hwaddress lines"),
    # the first MTU is set, then the stanza fails: the dhcp stanza after it never runs
    ("iface ens4 inet manual\n  mtu 1500\n  mtu 1460\niface ens4 inet dhcp\n", (False, "1500", None), "its two mtu lines"),
    # the dhcp method runs nothing with mtu: twice is harmless
    ("iface ens4 inet dhcp\n  mtu 1500\n  mtu 1460\n", (True, None, None), None),
    # an inet6 stanza's hwaddress sets the link's MAC address too ("ether" dropped)
    ("iface ens4 inet dhcp\niface ens4 inet6 manual\n  hwaddress ether 42:01:0a:00:00:09\n",
     (True, None, "42:01:0a:00:00:09"), None),
    # a raise broken by a second line sets IPv6's MTU: its failure is ignored and ifup goes on
    ("iface ens4 inet6 manual\n  mtu 1500\n  mtu 1460\niface ens4 inet dhcp\n", (True, "1500", None), None),
])
def test_ifupdown_an_option_given_twice_is_one_command_of_two_lines(tmp_path, text, found, why):
    put(tmp_path, "/etc/network/interfaces", "auto ens4\n" + text)
    configs = netconf.read_ifupdown(Target(str(tmp_path)))
    assert (any(c.dhcp4 for c in configs), configs[0].mtu, configs[0].mac) == found
    assert (why is None and configs[0].note is None) or why in configs[0].note, configs[0].note


def test_ifupdown_source_fan_out_is_bounded(tmp_path):
    # 300 ** 3 reads before: the module never returned
    for level in range(3):
        put(tmp_path, "/etc/network/x/%d" % level, "source /etc/network/x/%d\n" % (level + 1) * 300)
    put(tmp_path, "/etc/network/x/3", "iface eth0 inet dhcp\n")
    put(tmp_path, "/etc/network/interfaces", "source /etc/network/x/0\n")
    with pytest.raises(ConfigError, match=r"x/3: sources read more than 1024 files"):
        netconf.read_ifupdown(Target(str(tmp_path)))


def put_keyfile(root, path, text, mode=0o600):
    """A NetworkManager keyfile, 0600 as NetworkManager and cloud-init write them."""
    full = put(root, path, text)
    os.chmod(full, mode)
    return full


def test_networkmanager_keyfile_and_ifcfg(tmp_path):
    put_keyfile(tmp_path, "/etc/NetworkManager/system-connections/wired.nmconnection",
                "[connection]\nid=wired\ntype=ethernet\ninterface-name=eth0\n[ethernet]\nmtu=9000\n[ipv4]\nmethod=auto\n")
    put_keyfile(tmp_path, "/etc/NetworkManager/system-connections/mac.nmconnection",
                "[connection]\nid=m\ntype=ethernet\n[ethernet]\nmac-address=42:01:0A:00:00:02\n[ipv4]\nmethod=manual\naddress1=10.0.0.2/24\n")
    put(tmp_path, "/etc/sysconfig/network-scripts/ifcfg-eth0", 'DEVICE=eth0\nBOOTPROTO="dhcp"\nMTU=1460\n')
    target = Target(str(tmp_path))
    nm = netconf.read_networkmanager(target)
    assert [(c.names, c.dhcp4, c.mtu, c.mac) for c in nm] == [
        (None, False, None, "42:01:0A:00:00:02"), (["eth0"], True, "9000", None)]
    ifcfg = netconf.read_ifcfg(target)
    assert ifcfg[0].names == ["eth0"] and ifcfg[0].dhcp4 and ifcfg[0].mtu == "1460"


def test_red_hat_s_sysconfig_network_file_is_no_wicked_directory(tmp_path):
    # found by test_gce_settings_fuzz's Red Hat seed: "/etc/sysconfig/network: not a directory"
    # made every GCE-NET-* check unknown on a Red Hat tree
    put(tmp_path, "/etc/sysconfig/network", "NETWORKING=yes\nNOZEROCONF=yes\n")
    put(tmp_path, "/etc/sysconfig/network-scripts/ifcfg-eth0", "DEVICE=eth0\nBOOTPROTO=dhcp\nONBOOT=yes\n")
    found, renderer = netconf.read_all(Target(str(tmp_path)))
    assert found["wicked"] == [] and [c.names for c in found["ifcfg"]] == [["eth0"]]


NM_WIRED = "[connection]\nid=%s\ntype=ethernet\ninterface-name=%s\n[ipv4]\nmethod=auto\n"


@pytest.mark.parametrize("directory, name, read", [
    # /etc: legacy names without the suffix are read (nms-keyfile-plugin.c _ignore_filename())
    ("/etc", "Wired connection 1", True),
    ("/etc", "eth0", True),
    ("/etc", "eth0.bak", True),          # not among NetworkManager's ignored names
    ("/etc", "eth0.rpmsave", True),
    ("/etc", "eth0~", False),            # a backup
    ("/etc", ".eth0", False),            # hidden
    ("/etc", "eth0.rpmnew", False),      # ".XXXXXX": a temporary file of g_file_set_contents()
    ("/etc", "eth0.nmmeta", False),
    ("/etc", "eth0.Ab12Cd", False),
    ("/etc", "client.PEM", False),       # 802.1x certificates and keys
    ("/etc", "client.der", False),
    # /run and /usr/lib: only "<name>.nmconnection"
    ("/run", "eth0", False),
    ("/run", "eth0.nmconnection", True),
    ("/usr/lib", "eth0", False),
    ("/usr/lib", ".nmconnection", False),
])
def test_networkmanager_reads_keyfiles_by_its_own_name_rules(tmp_path, directory, name, read):
    put_keyfile(tmp_path, directory + "/NetworkManager/system-connections/" + name, NM_WIRED % (name, "eth0"))
    found = netconf.read_networkmanager(Target(str(tmp_path)))
    assert [c.names for c in found] == ([["eth0"]] if read else []), found


@pytest.mark.parametrize("mode, read", [(0o600, True), (0o400, True), (0o640, False), (0o644, False), (0o604, False)])
def test_networkmanager_ignores_keyfiles_others_may_read(tmp_path, mode, read):
    """nms_keyfile_utils_check_file_permissions(): group or other permission bits make it insecure."""
    put_keyfile(tmp_path, "/etc/NetworkManager/system-connections/eth0.nmconnection", NM_WIRED % ("eth0", "eth0"), mode)
    assert len(netconf.read_networkmanager(Target(str(tmp_path)))) == (1 if read else 0)


def test_networkmanager_keyfile_owner_judged_live_and_in_trees_root_owns(tmp_path, monkeypatch):
    """Not root's: ignored live, and in a tree whose root directory root owns (unpacked
    as root: owners kept); in a tree a user unpacked, every file is the user's."""
    put_keyfile(tmp_path, "/etc/NetworkManager/system-connections/eth0.nmconnection", NM_WIRED % ("eth0", "eth0"))
    target = Target(str(tmp_path))
    real_stat = target.stat

    def owned(root_uid):
        """The tree's root directory ``root_uid``'s, every file uid 4242's."""
        def fake(path):
            info = real_stat(path)
            return os.stat_result(tuple(info)[:4] + (root_uid if path == "/" else 4242,) + tuple(info)[5:])
        return fake
    monkeypatch.setattr(target, "stat", owned(1000))
    assert len(netconf.read_networkmanager(target)) == 1
    monkeypatch.setattr(target, "stat", owned(0))
    assert netconf.read_networkmanager(target) == []
    monkeypatch.setattr(target, "stat", owned(1000))
    monkeypatch.setattr(target, "live", True)
    assert netconf.read_networkmanager(target) == []


def test_networkmanager_skips_what_is_not_a_regular_file(tmp_path):
    put_keyfile(tmp_path, "/etc/NetworkManager/system-connections/eth0", NM_WIRED % ("eth0", "eth0"))
    os.makedirs(str(tmp_path / "etc/NetworkManager/system-connections/subdir"))
    link(tmp_path, "/etc/NetworkManager/system-connections/dangling", "/nowhere")
    assert [c.names for c in netconf.read_networkmanager(Target(str(tmp_path)))] == [["eth0"]]


def test_dhclient_interface_mtu(tmp_path):
    target = Target(str(tmp_path))
    assert netconf.dhclient_requests_mtu(target) is None
    put(tmp_path, "/etc/dhcp/dhclient.conf", "request subnet-mask, broadcast-address,\n\trouters, interface-mtu;\n")
    assert netconf.dhclient_requests_mtu(target) is True
    put(tmp_path, "/etc/dhcp/dhclient.conf", "request subnet-mask, routers;\n# interface-mtu\n")
    assert netconf.dhclient_requests_mtu(target) is False


# --------------------------------------------------------------------- sshd
def test_sshd_include_match_and_first_value(tmp_path):
    put(tmp_path, "/etc/ssh/sshd_config", "Include sshd_config.d/*.conf\nPasswordAuthentication yes\n"
        "ClientAliveInterval 60\nMatch User admin\n  PasswordAuthentication yes\n")
    put(tmp_path, "/etc/ssh/sshd_config.d/10-a.conf", "PasswordAuthentication no\nMatch Address 10.0.0.0/8\n"
        "  PermitRootLogin yes\n")
    put(tmp_path, "/etc/ssh/sshd_config.d/20-b.conf", "ClientAliveInterval=420\nPermitRootLogin without-password\n")
    config = sshd.SshdConfig(Target(str(tmp_path)))
    assert config.files == ["/etc/ssh/sshd_config", "/etc/ssh/sshd_config.d/10-a.conf",
                            "/etc/ssh/sshd_config.d/20-b.conf"]
    value, directive = config.global_value("passwordauthentication")
    assert value == "no" and directive.where.endswith("10-a.conf:1"), "first value wins"
    # the Match in 10-a.conf ends with its file: 20-b.conf's lines are global again
    assert config.global_value("clientaliveinterval")[0] == "420"
    assert config.global_value("permitrootlogin")[0] == "prohibit-password"
    assert [(d.match[0], d.value) for d in config.match_values("permitrootlogin")] == [("Address 10.0.0.0/8", "yes")]
    assert [d.match[0] for d in config.match_values("passwordauthentication")] == ["User admin"]
    assert config.reads_first("/etc/ssh/sshd_config.d/00-guestready-gce.conf", "PasswordAuthentication no\n")
    assert sshd.SshdConfig(Target(str(tmp_path))).global_value("kbdinteractiveauthentication") == ("yes", None)


def test_sshd_config_lines_are_trimmed_as_sshd_trims_them(tmp_path):
    """sshd takes " \\t\\r" off a line's start and WHITESPACE and \\f off its end, no
    more: a keyword after a carriage return is read, one after a \\v is not a keyword it
    knows (sshd refuses the file), so it sets nothing here."""
    put(tmp_path, "/etc/ssh/sshd_config", "PermitRootLogin\ryes\n\x0bPasswordAuthentication no\n"
        "\r ClientAliveInterval 60\x0c\r\n")
    config = sshd.SshdConfig(Target(str(tmp_path)))
    assert config.global_value("permitrootlogin")[0] == "yes"
    assert config.global_value("passwordauthentication") == ("yes", None)
    assert config.global_value("clientaliveinterval")[0] == "60"


def test_sshd_match_all_is_every_connection(tmp_path):
    """servconf.c match_cfg_line() answers 1 for "all" with no connection, so a Match all
    block's lines are read with the global ones at start (first value wins), and the Match pass
    then gives its value to every connection (sshd -T shows that one); a Match block with
    criteria after it never wins for the key it sets.  A keyword no Match block may set (UsePAM)
    keeps its start-up value: the Match pass copies only the others (test_sshd_real_openssh.py
    compares with the real sshd -T)."""
    put(tmp_path, "/etc/ssh/sshd_config", "PermitRootLogin no\nMatch all\n  PasswordAuthentication yes\n"
        "  PermitRootLogin yes\nMatch User admin\n  PermitRootLogin no\n  ClientAliveInterval 60\n")
    config = sshd.SshdConfig(Target(str(tmp_path)))
    assert config.global_value("passwordauthentication")[0] == "yes"    # nothing global before it
    assert config.global_value("permitrootlogin")[0] == "no"            # the global line came first
    value, directive = config.connection_value("permitrootlogin")
    assert value == "yes" and directive.every and directive.where.endswith("sshd_config:4")
    assert config.connection_value("clientaliveinterval") == ("0", None)  # the default
    assert config.match_values("permitrootlogin") == []                 # Match User admin comes after
    assert [d.match[0] for d in config.match_values("clientaliveinterval")] == ["User admin"]
    put(tmp_path, "/etc/ssh/sshd_config", "UsePAM yes\nMatch all\n  UsePAM no\n  PermitRootLogin no\n")
    config = sshd.SshdConfig(Target(str(tmp_path)))
    assert config.connection_value("usepam")[0] == "yes" and config.connection_value("permitrootlogin")[0] == "no"
    assert config.match_values("usepam") == []


def test_sshd_include_in_match_and_no_dropin_dir(tmp_path):
    put(tmp_path, "/etc/ssh/sshd_config", "Port 22\nMatch Group sftp\n  Include /etc/ssh/sftp.conf\n")
    put(tmp_path, "/etc/ssh/sftp.conf", "PasswordAuthentication yes\n")
    config = sshd.SshdConfig(Target(str(tmp_path)))
    assert config.global_value("passwordauthentication") == ("yes", None)  # the default
    assert [d.match[0] for d in config.match_values("passwordauthentication")] == ["Group sftp"]
    assert not config.reads_first("/etc/ssh/sshd_config.d/00-guestready-gce.conf", "PasswordAuthentication no\n")


def test_sshd_match_all_in_a_file_included_in_a_match_block(tmp_path):
    """servconf.c reads a file included in a Match block that does not match with
    SSHCFG_NEVERMATCH: its "Match all" is that block (here: User admin), not every
    connection, and its other Match lines add their criteria to the block's."""
    put(tmp_path, "/etc/ssh/sshd_config", "PasswordAuthentication yes\nMatch User admin\n  Include /etc/ssh/admin.conf\n"
        "Match all\n  Include /etc/ssh/all.conf\n")
    put(tmp_path, "/etc/ssh/admin.conf", "PermitRootLogin yes\nMatch all\n  PasswordAuthentication no\n"
        "Match Address 10.0.0.0/8\n  ClientAliveInterval 60\n")
    put(tmp_path, "/etc/ssh/all.conf", "Match all\n  ClientAliveInterval 420\n")
    config = sshd.SshdConfig(Target(str(tmp_path)))
    assert config.global_value("passwordauthentication")[0] == "yes"
    assert config.connection_value("passwordauthentication")[0] == "yes"
    assert [(d.match[0], d.value) for d in config.match_values("passwordauthentication")] == [("User admin", "no")]
    assert [(d.match[0], d.value) for d in config.match_values("permitrootlogin")] == [("User admin", "yes")]
    assert [d.match[0] for d in config.match_values("clientaliveinterval")] == ["User admin Address 10.0.0.0/8"]
    # a file included in a Match all block: its Match all is every connection's
    value, directive = config.connection_value("clientaliveinterval")
    assert value == "420" and directive.every and directive.where.endswith("all.conf:2")


@pytest.mark.parametrize("main, others, first", [
    # Debian, Ubuntu, Fedora: the Include is the first line
    ("Include /etc/ssh/sshd_config.d/*.conf\nPasswordAuthentication yes\n", {"50-cloud-init.conf": "X11Forwarding no\n"},
     True),
    ("# comment\nInclude sshd_config.d/*.conf\nMatch User a\n  X11Forwarding no\n", {}, True),
    # settings before the Include line
    ("PasswordAuthentication yes\nInclude /etc/ssh/sshd_config.d/*.conf\n", {}, False),
    # a drop-in that sorts before the collection's sets something first
    ("Include /etc/ssh/sshd_config.d/*.conf\n", {"00-base.conf": "PasswordAuthentication yes\n"}, False),
    ("Include /etc/ssh/sshd_config.d/*.conf\n", {"00-base.conf": "Include /etc/ssh/base.conf\n"}, False),
    # one that sorts before it with nothing set, or only a Match block (which ends with its file)
    ("Include /etc/ssh/sshd_config.d/*.conf\n", {"00-a.conf": "# nothing\n", "00-b.conf": "Match User a\n"}, True),
    # a glob the collection's file name does not match, an Include in a Match block
    ("Include /etc/ssh/sshd_config.d/5*.conf\n", {}, False),
    ("Match User a\nInclude /etc/ssh/sshd_config.d/*.conf\n", {}, False),
])
def test_sshd_reads_the_collection_s_dropin_first(tmp_path, main, others, first):
    """First value wins (servconf.c: ``if (*activep && *intptr == -1)``): the
    drop-in decides only when nothing is set before it, in sshd_config or in a
    file the Include reads before it (glob(3) sorts the names)."""
    put(tmp_path, "/etc/ssh/sshd_config", main)
    put(tmp_path, "/etc/ssh/base.conf", "PasswordAuthentication yes\n")
    for name, text in others.items():
        put(tmp_path, "/etc/ssh/sshd_config.d/" + name, text)
    config = sshd.SshdConfig(Target(str(tmp_path)))
    assert config.reads_first("/etc/ssh/sshd_config.d/00-guestready-gce.conf", "PasswordAuthentication no\n") is first


def test_include_glob_descends_only_into_directories(tmp_path):
    """glob(3), which sshd, chrony and ifupdown use, skips what is no directory
    where the pattern goes on (a file, a dangling link, a link loop): the
    matches elsewhere are read, not the whole configuration refused."""
    put(tmp_path, "/etc/ssh/sshd_config", "Include /etc/ssh/*/*.conf\nInclude /etc/ssh/sshd_config/*.conf\n"
        "PermitRootLogin yes\n")
    put(tmp_path, "/etc/ssh/sshd_config.d/10-a.conf", "PasswordAuthentication no\n")
    link(tmp_path, "/etc/ssh/dangling", "nowhere")
    link(tmp_path, "/etc/ssh/loop", "loop")
    config = sshd.SshdConfig(Target(str(tmp_path)))
    assert config.files == ["/etc/ssh/sshd_config", "/etc/ssh/sshd_config.d/10-a.conf"]
    assert config.global_value("passwordauthentication")[0] == "no"
    put(tmp_path, "/etc/chrony/chrony.conf", "include /etc/*/conf.d/*.conf\n")
    put(tmp_path, "/etc/chrony/conf.d/gce.conf", "server metadata.google.internal iburst\n")
    assert [s.host for s in timesync.read_chrony(Target(str(tmp_path))).sources] == ["metadata.google.internal"]


def test_include_glob_skips_hidden_names(tmp_path):
    """glob(3) without GLOB_PERIOD (sshd's Include, chrony's include): ``*`` does not match
    a leading '.', so a hidden file -- a site's way to switch one off -- is not read."""
    put(tmp_path, "/etc/ssh/sshd_config", "Include /etc/ssh/sshd_config.d/*.conf\nInclude /etc/ssh/extra/.*.conf\n")
    put(tmp_path, "/etc/ssh/sshd_config.d/.00-off.conf", "PasswordAuthentication no\n")
    put(tmp_path, "/etc/ssh/sshd_config.d/50-site.conf", "PasswordAuthentication yes\n")
    put(tmp_path, "/etc/ssh/extra/.x.conf", "PermitRootLogin no\n")
    config = sshd.SshdConfig(Target(str(tmp_path)))
    assert config.files == ["/etc/ssh/sshd_config", "/etc/ssh/sshd_config.d/50-site.conf", "/etc/ssh/extra/.x.conf"]
    assert config.global_value("passwordauthentication")[0] == "yes"


def test_configuration_directories_skip_hidden_names(tmp_path):
    """What sh's glob (GRUB's grub.d), systemd's conf-files (networkd, udev, timesyncd drop-ins:
    hidden_or_backup_file()), netplan's and cloud-init's globs list: a name starting with '.' is
    left out, as a site's way to switch a file off.  They were read."""
    put(tmp_path, "/etc/default/grub", "GRUB_TIMEOUT=0\n")
    put(tmp_path, "/etc/default/grub.d/.off.cfg", "GRUB_TIMEOUT=10\n")
    put(tmp_path, "/usr/sbin/grub-mkconfig", "for x in ${sysconfdir}/default/grub.d/*.cfg ; do . $x; done\n")
    put(tmp_path, "/etc/systemd/network/.off.network", "[Match]\nName=ens4\n[Network]\nDHCP=yes\n")
    put(tmp_path, "/etc/netplan/.off.yaml", "network:\n  ethernets:\n    ens4:\n      dhcp4: true\n")
    target = Target(str(tmp_path))
    assert bootloader.GrubConfig(target).timeout()[0] == 0
    assert netconf.read_networkd(target) == [] and netconf.read_netplan(target)[0] == []
    assert configfiles.names(target, "/etc/netplan", ".*") == [".off.yaml"]


def refused_in_time(read, root, said):
    """``read`` of the tree at ``root`` raises ConfigError matching ``said``
    (an alarm stops it after 60 s: unbounded, it expanded for hours)."""
    import signal

    def expired(*args):
        raise AssertionError("the include patterns were still expanding after 60 s")
    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(60)
    try:
        with pytest.raises(ConfigError, match=said):
            read(Target(str(root)))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.mark.parametrize("read, where, line", [
    (sshd.SshdConfig, "/etc/ssh/sshd_config", "Include %s\nPort 22\n"),
    (timesync.read_chrony, "/etc/chrony/chrony.conf", "include %s\n"),
    (netconf.read_ifupdown, "/etc/network/interfaces", "source %s\n"),
], ids=["sshd", "chrony", "ifupdown"])
def test_include_glob_through_links_back_to_the_root_is_bounded(tmp_path, read, where, line):
    """A tree whose links lead back to its root (x -> /): each ``*`` of
    ``/*/*/*/...`` multiplies the paths by the entries at the root (5 here:
    4 links and etc), 5 ** 12 before, which never returned; now the glob
    stops at MAX_GLOB_PATHS and names the pattern."""
    pattern = "/" + "/".join(["*"] * 12)
    put(tmp_path, where, line % pattern)
    for name in ("l", "m", "n", "o"):
        link(tmp_path, "/" + name, "/")

    refused_in_time(read, tmp_path, r"\*/\*: the include patterns reach more than 16384 paths: not expanded")


@pytest.mark.parametrize("read, where, line", [
    (sshd.SshdConfig, "/etc/ssh/sshd_config", "Include %s\n"),
    (timesync.read_chrony, "/etc/chrony/chrony.conf", "include %s\n"),
    (netconf.read_ifupdown, "/etc/network/interfaces", "source %s\n"),
], ids=["sshd", "chrony", "ifupdown"])
def test_include_globs_of_one_configuration_share_one_bound(tmp_path, read, where, line):
    """Each pattern under the bound (5 ** 5 paths, about 0.15 s each) but
    a file of 2,000 of them: 5 minutes before; one bound for the whole
    configuration now."""
    put(tmp_path, where, (line % "/*/*/*/*/*/x.conf") * 2000)
    for name in ("l", "m", "n", "o"):
        link(tmp_path, "/" + name, "/")

    refused_in_time(read, tmp_path, r"x\.conf: the include patterns reach more than 16384 paths")


@pytest.mark.parametrize("read, where, line, shown", [
    (sshd.SshdConfig, "/etc/ssh/sshd_config", "Include /big/*.conf\n", r"big/\*\.conf"),
    (timesync.read_chrony, "/etc/chrony/chrony.conf", "include /big/*.conf\n", r"big/\*\.conf"),
    (netconf.read_ifupdown, "/etc/network/interfaces", "source-directory /big\n", r"/big"),
], ids=["sshd", "chrony", "ifupdown"])
def test_include_lines_listing_a_large_directory_share_the_bound(tmp_path, read, where, line, shown):
    """Lines that each list a directory of 2,000 names matching none: every
    name listed counts (5 ms a line for sshd, 18 ms for ifupdown before: a
    1 MiB file of them ran for minutes)."""
    put(tmp_path, where, line * 5000)
    os.makedirs(str(tmp_path / "big"))
    for number in range(2000):
        open(str(tmp_path / "big" / ("f%04d.x" % number)), "w").close()
    with pytest.raises(ConfigError, match=shown + r": the include patterns reach more than 16384 paths"):
        read(Target(str(tmp_path)))


def test_chrony_confdir_and_sourcedir_lines_share_the_bound(tmp_path):
    """confdir and sourcedir lines, each naming a directory of 2,000 names
    under another spelling (/big/./., //big): each listed again, 9.5 ms a
    directory before (a 1 MiB chrony.conf ran for minutes)."""
    put(tmp_path, "/etc/chrony/chrony.conf", "".join(
        "confdir /big%s\nsourcedir /%sbig\n" % ("/." * (number % 50), "/" * (number % 50)) for number in range(2000)))
    os.makedirs(str(tmp_path / "big"))
    for number in range(2000):
        open(str(tmp_path / "big" / ("f%04d.x" % number)), "w").close()
    with pytest.raises(ConfigError, match=r"big.*: the include patterns reach more than 16384 paths"):
        timesync.read_chrony(Target(str(tmp_path)))


def fan_out(root, directory, directive, levels=3, times=300):
    """Files each including the next ``times`` times: ``times ** levels``
    reads without a loop or a deep nesting."""
    for level in range(levels):
        put(root, "%s/%d.conf" % (directory, level),
            ("%s %s/%d.conf\n" % (directive, directory, level + 1)) * times)
    put(root, "%s/%d.conf" % (directory, levels), "server ntp.example.com\nPort 22\n")
    return "%s/0.conf" % directory


def test_sshd_include_fan_out_is_bounded(tmp_path):
    # 300 ** 3 reads before: the module never returned
    first = fan_out(tmp_path, "/etc/ssh/x", "Include")
    put(tmp_path, "/etc/ssh/sshd_config", "Include %s\n" % first)
    with pytest.raises(ConfigError, match=r"x/3\.conf: Include reads more than 1024 files"):
        sshd.SshdConfig(Target(str(tmp_path)))


def test_chrony_and_ntp_include_fan_out_is_bounded(tmp_path):
    first = fan_out(tmp_path, "/etc/chrony/x", "include")
    put(tmp_path, "/etc/chrony/chrony.conf", "include %s\n" % first)
    with pytest.raises(ConfigError, match=r"includes read more than 1024 files"):
        timesync.read_chrony(Target(str(tmp_path)))
    first = fan_out(tmp_path, "/etc/ntpsec/x", "includefile")
    put(tmp_path, "/etc/ntpsec/ntp.conf", "includefile %s\n" % first)
    with pytest.raises(ConfigError, match=r"includes read more than 1024 files"):
        timesync.read_ntp(Target(str(tmp_path)))


@pytest.mark.parametrize("line, words", [
    ("PasswordAuthentication no", ["PasswordAuthentication", "no"]),
    ("PasswordAuthentication=no", ["PasswordAuthentication", "no"]),
    ("PasswordAuthentication = no", ["PasswordAuthentication", "no"]),
    ("PasswordAuthentication\t=\tno", ["PasswordAuthentication", "no"]),
    ("PasswordAuthentication =no", ["PasswordAuthentication", "no"]),
    ("PasswordAuthentication= no", ["PasswordAuthentication", "no"]),
    # strdelim skips one '=' only: the second is the value's
    ("PasswordAuthentication == no", ["PasswordAuthentication", "=", "no"]),
    ("AcceptEnv = LANG LC_*", ["AcceptEnv", "LANG", "LC_*"]),
    ('Banner = "/etc/my banner"', ["Banner", "/etc/my banner"]),
    ("SetEnv FOO=bar", ["SetEnv", "FOO=bar"]),
    # argv_split(): a word starting with '#' ends the line (OpenSSH 8.7 and newer), single quotes
    # group too, a backslash escapes a quote, a backslash, an unquoted blank
    ("PasswordAuthentication yes # for now", ["PasswordAuthentication", "yes"]),
    ("PermitRootLogin no\t#root", ["PermitRootLogin", "no"]),
    ("Match all # every connection", ["Match", "all"]),
    ("Banner /etc/issue#1", ["Banner", "/etc/issue#1"]),
    ('Banner "/etc/#1" #x', ["Banner", "/etc/#1"]),
    ("PasswordAuthentication 'yes'", ["PasswordAuthentication", "yes"]),
    ("Banner '/etc/my \"banner\"'", ["Banner", '/etc/my "banner"']),
    ("Banner /etc/my\\ banner \\#x", ["Banner", "/etc/my banner", "\\#x"]),   # no escape: the '\\' stays
    ("Banner /etc/a\\b", ["Banner", "/etc/a\\b"]),
    # strdelim() ends the keyword at a carriage return too; argv_split() splits at blanks only
    ("PermitRootLogin\ryes", ["PermitRootLogin", "yes"]),
    ("PermitRootLogin\r=\ryes", ["PermitRootLogin", "yes"]),
    ("AcceptEnv LANG\rLC_*", ["AcceptEnv", "LANG\rLC_*"]),
])
def test_sshd_words_as_strdelim_splits_the_keyword(line, words):
    assert sshd._words(line) == words


@pytest.mark.parametrize("text, seconds", [
    ("420", 420), ("420s", 420), ("7m", 420), ("7M", 420), ("1h30m", 5400), ("1h30", 3630), ("2d", 172800),
    ("1w", 604800), ("0", 0), ("2147483647", 2 ** 31 - 1),
    # what convtime refuses
    ("", None), ("m", None), ("-5", None), ("+5", None), ("1.5", None), ("7x", None), ("7 m", None),
    ("\u00b2", None), ("\u0661\u0662", None), ("2147483648", None), ("4000w", None), ("9" * 400, None),
])
def test_sshd_seconds_as_convtime_reads_them(text, seconds):
    assert sshd.seconds(text) == seconds


def test_sshd_password_logins():
    assert sshd.password_logins({}) == ["passwordauthentication"], "UsePAM defaults to no"
    assert sshd.password_logins({"passwordauthentication": "no", "usepam": "yes"}) == ["kbdinteractiveauthentication"]
    assert sshd.password_logins({"passwordauthentication": "no", "usepam": "YES",
                                 "kbdinteractiveauthentication": "no"}) == []
    assert sshd.password_logins({"passwordauthentication": "no", "usepam": "yes", "kbdinteractiveauthentication": "yes",
                                 "challengeresponseauthentication": "no"}) == [], "OpenSSH before 8.7"


def test_sshd_dump_parse():
    values = sshd.parse_dump("port 22\npasswordauthentication no\nauthorizedkeysfile .ssh/authorized_keys .ssh/k2\n")
    assert values["authorizedkeysfile"] == ".ssh/authorized_keys .ssh/k2" and values["port"] == "22"


# -------------------------------------------------------------------- fstab
def test_fstab_entries():
    text = ("# comment\n/dev/sda1 / ext4 defaults 0 1\nUUID=abc /data ext4 defaults 0 2\n"
            "/dev/nvme0n1p2 /boot ext4 defaults 0 2\nLABEL=swap none swap sw 0 0\n"
            "proc /proc proc defaults 0 0\nserver:/x /mnt/nfs nfs defaults 0 0\n/dev/disk/by-id/google-d /d xfs ro 0 0\n"
            "/dev/mapper/vg-lv /srv/with\\040space ext4 nofail 0 2\n")
    entries = fstab.parse(text)
    assert [e.device_node() for e in entries] == ["/dev/sda1", None, "/dev/nvme0n1p2", None, None, None, None, None]
    assert [e.is_block for e in entries] == [True, True, True, True, False, False, True, True]
    assert entries[3].is_swap and entries[7].file == "/srv/with space"
    edited = fstab.replace_lines(text, {3: fstab.with_option(entries[1], "nofail")}, "GCE-FSTAB-NOFAIL")
    assert "# guestready.gce replaced (GCE-FSTAB-NOFAIL): UUID=abc /data ext4 defaults 0 2\n" \
           "UUID=abc\t/data\text4\tdefaults,nofail\t0\t2\n" in edited


def test_fstab_network_entries_as_systemds_generator_tells_them():
    """mount_is_network (systemd fstab-generator.c): _netdev, or a network type, "fuse." dropped;
    options match bare or with a value, not as a prefix of another option."""
    entries = fstab.parse("UUID=1 /a ext4 _netdev 0 0\nUUID=2 /b gfs2 defaults 0 0\nu@h /c fuse.sshfs rw 0 0\n"
                          "UUID=4 /d ext4 _netdevice,x-systemd.automount=yes 0 0\nUUID=5 /e fuse.gocryptfs rw 0 0\n")
    assert [e.is_network for e in entries] == [True, True, True, False, False]
    assert entries[3].has_option("x-systemd.automount") and not entries[3].has_option("_netdev")


def test_fstab_fields_and_lines_as_getmntent_reads_them():
    """systemd's fstab generator reads fstab with glibc's getmntent(): fields split at spaces and
    tabs only (a no-break space stays in the mount point), a missing field empty (a two-field line
    mounts a type to probe; libmount refused it, and it needed no nofail), a CRLF line's \\r kept
    in its last field, a one-field line no mount (no path to mount on)."""
    text = ("UUID=abc /mnt/a\xa0b ext4 defaults 0 2\n"
            "UUID=def /mnt/two\n"
            "LABEL=x\t/mnt/crlf xfs\tdefaults,nofail\r\n"
            "/dev/sdc\n")
    entries = fstab.parse(text)
    assert [(e.line, e.file, e.vfstype, e.has_unit) for e in entries] == [
        (1, "/mnt/a\xa0b", "ext4", True), (2, "/mnt/two", "", True), (3, "/mnt/crlf", "xfs", True), (4, "", "", False)]
    assert fstab.with_option(entries[0], "nofail") == ["UUID=abc", "/mnt/a\xa0b", "ext4", "defaults,nofail", "0", "2"]
    assert entries[1].options == ["defaults"] and entries[1].holds_boot
    assert entries[2].options == ["defaults", "nofail\r"] and entries[2].holds_boot
    # the new line ends at "\n": the \\r goes, or mount would be passed an option "nofail\r"
    assert fstab.with_option(entries[2], "nofail") == ["LABEL=x", "/mnt/crlf", "xfs", "defaults,nofail,nofail"]


def test_fstab_tag_valued_dot_dot_makes_no_unit():
    """/dev/disk/by-uuid/.. is no unit name: systemd-fstab-generator fails that entry and leaves a
    unit without What= that nothing starts, so boot does not wait for it (nor for a swap's)."""
    entries = fstab.parse("UUID=.. /a ext4 defaults 0 2\nLABEL=.. none swap sw 0 0\nUUID=. /b ext4 defaults 0 2\n"
                          "uuid=.. /c ext4 defaults 0 2\n")
    assert [e.has_unit for e in entries] == [False, False, True, True]


def test_fstab_lines_getmntent_reads_in_part():
    """A line getmntent() reads only in part: cut at a NUL, and the line after it read on and
    forgotten; longer than its 4095 bytes, cut there; neither is ``whole`` (an edit would drop
    the rest); escapes are glibc's four, others stay as written."""
    long_line = "UUID=1 /long ext4 defaults," + "x" * 5000 + " 0 2\n"
    entries = fstab.parse("UUID=a /a ext4 defaults\x00,nofail 0 2\nUUID=b /b ext4 defaults 0 2\n"
                          + long_line + "UUID=c /c\\055d\\134e ext4 rw 0 7\n")
    assert [(e.line, e.file, e.options[:1], e.whole) for e in entries] == [
        (1, "/a", ["defaults"], False), (3, "/long", ["defaults"], False), (4, "/c\\055d\\e", ["rw"], True)]
    assert len(entries[1].text) == 4095 and entries[2].passno == 7


def test_fstab_of_many_lines_is_edited_in_one_pass():
    """A tree's fstab of 400000 data disks (15 MiB, below the 32 MiB read
    limit): each line's change was inserted into the list of lines, moving
    its tail every time, about a minute for this one; harden's check mode
    too.  The edit is one pass now, and the same text."""
    text = "".join("/dev/sdb%d /data%d ext4 defaults 0 2\n" % (n, n) for n in range(400000)) + "proc /proc proc defaults 0 0"
    changes = dict((entry.line, fstab.with_option(entry, "nofail")) for entry in fstab.parse(text)
                   if entry.line % 2 and entry.file != "/proc")
    started = time.time()
    edited = fstab.replace_lines(text, changes, "GCE-FSTAB-NOFAIL")
    # a liveness bound, not a speed target (benchmarks measure speed): the quadratic edit never ended in time
    assert time.time() - started < 30
    rows = edited.split("\n")
    assert rows[:4] == ["# guestready.gce replaced (GCE-FSTAB-NOFAIL): /dev/sdb0 /data0 ext4 defaults 0 2",
                        "/dev/sdb0\t/data0\text4\tdefaults,nofail\t0\t2", "/dev/sdb1 /data1 ext4 defaults 0 2",
                        "# guestready.gce replaced (GCE-FSTAB-NOFAIL): /dev/sdb2 /data2 ext4 defaults 0 2"]
    assert rows[-1] == "proc /proc proc defaults 0 0" and len(rows) == 600001


def test_fstab_device_paths_with_colons_are_disks():
    """A /dev/disk/by-path name holds colons (the PCI and SCSI addresses): it
    was taken for a server's host:/export and needed no nofail (GCE-FSTAB-NOFAIL)."""
    entry, = fstab.parse("/dev/disk/by-path/pci-0000:00:04.0-scsi-0:0:2:0-part1 /data ext4 defaults 0 2\n")
    assert entry.is_block


@pytest.mark.parametrize("line", [
    "gluster1:/gv0 /mnt/gluster glusterfs defaults,_netdev 0 0",   # host:volume, a type not in PSEUDO
    "mon1:6789,mon2:6789:/ /mnt/ceph ceph name=admin,_netdev 0 0",
    "//nas/share /mnt/nas smbfs credentials=/etc/nas 0 0",          # //server/share, a type not in PSEUDO
])
def test_fstab_network_mounts_are_not_disks(line):
    """A network share is not an additional disk: it needs no nofail (GCE-FSTAB-NOFAIL)
    whatever its type is called; the server in its spec tells."""
    entry, = fstab.parse(line + "\n")
    assert not entry.is_block, line


# --------------------------------------------------------------------- udev
def test_files_that_are_not_utf8_count_their_line_lengths_in_their_own_bytes(tmp_path):
    """udevd (16 KiB) and chronyd (2048 bytes) limit a line's bytes: a Latin-1 comment under
    the limit is no long line though its characters take twice as much in UTF-8."""
    for path, data in (("/etc/udev/rules.d/70-persistent-net.rules",
                        b"# " + b"\xe9" * 10000 + b'\nSUBSYSTEM=="net", ATTR{address}=="42:01:0a:00:00:02", NAME="eth0"\n'),
                       ("/etc/chrony/chrony.conf", b"# " + b"\xe9" * 1500 + b"\nserver metadata.google.internal iburst\n")):
        with open(put(tmp_path, path, ""), "wb") as handle:
            handle.write(data)
    target = Target(str(tmp_path))
    assert [(p, n) for p, n, r in udev.persistent_net_rules(target)] == [("/etc/udev/rules.d/70-persistent-net.rules", 2)]
    config = timesync.read_chrony(target)
    assert config.fatal is None and [s.host for s in config.sources] == ["metadata.google.internal"]


def test_udev_persistent_net_and_disk_naming(tmp_path):
    put(tmp_path, "/etc/udev/rules.d/70-persistent-net.rules",
        '# PCI device\nSUBSYSTEM=="net", ACTION=="add", DRIVERS=="?*", \\\n  ATTR{address}=="42:01:0a:00:00:02", '
        'NAME="eth0"\n')
    put(tmp_path, "/lib/udev/rules.d/65-gce-disk-naming.rules", 'SYMLINK+="disk/by-id/google-$env{ID_SERIAL_SHORT}"\n')
    target = Target(str(tmp_path))
    rules = udev.persistent_net_rules(target)
    assert [(p, n) for p, n, r in rules] == [("/etc/udev/rules.d/70-persistent-net.rules", 2)]
    assert udev.disk_naming_rules(target) == ["/lib/udev/rules.d/65-gce-disk-naming.rules"]
    text = udev.comment_out(open(os.path.join(str(tmp_path), "etc/udev/rules.d/70-persistent-net.rules")).read(),
                            [2], "R")
    assert udev.logical_lines(text) == [] and text.count("# guestready.gce neutralised (R)") == 2
    link(tmp_path, "/etc/udev/rules.d/65-gce-disk-naming.rules", "/dev/null")
    assert udev.disk_naming_rules(target) == [], "a /dev/null link in /etc masks the packaged rules"


def test_udev_persistent_net_rules_name_match_is_not_a_rename(tmp_path):
    """NAME=="eth0" only matches the name (udev-rules.c): a rule that sets the
    MTU of eth0 on one MAC address renames nothing, and is not commented out;
    NAME+= renames like NAME= (GCE-NET-NO-PERSISTENT-RULES)."""
    put(tmp_path, "/etc/udev/rules.d/71-mtu.rules",
        'SUBSYSTEM=="net", ACTION=="add", NAME=="eth0", ATTR{address}=="42:01:0a:00:00:02", ATTR{mtu}="1460"\n'
        'SUBSYSTEM=="net", ACTION=="add", ATTR{address}=="42:01:0a:00:00:03", NAME+="eth1"\n')
    rules = udev.persistent_net_rules(Target(str(tmp_path)))
    assert [(p, n) for p, n, r in rules] == [("/etc/udev/rules.d/71-mtu.rules", 2)]


@pytest.mark.parametrize("match, bound", [
    ('ATTR{address}=="*:*:*:*:*:*"', False), ('ATTR{address}=="??:??:??:??:??:??"', False),
    ('ATTRS{address}=="[0-9a-f][0-9a-f]:*"', False), ('ATTR{address}=="*[!0]*"', False),
    ('ATTR{address}=="[[:xdigit:]]*|42:01:0a:00:00:02"', False), ('ENV{ID_NET_NAME_MAC}=="en*"', False),
    ('ENV{ID_NET_NAME_MAC}=="enx????????????"', False),
    ('ATTR{address}=="[0-7]*"', True), ('ATTR{address}=="??:??:??:??:??:?"', True),
    ('ATTR{address}=="*:*:*:*:*:*:*"', True), ('ATTR{address}=="42:01:0a:*|02:*"', True),
    ('ENV{ID_NET_NAME_MAC}=="enx42010a*"', True),
    ('ATTR{address}=="' + "*?" * 8150 + '"', True)])   # a line just under udevd's limit (udev.LINE_SIZE)
def test_udev_a_mac_glob_binds_unless_it_matches_every_address(tmp_path, match, bound):
    """A glob is judged over every address udev could match it against (lower case hex, as the
    kernel prints it), as fnmatch(3) would match it: "*:*:*:*:*:*" and sets of every hex digit name
    every NIC, a glob that leaves out one address names some only (GCE-NET-NO-PERSISTENT-RULES)."""
    put(tmp_path, "/etc/udev/rules.d/70-persistent-net.rules", 'SUBSYSTEM=="net", %s, NAME="lan0"\n' % match)
    rules = udev.persistent_net_rules(Target(str(tmp_path)))
    assert bool(rules) is bound, rules


def test_udev_disk_naming_rules_commented_out_in_etc_make_no_links(tmp_path):
    rules = 'KERNEL=="sd*|vd*|nvme*", ENV{DEVTYPE}=="disk", SYMLINK+="disk/by-id/google-$env{ID_SERIAL_SHORT}"\n'
    put(tmp_path, "/usr/lib/udev/rules.d/65-gce-disk-naming.rules", rules)
    put(tmp_path, "/etc/udev/rules.d/65-gce-disk-naming.rules", "# disabled here\n# " + rules)
    assert udev.disk_naming_rules(Target(str(tmp_path))) == [], "the /etc copy hides the packaged file, and makes no link"


def test_udev_a_directory_named_like_rules_hides_and_holds_nothing(tmp_path):
    """udevd lists a directory of a rules file's name (conf_files_list_strv() with no type filter),
    fails to read it and goes on (udev_rules_load(): "Failed to read rules file %s, ignoring"): it
    hides the packaged file of its name and makes no rule; the checks stopped with an error."""
    rules = 'SUBSYSTEM=="net", ATTR{address}=="42:01:0a:00:00:02", NAME="eth0"\n'
    put(tmp_path, "/usr/lib/udev/rules.d/70-persistent-net.rules", rules)
    put(tmp_path, "/usr/lib/udev/rules.d/65-gce-disk-naming.rules", 'SYMLINK+="disk/by-id/google-$env{ID_SERIAL}"\n')
    put(tmp_path, "/etc/udev/rules.d/80-net.rules", rules)
    os.makedirs(os.path.join(str(tmp_path), "etc/udev/rules.d/70-persistent-net.rules"))
    os.makedirs(os.path.join(str(tmp_path), "etc/udev/rules.d/65-gce-disk-naming.rules"))
    target = Target(str(tmp_path))
    assert [(p, n) for p, n, r in udev.persistent_net_rules(target)] == [("/etc/udev/rules.d/80-net.rules", 1)]
    assert udev.disk_naming_rules(target) == []


def test_udev_comment_lines_inside_and_ending_a_continuation(tmp_path):
    """udevd skips a line starting with '#' even inside a continuation, and a
    comment's trailing backslash continues nothing (udev-rules.c,
    udev_rules_parse_file): both rules below rename a NIC, and commenting
    them out reaches past the comment, CRLF line ends too
    (GCE-NET-NO-PERSISTENT-RULES, GCE-UDEV-DISK-NAMING)."""
    text = ('# an old rule, switched off \\\n'
            'SUBSYSTEM=="net", ACTION=="add", ATTR{address}=="42:01:0a:00:00:02", NAME="eth0"\n'
            'SUBSYSTEM=="net", ACTION=="add", \\\n'
            '  # the NIC of the build machine\n'
            '  ATTR{address}=="42:01:0a:00:00:03", NAME="eth1"\n')
    put(tmp_path, "/etc/udev/rules.d/70-persistent-net.rules", text)
    put(tmp_path, "/usr/lib/udev/rules.d/65-gce-disk-naming.rules",
        '# SYMLINK+="disk/by-id/google-$env{ID_SERIAL_SHORT}-old" \\\n'
        'KERNEL=="sd*", SYMLINK+="disk/by-id/google-$env{ID_SERIAL_SHORT}"\n')
    target = Target(str(tmp_path))
    assert [(p, n) for p, n, r in udev.persistent_net_rules(target)] == [
        ("/etc/udev/rules.d/70-persistent-net.rules", 2), ("/etc/udev/rules.d/70-persistent-net.rules", 3)]
    assert udev.disk_naming_rules(target) == ["/usr/lib/udev/rules.d/65-gce-disk-naming.rules"]
    for ends in ("\n", "\r\n"):
        out = udev.comment_out(text.replace("\n", ends), [2, 3], "R")
        assert udev.logical_lines(out) == [], out
        assert "  # the NIC of the build machine" + ends in out, "the comment stays as it was"


def test_udev_rule_lines_end_only_where_udevd_ends_them(tmp_path):
    """udevd's read_line() ends a line at \\n, \\r\\n or \\r only: a form feed
    or \\x1c inside a value does not cut the rule in two, and commenting it
    out covers all of it (GCE-NET-NO-PERSISTENT-RULES)."""
    text = ('SUBSYSTEM=="net", RUN+="/bin/true \x0c\x1c", ATTR{address}=="42:01:0a:00:00:02", NAME="eth0"\r\n'
            'SUBSYSTEM=="net", ATTR{address}=="42:01:0a:00:00:03", NAME="eth1"\r')
    put(tmp_path, "/etc/udev/rules.d/70-persistent-net.rules", text)
    rules = udev.persistent_net_rules(Target(str(tmp_path)))
    assert [(p, n) for p, n, r in rules] == [("/etc/udev/rules.d/70-persistent-net.rules", 1),
                                             ("/etc/udev/rules.d/70-persistent-net.rules", 2)]
    assert udev.logical_lines(udev.comment_out(text, [1, 2], "R")) == []


def test_udev_reads_lines_as_read_line_does_and_no_further_than_a_line_too_long(tmp_path):
    """udevd reads a rules file with read_line(f, UDEV_LINE_SIZE): \\n\\r ends one
    line, not two; a rule goes on while the lines joined so far end in a
    backslash (an empty line after "\\\\" too); joined lines of 16384
    characters or more are one rule left out; a line of that length ends the
    file, the rules before it kept (systemd udev-rules.c
    udev_rules_parse_file, fileio.c read_line_full).  Commenting rules out
    keeps what udevd does not read as it was (GCE-NET-NO-PERSISTENT-RULES)."""
    rename = 'SUBSYSTEM=="net", ATTR{address}=="42:01:0a:00:00:0%d", NAME="eth%d"'
    half = 'ENV{PAD}="%s", \\\n' % ("x" * 8185)   # 8200 characters, backslash included
    text = (rename % (1, 1) + "\n"
            + 'SUBSYSTEM=="net", \\\n\r' + 'ATTR{address}=="42:01:0a:00:00:02", NAME="eth2"\n'  # \n\r: one end
            + 'SUBSYSTEM=="net", ATTR{address}=="42:01:0a:00:00:03", \\\\\n' + "\n" + 'NAME="eth3"\n'
            + half + half + rename % (4, 4) + "\n"           # joined: 16399 characters, left out
            + half + rename % (5, 5) + "\n"                  # joined: 8255, read
            + 'ENV{PAD}="%s"\n' % ("x" * 16372)               # 16383 characters: read
            + rename % (6, 6) + "\n"
            + 'ENV{PAD}="%s"\n' % ("x" * 16373)               # 16384: udevd reads no further
            + rename % (7, 7) + "\n")
    put(tmp_path, "/etc/udev/rules.d/70-persistent-net.rules", text)
    found = udev.persistent_net_rules(Target(str(tmp_path)))
    assert [(n, r[-5:-1]) for p, n, r in found] == [(1, "eth1"), (2, "eth2"), (4, "eth3"), (10, "eth5"), (13, "eth6")]
    out = udev.comment_out(text, [n for p, n, r in found], "R")
    assert udev.logical_lines(out) == [(12, 'ENV{PAD}="%s"' % ("x" * 16372))], "every rename commented out"
    tail = text[text.index('ENV{PAD}="%s"' % ("x" * 16373)):]
    assert out.endswith("\n" + tail) and out.count(rename % (7, 7)) == 1, "what udevd does not read is kept"
    # a rule the marker would make too long for read_line() is commented out in parts it reads
    for end, size in (("\n", 16360), ("\r\n", 16383), ("", 16383)):   # one comment line, two
        long_rule = 'SUBSYSTEM=="net", ENV{PAD}="%s", %s' % ("x" * (size - 96), rename % (8, 8))
        assert len(long_rule) == size
        text = long_rule + "\n" + rename % (9, 9) + end
        assert [r[-5:-1] for n, r in udev.logical_lines(text)] == ["eth8", "eth9"]
        out = udev.comment_out(text, [1], "R")
        assert [r[-5:-1] for n, r in udev.logical_lines(out)] == ["eth9"], "udevd reads on past it"
        rows = out.splitlines()
        assert rows[0] == "# guestready.gce neutralised (R), in parts:" and rows[-1] == rename % (9, 9)
        assert "".join(row[1:] for row in rows[1:-1]) == long_rule and all(len(row) < 16384 for row in rows)


@pytest.mark.parametrize("rule, pins", [
    # only a network interface takes NAME=: a GOTO may stand for SUBSYSTEM=="net"
    ('ACTION=="add", ATTR{address}=="42:01:0a:00:00:02", NAME="eth0"', True),
    ('ACTION=="add", ATTRS{address}=="42:01:0a:00:00:02", NAME:=e"eth0"', True),
    # NAME= inside another key's value, NAME="%k" and an unquoted value rename nothing (udevd ignores them)
    ('SUBSYSTEM=="net", ATTR{address}=="42:01:0a:00:00:02", RUN+="/usr/bin/logger NAME=eth0"', False),
    ('SUBSYSTEM=="net", ATTR{address}=="42:01:0a:00:00:02", NAME="%k"', False),
    ('SUBSYSTEM=="net", ATTR{address}=="42:01:0a:00:00:02", NAME=eth0', False),
    ('SUBSYSTEM=="net", ENV{MATCH}="ATTR{address}==42:01:0a:00:00:02", NAME="eth0"', False),
])
def test_udev_persistent_net_rules_read_as_udevd_parses_them(tmp_path, rule, pins):
    """Keys, operators and quoted values as udevd parses them (udev-rules.c,
    parse_line, udev_rule_parse_value, parse_token "NAME"), not words found
    anywhere in the line (GCE-NET-NO-PERSISTENT-RULES)."""
    put(tmp_path, "/etc/udev/rules.d/70-persistent-net.rules",
        'SUBSYSTEM!="net", GOTO="end"\n%s\nLABEL="end"\n' % rule)
    assert bool(udev.persistent_net_rules(Target(str(tmp_path)))) is pins


@pytest.mark.parametrize("match, pins", [
    # the name udev's net_id builtin derives from the MAC address (udev-builtin-net_id.c names_mac())
    ('ENV{ID_NET_NAME_MAC}=="enx42010a800002"', True),
    ('ENV{ID_NET_NAME_MAC}=="enx42010a80000*"', True),
    ('ENV{ID_NET_NAME_MAC}=="enx*"', False),
    ('ENV{ID_NET_NAME_MAC}=="?*"', False),
    ('ENV{ID_NET_NAME_MAC}!="enx42010a800002"', False),
    # a glob that matches every address names each NIC, not one
    ('ATTR{address}=="?*"', False),
    ('ATTR{address}=="*"', False),
    ('ATTRS{address}=="*?"', False),
    ('ATTR{address}=="42:01:0a:80:00:02|?*"', False),
    ('ATTR{address}==""', False),
    # one alternative naming an address, or a partial glob (one vendor's or network's addresses), binds
    ('ATTR{address}=="00:16:3e:00:00:01|42:01:0a:80:00:02"', True),
    ('ATTR{address}=="42:01:0a:*"', True),
    # i"...": matched ignoring case (FNM_CASEFOLD): an upper-case glob binds no address without it
    ('ATTR{address}=="[0-9A-F][0-9A-F]:*"', True),
    ('ATTR{address}==i"[0-9A-F][0-9A-F]:*"', False),
    ('ATTR{address}==i"42:01:0A:80:00:02"', True),
    ('ENV{ID_NET_NAME_MAC}==i"ENX*"', False),
])
def test_udev_persistent_net_rules_bound_to_some_addresses_only(tmp_path, match, pins):
    """A rule is bound to a MAC address when its match holds for some addresses only: udev's
    patterns are fnmatch globs with '|' alternatives (udev-rules.c token_match_string()), and
    ID_NET_NAME_MAC spells the address too; harden comments the rule out
    (GCE-NET-NO-PERSISTENT-RULES)."""
    text = 'SUBSYSTEM=="net", ACTION=="add", %s, NAME="lan0"\n' % match
    put(tmp_path, "/etc/udev/rules.d/70-persistent-net.rules", text)
    rules = udev.persistent_net_rules(Target(str(tmp_path)))
    assert bool(rules) is pins, rules
    if pins:
        assert udev.logical_lines(udev.comment_out(text, [1], "R")) == []


def test_udev_disk_naming_needs_a_symlink_assignment(tmp_path):
    """SYMLINK== only matches a link another rule made, SYMLINK-= removes one
    (udev-rules.c, parse_token "SYMLINK"): neither makes google-* links
    (GCE-UDEV-DISK-NAMING)."""
    put(tmp_path, "/etc/udev/rules.d/90-data.rules",
        'SYMLINK=="disk/by-id/google-data", SYMLINK+="data"\nSYMLINK-="disk/by-id/google-scratch"\n'
        'RUN+="/bin/ln -s /dev/%k /dev/disk/by-id/google-x"\n')
    target = Target(str(tmp_path))
    assert udev.disk_naming_rules(target) == []
    put(tmp_path, "/usr/lib/udev/rules.d/65-gce-disk-naming.rules",
        'KERNEL=="sd*|vd*|nvme*", ENV{DEVTYPE}=="disk", SYMLINK+="disk/by-id/google-$env{ID_SERIAL_SHORT}"\n')
    assert udev.disk_naming_rules(target) == ["/usr/lib/udev/rules.d/65-gce-disk-naming.rules"]


@pytest.mark.parametrize("text, requests, fixed", [
    ("request subnet-mask, interface-mtu, routers;\n", True, None),
    # a later request statement replaces the list (dhclient.conf(5)): the MTU is no longer asked for
    ("request subnet-mask, interface-mtu, routers;\nrequest subnet-mask, routers;\n", False, None),
    ("request subnet-mask, routers;\nalso request interface-mtu;\n", True, None),
    # the server's MTU replaced by a fixed one
    ("request subnet-mask, interface-mtu;\nsupersede interface-mtu 1500;\n", True, "1500"),
    ("request interface-mtu;\n#supersede interface-mtu 1500;\ndefault interface-mtu 1460;\n", True, None),
])
def test_dhclient_statements_in_order(tmp_path, text, requests, fixed):
    put(tmp_path, "/etc/dhcp/dhclient.conf", text)
    target = Target(str(tmp_path))
    assert netconf.dhclient_requests_mtu(target) is requests
    assert netconf.dhclient_fixed_mtu(target) == fixed


def test_networkmanager_reads_a_keyfile_with_a_nul_as_gkeyfile_does(tmp_path):
    """GKeyFile takes a line as a C string: a NUL ends it there (a line starting with one is blank);
    such a file still loads when every line then is a group, key=value or comment."""
    full = put_keyfile(tmp_path, "/etc/NetworkManager/system-connections/eth0.nmconnection", "")
    with open(full, "wb") as handle:
        handle.write(b"[connection]\nid=eth0\ntype=ethernet\ninterface-name=eth0\x00junk\n\x00\x01binary\n[ipv4]\nmethod=auto\n")
    target = Target(str(tmp_path))
    assert [(c.names, c.dhcp4) for c in netconf.read_networkmanager(target)] == [(["eth0"], True)]
    assert netconf.networkmanager_ignored(target) == []


def test_networkmanager_names_the_keyfiles_it_ignores(tmp_path):
    directory = "/etc/NetworkManager/system-connections/"
    put_keyfile(tmp_path, directory + "a.nmconnection", NM_WIRED % ("a", "eth0"), 0o640)
    put_keyfile(tmp_path, directory + "b.nmconnection", NM_WIRED % ("b", "eth0"))
    os.makedirs(str(tmp_path / "etc/NetworkManager/system-connections/c.nmconnection"))
    full = put_keyfile(tmp_path, directory + "d.nmconnection", "")
    with open(full, "wb") as handle:
        handle.write(b"\x00\x00[connection]\nGARBAGE\x00=x\n")
    target = Target(str(tmp_path))
    assert netconf.networkmanager_files(target) == [directory + "b.nmconnection"]
    assert netconf.networkmanager_ignored(target) == [
        (directory + "a.nmconnection", "mode 0640: a keyfile group or others may read; chmod 600"),
        (directory + "c.nmconnection", "not a regular file"),
        (directory + "d.nmconnection", "binary data (NUL bytes): line 2 is not a [group], key=value pair "
                                       "or '#' comment: not a keyfile GKeyFile can parse")]


@pytest.mark.parametrize("text, why", [
    (NM_WIRED % ("a", "eth0") + "junk line\n", "line 7 is not a [group], key=value pair or '#' comment"),
    ("; a comment GKeyFile does not know\n" + NM_WIRED % ("a", "eth0"), "line 1 is not a [group], key=value pair or '#' comment"),
    ("id=a\n" + NM_WIRED % ("a", "eth0"), "line 1: a key=value pair before the first [group]"),
    ("[ipv4] method=auto\n" + NM_WIRED % ("a", "eth0"), "line 1: a key=value pair before the first [group]"),
    (NM_WIRED.replace("[ipv4]", "[ipv4") % ("a", "eth0"), "line 5 is not a [group], key=value pair or '#' comment"),
    (NM_WIRED.replace("[ipv4]", "[ipv4] eth0") % ("a", "eth0"), "line 5 is not a [group], key=value pair or '#' comment"),
    (NM_WIRED % ("a", "eth0") + "=value\n", "line 7: no key before '='"),
    (NM_WIRED % ("a", "eth0") + "[]\n", "line 7: invalid group name ''"),
    (NM_WIRED % ("a", "eth0") + "id [de]=a\n", "line 7: invalid key name 'id [de]'"),
    (NM_WIRED % ("a", "eth0") + "id[d e]=a\n", "line 7: invalid key name 'id[d e]'"),
    (NM_WIRED % ("a", "eth0") + "id]=a\n", "line 7: invalid key name 'id]'"),
    ("[connection]\nEncoding=ISO-8859-1\n" + NM_WIRED % ("a", "eth0"), "line 2: Encoding is not UTF-8"),
    # the last line keeps its '\r' when no newline follows (g_key_file_flush_parse_buffer())
    (NM_WIRED % ("a", "eth0") + "[ipv4]\r", "line 7 is not a [group], key=value pair or '#' comment"),
])
def test_networkmanager_skips_a_keyfile_gkeyfile_cannot_parse(tmp_path, text, why):
    """glib gkeyfile.c g_key_file_parse_line(): a line that is no blank line, '#' comment, valid
    group or valid key=value pair inside a group fails the whole file, which NetworkManager's keyfile
    plugin skips: its connection configures nothing, and the file is named with the line and why."""
    directory = "/etc/NetworkManager/system-connections/"
    put_keyfile(tmp_path, directory + "a.nmconnection", text)
    put_keyfile(tmp_path, directory + "b.nmconnection", NM_WIRED % ("b", "eth1"))
    target = Target(str(tmp_path))
    assert netconf.networkmanager_ignored(target) == [
        (directory + "a.nmconnection", why + ": not a keyfile GKeyFile can parse")]
    assert [(c.names, c.dhcp4) for c in netconf.read_networkmanager(target)] == [(["eth1"], True)]


@pytest.mark.parametrize("value, at_boot", [
    ("false", False), ("0", False), ("false \t", False), ("true", True),
    # g_key_file_parse_value_as_boolean() is case-sensitive: NetworkManager warns and keeps true
    ("False", True), ("FALSE", True), ("no", True),
])
def test_networkmanager_autoconnect_as_gkeyfile_reads_a_boolean(tmp_path, value, at_boot):
    put_keyfile(tmp_path, "/etc/NetworkManager/system-connections/eth0.nmconnection",
                NM_WIRED.replace("[ipv4]", "autoconnect=%s\n[ipv4]" % value) % ("eth0", "eth0"))
    assert [c.dhcp4 for c in netconf.read_networkmanager(Target(str(tmp_path)))] == [at_boot]


@pytest.mark.parametrize("value, mtu", [
    ("1460", "1460"), (" 1460 ", "1460"), ("+1460", "1460"), ("0x5b4", "1460"), ("0X5B4", "1460"), ("02664", "1460"),
    # 0, or what NetworkManager cannot read as an unsigned number (a warning; the default 0 kept): automatic
    ("0", None), ("00", None), ("0x0", None), ("-0", None), ("", None), ("abc", None), ("1460abc", None),
    ("0x", None), ("-1460", None), ("08", None), ("4294967296", None), ("1 460", None),
    ("1" * 5000, None), ("0" * 5000 + "2664", "1460"),   # past Python's int() limit: no ValueError
])
def test_networkmanager_reads_the_mtu_as_an_unsigned_number(tmp_path, value, mtu):
    """ethernet.mtu is read with C's strtoull() in base 0, blanks around it allowed; 0 and an
    invalid value leave the MTU automatic (the server's), which the old reading took as fixed."""
    put_keyfile(tmp_path, "/etc/NetworkManager/system-connections/eth0.nmconnection",
                NM_WIRED % ("eth0", "eth0") + "[ethernet]\nmtu=%s\n" % value)
    assert [c.mtu for c in netconf.read_networkmanager(Target(str(tmp_path)))] == [mtu]


def test_networkmanager_reads_a_keyfile_gkeyfile_parses(tmp_path):
    """What GKeyFile accepts: blank and '#' lines, whitespace around groups, keys and '=', CRLF, a
    repeated group (merged) and key (the last wins), a translated key ``key[locale]``, a NUL ending a
    line, no newline at the end, and bytes that are not UTF-8 (checked only when a value is read)."""
    full = put_keyfile(tmp_path, "/etc/NetworkManager/system-connections/eth0.nmconnection", "")
    with open(full, "wb") as handle:
        handle.write(b"# written by hand\n\n  [connection]  \t\r\n\tid = eth0 \r\n  type=ethernet\n"
                     b"interface-name=eth9\n   # indented comment\n[ipv4]\nmethod=manual\n[connection]\n"
                     b"interface-name =eth0\nid[de]=Kabelgebunden\nid[]=x\nEncoding=UTF-8\n"
                     b"permissions=user:\xe9\x00\n[ipv4]\nmethod=auto")
    target = Target(str(tmp_path))
    assert netconf.networkmanager_ignored(target) == []
    assert [(c.names, c.dhcp4) for c in netconf.read_networkmanager(target)] == [(["eth0"], True)]


def test_networkmanager_reads_a_crlf_keyfile_as_gkeyfile_does(tmp_path):
    """g_key_file_parse_data() drops the "\\r" before each "\\n": a profile written with CRLF line
    ends configures its NIC (the "\\r" was kept in every value, and the type "ethernet\\r" taken for
    one NetworkManager rejects)."""
    full = put_keyfile(tmp_path, "/etc/NetworkManager/system-connections/eth0.nmconnection", "")
    with open(full, "wb") as handle:
        handle.write(NM_WIRED.replace("\n", "\r\n").encode() % (b"eth0", b"eth0"))
    target = Target(str(tmp_path))
    assert netconf.networkmanager_ignored(target) == []
    assert [(c.names, c.dhcp4) for c in netconf.read_networkmanager(target)] == [(["eth0"], True)]


def test_networkmanager_takes_no_value_that_is_not_utf8(tmp_path):
    """g_key_file_get_string() refuses a value that is not UTF-8 (NetworkManager leaves the property
    unset: this profile binds no interface), and reads the UTF-8 of the file's other lines as UTF-8
    (the file was decoded as Latin-1 throughout: the name 'eth\xe9' was 'eth\xc3\xa9')."""
    full = put_keyfile(tmp_path, "/etc/NetworkManager/system-connections/a.nmconnection", "")
    with open(full, "wb") as handle:
        handle.write(b"[connection]\nid=caf\xe9\ntype=ethernet\ninterface-name=eth\xff\n[ipv4]\nmethod=auto\n")
    with open(full.replace("/a.", "/b."), "wb") as handle:
        handle.write(b"[connection]\nid=caf\xe9\ntype=ethernet\ninterface-name=eth\xc3\xa9\n[ipv4]\nmethod=auto\n")
    os.chmod(full.replace("/a.", "/b."), 0o600)
    target = Target(str(tmp_path))
    assert netconf.networkmanager_ignored(target) == []
    assert [(c.names, c.dhcp4) for c in netconf.read_networkmanager(target)] == [(None, True), (["eth\xe9"], True)]


@pytest.mark.parametrize("data, ignored", [
    (b"[connection]\nid=a\ntype=\x0bethernet\ninterface-name=eth0\n[ipv4]\nmethod=auto\n",
     "connection.type '\\x0bethernet' is no connection type"),
    (b"[connection]\nid=a\ntype=ethernet\ninterface-name=eth0\n\x0b[ipv4]\nmethod=auto\n",
     "line 5 is not a [group], key=value pair or '#' comment: not a keyfile GKeyFile can parse"),
])
def test_networkmanager_keyfile_vertical_tab_is_no_blank(tmp_path, data, ignored):
    """g_ascii_isspace() leaves out the vertical tab that C's isspace() and Python's strip() count."""
    full = put_keyfile(tmp_path, "/etc/NetworkManager/system-connections/a.nmconnection", "")
    with open(full, "wb") as handle:
        handle.write(data)
    target = Target(str(tmp_path))
    assert [(path, ignored in why) for path, why in netconf.networkmanager_ignored(target)] == [
        ("/etc/NetworkManager/system-connections/a.nmconnection", True)]
    assert netconf.read_networkmanager(target) == []


@pytest.mark.parametrize("connection, ipv4, why", [
    ("type=ethernet \ninterface-name=eth0\n", "method=auto\n",
     "connection.type 'ethernet ' is no connection type (GKeyFile keeps trailing whitespace)"),
    ("type=802-3-ethernet\t\ninterface-name=eth0\n", "method=auto\n",
     "connection.type '802-3-ethernet\\t' is no connection type (GKeyFile keeps trailing whitespace)"),
    ("type=ethernet\ninterface-name=eth0 \n", "method=auto\n",
     "connection.interface-name 'eth0 ' holds whitespace, '/', ':' or '%': not a valid interface name"),
    ("type=ethernet\ninterface-name=\\seth0\n", "method=auto\n",
     "connection.interface-name ' eth0' holds whitespace, '/', ':' or '%': not a valid interface name"),
    ("type=ethernet\ninterface-name=eth0\n", "method=auto \n", "ipv4.method 'auto ' is not a valid method"),
    ("type=ethernet\ninterface-name=eth0\n", "method=dhcp\n", "ipv4.method 'dhcp' is not a valid method"),
    ("type=ethernet\ninterface-name=enp0s0123456789x\n", "method=auto\n",
     "connection.interface-name 'enp0s0123456789x' is 16 bytes or longer: not a valid interface name"),
])
def test_networkmanager_rejects_a_profile_its_trailing_whitespace_makes_invalid(tmp_path, connection, ipv4, why):
    """GKeyFile drops the whitespace before a value but keeps the whitespace after it (gkeyfile.c
    g_key_file_parse_key_value_pair()) and resolves ``\\s``; NetworkManager then fails to verify a
    profile whose type, interface-name or ipv4.method that leaves invalid and does not load it
    (nms-keyfile-reader.c): it configures nothing, and is named as ignored (GCE-NET-DHCP)."""
    directory = "/etc/NetworkManager/system-connections/"
    put_keyfile(tmp_path, directory + "a.nmconnection", "[connection]\nid=a\n%s[ipv4]\n%s" % (connection, ipv4))
    put_keyfile(tmp_path, directory + "b.nmconnection", NM_WIRED % ("b", "eth1"))
    target = Target(str(tmp_path))
    assert netconf.networkmanager_ignored(target) == [
        (directory + "a.nmconnection", why + ": NetworkManager rejects the profile")]
    assert [(c.names, c.dhcp4) for c in netconf.read_networkmanager(target)] == [(["eth1"], True)]


def test_networkmanager_reads_string_values_as_gkeyfile_gives_them(tmp_path):
    """Whitespace before a value is no part of it, and the numbers and booleans are still read
    with blanks around them dropped."""
    put_keyfile(tmp_path, "/etc/NetworkManager/system-connections/a.nmconnection",
                "[connection]\nid=a\ntype= \tethernet\nautoconnect=true \n"
                "[ethernet]\nmtu= 1460 \n[ipv4]\nmethod=  manual\naddress1=10.0.0.2/24\n")
    target = Target(str(tmp_path))
    assert netconf.networkmanager_ignored(target) == []
    assert [(c.names, c.static, c.mtu) for c in netconf.read_networkmanager(target)] == [(None, True, "1460")]


@pytest.mark.parametrize("text, why", [
    ("[connection]\nid=a\ntype=ethernet\ninterface-name=\n",
     "connection.interface-name '' must not be empty: not a valid interface name"),
    ("[connection]\nid=\ntype=ethernet\n", "connection.id is empty"),
    ("[connection]\nid=a\n[ethernet]\n[wifi]\nssid=x\n", "connection.type is missing and the groups name no one type"),
    ("[connection]\nid=a\ntype=ethernet\n[ipv4]\ndns=8.8.8.8;\n", "ipv4.method is missing"),
    ("[connection]\nid=a\ntype=ethernet\n[ipv4]\nmethod=manual\naddress01=10.0.0.2/24\n",
     "ipv4.method 'manual' with no address or route"),
    ("[connection]\nid=a\ntype=ethernet\n[ipv4]\nmethod=disabled\naddress1=10.0.0.2/24\n",
     "ipv4.method 'disabled' does not allow addresses"),
    ("[connection]\nid=a\ntype=ethernet\n[ipv4]\nmethod=shared\ndns=8.8.8.8;\n",
     "ipv4.method 'shared' does not allow dns or dns-search"),
    ("[connection]\nid=a\ntype=ethernet\n[ipv4]\nmethod=auto\ngateway=10.0.0.1\n", "ipv4.gateway with no address"),
    ("[connection]\nid=a\ntype=ethernet\n[ipv6]\nmethod=bogus\n", "ipv6.method 'bogus' is not a valid method"),
    ("[connection]\nid=a\ntype=ethernet\nmaster=br0\n", "connection.master and slave-type go together"),
    ("[connection]\nid=a\ntype=ethernet\nmaster=bond0\nslave-type=bond\n[bridge-port]\n",
     "connection.slave-type 'bond' with a [bridge-port] group, which is another's port"),
])
def test_networkmanager_rejects_a_profile_it_cannot_verify(tmp_path, text, why):
    """What NetworkManager 1.42's nmcli --offline rejects (test_keyfile_real_nmcli.py), the keyfile
    plugin does not load: the profile configures nothing and is named as ignored."""
    put_keyfile(tmp_path, "/etc/NetworkManager/system-connections/a.nmconnection", text)
    target = Target(str(tmp_path))
    assert [why in reason for path, reason in netconf.networkmanager_ignored(target)] == [True]
    assert netconf.read_networkmanager(target) == []


@pytest.mark.parametrize("text, found", [
    # the type of the one setting a connection type names
    ("[connection]\nid=a\n[ethernet]\nmtu=1460\n", (None, None, "1460", True)),
    # the setting's own group before its alias, as a whole
    ("[connection]\nid=a\n[ethernet]\nmtu=1400\n[802-3-ethernet]\nmac-address=42:01:0a:80:00:02\n",
     (None, "42:01:0A:80:00:02", None, True)),
    # an invalid MAC address is left unset: the profile is bound to no NIC
    ("[connection]\nid=a\ntype=ethernet\n[ethernet]\nmac-address=42:01:0a:80:00:02 \n", (None, None, None, True)),
    ("[connection]\nid=a\ntype=ethernet\n[ethernet]\nmac-address=42:01-0a:80:00:02\n", (None, None, None, True)),
    ("[connection]\nid=a\ntype=ethernet\n[ethernet]\nmac-address=42:01:0a:80:00:02:03\n", (None, None, None, True)),
    ("[connection]\nid=a\ntype=ethernet\n[ethernet]\nmac-address=66; 1;10;128;0;+2\n",
     (None, "42:01:0A:80:00:02", None, True)),
    ("[connection]\nid=a\ntype=ethernet\n[ethernet]\nmac-address=a:b:c:d:e:f\n", (None, "0A:0B:0C:0D:0E:0F", None, True)),
    # the deprecated place of interface-name: the group the type names, not its alias
    ("[connection]\nid=a\ntype=ethernet\n[802-3-ethernet]\ninterface-name=ens4\n", (["ens4"], None, None, True)),
    ("[connection]\nid=a\ntype=802-3-ethernet\n[ethernet]\ninterface-name=ens4\n", (None, None, None, True)),
    # a port: no DHCP of its own, whatever its [ipv4] says
    ("[connection]\nid=a\ntype=ethernet\ninterface-name=ens4\nmaster=br0\n[bridge-port]\n[ipv4]\nmethod=auto\n",
     (["ens4"], None, None, False)),
])
def test_networkmanager_reads_a_profile_as_networkmanager_does(tmp_path, text, found):
    put_keyfile(tmp_path, "/etc/NetworkManager/system-connections/a.nmconnection", text)
    target = Target(str(tmp_path))
    assert netconf.networkmanager_ignored(target) == []
    assert [(c.names, c.mac, c.mtu, c.dhcp4) for c in netconf.read_networkmanager(target)] == [found]


def test_unit_settings_are_read_with_comments_only_at_a_line_s_start(tmp_path):
    """systemd's unit files (conf-parser.c parse_line()): a comment is a line starting with # or ;
    -- later on a line both are part of the value.  A condition path with "# note" after it names
    a file that does not exist (the unit starts); the drop-ins' [Unit] settings count in name order."""
    put(tmp_path, "/lib/systemd/system/systemd-timesyncd.service", "[Unit]\nConflicts=ntp.service\n")
    put(tmp_path, "/lib/systemd/system/systemd-timesyncd.service.d/10-a.conf",
        "[Unit]\n; a comment\nConditionFileIsExecutable=!/usr/sbin/ntpd # note\n  # Conflicts=chrony.service\n")
    put(tmp_path, "/lib/systemd/system/systemd-timesyncd.service.d/20-b.conf",
        "[Service]\nConflicts=x.service\n[Unit]\nConflicts=openntpd.service\n")
    put(tmp_path, "/usr/sbin/ntpd", "")
    os.chmod(os.path.join(str(tmp_path), "usr/sbin/ntpd"), 0o755)
    target = Target(str(tmp_path))
    assert units.held_back_by(target, "systemd-timesyncd.service") is None
    assert units.conflicts(target, "systemd-timesyncd.service") == {"ntp.service", "openntpd.service"}
    put(tmp_path, "/lib/systemd/system/systemd-timesyncd.service.d/10-a.conf", "[Unit]\nConditionFileIsExecutable=!/usr/sbin/ntpd\n")
    assert units.held_back_by(target, "systemd-timesyncd.service") == "/usr/sbin/ntpd"


def test_numbers_thousands_of_digits_long_raise_nothing():
    """Python refuses int() of decimal text past 4300 digits: a hostile package version or
    netplan scalar is no number, not a ValueError."""
    assert sshd.before_8_7("1:" + "9" * 5000 + ".1p1") is False and sshd.before_8_7("1:8.4p1-5") is True
    assert netconf._scalar("1" * 5000, 0) == "1" * 5000 and netconf._scalar("-42", 0) == -42


def test_each_edit_of_a_defaults_file_has_the_whole_pattern_budget():
    """The budget of ${A%pattern} matching was spent across edits: the twentieth edit of one ordinary
    file was refused as if it had removed patterns from huge values."""
    text = ("A=" + "x" * 256 + " B=${A%%*y}\n") * 100
    for dummy in range(3):   # each reading spends about 3.3 Mi of the 4 Mi
        assert "GRUB_TIMEOUT=0\n" in bootloader.set_defaults(text, [("GCE-X", "GRUB_TIMEOUT", "0")])


HUGE = "9" * 5000   # past the 4300 digits int() takes (Python 3.11): a traceback, before the readers bounded them


@pytest.mark.parametrize("text, refused", [
    ("network:\n  ethernets:\n    ens4: {dhcp4: true, mtu: %s}\n" % HUGE, "mtu"),
    ("network:\n  ethernets:\n    ens4: {dhcp4: true, mtu: %s1460}\n" % ("0" * 5000), None),
    ("network:\n  version: %s\n  ethernets:\n    ens4: {dhcp4: true}\n" % HUGE, "only version 2 is supported"),
])
def test_netplan_numbers_of_thousands_of_digits(tmp_path, text, refused):
    """g_ascii_strtoull() saturates past G_MAXUINT64 (an MTU netplan refuses), strtol() past LONG_MAX
    (a version it does not know); leading zeros are no digits of the number."""
    put(tmp_path, "/etc/netplan/50-gce.yaml", text)
    if refused:
        with pytest.raises(ConfigError, match="netplan refuses") as caught:
            netconf.read_netplan(Target(str(tmp_path)))
        assert refused in str(caught.value)
    else:
        assert [c.mtu for c in netconf.read_netplan(Target(str(tmp_path)))[0]] == [1460]


@pytest.mark.parametrize("rows, dhcp4, static, mac", [
    # a route whose metric is past G_MAXUINT32 is dropped; the address makes the profile
    ("[ipv4]\nmethod=manual\naddress1=10.0.0.2/24\nroute1=10.1.0.0/16,10.0.0.1,%s\n" % HUGE, False, True, None),
    ("[ipv4]\nmethod=manual\naddress1=10.0.0.2/24\nroute1=10.1.0.0/16,10.0.0.1,\u00b2\n", False, True, None),
    # a key numbered past G_MAXINT is no address key
    ("[ipv4]\nmethod=auto\naddress%s=10.0.0.2/24\n" % HUGE, True, False, None),
    # a byte of thousands of digits is no byte: no MAC address
    ("[ethernet]\nmac-address=66;1;10;128;0;%s;\n[ipv4]\nmethod=auto\n" % HUGE, True, False, None),
    ("[ethernet]\nmac-address=66;1;10;128;0;%s2;\n[ipv4]\nmethod=auto\n" % ("0" * 5000), True, False, "42:01:0A:80:00:02"),
])
def test_networkmanager_numbers_of_thousands_of_digits(tmp_path, rows, dhcp4, static, mac):
    put_keyfile(tmp_path, "/etc/NetworkManager/system-connections/a.nmconnection",
                "[connection]\nid=a\ntype=ethernet\ninterface-name=ens4\n" + rows)
    configs = netconf.read_networkmanager(Target(str(tmp_path)))
    assert [(c.dhcp4, c.static, c.mac) for c in configs] == [(dhcp4, static, mac)]


def test_ifupdown_an_mtu_of_thousands_of_digits_raises_nothing(tmp_path):
    """ifup's ``[ "$(cat .../mtu)" -lt VALUE ]`` fails on a number past intmax_t: the MTU stays."""
    put(tmp_path, "/etc/network/interfaces", "auto ens4\niface ens4 inet manual\n  mtu 1400\n"
        "iface ens4 inet6 static\n  address fd00::2/64\n  mtu %s\n" % HUGE)
    assert [c.mtu for c in netconf.read_ifupdown(Target(str(tmp_path)))] == ["1400"]
