"""Short libFuzzer runs (FUZZ_SECONDS each, 15 by default) of the targets at
the hypercall boundary: the hypercall dispatcher over a domain without KVM,
event channels, grant tables and the kernel loader (fuzz/xen/, run by
fuzz/xen/run.sh from the clang fuzz build). The long runs and their figures
are in docs/fuzzing.md."""
import os
import shutil
import subprocess

import pytest
from conftest import ROOT

SECONDS = int(os.environ.get("FUZZ_SECONDS", "15"))
HAVE_CLANG = shutil.which("clang-14") is not None


@pytest.mark.skipif(not HAVE_CLANG, reason="clang-14 (libFuzzer) not installed (scripts/deps.sh installs it): fuzz runs SKIPPED")
@pytest.mark.parametrize("target", ["hypercall", "evtchn", "gnttab", "loader"])
def test_fuzz_short(target):
    r = subprocess.run([str(ROOT / "fuzz" / "xen" / "run.sh"), target, f"-max_total_time={SECONDS}"],
                       capture_output=True, text=True, timeout=SECONDS * 4 + 600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-6000:]
    runs = [l for l in r.stderr.splitlines() if l.startswith("stat::number_of_executed_units")]
    assert runs and int(runs[0].split()[-1]) > 1000, r.stderr[-3000:]
