#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: sysctl_baseline
short_description: Apply Compute Engine's kernel runtime settings (SYSCTL-*) persistently and live
version_added: 0.1.0
description:
  - Brings every C(SYSCTL-*) requirement of the collection's catalogue to compliance in one
    call, and returns one result per requirement ID.
  - Writes one drop-in under C(/etc/sysctl.d) atomically (temporary file, fsync, rename;
    root-owned, mode 0644) and sets the live values through C(/proc/sys). A file rewritten
    (the drop-in, a file whose lines are neutralised) keeps its mode, owner, group and extended
    attributes (its SELinux label).
  - A file already at the drop-in's name without the collection's C(guestready.gce) header is
    someone else's. It is not replaced, and the task fails saying so.
  - Never weakens a stricter setting; level keys (C(kernel.kptr_restrict),
    C(kernel.yama.ptrace_scope), C(kernel.perf_event_paranoid), C(kernel.randomize_va_space),
    ...) keep the strictest of the expectation, the live value and what other files set; a value
    outside the range the kernel accepts for the key (C(kernel.kptr_restrict = 5)) is not stricter
    but a conflict, since the kernel refuses it.
  - Reaches the effective value on every existing IPv4 interface, using the kernel's rule for
    combining C(net.ipv4.conf.all.*) with each interface's own value; interfaces whose own
    value matters get their own lines in the drop-in, so they stay compliant after a reboot.
    Where C(systemd-sysctl) applies them at boot, a glob over interface names
    (C(net.ipv4.conf.*.send_redirects = 0)) also reaches interfaces that exist before it runs (a NIC
    the initramfs brought up, a second or renamed NIC), which keep the kernel's defaults otherwise.
  - Names, for every key, the file and line that wins in the boot loader's order, and reports
    files that set a non-compliant value after the drop-in (in C(systemd-sysctl) or
    C(sysctl --system) order) as conflicts.
  - Keys the kernel does not have (C(kernel.yama.ptrace_scope) without Yama) are reported as
    C(unsupported), never written and never a failure of the task.
  - Inside a chroot or with O(root) set, only files change; the live kernel is the build
    host's and is never touched.
author:
  - guestready.gce contributors (@guestready-gce)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - guestready.gce.policy
  - guestready.gce.run_cache
  - guestready.gce.sysctl
attributes:
  check_mode:
    support: full
    details: Nothing is written; results describe the current state and RV(results[].changed) says what would change.
  diff_mode:
    support: full
    details: Shows the drop-in's diff and the diff of every file whose lines are neutralised, from
      the state read before anything is written; never the content of a file outside O(root).
  platform:
    platforms: posix
options:
  apply_live:
    description:
      - Whether to set live values. V(auto) sets them unless the module runs in a chroot, against
        an O(root) other than C(/), or where C(/proc/sys) is absent.
    type: str
    choices: [auto, always, never]
    default: auto
  neutralize:
    description:
      - What to do with lines of other sysctl files that are weaker than the requirement. A
        neutralised line stays in its file, commented out behind a C(# guestready.gce neutralised)
        marker that names the requirement ID, so nothing the user wrote is lost; the files are
        listed in RV(neutralized) and their diffs shown in diff mode.
      - V(winning) comments out the weaker lines that would still win at boot once the drop-in is
        in place (a later-sorting file, C(/etc/sysctl.conf) under C(sysctl --system), an
        interface's own line that beats the drop-in's, or any line for an interface the host does not
        have now, which udev applies when it appears), so the host is compliant when it boots.
      - V(all) also comments out weaker lines that lose (overridden by a later file), so every
        weaker line any loader reads, as configuration scanners (OpenSCAP, CIS benchmarks) want.
        Files a loader masks are never read, so never touched.
      - V(none) changes no other file; weaker winning lines are reported as conflicts.
    type: str
    choices: [winning, all, none]
    default: winning
  lock_timeout:
    description:
      - Seconds to wait for another run that is changing the same root (one writer at a time per
        target, shared by every guestready.gce run that changes files there) before
        failing with the holder's process ID.
    type: int
    default: 300
  per_interface:
    description:
      - Also set and persist the own value of every existing interface where the kernel's
        combination rule makes it matter (C(send_redirects), C(accept_redirects), C(rp_filter)),
        and, under C(systemd-sysctl), the same value for every interface name by a glob (not when
        the key's C(default) or C(all) requirement is waived, nor when an override gives them different
        values, since the glob also reaches every interface created later).
      - With C(false), no glob is added for existing interfaces; a glob line the drop-in already has
        stays (it only makes interfaces stricter, and another file's weaker glob may need it).
      - An interface name holding C(*), C(?) or C([) (Linux allows them) is written with each such
        character as a bracket expression (C(veth[[]1]) for C(veth[1])), so that the loaders' glob
        names that interface only. A name holding C(=) gets no line (it would end the key); the drop-in
        has a comment naming it.
    type: bool
    default: true
notes:
  - The same checks without changes are made by M(guestready.gce.sysctl_baseline_info).
  - Where another file's glob over interface names (systemd's C(net.ipv4.conf.*.rp_filter = 2))
    would weaken interfaces created after boot, the drop-in writes the same glob with the expected
    value; it is read last, so the other file stays as it is.
  - The version of C(systemd-sysctl) is read from the name of the tree's C(libsystemd-shared-NNN.so),
    or, without that library (systemd 219 of RHEL 7, 229 of Ubuntu 16.04), from the version text in
    C(systemd-sysctl) itself; when neither tells it, a modern version is assumed.
    Before 243 it takes a leading C(-) as part of the key, and before 245 it reads no glob; such lines
    set nothing at boot and are judged so (with a warning), the drop-in's interface lines have no C(-)
    there, and no glob is written (its header says that interfaces it does not name keep the
    kernel's defaults). RHEL 8's systemd 239 reads the C(-) since release 239-57.el8 (RHEL 8.6), but no glob.
  - Requirement IDs and values are listed in the collection's C(docs/requirements.md).
  - Changing the running system or a tree owned by another user needs root (C(become)); without
    it the task fails before anything is written, with one message saying so. Check mode still
    runs. An image tree owned by the connecting user may be changed without root.
seealso:
  - module: guestready.gce.sysctl_baseline_info
  - module: ansible.posix.sysctl
"""

EXAMPLES = r"""
- name: Apply the kernel settings Compute Engine images should have
  guestready.gce.sysctl_baseline:

- name: A NAT gateway must forward; hide kernel pointers from root too
  guestready.gce.sysctl_baseline:
    waivers:
      SYSCTL-IP_FORWARD: NAT gateway (change NET-123)
    overrides:
      SYSCTL-KPTR_RESTRICT: 2

- name: Harden an image mounted on the build host (files only)
  guestready.gce.sysctl_baseline:
    root: /mnt/image
  delegate_to: localhost
"""

RETURN = r"""
results:
  description:
    - One record per C(SYSCTL-*) requirement, in catalogue order, describing the state after the
      run (in check mode, the current state).
  returned: always
  type: list
  elements: dict
  contains:
    id: {description: Requirement ID., type: str, sample: SYSCTL-RP_FILTER-ALL}
    area: {description: The requirement's area in the catalogue., type: str, sample: sysctl}
    severity:
      description: C(required) or C(recommended), from the catalogue (the report's gate fails on
        required IDs, and on recommended ones when strict).
      type: str
      sample: recommended
    title: {description: The requirement's title in the catalogue., type: str, sample: Hide kernel addresses}
    status:
      description: One of C(pass), C(fail), C(unsupported), C(unknown), C(waived).
      type: str
      sample: pass
    expected: {description: The value required (after overrides)., type: raw, sample: 1}
    actual: {description: The live value (null without a live kernel)., type: raw, sample: 1}
    evidence:
      description: Where the value was read (C(proc), the key's path under C(/proc/sys)) and the loader
        order the files were judged in (C(load_order), C(systemd) or C(procps); absent when a sysctl
        file could not be read).
      type: dict
      sample: {proc: /proc/sys/kernel/kptr_restrict, load_order: systemd}
    key: {description: The sysctl key., type: str, sample: net.ipv4.conf.all.rp_filter}
    before: {description: Live value before the run., type: str, sample: "2"}
    after: {description: Live value after the run., type: str, sample: "1"}
    persisted:
      description: Value the boot-time loader ends with after a reboot (files in /run/sysctl.d, a tmpfs,
        left out); null when nothing persists it.
      type: str
      sample: "1"
    winner:
      description: File, line and value that win in the boot loader's order.
      type: dict
      sample: {file: /etc/sysctl.d/zz-guestready-gce.conf, line: 25, value: "1"}
    conflicts:
      description: Non-compliant assignments that win under a loader (C(systemd), C(procps), or
        C(systemd after a reboot) without /run/sysctl.d), each line once per loader; C(value) null
        for a bare C(-key) that removes the key's assignment (or, under C(systemd), a bare glob such
        as C(-net.ipv4.conf.*.rp_filter) that removes the same glob); C(interfaces_created_later) true
        for a glob line that systemd-sysctl applies to every interface created after boot;
        C(refused) the values the kernel accepts, for a value it refuses (the key then keeps its
        earlier value); C(reset_by) (file:line), for C(net.ipv4.conf.all.accept_redirects), the
        line that turns IPv4 forwarding off again after the key's last write, which makes the kernel
        set it to 1 (the conflict's own line is the one that turned forwarding on, and C(value) 1).
      type: list
      elements: dict
    overridden:
      description: Non-compliant assignments in files that a later file overrides, in the order
        they are loaded; the first 20 (C(overridden_more) counts the others).
      type: list
      elements: dict
    overridden_more:
      description: How many more overridden assignments there are than C(overridden) lists.
      type: int
      returned: when more than 20
    interfaces:
      description: For C(net.ipv4.conf.all.*) keys, per interface the own value, forwarding
        flag, effective value and whether it complies.
      type: dict
      sample: {eth0: {own: 2, forwarding: 0, effective: 2, compliant: false}}
    changed: {description: Whether this run changed (or would change) the key., type: bool}
    message: {description: One line saying what was found., type: str}
    remediation: {description: What to do when it fails., type: str}
    waiver: {description: "The waiver's reason (when waived).", type: str}
summary:
  description: Number of results per status.
  returned: always
  type: dict
  sample: {pass: 21, unsupported: 1, fail: 0, waived: 0}
file:
  description: The drop-in's path.
  returned: always
  type: str
  sample: /etc/sysctl.d/zz-guestready-gce.conf
neutralized:
  description: Files whose lines were (or would be) neutralised.
  returned: always
  type: list
  elements: str
warnings_from_files:
  description: Lines of sysctl files that are not assignments, and entries of the sysctl
    directories that are not regular files (a FIFO, a socket, a device) or are symbolic links to
    a missing file, which are never read.
  returned: always
  type: list
  elements: str
removed_temporaries:
  description: Temporary files that an interrupted earlier run left beside the drop-in and this
    run removed (in check mode, would remove; only files whose process is gone, under the target's
    lock). Removing them is a change.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.guestready.gce.plugins.module_utils import bytecode

bytecode.install()  # the collection's code imported below is kept compiled between executions

from ansible_collections.guestready.gce.plugins.module_utils import sysctl as loader
from ansible_collections.guestready.gce.plugins.module_utils.catalogue import requirements
from ansible_collections.guestready.gce.plugins.module_utils.module import (
    POLICY_ARGS, GuestModule, fail_on_policy_error, fail_on_root_problem, refuse_without_root)
from ansible_collections.guestready.gce.plugins.module_utils.results import summarize
from ansible_collections.guestready.gce.plugins.module_utils.sysctl_baseline import (
    APPLY_ARGUMENT_SPEC, INFO_ARGUMENT_SPEC, apply_sysctl)


def main():
    module = GuestModule(
        argument_spec=dict(INFO_ARGUMENT_SPEC, **dict(APPLY_ARGUMENT_SPEC, **POLICY_ARGS)),
        supports_check_mode=True,
    )
    fail_on_root_problem(module)
    entries, waivers = fail_on_policy_error(module, requirements("sysctl"))
    refuse_without_root(module, "guestready.gce.sysctl_baseline", [module.params["root"]])
    try:
        outcome = apply_sysctl(module.params, entries, waivers, module)
    except loader.SysctlError as exc:
        module.fail_json(msg=str(exc))
    errors = outcome.pop("errors")
    if not module._diff:  # whole files before and after: only when asked for (--diff), as compliance does
        outcome.pop("diff", None)
    outcome["summary"] = summarize(outcome["results"])
    if errors:
        module.fail_json(msg="; ".join(errors), **outcome)
    module.exit_json(**outcome)


if __name__ == "__main__":
    main()
