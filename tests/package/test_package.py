"""The Galaxy tarball: what it carries, and that the collection works from
where `ansible-galaxy collection install` puts it."""

import glob
import os
import subprocess
import sys
import tarfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
MODULES = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(ROOT, "plugins", "modules", "*.py")))


def run(args, cwd, env=None):
    proc = subprocess.run(args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)
    assert proc.returncode == 0, "%s failed:\n%s" % (" ".join(args), proc.stdout)
    return proc.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    work = tmp_path_factory.mktemp("package")
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith("ANSIBLE_"))
    run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--output-path", str(work), ROOT],
        cwd=str(work), env=env)
    tarball = glob.glob(str(work / "guestready-gce-*.tar.gz"))[0]
    target = work / "collections"
    run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--force", "-p", str(target), tarball],
        cwd=str(work), env=env)
    env["ANSIBLE_COLLECTIONS_PATH"] = str(target)
    return tarball, env, work


def test_tarball_carries_the_collection_and_nothing_of_the_lab(installed):
    tarball = installed[0]
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    for expected in ["galaxy.yml", "MANIFEST.json", "meta/runtime.yml", "meta/execution-environment.yml",
                     "bindep.txt", "docs/requirements.md",
                     "playbooks/harden.yml", "playbooks/verify.yml", "roles/sysctl/meta/argument_specs.yml",
                     "plugins/module_utils/catalogue.py"]:
        if expected == "galaxy.yml":  # not shipped: the build turns it into MANIFEST.json and FILES.json
            assert expected not in names and "FILES.json" in names, names
        else:
            assert expected in names, expected
    for forbidden in ("lab/", "molecule/", "tests/lab/", "tests/bench/", "tests/deps/", "tests/matrix/", ".ci/",
                      ".venv/", ".lab/", "build/", "tests/output/", ".hypothesis/"):
        assert not [n for n in names if n.startswith(forbidden)], forbidden
    assert "ansible.cfg" not in names


@pytest.mark.parametrize("module", MODULES)
def test_ansible_doc_from_the_installed_collection(installed, module):
    dummy, env, work = installed
    out = run([os.path.join(BIN, "ansible-doc"), "guestready.gce.%s" % module], cwd=str(work), env=env)
    assert "guestready.gce.%s" % module in out
    # the documentation is the installed copy's, not the source tree's (ansible-doc names the file)
    installed_file = os.path.join(str(work), "collections", "ansible_collections", "guestready", "gce",
                                  "plugins", "modules", module + ".py")
    assert "(%s)" % installed_file in out, out[:300]


def test_every_module_imports_from_the_installed_collection(installed):
    """Each module and the module_utils it needs are in the tarball: import them from the
    installed copy alone (a module_utils file left out of the build fails here)."""
    dummy, env, work = installed
    path = os.path.join(str(work), "collections")
    script = ("import importlib, sys; sys.path[:0] = [%r]; "
              "[importlib.import_module('ansible_collections.guestready.gce.plugins.modules.' + m) for m in %r]; "
              "import ansible_collections; print(list(ansible_collections.__path__))" % (path, MODULES))
    out = run([sys.executable, "-c", script], cwd=str(work), env=env)
    assert out.strip() == repr([os.path.join(path, "ansible_collections")]), out


@pytest.mark.parametrize("playbook", ["harden", "verify"])
def test_playbooks_by_fqcn(installed, playbook):
    dummy, env, work = installed
    run([os.path.join(BIN, "ansible-playbook"), "--syntax-check", "guestready.gce.%s" % playbook],
        cwd=str(work), env=env)
