/* SPDX-License-Identifier: MIT */
/* Batch normalisation applied separately at every time step, as SGAD's
 * generator and discriminator call one PyTorch BatchNorm module per step:
 * step t is normalised with the mean and variance of its own N samples
 * (times H*W for 2d), and the running statistics move once per step.
 *
 * The per-step mean and 1/std are kept from forward for backward (2*T*C
 * floats); x-hat is recomputed from x rather than stored. Loops run over
 * samples outermost and channels inside so that memory is read in order. */
#include <math.h>
#include <string.h>

#include "core/parallel.h"
#include "kernels/isa.h"
#include "kernels/sums.h"
#include "layer_impl.h"

typedef struct batchnorm {
    sgad_layer base;
    int64_t channels;
    int spatial; /* 0: [T, N, C] (1d), 1: [T, N, C, H, W] (2d) */
    double momentum, eps;
    float *weight, *bias, *running_mean, *running_var;
    float *stats;        /* per (t, c): mean at [t*C + c], 1/std after T*C */
    int64_t stats_cap;   /* floats allocated in stats */
    int64_t stats_steps; /* steps T of the last forward (0: none yet) */
    int stats_only;      /* forward writes no output (set_stats_only) */
    int batch_stats;     /* evaluation uses batch statistics (set_batch_stats) */
    int fwd_batch;       /* the last forward normalised with batch statistics */
    int fwd_global;      /* ... summed over every process (the reduce hook) */
    double *acc;         /* per-channel accumulators, 2*C + 2 */
    float *factors;      /* per-channel factors of a step's input gradient, 3*C */
    double count;        /* values per channel in the last training forward's batch */
    int64_t repeats;     /* running-statistics updates per step (set_repeats) */
    /* The last training forward's per-step means and variances (doubles,
     * [steps][2][C]) and how it updated the running statistics, so that
     * bn_replay can repeat those updates exactly. */
    double *moments;
    int64_t moments_cap, moment_steps, moment_repeats;
} batchnorm;

static sgad_status bn_out_shape(const sgad_layer *l, const sgad__shape *in, sgad__shape *out)
{
    const batchnorm *bn = (const batchnorm *)l;
    const int want_ndim = bn->spatial ? 5 : 3;
    char buf[SGAD__SHAPE_STR_LEN];
    SGAD__CHECK(l->ctx, in->ndim == want_ndim && in->dims[2] == bn->channels, SGAD_E_SHAPE,
                "%s(%lld) expects input [T, N, %lld%s], got %s", sgad_layer_kind_name(l->ops->kind),
                (long long)bn->channels, (long long)bn->channels, bn->spatial ? ", H, W" : "",
                sgad__shape_str(in, buf, sizeof buf));
    *out = *in;
    return SGAD_OK;
}

/* Geometry of one time step: N samples of C channels of S values each. */
typedef struct bn_geom {
    int64_t n, c, s;
} bn_geom;

static bn_geom geom_of(const sgad__shape *in)
{
    bn_geom g = {in->dims[1], in->dims[2], 1};
    for (int i = 3; i < in->ndim; i++)
        g.s *= in->dims[i];
    return g;
}

/* The sum of (p[i] - mean)^2 in double, in sgad__sum_floats's order. */
static SGAD__ALWAYS_INLINE double sum_sq_dev(const float *p, int64_t n, double mean)
{
    double a[4] = {0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
        for (int k = 0; k < 4; k++)
            a[k] += ((double)p[i + k] - mean) * ((double)p[i + k] - mean);
    for (; i < n; i++)
        a[0] += ((double)p[i] - mean) * ((double)p[i] - mean);
    return (a[0] + a[1]) + (a[2] + a[3]);
}

/* *dy_sum += sum of dy, *dyx_sum += sum of dy * (x - mean). */
static SGAD__ALWAYS_INLINE void sum_grads(const float *dy, const float *x, int64_t n, double mean,
                                          double *dy_sum, double *dyx_sum)
{
    double a[4] = {0, 0, 0, 0}, b[4] = {0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
        for (int k = 0; k < 4; k++) {
            a[k] += dy[i + k];
            b[k] += (double)dy[i + k] * ((double)x[i + k] - mean);
        }
    for (; i < n; i++) {
        a[0] += dy[i];
        b[0] += (double)dy[i] * ((double)x[i] - mean);
    }
    *dy_sum += (a[0] + a[1]) + (a[2] + a[3]);
    *dyx_sum += (b[0] + b[1]) + (b[2] + b[3]);
}

/* Channels per thread block when each channel has one value per sample
 * (batch norm 1d): the block's sums run across channels, which vectorises,
 * and each channel still adds its samples in order. */
#define CHANNEL_BLOCK 256

typedef struct channel_range {
    int64_t lo, hi;
} channel_range;

static int64_t channel_blocks(const bn_geom *g)
{
    return (g->c + CHANNEL_BLOCK - 1) / CHANNEL_BLOCK;
}

static channel_range channel_block(const bn_geom *g, int64_t blk)
{
    const int64_t lo = blk * CHANNEL_BLOCK;
    const channel_range r = {lo, lo + CHANNEL_BLOCK < g->c ? lo + CHANNEL_BLOCK : g->c};
    return r;
}

/* Per-channel sums over one time step: of x, or with mean given, of
 * (x - mean)^2. */
SGAD__AVX2_CLONE
static void channel_sums(const sgad_ctx *ctx, const bn_geom *g, const float *x, const double *mean,
                         double *out)
{
    const int threads = sgad__par_threads(ctx, g->n * g->c * g->s);
    if (g->s == 1) {
#pragma omp parallel for num_threads(threads) schedule(static)
        for (int64_t blk = 0; blk < channel_blocks(g); blk++) {
            const channel_range r = channel_block(g, blk);
            const int64_t c0 = r.lo, c1 = r.hi;
            for (int64_t c = c0; c < c1; c++)
                out[c] = 0;
            for (int64_t n = 0; n < g->n; n++) {
                const float *p = x + n * g->c;
                if (mean)
                    for (int64_t c = c0; c < c1; c++)
                        out[c] += ((double)p[c] - mean[c]) * ((double)p[c] - mean[c]);
                else
                    for (int64_t c = c0; c < c1; c++)
                        out[c] += p[c];
            }
        }
        return;
    }
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t c = 0; c < g->c; c++) {
        double total = 0;
        for (int64_t n = 0; n < g->n; n++) {
            const float *p = x + (n * g->c + c) * g->s;
            total += mean ? sum_sq_dev(p, g->s, mean[c]) : sgad__sum_floats(p, g->s);
        }
        out[c] = total;
    }
}

/* Per-channel mean and biased variance of one time step, in double, over
 * the global batch with `global`: the sums (and the count, in mean[C]) go
 * through the context's reduce hook, which sums them across processes if
 * there is one; without, over this process's batch alone. *count gets
 * the number of values per channel. */
static sgad_status step_moments(sgad_ctx *ctx, const bn_geom *g, int global, const float *x,
                                double *mean, double *var, double *count)
{
    channel_sums(ctx, g, x, NULL, mean);
    mean[g->c] = (double)(g->n * g->s);
    if (global)
        SGAD__TRY(sgad__ctx_reduce(ctx, "batch norm", mean, g->c + 1));
    const double m = mean[g->c];
    for (int64_t c = 0; c < g->c; c++)
        mean[c] /= m;
    channel_sums(ctx, g, x, mean, var);
    if (global)
        SGAD__TRY(sgad__ctx_reduce(ctx, "batch norm", var, g->c));
    for (int64_t c = 0; c < g->c; c++)
        var[c] /= m;
    *count = m;
    return SGAD_OK;
}

/* Channel c's y = (x - mean) * invstd * weight + bias as x * scale + shift.
 * Forward and bn_affine both take the factors from here, so a
 * neuron that recomputes the output gets the same bits. */
static void channel_affine(const batchnorm *bn, float mean, float invstd, int64_t c, float *scale,
                           float *shift)
{
    *scale = invstd * bn->weight[c];
    *shift = bn->bias[c] - mean * *scale;
}

/* y = (x - mean) * invstd * weight + bias for one time step. */
static void step_normalise(const batchnorm *bn, const bn_geom *g, const float *mean,
                           const float *invstd, const float *x, float *y)
{
#pragma omp parallel for collapse(2) schedule(static)                                              \
    num_threads(sgad__par_threads(bn->base.ctx, g->n * g->c * g->s))
    for (int64_t n = 0; n < g->n; n++)
        for (int64_t c = 0; c < g->c; c++) {
            float scale, shift;
            channel_affine(bn, mean[c], invstd[c], c, &scale, &shift);
            const float *p = x + (n * g->c + c) * g->s;
            float *q = y + (n * g->c + c) * g->s;
            for (int64_t s = 0; s < g->s; s++)
                q[s] = p[s] * scale + shift;
        }
}

/* Grows *p (a buffer of *cap elements of `size` bytes) to hold need;
 * the old contents are not kept. */
static sgad_status grow_buffer(sgad_ctx *ctx, void **p, int64_t *cap, int64_t need, size_t size)
{
    if (*cap >= need)
        return SGAD_OK;
    void *q = sgad__alloc(ctx, (size_t)need * size);
    if (!q)
        return SGAD_E_NOMEM;
    sgad__free(ctx, *p);
    *p = q;
    *cap = need;
    return SGAD_OK;
}

static void update_running(batchnorm *bn, const double *mean, const double *var, double m)
{
    const double mom = bn->momentum;
    for (int64_t c = 0; c < bn->channels; c++) {
        bn->running_mean[c] = (float)((1 - mom) * bn->running_mean[c] + mom * mean[c]);
        bn->running_var[c] = (float)((1 - mom) * bn->running_var[c] + mom * var[c] * m / (m - 1));
    }
}

/* A training forward normalises with batch statistics summed over every
 * process and moves the running ones; an evaluation forward with
 * batch_stats normalises with this process's batch statistics and moves
 * nothing (sampling as PyTorch's train mode does, leaving G as it was);
 * other evaluation forwards use the running statistics. */
static sgad_status bn_forward(sgad_layer *l, const sgad__shape *in, const float *x, float *y)
{
    batchnorm *bn = (batchnorm *)l;
    const bn_geom g = geom_of(in);
    const int64_t steps = in->dims[0], C = g.c, step_len = g.n * g.c * g.s;
    const int from_batch = l->training || bn->batch_stats;
    SGAD__CHECK(l->ctx, !from_batch || g.n * g.s > 1, SGAD_E_SHAPE,
                "%s with batch statistics needs more than 1 value per channel, got batch %lld",
                sgad_layer_kind_name(l->ops->kind), (long long)g.n);
    SGAD__TRY(
        grow_buffer(l->ctx, (void **)&bn->stats, &bn->stats_cap, 2 * steps * C, sizeof *bn->stats));
    bn->moment_steps = 0;
    if (l->training)
        SGAD__TRY(grow_buffer(l->ctx, (void **)&bn->moments, &bn->moments_cap, 2 * steps * C,
                              sizeof *bn->moments));
    float *mean = bn->stats, *invstd = bn->stats + steps * C;
    for (int64_t t = 0; t < steps; t++) {
        float *mt = mean + t * C, *it = invstd + t * C;
        if (from_batch) {
            double *dm = bn->acc, *dv = bn->acc + C + 1;
            SGAD__TRY(step_moments(l->ctx, &g, l->training, x + t * step_len, dm, dv, &bn->count));
            for (int64_t c = 0; c < C; c++) {
                mt[c] = (float)dm[c];
                it[c] = (float)(1.0 / sqrt(dv[c] + bn->eps));
            }
            if (l->training) {
                for (int64_t k = 0; k < bn->repeats; k++)
                    update_running(bn, dm, dv, bn->count);
                memcpy(bn->moments + 2 * t * C, dm, (size_t)C * sizeof *dm);
                memcpy(bn->moments + (2 * t + 1) * C, dv, (size_t)C * sizeof *dv);
            }
        } else {
            for (int64_t c = 0; c < C; c++) {
                mt[c] = bn->running_mean[c];
                it[c] = (float)(1.0 / sqrt((double)bn->running_var[c] + bn->eps));
            }
        }
        if (!bn->stats_only)
            step_normalise(bn, &g, mt, it, x + t * step_len, y + t * step_len);
    }
    bn->fwd_batch = from_batch;
    bn->fwd_global = l->training;
    bn->stats_steps = steps;
    if (l->training) {
        bn->moment_steps = steps;
        bn->moment_repeats = bn->repeats;
    }
    return SGAD_OK;
}

static int bn_affine(const sgad_layer *l, int64_t steps, int64_t channels, float *scale,
                     float *shift)
{
    const batchnorm *bn = (const batchnorm *)l;
    const int64_t C = bn->channels;
    if (bn->stats_steps != steps || C != channels)
        return 0;
    const float *mean = bn->stats, *invstd = bn->stats + steps * C;
    for (int64_t t = 0; t < steps; t++)
        for (int64_t c = 0; c < C; c++)
            channel_affine(bn, mean[t * C + c], invstd[t * C + c], c, &scale[t * C + c],
                           &shift[t * C + c]);
    return 1;
}

static sgad_status bn_replay(sgad_layer *l)
{
    batchnorm *bn = (batchnorm *)l;
    SGAD__CHECK(l->ctx, bn->fwd_batch && bn->moment_steps > 0, SGAD_E_STATE,
                "batch norm: no training forward to repeat");
    const int64_t C = bn->channels;
    for (int64_t t = 0; t < bn->moment_steps; t++)
        for (int64_t k = 0; k < bn->moment_repeats; k++)
            update_running(bn, bn->moments + 2 * t * C, bn->moments + (2 * t + 1) * C, bn->count);
    return SGAD_OK;
}

/* Per-channel sums of dy and dy * x-hat over one time step. */
SGAD__AVX2_CLONE
static void step_grad_sums(const sgad_ctx *ctx, const bn_geom *g, const float *mean,
                           const float *invstd, const float *x, const float *dy, double *sum_dy,
                           double *sum_dyx)
{
    const int threads = sgad__par_threads(ctx, g->n * g->c * g->s);
    if (g->s == 1) {
#pragma omp parallel for num_threads(threads) schedule(static)
        for (int64_t blk = 0; blk < channel_blocks(g); blk++) {
            const channel_range r = channel_block(g, blk);
            const int64_t c0 = r.lo, c1 = r.hi;
            for (int64_t c = c0; c < c1; c++)
                sum_dy[c] = sum_dyx[c] = 0;
            for (int64_t n = 0; n < g->n; n++) {
                const float *d = dy + n * g->c, *p = x + n * g->c;
                for (int64_t c = c0; c < c1; c++) {
                    sum_dy[c] += d[c];
                    sum_dyx[c] += (double)d[c] * ((double)p[c] - mean[c]) * invstd[c];
                }
            }
        }
        return;
    }
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t c = 0; c < g->c; c++) {
        double total_dy = 0, total_dyx = 0;
        for (int64_t n = 0; n < g->n; n++) {
            const int64_t off = (n * g->c + c) * g->s;
            sum_grads(dy + off, x + off, g->s, mean[c], &total_dy, &total_dyx);
        }
        sum_dy[c] = total_dy;
        sum_dyx[c] = total_dyx * invstd[c];
    }
}

/* dx = weight * invstd * (dy - mean(dy) - x-hat * mean(dy * x-hat)); in
 * evaluation the statistics are constants and the two mean terms vanish.
 * The three factors are taken per channel once into bn->factors: per
 * value, their two double divisions took most of a batch norm 1d's
 * backward. */
SGAD__AVX2_CLONE
static void step_input_grad(const batchnorm *bn, const bn_geom *g, const float *mean,
                            const float *invstd, const double *sum_dy, const double *sum_dyx,
                            const float *x, const float *dy, float *dx)
{
    const double m = bn->count; /* values per channel in the (global) batch */
    float *k = bn->factors, *a = k + g->c, *b = k + 2 * g->c;
    for (int64_t c = 0; c < g->c; c++) {
        k[c] = bn->weight[c] * invstd[c];
        a[c] = bn->fwd_batch ? (float)(sum_dy[c] / m) : 0.0f;
        b[c] = bn->fwd_batch ? (float)(sum_dyx[c] / m) : 0.0f;
    }
    const int threads = sgad__par_threads(bn->base.ctx, g->n * g->c * g->s);
    if (g->s == 1) { /* one value per channel: along the channels, which vectorises */
#pragma omp parallel for schedule(static) num_threads(threads)
        for (int64_t n = 0; n < g->n; n++)
            for (int64_t c = 0; c < g->c; c++) {
                const int64_t i = n * g->c + c;
                const float xhat = (x[i] - mean[c]) * invstd[c];
                dx[i] = k[c] * (dy[i] - a[c] - xhat * b[c]);
            }
        return;
    }
#pragma omp parallel for collapse(2) schedule(static) num_threads(threads)
    for (int64_t n = 0; n < g->n; n++)
        for (int64_t c = 0; c < g->c; c++) {
            const int64_t off = (n * g->c + c) * g->s;
            for (int64_t s = 0; s < g->s; s++) {
                const float xhat = (x[off + s] - mean[c]) * invstd[c];
                dx[off + s] = k[c] * (dy[off + s] - a[c] - xhat * b[c]);
            }
        }
}

static sgad_status bn_backward(sgad_layer *l, const sgad__shape *in, const float *x, const float *y,
                               const float *dy, float *dx)
{
    (void)y;
    batchnorm *bn = (batchnorm *)l;
    const bn_geom g = geom_of(in);
    const int64_t steps = in->dims[0], C = g.c, step_len = g.n * g.c * g.s;
    const float *mean = bn->stats, *invstd = bn->stats + steps * C;
    float *dweight = l->params[0].grad->data, *dbias = l->params[1].grad->data;
    double *sum_dy = bn->acc, *sum_dyx = bn->acc + C;
    for (int64_t t = 0; t < steps; t++) {
        const int64_t off = t * step_len;
        step_grad_sums(l->ctx, &g, mean + t * C, invstd + t * C, x + off, dy + off, sum_dy,
                       sum_dyx);
        for (int64_t c = 0; !l->input_grad_only && c < C; c++) {
            dweight[c] += (float)sum_dyx[c];
            dbias[c] += (float)sum_dy[c];
        }
        /* parameter gradients stay per process (the trainer's gradient hook
         * averages them); the input gradient needs the means over the batch
         * the statistics came from */
        if (dx && bn->fwd_global)
            SGAD__TRY(sgad__ctx_reduce(l->ctx, "batch norm", bn->acc, 2 * C));
        if (dx)
            step_input_grad(bn, &g, mean + t * C, invstd + t * C, sum_dy, sum_dyx, x + off,
                            dy + off, dx + off);
    }
    return SGAD_OK;
}

static sgad_status bn_set(sgad_layer *l, sgad_option option, double value)
{
    batchnorm *bn = (batchnorm *)l;
    if (option == SGAD_OPT_BN_MOMENTUM)
        bn->momentum = value;
    else if (option == SGAD_OPT_BN_EPS)
        bn->eps = value;
    else
        return sgad__fail(l->ctx, SGAD_E_UNSUPPORTED,
                          "sgad_layer_set: batch norm has no "
                          "option %d",
                          (int)option);
    return SGAD_OK;
}

static sgad_status bn_get(const sgad_layer *l, sgad_option option, double *value)
{
    const batchnorm *bn = (const batchnorm *)l;
    if (option == SGAD_OPT_BN_MOMENTUM)
        *value = bn->momentum;
    else if (option == SGAD_OPT_BN_EPS)
        *value = bn->eps;
    else
        return sgad__fail(l->ctx, SGAD_E_UNSUPPORTED,
                          "sgad_layer_get: batch norm has no "
                          "option %d",
                          (int)option);
    return SGAD_OK;
}

static void bn_destroy(sgad_layer *l)
{
    batchnorm *bn = (batchnorm *)l;
    sgad__free(l->ctx, bn->stats);
    sgad__free(l->ctx, bn->acc);
    sgad__free(l->ctx, bn->factors);
    sgad__free(l->ctx, bn->moments);
}

static void bn_set_stats_only(sgad_layer *l, int on)
{
    ((batchnorm *)l)->stats_only = on;
}

static void bn_set_repeats(sgad_layer *l, int64_t repeats)
{
    ((batchnorm *)l)->repeats = repeats;
}

static void bn_set_batch_stats(sgad_layer *l, int on)
{
    ((batchnorm *)l)->batch_stats = on;
}

/* The 1d and 2d batch norms differ only in their kind (the shape check
 * reads the kind's dimensions). */
#define BN_OPS(layer_kind)                                                                         \
    {                                                                                              \
        .kind = (layer_kind), .out_shape = bn_out_shape, .forward = bn_forward,                    \
        .backward = bn_backward, .set = bn_set, .get = bn_get, .destroy = bn_destroy,              \
        .backward_skips = SGAD__SKIPS_Y, .steps_alike = 1, .set_repeats = bn_set_repeats,          \
        .set_stats_only = bn_set_stats_only, .affine = bn_affine, .replay = bn_replay,             \
        .set_batch_stats = bn_set_batch_stats,                                                     \
    }
static const sgad__layer_ops bn1d_ops = BN_OPS(SGAD_LAYER_BATCHNORM1D);
static const sgad__layer_ops bn2d_ops = BN_OPS(SGAD_LAYER_BATCHNORM2D);

static sgad_status bn_create(sgad_ctx *ctx, const char *fn, int spatial, int64_t channels,
                             sgad_layer **out)
{
    if (!ctx)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(ctx, out != NULL, SGAD_E_INVALID_ARG, "%s: out is NULL", fn);
    *out = NULL;
    SGAD__CHECK(ctx, channels >= 1 && channels <= SGAD__MAX_NUMEL, SGAD_E_INVALID_ARG,
                "%s: channels=%lld must be at least 1", fn, (long long)channels);
    sgad_layer *l;
    SGAD__TRY(sgad__layer_alloc(ctx, spatial ? &bn2d_ops : &bn1d_ops, sizeof(batchnorm), &l));
    batchnorm *bn = (batchnorm *)l;
    bn->channels = channels;
    bn->spatial = spatial;
    bn->momentum = 0.1;
    bn->eps = 1e-5;
    bn->repeats = 1;
    sgad_status s = sgad__layer_add_param(l, "weight", 1, &channels, 1, &bn->weight);
    if (s == SGAD_OK)
        s = sgad__layer_add_param(l, "bias", 1, &channels, 1, &bn->bias);
    if (s == SGAD_OK)
        s = sgad__layer_add_param(l, "running_mean", 1, &channels, 0, &bn->running_mean);
    if (s == SGAD_OK)
        s = sgad__layer_add_param(l, "running_var", 1, &channels, 0, &bn->running_var);
    if (s == SGAD_OK && !(bn->acc = sgad__calloc(ctx, 2 * (size_t)channels + 2, sizeof(double))))
        s = SGAD_E_NOMEM;
    if (s == SGAD_OK && !(bn->factors = sgad__calloc(ctx, 3 * (size_t)channels, sizeof(float))))
        s = SGAD_E_NOMEM;
    if (s != SGAD_OK) {
        sgad_layer_free(l);
        return s;
    }
    for (int64_t c = 0; c < channels; c++) {
        bn->weight[c] = 1.0f;
        bn->running_var[c] = 1.0f;
    }
    *out = l;
    return SGAD_OK;
}

sgad_status sgad_batchnorm1d_create(sgad_ctx *ctx, int64_t features, sgad_layer **out)
{
    return bn_create(ctx, "sgad_batchnorm1d_create", 0, features, out);
}

sgad_status sgad_batchnorm2d_create(sgad_ctx *ctx, int64_t channels, sgad_layer **out)
{
    return bn_create(ctx, "sgad_batchnorm2d_create", 1, channels, out);
}
