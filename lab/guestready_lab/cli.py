"""The `lab` command line. Errors are one line on stderr, never a traceback."""

import argparse
import json
import os
import shlex
import signal
import sys

from . import bootdisk, guests, image, inventory, metadata, profiles, qemu
from .util import LabError, log, read_json, write_json

USAGE = """\
lab image [--variant cloud|generic|gce-agent|boot-bios|boot-uefi] [--rebuild] [--json]
       lab up [--profile P] [--net user|tap] [--count N] [--name NAME] [--cold]
              [--user root|lab] [--metadata|--no-metadata] [--inventory PATH]
              [--timeout S] [--json]
       lab up --disk PATH [--firmware bios|uefi] [--ssh-key KEY] [--profile P] [--net user|tap]
              [--name NAME] [--inventory PATH] [--timeout S] [--json]
       lab metadata NAME [--set PATH=VALUE]... [--unset PATH]... [--add-ssh-key USER=PUBFILE]
              [--json]
       lab down NAME... | --all
       lab restart NAME [--kill] [--timeout S]
       lab status [--json]
       lab ssh [--user root|lab] NAME [-- CMD...]
       lab inventory [--output PATH] [--user root|lab]
       lab profiles [--json]
       lab gaps [--profile P] [--net user|tap] [--metadata] [--json]
       lab prune"""


class Parser(argparse.ArgumentParser):
    def error(self, message):
        print("%s: error: %s (see %s --help)" % (self.prog, message, self.prog), file=sys.stderr)
        sys.exit(2)


def _guest_line(g):
    return ("%(name)s: profile=%(profile)s net=%(net)s ssh=%(ssh_host)s:%(ssh_port)s "
            "key=%(ssh_key)s qemu_pid=%(qemu_pid)s accel=%(accel)s start=%(start_mode)s "
            "ssh_after=%(seconds_to_ssh)ss" % g)


def _running_guests():
    return [g for g in guests.status() if g["running"] and g.get("ssh_port")]


def _write_inventory(extra=None):
    path = inventory.write(_running_guests())
    if extra:
        inventory.write(_running_guests(), extra)
    return path


def cmd_image(a):
    info = image.ensure_image(a.variant, rebuild=a.rebuild)
    if a.json:
        print(json.dumps(info, indent=2, sort_keys=True))
    else:
        print(info["disk"])


def cmd_up(a):
    if a.disk:  # the firmware boots the disk's own boot loader (bootdisk.py)
        if a.count != 1 or a.cold:
            raise LabError("--disk boots one guest, cold: --count and --cold do not apply")
        if a.user != "root" or a.metadata:
            raise LabError("--disk logs in as root with the disk's key, without the metadata "
                           "server: --user and --metadata do not apply")
        firmware = a.firmware or bootdisk.image_firmware(a.disk) or "bios"
        started = [bootdisk.up(a.disk, firmware, name=a.name or "disk", ssh_key=a.ssh_key,
                               profile=a.profile, net=guests.resolve_net(a.net), timeout=a.timeout)]
    elif a.firmware or a.ssh_key:
        raise LabError("--firmware and --ssh-key go with --disk")
    else:
        started = guests.up(a.profile, net=a.net, count=a.count, name=a.name, cold=a.cold,
                            timeout=a.timeout, user=a.user, with_metadata=a.metadata)
    path = _write_inventory(a.inventory)
    if a.json:
        print(json.dumps(started, indent=2, sort_keys=True))
    else:
        for g in started:
            print(_guest_line(g))
        print("inventory: %s" % (a.inventory or path))
    for g in started:
        if g["gaps"]:
            log("%s: %d known gap(s) against Compute Engine (lab gaps --profile %s --net %s)"
                % (g["name"], len(g["gaps"]), g["profile"], g["net"]))


def cmd_down(a):
    if a.all and a.names:
        raise LabError("use either guest names or --all")
    done, unknown = guests.down(a.names, all_guests=a.all)
    for name, stopped in done:
        print("%s: stopped %s" % (name, ", ".join(stopped) if stopped else "nothing (not running)"))
    _write_inventory()
    if unknown:  # the others were stopped all the same
        raise LabError("unknown guest%s %s (running: %s)" % (
            "s" if len(unknown) > 1 else "", ", ".join(repr(n) for n in unknown),
            ", ".join(guests.all_names()) or "none"))


def cmd_metadata(a):
    g = guests.load(a.name)
    path = (g.info.get("services") or {}).get("metadata_file")
    if not path:
        raise LabError("guest %s has no metadata server (lab up --metadata)" % a.name)
    content = read_json(path)
    try:
        for item in a.set or []:
            key, sep, value = item.partition("=")
            if not sep:
                raise ValueError("--set wants PATH=VALUE, not %r" % item)
            metadata.set_value(content, key, value)
        for key in a.unset or []:
            metadata.set_value(content, key, None)
        for item in a.add_ssh_key or []:
            user, sep, pub = item.partition("=")
            if not sep or not user:
                raise ValueError("--add-ssh-key wants USER=PUBFILE, not %r" % item)
            with open(pub) as f:
                key = f.read().strip()
            attrs = content["instance"].setdefault("attributes", {})
            lines = [l for l in attrs.get("ssh-keys", "").splitlines() if l.strip()]
            attrs["ssh-keys"] = "\n".join(lines + ["%s:%s" % (user, key)])
    except (ValueError, OSError) as e:
        raise LabError(str(e)) from None
    if a.set or a.unset or a.add_ssh_key:
        write_json(path, content)  # atomic: the server sees the old or the new file, never half
    if a.json:
        print(json.dumps(content, indent=2, sort_keys=True))
    else:
        print(path)


def cmd_restart(a):
    g = guests.restart(a.name, kill=a.kill, timeout=a.timeout)
    _write_inventory()
    print(_guest_line(g))


def cmd_status(a):
    st = guests.status()
    if a.json:
        print(json.dumps(st, indent=2, sort_keys=True))
        return
    if not st:
        print("no guests (state dir: %s)" % guests.state_dir())
        return
    fmt = "%-16s %-13s %-5s %-8s %-16s %-8s %-5s %s"
    print(fmt % ("NAME", "PROFILE", "NET", "STATE", "SSH", "PID", "ACCEL", "START"))
    for g in st:
        print(fmt % (g["name"], g.get("profile", "?"), g.get("net", "?"),
                     "running" if g["running"] else "stopped",
                     "%s:%s" % (g.get("ssh_host", "?"), g.get("ssh_port", "?")),
                     g.get("qemu_pid", "?"), g.get("accel", "?"), g.get("start_mode", "?")))


def cmd_ssh(a):
    g = guests.load(a.name)
    if not g.running():
        raise LabError("guest %s is not running" % a.name)
    cmd = list(a.cmd)
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    guests.check_user(a.user)
    argv = guests.ssh_argv(g.info["ssh_key"], g.info["ssh_port"], user=a.user)
    if not cmd and sys.stdin.isatty():
        argv.insert(1, "-t")
    argv += [shlex.join(cmd)] if len(cmd) > 1 else cmd
    os.execvp(argv[0], argv)


def cmd_inventory(a):
    if a.user:
        guests.check_user(a.user)
    path = inventory.write(_running_guests(), a.output, a.user)
    print(path)


def cmd_profiles(a):
    if a.json:
        print(json.dumps(profiles.PROFILES, indent=2, sort_keys=True))
        return
    for name, p in sorted(profiles.PROFILES.items()):
        print("%-13s image=%-8s %s%s" % (name, p["image"], p["description"],
                                          "  (default)" if name == profiles.DEFAULT_PROFILE else ""))


def cmd_gaps(a):
    if a.profile not in profiles.PROFILES:
        raise LabError("unknown profile %r (known: %s)" % (a.profile, ", ".join(sorted(profiles.PROFILES))))
    sb = qemu.south_bridge(a.profile)
    gaps = qemu.gaps(a.profile, a.net, a.metadata)
    if a.json:
        print(json.dumps({"profile": a.profile, "net": a.net, "south_bridge": sb,
                          "scsi_version": qemu.scsi_version(a.profile),
                          "qemu": qemu.caps()["version"], "gaps": gaps,
                          "deviations": profiles.PROFILES[a.profile]["deviations"]}, indent=2))
        return
    print("profile %s, net %s, QEMU %s, south bridge %s, scsi_version %s:"
          % (a.profile, a.net, qemu.caps()["version"], sb, qemu.scsi_version(a.profile)))
    for gap in gaps:
        print("  [%s] %s (Compute Engine: %s)" % (gap["id"], gap["what"], gap["gce"]))
    for rid, why in sorted(profiles.PROFILES[a.profile]["deviations"].items()):
        print("  deliberate deviation [%s] %s" % (rid, why))


def cmd_prune(a):
    for path in image.prune():
        print("removed %s" % path)


def parser():
    p = Parser(prog="lab", usage=USAGE,
               description="guestready lab: Compute-Engine-like QEMU guests for tests and demos.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser, prog="lab")
    sub.required = True

    s = sub.add_parser("image", help="build or restore the guest image, print its path")
    s.add_argument("--variant", default="cloud",
                   help="cloud (default), generic, gce-agent, or the bootable boot-bios / boot-uefi")
    s.add_argument("--rebuild", action="store_true", help="build even if cached")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_image)

    s = sub.add_parser("up", help="start guests and wait for SSH")
    s.add_argument("--profile", default=profiles.DEFAULT_PROFILE)
    s.add_argument("--net", default="user",
                   help="user (default), tap, or auto (tap when root with ip, dnsmasq and socat, else user)")
    s.add_argument("--count", type=int, default=1)
    s.add_argument("--name")
    s.add_argument("--cold", action="store_true", help="boot from scratch, not from the snapshot")
    s.add_argument("--user", default="root",
                   help="user the inventory logs in as: root (default) or lab (sudo, ansible_become)")
    s.add_argument("--metadata", action="store_true", default=None,
                   help="start the metadata server stand-in (169.254.169.254) for the guests")
    s.add_argument("--no-metadata", dest="metadata", action="store_false",
                   help="no metadata server, even if the profile has one")
    s.add_argument("--inventory", metavar="PATH", help="also write the inventory here")
    s.add_argument("--timeout", type=int, default=900, help="seconds to wait for SSH")
    s.add_argument("--disk", metavar="PATH",
                   help="boot this raw/qcow2 disk with its own boot loader (never written)")
    s.add_argument("--firmware", choices=bootdisk.FIRMWARE,
                   help="with --disk: bios (SeaBIOS) or uefi (OVMF); default: what a lab image "
                        "was built for, else bios")
    s.add_argument("--ssh-key", metavar="KEY",
                   help="with --disk: private key for root (default: id_ed25519 next to the disk)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_up)

    s = sub.add_parser("down", help="stop guests by PID and delete their state")
    s.add_argument("names", nargs="*", metavar="NAME")
    s.add_argument("--all", action="store_true")
    s.set_defaults(func=cmd_down)

    s = sub.add_parser("metadata", help="show or change what a guest's metadata server answers")
    s.add_argument("name", metavar="NAME")
    s.add_argument("--set", action="append", metavar="PATH=VALUE",
                   help="e.g. instance/attributes/enable-oslogin=false (repeatable)")
    s.add_argument("--unset", action="append", metavar="PATH")
    s.add_argument("--add-ssh-key", action="append", metavar="USER=PUBFILE",
                   help="append USER:<key> to instance/attributes/ssh-keys")
    s.add_argument("--json", action="store_true", help="print the content (else its file)")
    s.set_defaults(func=cmd_metadata)

    s = sub.add_parser("restart", help="stop a guest and cold-boot the same disk")
    s.add_argument("name", metavar="NAME")
    s.add_argument("--kill", action="store_true", help="SIGKILL QEMU (crash) instead of a clean stop")
    s.add_argument("--timeout", type=int, default=900)
    s.set_defaults(func=cmd_restart)

    s = sub.add_parser("status", help="list guests")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_status)

    s = sub.add_parser("ssh", help="ssh into a guest")
    s.add_argument("--user", default="root", help="root (default) or lab")
    s.add_argument("name", metavar="NAME")
    s.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD")
    s.set_defaults(func=cmd_ssh)

    s = sub.add_parser("inventory", help="write the Ansible inventory of running guests")
    s.add_argument("--output", metavar="PATH")
    s.add_argument("--user", help="log in as this user on every guest (default: each guest's "
                                  "`lab up --user`); lab becomes root with sudo")
    s.set_defaults(func=cmd_inventory)

    s = sub.add_parser("profiles", help="list hardware profiles")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_profiles)

    s = sub.add_parser("gaps", help="known deviations from Compute Engine for a profile")
    s.add_argument("--profile", default=profiles.DEFAULT_PROFILE)
    s.add_argument("--net", default="user", choices=["user", "tap"])
    s.add_argument("--metadata", action="store_true", help="a guest with the metadata server")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_gaps)

    s = sub.add_parser("prune", help="delete cached images/snapshots that are no longer current")
    s.set_defaults(func=cmd_prune)
    return p


def _sigterm(signum, frame):
    raise KeyboardInterrupt


def main(argv=None):
    a = parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _sigterm)  # clean up guests being started, as on Ctrl-C
    try:
        a.func(a)
    except LabError as e:
        print("lab %s: error: %s" % (a.command, e), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("lab %s: interrupted" % a.command, file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1
    return 0
