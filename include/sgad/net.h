/* SPDX-License-Identifier: MIT */
/** @file
 * libsgad: networks.
 *
 * A net is a sequence of layers run one after another over all T steps. It
 * owns the layers given to it, keeps the activations of its last forward
 * for backward, and lists every parameter under PyTorch-style names
 * ("3.weight", "4.running_mean"), which optimizers, checkpoints and
 * bindings walk. Errors are reported through the net's context and name
 * the layer at fault.
 *
 * Threads: an object is used by one thread at a time, together with the
 * context it was made from (context.h); objects of different contexts may
 * be used in parallel. */
#ifndef SGAD_NET_H
#define SGAD_NET_H

#include <stdint.h>

#include "context.h"
#include "export.h"
#include "layer.h"
#include "status.h"
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A net (opaque). Made by sgad_net_create, freed by sgad_net_free. */
typedef struct sgad_net sgad_net;

/** Longest parameter name a net produces, terminating NUL included. */
#define SGAD_MAX_NAME 64

/** Creates an empty net; the caller frees it with sgad_net_free.
 *  @return SGAD_OK, SGAD_E_INVALID_ARG or SGAD_E_NOMEM. */
SGAD_API sgad_status sgad_net_create(sgad_ctx *ctx, sgad_net **out);

/** Frees the net and every layer it owns. NULL is a no-op. */
SGAD_API void sgad_net_free(sgad_net *net);

/** Appends a layer and takes ownership of it, only on SGAD_OK: on failure
 *  the caller still owns the layer. The layer must come from the net's
 *  context and belong to no other net, else SGAD_E_INVALID_ARG. */
SGAD_API sgad_status sgad_net_adopt(sgad_net *net, sgad_layer *layer);

/** @return the number of layers (0 if net is NULL). */
SGAD_API int sgad_net_layer_count(const sgad_net *net);

/** @return layer i, owned by the net, or NULL if i is out of range. */
SGAD_API sgad_layer *sgad_net_layer(const sgad_net *net, int i);

/** Output dimensions for input dimensions [T, N, ...]; out_dims must hold
 *  SGAD_MAX_DIMS values. Reports which layer rejects the shape. */
SGAD_API sgad_status sgad_net_output_dims(const sgad_net *net, int ndim, const int64_t *in_dims,
                                          int *out_ndim, int64_t *out_dims);

/** Runs every layer. x is copied, so the caller may reuse it at once. If y
 *  is not NULL the output is copied into it (it must have the output
 *  dimensions); the output can also be read with sgad_net_output.
 *  SGAD_E_SHAPE when a layer rejects its input's shape (the message names
 *  the layer), SGAD_E_STATE for a net without layers, SGAD_E_NOMEM. */
SGAD_API sgad_status sgad_net_forward(sgad_net *net, const sgad_tensor *x, sgad_tensor *y);

/** @return the output of the last forward, owned by the net and valid until
 *  the next forward or sgad_net_free; NULL before the first forward. */
SGAD_API const sgad_tensor *sgad_net_output(const sgad_net *net);

/** Back-propagates dy (the output's shape) through the last forward, adding
 *  into every parameter gradient. Writes the input gradient into dx, or
 *  skips it if dx is NULL. SGAD_E_STATE before a forward, SGAD_E_SHAPE if
 *  dy or dx has the wrong shape, SGAD_E_INVALID_ARG if dx overlaps dy. */
SGAD_API sgad_status sgad_net_backward(sgad_net *net, const sgad_tensor *dy, sgad_tensor *dx);

/** Sets every parameter gradient to zero. NULL is a no-op. */
SGAD_API void sgad_net_zero_grad(sgad_net *net);

/** Training (1) or evaluation (0) mode for every layer. */
SGAD_API sgad_status sgad_net_set_training(sgad_net *net, int training);

/** @return the number of parameters and buffers over all layers. */
SGAD_API int sgad_net_param_count(const sgad_net *net);

/** Reads parameter i in layer order. Any output may be NULL. name is
 *  "<layer index>.<param name>", owned by the net. value and grad are as in
 *  sgad_layer_param. */
SGAD_API sgad_status sgad_net_param(sgad_net *net, int i, const char **name, sgad_tensor **value,
                                    sgad_tensor **grad);

/** Firing rate of layer i in the last forward (see sgad_layer_firing_rate). */
SGAD_API sgad_status sgad_net_firing_rate(const sgad_net *net, int layer, double *rate);

/** Writes the shape of layer i's output in the last forward (i = -1: the
 *  net's input) into ndim and dims (SGAD_MAX_DIMS entries). SGAD_E_STATE
 *  before a forward. */
SGAD_API sgad_status sgad_net_activation_dims(const sgad_net *net, int layer, int *ndim,
                                              int64_t *dims);

/** Copies layer i's output of the last forward (i = -1: the net's input)
 *  into dst, which must hold exactly as many values (any shape): for
 *  inspecting what a layer computed, e.g. a discriminator's activations.
 *  In training mode a net does not keep outputs that no backward pass reads
 *  (e.g. spikes feeding a pooling layer, whose backward needs only the
 *  gradient) nor a batch norm's output read by a LIF or IF neuron (which
 *  recomputes it): for those this returns SGAD_E_STATE; a forward in
 *  evaluation mode keeps every output. */
SGAD_API sgad_status sgad_net_activation(const sgad_net *net, int layer, sgad_tensor *dst);

#ifdef __cplusplus
}
#endif

#endif /* SGAD_NET_H */
