# SPDX-License-Identifier: MIT
# Benchmarks (docs/bench.md). `make bench` (its rule is in the Makefile)
# prints one table of whole training iterations from sgad-bench; these are
# the per-layer bench, the side-by-side comparison with the PyTorch
# reference (needs Debian's python3-torch) and the cross-check of
# sgad-bench's FLOP count against the one PyTorch's autograd runs.
PYTHON ?= python3
TORCH_PYTHON ?= /usr/bin/python3
BENCH_ITERS ?= 2
BENCH_ARGS ?=
COMPARE_ARGS ?=

.PHONY: bench-layers bench-compare bench-flops bench-checkpoint

bench-layers: deps $(BUILD)/bench/bench_layers
	$(BUILD)/bench/bench_layers --threads 1
	$(BUILD)/bench/bench_layers --threads 2

bench-compare: deps $(BUILD)/bench/sgad-bench $(BENCH_CKPT)
	$(PYTHON) bench/compare.py --bin $(BUILD)/bench/sgad-bench \
	    --torch-python $(TORCH_PYTHON) --checkpoint $(BENCH_CKPT) --data $(BENCH_DATA) \
	    $(COMPARE_ARGS)

# A trained state for the benchmarks: SGAD 28x28x1 trained 1000 iterations
# on Fashion-MNIST at the paper's batch and T (64, 16), so that timings see
# the firing rates of real training (4-13%) rather than a fresh net's (~3%).
# Made once (about 15 minutes on 2 cores), never committed; `make bench`
# and `make bench-compare` time it beside the fresh net.
BENCH_DATA := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
BENCH_CKPT := build/bench-state/checkpoints/ckpt-000000001000.safetensors
bench-checkpoint: $(BENCH_CKPT)
$(BENCH_CKPT):
	@SGAD_DEPS_EXTRA=dataset-fashion-mnist sh tools/install-deps.sh
	$(MAKE) --no-print-directory lib $(BUILD)/programs/sgad-train
	$(BUILD)/programs/sgad-train --model sgad --data $(BENCH_DATA) --batch 64 --steps 16 \
	    --iters 1000 --threads 2 --checkpoint-every 1000 --sample-every 1000 \
	    --out build/bench-state

bench-flops: deps $(BUILD)/bench/sgad-bench
	$(TORCH_PYTHON) bench/flops_check.py --bin $(BUILD)/bench/sgad-bench
