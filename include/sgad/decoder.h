/* SPDX-License-Identifier: MIT */
/** @file
 * libsgad: decoders that turn a generator's T outputs into one image.
 *
 * A decoder is a layer (layer.h) from [T, N, ...] to [1, N, ...]: it folds
 * the time axis away. The attention-scored membrane decoder is the SGAD
 * paper's contribution (Eq. 6). With X_t the input at step t (a sample
 * flattened to D values) and V its state:
 *
 *   V_0 = X_0
 *   for t >= 1:  q   = W_q phi(V_{t-1}) + b_q
 *                k_v = W_k phi(V_{t-1}) + b_k,   k_x = W_kx phi(X_t) + b_kx
 *                [s_v, s_x] = softmax([q.k_v, q.k_x] / sqrt(hidden))
 *                V_t = s_v V_{t-1} + s_x X_t
 *   output V_{T-1}
 *
 * s_x plays the role of 1/tau in a leaky membrane, chosen per sample and
 * per step by attention. By default the two keys share one map (W_kx = W_k,
 * as in the authors' code); the paper's text names two. phi is the
 * identity, or for RGB images a shared Linear(D -> down) + ReLU applied to
 * both V and X (the authors use down = 1024).
 *
 * Ownership, errors and threads are those of every layer (layer.h). */
#ifndef SGAD_DECODER_H
#define SGAD_DECODER_H

#include <stdint.h>

#include "context.h"
#include "export.h"
#include "layer.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Creates an attention-scored membrane decoder.
 *  @param features      D, the values per sample of its input (C*H*W)
 *  @param hidden        query/key size (the paper's 256)
 *  @param down          0, or the width of the shared Linear+ReLU map that
 *                       queries and keys see (1024 for RGB images)
 *  @param separate_keys 0: one key map for V and X (default); 1: two
 *  Parameters, PyTorch layouts, initialised as nn.Linear does:
 *  "query.weight" [hidden, d], "query.bias", "key.weight", "key.bias",
 *  with separate keys "key_x.weight", "key_x.bias", and with down
 *  "down.weight" [down, D], "down.bias", where d = down or D. */
SGAD_API sgad_status sgad_attention_decoder_create(sgad_ctx *ctx, int64_t features, int64_t hidden,
                                                   int64_t down, int separate_keys,
                                                   sgad_layer **out);

/** Copies the input scores s_x of the last forward, [T, N] in time-major
 *  order, into scores (count >= T*N floats). s_x at t = 0 is 1, since V_0 =
 *  X_0. These are the per-step weights the paper's Fig. 5 shows. */
SGAD_API sgad_status sgad_attention_decoder_scores(const sgad_layer *decoder, float *scores,
                                                   int64_t count);

#ifdef __cplusplus
}
#endif

#endif /* SGAD_DECODER_H */
