#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The paper's Fig. 5: for a few samples of an SGAD generator, the decoder's
per-step inputs X_t with their attention scores s_x, and the final image.

  fig5_scores.py --png OUT.png [--samples K] TITLE:STRIPS_DIR:SAMPLES.idx ...

STRIPS_DIR and SAMPLES.idx are what `sgad-sample --strips DIR --idx FILE`
wrote from one checkpoint and seed: strip-NNN.png holds sample N's T frames
side by side (28 pixels wide with a 2-pixel gap, a score bar underneath) and
its scores in the PNG text chunk "scores"; the IDX file holds the final
images in the same order. As in the paper, the highest-scored step (after
t = 1, whose score is 1 by construction: V_1 = X_1) gets a green frame and
the lowest a red one. Needs Debian's python3-matplotlib (Agg backend) and
python3-pil, which matplotlib depends on.
"""
import argparse
import os
import sys
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 (after the backend is chosen)
from PIL import Image  # noqa: E402

GAP = 2  # pixels between frames in sgad-sample's strips
BAR = 4  # height of the score bar under them


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--png", required=True)
    p.add_argument("--samples", type=int, default=3, help="samples per data set")
    p.add_argument("sets", nargs="+", help="TITLE:STRIPS_DIR:SAMPLES.idx")
    args = p.parse_args(argv)
    parsed = []
    for s in args.sets:
        parts = s.split(":", 2)
        if len(parts) != 3:
            p.error(f"'{s}' is not TITLE:STRIPS_DIR:SAMPLES.idx")
        parsed.append(parts)
    args.sets = parsed
    return args


def read_idx_images(path):
    """[N][H][W] byte rows of an unsigned-byte IDX file [N, H, W]."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 16 or data[:3] != b"\0\0\x08" or data[3] != 3:
        sys.exit(f"fig5_scores: {path} is not an IDX file of [N, H, W] bytes")
    n, h, w = (int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(3))
    if len(data) != 16 + n * h * w:
        sys.exit(f"fig5_scores: {path} declares {n}x{h}x{w} but holds {len(data) - 16} bytes")
    return [[list(data[16 + (k * h + y) * w:16 + (k * h + y + 1) * w]) for y in range(h)]
            for k in range(n)]


def read_strip(path):
    """Frames (as PIL images) and scores of one strip."""
    im = Image.open(path)
    im.load()
    scores = [float(s) for s in im.text.get("scores", "").split()]
    if not scores:
        sys.exit(f"fig5_scores: {path} has no scores (was it written by sgad-sample --strips?)")
    steps = len(scores)
    width = (im.width + GAP) // steps - GAP
    if steps * (width + GAP) - GAP != im.width or im.height <= BAR + GAP:
        sys.exit(f"fig5_scores: {path} is {im.width}x{im.height}, not {steps} frames")
    height = im.height - GAP - BAR
    frames = [im.crop((t * (width + GAP), 0, t * (width + GAP) + width, height))
              for t in range(steps)]
    return frames, scores


def rows_of(sets, per_set):
    rows = []
    for title, strips, idx in sets:
        finals = read_idx_images(idx)
        for k in range(min(per_set, len(finals))):
            frames, scores = read_strip(os.path.join(strips, f"strip-{k:03d}.png"))
            rows.append((f"{title} #{k}", frames, scores, finals[k]))
    return rows


def mark(ax, color):
    for side in ax.spines.values():
        side.set_visible(True)
        side.set_color(color)
        side.set_linewidth(2.5)


def plot(path, rows):
    steps = max(len(r[2]) for r in rows)
    fig, axes = plt.subplots(len(rows), steps + 1, figsize=(0.85 * (steps + 1), 1.25 * len(rows)),
                             squeeze=False)
    for i, (label, frames, scores, final) in enumerate(rows):
        later = range(1, len(scores))
        best = max(later, key=lambda t: scores[t]) if len(scores) > 2 else None
        worst = min(later, key=lambda t: scores[t]) if len(scores) > 2 else None
        for t in range(steps + 1):
            ax = axes[i][t]
            ax.set_xticks([])
            ax.set_yticks([])
            for side in ax.spines.values():
                side.set_visible(False)
            if t < len(frames):
                ax.imshow(frames[t], cmap="gray", vmin=0, vmax=255)
                ax.set_xlabel(f"{scores[t]:.4f}", fontsize=7)
                if i == 0:
                    ax.set_title(f"t={t + 1}", fontsize=8)
                if t == best:
                    mark(ax, "green")
                elif t == worst:
                    mark(ax, "red")
            elif t == steps:
                ax.imshow(final, cmap="gray", vmin=0, vmax=255)
                if i == 0:
                    ax.set_title("output", fontsize=8)
        axes[i][0].set_ylabel(label, fontsize=7, rotation=0, ha="right", va="center")
    title = "Decoder inputs X_t and their attention scores s_x (green: highest, red: lowest)"
    fig.suptitle(textwrap.fill(title, width=max(30, 11 * (steps + 1))), fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv):
    args = parse_args(argv)
    rows = rows_of(args.sets, args.samples)
    if not rows:
        sys.exit("fig5_scores: no samples")
    plot(args.png, rows)
    print(f"fig5_scores: {len(rows)} samples in {args.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
