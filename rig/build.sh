#!/usr/bin/env bash
# Builds the nested rig into the cache (default .cache/rig, or $RIG_CACHE), from Debian
# packages only (apt-get download + dpkg-deb -x):
#   outer/vmlinuz                 Debian's generic kernel (linux-image-6.1.0-N-amd64-unsigned)
#   parts/base.cpio.gz            busybox-static + irqbypass, ccp, kvm, kvm-amd, bridge, tun (+ deps)
#   parts/guest.cpio              /guest/vmlinuz (cloud kernel) + /guest/initrd.gz (uncompressed cpio)
#   parts/qemu.cpio.gz            the host's Debian qemu-system-x86_64 + libraries + qboot
#   parts/storage.cpio.gz         the host's Debian qemu-storage-daemon, qemu-img and libnbd + libraries
#   parts/xenkvm.cpio.gz          /init, /scenarios, xenkvm, xenkvmd, /xtest (+ libraries)
#   outer-initrd.cpio.gz          base + guest + xenkvm (concatenated cpio.gz members)
#   parts/pv.cpio.gz              Xen's PV shim and GRUB's PV image (from their .debs, at
#                                 Debian's paths), /pv/vmlinuz (the generic kernel, a PV
#                                 guest), /pv/boot.img (a boot disk with it and a grub.cfg),
#                                 and pygrub with the Python it runs on
#   outer-initrd-qemu.cpio.gz     the same + qemu (for scenarios marked "# rig: needs qemu")
#   outer-initrd-pv.cpio.gz       the same + pv (for scenarios marked "# rig: needs pv")
#   outer-initrd-storage.cpio.gz  the same + storage ("# rig: needs storage": disk images)
# Parts are rebuilt only when their inputs change; the xenkvm part always.
# usage: rig/build.sh [--build DIR]     (DIR: the meson build dir; default $XENKVM_BUILD or build)
# env: RIG_CACHE, RIG_KABI=6.1.0-N (pin the kernel), RIG_REFRESH=1 (look for a newer kernel)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

BUILD=${XENKVM_BUILD:-$ROOT/build}
while [ $# -gt 0 ]; do
    case "$1" in
        --build) BUILD=$2; shift 2 ;;
        --build=*) BUILD=${1#--build=}; shift ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        *) die "unknown argument $1" ;;
    esac
done
case "$BUILD" in /*) ;; *) BUILD="$PWD/$BUILD" ;; esac

t_start=$(date +%s)
mkdir -p "$RIG_CACHE"/{debs,x,parts,outer,guest,logs}

# Host tools.
need_host_cmd dpkg-deb dpkg
need_host_cmd cpio cpio
need_host_cmd gzip gzip
need_host_cmd ldd libc-bin
need_host_cmd readelf binutils
need_host_cmd qemu-system-x86_64 qemu-system-x86
need_host_file /usr/share/qemu/qboot.rom qemu-system-data
need_host_file /usr/share/seabios/bios-256k.bin seabios
need_host_cmd mke2fs e2fsprogs
need_host_file /usr/lib/xen-4.17/bin/pygrub xen-utils-4.17
need_host_cmd qemu-storage-daemon qemu-system-common
need_host_cmd qemu-img qemu-utils
need_host_file /usr/lib/x86_64-linux-gnu/libnbd.so.0 libnbd0

# Kernel version: pinned, cached, or the newest with both flavours.
if [ -n "${RIG_KABI:-}" ]; then
    kabi=$RIG_KABI
elif [ -s "$RIG_CACHE/kabi" ] && [ -z "${RIG_REFRESH:-}" ] &&
     ls "$RIG_CACHE/debs/linux-image-$(cat "$RIG_CACHE/kabi")-"{,cloud-}amd64-unsigned_*.deb >/dev/null 2>&1; then
    kabi=$(cat "$RIG_CACHE/kabi")
else
    kabi=$(pick_kernel_abi)
fi
echo "$kabi" > "$RIG_CACHE/kabi"
outer_kver="$kabi-amd64" guest_kver="$kabi-cloud-amd64"
log "kernel $kabi (outer $outer_kver, guest $guest_kver)"

outer_img=$(deb_extract "linux-image-$outer_kver-unsigned")
guest_img=$(deb_extract "linux-image-$guest_kver-unsigned")
bb=$(deb_extract busybox-static)

# --- outer kernel
cp -u "$outer_img/boot/vmlinuz-$outer_kver" "$RIG_CACHE/outer/vmlinuz"

# --- base part: busybox + KVM and network modules
stamp=$(inputs_stamp "$outer_img/boot/vmlinuz-$outer_kver" "$bb/bin/busybox" "$RIG_DIR/lib.sh" "$0")
if [ "$(cat "$RIG_CACHE/parts/base.stamp" 2>/dev/null)" != "$stamp" ] || [ ! -e "$RIG_CACHE/parts/base.cpio.gz" ]; then
    stage=$(mktemp -d); trap 'rm -rf "$stage"' EXIT
    mkdir -p "$stage"/{proc,sys,dev,tmp,run,root,etc}
    stage_busybox "$bb" "$stage"
    moddir="$outer_img/lib/modules/$outer_kver"
    # bridge, tun: for the vifs (xenkvm's netback puts a tap on a bridge).
    mods=$(mod_closure "$moddir" irqbypass ccp kvm kvm-amd bridge tun) || die "module closure failed"
    for m in $mods; do
        mkdir -p "$stage/lib/modules/$outer_kver/$(dirname "$m")"
        cp "$moddir/$m" "$stage/lib/modules/$outer_kver/$m"
    done
    printf '%s\n' $mods > "$stage/lib/modules/load-order"
    mk_cpio_gz "$stage" "$RIG_CACHE/parts/base.cpio.gz"
    rm -rf "$stage"; trap - EXIT
    echo "$stamp" > "$RIG_CACHE/parts/base.stamp"
    log "base part rebuilt: modules $(echo $mods)"
fi

# --- guest part: cloud kernel + guest initramfs (with the generic kernel's modules too:
# the PV scenarios boot the generic kernel with it)
stamp=$(inputs_stamp "$guest_img/boot/vmlinuz-$guest_kver" "$outer_img/boot/vmlinuz-$outer_kver" \
        "$bb/bin/busybox" "$RIG_DIR/lib.sh" "$RIG_DIR/guest" "$RIG_DIR/build-guest-initramfs.sh")
if [ "$(cat "$RIG_CACHE/parts/guest.stamp" 2>/dev/null)" != "$stamp" ] || [ ! -e "$RIG_CACHE/parts/guest.cpio" ]; then
    cp "$guest_img/boot/vmlinuz-$guest_kver" "$RIG_CACHE/guest/vmlinuz"
    "$RIG_DIR/build-guest-initramfs.sh" "$bb" "$RIG_CACHE/guest/initrd.gz" \
        "$guest_kver=$guest_img" "$outer_kver=$outer_img"
    stage=$(mktemp -d); trap 'rm -rf "$stage"' EXIT
    mkdir -p "$stage/guest"
    cp "$RIG_CACHE/guest/vmlinuz" "$RIG_CACHE/guest/initrd.gz" "$stage/guest/"
    # Both files are compressed already: store this part uncompressed (no gzip under TCG).
    (cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) > "$RIG_CACHE/parts/guest.cpio.tmp"
    mv "$RIG_CACHE/parts/guest.cpio.tmp" "$RIG_CACHE/parts/guest.cpio"
    rm -rf "$stage"; trap - EXIT
    echo "$stamp" > "$RIG_CACHE/parts/guest.stamp"
    log "guest part rebuilt"
fi

# --- qemu part: Debian's qemu-system-x86_64 (installed on the host from its package) for
# the QEMU microvm comparison inside the rig.
qemu_bin=$(command -v qemu-system-x86_64)
stamp=$(inputs_stamp "$qemu_bin" /usr/share/qemu/qboot.rom "$RIG_DIR/lib.sh" "$0")
if [ "$(cat "$RIG_CACHE/parts/qemu.stamp" 2>/dev/null)" != "$stamp" ] || [ ! -e "$RIG_CACHE/parts/qemu.cpio.gz" ]; then
    stage=$(mktemp -d); trap 'rm -rf "$stage"' EXIT
    copy_with_libs "$qemu_bin" "$stage" /usr/bin/qemu-system-x86_64
    mkdir -p "$stage/usr/share/qemu"
    cp -L /usr/share/qemu/qboot.rom "$stage/usr/share/qemu/qboot.rom"
    cp -L /usr/share/qemu/bios-microvm.bin "$stage/usr/share/qemu/bios-microvm.bin"
    mk_cpio_gz "$stage" "$RIG_CACHE/parts/qemu.cpio.gz"
    rm -rf "$stage"; trap - EXIT
    echo "$stamp" > "$RIG_CACHE/parts/qemu.stamp"
    log "qemu part rebuilt"
fi

# --- pv part: what the PV scenarios need besides the guest part.
shim_deb=$(deb_extract xen-utils-4.17)
grubxen=$(deb_extract grub-xen-host)
pygrub_bin=/usr/lib/xen-4.17/bin/pygrub
stamp=$(inputs_stamp "$outer_img/boot/vmlinuz-$outer_kver" "$RIG_CACHE/guest/initrd.gz" \
        "$shim_deb/usr/lib/xen-4.17/boot/xen-shim" "$grubxen/usr/lib/grub-xen" \
        "$pygrub_bin" "$(readlink -f /usr/bin/python3)" "$RIG_DIR/lib.sh" "$0")
if [ "$(cat "$RIG_CACHE/parts/pv.stamp" 2>/dev/null)" != "$stamp" ] || [ ! -e "$RIG_CACHE/parts/pv.cpio.gz" ]; then
    stage=$(mktemp -d); trap 'rm -rf "$stage"' EXIT
    # The shim and GRUB's PV image where Debian's packages put them (a Xen user's
    # config names them there, and xenkvm looks for the shim there).
    mkdir -p "$stage/pv" "$stage/usr/lib/xen-4.17/boot" "$stage/usr/lib/grub-xen"
    cp "$outer_img/boot/vmlinuz-$outer_kver" "$stage/pv/vmlinuz"
    cp "$shim_deb/usr/lib/xen-4.17/boot/xen-shim" "$stage/usr/lib/xen-4.17/boot/xen-shim"
    cp "$grubxen/usr/lib/grub-xen/grub-x86_64-xen.bin" "$grubxen/usr/lib/grub-xen/grub-i386-xen.bin" \
        "$stage/usr/lib/grub-xen/"
    # The disk a guest boots from (pygrub, pvgrub2): ext4 with the generic kernel, the
    # guest initramfs and a grub.cfg as Debian's update-grub would write for it.
    make_boot_disk "$stage/pv/boot.img" "$outer_kver" "$outer_img/boot/vmlinuz-$outer_kver" \
        "$RIG_CACHE/guest/initrd.gz" || die "making the boot disk failed"
    stage_pygrub "$stage" "$stage/pv/boot.img" || die "staging pygrub failed"
    mk_cpio_gz "$stage" "$RIG_CACHE/parts/pv.cpio.gz"
    rm -rf "$stage"; trap - EXIT
    echo "$stamp" > "$RIG_CACHE/parts/pv.stamp"
    log "pv part rebuilt ($(du -h "$RIG_CACHE/parts/pv.cpio.gz" | cut -f1))"
fi

# --- storage part: Debian's qemu-storage-daemon (xenkvm serves disk images through it),
# libnbd (xenkvm loads it for them) and qemu-img (scenarios make and check images), as
# installed on the host.
qsd_bin=$(command -v qemu-storage-daemon) qimg_bin=$(command -v qemu-img)
nbd_lib=/usr/lib/x86_64-linux-gnu/libnbd.so.0
# Libraries the xenkvm part carries anyway (libxml2 and ICU for libnbd, libc...) stay out.
xk_libs=$(ldd "$BUILD/src/cli/xenkvm" 2>/dev/null | awk '/=> \//{print $3} /^\t\/[^ ]+ \(/{print $1}')
stamp=$(inputs_stamp "$qsd_bin" "$qimg_bin" "$(readlink -f "$nbd_lib")" $xk_libs "$RIG_DIR/lib.sh" "$0")
if [ "$(cat "$RIG_CACHE/parts/storage.stamp" 2>/dev/null)" != "$stamp" ] || [ ! -e "$RIG_CACHE/parts/storage.cpio.gz" ]; then
    stage=$(mktemp -d); trap 'rm -rf "$stage"' EXIT
    copy_with_libs "$qsd_bin" "$stage" /usr/bin/qemu-storage-daemon
    copy_with_libs "$qimg_bin" "$stage" /usr/bin/qemu-img
    copy_with_libs "$nbd_lib" "$stage" "$nbd_lib"
    for l in $xk_libs; do rm -f "$stage$l"; done
    mk_cpio_gz "$stage" "$RIG_CACHE/parts/storage.cpio.gz"
    rm -rf "$stage"; trap - EXIT
    echo "$stamp" > "$RIG_CACHE/parts/storage.stamp"
    log "storage part rebuilt ($(du -h "$RIG_CACHE/parts/storage.cpio.gz" | cut -f1))"
fi

# --- xenkvm part: always rebuilt (small)
for f in src/cli/xenkvm src/daemon/xenkvmd guest/xtest; do
    [ -x "$BUILD/$f" ] || die "$BUILD/$f is missing: build xenkvm first (ninja -C $BUILD)"
done
stage=$(mktemp -d); trap 'rm -rf "$stage"' EXIT
install -m 755 "$RIG_DIR/outer/init" "$stage/init"
install -m 755 "$ROOT/scripts/demo.sh" "$stage/demo.sh"   # its Linux path runs in linux-boot
mkdir -p "$stage/scenarios"
cp "$RIG_DIR"/scenarios/*.sh "$stage/scenarios/"
copy_with_libs "$BUILD/src/cli/xenkvm" "$stage" /usr/bin/xenkvm
copy_with_libs "$BUILD/src/daemon/xenkvmd" "$stage" /usr/bin/xenkvmd
cp "$BUILD/guest/xtest" "$stage/xtest"
mk_cpio_gz "$stage" "$RIG_CACHE/parts/xenkvm.cpio.gz"
rm -rf "$stage"; trap - EXIT
echo "$BUILD" > "$RIG_CACHE/parts/xenkvm.build"

# The uncompressed part goes first: the kernel reads an uncompressed cpio member only at
# a 4-byte aligned offset, and a gzip member ends anywhere.
cat "$RIG_CACHE"/parts/{guest.cpio,base.cpio.gz,xenkvm.cpio.gz} > "$RIG_CACHE/outer-initrd.cpio.gz.tmp"
mv "$RIG_CACHE/outer-initrd.cpio.gz.tmp" "$RIG_CACHE/outer-initrd.cpio.gz"
for part in qemu pv storage; do
    cat "$RIG_CACHE"/parts/{guest.cpio,base.cpio.gz,$part.cpio.gz,xenkvm.cpio.gz} > "$RIG_CACHE/outer-initrd-$part.cpio.gz.tmp"
    mv "$RIG_CACHE/outer-initrd-$part.cpio.gz.tmp" "$RIG_CACHE/outer-initrd-$part.cpio.gz"
done

log "done in $(( $(date +%s) - t_start )) s: outer-initrd $(du -h "$RIG_CACHE/outer-initrd.cpio.gz" | cut -f1), with qemu $(du -h "$RIG_CACHE/outer-initrd-qemu.cpio.gz" | cut -f1), with pv $(du -h "$RIG_CACHE/outer-initrd-pv.cpio.gz" | cut -f1), with storage $(du -h "$RIG_CACHE/outer-initrd-storage.cpio.gz" | cut -f1), downloads $(du -sh "$RIG_CACHE/debs" | cut -f1) (xenkvm from $BUILD)"
