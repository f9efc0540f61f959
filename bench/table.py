#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The table of `make bench`: runs sgad-bench once per row (its own process,
so each row's peak RSS is its own) and formats the JSON line each prints
last. Standard library only.

    python3 bench/table.py [--bin build/release/bench/sgad-bench] [--iters 3]
                           [--batch 64] [--steps 16]
                           [--rows sgad:28x28x1:1,sgad:28x28x1:2,...]

A row is model:shape:threads. The default rows are the SGAD presets the
issue names: 28x28x1 and 64x64x3 at 1 and 2 threads."""
import argparse
import json
import os
import subprocess
import sys

DEFAULT_ROWS = "sgad:28x28x1:1,sgad:28x28x1:2,sgad:64x64x3:1,sgad:64x64x3:2"

# (header, JSON field, format): the columns, left to right.
COLUMNS = (
    ("model", "model", "{}"),
    ("shape", "shape", "{}"),
    ("thr", "threads", "{}"),
    ("state", "state", "{}"),
    ("ms/iter", "median_ms", "{:.0f}"),
    ("min ms", "min_ms", "{:.0f}"),
    ("sample img/s", "sample_images_per_s", "{:.0f}"),
    ("peak RSS MiB", "peak_rss_mib", "{:.0f}"),
    ("GFLOP/iter", "gflop_per_iter", "{:.1f}"),
    ("GFLOP/s", "achieved_gflops", "{:.1f}"),
    ("BLIS sgemm GFLOP/s", "sgemm_gflops", "{:.1f}"),
    ("load", "load", "{:.1f}"),
)


def last_json(text):
    """The last line of text that parses as a JSON object."""
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                continue
    return None


def run(cmd):
    """Runs cmd and returns its JSON line, or exits naming what failed. The
    line gets "load": the 1-minute load average as cmd started (on 2 shared
    cores, a load above 2 means the times are inflated)."""
    load = os.getloadavg()[0]
    print(f"running (load {load:.1f}): " + " ".join(cmd), file=sys.stderr, flush=True)
    try:
        done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True)
    except OSError as e:
        sys.exit(f"table: cannot run {cmd[0]}: {e}")
    result = last_json(done.stdout) if done.returncode == 0 else None
    if result is None:
        sys.exit(f"table: {' '.join(cmd)} failed (exit {done.returncode}):\n"
                 f"{done.stderr.strip() or done.stdout.strip()}")
    result["load"] = load
    return result


def parse_rows(text):
    rows = []
    for item in text.split(","):
        parts = item.split(":")
        if len(parts) != 3 or not parts[2].isdigit():
            sys.exit(f"table: bad row '{item}': expected model:shape:threads, "
                     "e.g. sgad:28x28x1:2")
        rows.append((parts[0], parts[1], int(parts[2])))
    return rows


def format_table(results, columns=COLUMNS, left=3):
    """Aligned text table: one row per result, one column per entry; the
    first `left` columns (names) align left, the numbers right."""
    cells = [[h for h, _, _ in columns]]
    for r in results:
        cells.append([fmt.format(r[key]) if key in r else "-" for _, key, fmt in columns])
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(c.rjust(w) if i >= left else c.ljust(w)
                               for i, (c, w) in enumerate(zip(row, widths))).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bin", default="build/release/bench/sgad-bench")
    p.add_argument("--iters", type=int, default=3)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=16)
    p.add_argument("--rows", default=DEFAULT_ROWS)
    p.add_argument("--checkpoint", help="also time rows of this checkpoint's model and shape "
                                        "continuing its trained state ('trained' rows)")
    p.add_argument("--data", help="the IDX images the trained rows train on")
    a = p.parse_args()
    if bool(a.checkpoint) != bool(a.data):
        sys.exit("table: --checkpoint and --data go together")
    results = []
    for model, shape, threads in parse_rows(a.rows):
        row = [a.bin, "--model", model, "--shape", shape, "--batch", str(a.batch),
               "--steps", str(a.steps), "--threads", str(threads), "--iters", str(a.iters)]
        results.append(run(row))
        if a.checkpoint:
            trained = run(row + ["--checkpoint", a.checkpoint, "--data", a.data])
            if (trained["model"], trained["shape"]) == (model, shape):
                results.append(trained)
    print(f"sgad-bench: batch {a.batch}, T {a.steps}, median of {a.iters} training "
          "iterations after one warm-up; GFLOP/s = GFLOP/iter over ms/iter;\n"
          "BLIS sgemm = bli_sgemm in the same process, same threads, on the shape of "
          "G's widest product (fc2)")
    print(format_table(results))


if __name__ == "__main__":
    main()
