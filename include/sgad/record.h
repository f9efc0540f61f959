/* SPDX-License-Identifier: MIT */
/** @file
 * libsgad: recording a net's layers over a set of stimuli, as matrices
 * [stimuli x units] for the similarity measures (similarity.h; the paper's
 * Section 5.4 records a discriminator's layers over natural images).
 *
 * The net runs in evaluation mode (batch norms use their running
 * statistics, so a stimulus's response does not depend on its batch), one
 * batch of stimuli at a time, through sgad_net_forward; each listed
 * layer's output (sgad_net_activation) is averaged over its T time steps.
 * Each layer's mode is put back afterwards, whatever happens.
 *
 * What a row holds, per mode (sgad_record_mode):
 *   output mean  a LIF or IF neuron's firing rate per unit (spikes per step,
 *                in [0, 1]); for other layers their mean output (the
 *                hybrid's LeakyReLU, whose net has a single step)
 *   input mean   the mean over T of what enters the layer: for a neuron,
 *                its input current (the batch norm's output before it).
 *                This is not the membrane potential: the net keeps no
 *                membrane trace (the neuron's backward recomputes it), and
 *                the membrane is a leaky, reset-interrupted integral of
 *                this current, not something recording can read.
 * Units are the layer's values per stimulus per step in row-major order
 * (channel, then row, then column for a convolution's maps).
 *
 * Errors are reported through the context of the net's layers.
 *
 * Threads: as the net's (net.h). */
#ifndef SGAD_RECORD_H
#define SGAD_RECORD_H

#include <stdint.h>

#include "export.h"
#include "net.h"
#include "status.h"
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/** What sgad_record writes per layer. Values are pinned. */
typedef enum sgad_record_mode {
    SGAD_RECORD_OUTPUT_MEAN = 0, /**< the layer's output averaged over T (firing rates) */
    SGAD_RECORD_INPUT_MEAN = 1   /**< the layer's input averaged over T (input current) */
} sgad_record_mode;

/** The number of units layer `layer` records per stimulus: the product of
 *  its output's (or, for SGAD_RECORD_INPUT_MEAN, its input's) dimensions
 *  after [T, N], for stimuli of the given per-stimulus dimensions (e.g.
 *  {1, 28, 28} for a 28x28 discriminator, {latent} for a generator).
 *  @return SGAD_OK; SGAD_E_INVALID_ARG for a NULL pointer, a layer out of
 *  range, sample_ndim outside 1..SGAD_MAX_DIMS - 2 or an unknown mode;
 *  SGAD_E_SHAPE if a layer rejects the shape (the message names it). */
SGAD_API sgad_status sgad_record_units(const sgad_net *net, int sample_ndim,
                                       const int64_t *sample_dims, int layer, sgad_record_mode mode,
                                       int64_t *units);

/** Records layers of net over stimuli.
 *  @param stimuli [N, ...]: N stimuli of one shape; batch b of them is fed
 *  to the net as [1, b, ...] (a preset discriminator repeats it over its T
 *  steps; a generator takes latents [N, latent]).
 *  @param batch stimuli per forward, >= 1 (the last batch may be smaller).
 *  It changes no value: evaluation mode treats stimuli independently.
 *  @param layers count layer indices (0 .. layers - 1, repeats allowed).
 *  @param out out[k] receives N x units_k floats, row-major (row i is
 *  stimulus i; units_k as sgad_record_units says), caller-owned.
 *  @return SGAD_OK; SGAD_E_INVALID_ARG (NULL pointers, batch < 1, count <
 *  1, a layer out of range, an unknown mode); SGAD_E_SHAPE (stimuli of
 *  fewer than 2 dimensions, or of a shape the net rejects); SGAD_E_NOMEM;
 *  any error of the forward pass. On failure out may be partly written. */
SGAD_API sgad_status sgad_record(sgad_net *net, const sgad_tensor *stimuli, int64_t batch,
                                 sgad_record_mode mode, int count, const int *layers,
                                 float *const *out);

#ifdef __cplusplus
}
#endif

#endif /* SGAD_RECORD_H */
