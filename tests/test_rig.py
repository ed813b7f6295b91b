"""The nested rig (docs/rig.md): Debian's generic kernel under QEMU's software emulator
(TCG) has a working /dev/kvm (kvm-amd on emulated SVM), and runs xenkvm there. This is
where Linux guests are tested: this host's own KVM cannot run them.

rig/build.sh fetches Debian's kernels and busybox with apt (cached in .cache/rig) and
packs the xenkvm binaries of BUILD; rig/run.sh boots the outer guest and runs one
scenario, exiting 0 iff every RIG-RESULT line says PASS. The rig runs under TCG, so it
needs no usable /dev/kvm on this host; build.sh installs qemu-system-x86 when missing.
"""
import os
import re
import subprocess
import warnings

import pytest

from conftest import ROOT, BUILD

RIG = ROOT / "rig"
BUILD_TIMEOUT = 1200        # s: downloads (~100 MB) and packing on a fresh machine
RUN_TIMEOUT = 600           # s: host-side limit for one outer boot (they take 15-60 s)
GUEST_TIMEOUT = 240         # s: one guest boot inside the rig
XTEST_PROGRAMS = ["hello", "version", "evtchn", "timer", "grant", "hostile", "vmcall", "smp",
                  "callback", "callback:lapic", "fifo", "balloon", "watchdog", "tlb", "triplefault"]


def _show(r):
    return f"exit {r.returncode}\n--- stdout (tail) ---\n{r.stdout[-6000:]}\n--- stderr (tail) ---\n{r.stderr[-3000:]}"


@pytest.fixture(scope="module")
def rig(build):
    r = subprocess.run([str(RIG / "build.sh"), "--build", str(BUILD)],
                       capture_output=True, text=True, timeout=BUILD_TIMEOUT)
    assert r.returncode == 0, "rig/build.sh failed\n" + _show(r)
    return r


# Host-side limits per scenario (s): about 3x what each takes here.
SCENARIO_TIMEOUT = {"kvm-check": 150, "xtest-all": 300, "boot-bench": 400, "linux-boot": 900,
                    "linux-blk": 400, "linux-qcow": 400, "linux-net": 400, "linux-toolstack": 700,
                    "linux-pv": 1800, "linux-save": 900}


def _run_once(name, timeout, args):
    cmd = [str(RIG / "run.sh"), name, "--timeout", str(timeout),
           "--guest-timeout", str(GUEST_TIMEOUT), *args]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                           timeout=timeout + 60)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"rig/run.sh {name} did not finish in {timeout + 60} s: {e}")
    r.stdout = r.stdout.replace("\r", "")
    return r


def _outer_panic(out):
    """The first oops or panic line of a kernel's own console (timestamped, not relayed
    with rig_run_guest's "| "). Only meaningful when the outer guest did not finish:
    some scenarios relay an inner guest's console without the prefix, and an inner
    guest panics on purpose in several."""
    for l in out.splitlines():
        if re.match(r"\[ *\d+\.\d+\] ", l) and re.search(r"Kernel panic - not syncing|---\[ end trace|"
                                               r"BUG: unable to handle|general protection fault", l):
            return l.strip()[:200]
    return None


def _why_rerun(r):
    """(reason, attributable to the emulator) for a run that needs another, else None.
    A run without RIG-DONE is the emulator's: the outer guest crashed (an oops in
    kvm-amd's world switch, seen in CI), reset itself silently (QEMU exits 0 with
    -no-reboot) or froze; every scenario ends with RIG-DONE whatever its guests do."""
    lines = r.stdout.splitlines()
    if "RIG-DONE" not in lines:
        panic = _outer_panic(r.stdout)
        return (f"the outer guest did not finish (emulator fault?){': ' + panic if panic else ''}",
                True)
    failed = [l for l in lines if re.match(r"RIG-RESULT \S+ FAIL", l)]
    if failed and all(re.search(r"vcpu \d+: triple fault", l) for l in failed):
        # Inner guests triple-fault at random points with nothing printed, under QEMU
        # microvm as the inner VMM too (docs/rig.md, "The same faults without xenkvm"):
        # the emulator's, like an outer fault. One that xenkvm caused would come back
        # in every run, and still fail.
        return (f"an inner guest triple-faulted (emulator fault?): {failed[0][:300]}", True)
    if failed:
        return f"{len(failed)} check(s) failed: {failed[0][:300]}", False
    return None


MAX_RUNS = 4          # runs of one scenario at most
MAX_CHECK_RERUNS = 1  # of which reruns after a failed check (an emulator fault may rerun thrice)


def run_scenario(name, *args):
    """Runs a scenario, and again, loudly (a warning in pytest's summary with the failed
    run's last lines), when the outer guest did not reach RIG-DONE -- the emulator's
    fault (_why_rerun) -- up to MAX_RUNS runs; so is one whose only failures are inner
    guests' triple faults. Another failed check is run once more (inner guests have
    stalled once in a while under TCG, then passed on every later run; docs/rig.md): a
    failure that comes back fails the test."""
    timeout = SCENARIO_TIMEOUT.get(name, RUN_TIMEOUT)
    check_reruns = 0
    for run in range(1, MAX_RUNS + 1):
        r = _run_once(name, timeout, args)
        why = _why_rerun(r)
        if why is None or run == MAX_RUNS:
            return r
        reason, emulator = why
        if not emulator:
            if check_reruns == MAX_CHECK_RERUNS:
                return r
            check_reruns += 1
        tail = [l for l in r.stdout.splitlines() if l.strip()][-12:]
        print(f"WARNING: rig scenario {name}, run {run}: {reason}; running it again. "
              f"Its tail:\n" + "\n".join(tail))
        # In pytest's summary, which CI's log keeps: the reason and the run's last lines.
        warnings.warn(f"rig scenario {name} run {run} of {MAX_RUNS} needed another: {reason}\n"
                      + "\n".join(l[:200] for l in tail))
    return r


def results(out):
    """{name: (verdict, detail)} from the RIG-RESULT lines."""
    res = {}
    for m in re.finditer(r"^RIG-RESULT (\S+) (PASS|FAIL) ?(.*)$", out, re.M):
        res[m.group(1)] = (m.group(2), m.group(3))
    return res


@pytest.fixture(scope="module")
def xtest_all(rig):
    return run_scenario("xtest-all")


def test_kvm_check(rig):
    r = run_scenario("kvm-check")
    assert results(r.stdout).get("kvm-check", ("",))[0] == "PASS", _show(r)
    assert "RIG-DONE" in r.stdout.splitlines(), _show(r)
    assert r.returncode == 0, _show(r)


@pytest.mark.parametrize("program", XTEST_PROGRAMS)
def test_xtest_in_rig(xtest_all, program):
    res = results(xtest_all.stdout)
    assert res.get(f"xtest-{program}", ("missing",))[0] == "PASS", _show(xtest_all)


def test_xtest_all_exit_status(xtest_all):
    assert "RIG-DONE" in xtest_all.stdout.splitlines(), _show(xtest_all)
    assert xtest_all.returncode == 0, _show(xtest_all)


def test_guest_image_boots_under_qemu_microvm(rig):
    """The rig's own Linux guest (cloud kernel + guest initramfs) reaches its /init under
    QEMU microvm inside the rig: the image and the rig are sound, so a linux-boot failure
    is xenkvm's. Also records the boot-time comparison (RIG-BENCH)."""
    r = run_scenario("boot-bench", "--append", "rig.bench_n=1")   # one round: bench/ runs 3
    bench = re.search(r"^RIG-BENCH .*$", r.stdout, re.M)
    print(bench.group(0) if bench else "no RIG-BENCH line")
    assert results(r.stdout).get("boot-bench-qemu-microvm", ("missing",))[0] == "PASS", _show(r)
    assert results(r.stdout).get("boot-bench-xenkvm", ("missing",))[0] == "PASS", _show(r)
    # A warning or error only xenkvm's boot has (beyond the expected Xen/PVH lines) is a defect.
    for line in re.findall(r"^RIG-KLOG .*$", r.stdout, re.M):
        print(line)
    assert results(r.stdout).get("boot-bench-klog", ("missing",))[0] == "PASS", _show(r)


@pytest.fixture(scope="module")
def linux_boot(rig):
    return run_scenario("linux-boot")


@pytest.mark.parametrize("check", ["linux-boot", "linux-console", "linux-reboot", "linux-panic"])
def test_linux_guest(linux_boot, check):
    """Debian's cloud kernel under xenkvm: to init with 2 vCPUs, xenbus (the UUID read
    back from xenstore) and FIFO event channels, console input on the 2-level ABI
    (xen.fifo_events=0), and the poweroff / reboot / panic outcomes."""
    res = results(linux_boot.stdout)
    assert res.get(check, ("missing",))[0] == "PASS", _show(linux_boot)


def test_linux_boot_scenario_exit_status(linux_boot):
    assert "RIG-DONE" in linux_boot.stdout.splitlines(), _show(linux_boot)
    assert linux_boot.returncode == 0, _show(linux_boot)


@pytest.fixture(scope="module")
def linux_blk(rig):
    return run_scenario("linux-blk")


@pytest.mark.parametrize("check", ["linux-blk", "linux-blk-ro", "linux-blk-fs", "linux-blk-reboot",
                                   "linux-blk-sigkill"])
def test_linux_blkfront(linux_blk, check):
    """Linux's xen-blkfront against blkback (on FIFO event channels), two boots on the same images: a flushed raw
    write is read back and found in the image file; a read-only disk refuses writes; ext4
    made with Debian's mkfs.ext4, a file written and synced, reboot (exit 3), and the next
    boot finds the file system clean (e2fsck -fn) and the file's sha256 unchanged; a write
    flushed with O_DIRECT + fsync is in the image after xenkvm is SIGKILLed at once."""
    res = results(linux_blk.stdout)
    assert res.get(check, ("missing",))[0] == "PASS", _show(linux_blk)


def test_linux_blk_scenario_exit_status(linux_blk):
    assert "RIG-DONE" in linux_blk.stdout.splitlines(), _show(linux_blk)
    assert linux_blk.returncode == 0, _show(linux_blk)


@pytest.fixture(scope="module")
def linux_qcow(rig):
    return run_scenario("linux-qcow")


@pytest.mark.parametrize("check", ["linux-qcow", "linux-qcow-ro", "linux-qcow-fs", "linux-qcow-reboot",
                                   "linux-qcow-sigkill", "linux-qcow-check"])
def test_linux_blkfront_on_qcow2(linux_qcow, check):
    """linux-blk's checks on qcow2 images served through qemu-storage-daemon (xvda an
    overlay on a backing file), no storage daemon left after either boot (the second
    ended by SIGKILL), and `qemu-img check` clean on every image afterwards, the
    backing file untouched."""
    res = results(linux_qcow.stdout)
    assert res.get(check, ("missing",))[0] == "PASS", _show(linux_qcow)


def test_linux_qcow_scenario_exit_status(linux_qcow):
    assert "RIG-DONE" in linux_qcow.stdout.splitlines(), _show(linux_qcow)
    assert linux_qcow.returncode == 0, _show(linux_qcow)


@pytest.fixture(scope="module")
def linux_net(rig):
    r = run_scenario("linux-net")
    bench = re.search(r"^RIG-BENCH .*$", r.stdout, re.M)
    print(bench.group(0) if bench else "no RIG-BENCH line")
    return r


@pytest.mark.parametrize("check", ["linux-net-link", "linux-net-ping", "linux-net-rx", "linux-net-tx",
                                   "linux-net-exit"])
def test_linux_netfront(linux_net, check):
    """Linux's xen-netfront against netback: `xenkvm run --vif bridge=xenbr0,mac=...` on a
    bridge in the outer guest; eth0 gets its carrier and the MAC of the spec, pings the
    bridge's address, and 32 MiB of random data go each way (wget from the outer's httpd,
    nc to the outer's listener) with equal sha256 sums; the guest powers off (exit 0)."""
    res = results(linux_net.stdout)
    assert res.get(check, ("missing",))[0] == "PASS", _show(linux_net)


def test_linux_net_scenario_exit_status(linux_net):
    assert "RIG-DONE" in linux_net.stdout.splitlines(), _show(linux_net)
    assert linux_net.returncode == 0, _show(linux_net)


@pytest.fixture(scope="module")
def linux_toolstack(rig):
    return run_scenario("linux-toolstack")


@pytest.mark.parametrize("check", ["linux-ts-cgroup", "linux-ts-boot", "linux-ts-vcpu-up",
                                   "linux-ts-vcpu-down", "linux-ts-balloon", "linux-ts-nmi",
                                   "linux-ts-destroy"])
def test_linux_toolstack(linux_toolstack, check):
    """The toolstack with Linux, one `xenkvm create` in the outer guest's cgroup v2:
    cpu_weight/cap and sched-credit on the domain's cgroup; maxvcpus=2 vcpus=1 boots with
    CPU 1 offline, vcpu-set 2 and 1 bring it up and take it down through
    cpu/1/availability; mem-set 128 shrinks the balloon to 128 MiB and the memory the
    cgroup holds (top's MEM); trigger nmi reaches Linux; destroy removes process and
    cgroup."""
    res = results(linux_toolstack.stdout)
    assert res.get(check, ("missing",))[0] == "PASS", _show(linux_toolstack)


def test_linux_toolstack_scenario_exit_status(linux_toolstack):
    assert "RIG-DONE" in linux_toolstack.stdout.splitlines(), _show(linux_toolstack)
    assert linux_toolstack.returncode == 0, _show(linux_toolstack)


@pytest.fixture(scope="module")
def linux_save(rig):
    return run_scenario("linux-save")


@pytest.mark.parametrize("check", ["linux-save", "linux-restore", "linux-restore-io",
                                   "linux-save-c", "linux-restore-watch", "linux-migrate",
                                   "linux-migrate-io"])
def test_linux_save_restore(linux_save, check):
    """Debian's Linux (FIFO event channels, 2 vCPUs) through `xenkvm save` and
    `restore` under xenkvmd: the restored guest ticks on with its uptime going on
    from the save, a checkpoint leaves it ticking, and control/sysrq reaches it
    through its re-registered xenbus watch, and a live migration to a second
    daemon (its own run, state and log directories, started by migrate-receive
    as on another host) carries it on, ticking, under that daemon's new domain
    id, gone from the source's list (docs/save-restore.md). Throughout,
    xen-blkfront writes to a raw disk and xen-netfront pings the outer bridge:
    both go on after the restore and the migration without reconnecting, the
    last write before the save is in the image, and the destination's
    `shutdown -w` ends the guest with its last reported write in the image."""
    res = results(linux_save.stdout)
    assert res.get(check, ("missing",))[0] == "PASS", _show(linux_save)


def test_linux_save_scenario_exit_status(linux_save):
    assert "RIG-DONE" in linux_save.stdout.splitlines(), _show(linux_save)
    assert linux_save.returncode == 0, _show(linux_save)


# linux-pv's gated run: domain pv (two boots through the shim: console, ext4 across a
# reboot, the network) and pygrub (one boot, then a panic): 471 s here, the host shared
# with other builds (load ~10 on 2 cores). GRUB's PV image (pvgrub2: 1.5-3 min more, GRUB
# reading the disk emulated) only with XENKVM_SLOW_TESTS=1, or by hand: rig/run.sh linux-pv.
SLOW = bool(os.environ.get("XENKVM_SLOW_TESTS"))
PV_PARTS = "pv,pygrub,pvgrub2" if SLOW else "pv,pygrub"


@pytest.fixture(scope="module")
def linux_pv(rig):
    r = run_scenario("linux-pv", "--append", f"rig.pv_parts={PV_PARTS}")
    bench = re.search(r"^RIG-BENCH .*$", r.stdout, re.M)
    print(bench.group(0) if bench else "no RIG-BENCH line")
    return r


@pytest.mark.parametrize("check", ["linux-pv-boot", "linux-pv-console", "linux-pv-reboot", "linux-pv-fs",
                                   "linux-pv-link", "linux-pv-ping", "linux-pv-rx", "linux-pv-tx",
                                   "linux-pv-poweroff", "linux-pv-pygrub", "linux-pv-crash",
                                   "linux-pv-pvgrub2"])
def test_linux_pv_guest(linux_pv, check):
    """Debian's generic kernel as a 64-bit PV guest through Debian's Xen PV shim, started
    with `xenkvm create` on an xl.cfg saying type = "pv": init with hvc0 in and out, 2 vCPUs,
    xenbus, ext4 on blkfront across a reboot (restart by the daemon) with e2fsck clean,
    netfront across the bridge, poweroff; the same kernel from a disk image's grub.cfg
    through pygrub (then a panic kept as a crashed domain) and through pvgrub2."""
    if check == "linux-pv-pvgrub2" and not SLOW:
        pytest.skip("SKIPPED: pvgrub2 in the rig runs with XENKVM_SLOW_TESTS=1 (1.5-3 min more; "
                    "test_pv.py starts the shim with GRUB's PV image on this host)")
    res = results(linux_pv.stdout)
    assert res.get(check, ("missing",))[0] == "PASS", _show(linux_pv)


def test_linux_pv_scenario_exit_status(linux_pv):
    assert "RIG-DONE" in linux_pv.stdout.splitlines(), _show(linux_pv)
    assert linux_pv.returncode == 0, _show(linux_pv)
