"""grub.cfg timeouts GRUB obeys but cfg_timeouts() does not see."""
import os
import sys
import pytest
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ansible_collections.guestready.gce.plugins.module_utils import bootloader
from ansible_collections.guestready.gce.plugins.module_utils.target import Target
from ansible_collections.guestready.gce.plugins.modules import compliance_info


@pytest.mark.parametrize("line", ["set timeout=30 # slow console", "set timeout='30'",
                                  "timeout=30", "set timeout=30;"])
def test_grub_cfg_timeouts_in_every_form_are_seen_and_fixed(tmp_path, run_module, line):
    from test_gce_settings import debian_image, by_id, put
    root = debian_image(tmp_path / "image")
    put(root, "/etc/default/grub", 'GRUB_TIMEOUT=0\nGRUB_CMDLINE_LINUX="console=ttyS0,38400n8"\n')
    put(root, "/boot/grub/grub.cfg", "%s\nmenuentry 'Debian' {\n\tlinux /boot/vmlinuz root=UUID=1 ro console=ttyS0\n}\n" % line)
    out = run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}})
    res = by_id(out)["GCE-BOOT-TIMEOUT"]
    assert res["status"] == "fail", res["message"]
    # harden lowers it in place (the line kept behind the marker), and then it passes
    from test_gce_settings import run, statuses
    assert run(run_module, root)["rc"] == 0
    with open(os.path.join(root, "boot/grub/grub.cfg")) as handle:
        text = handle.read()
    assert "# guestready.gce replaced (GCE-BOOT-TIMEOUT): %s\n" % line.strip() in text
    assert bootloader.GrubConfig(Target(root)).cfg_timeouts() == [(2, 0)]
    assert statuses(run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}}))[
        "GCE-BOOT-TIMEOUT"] == "pass"
