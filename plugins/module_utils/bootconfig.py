# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How an image finds its root filesystem when it boots: ``/etc/fstab``, the
boot loader's menu (GRUB 2's ``grub.cfg``, Boot Loader Specification entries)
and the kernel command line.  Parsers of text only: callers read the files
through the target-root layer.

fstab follows fstab(5) (whitespace-separated fields, ``\\040``-style octal
escapes, ``#`` comments); device specs are told apart as libmount does
(``UUID=``, ``LABEL=``, ``PARTUUID=``, ``PARTLABEL=``, ``/dev/disk/by-*/``
links, kernel device names).  grub.cfg is read for what ``grub-mkconfig``
writes: ``menuentry``/``submenu`` blocks, their ``linux``/``initrd`` lines,
``set default=`` and the ``saved_entry`` of ``grubenv``; BLS entries are
``/boot/loader/entries/*.conf`` (uapi-group.org, "Boot Loader
Specification").
"""

import re

from ansible_collections.guestready.gce.plugins.module_utils import cmdline, fstab
from ansible_collections.guestready.gce.plugins.module_utils.catalogue import BY_ID
from ansible_collections.guestready.gce.plugins.module_utils.fstab import unescape
from ansible_collections.guestready.gce.plugins.module_utils.digits import ascii_int
from ansible_collections.guestready.gce.plugins.module_utils.target import TargetError

# Kernel device names: not stable on Compute Engine, where the boot disk is
# /dev/sda behind virtio-scsi and /dev/nvme0n1 on NVMe machine series.
KERNEL_NAME = re.compile(
    r"^/dev/(?:(?P<disk>(?:[shv]|xv)d[a-z]+)(?P<num>[0-9]{1,9})?|(?P<nvme>nvme[0-9]+n[0-9]+|mmcblk[0-9]+)(?:p(?P<pnum>[0-9]{1,9}))?)$")
BY_LINK = re.compile(r"^/dev/disk/by-(uuid|label|partuuid|partlabel)/(.+)$")
# names that depend on the machine the image was built on (its disk's serial, its bus path)
BY_HARDWARE = re.compile(r"^/dev/disk/by-(id|path|diskseq)/(.+)$")
TAGS = ("UUID", "LABEL", "PARTUUID", "PARTLABEL")
STABLE_KINDS = ("uuid", "label", "partuuid", "partlabel")


def parse_fstab(text):
    """``[{spec, file, vfstype, options, passno, line, boot_goes_on}]`` of
    fstab's entries, the lines libmount reads as ``fstab.parse`` finds them,
    fields unescaped; ``boot_goes_on``: why boot does not wait for the entry's
    disk whatever its nofail (``fstab.boot_goes_on_without``), or None."""
    parsed, entries = fstab.parse(text), []
    mounts = fstab.other_mounts(parsed, BY_ID["GCE-FSTAB-NOFAIL"]["essential_mounts"])
    for entry in parsed:
        fields = [unescape(field) for field in entry.fields] + ["", "0", "0"][len(entry.fields) - 3:]
        entries.append({"spec": fields[0], "file": entry.file, "vfstype": fields[2],
                        "options": fields[3].split(",") if fields[3] else ["defaults"],
                        "passno": fields[5], "line": entry.line,
                        "boot_goes_on": fstab.boot_goes_on_without(entry, mounts)})
    return entries


def classify_spec(spec):
    """``(kind, value)`` of a device spec: kind is one of uuid, label,
    partuuid, partlabel (stable names), kernel-name (value: ``(disk,
    partition number)``), hardware-name (/dev/disk/by-id, by-path), mapper
    (device-mapper: LVM, LUKS), other."""
    for tag in TAGS:
        if spec.upper().startswith(tag + "="):
            value = spec[len(tag) + 1:]
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            return tag.lower(), value
    link = BY_LINK.match(spec)
    if link:
        value = re.sub(r"\\x([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), link.group(2))
        return link.group(1), value
    if BY_HARDWARE.match(spec):
        return "hardware-name", spec
    name = KERNEL_NAME.match(spec)
    if name:
        if name.group("disk"):
            return "kernel-name", (name.group("disk"), int(name.group("num")) if name.group("num") else None)
        return "kernel-name", (name.group("nvme"), int(name.group("pnum")) if name.group("pnum") else None)
    if spec.startswith("/dev/mapper/") or spec.startswith("/dev/dm-") or re.match(r"^/dev/[^/]+/[^/]+$", spec):
        return "mapper", spec
    return "other", spec


def is_block_entry(entry):
    """An fstab entry for a block device: a filesystem to mount or swap
    space (a swap file is a path, not a device)."""
    if entry["vfstype"] in fstab.PSEUDO:
        return False
    kind, dummy = classify_spec(entry["spec"])
    return kind != "other" or entry["spec"].startswith("/dev/")


def waits_for_device(entry):
    """Whether boot waits for the entry's device (systemd's fstab generator:
    ``nofail`` and ``noauto`` entries do not hold boot up, the last of
    nofail/fail and of noauto/auto winning, nor do those ``boot_goes_on``
    without: network mounts and automounts)."""
    return fstab.holds_boot(entry["options"]) and not entry.get("boot_goes_on")


def match_partition(spec, partitions):
    """The partition (a dict with ``filesystem`` facts) a stable spec names,
    or None.  UUIDs compare case-insensitively, labels exactly."""
    kind, value = classify_spec(spec)
    for part in partitions:
        fs = part.get("filesystem") or {}
        if kind == "uuid" and fs.get("uuid") and fs["uuid"].lower() == value.lower():
            return part
        if kind == "label" and fs.get("label") == value:
            return part
        if kind == "partuuid" and part.get("uuid") and part["uuid"].lower() == value.lower():
            return part
        if kind == "partlabel" and part.get("name") == value:
            return part
        if kind == "kernel-name" and value[1] is not None and part.get("number") == value[1]:
            return part
    return None


# --------------------------------------------------------------------------
# kernel command line
# --------------------------------------------------------------------------

def cmdline_root(text):
    """The value of the last ``root=`` on a kernel command line, or None
    (split as the kernel splits it: ``cmdline.split``)."""
    return cmdline.last_value(text, "root")


# --------------------------------------------------------------------------
# GRUB 2
# --------------------------------------------------------------------------

_WORDS = re.compile(r"""'[^']*'|"(?:[^"\\]|\\.)*"|\S+""")


def _words(line):
    return [w[1:-1] if len(w) >= 2 and w[0] == w[-1] and w[0] in "'\"" else w for w in _WORDS.findall(line)]


def parse_grub_cfg(text):
    """The menu of a grub.cfg: ``{"entries": [...], "default": value or None,
    "uses_blscfg": bool, "search_uuids": [...]}``; an entry is ``{title, id,
    kernel, initrd, args, submenu: [entries]}`` for a submenu."""
    root = {"entries": [], "default": None, "uses_blscfg": False, "search_uuids": []}
    stack = [root["entries"]]
    current = []  # the open menuentry dicts (nesting of submenus)
    depth_kinds = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        words = _words(line)
        head = words[0]
        if head in ("menuentry", "submenu") and line.endswith("{"):
            entry = {"title": words[1] if len(words) > 1 else "", "id": None, "kernel": None,
                     "initrd": [], "args": "", "submenu": [] if head == "submenu" else None}
            for index, word in enumerate(words):
                if word == "$menuentry_id_option" and index + 1 < len(words):
                    entry["id"] = words[index + 1]
            stack[-1].append(entry)
            current.append(entry)
            depth_kinds.append(head)
            if head == "submenu":
                stack.append(entry["submenu"])
            continue
        if line.endswith("{"):  # if/else/function blocks
            depth_kinds.append("block")
            continue
        if head == "}" or line == "}":
            if depth_kinds:
                kind = depth_kinds.pop()
                if kind in ("menuentry", "submenu"):
                    current.pop()
                    if kind == "submenu":
                        stack.pop()
            continue
        if head in ("fi", "done"):
            continue
        if head == "set" and len(words) > 1 and words[1].startswith("default="):
            value = words[1][len("default="):].strip("\"'")
            if "${" not in value and not current and root["default"] is None:
                root["default"] = value
            continue
        if head == "blscfg":
            root["uses_blscfg"] = True
            continue
        if head in ("search", "search.fs_uuid"):
            for index, word in enumerate(words):
                if word in ("--fs-uuid", "-u") and index + 2 < len(words):
                    root["search_uuids"].append(words[-1])
                    break
            if head == "search.fs_uuid" and len(words) > 1:
                root["search_uuids"].append(words[1])
            continue
        if current and current[-1]["submenu"] is None:
            entry = current[-1]
            if head in ("linux", "linux16", "linuxefi") and len(words) > 1:
                entry["kernel"] = words[1]
                entry["args"] = " ".join(line.split(None, 2)[2:]) if len(line.split(None, 2)) > 2 else ""
            elif head in ("initrd", "initrd16", "initrdefi") and len(words) > 1:
                entry["initrd"] = words[1:]
    return root


def default_entry(menu, saved_entry=None):
    """The entry GRUB boots without a keypress: ``set default`` (an index, a
    title or an id, ``N>M`` into a submenu, ``saved`` through grubenv),
    else the first entry; the first entry of a submenu it points to."""
    entries = menu["entries"]
    if not entries:
        return None
    wanted = menu.get("default")
    if wanted == "saved" or (wanted is None and saved_entry):
        wanted = saved_entry
    entry = _select(entries, wanted) if wanted not in (None, "") else None
    entry = entry or entries[0]
    guard = 0
    while entry and entry["submenu"] is not None and guard < 8:
        entry = entry["submenu"][0] if entry["submenu"] else None
        guard += 1
    return entry


def _select(entries, wanted):
    path = str(wanted).split(">")
    level, entry = entries, None
    for part in path:
        entry = None
        index = ascii_int(part)
        if index is not None and index < len(level):
            entry = level[index]
        else:
            for candidate in level:
                if part in (candidate["title"], candidate["id"]):
                    entry = candidate
                    break
        if entry is None:
            return None
        level = entry["submenu"] or []
    return entry


GRUBENV_SIGNATURE = "# GRUB Environment Block\n"


def parse_grubenv(text):
    """``{key: value}`` of a grubenv block, as GRUB's load_env reads it
    (grub-core/lib/envblk.c): lines end at ``\n`` only, ``#`` lines are
    padding, and a block without its signature is refused (grub_envblk_open):
    none of its variables exist then."""
    values = {}
    if not (text or "").startswith(GRUBENV_SIGNATURE):
        return values
    for line in text.split("\n"):
        if line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        values[key] = value
    return values


def parse_bls_entry(text):
    """A Boot Loader Specification entry: ``{title, version, kernel, initrd,
    args}`` (``options`` lines are the kernel command line)."""
    entry = {"title": None, "version": None, "kernel": None, "initrd": [], "args": "", "submenu": None,
             "id": None}
    options = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, dummy, value = line.partition(" ")
        value = value.strip()
        if key == "title":
            entry["title"] = value
        elif key == "version":
            entry["version"] = value
        elif key == "linux":
            entry["kernel"] = value
        elif key == "initrd":
            entry["initrd"].extend(value.split())
        elif key == "options":
            options.append(value)
    entry["args"] = " ".join(options)
    return entry


def expand_grub_vars(text, env):
    """Replace ``$name``/``${name}`` from ``env`` (grubenv's ``kernelopts``,
    as Fedora's BLS entries use)."""
    return re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda m: env.get(m.group(1), m.group(0)), text)


def release_of_kernel(path):
    """``/boot/vmlinuz-6.1.0-28-cloud-amd64`` -> ``6.1.0-28-cloud-amd64``."""
    name = (path or "").rsplit("/", 1)[-1]
    for prefix in ("vmlinuz-", "vmlinux-", "kernel-", "bzImage-", "Image-"):
        if name.startswith(prefix):
            return name[len(prefix):]
    return None


# the boot menu of a tree, read through the target-root layer (disk images and image trees)
GRUB_CONFIGS = ("/boot/grub/grub.cfg", "/boot/grub2/grub.cfg")
GRUBENVS = ("/boot/grub/grubenv", "/boot/grub2/grubenv")


def _read(target, path, limit=4 * 1024 * 1024):
    try:
        return target.read_optional(path, limit=limit)
    except TargetError:
        return None


def bls_entries(target):
    """The parsed entries of /boot/loader/entries (``parse_bls_entry``, ``id``: the name without .conf)."""
    entries = []
    try:
        names = target.listdir("/boot/loader/entries")
    except TargetError:
        return entries
    for name in names:
        if name.endswith(".conf"):
            text = _read(target, "/boot/loader/entries/" + name, 65536)
            if text:
                entry = parse_bls_entry(text)
                entry["id"] = name[:-len(".conf")]
                entries.append(entry)
    return entries


def gather_menu(target, esp):
    """The boot menu and its default entry: grub.cfg in /boot, else the
    ESP's when it is the whole menu (RHEL 8 on UEFI) (its BLS entries when it
    uses blscfg), else BLS entries on the ESP (systemd-boot); grubenv from
    /boot, else the ESP's."""
    env = {}
    for text in [_read(target, path, 65536) for path in GRUBENVS] + [(esp or {}).get("grubenv")]:
        if text:
            env = parse_grubenv(text)
            break
    configs = [(path, _read(target, path)) for path in GRUB_CONFIGS]
    # the ESP's grub.cfg when it is the menu itself, not a stub that loads /boot's (configfile)
    configs += [(path, text) for path, text in (esp or {}).get("grub_configs", [])
                if not re.search(r"^\s*configfile\s", text, re.M)]
    for path, text in configs:
        if text is None:
            continue
        menu = parse_grub_cfg(text)
        if menu["uses_blscfg"]:
            entries = sorted(bls_entries(target), key=lambda e: version_key(e.get("version") or e["id"]),
                             reverse=True)
            for entry in entries:
                entry["args"] = expand_grub_vars(entry["args"], env)
            chosen = next((e for e in entries if e["id"] == env.get("saved_entry")), entries[0] if entries else None)
            return {"config": path, "kind": "grub+bls",
                    "default": chosen, "error": None if chosen else "grub.cfg uses blscfg but /boot/loader/entries is empty"}
        chosen = default_entry(menu, env.get("saved_entry"))
        return {"config": path, "kind": "grub", "default": chosen,
                "error": None if chosen else "%s has no menuentry" % path}
    if esp and esp.get("bls"):
        entries = sorted(esp["bls"], key=lambda e: version_key(e.get("version") or ""), reverse=True)
        return {"config": "ESP /loader/entries", "kind": "bls", "default": entries[0], "error": None}
    return {"config": None, "kind": None, "default": None,
            "error": "no boot loader configuration (%s, the ESP's EFI/*/grub.cfg, /boot/loader/entries)"
                     % ", ".join(GRUB_CONFIGS)}


# rpmvercmp: '~' sorts before the end of a version, '^' after it but before anything else
_VERSION_END = (-3, "")
_VERSION_RANKS = {"~": (-4, ""), "^": (-2, "")}


def version_key(text):
    """Sort key of a version as rpm's rpmvercmp orders them (blscfg sorts its entries
    so), newest last: runs of digits and of ASCII letters, every other character a
    separator; numbers compare as numbers and above words, and a version that goes on
    is newer.  A run of more than 18 digits counts as a word (a hostile name)."""
    parts = []
    for run in re.findall(r"[0-9]+|[A-Za-z]+|[~^]", text or ""):
        number = ascii_int(run)
        parts.append((number, "") if number is not None else _VERSION_RANKS.get(run, (-1, run)))
    return parts + [_VERSION_END]
