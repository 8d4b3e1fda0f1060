"""The kernel configuration reader against the real kconfig: generated
``.config`` files are read by the ``conf`` program of this machine's
linux-kbuild package (``conf --olddefconfig`` on a small Kconfig of one
option of each type, which writes the values it read, or an option's
default where it ignored the line) and by ``kconfig_parser.parse_text``
with ``kconfig_eval.resolve``: each option has the same value, a value
the reader calls unknown (kconfig ignores the line) being the default.

conf reads and writes only the files it is given, in a temporary
directory.  Needs linux-kbuild (Debian 12: linux-kbuild-6.1); skipped
elsewhere."""

import glob
import os
import re
import shutil
import subprocess
import tempfile

import pytest
from hypothesis import given, strategies as st

from ansible_collections.guestready.gce.plugins.module_utils import kconfig_parser
from ansible_collections.guestready.gce.plugins.module_utils.kconfig_eval import resolve

CONF = (sorted(glob.glob("/usr/lib/linux-kbuild-*/scripts/kconfig/conf")) or [None])[-1]
pytestmark = pytest.mark.skipif(CONF is None, reason="needs linux-kbuild (scripts/kconfig/conf)")

# name: (type, Kconfig default, as conf writes it)
OPTIONS = {"B1": ("bool", None, "n"), "B2": ("bool", "y", "y"), "T1": ("tristate", None, "n"),
           "T2": ("tristate", "m", "m"), "S1": ("string", '"dflt"', "dflt"), "I1": ("int", "7", "7"),
           "H1": ("hex", "0x10", "0x10")}
KCONFIG = "config MODULES\n\tbool \"modules\"\n\tmodules\n\tdefault y\n" + "".join(
    "config %s\n\t%s \"%s\"\n%s" % (name, kind, name.lower(), "\tdefault %s\n" % default if default else "")
    for name, (kind, default, dummy) in OPTIONS.items())

VALUES = st.sampled_from(["y", "m", "n", "yes", "Y", '"y"', "y # note", " y", "y ", "m\t", "12", "-0", "007", "-5",
                          "0x1f", "0X1F", "1f", "0x", "", '"a"', '"a\\"b"', '"a" junk', '"unterminated', '""',
                          '"x\\\\y"', '"tab\there"', "12 ", "y\x0cz", "0x1f\x0b"])
LEAD = st.sampled_from(["CONFIG_%s=", "CONFIG_%s=", "CONFIG_%s=", " CONFIG_%s=", "CONFIG_%s =", "\tCONFIG_%s="])
NOT_SET = st.sampled_from(["# CONFIG_%s is not set", "# CONFIG_%s is not set  ", "# CONFIG_%s is not set # x",
                           "#CONFIG_%s is not set", "#  CONFIG_%s is not set", "# CONFIG_%s\tis not set",
                           "# CONFIG_%s is not"])
END = st.sampled_from(["\n", "\n", "\r\n", "\r\r\n", "\x0c", "\x0b", "\r", "\x1c", "\x85", "\u2028"])
LINE = st.one_of(
    st.builds(lambda lead, name, value: (lead % name) + value, LEAD, st.sampled_from(sorted(OPTIONS)), VALUES),
    st.builds(lambda form, name: form % name, NOT_SET, st.sampled_from(sorted(OPTIONS))),
    st.sampled_from(["#", "# comment", "", "junk"]))
FILE = st.lists(st.tuples(LINE, END), max_size=8).map(lambda rows: "".join(line + end for line, end in rows))


def conf_values(base, text):
    """What conf wrote for each option after reading ``text``."""
    with open(os.path.join(base, "Kconfig"), "w") as handle:
        handle.write(KCONFIG)
    path = os.path.join(base, ".config")
    with open(path, "wb") as handle:
        handle.write(text.encode("utf-8"))
    subprocess.run([CONF, "--olddefconfig", "Kconfig"], cwd=base, env={"KCONFIG_CONFIG": path, "PATH": os.defpath},
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    found = {}
    with open(path, encoding="utf-8", newline="") as handle:   # a "\r" in a value is no line end
        for line in handle.read().split("\n"):
            written = re.match(r"^CONFIG_([A-Z0-9]+)=(.*)$", line)
            not_set = re.match(r"^# CONFIG_([A-Z0-9]+) is not set$", line)
            if written:
                value = written.group(2)
                # conf writes a string quoted, " and \ escaped
                found[written.group(1)] = re.sub(r"\\(.)", r"\1", value[1:-1]) if value[:1] == '"' else value
            elif not_set:
                found[not_set.group(1)] = "n"
    return dict((name, found.get(name)) for name in OPTIONS)


def modelled_values(text):
    """What the reader says kconfig makes of ``text``, or None when it refuses the file."""
    try:
        config = kconfig_parser.parse_text(text, ".config")
    except kconfig_parser.KconfigError:
        return None
    # the version of the kconfig that reads it, from the package's name (linux-kbuild-6.1)
    config.set_version(re.search(r"linux-kbuild-([0-9.]+)", CONF).group(1), "test")
    values = {}
    for name, (kind, dummy, default) in OPTIONS.items():
        found = resolve(config, name, kind=kind)[0]
        values[name] = found.value if found.origin == "file" else default
    return values


@given(text=FILE)
def test_the_values_are_what_kconfig_reads(text):
    # an explicit CONFIG_MODULES=y: the reader takes a minimal file's MODULES to be the kernel's default (n)
    text = "CONFIG_MODULES=y\n" + text
    modelled = modelled_values(text)
    if modelled is None:   # a symbol set twice with two values: refused, kconfig would keep the last
        return
    base = tempfile.mkdtemp()
    try:
        assert modelled == conf_values(base, text), repr(text)
    finally:
        shutil.rmtree(base)


@pytest.mark.parametrize("text", ["CONFIG_H1=12\r", "CONFIG_I1=5\r", "CONFIG_B1=y\r", "CONFIG_H1=12\r\n"])
def test_a_carriage_return_ending_the_file_stays_in_the_value(text):
    """conf drops a "\\r" only before the "\\n" that ends its line: the last line of a file without
    one keeps it, and the value is invalid (the option keeps its default).  The reader dropped it."""
    text = "CONFIG_MODULES=y\n" + text
    base = tempfile.mkdtemp()
    try:
        assert modelled_values(text) == conf_values(base, text)
    finally:
        shutil.rmtree(base)
