/* libsgad: the WGAN-style trainer.
 *
 * One call runs one iteration as the SGAD authors do: a discriminator
 * update, then a generator update on the same latent z. With the EM loss
 * (SWGAN, SGAD) D minimises mean D(real) - mean D(fake) and G minimises
 * mean D(fake); with the minimax loss (SGAN, hybrid) D outputs a
 * probability, D minimises BCE(real -> 1, fake -> 0) and G minimises
 * BCE(fake -> 1). Both nets stay in training mode, so their batch norms
 * use batch statistics: D sees the real and the fake batch in separate
 * forwards, and G runs twice per iteration with the same z.
 *
 * An iteration is all or nothing: if any gradient of either update is not
 * finite, every parameter, buffer and optimizer state of both nets is put
 * back bitwise and the call returns SGAD_E_NUMERIC naming the tensor. */
#ifndef SGAD_TRAINER_H
#define SGAD_TRAINER_H

#include <stdint.h>

#include "context.h"
#include "export.h"
#include "layer.h"
#include "net.h"
#include "optim.h"
#include "status.h"
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sgad_trainer sgad_trainer;

/** Losses. Values are pinned. */
typedef enum sgad_loss {
    SGAD_LOSS_EM = 0,     /**< Wasserstein critic, no clipping */
    SGAD_LOSS_MINIMAX = 1 /**< binary cross-entropy on D's probability */
} sgad_loss;

/** Figures of the last iteration. Values are pinned. */
typedef enum sgad_stat {
    SGAD_STAT_D_REAL = 0,      /**< mean D(real) */
    SGAD_STAT_D_FAKE = 1,      /**< mean D(fake) in the D update */
    SGAD_STAT_WASSERSTEIN = 2, /**< EM: mean D(fake) - mean D(real), the critic's estimate */
    SGAD_STAT_LOSS_D = 3,
    SGAD_STAT_LOSS_G = 4,
    SGAD_STAT_GRAD_NORM_D = 5, /**< L2 norm of all D gradients before its step */
    SGAD_STAT_GRAD_NORM_G = 6  /**< L2 norm of all G gradients before its step */
} sgad_stat;

/** Creates a trainer over a generator ([1, N, latent] -> images) and a
 *  discriminator (images -> [1, N, 1]), e.g. from sgad_preset_create. The
 *  nets are borrowed and must outlive the trainer. Each gets an optimizer
 *  of the given kind with PyTorch's defaults and lr 2e-4. */
SGAD_API sgad_status sgad_trainer_create(sgad_ctx *ctx, sgad_net *generator,
                                         sgad_net *discriminator, int latent, sgad_loss loss,
                                         sgad_optimizer_kind optimizer, sgad_trainer **out);

/** Frees the trainer and its optimizers (not the nets). NULL is a no-op. */
SGAD_API void sgad_trainer_free(sgad_trainer *t);

/** The optimizer of G (which = 0) or D (which = 1), owned by the trainer;
 *  set learning rates and other options on it. NULL if out of range. */
SGAD_API sgad_optimizer *sgad_trainer_optimizer(sgad_trainer *t, int which);

/** Seeds the latents drawn by sgad_trainer_step (standard normal from a
 *  counter-based generator keyed by seed and iteration). */
SGAD_API sgad_status sgad_trainer_set_seed(sgad_trainer *t, uint64_t seed);

/** Runs one iteration on a batch of real images [N, C, H, W] in [0, 1].
 *  z [1, N, latent] may be NULL: it is then drawn from the trainer's seed. */
SGAD_API sgad_status sgad_trainer_step(sgad_trainer *t, const sgad_tensor *real,
                                       const sgad_tensor *z);

/** @return the number of completed iterations (0 if t is NULL). */
SGAD_API int64_t sgad_trainer_iterations(const sgad_trainer *t);

/** Reads a figure of the last completed iteration. */
SGAD_API sgad_status sgad_trainer_stat(const sgad_trainer *t, sgad_stat stat, double *value);

/** Runs G in evaluation mode on z [1, N, latent] into images (G's output
 *  dimensions), then puts G back in training mode. */
SGAD_API sgad_status sgad_trainer_sample(sgad_trainer *t, const sgad_tensor *z,
                                         sgad_tensor *images);

#ifdef __cplusplus
}
#endif

#endif /* SGAD_TRAINER_H */
