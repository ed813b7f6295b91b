# rig: /dev/kvm works: xtest's hello program under xenkvm.
if [ ! -c /dev/kvm ]; then
    rig_result kvm-check FAIL "no /dev/kvm"
    return 0
fi
rig_run_guest /tmp/kvm-check.log 120 "" xenkvm run $(rig_xenkvm_v) --no-xenstore --kernel /xtest --cmdline hello
if [ "$RIG_RC" = 0 ] && grep -q 'RESULT PASS' /tmp/kvm-check.log; then
    rig_result kvm-check PASS "xtest hello under xenkvm in ${RIG_ELAPSED_MS} ms"
else
    rig_result kvm-check FAIL "xenkvm exit $RIG_RC; $(grep -m1 RESULT /tmp/kvm-check.log || echo 'no RESULT line')"
fi
