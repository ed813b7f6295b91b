#!/usr/bin/env bash
# Hypercall round trip measured inside the guest with rdtsc (xtest's bench
# program: xen_version through the hypercall page) against a bare port-write
# exit from the same guest, in one run.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${XENKVM_BUILD:-build}
N=${1:-2000}
line=$("$B/src/cli/xenkvm" run --no-xenstore --kernel "$B/guest/xtest" --cmdline "bench $N" | grep '^bench ')
eval "$(echo "$line" | tr ' ' '\n' | grep '=')"
printf 'hypercall round trip (best of 3 x %d): xenkvm %.1f us, bare port-I/O exit %.1f us, ratio %.2f\n' \
  "$N" "$(echo "$hypercall_ns / 1000" | bc -l)" "$(echo "$port_exit_ns / 1000" | bc -l)" \
  "$(echo "$ratio_x1000 / 1000" | bc -l)"
