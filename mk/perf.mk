# SPDX-License-Identifier: MIT
# Event-driven against dense products on spike inputs (bench/bench_events.c):
# the measurements behind the break-even firing rates in the layers.
all: $(BUILD)/bench/bench_events

bench-events: $(BUILD)/bench/bench_events
	$(BUILD)/bench/bench_events --threads 1
	$(BUILD)/bench/bench_events --threads 2

.PHONY: bench-events
