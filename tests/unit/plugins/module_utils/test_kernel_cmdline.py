"""Kernel command lines: the kernel's own word splitting, and where an image
keeps them (GRUB's generated and default configuration, BLS entries,
kernel-install, /proc/cmdline), read through the target root."""

import os
import unittest.mock

import pytest

from ansible_collections.guestready.gce.plugins.module_utils import kernel_cmdline, modprobe
from ansible_collections.guestready.gce.plugins.module_utils.target import Target, TargetError, Unreadable

GRUB_CFG = """\
set default="0"
menuentry 'Debian GNU/Linux' --class debian {
\tinsmod ext2
\tlinux\t/boot/vmlinuz-6.1.0-50-cloud-amd64 root=UUID=abc ro console=ttyS0,38400n8 8250.nr_uarts=1
\tinitrd\t/boot/initrd.img-6.1.0-50-cloud-amd64
}
submenu 'Advanced options' {
\tmenuentry 'Debian, with Linux 6.1.0-49-cloud-amd64' {
\t\tlinux\t/boot/vmlinuz-6.1.0-49-cloud-amd64 root=UUID=abc ro quiet
\t}
\tmenuentry 'Debian, with Linux 6.1.0-50-cloud-amd64 (recovery mode)' {
\t\tlinux\t/boot/vmlinuz-6.1.0-50-cloud-amd64 root=UUID=abc ro single
\t}
}
"""


def write(root, path, text):
    where = os.path.join(str(root), path.lstrip("/"))
    os.makedirs(os.path.dirname(where), exist_ok=True)
    with open(where, "w") as handle:
        handle.write(text)


def test_words_as_the_kernel_splits_them():
    line = 'ro  console=ttyS0,38400n8 foo="a b" "quoted=x y" 8250.nr-uarts=4 flag -- init=args 8250.nr_uarts=9'
    assert kernel_cmdline.parameters(line) == [
        ("ro", None), ("console", "ttyS0,38400n8"), ("foo", "a b"), ("quoted", "x y"),
        ("8250.nr_uarts", "4"), ("flag", None)]
    assert kernel_cmdline.value("8250.nr_uarts=2 quiet 8250.nr-uarts=4", "8250.nr_uarts") == "4"
    assert kernel_cmdline.value("quiet", "8250.nr_uarts") is None
    assert kernel_cmdline.parameters("") == []


def test_quotes_inside_a_word_stay_as_the_kernel_keeps_them():
    """next_arg() drops only the quote opening the argument or its value;
    and parameters() and cmdline.consoles() split alike."""
    assert kernel_cmdline.parameters('mod.opt=a"b c"d x "--" y') == [("mod.opt", 'a"b c"d'), ("x", None)]
    assert kernel_cmdline.parameters("x\u00a0y\u2003z") == [("x", None), ("y\u2003z", None)]


def test_every_place_is_found(tmp_path):
    write(tmp_path, "/boot/grub/grub.cfg", GRUB_CFG)
    write(tmp_path, "/etc/default/grub",
          'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"   # comment\n'
          "GRUB_CMDLINE_LINUX='console=ttyS0,38400n8'\n")
    write(tmp_path, "/etc/default/grub.d/50-cloud.cfg",
          'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX ${GRUB_CMDLINE_LINUX_DEFAULT} 8250.nr_uarts=4"\n'
          "GRUB_TIMEOUT=0\n")
    write(tmp_path, "/boot/loader/entries/abc-6.1.0-50-cloud-amd64.conf",
          "title Debian\nlinux /vmlinuz-6.1.0-50-cloud-amd64\noptions root=/dev/sda1 ro 8250.nr_uarts=2\n")
    write(tmp_path, "/etc/kernel/cmdline", "root=/dev/sda1 ro\n")
    write(tmp_path, "/proc/cmdline", "BOOT_IMAGE=/vmlinuz ro 8250.nr_uarts=3\n")
    target = Target(str(tmp_path))
    found = kernel_cmdline.find(target)
    kinds = [(entry["kind"], entry["line"]) for entry in found]
    assert kinds == [("grub.cfg", 4), ("grub.cfg", 9), ("grub.cfg", 12), ("grub-default", 1),
                     ("bls", 3), ("kernel-install", 1)]
    first = found[0]
    assert first["source"] == os.path.join(str(tmp_path), "boot/grub/grub.cfg")
    assert first["kernel"] == "/boot/vmlinuz-6.1.0-50-cloud-amd64"
    assert kernel_cmdline.value(first["cmdline"], "8250.nr_uarts") == "1"
    default = found[3]
    assert default["source"].endswith("/etc/default/grub.d/50-cloud.cfg")
    assert default["cmdline"] == "console=ttyS0,38400n8 quiet 8250.nr_uarts=4 quiet"
    releases = kernel_cmdline.for_release(found, "6.1.0-50-cloud-amd64")
    assert [(e["kind"], e["line"]) for e in releases] == [
        ("grub.cfg", 4), ("grub.cfg", 12), ("grub-default", 1), ("bls", 3), ("kernel-install", 1)]
    running = kernel_cmdline.find(target, running=True)
    assert running[0]["kind"] == "running" and running[0]["cmdline"].endswith("8250.nr_uarts=3")


def test_grub_lines_are_what_grub_gives_the_kernel(tmp_path):
    """grub.cfg, the GRUB defaults and BLS entries under blscfg go through GRUB's lexer: its quotes
    are gone when the kernel splits the line; systemd-boot's entries reach the kernel as written."""
    write(tmp_path, "/boot/grub/grub.cfg", "menuentry 'D' {\n\tlinux\t'/boot/vmlinuz-6.1.0-50-cloud-amd64' "
          "ro 'mod.opt=a b' 8250.nr_uarts=\"1\"\n}\n")
    write(tmp_path, "/etc/default/grub", "GRUB_CMDLINE_LINUX=\"console=tty'S0' quiet\"\n")
    write(tmp_path, "/boot/loader/entries/a.conf", "title A\nlinux /vmlinuz-6.1.0-50-cloud-amd64\noptions x='1'\n")
    found = kernel_cmdline.find(str(tmp_path))
    assert [(e["kind"], e["cmdline"], e["kernel"]) for e in found] == [
        ("grub.cfg", 'ro "mod.opt=a b" 8250.nr_uarts=1', "/boot/vmlinuz-6.1.0-50-cloud-amd64"),
        ("grub-default", "console=ttyS0 quiet", None), ("bls", "x=1", "/vmlinuz-6.1.0-50-cloud-amd64")]
    assert kernel_cmdline.parameters(found[0]["cmdline"]) == [("ro", None), ("mod.opt", "a b"), ("8250.nr_uarts", "1")]
    os.remove(os.path.join(str(tmp_path), "boot/grub/grub.cfg"))
    os.remove(os.path.join(str(tmp_path), "etc/default/grub"))
    write(tmp_path, "/efi/loader/entries/b.conf", "title B\nlinux /vmlinuz-6.1.0-50-cloud-amd64\noptions y='2'\n")
    assert [(e["kind"], e["cmdline"]) for e in kernel_cmdline.find(str(tmp_path))] == [("bls", "x='1'"), ("bls", "y='2'")]


def test_nothing_found_is_an_empty_list(tmp_path):
    assert kernel_cmdline.find(str(tmp_path)) == []
    assert kernel_cmdline.find(str(tmp_path), running=True) == []


def test_grub_defaults_are_sourced_by_name_and_read_as_sh_reads_them(tmp_path):
    """grub-mkconfig sources grub.d/*.cfg in the order sh's glob gives them (by name, hidden names
    left out), and tuned's ``${VAR:+...}`` expansion is sh's: the drop-ins were read in directory
    order, a hidden one too, and ``${..:+..}`` kept as text (the GRUB defaults' own reader did it
    right; this one was a second, older copy)."""
    write(tmp_path, "/etc/default/grub", 'GRUB_CMDLINE_LINUX_DEFAULT="quiet"\n'
          'GRUB_CMDLINE_LINUX_DEFAULT="${GRUB_CMDLINE_LINUX_DEFAULT:+$GRUB_CMDLINE_LINUX_DEFAULT }\\$tuned_params"\n')
    names = ["90-last.cfg", "10-first.cfg", "50-middle.cfg", ".99-hidden.cfg"]
    for name in names:
        write(tmp_path, "/etc/default/grub.d/" + name, 'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX %s"\n' % name[:-4])
    listdir = Target.listdir

    def listing(order):
        return lambda self, path: order if path.endswith("grub.d") else listdir(self, path)

    for order in (names, list(reversed(names))):
        # whatever order the directory lists them in
        with unittest.mock.patch.object(Target, "listdir", listing(order)):
            found = [e for e in kernel_cmdline.find(str(tmp_path)) if e["kind"] == "grub-default"]
        assert [(e["source"].rsplit("/", 1)[1], e["line"], e["cmdline"]) for e in found] == [
            ("90-last.cfg", 1, "10-first 50-middle 90-last quiet $tuned_params")]


def test_hostile_places_stay_inside_the_root_and_never_block(tmp_path):
    root = tmp_path / "image"
    outside = tmp_path / "outside.cfg"
    outside.write_text("linux /boot/vmlinuz-x outside=1\n")
    (root / "boot" / "grub").mkdir(parents=True)
    os.symlink(str(outside), str(root / "boot" / "grub" / "grub.cfg"))   # absolute: inside the root
    (root / "etc" / "default").mkdir(parents=True)
    os.mkfifo(str(root / "etc" / "default" / "grub"))
    (root / "etc" / "kernel").mkdir(parents=True)
    os.symlink("../../../outside.cfg", str(root / "etc" / "kernel" / "cmdline"))  # ".." stops at the root
    # a FIFO is never opened, and the command line is not judged without it
    with pytest.raises(TargetError, match=r"etc/default/grub: is a FIFO"):
        kernel_cmdline.find(str(root))
    os.unlink(str(root / "etc" / "default" / "grub"))
    assert kernel_cmdline.find(str(root)) == []


@pytest.mark.parametrize("directory", ["boot/loader/entries", "etc/default/grub.d"])
def test_a_directory_of_boot_entries_that_cannot_be_listed_is_not_judged_as_empty(tmp_path, monkeypatch, directory):
    """Fedora keeps /boot/loader/entries 0700: without root the BLS entries
    (and their console= arguments) were left out and the rest judged as if
    complete; the unreadable directory is named instead, as a file is."""
    root = tmp_path / "image"
    (root / directory).mkdir(parents=True)
    (root / "etc" / "default").mkdir(parents=True, exist_ok=True)
    (root / "etc" / "default" / "grub").write_text('GRUB_CMDLINE_LINUX="quiet"\n')
    listdir = Target.listdir

    def denied(self, path):
        if path.strip("/") == directory:
            raise Unreadable("needs root: %s" % path)
        return listdir(self, path)
    monkeypatch.setattr(Target, "listdir", denied)
    with pytest.raises(TargetError, match="needs root"):
        kernel_cmdline.find(str(root))
    monkeypatch.setattr(Target, "listdir", listdir)
    assert [e["kind"] for e in kernel_cmdline.find(str(root))] == ["grub-default"]


def test_bls_entries_are_split_as_the_loaders_split_them(tmp_path):
    """A key ends at a space or a tab, and systemd-boot ends a line at a lone \\r too: an ``options``
    line written with a tab was not found (the key ran to the first space)."""
    write(tmp_path, "/boot/loader/entries/tab.conf",
          "title\tDebian\nlinux\t/vmlinuz-6.1.0-50-cloud-amd64\noptions\t8250.nr_uarts=2 ro\n"
          "options quiet\roptions 8250.nr_uarts=5\n")
    found = kernel_cmdline.find(str(tmp_path))
    assert [(e["line"], e["cmdline"], e["kernel"]) for e in found] == [
        (3, "8250.nr_uarts=2 ro", "/vmlinuz-6.1.0-50-cloud-amd64"),
        (4, "quiet", "/vmlinuz-6.1.0-50-cloud-amd64"),
        (4, "8250.nr_uarts=5", "/vmlinuz-6.1.0-50-cloud-amd64")]


def test_a_bls_entry_name_that_is_no_file_is_skipped_as_the_loaders_skip_it(tmp_path):
    """A directory or a link leading nowhere named *.conf is no entry to systemd-boot or blscfg: it
    made the whole search fail ("is a directory, not a regular file")."""
    write(tmp_path, "/boot/loader/entries/a.conf", "linux /vmlinuz-6.1\noptions ro quiet\n")
    os.mkdir(str(tmp_path / "boot/loader/entries/b.conf"))
    os.symlink("missing.conf", str(tmp_path / "boot/loader/entries/c.conf"))
    assert [(e["source"].rsplit("/", 1)[1], e["cmdline"]) for e in kernel_cmdline.find(str(tmp_path))] == [
        ("a.conf", "ro quiet")]


def test_kernel_install_entries_name_the_release_as_a_directory(tmp_path):
    """kernel-install's bls layout boots /<entry token>/<release>/linux: such an entry's command
    line was taken for another kernel's and left out of its own."""
    token = "6a9857a393724b7a981ebb5b8495b9ea"
    for release in ("6.8.0-1-amd64", "6.8.0-2-amd64"):
        write(tmp_path, "/boot/loader/entries/%s-%s.conf" % (token, release),
              "title Debian\nversion %s\nlinux /%s/%s/linux\noptions ro 8250.nr_uarts=%s\n"
              % (release, token, release, release[6]))
    found = kernel_cmdline.find(str(tmp_path))
    assert [e["cmdline"] for e in kernel_cmdline.for_release(found, "6.8.0-2-amd64")] == ["ro 8250.nr_uarts=2"]
    assert kernel_cmdline.for_release(found, "6.8.0") == []


def test_systemd_boot_entries_on_the_esp_are_read_without_grub(tmp_path):
    """systemd-boot reads the ESP's loader/entries (mounted at /efi or /boot/efi) as well as
    /boot's; without GRUB those were never read. With GRUB only /boot/loader/entries counts
    (blscfg), and a hidden name is no entry to either loader."""
    write(tmp_path, "/efi/loader/entries/arch.conf", "linux /vmlinuz-linux\noptions root=/dev/sda2 rw\n")
    write(tmp_path, "/efi/loader/entries/.old.conf", "linux /vmlinuz-linux\noptions old\n")
    write(tmp_path, "/boot/efi/loader/entries/b.conf", "linux /vmlinuz-lts\noptions lts\n")
    found = [(e["source"].split(str(tmp_path), 1)[1], e["cmdline"]) for e in kernel_cmdline.find(str(tmp_path))]
    assert found == [("/efi/loader/entries/arch.conf", "root=/dev/sda2 rw"), ("/boot/efi/loader/entries/b.conf", "lts")]
    write(tmp_path, "/boot/grub/grub.cfg", "set default=0\n")
    assert kernel_cmdline.find(str(tmp_path)) == []


def test_a_bls_entry_larger_than_the_loaders_read_is_an_error(tmp_path):
    """The boot menu's reader refuses an entry past bootconfig.BLS_ENTRY_MAX; this one read up to 4 MiB
    and judged what the menu would not."""
    write(tmp_path, "/boot/loader/entries/big.conf", "linux /vmlinuz\noptions ro\n" + "#" * 70000 + "\n")
    with pytest.raises(TargetError, match="big.conf"):
        kernel_cmdline.find(str(tmp_path))


def test_grub_reads_bls_entries_with_grubenvs_variables(tmp_path):
    """RHEL 8's entries say ``options $kernelopts $tuned_params``: blscfg expands grubenv's
    variables (and $kernelopts from grub.cfg's fallback where grubenv leaves it unset) before GRUB
    reads the line, and stops reading an entry at an empty line.  A module_blacklist= held in
    $kernelopts was not seen: the line was the two variable names."""
    write(tmp_path, "/boot/grub2/grub.cfg", 'load_env\nif [ -z "${kernelopts}" ]; then\n'
          '  set kernelopts="root=/dev/sda2 ro console=ttyS0,38400n8 "\nfi\ninsmod blscfg\nblscfg\n')
    write(tmp_path, "/boot/grub2/grubenv", "# GRUB Environment Block\nkernelopts=root=/dev/sda2 ro "
          "module_blacklist=virtio_scsi\ntuned_params=x\n")
    write(tmp_path, "/boot/loader/entries/a-4.18.0-553.el8_10.x86_64.conf",
          "title Red Hat\nversion 4.18.0-553.el8_10.x86_64\nlinux /vmlinuz-4.18.0-553.el8_10.x86_64\n"
          "options $kernelopts ${tuned_params}\r\n\noptions after=empty\n")
    found = kernel_cmdline.for_release(kernel_cmdline.find(str(tmp_path)), "4.18.0-553.el8_10.x86_64")
    assert [(e["kind"], e["line"], e["cmdline"]) for e in found] == [
        ("bls", 4, "root=/dev/sda2 ro module_blacklist=virtio_scsi x")]
    assert "virtio_scsi" in modprobe.cmdline_blocks(found)
    write(tmp_path, "/boot/grub2/grubenv", "# GRUB Environment Block\nkernelopts=\n")
    found = kernel_cmdline.find(str(tmp_path))
    assert [e["cmdline"] for e in found] == ["root=/dev/sda2 ro console=ttyS0,38400n8 ${tuned_params}"]


def test_a_function_a_grub_dropin_calls_sets_the_command_line(tmp_path):
    """One shell sources them all: the function /etc/default/grub defines (its body not run there)
    assigns where grub.d/50-call.cfg calls it, a command line that may apply (listed as read)."""
    write(tmp_path, "/etc/default/grub", 'f() {\n  GRUB_CMDLINE_LINUX="console=ttyS0"\n}\nGRUB_CMDLINE_LINUX=quiet\n')
    write(tmp_path, "/etc/default/grub.d/50-call.cfg", "f\n")
    found = [(e["source"].rsplit("/", 1)[1], e["line"], e["cmdline"])
             for e in kernel_cmdline.find(str(tmp_path)) if e["kind"] == "grub-default"]
    assert found == [("50-call.cfg", 1, "console=ttyS0")]


def test_a_file_the_grub_defaults_source_is_read_inside_the_root(tmp_path):
    """``. /etc/default/grub.local`` is read as sh reads it, through the root: a link to an absolute
    path leads inside the root, never to the machine's own file."""
    outside = tmp_path / "outside.cfg"
    outside.write_text('GRUB_CMDLINE_LINUX="outside=1"\n')
    write(tmp_path / "image", "/etc/default/grub", 'GRUB_CMDLINE_LINUX=quiet\n. /etc/default/grub.local\n')
    write(tmp_path / "image", str(outside), 'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX inside=1"\n')
    os.symlink(str(outside), str(tmp_path / "image" / "etc" / "default" / "grub.local"))
    found = [(e["source"].rsplit("/", 1)[1], e["line"], e["cmdline"])
             for e in kernel_cmdline.find(str(tmp_path / "image")) if e["kind"] == "grub-default"]
    assert found == [("grub", 2, "quiet inside=1")]


def test_a_defaults_file_the_reader_refuses_makes_the_command_line_unknown_naming_its_line(tmp_path):
    """A here-document in /etc/default/grub: the reader's ConfigError escaped find(), whose callers
    (kernel drivers, kernel options) judge the command line unknown on a TargetError only."""
    write(tmp_path, "/etc/default/grub", 'GRUB_TIMEOUT=5\n: <<"EOF"\nGRUB_CMDLINE_LINUX="quiet"\nEOF\n')
    with pytest.raises(TargetError, match=r"etc/default/grub:2: a here-document \(<<\) is not read"):
        kernel_cmdline.find(str(tmp_path))


def test_grub_d_dropins_count_only_where_the_trees_grub_mkconfig_sources_them(tmp_path):
    """Red Hat's grub2-mkconfig sources /etc/default/grub alone: a grub.d/*.cfg there changes nothing
    grub.cfg gets (the GRUB defaults' reader knew it; this one read the drop-in all the same)."""
    write(tmp_path, "/usr/sbin/grub2-mkconfig", '#!/bin/sh\n. "${sysconfdir}/default/grub"\n')
    write(tmp_path, "/boot/grub2/grub.cfg", "set timeout=5\n")
    write(tmp_path, "/etc/default/grub", 'GRUB_CMDLINE_LINUX="console=ttyS0,38400n8"\n')
    write(tmp_path, "/etc/default/grub.d/50-quiet.cfg", 'GRUB_CMDLINE_LINUX="quiet"\n')
    found = [(e["source"].rsplit("/", 1)[1], e["cmdline"]) for e in kernel_cmdline.find(str(tmp_path))
             if e["kind"] == "grub-default"]
    assert found == [("grub", "console=ttyS0,38400n8")]
    # Debian's sources them, after /etc/default/grub
    write(tmp_path, "/usr/sbin/grub2-mkconfig", '#!/bin/sh\nfor x in ${sysconfdir}/default/grub.d/*.cfg ; do . "$x"; done\n')
    found = [(e["source"].rsplit("/", 1)[1], e["cmdline"]) for e in kernel_cmdline.find(str(tmp_path))
             if e["kind"] == "grub-default"]
    assert found == [("50-quiet.cfg", "quiet")]
