/* SPDX-License-Identifier: MIT */
/* sgad-inspect: prints a checkpoint's configuration and tensors.
 *
 *   sgad-inspect PATH
 *
 * Exit status 0 for a valid checkpoint, 1 with the reason for a damaged or
 * foreign file, 2 for bad arguments. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sgad/sgad.h>

static void usage(FILE *f)
{
    fprintf(f, "usage: sgad-inspect PATH\n"
               "Prints the metadata and every tensor (name, shape, mean, min, max) of a "
               "libsgad checkpoint.\n");
}

/* One line per tensor, with a few figures of its values. */
static int print_tensor(sgad_ctx *ctx, const sgad_checkpoint *c, int i)
{
    const char *name;
    int nd;
    int64_t dims[SGAD_MAX_DIMS];
    sgad_tensor *t;
    if (sgad_checkpoint_tensor_info(c, i, &name, &nd, dims) != SGAD_OK ||
        sgad_tensor_create(ctx, nd, dims, &t) != SGAD_OK ||
        sgad_checkpoint_tensor_read(c, name, t) != SGAD_OK)
        return 1;
    char shape[128];
    int at = snprintf(shape, sizeof shape, "[");
    for (int d = 0; d < nd && at < (int)sizeof shape - 24; d++)
        at += snprintf(shape + at, sizeof shape - (size_t)at, "%s%lld", d ? ", " : "",
                       (long long)dims[d]);
    snprintf(shape + at, sizeof shape - (size_t)at, "]");
    const float *p = sgad_tensor_data(t);
    double sum = 0, lo = INFINITY, hi = -INFINITY;
    for (int64_t k = 0; k < sgad_tensor_numel(t); k++) {
        sum += p[k];
        lo = fmin(lo, p[k]);
        hi = fmax(hi, p[k]);
    }
    printf("  %-40s %-22s mean %+.4e  min %+.4e  max %+.4e\n", name, shape,
           sum / (double)sgad_tensor_numel(t), lo, hi);
    sgad_tensor_free(t);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return 0;
    }
    if (argc != 2 || argv[1][0] == '-') {
        usage(stderr);
        return 2;
    }
    sgad_ctx *ctx;
    sgad_checkpoint *c;
    if (sgad_ctx_create(&ctx) != SGAD_OK)
        return 1;
    if (sgad_checkpoint_read(ctx, argv[1], &c) != SGAD_OK) {
        fprintf(stderr, "sgad-inspect: %s\n", sgad_ctx_last_error(ctx));
        sgad_ctx_free(ctx);
        return 1;
    }
    printf("%s\n", argv[1]);
    for (int i = 0; i < sgad_checkpoint_meta_count(c); i++) {
        const char *k, *v;
        sgad_checkpoint_meta_entry(c, i, &k, &v);
        printf("  %-28s %s\n", k, v);
    }
    printf("tensors: %d\n", sgad_checkpoint_tensor_count(c));
    int rc = 0;
    for (int i = 0; i < sgad_checkpoint_tensor_count(c) && !rc; i++)
        rc = print_tensor(ctx, c, i);
    sgad_checkpoint_free(c);
    sgad_ctx_free(ctx);
    return rc;
}
