"""System tests: boot the freestanding PVH test kernel (build/guest/xtest) under
`xenkvm run`, one test per program, and check its exit status and output.

The guest prints "ok <check>" or "FAIL <check>: <details>" per check, then
"RESULT PASS" (and powers off: exit 0) or "RESULT FAIL <n>" (and crashes:
exit 2). Checks that fail because of a known xenkvm defect are listed in
KNOWN_DEFECTS: each becomes its own strict xfail item, so the program's test
stays meaningful for every other check and a fix is noticed at once.
"""
import functools
import struct
import subprocess

import pytest

from conftest import BUILD

XENKVM = BUILD / "src" / "cli" / "xenkvm"
XTEST = BUILD / "guest" / "xtest"
TIMEOUT = 120   # seconds; a program takes about 1 s on this emulating KVM

# xenkvm's exit status per shutdown reason (its own errors exit 1).
EXIT = {"poweroff": 0, "crash": 2, "reboot": 3, "suspend": 4, "watchdog": 5, "soft_reset": 6}

# program -> (vCPUs, lines that must appear as "ok <line>")
PROGRAMS = {
    "hello": (1, ["start_info version >= 1", "PV console ring found", "PV console ring write"]),
    "version": (1, ["XENVER_version is 4.17", "capabilities include hvm-3.0-x86_64",
                    "feature auto_translated_physmap set", "feature hvm_callback_vector set",
                    "XENVER_pagesize is 4096", "XENVER_build_id denied to a domU (-EPERM)",
                    "memory map matches start_info's", "current_reservation matches RAM"]),
    "evtchn": (1, ["EVTCHNOP_bind_interdomain to self", "send on side 1 is delivered on side 2",
                   "send on side 2 is delivered on side 1",
                   "deliveries came through the upcall vector",
                   "masked port is set pending without an upcall",
                   "EVTCHNOP_unmask delivers the pending event", "IPI to self is delivered",
                   "bind_vcpu of an interdomain port", "peer of a closed port is unbound again",
                   "EVTCHNOP_init_control (FIFO) -> -ENOSYS", "EVTCHNOP_reset",
                   "loop-back works after reset", "VCPUOP_register_vcpu_info",
                   "events delivered through the moved vcpu_info",
                   "second register_vcpu_info -> -EINVAL"]),
    "timer": (1, ["pvclock monotonic over 2000 reads", "singleshot timer fired (VIRQ_TIMER)",
                  "singleshot fired no earlier than its deadline",
                  "SCHEDOP_block returned for the timer event", "periodic timer fires repeatedly",
                  "stopped periodic timer is quiet", "set_timer_op +10ms fires",
                  "set_timer_op(0) cancels"]),
    "grant": (1, ["GNTTABOP_query_size", "GNTTABOP_set_version 2 -> -ENOSYS (v2 disabled)",
                  "GNTTABOP_setup_table grows the table",
                  "grant entry written and seen through a remapped frame",
                  "GNTTABOP_copy from a granted frame", "GNTTABOP_copy gmfn to gmfn"]),
    "hostile": (1, ["hypercall unused 63 -> -ENOSYS",
                    "SCHEDOP_shutdown with non-RAM gpa -> -EFAULT",
                    "SCHEDOP_shutdown with non-canonical va -> -EFAULT",
                    "send on port 4096 -> -EINVAL",
                    "setup_table nr_frames 0xffffffff -> GNTST_general_error",
                    "HVMOP_set_param index HVM_NR_PARAMS -> -EINVAL",
                    "VCPUOP_is_up on vCPU 77 -> -ENOENT",
                    "hypervisor still answers after the hostile calls"]),
    "vmcall": (1, ["xen_version via hypercall page", "xen_version via vmcall",
                   "xen_version via vmmcall",
                   "extraversion identical via page, vmcall and vmmcall"]),
    "smp": (2, ["vCPU 1 runs our code", "IPI from vCPU 0 handled on vCPU 1",
                "IPI from vCPU 1 handled on vCPU 0",
                "event on a port bound to vCPU 1 lands there"]),
}

# Checks that fail against xenkvm because xenkvm differs from Xen 4.17.
# program -> {check: reason}
KNOWN_DEFECTS = {}
# Programs whose later checks cannot run at all because of a defect above.
BLOCKED = {}


def _need_binaries():
    for f in (XENKVM, XTEST):
        if not f.exists():
            pytest.fail(f"{f} is missing: build first (ninja -C {BUILD})")


@functools.lru_cache(maxsize=None)
def run_guest(cmdline, vcpus=1, memory=64):
    _need_binaries()
    args = [str(XENKVM), "run", "--kernel", str(XTEST), "--cmdline", cmdline,
            "--memory", str(memory), "--no-xenstore"]
    if vcpus != 1:
        args += ["--vcpus", str(vcpus)]
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        pytest.fail(f"'{cmdline}' did not finish in {TIMEOUT} s; output so far:\n{out[-3000:]}")


def parse(stdout):
    """Returns (set of ok checks, {failed check: details})."""
    oks, fails = set(), {}
    for line in stdout.splitlines():
        if line.startswith("ok "):
            oks.add(line[3:])
        elif line.startswith("FAIL "):
            name, _, detail = line[5:].partition(": ")
            fails[name] = detail
    return oks, fails


def describe(r):
    return f"exit {r.returncode}\n--- stdout ---\n{r.stdout[-4000:]}\n--- stderr ---\n{r.stderr[-2000:]}"


def _program_params():
    out = []
    for name in PROGRAMS:
        marks = [pytest.mark.xfail(strict=True, reason=BLOCKED[name])] if name in BLOCKED else []
        out.append(pytest.param(name, marks=marks, id=name))
    return out


@pytest.mark.parametrize("program", _program_params())
def test_program(need_kvm, program):
    vcpus, required = PROGRAMS[program]
    r = run_guest(program, vcpus)
    oks, fails = parse(r.stdout)
    known = KNOWN_DEFECTS.get(program, {})
    unexpected = {k: v for k, v in fails.items() if k not in known}
    assert not unexpected, f"unexpected failures {unexpected}\n{describe(r)}"
    missing = [c for c in required if c not in oks]
    assert not missing, f"required checks missing: {missing}\n{describe(r)}"
    if fails:
        # Only known defects failed: the guest reports them and crashes.
        assert f"RESULT FAIL {len(fails)}" in r.stdout.splitlines(), describe(r)
        assert r.returncode == EXIT["crash"], describe(r)
    else:
        assert "RESULT PASS" in r.stdout.splitlines(), describe(r)
        assert r.returncode == EXIT["poweroff"], describe(r)


def _defect_params():
    return [pytest.param(prog, check, marks=pytest.mark.xfail(strict=True, reason=reason),
                         id=f"{prog}: {check}")
            for prog, checks in KNOWN_DEFECTS.items() for check, reason in checks.items()]


if KNOWN_DEFECTS:   # one strict xfail per known defect, while there are any
    @pytest.mark.parametrize("program,check", _defect_params())
    def test_known_xenkvm_defect(need_kvm, program, check):
        r = run_guest(program, PROGRAMS[program][0])
        oks, fails = parse(r.stdout)
        assert check in oks, f"{check}: {fails.get(check, 'not run')}"


def test_hello_output(need_kvm):
    r = run_guest("hello first second")
    lines = r.stdout.splitlines()
    assert "Hello from xtest" in lines, describe(r)
    assert "cmdline: 'hello first second'" in lines, describe(r)
    assert "argv[2] = 'second'" in lines, describe(r)
    # The PV console ring's output reaches the same console.
    assert "Hello from xtest via the PV console ring" in (r.stdout + r.stderr).splitlines(), describe(r)
    assert r.returncode == 0, describe(r)


@pytest.mark.parametrize("reason", list(EXIT))
def test_shutdown_reason(need_kvm, reason):
    r = run_guest(f"shutdown {reason}")
    assert f"shutting down: {reason}" in r.stdout.splitlines(), describe(r)
    assert r.returncode == EXIT[reason], describe(r)


@pytest.mark.parametrize("reason", ["reboot", "crash"])
def test_shutdown_code(need_kvm, reason):
    r = run_guest(f"shutdown code {reason}")
    assert "ok SCHEDOP_shutdown_code" in r.stdout.splitlines(), describe(r)
    assert r.returncode == EXIT[reason], describe(r)


def test_unknown_program_crashes(need_kvm):
    r = run_guest("no-such-program")
    assert "FAIL command line: unknown program 'no-such-program'" in r.stdout.splitlines(), describe(r)
    assert r.returncode == EXIT["crash"], describe(r)


def _elf_notes(data):
    """Xen ELF notes of a little-endian ELF64 file: {type: desc bytes}."""
    assert data[:4] == b"\x7fELF" and data[4] == 2, "not ELF64"
    e_phoff, = struct.unpack_from("<Q", data, 0x20)
    e_phentsize, e_phnum = struct.unpack_from("<HH", data, 0x36)
    notes, loads = {}, []
    for i in range(e_phnum):
        p_type, _, p_offset, _, p_paddr, p_filesz = struct.unpack_from("<IIQQQQ", data, e_phoff + i * e_phentsize)
        if p_type == 1:
            loads.append(p_paddr)
        if p_type != 4:
            continue
        off, end = p_offset, p_offset + p_filesz
        while off + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", data, off)
            name = data[off + 12:off + 12 + namesz].rstrip(b"\0")
            desc_off = off + 12 + ((namesz + 3) & ~3)
            if name == b"Xen":
                notes[ntype] = data[desc_off:desc_off + descsz]
            off = desc_off + ((descsz + 3) & ~3)
    return notes, loads


def test_xtest_image(build):
    """The kernel image carries the PVH boot contract (no KVM needed)."""
    if not XTEST.exists():
        pytest.fail(f"{XTEST} is missing: build first")
    data = XTEST.read_bytes()
    assert struct.unpack_from("<H", data, 0x12)[0] == 62, "not x86-64"
    notes, loads = _elf_notes(data)
    assert 18 in notes, "no XEN_ELFNOTE_PHYS32_ENTRY"
    entry, = struct.unpack("<I", notes[18][:4])
    assert min(loads) == 0x100000 <= entry
    assert notes.get(6, b"").rstrip(b"\0") == b"xtest", "XEN_ELFNOTE_GUEST_OS"
    assert 2 in notes, "no XEN_ELFNOTE_HYPERCALL_PAGE"
    page, = struct.unpack("<Q", notes[2][:8])
    assert page % 4096 == 0 and page > 0x100000
    # Direct hypercall sites for the loader's rewriter: vmcall and vmmcall.
    assert b"\x0f\x01\xc1" in data and b"\x0f\x01\xd9" in data
