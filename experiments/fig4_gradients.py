#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The paper's Fig. 4: the gradient norm of each model over training, from
sgad-train's train.jsonl logs, as a CSV and a PNG.

  fig4_gradients.py --csv OUT.csv --png OUT.png [--window N] DATASET:MODEL:train.jsonl ...

Each logged iteration carries grad_norm_d and grad_norm_g (the L2 norm of all
of D's or G's gradients before its optimizer step). They are averaged per
epoch when every run reached a second epoch, otherwise per window of N
iterations (default: a twentieth of the longest run), and the CSV's `unit`
column and the plot's title say which. Averages, not sums, so a partial last
window stays comparable. Needs Debian's python3-matplotlib (Agg backend).
"""
import argparse
import csv
import math
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 (after the backend is chosen)

from trainlog import read_log  # noqa: E402

NETS = [("grad_norm_g", "generator"), ("grad_norm_d", "discriminator")]


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--csv", required=True)
    p.add_argument("--png", required=True)
    p.add_argument("--window", type=int, help="iterations per point when not per epoch")
    p.add_argument("runs", nargs="+", help="DATASET:MODEL:path/to/train.jsonl")
    args = p.parse_args(argv)
    parsed = []
    for r in args.runs:
        parts = r.split(":", 2)
        if len(parts) != 3:
            p.error(f"'{r}' is not DATASET:MODEL:PATH")
        parsed.append(parts)
    args.runs = parsed
    return args


def mean(values):
    finite = [v for v in values if math.isfinite(v)]
    return sum(finite) / len(finite) if finite else float("nan")


def windows(records, by_epoch, size):
    """Groups records into (index, [records]) by epoch or by iteration window."""
    groups = {}
    for rec in records:
        key = rec["epoch"] if by_epoch else (rec["iteration"] - 1) // size
        groups.setdefault(key, []).append(rec)
    return sorted(groups.items())


def aggregate(runs, window):
    logs = [(ds, model, read_log(path)) for ds, model, path in runs]
    for ds, model, recs in logs:
        if not recs:
            sys.exit(f"fig4_gradients: the log of {ds}/{model} is empty")
    by_epoch = all(max(r["epoch"] for r in recs) >= 1 for _, _, recs in logs)
    longest = max(recs[-1]["iteration"] for _, _, recs in logs)
    size = window or max(1, math.ceil(longest / 20))
    unit = "epoch" if by_epoch else f"{size} iteration{'s' if size > 1 else ''}"
    rows = []
    for ds, model, recs in logs:
        for index, group in windows(recs, by_epoch, size):
            rows.append(dict(dataset=ds, model=model, unit=unit, window=index,
                             first_iteration=group[0]["iteration"],
                             last_iteration=group[-1]["iteration"], logged=len(group),
                             grad_norm_g=mean([g["grad_norm_g"] for g in group]),
                             grad_norm_d=mean([g["grad_norm_d"] for g in group])))
    return rows, unit, by_epoch


def write_csv(path, rows):
    fields = ["dataset", "model", "unit", "window", "first_iteration", "last_iteration",
              "logged", "grad_norm_g", "grad_norm_d"]
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        for r in rows:
            w.writerow({k: f"{v:.6g}" if isinstance(v, float) else v for k, v in r.items()})


def plot(path, rows, unit, by_epoch):
    sets = list(dict.fromkeys(r["dataset"] for r in rows))
    models = list(dict.fromkeys(r["model"] for r in rows))
    fig, axes = plt.subplots(len(sets), 2, figsize=(10, 3.4 * len(sets)), squeeze=False)
    for i, ds in enumerate(sets):
        for j, (key, net) in enumerate(NETS):
            ax = axes[i][j]
            for model in models:
                pts = [(r["window"] if by_epoch else r["last_iteration"], r[key]) for r in rows
                       if r["dataset"] == ds and r["model"] == model and math.isfinite(r[key])]
                if pts:
                    ax.plot([p[0] for p in pts], [p[1] for p in pts], marker=".", label=model)
            ax.set_title(f"{ds}: {net}")
            ax.set_xlabel("epoch" if by_epoch else f"iteration (end of each window of {unit})")
            ax.set_ylabel("mean gradient L2 norm")
            if all(r[key] > 0 for r in rows if r["dataset"] == ds and math.isfinite(r[key])):
                ax.set_yscale("log")
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=8)
    how = "per epoch" if by_epoch else f"per {unit} (the runs are shorter than two epochs)"
    fig.suptitle(f"Gradient norm before each optimizer step, mean {how}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main(argv):
    args = parse_args(argv)
    rows, unit, by_epoch = aggregate(args.runs, args.window)
    write_csv(args.csv, rows)
    plot(args.png, rows, unit, by_epoch)
    print(f"fig4_gradients: {len(rows)} points ({unit}) in {args.csv} and {args.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
