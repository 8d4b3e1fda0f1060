# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unified kernel images (UKIs, the Boot Loader Specification's type #2
entries: ``$BOOT/EFI/Linux/*.efi``): the PE sections systemd-boot reads of
them, from a file the collection does not trust.

The PE reader follows systemd src/boot/pe.c (pe_section_table_from_file(),
verify_dos(), verify_pe(), pe_locate_sections_internal(),
pe_locate_profile_sections()); the entry fields follow src/boot/boot.c
boot_entry_add_type2() and src/fundamental/bootspec-fundamental.c
bootspec_pick_name_version_sort_key().  Every read is bounded: a header or
section table that is cut short or points past the end of the file is a
UkiError naming the file, never a huge read.
"""

import struct

DOS_HEADER_BYTES = 64
# "PE\0\0", the COFF file header (20 bytes), the fixed part of the optional header (72 bytes): pe.c PeFileHeader
PE_HEADER_BYTES = 4 + 20 + 72
SECTION_BYTES = 40
SECTION_TABLE_BYTES_MAX = 16 * 1024 * 1024   # pe.c
# the text sections read here: an os-release file, a command line, a release name
TEXT_MAX = 64 * 1024
# the section names boot_entry_add_type2() and systemd-stub look for (.linux, .initrd: stub.c)
WANTED = (".osrel", ".cmdline", ".uname", ".linux", ".initrd", ".profile")


class UkiError(Exception):
    """The file cannot be read as a PE image; the message names it and says why."""


def _exact(read, offset, length, shown, what):
    data = read(offset, length)
    if len(data) != length:
        raise UkiError("%s: %s (%d bytes at offset %d) is past the end of the file" % (shown, what, length, offset))
    return data


def section_table(read, size, shown):
    """``[(name, file offset, file size)]`` of the PE file read by ``read(offset,
    length)`` (``size`` bytes long), in table order (pe_section_table_from_file()).
    None when it is no PE image (no MZ or PE signature, or no PE32/PE32+
    optional header: verify_dos(), verify_pe()); UkiError when its headers are
    cut short or its table is out of range.  The machine type is not checked:
    the image may be of another architecture than the one reading it."""
    if size < DOS_HEADER_BYTES:
        return None
    dos = read(0, DOS_HEADER_BYTES)
    if len(dos) < DOS_HEADER_BYTES or dos[:2] != b"MZ":
        return None
    start = struct.unpack("<I", dos[60:64])[0]
    if start < DOS_HEADER_BYTES:
        return None
    if start + PE_HEADER_BYTES > size:
        raise UkiError("%s: its PE header (at offset %d) is past the end of the file (%d bytes)" % (shown, start, size))
    pe = _exact(read, start, PE_HEADER_BYTES, shown, "its PE header")
    count, optional = struct.unpack("<H", pe[6:8])[0], struct.unpack("<H", pe[20:22])[0]
    if pe[:4] != b"PE\0\0" or struct.unpack("<H", pe[24:26])[0] not in (0x10B, 0x20B):
        return None
    if count == 0:
        raise UkiError("%s: a PE image with no sections" % shown)
    table_at, table_bytes = start + 24 + optional, count * SECTION_BYTES
    if table_bytes > SECTION_TABLE_BYTES_MAX or table_at + table_bytes > size:
        raise UkiError("%s: its section table (%d sections at offset %d) is past the end of the file (%d bytes)"
                       % (shown, count, table_at, size))
    table = _exact(read, table_at, table_bytes, shown, "its section table")
    sections = []
    for index in range(count):
        entry = table[index * SECTION_BYTES:(index + 1) * SECTION_BYTES]
        virtual_size, dummy, raw_size, raw_at = struct.unpack("<IIII", entry[8:24])
        # names are compared on 8 bytes, up to a NUL (pe_section_name_equal())
        name = entry[:8].split(b"\0", 1)[0].decode("latin-1")
        # what is read from the file is the smaller of the two sizes (pe_locate_sections_internal())
        sections.append((name, raw_at, min(raw_size, virtual_size)))
    return sections


def _profile_sections(table):
    """``{name: (offset, size)}``: the base profile's sections (the first of
    each name in the whole table) overlaid with those of profile 0 (from the
    first .profile to the next), as boot_entry_add_type2() builds its first
    entry; and the number of .profile sections."""
    found, profiles = {}, [i for i, section in enumerate(table) if section[0] == ".profile"]
    for name, offset, size in table:
        found.setdefault(name, (offset, size))
    if profiles:
        end = profiles[1] if len(profiles) > 1 else len(table)
        first = {}
        for name, offset, size in table[profiles[0]:end]:
            first.setdefault(name, (offset, size))
        found.update(first)
    return found, len(profiles)


def _text(read, size, where, shown, name):
    offset, length = where
    if length > TEXT_MAX:
        raise UkiError("%s: its %s section claims %d bytes: not read" % (shown, name, length))
    if offset + length > size:
        raise UkiError("%s: its %s section (%d bytes at offset %d) is past the end of the file (%d bytes)"
                       % (shown, name, length, offset, size))
    # the section is a C string to systemd-boot: it ends at the first NUL
    return _exact(read, offset, length, shown, "its %s section" % name).split(b"\0", 1)[0].decode("utf-8", "replace")


def key_values(text):
    """``{key: value}`` of an os-release text as systemd-boot reads .osrel
    (efi-string.c line_get_key_value() with "="): lines end at \\n or \\r,
    blanks around a line trimmed, ``#`` lines skipped, the key up to the first
    "=", the "=" run after it skipped, one pair of double quotes removed; the
    last of a key wins."""
    values = {}
    for line in text.replace("\r", "\n").split("\n"):
        line = line.strip(" \t")
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        value = value.lstrip("=")
        if value.startswith('"') and line.endswith('"'):
            value = value[1:-1]
        values[key] = value
    return values


def pick_name_version_sort_key(osrel):
    """``(name, version, sort key)`` of os-release values, or None without a
    name (bootspec_pick_name_version_sort_key())."""
    def first(*keys):
        return next((osrel[key] for key in keys if key in osrel), None)
    name = first("PRETTY_NAME", "IMAGE_ID", "NAME", "ID")
    if name is None:
        return None
    return name, first("IMAGE_VERSION", "VERSION", "VERSION_ID", "BUILD_ID"), first("IMAGE_ID", "ID")


def stub_cmdline(text):
    """A .cmdline section as systemd-boot shows it (util.c mangle_stub_cmdline()):
    leading and trailing whitespace and control characters removed, inner ones
    turned into spaces."""
    return "".join(" " if ord(char) <= 0x20 or ord(char) == 0x7F else char for char in text).strip(" ")


def read_uki(read, size, shown):
    """What systemd-boot reads of a UKI: ``{osrel, title, version, sort_key,
    cmdline, uname, linux, initrd, profiles, problems}``: ``osrel`` the .osrel values
    (None without the section), ``title``/``version``/``sort_key`` from them
    (``title`` None: systemd-boot shows no entry for the file), ``cmdline``
    and ``uname`` the sections' texts or None, ``linux``/``initrd`` whether
    the file carries a kernel and an initramfs, ``profiles`` the number of
    .profile sections (only the first profile's entry is described),
    ``problems`` why a .cmdline or .uname could not be read (None then).
    None when it is no PE image; UkiError when it, or its .osrel, cannot be
    read."""
    table = section_table(read, size, shown)
    if table is None:
        return None
    sections, profiles = _profile_sections(table)
    texts, problems = {}, []
    for name in (".osrel", ".cmdline", ".uname"):
        try:
            texts[name] = _text(read, size, sections[name], shown, name) if name in sections else None
        except UkiError as exc:
            if name == ".osrel":   # no entry without it (boot_entry_add_type2(): "continue")
                raise
            # the entry is shown all the same, with no command line (its options are left unset)
            texts[name] = None
            problems.append(str(exc))
    osrel = key_values(texts[".osrel"]) if texts[".osrel"] is not None else None
    picked = pick_name_version_sort_key(osrel or {}) or (None, None, None)
    return {"osrel": osrel, "title": picked[0], "version": picked[1], "sort_key": picked[2],
            "cmdline": stub_cmdline(texts[".cmdline"]) if texts[".cmdline"] is not None else None,
            "uname": texts[".uname"].strip() or None if texts[".uname"] is not None else None,
            "linux": ".linux" in sections, "initrd": ".initrd" in sections, "profiles": profiles,
            "problems": problems}


def _reader(handle):
    """``(read(offset, length), size)`` of a file open for reading (seekable)."""
    handle.seek(0, 2)

    def read(offset, length):
        handle.seek(offset)
        return handle.read(length)
    return read, handle.tell()


def read_handle(handle, shown):
    """``read_uki`` of a file open for reading (seekable)."""
    read, size = _reader(handle)
    return read_uki(read, size, shown)


def sections_of(handle, shown):
    """``{name: (offset, size)}`` of the sections systemd-stub uses of the PE
    file open as ``handle`` (the base ones overlaid with profile 0's), None
    when it is no PE image; UkiError when its headers are broken."""
    read, size = _reader(handle)
    table = section_table(read, size, shown)
    return None if table is None else _profile_sections(table)[0]


def uname(handle, sections, shown):
    """The release in the .uname section of a UKI (``sections_of``), None
    without one; UkiError when it cannot be read."""
    read, size = _reader(handle)
    text = _text(read, size, sections[".uname"], shown, ".uname") if ".uname" in sections else None
    return text.strip() or None if text is not None else None
