/* SPDX-License-Identifier: MIT */
/** @file
 * libsgad: the paper's four models (Table 1) as ready-made nets.
 *
 * Each preset is assembled from the public layer and net API only, so a
 * user can build variants the same way (see src/preset.c). Shapes:
 *   generator      [1, N, latent] -> [1, N, C, H, W], images in [0, 1]
 *                  (SGAN: [T, N, C, H, W] spikes, all T steps go to D)
 *   discriminator  [1, N, C, H, W] -> [1, N, 1] score
 *                  (SGAN: takes [T, N, C, H, W]; direct-encode real images)
 * Generators repeat the latent over T steps (direct encoding); spiking
 * discriminators repeat the image and score with the final membrane / T.
 *
 *   SGAD    G: sigmoid + attention-scored decoder (RGB: shared 1024 map); D: spiking conv
 *   SWGAN   G: MP node, image = sigmoid(final membrane / T);            D: spiking conv
 *   SGAN    G: final LIF layer (spikes); D: MLP 784-400 LIF-1 MP, sigmoid(membrane / T)
 *   HYBRID  G: as SWGAN; D: the conv D with LeakyReLU(0.2) instead of LIF,
 *           sigmoid output, no time steps
 * The layer sizes are those of the authors' code (../docs/design.md).
 *
 * Errors are reported through the context; the name functions may be
 * called from any thread. */
#ifndef SGAD_PRESET_H
#define SGAD_PRESET_H

#include "context.h"
#include "export.h"
#include "net.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The paper's models. Values are pinned. */
typedef enum sgad_model {
    SGAD_MODEL_SGAN = 0,
    SGAD_MODEL_SWGAN = 1,
    SGAD_MODEL_SGAD = 2,
    SGAD_MODEL_HYBRID = 3
} sgad_model;

/** Image shapes. Values are pinned. */
typedef enum sgad_image_shape {
    SGAD_SHAPE_28X28X1 = 0, /**< MNIST, Fashion-MNIST */
    SGAD_SHAPE_32X32X3 = 1, /**< CIFAR-10 */
    SGAD_SHAPE_64X64X3 = 2  /**< CelebA crops */
} sgad_image_shape;

/** Builds a generator and a discriminator.
 *  @param steps   time steps T, 1..1024, or 0 for the paper's 16
 *  @param latent  latent size, 1..4096, or 0 for the paper's: 15 for 28x28
 *                 (Fashion-MNIST) and 32x32, 20 for 64x64, 100 for SGAN
 *  Both nets are owned by the caller; on failure neither is made. */
SGAD_API sgad_status sgad_preset_create(sgad_ctx *ctx, sgad_model model, sgad_image_shape shape,
                                        int steps, int latent, sgad_net **generator,
                                        sgad_net **discriminator);

/** @return the model's name ("sgan", "swgan", "sgad", "hybrid"), static;
 *  "unknown" out of range. */
SGAD_API const char *sgad_model_name(sgad_model model);

/** The model a name denotes, the inverse of sgad_model_name: "sgan",
 *  "swgan", "sgad" or "hybrid", compared case-sensitively.
 *  @return SGAD_OK with *out set; SGAD_E_INVALID_ARG if name or out is
 *          NULL or the name is none of these, *out then unchanged. */
SGAD_API sgad_status sgad_model_from_name(const char *name, sgad_model *out);

/** @return the shape's name ("28x28x1", "32x32x3", "64x64x3"), static;
 *  "unknown" out of range. */
SGAD_API const char *sgad_image_shape_name(sgad_image_shape shape);

#ifdef __cplusplus
}
#endif

#endif /* SGAD_PRESET_H */
