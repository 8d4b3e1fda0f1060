"""The grubenv reader and writer against the real GRUB: generated
environment blocks are read by ``grub-editenv list`` (GRUB's own
grub_envblk_iterate(), as load_env reads the block at boot) and by
``bootconfig.grubenv_variables``; a variable set or unset by ``grub-editenv``
and by ``bootloader.set_grubenv`` leaves the same variables.

grub-editenv is the one the lab's images install: the grub-common package in
the lab's apt cache (``<lab cache>/apt-archives``), unpacked into a temporary
directory, never installed; it only reads and writes the block it is given.
Skipped without that package."""

import os
import subprocess
import tempfile

import pytest
from hypothesis import example, given, strategies as st

from ansible_collections.guestready.gce.plugins.module_utils import bootconfig, bootloader
from ansible_collections.guestready.gce.plugins.module_utils.configfiles import ConfigError
from realtools import cached_deb, unpack

PACKAGE = cached_deb("apt-archives", "grub-common")
pytestmark = pytest.mark.skipif(not PACKAGE, reason="needs grub-common in the lab's apt cache")

LINES = st.sampled_from(["kernelopts=root=/dev/sda2 ro console=ttyS0,38400n8", "saved_entry=abc-6.1", "k=v", "#c",
                         "", "garbage", "a=x\\\\y", "b=1\\\n2", "=x", "k=", "boot_success=1", "tuned_params=",
                         "menu_auto_hide=1", "x=\\"])
BLOCK = st.builds(lambda lines, last: bootconfig.GRUBENV_SIGNATURE + "\n".join(lines) + last, st.lists(LINES, max_size=8),
                  st.sampled_from(["\n", "\n", ""]))
PADDED = BLOCK.map(lambda text: text + "#" * max(0, 1024 - len(text.encode())))
# what grub-editenv writes: variables and comments, each line ended (it adds a variable at the first
# "#" line, after any empty or broken line before it, which then starts the new variable's name, or
# after a value ending in an escaping backslash, which then runs on into it)
WELL_FORMED = st.lists(LINES.filter(lambda line: line.startswith("#") or "=" in line and not line.endswith("=\\")),
                       max_size=8).map(
    lambda lines: bootconfig.GRUBENV_SIGNATURE + "".join(line + "\n" for line in lines)).map(
    lambda text: text + "#" * max(0, 1024 - len(text.encode())))


@pytest.fixture(scope="module")
def editenv(tmp_path_factory):
    return os.path.join(unpack(str(tmp_path_factory.mktemp("grub-common")), PACKAGE), "usr/bin/grub-editenv")


def listed(editenv, path, *command):
    if command:
        subprocess.run([editenv, path] + list(command), stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)
    return subprocess.run([editenv, path, "list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          check=True).stdout.decode()


def rendered(text):
    return "".join("%s=%s\n" % variable for variable in bootconfig.grubenv_variables(text))


@given(text=PADDED)
@example(text=bootconfig.GRUBENV_SIGNATURE + "a=1\n\nkernelopts=root=/dev/sda2 ro\n")   # an empty line: "\nkernelopts"
def test_the_variables_are_what_grub_reads(editenv, text):
    with tempfile.NamedTemporaryFile("w", suffix=".grubenv", delete=False) as handle:
        handle.write(text)
    try:
        assert rendered(text) == listed(editenv, handle.name), text
    finally:
        os.unlink(handle.name)


@given(text=WELL_FORMED, key=st.sampled_from(["kernelopts", "saved_entry", "new"]),
       value=st.sampled_from([None, "root=/dev/sda2 ro console=ttyS0,38400n8", "x\\y", "a\nb", ""]))
def test_setting_a_variable_leaves_what_grub_editenv_leaves(editenv, text, key, value):
    # grub-editenv changes only the first line of a name given twice (the later one still wins at boot)
    if [name for name, dummy in bootconfig.grubenv_variables(text)].count(key) > 1:
        return
    with tempfile.NamedTemporaryFile("w", suffix=".grubenv", delete=False) as handle:
        handle.write(text)
    try:
        try:
            ours = rendered(bootloader.set_grubenv(text, key, value))
        except ConfigError:
            return   # it does not fit in the block (grub-editenv: "environment block too small")
        assert ours == listed(editenv, handle.name, *(["unset", key] if value is None else ["set", "%s=%s" % (key, value)]))
    finally:
        os.unlink(handle.name)
