/* SPDX-License-Identifier: MIT */
/* parallel.h over MPI (sgad-train-mpi). Only this file includes mpi.h. */
#include "../parallel.h"

#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct sgad_mpi {
    int rank, size;
} sgad_mpi;

/* The one MPI world of the process; the hooks receive it as their user
 * pointer, so it lives as long as the trainer. */
static sgad_mpi world;

int parallel_init(int *argc, char ***argv, int *rank, int *ranks)
{
    int provided;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "sgad-train: MPI did not start\n");
        return 1;
    }
    /* errors come back as codes, so a dead peer gives a message, not a hang */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &world.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world.size);
    *rank = world.rank;
    *ranks = world.size;
    return 0;
}

void parallel_finalize(void)
{
    MPI_Finalize();
}

void parallel_abort_others(int code)
{
    if (world.size > 1)
        MPI_Abort(MPI_COMM_WORLD, code);
}

/* One MPI_MAX reduction of all the values, so agreeing on several flags
 * costs one exchange per iteration. Into a copy, so that a failed exchange
 * leaves the caller's values as they were. */
int parallel_agree(int *values, int count)
{
    int all[8];
    if (world.size <= 1)
        return 0;
    if (count < 1 || count > 8 ||
        MPI_Allreduce(values, all, count, MPI_INT, MPI_MAX, MPI_COMM_WORLD) != MPI_SUCCESS)
        return 1;
    memcpy(values, all, (size_t)count * sizeof *values);
    return 0;
}

/* Gradients: summed across ranks, then divided by the number of ranks:
 * each rank's loss is a mean over its shard, so the average is the mean
 * over the global batch. */
static sgad_status average_gradients(void *user, sgad_trainer *t, int which, sgad_net *net)
{
    (void)t;
    (void)which;
    const sgad_mpi *m = user;
    for (int i = 0; i < sgad_net_param_count(net); i++) {
        sgad_tensor *g = NULL;
        if (sgad_net_param(net, i, NULL, NULL, &g) != SGAD_OK)
            return SGAD_E_INTERNAL;
        if (!g)
            continue; /* a buffer */
        float *p = sgad_tensor_data(g);
        const int64_t n = sgad_tensor_numel(g);
        if (n > INT32_MAX || MPI_Allreduce(MPI_IN_PLACE, p, (int)n, MPI_FLOAT, MPI_SUM,
                                           MPI_COMM_WORLD) != MPI_SUCCESS)
            return SGAD_E_IO;
        const float scale = 1.0f / (float)m->size;
        for (int64_t k = 0; k < n; k++)
            p[k] *= scale;
    }
    return SGAD_OK;
}

static sgad_status sum_statistics(void *user, double *values, int64_t count)
{
    (void)user;
    if (count > INT32_MAX || MPI_Allreduce(MPI_IN_PLACE, values, (int)count, MPI_DOUBLE, MPI_SUM,
                                           MPI_COMM_WORLD) != MPI_SUCCESS)
        return SGAD_E_IO;
    return SGAD_OK;
}

static sgad_status broadcast_tensor(sgad_tensor *v)
{
    const int64_t n = sgad_tensor_numel(v);
    if (n > INT32_MAX ||
        MPI_Bcast(sgad_tensor_data(v), (int)n, MPI_FLOAT, 0, MPI_COMM_WORLD) != MPI_SUCCESS)
        return SGAD_E_IO;
    return SGAD_OK;
}

static sgad_status broadcast_state(sgad_trainer *t)
{
    for (int which = 0; which < 2; which++) {
        sgad_net *net = sgad_trainer_net(t, which);
        sgad_optimizer *opt = sgad_trainer_optimizer(t, which);
        for (int i = 0; i < sgad_net_param_count(net); i++) {
            sgad_tensor *v;
            if (sgad_net_param(net, i, NULL, &v, NULL) != SGAD_OK || broadcast_tensor(v))
                return SGAD_E_IO;
        }
        for (int i = 0; i < sgad_optimizer_state_count(opt); i++) {
            sgad_tensor *v;
            if (sgad_optimizer_state(opt, i, NULL, &v) != SGAD_OK || broadcast_tensor(v))
                return SGAD_E_IO;
        }
    }
    return SGAD_OK;
}

/* The random state is the seed and the iteration count: rank 0's seed is
 * taken by all, and every rank must be at the same iteration. */
static sgad_status broadcast_random_state(sgad_trainer *t)
{
    unsigned long long seed = sgad_trainer_seed(t);
    long long it = (long long)sgad_trainer_iterations(t), lo = 0, hi = 0;
    if (MPI_Bcast(&seed, 1, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD) != MPI_SUCCESS ||
        MPI_Allreduce(&it, &lo, 1, MPI_LONG_LONG, MPI_MIN, MPI_COMM_WORLD) != MPI_SUCCESS ||
        MPI_Allreduce(&it, &hi, 1, MPI_LONG_LONG, MPI_MAX, MPI_COMM_WORLD) != MPI_SUCCESS)
        return SGAD_E_IO;
    if (lo != hi)
        return SGAD_E_STATE; /* ranks resumed from different checkpoints */
    return sgad_trainer_set_seed(t, seed);
}

sgad_status parallel_attach(sgad_ctx *ctx, sgad_trainer *t)
{
    sgad_status s = sgad_trainer_set_grad_hook(t, average_gradients, &world);
    if (s == SGAD_OK)
        s = sgad_ctx_set_reduce_hook(ctx, sum_statistics, &world);
    if (s == SGAD_OK)
        s = sgad_trainer_set_shard(t, world.rank, world.size);
    if (s == SGAD_OK)
        s = broadcast_state(t);
    if (s == SGAD_OK)
        s = broadcast_random_state(t);
    return s;
}
