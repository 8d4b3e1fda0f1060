"""The offline hardware check against the lab image's own kernel files, from the
controller: no guest is booted.

The lab's disk images (``lab/lab image --variant cloud|generic``) hold Debian
bookworm kernels.  These tests read each kernel's ``/lib/modules/<release>/modules.*``
(the .bin indexes too) and its ``/boot/initrd.img-<release>`` straight out of the ext4
filesystem with debugfs -- no mount, no loop device -- run guest_hardware_info
through Ansible on that tree (``mode: offline``), and check that:

* the serial driver registers the four ports (the kernel's configuration, read
  from the image's /boot);
* every driver verdict is the one the live guest shows: the drivers bound to the lab
  guests' devices (the captures in tests/fixtures/sysfs, recorded from guests of these
  images) are the drivers the offline check names for the same devices, built in or a
  module carried by the initramfs, as the guest proves by having bound them at boot;
* the modalias matcher agrees with kmod itself (``modprobe -R``) on that tree.

They skip, saying why, when the image is not built (they never build it) or
debugfs is missing.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

from ansible_collections.guestready.gce.plugins.module_utils import modalias
from labimage import debugfs, image_dir
import fakesys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
# the guests booted from each image variant, as captured (tests/fixtures/sysfs/README.md)
CAPTURES = {"cloud": ("gce-user", "gce-tap"), "generic": ("noncompliant-user",)}
# a PCI driver's name (sysfs bus/pci/drivers/<name>) where it differs from its module's
DRIVER_MODULES = {"piix4_smbus": "i2c_piix4", "virtio-pci": "virtio_pci"}
VIRTIO_IDS = {1: "HW-NET-VIRTIO", 8: "HW-SCSI-VIRTIO"}


def extract(directory, tree):
    """The boot kernel's modules.*, configuration and initramfs from the image into ``tree``."""
    with open(os.path.join(directory, "image.json")) as handle:
        info = json.load(handle)
    release = info["boot_kernel"]
    disk = os.path.join(directory, "disk.raw")
    listing = debugfs(disk, "ls -p /lib/modules/%s" % release)
    names = [line.split("/")[5] for line in listing.splitlines() if line.count("/") >= 6]
    names = [name for name in names if name.startswith("modules.")]
    assert "modules.alias" in names, listing
    modules = os.path.join(tree, "lib", "modules", release)
    os.makedirs(modules)
    os.makedirs(os.path.join(tree, "boot"))
    initrd = "initrd.img-%s" % release
    requests = ["dump /lib/modules/%s/%s %s" % (release, name, os.path.join(modules, name))
                for name in names]
    config = "config-%s" % release
    debugfs(disk, *(requests + ["dump /boot/%s %s" % (name, os.path.join(tree, "boot", name))
                                for name in (initrd, config)]))
    assert os.path.getsize(os.path.join(tree, "boot", initrd)) > 1000000
    assert os.path.getsize(os.path.join(tree, "boot", config)) > 10000
    return info, release


def run_offline(tree, release):
    """guest_hardware_info through Ansible on the controller, as a user would run it."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".ansible", "collections"),
               ANSIBLE_STDOUT_CALLBACK="ansible.builtin.minimal", ANSIBLE_NOCOLOR="1",
               ANSIBLE_CALLBACK_RESULT_FORMAT="json",
               ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"))
    ansible = os.path.join(os.path.dirname(sys.executable), "ansible")
    args = json.dumps({"root": tree, "kernel_release": release})
    proc = subprocess.run([ansible, "localhost", "-c", "local", "-i", "localhost,",
                           "-e", "ansible_python_interpreter=%s" % sys.executable,
                           "-m", "guestready.gce.guest_hardware_info", "-a", args],
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=600, check=False)
    # minimal callback: "localhost | SUCCESS => {...}"
    assert "{" in proc.stdout, proc.stdout + proc.stderr
    result = json.loads(proc.stdout[proc.stdout.index("{"):])
    assert proc.returncode == 0 and not result.get("failed"), result.get("msg") or proc.stderr
    return result


_CHECKED = {}


def checked(variant, tmp_path_factory):
    """The image ``variant`` extracted and checked offline, once per session."""
    if variant not in _CHECKED:
        directory = image_dir(variant)
        tree = str(tmp_path_factory.mktemp("image-%s" % variant))
        info, release = extract(directory, tree)
        result = run_offline(tree, release)
        _CHECKED[variant] = {"variant": variant, "release": release, "tree": tree, "info": info,
                             "result": result, "by_id": dict((r["id"], r) for r in result["results"])}
    return _CHECKED[variant]


@pytest.fixture(params=sorted(CAPTURES))
def offline(request, tmp_path_factory):
    return checked(request.param, tmp_path_factory)


def live_devices(capture):
    """``[(slot, modalias with the real IDs, bound driver, virtio children)]`` of a capture."""
    manifest = fakesys.Manifest.load(capture)
    found = []
    for link in sorted(k for k in manifest.links if k.startswith("bus/pci/devices/")):
        real = manifest.resolve(link)
        attrs = dict((a, manifest.files.get(real + "/" + a)) for a in (
            "vendor", "device", "subsystem_vendor", "subsystem_device", "class"))
        driver = manifest.links.get(real + "/driver")
        children = []
        for vlink in sorted(k for k in manifest.links if k.startswith("bus/virtio/devices/")):
            vreal = manifest.resolve(vlink)
            if os.path.dirname(vreal) == real:
                vdriver = manifest.links.get(vreal + "/driver")
                children.append((int(manifest.files[vreal + "/device"], 16),
                                 os.path.basename(vdriver) if vdriver else None))
        found.append((link.rsplit("/", 1)[1],
                      modalias.pci_modalias(attrs["vendor"], attrs["device"], attrs["subsystem_vendor"],
                                            attrs["subsystem_device"], attrs["class"]),
                      os.path.basename(driver) if driver else None, children))
    return manifest, found


def module_of(driver):
    return modalias.normalize_module(DRIVER_MODULES.get(driver, driver))


def test_offline_verdicts(offline):
    by_id = offline["by_id"]
    assert offline["result"]["mode"] == "offline" and offline["result"]["changed"] is False
    assert offline["result"]["kernel"]["initramfs"]["state"] == "read", offline["result"]["kernel"]
    for rid in ("HW-NET-VIRTIO", "HW-SCSI-VIRTIO"):
        assert by_id[rid]["status"] == "module-in-initramfs", by_id[rid]["message"]
    serial = by_id["HW-SERIAL"]
    assert serial["status"] == "pass", serial["message"]  # 8250 built in, 4 ports at boot
    assert serial["offline"]["uarts"]["registered"] == 4
    assert serial["evidence"]["offline"]["uarts"]["CONFIG_SERIAL_8250_RUNTIME_UARTS"] == \
        "CONFIG_SERIAL_8250_RUNTIME_UARTS=4"
    assert offline["result"]["kernel"]["config"] == os.path.join(offline["tree"], "boot",
                                                                 "config-" + offline["release"])
    assert by_id["HW-NET-GVNIC"]["status"] == "not-applicable"  # x86 kernel (release name)


@pytest.mark.parametrize("variant,capture", [(v, c) for v in sorted(CAPTURES) for c in CAPTURES[v]])
def test_offline_names_the_drivers_the_guest_bound(variant, capture, tmp_path_factory):
    offline = checked(variant, tmp_path_factory)
    tree = modalias.KernelModules(os.path.join(offline["tree"], "lib", "modules", offline["release"]))
    manifest, devices = live_devices(capture)
    bound = 0
    for slot, alias, driver, children in devices:
        offered = set(m["module"] for m in tree.lookup(alias))
        if driver is None:
            continue
        bound += 1
        # the guest bound `driver` at boot: the offline tables must name it for this device
        assert module_of(driver) in offered, (capture, slot, alias, driver, offered)
        for device_id, vdriver in children:
            vmatch = set(m["module"] for m in tree.lookup(modalias.virtio_modalias(device_id)))
            assert module_of(vdriver) in vmatch, (capture, slot, device_id, vdriver, vmatch)
            rid = VIRTIO_IDS.get(device_id)
            if rid:  # and the module's verdict names the very drivers the guest uses
                hops = offline["by_id"][rid]["offline"]["drivers"]
                assert [h["driver"] for h in hops] == [module_of(driver), module_of(vdriver)]
                assert all(h["initramfs"] == "present" for h in hops)
    assert bound >= 2, devices
    ports = [manifest.get("class/tty/ttyS%d/type" % n) for n in range(4)]
    assert ports[0] == "4"  # 16550A on ttyS0: the built-in 8250 driver serves it
    hop = offline["by_id"]["HW-SERIAL"]["offline"]["drivers"][0]
    assert (hop["driver"], hop["kind"]) == ("8250", "built-in")


def test_matcher_agrees_with_kmod(offline):
    modprobe = shutil.which("modprobe") or "/usr/sbin/modprobe"
    if not os.path.exists(modprobe):
        pytest.skip("no modprobe (kmod) on this host to compare with")
    tree = modalias.KernelModules(os.path.join(offline["tree"], "lib", "modules", offline["release"]))
    aliases = set()
    for captures in CAPTURES.values():
        for capture in captures:
            aliases.update(device[1] for device in live_devices(capture)[1])
    aliases.update(modalias.virtio_modalias(n) for n in (1, 2, 8))
    aliases.add("char-major-4-64")
    # both sides empty would agree too: the image's tables must name the virtio drivers
    assert [m["module"] for m in tree.lookup(modalias.virtio_modalias(1))] == ["virtio_net"]
    assert [m["module"] for m in tree.lookup(modalias.virtio_modalias(8))] == ["virtio_scsi"]
    for alias in sorted(aliases):
        proc = subprocess.run([modprobe, "-d", offline["tree"], "-S", offline["release"], "-R", alias],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                              check=False)
        theirs = set(proc.stdout.split())
        ours = set(m["module"] for m in tree.lookup(alias))
        assert ours == theirs, (alias, ours, theirs, proc.stderr)
