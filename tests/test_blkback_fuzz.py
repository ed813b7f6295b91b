"""A short libFuzzer run (about 20 s) of a hostile frontend's rings against the
blkback core (tests/harness/fuzz_blkback.c). Longer runs: tests/harness/fuzz.sh."""
import os
import shutil
import subprocess

import pytest
from conftest import ROOT, BUILD

SECONDS = int(os.environ.get("BLKBACK_FUZZ_SECONDS", "20"))


@pytest.mark.skipif(not shutil.which("clang-14"), reason="clang-14 (libFuzzer) not installed")
def test_blkback_fuzz_short():
    out = BUILD / "fuzz-blkback"
    r = subprocess.run([str(ROOT / "tests" / "harness" / "fuzz.sh"), str(SECONDS), str(out)],
                       capture_output=True, text=True, timeout=SECONDS * 2 + 300)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    assert "stat::number_of_executed_units" in r.stdout, r.stdout
