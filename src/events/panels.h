/* SPDX-License-Identifier: MIT */
/* Weight panels of the event-driven products (nonzeros.h): the dense
 * [in x out] operand each event's row is read from, or summed into, split
 * into panels of SGAD__PANEL output columns, each one contiguous block
 * that one thread works on. */
#ifndef SGAD_PANELS_H
#define SGAD_PANELS_H

#include "core/internal.h"

/* Output columns per panel: a panel's accumulators fit in the vector
 * registers, and a panel of the [in x out] operand (in x 32 floats,
 * contiguous) stays in the L2 cache while every row passes over it. */
#define SGAD__PANEL 32

/* Floats of the panel form of an [in x out] operand: out rounded up to
 * whole panels, each panel [in x SGAD__PANEL]. */
int64_t sgad__panels_size(int64_t in, int64_t out);

/* Panels of w^T from a weight matrix w [out x in] (a convolution's [out x C*k*k]). */
void sgad__panels_from_weight(const sgad_ctx *ctx, int64_t out, int64_t in, const float *w,
                              float *panels);

/* w [out x in] += the matrix whose panels of the transpose are given. */
void sgad__panels_add_to_weight(const sgad_ctx *ctx, int64_t out, int64_t in, const float *panels,
                                float *w);

/* The [in x out] operand of the spike-train products (spike_trains.h),
 * in panels: each thread builds the panel it works on in its own block of
 * `own` (threads x in x SGAD__PANEL floats) from the weight w [out x in],
 * so that a large layer's whole panel form (G's fc2: 24.5 MiB) is never
 * held. For a weight gradient, w is the gradient the blocks are added to
 * as they finish. */
typedef struct sgad__panels {
    int64_t in, out;
    float *own;
    float *w;
} sgad__panels;

/* The panels of w [out x in]; own has room for sgad__panels_own_size
 * floats per context thread. */
sgad__panels sgad__panels_of_weight(int64_t out, int64_t in, float *w, float *own);
int64_t sgad__panels_own_size(int64_t in);

/* Panel b for reading (matmul), built now in the thread's block. */
const float *sgad__panel_read(const sgad__panels *W, int64_t b);

/* A panel to sum into (outer): the thread's block, zeroed;
 * sgad__panel_done adds it to w as panel b. */
float *sgad__panel_sum(const sgad__panels *G);
void sgad__panel_done(const sgad__panels *G, int64_t b, const float *panel);

#endif /* SGAD_PANELS_H */
