"""Hostile inputs that are handled correctly (expected to pass)."""
import gzip
import os
import sys
import time
import pytest
from hostile import alarm, put
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakesys
from ansible_collections.guestready.gce.plugins.module_utils import bootconfig, kconfig, kconfig_parser
from ansible_collections.guestready.gce.plugins.module_utils import sysfs as reader, guest_devices
from ansible_collections.guestready.gce.plugins.module_utils.target import Target
from ansible_collections.guestready.gce.plugins.modules import compliance_info


def gce(run_module, root):
    from test_gce_settings import by_id
    with alarm(30):
        out = run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}})
    assert out["rc"] == 0
    return by_id(out)


def test_defaults_link_loop_unknown(tmp_path, run_module):
    from test_gce_settings import debian_image
    root = debian_image(tmp_path / "i")
    os.unlink(os.path.join(root, "etc/default/grub"))
    os.symlink("grub", os.path.join(root, "etc/default/grub"))
    r = gce(run_module, root)["GCE-BOOT-SERIAL-CONSOLE"]
    assert r["status"] == "unknown" and "symbolic links" in r["message"], r["message"]


def test_bls_fifo_skipped_as_grub_skips_it(tmp_path, run_module):
    """GRUB's blscfg cannot open a FIFO as an entry and goes on without it: the menu is judged
    from what is left (here only the defaults, without console=ttyS0), never by reading the FIFO."""
    from test_gce_settings import debian_image
    root = debian_image(tmp_path / "i")
    os.makedirs(os.path.join(root, "boot/loader/entries"))
    os.mkfifo(os.path.join(root, "boot/loader/entries/x.conf"))
    put(root, "/boot/grub/grub.cfg", "blscfg\n")
    r = gce(run_module, root)["GCE-BOOT-SERIAL-CONSOLE"]
    assert r["status"] == "fail" and "x.conf" not in r["message"], r


@pytest.mark.parametrize("data, word", [(b"linux /v console=ttyS0\0\n", "binary"),
                                        (b"#" * (33 * 1024 * 1024), "larger than")])
def test_grub_cfg_garbage_unknown(tmp_path, run_module, data, word):
    from test_gce_settings import debian_image
    root = debian_image(tmp_path / "i")
    put(root, "/boot/grub/grub.cfg", data)
    r = gce(run_module, root)["GCE-BOOT-SERIAL-CONSOLE"]
    assert r["status"] == "unknown" and word in r["message"], r["message"]


def test_grub_cfg_link_outside_stays_inside(tmp_path, run_module):
    from test_gce_settings import debian_image
    root = debian_image(tmp_path / "i")
    outside = tmp_path / "outside.cfg"
    outside.write_text("menuentry x {\n linux /v SECRET-OUTSIDE console=ttyS0\n}\n")
    os.unlink(os.path.join(root, "boot/grub/grub.cfg"))
    os.symlink(str(outside), os.path.join(root, "boot/grub/grub.cfg"))
    found = gce(run_module, root)
    assert "SECRET-OUTSIDE" not in repr(found)


def test_nested_braces_fast():
    text = "submenu a {\n" * 200000 + "}\n" * 300000 + "menuentry 'x' {\n linux /v\n"
    with alarm(30):
        menu = bootconfig.parse_grub_cfg(text)
        entry = bootconfig.default_entry(menu)
    assert entry is not None


def test_sysfs_link_loops_and_outside(tmp_path):
    m = fakesys.Manifest.load("gce-tap")
    sysfs = m.build(str(tmp_path / "sys"))
    d = os.path.join(sysfs, "bus/pci/devices")
    os.symlink("0000:00:99.0", os.path.join(d, "0000:00:99.0"))
    os.symlink("/etc", os.path.join(d, "0000:00:98.0"))
    os.symlink("../../../../../../../../../../etc", os.path.join(d, "0000:00:97.0"))
    os.mkfifo(os.path.join(sysfs, "devices/system/cpu/possible.fifo"))
    with alarm(30):
        check = guest_devices.LiveCheck(sysfs)
    slots = dict((x["slot"], x) for x in check.pci)
    assert slots["0000:00:99.0"]["vendor"] is None and slots["0000:00:99.0"]["real"] is None
    assert slots["0000:00:98.0"]["real"] in (None, "/etc")


def test_huge_pci_config_and_attr(tmp_path):
    m = fakesys.Manifest.load("gce-tap")
    sysfs = m.build(str(tmp_path / "sys"))
    put(sysfs, "devices/pci0000:00/0000:00:04.0/config", b"\xff" * 100000)
    put(sysfs, "devices/pci0000:00/0000:00:04.0/vendor", "0x1af4" + " " * 100000)
    s = reader.Sysfs(sysfs)
    r = reader.pci_msix(s, "/bus/pci/devices/0000:00:04.0")
    assert r["state"] == "unreadable" and "larger than" in r["error"]


def test_kconfig_garbage(tmp_path):
    t = Target(str(tmp_path))
    cases = {"/a": b"\x1f\x8b" + os.urandom(5000), "/b": os.urandom(5000), "/c": gzip.compress(b"CONFIG_A=y\n")[:-9],
             "/d": b"CONFIG_A=y\nCONFIG_A=n\n", "/e": b"\xfd7zXZ\x00" + b"x" * 100}
    for path, data in cases.items():
        put(tmp_path, path, data)
        with pytest.raises(kconfig_parser.KconfigError):
            kconfig_parser.read(path, target=t)
    os.mkfifo(str(tmp_path / "fifo"))
    with alarm(30):
        with pytest.raises(kconfig_parser.KconfigError):
            kconfig_parser.read("/fifo", target=t)


def test_kconfig_million_lines(tmp_path):
    # 17 MB, far over any real configuration (< 0.5 MiB): refused by its size, before parsing
    lines = b"".join(b"CONFIG_OPT_%d=y\n" % i for i in range(1000000))
    put(tmp_path, "/boot/config-6.1.0-1", lines)
    start = time.time()
    with alarm(60):
        with pytest.raises(kconfig_parser.KconfigError, match="larger than 8 MiB"):
            kconfig_parser.read("/boot/config-6.1.0-1", target=Target(str(tmp_path)))
    print("million", time.time() - start)
    # as many lines as the size limit allows are parsed in time
    put(tmp_path, "/boot/config-6.1.0-1", lines[:kconfig_parser.MAX_SIZE].rsplit(b"\n", 1)[0] + b"\n")
    with alarm(60):
        assert kconfig_parser.read("/boot/config-6.1.0-1", target=Target(str(tmp_path))).get("OPT_0") == "y"


def test_release_names_odd(tmp_path):
    for name in ("6.1.0\nevil", "..evil", "6.1.0 x"):
        put(tmp_path, "/lib/modules/%s/config" % name, "CONFIG_A=y\n")
    os.symlink("/etc/passwd", str(tmp_path / "boot-config"))
    os.makedirs(str(tmp_path / "boot"), exist_ok=True)
    os.symlink("../../../../../../etc/shadow", str(tmp_path / "boot/config-9.9"))
    found = kconfig.installed_configs(Target(str(tmp_path)))
    # every odd name is a release of its own, read where it is; the links out of the root are not
    assert sorted(found) == sorted((name, "/lib/modules/%s/config" % name)
                                   for name in ("6.1.0\nevil", "..evil", "6.1.0 x")), found
