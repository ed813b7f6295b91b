"""xenkvm migrate between two xenkvmd instances on this host, over real ssh
(issue 13, "Tests"): Debian's sshd on a free localhost port with a host key
and a client key the test makes (test_remote's Sshd), and two toolstacks
with their own run, state and log directories. sshd's SetEnv gives the
session the destination's directories and this build's `xenkvm` first in
PATH, so `ssh ... 127.0.0.1 xenkvm migrate-receive` reaches the second
daemon; the source's CLI runs with the first one's. Faults: a destination
that refuses the guest, and one whose xenkvmd cannot start; the source runs
on. No vif: both daemons would name taps from their own domain id sequences."""
import os
import re

import pytest
from test_migrate import rounds, runs_on_at_the_source
from test_remote import SSHD, Sshd
from test_save_devices import check_disk, going_on, loops, make_disk
from test_save_restore import go, passes, start, ticks_after
from test_toolstack import Toolstack, wait_for


class Pair:
    """Source toolstack `a`, destination `b`, and an sshd whose sessions
    run with b's directories."""
    def __init__(self):
        self.a, self.b, self.sshd = Toolstack(), Toolstack(), None
        try:
            self.sshd = Sshd(self.b)
        except BaseException:
            self.close()
            raise
        self.ssh = f"ssh -F {self.sshd.dir}/ssh_config -p {self.sshd.port}"

    def migrate(self, dom, *opts, ok=True):
        return self.a.xk("migrate", "-s", self.ssh, *opts, dom, "root@127.0.0.1", ok=ok,
                         timeout=120)

    def close(self):
        try:
            if self.sshd:
                self.sshd.close()
        finally:
            try:
                self.b.close()
            finally:
                self.a.close()


@pytest.fixture
def pair(build, need_kvm):
    if not os.path.exists(SSHD):
        pytest.skip(f"{SSHD} is absent (openssh-server, scripts/deps.sh): migration over ssh SKIPPED")
    if os.geteuid() != 0:
        pytest.skip("migration over ssh needs root (sshd's root login): SKIPPED")
    p = Pair()
    yield p
    p.close()


def test_migration_over_ssh_to_a_second_daemon(pair):
    a, b = pair.a, pair.b
    old = start(a)
    assert wait_for(lambda: ticks_after(a, "sr", 0) >= 3)
    r = pair.migrate("sr", "--debug")
    for line in ("migration target: Ready to receive domain.",
                 "migration target: Domain started successfully.",
                 "Migration successful."):
        assert line in r.stderr, r.stderr
    assert len(rounds(r.stderr)) >= 2, r.stderr
    print(r.stderr)
    # Gone from the source, running under its name at the destination.
    assert wait_for(lambda: "sr" not in a.domains() and "sr--migratedaway" not in a.domains())
    doms = b.domains()
    assert "sr" in doms and "sr--incoming" not in doms, doms
    assert doms["sr"][1][2] != "p", doms          # not paused
    assert b.daemon_pids() and a.daemon_pids() and set(b.daemon_pids()).isdisjoint(a.daemon_pids())
    log = "sr--incoming"          # the destination's console log, named as it was created
    assert wait_for(lambda: ticks_after(b, log, 0) >= 2), b.console_log(log)
    assert not b.console_log("sr"), "the destination wrote a console log under the final name"
    # The guest checks its own state at the destination, then powers off there.
    go(b)
    assert wait_for(lambda: passes(b, log) == 1), b.console_log(log)
    out = b.console_log(log)
    assert f"domid {old} -> {doms['sr'][0]}" in out and "FAIL" not in out, out
    assert wait_for(lambda: "sr" not in b.domains())
    # A guest that obeys control/shutdown: the destination's toolstack shuts it down.
    a.create("id", "idle")
    assert wait_for(lambda: a.ticks("id") >= 2), a.console_log("id")
    assert "Migration successful." in pair.migrate("id").stderr
    assert wait_for(lambda: "id" not in a.domains())
    assert "id" in b.domains()
    b.xk("shutdown", "-w", "id", timeout=60)
    assert "id" not in b.domains()
    assert re.search(r"idle: control/shutdown = poweroff", b.console_log("id--incoming")), \
        b.console_log("id--incoming")


def test_migration_over_ssh_with_a_disk_being_written(pair):
    a, b = pair.a, pair.b
    img = make_disk(a)            # the same path at both ends: one host
    a.create("sm", "blk loop", disk=[f"{img},raw,xvda,rw"])
    assert wait_for(lambda: len(loops(a.console_log("sm"))) >= 3, 60), a.console_log("sm")
    assert "Migration successful." in pair.migrate("sm").stderr
    assert wait_for(lambda: "sm" not in a.domains() and "sm--migratedaway" not in a.domains())
    assert "sm" in b.domains()
    before = loops(a.console_log("sm"))[-1]       # the source's last answered write
    check_disk(img, before)
    going_on(b, "sm--incoming", 0, before)
    b.xk("destroy", "sm")
    assert "sm" not in b.domains()


def test_destination_refusing_over_ssh_leaves_the_source_running(pair):
    a, b = pair.a, pair.b
    old = start(a)
    # Another memory size: the destination's restore refuses the guest.
    other = a.cfg("other", "saverestore", memory=64)
    r = pair.migrate("sr", "-C", other, ok=False)
    assert r.returncode != 0
    assert "64 MiB" in r.stderr, r.stderr
    assert "Migration failed, resuming at sender." in r.stderr, r.stderr
    doms = b.domains()
    assert doms == {}, doms                     # (the list past Domain-0)
    assert not [f for f in os.listdir(b.run_dir) if f.startswith("migrate-in-")]
    runs_on_at_the_source(a, old)


def test_destination_daemon_that_cannot_start_leaves_the_source_running(pair, tmp_path):
    """No xenkvmd at the far end, and migrate-receive cannot start one (its
    log directory is under a regular file): the receiver says so, `migrate`
    fails with xl's message and the guest runs on at the source."""
    a = pair.a
    old = start(a)
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    far = Toolstack()
    far.env["XENKVM_LOGDIR"] = f"{blocker}/log"
    broken = None
    try:
        broken = Sshd(far)
        r = a.xk("migrate", "-s", f"ssh -F {broken.dir}/ssh_config -p {broken.port}", "sr",
                 "root@127.0.0.1", ok=False, timeout=120)
        assert r.returncode != 0
        assert f"cannot create {blocker}/log" in r.stderr, r.stderr
        assert "migration target: Domain creation failed." in r.stderr, r.stderr
        assert "Migration failed, resuming at sender." in r.stderr, r.stderr
        assert not far.daemon_pids()
        assert not os.path.exists(far.run_dir) or not os.listdir(far.run_dir)
    finally:
        try:
            if broken:
                broken.close()
        finally:
            far.close()
    runs_on_at_the_source(a, old)
