"""`lab up --disk` without booting: console diagnosis on real console logs, disk checks, CLI.

The console logs in tests/lab/fixtures/console/ were captured from lab guests (see its README):
a good boot through GRUB, and boots that fail in the firmware, in GRUB, in the kernel and in
the initramfs. Every prefix of the good one must read as "not failed (yet)".
"""

import os
import subprocess

import pytest

from lab_helpers import LAB, ROOT
from guestready_lab import bootdisk, profiles, qemu
from guestready_lab.util import LabError

CONSOLE = os.path.join(ROOT, "tests", "lab", "fixtures", "console")


def lines(name):
    with open(os.path.join(CONSOLE, name), "rb") as f:
        return bootdisk.console_lines(f.read().decode("utf-8", "replace"))


def test_console_lines_drop_terminal_escapes():
    got = lines("seabios-zero-disk.log")
    assert got[0].startswith("SeaBIOS (version ")
    assert not any("\x1b" in x or "\b" in x or "\r" in x for x in got)
    assert "Booting from Hard Disk..." in got


@pytest.mark.parametrize("name", ["bios-grub-ok.log", "uefi-grub-ok.log"])
def test_a_good_boot_never_reads_as_failed(name):
    got = lines(name)
    assert any(x.startswith("Debian GNU/Linux 12") for x in got), "fixture is a complete boot"
    for n in range(1, len(got) + 1):
        assert bootdisk.diagnose(got[:n]) is None, got[n - 1]


@pytest.mark.parametrize("name, reason", [
    ("seabios-zero-disk.log", "SeaBIOS: the disk is not bootable (no 0x55AA boot signature"),
    ("ovmf-mbr-disk-no-esp.log", "UEFI firmware could not boot the disk (UEFI Google PersistentDisk: Not Found)"),
    ("grub-rescue-no-normal-mod.log", "GRUB rescue shell (GRUB found no modules or configuration): "
                                      "file `/boot/grub/i386-pc/normal.mod' not found"),
    ("grub-prompt-no-grub-cfg.log", "GRUB command line (no usable /boot/grub/grub.cfg)"),
    ("grub-no-kernel.log", "GRUB could not boot its menu entry: file `/boot/vmlinuz-"),
    ("kernel-panic-no-root.log", "kernel panic: VFS: Unable to mount root fs on unknown-block(0,0)"),
    ("emergency-esp-device-timeout.log",  # a UEFI boot on a machine at load 17: udev too slow
     "systemd emergency mode: [ TIME ] Timed out waiting for device \u2026 - /dev/disk/by-uuid/6645-0130."),
    ("initramfs-root-missing.log",
     "initramfs: UUID=00000000-1111-2222-3333-444444444444 does not exist. (dropped to its shell)"),
])
def test_failed_boots_are_named_from_the_console(name, reason):
    assert reason in (bootdisk.diagnose(lines(name)) or "")


def test_empty_mbr_code_is_a_stall_after_the_handover():
    got = lines("seabios-empty-mbr-code.log")
    assert bootdisk.diagnose(got) is None  # nothing to read: the boot code just does nothing
    assert got[-1].startswith("Booting from Hard Disk")
    assert bootdisk.stall_limit(got) == bootdisk.HANDOVER_STALL
    good = lines("uefi-grub-ok.log")
    assert bootdisk.stall_limit(good[:2]) == bootdisk.HANDOVER_STALL  # OVMF: "starting Boot0001"
    assert all(bootdisk.stall_limit(good[:n]) is None for n in range(3, len(good)))


def test_a_reset_loop_is_a_failure():
    banner = "SeaBIOS (version 1.16.3)"
    loop = [banner, "Booting from Hard Disk..."] * (bootdisk.MAX_FIRMWARE_STARTS + 1)
    assert "keeps resetting" in bootdisk.diagnose(loop)
    assert bootdisk.diagnose(loop[:2 * bootdisk.MAX_FIRMWARE_STARTS]) is None


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_console_watch_reports_silence_with_the_mbr_hint(tmp_path):
    console = tmp_path / "console.log"
    disk = tmp_path / "disk.raw"
    with open(disk, "wb") as f:  # an MBR with a partition entry and a signature, no boot code
        f.truncate(1 << 20)
        f.seek(446)
        f.write(bytes([0x80, 0, 0x21, 0, 0x83]))
        f.seek(510)
        f.write(b"\x55\xaa")
    clock = Clock()
    watch = bootdisk.ConsoleWatch(str(console), str(disk), "raw", clock=clock)
    assert watch.poll() is None  # no console file yet
    console.write_bytes(open(os.path.join(CONSOLE, "seabios-empty-mbr-code.log"), "rb").read())
    clock.now += 5
    assert watch.poll() is None
    clock.now += bootdisk.HANDOVER_STALL + 1
    reason = watch.poll()
    assert reason.startswith("SeaBIOS jumped to the disk's MBR boot code and nothing ran: "
                             "the MBR boot code (first 440 bytes) is all zeros, no boot loader")
    # the same silence with boot code present names no missing boot loader
    with open(disk, "r+b") as f:
        f.write(b"\xeb\x63\x90")
    assert "all zeros" not in watch.poll()


def test_console_watch_leaves_later_silence_to_the_timeout(tmp_path):
    console = tmp_path / "console.log"
    console.write_bytes(b"\x1b[2JBdsDxe: starting Boot0001 \"UEFI Google PersistentDisk \" from X\r\n")
    clock = Clock()
    watch = bootdisk.ConsoleWatch(str(console), clock=clock)
    assert watch.poll() is None
    with open(console, "ab") as f:
        f.write(b"Welcome to GRUB!\r\n[    2.0] Run /init as init process\r\n")
    clock.now += bootdisk.HANDOVER_STALL - 1
    assert watch.poll() is None  # new output
    clock.now += 3600
    assert watch.poll() is None  # a slow kernel or systemd: the timeout decides
    with open(console, "wb") as f:  # a boot loader that never says anything
        f.write(b"BdsDxe: starting Boot0001 \"UEFI Google PersistentDisk \" from X\r\n")
    watch = bootdisk.ConsoleWatch(str(console), clock=clock)
    watch.poll()
    clock.now += bootdisk.HANDOVER_STALL + 1
    assert watch.poll() == ("the firmware started the disk's boot loader and nothing was printed for %d s "
                            "('BdsDxe: starting Boot0001 \"UEFI Google PersistentDisk \" from X')"
                            % (bootdisk.HANDOVER_STALL + 1))


# ---- the disk ----------------------------------------------------------------------------------

def test_disk_checks_name_the_problem(tmp_path):
    def err(path):
        with pytest.raises(LabError) as e:
            bootdisk.disk_format(str(path))
        return str(e.value)

    assert "does not exist" in err(tmp_path / "nope.raw")
    assert "not a regular file" in err(tmp_path)
    tiny = tmp_path / "tiny.raw"
    tiny.write_bytes(b"x" * 100)
    assert "too small to be a disk (100 bytes)" in err(tiny)
    base = tmp_path / "base.raw"
    base.write_bytes(b"\0" * 4096)
    assert bootdisk.disk_format(str(base)) == "raw"
    top = tmp_path / "top.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(base), "-F", "raw", str(top)], check=True)
    assert "is a qcow2 overlay of %s" % base in err(top)
    vmdk = tmp_path / "disk.vmdk"
    subprocess.run(["qemu-img", "create", "-q", "-f", "vmdk", str(vmdk), "1M"], check=True)
    assert "is vmdk, not raw or qcow2" in err(vmdk)
    good = tmp_path / "good.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(good), "64M"], check=True)
    assert bootdisk.disk_format(str(good)) == "qcow2"
    truncated = tmp_path / "truncated.qcow2"
    truncated.write_bytes(good.read_bytes()[:1024])
    assert err(truncated).startswith("disk %s is a damaged qcow2 (qemu-img check: " % truncated)
    garbage = tmp_path / "garbage.qcow2"
    garbage.write_bytes(b"QFI\xfb" + b"\xff" * 4092)
    assert err(garbage).startswith("cannot read disk %s: " % garbage)


def test_boot_code_empty_reads_raw_and_qcow2(tmp_path):
    raw = tmp_path / "d.raw"
    raw.write_bytes(b"\0" * 440 + b"\1" * 72 + b"\0" * 512)
    assert bootdisk.boot_code_empty(str(raw), "raw")
    q = tmp_path / "d.qcow2"
    subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(raw), str(q)], check=True)
    assert bootdisk.boot_code_empty(str(q), "qcow2")
    raw.write_bytes(b"\xeb\x63\x90" + b"\0" * 1021)
    assert not bootdisk.boot_code_empty(str(raw), "raw")


def test_firmware_command_line_has_no_kernel_and_its_own_vars():
    paths = {"name": "n", "overlay": "/o.qcow2", "console": "/c.log", "qmp": "/q", "pidfile": "/p"}
    uefi = qemu.command("gce", {"firmware": "uefi", "ovmf_vars": "/g/OVMF_VARS.fd"}, paths, "user", 1)
    bios = qemu.command("gce", {"firmware": "bios"}, paths, "user", 1)
    direct = qemu.command("gce", {"kernel": "/k", "initrd": "/i"}, paths, "user", 1)
    for argv in (uefi, bios):
        assert "-kernel" not in argv and "-append" not in argv
        assert argv[argv.index("-M") + 1].endswith(",graphics=off")
    assert "if=pflash,format=raw,unit=0,readonly=on,file=" + qemu.OVMF_CODE in uefi
    assert "if=pflash,format=raw,unit=1,file=/g/OVMF_VARS.fd" in uefi
    assert not any("pflash" in a for a in bios)
    for argv in (uefi, bios):  # OVMF does not find the disk at SCSI target 1 without it
        assert any(a.startswith("scsi-hd,drive=disk0,") and a.endswith(",bootindex=0") for a in argv)
    assert not any("bootindex" in a for a in direct)
    assert "-kernel" in direct and not direct[direct.index("-M") + 1].endswith("graphics=off")
    # everything else is the profile's device model, unchanged

    def strip(argv):
        return [a for a in argv if "pflash" not in a and a != "-drive"]
    assert strip(uefi) == strip(bios)


def test_firmware_boots_have_their_own_gaps():
    kernel = [g["what"] for g in profiles.gaps_for("gce", "user", "piix4-isa")]
    firmware = [g["what"] for g in profiles.gaps_for("gce", "user", "piix4-isa", boot="firmware")]
    assert any("direct kernel boot" in w for w in kernel)
    assert not any("direct kernel boot" in w for w in firmware)
    assert any("OVMF" in w for w in firmware) and not any("OVMF" in w for w in kernel)
    # the lab knows its own images' guest environment, not that of a disk it is given
    assert any("no guest environment" in w for w in kernel)
    assert not any("guest environment" in w for w in firmware)


def test_bootable_variants_are_data():
    for variant in ("boot-bios", "boot-uefi"):
        v = profiles.IMAGES[variant]
        assert v["firmware"] in bootdisk.FIRMWARE and v["extra_packages"]
    assert not any(profiles.IMAGES[p["image"]].get("firmware") for p in profiles.PROFILES.values()), \
        "profiles boot with -kernel: a bootable image is booted with `lab up --disk`"


# ---- CLI ---------------------------------------------------------------------------------------

def run_lab(args, tmp_path):
    env = dict(os.environ, GUESTREADY_LAB_STATE=str(tmp_path / "state"))
    return subprocess.run(["/usr/bin/python3", "-I", "-S", LAB] + args, text=True, timeout=60, check=False,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


@pytest.mark.parametrize("args, message", [
    (["up", "--disk", "/nonexistent/disk.raw"], "disk /nonexistent/disk.raw does not exist"),
    (["up", "--disk", "/"], "disk / is not a regular file"),
    (["up", "--disk", "/etc/hostname", "--firmware", "bios", "--count", "2"], "--count and --cold do not apply"),
    (["up", "--disk", "/etc/hostname", "--cold"], "--count and --cold do not apply"),
    (["up", "--firmware", "uefi"], "--firmware and --ssh-key go with --disk"),
    (["up", "--disk", "x", "--firmware", "coreboot"], "invalid choice: 'coreboot'"),
    (["up", "--disk", "x", "--name", "Bad_Name"], "bad guest name 'Bad_Name'"),
])
def test_disk_bad_input_is_one_line(tmp_path, args, message):
    proc = run_lab(args, tmp_path)
    assert proc.returncode in (1, 2)
    got = proc.stderr.strip().splitlines()
    assert len(got) == 1 and message in got[0] and "Traceback" not in proc.stderr, proc.stderr
    assert not (tmp_path / "state" / "guests").exists() or not os.listdir(tmp_path / "state" / "guests")


def test_disk_without_a_key_says_where_keys_are(tmp_path):
    disk = tmp_path / "disk.raw"
    with open(disk, "wb") as f:
        f.truncate(1 << 20)
    proc = run_lab(["up", "--disk", str(disk)], tmp_path)
    assert proc.returncode == 1
    assert "no SSH key for %s: pass --ssh-key" % disk in proc.stderr
