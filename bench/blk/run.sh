#!/bin/bash
# blkback throughput through the frontend harness against fio on the same
# file in the same run: sequential 1 MiB (indirect requests, 256 segments) and
# random 4 KiB, read and write. Both sides use O_DIRECT and io_uring. Guest
# RAM is a shared memfd, so fio runs twice: with its default private buffers
# and with shared-memory buffers (--iomem=mmapshared), the like-for-like floor.
# Each figure and its floors run ROUNDS times, alternately, and the medians
# are compared (the host's load moves from one run to the next).
# Prints "blkback X, fio Y, ratio Z" lines (Z against the shared-memory run).
# usage: bench/blk/run.sh [SECONDS] [FILE_MiB] [DIR] [ROUNDS]
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${XENKVM_BUILD:-$ROOT/build}
SECS=${1:-10}
MIB=${2:-1024}
DIR=${3:-${TMPDIR:-/tmp}}
ROUNDS=${4:-3}
H=$BUILD/tests/unit/blk/blk-harness
[ -x "$H" ] || { echo "no $H: build with -Dtests=true (ninja -C $BUILD)"; exit 1; }
if nm "$H" 2>/dev/null | grep -q __asan_init; then
    echo "warning: $BUILD is a sanitizer build; figures will be low" >&2
fi
IMG=$(mktemp "$DIR/blkbench.XXXXXX")
trap 'rm -f "$IMG"' EXIT
dd if=/dev/zero of="$IMG" bs=1M count="$MIB" oflag=direct status=none || exit 1
echo "file $IMG ($MIB MiB) on $(df --output=source "$DIR" | tail -1), $SECS s per run, medians of $ROUNDS alternating runs, $(nproc) CPUs"

# blk-harness prints "... N MB/s M IOPS ..."
ours() {
    local out
    out=$("$H" bench "$IMG" "$1" "$2" "$3" "$SECS") || echo "blk-harness failed" >&2
    echo "$out" >&2
    echo "$out" | sed -E 's/.* ([0-9.]+) MB\/s ([0-9.]+) IOPS.*/\1 \2/'
}
fio_run() {   # rw bs qd [iomem]
    fio --name=b --filename="$IMG" --direct=1 --ioengine=io_uring --rw="$1" --bs="$2" \
        --iodepth="$3" --runtime="$SECS" --time_based ${4:+--iomem=$4} --output-format=json \
        2>/dev/null | python3 -c '
import json, sys
j = json.load(sys.stdin)["jobs"][0]
k = "read" if j["read"]["io_bytes"] else "write"
print(j[k]["bw_bytes"] / 1e6, j[k]["iops"])'
}
dd_run() {    # rw bs: dd's MB/s for sequential runs only
    local n=$(( MIB * 1048576 / $2 ))
    if [ "$1" = read ]; then
        dd if="$IMG" of=/dev/null bs="$2" count="$n" iflag=direct 2>&1
    else
        dd if=/dev/zero of="$IMG" bs="$2" count="$n" oflag=direct conv=notrunc 2>&1
    fi | awk '/copied/ { for (i = 1; i <= NF; i++) if ($i == "s,") print $(i+1) * ($(i+2) == "GB/s" ? 1000 : 1), 0 }'
}

line() {      # name unit ours floor floor_private
    awk -v n="$1" -v u="$2" -v a="$3" -v b="$4" -v c="$5" 'BEGIN {
        printf "%-22s blkback %.0f %s, fio %.0f %s, ratio %.2f (fio private buffers %.0f, ratio %.2f)\n",
               n, a, u, b, u, (b > 0 ? a / b : 0), c, (c > 0 ? a / c : 0) }'
}

median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

for t in "read 1048576 8 seq-read-1MiB" "write 1048576 8 seq-write-1MiB" \
         "randread 4096 32 rand-read-4KiB" "randwrite 4096 32 rand-write-4KiB"; do
    set -- $t
    if ! command -v fio >/dev/null && [ "$2" != 1048576 ]; then
        echo "$4: fio not installed, no floor for random I/O"; continue
    fi
    a_mb=() a_iops=() f_mb=() f_iops=() p_mb=() p_iops=()
    for _ in $(seq "$ROUNDS"); do
        read -r mb iops <<<"$(ours "$1" "$2" "$3")"
        if command -v fio >/dev/null; then
            read -r fmb fiops <<<"$(fio_run "$1" "$2" "$3" mmapshared)"
            read -r pmb piops <<<"$(fio_run "$1" "$2" "$3")"
        else
            echo "fio not installed (apt-get install fio): dd for the floor" >&2
            read -r fmb fiops <<<"$(dd_run "$1" "$2")"
            pmb=$fmb; piops=0
        fi
        a_mb+=("$mb"); a_iops+=("$iops"); f_mb+=("$fmb"); f_iops+=("$fiops"); p_mb+=("$pmb"); p_iops+=("$piops")
    done
    mb=$(printf '%s\n' "${a_mb[@]}" | median); iops=$(printf '%s\n' "${a_iops[@]}" | median)
    fmb=$(printf '%s\n' "${f_mb[@]}" | median); fiops=$(printf '%s\n' "${f_iops[@]}" | median)
    pmb=$(printf '%s\n' "${p_mb[@]}" | median); piops=$(printf '%s\n' "${p_iops[@]}" | median)
    if [ "$2" = 1048576 ]; then
        line "$4" MB/s "$mb" "$fmb" "$pmb"
    else
        line "$4" IOPS "$iops" "$fiops" "$piops"
    fi
done
