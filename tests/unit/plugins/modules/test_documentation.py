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


def test_sysctl_baseline_documents_every_field_of_its_records(tmp_path, run_module):
    """RETURN's results[] left out area, severity (what the report's gate reads), title and
    evidence, which every record has; sysctl_baseline_info refers to these fields too."""
    from ansible_collections.guestready.gce.plugins.modules import sysctl_baseline, sysctl_baseline_info
    root = tmp_path / "image"
    (root / "etc" / "sysctl.d").mkdir(parents=True)
    (root / "etc" / "sysctl.conf").write_text("kernel.kptr_restrict = 0\n")
    documented = set(yaml.safe_load(sysctl_baseline.RETURN)["results"]["contains"])
    for module, check_mode in ((sysctl_baseline, True), (sysctl_baseline_info, False)):
        out = run_module(module, {"root": str(root)}, check_mode=check_mode)
        returned = set(key for record in out["results"] for key in record)
        assert returned - documented == set(), module.__name__


@pytest.mark.parametrize("role", ROLES, ids=os.path.basename)
def test_a_required_role_variable_has_no_default(role):
    """The role's argument check reads defaults/main.yml too: the image role's image_path
    (required) had the default "", so a play that forgot it passed the check and failed in
    the module with "path: '' is empty", naming an option the role's user never wrote."""
    with open(os.path.join(role, "defaults", "main.yml")) as handle:
        defaults = yaml.safe_load(handle) or {}
    with open(os.path.join(role, "meta", "argument_specs.yml")) as handle:
        specs = yaml.safe_load(handle)["argument_specs"]
    wrong = ["%s.%s" % (entry, name) for entry, spec in specs.items()
             for name, option in spec.get("options", {}).items() if option.get("required") and name in defaults]
    assert not wrong


def test_the_hardware_and_kernel_modules_name_every_field_of_their_records(tmp_path, run_module, monkeypatch):
    """Their RETURN lists the records' fields in prose; area, severity (what the report's gate
    reads) and title were left out, and kernel_config_info also left out id, evidence and waiver."""
    import re
    from ansible_collections.guestready.gce.plugins.module_utils import initramfs
    from ansible_collections.guestready.gce.plugins.modules import guest_hardware_info, kernel_config_info
    import trees
    release = "6.1.0-50-cloud-amd64"
    root = tmp_path / "image"
    trees.install(str(root), release)
    (root / "boot" / ("initrd.img-" + release)).write_bytes(b"not read: the reader is stubbed")
    monkeypatch.setattr(initramfs, "kernel_modules",
                        lambda path, target=None, release=None: (trees.initramfs_modules(release), "fixture", None))
    for module, args in ((guest_hardware_info, {"root": str(root), "mode": "offline"}),
                         (kernel_config_info, {"root": str(root), "source": "installed"})):
        out = run_module(module, args)
        assert out["rc"] == 0, out.get("msg")
        results = yaml.safe_load(module.RETURN)["results"]
        named = set(re.findall(r"C\(([a-z_]+)\)", " ".join(results["description"])))
        returned = set(key for record in out["results"] for key in record)
        assert returned - named == set(), module.__name__
