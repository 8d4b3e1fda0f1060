# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark callback: count module executions on each managed host.

A module execution is one run of a module on a host: each item of a looped
task counts, tasks the controller handles itself (set_fact, debug, assert,
includes, tasks delegated to localhost, the report action) do not.  Writes
``{host: {"modules": n, "changed": n}}`` as JSON to $GUESTREADY_BENCH_COUNTS.
"""

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: count_modules
type: aggregate
short_description: count module executions per host (benchmarks)
description: Counts module executions per managed host and writes them to $GUESTREADY_BENCH_COUNTS.
"""

CONTROLLER_ACTIONS = {
    "set_fact", "debug", "assert", "fail", "meta", "include_role", "import_role",
    "include_tasks", "import_tasks", "add_host", "group_by", "include_vars", "pause",
    "compliance_report", "validate_argument_spec",
}


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "count_modules"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self.counts = {}

    def _counts(self, result):
        task = result._task
        action = task.action.rsplit(".", 1)[-1]
        delegated = task.delegate_to not in (None, "", result._host.name)
        if action in CONTROLLER_ACTIONS or delegated or result._host.name == "localhost":
            return None
        return self.counts.setdefault(result._host.name, {"modules": 0, "changed": 0})

    def _record(self, result, is_item=False):
        counts = self._counts(result)
        if counts is None:
            return
        if not is_item and "results" in result._result and result._task.loop is not None:
            return  # the loop's summary: its items were counted one by one
        counts["modules"] += 1
        if result._result.get("changed"):
            counts["changed"] += 1

    def v2_runner_on_ok(self, result):
        self._record(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result)

    def v2_runner_item_on_ok(self, result):
        self._record(result, is_item=True)

    def v2_runner_item_on_failed(self, result):
        self._record(result, is_item=True)

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("GUESTREADY_BENCH_COUNTS")
        if path:
            with open(path, "w") as handle:
                json.dump(self.counts, handle, indent=1, sort_keys=True)
