"""Hypothesis profiles shared by the fuzz tests of every parser.

``make test`` runs the short profile (a few hundred inputs per property, a
few seconds, the same inputs every run); ``make fuzz`` selects
``GUESTREADY_FUZZ=long`` (10,000 new inputs per property).
GUESTREADY_FUZZ_EXAMPLES overrides the count of either."""

import os

from hypothesis import HealthCheck, settings

_PROFILE = os.environ.get("GUESTREADY_FUZZ", "short")
_COMMON = dict(deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
_EXAMPLES = {"short": 150, "long": 10000}
_COUNT = int(os.environ.get("GUESTREADY_FUZZ_EXAMPLES") or _EXAMPLES.get(_PROFILE, 150))
settings.register_profile("guestready", max_examples=_COUNT, derandomize=_PROFILE == "short",
                          **_COMMON)
settings.load_profile("guestready")
