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

#include "conv_events.h"
#include "convt_events.h"
#include "events.h"
#include "gemm.h"
#include "im2col.h"
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
 * im2col + BLIS, measured with bench/bench_events at batch 64, T 16 on
 * G's ConvT1 (128 -> 64, 7x7 -> 14x14) and D's conv2 (32 -> 64, k5,
 * 12x12 -> 8x8). An event costs k*k rows of `out` multiply-adds plus a
 * fixed overhead per row, so with few output channels the overhead
 * rules: G's ConvT2 (64 -> 1) ran 3x slower on events even at a 1% rate.
 * Transposed convolutions with fewer outputs than CONVT_MIN_OUT stay
 * dense unless set otherwise. */
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
    sgad__conv_geom g = {c->in_ch, h, w, c->k, c->s, c->p, conv_out_size(c, h),
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

/* Scratch for a chunk of b samples: cols [ckk, b*P] and mats [m, b*P]. */
static sgad_status chunk_buffers(sgad_ctx *ctx, int64_t ckk, int64_t m, int64_t cols,
                                 float **col, float **mat)
{
    *col = sgad__scratch(ctx, 0, (size_t)(ckk * cols) * sizeof(float));
    *mat = *col ? sgad__scratch(ctx, 1, (size_t)(m * cols) * sizeof(float)) : NULL;
    return *mat ? SGAD_OK : SGAD_E_NOMEM;
}

static void add_channel_sums(float *db, const float *mat, int64_t c, int64_t cols)
{
    for (int64_t i = 0; i < c; i++) {
        double s = 0;
        for (int64_t j = 0; j < cols; j++)
            s += mat[i * cols + j];
        db[i] += (float)s;
    }
}

static sgad_status conv_forward(sgad_layer *l, const sgad__shape *in, const float *x, float *y)
{
    conv *c = (conv *)l;
    const sgad__conv_geom g = geom_of(c, in);
    const int64_t total = in->dims[0] * in->dims[1], P = g.oh * g.ow, hw = g.h * g.w;
    const int64_t ckk = g.c * c->k * c->k;
    const int64_t m = c->transposed ? c->in_ch : c->out_ch; /* the other side's channels */
    if (sgad__input_path_choose(l->ctx, &c->path, x, sgad__shape_numel(in),
                                break_even(c)))
        return c->transposed ? sgad__convt_events_forward(l->ctx, &g, total, c->in_ch, x,
                                                          c->weight, c->bias, y)
                             : sgad__conv_events_forward(l->ctx, &g, total, c->out_ch, x,
                                                         c->weight, c->bias, y);
    const int64_t chunk = sgad__chunk_samples(ckk > m ? ckk : m, P, total);
    float *col, *mat;
    SGAD__TRY(chunk_buffers(l->ctx, ckk, m, chunk * P, &col, &mat));
    for (int64_t b0 = 0; b0 < total; b0 += chunk) {
        const int64_t b = total - b0 < chunk ? total - b0 : chunk, cols = b * P;
        if (!c->transposed) {
            sgad__im2col(l->ctx, &g, b, x + b0 * g.c * hw, col);
            sgad__sgemm(l->ctx, 0, 0, m, cols, ckk, 1.0f, c->weight, ckk, col, cols, 0.0f, mat,
                        cols);
            sgad__from_channel_major(c->base.ctx, b, m, P, mat, c->bias, y + b0 * m * P);
        } else {
            float *yc = y + b0 * g.c * hw;
            sgad__to_channel_major(c->base.ctx, b, m, P, x + b0 * m * P, mat);
            sgad__sgemm(l->ctx, 1, 0, ckk, cols, m, 1.0f, c->weight, ckk, mat, cols, 0.0f, col,
                        cols);
            memset(yc, 0, (size_t)(b * g.c * hw) * sizeof *yc);
            sgad__col2im(l->ctx, &g, b, col, yc);
            for (int64_t i = 0; c->bias && i < b * g.c; i++)
                for (int64_t j = 0; j < hw; j++)
                    yc[i * hw + j] += c->bias[i % g.c];
        }
    }
    return SGAD_OK;
}

/* Gradients of one chunk of a conv2d: mat holds dy channel-major. dw is
 * NULL when the parameter gradients are not wanted. */
static void conv_chunk_backward(const conv *c, const sgad__conv_geom *g, int64_t b,
                                const float *xc, float *dxc, float *col, float *mat, float *dw)
{
    const int64_t P = g->oh * g->ow, cols = b * P, ckk = g->c * c->k * c->k;
    if (dw) {
        sgad__im2col(c->base.ctx, g, b, xc, col);
        sgad__sgemm(c->base.ctx, 0, 1, c->out_ch, ckk, cols, 1.0f, mat, cols, col, cols, 1.0f,
                    dw, ckk);
    }
    if (!dxc)
        return;
    sgad__sgemm(c->base.ctx, 1, 0, ckk, cols, c->out_ch, 1.0f, c->weight, ckk, mat, cols, 0.0f,
                col, cols);
    memset(dxc, 0, (size_t)(b * g->c * g->h * g->w) * sizeof *dxc);
    sgad__col2im(c->base.ctx, g, b, col, dxc);
}

/* Gradients of one chunk of a convt2d: col gets the patches of dy. dw is
 * NULL when the event path has computed the weight gradient. */
static void convt_chunk_backward(const conv *c, const sgad__conv_geom *g, int64_t b,
                                 const float *xc, const float *dyc, float *dxc, float *col,
                                 float *mat, float *dw, float *db)
{
    const int64_t P = g->oh * g->ow, cols = b * P, ckk = g->c * c->k * c->k;
    const int64_t hw = g->h * g->w;
    for (int64_t i = 0; db && i < b * g->c; i++) {
        double s = 0;
        for (int64_t j = 0; j < hw; j++)
            s += dyc[i * hw + j];
        db[i % g->c] += (float)s;
    }
    if (!dw && !dxc)
        return;
    sgad__im2col(c->base.ctx, g, b, dyc, col);
    if (dw) {
        sgad__to_channel_major(c->base.ctx, b, c->in_ch, P, xc, mat);
        sgad__sgemm(c->base.ctx, 0, 1, c->in_ch, ckk, cols, 1.0f, mat, cols, col, cols, 1.0f,
                    dw, ckk);
    }
    if (!dxc)
        return;
    sgad__sgemm(c->base.ctx, 0, 0, c->in_ch, cols, ckk, 1.0f, c->weight, ckk, col, cols, 0.0f,
                mat, cols);
    sgad__from_channel_major(c->base.ctx, b, c->in_ch, P, mat, NULL, dxc);
}

static sgad_status conv_backward(sgad_layer *l, const sgad__shape *in, const float *x,
                                 const float *y, const float *dy, float *dx)
{
    (void)y;
    const conv *c = (const conv *)l;
    const sgad__conv_geom g = geom_of(c, in);
    const int64_t total = in->dims[0] * in->dims[1], P = g.oh * g.ow, hw = g.h * g.w;
    const int64_t ckk = g.c * c->k * c->k;
    const int64_t m = c->transposed ? c->in_ch : c->out_ch;
    const int64_t chunk = sgad__chunk_samples(ckk > m ? ckk : m, P, total);
    float *dw = l->params[0].grad->data, *db = c->bias ? l->params[1].grad->data : NULL;
    if (l->input_grad_only) {
        dw = NULL;
        db = NULL;
    } else if (c->path.events) {
        SGAD__TRY(c->transposed
                      ? sgad__convt_events_weight_grad(l->ctx, &g, total, c->in_ch, x, dy, dw)
                      : sgad__conv_events_weight_grad(l->ctx, &g, total, c->out_ch, x, dy, dw));
        dw = NULL;
    }
    /* after the event pass, which uses scratch slot 1 too */
    float *col, *mat;
    SGAD__TRY(chunk_buffers(l->ctx, ckk, m, chunk * P, &col, &mat));
    for (int64_t b0 = 0; b0 < total; b0 += chunk) {
        const int64_t b = total - b0 < chunk ? total - b0 : chunk;
        if (!c->transposed) {
            sgad__to_channel_major(c->base.ctx, b, m, P, dy + b0 * m * P, mat);
            if (db)
                add_channel_sums(db, mat, m, b * P);
            conv_chunk_backward(c, &g, b, x + b0 * g.c * hw, dx ? dx + b0 * g.c * hw : NULL,
                                col, mat, dw);
        } else {
            convt_chunk_backward(c, &g, b, x + b0 * m * P, dy + b0 * g.c * hw,
                                 dx ? dx + b0 * m * P : NULL, col, mat, dw, db);
        }
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
    SGAD_LAYER_CONV2D, conv_out_shape, conv_forward, conv_backward, conv_set, conv_get, NULL,
    SGAD__SKIPS_Y,
};
static const sgad__layer_ops convt2d_ops = {
    SGAD_LAYER_CONVT2D, conv_out_shape, conv_forward, conv_backward, conv_set, conv_get, NULL,
    SGAD__SKIPS_Y,
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
    SGAD__CHECK(ctx, in_ch >= 1 && in_ch <= cap && out_ch >= 1 && out_ch <= cap,
                SGAD_E_INVALID_ARG, "%s: in_channels=%lld, out_channels=%lld must be in "
                "[1, 2^20]", fn, (long long)in_ch, (long long)out_ch);
    SGAD__CHECK(ctx, kernel >= 1 && kernel <= 1024 && stride >= 1 && stride <= 1024 &&
                         padding >= 0 && padding <= 1024,
                SGAD_E_INVALID_ARG, "%s: kernel=%d, stride=%d must be in [1, 1024] and "
                "padding=%d in [0, 1024]", fn, kernel, stride, padding);
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

sgad_status sgad_conv2d_create(sgad_ctx *ctx, int64_t in_channels, int64_t out_channels,
                               int kernel, int stride, int padding, int has_bias,
                               sgad_layer **out)
{
    return conv_create(ctx, "sgad_conv2d_create", 0, in_channels, out_channels, kernel, stride,
                       padding, has_bias, out);
}

sgad_status sgad_convt2d_create(sgad_ctx *ctx, int64_t in_channels, int64_t out_channels,
                                int kernel, int stride, int padding, int has_bias,
                                sgad_layer **out)
{
    return conv_create(ctx, "sgad_convt2d_create", 1, in_channels, out_channels, kernel, stride,
                       padding, has_bias, out);
}
