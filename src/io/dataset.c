/* SPDX-License-Identifier: MIT */
/* The dataset handle (data.h): opening by format, and batches in an order
 * that is a pure function of (seed, epoch) so resumed runs see the same
 * data. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/atomic_file.h"
#include "core/rng.h"
#include "data_impl.h"

static const char fn_open[] = "sgad_dataset_open";

void sgad_dataset_free(sgad_dataset *d)
{
    if (!d)
        return;
    for (int64_t i = 0; d->files && i < d->count; i++)
        sgad__free(d->ctx, d->files[i]);
    sgad__free(d->ctx, d->files);
    sgad__free(d->ctx, d->pixels);
    sgad__free(d->ctx, d->labels);
    sgad__free(d->ctx, d->order);
    sgad__free(d->ctx, d);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* All data_batch_*.bin files of dir, in name order. */
static sgad_status cifar_dir(sgad_dataset *d, const char *dir)
{
    DIR *h = opendir(dir);
    SGAD__CHECK(d->ctx, h != NULL, SGAD_E_IO, "%s: cannot open directory %s", fn_open, dir);
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(h)) != NULL && n < 64)
        if (strncmp(e->d_name, "data_batch_", 11) == 0 && strstr(e->d_name, ".bin"))
            names[n++] = strdup(e->d_name);
    closedir(h);
    qsort(names, (size_t)n, sizeof *names, by_name);
    sgad_status s = n ? SGAD_OK
                      : sgad__fail(d->ctx, SGAD_E_FORMAT,
                                   "%s: %s holds no "
                                   "data_batch_*.bin files",
                                   fn_open, dir);
    for (int i = 0; i < n; i++) {
        char path[4096];
        unsigned char *buf = NULL;
        size_t size;
        snprintf(path, sizeof path, "%s/%s", dir, names[i] ? names[i] : "");
        if (s == SGAD_OK && !names[i])
            s = SGAD_E_NOMEM;
        if (s == SGAD_OK)
            s = sgad__read_file(d->ctx, fn_open, path, SGAD__DATA_MAX_FILE, &buf, &size);
        if (s == SGAD_OK)
            s = sgad__cifar_load(d, path, buf, size);
        sgad__free(d->ctx, buf);
        free(names[i]);
    }
    return s;
}

static sgad_status open_idx(sgad_dataset *d, const char *path, const char *labels)
{
    unsigned char *img = NULL, *lab = NULL;
    size_t isz = 0, lsz = 0;
    sgad_status s = sgad__read_file(d->ctx, fn_open, path, SGAD__DATA_MAX_FILE, &img, &isz);
    if (s == SGAD_OK && labels)
        s = sgad__read_file(d->ctx, fn_open, labels, SGAD__DATA_MAX_FILE, &lab, &lsz);
    if (s == SGAD_OK)
        s = sgad__idx_load(d, path, img, isz, labels, lab, lsz);
    sgad__free(d->ctx, img);
    sgad__free(d->ctx, lab);
    return s;
}

static sgad_status open_cifar(sgad_dataset *d, const char *path)
{
    struct stat st;
    SGAD__CHECK(d->ctx, stat(path, &st) == 0, SGAD_E_IO, "%s: cannot find %s", fn_open, path);
    if (S_ISDIR(st.st_mode))
        return cifar_dir(d, path);
    unsigned char *buf;
    size_t size;
    SGAD__TRY(sgad__read_file(d->ctx, fn_open, path, SGAD__DATA_MAX_FILE, &buf, &size));
    const sgad_status s = sgad__cifar_load(d, path, buf, size);
    sgad__free(d->ctx, buf);
    return s;
}

static sgad_status new_dataset(sgad_ctx *ctx, sgad_data_format format, sgad_dataset **out)
{
    *out = NULL;
    SGAD__CHECK(ctx, format >= SGAD_DATA_IDX && format <= SGAD_DATA_PNG, SGAD_E_INVALID_ARG,
                "%s: unknown format %d", fn_open, (int)format);
    sgad_dataset *d = sgad__calloc(ctx, 1, sizeof *d);
    if (!d)
        return SGAD_E_NOMEM;
    d->ctx = ctx;
    d->format = format;
    *out = d;
    return SGAD_OK;
}

static sgad_status finish(sgad_dataset *d, sgad_status s, sgad_dataset **out)
{
    if (s != SGAD_OK)
        sgad_dataset_free(d);
    *out = s == SGAD_OK ? d : NULL;
    return s;
}

sgad_status sgad_dataset_open(sgad_ctx *ctx, sgad_data_format format, const char *path,
                              const char *labels, sgad_dataset **out)
{
    if (!ctx)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(ctx, path != NULL, SGAD_E_INVALID_ARG, "%s: path is NULL", fn_open);
    SGAD__CHECK(ctx, !labels || format == SGAD_DATA_IDX, SGAD_E_INVALID_ARG,
                "%s: a label file goes with IDX images only", fn_open);
    SGAD__CHECK(ctx, out != NULL, SGAD_E_INVALID_ARG, "%s: out is NULL", fn_open);
    sgad_dataset *d;
    SGAD__TRY(new_dataset(ctx, format, &d));
    sgad_status s;
    switch (format) {
    case SGAD_DATA_IDX: s = open_idx(d, path, labels); break;
    case SGAD_DATA_CIFAR10: s = open_cifar(d, path); break;
    default: s = sgad__png_folder(d, path); break;
    }
    return finish(d, s, out);
}

sgad_status sgad_dataset_open_memory(sgad_ctx *ctx, sgad_data_format format, const void *data,
                                     size_t size, const void *labels, size_t labels_size,
                                     sgad_dataset **out)
{
    if (!ctx)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(ctx, data || size == 0, SGAD_E_INVALID_ARG, "%s: data is NULL", fn_open);
    SGAD__CHECK(ctx, size <= SGAD__DATA_MAX_FILE && labels_size <= SGAD__DATA_MAX_FILE,
                SGAD_E_FORMAT, "%s: more bytes than a dataset file may have", fn_open);
    SGAD__CHECK(ctx, out != NULL, SGAD_E_INVALID_ARG, "%s: out is NULL", fn_open);
    sgad_dataset *d;
    SGAD__TRY(new_dataset(ctx, format, &d));
    sgad_status s;
    switch (format) {
    case SGAD_DATA_IDX:
        s = sgad__idx_load(d, "(memory)", data, size, "(labels)", labels, labels_size);
        break;
    case SGAD_DATA_CIFAR10: s = sgad__cifar_load(d, "(memory)", data, size); break;
    default:
        s = sgad__png_decode(ctx, "(memory)", data, size, 0, 0, &d->pixels, &d->w, &d->h);
        d->c = 3;
        d->count = s == SGAD_OK ? 1 : 0;
        break;
    }
    return finish(d, s, out);
}

int64_t sgad_dataset_count(const sgad_dataset *d)
{
    return d ? d->count : 0;
}

sgad_status sgad_dataset_image_dims(const sgad_dataset *d, int64_t *channels, int64_t *height,
                                    int64_t *width)
{
    if (!d)
        return SGAD_E_INVALID_ARG;
    if (channels)
        *channels = d->c;
    if (height)
        *height = d->h;
    if (width)
        *width = d->w;
    return SGAD_OK;
}

sgad_status sgad_dataset_label(const sgad_dataset *d, int64_t i, int *label)
{
    if (!d)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(d->ctx, label && i >= 0 && i < d->count, SGAD_E_INVALID_ARG,
                "sgad_dataset_label: label is NULL or index %lld outside [0, %lld)", (long long)i,
                (long long)d->count);
    *label = d->labels ? d->labels[i] : -1;
    return SGAD_OK;
}

int64_t sgad_dataset_batches(const sgad_dataset *d, int64_t batch)
{
    return d && batch > 0 ? d->count / batch : 0;
}

/* Fisher-Yates driven by the counter generator keyed by (seed, epoch). */
static sgad_status make_order(sgad_dataset *d, uint64_t seed, int64_t epoch)
{
    if (d->has_order && d->order_seed == seed && d->order_epoch == epoch)
        return SGAD_OK;
    if (!d->order && !(d->order = sgad__alloc(d->ctx, (size_t)d->count * sizeof *d->order)))
        return SGAD_E_NOMEM;
    for (int64_t i = 0; i < d->count; i++)
        d->order[i] = (uint32_t)i;
    for (int64_t i = d->count - 1; i > 0; i--) {
        const int64_t j =
            (int64_t)(sgad__rng_u64(seed, (uint64_t)epoch, (uint64_t)i) % (uint64_t)(i + 1));
        const uint32_t k = d->order[i];
        d->order[i] = d->order[j];
        d->order[j] = k;
    }
    d->order_seed = seed;
    d->order_epoch = epoch;
    d->has_order = 1;
    return SGAD_OK;
}

/* Image i as floats in [0, 1] into out (c x h x w). */
static sgad_status fetch(sgad_dataset *d, int64_t i, float *out, unsigned char *scratch)
{
    const int64_t n = d->c * d->h * d->w;
    const unsigned char *px = d->pixels ? d->pixels + i * n : scratch;
    if (!d->pixels)
        SGAD__TRY(sgad__png_folder_image(d, i, scratch));
    for (int64_t k = 0; k < n; k++)
        out[k] = (float)px[k] / 255.0f;
    return SGAD_OK;
}

static sgad_status check_images(sgad_dataset *d, const char *fn, const sgad_tensor *images,
                                int64_t *batch)
{
    SGAD__CHECK(d->ctx, images != NULL && images->ndim == 4, SGAD_E_SHAPE,
                "%s: images must be [B, C, H, W]", fn);
    SGAD__CHECK(d->ctx,
                images->dims[1] == d->c && images->dims[2] == d->h && images->dims[3] == d->w,
                SGAD_E_SHAPE,
                "%s: the dataset's images are [%lld, %lld, %lld], the tensor's "
                "[%lld, %lld, %lld]",
                fn, (long long)d->c, (long long)d->h, (long long)d->w, (long long)images->dims[1],
                (long long)images->dims[2], (long long)images->dims[3]);
    *batch = images->dims[0];
    return SGAD_OK;
}

static sgad_status fill(sgad_dataset *d, const uint32_t *ids, int64_t first, int64_t b,
                        sgad_tensor *images, int *labels)
{
    const int64_t n = d->c * d->h * d->w;
    unsigned char *scratch = d->pixels ? NULL : sgad__alloc(d->ctx, (size_t)n);
    if (!d->pixels && !scratch)
        return SGAD_E_NOMEM;
    sgad_status s = SGAD_OK;
    for (int64_t k = 0; k < b && s == SGAD_OK; k++) {
        const int64_t i = ids ? ids[first + k] : first + k;
        s = fetch(d, i, images->data + k * n, scratch);
        if (labels)
            labels[k] = d->labels ? d->labels[i] : -1;
    }
    sgad__free(d->ctx, scratch);
    return s;
}

sgad_status sgad_dataset_batch(sgad_dataset *d, uint64_t seed, int64_t epoch, int64_t index,
                               sgad_tensor *images, int *labels)
{
    static const char fn[] = "sgad_dataset_batch";
    if (!d)
        return SGAD_E_INVALID_ARG;
    int64_t b = 0; /* set by check_images; 0 silences -O3 */
    SGAD__TRY(check_images(d, fn, images, &b));
    SGAD__CHECK(d->ctx, epoch >= 0 && index >= 0 && index < d->count / b, SGAD_E_INVALID_ARG,
                "%s: batch %lld of epoch %lld: an epoch has %lld batches of %lld", fn,
                (long long)index, (long long)epoch, (long long)(d->count / b), (long long)b);
    SGAD__TRY(make_order(d, seed, epoch));
    return fill(d, d->order, index * b, b, images, labels);
}

sgad_status sgad_dataset_read(sgad_dataset *d, int64_t first, sgad_tensor *images)
{
    static const char fn[] = "sgad_dataset_read";
    if (!d)
        return SGAD_E_INVALID_ARG;
    int64_t b = 0; /* set by check_images; 0 silences -O3 */
    SGAD__TRY(check_images(d, fn, images, &b));
    SGAD__CHECK(d->ctx, first >= 0 && first + b <= d->count, SGAD_E_INVALID_ARG,
                "%s: images %lld..%lld outside [0, %lld)", fn, (long long)first,
                (long long)(first + b), (long long)d->count);
    return fill(d, NULL, first, b, images, NULL);
}
