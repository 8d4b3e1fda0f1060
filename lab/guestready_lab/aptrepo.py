"""A local Debian repository for lab guests, which have no route to Debian's archive.

The .deb files are the lab's apt cache (`<cache>/apt-archives`: every package the image
builds downloaded) plus profiles.REPO_PACKAGES and their dependencies, downloaded on the host
the way the image build does it (mmdebstrap, here `--variant=extract --format=null`: apt
resolves the dependencies, nothing is installed anywhere). The index is a *flat repository*
(Debian wiki "DebianRepository/Format", section "Flat Repository Format"): `Packages` and
`Release` at the top, generated here with the standard library (the control file of each
.deb is read from its ar member control.tar.{xz,gz,zst?}; the stanzas are cached by file
name, size and mtime). The services process (metadata.py) serves it under /debian; guests
reach it as http://169.254.169.253/debian (lab images: /etc/apt/sources.list.d/lab.list,
`deb [trusted=yes] http://169.254.169.253/debian ./`).

`[trusted=yes]`: the Release file is not signed (the lab has no key to sign with); apt then
trusts the repository without a signature. Acceptable for the lab only: the files are the
ones apt downloaded and verified against Debian's signed archive when they entered the cache.
"""

import glob
import gzip
import hashlib
import io
import json
import lzma
import os
import posixpath
import re
import subprocess
import tarfile
import time
import urllib.parse

from . import profiles
from .util import LabError, cache_dir, file_lock, log, require_tools

PREFIX = "/debian"
DEB_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9+.~%_:-]*\.deb$")
# Control fields in the order Packages files use (others follow, sorted)
FIRST = ["Package", "Source", "Version", "Installed-Size", "Maintainer", "Architecture",
         "Replaces", "Provides", "Depends", "Pre-Depends", "Recommends", "Suggests",
         "Conflicts", "Breaks", "Description"]


def debs_dir():
    return os.path.join(cache_dir(), "apt-archives")


def repo_dir():
    return os.path.join(cache_dir(), "apt-repo")


def _ar_members(data):
    if not data.startswith(b"!<arch>\n"):
        raise ValueError("not an ar archive")
    pos = 8
    while pos + 60 <= len(data):
        header = data[pos:pos + 60]
        name = header[:16].decode().strip().rstrip("/")
        size = int(header[48:58].decode().strip())
        yield name, data[pos + 60:pos + 60 + size]
        pos += 60 + size + (size & 1)


def control_of(path):
    """The control paragraph of a .deb (text, no trailing newline)."""
    with open(path, "rb") as f:
        data = f.read()
    for name, member in _ar_members(data):
        if not name.startswith("control.tar"):
            continue
        if name.endswith(".xz"):
            raw = lzma.decompress(member)
        elif name.endswith(".gz"):
            raw = gzip.decompress(member)
        elif name == "control.tar":
            raw = member
        else:  # control.tar.zst: not in Python's standard library (Debian uses xz)
            raise ValueError("unsupported %s" % name)
        with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
            for entry in tar.getmembers():
                if entry.name in ("./control", "control"):
                    return tar.extractfile(entry).read().decode("utf-8").strip("\n")
    raise ValueError("no control file")


def _stanza(control, filename, path):
    fields, order = {}, []
    key = None
    for line in control.splitlines():
        if line[:1] in (" ", "\t") and key:
            fields[key] += "\n" + line
        elif ":" in line:
            key, value = line.split(":", 1)
            fields[key] = value.strip()
            order.append(key)
    with open(path, "rb") as f:
        data = f.read()
    fields.update({"Filename": "pool/" + filename, "Size": str(len(data)),
                   "MD5sum": hashlib.md5(data).hexdigest(),  # noqa: S324 (apt's field)
                   "SHA256": hashlib.sha256(data).hexdigest()})
    keys = [k for k in FIRST if k in fields and k != "Description"]
    keys += sorted(k for k in fields if k not in FIRST)
    if "Description" in fields:
        keys.append("Description")
    return "\n".join("%s: %s" % (k, fields[k]) for k in keys)


def build_index(debs=None, out=None):
    """Write Packages and Release for every .deb in `debs` into `out`; returns the count."""
    debs, out = debs or debs_dir(), out or repo_dir()
    os.makedirs(out, exist_ok=True)
    cache_path = os.path.join(out, "stanzas.json")
    try:
        with open(cache_path) as f:
            cached = json.load(f)
    except (OSError, ValueError):
        cached = {}
    stanzas, fresh = [], {}
    for path in sorted(glob.glob(os.path.join(debs, "*.deb"))):
        name = os.path.basename(path)
        if not DEB_RE.match(name):
            continue
        st = os.stat(path)
        sig = "%s:%d:%d" % (name, st.st_size, st.st_mtime_ns)
        stanza = cached.get(sig)
        if stanza is None:
            try:
                stanza = _stanza(control_of(path), name, path)
            except (OSError, ValueError, KeyError, tarfile.TarError, lzma.LZMAError) as e:
                log("apt repo: skipping %s: %s" % (name, e))  # e.g. being written by a build
                continue
        fresh[sig] = stanza
        stanzas.append(stanza)
    packages = ("\n\n".join(stanzas) + "\n").encode()
    _write(os.path.join(out, "Packages"), packages)
    files = {"Packages": packages, "Packages.gz": gzip.compress(packages, mtime=0)}
    _write(os.path.join(out, "Packages.gz"), files["Packages.gz"])
    release = ["Origin: guestready-lab", "Label: guestready-lab",
               "Suite: bookworm", "Codename: bookworm",
               "Date: %s" % time.strftime("%a, %d %b %Y %H:%M:%S UTC", time.gmtime()),
               "Architectures: amd64 all", "Description: the lab's apt cache (unsigned; "
               "guests use it with [trusted=yes])"]
    for field, algo in (("MD5Sum", hashlib.md5), ("SHA256", hashlib.sha256)):
        release.append(field + ":")
        for name, data in files.items():
            release.append(" %s %d %s" % (algo(data).hexdigest(), len(data), name))
    _write(os.path.join(out, "Release"), ("\n".join(release) + "\n").encode())
    tmp = cache_path + ".tmp.%d" % os.getpid()
    with open(tmp, "w") as f:
        json.dump(fresh, f)
    os.replace(tmp, cache_path)
    return len(stanzas)


def _write(path, data):
    tmp = path + ".tmp.%d" % os.getpid()
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def fetch_extras(groups=None):
    """Download profiles.REPO_PACKAGES (groups of co-installable packages) and their
    dependencies into the apt cache; once per list (a marker in the repository dir)."""
    groups = [sorted(g) for g in (groups or profiles.REPO_PACKAGES)]
    marker = os.path.join(repo_dir(), "extras.json")
    try:
        with open(marker) as f:
            if json.load(f).get("packages") == groups:
                return False
    except (OSError, ValueError):
        pass
    require_tools("mmdebstrap")
    from .image import MIRROR, SUITE  # noqa: PLC0415
    os.makedirs(debs_dir(), exist_ok=True)
    os.makedirs(repo_dir(), exist_ok=True)
    logpath = os.path.join(repo_dir(), "fetch.log")
    t0 = time.monotonic()
    with open(logpath, "w") as logf:
        for packages in groups:
            log("apt repo: downloading %s and their dependencies into %s"
                % (", ".join(packages), debs_dir()))
            # extract variant: apt resolves and downloads, nothing is configured; the extract
            # hook copies the downloaded files out before the throw-away tree (format null)
            # is deleted
            cmd = ["mmdebstrap", "--mode=unshare", "--variant=extract", "--format=null",
                   "--include=" + ",".join(packages), "--skip=essential/unlink",
                   "--setup-hook=mkdir -p \"$1\"/var/cache/apt/archives/",
                   "--setup-hook=sync-in '%s' /var/cache/apt/archives/" % debs_dir(),
                   "--extract-hook=sync-out /var/cache/apt/archives '%s'" % debs_dir(),
                   SUITE, "/dev/null", "deb %s %s main" % (MIRROR, SUITE)]
            logf.write("$ %s\n" % " ".join(cmd))
            logf.flush()
            rc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                                timeout=1800).returncode
            if rc != 0:
                raise LabError("downloading %s failed (exit %d; log: %s)" % (", ".join(packages), rc, logpath))
    tmp = marker + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"packages": groups}, f)
    os.replace(tmp, marker)
    log("apt repo: downloaded in %.0f s" % (time.monotonic() - t0))
    return True


def ensure():
    """The repository directory, with its extras fetched and its index current."""
    with file_lock(os.path.join(cache_dir(), "locks", "apt-repo.lock"), "apt repository"):
        try:
            fetch_extras()
        except LabError as e:  # no archive reachable: the repository serves what the cache has
            log("apt repo: %s; serving the apt cache without them" % e)
        build_index()
    return repo_dir()


class Repo:
    """Serves a flat repository: <prefix>/{Packages,Packages.gz,Release} and <prefix>/pool/<deb>."""

    prefix = PREFIX

    def __init__(self, directory, debs):
        self.dir = directory
        self.debs = debs

    def get(self, sub):
        """(status, bytes, content type) for the path below the prefix."""
        # flat repositories are fetched as <base>/./Release, <base>/./pool/...
        # apt quotes file names ('+' as %2b, the cache's literal '%3a' epochs as %253a)
        sub = posixpath.normpath("/" + urllib.parse.unquote(sub)).lstrip("/")
        if sub in ("Packages", "Packages.gz", "Release"):
            path = os.path.join(self.dir, sub)
        elif sub.startswith("pool/") and DEB_RE.match(sub[5:]):
            path = os.path.join(self.debs, sub[5:])   # a plain file name: no way out of the dir
        else:
            return 404, b"Not Found\n", "text/plain"
        try:
            with open(path, "rb") as f:
                return 200, f.read(), "application/octet-stream"
        except OSError:
            return 404, b"Not Found\n", "text/plain"
