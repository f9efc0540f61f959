/* SPDX-License-Identifier: MIT */
/* Event-driven transposed convolution: each nonzero input value (a spike)
 * adds its weighted kernel into the output, and the weight gradient sums
 * the output gradient's patches under the spikes only. Geometry as in
 * im2col.h with the transposed convolution's roles: the image is the
 * output (g->c = out channels), the positions are the input's. */
#ifndef SGAD_CONVT_EVENTS_H
#define SGAD_CONVT_EVENTS_H

#include "core/internal.h"
#include "kernels/im2col.h"

/* y [B, out, H, W] = convT(x [B, in, OH, OW]) + bias (bias may be NULL),
 * for weights w [in, out, k, k]. */
sgad_status sgad__convt_events_forward(sgad_ctx *ctx, const sgad__conv_geom *g, int64_t batch,
                                       int64_t in_ch, const float *x, const float *w,
                                       const float *bias, float *y);

/* dw [in, out, k, k] += the weight gradient for output gradient dy. */
sgad_status sgad__convt_events_weight_grad(sgad_ctx *ctx, const sgad__conv_geom *g, int64_t batch,
                                           int64_t in_ch, const float *x, const float *dy,
                                           float *dw);

#endif /* SGAD_CONVT_EVENTS_H */
