"""Waivers and overrides: one mechanism for every area."""

import pytest

from ansible_collections.guestready.gce.plugins.module_utils import catalogue as cat
from ansible_collections.guestready.gce.plugins.module_utils.policy import PolicyError, resolve


def _by_id(entries):
    return dict((e["id"], e) for e in entries)


def test_override_raises_a_level():
    entries, waivers = resolve(cat.requirements("sysctl"), overrides={"SYSCTL-KPTR_RESTRICT": "2"})
    entry = _by_id(entries)["SYSCTL-KPTR_RESTRICT"]
    assert entry["expected"] == 2 and entry["overridden_from"] == 1
    assert waivers == {}
    assert cat.BY_ID["SYSCTL-KPTR_RESTRICT"]["expected"] == 1, "the catalogue is never mutated"


def test_override_raises_perf_event_paranoid_above_3():
    """Debian's and Ubuntu's kernels accept 4 (mainline sets no upper bound)."""
    entries, dummy = resolve(cat.requirements("sysctl"), overrides={"SYSCTL-PERF_EVENT_PARANOID": 4})
    assert _by_id(entries)["SYSCTL-PERF_EVENT_PARANOID"]["expected"] == 4
    with pytest.raises(PolicyError, match="accepts any integer from -1 up, got -2"):
        resolve(cat.CATALOGUE, overrides={"SYSCTL-PERF_EVENT_PARANOID": -2})


@pytest.mark.parametrize("rid,value,words", [
    ("SYSCTL-KPTR_RESTRICT", 0, "would weaken"),
    ("SYSCTL-PERF_EVENT_PARANOID", 1, "would weaken"),
    ("SYSCTL-IP_FORWARD", 1, "must stay 0"),
    ("SYSCTL-YAMA_PTRACE_SCOPE", 7, "accepts 0, 1, 2, 3"),
    ("SYSCTL-KPTR_RESTRICT", "two", "must be an integer"),
    ("KCONF-DEFAULT_MMAP_MIN_ADDR", 4096, "would weaken"),
    ("KCONF-DEVKMEM", "y", "cannot be overridden"),
    ("HW-SERIAL", {}, "cannot be overridden"),
    ("IMG-PARTITION_TABLE", ["mbr", "gpt"], "cannot be overridden"),
    ("IMG-DISK_RAW", "raw", "cannot be overridden"),
    ("GCE-SSH-NO-ROOT-PASSWORD", True, "accepts no, forced-commands-only"),
    ("GCE-SSH-NO-PASSWORD-AUTH", True, "must stay no"),
    ("SYSCTL-NOPE", 1, "unknown requirement ID"),
])
def test_bad_overrides_are_refused_with_a_reason(rid, value, words):
    with pytest.raises(PolicyError) as err:
        resolve(cat.CATALOGUE, overrides={rid: value})
    assert words in str(err.value)
    assert rid in str(err.value)


def test_alternative_value_from_another_baseline():
    entries, dummy = resolve(cat.requirements("sysctl"), overrides={"SYSCTL-SECURE_REDIRECTS-ALL": 0})
    assert _by_id(entries)["SYSCTL-SECURE_REDIRECTS-ALL"]["expected"] == 0


def test_kernel_option_override_raises_mmap_min_addr():
    entries, dummy = resolve(cat.requirements("kernel-security"),
                             overrides={"KCONF-DEFAULT_MMAP_MIN_ADDR": 131072})
    assert _by_id(entries)["KCONF-DEFAULT_MMAP_MIN_ADDR"]["expected"] == "131072"


def test_waivers_need_a_reason_and_a_known_id():
    waivers = {"SYSCTL-IP_FORWARD": {"reason": " NAT gateway "}, "HW-SERIAL": "no console here"}
    dummy, waivers = resolve(cat.CATALOGUE, waivers=waivers)
    assert waivers == {"SYSCTL-IP_FORWARD": "NAT gateway", "HW-SERIAL": "no console here"}
    with pytest.raises(PolicyError, match="needs a reason"):
        resolve(cat.CATALOGUE, waivers={"SYSCTL-IP_FORWARD": ""})
    with pytest.raises(PolicyError, match="did you mean SYSCTL-IP_FORWARD"):
        resolve(cat.CATALOGUE, waivers={"SYSCTL-IP_FORWARDING": "router"})
    with pytest.raises(PolicyError, match="must be a mapping"):
        resolve(cat.CATALOGUE, waivers=["SYSCTL-IP_FORWARD"])


@pytest.mark.parametrize("reason", ["\u200b", "\u202e", " \u00a0\t", "\u2066\u2069\n"])
def test_a_waiver_reason_of_only_invisible_characters_is_refused(reason):
    """Every report shows the reason; a zero-width space or a bidi control
    passed as one and showed as nothing."""
    with pytest.raises(PolicyError, match="SYSCTL-IP_FORWARD needs a reason"):
        resolve(cat.CATALOGUE, waivers={"SYSCTL-IP_FORWARD": reason})
    dummy, waivers = resolve(cat.CATALOGUE, waivers={"SYSCTL-IP_FORWARD": reason + "NAT gateway"})
    assert waivers["SYSCTL-IP_FORWARD"].endswith("NAT gateway")


@pytest.mark.parametrize("waiver, key", [
    ({"reason": "NAT gateway", "expires": "2027-01-01"}, "expires"),
    ({"reason": "NAT gateway", "until": "2027-01-01"}, "until"),
    ({"reson": "NAT gateway"}, "reson"),
])
def test_a_waiver_mapping_with_a_key_it_does_not_have_is_refused(waiver, key):
    """{reason: ..., expires: ...} was taken as a waiver for ever, the expiry
    silently ignored; a misspelt reason key said only that the reason was missing."""
    with pytest.raises(PolicyError) as raised:
        resolve(cat.CATALOGUE, waivers={"SYSCTL-IP_FORWARD": waiver})
    assert str(raised.value) == ("waivers: SYSCTL-IP_FORWARD: unknown key(s) %s; a waiver is the reason, or "
                                 "a mapping with only a reason key" % key)


@pytest.mark.parametrize("option", ["waivers", "overrides"])
@pytest.mark.parametrize("typed, meant", [
    ("sysctl-ip_forward", "SYSCTL-IP_FORWARD"), ("Sysctl-Kptr_Restrict", "SYSCTL-KPTR_RESTRICT"),
    ("gce-ssh-no-root-password", "GCE-SSH-NO-ROOT-PASSWORD"), ("sysctl-ip_forwrd", "SYSCTL-IP_FORWARD"),
])
def test_an_id_in_lower_case_is_named_with_the_id_meant(option, typed, meant):
    """An ID typed in lower case got no hint: difflib compares case, so
    'sysctl-ip_forward' was no close match of SYSCTL-IP_FORWARD."""
    with pytest.raises(PolicyError) as raised:
        resolve(cat.CATALOGUE, **{option: {typed: "2" if option == "overrides" else "a reason"}})
    assert str(raised.value) == ("%s: unknown requirement ID %r (did you mean %s?); the IDs are listed in "
                                 "docs/requirements.md" % (option, typed, meant))
