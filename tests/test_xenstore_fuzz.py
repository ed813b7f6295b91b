"""A short libFuzzer run (about 20 s a target) over the xenstore message
parser/dispatcher and the ring relay. The long run is in docs/xenstore.md."""
import os
import shutil
import subprocess

import pytest
from conftest import ROOT, BUILD

SECONDS = int(os.environ.get("XENSTORE_FUZZ_SECONDS", "20"))


@pytest.mark.skipif(not shutil.which("clang-14"), reason="clang-14 (libFuzzer) not installed")
def test_xenstore_fuzz_short():
    out = BUILD / "fuzz-xenstore"
    r = subprocess.run([str(ROOT / "fuzz" / "xenstore" / "run.sh"), str(SECONDS), str(out)],
                       capture_output=True, text=True, timeout=SECONDS * 2 + 300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("stat::number_of_executed_units") == 2, r.stdout
