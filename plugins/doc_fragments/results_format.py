# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment(object):
    # The combined modules' answer shape (compliance, compliance_info).
    DOCUMENTATION = r"""
options:
  results_format:
    description:
      - How the result records come back.
      - C(list), RV(results) and RV(areas) as data, for tasks that read them.
      - C(json), the same two as one JSON text in RV(results_json), which
        M(guestready.gce.compliance_report) decodes one host at a time. For fleets, the
        controller then holds one string per host instead of thousands of objects, and passes
        it through its result handling in one piece (the playbooks C(guestready.gce.verify)
        and C(guestready.gce.harden) use it).
    type: str
    choices: [list, json]
    default: list
"""
