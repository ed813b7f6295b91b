"""The 32-bit hypercall ABI's structures (src/xen/compat_abi.h, the x86_32-abi
blkif ring in src/backend/blkif_abi32.h, Debian's i386 shared_info) against
Xen's public headers compiled for i386 -- the same headers Xen generates its
compat layer from: tests/unit/xen/compat_layout32.c asserts every size and
field offset and compiles only if all of them hold. Compiled for x86-64 the
same assertions must fail, field by field: they really compare layouts."""
import re
import shutil
import subprocess

import pytest
from conftest import ROOT

PROBE = ROOT / "tests" / "unit" / "xen" / "compat_layout32.c"


def compile_probe(mode):
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        pytest.fail("no C compiler")
    return subprocess.run([cc, mode, "-D__XEN_TOOLS__", "-ffreestanding", "-Wall", "-Werror",
                           "-I", str(ROOT / "src"), "-fsyntax-only", str(PROBE)],
                          capture_output=True, text=True)


def test_compat_structures_match_i386_layout():
    r = compile_probe("-m32")
    assert r.returncode == 0, r.stderr


def test_layout_checks_fail_for_the_native_abi():
    r = compile_probe("-m64")
    assert r.returncode != 0
    failed = set(re.findall(r"static assertion failed: \"([^\"]+)\"", r.stderr))
    # Among others: the structures with guest handles, 4-byte aligned 64-bit
    # fields, the blkif ring and the 32-bit shared_info all differ.
    for want in ("struct compat_memory_reservation.nr_extents != i386 struct xen_memory_reservation.nr_extents",
                 "struct compat_gnttab_copy.dest.u.gmfn != i386 struct gnttab_copy.dest.u.gmfn",
                 "struct compat_vcpu_runstate_info.state_entry_time != i386 struct vcpu_runstate_info.state_entry_time",
                 "struct compat_sched_poll.timeout != i386 struct sched_poll.timeout",
                 "struct blkif_x86_32_request.id != i386 struct blkif_request.id",
                 "struct shared_info_x86_32.evtchn_mask != i386 struct shared_info.evtchn_mask",
                 "struct vcpu_info_x86_32.evtchn_pending_sel != i386 struct vcpu_info.evtchn_pending_sel"):
        assert want in failed, sorted(failed)
    assert len(failed) >= 40, sorted(failed)
