"""Make this checkout importable as ``ansible_collections.guestready.gce``."""

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(ROOT, ".ansible", "collections")
LINK = os.path.join(COLLECTIONS, "ansible_collections", "guestready", "gce")

if not os.path.exists(LINK):
    os.makedirs(os.path.dirname(LINK), exist_ok=True)
    os.symlink(os.path.join("..", "..", "..", ".."), LINK)
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)
# fixture builders: ``import fakesys`` (fake sysfs trees), ``import trees`` (/lib/modules trees),
# ``import lzofixtures`` (lzop-compressed archives)
for _fixtures in ("sysfs", "modules", "initramfs"):
    sys.path.insert(0, os.path.join(ROOT, "tests", "fixtures", _fixtures))


@pytest.fixture(autouse=True)
def run_cache(tmp_path, monkeypatch):
    """Tests keep the run cache (initramfs listings, compiled code) out of the host's /run."""
    from ansible_collections.guestready.gce.plugins.module_utils import runcache
    monkeypatch.setattr(runcache, "CACHE_DIR", str(tmp_path / "run-cache"))
    return runcache.CACHE_DIR
