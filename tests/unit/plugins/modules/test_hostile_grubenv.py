"""A grubenv GRUB itself rejects (no '# GRUB Environment Block' signature:
grub-core/lib/envblk.c grub_envblk_open -> "invalid environment block") is
still read for $kernelopts."""
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ansible_collections.guestready.gce.plugins.modules import compliance_info


def test_a_grubenv_without_its_signature_is_ignored_as_grub_does(tmp_path, run_module):
    from test_gce_settings import red_hat_image, by_id, put
    root = red_hat_image(tmp_path / "image")
    put(root, "/etc/default/grub", 'GRUB_TIMEOUT=1\nGRUB_CMDLINE_LINUX="console=ttyS0,38400n8"\n')
    os.unlink(os.path.join(root, "boot/loader/entries/a-5.15.conf"))
    # garbage: no signature line, so GRUB's load_env refuses the whole block
    env = "kernelopts=root=/dev/vda ro console=ttyS0,38400n8\n"
    put(root, "/boot/grub2/grubenv", env + "#" * (1024 - len(env)))
    out = run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}})
    res = by_id(out)["GCE-BOOT-SERIAL-CONSOLE"]
    print(res["status"], res["message"], res["evidence"].get("entries"))
    assert res["status"] != "pass", res["message"]
