# -*- coding: utf-8 -*-
"""systemd_conf: systemd's configuration files as conf-parser.c config_parse()
reads them (the cases below are what systemd v257 does with each text)."""

import pytest

from ansible_collections.guestready.gce.plugins.module_utils import systemd_conf


def settings(text):
    found, stop = systemd_conf.parse(text)
    assert stop is None, stop
    return [(section, key, value) for section, key, value, first, last in found]


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r", "\n\r"])
def test_each_line_ending_read_line_full_knows_ends_a_line(ending):
    text = ending.join(["[Match]", "Name=en*", "[Network]", "DHCP=ipv4", ""])
    assert settings(text) == [("Match", "Name", "en*"), ("Network", "DHCP", "ipv4")]


def test_a_second_line_end_of_a_kind_already_seen_starts_an_empty_line():
    assert systemd_conf.lines("a\r\n\rb\n\nc") == ["a", "", "b", "", "c"]
    assert systemd_conf.lines("a\r\n\rb\n", keepends=True) == ["a\r\n", "\r", "b\n"]
    # str.splitlines() would cut the value at \x0b, \x0c, \x1c-\x1e, \x85, U+2028/9
    assert settings("[Time]\nNTP=a\x0cb\x85c\u2028d\n") == [("Time", "NTP", "a\x0cb\x85c\u2028d")]


def test_a_line_ending_in_a_backslash_goes_on_in_the_next_comment_lines_between_left_out():
    found, stop = systemd_conf.parse("[Network]\nDHCP=\\\n# a note\n  ; another\nipv4\nDNS=1.1.1.1\n")
    assert stop is None
    assert found == [("Network", "DHCP", "ipv4", 2, 5), ("Network", "DNS", "1.1.1.1", 6, 6)]


@pytest.mark.parametrize("text, value", [
    ("[S]\nK=a\\\\\nL=b\n", "a\\\\"),        # an even run of backslashes continues nothing
    ("[S]\nK=a\\\\\\\nb\n", "a\\\\ b"),      # an odd one does, its last a space
    ("[S]\nK=a\\ \nL=b\n", "a\\"),           # a blank after it: no continuation
    ("[S]\nK=a\\\n\nL=b\n", "a"),            # an empty line ends it
    ("[S]\nK=a\\\nb\\\n", "a b"),            # the file ends in a continuation: still read
])
def test_continuations_as_config_parse_joins_them(text, value):
    assert settings(text)[0] == ("S", "K", value)


def test_comments_and_lines_that_assign_nothing():
    assert settings("# c\n  ; c\n[Time]\nNTP= # not a comment\nno equals sign\n=no key\n  Key  =  v  \n") == [
        ("Time", "NTP", "# not a comment"), ("Time", "Key", "v")]
    # before the first section header an assignment has no section
    assert settings("NTP=x\n[Time]\n") == [(None, "NTP", "x")]


def test_the_first_byte_order_mark_that_starts_a_line_is_dropped():
    assert settings(u"\ufeff[Match]\nName=en*\n") == [("Match", "Name", "en*")]
    # the comment test looks before the mark is dropped: "#x=1" is then a key
    assert settings(u"[S]\n\ufeff#x=1\n") == [("S", "#x", "1")]
    assert settings(u"\ufeff[S]\n\ufeffK=v\n") == [("S", u"\ufeffK", "v")]


@pytest.mark.parametrize("text, line, why", [
    ("[Match]\nName=en*\n[Network\nDHCP=ipv4\n", 3, "invalid section header '[Network'"),
    ("[Match] # the NIC\nName=en*\n", 1, "invalid section header '[Match] # the NIC'"),
    ("[Match]\n[Net\\work]\n", 2, "bad characters in section header '[Net\\\\work]'"),
    ("[Match]\n[Net\x01]\n", 2, "bad characters in section header '[Net\\x01]'"),
    ('[Match]\n["Network"]\n', 2, "bad characters in section header '[\"Network\"]'"),
    ("[Time]\nNTP=%s\n" % ("x" * systemd_conf.LONG_LINE_MAX), 2, "a line of 1048576 bytes or more"),
    ("[Time]\nNTP=\\\n%s\n" % ("x" * (systemd_conf.LONG_LINE_MAX - 4)), 3, "continued lines longer than 1048576 bytes"),
])
def test_where_config_parse_fails_the_file_what_came_before_is_read(text, line, why):
    found, stop = systemd_conf.parse(text)
    assert stop == (line, why)
    assert [(s, k, v) for s, k, v, first, last in found] == \
        ([("Match", "Name", "en*")] if text.startswith("[Match]\nName") else [])


def test_the_limit_counts_bytes_and_a_line_one_short_of_it_is_read():
    value = u"é" * 1000 + "x" * (systemd_conf.LONG_LINE_MAX - 5 - 2000)   # "NTP=" and it: the limit less one
    assert settings("[Time]\nNTP=%s\n" % value) == [("Time", "NTP", value)]
    assert systemd_conf.parse("[Time]\nNTP=%sx\n" % value)[1] == (2, "a line of 1048576 bytes or more")


def _not_utf8(data):
    # what configfiles.read() makes of a file that is not UTF-8
    from ansible_collections.guestready.gce.plugins.module_utils.configfiles import NotUtf8
    return NotUtf8(data.decode("latin-1"))


def test_a_line_that_is_not_utf8_fails_the_file_there_a_comment_does_not():
    text = _not_utf8(b"# Netzwerkkarte f\xfcr eth0\n[Match]\nName=en*\n[Network]\nDescription=f\xfcr eth0\nDHCP=ipv4\n")
    found, stop = systemd_conf.parse(text)
    assert stop == (5, "a line that is not valid UTF-8")
    assert [(s, k, v) for s, k, v, first, last in found] == [("Match", "Name", "en*")]
    # a sequence cut by a continuation is invalid in the joined line, reported at its first line
    assert systemd_conf.parse(_not_utf8(b"[S]\nK=\xc3\\\n\xa9\n# \xff\n"))[1] == (2, "a line that is not valid UTF-8")


def test_utf8_in_a_file_that_is_not_utf8_elsewhere_is_read_and_its_lines_counted_in_bytes():
    # the mark and "é" are UTF-8 here; only the comment is not
    text = _not_utf8(b"\xef\xbb\xbf[S]\nK=caf\xc3\xa9\n; \xe9\n")
    found, stop = systemd_conf.parse(text)
    assert stop is None and [(s, k, v) for s, k, v, first, last in found] == [("S", "K", "caf\xc3\xa9")]
    # one character a byte: a line one byte short of the limit is read
    limit_less_one = _not_utf8(b"[S]\nK=" + b"\xc3\xa9" * 1000 + b"x" * (systemd_conf.LONG_LINE_MAX - 3 - 2000) + b"\n#\xff\n")
    assert systemd_conf.parse(limit_less_one)[1] is None
    # the same characters in a UTF-8 text are not judged as bytes
    assert systemd_conf.parse(u"[S]\nK=f\xfcr\n")[1] is None


@pytest.mark.parametrize("value, flags, found, rest", [
    # systemd's WHITESPACE only: a no-break space, \v and \f are part of a word
    (u"a\u00a0b\x0bc\x0cd  e\tf\r", {}, [u"a\u00a0b\x0bc\x0cd", "e", "f"], None),
    # no flags: a backslash takes the next character, quotes are ordinary
    ("a\\ b 'c d' \\\\e", {}, ["a b", "'c", "d'", "\\e"], None),
    ("a b\\", {}, ["a"], "b\\"),
    # EXTRACT_UNQUOTE: quotes anywhere in a word group and are dropped, escapes work inside
    ("'multi-user.target' a\"b c\"d \"x\\\"y\"", {"unquote": True}, ["multi-user.target", "ab cd", 'x"y'], None),
    ("a 'b c", {"unquote": True}, ["a"], "'b c"),
    # EXTRACT_RETAIN_ESCAPE: a backslash is an ordinary character, inside quotes too
    ("a\\ b '\\x' c\\", {"unquote": True, "retain_escape": True}, ["a\\", "b", "\\x", "c\\"], None),
    ("x\\'y z'", {"unquote": True, "retain_escape": True}, ["x\\y z"], None),
])
def test_words_as_extract_first_word_splits_them(value, flags, found, rest):
    assert systemd_conf.words(value, **flags) == (found, rest)
