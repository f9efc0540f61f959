/* sgad-sample: images from a checkpoint's generator: a PNG grid, an IDX
 * file of N samples (MNIST's format, for evaluation elsewhere) and, for
 * SGAD, per-step strips with the decoder's scores (the paper's Fig. 5).
 *
 *   sgad-sample --checkpoint PATH|DIR --n N [--grid FILE.png] [--idx FILE]
 *               [--strips DIR] [--seed S] [--ema] [--threads K] */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sgad/sgad.h>

#include "cli.h"

typedef struct options {
    const char *checkpoint, *grid, *idx, *strips;
    long long n, seed, threads;
    int ema;
} options;

static void usage(FILE *f)
{
    fprintf(f, "usage: sgad-sample --checkpoint PATH|DIR --n N [--grid FILE.png] [--idx FILE]\n"
               "                   [--strips DIR] [--seed S] [--ema] [--threads K]\n");
}

static int parse(int argc, char **argv, options *o)
{
    *o = (options){.n = 64, .seed = 1, .threads = 2};
    for (int i = 1; i < argc; i++) {
        cli_arg arg; /* "--flag value" or "--flag=value" */
        cli_split(&arg, argc, argv, i);
        const char *a = arg.flag, *v = arg.value;
        int ok = 1, takes = 1;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            exit(0);
        } else if (!strcmp(a, "--ema")) {
            o->ema = 1;
            takes = 0;
        } else if (!strcmp(a, "--checkpoint")) {
            ok = (o->checkpoint = v) != NULL;
        } else if (!strcmp(a, "--grid")) {
            ok = (o->grid = v) != NULL;
        } else if (!strcmp(a, "--idx")) {
            ok = (o->idx = v) != NULL;
        } else if (!strcmp(a, "--strips")) {
            ok = (o->strips = v) != NULL;
        } else if (!strcmp(a, "--n")) {
            ok = cli_integer(v, 1, 100000, &o->n);
        } else if (!strcmp(a, "--seed")) {
            ok = cli_integer(v, 0, 1LL << 62, &o->seed);
        } else if (!strcmp(a, "--threads")) {
            ok = cli_integer(v, 1, 256, &o->threads);
        } else {
            fprintf(stderr, "sgad-sample: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
        if (!ok || (!takes && arg.attached)) { /* "--ema=x": a switch takes no value */
            fprintf(stderr, "sgad-sample: bad value for %s: '%s'\n", a, v ? v : "(missing)");
            usage(stderr);
            return 2;
        }
        i += cli_used(&arg, takes);
    }
    if (!o->checkpoint) {
        fprintf(stderr, "sgad-sample: --checkpoint is required\n");
        usage(stderr);
        return 2;
    }
    return 0;
}

static int fail(sgad_ctx *ctx, const char *what)
{
    fprintf(stderr, "sgad-sample: %s: %s\n", what, sgad_ctx_last_error(ctx));
    return 1;
}

/* The checkpoint file itself, or the newest valid one of a directory. */
static int locate(sgad_ctx *ctx, const char *given, char *path, size_t cap)
{
    struct stat st;
    snprintf(path, cap, "%s", given);
    if (stat(given, &st) == 0 && S_ISDIR(st.st_mode) &&
        sgad_checkpoint_find_latest(ctx, given, path, cap) != SGAD_OK)
        return fail(ctx, "checkpoint");
    return 0;
}

/* Index of the generator's attention decoder, or -1. */
static int decoder_index(sgad_net *g)
{
    for (int i = sgad_net_layer_count(g) - 1; i >= 0; i--)
        if (sgad_layer_get_kind(sgad_net_layer(g, i)) == SGAD_LAYER_ATTENTION)
            return i;
    return -1;
}

static int write_strips(sgad_ctx *ctx, sgad_net *g, const options *o)
{
    const int at = decoder_index(g);
    if (at < 0) {
        fprintf(stderr, "sgad-sample: --strips needs an SGAD generator (attention decoder)\n");
        return 1;
    }
    int nd;
    int64_t dims[SGAD_MAX_DIMS];
    sgad_tensor *steps = NULL, *scores = NULL;
    if (sgad_net_activation_dims(g, at - 1, &nd, dims) != SGAD_OK ||
        sgad_tensor_create(ctx, nd, dims, &steps) != SGAD_OK ||
        sgad_net_activation(g, at - 1, steps) != SGAD_OK ||
        sgad_tensor_create(ctx, 2, dims, &scores) != SGAD_OK ||
        sgad_attention_decoder_scores(sgad_net_layer(g, at), sgad_tensor_data(scores),
                                      dims[0] * dims[1]) != SGAD_OK)
        return fail(ctx, "strips");
    mkdir(o->strips, 0777);
    int rc = 0;
    for (int64_t n = 0; n < dims[1] && n < 16 && !rc; n++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/strip-%03lld.png", o->strips, (long long)n);
        if (sgad_image_write_strip(ctx, path, steps, scores, n) != SGAD_OK)
            rc = fail(ctx, "strip");
    }
    sgad_tensor_free(steps);
    sgad_tensor_free(scores);
    return rc;
}

static int write_outputs(sgad_ctx *ctx, sgad_net *g, const sgad_tensor *images, const options *o)
{
    if (o->grid) {
        const int cols = (int)ceil(sqrt((double)o->n));
        const int rows = (int)((o->n + cols - 1) / cols);
        if (sgad_image_write_grid(ctx, o->grid, images, rows > 256 ? 256 : rows,
                                  cols > 256 ? 256 : cols) != SGAD_OK)
            return fail(ctx, "grid");
    }
    if (o->idx && sgad_image_write_idx(ctx, o->idx, images) != SGAD_OK)
        return fail(ctx, "idx");
    if (o->strips && write_strips(ctx, g, o))
        return 1;
    return 0;
}

static int sample(sgad_ctx *ctx, sgad_checkpoint *c, const options *o)
{
    sgad_trainer *t = NULL;
    sgad_net *g = NULL, *d = NULL;
    /* a full checkpoint rebuilds its trainer; a generator alone its preset G */
    if (sgad_checkpoint_create_trainer(c, ctx, &t) == SGAD_OK) {
        g = sgad_trainer_net(t, 0);
    } else {
        const char *model = sgad_checkpoint_meta(c, "model");
        fprintf(stderr, "sgad-sample: %s; using the generator alone\n", sgad_ctx_last_error(ctx));
        static const char *const shapes[] = {"28x28x1", "32x32x3", "64x64x3"};
        sgad_model m;
        int s = -1;
        const int known = sgad_model_from_name(model, &m) == SGAD_OK;
        for (int i = 0; i < 3 && sgad_checkpoint_meta(c, "image_shape"); i++)
            s = strcmp(sgad_checkpoint_meta(c, "image_shape"), shapes[i]) ? s : i;
        if (!known || s < 0 || !sgad_checkpoint_meta(c, "steps") ||
            !sgad_checkpoint_meta(c, "latent"))
            return fail(ctx, "checkpoint");
        if (sgad_preset_create(ctx, m, (sgad_image_shape)s, atoi(sgad_checkpoint_meta(c, "steps")),
                               atoi(sgad_checkpoint_meta(c, "latent")), &g, &d) != SGAD_OK)
            return fail(ctx, "model");
    }
    int rc = 0;
    if (sgad_checkpoint_restore_generator(c, g, o->ema) != SGAD_OK)
        rc = fail(ctx, o->ema ? "moving average" : "generator");
    sgad_tensor *w, *z = NULL, *images = NULL;
    int nd;
    int64_t od[SGAD_MAX_DIMS];
    if (!rc && sgad_layer_param(sgad_net_layer(g, 1), 0, NULL, &w, NULL) != SGAD_OK)
        rc = fail(ctx, "latent");
    const int64_t zd[3] = {1, o->n, rc ? 1 : sgad_tensor_dim(w, 1)};
    if (!rc &&
        (sgad_tensor_create(ctx, 3, zd, &z) != SGAD_OK ||
         sgad_draw_latents(ctx, (uint64_t)o->seed, z) != SGAD_OK ||
         sgad_net_output_dims(g, 3, zd, &nd, od) != SGAD_OK ||
         sgad_tensor_create(ctx, nd, od, &images) != SGAD_OK ||
         sgad_net_set_training(g, 0) != SGAD_OK || sgad_net_forward(g, z, images) != SGAD_OK))
        rc = fail(ctx, "sampling");
    sgad_tensor *shown = images, *last = NULL;
    if (!rc && nd == 5 && od[0] != 1) { /* SGAN: a spike train; show its last step */
        fprintf(stderr,
                "sgad-sample: the generator emits %lld steps of spikes; writing the "
                "last\n",
                (long long)od[0]);
        const int64_t per = sgad_tensor_numel(images) / od[0];
        const int64_t one[5] = {1, od[1], od[2], od[3], od[4]};
        if (sgad_tensor_wrap(ctx, 5, one, sgad_tensor_data(images) + (od[0] - 1) * per, &last) !=
            SGAD_OK)
            rc = fail(ctx, "sampling");
        shown = last;
    }
    if (!rc)
        rc = write_outputs(ctx, g, shown, o);
    sgad_tensor_free(last);
    sgad_tensor_free(z);
    sgad_tensor_free(images);
    if (t)
        sgad_trainer_free(t);
    else {
        sgad_net_free(g);
        sgad_net_free(d);
    }
    return rc;
}

int main(int argc, char **argv)
{
    options o;
    const int bad = parse(argc, argv, &o);
    if (bad)
        return bad;
    sgad_ctx *ctx;
    if (sgad_ctx_create(&ctx) != SGAD_OK)
        return 1;
    char path[4096];
    sgad_checkpoint *c = NULL;
    int rc = sgad_ctx_set_threads(ctx, (int)o.threads) != SGAD_OK ? fail(ctx, "threads") : 0;
    if (!rc)
        rc = locate(ctx, o.checkpoint, path, sizeof path);
    if (!rc && sgad_checkpoint_read(ctx, path, &c) != SGAD_OK)
        rc = fail(ctx, "checkpoint");
    if (!rc)
        rc = sample(ctx, c, &o);
    if (!rc)
        fprintf(stderr, "sgad-sample: %lld samples from %s\n", o.n, path);
    sgad_checkpoint_free(c);
    sgad_ctx_free(ctx);
    return rc;
}
