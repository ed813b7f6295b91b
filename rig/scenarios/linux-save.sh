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
#   linux-migrate       `xenkvm migrate --debug` to a second xenkvmd in the outer
#                       guest, as to another host: its own run, state and log
#                       directories, reached through a stand-in for ssh that runs
#                       `xenkvm migrate-receive` with them (as sshd's SetEnv does in
#                       tests/test_migrate_ssh.py), which starts that daemon: pre-copy
#                       rounds while the guest ticks, the source's daemon no longer
#                       lists the domain, the destination's lists it under its name
#                       with a new id, and the guest ticks on there with its uptime
#                       going on (never back)
#   linux-migrate-io    the writer and the pings go on at the destination (the same
#                       image, a tap vif<new>.0 on the same xenbr0); then `xenkvm
#                       shutdown -w` through the destination's daemon ends the guest
#                       (control/shutdown through its watch there; the guest's init
#                       powers off): no write failed, and the last write it reported
#                       is in the image file
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
    # Live migration to a second xenkvmd, as to another host: its own run, state
    # and log directories (rig_dest_env), reached through a stand-in for ssh that
    # drops HOST and runs the rest with those directories, as sshd's SetEnv does
    # in tests/test_migrate_ssh.py. Nothing starts that daemon beforehand: the
    # destination's `xenkvm migrate-receive` starts it, as on a host where
    # xenkvmd has not run yet. Both share the outer's network namespace, so the
    # destination's tap (vif<its domid>.0) goes on the same xenbr0; tap names
    # come from each daemon's own domain ids, and the destination's first id
    # (1) is not one the source holds now (its domain is 2 since the restore).
    rig_dest_env /tmp/dest
    rig_fake_ssh /tmp/fake-ssh
    mlog="$RIG_DEST_LOGS/ls--incoming.log"   # named as the destination created it
    mkdir -p "$RIG_DEST_LOGS"
    : >> "$mlog"
    tail -n 0 -f "$mlog" | awk '{ sub(/\r$/, ""); printf "| migrated %s\n", $0; fflush() }' &
    mtail_pid=$!
    old=$(xenkvm domid ls)
    t0=$(rig_ms)
    # (XENKVM_REPORT_STARTUP reaches the destination's daemon and its domain process:
    # the set-up after the stream's END in that daemon's log, printed below)
    XENKVM_REPORT_STARTUP=1 xenkvm migrate -s /tmp/fake-ssh --debug ls dest > /tmp/migrate.out 2>&1
    rc=$?
    ms=$(($(rig_ms) - t0))
    tail -n +1 -f "$RIG_DEST_LOGS/xenkvmd.log" 2>/dev/null | awk '{ printf "| dest-xenkvmd %s\n", $0; fflush() }' &
    dtail_pid=$!
    last=$(last_tick)
    new=$(rig_dest xenkvm domid ls 2>/dev/null)
    rig_wait "$mlog" "GUEST-TICK " 60
    rig_wait "$mlog" "GUEST-TICK $(( $(echo "$last" | cut -d' ' -f2) + 3 )) " 30
    first=$(tr -d '\r' < "$mlog" | grep '^GUEST-TICK ' | head -1)
    later=$(tr -d '\r' < "$mlog" | grep '^GUEST-TICK ' | tail -1)
    up0=$(echo "$last" | cut -d' ' -f3); up1=$(echo "$first" | cut -d' ' -f3)
    secs=$(( ms / 1000 + 2 ))
    rounds=$(grep -c 'migration sender: round' /tmp/migrate.out)
    daemons=$(pidof xenkvmd | wc -w)
    if [ $rc = 0 ] && [ -n "$new" ] && [ "$new" != "$old" ] && ! xenkvm list | grep -qE '^ls(--migratedaway)? ' &&
       ! rig_dest xenkvm list | grep -q '^ls--incoming ' && [ "$daemons" = 2 ] &&
       [ -n "$first" ] && [ "$first" != "$later" ] && [ "$rounds" -ge 3 ] &&
       awk -v a="$up0" -v b="$up1" -v s="$secs" 'BEGIN { exit !(b > a && b - a < s) }'; then
        rig_result linux-migrate PASS "to the second xenkvmd: domain $old -> $new there (gone from the source's list) in $ms ms, $rounds rounds ($(grep -E 'round|the stop:|did not run|after the end of the stream' /tmp/migrate.out | sed 's/migration \(sender\|target\): //' | tr '\n' ';')); last tick at the source '$last', first at the destination '$first', then '$later'"
    else
        rig_result linux-migrate FAIL "rc $rc, domain $old -> '$new', $rounds rounds, $daemons xenkvmd: $(tail -4 /tmp/migrate.out | tr '\n' ' '); last '$last', first '$first', later '$later'; source: $(xenkvm list 2>&1 | tail -2 | tr '\n' ' '); destination: $(rig_dest xenkvm list 2>&1 | tail -2 | tr '\n' ' ')"
    fi
    # The writer and the pings at the destination, then its toolstack shuts the
    # guest down (Linux's control/shutdown watch, re-registered there): no write
    # failed, and the last write the guest reported is in the image.
    w1=$(last_write "$clogs/ls.log"); p1=$(last_ping "$clogs/ls.log")
    if [ $rc = 0 ] && io_going "$mlog" "${w1:-0}" "${p1:-0}"; then going=1; else going=0; fi
    w2=$(last_write "$mlog"); p2=$(last_ping "$mlog")
    ip -o link show "vif$new.0" 2>/dev/null | grep -q 'master xenbr0' && tap=1 || tap=0
    timeout 120 env $RIG_DEST_ENV xenkvm shutdown -w ls > /tmp/shutdown.out 2>&1
    src=$?
    w3=$(last_write "$mlog")
    [ -n "$w3" ] && block_has "$w3" && w3_on_disk=yes || w3_on_disk=no
    if [ $going = 1 ] && [ $tap = 1 ] && [ $src = 0 ] && ! rig_dest xenkvm list | grep -q '^ls ' &&
       tr -d '\r' < "$mlog" | grep -q '^GUEST-SHUTDOWN' && [ "$w3_on_disk" = yes ] &&
       ! tr -d '\r' < "$mlog" | grep -q '^GUEST-WRITE-FAILED'; then
        rig_result linux-migrate-io PASS "last write at the source $w1, ping $p1; at the destination write $w2, ping $p2 (tap vif$new.0 on xenbr0); the destination's shutdown -w ended it, its last write $w3 in the image"
    else
        rig_result linux-migrate-io FAIL "rc $rc; source write '$w1' ping '$p1'; destination write '$w2' ping '$p2' (going $going, tap vif$new.0 on xenbr0: $tap); shutdown -w exit $src: $(tail -2 /tmp/shutdown.out | tr '\n' ' '); last write '$w3' in the image: $w3_on_disk; $(tr -d '\r' < "$mlog" | grep -E '^GUEST-WRITE-FAILED|^GUEST-SHUTDOWN|blkfront|netfront' | tail -3 | tr '\n' ' '); destination: $(rig_dest xenkvm list 2>&1 | tail -2 | tr '\n' ' ')"
    fi
    kill $mtail_pid $dtail_pid 2>/dev/null
    rig_dest xenkvm destroy ls 2>/dev/null
    xenkvm destroy ls 2>/dev/null
else
    rig_result linux-save FAIL "the guest never ticked: $(tr -d '\r' < $clogs/ls.log | tail -3 | tr '\n' ' ')"
    xenkvm destroy ls 2>/dev/null
fi
kill $tail_pid 2>/dev/null
rig_net_down
