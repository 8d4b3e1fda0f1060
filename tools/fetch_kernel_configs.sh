#!/usr/bin/env bash
# Fetch real kernel configurations as unit-test fixtures.
#
# usage: tools/fetch_kernel_configs.sh [--debian] [--git] [--defconfigs] [OUTDIR]
#        (no part named: all three; OUTDIR default: tests/fixtures/kconfig)
#
# --debian      For every suite/architecture/flavour in TARGETS, resolve Debian's
#               linux-image-<flavour> metapackage to the kernel image package it
#               depends on, download that .deb from the mirror into a temporary
#               directory and extract /boot/config-<release> as
#               OUTDIR/<suite>_<arch>_<flavour>.config.gz; OUTDIR/README.md
#               records the packages, versions and checksums.
# --git         Other distributions' configurations from public git repositories
#               at pinned commits (GIT_SOURCES: oracle/kconfigs, which collects
#               what distributions ship, kernel-hardening-checker, Alpine's aports,
#               Flatcar's scripts): full ones as OUTDIR/distros/*.config.gz,
#               savedefconfig-style ones as OUTDIR/minimal/*.config.
#               GIT_URL_TEMPLATE (default https://github.com/@OWNER@/@NAME@.git)
#               may name local mirrors instead; a local directory is read with
#               git --git-dir, nothing is cloned.  ONLY (a grep -E pattern)
#               limits the part to the fixtures whose name matches.
# --defconfigs  The kernel's own minimal arch/*/configs/*defconfig files, from
#               Debian's linux-source-$DEFCONFIG_SERIES package, as OUTDIR/minimal/.
# The --git and --defconfigs parts record every fixture's origin and SHA256 (of
# the configuration itself, uncompressed) in OUTDIR/SOURCES.md.
#
# Output is byte-identical when re-run on the same sources (gzip -n).  Nothing
# on the host changes: no apt configuration, no dpkg database, no package is
# installed.  Integrity: InRelease is checked with gpgv against the Debian
# archive keyring when one is installed (a warning otherwise), the Packages
# index against InRelease's SHA256, and each .deb against the index; git
# objects are addressed by commit.
# Needs: curl, xz, gzip, dpkg-deb, tar, sha256sum, awk, git.  Never run by the tests.
set -euo pipefail

MIRROR=${MIRROR:-http://deb.debian.org/debian}
KEYRING=${KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}
HERE=$(cd "$(dirname "$0")/.." && pwd)
GIT_URL_TEMPLATE=${GIT_URL_TEMPLATE:-https://github.com/@OWNER@/@NAME@.git}
DEFCONFIG_SERIES=${DEFCONFIG_SERIES:-6.12}
DEFCONFIG_SUITE=${DEFCONFIG_SUITE:-trixie}

parts=""
while [ $# -gt 0 ]; do
    case $1 in
        --debian|--git|--defconfigs) parts="$parts ${1#--}"; shift ;;
        -h|--help) sed -n '2,32p' "$0"; exit 0 ;;
        -*) echo "fetch_kernel_configs: unknown option $1" >&2; exit 2 ;;
        *) break ;;
    esac
done
parts=${parts:-" debian git defconfigs"}
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

for tool in curl xz gzip dpkg-deb tar sha256sum awk git; do
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
        # by-hash first: a mirror being updated may serve a newer index than its InRelease
        curl -fsS -o "$out.xz" "$MIRROR/dists/$suite/${index%/*}/by-hash/SHA256/$want" 2>/dev/null \
            || curl -fsS -o "$out.xz" "$MIRROR/dists/$suite/$index"
        echo "$want  $out.xz" | sha256sum -c --quiet - \
            || { log "$suite/$arch: Packages.xz does not match InRelease (mirror being updated? retry later)"; exit 1; }
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

# fixture | repository | commit | path in the repository (several, joined with
# " + ", are concatenated in that order, as the distribution's build does:
# Flatcar's coreos-modules ebuild cats <arch>_defconfig then commonconfig)
GIT_SOURCES="
distros/centos7_3.10_x86_64.config.gz|oracle/kconfigs|091984879a118b7b7a7e2aaed87e5159c33d650e|out/CentOS 7 x86_64/config
distros/ol7-uek4_4.1_x86_64.config.gz|oracle/kconfigs|fa0a490ce5f1cbfae18994c9ca258ef8286683da|out/Oracle Linux 7 (UEK 4) x86_64/config
distros/trisquel8_4.4_x86_64.config.gz|a13xp0p0v/kernel-hardening-checker|b89830169e5c6063af7e29853778696c6d1d0f3a|config_files/Trisquel-Flidas.config
distros/debian9_4.9_x86_64.config.gz|a13xp0p0v/kernel-hardening-checker|227e5f13bf62a169f74fc9cd0febc0fabef4b74e|config_files/debian-stretch.config
distros/opensuse-leap15.1_4.12_x86_64.config.gz|a13xp0p0v/kernel-hardening-checker|dde5ea364be1aea0c647100243e883b013f3a78f|config_files/distros/openSUSE-15.1.config
distros/amazonlinux2_4.14_x86_64.config.gz|a13xp0p0v/kernel-hardening-checker|dde5ea364be1aea0c647100243e883b013f3a78f|config_files/distros/AmazonLinux2.config
distros/ol7-uek5_4.14_x86_64.config.gz|oracle/kconfigs|fa0a490ce5f1cbfae18994c9ca258ef8286683da|out/Oracle Linux 7 (UEK 5) x86_64/config
distros/upstream-defconfig_4.14_x86_64.config.gz|oracle/kconfigs|fa0a490ce5f1cbfae18994c9ca258ef8286683da|out/Upstream Default 4.14 (OpenELA) x86_64/config
distros/qubes_4.16_x86_64.config.gz|a13xp0p0v/kernel-hardening-checker|b6c47ad2774d979eac61d31a9ff474d6591402be|config_files/Qubes-latest.config
distros/kali_4.17_x86_64.config.gz|a13xp0p0v/kernel-hardening-checker|a07c536ac87c58e01ca66d31ae30ee7ce5d58eff|config_files/Kali-linux.config
distros/alma8_4.18_x86_64.config.gz|oracle/kconfigs|fa0a490ce5f1cbfae18994c9ca258ef8286683da|out/Alma Linux 8 x86_64/config
distros/sle15_5.3_x86_64.config.gz|a13xp0p0v/kernel-hardening-checker|dde5ea364be1aea0c647100243e883b013f3a78f|config_files/distros/SLE15.config
distros/alpine-edge_5.4_x86_64.config.gz|a13xp0p0v/kernel-hardening-checker|dde5ea364be1aea0c647100243e883b013f3a78f|config_files/distros/Alpinelinux-edge.config
distros/ubuntu20.04_5.4_x86_64.config.gz|oracle/kconfigs|fa0a490ce5f1cbfae18994c9ca258ef8286683da|out/Ubuntu 20.04 LTS Focal x86_64/config
distros/ol8-uek6_5.4_arm64.config.gz|oracle/kconfigs|fa0a490ce5f1cbfae18994c9ca258ef8286683da|out/Oracle Linux 8 (UEK 6) aarch64/config
distros/alma9_5.14_x86_64.config.gz|oracle/kconfigs|fa0a490ce5f1cbfae18994c9ca258ef8286683da|out/Alma Linux 9 x86_64/config
distros/alma9_5.14_arm64.config.gz|oracle/kconfigs|fa0a490ce5f1cbfae18994c9ca258ef8286683da|out/Alma Linux 9 aarch64/config
distros/ubuntu22.04_5.15_x86_64.config.gz|oracle/kconfigs|fa0a490ce5f1cbfae18994c9ca258ef8286683da|out/Ubuntu 22.04 LTS Jammy x86_64/config
distros/ubuntu24.04_6.8_arm64.config.gz|oracle/kconfigs|fa0a490ce5f1cbfae18994c9ca258ef8286683da|out/Ubuntu 24.04 LTS Noble aarch64/config
distros/centos10-stream_6.12_x86_64.config.gz|oracle/kconfigs|fa0a490ce5f1cbfae18994c9ca258ef8286683da|out/CentOS 10 Stream x86_64/config
distros/opensuse-leap16.0_6.12_x86_64.config.gz|oracle/kconfigs|fa0a490ce5f1cbfae18994c9ca258ef8286683da|out/openSUSE Leap (SLES Compatible) 16.0 x86_64/config
distros/upstream-defconfig_6.12_x86_64.config.gz|oracle/kconfigs|fa0a490ce5f1cbfae18994c9ca258ef8286683da|out/Upstream Default 6.12 x86_64/config
distros/upstream-defconfig_6.12_arm64.config.gz|oracle/kconfigs|fa0a490ce5f1cbfae18994c9ca258ef8286683da|out/Upstream Default 6.12 aarch64/config
distros/fedora43_6.17_x86_64.config.gz|oracle/kconfigs|fa0a490ce5f1cbfae18994c9ca258ef8286683da|out/Fedora 43 x86_64/config
distros/arch_6.18_x86_64.config.gz|oracle/kconfigs|fa0a490ce5f1cbfae18994c9ca258ef8286683da|out/Arch x86_64/config
distros/opensuse-tumbleweed_6.18_arm64.config.gz|oracle/kconfigs|fa0a490ce5f1cbfae18994c9ca258ef8286683da|out/openSUSE Tumbleweed aarch64/config
distros/upstream-defconfig_6.18_arm64.config.gz|oracle/kconfigs|fa0a490ce5f1cbfae18994c9ca258ef8286683da|out/Upstream Default 6.18 aarch64/config
distros/cos-lakitu_5.15_x86_64.config.gz|sshyran/Linux-kernel-with-Container-Optimized-OS-Arm-based-branches|05527634e331a75ed62d2ad0ff98f9e8f94c4352|arch/x86/configs/lakitu_defconfig
distros/cos-lakitu_5.15_arm64.config.gz|sshyran/Linux-kernel-with-Container-Optimized-OS-Arm-based-branches|05527634e331a75ed62d2ad0ff98f9e8f94c4352|arch/arm64/configs/lakitu_defconfig
minimal/alpine-virt_6.6_x86_64.config|alpinelinux/aports|67791f4e9880472dc561130ef894c8e4bbe49f94|main/linux-lts/virt.x86_64.config
minimal/flatcar_6.12_x86_64.config|flatcar/scripts|ab6d76d957b8815674e1a9e4f49f1d5e15fee55c|sdk_container/src/third_party/coreos-overlay/sys-kernel/coreos-modules/files/amd64_defconfig-6.12 + sdk_container/src/third_party/coreos-overlay/sys-kernel/coreos-modules/files/commonconfig-6.12
minimal/flatcar_6.12_arm64.config|flatcar/scripts|ab6d76d957b8815674e1a9e4f49f1d5e15fee55c|sdk_container/src/third_party/coreos-overlay/sys-kernel/coreos-modules/files/arm64_defconfig-6.12 + sdk_container/src/third_party/coreos-overlay/sys-kernel/coreos-modules/files/commonconfig-6.12
"

# git_show <owner/name> <commit> <path>: the file at that commit, on stdout
git_show() {
    local repo=$1 commit=$2 path=$3 url dir
    url=${GIT_URL_TEMPLATE//@OWNER@/${repo%%/*}}
    url=${url//@NAME@/${repo#*/}}
    if [ -d "$url" ]; then
        git --git-dir="$url" show "$commit:$path"
        return
    fi
    dir=$tmp/git-${repo//\//+}
    [ -d "$dir" ] || git init -q --bare "$dir"
    git --git-dir="$dir" cat-file -e "$commit^{commit}" 2>/dev/null \
        || git --git-dir="$dir" fetch -q --depth 1 "$url" "$commit"
    git --git-dir="$dir" show "$commit:$path"
}

sources=""
# record <fixture> <origin>: a SOURCES.md row, with the configuration's SHA256
record() {
    local sum
    case $1 in
        *.gz) sum=$(gzip -dc "$OUTDIR/$1" | sha256sum | cut -d' ' -f1) ;;
        *) sum=$(sha256sum "$OUTDIR/$1" | cut -d' ' -f1) ;;
    esac
    sources="$sources| \`$1\` | $2 | \`$sum\` |
"
}

if [[ $parts == *debian* ]]; then
    while read -r suite arch flavour; do
        [ -n "$suite" ] || continue
        for_target "$suite" "$arch" "$flavour"
    done <<<"$TARGETS"
    cat >"$OUTDIR/README.md" <<README
# Kernel configuration fixtures

## Real Debian configurations (\`<suite>_<arch>_<flavour>.config.gz\`)

The kernel configuration Debian's kernel packages install (\`/boot/config-*\`; sid's
split packages ship only \`/usr/lib/modules/*/config\`), gzip-compressed, written by
\`tools/fetch_kernel_configs.sh --debian\` (re-run it to refresh them; the tests'
expected verdicts live in \`tests/unit/plugins/module_utils/test_kconfig_fixtures.py\`).
Fetched from $MIRROR on $(date -u +%Y-%m-%d).

| fixture | file in the package | package | version | .deb SHA256 |
|---|---|---|---|---|
$rows
## Other distributions (\`distros/\`) and minimal configurations (\`minimal/\`)

Full configurations other distributions ship (\`distros/*.config.gz\`: CentOS 7,
Oracle Linux UEK, Trisquel, Debian 9, openSUSE, Amazon Linux 2, Qubes, Kali, Alma,
SLE, Alpine, Ubuntu, CentOS Stream, Fedora, Arch, Container-Optimized OS, and what
\`make defconfig\` writes
for 4.14, 6.12 and 6.18), and savedefconfig-style minimal ones (\`minimal/\`:
Alpine's virt flavour, Flatcar's, the kernel's own defconfigs), written by
\`tools/fetch_kernel_configs.sh --git --defconfigs\`.  Where each comes from, at
which commit, and its SHA256: [SOURCES.md](SOURCES.md).

## Synthetic configurations (\`synthetic/\`)

Small hand-written configurations for kernels and options the real fixtures do not
cover (old option names, removed options, 32-bit x86 without PAE...).  Each starts
with the header kconfig writes, so version and architecture come from the file as
they would for a real one.  See the comment at the top of each file.
README
fi

if [[ $parts == *git* ]]; then
    mkdir -p "$OUTDIR/distros" "$OUTDIR/minimal"
    while IFS='|' read -r fixture repo commit paths; do
        [ -n "$fixture" ] || continue
        if [ -n "${ONLY:-}" ] && ! grep -qE "$ONLY" <<<"$fixture"; then continue; fi
        log "$fixture: $repo@$commit"
        : >"$tmp/config"
        rest=$paths
        while [ -n "$rest" ]; do
            path=${rest%% + *}
            git_show "$repo" "$commit" "$path" >>"$tmp/config"
            if [ "$path" = "$rest" ]; then rest=""; else rest=${rest#* + }; fi
        done
        case $fixture in
            *.gz) gzip -9 -n -c "$tmp/config" >"$OUTDIR/$fixture" ;;
            *) cp "$tmp/config" "$OUTDIR/$fixture" ;;
        esac
        record "$fixture" "https://github.com/$repo at \`$commit\`: \`${paths// + /\` then \`}\`"
    done <<<"$GIT_SOURCES"
fi

if [[ $parts == *defconfigs* ]]; then
    mkdir -p "$OUTDIR/minimal"
    index=$(packages "$DEFCONFIG_SUITE" all)
    package=linux-source-$DEFCONFIG_SERIES
    version=$(field "$index" "$package" Version)
    filename=$(field "$index" "$package" Filename)
    sha=$(field "$index" "$package" SHA256)
    [ -n "$filename" ] || { log "$package not in $DEFCONFIG_SUITE"; exit 1; }
    log "$package $version"
    curl -fsS -o "$tmp/source.deb" "$MIRROR/$filename"
    echo "$sha  $tmp/source.deb" | sha256sum -c --quiet - || { log "$package: checksum mismatch"; exit 1; }
    dpkg-deb --fsys-tarfile "$tmp/source.deb" | tar -x -C "$tmp" --wildcards "*/linux-source-$DEFCONFIG_SERIES.tar.xz"
    rm -f "$tmp/source.deb"
    tarball=$(find "$tmp" -name "linux-source-$DEFCONFIG_SERIES.tar.xz" | head -n 1)
    for pair in x86/configs/x86_64_defconfig:x86_64 x86/configs/i386_defconfig:i386 arm64/configs/defconfig:arm64; do
        member=arch/${pair%%:*}
        fixture=minimal/kernel-${pair##*:}_defconfig_$DEFCONFIG_SERIES.config
        tar -xJ -O -f "$tarball" "linux-source-$DEFCONFIG_SERIES/$member" >"$OUTDIR/$fixture"
        record "$fixture" "\`$member\` of Debian's \`$package\` \`$version\` (.deb SHA256 \`$sha\`)"
    done
    rm -f "$tarball"
fi

if [ -n "$sources" ]; then
    # rows of fixtures not written by this run are kept
    kept=""
    if [ -f "$OUTDIR/SOURCES.md" ]; then
        while IFS= read -r line; do
            case $line in
                "| \`"*)
                    name=${line#"| \`"}
                    name=${name%%\`*}
                    case $sources in *"| \`$name\` |"*) ;; *) kept="$kept$line
" ;; esac ;;
            esac
        done <"$OUTDIR/SOURCES.md"
    fi
    {
        echo "# Origins of the fixtures in distros/ and minimal/"
        echo
        echo "Written by \`tools/fetch_kernel_configs.sh --git --defconfigs\`;"
        echo "SHA256 of the configuration itself (uncompressed)."
        echo
        echo "| fixture | origin | SHA256 |"
        echo "|---|---|---|"
        printf '%s%s' "$kept" "$sources" | sort
    } >"$OUTDIR/SOURCES.md"
fi
log "done:$parts"
