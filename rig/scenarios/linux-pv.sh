# rig: Debian's generic kernel (XEN_PV) as a 64-bit PV guest through Xen's PV shim
# (Debian's xen-shim), started as a Xen user starts one: `xenkvm create` on an xl.cfg
# saying type = "pv", and from its own disk through pygrub and pvgrub2.
# Domain "pv" (2 vCPUs, 512 MiB, a raw disk, a vif on bridge xenbr0; on_reboot restart).
# Boot 1 (blank disk):
#   linux-pv-boot       init reached on hvc0; 2 vCPUs; the kernel says PV; xenbus found
#                       the vbd and the vif (read from xenstore); `xenkvm list -l` shows
#                       the domain as xl shows a shim domain (type pvh, pvshim)
#   linux-pv-console    a line written to `xenkvm console pv` comes back from hvc0
#   (then)              ext4 made on xvda, a file written, sync, `reboot -n -f`
#   linux-pv-reboot     the daemon saw reason reboot, action restart, and restarted it
# Boot 2 (the same domain config, the disk now has ext4):
#   linux-pv-fs         mount (journal replayed), e2fsck -fn clean, the file's sha256 equal
#   linux-pv-link/-ping/-rx/-tx   xen-netfront across the bridge (2 MiB each way)
#   linux-pv-poweroff   poweroff: reason poweroff, action destroy, the domain gone
# Domain "pvgrub" (bootloader = "pygrub", the boot disk /pv/boot.img read-only):
#   linux-pv-pygrub     pygrub found the kernel, initrd and command line in the disk's
#                       /boot/grub/grub.cfg; the guest booted PV with that command line
#   linux-pv-crash      then panicked (extra= appended to the entry's line asks it to):
#                       reason crash, action preserve, the domain kept as crashed
# Domain "pvgrub2" (kernel = GRUB's PV image, grub-x86_64-xen.bin, the same disk):
#   linux-pv-pvgrub2    GRUB read the disk's grub.cfg through blkfront and booted its
#                       default entry, PV, to init
# Domain "pv32", only with rig.pv_parts=...,pv32 (not in the gated run: the 32-bit PV
# stretch; kernel = GRUB's 32-bit PV image, grub-i386-xen.bin, as no Debian 12 kernel is
# a 32-bit PV guest: Linux dropped that in 5.9):
#   linux-pv-32         the shim ran a 32-bit PV guest: GRUB read the disk's grub.cfg
#                       through blkfront (grants, event channels and xenstore through the
#                       shim's 32-bit translation) and showed its menu; what it does with
#                       the 64-bit kernel is reported (then the domain is destroyed)
# rig.pv_parts=pv,pygrub,pvgrub2,pv32 (on the outer command line: rig/run.sh linux-pv
# --append rig.pv_parts=...) runs the domains named; the default is pv,pygrub,pvgrub2.
# tests/test_rig.py runs pv,pygrub (pvgrub2 as well with XENKVM_SLOW_TESTS=1).
# rig: needs pv
t=${RIG_GUEST_TIMEOUT:-300}
parts=pv,pygrub,pvgrub2
for arg in $(cat /proc/cmdline); do
    case "$arg" in rig.pv_parts=*) parts=${arg#*=} ;; esac
done
part() { case ",$parts," in *",$1,"*) return 0 ;; esac; return 1; }
mb=2
mac=00:16:3e:00:00:02
clogs=/var/log/xenkvm
rig_start_xenkvmd || rig_result linux-pv-xenkvmd FAIL "xenkvmd did not start: $(tail -3 /tmp/xenkvmd.log)"
rig_net_up linux-pv "$mb"
truncate -s 64M /tmp/pvfs.img
mkdir -p "$clogs"

# Console logs and the daemon's log to the serial console as "| " lines, each with the
# outer guest's uptime (s).
for f in pv pvgrub pvgrub2 pv32; do : >> "$clogs/$f.log"; done
tail -n 0 -f "$clogs/pv.log" "$clogs/pvgrub.log" "$clogs/pvgrub2.log" "$clogs/pv32.log" /tmp/xenkvmd.log |
    awk '{ sub(/\r$/, ""); getline up < "/proc/uptime"; close("/proc/uptime")
           split(up, u, " "); printf "| %8.2f %s\n", u[1], $0; fflush() }' &
tail_pid=$!

# rig_wait FILE TEXT TIMEOUT_S: until a line of FILE contains TEXT (1 if it never did).
rig_wait() {
    local i=0
    while [ $i -lt $(($3 * 5)) ]; do
        grep -q -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.2; i=$((i + 1))
    done
    return 1
}
dlog=/tmp/xenkvmd.log     # rig_start_xenkvmd sends the daemon's messages there
# /tmp/NAME.txt: domain NAME's console log so far, without the console's CRs.
cleaned() { tr -d '\r' < "$clogs/$1.log" > "/tmp/$1.txt"; }
cfg() { # NAME LINES... -> /tmp/NAME.cfg
    local n=$1; shift
    { echo "name = \"$n\""; for l in "$@"; do echo "$l"; done; } > "/tmp/$n.cfg"
}

# disk_booted NAME CMDLINE: creates domain NAME from /tmp/NAME.cfg; true if, once it
# shut down, its guest had booted PV from the boot disk with the command line CMDLINE
# (the grub.cfg entry's) and seen the disk's /boot. Sets log (its console, with what
# `xenkvm create` said at the end) and line (its GUEST-CMDLINE line).
disk_booted() {
    if xenkvm create "/tmp/$1.cfg" > /tmp/create.out 2>&1; then
        rig_wait "$dlog" "($1) shut down" "$t"
    fi
    cat /tmp/create.out >> "$clogs/$1.log"
    cleaned "$1"
    log=/tmp/$1.txt
    line=$(grep -m1 GUEST-CMDLINE "$log")
    grep -q GUEST-INIT-MARKER "$log" && [ "$(grep -m1 GUEST-TYPE "$log" | cut -d' ' -f2)" = PV ] &&
        echo "$line" | grep -q "root=UUID=5b1c7d2e-94a1-4f7e-8e0a-3c9d1f2a4b6e ro console=hvc0 quiet $2" &&
        grep -q "GUEST-BOOTDISK .*vmlinuz-" "$log"
}

# --- domain pv: boot 1, reboot, boot 2
if part pv; then
cfg pv 'type = "pv"' 'kernel = "/pv/vmlinuz"' 'ramdisk = "/guest/initrd.gz"' \
    "extra = \"console=hvc0 quiet lpj=10800000 guest.scenario=pv guest.netmb=$mb\"" \
    'memory = 512' 'vcpus = 2' 'disk = [ "/tmp/pvfs.img,raw,xvda,rw" ]' \
    "vif = [ \"bridge=xenbr0,mac=$mac\" ]" 'on_reboot = "restart"'
log=/tmp/pv.txt
t0=$(rig_ms)
xenkvm create /tmp/pv.cfg > /tmp/create.out 2>&1 || rig_result linux-pv-create FAIL "$(tr '\n' ' ' < /tmp/create.out)"
xenkvm list -l pv 2>&1 | tr -d ' \n' > /tmp/pv-list.json
if rig_wait "$clogs/pv.log" GUEST-READY "$t"; then
    (echo typed-into-pv-hvc0; sleep 60) | xenkvm console pv > /dev/null 2>&1 &
    console_pid=$!
fi
rig_wait "$clogs/pv.log" GUEST-REBOOT "$t"
kill $console_pid 2>/dev/null
cleaned pv
nproc=$(grep -m1 GUEST-NPROC "$log" | cut -d' ' -f2)
type=$(grep -m1 GUEST-TYPE "$log" | cut -d' ' -f2)
bus=$(grep -m1 GUEST-XENBUS "$log" | cut -d' ' -f2-)
init_ms=$(( $(rig_ms) - t0 ))
if grep -q GUEST-INIT-MARKER "$log" && [ "$nproc" = 2 ] && [ "$type" = PV ] &&
   echo "$bus" | grep -q vbd-51712 && echo "$bus" | grep -q vif-0 &&
   grep -q '"type":"pvh"' /tmp/pv-list.json && grep -q '"pvshim":"True"' /tmp/pv-list.json; then
    rig_result linux-pv-boot PASS "PV guest through the shim to init; nproc $nproc; xenbus: $bus; list -l: type pvh, pvshim"
else
    rig_result linux-pv-boot FAIL "nproc '$nproc' type '$type' xenbus '$bus'; list -l: $(cat /tmp/pv-list.json); last: $(rig_last "$log")"
fi
if grep -q "GUEST-ECHO typed-into-pv-hvc0" "$log"; then
    rig_result linux-pv-console PASS "the line typed into xenkvm console came back from hvc0"
else
    rig_result linux-pv-console FAIL "$(grep -m1 -E 'GUEST-READY|GUEST-ECHO' "$log"); last: $(rig_last "$log")"
fi
sum1=$(sed -n 's/.*GUEST-FS-WRITTEN \([0-9a-f]*\).*/\1/p' "$log" | head -1)
if rig_wait "$clogs/pv.log" "GUEST-PV-BOOT 2" "$t" && grep -q "(pv) shut down: exit status 3, reason code 1; action restart" "$dlog" &&
   grep -q "domain pv restarted as domain" "$dlog"; then
    rig_result linux-pv-reboot PASS "reboot: $(grep -m1 'domain pv restarted' "$dlog" | sed 's/^[^]]*\] //' | cut -c1-80)"
else
    rig_result linux-pv-reboot FAIL "$(grep -E '\(pv\) shut down|pv restart' "$dlog" | tr '\n' ' ' | cut -c1-240); last: $(rig_last "$log")"
fi
rig_wait "$clogs/pv.log" GUEST-POWEROFF "$t"
cleaned pv
fsck=$(grep -m1 GUEST-FSCK "$log")
read2=$(grep -m1 GUEST-FS-READ "$log")
if [ -n "$sum1" ] && [ "$(echo "$fsck" | awk '{print $2}')" = 0 ] &&
   [ "$(echo "$read2" | awk '{print $2}')" = "$sum1" ] && [ "$(echo "$read2" | awk '{print $4}')" = "$sum1" ]; then
    rig_result linux-pv-fs PASS "ext4 written on boot 1, rebooted; boot 2: e2fsck -fn clean, sha256 equal; mount said: $(grep -m1 GUEST-FS-MOUNTED "$log" | cut -d' ' -f2- | cut -c1-120)"
else
    rig_result linux-pv-fs FAIL "boot 1 wrote '$sum1'; boot 2: '$fsck' '$read2' $(grep -m1 -E 'GUEST-FS-MOUNT-FAILED|GUEST-BLK-NODEV|GUEST-FS-MKFS' "$log")"
fi
rig_wait "$dlog" "(pv) shut down: exit status 0" 60
rig_net_down
rig_net_results linux-pv "$log" "$mac" "$mb" "domain pv: $(grep '(pv) shut down' "$dlog" | tail -1 | sed 's/^[^]]*\] //')"
if grep -q "(pv) shut down: exit status 0, reason code 0; action destroy" "$dlog" && ! xenkvm list pv > /dev/null 2>&1; then
    rig_result linux-pv-poweroff PASS "poweroff: destroyed after $(( $(rig_ms) - t0 )) ms (two boots)"
else
    rig_result linux-pv-poweroff FAIL "$(grep '(pv) shut down' "$dlog" | tail -1); list: $(xenkvm list pv 2>&1 | tail -1)"
    xenkvm destroy pv > /dev/null 2>&1
fi
echo "RIG-BENCH pv_net_rx_MiBps=$(rig_mbps "$RIG_NET_RX_BYTES" "$RIG_NET_RX_MS") pv_net_tx_MiBps=$(rig_mbps "$RIG_NET_TX_BYTES" "$RIG_NET_TX_MS")"
fi

# --- domain pvgrub: pygrub, then a crash
if part pygrub; then
cfg pvgrub 'type = "pv"' 'bootloader = "pygrub"' 'memory = 512' \
    'disk = [ "/pv/boot.img,raw,xvda,ro" ]' 'extra = "guest.then=panic"' 'on_crash = "preserve"'
if disk_booted pvgrub "guest.scenario=bootdisk guest.then=panic"; then
    rig_result linux-pv-pygrub PASS "booted by pygrub from the disk's grub.cfg: ${line#GUEST-CMDLINE }"
else
    rig_result linux-pv-pygrub FAIL "'$line' $(grep -m1 -E 'GUEST-BOOTDISK|GUEST-TYPE' "$log"); daemon: $(grep -i -E 'pvgrub|bootloader' "$dlog" | tail -2 | tr '\n' ' ' | cut -c1-200); last: $(rig_last "$log")"
fi
state=$(xenkvm list pvgrub 2>/dev/null | awk '$1 == "pvgrub" { print $5 }')
if grep -q "(pvgrub) shut down: exit status 2, reason code 3; action preserve" "$dlog" &&
   [ "${state#*c}" != "$state" ]; then
    rig_result linux-pv-crash PASS "panic: reason crash, action preserve; list: $(xenkvm list pvgrub | tail -1 | tr -s ' ' | cut -c1-60)"
else
    rig_result linux-pv-crash FAIL "$(grep '(pvgrub) shut down' "$dlog" | tail -1); list: $(xenkvm list pvgrub 2>&1 | tail -1)"
fi
xenkvm destroy pvgrub > /dev/null 2>&1
fi

# --- domain pvgrub2: GRUB's PV image as the kernel
if part pvgrub2; then
cfg pvgrub2 'type = "pv"' 'kernel = "/usr/lib/grub-xen/grub-x86_64-xen.bin"' 'memory = 512' \
    'disk = [ "/pv/boot.img,raw,xvda,ro" ]'
t0=$(rig_ms)
if disk_booted pvgrub2 "guest.scenario=bootdisk" && grep -q "(pvgrub2) shut down: exit status 0" "$dlog"; then
    rig_result linux-pv-pvgrub2 PASS "GRUB's PV image booted the disk's default entry in $(( $(rig_ms) - t0 )) ms: ${line#GUEST-CMDLINE }"
else
    rig_result linux-pv-pvgrub2 FAIL "'$line'; $(grep '(pvgrub2) shut down' "$dlog" | tail -1); last: $(rig_last "$log")"
    xenkvm destroy pvgrub2 > /dev/null 2>&1
fi
fi
# --- domain pv32: GRUB's 32-bit PV image
if part pv32; then
cfg pv32 'type = "pv"' 'kernel = "/usr/lib/grub-xen/grub-i386-xen.bin"' 'memory = 512' \
    'disk = [ "/pv/boot.img,raw,xvda,ro" ]'
log=/tmp/pv32.txt
xenkvm create /tmp/pv32.cfg > /tmp/create.out 2>&1 || rig_result linux-pv-32 FAIL "create: $(tr '\n' ' ' < /tmp/create.out | cut -c1-200)"
rig_wait "$clogs/pv32.log" "Loading Linux" "$t"
sleep 20   # what GRUB makes of the 64-bit kernel
cleaned pv32
if grep -q "Dom[0-9]* kernel: 32-bit" "$log" && grep -q "Reading (xen/xvda)/boot/grub/grub.cfg" "$log" &&
   grep -q "GNU GRUB" "$log"; then
    rig_result linux-pv-32 PASS "32-bit PV GRUB under the shim read grub.cfg through blkfront and showed its menu; then: $(grep -a -o 'error: [^[]*' "$log" | tail -1 | cut -c1-120)"
else
    rig_result linux-pv-32 FAIL "$(grep -m1 -o 'Dom[0-9]* kernel: [^(]*' "$log"); $(grep '(pv32) shut down' "$dlog" | tail -1); last: $(rig_last "$log")"
fi
xenkvm destroy pv32 > /dev/null 2>&1
fi
kill $tail_pid 2>/dev/null
