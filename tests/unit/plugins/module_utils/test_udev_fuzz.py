"""udev rules files read as udevd reads them, against a literal port of
systemd's read_line_full() (src/basic/fileio.c) and the loop of
udev_rules_parse_file() (src/udev/udev-rules.c, v257): line ends, comments,
continuations and the UDEV_LINE_SIZE limits.  Profiles (example counts:
GUESTREADY_FUZZ, GUESTREADY_FUZZ_EXAMPLES) are in tests/unit/conftest.py."""

from hypothesis import given, strategies as st

from ansible_collections.guestready.gce.plugins.module_utils import udev

LIMIT = 16384   # UDEV_LINE_SIZE
EOL = {ord("\n"): 1, ord("\r"): 2, 0: 4}


def read_lines(data):
    """read_line_full(f, LIMIT): the lines of the bytes ``data``, then None where it fails (ENOBUFS)."""
    at = 0
    while True:
        line, count, previous = [], 0, 0
        while True:
            if len(line) >= LIMIT:
                yield None
                return
            if at >= len(data):
                break
            eol = EOL.get(data[at], 0)
            if previous & 4 or (not eol and previous) or (eol and previous & eol):
                break
            at += 1
            count += 1
            if eol:
                previous |= eol
            else:
                line.append(data[at - 1])
        if not count:
            return
        yield bytes(line)


def parse(text):
    """``[(line number, rule)]`` udev_rules_parse_file() passes to rule_add_line(), of ``text`` in UTF-8."""
    rules, continuation, ignore, first, current = [], None, False, 0, 0
    for buf in read_lines(text.encode("utf-8")):
        if buf is None:
            break
        current += 1
        if continuation is None:
            first = current
        line = buf.lstrip(b" \t\n\r")   # skip_leading_chars(buf, NULL): WHITESPACE
        if line.startswith(b"#"):
            continue
        if continuation is not None and not ignore:
            ignore = len(continuation) + len(line) >= LIMIT
            continuation += line
            if not ignore:
                line = continuation
        if line.endswith(b"\\"):
            if not ignore:
                continuation = line[:-1]
            continue
        if not ignore and line:
            rules.append((first, line.decode("utf-8")))
        continuation, ignore = None, False
    return rules


PIECES = st.sampled_from(["\n", "\r", "\r\n", "\n\r", "\\", "#", " ", "\t", "a", 'NAME="x"',
                          "x" * 5000, "y" * 16383, "z" * 8190, "\u00e9" * 4096, "\u20ac" * 5461])
TEXT = st.lists(PIECES, max_size=30).map("".join)


@given(TEXT)
def test_rules_are_joined_as_udevd_joins_them(text):
    assert [(n, r.strip()) for n, r in udev.logical_lines(text)] == [(n, r.strip()) for n, r in parse(text)]


@given(TEXT, st.data())
def test_commented_out_rules_are_gone_and_the_others_stay(text, data):
    rules = udev.logical_lines(text)
    chosen = data.draw(st.sets(st.sampled_from([n for n, r in rules]))) if rules else set()
    out = udev.comment_out(text, chosen, "R")
    assert [(r.strip()) for n, r in parse(out)] == [r.strip() for n, r in rules if n not in chosen]
