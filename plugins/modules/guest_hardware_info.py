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
  - A module that modprobe's configuration keeps from loading fails, naming the line. That is
    C(blacklist <module>), which udev and systemd apply, or C(install <module> /bin/false) (or C(true)) in
    C(/etc/modprobe.d), C(/run/modprobe.d), C(/usr/local/lib/modprobe.d), C(/usr/lib/modprobe.d) or
    C(/lib/modprobe.d), and C(modprobe.blacklist=) or C(module_blacklist=) on a kernel command line that
    boots the release. Built-in drivers are not affected. A C(blacklist) holds only where the module is
    looked up by its device's alias (kmod's modprobe), so in an initramfs that loads the module by name
    (initramfs-tools' C(conf/modules), dracut's C(rd.driver.pre=) in C(etc/cmdline.d)) it does not.
  - A kernel built without loadable modules (C(CONFIG_MODULES) not set) has no modules directory. Its drivers are
    judged by its configuration, built in (C(=y)) or absent.
  - Before Linux 6.18, C(modules.builtin.modinfo) lists only a built-in driver's C(MODULE_ALIAS())
    names, not its device table (and kernels before 5.2 have no such file). A built-in expected
    driver that the built-in aliases do not list at all is judged by its name in
    C(modules.builtin), with a note saying so.
  - A catalogue field that does not pin a value (the subsystem vendor of a virtio device) is
    matched as unknown, so only driver patterns that accept any value there count.
  - The serial ports need the C(8250) driver and enough ports registered for C(ttyS0)-C(ttyS3),
    from the kernel's configuration (C(CONFIG_SERIAL_8250_NR_UARTS), C(CONFIG_SERIAL_8250_RUNTIME_UARTS),
    read from C(/boot/config-<release>), C(lib/modules/<release>/config), Alpine's C(/boot/config-<flavor>)
    or C(/proc/config.gz)) and
    every kernel command line that boots the release (C(8250.nr_uarts=) in C(/proc/cmdline),
    GRUB's C(grub.cfg) and C(/etc/default/grub), BLS entries, C(/etc/kernel/cmdline)).
  - I(Live), the guest has the devices, read from sysfs. PCI functions with vendor, device,
    subsystem, revision, class and the bound driver. Negotiated virtio feature bits, decoded by
    name. The NIC's offloads through the ethtool interface (C(ethtool -k) when installed, else
    the C(SIOCETHTOOL) get requests, which also read an offload C(ethtool -k) does not name; one
    that neither tells is C(unknown)). TSO and checksum offload are judged by their IPv4 features
    (C(tx-tcp-segmentation); C(tx-checksum-ipv4) or C(tx-checksum-ip-generic)) where C(ethtool -k) lists
    them, as its summary lines read on when any feature under them is. Features of a virtio device no driver is bound to are not
    judged (they are negotiated when its driver binds). The SCSI devices behind the virtio-scsi controller (type, SCSI
    level, sector sizes). The request queues the controller offers, from its MSI-X table in PCI
    configuration space (blk-mq's hardware queues under C(/sys/block/<disk>/mq) are capped at the
    number of CPUs, so one vCPU hides a second queue); both numbers are returned. The serial
    ports C(ttyS0)-C(ttyS3) (UART type, IRQ, I/O port). A missing device or bus is a result,
    never an error.
  - Everything under O(root) and O(sysfs_root) is read through the collection's target-root
    layer, so links in a tree never lead outside it and only regular files are read.
  - One status per requirement ID. It is the worst of the halves that were run, in the order
    C(fail), C(module-missing-from-initramfs), C(unknown), C(module-in-initramfs), C(pass). A
    half that does not apply is left out. Both halves are returned with their own status,
    message and evidence.
  - Requirements of another architecture are C(not-applicable). On x86 that is gVNIC, unless the
    machine presents one (per-VM Tier_1 networking, the third-generation series such as C3, C4 and
    N4). Its live half is then judged as on arm64. On arm64 (Tau T2A) it is PIIX4, the ISA bridge,
    virtio-net and the serial ports.
  - Live, a machine whose NIC is gVNIC instead of virtio-net makes C(HW-NET-VIRTIO) C(not-applicable)
    (C(HW-NET-GVNIC) judges the NIC). A machine whose disks are on Google NVMe (1ae0:001f) instead of
    virtio-scsi makes C(HW-SCSI-VIRTIO) C(not-applicable). Their offline halves still judge the kernel's
    virtio drivers. Without the device and without its Google replacement the result fails.
  - Never changes anything.
author:
  - guestready.gce contributors (@guestready-gce)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - guestready.gce.attributes.info_module
  - guestready.gce.policy
  - guestready.gce.run_cache
options:
  mode:
    description:
      - C(offline) checks the kernel's drivers only; C(live) the devices only; C(both) does both.
      - C(auto) (the default) does both on a Compute Engine VM's running kernel, and C(offline)
        everywhere else. An image, a chroot or a kernel that is not running has no guest to read.
        A machine that is not a Compute Engine VM (an image build VM such as Packer's QEMU
        builder, a CI runner, a workstation; told from SMBIOS, see RV(platform)) has devices
        that are not Compute Engine's, so its kernel is judged offline and every result says
        that its live half was not judged, and why.
      - Use C(both) (or C(live)) to judge the devices of a machine that is not on Compute Engine
        anyway, for example a lab guest that imitates Compute Engine's device model.
    type: str
    choices: [auto, live, offline, both]
  kernel_release:
    description:
      - The kernel release whose drivers are checked, for example C(6.1.0-28-cloud-amd64). Its
        modules directory is looked up as C(lib/modules/<release>) (or C(usr/lib/modules)) under
        O(root).
      - An absolute path to a modules directory (C(/mnt/image/lib/modules/6.1.0-28-cloud-amd64))
        is used as is; its name is the release, and the tree above C(lib/modules) is where its
        initramfs is looked for.
      - Default, the running kernel when O(root=/), else the kernel the tree under O(root) boots by
        default, that is its boot menu's default entry (C(grub.cfg) with grubenv's C(saved_entry), or its Boot Loader
        Specification entries) when that is an installed kernel, else the one C(/vmlinuz) or
        C(/boot/vmlinuz) links to, else the newest release installed
        there as grub-mkconfig ranks them (an C(R.old) copy just below C(R), debug kernels below all others).
    type: str
  root:
    description:
      - Root of the filesystem tree that holds the kernel (C(lib/modules), C(boot)) and its
        boot configuration (C(etc/default/grub), C(boot/grub/grub.cfg)). Anything other than C(/)
        (an image mounted on the controller, a chroot) means O(mode=offline) unless O(mode) says
        otherwise.
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
        O(root)C(/boot) for the release; a path inside O(root).
    type: path
  arch:
    description:
      - The architecture the requirements are selected for (C(x86_64), C(x86_32), C(arm64);
        C(amd64), C(aarch64), C(i686) are accepted).
      - Default, this host's C(uname -m) when its running kernel is checked; otherwise what the
        release's kernel configuration says (its C(# Linux/arm64 ...) header, or inferred from
        options such as C(CONFIG_ARM64)), else the architecture the release's name ends with
        (C(-amd64), C(-arm64)), else C(uname -m).
    type: str
notes:
  - Without root (no C(become)), a result whose input this user may not read is C(unknown), with
    a message starting C(needs root:) that names the path and the remediation C(run with become);
    it is never judged from the rest of its input.
  - Without root the kernel shows only the first 64 bytes of a PCI function's configuration
    space, not its MSI-X capability. The controller's own queue count is then unknown, and
    C(HW-SCSI-VIRTIO) says so unless blk-mq's count settles it (more queues than one, or one
    queue on a machine with more than one CPU).
  - Before Linux 5.7 a serial port's C(type), C(port) and C(irq) in sysfs are readable by root
    only (mode 0440). Without root C(HW-SERIAL) is then C(unknown), never judged as ports without a UART.
  - Reading the initramfs needs the tools the collection's initramfs reader uses (C(cpio) and
    the decompressors of the formats it meets). When it cannot be inspected, a driver built
    as a module is C(unknown), never assumed present.
"""

EXAMPLES = r"""
- name: Check this guest and its running kernel
  guestready.gce.guest_hardware_info:
  register: hardware

- name: In an image build VM (Packer's QEMU builder), judge the image's kernel; the build VM's own devices are not Compute Engine's
  guestready.gce.guest_hardware_info:
    mode: auto

- name: Judge a lab guest's devices although it is not a Compute Engine VM
  guestready.gce.guest_hardware_info:
    mode: both

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
      fields (C(id), C(area), C(severity), C(title), C(status), C(expected), C(actual),
      C(evidence), C(message), C(remediation), C(waiver)).
    - C(offline) holds the release checked and, per driver hop, the modalias, the matching
      alias lines, the driver, C(built-in) or C(module), the initramfs verdict and, for a module
      kept from loading, C(blocked_by) (the lines that keep it).
    - C(offline.uarts) (C(HW-SERIAL)) holds how many ports the 8250 driver registers, per kernel
      command line found (C(boots)), with the configuration options it came from.
    - C(live) holds the devices found with their IDs, bound drivers, virtio features,
      offloads, SCSI devices (with C(request_queues), the controller's count from its MSI-X
      table and blk-mq's per disk) or serial ports; with the live half not judged, its status
      is C(not-applicable) and its message says why.
    - C(evidence.live) maps every sysfs path read to the value found (null when absent);
      C(evidence.offline) lists the alias lines that matched (and C(blocked_by), when a module is kept
      from loading).
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
            modalias: pci:v00001AF4d00001004svXXXXXXXXsd00000008bcXXscXXiXX
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
  description: The mode used (C(auto) resolved to C(both) or C(offline)).
  returned: always
  type: str
  sample: offline
mode_reason:
  description: Why that mode.
  returned: always
  type: str
  sample: >-
    auto: not a Compute Engine VM (DMI sys_vendor 'QEMU', product_name 'Standard PC (i440FX + PIIX,
    1996)', bios_vendor 'SeaBIOS'), so its devices are not Compute Engine's; the image's kernel is
    judged offline only (mode: both judges this machine's devices anyway)
platform:
  description:
    - Whether the machine whose sysfs was read is a Compute Engine VM, from its SMBIOS system
      product name (C(Google Compute Engine) or C(Google)), with the DMI strings read as evidence.
    - Null when no live system was looked at (an image tree, or O(mode=offline)).
  returned: always
  type: dict
  sample:
    on_gce: false
    reason: not a Compute Engine VM (DMI sys_vendor 'QEMU', product_name 'Standard PC (i440FX + PIIX, 1996)')
    evidence: {/sys/class/dmi/id/sys_vendor: QEMU, /sys/class/dmi/id/product_name: Standard PC (i440FX + PIIX, 1996)}
arch:
  description: The architecture the requirements were selected for, and where it came from.
  returned: always
  type: dict
  sample: {name: x86_64, source: uname -m}
"""

from ansible_collections.guestready.gce.plugins.module_utils import bytecode

bytecode.install()  # the collection's code imported below is kept compiled between executions

from ansible_collections.guestready.gce.plugins.module_utils import devices
from ansible_collections.guestready.gce.plugins.module_utils.module import run_check_module


def main():
    run_check_module(devices.ARGUMENT_SPEC, ("hardware",), devices.check_hardware, devices.HardwareError)


if __name__ == "__main__":
    main()
