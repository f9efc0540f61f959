#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Checks what ablation.py left in its output directory: the table has one
row per model and data set with finite, sane numbers; real images score a
smaller distance than every generator of a short run; the Fig. 4 CSV covers
every run; and the PNGs decode. Prints each failure and exits 1 if any.

  check_outputs.py OUT_DIR [--models N] [--datasets N]

The real-images check assumes the generators are far from converged, which
holds at the smoke and short budgets; give --no-floor-check for long runs.
Needs python3-pil (a dependency of python3-matplotlib) to decode the PNGs.
"""
import argparse
import csv
import json
import math
import os
import sys

from PIL import Image


class Checker:
    def __init__(self):
        self.failures = []

    def expect(self, ok, message):
        if not ok:
            self.failures.append(message)
        return ok


def number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return float("nan")


def check_table(c, out, models, datasets, floor_check):
    path = os.path.join(out, "table1.csv")
    if not c.expect(os.path.exists(path), f"{path} is missing"):
        return
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    c.expect(len(rows) == models * datasets,
             f"table1.csv has {len(rows)} rows, expected {models} models x {datasets} data sets")
    c.expect(len({(r["dataset"], r["model"]) for r in rows}) == len(rows),
             "table1.csv repeats a (dataset, model) pair")
    for r in rows:
        what = f"table1.csv {r['dataset']}/{r['model']}"
        fd, ent, top = number(r["frechet"]), number(r["entropy"]), number(r["max_entropy"])
        c.expect(math.isfinite(fd) and fd >= 0, f"{what}: Frechet distance {r['frechet']}")
        c.expect(math.isfinite(ent) and -1e-9 <= ent <= top + 1e-6,
                 f"{what}: entropy {r['entropy']} outside [0, {r['max_entropy']}]")
        c.expect(abs(top - math.log(10)) < 1e-3, f"{what}: max_entropy {top} is not ln 10")
        c.expect(0 < number(r["top_class_share"]) <= 1 + 1e-6,
                 f"{what}: top class share {r['top_class_share']}")
        c.expect(number(r["iterations"]) >= 1, f"{what}: {r['iterations']} iterations")
        c.expect(number(r["samples"]) >= 1, f"{what}: {r['samples']} samples")
    if floor_check:
        check_floor(c, out, rows)


def check_floor(c, out, rows):
    """Real training images must be closer to the test split than any
    barely-trained generator: a metric that cannot tell them apart is broken."""
    for ds in {r["dataset"] for r in rows}:
        path = os.path.join(out, "eval", f"{ds}-real-train.json")
        if not c.expect(os.path.exists(path), f"{path} is missing"):
            continue
        with open(path) as f:
            floor = json.load(f)["frechet"]
        c.expect(math.isfinite(floor) and floor >= 0, f"{path}: Frechet distance {floor}")
        for r in rows:
            if r["dataset"] == ds:
                c.expect(number(r["frechet"]) > floor,
                         f"{ds}/{r['model']}: distance {r['frechet']} is not above real "
                         f"images' {floor}")


def check_fig4(c, out, models, datasets):
    path = os.path.join(out, "fig4-gradients.csv")
    if not c.expect(os.path.exists(path), f"{path} is missing"):
        return
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    runs = {(r["dataset"], r["model"]) for r in rows}
    c.expect(len(runs) == models * datasets,
             f"fig4-gradients.csv covers {len(runs)} runs, expected {models * datasets}")
    for r in rows:
        for key in ("grad_norm_g", "grad_norm_d"):
            v = number(r[key])
            c.expect(math.isfinite(v) and v >= 0,
                     f"fig4-gradients.csv {r['dataset']}/{r['model']} window {r['window']}: "
                     f"{key} {r[key]}")


def check_png(c, path, min_side):
    if not c.expect(os.path.exists(path), f"{path} is missing"):
        return
    try:
        with Image.open(path) as im:
            im.load()  # decodes every row: a truncated file fails here
            c.expect(im.format == "PNG" and min(im.size) >= min_side,
                     f"{path}: {im.format} {im.size[0]}x{im.size[1]}")
    except (OSError, SyntaxError) as e:
        c.expect(False, f"{path} does not decode: {e}")


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out")
    p.add_argument("--models", type=int, default=4)
    p.add_argument("--datasets", type=int, default=2)
    p.add_argument("--no-floor-check", action="store_true")
    args = p.parse_args(argv)
    c = Checker()
    check_table(c, args.out, args.models, args.datasets, not args.no_floor_check)
    c.expect(os.path.exists(os.path.join(args.out, "table1.md")), "table1.md is missing")
    check_fig4(c, args.out, args.models, args.datasets)
    check_png(c, os.path.join(args.out, "fig4-gradients.png"), 200)
    check_png(c, os.path.join(args.out, "fig5-scores.png"), 100)
    check_png(c, os.path.join(args.out, "samples.png"), 200)
    for f in c.failures:
        print(f"check_outputs: {f}", file=sys.stderr)
    if c.failures:
        return 1
    print(f"check_outputs: {args.out} is complete and sane")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
