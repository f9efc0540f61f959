/* SPDX-License-Identifier: MIT */
/** @file
 * libsgad: optimizers over a net's trainable parameters.
 *
 * Semantics are PyTorch's, step for step in float32:
 *   RMSprop (no momentum, not centered; SGAD's choice):
 *     s = alpha s + (1 - alpha) g^2;  p -= lr g / (sqrt(s) + eps)
 *   Adam: m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  t += 1
 *     p -= (lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * with g = grad + weight_decay * p. Options (layer.h): SGAD_OPT_LR,
 * SGAD_OPT_RMSPROP_ALPHA, SGAD_OPT_EPS, SGAD_OPT_ADAM_BETA1/BETA2,
 * SGAD_OPT_WEIGHT_DECAY. Errors are reported through the optimizer's
 * context.
 *
 * Threads: an object is used by one thread at a time, together with the
 * context it was made from (context.h); objects of different contexts may
 * be used in parallel. */
#ifndef SGAD_OPTIM_H
#define SGAD_OPTIM_H

#include <stdint.h>

#include "context.h"
#include "export.h"
#include "layer.h"
#include "net.h"
#include "status.h"
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An optimizer (opaque). Made by sgad_optimizer_create, freed by
 *  sgad_optimizer_free; a trainer owns the two it makes. */
typedef struct sgad_optimizer sgad_optimizer;

/** Kinds of optimizer. Values are pinned. */
typedef enum sgad_optimizer_kind {
    SGAD_OPTIMIZER_RMSPROP = 0, /**< lr 2e-4, alpha 0.99, eps 1e-8 (SGAD's) */
    SGAD_OPTIMIZER_ADAM = 1     /**< lr 2e-4, betas 0.9 / 0.999, eps 1e-8 */
} sgad_optimizer_kind;

/** Creates an optimizer for every trainable parameter the net has now.
 *  The net is borrowed: it must outlive the optimizer and keep its layers. */
SGAD_API sgad_status sgad_optimizer_create(sgad_ctx *ctx, sgad_optimizer_kind kind, sgad_net *net,
                                           sgad_optimizer **out);

/** Frees the optimizer (not the net). NULL is a no-op. */
SGAD_API void sgad_optimizer_free(sgad_optimizer *opt);

/** The optimizer's kind (RMSprop if opt is NULL). */
SGAD_API sgad_optimizer_kind sgad_optimizer_get_kind(const sgad_optimizer *opt);

/** Sets an option (sgad_option: SGAD_OPT_LR .. SGAD_OPT_WEIGHT_DECAY).
 *  SGAD_E_INVALID_ARG out of bounds (sgad_option_bounds), SGAD_E_UNSUPPORTED
 *  for another kind's option (Adam's betas on RMSprop). */
SGAD_API sgad_status sgad_optimizer_set(sgad_optimizer *opt, sgad_option option, double value);
/** Reads an option into *value; errors as sgad_optimizer_set. */
SGAD_API sgad_status sgad_optimizer_get(const sgad_optimizer *opt, sgad_option option,
                                        double *value);

/** Updates every parameter from its gradient. All gradients are checked
 *  first: a NaN or infinity refuses the whole step with SGAD_E_NUMERIC and
 *  a message naming the parameter and index, leaving every parameter and
 *  the optimizer state bitwise unchanged. */
SGAD_API sgad_status sgad_optimizer_step(sgad_optimizer *opt);

/** @return the number of steps taken (0 if opt is NULL). */
SGAD_API int64_t sgad_optimizer_steps(const sgad_optimizer *opt);

/** @return how many state tensors the optimizer keeps (0 if NULL). */
SGAD_API int sgad_optimizer_state_count(const sgad_optimizer *opt);

/** Reads state tensor i, e.g. "0.weight.square_avg", owned by the optimizer
 *  (write to it to restore a saved state). */
SGAD_API sgad_status sgad_optimizer_state(sgad_optimizer *opt, int i, const char **name,
                                          sgad_tensor **value);

#ifdef __cplusplus
}
#endif

#endif /* SGAD_OPTIM_H */
