#!/usr/bin/env bash
# The demo's Linux guest: Debian's cloud kernel and a busybox initramfs (the rig's
# guest init: guest.scenario=shell gives a shell on hvc0), from Debian's packages
# (apt-get download + dpkg-deb -x, cached in .cache/rig).
# usage: scripts/demo-guest.sh OUTDIR    -> OUTDIR/vmlinuz, OUTDIR/initrd.gz
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
out=$1
. "$(dirname "$0")/../rig/lib.sh"
need_host_cmd dpkg-deb dpkg
need_host_cmd cpio cpio
need_host_cmd readelf binutils
kabi=$( [ -s "$RIG_CACHE/kabi" ] && cat "$RIG_CACHE/kabi" || pick_kernel_abi )
kver="$kabi-cloud-amd64"
img=$(deb_extract "linux-image-$kver-unsigned")
bb=$(deb_extract busybox-static)
mkdir -p "$out"
if [ ! -e "$out/initrd.gz" ] || [ "$RIG_DIR/guest/init" -nt "$out/initrd.gz" ]; then
    "$RIG_DIR/build-guest-initramfs.sh" "$bb" "$out/initrd.gz" "$kver=$img"
fi
cp -u "$img/boot/vmlinuz-$kver" "$out/vmlinuz"
log "demo guest: $out/vmlinuz (Debian's $kver), $out/initrd.gz"
