"""Modaliases and the kernel's alias tables: the offline half of HW-*.

The tables are Debian bookworm's (tests/fixtures/modules/README.md); glibc's
own fnmatch(3) is the oracle for the wildcard rules when it can be loaded."""

import ctypes
import ctypes.util
import os
import struct

import pytest

from ansible_collections.guestready.gce.plugins.module_utils import globs, modalias
import trees
import fakesys

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures")
CLOUD, GENERIC = "6.1.0-50-cloud-amd64", "6.1.0-50-amd64"


def _libc_fnmatch():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        function = libc.fnmatch
    except (OSError, AttributeError, TypeError):
        return None
    function.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int]
    return lambda pattern, text: function(pattern.encode(), text.encode(), 0) == 0


LIBC_FNMATCH = _libc_fnmatch()


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    return modalias.KernelModules(trees.install(tmp_path_factory.mktemp("cloud"), CLOUD))


@pytest.fixture(scope="module")
def generic(tmp_path_factory):
    return modalias.KernelModules(trees.install(tmp_path_factory.mktemp("generic"), GENERIC))


def test_pci_modalias_as_the_kernel_writes_it():
    assert modalias.pci_modalias("0x1af4", "0x1000", "0x1af4", "0x0001", "0x020000") == \
        "pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00"
    assert modalias.pci_modalias(0x8086, 0x7113, 0x1AF4, 0x1100, 0x068000) == \
        "pci:v00008086d00007113sv00001AF4sd00001100bc06sc80i00"


def test_unknown_fields_cannot_match_a_specific_value():
    alias = modalias.pci_modalias("0x1af4", "0x1000", None, "0x0001", "0x020000")
    assert alias == "pci:v00001AF4d00001000svXXXXXXXXsd00000001bc02sc00i00"
    assert modalias.fnmatch("pci:v00001AF4d*sv*sd*bc*sc*i*", alias)
    assert not modalias.fnmatch("pci:v00001AF4d00001000sv00001AF4sd*bc*sc*i*", alias)
    assert modalias.pci_modalias("0x8086", "0x7110") == \
        "pci:v00008086d00007110svXXXXXXXXsdXXXXXXXXbcXXscXXiXX"


def test_virtio_modalias():
    assert modalias.virtio_modalias(1) == "virtio:d00000001vXXXXXXXX"
    assert modalias.virtio_modalias(8, "0x1af4") == "virtio:d00000008v00001AF4"


FNMATCH_CASES = [
    ("pci:v00001AF4d*sv*sd*bc*sc*i*", "pci:v00001AF4d00001000svXXXXXXXXsd00000001bc02sc00i00", True),
    ("pci:v00008086d00007111sv000015ADsd00001976bc*sc*i*",
     "pci:v00008086d00007111svXXXXXXXXsdXXXXXXXXbc01sc01i80", False),
    ("usb:v13FDp3940d0[0-2]*dc*", "usb:v13FDp3940d0150dc00", True),
    ("usb:v13FDp3940d0[0-2]*dc*", "usb:v13FDp3940d0350dc00", False),
    ("mdio:0000????", "mdio:00001010", True),
    ("mdio:0000????", "mdio:000010", False),
    ("sv????????", "svXXXXXXXX", True),
    ("sv0000????", "svXXXXXXXX", False),
    ("a[!0-2]b", "a3b", True),
    ("a[!0-2]b", "a1b", False),
    ("a[^0-2]b", "a1b", False),
    ("a[]]b", "a]b", True),
    ("a[!]]b", "a]b", False),
    ("a\\*b", "a*b", True),
    ("a\\*b", "axb", False),
    ("a[b", "a[b", True),
    ("a[b", "ab", False),
    ("a*", "a/b", True),
    ("*", "", True),
    ("x?", "x", False),
    ("acpi*:LNRO0005:*", "acpi:LNRO0005:", True),
    ("of:N*T*Cvirtio,mmioC*", "of:NvirtioTCvirtio,mmioC", True),
    ("a.b", "axb", False),
    # a reversed range holds nothing; the set's other members still count
    ("a[z-a]b", "amb", False),
    ("a[z-a]b", "azb", False),
    ("a[!z-a]b", "amb", True),
    ("a[a-]b", "a-b", True),
    ("a[]-]b", "a-b", True),
    ("a[!]-b]c", "aac", False),
    ("[\\]-a]", "^", True),
    # an escaped star is the character, not a wildcard
    ("a*\\*", "a*", True),
    ("a*\\*", "xa*", False),
    ("a*\\*", "ab", False),
    ("**a**", "xay", True),
    ("*a*b*c", "aXbYc", True),
    ("*a*b*c", "aXbYcd", False),
    # POSIX character classes inside a set, as glibc (and so kmod) reads them
    ("pci:v[[:xdigit:]]*", "pci:v0", True),
    ("pci:v[[:xdigit:]]*", "pci:vX", False),
    ("a[[:upper:]]", "aB", True),
    ("a[[:upper:]]", "ab", False),
    ("[[:digit:]]]", "5]", True),
    ("[![:digit:]]", "5", False),
    ("[![:digit:]]", "d", True),
    ("[x[:digit:]-]", "-", True),
    ("[[:alpha:][:digit:]]", "7", True),
    ("[[:bogus:]]", "b", False),
    # the end of a range may be escaped: "\\]" ends the range; a set left open is no set, its
    # "[" a character (not the range "*" to "\\", which holds the digits and capitals)
    ("pci:v0000[*-\\]AF4", "pci:v00001AF4", False),
    ("[*-\\]", "[*-]", True),
    ("pci:v0000[*-\\]]AF4", "pci:v00001AF4", True),
    ("a[0-\\9]", "a5", True),
    # a trailing backslash loses (fnmatch_loop.c), even after a star
    ("a\\", "a\\", False),
    ("*\\", "\\", False),
    # a class name of other than a-z is no class: its characters are the set's members
    ("[[:b!:]", "!", True),
    ("[[:b!:]", "b", True),
]


@pytest.mark.parametrize("pattern,text,expected", FNMATCH_CASES)
def test_fnmatch_follows_glibc(pattern, text, expected):
    assert modalias.fnmatch(pattern, text) is expected
    if LIBC_FNMATCH is not None:
        assert LIBC_FNMATCH(pattern, text) is expected


def _captured_modaliases():
    """The modaliases of every PCI function and virtio device in the captures."""
    found = set()
    for name in ("gce-user", "noncompliant-user", "buildhost"):
        manifest = fakesys.Manifest.load(name)
        for vendor_path in manifest.find("/vendor"):
            device_dir = vendor_path[:-len("/vendor")]
            attributes = dict((a, manifest.files.get(device_dir + "/" + a))
                              for a in ("vendor", "device", "subsystem_vendor", "subsystem_device", "class"))
            if attributes["class"]:
                found.add(modalias.pci_modalias(**dict(
                    (("pci_class" if k == "class" else k), v) for k, v in attributes.items())))
            elif attributes["device"]:
                found.add(modalias.virtio_modalias(attributes["device"], attributes["vendor"]))
    return sorted(found)


@pytest.mark.skipif(LIBC_FNMATCH is None, reason="no C library fnmatch to compare with")
@pytest.mark.parametrize("alias", _captured_modaliases())
def test_whole_generic_table_agrees_with_glibc(generic, alias):
    ours = set((m["pattern"], m["module"]) for m in generic.lookup(alias))
    theirs = set((a["pattern"], a["module"]) for a in generic.aliases + generic.builtin_aliases
                 if LIBC_FNMATCH(a["pattern"], alias))
    assert ours == theirs


def test_many_stars_are_matched_without_backtracking(tmp_path):
    # a hostile table line: a regular expression's backtracking took seconds per line
    # (minutes for a table of them); the matcher retries from the last star only
    evil = ["alias pci:v" + "*0" * 24 + "*Z%d evil%d" % (n, n) for n in range(50)]
    path = trees.install(tmp_path, CLOUD, edits={"modules.alias": lambda text: "\n".join(evil) + "\n" + text})
    tree = modalias.KernelModules(path)
    device = modalias.pci_modalias(0x1AF4, 0x1004, 0x1AF4, 8, 0x010000)
    assert [m["module"] for m in tree.lookup(device)] == ["virtio_pci"]
    assert [m["module"] for m in tree.lookup(device + "Z7")] == ["evil7", "virtio_pci"]
    assert modalias.fnmatch("*0" * 24 + "*", "0" * 24) and not modalias.fnmatch("*0" * 25 + "*", "0" * 24)


@pytest.mark.parametrize("unit", ["[", "[:", "[!", "[\\", "[a-", "[[:a", "[-", "[[:"])
def test_thousands_of_unclosed_brackets_are_read_in_one_pass(unit):
    """Each '[' looked for its ']' to the end of the pattern: a udev rule's
    glob of 30,000 '[' (a hostile image's 70-persistent-net.rules) took
    minutes.  Scans now share what they learnt; an unclosed '[' is still
    the character '[', as glibc has it."""
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "modules"))
    from hostile import alarm
    pattern = unit * (60000 // len(unit)) + "z"
    with alarm(30):
        tokens = globs.glob_tokens(pattern)
        literal = "".join(token for token in tokens if isinstance(token, str))
        assert len(literal) == len(tokens), "every '[' is unclosed: each is the character"
        assert modalias.fnmatch(pattern + "*", literal + "x") and not modalias.fnmatch(pattern + "]", literal + "x")
    if LIBC_FNMATCH is not None:   # the same answers as the C library's on a short one
        small = unit * 5 + "z"
        literal = "".join(globs.glob_tokens(small))
        for text in (literal, literal + "x", literal[1:], small):
            assert LIBC_FNMATCH(small + "*", text) is modalias.fnmatch(small + "*", text), text


def test_a_backslash_before_the_first_wildcard_is_matched_as_written(tmp_path):
    # kmod's index search descends the trie byte for byte until "*", "?" or "[" (libkmod-index.c,
    # index_mm_searchwild_node) and fnmatches only the rest: "d\\0" there never matches "d0"
    lines = ("alias pci:v00001AF4d\\00001000* escaped_literal\n"
             "alias pci:v00001AF4d00001000sv*\\s* escaped_in_the_rest\n")
    path = trees.install(tmp_path, CLOUD, edits={"modules.alias": lambda text: lines + text})
    tree = modalias.KernelModules(path)
    device = modalias.pci_modalias(0x1AF4, 0x1000, 0x1AF4, 1, 0x020000)
    assert [m["module"] for m in tree.lookup(device)] == ["escaped_in_the_rest", "virtio_pci"]


def _every_match_in_table_order(tree, alias):
    """What lookup must answer, the slow way: every line of the tables in their
    order (built-in aliases, then modules.alias), built-in drivers first."""
    found = [dict(a, builtin=builtin or tree.is_builtin(a["module"]))
             for table, builtin in ((tree.builtin_aliases, True), (tree.aliases, False))
             for a in table if modalias.fnmatch(a["pattern"], alias)]
    return sorted(found, key=lambda m: not m["builtin"])


# patterns whose literal part is short or has no bus, next to ones with a long literal part
INDEX_EDGES = """alias * catch_all
alias p*:v00001AF4* bus_glob
alias pci:* any_pci
alias pci:v00001AF4d* vendor_only
alias pci:v0000[01]AF4d00001000sv*sd*bc*sc*i* bracketed_vendor
alias pci:v00001AF4d00001000sv*sd*bc*sc*i* virtio_pci_copy
alias pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00 exact
alias pci:v00001AF?d00001000* question_in_vendor
alias pci:v00001AF4 vendor_prefix_only
alias virtio:d00000001v* virtio_net_copy
alias virtio:* any_virtio
alias v* starts_with_v
"""


@pytest.mark.parametrize("alias", _captured_modaliases() + [
    "pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00", "pci:v00001AF4", "pci:", "pci",
    "virtio:d00000001v00001AF4", "virtio:d0000000", "char-major-4-64", "", "v"])
def test_lookup_answers_every_matching_line_in_table_order(tmp_path, generic, alias):
    """The index (by bus, then the characters after it) finds every pattern the
    whole table would, in the tables' order."""
    assert generic.lookup(alias) == _every_match_in_table_order(generic, alias)
    path = trees.install(tmp_path, CLOUD, edits={"modules.alias": lambda text: INDEX_EDGES + text})
    tree = modalias.KernelModules(path)
    expected = _every_match_in_table_order(tree, alias)
    assert tree.lookup(alias) == expected
    if alias.startswith("pci:v00001AF4d00001000sv00001AF4"):
        assert [m["module"] for m in expected][:9] == [
            "catch_all", "bus_glob", "any_pci", "vendor_only", "bracketed_vendor", "virtio_pci_copy",
            "exact", "question_in_vendor", "virtio_pci"]


def test_debian_cloud_kernel_drivers(cloud):
    net = modalias.pci_modalias("0x1af4", "0x1000", None, "0x0001", "0x020000")
    assert [(m["module"], m["builtin"]) for m in cloud.lookup(net)] == [("virtio_pci", False)]
    assert [m["module"] for m in cloud.lookup(modalias.virtio_modalias(1))] == ["virtio_net"]
    assert [m["module"] for m in cloud.lookup(modalias.virtio_modalias(8))] == ["virtio_scsi"]
    gvnic = modalias.pci_modalias("0x1ae0", "0x0042", None, None, "0x020000")
    match = cloud.lookup(gvnic)[0]
    assert match["module"] == "gve" and match["text"] == "alias pci:v00001AE0d00000042sv*sd*bc*sc*i* gve"
    assert match["source"].endswith("modules.alias") and match["line"] > 0
    # the cloud kernel has neither e1000 nor the PIIX4 SMBus driver
    assert cloud.lookup(modalias.pci_modalias(0x8086, 0x100E, 0x1AF4, 0x1100, 0x020000)) == []
    assert cloud.lookup(modalias.pci_modalias(0x8086, 0x7113, None, None, 0x068000)) == []
    assert cloud.kind("virtio_pci") == "module"
    assert cloud.kind("virtio-pci") == "module"
    assert cloud.kind("8250") == "built-in"
    assert cloud.kind("e1000") is None
    assert {"net_failover", "failover", "virtio_ring", "virtio"} <= set(cloud.dependencies("virtio_net"))
    assert cloud.module_path("virtio_scsi") == "kernel/drivers/scsi/virtio_scsi.ko"


def test_debian_generic_kernel_drivers(generic):
    assert [m["module"] for m in generic.lookup(
        modalias.pci_modalias(0x8086, 0x7113, None, None, 0x068000))] == ["i2c_piix4"]
    assert [m["module"] for m in generic.lookup(
        modalias.pci_modalias(0x8086, 0x100E, 0x1AF4, 0x1100, 0x020000))] == ["e1000"]
    # a driver that wants one subsystem is credited only when the subsystem is known
    vmware_ide = modalias.pci_modalias(0x8086, 0x7111, 0x15AD, 0x1976, 0x01018A)
    unknown_ide = modalias.pci_modalias(0x8086, 0x7111, None, None, 0x01018A)
    assert len(generic.lookup(vmware_ide)) > len(generic.lookup(unknown_ide))


def test_builtin_aliases_from_modinfo(cloud):
    # 8250 is built in and declares char-major-4-* in modules.builtin.modinfo
    matches = cloud.lookup("char-major-4-64")
    assert [(m["module"], m["builtin"]) for m in matches] == [("8250", True)]
    assert matches[0]["source"].endswith("modules.builtin.modinfo")


def test_builtin_alias_text_file_is_read(tmp_path):
    path = trees.install(tmp_path, CLOUD, edits={
        "modules.builtin": lambda text: text + "kernel/drivers/virtio/virtio_pci.ko\n",
        "modules.alias": trees.without_lines(" virtio_pci")})
    with open(os.path.join(path, "modules.builtin.alias"), "w") as handle:
        handle.write("alias pci:v00001AF4d*sv*sd*bc*sc*i* virtio_pci\n")
    tree = modalias.KernelModules(path)
    match = tree.lookup(modalias.pci_modalias("0x1af4", "0x1004", None, "0x0008", "0x010000"))
    assert [(m["module"], m["builtin"], os.path.basename(m["source"])) for m in match] == [
        ("virtio_pci", True, "modules.builtin.alias")]
    assert tree.kind("virtio_pci") == "built-in"


def test_problems_are_named(tmp_path):
    missing = modalias.KernelModules(str(tmp_path / "lib" / "modules" / "9.9.9"))
    assert not missing.exists and "no kernel modules directory" in missing.problem()
    path = trees.install(tmp_path, CLOUD, skip=("modules.alias",))
    tree = modalias.KernelModules(path)
    assert "has no modules.alias (depmod has not run for %s)" % CLOUD in tree.problem()
    assert not tree.usable


def test_unreadable_file_is_an_error(tmp_path):
    path = tmp_path / "lib" / "modules" / CLOUD
    (path / "modules.alias").mkdir(parents=True)
    with pytest.raises(modalias.ModulesError, match="modules.alias: is a directory, not a regular file"):
        modalias.KernelModules(str(path))


def test_releases_and_directories(tmp_path):
    trees.install(tmp_path, CLOUD)
    usr = tmp_path / "usr" / "lib" / "modules" / "6.12.0-1-arm64"
    usr.mkdir(parents=True)
    (tmp_path / "lib" / "modules" / "5.10.0-30-amd64").mkdir()
    assert modalias.installed_releases(str(tmp_path)) == [
        "6.12.0-1-arm64", CLOUD, "5.10.0-30-amd64"]
    assert modalias.modules_dir("6.12.0-1-arm64", str(tmp_path)) == "/usr/lib/modules/6.12.0-1-arm64"
    assert usr.is_dir()
    assert modalias.installed_releases(str(tmp_path / "nothing")) == []


@pytest.mark.parametrize("names,newest_first", [
    # the same version, two flavours: a word against a word, never a number against a word
    (["5.10.0-28-amd64", "5.10.0-28-cloud-amd64"], ["5.10.0-28-cloud-amd64", "5.10.0-28-amd64"]),
    (["6.1.0", "6.1.0-28", "6.1.0-rc1"], ["6.1.0-28", "6.1.0-rc1", "6.1.0"]),
    (["6.1.0-\u00b2", "6.1.0-2", "10.0.0", "9.9.9"], ["10.0.0", "9.9.9", "6.1.0-2", "6.1.0-\u00b2"]),
    (["1" * 40, "6.1.0"], ["6.1.0", "1" * 40]),
])
def test_installed_releases_sort_any_names(tmp_path, names, newest_first):
    for name in names:
        (tmp_path / "lib" / "modules" / name).mkdir(parents=True)
    assert modalias.installed_releases(str(tmp_path)) == newest_first


@pytest.mark.parametrize("name,normal", [
    ("virtio-pci", "virtio_pci"), ("kernel/drivers/net/virtio_net.ko", "virtio_net"),
    ("kernel/drivers/scsi/virtio_scsi.ko.xz", "virtio_scsi"), ("gve.ko.zst", "gve"), (None, None),
    (" kernel/fs/ext4/ext4.ko.gz\n", "ext4"), ("kernel/a.ko.ko", "a.ko"), ("kernel/x.kobj.ko", "x.kobj"),
    ("kernel/x.ko.bz2", "x.ko.bz2"), ("8250_pci", "8250_pci"), ("kernel/dir.ko/mod-x.ko", "mod_x")])
def test_module_names_normalised(name, normal):
    assert modalias.normalize_module(name) == normal


@pytest.mark.parametrize("name, content, said", [
    ("modules.alias", "alias pci:v00001AF4d* virtio_pci\nthis is not a table\n", "line 2 is not an 'alias PATTERN"),
    ("modules.alias", "\0\0\0\0", "holds NUL bytes"),
    ("modules.dep", "kernel/drivers/virtio/virtio_pci.ko\n", "line 1 is not a 'MODULE: DEPENDENCIES' line"),
    ("modules.builtin", "kernel/fs/ext4/ext4.ko\n<html>\n", "line 2 is not a module path"),
])
def test_a_damaged_table_is_a_problem_not_a_kernel_without_drivers(tmp_path, name, content, said):
    # garbage where depmod's table should be tells nothing about the drivers:
    # the checks must be unknown, never "no driver" (fail)
    path = trees.install(tmp_path, CLOUD)
    with open(os.path.join(path, name), "w") as handle:
        handle.write(content)
    tree = modalias.KernelModules(path)
    assert not tree.usable
    assert tree.problem().startswith(os.path.join(path, name) + " is damaged (")
    assert said in tree.problem()


def test_real_tables_are_not_damaged(cloud, generic):
    assert cloud.damaged == [] and generic.damaged == [] and cloud.problem() is None


def kmod_index(pairs):
    """A kmod index of ``(key, value)`` pairs in libkmod-index.c's format, as
    depmod writes modules.*.bin: a trie (one-child chains folded into a node's
    prefix), children before their parent, big-endian words."""
    root = {}
    for key, value in pairs:
        node = root
        for char in key.encode():
            node = node.setdefault(char, {})
        node.setdefault(None, []).append(value.encode())
    out = bytearray(12)

    def write(node):
        prefix = b""
        while len(node) == 1 and None not in node:
            (char, node), = node.items()
            prefix += bytes([char])
        chars = sorted(char for char in node if char is not None)
        children = dict((char, write(node[char])) for char in chars)
        offset = len(out)
        if prefix:
            out.extend(prefix + b"\0")
            offset |= 0x80000000
        if chars:
            out.extend(bytes([chars[0], chars[-1]]))
            out.extend(b"".join(struct.pack(">I", children.get(char, 0)) for char in range(chars[0], chars[-1] + 1)))
            offset |= 0x20000000
        if None in node:
            out.extend(struct.pack(">I", len(node[None])))
            out.extend(b"".join(struct.pack(">I", 0) + value + b"\0" for value in node[None]))
            offset |= 0x40000000
        return offset

    out[0:12] = struct.pack(">III", 0xB007F457, 0x00020001, write(root))
    return bytes(out)


def test_a_tree_with_only_the_binary_indexes_is_read_from_them(tmp_path):
    """kmod's modprobe reads modules.alias.bin and modules.dep.bin; a tree
    stripped of the text tables still has its drivers (was: unknown, "depmod
    has not run")."""
    text = modalias.KernelModules(trees.install(tmp_path / "text", CLOUD))
    path = trees.install(tmp_path / "bin", CLOUD, skip=("modules.alias", "modules.dep", "modules.builtin"))
    aliases = [line.split()[1:3] for line in trees.read(CLOUD, "modules.alias").splitlines()
               if line.startswith("alias ") and ("virtio" in line or " gve" in line)]
    dep = [(modalias.normalize_module(line.split(":")[0]), line)
           for line in trees.read(CLOUD, "modules.dep").splitlines()]
    builtin = [(modalias.normalize_module(line), "") for line in trees.read(CLOUD, "modules.builtin").splitlines()]
    for name, pairs in (("modules.alias.bin", aliases), ("modules.dep.bin", dep), ("modules.builtin.bin", builtin)):
        with open(os.path.join(path, name), "wb") as handle:
            handle.write(kmod_index(pairs))
    tree = modalias.KernelModules(path)
    assert tree.problem() is None and tree.usable
    for alias in (modalias.pci_modalias("0x1af4", "0x1000", None, "0x0001", "0x020000"), modalias.virtio_modalias(1),
                  modalias.virtio_modalias(8), modalias.pci_modalias("0x1ae0", "0x0042", None, None, "0x020000")):
        found = [(m["module"], m["pattern"]) for m in tree.lookup(alias)]
        assert found and found == [(m["module"], m["pattern"]) for m in text.lookup(alias)]
    assert tree.lookup(modalias.virtio_modalias(1))[0]["source"] == os.path.join(path, "modules.alias.bin")
    assert tree.dependencies("virtio_net") == text.dependencies("virtio_net")
    assert tree.kind("virtio_scsi") == "module" and tree.kind("8250") == "built-in"
    # both text and index missing: depmod has not run
    os.remove(os.path.join(path, "modules.alias.bin"))
    assert "has no modules.alias (depmod has not run for %s)" % CLOUD in modalias.KernelModules(path).problem()


@pytest.mark.parametrize("data, said", [
    (b"\x00" * 16, "not a kmod index"),
    (struct.pack(">III", 0xB007F457, 0x00030000, 12), "version 0x30000"),
    # a node whose child is itself: a loop, not an endless key
    (struct.pack(">III", 0xB007F457, 0x00020001, 12 | 0x20000000) + b"aa" + struct.pack(">I", 12 | 0x20000000),
     "seen before"),
    (struct.pack(">III", 0xB007F457, 0x00020001, 12 | 0x80000000) + b"pci:v", "not terminated"),
    # children past ASCII: kmod's index_mm_read_node refuses the node (INDEX_CHILDMAX)
    (kmod_index([("pci:v00001AF4d00001000*", "virtio_pci"), ("pci:\xe9", "x")]), "bad child range")])
def test_a_damaged_binary_index_is_a_problem(tmp_path, data, said):
    path = trees.install(tmp_path, CLOUD, skip=("modules.alias",))
    with open(os.path.join(path, "modules.alias.bin"), "wb") as handle:
        handle.write(data)
    tree = modalias.KernelModules(path)
    assert "modules.alias.bin is damaged (" in tree.problem() and said in tree.problem(), tree.problem()
    assert not tree.usable
