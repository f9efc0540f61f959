/* SPDX-License-Identifier: MIT */
/* The attention-scored membrane decoder (SGAD Eq. 6, decoder.h).
 *
 * Each step mixes the state V and the new input X with two per-sample
 * scores from a softmax over query-key products. The maps applied to whole
 * sequences (phi(X), the x keys, and every weight gradient) run as one GEMM
 * over all (T-1)*N rows; only the maps of V, which depend on the previous
 * step, run step by step. Forward keeps V, phi(V), phi(X), q, k and the
 * scores of every step for backward.
 *
 * With a down map phi(u) = relu(W_d u + b_d) (RGB images), V is never
 * mapped by a product: V_t = s_v V_{t-1} + s_x X_t is a mix of the inputs,
 * so Y_t = W_d V_t follows the same recursion from the products W_d X_t,
 * which one GEMM over all T*N rows gives. Backward likewise carries dL/dY
 * back through that recursion and adds it to dL/d(W_d X_t), so that the
 * down map's weight and input gradients are again one GEMM each. That
 * saves 3(T-1) products of N x D x down (64 x 12288 x 1024 at 64x64x3)
 * per forward and backward. */
#include <math.h>
#include <string.h>

#include "core/parallel.h"
#include "kernels/gemm.h"
#include "kernels/sums.h"
#include "layer_impl.h"

typedef struct attention {
    sgad_layer base;
    int64_t features, hidden, down, key_in; /* key_in: width phi maps to */
    int separate_keys;
    float *wq, *bq, *wk, *bk, *wkx, *bkx, *wd, *bd; /* wkx == wk when shared */
    int gq, gk, gkx, gd;                            /* param indices of each */
    /* Caches, rows indexed t*N + n, sized for cap_rows = T*N, and the
     * per-sample buffers for cap_batch = N. */
    int64_t cap_rows, cap_batch, steps, batch;
    float *arena;
    float *v, *fv, *fx;    /* V_t, phi(V_t), phi(X_t) */
    float *q, *kv, *kx;    /* step t's query and keys (t >= 1) */
    float *sv, *sx;        /* scores */
    float *dq, *dkv, *dkx; /* backward: gradients of q and keys */
    float *dpv, *dfx;      /* backward: through phi of V and of X */
    float *g, *g2, *df;    /* backward: dL/dV now and before, dL/dphi(V) */
    /* With a down map: W_d X_t and Y_t = W_d V_t (no bias), dL/d(W_d X_t),
     * and backward's dL/dY now and before. */
    float *wx, *wv, *dwx, *dy_now, *dy_prev;
} attention;

static sgad_status attn_out_shape(const sgad_layer *l, const sgad__shape *in, sgad__shape *out)
{
    const attention *a = (const attention *)l;
    char buf[SGAD__SHAPE_STR_LEN];
    SGAD__CHECK(l->ctx, in->ndim >= 3 && sgad__sample_numel(in) == a->features, SGAD_E_SHAPE,
                "attention decoder for %lld features expects [T, N, ...] with %lld values per "
                "sample, got %s",
                (long long)a->features, (long long)a->features,
                sgad__shape_str(in, buf, sizeof buf));
    *out = *in;
    out->dims[0] = 1;
    return SGAD_OK;
}

/* The buffers of one kind: slot i gets count * width[i] floats from *p. */
typedef struct carving {
    float **slot[16];
    int64_t width[16];
    size_t n;
} carving;

static int64_t carving_width(const carving *c)
{
    int64_t sum = 0;
    for (size_t i = 0; i < c->n; i++)
        sum += c->width[i];
    return sum;
}

static void carve(const carving *c, int64_t count, float **p)
{
    for (size_t i = 0; i < c->n; i++) {
        *c->slot[i] = *p;
        *p += count * c->width[i];
    }
}

/* Carves the caches for `rows` rows and the per-sample buffers for nb
 * samples out of one new allocation. */
static sgad_status grow(attention *a, int64_t rows, int64_t nb)
{
    const int64_t D = a->features, H = a->hidden, K = a->down;
    const carving per_row = {{&a->v, &a->fv, &a->fx, &a->q, &a->kv, &a->kx, &a->dq, &a->dkv,
                              &a->dkx, &a->sv, &a->sx, &a->dpv, &a->dfx, &a->wx, &a->wv, &a->dwx},
                             {D, K, K, H, H, H, H, H, H, 1, 1, K, K, K, K, K},
                             16};
    const carving per_sample = {
        {&a->g, &a->g2, &a->df, &a->dy_now, &a->dy_prev}, {D, D, a->key_in, K, K}, 5};
    float *p = sgad__alloc(
        a->base.ctx,
        (size_t)(rows * carving_width(&per_row) + nb * carving_width(&per_sample)) * sizeof(float));
    if (!p)
        return SGAD_E_NOMEM;
    sgad__free(a->base.ctx, a->arena);
    a->arena = p;
    a->cap_rows = rows;
    a->cap_batch = nb;
    carve(&per_row, rows, &p);
    carve(&per_sample, nb, &p);
    return SGAD_OK;
}

/* Room for `steps` x `batch` rows and `batch` samples. Both must fit:
 * fewer steps of more samples fit the rows and not the per-sample
 * buffers. Grown to the larger of old and new in each, never shrunk. */
static sgad_status reserve(attention *a, int64_t steps, int64_t batch)
{
    const int64_t rows = steps * batch;
    if (rows > a->cap_rows || batch > a->cap_batch)
        SGAD__TRY(grow(a, rows > a->cap_rows ? rows : a->cap_rows,
                       batch > a->cap_batch ? batch : a->cap_batch));
    a->steps = steps;
    a->batch = batch;
    return SGAD_OK;
}

/* out[r] = relu(w[r] + b_d) for `rows` rows of products w = W_d u. */
static void relu_biased(const attention *a, int64_t rows, const float *w, float *out)
{
    const int64_t K = a->down;
#pragma omp parallel for num_threads(sgad__par_threads(a->base.ctx, rows *K)) schedule(static)
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < K; j++) {
            const float u = w[r * K + j] + a->bd[j];
            out[r * K + j] = u > 0.0f ? u : 0.0f;
        }
}

/* out = in W^T + b for `rows` rows of key_in values: a query or key map. */
static void key_map(const attention *a, int64_t rows, const float *in, const float *w,
                    const float *b, float *out)
{
    for (int64_t r = 0; r < rows; r++)
        memcpy(out + r * a->hidden, b, (size_t)a->hidden * sizeof *out);
    sgad__sgemm(a->base.ctx, 0, 1, rows, a->hidden, a->key_in, 1.0f, in, a->key_in, w, a->key_in,
                1.0f, out, a->hidden);
}

/* Scores of step t for every sample, then V_t = s_v V_{t-1} + s_x X_t. */
static void mix_step(attention *a, int64_t t, const float *x)
{
    const int64_t N = a->batch, D = a->features, H = a->hidden;
    const double scale = 1.0 / sqrt((double)H);
#pragma omp parallel for num_threads(sgad__par_threads(a->base.ctx, N *D)) schedule(static)
    for (int64_t n = 0; n < N; n++) {
        const int64_t r = t * N + n;
        const double sv_logit = sgad__dot(a->q + r * H, a->kv + r * H, H) * scale;
        const double sx_logit = sgad__dot(a->q + r * H, a->kx + r * H, H) * scale;
        const double m = sv_logit > sx_logit ? sv_logit : sx_logit;
        const double ev = exp(sv_logit - m), ex = exp(sx_logit - m);
        const float sv = (float)(ev / (ev + ex)), sx = (float)(ex / (ev + ex));
        a->sv[r] = sv;
        a->sx[r] = sx;
        const float *vp = a->v + (r - N) * D, *xt = x + r * D;
        float *vt = a->v + r * D;
        for (int64_t i = 0; i < D; i++)
            vt[i] = sv * vp[i] + sx * xt[i];
        if (a->down) { /* Y_t = W_d V_t by the same mix */
            const int64_t K = a->down;
            const float *yp = a->wv + (r - N) * K, *wxt = a->wx + r * K;
            float *yt = a->wv + r * K;
            for (int64_t j = 0; j < K; j++)
                yt[j] = sv * yp[j] + sx * wxt[j];
        }
    }
}

static sgad_status attn_forward(sgad_layer *l, const sgad__shape *in, const float *x, float *y)
{
    attention *a = (attention *)l;
    const int64_t T = in->dims[0], N = in->dims[1], D = a->features;
    SGAD__TRY(reserve(a, T, N));
    memcpy(a->v, x, (size_t)(N * D) * sizeof *x);
    for (int64_t n = 0; n < N; n++) {
        a->sv[n] = 0.0f;
        a->sx[n] = 1.0f;
    }
    if (T > 1) {
        const float *xin = x + N * D;
        if (a->down) { /* W_d X_t of every step; Y_0 = W_d X_0 */
            const int64_t K = a->down;
            sgad__sgemm(l->ctx, 0, 1, T * N, K, D, 1.0f, x, D, a->wd, D, 0.0f, a->wx, K);
            memcpy(a->wv, a->wx, (size_t)(N * K) * sizeof *a->wv);
            relu_biased(a, (T - 1) * N, a->wx + N * K, a->fx + N * K);
            xin = a->fx + N * K;
        }
        key_map(a, (T - 1) * N, xin, a->wkx, a->bkx, a->kx + N * a->hidden);
    }
    for (int64_t t = 1; t < T; t++) {
        const float *vprev = a->v + (t - 1) * N * D;
        if (a->down) {
            relu_biased(a, N, a->wv + (t - 1) * N * a->down, a->fv + (t - 1) * N * a->down);
            vprev = a->fv + (t - 1) * N * a->down;
        }
        key_map(a, N, vprev, a->wq, a->bq, a->q + t * N * a->hidden);
        key_map(a, N, vprev, a->wk, a->bk, a->kv + t * N * a->hidden);
        mix_step(a, t, x);
    }
    memcpy(y, a->v + (T - 1) * N * D, (size_t)(N * D) * sizeof *y);
    return SGAD_OK;
}

/* Back through V_t = s_v V_{t-1} + s_x X_t and the softmax of step t:
 * fills dq, dkv, dkx of step t, g2 = s_v g, and dx_t += s_x g; with a down
 * map also through Y_t: dy_prev = s_v dy_now, dL/d(W_d X_t) = s_x dy_now. */
static void unmix_step(attention *a, int64_t t, const float *x, float *dx)
{
    const int64_t N = a->batch, D = a->features, H = a->hidden;
    const float scale = (float)(1.0 / sqrt((double)H));
#pragma omp parallel for num_threads(sgad__par_threads(a->base.ctx, N *D)) schedule(static)
    for (int64_t n = 0; n < N; n++) {
        const int64_t r = t * N + n;
        const float *g = a->g + n * D, *vp = a->v + (r - N) * D, *xt = x + r * D;
        const float sv = a->sv[r], sx = a->sx[r];
        double dsv = sgad__dot(g, vp, D), dsx = sgad__dot(g, xt, D);
        if (a->down) { /* the same for Y_t = s_v Y_{t-1} + s_x W_d X_t */
            const int64_t K = a->down;
            const float *dyt = a->dy_now + n * K, *yp = a->wv + (r - N) * K;
            const float *wxt = a->wx + r * K;
            dsv += sgad__dot(dyt, yp, K);
            dsx += sgad__dot(dyt, wxt, K);
            float *dyp = a->dy_prev + n * K, *dwxt = a->dwx + r * K;
            for (int64_t j = 0; j < K; j++) {
                dyp[j] = sv * dyt[j];
                dwxt[j] = sx * dyt[j];
            }
        }
        float *g2 = a->g2 + n * D;
        for (int64_t i = 0; i < D; i++)
            g2[i] = sv * g[i];
        if (dx)
            for (int64_t i = 0; i < D; i++)
                dx[r * D + i] = sx * g[i];
        const double c = sv * dsv + sx * dsx;
        const float da = (float)(sv * (dsv - c)) * scale, db = (float)(sx * (dsx - c)) * scale;
        const float *q = a->q + r * H, *kv = a->kv + r * H, *kx = a->kx + r * H;
        for (int64_t h = 0; h < H; h++) {
            a->dq[r * H + h] = da * kv[h] + db * kx[h];
            a->dkv[r * H + h] = da * q[h];
            a->dkx[r * H + h] = db * q[h];
        }
    }
}

/* g2 += dL/dV_{t-1} through the query and the V key of step t; with a
 * down map, dy_prev += dL/dY_{t-1} through them instead. */
static void back_through_keys(attention *a, int64_t t)
{
    const int64_t N = a->batch, H = a->hidden, K = a->key_in;
    float *df = a->down ? a->df : a->g2;
    const float beta = a->down ? 0.0f : 1.0f;
    sgad__sgemm(a->base.ctx, 0, 0, N, K, H, 1.0f, a->dq + t * N * H, H, a->wq, K, beta, df, K);
    sgad__sgemm(a->base.ctx, 0, 0, N, K, H, 1.0f, a->dkv + t * N * H, H, a->wk, K, 1.0f, df, K);
    if (!a->down)
        return;
    const float *fv = a->fv + (t - 1) * N * K;
    float *dpv = a->dpv + (t - 1) * N * K;
    for (int64_t i = 0; i < N * K; i++) {
        dpv[i] = fv[i] > 0.0f ? df[i] : 0.0f;
        a->dy_prev[i] += dpv[i];
    }
}

static void add_bias_grad(float *db, const float *d, int64_t rows, int64_t width)
{
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < width; j++)
            db[j] += d[r * width + j];
}

static float *grad_of(attention *a, int index)
{
    return a->base.params[index].grad->data;
}

/* Weight gradients of all steps at once, and dx through the X keys. */
static void finish_backward(attention *a, const float *x, float *dx)
{
    const int64_t N = a->batch, T = a->steps, H = a->hidden, K = a->key_in, D = a->features;
    const int64_t rows = (T - 1) * N;
    const float *fprev = a->down ? a->fv : a->v;
    const float *fx = a->down ? a->fx + N * K : x + N * D;
    const float *dq = a->dq + N * H, *dkv = a->dkv + N * H, *dkx = a->dkx + N * H;
    sgad__sgemm(a->base.ctx, 1, 0, H, K, rows, 1.0f, dq, H, fprev, K, 1.0f, grad_of(a, a->gq), K);
    sgad__sgemm(a->base.ctx, 1, 0, H, K, rows, 1.0f, dkv, H, fprev, K, 1.0f, grad_of(a, a->gk), K);
    sgad__sgemm(a->base.ctx, 1, 0, H, K, rows, 1.0f, dkx, H, fx, K, 1.0f, grad_of(a, a->gkx), K);
    add_bias_grad(grad_of(a, a->gq + 1), dq, rows, H);
    add_bias_grad(grad_of(a, a->gk + 1), dkv, rows, H);
    add_bias_grad(grad_of(a, a->gkx + 1), dkx, rows, H);
    if (!a->down) {
        if (dx)
            sgad__sgemm(a->base.ctx, 0, 0, rows, D, H, 1.0f, dkx, H, a->wkx, K, 1.0f, dx + N * D,
                        D);
        return;
    }
    /* dL/d(W_d X_t): through phi(X_t) (t >= 1) and through Y (every t) */
    float *dfx = a->dfx + N * K, *dwx = a->dwx;
    sgad__sgemm(a->base.ctx, 0, 0, rows, K, H, 1.0f, dkx, H, a->wkx, K, 0.0f, dfx, K);
    for (int64_t i = 0; i < rows * K; i++) {
        dfx[i] = fx[i] > 0.0f ? dfx[i] : 0.0f;
        dwx[N * K + i] += dfx[i];
    }
    sgad__sgemm(a->base.ctx, 1, 0, K, D, T * N, 1.0f, dwx, K, x, D, 1.0f, grad_of(a, a->gd), D);
    add_bias_grad(grad_of(a, a->gd + 1), dfx, rows, K);
    add_bias_grad(grad_of(a, a->gd + 1), a->dpv, rows, K);
    if (dx)
        sgad__sgemm(a->base.ctx, 0, 0, T * N, D, K, 1.0f, dwx, K, a->wd, D, 1.0f, dx, D);
}

static sgad_status attn_backward(sgad_layer *l, const sgad__shape *in, const float *x,
                                 const float *y, const float *dy, float *dx)
{
    (void)y;
    (void)in;
    attention *a = (attention *)l;
    const int64_t N = a->batch, T = a->steps, D = a->features;
    memcpy(a->g, dy, (size_t)(N * D) * sizeof *dy);
    if (a->down) /* Y_{T-1} feeds nothing */
        memset(a->dy_now, 0, (size_t)(N * a->down) * sizeof *a->dy_now);
    for (int64_t t = T - 1; t >= 1; t--) {
        unmix_step(a, t, x, dx);
        back_through_keys(a, t);
        float *swap = a->g;
        a->g = a->g2;
        a->g2 = swap;
        swap = a->dy_now;
        a->dy_now = a->dy_prev;
        a->dy_prev = swap;
    }
    if (dx)
        memcpy(dx, a->g, (size_t)(N * D) * sizeof *dx);
    if (a->down) /* Y_0 = W_d X_0 */
        memcpy(a->dwx, a->dy_now, (size_t)(N * a->down) * sizeof *a->dwx);
    if (T > 1)
        finish_backward(a, x, dx);
    return SGAD_OK;
}

static void attn_destroy(sgad_layer *l)
{
    sgad__free(l->ctx, ((attention *)l)->arena);
}

static const sgad__layer_ops attention_ops = {
    .kind = SGAD_LAYER_ATTENTION,
    .out_shape = attn_out_shape,
    .forward = attn_forward,
    .backward = attn_backward,
    .destroy = attn_destroy,
    .backward_skips = SGAD__SKIPS_Y,
};

/* Adds weight [rows, cols] and bias [rows] initialised as nn.Linear does. */
static sgad_status add_linear(sgad_layer *l, const char *wname, const char *bname, int64_t rows,
                              int64_t cols, float **w, float **b, int *index)
{
    const int64_t dims[2] = {rows, cols};
    *index = l->nparams;
    SGAD__TRY(sgad__layer_add_param(l, wname, 2, dims, 1, w));
    SGAD__TRY(sgad__layer_add_param(l, bname, 1, &rows, 1, b));
    const float bound = 1.0f / sqrtf((float)cols);
    sgad__init_uniform(l->ctx, *w, rows * cols, bound);
    sgad__init_uniform(l->ctx, *b, rows, bound);
    return SGAD_OK;
}

static sgad_status add_params(attention *a)
{
    sgad_layer *l = &a->base;
    const int64_t H = a->hidden, K = a->key_in;
    if (a->down)
        SGAD__TRY(add_linear(l, "down.weight", "down.bias", a->down, a->features, &a->wd, &a->bd,
                             &a->gd));
    SGAD__TRY(add_linear(l, "query.weight", "query.bias", H, K, &a->wq, &a->bq, &a->gq));
    SGAD__TRY(add_linear(l, "key.weight", "key.bias", H, K, &a->wk, &a->bk, &a->gk));
    if (a->separate_keys)
        return add_linear(l, "key_x.weight", "key_x.bias", H, K, &a->wkx, &a->bkx, &a->gkx);
    a->wkx = a->wk;
    a->bkx = a->bk;
    a->gkx = a->gk;
    return SGAD_OK;
}

sgad_status sgad_attention_decoder_create(sgad_ctx *ctx, int64_t features, int64_t hidden,
                                          int64_t down, int separate_keys, sgad_layer **out)
{
    static const char fn[] = "sgad_attention_decoder_create";
    if (!ctx)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(ctx, out != NULL, SGAD_E_INVALID_ARG, "%s: out is NULL", fn);
    *out = NULL;
    const int64_t cap = (int64_t)1 << 24;
    SGAD__CHECK(ctx,
                features >= 1 && features <= cap && hidden >= 1 && hidden <= cap && down >= 0 &&
                    down <= cap,
                SGAD_E_INVALID_ARG,
                "%s: features=%lld, hidden=%lld must be in [1, 2^24] and down=%lld in [0, 2^24]",
                fn, (long long)features, (long long)hidden, (long long)down);
    SGAD__CHECK(ctx, separate_keys == 0 || separate_keys == 1, SGAD_E_INVALID_ARG,
                "%s: separate_keys=%d must be 0 or 1", fn, separate_keys);
    sgad_layer *l;
    SGAD__TRY(sgad__layer_alloc(ctx, &attention_ops, sizeof(attention), &l));
    attention *a = (attention *)l;
    a->features = features;
    a->hidden = hidden;
    a->down = down;
    a->key_in = down ? down : features;
    a->separate_keys = separate_keys;
    sgad_status s = add_params(a);
    if (s != SGAD_OK) {
        sgad_layer_free(l);
        return s;
    }
    *out = l;
    return SGAD_OK;
}

sgad_status sgad_attention_decoder_scores(const sgad_layer *l, float *scores, int64_t count)
{
    if (!l)
        return SGAD_E_INVALID_ARG;
    static const char fn[] = "sgad_attention_decoder_scores";
    SGAD__CHECK(l->ctx, l->ops == &attention_ops, SGAD_E_INVALID_ARG,
                "%s: a %s layer is not an attention decoder", fn,
                sgad_layer_kind_name(l->ops->kind));
    SGAD__CHECK(l->ctx, scores != NULL, SGAD_E_INVALID_ARG, "%s: scores is NULL", fn);
    SGAD__CHECK(l->ctx, l->has_forward, SGAD_E_STATE, "%s: the decoder has not run forward", fn);
    const attention *a = (const attention *)l;
    SGAD__CHECK(l->ctx, count >= a->steps * a->batch, SGAD_E_INVALID_ARG,
                "%s: count=%lld, need T*N = %lld", fn, (long long)count,
                (long long)(a->steps * a->batch));
    memcpy(scores, a->sx, (size_t)(a->steps * a->batch) * sizeof *scores);
    return SGAD_OK;
}
