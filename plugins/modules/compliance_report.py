#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: compliance_report
short_description: Write a run's compliance reports on the controller
version_added: 0.1.0
description:
  - Collects the results that the collection's roles registered on each host (the variables of
    O(result_vars), by default C(sysctl_result), C(kernel_config_result), C(hardware_result),
    C(gce_settings_result), C(compliance_result) and C(image_result)) and writes, into one
    directory per run, a JSON report per host, a fleet summary JSON, a JUnit XML file (one
    test case per host and requirement ID, and one per error of a host, class C(<host>.host),
    named C(error), C(error 2)...) and a self-contained HTML page.
  - Every host of O(hosts) gets a report, also a host whose task failed or that was unreachable
    (the error is its result) and a host no task ran on.
  - With O(merge), also reads the report directories of earlier runs (AWX job slices, serial
    batches, one run per region) and writes one fleet report over all their hosts. A host found
    in several keeps its newest report (the run that started last; the current run's hosts are
    the newest; a merged directory's hosts keep the time of the run that checked them, the
    summary's C(hosts.<name>.generated)); the summary's C(merged) section lists the sources and
    every report dropped.
  - Returns a short text table and whether the verification gate failed; it never fails itself
    because of a host's results, so a playbook can print the table before failing.
  - A report of no host at all (hosts that matched nothing, a merge of directories holding no
    report) fails the gate.
  - The gate fails a host when a required ID fails and is not waived, when a check could not
    run on it (unreachable, task error), when its tasks returned no result at all (the error
    C(no checks), as nothing was checked), and with O(strict) also when a recommended ID fails or
    a result could not be decided (C(unknown), C(unsupported)).
  - Built in one pass over the hosts, holding no host's records after its files are written; the
    HTML page stores each distinct record once and renders only the host columns in view
    (C(docs/benchmarks.md) measures 10,000 hosts).
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
    description:
      - The hosts of the run, including those that failed or were unreachable.
      - Without hosts and without O(merge), the report holds no host, which fails the gate.
    type: list
    elements: str
    default: []
  merge:
    description:
      - Report directories of earlier runs to merge into this report (each one's C(summary.json)
        says which host file is whose; a directory without one, from a run that stopped early, is
        read file by file). A directory holding neither is an error naming it.
      - A host file that C(docs/schemas/host-report.schema.json) rejects, or whose record gives a
        requirement ID another severity or area than the requirement catalogue (which decides what
        gates), is an error naming the file and the field.
      - The output directory must not be one of them.
    type: list
    elements: path
    default: []
  output_dir:
    description:
      - Where to write the reports; created with its parents if missing. A clear error names it when
        it is not a writable directory.
      - An existing directory may hold other files; the collection's own reports there (an earlier
        run's) are replaced, but a C(summary.json), C(report.html), C(junit.xml) or C(host-*.json)
        that it did not write is an error naming the file, which is left as it is.
      - Files are put in place only once all of them are written; a run refused part way (such a
        file, a damaged host file of O(merge)) leaves the directory as it was.
      - Defaults to a new directory C(reports/<UTC timestamp>-<run_name>) under the directory
        C(ansible-playbook) runs in (C(-2), C(-3)... when runs start in the same second).
      - In a container (an Execution Environment, an AWX job) that directory goes away with the
        container; give an absolute path on a volume that outlives it.
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
    C(guestready.gce.verify) and C(guestready.gce.image) call it in their last play,
    C(guestready.gce.report_merge) to merge report directories.
  - Report files are named C(host-<name>.json) for names of lower-case letters, digits, C(.), C(_)
    and C(-) (up to 100 characters); any other name gets a readable part and a hash,
    C(host-<readable>~<sha256 prefix>.json), so that every host name has its own file. The
    summary's C(hosts.<name>.file) gives each host's file.
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

- name: Publish the summary as AWX job artifacts
  ansible.builtin.set_stats:
    data:
      guestready_gce: "{{ report.stats }}"

- name: Merge the reports of two job slices into one fleet report
  guestready.gce.compliance_report:
    merge:
      - /reports/1234
      - /reports/1235
    output_dir: /reports/fleet
    run_name: merge
"""

RETURN = r"""
report_dir:
  description: The directory the reports were written to.
  returned: always
  type: str
  sample: /home/me/fleet/reports/20261128T231500Z-verify
paths:
  description: Paths of the written files (C(directory), C(summary), C(junit), C(html); C(hosts) maps
    host names to their JSON report).
  returned: always
  type: dict
table:
  description: The summary table, one line per host and a totals line.
  returned: always
  type: list
  elements: str
gate_failed:
  description: Whether at least one host fails verification, or no host was reported at all (a host
    selection or a merge that matched nothing proves nothing).
  returned: always
  type: bool
gate_message:
  description: Why the gate fails, in one sentence (the failing hosts, or that no host was reported);
    empty when it passes.
  returned: always
  type: str
  sample: 1 host(s) fail verification (old-1)
failing_hosts:
  description: Hosts that fail verification.
  returned: always
  type: list
  elements: str
totals:
  description: Number of hosts per verdict (pass, warn, fail).
  returned: always
  type: dict
stats:
  description:
    - The run in a few fields for C(ansible.builtin.set_stats) (AWX job artifacts), not the records.
    - C(totals), C(gate_failed), C(strict), C(verdicts) (host to verdict), C(failing_ids) (ID to the
      number of hosts it fails the gate on), C(failing_hosts) (host to its gate reasons),
      C(report_dir), C(summary), C(html), C(junit).
  returned: always
  type: dict
  sample:
    totals: {pass: 1, warn: 0, fail: 1}
    gate_failed: true
    strict: false
    verdicts: {gce-1: pass, old-1: fail}
    failing_ids: {HW-NET-VIRTIO: 1}
    failing_hosts: {old-1: [HW-NET-VIRTIO fail]}
    report_dir: /reports/1234
    summary: /reports/1234/summary.json
    html: /reports/1234/report.html
    junit: /reports/1234/junit.xml
"""
