# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The PE section reader of unified kernel images (systemd src/boot/pe.c,
src/boot/boot.c boot_entry_add_type2())."""

import io
import struct

import pytest
from disktools import uki_image

from ansible_collections.guestready.gce.plugins.module_utils import uki

OSREL = (b'NAME="Fedora Linux"\nID=fedora\nVERSION_ID=41\nPRETTY_NAME="Fedora Linux 41 (Cloud Edition)"\n'
         b'# a comment\nBUILD_ID=x\n')
SECTIONS = [(".osrel", OSREL), (".cmdline", b"  root=UUID=1234 ro\n console=ttyS0\n\0junk"),
            (".uname", b"6.11.4-301.fc41.x86_64\0"), (".initrd", b"\x07\x07\x07" * 100), (".linux", b"MZkernel")]


def read(data):
    return uki.read_handle(io.BytesIO(data), "x.efi")


def test_a_uki_s_sections_are_read_as_systemd_boot_reads_them():
    info = read(uki_image(SECTIONS))
    assert info["title"] == "Fedora Linux 41 (Cloud Edition)" and info["version"] == "41" and info["sort_key"] == "fedora"
    # the command line ends at its NUL; control characters are spaces, the ends trimmed (mangle_stub_cmdline())
    assert info["cmdline"] == "root=UUID=1234 ro  console=ttyS0"
    assert info["uname"] == "6.11.4-301.fc41.x86_64" and info["linux"] and info["initrd"] and info["profiles"] == 0
    assert info["osrel"]["BUILD_ID"] == "x"


@pytest.mark.parametrize("osrel, expected", [
    (b"IMAGE_ID=appliance\nIMAGE_VERSION=7\nNAME=Foo\nID=foo\nVERSION=2\n", ("appliance", "7", "appliance")),
    (b"NAME=Foo\nID=foo\nVERSION=2 (Two)\nVERSION_ID=2\n", ("Foo", "2 (Two)", "foo")),
    (b"ID=foo\nBUILD_ID=2025\n", ("foo", "2025", "foo")),
    (b'ID="foo"\r\n  \tVERSION_ID==3  \n', ("foo", "3", "foo")),   # \r ends lines; the "=" run is skipped
    (b"VERSION_ID=3\n", (None, None, None)),   # no name: systemd-boot shows no entry
])
def test_title_version_and_sort_key_come_from_osrel_as_bootspec_picks_them(osrel, expected):
    """bootspec_pick_name_version_sort_key(): PRETTY_NAME, IMAGE_ID, NAME, ID for the title;
    IMAGE_VERSION, VERSION, VERSION_ID, BUILD_ID for the version; IMAGE_ID, ID for the sort key."""
    info = read(uki_image([(".osrel", osrel), (".linux", b"k")]))
    assert (info["title"], info["version"], info["sort_key"]) == expected


def test_the_first_profile_s_sections_override_the_base_ones():
    """pe_locate_profile_sections(): the first entry is the base sections overlaid with those
    between the first .profile and the next."""
    data = uki_image([(".osrel", b"ID=base\n"), (".linux", b"k"), (".profile", b"ID=one\n"), (".cmdline", b"one"),
                      (".profile", b"ID=two\n"), (".cmdline", b"two")])
    info = read(data)
    assert info["cmdline"] == "one" and info["title"] == "base" and info["profiles"] == 2


@pytest.mark.parametrize("data", [b"", b"MZ", b"ELF" + b"\0" * 100, b"MZ" + b"\0" * 62,
                                  uki_image(SECTIONS)[:64] + b"\0" * 4000,   # no PE signature where it points
                                  uki_image(SECTIONS, optional=0)])          # no optional header: not an image
def test_a_file_that_is_no_pe_image_is_no_uki(data):
    assert read(data) is None


def hostile(data, offset, fmt, value):
    data = bytearray(data)
    data[offset:offset + struct.calcsize(fmt)] = struct.pack(fmt, value)
    return bytes(data)


GOOD = uki_image(SECTIONS)
TABLE = 64 + 24 + 240


@pytest.mark.parametrize("data, said", [
    (GOOD[:100], "x.efi: its PE header (at offset 64) is past the end of the file (100 bytes)"),
    (hostile(GOOD, 60, "<I", 0xFFFFFFF0), "x.efi: its PE header (at offset 4294967280) is past the end of the file"),
    (GOOD[:TABLE + 50], "x.efi: its section table (5 sections at offset 328) is past the end of the file (378 bytes)"),
    (hostile(GOOD, 64 + 6, "<H", 0xFFFF), "x.efi: its section table (65535 sections at offset 328) is past the end"),
    (hostile(GOOD, 64 + 20, "<H", 0xFFFF), "x.efi: its section table (5 sections at offset 65623) is past the end"),
    (hostile(GOOD, 64 + 6, "<H", 0), "x.efi: a PE image with no sections"),
    # .osrel's data past the end of the file; .cmdline claiming 4 GiB
    (hostile(GOOD, TABLE + 20, "<I", 0x7FFFFFF0), "x.efi: its .osrel section (%d bytes at offset 2147483632) is past the end "
     "of the file" % len(OSREL)),
])
def test_a_hostile_pe_file_is_a_clear_error(data, said):
    with pytest.raises(uki.UkiError) as caught:
        read(data)
    assert str(caught.value).startswith(said), caught.value


def test_a_cmdline_or_uname_that_cannot_be_read_leaves_the_entry_without_it():
    """boot_entry_add_type2() shows the entry when its .cmdline cannot be read, with no options;
    the reason is kept (``problems``)."""
    data = hostile(hostile(GOOD, TABLE + 40 + 8, "<I", 0xFFFFFFFF), TABLE + 40 + 16, "<I", 0xFFFFFFFF)
    data = hostile(data, TABLE + 80 + 20, "<I", 0x7FFFFFF0)
    info = read(data)
    assert info["title"] == "Fedora Linux 41 (Cloud Edition)" and info["cmdline"] is None and info["uname"] is None
    assert info["problems"] == ["x.efi: its .cmdline section claims 4294967295 bytes: not read",
                                "x.efi: its .uname section (23 bytes at offset 2147483632) is past the end of the file (%d bytes)"
                                % len(data)]


def test_the_reader_asks_for_bounded_reads_only():
    """A file claiming 65535 sections and 4 GiB sections never makes a read larger than the
    section table's 2.6 MB (no allocation the size of a claim)."""
    asked = []
    data = hostile(hostile(GOOD, TABLE + 40 + 8, "<I", 0xFFFFFFFF), TABLE + 40 + 16, "<I", 0xFFFFFFFF)
    data = hostile(hostile(data, TABLE + 8, "<I", 0xFFFFFFFF), TABLE + 16, "<I", 0xFFFFFFFF)

    def reader(offset, length):
        asked.append(length)
        return data[offset:offset + length]
    with pytest.raises(uki.UkiError) as caught:
        uki.read_uki(reader, 1 << 40, "x.efi")
    assert str(caught.value) == "x.efi: its .osrel section claims 4294967295 bytes: not read"
    assert max(asked) <= 65535 * 40
