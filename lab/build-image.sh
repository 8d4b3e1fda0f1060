#!/bin/bash
# Build a Debian bookworm guest disk for the guestready lab.
#
# Called by `lab image` (lab/guestready_lab/image.py), which decides the cache key, the
# package list and where things go; this script only builds. It never touches the host's
# configuration: mmdebstrap runs in --mode=unshare (private mount/pid/uts/ipc namespaces),
# the root filesystem is a plain directory, and the disk is packed with `mkfs.ext4 -d`
# into a regular file (no loop devices, no mounts on the host).
#
# usage: build-image.sh OUTDIR APT_CACHE PUBKEY BOOT_FLAVOUR PKG[,PKG...] [MIRROR]
#   OUTDIR        empty/non-existent directory; receives disk.raw, vmlinuz, initrd.img,
#                 kernel-release, kernels.txt, packages.txt
#   APT_CACHE     directory of .deb files kept between builds (sync-in / sync-out)
#   PUBKEY        ssh public key authorised for root and the sudo user
# Environment: LAB_SUDO_USER (default lab): a user with key login and passwordless sudo;
#   LAB_APT_SOURCE: the image's only apt source (the lab's repository);
#   LAB_GUEST_ENVIRONMENT=yes: no static hostname, metadata.google.internal in /etc/hosts.
#   BOOT_FLAVOUR  kernel flavour to boot: "cloud-amd64" or "amd64"
# The script's own text is part of the image cache key: editing it rebuilds the images.
set -euo pipefail

if [ "${1:-}" = customize ]; then
    # ---- customize hook: runs outside the chroot, $2 = root directory ----------------
    root=$2 pubkey=$3 user=$4 aptsource=$5 guestenv=$6
    if [ "$guestenv" = yes ]; then
        # as a Compute Engine image with the guest environment: no static hostname (the
        # DHCP server, Compute Engine's metadata server, names the instance; systemd-networkd
        # sets it), and the metadata server's name in /etc/hosts as google_set_hostname
        # writes it (GoogleCloudPlatform/guest-configs, src/usr/bin/google_set_hostname)
        : >"$root/etc/hostname"
        printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n169.254.169.254 metadata.google.internal  # Added by Google\n' \
            >"$root/etc/hosts"
        # the hostname from the metadata server when ens4 is routable, as Compute Engine
        # images with systemd-networkd do it: guest-configs' hooks (lab/guest-configs/)
        gc=$(dirname "$(readlink -f "$0")")/guest-configs
        install -m 0755 "$gc/google_set_hostname" "$root/usr/bin/google_set_hostname"
        install -d -m 0755 "$root/usr/lib/networkd-dispatcher/routable.d"
        install -m 0755 "$gc/google_hostname.sh" \
            "$root/usr/lib/networkd-dispatcher/routable.d/google_hostname.sh"
        # TCG: the agent makes new host keys at an instance's first boot, and an RSA key takes
        # minutes there (systemd restarts the agent after 90 s, sshd waits for it): ed25519
        # only, the agent's own setting (guest-agent instance_setup.go, [InstanceSetup]
        # host_key_types in /etc/default/instance_configs.cfg)
        printf '[InstanceSetup]\nhost_key_types = ed25519\n' >"$root/etc/default/instance_configs.cfg"
        # TCG: a Python daemon can take longer than systemd's 90 s to start on a loaded host
        install -d -m 0755 "$root/etc/systemd/system/networkd-dispatcher.service.d"
        printf '[Service]\nTimeoutStartSec=infinity\n' \
            >"$root/etc/systemd/system/networkd-dispatcher.service.d/lab-tcg.conf"
    else
        echo lab >"$root/etc/hostname"
        printf '127.0.0.1\tlocalhost\n127.0.1.1\tlab\n::1\tlocalhost ip6-localhost ip6-loopback\n' \
            >"$root/etc/hosts"
    fi
    # apt: the lab's own repository (guests have no route to Debian's archive); see
    # lab/guestready_lab/aptrepo.py. Unsigned, hence [trusted=yes]: lab only.
    printf '# guestready lab: the host'"'"'s apt cache, served to the guest (lab/README.md)\n%s\n' \
        "$aptsource" >"$root/etc/apt/sources.list"
    printf 'LABEL=lab-root\t/\text4\tdefaults,errors=remount-ro\t0\t1\n' >"$root/etc/fstab"
    # root login by the lab key only
    install -d -m 0700 "$root/root/.ssh"
    install -m 0600 "$pubkey" "$root/root/.ssh/authorized_keys"
    install -d -m 0755 "$root/etc/ssh/sshd_config.d"
    printf 'PermitRootLogin prohibit-password\nPasswordAuthentication no\nUseDNS no\n' \
        >"$root/etc/ssh/sshd_config.d/10-lab.conf"
    # a sudo user as on Compute Engine (people log in as themselves and use sudo): key login
    # only (password field '*': no password can match, unlike '!' the account is not locked),
    # passwordless sudo through /etc/sudoers.d
    chroot "$root" useradd --create-home --shell /bin/bash --comment "guestready lab" "$user"
    chroot "$root" usermod -p '*' "$user"
    install -d -m 0700 "$root/home/$user/.ssh"
    install -m 0600 "$pubkey" "$root/home/$user/.ssh/authorized_keys"
    chroot "$root" chown -R "$user:$user" "/home/$user/.ssh"
    printf '%s ALL=(ALL:ALL) NOPASSWD: ALL\n' "$user" >"$root/etc/sudoers.d/90-lab-$user"
    chmod 0440 "$root/etc/sudoers.d/90-lab-$user"
    chroot "$root" visudo -c -q -f "/etc/sudoers.d/90-lab-$user"
    # DHCP on every NIC, MTU from DHCP (Compute Engine hands out 1460)
    install -d -m 0755 "$root/etc/systemd/network"
    cat >"$root/etc/systemd/network/80-lab-dhcp.network" <<'EOF'
[Match]
Name=en* eth*

[Network]
DHCP=ipv4
LinkLocalAddressing=no
IPv6AcceptRA=no

[DHCPv4]
UseMTU=true
UseDNS=false
UseNTP=false
EOF
    chroot "$root" systemctl enable systemd-networkd.service
    chroot "$root" systemctl mask systemd-networkd-wait-online.service
    # linger for root: its systemd user manager keeps running between SSH sessions instead of
    # being started for every connection (several seconds per `ssh` under TCG)
    install -d -m 0755 "$root/var/lib/systemd/linger"
    : >"$root/var/lib/systemd/linger/root"
    : >"$root/var/lib/systemd/linger/$user"
    # empty resolv.conf: lab guests have no route to any name server
    rm -f "$root/etc/resolv.conf"
    : >"$root/etc/resolv.conf"
    # machine-id generated on first boot
    : >"$root/etc/machine-id"
    rm -f "$root/var/lib/dbus/machine-id"
    # keep the image small: apt's lists and the (already synced-out) .deb files
    rm -f "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin
    find "$root/var/lib/apt/lists" -maxdepth 1 -type f ! -name lock -delete
    chroot "$root" dpkg-query -W -f '${Package}\t${Version}\n' >"$root/root/.lab-packages.txt"
    exit 0
fi

outdir=$1 aptcache=$2 pubkey=$3 flavour=$4 packages=$5
mirror=${6:-http://deb.debian.org/debian}
sudo_user=${LAB_SUDO_USER:-lab}
apt_source=${LAB_APT_SOURCE:-deb [trusted=yes] http://169.254.169.253/debian ./}
guest_env=${LAB_GUEST_ENVIRONMENT:-no}
self=$(readlink -f "$0")

for tool in mmdebstrap mkfs.ext4 sfdisk truncate; do
    command -v "$tool" >/dev/null || { echo "build-image.sh: missing tool: $tool" >&2; exit 2; }
done
mkdir -p "$outdir" "$aptcache"
rootfs=$outdir/rootfs

echo "build-image.sh: mmdebstrap bookworm ($flavour) -> $rootfs" >&2
mmdebstrap --mode=unshare --variant=apt --format=directory \
    --include="$packages" \
    --skip=essential/unlink \
    --setup-hook='mkdir -p "$1"/var/cache/apt/archives/' \
    --setup-hook="sync-in '$aptcache' /var/cache/apt/archives/" \
    --customize-hook="sync-out /var/cache/apt/archives '$aptcache'" \
    --customize-hook="'$self' customize \"\$1\" '$pubkey' '$sudo_user' '$apt_source' '$guest_env'" \
    bookworm "$rootfs" "deb $mirror bookworm main"

# kernel and initrd to boot directly (-kernel/-initrd/-append; no firmware boot loader)
kver=
for f in "$rootfs"/boot/vmlinuz-*; do
    v=${f##*/vmlinuz-}
    case $flavour in
        amd64) case $v in *-cloud-amd64) continue ;; *-amd64) kver=$v ;; esac ;;
        *) case $v in *-"$flavour") kver=$v ;; esac ;;
    esac
done
[ -n "$kver" ] || { echo "build-image.sh: no $flavour kernel in $rootfs/boot" >&2; exit 1; }
cp "$rootfs/boot/vmlinuz-$kver" "$outdir/vmlinuz"
cp "$rootfs/boot/initrd.img-$kver" "$outdir/initrd.img"
echo "$kver" >"$outdir/kernel-release"
(cd "$rootfs/boot" && ls config-* | sed 's/^config-//') >"$outdir/kernels.txt"
mv "$rootfs/root/.lab-packages.txt" "$outdir/packages.txt"

# disk: MBR, one partition from 1 MiB to the end, ext4 packed from the directory
size_mib=4096
disk=$outdir/disk.raw
truncate -s "${size_mib}M" "$disk"
echo 'start=2048, type=83' | sfdisk --quiet "$disk"
mkfs.ext4 -q -L lab-root -E offset=1048576 -d "$rootfs" "$disk" "$(( (size_mib - 1) * 1024 ))k"
rm -rf "$rootfs"
echo "build-image.sh: done: $disk (kernel $kver)" >&2
