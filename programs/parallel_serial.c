/* SPDX-License-Identifier: MIT */
/* parallel.h for one process: rank 0 of 1, nothing to exchange. */
#include "parallel.h"

int parallel_init(int *argc, char ***argv, int *rank, int *ranks)
{
    (void)argc;
    (void)argv;
    *rank = 0;
    *ranks = 1;
    return 0;
}

sgad_status parallel_attach(sgad_ctx *ctx, sgad_trainer *t)
{
    (void)ctx;
    (void)t;
    return SGAD_OK;
}

int parallel_agree(int *values, int count)
{
    (void)values; /* one rank: its values are every rank's */
    (void)count;
    return 0;
}

void parallel_abort_others(int code)
{
    (void)code;
}

void parallel_finalize(void)
{
}
