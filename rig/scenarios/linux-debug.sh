# rig: debugging aid — Debian's cloud kernel under xenkvm -v -v (every hypercall
# logged), with a vCPU state dump every 5 s (XENKVM_DEBUG_DUMP_MS); prints the
# calls and events that matter for bring-up, the vCPU dumps and the console tail.
t=${RIG_GUEST_TIMEOUT:-60}
rig_start_xenkvmd || true
XENKVM_DEBUG_DUMP_MS=5000 timeout "$t" xenkvm run -v -v --kernel /guest/vmlinuz \
    --ramdisk /guest/initrd.gz --memory 256 --vcpus 2 \
    --cmdline "console=hvc0 earlyprintk=xen guest.scenario=poweroff lpj=10800000" \
    > /tmp/dbg.out 2> /tmp/dbg.err
rc=$?
echo "xenkvm exit $rc; $(wc -l < /tmp/dbg.err) stderr lines"
grep -E "hypercall (24|34)\(|VIRQ_TIMER|not taken|vcpu 1" /tmp/dbg.err | tail -30 | sed 's/^/| ev /'
grep "mp_state" /tmp/dbg.err | tail -8 | sed 's/^/| dump /'
grep -v "debug:" /tmp/dbg.err | tail -10 | sed 's/^/| other /'
tail -15 /tmp/dbg.out | sed 's/^/| /'
rig_result linux-debug PASS "exit $rc"
