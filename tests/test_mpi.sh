#!/bin/sh
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
#    non-zero status instead of hanging (a 120 s timeout would catch that).
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
