#!/usr/bin/env bash
# Builds the guest initramfs for the Linux guests that xenkvm (or QEMU microvm) boots
# inside the rig: busybox-static, rig/guest/init, e2fsprogs (mke2fs, e2fsck + libraries,
# from Debian's packages) and, for each kernel, its xen-blkfront/xen-netfront modules
# with their dependencies (the same initramfs serves the cloud kernel, PVH, and the
# generic kernel, PV through the shim: modules under /lib/modules/KVER, the order to
# load them in /lib/modules/KVER/load-order).
# usage: rig/build-guest-initramfs.sh BUSYBOX_DIR OUT.cpio.gz KVER=IMAGE_DIR...
#   BUSYBOX_DIR: busybox-static unpacked
#   KVER: a kernel release (e.g. 6.1.0-56-cloud-amd64); IMAGE_DIR: its
#         linux-image-KVER-unsigned unpacked (dpkg-deb -x)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
[ $# -ge 3 ] || die "usage: $0 BUSYBOX_DIR OUT.cpio.gz KVER=IMAGE_DIR..."
bb=$1 out=$2; shift 2

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

# virtio_mmio + virtio_net: the cloud kernel under QEMU microvm (linux-net-qemu, a
# control). ext4 + crc32c (which ext4 asks the crypto API for, and busybox has no
# modprobe to load on demand): the generic kernel has them as modules, the cloud kernel
# built in. (Each module costs a PV guest seconds to load in the rig.)
summary=
for kv in "$@"; do
    kver=${kv%%=*} img=${kv#*=}
    moddir="$img/lib/modules/$kver"
    [ -d "$moddir" ] || die "no $moddir"
    case "$kver" in
        *-cloud-amd64) wanted="xen-blkfront xen-netfront virtio_mmio virtio_net" ;;
        *) wanted="xen-blkfront xen-netfront crc32c_generic ext4" ;;
    esac
    names=
    for m in $wanted; do
        grep -qE "/${m//[-_]/[-_]}\.ko" "$moddir/modules.order" && names="$names $m"
    done
    mods=$(mod_closure "$moddir" $names) || die "module closure failed for $kver"
    for m in $mods; do
        mkdir -p "$stage/lib/modules/$kver/$(dirname "$m")"
        cp "$moddir/$m" "$stage/lib/modules/$kver/$m"
    done
    printf '%s\n' $mods > "$stage/lib/modules/$kver/load-order"
    summary="$summary $kver: $(echo $mods | tr '\n' ' ' | sed 's|[^ ]*/||g');"
done
mk_cpio_gz "$stage" "$out"
log "guest initramfs $out ($(du -h "$out" | cut -f1)):$summary"
