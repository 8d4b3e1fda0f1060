"""A unit's [Install] section in the image decides where apply makes links:
'Alias=' / 'WantedBy=' values with '/' or '..' reach any symlink of the image."""
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def test_an_alias_that_is_no_unit_name_makes_no_link(tmp_path, run_module):
    from test_gce_settings import debian_image, put, run
    root = debian_image(tmp_path / "image")
    put(root, "/lib/systemd/system/serial-getty@.service",
        "[Service]\nExecStart=/sbin/agetty\n[Install]\nWantedBy=getty.target\n"
        "Alias=../../../usr/bin/python3\n")
    os.makedirs(os.path.join(root, "usr/bin"), exist_ok=True)
    os.symlink("python3.11", os.path.join(root, "usr/bin/python3"))
    out = run(run_module, root)
    print(out["rc"], out.get("units_enabled"), out.get("errors"), out.get("msg"))
    value = os.readlink(os.path.join(root, "usr/bin/python3"))
    print("usr/bin/python3 ->", value)
    assert value == "python3.11", "apply replaced the image's /usr/bin/python3 link"


def test_a_preset_pattern_of_unclosed_brackets_is_matched_in_linear_time(tmp_path, run_module):
    # found by test_gce_settings_fuzz: fnmatch.translate looks for the ']' of every '[' to the
    # pattern's end; 40,000 unclosed '[!' took minutes, once per unit judged
    from hostile import alarm
    from test_gce_settings import debian_image, put
    from ansible_collections.guestready.gce.plugins.modules import compliance_info
    root = debian_image(tmp_path / "image")
    put(root, "/usr/lib/systemd/system-preset/90-systemd.preset", "enable " + "[!" * 40000 + "\ndisable *\n")
    with alarm(15):
        out = run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}})
    assert out["rc"] == 0, out.get("msg")


def test_fnmatchcase_matches_as_glibcs_fnmatch_does():
    """The programs whose patterns these are call glibc's fnmatch(3); Python's fnmatch answered
    otherwise for a backslash and '[^'.  (test_globs_real_fnmatch.py compares classes too.)"""
    import ctypes
    import platform
    import random
    import pytest
    from ansible_collections.guestready.gce.plugins.module_utils.globs import fnmatchcase
    if platform.libc_ver()[0] != "glibc":
        pytest.skip("needs glibc's fnmatch")
    libc_fnmatch = ctypes.CDLL("libc.so.6").fnmatch
    libc_fnmatch.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int]
    rng = random.Random(0)
    for dummy in range(20000):
        pattern = "".join(rng.choice("[]!*?a-b^\\") for dummy in range(rng.randrange(12)))
        name = "".join(rng.choice("[]!ab-^\\") for dummy in range(rng.randrange(6)))
        assert fnmatchcase(name, pattern) == (libc_fnmatch(pattern.encode(), name.encode(), 0) == 0), (name, pattern)
