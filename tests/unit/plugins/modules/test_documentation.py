"""Every module's DOCUMENTATION, EXAMPLES and RETURN are valid YAML with the
fields ansible-doc and validate-modules need (a fast local check)."""

import ast
import glob
import os

import pytest
import yaml

MODULES = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..",
                                        "plugins", "modules", "*.py")))


def blocks(path):
    with open(path) as handle:
        tree = ast.parse(handle.read())
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) in (
                "DOCUMENTATION", "EXAMPLES", "RETURN"):
            found[node.targets[0].id] = node.value.value
    return found


@pytest.mark.parametrize("path", MODULES, ids=os.path.basename)
def test_documentation_parses(path):
    docs = blocks(path)
    assert set(docs) == {"DOCUMENTATION", "EXAMPLES", "RETURN"}
    documentation = yaml.safe_load(docs["DOCUMENTATION"])
    assert documentation["module"] == os.path.basename(path)[:-3]
    fragments = documentation.get("extends_documentation_fragment", [])
    assert {"check_mode", "diff_mode"} <= set(documentation.get("attributes", {})) or \
        "guestready.gce.attributes.info_module" in fragments
    assert isinstance(yaml.safe_load(docs["EXAMPLES"]), list)
    assert isinstance(yaml.safe_load(docs["RETURN"]), dict)


FRAGMENTS = sorted(glob.glob(os.path.join(os.path.dirname(MODULES[0]), "..", "doc_fragments", "*.py")))


@pytest.mark.parametrize("path", FRAGMENTS, ids=os.path.basename)
def test_doc_fragments_parse(path):
    with open(path) as handle:
        tree = ast.parse(handle.read())
    cls = [node for node in tree.body if isinstance(node, ast.ClassDef)][0]
    for node in cls.body:
        if isinstance(node, ast.Assign):
            assert set(yaml.safe_load(node.value.value)) & {"options", "attributes"}


ROLES = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "roles", "*")))


@pytest.mark.parametrize("role", ROLES, ids=os.path.basename)
def test_role_argument_specs_document_the_real_defaults(role):
    """ansible-doc -t role shows the argument spec's default: it must be defaults/main.yml's."""
    with open(os.path.join(role, "defaults", "main.yml")) as handle:
        defaults = yaml.safe_load(handle) or {}
    with open(os.path.join(role, "meta", "argument_specs.yml")) as handle:
        specs = yaml.safe_load(handle)["argument_specs"]
    wrong = ["%s.%s: documented %r, defaults/main.yml has %r" % (entry, name, option["default"], defaults[name])
             for entry, spec in specs.items() for name, option in spec.get("options", {}).items()
             if "default" in option and name in defaults and option["default"] != defaults[name]]
    assert not wrong
