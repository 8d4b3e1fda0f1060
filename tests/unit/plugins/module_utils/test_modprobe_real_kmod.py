"""The modprobe.d reader against the real kmod: generated modprobe.d trees
are read by this machine's ``modprobe -c`` (which prints the configuration
it parsed) and by ``modprobe.config_files`` and ``modprobe.text_blocks``;
the blacklist, the install commands (in order, and whether each loads
nothing), the aliases and the softdeps are the same.

modprobe reads /etc/modprobe.d and the rest of its directories from the
real root only, so it runs under chroot in a private mount namespace
(``unshare --mount``): /usr read-only, the tree's directories bound in.
Nothing is mounted or written outside that namespace.  Needs root,
unshare and kmod (Debian 12: kmod 30); skipped elsewhere."""

import os
import shutil
import tempfile

import pytest
from hypothesis import given, strategies as st

from ansible_collections.guestready.gce.plugins.module_utils import configfiles, modprobe
from ansible_collections.guestready.gce.plugins.module_utils.target import Target
from realtools import chroot_root, run_in_namespace, unavailable

MODPROBE = "/usr/sbin/modprobe"
pytestmark = pytest.mark.skipif(unavailable(MODPROBE) is not None, reason=str(unavailable(MODPROBE)))

MODULES = st.sampled_from(["virtio_scsi", "virtio-scsi", "gve", "nvme*", "virtio_[sn]*", "virtio-[a-z]*", "x]y",
                           "[ab", "8250", "Virtio_Net"])
COMMANDS = st.sampled_from(["/bin/false", "/bin/true", "false", "/sbin/modprobe --ignore-install gve",
                            "/usr/bin/logger loaded; /bin/false", "echo x"])
BLANK = st.sampled_from([" ", "\t", "  ", " \t"])
LINE = st.one_of(
    st.builds(lambda lead, blank, module, end: "%sblacklist%s%s%s" % (lead, blank, module, end),
              st.sampled_from(["", " ", "\t"]), BLANK, MODULES, st.sampled_from(["", " extra", "\r", " #c"])),
    st.builds(lambda blank, module, command: "install%s%s%s%s" % (blank, module, blank, command), BLANK, MODULES, COMMANDS),
    st.builds(lambda pattern, module: "alias %s %s" % (pattern, module),
              st.sampled_from(["pci:v00001AF4d00001004*", "virtio:d00000008v*", "scsi*", "pci:v*d*"]), MODULES),
    st.builds(lambda module, deps: "softdep %s %s" % (module, deps), MODULES,
              st.sampled_from(["pre: virtio_pci", "post: foo bar", "pre: a post: b", "x pre: y", ""])),
    st.builds(lambda module: "options %s x=1" % module, MODULES),
    st.sampled_from(["# blacklist gve", "", "blacklist", "install gve", "remove gve /bin/true", "unknown gve"]),
    st.text(alphabet="blacklistinsgve_-[]* \t#\\", max_size=30))
# a line ends, or goes on on the next (a backslash before the newline)
FILE = st.lists(st.tuples(LINE, st.sampled_from(["\n", "\n", "\r\n", "\\\n", "\\\\\n"])), max_size=7).map(
    lambda rows: "".join(line + end for line, end in rows))
DIRS = ("etc/modprobe.d", "run/modprobe.d", "usr/local/lib/modprobe.d", "usr/lib/modprobe.d")
NAMES = st.sampled_from(["10-a.conf", "50-b.conf", "gce.conf", "local.alias", "notes.txt", "zz.conf"])
CONTENT = st.one_of(FILE, FILE, FILE, st.just(("link", "/dev/null")), st.just(("dir", None)))
TREE = st.dictionaries(st.tuples(st.sampled_from(DIRS), NAMES), CONTENT, max_size=6)

RUN = r"""
mount -t tmpfs none "$R/usr/local"
mkdir -p "$R/usr/local/lib/modprobe.d"
mount --bind "$T/usr/local/lib/modprobe.d" "$R/usr/local/lib/modprobe.d"
mount --bind "$T/usr/lib/modprobe.d" "$R/usr/lib/modprobe.d"
mount --bind "$T/etc" "$R/etc"
mount --bind "$T/run" "$R/run"
chroot "$R" /usr/sbin/modprobe -c 2>/dev/null || true
"""


def build(base, tree):
    model = os.path.join(base, "tree")
    for directory in DIRS:
        os.makedirs(os.path.join(model, directory))
    # as on a merged-/usr system (and in the chroot): /lib/modprobe.d is /usr/lib/modprobe.d
    os.symlink("usr/lib", os.path.join(model, "lib"))
    for (directory, name), content in tree.items():
        path = os.path.join(model, directory, name)
        if content == ("dir", None):
            os.mkdir(path)
        elif isinstance(content, tuple):
            os.symlink(content[1], path)
        else:
            with open(path, "w") as handle:
                handle.write(content)
    return model, chroot_root(base)


def real_config(model, root):
    out = run_in_namespace(RUN, root, model)
    found = {"blacklist": set(), "install": [], "alias": [], "softdep": []}
    for line in out.split("# End of configuration files", 1)[0].split("\n"):
        words = line.split(" ")
        if words[0] == "blacklist":
            found["blacklist"].add(words[1])
        elif words[0] == "install":
            found["install"].append((words[1], modprobe.loads_nothing(line.split(" ", 2)[2])))
        elif words[0] == "alias":
            found["alias"].append((words[1], words[2]))
        elif words[0] == "softdep":
            # kmod 30's dump of a softdep (softdep_get_plain_softdep()) runs words together and
            # repeats some ("pre: a post: b" is "pre: apost: b"): the names are compared as a set
            names = " ".join(words[2:]).replace("post:", " post: ").split(" ")
            found["softdep"].append((words[1], sorted(set(w for w in names if w and w not in ("pre:", "post:")))))
    return found


def modelled_config(model):
    target = Target(model)
    blocks = modprobe.text_blocks((path, configfiles.read(target, path) or "")
                                  for path, dummy in modprobe.config_files(target))
    return {"blacklist": set(blocks),
            "install": [(pattern, entry is not None) for (pattern, dummy), entry in blocks.installs],
            "alias": [(pattern, module) for (pattern, dummy), module, entry in blocks.aliases],
            "softdep": [(pattern, sorted(set(names))) for (pattern, dummy), names in blocks.softdeps]}


@given(tree=TREE)
def test_the_configuration_is_what_kmod_parses(tree):
    base = tempfile.mkdtemp()
    try:
        model, root = build(base, tree)
        assert modelled_config(model) == real_config(model, root), tree
    finally:
        shutil.rmtree(base)
