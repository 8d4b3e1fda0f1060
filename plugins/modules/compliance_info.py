#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: compliance_info
short_description: Check every requirement area (SYSCTL-*, KCONF-*, HW-*) in one module call
version_added: 0.1.0
description:
  - Runs the checks of M(guestready.gce.sysctl_baseline_info), M(guestready.gce.kernel_config_info)
    and M(guestready.gce.guest_hardware_info) in one module execution and returns their result
    records together, in catalogue order.
  - One execution instead of three matters on small or emulated guests, where starting a module
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
options:
  areas:
    description: The requirement areas to check.
    type: list
    elements: str
    choices: [sysctl, kernel_config, hardware]
    default: [sysctl, kernel_config, hardware]
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
notes:
  - O(waivers) and O(overrides) apply to every area.
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
    records of the three area modules).
  returned: always
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
    C(hardware)), or C(error) when the area could not be checked.
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible_collections.guestready.gce.plugins.module_utils import devices, kconfig
from ansible_collections.guestready.gce.plugins.module_utils import sysctl as loader
from ansible_collections.guestready.gce.plugins.module_utils import sysctl_baseline
from ansible_collections.guestready.gce.plugins.module_utils.catalogue import CATALOGUE, requirements
from ansible_collections.guestready.gce.plugins.module_utils.module import (
    POLICY_ARGS, fail_on_policy_error)
from ansible_collections.guestready.gce.plugins.module_utils.results import summarize

# area -> (catalogue areas, option spec, required_if, check, the error it raises);
# every check is called as check(params, entries, waivers, module)
AREAS = {
    "sysctl": (("sysctl",), sysctl_baseline.INFO_ARGUMENT_SPEC, None, sysctl_baseline.check_sysctl,
               loader.SysctlError),
    "kernel_config": (kconfig.AREAS, kconfig.ARGUMENT_SPEC, kconfig.REQUIRED_IF, kconfig.check_kernels,
                      kconfig.KconfigError),
    "hardware": (("hardware",), devices.ARGUMENT_SPEC, None, devices.check_hardware,
                 devices.HardwareError),
}


def area_options(module, area):
    dummy, spec, required_if, dummy, dummy = AREAS[area]
    validated = ArgumentSpecValidator(spec, required_if=required_if).validate(module.params[area])
    if validated.error_messages:
        module.fail_json(msg="%s: %s" % (area, "; ".join(validated.error_messages)))
    return validated.validated_parameters


def main():
    module = AnsibleModule(
        argument_spec=dict(
            areas=dict(type="list", elements="str", choices=list(AREAS), default=list(AREAS)),
            sysctl=dict(type="dict", default={}),
            kernel_config=dict(type="dict", default={}),
            hardware=dict(type="dict", default={}),
            **POLICY_ARGS
        ),
        supports_check_mode=True,
    )
    areas = [area for area in AREAS if area in module.params["areas"]]
    entries, waivers = fail_on_policy_error(
        module, requirements(tuple(name for area in areas for name in AREAS[area][0])))
    options = dict((area, area_options(module, area)) for area in areas)
    results, details, errors = [], {}, []
    for area in areas:
        wanted, dummy, dummy, check, failure = AREAS[area]
        area_entries = [entry for entry in entries if entry["area"] in wanted]
        try:
            outcome = check(options[area], area_entries, waivers, module)
        except failure as exc:
            errors.append("%s: %s" % (area, exc))
            details[area] = {"error": str(exc)}
            continue
        results.extend(outcome.pop("results"))
        outcome.pop("summary")
        details[area] = outcome
    order = dict((entry["id"], index) for index, entry in enumerate(CATALOGUE))
    results.sort(key=lambda result: order[result["id"]])
    outcome = dict(changed=False, results=results, summary=summarize(results), areas=details)
    if errors:
        module.fail_json(msg="; ".join(errors), **outcome)
    module.exit_json(**outcome)


if __name__ == "__main__":
    main()
