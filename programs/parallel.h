/* SPDX-License-Identifier: MIT */
/* sgad-train's data-parallel side: one interface, two implementations,
 * chosen when the program is linked (Makefile): parallel_serial.c, one
 * process (sgad-train), and mpi/sgad_mpi.c, MPI ranks (sgad-train-mpi,
 * `make mpi`, docs/mpi.md). sgad-train calls every function whatever the
 * build; only mpi/sgad_mpi.c includes mpi.h, and libsgad never links MPI.
 *
 * With MPI each rank trains on its shard of every global batch; gradients
 * are averaged over the ranks before each optimizer step, batch-norm
 * statistics are summed over them (synchronised batch norm), and the
 * parameters start equal by a broadcast from rank 0. */
#ifndef SGAD_PROGRAMS_PARALLEL_H
#define SGAD_PROGRAMS_PARALLEL_H

#include <sgad/sgad.h>

/* Starts the communication (MPI: thread level FUNNELED, since BLIS and
 * OpenMP threads never call MPI) and reports this process's rank among
 * `ranks`. Nonzero, after a message, if it did not start. */
int parallel_init(int *argc, char ***argv, int *rank, int *ranks);

/* Makes the trainer this rank's replica: the gradient and batch-norm
 * reduce hooks, the trainer's shard (rank, ranks), and rank 0's
 * parameters, buffers, optimizer state and seed on every rank.
 * SGAD_E_STATE if the ranks are at different iterations. */
sgad_status parallel_attach(sgad_ctx *ctx, sgad_trainer *t);

/* Makes values[0..count) (count at most 8) the same on every rank: each
 * becomes its largest value over the ranks, so a flag set on any rank
 * (the run ends, a signal arrived) is set on all. Collective: every rank
 * calls it once per iteration with the same count. 0, or nonzero if the
 * exchange failed, values then this rank's own. */
int parallel_agree(int *values, int count);

/* After this process failed with exit status `code`: stops every rank,
 * since the others would wait for this one forever. Returns only when
 * there is no other rank. */
void parallel_abort_others(int code);

/* Ends the communication; the last call before the process exits. */
void parallel_finalize(void);

#endif
