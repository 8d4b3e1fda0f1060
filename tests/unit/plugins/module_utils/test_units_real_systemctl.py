"""Enabling a unit in a tree against the real ``systemctl --root``: generated
unit files ([Install] sections with lists, resets, quotes, aliases,
templates and their instances) are enabled by this machine's systemctl
(Debian 12: systemd 252, which works on a directory without a running
systemd) and by ``units.enable``; the links made are the same, and when
systemctl refuses, ``units.enable`` refuses too.  Skipped without
systemctl."""

import os
import shutil
import subprocess
import tempfile

import pytest
from hypothesis import given, strategies as st

from ansible_collections.guestready.gce.plugins.module_utils import units
from ansible_collections.guestready.gce.plugins.module_utils.configfiles import ConfigError
from ansible_collections.guestready.gce.plugins.module_utils.target import Target, TargetError

SYSTEMCTL = shutil.which("systemctl")
pytestmark = pytest.mark.skipif(SYSTEMCTL is None, reason="needs systemctl")

WORDS = st.sampled_from(["multi-user.target", "default.target", "a.target", "b.socket", "sub@x.target",
                         '"quoted.target"', "'q.target'", "x.target y.target", "", "bad name", "../up.target",
                         "no-suffix", "sub@.target"])
INSTALL_LINE = st.builds(lambda key, value: "%s=%s" % (key, value),
                         st.sampled_from(["WantedBy", "RequiredBy", "Alias", "Alias", "WantedBy"]), WORDS)
ALIASES = st.sampled_from(["other.service", "tpl@.service", "tpl@i.service", "foo.socket", "a@b.service"])
SECTION = st.builds(lambda lines, aliases, default: "\n".join(
    ["[Install]"] + lines + ["Alias=%s" % a for a in aliases] + (["DefaultInstance=%s" % default] if default else [])),
    st.lists(INSTALL_LINE, max_size=5), st.lists(ALIASES, max_size=1), st.sampled_from([None, "", "one", "a b"]))
UNIT = st.builds(lambda install, extra: "[Unit]\nDescription=x\n%s[Service]\nExecStart=/bin/true\n%s\n" % (
    extra, install), SECTION, st.sampled_from(["", "# comment\n", "Wants=x.target\n"]))
NAMES = st.sampled_from([("svc.service", "svc.service"), ("tpl@.service", "tpl@i.service"),
                         ("tpl@.service", "tpl@.service")])
DIRS = st.sampled_from(["usr/lib/systemd/system", "etc/systemd/system"])


def links(root):
    found = set()
    for directory, dummy, names in os.walk(os.path.join(root, "etc")):
        for name in names:
            path = os.path.join(directory, name)
            if os.path.islink(path):
                found.add(("/" + os.path.relpath(path, root), os.readlink(path)))
    return found


def tree(base, label, name, where, text):
    root = os.path.join(base, label)
    os.makedirs(os.path.join(root, "etc/systemd/system"))
    os.makedirs(os.path.join(root, "usr/lib/systemd/system"))
    with open(os.path.join(root, where, name), "w") as handle:
        handle.write(text)
    return root


@given(unit=UNIT, names=NAMES, where=DIRS)
def test_enabling_makes_the_links_systemctl_makes(unit, names, where):
    file_name, enabled = names
    base = tempfile.mkdtemp()
    try:
        real, ours = tree(base, "real", file_name, where, unit), tree(base, "ours", file_name, where, unit)
        result = subprocess.run([SYSTEMCTL, "--root=" + real, "--no-reload", "enable", enabled],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, check=False)
        try:
            units.enable(Target(ours), enabled, None, False)
            refused = None
        except (ConfigError, TargetError) as exc:
            refused = str(exc)
        made = links(real)
        # systemctl 252 exits 0 after such a failure when an alias link was made before it
        # (install_info_apply() keeps the alias step's count): the failure is what counts
        if result.returncode != 0 or b"Failed to enable " in result.stderr:
            assert refused is not None, (result.stderr.decode(), links(ours))
        elif not made:   # nothing to enable (systemctl says so and succeeds; enabling it here is an error)
            assert links(ours) == set(), (result.stderr.decode(), links(ours))
        else:
            assert refused is None and links(ours) == made, (result.stderr.decode(), refused, links(ours), made)
    finally:
        shutil.rmtree(base)
