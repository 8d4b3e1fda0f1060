# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kernel configuration reader: bytes in, a parsed ``Kconfig`` out.

One reader for every module: ``/proc/config.gz``, ``/boot/config-*``,
``/lib/modules/*/config`` or a ``.config`` about to be built, plain or
compressed (recognised by content, never by name).  The header kconfig writes
(``# Linux/x86 6.1.0 Kernel Configuration``) gives the kernel version and the
architecture family; ``CONFIG_64BIT``/``CONFIG_X86_64``/``CONFIG_X86_32`` tell
32- from 64-bit x86.  Without a header the architecture is inferred from the
options and the result says so and from which option.

Two forms of configuration exist, and they mean different things by an
absent option:

* *full*: what ``make *config`` writes (``.config``, ``/boot/config-*``):
  every visible option is listed, ``n`` ones as ``# CONFIG_X is not set``, and
  so are the promptless ones architectures select (``CONFIG_HAVE_*``,
  ``CONFIG_ARCH_HAS_*``, ``CONFIG_GENERIC_*``: hundreds of them).  An absent
  option does not exist in that kernel.
* *minimal*: what ``make savedefconfig`` writes, and defconfig files and
  fragments: no header, only the options that differ from their Kconfig
  default, none of the promptless ones.  An absent option has its default
  (``kconfig_eval`` knows some of them from the catalogue).

A file with a kconfig header, or with at least ``FULL_MARKERS`` promptless
options, is full; anything else is minimal.  ``Kconfig.form_evidence`` says
what decided it.

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
import lzma
import re
import zlib

from ansible_collections.guestready.gce.plugins.module_utils import catalogue as cat
from ansible_collections.guestready.gce.plugins.module_utils.configfiles import lines as text_lines
from ansible_collections.guestready.gce.plugins.module_utils.target import Target, TargetError, Unreadable, read_at_most

# plain or decompressed: the largest real configurations are < 0.5 MiB (15,000
# lines); parsing takes about 14 times the text's size in memory, so 64 MiB
# of options would take 0.9 GiB, more than a small guest has
MAX_SIZE = 8 * 1024 * 1024
# concatenated compressed streams: /proc/config.gz is one, a hand-made file a few
MAX_STREAMS = 64

ASSIGN = re.compile(r"^CONFIG_([A-Za-z0-9_]+)=(.*)$")
# kconfig before Linux 6.8 takes anything that starts with "is not set" (strncmp);
# 6.8's reads the exact words only (strcmp, "kconfig: require an exact match for
# \"is not set\" to disable CONFIG option"): anything after them is ``loose``
NOT_SET = re.compile(r"^# CONFIG_([A-Za-z0-9_]+) is not set(.*)$")
EXACT_NOT_SET_SINCE = (6, 8)
HEADER = re.compile(r"^# Linux/(\S+) (\S+) Kernel Configuration\s*$")
OLD_HEADER = re.compile(r"^# Linux kernel version: (\S+)\s*$")
VALUE = re.compile(r'^(y|m|n|"(?:[^"\\]|\\.)*"|-?[0-9]+|0[xX][0-9a-fA-F]+)$')
# a line naming an option that kconfig skips (confdata.c conf_read_simple reads
# "CONFIG_" and "# CONFIG_" at the start of the line only, and takes the name up
# to "=": "CONFIG_X = y" names no option "X "): indented, or a space before "="
IGNORED = re.compile(r"^(?:\s+CONFIG_([A-Za-z0-9_]+)\s*=|\s*CONFIG_([A-Za-z0-9_]+)\s+=|"
                     r"\s+# CONFIG_([A-Za-z0-9_]+) is not set)")
# promptless options architectures select: every full configuration lists
# dozens to hundreds of them (Debian's: 185-257), a minimal one none (the
# kernel's x86_64_defconfig, Alpine's virt.x86_64.config, Flatcar's
# commonconfig: 0; arm64's defconfig: 1)
PROMPTLESS = re.compile(r"^(HAVE_|ARCH_HAS_|ARCH_WANT|ARCH_SUPPORTS_|GENERIC_)")
FULL_MARKERS = 10

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

# options that exist on one architecture only: any of them in a file without
# a header tells the architecture (first match wins, explicit ones first)
# (CONFIG_ARM=y is 32-bit arm's own: arch/arm/Kconfig "config ARM"; arm64's
# configurations have CONFIG_ARM64 and no CONFIG_ARM; its header says "Linux/arm")
# and the other architectures' own promptless symbols, named as their headers
# name them (arch/powerpc "config PPC", arch/s390 "config S390", arch/riscv
# "config RISCV", ...: def_bool y, in every full configuration of theirs):
# without them such a file was "architecture unknown" and failed the x86 ones
ARCH_MARKERS = (
    ("X86_64", "y", "x86_64"), ("X86_32", "y", "x86_32"), ("ARM64", "y", "arm64"),
    ("ARM", "y", "arm"), ("PPC", "y", "powerpc"), ("S390", "y", "s390"), ("RISCV", "y", "riscv"),
    ("LOONGARCH", "y", "loongarch"), ("MIPS", "y", "mips"), ("SPARC", "y", "sparc"),
    ("IA32_EMULATION", None, "x86_64"), ("X86_X32", None, "x86_64"),
    ("X86_X32_ABI", None, "x86_64"), ("X86_5LEVEL", None, "x86_64"),
    ("X86_PAE", None, "x86_32"), ("HIGHMEM4G", None, "x86_32"), ("HIGHMEM64G", None, "x86_32"),
)


class KconfigError(Exception):
    """A configuration that cannot be read; the message names the file."""


_DECOMPRESSORS = {
    "gzip": lambda: zlib.decompressobj(16 + zlib.MAX_WBITS),  # wbits 16+: gzip container
    "xz": lzma.LZMADecompressor,
    "bzip2": bz2.BZ2Decompressor,
}


def _decompress(data, kind, source):
    """Every concatenated stream of ``data``, at most MAX_SIZE bytes of
    output (a small bomb must not fill the memory)."""
    if kind not in _DECOMPRESSORS:
        raise KconfigError("%s: %s-compressed; decompress it first (the reader handles plain, "
                           "gzip, xz and bzip2 files)" % (source, kind))
    out, rest, size, streams = [], data, 0, 0
    try:
        while rest:
            streams += 1
            if streams > MAX_STREAMS:
                raise KconfigError("%s: more than %d concatenated %s streams: not a kernel "
                                   "configuration" % (source, MAX_STREAMS, kind))
            dec = _DECOMPRESSORS[kind]()
            chunk = dec.decompress(rest, MAX_SIZE + 1 - size)
            size += len(chunk)
            out.append(chunk)
            if size > MAX_SIZE:
                raise KconfigError("%s: more than %d MiB once decompressed: not a kernel "
                                   "configuration" % (source, MAX_SIZE // 1048576))
            if not dec.eof:
                raise KconfigError("%s: truncated %s data (the compressed stream ends early)"
                                   % (source, kind))
            rest = dec.unused_data.lstrip(b"\x00")
    except KconfigError:
        raise
    except (zlib.error, lzma.LZMAError, OSError, EOFError, ValueError, MemoryError) as exc:
        detail = str(exc) or exc.__class__.__name__
        raise KconfigError("%s: corrupt %s data (%s)" % (source, kind, detail))
    return b"".join(out)


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
        if any(ord(char) < 32 and char not in "\t\n\r\f\v" for char in text):
            raise KconfigError("%s: binary data, not a text kernel configuration" % source)
    return text, compression


def _unquote(value):
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def show_value(value):
    """A value as the results show it: ``absent``, ``not set`` or itself."""
    if value is None:
        return "absent"
    if value == NOT_SET_VALUE:
        return "not set"
    return value


def _header_arch(family, values):
    """The catalogue's arch name from the header's family and the symbols."""
    family = family.lower()
    if family in ("x86", "i386", "x86_64"):
        if family == "x86_64" or values.get("X86_64") == "y" or values.get("64BIT") == "y":
            return "x86_64"
        if family == "i386" or values.get("X86_32") == "y" or values.get("64BIT") == NOT_SET_VALUE:
            return "x86_32"
        return None
    return cat.normalize_arch(family)


def _written(name, value):
    if value == NOT_SET_VALUE:
        return "CONFIG_%s is not set" % name
    return "CONFIG_%s=%s" % (name, value)


def infer_arch(values):
    """``(arch, evidence)`` from the options of a file without a header;
    ``(None, None)`` when nothing tells."""
    for name, wanted, arch in ARCH_MARKERS:
        if name in values and (wanted is None or values[name] == wanted):
            return arch, _written(name, values[name])
    x86 = sorted(name for name in values if name.startswith("X86_"))
    if (values.get("X86") == "y" or x86) and values.get("64BIT") in ("y", NOT_SET_VALUE):
        return ("x86_64" if values["64BIT"] == "y" else "x86_32"), "%s with %s" % (
            _written("64BIT", values["64BIT"]), "CONFIG_X86=y" if values.get("X86") == "y"
            else "CONFIG_%s (an x86 option)" % x86[0])
    arm64 = sorted(name for name in values if name.startswith("ARM64_") or "_ARM64" in name)
    if arm64:
        return "arm64", "CONFIG_%s (an arm64 option)" % arm64[0]
    return None, None


def _string_value(text):
    """A string option's value as conf_set_sym_val reads it: from an opening
    quote to the first quote no backslash escapes, each backslash dropped and
    the character after it kept; what follows the closing quote is not read
    (``"a" # note`` is a); None without both quotes."""
    if text[:1] != '"':
        return None
    value, index = [], 1
    while index < len(text):
        char = text[index]
        if char == '"':
            return "".join(value)
        if char == "\\":
            index += 1
            if index == len(text):
                return None
            char = text[index]
        value.append(char)
        index += 1
    return None


INT_VALUE = re.compile(r"^-?(?:0|[1-9][0-9]*)$")
HEX_VALUE = re.compile(r"^(?:0[xX])?[0-9a-fA-F]+$")


def kconfig_value(text, kind):
    """What kconfig makes of ``text`` (as written after ``CONFIG_X=``) for an
    option of type ``kind`` (bool, tristate, int, hex, string): the value, or
    None when it ignores it.  As scripts/kconfig/confdata.c conf_set_sym_val:
    a bool or tristate reads only the first character (``y``, ``n``, and ``m``
    for a tristate: ``y # note`` and ``yes`` are y, ``"n"`` is ignored); an
    int, hex or string value must be one sym_string_valid accepts (an int
    ``0x10000`` or ``"65536"`` is ignored)."""
    if kind in ("bool", "tristate"):
        first = text[:1]
        return first if first in ("y", "n") or (first == "m" and kind == "tristate") else None
    if kind == "int":
        return text if INT_VALUE.match(text) else None
    if kind == "hex":
        return text if HEX_VALUE.match(text) else None
    if kind == "string":
        return _string_value(text)
    raise ValueError("kind %r" % (kind,))


class Kconfig(object):
    """A parsed configuration: ``values`` maps a symbol (without ``CONFIG_``)
    to its value as written (``"y"``, ``"m"``, a number, an unquoted string) or
    ``"n"`` for ``# CONFIG_X is not set``; an absent symbol has no key.
    ``history`` maps a symbol to ``(line, text, loose)`` of every line that
    sets it, in order: ``text`` as written after ``CONFIG_X=`` (a value
    kconfig never writes included: ``y # note``, ``yes``, ``"n"``;
    ``kconfig_value`` says what kconfig makes of it once the option's type is
    known), or None for a ``# CONFIG_X is not set`` (``loose``: with more
    after it); ``written`` its last ``CONFIG_X=`` line as ``(line, text)``.  ``ignored`` maps a symbol to ``(line, text)`` of
    the first line naming it that kconfig skips (indented, or ``CONFIG_X = y``);
    ``loose`` maps a symbol to the line number of a ``# CONFIG_X is not set``
    with more after it (n before Linux 6.8's kconfig, skipped since).

    ``form`` is ``"full"`` or ``"minimal"`` (see the module's docstring) and
    ``form_evidence`` the observations that decided it.  ``version_source``
    and ``arch_source`` say where version and architecture came from:
    ``header``, ``release``, ``running kernel``, ``override``, or for the
    architecture ``inferred from <option>``."""

    def __init__(self, source, values, lines, header_arch=None, header_version=None,
                 compression=None, warnings=None, history=None, ignored=None, loose=None):
        self.source = source
        self.values = values
        self.history = history or {}
        self.ignored = ignored or {}
        self.loose = loose or {}
        self.lines = lines
        self.header_arch = header_arch
        self.header_version = header_version
        self.compression = compression
        self.warnings = warnings or []
        self.version = cat.parse_version(header_version) if header_version else None
        self.version_source = "header" if self.version else None
        self.arch = self.arch_source = None
        if header_arch:
            self.arch = _header_arch(header_arch, values)
            self.arch_source = "header" if self.arch else None
        if self.arch is None:
            arch, evidence = infer_arch(values)
            if arch:
                self.arch, self.arch_source = arch, "inferred from %s" % evidence
        self.form, self.form_evidence = self._form()

    @property
    def written(self):
        """``{symbol: (line, text)}`` of each symbol's last ``CONFIG_X=`` line."""
        return dict((name, (number, text)) for name, rows in self.history.items()
                    for number, text, dummy in rows if text is not None)

    def _form(self):
        promptless = sum(1 for name in self.values if PROMPTLESS.match(name))
        count = "%d option(s), %d of them promptless ones kconfig always writes " \
                "(CONFIG_HAVE_*, CONFIG_ARCH_HAS_*, CONFIG_GENERIC_*...)" % (len(self.values), promptless)
        if self.header_version:
            return "full", ["kconfig header: Linux %s" % self.header_version, count]
        evidence = ["no '# Linux/<arch> <version> Kernel Configuration' header", count]
        return ("full" if promptless >= FULL_MARKERS else "minimal"), evidence

    @property
    def minimal(self):
        return self.form == "minimal"

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
        # "x86" is the kernel's family of both (ARCH=x86, the header's
        # "Linux/x86"): the options say which, as for the header
        family = (arch or "").strip().lower()
        arch = _header_arch(family, self.values) if family == "x86" else cat.normalize_arch(family)
        if not arch:
            return False
        self.arch, self.arch_source = arch, source
        return True

    def describe(self):
        return "%s (Linux %s, %s%s)" % (self.source, cat.format_version(self.version),
                                        self.arch or "unknown architecture",
                                        ", minimal configuration" if self.minimal else "")

    def notes(self):
        """What a reader of the results must know about how this file was
        read: its form, and version or architecture not from a header."""
        notes = []
        if self.minimal:
            notes.append("%s: a minimal configuration (savedefconfig/defconfig style: %s): an "
                         "option it does not list is judged by its Kconfig default where the "
                         "catalogue knows it, else unknown%s"
                         % (self.source, "; ".join(self.form_evidence),
                            "" if self.version else "; give the kernel version (version or "
                            "kernel_release), most defaults depend on it"))
        elif not self.header_version:
            notes.append("%s: no kconfig header: kernel version %s, architecture %s"
                         % (self.source,
                            "from the %s" % self.version_source if self.version else "unknown",
                            "%s %s" % (self.arch, self.arch_source) if self.arch else "unknown"))
        return notes


def _shown_lines(numbers):
    """The first line numbers of a warning (``4, 9, ...``)."""
    return ", ".join(str(n) for n in numbers[:5]) + (", ..." if len(numbers) > 5 else "")


def parse_text(text, source="<string>", compression=None):
    """Parse a configuration's text; KconfigError for duplicates with two
    values and for text that is not a kernel configuration at all."""
    values, lines, warnings, history = {}, {}, [], {}
    header_arch = header_version = None
    unexpected, spaced, ignored, skipped_lines, loose = [], [], {}, [], {}
    for number, raw in enumerate(text_lines(text, keepends=True), 1):
        # conf_read_simple reads up to "\n" only and drops one "\r" before it (a last line without
        # one keeps its "\r"): a form feed or a lone "\r" (which str.splitlines() splits at) is part
        # of the value
        raw = raw[:-2] if raw.endswith("\r\n") else raw[:-1] if raw.endswith("\n") else raw
        line = raw.strip()
        if not line:
            continue
        match = ASSIGN.match(raw)
        if not match:
            skipped = IGNORED.match(raw)
            if skipped:
                # kconfig skips the line: the option keeps its Kconfig default unless
                # another line sets it (kconfig_eval.resolve), which the file does not show
                name = next(group for group in skipped.groups() if group)
                ignored.setdefault(name, (number, line))
                skipped_lines.append(number)
                continue
        if match:
            # kconfig strips the line break only: a space or tab around the value is
            # part of it (``history`` keeps it for kconfig_value: ``=y `` is y, an int
            # ``=65536 `` is ignored); ``values`` has it stripped
            name, exact = match.group(1), match.group(2)
            value = exact.strip()
            history.setdefault(name, []).append((number, exact, False))
            if exact != value:
                spaced.append(number)
            if not VALUE.match(value) or (value[:1] == '"' and _unquote(value) in ("y", "m", "n")):
                # not a value kconfig writes: what kconfig makes of it depends on the
                # option's type, which only the catalogue knows (kconfig_value)
                warnings.append("%s:%d: CONFIG_%s=%s is not a value kconfig writes: kconfig reads a "
                                "bool or tristate option by its first character (y, m, n) only, and "
                                "ignores a value its type does not allow (the option then keeps its "
                                "Kconfig default)" % (source, number, name, value[:80]))
                continue
            value = _unquote(value)
        else:
            match = NOT_SET.match(raw)
            if match:
                name, value = match.group(1), NOT_SET_VALUE
                history.setdefault(name, []).append((number, None, bool(match.group(2))))
                if not match.group(2):
                    loose.pop(name, None)  # an exact line: n for every kconfig
                elif name not in values:
                    loose[name] = number
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
                    % (source, name, lines[name], show_value(values[name])[:80], number,
                       show_value(value)[:80]))
            warnings.append("%s: CONFIG_%s is repeated with the same value (lines %d and %d)"
                            % (source, name, lines[name], number))
            continue
        values[name], lines[name] = value, number
    if not values:
        raise KconfigError("%s: no CONFIG_ options found: not a kernel configuration%s" % (
            source, "" if not ignored else " (kconfig skips the %d indented or 'CONFIG_X = value' line(s), "
            "first at line %d)" % (len(skipped_lines), skipped_lines[0])))
    if unexpected:
        if len(unexpected) > len(values):
            raise KconfigError("%s: not a kernel configuration (%d lines are neither options "
                               "nor comments, first at line %s)"
                               % (source, len(unexpected), unexpected[0]))
        warnings.append("%s: %d line(s) are neither options nor comments (line %s); kconfig "
                        "ignores them" % (source, len(unexpected), _shown_lines(unexpected)))
    if skipped_lines:
        warnings.append("%s: %d line(s) name an option but kconfig skips them (line %s): it reads "
                        "CONFIG_X=value and '# CONFIG_X is not set' only at the start of a line and "
                        "with no space before '=' (an option such a line names keeps its Kconfig "
                        "default unless another line sets it)"
                        % (source, len(skipped_lines), _shown_lines(skipped_lines)))
    if loose:
        numbers = sorted(loose.values())
        warnings.append("%s: %d '# CONFIG_X is not set' line(s) have more after those words (line %s): the "
                        "kconfig of Linux %s and later skips such a line (the option keeps its Kconfig default), "
                        "an older one reads it as n" % (source, len(numbers), _shown_lines(numbers),
                                                        cat.format_version(EXACT_NOT_SET_SINCE)))
    if spaced:
        warnings.append("%s: %d line(s) have a space or tab around the value (line %s); kconfig keeps "
                        "it as part of the value: a bool or tristate is still read by its first "
                        "character (a space after y is harmless, one before it is not), an int or hex "
                        "value with one is ignored (the option then keeps its Kconfig default)"
                        % (source, len(spaced), _shown_lines(spaced)))
    if not text.endswith("\n"):
        warnings.append("%s: the last line has no newline: the file may be truncated" % source)
    return Kconfig(source, values, lines, header_arch, header_version, compression, warnings, history,
                   ignored, loose)


# The kernel_config and hardware areas of one execution read the same
# configuration: what its text parses to is kept for the process (a few
# texts, keyed by the text itself, so a changed file is parsed again), and
# each read gets its own Kconfig (version and architecture are set on it).
_PARSED = {}
_PARSED_KEPT = 4


def _parse(text, shown, compression):
    key = (text, shown, compression)
    parts = _PARSED.get(key)
    if parts is None:
        config = parse_text(text, shown, compression)
        if len(_PARSED) >= _PARSED_KEPT:
            _PARSED.pop(next(iter(_PARSED)))
        _PARSED[key] = (config.values, config.lines, config.header_arch, config.header_version,
                        tuple(config.warnings), config.history, config.ignored, config.loose)
        return config
    values, lines, header_arch, header_version, warnings, history, ignored, loose = parts
    return Kconfig(shown, values, lines, header_arch, header_version, compression, list(warnings), history,
                   ignored, loose)


def check_overrides(version=None, arch=None):
    """KconfigError when the ``version`` or ``arch`` option is no kernel
    version or architecture: bad input, whichever kernel it is applied to."""
    if version and cat.parse_version(version) is None:
        raise KconfigError("version %r is not a kernel version (for example 6.1 or 4.9.0)" % (version,))
    if arch and cat.normalize_arch(arch) not in cat.ARCHES and arch.strip().lower() != "x86":
        raise KconfigError("arch %r is not one of %s (amd64, aarch64, i686 and x86 are accepted)"
                           % (arch, ", ".join(cat.ARCHES)))


def read(path, version=None, arch=None, target=None):
    """Read and parse the configuration at ``path`` (inside ``target``, the
    live system by default; only a regular file is read).
    ``version``/``arch`` override what the file says."""
    target = target or Target("/")
    shown = target.display(path)
    try:
        with target.open(path) as handle:
            data = read_at_most(handle, MAX_SIZE)
    except Unreadable:
        raise  # not bad input: the caller says what it could not judge
    except TargetError as exc:
        raise KconfigError(str(exc))
    except (IOError, OSError) as exc:
        raise KconfigError("%s: cannot read: %s" % (shown, exc.strerror or exc))
    if len(data) > MAX_SIZE:
        raise KconfigError("%s: larger than %d MiB: not a kernel configuration"
                           % (shown, MAX_SIZE // 1048576))
    text, compression = decode(data, shown)
    config = _parse(text, shown, compression)
    check_overrides(version, arch)
    if version:
        config.set_version(version, "override")
    if arch:
        if not config.set_arch(arch, "override"):
            raise KconfigError("arch %r: %s does not say whether it is 32- or 64-bit x86 "
                               "(CONFIG_64BIT); give x86_64 or x86_32" % (arch, shown))
    return config
