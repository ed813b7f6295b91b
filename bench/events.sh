#!/usr/bin/env bash
# An event channel's round trip measured inside the guest with rdtsc (xtest's
# evbench program: EVTCHNOP_send on a loop-back port until the handler ran),
# for each delivery path, against a bare hypercall (xen_version) in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${XENKVM_BUILD:-build}
N=${1:-2000}
for mode in 2l fifo callback; do
    line=$("$B/src/cli/xenkvm" run --kernel "$B/guest/xtest" --cmdline "evbench $mode $N" | grep '^bench ')
    eval "$(echo "$line" | tr ' ' '\n' | grep '=')"
    printf 'event round trip, %-8s (best of 3 x %d): %.1f us; hypercall %.1f us; ratio %.2f\n' \
      "$mode" "$N" "$(echo "$event_ns / 1000" | bc -l)" "$(echo "$hypercall_ns / 1000" | bc -l)" \
      "$(echo "$ratio_x1000 / 1000" | bc -l)"
done
