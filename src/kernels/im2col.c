/* SPDX-License-Identifier: MIT */
/* im2col / col2im and layout transposes for chunked convolutions.
 *
 * Padding is handled by computing, once per kernel offset, the range of
 * output positions whose input lies inside the image; the inner loops then
 * run over plain ranges with no per-element bounds test, so they vectorise
 * (and stride 1, the common case, becomes a straight copy or add). */
#include <string.h>

#include "core/parallel.h"
#include "im2col.h"
#include "isa.h"

/* Column buffers are kept under 4 MiB: large enough for GEMMs that run at
 * full speed, small enough to stay near the caches and bound memory (two
 * scratch slots hold one each) [bench:im2col-chunk]. */
#define CHUNK_BYTES ((int64_t)4 << 20)

int64_t sgad__chunk_samples(int64_t rows, int64_t cols_per_sample, int64_t total)
{
    const int64_t per_sample = rows * cols_per_sample * (int64_t)sizeof(float);
    int64_t b = per_sample > 0 ? CHUNK_BYTES / per_sample : total;
    if (b < 1)
        b = 1;
    return b < total ? b : total;
}

/* Positions [lo, hi) of `out` along one axis whose input index o*s + off
 * falls inside [0, n); off = kernel offset - padding may be negative. */
typedef struct span {
    int64_t lo, hi;
} span;

static span valid_span(int64_t n, int64_t out, int64_t s, int64_t off)
{
    span r = {off >= 0 ? 0 : (-off + s - 1) / s, n - 1 - off < 0 ? 0 : (n - 1 - off) / s + 1};
    if (r.hi > out)
        r.hi = out;
    if (r.lo > r.hi)
        r.lo = r.hi;
    return r;
}

/* One output row of im2col: out[o] = src[o*s + off] inside the span, 0 outside. */
static SGAD__ALWAYS_INLINE void gather_row(float *restrict out, const float *restrict src,
                                           int64_t n, span sp, int64_t s, int64_t off)
{
    for (int64_t o = 0; o < sp.lo; o++)
        out[o] = 0.0f;
    if (s == 1) { /* a separate loop so the compiler sees unit stride */
        for (int64_t o = sp.lo; o < sp.hi; o++)
            out[o] = src[o + off];
    } else {
        for (int64_t o = sp.lo; o < sp.hi; o++)
            out[o] = src[o * s + off];
    }
    for (int64_t o = sp.hi; o < n; o++)
        out[o] = 0.0f;
}

/* The adjoint of gather_row: dst[o*s + off] += in[o] inside the span. */
static SGAD__ALWAYS_INLINE void scatter_row(float *restrict dst, const float *restrict in, span sp,
                                            int64_t s, int64_t off)
{
    if (s == 1) {
        for (int64_t o = sp.lo; o < sp.hi; o++)
            dst[o + off] += in[o];
    } else {
        for (int64_t o = sp.lo; o < sp.hi; o++)
            dst[o * s + off] += in[o];
    }
}

/* Where one kernel offset (ki, kj) reads: input = position * s + off, and
 * the spans of positions that land inside the image. */
typedef struct tap {
    int64_t offy, offx;
    span ys, xs;
} tap;

static tap tap_of(const sgad__conv_geom *g, int64_t ki, int64_t kj)
{
    const tap t = {ki - g->p, kj - g->p, valid_span(g->h, g->oh, g->s, ki - g->p),
                   valid_span(g->w, g->ow, g->s, kj - g->p)};
    return t;
}

/* One sample's positions for one (channel, tap) row of col. */
static SGAD__ALWAYS_INLINE void im2col_row(const sgad__conv_geom *g, const tap *t, const float *src,
                                           float *dst)
{
    memset(dst, 0, (size_t)(t->ys.lo * g->ow) * sizeof *dst);
    for (int64_t oy = t->ys.lo; oy < t->ys.hi; oy++)
        gather_row(dst + oy * g->ow, src + (oy * g->s + t->offy) * g->w, g->ow, t->xs, g->s,
                   t->offx);
    memset(dst + t->ys.hi * g->ow, 0, (size_t)((g->oh - t->ys.hi) * g->ow) * sizeof *dst);
}

/* Adds one sample's positions of one (channel, tap) row back into its image. */
static SGAD__ALWAYS_INLINE void col2im_row(const sgad__conv_geom *g, const tap *t, const float *src,
                                           float *dst)
{
    for (int64_t oy = t->ys.lo; oy < t->ys.hi; oy++)
        scatter_row(dst + (oy * g->s + t->offy) * g->w, src + oy * g->ow, t->xs, g->s, t->offx);
}

/* Taps whose spans patches() works out once per call, on the stack. */
#define MAX_TAPS 64

/* Both directions go plane by plane (sample, channel), all taps of a plane
 * in turn, so the plane stays in L1 while its taps are copied out or added
 * in (walking the taps outermost brought each plane back from L2 once per
 * tap); each sample belongs to one thread. A tap's spans hold divisions,
 * so they are worked out once per call for up to MAX_TAPS taps. In col2im
 * each image value sums its taps in their order. With `col` given the
 * patches of `img` are copied into it (im2col), otherwise those of
 * `col_in` are added into `img_out` (col2im). */
SGAD__AVX2_CLONE
static void patches(const sgad_ctx *ctx, const sgad__conv_geom *g, int64_t batch, const float *img,
                    float *col, const float *col_in, float *img_out)
{
    const int64_t P = g->oh * g->ow, cols = batch * P, hw = g->h * g->w, kk = g->k * g->k;
    tap taps[MAX_TAPS];
    for (int64_t i = 0; i < kk && i < MAX_TAPS; i++)
        taps[i] = tap_of(g, i / g->k, i % g->k);
#pragma omp parallel for num_threads(sgad__par_threads(ctx, cols * g->c * kk)) schedule(static)
    for (int64_t b = 0; b < batch; b++)
        for (int64_t c = 0; c < g->c; c++) {
            const int64_t plane = (b * g->c + c) * hw;
            for (int64_t j = 0; j < kk; j++) {
                const tap t = j < MAX_TAPS ? taps[j] : tap_of(g, j / g->k, j % g->k);
                const int64_t at = (c * kk + j) * cols + b * P;
                if (col)
                    im2col_row(g, &t, img + plane, col + at);
                else
                    col2im_row(g, &t, col_in + at, img_out + plane);
            }
        }
}

void sgad__im2col(const sgad_ctx *ctx, const sgad__conv_geom *g, int64_t batch, const float *img,
                  float *col)
{
    patches(ctx, g, batch, img, col, NULL, NULL);
}

void sgad__col2im(const sgad_ctx *ctx, const sgad__conv_geom *g, int64_t batch, const float *col,
                  float *img)
{
    patches(ctx, g, batch, NULL, NULL, col, img);
}

SGAD__AVX2_CLONE
void sgad__to_channel_major(const sgad_ctx *ctx, int64_t batch, int64_t c, int64_t p,
                            const float *src, float *dst)
{
#pragma omp parallel for num_threads(sgad__par_threads(ctx, batch *c *p)) schedule(static)
    for (int64_t b = 0; b < batch; b++)
        for (int64_t i = 0; i < c; i++)
            memcpy(dst + i * batch * p + b * p, src + (b * c + i) * p, (size_t)p * sizeof *dst);
}

SGAD__AVX2_CLONE
void sgad__from_channel_major(const sgad_ctx *ctx, int64_t batch, int64_t c, int64_t p,
                              const float *src, const float *bias, float *dst)
{
#pragma omp parallel for num_threads(sgad__par_threads(ctx, batch *c *p)) schedule(static)
    for (int64_t b = 0; b < batch; b++)
        for (int64_t i = 0; i < c; i++) {
            const float *restrict s = src + i * batch * p + b * p;
            float *restrict d = dst + (b * c + i) * p;
            const float add = bias ? bias[i] : 0.0f;
            for (int64_t j = 0; j < p; j++)
                d[j] = s[j] + add;
        }
}

SGAD__AVX2_CLONE
void sgad__planes_from_rows(const sgad_ctx *ctx, int64_t batch, int64_t c, int64_t p,
                            const float *src, const float *bias, float *dst)
{
#pragma omp parallel for num_threads(sgad__par_threads(ctx, batch *c *p)) schedule(static)
    for (int64_t b = 0; b < batch; b++)
        for (int64_t i = 0; i < c; i++) {
            const float *restrict s = src + b * p * c + i;
            float *restrict d = dst + (b * c + i) * p;
            const float add = bias ? bias[i] : 0.0f;
            for (int64_t j = 0; j < p; j++)
                d[j] = s[j * c] + add;
        }
}

SGAD__AVX2_CLONE
void sgad__planes_to_rows(const sgad_ctx *ctx, int64_t batch, int64_t c, int64_t p, int64_t ld,
                          const float *src, float *dst)
{
#pragma omp parallel for num_threads(sgad__par_threads(ctx, batch *ld *p)) schedule(static)
    for (int64_t b = 0; b < batch; b++)
        for (int64_t j = 0; j < p; j++) {
            const float *restrict s = src + b * c * p + j;
            float *restrict d = dst + (b * p + j) * ld;
            for (int64_t i = 0; i < c; i++)
                d[i] = s[i * p];
            for (int64_t i = c; i < ld; i++)
                d[i] = 0.0f;
        }
}
