# rig: the same kernel (Debian's generic one: XEN_PV and XEN_PVH) booted to its /init
# as a PVH guest and as a PV guest through Xen's PV shim, in one outer boot, 1 vCPU and
# 512 MiB each, "quiet":
#   pv-bench-pvh     xenkvm run --kernel /pv/vmlinuz: GUEST-INIT-MARKER, poweroff
#   pv-bench-pv      xenkvm run --pv --kernel /pv/vmlinuz (through Debian's xen-shim): the same
# RIG-BENCH pvh_ms=… pv_ms=… ratio=… (VMM start to the marker) and the shim's memory
# cost: the RAM the guest sees (MemTotal) as PVH minus as PV, with the same --memory.
# rig: needs pv
t=${RIG_GUEST_TIMEOUT:-300}
rig_start_xenkvmd || true
line="console=hvc0 quiet guest.scenario=poweroff"
# 512 MiB: the shim builds its PV guest in one naturally aligned chunk covering the
# kernel's mapped range (128 MiB for this kernel), which 256 MiB cannot hold beside
# the shim itself (at the top of RAM).
mem=512
last() { grep -v '^[[:space:]]*$' "$1" | tail -1 | cut -c1-160; }
bench_boot() { # NAME XENKVM-ARGS...
    local name=$1; shift
    rig_run_guest "/tmp/$name.log" "$t" GUEST-INIT-MARKER \
        xenkvm run $(rig_xenkvm_v) --name "$name" --ramdisk /guest/initrd.gz --memory "$mem" \
        --vcpus 1 --cmdline "$line" "$@"
    local type total
    type=$(grep -m1 GUEST-TYPE "/tmp/$name.log" | cut -d' ' -f2)
    total=$(grep -m1 GUEST-MEM "/tmp/$name.log" | cut -d' ' -f2)
    if [ -n "$RIG_MARKER_MS" ] && [ "$RIG_RC" = 0 ]; then
        rig_result "$name" PASS "GUEST-INIT-MARKER after ${RIG_MARKER_MS} ms, guest type $type, MemTotal $total kB (exit 0 after ${RIG_ELAPSED_MS} ms)"
    else
        rig_result "$name" FAIL "xenkvm exit $RIG_RC; marker ${RIG_MARKER_MS:-not seen}; last: $(last "/tmp/$name.log")"
    fi
}
bench_boot pv-bench-pv --pv --kernel /pv/vmlinuz
pv_ms=$RIG_MARKER_MS pv_mem=$(grep -m1 GUEST-MEM /tmp/pv-bench-pv.log | cut -d' ' -f2)
bench_boot pv-bench-pvh --kernel /pv/vmlinuz
pvh_ms=$RIG_MARKER_MS pvh_mem=$(grep -m1 GUEST-MEM /tmp/pv-bench-pvh.log | cut -d' ' -f2)
ratio=$(awk -v a="$pv_ms" -v b="$pvh_ms" 'BEGIN { if (a == "" || b == "" || b == 0) print "n/a"; else printf "%.2f\n", a / b }')
shim_kib=$(awk -v a="$pvh_mem" -v b="$pv_mem" 'BEGIN { if (a == "" || b == "") print "n/a"; else print a - b }')
echo "RIG-BENCH pvh_ms=${pvh_ms:-none} pv_ms=${pv_ms:-none} ratio=$ratio pvh_memtotal_kib=${pvh_mem:-none} pv_memtotal_kib=${pv_mem:-none} shim_cost_kib=$shim_kib"
