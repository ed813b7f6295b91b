#!/usr/bin/env bash
# Start-up against the bare-KVM floor, in one run:
#  - process start to the first guest instruction (xenkvm with XENKVM_REPORT_STARTUP
#    vs bench/kvm_floor.c, which creates a VM and runs it to one exit);
#  - a whole run: `xenkvm run` of the hello guest to its poweroff vs the floor
#    program's whole run.
# Medians of N runs each (default 20), interleaved.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${XENKVM_BUILD:-build}
N=${1:-20}
XK=$B/src/cli/xenkvm; FLOOR=$B/bench/kvm-floor; KERNEL=$B/guest/xtest
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
now_us() { date +%s%6N; }
fx=(); ff=(); wx=(); wf=()
for _ in $(seq "$N"); do
  t0=$(now_us); e=$(XENKVM_REPORT_STARTUP=1 "$XK" run --no-xenstore --kernel "$KERNEL" --cmdline hello 2>&1 >/dev/null | awk '/startup:/ {print $5}'); t1=$(now_us)
  fx+=("$e"); wx+=($((t1 - t0)))
  t0=$(now_us); e=$("$FLOOR" 2>&1 | awk '/startup:/ {print $5}'); t1=$(now_us)
  ff+=("$e"); wf+=($((t1 - t0)))
done
mfx=$(printf '%s\n' "${fx[@]}" | median); mff=$(printf '%s\n' "${ff[@]}" | median)
mwx=$(printf '%s\n' "${wx[@]}" | median); mwf=$(printf '%s\n' "${wf[@]}" | median)
printf 'startup, process start to first guest instruction (median of %d): xenkvm %s us, bare KVM %s us, ratio %.2f\n' \
  "$N" "$mfx" "$mff" "$(echo "$mfx / $mff" | bc -l)"
printf 'startup, whole run of the hello guest (median of %d): xenkvm %s us, bare KVM one exit %s us, ratio %.2f\n' \
  "$N" "$mwx" "$mwf" "$(echo "$mwx / $mwf" | bc -l)"
