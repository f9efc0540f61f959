#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes seed inputs for the matrix-reader fuzz target (fuzz_npy.c) into
DIR/npy: small valid .npy files of versions 1.0 and 2.0, float32 and
float64, and float IDX files (standard library only, so the header bytes
are spelled out here as numpy writes them)."""
import os
import struct
import sys

out = os.path.join(sys.argv[1], "npy")
os.makedirs(out, exist_ok=True)


def npy(major, descr, shape, values):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    fixed = 10 if major == 1 else 12
    length = len(header) + 1
    length += (64 - (fixed + length) % 64) % 64
    header = header.ljust(length - 1) + "\n"
    size = struct.pack("<H" if major == 1 else "<I", length)
    fmt = "<%d%s" % (len(values), "f" if descr == "<f4" else "d")
    return b"\x93NUMPY" + bytes([major, 0]) + size + header.encode() + struct.pack(fmt, *values)


def idx(kind, rows, cols, values):
    fmt = ">%d%s" % (len(values), "f" if kind == 0x0D else "d")
    return bytes([0, 0, kind, 2]) + struct.pack(">II", rows, cols) + struct.pack(fmt, *values)


vals = [((i * 7) % 11) / 3 - 1 for i in range(40)]
seeds = {
    "v1_f8_8x5.npy": npy(1, "<f8", "(8, 5)", vals),
    "v1_f4_5x4.npy": npy(1, "<f4", "(5, 4)", vals[:20]),
    "v2_f8_4x2.npy": npy(2, "<f8", "(4, 2)", vals[:8]),
    "idx_f4_4x3.idx": idx(0x0D, 4, 3, vals[:12]),
    "idx_f8_5x2.idx": idx(0x0E, 5, 2, vals[:10]),
}
for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
