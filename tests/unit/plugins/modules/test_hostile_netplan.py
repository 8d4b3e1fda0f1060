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


@pytest.mark.parametrize("text, where", [
    ("network: 1\n", "network"),
    ("network: [eth0]\n", "network"),
    ("network:\n  version: 2\n  ethernets: [eth0]\n", "network.ethernets"),
    ("network:\n  version: 2\n  ethernets:\n    eth0:\n      match: eth0\n      dhcp4: true\n", "network.ethernets.eth0.match"),
    ("network:\n  version: 2\n  ethernets:\n    eth0:\n      dhcp4: true\n      dhcp4-overrides: yes\n",
     "network.ethernets.eth0.dhcp4-overrides")])
def test_a_scalar_or_a_list_where_netplan_wants_a_mapping_names_the_file(tmp_path, run_module, text, where):
    # found by test_gce_settings_fuzz: AttributeError ('int' object has no attribute 'items')
    out = run(tmp_path, run_module, text)
    assert out["rc"] == 0, out.get("msg")
    result = dict((r["id"], r) for r in out["results"])["GCE-NET-DHCP"]
    assert result["status"] == "unknown" and "50-cloud.yaml: %s: expected a mapping" % where in result["message"], result


def test_ethernet_ids_that_read_as_a_number_or_null_beside_names(tmp_path, run_module):
    # found by test_gce_settings_fuzz: TypeError ('<' not supported between 'str' and 'int') sorting the IDs
    out = run(tmp_path, run_module, "network:\n  version: 2\n  ethernets:\n    1: {}\n    ~: {}\n"
              "    ens4: {dhcp4: true}\n")
    assert out["rc"] == 0, out.get("msg")
    assert dict((r["id"], r["status"]) for r in out["results"])["GCE-NET-DHCP"] == "pass"
