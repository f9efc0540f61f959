/* SPDX-License-Identifier: MIT */
/* IDX files (LeCun's MNIST format), raw or gzip. The header is two zero
 * bytes, a type byte (0x08: unsigned bytes), the number of dimensions and
 * that many big-endian u32 sizes; the data follows in C order. A gzip file
 * is inflated in memory, header first, so the declared size caps the
 * output (no bombs) and a short or long stream is an error; bytes after
 * the gzip stream or after the data are rejected too. */
#include <string.h>
#include <zlib.h>

#include "data_impl.h"

static const char fn[] = "sgad_dataset_open";

static int is_gzip(const unsigned char *p, size_t n)
{
    return n >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

/* Header of an IDX file with `ndim` dimensions: dims and payload bytes. */
static sgad_status parse_header(sgad_ctx *ctx, const char *name, const unsigned char *p, size_t n,
                                int ndim, int64_t *dims, uint64_t *payload)
{
    const size_t hlen = 4 + 4 * (size_t)ndim;
    SGAD__CHECK(ctx, n >= hlen, SGAD_E_FORMAT, "%s: %s: %zu bytes, shorter than an IDX header", fn,
                name, n);
    SGAD__CHECK(ctx, p[0] == 0 && p[1] == 0, SGAD_E_FORMAT,
                "%s: %s: not an IDX file (magic "
                "%02x %02x)",
                fn, name, p[0], p[1]);
    SGAD__CHECK(ctx, p[2] == 0x08, SGAD_E_FORMAT,
                "%s: %s: IDX type 0x%02x; only unsigned "
                "bytes (0x08) are supported",
                fn, name, p[2]);
    SGAD__CHECK(ctx, p[3] == ndim, SGAD_E_FORMAT, "%s: %s: %d dimensions, expected %d", fn, name,
                p[3], ndim);
    uint64_t total = 1;
    for (int i = 0; i < ndim; i++) {
        const unsigned char *q = p + 4 + 4 * i;
        const uint64_t v = (uint64_t)q[0] << 24 | (uint64_t)q[1] << 16 | (uint64_t)q[2] << 8 | q[3];
        SGAD__CHECK(ctx, v >= 1, SGAD_E_FORMAT, "%s: %s: dimension %d is 0", fn, name, i);
        dims[i] = (int64_t)v;
        total *= v; /* at most 3 factors below 2^32 are checked as they come */
        SGAD__CHECK(ctx, total <= SGAD__DATA_MAX_FILE, SGAD_E_FORMAT,
                    "%s: %s: the dimensions ask for more than %zu bytes", fn, name,
                    SGAD__DATA_MAX_FILE);
    }
    *payload = total;
    return SGAD_OK;
}

/* Inflates exactly `want` bytes into out; the stream must end there. */
static sgad_status inflate_exact(sgad_ctx *ctx, const char *name, z_stream *z, unsigned char *out,
                                 size_t want, int last)
{
    z->next_out = out;
    z->avail_out = (uInt)want;
    int r = Z_OK;
    while (z->avail_out > 0 && r == Z_OK)
        r = inflate(z, Z_NO_FLUSH);
    SGAD__CHECK(ctx, z->avail_out == 0, SGAD_E_FORMAT, "%s: %s: the gzip stream %s", fn, name,
                r == Z_STREAM_END  ? "ends before the data it declares"
                : r == Z_BUF_ERROR ? "is truncated"
                                   : "is corrupt");
    if (!last)
        return SGAD_OK;
    unsigned char extra;
    z->next_out = &extra;
    z->avail_out = 1;
    r = inflate(z, Z_NO_FLUSH);
    SGAD__CHECK(ctx, r == Z_STREAM_END && z->avail_out == 1, SGAD_E_FORMAT,
                "%s: %s: the gzip stream %s", fn, name,
                r == Z_STREAM_END || r == Z_OK ? "holds more than the data it declares"
                : r == Z_BUF_ERROR             ? "is truncated"
                                               : "is corrupt");
    SGAD__CHECK(ctx, z->avail_in == 0, SGAD_E_FORMAT, "%s: %s: bytes after the gzip stream", fn,
                name);
    return SGAD_OK;
}

/* The IDX file's bytes, inflated if gzip: header in hdr, payload in *out. */
static sgad_status read_idx(sgad_ctx *ctx, const char *name, const unsigned char *data, size_t size,
                            int ndim, int64_t *dims, unsigned char **out, uint64_t *payload)
{
    unsigned char hdr[16];
    const size_t hlen = 4 + 4 * (size_t)ndim;
    *out = NULL;
    if (!is_gzip(data, size)) {
        SGAD__TRY(parse_header(ctx, name, data, size, ndim, dims, payload));
        SGAD__CHECK(ctx, size - hlen == *payload, SGAD_E_FORMAT,
                    "%s: %s: %zu data bytes, the "
                    "header declares %llu",
                    fn, name, size - hlen, (unsigned long long)*payload);
        *out = sgad__alloc(ctx, *payload);
        if (!*out)
            return SGAD_E_NOMEM;
        memcpy(*out, data + hlen, *payload);
        return SGAD_OK;
    }
    z_stream z;
    memset(&z, 0, sizeof z);
    SGAD__CHECK(ctx, size <= UINT32_MAX && inflateInit2(&z, 16 + MAX_WBITS) == Z_OK, SGAD_E_FORMAT,
                "%s: %s: cannot start inflating", fn, name);
    z.next_in = (Bytef *)(uintptr_t)data;
    z.avail_in = (uInt)size;
    sgad_status s = inflate_exact(ctx, name, &z, hdr, hlen, 0);
    if (s == SGAD_OK)
        s = parse_header(ctx, name, hdr, hlen, ndim, dims, payload);
    if (s == SGAD_OK && !(*out = sgad__alloc(ctx, *payload)))
        s = SGAD_E_NOMEM;
    if (s == SGAD_OK)
        s = inflate_exact(ctx, name, &z, *out, *payload, 1);
    inflateEnd(&z);
    if (s != SGAD_OK) {
        sgad__free(ctx, *out);
        *out = NULL;
    }
    return s;
}

static sgad_status load_labels(sgad_dataset *d, const char *name, const unsigned char *data,
                               size_t size)
{
    int64_t n;
    uint64_t payload;
    unsigned char *raw;
    SGAD__TRY(read_idx(d->ctx, name, data, size, 1, &n, &raw, &payload));
    sgad_status s = SGAD_OK;
    if (n != d->count)
        s = sgad__fail(d->ctx, SGAD_E_FORMAT, "%s: %s: %lld labels for %lld images", fn, name,
                       (long long)n, (long long)d->count);
    if (s == SGAD_OK && !(d->labels = sgad__alloc(d->ctx, (size_t)n * sizeof *d->labels)))
        s = SGAD_E_NOMEM;
    for (int64_t i = 0; s == SGAD_OK && i < n; i++) {
        if (raw[i] > 9)
            s = sgad__fail(d->ctx, SGAD_E_FORMAT,
                           "%s: %s: label %d of image %lld is not in "
                           "0..9",
                           fn, name, raw[i], (long long)i);
        else
            d->labels[i] = raw[i];
    }
    sgad__free(d->ctx, raw);
    return s;
}

sgad_status sgad__idx_load(sgad_dataset *d, const char *name, const unsigned char *data,
                           size_t size, const char *label_name, const unsigned char *labels,
                           size_t labels_size)
{
    int64_t dims[3];
    uint64_t payload;
    SGAD__TRY(read_idx(d->ctx, name, data, size, 3, dims, &d->pixels, &payload));
    SGAD__CHECK(d->ctx,
                dims[0] <= SGAD__DATA_MAX_IMAGES && dims[1] <= SGAD__DATA_MAX_SIDE &&
                    dims[2] <= SGAD__DATA_MAX_SIDE,
                SGAD_E_FORMAT, "%s: %s: %lld images of %lld x %lld are beyond the limits", fn, name,
                (long long)dims[0], (long long)dims[1], (long long)dims[2]);
    d->count = dims[0];
    d->c = 1;
    d->h = dims[1];
    d->w = dims[2];
    if (labels)
        SGAD__TRY(load_labels(d, label_name, labels, labels_size));
    return SGAD_OK;
}
