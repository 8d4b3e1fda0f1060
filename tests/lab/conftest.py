"""Fixtures for the lab tests (see lab_helpers.py): a private lab state dir, cleanup checks."""

import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lab_helpers import lab, leftovers  # noqa: E402,F401 # pylint: disable=unused-import
from guestready_lab.util import stop_process  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "full_boot: a guest boot only `make test-disk-full` runs "
                            "(CI time: each boot through a disk's own boot loader takes minutes under TCG)")


def pytest_sessionfinish(session, exitstatus):
    """Safety net after every fixture finalizer ran: nothing the tests started may survive."""
    alive, ns = leftovers()
    if not alive and not ns:
        return
    for rec in alive:
        stop_process(rec)
    for n in ns:
        subprocess.run(["ip", "netns", "del", n], check=False)
    sys.stderr.write("\nlab tests left processes/namespaces behind (now stopped): %s %s\n"
                     % (["%s %d" % (r["role"], r["pid"]) for r in alive], ns))
    session.exitstatus = 1

