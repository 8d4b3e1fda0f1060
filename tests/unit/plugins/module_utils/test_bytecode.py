"""The collection's compiled code kept between module executions (module_utils/bytecode,
module_utils/runcache): sources imported from a zip, as AnsiballZ imports them, are
compiled once per content and interpreter; a changed source is compiled again; a cache
that is not this user's own, or holds something else, is never used."""

import importlib.machinery
import os
import sys
import zipfile

import pytest

from ansible_collections.guestready.gce.plugins.module_utils import bytecode
from ansible_collections.guestready.gce.plugins.module_utils import runcache

SOURCES = {
    "zipped_pkg/__init__.py": "",
    "zipped_pkg/plain.py": "VALUE = 'plain'\n\ndef where():\n    raise RuntimeError('here')\n",
    "zipped_pkg/sub/__init__.py": "from zipped_pkg.sub import leaf\n",
    "zipped_pkg/sub/leaf.py": "# -*- coding: latin-1 -*-\nVALUE = '\xe9'\n",
}


def payload(path, sources):
    with zipfile.ZipFile(str(path), "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in sources.items():
            archive.writestr(name, text.encode("latin-1" if "latin-1" in text else "utf-8"))
    return str(path)


class Sandbox:
    def find_spec(self, fullname, path=None, target=None):
        return None


@pytest.fixture
def zipped(monkeypatch):
    """Imports of ``zipped_pkg`` from a zip through the finder; ``load(zip)`` imports afresh."""
    monkeypatch.setattr(bytecode, "PACKAGE", "zipped_pkg.")
    first = Sandbox()  # e.g. ansible-test's import sandbox, which must stay first
    monkeypatch.setattr(sys, "meta_path", [first] + [finder for finder in sys.meta_path if finder is not first])
    monkeypatch.setattr(sys, "path", list(sys.path))
    bytecode.install()
    bytecode.install()  # once is enough
    ours = [index for index, finder in enumerate(sys.meta_path) if isinstance(finder, bytecode._ZippedSourceFinder)]
    assert sys.meta_path[0] is first and len(ours) == 1
    assert sys.meta_path[ours[0] + 1] is importlib.machinery.PathFinder

    def load(archive):
        for name in [name for name in sys.modules if name.split(".")[0] == "zipped_pkg"]:
            del sys.modules[name]
        sys.path[:] = [archive] + [entry for entry in sys.path if not entry.endswith(".zip")]
        sys.path_importer_cache.pop(archive, None)
        import zipped_pkg.plain
        import zipped_pkg.sub
        return zipped_pkg

    yield load
    for name in [name for name in sys.modules if name.split(".")[0] == "zipped_pkg"]:
        del sys.modules[name]


def compile_counter(monkeypatch):
    calls = []

    def counted(source, path, *args, **kwargs):
        calls.append(path)
        return compile(source, path, *args, **kwargs)
    monkeypatch.setattr(bytecode, "compile", counted, raising=False)
    return calls


def test_zipped_sources_are_compiled_once_per_content(tmp_path, run_cache, zipped, monkeypatch):
    calls = compile_counter(monkeypatch)
    first = payload(tmp_path / "one.zip", SOURCES)
    package = zipped(first)
    assert (package.plain.VALUE, package.sub.leaf.VALUE) == ("plain", "\xe9")
    # each of the package's sources once (zipimport alone compiles each twice)
    assert sorted(os.path.relpath(path, first) for path in calls) == [
        "zipped_pkg/plain.py", "zipped_pkg/sub/__init__.py", "zipped_pkg/sub/leaf.py"]
    assert len([name for name in os.listdir(run_cache) if name.startswith("code-")]) == 3

    # another payload (AnsiballZ's is a new temporary file each time), the same sources
    del calls[:]
    second = payload(tmp_path / "two.zip", SOURCES)
    package = zipped(second)
    assert calls == [] and package.sub.leaf.VALUE == "\xe9"
    assert package.plain.__file__ == os.path.join(second, "zipped_pkg", "plain.py")
    # tracebacks name the payload the code runs from, not the one it was compiled from
    assert package.plain.where.__code__.co_filename == package.plain.__file__
    assert package.sub.__path__ == [os.path.join(second, "zipped_pkg", "sub")]

    # a changed source is compiled again and its new code runs
    changed = dict(SOURCES, **{"zipped_pkg/plain.py": "VALUE = 'changed'\n"})
    package = zipped(payload(tmp_path / "three.zip", changed))
    assert package.plain.VALUE == "changed" and [os.path.basename(path) for path in calls] == ["plain.py"]


def test_a_cache_that_is_not_this_users_own_is_not_used(tmp_path, run_cache, zipped, monkeypatch):
    calls = compile_counter(monkeypatch)
    archive = payload(tmp_path / "one.zip", SOURCES)
    zipped(archive)
    kept = sorted(name for name in os.listdir(run_cache) if name.startswith("code-"))
    assert len(kept) == 3

    # kept code that others could have written is compiled again (and replaced)
    for name in kept:
        os.chmod(os.path.join(run_cache, name), 0o666)
    del calls[:]
    zipped(archive)
    assert len(calls) == 3
    assert all(os.stat(os.path.join(run_cache, name)).st_mode & 0o777 == 0o600 for name in kept)

    # a symbolic link in the cache is not followed; something that is not code is not run
    os.unlink(os.path.join(run_cache, kept[0]))
    os.symlink(os.path.join(run_cache, kept[1]), os.path.join(run_cache, kept[0]))
    with open(os.path.join(run_cache, kept[1]), "wb") as handle:
        handle.write(b"not marshalled code")
    del calls[:]
    package = zipped(archive)
    assert len(calls) == 2 and package.plain.VALUE == "plain"

    # a directory others can write, or a link to one, is no cache at all
    os.chmod(run_cache, 0o777)
    assert runcache.directory() is None and runcache.read(kept[2]) is None
    os.chmod(run_cache, 0o700)
    link = str(tmp_path / "link")
    os.symlink(run_cache, link)
    monkeypatch.setattr(runcache, "CACHE_DIR", link)
    assert runcache.directory() is None
    del calls[:]
    package = zipped(archive)
    assert len(calls) == 3 and package.sub.leaf.VALUE == "\xe9"
    runcache.write("anything", b"data")
    assert not os.path.lexists(os.path.join(run_cache, "anything"))


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_kept_code_of_another_user_is_not_used(tmp_path, run_cache, zipped, monkeypatch):
    calls = compile_counter(monkeypatch)
    archive = payload(tmp_path / "one.zip", SOURCES)
    zipped(archive)
    for name in os.listdir(run_cache):
        os.chown(os.path.join(run_cache, name), 65534, 65534)
    del calls[:]
    zipped(archive)
    assert len(calls) == 3


def test_sources_outside_a_zip_are_left_to_the_import_system(tmp_path, run_cache, zipped):
    tree = tmp_path / "tree"
    for name, text in SOURCES.items():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_bytes(text.encode("latin-1" if "latin-1" in text else "utf-8"))
    package = zipped(str(tree))
    assert package.plain.VALUE == "plain"
    assert not isinstance(package.plain.__loader__, bytecode._CachedCodeLoader)
    assert not os.path.exists(run_cache) or os.listdir(run_cache) == []
