#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: compliance
short_description: Apply what can be applied and check every requirement area, in one module call
version_added: 0.1.0
description:
  - Applies the areas listed in O(apply) the way their own modules do (C(sysctl) as
    M(guestready.gce.sysctl_baseline); C(gce_settings) the non-kernel Compute Engine settings -
    boot loader, time, network, guest environment, SSH, fstab, udev) and checks every other selected area the way
    M(guestready.gce.compliance_info) does, all in one module execution, and returns every
    area's result records together, in catalogue order.
  - One execution per host is the whole cost of hardening on a small or emulated guest, where
    starting a module costs seconds; the playbook C(guestready.gce.harden) uses it.
  - Files under a target root are written through the collection's target-root layer (paths
    resolve inside the root; a symlink at the sysctl drop-in's path is replaced, never written
    through, and one at a path of a C(gce_settings) file - udev's and systemd's way to mask a
    file - is left as it is, the task failing with a message naming it), under one lock per root. A file replaced keeps its mode, owner, group and extended
    attributes (its SELinux label); a new file is mode 0644, a new directory 0755.
  - An area whose options cannot be honoured fails the task with its message; the other areas'
    results are still returned.
author:
  - guestready.gce contributors (@guestready-gce)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - guestready.gce.policy
  - guestready.gce.run_cache
  - guestready.gce.results_format
attributes:
  check_mode:
    support: full
    details: Nothing is written; the results describe the current state and the C(changed) field of each result
      says what would change.
  diff_mode:
    support: full
    details: The diffs of every file the applied areas change (or would change), from the state
      read before anything is written, and in a tree each unit link made (or that would be made).
  platform:
    platforms: posix
options:
  areas:
    description:
      - The requirement areas to handle (applied or checked).
      - An empty list fails the task, naming the option; it would check nothing.
    type: list
    elements: str
    choices: [sysctl, kernel_config, hardware, gce_settings]
    default: [sysctl, kernel_config, hardware, gce_settings]
  apply:
    description:
      - The areas among O(areas) to bring to compliance before they are judged; the others are
        only checked.
    type: list
    elements: str
    choices: [sysctl, gce_settings]
    default: [sysctl, gce_settings]
  sysctl:
    description:
      - Options of the C(sysctl) area, those of M(guestready.gce.sysctl_baseline) (C(file),
        C(root), C(neutralize), C(per_interface), C(apply_live), C(lock_timeout)); when the area
        is only checked, the options that apply changes are accepted and ignored, so one set
        of options serves both.
    type: dict
    default: {}
  kernel_config:
    description:
      - Options of M(guestready.gce.kernel_config_info) for the C(kernel_config) area.
    type: dict
    default: {}
  hardware:
    description:
      - Options of M(guestready.gce.guest_hardware_info) for the C(hardware) area.
    type: dict
    default: {}
  gce_settings:
    description:
      - Options of the C(gce_settings) area (the non-kernel Compute Engine settings, C(GCE-*)).
      - C(root) (default C(/)), a tree to work on instead of the running system; C(generalize)
        (default C(false)), judge and prepare a live VM as the image it is about to become (host keys
        removed, machine ID emptied - the image build's last step); C(interface), the primary NIC
        (default the default route's, or C(ens4)/C(eth0) in an image); C(connection), who runs the
        play over SSH (C(user); C(auth), one of C(publickey), C(password) or C(auto) in any letter case;
        C(addr), the address the login comes from, for C(Match Address)), so that an SSH change
        that would refuse that login fails before anything is written. Another C(auth) value or an
        unknown key of C(connection) fails the area.
      - When applied, C(install_packages) (default C(true), live only), C(regenerate_bootloader)
        (default C(true), live only), C(reload_services) (default C(true), live only), C(lock_timeout).
      - SSH changes are validated with C(sshd -t) and checked with C(sshd -T -C) for the connecting
        user before they are written; the run fails before changing anything when the new
        configuration would refuse that user's login method.
    type: dict
    default: {}
notes:
  - O(waivers) and O(overrides) apply to every area.
  - Changing the running system or a tree owned by another user needs root (C(become)); without
    it the task fails before anything is written, with one message saying so. Check mode still
    runs. An image tree owned by the connecting user may be changed without root.
  - Without root (no C(become)), a result whose input this user may not read is C(unknown), with
    a message starting C(needs root:) that names the path and the remediation C(run with become);
    it is never judged from the rest of its input.
seealso:
  - module: guestready.gce.compliance_info
  - module: guestready.gce.sysctl_baseline
"""

EXAMPLES = r"""
- name: Harden the kernel settings and check every area in one call
  guestready.gce.compliance:
  register: compliance

- name: Harden an image tree mounted on the controller, scanner-clean
  guestready.gce.compliance:
    sysctl:
      root: /mnt/image
      neutralize: all
    kernel_config:
      root: /mnt/image
      source: installed
    hardware:
      root: /mnt/image
    gce_settings:  # every area has its own root: left out, this one would be the controller's /
      root: /mnt/image
  delegate_to: localhost
"""

RETURN = r"""
results:
  description: One record per requirement ID of the handled areas, in catalogue order, describing
    the state after the run (in check mode, the current state), and a C(waived) record for each
    waived ID of an area not handled, whose message says C(not checked).
  returned: when O(results_format=list) (the default)
  type: list
  elements: dict
  contains:
    changed:
      description: Whether this run changed (in check mode, would change) what the requirement judges.
      returned: for the applied areas
      type: bool
summary:
  description: Number of results per status.
  returned: always
  type: dict
  sample: {pass: 40, fail: 3, module-in-initramfs: 3}
applied:
  description: The areas that were applied (the others were checked).
  returned: when an area was applied
  type: list
  elements: str
  sample: [sysctl]
areas:
  description: Per area, the area module's other return values (for example the drop-in and the
    neutralised files for C(sysctl), the checked kernels for C(kernel_config)), or C(error) when
    the area could not be handled. The chosen kernel's entry in C(kernel_config.kernels) has no
    C(results), since its records are the C(KCONF-*) records of RV(results).
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
    module = GuestModule(argument_spec=dict(areas.module_options(applying=True), **POLICY_ARGS),
                         supports_check_mode=True)
    areas.run(module, apply=module.params["apply"], apply_options=True)


if __name__ == "__main__":
    main()
