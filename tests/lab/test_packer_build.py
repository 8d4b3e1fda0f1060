"""The README's Packer example, run the way Packer's `ansible` provisioner runs it
(hashicorp/packer-plugin-ansible, docs/provisioners/ansible.mdx: an inventory line
``default ansible_host=... ansible_user=... ansible_port=...``, the default extra variables
``packer_build_name``, ``packer_builder_type``, ``packer_http_addr``, the key as
``ansible_ssh_private_key_file``, then the template's ``extra_arguments``), against a build
VM that is not a Compute Engine VM: the lab's `noncompliant` guest (stock `-M pc`, e1000,
an IDE disk, no Google SMBIOS strings), as Packer's QEMU builder makes one.

The collection is installed from its Galaxy tarball next to the wrapper playbook (a
playbook-adjacent collections directory), and ansible-playbook runs from that project
directory without the checkout's ansible.cfg, as a user's project would.  The login is the
build VM's sudo user; root logins are refused on the guest for the whole run.

What must hold: the image build passes (strict, with waivers only for the lab's named boot
gaps: a direct kernel boot has no GRUB configuration), the build VM's own devices are never
judged (every live hardware part says why), the image-only requirements are judged because
the run generalizes the VM, and the reports land where the template says.  The wrapper
playbook and the provisioner's arguments are read from the README, so the example cannot
drift from what is tested."""

import glob
import json
import os
import re
import subprocess

import pytest

from lab_helpers import ROOT, leftovers, profiles

NAME = "default"  # the host alias Packer's generated inventory uses
ROOT_OFF = "/etc/ssh/sshd_config.d/00-build-vm.conf"


def readme_example():
    """(wrapper playbook text, its file name, the provisioner's user, its extra_arguments)."""
    with open(os.path.join(ROOT, "README.md")) as handle:
        section = handle.read().split("## Image builds", 1)[1]
    wrapper = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
    hcl = re.search(r"```hcl\n(.*?)```", section, re.S).group(1)
    playbook_file = re.search(r'playbook_file\s*=\s*"([^"]+)"', hcl).group(1)
    user = re.search(r'\buser\s*=\s*"([^"]+)"', hcl).group(1)
    extra = json.loads("[%s]" % re.search(r"extra_arguments\s*=\s*\[(.*?)\]", hcl, re.S).group(1))
    return wrapper, playbook_file, user, extra


def user_env():
    """The environment without the checkout's Ansible settings (config, collections path)."""
    return dict((k, v) for k, v in os.environ.items() if not k.startswith("ANSIBLE_"))


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A user's project: the wrapper playbook and the collection installed beside it."""
    work = tmp_path_factory.mktemp("packer")
    bin_dir = os.path.join(ROOT, ".venv", "bin")
    wrapper, playbook_file, user, extra = readme_example()
    subprocess.run([os.path.join(bin_dir, "ansible-galaxy"), "collection", "build", "--output-path", str(work), ROOT],
                   check=True, stdout=subprocess.PIPE)
    tarball = glob.glob(str(work / "guestready-gce-*.tar.gz"))[0]
    # --force: galaxy would call it installed when the checkout is on a configured path
    subprocess.run([os.path.join(bin_dir, "ansible-galaxy"), "collection", "install", "--force", "-p",
                    str(work / "collections"), tarball], check=True, env=user_env(),
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert (work / "collections" / "ansible_collections" / "guestready" / "gce" / "MANIFEST.json").is_file()
    (work / playbook_file).write_text(wrapper)
    return {"dir": work, "playbook": playbook_file, "user": user, "extra": extra, "bin": bin_dir}


@pytest.fixture(scope="module")
def build_vm(lab, project):
    try:
        info = lab.up("--profile", "noncompliant", "--name", NAME, "--user", profiles.SUDO_USER)[0]
        lab.ssh(NAME, "printf 'PermitRootLogin no\\n' > %s && systemctl reload ssh" % ROOT_OFF)
        yield info
    finally:
        lab.down(NAME)
        alive, namespaces = leftovers()
        assert not alive and not namespaces, (alive, namespaces)


def packer_run(project, info, waivers):
    """ansible-playbook as the provisioner starts it (use_proxy = false: straight to the VM)."""
    work = project["dir"]
    (work / "inventory").write_text("%s ansible_host=%s ansible_user=%s ansible_port=%d\n" % (
        NAME, info["ssh_host"], profiles.SUDO_USER, info["ssh_port"]))
    (work / "lab-gaps.json").write_text(json.dumps({"guestready_gce_waivers": waivers}))
    env = user_env()
    env.update(ANSIBLE_HOST_KEY_CHECKING="False", ANSIBLE_NOCOLOR="1", ANSIBLE_TIMEOUT="120")
    command = [os.path.join(project["bin"], "ansible-playbook"),
               "-e", "packer_build_name=qemu", "-e", "packer_builder_type=qemu",
               # the known-hosts file too: a test never writes this machine's ~/.ssh/known_hosts
               "-e", "packer_http_addr=10.0.2.2:8000", "--ssh-extra-args",
               "-o IdentitiesOnly=yes -o UserKnownHostsFile=/dev/null"]
    command += project["extra"] + ["-e", "@lab-gaps.json",
                                   "-e", "ansible_ssh_private_key_file=%s" % info["ssh_key"],
                                   "-i", "inventory", project["playbook"]]
    proc = subprocess.run(command, cwd=str(work), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=1800, check=False)
    print(proc.stdout[-4000:])
    return proc


def test_the_readme_example_is_a_sudo_user_with_become_that_generalizes(project):
    assert project["user"] != "root"
    assert "--become" in project["extra"]
    settings = [json.loads(a) for a in project["extra"] if a.startswith("{")]
    assert {"compliance_gce_settings": {"generalize": True}} in settings, project["extra"]


def test_an_image_build_on_a_qemu_build_vm_passes_as_packer_runs_it(lab, project, build_vm, tmp_path):
    root_login = lab.run("ssh", "--user", "root", NAME, "--", "true", check=False)
    assert root_login.returncode != 0, "root can still log in: the run would not prove the sudo path"
    # the lab's own gaps (a direct kernel boot: no GRUB configuration), never anything else
    waivers = dict((gap["id"], "lab: " + gap["what"]) for gap in build_vm["gaps"] if gap["id"] != "-")
    assert sorted(waivers) == ["GCE-BOOT-SERIAL-CONSOLE", "GCE-BOOT-TIMEOUT"], waivers
    proc = packer_run(project, build_vm, waivers)
    assert proc.returncode == 0, proc.stdout[-4000:]

    report_dir = project["dir"] / re.search(r"guestready_gce_report_dir=(\S+)", " ".join(project["extra"])).group(1)
    for name in ("host-%s.json" % NAME, "summary.json", "junit.xml", "report.html"):
        assert (report_dir / name).is_file(), name
    report = json.loads((report_dir / ("host-%s.json" % NAME)).read_text())
    results = dict((r["id"], r) for r in report["results"])
    assert report["summary"]["fail"] == 0 and not report["errors"], report["summary"]

    # the build VM's own devices are never judged; the image's kernel is
    for rid in build_vm["deviations"]:
        assert results[rid]["status"] not in ("fail", "unknown"), results[rid]
    for rid, found in results.items():
        if rid.startswith("HW-") and "live:" in found["message"]:
            assert "live: not judged: not a Compute Engine VM" in found["message"], found
    assert results["HW-NET-VIRTIO"]["message"].startswith("offline: virtio_pci"), results["HW-NET-VIRTIO"]

    # generalize: the captured image carries no host keys and an empty machine ID
    for rid in ("GCE-IMAGE-MACHINE-ID", "GCE-SSH-NO-HOST-KEYS", "GCE-GUEST-AGENT"):
        assert results[rid]["status"] == "pass", results[rid]
    for rid in waivers:
        assert results[rid]["status"] == "waived", results[rid]
    # and the VM now accepts no new SSH session (sshd has no host key left), as an image should
    after = lab.run("ssh", "--user", profiles.SUDO_USER, NAME, "--", "true", check=False, timeout=120)
    assert after.returncode != 0
