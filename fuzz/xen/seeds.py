#!/usr/bin/env python3
"""Writes the seed inputs (fuzz/xen/seeds/ is its committed output):
 loader/: a small PVH ELF64 and ELF32 with Xen notes and a hypercall stub,
   and bzImages wrapping the ELF64 in each payload format (gzip, xz, lz4
   legacy, zstd, and lzma/bzip2, which are refused);
 hypercall/: the set-up a guest does (shared_info placed, FIFO event
   channels, grant table v1/v2 frames, vcpu_info registered, a few ports)
   in fuzz_hypercall.c's record format, from 64-bit and 32-bit callers.
usage: fuzz/xen/seeds.py OUTDIR"""
import gzip
import lzma
import os
import struct
import subprocess
import sys

ENTRY = 0x100000


def note(ntype, desc):
    name = b"Xen\0"
    pad = lambda b: b + b"\0" * (-len(b) % 4)
    return struct.pack("<III", len(name), len(desc), ntype) + pad(name) + pad(desc)


def code():
    # A 16-byte aligned Xen hypercall stub (vmcall; ret) after int3 filler,
    # the shape the rewriter accepts, and a KVM-style one it leaves alone.
    c = b"\xcc" * 16 + b"\x0f\x01\xc1\xc3" + b"\xcc" * 12
    c += b"\xb8\x01\x00\x00\x00\x0f\x01\xc1\x5b\xc3"
    return c + b"\x90" * (-len(c) % 16)


def elf(is64):
    notes = (note(18, struct.pack("<I", ENTRY)) + note(6, b"linux\0\0\0") +
             note(2, struct.pack("<Q" if is64 else "<I", 0xffffffff81001000 if is64 else ENTRY + 0x1000)))
    text = code()
    ehsize, phsize = (64, 56) if is64 else (52, 32)
    noff = ehsize + 2 * phsize
    toff = (noff + len(notes) + 15) & ~15
    if is64:
        eh = struct.pack("<4sBBBBB7xHHIQQQIHHHHHH", b"\x7fELF", 2, 1, 1, 0, 0, 2, 62, 1, ENTRY,
                         ehsize, 0, 0, ehsize, phsize, 2, 64, 0, 0)
        ph = struct.pack("<IIQQQQQQ", 1, 5, toff, 0xffffffff81000000, ENTRY, len(text), len(text) + 64, 16)
        ph += struct.pack("<IIQQQQQQ", 4, 4, noff, 0, 0, len(notes), len(notes), 4)
    else:
        eh = struct.pack("<4sBBBBB7xHHIIIIIHHHHHH", b"\x7fELF", 1, 1, 1, 0, 0, 2, 3, 1, ENTRY,
                         ehsize, 0, 0, ehsize, phsize, 2, 40, 0, 0)
        ph = struct.pack("<IIIIIIII", 1, toff, ENTRY, ENTRY, len(text), len(text) + 64, 5, 16)
        ph += struct.pack("<IIIIIIII", 4, noff, 0, 0, len(notes), len(notes), 4, 4)
    img = eh + ph + notes
    return img + b"\0" * (toff - len(img)) + text


def tool(args, data):
    return subprocess.run(args, input=data, capture_output=True, check=True).stdout


def bzimage(payload):
    setup_sects = 1
    img = bytearray((setup_sects + 1) * 512)
    img[0x1f1] = setup_sects
    img[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", img, 0x206, 0x20f)
    struct.pack_into("<II", img, 0x248, 16, len(payload))
    return bytes(img) + b"\0" * 16 + payload


# ---- fuzz_hypercall.c records ----
HANDLED = [17, 12, 34, 24, 15, 29, 32, 20, 18]   # its handled[] order
DOMID_SELF = 0x7ff0
ARG = 0x10000          # where the seeds put hypercall arguments in guest RAM


def arg(v):
    if v < 0x100:
        return bytes([0]) + struct.pack("<B", v)
    if v < 0x10000:
        return bytes([1]) + struct.pack("<H", v)
    if v < 0x100000000:
        return bytes([2]) + struct.pack("<I", v)
    return bytes([3]) + struct.pack("<Q", v)


def write(gpa, data):
    out = b""
    while data:
        chunk, data = data[:128], data[128:]
        out += bytes([0]) + struct.pack("<IB", gpa, len(chunk)) + chunk
        gpa += len(chunk)
    return out


def hcall(nr, *args, compat=False, vcpu=0):
    args = list(args) + [0] * (5 - len(args))
    return bytes([4 if compat else 2, HANDLED.index(nr), vcpu]) + b"".join(arg(a) for a in args)


def call_with(nr, cmd, struct_bytes, compat=False, count=None, vcpu=0):
    """A hypercall whose argument structure the guest wrote at ARG first."""
    extra = [count] if count is not None else []
    if nr == 24:   # vcpu_op(cmd, vcpu, arg)
        return write(ARG, struct_bytes) + hcall(nr, cmd, vcpu, ARG, compat=compat, vcpu=vcpu)
    return write(ARG, struct_bytes) + hcall(nr, cmd, ARG, *extra, compat=compat, vcpu=vcpu)


def physmap(space, idx, gfn, compat):
    st = (struct.pack("<HHIII", DOMID_SELF, 0, space, idx, gfn) if compat
          else struct.pack("<HHIQQ", DOMID_SELF, 0, space, idx, gfn))
    return call_with(12, 7, st, compat)


def guest_setup(compat, fifo, gnt_v2):
    r = b""
    r += hcall(17, 0, compat=compat)                                    # xen_version
    r += physmap(0, 0, 0x30, compat)                                    # shared_info at gfn 0x30
    r += call_with(34, 0, struct.pack("<H2xIQ", DOMID_SELF, 0, (2 << 56) | 0xf3), compat)  # CALLBACK_IRQ vector
    r += call_with(24, 10, struct.pack("<QII", 0x35, 0x40, 0), compat)  # register_vcpu_info
    if fifo:
        r += call_with(32, 11, struct.pack("<QIIQ", 0x31, 0, 0, 0), compat)   # init_control
        r += call_with(32, 12, struct.pack("<Q", 0x32), compat)               # expand_array
    r += call_with(32, 6, struct.pack("<HHI", DOMID_SELF, 0, 0), compat)      # alloc_unbound (to dom0)
    r += call_with(32, 7, struct.pack("<II", 0, 0), compat)                   # bind_ipi
    r += call_with(32, 1, struct.pack("<III", 0, 0, 0), compat)               # bind_virq TIMER
    r += call_with(32, 4, struct.pack("<I", 2), compat)                       # send
    r += bytes([5, 0, 0])                                                     # a VIRQ_TIMER
    if gnt_v2:
        r += call_with(20, 8, struct.pack("<I", 2), compat, count=1)          # set_version 2
    r += physmap(1, 0, 0x33, compat)                                          # grant frame 0
    if gnt_v2:
        r += physmap(1, 0x80000000, 0x34, compat)                             # status frame 0
        r += write(0x33000 + 16 * 9, struct.pack("<HHIQ", 0x1 | 0x8, 7, 0, 0x36))  # v2 entry 9: full page
    else:
        r += write(0x33000 + 8 * 9, struct.pack("<HHI", 0x1, 7, 0x36))       # v1 entry 9 to self
    ptr = "<IHH" if compat else "<QHH4x"      # gnttab_copy_ptr: xen_pfn_t is 32-bit in compat
    copy = (struct.pack(ptr, 9, DOMID_SELF, 0) + struct.pack(ptr, 0x37, DOMID_SELF, 0) +
            struct.pack("<HHh", 64, 1, 0))         # 64 bytes from gref 9 (GNTCOPY_source_gref)
    r += call_with(20, 5, copy + b"\0" * (-len(copy) % 8), compat, count=1)    # GNTTABOP_copy
    r += hcall(15, 0, compat=compat)                                          # set_timer_op
    r += call_with(29, 0, b"", compat)                                        # sched_op yield
    r += write(ARG + 0x100, b"hello from the fuzz seed\n") + hcall(18, 0, 25, ARG + 0x100, compat=compat)
    return r


def main():
    out = sys.argv[1]
    hc = os.path.join(out, "hypercall")
    os.makedirs(hc, exist_ok=True)
    for compat in (False, True):
        for fifo in (False, True):
            for v2 in (False, True):
                name = "%s-%s-gnt%d" % ("compat" if compat else "64", "fifo" if fifo else "2l", 2 if v2 else 1)
                head = bytes([0x81 | (0x10 if compat else 0)])   # 2 vCPUs, store page, paged 32-bit
                with open(os.path.join(hc, name), "wb") as f:
                    f.write(head + guest_setup(compat, fifo, v2))
    out = os.path.join(out, "loader")
    os.makedirs(out, exist_ok=True)
    e64 = elf(True)
    size = struct.pack("<I", len(e64))       # Linux appends the vmlinux's size
    seeds = {"elf64": e64, "elf32": elf(False),
             "bz-gzip": bzimage(gzip.compress(e64, mtime=0)),
             "bz-xz": bzimage(lzma.compress(e64, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32) + size),
             "bz-lzma": bzimage(lzma.compress(e64, format=lzma.FORMAT_ALONE) + size),
             "bz-lz4": bzimage(tool(["lz4", "-l", "-c"], e64) + size),
             "bz-zstd": bzimage(tool(["zstd", "-q", "-c"], e64) + size),
             "bz-bzip2": bzimage(tool(["bzip2", "-c"], e64) + size)}
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
