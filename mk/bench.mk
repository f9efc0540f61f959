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

.PHONY: bench-layers bench-compare bench-flops

bench-layers: deps $(BUILD)/bench/bench_layers
	$(BUILD)/bench/bench_layers --threads 1
	$(BUILD)/bench/bench_layers --threads 2

bench-compare: deps $(BUILD)/bench/sgad-bench
	$(PYTHON) bench/compare.py --bin $(BUILD)/bench/sgad-bench \
	    --torch-python $(TORCH_PYTHON) $(COMPARE_ARGS)

bench-flops: deps $(BUILD)/bench/sgad-bench
	$(TORCH_PYTHON) bench/flops_check.py --bin $(BUILD)/bench/sgad-bench
