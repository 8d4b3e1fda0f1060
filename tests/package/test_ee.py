"""The Execution Environment: `make ee-context` (ansible-builder create on docs/ee) gives a
build context that installs this collection, and ansible-builder's own introspection finds the
collection's system packages (meta/execution-environment.yml -> bindep.txt) for Debian and
for the RPM-based EE images.  No image is built (that needs podman and a registry)."""

import os
import subprocess
import sys
import tarfile

import pytest
import yaml
from bindep.depends import Depends

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
CONTEXT = os.path.join(ROOT, "build", "ee", "context")
TARBALL = os.path.join(CONTEXT, "_build", "collections", "guestready-gce.tar.gz")
OFFLINE_TOOLS = {"platform:dpkg": ["zstd", "lz4", "cpio", "xz-utils"], "platform:rpm": ["zstd", "lz4", "cpio", "xz"]}


def run(args, **kwargs):
    proc = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          check=False, **kwargs)
    assert proc.returncode == 0, "%s failed:\n%s" % (" ".join(args), proc.stdout)
    return proc.stdout


@pytest.fixture(scope="module")
def context():
    run(["make", "--no-print-directory", "ee-context"], cwd=ROOT)
    with open(os.path.join(CONTEXT, "Containerfile")) as handle:
        return handle.read()


def test_containerfile_installs_core_the_collection_and_its_system_packages(context):
    definition = yaml.safe_load(open(os.path.join(ROOT, "docs", "ee", "execution-environment.yml")))
    assert context.startswith('ARG EE_BASE_IMAGE="%s"' % definition["images"]["base_image"]["name"])
    assert 'ARG ANSIBLE_INSTALL_REFS="ansible-core>=2.16,<2.20 ansible-runner"' in context
    assert "ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml" in context
    # the builder stage collects every installed collection's bindep.txt; the final stage installs it
    assert "introspect.py introspect --write-bindep=/tmp/src/bindep.txt" in context
    assert "RUN /output/scripts/install-from-bindep" in context
    assert context.index("COPY _build /build") < context.index("ansible-galaxy collection install")


def test_context_carries_the_collection_tarball(context):
    requirements = yaml.safe_load(open(os.path.join(CONTEXT, "_build", "requirements.yml")))
    assert requirements["collections"] == [{"name": "/build/collections/guestready-gce.tar.gz", "type": "file"}]
    with tarfile.open(TARBALL) as archive:
        names = archive.getnames()
        manifest = archive.extractfile("MANIFEST.json").read().decode()
    assert '"namespace": "guestready"' in manifest and '"name": "gce"' in manifest
    assert "meta/execution-environment.yml" in names
    assert "bindep.txt" in names


def test_introspection_finds_the_collection_system_packages(context, tmp_path):
    """What the builder stage runs, on the tarball installed as the galaxy stage installs it."""
    collections = tmp_path / "collections"
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith("ANSIBLE_"))
    run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "-p", str(collections), TARBALL],
        cwd=str(tmp_path), env=env)
    bindep_out = tmp_path / "bindep.txt"
    run([sys.executable, os.path.join(CONTEXT, "_build", "scripts", "introspect.py"), "introspect",
         str(collections), "--write-bindep=%s" % bindep_out, "--write-pip=%s" % (tmp_path / "pip.txt")])
    lines = bindep_out.read_text().splitlines()
    assert lines and all(line.endswith("# from collection guestready.gce") for line in lines), lines
    assert not (tmp_path / "pip.txt").exists()  # no Python requirements beyond ansible-core
    depends = Depends(bindep_out.read_text())
    for platform, packages in OFFLINE_TOOLS.items():
        assert [rule[0] for rule in depends.active_rules(["default", platform])] == packages, platform
    # disk image tools only with the image profile
    assert "qemu-utils" in [rule[0] for rule in depends.active_rules(["default", "image", "platform:dpkg"])]
    assert "qemu-img" in [rule[0] for rule in depends.active_rules(["default", "image", "platform:rpm"])]


def test_bindep_names_packages_this_machine_has():
    """Debian package names in bindep.txt are real: the dependency step installed them here."""
    out = run([os.path.join(BIN, "bindep"), "--file", os.path.join(ROOT, "bindep.txt"), "--brief", "default"])
    assert out.strip() == ""
