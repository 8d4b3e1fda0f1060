"""The gce_settings area in image-root mode on the lab's cloud image, from the
controller: the image's /etc, /boot, units, dpkg status and udev rules
extracted with debugfs (no guest, no mount), checked, hardened with
harden.yml's one module call, checked again.  Nothing outside the tree and
nothing of the controller changes; a second run changes nothing."""

import json
import os
import subprocess
import sys

from labimage import ROOT, debugfs, image_dir

sys.path.insert(0, os.path.join(ROOT, ".ansible", "collections"))
from ansible_collections.guestready.gce.plugins.module_utils.catalogue import requirements  # noqa: E402


def extract(tmp_path):
    disk = os.path.join(image_dir("cloud"), "disk.raw")
    tree = tmp_path / "image"
    for directory in ("usr/lib/systemd", "usr/lib/udev", "var/lib/dpkg", "usr/bin", "usr/sbin"):
        (tree / directory).mkdir(parents=True)
    debugfs(disk, "rdump /etc %s" % tree, "rdump /boot %s" % tree,
            "rdump /usr/lib/systemd/system %s" % (tree / "usr/lib/systemd"),
            "rdump /usr/lib/udev/rules.d %s" % (tree / "usr/lib/udev"),
            "rdump /usr/lib/sysctl.d %s" % (tree / "usr/lib"),
            "dump /var/lib/dpkg/status %s" % (tree / "var/lib/dpkg/status"))
    os.symlink("usr/lib", str(tree / "lib"))
    return str(tree)


def ansible(module, args, tree):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".ansible", "collections"),
               ANSIBLE_STDOUT_CALLBACK="ansible.builtin.minimal", ANSIBLE_NOCOLOR="1",
               ANSIBLE_CALLBACK_RESULT_FORMAT="json", ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"))
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible"), "localhost", "-c", "local",
                           "-i", "localhost,", "-e", "ansible_python_interpreter=%s" % sys.executable,
                           "-m", module, "-a", json.dumps(args)],
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          timeout=600, check=False)
    assert "{" in proc.stdout, proc.stdout + proc.stderr
    result = json.loads(proc.stdout[proc.stdout.index("{"):])
    assert proc.returncode == 0 and not result.get("failed"), result.get("msg") or proc.stderr
    return result


def statuses(result):
    return dict((r["id"], r["status"]) for r in result["results"])


def test_gce_settings_on_the_lab_image_tree(tmp_path):
    tree = extract(tmp_path)
    with open("/etc/machine-id") as handle:
        controller_id = handle.read()
    area = {"areas": ["gce_settings"], "gce_settings": {"root": tree}}
    before = statuses(ansible("guestready.gce.compliance_info", area, tree))
    assert list(before) == [e["id"] for e in requirements("gce")]
    # what the lab image already has (lab/build-image.sh): networkd DHCP with UseMTU, key-only SSH,
    # an empty machine-id, LABEL= in fstab; and what it lacks: no boot loader (direct kernel boot),
    # no guest environment, no time daemon, host keys made by openssh-server's install
    assert before["GCE-NET-DHCP"] == "pass" and before["GCE-NET-MTU-DHCP"] == "pass"
    assert before["GCE-SSH-NO-PASSWORD-AUTH"] == "pass" and before["GCE-SSH-NO-ROOT-PASSWORD"] == "pass"
    assert before["GCE-IMAGE-MACHINE-ID"] == "pass" and before["GCE-FSTAB-STABLE-NAMES"] == "pass"
    assert before["GCE-BOOT-SERIAL-CONSOLE"] == "unknown" and before["GCE-BOOT-CMDLINE-LIVE"] == "not-applicable"
    for rid in ("GCE-SSH-KEEPALIVE", "GCE-UDEV-DISK-NAMING", "GCE-BOOT-SERIAL-GETTY", "GCE-GUEST-AGENT",
                "GCE-SSH-NO-HOST-KEYS"):
        assert before[rid] == "fail", rid

    applied = ansible("guestready.gce.compliance", dict(area, apply=["gce_settings"]), tree)
    after = statuses(applied)
    assert applied["changed"] is True
    for rid in ("GCE-SSH-KEEPALIVE", "GCE-UDEV-DISK-NAMING", "GCE-BOOT-SERIAL-GETTY"):
        assert after[rid] == "pass", (rid, after[rid])
    # nothing makes host keys at the image's first boot without the guest agent: they are kept
    assert after["GCE-SSH-NO-HOST-KEYS"] == "fail" and after["GCE-GUEST-AGENT"] == "fail"
    notes = applied["areas"]["gce_settings"]["notes"]
    assert any("google-guest-agent" in note for note in notes), notes
    assert os.path.isfile(os.path.join(tree, "etc/ssh/sshd_config.d/00-guestready-gce.conf"))
    assert os.path.islink(os.path.join(tree, "etc/systemd/system/getty.target.wants/serial-getty@ttyS0.service"))
    again = ansible("guestready.gce.compliance", dict(area, apply=["gce_settings"]), tree)
    assert again["changed"] is False and statuses(again) == after
    with open("/etc/machine-id") as handle:
        assert handle.read() == controller_id, "the controller is never touched"
