"""The soak (tests/soak.py) for about a minute: domains created, consoles
read, disks (raw and qcow2) and NICs attached and detached, paused, shut down
and destroyed in rounds, xenkvmd killed with SIGKILL twice; no domain lost or
duplicated, no process, tap or xenstore node left, xenkvmd's descriptors and
resident size flat. It runs the release build (build/, which scripts/test.sh
makes beside build-asan/): the sanitizer's quarantine keeps freed memory
resident by design, so a resident size measured there grows whatever the
daemon does. Longer by hand: tests/soak.py --seconds 1800."""
import subprocess
import sys

from conftest import BUILD, ROOT


def test_soak(need_kvm):
    build = ROOT / "build"
    if not (build / "src" / "daemon" / "xenkvmd").exists():
        build = BUILD
    r = subprocess.run([sys.executable, str(ROOT / "tests" / "soak.py"), "--seconds", "60",
                        "--build", str(build)], capture_output=True, text=True, timeout=600)
    print(r.stdout)
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-3000:]
    assert "SOAK PASS" in r.stdout and "daemon_kills=2" in r.stdout
