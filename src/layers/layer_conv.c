/* SPDX-License-Identifier: MIT */
/* 2-D convolution and transposed convolution. Both run over the T*N
 * samples in chunks: a chunk's patches become one column matrix (im2col)
 * and one BLIS GEMM computes the whole chunk; chunks keep the column
 * buffer bounded (im2col.c). The transposed convolution is the adjoint of
 * a convolution whose "image" is its output, so the two share all the
 * patch code with the roles of forward and input-gradient swapped.
 *
 * A layer whose input is sparse (G's spikes before a transposed
 * convolution, D's pooled spikes before a convolution) runs its forward
 * pass and weight gradient event-driven instead (convt_events.h,
 * conv_events.h); its input gradient stays a dense product. */
#include <math.h>
#include <string.h>

#include "core/parallel.h"
#include "events/conv_events.h"
#include "events/convt_events.h"
#include "events/path_choice.h"
#include "input_path.h"
#include "kernels/gemm.h"
#include "kernels/im2col.h"
#include "kernels/isa.h"
#include "kernels/sums.h"
#include "layer_impl.h"

typedef struct conv {
    sgad_layer base;
    int64_t in_ch, out_ch;
    int64_t k, s, p;
    int transposed;
    sgad__input_path path;
    float *weight, *bias; /* bias NULL without bias */
} conv;

/* Shares of nonzero inputs below which the event-driven passes beat
 * im2col + BLIS [bench:conv-break-even]. An event costs k*k rows of `out`
 * multiply-adds plus a fixed overhead per row, so with few output
 * channels the overhead rules and events never win: transposed
 * convolutions with fewer outputs than CONVT_MIN_OUT stay dense unless
 * set otherwise. */
#define CONVT_BREAK_EVEN 0.12
#define CONVT_MIN_OUT 16
#define CONV_BREAK_EVEN 0.15

static double break_even(const conv *c)
{
    if (!c->transposed)
        return CONV_BREAK_EVEN;
    return c->out_ch >= CONVT_MIN_OUT ? CONVT_BREAK_EVEN : 0.0;
}

static const char *conv_name(const conv *c)
{
    return c->transposed ? "convt2d" : "conv2d";
}

static int64_t conv_out_size(const conv *c, int64_t n)
{
    if (c->transposed)
        return (n - 1) * c->s - 2 * c->p + c->k;
    return n + 2 * c->p >= c->k ? (n + 2 * c->p - c->k) / c->s + 1 : 0;
}

static sgad_status conv_out_shape(const sgad_layer *l, const sgad__shape *in, sgad__shape *out)
{
    const conv *c = (const conv *)l;
    char buf[SGAD__SHAPE_STR_LEN];
    SGAD__CHECK(l->ctx, in->ndim == 5 && in->dims[2] == c->in_ch, SGAD_E_SHAPE,
                "%s(%lld -> %lld) expects input [T, N, %lld, H, W], got %s", conv_name(c),
                (long long)c->in_ch, (long long)c->out_ch, (long long)c->in_ch,
                sgad__shape_str(in, buf, sizeof buf));
    const int64_t oh = conv_out_size(c, in->dims[3]), ow = conv_out_size(c, in->dims[4]);
    SGAD__CHECK(l->ctx, oh >= 1 && ow >= 1, SGAD_E_SHAPE,
                "%s: input %lldx%lld with kernel %lld, stride %lld, padding %lld gives no output",
                conv_name(c), (long long)in->dims[3], (long long)in->dims[4], (long long)c->k,
                (long long)c->s, (long long)c->p);
    *out = *in;
    out->dims[2] = c->out_ch;
    out->dims[3] = oh;
    out->dims[4] = ow;
    return SGAD_OK;
}

/* The convolution geometry: for conv2d the image is the input; for the
 * transposed one it is the output and the positions are the input's. */
static sgad__conv_geom geom_of(const conv *c, const sgad__shape *in)
{
    const int64_t h = in->dims[3], w = in->dims[4];
    sgad__conv_geom g = {c->in_ch,           h, w, c->k, c->s, c->p, conv_out_size(c, h),
                         conv_out_size(c, w)};
    if (c->transposed) {
        g.c = c->out_ch;
        g.h = g.oh;
        g.w = g.ow;
        g.oh = h;
        g.ow = w;
    }
    return g;
}

/* How a pass splits the T*N samples into chunks, with each chunk's
 * scratch: col [ckk, size*P] and mat [m, size*P] per thread.
 *
 * Passes whose chunks are independent (the forward pass and the input
 * gradient) run them in parallel, one chunk per thread with BLIS on one
 * thread (gemm.h), so a chunk's patches stay in one core's caches between
 * the copy and the product, which beats threading each step of one chunk
 * [bench:conv-chunk]. The chunks are smaller by the thread count, so
 * scratch stays the same size.
 * Weight gradients add up over the chunks, so they take the chunks in
 * order at the one-thread size: their sums do not depend on the thread
 * count. */
typedef struct chunks {
    int64_t size, count; /* samples per chunk, number of chunks */
    int threads;
    float *col, *mat;
    int64_t col_len, mat_len; /* floats per thread */
} chunks;

static sgad_status plan_chunks(sgad_ctx *ctx, int64_t ckk, int64_t m, int64_t P, int64_t total,
                               int parallel, chunks *k)
{
    k->size = sgad__chunk_samples(ckk > m ? ckk : m, P, total);
    k->threads = parallel ? sgad__par_threads(ctx, total * P * (ckk + m)) : 1;
    k->size = (k->size + k->threads - 1) / k->threads;
    k->count = (total + k->size - 1) / k->size;
    if (k->threads > k->count)
        k->threads = (int)k->count;
    k->col_len = ckk * k->size * P;
    k->mat_len = m * k->size * P;
    k->col = sgad__scratch(ctx, SGAD__SCRATCH_CONV_COLUMNS,
                           (size_t)(k->threads * k->col_len) * sizeof(float));
    k->mat = k->col ? sgad__scratch(ctx, SGAD__SCRATCH_CONV_PRODUCTS,
                                    (size_t)(k->threads * k->mat_len) * sizeof(float))
                    : NULL;
    return k->mat ? SGAD_OK : SGAD_E_NOMEM;
}

/* Samples in chunk i. */
static int64_t chunk_len(const chunks *k, int64_t i, int64_t total)
{
    const int64_t b0 = i * k->size;
    return total - b0 < k->size ? total - b0 : k->size;
}

/* The forward pass of one chunk of b samples. */
static void forward_chunk(const conv *c, const sgad__conv_geom *g, int64_t b, const float *x,
                          float *y, float *col, float *mat)
{
    sgad_ctx *ctx = c->base.ctx;
    const int64_t P = g->oh * g->ow, cols = b * P, ckk = g->c * c->k * c->k;
    const int64_t hw = g->h * g->w;
    if (!c->transposed) {
        sgad__im2col(ctx, g, b, x, col);
        sgad__sgemm(ctx, 0, 0, c->out_ch, cols, ckk, 1.0f, c->weight, ckk, col, cols, 0.0f, mat,
                    cols);
        sgad__from_channel_major(ctx, b, c->out_ch, P, mat, c->bias, y);
        return;
    }
    sgad__to_channel_major(ctx, b, c->in_ch, P, x, mat);
    sgad__sgemm(ctx, 1, 0, ckk, cols, c->in_ch, 1.0f, c->weight, ckk, mat, cols, 0.0f, col, cols);
    memset(y, 0, (size_t)(b * g->c * hw) * sizeof *y);
    sgad__col2im(ctx, g, b, col, y);
    for (int64_t i = 0; c->bias && i < b * g->c; i++)
        for (int64_t j = 0; j < hw; j++)
            y[i * hw + j] += c->bias[i % g->c];
}

/* Floats per sample of the layer's input and output. */
static int64_t input_len(const conv *c, const sgad__conv_geom *g)
{
    return c->transposed ? c->in_ch * g->oh * g->ow : g->c * g->h * g->w;
}

static int64_t output_len(const conv *c, const sgad__conv_geom *g)
{
    return c->transposed ? g->c * g->h * g->w : c->out_ch * g->oh * g->ow;
}

/* Picks the forward's path (path_choice.h): a convolution over several steps
 * also looks at its input's periodic parts (periodic.h), which a directly
 * encoded image makes far sparser than the input (D's conv2). */
static int choose_path(conv *c, const sgad__shape *in, const float *x)
{
    const sgad_ctx *ctx = c->base.ctx;
    const int64_t numel = sgad__shape_numel(in);
    const sgad__conv_geom g = geom_of(c, in);
    if (input_len(c, &g) >= ((int64_t)1 << 31)) /* the walks index a sample in 31 bits */
        return sgad__input_path_take_dense(&c->path);
    if (c->transposed)
        return sgad__input_path_choose(ctx, &c->path, x, numel, break_even(c));
    return sgad__input_path_choose_periodic(ctx, &c->path, in->dims[0], numel / in->dims[0], x,
                                            break_even(c));
}

/* The steps the event products split the input over: 1 for none. */
static int64_t events_steps(const conv *c, const sgad__shape *in)
{
    return c->path.periodic ? in->dims[0] : 1;
}

static sgad_status conv_forward(sgad_layer *l, const sgad__shape *in, const float *x, float *y)
{
    conv *c = (conv *)l;
    const sgad__conv_geom g = geom_of(c, in);
    const int64_t total = in->dims[0] * in->dims[1], P = g.oh * g.ow;
    const int64_t ckk = g.c * c->k * c->k;
    const int64_t m = c->transposed ? c->in_ch : c->out_ch; /* the other side's channels */
    if (choose_path(c, in, x))
        return c->transposed ? sgad__convt_events_forward(l->ctx, &g, total, c->in_ch, x, c->weight,
                                                          c->bias, y)
                             : sgad__conv_events_forward(l->ctx, &g, events_steps(c, in), total,
                                                         c->out_ch, x, c->weight, c->bias, y);
    chunks k;
    SGAD__TRY(plan_chunks(l->ctx, ckk, m, P, total, 1, &k));
    const int64_t xl = input_len(c, &g), yl = output_len(c, &g);
#pragma omp parallel for num_threads(k.threads) schedule(static)
    for (int64_t i = 0; i < k.count; i++) {
        const int t = sgad__thread_index();
        forward_chunk(c, &g, chunk_len(&k, i, total), x + i * k.size * xl, y + i * k.size * yl,
                      k.col + t * k.col_len, k.mat + t * k.mat_len);
    }
    return SGAD_OK;
}

/* db[o] += the sum of dy [B][C][S] over samples and positions: each
 * sample's run in four chains (sums.h: one chain is latency-bound
 * [bench:conv-bias-chains]), the samples in order. */
SGAD__AVX2_CLONE
static void bias_grad(const sgad_ctx *ctx, int64_t batch, int64_t channels, int64_t size,
                      const float *dy, float *db)
{
#pragma omp parallel for num_threads(sgad__par_threads(ctx, batch *channels *size)) schedule(static)
    for (int64_t o = 0; o < channels; o++) {
        double s = 0;
        for (int64_t b = 0; b < batch; b++)
            s += sgad__sum_floats(dy + (b * channels + o) * size, size);
        db[o] += (float)s;
    }
}

/* dw += the weight gradient of one chunk of b samples (dense path). */
static void weight_grad_chunk(const conv *c, const sgad__conv_geom *g, int64_t b, const float *x,
                              const float *dy, float *col, float *mat, float *dw)
{
    sgad_ctx *ctx = c->base.ctx;
    const int64_t P = g->oh * g->ow, cols = b * P, ckk = g->c * c->k * c->k;
    if (!c->transposed) {
        sgad__to_channel_major(ctx, b, c->out_ch, P, dy, mat);
        sgad__im2col(ctx, g, b, x, col);
        sgad__sgemm(ctx, 0, 1, c->out_ch, ckk, cols, 1.0f, mat, cols, col, cols, 1.0f, dw, ckk);
    } else {
        sgad__im2col(ctx, g, b, dy, col);
        sgad__to_channel_major(ctx, b, c->in_ch, P, x, mat);
        sgad__sgemm(ctx, 0, 1, c->in_ch, ckk, cols, 1.0f, mat, cols, col, cols, 1.0f, dw, ckk);
    }
}

/* dx of one chunk of b samples. */
static void input_grad_chunk(const conv *c, const sgad__conv_geom *g, int64_t b, const float *dy,
                             float *dx, float *col, float *mat)
{
    sgad_ctx *ctx = c->base.ctx;
    const int64_t P = g->oh * g->ow, cols = b * P, ckk = g->c * c->k * c->k;
    if (!c->transposed) {
        sgad__to_channel_major(ctx, b, c->out_ch, P, dy, mat);
        sgad__sgemm(ctx, 1, 0, ckk, cols, c->out_ch, 1.0f, c->weight, ckk, mat, cols, 0.0f, col,
                    cols);
        memset(dx, 0, (size_t)(b * g->c * g->h * g->w) * sizeof *dx);
        sgad__col2im(ctx, g, b, col, dx);
    } else {
        sgad__im2col(ctx, g, b, dy, col);
        sgad__sgemm(ctx, 0, 0, c->in_ch, cols, ckk, 1.0f, c->weight, ckk, col, cols, 0.0f, mat,
                    cols);
        sgad__from_channel_major(ctx, b, c->in_ch, P, mat, NULL, dx);
    }
}

/* The parameter gradients: bias from dy directly, the weight's on the
 * event path its forward took or chunk by chunk in order. */
static sgad_status param_grads(const conv *c, const sgad__shape *in, const sgad__conv_geom *g,
                               const float *x, const float *dy)
{
    sgad_ctx *ctx = c->base.ctx;
    const sgad_layer *l = &c->base;
    float *dw = l->params[0].grad->data;
    const int64_t P = g->oh * g->ow, ckk = g->c * c->k * c->k;
    const int64_t total = in->dims[0] * in->dims[1];
    if (c->bias)
        bias_grad(ctx, total, c->out_ch, output_len(c, g) / c->out_ch, dy, l->params[1].grad->data);
    if (c->path.events)
        return c->transposed ? sgad__convt_events_weight_grad(ctx, g, total, c->in_ch, x, dy, dw)
                             : sgad__conv_events_weight_grad(ctx, g, events_steps(c, in), total,
                                                             c->out_ch, x, dy, dw);
    chunks k;
    SGAD__TRY(plan_chunks(ctx, ckk, c->transposed ? c->in_ch : c->out_ch, P, total, 0, &k));
    const int64_t xl = input_len(c, g), yl = output_len(c, g);
    for (int64_t i = 0; i < k.count; i++)
        weight_grad_chunk(c, g, chunk_len(&k, i, total), x + i * k.size * xl, dy + i * k.size * yl,
                          k.col, k.mat, dw);
    return SGAD_OK;
}

static sgad_status conv_backward(sgad_layer *l, const sgad__shape *in, const float *x,
                                 const float *y, const float *dy, float *dx)
{
    (void)y;
    const conv *c = (const conv *)l;
    const sgad__conv_geom g = geom_of(c, in);
    const int64_t total = in->dims[0] * in->dims[1], P = g.oh * g.ow;
    const int64_t ckk = g.c * c->k * c->k;
    if (!l->input_grad_only)
        SGAD__TRY(param_grads(c, in, &g, x, dy));
    if (!dx)
        return SGAD_OK;
    chunks k;
    SGAD__TRY(plan_chunks(l->ctx, ckk, c->transposed ? c->in_ch : c->out_ch, P, total, 1, &k));
    const int64_t xl = input_len(c, &g), yl = output_len(c, &g);
#pragma omp parallel for num_threads(k.threads) schedule(static)
    for (int64_t i = 0; i < k.count; i++) {
        const int t = sgad__thread_index();
        input_grad_chunk(c, &g, chunk_len(&k, i, total), dy + i * k.size * yl, dx + i * k.size * xl,
                         k.col + t * k.col_len, k.mat + t * k.mat_len);
    }
    return SGAD_OK;
}

static sgad_status conv_set(sgad_layer *l, sgad_option option, double value)
{
    return sgad__input_path_set(l, &((conv *)l)->path, option, value);
}

static sgad_status conv_get(const sgad_layer *l, sgad_option option, double *value)
{
    return sgad__input_path_get(l, &((const conv *)l)->path, option, value);
}

static const sgad__layer_ops conv2d_ops = {
    .kind = SGAD_LAYER_CONV2D,
    .out_shape = conv_out_shape,
    .forward = conv_forward,
    .backward = conv_backward,
    .set = conv_set,
    .get = conv_get,
    .backward_skips = SGAD__SKIPS_Y | SGAD__SKIPS_X_FOR_DX,
    .steps_alike = 1,
};
static const sgad__layer_ops convt2d_ops = {
    .kind = SGAD_LAYER_CONVT2D,
    .out_shape = conv_out_shape,
    .forward = conv_forward,
    .backward = conv_backward,
    .set = conv_set,
    .get = conv_get,
    .backward_skips = SGAD__SKIPS_Y | SGAD__SKIPS_X_FOR_DX,
    .steps_alike = 1,
};

static sgad_status conv_create(sgad_ctx *ctx, const char *fn, int transposed, int64_t in_ch,
                               int64_t out_ch, int kernel, int stride, int padding, int has_bias,
                               sgad_layer **out)
{
    if (!ctx)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(ctx, out != NULL, SGAD_E_INVALID_ARG, "%s: out is NULL", fn);
    *out = NULL;
    const int64_t cap = (int64_t)1 << 20;
    SGAD__CHECK(ctx, in_ch >= 1 && in_ch <= cap && out_ch >= 1 && out_ch <= cap, SGAD_E_INVALID_ARG,
                "%s: in_channels=%lld, out_channels=%lld must be in "
                "[1, 2^20]",
                fn, (long long)in_ch, (long long)out_ch);
    SGAD__CHECK(ctx,
                kernel >= 1 && kernel <= 1024 && stride >= 1 && stride <= 1024 && padding >= 0 &&
                    padding <= 1024,
                SGAD_E_INVALID_ARG,
                "%s: kernel=%d, stride=%d must be in [1, 1024] and "
                "padding=%d in [0, 1024]",
                fn, kernel, stride, padding);
    SGAD__CHECK(ctx, has_bias == 0 || has_bias == 1, SGAD_E_INVALID_ARG,
                "%s: has_bias=%d must be 0 or 1", fn, has_bias);
    sgad_layer *l;
    SGAD__TRY(sgad__layer_alloc(ctx, transposed ? &convt2d_ops : &conv2d_ops, sizeof(conv), &l));
    conv *c = (conv *)l;
    c->in_ch = in_ch;
    c->out_ch = out_ch;
    c->k = kernel;
    c->s = stride;
    c->p = padding;
    c->transposed = transposed;
    const int64_t wdims[4] = {transposed ? in_ch : out_ch, transposed ? out_ch : in_ch, kernel,
                              kernel};
    sgad_status s = sgad__layer_add_param(l, "weight", 4, wdims, 1, &c->weight);
    if (s == SGAD_OK && has_bias)
        s = sgad__layer_add_param(l, "bias", 1, &out_ch, 1, &c->bias);
    if (s != SGAD_OK) {
        sgad_layer_free(l);
        return s;
    }
    /* PyTorch's default bound 1/sqrt(fan_in), fan_in = weight.size(1)*k*k:
     * in_ch*k*k for conv2d, out_ch*k*k for the transposed layout. */
    const float bound = 1.0f / sqrtf((float)(wdims[1] * kernel * kernel));
    sgad__init_uniform(ctx, c->weight, wdims[0] * wdims[1] * kernel * kernel, bound);
    if (c->bias)
        sgad__init_uniform(ctx, c->bias, out_ch, bound);
    *out = l;
    return SGAD_OK;
}

sgad_status sgad_conv2d_create(sgad_ctx *ctx, int64_t in_channels, int64_t out_channels, int kernel,
                               int stride, int padding, int has_bias, sgad_layer **out)
{
    return conv_create(ctx, "sgad_conv2d_create", 0, in_channels, out_channels, kernel, stride,
                       padding, has_bias, out);
}

sgad_status sgad_convt2d_create(sgad_ctx *ctx, int64_t in_channels, int64_t out_channels,
                                int kernel, int stride, int padding, int has_bias, sgad_layer **out)
{
    return conv_create(ctx, "sgad_convt2d_create", 1, in_channels, out_channels, kernel, stride,
                       padding, has_bias, out);
}
