/* SPDX-License-Identifier: MIT */
/* Average pooling over [T, N, C, H, W]; zero padding counts towards the
 * average (PyTorch's count_include_pad=True), output size rounds down. */
#include <string.h>

#include "core/parallel.h"
#include "kernels/isa.h"
#include "layer_impl.h"

typedef struct avgpool {
    sgad_layer base;
    int64_t k, s, p;
} avgpool;

static sgad_status pool_out_shape(const sgad_layer *l, const sgad__shape *in, sgad__shape *out)
{
    const avgpool *a = (const avgpool *)l;
    char buf[SGAD__SHAPE_STR_LEN];
    SGAD__CHECK(l->ctx, in->ndim == 5, SGAD_E_SHAPE,
                "avgpool2d expects input [T, N, C, H, W], got %s",
                sgad__shape_str(in, buf, sizeof buf));
    SGAD__CHECK(l->ctx, in->dims[3] + 2 * a->p >= a->k && in->dims[4] + 2 * a->p >= a->k,
                SGAD_E_SHAPE, "avgpool2d: input %lldx%lld is smaller than kernel %lld",
                (long long)in->dims[3], (long long)in->dims[4], (long long)a->k);
    *out = *in;
    out->dims[3] = (in->dims[3] + 2 * a->p - a->k) / a->s + 1;
    out->dims[4] = (in->dims[4] + 2 * a->p - a->k) / a->s + 1;
    return SGAD_OK;
}

/* A pooling problem: planes of h x w pooled to oh x ow. */
typedef struct pool_geom {
    int64_t planes, h, w, oh, ow;
} pool_geom;

static pool_geom geom_of(const avgpool *a, const sgad__shape *in)
{
    pool_geom g = {in->dims[0] * in->dims[1] * in->dims[2], in->dims[3], in->dims[4],
                   (in->dims[3] + 2 * a->p - a->k) / a->s + 1,
                   (in->dims[4] + 2 * a->p - a->k) / a->s + 1};
    return g;
}

/* The common 2x2 window with stride 2 and no padding (SGAD's D, most SNN
 * pooling): straight-line code without the general loops' bounds tests,
 * summing in the same order, so the results are the same bits. */
static int is_2x2(const avgpool *a)
{
    return a->k == 2 && a->s == 2 && a->p == 0;
}

/* One band of k rows into ow outputs. */
static SGAD__ALWAYS_INLINE void pool_band(int64_t k, int64_t w, int64_t ow, float inv,
                                          const float *restrict src, float *restrict dst)
{
    if (k == 2) { /* straight-line, the common window */
        const float *r0 = src, *r1 = src + w;
        for (int64_t ox = 0; ox < ow; ox++)
            dst[ox] = (r0[2 * ox] + r0[2 * ox + 1] + r1[2 * ox] + r1[2 * ox + 1]) * inv;
        return;
    }
    for (int64_t ox = 0; ox < ow; ox++) {
        float sum = 0.0f;
        for (int64_t i = 0; i < k; i++)
            for (int64_t j = 0; j < k; j++)
                sum += src[i * w + ox * k + j];
        dst[ox] = sum * inv;
    }
}

SGAD__AVX2_CLONE
void sgad__avgpool_bands(int64_t k, int64_t w, int64_t ow, int64_t bands, const float *src,
                         float *dst)
{
    const float inv = 1.0f / (float)(k * k);
    for (int64_t b = 0; b < bands; b++)
        pool_band(k, w, ow, inv, src + b * k * w, dst + b * ow);
}

static void forward_2x2(const pool_geom *g, const float *restrict src, float *restrict dst)
{
    sgad__avgpool_bands(2, g->w, g->ow, g->oh, src, dst);
}

/* Every input under a window gets the window's share once; the rest (an
 * odd last row or column) stays 0. */
static void backward_2x2(const pool_geom *g, const float *restrict src, float *restrict dst)
{
    for (int64_t oy = 0; oy < g->oh; oy++) {
        float *r0 = dst + 2 * oy * g->w, *r1 = r0 + g->w;
        for (int64_t ox = 0; ox < g->ow; ox++) {
            const float v = src[oy * g->ow + ox] * 0.25f;
            r0[2 * ox] = r0[2 * ox + 1] = r1[2 * ox] = r1[2 * ox + 1] = v;
        }
    }
}

static sgad_status pool_forward(sgad_layer *l, const sgad__shape *in, const float *x, float *y)
{
    const avgpool *a = (const avgpool *)l;
    const pool_geom g = geom_of(a, in);
    const float inv = 1.0f / (float)(a->k * a->k);
#pragma omp parallel for num_threads(sgad__par_threads(l->ctx, g.planes *g.h *g.w)) schedule(static)
    for (int64_t pl = 0; pl < g.planes; pl++) {
        const float *src = x + pl * g.h * g.w;
        float *dst = y + pl * g.oh * g.ow;
        if (is_2x2(a)) {
            forward_2x2(&g, src, dst);
            continue;
        }
        for (int64_t oy = 0; oy < g.oh; oy++)
            for (int64_t ox = 0; ox < g.ow; ox++) {
                float sum = 0.0f;
                for (int64_t i = 0; i < a->k; i++) {
                    const int64_t yy = oy * a->s - a->p + i;
                    for (int64_t j = 0; j < a->k && yy >= 0 && yy < g.h; j++) {
                        const int64_t xx = ox * a->s - a->p + j;
                        if (xx >= 0 && xx < g.w)
                            sum += src[yy * g.w + xx];
                    }
                }
                dst[oy * g.ow + ox] = sum * inv;
            }
    }
    return SGAD_OK;
}

static sgad_status pool_backward(sgad_layer *l, const sgad__shape *in, const float *x,
                                 const float *y, const float *dy, float *dx)
{
    (void)x;
    (void)y;
    if (!dx)
        return SGAD_OK;
    const avgpool *a = (const avgpool *)l;
    const pool_geom g = geom_of(a, in);
    const float inv = 1.0f / (float)(a->k * a->k);
#pragma omp parallel for num_threads(sgad__par_threads(l->ctx, g.planes *g.h *g.w)) schedule(static)
    for (int64_t pl = 0; pl < g.planes; pl++) {
        float *dst = dx + pl * g.h * g.w;
        memset(dst, 0, (size_t)(g.h * g.w) * sizeof *dst);
        const float *src = dy + pl * g.oh * g.ow;
        if (is_2x2(a)) {
            backward_2x2(&g, src, dst);
            continue;
        }
        for (int64_t oy = 0; oy < g.oh; oy++)
            for (int64_t ox = 0; ox < g.ow; ox++) {
                const float v = src[oy * g.ow + ox] * inv;
                for (int64_t i = 0; i < a->k; i++) {
                    const int64_t yy = oy * a->s - a->p + i;
                    for (int64_t j = 0; j < a->k && yy >= 0 && yy < g.h; j++) {
                        const int64_t xx = ox * a->s - a->p + j;
                        if (xx >= 0 && xx < g.w)
                            dst[yy * g.w + xx] += v;
                    }
                }
            }
    }
    return SGAD_OK;
}

static int64_t pool_window(const sgad_layer *l)
{
    const avgpool *a = (const avgpool *)l;
    return a->s == a->k && a->p == 0 ? a->k : 0;
}

static const sgad__layer_ops avgpool_ops = {
    .kind = SGAD_LAYER_AVGPOOL2D,
    .out_shape = pool_out_shape,
    .forward = pool_forward,
    .backward = pool_backward,
    .backward_skips = SGAD__SKIPS_X | SGAD__SKIPS_Y,
    .steps_alike = 1,
    .pool_window = pool_window,
};

sgad_status sgad_avgpool2d_create(sgad_ctx *ctx, int kernel, int stride, int padding,
                                  sgad_layer **out)
{
    static const char fn[] = "sgad_avgpool2d_create";
    if (!ctx)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(ctx, out != NULL, SGAD_E_INVALID_ARG, "%s: out is NULL", fn);
    *out = NULL;
    if (stride == 0)
        stride = kernel;
    SGAD__CHECK(ctx, kernel >= 1 && kernel <= 1024 && stride >= 1 && stride <= 1024,
                SGAD_E_INVALID_ARG, "%s: kernel=%d and stride=%d must be in [1, 1024]", fn, kernel,
                stride);
    /* PyTorch's rule: padding at most half the kernel. */
    SGAD__CHECK(ctx, padding >= 0 && 2 * padding <= kernel, SGAD_E_INVALID_ARG,
                "%s: padding=%d must be in [0, kernel/2 = %d]", fn, padding, kernel / 2);
    SGAD__TRY(sgad__layer_alloc(ctx, &avgpool_ops, sizeof(avgpool), out));
    avgpool *a = (avgpool *)*out;
    a->k = kernel;
    a->s = stride;
    a->p = padding;
    return SGAD_OK;
}
