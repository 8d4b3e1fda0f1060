# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every guestready.gce module shares: the policy options, and the
main() of a read-only check."""

import json
import os
import re

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.guestready.gce.plugins.module_utils.catalogue import requirements
from ansible_collections.guestready.gce.plugins.module_utils.policy import PolicyError, resolve
from ansible_collections.guestready.gce.plugins.module_utils.privilege import refusal, unknown_results
from ansible_collections.guestready.gce.plugins.module_utils.results import summarize
from ansible_collections.guestready.gce.plugins.module_utils.target import Unreadable

# what os.fsdecode() makes of bytes that are not UTF-8 (a file, interface or mount point named
# in Latin-1): lone surrogates, which ansible-core refuses in an answer ("Refusing to
# deserialize an invalid UTF8 string value") and JSON readers may too
_SURROGATE = re.compile(u"[\ud800-\udfff]")


def _escape(found):
    char = found.group(0)
    return "\\x%02x" % (ord(char) - 0xdc00) if u"\udc80" <= char <= u"\udcff" else "\\u%04x" % ord(char)


def displayable(value):
    """``value`` (a module's answer: dicts, lists, text) with every text
    valid UTF-8: a byte os.fsdecode() kept as a surrogate shown as ``\\xNN``.
    The answer itself when it already is (one C-level pass over it)."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
        return value
    except (UnicodeError, TypeError, ValueError):
        return _escaped(value)


def _escaped(value):
    if isinstance(value, str):
        return _SURROGATE.sub(_escape, value)
    if isinstance(value, dict):
        return dict((_escaped(key), _escaped(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [_escaped(item) for item in value]
    if isinstance(value, (set, frozenset)):   # as the answer's JSON has them: sorted lists
        return sorted(_escaped(item) for item in value)
    return value


class GuestModule(AnsibleModule):
    """The AnsibleModule of every guestready.gce module: its answer, its
    failure and its warnings are ``displayable``, whatever names the
    system it judged gave its files and interfaces."""

    def exit_json(self, **kwargs):
        AnsibleModule.exit_json(self, **displayable(kwargs))

    def fail_json(self, msg, **kwargs):
        AnsibleModule.fail_json(self, displayable(msg), **displayable(kwargs))

    def warn(self, warning):
        AnsibleModule.warn(self, displayable(warning))


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
    module = GuestModule(argument_spec=dict(argument_spec, **POLICY_ARGS), required_if=required_if,
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
