#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""PyTorch reference for sgad-bench: the same models, trained the authors'
way, timed the same way. Needs Debian's python3-torch (not run in CI).

    /usr/bin/python3 bench/torch_reference.py --model sgad --shape 28x28x1 \\
        --batch 64 --steps 16 --threads 2 --iters 2

The models are those of the golden fixtures (tests/gen_model_fixtures.py):
a Python loop over the T steps, one BatchNorm call per step, LIF state
started afresh per forward, the arctan surrogate. One configuration per
process, so the peak RSS printed is this configuration's alone (bench/
compare.py starts one process for each).

After one warm-up iteration, which also counts the matrix-product flops
that autograd runs, it times N training iterations (D update on real and
fake batches, then G update on the same z, RMSprop, the loss of the model)
and, after one warm-up call, N sampling calls (G in evaluation mode under
no_grad), and prints,
last, one JSON line with sgad-bench's fields.

Threads: Debian's torch runs its own kernels on torch.set_num_threads(K)
threads, but sends matrix products to libblas.so.3, which is BLIS (OpenMP)
once libblis is installed, and BLIS reads its thread count from
BLIS_NUM_THREADS / OMP_NUM_THREADS once, when it loads. So this script sets
both (and MKL's and OpenBLAS's, for other BLAS builds) to K before torch
is imported, and proves it in the JSON: `matmul_gflops` times a
1024 x 6272 x 1024 product, which runs about twice as fast at 2 threads
as at 1 when the variables took effect.

Memory: `import_rss_mib` is the peak RSS right after `import torch` (the
library and its kernels, before any model exists); `peak_rss_mib` is the
whole run's, so the model's own share is their difference."""
import argparse
import json
import os
import resource
import statistics
import sys
import time


def threads_from_argv(argv):
    """--threads K as given (argparse proper runs after torch is loaded)."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--threads", type=int, default=1)
    known, _ = pre.parse_known_args(argv)
    return max(known.threads, 1)


THREAD_VARIABLES = ("OMP_NUM_THREADS", "BLIS_NUM_THREADS", "MKL_NUM_THREADS",
                    "OPENBLAS_NUM_THREADS")
for _var in THREAD_VARIABLES:
    os.environ[_var] = str(threads_from_argv(sys.argv[1:]))

import torch  # noqa: E402  (after the thread variables, which BLIS reads on load)
from torch.utils._python_dispatch import TorchDispatchMode  # noqa: E402

IMPORT_RSS_MIB = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import gen_model_fixtures as models  # noqa: E402

MODELS = ("sgan", "swgan", "sgad", "hybrid")


class FlopCounter(TorchDispatchMode):
    """Counts 2 x multiply-adds of every matrix product and convolution
    that runs under it, forward and backward (autograd's backward ops run
    on the calling thread on CPU, so the mode sees them)."""

    def __init__(self):
        super().__init__()
        self.flops = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        self.flops += op_flops(func.overloadpacket, args, out)
        return out


def conv_flops(x_shape, w_shape, out_shape, transposed):
    """2 x multiply-adds: every output value of a convolution takes
    in/groups * k * k of them, every input value of a transposed one
    out/groups * k * k; both are the weight's numel over its first dim."""
    per = 1
    for n in w_shape[1:]:
        per *= n
    count = 1
    for n in (x_shape if transposed else out_shape):
        count *= n
    return 2 * count * per


def op_flops(op, args, out):
    aten = torch.ops.aten
    if op is aten.mm:
        return 2 * args[0].shape[0] * args[0].shape[1] * args[1].shape[1]
    if op is aten.addmm:
        return 2 * args[1].shape[0] * args[1].shape[1] * args[2].shape[1]
    if op is aten.bmm:
        b, m, k = args[0].shape
        return 2 * b * m * k * args[1].shape[2]
    if op is aten.convolution:
        return conv_flops(args[0].shape, args[1].shape, out.shape, args[6])
    if op is aten.convolution_backward:
        # (grad_out, input, weight, ..., transposed = 7, ..., output_mask = 10)
        once = conv_flops(args[1].shape, args[2].shape, args[0].shape, args[7])
        return once * (int(args[10][0]) + int(args[10][1]))
    return 0


def default_latent(model, shape):
    """libsgad's presets (src/preset.c): the paper's sizes."""
    if model == "sgan":
        return 100
    return 20 if shape == "64x64x3" else 15


class Reference:
    """G, D, their RMSprop optimizers and one batch of random images."""

    def __init__(self, model, shape, batch, steps):
        models.Margin.track = False
        self.model, self.batch, self.steps = model, batch, steps
        self.latent = default_latent(model, shape)
        self.g = models.generator(model, self.latent, shape, steps)
        self.d = models.discriminator(model, shape, steps)
        self.g.materialise(0)
        self.d.materialise(0)
        lr_d = 4e-4 if model == "sgan" else 2e-4
        self.opt_g = torch.optim.RMSprop(list(self.g.params.values()), lr=2e-4)
        self.opt_d = torch.optim.RMSprop(list(self.d.params.values()), lr=lr_d)
        c, side = models.GEOMETRY[shape][:2]
        real = torch.rand(batch, c, side, side)
        self.real_seq = models.real_sequence(model, real, steps)
        self.minimax = model in ("sgan", "hybrid")

    def latents(self):
        return torch.rand(1, self.batch, self.latent) * 4.0 - 2.0

    def step(self):
        """One training iteration: D update, then G update on the same z."""
        z = self.latents()
        self.opt_d.zero_grad(set_to_none=True)
        models.d_backward(self.g, self.d, z, self.real_seq, self.minimax)
        self.opt_d.step()
        self.opt_g.zero_grad(set_to_none=True)
        self.opt_d.zero_grad(set_to_none=True)
        models.g_backward(self.g, self.d, z, self.minimax)
        self.opt_g.step()

    def sample(self, z):
        self.g.training = False
        with torch.no_grad():
            out = self.g.forward([z[0]])
        self.g.training = True
        return out


def matmul_gflops(m=1024, n=6272, k=1024, repeats=3):
    """GFLOP/s of torch.mm at [m, k] x [k, n], best of `repeats` after one
    warm-up: the evidence that the BLAS under torch runs on K threads."""
    a, b = torch.rand(m, k), torch.rand(k, n)
    torch.mm(a, b)
    best = min(timed(lambda: torch.mm(a, b), repeats)) * 1e-3
    return 2.0 * m * n * k / best * 1e-9


def timed(fn, count):
    ms = []
    for _ in range(count):
        t0 = time.perf_counter()
        fn()
        ms.append(1e3 * (time.perf_counter() - t0))
    return ms


def parse():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", choices=MODELS, default="sgad")
    p.add_argument("--shape", choices=tuple(models.GEOMETRY), default="28x28x1")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=16)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--iters", type=int, default=2)
    a = p.parse_args()
    for name in ("batch", "steps", "threads", "iters"):
        if getattr(a, name) < 1:
            p.error(f"--{name} must be at least 1, got {getattr(a, name)}")
    return a


def main():
    a = parse()
    torch.set_num_threads(a.threads)
    torch.manual_seed(42)
    ref = Reference(a.model, a.shape, a.batch, a.steps)
    counter = FlopCounter()
    with counter:
        ref.step()  # the warm-up
    ms = timed(ref.step, a.iters)
    for i, t in enumerate(ms):
        print(f"iteration {i + 1}: {t:.1f} ms", flush=True)
    z = ref.latents()
    ref.sample(z)  # the sampling warm-up, as sgad-bench's
    sms = timed(lambda: ref.sample(z), a.iters)
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    mm = matmul_gflops()
    med = statistics.median_low(ms)
    gflop = counter.flops * 1e-9
    print(json.dumps({
        "impl": "torch", "torch": torch.__version__, "model": a.model, "shape": a.shape,
        "batch": a.batch, "steps": a.steps, "threads": a.threads, "iters": a.iters,
        "median_ms": round(med, 2), "min_ms": round(min(ms), 2),
        "sample_images_per_s": round(a.batch / (statistics.median_low(sms) * 1e-3), 2),
        "peak_rss_mib": round(rss_mib, 1), "import_rss_mib": round(IMPORT_RSS_MIB, 1),
        "gflop_per_iter": round(gflop, 6), "achieved_gflops": round(gflop / (med * 1e-3), 2),
        "thread_env": {v: os.environ[v] for v in THREAD_VARIABLES},
        "torch_threads": torch.get_num_threads(), "matmul_gflops": round(mm, 1)}))


if __name__ == "__main__":
    main()
