/* SPDX-License-Identifier: MIT */
/* A program the checkpoint tests run as a child process:
 *   ckpt_helper save PATH HIDDEN SEED     train a tiny GAN 1 iteration, save
 *   ckpt_helper loop DIR HIDDEN           train and save (keep 3) forever
 *   ckpt_helper seed PATH                 a small valid checkpoint (fuzz corpus)
 *   ckpt_helper train THREADS N OUT [IN]  SGAD 28x28, T 2, batch 4: N iterations
 *                                         (after restoring IN), then save OUT
 *   ckpt_helper train-sized T B THREADS N OUT
 *                                         the same with T steps and batch B
 *   ckpt_helper load PATH                 rebuild the preset trainer of PATH
 *   ckpt_helper idx PATH N                N 28x28 images with bars (IDX)
 *   ckpt_helper compare A B TOL           two checkpoints of the same run done
 *                                         differently (e.g. over MPI ranks): fails
 *                                         if a parameter or optimizer state
 *                                         differs by more than TOL of its
 *                                         tensor's largest value, a running
 *                                         statistic by more than 10 TOL; see
 *                                         compare() for what is left out
 * Exit status 0 on success, 1 on a library error (message on stderr), 2 on
 * bad arguments. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sgad/sgad.h"
#include "tiny_gan.h"

static int fail(sgad_ctx *ctx, const char *what)
{
    fprintf(stderr, "ckpt_helper: %s: %s\n", what, sgad_ctx_last_error(ctx));
    return 1;
}

static int save_tiny(const char *path, int hidden, uint64_t seed)
{
    sgad_ctx *ctx;
    tiny_gan g;
    if (sgad_ctx_create(&ctx) != SGAD_OK || tiny_gan_create(ctx, hidden, seed, &g) != 0)
        return 1;
    int rc = 0;
    if (tiny_gan_train(&g, 1) != SGAD_OK)
        rc = fail(ctx, "train");
    else if (sgad_checkpoint_save(g.t, path) != SGAD_OK)
        rc = fail(ctx, "save");
    tiny_gan_free(&g);
    sgad_ctx_free(ctx);
    return rc;
}

static int loop(const char *dir, int hidden)
{
    sgad_ctx *ctx;
    tiny_gan g;
    if (sgad_ctx_create(&ctx) != SGAD_OK || tiny_gan_create(ctx, hidden, 3, &g) != 0)
        return 1;
    /* The killer times its signal from this line, so that a slow start (a
     * loaded machine, a sanitiser build) cannot swallow the whole pause. */
    printf("ready\n");
    fflush(stdout);
    for (;;) /* until killed */
        if (tiny_gan_train(&g, 1) != SGAD_OK ||
            sgad_checkpoint_save_rotating(g.t, dir, 3, NULL, 0) != SGAD_OK)
            return fail(ctx, "loop");
}

/* Deterministic images for iteration i. */
static void batch(sgad_tensor *real, int64_t i)
{
    float *p = sgad_tensor_data(real);
    for (int64_t k = 0; k < sgad_tensor_numel(real); k++)
        p[k] = (float)(((k * 7 + i * 13) % 29) / 28.0);
}

static int train(int64_t steps, int64_t batch_size, int threads, int n, const char *out,
                 const char *in)
{
    sgad_ctx *ctx;
    sgad_trainer *t = NULL;
    if (sgad_ctx_create(&ctx) != SGAD_OK || sgad_ctx_set_threads(ctx, threads) != SGAD_OK)
        return 1;
    if (in) {
        sgad_checkpoint *c;
        if (sgad_checkpoint_read(ctx, in, &c) != SGAD_OK)
            return fail(ctx, "read");
        const sgad_status s = sgad_checkpoint_create_trainer(c, ctx, &t);
        sgad_checkpoint_free(c);
        if (s != SGAD_OK)
            return fail(ctx, "restore");
    } else if (sgad_trainer_create_preset(ctx, SGAD_MODEL_SGAD, SGAD_SHAPE_28X28X1, steps, 0,
                                          SGAD_LOSS_EM, SGAD_OPTIMIZER_RMSPROP, &t) != SGAD_OK ||
               sgad_trainer_set_seed(t, 77) != SGAD_OK ||
               sgad_trainer_set(t, SGAD_OPT_EMA_DECAY, 0.5) != SGAD_OK) {
        return fail(ctx, "create");
    }
    const int64_t dims[4] = {batch_size, 1, 28, 28};
    sgad_tensor *real;
    if (sgad_tensor_create(ctx, 4, dims, &real) != SGAD_OK)
        return 1;
    for (int i = 0; i < n; i++) {
        batch(real, sgad_trainer_iterations(t));
        if (sgad_trainer_step(t, real, NULL) != SGAD_OK)
            return fail(ctx, "step");
    }
    if (sgad_checkpoint_save(t, out) != SGAD_OK)
        return fail(ctx, "save");
    sgad_tensor_free(real);
    sgad_trainer_free(t);
    sgad_ctx_free(ctx);
    return 0;
}

static int load(const char *path)
{
    sgad_ctx *ctx;
    sgad_checkpoint *c;
    sgad_trainer *t;
    if (sgad_ctx_create(&ctx) != SGAD_OK)
        return 1;
    if (sgad_checkpoint_read(ctx, path, &c) != SGAD_OK)
        return fail(ctx, "read");
    const sgad_status s = sgad_checkpoint_create_trainer(c, ctx, &t);
    sgad_checkpoint_free(c);
    if (s != SGAD_OK)
        return fail(ctx, "restore");
    sgad_trainer_free(t);
    sgad_ctx_free(ctx);
    return 0;
}

static int write_idx(const char *path, int n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return 1;
    const unsigned char head[16] = {0, 0, 8, 3,  0, 0, 0, (unsigned char)n,
                                    0, 0, 0, 28, 0, 0, 0, 28};
    fwrite(head, 1, 16, f);
    for (int i = 0; i < n; i++)
        for (int p = 0; p < 784; p++)
            fputc((p / 28) / 4 == i % 7 || (p % 28) / 4 == i % 5 ? 230 : 10, f);
    return fclose(f) != 0;
}

/* Largest |value| of tensor name in c, or -1 if there is none. */
static double peak(sgad_ctx *ctx, const sgad_checkpoint *c, const char *name)
{
    for (int i = 0; i < sgad_checkpoint_tensor_count(c); i++) {
        const char *n;
        int nd;
        int64_t dims[SGAD_MAX_DIMS];
        sgad_checkpoint_tensor_info(c, i, &n, &nd, dims);
        if (strcmp(n, name) != 0)
            continue;
        sgad_tensor *t;
        if (sgad_tensor_create(ctx, nd, dims, &t) != SGAD_OK ||
            sgad_checkpoint_tensor_read(c, name, t) != SGAD_OK)
            return -1;
        double m = 0;
        for (int64_t k = 0; k < sgad_tensor_numel(t); k++)
            m = fmax(m, fabs(sgad_tensor_data(t)[k]));
        sgad_tensor_free(t);
        return m;
    }
    return -1;
}

/* A parameter whose true gradient is zero (a bias right before batch norm,
 * the decoder's shared key bias): its computed gradient is rounding noise,
 * its RMSprop second moment stays below 1e-12, and its steps of +-10 lr go
 * whichever way the noise points, in each run differently. Such parameters
 * and their optimizer state are not compared, as in the golden tests. */
static int is_noise(sgad_ctx *ctx, const sgad_checkpoint *c, const char *name)
{
    char state[512];
    const char *base = strncmp(name, "opt.", 4) == 0 ? name + 4 : name;
    snprintf(state, sizeof state, "opt.%.*s.square_avg",
             (int)(strstr(base, ".square_avg") ? strstr(base, ".square_avg") - base
                                               : (long)strlen(base)),
             base);
    const double m = peak(ctx, c, state);
    return m >= 0 && m < 1e-12;
}

static int compare(const char *a, const char *b, double tol)
{
    sgad_ctx *ctx;
    sgad_checkpoint *ca, *cb;
    if (sgad_ctx_create(&ctx) != SGAD_OK || sgad_checkpoint_read(ctx, a, &ca) != SGAD_OK ||
        sgad_checkpoint_read(ctx, b, &cb) != SGAD_OK)
        return fail(ctx, "read");
    if (strcmp(sgad_checkpoint_meta(ca, "iteration"), sgad_checkpoint_meta(cb, "iteration")) ||
        sgad_checkpoint_tensor_count(ca) != sgad_checkpoint_tensor_count(cb)) {
        fprintf(stderr, "ckpt_helper: the checkpoints differ in iteration or tensors\n");
        return 1;
    }
    double worst = 0;
    const char *worst_name = "";
    long long differing = 0, total = 0;
    for (int i = 0; i < sgad_checkpoint_tensor_count(ca); i++) {
        const char *name;
        int nd;
        int64_t dims[SGAD_MAX_DIMS];
        sgad_tensor *ta, *tb;
        sgad_checkpoint_tensor_info(ca, i, &name, &nd, dims);
        if (sgad_tensor_create(ctx, nd, dims, &ta) != SGAD_OK ||
            sgad_tensor_create(ctx, nd, dims, &tb) != SGAD_OK ||
            sgad_checkpoint_tensor_read(ca, name, ta) != SGAD_OK ||
            sgad_checkpoint_tensor_read(cb, name, tb) != SGAD_OK)
            return fail(ctx, name);
        const float *pa = sgad_tensor_data(ta), *pb = sgad_tensor_data(tb);
        const int running = strstr(name, ".running_") != NULL;
        if (!running && is_noise(ctx, cb, name)) {
            sgad_tensor_free(ta);
            sgad_tensor_free(tb);
            continue;
        }
        double scale = 0, diff = 0;
        for (int64_t k = 0; k < sgad_tensor_numel(ta); k++) {
            scale = fmax(scale, fabs(pb[k]));
            diff = fmax(diff, fabs(pa[k] - pb[k]));
            differing += pa[k] != pb[k];
        }
        total += sgad_tensor_numel(ta);
        /* running statistics also carry the noise parameters' random steps */
        const double rel = (scale > 0 ? diff / scale : diff) / (running ? 10.0 : 1.0);
        if (rel > worst) {
            worst = rel;
            worst_name = name;
        }
        sgad_tensor_free(ta);
        sgad_tensor_free(tb);
    }
    printf("compare: %lld of %lld compared values differ; worst %.3g of the tolerance's unit "
           "(%s), tolerance %g\n",
           differing, total, worst, worst_name, tol);
    return worst > tol;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "idx") == 0)
        return write_idx(argv[2], atoi(argv[3]));
    if (argc == 5 && strcmp(argv[1], "compare") == 0)
        return compare(argv[2], argv[3], atof(argv[4]));
    if (argc == 3 && strcmp(argv[1], "load") == 0)
        return load(argv[2]);
    if (argc == 5 && strcmp(argv[1], "save") == 0)
        return save_tiny(argv[2], atoi(argv[3]), strtoull(argv[4], NULL, 10));
    if (argc == 4 && strcmp(argv[1], "loop") == 0)
        return loop(argv[2], atoi(argv[3]));
    if (argc == 3 && strcmp(argv[1], "seed") == 0)
        return save_tiny(argv[2], 4, 1);
    if ((argc == 5 || argc == 6) && strcmp(argv[1], "train") == 0)
        return train(2, 4, atoi(argv[2]), atoi(argv[3]), argv[4], argc == 6 ? argv[5] : NULL);
    if (argc == 7 && strcmp(argv[1], "train-sized") == 0)
        return train(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), argv[6], NULL);
    fprintf(stderr, "usage: ckpt_helper save|loop|seed|train|train-sized|load|idx|compare ...\n");
    return 2;
}
