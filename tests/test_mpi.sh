#!/bin/sh
# SPDX-License-Identifier: MIT
# Data-parallel training over MPI (`make check-mpi`, needs libopenmpi-dev
# and openmpi-bin): on one machine with `mpirun -np 2 --oversubscribe`,
#  - two ranks with global batch 8 end where one process with batch 8 ends:
#    every parameter and optimizer state within 1e-3 of its tensor's
#    largest value, running statistics within 1e-2 (tests/helpers/
#    ckpt_helper compare; parameters whose gradient is rounding noise are
#    left out, as in the golden tests);
#  - resuming with the same number of ranks gives the straight run's
#    checkpoint byte for byte;
#  - a rank killed mid-run makes mpirun stop the job with a message and a
#    non-zero status instead of hanging (a 120 s timeout would catch that);
#  - signals (sgad-train(1), SIGNALS): SIGUSR1 sent to mpirun, which
#    forwards it to every rank, saves a checkpoint and training goes on;
#    SIGTERM sent to mpirun stops the job with a checkpoint (mpirun then
#    kills the ranks and reports 1 itself, so the status is not checked);
#    SIGTERM to one rank alone stops both at the same iteration with a
#    checkpoint and status 143; each stopped run resumes where it saved.
#    Signals are sent once the log or a checkpoint shows the run got there.
set -eu
BIN=${SGAD_TEST_BIN:-build/release/tests}
PROGRAMS_DIR=${SGAD_TEST_PROGRAMS:-build/release/programs}
MPI_BIN=${SGAD_MPI_BIN:-build/release/mpi/sgad-train-mpi}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

"$BIN/ckpt_helper" idx tiny.idx 32
ARGS="--data tiny.idx --batch 8 --steps 2 --threads 1 --seed 5 --checkpoint-every 0 --sample-every 0 --log-every 1"
run2() { mpirun --oversubscribe -np 2 "$MPI_BIN" "$@"; }

"$PROGRAMS_DIR/sgad-train" $ARGS --iters 3 --out single 2>/dev/null
run2 $ARGS --iters 3 --out multi 2>/dev/null
"$BIN/ckpt_helper" compare multi/checkpoints/ckpt-000000000003.safetensors \
    single/checkpoints/ckpt-000000000003.safetensors 1e-3
echo "mpi: 2 ranks with batch 8 match 1 process with batch 8"

run2 $ARGS --iters 3 --stop-at 2 --out part 2>/dev/null
run2 $ARGS --iters 3 --resume part/checkpoints --out part 2>/dev/null
cmp part/checkpoints/ckpt-000000000003.safetensors multi/checkpoints/ckpt-000000000003.safetensors
echo "mpi: resumed on 2 ranks, byte-identical to the straight 2-rank run"

status=0
SGAD_MPI_TEST_DIE_AT=2 timeout 120 mpirun --oversubscribe -x SGAD_MPI_TEST_DIE_AT -np 2 \
    "$MPI_BIN" $ARGS --iters 50 --out killed >killed.log 2>&1 || status=$?
if [ "$status" = 0 ] || [ "$status" = 124 ]; then
    echo "mpi: a killed rank gave status $status (0: not noticed, 124: hung)" >&2
    cat killed.log >&2
    exit 1
fi
grep -q "rank 1" killed.log
echo "mpi: a killed rank stops the job with status $status and mpirun's message"

# ---- signals ----------------------------------------------------------------

SIG_ARGS="--data tiny.idx --batch 8 --steps 2 --threads 1 --seed 5 --checkpoint-every 0 \
--sample-every 0 --keep 0 --log-every 1"

last_logged() { # the iteration of the last whole line of a log, 0 if none
    [ -f "$1" ] || { echo 0; return; }
    sed -n 's/^{"iteration":\([0-9]*\),.*}$/\1/p' "$1" | tail -n 1 | grep . || echo 0
}
newest_checkpoint() { # the iteration of the newest checkpoint of a directory, 0 if none
    ls "$1" 2>/dev/null | sed -n 's/^ckpt-0*\([0-9][0-9]*\)\.safetensors$/\1/p' |
        sort -n | tail -n 1 | grep . || echo 0
}
# await WHAT COMMAND...: polls COMMAND every 0.2 s for up to 4 minutes,
# while the background job $job runs; no step depends on speed.
await() {
    what=$1
    shift
    tries=0
    until "$@"; do
        kill -0 "$job" 2>/dev/null || { echo "mpi: the job ended before $what" >&2; exit 1; }
        tries=$((tries + 1))
        [ $tries -lt 1200 ] || { echo "mpi: no $what after 4 minutes" >&2; exit 1; }
        sleep 0.2
    done
}
logged_past() { [ "$(last_logged "$1")" -gt "$2" ]; }
saved_past() { [ "$(newest_checkpoint "$1")" -gt "$2" ]; }
# resume DIR: continues DIR's run 2 iterations past its newest checkpoint,
# and checks that the log's iterations then run 1, 2, ... without a gap
resume() {
    at=$(newest_checkpoint "$1/checkpoints")
    run2 $SIG_ARGS --iters $((at + 2)) --resume "$1/checkpoints" --out "$1" 2>"$1.resume"
    grep -q "at iteration $at\$" "$1.resume"
    sed -n 's/^{"iteration":\([0-9]*\),.*/\1/p' "$1/train.jsonl" >"$1.iters"
    seq 1 $((at + 2)) | cmp -s - "$1.iters" ||
        { echo "mpi: $1's log is not iterations 1..$((at + 2))" >&2; exit 1; }
}

# SIGUSR1 and SIGTERM to mpirun. odls_base_sigkill_timeout: the seconds
# mpirun leaves the ranks between its SIGTERM and its SIGKILL (default 1),
# time for rank 0 to save.
mpirun --oversubscribe --mca odls_base_sigkill_timeout 10 -np 2 "$MPI_BIN" $SIG_ARGS \
    --iters 1000000 --out usr1 >usr1.log 2>&1 &
job=$!
await "log line" logged_past usr1/train.jsonl 0
kill -USR1 $job
await "checkpoint after SIGUSR1" saved_past usr1/checkpoints 0
warned=$(newest_checkpoint usr1/checkpoints)
await "iteration after SIGUSR1's checkpoint" logged_past usr1/train.jsonl "$warned"
kill -TERM $job
status=0
wait $job || status=$?
grep -q "SIGUSR1: saved a checkpoint; training goes on" usr1.log
grep -q "SIGTERM; the checkpoint above resumes the run" usr1.log ||
    { echo "mpi: no checkpoint after SIGTERM to mpirun (status $status)" >&2; cat usr1.log >&2; exit 1; }
[ "$(newest_checkpoint usr1/checkpoints)" -gt "$warned" ]
resume usr1
echo "mpi: SIGUSR1 through mpirun saved at $warned and went on; SIGTERM saved at" \
    "$(($(newest_checkpoint usr1/checkpoints) - 2)) (mpirun's status $status); resumed"

# SIGTERM to one rank only (mpirun's children are the ranks): both stop
# at the same iteration, rank 0 saves, every rank exits with 143.
mpirun --oversubscribe -np 2 "$MPI_BIN" $SIG_ARGS --iters 1000000 --out term >term.log 2>&1 &
job=$!
await "log line" logged_past term/train.jsonl 0
ranks=$(pgrep -P $job | tr '\n' ' ')
set -- $ranks
[ $# = 2 ] || { echo "mpi: mpirun has $# children, not the 2 ranks: $ranks" >&2; exit 1; }
kill -TERM "$2"
status=0
wait $job || status=$?
[ "$status" = 143 ] || { echo "mpi: SIGTERM to one rank gave status $status" >&2; cat term.log >&2; exit 1; }
grep -q "SIGTERM; the checkpoint above resumes the run" term.log
resume term
echo "mpi: SIGTERM to one rank stopped both with status 143 and a checkpoint; resumed"
