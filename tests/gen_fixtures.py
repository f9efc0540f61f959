#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes the PyTorch golden fixtures that tests/test_golden.c compares
libsgad against. Run with Debian's python3-torch: `make fixtures`, or
/usr/bin/python3 tests/gen_fixtures.py tests/fixtures

The reference models are written the way SGAD's authors run them: every
module is called once per time step in a Python loop, a BatchNorm module
sees one step at a time, and the neurons keep their membrane across the
loop. The loss is L = sum(y * r) for a random r, so the gradients are
those of backward(r).

File format (little-endian), one file per case:
    b"SGFX", u32 count, then count arrays, each:
    u32 name length, name bytes (UTF-8, no NUL), u32 ndim, ndim x i64 dims,
    prod(dims) x f32 values (C order).
Names: "x", "r", "y", "dx"; parameters under libsgad's names ("weight",
"bias", "running_mean", ...; nets "0.weight", ...); their gradients as
"grad.<name>"; buffers after the forward as "after.<name>"; "scores" for
the decoder's s_x.
"""
import math
import os
import struct
import sys

import torch
from torch import nn

torch.manual_seed(20261128)
torch.set_default_dtype(torch.float32)


def write(path, arrays):
    with open(path, "wb") as f:
        f.write(b"SGFX")
        f.write(struct.pack("<I", len(arrays)))
        for name, t in arrays:
            t = t.detach().to(torch.float32).contiguous()
            b = name.encode()
            f.write(struct.pack("<I", len(b)))
            f.write(b)
            f.write(struct.pack("<I", t.dim()))
            for d in t.shape:
                f.write(struct.pack("<q", d))
            f.write(t.numpy().astype("<f4").tobytes())


class AtanSpike(torch.autograd.Function):
    """Heaviside of H - V_th (strictly positive fires) with SGAD's arctan surrogate."""

    @staticmethod
    def forward(ctx, u, alpha):
        ctx.save_for_backward(u)
        ctx.alpha = alpha
        return (u > 0).to(u.dtype)

    @staticmethod
    def backward(ctx, g):
        (u,) = ctx.saved_tensors
        a = ctx.alpha
        return g * (a / 2) / (1 + (math.pi / 2 * a * u) ** 2), None


class Neuron:
    """LIF / IF / MP over a time loop, as the authors' nodes."""

    def __init__(self, kind="lif", tau=2.0, vth=1.0, soft=False, detach=True):
        self.kind, self.tau, self.vth, self.soft, self.detach = kind, tau, vth, soft, detach
        self.mem = 0.0

    def step(self, x):
        if self.kind == "if":
            self.mem = self.mem + x
        else:
            self.mem = self.mem + (x - self.mem) / self.tau
        if self.kind == "mp":
            return self.mem
        s = AtanSpike.apply(self.mem - self.vth, 2.0)
        sr = s.detach() if self.detach else s
        self.mem = self.mem - self.vth * sr if self.soft else self.mem * (1 - sr)
        return s


def per_step(fn, x):
    return torch.stack([fn(x[t]) for t in range(x.shape[0])])


def run_case(path, x, fn, params, buffers=(), extra=None):
    """params: list of (name, tensor with requires_grad); buffers: (name, tensor)."""
    before = [(n, b.clone()) for n, b in buffers]
    x = x.clone().requires_grad_(True)
    y = fn(x)
    r = torch.rand_like(y) * 2 - 1
    (y * r).sum().backward()
    arrays = [("x", x), ("r", r), ("y", y), ("dx", x.grad)]
    arrays += [(n, p) for n, p in params]
    arrays += [("grad." + n, p.grad) for n, p in params]
    arrays += before
    arrays += [("after." + n, b) for n, b in buffers]
    if extra:
        arrays += extra()
    write(path, arrays)


def linear_case(out, bias):
    m = nn.Linear(5, 4, bias=bias)
    params = [("weight", m.weight)] + ([("bias", m.bias)] if bias else [])
    run_case(out, torch.randn(2, 3, 5), lambda x: per_step(m, x), params)


def conv_case(out, transposed, cin, cout, k, s, p, hw):
    cls = nn.ConvTranspose2d if transposed else nn.Conv2d
    m = cls(cin, cout, k, stride=s, padding=p)
    run_case(out, torch.randn(2, 2, cin, *hw), lambda x: per_step(m, x),
             [("weight", m.weight), ("bias", m.bias)])


def bn_case(out, spatial, train):
    c = 3
    m = nn.BatchNorm2d(c) if spatial else nn.BatchNorm1d(c)
    with torch.no_grad():
        m.weight.uniform_(0.5, 1.5)
        m.bias.uniform_(-0.5, 0.5)
        m.running_mean.uniform_(-0.5, 0.5)
        m.running_var.uniform_(0.5, 2.0)
    m.train(train)
    shape = (3, 4, c, 3, 2) if spatial else (3, 5, c)
    x = torch.randn(*shape) * 2 + 0.5
    run_case(out, x, lambda x: per_step(m, x), [("weight", m.weight), ("bias", m.bias)],
             [("running_mean", m.running_mean), ("running_var", m.running_var)])


def pool_case(out, k, s, p, hw):
    m = nn.AvgPool2d(k, stride=s, padding=p)
    run_case(out, torch.randn(2, 2, 2, *hw), lambda x: per_step(m, x), [])


def neuron_case(out, **kw):
    def fn(x):
        n = Neuron(**kw)
        return per_step(n.step, x)
    run_case(out, torch.rand(8, 3, 5) * 3 - 0.5, fn, [])


def chain_case(out):
    """Linear -> BatchNorm1d -> LIF over T = 6: the core of SGAD's generator."""
    lin, bn = nn.Linear(4, 6), nn.BatchNorm1d(6)
    with torch.no_grad():
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(0.0, 1.0)

    def fn(x):
        n = Neuron()
        return per_step(lambda v: n.step(bn(lin(v))), x)

    run_case(out, torch.randn(6, 4, 4), fn,
             [("0.weight", lin.weight), ("0.bias", lin.bias), ("1.weight", bn.weight),
              ("1.bias", bn.bias)],
             [("1.running_mean", bn.running_mean), ("1.running_var", bn.running_var)])


def attention_case(out, down):
    """ScoringMP with AttentionScoring_1 (shared key map), optionally behind the
    RGB variant's Linear+ReLU, written from the paper's Eq. 6."""
    D, H = 12, 8
    q = nn.Linear(down or D, H)
    k = nn.Linear(down or D, H)
    d = nn.Linear(D, down) if down else None
    with torch.no_grad():  # larger weights: scores away from 1/2
        q.weight.mul_(3)
        k.weight.mul_(3)
    scores = []

    def phi(v):
        return torch.relu(d(v)) if d is not None else v

    def fn(x):
        mem = x[0].reshape(x.shape[1], -1)
        scores.append(torch.ones(x.shape[1]))
        for t in range(1, x.shape[0]):
            xt = x[t].reshape(x.shape[1], -1)
            qv = q(phi(mem)).unsqueeze(1)                                  # (b,1,H)
            keys = k(torch.stack([phi(mem), phi(xt)], dim=1))              # (b,2,H)
            w = torch.softmax(torch.bmm(qv, keys.transpose(1, 2)) / math.sqrt(H), dim=-1)
            sv, sx = w[:, 0, 0:1], w[:, 0, 1:2]
            scores.append(sx[:, 0])
            mem = (sv * mem + sx * xt) / (sv + sx)
        return mem.reshape(1, *x.shape[1:])

    params = []
    if d is not None:
        params += [("down.weight", d.weight), ("down.bias", d.bias)]
    params += [("query.weight", q.weight), ("query.bias", q.bias), ("key.weight", k.weight),
               ("key.bias", k.bias)]
    run_case(out, torch.rand(5, 3, 3, 2, 2), fn, params,
             extra=lambda: [("scores", torch.stack(scores).detach())])


def optimizer_case(out, make_opt):
    """Three optimizer steps on a Linear(4 -> 3) with given gradients."""
    lin = nn.Linear(4, 3)
    arrays = [("0.weight", lin.weight.detach().clone()), ("0.bias", lin.bias.detach().clone())]
    opt = make_opt(lin.parameters())
    for t in range(1, 4):
        opt.zero_grad()
        lin.weight.grad = torch.randn(3, 4) * 10 ** (t - 2)
        lin.bias.grad = torch.randn(3)
        arrays += [(f"g{t}.0.weight", lin.weight.grad.clone()),
                   (f"g{t}.0.bias", lin.bias.grad.clone())]
        opt.step()
    arrays += [("after.0.weight", lin.weight), ("after.0.bias", lin.bias)]
    write(out, arrays)


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures"
    os.makedirs(outdir, exist_ok=True)
    p = lambda name: os.path.join(outdir, name + ".bin")
    linear_case(p("linear_bias"), True)
    linear_case(p("linear_nobias"), False)
    conv_case(p("conv2d_k5"), False, 1, 3, 5, 1, 0, (8, 9))
    conv_case(p("conv2d_k3s2p1"), False, 2, 3, 3, 2, 1, (7, 6))
    conv_case(p("convt2d_k4s2p1"), True, 3, 2, 4, 2, 1, (4, 3))
    conv_case(p("convt2d_k3"), True, 2, 2, 3, 1, 0, (3, 5))
    bn_case(p("batchnorm1d_train"), False, True)
    bn_case(p("batchnorm2d_train"), True, True)
    bn_case(p("batchnorm2d_eval"), True, False)
    pool_case(p("avgpool2d_k2"), 2, 2, 0, (6, 4))
    pool_case(p("avgpool2d_k3s2p1"), 3, 2, 1, (5, 7))
    run_case(p("sigmoid"), torch.randn(2, 3, 4) * 3, torch.sigmoid, [])
    run_case(p("leaky_relu"), torch.randn(2, 3, 4), lambda x: nn.functional.leaky_relu(x, 0.2), [])
    neuron_case(p("lif"))
    neuron_case(p("lif_soft"), soft=True)
    neuron_case(p("lif_attached"), detach=False)
    neuron_case(p("if"), kind="if")
    neuron_case(p("mp"), kind="mp")
    chain_case(p("chain_linear_bn_lif"))
    attention_case(p("attention"), 0)
    attention_case(p("attention_down"), 10)
    optimizer_case(p("rmsprop"), lambda ps: torch.optim.RMSprop(ps, lr=0.01))
    optimizer_case(p("adam"), lambda ps: torch.optim.Adam(ps, lr=0.01, weight_decay=0.1))


if __name__ == "__main__":
    main()
