# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every guestready.gce module shares: the policy options, and the
main() of a read-only check."""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.guestready.gce.plugins.module_utils.catalogue import requirements
from ansible_collections.guestready.gce.plugins.module_utils.policy import PolicyError, resolve
from ansible_collections.guestready.gce.plugins.module_utils.privilege import refusal, unknown_results
from ansible_collections.guestready.gce.plugins.module_utils.results import summarize
from ansible_collections.guestready.gce.plugins.module_utils.target import Unreadable

POLICY_ARGS = dict(
    waivers=dict(type="dict", default={}),
    overrides=dict(type="dict", default={}),
)


def root_problem(params, option="root"):
    """Why the tree ``params[option]`` cannot be worked on, or None.  An empty
    string would be read as the running system (an inventory variable set to
    nothing), a path that is not a directory judged as an empty tree."""
    root = params.get(option)
    if root is None:
        return None  # the option's default
    if not root.strip():
        return "%s: %r is empty; give / for the running system, or the path of a tree" % (option, root)
    if not os.path.isdir(root):
        where = os.path.abspath(root)
        why = "no such file or directory" if not os.path.lexists(root) else "not a directory"
        return "%s: %s is not a directory (%s%s)" % (option, root, "" if where == root else where + ": ", why)
    return None


def fail_on_root_problem(module, option="root"):
    """End the task, before anything is read, when the module's tree option
    cannot be worked on (``root_problem``)."""
    problem = root_problem(module.params, option)
    if problem:
        module.fail_json(msg=problem)


def fail_on_policy_error(module, entries):
    """``(entries, waivers)`` after the module's overrides and waivers, or a
    clean task failure naming the offending ID."""
    try:
        return resolve(entries, module.params["overrides"], module.params["waivers"])
    except PolicyError as exc:
        module.fail_json(msg=str(exc))


def run_check_module(argument_spec, catalogue_areas, check, errors, required_if=None):
    """The whole of a read-only check module: its options plus waivers and
    overrides, ``check(params, entries, waivers, module)`` over the entries of
    ``catalogue_areas``, and its result fields; ``errors`` (bad input) end the
    task with their message."""
    module = AnsibleModule(argument_spec=dict(argument_spec, **POLICY_ARGS), required_if=required_if,
                           supports_check_mode=True)
    fail_on_root_problem(module)
    entries, waivers = fail_on_policy_error(module, requirements(catalogue_areas))
    try:
        outcome = check(module.params, entries, waivers, module)
    except errors as exc:
        module.fail_json(msg=str(exc))
    except Unreadable as exc:  # an input the check does not handle itself: nothing judged
        results = unknown_results(entries, waivers, str(exc))
        outcome = dict(results=results, summary=summarize(results), error=str(exc))
    module.exit_json(changed=False, **outcome)


def refuse_without_root(module, what, roots):
    """End the task before anything is written when this run may not change
    one of ``roots`` (privilege.refusal); check mode changes nothing, so it
    runs."""
    if module.check_mode:
        return
    for root in roots:
        why = refusal(what, root)
        if why:
            module.fail_json(msg=why, changed=False)
