#!/usr/bin/env python3
"""Writes a seed corpus for fuzz_dispatch (records: selector, length, bytes)
and fuzz_ring (guest moves) into the directories given."""
import os
import struct
import sys

TYPES = dict(DIRECTORY=1, READ=2, GET_PERMS=3, WATCH=4, UNWATCH=5, TRANSACTION_START=6,
             TRANSACTION_END=7, INTRODUCE=8, RELEASE=9, GET_DOMAIN_PATH=10, WRITE=11, MKDIR=12,
             RM=13, SET_PERMS=14, IS_DOMAIN_INTRODUCED=17, RESUME=18, SET_TARGET=19,
             RESET_WATCHES=21, DIRECTORY_PART=22)


def msg(t, payload, tx=0, rid=1):
    return struct.pack("<IIII", TYPES[t], rid, tx, len(payload)) + payload


def record(conn, data):
    out = b""
    while True:
        chunk, data = data[:255], data[255:]
        out += bytes([conn, len(chunk)]) + chunk
        if not data:
            return out


SCRIPTS = [
    [(0, msg("WRITE", b"/a/b\0hello")), (0, msg("READ", b"/a/b\0")), (0, msg("DIRECTORY", b"/a\0"))],
    [(0, msg("WATCH", b"/a\0tok\0")), (1, msg("WRITE", b"/a/x\0" + b"1")), (1, msg("RM", b"/a\0"))],
    [(0, msg("TRANSACTION_START", b"\0")), (0, msg("WRITE", b"/t\0v", tx=1)),
     (1, msg("WRITE", b"/t\0w")), (0, msg("TRANSACTION_END", b"T\0", tx=1))],
    [(2, msg("WRITE", b"data/x\0" + b"1")), (2, msg("READ", b"/local/domain/6\0")),
     (2, msg("WATCH", b"data\0t\0")), (0, msg("SET_PERMS", b"/local/domain/5\0n0\0b5\0"))],
    [(0, msg("INTRODUCE", b"9\0" + b"1\0" + b"2\0")), (0, msg("SET_TARGET", b"9\0" + b"5\0")),
     (0, msg("RELEASE", b"6\0")), (3, msg("READ", b"name\0"))],
    [(0, msg("MKDIR", b"/big\0"))] + [(0, msg("WRITE", b"/big/n%03d\0x" % i)) for i in range(40)] +
    [(0, msg("DIRECTORY_PART", b"/big\0" + b"0\0"))],
]


def main():
    ddir, rdir = sys.argv[1], sys.argv[2]
    os.makedirs(ddir, exist_ok=True)
    os.makedirs(rdir, exist_ok=True)
    for i, script in enumerate(SCRIPTS):
        blob = b"".join(record(c, m) for c, m in script)
        open(os.path.join(ddir, f"seed{i}"), "wb").write(blob)
        # the same requests from guest 7 through the ring, 200 bytes a move
        stream = b"".join(m for _, m in script)
        ring = b""
        for k in range(0, len(stream), 200):
            part = stream[k:k + 200]
            ring += struct.pack("<II", len(part), 0x10000 * 4) + part
        open(os.path.join(rdir, f"seed{i}"), "wb").write(ring)


main()
