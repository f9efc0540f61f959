# SPDX-License-Identifier: MIT
"""sgad.torch: a linear-LIF-linear-MP net run by libsgad inside autograd
matches the same net written in PyTorch (forward, input and parameter
gradients) to float tolerance, and torch optimizers train it in place."""
import math
import os
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="sgad.torch needs python3-torch")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import sgad  # noqa: E402
import sgad.torch  # noqa: E402


class AtanSpike(torch.autograd.Function):
    """Heaviside forward, SGAD's arctan surrogate (alpha 2) backward."""

    @staticmethod
    def forward(ctx, u):
        ctx.save_for_backward(u)
        return (u > 0).to(u.dtype)

    @staticmethod
    def backward(ctx, g):
        (u,) = ctx.saved_tensors
        alpha = 2.0
        return g * (alpha / 2) / (1 + (math.pi / 2 * alpha * u) ** 2)


def reference(x, w1, b1, w2, b2, tau=2.0):
    """Linear -> LIF (hard reset to 0, threshold 1, detached reset) ->
    Linear -> MP, over x [T, N, in]."""
    v = torch.zeros(x.shape[1], w1.shape[0], dtype=x.dtype)
    m = torch.zeros(x.shape[1], w2.shape[0], dtype=x.dtype)
    out = []
    for t in range(x.shape[0]):
        h = v + (x[t] @ w1.T + b1 - v) / tau
        s = AtanSpike.apply(h - 1.0)
        v = h * (1 - s.detach())
        m = m + (s @ w2.T + b2 - m) / tau
        out.append(m)
    return torch.stack(out)


def test_linear_lif_net_matches_pytorch():
    ctx = sgad.Context(threads=1, seed=4)
    net = sgad.Net(ctx, [sgad.Linear(ctx, 5, 7), sgad.LIF(ctx), sgad.Linear(ctx, 7, 3),
                         sgad.MP(ctx)])
    module = sgad.torch.Module(net)
    rng = np.random.default_rng(0)
    for _, value, _ in net.parameters():
        value[...] = rng.normal(0, 0.8, value.shape)
    x = torch.tensor(rng.random((6, 4, 5)) * 2, dtype=torch.float32, requires_grad=True)
    y = module(x)
    dy = torch.tensor(rng.normal(size=(6, 4, 3)), dtype=torch.float32)
    (y * dy).sum().backward()

    ref_params = [p.detach().clone().requires_grad_(True) for p in module.parameters()]
    xr = x.detach().clone().requires_grad_(True)
    yr = reference(xr, *ref_params)
    (yr * dy).sum().backward()
    assert 0 < net.firing_rate(1) < 1  # some neurons fire, some do not
    torch.testing.assert_close(y, yr, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(x.grad, xr.grad, rtol=1e-4, atol=1e-5)
    for p, r in zip(module.parameters(), ref_params):
        torch.testing.assert_close(p.grad, r.grad, rtol=1e-4, atol=1e-5)


def test_torch_optimizer_trains_the_net_in_place():
    ctx = sgad.Context(threads=1, seed=5)
    net = sgad.Net(ctx, [sgad.Linear(ctx, 4, 2), sgad.MP(ctx)])
    module = sgad.torch.Module(net)
    opt = torch.optim.SGD(module.parameters(), lr=0.5)
    x = torch.ones(3, 2, 4)
    target = torch.full((3, 2, 2), 0.25)
    first = None
    for _ in range(30):
        opt.zero_grad()
        loss = ((module(x) - target) ** 2).mean()
        loss.backward()
        opt.step()
        first = loss.item() if first is None else first
    assert loss.item() < 0.2 * first  # MP ramps up over T: 0.25 at every step is out of reach
    # the library's memory is what torch changed
    np.testing.assert_allclose(net.forward(x.numpy()), module(x).detach().numpy())


def test_backward_after_another_forward_is_refused():
    ctx = sgad.Context(threads=1)
    module = sgad.torch.Module(sgad.Net(ctx, [sgad.Linear(ctx, 2, 2), sgad.MP(ctx)]))
    y1 = module(torch.ones(1, 1, 2, requires_grad=True))
    module(torch.zeros(1, 1, 2))
    with pytest.raises(RuntimeError, match="another forward"):
        y1.sum().backward()
