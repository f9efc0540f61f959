# SPDX-License-Identifier: MIT
"""The SGFX fixture layout tests/fixture.c reads, written with numpy alone
(the metrics and similarity generators need no torch): "SGFX", u32 array
count, then per array u32 name length, name, u32 ndim, ndim x i64 dims,
float32 values in C order, all little-endian."""
import struct

import numpy as np


def write(path, arrays):
    """Writes [(name, array)] to path as float32 arrays."""
    with open(path, "wb") as f:
        f.write(b"SGFX")
        f.write(struct.pack("<I", len(arrays)))
        for name, a in arrays:
            a = np.ascontiguousarray(a, dtype="<f4")
            b = name.encode()
            f.write(struct.pack("<I", len(b)))
            f.write(b)
            f.write(struct.pack("<I", a.ndim))
            for d in a.shape:
                f.write(struct.pack("<q", d))
            f.write(a.tobytes())
