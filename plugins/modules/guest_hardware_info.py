#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: guest_hardware_info
short_description: Check that a kernel and a guest fit Compute Engine's device model (HW-*)
version_added: 0.1.0
description:
  - Evaluates every C(HW-*) requirement of the collection's catalogue in one call, two ways.
  - I(Offline), the kernel has the drivers. For one kernel release, each device's modalias is
    built from the catalogue and matched against the release's C(modules.alias) and built-in
    aliases (C(modules.builtin.alias), C(modules.builtin.modinfo)) with the kernel's wildcard
    rules. The result names the driver, says whether it is built in or a module and, for a
    module, whether the release's initramfs carries it and the modules it needs. Virtio devices
    need two drivers, the PCI function's (C(virtio_pci)) and the virtio device's (C(virtio_net),
    C(virtio_scsi)). Bridges (PIIX4) have no PCI driver, so their offline half is
    C(not-applicable). The serial ports need the C(8250) driver built in or loadable.
  - A catalogue field that does not pin a value (the subsystem vendor of a virtio device) is
    matched as unknown, so only driver patterns that accept any value there count.
  - I(Live), the guest has the devices, read from sysfs. PCI functions with vendor, device,
    subsystem, revision, class and the bound driver. Negotiated virtio feature bits, decoded by
    name. The NIC's offloads through the ethtool interface (C(ethtool -k) when installed, else
    the C(SIOCETHTOOL) ioctl). The SCSI devices behind the virtio-scsi controller (type, SCSI
    level, sector sizes, hardware queues). The serial ports C(ttyS0)-C(ttyS3) (UART type, IRQ,
    I/O port). A missing device or bus is a result, never an error.
  - One status per requirement ID. It is the worst of the halves that were run, in the order
    C(fail), C(module-missing-from-initramfs), C(unknown), C(module-in-initramfs), C(pass). A
    half that does not apply is left out. Both halves are returned with their own status,
    message and evidence.
  - Requirements of another architecture are C(not-applicable). On x86 that is gVNIC. On arm64
    (Tau T2A) it is PIIX4, the ISA bridge, virtio-net and the serial ports.
  - Never changes anything.
author:
  - guestready.gce contributors (@guestready-gce)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - guestready.gce.policy
options:
  mode:
    description:
      - C(offline) checks the kernel's drivers only; C(live) the devices only; C(both) does both.
      - The default is C(both) when the running kernel of this host is checked (O(root=/) and no
        other O(kernel_release)), and C(offline) otherwise. There is no live guest to read
        in an image, a chroot or a kernel that is not running.
    type: str
    choices: [live, offline, both]
  kernel_release:
    description:
      - The kernel release whose drivers are checked, for example C(6.1.0-28-cloud-amd64). Its
        modules directory is looked up as C(lib/modules/<release>) (or C(usr/lib/modules)) under
        O(root).
      - An absolute path to a modules directory (C(/mnt/image/lib/modules/6.1.0-28-cloud-amd64))
        is used as is; its name is the release, and the tree above C(lib/modules) is where its
        initramfs is looked for.
      - Default, the running kernel when O(root=/), else the newest release installed under
        O(root).
    type: str
  root:
    description:
      - Root of the filesystem tree that holds the kernel (C(lib/modules), C(boot)). Anything
        other than C(/) (an image mounted on the controller, a chroot) means O(mode=offline)
        unless O(mode) says otherwise.
    type: path
    default: /
  sysfs_root:
    description:
      - Where the live guest's sysfs is mounted.
      - NIC offloads are read through this host's ethtool interface, so they are only read when
        this is the host's own C(/sys); otherwise they are C(unknown).
    type: path
    default: /sys
  initramfs:
    description:
      - The initramfs to inspect for the release's modules, instead of the one found under
        O(root)C(/boot) for the release.
    type: path
  arch:
    description:
      - The architecture the requirements are selected for (C(x86_64), C(x86_32), C(arm64);
        C(amd64), C(aarch64), C(i686) are accepted).
      - Default, this host's C(uname -m) when its running kernel is checked; otherwise the
        architecture the release's name ends with (C(-amd64), C(-arm64)), else C(uname -m).
    type: str
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - Reading the initramfs needs the tools the collection's initramfs reader uses (C(cpio) and
    the decompressors of the formats it meets). When it cannot be inspected, a driver built
    as a module is C(unknown), never assumed present.
  - The kernel module names found in an initramfs are cached in C(/run/guestready-gce) (a tmpfs),
    keyed by the image's device, inode, size and modification time, so the modules of one run
    list an image once; a rebuilt image is listed again.
"""

EXAMPLES = r"""
- name: Check this guest and its running kernel
  guestready.gce.guest_hardware_info:
  register: hardware

- name: Check the drivers of a kernel in an image mounted on the controller
  guestready.gce.guest_hardware_info:
    root: /mnt/image
    kernel_release: 6.1.0-28-cloud-amd64
  delegate_to: localhost

- name: Check an Arm kernel tree before building the image
  guestready.gce.guest_hardware_info:
    kernel_release: /srv/build/rootfs/lib/modules/6.1.0-28-arm64
    arch: arm64
"""

RETURN = r"""
results:
  description:
    - One record per C(HW-*) requirement, in catalogue order, with the collection's common
      fields (C(id), C(status), C(expected), C(actual), C(evidence), C(message),
      C(remediation), C(waiver)).
    - C(offline) holds the release checked and, per driver hop, the modalias, the matching
      alias lines, the driver, C(built-in) or C(module), and the initramfs verdict.
    - C(live) holds the devices found with their IDs, bound drivers, virtio features,
      offloads, SCSI devices or serial ports.
    - C(evidence.live) maps every sysfs path read to the value found (null when absent);
      C(evidence.offline) lists the alias lines that matched.
  returned: always
  type: list
  elements: dict
  sample:
    - id: HW-SCSI-VIRTIO
      status: module-in-initramfs
      message: >-
        offline: virtio_pci is a module in the initramfs; virtio_scsi is a module in the
        initramfs; live: 0000:00:03.0 1af4:1004 virtio-scsi (transitional): as expected
      offline:
        status: module-in-initramfs
        kernel_release: 6.1.0-28-cloud-amd64
        drivers:
          - hop: pci
            modalias: pci:v00001AF4d00001004svXXXXXXXXsd00000008bc01sc00i00
            driver: virtio_pci
            kind: module
            initramfs: present
      live:
        status: pass
summary:
  description: Number of results per status.
  returned: always
  type: dict
  sample: {pass: 3, module-in-initramfs: 2, not-applicable: 1}
kernel:
  description: The kernel release checked offline, its modules directory and initramfs (null in live mode).
  returned: always
  type: dict
guest:
  description: The sysfs read live, the platform (DMI) and every PCI function found (null in offline mode).
  returned: always
  type: dict
mode:
  description: The mode used.
  returned: always
  type: str
arch:
  description: The architecture the requirements were selected for, and where it came from.
  returned: always
  type: dict
  sample: {name: x86_64, source: uname -m}
"""

import os
import re

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.guestready.gce.plugins.module_utils import devices
from ansible_collections.guestready.gce.plugins.module_utils import modalias
from ansible_collections.guestready.gce.plugins.module_utils.catalogue import (
    ARCHES, normalize_arch, requirements)
from ansible_collections.guestready.gce.plugins.module_utils.host import live_root
from ansible_collections.guestready.gce.plugins.module_utils.module import (
    POLICY_ARGS, fail_on_policy_error)
from ansible_collections.guestready.gce.plugins.module_utils.results import summarize


RELEASE_SUFFIXES = (
    ("-686-pae", "x86_32"), ("-686", "x86_32"), (".i686", "x86_32"),
    ("-amd64", "x86_64"), (".x86_64", "x86_64"),
    ("-arm64", "arm64"), (".aarch64", "arm64"),
)


def release_arch(release):
    """The architecture a Debian- or Fedora-style release name ends with, or None."""
    for suffix, arch in RELEASE_SUFFIXES:
        if (release or "").endswith(suffix):
            return arch
    return None


def select_kernel(module):
    """``(release, modules_path, root_for_initramfs, running)`` or fail_json."""
    root = module.params["root"]
    wanted = module.params["kernel_release"]
    running = os.uname()[2]
    if wanted and "/" in wanted:
        path = os.path.normpath(wanted)
        if not os.path.isdir(path):
            module.fail_json(msg="kernel_release: %s is not a directory" % wanted)
        match = re.match(r"^(.*?)/(?:usr/)?lib/modules/[^/]+$", path)
        tree_root = (match.group(1) or "/") if match and root == "/" else root
        return os.path.basename(path), path, tree_root, False
    if wanted:
        path = modalias.modules_dir(wanted, root)
        if not os.path.isdir(path):
            installed = modalias.installed_releases(root)
            module.fail_json(msg="kernel_release: no %s (installed under %s: %s)" % (
                path, root, ", ".join(installed) or "none"))
        return wanted, path, root, live_root(root) and wanted == running
    if live_root(root):
        return running, modalias.modules_dir(running, root), root, True
    installed = modalias.installed_releases(root)
    if not installed:
        module.fail_json(msg="root: %s has no kernel (no lib/modules/<release> directory); "
                             "name one with kernel_release" % root)
    return installed[0], modalias.modules_dir(installed[0], root), root, False


def select_arch(module, release, running):
    given = module.params["arch"]
    if given:
        name = normalize_arch(given)
        if name not in ARCHES:
            module.fail_json(msg="arch: %r is not one of %s" % (given, ", ".join(ARCHES)))
        return {"name": name, "source": "arch option"}
    if not running:
        guessed = release_arch(release)
        if guessed in ARCHES:
            return {"name": guessed, "source": "kernel release name"}
    return {"name": normalize_arch(os.uname()[4]), "source": "uname -m"}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            mode=dict(type="str", choices=list(devices.MODES)),
            kernel_release=dict(type="str"),
            root=dict(type="path", default="/"),
            sysfs_root=dict(type="path", default="/sys"),
            initramfs=dict(type="path"),
            arch=dict(type="str"),
            **POLICY_ARGS
        ),
        supports_check_mode=True,
    )
    entries, waivers = fail_on_policy_error(module, requirements("hardware"))
    release, modules_path, tree_root, running = select_kernel(module)
    mode = module.params["mode"] or ("both" if running else "offline")
    arch = select_arch(module, release, running)
    if module.params["initramfs"] and not os.path.isfile(module.params["initramfs"]):
        module.fail_json(msg="initramfs: %s is not a file" % module.params["initramfs"])

    offline = live = None
    try:
        if mode in ("offline", "both"):
            offline = devices.OfflineCheck(modules_path, root=tree_root, release=release,
                                           initramfs=module.params["initramfs"])
    except modalias.ModulesError as exc:
        module.fail_json(msg=str(exc))
    if mode in ("live", "both"):
        sysfs_root = module.params["sysfs_root"]
        if os.path.realpath(sysfs_root) == "/sys":
            reader = devices.OffloadReader(ethtool=module.get_bin_path("ethtool"),
                                           run_command=module.run_command)
        else:
            reader = devices.no_offload_reader(
                "sysfs_root %s is not this host's /sys: the ethtool interface describes this "
                "host's interfaces, not that tree's" % sysfs_root)
        live = devices.LiveCheck(sysfs_root, offloads=reader)
    results = devices.assess(entries, waivers, arch["name"], offline=offline, live=live)
    module.exit_json(changed=False, results=results, summary=summarize(results), mode=mode,
                     arch=arch, kernel=offline.summary() if offline else None,
                     guest=live.summary() if live else None)


if __name__ == "__main__":
    main()
