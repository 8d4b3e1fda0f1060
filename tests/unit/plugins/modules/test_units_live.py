"""The live unit states: every ``is-active`` in one systemctl call, and the
``is-enabled`` answers of every unit with a unit file from one
``list-unit-files`` call, give the same results as one call per unit, and
fall back to one call per unit when systemctl's answer cannot be matched to
the units."""

import os

import pytest

from ansible_collections.guestready.gce.plugins.module_utils import gce_settings, units
from ansible_collections.guestready.gce.plugins.module_utils.catalogue import requirements

from test_gce_settings import debian_image


class Systemctl(object):
    """run_command/get_bin_path of a module on a systemd 252 host
    (src/systemctl: is-active prints a line per unit, ``inactive`` for a
    unit that does not exist; is-enabled prints a line per unit, in order,
    and stops at the first unit without a unit file, printing nothing for
    it).  ``not_found``: a later systemd's is-enabled, which prints
    ``not-found`` for such a unit and goes on."""
    check_mode = False
    not_found = False

    def __init__(self, states):
        self.states, self.commands = states, []

    def get_bin_path(self, name, required=False, opt_dirs=None):
        return None if name == "sshd" else "/usr/bin/" + name

    def run_command(self, argv, environ_update=None):
        self.commands.append(list(argv))
        if argv[1:2] == ["list-unit-files"]:
            return self.list_unit_files([name for name in argv[2:] if not name.startswith("--")])
        if os.path.basename(argv[0]) != "systemctl" or argv[1] not in ("is-enabled", "is-active"):
            return 0, "", ""
        lines, rc = [], 3 if argv[1] == "is-active" else 1
        for name in argv[2:]:
            enabled, active = self.states.get(name, (None, "inactive"))
            if argv[1] == "is-active":
                lines.append(active)
                rc = 0 if active == "active" else rc
            elif enabled is None and self.not_found:
                lines.append("not-found")
            elif enabled is None:
                return 1, "".join(line + "\n" for line in lines), "Failed to get unit file state for %s" % name
            else:
                lines.append(enabled)
                rc = 0 if enabled == "enabled" else rc
        return rc, "".join(line + "\n" for line in lines), ""

    def list_unit_files(self, names):
        """The unit files the names match, sorted, with their state and preset
        (an instance has no file of its own; a missing unit none at all);
        exit 1 when none matched."""
        listed = sorted(name for name in names if self.states.get(name, (None,))[0] is not None
                        and units.template_of(name) is None)
        out = "".join("%-30s %s enabled\n" % (name, self.states[name][0]) for name in listed)
        return (0 if listed else 1), out, ""

    def warn(self, message):
        pass

    def count(self, verb):
        return sum(1 for argv in self.commands if argv[1:2] == [verb])


STATES = {
    "serial-getty@ttyS0.service": ("enabled", "activating"),
    "systemd-networkd.service": ("enabled", "active"),
    "networking.service": ("disabled", "inactive"),
    "systemd-timesyncd.service": ("disabled", "active"),
    "google-guest-agent.service": ("masked", "failed"),
    "chrony.service": ("alias", "inactive"),
}


def test_one_is_active_call_for_every_unit():
    module = Systemctl(STATES)
    found = units.active_states(module, ["chrony.service", "nonexistent.service", "chrony.service",
                                         "systemd-timesyncd.service"])
    assert found == {"chrony.service": "inactive", "nonexistent.service": "inactive",
                     "systemd-timesyncd.service": "active"}
    assert module.commands == [["/usr/bin/systemctl", "is-active", "chrony.service", "nonexistent.service",
                                "systemd-timesyncd.service"]]


def test_an_answer_without_a_line_per_unit_is_not_used():
    class Short(Systemctl):
        def run_command(self, argv, environ_update=None):
            self.commands.append(list(argv))
            return 1, "active\n", ""
    assert units.active_states(Short({}), ["a.service", "b.service"]) is None
    # glob names are never batched (they expand to any number of lines)
    module = Systemctl(STATES)
    assert units.active_states(module, ["getty@*.service", "chrony.service"]) == {"chrony.service": "inactive"}
    assert units.active_states(module, ["getty@*.service"]) is None


@pytest.fixture(autouse=True)
def sysv_scripts(tmp_path, monkeypatch):
    """The live system's System V scripts: ``ntp`` only."""
    (tmp_path / "init.d").mkdir()
    (tmp_path / "init.d" / "ntp").write_text("#!/bin/sh\n")
    monkeypatch.setattr(units, "SYSV_DIR", str(tmp_path / "init.d"))


def test_one_list_unit_files_call_answers_for_every_unit_but_instances_and_scripts():
    module = Systemctl(dict(STATES, **{"hwclock.service": ("generated", "inactive")}))
    found = units.unit_file_states(module, ["serial-getty@ttyS0.service", "chrony.service", "nonexistent.service",
                                            "google-guest-agent.service", "networking.service", "hwclock.service",
                                            "getty@*.service", "chrony.service", "ntp.service", "gone.timer"])
    # the missing units share the answer is-enabled gives the first of them (systemd 252: none),
    # asked in one call after the instance (its file is the template's: not listed); the unit
    # with a System V script and the generated one are left to is-enabled alone
    assert found == {"chrony.service": "alias", "google-guest-agent.service": "masked",
                     "networking.service": "disabled", "nonexistent.service": "", "gone.timer": "",
                     "serial-getty@ttyS0.service": "enabled"}
    assert module.commands == [["/usr/bin/systemctl", "list-unit-files", "--no-legend", "--no-pager", "--full",
                                "serial-getty@ttyS0.service", "chrony.service", "nonexistent.service",
                                "google-guest-agent.service", "networking.service", "hwclock.service",
                                "ntp.service", "gone.timer"],
                               ["/usr/bin/systemctl", "is-enabled", "serial-getty@ttyS0.service",
                                "nonexistent.service"]]
    assert units.live_state(module, "gone.timer", "inactive", found["gone.timer"]) == ("unknown", "inactive")


class Newer(Systemctl):
    not_found = True


def test_a_missing_units_answer_is_shared_only_when_it_says_missing():
    assert units.unit_file_states(Newer(STATES), ["a.service", "b.service"]) == {
        "a.service": "not-found", "b.service": "not-found"}

    class Raced(Systemctl):  # the first unit appeared after list-unit-files
        def run_command(self, argv, environ_update=None):
            if argv[1:2] == ["is-enabled"]:
                self.commands.append(list(argv))
                return 0, "enabled\n", ""
            return Systemctl.run_command(self, argv, environ_update)
    module = Raced(STATES)
    assert units.unit_file_states(module, ["a.service", "b.service", "chrony.service"]) == {
        "a.service": "enabled", "chrony.service": "alias"}  # b.service: asked alone
    assert units.unit_file_states(Systemctl(STATES), ["nonexistent.service"]) == {"nonexistent.service": ""}


@pytest.mark.parametrize("systemd", [Systemctl, Newer])
def test_instances_and_the_first_missing_unit_share_one_is_enabled_call(systemd):
    states = dict(STATES, **{"getty@tty1.service": ("disabled", "inactive")})
    module = systemd(states)
    names = ["getty@tty1.service", "gone.service", "serial-getty@ttyS0.service", "chrony.service", "b.timer"]
    found = units.unit_file_states(module, names)
    missing = "not-found" if systemd is Newer else ""
    assert found == {"getty@tty1.service": "disabled", "serial-getty@ttyS0.service": "enabled",
                     "chrony.service": "alias", "gone.service": missing, "b.timer": missing}
    assert module.count("is-enabled") == 1
    # each answer is the one is-enabled gives the unit alone
    for name in names:
        rc, out, err = systemd(states).run_command(["/usr/bin/systemctl", "is-enabled", name])
        assert found[name] == out.strip()


@pytest.mark.parametrize("systemd", [Systemctl, Newer])
def test_an_instance_without_a_template_leaves_the_rest_to_other_calls(systemd):
    # systemd 252 stops at the instance: no line for it, none for what follows it
    module = systemd(dict(STATES))
    found = units.unit_file_states(module, ["getty@tty9.service", "serial-getty@ttyS0.service", "gone.service",
                                            "chrony.service", "b.timer"])
    missing = "not-found" if systemd is Newer else ""
    expected = {"chrony.service": "alias", "gone.service": missing, "b.timer": missing}
    if systemd is Newer:
        expected.update({"getty@tty9.service": "not-found", "serial-getty@ttyS0.service": "enabled"})
    assert found == expected
    assert module.count("is-enabled") == (1 if systemd is Newer else 2)
    # an instance without an answer here is asked alone, as before
    assert units.live_state(module, "serial-getty@ttyS0.service", "activating",
                            found.get("serial-getty@ttyS0.service")) == ("enabled", "activating")


def test_more_lines_than_units_are_not_matched_to_the_units():
    class Chatty(Systemctl):  # an is-enabled that says more than one line per unit
        def run_command(self, argv, environ_update=None):
            rc, out, err = Systemctl.run_command(self, argv, environ_update)
            if argv[1:2] == ["is-enabled"] and len(argv) > 3:
                out = "note: something\nnote: more\n" + out
            return rc, out, err
    module = Chatty(dict(STATES))
    found = units.unit_file_states(module, ["serial-getty@ttyS0.service", "gone.service", "b.timer"])
    # the instance is left to is-enabled alone; the first missing unit is asked alone
    assert found == {"gone.service": "", "b.timer": ""}
    assert [argv[2:] for argv in module.commands if argv[1:2] == ["is-enabled"]] == [
        ["serial-getty@ttyS0.service", "gone.service"], ["gone.service"]]


def test_live_state_with_a_known_answer_asks_only_is_enabled():
    module = Systemctl(STATES)
    assert units.live_state(module, "chrony.service", "inactive") == ("alias", "inactive")
    assert units.live_state(module, "nonexistent.service") == ("unknown", "inactive")
    assert module.count("is-active") == 1 and module.count("is-enabled") == 2
    assert units.live_state(module, "chrony.service", "inactive", "alias") == ("alias", "inactive")
    assert module.count("is-enabled") == 2


def assess(root, monkeypatch, batched):
    monkeypatch.setattr(gce_settings, "live_root", lambda path: True)
    if not batched:
        monkeypatch.setattr(units, "active_states", lambda module, names: None)
        monkeypatch.setattr(units, "unit_file_states", lambda module, names: None)
    module = Systemctl(STATES)
    params = dict(root=str(root), generalize=False, interface="ens4", connection={})
    return gce_settings.check_gce(params, requirements("gce"), {}, module), module


def test_the_gce_checks_give_the_same_results_with_batched_calls(tmp_path, monkeypatch):
    root = debian_image(tmp_path / "image")
    batched, module = assess(root, monkeypatch, True)
    monkeypatch.undo()
    alone, reference = assess(root, monkeypatch, False)
    assert batched == alone
    # the live unit states are in the evidence, so the comparison covers them
    assert "'is-active': 'activating'" in str(batched["results"])
    # every unit the checks ask about is in the one call
    asked = [argv[2] for argv in reference.commands if argv[1:2] == ["is-active"]]
    assert len(asked) > 10 and set(asked) <= set(gce_settings.UNITS)
    assert module.count("is-active") == 1 and module.count("list-unit-files") == 1
    # is-enabled only for the instance with the first missing unit, and for the unit with a
    # System V script
    enabled_calls = [argv[2:] for argv in module.commands if argv[1:2] == ["is-enabled"]]
    missing = [name for name in gce_settings.UNITS if name in asked and STATES.get(name, (None,))[0] is None
               and name != "ntp.service" and not units.template_of(name)]
    assert sorted(enabled_calls) == sorted([["serial-getty@ttyS0.service", missing[0]], ["ntp.service"]])
    assert reference.count("is-enabled") == len(set(asked)) > 2 + 8
