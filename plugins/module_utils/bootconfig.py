# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How an image finds its root filesystem when it boots: ``/etc/fstab``, the
boot loader's menu (GRUB 2's ``grub.cfg``, Boot Loader Specification entries)
and the kernel command line.  Parsers of text only: callers read the files
through the target-root layer.

fstab is read as systemd's fstab generator reads it at boot (``fstab.parse``:
glibc's getmntent(), its four escapes, ``#`` comments); device specs are told
apart by their form (``UUID=``, ``LABEL=``, ``PARTUUID=``, ``PARTLABEL=``,
``/dev/disk/by-*/`` links, kernel device names).  grub.cfg is read for what ``grub-mkconfig``
writes: ``menuentry``/``submenu`` blocks, their ``linux``/``initrd`` lines,
``set default=`` and the ``saved_entry`` of ``grubenv``; BLS entries are
``/boot/loader/entries/*.conf`` (uapi-group.org, "Boot Loader
Specification"), and systemd-boot's type #2 entries, the unified kernel
images in ``$BOOT/EFI/Linux`` (their PE sections: ``uki.py``).
"""

import functools
import re

from ansible_collections.guestready.gce.plugins.module_utils import bootdisk, cmdline, fstab, uki
from ansible_collections.guestready.gce.plugins.module_utils.catalogue import BY_ID
from ansible_collections.guestready.gce.plugins.module_utils.configfiles import ascii_lower
from ansible_collections.guestready.gce.plugins.module_utils.digits import ascii_int
from ansible_collections.guestready.gce.plugins.module_utils.target import TargetError, TooLarge, Unreadable

# Kernel device names: not stable on Compute Engine, where the boot disk is
# /dev/sda behind virtio-scsi and /dev/nvme0n1 on NVMe machine series.
KERNEL_NAME = re.compile(
    r"^/dev/(?:(?P<disk>(?:[shv]|xv)d[a-z]+)(?P<num>[0-9]{1,9})?|(?P<nvme>nvme[0-9]+n[0-9]+|mmcblk[0-9]+)(?:p(?P<pnum>[0-9]{1,9}))?)$")
BY_LINK = re.compile(r"^/dev/disk/by-(uuid|label|partuuid|partlabel)/(.+)$")
# names that depend on the machine the image was built on (its disk's serial, its bus path)
BY_HARDWARE = re.compile(r"^/dev/disk/by-(id|path|diskseq)/(.+)$")
STABLE_KINDS = ("uuid", "label", "partuuid", "partlabel")


def parse_fstab(text):
    """``[{spec, file, vfstype, options, passno, line, boot_goes_on}]`` of
    fstab's entries as systemd's fstab generator reads them (``fstab.parse``,
    fields decoded); ``boot_goes_on``: why boot does not wait for the entry's
    disk whatever its nofail (``fstab.boot_goes_on_without``), or None."""
    parsed = fstab.parse(text)
    mounts = fstab.other_mounts(parsed, BY_ID["GCE-FSTAB-NOFAIL"]["essential_mounts"])
    return [{"spec": entry.spec, "file": entry.file, "vfstype": entry.vfstype, "options": entry.options,
             "passno": str(entry.passno), "line": entry.line, "boot_goes_on": fstab.boot_goes_on_without(entry, mounts)}
            for entry in parsed]


def classify_spec(spec):
    """``(kind, value)`` of a device spec: kind is one of uuid, label,
    partuuid, partlabel (stable names), kernel-name (value: ``(disk,
    partition number)``), hardware-name (/dev/disk/by-id, by-path), mapper
    (device-mapper: LVM, LUKS), not-a-tag (``uuid=...``: systemd's fstab
    generator, mount, initramfs-tools, dracut and the kernel match tags in
    upper case only, and take any other for a file name), other."""
    tag = bootdisk.tag_value(spec)
    if tag:
        return tag[0].lower(), tag[1]
    name, equals, dummy = spec.partition("=")
    if equals and name.upper() in bootdisk.TAGS:
        return "not-a-tag", spec
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
    """The value of the last ``root=`` on a kernel command line, or None:
    split as the kernel splits it (``cmdline.args``), double quotes left in
    the value dropped: the initramfs finds the root itself, and dracut's
    systemd unquotes the command line's words (``root=LABEL="a b"``)."""
    value = cmdline.last_value(text, "root")
    return None if value is None else value.replace('"', "")


# --------------------------------------------------------------------------
# GRUB 2
# --------------------------------------------------------------------------

_WORDS = re.compile(r"""'[^']*'|"(?:[^"\\]|\\.)*"|\S+""")


LINUX_COMMANDS = ("linux", "linux16", "linuxefi")
# GRUB's script lexer (grub-core/script/yylex.l), one token at a time: blanks (a grub.cfg line
# has no newline; one in the GRUB defaults reaches the kernel through $kernelopts, Red Hat's
# grubenv, whose expansion GRUB splits at blanks and newlines), a character that ends the
# command, a quoted part (unterminated: to the end), an escape, a variable reference (kept as
# written: the callers expand $kernelopts and grubenv's variables), a run of plain characters
_GRUB_TOKEN = re.compile(r"""(?P<blank>[ \t\n]+)|(?P<end>[;|&<>{}])|'(?P<single>[^']*)'?"""
                         r"""|"(?P<double>(?:[^"\\]|\\.)*)"?|\\(?P<escaped>.?)"""
                         r"""|(?P<plain>\$(?:\{[^}]*\}|[A-Za-z_][A-Za-z0-9_]*|[0-9]+|[?#*@])|[^ \t\n;|&<>{}'"\\$]+|\$)""",
                         re.S)
_GRUB_DQ_ESCAPE = re.compile(r'\\(["$\\])')


def grub_words(text):
    """The arguments of a GRUB command, ``text`` being what follows its
    name, as GRUB's lexer makes them: words at spaces, tabs and newlines; a
    single quote keeps everything to the next one; in double quotes a
    backslash escapes ``$``, ``"`` and ``\\`` only; outside quotes it takes
    the next character as it is; a ``#`` starting a word starts a comment;
    ``;``, ``|``, ``&``, ``<``, ``>``, ``{`` and ``}`` end the command;
    ``$name`` stays as written."""
    words, word = [], None
    for token in _GRUB_TOKEN.finditer(text):
        kind = token.lastgroup
        if kind in ("blank", "end"):
            if word is not None:
                words.append("".join(word))
            word = None
            if kind == "end":
                break   # what follows is another command (or a syntax error)
            continue
        value = token.group(kind)
        if word is None:
            if kind == "plain" and value.startswith("#"):
                break   # a comment
            word = []
        word.append(_GRUB_DQ_ESCAPE.sub(r"\1", value) if kind == "double" else value)
    if word is not None:
        words.append("".join(word))
    return words


def grub_cmdline(words):
    """The kernel command line GRUB's ``linux`` command builds from its
    arguments after the kernel's path: joined by spaces, one holding a space
    in double quotes (lib/cmdline.c grub_create_loader_cmdline(); some
    versions also put a backslash before a quote or backslash in a word,
    which the kernel keeps as a character)."""
    return " ".join('"%s"' % word if " " in word else word for word in words)


def grub_args(text):
    """``grub_cmdline`` of the arguments GRUB's lexer makes of ``text``
    (``grub_words``): what the kernel gets from text that GRUB reads as
    arguments of ``linux`` (an options line of a BLS entry under blscfg, the
    GRUB defaults grub-mkconfig writes into grub.cfg)."""
    return grub_cmdline(grub_words(text or ""))


def grub_linux(line):
    """``(kernel, command line)`` of a grub.cfg ``linux``/``linux16``/
    ``linuxefi`` line with a kernel, else None."""
    if not line.lstrip(" \t").startswith(("linux", "'linux", '"linux')):
        return None   # the lexer is a loop over characters: only for the lines it can matter to
    words = grub_words(line)
    if len(words) >= 2 and words[0] in LINUX_COMMANDS:
        return words[1], grub_cmdline(words[2:])
    return None


def _words(line):
    return [w[1:-1] if len(w) >= 2 and w[0] == w[-1] and w[0] in "'\"" else w for w in _WORDS.findall(line)]


def parse_grub_cfg(text):
    """The menu of a grub.cfg: ``{"entries": [...], "default": value or None,
    "uses_blscfg": bool, "blscfg_at": index, "search_uuids": [...]}``; an entry is ``{title, id,
    kernel, initrd, args, submenu: [entries]}`` for a submenu."""
    root = {"entries": [], "default": None, "uses_blscfg": False, "blscfg_at": 0, "search_uuids": []}
    stack = [root["entries"]]
    current = []  # the open menuentry dicts (nesting of submenus)
    depth_kinds = []
    for raw in grub_lines(text):
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
            if not root["uses_blscfg"]:   # where its entries go among the top level's
                root["blscfg_at"] = len(root["entries"])
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
            linux = grub_linux(line)
            if linux:
                entry["kernel"], entry["args"] = linux
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
    (``grubenv_variables``); the last of a name wins."""
    return dict(grubenv_variables(text))


def grubenv_variables(text):
    """``[(name, value)]`` of a grubenv block in its order, as GRUB reads it
    (grub-core/lib/envblk.c, grub_envblk_iterate()): a block without its
    signature has none (grub_envblk_open); a line starting with ``#`` is
    padding; a name runs to the next ``=`` (a line without one, or an empty
    line, becomes the start of the next name); a value runs to a newline
    that no backslash escapes, and a backslash keeps the character after
    it; a variable not ended by a newline, and all after it, is none."""
    found = []
    if not (text or "").startswith(GRUBENV_SIGNATURE):
        return found
    at, end = len(GRUBENV_SIGNATURE), len(text)
    while at < end:
        if text[at] == "#":
            at = text.find("\n", at)
            at = end if at < 0 else at + 1
            continue
        equals = text.find("=", at)
        if equals < 0:
            break
        value, position = [], equals + 1
        while position < end and text[position] != "\n":
            if text[position] == "\\":
                position += 1
            if position < end:
                value.append(text[position])
            position += 1
        if position >= end:
            break
        found.append((text[at:equals], "".join(value)))
        at = position + 1
    return found


def grubenv_line(name, value):
    """``name=value`` as grub-editenv writes it (grub_envblk_set(): a
    backslash and a newline in the value escaped)."""
    return "%s=%s\n" % (name, value.replace("\\", "\\\\").replace("\n", "\\\n"))


def grub_lines(text):
    """The lines of ``text`` as GRUB reads a file (grub_file_getline()):
    split at ``\n`` only, carriage returns dropped."""
    return text.replace("\r", "").split("\n") if text else []


def grub_bls_lines(text):
    """``(number, key, value)`` of an entry's lines as GRUB's blscfg reads them
    (blscfg.c read_entry(), lines from grub_file_getline(), carriage returns
    dropped): leading blanks skipped, ``#`` lines skipped, the key up to the
    first space, else the first tab; a line with nothing after it (an empty
    line among them) ends the entry."""
    for number, line in enumerate(grub_lines(text), 1):
        line = line.lstrip(" \t")
        if line.startswith("#"):
            continue
        at = line.find(" ") if " " in line else line.find("\t")
        if at < 0 or at == len(line) - 1:
            return
        yield number, line[:at], line[at + 1:].lstrip(" \t")


def loader_lines(text):
    """``(key, value)`` of the lines of an entry or loader.conf as
    systemd-boot reads them (``loader_line``: line_get_key_value(), a line
    ends at ``\n`` or ``\r`` only)."""
    for raw in re.split(r"[\r\n]", text):
        key, value = loader_line(raw)
        if key is not None:
            yield key, value


def parse_bls_entry(text, grub=False):
    """A Boot Loader Specification entry: ``{title, version, kernel, initrd,
    args, sort_key, machine_id, efi, uki, architecture}`` (``options`` lines are the kernel
    command line; ``sort-key``, ``machine-id``: systemd-boot's order), read as
    systemd-boot reads it, or as GRUB's blscfg does (``grub``): the two split
    a line differently, and blscfg stops at an empty line."""
    entry = {"title": None, "version": None, "kernel": None, "initrd": [], "args": "", "submenu": None,
             "id": None, "sort_key": None, "machine_id": None, "efi": None, "uki": None, "architecture": None}
    options = []
    pairs = ((key, value) for dummy, key, value in grub_bls_lines(text)) if grub else loader_lines(text)
    for key, value in pairs:
        value = value.strip()
        if key == "title":
            entry["title"] = value
        elif key == "version":
            entry["version"] = value
        elif key in ("sort-key", "machine-id", "efi", "uki", "architecture") and value:
            entry[key.replace("-", "_")] = value
        elif key == "linux":
            entry["kernel"] = value
        elif key == "initrd":
            entry["initrd"].extend(value.split())
        elif key == "options":
            options.append(value)
    entry["args"] = " ".join(options)
    return entry


def expand_grub_vars(text, env):
    """Replace ``$name``/``${name}`` from ``env`` (``grub_env``: grubenv's
    ``kernelopts``, as Red Hat's BLS entries use); a variable ``env`` has not
    is left as it is."""
    return _GRUB_VARIABLE.sub(lambda m: env.get(m.group(1) or m.group(2), m.group(0)), text)


def grub_env(cfg_text, grubenv):
    """The variables GRUB expands a BLS entry's options with: ``grubenv``'s
    (load_env runs first), and where it leaves ``kernelopts`` unset or empty,
    the value grub.cfg then sets (``KERNELOPTS_FALLBACK``)."""
    env = dict(grubenv)
    fallback = KERNELOPTS_FALLBACK.search(cfg_text or "")
    if fallback and not env.get("kernelopts"):
        env["kernelopts"] = fallback.group(1)
    return env


def release_of_kernel(path):
    """``/boot/vmlinuz-6.1.0-28-cloud-amd64`` -> ``6.1.0-28-cloud-amd64``."""
    name = (path or "").rsplit("/", 1)[-1]
    for prefix in ("vmlinuz-", "vmlinux-", "kernel-", "bzImage-", "Image-"):
        if name.startswith(prefix):
            return name[len(prefix):]
    return None


# the boot menu of a tree, read through the target-root layer (disk images and image trees)
GRUB_CONFIGS = ("/boot/grub/grub.cfg", "/boot/grub2/grub.cfg")
# Red Hat's 10_linux (BLS) writes into grub.cfg ``if [ -z "${kernelopts}" ]; then set
# kernelopts="root=... ro ${GRUB_CMDLINE_LINUX} ${GRUB_CMDLINE_LINUX_DEFAULT}"; fi``: what the
# entries' $kernelopts is when grubenv does not set it (rhboot/grub2@5e9e7e44e util/grub.d/10_linux.in)
KERNELOPTS_FALLBACK = re.compile(r'^[ \t]*set kernelopts="([^"\n]*)"[ \t]*$', re.M)
_GRUB_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
BLS_DIR = "/boot/loader/entries"
# the most read of a file of the menu, in a tree and on an image's ESP alike: GRUB reads grub.cfg
# and grubenv whole, so a larger one leaves the menu unjudged, never judged from part of it
GRUB_FILE_MAX = 4 * 1024 * 1024
BLS_ENTRY_MAX = 65536


def grubenv_beside(config):
    """The grubenv GRUB loads with the menu ``config``: the one in its
    directory (grub.cfg is ``$prefix/grub.cfg`` and load_env reads
    ``$prefix/grubenv``; Red Hat's 00_header loads
    ``${config_directory}/grubenv``), never another directory's."""
    return config.rsplit("/", 1)[0] + "/grubenv"


def bls_entry_name(name, grub=False):
    """Whether a file named ``name`` in loader/entries is an entry to GRUB's
    blscfg (``grub``: read_entry(), a name ending in ``.conf``) or to
    systemd-boot (config_load_type1_entries(): ``.conf`` in any case, not
    ``auto-*``); both skip hidden names."""
    if name.startswith(".") or len(name) <= len(".conf"):
        return False
    if grub:
        return name.endswith(".conf")
    return ascii_lower(name[-len(".conf"):]) == ".conf" and not name.startswith("auto-")


def bls_entries(target, directories=(BLS_DIR,), grub=False):
    """The parsed entries of ``directories`` (``parse_bls_entry``, as GRUB
    reads them when ``grub``; ``file``: the file name, ``id``: it without
    .conf, as blscfg names an entry; ``directory``: where it is).  An entry
    the boot loader cannot read is left out, as it leaves it out; one larger
    than this reader takes raises TooLarge, and one this user may not read
    (or a directory) Unreadable: the menu is not judged without it."""
    entries = []
    for directory in directories:
        try:
            names = target.listdir(directory)
        except Unreadable:
            raise
        except TargetError:
            continue
        for name in names:
            if bls_entry_name(name, grub):
                try:
                    text = target.read_optional(directory + "/" + name, limit=BLS_ENTRY_MAX)
                except (TooLarge, Unreadable):
                    raise
                except TargetError:
                    text = None
                if text:
                    entry = parse_bls_entry(text, grub)
                    entry["id"], entry["file"], entry["directory"] = name[:-len(".conf")], name, directory
                    entries.append(entry)
    return entries


def gather_menu(target, esp, replace=None):
    """The boot menu and its default entry: grub.cfg in /boot, else the
    ESP's when it is the whole menu (RHEL 8 on UEFI) (its BLS entries when it
    uses blscfg), else BLS entries on the ESP (systemd-boot, ``esp["bls"]``
    with loader.conf, ``esp["loader_conf"]``: ``(where, text)``); grubenv
    the one beside the grub.cfg chosen (``grubenv_beside``; the ESP's from
    ``esp["grubenvs"]``, keyed by lower-case path, when the image's ESP is
    read apart).  ``replace``: texts files are read as (a plan's), by path.
    ``note``: what the choice could not know."""
    replace = replace or {}

    def read(path, limit):
        return replace[path] if path in replace else target.read_optional(path, limit=limit)
    configs = []
    for path in GRUB_CONFIGS:
        try:
            configs.append((path, read(path, GRUB_FILE_MAX)))
        except TargetError as exc:   # GRUB reads it (or fails to): the next file would not be its menu
            return {"config": path, "kind": "grub", "default": None, "note": None, "error": str(exc)}
    # the ESP's grub.cfg when it is the menu itself, not a stub that loads /boot's (configfile)
    configs += [(path, text) for path, text in (esp or {}).get("grub_configs", [])
                if not re.search(r"^\s*configfile\s", text, re.M)]
    for path, text in configs:
        if text is None:
            continue
        env_path = grubenv_beside(path)
        if not path.startswith("/"):   # the ESP's, read by the image's FAT reader (case-insensitive)
            env = parse_grubenv(((esp or {}).get("grubenvs") or {}).get(env_path.lower()) or "")
        else:
            try:
                env = parse_grubenv(read(env_path, GRUB_FILE_MAX) or "")
            except TooLarge as exc:   # GRUB reads it whole: its saved_entry is not known here
                return {"config": path, "kind": "grub", "default": None, "note": None, "error": str(exc)}
            except TargetError:       # load_env fails on it and GRUB goes on without
                env = {}
        menu = parse_grub_cfg(text)
        if menu["uses_blscfg"]:
            try:
                entries = blscfg_order(bls_entries(target, grub=True))
            except TooLarge as exc:
                return {"config": path, "kind": "grub+bls", "default": None, "note": None, "error": str(exc)}
            for entry in entries:
                # blscfg puts the options, variables expanded, on a linux line GRUB then reads
                entry["args"] = grub_args(expand_grub_vars(entry["args"], grub_env(text, env)))
            # blscfg adds its entries where grub.cfg calls it; set default / saved_entry pick among all
            at = menu["blscfg_at"]
            chosen = default_entry(dict(menu, entries=menu["entries"][:at] + entries + menu["entries"][at:]),
                                   env.get("saved_entry"))
            return {"config": path, "kind": "grub+bls", "default": chosen, "note": None,
                    "error": None if chosen else "grub.cfg uses blscfg but /boot/loader/entries has no entry with a linux line"}
        chosen = default_entry(menu, env.get("saved_entry"))
        return {"config": path, "kind": "grub", "default": chosen, "note": None,
                "error": None if chosen else "%s has no menuentry" % path}
    if esp and (esp.get("bls") or esp.get("uki") or esp.get("uki_skipped")):
        for entry in esp.get("bls") or []:
            if "loader_missing" not in entry and entry.get("directory") and bls_loader(entry):
                # its path is from the root of the partition holding loader/entries (ESP or XBOOTLDR)
                partition = entry["directory"][:-len("/loader/entries")]
                entry["loader_missing"] = not target.isfile(partition + bls_loader(entry))
                if not entry["loader_missing"] and wants_uki_read(entry):
                    _tree_uki_line(target, entry, partition + bls_loader(entry))
        # type #2 entries (EFI/Linux/*.efi) join type #1's in one order and one default choice
        # (boot.c config_load_all_entries(): config_load_type2_entries(), then config_sort_entries)
        entries = (esp.get("uki") or []) + (esp.get("bls") or [])
        chosen, note = systemd_boot_default(entries, esp.get("loader_conf"), esp.get("arch"))
        skipped = "; ".join(esp.get("uki_skipped") or [])
        if chosen and skipped:
            note = "; ".join(text for text in (note, "systemd-boot shows no entry for " + skipped) if text)
        if chosen and chosen.get("problems"):   # its command line is unknown: say why
            note = "; ".join([note] * bool(note) + chosen["problems"])
        missing = "; ".join(text for text in (_missing_loaders(entries, esp.get("arch")), skipped) if text)
        return {"config": "ESP /EFI/Linux" if chosen and chosen.get("type") == 2 else "ESP /loader/entries",
                "kind": "bls", "default": chosen, "note": note,
                "error": None if chosen else "no entry of loader/entries or EFI/Linux systemd-boot would show: " + (
                    missing or "none has a linux, efi or uki line")}
    return {"config": None, "kind": None, "default": None, "note": None,
            "error": "no boot loader configuration (%s, the ESP's EFI/*/grub.cfg, /boot/loader/entries, "
                     "EFI/Linux/*.efi)" % ", ".join(GRUB_CONFIGS)}


def uki_listed(name):
    """Whether systemd-boot reads the file ``name`` of EFI/Linux as a type #2
    entry (config_load_type2_entries(): ``*.efi``, not hidden, not ``auto-*``,
    case-insensitively)."""
    return name.lower().endswith(".efi") and not name.startswith(".") and not name.lower().startswith("auto-")


def type2_entry(info, name, loader, shown):
    """``(entry, why not)``: the type #2 entry systemd-boot makes of the UKI
    ``name`` (boot.c boot_entry_add_type2()), ``info`` being
    ``uki.read_uki``'s; ``loader``: its path from the root of its partition.
    None and the reason when systemd-boot shows none (not a PE image, no
    .osrel, no name in it).  Its ``kernel`` and ``uki`` are the UKI itself;
    ``uname``, ``has_linux``, ``has_initrd``: its .uname, whether it carries
    a kernel and an initramfs (.linux, .initrd)."""
    if info is None:
        return None, "%s (not a PE image)" % shown
    if info["title"] is None:
        return None, "%s (%s)" % (shown, "no .osrel section" if info["osrel"] is None else
                                  "its .osrel has no PRETTY_NAME, IMAGE_ID, NAME or ID")
    return {"title": info["title"], "version": info["version"], "kernel": loader, "initrd": [],
            "args": info["cmdline"] or "", "submenu": None, "id": name, "file": name, "sort_key": info["sort_key"],
            "machine_id": None, "efi": None, "uki": loader, "type": 2, "uname": info["uname"],
            "has_linux": info["linux"], "has_initrd": info["initrd"], "profiles": info["profiles"],
            "problems": info["problems"], "loader_missing": False}, None


def uki_line_entry(entry, info, shown):
    """A type #1 entry whose ``uki`` line names a unified kernel image on its
    partition (systemd v258 boot.c boot_entry_add_type1(): LOADER_UKI, the
    file its loader) read as that UKI, ``info`` being ``uki.read_uki``'s or,
    when it could not be read, why (a string naming the file): its ``kernel`` is the
    UKI, which carries the kernel and initramfs (``has_linux``,
    ``has_initrd``, ``uname`` as ``type2_entry``'s).  systemd-boot passes the
    entry's ``options`` lines, joined, as the UKI's load options; systemd-stub
    (stub.c settle_command_line()) boots with them in place of the .cmdline
    section, unless Secure Boot is on and the UKI has a .cmdline, and with the
    .cmdline when there are none (``options_given``: whether it has
    options lines).  ``uki_cmdline``: that .cmdline when
    ``options`` may replace it (which one the kernel gets then depends on
    Secure Boot), else None.  ``uki-url`` (not on the disk) is not read."""
    entry.update(kernel=bls_loader(entry), uki_line=True, uname=None, has_linux=None, has_initrd=None, uki_cmdline=None,
                 options_given=bool(entry["args"]))
    if info is None or isinstance(info, str):
        # systemd-boot shows the entry (it only opens the file); what the UKI holds is unknown
        entry["problems"] = [info or "%s (not a PE image)" % shown]
        return entry
    entry.update(uname=info["uname"], has_linux=info["linux"], has_initrd=info["initrd"], problems=info["problems"])
    if not entry["args"]:
        entry["args"] = info["cmdline"] or ""
    elif info["cmdline"] is not None:
        entry["uki_cmdline"] = info["cmdline"]
    return entry


def wants_uki_read(entry):
    """Whether ``entry`` (``parse_bls_entry``'s) is booted as the UKI its
    ``uki`` line names: no linux or efi line (an entry mixing them is one
    systemd-boot v258 rejects, LOADER_BAD; the linux line is read here)."""
    return bool(entry.get("uki")) and not entry.get("kernel") and not entry.get("efi") and not entry.get("uki_line")


def _read_tree_uki(target, path):
    """``(info, None)`` of the UKI at ``path`` of a tree (``uki.read_handle``),
    or ``(None, why)`` naming it."""
    shown = target.display(path)
    try:
        with target.open(path) as handle:
            return uki.read_handle(handle, shown), None
    except (TargetError, uki.UkiError) as exc:
        return None, str(exc)
    except (IOError, OSError) as exc:
        return None, "%s (cannot read: %s)" % (shown, exc.strerror or exc)


def _tree_uki_line(target, entry, path):
    """``uki_line_entry`` of a tree's entry whose UKI is ``path``."""
    info, why = _read_tree_uki(target, path)
    return uki_line_entry(entry, why or info, target.display(path))


def uki_entries(target, directories):
    """``(entries, skipped)``: the type #2 entries of the UKIs in
    ``directories`` (``$BOOT/EFI/Linux`` where the ESP or XBOOTLDR is mounted)
    of a tree, read through the target layer; ``skipped``: the files
    systemd-boot shows no entry for, each with why."""
    entries, skipped = [], []
    for directory in directories:
        try:
            names = target.listdir(directory)
        except TargetError:
            continue
        for name in sorted(names):
            path = directory + "/" + name
            if not uki_listed(name) or not target.isfile(path):
                continue
            info, why = _read_tree_uki(target, path)
            if why:
                skipped.append(why)
                continue
            entry, why = type2_entry(info, name, "/EFI/Linux/" + name, target.display(path))
            if entry is None:
                skipped.append(why)
                continue
            entry["directory"] = directory
            entries.append(entry)
    return entries, skipped


def blscfg_order(entries):
    """BLS entries in the order Fedora's and Red Hat's blscfg shows them
    (rhboot/grub2@770e0757 grub-core/commands/blscfg.c find_entry(), bls_cmp(),
    create_entry()): newest first by rpm's version order of ``version`` when
    every entry has one, then of the file name; an entry without a ``linux``
    line is left out."""
    use_version = all(e.get("version") for e in entries)
    return sorted([e for e in entries if e.get("kernel")], reverse=True,
                  key=lambda e: (version_key(e["version"]) if use_version else [], version_key(e["id"])))


# --------------------------------------------------------------------------
# systemd-boot (systemd src/boot/boot.c)
# --------------------------------------------------------------------------

def loader_line(raw):
    """``(key, value)`` of a loader.conf line as systemd-boot splits it
    (line_get_key_value(): blanks trimmed, ``#`` lines skipped, the key up
    to the first blank, one pair of double quotes around the value removed)."""
    line = raw.strip(" \t\r\n")
    if not line or line.startswith("#"):
        return None, None
    parts = re.split(r"[ \t]+", line, 1)
    value = parts[1] if len(parts) > 1 else ""
    if len(value) > 1 and value[0] == '"' and value[-1] == '"':
        value = value[1:-1]
    return parts[0], value


def loader_default(text):
    """loader.conf's ``default``, ASCII-lowercased, or None: the last line
    with a value wins, and one starting with ``@`` other than ``@saved`` is
    ignored (config_defaults_load_from_file(), config_load_defaults())."""
    found = None
    for key, value in loader_lines(text or ""):
        if key == "default" and value and (value[0] != "@" or value.lower() == "@saved"):
            found = ascii_lower(value)
    return found


_STAR, _ANY = object(), object()


def _glob_tokens(pattern):
    """efi_fnmatch()'s pattern as tokens: ``_STAR``, ``_ANY``, a character,
    a set (a compiled character class) or ``None`` (a trailing ``\\`` or an
    unterminated set, which matches nothing), parsed once as
    efi_fnmatch_prefix() reads it."""
    tokens, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 1
            tokens.append(pattern[i] if i < len(pattern) else None)
        elif char == "[":
            members, first, can_range = [], True, True
            while True:
                i += 1
                if i >= len(pattern):
                    tokens.append(None)
                    return tokens
                if pattern[i] == "\\":
                    i += 1
                    if i >= len(pattern):
                        tokens.append(None)
                        return tokens
                    members.append(re.escape(pattern[i]))
                    can_range, first = True, False
                    continue
                if pattern[i] == "]" and not first:
                    break
                if pattern[i] == "-" and can_range and not first and pattern[i + 1:i + 2] != "]":
                    low = pattern[i - 1]
                    i += 1
                    if pattern[i:i + 1] == "\\":
                        i += 1
                    if i >= len(pattern):
                        tokens.append(None)
                        return tokens
                    if low <= pattern[i]:
                        members.append("%s-%s" % (re.escape(low), re.escape(pattern[i])))
                    can_range, first = False, False
                    continue
                members.append(re.escape(pattern[i]))
                can_range, first = True, False
            tokens.append(re.compile("[%s]" % "".join(members), re.S))
        else:
            tokens.append(_STAR if char == "*" else _ANY if char == "?" else char)
        i += 1
    return tokens


def _glob_prefix(tokens, t, name, n):
    """efi_fnmatch_prefix(): ``(matched, tail)`` of the tokens from ``t``
    against ``name`` from ``n`` up to the next ``*``; ``tail``: where both go
    on after it, None when the tokens ended."""
    while True:
        if t == len(tokens):
            return n == len(name), None
        token = tokens[t]
        if token is _STAR:
            while t < len(tokens) and tokens[t] is _STAR:
                t += 1
            return True, (t, n)
        if n == len(name) or token is None:
            return False, None
        if not (token is _ANY or (token == name[n] if isinstance(token, str) else token.match(name[n]))):
            return False, None
        t, n = t + 1, n + 1


def efi_fnmatch(pattern, name):
    """Whether systemd-boot's glob matches ``name`` (src/boot/efi-string.c
    efi_fnmatch(): ``*``, ``?``, ``[...]`` with ranges, ``\\`` escapes; no
    negation; without backtracking, as it does)."""
    tokens = _glob_tokens(pattern) if isinstance(pattern, str) else pattern   # or the tokens of one
    t = n = 0
    first = True
    while True:
        matched, tail = _glob_prefix(tokens, t, name, n)
        if first:
            if not matched:
                return False
            if tail is None:
                return True
            first = False
        if tail is not None:
            t, n = tail
        elif matched or n == len(name):
            return matched
        else:
            n += 1


_DIGITS = frozenset("0123456789")
_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_VERSION_CHARS = _DIGITS | _LETTERS | frozenset("~-^.")


def _cmp(a, b):
    return (a > b) - (a < b)


# one step of strverscmp_improved(): characters it drops, '~', then the end, or '-', '^', '.' and a
# run of digits or else of letters (possibly none)
_VERSION_STEP = re.compile(r"[^0-9A-Za-z~^.\-]*(~?)(?:(\Z)|(-?)(\^?)(\.?)([0-9]+|[A-Za-z]*))")
_ABSENT = {"": "1"}


def strverscmp_key(text):
    """Sort key of a version in systemd's order (src/fundamental/string-util-
    fundamental.c strverscmp_improved()), oldest first: like rpmvercmp, with
    '-' (the release) older than '^' (a patched release), older than '.' (a
    point release), older than a segment; '~' older than all and than the end.
    strverscmp_improved() walks two strings in step, each step comparing what
    each has; a step here spells what one string has ("0": the character is
    there; a run ends in NUL, below any letter), so that comparing the keys,
    plain strings, compares as it does."""
    steps = []
    for match in _VERSION_STEP.finditer(text or ""):   # steps are back to back: each takes a character
        tilde, ended, dash, caret, dot, run = match.groups()
        if ended is not None:
            steps.append(_ABSENT.get(tilde, "0"))   # a string that ends here is older than one that goes on
            break
        if run[:1].isdigit():
            digits = run.lstrip("0")
            run = "2%010d%s" % (len(digits), digits)   # numbers above words, longer above shorter
        else:
            run = "1" + run if run else "0"
        steps.append(_ABSENT.get(tilde, "0") + _ABSENT.get(dash, "0") + _ABSENT.get(caret, "0") + _ABSENT.get(dot, "0")
                     + run + "\0")
    return "".join(steps)


def strverscmp_improved(a, b):
    """-1, 0 or 1 as systemd's strverscmp_improved() compares versions (``strverscmp_key``)."""
    return _cmp(strverscmp_key(a), strverscmp_key(b))


INT_MAX = 2 ** 31 - 1


def boot_counting(name, suffix=".conf"):
    """``(tries left, tries done)`` of a file name's boot counting suffix
    ``+LEFT[-DONE]`` before ``suffix``, or ``(-1, -1)`` without a valid one
    (boot_entry_parse_tries(): after the last '+', numbers up to INT_MAX)."""
    plus = name.rfind("+")
    match = re.match(r"([0-9]+)(?:-([0-9]+))?(.*)\Z", name[plus + 1:], re.S) if plus >= 0 else None
    if not match or match.group(3).lower() != suffix:
        return -1, -1
    left, done = (ascii_int(g.lstrip("0") or "0", most=10) if g is not None else 0 for g in match.group(1, 2))
    if left is None or done is None or left > INT_MAX or done > INT_MAX:
        return -1, -1
    return left, done


def _null_cmp(a, b):
    # strcmp16(): a NULL string before any other
    return _cmp(a is not None, b is not None) or _cmp(a or "", b or "")


def _boot_entry_compare(a, b):
    """boot_entry_compare(): entries without tries left last; with a
    sort-key before those without, by sort-key, machine-id, then version
    newest first; then by id newest first; then more tries left, fewer done."""
    r = _cmp(a["tries"][0] == 0, b["tries"][0] == 0) or _cmp(a["sort_key"] is None, b["sort_key"] is None)
    if r:
        return r
    if a["sort_key"] is not None:
        r = _cmp(a["sort_key"], b["sort_key"]) or _null_cmp(a["machine_id"], b["machine_id"]) \
            or -_cmp(a["keys"][0], b["keys"][0])
        if r:
            return r
    r = -_cmp(a["keys"][1], b["keys"][1])
    if r or a["tries"][0] < 0 or b["tries"][0] < 0:
        return r
    return -_cmp(a["tries"][0], b["tries"][0]) or _cmp(a["tries"][1], b["tries"][1])


def bls_loader(entry):
    """The file systemd-boot loads for an entry (its linux, efi or uki line),
    as a path from the root of the entry's partition, or None."""
    path = entry.get("kernel") or entry.get("efi") or entry.get("uki")
    return "/" + path.replace("\\", "/").lstrip("/") if path else None


# the EFI machine type names systemd-boot is built for (src/boot/efi.h EFI_MACHINE_TYPE_NAME), and the
# UEFI removable-media loader of each (UEFI Specification 2.10, 3.5.1.1: EFI/BOOT/BOOT<name>.EFI)
EFI_MACHINE_TYPES = {"x86_64": "x64", "x86_32": "ia32", "arm64": "aa64"}
LOADER_NAMES = dict((arch, "BOOT%s.EFI" % name.upper()) for arch, name in EFI_MACHINE_TYPES.items())


def esp_arch(esp):
    """The architecture whose removable-media loader is the only one on the ESP, or None."""
    loaders = (esp or {}).get("loaders") or {}
    found = [arch for arch, name in sorted(LOADER_NAMES.items()) if loaders.get(name)]
    return found[0] if len(found) == 1 else None


def other_architecture(entry, arch):
    """Whether systemd-boot built for ``arch`` leaves out a type #1 entry for its
    ``architecture`` line (boot.c boot_entry_add_type1(): strcaseeq8 with
    EFI_MACHINE_TYPE_NAME); never when ``arch`` is unknown."""
    wanted = EFI_MACHINE_TYPES.get(arch)
    return bool(wanted and entry.get("architecture")) and ascii_lower(entry["architecture"]) != wanted


def _missing_loaders(entries, arch=None):
    """What systemd-boot leaves out for a missing file (``loader_missing``) or
    another architecture, or ""."""
    missing = [e for e in entries if e.get("loader_missing")]
    other = [e for e in entries if other_architecture(e, arch)]
    said = ["the file of %s is missing from its partition, which systemd-boot leaves out" % ", ".join(
        "%s (%s)" % (e.get("file") or e.get("id"), bls_loader(e)) for e in missing)] if missing else []
    said += ["%s %s for another architecture than %s, which systemd-boot leaves out" % (
        ", ".join("%s (architecture %s)" % (e.get("file") or e.get("id"), e["architecture"]) for e in other),
        "is" if len(other) == 1 else "are", EFI_MACHINE_TYPES[arch])] if other else []
    return "; ".join(said)


def systemd_boot_order(entries, arch=None):
    """Type #1 and type #2 entries (``type``: 2, ``type2_entry``) in
    systemd-boot's menu order (config_load_type1_entries(),
    boot_entry_add_type1(), boot_entry_add_type2(), config_sort_entries:
    boot_entry_compare()), each with ``sd_id`` (the file name, .conf or .efi
    included, without its boot counting suffix, ASCII-lowercased) and
    ``tries``; an entry with no linux, efi or
    uki line, whose file is missing (``loader_missing``: boot_entry_add_type1()
    opens it first), for another architecture than ``arch`` (``other_architecture``),
    or whose name starts with "auto-" or ".", is left out."""
    shown = []
    for entry in entries:
        name = entry.get("file") or "%s.conf" % (entry.get("id") or "")
        if name.startswith(".") or name.lower().startswith("auto-") or not bls_loader(entry) or entry.get("loader_missing") \
                or other_architecture(entry, arch):
            continue
        # a type #2 entry's counter is before .efi (boot_entry_add_type2())
        suffix = ".efi" if entry.get("type") == 2 else ".conf"
        tries = boot_counting(name, suffix)
        # the id without "+LEFT[-DONE]", as bootctl names entries: systemd-boot since systemd/systemd#38897
        # (boot_entry_parse_tries(), September 2025); before (RHEL 10's 257 among them) it kept the counter
        sd_id = name[:name.rfind("+")] + suffix if tries[0] >= 0 else name
        shown.append(dict({"sort_key": None, "machine_id": None, "version": None}, **entry))
        shown[-1].update(sd_id=ascii_lower(sd_id), tries=tries)
        # strverscmp_improved() of the version and of the id, as keys: computed once
        shown[-1]["keys"] = (strverscmp_key(shown[-1]["version"]), strverscmp_key(shown[-1]["sd_id"]))
    ordered = sorted(shown, key=functools.cmp_to_key(_boot_entry_compare))
    for entry in ordered:
        del entry["keys"]
    return ordered


def systemd_boot_default(entries, loader_conf=None, arch=None):
    """``(entry, note)``: the entry systemd-boot boots without a keypress
    (config_select_default_entry()): the first in its order whose id
    loader.conf's ``default`` glob matches, else its first entry.  The EFI
    variables that come first (LoaderEntryOneShot, LoaderEntryDefault:
    ``bootctl set-default``) are not read; ``@saved`` names the
    LoaderEntryLastBooted variable, which a tree does not hold: systemd-boot
    without it boots its first entry, and ``note`` says so."""
    ordered = systemd_boot_order(entries, arch)
    chosen, note = _sd_boot_choice(ordered, loader_conf)
    notes = [text for text in (note, _missing_loaders(entries, arch)) if text]
    return chosen, "; ".join(notes) if chosen and notes else None


def _sd_boot_choice(ordered, loader_conf):
    where, text = loader_conf or (None, None)
    wanted = loader_default(text)
    if not ordered:
        return None, None
    if wanted == "@saved":
        return ordered[0], "%s: default @saved is the entry booted last (the EFI variable LoaderEntryLastBooted); " \
            "without it systemd-boot boots its first entry" % where
    if wanted is not None:
        tokens = _glob_tokens(wanted)
        found = next((e for e in ordered if efi_fnmatch(tokens, e["sd_id"])), None)
        if found is not None:
            return found, None
        return ordered[0], "%s: default %s matches no entry (ids are file names such as %s); systemd-boot boots " \
            "its first entry" % (where, wanted, ordered[0]["sd_id"])
    return ordered[0], None


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
