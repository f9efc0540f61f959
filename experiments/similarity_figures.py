#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The SGAD paper's Figs. 7 and 8 from the CSV files sgad-similarity writes
(one per model, rows: layer x area x measure):

  Fig. 7  four measures (RSA, encoding, SVCCA, linear CKA) for one area
          (default VISp), one panel per measure, bars per layer and model
  Fig. 8  RSA for every area, one panel per area, bars per layer and model

Layers are lined up by their place among each model's recorded layers (the
digits ending sgad-similarity's layer label: SGAD's lif1..lif3 beside the
hybrid's leaky_relu1..leaky_relu3). An undefined score (empty in the CSV)
leaves its bar out and is marked "n/a". Uses matplotlib's Agg backend.

  similarity_figures.py --fig7 fig7.png --fig8 fig8.png sgad.csv hybrid.csv
"""
import argparse
import csv
import math
import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

AREA_ORDER = ["VISp", "VISl", "VISal", "VISam", "VISpm", "VISrl"]
FIG7_MEASURES = [("rsa", "RSA"), ("encoding", "Regression encoding"), ("svcca", "SVCCA"),
                 ("cka_linear", "CKA (linear)")]


def read_rows(paths):
    rows = []
    for path in paths:
        with open(path, newline="") as f:
            for r in csv.DictReader(f):
                m = re.search(r"(\d+)$", r["layer"])
                r["depth"] = int(m.group(1)) if m else int(r["index"])
                r["value"] = float(r["score"]) if r["score"] not in ("", None) else math.nan
                rows.append(r)
    if not rows:
        sys.exit("similarity_figures: the CSV files hold no rows")
    return rows


def bars(ax, rows, title):
    """Grouped bars: x = layer depth, one bar per model name."""
    names = list(dict.fromkeys(r["name"] for r in rows))
    depths = sorted({r["depth"] for r in rows})
    width = 0.8 / max(len(names), 1)
    for k, name in enumerate(names):
        for d in depths:
            hit = [r for r in rows if r["name"] == name and r["depth"] == d]
            x = depths.index(d) + (k - (len(names) - 1) / 2) * width
            if hit and math.isfinite(hit[0]["value"]):
                ax.bar(x, hit[0]["value"], width, color=f"C{k}", label=name)
            else:
                ax.text(x, 0, "n/a", ha="center", va="bottom", fontsize=7, rotation=90)
    ax.set_xticks(range(len(depths)))
    ax.set_xticklabels([f"layer {d}" for d in depths])
    ax.axhline(0, color="black", linewidth=0.5)
    ax.set_title(title, fontsize=10)


def dedupe_legend(ax):
    handles, labels = ax.get_legend_handles_labels()
    seen = {}
    for h, l in zip(handles, labels):
        seen.setdefault(l, h)
    ax.legend(seen.values(), seen.keys(), fontsize=8)


def fig7(rows, area, path):
    fig, axes = plt.subplots(1, len(FIG7_MEASURES), figsize=(4 * len(FIG7_MEASURES), 3.4))
    for ax, (measure, title) in zip(axes, FIG7_MEASURES):
        bars(ax, [r for r in rows if r["area"] == area and r["measure"] == measure], title)
    dedupe_legend(axes[0])
    fig.suptitle(f"Similarity of the discriminators' layers to {area}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def fig8(rows, path):
    present = {r["area"] for r in rows}
    areas = [a for a in AREA_ORDER if a in present] + sorted(present - set(AREA_ORDER))
    cols = 3
    nrows = (len(areas) + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(4 * cols, 3.2 * nrows), squeeze=False)
    for ax, area in zip(axes.flat, areas):
        bars(ax, [r for r in rows if r["area"] == area and r["measure"] == "rsa"], area)
    for ax in list(axes.flat)[len(areas):]:
        ax.axis("off")
    dedupe_legend(axes[0][0])
    fig.suptitle("RSA of the discriminators' layers across visual areas")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("csv", nargs="+", help="CSV files of sgad-similarity --csv")
    p.add_argument("--fig7", required=True, help="PNG to write Fig. 7 to")
    p.add_argument("--fig8", required=True, help="PNG to write Fig. 8 to")
    p.add_argument("--area", default="VISp", help="Fig. 7's area (default VISp)")
    args = p.parse_args(argv)
    rows = read_rows(args.csv)
    if not any(r["area"] == args.area for r in rows):
        sys.exit(f"similarity_figures: no rows for area {args.area}")
    fig7(rows, args.area, args.fig7)
    fig8(rows, args.fig8)
    print(f"wrote {args.fig7} and {args.fig8}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
