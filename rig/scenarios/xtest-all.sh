# rig: every xtest program under xenkvm (smp with 2 vCPUs).
for prog in hello version evtchn timer grant hostile vmcall smp; do
    vcpus=1
    [ "$prog" = smp ] && vcpus=2
    rig_run_guest "/tmp/xtest-$prog.log" 120 "" \
        xenkvm run $(rig_xenkvm_v) --no-xenstore --vcpus $vcpus --kernel /xtest --cmdline "$prog"
    res=$(grep -m1 'RESULT ' "/tmp/xtest-$prog.log")
    if [ "$RIG_RC" = 0 ] && echo "$res" | grep -q 'RESULT PASS'; then
        rig_result "xtest-$prog" PASS "${RIG_ELAPSED_MS} ms"
    else
        rig_result "xtest-$prog" FAIL "xenkvm exit $RIG_RC; ${res:-no RESULT line}"
    fi
done
