#!/usr/bin/env bash
# Memory: the domain process's resident size minus guest RAM, against the
# bare-KVM floor (bench/kvm_floor.c hold: a process holding a VM and a vCPU),
# in one run. Guest RAM is shared memory (a memfd), so "minus guest RAM" is
# VmRSS - RssShmem for both. xenkvm runs the idle test guest twice: alone, and
# under xenkvmd with a disk and a NIC (blkback and netback threads, xenbus).
# Firecracker publishes a 5 MiB bound for its own overhead: printed for scale.
# usage: bench/memory.sh   (as root for the NIC; uses build/, the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${XENKVM_BUILD:-build}
XK=$B/src/cli/xenkvm; FLOOR=$B/bench/kvm-floor; KERNEL=$B/guest/xtest; XSD=$B/src/daemon/xenkvmd
tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    ip link del xkmembr 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
# overhead KiB of process $1: VmRSS - RssShmem
overhead() { awk '/^VmRSS:/ {r=$2} /^RssShmem:/ {s=$2} END {print r - s}' "/proc/$1/status"; }

"$FLOOR" hold 2>/dev/null & fp=$!; pids+=("$fp")
"$XK" run --kernel "$KERNEL" --cmdline idle --memory 64 --no-xenstore >/dev/null 2>&1 & xp=$!; pids+=("$xp")
sleep 2
floor=$(overhead "$fp"); alone=$(overhead "$xp")
kill "$xp"

"$XSD" --foreground --socket "$tmp/xs.sock" >/dev/null 2>&1 & pids+=("$!")
for _ in $(seq 100); do [ -S "$tmp/xs.sock" ] && break; sleep 0.05; done
truncate -s 64M "$tmp/disk.img"
devs=(--disk "$tmp/disk.img,raw,xvda,rw")
if [ "$(id -u)" = 0 ] && ip link add xkmembr type bridge 2>/dev/null; then
    devs+=(--vif bridge=xkmembr)
fi
"$XK" run --kernel "$KERNEL" --cmdline idle --memory 64 --xenstore "$tmp/xs.sock" --domid 9 \
    "${devs[@]}" >/dev/null 2>&1 & xp=$!; pids+=("$xp")
sleep 2
with=$(overhead "$xp")
what="a disk"; [ ${#devs[@]} -gt 2 ] && what="a disk and a NIC"
printf 'memory, domain process RSS minus guest RAM: xenkvm %d KiB, bare KVM %d KiB, ratio %.2f (Firecracker bound 5120 KiB)\n' \
    "$alone" "$floor" "$(echo "$alone / $floor" | bc -l)"
printf 'memory, the same with xenstore, %s: xenkvm %d KiB, bare KVM %d KiB, ratio %.2f\n' \
    "$what" "$with" "$floor" "$(echo "$with / $floor" | bc -l)"
