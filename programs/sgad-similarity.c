/* SPDX-License-Identifier: MIT */
/* sgad-similarity: how alike a model's layers and recorded brain areas
 * represent the same stimuli (the paper's Section 5.4, Figs. 7-8), with
 * the measures of similarity.h and the recorder of record.h.
 * docs/similarity.md, sgad-similarity(1).
 *
 *   sgad-similarity --checkpoint PATH --stimuli FILE|DIR --area NAME=FILE ...
 *                   [--net d|g] [--record rate|input] [--layers I,J,..] [--count N]
 *                   [--csv OUT] [--save-layers DIR] [--name TEXT] [--batch B]
 *                   [--permutations P] [--folds K] [--variance V] [--rdm D] [--seed S]
 *                   [--threads K]
 *   sgad-similarity --checkpoint PATH --net g --latents N --area NAME=FILE ...
 *   sgad-similarity --pair X Y [--permutations P] [--folds K] [--variance V] [--rdm D]
 *                   [--seed S]
 *
 * stdout carries JSON lines only: one object per layer x area x measure,
 * or with --pair one object. A measure the data leave undefined (a layer
 * silent for a stimulus, say) gets "score": null and its reason, on stdout
 * and stderr, and the run goes on. Exit 0 on success, 2 on wrong
 * arguments, 1 on a runtime error (a file that cannot be read, a model or
 * a recording of the wrong shape) with the reason on stderr. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sgad/sgad.h>

#include "cli.h"

#define MAX_AREAS 32
#define MAX_LAYERS 64

typedef struct area {
    const char *name, *path;
    double *data; /* rows x cols, from sgad_matrix_load */
    int64_t rows, cols;
} area;

typedef struct options {
    const char *checkpoint, *stimuli, *net, *record, *layers, *csv, *save, *name, *rdm;
    const char *pair[2];
    area areas[MAX_AREAS];
    int nareas;
    long long count, latents, batch, permutations, folds, seed, threads;
    double variance;
} options;

static void usage(FILE *f)
{
    fprintf(
        f, "usage: sgad-similarity --checkpoint PATH --stimuli FILE|DIR --area NAME=FILE\n"
           "                       [--area NAME=FILE ...] [--net d|g] [--record rate|input]\n"
           "                       [--layers I,J,...] [--count N] [--csv OUT] [--save-layers DIR]\n"
           "                       [--name TEXT] [--batch B] [--permutations P] [--folds K]\n"
           "                       [--variance V] [--rdm correlation|euclidean] [--seed S]\n"
           "                       [--threads K]\n"
           "       sgad-similarity --checkpoint PATH --net g --latents N --area ... (G on drawn "
           "latents)\n"
           "       sgad-similarity --pair X Y [--permutations P] [--folds K] [--variance V]\n"
           "                       [--rdm correlation|euclidean] [--seed S]\n"
           "Stimuli: an IDX image file (raw or .gz) or a folder of PNGs, converted to the\n"
           "model's channels and centre-cropped and area-resized to its input size; for --net g\n"
           "a matrix of latents. Recordings (--area, --pair): [stimuli x units] float .npy\n"
           "(<f4/<f8) or IDX float32/float64 matrices, row i the response to stimulus i.\n"
           "Prints JSON lines: per layer x area x measure (rsa, encoding, svcca, cka_linear,\n"
           "cka_rbf), or with --pair one line with all five (encoding: X predicting Y).\n");
}

static int bad(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "sgad-similarity: ");
    fprintf(stderr, fmt, a, b);
    fprintf(stderr, "\n");
    usage(stderr);
    return 2;
}

/* ---- arguments ----------------------------------------------------------- */

/* An area name goes into JSON and CSV unquoted-safe: letters, digits, '_',
 * '-' and '.', 1..32 of them. */
static int good_name(const char *s, size_t len)
{
    if (len < 1 || len > 32)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
            return 0;
    return 1;
}

static int parse_area(options *o, const char *v)
{
    const char *eq = v ? strchr(v, '=') : NULL;
    if (!eq || !eq[1] || !good_name(v, (size_t)(eq - v)) || o->nareas == MAX_AREAS)
        return 0;
    area *a = &o->areas[o->nareas++];
    a->name = strndup(v, (size_t)(eq - v));
    a->path = eq + 1;
    return a->name != NULL;
}

static const char **string_slot(options *o, const char *a)
{
    static const char *const names[] = {"--checkpoint", "--stimuli",     "--net",
                                        "--record",     "--layers",      "--csv",
                                        "--name",       "--save-layers", "--rdm"};
    const char **slots[] = {&o->checkpoint, &o->stimuli, &o->net,  &o->record, &o->layers,
                            &o->csv,        &o->name,    &o->save, &o->rdm};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(a, names[i]))
            return slots[i];
    return NULL;
}

/* 1: parsed, 0: a bad value, -1: unknown option. */
static int parse_one(options *o, const char *a, const char *v, const char *w, int *takes)
{
    const char **slot = string_slot(o, a);
    *takes = 1;
    if (slot)
        return (*slot = v) != NULL;
    if (!strcmp(a, "--area"))
        return parse_area(o, v);
    if (!strcmp(a, "--pair")) {
        *takes = 2;
        o->pair[0] = v;
        o->pair[1] = w;
        return v && w;
    }
    if (!strcmp(a, "--count"))
        return cli_integer(v, 3, SGAD_SIMILARITY_MAX_STIMULI, &o->count);
    if (!strcmp(a, "--latents"))
        return cli_integer(v, 3, SGAD_SIMILARITY_MAX_STIMULI, &o->latents);
    if (!strcmp(a, "--batch"))
        return cli_integer(v, 1, 65536, &o->batch);
    if (!strcmp(a, "--permutations"))
        return cli_integer(v, 0, 1000000, &o->permutations);
    if (!strcmp(a, "--folds"))
        return cli_integer(v, 2, 100, &o->folds);
    if (!strcmp(a, "--seed"))
        return cli_integer(v, 0, 1LL << 62, &o->seed);
    if (!strcmp(a, "--threads"))
        return cli_integer(v, 1, 256, &o->threads);
    if (!strcmp(a, "--variance"))
        return cli_real(v, 1e-6, 1.0, &o->variance) && o->variance > 0;
    return -1;
}

static int check_modes(const options *o)
{
    if (o->rdm && strcmp(o->rdm, "correlation") && strcmp(o->rdm, "euclidean"))
        return bad("--rdm is correlation or euclidean, not '%s'%s", o->rdm, "");
    if (o->pair[0]) {
        if (o->checkpoint || o->stimuli || o->nareas || o->layers || o->csv || o->save ||
            o->latents || o->count || o->net || o->record || o->name)
            return bad("--pair compares two files; it takes only --permutations, --folds, "
                       "--variance, --rdm and --seed%s%s",
                       "", "");
        return 0;
    }
    if (!o->checkpoint)
        return bad("give --checkpoint (or --pair X Y)%s%s", "", "");
    if (o->net && strcmp(o->net, "d") && strcmp(o->net, "g"))
        return bad("--net is d or g, not '%s'%s", o->net, "");
    if (o->record && strcmp(o->record, "rate") && strcmp(o->record, "input"))
        return bad("--record is rate or input, not '%s'%s", o->record, "");
    const int g = o->net && !strcmp(o->net, "g");
    if (!o->stimuli == !(g && o->latents))
        return bad("give --stimuli (or, with --net g, --latents N instead)%s%s", "", "");
    if (o->latents && !g)
        return bad("--latents applies to --net g only%s%s", "", "");
    if (!o->nareas && !o->save)
        return bad("give at least one --area NAME=FILE (or --save-layers DIR)%s%s", "", "");
    return 0;
}

static int parse(int argc, char **argv, options *o)
{
    *o = (options){.batch = 32,
                   .folds = SGAD_ENCODING_DEFAULT_FOLDS,
                   .seed = 1,
                   .threads = 1,
                   .variance = SGAD_SVCCA_DEFAULT_VARIANCE};
    for (int i = 1; i < argc; i++) {
        cli_arg arg; /* --flag value, or --flag=value */
        cli_split(&arg, argc, argv, i);
        const char *a = arg.flag, *v = arg.value;
        const int next = arg.attached ? i + 1 : i + 2; /* --pair's second file */
        const char *w = next < argc ? argv[next] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            exit(0);
        }
        int takes;
        const int ok = parse_one(o, a, v, w, &takes);
        if (ok < 0)
            return bad("unknown option '%s'%s", a, "");
        if (!ok && !strcmp(a, "--area"))
            return bad("bad --area '%s': NAME=FILE, NAME of 1..32 letters, digits, '_', '-', "
                       "'.'%s (at most 32 areas)",
                       v ? v : "(missing)", "");
        if (!ok)
            return bad("bad value for %s: '%s'", a, v ? v : "(missing)");
        i += arg.attached ? takes - 1 : takes;
    }
    return check_modes(o);
}

static int fail(sgad_ctx *ctx, const char *what)
{
    fprintf(stderr, "sgad-similarity: %s: %s\n", what, sgad_ctx_last_error(ctx));
    return 1;
}

/* ---- output -------------------------------------------------------------- */

/* Writes s as a JSON string. */
static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(f, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            fprintf(f, "\\u%04x", (unsigned)(unsigned char)*s);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

/* A number, or null when it is not finite (JSON has no NaN). */
static void json_number(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.9g", v);
    else
        fputs("null", f);
}

/* One measure's outcome: a score (NaN if undefined, with the reason). */
typedef struct outcome {
    double score, p_value;
    char why[256];
} outcome;

static void undefined(outcome *r, sgad_ctx *ctx)
{
    r->score = r->p_value = NAN;
    snprintf(r->why, sizeof r->why, "%s", sgad_ctx_last_error(ctx));
    sgad_ctx_clear_error(ctx);
}

/* ---- the measures -------------------------------------------------------- */

enum { M_RSA, M_ENCODING, M_SVCCA, M_CKA_LINEAR, M_CKA_RBF, M_COUNT };
static const char *const measure_names[M_COUNT] = {"rsa", "encoding", "svcca", "cka_linear",
                                                   "cka_rbf"};

/* Every measure but the encoding for one pair of representations. A
 * status other than SGAD_E_NUMERIC (no memory, LAPACK failing) is not about
 * the data and ends the run. */
static sgad_status measure_pair(sgad_ctx *ctx, const options *o, const sgad_rep *x,
                                const sgad_rep *y, outcome *r)
{
    for (int m = 0; m < M_COUNT; m++)
        r[m] = (outcome){NAN, NAN, ""};
    sgad_status st[M_COUNT] = {SGAD_OK};
    const sgad_rdm_distance rdm =
        o->rdm && !strcmp(o->rdm, "euclidean") ? SGAD_RDM_EUCLIDEAN : SGAD_RDM_CORRELATION;
    st[M_RSA] = sgad_rsa(ctx, x, y, rdm, o->permutations, (uint64_t)o->seed, &r[M_RSA].score,
                         &r[M_RSA].p_value);
    if (st[M_RSA] != SGAD_OK)
        undefined(&r[M_RSA], ctx);
    st[M_SVCCA] = sgad_svcca(ctx, x, y, o->variance, &r[M_SVCCA].score, NULL, NULL);
    if (st[M_SVCCA] != SGAD_OK)
        undefined(&r[M_SVCCA], ctx);
    st[M_CKA_LINEAR] = sgad_cka(ctx, x, y, SGAD_CKA_LINEAR, 1.0, 0, &r[M_CKA_LINEAR].score);
    if (st[M_CKA_LINEAR] != SGAD_OK)
        undefined(&r[M_CKA_LINEAR], ctx);
    st[M_CKA_RBF] = sgad_cka(ctx, x, y, SGAD_CKA_RBF, 1.0, 0, &r[M_CKA_RBF].score);
    if (st[M_CKA_RBF] != SGAD_OK)
        undefined(&r[M_CKA_RBF], ctx);
    for (int m = 0; m < M_COUNT; m++)
        if (st[m] != SGAD_OK && st[m] != SGAD_E_NUMERIC)
            return st[m];
    return SGAD_OK;
}

/* The mean of v[0..n). */
static double mean_of(const double *v, int64_t n)
{
    double s = 0;
    for (int64_t i = 0; i < n; i++)
        s += v[i];
    return s / (double)n;
}

/* ---- --pair -------------------------------------------------------------- */

static int load_matrix(sgad_ctx *ctx, const char *path, double **m, int64_t *rows, int64_t *cols)
{
    if (sgad_matrix_load(ctx, path, m, rows, cols) != SGAD_OK)
        return fail(ctx, path);
    return 0;
}

static void print_pair(const options *o, int64_t n, int64_t px, int64_t py, const outcome *r)
{
    static const int order[M_COUNT] = {M_RSA, M_CKA_LINEAR, M_CKA_RBF, M_SVCCA, M_ENCODING};
    printf("{\"stimuli\": %lld, \"x_units\": %lld, \"y_units\": %lld", (long long)n, (long long)px,
           (long long)py);
    for (int k = 0; k < M_COUNT; k++) {
        printf(", \"%s\": ", measure_names[order[k]]);
        json_number(stdout, r[order[k]].score);
    }
    if (o->permutations) {
        printf(", \"rsa_p\": ");
        json_number(stdout, r[M_RSA].p_value);
    }
    printf(", \"undefined\": {");
    for (int m = 0, first = 1; m < M_COUNT; m++)
        if (r[m].why[0]) {
            printf("%s\"%s\": ", first ? "" : ", ", measure_names[m]);
            json_string(stdout, r[m].why);
            first = 0;
        }
    printf("}}\n");
}

static int run_pair(sgad_ctx *ctx, const options *o)
{
    double *x = NULL, *y = NULL;
    int64_t nx, px, ny, py;
    int rc = load_matrix(ctx, o->pair[0], &x, &nx, &px);
    if (!rc)
        rc = load_matrix(ctx, o->pair[1], &y, &ny, &py);
    if (!rc && nx != ny) {
        fprintf(stderr, "sgad-similarity: %s has %lld rows (stimuli) but %s has %lld\n", o->pair[0],
                (long long)nx, o->pair[1], (long long)ny);
        rc = 1;
    }
    outcome r[M_COUNT];
    const sgad_rep rx = {x, SGAD_DTYPE_F64, nx, px, 0}, ry = {y, SGAD_DTYPE_F64, ny, py, 0};
    if (!rc && measure_pair(ctx, o, &rx, &ry, r) != SGAD_OK)
        rc = fail(ctx, "measures");
    if (!rc) {
        const sgad_status st = sgad_encoding_score(ctx, &rx, &ry, (int)o->folds, NULL, 0,
                                                   SGAD_SUMMARY_MEAN, &r[M_ENCODING].score, NULL);
        if (st == SGAD_E_NUMERIC)
            undefined(&r[M_ENCODING], ctx);
        else if (st != SGAD_OK)
            rc = fail(ctx, "encoding");
    }
    for (int m = 0; !rc && m < M_COUNT; m++)
        if (r[m].why[0])
            fprintf(stderr, "sgad-similarity: %s is undefined: %s\n", measure_names[m], r[m].why);
    if (!rc)
        print_pair(o, nx, px, py, r);
    sgad_matrix_free(ctx, x);
    sgad_matrix_free(ctx, y);
    return rc;
}

/* ---- stimuli ------------------------------------------------------------- */

/* Area resampling of m input samples to s output samples: output o
 * averages the input interval [o m / s, (o + 1) m / s), each input sample
 * weighted by how much of it lies inside. Output o reads inputs
 * first[o] .. first[o] + 1 (at most ceil(m / s) + 1 of them), with weights
 * w[o * span ..]; span = ceil(m / s) + 1. */
typedef struct resampler {
    int64_t m, s, span;
    int64_t *first;
    double *w;
} resampler;

static int resampler_init(resampler *r, int64_t m, int64_t s)
{
    r->m = m;
    r->s = s;
    r->span = (m + s - 1) / s + 1;
    r->first = malloc((size_t)s * sizeof *r->first);
    r->w = calloc((size_t)(s * r->span), sizeof *r->w);
    if (!r->first || !r->w)
        return 1;
    for (int64_t o = 0; o < s; o++) {
        const double lo = (double)o * (double)m / (double)s;
        const double hi = (double)(o + 1) * (double)m / (double)s;
        r->first[o] = (int64_t)floor(lo);
        for (int64_t k = 0; k < r->span && r->first[o] + k < m; k++) {
            const double i = (double)(r->first[o] + k);
            const double a = lo > i ? lo : i, b = hi < i + 1 ? hi : i + 1;
            r->w[o * r->span + k] = b > a ? (b - a) / (hi - lo) : 0;
        }
    }
    return 0;
}

static void resampler_free(resampler *r)
{
    free(r->first);
    free(r->w);
}

/* out[o * so] = sum_k w[o, k] in[(first[o] + k) * si] for o < s. */
static void resample(const resampler *r, const double *in, int64_t si, double *out, int64_t so)
{
    for (int64_t o = 0; o < r->s; o++) {
        double v = 0;
        for (int64_t k = 0; k < r->span && r->first[o] + k < r->m; k++)
            v += r->w[o * r->span + k] * in[(r->first[o] + k) * si];
        out[o * so] = v;
    }
}

/* One image [c, h, w] to the model's [mc, side, side]: channels first (RGB
 * to grey by ITU-R BT.601 luma, grey to RGB by copying), then the centred
 * square of the shorter side m, area-resampled to side x side, rows then
 * columns. work holds m * m + m * side doubles. */
static void fit_image(const float *in, int64_t c, int64_t h, int64_t w, int64_t mc,
                      const resampler *r, double *work, float *out)
{
    const int64_t m = r->m, side = r->s, y0 = (h - m) / 2, x0 = (w - m) / 2;
    double *grey = work, *cols = work + m * m; /* cols: m rows x side */
    for (int64_t k = 0; k < mc; k++) {
        for (int64_t y = 0; y < m; y++)
            for (int64_t x = 0; x < m; x++) {
                const int64_t at = (y0 + y) * w + x0 + x;
                if (c == mc)
                    grey[y * m + x] = in[k * h * w + at];
                else if (c == 1)
                    grey[y * m + x] = in[at];
                else
                    grey[y * m + x] =
                        0.299 * in[at] + 0.587 * in[h * w + at] + 0.114 * in[2 * h * w + at];
            }
        for (int64_t y = 0; y < m; y++)
            resample(r, grey + y * m, 1, cols + y * side, 1);
        double column[256]; /* side <= 64 */
        for (int64_t x = 0; x < side; x++) {
            resample(r, cols + x, side, column, 1);
            for (int64_t y = 0; y < side; y++)
                out[(k * side + y) * side + x] = (float)column[y];
        }
    }
}

/* The first n images of a dataset, fitted to [n, mc, side, side]. */
static int fit_dataset(sgad_ctx *ctx, sgad_dataset *d, int64_t n, int64_t mc, int64_t side,
                       sgad_tensor *out)
{
    int64_t c, h, w;
    sgad_dataset_image_dims(d, &c, &h, &w);
    const int64_t m = h < w ? h : w, dims[4] = {1, c, h, w};
    resampler r = {0};
    double *work = malloc((size_t)(m * m + m * side) * sizeof *work);
    sgad_tensor *one = NULL;
    int rc = !work || resampler_init(&r, m, side) || sgad_tensor_create(ctx, 4, dims, &one);
    if (rc)
        fprintf(stderr, "sgad-similarity: out of memory for the stimuli\n");
    for (int64_t i = 0; !rc && i < n; i++) {
        if (sgad_dataset_read(d, i, one) != SGAD_OK)
            rc = fail(ctx, "stimuli");
        else
            fit_image(sgad_tensor_data(one), c, h, w, mc, &r, work,
                      sgad_tensor_data(out) + i * mc * side * side);
    }
    free(work);
    resampler_free(&r);
    sgad_tensor_free(one);
    return rc;
}

static const int64_t shape_side[3] = {28, 32, 64}, shape_channels[3] = {1, 3, 3};

/* Images for a discriminator: [n, C, side, side] (n: --count or all). */
static int load_images(sgad_ctx *ctx, const options *o, sgad_image_shape shape, sgad_tensor **out)
{
    struct stat st;
    const int dir = stat(o->stimuli, &st) == 0 && S_ISDIR(st.st_mode);
    sgad_dataset *d = NULL;
    if (sgad_dataset_open(ctx, dir ? SGAD_DATA_PNG : SGAD_DATA_IDX, o->stimuli, NULL, &d) !=
        SGAD_OK)
        return fail(ctx, o->stimuli);
    int64_t n = sgad_dataset_count(d);
    int rc = 0;
    if (o->count > n) {
        fprintf(stderr, "sgad-similarity: --count %lld but %s holds %lld images\n", o->count,
                o->stimuli, (long long)n);
        rc = 1;
    }
    n = o->count ? o->count : n;
    const int64_t c = shape_channels[shape], side = shape_side[shape];
    const int64_t dims[4] = {n, c, side, side};
    if (!rc && sgad_tensor_create(ctx, 4, dims, out) != SGAD_OK)
        rc = fail(ctx, "stimuli");
    if (!rc)
        rc = fit_dataset(ctx, d, n, c, side, *out);
    sgad_dataset_free(d);
    return rc;
}

/* Latents for a generator: [n, latent], from a matrix file or drawn. */
static int load_latents(sgad_ctx *ctx, const options *o, int latent, sgad_tensor **out)
{
    int64_t n = o->latents, cols = latent;
    double *m = NULL;
    if (o->stimuli && load_matrix(ctx, o->stimuli, &m, &n, &cols))
        return 1;
    int rc = 0;
    if (cols != latent) {
        fprintf(stderr, "sgad-similarity: %s has %lld columns; the generator takes %d latents\n",
                o->stimuli, (long long)cols, latent);
        rc = 1;
    }
    if (!rc && o->count > n) {
        fprintf(stderr, "sgad-similarity: --count %lld but %s holds %lld rows\n", o->count,
                o->stimuli, (long long)n);
        rc = 1;
    }
    n = o->count && o->count < n ? o->count : n;
    const int64_t dims[2] = {n, latent};
    if (!rc && sgad_tensor_create(ctx, 2, dims, out) != SGAD_OK)
        rc = fail(ctx, "latents");
    if (!rc && !m && sgad_draw_latents(ctx, (uint64_t)o->seed, *out) != SGAD_OK)
        rc = fail(ctx, "latents");
    for (int64_t i = 0; !rc && m && i < n * latent; i++)
        sgad_tensor_data(*out)[i] = (float)m[i];
    sgad_matrix_free(ctx, m);
    return rc;
}

/* ---- the model ----------------------------------------------------------- */

typedef struct model {
    sgad_trainer *trainer;
    sgad_net *net;
    sgad_model kind;
    sgad_image_shape shape;
    int latent;
    sgad_tensor *stimuli; /* [n, ...] */
    int64_t n;
    int count;              /* layers recorded */
    int layers[MAX_LAYERS]; /* their indices in the net */
    int64_t units[MAX_LAYERS];
    float *rec[MAX_LAYERS]; /* n x units[k] each */
} model;

static int open_model(sgad_ctx *ctx, const options *o, model *md)
{
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s", o->checkpoint);
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
        sgad_checkpoint_find_latest(ctx, o->checkpoint, path, sizeof path) != SGAD_OK)
        return fail(ctx, o->checkpoint);
    sgad_checkpoint *c;
    if (sgad_checkpoint_read(ctx, path, &c) != SGAD_OK)
        return fail(ctx, path);
    const sgad_status made = sgad_checkpoint_create_trainer(c, ctx, &md->trainer);
    sgad_checkpoint_free(c);
    if (made != SGAD_OK ||
        sgad_trainer_preset(md->trainer, &md->kind, &md->shape, NULL, &md->latent) != SGAD_OK)
        return fail(ctx, path);
    md->net = sgad_trainer_net(md->trainer, o->net && !strcmp(o->net, "g") ? 0 : 1);
    return 0;
}

/* The hidden responses: spiking neurons, or the ANN's LeakyReLUs. */
static int is_response(const sgad_layer *l)
{
    const sgad_layer_kind k = sgad_layer_get_kind(l);
    return k == SGAD_LAYER_LIF || k == SGAD_LAYER_IF || k == SGAD_LAYER_LEAKY_RELU;
}

static int choose_layers(const options *o, model *md)
{
    const int nl = sgad_net_layer_count(md->net);
    md->count = 0;
    if (!o->layers) {
        for (int i = 0; i < nl && md->count < MAX_LAYERS; i++)
            if (is_response(sgad_net_layer(md->net, i)))
                md->layers[md->count++] = i;
        if (md->count)
            return 0;
        fprintf(stderr, "sgad-similarity: the net has no LIF, IF or LeakyReLU layer; give "
                        "--layers\n");
        return 1;
    }
    for (const char *p = o->layers; *p;) {
        char *end;
        const long v = strtol(p, &end, 10);
        if (end == p || v < 0 || v >= nl || (*end && *end != ',') || md->count == MAX_LAYERS) {
            fprintf(stderr,
                    "sgad-similarity: bad --layers '%s': indices 0..%d, comma-separated "
                    "(sgad-inspect lists the layers)\n",
                    o->layers, nl - 1);
            return 2;
        }
        md->layers[md->count++] = (int)v;
        p = *end ? end + 1 : end;
    }
    return 0;
}

static int record_layers(sgad_ctx *ctx, const options *o, model *md)
{
    const sgad_record_mode mode =
        o->record && !strcmp(o->record, "input") ? SGAD_RECORD_INPUT_MEAN : SGAD_RECORD_OUTPUT_MEAN;
    const int nd = sgad_tensor_ndim(md->stimuli);
    int64_t sample[SGAD_MAX_DIMS];
    for (int d = 1; d < nd; d++)
        sample[d - 1] = sgad_tensor_dim(md->stimuli, d);
    md->n = sgad_tensor_dim(md->stimuli, 0);
    for (int k = 0; k < md->count; k++) {
        if (sgad_record_units(md->net, nd - 1, sample, md->layers[k], mode, &md->units[k]) !=
            SGAD_OK)
            return fail(ctx, "layers");
        md->rec[k] = malloc((size_t)(md->n * md->units[k]) * sizeof(float));
        if (!md->rec[k]) {
            fprintf(stderr, "sgad-similarity: out of memory for layer %d's %lld x %lld values\n",
                    md->layers[k], (long long)md->n, (long long)md->units[k]);
            return 1;
        }
    }
    if (sgad_record(md->net, md->stimuli, o->batch, mode, md->count, md->layers, md->rec) !=
        SGAD_OK)
        return fail(ctx, "recording");
    return 0;
}

/* A layer's label: its kind and its 1-based place among the recorded
 * layers ("lif1", "leaky_relu2"), which lines SGAD's D up with the
 * hybrid's. */
static void layer_label(const model *md, int k, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s%d",
             sgad_layer_kind_name(sgad_layer_get_kind(sgad_net_layer(md->net, md->layers[k]))),
             k + 1);
}

/* Writes a float32 [rows x cols] .npy file (format 1.0). */
static int write_npy(const char *path, const float *v, int64_t rows, int64_t cols)
{
    char head[128];
    int len = snprintf(head, sizeof head,
                       "{'descr': '<f4', 'fortran_order': False, 'shape': (%lld, %lld), }",
                       (long long)rows, (long long)cols);
    const int total = (10 + len + 1 + 63) / 64 * 64; /* magic + header + '\n', 64-aligned */
    while (10 + len < total - 1)
        head[len++] = ' ';
    head[len++] = '\n';
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    const unsigned char magic[10] = {0x93,
                                     'N',
                                     'U',
                                     'M',
                                     'P',
                                     'Y',
                                     1,
                                     0,
                                     (unsigned char)(len & 0xff),
                                     (unsigned char)(len >> 8)};
    /* Little-endian floats: the hosts libsgad builds for (x86-64, aarch64). */
    int ok = fwrite(magic, 1, 10, f) == 10 && fwrite(head, 1, (size_t)len, f) == (size_t)len &&
             fwrite(v, sizeof *v, (size_t)(rows * cols), f) == (size_t)(rows * cols);
    ok = (fclose(f) == 0) && ok;
    return ok;
}

static int save_layers(const options *o, const model *md)
{
    mkdir(o->save, 0777);
    for (int k = 0; k < md->count; k++) {
        char label[64], path[4200];
        layer_label(md, k, label, sizeof label);
        snprintf(path, sizeof path, "%s/layer%02d-%s.npy", o->save, md->layers[k], label);
        if (!write_npy(path, md->rec[k], md->n, md->units[k])) {
            perror(path);
            return 1;
        }
        fprintf(stderr, "sgad-similarity: wrote %s (%lld x %lld)\n", path, (long long)md->n,
                (long long)md->units[k]);
    }
    return 0;
}

/* ---- areas --------------------------------------------------------------- */

/* Loads every area and checks it against the stimuli: the same rows, no
 * unit constant over them (the encoding score is undefined for such a
 * unit; drop it before). */
static int load_areas(sgad_ctx *ctx, options *o, int64_t n)
{
    for (int a = 0; a < o->nareas; a++) {
        area *ar = &o->areas[a];
        if (load_matrix(ctx, ar->path, &ar->data, &ar->rows, &ar->cols))
            return 1;
        if (ar->rows != n) {
            fprintf(stderr,
                    "sgad-similarity: area %s (%s) has %lld rows; there are %lld stimuli "
                    "(row i must be the response to stimulus i)\n",
                    ar->name, ar->path, (long long)ar->rows, (long long)n);
            return 1;
        }
        for (int64_t j = 0; j < ar->cols; j++) {
            int64_t i = 1;
            while (i < n && ar->data[i * ar->cols + j] == ar->data[j])
                i++;
            if (i == n) {
                fprintf(stderr,
                        "sgad-similarity: area %s (%s): unit %lld is constant over the %lld "
                        "stimuli; remove such units\n",
                        ar->name, ar->path, (long long)j, (long long)n);
                return 1;
            }
        }
    }
    return 0;
}

/* ---- scoring ------------------------------------------------------------- */

typedef struct scores {
    outcome r[MAX_LAYERS][MAX_AREAS][M_COUNT];
} scores;

/* The encoding of every area from layer k in one call: all areas' units
 * side by side as y. Folds split stimuli and each recorded unit chooses
 * its own ridge strength, so a unit's r is the same as in a call with its
 * area alone, and an area's score is the mean of its units' r; the SVDs
 * of the layer, the costly part, are made once instead of once per area. */
static int encode_areas(sgad_ctx *ctx, const options *o, const model *md, int k, scores *s)
{
    int64_t q = 0;
    for (int a = 0; a < o->nareas; a++)
        q += o->areas[a].cols;
    double *y = malloc((size_t)(md->n * q) * sizeof *y), *r = malloc((size_t)q * sizeof *r);
    int rc = !y || !r;
    if (rc)
        fprintf(stderr, "sgad-similarity: out of memory for the encoding\n");
    for (int a = 0, at = 0; !rc && a < o->nareas; at += (int)o->areas[a++].cols)
        for (int64_t i = 0; i < md->n; i++)
            memcpy(y + i * q + at, o->areas[a].data + i * o->areas[a].cols,
                   (size_t)o->areas[a].cols * sizeof *y);
    const sgad_rep x = {md->rec[k], SGAD_DTYPE_F32, md->n, md->units[k], 0};
    const sgad_rep ry = {y, SGAD_DTYPE_F64, md->n, q, 0};
    double all;
    const sgad_status st =
        rc ? SGAD_OK
           : sgad_encoding_score(ctx, &x, &ry, (int)o->folds, NULL, 0, SGAD_SUMMARY_MEAN, &all, r);
    for (int a = 0, at = 0; !rc && a < o->nareas; at += (int)o->areas[a++].cols) {
        outcome *e = &s->r[k][a][M_ENCODING];
        *e = (outcome){NAN, NAN, ""};
        if (st == SGAD_OK)
            e->score = mean_of(r + at, o->areas[a].cols);
        else
            snprintf(e->why, sizeof e->why, "%s", sgad_ctx_last_error(ctx));
    }
    if (!rc && st != SGAD_OK && st != SGAD_E_NUMERIC)
        rc = fail(ctx, "encoding");
    sgad_ctx_clear_error(ctx);
    free(y);
    free(r);
    return rc;
}

static int score_all(sgad_ctx *ctx, const options *o, const model *md, scores *s)
{
    for (int k = 0; k < md->count; k++) {
        char label[64];
        layer_label(md, k, label, sizeof label);
        fprintf(stderr, "sgad-similarity: layer %d (%s, %lld units) against %d area(s)\n",
                md->layers[k], label, (long long)md->units[k], o->nareas);
        const sgad_rep x = {md->rec[k], SGAD_DTYPE_F32, md->n, md->units[k], 0};
        for (int a = 0; a < o->nareas; a++) {
            const sgad_rep y = {o->areas[a].data, SGAD_DTYPE_F64, md->n, o->areas[a].cols, 0};
            const outcome keep = s->r[k][a][M_ENCODING];
            if (measure_pair(ctx, o, &x, &y, s->r[k][a]) != SGAD_OK)
                return fail(ctx, "measures");
            s->r[k][a][M_ENCODING] = keep;
        }
        if (encode_areas(ctx, o, md, k, s))
            return 1;
    }
    return 0;
}

static const char *net_name(const options *o)
{
    return o->net && !strcmp(o->net, "g") ? "G" : "D";
}

static void print_line(const options *o, const model *md, int k, int a, int m, const outcome *r)
{
    char label[64];
    layer_label(md, k, label, sizeof label);
    printf("{\"name\": ");
    json_string(stdout, o->name ? o->name : sgad_model_name(md->kind));
    printf(", \"model\": \"%s\", \"net\": \"%s\", \"layer\": \"%s\", \"index\": %d, "
           "\"units\": %lld, \"area\": \"%s\", \"measure\": \"%s\", \"score\": ",
           sgad_model_name(md->kind), net_name(o), label, md->layers[k], (long long)md->units[k],
           o->areas[a].name, measure_names[m]);
    json_number(stdout, r->score);
    printf(", \"p_value\": ");
    json_number(stdout, r->p_value);
    printf(", \"stimuli\": %lld, \"record\": \"%s\"", (long long)md->n,
           o->record ? o->record : "rate");
    if (r->why[0]) {
        printf(", \"undefined\": ");
        json_string(stdout, r->why);
        fprintf(stderr, "sgad-similarity: %s x %s %s is undefined: %s\n", label, o->areas[a].name,
                measure_names[m], r->why);
    }
    printf("}\n");
}

/* A CSV field, quoted when it holds a comma, quote or line break. */
static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static int write_csv(const options *o, const model *md, const scores *s)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", o->csv);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        perror(tmp);
        return 1;
    }
    fprintf(f, "name,model,net,layer,index,units,area,measure,score,p_value,stimuli,record\n");
    for (int k = 0; k < md->count; k++)
        for (int a = 0; a < o->nareas; a++)
            for (int m = 0; m < M_COUNT; m++) {
                const outcome *r = &s->r[k][a][m];
                char label[64];
                layer_label(md, k, label, sizeof label);
                csv_field(f, o->name ? o->name : sgad_model_name(md->kind));
                fprintf(f, ",%s,%s,%s,%d,%lld,%s,%s,", sgad_model_name(md->kind), net_name(o),
                        label, md->layers[k], (long long)md->units[k], o->areas[a].name,
                        measure_names[m]);
                if (isfinite(r->score))
                    fprintf(f, "%.9g", r->score);
                fputc(',', f);
                if (isfinite(r->p_value))
                    fprintf(f, "%.9g", r->p_value);
                fprintf(f, ",%lld,%s\n", (long long)md->n, o->record ? o->record : "rate");
            }
    if (fclose(f) != 0 || rename(tmp, o->csv) != 0) {
        perror(o->csv);
        remove(tmp);
        return 1;
    }
    return 0;
}

static int run_model(sgad_ctx *ctx, options *o)
{
    model md;
    memset(&md, 0, sizeof md);
    scores *s = calloc(1, sizeof *s);
    int rc = s ? open_model(ctx, o, &md) : 1;
    if (!rc)
        rc = choose_layers(o, &md);
    if (!rc)
        rc = o->net && !strcmp(o->net, "g") ? load_latents(ctx, o, md.latent, &md.stimuli)
                                            : load_images(ctx, o, md.shape, &md.stimuli);
    if (!rc)
        rc = load_areas(ctx, o, sgad_tensor_dim(md.stimuli, 0));
    if (!rc)
        rc = record_layers(ctx, o, &md);
    if (!rc && o->save)
        rc = save_layers(o, &md);
    if (!rc && o->nareas)
        rc = score_all(ctx, o, &md, s);
    for (int k = 0; !rc && k < md.count; k++)
        for (int a = 0; a < o->nareas; a++)
            for (int m = 0; m < M_COUNT; m++)
                print_line(o, &md, k, a, m, &s->r[k][a][m]);
    if (!rc && o->csv && o->nareas)
        rc = write_csv(o, &md, s);
    for (int k = 0; k < md.count; k++)
        free(md.rec[k]);
    sgad_tensor_free(md.stimuli);
    sgad_trainer_free(md.trainer);
    free(s);
    return rc;
}

int main(int argc, char **argv)
{
    options o;
    int rc = parse(argc, argv, &o);
    sgad_ctx *ctx = NULL;
    if (!rc && sgad_ctx_create(&ctx) != SGAD_OK)
        rc = 1;
    if (!rc && sgad_ctx_set_threads(ctx, (int)o.threads) != SGAD_OK)
        rc = fail(ctx, "threads");
    if (!rc)
        rc = o.pair[0] ? run_pair(ctx, &o) : run_model(ctx, &o);
    for (int a = 0; a < o.nareas; a++) {
        free((char *)o.areas[a].name);
        sgad_matrix_free(ctx, o.areas[a].data);
    }
    sgad_ctx_free(ctx);
    return rc;
}
