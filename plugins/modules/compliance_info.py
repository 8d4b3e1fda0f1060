#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: compliance_info
short_description: Check every requirement area (SYSCTL-*, KCONF-*, HW-*, GCE-*) in one module call
version_added: 0.1.0
description:
  - Runs the checks of M(guestready.gce.sysctl_baseline_info), M(guestready.gce.kernel_config_info),
    M(guestready.gce.guest_hardware_info) and the C(gce_settings) area of M(guestready.gce.compliance)
    (the non-kernel Compute Engine settings, C(GCE-*)) in one module execution and returns their result
    records together, in catalogue order.
  - One execution instead of four matters on small or emulated guests, where starting a module
    costs seconds; the playbooks C(guestready.gce.verify) and C(guestready.gce.harden) use it.
  - An area whose options cannot be honoured (no kernel configuration found, an unreadable
    sysctl file) fails the task with its message, and the other areas' results are still
    returned.
author:
  - guestready.gce contributors (@guestready-gce)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - guestready.gce.attributes.info_module
  - guestready.gce.policy
  - guestready.gce.run_cache
  - guestready.gce.results_format
options:
  areas:
    description:
      - The requirement areas to check.
      - An empty list fails the task, naming the option; it would check nothing.
    type: list
    elements: str
    choices: [sysctl, kernel_config, hardware, gce_settings]
    default: [sysctl, kernel_config, hardware, gce_settings]
  sysctl:
    description:
      - Options of M(guestready.gce.sysctl_baseline_info) (C(file), C(root)) for the C(sysctl) area.
    type: dict
    default: {}
  kernel_config:
    description:
      - Options of M(guestready.gce.kernel_config_info) (C(source), C(path), C(root),
        C(kernel_release), C(version), C(arch), C(check_initramfs), C(initramfs)) for the
        C(kernel_config) area.
    type: dict
    default: {}
  hardware:
    description:
      - Options of M(guestready.gce.guest_hardware_info) (C(mode), C(kernel_release), C(root),
        C(sysfs_root), C(initramfs), C(arch)) for the C(hardware) area.
    type: dict
    default: {}
  gce_settings:
    description:
      - Options of the C(gce_settings) area (the non-kernel Compute Engine settings, C(GCE-*)) -
        C(root), C(generalize), C(interface), C(connection) (see M(guestready.gce.compliance)).
    type: dict
    default: {}
notes:
  - O(waivers) and O(overrides) apply to every area.
  - Without root (no C(become)), a result whose input this user may not read is C(unknown), with
    a message starting C(needs root:) that names the path and the remediation C(run with become);
    it is never judged from the rest of its input.
seealso:
  - module: guestready.gce.sysctl_baseline_info
  - module: guestready.gce.kernel_config_info
  - module: guestready.gce.guest_hardware_info
"""

EXAMPLES = r"""
- name: Check everything
  guestready.gce.compliance_info:
  register: compliance

- name: Check the kernel options of every installed kernel and the hardware of an image tree
  guestready.gce.compliance_info:
    areas: [kernel_config, hardware]
    kernel_config:
      source: installed
      root: /mnt/image
    hardware:
      root: /mnt/image
  delegate_to: localhost
"""

RETURN = r"""
results:
  description: One record per requirement ID of the checked areas, in catalogue order (the
    records of the area modules, and of the C(gce_settings) area), and a C(waived) record for each
    waived ID of an area not checked, whose message says C(not checked).
  returned: when O(results_format=list) (the default)
  type: list
  elements: dict
summary:
  description: Number of results per status.
  returned: always
  type: dict
  sample: {pass: 40, fail: 3, module-in-initramfs: 3}
areas:
  description: Per area, the area module's other return values (for example the checked
    kernels and the kconfig fragment for C(kernel_config), the mode and the kernel for
    C(hardware)), or C(error) when the area could not be checked. The chosen kernel's entry in
    C(kernel_config.kernels) has no C(results), since its records are the C(KCONF-*) records of
    RV(results).
  returned: when O(results_format=list) (the default)
  type: dict
results_json:
  description: RV(results) and RV(areas) as one JSON text, an object with those two keys.
  returned: when O(results_format=json)
  type: str
  sample: '{"results":[{"id":"SYSCTL-IP_FORWARD","status":"pass"}],"areas":{"sysctl":{}}}'
"""

from ansible_collections.guestready.gce.plugins.module_utils import bytecode

bytecode.install()  # the collection's code imported below is kept compiled between executions

from ansible_collections.guestready.gce.plugins.module_utils import areas
from ansible_collections.guestready.gce.plugins.module_utils.module import POLICY_ARGS, GuestModule


def main():
    module = GuestModule(argument_spec=dict(areas.module_options(), **POLICY_ARGS),
                         supports_check_mode=True)
    areas.run(module)


if __name__ == "__main__":
    main()
