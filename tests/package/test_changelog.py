"""The changelog a release would get: `antsibull-changelog release` on a copy of the
collection announces every module (from its version_added), every role and the shipped
playbooks harden, verify and image (from the fragments' `add object` sections), and the
release summary."""

import glob
import os
import re
import shutil
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)


def section(text, title):
    match = re.search(r"^%s\n-+\n\n(.*?)(?:\n\n[^\n]+\n-+\n|\Z)" % re.escape(title), text, re.S | re.M)
    assert match, "no %r section in:\n%s" % (title, text)
    return match.group(1)


def test_release_announces_modules_roles_and_playbooks(tmp_path):
    copy = tmp_path / "collection"
    shutil.copytree(ROOT, str(copy), ignore=shutil.ignore_patterns(
        ".git", ".venv", ".ansible", "build", "lab", "molecule", "tests", "reports", ".lab"))
    subprocess.run(["git", "init", "-q", str(copy)], check=True)
    version = yaml.safe_load(open(os.path.join(ROOT, "galaxy.yml")))["version"]
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ["PATH"],
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".ansible", "collections"))
    proc = subprocess.run([os.path.join(BIN, "antsibull-changelog"), "release", "--version", version,
                           "--date", "2026-01-01"], cwd=str(copy), env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    assert proc.returncode == 0, proc.stdout
    text = (copy / "CHANGELOG.rst").read_text()

    assert section(text, "Release Summary").startswith("First release.")
    modules = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(ROOT, "plugins", "modules", "*.py")))
    announced = re.findall(r"^- guestready\.gce\.(\w+) - ", section(text, "New Modules"), re.M)
    assert announced == modules
    roles = sorted(os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "roles", "*")))
    assert re.findall(r"^- guestready\.gce\.(\w+) - ", section(text, "New Roles"), re.M) == roles
    assert re.findall(r"^- guestready\.gce\.(\w+) - ", section(text, "New Playbooks"), re.M) == [
        "harden", "image", "report_merge", "verify"]
    # fragments describe changes, not the new modules themselves
    for title in ("Major Changes", "Minor Changes"):
        for module in modules:
            assert not re.search(r"^- %s - new\b" % module, section(text, title), re.M | re.I)
