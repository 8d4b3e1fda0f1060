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
    # two guests (restored from the same snapshot, so the same boot ID): separate QEMUs and
    # ports, and a file written in one is not in the other
    assert a["ssh_port"] != b["ssh_port"] and a["qemu_pid"] != b["qemu_pid"]
    lab.ssh(NAME, "echo one >/root/which")
    assert other.ssh(NAME, "cat /root/which 2>/dev/null || echo none").strip() == "none"


def test_stopping_one_leaves_the_other_running(twins):
    lab, other, a, b = twins
    other.down(NAME)
    assert not os.path.exists("/run/netns/" + b["netns"])
    assert os.path.exists("/run/netns/" + a["netns"])
    assert lab.ssh(NAME, "echo alive").strip() == "alive"
