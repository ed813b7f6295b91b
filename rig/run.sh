#!/usr/bin/env bash
# Boots the rig's outer guest under QEMU's software emulator (TCG) and runs one scenario
# (rig/scenarios/NAME.sh, copied into the outer initramfs by rig/build.sh).
# usage: rig/run.sh SCENARIO [--timeout S] [--verbose] [--guest-timeout S] [--append ARGS]
#                            [--mem MiB] [--smp N] [--build]
#   --timeout S        host-side limit for the whole run (default 900)
#   --verbose          xenkvm -v in the scenarios (rig.verbose=1)
#   --guest-timeout S  scenarios' limit for one guest boot (rig.timeout=S)
#   --append ARGS      more outer kernel command line
#   --build            run rig/build.sh first
# The serial console goes to stdout and to $RIG_CACHE/logs/SCENARIO-TIME.log
# (SCENARIO.log links the latest). Exit status 0 iff RIG-DONE was seen and every
# RIG-RESULT line says PASS (and there is at least one); on failure the last 60 lines
# of the log are printed again.
# Scenario "shell" gives an interactive busybox shell in the outer guest (a terminal).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -ge 1 ] || die "usage: $0 SCENARIO [--timeout S] [--verbose] [--guest-timeout S] [--append ARGS]"
case "$1" in -h|--help) sed -n '2,17p' "$0"; exit 0 ;; esac
scenario=$1; shift
timeout_s=900 mem=2048 smp=2 extra="" do_build=0
while [ $# -gt 0 ]; do
    case "$1" in
        --timeout) timeout_s=$2; shift 2 ;;
        --verbose|-v) extra="$extra rig.verbose=1"; shift ;;
        --guest-timeout) extra="$extra rig.timeout=$2"; shift 2 ;;
        --append) extra="$extra $2"; shift 2 ;;
        --mem) mem=$2; shift 2 ;;
        --smp) smp=$2; shift 2 ;;
        --build) do_build=1; shift ;;
        *) die "unknown argument $1" ;;
    esac
done

[ "$do_build" = 1 ] && "$RIG_DIR/build.sh"
if [ "$scenario" != shell ] && [ ! -f "$RIG_DIR/scenarios/$scenario.sh" ]; then
    die "no scenario $scenario (have: $(cd "$RIG_DIR/scenarios" && ls *.sh | grep -vx lib.sh | sed 's/\.sh$//' | tr '\n' ' '))"
fi
initrd="$RIG_CACHE/outer-initrd.cpio.gz"
if [ "$scenario" != shell ]; then
    for part in qemu pv storage; do
        grep -q "^# rig: needs $part" "$RIG_DIR/scenarios/$scenario.sh" &&
            initrd="$RIG_CACHE/outer-initrd-$part.cpio.gz"
    done
fi
kernel="$RIG_CACHE/outer/vmlinuz"
[ -e "$kernel" ] && [ -e "$initrd" ] || die "no rig in $RIG_CACHE: run rig/build.sh first"
for f in "$RIG_DIR/outer/init" "$RIG_DIR"/scenarios/*.sh; do
    [ "$f" -nt "$initrd" ] && log "warning: $f is newer than $initrd: run rig/build.sh (or --build)"
done
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing: run rig/build.sh"

mkdir -p "$RIG_CACHE/logs"
logf="$RIG_CACHE/logs/$scenario-$(date +%Y%m%d-%H%M%S).log"
ln -sfn "$(basename "$logf")" "$RIG_CACHE/logs/$scenario.log"

cmdline="console=ttyS0 tsc_early_khz=2700000 rig.scenario=$scenario panic=-1 loglevel=4$extra"
pidf="$logf.qemu-pid"
qemu=(qemu-system-x86_64 -accel tcg,thread=multi -cpu max -M q35 -m "$mem" -smp "$smp"
      -nographic -no-reboot -nic none -kernel "$kernel" -initrd "$initrd" -append "$cmdline"
      -pidfile "$pidf")

# The outer kernel's own soft-lockup report (its lines have no "| ", the inner
# guests' have): the emulated machine has hung with both its CPUs stuck (seen
# under TCG's nested SVM, once a scenario's guest had passed its checks). It
# would sit there until the host timeout; it is stopped at once instead, and
# the run ends without RIG-DONE, which tests/test_rig.py reruns.
# A scenario's outer guest prints RIG-ALIVE every minute (rig/outer/init): a log
# that has not grown for SILENT_S seconds after RIG-SCENARIO is an outer guest
# that froze without a soft-lockup report, stopped the same way (3 missed lines).
hungf="$logf.outer-hung"
SILENT_S=180
watch_outer() {
    local size=0 still=0 now
    while sleep 5; do
        now=$(stat -c %s "$logf" 2>/dev/null || echo 0)
        if [ "$now" != "$size" ]; then size=$now still=0; else still=$((still + 5)); fi
        if grep -aqE '^\[ *[0-9]+\.[0-9]+\] watchdog: BUG: soft lockup - CPU#[0-9]+ stuck' \
                "$logf" 2>/dev/null ||
           { [ "$still" -ge "$SILENT_S" ] && grep -aq '^RIG-SCENARIO' "$logf" 2>/dev/null; }; then
            if [ "$still" -ge "$SILENT_S" ]; then echo silent; else echo lockup; fi > "$hungf"
            [ -s "$pidf" ] && kill "$(cat "$pidf")" 2>/dev/null
            return 0
        fi
    done
}
log "$(printf '%q ' "${qemu[@]}")"
log "log: $logf"

t0=$(date +%s.%N)
set +e
watch_outer & watcher=$!
if [ -t 0 ] || [ "$scenario" = shell ]; then
    timeout -k 10 "$timeout_s" "${qemu[@]}" 2>&1 | tee "$logf"
else
    timeout -k 10 "$timeout_s" "${qemu[@]}" </dev/null 2>&1 | tee "$logf"
fi
qrc=${PIPESTATUS[0]}
kill "$watcher" 2>/dev/null
wait "$watcher" 2>/dev/null
rm -f "$pidf"
hung=0
[ -e "$hungf" ] && hung=$(cat "$hungf") && rm -f "$hungf"
set -e
t1=$(date +%s.%N)
elapsed=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')

clean=$(tr -d '\r' < "$logf")
results=$(printf '%s\n' "$clean" | grep '^RIG-RESULT ' || true)
n_all=$(printf '%s\n' "$results" | grep -c '^RIG-RESULT ' || true)
n_pass=$(printf '%s\n' "$results" | grep -c '^RIG-RESULT [^ ]* PASS' || true)
done_seen=0
# not "printf | grep -q": grep stops at the match, printf then dies of SIGPIPE on
# a long log, and pipefail turned that into "no RIG-DONE" (seen in linux-pv)
grep -qx 'RIG-DONE' <<< "$clean" && done_seen=1

status=0 why=""
if [ "$hung" = lockup ] && [ "$done_seen" = 0 ]; then
    status=1 why="the outer kernel reported a soft lockup: the emulated machine hung, stopped"
elif [ "$hung" = silent ] && [ "$done_seen" = 0 ]; then
    status=1 why="the outer guest printed nothing for $SILENT_S s (not even RIG-ALIVE): it froze, stopped"
elif [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then status=1 why="host timeout ($timeout_s s)"
elif [ "$done_seen" = 0 ]; then status=1 why="no RIG-DONE (qemu exit $qrc)"
elif [ "$scenario" = shell ]; then status=0
elif [ "$n_all" = 0 ]; then status=1 why="no RIG-RESULT lines"
elif [ "$n_pass" != "$n_all" ]; then status=1 why="$((n_all - n_pass)) of $n_all results FAIL"
fi
{
    echo "rig: ---- $scenario: $n_pass/$n_all PASS, ${elapsed} s on the host (qemu exit $qrc)${why:+: $why}"
    if [ "$status" != 0 ]; then
        echo "rig: ---- last 60 lines of $logf:"
        printf '%s\n' "$clean" | tail -60
        echo "rig: ---- results:"
        printf '%s\n' "$results"
    fi
} | tee -a "$logf"
exit "$status"
