# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Assess and plan the SYSCTL-* requirements: shared by sysctl_baseline
(which applies the plan) and sysctl_baseline_info (which only assesses)."""

import copy
import functools
import os

from ansible_collections.guestready.gce.plugins.module_utils import privilege
from ansible_collections.guestready.gce.plugins.module_utils import sysctl as loader
from ansible_collections.guestready.gce.plugins.module_utils.catalogue import accepts_level, describe_levels
from ansible_collections.guestready.gce.plugins.module_utils.configfiles import commented, size_counter
from ansible_collections.guestready.gce.plugins.module_utils.results import MAX_LISTED, record, summarize, waive
from ansible_collections.guestready.gce.plugins.module_utils.target import NotUtf8, TargetError, Unreadable

# The drop-in sorts after every numbered file (Google's
# 60-gce-network-security.conf, Debian's 99-sysctl.conf -> /etc/sysctl.conf,
# 99-protect-links.conf) and after unnumbered package files: what it sets wins
# at boot.  Only procps' `sysctl --system` reads /etc/sysctl.conf after it.
DEFAULT_FILE = "/etc/sysctl.d/zz-guestready-gce.conf"
MARKER = "guestready.gce"
HEADER = (
    "# Managed by guestready.gce (sysctl_baseline): the kernel settings of Compute\n"
    "# Engine's custom image requirements.  Do not edit: set waivers or overrides\n"
    "# in the inventory instead.  Named zz-* so that it is applied after every\n"
    "# numbered drop-in.\n"
)


@functools.lru_cache(maxsize=4096, typed=True)
def _int(value):
    # asked for every line of every key of every interface: a file's values are a handful
    return loader.kernel_int(value)


def refused(entry, value):
    """Why the kernel refuses ``value`` for the entry's key (the write fails
    and the key keeps the value it had), or None."""
    number = _int(value)
    if number is None:
        return "not a number it reads"
    if entry.get("bounded", True) and not accepts_level(entry, number):
        return "it accepts %s" % describe_levels(entry["levels"])
    return None


def complies(entry, value):
    """Does a value (string or int) meet the entry's expectation?  A value the
    kernel refuses never does (kptr_restrict=5 leaves the key as it was)."""
    if refused(entry, value):
        return False
    number = _int(value)
    if entry["compare"] == "at_least":
        return number >= int(entry["expected"])
    return number == int(entry["expected"])


def boot_loader(root="/"):
    """The loader that applies sysctl.d at boot on this tree."""
    target = loader.as_target(root)
    for path in ("/run/systemd/system", "/lib/systemd/systemd-sysctl",
                 "/usr/lib/systemd/systemd-sysctl"):
        if target.exists(path):
            return "systemd"
    return "procps"


BOOT_INTERFACES = ("lo",)


class Observation(object):
    """Live values of the keys the entries need, and the interfaces."""

    def __init__(self, entries, proc_root="/proc", live=True):
        self.live = live
        self.values = {}
        self.errors = {}
        # Without a live kernel (an image, a chroot) there are no interfaces to list, but
        # the booted system will have the loopback device before any sysctl loader runs:
        # it keeps its own value, which the kernel combines with `all` (send_redirects is
        # OR'ed), so its line is written too.  Found by booting a hardened image (tests/disk).
        self.interfaces = loader.ipv4_interfaces(proc_root) if live else list(BOOT_INTERFACES)
        keys = set(loader.normalize_key(e["key"]) for e in entries)
        for entry in entries:
            if entry["combine"]:
                leaf = entry["key"].rsplit(".", 1)[1]
                for name in self.interfaces:
                    keys.add("net/ipv4/conf/%s/%s" % (name, leaf))
        for name in self.interfaces:
            keys.add("net/ipv4/conf/%s/forwarding" % name)
        for key in sorted(keys):
            if not live:
                self.errors[key] = "no live kernel (chroot or image root)"
                continue
            value, error = loader.read_live(key, proc_root)
            if error:
                self.errors[key] = error
            else:
                self.values[key] = value


def interface_key(entry, name):
    return "net/ipv4/conf/%s/%s" % (name, entry["key"].rsplit(".", 1)[1])


def per_interface_needed(entry):
    return bool(entry["combine"]) and not loader.all_value_decides(entry["combine"], entry["expected"])


def strictest_values(entries, histories):
    """``{key: value}``: for level keys, the strictest value any file the
    loaders read assigns (the drop-in's own earlier value included).  Values
    the key does not accept are ignored: the kernel would refuse them."""
    strictest = {}
    for entry in entries:
        if entry["compare"] != "at_least":
            continue
        key = loader.normalize_key(entry["key"])
        for history in histories.values():
            for assignment in history.get(key, []):
                number = _int(assignment["value"])
                if number is None or not accepts_level(entry, number):
                    continue
                if key not in strictest or number > strictest[key]:
                    strictest[key] = number
    return strictest


def policy_line(entries, waivers):
    """The drop-in's record of the policy it was written under, so that a
    run with another policy says it replaces it."""
    overrides = ["%s=%s" % (e["id"], e["expected"]) for e in entries if "overridden_from" in e]
    return "# Policy: waivers: %s; overrides: %s\n" % (
        ", ".join(sorted(waivers)) or "none", ", ".join(sorted(overrides)) or "none")


def desired_file(entries, waivers, observation, strictest, per_interface=True, interface_globs=(), systemd=None,
                 procps=None):
    """The drop-in's text and the ``{key: value}`` it sets.

    ``interface_globs``: the IDs whose glob over interface names the drop-in
    writes, with the expected value: ``default`` entries that another file's
    glob weakens for interfaces created later (``later_interface_lines``),
    which systemd-sysctl applies after it (the drop-in is read last), so a
    package's file such as systemd's 50-default.conf is left as shipped; and
    ``all`` entries whose interfaces need their own value, for interfaces the
    named lines do not know.  Each glob is written once, in the first block
    that needs it.

    Level keys never go down: the value written is the strictest of the
    expectation, the live value and every value a file the loaders read
    assigns (``strictest``, the drop-in's own earlier value included), so one
    run reaches the fixed point.  Keys whose write resets others
    (ip_forward) come first: procps applies every line in order, so a later
    ip_forward line would undo accept_redirects.

    ``systemd``: the boot loader's systemd version, None when unknown or not
    systemd.  Before 243 an interface's line has no '-' (which that
    systemd-sysctl reads as part of the key); before 245 its name is written
    as it is (no key is a glob there).  ``procps``: the tree's procps
    version (None: unknown): before 3.3.16 its `sysctl --system` reads the
    '-' as part of the key too, so no line has one."""
    blocks, wanted, globs, unwritable = [], {}, set(), set()
    dash = "-" if loader.reads_dashes(systemd) and loader.procps_reads_dashes(procps) else ""
    name_key = loader.literal_key if loader.reads_globs(systemd) else (lambda key: key)
    for entry in entries:
        if entry["id"] in waivers:
            continue
        key = loader.normalize_key(entry["key"])
        if observation.live and observation.errors.get(key) == "missing":
            continue  # the kernel has no such key: reported, never written
        value = int(entry["expected"])
        if entry["compare"] == "at_least":
            for candidate in (_int(observation.values.get(key)), strictest.get(key)):
                if candidate is not None and accepts_level(entry, candidate):
                    value = max(value, candidate)
        wanted[key] = value
        block = "# %s: %s\n%s = %s\n" % (entry["id"], entry["title"], loader.display_key(key), value)
        if entry["id"] in interface_globs and loader.interface_glob_key(entry["key"]) not in globs:
            globs.add(loader.interface_glob_key(entry["key"]))
            block += "%s = %s\n" % (loader.display_key(loader.interface_glob_key(entry["key"])), value)
        if per_interface and per_interface_needed(entry):
            for name in observation.interfaces:
                if "=" in name:
                    unwritable.add(name)
                    continue
                # '-': an interface gone at the next boot is not an error.  Not for the
                # loopback, which every boot has: systemd-sysctl before 243 reads the '-'
                # as part of the key (systemd#13191), and lo's own value is the one the
                # kernel keeps (its address marks it set before systemd-sysctl runs).
                # Nor for any interface there: it only logs a key the kernel has not
                iface_key = interface_key(entry, name)
                wanted[iface_key] = int(entry["expected"])
                block += "%s%s = %s\n" % ("" if name in BOOT_INTERFACES else dash,
                                          loader.display_key(name_key(iface_key)), int(entry["expected"]))
        blocks.append((loader.write_order(key)[0], len(blocks), block))
    header = HEADER + policy_line(entries, waivers)
    for name in sorted(unwritable):
        # the loaders end a key at its first '=': no line can name this interface
        header += "# Interface %r has no lines of its own: a '=' in its name would end the key\n" % name
    if per_interface and not loader.reads_globs(systemd) and \
            any(per_interface_needed(e) and e["id"] not in waivers for e in entries):
        header += ("# systemd-sysctl %d (before %d) reads no globs: an interface not named below that exists "
                   "before it runs\n# keeps the kernel's defaults; apply sysctl_baseline again once it exists\n"
                   % (systemd, loader.SYSTEMD_GLOB))
    return as_file_text("\n".join([header] + [block for dummy, dummy, block in sorted(blocks)])), wanted


def as_file_text(text):
    """``text`` as the drop-in's file text: an interface whose name is not
    UTF-8 (os.fsdecode()'s surrogates) is named by its own bytes, in a
    ``NotUtf8`` text (what reading the file back gives)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return NotUtf8(text.encode("utf-8", "surrogateescape").decode("latin-1"))
    return text


def _conflict_text(conflict):
    if conflict["value"] is None:
        return "%s:%s removes the key's earlier assignment (a bare -key): nothing writes it at boot " \
            "(%s)" % (conflict["file"], conflict["line"], conflict["loader"])
    if conflict.get("refused"):
        return "%s:%s sets %s, which the kernel refuses (%s): the key keeps its earlier value (%s)" % (
            conflict["file"], conflict["line"], conflict["value"], conflict["refused"], conflict["loader"])
    if conflict.get("reset_by"):
        return "%s:%s turns IPv4 forwarding on and %s turns it off again, after the last line setting the key: " \
            "the kernel then sets net.ipv4.conf.all.accept_redirects to 1 (%s)" % (
                conflict["file"], conflict["line"], conflict["reset_by"], conflict["loader"])
    if conflict.get("interfaces_created_later"):
        return "%s:%s sets %s on every interface created later (udev runs systemd-sysctl for each new " \
            "interface)" % (conflict["file"], conflict["line"], conflict["value"])
    return "%s:%s sets %s, which wins for %s" % (
        conflict["file"], conflict["line"], conflict["value"], conflict["loader"])


def _where(assignment):
    where = {"file": assignment["file"], "line": assignment["line"], "value": assignment["value"],
             "text": assignment["text"].strip(), "path": assignment["path"]}
    if assignment.get("reset_by"):
        # loader.forwarding_reset(): the line turned forwarding on, a later one off again
        where["reset_by"] = "%s:%s" % (assignment["reset_by"]["file"], assignment["reset_by"]["line"])
    return where


def assess(entries, waivers, observation, histories, boot, own_file):
    """One result per entry from live values and the loaders' assignment
    histories (``{loader: {key: [assignment, ...]}}``, with what the boot
    loader applies after a reboot under ``after_reboot(boot)``).
    ``own_file``: the drop-in's name as the user sees it, or a set of the
    names the loaders read it under (``own_names``)."""
    own_files = own_file if isinstance(own_file, (set, frozenset)) else {own_file}
    results = []
    judged = judged_interfaces(observation, histories)
    for entry in entries:
        key = loader.normalize_key(entry["key"])
        live = observation.values.get(key)
        error = observation.errors.get(key)
        boot_history = histories[boot].get(key, [])
        winner = applied(boot_history)
        # /run/sysctl.d is a tmpfs: what persists is what wins without it
        kept = applied(histories.get(after_reboot(boot), histories[boot]).get(key, []))
        conflicts, overridden, seen, seen_by = [], [], set(), set()

        def conflict_with(name, assignment, later=False):
            where = (assignment["path"], assignment["line"])
            # once per line and loader: a glob reaching several interfaces is one conflict
            if (name, where) in seen_by or (name == after_reboot(boot) and where in seen):
                return
            seen.add(where)
            seen_by.add((name, where))
            conflict = _where(assignment)
            conflict["loader"] = name
            if assignment["value"] is not None and refused(entry, assignment["value"]):
                conflict["refused"] = refused(entry, assignment["value"])
            if later:
                conflict["interfaces_created_later"] = True
            conflicts.append(conflict)

        for name, history in sorted(histories.items()):
            last = history.get(key, [])
            if last and not complies(entry, last[-1]["value"]):
                conflict_with(name, last[-1])
        for name, assignment in weak_interface_lines(entry, histories, observation, judged=judged):
            conflict_with(name, assignment)
        for name, assignment in later_interface_lines(entry, entries, histories, boot):
            conflict_with(name, assignment, later=True)
        for assignment in boot_history[:-1]:
            if not complies(entry, assignment["value"]):
                overridden.append(_where(assignment))
        interfaces = {}
        # a live ``all`` that is not a number fails on its own ("live value is ...")
        if entry["combine"] and _int(live) is not None:
            for name in observation.interfaces:
                own = observation.values.get(interface_key(entry, name))
                forwarding = _int(observation.values.get("net/ipv4/conf/%s/forwarding" % name)) or 0
                if own is None:
                    continue
                if _int(own) is None:  # no effective value to judge: never a pass
                    interfaces[name] = {"own": own, "forwarding": forwarding, "effective": None, "compliant": False}
                    continue
                effective = loader.combine(entry["combine"], _int(live), _int(own), forwarding)
                interfaces[name] = {"own": _int(own), "forwarding": forwarding,
                                    "effective": effective, "compliant": complies(entry, effective)}
        persisted = kept["value"] if kept else None
        extra = {"key": entry["key"], "before": live, "after": live, "persisted": persisted,
                 "winner": _where(winner) if winner else None, "conflicts": conflicts,
                 "overridden": overridden[:MAX_LISTED], "interfaces": interfaces, "changed": False}
        if len(overridden) > MAX_LISTED:   # a hostile tree's thousands of lines would be megabytes
            extra["overridden_more"] = len(overridden) - MAX_LISTED
        evidence = {"proc": "/proc/sys/" + key, "load_order": boot}

        if not observation.live:
            # an image root or a chroot: only the files can be judged
            error = None
        if error == "missing":
            status, message = "unsupported", "the running kernel has no %s" % entry["key"]
            remediation = "build the kernel with the feature that provides %s, or waive %s" % (
                entry["key"], entry["id"])
        elif error:
            status, message = "unknown", error
            remediation = privilege.remediation(error, "run as root on the host itself")
        else:
            problems = []
            if observation.live and not complies(entry, live):
                problems.append("live value is %s" % live)
            bad = sorted(n for n, v in interfaces.items() if not v["compliant"])
            if bad:
                problems.append("effective value on %s is %s" % (
                    ", ".join(bad), ", ".join(str(interfaces[n]["effective"]) if interfaces[n]["effective"] is not None
                                              else "unknown (its own value %r is not a number)" % interfaces[n]["own"]
                                              for n in bad)))
            if winner is None:
                problems.append("not persisted in any sysctl.d file")
            elif kept is None:
                problems.append("persisted only in %s:%s, under /run (a tmpfs, empty after a reboot; it "
                                "applies again only when a loader is re-run during this boot)" % (
                                    winner["file"], winner["line"]))
            for name, default, effective in kernel_default_interfaces(entry, waivers, observation, histories, boot):
                problems.append("not persisted for %s: it keeps the kernel's default %s after a reboot (no "
                                "sysctl.d line sets %s; %s is up before systemd-sysctl runs, so default's value "
                                "never reaches it), and the effective value is %s" % (
                                    name, default, loader.display_key(interface_key(entry, name)), name, effective))
            for conflict in conflicts:
                problems.append(_conflict_text(conflict))
            status = "fail" if problems else "pass"
            if problems:
                message = "; ".join(problems)
                remediation = "apply guestready.gce.sysctl_baseline%s" % (
                    " with neutralize=winning (the default) or all, or edit the conflicting file"
                    if conflicts else "")
            else:
                message = "%s = %s, persisted in %s:%s" % (
                    entry["key"], live if observation.live else kept["value"],
                    kept["file"], kept["line"])
                if not observation.live:
                    message += " (no live kernel here: files only)"
                if kept["file"] not in own_files:
                    message += " (not the guestready.gce drop-in)"
                if (kept["path"], kept["line"]) != (winner["path"], winner["line"]):
                    message += " (%s:%s, under /run, wins until the next reboot)" % (
                        winner["file"], winner["line"])
                remediation = ""
        waiver = waivers.get(entry["id"])
        result = record(entry, status, actual=_int(live) if live is not None else None,
                        evidence=evidence, message=message, remediation=remediation, **extra)
        if waiver:
            result.update(status="waived", waiver=waiver,
                          message="waived: %s (found: %s)" % (waiver, message))
        results.append(result)
    return results


def unreadable_results(entries, waivers, observation, message):
    """Every entry ``unknown`` when a sysctl.d file or directory could not be
    read (``message`` names it): any file may set any key, so no persisted
    value is judged from the others; the live value is shown."""
    results = []
    for entry in entries:
        live = observation.values.get(loader.normalize_key(entry["key"]))
        shown = message if live is None else "%s; live value is %s" % (message, live)
        result = record(entry, "unknown", actual=_int(live) if live is not None else None,
                        evidence={"proc": "/proc/sys/" + loader.normalize_key(entry["key"])},
                        message=shown, remediation=privilege.remediation(message),
                        key=entry["key"], before=live, after=live, changed=False)
        waiver = waivers.get(entry["id"])
        results.append(waive(result, waiver) if waiver else result)
    return results


def named_interfaces(entries, assignments):
    """The interfaces a file names in a line of a per-interface key
    (``net.ipv4.conf.eth1.rp_filter = 2``): the line is written for an
    interface the host will have, though it may not exist now (an image root
    knows none but ``lo``; a second NIC may be hot-plugged).  Whenever it
    appears, the kernel copies ``default`` and udev applies the line
    (99-systemd.rules: ``systemd-sysctl --prefix=/net/ipv4/conf/<name>``), an
    explicit key that the drop-in's glob never overrides.  Its lines are
    judged as an observed interface's; the drop-in writes none for it (they
    would outlive the other file's line once it is neutralised)."""
    leaves = set(e["key"].rsplit(".", 1)[1] for e in entries if per_interface_needed(e))
    names = set()
    for assignment in assignments:
        parts = assignment["key"].split("/")
        if assignment["value"] is None or len(parts) != 5 or parts[:3] != ["net", "ipv4", "conf"] \
                or parts[4] not in leaves or not loader.LITERAL_GLOB.match(parts[3]):
            continue
        name = loader.unliteral_name(parts[3])
        if name not in ("all", "default") and loader.valid_interface_name(name):
            names.add(name)
    return names


def judged_interfaces(observation, histories):
    """The interfaces whose own lines ``histories`` holds (``histories_for``):
    the observed ones and those the files name."""
    names = set(observation.interfaces)
    for history in histories.values():
        for key in history:
            parts = key.split("/")
            if len(parts) == 5 and parts[:3] == ["net", "ipv4", "conf"] and \
                    parts[3] not in ("all", "default", loader.LATER_INTERFACE):
                names.add(parts[3])
    return sorted(names)


def histories_for(entries, observation, root, replace=None, seen=None):
    """``{loader: {key: [assignments]}}`` and the loaders' warnings, for the
    entries' keys and, where the kernel's rule makes them matter, the own
    keys of the observed interfaces and of those the files name
    (``named_interfaces``).  ``seen``: as ``load()``'s (each file read once
    among the loaders, and among calls that share it)."""
    boot = boot_loader(root)
    seen = {} if seen is None else seen
    loaded = [(name, name, loader.load(root, name, replace, seen=seen)) for name in loader.LOADERS]
    loaded.append((after_reboot(boot), boot, loader.load(root, boot, replace, persistent_only=True, seen=seen)))
    names = set(observation.interfaces)
    for dummy, dummy, (assignments, dummy) in loaded:
        names.update(named_interfaces(entries, assignments))
    keys = set(loader.normalize_key(e["key"]) for e in entries)
    for entry in entries:
        if per_interface_needed(entry):
            keys.update(interface_key(entry, name) for name in names)
        if is_default_key(entry):
            keys.add(loader.later_interface_key(entry["key"].rsplit(".", 1)[1]))
    histories, warnings = {}, []
    for name, kind, (assignments, problems) in loaded:
        histories[name] = loader.winners(assignments, keys, kind)
        if name in loader.LOADERS:
            warnings.extend(problems)
    return histories, sorted(set(warnings))


def after_reboot(boot):
    """The history key of what ``boot`` applies after a reboot, without /run."""
    return "%s after a reboot" % boot


def boot_of(histories):
    """The boot loader whose after-reboot history ``histories`` holds."""
    for name in histories:
        if name not in loader.LOADERS:
            return name.split(" ", 1)[0]
    return "systemd"


def is_default_key(entry):
    return entry["key"].startswith("net.ipv4.conf.default.")


def applied(history):
    """The assignment that decides a key (None when nothing writes it: a
    bare ``-key`` removed its assignment)."""
    if history and history[-1]["value"] is not None:
        return history[-1]
    return None


def later_interface_lines(entry, entries, histories, boot, winning_only=True):
    """``[(loader, assignment)]``: glob lines that give an interface created
    after boot a weak value, for the ``default`` entry of a per-interface key.
    udev runs ``systemd-sysctl --prefix=/net/ipv4/conf/<name>`` for each new
    interface (99-systemd.rules): after the kernel copied ``default``, every
    glob over interface names is applied to it (systemd's own 50-default.conf
    has ``net.ipv4.conf.*.rp_filter = 2``).  The kernel then combines the
    interface's value with ``all`` (``max`` for rp_filter)."""
    if boot != "systemd" or not is_default_key(entry):
        return []
    leaf = entry["key"].rsplit(".", 1)[1]
    siblings = [e for e in entries if e["combine"] and e["key"].rsplit(".", 1)[1] == leaf]
    history = histories[boot].get(loader.later_interface_key(leaf), [])
    found = []
    for assignment in history[-1:] if winning_only else history:
        if assignment["value"] is None:
            continue  # a bare glob removed the glob: the interface keeps default's copy, judged on its own
        own = _int(assignment["value"])
        if own is not None and siblings:
            own = loader.combine(siblings[0]["combine"], int(siblings[0]["expected"]), own)
        if own is None or not complies(entry, own):
            found.append((boot, assignment))
    return found


def interface_globs(entries, histories, boot, own_path):
    """The IDs whose glob over interface names the drop-in writes
    (``desired_file``): another file's glob weakens interfaces created later,
    or the drop-in has the line already (kept once written: commenting out
    the other file's line, ``neutralize: all``, then changes nothing more)."""
    chosen = set()
    for entry in entries:
        if not is_default_key(entry):
            continue
        weak = later_interface_lines(entry, entries, histories, boot, False)
        history = histories.get(boot, {}).get(loader.later_interface_key(entry["key"].rsplit(".", 1)[1]), [])
        if any(a["path"] != own_path for dummy, a in weak) or any(a["path"] == own_path for a in history):
            chosen.add(entry["id"])
    return chosen


def weak_interface_lines(entry, histories, observation, winning_only=True, judged=None):
    """``[(loader, assignment)]``: assignments to an interface's own key that
    make the interface's effective value fail once ``all`` has the expected
    value (a later ``net.ipv4.conf.eth0.rp_filter = 2`` beats the drop-in's
    line at boot).  ``judged``: ``judged_interfaces(observation, histories)``,
    read once by a caller asking for every entry (listing them again for
    each entry cost seconds per assessment for a file naming a hundred
    thousand interfaces)."""
    found, asked = [], set()
    if not per_interface_needed(entry):
        return found
    for name in judged_interfaces(observation, histories) if judged is None else judged:
        key = interface_key(entry, name)
        forwarding = _int(observation.values.get("net/ipv4/conf/%s/forwarding" % name)) or 0
        for loader_name, history in sorted(histories.items()):
            lines = history.get(key, ())[-1:] if winning_only else history.get(key, ())
            if not winning_only:
                # interfaces reached by the same lines share their list (sysctl.winners): asked once
                if (loader_name, id(lines), forwarding) in asked:
                    continue
                asked.add((loader_name, id(lines), forwarding))
            for assignment in lines:
                own = _int(assignment["value"])
                # a removed own line (bare -key) or one the kernel refuses leaves the interface's value unset at boot
                if own is None or not complies(entry, loader.combine(
                        entry["combine"], int(entry["expected"]), own, forwarding)):
                    found.append((loader_name, assignment))
    return found


def kernel_default_interfaces(entry, waivers, observation, histories, boot):
    """``[(name, default, effective)]``: the interfaces that keep the kernel's
    default own value after a reboot, where it makes their effective value fail.
    The loopback comes up, and gets its address, before systemd-sysctl runs:
    its values are marked set, so ``default`` never reaches it (a NIC without an
    address yet gets ``default``'s value, devinet_copy_dflt_conf()), and only a
    line naming it, or a glob reaching it, sets its own value.  A line that does
    is judged by ``weak_interface_lines``."""
    if boot != "systemd" or not per_interface_needed(entry):
        return []
    if entry["combine"] == "forwarding" and "SYSCTL-IP_FORWARD" in waivers:
        return []  # a router's interfaces forward: AND with ``all`` decides
    default = loader.INTERFACE_DEFAULTS.get(entry["key"].rsplit(".", 1)[1])
    if default is None:
        return []
    history = histories.get(after_reboot(boot), {})
    found = []
    for name in BOOT_INTERFACES:
        if name not in observation.interfaces or history.get(interface_key(entry, name)):
            continue
        forwarding = _int(observation.values.get("net/ipv4/conf/%s/forwarding" % name)) or 0
        effective = loader.combine(entry["combine"], int(entry["expected"]), default, forwarding)
        if not complies(entry, effective):
            found.append((name, default, effective))
    return found


def neutralizable(results, entries, histories, observation, own_path, mode):
    """``{path: {line: requirement ID}}``: the lines to comment out.

    ``winning``: lines that still win against the drop-in under a loader
    (the result's conflicts); ``all``: every non-compliant line any loader
    reads, as configuration scanners want (files a loader masks are never
    read, so never touched).  The drop-in's own lines are never touched."""
    by_id = dict((entry["id"], entry) for entry in entries)
    lines = {}
    judged = judged_interfaces(observation, histories) if mode == "all" else None
    ends = {}   # the histories' lists by their last line (lists are shared: each once)
    for history in histories.values() if mode == "winning" else ():
        for found in history.values():
            if found:
                ends.setdefault((found[-1]["path"], found[-1]["line"]), {})[id(found)] = found

    def add(assignment, rid):
        if assignment["path"] != own_path:
            lines.setdefault(assignment["path"], {}).setdefault(assignment["line"], rid)

    for result in results:
        if result["status"] == "waived":
            continue
        entry = by_id[result["id"]]
        key = loader.normalize_key(entry["key"])
        if mode == "all":
            for history in histories.values():
                for assignment in history.get(key, []):
                    if not complies(entry, assignment["value"]):
                        add(assignment, result["id"])
        else:
            for conflict in result["conflicts"]:
                add(conflict, result["id"])
                # the same line just before it (systemd keeps equal values as one entry, procps
                # writes each) reaches the same keys and wins next: it goes in this round too
                for found in ends.get((conflict["path"], conflict["line"]), {}).values():
                    for assignment in reversed(found[:-1]):
                        if (assignment["key"], assignment["value"]) != (found[-1]["key"], found[-1]["value"]):
                            break
                        add(assignment, result["id"])
            # with the winner commented out the line before it wins: the weaker lines at the end
            # of a history go in one round (the plan repeats until none wins), not one round each
            for history in histories.values():
                for assignment in reversed(history.get(key, ())):
                    if assignment["path"] == own_path or complies(entry, assignment["value"]):
                        break
                    add(assignment, result["id"])
        if mode == "all":
            for dummy, assignment in weak_interface_lines(entry, histories, observation, False, judged):
                add(assignment, result["id"])
            for dummy, assignment in later_interface_lines(entry, entries, histories, boot_of(histories), False):
                add(assignment, result["id"])
    return lines


def neutralized_texts(target, lines, seen=None):
    """``({path: new_text}, {path: old_text}, IDs, too_large)``: each file
    with its lines commented out behind the marker (the original kept in
    the comment).  One file read under two names (99-sysctl.conf ->
    ../sysctl.conf) is edited once, at its real place inside the root.
    A file the markers would make larger than the loader reads
    (``loader.MAX_FILE_SIZE``) is left as it is, named in ``too_large``.
    ``seen``: the texts the lines were found in (``loader.load()``'s)."""
    edits, before, ids = {}, {}, {}
    seen = {} if seen is None else seen
    for path in sorted(lines):
        real = target.host_path(path)
        text = edits.get(real)
        if text is None:
            text = before[real] = loader.read_once(target, path, seen)
        rows = loader.split_lines(text, True)
        for number, rid in sorted(lines[path].items()):
            index = number - 1
            if index < len(rows) and not rows[index].lstrip().startswith("#"):
                rows[index] = commented(rows[index], "# %s neutralised (%s)" % (MARKER, rid), loader.LONG_LINE_MAX)
                ids.setdefault(real, set()).add(rid)
        edits[real] = type(text)("".join(rows))  # a NotUtf8 text stays one: its bytes are Latin-1
    # written, it would be "larger than ... not read" to every later run: every ID unknown
    too_large = sorted(real for real, text in edits.items()
                       if text != before[real] and size_counter(text)(text) > loader.MAX_FILE_SIZE)
    for real in too_large:
        edits[real] = before[real]
        ids.pop(real, None)
    inside = dict((real, target.inside(real)) for real in edits)
    return (dict((inside[r], t) for r, t in edits.items() if t != before[r]),
            dict((inside[r], before[r]) for r in edits if edits[r] != before[r]),
            set(rid for found in ids.values() for rid in found), [inside[r] for r in too_large])


NEUTRALIZE = ("winning", "all", "none")


class Plan(object):
    """What sysctl_baseline will do on this host: the drop-in's new text, the
    live values to set, the lines to neutralise, and the state it leads to.

    ``own`` is the drop-in's path inside ``root``.  Everything is read when
    the plan is made (under the target's lock when it is applied), so the
    diffs show what was there before, and only what lies inside the root."""

    def __init__(self, entries, waivers, root, own, live, per_interface=True,
                 neutralize="winning", proc_root="/proc"):
        self.entries, self.waivers = entries, waivers
        self.target = loader.as_target(root)
        self.own, self.own_display = own, self.target.display(own)
        self.proc_root = proc_root
        self.boot = boot_loader(self.target)
        self.observation = Observation(entries, proc_root, live=live)
        self.seen = {}   # the files as the plan read them (sysctl.load), until it is applied
        self.replaced_link = None
        if self.target.islink(own):
            # the drop-in's path is the collection's: a link there is replaced, never followed
            self.replaced_link = self.target.readlink(own)
            self.old_text = None
        else:
            try:
                self.old_text = self.target.read_optional(own, limit=loader.MAX_FILE_SIZE)
            except TargetError as exc:
                raise loader.SysctlError(str(exc))
        current, dummy = histories_for(entries, self.observation, self.target,
                                       replace={own: self.old_text}, seen=self.seen)
        # the version of systemd-sysctl (None: unknown, taken as a modern one); before 245 no key is a glob
        self.systemd = loader.systemd_version(self.target) if self.boot == "systemd" else None
        old_systemd = not loader.reads_globs(self.systemd)
        self.procps = loader.procps_version(self.target)
        globs = interface_globs(entries, current, self.boot, own) if not old_systemd else set()
        if per_interface and self.boot == "systemd" and not old_systemd:
            # interfaces that exist before systemd-sysctl runs (a NIC the initramfs brought up, a
            # second NIC, a renamed one) keep the kernel's defaults, unless a line udev's coldplug
            # applies for them (99-systemd.rules: --prefix=/net/ipv4/conf/<name>) reaches them
            globs.update(e["id"] for e in entries if per_interface_needed(e))
        # a glob also reaches interfaces created later and, with no literal line of its own,
        # ``all``: none for a key whose ``default`` or ``all`` requirement is waived
        waived = set(e["key"].rsplit(".", 1)[1] for e in entries if e["id"] in waivers and (
            is_default_key(e) or e["key"].startswith("net.ipv4.conf.all.")))
        suffix = dict((e["id"], e["key"].rsplit(".", 1)[1]) for e in entries)
        by_id = dict((e["id"], e) for e in entries)
        globs = set(i for i in globs if suffix[i] not in waived)
        # nor an ``all`` entry's glob when ``default`` expects another value (an override of one of
        # them, secure_redirects=0): it would give interfaces created later the ``all`` value
        later = dict((suffix[e["id"]], int(e["expected"])) for e in entries if is_default_key(e))
        globs = set(i for i in globs if is_default_key(by_id[i]) or later.get(suffix[i], int(by_id[i]["expected"]))
                    == int(by_id[i]["expected"]))
        self.text, self.wanted = desired_file(entries, waivers, self.observation, strictest_values(entries, current),
                                              per_interface, globs, self.systemd, self.procps)
        self.previous_policy = _policy_of(self.old_text)
        self.live_changes = [
            (key, self.observation.values[key], str(value))
            for key, value in sorted(self.wanted.items(), key=lambda item: loader.write_order(item[0]))
            if live and key in self.observation.values and self.observation.values[key] != str(value)]
        self.edits, self.edits_before, self.neutralized_ids = {}, {}, set()
        self.neutralized_lines = {}   # {path as read: {line: ID}}
        self.not_neutralized = []     # why a file is not edited (neutralized_texts' too_large)
        if neutralize != "none":
            # judged against the state this plan leads to: drop-in written, live values set
            planned = copy.copy(self.observation)
            planned.values = dict(self.observation.values)
            planned.values.update((key, new) for key, dummy, new in self.live_changes)
            # commenting out a winning line can make an earlier weaker one win: repeat until
            # nothing weaker wins (each round only adds lines, so it ends)
            lines, replace = {}, {own: self.text}
            while True:
                histories, dummy = histories_for(entries, planned, self.target, replace=replace, seen=self.seen)
                results = assess(entries, waivers, planned, histories, self.boot, self.own_display)
                found = neutralizable(results, entries, histories, planned, own, neutralize)
                new = [(path, line) for path, chosen in found.items() for line in chosen
                       if line not in lines.get(path, {})]
                for path, chosen in found.items():
                    for line, rid in chosen.items():
                        lines.setdefault(path, {}).setdefault(line, rid)
                self.edits, self.edits_before, self.neutralized_ids, too_large = neutralized_texts(
                    self.target, lines, self.seen)
                self.not_neutralized = [
                    "%s: not neutralised: with the markers it would be larger than %d bytes, which this "
                    "collection does not read: its lines stay in force; edit it by hand" % (
                        self.target.display(path), loader.MAX_FILE_SIZE) for path in too_large]
                self.neutralized_lines = lines
                if not new:
                    break
                replace = dict(self.edits, **{own: self.text})

    @property
    def policy_changed(self):
        """The drop-in was written under another policy (waivers/overrides)."""
        return self.previous_policy is not None and \
            self.previous_policy != policy_line(self.entries, self.waivers).strip()

    @property
    def file_changed(self):
        return self.old_text != self.text

    @property
    def changed(self):
        return bool(self.file_changed or self.live_changes or self.edits)

    def changed_ids(self):
        """IDs whose live value, persisted line or conflicting lines this plan
        changes."""
        olds = [{}]
        if self.old_text is not None:
            # as this systemd-sysctl and this procps read it: before 243 (3.3.16) a '-' line sets nothing
            olds = [dict((a["key"], a["value"]) for a in loader.parse_text(self.old_text, loader=name, version=version)[0])
                    for name, version in (("systemd", self.systemd), ("procps", self.procps))]
        literal = loader.literal_key if loader.reads_globs(self.systemd) else str
        keys = set(key for key, dummy, dummy in self.live_changes)
        keys.update(key for key, value in self.wanted.items() if any(old.get(literal(key)) != str(value) for old in olds))
        ids = set(self.neutralized_ids)
        for entry in self.entries:
            key = loader.normalize_key(entry["key"])
            leaf = key.rsplit("/", 1)[1]
            if key in keys or (entry["combine"] and any(
                    k.startswith("net/ipv4/conf/") and k.rsplit("/", 1)[1] == leaf
                    and k.split("/")[3] not in ("all", "default") for k in keys)):
                ids.add(entry["id"])
        return ids

    def diff(self):
        """The diffs of every file this plan changes, from the state read
        when it was made."""
        diffs = []
        if self.file_changed:
            before = self.old_text or ""
            header = self.own_display
            if self.replaced_link is not None:
                header += " (a symbolic link to %s, replaced by the file)" % self.replaced_link
            diffs.append({"before_header": header, "after_header": self.own_display,
                          "before": before, "after": self.text})
        for path, text in sorted(self.edits.items()):
            shown = self.target.display(path)
            diffs.append({"before_header": shown, "after_header": shown,
                          "before": self.edits_before[path], "after": text})
        return diffs

    def assess_current(self):
        """Results for the state the host is in now."""
        histories, warnings = histories_for(self.entries, self.observation, self.target, seen=self.seen)
        return assess(self.entries, self.waivers, self.observation, histories, self.boot,
                      self.own_display), warnings

    def _write_live(self):
        """Set live values in write order, comparing each with a fresh read:
        an earlier write may have changed it (ip_forward resets
        accept_redirects).  ``live_changes`` becomes what was really written."""
        written, errors = [], []
        if not self.observation.live:
            return errors
        for key, value in sorted(self.wanted.items(), key=lambda item: loader.write_order(item[0])):
            current, problem = loader.read_live(key, self.proc_root)
            if problem or current == str(value):
                continue
            error = loader.write_live(key, value, self.proc_root)
            if error and loader.read_live(key, self.proc_root)[1] == "missing":
                continue  # an interface removed since it was read (a container's veth): nothing to set
            if error:
                errors.append(error)
            else:
                written.append((key, current, str(value)))
        self.live_changes = written
        return errors

    def apply(self):
        """Write the drop-in and neutralised files, set live values; return
        the results of the state reached, the loaders' warnings and the
        errors met.  Call it under ``self.target.lock()``."""
        self.seen = None   # what the plan read is not what this leaves
        try:
            if self.file_changed:
                self.target.makedirs(os.path.dirname(self.own))
                self.target.write_atomic(self.own, self.text, mode=0o644, owned=True, expected=self.old_text)
        except TargetError as exc:
            raise loader.SysctlError(str(exc))
        # a file that cannot be edited (a read-only /usr) is an error of its own: the drop-in and
        # the other files written are still reported (changed, diff), never hidden behind it
        errors = list(self.not_neutralized)
        for path, text in sorted(self.edits.items()):
            try:
                self.target.write_atomic(path, text, expected=self.edits_before[path])
            except TargetError as exc:
                errors.append("%s: not written: its lines stay in force" % exc)
                del self.edits[path], self.edits_before[path]
        if errors:
            kept = set()
            for path, chosen in self.neutralized_lines.items():
                try:
                    if self.target.inside(self.target.host_path(path)) in self.edits:
                        kept.update(chosen.values())
                except TargetError:
                    pass
            self.neutralized_ids &= kept
        errors += self._write_live()
        final = Observation(self.entries, self.proc_root, live=self.observation.live)
        histories, warnings = histories_for(self.entries, final, self.target)
        results = assess(self.entries, self.waivers, final, histories, self.boot, self.own_display)
        for result in results:
            result["before"] = self.observation.values.get(loader.normalize_key(result["key"]))
        return results, warnings, [error for error in errors if error]


def _policy_of(text):
    for line in (text or "").splitlines():
        if line.startswith("# Policy:"):
            return line.strip()
    return None


# The sysctl_baseline_info module's options and work (shared with compliance_info)
INFO_ARGUMENT_SPEC = dict(
    file=dict(type="path", default=DEFAULT_FILE),
    root=dict(type="path", default="/"),
)


def _check_file(name, writing=False):
    """SysctlError unless ``name`` (the file option) is a drop-in the boot
    loader reads: a ``.conf`` file directly in a persistent sysctl.d
    directory.  Elsewhere it would be written, never read, and every ID fail.
    /etc/sysctl.conf is read too, and judged as the file, never written: it is
    the administrator's, and the drop-in replaces its file whole.  Returns
    the path inside the root, normalised (the loaders' own spelling of it)."""
    path = os.path.normpath("/" + (name or "").lstrip("/"))
    directory, base = os.path.split(path)
    dirs = [d for d in loader.CONF_DIRS if d != loader.RUNTIME_DIR]
    if path == "/" + loader.SYSCTL_CONF:
        if writing:
            raise loader.SysctlError(
                "file: %r is the administrator's own file, which the drop-in would replace whole: give a .conf "
                "file in /etc/sysctl.d/ (for example %s)" % (name, DEFAULT_FILE))
        return path
    if directory.lstrip("/") not in dirs or not base.endswith(".conf") or base.startswith("."):
        raise loader.SysctlError(
            "file: %r is not read at boot: the drop-in must be a .conf file (not starting with a dot) directly in "
            "%s (for example %s)" % (name, ", ".join("/%s/" % d for d in dirs), DEFAULT_FILE))
    return path


def check_sysctl(params, entries, waivers, module=None):
    """Assess the SYSCTL-* ``entries`` on the tree ``params["root"]``; returns
    the module's result fields; an unreadable file raises SysctlError.
    (``module`` is unused: the signature is that of every area's check.)"""
    own = _check_file(params["file"])
    target = loader.as_target(params["root"])
    observation = Observation(entries, live=loader.live_kernel_available(params["root"]))
    try:
        histories, warnings = histories_for(entries, observation, target)
    except Unreadable as exc:
        results = unreadable_results(entries, waivers, observation, str(exc))
        return dict(results=results, summary=summarize(results), warnings_from_files=[])
    results = assess(entries, waivers, observation, histories, boot_loader(target),
                     own_names(target, own))
    return dict(results=results, summary=summarize(results), warnings_from_files=warnings)


def own_names(target, path):
    """The names (as the user sees them) the loaders read the file ``path``
    under: its own and those of links to it (Debian's and Fedora's
    /etc/sysctl.d/99-sysctl.conf -> ../sysctl.conf, for file=/etc/sysctl.conf)."""
    names = set([target.display(path)])
    try:
        real = target.host_path(path)
    except TargetError:
        return names
    for name in loader.LOADERS:
        version = loader.procps_version(target) if name == "procps" else None
        for other, dummy in loader.config_files(target, name, version=version):
            try:
                if target.host_path(other) == real:
                    names.add(target.display(other))
            except TargetError:
                continue
    return names


# The sysctl_baseline module's options beyond the info ones, and its work
# (shared with the compliance module, which applies areas in the same call)
APPLY_ARGUMENT_SPEC = dict(
    apply_live=dict(type="str", default="auto", choices=["auto", "always", "never"]),
    neutralize=dict(type="str", default="winning", choices=list(NEUTRALIZE)),
    per_interface=dict(type="bool", default=True),
    lock_timeout=dict(type="int", default=300),
)


def _live_kernel(params):
    """Whether live values may be set here; SysctlError when they must be
    and cannot."""
    if params["apply_live"] == "never":
        return False
    possible = loader.live_kernel_available(params["root"])
    if params["apply_live"] == "always" and not possible:
        raise loader.SysctlError("apply_live=always, but there is no live kernel here (chroot, "
                                 "root=%s, or /proc/sys missing)" % params["root"])
    return possible


def apply_sysctl(params, entries, waivers, module):
    """Bring the SYSCTL-* ``entries`` to compliance on ``params["root"]``
    (only assess in check mode).  Returns the module's result fields, with
    ``errors`` (live values that could not be set) and ``diff``; bad input
    raises SysctlError.  Holds the target's lock while it writes."""
    own = _check_file(params["file"], writing=True)
    target = loader.as_target(params["root"])
    live = _live_kernel(params)

    def plan():
        made = Plan(entries, waivers, target, own, live, per_interface=params["per_interface"],
                    neutralize=params["neutralize"])
        if made.old_text and made.old_text.strip() and MARKER not in made.old_text[:1024]:
            # a user's file at the drop-in's name: replacing it would drop what it sets
            raise loader.SysctlError(
                "%s holds settings that are not the collection's (no guestready.gce header): not "
                "replaced; move it away, or name another file with the sysctl area's file option"
                % made.own_display)
        if made.replaced_link is not None:
            # a link to a file of settings (Debian's 99-sysctl.conf -> ../sysctl.conf): replacing
            # the link would stop the loaders reading that file at boot, as replacing it would
            try:
                linked = target.read_optional(own, limit=loader.MAX_FILE_SIZE)
            except TargetError:
                linked = None
            if linked and linked.strip() and MARKER not in linked[:1024]:
                raise loader.SysctlError(
                    "%s is a symbolic link to %s, a file of settings that are not the collection's: not "
                    "replaced (the loaders would stop reading that file); name another file with the "
                    "sysctl area's file option (for example %s)" % (made.own_display, made.replaced_link, DEFAULT_FILE))
        return made

    errors, removed = [], []
    try:
        if module.check_mode:
            made = plan()
            results, warnings = made.assess_current()
            errors = list(made.not_neutralized)
            # what the run would remove: removing them is a change, as writing is
            removed = [target.display(path) for path in target.stale_temporaries(own)]
        else:
            with target.lock(params["lock_timeout"], on_wait=module.warn):
                removed = target.remove_stale_temporaries(own)
                made = plan()
                results, warnings, errors = made.apply()
                diff = made.diff()   # what was written
    except TargetError as exc:
        raise loader.SysctlError(str(exc))
    if module.check_mode:
        diff = made.diff()
    if made.replaced_link is not None and made.file_changed:
        module.warn("%s was a symbolic link (to %s): %s the file, the link's target is never "
                    "written" % (made.own_display, made.replaced_link,
                                 "would be replaced by" if module.check_mode else "replaced by"))
    if made.policy_changed and made.file_changed:
        module.warn("%s was written under another policy (%s); this run's policy (%s) %s it" % (
            made.own_display, made.previous_policy[2:], policy_line(entries, waivers).strip()[2:],
            "would replace" if module.check_mode else "replaced"))
    changed_ids = made.changed_ids()
    for result in results:
        result["changed"] = result["id"] in changed_ids and result["status"] != "waived"
    return dict(changed=made.changed or bool(removed), results=results, file=made.own_display,
                neutralized=sorted(target.display(path) for path in made.edits),
                warnings_from_files=warnings, removed_temporaries=removed, diff=diff, errors=errors)
