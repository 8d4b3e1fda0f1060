#!/bin/bash
# Build a *bootable* Debian bookworm disk for the guestready lab: partitioned, GRUB 2 installed
# into the disk, booted by the firmware as Compute Engine boots an imported image.
#
# Called by `lab image --variant boot-bios|boot-uefi` (lab/guestready_lab/image.py decides the
# cache key, the package list and where things go). Like build-image.sh it never touches the
# host's configuration: mmdebstrap --mode=unshare into a plain directory, the partition table
# written by sfdisk into a regular file, file systems packed into it at their offsets
# (mkfs.ext4 -d -E offset, mkfs.vfat --offset + mtools): no loop device, no mount.
#
#   bios: MBR, partition 1 (bootable, ext4 root); GRUB's boot.img in the first 440 bytes and
#         core.img in the gap before partition 1 (what grub-install does, done with dd).
#   uefi: GPT, partition 1 EFI System Partition (FAT32; GRUB at the removable path
#         EFI/BOOT/BOOTX64.EFI, as `grub-install --removable`), partition 2 ext4 root.
#
# Compute Engine needs a partition table (MBR or GPT) and a bootable partition
# (cloud.google.com/compute/docs/images/image-management-best-practices, "Understanding
# images") and a serial console on ttyS0 (cloud.google.com/compute/docs/import/
# import-existing-image, "console=ttyS0,38400n8"). The root file system is named by UUID in
# fstab and on the kernel command line; /boot/grub/grub.cfg is Debian's own update-grub output.
#
# usage: build-disk.sh OUTDIR APT_CACHE PUBKEY BOOT_FLAVOUR PKG[,PKG...] MIRROR FIRMWARE
#   OUTDIR, APT_CACHE, PUBKEY, BOOT_FLAVOUR, PKG, MIRROR as for build-image.sh (whose
#   customize hook sets the guest up the same way as the lab's other images)
#   FIRMWARE   bios or uefi
# OUTDIR receives disk.raw, kernel-release, kernels.txt, packages.txt, build-info.json.
# Both scripts' text is part of the image cache key: editing either rebuilds the images.
set -euo pipefail

DISK_MIB=2048          # sparse; Compute Engine wants whole GiB
ESP_MIB=127            # as Debian's cloud images
GRUB_MODULES_BIOS="biosdisk part_msdos ext2 search_fs_uuid"
GRUB_MODULES_UEFI="part_gpt ext2 search_fs_uuid"
# drivers the initramfs must carry to find the root disk and the NIC on Compute Engine
INITRAMFS_DRIVERS="virtio_pci virtio_scsi virtio_net"

layout() {  # FIRMWARE: sets platform (GRUB's), partmap and rootpart (root partition number)
    case $1 in
        bios) platform=i386-pc partmap=msdos rootpart=1 ;;
        uefi) platform=x86_64-efi partmap=gpt rootpart=2 ;;
        *) echo "build-disk.sh: firmware must be bios or uefi, not '$1'" >&2; exit 2 ;;
    esac
}

if [ "${1:-}" = customize-boot ]; then
    # ---- customize hook: runs outside the chroot after build-image.sh's own hook ----------
    root=$2 firmware=$3 root_uuid=$4 esp_uuid=$5
    layout "$firmware"

    printf 'UUID=%s\t/\text4\tdefaults,errors=remount-ro\t0\t1\n' "$root_uuid" >"$root/etc/fstab"
    if [ "$firmware" = uefi ]; then
        install -d -m 0755 "$root/boot/efi"
        printf 'UUID=%s\t/boot/efi\tvfat\tumask=0077\t0\t1\n' "$esp_uuid" >>"$root/etc/fstab"
    fi

    # Under TCG on a loaded machine udev can announce a disk minutes late (measured at load 14:
    # the root device after 113 s, the ESP's by-uuid link after 200 s), and systemd's default
    # 90 s device timeout then drops the boot into emergency mode. Only the wait changes.
    install -d -m 0755 "$root/etc/systemd/system.conf.d"
    printf '# guestready lab (TCG): wait longer for slow udev\n[Manager]\nDefaultDeviceTimeoutSec=10min\n' \
        >"$root/etc/systemd/system.conf.d/50-lab-tcg.conf"

    # GRUB settings as a drop-in: Debian's /etc/default/grub stays the package's own
    install -d -m 0755 "$root/etc/default/grub.d"
    cat >"$root/etc/default/grub.d/50-lab-gce.cfg" <<'EOF'
# guestready lab: Compute Engine's serial console, for the kernel and for GRUB itself.
# No "quiet": boot messages on the console show why a boot fails. No menu delay.
GRUB_CMDLINE_LINUX="console=ttyS0,38400n8"
GRUB_CMDLINE_LINUX_DEFAULT=""
GRUB_TIMEOUT=0
GRUB_TERMINAL=serial
GRUB_SERIAL_COMMAND="serial --speed=38400 --unit=0 --word=8 --parity=no --stop=1"
GRUB_DISABLE_OS_PROBER=true
EOF
    # the disk grub-pc's postinst reinstalls to on upgrades (as debian-installer records it)
    if [ "$firmware" = bios ]; then
        echo "grub-pc grub-pc/install_devices multiselect /dev/disk/by-id/scsi-0Google_PersistentDisk_persistent-disk-0" \
            | chroot "$root" debconf-set-selections
    fi

    # /boot/grub as grub-install leaves it: modules, environment block, core image
    install -d -m 0755 "$root/boot/grub/$platform"
    cp "$root/usr/lib/grub/$platform/"*.mod "$root/usr/lib/grub/$platform/"*.lst "$root/boot/grub/$platform/"
    chroot "$root" grub-editenv /boot/grub/grubenv create
    # core image's embedded config: find the root file system by UUID, load the rest from it
    printf "search.fs_uuid %s root hd0,%s%s\nset prefix=(\$root)'/boot/grub'\n" \
        "$root_uuid" "$partmap" "$rootpart" >"$root/boot/grub/$platform/load.cfg"
    if [ "$firmware" = bios ]; then
        cp "$root/usr/lib/grub/i386-pc/boot.img" "$root/boot/grub/i386-pc/"
        # shellcheck disable=SC2086
        chroot "$root" grub-mkimage -O i386-pc -o /boot/grub/i386-pc/core.img \
            -c /boot/grub/i386-pc/load.cfg -p /boot/grub $GRUB_MODULES_BIOS
    else
        # shellcheck disable=SC2086
        chroot "$root" grub-mkimage -O x86_64-efi -o /boot/grub/x86_64-efi/core.efi \
            -c /boot/grub/x86_64-efi/load.cfg -p /boot/grub $GRUB_MODULES_UEFI
    fi

    # grub.cfg by Debian's update-grub (grub-mkconfig and /etc/grub.d). It probes the device
    # holding / with grub-probe, and 10_linux uses root=UUID= only if /dev/disk/by-uuid/<uuid>
    # exists. The root is a directory here, so for this one run a stand-in grub-probe answers
    # with the layout this script is about to write, and the by-uuid link points at /dev/null.
    probe=$root/usr/sbin/grub-probe
    mv "$probe" "$probe.lab-real"
    restore() {
        [ -e "$probe.lab-real" ] && mv -f "$probe.lab-real" "$probe"
        rm -rf "$root/dev/disk"
    }
    trap restore EXIT
    cat >"$probe" <<EOF
#!/bin/sh
# build-disk.sh's stand-in for grub-probe (removed after update-grub): / is on /dev/sda$rootpart
target=
while [ \$# -gt 0 ]; do
    case \$1 in
        --target=*) target=\${1#--target=} ;;
        -t|--target) target=\$2; shift ;;
    esac
    shift
done
case \$target in
    device) echo /dev/sda$rootpart ;;
    fs_uuid) echo $root_uuid ;;
    fs) echo ext2 ;;
    partmap) echo $partmap ;;
    abstraction|cryptodisk_uuid) ;;
    drive) echo '(hd0,$partmap$rootpart)' ;;
    compatibility_hint) echo hd0,$partmap$rootpart ;;
    hints_string) echo '--hint-bios=hd0,$partmap$rootpart --hint-efi=hd0,$partmap$rootpart --hint-baremetal=ahci0,$partmap$rootpart' ;;
    *) echo "grub-probe (build-disk.sh): no answer for target '\$target'" >&2; exit 1 ;;
esac
EOF
    chmod 0755 "$probe"
    install -d "$root/dev/disk/by-uuid"
    ln -s /dev/null "$root/dev/disk/by-uuid/$root_uuid"
    chroot "$root" update-grub
    restore
    trap - EXIT
    grep -q "root=UUID=$root_uuid .*console=ttyS0,38400n8" "$root/boot/grub/grub.cfg" || {
        echo "build-disk.sh: grub.cfg has no 'root=UUID=$root_uuid ... console=ttyS0,38400n8'" >&2
        exit 1
    }

    # every kernel's initramfs carries the virtio drivers (as modules or built in)
    for cfg in "$root"/boot/config-*; do
        kver=${cfg##*/config-}
        listing=$(chroot "$root" lsinitramfs "/boot/initrd.img-$kver")
        for drv in $INITRAMFS_DRIVERS; do
            grep -q "/$drv\.ko" <<<"$listing" \
                || grep -q "/$drv\.ko" "$root/lib/modules/$kver/modules.builtin" \
                || { echo "build-disk.sh: initrd.img-$kver lacks $drv" >&2; exit 1; }
        done
    done
    exit 0
fi

outdir=$1 aptcache=$2 pubkey=$3 flavour=$4 packages=$5 mirror=$6 firmware=$7
layout "$firmware"
self=$(readlink -f "$0")
image_script=$(dirname "$self")/build-image.sh
# build-image.sh's customize hook arguments after the root and the key, from the same
# environment and with the same defaults as build-image.sh itself (versions of it that take
# fewer arguments ignore the rest)
sudo_user=${LAB_SUDO_USER:-lab}
apt_source=${LAB_APT_SOURCE:-deb [trusted=yes] http://169.254.169.253/debian ./}
guest_env=${LAB_GUEST_ENVIRONMENT:-no}

tools="mmdebstrap mkfs.ext4 sfdisk truncate"
[ "$firmware" = uefi ] && tools="$tools mkfs.vfat mmd mcopy"
for tool in $tools; do
    command -v "$tool" >/dev/null || { echo "build-disk.sh: missing tool: $tool" >&2; exit 2; }
done
mkdir -p "$outdir" "$aptcache"
rootfs=$outdir/rootfs
root_uuid=$(cat /proc/sys/kernel/random/uuid)
esp_id=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n' | tr a-f A-F)
esp_uuid=${esp_id:0:4}-${esp_id:4:4}

echo "build-disk.sh: mmdebstrap bookworm ($flavour, $firmware) -> $rootfs" >&2
# shellcheck disable=SC2016  # $1 is expanded by mmdebstrap's hook shell
mmdebstrap --mode=unshare --variant=apt --format=directory \
    --include="$packages" \
    --skip=essential/unlink \
    --setup-hook='mkdir -p "$1"/var/cache/apt/archives/' \
    --setup-hook="sync-in '$aptcache' /var/cache/apt/archives/" \
    --customize-hook="sync-out /var/cache/apt/archives '$aptcache'" \
    --customize-hook="'$image_script' customize \"\$1\" '$pubkey' '$sudo_user' '$apt_source' '$guest_env'" \
    --customize-hook="'$self' customize-boot \"\$1\" '$firmware' '$root_uuid' '$esp_uuid'" \
    bookworm "$rootfs" "deb $mirror bookworm main"

kver=
for f in "$rootfs"/boot/vmlinuz-*-"$flavour"; do kver=${f##*/vmlinuz-}; done
[ -e "$rootfs/boot/vmlinuz-$kver" ] || { echo "build-disk.sh: no $flavour kernel in $rootfs/boot" >&2; exit 1; }
echo "$kver" >"$outdir/kernel-release"
for f in "$rootfs"/boot/config-*; do echo "${f##*/config-}"; done >"$outdir/kernels.txt"
mv "$rootfs/root/.lab-packages.txt" "$outdir/packages.txt"
cmdline=$(sed -n "s/^[[:space:]]*linux[[:space:]]\+\/boot\/vmlinuz-$kver \(.*[^[:space:]]\)[[:space:]]*$/\1/p" \
    "$rootfs/boot/grub/grub.cfg" | head -n 1)
cp "$rootfs/boot/grub/$platform/"core.* "$outdir/"
[ "$firmware" = bios ] && cp "$rootfs/boot/grub/i386-pc/boot.img" "$outdir/"

# partition table
disk=$outdir/disk.raw
truncate -s "${DISK_MIB}M" "$disk"
if [ "$firmware" = bios ]; then
    printf 'label: dos\nstart=2048, type=83, bootable\n' | sfdisk --quiet "$disk"
else
    printf 'label: gpt\nstart=2048, size=%dMiB, type=U, name="EFI System Partition"\ntype=L, name=root\n' \
        "$ESP_MIB" | sfdisk --quiet "$disk"
fi
part() {  # N FIELD -> that field (start or size, in sectors) of partition N
    sfdisk --dump "$disk" | sed -n "s/^${disk//\//\\/}$1 :.* $2= *\([0-9]*\).*/\1/p"
}
root_start=$(part "$rootpart" start) root_size=$(part "$rootpart" size)

# root file system, packed from the directory at the partition's offset
mkfs.ext4 -q -U "$root_uuid" -E offset=$((root_start * 512)) -d "$rootfs" "$disk" "$((root_size / 2))k"
rm -rf "$rootfs"

# boot loader
if [ "$firmware" = bios ]; then
    core_sectors=$(( ($(stat -c %s "$outdir/core.img") + 511) / 512 ))
    [ "$core_sectors" -lt "$root_start" ] || { echo "build-disk.sh: core.img does not fit before partition 1" >&2; exit 1; }
    # boot.img's code only (440 bytes): the partition table and signature stay; it loads
    # core.img from sector 1 (its default), core.img's own block list continues at sector 2
    dd if="$outdir/boot.img" of="$disk" bs=440 count=1 conv=notrunc status=none
    dd if="$outdir/core.img" of="$disk" bs=512 seek=1 conv=notrunc status=none
    rm -f "$outdir/boot.img" "$outdir/core.img"
else
    esp_start=$(part 1 start) esp_size=$(part 1 size)
    # FAT32 with one sector per cluster (the default cluster size leaves too few clusters)
    mkfs.vfat -F 32 -s 1 -n EFI -i "$esp_id" --offset "$esp_start" "$disk" "$((esp_size / 2))" >/dev/null
    esp="$disk@@$((esp_start * 512))"
    export MTOOLS_SKIP_CHECK=1
    mmd -i "$esp" ::/EFI
    mmd -i "$esp" ::/EFI/BOOT
    mcopy -i "$esp" "$outdir/core.efi" ::/EFI/BOOT/BOOTX64.EFI
    rm -f "$outdir/core.efi"
fi

cat >"$outdir/build-info.json" <<EOF
{"firmware": "$firmware", "partition_table": "$partmap", "root_partition": $rootpart,
 "root_uuid": "$root_uuid", "esp_uuid": $([ "$firmware" = uefi ] && echo "\"$esp_uuid\"" || echo null),
 "grub_cmdline": "$cmdline"}
EOF
echo "build-disk.sh: done: $disk ($firmware, kernel $kver, root UUID $root_uuid)" >&2
