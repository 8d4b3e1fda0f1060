# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's compiled code, kept between module executions.

AnsiballZ runs a module from a zip, and Python keeps no bytecode for a zip: every
execution compiles each of the collection's sources again, and zipimport compiles
each twice (a few hundred kilobytes: 0.25 s on a fast machine, seconds on an emulated
guest). :func:`install` puts a finder before the path-based one on ``sys.meta_path``
that, for the collection's sources found in a zip, keeps the compiled code in the run
cache (``runcache``), keyed by the interpreter's bytecode magic number and the source's
SHA-256: a changed source or another Python is compiled again, and code is never used
for a source it was not compiled from. Sources that are not in a zip (the controller,
tests) are left to the import system as they were.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import importlib.machinery
import importlib.util
import marshal
import sys
import types
import zipimport

from ansible_collections.guestready.gce.plugins.module_utils import runcache

PACKAGE = "ansible_collections.guestready.gce."

try:  # what SourceLoader does with bytecode compiled under another path
    from _imp import _fix_co_filename
except ImportError:  # not CPython: tracebacks name the path of the first compilation
    def _fix_co_filename(code, path):
        pass


def compiled(source, path):
    """The code object of ``source`` (bytes) from ``path``, from the run cache if kept."""
    name = "code-%s" % hashlib.sha256(importlib.util.MAGIC_NUMBER + source).hexdigest()
    data = runcache.read(name)
    if data is not None:
        try:
            code = marshal.loads(data)
        except (EOFError, ValueError, TypeError):
            code = None
        if isinstance(code, types.CodeType):
            _fix_co_filename(code, path)
            return code
    code = compile(source, path, "exec", dont_inherit=True)
    runcache.write(name, marshal.dumps(code))
    return code


class _CachedCodeLoader:
    """Runs a zipped source from kept code; everything else is the zip's own loader's."""

    def __init__(self, importer, path, source):
        self._importer = importer
        self._path = path
        self._source = source

    def __getattr__(self, name):
        return getattr(self._importer, name)

    def get_filename(self, fullname):
        return self._path

    def create_module(self, spec):
        return None  # the default module object

    def get_code(self, fullname):
        return compiled(self._source, self._path)

    def exec_module(self, module):
        exec(self.get_code(module.__name__), module.__dict__)


class _ZippedSourceFinder:
    """Finds the collection's sources in a zip itself: zipimport's own spec asks for the
    file name, which zipimport answers by compiling the source (once more, on import)."""

    def find_spec(self, fullname, path=None, target=None):
        if not fullname.startswith(PACKAGE) or not path:
            return None
        name = fullname.rpartition(".")[2]
        for entry in path:
            importer = sys.path_importer_cache.get(entry)
            if importer is None:
                try:
                    importer = zipimport.zipimporter(entry)
                except (zipimport.ZipImportError, OSError):
                    continue
            if not isinstance(importer, zipimport.zipimporter):
                continue
            for relative, package in ((name + "/__init__.py", True), (name + ".py", False)):
                origin = entry + "/" + relative
                try:
                    source = importer.get_data(origin)
                except (IOError, OSError):
                    continue
                return importlib.util.spec_from_file_location(
                    fullname, origin, loader=_CachedCodeLoader(importer, origin, source),
                    submodule_search_locations=[entry + "/" + name] if package else None)
        return None  # not a zipped source: the finders after this one decide, as before

    def invalidate_caches(self):
        pass


def install():
    """Keep the compiled code of the collection's sources that are imported from now on."""
    if any(isinstance(finder, _ZippedSourceFinder) for finder in sys.meta_path):
        return
    # just before the path-based finder that would find them: finders put first by
    # someone else (an import sandbox, a debugger) still come first
    before = [index for index, finder in enumerate(sys.meta_path) if finder is importlib.machinery.PathFinder]
    sys.meta_path.insert(before[0] if before else len(sys.meta_path), _ZippedSourceFinder())
