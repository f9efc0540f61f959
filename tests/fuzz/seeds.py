#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes seed inputs for the data-reader fuzz targets: small valid files
in each format (standard library only)."""
import gzip
import os
import struct
import sys
import zlib

out = sys.argv[1]
for d in ("idx", "cifar", "png"):
    os.makedirs(os.path.join(out, d), exist_ok=True)

idx = bytes([0, 0, 8, 3]) + struct.pack(">III", 3, 4, 5) + bytes(range(60))
open(os.path.join(out, "idx", "raw.idx"), "wb").write(idx)
open(os.path.join(out, "idx", "gz.idx.gz"), "wb").write(gzip.compress(idx))

record = bytes([3]) + bytes((i * 7) % 256 for i in range(3072))
open(os.path.join(out, "cifar", "two.bin"), "wb").write(record * 2)


def chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data +
            struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def png(width, height, color_type, channels):
    rows = b"".join(b"\0" + bytes((x * 40 + y) % 256 for x in range(width * channels))
                    for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


open(os.path.join(out, "png", "rgb.png"), "wb").write(png(4, 3, 2, 3))
open(os.path.join(out, "png", "gray.png"), "wb").write(png(5, 2, 0, 1))
open(os.path.join(out, "png", "rgba.png"), "wb").write(png(2, 2, 6, 4))
