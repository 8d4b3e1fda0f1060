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


# ------------------------------------------------- is-enabled: what a tree's files say of a unit
SEARCH_DIRS = ("etc/systemd/system", "run/systemd/system", "usr/local/lib/systemd/system", "lib/systemd/system",
               "usr/lib/systemd/system")
STATE_NAMES = ("svc.service", "other.service", "tpl@.service", "tpl@i.service", "tpl@j.service", "al.service")
INSTALL = st.lists(st.sampled_from(["WantedBy=multi-user.target", "RequiredBy=a.target", "Alias=al.service",
                                    "Alias=other.service", "Alias=tpl@.service", "Also=other.service",
                                    "DefaultInstance=i", "DefaultInstance=", "WantedBy=", "Alias=svc.service"]),
                   max_size=3)
UNIT_FILE = st.builds(lambda install, section: "[Service]\nExecStart=/bin/true\n" + (
    "[Install]\n" + "\n".join(install) + "\n" if install or section else ""), INSTALL, st.booleans())
LINKED_FILE = st.one_of(UNIT_FILE, st.just(""))
# what sits at a name in a unit directory: a unit, a mask (an empty file, a link to /dev/null),
# a link to a unit file by path (absolute, relative, dangling, from outside the search path: in /run
# a mask there is for this boot only)
ENTRY = st.one_of(
    st.tuples(st.just("file"), UNIT_FILE),
    st.tuples(st.just("file"), st.just("")),
    st.tuples(st.just("link"), st.sampled_from(["/dev/null", "../../../dev/null"])),
    st.tuples(st.just("link"), st.builds(lambda d, n: "/%s/%s" % (d, n), st.sampled_from(SEARCH_DIRS),
                                         st.sampled_from(STATE_NAMES))),
    st.tuples(st.just("link"), st.builds(lambda d, n: "../../../%s/%s" % (d, n), st.sampled_from(SEARCH_DIRS[2:]),
                                         st.sampled_from(STATE_NAMES))),
    st.tuples(st.just("link"), st.builds("/nowhere/{}".format, st.sampled_from(STATE_NAMES))),
    st.tuples(st.sampled_from(["opt", "run/elsewhere"]), LINKED_FILE))
UNIT_ENTRIES = st.lists(st.tuples(st.sampled_from(SEARCH_DIRS), st.sampled_from(STATE_NAMES), ENTRY),
                        min_size=1, max_size=6)
# links in .wants/.requires directories: by the unit's name, an instance's or another, wherever they lead
WANTS = st.lists(st.tuples(st.sampled_from(SEARCH_DIRS[:1] * 3 + SEARCH_DIRS),
                           st.sampled_from(["multi-user.target.wants", "a.target.requires", "x.target.wants"]),
                           st.sampled_from(STATE_NAMES),
                           st.sampled_from(["/lib/systemd/system/svc.service", "/usr/lib/systemd/system/tpl@.service",
                                            "/etc/systemd/system/al.service", "../other.service", "/nowhere.service",
                                            None])),
                 max_size=4)


def state_tree(root, entries, wants):
    for directory in SEARCH_DIRS + ("dev", "opt", "run/elsewhere"):
        os.makedirs(os.path.join(root, directory), exist_ok=True)
    for directory, name, (kind, value) in entries:
        path = os.path.join(root, directory, name)
        if os.path.lexists(path):
            continue
        if kind == "link":
            os.symlink(value, path)
            continue
        if kind != "file":   # a file outside the search path, linked in (empty: a mask there)
            path, linked = os.path.join(root, kind, name), path
            if os.path.lexists(path):
                continue
            os.symlink("/%s/%s" % (kind, name), linked)
        with open(path, "w") as handle:
            handle.write(value)
    for directory, wants_dir, name, value in wants:
        os.makedirs(os.path.join(root, directory, wants_dir), exist_ok=True)
        path = os.path.join(root, directory, wants_dir, name)
        if os.path.lexists(path):
            continue
        if value is None:   # a copy, no link: neither the manager nor systemctl counts it
            with open(path, "w") as handle:
                handle.write("[Unit]\n")
        else:
            os.symlink(value, path)


@given(entries=UNIT_ENTRIES, wants=WANTS)
def test_unit_state_is_what_systemctl_is_enabled_says(entries, wants):
    """``units.state`` against ``systemctl --root is-enabled`` (systemd 252) on
    trees of unit files, masks (empty files, links to /dev/null), aliases,
    links to files by path and links in ``.wants``/``.requires``; where
    systemctl fails, ``not-found`` (no such file, a severed link) or
    ``unloadable``.  systemctl 252 fails a link to a file of its own name in
    the search path ("unit self-alias", Too many levels of symbolic links),
    which the service manager follows: left out."""
    base = tempfile.mkdtemp()
    try:
        state_tree(base, entries, wants)
        for name in ("svc.service", "tpl@i.service", "al.service", "tpl@.service"):
            result = subprocess.run([SYSTEMCTL, "--root=" + base, "is-enabled", name], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, timeout=60, check=False, universal_newlines=True)
            if "Too many levels of symbolic links" in result.stderr:
                continue
            real = result.stdout.strip() or (
                "not-found" if "No such file" in result.stderr or "Link has been severed" in result.stderr
                else "unloadable")
            ours = units.state(Target(base), name)[0]
            assert ours == real, (name, result.stderr, units.load_error(Target(base), name))
    finally:
        shutil.rmtree(base)
