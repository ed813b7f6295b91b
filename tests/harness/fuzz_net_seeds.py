#!/usr/bin/env python3
"""Seed inputs for fuzz_netback: well-formed tx packets (one slot, several
slots, csum_blank, a GSO extra), posted rx requests and host frames (plain,
partial checksum, GSO), so the fuzzer starts on the paths that move data.
Grefs with bit 31 clear index the slot pages (fuzz_netback.c)."""
import struct
import sys
from pathlib import Path

MORE, EXTRA, CSUM = 4, 8, 1


def tx(gref, off, flags, rid, size):
    return struct.pack("<IHHHH", gref, off, flags, rid, size)


def gso_extra(size, typ):
    return struct.pack("<BBHBBH", 1, 0, size, typ, 0, 0) + b"\0" * 4


def rx(rid, gref):
    return struct.pack("<HHI", rid, 0, gref)


def ipv4_tcp(total):
    eth = bytes.fromhex("00163e654321 00163e123456 0800")
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, total - 14, 0, 0, 64, 6, 0,
                     bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    tcp = struct.pack(">HHIIBBHHH", 40000, 5001, 0, 0, 0x50, 0x18, 65535, 0, 0)
    body = bytes((i * 7) & 255 for i in range(total - len(eth) - len(ip) - len(tcp)))
    return eth + ip + tcp + body


def frame(vhdr, data):
    return struct.pack("<H", len(vhdr) + len(data)) + vhdr + data


def vh(flags=0, gso_type=0, hdr_len=0, gso_size=0, start=0, off=0):
    return struct.pack("<BBHHHH", flags, gso_type, hdr_len, gso_size, start, off)


def seed(flags, txs, rxs, frames, pages):
    return bytes([flags, len(txs), len(rxs)]) + b"".join(txs) + b"".join(rxs) + \
        b"".join(frames) + pages


def main():
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    pkt = ipv4_tcp(1200)
    page0 = pkt.ljust(4096, b"\0")
    rxs = [rx(i, i) for i in range(20)]
    seeds = {
        "one": seed(0, [tx(0, 0, 0, 0, 1200)], rxs[:2], [frame(vh(), pkt)], page0),
        "csum": seed(0, [tx(0, 0, CSUM, 0, 1200)], rxs[:2],
                     [frame(vh(1, 0, 0, 0, 34, 16), pkt)], page0),
        "multi": seed(0, [tx(0, 0, MORE, 0, 1200), tx(1, 0, MORE, 1, 400), tx(2, 0, 0, 2, 300)],
                      rxs[:4], [frame(vh(), ipv4_tcp(6000))], page0),
        "gso": seed(0, [tx(0, 0, CSUM | EXTRA | MORE, 0, 5000), gso_extra(1000, 1),
                        tx(2, 0, 0, 2, 3800)], rxs[:6],
                    [frame(vh(1, 1, 54, 1400, 34, 16), ipv4_tcp(9000))], page0),
        "wrap": seed(4, [tx(0, 0, 0, 0, 1200)] * 4, rxs[:8], [frame(vh(), pkt)] * 3, page0),
        "nosg": seed(8 | 16 | 32, [tx(0, 0, 0, 0, 1200)], rxs[:3],
                     [frame(vh(1, 0, 0, 0, 34, 16), pkt), frame(vh(), ipv4_tcp(6000))], page0),
    }
    for name, data in seeds.items():
        (out / name).write_bytes(data)


if __name__ == "__main__":
    main()
