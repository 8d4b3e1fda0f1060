#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: disk_image
short_description: Audit, harden and pack a boot disk image for Compute Engine's manual import
version_added: 0.1.0
description:
  - Attaches a disk image file (raw, qcow2, qcow, VMDK, VHD, VHDX, VDI or QED, recognised by content)
    or an unused block device, reads its partition table (MBR or GPT), finds its root filesystem by
    C(/etc/os-release) and C(/etc/fstab), mounts what fstab needs under a private mount point, runs
    every requirement area on that tree (sysctl files, the kernel options and drivers of the image's
    own kernels, and any other registered area whose options take a C(root)) and judges the
    C(IMG-*) requirements of the import (the archive, the partition table, the boot loaders, how the
    root is found, the drivers the boot needs).
  - O(mode=harden) mounts read-write and applies the areas that apply (the sysctl drop-in, and the
    C(GCE-*) guest settings as on an image tree, files only - host keys removed where new ones are made at
    first boot, C(/etc/machine-id) emptied); O(mode=audit) never writes the image (read-only loop devices,
    no journal replay).
  - With O(pack), writes C(<pack>.tar.gz) holding one sparse member C(disk.raw) in GNU tar's oldgnu
    format, gzip-compressed (first writing a non-raw image, or a raw file without holes, as a sparse raw
    file in scratch space), returns its sha256 and the C(gcloud compute images create) command with the
    guest OS features the image supports. Nothing is uploaded; no network call is made. A required requirement that fails prevents packing.
  - An import archive (a tar file, gzip-compressed or not) given as O(path) is audited as one, its
    member, tar format and sparse layout, then the disk inside it (restored to a scratch directory). A
    damaged archive (cut short, a gzip checksum that does not match, trailing garbage) fails
    C(IMG-ARCHIVE_GZIP) or C(IMG-ARCHIVE_TAR_FORMAT), and its disk is not restored.
  - All work on the disk happens in a worker process that is PID 1 of private PID and mount namespaces;
    partitions are mounted from loop devices with autoclear. Whatever ends the worker (an error, a signal,
    the O(timeout)), the kernel drops its mounts, detaches its loop devices and stops what it started.
  - Refused, with the reason, before anything is attached - a file that is not a disk image, a damaged
    (for example truncated) image, a backing file or external data file, an encrypted image, an image
    another process holds (a running VM holds its lock, or the file is open for writing elsewhere; for
    harden, open at all), a file attached to a loop device, and a block device this machine uses (mounted,
    a partition mounted, swap, held by device-mapper or md, the root disk). A root filesystem on LVM,
    LUKS or RAID is reported C(unsupported), naming what was found; nothing is activated.
  - Runs on the machine that holds the image (usually the controller, delegated to C(localhost) or over a
    local connection) as root.
author:
  - guestready.gce contributors (@guestready-gce)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - guestready.gce.policy
  - guestready.gce.run_cache
attributes:
  check_mode:
    support: full
    details: The image is mounted read-only and nothing is written; results describe the image as it is,
      C(changed) says whether harden would change it, and no archive is written (RV(pack) still shows
      the command).
  diff_mode:
    support: full
    details: The diffs of the files harden changes (or would change) inside the image.
  platform:
    platforms: posix
    details: Linux with C(unshare), C(mount), loop devices, C(qemu-img); C(qemu-storage-daemon) and FUSE
      for images that are not raw; GNU tar to pack.
options:
  path:
    description:
      - The disk image file, an unused block device, or an import archive (C(.tar.gz)) to audit.
    type: path
    required: true
  mode:
    description: C(audit) only reads; C(harden) applies the areas that apply (O(apply)) inside the image.
    type: str
    choices: [audit, harden]
    default: audit
  pack:
    description:
      - Where to write the import archive, C(<pack>.tar.gz) (C(.tar.gz) is added when missing); parent
        directories are created; an earlier import archive there (gzip-compressed, its first member
        C(disk.raw)) is replaced atomically. A directory, the disk being packed, or any other file (another
        C(.tar.gz) among them) is never replaced (the task fails).
      - A symbolic link given as O(path) is followed, so the archive holds the disk's bytes.
    type: path
  image_name:
    description:
      - The image name in the printed gcloud command; by default derived from the archive's name. The command
        is quoted for a POSIX shell.
    type: str
  bucket:
    description:
      - The Cloud Storage bucket in the printed gcloud command, a bucket name as Cloud Storage takes it (no
        C(gs://), no folder); checked, as O(image_name) is, before the audit. The default is a placeholder.
    type: str
    default: BUCKET
  pack_anyway:
    description: Pack even when a required requirement fails (the failures are still reported).
    type: bool
    default: false
  audit_archive_contents:
    description: For an import archive, also restore the disk inside it (sparse) and audit it.
    type: bool
    default: true
  areas:
    description:
      - The requirement areas to run on the image's tree; by default every registered area whose options
        include C(root) (C(sysctl), C(kernel_config), C(hardware), C(gce_settings), and areas added later).
    type: list
    elements: str
  apply:
    description:
      - With O(mode=harden), the areas to apply; by default every area that can apply (C(sysctl),
        C(gce_settings)).
    type: list
    elements: str
  area_options:
    description:
      - Options per area (a dict of dicts, area name to options), as the area's own module takes them; C(root) is
        always the image's mounted tree. In an image, C(kernel_config) checks every installed kernel
        (C(source=installed)) and C(hardware) reads the kernel's driver tables (C(mode=offline)); the
        kernel the boot loader starts is the one judged.
    type: dict
    default: {}
  timeout:
    description: Seconds the work on the disk may take (at least 1; 0 is not "no limit"); then it is stopped and everything is released.
    type: int
    default: 1800
  lock_timeout:
    description: Seconds to wait for another run that is using the same image file.
    type: int
    default: 300
  workdir:
    description:
      - A directory for scratch space (the private mount points, a restored archive member, a conversion
        to raw for packing); the system's temporary directory by default.
    type: path
notes:
  - Requirement IDs, results and reports are the same as the fleet playbooks'; the C(IMG-*) IDs are
    documented in the collection's requirement catalogue (docs/requirements.md).
  - The guest OS features offered are C(UEFI_COMPATIBLE) (the ESP holds the removable-media loader),
    C(VIRTIO_SCSI_MULTIQUEUE) (kernel 3.17 or later with virtio_scsi available at boot) and C(GVNIC) (the
    kernel has the gve driver), as Google's "Enable guest operating system features" states them.
seealso:
  - module: guestready.gce.compliance
  - name: Manually import boot disks
    description: Compute Engine's documentation of the import archive.
    link: https://cloud.google.com/compute/docs/import/import-existing-image
"""

EXAMPLES = r"""
- name: Audit a disk image before uploading it
  guestready.gce.disk_image:
    path: build/disk.qcow2
  delegate_to: localhost
  register: image

- name: Harden it and write the import archive
  guestready.gce.disk_image:
    path: build/disk.qcow2
    mode: harden
    pack: build/myimage
    bucket: my-images
  delegate_to: localhost
  register: image

- name: Show the import command
  ansible.builtin.debug:
    msg: "{{ image.pack.gcloud_command }}  # sha256 {{ image.pack.sha256 }}"

- name: Audit an archive someone else packed
  guestready.gce.disk_image:
    path: build/vendor-image.tar.gz
  delegate_to: localhost
"""

RETURN = r"""
results:
  description: One record per requirement ID (the C(IMG-*) ones and every area's), in catalogue order;
    a waived ID of an area that did not run is a C(waived) record whose message says C(not checked).
  returned: always
  type: list
  elements: dict
summary:
  description: Number of results per status.
  returned: always
  type: dict
image:
  description: What the image is - format, size, partitions and their filesystems, the root filesystem,
    what was mounted, the kernel the boot loader starts, the architecture.
  returned: always
  type: dict
facts:
  description: Everything gathered about the disk (partition table, filesystems, fstab, boot loaders, archive headers).
  returned: always
  type: dict
areas:
  description: Per area, the area's other return values (or C(error)).
  returned: always
  type: dict
area_errors:
  description:
    - The messages of the areas that could not be handled on the image's tree; any fails the task
      (the other areas' results are returned) and blocks O(pack) unless O(pack_anyway).
  returned: always
  type: list
  elements: str
skipped_areas:
  description: Areas left out, each with the reason (their options take no C(root)).
  returned: always
  type: dict
warnings_from_areas:
  description: The warnings the areas gave on the image's tree.
  returned: always
  type: list
  elements: str
features:
  description: The guest OS features the image supports, each with the reason.
  returned: always
  type: list
  elements: dict
pack:
  description:
    - The archive (C(archive), C(sha256), C(size), C(member)), the image name, the C(gs://) source and
      the C(gcloud_command); C(written) is false in check mode.
    - Null without O(pack).
  returned: always
  type: dict
  sample:
    archive: /build/myimage.tar.gz
    sha256: 5b1c...
    gcloud_command: gcloud compute images create myimage --source-uri=gs://my-images/myimage.tar.gz
      --guest-os-features=VIRTIO_SCSI_MULTIQUEUE,GVNIC --architecture=X86_64
seconds:
  description: How long the run took.
  returned: always
  type: float
"""

from ansible_collections.guestready.gce.plugins.module_utils import bytecode

bytecode.install()  # the collection's code imported below is kept compiled between executions

from ansible_collections.guestready.gce.plugins.module_utils import diskimage
from ansible_collections.guestready.gce.plugins.module_utils.imagefile import ImageError
from ansible_collections.guestready.gce.plugins.module_utils.module import POLICY_ARGS, GuestModule


def main():
    module = GuestModule(argument_spec=dict(diskimage.ARGUMENT_SPEC, **POLICY_ARGS), supports_check_mode=True)
    try:
        result = diskimage.run(dict(module.params), module.check_mode, module.warn)
    except diskimage.Failed as exc:
        module.fail_json(msg=str(exc), **exc.fields)
    except ImageError as exc:
        module.fail_json(msg=str(exc), kind=exc.kind)
    if not module._diff:  # whole files before and after: only when asked for (--diff), as compliance does
        result.pop("diff", None)
    if result["area_errors"]:   # as compliance does: the other areas' results are returned
        module.fail_json(msg="; ".join(result["area_errors"]), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
