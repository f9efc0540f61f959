/* SPDX-License-Identifier: MIT */
/* sgad-sample: images from a checkpoint's generator: a PNG grid of the
 * first 64, an IDX file of N samples (MNIST's format, for evaluation
 * elsewhere) and, for SGAD, per-step strips with the decoder's scores of
 * the first 16 (the paper's Fig. 5). Samples are drawn in batches and
 * written as they come, so memory does not grow with N.
 *
 *   sgad-sample --checkpoint PATH|DIR --n N [--batch B] [--bn batch|running]
 *               [--grid FILE.png] [--idx FILE] [--strips DIR] [--seed S] [--ema]
 *               [--threads K] */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sgad/sgad.h>

#include "cli.h"

typedef struct options {
    const char *checkpoint, *grid, *idx, *strips;
    long long n, batch, seed, threads;
    int ema, bn_batch; /* bn_batch: batch norms on each batch's statistics */
} options;

static void usage(FILE *f)
{
    fprintf(f, "usage: sgad-sample --checkpoint PATH|DIR --n N [--batch B] [--bn batch|running]\n"
               "                   [--grid FILE.png] [--idx FILE] [--strips DIR] [--seed S]\n"
               "                   [--ema] [--threads K]\n");
}

static int parse(int argc, char **argv, options *o)
{
    *o = (options){.n = 64, .batch = 64, .seed = 1, .threads = 2};
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
        } else if (!strcmp(a, "--batch")) {
            ok = cli_integer(v, 1, 65536, &o->batch);
        } else if (!strcmp(a, "--bn")) {
            ok = v && (!strcmp(v, "batch") || !strcmp(v, "running"));
            o->bn_batch = ok && !strcmp(v, "batch");
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
    if (o->bn_batch && (o->batch == 1 || o->n % o->batch == 1)) {
        fprintf(stderr, "sgad-sample: --bn batch: a batch of 1 sample has no batch statistics; "
                        "choose --n and --batch so that no batch holds 1\n");
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

/* The IDX file written batch by batch: the header names all N images up
 * front, each batch's bytes follow as they come, and the file appears
 * under its name only when complete (written to PATH.partial, synced,
 * renamed), as sgad_image_write_idx makes it. Bytes as that function
 * makes them (to_byte in src/io/image_out.c), so the file is the same as
 * writing all N at once; the programs test compares the two. */
typedef struct idx_stream {
    FILE *f;
    char tmp[4096];
    const char *path;
} idx_stream;

static unsigned char to_byte(float v)
{
    if (!(v > 0.0f)) /* NaN too */
        return 0;
    return v >= 1.0f ? 255 : (unsigned char)lrintf(v * 255.0f);
}

static int idx_open(idx_stream *s, const char *path, int64_t n, int64_t c, int64_t h, int64_t w)
{
    s->path = path;
    snprintf(s->tmp, sizeof s->tmp, "%s.partial", path);
    if (!(s->f = fopen(s->tmp, "wb"))) {
        fprintf(stderr, "sgad-sample: %s: %s\n", s->tmp, strerror(errno));
        return 1;
    }
    const int ndim = c == 1 ? 3 : 4;
    const int64_t dims[4] = {n, c == 1 ? h : c, c == 1 ? w : h, w};
    unsigned char head[20] = {0, 0, 0x08, (unsigned char)ndim};
    for (int i = 0; i < ndim; i++)
        for (int k = 0; k < 4; k++)
            head[4 + 4 * i + k] = (unsigned char)((uint64_t)dims[i] >> (24 - 8 * k));
    fwrite(head, 1, 4 + 4 * (size_t)ndim, s->f);
    return 0;
}

static void idx_append(idx_stream *s, const float *x, int64_t count)
{
    unsigned char buf[4096];
    for (int64_t i = 0; i < count;) {
        int64_t k = 0;
        for (; k < (int64_t)sizeof buf && i < count; k++, i++)
            buf[k] = to_byte(x[i]);
        fwrite(buf, 1, (size_t)k, s->f);
    }
}

/* Finishes the file, or abandons it when the run failed (!ok: the failure
 * was reported). */
static int idx_close(idx_stream *s, int ok)
{
    if (!s->f)
        return 0;
    const int written = ok && fflush(s->f) == 0 && !ferror(s->f) && fsync(fileno(s->f)) == 0;
    const int closed = fclose(s->f) == 0;
    s->f = NULL;
    if (written && closed && rename(s->tmp, s->path) == 0)
        return 0;
    if (ok)
        fprintf(stderr, "sgad-sample: %s: %s\n", s->path, strerror(errno));
    remove(s->tmp);
    return 1;
}

/* The generator to sample: a trainer over it, its T and latent size. */
typedef struct generator {
    sgad_trainer *t;
    sgad_net *g, *d; /* the preset's nets of a generator alone, else NULL */
    int steps, latent;
} generator;

/* The checkpoint's own trainer, or for a generator alone (no whole trainer
 * to rebuild) one over its preset's nets. Sampling goes through
 * sgad_trainer_sample_ex either way, as sgad-eval's does. */
static int open_generator(sgad_ctx *ctx, sgad_checkpoint *c, generator *gen)
{
    if (sgad_checkpoint_create_trainer(c, ctx, &gen->t) == SGAD_OK) {
        if (sgad_trainer_preset(gen->t, NULL, NULL, &gen->steps, &gen->latent) != SGAD_OK)
            return fail(ctx, "checkpoint");
        return 0;
    }
    const char *model = sgad_checkpoint_meta(c, "model");
    fprintf(stderr, "sgad-sample: %s; using the generator alone\n", sgad_ctx_last_error(ctx));
    static const char *const shapes[] = {"28x28x1", "32x32x3", "64x64x3"};
    sgad_model m;
    int s = -1;
    const int known = sgad_model_from_name(model, &m) == SGAD_OK;
    for (int i = 0; i < 3 && sgad_checkpoint_meta(c, "image_shape"); i++)
        s = strcmp(sgad_checkpoint_meta(c, "image_shape"), shapes[i]) ? s : i;
    if (!known || s < 0 || !sgad_checkpoint_meta(c, "steps") || !sgad_checkpoint_meta(c, "latent"))
        return fail(ctx, "checkpoint");
    gen->steps = atoi(sgad_checkpoint_meta(c, "steps"));
    gen->latent = atoi(sgad_checkpoint_meta(c, "latent"));
    if (sgad_preset_create(ctx, m, (sgad_image_shape)s, gen->steps, gen->latent, &gen->g,
                           &gen->d) != SGAD_OK ||
        sgad_trainer_create(ctx, gen->g, gen->d, gen->latent, SGAD_LOSS_EM, SGAD_OPTIMIZER_RMSPROP,
                            &gen->t) != SGAD_OK)
        return fail(ctx, "model");
    return 0;
}

/* What one run writes, batch by batch. */
typedef struct outputs {
    idx_stream idx;
    sgad_tensor *grid;                  /* the first GRID_MAX samples, [n, C, H, W] */
    int64_t grid_n, image_numel, steps; /* steps: G's T */
} outputs;

#define GRID_MAX 64   /* samples in the grid */
#define STRIPS_MAX 16 /* samples with a strip */

static int write_strips(sgad_ctx *ctx, const options *o, int64_t first, const sgad_tensor *steps,
                        const sgad_tensor *scores)
{
    const int64_t b = sgad_tensor_dim(scores, 1);
    for (int64_t n = 0; n < b && first + n < STRIPS_MAX; n++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/strip-%03lld.png", o->strips, (long long)(first + n));
        if (sgad_image_write_strip(ctx, path, steps, scores, n) != SGAD_OK)
            return fail(ctx, "strip");
    }
    return 0;
}

/* Samples first .. first+b-1 and hands them to the outputs. For SGAN,
 * whose generator emits a spike train, the last step stands for the
 * image. */
static int sample_batch(sgad_ctx *ctx, sgad_trainer *t, const sgad_tensor *z_all, int64_t first,
                        int64_t b, const options *o, outputs *out)
{
    const int64_t latent = sgad_tensor_dim(z_all, 2);
    const int64_t zd[3] = {1, b, latent};
    int nd;
    int64_t od[SGAD_MAX_DIMS];
    sgad_tensor *z = NULL, *images = NULL, *steps = NULL, *scores = NULL;
    const int strips = o->strips && first < STRIPS_MAX;
    int rc = 0;
    if (sgad_tensor_wrap(ctx, 3, zd, sgad_tensor_data(z_all) + first * latent, &z) != SGAD_OK ||
        sgad_net_output_dims(sgad_trainer_net(t, 0), 3, zd, &nd, od) != SGAD_OK ||
        sgad_tensor_create(ctx, nd, od, &images) != SGAD_OK)
        rc = fail(ctx, "sampling");
    const int64_t sd[5] = {out->steps, b, od[nd - 3], od[nd - 2], od[nd - 1]};
    if (!rc && strips &&
        (sgad_tensor_create(ctx, 5, sd, &steps) != SGAD_OK ||
         sgad_tensor_create(ctx, 2, sd, &scores) != SGAD_OK))
        rc = fail(ctx, "strips");
    const unsigned flags = o->bn_batch ? SGAD_SAMPLE_BATCH_STATS : 0;
    if (!rc && sgad_trainer_sample_ex(t, z, images, flags, steps, scores) != SGAD_OK)
        rc = fail(ctx, "sampling");
    const float *shown =
        rc ? NULL : sgad_tensor_data(images) + sgad_tensor_numel(images) - b * out->image_numel;
    if (!rc && o->idx)
        idx_append(&out->idx, shown, b * out->image_numel);
    for (int64_t n = 0; !rc && out->grid && n < b && first + n < out->grid_n; n++)
        memcpy(sgad_tensor_data(out->grid) + (first + n) * out->image_numel,
               shown + n * out->image_numel, (size_t)out->image_numel * sizeof *shown);
    if (!rc && strips)
        rc = write_strips(ctx, o, first, steps, scores);
    sgad_tensor_free(z);
    sgad_tensor_free(images);
    sgad_tensor_free(steps);
    sgad_tensor_free(scores);
    return rc;
}

/* Sets up the outputs for N images of G's output dims od (nd of them). */
static int open_outputs(sgad_ctx *ctx, const generator *gen, const options *o, int nd,
                        const int64_t *od, outputs *out)
{
    const int64_t c = od[nd - 3], h = od[nd - 2], w = od[nd - 1];
    out->image_numel = c * h * w;
    out->steps = gen->steps;
    if (nd == 5 && od[0] != 1)
        fprintf(stderr,
                "sgad-sample: the generator emits %lld steps of spikes; writing the "
                "last\n",
                (long long)od[0]);
    if (o->strips && mkdir(o->strips, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "sgad-sample: %s: %s\n", o->strips, strerror(errno));
        return 1;
    }
    out->grid_n = o->n < GRID_MAX ? o->n : GRID_MAX;
    const int64_t gd[4] = {out->grid_n, c, h, w};
    if (o->grid && sgad_tensor_create(ctx, 4, gd, &out->grid) != SGAD_OK)
        return fail(ctx, "grid");
    return o->idx ? idx_open(&out->idx, o->idx, o->n, c, h, w) : 0;
}

static int write_grid(sgad_ctx *ctx, const options *o, const outputs *out)
{
    const int cols = (int)ceil(sqrt((double)out->grid_n));
    const int rows = (int)((out->grid_n + cols - 1) / cols);
    if (sgad_image_write_grid(ctx, o->grid, out->grid, rows, cols) != SGAD_OK)
        return fail(ctx, "grid");
    return 0;
}

/* N samples in batches of o->batch: memory holds one batch's forward,
 * the grid's 64 images and the N latents (N * latent floats), whatever N. */
static int sample(sgad_ctx *ctx, sgad_checkpoint *c, const options *o)
{
    generator gen = {0};
    int rc = open_generator(ctx, c, &gen);
    sgad_net *g = rc ? NULL : sgad_trainer_net(gen.t, 0);
    /* the checkpoint's G (or its moving average) replaces the trainer's */
    if (!rc && sgad_checkpoint_restore_generator(c, g, o->ema) != SGAD_OK)
        rc = fail(ctx, o->ema ? "moving average" : "generator");
    int nd = 0;
    int64_t od[SGAD_MAX_DIMS];
    sgad_tensor *z = NULL;
    const int64_t zd[3] = {1, o->n, gen.latent}, bd[3] = {1, o->batch, gen.latent};
    if (!rc && (sgad_tensor_create(ctx, 3, zd, &z) != SGAD_OK ||
                sgad_draw_latents(ctx, (uint64_t)o->seed, z) != SGAD_OK ||
                sgad_net_output_dims(g, 3, bd, &nd, od) != SGAD_OK))
        rc = fail(ctx, "sampling");
    outputs out = {0};
    if (!rc)
        rc = open_outputs(ctx, &gen, o, nd, od, &out);
    for (int64_t first = 0; !rc && first < o->n; first += o->batch)
        rc = sample_batch(ctx, gen.t, z, first, o->n - first < o->batch ? o->n - first : o->batch,
                          o, &out);
    rc = idx_close(&out.idx, !rc) || rc;
    if (!rc && o->grid)
        rc = write_grid(ctx, o, &out);
    sgad_tensor_free(out.grid);
    sgad_tensor_free(z);
    sgad_trainer_free(gen.t);
    sgad_net_free(gen.g);
    sgad_net_free(gen.d);
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
