/* SPDX-License-Identifier: MIT */
/* Event-driven convolution (conv2d) for sparse inputs such as D's pooled
 * spikes. The forward pass and the weight gradient take the input's
 * nonzeros one by one to the output positions whose windows cover them,
 * with the weight [out, C*k*k] (and its gradient) in the panel form of
 * panels.h; the dense patch matrix (im2col.h) is never written. The input
 * gradient stays a dense product. */
#ifndef SGAD_CONV_EVENTS_H
#define SGAD_CONV_EVENTS_H

#include "core/internal.h"
#include "kernels/im2col.h"

/* y [B, out, OH, OW] = conv(x [B, C, H, W]) + bias (bias may be NULL) for
 * weights w [out, C, k, k]. With steps > 1 the batch is [steps, B/steps]
 * and the events are those of x's periodic parts (periodic.h). Uses the
 * scratch slots SGAD__SCRATCH_CONV_COLUMNS, _CONV_PRODUCTS and
 * _EVENT_WEIGHTS. */
sgad_status sgad__conv_events_forward(sgad_ctx *ctx, const sgad__conv_geom *g, int64_t steps,
                                      int64_t batch, int64_t out_ch, const float *x, const float *w,
                                      const float *bias, float *y);

/* dw [out, C, k, k] += the weight gradient for output gradient dy
 * [B, out, OH, OW], on x's periodic parts with steps > 1 as above. Uses
 * the same scratch slots. */
sgad_status sgad__conv_events_weight_grad(sgad_ctx *ctx, const sgad__conv_geom *g, int64_t steps,
                                          int64_t batch, int64_t out_ch, const float *x,
                                          const float *dy, float *dw);

#endif /* SGAD_CONV_EVENTS_H */
