#!/usr/bin/env bash
# Runs inside a fresh Debian 12 chroot (tests/deps/test_deps_chroot.py): the dependency step
# as a new user meets it.  Prints "STEP <name> rc=<status> seconds=<wall>" after each step.
cd /root/guestready || exit 1
export HOME=/root

step() {
  local name=$1 started rc
  shift
  started=$(date +%s)
  echo "---- $name: $*"
  "$@"
  rc=$?
  echo "STEP $name rc=$rc seconds=$(($(date +%s) - started))"
}

tools() {
  qemu-system-x86_64 --version | head -1
  qemu-img --version | head -1
  mmdebstrap --version
  chromium --version
  for tool in make git zstd lz4 cpio xz mkfs.ext4 sfdisk dnsmasq socat ssh shellcheck; do
    command -v "$tool" >/dev/null || { echo "no $tool"; return 1; }
  done
}

# A second run must not call apt-get at all: put one that fails first on PATH.
no_apt() {
  mkdir -p /root/no-apt
  printf '#!/bin/sh\necho "apt-get called: $*" >&2\nexit 1\n' > /root/no-apt/apt-get
  chmod +x /root/no-apt/apt-get
  PATH=/root/no-apt:$PATH "$@"
}

# pip trusts what this machine trusts (where a TLS-intercepting proxy's CA is installed, the
# chroot's fresh ca-certificates bundle lacks it); the test copies the bundle in.
if [ -f /root/host-ca-certificates.crt ]; then
  export PIP_CERT=/root/host-ca-certificates.crt SSL_CERT_FILE=/root/host-ca-certificates.crt
fi

step first bash tools/install_deps.sh
step check bash tools/install_deps.sh --check
step tools tools
step second no_apt make --no-print-directory deps
step venv make --no-print-directory venv
step ansible .venv/bin/ansible-playbook --version
