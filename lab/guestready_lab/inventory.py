"""Ansible YAML inventory of the running lab guests, grouped by profile."""

import json
import os

from .util import state_dir

SSH_COMMON_ARGS = ("-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
                   "-o LogLevel=ERROR")


def default_path():
    return os.path.join(state_dir(), "inventory.yml")


def _scalar(v):
    # JSON scalars are valid YAML flow scalars; quoting every string keeps YAML from
    # reinterpreting values such as "on", "no" or "0x8086".
    return json.dumps(v)


def render(guests, user=None):
    """YAML text. `user` (default: each guest's login_user, root if unset) is the user Ansible
    logs in as; any other user than root becomes root with sudo (ansible_become)."""
    groups = {}
    for g in sorted(guests, key=lambda g: g["name"]):
        groups.setdefault(g["profile"], []).append(g)
    lines = ["# Ansible inventory of the running guestready lab guests.",
             "# Written by `lab up` / `lab inventory`; regenerated on every change. Do not edit.",
             "all:", "  children:"]
    if not groups:
        lines[-1] = "  children: {}"
    for profile in sorted(groups):
        lines += ["    %s:" % profile, "      hosts:"]
        for g in groups[profile]:
            login = user or g.get("login_user") or g["ssh_user"]
            hv = {
                "ansible_host": g["ssh_host"],
                "ansible_port": g["ssh_port"],
                "ansible_user": login,
                "ansible_ssh_private_key_file": g["ssh_key"],
                "ansible_python_interpreter": "/usr/bin/python3",
                "ansible_ssh_common_args": SSH_COMMON_ARGS,
                "guestready_lab_profile": g["profile"],
                "guestready_lab_net": g["net"],
                "guestready_lab_accel": g["accel"],
                "guestready_lab_gaps": sorted({gap["id"] for gap in g.get("gaps", []) if gap["id"] != "-"}),
                # IDs the profile deliberately fails (device variants): checks must flag them
                "guestready_lab_deviations": sorted(g.get("deviations", {})),
            }
            if login != "root":
                hv["ansible_become"] = True
            lines.append("        %s:" % g["name"])
            for k, v in hv.items():
                lines.append("          %s: %s" % (k, _scalar(v)))
    return "\n".join(lines) + "\n"


def write(guests, path=None, user=None):
    path = os.path.abspath(path or default_path())
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp.%d" % os.getpid()
    with open(tmp, "w") as f:
        f.write(render(guests, user))
    os.replace(tmp, path)
    return path
