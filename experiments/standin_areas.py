#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Stand-in "brain areas" for the similarity pipeline when no Allen data is
at hand: the responses of a fixed random-feature spiking network to the
stimuli, one [stimuli x units] float32 .npy file per area, named as the six
mouse visual areas of the paper's Fig. 8. They are NOT mouse data; they
only let `make experiments-smoke` run recording, scoring and both figures
end to end.

The network (numpy, seed 12345 unless --seed; nothing is trained):
  stage 1 (VISp)         16 random 5x5 filters (zero mean, unit norm) over the
                         28x28 image, valid convolution -> 24x24x16 currents
  stage 2 (VISl, VISrl,  stage 1's rates, 2x2 average-pooled (12x12x16), then a
           VISal)        random 3x3 convolution to 24 maps, one per area
                         (different weights): 10x10x24, receptive field 10 px
  stage 3 (VISam, VISpm) its area's stage 2 (VISal's for VISam, VISl's for
                         VISpm) 2x2-pooled (5x5x24), then a random dense map
                         to 200 units: the whole image
Every current is standardised per unit over the stimuli and rectified,
I = 1.5 max(z, 0), and drives a LIF neuron (tau 2, threshold 1, hard reset
to 0, V += (I - V) / tau; libsgad's defaults) for T = 16 steps with
Gaussian noise (sd 0.3) added to its current at each step, in 4 trials.
A unit's response to a stimulus is its spike count over the 16 steps
averaged over the trials (the Allen script also writes mean counts). From
each area, `units` units (80 for VISp, 60 for the others) are drawn at
random among those whose response is not constant over the stimuli.

  standin_areas.py --images t10k-images-idx3-ubyte.gz --count 118 --out DIR
"""
import argparse
import gzip
import os
import sys

import numpy as np

AREAS = ["VISp", "VISl", "VISrl", "VISal", "VISam", "VISpm"]
T, TRIALS, TAU, NOISE, GAIN = 16, 4, 2.0, 0.3, 1.5


def read_idx_images(path, count):
    """The first count images of an unsigned-byte IDX3 file, in [0, 1]."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        head = f.read(16)
        if len(head) < 16 or head[:4] != b"\x00\x00\x08\x03":
            sys.exit(f"standin_areas: {path} is not an unsigned-byte IDX3 image file")
        n, h, w = (int.from_bytes(head[4 + 4 * i:8 + 4 * i], "big") for i in range(3))
        if count > n:
            sys.exit(f"standin_areas: {path} holds {n} images, {count} asked")
        data = np.frombuffer(f.read(count * h * w), dtype=np.uint8)
    return data.reshape(count, h, w).astype(np.float64) / 255.0


def conv_valid(x, w):
    """x [n, c, h, w], w [k, c, r, r] -> [n, k, h - r + 1, w - r + 1]."""
    r = w.shape[-1]
    win = np.lib.stride_tricks.sliding_window_view(x, (r, r), axis=(2, 3))
    return np.einsum("nchwij,kcij->nkhw", win, w, optimize=True)


def pool2(x):
    n, c, h, w = x.shape
    return x[:, :, :h // 2 * 2, :w // 2 * 2].reshape(n, c, h // 2, 2, w // 2, 2).mean(axis=(3, 5))


def lif_counts(current, rng):
    """Mean spike counts over TRIALS trials of T steps; current [n, ...]."""
    flat = current.reshape(current.shape[0], -1)
    sd = flat.std(axis=0)
    z = (flat - flat.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    drive = GAIN * np.maximum(z, 0.0)
    counts = np.zeros_like(drive)
    for _ in range(TRIALS):
        v = np.zeros_like(drive)
        for _ in range(T):
            v += (drive + NOISE * rng.standard_normal(drive.shape) - v) / TAU
            spike = v >= 1.0
            counts += spike
            v[spike] = 0.0
    return (counts / TRIALS).reshape(current.shape)


def random_filters(rng, k, c, r):
    w = rng.standard_normal((k, c, r, r))
    w -= w.mean(axis=(1, 2, 3), keepdims=True)
    return w / np.linalg.norm(w.reshape(k, -1), axis=1)[:, None, None, None]


def pick_units(responses, count, rng, name):
    flat = responses.reshape(responses.shape[0], -1)
    alive = np.flatnonzero(flat.std(axis=0) > 0)
    if alive.size < count:
        sys.exit(f"standin_areas: {name} has only {alive.size} responsive units; "
                 f"use more stimuli")
    keep = np.sort(rng.choice(alive, size=count, replace=False))
    return np.ascontiguousarray(flat[:, keep], dtype=np.float32)  # C order: .npy readers


def areas(images, seed):
    """{area name: [n x units] float32} for images [n, 28, 28]."""
    rng = np.random.default_rng(seed)
    x = images[:, None]
    s1 = lif_counts(conv_valid(x, random_filters(rng, 16, 1, 5)), rng)
    p1 = pool2(s1 / T)
    s2 = {a: lif_counts(conv_valid(p1, random_filters(rng, 24, 16, 3)), rng)
          for a in ("VISl", "VISrl", "VISal")}
    s3 = {}
    for a, below in (("VISam", "VISal"), ("VISpm", "VISl")):
        feats = pool2(s2[below] / T).reshape(len(images), -1)
        w = rng.standard_normal((feats.shape[1], 200)) / np.sqrt(feats.shape[1])
        s3[a] = lif_counts(feats @ w, rng)
    out = {"VISp": pick_units(s1, 80, rng, "VISp")}
    for a, resp in list(s2.items()) + list(s3.items()):
        out[a] = pick_units(resp, 60, rng, a)
    return {a: out[a] for a in AREAS}


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--images", required=True, help="IDX3 image file (raw or .gz), 28x28")
    p.add_argument("--count", type=int, default=118, help="first N images (default 118)")
    p.add_argument("--seed", type=int, default=12345)
    p.add_argument("--out", required=True, help="directory for AREA.npy files")
    args = p.parse_args(argv)
    images = read_idx_images(args.images, args.count)
    os.makedirs(args.out, exist_ok=True)
    for name, m in areas(images, args.seed).items():
        np.save(os.path.join(args.out, name + ".npy"), m)
        print(f"{name}: {m.shape[0]} stimuli x {m.shape[1]} units, mean count {m.mean():.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
