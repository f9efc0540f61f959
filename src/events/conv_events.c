/* SPDX-License-Identifier: MIT */
/* Event-driven convolution (conv_events.h).
 *
 * A nonzero input value at (c, y, x) sits in the patch of every position
 * whose window covers (y, x), under the tap that maps the position onto
 * it. Both passes go straight from the input's nonzeros to those
 * positions, without listing the patch matrix first (a count and a fill
 * pass over the input, and 8 bytes an event written and read back: that
 * listing took longer than the products). Walking the nonzeros in (c, y, x)
 * order reaches each position's columns in increasing order, and each
 * column's positions in increasing order, so every sum runs in one order
 * on any number of threads. */
#include <string.h>

#include "conv_events.h"
#include "core/parallel.h"
#include "kernels/divide.h"
#include "kernels/isa.h"
#include "nonzeros.h"
#include "panels.h"
#include "periodic.h"

/* Positions [lo, hi] along one axis whose window covers input coordinate
 * y: position o covers it under tap y + p - o*s when that lies in [0, k). */
typedef struct cover {
    int64_t lo, hi;
} cover;

static cover cover_of(int64_t y, int64_t k, int64_t s, int64_t p, int64_t n)
{
    const int64_t d = y + p; /* the tap under position o is d - o*s */
    cover r = {d - (k - 1) > 0 ? d - (k - 1) : 0, d};
    if (s > 1) { /* divisions only where needed: they dominate the listing */
        r.lo = (r.lo + s - 1) / s;
        r.hi = d / s;
    }
    if (r.hi > n - 1)
        r.hi = n - 1;
    return r;
}

/* Values of an image listed at a time (on the stack). */
#define SCAN 256

/* The weight's panels (panels.h) are B floats wide. */
#define B SGAD__PANEL

/* dst[0..n) += v * src[0..n), n <= B: one value's share of a panel, added
 * as the gathering products of event_tiles.c add an event (acc += v * w), so
 * sums in the same order give the same bits. A whole panel's loop has a
 * constant count, which the compiler vectorises without a remainder
 * [bench:conv-events-panel-loop]. */
static inline void add_scaled(float *restrict dst, float v, const float *restrict src, int64_t n)
{
    if (n == B) {
        for (int64_t j = 0; j < B; j++)
            dst[j] += v * src[j];
        return;
    }
    for (int64_t j = 0; j < n; j++)
        dst[j] += v * src[j];
}

/* One nonzero input value v and where it lands: channel c at (y, x), and
 * the output positions whose windows cover it. */
typedef struct landing {
    float v;
    int64_t c, y, x;
    cover cy, cx;
} landing;

/* The nonzero values of one image [C, H, W], in memory order: listed a
 * window of SCAN values at a time, skipping zeros 8 at a time
 * (sgad__nonzero_positions). */
typedef struct nonzero_walk {
    const sgad__conv_geom *g;
    const float *img;
    int64_t n, base, found, next; /* window [base, base + SCAN), its cursor */
    sgad__divider plane, row;     /* by H*W and by W (n < 2^31: nonzeros.h) */
    int32_t at[SCAN];
} nonzero_walk;

static nonzero_walk walk_of(const sgad__conv_geom *g, const float *img)
{
    return (nonzero_walk){.g = g,
                          .img = img,
                          .n = g->c * g->h * g->w,
                          .base = -SCAN, /* the first walk_next lists window 0 */
                          .plane = sgad__divider_of((uint32_t)(g->h * g->w)),
                          .row = sgad__divider_of((uint32_t)g->w)};
}

/* The next nonzero value and where it lands into *d; 0 once there is
 * none. */
static inline int walk_next(nonzero_walk *w, landing *d)
{
    while (w->next == w->found) {
        w->base += SCAN;
        if (w->base >= w->n)
            return 0;
        const int64_t len = w->n - w->base < SCAN ? w->n - w->base : SCAN;
        w->found = sgad__nonzero_positions(w->img + w->base, len, w->at);
        w->next = 0;
    }
    const sgad__conv_geom *g = w->g;
    const int64_t i = w->base + w->at[w->next++], hw = g->h * g->w;
    d->v = w->img[i];
    d->c = sgad__divide((uint32_t)i, w->plane);
    const int64_t in_plane = i - d->c * hw;
    d->y = sgad__divide((uint32_t)in_plane, w->row);
    d->x = in_plane - d->y * g->w;
    d->cy = cover_of(d->y, g->k, g->s, g->p, g->oh);
    d->cx = cover_of(d->x, g->k, g->s, g->p, g->ow);
    return 1;
}

/* The patch column (channel, tap) under which position (oy, ox) reads it. */
static int64_t column_at(const sgad__conv_geom *g, const landing *d, int64_t oy, int64_t ox)
{
    return (d->c * g->k + d->y + g->p - oy * g->s) * g->k + d->x + g->p - ox * g->s;
}

/* Forward of one image [C, H, W] into its rows [P][out] (zeroed): each
 * nonzero input value adds its weight row times the value to every
 * position it lands in. Walking the values in (c, y, x) order reaches each
 * position's columns in increasing order, the order of a gathering sum
 * over the patch, so a row's sum does not depend on how images are
 * shared among threads. */
SGAD__AVX2_CLONE
static void forward_image(const sgad__conv_geom *g, const float *img, const float *panels,
                          int64_t out, float *rows)
{
    const int64_t ckk = g->c * g->k * g->k;
    nonzero_walk w = walk_of(g, img);
    landing d;
    while (walk_next(&w, &d))
        for (int64_t oy = d.cy.lo; oy <= d.cy.hi; oy++)
            for (int64_t ox = d.cx.lo; ox <= d.cx.hi; ox++) {
                const int64_t col = column_at(g, &d, oy, ox);
                float *dst = rows + (oy * g->ow + ox) * out;
                for (int64_t b = 0; b * B < out; b++)
                    add_scaled(dst + b * B, d.v, panels + (b * ckk + col) * B,
                               out - b * B < B ? out - b * B : B);
            }
}

/* Panel b of the weight gradient from one image [C, H, W] and its output
 * gradient rows [P][out]: each nonzero input value adds the value times
 * the gradient row of every position it lands in to its column. For one
 * column the positions come in increasing order, image after image: the
 * order of a sum over the patch matrix's rows. */
SGAD__AVX2_CLONE
static void outer_image(const sgad__conv_geom *g, const float *img, const float *grad_rows,
                        int64_t out, int64_t b, float *panel)
{
    const int64_t width = out - b * B < B ? out - b * B : B;
    nonzero_walk w = walk_of(g, img);
    landing d;
    while (walk_next(&w, &d))
        for (int64_t oy = d.cy.lo; oy <= d.cy.hi; oy++)
            for (int64_t ox = d.cx.lo; ox <= d.cx.hi; ox++)
                add_scaled(panel + column_at(g, &d, oy, ox) * B, d.v,
                           grad_rows + (oy * g->ow + ox) * out + b * B, width);
}

/* Samples per chunk and the chunk's position-major buffer [B*P][out]. A
 * chunk's rows and periodic parts (input and output-gradient sized)
 * together take the scratch of one patch-matrix chunk (im2col.c). */
static float *rows_buffer(sgad_ctx *ctx, const sgad__conv_geom *g, int64_t out_ch, int64_t batch,
                          int64_t *chunk)
{
    const int64_t P = g->oh * g->ow;
    *chunk = sgad__chunk_samples(2 * out_ch * P + g->c * g->h * g->w, 1, batch);
    return sgad__scratch(ctx, SGAD__SCRATCH_CONV_PRODUCTS,
                         (size_t)(*chunk * P * out_ch) * sizeof(float));
}

/* The input of a chunk of nb samples from b0 on: x's own rows, or with
 * steps > 1 their periodic parts written to `parts`. */
static const float *chunk_input(const sgad_ctx *ctx, const sgad__conv_geom *g, int64_t steps,
                                int64_t batch, const float *x, int64_t b0, int64_t nb, float *parts)
{
    const int64_t chw = g->c * g->h * g->w;
    if (steps <= 1)
        return x + b0 * chw;
    sgad__periodic_parts(ctx, steps, batch / steps, chw, x, b0, nb, parts);
    return parts;
}

/* Scratch for a chunk's periodic parts of the input and, after them, of
 * the output gradient (a weight gradient reads both at once). */
static float *parts_buffer(sgad_ctx *ctx, const sgad__conv_geom *g, int64_t steps, int64_t out_ch,
                           int64_t chunk)
{
    const int64_t in = g->c * g->h * g->w, out = out_ch * g->oh * g->ow;
    const int64_t len = steps > 1 ? chunk * (in + out) : 1;
    return sgad__scratch(ctx, SGAD__SCRATCH_CONV_COLUMNS, (size_t)len * sizeof(float));
}

sgad_status sgad__conv_events_forward(sgad_ctx *ctx, const sgad__conv_geom *g, int64_t steps,
                                      int64_t batch, int64_t out_ch, const float *x, const float *w,
                                      const float *bias, float *y)
{
    const int64_t P = g->oh * g->ow, ckk = g->c * g->k * g->k, chw = g->c * g->h * g->w;
    int64_t chunk;
    float *panels = sgad__scratch(ctx, SGAD__SCRATCH_EVENT_WEIGHTS,
                                  (size_t)sgad__panels_size(ckk, out_ch) * sizeof *panels);
    float *rows = panels ? rows_buffer(ctx, g, out_ch, batch, &chunk) : NULL;
    float *parts = rows ? parts_buffer(ctx, g, steps, out_ch, chunk) : NULL;
    if (!parts)
        return SGAD_E_NOMEM;
    sgad__panels_from_weight(ctx, out_ch, ckk, w, panels);
    for (int64_t b0 = 0; b0 < batch; b0 += chunk) {
        const int64_t nb = batch - b0 < chunk ? batch - b0 : chunk;
        const float *in = chunk_input(ctx, g, steps, batch, x, b0, nb, parts);
        memset(rows, 0, (size_t)(nb * P * out_ch) * sizeof *rows);
        /* images in turn as threads free up: their spike counts differ */
#pragma omp parallel for num_threads(sgad__par_threads(ctx, nb *P *out_ch)) schedule(dynamic, 1)
        for (int64_t i = 0; i < nb; i++)
            forward_image(g, in + i * chw, panels, out_ch, rows + i * P * out_ch);
        sgad__planes_from_rows(ctx, nb, out_ch, P, rows, steps > 1 ? NULL : bias,
                               y + b0 * out_ch * P);
    }
    if (steps > 1)
        sgad__periodic_sum(ctx, steps, batch / steps, out_ch, P, bias, y);
    return SGAD_OK;
}

sgad_status sgad__conv_events_weight_grad(sgad_ctx *ctx, const sgad__conv_geom *g, int64_t steps,
                                          int64_t batch, int64_t out_ch, const float *x,
                                          const float *dy, float *dw)
{
    const int64_t P = g->oh * g->ow, ckk = g->c * g->k * g->k, chw = g->c * g->h * g->w;
    const int64_t size = sgad__panels_size(ckk, out_ch), panel_count = size / (ckk * B);
    int64_t chunk;
    float *panels = sgad__scratch(ctx, SGAD__SCRATCH_EVENT_WEIGHTS, (size_t)size * sizeof *panels);
    float *rows = panels ? rows_buffer(ctx, g, out_ch, batch, &chunk) : NULL;
    float *parts = rows ? parts_buffer(ctx, g, steps, out_ch, chunk) : NULL;
    if (!parts)
        return SGAD_E_NOMEM;
    memset(panels, 0, (size_t)size * sizeof *panels);
    float *grads = parts + chunk * chw;
    for (int64_t b0 = 0; b0 < batch; b0 += chunk) {
        const int64_t nb = batch - b0 < chunk ? batch - b0 : chunk;
        const float *in = chunk_input(ctx, g, steps, batch, x, b0, nb, parts);
        const float *g_planes = dy + b0 * out_ch * P;
        if (steps > 1) {
            sgad__periodic_grads(ctx, steps, batch / steps, out_ch * P, dy, b0, nb, grads);
            g_planes = grads;
        }
        sgad__planes_to_rows(ctx, nb, out_ch, P, out_ch, g_planes, rows);
        /* a thread per panel: each column's sum then runs in one order */
#pragma omp parallel for num_threads(sgad__par_threads(ctx, nb *P *out_ch)) schedule(static)
        for (int64_t b = 0; b < panel_count; b++)
            for (int64_t i = 0; i < nb; i++)
                outer_image(g, in + i * chw, rows + i * P * out_ch, out_ch, b,
                            panels + b * ckk * B);
    }
    sgad__panels_add_to_weight(ctx, out_ch, ckk, panels, dw);
    return SGAD_OK;
}
