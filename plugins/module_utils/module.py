# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every guestready.gce module shares: the policy options."""

from ansible_collections.guestready.gce.plugins.module_utils.policy import PolicyError, resolve

POLICY_ARGS = dict(
    waivers=dict(type="dict", default={}),
    overrides=dict(type="dict", default={}),
)


def fail_on_policy_error(module, entries):
    """``(entries, waivers)`` after the module's overrides and waivers, or a
    clean task failure naming the offending ID."""
    try:
        return resolve(entries, module.params["overrides"], module.params["waivers"])
    except PolicyError as exc:
        module.fail_json(msg=str(exc))
