"""`xenkvm run`: arguments and malformed kernel images get a clear one-line error
and exit status 1, never a crash; good images boot."""
import os
import struct
import subprocess
import pytest
from conftest import BUILD


def xenkvm(*args, timeout=60, stdin=subprocess.DEVNULL):
    return subprocess.run([str(BUILD / "src/cli/xenkvm"), *args], capture_output=True,
                          text=True, timeout=timeout, stdin=stdin)


def xtest():
    return str(BUILD / "guest/xtest")


def test_help_lists_exit_statuses(build):
    r = xenkvm("run", "--help")
    assert r.returncode == 0
    assert "0 poweroff" in r.stdout and "2 crash" in r.stdout


def test_unknown_command(build):
    r = xenkvm("frobnicate")
    assert r.returncode == 1
    assert "unknown command 'frobnicate'" in r.stderr


@pytest.mark.parametrize("args,msg", [
    ([], "--kernel is required"),
    (["--kernel", "x", "--memory", "lots"], "--memory: 'lots' is not a number"),
    (["--kernel", "x", "--memory", "1"], "--memory: '1' is not a number in 2.."),
    (["--kernel", "x", "--vcpus", "0"], "--vcpus: '0' is not a number in 1..32"),
    (["--kernel", "x", "--vcpus", "33"], "--vcpus: '33'"),
    (["--kernel", "x", "extra"], "unexpected argument 'extra'"),
])
def test_bad_arguments(build, args, msg):
    r = xenkvm("run", *args)
    assert r.returncode == 1, r.stderr
    assert msg in r.stderr
    assert "AddressSanitizer" not in r.stderr


def elf64(notes=True, phoff=64, phnum=2, seg_size=16, paddr=0x100000, truncate=None, machine=62):
    """A minimal ELF64 executable: one PT_LOAD and (optionally) a PT_NOTE with the PVH entry."""
    seg = b"\xf4" * seg_size
    desc = struct.pack("<I", paddr)
    note = struct.pack("<III", 4, len(desc), 18) + b"Xen\0" + desc          # XEN_ELFNOTE_PHYS32_ENTRY
    note += struct.pack("<III", 4, 8, 2) + b"Xen\0" + struct.pack("<Q", paddr)  # HYPERCALL_PAGE
    data_off = 64 + 56 * 2
    ph_load = struct.pack("<IIQQQQQQ", 1, 5, data_off, paddr, paddr, len(seg), len(seg), 0x1000)
    ph_note = struct.pack("<IIQQQQQQ", 4, 4, data_off + len(seg), 0, 0, len(note), len(note), 4)
    hdr = b"\x7fELF" + bytes([2, 1, 1]) + b"\0" * 9
    hdr += struct.pack("<HHIQQQIHHHHHH", 2, machine, 1, paddr, phoff, 0, 0, 64, 56, phnum, 64, 0, 0)
    img = hdr + ph_load + (ph_note if notes else b"\0" * 56) + seg + (note if notes else b"")
    return img[:truncate] if truncate else img


@pytest.mark.parametrize("name,content,msg", [
    ("empty", b"", "kernel"),
    ("garbage", os.urandom(4096), "kernel"),
    ("truncated-header", elf64()[:40], "kernel"),
    ("truncated-segments", elf64(truncate=64 + 56 * 2 + 4), "kernel"),
    ("no-pvh-note", elf64(notes=False, phnum=1), "PHYS32_ENTRY"),
    ("phoff-beyond-file", elf64(phoff=1 << 40), "kernel"),
    ("huge-phnum", elf64(phnum=0xffff), "kernel"),
    ("segment-outside-ram", elf64(paddr=0xf0000000), "kernel"),
    ("aarch64-machine", elf64(machine=183), "e_machine = 183, expected EM_X86_64 (62) or EM_386 (3)"),
    ("bad-bzimage", b"\0" * 0x1f1 + b"\x10" + b"\0" * 0x10 + b"HdrS" + struct.pack("<H", 0x20f)
     + b"\0" * 0x1000, "kernel"),
])
def test_malformed_images(build, need_kvm, tmp_path, name, content, msg):
    k = tmp_path / name
    k.write_bytes(content)
    r = xenkvm("run", "--kernel", str(k))
    assert r.returncode == 1, r.stdout + r.stderr
    assert msg in r.stderr
    assert str(k) in r.stderr        # the message names the file
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "Sanitizer" not in r.stderr


def test_missing_kernel_file(build, need_kvm, tmp_path):
    r = xenkvm("run", "--kernel", str(tmp_path / "nope"))
    assert r.returncode == 1
    assert "No such file" in r.stderr


def test_kernel_is_a_directory(build, need_kvm, tmp_path):
    r = xenkvm("run", "--kernel", str(tmp_path))
    assert r.returncode == 1
    assert "not a regular file" in r.stderr


def test_command_line_too_long(build, need_kvm):
    r = xenkvm("run", "--kernel", xtest(), "--cmdline", "x" * 5000)
    assert r.returncode == 1
    assert "command line: 5000 bytes is longer than" in r.stderr


def test_ramdisk_too_big_for_memory(build, need_kvm, tmp_path):
    rd = tmp_path / "rd"
    rd.write_bytes(b"\0" * (40 << 20))
    r = xenkvm("run", "--kernel", xtest(), "--memory", "16", "--ramdisk", str(rd))
    assert r.returncode == 1
    assert "do not fit in guest RAM" in r.stderr


def fnv1a(data):
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) & 0xffffffff
    return h


def test_hello_boots_with_ramdisk_and_more_memory(build, need_kvm, tmp_path):
    rd = tmp_path / "rd"
    data = os.urandom(60000) + b"RAMDISK!" * 512 + b"tail"   # pages and a ragged end
    rd.write_bytes(data)
    r = xenkvm("run", "--kernel", xtest(), "--memory", "256", "--ramdisk", str(rd),
               "--cmdline", "hello", "--no-xenstore")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Hello from xtest" in r.stdout
    assert "nr_modules 1" in r.stdout
    # The guest sees the file's bytes, every one (the loader writes them through the memfd).
    assert f"module 0: {len(data)} bytes" in r.stdout, r.stdout
    assert f"fnv1a {fnv1a(data):#x}" in r.stdout, r.stdout


def test_stats_at_exit(build, need_kvm):
    """--stats: exits by reason and port, hypercalls by name, printed when the domain ends."""
    r = xenkvm("run", "--kernel", xtest(), "--cmdline", "hello", "--no-xenstore", "--stats")
    assert r.returncode == 0, r.stderr
    stats = [l for l in r.stderr.splitlines() if l.startswith("xenkvm: stats: ")]
    assert len(stats) == 3, r.stderr
    exits, ports, hcalls = stats
    n_exits = int(exits.split("stats: ")[1].split()[0])
    n_hc = int(hcalls.split("stats: ")[1].split()[0])
    # every hypercall is a write to port 0x5e; hello also writes its lines to port 0xE9
    hc = dict((k, int(v)) for k, v in (p.rsplit(" ", 1) for p in hcalls.rsplit(": ", 1)[1].split(", ")))
    assert hc["console_io"] >= 3 and sum(hc.values()) == n_hc, hcalls
    io = dict((k, int(v)) for k, v in (p.rsplit(" ", 1) for p in ports.rsplit(": ", 1)[1].split(", ")))
    assert io["0x5e out"] == n_hc and io["0xe9 out"] > 0, ports
    assert f"io {sum(io.values())}" in exits and n_exits >= n_hc, exits
    assert "wrmsr 1" in exits, exits          # the hypercall page, installed once


def test_cpuid_cache(build, need_kvm, tmp_path):
    """KVM's supported CPUID is cached in the run directory; a cache for another
    boot or KVM (another key) or a damaged one is ignored and rewritten."""
    env = dict(os.environ, XENKVM_RUNDIR=str(tmp_path))
    run = lambda: subprocess.run([str(BUILD / "src/cli/xenkvm"), "run", "--kernel", xtest(),
                                  "--cmdline", "version", "--no-xenstore"], capture_output=True,
                                 text=True, timeout=60, env=env, stdin=subprocess.DEVNULL)
    cpu = lambda r: [l for l in r.stdout.splitlines() if "guest handle" not in l]
    r = run()
    assert r.returncode == 0, r.stderr
    cache = tmp_path / "kvm-cpuid"
    first = cache.read_bytes()
    assert first.startswith(b"xkcpuid1")
    out1 = cpu(r)
    r = run()                               # from the cache: the guest sees the same CPU
    assert r.returncode == 0 and cpu(r) == out1, r.stdout + r.stderr
    cache.write_bytes(b"xkcpuid1" + b"another-boot".ljust(160, b"\0") + first[168:])
    r = run()
    assert r.returncode == 0 and cpu(r) == out1, r.stderr
    # Rewritten with this boot's key. (Not byte for byte: KVM answers leaf 1
    # with the APIC id of the host CPU the query ran on; xenkvm sets its own.)
    rewritten = lambda: cache.read_bytes()[:172] == first[:172] and len(cache.read_bytes()) == len(first)
    assert rewritten()
    cache.write_bytes(first[:200])          # cut short
    r = run()
    assert r.returncode == 0 and cpu(r) == out1, r.stderr
    assert rewritten()
