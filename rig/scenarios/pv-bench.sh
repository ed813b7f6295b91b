# rig: the same kernel (Debian's generic one: XEN_PV and XEN_PVH) as a PV guest through
# Xen's PV shim and as a PVH guest, in one outer boot, 1 vCPU and 512 MiB each, "quiet",
# a vif on bridge xenbr0, guest.scenario=bench:
#   pv-bench-pv      xenkvm run --pv --kernel /pv/vmlinuz (through Debian's xen-shim)
#   pv-bench-pvh     xenkvm run --kernel /pv/vmlinuz
# each PASS when the guest reached init, said what it is, and powered off (and
# NAME-link/-ping/-rx/-tx for its network test). RIG-BENCH:
#   pv_ms / pvh_ms          VMM start to GUEST-INIT-MARKER
#   *_memtotal_kib          the RAM the guest sees; shim_cost_kib = PVH's minus PV's
#   *_syscalls_ms           20000 read+write pairs (dd bs=1) timed in the guest
#   *_rtt_ms, *_rx/tx_MiBps ping (average) and 1 MiB each way across the bridge
# 512 MiB: the shim builds its PV guest in one naturally aligned chunk covering the
# kernel's mapped range (128 MiB for this kernel), which 256 MiB cannot hold beside the
# shim itself (at the top of RAM).
# rig: needs pv
t=${RIG_GUEST_TIMEOUT:-300}
mem=512
rig_start_xenkvmd || true
rig_net_up pv-bench 1
bench_boot() { # NAME MAC XENKVM-ARGS...
    local name=$1 mac=$2 type total; shift 2
    rig_run_guest "/tmp/$name.log" "$t" GUEST-INIT-MARKER \
        xenkvm run $(rig_xenkvm_v) --name "$name" --ramdisk /guest/initrd.gz --memory "$mem" \
        --vcpus 1 --vif "bridge=xenbr0,mac=$mac" \
        --cmdline "console=hvc0 quiet guest.scenario=bench guest.netmb=1" "$@"
    type=$(grep -m1 -o 'GUEST-TYPE [A-Z]*' "/tmp/$name.log" | cut -d' ' -f2)
    total=$(grep -m1 -o 'GUEST-MEM [0-9]*' "/tmp/$name.log" | cut -d' ' -f2)
    if [ -n "$RIG_MARKER_MS" ] && [ "$RIG_RC" = 0 ] && [ -n "$type" ]; then
        rig_result "$name" PASS "GUEST-INIT-MARKER after ${RIG_MARKER_MS} ms, guest type $type, MemTotal $total kB (exit 0 after ${RIG_ELAPSED_MS} ms)"
    else
        rig_result "$name" FAIL "xenkvm exit $RIG_RC; marker ${RIG_MARKER_MS:-not seen}; last: $(rig_last "/tmp/$name.log")"
    fi
    # NAME_ms NAME_memtotal_kib NAME_syscalls_ms NAME_rtt_ms NAME_rx_MiBps NAME_tx_MiBps
    local key=${name#pv-bench-}
    rig_net_results "$name" "/tmp/$name.log" "$mac" 1 "xenkvm exit $RIG_RC"
    echo "${key}_ms=${RIG_MARKER_MS:-none} ${key}_memtotal_kib=${total:-none}" \
         "${key}_syscalls_ms=$(grep -m1 -o 'GUEST-SYSCALLS-MS [0-9]*' "/tmp/$name.log" | cut -d' ' -f2)" \
         "${key}_rtt_ms=$(grep -m1 -o 'round-trip min/avg/max = [0-9./]*' "/tmp/$name.log" | cut -d/ -f4)" \
         "${key}_rx_MiBps=$(rig_mbps "$RIG_NET_RX_BYTES" "$RIG_NET_RX_MS")" \
         "${key}_tx_MiBps=$(rig_mbps "$RIG_NET_TX_BYTES" "$RIG_NET_TX_MS")" > "/tmp/$name.bench"
    rig_net_listen
}
bench_boot pv-bench-pv 00:16:3e:00:00:04 --pv --kernel /pv/vmlinuz
bench_boot pv-bench-pvh 00:16:3e:00:00:05 --kernel /pv/vmlinuz
rig_net_down
pv_ms=$(sed -n 's/.*pv_ms=\([0-9]*\).*/\1/p' /tmp/pv-bench-pv.bench)
pvh_ms=$(sed -n 's/.*pvh_ms=\([0-9]*\).*/\1/p' /tmp/pv-bench-pvh.bench)
pv_mem=$(sed -n 's/.*pv_memtotal_kib=\([0-9]*\).*/\1/p' /tmp/pv-bench-pv.bench)
pvh_mem=$(sed -n 's/.*pvh_memtotal_kib=\([0-9]*\).*/\1/p' /tmp/pv-bench-pvh.bench)
ratio=$(awk -v a="$pv_ms" -v b="$pvh_ms" 'BEGIN { if (a == "" || b == "" || b == 0) print "n/a"; else printf "%.2f\n", a / b }')
shim_kib=$(awk -v a="$pvh_mem" -v b="$pv_mem" 'BEGIN { if (a == "" || b == "") print "n/a"; else print a - b }')
echo "RIG-BENCH $(cat /tmp/pv-bench-pv.bench) $(cat /tmp/pv-bench-pvh.bench) boot_ratio=$ratio shim_cost_kib=$shim_kib"
