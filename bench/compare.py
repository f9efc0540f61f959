#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""libsgad against the PyTorch reference, side by side in one run: for each
row, sgad-bench and bench/torch_reference.py on the same model, shape,
batch, T and thread count, each in its own process (so each peak RSS is
that configuration's alone), one after the other (never both at once: they
would share the cores). Prints both sides, the ratios, and whether each of
issue 23's targets is met. Standard library only; the reference itself
needs /usr/bin/python3 with Debian's python3-torch.

    python3 bench/compare.py [--iters 2] [--torch-iters-64 1] [--rows ...]

A row is model:shape:threads; the default rows are SGAD 28x28x1 and
64x64x3 at 1 and 2 threads, and SWGAN and SGAN 28x28x1 at 2 threads.
Rows at 2 threads run sgad-bench a second time with --path dense, for the
target on the dense path alone.

On a shared machine either side's times swing by a third from one run to
the next. --rounds N runs every row N times, the sides of a row always one
right after the other, prints each round's ratios, and judges the targets
on the median of each ratio over the rounds (with how many rounds met
each).

--checkpoint FILE --data IDX adds, for rows of the checkpoint's model and
shape, a libsgad run continuing that trained state on real batches
("trained" rows; firing rates of 4-13% instead of a fresh net's ~3%). The
reference's time does not depend on firing rates (its products are dense),
so its fresh run is the peer of both.

The reference sets its BLAS thread variables before torch loads and
reports a timed matmul (`torch GEMM`), next to libsgad's own sgemm line;
peak RSS is compared as measured and with the reference's RSS after
`import torch` alone subtracted (`RSS ratio ex`)."""
import statistics
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import table  # noqa: E402

DEFAULT_ROWS = ("sgad:28x28x1:1,sgad:28x28x1:2,sgad:64x64x3:1,sgad:64x64x3:2,"
                "swgan:28x28x1:2,sgan:28x28x1:2")
HERE = os.path.dirname(os.path.abspath(__file__))

# Issue 23's targets.
ITERATION_TARGET = {2: 8.0, 1: 5.0}  # libsgad iteration this much faster, by threads
DENSE_TARGET = 3.0       # the dense path alone at least 3x, at 2 threads
SAMPLING_TARGET = 15.0   # images/s at least 15x
RSS_TARGET = 0.3         # peak RSS at most 0.3 of the reference's, both ways


def ratios(lib, ref, dense=None):
    model_rss = ref["peak_rss_mib"] - ref.get("import_rss_mib", 0.0)
    r = {"model": lib["model"], "shape": lib["shape"], "threads": lib["threads"],
         "state": lib.get("state", "fresh"),
         "lib_gemm": lib.get("sgemm_gflops", float("nan")),
         "ref_gemm": ref.get("matmul_gflops", float("nan")),
         "rss_ex": lib["peak_rss_mib"] / model_rss if model_rss > 0 else float("nan"),
         "ref_import_rss": ref.get("import_rss_mib", float("nan")),
         "lib_ms": lib["median_ms"], "ref_ms": ref["median_ms"],
         "speedup": ref["median_ms"] / lib["median_ms"],
         "lib_img": lib["sample_images_per_s"], "ref_img": ref["sample_images_per_s"],
         "sampling": lib["sample_images_per_s"] / ref["sample_images_per_s"],
         "lib_rss": lib["peak_rss_mib"], "ref_rss": ref["peak_rss_mib"],
         "rss": lib["peak_rss_mib"] / ref["peak_rss_mib"],
         "lib_gflop": lib["gflop_per_iter"], "ref_gflop": ref["gflop_per_iter"],
         "lib_gflops": lib["achieved_gflops"], "ref_gflops": ref["achieved_gflops"],
         "load": max(lib["load"], ref["load"])}
    if dense is not None:
        r["dense_ms"] = dense["median_ms"]
        r["dense_speedup"] = ref["median_ms"] / dense["median_ms"]
        r["load"] = max(r["load"], dense["load"])
    return r


NAMES = (("model", "model", "{}"), ("shape", "shape", "{}"), ("thr", "threads", "{}"),
         ("state", "state", "{}"))
TIME_COLUMNS = NAMES + (
    ("libsgad ms/iter", "lib_ms", "{:.0f}"),
    ("torch ms/iter", "ref_ms", "{:.0f}"),
    ("iter x", "speedup", "{:.2f}"),
    ("dense ms/iter", "dense_ms", "{:.0f}"),
    ("dense x", "dense_speedup", "{:.2f}"),
    ("libsgad img/s", "lib_img", "{:.1f}"),
    ("torch img/s", "ref_img", "{:.1f}"),
    ("sample x", "sampling", "{:.2f}"),
    ("libsgad GEMM GF/s", "lib_gemm", "{:.0f}"),
    ("torch GEMM GF/s", "ref_gemm", "{:.0f}"),
    ("load", "load", "{:.1f}"),
)
SIZE_COLUMNS = NAMES + (
    ("libsgad MiB", "lib_rss", "{:.0f}"),
    ("torch MiB", "ref_rss", "{:.0f}"),
    ("RSS ratio", "rss", "{:.3f}"),
    ("torch import MiB", "ref_import_rss", "{:.0f}"),
    ("RSS ratio ex", "rss_ex", "{:.3f}"),
    ("GFLOP/iter", "lib_gflop", "{:.1f}"),
    ("torch GFLOP/iter", "ref_gflop", "{:.1f}"),
    ("libsgad GFLOP/s", "lib_gflops", "{:.1f}"),
    ("torch GFLOP/s", "ref_gflops", "{:.1f}"),
)


def verdicts(rows, rounds_of=None):
    """One line per target and row: the ratio, the bound, met or not met;
    with rounds_of (row key -> that row's per-round results), the ratio is
    the rounds' median and the line says in how many rounds it was met."""
    lines = []

    def judge(row, what, key, bound, at_least):
        value = row[key]
        ok = value >= bound if at_least else value <= bound
        rel = ">=" if at_least else "<="
        line = (f"{row['model']} {row['shape']} {row['threads']} thr {row['state']}: {what} "
                f"{value:.3f} (target {rel} {bound:g}): {'met' if ok else 'NOT met'}")
        if rounds_of:
            each = [r[key] for r in rounds_of[row_key(row)]]
            hits = sum(1 for v in each if (v >= bound if at_least else v <= bound))
            line += f" (median of {len(each)} rounds; met in {hits})"
        lines.append(line)

    for r in rows:
        if r["threads"] in ITERATION_TARGET:
            judge(r, "iteration speedup", "speedup", ITERATION_TARGET[r["threads"]], True)
        if r["threads"] == 2 and "dense_speedup" in r:
            judge(r, "dense-path speedup", "dense_speedup", DENSE_TARGET, True)
        judge(r, "sampling speedup", "sampling", SAMPLING_TARGET, True)
        judge(r, "peak RSS ratio", "rss", RSS_TARGET, False)
        judge(r, "peak RSS ratio, torch import subtracted", "rss_ex", RSS_TARGET, False)
        if abs(r["lib_gflop"] - r["ref_gflop"]) > 1e-3 * r["ref_gflop"]:
            lines.append(f"{r['model']} {r['shape']}: the FLOP counts disagree: libsgad "
                         f"{r['lib_gflop']} against torch {r['ref_gflop']} GFLOP")
    return lines


def row_key(r):
    return (r["model"], r["shape"], r["threads"], r.get("state", "fresh"))


def medians(rounds):
    """One result per row: the median over its rounds of every number (each
    ratio's own median, not the ratio of the medians)."""
    by_row = {}
    for r in rounds:
        by_row.setdefault(row_key(r), []).append(r)
    out = []
    for key, each in by_row.items():
        m = dict(each[0])
        for field, value in each[0].items():
            if isinstance(value, (int, float)) and field != "threads" and field != "round":
                m[field] = statistics.median(x[field] for x in each)
        m["round"] = "median"
        out.append(m)
    return out, by_row


def run_round(a, n, results, libs):
    """Round n: every row's sides, one right after the other, appended to
    results (the ratios) and libs (libsgad's own lines)."""
    common = ["--batch", str(a.batch), "--steps", str(a.steps)]
    for model, shape, threads in table.parse_rows(a.rows):
        row = ["--model", model, "--shape", shape, "--threads", str(threads)] + common
        lib = table.run([a.bin] + row + ["--iters", str(a.iters)])
        dense = None
        if a.dense_args and threads == 2:
            dense = table.run([a.bin] + row + ["--iters", str(a.iters)] + a.dense_args.split())
        iters = a.torch_iters_64 if shape == "64x64x3" else a.iters
        ref = table.run([a.torch_python, os.path.join(HERE, "torch_reference.py")] + row +
                        ["--iters", str(iters)])
        lib["round"] = n
        libs.append(lib)
        results.append(dict(ratios(lib, ref, dense), round=n, torch=ref.get("torch", "")))
        if a.checkpoint:
            trained_row(a, n, row, ref, results, libs, (model, shape))


def trained_row(a, n, row, ref, results, libs, want):
    """The same row continuing the checkpoint's trained state (on --data),
    when the checkpoint is of this row's model and shape."""
    state = ["--checkpoint", a.checkpoint, "--data", a.data]
    lib = table.run([a.bin] + row + ["--iters", str(a.iters)] + state)
    if (lib["model"], lib["shape"]) != want:
        return  # the checkpoint is of another model or shape
    if lib["steps"] != a.steps:
        print(f"compare: the checkpoint has T {lib['steps']}, the rows --steps {a.steps}: "
              "no trained row (pass --steps to match it)", file=sys.stderr)
        return
    dense = None
    if a.dense_args and "--threads" in row and row[row.index("--threads") + 1] == "2":
        dense = table.run([a.bin] + row + ["--iters", str(a.iters)] + state +
                          a.dense_args.split())
    lib["round"] = n
    libs.append(lib)
    results.append(dict(ratios(lib, ref, dense), round=n, torch=ref.get("torch", "")))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bin", default="build/release/bench/sgad-bench")
    p.add_argument("--torch-python", default="/usr/bin/python3")
    p.add_argument("--iters", type=int, default=2, help="timed iterations of each side")
    p.add_argument("--torch-iters-64", type=int, default=1,
                   help="timed iterations of the torch reference at 64x64x3 (slow)")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=16)
    p.add_argument("--rows", default=DEFAULT_ROWS)
    p.add_argument("--rounds", type=int, default=1,
                   help="run every row this many times and judge the medians")
    p.add_argument("--dense-args", default="--path dense",
                   help="sgad-bench arguments that force the dense path: 2-thread rows run "
                        "libsgad a second time with them, for the 3x target ('' to skip)")
    p.add_argument("--checkpoint", help="a trained checkpoint (file or directory) to continue "
                                        "in extra 'trained' rows of its model and shape")
    p.add_argument("--data", help="the IDX images the trained rows train on")
    a = p.parse_args()
    if a.rounds < 1:
        sys.exit("compare: --rounds must be at least 1")
    if bool(a.checkpoint) != bool(a.data):
        sys.exit("compare: --checkpoint and --data go together")
    results, libs = [], []
    for n in range(1, a.rounds + 1):
        run_round(a, n, results, libs)
    columns = [c for c in TIME_COLUMNS if a.dense_args or not c[1].startswith("dense")]
    rounds_of = None
    if a.rounds > 1:
        print(f"each of {a.rounds} rounds:")
        print(table.format_table(results, [("round", "round", "{}")] + columns, left=4))
        print()
        results, rounds_of = medians(results)
        print("medians over the rounds:")
    print(f"libsgad (sgad-bench) against PyTorch {results[0]['torch']} "
          f"(bench/torch_reference.py): batch {a.batch}, T {a.steps}; medians of {a.iters} "
          f"timed iterations after one warm-up ({a.torch_iters_64} for torch at 64x64x3);\n"
          "x = torch time / libsgad time (sampling: libsgad images/s / torch images/s); "
          "RSS ratio = libsgad / torch; load = the highest 1-minute load average as a "
          "run started (above 2, the 2 cores were shared and times are inflated)")
    print(table.format_table(results, columns))
    print()
    print(table.format_table(results, SIZE_COLUMNS))
    print()
    for line in verdicts(results, rounds_of):
        print(line)
    print()
    print("libsgad alone, as make bench prints it:")
    if a.rounds > 1:
        print(table.format_table(libs, (("round", "round", "{}"),) + table.COLUMNS, left=4))
    else:
        print(table.format_table(libs))
    if not a.dense_args:
        print("dense-path target (>= 3x at 2 threads): not measured (--dense-args '')")


if __name__ == "__main__":
    main()
