#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes the fixtures of tests/test_metrics.c: pairs of feature sets and
the Fréchet distance numpy and scipy give for them.

Run with Debian's python (python3-numpy, python3-scipy):
    /usr/bin/python3 tests/gen_metrics_fixtures.py [outdir]
It writes (into outdir, by default tests/fixtures) metrics_<case>.bin (arrays "a" and "b", float32,
in the SGFX layout tests/fixture.c reads) and tests/fixtures/
metrics_expected.txt ("<case> <distance>" with 17 significant digits).

The reference is the usual recipe (pytorch-fid's): mean, np.cov (unbiased)
and scipy.linalg.sqrtm of S1 S2, its real part, all in float64 from the
float32 features the C test reads. As a second opinion the script also
computes the distance through symmetric eigendecompositions (numpy.linalg.
eigh), the method libsgad uses, and refuses to write a case where the two
disagree by more than 1e-7 of the scale (|mu1 - mu2|^2 + tr S1 + tr S2, the
size of the terms that cancel): then the reference itself would be in
doubt. They do disagree by ~1e-8 relative when a covariance is singular
(more dimensions than samples): sqrtm of a singular S1 S2 is only accurate
to about the square root of the rounding error there. Each line of
metrics_expected.txt is "<case> <scipy FD> <eigh FD> <scale>".
"""
import os
import sys

import numpy as np
from scipy import linalg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sgfx import write  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def stats(x):
    x = x.astype(np.float64)
    return x.mean(axis=0), np.cov(x, rowvar=False)


def scale(a, b):
    mu1, s1 = stats(a)
    mu2, s2 = stats(b)
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1) + np.trace(s2))


def fd_scipy(a, b):
    mu1, s1 = stats(a)
    mu2, s2 = stats(b)
    root, _ = linalg.sqrtm(s1 @ s2, disp=False)
    root = np.real(root)
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.trace(root))


def fd_eigh(a, b):
    mu1, s1 = stats(a)
    mu2, s2 = stats(b)
    l, v = np.linalg.eigh(s1)
    r = (v * np.sqrt(np.maximum(l, 0))) @ v.T
    m = r @ s2 @ r
    e = np.linalg.eigvalsh((m + m.T) / 2)
    diff = mu1 - mu2
    cross = np.sqrt(np.maximum(e, 0)).sum()
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2 * cross)


def cases(rng):
    a = rng.normal(size=(50, 8)).astype(np.float32)
    yield "identical", a, a.copy()
    a = rng.normal(size=(40, 6)).astype(np.float32)
    shift = np.array([1.0, -2.0, 0.5, 0.0, 3.0, -0.25], dtype=np.float32)
    yield "shifted", a, a + shift  # same covariance: FD = |shift|^2 = 14.3125
    yield "rank_deficient", (rng.normal(size=(10, 32)) * 2).astype(np.float32), \
        (rng.normal(size=(12, 32)) + 0.3).astype(np.float32)
    mix = rng.normal(size=(64, 64)) / 8
    yield "random64", rng.normal(size=(300, 64)).astype(np.float32), \
        (rng.normal(size=(250, 64)) @ (np.eye(64) + mix) + 0.1).astype(np.float32)
    # features of the size and range a ReLU network gives, many more samples
    yield "relu128", np.maximum(rng.normal(size=(200, 128)), 0).astype(np.float32), \
        np.maximum(rng.normal(size=(160, 128)) * 1.1 + 0.05, 0).astype(np.float32)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "fixtures")
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(20261129)
    lines = []
    worst = 0.0
    for name, a, b in cases(rng):
        ref, alt = fd_scipy(a, b), fd_eigh(a, b)
        gap = abs(ref - alt)
        sc = scale(a, b)
        assert gap <= 1e-7 * sc, (name, ref, alt)
        worst = max(worst, gap / sc)
        write(os.path.join(out, "metrics_%s.bin" % name), [("a", a), ("b", b)])
        lines.append("%s %.17g %.17g %.17g\n" % (name, ref, alt, sc))
        print("%-15s a %s b %s  FD %.12g  (eigh %.12g)" % (name, a.shape, b.shape, ref, alt))
    with open(os.path.join(out, "metrics_expected.txt"), "w") as f:
        f.writelines(lines)
    print("largest gap scipy/eigh over the scale: %.3g" % worst)


if __name__ == "__main__":
    main()
