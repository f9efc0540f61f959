/* A program the checkpoint tests run as a child process:
 *   ckpt_helper save PATH HIDDEN SEED     train a tiny GAN 1 iteration, save
 *   ckpt_helper loop DIR HIDDEN           train and save (keep 3) forever
 *   ckpt_helper seed PATH                 a small valid checkpoint (fuzz corpus)
 *   ckpt_helper train THREADS N OUT [IN]  SGAD 28x28, T 2, batch 4: N iterations
 *                                         (after restoring IN), then save OUT
 *   ckpt_helper load PATH                 rebuild the preset trainer of PATH
 * Exit status 0 on success, 1 on a library error (message on stderr), 2 on
 * bad arguments. */
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

static int train(int threads, int n, const char *out, const char *in)
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
    } else if (sgad_trainer_create_preset(ctx, SGAD_MODEL_SGAD, SGAD_SHAPE_28X28X1, 2, 0,
                                          SGAD_LOSS_EM, SGAD_OPTIMIZER_RMSPROP, &t) != SGAD_OK ||
               sgad_trainer_set_seed(t, 77) != SGAD_OK ||
               sgad_trainer_set(t, SGAD_OPT_EMA_DECAY, 0.5) != SGAD_OK) {
        return fail(ctx, "create");
    }
    const int64_t dims[4] = {4, 1, 28, 28};
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

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "load") == 0)
        return load(argv[2]);
    if (argc == 5 && strcmp(argv[1], "save") == 0)
        return save_tiny(argv[2], atoi(argv[3]), strtoull(argv[4], NULL, 10));
    if (argc == 4 && strcmp(argv[1], "loop") == 0)
        return loop(argv[2], atoi(argv[3]));
    if (argc == 3 && strcmp(argv[1], "seed") == 0)
        return save_tiny(argv[2], 4, 1);
    if ((argc == 5 || argc == 6) && strcmp(argv[1], "train") == 0)
        return train(atoi(argv[2]), atoi(argv[3]), argv[4], argc == 6 ? argv[5] : NULL);
    fprintf(stderr, "usage: ckpt_helper save|loop|seed|train ...\n");
    return 2;
}
