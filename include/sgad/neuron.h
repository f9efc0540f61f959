/* SPDX-License-Identifier: MIT */
/** @file
 * libsgad: spiking neurons and input encoders.
 *
 * Neurons are layers (layer.h) over [T, N, ...]. Each element keeps a
 * membrane potential V that starts at v_reset (0 for soft reset) at t = 0 of
 * every forward. Per step t, with input X_t:
 *
 *   charge   H_t = V_{t-1} + (X_t - (V_{t-1} - v_reset)) / tau   LIF, decay_input = 1
 *            H_t = V_{t-1} - (V_{t-1} - v_reset) / tau + X_t     LIF, decay_input = 0
 *            H_t = V_{t-1} + X_t                                 IF
 *   fire     S_t = 1 if H_t > V_th else 0             (the layer's output)
 *   reset    V_t = H_t (1 - S_t) + v_reset S_t        hard reset
 *            V_t = H_t - V_th S_t                     soft reset
 *
 * With SGAD's defaults (tau 2, V_th 1, v_reset 0, hard, detached) this is
 * V = V + (X - V)/2, S = H(V - 1), V = V (1 - S): the paper's Eq. 2 and the
 * authors' LIFNode (which fires only strictly above the threshold). The
 * backward pass replaces dS/dH by a surrogate
 * g(H - V_th); "detached" reset means no gradient flows through S in the
 * reset equation.
 *
 * The MP node (membrane readout) charges like LIF without firing or reset
 * and outputs V_t itself: V_t = V_{t-1} + (X_t - V_{t-1}) / tau, V_{-1} = 0.
 *
 * Ownership, errors and threads are those of every layer (layer.h). */
#ifndef SGAD_NEURON_H
#define SGAD_NEURON_H

#include <stdint.h>

#include "context.h"
#include "export.h"
#include "layer.h"
#include "status.h"
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Surrogate derivatives g(u), u = H - V_th; each integrates to 1, and alpha
 *  sets the sharpness. Values are pinned. */
typedef enum sgad_surrogate {
    /** g = (alpha/2) / (1 + (pi/2 alpha u)^2); SGAD's, alpha 2 */
    SGAD_SURROGATE_ATAN = 0,
    /** g = alpha s (1 - s), s = 1/(1 + exp(-alpha u)); SpikingJelly uses alpha 4 */
    SGAD_SURROGATE_SIGMOID = 1,
    /** g = alpha max(0, 1 - alpha |u|): piecewise linear; alpha 1 is common */
    SGAD_SURROGATE_TRIANGLE = 2
} sgad_surrogate;

/** Reset after a spike. Values are pinned. */
typedef enum sgad_reset_mode {
    SGAD_RESET_HARD = 0, /**< V = v_reset */
    SGAD_RESET_SOFT = 1  /**< V = V - V_th */
} sgad_reset_mode;

/** Leaky integrate-and-fire neurons with SGAD's defaults. */
SGAD_API sgad_status sgad_lif_create(sgad_ctx *ctx, sgad_layer **out);

/** Integrate-and-fire neurons (no leak). */
SGAD_API sgad_status sgad_if_create(sgad_ctx *ctx, sgad_layer **out);

/** Membrane-potential readout node: leaky integration, no spikes. */
SGAD_API sgad_status sgad_mp_create(sgad_ctx *ctx, sgad_layer **out);

/** How a static input becomes T time steps. Values are pinned. */
typedef enum sgad_encoding {
    SGAD_ENCODE_DIRECT = 0, /**< the same value at every step (the paper's) */
    SGAD_ENCODE_RATE = 1,   /**< spike with probability x (x clipped to [0,1]), fresh each step */
    SGAD_ENCODE_TTFS = 2    /**< one spike of value 1/(i+1) at the step i where
                                 x T lies in (T-i-1, T-i]; none for x <= 0 */
} sgad_encoding;

/** Encodes x [N, ...] into y [T, N, ...] where T = y's first dimension.
 *  Rate coding draws from a counter-based generator keyed by seed, so the
 *  same seed gives the same spikes on every machine and thread count. */
SGAD_API sgad_status sgad_encode(sgad_ctx *ctx, sgad_encoding encoding, uint64_t seed,
                                 const sgad_tensor *x, sgad_tensor *y);

/** Gradient of direct encoding: dx [N, ...] = sum over t of dy [T, N, ...].
 *  SGAD_E_UNSUPPORTED for rate and ttfs, which have no gradient. */
SGAD_API sgad_status sgad_encode_backward(sgad_ctx *ctx, sgad_encoding encoding,
                                          const sgad_tensor *dy, sgad_tensor *dx);

#ifdef __cplusplus
}
#endif

#endif /* SGAD_NEURON_H */
