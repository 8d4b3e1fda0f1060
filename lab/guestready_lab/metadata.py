"""A stand-in for Compute Engine's metadata server, and the lab's HTTP services process.

One process per guest (`lab up` starts it, `lab down` stops it by PID), standard library
only, threaded (`http.server.ThreadingHTTPServer`: long polls do not block other requests).
It listens on 127.0.0.1 (user networking: QEMU forwards the guest's 169.254.169.254:80 and
169.254.169.253:80 to it with guestfwd) or inside the guest's private network namespace (tap).

Paths:
  /computeMetadata/v1/...   the metadata API, when the guest has it (`lab up --metadata`)
  /debian/...               the lab's apt repository (aptrepo.py), for every guest

What the metadata API answers is what google-guest-agent (Debian bookworm: 20211116) asks
for: GoogleCloudPlatform/guest-agent, tag 20211116.00, google_guest_agent/metadata.go
(getMetadata: GET `computeMetadata/v1//?recursive=true&alt=json` plus
`&wait_for_change=true&timeout_sec=60` and `&last_etag=<ETag>`, header `Metadata-Flavor:
Google`; the ETag of the answer is the next `last_etag`; the JSON keys are matched to
`ID`, `MachineType`, `NetworkInterfaces` (`ForwardedIps`, `IPAliases`, `Mac`...),
`Attributes` (`ssh-keys`, `enable-oslogin`, `block-project-ssh-keys`...), `ProjectID`,
`NumericProjectID` case-insensitively, as the real server's camelCase keys are), and
instance_setup.go (writeGuestAttributes: PUT `instance/guest-attributes/<ns>/<key>`).
The rest follows Compute Engine's documentation "About VM metadata" / "Query VM metadata":
the `Metadata-Flavor: Google` request header is required (403 without it, and for requests
carrying `X-Forwarded-For`), answers carry it too; directories list their entries (`name/`
for subdirectories) and redirect when asked for without the trailing slash;
`?recursive=true` answers JSON with camelCase keys (attribute names as written);
`?alt=json|text`; `?wait_for_change=true` waits until the answer's ETag differs from
`last_etag` (returns at once if it already does) or `timeout_sec` passes.

Content: a JSON file the lab writes per guest (`guests/<name>/metadata.json`, paths in the
API's own dashed names: {"instance": {"hostname": ..., "network-interfaces": [...],
"attributes": {"ssh-keys": "user:ssh-ed25519 ..."}}, "project": {...}}). The server re-reads
it when it changes (tests rewrite it while the guest runs: `lab metadata NAME --set`), and
waiting long polls return with the new ETag. Not provided: OS Login's user/group endpoints
(`oslogin/...`) and OAuth tokens (`service-accounts/*/token` answers 404: no credentials in
the lab).
"""

import argparse
import hashlib
import http.server
import json
import os
import re
import sys
import threading
import time
import urllib.parse

FLAVOR = "Google"
PREFIX = "/computeMetadata/v1"
MAX_TIMEOUT = 3600
DEFAULT_TIMEOUT = 300   # a wait_for_change without timeout_sec
# Keys of these directories are names the user chose, never converted to camelCase.
VERBATIM = ("attributes", "service-accounts", "guest-attributes")


class Store:
    """The content file, re-read when it changes; waiters are woken on every change."""

    def __init__(self, path, poll=0.2):
        self.path = path
        self.poll = poll
        self.cond = threading.Condition()
        self.version = 0
        self.data = {}
        self.guest_attributes = {}
        self.error = None
        self._sig = None
        self.reload()

    def _signature(self):
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def reload(self):
        sig = self._signature()
        if sig == self._sig:
            return False
        self._sig = sig
        try:
            with open(self.path) as f:
                data = json.load(f)
            if not isinstance(data, dict) or not isinstance(data.get("instance"), dict) \
                    or not isinstance(data.get("project"), dict):
                raise ValueError("needs the objects \"instance\" and \"project\"")
        except (OSError, ValueError) as e:
            # keep serving the last good content; say why on stderr (services.log)
            self.error = "%s: %s" % (self.path, e)
            print("metadata: ignoring %s" % self.error, file=sys.stderr, flush=True)
            return False
        with self.cond:
            self.data = data
            self.error = None
            self.version += 1
            self.cond.notify_all()
        return True

    def watch(self):
        while True:
            time.sleep(self.poll)
            self.reload()

    def put_guest_attribute(self, key, value):
        with self.cond:
            self.guest_attributes[key] = value
            self.version += 1
            self.cond.notify_all()

    def tree(self, guest_attributes=False):
        """The tree as the API shows it. Guest attributes (written by the guest) only on their
        own path: they are not instance metadata, and a PUT must not wake the agent's long
        poll of the whole tree (the agent PUTs guest-agent/sshable when it runs)."""
        with self.cond:
            if not guest_attributes:
                return self.data, self.version
            ga = {}
            for key, value in self.guest_attributes.items():
                ns, _, name = key.partition("/")
                ga.setdefault(ns, {})[name] = value
            return {"instance": {"guest-attributes": ga}}, self.version

    def wait(self, version, timeout):
        with self.cond:
            self.cond.wait_for(lambda: self.version != version, timeout)
            return self.version


PROJECT = "guestready-lab"
ZONE = "us-central1-a"


def default_content(name, tag, mac, ip, gateway, netmask="255.255.255.0", mtu=1460):
    """What `lab up --metadata` serves for guest `name` of the state dir tagged `tag`: the
    fields of a Compute Engine instance, with this guest's own NIC (MAC, address)."""
    number = int(hashlib.sha256(tag.encode()).hexdigest()[:10], 16) % 10 ** 12
    instance_id = int(hashlib.sha256((tag + "/" + name).encode()).hexdigest()[:15], 16)
    project = "projects/%d" % number
    return {
        "instance": {
            "hostname": "%s.%s.c.%s.internal" % (name, ZONE, PROJECT),
            "id": instance_id,
            "name": name,
            "zone": "%s/zones/%s" % (project, ZONE),
            # not an e2 type: the agent sets vm.overcommit_memory=1 on those (instance_setup.go)
            "machine-type": "%s/machineTypes/n1-standard-1" % project,
            "cpu-platform": "Intel Broadwell",
            "image": "projects/%s/global/images/guestready-lab" % PROJECT,
            "description": "",
            "tags": [],
            "maintenance-event": "NONE",
            "preempted": "FALSE",
            "scheduling": {"automatic-restart": "TRUE", "on-host-maintenance": "MIGRATE",
                           "preemptible": "FALSE"},
            "network-interfaces": [{
                "mac": mac, "ip": ip, "gateway": gateway, "subnetmask": netmask, "mtu": mtu,
                "network": "%s/networks/default" % project,
                "dns-servers": ["169.254.169.254"],
                "access-configs": [], "forwarded-ips": [], "ip-aliases": [],
                "target-instance-ips": [],
            }],
            "attributes": {},
            "service-accounts": {"default": {
                "aliases": ["default"],
                "email": "%d-compute@developer.gserviceaccount.com" % number,
                "scopes": ["https://www.googleapis.com/auth/cloud-platform"],
            }},
            "virtual-clock": {"drift-token": "0"},
        },
        "project": {"project-id": PROJECT, "numeric-project-id": number, "attributes": {}},
    }


def set_value(content, path, value):
    """Set (value not None) or delete the entry at a slash path ("instance/attributes/ssh-keys")."""
    parts = [p for p in path.split("/") if p]
    if not parts or parts[0] not in ("instance", "project"):
        raise ValueError("metadata paths start with instance/ or project/, not %r" % path)
    node = content
    for part in parts[:-1]:
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict):
            node = node.setdefault(part, {})
        else:
            raise ValueError("%r: %s is not a directory" % (path, part))
    if not isinstance(node, dict):
        raise ValueError("%r: cannot set an entry of a list" % path)
    if value is None:
        node.pop(parts[-1], None)
    else:
        node[parts[-1]] = value
    return content


def camel(key):
    head, *rest = key.split("-")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


def to_json(node, verbatim=False):
    """The recursive JSON form: camelCase keys except under VERBATIM directories."""
    if isinstance(node, dict):
        return {(k if verbatim else camel(k)): to_json(v, k in VERBATIM and not verbatim)
                for k, v in node.items()}
    if isinstance(node, list):
        return [to_json(v) for v in node]
    return node


def is_dir(node):
    return isinstance(node, dict) or (isinstance(node, list) and any(isinstance(v, (dict, list)) for v in node))


def children(node):
    if isinstance(node, dict):
        return list(node.items())
    return [(str(i), v) for i, v in enumerate(node)]


def text_value(value):
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value)   # a list of scalars (tags, forwarded IPs...)


def flatten(node, prefix=""):
    for name, child in children(node):
        if is_dir(child):
            yield from flatten(child, prefix + name + "/")
        else:
            yield prefix + name, text_value(child)


def lookup(tree, parts):
    node = tree
    for part in parts:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None, False
    return node, True


def render(tree, path, query):
    """(status, body, content type, extra headers) for a GET of `path` (under /computeMetadata/v1)."""
    trailing = path.endswith("/") or path == ""
    parts = [p for p in path.split("/") if p]
    node, found = lookup(tree, parts)
    if not found:
        return 404, "Not Found\n", "text/html; charset=UTF-8", {}
    recursive = query.get("recursive", "false").lower() == "true"
    alt = query.get("alt", "json" if recursive else "text")
    if alt not in ("json", "text"):
        return 400, "Invalid alt parameter %r (json or text)\n" % alt, "text/html; charset=UTF-8", {}
    if is_dir(node) and not trailing and not recursive:
        # as the real server: a directory is a path ending in /
        qs = urllib.parse.urlencode(query)
        return 301, "", "text/html; charset=UTF-8", {
            "Location": PREFIX + "/" + "/".join(parts) + "/" + ("?" + qs if qs else "")}
    if is_dir(node) and recursive:
        if alt == "json":
            verbatim = bool(parts) and parts[-1] in VERBATIM
            return 200, json.dumps(to_json(node, verbatim), sort_keys=True), "application/json", {}
        return 200, "".join("%s %s\n" % kv for kv in flatten(node)), "application/text", {}
    if is_dir(node):
        names = [n + "/" if is_dir(c) else n for n, c in children(node)]
        if alt == "json":
            return 200, json.dumps(names), "application/json", {}
        return 200, "".join(n + "\n" for n in names), "application/text", {}
    if parts[-2:-1] and parts[-1] == "token" and "service-accounts" in parts:
        return 404, "Not Found\n", "text/html; charset=UTF-8", {}
    if alt == "json":
        return 200, json.dumps(node), "application/json", {}
    return 200, text_value(node), "application/text", {}


def etag_of(body):
    return hashlib.sha256(body.encode()).hexdigest()[:16]


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "Metadata Server for VM"
    sys_version = ""
    protocol_version = "HTTP/1.1"

    # set on the server object: store (Store or None), repo (aptrepo.Repo or None)

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.log_date_time_string(), fmt % args))

    def send(self, status, body, ctype="application/text", headers=None, flavor=True):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        if flavor:
            self.send_header("Metadata-Flavor", FLAVOR)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _metadata_request(self):
        """None when the request may go on, else the refusal already sent."""
        if self.server.store is None:
            self.send(404, "No metadata server for this lab guest (lab up --metadata)\n",
                      "text/plain", flavor=False)
            return False
        if self.headers.get("X-Forwarded-For"):
            self.send(403, "Request with X-Forwarded-For header is forbidden.\n", "text/html")
            return False
        if self.headers.get("Metadata-Flavor") != FLAVOR:
            self.send(403, "Missing Metadata-Flavor:Google header.\n", "text/html")
            return False
        return True

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        repo = self.server.repo
        if repo is not None and (url.path == repo.prefix or url.path.startswith(repo.prefix + "/")):
            status, body, ctype = repo.get(url.path[len(repo.prefix):])
            return self.send(status, body, ctype, flavor=False)
        if url.path == "/" and self.server.store is not None:
            # the root answers without the request header, with the response header: how
            # clients tell they are on Compute Engine (cloud.google.com/go/compute/metadata
            # OnGCE, which the agent's Cloud Logging client calls, sends no header)
            return self.send(200, "computeMetadata/\n")
        if url.path in ("/computeMetadata", "/computeMetadata/"):
            if not self._metadata_request():
                return
            return self.send(200, "v1/\n")
        if url.path != PREFIX and not url.path.startswith(PREFIX + "/"):
            return self.send(404, "Not Found\n", "text/html; charset=UTF-8",
                             flavor=self.server.store is not None)
        if not self._metadata_request():
            return
        query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        path = url.path[len(PREFIX):]
        try:
            wait = query.get("wait_for_change", "false").lower() == "true"
            timeout = float(query.get("timeout_sec", DEFAULT_TIMEOUT))
            if not 0 < timeout <= MAX_TIMEOUT:
                raise ValueError
        except ValueError:
            return self.send(400, "timeout_sec must be a number of seconds in (0, %d]\n" % MAX_TIMEOUT,
                             "text/html")
        args = {k: v for k, v in query.items() if k in ("recursive", "alt")}
        store = self.server.store
        ga = path.strip("/").startswith("instance/guest-attributes")
        tree, version = store.tree(ga)
        status, body, ctype, headers = render(tree, path, args)
        if wait and status == 200:
            last = query.get("last_etag")
            first = etag_of(body)
            deadline = time.monotonic() + timeout
            # returns at once when the caller's ETag is already stale; else on a change
            while (last is None or first == last) and etag_of(body) == first:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                version = store.wait(version, remaining)
                tree, version = store.tree(ga)
                status, body, ctype, headers = render(tree, path, args)
                if status != 200:
                    break
        if status == 200:
            headers = dict(headers, ETag=etag_of(body))
        self.send(status, body, ctype, headers)

    def do_PUT(self):
        url = urllib.parse.urlsplit(self.path)
        prefix = PREFIX + "/instance/guest-attributes/"
        if not url.path.startswith(prefix):
            return self.send(405, "Method Not Allowed\n", "text/html")
        if not self._metadata_request():
            return
        key = url.path[len(prefix):]
        if not re.match(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", key):
            return self.send(400, "guest attribute keys are <namespace>/<key>\n", "text/html")
        length = int(self.headers.get("Content-Length") or 0)
        value = self.rfile.read(length).decode("utf-8", "replace")
        self.server.store.put_guest_attribute(key, value)
        self.send(200, "")


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, store=None, repo=None):
        super().__init__(address, Handler)
        self.store = store
        self.repo = repo


def serve(listen, content=None, repo_dir=None, debs=None, ready=None):
    """Listen on every (host, port) of `listen`; write the bound ports to `ready` (JSON)."""
    from . import aptrepo  # noqa: PLC0415 (only the services process needs it)
    store = Store(content) if content else None
    repo = aptrepo.Repo(repo_dir, debs) if repo_dir else None
    servers = [Server(addr, store, repo) for addr in listen]
    if store is not None:
        threading.Thread(target=store.watch, daemon=True).start()
    for s in servers[1:]:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    if ready:
        tmp = ready + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"ports": [s.server_address[1] for s in servers], "pid": os.getpid()}, f)
        os.replace(tmp, ready)
    servers[0].serve_forever()


def _address(text):
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError("expected HOST:PORT, not %r" % text)
    return host, int(port)


def main(argv=None):
    p = argparse.ArgumentParser(prog="guestready_lab.metadata",
                                description="the lab's metadata server stand-in and apt repository")
    p.add_argument("--listen", type=_address, action="append", required=True, metavar="HOST:PORT")
    p.add_argument("--content", help="metadata JSON file (omit: no metadata API)")
    p.add_argument("--repo", help="apt repository index directory to serve under /debian")
    p.add_argument("--debs", help="directory of the repository's .deb files")
    p.add_argument("--ready", help="write the bound ports here once listening")
    a = p.parse_args(argv)
    try:
        serve(a.listen, a.content, a.repo, a.debs, a.ready)
    except KeyboardInterrupt:
        return 0
    except OSError as e:
        print("metadata: error: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
