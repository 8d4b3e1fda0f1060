"""The target-root layer on its own: resolution inside the root whatever
the tree's links say, regular files only, atomic writes, the lock."""

import io
import os
import stat
import threading
import time

import pytest

from ansible_collections.guestready.gce.plugins.module_utils.target import (
    READ_FIRST, READ_STEP, TEMP_PREFIX, Missing, NotRegular, NotUtf8, Target, TargetError, lock_holder,
    read_at_most)


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    (root / "etc").mkdir(parents=True)
    outside.mkdir()
    (outside / "victim").write_text("outside\n")
    return root, outside


def test_absolute_link_resolves_inside_the_root(tree):
    root, outside = tree
    (root / "etc" / "abs").symlink_to(str(outside / "victim"))
    with pytest.raises(Missing):
        Target(str(root)).read_text("/etc/abs")
    inner = root / str(outside).lstrip("/")
    inner.mkdir(parents=True)
    (inner / "victim").write_text("inside\n")
    assert Target(str(root)).read_text("/etc/abs") == "inside\n"


def test_dotdot_stops_at_the_root(tree):
    root, outside = tree
    (root / "etc" / "rel").symlink_to("../../../../../../../../outside/victim")
    (root / "outside").mkdir()
    (root / "outside" / "victim").write_text("inside\n")
    target = Target(str(root))
    assert target.read_text("/etc/rel") == "inside\n"
    assert target.read_text("/../../etc/../../outside/victim") == "inside\n"
    assert target.host_path("/etc/rel") == str(root / "outside" / "victim")


def test_live_root_is_ordinary_resolution(tmp_path):
    (tmp_path / "file").write_text("x")
    (tmp_path / "link").symlink_to("file")
    target = Target("/")
    assert target.live
    assert target.read_text(str(tmp_path / "link")) == "x"
    assert target.display(str(tmp_path / "file")) == str(tmp_path / "file")


def outcome(call):
    try:
        value = call()
    except Exception as exc:  # pylint: disable=broad-except
        return type(exc).__name__, str(exc)
    return "ok", (value.st_ino, value.st_mode) if isinstance(value, os.stat_result) else value


def test_live_root_resolves_as_the_walk_does(tmp_path, monkeypatch):
    """Under / the kernel resolves the directories (one open instead of one
    per component); every answer and every error message is the walk's."""
    base = tmp_path / "t"
    (base / "d" / "e").mkdir(parents=True)
    (base / "d" / "e" / "f").write_text("f\n")
    (base / "d" / "rel").symlink_to("e")
    (base / "d" / "flink").symlink_to("e/f")
    (base / "d" / "dangling").symlink_to("nowhere")
    (base / "d" / "up").symlink_to("../d/e/../e/f")
    (base / "d" / "loop1").symlink_to("loop2")
    (base / "d" / "loop2").symlink_to("loop1")
    (base / "d" / "file").write_text("x")
    os.mkfifo(str(base / "d" / "fifo"))
    locked = base / "locked"
    locked.mkdir()
    (locked / "secret").write_text("s")
    paths = ["d/e/f", "d/rel/f", "d/flink", "d/dangling", "d/up", "d/loop1", "d/loop1/x", "d/file/x",
             "d/fifo", "d/missing", "d/missing/x", "d/e/../e/f", "d/e/..", "d/rel", "d", "d/./e//f",
             "locked/secret", "d/e/f/"]
    calls = {"read_text": lambda t, p: t.read_text(p), "lstat": lambda t, p: t.lstat(p),
             "stat": lambda t, p: t.stat(p), "isdir": lambda t, p: t.isdir(p), "islink": lambda t, p: t.islink(p),
             "exists": lambda t, p: t.exists(p), "listdir": lambda t, p: t.listdir(p),
             "host_path": lambda t, p: t.host_path(p), "readlink": lambda t, p: t.readlink(p)}
    live = Target("/")

    def answers():
        return {(name, path): outcome(lambda: call(live, str(base / path)))
                for name, call in calls.items() for path in paths}
    quick = answers()
    monkeypatch.setattr(Target, "_resolve_live", lambda self, path, follow: None)
    walked = answers()
    assert quick == walked
    assert quick[("read_text", "d/up")] == ("ok", "f\n")
    assert quick[("read_text", "d/loop1")][0] == "TargetError"


def test_symlinked_parent_directories_and_loops(tree):
    root, outside = tree
    (root / "a").symlink_to("/etc")
    (root / "etc" / "f").write_text("f\n")
    (root / "loop1").symlink_to("loop2")
    (root / "loop2").symlink_to("/loop1")
    target = Target(str(root))
    assert target.read_text("/a/f") == "f\n"
    assert target.listdir("/a") == ["f"]
    with pytest.raises(TargetError, match="too many levels of symbolic links"):
        target.read_text("/loop1/x")
    (root / "etc" / "notdir").write_text("")
    with pytest.raises(TargetError, match="not a directory"):
        target.read_text("/etc/notdir/x")


def test_only_regular_files_are_read(tree):
    root, dummy = tree
    os.mkfifo(str(root / "etc" / "fifo"))
    (root / "etc" / "dir").mkdir()
    target = Target(str(root))
    done = {}

    def read():
        try:
            target.read_text("/etc/fifo")
        except NotRegular as exc:
            done["error"] = exc
    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), "reading a FIFO must not block"
    assert "is a FIFO (named pipe), not a regular file" in str(done["error"])
    assert done["error"].kind.startswith("FIFO")
    with pytest.raises(NotRegular, match="is a directory"):
        target.read_bytes("/etc/dir")


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod needs root")
def test_device_nodes_are_never_opened(tree):
    root, dummy = tree
    os.mknod(str(root / "etc" / "zero"), stat.S_IFCHR | 0o644, os.makedev(1, 5))
    with pytest.raises(NotRegular, match="character device"):
        Target(str(root)).read_bytes("/etc/zero")


def test_size_limit(tree):
    root, dummy = tree
    (root / "etc" / "big").write_bytes(b"x" * 100)
    with pytest.raises(TargetError, match="larger than 10 bytes"):
        Target(str(root)).read_bytes("/etc/big", limit=10)


def test_a_file_at_the_limit_is_read_whole(tree):
    root, dummy = tree
    (root / "etc" / "edge").write_bytes(b"y" * 10)
    assert Target(str(root)).read_bytes("/etc/edge", limit=10) == b"y" * 10


class _Reads(object):
    """A binary file object that records the sizes asked of read()."""

    def __init__(self, handle):
        self.handle, self.asked = handle, []

    def fileno(self):
        return self.handle.fileno()

    def read(self, size):
        self.asked.append(size)
        return self.handle.read(size)


def test_a_bounded_read_asks_for_the_file_s_size_not_the_allowance(tmp_path):
    # a read allocates what it is asked for: 32 MiB per small file cost
    # milliseconds each on an emulated guest
    for size in (0, 5000, READ_FIRST, 3 * READ_STEP + 7):
        path = tmp_path / ("f%d" % size)
        path.write_bytes(b"z" * size)
        with open(str(path), "rb") as handle:
            reads = _Reads(handle)
            assert read_at_most(reads, 32 * 1024 * 1024) == b"z" * size
        assert reads.asked[0] == max(size + 1, READ_FIRST)
        assert len(reads.asked) == 1


def test_a_bounded_read_of_a_file_without_a_size_reads_on_in_steps():
    # procfs and pipes say 0 bytes; what they hold is read to the limit and no further
    data = os.urandom(3 * READ_STEP)
    for limit, expected in ((4 * READ_STEP, data), (READ_STEP + 5, data[:READ_STEP + 6])):
        reader, writer = os.pipe()
        feeder = threading.Thread(target=_feed, args=(writer, data))
        feeder.start()
        with os.fdopen(reader, "rb") as handle:
            reads = _Reads(handle)
            got = read_at_most(reads, limit)
        feeder.join()
        assert got == expected
        assert max(reads.asked) <= READ_STEP


def _feed(fd, data):
    try:
        while data:
            data = data[os.write(fd, data[:65536]):]
    except BrokenPipeError:
        pass  # the reader stopped at its limit
    finally:
        os.close(fd)


class _Grown(_Reads):
    """fstat says what the file held when opened; read() meets what it holds now."""

    def __init__(self, small, now):
        _Reads.__init__(self, io.BytesIO(now))
        self.small = small

    def fileno(self):
        return self.small.fileno()


def test_a_file_that_grew_after_its_size_was_seen_is_read_to_the_limit(tmp_path):
    (tmp_path / "small").write_bytes(b"x" * 8)
    now = b"x" * (3 * READ_STEP)
    with open(str(tmp_path / "small"), "rb") as small:
        assert read_at_most(_Grown(small, now), READ_STEP + 10) == now[:READ_STEP + 11]
        assert read_at_most(_Grown(small, now), 5 * READ_STEP) == now


def test_limited_reads_go_through_the_bounded_read(tree, monkeypatch):
    # the configuration readers and the kernel configuration reader, not read(limit + 1)
    from ansible_collections.guestready.gce.plugins.module_utils import kconfig_parser, target
    root, dummy = tree
    (root / "etc" / "small").write_bytes(b"CONFIG_VIRTIO=y\n")
    asked = []

    def spy(handle, limit):
        asked.append(limit)
        return read_at_most(handle, limit)
    monkeypatch.setattr(target, "read_at_most", spy)
    monkeypatch.setattr(kconfig_parser, "read_at_most", spy)
    assert Target(str(root)).read_bytes("/etc/small", limit=1000) == b"CONFIG_VIRTIO=y\n"
    assert kconfig_parser.read("/etc/small", version="6.1", arch="x86_64", target=Target(str(root))).values
    assert asked == [1000, kconfig_parser.MAX_SIZE]


def test_owned_path_link_is_replaced_not_written_through(tree):
    root, outside = tree
    (root / "etc" / "own").symlink_to(str(outside / "victim"))
    replaced = Target(str(root)).write_atomic("/etc/own", "mine\n", owned=True)
    assert stat.S_ISLNK(replaced.st_mode)
    assert not os.path.islink(str(root / "etc" / "own"))
    assert (root / "etc" / "own").read_text() == "mine\n"
    assert (outside / "victim").read_text() == "outside\n"


def test_other_files_are_written_where_the_root_resolves_them(tree):
    root, outside = tree
    (root / "etc" / "conf").symlink_to("../../outside/victim")
    (root / "outside").mkdir()
    (root / "outside" / "victim").write_text("inside\n")
    os.chmod(str(root / "outside" / "victim"), 0o640)
    Target(str(root)).write_atomic("/etc/conf", "edited\n")
    assert os.path.islink(str(root / "etc" / "conf")), "a link that is not ours stays a link"
    assert (root / "outside" / "victim").read_text() == "edited\n"
    assert stat.S_IMODE(os.stat(str(root / "outside" / "victim")).st_mode) == 0o640
    assert (outside / "victim").read_text() == "outside\n"


def test_hard_link_to_an_outside_file_is_replaced_not_written(tree):
    root, outside = tree
    os.link(str(outside / "victim"), str(root / "etc" / "hard"))
    Target(str(root)).write_atomic("/etc/hard", "new\n")
    assert (root / "etc" / "hard").read_text() == "new\n"
    assert (outside / "victim").read_text() == "outside\n"


def test_a_link_leading_into_no_directory_is_named_as_a_link(tree):
    """/etc/machine-id -> /run/nowhere/machine-id (no /run/nowhere in the
    tree): the write said "/etc/machine-id: no such file or directory" of
    a path ls shows; it names the link and where it leads, and writes
    nothing (neither here nor outside)."""
    root, outside = tree
    (root / "etc" / "machine-id").symlink_to("/run/nowhere/machine-id")
    with pytest.raises(TargetError, match=r"etc/machine-id: is a symbolic link to /run/nowhere/machine-id, "
                                          r"which leads into no directory of .*root/?: not replaced"):
        Target(str(root)).write_atomic("/etc/machine-id", "")
    assert sorted(os.listdir(str(root))) == ["etc"] and sorted(os.listdir(str(root / "etc"))) == ["machine-id"]
    # a dangling link whose directory is there is written where it leads, as before
    (root / "run" / "nowhere").mkdir(parents=True)
    Target(str(root)).write_atomic("/etc/machine-id", "")
    assert (root / "run" / "nowhere" / "machine-id").read_text() == ""
    assert os.path.islink(str(root / "etc" / "machine-id"))
    # the collection's own path: a missing directory on its way is still "no such file"
    with pytest.raises(Missing):
        Target(str(root)).write_atomic("/nowhere/own", "x", owned=True)


@pytest.mark.parametrize("before, now, expected", [
    ("read\n", "written by another program\n", "read\n"),
    (None, "created by another program\n", None),
    ("read\n", None, "read\n"),
], ids=["rewritten", "created", "removed"])
def test_a_file_changed_since_it_was_read_is_not_overwritten(tree, before, now, expected):
    """Another program's write between the read a change was planned from
    and the replace (a package script, an editor, a second tool on the
    same tree): the replace used to overwrite it unseen; it is left as it
    is and the error names the file."""
    root, dummy = tree
    path = root / "etc" / "conf"
    if now is not None:
        path.write_text(now)
    with pytest.raises(TargetError, match=r"etc/conf: changed since it was read .*: not replaced"):
        Target(str(root)).write_atomic("/etc/conf", "planned\n", expected=expected)
    if now is None:
        assert os.listdir(str(root / "etc")) == []
    else:
        assert path.read_text() == now and os.listdir(str(root / "etc")) == ["conf"], "no temporary is left"


@pytest.mark.parametrize("data, expected", [
    (b"caf\xe9\n", "caf\xe9\n"), (b"caf\xc3\xa9\n", "caf\xe9\n"), (b"\x00\xff", b"\x00\xff")])
def test_a_file_unchanged_since_it_was_read_is_replaced(tree, data, expected):
    root, dummy = tree
    (root / "etc" / "conf").write_bytes(data)
    Target(str(root)).write_atomic("/etc/conf", "planned\n", expected=expected)
    assert (root / "etc" / "conf").read_text() == "planned\n"
    Target(str(root)).write_atomic("/etc/new", "planned\n", expected=None)
    assert (root / "etc" / "new").read_text() == "planned\n"
    # one file planned under two names, the same change from the same text: the second write finds it made
    (root / "etc" / "alias").symlink_to("conf")
    Target(str(root)).write_atomic("/etc/alias", "planned\n", expected=expected)
    assert (root / "etc" / "conf").read_text() == "planned\n" and os.path.islink(str(root / "etc" / "alias"))


def test_text_holding_bytes_that_are_not_utf8_is_written_as_those_bytes(tree):
    """A text read from a file that is not UTF-8 (a NotUtf8, Latin-1) and a text naming something
    by os.fsdecode()'s surrogates (an interface, a file that is not UTF-8) are written as the
    bytes they stand for, into a new file too, and the next write finds them as written: the
    surrogates were a UnicodeEncodeError, a NotUtf8 text in a new file became UTF-8."""
    root, dummy = tree
    target = Target(str(root))
    target.write_atomic("/etc/latin1", NotUtf8("caf\xe9\n"), expected=None)
    assert (root / "etc" / "latin1").read_bytes() == b"caf\xe9\n"
    assert target.read_text("/etc/latin1") == "caf\xe9\n" and isinstance(target.read_text("/etc/latin1"), NotUtf8)
    target.write_atomic("/etc/names", "wl\udce9 caf\xe9\n", expected=None)
    assert (root / "etc" / "names").read_bytes() == b"wl\xe9 caf\xc3\xa9\n"
    target.write_atomic("/etc/names", "planned\n", expected="wl\udce9 caf\xe9\n")
    target.write_atomic("/etc/latin1", "planned\n", expected=NotUtf8("caf\xe9\n"))
    assert (root / "etc" / "names").read_text() == (root / "etc" / "latin1").read_text() == "planned\n"


def test_write_refuses_special_files_and_leaves_no_temporary(tree):
    root, dummy = tree
    os.mkfifo(str(root / "etc" / "fifo"))
    with pytest.raises(NotRegular, match="not replaced"):
        Target(str(root)).write_atomic("/etc/fifo", "x", owned=True)
    assert sorted(os.listdir(str(root / "etc"))) == ["fifo"]


def test_makedirs_through_links_stays_inside(tree):
    root, outside = tree
    (root / "etc" / "sysctl.d").symlink_to(str(outside))
    target = Target(str(root))
    target.makedirs("/etc/sysctl.d")
    target.write_atomic("/etc/sysctl.d/x.conf", "x\n", owned=True)
    assert (root / str(outside).lstrip("/") / "x.conf").read_text() == "x\n"
    assert sorted(os.listdir(str(outside))) == ["victim"]


@pytest.mark.parametrize("umask", [0o027, 0o077])
def test_new_directories_get_their_mode_whatever_the_umask(tree, umask):
    # a hardened build host's umask made /etc/systemd/timesyncd.conf.d 0750 or 0700: the
    # daemon reading it as its own user (systemd-timesync) never saw the drop-in
    root, dummy = tree
    old = os.umask(umask)
    try:
        Target(str(root)).makedirs("/etc/systemd/timesyncd.conf.d")
        Target(str(root)).makedirs("/etc/ssh")
    finally:
        os.umask(old)
    for path in ("etc/systemd", "etc/systemd/timesyncd.conf.d", "etc/ssh"):
        assert stat.S_IMODE(os.lstat(str(root / path)).st_mode) == 0o755, path


def test_a_replaced_file_keeps_its_extended_attributes(tree):
    # a Red Hat image tree written from a host without SELinux: the new file had no label
    root, dummy = tree
    path = root / "etc" / "chrony.conf"
    path.write_text("pool 2.rhel.pool.ntp.org iburst\n")
    os.chmod(str(path), 0o640)
    attributes = {"user.origin": b"kickstart"}
    if os.geteuid() == 0:
        attributes["security.selinux"] = b"system_u:object_r:etc_t:s0\0"
    try:
        for key, value in attributes.items():
            os.setxattr(str(path), key, value)
    except OSError:
        pytest.skip("this filesystem keeps no extended attributes")
    Target(str(root)).write_atomic("/etc/chrony.conf", "server metadata.google.internal iburst\n")
    assert path.read_text() == "server metadata.google.internal iburst\n"
    assert dict((key, os.getxattr(str(path), key)) for key in os.listxattr(str(path))) == attributes
    assert stat.S_IMODE(os.lstat(str(path)).st_mode) == 0o640


@pytest.mark.parametrize("data", [b"# r\xe9gl\xe9\nkernel.kptr_restrict = 0\n", "# r\xe9gl\xe9\n".encode("utf-8")])
def test_a_rewritten_file_keeps_its_encoding(tree, data):
    # read_text decodes a file that is not UTF-8 as Latin-1: written back as UTF-8, every byte
    # above 0x7f of the lines left alone changed
    root, dummy = tree
    (root / "etc" / "sysctl.conf").write_bytes(data)
    target = Target(str(root))
    text = target.read_text("/etc/sysctl.conf")
    target.write_atomic("/etc/sysctl.conf", text + "# added\n")
    assert (root / "etc" / "sysctl.conf").read_bytes() == data + b"# added\n"
    target.write_atomic("/etc/new.conf", "# r\xe9gl\xe9\n")
    assert (root / "etc" / "new.conf").read_bytes() == "# r\xe9gl\xe9\n".encode("utf-8"), "a new file is UTF-8"


def test_masking(tree):
    root, dummy = tree
    (root / "etc" / "masked").symlink_to("/dev/null")
    (root / "etc" / "plain").write_text("")
    target = Target(str(root))
    assert target.is_masked("/etc/masked")
    assert not target.is_masked("/etc/plain")
    assert not target.is_masked("/etc/absent")


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod needs root")
def test_a_null_device_node_masks(tree):
    """The null device itself masks a name too, reached directly or through a linked
    directory (systemd: stat-util.c null_or_empty/stat_may_be_dev_null, a character
    device node), not only a link whose text is /dev/null."""
    root, dummy = tree
    (root / "devices").mkdir()
    os.mknod(str(root / "devices" / "null"), stat.S_IFCHR | 0o666, os.makedev(1, 3))
    (root / "etc" / "linked").symlink_to("/devices")
    target = Target(str(root))
    assert target.is_masked("/devices/null")
    assert target.is_masked("/etc/linked/null")


def test_relative_mask_link_in_an_image_tree(tree):
    """``ln -sr`` makes etc/sysctl.d/50-x.conf -> ../../dev/null; the image has
    no /dev/null of its own, the booted system resolves it to the null device."""
    root, dummy = tree
    (root / "etc" / "sysctl.d").mkdir()
    (root / "etc" / "sysctl.d" / "50-x.conf").symlink_to("../../dev/null")
    (root / "etc" / "sysctl.d" / "60-y.conf").symlink_to("../../../../../dev/null")  # ".." stops at the root
    (root / "etc" / "sysctl.d" / "70-z.conf").symlink_to("50-x.conf")  # a chain
    (root / "etc" / "sysctl.d" / "80-w.conf").symlink_to("../dev/null")  # /etc/dev/null: no mask
    target = Target(str(root))
    assert not os.path.exists(str(root / "dev" / "null"))
    assert target.is_masked("/etc/sysctl.d/50-x.conf")
    assert target.is_masked("/etc/sysctl.d/60-y.conf")
    assert target.is_masked("/etc/sysctl.d/70-z.conf")
    assert not target.is_masked("/etc/sysctl.d/80-w.conf")


def test_stale_temporaries_only_of_dead_processes(tree):
    root, dummy = tree
    etc = root / "etc"
    dead = etc / ("%sown.%d.0123abcd" % (TEMP_PREFIX, 2 ** 22 + 12345))  # above pid_max: not running
    users = etc / ("%sown.xyz" % TEMP_PREFIX)  # not the writer's format: someone's file, kept
    alive = etc / ("%sown.1.0123abcd" % TEMP_PREFIX)  # pid 1 is always running
    for path in (dead, users, alive):
        path.write_text("partial")
    removed = Target(str(root)).remove_stale_temporaries("/etc/own")
    assert removed == [str(dead)]
    assert alive.exists() and users.exists()


def test_stale_temporaries_of_many_files_list_each_directory_once(tree, monkeypatch):
    """An apply that writes 3000 udev rules files listed their directory once per file (quadratic:
    20 s); each directory is now listed once, and each file still gets only its own temporaries."""
    root, dummy = tree
    rules = root / "etc" / "rules.d"
    rules.mkdir()
    for n in range(300):
        (rules / ("%d.rules" % n)).write_text("x")
    dead = [rules / ("%s%d.rules.%d.0123abcd" % (TEMP_PREFIX, n, 2 ** 22 + n)) for n in (7, 250)]
    other = root / "etc" / ("%sown.%d.0123abcd" % (TEMP_PREFIX, 2 ** 22 + 1))
    unasked = rules / ("%sx.rules.%d.0123abcd" % (TEMP_PREFIX, 2 ** 22 + 2))
    for path in dead + [other, unasked]:
        path.write_text("partial")
    target = Target(str(root))
    listed = []
    real = Target.listdir
    monkeypatch.setattr(Target, "listdir", lambda self, path: listed.append(path) or real(self, path))
    found = target.stale_temporaries(*(["/etc/rules.d/%d.rules" % n for n in range(300)] + ["/etc/own"]))
    assert sorted(found) == sorted("/" + str(p.relative_to(root)) for p in dead + [other]), found
    assert sorted(listed) == ["/etc", "/etc/rules.d"], listed
    assert unasked.exists()


def test_lock_serialises_and_names_the_holder(tree):
    root, dummy = tree
    target = Target(str(root))
    events, waits = [], []
    with target.lock(timeout=5):
        fd = os.open(str(root), os.O_RDONLY)
        try:
            assert lock_holder(fd) is None, "our own lock is not another run's"
        finally:
            os.close(fd)

        def other():
            with Target(str(root)).lock(timeout=10, on_wait=waits.append):
                events.append("other")
        thread = threading.Thread(target=other)
        thread.start()
        time.sleep(0.5)
        events.append("first")
    thread.join(10)
    assert events == ["first", "other"]
    assert waits and "waiting for another guestready.gce run" in waits[0]


def test_lock_timeout_is_a_clear_error(tree):
    root, dummy = tree
    with Target(str(root)).lock():
        errors = []

        def other():
            try:
                with Target(str(root)).lock(timeout=0.3):
                    pass
            except TargetError as exc:
                errors.append(str(exc))
        thread = threading.Thread(target=other)
        thread.start()
        thread.join(10)
    assert errors and "has held the lock for more than 0 s" in errors[0]


def test_bad_root_is_a_clear_error(tmp_path):
    with pytest.raises(TargetError, match="cannot open the target root"):
        Target(str(tmp_path / "nope")).read_text("/etc/x")


@pytest.mark.parametrize("live", [False, True])
def test_a_path_with_a_nul_byte_is_a_clear_error(tree, live):
    """A NUL byte in a path (an option's value) reached os.stat: ValueError
    'embedded null byte', a traceback instead of an error naming the path."""
    root, dummy = tree
    target = Target("/" if live else str(root))
    for call in (target.lstat, target.read_text, target.listdir, target.host_path):
        with pytest.raises(TargetError, match=r"etc/x\\x00y': not a path: it holds a NUL byte"):
            call("/etc/x\0y")
    assert not target.exists("/etc/x\0y") and not target.isfile("/etc/x\0y")
    with pytest.raises(TargetError, match="holds a NUL byte"):
        Target(str(root)).write_atomic("/etc/x\0y", "data\n")
    assert os.listdir(str(root / "etc")) == []


def test_symlinks_reads_a_directorys_links_inside_the_root(tree):
    """``symlinks``: the links of a directory the root's own resolution reaches (a link to the
    directory leading outside the root does not read the outside one), with their texts; no files,
    no directories; Missing for a directory that is not there, TargetError for a file."""
    root, outside = tree
    units = root / "etc" / "units"
    units.mkdir()
    (units / "plain.service").write_text("[Unit]\n")
    (units / "sub.wants").mkdir()
    (units / "alias.service").symlink_to("plain.service")
    (units / "masked.service").symlink_to("/dev/null")
    (units / "dangling.service").symlink_to("../../nowhere/x.service")
    (outside / "evil.service").symlink_to("/etc/shadow")
    (root / "etc" / "escape").symlink_to(str(outside))
    target = Target(str(root))
    assert target.symlinks("/etc/units") == {"alias.service": "plain.service", "masked.service": "/dev/null",
                                             "dangling.service": "../../nowhere/x.service"}
    with pytest.raises(Missing):
        target.symlinks("/etc/escape")
    with pytest.raises(Missing):
        target.symlinks("/etc/none")
    with pytest.raises(TargetError):
        target.symlinks("/etc/units/plain.service")
