#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs each libFuzzer target for SECONDS on its corpus, JOBS targets at a
# time (libFuzzer runs one process per target, so on 2 cores two targets
# take the time of one). Each target's output goes to build/fuzz/<t>.log
# and is printed when it ends; a finding leaves build/fuzz/crash-* and
# fails the run.
#
# Usage: tests/fuzz/run.sh SECONDS JOBS TARGET...
set -eu
seconds=$1
jobs=$2
shift 2

run_one() {
    t=$1
    if ASAN_OPTIONS=detect_leaks=1 "build/fuzz/fuzz_$t" -max_total_time="$seconds" \
            -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
            -artifact_prefix=build/fuzz/ "build/fuzz/corpus/$t" >"build/fuzz/$t.log" 2>&1; then
        echo "fuzz_$t: $seconds s, no finding"
        grep -E '^stat::(number_of_executed_units|peak_rss_mb)' "build/fuzz/$t.log" || true
    else
        cat "build/fuzz/$t.log"
        echo "fuzz_$t: FAILED (see build/fuzz/crash-* and build/fuzz/$t.log)" >&2
        return 1
    fi
}

status=0
running=0
pids=""
for t in "$@"; do
    run_one "$t" &
    pids="$pids $!"
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        for p in $pids; do wait "$p" || status=1; done
        pids=""
        running=0
    fi
done
for p in $pids; do wait "$p" || status=1; done
exit $status
