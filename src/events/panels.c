/* SPDX-License-Identifier: MIT */
/* Weight panels of the event-driven products (panels.h).
 *
 * Both products split the output columns into panels of SGAD__PANEL and
 * give each panel to one thread; the [in x out] operand is stored panel by
 * panel, so a panel is one contiguous block (rows of a plain [in x out]
 * matrix a power-of-two apart would fight over the same cache sets).
 * Within a panel every output value is summed over the events in list
 * order, so results do not depend on the thread count. */
#include <string.h>

#include "core/parallel.h"
#include "kernels/isa.h"
#include "kernels/simd.h"
#include "panels.h"

#define B SGAD__PANEL

int64_t sgad__panels_size(int64_t in, int64_t out)
{
    return (out + B - 1) / B * B * in;
}

/* Panel b of w^T for w [out x in] into p [in x B], columns past out zero. */
SGAD__AVX2_CLONE
static void panel_from_weight(int64_t out, int64_t in, const float *w, int64_t b, float *p)
{
    const int64_t rows = out - b * B < B ? out - b * B : B;
    sgad__transpose(rows, in, w + b * B * in, in, p, B, 0);
    for (int64_t i = 0; i < in; i++) /* a last, partial panel: zero columns */
        for (int64_t j = rows; j < B; j++)
            p[i * B + j] = 0.0f;
}

/* w's rows of panel b += the transpose of p. */
SGAD__AVX2_CLONE
static void panel_add_to_weight(int64_t out, int64_t in, const float *p, int64_t b, float *w)
{
    const int64_t rows = out - b * B < B ? out - b * B : B;
    sgad__transpose(in, rows, p, B, w + b * B * in, in, 1);
}

void sgad__panels_from_weight(const sgad_ctx *ctx, int64_t out, int64_t in, const float *w,
                              float *panels)
{
    const int64_t blocks = (out + B - 1) / B;
#pragma omp parallel for num_threads(sgad__par_threads(ctx, out *in)) schedule(static)
    for (int64_t b = 0; b < blocks; b++)
        panel_from_weight(out, in, w, b, panels + b * in * B);
}

void sgad__panels_add_to_weight(const sgad_ctx *ctx, int64_t out, int64_t in, const float *panels,
                                float *w)
{
    const int64_t blocks = (out + B - 1) / B;
#pragma omp parallel for num_threads(sgad__par_threads(ctx, out *in)) schedule(static)
    for (int64_t b = 0; b < blocks; b++)
        panel_add_to_weight(out, in, panels + b * in * B, b, w);
}

sgad__panels sgad__panels_of_weight(int64_t out, int64_t in, float *w, float *own)
{
    const sgad__panels p = {.in = in, .out = out, .own = own, .w = w};
    return p;
}

int64_t sgad__panels_own_size(int64_t in)
{
    return in * B;
}

/* The calling thread's own block. */
static float *own_block(const sgad__panels *p)
{
    return p->own + (int64_t)sgad__thread_index() * p->in * B;
}

const float *sgad__panel_read(const sgad__panels *W, int64_t b)
{
    float *p = own_block(W);
    panel_from_weight(W->out, W->in, W->w, b, p);
    return p;
}

float *sgad__panel_sum(const sgad__panels *G)
{
    float *p = own_block(G);
    memset(p, 0, (size_t)(G->in * B) * sizeof *p);
    return p;
}

void sgad__panel_done(const sgad__panels *G, int64_t b, const float *panel)
{
    panel_add_to_weight(G->out, G->in, panel, b, G->w);
}
