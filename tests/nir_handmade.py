#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""NIR files written by hand from the NIR specification with h5py (not by
sgad-nir's writer), and checks of the files sgad-nir writes.

  nir_handmade.py write DIR           the graphs, their inputs and expected
                                      outputs, and damaged files, into DIR
  nir_handmade.py check-layout FILE   FILE is laid out as the spec says
  nir_handmade.py compare A B TOL     two raw float32 files agree within TOL
                                      (0: bit for bit)
  nir_handmade.py same-graph A B      two NIR files hold the same chain
                                      (types and parameters; names aside)

The layout is NIR's reference serialization (neuromorphs/NIR,
nir/serialization.py): /version, /node/type = "NIRGraph",
/node/nodes/<name>/{type, parameters...}, /node/edges [E, 2] strings.
Exit status 0, or 1 with the reason."""
import sys

import h5py
import numpy as np

STR = h5py.string_dtype()

# Parameters of each node type the spec gives (nir/ir/*.py), those every
# file must hold; shapes are checked in check_layout.
REQUIRED = {
    "Input": ["shape"],
    "Output": ["shape"],
    "Affine": ["weight", "bias"],
    "Linear": ["weight"],
    "Conv2d": ["weight", "bias", "stride", "padding", "dilation", "groups"],
    "LIF": ["tau", "r", "v_leak", "v_threshold"],
    "IF": ["r", "v_threshold"],
    "LI": ["tau", "r", "v_leak"],
    "AvgPool2d": ["kernel_size", "stride", "padding"],
    "Flatten": ["start_dim", "end_dim"],
    "Scale": ["scale"],
}


def fail(msg):
    print("nir_handmade: " + msg, file=sys.stderr)
    sys.exit(1)


def graph(path, nodes, edges, metadata=None):
    """Writes a NIRGraph: nodes maps name -> {param: value}, 'type' among
    them; edges are (source, destination) names."""
    with h5py.File(path, "w") as f:
        f.create_dataset("version", data="1.0.7", dtype=STR)
        g = f.create_group("node")
        g.create_dataset("type", data="NIRGraph", dtype=STR)
        ng = g.create_group("nodes")
        for name, params in nodes.items():
            n = ng.create_group(name)
            for k, v in params.items():
                if isinstance(v, str):
                    n.create_dataset(k, data=v, dtype=STR)
                else:
                    n.create_dataset(k, data=v)
        g.create_dataset("edges", data=np.array(edges, dtype=object), dtype=STR)
        if metadata:
            m = g.create_group("metadata")
            for k, v in metadata.items():
                m.create_dataset(k, data=v, dtype=STR if isinstance(v, str) else None)


def chain(names):
    return [(a, b) for a, b in zip(names, names[1:])]


def f32(*shape_and_value):
    *shape, value = shape_and_value
    return np.full(shape, value, dtype=np.float32)


def write_small(d):
    """Input [2] -> Affine -> LIF -> Output over T = 4 steps, N = 2.

    LIF: tau 2, r 1, v_leak 0, v_threshold 1, v_reset 0. With dt = 1 the
    spec's tau dv/dt = (v_leak - v) + r I is v += (I - v) / 2, a spike when
    v > 1, then v = 0. Sample 0 is x = (1, 0.5) at every step, so the
    currents are I = W x + b = (1.5, 2.5, 1.0):
      neuron 0: v = 0.75, 1.125 -> spike, 0.75, 1.125 -> spike: 0 1 0 1
      neuron 1: v = 1.25 -> spike at every step:                1 1 1 1
      neuron 2: v = 0.5, 0.75, 0.875, 0.9375, never above 1:    0 0 0 0
    Sample 1 is x = 0: I = b = (0, 0, 0.25), no spike. Every value is a
    short binary fraction, so the arithmetic is exact."""
    W = np.array([[1.0, 1.0], [2.0, 1.0], [0.5, 0.5]], dtype=np.float32)
    b = np.array([0.0, 0.0, 0.25], dtype=np.float32)
    graph(f"{d}/small.nir", {
        "in": {"type": "Input", "shape": np.array([2])},
        "fc": {"type": "Affine", "weight": W, "bias": b},
        "lif": {"type": "LIF", "tau": f32(3, 2.0), "r": f32(3, 1.0), "v_leak": f32(3, 0.0),
                "v_threshold": f32(3, 1.0), "v_reset": f32(3, 0.0)},
        "out": {"type": "Output", "shape": np.array([3])},
    }, chain(["in", "fc", "lif", "out"]))
    x = np.zeros((4, 2, 2), dtype=np.float32)
    x[:, 0] = [1.0, 0.5]
    x.tofile(f"{d}/small_x.f32")
    spikes = np.zeros((4, 2, 3), dtype=np.float32)
    spikes[:, 0, 0] = [0, 1, 0, 1]
    spikes[:, 0, 1] = [1, 1, 1, 1]
    spikes.tofile(f"{d}/small_expected.f32")


def conv2d(x, w, b, stride, pad):
    n, c, h, wd = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    k = w.shape[2]
    oh, ow = (h + 2 * pad - k) // stride + 1, (wd + 2 * pad - k) // stride + 1
    y = np.zeros((n, w.shape[0], oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, i * stride:i * stride + k, j * stride:j * stride + k]
            y[:, :, i, j] = np.einsum("nchw,ochw->no", patch, w)
    return y + b[None, :, None, None]


def avgpool(x, k):
    n, c, h, w = x.shape
    return x[:, :, :h // k * k, :w // k * k].reshape(n, c, h // k, k, w // k, k).mean((3, 5))


def write_rich(d):
    """Every node type sgad-nir imports: Input [1, 6, 6] -> Conv2d (3x3,
    padding 1) -> LIF -> AvgPool2d 2 -> Flatten -> Affine -> IF -> Linear ->
    LI -> Scale -> Output, the input repeated over 6 steps and the output
    read at the last step (the graph's metadata). The expected score is
    this spec's dynamics in float64 (dt = 1), compared with a tolerance."""
    rng = np.random.default_rng(7)
    T, N = 6, 3
    cw = rng.normal(0, 0.6, (4, 1, 3, 3)).astype(np.float32)
    cb = rng.normal(0.2, 0.1, 4).astype(np.float32)
    fw = rng.normal(0, 0.5, (5, 36)).astype(np.float32)
    fb = rng.normal(0.3, 0.1, 5).astype(np.float32)
    lw = rng.normal(0, 1, (2, 5)).astype(np.float32)
    graph(f"{d}/rich.nir", {
        "input": {"type": "Input", "shape": np.array([1, 6, 6])},
        "conv": {"type": "Conv2d", "weight": cw, "bias": cb, "stride": np.array([1, 1]),
                 "padding": np.array([1, 1]), "dilation": np.array([1, 1]), "groups": 1,
                 "input_shape": np.array([6, 6])},
        "lif": {"type": "LIF", "tau": f32(4, 6, 6, 2.0), "r": f32(4, 6, 6, 1.0),
                "v_leak": f32(4, 6, 6, 0.0), "v_threshold": f32(4, 6, 6, 0.5),
                "v_reset": f32(4, 6, 6, 0.0)},
        "pool": {"type": "AvgPool2d", "kernel_size": np.array([2, 2]),
                 "stride": np.array([2, 2]), "padding": np.array([0, 0])},
        "flat": {"type": "Flatten", "start_dim": 0, "end_dim": -1,
                 "input_type": np.array([4, 3, 3])},
        "fc": {"type": "Affine", "weight": fw, "bias": fb},
        "if": {"type": "IF", "r": f32(5, 1.0), "v_threshold": f32(5, 1.0),
               "v_reset": f32(5, 0.0)},
        "readout": {"type": "Linear", "weight": lw},
        "li": {"type": "LI", "tau": f32(2, 2.0), "r": f32(2, 1.0), "v_leak": f32(2, 0.0)},
        "scale": {"type": "Scale", "scale": f32(2, 1.0 / T)},
        "output": {"type": "Output", "shape": np.array([2])},
    }, chain(["input", "conv", "lif", "pool", "flat", "fc", "if", "readout", "li", "scale",
              "output"]), {"sgad_steps": T, "sgad_readout": "last_step"})
    x = rng.random((1, N, 1, 6, 6)).astype(np.float32) * 2
    x.tofile(f"{d}/rich_x.f32")
    v1, v2, v3 = np.zeros((N, 4, 6, 6)), np.zeros((N, 5)), np.zeros((N, 2))
    for _ in range(T):
        v1 += (conv2d(x[0].astype(np.float64), cw, cb, 1, 1) - v1) / 2
        s1 = (v1 > 0.5).astype(np.float64)
        v1[s1 > 0] = 0
        v2 += avgpool(s1, 2).reshape(N, 36) @ fw.T + fb
        s2 = (v2 > 1).astype(np.float64)
        v2[s2 > 0] = 0
        v3 += (s2 @ lw.T - v3) / 2
    (v3 / T).astype(np.float32).reshape(1, N, 2).tofile(f"{d}/rich_expected.f32")


def write_bad(d):
    """Damaged or unsupported files, each with one fault."""
    with open(f"{d}/bad_not_hdf5.nir", "w") as f:
        f.write("this is not an HDF5 file\n")
    lif = {"type": "LIF", "tau": f32(3, 2.0), "r": f32(3, 1.0), "v_leak": f32(3, 0.0),
           "v_threshold": f32(3, 1.0)}
    fc = {"type": "Affine", "weight": np.ones((3, 2), np.float32), "bias": f32(3, 0.0)}
    io = {"in": {"type": "Input", "shape": np.array([2])},
          "out": {"type": "Output", "shape": np.array([3])}}
    names = ["in", "fc", "lif", "out"]
    graph(f"{d}/bad_missing_type.nir", {**io, "fc": {"weight": fc["weight"], "bias": fc["bias"]},
                                         "lif": lif}, chain(names))
    graph(f"{d}/bad_unknown_type.nir",
          {**io, "fc": fc, "lif": {**lif, "type": "CubaLIF"}}, chain(names))
    graph(f"{d}/bad_shape.nir", {**io, "fc": {**fc, "weight": np.ones((3, 5), np.float32)},
                                 "lif": lif}, chain(names))
    graph(f"{d}/bad_bias.nir", {**io, "fc": {**fc, "bias": f32(4, 0.0)}, "lif": lif},
          chain(names))
    graph(f"{d}/bad_edge.nir", {**io, "fc": fc, "lif": lif},
          chain(["in", "fc", "nowhere", "out"]))
    graph(f"{d}/bad_tau.nir", {**io, "fc": fc, "lif": {**lif, "tau": np.array([2, 3, 2],
                                                                             np.float32)}},
          chain(names))
    graph(f"{d}/bad_no_weight.nir", {**io, "fc": {"type": "Affine", "bias": f32(3, 0.0)},
                                     "lif": lif}, chain(names))


def read_chain(path):
    with h5py.File(path, "r") as f:
        g = f["node"]
        edges = [(a.decode(), b.decode()) for a, b in g["edges"][()]]
        nxt = dict(edges)
        start = [n for n in g["nodes"] if g["nodes"][n]["type"][()] == b"Input"][0]
        order = [start]
        while order[-1] in nxt:
            order.append(nxt[order[-1]])
        nodes = [{k: v[()] for k, v in g["nodes"][n].items()} for n in order]
        meta = {k: v[()] for k, v in g["metadata"].items()} if "metadata" in g else {}
        return nodes, meta


def check_layout(path):
    with h5py.File(path, "r") as f:
        if h5py.check_string_dtype(f["version"].dtype) is None:
            fail(f"{path}: /version is not a string")
        g = f["node"]
        if g["type"][()] != b"NIRGraph":
            fail(f"{path}: /node/type is {g['type'][()]!r}")
        e = g["edges"]
        if e.ndim != 2 or e.shape[1] != 2 or h5py.check_string_dtype(e.dtype) is None:
            fail(f"{path}: /node/edges is {e.dtype} {e.shape}, not [E, 2] strings")
        names = set(g["nodes"])
        for a, b in e[()]:
            if a.decode() not in names or b.decode() not in names:
                fail(f"{path}: edge {a!r} -> {b!r} names a missing node")
        for name in names:
            n = g["nodes"][name]
            if h5py.check_string_dtype(n["type"].dtype) is None or n["type"].shape != ():
                fail(f"{path}: {name}/type is not a scalar string")
            t = n["type"][()].decode()
            if t not in REQUIRED:
                fail(f"{path}: {name} has type {t!r}")
            for p in REQUIRED[t]:
                if p not in n:
                    fail(f"{path}: {name} ({t}) lacks {p}")
            shape = lambda p: n[p].shape
            if t in ("Affine", "Linear"):
                out, inp = shape("weight")
                if t == "Affine" and shape("bias") != (out,):
                    fail(f"{path}: {name}: bias {shape('bias')} for weight {shape('weight')}")
            if t == "Conv2d":
                if len(shape("weight")) != 4 or shape("bias") != shape("weight")[:1]:
                    fail(f"{path}: {name}: weight {shape('weight')}, bias {shape('bias')}")
                for p in ("stride", "padding", "dilation", "input_shape"):
                    if shape(p) != (2,) or n[p].dtype.kind != "i":
                        fail(f"{path}: {name}: {p} is not two integers")
                if shape("groups") != () or n["groups"].dtype.kind != "i":
                    fail(f"{path}: {name}: groups is not one integer")
            if t in ("LIF", "IF", "LI", "Scale"):
                ps = REQUIRED[t] + (["v_reset"] if t in ("LIF", "IF") else [])
                shapes = {shape(p) for p in ps}
                if len(shapes) != 1 or any(n[p].dtype != np.float32 for p in ps):
                    fail(f"{path}: {name}: parameters of shapes {shapes}, not one float32 shape")
            if t == "AvgPool2d":
                for p in REQUIRED[t]:
                    if shape(p) != (2,) or n[p].dtype.kind != "i":
                        fail(f"{path}: {name}: {p} is not two integers")
            if t == "Flatten":
                if shape("start_dim") != () or shape("end_dim") != ():
                    fail(f"{path}: {name}: start_dim/end_dim are not scalars")
            if t in ("Input", "Output") and (n["shape"].ndim != 1 or n["shape"].dtype.kind != "i"):
                fail(f"{path}: {name}: shape is not a 1-D integer array")
    nodes, _ = read_chain(path)
    if len(nodes) != len(names):
        fail(f"{path}: the edges do not chain every node from the Input")
    print(f"{path}: NIR layout as specified ({len(names)} nodes: "
          + ", ".join(n["type"].decode() for n in nodes) + ")")


def compare(a, b, tol):
    x, y = np.fromfile(a, dtype=np.float32), np.fromfile(b, dtype=np.float32)
    if x.shape != y.shape:
        fail(f"{a} has {x.size} values, {b} {y.size}")
    if float(tol) == 0:
        if x.tobytes() != y.tobytes():
            fail(f"{a} and {b} differ (bit for bit): {x} vs {y}")
    elif not np.allclose(x, y, rtol=0, atol=float(tol)):
        fail(f"{a} and {b} differ by {np.abs(x - y).max()} > {tol}: {x} vs {y}")
    print(f"{a} = {b} ({'bit for bit' if float(tol) == 0 else 'within ' + tol}, "
          f"{x.size} values)")


def same_graph(a, b):
    (na, ma), (nb, mb) = read_chain(a), read_chain(b)
    if len(na) != len(nb) or ma != mb:
        fail(f"{a} and {b}: {len(na)} vs {len(nb)} nodes, metadata {ma} vs {mb}")
    for x, y in zip(na, nb):
        if x.keys() != y.keys():
            fail(f"{a} and {b}: parameters {sorted(x)} vs {sorted(y)}")
        for k in x:
            if np.asarray(x[k]).tobytes() != np.asarray(y[k]).tobytes():
                fail(f"{a} and {b}: {x['type']} {k} differs")
    print(f"{a} and {b} hold the same {len(na)}-node chain")


def main():
    args = sys.argv[1:]
    if len(args) == 2 and args[0] == "write":
        write_small(args[1])
        write_rich(args[1])
        write_bad(args[1])
    elif len(args) == 2 and args[0] == "check-layout":
        check_layout(args[1])
    elif len(args) == 4 and args[0] == "compare":
        compare(*args[1:])
    elif len(args) == 3 and args[0] == "same-graph":
        same_graph(*args[1:])
    else:
        fail("usage: write DIR | check-layout FILE | compare A B TOL | same-graph A B")


if __name__ == "__main__":
    main()
