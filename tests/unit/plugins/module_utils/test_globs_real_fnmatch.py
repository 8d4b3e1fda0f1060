"""globs.fnmatchcase against this machine's glibc fnmatch(3) (through
ctypes), flags 0 and FNM_NOESCAPE, on generated patterns and names: the
programs whose patterns the collection reads (systemd-sysctl and procps
through glob(3), systemd's presets, networkd's Name=, kmod) call it.
Python's fnmatch answered otherwise for a backslash, ``[^...]`` and a POSIX
class.  Skipped without glibc."""

import ctypes
import platform

import pytest
from hypothesis import given, strategies as st

from ansible_collections.guestready.gce.plugins.module_utils import globs

FNM_NOESCAPE = 2
pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="needs glibc's fnmatch")


def libc_fnmatch(pattern, name, flags):
    function = ctypes.CDLL("libc.so.6").fnmatch
    function.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int]
    return function(pattern.encode(), name.encode(), flags) == 0


PIECES = st.sampled_from(["a", "b", "e", "0", "9", ".", "-", "*", "?", "[", "]", "!", "^", "\\", ":", "[[:alpha:]]",
                          "[[:digit:]]", "[^e]", "[!a-d]", "[a-]", "[]a]", "[\\]]", "\\*", "\\[", "[[:nope:]]", "[[:b!:]"])
NAMES = st.text(alphabet="abe09.-*?[]!^\\:", max_size=8)


@pytest.mark.parametrize("flags", [0, FNM_NOESCAPE])
@given(pattern=st.lists(PIECES, max_size=7).map("".join), name=NAMES)
def test_fnmatchcase_is_glibcs_fnmatch(flags, pattern, name):
    assert globs.fnmatchcase(name, pattern, noescape=bool(flags)) is libc_fnmatch(pattern, name, flags), (pattern, name)


@pytest.mark.parametrize("name,pattern,noescape,expected", [
    ("eth0", "[[:alpha:]]*", False, True), ("eth0", "[^e]*", False, False), ("lo", "[^e]*", False, True),
    ("eth0", "e\\th0", False, True), ("*", "\\*", False, True), ("a", "\\*", False, False),
    ("a\\b", "a\\b", True, True), ("ab", "a\\b", True, False),
])
def test_what_pythons_fnmatch_answered_otherwise(name, pattern, noescape, expected):
    """Python's fnmatch: a backslash is itself, ``[^e]`` a set of ^ and e, no POSIX classes."""
    assert globs.fnmatchcase(name, pattern, noescape) is expected


@pytest.mark.parametrize("name,pattern,expected", [
    ("ens4", "ens?", True), ("ens4", "e*", True), ("ens4", "[e]ns4", False), ("[e]ns4", "[e]ns4", True),
    ("ens4", "ENS*", False), ("a\\b", "a\\b", True), ("ab", "a\\b", False), ("", "*", True), ("x", "", False),
])
def test_simple_match_knows_star_and_question_mark_only(name, pattern, expected):
    """GLib's g_pattern_match_simple() (NetworkManager's interface-name:) and OpenSSH's match_pattern()
    (Match User): no sets, no escapes, case kept."""
    assert globs.simple_match(name, pattern) is expected
