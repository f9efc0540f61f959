#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Converts between the SGAD authors' PyTorch state_dicts and libsgad
checkpoints (docs/checkpoints.md has the name mapping). Needs Debian's
python3-torch and python3-numpy; run with /usr/bin/python3.

  sgad_torch.py to-sgad --model sgad --shape 28x28x1 --generator G.pth
                        [--discriminator D.pth] [--steps 16] --out ckpt.safetensors
  sgad_torch.py to-torch ckpt.safetensors --generator G.pth [--discriminator D.pth]

to-sgad writes a checkpoint whose optimizer state is fresh (zeros, step 0,
RMSprop lr 2e-4): sgad_checkpoint_create_trainer resumes training from it
when both nets are given; with the generator alone it serves
sgad_checkpoint_restore_generator (sampling). to-torch writes state_dicts
that the authors' Generator_*/Discriminator_* classes load with
load_state_dict (num_batches_tracked is set to 0).
"""
import argparse
import json
import struct
import sys
import zlib

import numpy as np

MODELS = ("sgan", "swgan", "sgad", "hybrid")
SHAPES = {"28x28x1": (1, 28), "32x32x3": (3, 32), "64x64x3": (3, 64)}
BN = ("weight", "bias", "running_mean", "running_var")
LINEAR = ("weight", "bias")


def generator_map(model, shape):
    """(authors' module prefix, libsgad layer index, parameter names)."""
    rgb = SHAPES[shape][0] == 3
    m = [("fc1", 1, LINEAR), ("br1.0", 2, BN), ("fc2", 4, LINEAR), ("br2.0", 5, BN),
         ("conv1.0", 8, LINEAR), ("conv1.1", 9, BN)]
    if rgb:  # CelebA-style: three transposed convolutions
        m += [("conv2.0", 11, LINEAR), ("conv2.1", 12, BN), ("conv3.0", 14, LINEAR)]
        last, decoder = "conv3", 16
    else:
        m += [("conv2.0", 11, LINEAR)]
        last, decoder = "conv2", 13
    if model == "sgad":
        if rgb:
            m += [(f"{last}.2.down_sample_net.1", f"{decoder}.down", LINEAR)]
        m += [(f"{last}.2.scoring_function.W_q", f"{decoder}.query", LINEAR),
              (f"{last}.2.scoring_function.W_k", f"{decoder}.key", LINEAR)]
    return m


def discriminator_map(model):
    if model == "sgan":  # Discriminator_MP: Linear-LIF-Linear-MP
        return [("net.0", 1, LINEAR), ("net.2", 3, LINEAR)]
    base = 0 if model == "hybrid" else 1  # the spiking D starts with a repeat layer
    return [("conv1.0", base, LINEAR), ("conv1.1", base + 1, BN), ("conv2.0", base + 4, LINEAR),
            ("conv2.1", base + 5, BN), ("fc1.0", base + 9, LINEAR), ("fc2.0", base + 11, LINEAR)]


def pairs(mapping, prefix):
    for theirs, ours, names in mapping:
        for n in names:
            yield f"{theirs}.{n}", f"{prefix}.{ours}.{n}"


def load_state(path):
    import torch
    obj = torch.load(path, map_location="cpu")
    if hasattr(obj, "state_dict"):
        obj = obj.state_dict()
    if isinstance(obj, dict) and "state_dict" in obj:
        obj = obj["state_dict"]
    return {k: v.detach().cpu().numpy().astype(np.float32) for k, v in obj.items()
            if hasattr(v, "detach") and not k.endswith("num_batches_tracked")}


# ---- the libsgad file -------------------------------------------------------

def write_checkpoint(path, tensors, meta):
    """tensors: ordered list of (name, float32 array). The checksum is the
    CRC-32 of the whole file with its own 8 digits written as zeros."""
    header = {"__metadata__": dict(meta, checksum="crc32:00000000")}
    offset = 0
    for name, a in tensors:
        header[name] = {"dtype": "F32", "shape": list(a.shape),
                        "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    text = json.dumps(header, separators=(",", ":"))
    text += " " * ((8 - (len(text) + 8) % 8) % 8)
    blob = bytearray(struct.pack("<Q", len(text)) + text.encode())
    for _, a in tensors:
        blob += np.ascontiguousarray(a, dtype="<f4").tobytes()
    at = blob.find(b'"checksum":"crc32:') + 18
    blob[at:at + 8] = b"%08x" % zlib.crc32(bytes(blob))
    with open(path, "wb") as f:
        f.write(blob)


def read_checkpoint(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    meta = header.pop("__metadata__")
    data = blob[8 + n:]
    out = {}
    for name, t in header.items():
        b, e = t["data_offsets"]
        out[name] = np.frombuffer(data[b:e], dtype="<f4").reshape(t["shape"])
    return meta, out


def optimizer_meta(which):
    """libsgad's RMSprop defaults, as the authors train."""
    values = {"lr": 2e-4, "alpha": 0.99, "eps": 1e-8, "beta1": 0.9, "beta2": 0.999,
              "weight_decay": 0.0}
    meta = {f"optimizer_{which}.{k}": repr(v) for k, v in values.items()}
    meta[f"optimizer_{which}.steps"] = "0"
    return meta


def to_sgad(args):
    g = load_state(args.generator)
    latent = g["fc1.weight"].shape[1]
    tensors = []
    for theirs, ours in pairs(generator_map(args.model, args.shape), "G"):
        if theirs not in g:
            sys.exit(f"{args.generator}: no {theirs}; is it a {args.model} {args.shape} generator?")
        tensors.append((ours, g.pop(theirs)))
    if g:
        sys.exit(f"{args.generator}: keys with no libsgad counterpart: {sorted(g)[:5]}")
    for name, a in list(tensors):  # fresh RMSprop state for trained parameters
        if not name.endswith(("running_mean", "running_var")):
            tensors.append(("opt." + name + ".square_avg", np.zeros_like(a)))
    if args.discriminator:
        d = load_state(args.discriminator)
        dt = []
        for theirs, ours in pairs(discriminator_map(args.model), "D"):
            if theirs not in d:
                sys.exit(f"{args.discriminator}: no {theirs}")
            dt.append((ours, d.pop(theirs)))
        tensors += dt + [("opt." + n + ".square_avg", np.zeros_like(a)) for n, a in dt
                         if not n.endswith(("running_mean", "running_var"))]
    meta = {"format": "libsgad-checkpoint", "format_version": "1",
            "library_version": "converted", "model": args.model, "image_shape": args.shape,
            "steps": str(args.steps), "latent": str(latent),
            "loss": "minimax" if args.model in ("sgan", "hybrid") else "em",
            "optimizer": "rmsprop", "seed": "0", "iteration": "0", "epoch": "0",
            "n_critic": "1", "clip": "0", "ema_decay": "0", "schedule": "constant",
            "schedule_length": "1", "schedule_period": "1"}
    meta.update(optimizer_meta("g"))
    meta.update(optimizer_meta("d"))
    write_checkpoint(args.out, tensors, meta)
    print(f"{args.out}: {len(tensors)} tensors, latent {latent}")


def to_torch(args):
    import torch
    meta, t = read_checkpoint(args.checkpoint)
    model, shape = meta["model"], meta["image_shape"]
    if model not in MODELS:
        sys.exit(f"{args.checkpoint}: a checkpoint of caller-built nets has no authors' layout")
    jobs = [(args.generator, generator_map(model, shape), "G")]
    if args.discriminator:
        jobs.append((args.discriminator, discriminator_map(model), "D"))
    for path, mapping, prefix in jobs:
        state = {}
        for theirs, ours in pairs(mapping, prefix):
            state[theirs] = torch.from_numpy(t[ours].copy())
            if theirs.endswith("running_var"):
                state[theirs[:-len("running_var")] + "num_batches_tracked"] = torch.tensor(0)
        torch.save(state, path)
        print(f"{path}: {len(state)} entries")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("to-sgad")
    a.add_argument("--model", choices=MODELS, required=True)
    a.add_argument("--shape", choices=sorted(SHAPES), default="28x28x1")
    a.add_argument("--generator", required=True)
    a.add_argument("--discriminator")
    a.add_argument("--steps", type=int, default=16)
    a.add_argument("--out", required=True)
    b = sub.add_parser("to-torch")
    b.add_argument("checkpoint")
    b.add_argument("--generator", required=True)
    b.add_argument("--discriminator")
    args = p.parse_args()
    (to_sgad if args.cmd == "to-sgad" else to_torch)(args)


if __name__ == "__main__":
    main()
