/* Event-driven convolution (conv2d) for sparse inputs such as D's pooled
 * spikes. The patch matrix of a chunk (im2col.h, transposed: one row per
 * output position, one column per (channel, tap)) is listed as events
 * straight from the input's nonzeros, without writing the dense patches;
 * the forward pass and the weight gradient are then the event products of
 * events.h with the weight [out, C*k*k] as the panel operand. The input
 * gradient stays a dense product. */
#ifndef SGAD_CONV_EVENTS_H
#define SGAD_CONV_EVENTS_H

#include "events.h"
#include "im2col.h"

/* Lists the nonzeros of the patch matrix of `batch` images [C, H, W]:
 * rows batch*P (row b*P + position), columns C*k*k, each row's events in
 * increasing column order. Memory of scratch slot `slot`, as
 * sgad__events_list. */
sgad_status sgad__patch_events(sgad_ctx *ctx, int slot, const sgad__conv_geom *g,
                               int64_t batch, const float *img, sgad__events *ev);

/* y [B, out, OH, OW] = conv(x [B, C, H, W]) + bias (bias may be NULL) for
 * weights w [out, C, k, k]. With steps > 1 the batch is [steps, B/steps]
 * and the events are those of x's periodic parts (periodic.h). Uses
 * scratch slots 0, 1, 4 and 5. */
sgad_status sgad__conv_events_forward(sgad_ctx *ctx, const sgad__conv_geom *g, int64_t steps,
                                      int64_t batch, int64_t out_ch, const float *x,
                                      const float *w, const float *bias, float *y);

/* dw [out, C, k, k] += the weight gradient for output gradient dy
 * [B, out, OH, OW], on x's periodic parts with steps > 1 as above. Uses
 * scratch slots 0, 1, 4 and 5. */
sgad_status sgad__conv_events_weight_grad(sgad_ctx *ctx, const sgad__conv_geom *g,
                                          int64_t steps, int64_t batch, int64_t out_ch,
                                          const float *x, const float *dy, float *dw);

#endif /* SGAD_CONV_EVENTS_H */
