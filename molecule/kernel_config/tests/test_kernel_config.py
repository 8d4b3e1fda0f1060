"""Verifier of the kernel_config scenario: what kernel_config_info said about
the lab guest's running kernel (saved by converge.yml) against the guest's own
files, read again here independently:

* the kernel checked is the running one (uname -r), and Debian's kernel has
  no /proc/config.gz, so the check read /boot/config-<release>;
* for every result, the value reported for the deciding symbol is the value
  in that file, and the version/arch are the file's;
* every =m driver's status agrees with the guest's own lsinitramfs listing of
  the kernel's initramfs;
* the fragment written on the controller is the one returned.
"""

import json
import os
import re
import sys

EPHEMERAL = os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]
PROJECT = os.environ["MOLECULE_PROJECT_DIRECTORY"]
sys.path.insert(0, os.path.join(PROJECT, ".ansible", "collections"))

from ansible_collections.guestready.gce.plugins.module_utils import catalogue, kconfig_parser  # noqa: E402

MODULE = re.compile(r"^(.+)\.ko(?:\.(?:xz|zst|gz))?$")


def saved(host):
    name = host.backend.get_hostname()
    with open(os.path.join(EPHEMERAL, "kernel-config-%s.json" % name)) as handle:
        return name, json.load(handle)


def test_the_running_kernel_and_the_file_it_was_read_from(host):
    _, result = saved(host)
    release = host.check_output("uname -r")
    assert result["changed"] is False and result["kernel"] == release
    assert not host.file("/proc/config.gz").exists    # Debian: no CONFIG_IKCONFIG_PROC
    assert result["config"] == result["kernels"][0]["source"] == "/boot/config-%s" % release
    assert len(result["kernels"]) == 1 and len(result["results"]) == 18


def test_results_agree_with_the_guests_config_file(host):
    _, result = saved(host)
    path = "/boot/config-%s" % result["kernel"]
    config = kconfig_parser.parse_text(host.file(path).content.decode(), path)
    kernel = result["kernels"][0]
    assert kernel["version"] == catalogue.format_version(config.version)
    assert kernel["arch"] == config.arch == "x86_64"
    for item in result["results"]:
        if item["symbol"] and item["status"] != "not-applicable":
            value = config.get(item["symbol"])
            shown = "absent" if value is None else ("not set" if value == "n" else value)
            assert item["found"] == shown, (item["id"], item["message"])
    assert result["summary"]["fail"] == 0 and result["summary"]["unknown"] == 0


def test_module_statuses_agree_with_the_guests_initramfs(host):
    _, result = saved(host)
    image = "/boot/initrd.img-%s" % result["kernel"]
    listing = host.check_output("lsinitramfs %s" % image).split()
    names = set(MODULE.match(os.path.basename(p)).group(1).replace("-", "_")
                for p in listing if MODULE.match(os.path.basename(p)))
    initramfs = result["kernels"][0]["initramfs"]
    assert initramfs["path"] == image and initramfs["error"] is None
    # the collection's reader (lsinitramfs only serves what it cannot read), checked here
    # against the guest's own lsinitramfs listing
    assert initramfs["method"].startswith("python:zstd")
    modules = [r for r in result["results"] if r.get("found") == "m"]
    assert sorted(r["module"] for r in modules) == ["virtio_net", "virtio_pci", "virtio_scsi"]
    for item in modules:
        expected = "module-in-initramfs" if item["module"] in names else "module-missing-from-initramfs"
        assert item["status"] == expected, item["id"]


def test_fragment_on_the_controller(host):
    name, result = saved(host)
    with open(os.path.join(EPHEMERAL, "fragment-%s.config" % name)) as handle:
        assert handle.read() == result["fragment"]
    assert result["fragment"].endswith("# nothing to change: no KCONF-* requirement fails\n")
