# SPDX-License-Identifier: MIT
"""Nets and layers from Python: conv-BN-LIF-pool-flatten-linear-MP built
from sgad.* layers learns a small separable task with RMSprop; parameters
are views; ownership passes to the net on adoption; options by name."""
import gc
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import sgad  # noqa: E402


def task(n, seed):
    """8x8 images, class 0 brighter on the left half, class 1 on the right."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    x = rng.random((n, 1, 8, 8), dtype=np.float32) * 0.5
    for i, c in enumerate(labels):
        x[i, 0, :, 4 * c:4 * c + 4] += 0.5
    return x[None], labels  # [1, N, 1, 8, 8]


def cross_entropy(logits, labels):
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    n = len(labels)
    loss = -np.log(p[np.arange(n), labels] + 1e-12).mean()
    grad = p.copy()
    grad[np.arange(n), labels] -= 1
    return loss, (grad / n).astype(np.float32)


def classifier(ctx, steps=4):
    return sgad.Net(ctx, [
        sgad.Repeat(ctx, steps),
        sgad.Conv2d(ctx, 1, 4, 3, stride=1, padding=1),
        sgad.BatchNorm2d(ctx, 4),
        sgad.LIF(ctx),
        sgad.AvgPool2d(ctx, 2),
        sgad.Reshape(ctx, 4 * 4 * 4),
        sgad.Linear(ctx, 64, 2),
        sgad.MP(ctx),
        sgad.LastStep(ctx),
    ])


def test_conv_bn_lif_pool_linear_mp_learns():
    ctx = sgad.Context(threads=1, seed=11)
    net = classifier(ctx)
    opt = sgad.RMSprop(net, lr=1e-2)
    assert opt.get("lr") == pytest.approx(1e-2)
    x_test, y_test = task(64, seed=100)

    def evaluate():
        net.eval()
        logits = net.forward(x_test)[0]
        net.train()
        return cross_entropy(logits, y_test)[0], (logits.argmax(1) == y_test).mean()

    loss0, _ = evaluate()
    for it in range(60):
        x, y = task(32, seed=it)
        logits = net.forward(x)
        assert logits.shape == (1, 32, 2)
        loss, grad = cross_entropy(logits[0], y)
        net.zero_grad()
        dx = net.backward(grad[None])
        assert dx.shape == x.shape
        opt.step()
    loss1, acc = evaluate()
    assert opt.steps == 60
    print("loss", loss0, "->", loss1, "accuracy", acc)
    assert loss1 < 0.5 * loss0, (loss0, loss1)
    assert acc >= 0.9, acc
    assert 0.0 <= net.firing_rate(3) <= 1.0


def test_parameters_are_views_and_grads_accumulate():
    ctx = sgad.Context(threads=1, seed=1)
    net = sgad.Net(ctx, [sgad.Linear(ctx, 3, 2), sgad.MP(ctx)])
    params = dict((name, (v, g)) for name, v, g in net.parameters())
    assert set(params) == {"0.weight", "0.bias"}
    w, gw = params["0.weight"]
    w[...] = 0.0
    params["0.bias"][0][...] = np.array([1.0, -1.0], dtype=np.float32)
    x = np.ones((2, 4, 3), dtype=np.float32)
    y = net.forward(x)
    assert y.shape == (2, 4, 2)
    # MP with tau 2 and input decay: V1 = b/2, V2 = V1 + (b - V1)/2
    np.testing.assert_allclose(y[0, 0], [0.5, -0.5], rtol=1e-6)
    np.testing.assert_allclose(y[1, 0], [0.75, -0.75], rtol=1e-6)
    net.zero_grad()
    net.backward(np.ones_like(y))
    g1 = gw.copy()
    assert np.abs(g1).sum() > 0
    net.backward(np.ones_like(y))  # adds
    np.testing.assert_allclose(gw, 2 * g1, rtol=1e-6)
    net.zero_grad()
    assert not gw.any()
    state = net.state_dict()
    del net, params
    gc.collect()
    np.testing.assert_array_equal(w, 0.0)  # the view kept the net alive
    assert state["0.bias"].tolist() == [1.0, -1.0]


def test_layers_belong_to_the_net_once_adopted():
    ctx = sgad.Context(threads=1)
    lif = sgad.LIF(ctx, tau=3.0, surrogate="sigmoid", alpha=4.0, reset_mode="soft")
    assert lif.get("tau") == 3.0 and lif.get("alpha") == 4.0
    assert lif.get(sgad.constants.OPT_NEURON_SURROGATE) == sgad.constants.SURROGATE_SIGMOID
    assert lif.kind == sgad.constants.LAYER_LIF and lif.kind_name == "lif"
    net = sgad.Net(ctx, [sgad.Linear(ctx, 2, 2, bias=False)])
    net.append(lif)
    assert lif.net is net and len(net) == 2 and net[1] is lif
    with pytest.raises(ValueError):
        sgad.Net(ctx).append(lif)
    with pytest.raises(ValueError):
        net.append(sgad.IF(sgad.Context()))  # another context
    with pytest.raises(sgad.SgadError) as e:
        lif.set("tau", -1.0)
    assert "INVALID" in e.value.status
    with pytest.raises(KeyError):
        lif.set("no_such_option", 1.0)
    del net
    gc.collect()
    assert lif.get("tau") == 3.0  # the layer keeps its net alive
    loose = sgad.Sigmoid(ctx)
    del loose  # freed by its Python object
    gc.collect()


def test_every_layer_kind_builds_and_runs():
    ctx = sgad.Context(threads=1, seed=2)
    net = sgad.Net(ctx, [
        sgad.Repeat(ctx, 2),
        sgad.Linear(ctx, 6, 16), sgad.BatchNorm1d(ctx, 16), sgad.LeakyReLU(ctx, 0.2),
        sgad.Reshape(ctx, (4, 2, 2)),
        sgad.ConvTranspose2d(ctx, 4, 2, 4, stride=2, padding=1),
        sgad.BatchNorm2d(ctx, 2), sgad.IF(ctx),
        sgad.Conv2d(ctx, 2, 2, 3, padding=1), sgad.Sigmoid(ctx),
        sgad.TimeMean(ctx),
    ])
    y = net.forward(np.random.default_rng(0).random((1, 3, 6), dtype=np.float32))
    assert y.shape == (1, 3, 2, 4, 4) and np.all((y >= 0) & (y <= 1))
    dx = net.backward(np.ones_like(y))
    assert dx.shape == (1, 3, 6) and np.isfinite(dx).all()
    net.eval()
    assert net.output_shape((1, 5, 6)) == (1, 5, 2, 4, 4)
    opt = sgad.Adam(net, lr=1e-3, betas=(0.5, 0.999))
    assert opt.get("beta1") == 0.5
    opt.step()


def test_shape_errors_name_the_layer():
    ctx = sgad.Context(threads=1)
    net = sgad.Net(ctx, [sgad.Linear(ctx, 4, 2)])
    with pytest.raises(sgad.SgadError) as e:
        net.forward(np.zeros((1, 2, 5), dtype=np.float32))
    assert "SHAPE" in e.value.status
    with pytest.raises(RuntimeError):
        sgad.Net(ctx, [sgad.Linear(ctx, 4, 2)]).backward(np.zeros((1, 2, 2), np.float32))


def test_context_counts_survive_garbage_collected_nets():
    """A net and its layers form a cycle; whichever the collector finalises
    first, the context counts each object once and outlives them all."""
    ctx = sgad.Context(threads=1)
    keep = sgad.Net(ctx, [sgad.Linear(ctx, 3, 2)])
    for _ in range(5):
        net = sgad.Net(ctx, [sgad.Linear(ctx, 3, 2), sgad.MP(ctx)])
        opt = sgad.RMSprop(net)
        del net, opt
        gc.collect()
    assert ctx._children == 2  # keep and its layer
    ctx.__del__()  # as at interpreter exit
    assert keep.forward(np.ones((1, 2, 3), dtype=np.float32)).shape == (1, 2, 2)
    layer = keep[0]
    del keep
    gc.collect()
    assert ctx._children == 2 and ctx._h is not None  # the layer holds the net
    del layer
    gc.collect()
    assert ctx._h is None


def test_context_manager_frees_after_the_last_object():
    with sgad.Context(threads=1) as ctx:
        net = sgad.Net(ctx, [sgad.Linear(ctx, 2, 2)])
    assert not ctx.closed  # the net still uses it
    assert net.forward(np.ones((1, 1, 2), np.float32)).shape == (1, 1, 2)
    del net
    gc.collect()
    assert ctx.closed
    with sgad.Context() as empty:
        pass
    assert empty.closed
    with pytest.raises(ValueError, match="closed"):
        sgad.Net(empty)


def test_activation_gives_a_spiking_layers_steps_in_evaluation():
    """Net.activation: the LIF's spikes [T, N, C, H, W], binary, whose mean
    is the layer's firing rate; in training the fused LIF keeps no spike
    map and the library says so."""
    ctx = sgad.Context(seed=3)
    net = classifier(ctx, steps=4)
    x, _ = task(6, 1)
    net.eval()
    net.forward(x)
    spikes = net.activation(3)
    assert spikes.shape == (4, 6, 4, 8, 8)
    assert set(np.unique(spikes)) <= {0.0, 1.0}
    assert abs(spikes.mean() - net.firing_rate(3)) < 1e-6
    net.train()
    net.forward(x)
    with pytest.raises(sgad.SgadError):
        net.activation(3)
