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
  - guestready.gce.attributes.info_module
  - guestready.gce.policy
  - guestready.gce.run_cache
  - guestready.gce.sysctl
notes:
  - Without root (no C(become)), a result whose input this user may not read is C(unknown), with
    a message starting C(needs root:) that names the path and the remediation C(run with become);
    it is never judged from the rest of its input.
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
  description: Lines of sysctl files that are not assignments, and entries of the sysctl
    directories that are not regular files (a FIFO, a socket, a device) or are symbolic links to
    a missing file, which are never read.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.guestready.gce.plugins.module_utils import bytecode

bytecode.install()  # the collection's code imported below is kept compiled between executions

from ansible_collections.guestready.gce.plugins.module_utils import sysctl as loader
from ansible_collections.guestready.gce.plugins.module_utils import sysctl_baseline as engine
from ansible_collections.guestready.gce.plugins.module_utils.module import run_check_module


def main():
    run_check_module(engine.INFO_ARGUMENT_SPEC, ("sysctl",), engine.check_sysctl, loader.SysctlError)


if __name__ == "__main__":
    main()
