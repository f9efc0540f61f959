/* The optional MPI layer of libsgad (built by `make mpi`, never part of
 * libsgad.so): data-parallel training over MPI through the library's
 * hooks. Each rank trains on its shard of every global batch; gradients
 * are averaged with MPI_Allreduce before each optimizer step, batch-norm
 * statistics are summed across ranks (synchronised batch norm), and the
 * parameters start equal by a broadcast from rank 0. See docs/mpi.md. */
#ifndef SGAD_MPI_H
#define SGAD_MPI_H

#include <sgad/sgad.h>

typedef struct sgad_mpi {
    int rank, size;
} sgad_mpi;

/* Initialises MPI (thread level FUNNELED: BLIS threads never call MPI). */
int sgad_mpi_init(int *argc, char ***argv, sgad_mpi *m);
void sgad_mpi_finalize(void);

/* Installs the gradient hook and the batch-norm reduce hook, sets the
 * trainer's shard to (rank, size) and broadcasts rank 0's parameters,
 * buffers, optimizer state and seed to all ranks; SGAD_E_STATE if the
 * ranks are at different iterations. */
sgad_status sgad_mpi_attach(sgad_mpi *m, sgad_ctx *ctx, sgad_trainer *t);

/* A collective "did every rank succeed": the smallest status code wins,
 * so one failed rank makes all of them stop together. */
int sgad_mpi_all_ok(int ok);

/* Stops every rank (MPI_Abort) with an exit code, after a failure on one. */
void sgad_mpi_abort(int code);

#endif
