#!/bin/bash
# qcow2 through xenkvm against the same image through QEMU alone, and against
# xenkvm's raw path, in one run: random 4 KiB (queue depth 32) and sequential
# 1 MiB (queue depth 8), read and write.
#   xenkvm qcow2  blk-harness -f qcow2 bench: blkback's ring core, NBD through
#                 libnbd to the qemu-storage-daemon xenkvm starts for the disk
#   qemu-img      `qemu-img bench` on the same image (QEMU's block layer in one
#                 process, no transport; -t none -i threads as the storage
#                 daemon opens it). It has no random mode: its 4 KiB runs step
#                 1021 blocks at a time through the image (a scattered order
#                 over every cluster), the closest it has.
#   xenkvm raw    blk-harness bench on a raw file of the same size (io_uring)
# The qcow2 image is fully allocated (preallocation=full), as an image the guest
# has written everywhere: reads hit data, writes overwrite clusters in place.
# Prints "NAME xenkvm-qcow2 X, qemu-img Y, ratio X/Y; xenkvm-raw Z, ratio X/Z".
# usage: bench/blk/qcow2.sh [SECONDS] [IMAGE_MiB] [DIR]
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${XENKVM_BUILD:-$ROOT/build}
SECS=${1:-10}
MIB=${2:-1024}
DIR=${3:-${TMPDIR:-/tmp}}
H=$BUILD/tests/unit/blk/blk-harness
[ -x "$H" ] || { echo "no $H: build with -Dtests=true (ninja -C $BUILD)"; exit 1; }
for c in qemu-img qemu-storage-daemon; do
    command -v $c >/dev/null || { echo "$c missing: scripts/deps.sh"; exit 1; }
done
if nm "$H" 2>/dev/null | grep -q __asan_init; then
    echo "warning: $BUILD is a sanitizer build; figures will be low" >&2
fi
WORK=$(mktemp -d "$DIR/qcow2bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
Q=$WORK/disk.qcow2 R=$WORK/disk.raw
qemu-img create -q -f qcow2 -o preallocation=full "$Q" "${MIB}M" || exit 1
dd if=/dev/zero of="$R" bs=1M count="$MIB" oflag=direct status=none || exit 1
echo "qcow2 $Q and raw $R ($MIB MiB each) on $(df --output=source "$DIR" | tail -1), $SECS s per xenkvm run, $(nproc) CPUs"
echo "$(qemu-img --version | head -1)"

ours() {      # -f FMT or "" / image / rw bs qd -> "MB/s IOPS"
    local out
    out=$("$H" $1 bench "$2" "$3" "$4" "$5" "$SECS") || echo "blk-harness failed" >&2
    echo "  xenkvm${1:+ $1}: $out" >&2
    echo "$out" | sed -E 's/.* ([0-9.]+) MB\/s ([0-9.]+) IOPS.*/\1 \2/'
}
qemu_bench() {  # rw bs qd count -> "MB/s IOPS"
    local w="" step=$2 out s
    case "$1" in *write*) w=-w ;; esac
    case "$1" in rand*) step=$(( $2 * 1021 )) ;; esac
    out=$(qemu-img bench -f qcow2 -t none -i threads $w -c "$4" -d "$3" -s "$2" -S "$step" "$Q" 2>&1)
    s=$(echo "$out" | sed -nE 's/Run completed in ([0-9.]+) seconds\./\1/p')
    echo "  qemu-img bench $w -c $4 -d $3 -s $2 -S $step: ${s:-?} s" >&2
    awk -v s="$s" -v n="$4" -v bs="$2" 'BEGIN { if (s > 0) print n * bs / s / 1e6, n / s; else print 0, 0 }'
}

line() {      # name unit qcow2 qemu raw
    awk -v n="$1" -v u="$2" -v a="$3" -v b="$4" -v c="$5" 'BEGIN {
        printf "%-17s xenkvm-qcow2 %.0f %s, qemu-img %.0f %s, ratio %.2f; xenkvm-raw %.0f %s, ratio %.2f\n",
               n, a, u, b, u, (b > 0 ? a / b : 0), c, u, (c > 0 ? a / c : 0) }'
}

# name rw bs qd qemu-img-count
for t in "rand-read-4KiB randread 4096 32 200000" "rand-write-4KiB randwrite 4096 32 100000" \
         "seq-read-1MiB read 1048576 8 4000" "seq-write-1MiB write 1048576 8 3000"; do
    set -- $t
    read -r qmb qiops <<<"$(ours "-f qcow2" "$Q" "$2" "$3" "$4")"
    read -r pmb piops <<<"$(qemu_bench "$2" "$3" "$4" "$5")"
    read -r rmb riops <<<"$(ours "" "$R" "$2" "$3" "$4")"
    if [ "$3" = 4096 ]; then
        line "$1" IOPS "$qiops" "$piops" "$riops"
    else
        line "$1" MB/s "$qmb" "$pmb" "$rmb"
    fi
done
