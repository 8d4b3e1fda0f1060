"""str.splitlines() splits on \\x0b \\x0c \\x1c-\\x1e \\x85 \\u2028 too; sh, GRUB and
libmount split lines on '\\n' only: text inside a comment becomes a live line."""
import os
import sys
import pytest
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ansible_collections.guestready.gce.plugins.modules import compliance_info


@pytest.mark.parametrize("sep", ["\x0c", "\x1e", "\u2028"])
def test_a_comment_with_a_form_feed_stays_a_comment(tmp_path, run_module, sep):
    from test_gce_settings import debian_image, by_id, put
    root = debian_image(tmp_path / "image")
    # for /bin/sh the second line is ONE comment: GRUB_CMDLINE_LINUX stays ""
    put(root, "/etc/default/grub", 'GRUB_TIMEOUT=0\nGRUB_CMDLINE_LINUX=""\n'
        '# was:%sGRUB_CMDLINE_LINUX="console=ttyS0,38400n8"\n' % sep)
    put(root, "/boot/grub/grub.cfg", "menuentry 'Debian' {\n\tlinux /boot/vmlinuz root=UUID=1 ro console=ttyS0\n}\n")
    out = run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}})
    res = by_id(out)["GCE-BOOT-SERIAL-CONSOLE"]
    print(repr(sep), res["status"], res["message"])
    assert res["status"] != "pass", res["message"]


def test_an_fstab_comment_never_becomes_a_mount(tmp_path, run_module):
    from test_gce_settings import debian_image, put, run, read
    root = debian_image(tmp_path / "image")
    put(root, "/etc/fstab", "UUID=1 / ext4 errors=remount-ro 0 1\n"
        "# retired disk:\x0c/dev/sdb1 /data ext4 defaults 0 2\n")
    out = run(run_module, root)
    text = read(root, "/etc/fstab")
    print(out["rc"], repr(text))
    live = [l for l in text.split("\n") if l.strip() and not l.lstrip().startswith("#")]
    assert len(live) == 1, "apply turned a commented-out line into a mount: %r" % live
