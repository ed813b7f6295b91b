#!/usr/bin/env bash
# Loading a Linux kernel (bzImage) and its initramfs into a domain, against
# the floor of what any loader must do with them (bench/loader_floor.c: map
# the files, decompress the payload, read the initramfs), alternately, N
# times each (default 9); medians. xenkvm's figure is the "kernel" phase of
# XENKVM_REPORT_STARTUP; the process is killed at the guest's first instruction
# (this host's KVM cannot run Linux anyway).
# usage: bench/loader.sh [KERNEL RAMDISK] [N]   (default: the rig's guest,
#        .cache/rig/guest/{vmlinuz,initrd.gz}, after rig/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${XENKVM_BUILD:-build}
K=${1:-.cache/rig/guest/vmlinuz}
R=${2:-.cache/rig/guest/initrd.gz}
N=${3:-9}
[ -f "$K" ] && [ -f "$R" ] || { echo "loader bench: no $K / $R (rig/build.sh makes them), skipped"; exit 0; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# xenkvm's "kernel" phase (us); the guest is killed at its first instruction.
load_once() {
  local line pid
  coproc XK { XENKVM_REPORT_STARTUP=1 exec "$B/src/cli/xenkvm" run \
                --kernel "$K" --ramdisk "$R" --memory 256 --no-xenstore 2>&1 >/dev/null; }
  pid=$XK_PID
  while IFS= read -r -t 30 line <&"${XK[0]}"; do
    case "$line" in startup:*) break ;; esac
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "$line" | sed -nE 's/^startup: .* kernel \+([0-9]+).*cpu ([0-9]+) us.*/\1 \2/p'
}
# Each run gives "wall cpu" (us): the wall time of the kernel phase, and the
# CPU time of the whole process up to the guest's first instruction (on a busy
# host the wall time is mostly waiting for a CPU).
xw=(); xc=(); fw=(); fc=()
for _ in $(seq "$N"); do
  read -r w c <<<"$(load_once)"; xw+=("$w"); xc+=("$c")
  read -r w c <<<"$("$B/bench/loader-floor" "$K" "$R" | sed -nE 's/^loader floor: ([0-9]+) us.*cpu ([0-9]+) us.*/\1 \2/p')"
  fw+=("$w"); fc+=("$c")
done
med() { printf '%s\n' "$@" | median; }
ms() { echo "$1 / 1000" | bc -l; }
w=$(med "${xw[@]}"); c=$(med "${xc[@]}"); fwm=$(med "${fw[@]}"); fcm=$(med "${fc[@]}")
printf 'loading %s + %s (median of %d): xenkvm %.1f ms (process cpu %.1f ms), floor (map, decompress, read) %.1f ms (cpu %.1f ms), ratio %.2f (cpu %.2f)\n' \
  "$(basename "$K")" "$(basename "$R")" "$N" "$(ms "$w")" "$(ms "$c")" "$(ms "$fwm")" "$(ms "$fcm")" \
  "$(echo "$w / $fwm" | bc -l)" "$(echo "$c / $fcm" | bc -l)"
