"""Runs last: every process the lab tests started is gone (checked by recorded PID)."""

import glob
import os

from lab_helpers import REGISTRY, leftovers


def test_no_guest_process_left_running(lab):
    lab.collect()
    # guests of the earlier modules were stopped by their fixtures' finalizers
    remaining = [os.path.basename(os.path.dirname(p))
                 for p in glob.glob(os.path.join(lab.state, "guests", "*", "guest.json"))]
    assert remaining == []
    alive, netns = leftovers()
    assert alive == [], alive
    assert netns == [], netns
    roles = {r["role"] for r in REGISTRY}
    if REGISTRY:  # when the guest tests ran, all three kinds of process were started and stopped
        assert {"qemu"} <= roles
