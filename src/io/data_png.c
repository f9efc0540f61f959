/* SPDX-License-Identifier: MIT */
/* PNG input through libpng. Everything libpng may signal (bad signature,
 * CRC errors, truncation, oversized images, zlib bombs) ends in png_error,
 * which longjmps back into this file; libpng never jumps across the API.
 * Limits: sides up to 4096 pixels (png_set_user_limits), ancillary chunks
 * up to 8 MB and 128 of them. Every image is read as 8-bit RGB: palettes
 * and gray are expanded, 16-bit is stripped to 8, alpha dropped, interlace
 * handled. */
#include <dirent.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/atomic_file.h"
#include "data_impl.h"

typedef struct png_job {
    const unsigned char *data;
    size_t size, pos;
    char message[160];
} png_job;

static void on_error(png_structp png, png_const_charp msg)
{
    png_job *job = png_get_error_ptr(png);
    snprintf(job->message, sizeof job->message, "%s", msg);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg; /* benign (e.g. an unknown chunk); errors are what matter */
}

static void read_bytes(png_structp png, png_bytep out, png_size_t n)
{
    png_job *job = png_get_error_ptr(png);
    if (n > job->size - job->pos)
        png_error(png, "the file is truncated");
    memcpy(out, job->data + job->pos, n);
    job->pos += n;
}

/* Interleaved RGB rows to planar channels. */
static void to_planar(const unsigned char *rgb, int64_t w, int64_t h, unsigned char *out)
{
    const int64_t plane = w * h;
    for (int64_t i = 0; i < plane; i++)
        for (int c = 0; c < 3; c++)
            out[c * plane + i] = rgb[3 * i + c];
}

static void set_transforms(png_structp png, png_infop info)
{
    const int type = png_get_color_type(png, info);
    png_set_expand(png); /* palette -> RGB, gray < 8 bits -> 8, tRNS -> alpha */
    png_set_strip_16(png);
    png_set_strip_alpha(png);
    if (type == PNG_COLOR_TYPE_GRAY || type == PNG_COLOR_TYPE_GRAY_ALPHA)
        png_set_gray_to_rgb(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
}

sgad_status sgad__png_decode(sgad_ctx *ctx, const char *name, const unsigned char *data,
                             size_t size, int64_t want_w, int64_t want_h, unsigned char **out,
                             int64_t *w, int64_t *h)
{
    static const char fn[] = "sgad_dataset";
    *out = NULL;
    SGAD__CHECK(ctx, size >= 8 && png_sig_cmp(data, 0, 8) == 0, SGAD_E_FORMAT,
                "%s: %s is not a PNG file", fn, name);
    png_job job = {data, size, 0, ""};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &job, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return sgad__fail(ctx, SGAD_E_NOMEM, "%s: libpng could not start", fn);
    }
    unsigned char *volatile rgb = NULL, *volatile planar = NULL;
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        sgad__free(ctx, rgb);
        sgad__free(ctx, planar);
        sgad__free(ctx, rows);
        png_destroy_read_struct(&png, &info, NULL);
        return sgad__fail(ctx, SGAD_E_FORMAT, "%s: %s: %s", fn, name, job.message);
    }
    png_set_user_limits(png, SGAD__DATA_MAX_SIDE, SGAD__DATA_MAX_SIDE);
    png_set_chunk_malloc_max(png, 8u << 20);
    png_set_chunk_cache_max(png, 128);
    png_set_read_fn(png, &job, read_bytes);
    png_read_info(png, info);
    const int64_t iw = png_get_image_width(png, info), ih = png_get_image_height(png, info);
    if ((want_w > 0 && iw != want_w) || (want_h > 0 && ih != want_h)) {
        snprintf(job.message, sizeof job.message,
                 "%lldx%lld pixels, the dataset's images are "
                 "%lldx%lld",
                 (long long)iw, (long long)ih, (long long)want_w, (long long)want_h);
        png_longjmp(png, 1);
    }
    set_transforms(png, info);
    if (png_get_rowbytes(png, info) != (size_t)iw * 3)
        png_error(png, "unexpected row size after conversion to 8-bit RGB");
    rgb = sgad__alloc(ctx, (size_t)(iw * ih * 3));
    rows = sgad__alloc(ctx, (size_t)ih * sizeof *rows);
    planar = sgad__alloc(ctx, (size_t)(iw * ih * 3));
    if (!rgb || !rows || !planar)
        png_error(png, "out of memory");
    for (int64_t y = 0; y < ih; y++)
        rows[y] = rgb + y * iw * 3;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    to_planar(rgb, iw, ih, planar);
    sgad__free(ctx, rgb);
    sgad__free(ctx, rows);
    png_destroy_read_struct(&png, &info, NULL);
    *out = planar;
    *w = iw;
    *h = ih;
    return SGAD_OK;
}

/* ---- folders ----------------------------------------------------------- */

static int png_name(const char *s)
{
    const size_t n = strlen(s);
    return s[0] != '.' && n > 4 &&
           (strcmp(s + n - 4, ".png") == 0 || strcmp(s + n - 4, ".PNG") == 0);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static sgad_status add_file(sgad_dataset *d, int64_t *cap, const char *dir, const char *name)
{
    if (d->count == *cap) {
        const int64_t more = *cap ? 2 * *cap : 1024;
        char **f = sgad__alloc(d->ctx, (size_t)more * sizeof *f);
        if (!f)
            return SGAD_E_NOMEM;
        if (d->count)
            memcpy(f, d->files, (size_t)d->count * sizeof *f);
        sgad__free(d->ctx, d->files);
        d->files = f;
        *cap = more;
    }
    const size_t n = strlen(dir) + strlen(name) + 2;
    char *p = sgad__alloc(d->ctx, n);
    if (!p)
        return SGAD_E_NOMEM;
    snprintf(p, n, "%s/%s", dir, name);
    d->files[d->count++] = p;
    return SGAD_OK;
}

sgad_status sgad__png_folder(sgad_dataset *d, const char *dir)
{
    static const char fn[] = "sgad_dataset_open";
    DIR *h = opendir(dir);
    SGAD__CHECK(d->ctx, h != NULL, SGAD_E_IO, "%s: cannot open directory %s", fn, dir);
    int64_t cap = 0;
    sgad_status s = SGAD_OK;
    struct dirent *e;
    while (s == SGAD_OK && (e = readdir(h)) != NULL) {
        if (!png_name(e->d_name))
            continue;
        if (d->count >= SGAD__DATA_MAX_IMAGES)
            s = sgad__fail(d->ctx, SGAD_E_FORMAT, "%s: %s holds too many images", fn, dir);
        else
            s = add_file(d, &cap, dir, e->d_name);
    }
    closedir(h);
    SGAD__TRY(s);
    SGAD__CHECK(d->ctx, d->count > 0, SGAD_E_FORMAT, "%s: %s holds no .png files", fn, dir);
    qsort(d->files, (size_t)d->count, sizeof *d->files, by_name);
    unsigned char *data, *px;
    size_t size;
    SGAD__TRY(sgad__read_file(d->ctx, fn, d->files[0], 64u << 20, &data, &size));
    s = sgad__png_decode(d->ctx, d->files[0], data, size, 0, 0, &px, &d->w, &d->h);
    sgad__free(d->ctx, data);
    sgad__free(d->ctx, px);
    d->c = 3;
    return s;
}

sgad_status sgad__png_folder_image(sgad_dataset *d, int64_t i, unsigned char *out)
{
    unsigned char *data, *px;
    size_t size;
    int64_t w, h;
    SGAD__TRY(sgad__read_file(d->ctx, "sgad_dataset_batch", d->files[i], 64u << 20, &data, &size));
    const sgad_status s =
        sgad__png_decode(d->ctx, d->files[i], data, size, d->w, d->h, &px, &w, &h);
    sgad__free(d->ctx, data);
    SGAD__TRY(s);
    memcpy(out, px, (size_t)(3 * w * h));
    sgad__free(d->ctx, px);
    return SGAD_OK;
}
