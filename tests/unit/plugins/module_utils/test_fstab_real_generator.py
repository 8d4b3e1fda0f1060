"""The fstab reader against the real readers of boot: generated fstab files
are read by this machine's glibc getmntent() (through ctypes: the fields and
passno it returns) and by its systemd-fstab-generator (the units it writes
and the targets that require or want them), and ``fstab.parse`` says the
same: the same entries, fields, mount points, network mounts, nofail,
noauto, automounts and what each mounts (a tag as the udev link it waits for).

The generator reads the file ``$SYSTEMD_FSTAB`` names and writes only into
the directories it is given (a temporary one); the kernel command line is
``$SYSTEMD_PROC_CMDLINE``, empty.  Mount points lie below a directory that
does not exist, so the generator's symlink resolution finds nothing of the
host's.  Needs glibc and systemd-fstab-generator (Debian 12: glibc 2.36,
systemd 252); skipped elsewhere."""

import ctypes
import os
import platform
import shutil
import subprocess
import tempfile

import pytest
from hypothesis import given, strategies as st

from ansible_collections.guestready.gce.plugins.module_utils import bootdisk, fstab
from ansible_collections.guestready.gce.plugins.module_utils.target import NotUtf8, text_bytes, text_of

GENERATOR = "/usr/lib/systemd/system-generators/systemd-fstab-generator"
pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc" or not os.path.exists(GENERATOR),
                                reason="needs glibc and %s" % GENERATOR)
BASE = "/guestready-no-such-dir"


class MntEnt(ctypes.Structure):
    _fields_ = [("fsname", ctypes.c_char_p), ("dir", ctypes.c_char_p), ("type", ctypes.c_char_p),
                ("opts", ctypes.c_char_p), ("freq", ctypes.c_int), ("passno", ctypes.c_int)]


def getmntent_entries(path):
    """``[(fsname, dir, type, opts, passno)]`` as this machine's glibc reads
    ``path``: getmntent_r() with getmntent()'s 4096 bytes and an entry of its
    own, zeroed as a fresh process's static one is (getmntent() keeps one for
    the process, and a line whose passno sscanf() cannot start on keeps the
    last one read)."""
    libc = ctypes.CDLL("libc.so.6")
    libc.setmntent.restype = ctypes.c_void_p
    libc.setmntent.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    libc.getmntent_r.restype = ctypes.POINTER(MntEnt)
    libc.getmntent_r.argtypes = [ctypes.c_void_p, ctypes.POINTER(MntEnt), ctypes.c_char_p, ctypes.c_int]
    libc.endmntent.argtypes = [ctypes.c_void_p]
    handle = libc.setmntent(path.encode(), b"re")
    assert handle, path
    found, entry, buffer = [], MntEnt(), ctypes.create_string_buffer(fstab.GETMNTENT_BUFFER)
    try:
        while True:
            if not libc.getmntent_r(handle, ctypes.byref(entry), buffer, fstab.GETMNTENT_BUFFER):
                return found
            found.append((entry.fsname, entry.dir, entry.type, entry.opts, entry.passno))
    finally:
        libc.endmntent(handle)


# a tag's value as udev encodes it for the link the generator waits for: ASCII it keeps and escapes,
# quotes it takes off in pairs, UTF-8 it keeps, noncharacters and bytes that are not UTF-8 it escapes
TAG_VALUES = st.lists(st.sampled_from(list("aZ09#+-.:=@_%/*\\\"'\xa0\xe9") + [
    "\\040", "\\011", "\\134", "\ufdd0", "\ufdef", "\ufffe", "\U0001fffe", "\U0001f600", "\udce9"]),
    max_size=6).map("".join)
TAG_SPECS = st.builds(lambda tag, value: tag + "=" + value,
                      st.sampled_from(["UUID", "LABEL", "PARTUUID", "PARTLABEL", "uuid", "Label", "ID"]), TAG_VALUES)
SPECS = st.sampled_from(["UUID=1", "LABEL=data", "/dev/sdb1", "/dev/disk/by-id/google-d-part1", "srv:/export",
                         "//nas/share", "/srv/image.img", "tmpfs", "UUID=a\\040b", "PARTUUID=\\134x"]) | TAG_SPECS
# a directory of its own per line (the generator refuses a second unit for a mount point), written as
# mount(8) users write them: a trailing slash, doubled slashes, glibc's escapes and one it leaves alone
DECORATIONS = st.sampled_from(["", "/", "//", "\\040x", "\\011y", "\\134z", "\\055w", "\\\\v", "\xe9", "\xa0u",
                               "/./a", "/."])
TYPES = st.sampled_from(["ext4", "xfs", "nfs", "nfs4", "fuse.sshfs", "cifs", "gfs2", "swap", "auto", "none",
                         "tmpfs", "ext4\r", "autofs"])
OPTION = st.sampled_from(["defaults", "nofail", "fail", "noauto", "auto", "_netdev", "x-systemd.automount",
                          "rw", "x-nofail", "nofail=1", "comment=systemd.automount", "nofail\r", "ignore",
                          "x-systemd.device-timeout=5"]) | \
    st.integers(4030, 4100).map(lambda size: "x-note=" + "n" * size)   # about getmntent()'s 4095 bytes
NUMBERS = st.sampled_from(["0", "2", "-1", "1x", "+3", "99999999999", "0\r", "x", "1\x0b2"])
BLANK = st.sampled_from([" ", "\t", " \t ", "  "])
END = st.sampled_from(["\n", "\n", "\r\n", " \n", "\t\r\n", "\x00tail\n"])


@st.composite
def fstab_files(draw):
    rows = []
    for index in range(draw(st.integers(0, 7))):
        kind = draw(st.sampled_from(["entry"] * 6 + ["comment", "blank", "noise"]))
        if kind == "comment":
            rows.append(draw(st.sampled_from(["#", " # UUID=9 /x ext4 defaults", "\t#x"])) + draw(END))
            continue
        if kind == "blank":
            rows.append(draw(st.sampled_from(["", " ", "\t \t"])) + draw(END))
            continue
        if kind == "noise":
            rows.append(draw(st.text(alphabet="UID=/ \t\r#\\0x", max_size=12)) + draw(END))
            continue
        # ".." after a directory that does not exist yet makes no unit (v252: chase() fails, and a
        # unit name of a path with ".." is refused): the model goes up as from one that exists
        where = draw(st.sampled_from(["%s/m%d", "//%s/m%d", "%s//m%d", "none", "swap", "m%d", "%s/m%d", "./m%d",
                                      "../m%d/", "m%d/"]))
        where = (where % (BASE, index) if where.count("%") == 2 else where % index if "%" in where else where)
        fields = [draw(SPECS), where + draw(DECORATIONS), draw(TYPES),
                  ",".join(draw(st.lists(OPTION, min_size=1, max_size=4))), draw(NUMBERS), draw(NUMBERS)]
        count = draw(st.integers(1, 6))
        rows.append(draw(st.sampled_from(["", " ", "\t"])) +
                    "".join(field + draw(BLANK) for field in fields[:count - 1]) + fields[count - 1] + draw(END))
    if rows and draw(st.booleans()):
        rows[-1] = rows[-1].rstrip("\n")   # a last line without its newline
    return "".join(rows).encode("utf-8", "surrogateescape") if draw(st.booleans()) else \
        "".join(rows).encode("latin-1", "replace")


def _units(out):
    """``{Where: (target, link, kind)}`` of the mounts the generator wrote:
    the target and link (requires, wants) of the unit that starts it (the
    .automount when there is one), else None, None.  Swaps are left out: the
    generator ignores them in a container, as this machine may be."""
    links = {}
    for name in os.listdir(out):
        if name.endswith((".requires", ".wants")) and os.path.isdir(os.path.join(out, name)):
            target, link = name.rsplit(".", 1)
            for unit in os.listdir(os.path.join(out, name)):
                links.setdefault(unit, (target, link))
    mounts = {}
    for name in os.listdir(out):
        if not name.endswith(".mount"):
            continue
        with open(os.path.join(out, name), "rb") as handle:
            lines = handle.read().split(b"\n")
        if not any(line.startswith(b"What=") for line in lines):
            continue   # cut short where the generator failed: systemd refuses it, nothing starts it
        where, what = [[line[len(key):].replace(b"%%", b"%") for line in lines if line.startswith(key)][0]
                       for key in (b"Where=", b"What=")]
        automount = name[:-len(".mount")] + ".automount"
        if os.path.exists(os.path.join(out, automount)):
            mounts[where] = links.get(automount, (None, None)) + ("automount", what)
        else:
            mounts[where] = links.get(name, (None, None)) + ("mount", what)
    return mounts


def generator_units(path, out):
    # SYSTEMD_SYSFS_CHECK=0: a device's mount is made when /sys is read-only too (a container's)
    env = {"SYSTEMD_FSTAB": path, "SYSTEMD_PROC_CMDLINE": "", "SYSTEMD_IN_INITRD": "0", "SYSTEMD_LOG_LEVEL": "emerg",
           "SYSTEMD_SYSFS_CHECK": "0",
           "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    # at boot its working directory is /, which a relative mount point ("data/") is taken from
    subprocess.run([GENERATOR, out, out, out], env=env, check=False, cwd="/", stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=60)
    return _units(out)


def modelled_units(entries, encode):
    """The same, as ``fstab.parse``'s entries say it (``encode``: a text's bytes)."""
    mounts = {}
    for entry in entries:
        if entry.has_unit and entry.vfstype not in ("swap", "autofs"):
            automount = entry.has_option("x-systemd.automount", "comment=systemd.automount")
            target = "remote-fs.target" if entry.is_network else "local-fs.target"
            # an automount is started whatever noauto says (v252 add_mount)
            if fstab.says(entry.options, "noauto", "auto") and not automount:
                started = (None, None)
            else:
                started = (target, "wants" if fstab.says(entry.options, "nofail", "fail") else "requires")
            # what it mounts: a tag's udev link, any other spec as written (the model takes a name
            # that is not UTF-8 as os.fsdecode() gives it)
            spec = os.fsdecode(encode(entry.spec))
            what = os.fsencode(bootdisk.tag_link(spec) or spec)
            # a second entry for a mount point makes no unit: the first one's file exists
            mounts.setdefault(encode(entry.file), started + ("automount" if automount else "mount", what))
    return mounts


@given(data=fstab_files())
def test_the_entries_are_what_glibc_and_systemds_generator_read(data):
    base = tempfile.mkdtemp()
    try:
        path, out = os.path.join(base, "fstab"), os.path.join(base, "out")
        os.mkdir(out)
        with open(path, "wb") as handle:
            handle.write(data)
        text = text_of(data)
        entries = fstab.parse(text)
        # a file that is not UTF-8 is read a character a byte
        encode = (lambda value: value.encode("latin-1")) if isinstance(text, NotUtf8) else text_bytes
        decoded = [tuple(encode(fstab.unescape(f)) for f in (e.fields + ["", "", ""])[:4]) + (e.passno,) for e in entries]
        real = getmntent_entries(path)
        assert decoded == real, data
        assert [encode(e.file) for e in entries] == [
            encode(fstab.mount_point(text_of(where) if encode is text_bytes else where.decode("latin-1")))
            for dummy, where, dummy, dummy, dummy in real]
        real = generator_units(path, out)
        assert modelled_units(entries, encode) == real, (data, real)
    finally:
        shutil.rmtree(base)
