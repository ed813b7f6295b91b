# rig: Debian's cloud kernel as a PVH guest under xenkvm, to the guest's /init.
# PASS: GUEST-INIT-MARKER on the guest console and xenkvm exits 0 (poweroff).
# The guest console and xenkvm's stderr (always -v here) are kept whole in the rig log
# (lines "| ...").
t=${RIG_GUEST_TIMEOUT:-300}
if ! rig_start_xenkvmd; then
    rig_result linux-boot-xenkvmd FAIL "xenkvmd did not start: $(tail -3 /tmp/xenkvmd.log)"
fi
rig_run_guest /tmp/linux-boot.log "$t" GUEST-INIT-MARKER \
    xenkvm run -v --kernel /guest/vmlinuz --ramdisk /guest/initrd.gz \
    --memory 256 --vcpus 2 --cmdline "console=hvc0 earlyprintk=xen guest.scenario=poweroff"
if [ -n "$RIG_MARKER_MS" ] && [ "$RIG_RC" = 0 ]; then
    rig_result linux-boot PASS "GUEST-INIT-MARKER after ${RIG_MARKER_MS} ms; $(grep -m1 GUEST-NPROC /tmp/linux-boot.log); $(grep -m1 GUEST-HYPERVISOR /tmp/linux-boot.log); exit 0 after ${RIG_ELAPSED_MS} ms"
else
    case "$RIG_RC" in 137|124) why="killed by the ${t} s timeout" ;; *) why="xenkvm exit $RIG_RC" ;; esac
    last=$(grep -v '^[[:space:]]*$' /tmp/linux-boot.log | tail -1 | cut -c1-160)
    rig_result linux-boot FAIL "$why; marker ${RIG_MARKER_MS:+after ${RIG_MARKER_MS} ms}${RIG_MARKER_MS:-not seen}; last line: $last"
fi
