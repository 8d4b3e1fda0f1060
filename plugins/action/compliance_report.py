# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build the run's reports on the controller from the results the roles
registered on each host, and/or merge earlier runs' report directories (see
plugins/modules/compliance_report.py)."""

import datetime
import itertools
import os

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible_collections.guestready.gce.plugins.plugin_utils import report


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        dummy, args = self.validate_argument_spec(argument_spec=dict(
            hosts=dict(type="list", elements="str", default=[]),
            merge=dict(type="list", elements="path", default=[]),
            output_dir=dict(type="path"),
            strict=dict(type="bool", default=False),
            result_vars=dict(type="list", elements="str", default=list(report.RESULT_VARS)),
            run_name=dict(type="str", default="run"),
        ))
        started = datetime.datetime.now(datetime.timezone.utc)
        hosts = [str(host) for host in args["hosts"]]
        directory = created = None
        try:
            if args["output_dir"]:
                directory = report.prepare_directory(args["output_dir"])
            else:
                directory = created = report.new_directory(os.path.join(os.getcwd(), "reports"), "%s-%s" % (
                    started.strftime("%Y%m%dT%H%M%SZ"), report.readable(args["run_name"])))
            reports = report.host_reports(hosts, task_vars.get("hostvars", {}), args["result_vars"],
                                          started.isoformat())
            extra = {"run": args["run_name"]}
            if args["merge"]:
                # realpath: an output directory that is a link to a source would overwrite it
                if os.path.realpath(directory) in [os.path.realpath(d) for d in args["merge"]]:
                    raise report.ReportError("cannot merge into %s: it is one of the directories merged" % directory)
                merged, extra["merged"] = report.merge_sources(args["merge"], run_hosts=hosts)
                reports = itertools.chain(reports, merged)
            paths, summary = report.write_reports(directory, reports, args["strict"], started.isoformat(), extra)
        except report.ReportError as exc:
            if created and not os.listdir(created):
                os.rmdir(created)  # the run's own new directory: an empty one would look like a report
            raise AnsibleActionFail(str(exc))
        result.update(changed=False, report_dir=directory, paths=paths,
                      table=report.text_table(summary), gate_failed=summary["gate_failed"],
                      gate_message=report.gate_message(summary),
                      failing_hosts=sorted(h for h, v in summary["hosts"].items() if v["verdict"] == "fail"),
                      totals=summary["totals"], stats=report.artifacts(summary, paths))
        return result
