# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which driver a kernel release has for a device, without that device.

The offline half of the hardware checks.  It reads what depmod leaves under
``/lib/modules/<release>/`` and matches a device's modalias against it the way
the kernel's module loader (kmod) does:

* ``modules.alias``           ``alias <pattern> <module>`` for loadable modules;
* ``modules.builtin.alias``   the same for built-in drivers, when present (kmod's
                              depmod writes only the binary index of it, so
                              ``modules.builtin.modinfo`` is read as well: its
                              NUL-separated ``<module>.alias=<pattern>`` records
                              are the kernel build's own list);
* ``modules.builtin``         the built-in drivers' paths (``kernel/.../8250.ko``);
* ``modules.dep``             each module's file and every module it needs.

Patterns are fnmatch(3) patterns without flags, as kmod uses them: ``*`` and
``?`` match any character (``/`` included), ``[...]`` a set, range or POSIX class
(``[:xdigit:]``; ``!`` or
``^`` negates it), and a backslash makes the next character literal.

Modaliases are built as the kernel builds them (``drivers/pci/pci-driver.c``:
``pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X``; ``drivers/virtio/virtio.c``:
``virtio:d%08Xv%08X``).  A field the catalogue does not state (the subsystem
vendor of virtio-net, the class of a bridge) is filled with ``X``, which is
not a hex digit: such a modalias matches only the patterns that accept any
value in that field (``*``, or ``?`` in every position) -- the drivers that
would bind whatever the real value is.  A driver that wants one particular
subsystem is not credited on a guess.

Module names are normalised as kmod does: ``-`` becomes ``_``.
"""

import os
import re
import struct

from ansible_collections.guestready.gce.plugins.module_utils.globs import fnmatch
from ansible_collections.guestready.gce.plugins.module_utils.kernel_tree import release_key
from ansible_collections.guestready.gce.plugins.module_utils.target import Missing, Target, TargetError

UNKNOWN_DIGIT = "X"
MODULE_SUFFIXES = (".ko.xz", ".ko.zst", ".ko.gz", ".ko")
FILES = ("modules.alias", "modules.builtin.alias", "modules.builtin.modinfo",
         "modules.builtin", "modules.dep")
# what a line of each text table is (depmod writes nothing else but comments)
_EXPECTED = {"modules.alias": "an 'alias PATTERN MODULE' line",
             "modules.builtin.alias": "an 'alias PATTERN MODULE' line",
             "modules.dep": "a 'MODULE: DEPENDENCIES' line",
             "modules.builtin": "a module path (.ko)"}


def normalize_module(name):
    """``virtio-pci`` / ``kernel/drivers/virtio/virtio_pci.ko.xz`` -> ``virtio_pci``."""
    if name is None:
        return None
    # called for every line of modules.dep: one suffix test, no loop
    base = str(name).strip().rpartition("/")[2]
    if base.endswith(MODULE_SUFFIXES):  # no suffix holds ".ko" after its start
        base = base[:base.rindex(".ko")]
    return base.replace("-", "_")


def _number(value):
    if isinstance(value, int):
        return value
    return int(str(value).strip(), 0 if str(value).strip().lower().startswith("0x") else 16)


def _field(value, width):
    if value is None:
        return UNKNOWN_DIGIT * width
    return "%0*X" % (width, _number(value))


def pci_modalias(vendor, device, subsystem_vendor=None, subsystem_device=None, pci_class=None):
    """The modalias the kernel gives a PCI function; unknown fields are ``X``."""
    if pci_class is None:
        base = sub = interface = None
    else:
        number = _number(pci_class)
        base, sub, interface = (number >> 16) & 0xFF, (number >> 8) & 0xFF, number & 0xFF
    return "pci:v%sd%ssv%ssd%sbc%ssc%si%s" % (
        _field(vendor, 8), _field(device, 8), _field(subsystem_vendor, 8),
        _field(subsystem_device, 8), _field(base, 2), _field(sub, 2), _field(interface, 2))


def virtio_modalias(device_id, vendor=None):
    """The modalias of a virtio device (``vendor`` is the transport's subsystem vendor)."""
    return "virtio:d%sv%s" % (_field(device_id, 8), _field(vendor, 8))


# the characters kmod's index search stops descending the trie at
# (libkmod-index.c, index_mm_searchwild_node): a backslash before them is an
# ordinary character there, matched as it is written
_SPECIAL = re.compile(r"[*?\[]")
# characters after "<bus>:" that index the patterns (pci: "v" and the vendor)
BUCKET = 9


def literal_prefix(pattern):
    """The part of ``pattern`` before its first special character."""
    match = _SPECIAL.search(pattern)
    return pattern if match is None else pattern[:match.start()]


# --------------------------------------------------------------------------
# depmod's files
# --------------------------------------------------------------------------

def parse_alias_lines(text, source, skipped=None):
    """``[{pattern, module, source, line, text}]`` from a modules.alias file;
    ``skipped`` (a list) gets ``(number, line)`` of the lines that are not
    aliases."""
    aliases, names = [], {}
    for number, line in enumerate(text.splitlines(), 1):
        words = line.split()
        if len(words) < 3 or words[0] != "alias":
            if skipped is not None:
                skipped.append((number, line))
            continue
        # a module has many aliases (26,000 lines, 4,000 modules in a distribution kernel)
        module = names.get(words[2]) or names.setdefault(words[2], normalize_module(words[2]))
        aliases.append({"pattern": words[1], "module": module,
                        "source": source, "line": number, "text": line.strip()})
    return aliases


def parse_builtin_modinfo(data, source):
    """Alias records of modules.builtin.modinfo (``module.alias=pattern``, NUL-separated)."""
    aliases = []
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    for number, record in enumerate(data.split("\0"), 1):
        module, dot, rest = record.partition(".")
        if not dot or not rest.startswith("alias="):
            continue
        aliases.append({"pattern": rest[len("alias="):], "module": normalize_module(module),
                        "source": source, "line": number, "text": record})
    return aliases


def _other(line):
    """A line depmod would not write in a table: neither blank nor a comment."""
    return bool(line.strip()) and not line.lstrip().startswith("#")


def damaged_line(lines, expected):
    """How the first line of ``lines`` (``[(number, text)]``, the ones the
    parser skipped) that depmod would not write reads, or None: a table with
    one is damaged, not a kernel without the drivers."""
    for number, line in lines:
        if _other(line):
            return "line %d is not %s: %r" % (number, expected, line[:80])
    return None


def parse_builtin(text):
    """Module names listed in modules.builtin."""
    return set(normalize_module(line) for line in text.splitlines() if line.strip())


def parse_dep(text, skipped=None):
    """``{module: {"path", "deps": [module, ...]}}`` from modules.dep (depmod lists
    every module needed, directly or not); ``skipped`` as for parse_alias_lines."""
    modules, names = {}, {}
    for number, line in enumerate(text.splitlines(), 1):
        path, colon, deps = line.partition(":")
        if not colon:
            if skipped is not None:
                skipped.append((number, line))
            continue
        modules[normalize_module(path)] = {"path": path.strip(), "deps": [
            names.get(dep) or names.setdefault(dep, normalize_module(dep)) for dep in deps.split()]}
    return modules


# kmod's binary indexes (libkmod-index.c): a trie, big-endian words; what
# modprobe itself reads, so a tree may hold them without the text tables
INDEX_MAGIC = 0xB007F457
INDEX_PREFIX, INDEX_VALUES, INDEX_CHILDS, INDEX_MASK = 0x80000000, 0x40000000, 0x20000000, 0x0FFFFFFF
# the text table each index stands in for, and how one entry reads as its line
INDEXES = {"modules.alias": ("modules.alias.bin", lambda key, value: "alias %s %s" % (key, value)),
           "modules.dep": ("modules.dep.bin", lambda key, value: value),
           "modules.builtin": ("modules.builtin.bin", lambda key, value: "%s.ko" % key)}


def parse_index(data):
    """``[(key, value)]`` of a kmod index (``modules.alias.bin``: pattern and
    module; ``modules.dep.bin``: module and its modules.dep line;
    ``modules.builtin.bin``: module and nothing), in key order.  ValueError
    says how it is damaged."""
    def word(at):
        if at + 4 > len(data):
            raise ValueError("it ends inside a node (offset %d)" % at)
        return struct.unpack(">I", data[at:at + 4])[0]

    def string(at):
        end = data.find(b"\0", at)
        if end < 0:
            raise ValueError("a string at offset %d is not terminated" % at)
        return data[at:end], end + 1

    if len(data) < 12 or word(0) != INDEX_MAGIC:
        raise ValueError("not a kmod index (no magic number)")
    if word(4) >> 16 != 2:
        raise ValueError("kmod index version %#x, not 2.x" % word(4))
    entries, seen, work = [], set(), 0
    stack = [(word(8), b"")]
    while stack:
        offset, key = stack.pop()
        at = offset & INDEX_MASK
        if at in seen or not 12 <= at < len(data):
            raise ValueError("a node offset (%d) is out of the file or seen before" % at)
        seen.add(at)
        if offset & INDEX_PREFIX:
            prefix, at = string(at)
            key += prefix
        # every node's key is built once: a hostile trie of long keys stops here
        work += len(key)
        if work > 16 * len(data) + 1024 * 1024:
            raise ValueError("its keys are far longer than a real index's")
        children = []
        if offset & INDEX_CHILDS:
            # index_mm_read_node refuses a node whose children are not ASCII
            # (INDEX_CHILDMAX): modprobe never sees what is below it
            if at + 2 > len(data) or data[at] > data[at + 1] or data[at + 1] >= 128:
                raise ValueError("bad child range at offset %d" % at)
            first, count = data[at], data[at + 1] - data[at] + 1
            at += 2
            for index in range(count):
                child = word(at + 4 * index)
                if child:
                    children.append((child, key + bytes([first + index])))
            at += 4 * count
        if offset & INDEX_VALUES:
            count = word(at)
            at += 4
            for dummy in range(count):
                word(at)   # the value's priority
                value, at = string(at + 4)
                entries.append((key, value))
        stack.extend(reversed(children))
    return [(key.decode("utf-8", "replace"), value.decode("utf-8", "replace")) for key, value in entries]


# the largest real tables are a few MiB (modules.alias of a distribution kernel)
MAX_TABLE = 64 * 1024 * 1024


def _read(target, path):
    """Bytes of ``path`` inside ``target``, or None when it does not exist."""
    try:
        return target.read_bytes(path, limit=MAX_TABLE)
    except Missing:
        return None
    except TargetError as exc:
        raise ModulesError("%s" % exc)


class ModulesError(Exception):
    """A modules.* file exists but cannot be read."""


def modules_dir(release, root="/"):
    """The ``/lib/modules/<release>`` directory inside ``root`` (a path or a
    Target; ``/usr/lib`` too), as a path inside it."""
    target = root if isinstance(root, Target) else Target(root)
    candidates = ["/lib/modules/%s" % release, "/usr/lib/modules/%s" % release]
    for candidate in candidates:
        if target.isdir(candidate):
            return candidate
    return candidates[0]


def installed_releases(root="/"):
    """Kernel releases with a modules directory inside ``root`` (a path or a
    Target), newest first."""
    target = root if isinstance(root, Target) else Target(root)
    found = set()
    for base in ("/lib/modules", "/usr/lib/modules"):
        try:
            names = target.listdir(base)
        except TargetError:
            continue
        for name in names:
            if target.isdir("%s/%s" % (base, name)):
                found.add(name)
    return sorted(found, key=release_key, reverse=True)


class KernelModules(object):
    """The driver tables of one kernel release (one ``lib/modules/<release>``)."""

    def __init__(self, path, target=None):
        """``path``: the ``lib/modules/<release>`` directory, inside
        ``target`` (the live system by default)."""
        self.target = target or Target("/")
        self.inside = path
        self.path = self.target.display(path)
        self.release = os.path.basename(os.path.normpath(path))
        self.present = []
        self.aliases = []
        self.builtin_aliases = []
        self.builtin = None
        self.dep = None
        self.damaged = []
        self.sources = {}   # the file each table was read from: itself, or its kmod index
        self._index = None
        if not self.exists:
            return
        data = {}
        for name in FILES:
            content = _read(self.target, os.path.join(path, name))
            if content is not None:
                data[name] = content
                self.present.append(name)
        text = dict((name, value.decode("utf-8", "replace")) for name, value in data.items()
                    if name != "modules.builtin.modinfo")
        # depmod writes each table twice, as text and as the index modprobe reads:
        # a tree stripped of the text keeps the drivers, read from the index
        self.sources = dict((name, name) for name in text)
        for name, (index, line) in sorted(INDEXES.items()):
            if name in text:
                continue
            content = _read(self.target, os.path.join(path, index))
            if content is None:
                continue
            self.present.append(index)
            self.sources[name] = index
            try:
                text[name] = "".join(line(key, value) + "\n" for key, value in parse_index(content))
            except ValueError as exc:
                self.damaged.append((os.path.join(self.path, index), "%s" % exc))
        # the lines each parser skipped: one depmod would not write means a
        # damaged table (checked as the tables are parsed: a pass of its own
        # over modules.alias cost 20 ms, half the parse)
        skipped = dict((name, []) for name in text)
        if "modules.alias" in text:
            self.aliases = parse_alias_lines(text["modules.alias"], os.path.join(self.path, self.sources["modules.alias"]),
                                             skipped["modules.alias"])
        if "modules.builtin.alias" in text:
            self.builtin_aliases = parse_alias_lines(
                text["modules.builtin.alias"], os.path.join(self.path, "modules.builtin.alias"),
                skipped["modules.builtin.alias"])
        if "modules.builtin.modinfo" in data:
            known = set((a["pattern"], a["module"]) for a in self.builtin_aliases)
            for alias in parse_builtin_modinfo(
                    data["modules.builtin.modinfo"], os.path.join(self.path, "modules.builtin.modinfo")):
                if (alias["pattern"], alias["module"]) not in known:
                    self.builtin_aliases.append(alias)
        if "modules.builtin" in text:
            self.builtin = parse_builtin(text["modules.builtin"])
            skipped["modules.builtin"] = [(number, line) for number, line in
                                          enumerate(text["modules.builtin"].splitlines(), 1)
                                          if not line.strip().endswith(".ko")]
        if "modules.dep" in text:
            self.dep = parse_dep(text["modules.dep"], skipped["modules.dep"])
        for name in sorted(text):
            damage = "it holds NUL bytes: not %s text" % name if "\0" in text[name] else \
                damaged_line(skipped[name], _EXPECTED[name])
            if damage:
                self.damaged.append((os.path.join(self.path, self.sources[name]), damage))

    @property
    def exists(self):
        return self.target.isdir(self.inside)

    @property
    def usable(self):
        """Enough to tell drivers apart: an alias table and the module lists."""
        return "modules.alias" in self.sources and self.dep is not None and not self.damaged

    def builtin_aliases_listed(self, module):
        """Whether the built-in alias tables list any alias of ``module``.  A
        built-in driver's device table is not listed before Linux 6.18:
        modules.builtin.modinfo (5.2 on) carried only MODULE_ALIAS() names
        until kbuild's "Add generated modalias to modules.builtin.modinfo"
        (merged 2025-09-24), and kernels before 5.2 have no such file."""
        module = normalize_module(module)
        return any(alias["module"] == module for alias in self.builtin_aliases)

    def problem(self):
        """Why this tree cannot be judged, or None."""
        if not self.exists:
            return "no kernel modules directory %s" % self.path
        missing = [name for name in ("modules.alias", "modules.dep") if name not in self.sources]
        if missing:
            return "%s has no %s (depmod has not run for %s)" % (
                self.path, " or ".join(missing), self.release)
        if self.damaged:
            return "%s is damaged (%s)" % self.damaged[0]
        return None

    def _candidates(self, modalias):
        """``[(order, literal prefix, alias, built in)]`` of the patterns that
        can match ``modalias``, from an index built once: by bus (``pci``,
        ``virtio``...), then by the first ``BUCKET`` characters after it (a
        distribution kernel has 20,000 ``pci:`` patterns; a modalias can only
        match those whose literal prefix it starts with)."""
        if self._index is None:
            self._index = {}
            order = 0
            for table, builtin in ((self.builtin_aliases, True), (self.aliases, False)):
                for alias in table:
                    prefix = literal_prefix(alias["pattern"])
                    key = prefix.split(":", 1)[0] if ":" in prefix else None
                    buckets, short = self._index.setdefault(key, ({}, []))
                    width = len(key or "") + 1 + BUCKET
                    entry = (order, prefix, alias, builtin)
                    if len(prefix) >= width:
                        buckets.setdefault(prefix[:width], []).append(entry)
                    else:
                        short.append(entry)
                    order += 1
        bus = modalias.split(":", 1)[0]
        candidates = []
        for key in (bus, None):
            buckets, short = self._index.get(key, ({}, []))
            candidates.extend(buckets.get(modalias[:len(key or "") + 1 + BUCKET], ()))
            candidates.extend(short)
        return candidates

    def lookup(self, modalias):
        """Every alias line matching ``modalias``, in the tables' order (built-in
        aliases first, then modules.alias); built-in drivers first."""
        matches = []
        for order, prefix, alias, builtin in sorted(
                entry for entry in self._candidates(modalias) if modalias.startswith(entry[1])):
            # kmod matches the literal part byte for byte, fnmatch the rest
            if fnmatch(alias["pattern"][len(prefix):], modalias[len(prefix):]):
                match = dict(alias)
                match["builtin"] = builtin or self.is_builtin(alias["module"])
                matches.append(match)
        matches.sort(key=lambda m: not m["builtin"])
        return matches

    def is_builtin(self, module):
        return self.builtin is not None and normalize_module(module) in self.builtin

    def kind(self, module):
        """``built-in``, ``module`` or None (this kernel has no such driver)."""
        module = normalize_module(module)
        if self.is_builtin(module):
            return "built-in"
        if self.dep is not None and module in self.dep:
            return "module"
        return None

    def module_path(self, module):
        entry = (self.dep or {}).get(normalize_module(module))
        return entry["path"] if entry else None

    def dependencies(self, module):
        entry = (self.dep or {}).get(normalize_module(module))
        return list(entry["deps"]) if entry else []

    def missing_from_initramfs(self, module, carried):
        """``module`` and the modules it needs (modules.dep), those of them
        the set ``carried`` (an initramfs's module names) lacks, built-in
        ones aside: modprobe in the initramfs loads the dependencies first,
        from the initramfs.  Both KCONF-* and HW-* judge a module by this."""
        needed = [normalize_module(module)] + self.dependencies(module)
        return [name for name in needed if name not in carried and not self.is_builtin(name)]
