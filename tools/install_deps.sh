#!/usr/bin/env bash
# Install the Debian 12 packages that `make demo` and `make test` need (`make deps` runs this).
# A no-op when they are all there: one dpkg-query, no apt-get.  Prints what it installs; uses
# sudo when not root.  The package lists below are the only place to add a system dependency.
#
#   tools/install_deps.sh           install what is missing
#   tools/install_deps.sh --check   exit 1 and name what is missing, install nothing
#   tools/install_deps.sh --list    print every package, one a line
# GUESTREADY_SKIP_DEPS=1 skips the step (a machine you provision yourself).
set -euo pipefail

PACKAGES=(
  # build tools and Python (the virtualenv comes from requirements-dev.txt: `make venv`)
  make git python3 python3-venv ca-certificates curl shellcheck
  # lab: image build, guests, networking in private namespaces
  mmdebstrap e2fsprogs fdisk dnsmasq-base iproute2 socat openssh-client
  # lab: UEFI firmware for the bootable disks (`lab up --disk --firmware uefi`: OVMF_CODE_4M.fd)
  ovmf
  # initramfs and compression tools the tests use to build and read images (bindep.txt lists
  # the ones the collection itself needs on a controller)
  cpio gzip xz-utils bzip2 zstd lz4 initramfs-tools-core
  # disk images (tests/image, tests/disk): FAT filesystems for the FAT reader's and the ESP's tests;
  # XFS for the superblock probes' comparison with libblkid
  dosfstools mtools xfsprogs
  # the HTML report is rendered in headless Chromium
  chromium
  # the kernel's headers: the ethtool request constants are checked against linux/ethtool.h
  linux-libc-dev
  # a real rpm for the test that a Red Hat tree's package database is read without writing into it
  rpm
  # the scanner-clean sysctl mode is proven against the CIS profile of the SCAP Security Guide
  ssg-debderived
  # the kernel configuration reader is compared with kconfig's own conf (scripts/kconfig/conf)
  linux-kbuild-6.1
)

# .deb files a comparison test unpacks into a private directory and runs from there, never installed
# (netplan.io's generator would join this machine's boot): netplan's own `generate`, ifupdown's `ifquery`,
# NetworkManager's `nmcli --offline` and `NetworkManager --print-config`, cloud-init's configuration
# reader with the Python packages it imports
DEBS=(netplan.io libnetplan0 ifupdown network-manager libnm0 libndp0 cloud-init python3-yaml python3-requests
  python3-urllib3 python3-idna python3-certifi python3-charset-normalizer python3-chardet)
DEB_DIR=${GUESTREADY_LAB_CACHE:-$HOME/.cache/guestready-lab}/tool-debs

# From bookworm-backports when the archive has them (QEMU 10: -M pc,x-south-bridge=piix4-isa
# gives the PIIX4 ISA bridge); the lab falls back to bookworm's QEMU 7.2 and reports the gap.
BACKPORTS_PACKAGES=(qemu-system-x86 qemu-utils)

case "${1:-}" in
  --list) printf '%s\n' "${PACKAGES[@]}" "${BACKPORTS_PACKAGES[@]}"; exit 0 ;;
  --check | "") ;;
  *) echo "install_deps: unknown argument '$1' (use --check or --list)" >&2; exit 2 ;;
esac

if [ "${GUESTREADY_SKIP_DEPS:-}" = 1 ]; then
  echo "install_deps: skipped (GUESTREADY_SKIP_DEPS=1)"
  exit 0
fi
if ! command -v dpkg-query >/dev/null; then
  echo "install_deps: no dpkg-query: this step knows Debian 12 only. Install the equivalents of:" >&2
  echo "  ${PACKAGES[*]} ${BACKPORTS_PACKAGES[*]}" >&2
  echo "and rerun with GUESTREADY_SKIP_DEPS=1." >&2
  exit 1
fi

# The packages dpkg does not list as installed ("ii"), in list order.
missing_from() {
  local installed
  installed=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "$@" 2>/dev/null \
    | awk '$1 == "ii" { print $2 }' || true)
  for pkg in "$@"; do
    grep -qxF "$pkg" <<<"$installed" || echo "$pkg"
  done
}
# The .deb files not in DEB_DIR yet: fetched (apt-get download: no install), or named with --check.
MISSING_DEBS=()
for deb in "${DEBS[@]}"; do
  compgen -G "$DEB_DIR/${deb}_*.deb" >/dev/null || MISSING_DEBS+=("$deb")
done
if [ ${#MISSING_DEBS[@]} -gt 0 ]; then
  if [ "${1:-}" = --check ]; then
    echo "install_deps: not downloaded to $DEB_DIR: ${MISSING_DEBS[*]}" >&2
    exit 1
  fi
  echo "install_deps: downloading ${MISSING_DEBS[*]} to $DEB_DIR"
  mkdir -p "$DEB_DIR"
  (cd "$DEB_DIR" && apt-get download -q "${MISSING_DEBS[@]}" 2>/dev/null) \
    || { apt-get update -q >/dev/null && (cd "$DEB_DIR" && apt-get download -q "${MISSING_DEBS[@]}"); }
fi

mapfile -t MISSING < <(missing_from "${PACKAGES[@]}")
mapfile -t MISSING_BACKPORTS < <(missing_from "${BACKPORTS_PACKAGES[@]}")
total=$((${#PACKAGES[@]} + ${#BACKPORTS_PACKAGES[@]}))

if [ $((${#MISSING[@]} + ${#MISSING_BACKPORTS[@]})) -eq 0 ]; then
  echo "install_deps: all $total system packages present"
  exit 0
fi
if [ "${1:-}" = --check ]; then
  echo "install_deps: missing: ${MISSING[*]} ${MISSING_BACKPORTS[*]}" >&2
  exit 1
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null; then
    echo "install_deps: not root and no sudo: as root, run: apt-get install ${MISSING[*]} ${MISSING_BACKPORTS[*]}" >&2
    exit 1
  fi
  SUDO=(sudo)
fi
APT=("${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Use-Pty=0)

echo "install_deps: installing ${MISSING[*]} ${MISSING_BACKPORTS[*]}"
if [ ${#MISSING_BACKPORTS[@]} -gt 0 ]; then
  ETC=/etc/apt/
  eval "$(apt-config shell ETC Dir::Etc/d)"  # apt's own idea of /etc/apt (APT_CONFIG)
  BACKPORTS=${ETC}sources.list.d/bookworm-backports.sources
  if [ ! -e "$BACKPORTS" ] && ! grep -rqs bookworm-backports "${ETC}sources.list" "${ETC}sources.list.d/"; then
    echo "install_deps: adding $BACKPORTS"
    "${SUDO[@]}" tee "$BACKPORTS" >/dev/null <<'SOURCES'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  fi
fi
"${APT[@]}" update
if [ ${#MISSING[@]} -gt 0 ]; then
  "${APT[@]}" install --no-install-recommends "${MISSING[@]}"
fi
if [ ${#MISSING_BACKPORTS[@]} -gt 0 ]; then
  "${APT[@]}" install --no-install-recommends -t bookworm-backports "${MISSING_BACKPORTS[@]}" \
    || "${APT[@]}" install --no-install-recommends "${MISSING_BACKPORTS[@]}"
fi

mapfile -t STILL < <(missing_from "${PACKAGES[@]}" "${BACKPORTS_PACKAGES[@]}")
if [ ${#STILL[@]} -gt 0 ]; then
  echo "install_deps: still missing after apt-get: ${STILL[*]}" >&2
  exit 1
fi
echo "install_deps: all $total system packages present"
