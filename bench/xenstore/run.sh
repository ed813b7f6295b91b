#!/bin/bash
# xenstore requests per second: xenkvmd against Debian's own xenstored (where
# it can run here) and against a floor (a unix-socket server that answers
# every message with "OK" and does nothing else), all in one run.
# usage: bench/xenstore/run.sh [CLIENTS] [COUNT_PER_CLIENT]
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${XENKVM_BUILD:-$ROOT/build}
CLIENTS=${1:-4}
COUNT=${2:-20000}
OUT=$BUILD/bench-xenstore
mkdir -p "$OUT"
SAN=""
nm "$BUILD/src/xenstore/libxenstore.a" 2>/dev/null | grep -q __asan_init && SAN="-fsanitize=address,undefined"
cc $SAN -std=gnu11 -O2 -D_GNU_SOURCE -D__XEN_TOOLS__ -I"$ROOT/src" -o "$OUT/xsbench" \
   "$ROOT/bench/xenstore/xsbench.c" "$BUILD/src/xenstore/libxenstore.a" \
   "$BUILD/src/common/libcommon.a" -lpthread || exit 1
B=$OUT/xsbench
TMP=$(mktemp -d /tmp/xsbench.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$TMP"; }
trap cleanup EXIT

wait_sock() { for _ in $(seq 100); do [ -S "$1" ] && return 0; sleep 0.05; done; return 1; }

"$BUILD/src/daemon/xenkvmd" -f --no-registry -s "$TMP/xenkvmd.sock" & PIDS+=($!)   # xenstore alone
wait_sock "$TMP/xenkvmd.sock" || { echo "xenkvmd did not start"; exit 1; }
"$B" --echo-server "$TMP/floor.sock" & PIDS+=($!)
wait_sock "$TMP/floor.sock" || { echo "floor server did not start"; exit 1; }

# Debian's xenstored: C (xen-utils-4.17), run without Xen as far as it goes.
XSD=/usr/lib/xen-4.17/bin/xenstored
DEB=""
WHY=""
if [ ! -x "$XSD" ]; then
    WHY="not installed (apt-get install xen-utils-4.17)"
else
    mkdir -p "$TMP/deb"
    export XENSTORED_RUNDIR="$TMP/deb"
    plain=$(XENSTORED_PATH="$TMP/deb/plain.sock" timeout 5 "$XSD" -N 2>&1 | tail -1)
    # (through sh, so the crash is recorded in a file, not reported by this shell)
    XENSTORED_PATH="$TMP/deb/socket" sh -c '"$0" -N -D >"$1/log" 2>&1; echo $? >"$1/status"' \
        "$XSD" "$TMP/deb" & dpid=$!
    PIDS+=($dpid)
    if wait_sock "$TMP/deb/socket" && "$B" -s "$TMP/deb/socket" -c 1 -n 10 -o read >/dev/null 2>&1; then
        DEB="$TMP/deb/socket"
    else
        for _ in $(seq 40); do [ -f "$TMP/deb/status" ] && break; sleep 0.05; done
        if [ -f "$TMP/deb/status" ]; then
            st=$(cat "$TMP/deb/status")
            [ "$st" -gt 128 ] && st="signal $((st - 128))"
            WHY="xenstored -N died ($plain); with -D (no dom0 init) it starts, then dies on the first request (exit $st: $(tail -1 "$TMP/deb/log"))"
        else
            WHY="xenstored -N -D does not answer"
        fi
    fi
    OX=/usr/lib/xen-4.17/bin/oxenstored
    if [ -z "$DEB" ] && [ -x "$OX" ]; then
        WHY="$WHY; oxenstored: $(timeout 5 "$OX" --no-fork 2>&1 | tail -1)"
    fi
fi

rate() { "$B" -s "$1" -c "$CLIENTS" -n "$COUNT" -o "$2" | awk '{print $1}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

echo "xenstore benchmark: $CLIENTS clients x $COUNT operations, $(nproc) CPUs"
[ -n "$WHY" ] && echo "Debian xenstored cannot run on this host: $WHY"
FLOOR=$(rate "$TMP/floor.sock" echo)
echo "floor (echo server, one process a client): $FLOOR req/s"
for op in read write directory transaction; do
    X=$(rate "$TMP/xenkvmd.sock" $op)
    unit="req/s"
    reqs=$X
    if [ $op = transaction ]; then
        unit="txn/s (start, read, write, commit)"
        reqs=$((X * 4))
    fi
    if [ -n "$DEB" ]; then
        Y=$(rate "$DEB" $op)
        echo "$op: xenkvmd: $X $unit, xenstored: $Y $unit, ratio $(ratio "$X" "$Y")"
    else
        echo "$op: xenkvmd: $X $unit, xenstored: n/a, ratio n/a; requests against the floor: $(ratio "$reqs" "$FLOOR")"
    fi
done
