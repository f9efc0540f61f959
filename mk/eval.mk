# SPDX-License-Identifier: MIT
# sgad-eval (programs/sgad-eval.c): trains the feature classifier and
# judges generated images with it (docs/metrics.md). Built, installed and
# run by the tests like the other programs.
PROGRAMS += sgad-eval
# Its JSON line is written by programs/jsonl.c; programs/eval_cache.c keeps
# the classifiers it trains when not given one.
PROGRAM_SRCS_sgad-eval := programs/jsonl.c programs/eval_cache.c
$(BUILD)/programs/sgad-eval: $(PROGRAM_SRCS_sgad-eval) programs/eval_cache.h
