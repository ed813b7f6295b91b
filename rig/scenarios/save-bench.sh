# rig: issue 13's figures with a Linux guest: Debian's cloud kernel idle in 256 MiB
# (2 vCPUs, guest.scenario=tick: its uptime printed once a second, nothing else)
# under xenkvmd, in rig.bench_n=N rounds (default 3), each beside its peer measured
# in the same round:
#  - save: `xenkvm save` until it returned, against `dd if=/dev/zero bs=1M conv=fsync`
#    writing as many bytes as the save carries (the guest's populated RAM: 4 KiB per
#    page listed in the file's RAM records, as bench/save.sh counts) to the same file
#    system;
#  - restore: `xenkvm restore` until it returned (the guest running), against `dd`
#    reading those bytes back, each after `echo 3 > /proc/sys/vm/drop_caches`;
#  - live migration to a second xenkvmd in the outer guest (its own directories, as
#    linux-save's; a stand-in for ssh) and back: the downtime the sender's --debug
#    reports (the source's stop until the destination reported its copy running)
#    and the total time of `xenkvm migrate`; two samples a round.
# The outer guest's only file system is its /tmp, a tmpfs: the save file and the dd
# peer are both in its RAM, so fsync and the dropped page cache cost nothing, and the
# peer is the floor of copying those bytes through the outer kernel.
# Prints RIG-BENCH-ROUND lines and `RIG-BENCH save_ms=… dd_write_ms=… save_ratio=…
# restore_ms=… dd_read_ms=… restore_ratio=… downtime_ms=… migrate_ms=… …` (medians);
# save-bench PASS iff every step worked and the guest ticked on after each.
# Where the time goes: every xenkvm process runs with XENKVM_REPORT_STARTUP=1, so a
# restoring domain process prints its set-up after the stream's END (`startup: ...`,
# src/vmm/run.c's marks) into its daemon's log, printed here with each round, beside
# the sender's parts of the stop (`migrate --debug`).
t=${RIG_GUEST_TIMEOUT:-300}
n=$(rig_bench_n)
export XENKVM_REPORT_STARTUP=1
rig_start_xenkvmd || rig_result save-bench-xenkvmd FAIL "xenkvmd did not start: $(tail -3 /tmp/xenkvmd.log)"
med() { for v in "$@"; do echo "$v"; done | rig_median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "n/a"; else printf "%.2f\n", a / b }'; }
# The two toolstacks: the outer's own (the defaults) and a second one; a stand-in for
# ssh each way (the way back drops the second one's directories from the environment).
rig_dest_env /tmp/dest
rig_fake_ssh /tmp/ssh-to-dest
printf '#!/bin/sh\nshift\nexec env -u XENKVM_RUNDIR -u XENKVM_STATEDIR -u XENKVM_LOGDIR -u XENSTORED_PATH "$@"\n' > /tmp/ssh-to-src
chmod +x /tmp/ssh-to-src
mkdir -p /var/log/xenkvm "$RIG_DEST_LOGS"
# Ticks in every console log of both toolstacks (the guest's log changes its name and
# directory as it moves).
ticks() { cat /var/log/xenkvm/bench*.log "$RIG_DEST_LOGS"/bench*.log 2>/dev/null | tr -d '\r' | grep -c '^GUEST-TICK '; }
# ticks_on N: 2 ticks more than N within 60 s
ticks_on() {
    local i=0
    while [ $i -lt 300 ]; do
        [ "$(ticks)" -ge $(($1 + 2)) ] && return 0
        sleep 0.2; i=$((i + 1))
    done
    return 1
}
# populated FILE: the bytes of guest RAM in a save file (4096 per page in its RAM
# records; docs/save-restore.md, "The file": 64-byte header, then records of u32 type,
# u32 CRC, u64 length, payload; RAM's payload starts with its u32 page count).
populated() {
    local off=64 size pages=0
    size=$(wc -c < "$1")
    while [ "$off" -lt "$size" ]; do
        set -- "$1" $(od -A n -t u4 -j "$off" -N 20 "$1")
        [ "$2" = 7 ] && pages=$((pages + $6))
        off=$((off + 16 + $4 + $5 * 4294967296))
    done
    echo $((pages * 4096))
}
cat > /tmp/bench.cfg <<CFG
name = "bench"
type = "pvh"
kernel = "/guest/vmlinuz"
ramdisk = "/guest/initrd.gz"
extra = "console=hvc0 lpj=10800000 quiet guest.scenario=tick"
memory = 256
vcpus = 2
CFG
fail=
xenkvm create -q /tmp/bench.cfg > /tmp/create.out 2>&1 || fail="create: $(cat /tmp/create.out)"
[ -z "$fail" ] && ! rig_wait /var/log/xenkvm/bench.log "GUEST-TICK 3 " "$t" &&
    fail="the guest never ticked: $(tail -3 /var/log/xenkvm/bench.log | tr '\r\n' '  ')"
svs= rss= dws= drs= dns= tts= pop=
i=1
while [ -z "$fail" ] && [ "$i" -le "$n" ]; do
    k=$(ticks)
    echo "RIG-BENCH-STEP $i save (outer uptime $(rig_ms) ms)"   # where a hung run stopped
    t0=$(rig_ms)
    xenkvm save bench /tmp/bench.save > /tmp/save.out 2>&1 || { fail="round $i: save: $(cat /tmp/save.out)"; break; }
    sv=$(($(rig_ms) - t0))
    pop=$(populated /tmp/bench.save)
    mb=$(( (pop + 1048575) / 1048576 ))
    t0=$(rig_ms)
    dd if=/dev/zero of=/tmp/peer bs=1M count="$mb" conv=fsync 2>/dev/null
    dw=$(($(rig_ms) - t0))
    sync; echo 3 > /proc/sys/vm/drop_caches
    t0=$(rig_ms)
    dd if=/tmp/peer of=/dev/null bs=1M 2>/dev/null
    dr=$(($(rig_ms) - t0))
    rm -f /tmp/peer
    sync; echo 3 > /proc/sys/vm/drop_caches
    echo "RIG-BENCH-STEP $i restore (outer uptime $(rig_ms) ms)"
    t0=$(rig_ms)
    xenkvm restore /tmp/bench.save > /tmp/restore.out 2>&1 || { fail="round $i: restore: $(cat /tmp/restore.out)"; break; }
    rs=$(($(rig_ms) - t0))
    ticks_on "$k" || { fail="round $i: no ticks after the restore"; break; }
    echo "RIG-BENCH-ROUND $i save_ms=$sv dd_write_ms=$dw restore_ms=$rs dd_read_ms=$dr bytes=$pop file=$(wc -c < /tmp/bench.save); $(grep '^startup:' /tmp/xenkvmd.log | tail -1)"
    svs="$svs $sv" rss="$rss $rs" dws="$dws $dw" drs="$drs $dr"
    rm -f /tmp/bench.save
    # There and back again.
    for way in to-dest to-src; do
        k=$(ticks)
        if [ $way = to-dest ]; then
            set -- xenkvm; dlog=$RIG_DEST_LOGS/xenkvmd.log
        else
            set -- rig_dest xenkvm; dlog=/tmp/xenkvmd.log
        fi
        echo "RIG-BENCH-STEP $i migrate $way (outer uptime $(rig_ms) ms)"
        t0=$(rig_ms)
        "$@" migrate -s /tmp/ssh-$way --debug bench host > /tmp/migrate.out 2>&1 ||
            { fail="round $i: migrate $way: $(tail -3 /tmp/migrate.out | tr '\n' ' ')"; break 2; }
        tt=$(($(rig_ms) - t0))
        dn=$(sed -n 's/.*the guest did not run for \([0-9]*\) ms.*/\1/p' /tmp/migrate.out)
        echo "RIG-BENCH-ROUND $i migrate $way downtime_ms=$dn total_ms=$tt, $(grep -c 'sender: round' /tmp/migrate.out) rounds: $(grep -E 'stop-and-copy|stopped|the stop:|after the end of the stream|did not run' /tmp/migrate.out | sed 's/migration \(sender\|target\): //' | tr '\n' ';') destination's $(grep '^startup:' "$dlog" | tail -1)"
        ticks_on "$k" || { fail="round $i: no ticks after the migration $way"; break 2; }
        dns="$dns $dn" tts="$tts $tt"
    done
    i=$((i + 1))
done
ms=$(med $svs) mr=$(med $rss) mw=$(med $dws) mrd=$(med $drs) mdn=$(med $dns) mtt=$(med $tts)
echo "RIG-BENCH save_ms=${ms:-none} dd_write_ms=${mw:-none} save_ratio=$(ratio "$ms" "$mw") restore_ms=${mr:-none} dd_read_ms=${mrd:-none} restore_ratio=$(ratio "$mr" "$mrd") bytes=${pop:-none} downtime_ms=${mdn:-none} migrate_ms=${mtt:-none} rounds=$((i - 1)) migrations=$(echo $dns | wc -w)"
if [ -z "$fail" ]; then
    rig_result save-bench PASS "$n rounds: save, restore, migrate to the second xenkvmd and back; the guest ticked on after each"
else
    rig_result save-bench FAIL "$fail"
fi
# (wherever it ended up)
xenkvm destroy bench 2>/dev/null || rig_dest xenkvm destroy bench 2>/dev/null || true
