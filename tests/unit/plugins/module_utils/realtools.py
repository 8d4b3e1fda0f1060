"""What the tests that compare a reader with this machine's own program
share: a program that reads its configuration from fixed paths of the real
root runs under chroot in a private mount namespace (``unshare --mount``),
/usr bound read-only and the generated tree's directories bound where the
program looks.  Every mount is made inside that namespace and goes with
it; nothing on the host is mounted or written."""

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile

# the start of every script: the chroot's /usr is the host's, read-only; $R is the root, $T the tree
BIND_USR = r"""
set -eu
R=$1 T=$2
mount --bind /usr "$R/usr"
mount -o remount,bind,ro "$R/usr"
mount -t tmpfs none "$R/dev"
touch "$R/dev/null"
mount --bind /dev/null "$R/dev/null"
"""

# the lab's cache (lab/lab, make deps): apt-archives holds the lab images' packages, tool-debs the
# programs make deps downloads for these comparisons (never installed)
LAB_CACHE = os.path.expanduser(os.environ.get("GUESTREADY_LAB_CACHE") or "~/.cache/guestready-lab")


def cached_deb(directory, package):
    """The last by name of ``package``'s amd64 (or architecture-independent) .deb files in the lab
    cache's ``directory``, or None."""
    found = sorted(glob.glob(os.path.join(LAB_CACHE, directory, package + "_*_amd64.deb")) +
                   glob.glob(os.path.join(LAB_CACHE, directory, package + "_*_all.deb")))
    return found[-1] if found else None


def unpack(where, *debs):
    """``debs`` unpacked into the directory ``where`` (dpkg-deb -x); ``where``."""
    for deb in debs:
        subprocess.run(["dpkg-deb", "-x", deb, where], check=True)
    return where


@contextlib.contextmanager
def unpacked(*debs):
    """``debs`` unpacked into a temporary directory, removed afterwards: ``(its path, the
    environment that runs its programs with its libraries)``."""
    where = tempfile.mkdtemp()
    try:
        yield unpack(where, *debs), dict(os.environ, LD_LIBRARY_PATH=os.path.join(where, "usr/lib/x86_64-linux-gnu"))
    finally:
        shutil.rmtree(where)


def unavailable(*programs):
    """Why such a test cannot run here (not root, no unshare, chroot or one of
    ``programs``, paths or names), or None."""
    if os.geteuid() != 0:
        return "needs root (mount namespaces)"
    missing = [p for p in ("unshare", "chroot") + programs if not (os.path.exists(p) if "/" in p else shutil.which(p))]
    return "needs %s" % ", ".join(missing) if missing else None


def chroot_root(base, directories=("etc", "run")):
    """An empty root under ``base`` for the chroot: mount points for /usr,
    /dev and ``directories``, and /lib, /lib64, /bin, /sbin leading into /usr
    (a merged-/usr system, as Debian 12 is)."""
    root = os.path.join(base, "root")
    for directory in ("usr", "dev") + tuple(directories):
        os.makedirs(os.path.join(root, directory))
    for name in ("lib", "lib64", "bin", "sbin"):
        os.symlink("usr/" + name, os.path.join(root, name))
    return root


def run_in_namespace(script, root, tree, *args):
    """``BIND_USR`` then ``script`` in a private mount namespace, with
    ``root``, ``tree`` and ``args`` as $1, $2, ...; its output."""
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", BIND_USR + script, "sh",
                           root, tree] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, check=True).stdout.decode()


def write_network_tree(base, dirs, tree, dropins):
    """A generated systemd-style tree (``{(key, name): text or "/dev/null"}``, drop-ins
    ``{(key, name, conf): text}``) written twice: under ``base``/key, to be bound where the program
    looks, and in an image root ``base``/root at the paths ``dirs`` (``{key: directory}``) names; the root."""
    root = os.path.join(base, "root")
    for key in dirs:
        os.makedirs(os.path.join(base, key))
    files = dict(((key, name), text) for (key, name), text in tree.items())
    files.update(((key, os.path.join(name + ".d", conf)), text) for (key, name, conf), text in dropins.items())
    for (key, name), text in files.items():
        for where in (os.path.join(base, key, name), os.path.join(root, dirs[key][1:], name)):
            os.makedirs(os.path.dirname(where), exist_ok=True)
            if text == "/dev/null":
                os.symlink("/dev/null", where)
            else:
                with open(where, "w") as handle:
                    handle.write(text)
    return root
