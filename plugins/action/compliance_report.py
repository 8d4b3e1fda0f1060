# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build the run's reports on the controller from the results the roles
registered on each host (see plugins/modules/compliance_report.py)."""

import datetime
import os

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible_collections.guestready.gce.plugins.plugin_utils import report


def plain(value):
    """Registered results as plain JSON types (2.19 tags its data)."""
    if isinstance(value, dict):
        return dict((str(key), plain(item)) for key, item in value.items())
    if isinstance(value, (list, tuple, set)):
        return [plain(item) for item in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        dummy, args = self.validate_argument_spec(argument_spec=dict(
            hosts=dict(type="list", elements="str", required=True),
            output_dir=dict(type="path"),
            strict=dict(type="bool", default=False),
            result_vars=dict(type="list", elements="str", default=list(report.RESULT_VARS)),
            run_name=dict(type="str", default="run"),
        ))
        started = datetime.datetime.now(datetime.timezone.utc)
        directory = args["output_dir"] or os.path.join(
            os.getcwd(), "reports", "%s-%s" % (started.strftime("%Y%m%dT%H%M%SZ"), args["run_name"]))
        hostvars = task_vars.get("hostvars", {})
        reports = []
        for host in args["hosts"]:
            variables = hostvars[host] if host in hostvars else {}
            registered = dict((var, plain(variables.get(var))) for var in args["result_vars"]
                              if variables.get(var) is not None)
            reports.append(report.host_report(host, registered, args["result_vars"]))
        summary = report.fleet_summary(reports, args["strict"], started.isoformat(),
                                       extra={"run": args["run_name"]})
        try:
            paths = report.write_reports(directory, reports, summary, args["strict"])
        except OSError as exc:
            raise AnsibleActionFail("cannot write the reports to %s: %s" % (directory, exc))
        result.update(changed=False, report_dir=directory, paths=paths,
                      table=report.text_table(summary), gate_failed=summary["gate_failed"],
                      failing_hosts=sorted(h for h, v in summary["hosts"].items()
                                           if v["verdict"] == "fail"),
                      totals=summary["totals"])
        return result
