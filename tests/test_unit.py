"""Every case of every C unit-test binary (build/tests/unit/**/test_*) as one pytest item."""
import subprocess
import pytest
from conftest import BUILD


def _cases():
    out = []
    base = BUILD / "tests" / "unit"
    if not base.is_dir():
        return out
    for exe in sorted(base.rglob("test_*")):
        if not exe.is_file() or not (exe.stat().st_mode & 0o111) or exe.suffix:
            continue
        names = subprocess.run([exe, "--list"], capture_output=True, text=True, check=True).stdout.split()
        out += [pytest.param(exe, n, id=f"{exe.name}::{n}") for n in names]
    return out


@pytest.mark.parametrize("exe,case", _cases())
def test_unit(exe, case):
    r = subprocess.run([exe, case], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
