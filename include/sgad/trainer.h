/* SPDX-License-Identifier: MIT */
/** @file
 * libsgad: the WGAN-style trainer.
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
 * back bitwise and the call returns SGAD_E_NUMERIC naming the tensor.
 *
 * Settings (sgad_trainer_set, see sgad_option in layer.h):
 *   SGAD_OPT_N_CRITIC         G is updated on every n-th iteration only
 *                             (D on all), each on that iteration's z
 *   SGAD_OPT_CLIP             WGAN weight clipping of D (off: the paper
 *                             finds that clipping silences spiking critics)
 *   SGAD_OPT_EMA_DECAY        keep an exponential moving average of G's
 *                             parameters and batch-norm statistics, for
 *                             sampling with SGAD_SAMPLE_EMA
 *   SGAD_OPT_SCHEDULE*        scale both optimizers' learning rates by a
 *                             schedule over the iteration count (below)
 * Learning rates are set on the optimizers (sgad_trainer_optimizer); the
 * schedule multiplies them for each update and leaves them as set.
 *
 * Errors are reported through the trainer's context.
 *
 * Threads: an object is used by one thread at a time, together with the
 * context it was made from (context.h); objects of different contexts may
 * be used in parallel.
 * Hooks run on the thread that called sgad_trainer_step. */
#ifndef SGAD_TRAINER_H
#define SGAD_TRAINER_H

#include <stdint.h>

#include "context.h"
#include "export.h"
#include "layer.h"
#include "net.h"
#include "optim.h"
#include "preset.h"
#include "status.h"
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A trainer (opaque). Made by sgad_trainer_create[_preset] or
 *  sgad_checkpoint_create_trainer, freed by sgad_trainer_free. */
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
    SGAD_STAT_GRAD_NORM_G = 6, /**< L2 norm of all G gradients before its step */
    SGAD_STAT_G_UPDATED = 7,   /**< 1 if G was updated (see SGAD_OPT_N_CRITIC), else 0;
                                    LOSS_G and GRAD_NORM_G are from the last G update */
    SGAD_STAT_LR_D = 8,        /**< D's learning rate in this iteration, after the schedule */
    SGAD_STAT_LR_G = 9         /**< G's learning rate in this iteration, after the schedule */
} sgad_stat;

/** Learning-rate schedules, as a factor f on the optimizers' rates at
 *  position p = the iteration count rounded down to a multiple of the
 *  period, with L the schedule's length. Values are pinned.
 *  With period = iterations per epoch, they step as PyTorch's per-epoch
 *  schedulers do (CosineAnnealingLR, eta_min 0). */
typedef enum sgad_schedule {
    SGAD_SCHEDULE_CONSTANT = 0, /**< f = 1 */
    SGAD_SCHEDULE_COSINE = 1,   /**< f = (1 + cos(pi min(p, L) / L)) / 2 */
    SGAD_SCHEDULE_PAPER = 2     /**< the paper's: f = 1 for the first floor(L/2)
                                     iterations, then cosine over the rest */
} sgad_schedule;

/** Flags of sgad_trainer_sample_ex. */
typedef enum sgad_sample_flag {
    SGAD_SAMPLE_EMA = 1, /**< sample with G's moving average (SGAD_OPT_EMA_DECAY) */
    /** Normalise every batch norm of G with the statistics of the batch
     *  being sampled, step by step, as PyTorch's train mode (and so the
     *  authors' code, which never calls .eval()) does, instead of the
     *  running statistics. The running statistics do not move and G is
     *  left exactly as it was. A sample then depends on the other samples
     *  of its call: the same (latents, batch) give the same images, a
     *  different split of the same latents into calls does not. Needs at
     *  least 2 samples per call (SGAD_E_SHAPE otherwise). In a data-parallel
     *  run the statistics are this process's batch's alone. */
    SGAD_SAMPLE_BATCH_STATS = 2
} sgad_sample_flag;

/** Creates a trainer over a generator ([1, N, latent] -> images) and a
 *  discriminator (images -> [1, N, 1]), e.g. from sgad_preset_create. The
 *  nets are borrowed and must outlive the trainer. Each gets an optimizer
 *  of the given kind with PyTorch's defaults and lr 2e-4. The caller frees
 *  the trainer with sgad_trainer_free, before the nets. SGAD_E_INVALID_ARG
 *  for a NULL net, the same net twice, latent outside 1..4096 or an unknown
 *  loss; SGAD_E_NOMEM. */
SGAD_API sgad_status sgad_trainer_create(sgad_ctx *ctx, sgad_net *generator,
                                         sgad_net *discriminator, int latent, sgad_loss loss,
                                         sgad_optimizer_kind optimizer, sgad_trainer **out);

/** Creates a trainer over a preset's nets (sgad_preset_create with the same
 *  arguments), which the trainer owns and frees. Its checkpoints record
 *  the preset, so sgad_checkpoint_create_trainer can rebuild it. */
SGAD_API sgad_status sgad_trainer_create_preset(sgad_ctx *ctx, sgad_model model,
                                                sgad_image_shape shape, int steps, int latent,
                                                sgad_loss loss, sgad_optimizer_kind optimizer,
                                                sgad_trainer **out);

/** G (which = 0) or D (which = 1); NULL if out of range. */
SGAD_API sgad_net *sgad_trainer_net(const sgad_trainer *t, int which);

/** The preset a trainer was made with; SGAD_E_STATE for a trainer over
 *  caller-built nets. Any output pointer may be NULL. */
SGAD_API sgad_status sgad_trainer_preset(const sgad_trainer *t, sgad_model *model,
                                         sgad_image_shape *shape, int *steps, int *latent);

/** An epoch counter the trainer keeps for the caller and checkpoints save;
 *  it does not change what an iteration does. */
SGAD_API sgad_status sgad_trainer_set_epoch(sgad_trainer *t, int64_t epoch);
/** @return the epoch counter (0 if t is NULL). */
SGAD_API int64_t sgad_trainer_epoch(const sgad_trainer *t);

/** Frees the trainer and its optimizers (and the nets of a preset trainer;
 *  borrowed nets are left alone). NULL is a no-op. */
SGAD_API void sgad_trainer_free(sgad_trainer *t);

/** The optimizer of G (which = 0) or D (which = 1), owned by the trainer;
 *  set learning rates and other options on it. NULL if out of range. */
SGAD_API sgad_optimizer *sgad_trainer_optimizer(sgad_trainer *t, int which);

/** Sets a trainer option (SGAD_OPT_N_CRITIC ... SGAD_OPT_SCHEDULE_PERIOD).
 *  SGAD_E_INVALID_ARG if the value is out of bounds, SGAD_E_UNSUPPORTED for
 *  an option of layers or optimizers. Setting a non-zero EMA decay while the
 *  average is off starts it from G's current weights; 0 drops it. */
SGAD_API sgad_status sgad_trainer_set(sgad_trainer *t, sgad_option option, double value);

/** Reads a trainer option. */
SGAD_API sgad_status sgad_trainer_get(const sgad_trainer *t, sgad_option option, double *value);

/** Called once per update, after the gradients of `net` (G: which = 0, D:
 *  which = 1) are complete and before its optimizer step: the place to
 *  exchange gradients between processes (e.g. average them with
 *  MPI_Allreduce) or to inspect them. The hook may change the gradients
 *  (sgad_net_param); the figures and the non-finite check see the changed
 *  values. A status other than SGAD_OK aborts the iteration, which is then
 *  rolled back like a non-finite one and returns that status. */
typedef sgad_status (*sgad_grad_hook)(void *user, sgad_trainer *t, int which, sgad_net *net);

/** For data-parallel training: this process is shard `index` of `count`,
 *  each stepping on its slice of every global batch. The latents drawn
 *  without a z are then the matching slice of the global batch's latents,
 *  so `count` processes see the same z as one process with the whole
 *  batch. Default 0 of 1. With the gradient hook (averaging gradients) and
 *  the context's reduce hook (synchronised batch norm) the processes train
 *  one model; see docs/mpi.md. */
SGAD_API sgad_status sgad_trainer_set_shard(sgad_trainer *t, int index, int count);

/** Installs (or with NULL removes) the gradient hook. */
SGAD_API sgad_status sgad_trainer_set_grad_hook(sgad_trainer *t, sgad_grad_hook hook, void *user);

/** Seeds the latents drawn by sgad_trainer_step (standard normal from a
 *  counter-based generator keyed by seed and iteration). */
SGAD_API sgad_status sgad_trainer_set_seed(sgad_trainer *t, uint64_t seed);

/** The seed of the latents. Together with sgad_trainer_iterations it is
 *  the whole state of the trainer's random numbers (what a data-parallel
 *  run broadcasts at start). */
SGAD_API uint64_t sgad_trainer_seed(const sgad_trainer *t);

/** Runs one iteration on a batch of real images [N, C, H, W] in [0, 1].
 *  z [1, N, latent] may be NULL: it is then drawn from the trainer's seed.
 *  SGAD_E_SHAPE if real is not a batch of the generator's image size or z
 *  not [1, N, latent]; SGAD_E_NUMERIC for a non-finite gradient, or the
 *  status a gradient hook returned, after the rollback described above;
 *  SGAD_E_NOMEM. */
SGAD_API sgad_status sgad_trainer_step(sgad_trainer *t, const sgad_tensor *real,
                                       const sgad_tensor *z);

/** @return the number of completed iterations (0 if t is NULL). */
SGAD_API int64_t sgad_trainer_iterations(const sgad_trainer *t);

/** Reads a figure of the last completed iteration. SGAD_E_STATE before
 *  the first one, SGAD_E_INVALID_ARG for an unknown stat. */
SGAD_API sgad_status sgad_trainer_stat(const sgad_trainer *t, sgad_stat stat, double *value);

/** Firing rate of layer `layer` of G (which = 0) or D (which = 1) in the
 *  last iteration: G's from its last forward, D's the mean over its real
 *  and fake batches of the D update. SGAD_E_UNSUPPORTED for a layer that
 *  does not spike, SGAD_E_STATE before the first iteration. */
SGAD_API sgad_status sgad_trainer_firing_rate(const sgad_trainer *t, int which, int layer,
                                              double *rate);

/** Fills z (any shape, e.g. [1, N, latent]) with standard normal values
 *  that depend only on seed and the index: the same seed gives the same
 *  latents on every machine and thread count, for sampling from seeded
 *  latents (they never coincide with the trainer's own draws). */
SGAD_API sgad_status sgad_draw_latents(sgad_ctx *ctx, uint64_t seed, sgad_tensor *z);

/** Runs G in evaluation mode on z [1, N, latent] into images (G's output
 *  dimensions), then puts G back in training mode. G keeps only its output
 *  of this run (sgad_net_activation refuses the others with SGAD_E_STATE;
 *  run sgad_net_forward in evaluation mode to inspect them). */
SGAD_API sgad_status sgad_trainer_sample(sgad_trainer *t, const sgad_tensor *z,
                                         sgad_tensor *images);

/** As sgad_trainer_sample, with flags (sgad_sample_flag) and, for a
 *  generator that ends in an attention-scored decoder, the decoder's
 *  per-step inputs X_t into steps ([T, N, C, H, W] or any shape of that
 *  size) and their scores s_x into scores ([T, N]); either may be NULL.
 *  SGAD_E_STATE if steps or scores are asked of a generator without such a
 *  decoder, or SGAD_SAMPLE_EMA while the average is off. */
SGAD_API sgad_status sgad_trainer_sample_ex(sgad_trainer *t, const sgad_tensor *z,
                                            sgad_tensor *images, unsigned flags, sgad_tensor *steps,
                                            sgad_tensor *scores);

#ifdef __cplusplus
}
#endif

#endif /* SGAD_TRAINER_H */
