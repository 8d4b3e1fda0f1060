# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The requirement areas as one registry, and one run over them.

Every area is a function the combined modules call, not another task: a
module execution costs seconds on a small or emulated guest, so
``compliance_info`` checks and ``compliance`` applies and checks every area
in one execution per host.

An area names the catalogue areas it judges, its options (``spec``, checked
like a module's), ``check(params, entries, waivers, module)`` returning the
module's result fields, the exceptions that mean bad input, and, for areas
that change the host, ``apply_spec`` and ``apply(...)`` with the same
signature, returning the fields plus ``changed``, ``diff`` and ``errors``.

``image_params``: the options an area gets, besides ``root``, when it runs on
a disk image's mounted tree (the disk_image module runs every area whose
options include ``root``; the image's own kernels, not the running one).
"""

import json

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import UnsupportedError
from ansible_collections.guestready.gce.plugins.module_utils import devices, gce_settings, kconfig
from ansible_collections.guestready.gce.plugins.module_utils import sysctl as loader
from ansible_collections.guestready.gce.plugins.module_utils import sysctl_baseline
from ansible_collections.guestready.gce.plugins.module_utils.catalogue import CATALOGUE, requirements
from ansible_collections.guestready.gce.plugins.module_utils.module import (
    displayable, fail_on_policy_error, refuse_without_root, root_problem)
from ansible_collections.guestready.gce.plugins.module_utils.privilege import unknown_results
from ansible_collections.guestready.gce.plugins.module_utils.results import record, summarize
from ansible_collections.guestready.gce.plugins.module_utils.target import Unreadable


class Area(object):
    def __init__(self, name, catalogue_areas, spec, check, errors, required_if=None,
                 apply_spec=None, apply=None, image_params=None):
        self.name, self.catalogue_areas, self.spec = name, catalogue_areas, spec
        self.check, self.errors, self.required_if = check, errors, required_if
        self.apply_spec, self.apply = apply_spec, apply
        self.image_params = image_params or {}

    def validate(self, params, applying=False, apply_options=False):
        """``(validated options, error messages)`` of ``params`` against the
        area's spec (plus its apply options when ``applying`` or
        ``apply_options``)."""
        spec = self.spec
        if applying or apply_options:
            spec = dict(self.spec, **(self.apply_spec or {}))
        validated = ArgumentSpecValidator(spec, required_if=self.required_if).validate(params)
        # the validator's message for an unknown option names it only: say what is wrong, as AnsibleModule does
        messages = [("unsupported parameters: %s" % error.error_message) if isinstance(error, UnsupportedError)
                    else error.error_message for error in validated.errors]
        return validated.validated_parameters, messages


AREAS = [
    Area("sysctl", ("sysctl",), sysctl_baseline.INFO_ARGUMENT_SPEC, sysctl_baseline.check_sysctl,
         (loader.SysctlError,), apply_spec=sysctl_baseline.APPLY_ARGUMENT_SPEC,
         apply=sysctl_baseline.apply_sysctl),
    Area("kernel_config", kconfig.AREAS, kconfig.ARGUMENT_SPEC, kconfig.check_kernels,
         (kconfig.KconfigError,), required_if=kconfig.REQUIRED_IF,
         image_params={"source": "installed"}),
    Area("hardware", ("hardware",), devices.ARGUMENT_SPEC, devices.check_hardware,
         (devices.HardwareError,), image_params={"mode": "offline"}),
    Area("gce_settings", ("gce",), gce_settings.ARGUMENT_SPEC, gce_settings.check_gce,
         (gce_settings.GceError,), apply_spec=gce_settings.APPLY_ARGUMENT_SPEC,
         apply=gce_settings.apply_gce),
]
BY_NAME = dict((area.name, area) for area in AREAS)
NAMES = [area.name for area in AREAS]
APPLICABLE = [area.name for area in AREAS if area.apply]
_ORDER = dict((entry["id"], index) for index, entry in enumerate(CATALOGUE))


def module_options(applying=False):
    """The combined modules' options: the areas to handle and a dict of
    options per area."""
    options = dict(areas=dict(type="list", elements="str", choices=NAMES, default=NAMES),
                   results_format=dict(type="str", choices=["list", "json"], default="list"))
    for area in AREAS:
        options[area.name] = dict(type="dict", default={})
    if applying:
        options["apply"] = dict(type="list", elements="str", choices=APPLICABLE, default=APPLICABLE)
    return options


def _area_params(module, area, applying, apply_options):
    """An area's options, checked like a module's.  ``apply_options``: the
    area's apply options are accepted (and ignored) when it is only checked,
    so one inventory variable serves a playbook that applies and one that
    checks."""
    params, errors = area.validate(module.params[area.name], applying, apply_options)
    if not errors:
        errors = [problem for problem in [root_problem(params)] if problem]
    if errors:
        module.fail_json(msg="%s: %s" % (area.name, "; ".join(errors)))
    return params


def run_areas(work, entries, waivers, module):
    """Apply or check each area of ``work`` (``[(area, params, applying)]``)
    in this process.  Returns ``(results, details, errors, diffs, changed)``:
    every area's result records in catalogue order, its other return values
    (or ``{"error": ...}`` when it could not be handled), the error messages,
    the diffs, and whether anything changed."""
    results, details, errors, diffs, changed = [], {}, [], [], False
    for area, params, applying in work:
        area_entries = [entry for entry in entries if entry["area"] in area.catalogue_areas]
        handle = area.apply if applying else area.check
        try:
            outcome = handle(params, area_entries, waivers, module)
        except area.errors as exc:
            errors.append("%s: %s" % (area.name, exc))
            details[area.name] = {"error": str(exc)}
            continue
        except Unreadable as exc:
            if applying:
                errors.append("%s: %s" % (area.name, exc))
            # an input the area does not handle itself: nothing judged
            outcome = dict(results=unknown_results(area_entries, waivers, str(exc)), error=str(exc))
        results.extend(outcome.pop("results"))
        outcome.pop("summary", None)
        diffs.extend(outcome.pop("diff", []))
        errors.extend("%s: %s" % (area.name, error) for error in outcome.pop("errors", []))
        changed = outcome.pop("changed", False) or changed
        details[area.name] = outcome
    results.sort(key=lambda result: _ORDER[result["id"]])
    return results, details, errors, diffs, changed


def add_not_run_waivers(results, entries, waivers, left_out):
    """``results`` plus a waived record for each waiver of an area in
    ``left_out`` (--tags sysctl, a waiver of HW-*), in catalogue order:
    requirements.md section 4 wants a waiver shown as waived in every report,
    never dropped without a word.  Nothing was found, and the message says
    the ID was not checked.  ``entries`` has the areas' entries.  A run that
    judged nothing gets none: the report says that nothing was checked."""
    if not results:
        return results
    results = list(results)
    for area in left_out:
        for entry in entries:
            if entry["area"] in area.catalogue_areas and entry["id"] in waivers:
                reason = waivers[entry["id"]]
                results.append(record(entry, "waived", waiver=reason, message="waived: %s (not checked: the %s area "
                                      "was not run)" % (reason, area.name)))
    return sorted(results, key=lambda result: _ORDER[result["id"]])


def _jsonable(value):
    return sorted(value) if isinstance(value, (set, frozenset)) else str(value)


_ENCODE = json.JSONEncoder(separators=(",", ":"), default=_jsonable).encode


def results_json(results, details):
    """``results`` and ``areas`` as one compact JSON text (results_format=json),
    one record per line: a fleet's controller keeps one string per host, not
    thousands of objects, and the report takes each record's text from its
    line, keeping decoded only the records it meets on more than one host."""
    return '{"results":[\n%s\n],"areas":%s}' % (",\n".join(map(_ENCODE, results)), _ENCODE(details))


def _drop_repeated_kernel_results(kernel_config):
    """The chosen kernel's entry in ``kernels`` without its ``results``: they
    are the KCONF-* records of the module's own results, and repeating them
    made every host's answer a sixth larger (a fleet's controller holds each
    answer several times)."""
    chosen = (kernel_config or {}).get("kernel")
    for kernel in (kernel_config or {}).get("kernels") or []:
        if kernel.get("release") == chosen:
            kernel.pop("results", None)
            return


def run(module, apply=(), apply_options=False):
    """Apply the areas in ``apply`` and check the other selected areas, all
    in this execution; end the module with every area's results in
    catalogue order.  An area that cannot be handled (bad input) fails the
    task with its message; the other areas' results are still returned."""
    names = [name for name in NAMES if name in module.params["areas"]]
    if not names:  # checking nothing must not end as a passing task
        module.fail_json(msg="areas: %r selects no area: nothing would be checked; give one or more of %s"
                         % (module.params["areas"], ", ".join(NAMES)))
    applying = [name for name in names if name in apply]
    areas = [BY_NAME[name] for name in names]
    # every area's entries: the waivers of the areas left out are reported too
    entries, waivers = fail_on_policy_error(module, requirements(tuple(c for area in AREAS for c in area.catalogue_areas)))
    work = [(area, _area_params(module, area, area.name in applying, apply_options), area.name in applying)
            for area in areas]
    if applying:
        refuse_without_root(module, "guestready.gce.compliance (%s)" % ", ".join(applying),
                            sorted(set(params["root"] for area, params, apply in work if apply)))
    results, details, errors, diffs, changed = run_areas(work, entries, waivers, module)
    results = add_not_run_waivers(results, entries, waivers, [area for area in AREAS if area not in areas])
    _drop_repeated_kernel_results(details.get("kernel_config"))
    outcome = dict(changed=changed, results=results, summary=summarize(results), areas=details)
    if applying:
        outcome["applied"] = applying
        if module._diff:  # whole files before and after: only when asked for (--diff)
            outcome["diff"] = diffs
    if module.params["results_format"] == "json":
        # displayable before encoding: the text's \u escapes would bring the surrogates back
        outcome["results_json"] = results_json(*displayable((outcome.pop("results"), outcome.pop("areas"))))
    if errors:
        module.fail_json(msg="; ".join(errors), **outcome)
    module.exit_json(**outcome)
