"""System tests: boot the freestanding PVH test kernel (build/guest/xtest) under
`xenkvm run`, one test per program, and check its exit status and output.

The guest prints "ok <check>" or "FAIL <check>: <details>" per check, then
"RESULT PASS" (and powers off: exit 0) or "RESULT FAIL <n>" (and crashes:
exit 2), on its PV console (xenkvm's stdout) or, before it found the console
ring and after EVTCHNOP_reset closed its port, through console_io into the
hypervisor's log (xenkvm's stderr, "(d1) " first): both are read. Checks that fail because of a known xenkvm defect are listed in
KNOWN_DEFECTS: each becomes its own strict xfail item, so the program's test
stays meaningful for every other check and a fix is noticed at once.
"""
import functools
import re
import struct
import subprocess

import pytest

from conftest import BUILD

XENKVM = BUILD / "src" / "cli" / "xenkvm"
XTEST = BUILD / "guest" / "xtest"
# The same programs built for 32-bit protected mode: every hypercall with the
# i386 structure layouts (Xen's compat ABI), 32-bit shared_info, no vmcall
# sites and no hypercall-page note.
XTEST32 = BUILD / "guest" / "xtest32"
KERNELS = {"xtest": XTEST, "xtest32": XTEST32}
TIMEOUT = 120   # seconds; a program takes about 1 s on this emulating KVM

# xenkvm's exit status per shutdown reason (its own errors exit 1).
EXIT = {"poweroff": 0, "crash": 2, "reboot": 3, "suspend": 4, "watchdog": 5, "soft_reset": 6}

# program -> (vCPUs, lines that must appear as "ok <line>")
PROGRAMS = {
    "hello": (1, ["start_info version >= 1", "PV console ring found", "PV console ring write",
               "console_io write"]),
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
                   "EVTCHNOP_expand_array before init_control -> -EOPNOTSUPP",
                   "EVTCHNOP_set_priority on 2-level -> -ENOSYS", "EVTCHNOP_reset",
                   "loop-back works after reset", "VCPUOP_register_vcpu_info",
                   "events delivered through the moved vcpu_info",
                   "second register_vcpu_info -> -EINVAL"]),
    "timer": (1, ["pvclock monotonic over 2000 reads", "singleshot timer fired (VIRQ_TIMER)",
                  "singleshot fired no earlier than its deadline",
                  "SCHEDOP_block returned for the timer event", "periodic timer fires repeatedly",
                  "stopped periodic timer is quiet", "set_timer_op +10ms fires",
                  "set_timer_op(0) cancels", "set_timer_op far ahead fires in 100 ms",
                  "VCPUOP_register_vcpu_time_memory_area fills the area",
                  "pvclock from the time area agrees", "SCHEDOP_poll of 129 ports -> -EINVAL",
                  "SCHEDOP_poll times out", "SCHEDOP_poll returns at once for a pending masked port",
                  "SCHEDOP_poll on a quiet port ends when another event is raised"]),
    "grant": (1, ["GNTTABOP_query_size", "GNTTABOP_setup_table grows the table",
                  "grant entry written and seen through a remapped frame",
                  "GNTTABOP_copy from a granted frame", "GNTTABOP_copy gmfn to gmfn",
                  "GNTTABOP_set_version 2", "v2: reserved entries carried over, the rest cleared",
                  "v2 status frame 0 mapped with add_to_physmap",
                  "GNTTABOP_get_status_frames from HVM -> -ENOSYS",
                  "GNTTABOP_copy through a v2 grant",
                  "copy beyond a v2 sub-page grant -> GNTST_general_error",
                  "back to v1: reserved entries carried, the rest cleared"]),
    "hostile": (1, ["hypercall unused 63 -> -ENOSYS",
                    "SCHEDOP_shutdown with non-RAM gpa -> -EFAULT",
                    "SCHEDOP_shutdown with non-canonical va -> -EFAULT",
                    "send on port 4096 -> -EINVAL",
                    "setup_table nr_frames 0xffffffff -> GNTST_general_error",
                    "HVMOP_set_param index HVM_NR_PARAMS -> -EINVAL",
                    "VCPUOP_is_up on vCPU 77 -> -ENOENT",
                    "GNTTABOP_copy with non-RAM gpa -> -EFAULT",
                    "SCHEDOP_poll with non-RAM ports -> -EFAULT",
                    "add_to_physmap_batch with non-RAM gpfns -> -EFAULT",
                    "runstate area at a non-RAM address -> 0",
                    "vcpu_time area at a non-RAM address -> 0",
                    "grant status frame while at v1 -> -EINVAL",
                    "init_control gfn ~0 -> -EINVAL", "init_control offset 0xfffffff8 -> -EINVAL",
                    "sends on garbage event words are answered",
                    "decrease_reservation of non-RAM gfns: 0 done",
                    "HVM_PARAM_CALLBACK_IRQ vector 0x0f -> 0 (Xen does not check)",
                    "HVMOP_flush_tlbs with an argument -> -EINVAL",
                    "SCHEDOP_watchdog id 0xffffffff -> -EINVAL",
                    "hypervisor still answers after the hostile calls"]),
    "vmcall": (1, ["xen_version via hypercall page", "xen_version via vmcall",
                   "xen_version via vmmcall",
                   "extraversion identical via page, vmcall and vmmcall"]),
    "callback": (2, ["LAPIC software-disabled", "HVM_PARAM_CALLBACK_IRQ type vector",
                     "event pending before the callback is delivered once it is set",
                     "20 sends, 20 deliveries without an EOI",
                     "every upcall came through the callback vector",
                     "event sent with interrupts off is taken after sti",
                     "masked port pending without a callback",
                     "EVTCHNOP_unmask delivers through the callback",
                     "singleshot timer wakes sti;hlt 5 times", "LAPIC still software-disabled",
                     "vCPU 1 (LAPIC off, in sti;hlt) takes 5 IPIs through the callback",
                     "vCPU 1's upcalls all through the callback"]),
    "callback lapic": (1, ["LAPIC enabled with LVT0 masked", "20 sends, 20 deliveries without an EOI",
                           "event sent with interrupts off is taken after sti",
                           "singleshot timer wakes sti;hlt 5 times",
                           "callback vector never in the LAPIC's IRR or ISR",
                           "LVT0 reads back as written"]),
    "fifo": (1, ["expand_array before init_control -> -EOPNOTSUPP", "init_control for vCPU 99 -> -ENOENT",
                 "init_control offset crossing the page end -> -EINVAL",
                 "init_control unaligned offset -> -EINVAL", "init_control on the LAPIC page -> -EINVAL",
                 "EVTCHNOP_init_control + expand_array", "init_control answers link_bits 17",
                 "second init_control for vCPU 0 -> -EINVAL", "pending 2-level port carried to FIFO",
                 "carried event delivered on unmask", "10 sends delivered through a FIFO queue",
                 "higher priority first, FIFO within a priority",
                 "masked port pending, unlinked, no upcall", "EVTCHNOP_unmask links and delivers",
                 "host port (console) notification on FIFO", "VIRQ_TIMER on FIFO",
                 "event on a port beyond the array is pending once its page is added",
                 "close clears PENDING", "set_priority after reset -> -ENOSYS (2-level)",
                 "2-level delivery after reset"]),
    "balloon": (1, ["current_reservation is the maximum at start",
                    "decrease_reservation of 16 frames: 16 done, current_reservation down by 16",
                    "decrease stops at a frame already handed back (2 of 4 done)",
                    "decrease of frames already handed back: 0 done",
                    "XENVER_extraversion into a handed-back frame -> -EFAULT",
                    "grant frame 0 placed on a handed-back gfn, readable there, not counted",
                    "populate_physmap of 15 frames: 15 done, current_reservation up by 15",
                    "a repopulated frame reads zeros", "populate stops at a present frame (2 of 3 done)",
                    "populate of a present frame: 0 done", "order-1 decrease: 2 extents, 4 frames",
                    "extent order 10 (over the domU maximum 9): 0 done", "decrease in dom 0: 0 done",
                    "nothing changed by the bad calls", "current_reservation of dom 0 -> -EPERM",
                    "decrease from start extent 2 of 4: returns 4, 2 frames out",
                    "increase_reservation up to the maximum: 4 of 8, counted"]),
    "watchdog": (1, ["ping of watchdog 1 before any exists -> -EINVAL",
                     "watchdog id 3 (only 2 exist) -> -EINVAL", "two watchdogs created: ids 1 and 2",
                     "a third -> -ENOSPC", "pinged watchdogs do not fire (1.5 s with 1 s timeouts)",
                     "destroy watchdog 2 (timeout 0)", "ping of the destroyed watchdog -> -EINVAL",
                     "its slot is free again",
                     "destroyed watchdogs do not fire (1.5 s after their 1 s timeout)"]),
    "tlb": (2, ["HVMOP_flush_tlbs with a non-NULL argument -> -EINVAL", "HVMOP_flush_tlbs",
                "vCPU 1 reads it too", "vCPU 0 sees the new page after the flush",
                "vCPU 1 sees the new page after the flush", "every vCPU follows a second remap"]),
    "smp": (2, ["vCPU 1 runs our code", "IPI from vCPU 0 handled on vCPU 1",
                "IPI from vCPU 1 handled on vCPU 0",
                "event on a port bound to vCPU 1 lands there"]),
}

# xtest32: programs it does not have, and checks named differently there.
ONLY_64 = {"vmcall", "tlb"}   # tlb remaps a page: xtest32 runs without paging
RENAMED_32 = {
    "SCHEDOP_shutdown with non-canonical va -> -EFAULT":
        "SCHEDOP_shutdown with last page below 4 GiB -> -EFAULT",
}


# ...and checks only xtest32 makes.
EXTRA_32 = {"timer": ["SCHEDOP_poll of port 1024 (32-bit 2-level) -> -EINVAL"]}


def required(program, kernel):
    checks = PROGRAMS[program][1]
    if kernel != "xtest32":
        return checks
    return [RENAMED_32.get(c, c) for c in checks] + EXTRA_32.get(program, [])


# Checks that fail against xenkvm because xenkvm differs from Xen 4.17.
# program -> {check: reason}
KNOWN_DEFECTS = {}
# Programs whose later checks cannot run at all because of a defect above.
BLOCKED = {}


def _need_binaries():
    for f in (XENKVM, XTEST, XTEST32):
        if not f.exists():
            pytest.fail(f"{f} is missing: build first (ninja -C {BUILD})")


@functools.lru_cache(maxsize=None)
def run_guest(cmdline, vcpus=1, memory=64, kernel="xtest"):
    _need_binaries()
    args = [str(XENKVM), "run", "--kernel", str(KERNELS[kernel]), "--cmdline", cmdline,
            "--memory", str(memory), "--no-xenstore"]
    if vcpus != 1:
        args += ["--vcpus", str(vcpus)]
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        pytest.fail(f"'{cmdline}' did not finish in {TIMEOUT} s; output so far:\n{out[-3000:]}")


def lines(r, domid=1):
    """The guest's output lines: its console (stdout), then its lines in the
    hypervisor's log (stderr, "(dN) " stripped)."""
    prefix = f"(d{domid}) "
    return r.stdout.splitlines() + [l[len(prefix):] for l in r.stderr.splitlines()
                                    if l.startswith(prefix)]


def parse(r):
    """Returns (set of ok checks, {failed check: details})."""
    oks, fails = set(), {}
    for line in lines(r):
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
    for kernel in KERNELS:
        for name in PROGRAMS:
            if kernel == "xtest32" and name in ONLY_64:
                continue
            marks = [pytest.mark.xfail(strict=True, reason=BLOCKED[name])] if name in BLOCKED else []
            out.append(pytest.param(kernel, name, marks=marks,
                                    id=name if kernel == "xtest" else f"{kernel}-{name}"))
    return out


@pytest.mark.parametrize("kernel,program", _program_params())
def test_program(need_kvm, kernel, program):
    vcpus = PROGRAMS[program][0]
    r = run_guest(program, vcpus, kernel=kernel)
    oks, fails = parse(r)
    known = KNOWN_DEFECTS.get(program, {})
    unexpected = {k: v for k, v in fails.items() if k not in known}
    assert not unexpected, f"unexpected failures {unexpected}\n{describe(r)}"
    missing = [c for c in required(program, kernel) if c not in oks]
    assert not missing, f"required checks missing: {missing}\n{describe(r)}"
    if fails:
        # Only known defects failed: the guest reports them and crashes.
        assert f"RESULT FAIL {len(fails)}" in lines(r), describe(r)
        assert r.returncode == EXIT["crash"], describe(r)
    else:
        assert "RESULT PASS" in lines(r), describe(r)
        assert r.returncode == EXIT["poweroff"], describe(r)


def _defect_params():
    return [pytest.param(prog, check, marks=pytest.mark.xfail(strict=True, reason=reason),
                         id=f"{prog}: {check}")
            for prog, checks in KNOWN_DEFECTS.items() for check, reason in checks.items()]


if KNOWN_DEFECTS:   # one strict xfail per known defect, while there are any
    @pytest.mark.parametrize("program,check", _defect_params())
    def test_known_xenkvm_defect(need_kvm, program, check):
        r = run_guest(program, PROGRAMS[program][0])
        oks, fails = parse(r)
        assert check in oks, f"{check}: {fails.get(check, 'not run')}"


@pytest.mark.parametrize("kernel", list(KERNELS))
def test_hello_output(need_kvm, kernel):
    r = run_guest("hello first second", kernel=kernel)
    out = r.stdout.splitlines()   # printf: the PV console
    assert "Hello from xtest" in out, describe(r)
    assert "cmdline: 'hello first second'" in out, describe(r)
    assert "argv[2] = 'second'" in out, describe(r)
    assert "Hello from xtest via the PV console ring" in out, describe(r)
    # console_io and port 0xE9 go to the hypervisor's log, as on Xen: whole
    # lines, "(d1) " first, on stderr; never on the PV console.
    log = [l for l in r.stderr.splitlines() if l.startswith("(d1) ")]
    assert log == ["(d1) Hello from xtest via console_io", "(d1) Hello from xtest via port 0xE9",
                   "(d1) split e9 line\tend", "(d1) next line"], describe(r)
    assert "via console_io" not in r.stdout and "0xE9" not in r.stdout, describe(r)
    assert r.returncode == 0, describe(r)


@pytest.mark.parametrize("kernel", list(KERNELS))
@pytest.mark.parametrize("reason", list(EXIT))
def test_shutdown_reason(need_kvm, reason, kernel):
    r = run_guest(f"shutdown {reason}", kernel=kernel)
    assert f"shutting down: {reason}" in lines(r), describe(r)
    assert r.returncode == EXIT[reason], describe(r)


@pytest.mark.parametrize("mode", ["2l", "fifo", "callback"])
def test_event_bench_runs(need_kvm, mode):
    """bench/events.sh's program, briefly: every event of 3 x 20 round trips arrives."""
    r = run_guest(f"evbench {mode} 20")
    assert "ok every event delivered" in r.stdout.splitlines(), describe(r)
    assert any(l.startswith(f"bench mode={mode} event_cycles=") for l in r.stdout.splitlines()), describe(r)
    assert r.returncode == 0, describe(r)


def test_watchdog_expiry_shuts_down(need_kvm):
    """An unpinged 1 s SCHEDOP_watchdog ends the domain with SHUTDOWN_watchdog."""
    r = run_guest("watchdog expire")
    assert "ok SCHEDOP_watchdog create, 1 s" in r.stdout.splitlines(), describe(r)
    assert "Watchdog timer 1 fired" in r.stderr, describe(r)
    assert r.returncode == EXIT["watchdog"], describe(r)


@pytest.mark.parametrize("reason", ["reboot", "crash"])
def test_shutdown_code(need_kvm, reason):
    r = run_guest(f"shutdown code {reason}")
    assert "ok SCHEDOP_shutdown_code" in lines(r), describe(r)
    assert r.returncode == EXIT[reason], describe(r)


def test_unknown_program_crashes(need_kvm):
    r = run_guest("no-such-program")
    assert "FAIL command line: unknown program 'no-such-program'" in lines(r), describe(r)
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


def test_xtest32_image(build):
    """xtest32 is what GRUB and Mini-OS are to the loader: ELF32 for i386 with
    a PVH entry, neither a hypercall-page note nor a vmcall/vmmcall byte
    sequence anywhere (it installs its page through the MSR)."""
    if not XTEST32.exists():
        pytest.fail(f"{XTEST32} is missing: build first")
    data = XTEST32.read_bytes()
    assert data[:4] == b"\x7fELF" and data[4] == 1, "not ELF32"
    assert struct.unpack_from("<H", data, 0x12)[0] == 3, "not EM_386"
    e_phoff, = struct.unpack_from("<I", data, 0x1c)
    e_phentsize, e_phnum = struct.unpack_from("<HH", data, 0x2a)
    notes = {}
    for i in range(e_phnum):
        p_type, p_offset, _, _, p_filesz = struct.unpack_from("<IIIII", data, e_phoff + i * e_phentsize)
        if p_type != 4:
            continue
        off, end = p_offset, p_offset + p_filesz
        while off + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", data, off)
            desc_off = off + 12 + ((namesz + 3) & ~3)
            notes[ntype] = data[desc_off:desc_off + descsz]
            off = desc_off + ((descsz + 3) & ~3)
    assert 18 in notes and 2 not in notes, notes.keys()
    assert b"\x0f\x01\xc1" not in data and b"\x0f\x01\xd9" not in data


@pytest.mark.parametrize("kernel", list(KERNELS))
@pytest.mark.parametrize("insn", ["vmcall", "vmmcall"])
def test_unrewritten_hypercall_is_reported(need_kvm, kernel, insn):
    """A vmcall/vmmcall made at run time, which the loader could not rewrite:
    on this host KVM_RUN spins on it. xenkvm reports it in its log and ends the
    domain as crashed within a few seconds, instead of hanging."""
    r = run_guest("rawvmcall amd" if insn == "vmmcall" else "rawvmcall", kernel=kernel)
    assert any(l.startswith(f"rawvmcall: calling {insn} at ") for l in lines(r)), describe(r)
    # KVM patches the other vendor's instruction into its own before it spins
    # (kvm_fix_hypercall): a vmmcall may be reported as the vmcall it became.
    assert re.search(r"vcpu 0: executed vmm?call at [er]ip 0x[0-9a-f]+ \(hypercall 17\), "
                     "a hypercall instruction that was not rewritten at load", r.stderr), describe(r)
    assert r.returncode == EXIT["crash"], describe(r)
    assert not any(l.startswith("FAIL ") for l in lines(r)), describe(r)
