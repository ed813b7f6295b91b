"""A short libFuzzer run (about 20 s) of a hostile frontend's tx/rx rings and
odd host frames against the netback core (tests/harness/fuzz_netback.c).
Longer runs: tests/harness/fuzz.sh 600 OUTDIR netback."""
import os
import shutil
import subprocess

import pytest
from conftest import ROOT, BUILD

SECONDS = int(os.environ.get("NETBACK_FUZZ_SECONDS", "20"))


@pytest.mark.skipif(not shutil.which("clang-14"), reason="clang-14 (libFuzzer) not installed")
def test_netback_fuzz_short():
    out = BUILD / "fuzz-netback"
    r = subprocess.run([str(ROOT / "tests" / "harness" / "fuzz.sh"), str(SECONDS), str(out), "netback"],
                       capture_output=True, text=True, timeout=SECONDS * 2 + 300)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    assert "stat::number_of_executed_units" in r.stdout, r.stdout
