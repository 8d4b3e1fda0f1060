# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: kernel_config_info
short_description: Check kernel build options (KCONF-*) of the running, installed or a given kernel
version_added: 0.1.0
description:
  - Evaluates every C(KCONF-*) requirement of the collection's catalogue in one call against a
    kernel configuration, with the kernel version and architecture rules of each option
    (renamed symbols (C(DEBUG_RODATA)/C(STRICT_KERNEL_RWX), the C(CC_STACKPROTECTOR) family),
    removed ones (C(DEVKMEM), C(SECURITY_YAMA_STACKED), C(KVM_CLOCK)), options of one architecture
    only (C(X86_PAE), C(KVM_GUEST)), and C(=n) satisfied by absence). Each result names the
    symbol that matched.
  - A required driver built as a module (C(=m)) is looked up, with the modules it needs
    (C(modules.dep)), in that kernel's initramfs (C(/boot/initrd.img-<release>),
    C(/boot/initramfs-<release>.img), C(/boot/initrd-<release>), Arch's
    C(/boot/initramfs-<pkgbase>.img), Alpine's C(/boot/initramfs-<flavor>), kernel-install's
    C(<boot>/<entry token>/<release>/initrd) with C(<boot>) one of C(/boot), C(/efi), C(/boot/efi));
    its status says whether the initramfs carries them, or that it could not be inspected (C(unknown),
    also for an image whose modules are inside a dracut squash image, which names it). With no
    initramfs in C(/boot) at all the module is missing from it; with one under another name, C(unknown).
    A module the initramfs carries fails when, as for C(guest_hardware_info), the initramfs's own copy of
    modprobe.d (C(blacklist), C(install <module> /bin/false)) or the kernel command line
    (C(modprobe.blacklist=), C(module_blacklist=)) keeps it from loading there (a C(blacklist) not where
    the initramfs loads the module by name); C(evidence.blocked_by) names the lines.
  - Configurations may be plain or compressed (gzip, xz, bzip2), recognised by content. The
    kernel version and architecture come from the configuration's header, else the version from
    the running kernel or the release and the architecture from options only one architecture has
    (the result says which); both can be overridden.
  - A minimal configuration (what C(make savedefconfig) writes, a defconfig or a fragment, with no
    kconfig header and only the options that differ from their default) is recognised and said so
    (C(form), C(form_evidence), a warning). An option it does not list is judged by its Kconfig
    default for that kernel version and architecture where the collection's catalogue knows it,
    else C(unknown) with the reason, never a failure. Most defaults depend on the version, so give
    O(version) or O(kernel_release) for such a file.
  - Read-only; the kconfig fragment that would fix a failing configuration is returned, not
    written (the C(guestready.gce.kernel_config) role writes it where asked).
author:
  - guestready.gce contributors (@guestready-gce)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - guestready.gce.attributes.info_module
  - guestready.gce.policy
  - guestready.gce.run_cache
options:
  source:
    description:
      - C(running) checks the kernel running on the host (or, with O(root), the kernel the tree
        boots by default, that is its boot menu's default entry (C(grub.cfg) with grubenv's C(saved_entry), or its
        Boot Loader Specification entries) when that is an installed kernel, else the one C(/vmlinuz) or
        C(/boot/vmlinuz) links to, else the newest release with a kernel image or modules as
        grub-mkconfig ranks them, an C(R.old) copy just below C(R) and debug kernels below all others),
        reading the first of C(/proc/config.gz), C(/boot/config-<release>),
        C(/lib/modules/<release>/config), C(/usr/lib/modules/<release>/config), the kernel headers'
        C((usr/)lib/modules/<release>/build/.config) (Arch Linux's only one), then Alpine's
        C(/boot/config-<flavor>) (C(virt) for C(6.6.31-0-virt)) when its header has the release's version.
      - C(installed) checks every installed kernel (C(/boot/config-*), C(/lib/modules/*/config) and
        C(/usr/lib/modules/*/config), else the headers' C(build/.config) of an installed kernel); the
        top-level results are those of the running kernel (or the tree's default one).
      - C(path) checks the file O(path), for example a C(.config) about to be built; delegate the
        task to C(localhost) to check a file on the controller.
    type: str
    choices: [running, installed, path]
    default: running
  path:
    description:
      - The configuration file to check when O(source=path); read under O(root). Given with another
        O(source), it fails the task (it would not be read).
    type: path
  root:
    description:
      - The root of the filesystem tree to look in, for example a mounted image. Anything other
        than C(/) means there is no running kernel, so C(/proc/config.gz) is not read.
    type: path
    default: /
  kernel_release:
    description:
      - The kernel release (C(uname -r) form) to check with O(source=running) instead of the
        running one; with O(source=installed), the kernel whose results are the top-level ones (a
        release not installed fails the task); with O(source=path), the release whose initramfs to look into.
    type: str
  version:
    description:
      - Kernel version (for example C(4.9) or C(6.1.0)) to judge the configuration by, instead of
        the one in its header. Applies to every kernel checked. A minimal configuration has no
        header; give its version here (or O(kernel_release)) so Kconfig defaults can be applied.
    type: str
  arch:
    description:
      - Architecture (C(x86_64)/C(amd64), C(i686)/C(x86_32), C(aarch64)/C(arm64)) to judge by,
        instead of the one the configuration says. Applies to every kernel checked.
      - C(x86), the kernel's name for both x86 architectures, takes 32- or 64-bit from the
        configuration (C(CONFIG_64BIT)). Any other value is an error.
    type: str
  check_initramfs:
    description:
      - Look into the initramfs when a required driver is built as a module. When false, such
        results are C(unknown).
    type: bool
    default: true
  initramfs:
    description:
      - An initramfs image to look into instead of the kernel's usual one (read under O(root)).
    type: path
notes:
  - Without root (no C(become)), a result whose input this user may not read is C(unknown), with
    a message starting C(needs root:) that names the path and the remediation C(run with become);
    it is never judged from the rest of its input.
  - Duplicate symbols with different values make the configuration unreadable (kconfig would keep
    the last, but only C(make olddefconfig) can say what a hand-edited file really builds).
seealso:
  - module: guestready.gce.sysctl_baseline_info
"""

EXAMPLES = r"""
- name: Check the running kernel's build options
  guestready.gce.kernel_config_info:
  register: kconfig

- name: Check every installed kernel
  guestready.gce.kernel_config_info:
    source: installed

- name: Check a .config about to be built, on the controller
  guestready.gce.kernel_config_info:
    source: path
    path: "{{ playbook_dir }}/linux/.config"
  delegate_to: localhost
  register: kconfig

- name: Check a minimal configuration (savedefconfig style) of a 6.6 kernel
  guestready.gce.kernel_config_info:
    source: path
    path: "{{ playbook_dir }}/virt.x86_64.config"
    version: "6.6"
  delegate_to: localhost

- name: Keep the fragment that would make it compliant
  ansible.builtin.copy:
    content: "{{ kconfig.fragment }}"
    dest: "{{ playbook_dir }}/linux/gce.config"
    mode: "0644"
  delegate_to: localhost
"""

RETURN = r"""
kernel:
  description: Release of the kernel the top-level results are about.
  returned: always
  type: str
  sample: 6.1.0-28-cloud-amd64
chosen_by:
  description:
    - Why the top-level kernel is the one judged. C(kernel_release), C(the running kernel),
      C(the boot menu's default entry) (with the entry's title; an image tree's GRUB menu or Boot Loader
      Specification entries), C(the /vmlinuz link), C(the newest installed kernel) (a guess, warned about
      when the tree holds several), or null with C(source=path).
  returned: always
  type: str
  sample: the running kernel
config:
  description: The configuration file the top-level results were read from.
  returned: always
  type: str
  sample: /proc/config.gz
results:
  description:
    - One record per C(KCONF-*) requirement for the running (or only) kernel, in catalogue order.
    - Besides the common fields (C(id), C(area), C(severity), C(title), C(status), C(expected),
      C(actual), C(evidence), C(message), C(remediation), C(waiver)),
      C(symbol) is the option that decided (a renamed one such as C(STRICT_KERNEL_RWX), or the
      option a removed one was folded into), C(found) the value as read (C(y), C(m), C(not set),
      C(absent), a number, or C(unknown); followed by "(Kconfig default)" when a minimal
      configuration left the option to its default), C(fragment_lines) the kconfig lines that would fix it, and for
      modules C(module) and C(initramfs).
    - C(evidence.tried) lists every symbol looked at, with its value.
  returned: always
  type: list
  elements: dict
  sample:
    - id: KCONF-SCSI_VIRTIO
      status: module-in-initramfs
      symbol: SCSI_VIRTIO
      found: m
      expected: y
      module: virtio_scsi
      message: "CONFIG_SCSI_VIRTIO=m: built as module virtio_scsi, present in /boot/initrd.img-6.1.0-28-amd64"
      remediation: ""
summary:
  description: Number of top-level results per status.
  returned: always
  type: dict
  sample: {pass: 15, module-in-initramfs: 3}
fragment:
  description: A kconfig fragment for the top-level kernel (C(scripts/kconfig/merge_config.sh)).
  returned: always
  type: str
kernels:
  description:
    - One entry per kernel checked, with C(release), C(config), C(source) (where the configuration
      was found), C(version) and C(version_source) (C(header), C(release), C(override)), C(arch)
      and C(arch_source) (C(header), C(running kernel), C(override), or C(inferred from) the
      option that told it), C(compression), C(form) (C(full) or C(minimal)) and C(form_evidence)
      (what decided it), C(initramfs) (C(path), C(method), C(error)) when it was looked into,
      C(results), C(summary), C(fragment), C(warnings) and C(error) (why the configuration could
      not be read; its results are then all C(unknown)).
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.guestready.gce.plugins.module_utils import bytecode

bytecode.install()  # the collection's code imported below is kept compiled between executions

from ansible_collections.guestready.gce.plugins.module_utils import kconfig
from ansible_collections.guestready.gce.plugins.module_utils.module import run_check_module


def main():
    run_check_module(kconfig.ARGUMENT_SPEC, kconfig.AREAS, kconfig.check_kernels, kconfig.KconfigError,
                     kconfig.REQUIRED_IF)


if __name__ == "__main__":
    main()
