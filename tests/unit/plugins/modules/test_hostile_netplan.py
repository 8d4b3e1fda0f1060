"""netplan YAML subset reader on hostile files, through compliance_info."""
import os
import sys
import pytest
from hostile import alarm
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ansible_collections.guestready.gce.plugins.modules import compliance_info


def run(tmp_path, run_module, text):
    from test_gce_settings import debian_image, put
    root = debian_image(tmp_path / "image")
    put(root, "/etc/netplan/50-cloud.yaml", text)
    with alarm(30):
        return run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}})


@pytest.mark.parametrize("text", ["network:\n  version: 2\n  ethernets: {[eth0]: {dhcp4: true}}\n",
                                  "network: {{a: b}: 1}\n"])
def test_a_collection_as_a_mapping_key_is_an_error_not_a_traceback(tmp_path, run_module, text):
    out = run(tmp_path, run_module, text)   # TypeError: unhashable type
    assert out["rc"] == 0


def test_a_long_line_without_a_colon_is_read_in_linear_time(tmp_path, run_module):
    out = run(tmp_path, run_module, "network:\n  a" + " " * 400000 + "b\n")
    assert out["rc"] == 0
