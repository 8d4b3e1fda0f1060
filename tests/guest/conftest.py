"""Fixtures for tests that drive lab guests with ansible-playbook: a private lab
state dir (tests/lab/lab_helpers.py), stopped by PID at the end."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lab"))

# `lab` is the session fixture tests/lab defines too
from lab_helpers import ROOT, lab  # noqa: E402,F401 # pylint: disable=unused-import

VENV_BIN = os.path.dirname(sys.executable)


@pytest.fixture(scope="session")
def ansible_env():
    env = dict(os.environ)
    env.update({
        "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": os.path.join(ROOT, ".ansible", "collections"),
        "ANSIBLE_TIMEOUT": "60",
        "PATH": VENV_BIN + os.pathsep + env.get("PATH", ""),
    })
    return env
