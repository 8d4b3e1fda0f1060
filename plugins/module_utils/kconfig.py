# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kconfig reader and the KCONF-* evaluation.

One reader of kernel configurations for every module: ``/proc/config.gz``,
``/boot/config-*``, ``/lib/modules/*/config`` or a ``.config`` about to be
built, plain or compressed (recognised by content, never by name).  The
header kconfig writes (``# Linux/x86 6.1.0 Kernel Configuration``) gives the
kernel version and the architecture family; ``CONFIG_64BIT``/``CONFIG_X86_64``
/``CONFIG_X86_32`` tell 32- from 64-bit x86.

Duplicate symbols: kconfig itself lets the last assignment win (with an
"override" warning), but a configuration kconfig wrote never repeats a symbol,
and the value that ends up in a kernel also depends on the symbol's
dependencies, which only ``make olddefconfig`` resolves.  A repeated symbol
with two different values therefore means a hand-edited or concatenated file
whose outcome this reader cannot vouch for: it is an error naming both lines
(run ``make olddefconfig`` and check the file it writes).  A symbol repeated
with the same value is harmless and only warned about.
"""

import bz2
import fnmatch
import lzma
import os
import re
import zlib

from ansible_collections.guestready.gce.plugins.module_utils import catalogue as cat
from ansible_collections.guestready.gce.plugins.module_utils import initramfs
from ansible_collections.guestready.gce.plugins.module_utils.host import live_root
from ansible_collections.guestready.gce.plugins.module_utils.results import record, summarize
from ansible_collections.guestready.gce.plugins.module_utils.target import Target, TargetError

MAX_SIZE = 64 * 1024 * 1024  # decompressed; real configurations are < 1 MiB

ASSIGN = re.compile(r"^CONFIG_([A-Za-z0-9_]+)=(.*)$")
NOT_SET = re.compile(r"^# CONFIG_([A-Za-z0-9_]+) is not set\s*$")
HEADER = re.compile(r"^# Linux/(\S+) (\S+) Kernel Configuration\s*$")
OLD_HEADER = re.compile(r"^# Linux kernel version: (\S+)\s*$")
VALUE = re.compile(r'^(y|m|n|"(?:[^"\\]|\\.)*"|-?[0-9]+|0[xX][0-9a-fA-F]+)$')

# magic -> compression name; None: recognised but not readable here
MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"BZh", "bzip2"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"\x04\x22\x4d\x18", "lz4"),
    (b"\x02\x21\x4c\x18", "lz4"),
    (b"\x89LZO", "lzo"),
)

NOT_SET_VALUE = "n"


class KconfigError(Exception):
    """A configuration that cannot be read; the message names the file."""


def _decompress(data, kind, source):
    try:
        if kind == "gzip":
            # wbits 16+: gzip container; loop over concatenated members
            out, rest = [], data
            while rest:
                dec = zlib.decompressobj(16 + zlib.MAX_WBITS)
                out.append(dec.decompress(rest, MAX_SIZE))
                if dec.unconsumed_tail:
                    raise KconfigError("%s: more than %d MiB once decompressed: not a kernel "
                                       "configuration" % (source, MAX_SIZE // 1048576))
                if not dec.eof:
                    raise KconfigError("%s: truncated gzip data (the compressed stream ends "
                                       "early)" % source)
                rest = dec.unused_data.lstrip(b"\x00")
            return b"".join(out)
        if kind == "xz":
            return lzma.decompress(data)
        if kind == "bzip2":
            return bz2.decompress(data)
    except KconfigError:
        raise
    except (zlib.error, lzma.LZMAError, OSError, EOFError, ValueError) as exc:
        detail = str(exc) or exc.__class__.__name__
        if isinstance(exc, EOFError) or "end-of-stream" in detail or "ended before" in detail:
            raise KconfigError("%s: truncated %s data (%s)" % (source, kind, detail))
        raise KconfigError("%s: corrupt %s data (%s)" % (source, kind, detail))
    raise KconfigError("%s: %s-compressed; decompress it first (the reader handles plain, gzip, "
                       "xz and bzip2 files)" % (source, kind))


def decode(data, source):
    """Bytes of a file -> ``(text, compression)``; KconfigError when it is not
    a text kernel configuration."""
    compression = None
    for magic, kind in MAGIC:
        if data.startswith(magic):
            compression = kind
            data = _decompress(data, kind, source)
            break
    if not data.strip():
        raise KconfigError("%s: empty%s" % (source, " once decompressed (%s)" % compression
                                            if compression else " file"))
    if b"\x00" in data:
        raise KconfigError("%s: binary data, not a text kernel configuration" % source)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        # string values may carry Latin-1 in old configurations
        text = data.decode("latin-1")
        if sum(1 for char in text if ord(char) < 32 and char not in "\t\n\r") > 0:
            raise KconfigError("%s: binary data, not a text kernel configuration" % source)
    return text, compression


def _unquote(value):
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def _arch_from(header_arch, values):
    """The catalogue's arch name from the header's family and the symbols."""
    family = (header_arch or "").lower()
    if family in ("x86", "") and (values.get("X86") == "y" or family == "x86"):
        if values.get("X86_64") == "y" or values.get("64BIT") == "y":
            return "x86_64"
        if values.get("X86_32") == "y" or values.get("64BIT") == NOT_SET_VALUE:
            return "x86_32"
        return None
    if not family and values.get("ARM64") == "y":
        return "arm64"
    if not family:
        return None
    return cat.normalize_arch(family)


class Kconfig(object):
    """A parsed configuration: ``values`` maps a symbol (without ``CONFIG_``)
    to its value as written (``"y"``, ``"m"``, a number, an unquoted string) or
    ``"n"`` for ``# CONFIG_X is not set``; an absent symbol has no key."""

    def __init__(self, source, values, lines, header_arch=None, header_version=None,
                 compression=None, warnings=None):
        self.source = source
        self.values = values
        self.lines = lines
        self.header_arch = header_arch
        self.header_version = header_version
        self.compression = compression
        self.warnings = warnings or []
        self.version = cat.parse_version(header_version) if header_version else None
        self.version_source = "header" if self.version else None
        self.arch = _arch_from(header_arch, values)
        self.arch_source = "header" if self.arch else None

    def get(self, name):
        return self.values.get(name)

    def present(self, name):
        return name in self.values

    def set_version(self, version, source):
        """Use ``version`` (``"4.9"``, ``(4, 9, 0)``, a release) when it parses."""
        parsed = cat.parse_version(version)
        if parsed is None:
            return False
        self.version, self.version_source = parsed, source
        return True

    def set_arch(self, arch, source):
        arch = cat.normalize_arch(arch)
        if not arch:
            return False
        self.arch, self.arch_source = arch, source
        return True

    def describe(self):
        return "%s (Linux %s, %s)" % (self.source, cat.format_version(self.version),
                                      self.arch or "unknown architecture")


def parse_text(text, source="<string>", compression=None):
    """Parse a configuration's text; KconfigError for duplicates with two
    values and for text that is not a kernel configuration at all."""
    values, lines, warnings = {}, {}, []
    header_arch = header_version = None
    unexpected = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        match = ASSIGN.match(line)
        if match:
            name, value = match.group(1), match.group(2).strip()
            if not VALUE.match(value):
                warnings.append("%s:%d: CONFIG_%s has an invalid value %r (kconfig ignores it)"
                                % (source, number, name, value))
                continue
            value = _unquote(value)
        else:
            match = NOT_SET.match(line)
            if match:
                name, value = match.group(1), NOT_SET_VALUE
            else:
                if line.startswith("#"):
                    header = HEADER.match(line)
                    if header and header_version is None:
                        header_arch, header_version = header.group(1), header.group(2)
                    old = OLD_HEADER.match(line)
                    if old and header_version is None:
                        header_version = old.group(1)
                else:
                    unexpected.append(number)
                continue
        if name in values:
            if values[name] != value:
                raise KconfigError(
                    "%s: CONFIG_%s is set twice with different values: line %d (%s) and line %d "
                    "(%s); kconfig would keep the last, but a configuration kconfig wrote never "
                    "repeats a symbol: run `make olddefconfig` and check the file it writes"
                    % (source, name, lines[name], _show(values[name]), number, _show(value)))
            warnings.append("%s: CONFIG_%s is repeated with the same value (lines %d and %d)"
                            % (source, name, lines[name], number))
            continue
        values[name], lines[name] = value, number
    if not values:
        raise KconfigError("%s: no CONFIG_ options found: not a kernel configuration" % source)
    if unexpected:
        shown = ", ".join(str(n) for n in unexpected[:5])
        if len(unexpected) > len(values):
            raise KconfigError("%s: not a kernel configuration (%d lines are neither options "
                               "nor comments, first at line %s)"
                               % (source, len(unexpected), unexpected[0]))
        warnings.append("%s: %d line(s) are neither options nor comments (line %s%s); kconfig "
                        "ignores them" % (source, len(unexpected), shown,
                                          ", ..." if len(unexpected) > 5 else ""))
    if not text.endswith("\n"):
        warnings.append("%s: the last line has no newline: the file may be truncated" % source)
    return Kconfig(source, values, lines, header_arch, header_version, compression, warnings)


def read(path, version=None, arch=None, target=None):
    """Read and parse the configuration at ``path`` (inside ``target``, the
    live system by default; only a regular file is read).
    ``version``/``arch`` override what the header says."""
    target = target or Target("/")
    shown = target.display(path)
    try:
        with target.open(path) as handle:
            data = handle.read(MAX_SIZE + 1)
    except TargetError as exc:
        raise KconfigError(str(exc))
    except (IOError, OSError) as exc:
        raise KconfigError("%s: cannot read: %s" % (shown, exc.strerror or exc))
    if len(data) > MAX_SIZE:
        raise KconfigError("%s: larger than %d MiB: not a kernel configuration"
                           % (shown, MAX_SIZE // 1048576))
    text, compression = decode(data, shown)
    config = parse_text(text, shown, compression)
    if version:
        if not config.set_version(version, "override"):
            raise KconfigError("version %r is not a kernel version (for example 6.1 or 4.9.0)"
                               % (version,))
    if arch:
        config.set_arch(arch, "override")
    return config


# --------------------------------------------------------------------------
# evaluation
# --------------------------------------------------------------------------

def _show(value):
    if value is None:
        return "absent"
    if value == NOT_SET_VALUE:
        return "not set"
    return value


def _number(value):
    try:
        return int(str(value), 0)
    except (TypeError, ValueError):
        return None


def satisfied(value, expected, compare):
    """Does a symbol's value (None: absent) meet ``expected`` by ``compare``?"""
    if compare == "not_set":
        return value is None or value == NOT_SET_VALUE
    if value is None or value == NOT_SET_VALUE:
        return False
    if compare == "at_least":
        number, wanted = _number(value), _number(expected)
        return number is not None and wanted is not None and number >= wanted
    if compare == "one_of":
        return value in [str(item) for item in expected]
    return str(value) == str(expected)


def expectation(entry, arch):
    """``(expected, compare)`` for ``entry`` on ``arch``: an override wins over
    the per-architecture value."""
    expected = entry["expected"]
    if "overridden_from" not in entry and arch in entry.get("expected_by_arch", {}):
        expected = entry["expected_by_arch"][arch]
    return expected, entry["compare"]


def _line(name, value, compare):
    if compare == "not_set":
        return "# CONFIG_%s is not set" % name
    return "CONFIG_%s=%s" % (name, value)


def _remedy_symbols(entry, config, applicable):
    own = [s for s in applicable if not s["compare"] and s.get("remedy") is not False]
    known = [s for s in own if config.present(s["name"])]
    return (known or own)[-1:] if own else []


def _span(symbol):
    since, until = symbol["since"], symbol["until"]
    text = "CONFIG_%s" % symbol["name"]
    if since:
        text += " since %s" % cat.format_version(since)
    if until:
        text += " before %s" % cat.format_version(until)
    return text


def _exists(name, version):
    """False when the catalogue knows ``name`` only outside ``version``."""
    ranges = [s for e in cat.KERNEL_OPTIONS for s in e["symbols"] if s["name"] == name]
    return not ranges or any(cat.in_range(version, s["since"], s["until"]) for s in ranges)


def _bounded(symbol):
    return symbol["since"] is not None or symbol["until"] is not None


def evaluate_entry(entry, config, initramfs=None):
    """One result record for catalogue ``entry`` against ``config``.

    ``initramfs``: what is known of the kernel's initramfs, for tristate
    drivers found ``=m``: None when it was not looked at, else a dict with
    ``path``, ``method``, ``error`` and ``modules`` (a set, or None when it
    could not be inspected)."""
    arch, version = config.arch, config.version
    evidence = {"config": config.source, "version": cat.format_version(version),
                "arch": arch, "tried": []}

    def result(status, message, expected, symbol=None, actual=None, lines=(), **extra):
        lines = list(lines)
        return record(entry, status, expected=expected, actual=actual, evidence=evidence,
                      message=message, remediation="; ".join(lines), symbol=symbol,
                      found=_show(actual), fragment_lines=lines, **extra)

    expected, compare = expectation(entry, arch)
    if not cat.applies_to_arch(entry, arch):
        return result("not-applicable", "applies to %s only; this kernel is %s"
                      % (", ".join(entry["arches"]), arch), expected)

    applicable = [s for s in entry["symbols"] if cat.in_range(version, s["since"], s["until"])]
    for symbol in applicable:
        value = config.get(symbol["name"])
        wanted = symbol["expected"] or expected
        how = symbol["compare"] or compare
        evidence["tried"].append({"symbol": symbol["name"], "value": _show(value)})
        if satisfied(value, wanted, how):
            if how == "not_set":
                detail = "absent" if value is None else "not set"
                message = "CONFIG_%s is %s" % (symbol["name"], detail)
            else:
                message = "CONFIG_%s=%s" % (symbol["name"], value)
            if (symbol["name"] != entry["symbols"][0]["name"] and not symbol["compare"]
                    and symbol.get("remedy") is not False):
                message += " (the name of %s in %s)" % (
                    entry["symbols"][0]["name"],
                    "Linux %s" % cat.format_version(version) if version else
                    "this configuration; kernel version unknown")
            if symbol["note"]:
                message += ": " + symbol["note"]
            return result("pass", message, wanted, symbol["name"], value)

    remedies = _remedy_symbols(entry, config, applicable)
    lines = [_line(s["name"], expected, compare) for s in remedies]
    primary = remedies[0]["name"] if remedies else (
        applicable[0]["name"] if applicable else entry["symbols"][0]["name"])
    value = config.get(primary)

    folded = entry.get("folded_into")
    if folded and (not applicable or not any(config.present(s["name"]) for s in applicable)):
        fold_value = config.get(folded)
        evidence["tried"].append({"symbol": folded, "value": _show(fold_value)})
        why = ("does not exist in Linux %s" % cat.format_version(version)) if not applicable \
            else "is not in this configuration"
        if satisfied(fold_value, "y", "exact"):
            return result("pass", "CONFIG_%s %s: it is folded into CONFIG_%s, which is y"
                          % (entry["symbols"][0]["name"], why, folded), "y", folded, fold_value)
        if not _exists(folded, version):
            return result("fail", "Linux %s has neither CONFIG_%s nor CONFIG_%s: it needs another "
                          "kernel version" % (cat.format_version(version),
                                              entry["symbols"][0]["name"], folded),
                          "y", folded, None)
        fold_lines = [_line(folded, "y", "exact")]
        if version is not None:
            fold_lines += [line for s, line in zip(remedies, lines) if _bounded(s)]
        return result("fail", "CONFIG_%s %s and CONFIG_%s, which it is folded into, is %s"
                      % (entry["symbols"][0]["name"], why, folded, _show(fold_value)),
                      "y", folded, fold_value, fold_lines)

    if not applicable and compare == "not_set":
        return result("pass", "CONFIG_%s does not exist in Linux %s: nothing to disable"
                      % (entry["symbols"][0]["name"], cat.format_version(version)), expected)

    if entry.get("tristate") and value == "m":
        return _module_result(entry, primary, expected, lines, initramfs, result)

    if not applicable:
        spans = ", ".join(_span(s) for s in entry["symbols"] if not s["compare"])
        return result("fail", "Linux %s has no option for this requirement (%s): it needs "
                      "another kernel version" % (cat.format_version(version), spans),
                      expected, primary, None, lines)
    if value is None:
        found = " is absent"
    elif value == NOT_SET_VALUE:
        found = " is not set"
    else:
        found = "=%s" % value
    wanted = {"not_set": "not set", "at_least": "at least %s" % expected}.get(
        compare, "=%s" % expected)
    message = "CONFIG_%s%s, expected %s" % (primary, found, wanted)
    if arch in entry.get("expected_by_arch", {}) and "overridden_from" not in entry:
        message += " (%s)" % arch
    if version is None:
        message += " (kernel version unknown: every name was tried)"
    if arch is None and entry["arches"]:
        message += " (architecture unknown: it applies to %s only)" % ", ".join(entry["arches"])
    return result("fail", message, expected, primary, value, lines)


def _module_result(entry, symbol, expected, lines, initramfs, result):
    module = entry.get("module") or symbol.lower()
    base = "CONFIG_%s=m: built as module %s" % (symbol, module)
    if initramfs is None:
        return result("unknown", base + "; the initramfs was not checked", expected, symbol, "m",
                      lines, module=module, initramfs=None)
    shown = dict((key, initramfs.get(key)) for key in ("path", "method", "error"))
    if not initramfs.get("path"):
        return result("unknown", base + "; no initramfs found to check (%s)"
                      % (initramfs.get("error") or "none given"),
                      expected, symbol, "m", lines, module=module, initramfs=shown)
    if initramfs.get("modules") is None:
        return result("unknown", base + "; could not inspect %s: %s"
                      % (initramfs["path"], initramfs.get("error")),
                      expected, symbol, "m", lines, module=module, initramfs=shown)
    if module in initramfs["modules"]:
        return result("module-in-initramfs", base + ", present in %s" % initramfs["path"],
                      expected, symbol, "m", module=module, initramfs=shown)
    return result("module-missing-from-initramfs",
                  base + ", missing from %s" % initramfs["path"], expected, symbol, "m",
                  lines, module=module, initramfs=shown,
                  hint="add %s to the initramfs (initramfs-tools: /etc/initramfs-tools/modules, "
                       "then update-initramfs -u; dracut: add_drivers+=\" %s \")" % (module, module))


def evaluate(entries, config, waivers=None, initramfs=None):
    """Results for every KCONF-* ``entries`` (catalogue order), waivers applied."""
    waivers = waivers or {}
    results = []
    for entry in entries:
        result = evaluate_entry(entry, config, initramfs)
        if entry["id"] in waivers:
            reason = waivers[entry["id"]]
            result.update(status="waived", waiver=reason,
                          message="waived: %s (found: %s)" % (reason, result["message"]))
        results.append(result)
    return results


FRAGMENT_STATUSES = ("fail", "module-missing-from-initramfs")


def render_fragment(results, config=None):
    """A kconfig fragment (for ``scripts/kconfig/merge_config.sh``) with the
    lines that make the failing requirements pass, in the option names of the
    configuration's kernel version."""
    head = ["# guestready.gce: kernel options that Compute Engine's image requirements need"]
    if config is not None:
        head.append("# for %s" % config.describe())
    head += ["# merge: scripts/kconfig/merge_config.sh -m .config <this file> && make olddefconfig",
             "# (merge_config.sh reports any value a missing dependency keeps out)"]
    body, seen = [], set()
    for result in results:
        lines = [line for line in result.get("fragment_lines") or [] if line not in seen]
        if result["status"] in FRAGMENT_STATUSES and lines:
            body.append("# %s: %s" % (result["id"], result["message"]))
            body.extend(lines)
            seen.update(lines)
        elif result["status"] == "unknown" and result.get("found") == "m" and lines:
            body.append("# %s: %s" % (result["id"], result["message"]))
            body.append("# (building it in needs no initramfs:) %s" % lines[0])
    if not body:
        body = ["# nothing to change: no KCONF-* requirement fails"]
    return "\n".join(head + body) + "\n"


# --------------------------------------------------------------------------
# where configurations live, and one kernel's whole check
# --------------------------------------------------------------------------

PROC_CONFIG = "/proc/config.gz"


def running_candidates(release, live=True):
    """Where kernel ``release``'s configuration may be, inside the root, in
    the order tried: ``/proc/config.gz`` (only for the kernel running here),
    ``/boot/config-R``, ``/lib/modules/R/config``, ``/usr/lib/modules/R/config``."""
    paths = [PROC_CONFIG] if live else []
    return paths + ["/boot/config-%s" % release, "/lib/modules/%s/config" % release,
                    "/usr/lib/modules/%s/config" % release]


def installed_configs(target):
    """``[(release, path)]`` of every kernel configuration installed inside
    ``target`` (``/boot/config-*``, and ``/lib/modules/*/config`` for kernels,
    like Debian's newest, that ship none in /boot), oldest version first;
    paths inside the root."""
    found, seen = {}, set()
    candidates = []
    for directory in ("/boot", "/lib/modules", "/usr/lib/modules"):
        try:
            names = target.listdir(directory)
        except TargetError:
            continue
        for name in names:
            if directory == "/boot":
                if fnmatch.fnmatchcase(name, "config-*"):
                    candidates.append((name[len("config-"):], "/boot/" + name))
            else:
                candidates.append((name, "%s/%s/config" % (directory, name)))
    for release, path in candidates:
        if path.endswith("~") or ".dpkg-" in path or release in found or not target.isfile(path):
            continue
        real = target.host_path(path)
        if real in seen:
            continue
        seen.add(real)
        found[release] = path
    return sorted(found.items(), key=lambda item: (cat.parse_version(item[0]) or (0, 0, 0), item[0]))


def default_release(target, installed):
    """The kernel an image tree boots by default: the target of its
    ``/vmlinuz`` (or ``/boot/vmlinuz``) link, else the newest installed."""
    for link in ("/vmlinuz", "/boot/vmlinuz"):
        if target.islink(link):
            name = os.path.basename(target.readlink(link))
            if name.startswith("vmlinuz-"):
                release = name[len("vmlinuz-"):]
                if any(release == found for found, dummy in installed):
                    return release
    return installed[-1][0] if installed else None


def _initramfs_view(path, release, target, check):
    if not check:
        return None
    where = path or initramfs.find_initramfs(release, target)
    if not where:
        looked = ", ".join(target.display("/boot/" + name % (release or "<release>"))
                           for name in ("initrd.img-%s", "initramfs-%s.img", "initrd-%s"))
        return {"path": None, "method": None, "modules": None,
                "error": "looked for %s" % looked if release else
                "kernel release unknown: set kernel_release or initramfs"}
    names, method, error = initramfs.kernel_modules(where, target=target)
    return {"path": target.display(where), "method": method, "modules": names, "error": error}


def check_kernel(entries, waivers, release, path, source, target, version=None, arch=None,
                 machine=None, check_initramfs=True, initramfs_path=None):
    """Everything known of one kernel: its configuration (``path`` inside
    ``target``) read and judged, its initramfs looked into when a required
    driver is ``=m``.  KconfigError when the configuration cannot be read."""
    config = read(path, version=version, arch=arch, target=target)
    if config.version is None and release:
        config.set_version(release, "release")
    if config.arch is None and machine:
        config.set_arch(machine, "running kernel")
    needs = any(entry.get("tristate") and cat.applies_to_arch(entry, config.arch)
                and any(config.get(s["name"]) == "m" for s in entry["symbols"])
                for entry in entries)
    view = _initramfs_view(initramfs_path, release, target, check_initramfs) if needs else None
    results = evaluate(entries, config, waivers, view)
    shown = None
    if view is not None:
        shown = dict((key, view[key]) for key in ("path", "method", "error"))
    return {
        "release": release,
        "config": target.display(path),
        "source": source,
        "version": cat.format_version(config.version),
        "version_source": config.version_source,
        "arch": config.arch,
        "arch_source": config.arch_source,
        "compression": config.compression,
        "initramfs": shown,
        "results": results,
        "summary": summarize(results),
        "fragment": render_fragment(results, config),
        "warnings": config.warnings,
        "error": None,
    }


def unreadable_kernel(entries, release, path, source, message):
    """The entry for a kernel whose configuration could not be read: every
    requirement ``unknown``, with the reason."""
    results = [record(entry, "unknown", message="cannot judge: %s" % message,
                      evidence={"config": path}, symbol=None, found=None, fragment_lines=[])
               for entry in entries]
    return {"release": release, "config": path, "source": source, "version": None,
            "version_source": None, "arch": None, "arch_source": None, "compression": None,
            "initramfs": None, "results": results, "summary": summarize(results),
            "fragment": "", "warnings": [], "error": message}


# --------------------------------------------------------------------------
# The kernel_config_info module's work (shared with compliance_info)
# --------------------------------------------------------------------------

AREAS = ("kernel-required", "kernel-security")
ARGUMENT_SPEC = dict(
    source=dict(type="str", default="running", choices=["running", "installed", "path"]),
    path=dict(type="path"),
    root=dict(type="path", default="/"),
    kernel_release=dict(type="str"),
    version=dict(type="str"),
    arch=dict(type="str"),
    check_initramfs=dict(type="bool", default=True),
    initramfs=dict(type="path"),
)
REQUIRED_IF = [("source", "path", ["path"])]


def check_kernels(params, entries, waivers, module):
    """Check the kernels ``params`` select (the module's options; warnings go
    to ``module.warn``); returns the module's result fields; bad input raises
    KconfigError."""
    warn = module.warn
    root = params["root"]
    target = Target(root)
    live = live_root(root)
    running = os.uname()[2] if live else None
    machine = os.uname()[4] if live else None
    common = dict(target=target, version=params["version"], arch=params["arch"],
                  check_initramfs=params["check_initramfs"], initramfs_path=params["initramfs"])

    def check(release, path, source):
        return check_kernel(entries, waivers, release, path, source,
                            machine=machine if release == running else None, **common)

    kernels, top = [], None
    if params["source"] == "path":
        path = params["path"]
        release = params["kernel_release"]
        name = os.path.basename(path)
        if not release and name.startswith("config-"):
            release = name[len("config-"):]
        kernels.append(check(release, path, "path"))
    elif params["source"] == "running":
        installed = installed_configs(target)
        release = params["kernel_release"] or running or default_release(target, installed)
        if not release:
            raise KconfigError("%s: no kernel configuration found under it "
                               "(boot/config-*, lib/modules/*/config)" % root)
        tried = running_candidates(release, live=live and release == running)
        path = next((p for p in tried if target.exists(p)), None)
        if path is None:
            raise KconfigError("no configuration for kernel %s: tried %s (a kernel without "
                               "CONFIG_IKCONFIG_PROC has no /proc/config.gz; give "
                               "source=path)" % (release, ", ".join(target.display(p) for p in tried)))
        kernels.append(check(release, path, target.display(path)))
    else:
        installed = installed_configs(target)
        if not installed:
            raise KconfigError("%s: no installed kernel configuration (boot/config-*, "
                               "lib/modules/*/config)" % root)
        for release, path in installed:
            try:
                kernels.append(check(release, path, "installed"))
            except KconfigError as exc:
                warn(str(exc))
                kernels.append(unreadable_kernel(entries, release, target.display(path),
                                                 "installed", str(exc)))
        wanted = params["kernel_release"] or running or default_release(target, installed)
        top = next((k for k in kernels if k["release"] == wanted), None)
    top = top or kernels[-1]
    for kernel in kernels:
        for warning in kernel["warnings"]:
            warn(warning)
    return dict(kernel=top["release"], config=top["config"], results=top["results"],
                summary=top["summary"], fragment=top["fragment"], kernels=kernels)
