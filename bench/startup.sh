#!/usr/bin/env bash
# Start-up against the bare-KVM floor, in one run:
#  - process start to the first guest instruction (xenkvm with XENKVM_REPORT_STARTUP
#    vs bench/kvm_floor.c, which creates a VM and runs it to one exit), both
#    counted from their exec (bench/exec-at), so that loading the program and
#    its libraries counts too;
#  - a whole run: `xenkvm run` of the hello guest to its poweroff vs the floor
#    program's whole run.
# Medians of N runs each (default 20), interleaved.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${XENKVM_BUILD:-build}
N=${1:-20}
XK=$B/src/cli/xenkvm; FLOOR=$B/bench/kvm-floor; KERNEL=$B/guest/xtest; AT=$B/bench/exec-at
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
now_us() { date +%s%6N; }
cpu() { sed -nE 's/.*cpu ([0-9]+) us.*/\1/p'; }
fx=(); ff=(); cx=(); cf=(); wx=(); wf=()
for _ in $(seq "$N"); do
  t0=$(now_us); l=$("$AT" "$XK" run --kernel "$KERNEL" --cmdline hello --no-xenstore 2>&1 >/dev/null | grep '^startup:'); t1=$(now_us)
  fx+=("$(echo "$l" | awk '{print $5}')"); cx+=("$(echo "$l" | cpu)"); wx+=($((t1 - t0)))
  t0=$(now_us); l=$("$AT" "$FLOOR" 2>&1 | grep '^startup:'); t1=$(now_us)
  ff+=("$(echo "$l" | awk '{print $5}')"); cf+=("$(echo "$l" | cpu)"); wf+=($((t1 - t0)))
done
m() { printf '%s\n' "$@" | median; }
mfx=$(m "${fx[@]}"); mff=$(m "${ff[@]}"); mcx=$(m "${cx[@]}"); mcf=$(m "${cf[@]}")
mwx=$(m "${wx[@]}"); mwf=$(m "${wf[@]}")
printf 'startup, exec to first guest instruction (median of %d): xenkvm %s us, bare KVM %s us, ratio %.2f (cpu to then: %s us, %s us, ratio %.2f)\n' \
  "$N" "$mfx" "$mff" "$(echo "$mfx / $mff" | bc -l)" "$mcx" "$mcf" "$(echo "$mcx / $mcf" | bc -l)"
printf 'startup, whole run of the hello guest (median of %d): xenkvm %s us, bare KVM one exit %s us, ratio %.2f\n' \
  "$N" "$mwx" "$mwf" "$(echo "$mwx / $mwf" | bc -l)"
