"""fstab, grub.cfg, grubenv and Boot Loader Specification entries."""

import io
import os

import pytest
from disktools import uki_image

from ansible_collections.guestready.gce.plugins.module_utils import bootconfig as bc
from ansible_collections.guestready.gce.plugins.module_utils import bootloader, cmdline, uki
from ansible_collections.guestready.gce.plugins.module_utils.target import Target

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "boot")


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


FSTAB = """# /etc/fstab: static file system information.
UUID=5f5fbdfc-72e9-459d-8f91-126e4737c9fe /               ext4    errors=remount-ro 0       1
LABEL=boot	/boot	ext4	defaults	0	2
/dev/sda15 /boot/efi vfat umask=0077 0 1
/dev/disk/by-id/scsi-0QEMU_disk-part3 /srv ext4 defaults,nofail 0 2
/dev/mapper/vg-var /var xfs defaults 0 2
proc /proc proc defaults 0 0
/swapfile none swap sw 0 0
/dev/sdb2 none swap sw 0 0
PARTUUID="1234abcd-02" /data\\040dir ext4 defaults 0 2
"""


def test_parse_fstab():
    entries = bc.parse_fstab(FSTAB)
    files = ["/", "/boot", "/boot/efi", "/srv", "/var", "/proc", "none", "none", "/data dir"]
    assert [e["file"] for e in entries] == files
    assert entries[0]["options"] == ["errors=remount-ro"] and entries[0]["line"] == 2
    blocks = [e["spec"] for e in entries if bc.is_block_entry(e)]
    assert "proc" not in blocks and "/swapfile" not in blocks and "/dev/sdb2" in blocks
    assert not bc.waits_for_device(entries[3]) and bc.waits_for_device(entries[0])


@pytest.mark.parametrize("spec,kind,value", [
    ("UUID=abc", "uuid", "abc"), ('LABEL="my root"', "label", "my root"), ("PARTUUID=1234abcd-02", "partuuid", "1234abcd-02"),
    ("PARTLABEL=root", "partlabel", "root"), ("partlabel=root", "not-a-tag", "partlabel=root"),
    ("Label=x", "not-a-tag", "Label=x"), ("/dev/x=UUID=1", "other", "/dev/x=UUID=1"), ("/dev/disk/by-uuid/abc", "uuid", "abc"),
    ("/dev/disk/by-label/my\\x20root", "label", "my root"), ("/dev/sda1", "kernel-name", ("sda", 1)),
    ("/dev/vdb", "kernel-name", ("vdb", None)), ("/dev/nvme0n1p15", "kernel-name", ("nvme0n1", 15)),
    ("/dev/xvda2", "kernel-name", ("xvda", 2)),
    ("/dev/disk/by-id/scsi-0Google_PersistentDisk_x", "hardware-name", "/dev/disk/by-id/scsi-0Google_PersistentDisk_x"),
    ("/dev/mapper/vg-root", "mapper", "/dev/mapper/vg-root"), ("/dev/vg/root", "mapper", "/dev/vg/root"),
    ("tmpfs", "other", "tmpfs"),
    # a hostile partition number: no int() of thousands of digits, no non-ASCII digits
    ("/dev/sda" + "1" * 5000, "other", "/dev/sda" + "1" * 5000), ("/dev/sda\u0661", "other", "/dev/sda\u0661")])
def test_classify_spec(spec, kind, value):
    assert bc.classify_spec(spec) == (kind, value)


def test_match_partition():
    parts = [{"number": 1, "uuid": "1234ABCD-01", "name": None, "filesystem": {"uuid": "AAAA-BBBB", "label": None}},
             {"number": 2, "uuid": "1234abcd-02", "name": "root",
              "filesystem": {"uuid": "5f5fbdfc-72e9-459d-8f91-126e4737c9fe", "label": "lab-root"}}]
    assert bc.match_partition("UUID=5F5FBDFC-72E9-459D-8F91-126E4737C9FE", parts)["number"] == 2
    assert bc.match_partition("UUID=aaaa-bbbb", parts)["number"] == 1
    assert bc.match_partition("LABEL=lab-root", parts)["number"] == 2
    assert bc.match_partition("LABEL=LAB-ROOT", parts) is None, "labels compare exactly"
    assert bc.match_partition("PARTUUID=1234abcd-01", parts)["number"] == 1
    assert bc.match_partition("PARTLABEL=root", parts)["number"] == 2
    assert bc.match_partition("/dev/sda2", parts)["number"] == 2
    assert bc.match_partition("UUID=nothing", parts) is None


def test_debian_grub_cfg_default_entry():
    menu = bc.parse_grub_cfg(fixture("debian12-bios-grub.cfg"))
    assert menu["default"] == "0" and not menu["uses_blscfg"]
    assert [e["title"] for e in menu["entries"]] == ["Debian GNU/Linux", "Advanced options for Debian GNU/Linux"]
    assert len(menu["entries"][1]["submenu"]) == 2
    entry = bc.default_entry(menu)
    assert entry["kernel"] == "/boot/vmlinuz-6.1.0-50-cloud-amd64"
    assert entry["initrd"] == ["/boot/initrd.img-6.1.0-50-cloud-amd64"]
    assert bc.cmdline_root(entry["args"]) == "UUID=5f5fbdfc-72e9-459d-8f91-126e4737c9fe"
    assert "console=ttyS0,38400n8" in cmdline.split(entry["args"])
    assert "5f5fbdfc-72e9-459d-8f91-126e4737c9fe" in menu["search_uuids"]
    # a default into the submenu, by index path and by id
    menu["default"] = "1>1"
    assert "recovery mode" in bc.default_entry(menu)["title"]
    menu["default"] = "gnulinux-advanced-5f5fbdfc-72e9-459d-8f91-126e4737c9fe"  # the submenu's id: its first entry
    assert bc.default_entry(menu)["title"] == "Debian GNU/Linux, with Linux 6.1.0-50-cloud-amd64"
    menu["default"] = ("gnulinux-advanced-5f5fbdfc-72e9-459d-8f91-126e4737c9fe>"
                       "gnulinux-6.1.0-50-cloud-amd64-recovery-5f5fbdfc-72e9-459d-8f91-126e4737c9fe")
    assert bc.default_entry(menu)["title"] == "Debian GNU/Linux, with Linux 6.1.0-50-cloud-amd64 (recovery mode)"
    # GRUB matches a title or id in the menu's own level only (grub-core/normal/menu.c): a
    # nested entry's id without its submenu path matches nothing and the first entry boots
    menu["default"] = "gnulinux-6.1.0-50-cloud-amd64-recovery-5f5fbdfc-72e9-459d-8f91-126e4737c9fe"
    assert bc.default_entry(menu)["title"] == "Debian GNU/Linux"
    menu["default"] = "saved"
    assert "recovery" in bc.default_entry(menu, saved_entry="1>1")["title"]
    menu["default"] = "7"
    assert bc.default_entry(menu)["title"] == "Debian GNU/Linux", "an index out of range falls back to the first"


def test_grub_cfg_pointing_at_a_submenu_boots_its_first_entry():
    text = """set default="1"
menuentry 'first' {
  linux /vmlinuz-a root=/dev/sda1
}
submenu 'more' {
  menuentry 'inner' {
    linux16 /boot/vmlinuz-b root=LABEL=x ro
    initrd16 /boot/initrd-b.img
  }
}
"""
    entry = bc.default_entry(bc.parse_grub_cfg(text))
    assert entry["title"] == "inner" and entry["kernel"] == "/boot/vmlinuz-b"
    assert bc.cmdline_root(entry["args"]) == "LABEL=x"


def test_bls_and_grubenv():
    env = bc.parse_grubenv("# GRUB Environment Block\nsaved_entry=abc-6.5\nkernelopts=root=UUID=1 ro quiet\n" + "#" * 900)
    assert env == {"saved_entry": "abc-6.5", "kernelopts": "root=UUID=1 ro quiet"}
    # GRUB refuses a block without its signature: the image audit read its kernelopts anyway
    assert bc.parse_grubenv("kernelopts=root=/dev/vda console=ttyS0\n" + "#" * 990) == {}
    # lines end at \n only, as GRUB splits them
    assert bc.parse_grubenv("# GRUB Environment Block\nk=v\x0bw=x\n") == {"k": "v\x0bw=x"}
    entry = bc.parse_bls_entry("title Fedora (6.5)\nversion 6.5.6-300.fc39.x86_64\nlinux /vmlinuz-6.5.6-300.fc39.x86_64\n"
                               "initrd /initramfs-6.5.6-300.fc39.x86_64.img\noptions $kernelopts\n")
    assert entry["kernel"] == "/vmlinuz-6.5.6-300.fc39.x86_64"
    assert bc.expand_grub_vars(entry["args"], env) == "root=UUID=1 ro quiet"
    assert bc.release_of_kernel(entry["kernel"]) == "6.5.6-300.fc39.x86_64"
    assert bc.release_of_kernel("/boot/vmlinuz") is None
    assert bc.parse_grub_cfg("insmod blscfg\nblscfg\n")["uses_blscfg"]


def test_grubenv_is_read_as_grub_reads_it():
    """grub_envblk_iterate(): a backslash keeps the next character (grub-editenv escapes a backslash
    and a newline in a value), an empty line or a line without "=" starts the next name (GRUB then has
    no "kernelopts", but "\\nkernelopts"), a last line without its newline is no variable.  Lines were
    split at every newline and read as they are (test_grubenv_real_grub_editenv.py compares with
    grub-editenv)."""
    sig = bc.GRUBENV_SIGNATURE
    assert bc.parse_grubenv(sig + "a=x\\\\y\nb=1\\\n2\nc=3") == {"a": "x\\y", "b": "1\n2"}
    assert bc.parse_grubenv(sig + "saved_entry=x\n\nkernelopts=root=/dev/sda2 ro\ngarbage\nk=v\n") == {
        "saved_entry": "x", "\nkernelopts": "root=/dev/sda2 ro", "garbage\nk": "v"}
    block = bootloader.set_grubenv(sig + "a=x\\\\y\n\nkernelopts=ro\n", "kernelopts", "ro console=ttyS0")
    assert bc.grubenv_variables(block) == [("a", "x\\y"), ("\nkernelopts", "ro"), ("kernelopts", "ro console=ttyS0")]
    assert len(block) == 1024 and block.startswith(sig + "a=x\\\\y\n\nkernelopts=ro\nkernelopts=ro console=ttyS0\n#")


def test_cmdline_root_takes_the_last_one():
    assert bc.cmdline_root("root=/dev/sda1 ro root=UUID=x quiet") == "UUID=x"
    assert bc.cmdline_root("ro quiet") is None
    assert bc.cmdline_root('root=LABEL="a b" ro') == "LABEL=a b"
    # the kernel's splitting: single quotes are characters; one long word is linear work
    assert bc.cmdline_root("root='/dev/sda1' ro") == "'/dev/sda1'"
    assert bc.cmdline_root("root=" + "x" * 1000000) == "x" * 1000000


def test_a_menu_default_is_a_number_only_in_ascii_digits():
    menu = bc.parse_grub_cfg("menuentry 'A' {\n linux /a\n}\nmenuentry 'B' {\n linux /b\n}\n")
    assert bc.default_entry(dict(menu, default="1"))["title"] == "B"
    for default in ("\u00b2", "0>\u00b9", "1" * 5000):  # no such entry: GRUB boots the first
        assert bc.default_entry(dict(menu, default=default))["title"] == "A"


def test_parse_fstab_mount_points_as_mount_reads_them():
    entries = bc.parse_fstab("UUID=a /boot/ ext4 defaults 0 2\nUUID=b //boot//efi/ vfat umask=0077 0 1\n"
                             "UUID=c // ext4 defaults 0 1\n/dev/sdb1 none swap sw 0 0\n")
    assert [e["file"] for e in entries] == ["/boot", "/boot/efi", "/", "none"]


def test_parse_fstab_reads_the_lines_systemds_generator_reads():
    """The image audit's fstab is fstab.parse's, getmntent()'s: fields split at spaces and tabs only, a
    line of two fields a mount of a type to probe (libmount refuses it; systemd's generator mounts it),
    the four fields decoded, and the passno sscanf() reads past a CRLF line's \\r."""
    text = "UUID=a\u00a0b / ext4 defaults 0 1\r\n/dev/sdb1 /data\n/dev/sdc1\t/mnt/my\\040disk\txfs\n"
    assert bc.parse_fstab(text) == [
        {"spec": "UUID=a\u00a0b", "file": "/", "vfstype": "ext4", "options": ["defaults"], "passno": "1", "line": 1,
         "boot_goes_on": None},
        {"spec": "/dev/sdb1", "file": "/data", "vfstype": "", "options": ["defaults"], "passno": "0", "line": 2,
         "boot_goes_on": None},
        {"spec": "/dev/sdc1", "file": "/mnt/my disk", "vfstype": "xfs", "options": ["defaults"], "passno": "0", "line": 3,
         "boot_goes_on": None}]


def test_bls_entries_are_ordered_as_rpmvercmp_orders_versions(tmp_path):
    """blscfg and systemd-boot show the newest version first: letters are compared too
    (fc41 above fc40), numbers as numbers, '~' before the end of a version."""
    versions = ["6.8.5-301.fc40.x86_64", "6.8.5-301.fc41.x86_64", "6.10.0~rc1-1.fc41.x86_64", "6.9.12-200.fc41.x86_64"]
    assert sorted(versions, key=bc.version_key) == [
        "6.8.5-301.fc40.x86_64", "6.8.5-301.fc41.x86_64", "6.9.12-200.fc41.x86_64", "6.10.0~rc1-1.fc41.x86_64"]
    assert bc.version_key("6.10.0~rc1") < bc.version_key("6.10.0") < bc.version_key("6.10.0^1") < bc.version_key("6.10.0a")
    entries = [{"id": v, "version": v, "kernel": "/vmlinuz-" + v} for v in versions[:2]]
    menu = bc.gather_menu(Target(str(tmp_path)), {"bls": entries})
    assert menu["default"]["version"] == "6.8.5-301.fc41.x86_64"


@pytest.mark.parametrize("options,waits", [
    ("nofail", False), ("noauto", False), ("defaults", True), ("nofail,fail", True), ("fail,nofail", False),
    ("noauto,auto", True), ("auto,noauto", False), ("nofail,fail,noauto", False), ("x-nofail", True),
])
def test_the_last_of_nofail_and_fail_and_of_noauto_and_auto_wins(options, waits):
    """systemd's fstab generator reads each pair with fstab_test_yes_no_option (src/shared/fstab-util.h):
    the last one given wins, so a line that ends with ``fail`` holds boot up despite an earlier ``nofail``."""
    entry = bc.parse_fstab("UUID=9 /data ext4 %s 0 2\n" % options)[0]
    assert bc.waits_for_device(entry) is waits


# systemd's own cases (src/test/test-string-util.c TEST(strverscmp_improved)), oldest first
SYSTEMD_VERSIONS = ["~1", "", "ab", "abb", "abc", "0001", "002", "12", "122", "122.9", "123~rc1", "123", "123-a",
                    "123-a.1", "123-a1", "123-a1.1", "123-3", "123-3.1", "123^patch1", "123^1", "123.a-1", "123.1-1",
                    "123a-1", "124"]


def test_strverscmp_improved_orders_as_systemd_does():
    for index, older in enumerate(SYSTEMD_VERSIONS):
        assert bc.strverscmp_improved(older, older) == 0
        for newer in SYSTEMD_VERSIONS[index + 1:]:
            assert (bc.strverscmp_improved(older, newer), bc.strverscmp_improved(newer, older)) == (-1, 1), (older, newer)
    for older, newer in [("123.45-67.88", "123.45-67.89"), ("123.45-67.89", "123.45-67.89a"), ("123.45-67.ab", "123.45-67.89"),
                         ("123.45-67.9", "123.45-67.89"), ("123.45-67", "123.45-67.89"), ("123-99.99", "123.45-67.89"),
                         ("123~rc1-99.99", "123^aa2-67.89"), ("123-99.99", "123^aa2-67.89"), ("123^45-67.89", "123.45-67.89"),
                         ("123^aa2-67.89", "123aa2-67.89"), ("123.aa2-67.89", "123aa2-67.89"), ("123.aa2-67.89", "123.ab2-67.89")]:
        assert (bc.strverscmp_improved(older, newer), bc.strverscmp_improved(newer, older)) == (-1, 1), (older, newer)
    assert bc.strverscmp_improved("123_aa2-67.89", "123aa+2-67.89") == 0
    assert bc.strverscmp_improved("123.", "123") > 0 and bc.strverscmp_improved("12_3", "123") < 0
    assert bc.strverscmp_improved("12_3", "12.3") > 0 and bc.strverscmp_improved("123..0", "123.0") < 0
    assert bc.strverscmp_improved("", None) == 0 and bc.strverscmp_improved("_0_", "0") == 0
    assert bc.strverscmp_improved("", "~") > 0 and bc.strverscmp_improved("1\u0661", "1") == 0
    assert bc.strverscmp_improved("1-" + "9" * 5000, "1-" + "9" * 4999) == 1   # no int() of a hostile run


@pytest.mark.parametrize("pattern, name, expected", [
    # systemd's own cases (src/boot/test-efi-string.c TEST(efi_fnmatch))
    ("", "", True), ("abc", "abc", True), ("aBc", "abc", False), ("b", "", False), ("a?c", "azc", True), ("1?", "1", False),
    ("***", "", True), ("*b*", "abcd", True), ("abc*d", "abc", False), ("start*end", "startendend", True),
    ("start*end", "startenddne", False), ("start*end", "startendstartend", True), ("*.conf", "arch.conf", True),
    ("debian-*.*", "debian-wheezy.efi", True), ("ab*cde", "abzcd", False), ("\\*\\a\\[", "*a[", True),
    ("abc]", "abc]", True), ("[abc]", "z", False), ("[abc", "a", False), ("[][!] [][!] [][!]", "[ ] !", True),
    ("[]-] []-]", "] -", True), ("[1\\]] [1\\]]", "1 ]", True), ("[$-\\+]", "&", True), ("[1-3A-C] [1-3A-C]", "2 B", True),
    ("[a-c-f] [a-c-f] [a-c-f] [a-c-f] [a-c-f]", "a b c - f", True), ("[a-c-f]", "e", False),
    ("[--0] [--0] [--0]", "- . 0", True), ("[+--] [+--] [+--]", "+ , -", True), ("[a\\-z]", "b", False),
    ("?a*b[.-0]c", "/a/b/c", True), ("debian-*-*-*.*", "debian-jessie-2018-06-17-kernel-image-5.10.0-16-amd64.efi", True),
    ("a*b*c*d*e*f*g*h*i*j*k*l*m*n*o*p*q*r*s*t*u*v*w*x*y*z*", "aaaabbbbccccddddeeeeffffgggghhhhiiiijjjjkkkkllllmmmmnnnnoooo"
     "ppppqqqqrrrrssssttttuuuuvvvvwwwwxxxxyyyy", False),
    # no negation, unlike fnmatch(3); a trailing escape matches nothing
    ("[!a]", "b", False), ("[!a]", "!", True), ("abc\\", "abc", False), ("abc\\", "abc\\", False),
    ("\\*", "x", False), ("\\?", "x", False), ("\\?", "?", True), ("a\\*", "a*", True),
])
def test_efi_fnmatch_matches_as_systemd_boot_does(pattern, name, expected):
    assert bc.efi_fnmatch(pattern, name) is expected


@pytest.mark.parametrize("name, tries", [
    ("fedora-6.1.conf", (-1, -1)), ("fedora-6.1+3.conf", (3, 0)), ("fedora-6.1+0-3.CONF", (0, 3)),
    ("a+1+2-1.conf", (2, 1)), ("a+2x.conf", (-1, -1)), ("a+2-.conf", (-1, -1)), ("a+2147483648.conf", (-1, -1)),
    ("a+" + "0" * 5000 + "1.conf", (1, 0)), ("a+1.conf.bak", (-1, -1)),
])
def test_boot_counting_is_read_as_systemd_boot_reads_it(name, tries):
    assert bc.boot_counting(name) == tries


def sd_entry(name, version=None, sort_key=None, machine_id=None, kernel="/vmlinuz", title=None):
    return {"file": name, "id": name[:-len(".conf")], "version": version, "sort_key": sort_key, "machine_id": machine_id,
            "kernel": kernel, "title": title or name, "args": "", "initrd": [], "submenu": None}


def sd_default(entries, loader=None):
    menu = bc.gather_menu(_NoTree(), {"bls": entries, "loader_conf": ("/boot/loader/loader.conf", loader) if loader else None})
    return (menu["default"] or {}).get("file"), menu.get("note")


class _NoTree(object):
    """A tree with nothing in it: the menu is the ESP's."""
    def read_optional(self, path, limit=None):
        return None

    def listdir(self, path):
        from ansible_collections.guestready.gce.plugins.module_utils.target import TargetError
        raise TargetError("%s: not there" % path)


def test_systemd_boot_orders_by_sort_key_machine_id_version_then_id():
    """boot_entry_compare(): entries with a sort-key first (by sort-key, machine-id, version newest first),
    then the others by file name newest first; the old code took the highest version whatever the sort-key."""
    entries = [sd_entry("b-6.12.conf", "6.12", sort_key="zeta"), sd_entry("a-6.1.conf", "6.1", sort_key="arch"),
               sd_entry("a-6.6.conf", "6.6", sort_key="arch"), sd_entry("old-9.conf", "9")]
    assert sd_default(entries) == ("a-6.6.conf", None)
    assert [e["file"] for e in bc.systemd_boot_order(entries)] == ["a-6.6.conf", "a-6.1.conf", "b-6.12.conf", "old-9.conf"]
    # without sort-keys the file name decides (newest first: "arch." after "arch-"), not the version line
    assert sd_default([sd_entry("arch-lts.conf", "6.12"), sd_entry("arch.conf", "6.6")]) == ("arch.conf", None)
    entries = [sd_entry("x-%s.conf" % m, "1", sort_key="k", machine_id=m) for m in ("b", "a")] + [
        sd_entry("x-none.conf", "1", sort_key="k")]
    assert [e["file"] for e in bc.systemd_boot_order(entries)] == ["x-none.conf", "x-a.conf", "x-b.conf"]


def test_systemd_boot_puts_entries_without_tries_left_last():
    entries = [sd_entry("linux-6.12+0-3.conf", "6.12", sort_key="arch"), sd_entry("linux-6.6+2-1.conf", "6.6", sort_key="arch"),
               sd_entry("linux-6.6+3.conf", "6.6", sort_key="arch")]
    assert sd_default(entries)[0] == "linux-6.6+3.conf"
    assert [e["file"] for e in bc.systemd_boot_order(entries)] == [
        "linux-6.6+3.conf", "linux-6.6+2-1.conf", "linux-6.12+0-3.conf"]


@pytest.mark.parametrize("loader, chosen, note", [
    ("default arch-lts.conf\n", "arch-lts.conf", None),
    ("default Arch-LTS.CONF\n", "arch-lts.conf", None),          # ids and the pattern are lowercased
    ("default arch-lts\n", "arch.conf", "matches no entry"),     # the id is the file name, .conf included
    ("default arch*\n", "arch.conf", None),                      # the first match in the menu's order
    ('default "arch-lts.conf"\ndefault @foo\n', "arch-lts.conf", None),   # unsupported @ ids are ignored
    ("default arch-lts.conf\ndefault arch-zen.conf\n", "arch-zen.conf", None),   # the last line wins
    ("default @saved\n", "arch.conf", "LoaderEntryLastBooted"),
    ("default arch-fallback.conf\n", "arch-fallback+1-2.conf", None),    # the boot counting suffix is not in the id
    ("default arch-fallback+*\n", "arch.conf", "matches no entry"),
    ("timeout 3\n", "arch.conf", None),
])
def test_systemd_boot_default_is_loader_conf_s_glob(loader, chosen, note):
    """config_select_default_entry(): loader.conf's default is a glob over the entries' ids (the file
    names), the first match in the menu's order wins; the old code took the highest version always."""
    entries = [sd_entry("arch.conf", "6.12"), sd_entry("arch-lts.conf", "6.6"), sd_entry("arch-zen.conf", "6.11"),
               sd_entry("arch-fallback+1-2.conf", "6.12")]
    found, said = sd_default(entries, loader)
    assert found == chosen
    assert (note is None and said is None) or (note in said and "/boot/loader/loader.conf" in said), said


def test_systemd_boot_leaves_out_entries_it_does_not_show():
    """boot_entry_add_type1(): no linux, efi or uki line, no entry; config_load_type1_entries(): auto-* and dot files skipped."""
    entries = [sd_entry("zz.conf", "9", kernel=None), sd_entry("auto-x.conf", "9"), sd_entry("arch.conf", "6")]
    assert sd_default(entries)[0] == "arch.conf"
    assert sd_default([dict(sd_entry("zz.conf", "9", kernel=None), uki="/EFI/Linux/arch.efi"), sd_entry("arch.conf", "6")])[0] == "zz.conf"
    menu = bc.gather_menu(_NoTree(), {"bls": [sd_entry("zz.conf", "9", kernel=None)]})
    assert menu["default"] is None and "linux, efi or uki" in menu["error"]


# systemd-boot's type #2 entries: the unified kernel images in EFI/Linux (boot.c config_load_type2_entries(),
# boot_entry_add_type2()), sorted and chosen among with the type #1 entries
FEDORA_OSREL = b'NAME="Fedora Linux"\nID=fedora\nVERSION_ID=41\nPRETTY_NAME="Fedora Linux 41"\n'


def uki_sections(osrel=FEDORA_OSREL, cmdline=b"root=UUID=1234 ro net.ifnames=0\n", uname=b"6.11.4-301.fc41.x86_64"):
    return [(".osrel", osrel), (".cmdline", cmdline), (".uname", uname), (".linux", b"kernel"), (".initrd", b"initrd")]


def uki_entry(name, osrel=FEDORA_OSREL, cmdline=b"root=UUID=1234 ro\n"):
    info = uki.read_handle(io.BytesIO(uki_image(uki_sections(osrel, cmdline))), name)
    return bc.type2_entry(info, name, "/EFI/Linux/" + name, "ESP /EFI/Linux/" + name)[0]


def test_a_uki_is_a_type_2_entry_of_systemd_boot():
    """Only EFI/Linux/*.efi on the ESP: the default entry is the UKI, its command line its .cmdline
    (the old code: "no boot loader configuration")."""
    menu = bc.gather_menu(_NoTree(), {"uki": [uki_entry("fedora-6.11.efi")]})
    entry = menu["default"]
    assert menu["kind"] == "bls" and menu["config"] == "ESP /EFI/Linux" and menu["error"] is None, menu
    assert (entry["title"], entry["version"], entry["args"]) == ("Fedora Linux 41", "41", "root=UUID=1234 ro")
    assert entry["kernel"] == entry["uki"] == "/EFI/Linux/fedora-6.11.efi" and entry["initrd"] == []
    assert entry["sd_id"] == "fedora-6.11.efi" and entry["uname"] == "6.11.4-301.fc41.x86_64" and entry["has_initrd"]


@pytest.mark.parametrize("loader, chosen", [
    (None, "fedora-6.11.efi"),             # a sort key (the .osrel's ID) sorts before an entry without one
    ("default arch*\n", "arch.conf"),
    ("default *.EFI\n", "fedora-6.11.efi"),
    ("default fedora-6.1.efi\n", "fedora-6.1.efi"),
])
def test_loader_conf_s_default_chooses_between_a_uki_and_a_type_1_entry(loader, chosen):
    """Type #2 ids are the UKIs' file names, .efi included, lowercased; they join the type #1
    entries in one order (boot_entry_compare()) and loader.conf's glob picks among all."""
    entries = [sd_entry("arch.conf", "6.12")]
    ukis = [uki_entry("Fedora-6.1.efi", FEDORA_OSREL.replace(b"=41", b"=40")), uki_entry("fedora-6.11.efi")]
    menu = bc.gather_menu(_NoTree(), {"bls": entries, "uki": ukis,
                                      "loader_conf": ("/boot/loader/loader.conf", loader) if loader else None})
    assert menu["default"]["sd_id"] == chosen and menu["note"] is None, menu
    assert [e["sd_id"] for e in bc.systemd_boot_order(ukis + entries)] == ["fedora-6.11.efi", "fedora-6.1.efi", "arch.conf"]


def test_a_uki_whose_cmdline_cannot_be_read_is_booted_and_the_note_says_why():
    """boot_entry_add_type2() adds the entry before it reads .cmdline: the UKI is still the default,
    with no command line, and the note names the problem."""
    data = bytearray(uki_image(uki_sections()))
    data[64 + 24 + 240 + 40 + 20:64 + 24 + 240 + 40 + 24] = b"\xf0\xff\xff\x7f"   # .cmdline past the end
    info = uki.read_handle(io.BytesIO(bytes(data)), "ESP /EFI/Linux/f.efi")
    entry = bc.type2_entry(info, "f.efi", "/EFI/Linux/f.efi", "ESP /EFI/Linux/f.efi")[0]
    menu = bc.gather_menu(_NoTree(), {"uki": [entry]})
    assert menu["default"]["file"] == "f.efi" and menu["default"]["args"] == ""
    assert menu["note"].startswith("ESP /EFI/Linux/f.efi: its .cmdline section (32 bytes at offset 2147483632) is past the end"), menu


def test_a_uki_s_boot_counter_is_before_efi():
    """boot_entry_parse_tries(..., ".efi"): a UKI with no tries left goes last; its id drops the counter."""
    ukis = [uki_entry("fedora-6.11+0-3.efi"), uki_entry("fedora-6.1+2.efi", FEDORA_OSREL.replace(b"=41", b"=40"))]
    order = bc.systemd_boot_order(ukis)
    assert [(e["sd_id"], e["tries"]) for e in order] == [("fedora-6.1.efi", (2, 0)), ("fedora-6.11.efi", (0, 3))]


def test_ukis_of_a_tree_are_read_where_the_esp_and_xbootldr_are_mounted(tmp_path):
    """Tree mode: $BOOT/EFI/Linux/*.efi of /boot, /efi, /boot/efi through the target layer; a file
    systemd-boot shows no entry for is named with why, and a hostile one is a clear reason, not a traceback."""
    ukis = tmp_path / "efi" / "EFI" / "Linux"
    ukis.mkdir(parents=True)
    (ukis / "fedora.efi").write_bytes(uki_image(uki_sections()))
    (ukis / "no-osrel.efi").write_bytes(uki_image(uki_sections()[1:]))
    (ukis / "short.efi").write_bytes(uki_image(uki_sections())[:200])
    (ukis / "readme.txt").write_text("not a UKI")
    (ukis / "auto-x.efi").write_bytes(uki_image(uki_sections()))
    (ukis / "dir.efi").mkdir()
    target = Target(str(tmp_path))
    entries, skipped = bc.uki_entries(target, ("/boot/EFI/Linux", "/efi/EFI/Linux", "/boot/efi/EFI/Linux"))
    assert [(e["file"], e["directory"], e["args"]) for e in entries] == [("fedora.efi", "/efi/EFI/Linux", "root=UUID=1234 ro net.ifnames=0")]
    shown = str(ukis)
    assert skipped == ["%s/no-osrel.efi (no .osrel section)" % shown,
                       "%s/short.efi: its section table (5 sections at offset 328) is past the end of the file (200 bytes)" % shown], skipped
    (ukis / "fedora.efi").unlink()
    menu = bc.gather_menu(target, {"uki": [], "uki_skipped": skipped})
    assert menu["default"] is None and menu["error"].startswith(
        "no entry of loader/entries or EFI/Linux systemd-boot would show: %s/no-osrel.efi (no .osrel section); " % shown), menu


def blscfg_tree(tmp_path, cfg="blscfg\n"):
    """A RHEL-style /boot: grub.cfg calling blscfg; returns its loader/entries directory."""
    entries = tmp_path / "boot" / "loader" / "entries"
    entries.mkdir(parents=True)
    (tmp_path / "boot" / "grub2").mkdir()
    (tmp_path / "boot" / "grub2" / "grub.cfg").write_text(cfg)
    return entries


def test_blscfg_sorts_by_file_name_when_an_entry_has_no_version(tmp_path):
    """blscfg.c find_entry(): the version orders only when every entry has one; then the file name
    (bls_cmp()); entries without a linux line are not in the menu (create_entry())."""
    entries = blscfg_tree(tmp_path)
    (entries / "z-old.conf").write_text("title old\nversion 1.0\nlinux /vmlinuz-1.0\n")
    (entries / "a-new.conf").write_text("title new\nversion 2.0\nlinux /vmlinuz-2.0\n")
    (entries / "m-9.conf").write_text("title no linux\nversion 9\n")
    assert bc.gather_menu(Target(str(tmp_path)), None)["default"]["title"] == "new"
    (entries / "m-9.conf").write_text("title no linux, no version\n")
    assert bc.gather_menu(Target(str(tmp_path)), None)["default"]["title"] == "old"   # z-old after a-new


@pytest.mark.parametrize("cfg, env, title", [
    ("blscfg\n", "saved_entry=m-5.14.0-70.el9\n", "old"),
    ("blscfg\n", "saved_entry=gone\n", "new"),
    ('set default="1"\nblscfg\n', "saved_entry=m-5.14.0-427.el9\n", "old"),   # a literal default wins over grubenv
    ('set default="m-5.14.0-70.el9"\nblscfg\n', "", "old"),
    ('set default="${saved_entry}"\nblscfg\n', "saved_entry=m-5.14.0-70.el9\n", "old"),
    ('set default="2"\nmenuentry "first" {\n  linux /vmlinuz-x\n}\nblscfg\n', "", "old"),   # blscfg's entries go after it
])
def test_blscfg_default_is_grub_s_set_default_then_saved_entry(tmp_path, cfg, env, title):
    """GRUB picks among blscfg's entries as among its own menuentries (default_entry): ``set default``
    as grub.cfg sets it, saved_entry through it or when it sets none; the old code looked at saved_entry only."""
    entries = blscfg_tree(tmp_path, cfg)
    block = "# GRUB Environment Block\n" + env
    (tmp_path / "boot" / "grub2" / "grubenv").write_text(block + "#" * (1024 - len(block)))
    (entries / "m-5.14.0-70.el9.conf").write_text("title old\nversion 5.14.0-70.el9\nlinux /vmlinuz-5.14.0-70.el9\n")
    (entries / "m-5.14.0-427.el9.conf").write_text("title new\nversion 5.14.0-427.el9\nlinux /vmlinuz-5.14.0-427.el9\n")
    assert bc.gather_menu(Target(str(tmp_path)), None)["default"]["title"] == title


@pytest.mark.parametrize("env, args", [
    ("kernelopts=root=/dev/sda2 ro\n", "root=/dev/sda2 ro quiet"),
    ("kernelopts=\n", "root=UUID=1 ro console=ttyS0,38400n8 quiet"),
    ("", "root=UUID=1 ro console=ttyS0,38400n8 quiet"),
])
def test_blscfg_entries_get_grub_cfgs_kernelopts_where_grubenv_has_none(tmp_path, env, args):
    """Red Hat's 10_linux sets $kernelopts in grub.cfg when grubenv leaves it unset or empty, before
    blscfg runs: the image audit expanded grubenv's variables only, so such an image's default entry
    had no console= (the installer's check, bootloader.GrubConfig, read the fallback)."""
    entries = blscfg_tree(tmp_path, 'load_env\nif [ -z "${kernelopts}" ]; then\n'
                                    '  set kernelopts="root=UUID=1 ro console=ttyS0,38400n8 "\nfi\nblscfg\n')
    block = "# GRUB Environment Block\n" + env
    (tmp_path / "boot" / "grub2" / "grubenv").write_text(block + "#" * (1024 - len(block)))
    (entries / "m-4.18.0-553.el8.conf").write_text("title r\nversion 4.18.0-553.el8\nlinux /vmlinuz-4.18.0-553.el8\n"
                                                   "options $kernelopts quiet\n")
    assert bc.gather_menu(Target(str(tmp_path)), None)["default"]["args"] == args


@pytest.mark.parametrize("beside, title", [(True, "old"), (False, "new")])
def test_the_grubenv_is_the_one_beside_the_grub_cfg_grub_reads(tmp_path, beside, title):
    """GRUB's load_env reads $prefix/grubenv (Red Hat's 00_header ${config_directory}/grubenv): the
    directory of the grub.cfg it boots with.  A leftover /boot/grub/grubenv beside a /boot/grub2 menu was
    taken first, and its saved_entry picked the wrong kernel; without a grubenv beside the menu GRUB has no
    saved_entry at all.  The installer's check reads it the same way (bootloader.GrubConfig)."""
    entries = blscfg_tree(tmp_path, 'set default="${saved_entry}"\nblscfg\n')
    (tmp_path / "boot" / "grub").mkdir()
    for directory, saved in (("grub", "m-5.14.0-427.el9"), ("grub2", "m-5.14.0-70.el9")):
        if directory == "grub" or beside:
            block = "# GRUB Environment Block\nsaved_entry=%s\n" % saved
            (tmp_path / "boot" / directory / "grubenv").write_text(block + "#" * (1024 - len(block)))
    (entries / "m-5.14.0-70.el9.conf").write_text("title old\nversion 5.14.0-70.el9\nlinux /vmlinuz-5.14.0-70.el9\n")
    (entries / "m-5.14.0-427.el9.conf").write_text("title new\nversion 5.14.0-427.el9\nlinux /vmlinuz-5.14.0-427.el9\n")
    assert bc.gather_menu(Target(str(tmp_path)), None)["default"]["title"] == title
    grub = bootloader.GrubConfig(Target(str(tmp_path)))
    assert (grub.grubenv_path, grub.grubenv.get("saved_entry")) == (
        ("/boot/grub2/grubenv", "m-5.14.0-70.el9") if beside else (None, None))


def test_grub_and_systemd_boot_split_an_entry_s_lines_each_their_own_way(tmp_path):
    """GRUB's blscfg (blscfg.c read_entry()) stops reading an entry at an empty line and splits a line at its
    first space, else its first tab; systemd-boot (line_get_key_value()) skips empty lines, splits at the
    first blank and drops one pair of quotes around the value.  The same file is two entries."""
    text = 'title Fedora\nversion 6.5.6\n\nlinux /vmlinuz-6.5.6\noptions root=UUID=1 console=ttyS0\n'
    grub, sd_boot = bc.parse_bls_entry(text, grub=True), bc.parse_bls_entry(text)
    assert (grub["title"], grub["kernel"], grub["args"]) == ("Fedora", None, ""), grub
    assert (sd_boot["kernel"], sd_boot["args"]) == ("/vmlinuz-6.5.6", "root=UUID=1 console=ttyS0"), sd_boot
    text = 'title\tTabbed\nlinux\t/vmlinuz-6.5.6\noptions\t"root=UUID=1 quiet"\n'
    grub, sd_boot = bc.parse_bls_entry(text, grub=True), bc.parse_bls_entry(text)
    assert (grub["title"], grub["kernel"], grub["args"]) == ("Tabbed", "/vmlinuz-6.5.6", ""), grub   # "options\t\"root=UUID=1" is a key
    assert (sd_boot["title"], sd_boot["kernel"], sd_boot["args"]) == ("Tabbed", "/vmlinuz-6.5.6", "root=UUID=1 quiet"), sd_boot
    # GRUB's menu leaves the entry cut short by its empty line out: it has no linux line (create_entry())
    entries = blscfg_tree(tmp_path)
    (entries / "a-new.conf").write_text("title new\nversion 2.0\n\nlinux /vmlinuz-2.0\n")
    (entries / "b-old.conf").write_text("title old\nversion 1.0\nlinux /vmlinuz-1.0\n")
    assert bc.gather_menu(Target(str(tmp_path)), None)["default"]["title"] == "old"


def test_a_type_1_entry_s_uki_line_is_read_as_the_uki_it_names(tmp_path):
    """systemd v258 boot.c boot_entry_add_type1(): a ``uki`` line makes a LOADER_UKI entry booting that
    file; its options lines are the load options stub.c settle_command_line() boots with in place of the
    .cmdline (unless Secure Boot is on), and without any the .cmdline is the command line; the old code
    took the entry for one with no kernel."""
    esp = tmp_path / "boot" / "efi"
    (esp / "EFI" / "Linux").mkdir(parents=True)
    (esp / "loader" / "entries").mkdir(parents=True)
    (esp / "EFI" / "Linux" / "f.efi").write_bytes(uki_image(uki_sections(cmdline=b"root=UUID=1234 console=ttyS0\n")))
    (esp / "EFI" / "Linux" / "broken.efi").write_bytes(uki_image(uki_sections())[:200])
    entries = esp / "loader" / "entries"
    (entries / "a.conf").write_text("title F\nsort-key a\nuki /EFI/Linux/f.efi\n")
    target = Target(str(tmp_path))
    menu = bc.gather_menu(target, {"bls": bc.bls_entries(target, ("/boot/efi/loader/entries",))})
    entry = menu["default"]
    assert menu["error"] is None and entry["file"] == "a.conf", menu
    assert (entry["kernel"], entry["args"], entry["uki_cmdline"]) == ("/EFI/Linux/f.efi", "root=UUID=1234 console=ttyS0", None)
    assert (entry["uki_line"], entry["has_linux"], entry["has_initrd"], entry["uname"]) == (True, True, True, "6.11.4-301.fc41.x86_64")
    # options lines, joined, replace the .cmdline when Secure Boot is off: both are kept
    (entries / "a.conf").write_text("title F\nsort-key a\nuki \\EFI\\Linux\\f.efi\noptions root=UUID=1234\noptions quiet\n")
    entry = bc.gather_menu(target, {"bls": bc.bls_entries(target, ("/boot/efi/loader/entries",))})["default"]
    assert (entry["args"], entry["uki_cmdline"]) == ("root=UUID=1234 quiet", "root=UUID=1234 console=ttyS0")
    # a file that is no readable UKI: still the entry systemd-boot shows; the note says why its contents are unknown
    (entries / "a.conf").write_text("title F\nsort-key a\nuki /EFI/Linux/broken.efi\n")
    menu = bc.gather_menu(target, {"bls": bc.bls_entries(target, ("/boot/efi/loader/entries",))})
    assert menu["default"]["has_linux"] is None and menu["default"]["args"] == ""
    assert "broken.efi: its section table (5 sections at offset 328) is past the end of the file (200 bytes)" in menu["note"], menu


@pytest.mark.parametrize("make", ["large", "directory"])
def test_a_grub_cfg_that_cannot_be_read_is_the_menu_s_error_not_skipped(tmp_path, make):
    """/boot/grub/grub.cfg larger than the reader takes (or not a file) was
    skipped as if absent, and the menu came from the next configuration (here
    a systemd-boot entry on the ESP GRUB never reads): a default entry the
    machine does not boot.  The menu has no default and says which file and why."""
    (tmp_path / "boot" / "grub").mkdir(parents=True)
    cfg = tmp_path / "boot" / "grub" / "grub.cfg"
    if make == "large":
        cfg.write_text("menuentry 'Debian' {\n  linux /vmlinuz root=UUID=x\n}\n" + "#" * (4 * 1024 * 1024))
    else:
        cfg.mkdir()
    esp = {"bls": [{"title": "other", "linux": "/vmlinuz-other", "kernel": "/vmlinuz-other", "args": "",
                    "initrd": [], "file": "other.conf", "id": "other", "version": None, "sort_key": None,
                    "machine_id": None, "efi": None, "uki": None, "loader_missing": False}]}
    menu = bc.gather_menu(Target(str(tmp_path)), esp)
    assert menu["default"] is None, menu
    assert menu["config"] == "/boot/grub/grub.cfg"
    assert "/boot/grub/grub.cfg: " in menu["error"], menu["error"]
    assert ("larger than" if make == "large" else "directory") in menu["error"], menu["error"]


@pytest.mark.parametrize("make, title", [("large", None), ("padded", "old"), ("directory", "new")])
def test_a_grubenv_past_the_reader_s_limit_is_the_menu_s_error_not_an_empty_environment(tmp_path, make, title):
    """A grubenv larger than the reader takes was read as no environment, so
    its saved_entry was lost and the menu's default was the wrong kernel
    (GRUB reads the block whole).  Now the menu has no default and names the
    file.  One GRUB cannot load (a directory) is still no environment, as
    GRUB's load_env fails and the menu goes on without it.  The limit is the
    one the ESP's grubenv is read with (a 70 KiB one was an error in a tree
    and read on the ESP)."""
    entries = blscfg_tree(tmp_path, "blscfg\n")
    grubenv = tmp_path / "boot" / "grub2" / "grubenv"
    block = "# GRUB Environment Block\nsaved_entry=m-5.14.0-70.el9\n"
    if make == "large":
        grubenv.write_text(block + "#" * (bc.GRUB_FILE_MAX - len(block) + 1))
    elif make == "padded":
        grubenv.write_text(block + "#" * (70 * 1024))
    else:
        grubenv.mkdir()
    (entries / "m-5.14.0-70.el9.conf").write_text("title old\nversion 5.14.0-70.el9\nlinux /vmlinuz-5.14.0-70.el9\n")
    (entries / "m-5.14.0-427.el9.conf").write_text("title new\nversion 5.14.0-427.el9\nlinux /vmlinuz-5.14.0-427.el9\n")
    menu = bc.gather_menu(Target(str(tmp_path)), None)
    assert (menu["default"] or {}).get("title") == title, menu
    if make == "large":
        assert "/boot/grub2/grubenv" in menu["error"] and "larger than" in menu["error"], menu["error"]
    else:
        assert menu["error"] is None, menu


def test_the_menu_is_read_in_lines_as_grub_reads_them():
    """GRUB reads a line up to \\n and drops carriage returns: a form feed or a \\x1c in a linux line
    does not end it (str.splitlines did, and the menu lost the rest of its command line)."""
    menu = bc.parse_grub_cfg("menuentry 'x' {\r\n\tlinux /vmlinuz-6.1 ro\x0cquiet\x1c8250.nr_uarts=3\r\n}\r\n")
    entry = menu["entries"][0]
    assert entry["kernel"] == "/vmlinuz-6.1"
    assert entry["args"].endswith("8250.nr_uarts=3") and "\r" not in entry["args"]


@pytest.mark.parametrize("name, grub, systemd_boot", [
    ("fedora-6.8.conf", True, True),
    ("ARCH.CONF", False, True),          # systemd-boot: endswith_no_case()
    ("auto-windows.conf", True, False),  # systemd-boot skips auto-* (its own entries' ids)
    (".hidden.conf", False, False),
    (".conf", False, False),
    ("entry.conf~", False, False),
    ("entry.config", False, False),
])
def test_bls_entry_names_as_each_loader_takes_them(name, grub, systemd_boot):
    """GRUB's blscfg read_entry() and systemd-boot's config_load_type1_entries() take different
    names from loader/entries; the readers had one rule of their own each."""
    assert (bc.bls_entry_name(name, grub=True), bc.bls_entry_name(name)) == (grub, systemd_boot)


@pytest.mark.parametrize("text, words, kernel_line", [
    # grub-core/script/yylex.l: quotes are GRUB's syntax, taken off before the kernel sees the words
    ("ro 'console=ttyS0,38400n8' x=tty\"S0\"", ["ro", "console=ttyS0,38400n8", "x=ttyS0"],
     "ro console=ttyS0,38400n8 x=ttyS0"),
    ('a="b c" $kernelopts ${x}y', ["a=b c", "$kernelopts", "${x}y"], '"a=b c" $kernelopts ${x}y'),
    ("a\\ b \"q\\\"\\n\" 'c\\d'", ["a b", 'q"\\n', "c\\d"], '"a b" q"\\n c\\d'),
    ("ro #quiet", ["ro"], "ro"),                  # a word starting with # starts a comment
    ("ro a#b", ["ro", "a#b"], "ro a#b"),
    ("ro; console=ttyS0", ["ro"], "ro"),          # ';' ends the command
    ("ro\n  console=ttyS0", ["ro", "console=ttyS0"], "ro console=ttyS0"),   # $kernelopts split at newlines
])
def test_grub_reads_a_linux_lines_arguments_with_its_own_lexer(text, words, kernel_line):
    assert bc.grub_words(text) == words
    assert bc.grub_args(text) == kernel_line
    assert bc.grub_linux("\tlinux\t'/boot/my kernel' " + text) == ("/boot/my kernel", kernel_line)


def test_the_kernel_gets_what_grub_makes_of_its_lines(tmp_path):
    """GRUB takes its quotes off a linux line (and an options line under blscfg, and the defaults
    grub-mkconfig writes there) before the kernel splits what is left: 'console=ttyS0' is a
    console for the kernel, tty"S0" is ttyS0.  systemd-boot passes an options line as it is."""
    (tmp_path / "boot" / "grub").mkdir(parents=True)
    (tmp_path / "boot" / "grub" / "grub.cfg").write_text(
        "menuentry 'Debian' {\n\tlinux\t/boot/vmlinuz-6.1 root=UUID=1 ro 'console=ttyS0,38400n8' 8250.nr_uarts=\"1\"\n}\n")
    (tmp_path / "etc" / "default").mkdir(parents=True)
    (tmp_path / "etc" / "default" / "grub").write_text("GRUB_CMDLINE_LINUX=\"console=tty'S0'\"\n")
    target = Target(str(tmp_path))
    menu = bc.gather_menu(target, None)
    assert menu["default"]["args"] == "root=UUID=1 ro console=ttyS0,38400n8 8250.nr_uarts=1"
    grub = bootloader.GrubConfig(target)
    assert [entry["cmdline"] for entry in grub.entries()] == [menu["default"]["args"]]
    assert grub.cmdline() == "console=ttyS0" and cmdline.has_console(grub.cmdline())
    assert cmdline.consoles(menu["default"]["args"]) == ["ttyS0"]
    # the same options line: GRUB's blscfg takes the quotes off, systemd-boot leaves them to the kernel
    options = "options root=UUID=1 console='ttyS0'\n"
    grub_entry = bc.parse_bls_entry("title A\nlinux /vmlinuz\n" + options, grub=True)
    sd_boot_entry = bc.parse_bls_entry("title A\nlinux /vmlinuz\n" + options)
    assert cmdline.consoles(bc.grub_args(grub_entry["args"])) == ["ttyS0"]
    assert not cmdline.has_console(sd_boot_entry["args"])   # console_setup(): no "'ttyS" console


def test_a_console_grub_gives_the_kernel_is_not_added_again():
    """add_kernel_arg() judges a line as its boot loader hands it to the kernel."""
    cfg = "menuentry 'D' {\n\tlinux\t/vmlinuz ro 'console=ttyS0,38400n8'\n}\n"
    assert bootloader.add_kernel_arg(cfg, "console=ttyS0,38400n8", "GCE-BOOT-SERIAL-CONSOLE") == (cfg, False)
    entry = "title A\nlinux /vmlinuz\noptions ro console='ttyS0'\n"
    assert bootloader.add_kernel_arg(entry, "console=ttyS0", "R", lines_re=bootloader.BLS_OPTIONS) == (entry, False)
    text, changed = bootloader.add_kernel_arg(entry, "console=ttyS0", "R", lines_re=bootloader.BLS_OPTIONS, grub=False)
    assert changed and text.endswith("options ro console='ttyS0' console=ttyS0\n")   # systemd-boot: the kernel's "'ttyS0'"
