# rig: Linux's xen-blkfront against xenkvm's blkback, two disks: the guest writes a
# pattern to xvda at 1 MiB with fsync and reads it back, and the outer guest finds it
# in the file; xvdb is read-only: the guest sees it so and its write is refused.
t=${RIG_GUEST_TIMEOUT:-300}
rig_start_xenkvmd || rig_result linux-blk-xenkvmd FAIL "xenkvmd did not start"
dd if=/dev/zero of=/tmp/disk.img bs=1M count=32 2>/dev/null
dd if=/dev/zero of=/tmp/ro.img bs=1M count=8 2>/dev/null
rig_run_guest /tmp/linux-blk.log "$t" GUEST-INIT-MARKER \
    xenkvm run $(rig_xenkvm_v) --name blk --kernel /guest/vmlinuz --ramdisk /guest/initrd.gz \
    --memory 256 --vcpus 1 --disk /tmp/disk.img,raw,xvda,rw --disk /tmp/ro.img,raw,xvdb,ro \
    --cmdline "console=hvc0 quiet guest.scenario=blk"
yes xenkvm-blk-pattern | head -c 65536 > /tmp/pat
dd if=/tmp/disk.img of=/tmp/back bs=4096 skip=256 count=16 2>/dev/null
if grep -q GUEST-BLK-READBACK-OK /tmp/linux-blk.log && cmp -s /tmp/pat /tmp/back && [ "$RIG_RC" = 0 ]; then
    rig_result linux-blk PASS "blkfront wrote, flushed and read back; the data is in the file ($(grep -m1 GUEST-BLK-SIZE /tmp/linux-blk.log))"
else
    rig_result linux-blk FAIL "xenkvm exit $RIG_RC; $(grep -m1 'GUEST-BLK' /tmp/linux-blk.log); last: $(grep -v '^[[:space:]]*$' /tmp/linux-blk.log | tail -1 | cut -c1-160)"
fi
if grep -q "GUEST-BLK-RO 1" /tmp/linux-blk.log && grep -q GUEST-BLK-RO-WRITE-REFUSED /tmp/linux-blk.log &&
   [ "$(tr -d '\000' < /tmp/ro.img | wc -c)" = 0 ]; then
    rig_result linux-blk-ro PASS "xvdb read-only in the guest, its write refused, the file untouched"
else
    rig_result linux-blk-ro FAIL "$(grep 'GUEST-BLK-RO' /tmp/linux-blk.log | tr '\n' ' ')"
fi
