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
