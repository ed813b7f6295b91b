# rig: needs storage
# rig: Linux's xen-blkfront on qcow2 images served through qemu-storage-daemon (NBD),
# the same two boots as linux-blk (rig_blk_boots in lib.sh; docs/rig.md), with xvda a
# qcow2 overlay on a backing file:
#   linux-qcow, -ro, -fs, -reboot, -sigkill   as linux-blk's checks, on qcow2 images
#                      (read back with qemu-img), and no storage daemon left after a boot
#   linux-qcow-check   `qemu-img check` finds every image clean after both boots (the
#                      second ended by SIGKILL), and the backing file holds nothing:
#                      every write went to the overlay
rig_blk_boots linux-qcow qcow2
d=/tmp/linux-qcow
out=
for i in fs raw ro base; do
    qemu-img check -q -f qcow2 "$d/$i.img" > "$d/check-$i" 2>&1 || out="$out $i: $(tr '\n' ' ' < "$d/check-$i")"
done
base_data=$(qemu-img map -f qcow2 --output=json "$d/base.img" | grep -c '"data": true')
if [ -z "$out" ] && [ "$base_data" = 0 ]; then
    rig_result linux-qcow-check PASS "qemu-img check: fs (overlay), raw, ro and base images clean; the backing file untouched"
else
    rig_result linux-qcow-check FAIL "qemu-img check:${out:- clean}; backing file data extents: $base_data"
fi
