#!/usr/bin/env bash
# Fetch real Debian kernel configurations as unit-test fixtures.
#
# usage: tools/fetch_kernel_configs.sh [OUTDIR]     (default: tests/fixtures/kconfig)
#
# For every suite/architecture/flavour in TARGETS this resolves Debian's
# linux-image-<flavour> metapackage to the kernel image package it depends on,
# downloads that .deb from the mirror into a temporary directory and extracts
# /boot/config-<release> as OUTDIR/<suite>_<arch>_<flavour>.config.gz
# (gzip -n: byte-identical when re-run on the same package).  OUTDIR/README.md
# records the packages, versions and checksums.
#
# Nothing on the host changes: no apt configuration, no dpkg database, no
# package is installed.  Integrity: InRelease is checked with gpgv against the
# Debian archive keyring when one is installed (a warning otherwise), the
# Packages index against InRelease's SHA256, and each .deb against the index.
# Needs: curl, xz, gzip, dpkg-deb, tar, sha256sum, awk.  Never run by the tests.
set -euo pipefail

MIRROR=${MIRROR:-http://deb.debian.org/debian}
KEYRING=${KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}
HERE=$(cd "$(dirname "$0")/.." && pwd)
OUTDIR=${1:-$HERE/tests/fixtures/kconfig}

# suite arch flavour   (Debian dropped i386 kernels after bookworm)
TARGETS="
bullseye amd64 amd64
bullseye amd64 cloud-amd64
bullseye arm64 arm64
bullseye i386 686-pae
bullseye i386 686
bookworm amd64 amd64
bookworm amd64 cloud-amd64
bookworm arm64 arm64
bookworm arm64 cloud-arm64
bookworm i386 686-pae
bookworm i386 686
trixie amd64 amd64
trixie amd64 cloud-amd64
trixie arm64 arm64
trixie arm64 cloud-arm64
sid amd64 amd64
sid arm64 arm64
"

for tool in curl xz gzip dpkg-deb tar sha256sum awk; do
    command -v "$tool" >/dev/null || { echo "fetch_kernel_configs: missing tool: $tool" >&2; exit 2; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kconfig-fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$OUTDIR"

log() { echo "fetch_kernel_configs: $*" >&2; }

# release <suite>: InRelease, verified when gpgv and the keyring are present
release() {
    local suite=$1 file=$tmp/$1.InRelease
    if [ ! -s "$file" ]; then
        curl -fsS -o "$file" "$MIRROR/dists/$suite/InRelease"
        if command -v gpgv >/dev/null && [ -r "$KEYRING" ]; then
            gpgv --keyring "$KEYRING" "$file" 2>/dev/null \
                || { log "$suite: InRelease signature does not verify"; exit 1; }
        else
            log "warning: $suite InRelease not signature-checked (no gpgv or $KEYRING)"
        fi
    fi
    echo "$file"
}

# packages <suite> <arch>: the uncompressed Packages index, checked against InRelease
packages() {
    local suite=$1 arch=$2 inrelease index=main/binary-$2/Packages.xz
    local out=$tmp/$suite.$arch.Packages
    if [ ! -s "$out" ]; then
        inrelease=$(release "$suite")
        local want
        want=$(awk -v f="$index" '/^SHA256:/{s=1; next} /^[^ ]/{s=0} s && $3==f {print $1}' "$inrelease")
        [ -n "$want" ] || { log "$suite: $index not listed in InRelease"; exit 1; }
        curl -fsS -o "$out.xz" "$MIRROR/dists/$suite/$index"
        echo "$want  $out.xz" | sha256sum -c --quiet - || { log "$suite/$arch: Packages.xz checksum mismatch"; exit 1; }
        xz -dc "$out.xz" >"$out"
    fi
    echo "$out"
}

# field <Packages> <package> <Field>: a field of the package's (last) stanza
field() {
    awk -v pkg="$2" -v fld="$3:" '
        /^Package: /{p = ($2 == pkg)}
        p && $1 == fld {sub(/^[^:]*: /, ""); value = $0}
        END {print value}' "$1"
}

rows=""

# fetch_config <index> <package>: download the package, verify it, extract its
# kernel configuration (/boot/config-* or, in kernels split into several
# packages as sid's are, /usr/lib/modules/*/config) to $tmp/x; print the
# member's path, nothing when the package has none.
fetch_config() {
    local index=$1 package=$2 filename sha deb member
    filename=$(field "$index" "$package" Filename)
    sha=$(field "$index" "$package" SHA256)
    if [ -z "$filename" ] || [ -z "$sha" ]; then log "$package not in the index"; exit 1; fi
    deb=$tmp/$(basename "$filename")
    curl -fsS -o "$deb" "$MIRROR/$filename"
    echo "$sha  $deb" | sha256sum -c --quiet - || { log "$deb: checksum mismatch"; exit 1; }
    member=$(dpkg-deb --fsys-tarfile "$deb" | tar -t \
        | grep -E '^\./(boot/config-[^/]+|(usr/)?lib/modules/[^/]+/config)$' | head -n 1 || true)
    if [ -n "$member" ]; then
        rm -rf "$tmp/x" && mkdir "$tmp/x"
        dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp/x" "$member"
        echo "$member|$sha"
    fi
    rm -f "$deb"
}

for_target() {
    local suite=$1 arch=$2 flavour=$3 index meta image version name found="" package
    index=$(packages "$suite" "$arch")
    meta=linux-image-$flavour
    # the versioned image package (sid's metapackages also depend on linux-base-*)
    image=$(field "$index" "$meta" Depends | tr ',' '\n' | sed 's/^ *//; s/[ (].*//' \
        | grep -m 1 '^linux-image-[0-9]' || true)
    case $image in
        linux-image-*) ;;
        *) log "$suite/$arch: no $meta in the index, skipped"; return 0 ;;
    esac
    version=$(field "$index" "$image" Version)
    log "$suite/$arch/$flavour: $image $version"
    for package in "$image" $(field "$index" "$image" Depends | tr ',' '\n' \
            | sed 's/^ *//; s/[ (].*//' | grep -E '^linux-(base|binary)-[0-9]' | sort); do
        found=$(fetch_config "$index" "$package")
        [ -z "$found" ] || break
    done
    [ -n "$found" ] || { log "$suite/$arch/$flavour: no kernel configuration in $image or its parts"; exit 1; }
    local member=${found%%|*} sha=${found#*|}
    name=${suite}_${arch}_${flavour}.config.gz
    gzip -9 -n -c "$tmp/x/$member" >"$OUTDIR/$name"
    rows="$rows| \`$name\` | \`${member#./}\` | \`$package\` | \`$version\` | \`$sha\` |
"
}

while read -r suite arch flavour; do
    [ -n "$suite" ] || continue
    for_target "$suite" "$arch" "$flavour"
done <<<"$TARGETS"

cat >"$OUTDIR/README.md" <<EOF
# Kernel configuration fixtures

## Real distribution configurations (\`<suite>_<arch>_<flavour>.config.gz\`)

The kernel configuration Debian's kernel packages install (\`/boot/config-*\`; sid's
split packages ship only \`/usr/lib/modules/*/config\`), gzip-compressed, written by
\`tools/fetch_kernel_configs.sh\` (re-run it to refresh them; the tests'
expected verdicts live in \`tests/unit/plugins/module_utils/test_kconfig.py\`).
Fetched from $MIRROR on $(date -u +%Y-%m-%d).

| fixture | file in the package | package | version | .deb SHA256 |
|---|---|---|---|---|
$rows
## Synthetic configurations (\`synthetic/\`)

Small hand-written configurations for kernels and options the real fixtures do not
cover (old option names, removed options, 32-bit x86 without PAE...).  Each starts
with the header kconfig writes, so version and architecture come from the file as
they would for a real one.  See the comment at the top of each file.
EOF
log "wrote $(printf '%s' "$rows" | grep -c '^|') fixtures and README.md to $OUTDIR"
