/* SPDX-License-Identifier: MIT */
/** @file
 * libsgad: training data and images.
 *
 * A dataset holds images as float32 [0, 1] in NCHW order on request, with
 * optional labels, and hands out shuffled batches: the order of an epoch is
 * a pure function of (seed, epoch), so a resumed run sees the same batches.
 *
 * Readers:
 *   SGAD_DATA_IDX     an IDX image file (MNIST, Fashion-MNIST), raw or gzip,
 *                     type 0x08, 3 dims; labels from an IDX1 file, 0..9
 *   SGAD_DATA_CIFAR10 a CIFAR-10 binary batch file (3073-byte records), or
 *                     a directory: all its data_batch_*.bin files
 *   SGAD_DATA_PNG     a directory of PNG images of one size (e.g. CelebA
 *                     64x64 crops), read as RGB; decoded batch by batch
 * Malformed input gives SGAD_E_FORMAT with a message naming the file and
 * the fault, never a crash: wrong magic, overflowing dimensions, truncated
 * or oversized payloads, truncated gzip, trailing bytes, labels out of
 * range, sizes that are not whole records, PNGs of another size.
 *
 * Threads: an object is used by one thread at a time, together with the
 * context it was made from (context.h); objects of different contexts may
 * be used in parallel. */
#ifndef SGAD_DATA_H
#define SGAD_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "context.h"
#include "export.h"
#include "status.h"
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A dataset (opaque). Made by sgad_dataset_open[_memory], freed by
 *  sgad_dataset_free. */
typedef struct sgad_dataset sgad_dataset;

/** Dataset formats. Values are pinned. */
typedef enum sgad_data_format {
    SGAD_DATA_IDX = 0,
    SGAD_DATA_CIFAR10 = 1,
    SGAD_DATA_PNG = 2
} sgad_data_format;

/** Opens a dataset. labels may be NULL (IDX only: an IDX1 label file;
 *  CIFAR-10 carries its labels, PNG folders have none). */
SGAD_API sgad_status sgad_dataset_open(sgad_ctx *ctx, sgad_data_format format, const char *path,
                                       const char *labels, sgad_dataset **out);

/** Opens a dataset from one file's bytes in memory (IDX, raw or gzip;
 *  CIFAR-10; PNG: a single image). labels/labels_size may be NULL/0. The
 *  bytes are copied. */
SGAD_API sgad_status sgad_dataset_open_memory(sgad_ctx *ctx, sgad_data_format format,
                                              const void *data, size_t size, const void *labels,
                                              size_t labels_size, sgad_dataset **out);

/** Frees a dataset. NULL is a no-op. */
SGAD_API void sgad_dataset_free(sgad_dataset *d);

/** Number of images (0 if d is NULL). */
SGAD_API int64_t sgad_dataset_count(const sgad_dataset *d);

/** Channels, height and width of every image. Any pointer may be NULL. */
SGAD_API sgad_status sgad_dataset_image_dims(const sgad_dataset *d, int64_t *channels,
                                             int64_t *height, int64_t *width);

/** Label of image i, or -1 for a dataset without labels. */
SGAD_API sgad_status sgad_dataset_label(const sgad_dataset *d, int64_t i, int *label);

/** Number of whole batches of size batch in an epoch (the rest is left
 *  out, a different rest each epoch). */
SGAD_API int64_t sgad_dataset_batches(const sgad_dataset *d, int64_t batch);

/** Fills images [B, C, H, W] (B = its first dimension) with batch `index`
 *  of epoch `epoch` in the shuffled order of (seed, epoch), and labels (B
 *  ints, may be NULL) with theirs (-1 without labels). */
SGAD_API sgad_status sgad_dataset_batch(sgad_dataset *d, uint64_t seed, int64_t epoch,
                                        int64_t index, sgad_tensor *images, int *labels);

/** Copies images first .. first+B-1 in file order into images [B, C, H, W]. */
SGAD_API sgad_status sgad_dataset_read(sgad_dataset *d, int64_t first, sgad_tensor *images);

/** Writes images ([N, C, H, W] or [1, N, C, H, W], values clamped to
 *  [0, 1], C = 1 or 3) as a rows x cols grid PNG with a 2-pixel gap,
 *  crash-safely (temporary file, fsync, rename). N may be less than
 *  rows * cols; the rest stays black. */
SGAD_API sgad_status sgad_image_write_grid(sgad_ctx *ctx, const char *path,
                                           const sgad_tensor *images, int rows, int cols);

/** Writes images ([N, C, H, W] or [1, N, C, H, W], clamped to [0, 1]) as
 *  an IDX file of unsigned bytes, crash-safely: [N, H, W] for C = 1 (the
 *  MNIST format), [N, C, H, W] otherwise. */
SGAD_API sgad_status sgad_image_write_idx(sgad_ctx *ctx, const char *path,
                                          const sgad_tensor *images);

/** Writes one sample's per-step decoder inputs as a strip PNG (the paper's
 *  Fig. 5): steps is [T, N, C, H, W], scores [T, N] (NULL for none); frame
 *  t shows X_t of sample n with a bar under it as long as its score s_x.
 *  The scores also go into a tEXt chunk "scores". */
SGAD_API sgad_status sgad_image_write_strip(sgad_ctx *ctx, const char *path,
                                            const sgad_tensor *steps, const sgad_tensor *scores,
                                            int64_t sample);

#ifdef __cplusplus
}
#endif

#endif /* SGAD_DATA_H */
