"""Boot-as-imported tests: a private lab state dir (tests/lab/lab_helpers.py)
whose guests are stopped by PID at the end, and the image helpers of
tests/image."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lab"))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "image"))

# `lab` is the session fixture tests/lab defines too
from lab_helpers import lab  # noqa: E402,F401 # pylint: disable=unused-import


def pytest_configure(config):
    config.addinivalue_line("markers", "full_boot: a guest boot only `make test-disk-full` runs "
                            "(CI time: each boot through a disk's own boot loader takes minutes under TCG)")
