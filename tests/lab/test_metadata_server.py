"""The metadata server stand-in and the apt repository index, without a guest.

The server runs in this process on 127.0.0.1 (a free port), with a content file in a
temporary directory; requests are the ones google-guest-agent 20211116 sends
(GoogleCloudPlatform/guest-agent, google_guest_agent/metadata.go, instance_setup.go).
"""

import hashlib
import json
import subprocess
import threading
import urllib.error
import urllib.request

import pytest

from lab_helpers import ROOT  # noqa: F401  (puts lab/ on sys.path)
from guestready_lab import aptrepo, metadata
from guestready_lab.util import write_json

AGENT_URL = "/computeMetadata/v1//?recursive=true&alt=json"
AGENT_HANG = "&wait_for_change=true&timeout_sec=60"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


@pytest.fixture
def server(tmp_path):
    content = str(tmp_path / "metadata.json")
    data = metadata.default_content("vm-1", "abcd1234", "42:01:0a:80:00:02", "10.0.2.15", "10.0.2.2")
    data["instance"]["attributes"]["ssh-keys"] = "alice:ssh-ed25519 AAAAC3Nza alice@example"
    data["project"]["attributes"]["enable-oslogin"] = "FALSE"
    write_json(content, data)
    debs = tmp_path / "debs"
    debs.mkdir()
    store = metadata.Store(content, poll=0.05)
    srv = metadata.Server(("127.0.0.1", 0), store, aptrepo.Repo(str(tmp_path / "repo"), str(debs)))
    threads = [threading.Thread(target=srv.serve_forever, daemon=True),
               threading.Thread(target=store.watch, daemon=True)]
    for t in threads:
        t.start()
    base = "http://127.0.0.1:%d" % srv.server_address[1]

    def get(path, flavor="Google", headers=None, method="GET", body=None):
        h = dict(headers or {})
        if flavor:
            h["Metadata-Flavor"] = flavor
        req = urllib.request.Request(base + path, headers=h, method=method, data=body)
        try:
            with OPENER.open(req, timeout=30) as resp:
                return resp.status, resp.headers, resp.read().decode("latin-1")
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read().decode("latin-1")

    def rewrite(change):
        with open(content) as f:
            d = json.load(f)
        change(d)
        write_json(content, d)

    yield get, rewrite, content, tmp_path
    srv.shutdown()
    srv.server_close()


def test_requires_the_flavor_header_and_answers_with_it(server):
    get = server[0]
    status, headers, body = get("/computeMetadata/v1/instance/hostname", flavor=None)
    assert status == 403 and "Metadata-Flavor" in body
    status, _, _ = get("/computeMetadata/v1/instance/hostname", flavor="google")
    assert status == 403  # the value is case-sensitive on Compute Engine too
    status, _, _ = get("/computeMetadata/v1/instance/hostname", headers={"X-Forwarded-For": "1.2.3.4"})
    assert status == 403
    status, headers, body = get("/computeMetadata/v1/instance/hostname")
    assert status == 200 and headers["Metadata-Flavor"] == "Google"
    assert body == "vm-1.us-central1-a.c.guestready-lab.internal"


def test_the_agents_recursive_request(server):
    get = server[0]
    status, headers, body = get(AGENT_URL + "&last_etag=NONE")
    assert status == 200 and headers["Content-Type"] == "application/json"
    md = json.loads(body)
    inst, proj = md["instance"], md["project"]
    # the keys the agent's structs match (case-insensitively): ID, MachineType, NetworkInterfaces...
    assert isinstance(inst["id"], int) and inst["machineType"].endswith("/machineTypes/n1-standard-1")
    nic = inst["networkInterfaces"][0]
    assert nic["mac"] == "42:01:0a:80:00:02" and nic["forwardedIps"] == [] and nic["ipAliases"] == []
    assert "targetInstanceIps" in nic
    # attribute names are the user's, never camelCased
    assert inst["attributes"]["ssh-keys"] == "alice:ssh-ed25519 AAAAC3Nza alice@example"
    assert proj["attributes"] == {"enable-oslogin": "FALSE"}
    assert proj["projectId"] == "guestready-lab" and isinstance(proj["numericProjectId"], int)
    assert inst["serviceAccounts"]["default"]["aliases"] == ["default"]
    assert headers["ETag"] == hashlib.sha256(body.encode()).hexdigest()[:16]


def test_paths_text_json_directories(server):
    get = server[0]
    assert get("/computeMetadata/v1/instance/network-interfaces/0/ip")[2] == "10.0.2.15"
    assert get("/computeMetadata/v1/instance/network-interfaces/0/mtu")[2] == "1460"
    assert get("/computeMetadata/v1/instance/id?alt=json")[2].isdigit()
    assert get("/computeMetadata/v1/instance/zone?alt=json")[2] == json.dumps(
        get("/computeMetadata/v1/instance/zone")[2])
    assert get("/computeMetadata/v1/project/project-id")[2] == "guestready-lab"
    listing = get("/computeMetadata/v1/instance/")[2].splitlines()
    assert "hostname" in listing and "network-interfaces/" in listing and "attributes/" in listing
    assert get("/computeMetadata/v1/instance/network-interfaces/")[2] == "0/\n"
    assert get("/computeMetadata/v1/")[2].splitlines() == ["instance/", "project/"]
    status, headers, _ = get("/computeMetadata/v1/instance/attributes?alt=text")
    assert status == 301 and headers["Location"] == "/computeMetadata/v1/instance/attributes/?alt=text"
    assert get("/computeMetadata/v1/instance/attributes/ssh-keys")[2].startswith("alice:")
    assert json.loads(get("/computeMetadata/v1/instance/attributes/?recursive=true")[2]) == {
        "ssh-keys": "alice:ssh-ed25519 AAAAC3Nza alice@example"}
    text = get("/computeMetadata/v1/instance/scheduling/?recursive=true&alt=text")[2]
    assert "on-host-maintenance MIGRATE\n" in text
    assert get("/computeMetadata/v1/instance/nope")[0] == 404
    assert get("/computeMetadata/v1/instance/service-accounts/default/token")[0] == 404
    assert get("/computeMetadata/v1/instance/hostname?alt=yaml")[0] == 400
    assert get("/computeMetadata/v1/instance/hostname?wait_for_change=true&timeout_sec=x")[0] == 400


def test_long_poll_returns_when_the_file_changes(server):
    get, rewrite = server[0], server[1]
    _, headers, body = get(AGENT_URL + "&last_etag=NONE")
    etag = headers["ETag"]
    # a stale last_etag answers at once
    assert get(AGENT_URL + AGENT_HANG + "&last_etag=NONE")[1]["ETag"] == etag
    result = {}
    waiter = threading.Thread(target=lambda: result.update(
        answer=get(AGENT_URL + AGENT_HANG + "&last_etag=" + etag)))
    waiter.start()
    waiter.join(1.0)
    assert waiter.is_alive()  # the current ETag: it waits
    rewrite(lambda d: d["instance"]["attributes"].update({"ssh-keys": "bob:ssh-ed25519 AAAAB bob"}))
    waiter.join(30)
    assert not waiter.is_alive()
    status, headers, body = result["answer"]
    assert status == 200 and headers["ETag"] != etag
    assert json.loads(body)["instance"]["attributes"]["ssh-keys"] == "bob:ssh-ed25519 AAAAB bob"


def test_long_poll_of_a_subtree_ignores_other_changes_and_times_out(server):
    get, rewrite = server[0], server[1]
    url = "/computeMetadata/v1/instance/hostname?wait_for_change=true&timeout_sec=2"
    etag = get("/computeMetadata/v1/instance/hostname")[1]["ETag"]
    result = {}
    waiter = threading.Thread(target=lambda: result.update(answer=get(url + "&last_etag=" + etag)))
    waiter.start()
    rewrite(lambda d: d["project"]["attributes"].update({"x": "1"}))  # not the hostname
    waiter.join(30)
    status, headers, body = result["answer"]
    assert status == 200 and headers["ETag"] == etag  # timed out, unchanged


def test_invalid_content_keeps_the_last_good_one(server):
    get, _, content, _ = server
    with open(content, "w") as f:
        f.write("{not json")
    assert get("/computeMetadata/v1/instance/name")[2] == "vm-1"


def test_guest_attributes_put_and_get(server):
    get = server[0]
    status, _, _ = get("/computeMetadata/v1/instance/guest-attributes/hostkeys/ssh-ed25519",
                       method="PUT", body=b"AAAAC3Nzhost")
    assert status == 200
    assert get("/computeMetadata/v1/instance/guest-attributes/hostkeys/ssh-ed25519")[2] == "AAAAC3Nzhost"
    assert get("/computeMetadata/v1/instance/hostname", method="PUT", body=b"x")[0] == 405
    # not part of the instance tree: the agent's PUTs do not change the ETag it long-polls
    assert "guestAttributes" not in json.loads(get(AGENT_URL)[2])["instance"]


def test_root_answers_without_the_header_with_the_flavor(server):
    status, headers, body = server[0]("/", flavor=None)
    assert (status, headers["Metadata-Flavor"], body) == (200, "Google", "computeMetadata/\n")


def test_set_value_paths():
    data = metadata.default_content("vm", "t", "42:01:0a:80:00:02", "10.0.2.15", "10.0.2.2")
    metadata.set_value(data, "instance/attributes/enable-oslogin", "true")
    metadata.set_value(data, "instance/hostname", "other.example.internal")
    assert data["instance"]["attributes"]["enable-oslogin"] == "true"
    metadata.set_value(data, "instance/attributes/enable-oslogin", None)
    assert "enable-oslogin" not in data["instance"]["attributes"]
    for bad in ("hostname", "/etc/passwd", "instance/hostname/x"):
        with pytest.raises(ValueError):
            metadata.set_value(data, bad, "v")


def make_deb(tmp_path, name, version):
    root = tmp_path / ("%s-%s" % (name, version))
    (root / "DEBIAN").mkdir(parents=True)
    (root / "usr/share/doc" / name).mkdir(parents=True)
    (root / "usr/share/doc" / name / "README").write_text("lab test package\n")
    (root / "DEBIAN/control").write_text(
        "Package: %s\nVersion: %s\nArchitecture: all\nMaintainer: Lab <lab@example.org>\n"
        "Depends: libc6\nDescription: a test package\n two lines of description\n" % (name, version))
    out = tmp_path / "debs" / ("%s_%s_all.deb" % (name, version))
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zxz", "--build", str(root), str(out)],
                   check=True, stdout=subprocess.DEVNULL)
    return out


def test_apt_repository_index_and_files(server):
    get, _, _, tmp_path = server
    deb = make_deb(tmp_path, "lab-hello", "1.0-1+b1")
    (tmp_path / "debs" / "broken_1_all.deb").write_bytes(b"!<arch>\nnot really")
    assert aptrepo.build_index(str(tmp_path / "debs"), str(tmp_path / "repo")) == 1
    status, _, packages = get("/debian/./Packages", flavor=None)  # as apt asks a flat repo
    assert status == 200
    stanza = dict(l.split(": ", 1) for l in packages.splitlines() if ": " in l and not l.startswith(" "))
    data = deb.read_bytes()
    assert stanza["Package"] == "lab-hello" and stanza["Version"] == "1.0-1+b1"
    assert stanza["Filename"] == "pool/" + deb.name and stanza["Size"] == str(len(data))
    assert stanza["SHA256"] == hashlib.sha256(data).hexdigest()
    assert " two lines of description" in packages
    release = get("/debian/Release", flavor=None)[2]
    assert hashlib.sha256(packages.encode()).hexdigest() in release
    assert get("/debian/pool/" + deb.name, flavor=None)[0] == 200
    # as apt asks for it: '+' quoted
    assert get("/debian/./pool/" + deb.name.replace("+", "%2b"), flavor=None)[0] == 200
    for bad in ("/debian/pool/../metadata.json", "/debian/pool/%2e%2e/x.deb", "/debian/../../etc/passwd"):
        assert get(bad, flavor=None)[0] == 404, bad


def test_metadata_paths_need_the_flag_when_disabled(tmp_path):
    srv = metadata.Server(("127.0.0.1", 0), None, None)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        req = urllib.request.Request("http://127.0.0.1:%d/computeMetadata/v1/" % srv.server_address[1],
                                     headers={"Metadata-Flavor": "Google"})
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=10)
        assert e.value.code == 404 and "Metadata-Flavor" not in e.value.headers
    finally:
        srv.shutdown()
        srv.server_close()
