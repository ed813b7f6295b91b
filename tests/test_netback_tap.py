"""netback over real tap devices: every case of netback-tap-cases
(tests/unit/net/, the netfront harness against taps, AF_PACKET sockets and a
temporary bridge) as one pytest item. Needs root and /dev/net/tun; skipped
loudly otherwise."""
import os
import subprocess

import pytest
from conftest import BUILD

EXE = BUILD / "tests" / "unit" / "net" / "netback-tap-cases"


def _skip_reason():
    if os.geteuid() != 0:
        return "netback tap tests need root (CAP_NET_ADMIN to create taps and bridges): SKIPPED"
    if not os.access("/dev/net/tun", os.R_OK | os.W_OK):
        return "/dev/net/tun is missing: netback tap tests SKIPPED"
    return None


def _cases():
    if not EXE.is_file():
        return ["missing-binary"]
    out = subprocess.run([EXE, "--list"], capture_output=True, text=True, check=True).stdout
    return out.split()


def _taps():
    return {n for n in os.listdir("/sys/class/net") if n.startswith(("xkt", "xbt"))}


@pytest.mark.parametrize("case", _cases())
def test_netback_tap(case):
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    assert EXE.is_file(), f"{EXE} not built (meson -Dtests=true)"
    before = _taps()
    r = subprocess.run([EXE, case], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert _taps() <= before, f"left behind: {_taps() - before}"
