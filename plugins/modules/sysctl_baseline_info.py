#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: sysctl_baseline_info
short_description: Check Compute Engine's kernel runtime settings (SYSCTL-*) without changing anything
version_added: 0.1.0
description:
  - Evaluates every C(SYSCTL-*) requirement of the collection's catalogue in one call; the live
    value, the effective value on every IPv4 interface (by the kernel's combination rule for
    the key), the file and line that win in the boot loader's order, and files whose
    non-compliant values win under C(systemd-sysctl) or C(sysctl --system).
  - Returns the same result records as M(guestready.gce.sysctl_baseline) in check mode, and
    never reports a change.
author:
  - guestready.gce contributors (@guestready-gce)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - guestready.gce.policy
  - guestready.gce.sysctl
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
seealso:
  - module: guestready.gce.sysctl_baseline
"""

EXAMPLES = r"""
- name: Check the kernel settings
  guestready.gce.sysctl_baseline_info:
  register: sysctl_check

- name: Show what fails
  ansible.builtin.debug:
    msg: "{{ sysctl_check.results | selectattr('status', 'eq', 'fail') | map(attribute='message') }}"
"""

RETURN = r"""
results:
  description:
    - One record per C(SYSCTL-*) requirement, in catalogue order; the fields are those of
      M(guestready.gce.sysctl_baseline)'s RV(guestready.gce.sysctl_baseline#module:results).
  returned: always
  type: list
  elements: dict
  sample:
    - id: SYSCTL-IP_FORWARD
      status: fail
      expected: 0
      actual: 1
      key: net.ipv4.ip_forward
      persisted: "1"
      winner: {file: /etc/sysctl.d/99-router.conf, line: 1, value: "1"}
      message: "live value is 1"
summary:
  description: Number of results per status.
  returned: always
  type: dict
  sample: {pass: 20, fail: 1, unsupported: 1}
warnings_from_files:
  description: Lines of sysctl files that are not assignments.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.guestready.gce.plugins.module_utils import sysctl as loader
from ansible_collections.guestready.gce.plugins.module_utils import sysctl_baseline as engine
from ansible_collections.guestready.gce.plugins.module_utils.catalogue import requirements
from ansible_collections.guestready.gce.plugins.module_utils.module import (
    POLICY_ARGS, fail_on_policy_error)


def main():
    module = AnsibleModule(
        argument_spec=dict(engine.INFO_ARGUMENT_SPEC, **POLICY_ARGS),
        supports_check_mode=True,
    )
    entries, waivers = fail_on_policy_error(module, requirements("sysctl"))
    try:
        outcome = engine.check_sysctl(module.params, entries, waivers, module)
    except loader.SysctlError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, **outcome)


if __name__ == "__main__":
    main()
