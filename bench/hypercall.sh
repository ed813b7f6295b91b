#!/usr/bin/env bash
# Hypercall round trip measured inside the guest with rdtsc (xtest's bench
# program: xen_version through the hypercall page) against a bare port-write
# exit from the same guest, in one run; and VCPUOP_set_singleshot_timer (a
# tickless guest's call on each idle entry) beside the plain hypercall.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${XENKVM_BUILD:-build}
N=${1:-2000}
line=$("$B/src/cli/xenkvm" run --kernel "$B/guest/xtest" --cmdline "bench $N" | grep '^bench ')
eval "$(echo "$line" | tr ' ' '\n' | grep '=')"
printf 'hypercall round trip (best of 3 x %d): xenkvm %.1f us, bare port-I/O exit %.1f us, ratio %.2f\n' \
  "$N" "$(echo "$hypercall_ns / 1000" | bc -l)" "$(echo "$port_exit_ns / 1000" | bc -l)" \
  "$(echo "$ratio_x1000 / 1000" | bc -l)"
printf 'VCPUOP_set_singleshot_timer (same run): xenkvm %.1f us, a plain hypercall %.1f us, ratio %.2f\n' \
  "$(echo "$singleshot_ns / 1000" | bc -l)" "$(echo "$hypercall_ns / 1000" | bc -l)" \
  "$(echo "$singleshot_ratio_x1000 / 1000" | bc -l)"
