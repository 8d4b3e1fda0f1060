"""The dpkg database reader against the real dpkg: generated status files
and journals (``updates/NNNN``) are read by this machine's ``dpkg-query
--admindir`` and by ``packages.dpkg_installed``; the packages dpkg has
configured, and their versions, are the same, and a database dpkg-query
refuses for its syntax is refused (its records are consistent: dpkg's
checks of a record's meaning, such as a triggers state without its
triggers, are not the reader's).  Nothing is installed: dpkg-query only reads the
directory.  Skipped without dpkg-query."""

import os
import shutil
import subprocess
import tempfile

import pytest
from hypothesis import given, strategies as st

from ansible_collections.guestready.gce.plugins.module_utils import packages
from ansible_collections.guestready.gce.plugins.module_utils.configfiles import ConfigError
from ansible_collections.guestready.gce.plugins.module_utils.target import Target

DPKG_QUERY = shutil.which("dpkg-query")
pytestmark = pytest.mark.skipif(DPKG_QUERY is None, reason="needs dpkg-query")

STATUSES = st.sampled_from(["install ok installed", "deinstall ok config-files", "install ok half-configured",
                            "install ok triggers-pending", "hold ok installed", "install ok unpacked",
                            "purge ok not-installed", "install reinstreq half-installed",
                            "install ok triggers-awaited", "deinstall ok installed"])
FIELD = st.sampled_from(["Status", "status", "STATUS"])
RECORD = st.builds(
    lambda package, version, arch, same, status, field, extra, space: "".join([
        "Package: %s\n" % package, "%s:%s%s\n" % (field, space, status), "Version: %s\n" % version,
        "Architecture: %s\n" % arch] + (["Multi-Arch: same\n"] if same and arch != "all" else []) + extra +
        # dpkg checks a record's triggers against its state (parse.c pkg_parse_verify)
        (["Triggers-Pending: ldconfig\n"] if status.endswith("triggers-pending") else []) +
        (["Triggers-Awaited: libc-bin\n"] if status.endswith("triggers-awaited") else [])),
    st.sampled_from(["google-guest-agent", "google-compute-engine-oslogin", "chrony", "libc6"]),
    st.sampled_from(["1.0", "2:20240213.00-g1", "1.0-1+deb12u1", "3"]),
    st.sampled_from(["amd64", "all", "i386"]), st.booleans(), STATUSES, FIELD,
    st.lists(st.sampled_from(["Description: an agent\n  more text\n .\n", "Maintainer: x <x@y>\n",
                              "Depends: libc6 (>= 2.34)\n", "Conffiles:\n /etc/x 0123\n"]), max_size=3),
    st.sampled_from([" ", "  ", "\t", ""]))
DATABASE = st.lists(RECORD, max_size=5).map("\n".join)
# journal records without Multi-Arch: same: a cross-grade to one, where the status file also holds a
# not-installed record of its architecture, lands in dpkg on whichever of the two it finds first
JOURNAL = st.lists(RECORD.filter(lambda record: "Multi-Arch: same" not in record), max_size=3)


def real_installed(admindir):
    result = subprocess.run([DPKG_QUERY, "--admindir=" + admindir, "-W",
                             "-f=${Package}\t${Version}\t${db:Status-Status}\n"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, check=False)
    if result.returncode != 0:
        return None, result.stderr.decode()
    found = {}
    for line in result.stdout.decode().splitlines():
        package, version, status = line.split("\t")
        if status in packages.DPKG_CONFIGURED:
            found.setdefault(package, set()).add(version)
    return found, None


def modelled_installed(root):
    try:
        found = packages.dpkg_installed(Target(root))
    except ConfigError as exc:
        return None, str(exc)
    return dict((package, {version}) for package, version in found.items()), None


@given(status=DATABASE, journal=JOURNAL)
def test_the_configured_packages_are_what_dpkg_query_lists(status, journal):
    root = tempfile.mkdtemp()
    try:
        admindir = os.path.join(root, "var/lib/dpkg")
        os.makedirs(os.path.join(admindir, "updates"))
        with open(os.path.join(admindir, "status"), "w") as handle:
            handle.write(status)
        for number, record in enumerate(journal):
            with open(os.path.join(admindir, "updates", "%04d" % number), "w") as handle:
                handle.write(record)
        real, real_error = real_installed(admindir)
        modelled, modelled_error = modelled_installed(root)
        if real is None or modelled is None:
            assert real is None and modelled is None, (real_error, modelled_error, status, journal)
            return
        # a Multi-Arch: same package is one record per architecture: the reader keeps one version
        for package, versions in real.items():
            assert package in modelled and modelled[package] <= versions, (package, real, modelled, status, journal)
        assert set(modelled) == set(real), (real, modelled, status, journal)
    finally:
        shutil.rmtree(root)
