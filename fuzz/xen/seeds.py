#!/usr/bin/env python3
"""Writes the loader target's seed images to OUTDIR (fuzz/xen/seeds/loader is
its committed output): a small PVH ELF64 and ELF32 with Xen notes and a
hypercall stub, and bzImages wrapping the ELF64 in each payload format
(gzip, xz, lz4 legacy, zstd, and lzma/bzip2, which are refused).
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


def main():
    out = sys.argv[1]
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
