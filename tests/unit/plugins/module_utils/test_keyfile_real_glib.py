"""The GKeyFile model NetworkManager's files are read with (netconf) against
this machine's GLib, through ctypes: g_key_file_load_from_data() on generated
files (NetworkManager's keyfile plugin and NetworkManager.conf load them so),
whether it parses each, the groups, keys and raw values it holds, and
g_key_file_get_string() of each value.  Skipped without libglib-2.0."""

import ctypes
import ctypes.util

import pytest
from hypothesis import given, strategies as st

from ansible_collections.guestready.gce.plugins.module_utils import netconf
from ansible_collections.guestready.gce.plugins.module_utils.target import text_bytes


def load_glib():
    name = ctypes.util.find_library("glib-2.0")
    if not name:
        return None
    glib = ctypes.CDLL(name)
    glib.g_key_file_new.restype = ctypes.c_void_p
    glib.g_key_file_free.argtypes = [ctypes.c_void_p]
    glib.g_key_file_load_from_data.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int,
                                               ctypes.c_void_p]
    glib.g_key_file_get_groups.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    glib.g_key_file_get_groups.restype = ctypes.POINTER(ctypes.c_char_p)
    glib.g_key_file_get_keys.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p]
    glib.g_key_file_get_keys.restype = ctypes.POINTER(ctypes.c_char_p)
    for function in (glib.g_key_file_get_value, glib.g_key_file_get_string):
        function.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p]
        function.restype = ctypes.c_void_p
    glib.g_free.argtypes = [ctypes.c_void_p]
    glib.g_error_free.argtypes = [ctypes.c_void_p]
    glib.g_strfreev.argtypes = [ctypes.c_void_p]
    return glib


GLIB = load_glib()
pytestmark = pytest.mark.skipif(GLIB is None, reason="needs libglib-2.0")


def _strings(array):
    found, index = [], 0
    while array and array[index] is not None:
        found.append(array[index])
        index += 1
    return found


def _taken(pointer):
    """The bytes of a string GLib returned (freed), or None."""
    if not pointer:
        return None
    value = ctypes.string_at(pointer)
    GLIB.g_free(pointer)
    return value


def glib_keyfile(data):
    """None when GLib does not parse ``data``, else ``{(group, key): (raw value, string or None)}``."""
    keyfile = GLIB.g_key_file_new()
    try:
        if not GLIB.g_key_file_load_from_data(keyfile, data, len(data), 0, None):
            return None
        held = {}
        groups = GLIB.g_key_file_get_groups(keyfile, None)
        for group in _strings(groups):
            keys = GLIB.g_key_file_get_keys(keyfile, group, None, None)
            for key in _strings(keys):
                error = ctypes.c_void_p()
                string = _taken(GLIB.g_key_file_get_string(keyfile, group, key, ctypes.byref(error)))
                if error.value is not None:   # NetworkManager takes no value then (nm-keyfile.c read_one_setting_value())
                    GLIB.g_error_free(error)
                    string = None
                held[(group, key)] = (_taken(GLIB.g_key_file_get_value(keyfile, group, key, None)), string)
            GLIB.g_strfreev(ctypes.cast(keys, ctypes.c_void_p))
        GLIB.g_strfreev(ctypes.cast(groups, ctypes.c_void_p))
        return held
    finally:
        GLIB.g_key_file_free(keyfile)


def modelled_keyfile(data):
    """The same from netconf's model."""
    if netconf._gkeyfile_error(data) is not None:
        return None
    held = {}
    for group, key, value, dummy in netconf._gkeyfile_pairs(netconf._gkeyfile_text(data)):
        string = netconf._gkeyfile_string(value)
        held[(text_bytes(group), text_bytes(key))] = (text_bytes(value), text_bytes(string) if string is not None else None)
    return held


GROUPS = st.sampled_from(["[connection]", "[ipv4]", " [main] ", "[a]b", "[]", "[a[b]", "[a]]", "[a]\t", "[a] x",
                          "[\x01]", "[g h]", "[connection", "[é]", "[a]#c"])
KEYS = st.sampled_from(["type", "id", " key", "key ", "k[de]", "k[de", "k[d e]", "k]x", "", "Encoding", "k[é]",
                        "k[de]x", "a b", "\tk"])
VALUES = st.lists(st.sampled_from(["ethernet", " ", "\t", "x y", "\\s", "\\n", "\\t", "\\r", "\\\\", "\\x", "\\",
                                   "=", "#", ";", "[", "]", "é", "UTF-8", "utf-8", "latin1", "\x0b"]),
                  max_size=5).map("".join)
LINE = st.one_of(GROUPS, st.tuples(KEYS, st.sampled_from(["=", " = ", "=\t", "=="]), VALUES).map("".join),
                 st.sampled_from(["", "# comment", "; comment", "  # x", "bare", "=x", " \t", "\x0c[connection]"]))


@st.composite
def keyfiles(draw):
    lines = draw(st.lists(st.tuples(LINE, st.sampled_from(["\n", "\n", "\r\n", "\r"])), max_size=7))
    data = "".join(line + ending for line, ending in lines).encode("utf-8")
    spoilt = draw(st.sampled_from([None, None, None, b"\0", b"\xff"]))
    if spoilt and data:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + spoilt + data[at:]
    return data


@given(data=keyfiles())
def test_gkeyfile_model_is_glibs(data):
    assert modelled_keyfile(data) == glib_keyfile(data), data
