#!/bin/sh
# SPDX-License-Identifier: MIT
# The PyTorch converter (tools/sgad_torch.py) round trip, run by
# `make check-tools` (needs Debian's python3-torch): a libsgad SGAD
# checkpoint goes to the authors' state_dicts, which load strictly into
# modules with the authors' attribute names, and back to a checkpoint that
# libsgad rebuilds a trainer from, with every G and D tensor unchanged.
set -eu
BIN=${SGAD_TEST_BIN:-build/release/tests}
PY=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$BIN/ckpt_helper" train 1 1 "$work/orig.safetensors"
$PY tools/sgad_torch.py to-torch "$work/orig.safetensors" --generator "$work/G.pth" \
    --discriminator "$work/D.pth"
$PY - "$work" <<'PYEOF'
import sys
import torch
from torch import nn

work = sys.argv[1]

class G(nn.Module):  # the authors' Generator_MP_Scoring_Mnist layout (names and shapes)
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(15, 1024)
        self.br1 = nn.Sequential(nn.BatchNorm1d(1024))
        self.fc2 = nn.Linear(1024, 6272)
        self.br2 = nn.Sequential(nn.BatchNorm1d(6272))
        self.conv1 = nn.Sequential(nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64))
        scoring = nn.Module()
        scoring.W_q, scoring.W_k = nn.Linear(784, 256), nn.Linear(784, 256)
        node = nn.Module()
        node.scoring_function = scoring
        self.conv2 = nn.Sequential(nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Sigmoid(), node)

class D(nn.Module):  # Discriminator_EM_MNIST
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Sequential(nn.Conv2d(1, 32, 5), nn.BatchNorm2d(32))
        self.conv2 = nn.Sequential(nn.Conv2d(32, 64, 5), nn.BatchNorm2d(64))
        self.fc1 = nn.Sequential(nn.Linear(1024, 1024))
        self.fc2 = nn.Sequential(nn.Linear(1024, 1))

G().load_state_dict(torch.load(f"{work}/G.pth"), strict=True)
D().load_state_dict(torch.load(f"{work}/D.pth"), strict=True)
print("authors' layout: G and D state_dicts load strictly")
PYEOF
$PY tools/sgad_torch.py to-sgad --model sgad --shape 28x28x1 --steps 2 \
    --generator "$work/G.pth" --discriminator "$work/D.pth" --out "$work/back.safetensors"
"$BIN/ckpt_helper" load "$work/back.safetensors"
$PY - "$work" <<'PYEOF'
import sys
import numpy as np
sys.path.insert(0, "tools")
import sgad_torch

work = sys.argv[1]
_, a = sgad_torch.read_checkpoint(f"{work}/orig.safetensors")
_, b = sgad_torch.read_checkpoint(f"{work}/back.safetensors")
names = [k for k in b if k.startswith(("G.", "D."))]
bad = [k for k in names if not np.array_equal(a[k], b[k])]
assert not bad, f"changed in the round trip: {bad}"
print(f"round trip: {len(names)} G and D tensors identical; libsgad rebuilt the trainer")
PYEOF
