#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes the fixtures of tests/unit/eval/test_similarity.c: pairs of
representations and the similarity scores an independent numpy/scipy
implementation gives for them, written from the papers' formulas.

Run with Debian's python (python3-numpy, python3-scipy):
    /usr/bin/python3 tests/gen_similarity_fixtures.py
It writes tests/fixtures/similarity_<case>.bin (arrays "x" and "y",
float32, in the SGFX layout tests/fixture.c reads) and
tests/fixtures/similarity_expected.txt, one line "<case> <measure>
<value>" per score with 17 significant digits; and two .npy files as
numpy writes them for the reader's test (npy_f4.npy, npy_f8_v2.npy). Both sides compute in
double from the same float32 values.

Where the C code and this script could differ by more than rounding, the
script makes sure they cannot: it refuses a case where a ridge strength
wins its inner cross-validation by less than 1e-6 in r, or where the
share of variance SVCCA keeps lies within 1e-6 of its threshold, since a
different choice there would change the score by far more than 1e-9.

The routes differ on purpose from libsgad's, so that agreement means
something: RDMs from scipy.spatial.distance.pdist and spearmanr from
scipy.stats; ridge from numpy's SVD but through the full coefficient
matrix; CCA by whitening the covariances of the reduced representations
(libsgad takes the principal angles of orthonormal bases); linear CKA in
feature space, |Y^T X|_F^2 / (|X^T X|_F |Y^T Y|_F) (libsgad uses Gram
matrices); the unbiased HSIC with explicit ones vectors.
"""
import os
import sys

import numpy as np
from scipy import stats
from scipy.spatial import distance

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sgfx import write  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "fixtures")
EPS = np.finfo(np.float64).eps
ALPHAS = 10.0 ** np.arange(-4, 7)  # libsgad's default grid
FOLDS = 5


# ---- RSA (Kriegeskorte et al. 2008) ----

def rsa(x, y, metric):
    dx = distance.pdist(x, metric)  # upper triangle, row by row
    dy = distance.pdist(y, metric)
    return stats.spearmanr(dx, dy).correlation


# ---- encoding: k-fold ridge, the strength chosen in inner folds ----

def folds(n, k):
    return [np.arange(f * n // k, (f + 1) * n // k) for f in range(k)]


def ridge_predict(xtr, ytr, xte, alphas):
    """Predictions of xte for every alpha: [len(alphas), t, q]."""
    mx, my = xtr.mean(axis=0), ytr.mean(axis=0)
    xc, yc = xtr - mx, ytr - my
    unit = np.sum(xc * xc) / xc.shape[1]
    u, s, vt = np.linalg.svd(xc, full_matrices=False)
    keep = s > max(xc.shape) * EPS * s[0] if s[0] > 0 else np.zeros_like(s, bool)
    u, s, vt = u[:, keep], s[keep], vt[keep]
    out = []
    for a in alphas:
        coef = vt.T @ np.diag(s / (s ** 2 + a * unit)) @ u.T @ yc  # p x q
        out.append((xte - mx) @ coef + my)
    return np.array(out)


def pearson(a, b):
    a, b = a - a.mean(), b - b.mean()
    den = np.sqrt((a @ a) * (b @ b))
    return 0.0 if den == 0 else float(a @ b / den)


def encoding(x, y, summary):
    n, q = y.shape
    pred = np.zeros_like(y)
    for test in folds(n, FOLDS):
        train = np.setdiff1d(np.arange(n), test)
        m = len(train)
        inner = np.zeros((len(ALPHAS), m, q))
        for h in folds(m, FOLDS):
            itrain = np.setdiff1d(np.arange(m), h)
            inner[:, h, :] = ridge_predict(x[train[itrain]], y[train[itrain]], x[train[h]], ALPHAS)
        r = np.array([[pearson(inner[g, :, j], y[train, j]) for j in range(q)]
                      for g in range(len(ALPHAS))])
        best = np.argmax(r, axis=0)
        for j in range(q):
            rest = np.delete(r[:, j], best[j])
            assert r[best[j], j] - rest.max() > 1e-6, ("alpha choice too close", j)
        outer = ridge_predict(x[train], y[train], x[test], ALPHAS)
        pred[test] = outer[best, :, np.arange(q)].T
    rs = np.array([pearson(pred[:, j], y[:, j]) for j in range(q)])
    return float(rs.mean() if summary == "mean" else np.median(rs))


# ---- SVCCA (Raghu et al. 2017) ----

def svd_reduce(x, variance):
    xc = x - x.mean(axis=0)
    u, s, vt = np.linalg.svd(xc, full_matrices=False)
    rank = int(np.sum(s > max(xc.shape) * EPS * s[0]))
    if variance < 1:
        share = np.cumsum(s ** 2) / np.sum(s ** 2)
        k = int(np.searchsorted(share, variance) + 1)  # first share >= variance
        assert min(abs(share - variance)) > 1e-6, "variance threshold too close"
        k = min(k, rank)
    else:
        k = rank
    return xc @ vt[:k].T  # = U_k S_k


def inv_sqrt(c):
    w, v = np.linalg.eigh(c)
    return v @ np.diag(w ** -0.5) @ v.T


def svcca(x, y, variance):
    a, b = svd_reduce(x, variance), svd_reduce(y, variance)
    cxx, cyy, cxy = a.T @ a, b.T @ b, a.T @ b
    rho = np.linalg.svd(inv_sqrt(cxx) @ cxy @ inv_sqrt(cyy), compute_uv=False)
    return float(np.mean(np.minimum(rho, 1.0)))


# ---- CKA (Kornblith et al. 2019), unbiased HSIC (Song et al. 2012) ----

def cka_linear_features(x, y):
    xc, yc = x - x.mean(axis=0), y - y.mean(axis=0)
    return float(np.sum((yc.T @ xc) ** 2) /
                 (np.linalg.norm(xc.T @ xc) * np.linalg.norm(yc.T @ yc)))


def gram(x, kernel, scale):
    if kernel == "linear":
        xc = x - x.mean(axis=0)
        return xc @ xc.T
    d2 = distance.squareform(distance.pdist(x, "sqeuclidean"))
    med = np.median(distance.pdist(x, "sqeuclidean"))
    return np.exp(-d2 / (2 * scale ** 2 * med))


def hsic_biased(k, l):
    n = k.shape[0]
    h = np.eye(n) - np.ones((n, n)) / n
    return np.trace(k @ h @ l @ h)


def hsic_unbiased(k, l):
    n = k.shape[0]
    k, l = k.copy(), l.copy()
    np.fill_diagonal(k, 0)
    np.fill_diagonal(l, 0)
    one = np.ones(n)
    return (np.trace(k @ l) + (one @ k @ one) * (one @ l @ one) / ((n - 1) * (n - 2))
            - 2 / (n - 2) * (one @ k @ l @ one)) / (n * (n - 3))


def cka(x, y, kernel, unbiased, scale=1.0):
    k, l = gram(x, kernel, scale), gram(y, kernel, scale)
    h = hsic_unbiased if unbiased else hsic_biased
    return float(h(k, l) / np.sqrt(h(k, k) * h(l, l)))


# ---- cases ----

def shared(rng, n, px, py, d, noise):
    """Two representations of n stimuli driven by d shared latents."""
    z = rng.normal(size=(n, d))
    x = z @ rng.normal(size=(d, px)) + noise * rng.normal(size=(n, px))
    y = np.tanh(z @ rng.normal(size=(d, py))) + noise * rng.normal(size=(n, py))
    return x.astype(np.float32), y.astype(np.float32)


def cases(rng):
    yield "wide", *shared(rng, 24, 60, 36, 4, 0.5)    # stimuli < units
    yield "tall", *shared(rng, 80, 12, 9, 3, 0.8)     # stimuli > units
    yield "square", *shared(rng, 40, 40, 25, 6, 1.0)  # mixed
    yield "relu", *[np.maximum(a, 0) for a in shared(rng, 50, 30, 70, 5, 0.7)]


def scores(x, y):
    xd, yd = x.astype(np.float64), y.astype(np.float64)
    assert abs(cka_linear_features(xd, yd) - cka(xd, yd, "linear", False)) < 1e-12
    yield "rsa_correlation", rsa(xd, yd, "correlation")
    yield "rsa_euclidean", rsa(xd, yd, "euclidean")
    yield "encoding_mean", encoding(xd, yd, "mean")
    yield "encoding_median", encoding(xd, yd, "median")
    yield "svcca_0.99", svcca(xd, yd, 0.99)
    yield "svcca_0.9", svcca(xd, yd, 0.9)
    yield "svcca_1", svcca(xd, yd, 1.0)
    yield "cka_linear", cka_linear_features(xd, yd)
    yield "cka_linear_unbiased", cka(xd, yd, "linear", True)
    yield "cka_rbf", cka(xd, yd, "rbf", False)
    yield "cka_rbf0.5", cka(xd, yd, "rbf", False, 0.5)
    yield "cka_rbf_unbiased", cka(xd, yd, "rbf", True)


def main():
    rng = np.random.default_rng(20260525)
    lines = []
    for name, x, y in cases(rng):
        write(os.path.join(OUT, "similarity_%s.bin" % name), [("x", x), ("y", y)])
        for measure, value in scores(x, y):
            lines.append("%s %s %.17g\n" % (name, measure, value))
            print("%-7s x %-9s y %-9s %-20s %.12g" % (name, x.shape, y.shape, measure, value))
    # ties: integer points on a line, so many Euclidean distances are equal
    # and exact; Spearman must rank them by their average rank
    x = np.array([[0], [1], [2], [4], [5], [7], [8], [9]], dtype=np.float32)
    y = np.array([[0, 1], [1, 1], [1, 2], [3, 3], [3, 4], [6, 4], [6, 6], [8, 6]],
                 dtype=np.float32)
    write(os.path.join(OUT, "similarity_ties.bin"), [("x", x), ("y", y)])
    v = rsa(x.astype(np.float64), y.astype(np.float64), "euclidean")
    lines.append("ties rsa_euclidean %.17g\n" % v)
    print("ties    rsa_euclidean %.12g" % v)
    with open(os.path.join(OUT, "similarity_expected.txt"), "w") as f:
        f.writelines(lines)
    # .npy files as numpy writes them, for tests/unit/io/test_npy.c: value
    # (i, j) = i - j / 4 (exact in float32), version 1.0 float32 and 2.0
    # float64
    m = np.array([[i - j / 4 for j in range(5)] for i in range(3)])
    np.save(os.path.join(OUT, "npy_f4.npy"), m.astype("<f4"))
    with open(os.path.join(OUT, "npy_f8_v2.npy"), "wb") as f:
        np.lib.format.write_array(f, m.astype("<f8"), version=(2, 0))


if __name__ == "__main__":
    main()
