"""Property tests of the kernel configuration reader and evaluation, on
generated input: random bytes, compressed random data, corrupted and
truncated compressed configurations, mutated real configurations, huge
lines, NULs and bad encodings.  Every outcome is a parsed configuration with
well-formed results, or a KconfigError naming the input -- never another
exception.  Profiles (example counts: GUESTREADY_FUZZ, GUESTREADY_FUZZ_EXAMPLES) are
in tests/unit/conftest.py."""

import bz2
import gzip
import lzma
import os
import random

import pytest

hypothesis = pytest.importorskip("hypothesis", reason="Hypothesis is not installed (requirements-dev.txt)")
from hypothesis import example, given, settings, strategies as st  # noqa: E402

from ansible_collections.guestready.gce.plugins.module_utils import catalogue as cat  # noqa: E402
from ansible_collections.guestready.gce.plugins.module_utils import kconfig_eval, kconfig_parser  # noqa: E402
from ansible_collections.guestready.gce.plugins.module_utils.kconfig_parser import KconfigError  # noqa: E402
from ansible_collections.guestready.gce.plugins.module_utils.results import STATUSES  # noqa: E402
from ansible_collections.guestready.gce.plugins.module_utils.target import Target  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "..", "..", "fixtures", "kconfig")
ENTRIES = cat.requirements(("kernel-required", "kernel-security"))
SOURCE = "fuzz.config"
# the properties on whole (mutated, compressed) configurations take a quarter
# of the profile's examples
HEAVY = settings(max_examples=max(25, settings.default.max_examples // 4))


def real_lines(name, limit=400):
    """The first ``limit`` lines of a real configuration, and the lines that
    name a catalogue option (so mutations reach the evaluation)."""
    path = os.path.join(FIXTURES, name)
    opener = gzip.open if name.endswith(".gz") else open
    with opener(path, "rt") as handle:
        lines = handle.read().splitlines()
    names = set(s["name"] for e in ENTRIES for s in e["symbols"])
    relevant = [line for line in lines
                if any("CONFIG_%s=" % n in line or "CONFIG_%s " % n in line for n in names)]
    return lines[:limit] + relevant


SEEDS = [real_lines(name) for name in ("bookworm_amd64_cloud-amd64.config.gz",
                                       "distros/centos7_3.10_x86_64.config.gz",
                                       "bookworm_arm64_arm64.config.gz",
                                       "minimal/alpine-virt_6.6_x86_64.config",
                                       "synthetic/4.16_x86_64_stackprotector-auto.config")]


def judge(data, version=None):
    """decode -> parse_text -> evaluate -> render_fragment; a KconfigError is
    a clean outcome (it must name the input)."""
    try:
        text, compression = kconfig_parser.decode(data, SOURCE)
        config = kconfig_parser.parse_text(text, SOURCE, compression)
    except KconfigError as exc:
        assert str(exc).startswith(SOURCE + ": "), str(exc)
        return None
    if version is not None:
        config.set_version(version, "override")
    assert config.form in ("full", "minimal") and config.form_evidence
    results = kconfig_eval.evaluate(ENTRIES, config)
    assert [r["id"] for r in results] == [e["id"] for e in ENTRIES]
    for result in results:
        assert result["status"] in STATUSES
        assert result["message"] and "\n" not in result["message"]
        if result["status"] == "fail":
            assert result["found"] != "unknown"  # an unknown value never fails
    fragment = kconfig_eval.render_fragment(results, config)
    assert fragment.endswith("\n")
    config.describe()
    config.notes()
    return config


# -- raw and compressed bytes -------------------------------------------------

@given(st.binary(max_size=4096))
@example(b"\x1f\x8b")
@example(b"\xfd7zXZ\x00")
@example(b"BZh9")
@example(b"\x28\xb5\x2f\xfd")
@example(b"CONFIG_A=y\x00")
@example(b"CONFIG_A=\xff\xfe\n")
@example("# Linux/x86 \u00b9 Kernel Configuration\nCONFIG_X86=y\n".encode())  # found by the long run
def test_random_bytes(data):
    judge(data)


@given(st.binary(max_size=2048), st.sampled_from(["gzip", "xz", "bzip2"]))
def test_compressed_random_data(data, kind):
    judge({"gzip": gzip.compress, "xz": lzma.compress, "bzip2": bz2.compress}[kind](data))


@st.composite
def configuration(draw):
    """Lines of a real configuration, mutated."""
    lines = list(draw(st.sampled_from(SEEDS)))
    rng = random.Random(draw(st.integers(0, 2 ** 32)))
    mutations = draw(st.lists(st.sampled_from(
        ["drop", "duplicate", "conflict", "value", "junk", "nul", "huge", "latin1", "crlf", "header",
         "shuffle", "truncate"]), max_size=6))
    for mutation in mutations:
        if not lines:
            break
        at = rng.randrange(len(lines))
        if mutation == "drop":
            del lines[at]
        elif mutation == "duplicate":
            lines.insert(rng.randrange(len(lines) + 1), lines[at])
        elif mutation == "conflict" and lines[at].startswith("CONFIG_"):
            lines.append(lines[at].split("=")[0] + "=" + rng.choice(["y", "m", "n", "0", '"x"']))
        elif mutation == "value" and "=" in lines[at]:
            lines[at] = lines[at].split("=")[0] + "=" + draw(st.text(max_size=40))
        elif mutation == "junk":
            lines.insert(at, draw(st.text(max_size=80)))
        elif mutation == "nul":
            lines[at] += "\x00"
        elif mutation == "huge":
            lines.insert(at, "CONFIG_HUGE=" + "9" * rng.choice([1000, 100000]))
        elif mutation == "latin1":
            lines[at] += "\xe9\xff"
        elif mutation == "crlf":
            lines = [line + "\r" for line in lines]
        elif mutation == "header":
            lines.insert(0, "# Linux/%s %s Kernel Configuration" % (
                draw(st.sampled_from(["x86", "arm64", "x86_64", "i386", "riscv", "", "\u00e9"])),
                draw(st.text(max_size=12))))
        elif mutation == "shuffle":
            rng.shuffle(lines)
        elif mutation == "truncate":
            lines = lines[:at]
    text = "\n".join(lines) + draw(st.sampled_from(["\n", ""]))
    encoding = draw(st.sampled_from(["utf-8", "latin-1"]))
    return text.encode(encoding, "replace")


@HEAVY
@given(configuration(), st.sampled_from([None, "gzip", "xz", "bzip2"]),
       st.sampled_from([None, "3.10", "4.16", "6.1", "7.2", "2.6.18-1.el5"]))
def test_mutated_real_configurations(data, compression, version):
    if compression:
        data = {"gzip": gzip.compress, "xz": lzma.compress, "bzip2": bz2.compress}[compression](data)
    judge(data, version)


@HEAVY
@given(configuration(), st.sampled_from(["gzip", "xz", "bzip2"]), st.data())
def test_corrupted_and_truncated_compressed_configurations(data, kind, draw):
    packed = bytearray({"gzip": gzip.compress, "xz": lzma.compress, "bzip2": bz2.compress}[kind](data))
    cut = draw.draw(st.integers(1, len(packed)))
    packed = packed[:cut]
    for dummy in range(draw.draw(st.integers(0, 4))):
        if packed:
            packed[draw.draw(st.integers(0, len(packed) - 1))] = draw.draw(st.integers(0, 255))
    judge(bytes(packed))


@st.composite
def symbols(draw):
    names = st.sampled_from(sorted(set(s["name"] for e in ENTRIES for s in e["symbols"])
                                   | set(kconfig_eval.RULES)
                                   | set(["X86", "X86_64", "64BIT", "ARM64", "IA32_EMULATION",
                                          "AMD_IOMMU", "PCI", "XEN", "HYPERV", "HAVE_A", "HAVE_B"])))
    values = st.sampled_from(["y", "m", "n", "0", "4096", "65536", "0x10000", '"a \\"b\\""'])
    return draw(st.dictionaries(names, values, min_size=1, max_size=40))


@given(symbols(), st.booleans(), st.sampled_from([None, "4.9", "5.10", "6.12"]),
       st.sampled_from([None, "x86_64", "x86_32", "arm64"]))
def test_written_options_read_back_and_judge(values, header, version, arch):
    """Any set of options, as kconfig would write it, reads back exactly, and
    is judged (full with a header, else by the minimal rules) without error."""
    lines = ["# Linux/x86 6.1.0 Kernel Configuration"] if header else []
    for name, value in sorted(values.items()):
        lines.append("# CONFIG_%s is not set" % name if value == "n" else "CONFIG_%s=%s" % (name, value))
    config = kconfig_parser.parse_text("\n".join(lines) + "\n", SOURCE)
    expected = dict((name, 'a "b"' if value.startswith('"') else value) for name, value in values.items())
    assert config.values == expected
    assert config.form == ("full" if header else config.form)
    if version:
        config.set_version(version, "override")
    if arch:
        config.set_arch(arch, "override")
    for result in kconfig_eval.evaluate(ENTRIES, config):
        assert result["status"] in STATUSES
        if result["status"] == "fail":
            assert result["found"] != "unknown"


def test_read_names_the_file_for_every_bad_input(tmp_path):
    """read() (through the target layer) on a few of the hostile shapes."""
    cases = [b"", b"\x00" * 100, gzip.compress(b"x" * 10)[:-3], lzma.compress(b"\x00\x01"),
             b"CONFIG_A=y\n" + b"\x01\xff" * 10, bz2.compress(b"CONFIG_A=y\nCONFIG_A=m\n")]
    for number, data in enumerate(cases):
        path = tmp_path / ("case%d" % number)
        path.write_bytes(data)
        with pytest.raises(KconfigError) as raised:
            kconfig_parser.read(str(path), target=Target("/"))
        assert str(raised.value).startswith(str(path) + ": ")


def test_a_compressed_bomb_is_refused_without_filling_memory(monkeypatch):
    """Zeros compress to almost nothing; every format stops at MAX_SIZE (here
    lowered to 1 MiB) instead of inflating them all."""
    monkeypatch.setattr(kconfig_parser, "MAX_SIZE", 1024 * 1024)
    size = 4 * 1024 * 1024
    bombs = {
        "gzip": gzip.compress(b"\x00" * size, 1),
        "xz": lzma.compress(b"\x00" * size, preset=0),
        "bzip2": bz2.compress(b"\x00" * size, 1),
    }
    for kind, data in bombs.items():
        assert len(data) < size // 100, kind
        with pytest.raises(KconfigError, match="more than 1 MiB once decompressed"):
            kconfig_parser.decode(data, SOURCE)
        # the streams of a concatenated file count together
        half = {"gzip": gzip.compress, "xz": lzma.compress, "bzip2": bz2.compress}[kind](
            b"\x00" * (768 * 1024))
        with pytest.raises(KconfigError, match="more than 1 MiB once decompressed"):
            kconfig_parser.decode(half + half, SOURCE)
