#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Cross-checks sgad-bench's gflop_per_iter, which it counts from the
layers' shapes, against the matrix-product flops PyTorch's autograd runs
for the same iteration of the same model (bench/torch_reference.py counts
them with a dispatch mode): every model at every preset shape, at a small
batch and T so the whole check takes a minute or two. Exits 1 on any
disagreement. Needs /usr/bin/python3 with Debian's python3-torch.

    /usr/bin/python3 bench/flops_check.py [--bin build/release/bench/sgad-bench]"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import table  # noqa: E402

MODELS = ("sgan", "swgan", "sgad", "hybrid")
SHAPES = ("28x28x1", "32x32x3", "64x64x3")
# Both sides print 6 decimals of GFLOP (1000 flops); the decoder's
# query-key products alone are some 10^4 flops at batch 4, T 3.
TOLERANCE = 2e-6


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bin", default="build/release/bench/sgad-bench")
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--steps", type=int, default=3)
    a = p.parse_args()
    rows, bad = [], 0
    for model in MODELS:
        for shape in SHAPES:
            args = ["--model", model, "--shape", shape, "--batch", str(a.batch), "--steps",
                    str(a.steps), "--threads", "1", "--iters", "1"]
            lib = table.run([a.bin] + args)
            ref = table.run([sys.executable, os.path.join(HERE, "torch_reference.py")] + args)
            same = abs(lib["gflop_per_iter"] - ref["gflop_per_iter"]) <= TOLERANCE
            bad += not same
            rows.append({"model": model, "shape": shape,
                         "lib": lib["gflop_per_iter"], "ref": ref["gflop_per_iter"],
                         "verdict": "same" if same else "DIFFERENT"})
    print(f"GFLOP per training iteration at batch {a.batch}, T {a.steps}: sgad-bench's "
          "count against PyTorch's autograd")
    columns = (("model", "model", "{}"), ("shape", "shape", "{}"),
               ("sgad-bench", "lib", "{:.6f}"), ("torch", "ref", "{:.6f}"),
               ("", "verdict", "{}"))
    print(table.format_table(rows, columns, left=2))
    if bad:
        sys.exit(f"flops_check: {bad} of {len(rows)} counts disagree")


if __name__ == "__main__":
    main()
