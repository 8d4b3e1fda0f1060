"""compliance_info: the three areas in one module execution, the same records
as the area modules."""

import json
import os

import pytest

from ansible_collections.guestready.gce.plugins.module_utils.catalogue import CATALOGUE
from ansible_collections.guestready.gce.plugins.modules import (
    compliance_info, kernel_config_info, sysctl_baseline_info)
from test_kernel_config_info import CLOUD, SID, tree as kernel_tree

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "kconfig")
CONFIG = os.path.abspath(os.path.join(FIXTURES, "bookworm_amd64_cloud-amd64.config.gz"))


def image(tmp_path):
    root = tmp_path / "image"
    (root / "etc" / "sysctl.d").mkdir(parents=True)
    (root / "etc" / "sysctl.d" / "60-gce-network-security.conf").write_text("net.ipv4.ip_forward = 0\n")
    return str(root)


def test_two_areas_in_one_call_match_the_area_modules(tmp_path, run_module):
    root = image(tmp_path)
    kernel = {"source": "path", "path": CONFIG, "check_initramfs": False}
    waivers = {"SYSCTL-KPTR_RESTRICT": "kdump host", "KCONF-DEVKMEM": "vendor kernel"}
    out = run_module(compliance_info, {"areas": ["kernel_config", "sysctl"], "sysctl": {"root": root},
                                       "kernel_config": kernel, "waivers": waivers})
    assert out["rc"] == 0 and out["changed"] is False
    ids = [r["id"] for r in out["results"]]
    assert ids == [e["id"] for e in CATALOGUE if e["area"] not in ("hardware", "gce", "image")], "catalogue order"
    alone = run_module(sysctl_baseline_info, {"root": root, "waivers": waivers})["results"]
    alone += run_module(kernel_config_info, dict(kernel, waivers=waivers))["results"]
    assert sorted(out["results"], key=lambda r: r["id"]) == sorted(alone, key=lambda r: r["id"])
    assert out["summary"]["waived"] == 2
    assert set(out["areas"]) == {"sysctl", "kernel_config"}
    assert out["areas"]["kernel_config"]["config"] == CONFIG and "fragment" in out["areas"]["kernel_config"]


def test_bad_area_options_name_the_area(tmp_path, run_module):
    out = run_module(compliance_info, {"areas": ["kernel_config"], "kernel_config": {"source": "path"}})
    assert out["failed"] is True
    assert out["msg"].startswith("kernel_config: ") and "path" in out["msg"]
    out = run_module(compliance_info, {"areas": ["sysctl"], "sysctl": {"bogus": 1}})
    assert out["failed"] is True and out["msg"].startswith("sysctl: ") and "bogus" in out["msg"]


def test_an_area_that_cannot_be_checked_keeps_the_others(tmp_path, run_module):
    root = image(tmp_path)
    out = run_module(compliance_info, {"areas": ["sysctl", "kernel_config"], "sysctl": {"root": root},
                                       "kernel_config": {"source": "path", "path": str(tmp_path / "nope")}})
    assert out["failed"] is True and out["msg"].startswith("kernel_config: ")
    assert len(out["results"]) == 22 and "error" in out["areas"]["kernel_config"]


def test_the_chosen_kernels_records_are_not_repeated_in_areas(tmp_path, run_module):
    # bookworm's cloud kernel (the tree's default) and sid's
    root = kernel_tree(tmp_path)
    alone = run_module(kernel_config_info, {"source": "installed", "root": root})
    for release, results_format in ((None, "list"), (SID, "json")):
        out = run_module(compliance_info, {"areas": ["kernel_config"], "results_format": results_format,
                                           "kernel_config": {"source": "installed", "root": root,
                                                             "kernel_release": release}})
        assert out["rc"] == 0, out
        if results_format == "json":
            out.update(json.loads(out.pop("results_json")))
        details = out["areas"]["kernel_config"]
        chosen = release or CLOUD
        other = SID if chosen == CLOUD else CLOUD
        assert details["kernel"] == chosen
        kernels = dict((kernel["release"], kernel) for kernel in details["kernels"])
        assert set(kernels) == {CLOUD, SID}
        # the chosen kernel's records are the answer's own; another kernel's stay in its entry
        assert "results" not in kernels[chosen] and kernels[chosen]["summary"] == out["summary"]
        # (the same judgements: a second listing of an initramfs says it came from the run cache)
        judged = [(r["id"], r["status"], r["actual"]) for k in alone["kernels"] if k["release"] == other
                  for r in k["results"]]
        assert [(r["id"], r["status"], r["actual"]) for r in kernels[other]["results"]] == judged
        assert len(judged) == len(out["results"]) == 18


def test_both_areas_judge_the_same_default_kernel_of_a_rhel_tree(tmp_path, run_module):
    # RHEL 9.0's and 9.4's kernels side by side, no /vmlinuz link: 9.4's is the default
    import trees
    root = trees.rhel9(tmp_path / "rhel9")
    out = run_module(compliance_info, {"areas": ["kernel_config", "hardware"], "kernel_config": {"root": root},
                                       "hardware": {"root": root}})
    assert out["areas"]["kernel_config"]["kernel"] == trees.RHEL94
    assert out["areas"]["hardware"]["kernel"]["kernel_release"] == trees.RHEL94
    mmap = [r for r in out["results"] if r["id"] == "KCONF-DEFAULT_MMAP_MIN_ADDR"][0]
    assert mmap["actual"] == "65536"


def test_both_areas_count_the_modules_a_driver_needs_in_the_initramfs(tmp_path, run_module, monkeypatch):
    # Debian 12's generic kernel: virtio_scsi and virtio_pci are in the initramfs,
    # scsi_mod, virtio and virtio_ring (modules.dep: what they need) are not
    import trees
    from ansible_collections.guestready.gce.plugins.module_utils import initramfs
    release = "6.1.0-50-amd64"
    root = tmp_path / "debian"
    trees.install(str(root), release)
    (root / "boot" / ("vmlinuz-" + release)).write_text("kernel")
    (root / "boot" / ("initrd.img-" + release)).write_bytes(b"\x28\xb5\x2f\xfd")
    carried = trees.initramfs_modules(release) - {"scsi_mod", "virtio", "virtio_ring"}
    assert {"virtio_scsi", "virtio_pci"} <= carried
    monkeypatch.setattr(initramfs, "kernel_modules", lambda path, target=None, release=None: (set(carried), "fixture", None))
    out = run_module(compliance_info, {"areas": ["kernel_config", "hardware"], "kernel_config": {"root": str(root)},
                                       "hardware": {"root": str(root)}})
    results = dict((r["id"], r) for r in out["results"])
    assert results["HW-SCSI-VIRTIO"]["status"] == "module-missing-from-initramfs"
    kconf = results["KCONF-SCSI_VIRTIO"]
    assert kconf["status"] == "module-missing-from-initramfs"
    assert kconf["message"].endswith("but scsi_mod, virtio_ring, virtio, which it needs, are not")
    assert "scsi_mod virtio_ring virtio" in kconf["hint"]


@pytest.mark.parametrize("table, spoil, said", [
    ("modules.dep", os.mkfifo, "modules.dep: is a FIFO (named pipe), not a regular file"),
    ("modules.dep", lambda path: os.symlink(os.path.basename(path), path), "modules.dep: too many levels of symbolic links"),
    ("modules.builtin", os.mkdir, "modules.builtin: is a directory, not a regular file"),
])
def test_a_modules_table_that_cannot_be_read_is_not_taken_for_an_absent_one(tmp_path, run_module, monkeypatch,
                                                                            table, spoil, said):
    # the modules a driver needs are unknown, not "not checked, so present"
    import trees
    from ansible_collections.guestready.gce.plugins.module_utils import initramfs
    release = "6.1.0-50-amd64"
    root = tmp_path / "debian"
    path = os.path.join(trees.install(str(root), release), table)
    os.unlink(path)
    spoil(path)
    (root / "boot" / ("vmlinuz-" + release)).write_text("kernel")
    (root / "boot" / ("initrd.img-" + release)).write_bytes(b"\x28\xb5\x2f\xfd")
    carried = trees.initramfs_modules(release) - {"scsi_mod", "virtio", "virtio_ring"}
    monkeypatch.setattr(initramfs, "kernel_modules", lambda path, target=None, release=None: (set(carried), "fixture", None))
    out = run_module(kernel_config_info, {"source": "installed", "root": str(root)})
    results = dict((r["id"], r) for r in out["results"])
    kconf = results["KCONF-SCSI_VIRTIO"]
    assert kconf["status"] == "unknown", kconf
    assert said in kconf["message"] and "modules.dep not found" not in kconf["message"]
    assert "virtio_scsi, present in" in kconf["message"] and "depmod" in kconf["remediation"]
    # a module missing itself is missing whatever the tables say
    carried.discard("virtio_scsi")
    out = run_module(kernel_config_info, {"source": "installed", "root": str(root)})
    assert dict((r["id"], r["status"]) for r in out["results"])["KCONF-SCSI_VIRTIO"] == "module-missing-from-initramfs"


def test_both_areas_find_the_initramfs_of_an_arch_tree(tmp_path, run_module, monkeypatch):
    # Arch Linux: /usr/lib/modules/<release>/pkgbase names the package, the
    # initramfs is /boot/initramfs-<pkgbase>.img (mkinitcpio's preset)
    import trees
    from ansible_collections.guestready.gce.plugins.module_utils import initramfs
    release = "6.18.1-arch1-1"
    root = tmp_path / "arch"
    modules = root / "usr" / "lib" / "modules" / release
    trees.install(str(root), "6.1.0-50-amd64", directory=str(modules))
    os.rename(str(root / "boot" / "config-6.1.0-50-amd64"), str(modules / "config"))
    (root / "lib").symlink_to("usr/lib")
    (modules / "pkgbase").write_text("linux\n")
    (root / "boot" / "vmlinuz-linux").write_text("kernel")
    (root / "boot" / "initramfs-linux.img").write_bytes(b"\x28\xb5\x2f\xfd")
    carried = trees.initramfs_modules("6.1.0-50-amd64")
    monkeypatch.setattr(initramfs, "kernel_modules", lambda path, target=None, release=None: (set(carried), "fixture", None))
    options = {"areas": ["kernel_config", "hardware"], "kernel_config": {"root": str(root)}, "hardware": {"root": str(root)}}

    def statuses():
        results = dict((r["id"], r) for r in run_module(compliance_info, options)["results"])
        return results["KCONF-VIRTIO_NET"], results["HW-NET-VIRTIO"]
    kconf, hw = statuses()
    assert kconf["status"] == hw["status"] == "module-in-initramfs"
    assert kconf["initramfs"]["path"] == str(root / "boot" / "initramfs-linux.img")
    # an image under a name no layout gives: it may be this kernel's
    os.rename(str(root / "boot" / "initramfs-linux.img"), str(root / "boot" / "initramfs-custom.img"))
    kconf, hw = statuses()
    assert kconf["status"] == hw["status"] == "unknown"
    assert "initramfs-custom.img, which may be it" in kconf["message"]
    # none at all: an =m driver cannot be loaded at boot
    os.unlink(str(root / "boot" / "initramfs-custom.img"))
    kconf, hw = statuses()
    assert kconf["status"] == hw["status"] == "module-missing-from-initramfs"


def test_a_waiver_of_an_area_left_out_is_reported_waived_not_checked(tmp_path, run_module):
    """requirements.md section 4: a waiver is shown as waived in every report.  --tags sysctl
    (areas [sysctl]) with waivers of HW-* and GCE-* IDs used to drop them without a word."""
    root = image(tmp_path)
    waivers = {"HW-NET-GVNIC": "virtio-net only (change NET-9)", "GCE-GUEST-AGENT": "agent baked in later",
               "SYSCTL-IP_FORWARD": "NAT gateway"}
    for results_format in ("list", "json"):
        out = run_module(compliance_info, {"areas": ["sysctl"], "sysctl": {"root": root}, "waivers": waivers,
                                           "results_format": results_format})
        assert out["rc"] == 0, out
        if results_format == "json":
            out.update(json.loads(out.pop("results_json")))
        by_id = dict((r["id"], r) for r in out["results"])
        for rid, area in (("HW-NET-GVNIC", "hardware"), ("GCE-GUEST-AGENT", "gce_settings")):
            assert by_id[rid]["status"] == "waived" and by_id[rid]["waiver"] == waivers[rid]
            assert by_id[rid]["message"] == "waived: %s (not checked: the %s area was not run)" % (waivers[rid], area)
            assert by_id[rid]["actual"] is None and by_id[rid]["evidence"] == {}
        assert by_id["SYSCTL-IP_FORWARD"]["status"] == "waived" and "found: " in by_id["SYSCTL-IP_FORWARD"]["message"]
        # only the waived IDs of the areas left out; catalogue order
        assert [r["id"] for r in out["results"]] == [e["id"] for e in CATALOGUE
                                                     if e["area"] == "sysctl" or e["id"] in waivers]
        assert out["summary"]["waived"] == 3 and set(out["areas"]) == {"sysctl"}
