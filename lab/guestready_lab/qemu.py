"""QEMU: acceleration detection, capabilities, command line from a profile, QMP client."""

import functools
import json
import os
import re
import socket
import time

from . import profiles
from .util import LabError, require_tools, run

QEMU = os.environ.get("GUESTREADY_LAB_QEMU") or "qemu-system-x86_64"
# UEFI firmware for `lab up --disk ... --firmware uefi` (Debian package ovmf): the code is
# shared read-only, every guest gets its own copy of the variable store.
OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"


@functools.lru_cache(maxsize=None)
def detect_accel():
    """Return (accel, reason). KVM only when it can run a stock kernel; TCG otherwise.

    GUESTREADY_LAB_ACCEL=kvm|tcg overrides the detection."""
    forced = os.environ.get("GUESTREADY_LAB_ACCEL")
    if forced:
        if forced not in ("kvm", "tcg"):
            raise LabError("GUESTREADY_LAB_ACCEL must be kvm or tcg, not %r" % forced)
        return forced, "forced by GUESTREADY_LAB_ACCEL"
    if not os.path.exists("/dev/kvm"):
        return "tcg", "no /dev/kvm"
    if os.path.isdir("/sys/module/kvm_pvm"):
        return "tcg", "/dev/kvm is PVM nested virtualisation (kvm_pvm): stock kernels do not boot under it"
    if not (os.path.isdir("/sys/module/kvm_intel") or os.path.isdir("/sys/module/kvm_amd")):
        return "tcg", "/dev/kvm present but neither kvm_intel nor kvm_amd is loaded"
    try:
        fd = os.open("/dev/kvm", os.O_RDWR)
        os.close(fd)
    except OSError as e:
        return "tcg", "/dev/kvm not usable: %s" % e.strerror
    return "kvm", "/dev/kvm usable (%s)" % ("kvm_intel" if os.path.isdir("/sys/module/kvm_intel") else "kvm_amd")


@functools.lru_cache(maxsize=None)
def caps():
    """QEMU version and the machine options the lab cares about."""
    require_tools(QEMU, "qemu-img")
    version = run([QEMU, "--version"]).stdout.splitlines()[0]
    m = re.search(r"version (\d+\.\d+\.\d+)", version)
    machine_help = run([QEMU, "-M", "pc,help"], check=False).stdout or ""
    scsi_hd_help = run([QEMU, "-device", "scsi-hd,help"], check=False).stdout or ""
    return {
        "version": m.group(1) if m else version,
        "version_line": version,
        "south_bridge_option": "x-south-bridge" in machine_help,
        # QEMU 10's scsi-hd: INQUIRY version (5 = SPC-3 by default, 6 = SPC-4)
        "scsi_version_option": "scsi_version=" in scsi_hd_help,
    }


def south_bridge(profile):
    """What the guest of `profile` gets: "piix4-isa" when requested and supported, else "piix3"."""
    wanted = profiles.PROFILES[profile].get("south_bridge")
    if wanted and caps()["south_bridge_option"]:
        return wanted
    return "piix3"


def scsi_version(profile):
    """INQUIRY version the profile's scsi-hd answers: its "scsi_version" when this QEMU has the
    property, else QEMU's default "5" (SPC-3); None when the disk is not a scsi-hd."""
    d = profiles.PROFILES[profile]["disk"]
    if d["device"] != "scsi-hd":
        return None
    if d.get("scsi_version") and caps()["scsi_version_option"]:
        return d["scsi_version"]
    return "5"


def gaps(profile, net, metadata=False, boot="kernel"):
    """profiles.gaps_for with this QEMU's capabilities filled in (and the guest's metadata and
    boot: "kernel", or "firmware" for `lab up --disk`)."""
    return profiles.gaps_for(profile, net, south_bridge(profile), scsi_version(profile), metadata,
                             boot)


def _props(d):
    return "".join(",%s=%s" % (k, v) for k, v in d.items())


# User networking: slirp forwards (guestfwd) only addresses inside its own network, so the
# guest's network must hold the lab's services: 169.254.169.254 (the metadata server
# stand-in, as on Compute Engine) and 169.254.169.253 (the apt repository). Not a
# link-local /24: systemd-networkd drops the gateway of a 169.254.x.x lease (the guest would
# have no default route; systemd/systemd#40783), so 169.0.0.0/8: the guest is 169.0.0.15
# with gateway 169.0.0.2, and 169.254.169.25x are on-link (slirp answers their ARP).
# restrict=on: nothing of that range is ever reached outside the guest.
USER_NET = "169.0.0.0/8"
METADATA_IP = "169.254.169.254"
REPO_IP = "169.254.169.253"


def nic_mac(profile):
    """The guest NIC's MAC: the profile's, else QEMU's default for the first NIC."""
    return profiles.PROFILES[profile]["nic"]["props"].get("mac", "52:54:00:12:34:56")


def command(profile, image, paths, net, port=None, services=None):
    """QEMU argv for a guest.

    paths: dict with overlay, console, qmp, pidfile, name. net: "user" or "tap".
    image: {"kernel", "initrd"} for a direct kernel boot, or {"firmware": "bios"|"uefi"
    (, "ovmf_vars")} to let the firmware boot the disk's own boot loader (bootdisk.py).
    services (user networking): {"port": the services process's port on 127.0.0.1,
    "metadata": forward 169.254.169.254 too, "hostname": what slirp's DHCP hands out or None}.
    Everything that can differ between a snapshot and the guests restored from it (paths,
    the forwarded ports, the name) comes from `paths`/`port`/`services`, so the snapshot key
    can be computed from this same function with placeholders."""
    p = profiles.PROFILES[profile]
    accel, _ = detect_accel()
    machine = p["machine"]
    sb = south_bridge(profile)
    if p.get("south_bridge") and sb == p["south_bridge"]:
        machine += ",x-south-bridge=" + sb
    if image.get("firmware"):
        # no display: SeaBIOS then writes to ttyS0 too, as on Compute Engine's serial port 1
        machine += ",graphics=off"
    argv = [QEMU, "-name", paths["name"], "-no-user-config", "-nodefaults",
            "-display", "none", "-M", machine]
    if accel == "kvm":
        argv += ["-accel", "kvm", "-cpu", "host"]
    else:
        argv += ["-accel", "tcg,tb-size=64", "-cpu", "max"]
    argv += ["-smp", str(p["smp"]), "-m", str(p["memory_mib"]), "-rtc", "base=utc"]
    if image.get("firmware") == "uefi":
        argv += ["-drive", "if=pflash,format=raw,unit=0,readonly=on,file=" + OVMF_CODE,
                 "-drive", "if=pflash,format=raw,unit=1,file=" + image["ovmf_vars"]]
    elif not image.get("firmware"):
        argv += ["-kernel", image["kernel"], "-initrd", image["initrd"],
                 "-append", profiles.KERNEL_APPEND]
    for s in p["smbios"]:
        argv += ["-smbios", s]
    # serial ports: the first one is the console, logged to a file
    argv += ["-chardev", "file,id=console0,path=%s,append=on" % paths["console"]]
    for i, (iobase, irq) in enumerate(p["serial"]):
        chardev = ",chardev=console0" if i == 0 else ""
        argv += ["-device", "isa-serial,index=%d,iobase=0x%x,irq=%d%s" % (i, iobase, irq, chardev)]
    # disk
    d = p["disk"]
    argv += ["-drive", "if=none,id=disk0,file=%s,format=qcow2,discard=unmap" % paths["overlay"]]
    bus = ""
    if d.get("controller"):
        argv += ["-device", "%s,id=hba0%s" % (d["controller"]["device"], _props(d["controller"]["props"]))]
        bus = ",bus=hba0.0"
    disk_props = dict(d["props"])
    if scsi_version(profile) not in (None, "5"):
        disk_props["scsi_version"] = scsi_version(profile)
    # The firmware boots the disk: name it as the boot device. OVMF (edk2 2022.11) does not
    # even list a virtio-scsi disk at SCSI target 1 (the gce profile's 0:0:1:0) without it.
    if image.get("firmware"):
        disk_props["bootindex"] = "0"
    argv += ["-device", "%s,drive=disk0%s%s" % (d["device"], bus, _props(disk_props))]
    # network
    if net == "user":
        netdev = "user,id=net0,restrict=on,ipv6=off,net=%s,hostfwd=tcp:127.0.0.1:%s-:22" % (USER_NET, port)
        if services:
            # one socat per guest connection (cmd:), to the services process on loopback
            fwd = ",guestfwd=tcp:%s:80-cmd:socat - TCP:127.0.0.1:%s"
            netdev += fwd % (REPO_IP, services["port"])
            if services.get("metadata"):
                netdev += fwd % (METADATA_IP, services["port"])
            if services.get("hostname"):
                netdev += ",hostname=%s" % services["hostname"]
        argv += ["-netdev", netdev]
    elif net == "tap":
        argv += ["-netdev", "tap,id=net0,ifname=tap0,script=no,downscript=no,vnet_hdr=on"]
    else:
        raise LabError("unknown network backend %r (use user or tap)" % net)
    argv += ["-device", "%s,netdev=net0%s" % (p["nic"]["device"], _props(p["nic"]["props"]))]
    argv += ["-qmp", "unix:%s,server=on,wait=off" % paths["qmp"], "-pidfile", paths["pidfile"], "-daemonize"]
    return argv


# ---- QMP -----------------------------------------------------------------------------------

class QMP:
    """Minimal QMP client over the guest's unix socket."""

    def __init__(self, path, timeout=30):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        deadline = time.monotonic() + 10
        while True:
            try:
                self.sock.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if time.monotonic() > deadline:
                    raise LabError("QMP socket %s does not answer" % path) from None
                time.sleep(0.2)
        self.buf = b""
        self._read()  # greeting
        self.execute("qmp_capabilities")

    def _read(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise LabError("QMP connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def execute(self, cmd, **args):
        msg = {"execute": cmd}
        if args:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            resp = self._read()
            if "return" in resp:
                return resp["return"]
            if "error" in resp:
                raise LabError("QMP %s: %s" % (cmd, resp["error"].get("desc")))

    def hmp(self, command_line):
        return self.execute("human-monitor-command", **{"command-line": command_line})

    def close(self):
        self.sock.close()
