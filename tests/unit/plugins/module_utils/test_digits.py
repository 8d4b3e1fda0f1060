"""Numbers in untrusted text: ASCII digits only, bounded length."""

import pytest

from ansible_collections.guestready.gce.plugins.module_utils import bootconfig, target
from ansible_collections.guestready.gce.plugins.module_utils.digits import ascii_int, bounded_int, kstrtouint


@pytest.mark.parametrize("text,number", [
    ("0", 0), ("42", 42), ("9" * 18, int("9" * 18)), ("9" * 19, None), ("", None), (None, None),
    ("\u00b2", None), ("1\u00b9", None), ("-1", None), ("+1", None), (" 1", None), ("1_0", None),
    ("\u0661", None)])   # Arabic-Indic one: int() would take it
def test_ascii_int(text, number):
    assert ascii_int(text) == number


def test_version_sort_key_of_a_boot_entry_takes_any_text():
    # a non-ASCII digit separates; a run of 5000 digits is a word, no costly int()
    assert bootconfig.version_key("6.1.0-\u00b3") == bootconfig.version_key("6.1.0")
    assert bootconfig.version_key("6.1.0-" + "1" * 5000)[3] == (-1, "1" * 5000)


def test_only_temporaries_in_the_writers_format_are_stale(tmp_path):
    # a pid of non-ASCII digits raised; a name not in _replace's format is someone's file
    (tmp_path / "etc").mkdir()
    kept = [tmp_path / "etc" / (target.TEMP_PREFIX + name) for name in
            ("fstab.\u00b2", "fstab.\u00b2.0123abcd", "fstab.orig", "fstab.99999999.ab", "fstab.1.0123ABCD")]
    stale = tmp_path / "etc" / (target.TEMP_PREFIX + "fstab.99999999.0123abcd")
    for path in kept + [stale]:
        path.write_text("x")
    removed = target.Target(str(tmp_path)).remove_stale_temporaries("/etc/fstab")
    assert removed == [str(stale)] and not stale.exists() and all(path.exists() for path in kept)


@pytest.mark.parametrize("text, number", [("4", 4), ("+4", 4), ("4\n", 4), ("010", 8), ("0x1f", 31), ("0", 0),
                                          ("4294967295", 2 ** 32 - 1), ("4294967296", None), ("-1", None),
                                          ("0o4", None), ("0b1", None), ("1_0", None), (" 4", None), ("4 ", None),
                                          ("\u0664", None), ("0x", None), ("", None), ("9" * 100000, None)])
def test_kstrtouint_reads_what_the_kernel_reads(text, number):
    assert kstrtouint(text) == number


def test_bounded_int_refuses_a_long_number_before_int_reads_it():
    assert bounded_int("0x10", 0) == 16 and bounded_int("-5") == -5
    with pytest.raises(ValueError):
        bounded_int("9" * (2 * 1024 * 1024), 0)
