"""The gce_settings area end to end on fixture trees, through the combined
module: which GCE-* IDs fail, what apply writes (drop-ins, marked edits,
links, removals), idempotence, check mode, waivers, the SSH lock-out guard,
the live path (the commands it runs), and hostile trees."""

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import signal
import stat

import fakedisks
import pytest

from ansible_collections.guestready.gce.plugins.module_utils import bootdisk, gce_settings
from ansible_collections.guestready.gce.plugins.module_utils import target as target_module
from ansible_collections.guestready.gce.plugins.module_utils.catalogue import BY_ID, requirements
from ansible_collections.guestready.gce.plugins.modules import compliance, compliance_info

GCE_IDS = [e["id"] for e in requirements("gce")]


def put(root, path, text, mode=None):
    full = os.path.join(str(root), path.lstrip("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as handle:
        handle.write(text)
    if mode:
        os.chmod(full, mode)
    return full


def link(root, path, value):
    full = os.path.join(str(root), path.lstrip("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    os.symlink(value, full)


def read(root, path):
    """The file's text, its line ends as they are (no \r turned into \n)."""
    with open(os.path.join(str(root), path.lstrip("/")), newline="") as handle:
        return handle.read()


def digest(top):
    found = {}
    for directory, dirs, names in os.walk(str(top)):
        for name in dirs + names:
            path = os.path.join(directory, name)
            info = os.lstat(path)
            if stat.S_ISREG(info.st_mode):
                with open(path, "rb") as handle:
                    found[path] = hashlib.sha256(handle.read()).hexdigest()
            elif stat.S_ISLNK(info.st_mode):
                found[path] = "-> " + os.readlink(path)
            else:
                found[path] = stat.S_IFMT(info.st_mode)
    return found


def debian_image(root):
    """A Debian 12 image as a fleet has them before Compute Engine: GRUB
    without a serial console, pool NTP, persistent-net rules, password SSH,
    host keys, an ID, /dev/sdX in fstab.  Returns the root."""
    root = str(root)
    put(root, "/usr/sbin/grub-mkconfig", '#!/bin/sh\nfor x in ${sysconfdir}/default/grub.d/*.cfg ; do . "$x"; done\n')
    put(root, "/usr/sbin/update-grub", "#!/bin/sh\n")
    put(root, "/etc/default/grub", 'GRUB_DEFAULT=0\nGRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"\n'
        'GRUB_CMDLINE_LINUX=""\n')
    put(root, "/boot/grub/grub.cfg", "set timeout=5\nmenuentry 'Debian' {\n\tlinux\t/boot/vmlinuz root=UUID=1 ro quiet\n}\n")
    for unit, install in (("serial-getty@.service", "getty.target"), ("systemd-networkd.service", "multi-user.target"),
                          ("systemd-timesyncd.service", "sysinit.target"), ("ssh.service", "multi-user.target"),
                          ("google-guest-agent.service", "multi-user.target"),
                          ("google-startup-scripts.service", "multi-user.target")):
        put(root, "/lib/systemd/system/" + unit, "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=%s\n" % install)
    for unit, install in (("systemd-networkd.service", "multi-user.target"), ("systemd-timesyncd.service", "sysinit.target"),
                          ("ssh.service", "multi-user.target")):
        link(root, "/etc/systemd/system/%s.wants/%s" % (install, unit), "/lib/systemd/system/" + unit)
    put(root, "/etc/systemd/timesyncd.conf", "[Time]\nNTP=0.debian.pool.ntp.org\n")
    put(root, "/etc/systemd/network/50-dhcp.network", "[Match]\nName=en*\n[Network]\nDHCP=ipv4\n")
    put(root, "/etc/udev/rules.d/70-persistent-net.rules",
        'SUBSYSTEM=="net", ACTION=="add", ATTR{address}=="52:54:00:12:34:56", NAME="eth0"\n')
    put(root, "/etc/ssh/sshd_config", "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin yes\n"
        "PasswordAuthentication yes\nSubsystem sftp /usr/lib/openssh/sftp-server\n")
    os.makedirs(os.path.join(root, "etc/ssh/sshd_config.d"))
    for kind in ("ed25519", "rsa"):
        put(root, "/etc/ssh/ssh_host_%s_key" % kind, "PRIVATE\n", 0o600)
        put(root, "/etc/ssh/ssh_host_%s_key.pub" % kind, "ssh-%s AAAA\n" % kind)
    put(root, "/etc/machine-id", "0123456789abcdef0123456789abcdef\n")
    put(root, "/var/lib/dbus/machine-id", "0123456789abcdef0123456789abcdef\n")
    put(root, "/etc/fstab", "/dev/sda1 / ext4 errors=remount-ro 0 1\n/dev/sdb1 /data ext4 defaults 0 2\n"
        "proc /proc proc defaults 0 0\n")
    put(root, "/var/lib/dpkg/status", "Package: google-guest-agent\nStatus: install ok installed\n"
        "Version: 20211116.00-6\n\nPackage: openssh-server\nStatus: install ok installed\nVersion: 1:9.2p1-2\n")
    put(root, "/usr/bin/google_guest_agent", "")
    put(root, "/etc/default/instance_configs.cfg", "[InstanceSetup]\nset_host_keys = true\n")
    put(root, "/etc/passwd", "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n")
    return root


def by_id(out):
    return dict((r["id"], r) for r in out["results"])


def statuses(out):
    return dict((r["id"], r["status"]) for r in out["results"])


def run(run_module, root, check_mode=False, diff=False, **extra):
    args = {"areas": ["gce_settings"], "apply": ["gce_settings"], "gce_settings": dict({"root": root}, **extra)}
    for key in ("waivers", "overrides"):
        if key in extra:
            args[key] = args["gce_settings"].pop(key)
    return run_module(compliance, args, check_mode=check_mode, diff=diff)


EXPECTED_FAILURES = {
    "GCE-BOOT-SERIAL-CONSOLE", "GCE-BOOT-SERIAL-GETTY", "GCE-BOOT-TIMEOUT", "GCE-TIME-METADATA-NTP",
    "GCE-NET-MTU-DHCP", "GCE-NET-NO-PERSISTENT-RULES", "GCE-GUEST-AGENT", "GCE-GUEST-OSLOGIN",
    "GCE-SSH-NO-PASSWORD-AUTH", "GCE-SSH-NO-ROOT-PASSWORD", "GCE-SSH-KEEPALIVE", "GCE-SSH-NO-HOST-KEYS",
    "GCE-IMAGE-MACHINE-ID", "GCE-FSTAB-STABLE-NAMES", "GCE-FSTAB-NOFAIL", "GCE-UDEV-DISK-NAMING"}


def test_check_names_exactly_the_failing_ids(tmp_path, run_module):
    root = debian_image(tmp_path / "image")
    out = run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}})
    assert out["rc"] == 0 and out["changed"] is False
    found = statuses(out)
    assert list(found) == GCE_IDS, "catalogue order"
    assert set(i for i, s in found.items() if s == "fail") == EXPECTED_FAILURES
    assert found["GCE-BOOT-CMDLINE-LIVE"] == "not-applicable" and found["GCE-SYSCTL-COEXIST"] == "not-applicable"
    assert found["GCE-NET-DHCP"] == "pass" and found["GCE-NET-NO-MAC-BINDING"] == "pass"
    result = by_id(out)["GCE-SSH-NO-PASSWORD-AUTH"]
    assert result["actual"] == "yes" and "sshd_config:3" in result["message"] and result["remediation"]
    assert "0.debian.pool.ntp.org" in by_id(out)["GCE-TIME-METADATA-NTP"]["message"]


def test_apply_an_image_tree_then_nothing_changes(tmp_path, run_module):
    root = debian_image(tmp_path / "image")
    out = run(run_module, root, diff=True)
    assert out["rc"] == 0, out.get("msg")
    assert out["changed"] is True and out["applied"] == ["gce_settings"]
    found = statuses(out)
    # what an image tree cannot get here: packages are installed on a live system only, and
    # /dev/sdX becomes UUID= only where blkid can read the device
    assert set(i for i, s in found.items() if s == "fail") == {"GCE-GUEST-OSLOGIN", "GCE-FSTAB-STABLE-NAMES"}
    area = out["areas"]["gce_settings"]
    assert any("google-compute-engine-oslogin" in note for note in area["notes"])
    assert area["commands"] == [] and area["packages"] == [], "nothing runs against a tree"
    changed = set(r["id"] for r in out["results"] if r["changed"])
    assert changed == EXPECTED_FAILURES - {"GCE-GUEST-OSLOGIN", "GCE-FSTAB-STABLE-NAMES"}
    # the collection's own drop-ins
    grub = read(root, gce_settings.GRUB_DROPIN)
    assert 'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX console=ttyS0,38400n8"' in grub and "GRUB_TIMEOUT=0" in grub
    ssh = read(root, gce_settings.SSHD_DROPIN)
    assert "PasswordAuthentication no\n" in ssh and "PermitRootLogin prohibit-password\n" in ssh \
        and "ClientAliveInterval 420\n" in ssh
    assert "NTP=metadata.google.internal" in read(root, gce_settings.TIMESYNCD_DROPIN)
    assert "[DHCPv4]\nUseMTU=true" in read(root, "/etc/systemd/network/50-dhcp.network.d/50-guestready-gce.conf")
    assert "disk/by-id/google-" in read(root, gce_settings.UDEV_DISK_RULES)
    # the user's files: originals kept behind the marker
    assert "# guestready.gce neutralised (GCE-NET-NO-PERSISTENT-RULES): SUBSYSTEM" in read(
        root, "/etc/udev/rules.d/70-persistent-net.rules")
    assert "# guestready.gce replaced (GCE-FSTAB-NOFAIL): /dev/sdb1 /data ext4 defaults 0 2" in read(root, "/etc/fstab")
    cfg = read(root, "/boot/grub/grub.cfg")
    assert "ro quiet console=ttyS0,38400n8" in cfg and "set timeout=0" in cfg and "# guestready.gce replaced" in cfg
    # links, removals, the emptied ID
    assert os.readlink(os.path.join(root, "etc/systemd/system/getty.target.wants/serial-getty@ttyS0.service")) == \
        "/lib/systemd/system/serial-getty@.service"
    assert os.path.islink(os.path.join(root, "etc/systemd/system/multi-user.target.wants/google-guest-agent.service"))
    assert read(root, "/etc/machine-id") == "" and not os.path.exists(os.path.join(root, "var/lib/dbus/machine-id"))
    assert not [n for n in os.listdir(os.path.join(root, "etc/ssh")) if n.startswith("ssh_host_")]
    assert "sshd_config.d/00-guestready-gce.conf" in " ".join(d["after_header"] for d in out["diff"])
    again = run(run_module, root, diff=True)
    assert again["rc"] == 0 and again["changed"] is False, again["diff"]
    assert statuses(again) == found


def test_a_run_with_nothing_to_do_judges_the_host_once(tmp_path, run_module, monkeypatch):
    """The state is judged again after a run only when the run wrote or ran
    something (on an emulated guest a judgement costs seconds of systemctl)."""
    root = debian_image(tmp_path / "image")
    calls = []
    assess = gce_settings.assess
    monkeypatch.setattr(gce_settings, "assess", lambda *args: calls.append(1) or assess(*args))
    first = run(run_module, root)
    # as it is; after the changes (without the collection's files it is as it is: not judged again)
    assert first["changed"] is True and len(calls) == 2
    del calls[:]
    again = run(run_module, root)
    # as it is; without the collection's files (planning); nothing written: not judged after
    assert again["changed"] is False and len(calls) == 2
    assert statuses(again) == statuses(first)


def test_a_first_run_plans_as_if_judged_without_the_collection_s_files(tmp_path, run_module, monkeypatch):
    """Without any of the collection's own files, the state without them is
    the state judged: the plan from that judgement is the one a second
    judgement would give."""
    outs, digests = [], []
    for name, present in (("short", None), ("judged", True)):
        root = debian_image(tmp_path / name)
        if present:
            monkeypatch.setattr(gce_settings, "_own_files_present", lambda target: True)
        out = run(run_module, root, diff=True)
        outs.append(json.dumps([out["changed"], statuses(out), out["diff"], out["areas"]["gce_settings"]["commands"]],
                               sort_keys=True).replace(str(root), "ROOT"))
        digests.append(dict((os.path.relpath(path, root), value) for path, value in digest(root).items()))
    assert outs[0] == outs[1] and digests[0] == digests[1]
    # with one of them there (a link counts), the state without them is judged
    root = debian_image(tmp_path / "again")
    monkeypatch.undo()
    assert not gce_settings._own_files_present(gce_settings.configfiles.as_target(root))
    link(root, gce_settings.SSHD_DROPIN, "/nowhere")
    assert gce_settings._own_files_present(gce_settings.configfiles.as_target(root))


def test_check_mode_changes_nothing_and_shows_the_diff(tmp_path, run_module):
    root = debian_image(tmp_path / "image")
    before = digest(tmp_path)
    out = run(run_module, root, check_mode=True, diff=True)
    assert out["rc"] == 0 and out["changed"] is True
    assert digest(tmp_path) == before
    assert set(i for i, s in statuses(out).items() if s == "fail") == EXPECTED_FAILURES
    headers = [d["after_header"] for d in out["diff"]]
    assert any(h.endswith("zz-guestready-gce.cfg") for h in headers)
    assert any(h.endswith("ssh_host_rsa_key (removed)") for h in headers)


def test_the_diff_shows_the_unit_links_a_run_makes(tmp_path, run_module):
    # the links were changes (changed: true) that no diff showed
    root = debian_image(tmp_path / "image")
    wants = os.path.join(root, "etc/systemd/system")
    expected = [(os.path.join(wants, "getty.target.wants/serial-getty@ttyS0.service"),
                 "/lib/systemd/system/serial-getty@.service", "(GCE-BOOT-SERIAL-GETTY)\n"),
                (os.path.join(wants, "multi-user.target.wants/google-guest-agent.service"),
                 "/lib/systemd/system/google-guest-agent.service", "(GCE-GUEST-AGENT)\n")]
    shown = [{"before_header": path, "after_header": "%s (symbolic link to %s)" % (path, value), "before": "",
              "after": ids} for path, value, ids in expected]
    check = run(run_module, root, check_mode=True, diff=True)
    assert [d for d in check["diff"] if "symbolic link" in d["after_header"]] == shown
    out = run(run_module, root, diff=True)
    assert out["diff"] == check["diff"]
    assert [(path, os.readlink(path)) for path, value, ids in expected] == [(path, value) for path, value, ids in expected]
    assert run(run_module, root, check_mode=True, diff=True)["diff"] == []


def plugin_manager_agent(root, enabled):
    """Google's guest agent with its plugin manager: google-guest-agent.service
    shipped but left disabled, google-guest-agent-manager.service enabled by the
    package (GoogleCloudPlatform/guest-agent packaging/debian/rules) when ``enabled``."""
    unit = "google-guest-agent-manager.service"
    put(root, "/lib/systemd/system/" + unit, "[Service]\nExecStart=/usr/bin/google_guest_agent_manager\n"
        "[Install]\nWantedBy=multi-user.target\n")
    if enabled:
        link(root, "/etc/systemd/system/multi-user.target.wants/" + unit, "/lib/systemd/system/" + unit)
    return os.path.join(root, "etc/systemd/system/multi-user.target.wants")


def test_the_agent_plugin_manager_stands_in_for_the_agent_unit(tmp_path, run_module):
    """The manager enabled runs the agent: GCE-GUEST-AGENT passes, and the legacy
    unit is not enabled beside it (two agents)."""
    root = debian_image(tmp_path / "image")
    wants = plugin_manager_agent(root, True)
    out = run(run_module, root)
    assert out["rc"] == 0, out.get("msg")
    result = by_id(out)["GCE-GUEST-AGENT"]
    assert result["status"] == "pass" and not result["changed"]
    assert "google-guest-agent-manager.service enabled" in result["message"]
    assert not os.path.lexists(os.path.join(wants, "google-guest-agent.service"))


def test_the_agent_plugin_manager_is_enabled_rather_than_the_agent_unit(tmp_path, run_module):
    root = debian_image(tmp_path / "image")
    wants = plugin_manager_agent(root, False)
    check = run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}})
    assert by_id(check)["GCE-GUEST-AGENT"]["status"] == "fail"
    assert by_id(check)["GCE-GUEST-AGENT"]["remediation"] == "systemctl enable google-guest-agent-manager.service"
    out = run(run_module, root)
    assert out["rc"] == 0, out.get("msg")
    assert os.path.islink(os.path.join(wants, "google-guest-agent-manager.service"))
    assert not os.path.lexists(os.path.join(wants, "google-guest-agent.service"))
    assert statuses(out)["GCE-GUEST-AGENT"] == "pass"


def test_the_own_disk_rules_give_way_to_the_packaged_ones(tmp_path, run_module):
    """The collection's SCSI-only 65-gce-disk-naming.rules in /etc hides a packaged
    file of that name installed later (NVMe naming lost): it is removed (GCE-UDEV-DISK-NAMING)."""
    root = debian_image(tmp_path / "image")
    assert run(run_module, root)["rc"] == 0
    assert read(root, gce_settings.UDEV_DISK_RULES).startswith("# Written by guestready.gce")
    put(root, "/lib/udev/rules.d/65-gce-disk-naming.rules",
        'KERNEL=="nvme*n*", ATTRS{model}=="nvme_card-pd", IMPORT{program}="google_nvme_id -d $tempnode"\n'
        'KERNEL=="sd*|vd*|nvme*", ENV{DEVTYPE}=="disk", SYMLINK+="disk/by-id/google-$env{ID_SERIAL_SHORT}"\n')
    check = run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}})
    assert by_id(check)["GCE-UDEV-DISK-NAMING"]["status"] == "fail"
    out = run(run_module, root)
    assert out["rc"] == 0, out.get("msg")
    assert not os.path.lexists(os.path.join(root, gce_settings.UDEV_DISK_RULES.lstrip("/")))
    assert statuses(out)["GCE-UDEV-DISK-NAMING"] == "pass"
    assert by_id(out)["GCE-UDEV-DISK-NAMING"]["changed"]


def test_waivers_and_overrides(tmp_path, run_module):
    root = debian_image(tmp_path / "image")
    out = run(run_module, root, waivers={"GCE-SSH-NO-PASSWORD-AUTH": "bastion: passwords by design (SEC-9)"},
              overrides={"GCE-SSH-NO-ROOT-PASSWORD": "no", "GCE-SSH-KEEPALIVE": 300})
    assert out["rc"] == 0, out.get("msg")
    found = by_id(out)
    assert found["GCE-SSH-NO-PASSWORD-AUTH"]["status"] == "waived" and not found["GCE-SSH-NO-PASSWORD-AUTH"]["changed"]
    ssh = read(root, gce_settings.SSHD_DROPIN)
    assert "PasswordAuthentication" not in ssh and "PermitRootLogin no\n" in ssh and "ClientAliveInterval 300\n" in ssh
    assert found["GCE-SSH-NO-ROOT-PASSWORD"]["status"] == "pass"
    refused = run(run_module, root, overrides={"GCE-SSH-KEEPALIVE": 900})
    assert refused["rc"] == 1 and "between 1 and 599" in refused["msg"]
    refused = run(run_module, root, overrides={"GCE-BOOT-SERIAL-CONSOLE": "console=tty0"})
    assert refused["rc"] == 1 and "cannot be overridden" in refused["msg"]


@pytest.mark.parametrize("value,written", [("without-password", "without-password"), (False, "no")])
def test_root_login_override_by_alias_or_yaml_boolean(tmp_path, run_module, value, written):
    """without-password is prohibit-password's old name (sshd reads it as such), and an
    inventory's unquoted ``no`` is YAML's False: both are legal overrides that apply and pass."""
    root = debian_image(tmp_path / "image")
    out = run(run_module, root, overrides={"GCE-SSH-NO-ROOT-PASSWORD": value, "GCE-SSH-NO-PASSWORD-AUTH": False})
    assert out["rc"] == 0, out.get("msg")
    assert "PermitRootLogin %s\n" % written in read(root, gce_settings.SSHD_DROPIN)
    assert by_id(out)["GCE-SSH-NO-ROOT-PASSWORD"]["status"] == "pass", by_id(out)["GCE-SSH-NO-ROOT-PASSWORD"]
    assert by_id(out)["GCE-SSH-NO-PASSWORD-AUTH"]["status"] == "pass"


# --------------------------------------------------------------- lock-out
@pytest.mark.parametrize("connection,overrides,words", [
    ({"user": "alice", "auth": "password"}, {}, "PasswordAuthentication would be no for alice"),
    ({"user": "root", "auth": "password"}, {}, "for root, who logs in with a password"),
    ({"user": "root", "auth": "publickey"}, {"GCE-SSH-NO-ROOT-PASSWORD": "no"}, "PermitRootLogin would be no"),
    ({"user": "alice", "auth": "auto"}, {}, "detected from the user's authorized keys"),
])
def test_ssh_change_refused_before_anything_changes(tmp_path, run_module, connection, overrides, words):
    root = debian_image(tmp_path / "image")
    before = digest(tmp_path)
    out = run(run_module, root, connection=connection, overrides=overrides)
    assert out["rc"] == 1 and out["failed"], out
    assert "refusing to change the SSH server" in out["msg"] and words in out["msg"], out["msg"]
    assert "nothing was changed" in out["msg"]
    assert digest(tmp_path) == before, "the run fails before changing anything"


@pytest.mark.parametrize("connection", [{"user": "alice", "auth": "publickey"}, {"user": "alice", "auth": "auto"},
                                        {"user": "root", "auth": "publickey"}])
def test_ssh_change_allowed_for_key_logins(tmp_path, run_module, connection):
    root = debian_image(tmp_path / "image")
    put(root, "/home/alice/.ssh/authorized_keys", "ssh-ed25519 AAAA alice\n")
    out = run(run_module, root, connection=connection)
    assert out["rc"] == 0, out.get("msg")
    guard = out["areas"]["gce_settings"]["ssh_guard"]
    assert guard["checked"] and guard["auth"] == "publickey" and guard["user"] == connection["user"]


def test_ssh_session_of_the_run_is_not_who_logs_in_to_an_image_tree(tmp_path, run_module, monkeypatch):
    """A tree hardened from an SSH session on the build host (-c local): the session's
    SSH_CONNECTION is not a login to the tree, so root's password login is no reason to refuse."""
    root = debian_image(tmp_path / "image")
    monkeypatch.setenv("SSH_CONNECTION", "10.0.0.5 50000 10.0.0.1 22")
    out = run(run_module, root)
    assert out["rc"] == 0, out.get("msg")
    assert out["areas"]["gce_settings"]["ssh_guard"]["checked"] is False
    assert "PasswordAuthentication no" in read(root, gce_settings.SSHD_DROPIN)


def test_refusal_rules():
    who = {"user": "root", "auth": "publickey"}
    assert gce_settings.refusal({"permitrootlogin": "prohibit-password"}, who) is None
    assert "forced-commands-only" in gce_settings.refusal({"permitrootlogin": "forced-commands-only"}, who)
    assert "AuthenticationMethods" in gce_settings.refusal(
        {"permitrootlogin": "yes", "authenticationmethods": "publickey,password"}, who)
    assert gce_settings.refusal({"permitrootlogin": "yes", "authenticationmethods": "publickey password"}, who) is None
    pw = {"user": "bob", "auth": "password"}
    assert gce_settings.refusal({"passwordauthentication": "no", "kbdinteractiveauthentication": "yes",
                                 "usepam": "yes"}, pw) is None, "keyboard-interactive through PAM still asks"
    assert gce_settings.refusal({"passwordauthentication": "no", "usepam": "no"}, pw)
    assert gce_settings.refusal({"passwordauthentication": "no", "usepam": "yes"}, pw) is None, \
        "KbdInteractiveAuthentication defaults to yes"
    # sshd -T before OpenSSH 8.7: keyboard-interactive answers only with ChallengeResponseAuthentication
    assert gce_settings.refusal({"passwordauthentication": "no", "kbdinteractiveauthentication": "yes",
                                 "challengeresponseauthentication": "no", "usepam": "yes"}, pw)


def test_sshd_without_include_gets_a_marked_block(tmp_path, run_module):
    root = debian_image(tmp_path / "image")
    put(root, "/etc/ssh/sshd_config", "# site\nPasswordAuthentication yes\nMatch User backup\n  ForceCommand rsync\n")
    out = run(run_module, root)
    assert out["rc"] == 0
    text = read(root, "/etc/ssh/sshd_config")
    assert text.startswith(gce_settings.SSHD_BLOCK_BEGIN) and "# site\nPasswordAuthentication yes\n" in text
    assert not os.path.exists(os.path.join(root, gce_settings.SSHD_DROPIN.lstrip("/")))
    assert statuses(out)["GCE-SSH-NO-PASSWORD-AUTH"] == "pass"
    assert run(run_module, root)["changed"] is False
    assert read(root, "/etc/ssh/sshd_config").count(gce_settings.SSHD_BLOCK_BEGIN) == 1


def test_match_block_is_reported_never_edited(tmp_path, run_module):
    root = debian_image(tmp_path / "image")
    put(root, "/etc/ssh/sshd_config.d/50-admins.conf", "Match Group admins\n  PasswordAuthentication yes\n")
    out = run(run_module, root)
    result = by_id(out)["GCE-SSH-NO-PASSWORD-AUTH"]
    assert result["status"] == "fail" and "Match Group admins" in result["message"]
    assert "never edited" in result["remediation"]
    assert read(root, "/etc/ssh/sshd_config.d/50-admins.conf").endswith("PasswordAuthentication yes\n")


# systemd's own .network files (Debian 12's systemd 252, /usr/lib/systemd/network), which sort
# before a site's 90-*.network: none of them is for an Ethernet NIC named ens4
SYSTEMD_NETWORK_FILES = {
    "80-wifi-adhoc.network": "[Match]\nType=wlan\nWLANInterfaceType=ad-hoc\n[Network]\nLinkLocalAddressing=yes\n",
    "80-container-vz.network": "[Match]\nName=vz-*\nDriver=bridge\n[Network]\nAddress=0.0.0.0/24\n",
    "80-6rd-tunnel.network": "[Match]\nName=6rd-*\nType=sit\n[Network]\nIPv6AcceptRA=no\n",
    "85-bridges.network": "[Match]\nKind=bridge\n[Network]\nLinkLocalAddressing=no\n",
}


def test_networkd_files_for_other_link_types_do_not_configure_the_nic(tmp_path, run_module):
    root = debian_image(tmp_path / "image")
    os.unlink(os.path.join(root, "etc/systemd/network/50-dhcp.network"))
    for name, text in SYSTEMD_NETWORK_FILES.items():
        put(root, "/usr/lib/systemd/network/" + name, text)
    put(root, "/etc/systemd/network/90-ether.network", "[Match]\nType=ether\n[Network]\nDHCP=yes\n")
    result = by_id(run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}}))[
        "GCE-NET-DHCP"]
    assert result["status"] == "pass", result["message"]
    assert result["evidence"]["applies"]["where"].endswith("/etc/systemd/network/90-ether.network")
    adhoc = [c for c in result["evidence"]["configs"] if c["where"].endswith("80-wifi-adhoc.network")]
    assert adhoc[0]["not_ethernet"] == ["Type=wlan", "WLANInterfaceType=ad-hoc"]


def test_the_collection_s_own_network_file_is_written_once(tmp_path, run_module):
    # a minimal Debian with systemd-networkd enabled and no .network file: the state without the
    # collection's file was judged with an empty file in its place (a [Match]-less file matching
    # every link), so the second run added an UseMTU drop-in beside the file and reported a change
    root = debian_image(tmp_path / "image")
    os.unlink(os.path.join(root, "etc/systemd/network/50-dhcp.network"))
    first = run(run_module, root)
    assert first["rc"] == 0 and first["changed"] is True, first.get("msg")
    assert "UseMTU=true" in read(root, gce_settings.NETWORKD_FILE)
    written = digest(root)
    again = run(run_module, root, check_mode=True, diff=True)
    assert again["changed"] is False and again["diff"] == [], again["diff"]
    again = run(run_module, root)
    assert again["changed"] is False and digest(root) == written
    assert sorted(os.listdir(os.path.join(root, "etc/systemd/network"))) == ["80-guestready-gce.network"]


def test_directories_made_under_a_hardened_umask_are_readable_by_the_daemons(tmp_path, run_module):
    root = debian_image(tmp_path / "image")
    old = os.umask(0o027)
    try:
        out = run(run_module, root)
    finally:
        os.umask(old)
    assert out["rc"] == 0, out.get("msg")
    # systemd-timesyncd reads its drop-ins as systemd-timesync
    for path in ("etc/systemd/timesyncd.conf.d", "etc/default/grub.d", "etc/systemd/system/getty.target.wants",
                 "etc/systemd/network/50-dhcp.network.d"):
        assert stat.S_IMODE(os.lstat(os.path.join(root, path)).st_mode) == 0o755, path


@pytest.mark.parametrize("config, status", [
    # every connection gets the Match all value (and sshd -T shows it)
    ("PasswordAuthentication no\nMatch all\n  PasswordAuthentication yes\n", "fail"),
    ("PasswordAuthentication yes\nKbdInteractiveAuthentication no\nMatch all\n  PasswordAuthentication no\n",
     "pass"),
])
def test_a_match_all_block_decides_for_every_connection(tmp_path, run_module, config, status):
    root = debian_image(tmp_path / "image")
    put(root, "/etc/ssh/sshd_config", config)
    result = by_id(run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}}))[
        "GCE-SSH-NO-PASSWORD-AUTH"]
    assert result["status"] == status, result["message"]
    assert "Match all: every connection" in result["message"]


def test_a_match_all_block_sets_no_keyword_a_match_block_may_not_set(tmp_path, run_module):
    """UsePAM may not be set in a Match block: in a Match all block it is read at start-up, after
    the global line here, so PAM stays on and keyboard-interactive asks for passwords through it.
    The Match all value was taken for every connection and the check passed."""
    root = debian_image(tmp_path / "image")
    put(root, "/etc/ssh/sshd_config", "PasswordAuthentication no\nKbdInteractiveAuthentication yes\nUsePAM yes\n"
        "Match all\n  UsePAM no\n")
    result = by_id(run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}}))[
        "GCE-SSH-NO-PASSWORD-AUTH"]
    assert result["status"] == "fail", result["message"]


# openSUSE Leap 15's /etc/ssh/sshd_config (OpenSSH 8.4p1; comments shortened): keyboard-interactive at
# its default (yes), and PAM behind it
SUSE_SSHD_CONFIG = """#	$OpenBSD: sshd_config,v 1.103 2018/04/09 20:41:22 tj Exp $
#PermitRootLogin prohibit-password
AuthorizedKeysFile	.ssh/authorized_keys

# To disable tunneled clear text passwords, change to no here!
PasswordAuthentication no
#PermitEmptyPasswords no

# Change to no to disable s/key passwords
#ChallengeResponseAuthentication yes

# Set this to 'yes' to enable PAM authentication, account processing,
# and session processing. If this is enabled, PAM authentication will
# be allowed through the ChallengeResponseAuthentication and
# PasswordAuthentication.
UsePAM yes

X11Forwarding yes
ClientAliveInterval 420

# override default of no subsystems
Subsystem	sftp	/usr/lib/ssh/sftp-server

AcceptEnv LANG LC_CTYPE LC_NUMERIC LC_TIME LC_COLLATE LC_MONETARY LC_MESSAGES
"""

# Debian 12's /etc/ssh/sshd_config (openssh-server 1:9.2p1-2; the commented defaults left out)
DEBIAN_12_SSHD_CONFIG = """
# This is the sshd server system-wide configuration file.  See
# sshd_config(5) for more information.

Include /etc/ssh/sshd_config.d/*.conf

# To disable tunneled clear text passwords, change to no here!
#PasswordAuthentication yes
#PermitEmptyPasswords no

# Change to yes to enable challenge-response passwords (beware issues with
# some PAM modules and threads)
KbdInteractiveAuthentication no

UsePAM yes

X11Forwarding yes
PrintMotd no

# Allow client to pass locale environment variables
AcceptEnv LANG LC_*

# override default of no subsystems
Subsystem	sftp	/usr/lib/openssh/sftp-server
"""


def test_passwords_through_pam_keyboard_interactive_fail_and_apply_closes_them(tmp_path, run_module):
    root = debian_image(tmp_path / "image")
    put(root, "/etc/ssh/sshd_config", SUSE_SSHD_CONFIG)
    result = by_id(run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}}))[
        "GCE-SSH-NO-PASSWORD-AUTH"]
    assert result["status"] == "fail", result
    assert ("PAM takes passwords through keyboard-interactive: KbdInteractiveAuthentication yes (sshd's default), "
            "UsePAM yes (%s/etc/ssh/sshd_config:16)" % root) in result["message"]
    assert "KbdInteractiveAuthentication no" in result["remediation"]
    out = run(run_module, root, connection={"user": "alice", "auth": "publickey"})
    assert out["rc"] == 0, out.get("msg")
    assert statuses(out)["GCE-SSH-NO-PASSWORD-AUTH"] == "pass"
    text = read(root, "/etc/ssh/sshd_config")
    block = text[:text.index(gce_settings.SSHD_BLOCK_END)]
    assert "\nKbdInteractiveAuthentication no\n" in block and "\nChallengeResponseAuthentication no\n" in block
    assert text.endswith(SUSE_SSHD_CONFIG)
    assert run(run_module, root)["changed"] is False


def test_keyboard_interactive_opened_by_a_match_block_fails(tmp_path, run_module):
    root = debian_image(tmp_path / "image")
    put(root, "/etc/ssh/sshd_config", DEBIAN_12_SSHD_CONFIG + "Match Group sftponly\n\tKbdInteractiveAuthentication yes\n")
    put(root, "/etc/ssh/sshd_config.d/60-site.conf", "PasswordAuthentication no\n")
    result = by_id(run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}}))[
        "GCE-SSH-NO-PASSWORD-AUTH"]
    assert result["status"] == "fail" and "Match Group sftponly" in result["message"], result
    assert "KbdInteractiveAuthentication yes" in result["message"]


def test_debian_12_sshd_config_needs_only_password_authentication(tmp_path, run_module):
    root = debian_image(tmp_path / "image")
    put(root, "/etc/ssh/sshd_config", DEBIAN_12_SSHD_CONFIG)
    out = run(run_module, root)
    assert out["rc"] == 0, out.get("msg")
    dropin = read(root, gce_settings.SSHD_DROPIN)
    assert "PasswordAuthentication no\n" in dropin and "Kbd" not in dropin and "ChallengeResponse" not in dropin
    assert dropin.count("GCE-SSH-NO-PASSWORD-AUTH") == 2, "the header and its line"
    assert statuses(out)["GCE-SSH-NO-PASSWORD-AUTH"] == "pass"
    # with the site's own setting, Debian's file passes as it is
    root = debian_image(tmp_path / "site")
    put(root, "/etc/ssh/sshd_config", DEBIAN_12_SSHD_CONFIG)
    put(root, "/etc/ssh/sshd_config.d/60-site.conf", "PasswordAuthentication no\n")
    result = by_id(run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}}))[
        "GCE-SSH-NO-PASSWORD-AUTH"]
    assert result["status"] == "pass" and result["actual"] == "no", result
    assert "KbdInteractiveAuthentication no (%s/etc/ssh/sshd_config:13)" % root in result["message"]


def test_sshd_config_spellings_sshd_accepts(tmp_path, run_module):
    # '=' with blanks around it (misc.c strdelim) and a keep-alive in minutes (misc.c convtime)
    root = debian_image(tmp_path / "image")
    put(root, "/etc/ssh/sshd_config", "Include /etc/ssh/sshd_config.d/*.conf\nPasswordAuthentication = no\n"
        "PermitRootLogin =no\nClientAliveInterval 7m\nSubsystem sftp /usr/lib/openssh/sftp-server\n")
    info = {"areas": ["gce_settings"], "gce_settings": {"root": root}}
    found = by_id(run_module(compliance_info, info))
    for rid in ("GCE-SSH-NO-PASSWORD-AUTH", "GCE-SSH-NO-ROOT-PASSWORD", "GCE-SSH-KEEPALIVE"):
        assert found[rid]["status"] == "pass", found[rid]
    put(root, "/etc/ssh/sshd_config", "ClientAliveInterval 1h\nPasswordAuthentication no\n")
    result = by_id(run_module(compliance_info, info))["GCE-SSH-KEEPALIVE"]
    assert result["status"] == "fail" and "ClientAliveInterval is 1h" in result["message"]


@pytest.mark.parametrize("config, rid, status", [
    # misc.c argv_split() (OpenSSH 8.7 and newer): a word starting with '#' ends the line
    ("PasswordAuthentication yes # until the keys are in\n", "GCE-SSH-NO-PASSWORD-AUTH", "fail"),
    ("PasswordAuthentication no # keys only\n", "GCE-SSH-NO-PASSWORD-AUTH", "pass"),
    ("PasswordAuthentication no\nPermitRootLogin no # never\n", "GCE-SSH-NO-ROOT-PASSWORD", "pass"),
    ("PasswordAuthentication no\nClientAliveInterval 420 # 7 minutes\n", "GCE-SSH-KEEPALIVE", "pass"),
    ("PasswordAuthentication yes\nMatch all # every connection\n  PasswordAuthentication no\n",
     "GCE-SSH-NO-PASSWORD-AUTH", "pass"),
    # single quotes group like double ones
    ("PasswordAuthentication 'yes'\n", "GCE-SSH-NO-PASSWORD-AUTH", "fail"),
    ("PasswordAuthentication no\nPermitRootLogin 'no'\n", "GCE-SSH-NO-ROOT-PASSWORD", "pass"),
    # servconf.c keywords[] (8.7 and newer): SKeyAuthentication is KbdInteractiveAuthentication
    ("PasswordAuthentication no\nUsePAM yes\nSKeyAuthentication yes\nKbdInteractiveAuthentication no\n",
     "GCE-SSH-NO-PASSWORD-AUTH", "fail"),
    ("PasswordAuthentication no\nUsePAM yes\nSKeyAuthentication no\n", "GCE-SSH-NO-PASSWORD-AUTH", "pass"),
    # a Match all in a file included in a Match block with criteria is that block
    ("PasswordAuthentication yes\nMatch User admin\n  Include /etc/ssh/admin.conf\n", "GCE-SSH-NO-PASSWORD-AUTH",
     "fail"),
])
def test_sshd_config_lines_as_sshd_reads_them(tmp_path, run_module, config, rid, status):
    root = debian_image(tmp_path / "image")
    put(root, "/etc/ssh/sshd_config", config)
    put(root, "/etc/ssh/admin.conf", "Match all\n  PasswordAuthentication no\n")
    result = by_id(run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}}))[rid]
    assert result["status"] == status, result["message"]


@pytest.mark.parametrize("config, dropins", [
    # settings before the Include line (Debian puts it first; other layouts later)
    ("PasswordAuthentication yes\nInclude /etc/ssh/sshd_config.d/*.conf\n", {}),
    # a drop-in that sorts before the collection's sets them first
    ("Include /etc/ssh/sshd_config.d/*.conf\nSubsystem sftp /usr/lib/openssh/sftp-server\n",
     {"00-base.conf": "PasswordAuthentication yes\nPermitRootLogin yes\n"}),
])
def test_sshd_dropin_that_would_be_read_too_late_becomes_a_marked_block(tmp_path, run_module, config, dropins):
    """First value wins: a drop-in read after a setting of the same keyword
    changes nothing, so the settings go to the top of sshd_config."""
    root = debian_image(tmp_path / "image")
    put(root, "/etc/ssh/sshd_config", config)
    for name, text in dropins.items():
        put(root, "/etc/ssh/sshd_config.d/" + name, text)
    out = run(run_module, root)
    assert out["rc"] == 0, out.get("msg")
    assert read(root, "/etc/ssh/sshd_config").startswith(gce_settings.SSHD_BLOCK_BEGIN)
    assert not os.path.exists(os.path.join(root, gce_settings.SSHD_DROPIN.lstrip("/")))
    for rid in ("GCE-SSH-NO-PASSWORD-AUTH", "GCE-SSH-NO-ROOT-PASSWORD", "GCE-SSH-KEEPALIVE"):
        assert statuses(out)[rid] == "pass", by_id(out)[rid]["message"]
    assert run(run_module, root)["changed"] is False


# ------------------------------------------------------------- Red Hat tree
def red_hat_image(root):
    root = str(root)
    put(root, "/usr/sbin/grub2-mkconfig", "#!/bin/sh\n. /etc/default/grub\n")
    put(root, "/etc/default/grub", 'GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX="crashkernel=auto rhgb quiet"\n')
    put(root, "/boot/grub2/grub.cfg", "set timeout=5\nblscfg\n")
    put(root, "/boot/loader/entries/a-5.14.conf", "title RHEL\nlinux /vmlinuz-5.14\noptions $kernelopts\n")
    put(root, "/boot/loader/entries/a-5.15.conf", "title RHEL\nlinux /vmlinuz-5.15\noptions root=/dev/vda ro\n")
    env = "# GRUB Environment Block\nkernelopts=root=/dev/vda ro\n"
    put(root, "/boot/grub2/grubenv", env + "#" * (1024 - len(env)))
    put(root, "/etc/chrony.conf", "pool 2.rhel.pool.ntp.org iburst\ndriftfile /var/lib/chrony/drift\n")
    put(root, "/usr/lib/systemd/system/chronyd.service", "[Install]\nWantedBy=multi-user.target\n")
    link(root, "/etc/systemd/system/multi-user.target.wants/chronyd.service", "/usr/lib/systemd/system/chronyd.service")
    return root


def test_red_hat_layout_edits_defaults_bls_grubenv_and_chrony(tmp_path, run_module):
    root = red_hat_image(tmp_path / "image")
    out = run(run_module, root)
    assert out["rc"] == 0, out.get("msg")
    found = statuses(out)
    assert found["GCE-BOOT-SERIAL-CONSOLE"] == "pass" and found["GCE-BOOT-TIMEOUT"] == "pass"
    assert found["GCE-TIME-METADATA-NTP"] == "pass"
    defaults = read(root, "/etc/default/grub")
    assert '# guestready.gce replaced (GCE-BOOT-SERIAL-CONSOLE): GRUB_CMDLINE_LINUX="crashkernel=auto rhgb quiet"' in defaults
    assert 'GRUB_CMDLINE_LINUX="crashkernel=auto rhgb quiet console=ttyS0,38400n8"' in defaults
    assert not os.path.exists(os.path.join(root, "etc/default/grub.d")), "Red Hat's grub2-mkconfig reads no drop-ins"
    assert "options root=/dev/vda ro console=ttyS0,38400n8" in read(root, "/boot/loader/entries/a-5.15.conf")
    assert "options $kernelopts\n" in read(root, "/boot/loader/entries/a-5.14.conf")
    env = read(root, "/boot/grub2/grubenv")
    assert len(env) == 1024 and "kernelopts=root=/dev/vda ro console=ttyS0,38400n8\n" in env
    chrony = read(root, "/etc/chrony.conf")
    assert "# guestready.gce neutralised (GCE-TIME-METADATA-NTP): pool 2.rhel.pool.ntp.org iburst" in chrony
    assert chrony.endswith("server metadata.google.internal iburst\n")
    assert run(run_module, root)["changed"] is False


def test_debian_chrony_gets_its_source_in_a_directory_that_outlives_a_boot(tmp_path, run_module):
    # Debian 12's chrony.conf: its first sourcedir is /run/chrony-dhcp, a tmpfs at boot
    root = debian_image(tmp_path / "image")
    os.unlink(os.path.join(root, "etc/systemd/system/sysinit.target.wants/systemd-timesyncd.service"))  # chrony replaces it
    put(root, "/etc/chrony/chrony.conf", "pool 2.debian.pool.ntp.org iburst\nsourcedir /run/chrony-dhcp\n"
                                         "sourcedir /etc/chrony/sources.d\n")
    put(root, "/lib/systemd/system/chrony.service", "[Install]\nWantedBy=multi-user.target\n")
    link(root, "/etc/systemd/system/multi-user.target.wants/chrony.service", "/lib/systemd/system/chrony.service")
    out = run(run_module, root)
    assert out["rc"] == 0, out.get("msg")
    assert statuses(out)["GCE-TIME-METADATA-NTP"] == "pass", by_id(out)["GCE-TIME-METADATA-NTP"]["message"]
    assert not os.path.exists(os.path.join(root, "run", "chrony-dhcp"))
    written = os.listdir(os.path.join(root, "etc", "chrony", "sources.d"))
    assert len(written) == 1 and read(root, "/etc/chrony/sources.d/" + written[0]).endswith(
        "server metadata.google.internal iburst\n")
    assert run(run_module, root)["changed"] is False


def chrony_image(root, conf):
    """debian_image with chrony instead of timesyncd and ``conf`` as its chrony.conf."""
    root = debian_image(root)
    os.unlink(os.path.join(root, "etc/systemd/system/sysinit.target.wants/systemd-timesyncd.service"))
    put(root, "/etc/chrony/chrony.conf", conf)
    put(root, "/lib/systemd/system/chrony.service", "[Install]\nWantedBy=multi-user.target\n")
    link(root, "/etc/systemd/system/multi-user.target.wants/chrony.service", "/lib/systemd/system/chrony.service")
    return root


@pytest.mark.parametrize("server", ["METADATA.Google.Internal", "metadata.google.internal.", "169.254.169.254"])
def test_metadata_server_in_any_spelling_the_resolver_accepts(tmp_path, run_module, server):
    # host names are matched without case (RFC 4343); a trailing dot is the same fully qualified name
    conf = "server %s iburst\n" % server
    root = chrony_image(tmp_path / "image", conf)
    result = by_id(run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}}))[
        "GCE-TIME-METADATA-NTP"]
    assert result["status"] == "pass", result
    assert run(run_module, root)["rc"] == 0 and read(root, "/etc/chrony/chrony.conf") == conf


@pytest.mark.parametrize("line, why", [
    ("server metadata.google.internal iburst noselect", "noselect: chronyd never synchronises to it"),
    ("server metadata.google.internal iburst # gce", "chronyd does not start: invalid option #"),
])
def test_a_metadata_server_chronyd_does_not_use_is_replaced(tmp_path, run_module, line, why):
    root = chrony_image(tmp_path / "image", line + "\n")
    result = by_id(run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}}))[
        "GCE-TIME-METADATA-NTP"]
    assert result["status"] == "fail" and why in result["message"], result
    out = run(run_module, root)
    assert out["rc"] == 0, out.get("msg")
    assert statuses(out)["GCE-TIME-METADATA-NTP"] == "pass", by_id(out)["GCE-TIME-METADATA-NTP"]["message"]
    chrony = read(root, "/etc/chrony/chrony.conf")
    assert chrony.startswith("# guestready.gce neutralised (GCE-TIME-METADATA-NTP): " + line + "\n")
    assert chrony.endswith("server metadata.google.internal iburst\n")
    assert run(run_module, root)["changed"] is False


def test_a_chrony_refclock_is_a_second_time_source(tmp_path, run_module):
    # Azure's chrony.conf: its PTP clock beside the metadata server
    root = chrony_image(tmp_path / "image", "server metadata.google.internal iburst\n"
                        "refclock PHC /dev/ptp_hyperv poll 3 dpoll -2 offset 0\n")
    result = by_id(run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}}))[
        "GCE-TIME-METADATA-NTP"]
    assert result["status"] == "fail" and "also uses refclock PHC /dev/ptp_hyperv" in result["message"], result
    out = run(run_module, root)
    assert statuses(out)["GCE-TIME-METADATA-NTP"] == "pass", by_id(out)["GCE-TIME-METADATA-NTP"]["message"]
    assert "# guestready.gce neutralised (GCE-TIME-METADATA-NTP): refclock PHC" in read(root, "/etc/chrony/chrony.conf")


def test_chrony_is_judged_and_fixed_in_the_file_its_unit_starts_it_with(tmp_path, run_module):
    """Debian's chrony.service runs ``chronyd $DAEMON_OPTS`` from
    /etc/default/chrony: with -f there, chronyd reads that file, not
    chrony.conf; apply writes the source into that file's sourcedir and
    comments out that file's pool, leaving the unused chrony.conf alone."""
    conf = "server metadata.google.internal iburst\n"
    root = chrony_image(tmp_path / "image", conf)
    put(root, "/lib/systemd/system/chrony.service", "[Service]\nType=forking\nEnvironmentFile=-/etc/default/chrony\n"
        "ExecStart=!/usr/sbin/chronyd $DAEMON_OPTS\n[Install]\nAlias=chronyd.service\nWantedBy=multi-user.target\n")
    put(root, "/etc/default/chrony", '# Options to pass to chrony.\nDAEMON_OPTS="-F 1 -f /etc/chrony/gce.conf"\n')
    put(root, "/etc/chrony/gce.conf", "pool 2.debian.pool.ntp.org iburst\nsourcedir /etc/chrony/gce.d\n")
    os.makedirs(os.path.join(root, "etc/chrony/sources.d"))
    result = by_id(run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}}))[
        "GCE-TIME-METADATA-NTP"]
    assert result["status"] == "fail" and "chrony also uses 2.debian.pool.ntp.org (%s:1)" % os.path.join(
        root, "etc/chrony/gce.conf") in result["message"], result
    assert "chrony.service starts chronyd with -F 1 -f /etc/chrony/gce.conf" in result["message"]
    out = run(run_module, root)
    assert out["rc"] == 0, out.get("msg")
    assert statuses(out)["GCE-TIME-METADATA-NTP"] == "pass", by_id(out)["GCE-TIME-METADATA-NTP"]["message"]
    assert read(root, "/etc/chrony/gce.conf").startswith(
        "# guestready.gce neutralised (GCE-TIME-METADATA-NTP): pool 2.debian.pool.ntp.org iburst\n")
    written = os.listdir(os.path.join(root, "etc", "chrony", "gce.d"))
    assert len(written) == 1 and read(root, "/etc/chrony/gce.d/" + written[0]).endswith(
        "server metadata.google.internal iburst\n")
    assert read(root, "/etc/chrony/chrony.conf") == conf and os.listdir(os.path.join(root, "etc/chrony/sources.d")) == []
    assert run(run_module, root)["changed"] is False


def test_chrony_started_with_a_file_that_does_not_exist_fails_and_is_not_written(tmp_path, run_module):
    """chrony 4.8 conf.c CNF_ReadFile(): a configuration file that cannot be
    opened is fatal, so chronyd does not start whatever chrony.conf says;
    no file written makes it start."""
    root = red_hat_image(tmp_path / "image")
    put(root, "/etc/chrony.conf", "server metadata.google.internal iburst\n")
    put(root, "/usr/lib/systemd/system/chronyd.service", "[Service]\nEnvironmentFile=-/etc/sysconfig/chronyd\n"
        "ExecStart=/usr/sbin/chronyd $OPTIONS\n[Install]\nWantedBy=multi-user.target\n")
    put(root, "/etc/sysconfig/chronyd", "# Command-line options for chronyd\nOPTIONS=\"-F 2 -f /etc/chrony-gce.conf\"\n")
    result = by_id(run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}}))[
        "GCE-TIME-METADATA-NTP"]
    assert result["status"] == "fail" and result["message"].startswith(
        "chronyd does not start: chronyd.service starts chronyd with -F 2 -f /etc/chrony-gce.conf"), result
    assert "which does not exist" in result["message"]
    before = digest(os.path.join(root, "etc"))
    out = run(run_module, root)
    assert statuses(out)["GCE-TIME-METADATA-NTP"] == "fail"
    assert not os.path.exists(os.path.join(root, "etc/chrony-gce.conf"))
    assert read(root, "/etc/chrony.conf") == "server metadata.google.internal iburst\n"
    assert [path for path, found in digest(os.path.join(root, "etc")).items()
            if "chrony" in os.path.relpath(path, root) and before.get(path) != found] == []


def test_someone_elses_file_at_the_collections_names_is_not_replaced(tmp_path, run_module):
    # an admin's sshd drop-in, and udev's way to switch a rules file off (a link to /dev/null)
    root = debian_image(tmp_path / "image")
    put(root, "/etc/ssh/sshd_config.d/00-guestready-gce.conf", "Banner /etc/issue.net\n")
    link(root, "/etc/udev/rules.d/65-gce-disk-naming.rules", "/dev/null")
    for check_mode in (True, False):
        out = run(run_module, root, check_mode=check_mode)
        assert out["rc"] == 1 and out["failed"] is True
        assert ("gce_settings: %s/etc/ssh/sshd_config.d/00-guestready-gce.conf: holds settings that are not "
                "the collection's (no guestready.gce header): not replaced" % root) in out["msg"]
        assert ("%s/etc/udev/rules.d/65-gce-disk-naming.rules: a symbolic link to /dev/null, not the "
                "collection's file: not replaced (GCE-UDEV-DISK-NAMING stays as it is judged)" % root) in out["msg"]
        assert read(root, "/etc/ssh/sshd_config.d/00-guestready-gce.conf") == "Banner /etc/issue.net\n"
        assert os.readlink(os.path.join(root, "etc/udev/rules.d/65-gce-disk-naming.rules")) == "/dev/null"
    found = statuses(out)
    assert found["GCE-BOOT-SERIAL-CONSOLE"] == "pass", "the rest of the plan is applied"
    assert found["GCE-UDEV-DISK-NAMING"] == "fail"


def test_a_directory_named_like_a_host_key_is_not_one(tmp_path, run_module):
    # the ssh_host_* glob took it for a key: removal stopped at it, half the keys gone
    root = debian_image(tmp_path / "image")
    os.makedirs(os.path.join(root, "etc/ssh/ssh_host_keys.d"))
    out = run(run_module, root)
    assert out["rc"] == 0, out.get("msg")
    assert statuses(out)["GCE-SSH-NO-HOST-KEYS"] == "pass"
    assert sorted(n for n in os.listdir(os.path.join(root, "etc/ssh")) if n.startswith("ssh_host_")) == \
        ["ssh_host_keys.d"]


def test_a_run_that_waited_for_the_lock_judges_what_the_run_before_it_wrote(tmp_path, run_module, monkeypatch):
    # the run before finishes while this one waits: nothing is left to change
    done = debian_image(tmp_path / "done")
    assert run(run_module, done)["changed"] is True
    root = debian_image(tmp_path / "image")
    real_lock = target_module.Target.lock

    @contextlib.contextmanager
    def lock(self, *args, **kwargs):
        shutil.rmtree(root)
        shutil.copytree(done, root, symlinks=True)   # what the other run wrote
        with real_lock(self, *args, **kwargs) as waited:
            yield waited
    monkeypatch.setattr(target_module.Target, "lock", lock)
    out = run(run_module, root)
    assert out["rc"] == 0, out.get("msg")
    assert out["changed"] is False and out["areas"]["gce_settings"]["units_enabled"] == []


def test_links_already_in_place_are_not_reported_as_enabled_again(tmp_path, run_module):
    # a preset directory that cannot be read leaves the getty unknown, so each run plans
    # to enable it: the links made the first time are not "changed" the next
    root = debian_image(tmp_path / "image")
    os.makedirs(os.path.join(root, "usr/lib/systemd"))
    os.mkfifo(os.path.join(root, "usr/lib/systemd/system-preset"))
    first = run(run_module, root)
    assert first["rc"] == 0 and "serial-getty@ttyS0.service" in first["areas"]["gce_settings"]["units_enabled"]
    assert statuses(first)["GCE-BOOT-SERIAL-GETTY"] == "unknown"
    assert run(run_module, root, check_mode=True)["changed"] is False
    again = run(run_module, root)
    assert again["rc"] == 0 and again["changed"] is False, again["areas"]["gce_settings"]["units_enabled"]
    assert again["areas"]["gce_settings"]["units_enabled"] == []
    assert not by_id(again)["GCE-BOOT-SERIAL-GETTY"]["changed"]


def test_an_admins_link_at_a_units_name_is_not_replaced(tmp_path, run_module):
    # the guest agent's Alias= name already links to another unit: systemctl enable refuses
    root = debian_image(tmp_path / "image")
    put(root, "/lib/systemd/system/google-guest-agent.service",
        "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\nAlias=gce-agent.service\n")
    put(root, "/etc/systemd/system/my-agent.service", "[Service]\nExecStart=/bin/true\n")
    link(root, "/etc/systemd/system/gce-agent.service", "/etc/systemd/system/my-agent.service")
    # and a directory where the serial getty's wants link goes
    os.makedirs(os.path.join(root, "etc/systemd/system/getty.target.wants/serial-getty@ttyS0.service"))
    for attempt in range(2):
        out = run(run_module, root)
        assert out["rc"] == 1
        assert ("%s/etc/systemd/system/gce-agent.service already exists and is a symbolic link to "
                "/etc/systemd/system/my-agent.service, not /lib/systemd/system/google-guest-agent.service: not "
                "replaced (systemctl enable refuses it too)" % root) in out["msg"]
        assert os.readlink(os.path.join(root, "etc/systemd/system/gce-agent.service")) == \
            "/etc/systemd/system/my-agent.service"
        assert out["areas"]["gce_settings"]["units_enabled"] == [], "nothing was enabled"
        assert not os.path.exists(os.path.join(root, "etc/systemd/system/multi-user.target.wants/"
                                                     "google-guest-agent.service"))


def test_sysctl_coexistence(tmp_path, run_module):
    root = debian_image(tmp_path / "image")
    put(root, "/usr/lib/sysctl.d/60-gce-network-security.conf", "net.ipv4.ip_forward=0\nkernel.randomize_va_space=2\n")
    put(root, "/usr/lib/systemd/systemd-sysctl", "")
    info = {"areas": ["gce_settings"], "gce_settings": {"root": root}}
    assert statuses(run_module(compliance_info, info))["GCE-SYSCTL-COEXIST"] == "pass"
    put(root, "/etc/sysctl.conf", "net.ipv4.ip_forward = 1\n")  # wins for procps only
    result = by_id(run_module(compliance_info, info))["GCE-SYSCTL-COEXIST"]
    assert result["status"] == "fail" and "net.ipv4.ip_forward ends as procps=1" in result["message"]


def test_sysctl_coexistence_with_google_s_file_a_dangling_link_is_not_applicable(tmp_path, run_module):
    """The loaders skip a link to a missing file (systemd-sysctl silently, procps with a
    warning): Google's file is then not in force, so there is nothing to coexist with."""
    root = debian_image(tmp_path / "image")
    put(root, "/usr/lib/systemd/systemd-sysctl", "")
    os.makedirs(os.path.join(root, "etc/sysctl.d"), exist_ok=True)
    os.symlink("/usr/share/google/60-gce-network-security.conf",
               os.path.join(root, "etc/sysctl.d/60-gce-network-security.conf"))
    info = {"areas": ["gce_settings"], "gce_settings": {"root": root}}
    result = by_id(run_module(compliance_info, info))["GCE-SYSCTL-COEXIST"]
    assert result["status"] == "not-applicable", result["message"]
    assert "is a link to a missing file" in result["message"]


@pytest.mark.parametrize("value, status", [("0x2", "pass"), ("+2", "fail"), ("5", "fail"), ("0", "fail"), ("1", "pass")])
def test_sysctl_coexistence_reads_values_as_the_kernel_does(tmp_path, run_module, value, status):
    # the kernel reads 0x2 as 2 and refuses +2 and 5 (kptr_restrict keeps its earlier value)
    root = debian_image(tmp_path / "image")
    put(root, "/usr/lib/sysctl.d/60-gce-network-security.conf", "kernel.kptr_restrict = %s\n" % value)
    put(root, "/usr/lib/systemd/systemd-sysctl", "")
    info = {"areas": ["gce_settings"], "gce_settings": {"root": root}}
    assert statuses(run_module(compliance_info, info))["GCE-SYSCTL-COEXIST"] == status


# ------------------------------------------------------------------ live
class FakeModule(object):
    """AnsibleModule's run_command/get_bin_path, recording the commands."""
    check_mode = False

    def __init__(self, root):
        self.root, self.commands = root, []

    def get_bin_path(self, name, required=False, opt_dirs=None):
        return None if name == "sshd" else "/usr/bin/" + name

    def run_command(self, argv, environ_update=None):
        self.commands.append(argv)
        name = os.path.basename(argv[0])
        if name == "systemctl" and argv[1] in ("is-enabled", "is-active"):
            return 1, "disabled" if argv[1] == "is-enabled" else "inactive", ""
        if name == "blkid":
            return 0, "1111-2222\n" if argv[-1] == "/dev/sda1" else "3333-4444\n", ""
        return 0, "", ""

    def warn(self, message):
        pass


def live_apply(tmp_path, monkeypatch, module_class, generalize=False):
    """apply_gce on a Debian tree taken for the running system; (root, module, result)."""
    root = debian_image(tmp_path / "image")
    monkeypatch.setattr(gce_settings, "live_root", lambda path: True)
    module = module_class(root)
    params = dict(root=root, generalize=generalize, interface="ens4", connection={}, install_packages=True,
                  regenerate_bootloader=True, reload_services=True, lock_timeout=10)
    return root, module, gce_settings.apply_gce(params, requirements("gce"), {}, module)


def test_live_path_runs_the_distribution_tools(tmp_path, monkeypatch):
    root, module, out = live_apply(tmp_path, monkeypatch, FakeModule)
    commands = [" ".join(c) for c in module.commands]
    assert out["packages"] == ["google-compute-engine-oslogin"]
    assert any(c.startswith("/usr/bin/apt-get install -y") and c.endswith("google-compute-engine-oslogin")
               for c in commands)
    assert "/usr/bin/update-grub" in commands
    assert "/usr/bin/systemctl reload ssh.service" in commands
    assert "/usr/bin/systemctl restart systemd-timesyncd.service" in commands
    assert "/usr/bin/systemctl enable serial-getty@ttyS0.service" in commands
    assert "/usr/bin/udevadm trigger --action=change --subsystem-match=block" in commands
    fstab = read(root, "/etc/fstab")
    assert "UUID=1111-2222\t/\text4" in fstab and "UUID=3333-4444\t/data\text4\tdefaults,nofail" in fstab
    assert "# guestready.gce replaced (GCE-FSTAB-STABLE-NAMES): /dev/sda1 / ext4" in fstab
    # a live system keeps its host keys and ID unless it is being generalised
    assert os.path.exists(os.path.join(root, "etc/ssh/ssh_host_rsa_key"))
    assert read(root, "/etc/machine-id").strip()
    found = statuses(out)
    assert found["GCE-SSH-NO-HOST-KEYS"] == "not-applicable" and found["GCE-IMAGE-MACHINE-ID"] == "not-applicable"
    # grub.cfg is regenerated by the distribution's tool live, never patched
    assert "console=ttyS0" not in read(root, "/boot/grub/grub.cfg")


def test_machine_id_linked_to_the_dbus_file_is_emptied_not_left_dangling(tmp_path, run_module):
    """/etc/machine-id a link to /var/lib/dbus/machine-id: one file, emptied
    through the link; removing it as a "separate copy" left /etc/machine-id
    dangling, which systemd's machine_id_setup cannot create (GCE-IMAGE-MACHINE-ID)."""
    root = debian_image(tmp_path / "image")
    os.unlink(os.path.join(root, "etc/machine-id"))
    link(root, "/etc/machine-id", "/var/lib/dbus/machine-id")
    out = run(run_module, root)
    assert out["rc"] == 0, out.get("msg")
    assert os.path.islink(os.path.join(root, "etc/machine-id"))
    assert read(root, "/var/lib/dbus/machine-id") == ""
    assert statuses(out)["GCE-IMAGE-MACHINE-ID"] == "pass"


def test_planning_asks_systemctl_nothing_it_was_told(tmp_path, monkeypatch):
    """systemctl is asked about each unit once before the changes (planning
    judges the host twice, from the same answers) and once after them."""
    root, module, out = live_apply(tmp_path, monkeypatch, FakeModule)
    assert out["changed"] is True
    asked = [" ".join(c[1:]) for c in module.commands if os.path.basename(c[0]) == "systemctl"
             and c[1] in ("is-enabled", "is-active")]
    assert any(c.startswith("is-enabled ") for c in asked) and any(c.startswith("is-active ") for c in asked)
    assert all(asked.count(c) == 2 for c in asked), sorted(asked)


# ----------------------------------------------------------------- hostile
SECRET = "PasswordAuthentication yes\nSECRET-OUTSIDE\n"


def include_outside(root, outside):
    put(outside, "/evil.conf", SECRET)
    put(root, "/etc/ssh/sshd_config", "Include %s/evil.conf\nInclude ../../../../../..%s/evil.conf\n" % (outside, outside))
    return None


def grub_links_outside(root, outside):
    put(outside, "/grub", 'GRUB_CMDLINE_LINUX="SECRET-OUTSIDE"\n')
    os.unlink(os.path.join(root, "etc/default/grub"))
    link(root, "/etc/default/grub", outside + "/grub")
    return None


def fstab_is_a_fifo(root, outside):
    os.unlink(os.path.join(root, "etc/fstab"))
    os.mkfifo(os.path.join(root, "etc/fstab"))
    return r"fstab: is a FIFO"


def machine_id_links_outside(root, outside):
    put(outside, "/machine-id", "SECRET-OUTSIDE\n")
    os.unlink(os.path.join(root, "etc/machine-id"))
    link(root, "/etc/machine-id", outside + "/machine-id")
    return None


def netplan_garbage(root, outside):
    put(root, "/etc/netplan/01.yaml", "network:\n  ethernets:\n\tens4: {}\n")
    return r"01.yaml:3: tab in indentation"


def wants_is_a_file(root, outside):
    put(root, "/etc/systemd/system/getty.target.wants", "not a directory\n")
    return r"getty.target.wants"


def chrony_include_loop(root, outside):
    put(root, "/etc/chrony/chrony.conf", "include /etc/chrony/chrony.conf\n")
    link(root, "/etc/systemd/system/multi-user.target.wants/chrony.service", "/lib/systemd/system/chrony.service")
    put(root, "/lib/systemd/system/chrony.service", "[Install]\nWantedBy=multi-user.target\n")
    return r"Maximum include level reached"


def dpkg_status_garbage(root, outside):
    # not "not installed" (a fail the harden would act on): dpkg cannot read it either
    put(root, "/var/lib/dpkg/status", "<html><body>404 Not Found</body></html>\n")
    return r"dpkg/status line 1 is not a 'Field: value' line"


def test_garbage_package_database_makes_the_package_checks_unknown(tmp_path, run_module):
    root = debian_image(tmp_path / "image")
    dpkg_status_garbage(root, None)
    found = by_id(run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}}))
    for rid in ("GCE-GUEST-AGENT", "GCE-GUEST-OSLOGIN"):
        assert found[rid]["status"] == "unknown", found[rid]
        assert "dpkg/status line 1 is not a 'Field: value' line" in found[rid]["message"]
    out = run(run_module, root)
    assert out["rc"] == 0 and statuses(out)["GCE-GUEST-AGENT"] == "unknown"


HOSTILE = [include_outside, grub_links_outside, fstab_is_a_fifo, machine_id_links_outside, netplan_garbage,
           wants_is_a_file, chrony_include_loop, dpkg_status_garbage]


def _alarm(signum, frame):
    raise AssertionError("the module blocked")


@pytest.mark.parametrize("case", HOSTILE, ids=[c.__name__ for c in HOSTILE])
def test_hostile_tree(case, tmp_path, run_module):
    root = debian_image(tmp_path / "image")
    outside = str(tmp_path / "outside")
    os.makedirs(outside)
    pattern = case(root, outside)
    before = digest(outside)
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(30)
    try:
        info = run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}})
        out = run(run_module, root, diff=True)
    finally:
        signal.alarm(0)
    assert digest(outside) == before, "nothing outside the tree changes"
    shown = repr(info) + repr(out)
    assert "SECRET-OUTSIDE" not in shown, "nothing outside the tree is read or shown"
    assert "Traceback" not in shown
    assert info["rc"] == 0, info.get("msg")
    if pattern:
        assert re.search(pattern, shown), shown[:3000]
    if out["rc"] == 0:
        again = run(run_module, root)
        assert again["changed"] is False or again["rc"] != 0


def test_a_file_that_cannot_be_written_leaves_the_others_reported(tmp_path, run_module):
    """/etc/machine-id a link into a directory the tree lacks: the write
    of the emptied ID fails after the files sorted before it were written.
    Before, the area failed with that message alone: changed false, no
    diff, the grub and fstab edits made but not reported."""
    root = debian_image(tmp_path / "image")
    os.unlink(os.path.join(root, "etc/machine-id"))
    link(root, "/etc/machine-id", "/run/nowhere/machine-id")
    out = run(run_module, root, diff=True, generalize=True)
    assert out["rc"] == 1 and re.search(r"etc/machine-id: is a symbolic link to /run/nowhere/machine-id, .*: "
                                        r"not replaced: not written \(GCE-IMAGE-MACHINE-ID\)", out["msg"]), out["msg"]
    assert out["changed"] is True
    headers = [d["after_header"][len(root):] for d in out["diff"]]
    assert "/etc/fstab" in headers and gce_settings.GRUB_DROPIN in headers and "/etc/machine-id" not in headers
    assert "# guestready.gce replaced (GCE-FSTAB-NOFAIL)" in read(root, "/etc/fstab")
    changed = set(r["id"] for r in out["results"] if r["changed"])
    assert "GCE-FSTAB-NOFAIL" in changed and statuses(out)["GCE-IMAGE-MACHINE-ID"] == "fail"
    assert os.path.islink(os.path.join(root, "etc/machine-id")), "left as it was"
    # what follows the files is still done: the host keys go
    assert not [n for n in os.listdir(os.path.join(root, "etc/ssh")) if n.startswith("ssh_host_")]


def test_a_file_another_program_wrote_since_it_was_read_is_not_overwritten(tmp_path, run_module, monkeypatch):
    """/etc/fstab gets a line from another program (an image builder's step
    running beside the harden) after the plan read it and before the edit is
    written: the edit, made from the text read, replaced the file and the
    line was lost without a word.  Now /etc/fstab is left as it is, the
    error names it, and the other files are written and reported."""
    root = debian_image(tmp_path / "image")
    real_write = target_module.Target.write_atomic
    added = "/dev/sdc1 /srv ext4 defaults 0 2\n"

    def write_atomic(self, path, data, *args, **kwargs):
        if path == "/etc/fstab":
            with open(os.path.join(root, "etc/fstab"), "a") as handle:
                handle.write(added)
        return real_write(self, path, data, *args, **kwargs)
    monkeypatch.setattr(target_module.Target, "write_atomic", write_atomic)
    out = run(run_module, root, diff=True)
    assert out["rc"] == 1 and re.search(r"etc/fstab: changed since it was read \(another program wrote it\): not "
                                        r"replaced.*: not written \(GCE-FSTAB-NOFAIL", out["msg"]), out["msg"]
    assert read(root, "/etc/fstab").endswith("proc /proc proc defaults 0 0\n" + added)
    headers = [d["after_header"][len(root):] for d in out["diff"]]
    assert "/etc/fstab" not in headers and gce_settings.GRUB_DROPIN in headers


def test_one_file_under_two_names_is_edited_once_without_error(tmp_path, run_module):
    """A boot entry and a link to it, both planned with the same edit: the
    second write finds the first's change, which is its own; it is no
    other program's write."""
    root = red_hat_image(tmp_path / "image")
    link(root, "/boot/loader/entries/b-5.15.conf", "a-5.15.conf")
    out = run(run_module, root, diff=True)
    assert out["rc"] == 0, out.get("msg")
    assert read(root, "/boot/loader/entries/a-5.15.conf").endswith("options root=/dev/vda ro console=ttyS0,38400n8\n")
    assert os.readlink(os.path.join(root, "boot/loader/entries/b-5.15.conf")) == "a-5.15.conf"


def test_a_rules_file_of_many_persistent_rules_is_planned_in_seconds(tmp_path, run_module):
    """70-persistent-net.rules with 20000 rules (1.6 MiB, far below the 32 MiB
    a file may have): the plan commented them out one call per rule, each
    splitting and joining the whole file again, minutes for this one and
    hours for a file at the limit.  A file's rules are one pass now."""
    from hostile import alarm
    root = debian_image(tmp_path / "image")
    rules = os.path.join(root, "etc/udev/rules.d/70-persistent-net.rules")
    with open(rules, "a") as handle:
        handle.writelines('SUBSYSTEM=="net", ATTR{address}=="52:54:00:00:%02x:%02x", NAME="eth%d"\n'
                          % (number // 256, number % 256, number) for number in range(20000))
    with alarm(30):
        out = run(run_module, root, check_mode=True, diff=True)
    assert out["rc"] == 0, out.get("msg")
    after = [d["after"] for d in out["diff"] if d["after_header"] == rules][0]
    assert after.count("# guestready.gce neutralised (GCE-NET-NO-PERSISTENT-RULES): SUBSYSTEM") == 20001


def test_a_time_configuration_of_many_sources_is_planned_in_seconds(tmp_path, run_module):
    """chrony.conf with 40000 server lines (1.2 MiB): the plan commented them
    out one call per line, each splitting and joining the whole file, minutes
    for this one and hours for a file at the 32 MiB read limit."""
    from hostile import alarm
    root = red_hat_image(tmp_path / "image")
    with open(os.path.join(root, "etc/chrony.conf"), "a") as handle:
        handle.writelines("server ntp%d.example.org iburst\n" % number for number in range(40000))
    with alarm(30):
        out = run(run_module, root, check_mode=True, diff=True)
    assert out["rc"] == 0, out.get("msg")
    after = [d["after"] for d in out["diff"] if d["after_header"] == os.path.join(root, "etc/chrony.conf")][0]
    assert after.count("# guestready.gce neutralised (GCE-TIME-METADATA-NTP): server ntp") == 40000
    assert "# guestready.gce neutralised (GCE-TIME-METADATA-NTP): pool 2.rhel.pool.ntp.org iburst\n" in after


def test_a_file_that_cannot_be_removed_leaves_the_others_reported(tmp_path, run_module, monkeypatch):
    # a host key the build cannot unlink (a bind mount: EBUSY): the area failed with that message
    # alone, changed false and no results, the files written and the other key removed unreported
    root = debian_image(tmp_path / "image")
    unlink = os.unlink

    def busy(path, *args, **kwargs):
        if path == "ssh_host_rsa_key":
            raise OSError(errno.EBUSY, os.strerror(errno.EBUSY))
        return unlink(path, *args, **kwargs)
    monkeypatch.setattr(os, "unlink", busy)
    out = run(run_module, root, diff=True)
    monkeypatch.undo()
    assert out["rc"] == 1 and "etc/ssh/ssh_host_rsa_key: cannot remove: Device or resource busy " \
        "(GCE-SSH-NO-HOST-KEYS)" in out["msg"], out["msg"]
    assert out["changed"] is True and statuses(out)["GCE-BOOT-SERIAL-CONSOLE"] == "pass"
    headers = [d["after_header"][len(root):] for d in out["diff"]]
    assert "/etc/ssh/ssh_host_ed25519_key (removed)" in headers and "/etc/ssh/ssh_host_rsa_key (removed)" not in headers
    assert os.path.join(root, "etc/ssh/ssh_host_rsa_key") not in out["areas"]["gce_settings"]["removed"]
    assert os.path.join(root, "etc/ssh/ssh_host_rsa_key.pub") in out["areas"]["gce_settings"]["removed"]
    assert sorted(n for n in os.listdir(os.path.join(root, "etc/ssh")) if n.startswith("ssh_host_")) == ["ssh_host_rsa_key"]
    assert statuses(out)["GCE-SSH-NO-HOST-KEYS"] == "fail"


class SshdModule(FakeModule):
    """A live system whose sshd -T fails the way it does without root."""

    def get_bin_path(self, name, required=False, opt_dirs=None):
        return "/usr/sbin/" + name

    def run_command(self, argv, environ_update=None):
        if argv[0].endswith("/sshd") and "-T" in argv:
            self.commands.append(argv)
            return 1, "", "sshd: no hostkeys available -- exiting."
        return super(SshdModule, self).run_command(argv, environ_update)


@pytest.mark.parametrize("root_user, said", [
    (False, "sshd -T needs root, so read from the configuration files"),
    (True, "sshd -T failed: sshd: no hostkeys available -- exiting., so read from the configuration files"),
])
def test_live_ssh_checks_say_when_sshd_T_could_not_answer(tmp_path, monkeypatch, root_user, said):
    root = debian_image(tmp_path / "image")
    monkeypatch.setattr(gce_settings, "live_root", lambda path: True)
    monkeypatch.setattr(gce_settings.privilege, "is_root", lambda: root_user)
    module = SshdModule(root)
    params = dict(root=root, generalize=False, interface="ens4", connection={})
    results = by_id(gce_settings.check_gce(params, requirements("gce"), {}, module))
    assert any("-T" in command for command in module.commands)
    for rid in ("GCE-SSH-NO-PASSWORD-AUTH", "GCE-SSH-NO-ROOT-PASSWORD"):
        assert said in results[rid]["message"], results[rid]
        assert results[rid]["status"] in ("pass", "fail")  # the parser's verdict, with its source named


class OldSshdModule(FakeModule):
    """A live system with OpenSSH before 8.7 (RHEL 8's 8.0p1): sshd -T prints
    both keywords, KbdInteractiveAuthentication forced on by
    ChallengeResponseAuthentication."""
    dump = ("passwordauthentication no\nkbdinteractiveauthentication yes\n"
            "challengeresponseauthentication yes\nusepam yes\npermitrootlogin no\nclientaliveinterval 420\n")

    def get_bin_path(self, name, required=False, opt_dirs=None):
        return "/usr/sbin/" + name

    def run_command(self, argv, environ_update=None):
        if argv[0].endswith("/sshd") and "-T" in argv:
            return 0, self.dump, ""
        return super(OldSshdModule, self).run_command(argv, environ_update)


@pytest.mark.parametrize("challenge, status", [("yes", "fail"), ("no", "pass")])
def test_live_sshd_before_8_7_answers_through_challenge_response(tmp_path, monkeypatch, challenge, status):
    root = debian_image(tmp_path / "image")
    monkeypatch.setattr(gce_settings, "live_root", lambda path: True)
    monkeypatch.setattr(gce_settings.privilege, "is_root", lambda: True)
    module = OldSshdModule(root)
    module.dump = module.dump.replace("challengeresponseauthentication yes", "challengeresponseauthentication " + challenge)
    params = dict(root=root, generalize=False, interface="ens4", connection={})
    result = by_id(gce_settings.check_gce(params, requirements("gce"), {}, module))["GCE-SSH-NO-PASSWORD-AUTH"]
    assert result["status"] == status, result
    assert "ChallengeResponseAuthentication %s (sshd -T)" % challenge in result["message"]


class SuseRpmModule(FakeModule):
    """rpm on openSUSE Leap 15.6 with SUSE's guest packages: google-guest-oslogin
    provides google-compute-engine-oslogin (openSUSE's google-guest-oslogin.spec)."""

    def run_command(self, argv, environ_update=None):
        if os.path.basename(argv[0]) != "rpm":
            return super(SuseRpmModule, self).run_command(argv, environ_update)
        self.commands.append(argv)
        provider = {"google-guest-agent": "google-guest-agent", "google-guest-oslogin": "google-guest-oslogin"}
        if "--whatprovides" in argv:
            provider["google-compute-engine-oslogin"] = "google-guest-oslogin"
        if argv[-1] not in provider:
            return 1, "package %s is not installed\n" % argv[-1], ""
        form = argv[argv.index("--qf") + 1].replace("\\n", "\n").replace("%{VERSION}-%{RELEASE}", "20240701.00-150000.1.35.1")
        return 0, form.replace("%{NAME}", provider[argv[-1]]), ""


def test_oslogin_on_suse_is_the_package_that_provides_it(tmp_path):
    root = str(tmp_path / "image")
    put(root, "/usr/lib/sysimage/rpm/rpmdb.sqlite", "SQLite format 3\0")
    put(root, "/etc/os-release", 'NAME="openSUSE Leap"\nVERSION="15.6"\nID="opensuse-leap"\n')
    params = dict(root=root, generalize=False, interface="ens4", connection={})
    oslogin = [e for e in requirements("gce") if e["id"] == "GCE-GUEST-OSLOGIN"]
    result = gce_settings.check_gce(params, oslogin, {}, SuseRpmModule(root))["results"][0]
    assert result["status"] == "pass", result
    assert "google-compute-engine-oslogin 20240701.00-150000.1.35.1 (google-guest-oslogin) installed" in result["message"]


class ReloadSeesKeys(FakeModule):
    """Records whether the host keys were still there when sshd was reloaded (its
    ExecReload runs `sshd -t`, which fails without them)."""

    def run_command(self, argv, environ_update=None):
        if argv[1:] == ["reload", "ssh.service"]:
            self.keys_at_reload = os.path.exists(os.path.join(self.root, "etc/ssh/ssh_host_rsa_key"))
        return super(ReloadSeesKeys, self).run_command(argv, environ_update)


def test_generalizing_a_live_vm_removes_the_host_keys_after_sshd_is_reloaded(tmp_path, monkeypatch):
    root, module, out = live_apply(tmp_path, monkeypatch, ReloadSeesKeys, generalize=True)
    assert module.keys_at_reload is True
    assert not os.path.exists(os.path.join(root, "etc/ssh/ssh_host_rsa_key"))
    assert read(root, "/etc/machine-id") == ""
    found = statuses(out)
    assert found["GCE-SSH-NO-HOST-KEYS"] == "pass" and found["GCE-IMAGE-MACHINE-ID"] == "pass"


@pytest.mark.parametrize("version, settings, status", [
    # Debian 11's OpenSSH: ChallengeResponseAuthentication (default yes) answers keyboard-interactive
    ("1:8.4p1-5+deb11u3", "KbdInteractiveAuthentication no\n", "fail"),
    ("1:8.4p1-5+deb11u3", "ChallengeResponseAuthentication no\n", "pass"),
    ("1:8.4p1-5+deb11u3", "ChallengeResponseAuthentication no\nKbdInteractiveAuthentication yes\n", "pass"),
    # 8.7 and newer: one keyword, the first of either spelling wins
    ("1:9.2p1-2+deb12u3", "KbdInteractiveAuthentication no\n", "pass"),
    ("1:9.2p1-2+deb12u3", "ChallengeResponseAuthentication no\nKbdInteractiveAuthentication yes\n", "pass"),
])
def test_tree_with_openssh_before_8_7_reads_challenge_response(tmp_path, run_module, version, settings, status):
    root = debian_image(tmp_path / "image")
    put(root, "/var/lib/dpkg/status", read(root, "/var/lib/dpkg/status").replace("1:9.2p1-2\n", version + "\n"))
    put(root, "/etc/ssh/sshd_config", "PasswordAuthentication no\nUsePAM yes\n" + settings)
    result = by_id(run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}}))[
        "GCE-SSH-NO-PASSWORD-AUTH"]
    assert result["status"] == status, result
    if version.startswith("1:8.4"):
        assert "as OpenSSH %s reads it" % version in result["message"], result
    if status == "fail":
        # apply writes both keywords, which every version reads as no
        out = run(run_module, root, connection={"user": "alice", "auth": "publickey"})
        assert out["rc"] == 0, out.get("msg")
        assert statuses(out)["GCE-SSH-NO-PASSWORD-AUTH"] == "pass"


def test_nofail_judges_mount_points_as_mount_reads_them(tmp_path, run_module):
    """``/usr/`` and ``//var`` are /usr and /var to mount(8) and systemd's fstab generator: the
    boot disk's own mounts, which must not get nofail (a /usr that fails to mount would be skipped)."""
    root = debian_image(tmp_path / "image")
    put(root, "/etc/fstab", "UUID=1 / ext4 defaults 0 1\nUUID=2 /usr/ ext4 defaults 0 2\n"
        "UUID=3 //var xfs defaults 0 2\nUUID=4 /boot/efi/ vfat umask=0077 0 1\nUUID=5 /data/ ext4 defaults 0 2\n")
    out = run(run_module, root)
    assert out["rc"] == 0, out.get("msg")
    text = read(root, "/etc/fstab")
    assert "UUID=5\t/data/\text4\tdefaults,nofail\t0\t2\n" in text, text
    assert "UUID=2 /usr/ ext4 defaults 0 2\n" in text and "UUID=3 //var xfs defaults 0 2\n" in text, text
    assert "UUID=4 /boot/efi/ vfat umask=0077 0 1\n" in text and text.count("guestready.gce replaced") == 1, text
    assert statuses(out)["GCE-FSTAB-NOFAIL"] == "pass"


def test_a_latin_1_file_is_written_back_in_latin_1(tmp_path, run_module):
    # a mount point named in Latin-1 (a tree made under a Latin-1 locale): rewritten as UTF-8,
    # the line given nofail named another directory, and every comment's bytes changed
    root = debian_image(tmp_path / "image")
    with open(os.path.join(root, "etc/fstab"), "wb") as handle:
        handle.write(b"# disque de donn\xe9es\nUUID=1 / ext4 defaults 0 1\nUUID=5 /srv/donn\xe9es ext4 defaults 0 2\n")
    out = run(run_module, root)
    assert out["rc"] == 0, out.get("msg")
    with open(os.path.join(root, "etc/fstab"), "rb") as handle:
        data = handle.read()
    assert data.startswith(b"# disque de donn\xe9es\nUUID=1 / ext4 defaults 0 1\n"), data
    assert b"UUID=5\t/srv/donn\xe9es\text4\tdefaults,nofail\t0\t2\n" in data, data
    assert statuses(out)["GCE-FSTAB-NOFAIL"] == "pass"
    assert run(run_module, root)["changed"] is False


def _nofail_judged_then_hardened(tmp_path, run_module, text, without):
    """The fstab after harden, once compliance_info failed GCE-FSTAB-NOFAIL naming ``without``."""
    root = debian_image(tmp_path / "image")
    put(root, "/etc/fstab", text)
    info = {"areas": ["gce_settings"], "gce_settings": {"root": root}}
    result = by_id(run_module(compliance_info, info))["GCE-FSTAB-NOFAIL"]
    assert result["status"] == "fail" and result["message"].endswith("without nofail: " + without), result
    out = run(run_module, root)
    assert out["rc"] == 0, out.get("msg")
    assert statuses(out)["GCE-FSTAB-NOFAIL"] == "pass"
    return read(root, "/etc/fstab")


def test_nofail_leaves_swap_and_noauto_lines_alone(tmp_path, run_module):
    """Only a disk mounted at boot can hold the boot up: a swap line and a noauto line
    need no nofail, and are neither failed nor rewritten."""
    text = _nofail_judged_then_hardened(tmp_path, run_module, "UUID=1 / ext4 defaults 0 1\nUUID=2 none swap sw 0 0\n"
                                        "UUID=3 /backup ext4 noauto 0 2\nUUID=4 /data ext4 defaults 0 2\n", "/data (line 4)")
    assert "UUID=2 none swap sw 0 0\n" in text and "UUID=3 /backup ext4 noauto 0 2\n" in text, text
    assert text.count("guestready.gce replaced") == 1 and "defaults,nofail" in text, text


def test_nofail_as_systemds_generator_reads_fstab(tmp_path, run_module):
    """Boot waits as systemd's fstab generator reads fstab, with glibc's getmntent(), not libmount:
    a CRLF line's last field keeps its \\r ("nofail\\r" is no nofail), and a two-field line is a
    mount (of a type to probe) that holds boot up; both passed before.  harden's new line drops
    the \\r that ends the options: "defaults\\r,nofail" would pass mount an option it refuses."""
    text = _nofail_judged_then_hardened(
        tmp_path, run_module, "UUID=1 / ext4 defaults 0 1\r\nUUID=2 /crlf ext4 defaults,nofail\r\n"
        "UUID=3 /two\r\nUUID=4 /done ext4 nofail 0 2\r\n", "/crlf (line 2), /two\r (line 3)")
    assert "UUID=2\t/crlf\text4\tdefaults,nofail,nofail\n" in text, repr(text)
    # the \\r of the mount point stays: "/two\\r" is the directory boot mounts on
    assert "UUID=3\t/two\r\tauto\tdefaults,nofail\n" in text and "UUID=4 /done ext4 nofail 0 2\r\n" in text, repr(text)


def test_nofail_leaves_a_line_getmntent_reads_in_part_to_a_person(tmp_path, run_module):
    """getmntent() reads 4095 bytes of a line and forgets the rest: a nofail beyond them is none,
    and rewriting the line from what was read would drop the rest.  It stays failed, unedited."""
    root = debian_image(tmp_path / "image")
    original = "UUID=1 / ext4 defaults 0 1\nUUID=2 /a ext4 defaults,%s,nofail 0 2\n" % ("x-note=" + "x" * 4100)
    put(root, "/etc/fstab", original)
    out = run(run_module, root)
    result = by_id(out)["GCE-FSTAB-NOFAIL"]
    assert result["status"] == "fail" and result["message"].endswith("without nofail: /a (line 2)"), result["message"]
    assert read(root, "/etc/fstab") == original


def test_nofail_followed_by_fail_still_holds_boot_up(tmp_path, run_module):
    """The last of nofail and fail wins (systemd's fstab_test_yes_no_option), and of noauto and auto: a
    line ending in fail or auto waits for its disk, and harden's nofail, added last, then wins."""
    text = _nofail_judged_then_hardened(
        tmp_path, run_module, "UUID=1 / ext4 defaults 0 1\nUUID=2 /a ext4 nofail,fail 0 2\nUUID=3 /b ext4 noauto,auto 0 2\n"
        "UUID=4 /c ext4 fail,nofail 0 2\nUUID=5 /d ext4 auto,noauto 0 2\n", "/a (line 2), /b (line 3)")
    assert "\t/a\text4\tnofail,fail,nofail\t0\t2\n" in text and "\t/b\text4\tnoauto,auto,nofail\t0\t2\n" in text, text
    assert "UUID=4 /c ext4 fail,nofail 0 2\n" in text and "UUID=5 /d ext4 auto,noauto 0 2\n" in text, text


def test_nofail_follows_the_mounts_that_require_an_additional_disk_s(tmp_path, run_module):
    """systemd makes a mount unit require the mounts above its mount point and, for a bind or loop mount,
    those holding its source (src/core/mount.c, mount_add_mount_dependencies): with /data's disk detached,
    a bind of /data/www and a tmpfs mounted below /data fail too and, without nofail, hold boot up; so
    does a bind of that bind.  A bind from the boot disk, a mount point bound onto itself and /data's
    own nofail line are left alone."""
    text = _nofail_judged_then_hardened(
        tmp_path, run_module, "UUID=1 / ext4 defaults 0 1\nUUID=2 /data ext4 defaults,nofail 0 2\n"
        "/data/www /var/www none bind 0 0\ntmpfs /data/cache tmpfs defaults 0 0\n/var/www/site /srv/site none bind 0 0\n"
        "/srv/x /srv/y none bind 0 0\n/data /data none bind,ro 0 0\ntmpfs /tmp tmpfs defaults 0 0\n",
        "/var/www (line 3, its source /data/www is on /data), /data/cache (line 4, it is mounted below /data), "
        "/srv/site (line 5, its source /var/www/site is on /var/www)")
    for line in ("/data/www\t/var/www\tnone\tbind,nofail\t0\t0\n", "tmpfs\t/data/cache\ttmpfs\tdefaults,nofail\t0\t0\n",
                 "/var/www/site\t/srv/site\tnone\tbind,nofail\t0\t0\n", "\n/srv/x /srv/y none bind 0 0\n",
                 "\n/data /data none bind,ro 0 0\n", "\ntmpfs /tmp tmpfs defaults 0 0\n", "\nUUID=2 /data ext4 defaults,nofail 0 2\n"):
        assert line in text, (line, text)


def test_nofail_follows_chains_of_mounts_in_any_order_and_through_nofail_ones(tmp_path, run_module):
    """A mount fails with every mount it requires, whatever order fstab lists them in: a bind of a bind
    listed before the bind it requires (a chain of three, in reverse), and a mount that requires a bind
    which has nofail itself (nofail keeps local-fs.target going, not the bind's own mount)."""
    text = _nofail_judged_then_hardened(
        tmp_path, run_module, "UUID=1 / ext4 defaults 0 1\n/srv/c/x /srv/d none bind 0 0\n/srv/b/x /srv/c none bind 0 0\n"
        "/data/x /srv/b none bind 0 0\nUUID=2 /data ext4 nofail 0 2\n/data/y /srv/e none bind,nofail 0 0\n"
        "/srv/e/z /srv/f none bind 0 0\n/srv/q /srv/r none bind 0 0\n",
        "/srv/d (line 2, its source /srv/c/x is on /srv/c), /srv/c (line 3, its source /srv/b/x is on /srv/b), "
        "/srv/b (line 4, its source /data/x is on /data), /srv/f (line 7, its source /srv/e/z is on /srv/e)")
    for line in ("/srv/c/x\t/srv/d\tnone\tbind,nofail\t0\t0\n", "/srv/e/z\t/srv/f\tnone\tbind,nofail\t0\t0\n",
                 "\n/data/y /srv/e none bind,nofail 0 0\n", "\n/srv/q /srv/r none bind 0 0\n"):
        assert line in text, (line, text)


def test_the_mounts_an_additional_disk_s_require_are_found_in_linear_time(tmp_path, run_module):
    """Many binds below many disks, many automounts, and one path of a million characters: each entry's
    prefixes are compared only at the lengths of the mount points asked about, each point indexed once
    (the automounts' "below another mount" compared every pair: minutes for 10000 lines)."""
    from hostile import alarm
    root = debian_image(tmp_path / "image")
    deep = "/d0" + "/a" * 500000
    text = "UUID=1 / ext4 defaults 0 1\n" + "".join("UUID=%d /d%d ext4 nofail 0 2\n" % (n, n) for n in range(2000)) + \
        "".join("/d%d/x /b/%d none bind 0 0\n" % (n % 2000, n) for n in range(10000)) + "%s /deep none bind 0 0\n" % deep + \
        "".join("UUID=a%d /auto/%d ext4 x-systemd.automount 0 2\n" % (n, n) for n in range(10000))
    put(root, "/etc/fstab", text)
    with alarm(20):
        result = by_id(run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}}))
    found = result["GCE-FSTAB-NOFAIL"]
    # 10,000 binds and /deep, twenty of them named
    assert found["status"] == "fail" and found["actual"][-1] == "... and 9981 more", found["actual"][-3:]
    assert found["evidence"]["boot_goes_on"][-1] == "... and 9980 more", found["evidence"]["boot_goes_on"][-3:]


def test_many_ifupdown_stanzas_are_read_in_linear_time(tmp_path, run_module):
    """/etc/network/interfaces of 20000 stanzas: which are brought up was a set made per stanza, and
    the cloud-init header looked for in the whole file per stanza (52 s for compliance_info)."""
    from hostile import alarm
    root = debian_image(tmp_path / "image")
    put(root, "/etc/network/interfaces", "".join("auto e%d\niface e%d inet dhcp\n  mtu 1460\n" % (n, n) for n in range(20000))
        + "auto ens4\niface ens4 inet dhcp\n  mtu 1460\n")   # (the dhcp method leaves mtu to DHCP)
    with alarm(20):
        found = by_id(run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}}))
    # networkd's tree: ifupdown's stanzas are named, not used
    configs = [c for c in found["GCE-NET-DHCP"]["evidence"]["configs"] if c["source"] == "ifupdown"]
    assert len(configs) == 20001 and configs[-1]["where"].endswith("/etc/network/interfaces:60002") and \
        configs[-1]["match"] == ["ens4"] and configs[-1]["mtu"] is None, configs[-1]


BOOT_GOES_ON_FSTAB = (
    "UUID=1 / ext4 defaults 0 1\nUUID=2 /srv/auto ext4 x-systemd.automount,x-systemd.device-timeout=5s 0 2\n"
    "UUID=3 /mnt/iscsi ext4 _netdev 0 0\nUUID=4 /shared gfs2 noatime 0 0\n/dev/disk/by-id/google-x /data ext4 defaults 0 2\n"
    "UUID=6 /data/cache ext4 x-systemd.automount 0 2\nUUID=7 /srv/dep ext4 x-systemd.automount,x-systemd.requires=/dev/sdc 0 2\n"
    "UUID=8 /early ext4 _netdev,x-initrd.mount 0 2\nUUID=9 /var/tmp/a xfs comment=systemd.automount 0 2\n"
    "UUID=10 /net ext4 _netdev,x-systemd.required-by=local-fs.target 0 2\n")


def test_nofail_spares_entries_boot_goes_on_without(tmp_path, run_module):
    """systemd's fstab generator requires an x-systemd.automount entry's .automount unit, which waits for
    no disk, from local-fs.target, and a _netdev or network-type entry from remote-fs.target, which starts
    no emergency mode: neither needs nofail.  Still judged: an automount below another fstab mount (its
    .automount requires that mount), one with x-systemd.requires= (before v246 on the .automount), and
    one the initrd mounts (x-initrd.mount: initrd-fs.target, OnFailure=emergency.target), and a network
    one x-systemd.required-by= hands to another target."""
    root = debian_image(tmp_path / "image")
    put(root, "/etc/fstab", BOOT_GOES_ON_FSTAB)
    info = {"areas": ["gce_settings"], "gce_settings": {"root": root}}
    result = by_id(run_module(compliance_info, info))["GCE-FSTAB-NOFAIL"]
    assert result["status"] == "fail" and result["actual"] == ["/data", "/data/cache", "/srv/dep", "/early", "/net"], result
    assert [line.split(",")[0] for line in result["evidence"]["boot_goes_on"]] == [
        "/srv/auto (line 2", "/mnt/iscsi (line 3", "/shared (line 4", "/var/tmp/a (line 9"], result
    assert "boot goes on without them, needing none: /srv/auto (line 2, x-systemd.automount: local-fs.target " \
        "requires only the automount point, which waits for no disk); /mnt/iscsi (line 3, _netdev: required by " \
        "remote-fs.target, whose failure starts no emergency mode); /shared (line 4, gfs2, a network filesystem: " \
        in result["message"], result
    out = run(run_module, root)
    assert out["rc"] == 0, out.get("msg")
    text = read(root, "/etc/fstab")
    for number in (1, 2, 3, 4, 9):
        assert BOOT_GOES_ON_FSTAB.splitlines()[number - 1] + "\n" in text, text
    assert text.count("guestready.gce replaced") == 5 and "\t/srv/dep\text4\tx-systemd.automount,x-systemd.requires=" \
        "/dev/sdc,nofail\t0\t2\n" in text and "\t/early\text4\t_netdev,x-initrd.mount,nofail\t0\t2\n" in text, text
    assert statuses(out)["GCE-FSTAB-NOFAIL"] == "pass"
    assert "needing none: /srv/auto (line 2, " in by_id(out)["GCE-FSTAB-NOFAIL"]["message"]
    assert run(run_module, root)["changed"] is False


CIS_FSTAB = ("UUID=aaaa / ext4 defaults 0 1\nUUID=hhhh /home ext4 nodev 0 2\nPARTUUID=p-5 /var/log ext4 defaults 0 2\n"
             "LABEL=audit\\040log /var/log/audit ext4 defaults 0 2\n/dev/mapper/vg-tmp /tmp ext4 nosuid 0 2\n"
             "UUID=bbbb /data ext4 defaults 0 2\nUUID=gone /backup ext4 defaults 0 2\n")


def cis_disks(tmp_path, monkeypatch, root="sda2"):
    """A running system whose /home, /var/log, /var/log/audit and /tmp are partitions (and LVM) of
    the disk holding /, with a data disk sdb."""
    paths = fakedisks.build(
        str(tmp_path / "host"), {"sda": [(2, "8:2"), (3, "8:3"), (5, "8:5"), (6, "8:6"), (7, "8:7")], "sdb": [(1, "8:17")]},
        mappers={"dm-0": ("253:0", ["sda7"])}, root=root,
        links={"disk/by-uuid/aaaa": "sda2", "disk/by-uuid/hhhh": "sda3", "disk/by-partuuid/p-5": "sda5",
               "disk/by-label/audit\\x20log": "sda6", "mapper/vg-tmp": "dm-0", "disk/by-uuid/bbbb": "sdb1"})
    monkeypatch.setattr(bootdisk, "LIVE_SYS", paths[0])
    monkeypatch.setattr(bootdisk, "LIVE_DEV", paths[1])
    monkeypatch.setattr(bootdisk, "LIVE_MOUNTINFO", paths[2])
    monkeypatch.setattr(gce_settings, "live_root", lambda path: True)


def test_nofail_spares_the_boot_disks_own_partitions_on_a_live_system(tmp_path, monkeypatch):
    """nofail is for additional disks (a VM boots with one detached); on a partition of the boot disk it
    only takes the mount out of local-fs.target's ordering (auditd may then write to / before
    /var/log/audit is mounted).  Live, sysfs tells which entries are on the disk holding /."""
    root = debian_image(tmp_path / "image")
    put(root, "/etc/fstab", CIS_FSTAB)
    cis_disks(tmp_path, monkeypatch)
    entries = [BY_ID["GCE-FSTAB-NOFAIL"]]
    params = dict(root=root, generalize=False, interface="ens4", connection={})
    result = gce_settings.check_gce(params, entries, {})["results"][0]
    assert result["status"] == "fail" and result["actual"] == ["/data", "/backup"], result
    assert "could not tell which disk UUID=gone is on" in result["message"], result
    assert result["evidence"]["boot_disk"] == ["/home (line 2)", "/var/log (line 3)", "/var/log/audit (line 4)",
                                               "/tmp (line 5)"], result
    params.update(install_packages=False, regenerate_bootloader=False, reload_services=False, lock_timeout=10)
    out = gce_settings.apply_gce(params, entries, {}, FakeModule(root))
    text = read(root, "/etc/fstab")
    assert "UUID=bbbb\t/data\text4\tdefaults,nofail\t0\t2\n" in text and "/backup\text4\tdefaults,nofail" in text, text
    for line in CIS_FSTAB.splitlines()[:5]:
        assert line + "\n" in text, text
    assert statuses(out)["GCE-FSTAB-NOFAIL"] == "pass"
    assert "on the boot disk, needing none: /home (line 2)" in by_id(out)["GCE-FSTAB-NOFAIL"]["message"]


def test_a_boot_disk_partition_below_a_data_disk_needs_nofail_too(tmp_path, monkeypatch):
    """A partition of the boot disk mounted below the data disk's mount point requires that mount
    (src/core/mount.c): with the data disk detached it fails as well, so it needs nofail all the same."""
    root = debian_image(tmp_path / "image")
    put(root, "/etc/fstab", "UUID=aaaa / ext4 defaults 0 1\nUUID=bbbb /data ext4 defaults,nofail 0 2\n"
        "PARTUUID=p-5 /data/logs ext4 defaults 0 2\nUUID=hhhh /home ext4 nodev 0 2\n")
    cis_disks(tmp_path, monkeypatch)
    params = dict(root=root, generalize=False, interface="ens4", connection={})
    result = gce_settings.check_gce(params, [BY_ID["GCE-FSTAB-NOFAIL"]], {})["results"][0]
    assert result["status"] == "fail" and result["actual"] == ["/data/logs"], result
    assert result["message"] == "without nofail: /data/logs (line 3, it is mounted below /data)", result
    assert result["evidence"]["boot_disk"] == ["/home (line 4)"], result


def test_nofail_keeps_flagging_when_the_root_disk_is_unknown(tmp_path, monkeypatch):
    # / on btrfs or an overlay (an anonymous device number): nothing is proven, every entry is judged
    root = debian_image(tmp_path / "image")
    put(root, "/etc/fstab", CIS_FSTAB)
    cis_disks(tmp_path, monkeypatch, root="0:31")
    params = dict(root=root, generalize=False, interface="ens4", connection={})
    result = gce_settings.check_gce(params, [BY_ID["GCE-FSTAB-NOFAIL"]], {})["results"][0]
    assert result["actual"] == ["/home", "/var/log", "/var/log/audit", "/tmp", "/data", "/backup"], result
    assert "the disk holding / could not be told from sysfs" in result["message"], result


def test_nofail_in_a_tree_says_the_boot_disks_own_entries_need_none(tmp_path, run_module):
    root = debian_image(tmp_path / "image")
    put(root, "/etc/fstab", "UUID=1 / ext4 defaults 0 1\nUUID=2 /home ext4 defaults 0 2\n")
    info = {"areas": ["gce_settings"], "gce_settings": {"root": root}}
    result = by_id(run_module(compliance_info, info))["GCE-FSTAB-NOFAIL"]
    assert result["status"] == "fail" and result["message"] == (
        "entries on the boot disk itself need no nofail (a directory tree: which disk each entry is on could "
        "not be told; waive this if they are the boot disk's); without nofail: /home (line 2)"), result


IMAGE_ROOT, IMAGE_AUDIT, OTHER_DISK = (
    "2f1e5c2a-0000-4000-8000-000000000001", "3a9c0d1e-0000-4000-8000-000000000002", "0b4e7c1d-3c0f-4d43-9b0a-2d6c2e1f9a11")
IMAGE_FSTAB = ("UUID=%s / ext4 defaults 0 1\nUUID=%s /var/log/audit ext4 defaults 0 2\n"
               "UUID=ABCD-1234 /boot/efi vfat umask=0077 0 1\nPARTLABEL=home /home ext4 nodev 0 2\n"
               "/dev/disk/by-partuuid/5d2e3c0b-8b6e-4a0e-9c55-2a7e1b7c0d12 /srv ext4 defaults 0 2\n"
               "UUID=%s /data ext4 defaults 0 2\n/dev/sdb1 /backup ext4 defaults 0 2\n" % (IMAGE_ROOT, IMAGE_AUDIT, OTHER_DISK))


def image_module(root):
    """The module the disk_image worker gives the areas: it carries the image's partitions (a GPT
    disk: ESP, /, /var/log/audit, /home, /srv), as imagefile reads them."""
    from ansible_collections.guestready.gce.plugins.module_utils import filesystems
    module = FakeModule(root)
    module.image_disk = bootdisk.ImageDisk([
        {"number": 1, "uuid": "C12A7328-0000-4000-8000-00000000000A", "name": "EFI", "filesystem": filesystems._result("vfat", "ABCD-1234", "ESP")},
        {"number": 2, "uuid": "0FC63DAF-0000-4000-8000-00000000000B", "name": "root", "filesystem": filesystems._result("ext4", IMAGE_ROOT)},
        {"number": 3, "uuid": "0FC63DAF-0000-4000-8000-00000000000C", "name": "audit", "filesystem": filesystems._result("ext4", IMAGE_AUDIT)},
        {"number": 4, "uuid": "0FC63DAF-0000-4000-8000-00000000000D", "name": "home", "filesystem": filesystems._result("ext4")},
        {"number": 5, "uuid": "5D2E3C0B-8B6E-4A0E-9C55-2A7E1B7C0D12", "name": "srv", "filesystem": filesystems._result("ext4")}])
    return module


def test_nofail_spares_a_disk_images_own_partitions(tmp_path):
    """A disk image (disk_image) becomes the boot disk whole: its fstab's entries naming one of its own
    partitions (UUID=, PARTLABEL=, a /dev/disk/by-* link) are the boot disk's, as on a live system;
    the others name another disk.  A directory tree cannot tell (unchanged)."""
    root = debian_image(tmp_path / "image")
    put(root, "/etc/fstab", IMAGE_FSTAB)
    entries = [BY_ID["GCE-FSTAB-NOFAIL"]]
    params = dict(root=root, generalize=False, interface="ens4", connection={})
    result = gce_settings.check_gce(params, entries, {}, image_module(root))["results"][0]
    assert result["status"] == "fail" and result["actual"] == ["/data", "/backup"], result
    assert result["evidence"]["boot_disk"] == ["/var/log/audit (line 2)", "/home (line 4)", "/srv (line 5)"], result
    # only the kernel name is not told: the UUID none of the image's partitions has is another disk's
    assert result["message"].startswith("entries on the boot disk itself need no nofail (could not tell which "
                                        "disk /dev/sdb1 is on; "), result
    tree = gce_settings.check_gce(params, entries, {}, FakeModule(root))["results"][0]
    assert tree["actual"] == ["/var/log/audit", "/home", "/srv", "/data", "/backup"] and "boot_disk" not in tree["evidence"]
    assert "a directory tree: which disk each entry is on could not be told" in tree["message"], tree
    params.update(install_packages=False, regenerate_bootloader=False, reload_services=False, lock_timeout=10)
    out = gce_settings.apply_gce(params, entries, {}, image_module(root))
    text = read(root, "/etc/fstab")
    assert "UUID=%s\t/data\text4\tdefaults,nofail\t0\t2\n" % OTHER_DISK in text and "/backup\text4\tdefaults,nofail" in text
    for line in IMAGE_FSTAB.splitlines()[:5]:
        assert line + "\n" in text, text
    assert statuses(out)["GCE-FSTAB-NOFAIL"] == "pass"
    assert "on the boot disk, needing none: /var/log/audit (line 2), /home (line 4), /srv (line 5)" in \
        by_id(out)["GCE-FSTAB-NOFAIL"]["message"]


@pytest.mark.parametrize("value, status", [("1", "pass"), ("599", "pass"), ("600", "fail"), ("0", "fail")])
def test_keepalive_bounds_are_inclusive(tmp_path, run_module, value, status):
    """Compute Engine drops idle connections after 10 minutes: any interval from 1 s to
    599 s keeps them (catalogue bounds [1, 599]); 0 turns keepalive off."""
    root = debian_image(tmp_path / "image")
    put(root, "/etc/ssh/sshd_config", "ClientAliveInterval %s\nPasswordAuthentication no\n" % value)
    result = by_id(run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}}))[
        "GCE-SSH-KEEPALIVE"]
    assert result["status"] == status, result["message"]


@pytest.mark.parametrize("path, text, regenerated", [
    ("/etc/default/instance_configs.cfg", "[InstanceSetup]\nset_host_keys = true\n", True),
    # the agent reads its files with go-ini (Insensitive, Loose) and its booleans
    # (GoogleCloudPlatform/guest-agent@7202b3b7, google_guest_agent/cfg/cfg.go Load)
    ("/etc/default/instance_configs.cfg", "[InstanceSetup]\nset_host_keys=false\n", False),
    ("/etc/default/instance_configs.cfg", "[InstanceSetup]\nset_host_keys = False\n", False),
    ("/etc/default/instance_configs.cfg", "[instancesetup]\nSet_Host_Keys = no\n", False),
    ("/etc/default/instance_configs.cfg.distro", "[InstanceSetup]\nset_host_keys\t= 0\n", False),
    ("/etc/default/instance_configs.cfg.template", "[InstanceSetup]\nset_host_keys = off\n", False),
    # a comment, or the key in another section, leaves the agent's default (true)
    ("/etc/default/instance_configs.cfg", "[InstanceSetup]\n# set_host_keys = false\n", True),
    ("/etc/default/instance_configs.cfg", "[Accounts]\nset_host_keys = false\n", True),
])
def test_host_keys_are_removed_only_when_the_agent_will_make_new_ones(tmp_path, run_module, path, text, regenerated):
    """Debian and Ubuntu have no sshd-keygen unit: with the agent's set_host_keys off, an image
    without host keys boots an sshd that cannot start."""
    root = debian_image(tmp_path / "image")
    put(root, "/etc/default/instance_configs.cfg", "")
    put(root, path, text)
    out = run(run_module, root)
    assert out["rc"] == 0, out.get("msg")
    keys = [n for n in os.listdir(os.path.join(root, "etc/ssh")) if n.startswith("ssh_host_")]
    assert (keys == []) is regenerated, keys
    assert statuses(out)["GCE-SSH-NO-HOST-KEYS"] == ("pass" if regenerated else "fail")


@pytest.mark.parametrize("chronyd, dropin, status", [
    (True, True, "pass"),     # Debian 11: timesyncd's drop-in keeps it from starting beside chronyd
    (False, True, "fail"),    # no chronyd: the condition holds nothing back
    (True, False, "fail"),    # no such drop-in: both run
])
def test_timesyncd_held_back_by_its_condition_is_not_a_second_daemon(tmp_path, run_module, chronyd, dropin, status):
    root = debian_image(tmp_path / "image")
    put(root, "/etc/chrony/chrony.conf", "server metadata.google.internal iburst\n")
    put(root, "/lib/systemd/system/chrony.service", "[Install]\nWantedBy=multi-user.target\n")
    link(root, "/etc/systemd/system/multi-user.target.wants/chrony.service", "/lib/systemd/system/chrony.service")
    put(root, "/etc/systemd/timesyncd.conf", "[Time]\nNTP=metadata.google.internal\n")
    if chronyd:
        put(root, "/usr/sbin/chronyd", "", 0o755)
    if dropin:   # systemd 247's debian/extra/systemd-timesyncd.service.d/disable-with-time-daemon.conf
        put(root, "/lib/systemd/system/systemd-timesyncd.service.d/disable-with-time-daemon.conf",
            "[Unit]\n# don't run timesyncd if we have another NTP daemon installed\n"
            "ConditionFileIsExecutable=!/usr/sbin/ntpd\nConditionFileIsExecutable=!/usr/sbin/openntpd\n"
            "ConditionFileIsExecutable=!/usr/sbin/chronyd\nConditionFileIsExecutable=!/usr/sbin/VBoxService\n")
    result = by_id(run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}}))[
        "GCE-TIME-METADATA-NTP"]
    assert result["status"] == status, result
    if status == "fail":
        assert "2 time daemons are enabled (chrony, timesyncd)" in result["message"], result


@pytest.mark.parametrize("conflicts, status", [
    ("Conflicts=ntpd.service systemd-timesyncd.service\n", "pass"),   # chrony 4.8 examples/chronyd.service
    ("Conflicts=openntpd.service ntp.service ntpsec.service\n", "fail"),   # Debian's chrony.service: both run
])
def test_timesyncd_that_chronyd_conflicts_with_is_not_a_second_daemon(tmp_path, run_module, conflicts, status):
    # systemd.unit(5) Conflicts=: of two units wanted at boot, the one that conflicts starts, the other is stopped
    root = debian_image(tmp_path / "image")
    put(root, "/etc/chrony.conf", "server metadata.google.internal iburst\n")
    put(root, "/usr/lib/systemd/system/chronyd.service", "[Unit]\n" + conflicts + "[Install]\nWantedBy=multi-user.target\n")
    link(root, "/etc/systemd/system/multi-user.target.wants/chronyd.service", "/usr/lib/systemd/system/chronyd.service")
    result = by_id(run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}}))[
        "GCE-TIME-METADATA-NTP"]
    assert result["status"] == status, result
    if status == "fail":
        assert "2 time daemons are enabled (chrony, timesyncd)" in result["message"], result
    else:
        assert result["evidence"]["daemons"] == ["chrony"], result


def sles_image(root, ifcfg):
    """SLES 15 as Google's import left it (compute-image-tools@19adc438,
    daisy_workflows/image_import/suse/suse_import/translate.py: ifcfg-eth0
    for wicked, console=ttyS0 in GRUB_CMDLINE_LINUX_DEFAULT)."""
    root = str(root)
    units = "/usr/lib/systemd/system/"
    put(root, "/usr/sbin/grub2-mkconfig", "#!/bin/sh\n. /etc/default/grub\n")
    put(root, "/etc/default/grub", 'GRUB_DEFAULT=saved\nGRUB_TIMEOUT=0\nGRUB_CMDLINE_LINUX=""\n'
        'GRUB_CMDLINE_LINUX_DEFAULT="console=ttyS0,38400n8 net.ifnames=0"\nGRUB_DISABLE_RECOVERY="true"\n')
    put(root, "/boot/grub2/grub.cfg", "set timeout=0\nmenuentry 'SLES 15-SP5' {\n\tlinux\t/boot/vmlinuz "
        "root=UUID=1 console=ttyS0,38400n8 net.ifnames=0\n}\n")
    put(root, units + "wicked.service", "[Service]\nExecStart=/usr/sbin/wicked --systemd ifup all\n"
        "[Install]\nWantedBy=multi-user.target\nAlias=network.service\n")
    link(root, "/etc/systemd/system/multi-user.target.wants/wicked.service", units + "wicked.service")
    link(root, "/etc/systemd/system/network.service", units + "wicked.service")
    put(root, "/etc/sysconfig/network/ifcfg-lo", "IPADDR=127.0.0.1/8\nNETMASK=255.0.0.0\nSTARTMODE=nfsroot\n"
        "BOOTPROTO=static\n")
    put(root, "/etc/sysconfig/network/ifcfg-eth0", ifcfg)
    return root


SLES_IFCFG = "BOOTPROTO=dhcp\nSTARTMODE=auto\nDHCLIENT_SET_HOSTNAME=yes"


@pytest.mark.parametrize("ifcfg, extra, dhcp, mtu, said", [
    (SLES_IFCFG, {}, "pass", "pass", "ifcfg-eth0 configures eth0 by DHCP"),
    ("BOOTPROTO='dhcp4'\nSTARTMODE='onboot'\n", {}, "pass", "pass", "ifcfg-eth0 configures eth0 by DHCP"),
    # wicked ignores a backup (ifcfg(5) "FILENAMES AND EXTENSIONS")
    (SLES_IFCFG, {"ifcfg-eth0.bak": "BOOTPROTO=static\nIPADDR=10.0.0.2/24\nSTARTMODE=auto\n"}, "pass", "pass",
     "ifcfg-eth0 configures eth0 by DHCP"),
    ("BOOTPROTO=dhcp\n", {}, "fail", "pass", "STARTMODE=manual: not started at boot"),
    ("STARTMODE=auto\nIPADDR=10.128.0.2/32\n", {}, "fail", "pass", "without DHCPv4 (static addresses)"),
    (SLES_IFCFG + "\nMTU=1500\n", {}, "pass", "fail", "fixes the MTU at 1500"),
])
def test_suse_wicked_ifcfg_is_the_network_configuration(tmp_path, run_module, ifcfg, extra, dhcp, mtu, said):
    root = sles_image(tmp_path / "image", ifcfg)
    for name, text in extra.items():
        put(root, "/etc/sysconfig/network/" + name, text)
    out = run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}})
    assert out["rc"] == 0, out.get("msg")
    found = by_id(out)
    assert (found["GCE-NET-DHCP"]["status"], found["GCE-NET-MTU-DHCP"]["status"]) == (dhcp, mtu), found["GCE-NET-DHCP"]
    assert said in found["GCE-NET-DHCP"]["message"] + found["GCE-NET-MTU-DHCP"]["message"]
    assert found["GCE-NET-DHCP"]["evidence"]["managers"] == ["wicked"]
    assert found["GCE-NET-NO-MAC-BINDING"]["status"] == "pass"


NETPLAN_RULE = 'SUBSYSTEM=="net", ACTION=="add", DRIVERS=="?*", ATTR{address}=="42:01:0a:80:00:02", NAME="ens4"\n'


def test_a_netplan_file_netplan_refuses_leaves_no_dhcp(tmp_path, run_module):
    """One netplan file netplan refuses (a boolean it cannot read) and netplan writes no network
    configuration at all: the image gets no address at boot, whatever the other files say."""
    root = debian_image(tmp_path / "image")
    put(root, "/etc/netplan/50-cloud-init.yaml", "network:\n  version: 2\n  ethernets:\n    ens4:\n"
        "      dhcp4: true\n")
    put(root, "/etc/netplan/90-local.yaml", "network:\n  ethernets:\n    ens4:\n      optional: 1\n")
    dhcp = by_id(run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}}))[
        "GCE-NET-DHCP"]
    assert dhcp["status"] != "pass", dhcp
    assert "90-local.yaml: network.ethernets.ens4.optional: 1 is no boolean (netplan refuses the file" \
        in dhcp["message"], dhcp["message"]


def test_netplan_s_generated_rules_are_judged_by_their_netplan_file(tmp_path, run_module):
    """netplan writes /run/udev/rules.d/99-netplan-<id>.rules from a set-name matched on a MAC
    address at every boot (cloud-init's 50-cloud-init.yaml on Ubuntu): GCE-NET-NO-MAC-BINDING
    judges the netplan file; GCE-NET-NO-PERSISTENT-RULES names the rule and leaves it alone."""
    root = debian_image(tmp_path / "image")
    put(root, "/run/udev/rules.d/99-netplan-ens4.rules", NETPLAN_RULE)
    out = run(run_module, root)
    assert out["rc"] == 0, out.get("msg")
    found = by_id(out)["GCE-NET-NO-PERSISTENT-RULES"]
    assert found["status"] == "pass" and found["changed"], found
    assert "99-netplan-ens4.rules at each boot from its configuration (GCE-NET-NO-MAC-BINDING" in found["message"], found
    assert read(root, "/run/udev/rules.d/99-netplan-ens4.rules") == NETPLAN_RULE
    assert "# guestready.gce neutralised (GCE-NET-NO-PERSISTENT-RULES)" in read(root, "/etc/udev/rules.d/70-persistent-net.rules")
    put(root, "/run/udev/rules.d/99-mine.rules", NETPLAN_RULE)
    found = by_id(run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}}))["GCE-NET-NO-PERSISTENT-RULES"]
    assert found["status"] == "fail" and found["actual"] == ["%s/run/udev/rules.d/99-mine.rules:1" % root], found


def test_a_rule_bound_through_id_net_name_mac_is_neutralised_a_wildcard_one_kept(tmp_path, run_module):
    """ENV{ID_NET_NAME_MAC}=="enx<address>" names the NIC after its MAC address as ATTR{address}
    does (udev-builtin-net_id.c names_mac()): harden comments it out.  ATTR{address}=="?*"
    matches every NIC: that rule is no persistent-net rule, and stays."""
    root = debian_image(tmp_path / "image")
    bound = 'SUBSYSTEM=="net", ACTION=="add", ENV{ID_NET_NAME_MAC}=="enx525400123456", NAME="lan0"\n'
    wildcard = 'SUBSYSTEM=="net", ACTION=="add", ATTR{address}=="?*", KERNEL=="eth*", NAME="$env{ID_NET_NAME_PATH}"\n'
    put(root, "/etc/udev/rules.d/70-persistent-net.rules", wildcard + bound)
    info = {"areas": ["gce_settings"], "gce_settings": {"root": root}}
    found = by_id(run_module(compliance_info, info))["GCE-NET-NO-PERSISTENT-RULES"]
    assert found["status"] == "fail" and found["actual"] == ["%s/etc/udev/rules.d/70-persistent-net.rules:2" % root], found
    out = run(run_module, root)
    assert out["rc"] == 0, out.get("msg")
    assert by_id(out)["GCE-NET-NO-PERSISTENT-RULES"]["status"] == "pass"
    assert read(root, "/etc/udev/rules.d/70-persistent-net.rules") == (
        wildcard + "# guestready.gce neutralised (GCE-NET-NO-PERSISTENT-RULES): " + bound)


@pytest.mark.parametrize("directory", ["/usr/lib/udev/rules.d", "/lib/udev/rules.d"])
def test_a_packaged_persistent_rule_is_hidden_by_a_copy_in_etc(tmp_path, run_module, directory):
    """A package's rules file is not edited in place (the package would put it back): a file of its name
    in /etc/udev/rules.d hides it (udev(7)), so harden writes a copy there with the MAC-bound rules
    commented out and the file's other rules kept; the package's file stays as it was."""
    root = debian_image(tmp_path / "image")
    other = 'SUBSYSTEM=="block", KERNEL=="sd*", ATTR{queue/scheduler}="none"\n'
    packaged = "# vendor rules\n" + other + NETPLAN_RULE
    put(root, directory + "/75-vendor-net.rules", packaged)
    info = {"areas": ["gce_settings"], "gce_settings": {"root": root}}
    found = by_id(run_module(compliance_info, info))["GCE-NET-NO-PERSISTENT-RULES"]
    assert found["status"] == "fail" and "%s%s/75-vendor-net.rules:3" % (root, directory) in found["actual"], found
    out = run(run_module, root)
    assert out["rc"] == 0, out.get("msg")
    found = by_id(out)["GCE-NET-NO-PERSISTENT-RULES"]
    assert found["status"] == "pass" and found["changed"], found
    assert read(root, directory + "/75-vendor-net.rules") == packaged
    copy = read(root, "/etc/udev/rules.d/75-vendor-net.rules")
    assert copy.startswith("# Managed by guestready.gce") and "# A copy of %s/75-vendor-net.rules" % directory in copy, copy
    assert other in copy and "\n" + NETPLAN_RULE not in copy and "# vendor rules\n" in copy, copy
    again = run(run_module, root)
    assert not by_id(again)["GCE-NET-NO-PERSISTENT-RULES"]["changed"] and not again["changed"], again


def test_the_usemtu_drop_in_takes_the_mtu_a_link_file_fixed(tmp_path, run_module):
    """A .link file's MTUBytes= lasts until a DHCP client sets the server's MTU: while networkd does
    not take it, GCE-NET-MTU-DHCP fails naming the .link file too; harden's UseMTU=true drop-in
    makes networkd set the server's MTU, and the check passes."""
    root = debian_image(tmp_path / "image")
    put(root, "/etc/systemd/network/10-jumbo.link", "[Match]\nOriginalName=*\n[Link]\nMTUBytes=9000\n")
    found = by_id(run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}}))["GCE-NET-MTU-DHCP"]
    assert found["status"] == "fail" and "10-jumbo.link (MTUBytes=9000) fixes the MTU at 9000" in found["message"], found
    out = run(run_module, root)
    assert out["rc"] == 0, out.get("msg")
    assert "UseMTU=true" in read(root, "/etc/systemd/network/50-dhcp.network.d/50-guestready-gce.conf")
    assert by_id(out)["GCE-NET-MTU-DHCP"]["status"] == "pass", by_id(out)["GCE-NET-MTU-DHCP"]


JUMBO_LINK = "[Match]\nOriginalName=eth*\n\n[Link]\nMTUBytes=9K\n"


@pytest.mark.parametrize("files, masked, said", [
    ({"/etc/systemd/network/10-jumbo.link": JUMBO_LINK}, [],
     "/etc/systemd/network/10-jumbo.link (MTUBytes=9K) fixes the MTU at 9216 when the NIC appears"),
    ({"/usr/lib/systemd/network/10-jumbo.link": JUMBO_LINK.replace("eth*", "eth0\nDriver=virtio_net gve")}, [],
     "10-jumbo.link (MTUBytes=9K) fixes the MTU at 9216"),
    ({"/usr/lib/systemd/network/10-x.link": "[Match]\nType=ether\n",
      "/etc/systemd/network/10-x.link.d/mtu.conf": "[Link]\nMTUBytes=1500\n"}, [],
     "/etc/systemd/network/10-x.link.d/mtu.conf (MTUBytes=1500) fixes the MTU at 1500"),
    # the first .link file that matches applies alone: an earlier one without MTUBytes= wins
    ({"/etc/systemd/network/10-jumbo.link": JUMBO_LINK,
      "/usr/lib/systemd/network/05-first.link": "[Match]\nOriginalName=*\n[Link]\nNamePolicy=path\n"}, [], None),
    # [Match] criteria a Compute Engine NIC fails: another driver, a MAC address, a renamed name, not Ethernet
    ({"/etc/systemd/network/10-jumbo.link": JUMBO_LINK.replace("eth*", "*\nDriver=e1000 ixgbe")}, [], None),
    ({"/etc/systemd/network/10-jumbo.link": JUMBO_LINK.replace("OriginalName=eth*", "MACAddress=52:54:00:12:34:56")},
     [], None),
    ({"/etc/systemd/network/10-jumbo.link": JUMBO_LINK.replace("eth*", "ens4")}, [], None),
    ({"/etc/systemd/network/10-jumbo.link": JUMBO_LINK.replace("eth*", "*\nType=wlan")}, [], None),
    ({"/etc/systemd/network/10-jumbo.link": JUMBO_LINK.replace("eth*", "*\nVirtualization=container")}, [], None),
    # an empty [Match] (systemd 246 and later ignore the file), a masked file, an MTU systemd refuses
    ({"/etc/systemd/network/10-jumbo.link": JUMBO_LINK.replace("OriginalName=eth*", "")}, [], None),
    ({"/usr/lib/systemd/network/10-jumbo.link": JUMBO_LINK}, ["/etc/systemd/network/10-jumbo.link"], None),
    ({"/etc/systemd/network/10-jumbo.link": JUMBO_LINK.replace("9K", "9 kB")}, [], None),
])
def test_a_link_file_that_fixes_the_nic_s_mtu(tmp_path, run_module, files, masked, said):
    """udev's net_setup_link applies the first .link file whose [Match] matches the new NIC (systemd
    link-config.c link_config_get()); its MTUBytes= fixes the NIC's MTU until a DHCP client sets
    the server's, so a failing GCE-NET-MTU-DHCP names it (here the ifcfg file fixes the MTU)."""
    root = sles_image(tmp_path / "image", SLES_IFCFG + "\nMTU=1460\n")
    for path, text in files.items():
        put(root, path, text)
    for path in masked:
        link(root, path, "/dev/null")
    out = run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}})
    assert out["rc"] == 0, out.get("msg")
    found = by_id(out)["GCE-NET-MTU-DHCP"]
    assert found["status"] == "fail" and "ifcfg-eth0 fixes the MTU at 1460" in found["message"], found
    if said:
        assert said in found["message"]
    else:
        assert ".link" not in found["message"], found["message"]


LAN_LINK = "[Match]\nMACAddress=52:54:00:12:34:57\n\n[Link]\nName=lan0\n"


@pytest.mark.parametrize("files, masked, bound", [
    # the systemd form of 70-persistent-net.rules: a NIC renamed after its MAC address
    ({"/etc/systemd/network/10-lan.link": LAN_LINK}, [], "10-lan.link (MACAddress=52:54:00:12:34:57, Name=lan0)"),
    ({"/usr/lib/systemd/network/10-lan.link": LAN_LINK.replace("MACAddress", "PermanentMACAddress")}, [],
     "10-lan.link (PermanentMACAddress=52:54:00:12:34:57, Name=lan0)"),
    # the name from a drop-in (.link.d), or reset there
    ({"/etc/systemd/network/10-lan.link": "[Match]\nMACAddress=52:54:00:12:34:57\n[Link]\nMTUBytes=1460\n",
      "/run/systemd/network/10-lan.link.d/name.conf": "[Link]\nName=lan0\n"}, [], "Name=lan0 in "),
    ({"/etc/systemd/network/10-lan.link": LAN_LINK, "/etc/systemd/network/10-lan.link.d/name.conf": "[Link]\nName=\n"},
     [], None),
    # a MAC match without Name= sets properties of that NIC only: it renames nothing
    ({"/etc/systemd/network/10-lan.link": "[Match]\nMACAddress=52:54:00:12:34:57\n[Link]\nWakeOnLan=off\n"}, [], None),
    # masked in /etc; a name systemd refuses; a file that never applies on a VM
    ({"/usr/lib/systemd/network/10-lan.link": LAN_LINK}, ["/etc/systemd/network/10-lan.link"], None),
    ({"/usr/lib/systemd/network/10-lan.link": LAN_LINK, "/etc/systemd/network/10-lan.link": ""}, [], None),
    ({"/usr/lib/systemd/network/10-lan.link": LAN_LINK,
      "/etc/systemd/network/10-lan.link": "[Match]\nOriginalName=eth9\n[Link]\nName=lan0\n"}, [], None),
    ({"/etc/systemd/network/10-lan.link": LAN_LINK.replace("lan0", "lan:0")}, [], None),
    ({"/etc/systemd/network/10-lan.link": LAN_LINK.replace("[Link]", "Virtualization=!vm\n[Link]")}, [], None),
], ids=["mac-name", "permanent-mac", "name-in-drop-in", "name-reset", "no-name", "masked", "empty-in-etc", "hidden",
        "invalid-name", "not-a-vm"])
def test_a_link_file_that_renames_a_nic_by_its_mac_address_is_bound(tmp_path, run_module, files, masked, bound):
    """udev's net_setup_link renames the NIC a .link file's [Match] MACAddress= or PermanentMACAddress=
    names to its [Link] Name= (systemd.link(5), link-config.c link_generate_new_name()): a new VM's
    NIC keeps another name, which GCE-NET-NO-MAC-BINDING reports; harden leaves the file alone."""
    root = debian_image(tmp_path / "image")
    for path, text in files.items():
        put(root, path, text)
    for path in masked:
        link(root, path, "/dev/null")
    out = run(run_module, root)
    assert out["rc"] == 0, out.get("msg")
    found = by_id(out)["GCE-NET-NO-MAC-BINDING"]
    assert found["status"] == ("fail" if bound else "pass"), found
    if bound:
        assert bound in found["message"] and found["actual"] == [root + sorted(files)[0]], found
    for path, text in files.items():
        assert read(root, path) == text


UBUNTU_CLOUD_CFG = ("datasource_list: [ NoCloud, ConfigDrive, GCE, None ]\ncloud_init_modules:\n  - seed_random\n"
                    "  - users_groups\n  - ssh\n  - [set_passwords, always]\n\ncloud_config_modules:\n  - ntp\n")


@pytest.mark.parametrize("extra, removed, said", [
    # Ubuntu's cloud images: cloud-init's ssh module makes the keys of each new instance
    ({}, True, None),
    ({"/etc/cloud/cloud.cfg.d/91-gce.cfg": "datasource_list: [ GCE ]\n"}, True, None),
    ({"/etc/cloud/cloud-init.disabled": ""}, False, "set_host_keys is off"),
    ({"/etc/cloud/cloud.cfg.d/99-keys.cfg": "ssh_genkeytypes: []\n"}, False, "set_host_keys is off"),
    ({"/etc/cloud/cloud.cfg.d/99-ds.cfg": "datasource_list: [ NoCloud, None ]\n"}, False, "set_host_keys is off"),
    ({"/etc/cloud/cloud.cfg": UBUNTU_CLOUD_CFG.replace("  - ssh\n", "")}, False, "set_host_keys is off"),
])
def test_host_keys_made_by_cloud_init_are_removed_from_an_ubuntu_image(tmp_path, run_module, extra, removed, said):
    """Ubuntu's google-guest-agent ships set_host_keys = false (GoogleCloudPlatform/guest-configs@0850c65b,
    packaging/ubuntu/instance_configs.cfg.distro): cloud-init makes the host keys there."""
    root = debian_image(tmp_path / "image")
    os.unlink(os.path.join(root, "etc/default/instance_configs.cfg"))
    put(root, "/etc/default/instance_configs.cfg.distro", "[Accounts]\ngroups = ubuntu,adm\n\n"
        "[InstanceSetup]\nset_host_keys = false\n")
    put(root, "/etc/cloud/cloud.cfg", UBUNTU_CLOUD_CFG)
    put(root, "/lib/systemd/system/cloud-init-local.service", "[Service]\nExecStart=/usr/bin/cloud-init init --local\n"
        "[Install]\nWantedBy=cloud-init.target\n")
    link(root, "/etc/systemd/system/cloud-init.target.wants/cloud-init-local.service",
         "/lib/systemd/system/cloud-init-local.service")
    for path, text in extra.items():
        put(root, path, text)
    out = run(run_module, root)
    assert out["rc"] == 0, out.get("msg")
    keys = [n for n in os.listdir(os.path.join(root, "etc/ssh")) if n.startswith("ssh_host_")]
    assert (keys == []) is removed, keys
    result = by_id(out)["GCE-SSH-NO-HOST-KEYS"]
    assert result["status"] == ("pass" if removed else "fail")
    notes = " ".join(out["areas"]["gce_settings"]["notes"])
    if said:
        assert said in notes and "install google-guest-agent" not in notes
    else:
        assert result["evidence"]["regenerated_by"] == "cloud-init (its ssh module)"


# openSUSE Tumbleweed's and Leap 16's sshd: no /etc/ssh/sshd_config; the vendor file includes
# /etc/ssh/sshd_config.d/*.conf, then /usr/etc/ssh/sshd_config.d/*.conf
SUSE_VENDOR_SSHD = ("Include /etc/ssh/sshd_config.d/*.conf\nInclude /usr/etc/ssh/sshd_config.d/*.conf\n"
                    "UsePAM yes\nX11Forwarding yes\nSubsystem\tsftp\t/usr/libexec/ssh/sftp-server\n")


@pytest.mark.parametrize("dropin, status", [
    (None, "fail"),                                                     # sshd's default: yes
    ("PasswordAuthentication no\nKbdInteractiveAuthentication no\n", "pass"),
])
def test_suse_vendor_sshd_config_is_what_sshd_reads(tmp_path, run_module, dropin, status):
    root = debian_image(tmp_path / "image")
    os.unlink(os.path.join(root, "etc/ssh/sshd_config"))
    put(root, "/usr/etc/ssh/sshd_config", SUSE_VENDOR_SSHD, 0o640)
    if dropin:
        put(root, "/etc/ssh/sshd_config.d/50-site.conf", dropin)
    found = by_id(run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}}))
    assert found["GCE-SSH-NO-PASSWORD-AUTH"]["status"] == status, found["GCE-SSH-NO-PASSWORD-AUTH"]
    assert found["GCE-SSH-NO-ROOT-PASSWORD"]["status"] == "pass" and found["GCE-SSH-KEEPALIVE"]["status"] == "fail"
    assert os.path.join(root, "usr/etc/ssh/sshd_config") in found["GCE-SSH-KEEPALIVE"]["evidence"]["files"]
    out = run(run_module, root)
    assert out["rc"] == 0, out.get("msg")
    # an /etc/ssh/sshd_config would hide the vendor file (its Subsystem, its includes): reported only
    assert not os.path.exists(os.path.join(root, "etc/ssh/sshd_config"))
    assert sorted(os.listdir(os.path.join(root, "etc/ssh/sshd_config.d"))) == (["50-site.conf"] if dropin else [])
    notes = " ".join(out["areas"]["gce_settings"]["notes"])
    assert "sshd reads the vendor configuration" in notes and "ClientAliveInterval 420" in notes


@pytest.mark.parametrize("path, text", [
    # an empty assignment resets the condition's list (systemd.unit(5)): a drop-in sorting after undoes it
    ("/etc/systemd/system/systemd-timesyncd.service.d/zz-always.conf", "[Unit]\nConditionFileIsExecutable=\n"),
    # a condition outside [Unit] is an unknown key systemd ignores: the Debian drop-in moved there holds nothing
    ("/lib/systemd/system/systemd-timesyncd.service.d/disable-with-time-daemon.conf",
     "[Service]\nConditionFileIsExecutable=!/usr/sbin/chronyd\n"),
])
def test_timesyncd_condition_that_systemd_does_not_apply_holds_nothing_back(tmp_path, run_module, path, text):
    root = debian_image(tmp_path / "image")
    put(root, "/etc/chrony/chrony.conf", "server metadata.google.internal iburst\n")
    put(root, "/lib/systemd/system/chrony.service", "[Install]\nWantedBy=multi-user.target\n")
    link(root, "/etc/systemd/system/multi-user.target.wants/chrony.service", "/lib/systemd/system/chrony.service")
    put(root, "/etc/systemd/timesyncd.conf", "[Time]\nNTP=metadata.google.internal\n")
    put(root, "/usr/sbin/chronyd", "", 0o755)
    put(root, "/lib/systemd/system/systemd-timesyncd.service.d/disable-with-time-daemon.conf",
        "[Unit]\nConditionFileIsExecutable=!/usr/sbin/chronyd\n")
    put(root, path, text)
    result = by_id(run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}}))[
        "GCE-TIME-METADATA-NTP"]
    assert result["status"] == "fail", result
    assert "2 time daemons are enabled (chrony, timesyncd)" in result["message"], result


def test_a_result_lists_twenty_servers_and_counts_the_rest(tmp_path, run_module):
    """An NTP= line of 60,000 names (a hostile image; timesyncd reads a line up to 1 MiB):
    the message, ``actual`` and the evidence name twenty and count the others, instead of
    most of a megabyte of report per host."""
    root = debian_image(tmp_path / "image")
    put(root, "/etc/systemd/timesyncd.conf", "[Time]\nNTP=metadata.google.internal " +
        " ".join("h%d.example" % number for number in range(60000)) + "\n")
    out = run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}})
    result = by_id(out)["GCE-TIME-METADATA-NTP"]
    assert result["status"] == "fail", result["message"][:300]
    assert "h19.example (" in result["message"] and "h20.example" not in result["message"], result["message"][:3000]
    assert result["message"].count("... and 59980 more") == 1, result["message"][-300:]
    assert result["actual"]["timesyncd"][-1] == "... and 59981 more" and len(result["actual"]["timesyncd"]) == 21
    assert len(result["evidence"]["sources"]["timesyncd"]) == 21
    assert len(json.dumps(out)) < 100000


def test_fstab_results_list_twenty_entries_and_count_the_rest(tmp_path, run_module):
    root = debian_image(tmp_path / "image")
    put(root, "/etc/fstab", "UUID=1 / ext4 defaults 0 1\n" + "".join(
        "/dev/sdb%d /data%d ext4 defaults 0 2\n" % (number, number) for number in range(1, 3001)))
    out = run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}})
    names, nofail = by_id(out)["GCE-FSTAB-STABLE-NAMES"], by_id(out)["GCE-FSTAB-NOFAIL"]
    assert names["status"] == nofail["status"] == "fail"
    assert names["message"].endswith("/dev/sdb20 (line 21, /data20), ... and 2980 more"), names["message"][-300:]
    assert nofail["message"].endswith("/data20 (line 21), ... and 2980 more"), nofail["message"][-300:]
    assert len(names["actual"]) == len(nofail["actual"]) == 21


def test_listed_keeps_short_lists_and_counts_what_it_leaves_out():
    from ansible_collections.guestready.gce.plugins.module_utils.results import MAX_LISTED, listed
    assert listed(iter("abc")) == ["a", "b", "c"]
    assert listed(range(MAX_LISTED)) == list(range(MAX_LISTED))
    assert listed(range(MAX_LISTED + 2)) == list(range(MAX_LISTED)) + ["... and 2 more"]


def _hardened_until_it_passes(tmp_path, run_module, rid, files):
    """The Debian image with ``files`` ({path: text}) added, hardened once: ``rid`` passes."""
    root = debian_image(tmp_path / "image")
    for path, text in files.items():
        put(root, path, text)
    out = run(run_module, root)
    assert out["rc"] == 0, out.get("msg")
    assert statuses(out)[rid] == "pass", by_id(out)[rid]["message"]
    return root


def test_a_timesyncd_drop_in_read_after_ours_is_neutralised(tmp_path, run_module):
    """timesyncd reads drop-ins in name order and NTP= adds up: a file sorting after
    zz-guestready-gce.conf added its servers to the metadata server, or reset the list.
    Its NTP=/FallbackNTP= lines are commented out; one sorting before ours is left (our
    empty NTP= resets it)."""
    root = _hardened_until_it_passes(tmp_path, run_module, "GCE-TIME-METADATA-NTP", {
        "/etc/systemd/timesyncd.conf.d/10-site.conf": "[Time]\nNTP=early.example\n",
        "/usr/lib/systemd/timesyncd.conf.d/zzz-vendor.conf": "[Time]\nNTP=\nFallbackNTP=pool.ntp.org\nRootDistanceMaxSec=5\n"})
    text = read(root, "/usr/lib/systemd/timesyncd.conf.d/zzz-vendor.conf")
    assert text == ("[Time]\n# guestready.gce neutralised (GCE-TIME-METADATA-NTP): NTP=\n"
                    "# guestready.gce neutralised (GCE-TIME-METADATA-NTP): FallbackNTP=pool.ntp.org\n"
                    "RootDistanceMaxSec=5\n"), text
    assert read(root, "/etc/systemd/timesyncd.conf.d/10-site.conf") == "[Time]\nNTP=early.example\n"
    assert run(run_module, root)["changed"] is False


def test_a_marked_edit_that_would_grow_a_file_past_the_read_limit_is_not_written(tmp_path, run_module):
    """Commenting out a line adds the marker: a drop-in just under the 32 MiB the
    collection reads was written past it, and every later run said it was not read."""
    from ansible_collections.guestready.gce.plugins.module_utils.configfiles import MAX_SIZE
    root = debian_image(tmp_path / "image")
    head = "[Time]\nNTP=late.example\n"
    text = head + "#" * (MAX_SIZE - len(head) - 11) + "\n"
    put(root, "/etc/systemd/timesyncd.conf.d/zzz-site.conf", text)
    out = run(run_module, root)
    assert out["rc"] != 0 and "zzz-site.conf: it would be" in out["msg"], out.get("msg")
    assert "larger than the %d this collection reads" % MAX_SIZE in out["msg"], out["msg"]
    assert read(root, "/etc/systemd/timesyncd.conf.d/zzz-site.conf") == text
    assert statuses(out)["GCE-TIME-METADATA-NTP"] == "fail", by_id(out)["GCE-TIME-METADATA-NTP"]


@pytest.mark.parametrize("lines, why", [
    ('GRUB_CMDLINE_LINUX="$(cat /etc/kernel/cmdline)"\n', "a command's output"),
    ('[ -e /sys/firmware/efi ] &&\n  GRUB_CMDLINE_LINUX="console=ttyS0,38400n8"\n', "assigned after &&"),
    ('if [ -e /sys/firmware/efi ]; then\n  GRUB_CMDLINE_LINUX="console=ttyS0,38400n8"\nfi\n', "inside a compound command"),
    ('A=`uname -r`\nGRUB_CMDLINE_LINUX="console=ttyS0,38400n8 $A"\n', "made from A")])
def test_a_kernel_command_line_only_sh_knows_is_unknown(tmp_path, run_module, lines, why):
    """A value from a command's output, or assigned under a condition, is known only when
    grub-mkconfig runs the file: the check says so, naming the line, and harden leaves it alone.
    Debian's own GRUB_DISTRIBUTOR from lsb_release is no such matter."""
    root = debian_image(tmp_path / "image")
    distributor = "GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`\n"
    put(root, "/etc/default/grub.d/50-site.cfg", distributor)
    check = {"areas": ["gce_settings"], "gce_settings": {"root": root}}
    assert by_id(run_module(compliance_info, check))["GCE-BOOT-SERIAL-CONSOLE"]["status"] == "fail"
    put(root, "/etc/default/grub.d/50-site.cfg", distributor + lines)
    found = by_id(run_module(compliance_info, check))["GCE-BOOT-SERIAL-CONSOLE"]
    assert found["status"] == "unknown" and "50-site.cfg:" in found["message"], found
    assert "GRUB_CMDLINE_LINUX is " in found["message"] and why in found["message"], found["message"]
    run(run_module, root)
    assert read(root, "/etc/default/grub.d/50-site.cfg") == distributor + lines
    assert by_id(run_module(compliance_info, check))["GCE-BOOT-SERIAL-CONSOLE"]["status"] == "unknown"


def test_a_grub_drop_in_read_after_ours_gets_the_change(tmp_path, run_module):
    """grub-mkconfig sources /etc/default/grub.d/*.cfg in name order: a file sorting after
    zz-guestready-gce.cfg set GRUB_TIMEOUT and GRUB_CMDLINE_LINUX again after ours. Its last
    assignment is replaced in place (the console added to the value the variable ends with)."""
    root = debian_image(tmp_path / "image")
    put(root, "/etc/default/grub.d/zzz-site.cfg", 'GRUB_TIMEOUT=10\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"\n'
        '{\n  GRUB_CMDLINE_LINUX="console=tty0"\n}\n')
    put(root, "/etc/default/grub.d/10-site.cfg", "GRUB_TIMEOUT=20\n")
    before = by_id(run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}}))
    assert "zzz-site.cfg:1" in before["GCE-BOOT-TIMEOUT"]["message"], before["GCE-BOOT-TIMEOUT"]["message"]
    out = run(run_module, root)
    assert out["rc"] == 0, out.get("msg")
    assert statuses(out)["GCE-BOOT-TIMEOUT"] == statuses(out)["GCE-BOOT-SERIAL-CONSOLE"] == "pass", out["results"]
    text = read(root, "/etc/default/grub.d/zzz-site.cfg")
    assert text == ('# guestready.gce replaced (GCE-BOOT-TIMEOUT): GRUB_TIMEOUT=10\nGRUB_TIMEOUT=0\n'
                    'GRUB_CMDLINE_LINUX_DEFAULT="quiet"\n{\n'
                    '# guestready.gce replaced (GCE-BOOT-SERIAL-CONSOLE):   GRUB_CMDLINE_LINUX="console=tty0"\n'
                    'GRUB_CMDLINE_LINUX="console=tty0 console=ttyS0,38400n8"\n}\n'), text
    assert read(root, "/etc/default/grub.d/10-site.cfg") == "GRUB_TIMEOUT=20\n"
    assert not os.path.exists(os.path.join(root, "etc/default/grub.d/zz-guestready-gce.cfg"))
    assert run(run_module, root)["changed"] is False


def test_a_file_a_grub_drop_in_sources_is_read_and_the_change_goes_after_it(tmp_path, run_module):
    """A drop-in sorting after ours sources /etc/default/grub.local (``.``), which sets GRUB_TIMEOUT:
    the file is read as sh reads it (it was a command that assigned nothing, then an error), the
    value named at the ``.`` line, and the changes written under that line, not into the file it
    sources.  A ``.`` of a file that is not there under a condition runs nothing."""
    root = debian_image(tmp_path / "image")
    put(root, "/etc/default/grub.d/zzz-site.cfg", "GRUB_TIMEOUT=1\n. /etc/default/grub.local\n"
        "[ -f /etc/default/grub.none ] && . /etc/default/grub.none\nGRUB_DISABLE_OS_PROBER=true\n")
    put(root, "/etc/default/grub.local", "GRUB_TIMEOUT=10\n")
    before = by_id(run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}}))
    assert before["GCE-BOOT-TIMEOUT"]["status"] == "fail", before["GCE-BOOT-TIMEOUT"]
    assert "zzz-site.cfg:2" in before["GCE-BOOT-TIMEOUT"]["message"], before["GCE-BOOT-TIMEOUT"]["message"]
    out = run(run_module, root)
    assert out["rc"] == 0, out.get("msg")
    assert statuses(out)["GCE-BOOT-TIMEOUT"] == "pass", out["results"]
    assert read(root, "/etc/default/grub.d/zzz-site.cfg") == (
        "GRUB_TIMEOUT=1\n. /etc/default/grub.local\n[ -f /etc/default/grub.none ] && . /etc/default/grub.none\n"
        "# guestready.gce (GCE-BOOT-TIMEOUT)\nGRUB_TIMEOUT=0\n"
        # the file it sources may set the command line too: the drop-in decides it
        '# guestready.gce (GCE-BOOT-SERIAL-CONSOLE)\nGRUB_CMDLINE_LINUX="console=ttyS0,38400n8"\nGRUB_DISABLE_OS_PROBER=true\n')
    assert read(root, "/etc/default/grub.local") == "GRUB_TIMEOUT=10\n"
    assert run(run_module, root)["changed"] is False


def test_a_networkd_drop_in_read_after_ours_no_longer_turns_usemtu_off(tmp_path, run_module):
    """networkd reads a .network file's drop-ins in name order, the last value wins: a
    99-site.conf with UseMTU=false undid 50-guestready-gce.conf. Its line is commented out;
    a drop-in sorting before ours, an earlier UseMTU=yes and an empty UseMTU= (ignored by
    config_parse_bool(), no reset) are left."""
    root = _hardened_until_it_passes(tmp_path, run_module, "GCE-NET-MTU-DHCP", {
        "/etc/systemd/network/50-dhcp.network.d/10-site.conf": "[DHCPv4]\nUseMTU=no\n",
        "/usr/lib/systemd/network/50-dhcp.network.d/99-site.conf": "[DHCPv4]\nUseMTU=yes\nUseMTU=false\nUseMTU=\n"})
    assert read(root, "/usr/lib/systemd/network/50-dhcp.network.d/99-site.conf") == (
        "[DHCPv4]\nUseMTU=yes\n# guestready.gce neutralised (GCE-NET-MTU-DHCP): UseMTU=false\nUseMTU=\n")
    assert read(root, "/etc/systemd/network/50-dhcp.network.d/10-site.conf") == "[DHCPv4]\nUseMTU=no\n"
    assert "UseMTU=true" in read(root, "/etc/systemd/network/50-dhcp.network.d/50-guestready-gce.conf")
    assert run(run_module, root)["changed"] is False


# systemd's own reader (systemd_conf): a .network file, a timesyncd drop-in and a .network
# drop-in read as config_parse() reads them, line ends, continuations and broken headers alike
@pytest.mark.parametrize("text", [
    "[Match]\rName=en*\r[Network]\rDHCP=ipv4\r",                 # classic Mac line ends
    u"\ufeff[Match]\r\nName=en*\r\n[Network]\r\nDHCP=ipv4\r\n",   # a Windows editor's BOM and CRLF
    "[Match]\nName=en*\n[Network]\nDHCP=\\\n# IPv4 only\n  ipv4\n",   # a continued line, a comment between
    "[Match]\nName=en*\nType='ether'\n[Network]\nDHCP=ipv4\n",   # config_parse_match_strv() unquotes
    "[Match]\nName=lo e\\n*\n[Network]\nDHCP=ipv4\n",   # config_parse_match_ifnames(): a backslash escapes
])
def test_a_network_file_is_read_as_networkd_reads_it(tmp_path, run_module, text):
    root = debian_image(tmp_path / "image")
    put(root, "/etc/systemd/network/50-dhcp.network", text)
    result = by_id(run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}}))["GCE-NET-DHCP"]
    assert result["status"] == "pass" and "50-dhcp.network configures" in result["message"], result


def test_a_network_file_networkd_fails_to_parse_is_named_and_configures_nothing(tmp_path, run_module):
    """systemd-networkd drops a .network file whose section header config_parse() refuses
    ("Failed to load ..., ignoring"): the check says so, and harden's own file covers the NIC."""
    root = debian_image(tmp_path / "image")
    text = "[Match]\nName=en*\n[Network] # DHCP\nDHCP=ipv4\n"
    put(root, "/etc/systemd/network/50-dhcp.network", text)
    before = by_id(run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}}))["GCE-NET-DHCP"]
    assert before["status"] == "fail", before
    assert ("systemd-networkd ignores %s/etc/systemd/network/50-dhcp.network (line 3: invalid section header "
            "'[Network] # DHCP')" % root) in before["message"], before["message"]
    assert before["evidence"]["networkd_ignored"], before
    out = run(run_module, root)
    assert out["rc"] == 0 and statuses(out)["GCE-NET-DHCP"] == "pass", by_id(out)["GCE-NET-DHCP"]
    assert read(root, "/etc/systemd/network/50-dhcp.network") == text
    assert os.path.exists(os.path.join(root, gce_settings.NETWORKD_FILE.lstrip("/")))


def test_a_timesyncd_file_it_fails_to_parse_no_longer_hides_the_drop_ins_after_it(tmp_path, run_module):
    """timesyncd reads its files up to a line config_parse() refuses, and no later file:
    zz-guestready-gce.conf was never read. The rest of that file, which timesyncd never
    reads, is commented out; what it read before stays."""
    rid = "GCE-TIME-METADATA-NTP"
    root = debian_image(tmp_path / "image")
    put(root, "/etc/systemd/timesyncd.conf.d/10-site.conf", "[Time]\nRootDistanceMaxSec=7\n[Time\nNTP=late.example\n")
    before = by_id(run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}}))[rid]
    assert before["status"] == "fail" and "0.debian.pool.ntp.org" in before["message"], before
    assert "late.example" not in before["message"], before
    assert ("timesyncd stops reading its configuration at %s/etc/systemd/timesyncd.conf.d/10-site.conf line 3 "
            "(invalid section header '[Time'): it reads no later file" % root) in before["message"], before["message"]
    out = run(run_module, root)
    assert out["rc"] == 0 and statuses(out)[rid] == "pass", by_id(out)[rid]
    assert read(root, "/etc/systemd/timesyncd.conf.d/10-site.conf") == (
        "[Time]\nRootDistanceMaxSec=7\n# guestready.gce neutralised (%s): [Time\n"
        "# guestready.gce neutralised (%s): NTP=late.example\n" % (rid, rid))
    assert run(run_module, root)["changed"] is False


def test_a_directory_named_as_a_timesyncd_drop_in_stops_its_reading(tmp_path, run_module):
    """conf-files.c lists a directory of a drop-in's name (it hides that name in later directories)
    and timesyncd fails to read it and reads no later file (systemd-analyze cat-config stops there
    too): the check says so, harden cannot mend a directory and leaves it, naming it."""
    rid = "GCE-TIME-METADATA-NTP"
    root = debian_image(tmp_path / "image")
    os.makedirs(os.path.join(root, "etc/systemd/timesyncd.conf.d/50-site.conf"))
    put(root, "/usr/lib/systemd/timesyncd.conf.d/50-site.conf", "[Time]\nNTP=hidden.example\n")
    before = by_id(run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}}))[rid]
    note = ("timesyncd stops reading its configuration at %s/etc/systemd/timesyncd.conf.d/50-site.conf, a directory: "
            "it reads no later file" % root)
    assert before["status"] == "fail" and note in before["message"], before
    assert "hidden.example" not in before["message"], before
    out = run(run_module, root)
    assert statuses(out)[rid] == "fail" and note in by_id(out)[rid]["message"], by_id(out)[rid]
    assert os.path.isdir(os.path.join(root, "etc/systemd/timesyncd.conf.d/50-site.conf"))


def test_files_that_are_not_utf8_are_read_up_to_the_line_systemd_refuses_and_keep_their_bytes(tmp_path, run_module):
    """config_parse() fails a file at a line that is not UTF-8 ("String is not UTF-8 clean"),
    not at a comment: networkd ignores such a .network file, timesyncd reads no further.
    Harden comments out what timesyncd never read; the file keeps its Latin-1 bytes."""
    rid = "GCE-TIME-METADATA-NTP"
    root = debian_image(tmp_path / "image")
    network = b"# Netzwerkkarte f\xfcr eth0\n[Match]\nName=en*\n[Network]\nDescription=Netz f\xfcr eth0\nDHCP=ipv4\n"
    timesync = b"# Zeitserver f\xfcr alle\n[Time]\nRootDistanceMaxSec=7\nNTP=zeit.example # \xfcber\n"
    for path, data in (("/etc/systemd/network/50-dhcp.network", network),
                       ("/etc/systemd/timesyncd.conf.d/10-site.conf", timesync)):
        with open(put(root, path, ""), "wb") as handle:
            handle.write(data)
    before = by_id(run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}}))
    assert before["GCE-NET-DHCP"]["status"] == "fail", before["GCE-NET-DHCP"]
    assert ("systemd-networkd ignores %s/etc/systemd/network/50-dhcp.network (line 5: a line that is not valid UTF-8)"
            % root) in before["GCE-NET-DHCP"]["message"], before["GCE-NET-DHCP"]["message"]
    assert before[rid]["status"] == "fail" and "zeit.example" not in before[rid]["message"], before[rid]
    assert ("timesyncd stops reading its configuration at %s/etc/systemd/timesyncd.conf.d/10-site.conf line 4 "
            "(a line that is not valid UTF-8)" % root) in before[rid]["message"], before[rid]["message"]
    out = run(run_module, root)
    assert out["rc"] == 0 and statuses(out)[rid] == statuses(out)["GCE-NET-DHCP"] == "pass", by_id(out)
    with open(os.path.join(root, "etc/systemd/timesyncd.conf.d/10-site.conf"), "rb") as handle:
        assert handle.read() == timesync.replace(b"NTP=", ("# guestready.gce neutralised (%s): NTP=" % rid).encode())
    with open(os.path.join(root, "etc/systemd/network/50-dhcp.network"), "rb") as handle:
        assert handle.read() == network
    assert run(run_module, root)["changed"] is False


@pytest.mark.parametrize("value, status, said", [
    # a no-break space is part of the name timesyncd asks the resolver for: not the metadata server
    (u"metadata.google.internal\u00a0", "fail", u"timesyncd also uses metadata.google.internal\u00a0"),
    ("metadata\\.google.internal", "pass", "timesyncd uses only the metadata server"),
    ("bad\x01name metadata.google.internal", "pass", "timesyncd ignores 'bad\\x01name' ("),
])
def test_timesyncd_server_names_are_the_words_timesyncd_takes(tmp_path, run_module, value, status, said):
    root = debian_image(tmp_path / "image")
    put(root, "/etc/systemd/timesyncd.conf.d/50-gce.conf", u"[Time]\nNTP=\nNTP=%s\n" % value)
    result = by_id(run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}}))[
        "GCE-TIME-METADATA-NTP"]
    assert result["status"] == status and said in result["message"], result


def test_a_timesyncd_drop_in_after_ours_with_carriage_returns_is_neutralised_line_by_line(tmp_path, run_module):
    """timesyncd ends a line at a lone \\r too: a drop-in sorting after ours written with them
    set NTP= again, which a reader of \\n-ended lines did not see."""
    rid = "GCE-TIME-METADATA-NTP"
    root = _hardened_until_it_passes(tmp_path, run_module, rid, {
        "/etc/systemd/timesyncd.conf.d/zzz-site.conf": "[Time]\rNTP=late.example\rRootDistanceMaxSec=7\r"})
    assert read(root, "/etc/systemd/timesyncd.conf.d/zzz-site.conf") == (
        "[Time]\r# guestready.gce neutralised (%s): NTP=late.example\rRootDistanceMaxSec=7\r" % rid)
    assert run(run_module, root)["changed"] is False


def test_a_networkd_drop_in_after_ours_with_a_continued_usemtu_is_neutralised_whole(tmp_path, run_module):
    """UseMTU= continued on the next line (and ended by a lone \\r) is commented out on every
    line it spans: commenting its first line alone left "no" for the next setting to take."""
    root = _hardened_until_it_passes(tmp_path, run_module, "GCE-NET-MTU-DHCP", {
        "/usr/lib/systemd/network/50-dhcp.network.d/99-site.conf": "[DHCPv4]\rUseMTU=\\\r# off\rno\rClientIdentifier=mac\r"})
    assert read(root, "/usr/lib/systemd/network/50-dhcp.network.d/99-site.conf") == (
        "[DHCPv4]\r# guestready.gce neutralised (GCE-NET-MTU-DHCP): UseMTU=\\\r# off\r"
        "# guestready.gce neutralised (GCE-NET-MTU-DHCP): no\rClientIdentifier=mac\r")
    assert run(run_module, root)["changed"] is False


@pytest.mark.parametrize("brk", ["\r", "\r\n", u"\u2028", u"\x85"])
def test_a_netplan_file_is_read_at_the_line_breaks_of_yaml(tmp_path, run_module, brk):
    """libyaml (netplan) and PyYAML (cloud-init) end a line at CR, CR LF, LF, NEL, LS and PS."""
    root = debian_image(tmp_path / "image")
    os.unlink(os.path.join(root, "etc/systemd/network/50-dhcp.network"))
    put(root, "/etc/netplan/50-site.yaml", brk.join(["network:", "  version: 2  # ours", "  ethernets:", "    ens4:",
                                                     "      dhcp4: true", ""]))
    result = by_id(run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}}))["GCE-NET-DHCP"]
    assert result["status"] == "pass" and "50-site.yaml" in result["message"], result


def test_a_unit_whose_file_systemd_cannot_parse_is_not_enabled_but_named(tmp_path, run_module):
    """systemd loads no unit whose own file config_parse() fails (load state "error"), and
    systemctl cannot enable it: enabling it in the tree is no fix. The check names the line,
    apply leaves the unit alone and says why."""
    root = debian_image(tmp_path / "image")
    text = "[Unit]\nDescription=agent\n[Service\nExecStart=/usr/bin/google_guest_agent\n[Install]\nWantedBy=multi-user.target\n"
    put(root, "/lib/systemd/system/google-guest-agent.service", text)
    out = run(run_module, root)
    agent = by_id(out)["GCE-GUEST-AGENT"]
    assert agent["status"] == "fail", agent
    assert ("installed, but google-guest-agent.service is unloadable (%s/lib/systemd/system/google-guest-agent.service "
            "line 3: invalid section header '[Service')" % root) in agent["message"], agent["message"]
    assert agent["evidence"]["units"]["google-guest-agent.service"] == "unloadable", agent["evidence"]
    assert not os.path.lexists(os.path.join(root, "etc/systemd/system/multi-user.target.wants/google-guest-agent.service"))
    assert any(note.startswith("GCE-GUEST-AGENT: not enabled: google-guest-agent.service is unloadable (")
               and note.endswith("); mend its unit file") for note in out["areas"]["gce_settings"]["notes"]), out
    # a drop-in that fails is read up to there: the unit still loads
    text = text.replace("[Service\n", "[Service]\n")
    put(root, "/lib/systemd/system/google-guest-agent.service", text)
    put(root, "/etc/systemd/system/google-guest-agent.service.d/10-site.conf", "[Service\nNice=5\n")
    out = run(run_module, root)
    assert statuses(out)["GCE-GUEST-AGENT"] == "pass", by_id(out)["GCE-GUEST-AGENT"]


@pytest.mark.parametrize("args, version, on", [
    ("", None, True), ("systemd.getty_auto=0", None, False), ("systemd.getty-auto=no", None, False),
    ("systemd.getty_auto=0 systemd.getty_auto", None, True),        # a bare flag: every source again
    ("systemd.getty_auto=0 systemd.getty_auto=maybe", None, False),  # a value it cannot read is ignored
    ("systemd.getty_auto=builtin,credential", None, False), ("systemd.getty_auto=console", 258, True),
    ("systemd.getty_auto=builtin", 257, True),                       # a list before 258: ignored
    ("systemd.getty_auto=0", 249, True),                             # before 250 nothing reads it
])
def test_the_getty_generator_is_on_as_it_reads_the_command_line(args, version, on):
    from ansible_collections.guestready.gce.plugins.module_utils.gce_settings import getty_generator_on_consoles
    assert getty_generator_on_consoles("ro console=ttyS0,38400n8 " + args, version) is on


def test_a_getty_masked_by_an_empty_unit_file_is_masked(tmp_path, run_module):
    """An empty file by the unit's name masks it as a link to /dev/null does (systemd's
    null_or_empty()): the getty is masked, not missing, and not enabled by its wants link."""
    root = debian_image(tmp_path / "image")
    put(root, "/etc/systemd/system/serial-getty@ttyS0.service", "")
    getty = by_id(run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}}))[
        "GCE-BOOT-SERIAL-GETTY"]
    assert (getty["status"], getty["actual"], getty["message"]) == (
        "fail", "masked", "serial-getty@ttyS0.service is masked"), getty


def test_a_console_is_no_getty_when_the_generator_is_told_not_to_start_one(tmp_path, run_module):
    """systemd-getty-generator starts serial-getty@ttyS0 for console=ttyS0 unless systemd.getty_auto=
    turns it off: then the unit must be enabled, and harden enables it."""
    root = debian_image(tmp_path / "image")
    put(root, "/etc/default/grub", 'GRUB_CMDLINE_LINUX="console=ttyS0,38400n8 systemd.getty_auto=false"\n')
    put(root, "/boot/grub/grub.cfg", "menuentry 'Debian' {\n\tlinux\t/boot/vmlinuz root=UUID=1 ro "
        "console=ttyS0,38400n8 systemd.getty_auto=false\n}\n")
    getty = by_id(run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}}))[
        "GCE-BOOT-SERIAL-GETTY"]
    assert getty["status"] == "fail" and "told not to on the kernel command line (systemd.getty_auto=false)" \
        in getty["message"], getty["message"]
    assert run(run_module, root)["rc"] == 0
    assert statuses(run_module(compliance_info, {"areas": ["gce_settings"], "gce_settings": {"root": root}}))[
        "GCE-BOOT-SERIAL-GETTY"] == "pass"
