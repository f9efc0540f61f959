/* SPDX-License-Identifier: MIT */
/** @file
 * libsgad: a small image classifier whose features judge generated images.
 *
 * The classifier is an ordinary (non-spiking) convolutional net built from
 * libsgad's own layers, for square images of 1 or 3 channels (28x28x1
 * Fashion-MNIST/MNIST, 32x32x3 CIFAR-10):
 *
 * @verbatim
 *   3 x [conv 3x3 (16, 32, 64 channels) - batch norm - leaky ReLU 0.2]
 *       with a 2x2 average pool after the first two and a global average
 *       pool after the third
 *   -> 64 features (sgad_classifier_run's features)
 *   -> linear -> class logits (its labels: the largest logit)
 * @endverbatim
 *
 * It is trained with softmax cross-entropy and Adam (lr 1e-3; change it
 * through sgad_classifier_optimizer). Its penultimate features feed the
 * Fréchet distance (metrics.h) and its labels the class statistics of
 * generated images (sgad-eval(1), docs/metrics.md). It is not Inception:
 * distances from it are comparable with each other, not with published FID.
 *
 * Images are float [0, 1] as sgad_dataset hands them out and generators
 * emit them: [N, C, H, W] or [1, N, C, H, W].
 *
 * A classifier is saved in the checkpoint format of checkpoint.h (crash-
 * safe, with a checksum): tensors "C.<layer>.<name>" (parameters and
 * batch-norm statistics) and metadata kind "classifier", channels, size,
 * classes, features. sgad_checkpoint_read and sgad-inspect read it too.
 *
 * Errors (with a message in the context): SGAD_E_INVALID_ARG for NULL
 * pointers, values out of range and labels outside [0, classes);
 * SGAD_E_SHAPE for images of another size; SGAD_E_NUMERIC if a step meets a
 * non-finite gradient (the step is refused, nothing changes); SGAD_E_IO,
 * SGAD_E_FORMAT (damaged file or not a classifier) from saving and loading;
 * SGAD_E_NOMEM.
 *
 * Threads: an object is used by one thread at a time, together with the
 * context it was made from (context.h); objects of different contexts may
 * be used in parallel. The context's thread count is used by every call. */
#ifndef SGAD_CLASSIFIER_H
#define SGAD_CLASSIFIER_H

#include <stdint.h>

#include "context.h"
#include "data.h"
#include "export.h"
#include "optim.h"
#include "status.h"
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A classifier (opaque). Made by sgad_classifier_create or
 *  sgad_classifier_load, freed by sgad_classifier_free. */
typedef struct sgad_classifier sgad_classifier;

/** Creates an untrained classifier (weights drawn from the context's seed)
 *  for images of channels x size x size.
 *  @param channels 1 or 3. @param size a multiple of 4 in [8, 256].
 *  @param classes 2..1000.
 *  @param out receives the classifier; the caller frees it.
 *  @return SGAD_OK, SGAD_E_INVALID_ARG, SGAD_E_NOMEM. */
SGAD_API sgad_status sgad_classifier_create(sgad_ctx *ctx, int64_t channels, int64_t size,
                                            int classes, sgad_classifier **out);

/** Frees the classifier. NULL is a no-op. */
SGAD_API void sgad_classifier_free(sgad_classifier *c);

/** @return the number of features per image (64), or 0 if c is NULL. */
SGAD_API int64_t sgad_classifier_feature_dim(const sgad_classifier *c);

/** @return the number of classes, or 0 if c is NULL. */
SGAD_API int sgad_classifier_classes(const sgad_classifier *c);

/** Writes the image dimensions the classifier takes; any pointer may be
 *  NULL. SGAD_E_INVALID_ARG if c is NULL. */
SGAD_API sgad_status sgad_classifier_image_dims(const sgad_classifier *c, int64_t *channels,
                                                int64_t *height, int64_t *width);

/** @return the classifier's Adam optimizer, owned by the classifier (set
 *  SGAD_OPT_LR etc. with sgad_optimizer_set), or NULL if c is NULL. */
SGAD_API sgad_optimizer *sgad_classifier_optimizer(sgad_classifier *c);

/** Mean softmax cross-entropy of logits [..., K] (every row of K values is
 *  one sample) against labels (one per row, in [0, K)), in double:
 *  loss = mean over rows of log(sum_k exp(z_k)) - z_label. If dlogits is not
 *  NULL (the logits' shape) it receives d loss / d logits =
 *  (softmax(z) - onehot(label)) / rows.
 *  @return SGAD_OK; SGAD_E_INVALID_ARG (NULL, a label out of range, K < 2),
 *  SGAD_E_SHAPE (dlogits' size), SGAD_E_NUMERIC (a non-finite logit). */
SGAD_API sgad_status sgad_cross_entropy(const sgad_tensor *logits, const int *labels,
                                        sgad_tensor *dlogits, double *loss);

/** One Adam step on a batch: forward in training mode, cross-entropy,
 *  backward, step. loss (mean over the batch) and correct (how many of
 *  the batch the forward labelled right) may be NULL.
 *  @param images [B, C, H, W] or [1, B, C, H, W], B >= 2 (batch norm).
 *  @param labels B labels in [0, classes). */
SGAD_API sgad_status sgad_classifier_train_batch(sgad_classifier *c, const sgad_tensor *images,
                                                 const int *labels, double *loss, int64_t *correct);

/** One pass over the first count images of a labelled dataset (count 0:
 *  all) in batches of batch, in an order that is a pure function of (seed,
 *  epoch); a last partial batch is used if it holds at least 2 images.
 *  loss and accuracy (means over the epoch's training batches) may be NULL.
 *  The epoch ends with a pass of forwards without steps over up to 32
 *  batches that re-estimates batch norm's running statistics (their plain
 *  average) for the final weights, which evaluation mode uses.
 *  SGAD_E_INVALID_ARG for a dataset without labels or of other images. */
SGAD_API sgad_status sgad_classifier_train_epoch(sgad_classifier *c, sgad_dataset *d, int64_t count,
                                                 int64_t batch, uint64_t seed, int64_t epoch,
                                                 double *loss, double *accuracy);

/** Runs the classifier in evaluation mode (batch norm's running
 *  statistics). features ([B, F] or [1, B, F], F = feature_dim) and labels
 *  (B ints: the most likely class) may each be NULL; a batch of one image
 *  is fine. */
SGAD_API sgad_status sgad_classifier_run(sgad_classifier *c, const sgad_tensor *images,
                                         sgad_tensor *features, int *labels);

/** The share of the first count images (0: all) of a labelled dataset that
 *  the classifier labels right, in evaluation mode, batch images at a time. */
SGAD_API sgad_status sgad_classifier_accuracy(sgad_classifier *c, sgad_dataset *d, int64_t count,
                                              int64_t batch, double *accuracy);

/** Saves the classifier's parameters and batch-norm statistics to path,
 *  crash-safely (checkpoint.h); SGAD_E_NUMERIC if any value is not finite. */
SGAD_API sgad_status sgad_classifier_save(sgad_classifier *c, const char *path);

/** Builds a classifier from a file sgad_classifier_save wrote. A damaged
 *  file (checksum), a checkpoint of something else, or tensors of the wrong
 *  names or shapes give SGAD_E_FORMAT with a message saying which. */
SGAD_API sgad_status sgad_classifier_load(sgad_ctx *ctx, const char *path, sgad_classifier **out);

#ifdef __cplusplus
}
#endif

#endif /* SGAD_CLASSIFIER_H */
