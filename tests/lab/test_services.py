"""The lab's services from inside guests: the metadata server stand-in and the apt repository.

Two `gce` guests from their snapshots, both with `--metadata`: user networking (QEMU's
guestfwd to the services process on 127.0.0.1) and tap (the services process inside the
guest's private network namespace). In the guest the server is 169.254.169.254 and
metadata.google.internal, as on Compute Engine.
"""

import json
import os
import subprocess

import pytest

from lab_helpers import LAB

NAMES = {"user": "svc-user", "tap": "svc-tap"}

# Runs in the guest: GET a metadata path (with or without the header); prints status, ETag, body.
GET_PY = r"""
import sys, urllib.request, urllib.error
url, flavor = sys.argv[1], sys.argv[2] == "yes"
req = urllib.request.Request(url, headers={"Metadata-Flavor": "Google"} if flavor else {})
try:
    with urllib.request.urlopen(req, timeout=120) as r:
        print(r.status, r.headers.get("ETag"), r.headers.get("Metadata-Flavor"), r.read().decode(), sep="\n", flush=True)
except urllib.error.HTTPError as e:
    print(e.code, None, e.headers.get("Metadata-Flavor"), e.read().decode(), sep="\n", flush=True)
"""


def guest_get(lab, name, url, flavor=True):
    out = lab.ssh(name, "python3 -c %s %s %s" % (_q(GET_PY), _q(url), "yes" if flavor else "no"))
    status, etag, header, body = out.split("\n", 3)
    return int(status), etag, header, body.rstrip("\n")


def _q(s):
    return "'" + s.replace("'", "'\"'\"'") + "'"


@pytest.fixture(scope="module")
def services(lab):
    started = {}
    try:
        specs = [["--name", NAMES["user"], "--metadata"]]
        if os.geteuid() == 0:
            specs.append(["--name", NAMES["tap"], "--net", "tap", "--metadata"])
        started = lab.up_many(specs)
        yield started
    finally:
        lab.collect()
        present = [n for n in NAMES.values() if n in {g["name"] for g in lab.status()}]
        if present:
            lab.down(*present)


@pytest.mark.parametrize("net", ["user", "tap"])
def test_metadata_by_address_and_name_with_the_header(lab, services, net):
    if NAMES[net] not in services:
        pytest.skip("tap needs root")
    name = NAMES[net]
    info = services[name]
    assert not any("no metadata server" in g["what"] for g in info["gaps"])
    status, etag, flavor, body = guest_get(lab, name, "http://metadata.google.internal/computeMetadata/v1/instance/hostname")
    assert (status, flavor) == (200, "Google") and etag
    assert body == "%s.us-central1-a.c.guestready-lab.internal" % name
    status, _, _, body = guest_get(lab, name, "http://169.254.169.254/computeMetadata/v1/instance/network-interfaces/0/ip")
    assert status == 200 and body == info["guest_ip"]
    status, _, _, _ = guest_get(lab, name, "http://169.254.169.254/computeMetadata/v1/instance/hostname", flavor=False)
    assert status == 403


def test_content_change_returns_a_waiting_long_poll(lab, services):
    """A long poll from inside the guest returns when the content file changes (new ETag)."""
    name = NAMES["user"]
    url = "http://169.254.169.254/computeMetadata/v1/instance/attributes/?recursive=true"
    status, etag, _, body = guest_get(lab, name, url)
    assert status == 200 and "lab-test" not in json.loads(body)
    poll = subprocess.Popen(
        [LAB, "ssh", name, "--", "python3 -c %s %s yes" % (
            _q(GET_PY), _q(url + "&wait_for_change=true&timeout_sec=600&last_etag=" + etag))],
        env=lab.env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # the poll is waiting (no answer yet) while nothing changed; then change the content
        with pytest.raises(subprocess.TimeoutExpired):
            poll.wait(timeout=15)
        lab.run("metadata", name, "--set", "instance/attributes/lab-test=changed")
        out, err = poll.communicate(timeout=300)
    finally:
        if poll.poll() is None:
            poll.kill()
            poll.communicate()
    status, new_etag, _, body = out.split("\n", 3)
    assert int(status) == 200 and new_etag != etag, err
    assert json.loads(body)["lab-test"] == "changed"


@pytest.mark.parametrize("net", ["user", "tap"])
def test_apt_update_from_the_lab_repository(lab, services, net):
    if NAMES[net] not in services:
        pytest.skip("tap needs root")
    out = lab.ssh(NAMES[net], "cat /etc/apt/sources.list; apt-get update 2>&1; echo rc=$?", timeout=600)
    assert "deb [trusted=yes] http://169.254.169.253/debian ./" in out
    assert "rc=0" in out, out
    assert "169.254.169.253/debian ./ Packages" in out or "169.254.169.253/debian ./ Release" in out


def test_apt_install_google_guest_agent(lab, services):
    """apt-get install of a package the image does not have, with its dependencies."""
    name = NAMES["user"]
    out = lab.ssh(name, "apt-get update -q >/dev/null 2>&1; DEBIAN_FRONTEND=noninteractive "
                        "apt-get install -y -q google-guest-agent 2>&1; echo rc=$?; "
                        "dpkg-query -W -f '${Status} ${Version}\\n' google-guest-agent", timeout=1200)
    assert "rc=0" in out, out
    assert "install ok installed 20211116" in out
