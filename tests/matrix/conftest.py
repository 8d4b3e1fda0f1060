"""Fixtures for the version matrix's lab smoke run: the lab CLI on a private state dir
(tests/lab/lab_helpers.py), every guest stopped by PID at the end."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lab"))

# `lab` is the session fixture tests/lab defines too
from lab_helpers import lab  # noqa: E402,F401 # pylint: disable=unused-import
