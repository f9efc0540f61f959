/* SPDX-License-Identifier: MIT */
/* PNG output (data.h): sample grids and per-step strips, encoded with
 * libpng straight into a crash-safe temporary file (atomic_file.c). */
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <string.h>

#include "core/atomic_file.h"
#include "data_impl.h"

typedef struct png_out {
    sgad_ctx *ctx;
    const char *fn;
    int fd, channels;
    int64_t width, height;
    const unsigned char *pixels;
    const char *text_key, *text_value;
    sgad_status status; /* of the failed write, if any */
    char message[160];
} png_out;

static void on_error(png_structp png, png_const_charp msg)
{
    png_out *o = png_get_error_ptr(png);
    snprintf(o->message, sizeof o->message, "%s", msg);
    png_longjmp(png, 1);
}

static void write_bytes(png_structp png, png_bytep data, png_size_t n)
{
    png_out *o = png_get_error_ptr(png);
    o->status = sgad__write_all(o->ctx, o->fn, o->fd, data, n);
    if (o->status != SGAD_OK)
        png_error(png, "write failed");
}

static void flush_nothing(png_structp png)
{
    (void)png; /* the file is flushed with fsync after the last row */
}

static sgad_status encode(void *user, int fd)
{
    png_out *o = user;
    o->fd = fd;
    o->status = SGAD_OK;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, o, on_error, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return sgad__fail(o->ctx, SGAD_E_NOMEM, "%s: libpng could not start", o->fn);
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        if (o->status != SGAD_OK)
            return o->status; /* the write's own message stands */
        return sgad__fail(o->ctx, SGAD_E_INTERNAL, "%s: libpng: %s", o->fn, o->message);
    }
    png_set_write_fn(png, o, write_bytes, flush_nothing);
    png_set_IHDR(png, info, (png_uint_32)o->width, (png_uint_32)o->height, 8,
                 o->channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (o->text_key) {
        png_text t;
        memset(&t, 0, sizeof t);
        t.compression = PNG_TEXT_COMPRESSION_NONE;
        t.key = (png_charp)(uintptr_t)o->text_key;
        t.text = (png_charp)(uintptr_t)o->text_value;
        png_set_text(png, info, &t, 1);
    }
    png_write_info(png, info);
    for (int64_t y = 0; y < o->height; y++)
        png_write_row(png, o->pixels + y * o->width * o->channels);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    return SGAD_OK;
}

sgad_status sgad__png_write(sgad_ctx *ctx, const char *fn, const char *path, int channels,
                            int64_t width, int64_t height, const unsigned char *pixels,
                            const char *text_key, const char *text_value)
{
    png_out o = {ctx, fn, -1, channels, width, height, pixels, text_key, text_value, SGAD_OK, ""};
    return sgad__atomic_write(ctx, fn, path, encode, &o);
}

/* ---- composing -------------------------------------------------------------- */

static unsigned char to_byte(float v)
{
    if (!(v > 0.0f)) /* NaN too */
        return 0;
    return v >= 1.0f ? 255 : (unsigned char)lrintf(v * 255.0f);
}

/* Copies image n of planar float images [.., C, h, w] into the canvas at
 * (x0, y0), interleaved. */
static void blit(unsigned char *canvas, int64_t cw, int channels, const float *img, int64_t h,
                 int64_t w, int64_t x0, int64_t y0)
{
    for (int c = 0; c < channels; c++)
        for (int64_t y = 0; y < h; y++)
            for (int64_t x = 0; x < w; x++)
                canvas[((y0 + y) * cw + x0 + x) * channels + c] = to_byte(img[(c * h + y) * w + x]);
}

/* Reads N, C, H, W of images given as [N, C, H, W] or [1, N, C, H, W]. */
static sgad_status image_dims(sgad_ctx *ctx, const char *fn, const sgad_tensor *t, int lead,
                              int64_t *n, int64_t *c, int64_t *h, int64_t *w)
{
    const int nd = t->ndim;
    SGAD__CHECK(ctx, nd == 4 + lead || (nd == 5 && lead == 0 && t->dims[0] == 1), SGAD_E_SHAPE,
                "%s: images must be [N, C, H, W]%s", fn, lead ? " after the time axis" : "");
    const int64_t *d = t->dims + nd - 4;
    *n = d[0];
    *c = d[1];
    *h = d[2];
    *w = d[3];
    SGAD__CHECK(ctx, (*c == 1 || *c == 3) && *h <= SGAD__DATA_MAX_SIDE && *w <= SGAD__DATA_MAX_SIDE,
                SGAD_E_SHAPE, "%s: images need 1 or 3 channels and sides up to %d", fn,
                SGAD__DATA_MAX_SIDE);
    return SGAD_OK;
}

sgad_status sgad_image_write_grid(sgad_ctx *ctx, const char *path, const sgad_tensor *images,
                                  int rows, int cols)
{
    static const char fn[] = "sgad_image_write_grid";
    if (!ctx)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(ctx, path && images, SGAD_E_INVALID_ARG, "%s: path or images is NULL", fn);
    SGAD__CHECK(ctx, rows >= 1 && cols >= 1 && rows <= 256 && cols <= 256, SGAD_E_INVALID_ARG,
                "%s: rows=%d and cols=%d must be in [1, 256]", fn, rows, cols);
    int64_t n, c, h, w;
    SGAD__TRY(image_dims(ctx, fn, images, 0, &n, &c, &h, &w));
    const int gap = 2;
    const int64_t cw = cols * (w + gap) - gap, ch = rows * (h + gap) - gap;
    unsigned char *canvas = sgad__calloc(ctx, (size_t)(cw * ch * c), 1);
    if (!canvas)
        return SGAD_E_NOMEM;
    for (int64_t i = 0; i < n && i < (int64_t)rows * cols; i++)
        blit(canvas, cw, (int)c, images->data + i * c * h * w, h, w, (i % cols) * (w + gap),
             (i / cols) * (h + gap));
    const sgad_status s = sgad__png_write(ctx, fn, path, (int)c, cw, ch, canvas, NULL, NULL);
    sgad__free(ctx, canvas);
    return s;
}

sgad_status sgad_image_write_strip(sgad_ctx *ctx, const char *path, const sgad_tensor *steps,
                                   const sgad_tensor *scores, int64_t sample)
{
    static const char fn[] = "sgad_image_write_strip";
    if (!ctx)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(ctx, path && steps, SGAD_E_INVALID_ARG, "%s: path or steps is NULL", fn);
    int64_t n, c, h, w;
    SGAD__TRY(image_dims(ctx, fn, steps, 1, &n, &c, &h, &w));
    const int64_t T = steps->dims[0];
    SGAD__CHECK(ctx, T >= 1 && T <= 1024 && sample >= 0 && sample < n, SGAD_E_INVALID_ARG,
                "%s: sample %lld outside [0, %lld) or T=%lld outside [1, 1024]", fn,
                (long long)sample, (long long)n, (long long)T);
    SGAD__CHECK(ctx, !scores || scores->numel == T * n, SGAD_E_SHAPE,
                "%s: scores must be [T, N] = [%lld, %lld]", fn, (long long)T, (long long)n);
    const int gap = 2, bar = 4;
    const int64_t cw = T * (w + gap) - gap, chh = h + gap + bar;
    unsigned char *canvas = sgad__calloc(ctx, (size_t)(cw * chh * c), 1);
    char *text = sgad__calloc(ctx, (size_t)T * 12 + 1, 1);
    if (!canvas || !text) {
        sgad__free(ctx, canvas);
        sgad__free(ctx, text);
        return SGAD_E_NOMEM;
    }
    size_t at = 0;
    for (int64_t t = 0; t < T; t++) {
        const int64_t x0 = t * (w + gap);
        blit(canvas, cw, (int)c, steps->data + (t * n + sample) * c * h * w, h, w, x0, 0);
        if (!scores)
            continue;
        const float s = scores->data[t * n + sample];
        const int64_t len = (int64_t)lrint((double)w * fmin(fmax((double)s, 0.0), 1.0));
        for (int64_t y = h + gap; y < chh; y++)
            memset(canvas + (y * cw + x0) * c, 255, (size_t)(len * c));
        /* scores span orders of magnitude (1e-2 .. 1e-7 in the paper's Fig. 5) */
        at += (size_t)snprintf(text + at, 13, "%s%.3e", t ? " " : "", (double)s);
    }
    const sgad_status st =
        sgad__png_write(ctx, fn, path, (int)c, cw, chh, canvas, scores ? "scores" : NULL, text);
    sgad__free(ctx, canvas);
    sgad__free(ctx, text);
    return st;
}

typedef struct idx_out {
    sgad_ctx *ctx;
    const unsigned char *bytes;
    size_t size;
} idx_out;

static sgad_status emit_bytes(void *user, int fd)
{
    idx_out *o = user;
    return sgad__write_all(o->ctx, "sgad_image_write_idx", fd, o->bytes, o->size);
}

sgad_status sgad_image_write_idx(sgad_ctx *ctx, const char *path, const sgad_tensor *images)
{
    static const char fn[] = "sgad_image_write_idx";
    if (!ctx)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(ctx, path && images, SGAD_E_INVALID_ARG, "%s: path or images is NULL", fn);
    int64_t n, c, h, w;
    SGAD__TRY(image_dims(ctx, fn, images, 0, &n, &c, &h, &w));
    const int ndim = c == 1 ? 3 : 4;
    const int64_t dims[4] = {n, c == 1 ? h : c, c == 1 ? w : h, w};
    const size_t head = 4 + 4 * (size_t)ndim, count = (size_t)(n * c * h * w);
    unsigned char *b = sgad__alloc(ctx, head + count);
    if (!b)
        return SGAD_E_NOMEM;
    b[0] = b[1] = 0;
    b[2] = 0x08;
    b[3] = (unsigned char)ndim;
    for (int i = 0; i < ndim; i++)
        for (int k = 0; k < 4; k++)
            b[4 + 4 * i + k] = (unsigned char)((uint64_t)dims[i] >> (24 - 8 * k));
    for (size_t i = 0; i < count; i++)
        b[head + i] = to_byte(images->data[i]);
    idx_out o = {ctx, b, head + count};
    const sgad_status s = sgad__atomic_write(ctx, fn, path, emit_bytes, &o);
    sgad__free(ctx, b);
    return s;
}
