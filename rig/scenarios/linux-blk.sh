# rig: Linux's xen-blkfront against xenkvm's blkback, two boots on the same images.
# Boot 1 (guest.scenario=blk; three disks):
#   linux-blk          xvdc (raw): a pattern written at 1 MiB with fsync is read back in
#                      the guest and found in the image file (on FIFO event channels)
#   linux-blk-ro       xvdb is read-only in the guest, its write refused, the file untouched
#   (then)             xvda: mkfs.ext4 (Debian's e2fsprogs), 4 MiB of random data in a
#                      file, `sync`, `reboot -n -f` (no further sync) -> xenkvm exits 3
# Boot 2 (guest.scenario=blk-check; xvda and xvdc again):
#   linux-blk-fs       mount (the kernel recovers the journal), umount, `e2fsck -fn` clean, the file's
#                      sha256 equals boot 1's
#   linux-blk-reboot   boot 1 ended with exit status 3 (reboot), after its sync
#   linux-blk-sigkill  the guest writes 256 KiB to xvdc at 4 MiB with O_DIRECT + fsync
#                      and prints GUEST-FLUSHED; xenkvm gets SIGKILL on that line; the
#                      data is in the image file
t=${RIG_GUEST_TIMEOUT:-300}
rig_start_xenkvmd || rig_result linux-blk-xenkvmd FAIL "xenkvmd did not start"
truncate -s 32M /tmp/fs.img
dd if=/dev/zero of=/tmp/ro.img bs=1M count=8 2>/dev/null
truncate -s 8M /tmp/raw.img
last() { grep -v '^[[:space:]]*$' "$1" | tail -1 | cut -c1-160; }

rig_run_guest /tmp/linux-blk.log "$t" GUEST-INIT-MARKER \
    xenkvm run $(rig_xenkvm_v) --name blk --kernel /guest/vmlinuz --ramdisk /guest/initrd.gz \
    --memory 256 --vcpus 1 --disk /tmp/fs.img,raw,xvda,rw --disk /tmp/ro.img,raw,xvdb,ro \
    --disk /tmp/raw.img,raw,xvdc,rw --cmdline "console=hvc0 quiet guest.scenario=blk"
rc1=$RIG_RC ms1=$RIG_ELAPSED_MS
log=/tmp/linux-blk.log
yes xenkvm-blk-pattern | head -c 65536 > /tmp/pat
dd if=/tmp/raw.img of=/tmp/back bs=4096 skip=256 count=16 2>/dev/null
abi=$(grep -m1 GUEST-EVTCHN "$log" | cut -d' ' -f2-)
if grep -q GUEST-BLK-READBACK-OK "$log" && cmp -s /tmp/pat /tmp/back &&
   [ "$abi" = "Using FIFO-based ABI" ]; then
    rig_result linux-blk PASS "blkfront wrote, flushed and read back; the data is in the file; events: $abi"
else
    rig_result linux-blk FAIL "xenkvm exit $rc1; events '$abi'; $(grep 'GUEST-BLK' "$log" | tr '\n' ' '); last: $(last "$log")"
fi
if grep -q "GUEST-BLK-RO 1" "$log" && grep -q GUEST-BLK-RO-WRITE-REFUSED "$log" &&
   [ "$(tr -d '\000' < /tmp/ro.img | wc -c)" = 0 ]; then
    rig_result linux-blk-ro PASS "xvdb read-only in the guest, its write refused, the file untouched"
else
    rig_result linux-blk-ro FAIL "$(grep 'GUEST-BLK-RO' "$log" | tr '\n' ' ')"
fi
sum1=$(sed -n 's/.*GUEST-FS-WRITTEN \([0-9a-f]*\).*/\1/p' "$log" | head -1)

RIG_KILL_ON=GUEST-FLUSHED rig_run_guest /tmp/linux-blk2.log "$t" GUEST-INIT-MARKER \
    xenkvm run $(rig_xenkvm_v) --name blk2 --kernel /guest/vmlinuz --ramdisk /guest/initrd.gz \
    --memory 256 --vcpus 1 --disk /tmp/fs.img,raw,xvda,rw --disk /tmp/raw.img,raw,xvdc,rw \
    --cmdline "console=hvc0 quiet guest.scenario=blk-check"
log2=/tmp/linux-blk2.log
fsck=$(grep -m1 GUEST-FSCK "$log2")
read2=$(grep -m1 GUEST-FS-READ "$log2")
if [ -n "$sum1" ] && [ "${fsck#*GUEST-FSCK }" != "$fsck" ] && [ "$(echo "$fsck" | awk '{print $2}')" = 0 ] &&
   [ "$(echo "$read2" | awk '{print $2}')" = "$sum1" ] && [ "$(echo "$read2" | awk '{print $4}')" = "$sum1" ]; then
    rig_result linux-blk-fs PASS "ext4 made, 4 MiB written and synced, rebooted; boot 2: e2fsck -fn clean, sha256 ${sum1%"${sum1#????????????}"}... equal; mount said: $(grep -m1 GUEST-FS-MOUNTED "$log2" | cut -d' ' -f2- | cut -c1-200)"
else
    rig_result linux-blk-fs FAIL "boot 1: '$(grep -E 'GUEST-FS' "$log" | tr '\n' ' ')'; boot 2: '$fsck' '$read2' $(grep -E 'GUEST-FS-MOUNT-FAILED|GUEST-BLK-NODEV' "$log2")"
fi
if [ "$rc1" = 3 ] && grep -q GUEST-REBOOT "$log" && [ -n "$sum1" ]; then
    rig_result linux-blk-reboot PASS "boot 1 synced, rebooted: exit 3 after ${ms1} ms; boot 2 on the same image"
else
    rig_result linux-blk-reboot FAIL "boot 1: xenkvm exit $rc1, want 3; last: $(last "$log")"
fi
yes xenkvm-flushed-before-sigkill | head -c 262144 > /tmp/pat2
dd if=/tmp/raw.img of=/tmp/back2 bs=65536 skip=64 count=4 2>/dev/null
left=$(pidof xenkvm)
if [ "$RIG_RC" = 137 ] && [ -n "$RIG_KILLED_MS" ] && grep -q GUEST-FLUSHED "$log2" && [ -z "$left" ] &&
   cmp -s /tmp/pat2 /tmp/back2; then
    rig_result linux-blk-sigkill PASS "xenkvm SIGKILLed at the guest's GUEST-FLUSHED (${RIG_KILLED_MS} ms); the 256 KiB written with O_DIRECT+fsync are in the file"
else
    rig_result linux-blk-sigkill FAIL "exit $RIG_RC (want 137), killed at '${RIG_KILLED_MS}' ms, $(grep -E 'GUEST-FLUSH' "$log2" | tr '\n' ' ') left running '$left', data $(cmp -s /tmp/pat2 /tmp/back2 && echo found || echo MISSING); last: $(last "$log2")"
fi
