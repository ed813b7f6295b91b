#!/bin/bash
# netback throughput through the netfront harness on a real tap against the
# floor of the same frames on a bare tap fd, in the same run: guest -> host
# (tx: netback writes what the guest's ring holds into the tap; floor: a
# thread writing the frames to a tap fd) and host -> guest (rx: frames
# injected into the tap with AF_PACKET sendmmsg, netback copies them into
# the guest's rx pages; floor: a thread reading the tap fd), for 64-byte
# frames (packets/s), 1514-byte frames and 64000-byte TCP GSO packets
# (MB/s). Prints "netback X, bare tap Y, ratio Z" lines. Needs root.
# usage: bench/net/run.sh [SECONDS]
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${XENKVM_BUILD:-$ROOT/build}
SECS=${1:-5}
H=$BUILD/tests/unit/net/net-harness
[ -x "$H" ] || { echo "no $H: build with -Dtests=true (ninja -C $BUILD)"; exit 1; }
[ "$(id -u)" = 0 ] && [ -w /dev/net/tun ] || { echo "netback bench: needs root and /dev/net/tun, skipped"; exit 0; }
if nm "$H" 2>/dev/null | grep -q __asan_init; then
    echo "warning: $BUILD is a sanitizer build; figures will be low" >&2
fi
echo "netback: one queue, one worker thread, $SECS s per run, $(nproc) CPUs"

run() {       # netback|tap tx|rx SIZE -> "pps MBps"
    "$H" bench "$1" "$2" "$3" "$SECS" | sed -E 's/pps ([0-9.]+) MBps ([0-9.]+)/\1 \2/'
}

for t in "tx 64 pps tx-64B" "tx 1514 MB tx-1514B" "tx 64000 MB tx-64KiB-GSO" \
         "rx 64 pps rx-64B" "rx 1514 MB rx-1514B" "rx 64000 MB rx-64KiB-GSO"; do
    set -- $t
    read -r npps nmb <<<"$(run netback "$1" "$2")"
    read -r tpps tmb <<<"$(run tap "$1" "$2")"
    if [ "$3" = pps ]; then a=$npps; b=$tpps; u="pkt/s"; else a=$nmb; b=$tmb; u="MB/s"; fi
    awk -v n="$4" -v u="$u" -v a="$a" -v b="$b" 'BEGIN {
        printf "%-16s netback %.0f %s, bare tap %.0f %s, ratio %.2f\n", n, a, u, b, u, (b > 0 ? a / b : 0) }'
done
