#!/bin/bash
# netback throughput through the netfront harness on a real tap against the
# floor of the same frames on a bare tap fd, in the same run: guest -> host
# (tx: netback writes what the guest's ring holds into the tap; floor: a
# thread writing the frames to a tap fd) and host -> guest (rx: frames
# injected into the tap with AF_PACKET sendmmsg, netback copies them into
# the guest's rx pages; floor: a thread reading the tap fd), for 64-byte
# frames (packets/s), 1514-byte frames and 64000-byte TCP GSO packets
# (MB/s). Three floors: the writer/reader on one buffer (hot in the cache);
# on as many buffers in turn as packets the guest's ring holds (the memory
# netback goes through: 15 for 64 KiB packets, 256 for the others); and on
# the guest ring's own pages, with the iovecs netback's tap writes (reads)
# have (the packet laid out in the ring's slots as the harness's frontend
# lays it, the vnet header and the headers netback checks from a private
# buffer): the last has all of netback's tap work and none of its own
# (rings, grants, checks, wake-ups of and by the guest).
# Each figure and its floors run ROUNDS times, alternately, and the medians
# are compared (the host's load changes from one run to the next). Prints
# "netback X, bare tap Y, ratio Z; bare tap over a ring's memory W, ratio V;
# bare tap from the guest's ring U, ratio T" lines. Needs root.
# usage: bench/net/run.sh [SECONDS] [ROUNDS]
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${XENKVM_BUILD:-$ROOT/build}
SECS=${1:-5}
ROUNDS=${2:-3}
H=$BUILD/tests/unit/net/net-harness
[ -x "$H" ] || { echo "no $H: build with -Dtests=true (ninja -C $BUILD)"; exit 1; }
[ "$(id -u)" = 0 ] && [ -w /dev/net/tun ] || { echo "netback bench: needs root and /dev/net/tun, skipped"; exit 0; }
if nm "$H" 2>/dev/null | grep -q __asan_init; then
    echo "warning: $BUILD is a sanitizer build; figures will be low" >&2
fi
echo "netback: one queue, one worker thread, $SECS s per run, medians of $ROUNDS alternating runs, $(nproc) CPUs"

run() {       # netback|tap tx|rx SIZE -> "pps MBps"
    "$H" bench "$1" "$2" "$3" "$SECS" | sed -E 's/pps ([0-9.]+) MBps ([0-9.]+)/\1 \2/'
}

median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

for t in "tx 64 pps tx-64B" "tx 1514 MB tx-1514B" "tx 64000 MB tx-64KiB-GSO" \
         "rx 64 pps rx-64B" "rx 1514 MB rx-1514B" "rx 64000 MB rx-64KiB-GSO"; do
    set -- $t
    na=() ta=() ra=() ga=()
    for _ in $(seq "$ROUNDS"); do
        read -r npps nmb <<<"$(run netback "$1" "$2")"
        read -r tpps tmb <<<"$(run tap "$1" "$2")"
        read -r rpps rmb <<<"$(run tap-ring "$1" "$2")"
        read -r gpps gmb <<<"$(run tap-guest "$1" "$2")"
        if [ "$3" = pps ]; then na+=("$npps"); ta+=("$tpps"); ra+=("$rpps"); ga+=("$gpps")
        else na+=("$nmb"); ta+=("$tmb"); ra+=("$rmb"); ga+=("$gmb"); fi
    done
    a=$(printf '%s\n' "${na[@]}" | median); b=$(printf '%s\n' "${ta[@]}" | median)
    c=$(printf '%s\n' "${ra[@]}" | median); g=$(printf '%s\n' "${ga[@]}" | median)
    if [ "$3" = pps ]; then u="pkt/s"; else u="MB/s"; fi
    awk -v n="$4" -v u="$u" -v a="$a" -v b="$b" -v c="$c" -v g="$g" 'BEGIN {
        printf "%-16s netback %.0f %s, bare tap %.0f %s, ratio %.2f; bare tap over a ring'"'"'s memory %.0f %s, ratio %.2f; bare tap from the guest'"'"'s ring %.0f %s, ratio %.2f\n",
               n, a, u, b, u, (b > 0 ? a / b : 0), c, u, (c > 0 ? a / c : 0), g, u, (g > 0 ? a / g : 0) }'
done
