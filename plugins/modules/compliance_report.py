#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: compliance_report
short_description: Write a run's compliance reports on the controller
version_added: 0.1.0
description:
  - Collects the results that the collection's roles registered on each host
    (C(sysctl_result), C(kernel_config_result), C(hardware_result), C(compliance_result)) and
    writes, into one
    directory per run, a JSON report per host, a fleet summary JSON, a JUnit XML file (one
    test case per host and requirement ID) and a self-contained HTML page.
  - Returns a short text table and whether the verification gate failed; it never fails itself
    because of a host's results, so a playbook can print the table before failing.
  - The gate fails a host when a required ID fails and is not waived, when a check could not
    run on it (unreachable, task error), and with O(strict) also when a recommended ID fails or
    a result could not be decided (C(unknown), C(unsupported)).
author:
  - guestready.gce contributors (@guestready-gce)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
    details: Reports are written in check mode too; they only touch the controller.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  hosts:
    description: The hosts of the run, including those that failed or were unreachable.
    type: list
    elements: str
    required: true
  output_dir:
    description:
      - Where to write the reports. Defaults to C(reports/<UTC timestamp>-<run_name>) under the
        directory C(ansible-playbook) runs in.
    type: path
  strict:
    description: Recommended IDs and undecided results fail the gate too.
    type: bool
    default: false
  result_vars:
    description: The registered variables to read on each host.
    type: list
    elements: str
    default: [sysctl_result, kernel_config_result, hardware_result, gce_settings_result, compliance_result, image_result]
  run_name:
    description: A name for the run, used in the directory name and the summary.
    type: str
    default: run
notes:
  - Runs on the controller only (a play on C(localhost)); the playbooks C(guestready.gce.harden),
    C(guestready.gce.verify) and C(guestready.gce.image) call it in their last play.
"""

EXAMPLES = r"""
- name: Write the reports
  guestready.gce.compliance_report:
    hosts: "{{ hostvars['localhost']['guestready_gce_targets'] }}"
    run_name: verify
  register: report

- name: Show the summary table
  ansible.builtin.debug:
    msg: "{{ report.table }}"
"""

RETURN = r"""
report_dir:
  description: The directory the reports were written to.
  returned: always
  type: str
  sample: /home/me/fleet/reports/20261128T231500Z-verify
paths:
  description: Paths of the written files (C(hosts) maps host names to their JSON report).
  returned: always
  type: dict
table:
  description: The summary table, one line per host and a totals line.
  returned: always
  type: list
  elements: str
gate_failed:
  description: Whether at least one host fails verification.
  returned: always
  type: bool
failing_hosts:
  description: Hosts that fail verification.
  returned: always
  type: list
  elements: str
totals:
  description: Number of hosts per verdict (pass, warn, fail).
  returned: always
  type: dict
"""
