/* SPDX-License-Identifier: MIT */
/* sgad-eval's cache of feature classifiers, so that an evaluation without
 * --classifier is one command: the classifier is trained once per training
 * set and kept under $XDG_CACHE_HOME/sgad/ (default ~/.cache/sgad/).
 *
 * An entry is two files named by a key, classifier-KEY.safetensors (saved
 * by the library's crash-safe sgad_classifier_save) and classifier-KEY.key
 * (a text file written crash-safely too). KEY is the FNV-1a 64 hash of the
 * key text, which names the cache format, libsgad's version, the training
 * settings, and the FNV-1a 64 hashes and sizes of the training images' and
 * labels' bytes (a CIFAR-10 directory: each data_batch_*.bin's name and
 * bytes in name order). The .key file holds the key text and the hash of
 * the classifier file. An entry is used only if its .key file holds
 * exactly the key text, the classifier file's bytes hash to what it
 * records, and the library loads the classifier; anything else is a
 * damaged entry, retrained and replaced. FNV-1a is no defence against
 * someone forging a cache entry; it tells data sets apart and catches a
 * torn or mismatched pair of files. */
#ifndef SGAD_PROGRAMS_EVAL_CACHE_H
#define SGAD_PROGRAMS_EVAL_CACHE_H

#include <stddef.h>

#include <sgad/sgad.h>

/* What a cached classifier is trained on, and the settings that change
 * what training gives (part of the key). */
typedef struct eval_cache_request {
    const char *images; /* an IDX file, or CIFAR-10 (a .bin file or a directory) */
    const char *labels; /* IDX1 labels; NULL when the images carry them (CIFAR-10) */
    long long epochs, batch, seed;
} eval_cache_request;

/* Trains a classifier as the request says and saves it to path with
 * sgad_classifier_save; 0, or nonzero after a message on stderr. */
typedef int (*eval_cache_train)(void *user, const eval_cache_request *req, const char *path);

/* The labelled training split that goes with the real images `real`:
 * train_images (and train_labels) if given; else, by the data sets' own
 * file names, the training files beside `real` (MNIST and Fashion-MNIST:
 * t10k-images-idx3-ubyte[.gz] -> train-images-idx3-ubyte[.gz] and
 * train-labels-idx1-ubyte[.gz]; CIFAR-10: test_batch.bin -> its
 * directory's data_batch_*.bin); else `real` itself when it is labelled
 * (real_labels, or CIFAR-10), said on stderr. Writes the paths into
 * images and labels (labels "" when the images carry them); 0, or
 * nonzero after a message when there is no labelled split. */
int eval_cache_split(const char *real, const char *real_labels, const char *train_images,
                     const char *train_labels, char *images, char *labels, size_t cap);

/* Writes into path (cap bytes) the cached classifier for req, after
 * training and caching one with train() if the cache has none or a
 * damaged one; says on stderr which it did. 0, or nonzero after a
 * message. */
int eval_cache_classifier(sgad_ctx *ctx, const eval_cache_request *req, eval_cache_train train,
                          void *user, char *path, size_t cap);

#endif
