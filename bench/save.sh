#!/usr/bin/env bash
# Save, restore and live migration of an idle 256 MiB guest, each beside its
# peer, in one run (issue 13's figures; docs/save-restore.md, "Measured"):
#  - save time vs writing the guest's populated RAM (the bytes the save must
#    carry: 4 KiB per page in its RAM records) to the same disk with
#    `dd conv=fsync` (a save fsyncs its file too);
#  - restore time vs reading that many bytes back from the same disk, both
#    with the file's page cache dropped first (dd iflag=nocache count=0:
#    posix_fadvise DONTNEED on the whole file);
#  - live migration to this host (migrate -s, the stand-in for ssh that
#    tests/test_migrate.py uses, to the same xenkvmd): the downtime, from the
#    source's stop (domain_quiesce) until the destination has reported its
#    copy running (one clock, the source host's: an upper bound), and the
#    total time of `xenkvm migrate`; beside them the figures Xen's and QEMU's
#    own sources publish for the same operation (printed with the source).
# The guest is xtest's "idle FILL": 256 MiB of RAM, FILL MiB (default 64) of it
# written with a quarter of each page random and the rest zero (an idle
# Debian guest in the rig holds about 72 MiB, which zstd takes to 18 MB).
# Medians of N rounds (default 3).
# usage: bench/save.sh [DIR [FILL [N]]]   (DIR: where the save file and the dd
#        peer go, default $TMPDIR or /tmp; after scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${XENKVM_BUILD:-build}
DIR=${1:-${TMPDIR:-/tmp}}
FILL=${2:-64}
N=${3:-3}
case $B in /*) ;; *) B=$PWD/$B ;; esac
XK=$B/src/cli/xenkvm; KERNEL=$B/guest/xtest
[ -w /dev/kvm ] || { echo "save bench: no /dev/kvm, skipped"; exit 0; }
T=$(mktemp -d)
F=$(mktemp -p "$DIR" xk-save-bench.XXXXXX); PEER=$F.dd
export XENKVM_RUNDIR=$T/run XENKVM_STATEDIR=$T/state XENKVM_LOGDIR=$T/log \
       XENSTORED_PATH=$T/run/xenstored.sock
cleanup() {
  "$XK" destroy bsave >/dev/null 2>&1 || true
  # Our daemon and domain processes: their command lines name our run directory.
  for p in /proc/[0-9]*; do
    grep -qs -- "$T/run" "$p/cmdline" && kill "${p#/proc/}" 2>/dev/null || true
  done
  rm -rf "$T" "$F" "$PEER"
}
trap cleanup EXIT
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
med() { printf '%s\n' "$@" | median; }
now_ms() { date +%s%3N; }
ratio() { echo "scale=2; $1 / $2" | bc -l; }
uncache() { dd if="$1" iflag=nocache count=0 status=none; }
wait_log() {   # wait_log PATTERN SECONDS: the console log of bsave shows PATTERN
  for _ in $(seq $(($2 * 10))); do
    grep -qs -- "$1" "$T/log/bsave.log" && return 0
    sleep 0.1
  done
  echo "save bench: the guest never printed '$1'" >&2; tail -5 "$T/log/bsave.log" >&2; exit 1
}
cat >"$T/bsave.cfg" <<EOF
name = "bsave"
type = "pvh"
kernel = "$KERNEL"
extra = "idle $FILL"
memory = 256
EOF
printf '#!/bin/sh\nshift 2\nexec "%s" "$@"\n' "$XK" >"$T/fake-ssh"
chmod +x "$T/fake-ssh"
"$XK" create -q "$T/bsave.cfg"
wait_log "idle: tick 2" $((60 + FILL))      # filling is slow on an emulating KVM
# Bytes the save carries: 4 KiB per page listed in the file's RAM records.
populated() {
  python3 - "$1" <<'EOF'
import struct, sys
with open(sys.argv[1], "rb") as f:
    f.seek(64)
    pages = 0
    while True:
        h = f.read(16)
        if len(h) < 16:
            break
        kind, _, n = struct.unpack("<IIQ", h)
        if kind == 7:
            pages += struct.unpack("<I", f.read(4))[0]
            n -= 4
        f.seek(n, 1)
print(pages * 4096)
EOF
}
sv=(); rs=(); dw=(); dr=()
for i in $(seq "$N"); do
  t0=$(now_ms); "$XK" save bsave "$F" 2>/dev/null; t1=$(now_ms); sv+=($((t1 - t0)))
  [ "$i" = 1 ] && { pop=$(populated "$F"); size=$(stat -c %s "$F"); }
  uncache "$F"
  t0=$(now_ms); "$XK" restore "$F" >/dev/null 2>&1; t1=$(now_ms); rs+=($((t1 - t0)))
  mb=$(( (pop + 1048575) / 1048576 ))
  t0=$(now_ms); dd if=/dev/zero of="$PEER" bs=1M count="$mb" conv=fsync status=none; t1=$(now_ms)
  dw+=($((t1 - t0)))
  uncache "$PEER"
  t0=$(now_ms); dd if="$PEER" of=/dev/null bs=1M status=none; t1=$(now_ms); dr+=($((t1 - t0)))
  rm -f "$PEER"
done
wait_log "idle: tick" 30
dn=(); st=(); tt=(); de=()
for _ in $(seq "$N"); do
  sleep 1
  t0=$(now_ms)
  out=$("$XK" migrate -s "$T/fake-ssh" --debug bsave localhost 2>&1) || { echo "$out" >&2; exit 1; }
  t1=$(now_ms); tt+=($((t1 - t0)))
  dn+=("$(echo "$out" | sed -nE 's/.*the guest did not run for ([0-9]+) ms.*/\1/p')")
  st+=("$(echo "$out" | sed -nE 's/.*stopped for the last ([0-9]+) ms.*/\1/p')")
  de+=("$(echo "$out" | sed -nE 's/.*the guest runs ([0-9]+) ms after the end of the stream.*/\1/p')")
done
msv=$(med "${sv[@]}"); mrs=$(med "${rs[@]}"); mdw=$(med "${dw[@]}"); mdr=$(med "${dr[@]}")
mdn=$(med "${dn[@]}"); mst=$(med "${st[@]}"); mtt=$(med "${tt[@]}"); mde=$(med "${de[@]}")
pm=$(echo "scale=1; $pop / 1048576" | bc); fm=$(echo "scale=1; $size / 1048576" | bc)
echo "save/restore, idle 256 MiB xtest guest with $pm MiB populated (file $fm MiB), $DIR, median of $N:"
printf '  save %s ms, dd write of %s MiB conv=fsync %s ms, ratio %s\n' "$msv" "$mb" "$mdw" "$(ratio "$msv" "$mdw")"
printf '  restore %s ms (to the guest running), dd read of %s MiB, page cache dropped, %s ms, ratio %s\n' \
  "$mrs" "$mb" "$mdr" "$(ratio "$mrs" "$mdr")"
echo "live migration to this host (migrate -s, same xenkvmd), median of $N:"
printf '  downtime %s ms (stop to the target reporting its copy running; stopped %s ms until END, target running %s ms after END), total %s ms\n' \
  "$mdn" "$mst" "$mde" "$mtt"
printf '  vs QEMU default downtime limit 300 ms: ratio %s; vs Xen (Clark et al.) 60 ms: ratio %s; goal < 100 ms\n' \
  "$(ratio "$mdn" 300)" "$(ratio "$mdn" 60)"
echo "  sources: QEMU migration/options.c DEFAULT_MIGRATE_SET_DOWNTIME 300 (ms the source may be stopped for the last part);"
echo "  Clark et al., Live Migration of Virtual Machines, NSDI 2005: 'service downtimes as low as 60ms' (Quake 3 server),"
echo "  and 210 ms for a SPECweb server (its NSDI pre-print's introduction)"
