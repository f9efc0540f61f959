/* SPDX-License-Identifier: MIT */
/* Internals of the feature classifier (classifier.h), shared by:
 *   classifier.c        the net, checking inputs, running it, accuracy
 *   classifier_train.c  cross-entropy and the training steps
 *   classifier_io.c     saving and loading
 * Calls go one way: classifier_train.c and classifier_io.c use
 * classifier.c, which uses neither, so the input checks both running and
 * training need live in classifier.c. */
#ifndef SGAD_CLASSIFIER_IMPL_H
#define SGAD_CLASSIFIER_IMPL_H

#include "core/internal.h"

/* Layer 12 (a reshape to [T, N, 64]) outputs the features; layer 13 (the
 * linear) the logits. */
#define SGAD__CLS_FEATURES 64
#define SGAD__CLS_FEATURE_LAYER 12

struct sgad_classifier {
    sgad_ctx *ctx;
    int64_t channels, size;
    int classes;
    sgad_net *net;
    sgad_optimizer *opt;
    float *dlogits; /* B x classes, grown as needed */
    int64_t dlogits_cap;
};

/* Helpers of classifier.c the other two files use. */

/* Images as [1, B, C, H, W] (a view of the caller's tensor), checked
 * against the classifier's image size; *batch receives B. */
sgad_status sgad__classifier_images(sgad_classifier *c, const char *fn, const sgad_tensor *images,
                                    sgad_tensor **view, int64_t *batch);

/* Checks that d is labelled and holds the classifier's images, that batch
 * is in [1, 65536], and that *count (0: all) is within d; sets *count. */
sgad_status sgad__classifier_dataset(sgad_classifier *c, const char *fn, sgad_dataset *d,
                                     int64_t *count, int64_t batch);

/* The index of the largest of n values (the first on ties). */
int sgad__argmax(const float *v, int n);

#endif /* SGAD_CLASSIFIER_IMPL_H */
