"""envfile.os_release_values against this machine's systemd: ``systemd-analyze
condition`` tests ConditionOSRelease= on the file ``$SYSTEMD_OS_RELEASE`` names,
reading it with parse_os_release(), the code every systemd program that shows
an image's name runs.  One call per generated file: every condition is one
this reader expects to hold (a key's value, matched as an escaped fnmatch
pattern; an absent or empty key as not matching ``?*``), and systemd names
the first that does not.  Skipped without systemd-analyze 249+."""

import re
import shutil
import subprocess

import pytest
from hypothesis import given, strategies as st

from ansible_collections.guestready.gce.plugins.module_utils import envfile, imagefile
from ansible_collections.guestready.gce.plugins.module_utils.target import Target


def analyze_version():
    if not shutil.which("systemd-analyze"):
        return 0
    output = subprocess.run(["systemd-analyze", "--version"], stdout=subprocess.PIPE, universal_newlines=True,
                            check=False).stdout
    match = re.match(r"systemd (\d+)", output)
    return int(match.group(1)) if match else 0


ANALYZE_VERSION = analyze_version()
pytestmark = pytest.mark.skipif(ANALYZE_VERSION < 249, reason="needs systemd-analyze with ConditionOSRelease= (249+)")

PROBES = ("ID", "NAME", "PRETTY_NAME", "VERSION_ID", "A")


def condition(key, value):
    """ConditionOSRelease= that holds when os-release has ``key`` = ``value``
    (absent or empty for "")."""
    if value == "":
        word = "%s!$=?*" % key
    else:
        pattern = "".join("\\" + char if char in "*?[\\" else char for char in value)
        if pattern[0] in " \t\n\r":
            pattern = "[%s]%s" % (pattern[0], pattern[1:])   # no blank may follow the operator
        word = "%s$=%s" % (key, pattern)
    # extract_first_word(EXTRACT_UNQUOTE) takes the quoted word; unit_full_printf() the %%
    return 'ConditionOSRelease="%s"' % word.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%")


def systemd_verdict(path, values):
    """None when systemd reads ``values`` from the file (every probe absent
    or empty unless given), else what systemd-analyze printed."""
    expected = dict((key, "") for key in PROBES)
    expected.update((key, value) for key, value in values.items() if envfile.ENV_NAME.match(key))
    run = subprocess.run(["systemd-analyze", "condition"] + [condition(k, v) for k, v in sorted(expected.items())],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                         env={"SYSTEMD_OS_RELEASE": str(path), "PATH": "/usr/bin:/bin"}, check=False)
    return None if "Conditions succeeded." in run.stdout else run.stdout


KEYS = st.sampled_from(["ID", "NAME", "PRETTY_NAME", "VERSION_ID", "A", " ID", "ID ", "A B", "9X", "", "#ID", "é"])
SEPARATORS = st.sampled_from(["=", " = ", "==", "=\t", ""])
VALUE = st.lists(st.sampled_from(["a", "B", " ", "\t", '"', "'", "\\", "#", ";", "$", "`", "%", "*", "?", "[", "]",
                                  "=", "!", "<", "é", "\\\n", "\n", "x y", '"q q"', "'s s'", '\\"', "\\$"]),
                 max_size=8).map("".join)
LINE = st.one_of(
    st.tuples(st.sampled_from(["", " ", "\t"]), KEYS, SEPARATORS, VALUE).map("".join),
    st.sampled_from(["# comment", "; comment", "  # ID=x", "#", "bad line", ""]))
ENDINGS = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def os_release_files(draw):
    lines = draw(st.lists(st.tuples(LINE, ENDINGS), max_size=6))
    data = "".join(line + ending for line, ending in lines).encode("utf-8")
    if draw(st.booleans()):
        data = data[:len(data) - draw(st.integers(0, 2))]   # the last line may end without a break
    spoilt = draw(st.sampled_from([None, None, None, b"\0", b"\xff", b"\xc3"]))
    if spoilt and data:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + spoilt + data[at:]
    return data


@given(data=os_release_files())
def test_os_release_values_as_systemd_reads_them(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("osrel") / "os-release"
    path.write_bytes(data)
    # read as this machine's version reads it (before 254, a comment line ending in a backslash goes on)
    ours = envfile.os_release_values(data, ANALYZE_VERSION)
    verdict = systemd_verdict(path, ours)
    if verdict is not None and "Couldn't determine result" in verdict:
        assert ours == {}, (data, verdict)       # systemd refused the file: no values
    else:
        assert verdict is None, (data, ours, verdict)


@pytest.mark.parametrize("data,expected", [
    (b'PRETTY_NAME="Debian \\"bookworm\\""\n', {"PRETTY_NAME": 'Debian "bookworm"'}),
    (b"NAME='It''s'\nID = debian  \n", {"NAME": "Its", "ID": "debian"}),
    (b"ID=debian # not a comment\r\nVERSION_ID=12\r\n", {"ID": "debian # not a comment", "VERSION_ID": "12"}),
    (b'PRETTY_NAME="two\nlines"\nID=a\\\nb\n', {"PRETTY_NAME": "two\nlines", "ID": "ab"}),
    (b"ID=debian\nPRETTY_NAME=\xff\n", {}),
    (b"ID=debian\n\0", {}),
    (b"# \xff in a comment\nID=debian\n", {"ID": "debian"}),
])
def test_os_release_values_what_the_line_reader_missed(tmp_path, data, expected):
    """The old reader split at line breaks and stripped one pair of quotes: escapes stayed, a CR line
    kept going, a file systemd refuses gave its values."""
    assert envfile.os_release_values(data) == expected
    if shutil.which("systemd-analyze"):
        path = tmp_path / "os-release"
        path.write_bytes(data)
        verdict = systemd_verdict(path, expected)
        assert verdict is None or (expected == {} and "Couldn't determine result" in verdict), verdict


@pytest.mark.parametrize("data", [b"# comment \\\nID=hidden\nNAME=n\n", b"; x\\\rID=hidden\rNAME=n\r"])
def test_a_comment_ending_in_a_backslash_goes_on_before_254(tmp_path, data):
    """systemd 254 ended a comment at its line break whatever comes before it; until then
    COMMENT_ESCAPE escaped the line break and the next line was comment too (Debian 12: 252)."""
    assert envfile.os_release_values(data, 252) == {"NAME": "n"}
    assert envfile.os_release_values(data, 254) == envfile.os_release_values(data) == {"ID": "hidden", "NAME": "n"}
    path = tmp_path / "os-release"
    path.write_bytes(data)
    assert systemd_verdict(path, envfile.os_release_values(data, ANALYZE_VERSION)) is None


def test_etc_os_release_that_exists_is_the_one_read(tmp_path):
    """os-util.c open_os_release(): /usr/lib/os-release only when /etc/os-release does not exist."""
    (tmp_path / "etc").mkdir()
    (tmp_path / "usr/lib").mkdir(parents=True)
    (tmp_path / "usr/lib/os-release").write_text("PRETTY_NAME=vendor\n")
    (tmp_path / "etc/fstab").write_text("")
    assert imagefile._root_candidate(Target(str(tmp_path)))["os_release"] == {"PRETTY_NAME": "vendor"}
    (tmp_path / "etc/os-release").write_text("# nothing\n")
    assert imagefile._root_candidate(Target(str(tmp_path)))["os_release"] == {}
    (tmp_path / "etc/os-release").unlink()
    (tmp_path / "etc/os-release").symlink_to("../usr/lib/os-release")
    assert imagefile._root_candidate(Target(str(tmp_path)))["os_release"] == {"PRETTY_NAME": "vendor"}
