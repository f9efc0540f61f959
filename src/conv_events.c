/* Event-driven convolution (conv_events.h).
 *
 * Listing the patch matrix from the input: a nonzero input value at (c, y,
 * x) sits in the patch of every position whose window covers (y, x), under
 * the tap that maps the position onto it. Walking the input's nonzeros in
 * (c, y, x) order appends to each position's row in increasing column
 * order, so the list, and every sum over it, is the same on any number of
 * threads. Rows are counted first, then filled, one sample per thread. */
#include <string.h>

#include "conv_events.h"
#include "layer_impl.h"
#include "parallel.h"
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

/* Adds one to the count of each row that the input value at (y, x) lands
 * in. */
static void count_value(const sgad__conv_geom *g, int64_t y, int64_t x, int64_t *count)
{
    const cover cy = cover_of(y, g->k, g->s, g->p, g->oh);
    const cover cx = cover_of(x, g->k, g->s, g->p, g->ow);
    for (int64_t oy = cy.lo; oy <= cy.hi; oy++)
        for (int64_t ox = cx.lo; ox <= cx.hi; ox++)
            count[oy * g->ow + ox]++;
}

/* Appends the events of the input value v at (c, y, x), advancing
 * next[row] (the row's cursor). */
static void fill_value(const sgad__conv_geom *g, int64_t c, int64_t y, int64_t x, float v,
                       int64_t *next, sgad__events *ev)
{
    const cover cy = cover_of(y, g->k, g->s, g->p, g->oh);
    const cover cx = cover_of(x, g->k, g->s, g->p, g->ow);
    for (int64_t oy = cy.lo; oy <= cy.hi; oy++) {
        const int64_t ki = y + g->p - oy * g->s;
        for (int64_t ox = cx.lo; ox <= cx.hi; ox++) {
            const int64_t kj = x + g->p - ox * g->s;
            const int64_t e = next[oy * g->ow + ox]++;
            ev->index[e] = (int32_t)((c * g->k + ki) * g->k + kj);
            ev->value[e] = v;
        }
    }
}

/* Values of an image listed at a time (on the stack). */
#define SCAN 256

/* Walks the nonzeros of one image [C, H, W] in (c, y, x) order: counts
 * their rows into `rows`, or with ev appends their events at the cursors
 * `rows`. The zeros (most of a spike map) are skipped 8 at a time
 * (sgad__nonzero_positions) rather than tested one by one. */
static void walk_sample(const sgad__conv_geom *g, const float *img, int64_t *rows,
                        sgad__events *ev)
{
    const int64_t hw = g->h * g->w, n = g->c * hw;
    int32_t at[SCAN];
    for (int64_t i0 = 0; i0 < n; i0 += SCAN) {
        const int64_t found = sgad__nonzero_positions(img + i0, n - i0 < SCAN ? n - i0 : SCAN,
                                                      at);
        for (int64_t e = 0; e < found; e++) {
            const int64_t i = i0 + at[e], y = i % hw / g->w, x = i % g->w;
            if (ev)
                fill_value(g, i / hw, y, x, img[i], rows, ev);
            else
                count_value(g, y, x, rows);
        }
    }
}

sgad_status sgad__patch_events(sgad_ctx *ctx, int slot, const sgad__conv_geom *g,
                               int64_t batch, const float *img, sgad__events *ev)
{
    const int64_t P = g->oh * g->ow, hw = g->h * g->w, rows = batch * P;
    const size_t head = (size_t)(rows + 1) * sizeof(int64_t);
    int64_t *start = sgad__scratch(ctx, slot, head);
    if (!start)
        return SGAD_E_NOMEM;
    memset(start, 0, head);
    const int threads = sgad__par_threads(ctx, batch * g->c * hw * g->k);
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t b = 0; b < batch; b++)
        walk_sample(g, img + b * g->c * hw, start + 1 + b * P, NULL);
    for (int64_t r = 0; r < rows; r++)
        start[r + 1] += start[r];
    const int64_t total = start[rows];
    start = sgad__scratch_keep(ctx, slot,
                               head + (size_t)total * (sizeof(int32_t) + sizeof(float)));
    if (!start)
        return SGAD_E_NOMEM;
    ev->rows = rows;
    ev->cols = g->c * g->k * g->k;
    ev->count = total;
    ev->start = start;
    ev->value = (float *)((char *)start + head);
    ev->index = (int32_t *)(ev->value + total);
    /* start[r] serves as row r's cursor and ends at the next row's start;
     * one shift afterwards restores it. */
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t b = 0; b < batch; b++)
        walk_sample(g, img + b * g->c * hw, start + b * P, ev);
    memmove(start + 1, start, (size_t)rows * sizeof *start);
    start[0] = 0;
    return SGAD_OK;
}

/* Samples per chunk and the chunk's position-major buffer [B*P][out]. */
static float *rows_buffer(sgad_ctx *ctx, const sgad__conv_geom *g, int64_t out_ch,
                          int64_t batch, int64_t *chunk)
{
    const int64_t P = g->oh * g->ow;
    *chunk = sgad__chunk_samples(g->c * g->k * g->k, P, batch);
    return sgad__scratch(ctx, 1, (size_t)(*chunk * P * out_ch) * sizeof(float));
}

/* The input of a chunk of nb samples from b0 on: x's own rows, or with
 * steps > 1 their periodic parts written to `parts`. */
static const float *chunk_input(const sgad_ctx *ctx, const sgad__conv_geom *g, int64_t steps,
                                int64_t batch, const float *x, int64_t b0, int64_t nb,
                                float *parts)
{
    const int64_t chw = g->c * g->h * g->w;
    if (steps <= 1)
        return x + b0 * chw;
    sgad__periodic_parts(ctx, steps, batch / steps, chw, x, b0, nb, parts);
    return parts;
}

/* Slot 0 for a chunk's periodic parts, input or output-gradient sized. */
static float *parts_buffer(sgad_ctx *ctx, const sgad__conv_geom *g, int64_t steps,
                           int64_t out_ch, int64_t chunk)
{
    const int64_t in = g->c * g->h * g->w, out = out_ch * g->oh * g->ow;
    const int64_t len = steps > 1 ? chunk * (in > out ? in : out) : 1;
    return sgad__scratch(ctx, 0, (size_t)len * sizeof(float));
}

sgad_status sgad__conv_events_forward(sgad_ctx *ctx, const sgad__conv_geom *g, int64_t steps,
                                      int64_t batch, int64_t out_ch, const float *x,
                                      const float *w, const float *bias, float *y)
{
    const int64_t P = g->oh * g->ow, ckk = g->c * g->k * g->k;
    int64_t chunk;
    float *panels = sgad__scratch(ctx, 4, (size_t)sgad__panels_size(ckk, out_ch) *
                                              sizeof *panels);
    float *rows = panels ? rows_buffer(ctx, g, out_ch, batch, &chunk) : NULL;
    float *parts = rows ? parts_buffer(ctx, g, steps, out_ch, chunk) : NULL;
    if (!parts)
        return SGAD_E_NOMEM;
    sgad__panels_from_weight(ctx, out_ch, ckk, w, panels);
    const sgad__panels W = {.in = ckk, .out = out_ch, .all = panels};
    for (int64_t b0 = 0; b0 < batch; b0 += chunk) {
        const int64_t nb = batch - b0 < chunk ? batch - b0 : chunk;
        sgad__events ev;
        SGAD__TRY(sgad__patch_events(ctx, 5, g, nb,
                                     chunk_input(ctx, g, steps, batch, x, b0, nb, parts), &ev));
        memset(rows, 0, (size_t)(nb * P * out_ch) * sizeof *rows);
        sgad__events_matmul(ctx, &ev, &W, rows);
        sgad__planes_from_rows(ctx, nb, out_ch, P, rows, steps > 1 ? NULL : bias,
                               y + b0 * out_ch * P);
    }
    if (steps > 1)
        sgad__periodic_sum(ctx, steps, batch / steps, out_ch, P, bias, y);
    return SGAD_OK;
}

sgad_status sgad__conv_events_weight_grad(sgad_ctx *ctx, const sgad__conv_geom *g,
                                          int64_t steps, int64_t batch, int64_t out_ch,
                                          const float *x, const float *dy, float *dw)
{
    const int64_t P = g->oh * g->ow, ckk = g->c * g->k * g->k;
    const int64_t size = sgad__panels_size(ckk, out_ch);
    int64_t chunk;
    float *panels = sgad__scratch(ctx, 4, (size_t)size * sizeof *panels);
    float *rows = panels ? rows_buffer(ctx, g, out_ch, batch, &chunk) : NULL;
    float *parts = rows ? parts_buffer(ctx, g, steps, out_ch, chunk) : NULL;
    if (!parts)
        return SGAD_E_NOMEM;
    memset(panels, 0, (size_t)size * sizeof *panels);
    const sgad__panels G = {.in = ckk, .out = out_ch, .all = panels};
    for (int64_t b0 = 0; b0 < batch; b0 += chunk) {
        const int64_t nb = batch - b0 < chunk ? batch - b0 : chunk;
        sgad__events ev;
        SGAD__TRY(sgad__patch_events(ctx, 5, g, nb,
                                     chunk_input(ctx, g, steps, batch, x, b0, nb, parts), &ev));
        /* The events hold their values: `parts` is free for the gradient
         * summed over each part's steps. */
        const float *g_rows = dy + b0 * out_ch * P;
        if (steps > 1) {
            sgad__periodic_grads(ctx, steps, batch / steps, out_ch * P, dy, b0, nb, parts);
            g_rows = parts;
        }
        sgad__planes_to_rows(ctx, nb, out_ch, P, out_ch, g_rows, rows);
        sgad__events_outer(ctx, &ev, rows, &G);
    }
    sgad__panels_add_to_weight(ctx, out_ch, ckk, panels, dw);
    return SGAD_OK;
}
