"""harden.yml against an image tree on the controller, as an image build uses it:
the lab's cloud image extracted (no guest, no mount), the play on localhost
with guestready_gce_image_root.  Files in the tree change; the controller's
own kernel settings never do."""

import json
import os
import subprocess
import sys

from labimage import ROOT, debugfs, image_dir

sys.path.insert(0, os.path.join(ROOT, ".ansible", "collections"))
from ansible_collections.guestready.gce.plugins.module_utils.catalogue import requirements  # noqa: E402

HOST_KEYS = ["net/ipv4/ip_forward", "kernel/kptr_restrict", "net/ipv4/conf/all/send_redirects",
             "net/ipv4/conf/all/log_martians", "kernel/perf_event_paranoid"]


def host_values():
    values = {}
    for key in HOST_KEYS:
        with open(os.path.join("/proc/sys", key)) as handle:
            values[key] = handle.read().strip()
    return values


def extract_tree(tmp_path):
    directory = image_dir("cloud")
    with open(os.path.join(directory, "image.json")) as handle:
        release = json.load(handle)["boot_kernel"]
    disk = os.path.join(directory, "disk.raw")
    tree = tmp_path / "image"
    (tree / "usr" / "lib" / "modules").mkdir(parents=True)
    debugfs(disk, "rdump /etc %s" % tree, "rdump /boot %s" % tree,
            "rdump /usr/lib/sysctl.d %s" % (tree / "usr" / "lib"),
            "rdump /usr/lib/modules/%s %s" % (release, tree / "usr" / "lib" / "modules"))
    (tree / "usr" / "lib" / "systemd").mkdir()
    debugfs(disk, "dump /usr/lib/systemd/systemd-sysctl %s" % (tree / "usr/lib/systemd/systemd-sysctl"))
    os.symlink("usr/lib", str(tree / "lib"))
    return str(tree), release


def harden(tree, report_dir):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".ansible", "collections"))
    proc = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
         "-c", "local", "-e", "ansible_python_interpreter=%s" % sys.executable,
         "-e", "guestready_gce_hosts=localhost", "-e", "guestready_gce_image_root=%s" % tree,
         "-e", "guestready_gce_report_dir=%s" % report_dir, os.path.join(ROOT, "playbooks", "harden.yml")],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
        check=False)
    return proc


def test_harden_an_image_tree_from_the_controller(tmp_path):
    tree, release = extract_tree(tmp_path)
    before = host_values()
    proc = harden(tree, str(tmp_path / "reports"))
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert host_values() == before, "the controller's kernel settings changed"

    drop_in = os.path.join(tree, "etc", "sysctl.d", "zz-guestready-gce.conf")
    with open(drop_in) as handle:
        text = handle.read()
    for entry in requirements("sysctl"):
        assert "\n%s = " % entry["key"] in text, entry["key"]
    with open(tmp_path / "reports" / "host-localhost.json") as handle:
        report = dict((r["id"], r) for r in json.load(handle)["results"])
    assert set(r["status"] for rid, r in report.items() if rid.startswith("SYSCTL-")) == {"pass"}
    assert report["SYSCTL-IP_FORWARD"]["message"].endswith("(no live kernel here: files only)")
    assert report["KCONF-VIRTIO_NET"]["status"] == "module-in-initramfs"
    assert release in json.dumps(report["KCONF-VIRTIO_NET"]["evidence"]) or release in report[
        "KCONF-VIRTIO_NET"]["message"]
    assert report["HW-NET-VIRTIO"]["status"] in ("pass", "module-in-initramfs"), report["HW-NET-VIRTIO"]["message"]
    assert report["HW-PCI-PIIX4-ACPI"]["status"] == "not-applicable"

    again = harden(tree, str(tmp_path / "reports2"))
    assert again.returncode == 0
    assert "changed=0" in again.stdout.split("PLAY RECAP")[-1], again.stdout[-2000:]
