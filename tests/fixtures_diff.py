#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Compares regenerated golden fixtures with the committed ones:
    /usr/bin/python3 tests/fixtures_diff.py COMMITTED_DIR REGENERATED_DIR
(`make check-fixtures` regenerates every fixture into build/fixtures-regen
and runs this). Exit status 0 if every file agrees, 1 otherwise; prints
per file the worst difference in units of its tolerance.

A regeneration on another machine is not bitwise equal: PyTorch's and
numpy's float32 and LAPACK paths (BLAS kernels, vector widths, summation
order) differ between CPUs, so computed values move by rounding, while two
runs on one machine give the same bits. So:

- The two directories hold the same files; each .bin file the same array
  names, in the same order, with the same shapes.
- Inputs and settings must be bitwise equal: they come from a formula or a
  seeded generator, not from float arithmetic that may be reordered (model
  fixtures: salt, lr_g, lr_d, steps, iterations, init.*, zero_grad.*,
  sample.*, sample_late.*, z, real, it<k>.z, it<k>.real, it<k>.variant;
  layer fixtures: x, r, and the layer's parameters; metrics fixtures: a,
  b). A changed formula, seed or salt shows here.
- Computed values of the model fixtures whose float32 error PyTorch
  measured (err.<array>: max |float32 - float64| over the whole array):
  |a - b| <= 4 max(err_a, err_b) + 2 ulp(max(|a|, |b|)). Each machine's
  float32 result is within err of the float64 one, so two machines are
  within 2 max(err); 4 leaves a factor 2 for err being a maximum over a
  whole tensor measured on one machine. The C test allows the same
  4 err (and more: 1e-4 relative).
- Parameters after an iteration (after.<p>, it<k>.after.<p>) have no err:
  RMSprop's step -lr g / (sqrt(v) + eps) amplifies a gradient's rounding
  where |g| is near eps / sqrt(1 - alpha), up to a sign change (20 lr).
  Their tolerance is the width, in lr, of the steps every gradient history
  within its tolerance above allows (the C test's step_range), summed over
  the iterations so far, plus 4 ulp of the parameter and 1e-6 of 10 lr per
  step for the float arithmetic. Where the gradient is large that is a few
  ulp; where its sign is unsure, up to 20 lr per iteration.
- err.* themselves are measurements of rounding, which varies by machine:
  they must agree within a factor 16, or both be below 2^-20 of the array
  they describe.
- Everything else has no measured error; its tolerance is a tenth of the
  one the consuming C test applies, so no regeneration within it moves a
  comparison by more than a tenth of what the test allows, while reordered
  float32 sums (relative ~n 2^-24 of the magnitudes, n at most a few
  thousand here) stay well inside it: layer fixtures (test_golden.c,
  1e-5 relative + 1e-6 of the peak) 1e-6 |b| + 1e-7 peak; the gradients'
  L1 norms l1.* (test_golden_models.c, 1e-4 relative) 1e-5 relative;
  metrics_expected.txt's Fréchet distances (test_metrics.c: numpy's eigh
  1e-10 of the scale, 1e-7 for the rank-deficient case; scipy 1e-7) a
  tenth of those, and the scale (a float64 sum) 1e-12 relative.
"""
import math
import os
import struct
import sys

import numpy as np

MODEL_EXACT_PREFIXES = ("init.", "zero_grad.", "sample.", "sample_late.")
MODEL_EXACT = {"salt", "lr_g", "lr_d", "steps", "iterations", "z", "real"}
LAYER_COMPUTED = ("y", "dx", "scores")  # and grad.*, after.*; the rest are inputs
ALPHA, EPS = 0.99, 1e-8
ULP = 2.0 ** -23


def read(path):
    """The arrays of an SGFX file (tests/fixture.c's layout), in order."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"SGFX":
        raise ValueError(f"{path}: not an SGFX file")
    (count,) = struct.unpack_from("<I", data, 4)
    at, arrays = 8, []
    for _ in range(count):
        (length,) = struct.unpack_from("<I", data, at)
        name = data[at + 4:at + 4 + length].decode()
        at += 4 + length
        (ndim,) = struct.unpack_from("<I", data, at)
        dims = struct.unpack_from(f"<{ndim}q", data, at + 4)
        at += 4 + 8 * ndim
        n = int(np.prod(dims)) if ndim else 1
        values = np.frombuffer(data, "<f4", n, at).astype(np.float64)
        at += 4 * n
        arrays.append((name, tuple(dims), values))
    if at != len(data):
        raise ValueError(f"{path}: {len(data) - at} bytes after the last array")
    return arrays


class Verdict:
    """The worst difference of one file in units of tolerance, and failures."""

    def __init__(self, path):
        self.path, self.worst, self.where, self.failures = path, 0.0, "", []

    def fail(self, message):
        self.failures.append(message)

    def compare(self, name, a, b, tol):
        """|a - b| <= tol elementwise (tol an array or a scalar)."""
        diff = np.abs(a - b)
        tol = np.broadcast_to(np.asarray(tol, dtype=np.float64), diff.shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(diff == 0, 0.0, diff / tol)
        ratio = np.where(np.isnan(a) | np.isnan(b), np.inf, ratio)
        if ratio.size == 0:
            return
        i = int(np.argmax(ratio))
        if ratio[i] > self.worst:
            self.worst = float(ratio[i])
            self.where = f"{name}[{i}]: {a[i]:.9g} vs {b[i]:.9g}, tolerance {tol[i]:.3g}"
        if ratio[i] > 1:
            bad = int(np.sum(ratio > 1))
            self.fail(f"{name}[{i}] = {a[i]:.9g}, regenerated {b[i]:.9g}: "
                      f"{ratio[i]:.3g} x tolerance {tol[i]:.3g} ({bad} of {a.size} values over)")

    def exact(self, name, a, b):
        same = (a == b) | (np.isnan(a) & np.isnan(b))
        if not same.all():
            i = int(np.argmin(same))
            self.fail(f"{name}[{i}] = {a[i]!r}, regenerated {b[i]!r}: an input must be "
                      f"bitwise equal ({int(np.sum(~same))} of {a.size} differ)")


def rms_u(g, a):
    return g / (np.sqrt(a + (1 - ALPHA) * g * g) + EPS)


def step_width(history, deltas):
    """Width of the range of RMSprop's normalised step u_k over gradient
    histories g_i +- dg_i (as test_golden_models.c's step_range)."""
    k = len(history)
    a_lo = np.zeros_like(history[0])
    a_hi = np.zeros_like(history[0])
    for i in range(k - 1):
        c = (1 - ALPHA) * ALPHA ** (k - 1 - i)
        a_lo += c * np.maximum(np.abs(history[i]) - deltas[i], 0) ** 2
        a_hi += c * (np.abs(history[i]) + deltas[i]) ** 2
    g_lo, g_hi = history[-1] - deltas[-1], history[-1] + deltas[-1]
    lo = rms_u(g_lo, np.where(g_lo >= 0, a_hi, a_lo))
    hi = rms_u(g_hi, np.where(g_hi >= 0, a_lo, a_hi))
    return hi - lo


def iteration_of(name):
    """(k, rest) for "it<k>.<rest>", (1, name) otherwise."""
    if name.startswith("it") and "." in name:
        head, rest = name.split(".", 1)
        if head[2:].isdigit():
            return int(head[2:]), rest
    return 1, name


def err_tolerance(a, b, err_a, err_b):
    return 4 * max(err_a, err_b) + 2 * ULP * np.maximum(np.abs(a), np.abs(b))


def after_tolerance(name, k, p, old, new):
    """The tolerance of parameter p's values after iteration k (see the top)."""
    def arr(d, key):
        return d[key][1]

    def spec(d, key, default):
        return tuple(int(x) for x in arr(d, key)) if key in d else default
    first = spec(old, "sample." + p, (0, 1))
    late = spec(old, "sample_late." + p, first)
    lr = arr(old, "lr_d" if p.startswith("D.") else "lr_g")[0]
    offset, stride = first if k == 1 else late
    count = len(arr(old, name))
    idx = offset + stride * np.arange(count)
    width = np.zeros(count)
    history, deltas = [], []
    for i in range(1, k + 1):
        prefix = "" if i == 1 else f"it{i}."
        o_i, s_i = first if i == 1 else late
        pos = (idx - o_i) // s_i
        g_old = arr(old, prefix + "grad." + p)[pos]
        g_new = arr(new, prefix + "grad." + p)[pos]
        e = max(arr(old, "err." + prefix + "grad." + p)[0],
                arr(new, "err." + prefix + "grad." + p)[0])
        history.append(g_old)
        deltas.append(4 * e + 2 * ULP * np.maximum(np.abs(g_old), np.abs(g_new)))
        width += step_width(history, deltas)
    mag = np.maximum(np.abs(arr(old, name)), np.abs(arr(new, name)))
    return lr * width + 4 * ULP * mag + k * 10 * lr * 1e-6


def diff_model(verdict, old_list, new_list):
    old = {n: (d, v) for n, d, v in old_list}
    new = {n: (d, v) for n, d, v in new_list}
    params = {n[5:] for n in old if n.startswith("init.")}
    for name, _, a in old_list:
        b = new[name][1]
        k, rest = iteration_of(name)
        if name in MODEL_EXACT or rest in ("z", "real", "variant") or \
                name.startswith(MODEL_EXACT_PREFIXES):
            verdict.exact(name, a, b)
        elif name.startswith("err."):
            ref = name[4:]
            scale = np.max(np.abs(old[ref][1])) if ref in old else 0.0
            lo, hi = min(a[0], b[0]), max(a[0], b[0])
            if hi > 16 * lo + 2.0 ** -20 * scale:
                verdict.fail(f"{name} = {a[0]:.3g}, regenerated {b[0]:.3g}: not within a "
                             "factor 16")
        elif "err." + name in old:
            verdict.compare(name, a, b, err_tolerance(a, b, old["err." + name][1][0],
                                                      new["err." + name][1][0]))
        elif rest.startswith("after.") and rest[6:] in params:
            verdict.compare(name, a, b, after_tolerance(name, k, rest[6:], old, new))
        elif rest.startswith("l1."):
            verdict.compare(name, a, b, 1e-5 * np.abs(a))
        else:
            verdict.fail(f"{name}: no tolerance rule for this array")


def diff_layer(verdict, old_list, new_list):
    new = {n: v for n, _, v in new_list}
    for name, _, a in old_list:
        b = new[name]
        if name in LAYER_COMPUTED or name.startswith(("grad.", "after.")):
            peak = np.max(np.abs(a)) if a.size else 0.0
            verdict.compare(name, a, b, 1e-6 * np.abs(a) + 1e-7 * peak)
        else:
            verdict.exact(name, a, b)


def diff_bin(verdict, old_path, new_path):
    old_list, new_list = read(old_path), read(new_path)
    old_layout = [(n, d) for n, d, _ in old_list]
    new_layout = [(n, d) for n, d, _ in new_list]
    if old_layout != new_layout:
        gone = sorted(set(old_layout) - set(new_layout))[:5]
        added = sorted(set(new_layout) - set(old_layout))[:5]
        verdict.fail(f"arrays differ (name, shape): only committed {gone}, only regenerated "
                     f"{added}" + ("" if gone or added else "; order differs"))
        return
    base = os.path.basename(old_path)
    if base.startswith("model_"):
        diff_model(verdict, old_list, new_list)
    elif base.startswith(("metrics_", "similarity_")):  # seeded inputs: bitwise
        for (name, _, a), (_, _, b) in zip(old_list, new_list):
            verdict.exact(name, a, b)
    else:
        diff_layer(verdict, old_list, new_list)


def diff_expected(verdict, old_path, new_path):
    """metrics_expected.txt: "<case> <scipy FD> <eigh FD> <scale>" lines."""
    def parse(path):
        with open(path) as f:
            return [line.split() for line in f if line.strip()]
    old, new = parse(old_path), parse(new_path)
    if [r[0] for r in old] != [r[0] for r in new] or any(len(r) != 4 for r in old + new):
        verdict.fail(f"cases differ: {[r[0] for r in old]} vs {[r[0] for r in new]}")
        return
    for o, n in zip(old, new):
        case = o[0]
        scipy_a, eigh_a, scale_a = (float(x) for x in o[1:])
        scipy_b, eigh_b, scale_b = (float(x) for x in n[1:])
        eigh_tol = (1e-8 if "rank_deficient" in case else 1e-11) * scale_a
        for what, a, b, tol in (("scipy FD", scipy_a, scipy_b, 1e-8 * scale_a),
                                ("eigh FD", eigh_a, eigh_b, eigh_tol),
                                ("scale", scale_a, scale_b, 1e-12 * abs(scale_a))):
            verdict.compare(f"{case} {what}", np.array([a]), np.array([b]), max(tol, 1e-300))


def diff_similarity(verdict, old_path, new_path):
    """similarity_expected.txt: "<case> <measure> <score>" lines. The C
    test requires 1e-9 relative; regenerated scores must agree to a tenth
    of that (different BLAS builds move them by ~1e-13)."""
    def parse(path):
        with open(path) as f:
            return [line.split() for line in f if line.strip()]
    old, new = parse(old_path), parse(new_path)
    if [r[:2] for r in old] != [r[:2] for r in new] or any(len(r) != 3 for r in old + new):
        verdict.fail("cases or measures differ")
        return
    for o, n in zip(old, new):
        a, b = float(o[2]), float(n[2])
        verdict.compare(f"{o[0]} {o[1]}", np.array([a]), np.array([b]),
                        max(1e-10 * abs(a), 1e-300))


def diff_npy(verdict, old_path, new_path):
    """numpy's own .npy files (the matrix reader's valid inputs): bitwise."""
    with open(old_path, "rb") as f:
        a = f.read()
    with open(new_path, "rb") as f:
        b = f.read()
    if a != b:
        verdict.fail("the file differs: it must be bitwise equal")
    else:
        verdict.compare("bytes", np.array([0.0]), np.array([0.0]), 1.0)


def main():
    if len(sys.argv) != 3:
        raise SystemExit("usage: fixtures_diff.py COMMITTED_DIR REGENERATED_DIR")
    old_dir, new_dir = sys.argv[1:]
    old_files, new_files = set(os.listdir(old_dir)), set(os.listdir(new_dir))
    failed = False
    for missing in sorted(old_files - new_files):
        print(f"FAIL {missing}: committed, not regenerated")
        failed = True
    for extra in sorted(new_files - old_files):
        print(f"FAIL {extra}: regenerated, not committed")
        failed = True
    for name in sorted(old_files & new_files):
        verdict = Verdict(name)
        old_path, new_path = os.path.join(old_dir, name), os.path.join(new_dir, name)
        try:
            if name.endswith(".bin"):
                diff_bin(verdict, old_path, new_path)
            elif name == "metrics_expected.txt":
                diff_expected(verdict, old_path, new_path)
            elif name == "similarity_expected.txt":
                diff_similarity(verdict, old_path, new_path)
            elif name.endswith(".npy"):
                diff_npy(verdict, old_path, new_path)
            else:
                verdict.fail("no rule for this file")
        except (ValueError, KeyError, IndexError, struct.error) as e:
            verdict.fail(f"unreadable: {e!r}")
        status = "FAIL" if verdict.failures else "ok  "
        worst = f"worst {verdict.worst:.3g} x tolerance" if not math.isinf(verdict.worst) else "NaN"
        print(f"{status} {name:32s} {worst}" + (f" ({verdict.where})" if verdict.where else ""))
        for message in verdict.failures[:10]:
            print(f"     {message}")
        failed |= bool(verdict.failures)
    print("fixtures: " + ("regenerated values differ beyond tolerance" if failed else
                          "regenerated values agree within tolerance"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
