# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Judge the IMG-* requirements (catalogue section 5) from the facts gathered
about a disk image or an import archive, and choose the guest OS features
that fit it.

Pure functions: the facts come from imagefile (partition table, superblocks,
the mounted root's fstab and boot loader configuration, the ESP, the archive
headers) and the linked KCONF-* results from the kernel_config area, so every
rule here is tested on plain data.  ``evaluate(facts, entries, waivers,
linked)`` returns one result record per entry, in catalogue order.
"""

import shlex

from ansible_collections.guestready.gce.plugins.module_utils import bootconfig
from ansible_collections.guestready.gce.plugins.module_utils import catalogue as cat
from ansible_collections.guestready.gce.plugins.module_utils.partitions import BIOS_BOOT_GUID, DPS_ROOT_GUIDS, ESP_GUID
from ansible_collections.guestready.gce.plugins.module_utils.results import STATUSES, record, waive

LINKED = ("KCONF-VIRTIO_PCI", "KCONF-SCSI_VIRTIO", "KCONF-VIRTIO_NET")
CONTAINER_NAMES = {"qcow2": "qcow2", "vmdk": "VMDK", "vpc": "VHD", "vhdx": "VHDX", "vdi": "VDI",
                   "qed": "QED", "qcow": "qcow"}


def _outcome(status, message, remediation="", **evidence):
    return status, message, remediation, evidence


def _gib(size):
    return "%.2f GiB" % (float(size) / cat.GIB)


# ------------------------------------------------------------------ archive

def _no_archive():
    return _outcome("not-applicable", "a disk image, not an import archive: the pack step writes the "
                    "archive and checks it")


def archive_gzip(facts):
    archive = facts.get("archive")
    if archive is None:
        return _no_archive()
    if archive["gzip"] and archive.get("stream_problem"):
        return _outcome("fail", "gzip-compressed, but %s" % archive["stream_problem"],
                        "copy or write the archive again (`gzip -t` tests it)", problem=archive["stream_problem"])
    if archive["gzip"]:
        return _outcome("pass", "gzip-compressed (%d bytes)" % archive["size"])
    return _outcome("fail", "not gzip-compressed (%s)" % (archive.get("compression") or "plain data"),
                    "pack the disk with `tar --format=oldgnu -Sczf NAME.tar.gz disk.raw`",
                    compression=archive.get("compression"))


def archive_format(facts):
    archive = facts.get("archive")
    if archive is None:
        return _no_archive()
    fmt = archive.get("format")
    damage = [p for p in archive.get("problems") or [] if p != archive.get("stream_problem")]
    if fmt == "gnu" and damage:
        return _outcome("fail", "GNU tar headers, but the archive is damaged: %s" % "; ".join(damage),
                        "copy or write the archive again", format=fmt, problems=damage)
    if fmt == "gnu":
        return _outcome("pass", "GNU tar headers (what --format=oldgnu writes)", format=fmt)
    if fmt is None:
        return _outcome("fail", "not a tar archive: %s" % "; ".join(archive.get("problems") or ["no tar header"]),
                        "pack the disk with `tar --format=oldgnu -Sczf NAME.tar.gz disk.raw`")
    return _outcome("fail", "%s tar headers, not GNU (oldgnu)%s%s" % (
        {"pax": "POSIX pax", "ustar": "POSIX ustar", "v7": "V7"}.get(fmt, fmt),
        ": pax extended headers (%s)" % ", ".join(archive["pax_keys"][:4]) if archive.get("pax_keys") else "",
        "; and the archive is damaged: %s" % "; ".join(damage) if damage else ""),
        "repack with `tar --format=oldgnu -Sczf NAME.tar.gz disk.raw` (GNU tar's default "
        "--format=posix writes pax headers)", format=fmt)


def archive_member(facts):
    archive = facts.get("archive")
    if archive is None:
        return _no_archive()
    members = archive.get("members") or []
    names = [m["name"] for m in members]
    if len(members) == 1 and names[0] == cat.IMPORT_ARCHIVE_MEMBER and members[0]["regular"]:
        return _outcome("pass", "one member, disk.raw (%d bytes)" % members[0]["real_size"], members=names)
    if not members:
        why = "no member"
    elif len(members) > 1:
        why = "%d members (%s)" % (len(members), ", ".join(names[:5]) + (", ..." if len(names) > 5 else ""))
    elif not members[0]["regular"]:
        why = "its one member %s is not a regular file (type %r)" % (names[0], members[0]["type"])
    else:
        why = "its one member is named %r, not disk.raw" % names[0]
    return _outcome("fail", why, "name the disk file disk.raw and archive only it: "
                    "`tar --format=oldgnu -Sczf NAME.tar.gz disk.raw` in its directory", members=names)


def archive_sparse(facts):
    archive = facts.get("archive")
    if archive is None:
        return _no_archive()
    members = archive.get("members") or []
    if len(members) != 1:
        return _outcome("unknown", "not one member: see IMG-ARCHIVE_MEMBER")
    member = members[0]
    if member["sparse"]:
        return _outcome("pass", "stored sparse: %d of %d bytes are data" % (member["size"], member["real_size"]))
    return _outcome("fail", "stored dense: all %d bytes are in the archive" % member["real_size"],
                    "pack with tar -S (--sparse)")


def disk_raw(facts):
    archive = facts.get("archive")
    if archive is not None:
        content = archive.get("member_content")
        if content in (None, "raw"):
            return _outcome("pass", "the member holds raw disk bytes") if content else _outcome(
                "unknown", "the member's content could not be read")
        member = archive.get("content_member") or cat.IMPORT_ARCHIVE_MEMBER
        return _outcome("fail", "%s is a %s file, not raw disk bytes" % (member, CONTAINER_NAMES.get(content, content)),
                        "convert it: `qemu-img convert -O raw %s disk.raw`" % "IMAGE", content=content)
    fmt = facts["input"]["format"]
    if fmt == "raw":
        return _outcome("pass", "raw disk bytes%s" % (" (a block device)" if facts["input"].get("block_device") else ""))
    return _outcome("not-applicable", "a %s image: the pack step converts it to raw (qemu-img convert)" %
                    CONTAINER_NAMES.get(fmt, fmt), format=fmt)


def disk_size(facts):
    size = facts["input"].get("virtual_size")
    if size is None:
        return _outcome("unknown", "the disk's size is not known")
    if size and size % cat.GIB == 0:
        return _outcome("pass", "%d bytes = %d GiB" % (size, size // cat.GIB), size=size)
    if not size:
        return _outcome("fail", "the disk is empty (0 bytes)", "import a disk that holds the system", size=size)
    whole = (size + cat.GIB - 1) // cat.GIB
    gpt = (facts.get("table") or {}).get("kind") == "gpt"
    source = facts["input"]
    # the commands name the user's file; a container (or a block device) is written as a raw file first:
    # qemu-img resize takes no VMDK, and sgdisk reads only a raw disk
    target, first = "disk.raw", ""
    if facts.get("archive") is None and source.get("format") == "raw" and not source.get("block_device"):
        target = shlex.quote(source["path"])
    elif facts.get("archive") is None:
        first = "`qemu-img convert -O raw %s disk.raw`, then " % shlex.quote(source["path"])
    return _outcome("fail", "%d bytes (%s) is not a whole number of GiB" % (size, _gib(size)),
                    "grow the disk to %d GiB: %s`qemu-img resize -f raw %s %dG`%s" % (
                        whole, first, target, whole, " then `sgdisk -e %s` to move the backup GPT to the new end" % target
                        if gpt else ""), size=size)


# -------------------------------------------------------------- the table

def partition_table(facts):
    table = facts.get("table")
    if not table:
        return _outcome("unknown", "the disk could not be read")
    problems = table["problems"]
    if table["kind"] is None:
        return _outcome("fail", "no partition table%s" % (": " + "; ".join(problems) if problems else
                                                          " (no MBR signature, no GPT header)"),
                        "partition the disk (MBR or GPT) and put the filesystem in a partition")
    if problems:
        return _outcome("fail", "%s partition table: %s" % (table["kind"].upper(), "; ".join(problems)),
                        "repair the partition table (sfdisk, sgdisk)", problems=problems)
    note = ""
    if table["warnings"]:
        note = " (%s)" % "; ".join(table["warnings"])
    return _outcome("pass", "%s with %d partition(s)%s" % (table["kind"].upper(), len(table["partitions"]), note),
                    kind=table["kind"], warnings=table["warnings"])


def bootable_partition(facts):
    table = facts.get("table") or {}
    parts = table.get("partitions") or []
    if table.get("kind") == "mbr":
        active = [p["number"] for p in parts if p["bootable"]]
        esp = [p["number"] for p in parts if p["type"] == "0xef"]
        if active or esp:
            return _outcome("pass", "partition %s %s" % (
                ", ".join(str(n) for n in active or esp), "is marked active" if active else "is an EFI System Partition"))
        return _outcome("fail", "no partition is marked active (bootable)",
                        "mark the boot partition active: `sfdisk --activate disk.raw N`")
    if table.get("kind") == "gpt":
        found = ["%d (%s)" % (p["number"], p["type_name"]) for p in parts
                 if p["type"] in (ESP_GUID, BIOS_BOOT_GUID) or p["bootable"]]
        if found:
            return _outcome("pass", "partition %s" % ", ".join(found))
        if table.get("hybrid"):
            # compute-image-tools' boot inspection (inspection.py, _inspect_for_hybrid_mbr) takes a
            # hybrid MBR as BIOS-bootable: the firmware reads the MBR's own entries
            entries = [e for e in (table.get("mbr") or {}).get("entries") or [] if e.get("type") != 0xEE]
            return _outcome("pass", "a hybrid MBR: BIOS firmware reads its MBR entries (%s)" % ", ".join(
                "%d (0x%02x%s)" % (e["slot"], e["type"], ", active" if e.get("status") == 0x80 else "")
                for e in entries), hybrid=True)
        return _outcome("fail", "no EFI System, BIOS boot or legacy-BIOS-bootable partition",
                        "add a BIOS boot partition for GRUB (BIOS) or an EFI System Partition (UEFI)")
    return _outcome("fail", "no partition table: see IMG-PARTITION_TABLE")


# ---------------------------------------------------------- boot loaders

def uefi_boot(facts):
    esp = (facts.get("boot") or {}).get("esp")
    wanted = facts.get("arch") or "x86_64"
    expected = bootconfig.LOADER_NAMES.get(wanted, "BOOTX64.EFI")
    if not esp and wanted == "arm64":
        return _outcome("fail", "no EFI System Partition: Compute Engine's Arm machines boot with UEFI only",
                        "add an EFI System Partition (FAT) with the boot loader at EFI/BOOT/%s "
                        "(`grub-install --target=arm64-efi --removable`)" % expected)
    if not esp:
        return _outcome("not-applicable", "no EFI System Partition: the image does not declare UEFI support "
                        "(it boots with BIOS, without UEFI_COMPATIBLE)")
    where = "partition %d" % esp["partition"]
    if esp.get("error"):
        return _outcome("fail", "the EFI System Partition (%s) cannot be read: %s" % (where, esp["error"]),
                        "recreate the ESP as a FAT filesystem", partition=esp["partition"])
    # the loader of the image's architecture, which may be known only after the ESP was read
    loaders = esp.get("loaders")
    loader = (loaders.get(expected) if loaders is not None else esp.get("loader")) or {}
    if not loader.get("path"):
        others = list(esp.get("efi_files", []))[:6]
        return _outcome("fail", "no EFI/BOOT/%s on the ESP (%s)%s: with the empty NVRAM of a new VM the "
                        "firmware starts only that removable-media path" % (
                            expected, where, "; found " + ", ".join(others) if others else ": no EFI binary at all"),
                        "install the loader there too: `grub-install --removable` (or copy shimx64.efi as "
                        "EFI/BOOT/%s with grubx64.efi next to it)" % expected, files=others)
    machine = loader.get("machine")
    if machine != wanted:
        return _outcome("fail", "%s is %s, not a %s EFI application" % (
            loader["path"], "not a PE image" if machine is None else "a %s PE image" % machine, wanted),
            "install the boot loader for %s" % wanted, loader=loader["path"])
    return _outcome("pass", "%s on the ESP (%s) is a %s EFI application" % (loader["path"], where, machine),
                    loader=loader["path"], partition=esp["partition"])


def bios_boot(facts, uefi_status):
    boot = facts.get("boot") or {}
    bios = boot.get("bios") or {}
    code = bios.get("boot_code") or {}
    if facts.get("arch") == "arm64":
        return _outcome("not-applicable", "an arm64 image: Compute Engine's Arm machines have no BIOS, they boot "
                        "with UEFI (see IMG-UEFI_BOOT)")
    if not code.get("present"):
        if uefi_status == "pass":
            return _outcome("not-applicable", "UEFI-only image: no BIOS boot code in the MBR; it boots with "
                            "UEFI_COMPATIBLE (see IMG-UEFI_BOOT)")
        return _outcome("fail", "no boot loader: the MBR's boot code (its first 440 bytes) is empty, so BIOS "
                        "firmware finds nothing to start%s" % (
                            "" if boot.get("esp") else ", and there is no EFI System Partition either"),
                        "install GRUB for BIOS: `grub-install --target=i386-pc` on the disk (GPT disks need a "
                        "BIOS boot partition)")
    loader = code.get("loader")
    if loader != "grub":
        return _outcome("unknown", "boot code in the MBR that is not GRUB (%s): whether it boots is not "
                        "checked" % loader, "Compute Engine's import documentation expects GRUB")
    stage = bios.get("next_stage") or {}
    if not stage.get("present"):
        return _outcome("fail", "GRUB's boot code points at LBA %s for its core image, which %s" % (
            code.get("next_stage_lba"), stage.get("problem") or "is empty"),
            "reinstall GRUB: `grub-install --target=i386-pc` on the disk")
    return _outcome("pass", "GRUB in the MBR, its core image at LBA %d (%s)" % (
        code["next_stage_lba"], stage.get("where")), next_stage_lba=code["next_stage_lba"])


# ------------------------------------------------------------- the root

def root_filesystem(facts):
    root = facts.get("root")
    if root:
        fs = root["filesystem"]
        release = (root.get("os_release") or {}).get("PRETTY_NAME") or "an unnamed Linux"
        return _outcome("pass", "%s, UUID %s, on partition %s: %s" % (
            fs["type"], fs.get("uuid"), root["partition"], release),
            partition=root["partition"], type=fs["type"], uuid=fs.get("uuid"))
    status = facts.get("root_status") or "fail"
    return _outcome(status, facts.get("root_problem") or "no root filesystem (/etc/os-release and /etc/fstab) "
                    "found on the disk", "the import needs a plain root filesystem on a partition"
                    if status == "unsupported" else "")


def _describe_spec(entry):
    return "%s (line %d, %s)" % (entry["spec"], entry["line"], entry["file"])


def fstab_stable_id(facts):
    root = facts.get("root")
    if not root:
        return _outcome("unknown", "no root filesystem: /etc/fstab was not read")
    entries = facts.get("fstab")
    if entries is None:
        return _outcome("fail", "the root filesystem has no /etc/fstab")
    bad, unresolved, miscased, checked, skipped = [], [], [], [], []
    for entry in entries:
        kind = entry["kind"]
        waits = bootconfig.waits_for_device(entry)
        if kind in bootconfig.STABLE_KINDS:
            if entry["partition"] is None and waits:
                unresolved.append(_describe_spec(entry))
            else:
                checked.append(entry["spec"])
        elif kind in ("kernel-name", "hardware-name"):
            (bad if waits else skipped).append(_describe_spec(entry))
        elif kind == "not-a-tag":
            (miscased if waits else skipped).append(_describe_spec(entry))
        else:
            skipped.append(_describe_spec(entry))
    if bad or unresolved or miscased:
        message = []
        if bad:
            message.append("kernel or hardware device names, which change on Compute Engine: " + "; ".join(bad))
        if unresolved:
            message.append("names no filesystem on this disk has: " + "; ".join(unresolved))
        if miscased:
            message.append("tags not in upper case, which systemd and mount take for file names: "
                           + "; ".join(miscased))
        return _outcome("fail", "/etc/fstab uses " + " and ".join(message),
                        "name each filesystem by UUID= (blkid shows it) or LABEL=, or mark entries for other "
                        "disks nofail", bad=bad, unresolved=unresolved, miscased=miscased)
    if not checked:
        return _outcome("pass", "/etc/fstab mounts nothing from a block device by name"
                        + (" (not judged: %s)" % "; ".join(skipped) if skipped else ""))
    return _outcome("pass", "/etc/fstab names %s" % ", ".join(checked)
                    + (" (not judged: %s)" % "; ".join(skipped) if skipped else ""), entries=checked)


def cmdline_root_id(facts):
    root = facts.get("root")
    boot = facts.get("boot") or {}
    menu = boot.get("menu") or {}
    entry = menu.get("default")
    if not root:
        return _outcome("unknown", "no root filesystem found")
    if not entry:
        return _outcome("fail", "no boot entry: %s" % (menu.get("error") or "no boot loader configuration"),
                        "generate the boot loader configuration (update-grub / grub-mkconfig)")
    value = bootconfig.cmdline_root(entry.get("args"))
    where = "%s entry %r%s" % (menu.get("config"), entry.get("title"), _menu_note(menu))
    if value is None or value == "gpt-auto":
        return _no_root_arg(facts, menu, entry, where)
    kind, spec_value = bootconfig.classify_spec(value)
    if kind in ("kernel-name", "hardware-name"):
        return _outcome("fail", "%s boots with root=%s: a device name that changes on Compute Engine" % (where, value),
                        "use root=UUID=%s (GRUB_DISABLE_LINUX_UUID must not be true)" % root["filesystem"].get("uuid"),
                        root=value)
    if kind not in bootconfig.STABLE_KINDS:
        return _outcome("fail", "%s boots with root=%s, which is not this disk's root filesystem by UUID or LABEL%s" % (
            where, value, ": the initramfs and the kernel match tags in upper case only" if kind == "not-a-tag" else ""),
            "use root=UUID=%s" % root["filesystem"].get("uuid"), root=value)
    target = bootconfig.match_partition("%s=%s" % (kind.upper(), spec_value), facts["table"]["partitions"])
    if target is None or target["number"] != root["partition"]:
        return _outcome("fail", "%s boots with root=%s, which is %s" % (
            where, value, "not on this disk" if target is None else "partition %d, not the root filesystem "
            "(partition %d)" % (target["number"], root["partition"])),
            "regenerate grub.cfg (update-grub)", root=value)
    return _outcome("pass", "%s boots with root=%s (the root filesystem)" % (where, value), root=value)


def gpt_auto_root(facts, menu):
    """``(partition, why not)``: the partition systemd-gpt-auto-generator
    mounts as the root when the command line has no root= (or root=gpt-auto):
    udev-builtin-blkid.c find_gpt_root() takes, on the disk of the ESP the
    boot loader names in LoaderDevicePartUUID, the partition of the
    architecture's root type (the Discoverable Partitions Specification)
    without the no-auto flag whose label is the newest version
    (strverscmp_improved()), the first among equals.  Only systemd-boot and
    systemd-stub set LoaderDevicePartUUID (gpt-auto-generator.c
    add_root_mount() stops without it): GRUB booting a kernel does not."""
    entry = menu.get("default") or {}
    systemd_boot = menu.get("kind") == "bls" and (menu.get("config") or "").startswith("ESP")
    if not (systemd_boot or entry.get("type") == 2 or entry.get("uki_line")):
        return None, "the boot loader is GRUB, which does not set the EFI variable LoaderDevicePartUUID " \
            "systemd-gpt-auto-generator needs"
    table = facts.get("table") or {}
    if table.get("kind") != "gpt":
        return None, "the disk has no GPT, where systemd-gpt-auto-generator looks for the root partition by its type"
    arch = bootconfig.esp_arch((facts.get("boot") or {}).get("esp"))
    wanted = [DPS_ROOT_GUIDS[arch]] if arch in DPS_ROOT_GUIDS else list(DPS_ROOT_GUIDS.values())
    chosen = None
    for part in table.get("partitions") or []:
        if part.get("type") in wanted and not part.get("no_auto") and (
                chosen is None or bootconfig.strverscmp_improved(part.get("name") or None, chosen.get("name") or None) > 0):
            chosen = part
    if chosen is None:
        return None, "no partition has the root partition type of %s (%s) of the Discoverable Partitions " \
            "Specification, by which systemd-gpt-auto-generator finds the root" % (arch or "any architecture", ", ".join(wanted))
    return chosen, None


def _no_root_arg(facts, menu, entry, where):
    """IMG-CMDLINE_ROOT_ID for a command line without root= (or with
    root=gpt-auto): systemd-gpt-auto-generator's root partition, when it is
    this disk's root filesystem, is found whatever the device's name; but it
    runs in the initrd only when the initrd runs systemd, which is not read
    here: unknown then."""
    root = facts["root"]
    said = "%s has no root= on its kernel command line (%r)" % (where, entry.get("args"))
    part, why = gpt_auto_root(facts, menu)
    if part is None:
        return _outcome("fail", "%s; %s" % (said, why), "regenerate grub.cfg (update-grub) so that it passes root=UUID=")
    if part["number"] != root["partition"]:
        return _outcome("fail", "%s; systemd-gpt-auto-generator would mount partition %d (its root partition type), "
                        "not the root filesystem (partition %d)" % (said, part["number"], root["partition"]),
                        "add root=UUID=%s to the command line" % root["filesystem"].get("uuid"), gpt_auto_root=part["number"])
    return _outcome("unknown", "%s; systemd-gpt-auto-generator finds the root filesystem, partition %d, by its type %s "
                    "(Discoverable Partitions Specification) when the initrd runs systemd, which is not read here"
                    % (said, part["number"], part["type"]),
                    "confirm that the initrd is systemd-based (dracut's systemd module, mkinitcpio's systemd hook), "
                    "or add root=UUID=%s" % root["filesystem"].get("uuid"), gpt_auto_root=part["number"])


def boot_entry(facts):
    boot = facts.get("boot") or {}
    menu = boot.get("menu") or {}
    entry = menu.get("default")
    if not facts.get("root"):  # the boot loader configuration is read from the mounted root
        return _outcome("unknown", "no root filesystem was mounted: the boot loader configuration was not read")
    if not entry:
        return _outcome("fail", "no boot entry: %s" % (menu.get("error") or "no boot loader configuration "
                        "(/boot/grub/grub.cfg, /boot/grub2/grub.cfg, /boot/loader/entries)"),
                        "install a boot loader and generate its configuration (update-grub)")
    kernel, initrds = boot.get("kernel_file") or {}, boot.get("initrd_files") or []
    missing = [item["path"] for item in [kernel] + initrds if item and not item.get("exists")]
    if not entry.get("kernel"):
        return _outcome("fail", "the default entry %r names no kernel" % entry.get("title"))
    if kernel.get("uki"):
        # systemd-stub boots the kernel and initramfs a UKI carries (.linux, .initrd): no other file
        where = "default entry %r%s: %s, a unified kernel image" % (entry.get("title"), _menu_note(menu), kernel["found"])
        if kernel.get("has_linux") is None:   # a type #1 entry's uki line names a file not read as a PE image
            return _outcome("unknown", "%s whose sections could not be read" % where, kernel=entry["kernel"])
        if not kernel.get("has_linux"):
            return _outcome("fail", "%s with no kernel in it (no .linux section)" % where,
                            "rebuild the unified kernel image (ukify build --linux=...)", kernel=entry["kernel"])
        return _outcome("pass", "%s carrying its kernel%s" % (where, " and its initramfs (.linux, .initrd sections)"
                                                              if kernel.get("has_initrd") else " and no initramfs (no .initrd "
                                                              "section: the kernel's drivers must be built in)"),
                        kernel=entry["kernel"], uki=True)
    if missing:
        return _outcome("fail", "the default entry %r names %s, missing from the image" % (
            entry.get("title"), ", ".join(missing)), "regenerate grub.cfg (update-grub)", missing=missing)
    return _outcome("pass", "default entry %r%s: %s%s" % (
        entry.get("title"), _menu_note(menu), kernel.get("found") or entry["kernel"],
        ", " + ", ".join(i.get("found") or i["path"] for i in initrds) if initrds else
        " (no initramfs: the kernel's drivers must be built in)"), kernel=entry["kernel"])


def uki_initramfs_unread(boot, result):
    """``result`` (a KCONF-* driver result), or a copy of it that is
    unknown when it judged a module missing from an initramfs it did not
    find while the default entry is a UKI carrying one (its .initrd
    section: on an ESP the tree does not mount, initramfs.find_initramfs
    cannot reach it)."""
    kernel = boot.get("kernel_file") or {}
    seen = result.get("initramfs")
    if not (kernel.get("uki") and kernel.get("has_initrd")) or not result.get("id", "").startswith("KCONF-") \
            or result.get("status") != "module-missing-from-initramfs" or not isinstance(seen, dict) or seen.get("path"):
        return result
    return dict(result, status="unknown", message="%s; but the default entry boots the unified kernel image %s, "
                "which carries its initramfs in its .initrd section, not read here: extract it (objcopy "
                "--dump-section .initrd=FILE) and give FILE with the initramfs option" % (result.get("message"), kernel["found"]))


def _menu_note(menu):
    """`` (what the default's choice could not know)`` (bootconfig.gather_menu's note), or ""."""
    return " (%s)" % menu["note"] if menu.get("note") else ""


def virtio_drivers(facts, linked):
    boot = facts.get("boot") or {}
    release = boot.get("release") or boot.get("kernel_checked")
    if not linked:
        return _outcome("unknown", "the kernel options of %s were not checked (kernel_config area not run "
                        "or no configuration for it)" % (release or "the default kernel"))
    statuses = dict((rid, linked[rid]["status"]) for rid in LINKED if rid in linked)
    shown = ", ".join("%s %s" % (rid, status) for rid, status in sorted(statuses.items()))
    outcomes = [STATUSES[status] for status in statuses.values()]
    if "fail" in outcomes:
        return _outcome("fail", "kernel %s: %s" % (release, shown),
                        "build the drivers in (=y) or make the initramfs carry them (virtio_scsi in "
                        "/etc/initramfs-tools/modules, then update-initramfs -u)", linked=statuses)
    if len(statuses) < len(LINKED) or any(o not in ("ok", "skip") for o in outcomes):
        return _outcome("unknown", "kernel %s: %s" % (release, shown), linked=statuses)
    return _outcome("pass", "kernel %s: %s" % (release, shown), linked=statuses)


# ------------------------------------------------------------ the whole

ARCHIVE_IDS = ("IMG-ARCHIVE_GZIP", "IMG-ARCHIVE_TAR_FORMAT", "IMG-ARCHIVE_MEMBER", "IMG-ARCHIVE_SPARSE")
# judged from the archive's headers alone, when the disk inside was not inspected
HEADER_IDS = ARCHIVE_IDS + ("IMG-DISK_RAW", "IMG-DISK_SIZE")


def evaluate(facts, entries, waivers=None, linked=None):
    """One result per IMG-* entry of ``entries``.  ``facts["inspected"]``
    false: only the archive was read, every requirement about the disk's
    content is ``unknown``."""
    waivers = waivers or {}
    uefi = uefi_boot(facts)
    judged = {
        "IMG-ARCHIVE_GZIP": archive_gzip(facts),
        "IMG-ARCHIVE_TAR_FORMAT": archive_format(facts),
        "IMG-ARCHIVE_MEMBER": archive_member(facts),
        "IMG-ARCHIVE_SPARSE": archive_sparse(facts),
        "IMG-DISK_RAW": disk_raw(facts),
        "IMG-DISK_SIZE": disk_size(facts),
        "IMG-PARTITION_TABLE": partition_table(facts),
        "IMG-BOOTABLE_PARTITION": bootable_partition(facts),
        "IMG-UEFI_BOOT": uefi,
        "IMG-BIOS_BOOT": bios_boot(facts, uefi[0]),
        "IMG-ROOT_FILESYSTEM": root_filesystem(facts),
        "IMG-FSTAB_STABLE_ID": fstab_stable_id(facts),
        "IMG-CMDLINE_ROOT_ID": cmdline_root_id(facts),
        "IMG-BOOT_ENTRY": boot_entry(facts),
        "IMG-VIRTIO_DRIVERS": virtio_drivers(facts, linked or {}),
    }
    results = []
    for entry in entries:
        if entry["area"] != "image":
            continue
        status, message, remediation, evidence = judged[entry["id"]]
        if facts.get("inspected") is False and entry["id"] not in HEADER_IDS:
            status, message, remediation, evidence = _outcome(
                "unknown", "the disk inside the archive was not inspected%s" % (
                    ": " + facts["not_inspected"] if facts.get("not_inspected") else ""))
        evidence = dict(evidence, source=entry.get("source"))
        result = record(entry, status, message=message, remediation=remediation, evidence=evidence)
        if entry["id"] in waivers:
            result = waive(result, waivers[entry["id"]])
        results.append(result)
    return results


def guest_os_features(facts, results, linked=None, gvnic=False):
    """``[(feature, reason)]``: the guest OS features the image supports, by
    the conditions of catalogue.GUEST_OS_FEATURES."""
    by_id = dict((r["id"], r) for r in results)
    features = []
    if by_id.get("IMG-UEFI_BOOT", {}).get("status") == "pass":
        features.append(("UEFI_COMPATIBLE", by_id["IMG-UEFI_BOOT"]["message"]))
    version = cat.parse_version((facts.get("boot") or {}).get("release"))
    minimum = cat.GUEST_OS_FEATURES["VIRTIO_SCSI_MULTIQUEUE"]["kernel"]
    if by_id.get("IMG-VIRTIO_DRIVERS", {}).get("status") == "pass" and version and version[:2] >= minimum:
        features.append(("VIRTIO_SCSI_MULTIQUEUE", "kernel %s (3.17 or later) with virtio_scsi at boot" %
                         cat.format_version(version)))
    if gvnic:
        features.append(("GVNIC", gvnic))
    return features
