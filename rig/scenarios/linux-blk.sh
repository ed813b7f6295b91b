# rig: Linux's xen-blkfront against xenkvm's blkback on raw images (io_uring), two
# boots on the same images (rig_blk_boots in lib.sh; docs/rig.md):
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
rig_blk_boots linux-blk raw
