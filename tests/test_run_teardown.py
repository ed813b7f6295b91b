"""Nothing stale after a domain ends, however it ends (issue 16, part 2).

* `xenkvm run` stopped by SIGTERM, SIGINT or SIGHUP tears down as on a
  poweroff: its xenstore tree, /vm entry, backend directories and tap go.
* A normal teardown leaves no empty backend/vbd/N or backend/vif/N behind.
* A process killed with SIGKILL leaves its nodes; the next domain with the
  same id (a direct `xenkvm run`, or one the registry starts) finds none of
  them: the daemon scrubs the id first. A live domain's id is refused.
* `xenkvm run` with no xenkvmd starts it, as `xenkvm create` does; with
  --no-xenstore the guest is told there is no store as Xen does
  (HVM_PARAM_STORE_PFN 0), so it never waits on a ring nobody serves.

Each test has its own run/log directories (test_toolstack.Toolstack): the
daemon the domain process starts lives there and is stopped at the end."""
import os
import queue
import signal
import subprocess
import threading
import time

import pytest

from test_toolstack import Toolstack, alive, wait_for, ts  # noqa: F401  (ts: the fixture)
from test_toolstack_devices import bridge, link  # noqa: F401  (bridge: the fixture)

from conftest import BUILD

XENKVM = BUILD / "src" / "cli" / "xenkvm"
XTEST = BUILD / "guest" / "xtest"
BACKEND = "/local/domain/0/backend"


class Run:
    """`xenkvm run` of xtest in the toolstack's directories, its output kept."""

    def __init__(self, ts, domid, program="idle", *args, name=None):
        self.ts, self.domid = ts, domid
        argv = [str(XENKVM), "run", "--kernel", str(XTEST), "--cmdline", program,
                "--domid", str(domid), "--memory", "32", *args]
        if name:
            argv += ["--name", name]
        self.proc = subprocess.Popen(argv, env=ts.env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.out, self.err, self.lines = [], [], queue.Queue()
        for stream, keep in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            threading.Thread(target=self._read, args=(stream, keep), daemon=True).start()

    def _read(self, stream, keep):
        for line in iter(stream.readline, ""):
            keep.append(line.rstrip("\n"))
            self.lines.put(line.rstrip("\n"))

    def text(self):
        return "\n".join(self.out[-40:]) + "\n--- stderr ---\n" + "\n".join(self.err[-40:])

    def wait_line(self, want, timeout=60):
        end = time.time() + timeout
        while time.time() < end:
            if any(want in l for l in self.out):
                return True
            if self.proc.poll() is not None:
                time.sleep(0.2)       # the readers catch up
                return any(want in l for l in self.out)
            time.sleep(0.05)
        return False

    def wait(self, timeout=60):
        rc = self.proc.wait(timeout=timeout)
        time.sleep(0.1)
        assert not any("Sanitizer" in l for l in self.err), self.text()
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)


def image(ts, name="disk.raw"):
    p = os.path.join(ts.dir, name)
    with open(p, "wb") as f:
        f.truncate(4 << 20)
    return p


def xs_dir(ts, path):
    r = subprocess.run(["xenstore-list", path], env=ts.env, capture_output=True, text=True,
                       timeout=10)
    return r.stdout.split() if r.returncode == 0 else None


def assert_nothing_left(ts, domid, vm, tap=None):
    assert ts.xs_read(f"/local/domain/{domid}/name") is None
    assert xs_dir(ts, f"/local/domain/{domid}") is None
    assert xs_dir(ts, vm) is None, vm
    for kind in ("vbd", "vif"):
        assert xs_dir(ts, f"{BACKEND}/{kind}/{domid}") is None, kind
        # libxl removes the parents a device leaves empty
        assert xs_dir(ts, f"{BACKEND}/{kind}") is None, kind
    if tap:
        assert link(tap) is None, tap


def start_with_devices(ts, domid, br):
    dom = Run(ts, domid, "idle", "--disk", f"{image(ts)},raw,xvda,rw", "--vif", f"bridge={br}")
    assert dom.wait_line("idle: tick 1"), dom.text()
    assert dom.wait_line("watching control/shutdown", 1), dom.text()
    for kind, dev in (("vbd", 51712), ("vif", 0)):
        assert wait_for(lambda: ts.xs_read(f"{BACKEND}/{kind}/{domid}/{dev}/state") == "2", 10)
    assert link(f"vif{domid}.0") is not None
    return dom, ts.xs_read(f"/local/domain/{domid}/vm")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP],
                         ids=["SIGTERM", "SIGINT", "SIGHUP"])
def test_stop_signal_tears_down(ts, need_kvm, bridge, sig):
    dom, vm = start_with_devices(ts, 41, bridge)
    try:
        dom.proc.send_signal(sig)
        assert dom.wait(30) == 128 + sig, dom.text()
        assert any(f"stopped by {sig.name[3:]}" in l for l in dom.err), dom.text()
        assert_nothing_left(ts, 41, vm, "vif41.0")
    finally:
        dom.kill()


def test_poweroff_leaves_no_empty_backend_dirs(ts, need_kvm, bridge):
    dom, vm = start_with_devices(ts, 42, bridge)
    try:
        subprocess.run(["xenstore-write", "/local/domain/42/control/shutdown", "poweroff"],
                       env=ts.env, check=True, timeout=10)
        assert dom.wait(30) == 0, dom.text()
        assert_nothing_left(ts, 42, vm, "vif42.0")
    finally:
        dom.kill()


def test_killed_domain_leaves_nothing_to_the_next(ts, need_kvm):
    a = Run(ts, 43, "idle", "--disk", f"{image(ts)},raw,xvda,rw", name="first")
    b = c = None
    try:
        assert a.wait_line("idle: tick 1"), a.text()
        vm_a = ts.xs_read("/local/domain/43/vm")
        # The id is in use: a second domain with it is refused, the first untouched.
        b = Run(ts, 43, "idle", name="intruder")
        assert b.wait(30) == 1, b.text()
        assert any("domain id 43 is in use" in l for l in b.err), b.text()
        assert ts.xs_read("/local/domain/43/name") == "first"
        assert a.proc.poll() is None
        # SIGKILL: nothing of the process's teardown runs; its nodes stay.
        a.kill()
        assert ts.xs_read(f"{BACKEND}/vbd/43/51712/state") == "2"
        assert xs_dir(ts, "/local/domain/43/device/vbd") == ["51712"]
        # The next domain with the id inherits none of them.
        c = Run(ts, 43, "idle", name="second")
        assert c.wait_line("idle: running, watching control/shutdown"), c.text()
        assert ts.xs_read("/local/domain/43/name") == "second"
        assert "vbd" not in xs_dir(ts, "/local/domain/43/device")
        assert xs_dir(ts, f"{BACKEND}/vbd/43") is None
        assert xs_dir(ts, vm_a) is None
        subprocess.run(["xenstore-write", "/local/domain/43/control/shutdown", "poweroff"],
                       env=ts.env, check=True, timeout=10)
        assert c.wait(30) == 0, c.text()
    finally:
        for d in (a, b, c):
            if d:
                d.kill()


def test_registry_scrubs_a_killed_domain(ts, need_kvm):
    img = image(ts)
    ts.create("k1", "idle", disk=[f"{img},raw,xvda,rw"])
    domid = ts.domains()["k1"][0]
    assert wait_for(lambda: ts.xs_read(f"{BACKEND}/vbd/{domid}/51712/state") == "2", 10)
    vm = ts.xs_read(f"/local/domain/{domid}/vm")
    pid = [d for d in ts.info() if d["domid"] == domid][0]["xenkvm"]["pid"]
    os.kill(pid, signal.SIGKILL)
    assert wait_for(lambda: not alive(pid), 5)
    assert wait_for(lambda: "k1" not in ts.domains(), 10)       # on_crash: destroy
    assert_nothing_left(ts, domid, vm)


def test_run_starts_the_daemon(ts, need_kvm):
    assert not ts.daemon_pids()
    dom = Run(ts, 44, "idle")
    try:
        # The guest's xenbus works: its watch on control/shutdown is set.
        assert dom.wait_line("idle: running, watching control/shutdown"), dom.text()
        assert ts.daemon_pids(), "no xenkvmd in " + ts.run_dir
        subprocess.run(["xenstore-write", "/local/domain/44/control/shutdown", "poweroff"],
                       env=ts.env, check=True, timeout=10)
        assert dom.wait(30) == 0, dom.text()
        assert ts.xs_read("/local/domain/44/name") is None
    finally:
        dom.kill()


def test_no_xenstore_tells_the_guest(ts, need_kvm):
    dom = Run(ts, 45, "xenstore", "--no-xenstore")
    try:
        dom.wait(60)
        # The store params are 0, as on Xen for a domain without a store: the
        # guest learns it at once instead of waiting for replies.
        assert "FAIL xenstore ring and port from the HVM params: -ENXIO" in dom.out, dom.text()
        assert not ts.daemon_pids()
    finally:
        dom.kill()


def test_sigusr2_dumps_state_and_goes_on(ts, need_kvm):
    """SIGUSR2 is not a stop: each vCPU's state (events, timers, clock) goes to
    stderr, then its registers, and the guest runs on (the rig sends it to a
    guest that stalled before killing it: docs/rig.md)."""
    dom = Run(ts, 44, "idle", "--vcpus", "2", "--no-xenstore")
    try:
        assert dom.wait_line("idle: tick 1"), dom.text()
        dom.proc.send_signal(signal.SIGUSR2)
        want = ["dump: vcpu 0 (thread", "dump: vcpu 1 (thread", "debug: vcpu 0: mp_state"]
        assert wait_for(lambda: all(any(w in l for l in dom.err) for w in want), 10), dom.text()
        v0 = next(l for l in dom.err if "dump: vcpu 0 (thread" in l)
        v1 = next(l for l in dom.err if "dump: vcpu 1 (thread" in l)
        assert " up 1 " in v0 and " up 0 " in v1, (v0, v1)   # idle runs on vCPU 0 only
        assert "singleshot" in v0 and "pvclock" in v0 and "tsc offset" in v0, v0
        ticks = sum("idle: tick" in l for l in dom.out)
        assert wait_for(lambda: sum("idle: tick" in l for l in dom.out) > ticks, 10), dom.text()
        assert dom.proc.poll() is None, dom.text()
    finally:
        dom.kill()
