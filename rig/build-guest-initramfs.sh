#!/usr/bin/env bash
# Builds the guest initramfs for the Linux guest that xenkvm (or QEMU microvm) boots
# inside the rig: busybox-static, rig/guest/init, e2fsprogs (mke2fs, e2fsck + libraries,
# from Debian's packages) and the cloud kernel's xen-blkfront/xen-netfront modules with
# their dependencies.
# usage: rig/build-guest-initramfs.sh KVER CLOUD_IMAGE_DIR BUSYBOX_DIR OUT.cpio.gz
#   KVER: the cloud kernel release (e.g. 6.1.0-56-cloud-amd64)
#   CLOUD_IMAGE_DIR: linux-image-KVER-unsigned unpacked (dpkg-deb -x)
#   BUSYBOX_DIR: busybox-static unpacked
set -euo pipefail
. "$(dirname "$0")/lib.sh"
[ $# -eq 4 ] || die "usage: $0 KVER CLOUD_IMAGE_DIR BUSYBOX_DIR OUT.cpio.gz"
kver=$1 img=$2 bb=$3 out=$4
moddir="$img/lib/modules/$kver"
[ -d "$moddir" ] || die "no $moddir"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{proc,sys,dev,tmp,root,etc}
stage_busybox "$bb" "$stage"
install -m 755 "$RIG_DIR/guest/init" "$stage/init"

# e2fsprogs (mke2fs, e2fsck; busybox's mke2fs makes no ext4) with its libraries and
# loader, from Debian's packages. The cloud kernel has ext4 built in.
E2FS_PKGS="e2fsprogs libext2fs2 libcom-err2 libblkid1 libuuid1 libc6"
stage_deb_programs "$stage" "$E2FS_PKGS" /sbin/mke2fs /sbin/e2fsck || die "staging e2fsprogs failed"
ln -sf mke2fs "$stage/sbin/mkfs.ext4"
ln -sf e2fsck "$stage/sbin/fsck.ext4"
cp "$(deb_extract e2fsprogs)/etc/mke2fs.conf" "$stage/etc/mke2fs.conf"

# virtio_mmio + virtio_net: the same guest under QEMU microvm (linux-net-qemu, a control).
mods=$(mod_closure "$moddir" xen-blkfront xen-netfront virtio_mmio virtio_net) || die "module closure failed"
for m in $mods; do
    mkdir -p "$stage/lib/modules/$kver/$(dirname "$m")"
    cp "$moddir/$m" "$stage/lib/modules/$kver/$m"
done
printf '%s\n' $mods > "$stage/lib/modules/load-order"
mk_cpio_gz "$stage" "$out"
log "guest initramfs $out ($(du -h "$out" | cut -f1)): modules $(echo $mods | tr '\n' ' ')"
