"""Boot a given disk as Compute Engine would: the firmware starts the disk's own boot loader.

`lab up --disk PATH [--firmware bios|uefi] [--ssh-key KEY]` boots any raw or qcow2 disk in a
profile's device model (gce by default) with no -kernel: SeaBIOS (QEMU's default firmware)
reads the MBR boot code, or OVMF (Debian's `ovmf`: the shared OVMF_CODE_4M.fd plus a copy of
OVMF_VARS_4M.fd per guest) starts EFI/BOOT/BOOTX64.EFI from the EFI System Partition. The
disk itself is never written: the guest runs on a qcow2 overlay in its state dir.

A disk that does not boot is reported with a one-line reason read from the serial console
(the firmware, GRUB, the kernel and the initramfs all write to ttyS0 here, as on Compute
Engine's serial port 1), or when the console stays silent after the firmware handed over to
the disk, or at the timeout; QEMU is stopped by PID in every case and the guest dir is kept
(console.log) until `lab down`.
"""

import json
import os
import re
import shutil
import subprocess
import tempfile
import time

from . import aptrepo, guests, profiles, qemu
from .util import LabError, log, process_alive, require_tools, run, read_json

FIRMWARE = ("bios", "uefi")
FORMATS = ("raw", "qcow2")
# Seconds of console silence after the firmware handed over to the disk that end a boot (GRUB
# prints "GRUB loading." within a second of it). Later silences are left to the timeout: on
# a loaded 2-core machine a TCG guest's kernel and systemd can be quiet for minutes.
HANDOVER_STALL = 60
MAX_FIRMWARE_STARTS = 3  # more firmware banners than this before SSH: a reset loop


class BootFailed(LabError):
    """The guest did not boot to SSH; the message is the reason."""


# ---- console ---------------------------------------------------------------------------------

# terminal control sequences, also the ones systemd cuts short when it shortens a status line
# ("\x1b[0;1;…[0m")
_ESCAPES = re.compile(r"\x1b(\[[0-9;?=]*[A-Za-z]?|[A-Za-z])|\[[0-9;]*m")


def console_lines(text):
    """The serial console as lines: terminal escapes, backspaces and blank lines removed."""
    text = _ESCAPES.sub("", text).replace("\b", "")
    return [line.strip() for line in re.split(r"[\r\n]+", text) if line.strip()]


_DISK_PATH = re.compile(r"(Scsi|Sata|Ata|NVMe|HD)\(")
_HANDOVER = re.compile(r"^Booting from Hard Disk|^BdsDxe: starting Boot")


def _grub_errors(lines, upto):
    errs = [x[len("error: "):] for x in lines[:upto] if x.startswith("error: ")]
    return (": " + "; ".join(errs[-2:])) if errs else ""


def diagnose(lines):
    """Why the boot shown by these console lines failed, or None while it may still succeed."""
    kernel_started = False
    firmware_starts = 0
    for i, line in enumerate(lines):
        if line.startswith("SeaBIOS (version"):
            firmware_starts += 1
            if firmware_starts > MAX_FIRMWARE_STARTS:
                return "the guest keeps resetting (%d firmware starts): boot loop" % firmware_starts
        elif "No bootable device" in line:
            return "SeaBIOS: no bootable device"
        elif line.startswith("Boot failed: not a bootable disk"):
            return "SeaBIOS: the disk is not bootable (no 0x55AA boot signature in its first sector)"
        m = re.match(r'BdsDxe: failed to load Boot\w+ "([^"]*)" from (\S+?)(?:: (.*))?$', line)
        if m and _DISK_PATH.search(m.group(2)):
            return ("UEFI firmware could not boot the disk (%s: %s): no EFI/BOOT/BOOTX64.EFI on "
                    "an EFI System Partition?" % (m.group(1).strip(), m.group(3) or "failed"))
        if line.startswith(("UEFI Interactive Shell", "Shell>")):
            return "UEFI firmware fell back to its shell: nothing on the disk booted"
        if not kernel_started:
            if line.startswith("grub rescue>"):
                return "GRUB rescue shell (GRUB found no modules or configuration)" + _grub_errors(lines, i)
            if line.startswith("grub>"):
                return "GRUB command line (no usable /boot/grub/grub.cfg)" + _grub_errors(lines, i)
            if line.startswith("Failed to boot both default and fallback entries"):
                return "GRUB could not boot its menu entry" + _grub_errors(lines, i)
            if re.match(r"\[\s*\d+\.\d+\] Linux version ", line):
                kernel_started = True
        m = re.search(r"Kernel panic - not syncing: (.*)", line)
        if m:
            root = [x for x in lines[:i] if "VFS: Cannot open root device" in x]
            return "kernel panic: " + m.group(1).strip() + (
                " (%s)" % root[-1].split("] ", 1)[-1] if root else "")
        m = re.search(r"ALERT!\s+(.*?)\s*(Dropping to a shell!)?$", line)
        if m:
            return "initramfs: %s (dropped to its shell)" % m.group(1)
        if "You are in emergency mode" in line or "Cannot open access to console, the root account is locked" in line:
            # the first failure is the cause, the dependency failures after it its consequences
            why = [x for x in lines[:i]
                   if re.search(r"Failed to mount|Dependency failed|Timed out waiting for device", x)]
            return "systemd emergency mode" + (": " + why[0] if why else "")
    return None


def stall_limit(lines):
    """Seconds of silence after which this console counts as stuck, or None (no limit)."""
    return HANDOVER_STALL if lines and _HANDOVER.search(lines[-1]) else None


class ConsoleWatch:
    """Follows a guest's console.log and says when the boot it shows has failed."""

    def __init__(self, path, disk=None, fmt=None, clock=time.monotonic):
        self.path, self.disk, self.fmt, self.clock = path, disk, fmt, clock
        self.pos = 0
        self.text = ""
        self.changed = clock()

    def read(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.pos)
                chunk = f.read()
        except FileNotFoundError:
            chunk = b""
        if chunk:
            self.pos += len(chunk)
            self.text += chunk.decode("utf-8", "replace")
            self.changed = self.clock()
        return console_lines(self.text)

    def last_line(self):
        lines = console_lines(self.text)
        return lines[-1][:160] if lines else "(nothing on the console)"

    def poll(self):
        """The failure reason, or None."""
        lines = self.read()
        reason = diagnose(lines)
        if reason:
            return reason
        silent = self.clock() - self.changed
        limit = stall_limit(lines)
        if limit is None or silent <= limit:
            return None
        if lines[-1].startswith("Booting from Hard Disk"):
            hint = "nothing ran"
            if self.disk and boot_code_empty(self.disk, self.fmt):
                hint += ": the MBR boot code (first 440 bytes) is all zeros, no boot loader"
            return "SeaBIOS jumped to the disk's MBR boot code and %s (no output for %d s)" % (hint, silent)
        return ("the firmware started the disk's boot loader and nothing was printed for %d s "
                "(%r)" % (silent, self.last_line()))


# ---- the disk --------------------------------------------------------------------------------

def disk_format(path):
    """"raw" or "qcow2" for a disk file we may boot; LabError naming the problem otherwise."""
    if not os.path.exists(path):
        raise LabError("disk %s does not exist" % path)
    if not os.path.isfile(path):
        raise LabError("disk %s is not a regular file (block devices and directories are refused)" % path)
    if not os.access(path, os.R_OK):
        raise LabError("disk %s is not readable" % path)
    if os.path.getsize(path) < 512:
        raise LabError("disk %s is too small to be a disk (%d bytes)" % (path, os.path.getsize(path)))
    proc = run(["qemu-img", "info", "--output=json", path], check=False)
    if proc.returncode != 0:
        err = (proc.stderr.strip().splitlines() or ["?"])[-1]
        raise LabError("cannot read disk %s: %s" % (path, err))
    info = json.loads(proc.stdout)
    fmt = info.get("format")
    if fmt not in FORMATS:
        raise LabError("disk %s is %s, not raw or qcow2 (qemu-img convert -O raw it first)" % (path, fmt))
    # a qcow2 header can name other host files; the guest must only ever see this one
    if info.get("backing-filename"):
        raise LabError("disk %s is a qcow2 overlay of %s: give the lab a self-contained disk"
                       % (path, info["backing-filename"]))
    if (info.get("format-specific", {}).get("data", {}) or {}).get("data-file"):
        raise LabError("disk %s keeps its data in an external file: not accepted" % path)
    if fmt == "qcow2":  # read-only check: a truncated qcow2 still passes `qemu-img info`
        proc = run(["qemu-img", "check", "-q", "-f", "qcow2", path], check=False)
        if proc.returncode in (1, 2):
            err = ((proc.stderr or proc.stdout).strip().splitlines() or ["?"])[0]
            raise LabError("disk %s is a damaged qcow2 (qemu-img check: %s)" % (path, err))
    return fmt


def boot_code_empty(disk, fmt):
    """True when the disk's MBR boot code (its first 440 bytes) is all zeros."""
    with tempfile.TemporaryDirectory(prefix="glab-mbr-") as tmp:
        out = os.path.join(tmp, "mbr")
        proc = run(["qemu-img", "dd", "-f", fmt, "-O", "raw", "bs=440", "count=1",
                    "if=" + disk, "of=" + out], check=False)
        if proc.returncode != 0:
            return False
        with open(out, "rb") as f:
            return not any(f.read(440))


def default_ssh_key(disk):
    """The lab's bootable images keep their key next to disk.raw (images/<variant>-<key>/)."""
    key = os.path.join(os.path.dirname(disk), "id_ed25519")
    return key if os.path.exists(key) else None


# ---- boot ------------------------------------------------------------------------------------

def up(disk, firmware="bios", name="disk", ssh_key=None, profile=profiles.DEFAULT_PROFILE,
       net="user", timeout=900):
    """Boot `disk` through `firmware`, wait for SSH; the guest's info (as `lab up`)."""
    guests._validate(profile, net)  # pylint: disable=protected-access
    if firmware not in FIRMWARE:
        raise LabError("unknown firmware %r (use bios or uefi)" % firmware)
    if firmware == "uefi":
        for f in (qemu.OVMF_CODE, qemu.OVMF_VARS):
            if not os.path.exists(f):
                raise LabError("UEFI firmware %s not found (Debian package ovmf)" % f)
    if not guests.NAME_RE.match(name or ""):
        raise LabError("bad guest name %r (lowercase letters, digits, '-', at most 24)" % name)
    disk = os.path.abspath(disk)
    fmt = disk_format(disk)
    key = os.path.abspath(ssh_key) if ssh_key else default_ssh_key(disk)
    if not key:
        raise LabError("no SSH key for %s: pass --ssh-key (the lab's bootable images keep theirs "
                       "next to disk.raw: `lab image --variant boot-bios --json` shows ssh_key)" % disk)
    if not os.path.isfile(key):
        raise LabError("SSH key %s does not exist" % key)
    require_tools("qemu-img")
    accel, reason = qemu.detect_accel()
    log("accel: %s (%s)" % (accel, reason))
    g = guests.fresh_guest(name)
    aptrepo.ensure()  # the services process serves it; the lab's images use it as apt source
    sb = qemu.south_bridge(profile)
    t0 = time.monotonic()
    try:
        g.create_dir()
        vars_copy = os.path.join(g.dir, "OVMF_VARS.fd") if firmware == "uefi" else None
        g.info.update({
            "name": g.name, "profile": profile, "net": net, "disk": disk, "disk_format": fmt,
            "firmware": firmware, "ovmf_vars": vars_copy, "image_variant": None,
            "image_key": None, "ssh_host": "127.0.0.1", "ssh_user": "root", "ssh_key": key,
            "accel": accel, "accel_reason": reason, "qemu_version": qemu.caps()["version"],
            "south_bridge": sb, "start_mode": "firmware", "snapshot_key": None,
            "state_dir": g.dir, "console_log": g.console, "overlay": g.overlay, "netns": None,
            "guest_ip": guests.GUEST_IP if net == "tap" else None, "restarts": 0,
            "gaps": qemu.gaps(profile, net, boot="firmware"),
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        })
        g.save()
        # the guest writes to this overlay only; the given disk is its read-only backing file
        run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", disk, "-F", fmt, g.overlay])
        if vars_copy:
            shutil.copyfile(qemu.OVMF_VARS, vars_copy)
        boot = {"firmware": firmware, "ovmf_vars": vars_copy}
        rec, port = guests._launch(g, profile, net, boot, loadvm=False)  # pylint: disable=protected-access
        log("%s: %s boot of %s (QEMU %d, SSH on 127.0.0.1:%d, console %s)"
            % (name, firmware, disk, rec["pid"], port, g.console))
        wait_boot(g, rec, key, port, timeout, ConsoleWatch(g.console, disk, fmt))
    except BootFailed as e:
        g.stop_all()
        g.info.update(failed=str(e), seconds_to_failure=round(time.monotonic() - t0, 1))
        g.save()
        raise LabError("guest %s did not boot from %s (%s): %s [after %.0f s; console: %s; "
                       "`lab down %s` removes it]"
                       % (name, disk, firmware, e, time.monotonic() - t0, g.console, name)) from None
    except BaseException:
        try:
            g.stop_all()
        finally:
            g.remove()
        raise
    g.info["seconds_to_ssh"] = round(time.monotonic() - t0, 1)
    g.save()
    return g.info


def wait_boot(g, rec, key, port, timeout, watch):
    """Wait for SSH while watching the console; BootFailed with the reason when it fails."""
    t0 = time.monotonic()
    schedule = [3, 3, 5, 5, 8]
    attempt = 0
    refused_since = None
    while True:
        if not process_alive(rec):
            raise BootFailed("QEMU exited; last console line: %r" % watch.last_line())
        reason = watch.poll()
        if reason:
            raise BootFailed(reason)
        ct = schedule[attempt] if attempt < len(schedule) else 10
        attempt += 1
        try:
            proc = g.ssh(key, port, "true", timeout=30, check=False, connect_timeout=ct)
        except subprocess.TimeoutExpired:
            proc = None
        now = time.monotonic()
        if proc is not None and proc.returncode == 0:
            return now - t0
        if proc is not None and "Permission denied" in proc.stderr:
            refused_since = refused_since or now
            if now - refused_since > 30:  # sshd is up: not a matter of waiting longer
                raise BootFailed("the guest booted and SSH answers on 127.0.0.1:%d, but refuses "
                                 "root with key %s" % (port, key))
        if now - t0 > timeout:
            raise BootFailed("SSH on 127.0.0.1:%d did not answer within %d s; last console line: %r"
                             % (port, timeout, watch.last_line()))
        time.sleep(1)


def image_firmware(disk):
    """The firmware a lab bootable image was built for (its image.json), or None."""
    meta = os.path.join(os.path.dirname(os.path.abspath(disk)), "image.json")
    try:
        return read_json(meta).get("firmware")
    except (OSError, ValueError):
        return None
