/* SPDX-License-Identifier: MIT */
/* Internals of datasets and images (data.h):
 *   dataset.c     the handle, shuffled batches
 *   data_idx.c    IDX files, raw or gzip (inflated in memory with a cap)
 *   data_cifar.c  CIFAR-10 binary batches
 *   data_png.c    PNG decoding (libpng, errors caught inside) and folders
 *   image_out.c   PNG grids and per-step strips */
#ifndef SGAD_DATA_IMPL_H
#define SGAD_DATA_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "core/internal.h"

#define SGAD__DATA_MAX_FILE ((size_t)2 << 30) /* bytes of one input file or payload */
#define SGAD__DATA_MAX_IMAGES ((int64_t)1 << 26)
#define SGAD__DATA_MAX_SIDE 4096 /* pixels per side of an image */

struct sgad_dataset {
    sgad_ctx *ctx;
    sgad_data_format format;
    int64_t count, c, h, w;
    unsigned char *pixels; /* count x c x h x w bytes (IDX, CIFAR, one PNG) */
    int *labels;           /* count, or NULL */
    char **files;          /* PNG folders: count paths, decoded per batch */
    uint32_t *order;       /* the shuffled order of (order_seed, order_epoch) */
    uint64_t order_seed;
    int64_t order_epoch;
    int has_order;
};

/* Each reader fills d->count, c, h, w, pixels (and labels) from a file's
 * bytes; name is used in messages. */
sgad_status sgad__idx_load(sgad_dataset *d, const char *name, const unsigned char *data,
                           size_t size, const char *label_name, const unsigned char *labels,
                           size_t labels_size);
sgad_status sgad__cifar_load(sgad_dataset *d, const char *name, const unsigned char *data,
                             size_t size);
/* Decodes a PNG into 8-bit RGB (3 x h x w, planar) in *out (sgad__alloc);
 * want_w/want_h > 0 demand that size. */
sgad_status sgad__png_decode(sgad_ctx *ctx, const char *name, const unsigned char *data,
                             size_t size, int64_t want_w, int64_t want_h, unsigned char **out,
                             int64_t *w, int64_t *h);
/* Lists the PNG files of dir (sorted) into d->files and sets the size from
 * the first one. */
sgad_status sgad__png_folder(sgad_dataset *d, const char *dir);
/* Decodes PNG file i of a folder dataset into 3 x h x w bytes. */
sgad_status sgad__png_folder_image(sgad_dataset *d, int64_t i, unsigned char *out);

/* Encodes 8-bit rows (gray or RGB, interleaved) as a PNG through emit. */
sgad_status sgad__png_write(sgad_ctx *ctx, const char *fn, const char *path, int channels,
                            int64_t width, int64_t height, const unsigned char *pixels,
                            const char *text_key, const char *text_value);

#endif /* SGAD_DATA_IMPL_H */
