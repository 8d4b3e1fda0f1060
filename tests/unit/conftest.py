"""Hypothesis profiles for every property/fuzz test of the unit suite
(tests/unit/**/test_*_fuzz.py; sysctl, kconfig and initramfs parsers).

FUZZ_PROFILE picks one:

* ``unit`` (default, what ``make test``'s unit part runs): a short,
  derandomized run -- the same inputs every time, so a failure reproduces
  and nothing is flaky -- FUZZ_EXAMPLES per test (default 60);
* ``fuzz`` (``make fuzz``): random inputs, FUZZ_EXAMPLES per test (default
  10000), failures kept in build/hypothesis so the next run tries them first.

No deadline: the lab machine is shared and slow, and speed is not what these
tests check.  The autouse initramfs-cache fixture (tests/conftest.py) is
function-scoped but stateless between examples, so that health check is off.
"""

import os

try:
    from hypothesis import HealthCheck, settings
    from hypothesis.database import DirectoryBasedExampleDatabase
except ImportError:  # the fuzz tests skip, saying so (pytest.importorskip)
    settings = None

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

if settings is not None:
    _COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                         HealthCheck.function_scoped_fixture,
                                                         HealthCheck.data_too_large])
    settings.register_profile("unit", max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")),
                              derandomize=True, database=None, **_COMMON)
    settings.register_profile("fuzz", max_examples=int(os.environ.get("FUZZ_EXAMPLES", "10000")),
                              database=DirectoryBasedExampleDatabase(
                                  os.path.join(ROOT, "build", "hypothesis")),
                              print_blob=True, **_COMMON)
    settings.load_profile(os.environ.get("FUZZ_PROFILE", "unit"))
