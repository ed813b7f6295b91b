"""Each benchmark script under bench/ runs and prints its figure beside its
peer's (a ratio), with tiny counts: this checks that the scripts and their
helper programs work, never how fast anything is (speed is not asserted in
tests; bench/run.sh measures it). The test build (sanitizers) is used, as for
every test: the scripts warn that their figures are low, which is fine here."""
import os
import re
import signal
import subprocess

import pytest
from conftest import ROOT, BUILD

RATIO = re.compile(r"ratio [0-9.]+")


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    rundir = str(tmp_path_factory.mktemp("run"))
    yield dict(os.environ, XENKVM_BUILD=str(BUILD), XENKVM_RUNDIR=rundir)
    # `xenkvm run` starts a xenkvmd in the run directory when none answers there
    # (as create does); it outlives the scripts, as xenstored would: stop it.
    from test_toolstack import pids_with
    for pid in pids_with(rundir):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass


def bench(env, *args, netns=False):
    """Runs bench/ARGS[0]; with netns, in a network namespace of its own (the
    script makes taps or bridges)."""
    cmd = [str(ROOT / "bench" / args[0]), *args[1:]]
    if netns:
        if os.geteuid() != 0:
            pytest.skip("BENCH SMOKE SKIPPED: needs root for a network namespace")
        cmd = ["unshare", "-nm", "sh", "-c",
               'mount -t sysfs sysfs /sys && ip link set lo up && exec "$0" "$@"', *cmd]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=180, env=env,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def test_startup(build, need_kvm, env):
    out = bench(env, "startup.sh", "2")
    assert len(out.splitlines()) == 2 and all(RATIO.search(l) for l in out.splitlines()), out


def test_hypercall(build, need_kvm, env):
    out = bench(env, "hypercall.sh", "20")
    assert RATIO.search(out) and "port-write stub" in out, out


def test_save(build, need_kvm, env, tmp_path):
    out = bench(env, "save.sh", str(tmp_path), "4", "1")
    assert len(RATIO.findall(out)) == 4 and "downtime" in out, out
    assert not [f for f in os.listdir(tmp_path) if f.startswith("xk-save-bench")]


def test_memory(build, need_kvm, env):
    out = bench(env, "memory.sh", netns=True)
    assert len(RATIO.findall(out)) == 2, out


def test_loader(build, need_kvm, env, tmp_path):
    # The test guest stands in for Linux: an ELF, so the floor decompresses nothing.
    rd = tmp_path / "rd"
    rd.write_bytes(os.urandom(1 << 16))
    out = bench(env, "loader.sh", str(BUILD / "guest" / "xtest"), str(rd), "1")
    assert RATIO.search(out), out


def test_blk(build, env, tmp_path):
    out = bench(env, "blk/run.sh", "1", "16", str(tmp_path), "1")
    assert len(RATIO.findall(out)) >= 4, out


def test_net(build, env):
    if not os.access("/dev/net/tun", os.W_OK):
        pytest.skip("BENCH SMOKE SKIPPED: needs /dev/net/tun")
    out = bench(env, "net/run.sh", "0.2", "1", netns=True)
    assert len(RATIO.findall(out)) == 18, out    # 6 rows, each against three floors


def test_xenstore(build, env):
    out = bench(env, "xenstore/run.sh", "1", "200")
    # Against Debian's xenstored where it runs, always against the echo floor.
    assert re.search(r"against the floor: [0-9.]+", out), out
