"""Report fixtures: result records, and report.html rendered in headless
Chromium (the page's script runs; the DOM it leaves is returned)."""

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser

import pytest

from ansible_collections.guestready.gce.plugins.module_utils.catalogue import BY_ID
from ansible_collections.guestready.gce.plugins.module_utils.results import record

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))))
CHROMIUM = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def schema(name):
    with open(os.path.join(ROOT, "docs", "schemas", name)) as handle:
        return json.load(handle)


def registered(*records, **extra):
    value = {"changed": False, "results": list(records)}
    value.update(extra)
    return value


def rec(rid, status, **extra):
    extra.setdefault("message", "%s is %s" % (rid, status))
    return record(BY_ID[rid], status, actual=1, **extra)


class Dom(HTMLParser):
    """What the rendered page shows: host columns, cells {(host number,
    ID): status}, hidden requirement rows, the evidence panel, the count."""

    def __init__(self, text):
        HTMLParser.__init__(self)
        self.hosts, self.cells, self.rows, self.hidden_rows = [], {}, [], []
        self.details_open = None
        self.text = text
        self.feed(text)
        found = re.search(r'<span id="shown">([^<]*)</span>', text)
        self.shown = found.group(1) if found else None
        found = re.search(r'<h2 id="d-title">([^<]*)</h2>', text)
        self.details_title = found.group(1) if found else None
        found = re.search(r'<dl id="d-body">(.*?)</dl>', text, re.S)
        self.details_body = found.group(1) if found else ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag == "th" and "host" in classes:
            self.hosts.append(attrs["data-host"])
        if tag == "tr" and "data-id" in attrs:
            self.rows.append(attrs["data-id"])
            if "hidden" in classes:
                self.hidden_rows.append(attrs["data-id"])
        if tag == "td" and "data-r" in attrs:
            self.cells[(attrs["data-host"], self.rows[-1])] = attrs["data-status"]
        if tag == "aside" and attrs.get("id") == "details":
            self.details_open = "hidden" not in attrs


@pytest.fixture(scope="session")
def chromium():
    """render(path, query="", script="") -> Dom: the page after its script
    ran (``script`` is appended to a copy of the page first)."""
    if not shutil.which("chromium"):
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run installs it)")

    def render(path, query="", script=""):
        page = path
        if script:
            page = os.path.join(os.path.dirname(path), "scripted-report.html")
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
            # the page's policy runs only scripts it names by hash: the test's one too
            digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
            text = text.replace("script-src ", "script-src 'sha256-%s' " % digest, 1)
            with open(page, "w", encoding="utf-8") as handle:
                handle.write(text.replace("</body></html>", "<script>%s</script></body></html>" % script))
        profile = tempfile.mkdtemp(prefix="chromium-profile-")
        try:
            dom = subprocess.run(CHROMIUM + ["--user-data-dir=" + profile, "--window-size=1200,800", "--dump-dom",
                                             "file://" + page + query], stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, universal_newlines=True, timeout=180, check=True).stdout
        finally:
            shutil.rmtree(profile, ignore_errors=True)
        return Dom(dom)
    return render
