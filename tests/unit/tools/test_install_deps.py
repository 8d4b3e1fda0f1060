"""tools/install_deps.sh (`make deps`) against stand-ins for dpkg-query, apt-get, apt-config,
id and sudo: what it installs, from where, as whom, and that it does nothing when nothing is
missing.  `make test-deps` runs the real thing in a Debian 12 chroot."""

import os
import re
import stat
import subprocess
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SCRIPT = os.path.join(ROOT, "tools", "install_deps.sh")
with open(SCRIPT) as _handle:
    # the .deb files the comparison tests unpack, as the script lists them
    DEBS = re.search(r"^DEBS=\(([^)]*)\)", _handle.read(), re.M).group(1).split()

# Each stand-in logs its command line to calls.log; apt-get "installs" into installed.txt,
# which dpkg-query reads.
STUBS = {
    "dpkg-query": """
        for pkg in "$@"; do
          case "$pkg" in -*) continue ;; esac
          grep -qxF "$pkg" "$STUB/installed.txt" && printf 'ii  %s\\n' "$pkg"
        done
        exit 0
    """,
    "apt-get": """
        echo "apt-get $*" >> "$STUB/calls.log"
        [ -n "${STUB_APT_FAIL_BACKPORTS:-}" ] && [[ " $* " == *" -t bookworm-backports "* ]] && exit 100
        skip=0; action=
        for arg in "$@"; do
          if [ $skip = 1 ]; then skip=0; continue; fi
          case "$arg" in -t|-o) skip=1 ;; -*) ;; install|update|download) action=$arg ;;
            *) [ "$action" = install ] && echo "$arg" >> "$STUB/installed.txt"
               [ "$action" = download ] && touch "${arg}_1.0_amd64.deb" ;; esac
        done
        exit 0
    """,
    "apt-config": """echo "ETC='$STUB/etc/'" """,
    "id": """echo "${STUB_UID:-0}" """,
    "sudo": """echo "sudo $*" >> "$STUB/calls.log"; exec "$@" """,
}


def package_list():
    out = subprocess.run(["bash", SCRIPT, "--list"], check=True, stdout=subprocess.PIPE,
                         universal_newlines=True).stdout
    return out.split()


@pytest.fixture
def stub(tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (tmp_path / "etc" / "sources.list.d").mkdir(parents=True)
    (tmp_path / "installed.txt").write_text("")
    (tmp_path / "calls.log").write_text("")
    debs = tmp_path / "cache" / "tool-debs"   # the downloads there already, unless a test removes them
    debs.mkdir(parents=True)
    for name in DEBS:
        (debs / (name + "_0.106_amd64.deb")).write_text("")
    for name, body in STUBS.items():
        path = bindir / name
        path.write_text("#!/bin/bash\n" + textwrap.dedent(body))
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return tmp_path


def run(stub, *args, **env):
    environ = dict(os.environ, STUB=str(stub), PATH="%s:%s" % (stub / "bin", os.environ["PATH"]),
                   GUESTREADY_LAB_CACHE=str(stub / "cache"))
    environ.pop("GUESTREADY_SKIP_DEPS", None)
    environ.update(env)
    proc = subprocess.run(["bash", SCRIPT] + list(args), env=environ, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    calls = (stub / "calls.log").read_text().splitlines()
    return proc.returncode, proc.stdout, calls


def install(stub, packages):
    (stub / "installed.txt").write_text("".join(p + "\n" for p in packages))


def test_list_names_the_lab_tools():
    packages = package_list()
    for needed in ("mmdebstrap", "qemu-system-x86", "zstd", "chromium", "python3-venv", "make"):
        assert needed in packages
    assert len(packages) == len(set(packages))


def test_nothing_missing_is_a_no_op(stub):
    install(stub, package_list())
    rc, out, calls = run(stub)
    assert rc == 0
    assert calls == []
    assert "all %d system packages present" % len(package_list()) in out


def test_installs_only_what_is_missing_and_backports_qemu(stub):
    packages = package_list()
    install(stub, [p for p in packages if p not in ("zstd", "mmdebstrap", "qemu-system-x86")])
    rc, out, calls = run(stub)
    assert rc == 0, out
    assert "installing mmdebstrap zstd qemu-system-x86" in out
    assert calls[0].endswith(" update")
    installs = [c for c in calls if " install " in c]
    assert len(installs) == 2
    assert installs[0].endswith("install --no-install-recommends mmdebstrap zstd")
    assert installs[1].endswith("-t bookworm-backports qemu-system-x86")
    backports = stub / "etc" / "sources.list.d" / "bookworm-backports.sources"
    assert "Suites: bookworm-backports" in backports.read_text()
    assert not any(c.startswith("sudo") for c in calls)
    # a second run finds everything and calls nothing
    (stub / "calls.log").write_text("")
    rc, out, calls = run(stub)
    assert (rc, calls) == (0, [])


def test_existing_backports_source_is_kept(stub):
    (stub / "etc" / "sources.list").write_text("deb http://deb.debian.org/debian bookworm-backports main\n")
    install(stub, [p for p in package_list() if p != "qemu-utils"])
    rc, out, calls = run(stub)
    assert rc == 0, out
    assert os.listdir(str(stub / "etc" / "sources.list.d")) == []
    assert calls[-1].endswith("-t bookworm-backports qemu-utils")


def test_falls_back_to_bookworm_qemu_without_backports(stub):
    install(stub, [p for p in package_list() if p != "qemu-system-x86"])
    rc, out, calls = run(stub, STUB_APT_FAIL_BACKPORTS="1")
    assert rc == 0, out
    assert calls[-2].endswith("-t bookworm-backports qemu-system-x86")
    assert calls[-1].endswith("install --no-install-recommends qemu-system-x86")


def test_not_root_uses_sudo(stub):
    install(stub, [p for p in package_list() if p != "socat"])
    rc, out, calls = run(stub, STUB_UID="1000")
    assert rc == 0, out
    assert [c for c in calls if c.startswith("sudo")] == [
        "sudo env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Use-Pty=0 update",
        "sudo env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Use-Pty=0 install "
        "--no-install-recommends socat"]


def test_check_names_what_is_missing_and_installs_nothing(stub):
    install(stub, [p for p in package_list() if p != "lz4"])
    rc, out, calls = run(stub, "--check")
    assert rc == 1
    assert "missing: lz4" in out
    assert calls == []


def test_a_package_apt_could_not_install_fails_the_step(stub):
    install(stub, [p for p in package_list() if p != "socat"])
    (stub / "bin" / "apt-get").write_text("#!/bin/bash\necho \"apt-get $*\" >> \"$STUB/calls.log\"\n")
    rc, out, calls = run(stub)
    assert rc == 1
    assert "still missing after apt-get: socat" in out


def test_bad_argument_is_a_usage_error(stub):
    rc, out, calls = run(stub, "--frobnicate")
    assert rc == 2
    assert "unknown argument '--frobnicate'" in out


def test_the_debs_a_comparison_runs_are_downloaded_not_installed(stub):
    """netplan's generate is run from an unpacked .deb (never installed: its generator would join
    the machine's boot); the step downloads what is not in the cache, --check names it."""
    install(stub, package_list())
    debs = stub / "cache" / "tool-debs"
    (debs / "netplan.io_0.106_amd64.deb").unlink()
    code, out, calls = run(stub, "--check")
    assert code == 1 and "not downloaded to %s: netplan.io" % debs in out and calls == []
    code, out, calls = run(stub)
    assert code == 0, out
    assert calls == ["apt-get download -q netplan.io"]
    assert sorted(os.listdir(str(debs))) == sorted(
        ["netplan.io_1.0_amd64.deb"] + [name + "_0.106_amd64.deb" for name in DEBS if name != "netplan.io"])
    assert not any(" install " in call for call in calls)
