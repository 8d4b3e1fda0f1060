"""The cloud-init configuration reader against cloud-init's own: generated
/etc/cloud/cloud.cfg and cloud.cfg.d trees (files by name, hidden names, a
directory with a .cfg name, a file whose top level is a list, YAML that does
not parse) are read by ``cloudinit.util.read_conf_with_confd()`` of Debian
12's cloud-init (22.4), unpacked with the Python packages it imports from the
.deb files ``make deps`` downloads, never installed, run by this machine's
python3, and by ``netconf.read_cloud_init_config``: the same ``network`` and
``datasource_list``, merged as cloud-init merges them.  A tree the reader
refuses (an error naming the file: the check is then unknown) holds a file
PyYAML cannot load either, which cloud-init skips with a warning.  Needs
python3 and dpkg-deb and the .deb files; skipped elsewhere."""

import json
import os
import shutil
import subprocess
import tempfile

import pytest
from hypothesis import given, strategies as st

from ansible_collections.guestready.gce.plugins.module_utils import netconf
from ansible_collections.guestready.gce.plugins.module_utils.configfiles import ConfigError
from ansible_collections.guestready.gce.plugins.module_utils.target import Target
from realtools import LAB_CACHE, cached_deb, unavailable, unpacked

NAMES = ("cloud-init", "python3-yaml", "python3-requests", "python3-urllib3", "python3-idna", "python3-certifi",
         "python3-charset-normalizer", "python3-chardet")
PACKAGES = [cached_deb("tool-debs", name) for name in NAMES]
PYTHON = "/usr/bin/python3"
WHY_NOT = unavailable("dpkg-deb", PYTHON) or (None if all(PACKAGES) else "needs %s in %s (make deps)" % (
    ", ".join(NAMES), os.path.join(LAB_CACHE, "tool-debs")))
pytestmark = pytest.mark.skipif(WHY_NOT is not None, reason=str(WHY_NOT))

KEYS = ("network", "datasource_list")
READ = r"""
import json, sys
from cloudinit import util
cfg = util.read_conf_with_confd(sys.argv[1])
print(json.dumps(dict((key, cfg[key]) for key in %r if key in cfg)))
""" % (KEYS,)

ENTRY = st.sampled_from([
    "network: {config: disabled}", "network:\n  config: disabled", "network: {config: enabled}", "network: null",
    "network:", "network: {version: 2, ethernets: {eth0: {dhcp4: true}}}", "network:\n  version: 2",
    "network: disabled", "network: {config: 'disabled'}", "network:\n  config: disabled\n  version: 1",
    "datasource_list: [GCE, None]", "datasource_list: [ NoCloud ]", "datasource_list: GCE",
    "datasource_list:\n  - GCE\n  - None", "datasource_list: []", "other: 1", "other:\n  - a",
    "# network: {config: disabled}", "network: {config: disabled", "datasource_list: [GCE, None",
    # flow collections over several lines, indented or not, and one a document marker breaks
    "datasource_list: [\n  GCE,\n  None\n]", "datasource_list: [GCE, # the one\nNone]", "network: {config:\n disabled}",
    "network:\n  config: disabled\n  ethernets: {eth0: {dhcp4: true},\n  }", "datasource_list: [GCE,\n---\n None]"])
FILE = st.one_of(st.lists(ENTRY, max_size=3).map(lambda entries: "".join(e + "\n" for e in entries)),
                 st.just("- a\n- b\n"), st.just(""))
CONF_D = st.dictionaries(st.sampled_from(["10-a.cfg", "90-z.cfg", ".hidden.cfg", "50-b.cfg.bak", "A.cfg"]), FILE,
                         max_size=3)


@pytest.fixture(scope="module")
def cloud_init():
    with unpacked(*PACKAGES) as (where, dummy):
        yield os.path.join(where, "usr/lib/python3/dist-packages")


def loads(text):
    """Whether PyYAML (the one unpacked, run by python3) loads ``text``."""
    import yaml   # the test runner's PyYAML: the same YAML 1.1 loader
    try:
        yaml.safe_load(text)
    except yaml.YAMLError:
        return False
    return True


@given(main=st.none() | FILE, conf_d=CONF_D, directory=st.booleans())
def test_cloud_init_config_is_read_as_cloud_init_reads_it(cloud_init, main, conf_d, directory):
    root = tempfile.mkdtemp()
    try:
        confd = os.path.join(root, "etc/cloud/cloud.cfg.d")
        os.makedirs(confd)
        if directory:
            os.makedirs(os.path.join(confd, "20-dir.cfg"))
        texts = dict(conf_d)
        if main is not None:
            texts["../cloud.cfg"] = main
        for name, text in texts.items():
            with open(os.path.join(confd, name), "w") as handle:
                handle.write(text)
        done = subprocess.run([PYTHON, "-c", READ, os.path.join(root, "etc/cloud/cloud.cfg")],
                              env=dict(os.environ, PYTHONPATH=cloud_init),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, check=True)
        theirs = json.loads(done.stdout.decode())
        try:
            found = netconf.read_cloud_init_config(Target(root))
        except ConfigError as exc:
            read = [text for name, text in texts.items() if name.endswith(".cfg")]
            assert not all(loads(text) for text in read), (texts, str(exc))
            return
    finally:
        shutil.rmtree(root)
    ours = dict((key, value) for key, (value, where) in found.items())
    assert ours == theirs, texts
