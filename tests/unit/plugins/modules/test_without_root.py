"""The modules run as an ordinary user (uid 65534, in a forked child: the
tests run as root): what that user may not read is named ("needs root:
<path> ... run with become (-b)") and every result depending on it is
unknown, never judged from the rest; the other results are the ones root
gets.  Changing the running system or another user's tree is refused before
anything is written; a tree the user owns is theirs to change."""

import contextlib
import io
import json
import os
import pathlib
import shutil
import tempfile
import traceback

import pytest

from ansible_collections.guestready.gce.plugins.module_utils import privilege, sysctl, sysfs
from ansible_collections.guestready.gce.plugins.module_utils.catalogue import requirements
from ansible_collections.guestready.gce.plugins.modules import (
    compliance, compliance_info, guest_hardware_info, kernel_config_info, sysctl_baseline, sysctl_baseline_info)

from conftest import patch_module_args
from test_gce_settings import debian_image, digest, put
from test_kernel_config_info import CLOUD, SID, tree as kernel_tree
import fakesys

NOBODY = 65534
SECRET = "/etc/sysctl.d/90-secret.conf"


@pytest.fixture
def top():
    """A directory every user may enter (pytest's tmp_path is root's, 0700)."""
    path = tempfile.mkdtemp(prefix="guestready-nonroot-")
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path)


def as_user(uid, function, *args):
    """``function(*args)`` in a forked child running as ``uid`` (no groups);
    its JSON-able return value, or the child's traceback as a failure."""
    if os.geteuid() != 0:
        pytest.skip("needs root to become another user")
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        os.close(reader)
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            answer = {"value": function(*args)}
        except BaseException:  # everything goes back to the parent
            answer = {"traceback": traceback.format_exc()}
        with os.fdopen(writer, "w") as handle:
            json.dump(answer, handle)
        os._exit(0)
    os.close(writer)
    with os.fdopen(reader) as handle:
        answer = json.loads(handle.read() or '{"traceback": "the child wrote nothing"}')
    os.waitpid(pid, 0)
    assert "traceback" not in answer, answer.get("traceback")
    return answer["value"]


def module_run(module, args, check_mode=False):
    """What ``module`` prints for ``args`` (its JSON), run in this process."""
    printed = io.StringIO()
    args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=False)
    with patch_module_args(args), contextlib.redirect_stdout(printed):
        try:
            module.main()
        except SystemExit:
            pass
    return json.loads(printed.getvalue())


def both(module, args, check_mode=False):
    """The module's output as root and as nobody."""
    return (module_run(module, args, check_mode),
            as_user(NOBODY, module_run, module, args, check_mode))


def by_id(out):
    return dict((r["id"], r) for r in out["results"])


def assert_needs_root(result, path):
    assert result["status"] == "unknown", result
    assert result["message"].startswith("needs root: %s " % path), result["message"]
    assert "not readable as user nobody" in result["message"]
    assert result["remediation"].startswith("run with become (-b"), result


def assert_same_elsewhere(as_root, as_nobody, unread):
    """Every result but the ``unread`` IDs has root's verdict and message."""
    root, nobody = by_id(as_root), by_id(as_nobody)
    assert sorted(root) == sorted(nobody)
    for rid in set(root) - set(unread):
        assert (nobody[rid]["status"], nobody[rid]["message"]) == \
            (root[rid]["status"], root[rid]["message"]), rid


def sysctl_tree(top, mode=0o600):
    root = os.path.join(top, "image")
    put(root, "/etc/sysctl.d/60-site.conf", "net.ipv4.ip_forward = 0\n")
    put(root, SECRET, "net.ipv4.ip_forward = 1\nkernel.kptr_restrict = 1\n", mode)
    return root


@pytest.mark.parametrize("module", [compliance_info, sysctl_baseline_info])
def test_an_unreadable_sysctl_file_makes_every_sysctl_result_unknown(top, module):
    root = sysctl_tree(top)
    args = {"areas": ["sysctl"], "sysctl": {"root": root}} if module is compliance_info else {"root": root}
    as_root, as_nobody = both(module, args)
    assert by_id(as_root)["SYSCTL-IP_FORWARD"]["status"] == "fail"   # root read it: it sets 1
    assert "failed" not in as_nobody and as_nobody["results"]
    for result in as_nobody["results"]:
        assert_needs_root(result, root + SECRET)   # any file may set any key: none judged


def test_an_unsearchable_sysctl_directory_is_named(top):
    root = sysctl_tree(top, mode=0o644)
    os.chmod(os.path.join(root, "etc/sysctl.d"), 0o700)
    out = as_user(NOBODY, module_run, sysctl_baseline_info, {"root": root})
    assert "failed" not in out, out.get("msg")
    assert [r["id"] for r in out["results"]] == [e["id"] for e in requirements("sysctl")]
    for result in out["results"]:
        assert_needs_root(result, root + "/etc/sysctl.d")


def test_a_live_value_root_only_is_named(top):
    proc = os.path.join(top, "proc")
    put(proc, "/sys/fs/protected_symlinks", "1\n", 0o600)   # the kernel's mode for it
    value, error = as_user(NOBODY, sysctl.read_live, "fs/protected_symlinks", proc)
    assert value is None
    assert error.startswith("needs root: %s/sys/fs/protected_symlinks " % proc) and "live value" in error
    assert sysctl.read_live("fs/protected_symlinks", proc) == ("1", None)


def test_gce_settings_names_each_unreadable_file_and_judges_the_rest(top):
    root = debian_image(os.path.join(top, "image"))
    put(root, "/etc/ssh/sshd_config.d/50-site.conf", "PasswordAuthentication no\n", 0o600)
    os.chmod(os.path.join(root, "boot/grub/grub.cfg"), 0o600)
    os.chmod(os.path.join(root, "etc/systemd/network/50-dhcp.network"), 0o600)
    put(root, "/etc/NetworkManager/system-connections/wired.nmconnection",
        "[connection]\nid=wired\ntype=ethernet\n[ipv4]\nmethod=auto\n", 0o600)
    as_root, as_nobody = both(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}})
    unread = {
        "GCE-SSH-NO-PASSWORD-AUTH": "/etc/ssh/sshd_config.d/50-site.conf",
        "GCE-SSH-NO-ROOT-PASSWORD": "/etc/ssh/sshd_config.d/50-site.conf",
        "GCE-SSH-KEEPALIVE": "/etc/ssh/sshd_config.d/50-site.conf",
        "GCE-BOOT-SERIAL-CONSOLE": "/boot/grub/grub.cfg",
        "GCE-BOOT-TIMEOUT": "/boot/grub/grub.cfg",
        "GCE-BOOT-SERIAL-GETTY": "/boot/grub/grub.cfg",
    }
    found = by_id(as_nobody)
    for rid, path in unread.items():
        assert_needs_root(found[rid], root + path)
    network = ["GCE-NET-DHCP", "GCE-NET-MTU-DHCP", "GCE-NET-NO-MAC-BINDING"]
    for rid in network:
        assert_needs_root(found[rid], root + "/etc/systemd/network/50-dhcp.network")
    assert_same_elsewhere(as_root, as_nobody, list(unread) + network)
    assert not any(privilege.needs_root(r["message"]) for r in as_root["results"])
    # the networkd file readable again: the NetworkManager profile is the one left unread
    os.chmod(os.path.join(root, "etc/systemd/network/50-dhcp.network"), 0o644)
    as_root, as_nobody = both(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}})
    found = by_id(as_nobody)
    for rid in network:
        assert_needs_root(found[rid], root + "/etc/NetworkManager/system-connections/wired.nmconnection")


def test_an_unreadable_kernel_configuration_is_unknown_not_a_failure(top):
    root = kernel_tree(pathlib.Path(top))
    os.chmod(os.path.join(root, "boot", "config-" + CLOUD), 0o600)
    args = {"source": "installed", "root": root, "kernel_release": CLOUD}
    as_root, as_nobody = both(kernel_config_info, args)
    assert "failed" not in as_nobody
    assert by_id(as_root)["KCONF-VIRTIO_PCI"]["status"] == "module-in-initramfs"
    for result in as_nobody["results"]:
        assert_needs_root(result, root + "/boot/config-" + CLOUD)
    other = [k for k in as_nobody["kernels"] if k["release"] != CLOUD]
    assert [k["release"] for k in other] == [SID]   # the other kernel is still read and judged
    assert not any(privilege.needs_root(r["message"]) for r in other[0]["results"])


def test_an_unreadable_initramfs_is_named_for_the_drivers_built_as_modules(top):
    root = kernel_tree(pathlib.Path(top))
    os.chmod(os.path.join(root, "boot", "initrd.img-" + CLOUD), 0o600)   # as Fedora ships it
    args = {"source": "path", "root": root, "path": "/boot/config-" + CLOUD}
    as_root, as_nobody = both(kernel_config_info, args)
    modules = [rid for rid, r in by_id(as_root).items() if r["status"].startswith("module-")]
    assert "KCONF-VIRTIO_PCI" in modules
    for rid in modules:
        assert_needs_root(by_id(as_nobody)[rid], root + "/boot/initrd.img-" + CLOUD)
    assert_same_elsewhere(as_root, as_nobody, modules)


def test_pci_capabilities_beyond_64_bytes_need_root():
    header = bytearray(64)
    header[0x06] = 0x10          # PCI_STATUS_CAP_LIST
    header[0x34] = 0x98          # the first capability, beyond what a user may read
    as_nobody = as_user(NOBODY, sysfs._msix, bytes(header), "/sys/bus/pci/devices/0000:00:03.0/config")
    assert as_nobody["state"] == "unreadable"
    assert as_nobody["error"].startswith("needs root: /sys/bus/pci/devices/0000:00:03.0/config ")
    assert "MSI-X" in as_nobody["error"]


def test_serial_port_attributes_only_root_reads_are_unknown_not_absent(top):
    """Before Linux 5.7 drivers/tty/serial/serial_core.c declares a port's type,
    port and irq DEVICE_ATTR(..., 0440, ...): a user reads the ports' directories
    but not what they are."""
    sysfs_root = fakesys.Manifest.load("gce-tap").build(os.path.join(top, "sys"))
    for port in ("ttyS0", "ttyS1", "ttyS2", "ttyS3"):
        for name in ("type", "port", "irq"):
            os.chmod(os.path.join(sysfs_root, "class", "tty", port, name), 0o440)
    as_root, as_nobody = both(guest_hardware_info, {"sysfs_root": sysfs_root, "mode": "live"})
    assert by_id(as_root)["HW-SERIAL"]["status"] == "pass"
    serial = by_id(as_nobody)["HW-SERIAL"]
    assert serial["status"] == "unknown", serial["message"]
    assert serial["message"].startswith("live: needs root: %s/class/tty/ttyS0/type (and 11 more ttyS* attributes) "
                                        "is not readable as user nobody" % sysfs_root), serial["message"]
    assert "uart:" not in serial["message"] and "16550A ports" not in serial["remediation"]
    assert serial["remediation"].startswith("run with become (-b")
    assert serial["evidence"]["live"][sysfs_root + "/class/tty/ttyS2/irq"].startswith("not read: needs root: ")
    assert_same_elsewhere(as_root, as_nobody, ["HW-SERIAL"])


def test_device_attributes_only_root_reads_are_unknown_not_a_mismatch(top):
    """A tree (or a hardened /sys) whose sector sizes and subsystem ID only root may
    read: unknown, saying so, never "None, expected ..." and a failure."""
    manifest = fakesys.Manifest.load("gce-tap").set("bus/scsi/devices/0:0:1:0/scsi_level", "7")
    sysfs_root = manifest.build(os.path.join(top, "sys"))
    for path in ("block/sda/queue/logical_block_size", "bus/pci/devices/0000:00:04.0/subsystem_device"):
        os.chmod(os.path.realpath(os.path.join(sysfs_root, path)), 0o400)
    as_root, as_nobody = both(guest_hardware_info, {"sysfs_root": sysfs_root, "mode": "live"})
    assert by_id(as_root)["HW-SCSI-VIRTIO"]["status"] == "pass"
    assert "subsystem" not in by_id(as_root)["HW-NET-VIRTIO"]["message"]   # unknown: a tree has no ethtool
    scsi, net = by_id(as_nobody)["HW-SCSI-VIRTIO"], by_id(as_nobody)["HW-NET-VIRTIO"]
    assert (scsi["status"], net["status"]) == ("unknown", "unknown"), (scsi["message"], net["message"])
    assert "sda logical sector size unknown (needs root: %s/devices/" % sysfs_root in scsi["message"]
    assert "/block/sda/queue/logical_block_size is not readable as user nobody" in scsi["message"]
    assert "subsystem ID unknown (needs root: %s/devices/pci0000:00/0000:00:04.0/subsystem_device " % sysfs_root \
        in net["message"]
    assert scsi["remediation"].startswith("run with become (-b") and "None" not in scsi["message"] + net["message"]
    assert_same_elsewhere(as_root, as_nobody, ["HW-SCSI-VIRTIO", "HW-NET-VIRTIO"])


def test_applying_to_the_running_system_is_refused_before_anything_is_written(top):
    for module, args in ((compliance, {"areas": ["sysctl", "gce_settings"]}), (sysctl_baseline, {})):
        out = as_user(NOBODY, module_run, module, args)
        assert out["failed"] is True and out["changed"] is False
        assert "changing the running system needs root" in out["msg"]
        assert "as user nobody: nothing was changed" in out["msg"] and "run with become (-b" in out["msg"]
        assert "results" not in out


def test_another_users_tree_is_refused_and_left_alone(top):
    root = debian_image(os.path.join(top, "image"))
    before = digest(root)
    out = as_user(NOBODY, module_run, compliance, {"areas": ["sysctl", "gce_settings"],
                                                   "sysctl": {"root": root}, "gce_settings": {"root": root}})
    assert out["failed"] is True and "(owned by uid 0) needs root" in out["msg"]
    assert digest(root) == before


def test_a_tree_the_user_owns_is_changed(top):
    root = sysctl_tree(top, mode=0o644)
    for directory, dirs, files in os.walk(root):
        for name in [directory] + [os.path.join(directory, f) for f in files]:
            os.chown(name, NOBODY, NOBODY)
    out = as_user(NOBODY, module_run, sysctl_baseline, {"root": root})
    assert out.get("failed") is not True and out["changed"] is True, out.get("msg")
    drop_in = os.path.join(root, "etc/sysctl.d/zz-guestready-gce.conf")
    assert os.stat(drop_in).st_uid == NOBODY
    assert all(r["status"] in ("pass", "waived") for r in out["results"] if r["id"] != "SYSCTL-YAMA_PTRACE_SCOPE")


def test_check_mode_without_root_is_a_preview(top):
    root = sysctl_tree(top, mode=0o644)
    out = as_user(NOBODY, module_run, sysctl_baseline, {"root": root}, True)
    assert out.get("failed") is not True and out["changed"] is True   # would change, changed nothing
    assert not os.path.exists(os.path.join(root, "etc/sysctl.d/zz-guestready-gce.conf"))


@pytest.mark.parametrize("unread", ["entry", "directory"])
def test_boot_loader_entries_the_user_cannot_read_make_the_boot_results_unknown(top, unread):
    """GRUB's blscfg reads every /boot/loader/entries file at boot: an entry (or the
    directory, 0700 on Fedora and RHEL) this user may not read is named, not left out."""
    root = debian_image(os.path.join(top, "image"))
    put(root, "/boot/grub/grub.cfg", "set timeout=5\nblscfg\n")
    entry = put(root, "/boot/loader/entries/a.conf", "title Debian\nlinux /vmlinuz\noptions root=UUID=1 ro\n")
    os.chmod(entry if unread == "entry" else os.path.dirname(entry), 0o600 if unread == "entry" else 0o700)
    as_root, as_nobody = both(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}})
    assert by_id(as_root)["GCE-BOOT-SERIAL-CONSOLE"]["status"] == "fail", by_id(as_root)["GCE-BOOT-SERIAL-CONSOLE"]
    assert_needs_root(by_id(as_nobody)["GCE-BOOT-SERIAL-CONSOLE"],
                      root + ("/boot/loader/entries/a.conf" if unread == "entry" else "/boot/loader/entries"))


def test_systemd_boot_entries_the_user_cannot_read_make_the_boot_results_unknown(top):
    """An ESP is often mounted root-only (fmask=0077): systemd-boot reads its entries at boot,
    so one this user may not read is named, not left out of the judgement."""
    from test_gce_boot_layouts import ARCH_ENTRY
    root = os.path.join(top, "image")
    put(root, "/boot/loader/entries/arch.conf", ARCH_ENTRY)
    put(root, "/boot/loader/entries/lts.conf", ARCH_ENTRY.replace(" rw", " rw console=ttyS0,38400n8"), 0o600)
    as_root, as_nobody = both(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}})
    assert by_id(as_root)["GCE-BOOT-SERIAL-CONSOLE"]["status"] == "fail", by_id(as_root)["GCE-BOOT-SERIAL-CONSOLE"]
    assert_needs_root(by_id(as_nobody)["GCE-BOOT-SERIAL-CONSOLE"], root + "/boot/loader/entries/lts.conf")
    # the reader itself says so, whoever calls it
    assert as_user(NOBODY, _bls_entries_or_error, root) == "Unreadable"


def _bls_entries_or_error(root):
    from ansible_collections.guestready.gce.plugins.module_utils import bootconfig, target
    try:
        return [entry["file"] for entry in bootconfig.bls_entries(target.Target(root))]
    except target.TargetError as exc:
        return type(exc).__name__
