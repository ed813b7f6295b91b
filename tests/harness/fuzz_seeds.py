#!/usr/bin/env python3
"""Seed inputs for fuzz_blkback: well-formed requests of every kind, so the
fuzzer starts from the paths that do I/O. Refs 8.. grant data pages 0..63
(even: writable, odd: read-only); page 0 holds an indirect segment list."""
import struct
import sys
from pathlib import Path

READ, WRITE, BARRIER, FLUSH, DISCARD, INDIRECT = 0, 1, 2, 3, 5, 6


def to32(req):
    """The same request in the i386 layout (x86_32-abi): the 64-bit fields after
    the first 4 bytes move 4 bytes down; 108-byte slots."""
    return (req[:4] + req[8:112]).ljust(108, b"\0")[:108]


def rw(op, rid, sector, segs):
    seg = b"".join(struct.pack("<IBBxx", g, f, l) for g, f, l in segs)
    seg += b"\0" * (11 * 8 - len(seg))
    return struct.pack("<BBHxxxxQQ", op, len(segs), 0, rid, sector) + seg


def discard(rid, sector, n):
    return struct.pack("<BBHxxxxQQQ", DISCARD, 0, 0, rid, sector, n).ljust(112, b"\0")


def indirect(op, rid, sector, nseg, grefs):
    g = list(grefs) + [0] * (8 - len(grefs))
    return struct.pack("<BBHxxxxQQHxx8I", INDIRECT, op, nseg, rid, sector, 0, *g).ljust(112, b"\0")


def main():
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    seg_list = b"".join(struct.pack("<IBBxx", 10 + 2 * i, 0, 7) for i in range(20))
    seeds = {
        "read": [rw(READ, 1, 0, [(10, 0, 7), (12, 2, 5)])],
        "write": [rw(WRITE, 2, 8, [(9, 0, 7)])],
        "flush": [rw(FLUSH, 3, 0, [])],
        "fua": [rw(FLUSH, 4, 16, [(11, 0, 7)])],
        "barrier": [rw(BARRIER, 5, 24, [(13, 0, 7)])],
        "discard": [discard(6, 64, 64)],
        "indirect": [indirect(READ, 7, 0, 20, [9])],
        "mixed": [rw(READ, 1, 0, [(10, 0, 7)]), discard(2, 8, 8), rw(99, 3, 0, [])],
    }
    for i, (name, reqs) in enumerate(seeds.items()):
        flags = i % 3  # ring orders 0..2
        for suffix, extra, conv in (("", 0, bytes), ("-32", 128, to32)):
            body = bytes([flags | extra, len(reqs)]) + b"".join(conv(r) for r in reqs)
            if name == "indirect":
                body += seg_list
            (out / (name + suffix)).write_bytes(body)


if __name__ == "__main__":
    main()
