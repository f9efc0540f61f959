#!/usr/bin/python3
"""Writes the whole-model golden fixtures that tests/test_golden_models.c
compares libsgad against: one training iteration of each of the paper's
four models (SGAD, SWGAN, SGAN, Hybrid) at 28x28x1, written in PyTorch the
way the authors run them (a time loop, per-step BatchNorm, fresh neuron
state per forward). Run with Debian's python3-torch (`make fixtures`).

Weights are not stored: both sides compute them from a formula keyed by
the parameter's name and a salt, so a 6.6-million-parameter model needs a
fixture of some 100 KB. The values are multiples of 2^-10; with spike or
2^-4-quantised inputs every matrix product before a neuron is then exact in
float32 whatever the summation order, and the two implementations can
only part at a threshold through BatchNorm's rounding. The script also
refuses a salt for which any membrane comes within MARGIN of a threshold,
so a spike cannot flip between them.

Stored per model (names prefixed "G." or "D." use libsgad's parameter
names, e.g. "G.4.weight"):
  salt, lr_g, lr_d            scalars
  init.<p>                    [centre, half-width] of p's formula
  zero_grad.<p>               present if p's true gradient is zero (a bias
                              directly before BatchNorm; D's last bias under
                              the EM loss): both sides set its rounding
                              noise to exactly 0 before the optimizer step
  z [1,N,latent], real [N,1,28,28]
  fake                        G's images (training mode, first forward)
  score_real, score_fake      D's per-sample outputs before any update
  grad.<p>                    gradients handed to the optimizer: D's of
                              the D update, G's of the G update
  after.<p>                   parameters and buffers after the iteration
  err.<array>                 max |float32 - float64| of PyTorch's own
                              result for that array (fake, score_*,
                              grad.<p>, after.<buffer>)
  sample.<p>                  [offset, stride] when grad/after hold only
                              every stride-th element (tensors above
                              FULL elements); l1.<p> is then the L1 norm of
                              the whole gradient
"""
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_fixtures import AtanSpike, write  # noqa: E402

N, T = 4, 3
# The spiking D's linear layers, which feed neurons without batch norm, get
# weights GAIN times PyTorch's default width, so the untrained D spikes at
# all (the hybrid's ANN D keeps the default: larger would saturate its
# sigmoid and leave G no gradient).
GAIN = 8.0
MARGIN = 2e-6
FULL = 8192
SAMPLES = 2048
MASK = (1 << 64) - 1


def fnv1a(text):
    h = 0xCBF29CE484222325
    for b in text.encode():
        h = ((h ^ b) * 0x100000001B3) & MASK
    return h


def formula(name, salt, count, centre, half):
    """centre + half * (2u - 1), u from SplitMix64, rounded to 2^-10. The
    fixture stores centre and half as float32, so they are rounded to it here."""
    centre, half = float(np.float32(centre)), float(np.float32(half))
    key = np.uint64(fnv1a(name) ^ ((salt * 0x9E3779B97F4A7C15) & MASK))
    with np.errstate(over="ignore"):
        z = key + (np.arange(1, count + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15))
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    u = (z >> np.uint64(40)).astype(np.float64) * 2.0 ** -24
    v = centre + half * (2.0 * u - 1.0)
    return (np.floor(v * 1024.0 + 0.5) / 1024.0).astype(np.float32)


class Margin:
    """The closest any LIF membrane came to its threshold; tracking it costs
    a reduction per step, which bench/torch_reference.py turns off."""
    smallest = math.inf
    track = True


class Precision:
    """float32 for the fixture; float64 once more to measure how far
    PyTorch's own float32 results are from exact (their conditioning)."""
    dtype = torch.float32


def neuron(seq, kind):
    """LIF (tau 2, V_th 1, hard detached reset, arctan surrogate) or MP."""
    mem, out = 0.0, []
    for x in seq:
        mem = mem + (x - mem) / 2.0
        if kind == "mp":
            out.append(mem)
            continue
        if Margin.track:
            Margin.smallest = min(Margin.smallest, float((mem.detach() - 1.0).abs().min()))
        s = AtanSpike.apply(mem - 1.0, 2.0)
        mem = mem * (1 - s.detach())
        out.append(s)
    return out


class Model:
    """A net as libsgad's preset builds it: a list of layers, parameters
    named "<layer index>.<name>", run layer by layer over the time steps
    (the same arithmetic as the authors' per-step loop)."""

    def __init__(self, prefix):
        self.prefix, self.layers, self.params, self.buffers = prefix, [], {}, {}
        self.init, self.zero_grad = {}, set()
        self.training = True  # batch norm: batch statistics, or running ones

    def _param(self, name, shape, centre, half, buffer=False):
        full = f"{self.prefix}.{len(self.layers)}.{name}"
        self.init[full] = (shape, centre, half)
        (self.buffers if buffer else self.params)[full] = None
        return full

    def add(self, kind, **kw):
        i = len(self.layers)
        if kind in ("linear", "conv", "convt"):
            half = kw.get("gain", 1.0) / math.sqrt(kw["fan_in"])
            kw["w"] = self._param("weight", kw["wshape"], 0.0, half)
            kw["b"] = self._param("bias", kw["wshape"][1 if kind == "convt" else 0:][:1], 0.0,
                                  half)
        elif kind == "bn":
            c = kw["c"]
            kw["w"] = self._param("weight", (c,), 1.0, 0.25)
            kw["b"] = self._param("bias", (c,), 0.3, 0.3)
            kw["rm"] = self._param("running_mean", (c,), 0.0, 0.0, True)
            kw["rv"] = self._param("running_var", (c,), 1.0, 0.0, True)
            prev = self.layers[-1]
            if prev[0] in ("linear", "conv", "convt"):
                self.zero_grad.add(prev[1]["b"])
        elif kind == "attention":
            # RGB: queries and keys see a shared Linear(features -> down) + ReLU
            features, down = kw["features"], kw.get("down", 0)
            width = down or features
            for p in ("query", "key"):
                kw[p + "w"] = self._param(p + ".weight", (256, width), 0.0, 1 / math.sqrt(width))
                kw[p + "b"] = self._param(p + ".bias", (256,), 0.0, 1 / math.sqrt(width))
            if down:
                half = 1 / math.sqrt(features)
                kw["downw"] = self._param("down.weight", (down, features), 0.0, half)
                kw["downb"] = self._param("down.bias", (down,), 0.0, half)
        self.layers.append((kind, kw))
        assert i == len(self.layers) - 1

    def materialise(self, salt):
        for name, (shape, centre, half) in self.init.items():
            v = torch.from_numpy(formula(name, salt, int(np.prod(shape)), centre, half))
            v = v.reshape(shape).to(Precision.dtype)
            if name in self.params:
                self.params[name] = v.clone().requires_grad_(True)
            else:
                self.buffers[name] = v.clone()

    def tensor(self, name):
        return self.params[name] if name in self.params else self.buffers[name]

    def forward(self, seq):
        P = self.tensor
        for kind, kw in self.layers:
            if kind == "repeat":
                seq = seq * kw["steps"]
            elif kind == "linear":
                seq = [F.linear(x, P(kw["w"]), P(kw["b"])) for x in seq]
            elif kind == "conv":
                seq = [F.conv2d(x, P(kw["w"]), P(kw["b"])) for x in seq]
            elif kind == "convt":
                seq = [F.conv_transpose2d(x, P(kw["w"]), P(kw["b"]), stride=2, padding=1)
                       for x in seq]
            elif kind == "bn":
                seq = [F.batch_norm(x, P(kw["rm"]), P(kw["rv"]), P(kw["w"]), P(kw["b"]),
                                    self.training, 0.1, 1e-5) for x in seq]
            elif kind in ("lif", "mp"):
                seq = neuron(seq, kind)
            elif kind == "pool":
                seq = [F.avg_pool2d(x, 2, 2) for x in seq]
            elif kind == "reshape":
                seq = [x.reshape(x.shape[0], *kw["shape"]) for x in seq]
            elif kind == "sigmoid":
                seq = [torch.sigmoid(x) for x in seq]
            elif kind == "leaky":
                seq = [F.leaky_relu(x, 0.2) for x in seq]
            elif kind == "last":
                seq = [seq[-1] * kw["scale"]]
            elif kind == "attention":
                down = (P(kw["downw"]), P(kw["downb"])) if "downw" in kw else None
                seq = [attention(seq, P(kw["queryw"]), P(kw["queryb"]), P(kw["keyw"]),
                                 P(kw["keyb"]), down)]
            else:
                raise ValueError(kind)
        return seq


def attention(seq, qw, qb, kw, kb, down=None):
    """ScoringMP with AttentionScoring_1 (one key map), Eq. 6; with `down`
    (weight, bias), AttentionScoring_RGB: queries and keys are taken of
    relu(down(V)) and relu(down(X)), the mixing stays on the images."""
    def phi(v):
        return v if down is None else F.relu(F.linear(v, *down))
    n = seq[0].shape[0]
    mem = seq[0].reshape(n, -1)
    for x in seq[1:]:
        x = x.reshape(n, -1)
        pm = phi(mem)
        q = F.linear(pm, qw, qb).unsqueeze(1)
        keys = F.linear(torch.stack([pm, phi(x)], dim=1), kw, kb)
        w = torch.softmax(torch.bmm(q, keys.transpose(1, 2)) / math.sqrt(256), dim=-1)
        mem = w[:, 0, 0:1] * mem + w[:, 0, 1:2] * x
    return mem.reshape(seq[0].shape)


# Image shape -> (channels, side, G's first map side, G's transposed
# convolutions, side after D's two conv+pool blocks, D's hidden width), as
# libsgad's presets (src/preset.c) and the authors' CelebA code build them.
GEOMETRY = {"28x28x1": (1, 28, 7, 2, 4, 1024),
            "32x32x3": (3, 32, 8, 2, 5, 1024),
            "64x64x3": (3, 64, 8, 3, 13, 2048)}


def generator(model, latent, shape="28x28x1", steps=T):
    c, side, base, ups, _, _ = GEOMETRY[shape]
    g = Model("G")
    g.add("repeat", steps=steps)
    g.add("linear", wshape=(1024, latent), fan_in=latent)
    g.add("bn", c=1024)
    g.add("lif")
    g.add("linear", wshape=(128 * base * base, 1024), fan_in=1024)
    g.add("bn", c=128 * base * base)
    g.add("lif")
    g.add("reshape", shape=(128, base, base))
    ch = 128
    for _ in range(ups - 1):
        g.add("convt", wshape=(ch, ch // 2, 4, 4), fan_in=ch // 2 * 16)
        g.add("bn", c=ch // 2)
        g.add("lif")
        ch //= 2
    g.add("convt", wshape=(ch, c, 4, 4), fan_in=c * 16)
    if model == "sgad":
        g.add("sigmoid")
        g.add("attention", features=c * side * side, down=1024 if c == 3 else 0)
    elif model == "sgan":
        g.add("lif")
    else:
        g.add("mp")
        g.add("last", scale=1.0 / steps)
        g.add("sigmoid")
    return g


def discriminator(model, shape="28x28x1", steps=T):
    c, side, _, _, d_side, hidden = GEOMETRY[shape]
    d = Model("D")
    if model == "sgan":
        d.add("reshape", shape=(c * side * side,))
        d.add("linear", wshape=(400, c * side * side), fan_in=c * side * side, gain=GAIN)
        d.add("lif")
        d.add("linear", wshape=(1, 400), fan_in=400, gain=GAIN)
        d.add("mp")
        d.add("last", scale=1.0 / steps)
        d.add("sigmoid")
        return d
    ann = model == "hybrid"
    act = "leaky" if ann else "lif"
    if not ann:
        d.add("repeat", steps=steps)
    d.add("conv", wshape=(32, c, 5, 5), fan_in=c * 25)
    d.add("bn", c=32)
    d.add(act)
    d.add("pool")
    d.add("conv", wshape=(64, 32, 5, 5), fan_in=800)
    d.add("bn", c=64)
    d.add(act)
    d.add("pool")
    flat = 64 * d_side * d_side
    d.add("reshape", shape=(flat,))
    gain = 1.0 if ann else GAIN
    d.add("linear", wshape=(hidden, flat), fan_in=flat, gain=gain)
    d.add(act)
    d.add("linear", wshape=(1, hidden), fan_in=hidden, gain=gain)
    if ann:
        d.add("sigmoid")
    else:
        d.add("mp")
        d.add("last", scale=1.0 / steps)
    return d


def rmsprop_step(model, lr):
    """PyTorch's RMSprop (alpha 0.99, eps 1e-8), first step."""
    opt = torch.optim.RMSprop([model.params[k] for k in model.params], lr=lr)
    opt.step()


def d_scores(d, images_seq):
    return d.forward(images_seq)[0].reshape(-1, 1)


def loss_of(scores, target, minimax, sign):
    if minimax:
        return F.binary_cross_entropy(scores, torch.full_like(scores, float(target)))
    return sign * scores.mean()


def silence(net, zero):
    """Sets the gradients of parameters whose true gradient is 0 to exactly 0:
    what both sides compute there is rounding noise, which RMSprop would
    blow up into steps of +-10 lr in random directions."""
    for name in zero:
        if name in net.params:
            net.params[name].grad.zero_()


def real_sequence(model, real, steps):
    """D's input: SGAN's MLP D sees the image at every step (its G emits
    spikes); the conv Ds repeat it themselves (or, hybrid, take one step)."""
    return [real] * steps if model == "sgan" else [real]


def d_backward(g, d, z, real_seq, minimax):
    """D's gradients of a D update: real and fake batches in separate
    forwards, gradients summed; the fakes are made without gradients."""
    s_real = d_scores(d, real_seq)
    loss_of(s_real, 1, minimax, 1.0).backward()
    with torch.no_grad():
        fake_seq = g.forward([z[0]])
    s_fake = d_scores(d, fake_seq)
    loss_of(s_fake, 0, minimax, -1.0).backward()
    return fake_seq, s_real, s_fake


def g_backward(g, d, z, minimax):
    """G's gradients of a G update on the same z, through D (whose own
    gradients PyTorch computes too, as the authors' code lets it)."""
    fake_seq = g.forward([z[0]])
    loss_of(d_scores(d, fake_seq), 1, minimax, 1.0).backward()


def iteration(model, salt, latent, lr_g, lr_d, zero=frozenset()):
    """One D update then one G update, as sgad_trainer_step runs them."""
    Margin.smallest = math.inf
    g, d = generator(model, latent), discriminator(model)
    g.materialise(salt)
    d.materialise(salt)
    z = torch.from_numpy(formula("z", salt, N * latent, 0.0, 2.0)).reshape(1, N, latent)
    z = (torch.round(z * 16) / 16).to(Precision.dtype)
    real = torch.from_numpy(formula("real", salt, N * 784, 0.5, 0.5)).reshape(N, 1, 28, 28)
    real = (torch.round(real * 64) / 64).to(Precision.dtype)
    minimax = model in ("sgan", "hybrid")
    out = {"z": z, "real": real}

    fake_seq, s_real, s_fake = d_backward(g, d, z, real_sequence(model, real, T), minimax)
    out["fake"] = torch.stack(fake_seq)
    out["score_real"], out["score_fake"] = s_real, s_fake
    grads = {k: p.grad.clone() for k, p in d.params.items()}
    silence(d, zero)
    rmsprop_step(d, lr_d)

    for p in d.params.values():
        p.grad = None
    g_backward(g, d, z, minimax)
    grads.update({k: p.grad.clone() for k, p in g.params.items()})
    silence(g, zero)
    rmsprop_step(g, lr_g)
    return g, d, out, grads


def sample_spec(name, count):
    if count <= FULL:
        return 0, 1
    stride = count // SAMPLES
    return fnv1a(name) % stride, stride


def zero_gradients(model, salt, latent, lr_g, lr_d):
    """Parameters whose gradient is 0 to float64 precision: biases right
    before BatchNorm, and under the EM loss D's last bias (it shifts D(real)
    and D(fake) alike)."""
    Precision.dtype = torch.float64
    g, d, _, grads = iteration(model, salt, latent, lr_g, lr_d)
    Precision.dtype = torch.float32
    peak = max(float(v.abs().max()) for v in grads.values())
    zero = {k for k, v in grads.items() if float(v.abs().max()) <= 1e-10 * peak}
    assert g.zero_grad | d.zero_grad <= zero, "a bias before BatchNorm has a gradient"
    return frozenset(zero)


def model_case(path, model):
    latent = 100 if model == "sgan" else 15
    lr_g, lr_d = 2e-4, (4e-4 if model == "sgan" else 2e-4)
    for salt in range(100):
        zero = zero_gradients(model, salt, latent, lr_g, lr_d)
        g, d, out, grads = iteration(model, salt, latent, lr_g, lr_d, zero)
        if Margin.smallest > MARGIN:
            break
    else:
        raise SystemExit(f"{model}: no salt keeps membranes {MARGIN} from threshold")
    smallest = Margin.smallest
    Precision.dtype = torch.float64
    g64, d64, out64, grads64 = iteration(model, salt, latent, lr_g, lr_d, zero)
    Precision.dtype = torch.float32

    def err(a, b):  # float32 PyTorch against float64 PyTorch
        return torch.tensor([float((a.double() - b).abs().max())])
    arrays = [("salt", torch.tensor([float(salt)])), ("lr_g", torch.tensor([lr_g])),
              ("lr_d", torch.tensor([lr_d]))]
    arrays += [(k, v) for k, v in out.items()]
    arrays += [("err." + k, err(out[k], out64[k])) for k in ("fake", "score_real", "score_fake")]
    for net in (g, d):
        for name, (shape, centre, half) in net.init.items():
            arrays.append(("init." + name, torch.tensor([centre, half])))
            if name in zero:
                arrays.append(("zero_grad." + name, torch.tensor([1.0])))
            after = net.tensor(name).detach().reshape(-1)
            offset, stride = sample_spec(name, after.numel())
            if stride > 1:
                arrays.append(("sample." + name, torch.tensor([float(offset), float(stride)])))
            arrays.append(("after." + name, after[offset::stride]))
            if name in net.buffers:
                other = (g64 if net is g else d64).tensor(name).reshape(-1)
                arrays.append(("err.after." + name, err(after, other)))
            if name in grads:
                gr = grads[name].reshape(-1)
                arrays.append(("grad." + name, gr[offset::stride]))
                arrays.append(("err.grad." + name, err(gr, grads64[name].reshape(-1))))
                if stride > 1:
                    arrays.append(("l1." + name, gr.abs().sum().reshape(1)))
    write(path, arrays)
    print(f"{model}: salt {salt}, closest membrane {smallest:.2e} from threshold")


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures"
    os.makedirs(outdir, exist_ok=True)
    torch.set_num_threads(2)
    for model in ("sgad", "swgan", "sgan", "hybrid"):
        model_case(os.path.join(outdir, f"model_{model}.bin"), model)


if __name__ == "__main__":
    main()
