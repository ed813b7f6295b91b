#!/usr/bin/env bash
# Hypercall round trip measured inside the guest with rdtsc (xtest's bench
# program: xen_version through the hypercall page) against a floor with the same
# call shape (a call into a stub that does one port write to a port xenkvm only
# returns from, and returns), in one run; a bare inline port write for scale;
# VCPUOP_set_singleshot_timer (a tickless guest's call on each idle entry)
# beside the plain hypercall; and a 32-bit caller's translated structure call.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${XENKVM_BUILD:-build}
N=${1:-2000}
line=$("$B/src/cli/xenkvm" run --no-xenstore --kernel "$B/guest/xtest" --cmdline "bench $N" | grep '^bench ')
eval "$(echo "$line" | tr ' ' '\n' | grep '=')"
printf 'hypercall round trip (best of 3 x %d): xenkvm %.2f us, same call into a port-write stub %.2f us, ratio %.2f (bare port write %.2f us)\n' \
  "$N" "$(echo "$hypercall_ns / 1000" | bc -l)" "$(echo "$stub_exit_ns / 1000" | bc -l)" \
  "$(echo "$ratio_x1000 / 1000" | bc -l)" "$(echo "$port_exit_ns / 1000" | bc -l)"
printf 'VCPUOP_set_singleshot_timer (same run): xenkvm %.1f us, a plain hypercall %.1f us, ratio %.2f\n' \
  "$(echo "$singleshot_ns / 1000" | bc -l)" "$(echo "$hypercall_ns / 1000" | bc -l)" \
  "$(echo "$singleshot_ratio_x1000 / 1000" | bc -l)"
# The same guest built for 32-bit mode: get_runstate_info's structure is
# translated for it (the compat ABI) and native for the 64-bit one.
native_ns=$struct_call_ns
line=$("$B/src/cli/xenkvm" run --kernel "$B/guest/xtest32" --cmdline "bench $N" | grep '^bench ')
eval "$(echo "$line" | tr ' ' '\n' | grep '=')"
printf 'get_runstate_info round trip: 32-bit caller (translated) %.1f us, 64-bit caller %.1f us, ratio %.2f\n' \
  "$(echo "$struct_call_ns / 1000" | bc -l)" "$(echo "$native_ns / 1000" | bc -l)" \
  "$(echo "$struct_call_ns / $native_ns" | bc -l)"
