# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment(object):
    # The waiver/override options every guestready.gce module shares.
    DOCUMENTATION = r"""
options:
  waivers:
    description:
      - Requirement IDs this host is exempt from, each mapped to the reason, for example
        C(SYSCTL-IP_FORWARD) mapped to C(NAT gateway, change NET-123).
      - A waived ID is evaluated, never applied and never failed; its result has status
        C(waived) and carries the reason, so every report shows it.
      - The same mapping serves every module, so one inventory variable
        (C(guestready_gce_waivers)) can be passed to all of them; IDs of other areas are
        validated and otherwise ignored, except that M(guestready.gce.compliance),
        M(guestready.gce.compliance_info) and M(guestready.gce.disk_image) return a C(waived)
        result for each waived ID of an area they did not run (C(--tags sysctl), C(areas)), with
        the message C(not checked), so that the reports still show the waiver.
      - A value may also be a mapping with a C(reason) key and no other key (another key, such as an
        expiry date the collection does not honour, fails the task naming it).
    type: dict
    default: {}
  overrides:
    description:
      - Stricter expectations for requirement IDs, for example C(SYSCTL-KPTR_RESTRICT) mapped to C(2).
      - An override may only raise strictness (a higher level, or an alternative value another
        baseline prefers, such as C(secure_redirects=0)); an override that would weaken a
        requirement is refused (waive the ID instead).
    type: dict
    default: {}
"""
