# rig: Debian's cloud kernel as a PVH guest (2 vCPUs, 256 MiB, FIFO event channels),
# saved and restored by xenkvm (docs/save-restore.md). The guest prints its uptime
# every second (guest.scenario=tick), and with guest.io=1 keeps a disk and a NIC busy
# throughout: a writer puts numbered 4 KiB blocks on xvda (a raw image here) with
# O_DIRECT + fsync (GUEST-WRITE n), and a ping to the outer's bridge address every
# 0.5 s (GUEST-PING n ok); xen-blkfront and xen-netfront never reconnect.
#   linux-save          `xenkvm save` ends the domain and writes the file
#   linux-restore       `xenkvm restore` after a 10 s pause: a new domain, the guest
#                       ticks on, its uptime continuing from the save: the ticks
#                       around it are less apart than the time from the save's start
#                       to the restore's end (that time not counted), never backwards
#   linux-save-c        `xenkvm save -c` (a checkpoint): the guest goes on ticking
#   linux-restore-io    the writer and the pings go on after the restore (a new tap
#                       vif<new>.0 on xenbr0), no write failed, and the block of the
#                       last write reported before the save is in the image file
#   linux-restore-watch `xenkvm sysrq ls h` on the restored guest: Linux's xenbus
#                       watch on control/sysrq (re-registered by the restore) fires
#                       and the kernel prints its sysrq help (as it did before the save)
#   linux-migrate       `xenkvm migrate --debug` to this host's own xenkvmd, through a
#                       stand-in for ssh that runs the rest here: pre-copy rounds while
#                       the guest ticks, a new domain id, the source gone, and the guest
#                       ticking on at the destination with its uptime going on (never back)
#   linux-migrate-io    the writer and the pings go on at the destination (the same
#                       image, a new tap), no write failed
t=${RIG_GUEST_TIMEOUT:-300}
clogs=/var/log/xenkvm
dlog=/tmp/xenkvmd.log
rig_start_xenkvmd || rig_result linux-save-xenkvmd FAIL "xenkvmd did not start: $(tail -3 $dlog)"
mkdir -p "$clogs"
: >> "$clogs/ls.log"
tail -n 0 -f "$clogs/ls.log" "$dlog" |
    awk '{ sub(/\r$/, ""); getline up < "/proc/uptime"; close("/proc/uptime")
           split(up, u, " "); printf "| %8.2f %s\n", u[1], $0; fflush() }' &
tail_pid=$!
ticks() { tr -d '\r' < "$clogs/ls.log" | grep '^GUEST-TICK ' ; }
last_tick() { ticks | tail -1; }
# the last GUEST-WRITE / GUEST-PING ok number in a console log
last_write() { tr -d '\r' < "$1" | sed -n 's/^GUEST-WRITE \([0-9]*\)$/\1/p' | tail -1; }
last_ping() { tr -d '\r' < "$1" | sed -n 's/^GUEST-PING \([0-9]*\) ok$/\1/p' | tail -1; }
# io_going LOG WRITE PING: writes past WRITE + 5 and pings past PING + 5 within 90 s
io_going() {
    local i=0
    while [ $i -lt 450 ]; do
        [ "$(last_write "$1")" -gt $(($2 + 5)) ] 2>/dev/null &&
            [ "$(last_ping "$1")" -gt $(($3 + 5)) ] 2>/dev/null && return 0
        sleep 0.2; i=$((i + 1))
    done
    return 1
}
# block_has N: block N of the image holds the writer's block N
block_has() { dd if=/tmp/ls-disk.img bs=4096 skip="$1" count=1 2>/dev/null | head -1 | grep -qx "xenkvm-save-write $1"; }
rig_net_up linux-save 1
truncate -s 64M /tmp/ls-disk.img
cat > /tmp/ls.cfg <<CFG
name = "ls"
type = "pvh"
kernel = "/guest/vmlinuz"
ramdisk = "/guest/initrd.gz"
extra = "console=hvc0 lpj=10800000 quiet guest.scenario=tick guest.io=1"
memory = 256
vcpus = 2
disk = [ "/tmp/ls-disk.img,raw,xvda,rw" ]
vif = [ "bridge=xenbr0,mac=00:16:3e:00:00:05" ]
CFG
xenkvm create -q /tmp/ls.cfg > /tmp/create.out 2>&1 || rig_result linux-save FAIL "create: $(cat /tmp/create.out)"
helps() { tr -d '\r' < "$clogs/ls.log" | grep -c 'sysrq: HELP'; }
if rig_wait "$clogs/ls.log" "GUEST-TICK 5 " "$t"; then
    xenkvm sysrq ls h > /tmp/sysrq.out 2>&1
    rig_wait "$clogs/ls.log" "sysrq: HELP" 60 && sysrq_before=1 || sysrq_before=0
    before=$(last_tick)
    t0=$(rig_ms)
    down0=$t0
    if xenkvm save ls /tmp/ls.save > /tmp/save.out 2>&1 && ! xenkvm list | grep -q '^ls '; then
        rig_result linux-save PASS "saved after '$before' in $(($(rig_ms) - t0)) ms, $(du -k /tmp/ls.save | cut -f1) KiB: $(tail -1 /tmp/save.out)"
    else
        rig_result linux-save FAIL "$(cat /tmp/save.out); $(xenkvm list 2>&1 | tail -1)"
    fi
    last=$(last_tick)
    n=$(ticks | wc -l)
    w0=$(last_write "$clogs/ls.log"); p0=$(last_ping "$clogs/ls.log")
    [ -n "$w0" ] && block_has "$w0" && w0_on_disk=yes || w0_on_disk=no
    sleep 10
    t0=$(rig_ms)
    xenkvm restore /tmp/ls.save > /tmp/restore.out 2>&1
    rc=$?
    ms=$(($(rig_ms) - t0))
    down=$(( ($(rig_ms) - down0) / 1000 ))   # s from the save's start to the restore's end
    i=0
    while [ $i -lt 150 ] && [ "$(ticks | wc -l)" -lt $((n + 5)) ]; do sleep 0.2; i=$((i + 1)); done
    after=$(ticks | sed -n "$((n + 1))p")
    later=$(last_tick)
    up0=$(echo "$last" | cut -d' ' -f3); up1=$(echo "$after" | cut -d' ' -f3)
    gap=$(awk -v a="$up0" -v b="$up1" 'BEGIN { printf "%.2f", b - a }')
    if [ $rc = 0 ] && [ -n "$after" ] && awk -v g="$gap" -v d="$down" 'BEGIN { exit !(g > 0 && g < d) }' &&
       [ "$(ticks | wc -l)" -ge $((n + 5)) ]; then
        rig_result linux-restore PASS "restored in $ms ms ($(xenkvm list | grep '^ls ' | awk '{print "domain " $2}')); last tick before '$last', first after '$after' (uptime +$gap s while $down s passed from the save's start to the restore's end), then '$later'"
    else
        rig_result linux-restore FAIL "rc $rc: $(tail -2 /tmp/restore.out | tr '\n' ' '); last before '$last', first after '$after', gap $gap s over $down s down, later '$later'"
    fi
    new=$(xenkvm domid ls 2>/dev/null)
    if [ -n "$w0" ] && [ -n "$p0" ] && [ "$w0_on_disk" = yes ] && io_going "$clogs/ls.log" "$w0" "$p0" &&
       ! tr -d '\r' < "$clogs/ls.log" | grep -q '^GUEST-WRITE-FAILED' &&
       ip -o link show "vif$new.0" 2>/dev/null | grep -q 'master xenbr0'; then
        rig_result linux-restore-io PASS "last write before the save $w0 (in the image), ping $p0; after the restore write $(last_write "$clogs/ls.log"), ping $(last_ping "$clogs/ls.log"), tap vif$new.0 on xenbr0"
    else
        rig_result linux-restore-io FAIL "write before $w0 (in the image: $w0_on_disk), ping before $p0; now write '$(last_write "$clogs/ls.log")' ping '$(last_ping "$clogs/ls.log")'; $(tr -d '\r' < "$clogs/ls.log" | grep -E '^GUEST-WRITE-FAILED|blkfront|netfront' | tail -3 | tr '\n' ' '); taps: $(ls /sys/class/net | tr '\n' ' ')"
    fi
    n=$(ticks | wc -l)
    if xenkvm save -c ls /tmp/ls2.save > /tmp/save2.out 2>&1 && rig_wait "$clogs/ls.log" "GUEST-TICK $(( $(last_tick | cut -d' ' -f2) + 3 )) " 30; then
        rig_result linux-save-c PASS "checkpoint written, the guest ticks on: '$(last_tick)'"
    else
        rig_result linux-save-c FAIL "$(cat /tmp/save2.out); last '$(last_tick)'"
    fi
    # control/sysrq through Linux's xenbus watch, re-registered by the restore (the
    # same worked before the save: sysrq_before).
    xenkvm sysrq ls h > /tmp/sysrq.out 2>&1
    i=0
    while [ $i -lt 300 ] && [ "$(helps)" -lt 2 ]; do sleep 0.2; i=$((i + 1)); done
    if [ "$sysrq_before" = 1 ] && [ "$(helps)" -ge 2 ]; then
        rig_result linux-restore-watch PASS "control/sysrq reached the restored Linux through its watch: $(tr -d '\r' < "$clogs/ls.log" | grep 'sysrq: HELP' | tail -1 | cut -c1-60)"
    else
        rig_result linux-restore-watch FAIL "sysrq before the save seen: $sysrq_before; HELP lines: $(helps); $(cat /tmp/sysrq.out)"
    fi
    # Live migration: the destination's console log is named as it was created.
    printf '#!/bin/sh\nshift\nexec "$@"\n' > /tmp/fake-ssh
    chmod +x /tmp/fake-ssh
    mlog="$clogs/ls--incoming.log"
    : >> "$mlog"
    tail -n 0 -f "$mlog" | awk '{ sub(/\r$/, ""); printf "| migrated %s\n", $0; fflush() }' &
    mtail_pid=$!
    old=$(xenkvm domid ls)
    t0=$(rig_ms)
    xenkvm migrate -s /tmp/fake-ssh --debug ls localhost > /tmp/migrate.out 2>&1
    rc=$?
    ms=$(($(rig_ms) - t0))
    last=$(last_tick)
    new=$(xenkvm domid ls 2>/dev/null)
    rig_wait "$mlog" "GUEST-TICK " 60
    rig_wait "$mlog" "GUEST-TICK $(( $(echo "$last" | cut -d' ' -f2) + 3 )) " 30
    first=$(tr -d '\r' < "$mlog" | grep '^GUEST-TICK ' | head -1)
    later=$(tr -d '\r' < "$mlog" | grep '^GUEST-TICK ' | tail -1)
    up0=$(echo "$last" | cut -d' ' -f3); up1=$(echo "$first" | cut -d' ' -f3)
    secs=$(( ms / 1000 + 2 ))
    rounds=$(grep -c 'migration sender: round' /tmp/migrate.out)
    if [ $rc = 0 ] && [ -n "$new" ] && [ "$new" != "$old" ] && ! xenkvm list | grep -q 'migratedaway' &&
       [ -n "$first" ] && [ "$first" != "$later" ] && [ "$rounds" -ge 3 ] &&
       awk -v a="$up0" -v b="$up1" -v s="$secs" 'BEGIN { exit !(b > a && b - a < s) }'; then
        rig_result linux-migrate PASS "domain $old -> $new in $ms ms, $rounds rounds ($(grep -E 'round|did not run' /tmp/migrate.out | sed 's/migration sender: //' | tr '\n' ';')); last tick at the source '$last', first at the destination '$first', then '$later'"
    else
        rig_result linux-migrate FAIL "rc $rc, domain $old -> '$new', $rounds rounds: $(tail -4 /tmp/migrate.out | tr '\n' ' '); last '$last', first '$first', later '$later'; $(xenkvm list 2>&1 | tail -2 | tr '\n' ' ')"
    fi
    w1=$(last_write "$clogs/ls.log"); p1=$(last_ping "$clogs/ls.log")
    if [ $rc = 0 ] && io_going "$mlog" "${w1:-0}" "${p1:-0}" &&
       ! tr -d '\r' < "$mlog" | grep -q '^GUEST-WRITE-FAILED'; then
        rig_result linux-migrate-io PASS "last write at the source $w1, ping $p1; at the destination write $(last_write "$mlog"), ping $(last_ping "$mlog")"
    else
        rig_result linux-migrate-io FAIL "rc $rc; source write '$w1' ping '$p1'; destination write '$(last_write "$mlog")' ping '$(last_ping "$mlog")'; $(tr -d '\r' < "$mlog" | grep -E '^GUEST-WRITE-FAILED|blkfront|netfront' | tail -3 | tr '\n' ' ')"
    fi
    kill $mtail_pid 2>/dev/null
    xenkvm destroy ls
else
    rig_result linux-save FAIL "the guest never ticked: $(tr -d '\r' < $clogs/ls.log | tail -3 | tr '\n' ' ')"
    xenkvm destroy ls 2>/dev/null
fi
kill $tail_pid 2>/dev/null
rig_net_down
