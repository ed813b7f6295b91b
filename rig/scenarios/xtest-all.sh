# rig: every xtest program under xenkvm (smp, tlb and callback with 2 vCPUs). Under this
# KVM (hardware-assisted, nested) the global callback vector, FIFO queues,
# ballooning and TLB flushes meet a real MMU and interrupt path.
for prog in hello version evtchn timer grant hostile vmcall smp callback callback:lapic fifo \
            balloon watchdog tlb; do
    cmd=$(echo "$prog" | tr ':' ' ')
    vcpus=1
    case "$prog" in smp|tlb|callback) vcpus=2 ;; esac
    rig_run_guest "/tmp/xtest-$prog.log" 120 "" \
        xenkvm run $(rig_xenkvm_v) --no-xenstore --vcpus $vcpus --kernel /xtest --cmdline "$cmd"
    res=$(grep -m1 'RESULT ' "/tmp/xtest-$prog.log")
    extra=$(grep -m1 'before the flush' "/tmp/xtest-$prog.log" | sed 's/^ *//')
    if [ "$RIG_RC" = 0 ] && echo "$res" | grep -q 'RESULT PASS'; then
        rig_result "xtest-$prog" PASS "${RIG_ELAPSED_MS} ms${extra:+; $extra}"
    else
        rig_result "xtest-$prog" FAIL "xenkvm exit $RIG_RC; ${res:-no RESULT line}; $(grep -m2 '^FAIL' "/tmp/xtest-$prog.log" | tr '\n' ' ')"
    fi
done
