"""Boot disks as Compute Engine would (`lab up --disk`): firmware -> the disk's own GRUB -> SSH.

Three real boots, run together (cold TCG boots through GRUB take about a minute and a half
each on an idle 2-core machine): the bootable BIOS image through SeaBIOS, the UEFI image
(converted to qcow2 on the way) through OVMF, and a copy of the BIOS image whose boot code is
zeroed, which must fail with the reason named. Nothing may be left running.
"""

import hashlib
import json
import os
import subprocess

import pytest

from lab_helpers import CMD_TIMEOUT, LAB

# `make test-disk-full` (CI time); `make test` boots a lab disk in tests/disk and diagnoses
# these consoles from recorded logs (test_bootdisk.py)
pytestmark = pytest.mark.full_boot

BOOT_TIMEOUT = 1200
# one SSH round trip reads what the tests look at
FACTS = ("cat /proc/cmdline; echo ==; findmnt -rno SOURCE,FSTYPE /; echo ==; "
         "findmnt -rno FSTYPE /boot/efi || true; echo ==; "
         "test -d /sys/firmware/efi && echo efi || echo no-efi; echo ==; "
         "ls /dev/disk/by-id | grep -c Google_PersistentDisk || true")


def image(lab, variant):
    return json.loads(lab.run("image", "--variant", variant, "--json").stdout)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@pytest.fixture(scope="module")
def boots(lab, tmp_path_factory):
    """The three boots: {name: (returncode, info or stderr)}. The failing one first, alone
    (its vCPU spins on the zeroed boot code), then the two good ones together."""
    bios, uefi = image(lab, "boot-bios"), image(lab, "boot-uefi")
    tmp = tmp_path_factory.mktemp("disks")
    # the UEFI disk as qcow2: `--disk` takes both formats
    uefi_qcow2 = str(tmp / "uefi.qcow2")
    subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", uefi["disk"], uefi_qcow2], check=True)
    # no boot loader: the first 440 bytes (MBR boot code) zeroed, partition table kept
    broken = str(tmp / "disk.raw")
    subprocess.run(["cp", "--sparse=always", bios["disk"], broken], check=True)
    with open(broken, "r+b") as f:
        f.write(bytes(440))
    before = {"bios": os.stat(bios["disk"]), "uefi": sha256(uefi_qcow2)}
    specs = {
        "bios": ["--disk", bios["disk"], "--timeout", str(BOOT_TIMEOUT)],
        "uefi": ["--disk", uefi_qcow2, "--firmware", "uefi", "--ssh-key", uefi["ssh_key"],
                 "--timeout", str(BOOT_TIMEOUT)],
        # bounded: the console diagnosis must name the reason well before this timeout
        "nobl": ["--disk", broken, "--ssh-key", bios["ssh_key"], "--timeout", "600"],
    }
    procs = {}
    out = {}

    def start(*names):
        for name in names:
            procs[name] = subprocess.Popen(
                [LAB, "up", "--json", "--name", name] + specs[name],
                env=lab.env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for name in names:
            stdout, stderr = procs[name].communicate(timeout=CMD_TIMEOUT)
            out[name] = (procs[name].returncode,
                         json.loads(stdout)[0] if procs[name].returncode == 0 else stderr)
        lab.collect()

    try:
        start("nobl")
        start("bios", "uefi")
        yield {"out": out, "bios": bios, "uefi": uefi, "uefi_qcow2": uefi_qcow2, "before": before,
               "broken": broken}
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.terminate()  # the CLI stops what it started
                p.communicate(timeout=120)
        lab.collect()
        present = {g["name"] for g in lab.status()}
        names = [n for n in specs if n in present]
        if names:
            lab.down(*names)


def facts(lab, name):
    parts = [p.strip() for p in lab.ssh(name, FACTS).split("==")]
    return dict(zip(["cmdline", "root", "esp", "firmware", "google_disk"], parts))


def console(info):
    with open(info["console_log"], encoding="utf-8", errors="replace") as f:
        return f.read()


def test_bios_image_boots_through_seabios_and_grub(lab, boots):
    rc, info = boots["out"]["bios"]
    assert rc == 0, info
    assert info["firmware"] == "bios" and info["start_mode"] == "firmware"
    assert info["ssh_key"] == boots["bios"]["ssh_key"]  # found next to the image's disk.raw
    f = facts(lab, "bios")
    uuid = boots["bios"]["root_uuid"]
    # BOOT_IMAGE is set by GRUB: a -kernel boot has none
    assert f["cmdline"].startswith("BOOT_IMAGE=/boot/vmlinuz-"), f
    assert "root=UUID=%s" % uuid in f["cmdline"].split() and "console=ttyS0,38400n8" in f["cmdline"].split()
    assert f["cmdline"].split()[1:] == boots["bios"]["grub_cmdline"].split()
    assert f["root"] == "/dev/sda1 ext4" and f["firmware"] == "no-efi" and f["google_disk"] != "0"
    log = console(info)
    assert log.index("SeaBIOS (version") < log.index("Booting from Hard Disk") < log.index("GRUB loading")
    # the given disk was never written (the guest ran on an overlay)
    st = os.stat(boots["bios"]["disk"])
    assert (st.st_size, st.st_mtime_ns) == (boots["before"]["bios"].st_size, boots["before"]["bios"].st_mtime_ns)


def test_uefi_image_boots_under_ovmf(lab, boots):
    rc, info = boots["out"]["uefi"]
    assert rc == 0, info
    assert info["firmware"] == "uefi" and info["disk_format"] == "qcow2"
    assert os.path.exists(info["ovmf_vars"]) and os.path.dirname(info["ovmf_vars"]) == info["state_dir"]
    f = facts(lab, "uefi")
    assert f["firmware"] == "efi", f
    assert f["cmdline"].startswith("BOOT_IMAGE=/boot/vmlinuz-")
    assert "root=UUID=%s" % boots["uefi"]["root_uuid"] in f["cmdline"].split()
    assert f["root"] == "/dev/sda2 ext4" and f["esp"] == "vfat"  # /boot/efi mounted from fstab
    assert "BdsDxe: starting Boot" in console(info)
    assert sha256(boots["uefi_qcow2"]) == boots["before"]["uefi"]


def test_disk_without_boot_loader_fails_with_the_reason(lab, boots):
    rc, err = boots["out"]["nobl"]
    assert rc == 1 and "Traceback" not in err, err
    errors = [x for x in err.splitlines() if "error" in x]  # the others are `lab: ` progress lines
    assert len(errors) == 1, err
    assert errors[0].startswith("lab up: error: guest nobl did not boot from %s (bios): " % boots["broken"])
    assert "MBR boot code (first 440 bytes) is all zeros, no boot loader" in errors[0]
    # stopped by PID, state kept for the console log until `lab down`
    g = next(g for g in lab.status() if g["name"] == "nobl")
    assert not g["running"] and g["failed"] and not any(p["alive"] for p in g["processes"])
    assert "Booting from Hard Disk" in console(g)
    lab.down("nobl")
    assert "nobl" not in {g["name"] for g in lab.status()}


def test_restart_boots_the_disk_again(lab, boots):
    """A restarted --disk guest goes through the firmware again (no -kernel, same overlay)."""
    rc, info = boots["out"]["bios"]
    assert rc == 0, info
    before = lab.ssh("bios", "cat /proc/sys/kernel/random/boot_id").strip()
    lab.ssh("bios", "touch /root/kept-across-restart && sync")
    lab.restart("bios", "--kill", "--timeout", str(BOOT_TIMEOUT))
    after = lab.ssh("bios", "cat /proc/sys/kernel/random/boot_id; ls /root/kept-across-restart").split()
    assert after[0] != before and after[1] == "/root/kept-across-restart"
    assert console(info).count("GRUB loading") == 2
    g = next(g for g in lab.status() if g["name"] == "bios")
    assert g["start_mode"] == "cold" and g["restarts"] == 1 and g["firmware"] == "bios"
