#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The SGAD paper's Section 5.4 (Figs. 7-8): every recorded layer of the
SGAD and hybrid discriminators against each visual area, with
sgad-similarity, then both figures (similarity_figures.py).

Two sources of "areas":
  --areas-dir DIR --stimuli FILE   real recordings: DIR/<AREA>.npy for the six
                                   areas and the stimuli they answer, as
                                   allen_to_npy.py writes them
  --standin --images FILE          a stand-in (standin_areas.py): a fixed
                                   random-feature spiking network's responses
                                   to the first --count images of FILE; not
                                   mouse data, only a pipeline check
Writes into --out: areas/ (stand-in only), similarity-<model>.csv and
.jsonl per checkpoint, fig7-similarity.png, fig8-rsa.png, summary.json.
With --check it then checks them (what `make experiments-smoke` runs):
every model has layers x 6 areas x 5 measures rows, RSA is defined and in
[-1, 1] for every layer and area, and both PNGs decode.

  similarity.py --bin-dir build/release/programs --out OUT --standin \\
      --images t10k-images-idx3-ubyte.gz --checkpoint SGAD=RUN/checkpoints \\
      --checkpoint "Hybrid GAN=RUN2/checkpoints" --check
"""
import argparse
import csv
import json
import math
import os
import shlex
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
AREAS = ["VISp", "VISl", "VISrl", "VISal", "VISam", "VISpm"]
MEASURES = ["rsa", "encoding", "svcca", "cka_linear", "cka_rbf"]


def run(cmd, log):
    print("$ " + shlex.join(cmd), flush=True)
    with open(log, "w") as f:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=f, text=True)
        f.write(proc.stdout)
    if proc.returncode != 0:
        with open(log) as f:
            end = "".join(f.readlines()[-10:])
        sys.exit(f"similarity: step failed with exit status {proc.returncode}:\n  "
                 f"{shlex.join(cmd)}\nlast lines of {log}:\n{end}")
    return proc.stdout


def slug(name):
    return "".join(c.lower() if c.isalnum() else "-" for c in name).strip("-")


def check(out, csvs, figures):
    """Failures of the outputs, as messages."""
    failures = []
    for name, path in csvs.items():
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        layers = sorted({r["layer"] for r in rows})
        if not layers:
            failures.append(f"{path}: no rows")
            continue
        if len(rows) != len(layers) * len(AREAS) * len(MEASURES):
            failures.append(f"{path}: {len(rows)} rows, expected {len(layers)} layers x "
                            f"{len(AREAS)} areas x {len(MEASURES)} measures")
        for r in rows:
            what = f"{name} {r['layer']} x {r['area']} {r['measure']}"
            if r["score"] == "":
                if r["measure"] == "rsa":
                    failures.append(f"{what}: undefined")
                continue
            v = float(r["score"])
            lo = -1.0 if r["measure"] in ("rsa", "encoding") else -0.05  # unbiased CKA may dip
            if not (math.isfinite(v) and lo - 1e-9 <= v <= 1 + 1e-9):
                failures.append(f"{what}: score {v}")
    from PIL import Image
    for path in figures:
        try:
            with Image.open(path) as im:
                im.load()
        except Exception as e:  # noqa: BLE001 - any decoding failure is a failure
            failures.append(f"{path}: {e}")
    return failures


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin-dir", required=True, help="where sgad-similarity is")
    p.add_argument("--out", required=True)
    p.add_argument("--checkpoint", action="append", required=True, metavar="NAME=PATH",
                   help="a model's name (in the figures) and checkpoint; repeat")
    p.add_argument("--standin", action="store_true", help="make stand-in areas")
    p.add_argument("--images", help="--standin: IDX images (28x28)")
    p.add_argument("--count", type=int, default=118, help="--standin: stimuli (default 118)")
    p.add_argument("--areas-dir", help="real recordings: DIR/<AREA>.npy")
    p.add_argument("--stimuli", help="real recordings: the stimuli file (IDX or PNG folder)")
    p.add_argument("--permutations", type=int, default=0)
    p.add_argument("--rdm", default="correlation", choices=["correlation", "euclidean"])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--python", default="/usr/bin/python3")
    p.add_argument("--check", action="store_true", help="check the outputs afterwards")
    args = p.parse_args(argv)
    if args.standin == bool(args.areas_dir):
        p.error("give either --standin --images FILE or --areas-dir DIR --stimuli FILE")
    if args.standin and not args.images:
        p.error("--standin needs --images")
    if args.areas_dir and not args.stimuli:
        p.error("--areas-dir needs --stimuli")
    for c in args.checkpoint:
        if "=" not in c:
            p.error(f"--checkpoint {c!r}: NAME=PATH")
    return args


def main(argv):
    args = parse_args(argv)
    started = time.monotonic()
    logs = os.path.join(args.out, "logs")
    os.makedirs(logs, exist_ok=True)
    if args.standin:
        areas_dir, stimuli, count = os.path.join(args.out, "areas"), args.images, args.count
        run([args.python, os.path.join(HERE, "standin_areas.py"), "--images", args.images,
             "--count", str(args.count), "--out", areas_dir], os.path.join(logs, "areas.log"))
    else:
        areas_dir, stimuli, count = args.areas_dir, args.stimuli, None
    prog = os.path.join(args.bin_dir, "sgad-similarity")
    csvs, seconds = {}, {}
    for spec in args.checkpoint:
        name, path = spec.split("=", 1)
        out_csv = os.path.join(args.out, f"similarity-{slug(name)}.csv")
        cmd = [prog, "--checkpoint", path, "--stimuli", stimuli, "--name", name, "--csv", out_csv,
               "--threads", str(args.threads), "--permutations", str(args.permutations),
               "--rdm", args.rdm]
        if count:
            cmd += ["--count", str(count)]
        for a in AREAS:
            cmd += ["--area", f"{a}={os.path.join(areas_dir, a + '.npy')}"]
        t0 = time.monotonic()
        lines = run(cmd, os.path.join(logs, f"similarity-{slug(name)}.log"))
        seconds[name] = round(time.monotonic() - t0, 1)
        with open(os.path.join(args.out, f"similarity-{slug(name)}.jsonl"), "w") as f:
            f.write(lines)
        csvs[name] = out_csv
    fig7 = os.path.join(args.out, "fig7-similarity.png")
    fig8 = os.path.join(args.out, "fig8-rsa.png")
    run([args.python, os.path.join(HERE, "similarity_figures.py"), "--fig7", fig7, "--fig8", fig8]
        + list(csvs.values()), os.path.join(logs, "figures.log"))
    summary = dict(areas="stand-in (standin_areas.py)" if args.standin else areas_dir,
                   stimuli=stimuli, count=count, rdm=args.rdm, permutations=args.permutations,
                   csv=csvs, figures=[fig7, fig8], seconds=seconds,
                   wall_seconds=round(time.monotonic() - started, 1))
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    for name, path in csvs.items():
        with open(path, newline="") as f:
            for r in csv.DictReader(f):
                if r["area"] == "VISp" and r["measure"] in ("rsa", "cka_linear"):
                    print(f"# {name:12s} {r['layer']:12s} VISp {r['measure']:10s} {r['score']}")
    print(f"# similarity done in {summary['wall_seconds']} s; {fig7}, {fig8}")
    if args.check:
        failures = check(args.out, csvs, [fig7, fig8])
        for m in failures:
            print(f"similarity check: {m}", file=sys.stderr)
        if failures:
            return 1
        print("# similarity check: every row in range, RSA defined everywhere, figures decode")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
