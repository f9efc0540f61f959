#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""One PNG of every run's final sample grid (sgad-train's OUT/samples.png,
64 samples from fixed latents), data sets as rows and models as columns, to
read beside the table.

  samples_figure.py --png OUT.png DATASET:MODEL:samples.png ...

Needs Debian's python3-matplotlib (Agg backend) and python3-pil.
"""
import argparse
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 (after the backend is chosen)
from PIL import Image  # noqa: E402


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--png", required=True)
    p.add_argument("grids", nargs="+", help="DATASET:MODEL:samples.png")
    args = p.parse_args(argv)
    grids = [g.split(":", 2) for g in args.grids]
    if any(len(g) != 3 for g in grids):
        p.error("each grid is DATASET:MODEL:samples.png")
    sets = list(dict.fromkeys(g[0] for g in grids))
    models = list(dict.fromkeys(g[1] for g in grids))
    fig, axes = plt.subplots(len(sets), len(models), figsize=(2.6 * len(models), 2.8 * len(sets)),
                             squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ds, model, path in grids:
        ax = axes[sets.index(ds)][models.index(model)]
        with Image.open(path) as im:
            ax.imshow(im.convert("L"), cmap="gray", vmin=0, vmax=255)
        ax.set_title(f"{ds}: {model}", fontsize=9)
    fig.tight_layout()
    fig.savefig(args.png, dpi=100)
    with Image.open(args.png) as im:  # all gray: one channel makes the file a third the size
        gray = im.convert("L")
    gray.save(args.png, optimize=True)
    print(f"samples_figure: {len(grids)} grids in {args.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
