"""Two checkouts' labs at once: the same guest name with the tap backend in two state dirs.

Network namespaces are host-global; a guest `twin` of one state dir and a guest `twin` of
another must each get their own (guests.netns_for), and stopping one leaves the other running.
"""

import os

import pytest

from lab_helpers import LabCLI

NAME = "twin"


@pytest.fixture(scope="module")
def twins(lab, tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("--net tap needs root")
    other = LabCLI(str(tmp_path_factory.mktemp("lab-state-other")))
    try:
        a = lab.up_many([["--net", "tap", "--name", NAME]])[NAME]
        b = other.up_many([["--net", "tap", "--name", NAME]])[NAME]
        yield lab, other, a, b
    finally:
        for cli in (lab, other):
            cli.collect()
            if NAME in {g["name"] for g in cli.status()}:
                cli.down(NAME)
        other.run("down", "--all", check=False)


def test_same_name_in_two_state_dirs_gets_two_namespaces(twins):
    lab, other, a, b = twins
    assert a["netns"] != b["netns"]
    assert os.path.exists("/run/netns/" + a["netns"]) and os.path.exists("/run/netns/" + b["netns"])
    # each answers on its own forwarded port, with its own boot
    ids = {cli.ssh(NAME, "cat /proc/sys/kernel/random/boot_id").strip() for cli in (lab, other)}
    assert len(ids) == 2


def test_stopping_one_leaves_the_other_running(twins):
    lab, other, a, b = twins
    other.down(NAME)
    assert not os.path.exists("/run/netns/" + b["netns"])
    assert os.path.exists("/run/netns/" + a["netns"])
    assert lab.ssh(NAME, "echo alive").strip() == "alive"
