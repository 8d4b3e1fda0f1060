"""The kernel checks against the lab image's real kernel files, without booting.

The lab (lab/) builds Debian bookworm guest disks: ``lab/lab image --variant
cloud|generic`` (cloud: the cloud kernel; generic: the generic kernel booted,
the cloud one installed too), cached with the boot kernel's vmlinuz and
initrd.img next to disk.raw.  These tests read the image's /boot (every
kernel's config and initramfs, and the /vmlinuz link) straight out of the ext4
filesystem with debugfs -- no mount, no loop device, no guest -- and check:

* the kconfig reader and the KCONF-* verdicts on the image's configurations;
* the initramfs reader (standard library + zstd command) against lsinitramfs
  on the image's real initramfs images (a skip, with the reason in the summary,
  when lsinitramfs is missing), and the =m drivers' statuses;
* kernel_config_info on the extracted tree (source=installed, as on a mounted
  image), and that the cached initrd.img next to the disk is the image's own.

They skip, saying why, when the image is not built (they never build it) or
debugfs is missing.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

from ansible_collections.guestready.gce.plugins.module_utils import catalogue as cat
from ansible_collections.guestready.gce.plugins.module_utils import initramfs, kconfig
from ansible_collections.guestready.gce.plugins.module_utils.target import Target
from labimage import debugfs, image_dir

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENTRIES = cat.requirements(("kernel-required", "kernel-security"))
VARIANTS = ("cloud", "generic")
DRIVERS = {"KCONF-VIRTIO_PCI": "virtio_pci", "KCONF-SCSI_VIRTIO": "virtio_scsi",
           "KCONF-VIRTIO_NET": "virtio_net"}


@pytest.fixture(scope="module", params=VARIANTS)
def lab_image(request, tmp_path_factory):
    """``(info, tree)``: the image's image.json and a directory holding its
    /boot files and /vmlinuz link, extracted with debugfs."""
    directory = image_dir(request.param, ("disk.raw", "image.json", "initrd.img"))
    with open(os.path.join(directory, "image.json")) as handle:
        info = json.load(handle)
    info["dir"] = directory
    # every test below loops over info["kernels"]: an empty list would make them assert nothing
    assert len(info["kernels"]) == {"cloud": 1, "generic": 2}[request.param], info["kernels"]
    assert info["boot_kernel"] in info["kernels"], info
    disk = os.path.join(directory, "disk.raw")
    tree = tmp_path_factory.mktemp("image-%s" % request.param)
    (tree / "boot").mkdir()
    for release in info["kernels"]:
        for name in ("config-%s", "initrd.img-%s"):
            target = tree / "boot" / (name % release)
            debugfs(disk, "dump -p /boot/%s %s" % (name % release, target))
            assert target.stat().st_size > 0, "%s not in the image" % (name % release)
    link = [line for line in debugfs(disk, "stat /vmlinuz").splitlines() if "link dest" in line]
    if link:
        os.symlink(link[0].split('"')[1], str(tree / "vmlinuz"))
    return info, str(tree)


def test_the_image_has_the_kernels_it_says(lab_image):
    info, tree = lab_image
    installed = kconfig.installed_configs(Target(tree))
    assert [release for release, dummy in installed] == sorted(info["kernels"])
    assert kconfig.default_release(Target(tree)) == info["boot_kernel"]


def test_configurations_and_verdicts(lab_image):
    info, tree = lab_image
    for release in info["kernels"]:
        config = kconfig.read(os.path.join(tree, "boot", "config-" + release))
        assert config.arch == "x86_64" and config.version[:2] == (6, 1)
        assert config.warnings == []
        results = dict((r["id"], r) for r in kconfig.evaluate(ENTRIES, config))
        # what Debian's bookworm kernels are known to do (see the unit fixtures)
        for rid in ("KCONF-KVM_GUEST", "KCONF-PCI_MSI", "KCONF-STRICT_DEVMEM", "KCONF-DEVKMEM",
                    "KCONF-DEFAULT_MMAP_MIN_ADDR", "KCONF-DEBUG_RODATA", "KCONF-DEBUG_SET_MODULE_RONX",
                    "KCONF-CC_STACKPROTECTOR", "KCONF-COMPAT_VDSO", "KCONF-COMPAT_BRK",
                    "KCONF-SYN_COOKIES", "KCONF-SECURITY_YAMA", "KCONF-SECURITY_YAMA_STACKED"):
            assert results[rid]["status"] == "pass", (release, results[rid]["message"])
        assert results["KCONF-KVM_CLOCK"]["symbol"] == "KVM_GUEST"
        assert results["KCONF-X86_PAE"]["status"] == "not-applicable"
        for rid in DRIVERS:
            assert results[rid]["found"] == "m" and results[rid]["status"] == "unknown"


def test_python_reader_reads_each_initramfs(lab_image):
    info, tree = lab_image
    for release in info["kernels"]:
        path = os.path.join(tree, "boot", "initrd.img-" + release)
        files, method, error = initramfs.list_files(path, listers=False)
        assert error is None, error
        assert method.startswith("python:") and "zstd" in method
        assert any(name.endswith("/modules.dep") for name in files)


def test_python_reader_agrees_with_lsinitramfs(lab_image):
    exe = shutil.which("lsinitramfs")
    if not exe:
        pytest.skip("lsinitramfs is not installed (Debian: apt-get install initramfs-tools-core): "
                    "the initramfs reader cannot be compared with it")
    info, tree = lab_image
    for release in info["kernels"]:
        path = os.path.join(tree, "boot", "initrd.img-" + release)
        files, method, error = initramfs.list_files(path, listers=False)
        assert error is None, error
        listed, error = initramfs._run_lister(exe, "lsinitramfs", path)
        assert error is None, error
        assert len(listed) > 100 and set(listed) == set(files), release


def test_required_modules_are_in_each_kernels_initramfs(lab_image):
    info, tree = lab_image
    for release in info["kernels"]:
        names, method, error = initramfs.kernel_modules(os.path.join(tree, "boot", "initrd.img-" + release))
        assert error is None
        assert set(DRIVERS.values()) <= names, (release, sorted(n for n in names if "virtio" in n))
        kernel = kconfig.check_kernel(ENTRIES, {}, release, "/boot/config-" + release, "installed",
                                      Target(tree))
        found = dict((r["id"], r["status"]) for r in kernel["results"])
        for rid in DRIVERS:
            assert found[rid] == "module-in-initramfs", (release, rid)
        assert kernel["summary"]["fail"] == 0 and kernel["summary"]["unknown"] == 0
        assert kernel["fragment"].endswith("# nothing to change: no KCONF-* requirement fails\n")


def test_cached_initrd_is_the_images_own(lab_image):
    info, tree = lab_image
    with open(os.path.join(info["dir"], "initrd.img"), "rb") as cached, \
            open(os.path.join(tree, "boot", "initrd.img-" + info["boot_kernel"]), "rb") as own:
        assert cached.read() == own.read()


def test_module_on_the_extracted_tree(lab_image):
    """kernel_config_info as a playbook would run it on a mounted image."""
    info, tree = lab_image
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".ansible", "collections"))
    playbook, output = os.path.join(tree, "check.yml"), os.path.join(tree, "result.json")
    with open(playbook, "w") as handle:
        handle.write("- hosts: localhost\n  gather_facts: false\n  tasks:\n"
                     "    - guestready.gce.kernel_config_info: {source: installed, root: %s}\n"
                     "      register: kconfig\n"
                     "    - ansible.builtin.copy: {content: '{{ kconfig | to_json }}', dest: %s,"
                     " mode: '0644'}\n" % (tree, output))
    ansible = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    proc = subprocess.run([ansible, "-i", "localhost,", "-c", "local", "-e",
                           "ansible_python_interpreter=%s" % sys.executable, playbook],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          env=env, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    with open(output) as handle:
        result = json.load(handle)
    assert result["kernel"] == info["boot_kernel"]
    assert sorted(k["release"] for k in result["kernels"]) == sorted(info["kernels"])
    for kernel in result["kernels"]:
        assert kernel["initramfs"]["error"] is None
        assert kernel["summary"]["module-in-initramfs"] == 3 and kernel["summary"]["fail"] == 0
