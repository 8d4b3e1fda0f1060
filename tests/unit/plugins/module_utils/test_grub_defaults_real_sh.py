"""The /etc/default/grub reader against the real shell: grub-mkconfig (a
``#! /bin/sh`` script under ``set -e``) sources the file, so generated files
are sourced by this machine's /bin/sh (dash on Debian) and every variable
it ends with set, and its value, is what ``bootloader.parse_defaults``
says.  A file that makes sh fail (grub-mkconfig would stop) is left out.

The files hold assignments, comments, words, command substitutions, lists
(``&&``, ``||``), pipelines, background commands, compound commands (``if``,
``case`` of several patterns, ``{ }``, subshells, in pipelines or not), variables
made read only, function definitions and
calls, built-ins that assign, unset or keep the assignments before them
(``unset``, ``for``, ``read``, ``eval``, special ones, through ``command``),
``set -e`` and ``set +e``, arithmetic that assigns, ``${A?}`` errors, a
compound command's words on rows of their own, and redirections
(never a here-document, which the reader refuses); sh runs with no PATH (a word is a command it does not find) in a
temporary directory, where the redirections make their files.  A value the
reader says only sh knows (``bootloader.Unknown``: a command's output, an
assignment under a condition or by a function) is not compared, and there is
one only in a file with a command substitution, a list, a conditional
command or a function's call."""

import os
import re
import shutil
import subprocess
import tempfile

import pytest
from hypothesis import given, strategies as st

from ansible_collections.guestready.gce.plugins.module_utils import bootloader
from ansible_collections.guestready.gce.plugins.module_utils.configfiles import ConfigError

SH = "/bin/sh"
pytestmark = pytest.mark.skipif(not os.path.exists(SH), reason="needs /bin/sh")

NAMES = ["GRUB_CMDLINE_LINUX", "GRUB_CMDLINE_LINUX_DEFAULT", "GRUB_TIMEOUT", "A", "B"]
PIECES = st.sampled_from([
    "console=ttyS0", "quiet", "0", "$A", "${A}", "${A:-x}", "${A:+y $A}", "${B-z}", "${B=w}", "${B:=v}", "\\$A",
    "'$A'", '"$A"', '" a \\" b"', '\\"', "'x y'", '""', "\\ ", "a#b", " #c", "\\\n", '"multi\nline"', "'q\nr'",
    "$", "$\\\n", "${", "}", "\\\\", '"\\$B \\\\ \\x"', "${A:-'s'}", '"${A:-"in"}"', "$A$B", "\t", " ", ";", "=", "#",
    "${A#*=}", "${A##*s}", "${A%=*}", '"${A%%t*}"', "${A#con}",
    # quoted or escaped glob characters in a pattern match themselves, expanded unquoted ones are patterns
    "'*'", "'?x'", "\\*", "a[b", '${A%"*"}', "${A#'?'}", "${A%\\*}", '"${A%"*"}"', '"${A##*"?"}"', '${A%"$B"}',
    "${A##$B}", "${A%'['*}", '"${A#\\*}"', '"${A%\\\\}"', "${A%[*]}",
    # an unquoted expansion is a field when the word it takes has quotes, not a pattern's or an assigned one's
    '${A:-""}', '${B=""}', "${A:+''}", '${B%""}', "${A-\\ }",
    # a command's output, and grub-mkconfig's own parameters: only sh knows them; a length
    "$(echo s)", "`echo t`", '"$(echo u v)"', "'$(echo w)'", "$0", "$#", '"${1-x}"', "${#}", "$?", "${#A}", '"${#B}"',
    # command substitutions over several rows, with parentheses and quotes of their own; arithmetic
    "$(\nB=1\n)", "`:\nA=2\n`", '"$(echo ")")"', "$( (echo x) )", "$((1+2))", '"$(echo "\nB=3\n")"',
    # arithmetic that assigns or shifts; an error when a parameter is not set (or empty)
    "$((A=4))", '"$((B+=1))"', "$((1<<2))", "${B?}", "${A:?e}"])
VALUE = st.lists(PIECES, max_size=5).map("".join)
ASSIGNMENT = st.builds(lambda lead, name, value: "%s%s=%s" % (lead, name, value),
                       st.sampled_from(["", " ", "\t", "export "]), st.sampled_from(NAMES), VALUE)
# commands whose status a && or || list goes on after
STATUS = st.sampled_from(["true", "false", '[ -n "$A" ]', '[ "$A" = x ]', "test $B", "! [ -z $A ]", '[ "$B" -lt 3 ]',
                          '[ ! "$A" ]', ": >/dev/null"])
LINE = st.one_of(ASSIGNMENT, ASSIGNMENT, ASSIGNMENT,
                 st.builds(lambda a, sep, b: a + sep + b, ASSIGNMENT, st.sampled_from([" ", ";", "; ", " # "]), ASSIGNMENT),
                 st.sampled_from(["", "# GRUB_CMDLINE_LINUX=commented", "  # A=x", ": comment", "export A", "B"]),
                 # lists and pipelines (a row ending in an operator goes on), and compound commands
                 st.builds(lambda a, op, b: a + op + b, ASSIGNMENT | STATUS,
                           st.sampled_from([" && ", " || ", "||", " | ", " & ", "&", " &&\n", " |\n  ", " && # c\n",
                                            " ||\n\n", " |\n# c\n  "]), ASSIGNMENT),
                 st.builds("if {}; then {}; fi".format, st.sampled_from(["true", "false"]), ASSIGNMENT),
                 st.builds("if false; then :; else\n{}\nfi".format, ASSIGNMENT),
                 st.builds("case x in x) {};; esac".format, ASSIGNMENT), st.builds("{{ {}; }}".format, ASSIGNMENT))
# a redirection, before or after assignments: its file's name is expanded before them
REDIRECTION = st.sampled_from([">/dev/null", "2>&1", ">&2", "</dev/null", "2>/dev/null", ">>out", ">|out", "<>out",
                               "2>&-", "> out", '>"$A"o', ">${B=r}", "1>${A:-f}", "2>${B:=e}x", "3>o", "12>o"])
LINE = LINE | st.builds(lambda a, r: a + " " + r, ASSIGNMENT, REDIRECTION) | \
    st.builds(lambda r, a, b: r + a + " " + b, REDIRECTION, ASSIGNMENT, ASSIGNMENT | REDIRECTION)
# subshells, whose assignments are undone; case branches of several patterns; a function's body, run
# where it is called (a line "f")
LINE = LINE | st.builds("( {} )".format, ASSIGNMENT) | st.builds("({}; ( {} ); {})".format, ASSIGNMENT, ASSIGNMENT, ASSIGNMENT) | \
    st.builds("case {} in\n a|x) {};;\n (B=*|*) {} ;;\nesac".format, st.sampled_from(["x", "$A", "y"]), ASSIGNMENT, ASSIGNMENT) | \
    st.builds(lambda form, a, b: form.format(a, b), st.sampled_from(
        ["f() {{ {}; {}; }}", "f()\n{{\n{}\n{}\n}}", "f ( ) ( {}; {} )", "f() {{ {} | {}; }}", "f() if true; then {}; fi; {}"]),
        ASSIGNMENT, ASSIGNMENT) | st.just("f")
# built-ins that assign, unset or keep the assignments before them (special ones), eval of a line
LINE = LINE | st.sampled_from(["unset A", "unset -v B A", "unset -f f", "unset", "for A in x y; do :; done",
                               "for B in; do :; done", "for A in $B; do :; done", "read A </dev/null", "getopts a B",
                               "read -p B A </dev/null || :", "read -rpB -- A </dev/null || :", "getopts -a B || :",
                               "command export A=1", "A=2 command eval B=\\$A", "A=3 command :", "command -p unset A",
                               "command readonly B", "command -v export >/dev/null", "set +e", "set -e"]) | \
    st.builds(lambda a, builtin: a + " " + builtin, ASSIGNMENT,
              st.sampled_from(["eval :", "set >/dev/null", "times >/dev/null", "trap", "exec", "unset A", "eval B=\\$A"])) | \
    st.builds(lambda line: "eval '%s'" % line.replace("'", "'\\''"), ASSIGNMENT | st.builds("{}; {}".format, ASSIGNMENT, ASSIGNMENT))
# groups and compound commands in a pipeline or the background (subshells); variables made read only
LINE = LINE | st.builds(lambda form, a: form.format(a), st.sampled_from(
    ["{{ {}; }} | :", "{{ {}; }} &", ": | {{ {}; }}", "if true; then {}; fi | :", "{{ {{ {}; }} | :; }}"]), ASSIGNMENT) | \
    st.sampled_from(["readonly A", "readonly B=1", "readonly -p >/dev/null", "( readonly A )", "{ readonly B; } | :",
                     "false && readonly A", "( { readonly B=2; }; : )", "read -r B </dev/null || :"])
# a file sourced (INCLUDED: its path in the test's directory), unless it is not there
LINE = LINE | st.sampled_from([". @INC@", '[ -n "$A" ] && . @INC@', "B=1 . @INC@ >/dev/null"])
# a compound command's opening and closing words on rows of their own: one row may close what another
# opened, or the file end with one still open (sh stops)
LINE = LINE | st.sampled_from(["{", "}", "if true; then", "if false; then", "else", "fi", "(", ")", "case x in x)", ";;",
                               "esac", "while false; do", "done"])
# a return, which ends the file sourced (or may); functions whose bodies run built-ins and other functions
LINE = LINE | st.sampled_from(["return", "return 0", "return 1", '[ -n "$A" ] && return', '[ -z "$A" ] || return 0',
                               "{ return; }", "( return 1 )", "eval return", "return x", "return 1 || :", "return | :",
                               "if true; then return; fi", "f() { read A </dev/null; }", "f() { unset A; }",
                               "f() { for B in 1; do :; done; }", "g() { A=5; }; f() { g; }", "f() { readonly B; }",
                               "f() { set +e; }", "f() { eval B=7; }", "f() { return; B=8; }", '[ -n "$A" ] && exit 0',
                               "exit | :", "( exit )", "{ exit; } | :", '[ -z "$A" ] || exec /bin/true', "false"])
# groups and subshells that fail, and what keeps their status from counting; groups that may not run
LINE = LINE | st.sampled_from(["( false )", "( false ) || :", "! false", "! { false; }", "{ false; } || :", "false && {",
                               "true || {", "! {", "( false ) &&", "{ false; } &&", "( ${B?} ) || :", "{ A=1 >\"\"; } || :", "( exit 3 )", "( exit 256 )",
                               '[ -n "$A" ] && {'])
LINE = LINE | STATUS   # a file's last command: its status is the "."'s
FILE = st.lists(LINE, max_size=6).map(lambda rows: "".join(row + "\n" for row in rows))
FILE = FILE | FILE.map(lambda text: text[:-1])   # without its last newline
INCLUDED = st.none() | st.lists(ASSIGNMENT | st.sampled_from(["unset A", "f() { B=2; }", "return", '[ -n "$A" ] && return',
                                                             "{", "}", "if true; then", "fi"]),
                                max_size=3).map(
    lambda rows: "".join(row + "\n" for row in rows))

REPORT = "set -e\n. \"$1\"\nprintf '%s\\0' " + " ".join('"${%s+set}" "${%s-}"' % (name, name) for name in NAMES) + "\n"


def sh_variables(base, text, errors=None, included=None):
    """``{name: value}`` of the variables sh has set after sourcing ``text``, or None when it failed;
    what it printed on its standard error is added to ``errors``.  ``included``: the text of the file
    ``@INC@`` names (None: not there)."""
    path = os.path.join(base, "grub")
    for name, content in (("grub", text), ("inc", included)):
        if content is not None:
            with open(os.path.join(base, name), "w") as handle:
                handle.write(content)
    done = subprocess.run([SH, "-c", REPORT, "sh", path], cwd=base, env={"PATH": "/nonexistent"}, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30, check=False)
    if errors is not None:
        errors.append(done.stderr.decode("utf-8", "replace"))
    if done.returncode != 0 or not done.stdout:   # (a status of 256 is 0)
        return None
    fields = done.stdout.decode("utf-8", "surrogateescape").split("\0")
    return dict((name, fields[2 * index + 1]) for index, name in enumerate(NAMES) if fields[2 * index] == "set")


def sh_sourcing(text, included, errors=None):
    """``(text, path, variables)``: ``text`` with @INC@ replaced by the path of a file of ``included``
    in a directory of its own (removed after), and ``sh_variables`` of it."""
    base = tempfile.mkdtemp()
    inc = os.path.join(base, "inc")
    text = text.replace("@INC@", inc)
    try:
        return text, inc, sh_variables(base, text, errors, included)
    finally:
        shutil.rmtree(base)


def sh_real(text, errors=None):
    """``sh_variables`` of ``text`` in a directory of its own, removed after."""
    base = tempfile.mkdtemp()
    try:
        return sh_variables(base, text, errors)
    finally:
        shutil.rmtree(base)


@given(text=FILE, included=INCLUDED)
def test_the_variables_are_what_sh_sets(text, included):
    errors = []
    text, inc, real = sh_sourcing(text, included, errors)
    if real is None:   # sh failed: grub-mkconfig stops there
        return
    try:
        variables, dummy = bootloader.parse_defaults(text, "/etc/default/grub", sourced={inc: included}.get)
    except ConfigError as exc:
        # a bad substitution stops sh (and grub-mkconfig), but not outside a subshell in a pipeline;
        # a file sourced under a condition stops it where the condition holds; a function that runs eval
        assert "Bad substitution" in errors[0] or (re.search(r"&&\s*(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*\. ", text) and "the file %s" % inc in str(exc)) or \
            "runs eval, which the reader does not follow" in str(exc), (text, errors, str(exc))
        return
    # a value only sh knows (a command's output, an assignment under a condition) is named as such
    unknown = set(name for name in NAMES if isinstance(variables.get(name), bootloader.Unknown))
    if not re.search(r"&&|\|\||`|\$\(|\b(?:if|case|return)\b|set \+e|\$(?:\{#?)?[0-9#?!@*$-]|^f$|\b(?:for|read|getopts)\b",
                     (text + "\n" + (included or "")).replace("\\\n", ""), re.M):
        assert not unknown, repr(text)
    assert dict((name, variables[name]) for name in NAMES if name in variables and name not in unknown) == \
        dict((name, value) for name, value in real.items() if name not in unknown), repr(text)


@pytest.mark.parametrize("text,expected", [
    ('A=console=ttyS0\nGRUB_CMDLINE_LINUX="${A##*"?"}"\n', {"A": "console=ttyS0", "GRUB_CMDLINE_LINUX": "console=ttyS0"}),
    ("A='a*'\nB=${A%\"*\"}\n", {"A": "a*", "B": "a"}),
    ("A=abc\nB=${A%\\*}\n", {"A": "abc", "B": "abc"}),
    ('GRUB_CMDLINE_LINUX=\t${A%"*"}\n', {"GRUB_CMDLINE_LINUX": ""}),
    ("GRUB_CMDLINE_LINUX=${A#b${B=w}}\n", {"GRUB_CMDLINE_LINUX": ""}),
    ("A=1\nGRUB_CMDLINE_LINUX=${A:-${B=w}}\n", {"A": "1", "GRUB_CMDLINE_LINUX": "1"}),
    ("B=' '\nGRUB_CMDLINE_LINUX=\t${B=\"\"}\n", {"B": " ", "GRUB_CMDLINE_LINUX": ""}),
    ("GRUB_CMDLINE_LINUX=\t${B=\"\"}\n", {"B": "", "GRUB_CMDLINE_LINUX": ""}),
    ("GRUB_CMDLINE_LINUX=${A:-x # y}\n", {"GRUB_CMDLINE_LINUX": "x # y"}),
    ('GRUB_CMDLINE_LINUX="console=ttyS0" 2>&1\n', {"GRUB_CMDLINE_LINUX": "console=ttyS0"}),
    ("GRUB_TIMEOUT=0>/dev/null\n", {"GRUB_TIMEOUT": "0"}),
    (">/dev/null A=q B=$A\n", {"A": "q", "B": "q"}),
    ("A=$B >${B=x}\n", {"A": "x", "B": "x"}),
    ("A=1 >${A=2}\n", {"A": "1"}),
    ("f() {\nGRUB_TIMEOUT=0\n}\n", {}),
    ("A=0\nf() { A=1; }\nB=$A\n", {"A": "0", "B": "0"}),
    ("f() ( A=1 )\nf\n", {}),
    ("( A=1 )\nB=2\n", {"B": "2"}),
    ("A=0; (A=1; (B=2); B=$A); B=$A$A\n", {"A": "0", "B": "00"}),
    ("case x in\n a|x) A=1 ;;\n (B=*) B=3 ;;\nesac\nB=2\n", {"A": "1", "B": "2"}),
    ("A=1; unset A; B=${A-u}\n", {"B": "u"}),
    ("A=1 eval B=\\$A\n", {"A": "1", "B": "1"}),
    ("A=1; eval \"B=2; A=3\"\n", {"A": "3", "B": "2"}),
    ("B=1 unset -f B\n", {"B": "1"}),
    ("A=1 exec\nB=2 times >/dev/null\n", {"A": "1", "B": "2"}),
    ("GRUB_CMDLINE_LINUX=$'$A'0\n", {"GRUB_CMDLINE_LINUX": "$$A0"}),
    ('(A="$(echo ")")"; B=$((1+2)) )\n', {}),
    ("A=${B=w} quiet || :\n", {"B": "w"}),
    ("A=${A=x} true || :\n", {"A": "x"}),
    ("B=${A=1} A=${B=2} true || :\n", {"A": "1"}),
    ("A=x; { A=y; } | :\n", {"A": "x"}),
    ("A=x; : | { A=y; }; if true; then A=z; fi &\n", {"A": "x"}),
    ("command export A=1\n", {"A": "1"}), ("A=1 command eval B=2\n", {"B": "2"}), ("A=1 command export B=$A\n", {"B": ""}),
    ("A=1; command -p command unset A\nB=${A-u}\n", {"B": "u"}),
    ("A=2 command eval B=\\$A\n", {"B": "2"}), ("A=2 command eval A=3\n", {}),
    ("GRUB_CMDLINE_LINUX=${B?} >${B=r}\n", {"GRUB_CMDLINE_LINUX": "r", "B": "r"}),
    ("GRUB_CMDLINE_LINUX=${B?} export GRUB_CMDLINE_LINUX=${B=w}\n", {"B": "w", "GRUB_CMDLINE_LINUX": "w"}),
    ("A=${B?} : ${B=w}\n", {"A": "w", "B": "w"}), ("A=${B:?} true ${B:=w}\n", {"B": "w"}),
    # a backslash ending the file: with its newline, both removed; without, itself
    ("A=1 \\\n", {"A": "1"}), ("A=1\\", {"A": "1\\"}), ("eval 'GRUB_CMDLINE_LINUX=\t\\\n'\n", {"GRUB_CMDLINE_LINUX": ""}),
    ("eval 'A=1\\'\n", {"A": "1\\"}),
])
def test_what_the_reader_missed(text, expected):
    """A quoted pattern character matched anything, an unused word's ${B=w} assigned, a blank
    expansion was a command, a "#" inside ${...} began a comment; a redirection was a command
    word (``2>&1`` ran in the background), and its file's name is expanded before the assignments;
    a function's body was run where it is defined, a subshell's assignments stayed, and a case
    pattern's "|" was a pipeline; unset and eval were commands like any, the assignments before a
    special built-in were its environment only, a group in a pipeline kept what it assigned, and a
    quoted "$" before a digit was $0; a command
    substitution ended at its row or its first ")"; the ${B=x} in the assignments before a command
    were undone with them; ``command export`` (``eval``, ``unset``...) was a command like any."""
    variables, dummy = bootloader.parse_defaults(text, "/etc/default/grub")
    assert dict((name, variables[name]) for name in NAMES if name in variables) == expected
    assert sh_real(text) == expected


@pytest.mark.parametrize("text,command", [("$C GRUB_TIMEOUT=0\n", "GRUB_TIMEOUT=0"),
                                          ("A=1 $C GRUB_TIMEOUT=0 >/dev/null\n", "GRUB_TIMEOUT=0")])
def test_an_assignment_after_a_word_expanding_to_nothing_is_the_command(text, command):
    """The words before the first that is no ``NAME=`` are the assignments, whatever it expands
    to: sh runs ``GRUB_TIMEOUT=0`` as a command it does not find, and grub-mkconfig stops."""
    variables, dummy = bootloader.parse_defaults(text, "/etc/default/grub")
    assert variables == {}
    errors = []
    assert sh_real(text, errors) is None
    assert "%s: not found" % command in errors[0]


def test_a_here_document_is_refused_naming_its_line():
    """Its text is the rows after it (``${B=x}`` in them assigns); the reader does not follow it."""
    text = "GRUB_TIMEOUT=1\ncat <<EOF >/dev/null\nGRUB_TIMEOUT=5\nEOF\n"
    with pytest.raises(ConfigError, match=r"^/etc/default/grub:2: a here-document \(<<\) is not read"):
        bootloader.parse_defaults(text, "/etc/default/grub")
    assert bootloader.parse_defaults("A='<<'\nB=\"<<\" C=${D:-<<} # <<\n", "g")[0] == {"A": "<<", "B": "<<", "C": "<<"}


def test_what_a_called_function_assigns_is_known_only_to_sh():
    variables, assignments = bootloader.parse_defaults("f() {\n GRUB_TIMEOUT=0\n}\nGRUB_TIMEOUT=5\nf\n", "/etc/default/grub")
    assert variables == {"GRUB_TIMEOUT": "0"}
    assert isinstance(variables["GRUB_TIMEOUT"], bootloader.Unknown) and "function f" in variables["GRUB_TIMEOUT"].why
    assert [line for dummy, line, dummy2 in assignments["GRUB_TIMEOUT"]] == [4, 5]


def test_a_function_defined_in_one_file_is_called_in_the_next():
    """grub-mkconfig sources /etc/default/grub and grub.d/*.cfg in one shell."""
    shell = {}
    variables, assignments = bootloader.parse_defaults("f() { GRUB_TIMEOUT=0; }\nGRUB_TIMEOUT=5\n", "/etc/default/grub",
                                                       shell=shell)
    assert variables == {"GRUB_TIMEOUT": "5"}
    variables, dummy = bootloader.parse_defaults("f\n", "/etc/default/grub.d/50.cfg", variables, assignments, shell)
    assert isinstance(variables["GRUB_TIMEOUT"], bootloader.Unknown) and variables["GRUB_TIMEOUT"] == "0"


def test_a_variable_made_read_only_in_one_file_stays_so_in_the_next():
    """readonly in /etc/default/grub holds in the grub.d file sourced after it: sh stops there."""
    shell = {}
    variables, assignments = bootloader.parse_defaults("readonly GRUB_TIMEOUT=5\n", "/etc/default/grub", shell=shell)
    with pytest.raises(ConfigError, match="^/etc/default/grub.d/50.cfg:1: GRUB_TIMEOUT is read only"):
        bootloader.parse_defaults("GRUB_TIMEOUT=0\n", "/etc/default/grub.d/50.cfg", variables, assignments, shell)


@pytest.mark.parametrize("text", [
    "set +e; readonly B; read B </dev/null; GRUB_TIMEOUT=1\n", "set +e; false; GRUB_TIMEOUT=1\n",
    "false || :; GRUB_TIMEOUT=1\n", "false; GRUB_TIMEOUT=1\n", "{ false; } | :; ( false ) || :; false & GRUB_TIMEOUT=1\n",
    "set -o errexit +o errexit\nreadonly B; read B </dev/null; GRUB_TIMEOUT=1\n",
    "true && set +ex; readonly B; read B </dev/null; GRUB_TIMEOUT=1\n",
    "set +e; set -e; readonly B; read B </dev/null; GRUB_TIMEOUT=1\n",
    "set -- +e; readonly B; read B </dev/null; GRUB_TIMEOUT=1\n",
    ": | set +e; readonly B; read B </dev/null; GRUB_TIMEOUT=1\n",
])
def test_a_failing_command_stops_sh_only_under_set_e(text):
    """The file may turn grub-mkconfig's set -e off: the reader refused a read that fails there.
    A false that certainly runs stops sh under set -e: the reader went on."""
    assert_timeout_as_sh_reads_it(text)


@pytest.mark.parametrize("text,stops", [
    ("( false )\nGRUB_TIMEOUT=1\n", True), ("GRUB_TIMEOUT=1\n(\nfalse\n)", True), ("{\nfalse\nGRUB_TIMEOUT=1\n}\n", True),
    ("( : ${B?} ) || :\nGRUB_TIMEOUT=1\n", False), ("{ : ${B?}; } || :\nGRUB_TIMEOUT=1\n", True),
    ("{ ( false; GRUB_TIMEOUT=2 ); }\nGRUB_TIMEOUT=1\n", True), ("( { export A >\"$B\"; } || : )\nGRUB_TIMEOUT=1\n", True),
    ("set +e\n( false ); ( : ${B?} )\nGRUB_TIMEOUT=1\n", False), ("set +e\n{ A=1 >\"\"; }\nGRUB_TIMEOUT=1\n", False),
    ("( false ) || :\n! ( false )\n! false\n{ false; GRUB_TIMEOUT=2; } || :\nGRUB_TIMEOUT=$GRUB_TIMEOUT$GRUB_TIMEOUT\n", False),
    ("{ ( false ) | :; }\n( false ) &\nif true; then ( false ); fi || :\n! { false; }; GRUB_TIMEOUT=1\n", False),
    ("f() ( false )\ng() { false; }\nGRUB_TIMEOUT=1\n", False), ("( set +e; false; GRUB_TIMEOUT=2 )\nGRUB_TIMEOUT=1\n", False),
    # exit and return end a subshell: with a status not 0 (its low 8 bits), or one sh takes for no number, it fails
    ("( exit 3 )\nGRUB_TIMEOUT=1\n", True), ("( return 1 )\nGRUB_TIMEOUT=1\n", True), ("( ( exit -1 ) )\nGRUB_TIMEOUT=1\n", True),
    ("( exit 256 ); ( return -0 ); ( exit +0 ); ( exit 1 ) || :; ( return 2 ) | :\nGRUB_TIMEOUT=1\n", False),
])
def test_a_group_that_fails_stops_sh_where_its_status_counts(text, stops):
    """A subshell or a { } group in which a command certainly fails (false under set -e, ${B?}, a
    redirection that names no file) stops sh unless a ||, a &&, a | or a ! keeps its status from
    counting (an expansion's error in a { } group stops sh whatever follows it); so does a subshell
    that exit or return ends with a status not 0.  The reader went on past every one of them; and
    it took "! false" for a false that stops sh."""
    assert (sh_real(text) is None) is stops
    assert_timeout_as_sh_reads_it(text)


@pytest.mark.parametrize("text,stops", [
    ("GRUB_TIMEOUT=1\n[ -n \"$B\" ] && GRUB_TIMEOUT=2\n", True), ("[ -n \"$B\" ] && GRUB_TIMEOUT=2\n:\n", False),
    ("A=\n[ \"$A\" = y ] && GRUB_TIMEOUT=2", True), ("A=y\n[ \"$A\" = y ] && GRUB_TIMEOUT=2\n", False),
    ("GRUB_TIMEOUT=1\nfalse && GRUB_TIMEOUT=2 # off\n\n", True), ("test $A\n", True), ("! true\n", True),
    ("[ 3 -lt 2 ] || GRUB_TIMEOUT=1\n", False), ("[ -n x\n", True), ("A=1 [ ! \"$A\" ] || test 2 -ge 01\n", False),
    ("set +e\nfalse && GRUB_TIMEOUT=1\n", False), ("false &\n", False), ("GRUB_TIMEOUT=1\nreturn 0\nfalse\n", False),
    ("false() { :; }\nfalse\nGRUB_TIMEOUT=1\n", False), ("true() { false; }\ntrue || :\n", False),
    ("A=1 :; ( false ) || [ \"$A\" ] && A=2\n", False), ("{ false; } || GRUB_TIMEOUT=1\n", False),
    # a test that fails, not in a list, stops sh there; so does a false a list certainly runs
    ("A=1\n[ -n \"$B\" ]\nGRUB_TIMEOUT=2\n", True), ("! [ -n \"$B\" ]\n{ test 1 -gt 2; } || :\nGRUB_TIMEOUT=2\n", False),
    ("{ test 1 -gt 2; }\nGRUB_TIMEOUT=2\n", True), ("true && false\nGRUB_TIMEOUT=1\n", True),
    # a return without a status returns the last command's
    ("GRUB_TIMEOUT=1\nfalse || return\nGRUB_TIMEOUT=2\n", True), ("GRUB_TIMEOUT=1\ntrue || return\nGRUB_TIMEOUT=2\n", False),
    ("false && GRUB_TIMEOUT=1; $A\n", False),   # a command of no words (the fuzz): 0
])
def test_a_file_whose_last_command_fails_stops_grub_mkconfig(text, stops):
    """grub-mkconfig sources each file under set -e, and "." returns the status of the file's last
    command: a file ending in a list whose test fails ("[ -n "$X" ] && ..." with X empty) stops it,
    with nothing said; a test that fails stops it where it is no list's.  The reader went on; it now
    names the line where it knows the status (of assignments, ":", true, false, export, readonly,
    and "[" or test of strings and integers).  And a function named false is what "false" runs: the
    reader took it for a false that stops sh."""
    assert (sh_real(text) is None) is stops
    assert_timeout_as_sh_reads_it(text)


@pytest.mark.parametrize("text", [
    "A=x && # c\nA=y\n", "A=x |\n\nA=y\n", "A=x ||\n  # c\n  A=y\n", "A=x &&\n\n# c\n\nA=y\nB=1\n",
    "false ||\n\n{ A=1; }\n", "A=1 | # c\n\n B=2\n",
])
def test_the_command_after_an_operator_may_follow_blank_and_comment_rows(text):
    """After "&&", "||" or "|", sh reads on past newlines, blank rows and comments to the command:
    the reader ended the list at a blank row, and the line at a comment after the operator (the
    command after "A=x && # c" was lost; "A=x |", a blank row and "A=y" gave A=y, which sh runs in
    a subshell)."""
    real = sh_real(text)
    variables, dummy = bootloader.parse_defaults(text, "g")
    assert dict((name, value) for name, value in variables.items() if not isinstance(value, bootloader.Unknown)) == real


@pytest.mark.parametrize("text,included,stops", [
    ("GRUB_TIMEOUT=1\n. @INC@\nGRUB_TIMEOUT=2\n", "[ -n \"$B\" ] && A=1\n", True),
    ("GRUB_TIMEOUT=1\n. @INC@ || :\nGRUB_TIMEOUT=2\n", "[ -n \"$B\" ] && A=1\n", False),
    ("GRUB_TIMEOUT=1\nfalse || . @INC@\nGRUB_TIMEOUT=2\n", "", False),   # no command: 0
    ("GRUB_TIMEOUT=1\n. @INC@\n", "false\n", True), ("GRUB_TIMEOUT=1\n. @INC@ && GRUB_TIMEOUT=$A\n", "A=3\n", False),
])
def test_a_file_sourced_returns_its_last_status(text, included, stops):
    """"." returns the status of the sourced file's last command: not 0, it stops sh under set -e."""
    text, inc, real = sh_sourcing(text, included)
    assert (real is None) is stops
    if stops:
        with pytest.raises(ConfigError, match="status not 0|false fails here"):
            bootloader.parse_defaults(text, "g", sourced={inc: included}.get)
    else:
        assert bootloader.parse_defaults(text, "g", sourced={inc: included}.get)[0]["GRUB_TIMEOUT"] == real["GRUB_TIMEOUT"]


TEST_ARGUMENT = st.sampled_from(["", "x", "-n", "-z", "!", "(", ")", "=", "!=", "-eq", "-lt", "-ge", "1", "2", "-1", "01",
                                 "+1", "-0", "-a", "-o", "-e", "]", "1x", "99999999999999999999", "a b", "*"])


@given(arguments=st.lists(TEST_ARGUMENT, max_size=5))
def test_the_status_of_a_test_is_what_dash_gives(arguments):
    """The reader's status of "[" (of the arguments sh gives it) is dash's, wherever it tells one."""
    status = bootloader._test_status("[", arguments + ["]"], {})
    if status is not None:
        done = subprocess.run([SH, "-c", '[ "$@" ]', "sh"] + arguments, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=30, check=False)
        assert (done.returncode == 0) is status, arguments


def test_what_an_expansion_kept_as_written_assigns_is_known_only_to_sh():
    """${$#word}: the pattern is expanded, its ${B=w} assigning B (the dash fuzz): the reader kept
    the expansion as written, and B unset."""
    text = "GRUB_CMDLINE_LINUX=${$# >/dev/null\n{ GRUB_CMDLINE_LINUX=${B=w}; }\nA=${1:-$((GRUB_TIMEOUT=2))}\n"
    real = sh_real(text)
    variables, dummy = bootloader.parse_defaults(text, "g")
    assert real["B"] == "w" and isinstance(variables["B"], bootloader.Unknown)
    assert isinstance(variables["GRUB_TIMEOUT"], bootloader.Unknown)


@pytest.mark.parametrize("text,known", [
    ("false && {\nGRUB_TIMEOUT=1\n}\n:\n", {}), ("[ -e /nonexistent ] || { A=1; B=2; }\nGRUB_TIMEOUT=0\n", {"GRUB_TIMEOUT": "0"}),
    ("false || { A=1; B=2; }\nGRUB_TIMEOUT=0\n", {"A": "1", "B": "2", "GRUB_TIMEOUT": "0"}),   # it runs: false fails
    ("[ -n \"$A\" ] && {\nA=1\n{ B=2; }\n}\nGRUB_TIMEOUT=$A\n", {}),
    ("{ A=1 >/nonexistent/x; } || :\n{ { B=1 2>/nonexistent/x; }; } || :\n", {}),
    ("! { A=1 >/nonexistent/x; }\n{ B=1 >/nonexistent/x; B=2; } || :\n", {"B": "2"}),
    ("{\nA=1\n{ B=2; }\n} | :\n{\nGRUB_TIMEOUT=3\n}\n", {"GRUB_TIMEOUT": "3"}),
])
def test_what_a_group_that_may_not_run_assigns_is_known_only_to_sh(text, known):
    """A { } group after && or || may not run: the reader reported what it assigns from its second
    command on (or from its second row) as known.  Where a redirection in a group fails, a || after
    the group (or a ! before it) lets sh go on without the assignment: the reader kept it."""
    real = sh_real(text)
    variables, dummy = bootloader.parse_defaults(text, "g")
    assert dict((name, value) for name, value in variables.items() if not isinstance(value, bootloader.Unknown)) == known
    assert dict((name, value) for name, value in real.items() if name in known) == known
    assert set(real) <= set(variables)


@pytest.mark.parametrize("text,included,known", [
    ("A=1\nreturn\nA=2\n", None, {"A": "1"}),
    ("A=1\neval return; A=3\nA=2\nif\n", None, {"A": "1"}),   # sh reads no further: no syntax error
    ("A=1\nreturn 0 # \nA=2\nB='\n", None, {"A": "1"}),
    ("A=1\n[ -n \"$A\" ] && return\nB=2\n", None, {"A": "1"}),   # B: may be assigned or not
    ("A=1\n{ return; }; A=3\nA=2\n", None, {}),   # a group may be piped: A, only sh knows
    ("A=1\nreturn | :\nA=2\n", None, {"A": "2"}), ("A=1\n( return; A=3 ); B=$A\n", None, {"A": "1", "B": "1"}),
    ("set +e\nA=1\nreturn 1\nA=2\n", None, {"A": "1"}), ("A=5 return 0\nB=1\n", None, {"A": "5"}),
    ("A=1\n. @INC@\nB=$A\n", "A=2\nreturn\nA=3\n", {"A": "2", "B": "2"}),
    ("A=1\n. @INC@ || :\nB=$A\n", "A=2\nreturn 1 || :\nA=3\n", {"A": "2", "B": "2"}),
    ("A=1\n. @INC@\nB=$A\n", "{ A=4; eval 'return 0'; }\nA=3\n", {}),
    ("A=1\n. @INC@\nB=$A\n", "return\nA='\n", {"A": "1", "B": "1"}),
    ("A=1\n. @INC@\nB=$A\n", "A=2\n[ -e /nonexistent ] || return 0\nA=3\n", {}),
    ("A=1\n. @INC@\nB=$A\n", "A=2\n[ -z \"$A\" ] || return 0\nA=3\n", {"A": "2", "B": "2"}),   # A is set: it returns
    # what the file opens after a return that may run is never read where sh reads on
    ("A=1\n. @INC@\nGRUB_TIMEOUT=5\n", "A=2\n[ -n \"$A\" ] && return\n{\nB=3\n", {"A": "2", "GRUB_TIMEOUT": "5"}),
    ("A=1\n. @INC@\nGRUB_TIMEOUT=5\n", "A=2\n[ -n \"$A\" ] && return\nf() {\ncase x in\n", {"A": "2", "GRUB_TIMEOUT": "5"}),
])
def test_a_return_ends_the_file_sourced(text, included, known):
    """grub-mkconfig sources /etc/default/grub and each grub.d/*.cfg: a return outside a function
    ends that file, and where it may run, the rest of it assigns values only sh knows.  The reader
    refused every return."""
    text, inc, real = sh_sourcing(text, included)
    variables, dummy = bootloader.parse_defaults(text, "g", sourced={inc: included}.get)
    assert dict((name, value) for name, value in variables.items() if not isinstance(value, bootloader.Unknown)) == known
    assert dict((name, value) for name, value in real.items() if name in known) == known
    assert set(real) <= set(variables) and all(isinstance(variables[name], bootloader.Unknown)
                                               for name in set(variables) - set(real))


@pytest.mark.parametrize("text,known,unknown,stops", [
    ("set +e\nA=1 >\"\"\nB=2\n", {"B": "2"}, ["A"], False),
    ("A=1 >/nonexistent/x || :\nB=$A\n", {}, ["A", "B"], False),
    ("set +e\nA=1 2>&7\nB=$A\n", {}, ["A", "B"], False),
    ("A=1 >/dev/null 2>&1 <&- || :\nB=$A\n", {"A": "1", "B": "1"}, [], False),
    ("{\nA=1 2>>out\n}\nB=$A\n", {"A": "1", "B": "1"}, [], False),   # in a group: where it fails, sh stops
    # a special built-in's stops sh: where grub-mkconfig writes a grub.cfg, it opened
    ("set +e\nexport A=1 >/nonexistent/x\nB=2\n", {"A": "1", "B": "2"}, [], True),
])
def test_an_assignment_whose_redirection_may_fail_is_known_only_to_sh(text, known, unknown, stops):
    """Where a redirection fails, sh assigns nothing, and goes on under set +e or in a list.  The
    reader took every redirection for one that opens."""
    real = sh_real(text)
    variables, dummy = bootloader.parse_defaults(text, "g")
    assert sorted(name for name in variables if isinstance(variables[name], bootloader.Unknown)) == unknown
    assert dict((name, value) for name, value in variables.items() if name not in unknown) == known
    assert (real is None) is stops
    assert stops or dict((name, value) for name, value in real.items() if name not in unknown) == known


@pytest.mark.parametrize("text,known,stops", [
    ("A=1\n[ -e /nonexistent ] || exit 0\nB=2\n", {"A": "1", "B": "2"}, True),
    ("A=1\nif [ -z \"$A\" ]; then exit; fi\nB=2\n", {"A": "1", "B": "2"}, False),
    ("A=1\n( exit 0 ); exit | :; { exit 0; } | :\nB=2\n", {"A": "1", "B": "2"}, False),
    ("A=1\n[ -n \"$A\" ] || exec /bin/true\nB=2\n", {"A": "1", "B": "2"}, False),
])
def test_an_exit_that_may_run_is_where_grub_mkconfig_writes_nothing(text, known, stops):
    """Where it runs, grub-mkconfig ends without a grub.cfg: what the reader gives is what the
    grub.cfg it writes otherwise has.  The reader refused every exit."""
    real = sh_real(text)
    assert (real is None) is stops and real in (None, known)
    assert bootloader.parse_defaults(text, "g")[0] == known


@pytest.mark.parametrize("text,unknown", [
    ("f() { read A </dev/null; }\nA=1\nf\nB=$A\n", ["A", "B"]), ("f() { unset A; }\nA=1\nf\nB=${A-u}\n", ["A", "B"]),
    ("f() { for A in 2; do :; done; }\nf\nB=$A\n", ["A", "B"]), ("f() { getopts a A; }\nf\nB=$A\n", ["A", "B"]),
    ("g() { A=2; }\nf() { g; }\nf\nB=$A\n", ["A", "B"]), ("f() { g; }\ng() { A=2; }\nf\nB=$A\n", ["A", "B"]),
    ("f() { f; A=2; }\nf\nB=$A\n", ["A", "B"]),
    ("f() { $(echo read) A; }\nA=1\nf\nB=$A\n", ["A", "B"]),   # a command only sh knows, as where one runs
])
def test_a_call_assigns_what_the_built_ins_and_functions_its_body_runs_assign(text, unknown):
    """The reader kept only the body's own ``NAME=`` words: B=$A after a call was a known value,
    the one before the call."""
    variables, dummy = bootloader.parse_defaults(text, "g")
    assert sorted(name for name in NAMES if isinstance(variables.get(name), bootloader.Unknown)) == unknown


def test_what_a_called_function_makes_read_only_may_be_so():
    """readonly in a function's body holds once it is called (here sh stops); set there may turn
    set -e off: where read fails after it, the reader does not stop."""
    assert isinstance(bootloader.parse_defaults("f() { readonly A; }\nf\nA=1\n", "g")[0]["A"], bootloader.Unknown)
    assert bootloader.parse_defaults("f() { readonly A; }\nA=1\n", "g")[0] == {"A": "1"}
    assert bootloader.parse_defaults("f() { set +e; }\nreadonly B\nf\nread B\nA=1\n", "g")[0] == {"A": "1"}
    with pytest.raises(ConfigError, match="B is read only"):
        bootloader.parse_defaults("f() { :; }\nreadonly B\nf\nread B\n", "g")


def test_a_function_body_left_open_is_named():
    text = "A=1\nf() {\nGRUB_TIMEOUT=0\n"
    with pytest.raises(ConfigError, match=r"^/etc/default/grub:2: the body of the function f is not closed before the file ends"):
        bootloader.parse_defaults(text, "/etc/default/grub")
    errors = []
    assert sh_real(text, errors) is None
    assert "Syntax error" in errors[0]


@pytest.mark.parametrize("text,name", [
    ("B=1\nread -p B A </dev/null || :\n", "B"),     # B is the prompt
    ("B=1\nread -rpB A </dev/null || :\n", "B"),
    ("A=1\nread -- -r A </dev/null || :\n", "A"),    # sh stops at -r, no name
    ("A=1\nread -x A </dev/null || :\n", "A"),       # an option read does not know: an error
])
def test_read_assigns_the_names_after_its_options(text, name):
    """``read -p PROMPT NAME``: PROMPT was taken for a name, a value only sh knows."""
    real = sh_real(text)
    variables, dummy = bootloader.parse_defaults(text, "g")
    assert not isinstance(variables[name], bootloader.Unknown) and variables[name] == real[name] == "1"


@pytest.mark.parametrize("text,name,value,why", [
    ("A=1\nfor A in x y; do :; done\n", "A", "y", "for"),
    ("read -r A B </dev/null\n", "B", "", "read"),
    ("A=3\nif true; then unset A; fi\n", "A", "", "unset"),
    ("[ -e /etc/x ] && eval A=1 'B=2'\n", "B", "2", "after &&"),
    ("readonly B\n[ -e /etc/x ] || B=x\n", "B", "x", "read only"),
    # the command is what $(...) prints, if anything, then "unset": only sh knows
    ("A=1\n$(true) unset A\n", "A", "1", "named by a command only sh knows (set from a command's output)"),
    ("A=1\n$1 eval A=2\n", "A", "2", "named by a command only sh knows (set from a parameter"),
    # export's word is expanded before B= is assigned: from the shell's PID
    ("B=$$\nB= export C=$B\n", "C", "$$", "made from B, whose value only sh knows"),
])
def test_what_a_built_in_may_assign_is_known_only_to_sh(text, name, value, why):
    variables, dummy = bootloader.parse_defaults(text, "g")
    assert isinstance(variables[name], bootloader.Unknown) and variables[name] == value and why in variables[name].why


@pytest.mark.parametrize("text,known", [
    ("( readonly A )\nA=1\n", {"A": "1"}),     # made read only in a subshell: gone with it
    ("{ readonly A; } | :\nA=1\n", {"A": "1"}),
    ("( { readonly A; }; A=2 ) || :\nA=1\n", {"A": "1"}),
    ("false && readonly A\nA=1\n", {}),        # may be read only: A is a value only sh knows
    ("readonly A\nread -r A B </dev/null || :\n", {}),     # read fails at A: B is not assigned
])
def test_a_variable_is_read_only_where_sh_made_it_so(text, known):
    """A readonly in a subshell (or under a condition) was read only for the rest of the file: the
    next assignment was an error where sh goes on."""
    errors = []
    real = sh_real(text, errors)
    variables, dummy = bootloader.parse_defaults(text, "g")
    assert dict((name, value) for name, value in variables.items() if not isinstance(value, bootloader.Unknown)) == \
        known == dict((name, value) for name, value in real.items() if name in known), errors
    assert "B" not in variables and "B" not in real


@pytest.mark.parametrize("text", [
    "f() { GRUB_CMDLINE_LINUX=; GRUB_CMDLINE_LINUX=${quiet${A}; }\nGRUB_TIMEOUT=3\n",
    "true || A=${q${A}} ; GRUB_TIMEOUT=2\n",
    "true || A=${q$A; GRUB_TIMEOUT=1; }; GRUB_TIMEOUT=2\n",
    "true || A=${q:x${B}; GRUB_TIMEOUT=1\n",
    "true || A=${1x${B}; GRUB_TIMEOUT=1\n",
    'true || A=${q"a"; B=1; }; GRUB_TIMEOUT=2\n',
    'if false; then GRUB_CMDLINE_LINUX=${#${A%"*"}; fi\nGRUB_TIMEOUT=1\n',   # ${# then $: $#, the $ dropped
    # dash reads the parameter past backslash-newlines: ${ then $ (the { after it dropped)
    "if false; then GRUB_CMDLINE_LINUX=${\\\n${A}; fi\nGRUB_TIMEOUT=1\n",
    "GRUB_TIMEOUT=${\\\n\\\nB:-4}\n",
])
def test_a_bad_substitution_ends_where_dash_ends_it(text):
    """dash drops the character after a bad substitution's name (``${q$A`` reads on as ``${qA``):
    in ``${q${A}`` the brace of ${A} ends both.  The reader read on to a later brace, and took the
    function body above for one not closed."""
    assert_timeout_as_sh_reads_it(text)


@pytest.mark.parametrize("text", [
    "f() { A=1 $B}; GRUB_TIMEOUT=1; }\n",            # $B} expands to "}": no reserved word
    "f() { A=$${B:+y $B}; GRUB_TIMEOUT=1; }\n",
])
def test_a_reserved_word_is_one_as_written(text):
    """``$B}`` with B unset expands to ``}``, which closed the function body for the reader:
    sh knows reserved words before it expands anything."""
    assert_timeout_as_sh_reads_it(text)


@pytest.mark.parametrize("text,known", [
    ("A=x\nGRUB_CMDLINE_LINUX=$\\\n${\nGRUB_TIMEOUT=1\n", {"A": "x", "GRUB_TIMEOUT": "1"}),   # $$ and "{"
    ("A=x\nGRUB_CMDLINE_LINUX=$\\\n\\\n$\n", {"A": "x"}),
    ("A=x\nGRUB_CMDLINE_LINUX=$\\\n(\nB=1\n)\n", {"A": "x"}),   # a command substitution over rows
    ('A=x\nGRUB_CMDLINE_LINUX="$\\\n(: ")")"\nB=1\n', {"A": "x", "B": "1"}),
    ("GRUB_CMDLINE_LINUX=$\\\n{A:-\n}\nB=1\n", {"GRUB_CMDLINE_LINUX": "\n", "B": "1"}),
    ("A=x\nGRUB_CMDLINE_LINUX=$\\\n{A}\n", {"A": "x", "GRUB_CMDLINE_LINUX": "x"}),
])
def test_the_character_after_a_dollar_is_read_past_backslash_newlines(text, known):
    """dash reads past them (parser.c parsesub(): pgetc_eatbnl): ``$``, a backslash-newline and
    ``${`` is ``$$`` and ``{``, which the reader refused as an expansion not closed; ``$(`` over
    two rows was no command substitution, so a row in it was a command (B=1), and ``${`` over two
    rows ended at its first row."""
    variables, dummy = bootloader.parse_defaults(text, "g")
    assert dict((name, value) for name, value in variables.items() if not isinstance(value, bootloader.Unknown)) == known
    assert set(variables) - set(known) <= {"GRUB_CMDLINE_LINUX"}
    real = sh_real(text)
    assert dict((name, value) for name, value in real.items() if name in known) == known
    assert set(real) == set(variables)


@pytest.mark.parametrize("text,message", [
    ("A=${B?}\n", "g:1: B is not set: ${B?}: sh stops there"),
    ("B=\nA=\"${B:?empty}\"\n", "g:2: B is empty: ${B:?empty}: sh stops there"),
    ("A=${C:-${B?}}\n", "g:1: B is not set: ${B?}: sh stops there"),
    ("B=\nA=${B?}\nGRUB_TIMEOUT=1\n", None), ("C=1; A=${C:-${B?}}\n", None), ("true || A=${B?}\nGRUB_TIMEOUT=1\n", None),
    ("{ GRUB_TIMEOUT=${B?}; } | :\nA=1\n", None),   # the group runs in a subshell, which the error stops alone
])
def test_an_expansion_of_a_parameter_not_set_that_must_be_is_an_error(text, message):
    """``${B?}`` with B unset stops sh (and grub-mkconfig): the reader took it for ``${B-}``."""
    errors = []
    real = sh_real(text, errors)
    if message:
        assert real is None and "B: " in errors[0]
        with pytest.raises(ConfigError, match="^" + re.escape(message)):
            bootloader.parse_defaults(text, "g")
    else:
        variables, dummy = bootloader.parse_defaults(text, "g")
        assert dict((name, value) for name, value in variables.items()
                    if name in NAMES and not isinstance(value, bootloader.Unknown)) == real


@pytest.mark.parametrize("text,assigned", [(": $((A=4))\nB=$A\n", "A"), ("B=$((A+=2))\n", "A"),
                                           ('B="x$((A<<=1))"\n', "A"), ("B=$(( (A=2) ))\n", "A")])
def test_what_an_arithmetic_expansion_assigns_is_known_only_to_sh(text, assigned):
    """The reader does not evaluate it: ``$((A=4))`` left A as it was (unset, so B=$A was a known
    "", sh's 4), and the ``<<`` of a shift was taken for a here-document."""
    variables, dummy = bootloader.parse_defaults(text, "g")
    assert isinstance(variables[assigned], bootloader.Unknown) and isinstance(variables["B"], bootloader.Unknown)
    base = tempfile.mkdtemp()
    try:
        assert assigned in sh_variables(base, text)
    finally:
        shutil.rmtree(base)


@pytest.mark.parametrize("text", ['GRUB_CMDLINE_LINUX="quiet"\nGRUB_CMDLINE_LINUX+=" console=ttyS0"\n',
                                  'GRUB_CMDLINE_LINUX+=" console=ttyS0" GRUB_TIMEOUT=0\n'])
def test_an_append_of_bash_is_known_only_to_sh(text):
    """dash (Debian's /bin/sh) runs ``NAME+=`` as a command it does not find, and grub-mkconfig
    stops; bash (Red Hat's) appends.  The reader took it for a command and kept "quiet"."""
    base, errors = tempfile.mkdtemp(), []
    try:
        assert sh_variables(base, text, errors) is None and "not found" in errors[0]
    finally:
        shutil.rmtree(base)
    variables, dummy = bootloader.parse_defaults(text, "g")
    value = variables["GRUB_CMDLINE_LINUX"]
    assert isinstance(value, bootloader.Unknown) and value.endswith(" console=ttyS0") and "bash appends" in value.why
    assert all(isinstance(value, bootloader.Unknown) for value in variables.values())


def assert_timeout_as_sh_reads_it(text):
    """GRUB_TIMEOUT after ``text`` is what sh makes of it; where sh fails, the reader refuses it."""
    errors = []
    real = sh_real(text, errors)
    if real is None:
        with pytest.raises(ConfigError):
            bootloader.parse_defaults(text, "g")
        return
    variables, dummy = bootloader.parse_defaults(text, "g")
    assert variables.get("GRUB_TIMEOUT") == real.get("GRUB_TIMEOUT"), errors


@pytest.mark.parametrize("text,message", [
    ("A=1\n. /etc/default/grub.local\n", "g:2: the file sourced here (. /etc/default/grub.local) is not read"),
    ("A=1\n. grub.local\n", "g:2: the file sourced here (. grub.local) is not read: sh looks a name without a '/' up in PATH"),
    ("cd /etc/default\n. ./grub.local\n", "g:2: the file sourced here (. ./grub.local) is not read: sh reads a relative path "
                                          "from the directory grub-mkconfig runs in"),
    ("A=1\nreturn 3\nA=2\n", "g:2: return 3: a status not 0 under set -e: sh stops"),
    ("return x\n", "g:1: return x: sh takes no such number (Illegal number) and stops"),
    ("A=1 >\"$B\"\n", "g:1: a redirection here names no file (it fails): sh stops there"),
    ("A=1\ncommand false >/dev/null\n", "g:2: false fails here under set -e (grub-mkconfig's): sh stops there"),
    ("A=1\n. /r\n", "g:2: the file /r, line 1: return 2147483648: sh takes no such number"),
    ("f() { . /n; }\nA=1\nf\n", "g:3: the function f runs ., which the reader does not follow where f is called"),
    ("g() { eval B=1; }\nf() { g; }\nf\n", "g:3: the function g runs eval, which the reader does not follow where f is"),
    ("exit 0\n", "g:1: exit here stops sh"),
    ("exec /bin/true\n", "g:1: exec runs another program in grub-mkconfig's place"),
    ("eval \"$(cat /etc/grub.extra)\"\n", "g:1: eval runs a text set from a command's output"),
    ("A='eval $A'\neval $A\n", "g:2: eval and . run one another more than 16 deep"),
    (". /l\n", "g:1: eval and . run one another more than 16 deep"),
    (". /m\n", "g:1: it sources /m, which is not there: sh stops"),
    ("A=1\n. /n\n", "g:2: the file /n, line 2: exit here stops sh"),
    ("A=1\n. /q\n", "g:2: the file /q, line 1: a quote is not closed"),
    ("readonly A=1\nunset A\n", "g:2: A is read only: sh stops"),
    ("{ readonly A; }\nA=1\n", "g:2: A is read only: sh stops"),
    ("readonly B\nread -r A B\n", "g:2: B is read only: read fails there, and grub-mkconfig, which runs with set -e, stops"),
    ("A=1\nGRUB_CMDLINE_LINUX=${A/1/2}\n", "g:2: ${A/1/2} is a bad substitution: sh stops"),
    ("eval \"A='x\"\n", "g:1: the text eval runs: a quote is not closed"),
    ("alias x='GRUB_TIMEOUT=0'\nx\n", "g:2: x is an alias here: sh reads the words of its value in its place"),
    ("[ -z \"$A\" ] && alias x='GRUB_TIMEOUT=0'\nx\n", "g:2: x is an alias here"),
])
def test_a_built_in_the_reader_cannot_follow_is_named(text, message):
    files = {"/l": ". /l\n", "/n": "A=2\nexit\n", "/q": "A='\n", "/r": "return 2147483648\n"}
    with pytest.raises(ConfigError, match="^" + re.escape(message)):
        # without a reader of the files it sources, a "." is an error
        bootloader.parse_defaults(text, "g", sourced=None if message.endswith("is not read") else files.get)


@pytest.mark.parametrize("text,line", [
    ("(\nB=1\n", "g:1"), ("A=1\nif true; then\nB=1\n", "g:2"), ("{ A=1; }\n{\nB=1\n", "g:2"),
    ("case x in x) B=1;;\n", "g:1"), ("while false; do\n:\n", "g:1"), ("# a comment \\\n(\nB=1\n", "g:2"),
    ('eval "if true; then"\n', "g:1: the text eval runs"), ("A=1\n. @INC@\n", "g:2: the file @INC@, line 2"),
])
def test_a_compound_command_not_closed_before_the_file_ends_is_named(text, line):
    """sh stops with a syntax error, and grub-mkconfig with it: the reader went on and gave the
    values assigned inside it (B=1 in ``{``), as if the file ended the command."""
    base, errors, included = tempfile.mkdtemp(), [], "A=2\ncase $A in 2)\n"
    text, line = text.replace("@INC@", os.path.join(base, "inc")), line.replace("@INC@", os.path.join(base, "inc"))
    try:
        assert sh_variables(base, text, errors, included) is None and "Syntax error" in errors[0]
    finally:
        shutil.rmtree(base)
    with pytest.raises(ConfigError, match="^%s: a compound command .* is not closed before the file ends" % re.escape(line)):
        bootloader.parse_defaults(text, "g", sourced={os.path.join(base, "inc"): included}.get)


def test_the_shells_pid_before_a_length_is_known_only_to_sh():
    """``$${#A}`` is $$ and ``{#A}``: the length taken out first left a known "$"."""
    variables, dummy = bootloader.parse_defaults("GRUB_CMDLINE_LINUX=$${#A}\n", "/etc/default/grub")
    assert isinstance(variables["GRUB_CMDLINE_LINUX"], bootloader.Unknown)


@pytest.mark.parametrize("text", ["A=$(\nB=1\n)\n", "A=`:\nB=1\n`\n", 'A="$(: "\nB=1\n")"\n'])
def test_a_command_substitution_over_several_rows_is_one_command(text):
    """Its rows were lines of their own: B=1 in it was assigned."""
    variables, dummy = bootloader.parse_defaults(text, "/etc/default/grub")
    assert list(variables) == ["A"] and isinstance(variables["A"], bootloader.Unknown)
    base = tempfile.mkdtemp()
    try:
        assert sh_variables(base, text) == {"A": ""}
    finally:
        shutil.rmtree(base)
