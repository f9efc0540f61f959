/* SPDX-License-Identifier: MIT */
/* Float matrices from .npy (NumPy's format, versions 1.0 and 2.0) and
 * float IDX files, read into row-major doubles (similarity.h).
 *
 * Nothing in the input is trusted: every length is checked against the
 * bytes present before it is used, every size product against
 * SGAD_MATRIX_MAX_VALUES before it is formed, and values are assembled
 * byte by byte, so neither the host's byte order nor the buffer's
 * alignment matters. The rules, in the order they are checked:
 *   .npy: the magic \x93NUMPY; version 1.0 (u16 header length) or 2.0
 *     (u32); the header inside the file; the header a Python dict literal
 *     with exactly the keys 'descr', 'fortran_order' and 'shape' (any
 *     order, either quote, an optional trailing comma, then only spaces
 *     and newlines); descr '<f4' or '<f8'; fortran_order False; a shape of
 *     two dimensions, none 0, whose product fits; then the data.
 *   IDX: two zero bytes, type 0x0D (float32) or 0x0E (float64), two
 *     dimensions, none 0, whose product fits; big-endian; then the data.
 *   Both: the data exactly rows * cols values long, every value finite. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/atomic_file.h"
#include "core/internal.h"

static const char fn_read[] = "sgad_matrix_read_memory";
static const char fn_load[] = "sgad_matrix_load";

/* Where the values are and how to read them. */
typedef struct layout {
    int64_t rows, cols;
    size_t offset; /* of the first value */
    int width;     /* bytes per value: 4 or 8 */
    int big;       /* nonzero: big-endian (IDX) */
} layout;

/* Where a message comes from: the calling function and the input's name. */
typedef struct source {
    sgad_ctx *ctx;
    const char *fn;
    const char *name;
} source;

#define FAIL(src, ...) sgad__fail((src)->ctx, SGAD_E_FORMAT, __VA_ARGS__)

/* rows * cols within SGAD_MATRIX_MAX_VALUES, checked without forming an
 * overflowing product. */
static int product_fits(int64_t rows, int64_t cols)
{
    return rows >= 1 && cols >= 1 && rows <= SGAD_MATRIX_MAX_VALUES &&
           cols <= SGAD_MATRIX_MAX_VALUES / rows;
}

/* ---- the .npy header: a Python dict literal ---- */

typedef struct cursor {
    const unsigned char *p, *end;
} cursor;

static void skip_space(cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int take(cursor *c, char ch)
{
    skip_space(c);
    if (c->p < c->end && *c->p == (unsigned char)ch) {
        c->p++;
        return 1;
    }
    return 0;
}

/* A quoted string (no escapes: none of the valid keys or dtypes has one)
 * into buf; 0 if there is none or it does not fit. */
static int take_string(cursor *c, char *buf, size_t len)
{
    skip_space(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
        return 0;
    const unsigned char quote = *c->p++;
    size_t n = 0;
    while (c->p < c->end && *c->p != quote) {
        if (*c->p == '\\' || n + 1 >= len)
            return 0;
        buf[n++] = (char)*c->p++;
    }
    if (c->p >= c->end)
        return 0;
    c->p++;
    buf[n] = '\0';
    return 1;
}

static int take_word(cursor *c, const char *word)
{
    skip_space(c);
    const size_t n = strlen(word);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
        return 0;
    c->p += n;
    return 1;
}

/* A shape tuple "(a, b)" or "(a,)" or "()": up to 8 dims kept in dims,
 * all counted in *ndim. Dimensions above SGAD_MATRIX_MAX_VALUES are
 * clamped to one more than it (so that the product check rejects them)
 * rather than parsed into an overflow. */
static int take_shape(cursor *c, int64_t *dims, int *ndim)
{
    if (!take(c, '('))
        return 0;
    *ndim = 0;
    for (;;) {
        if (take(c, ')'))
            return 1;
        skip_space(c);
        if (c->p >= c->end || *c->p < '0' || *c->p > '9')
            return 0;
        int64_t v = 0;
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
            v = v * 10 + (*c->p++ - '0');
            if (v > SGAD_MATRIX_MAX_VALUES)
                v = SGAD_MATRIX_MAX_VALUES + 1;
        }
        if (*ndim < 8)
            dims[*ndim] = v;
        if (*ndim < 64)
            (*ndim)++;
        if (take(c, ')'))
            return 1;
        if (!take(c, ','))
            return 0;
    }
}

typedef struct npy_header {
    char descr[16];
    int fortran;
    int64_t dims[8];
    int ndim;
} npy_header;

static sgad_status parse_dict(const source *src, cursor *c, npy_header *h)
{
    int seen_descr = 0, seen_fortran = 0, seen_shape = 0;
    if (!take(c, '{'))
        return FAIL(src, "%s: %s: the .npy header is not a dict ('{' missing)", src->fn, src->name);
    while (!take(c, '}')) {
        char key[32];
        if (!take_string(c, key, sizeof key) || !take(c, ':'))
            return FAIL(src, "%s: %s: the .npy header dict has a malformed key", src->fn,
                        src->name);
        int ok;
        if (strcmp(key, "descr") == 0) {
            ok = !seen_descr && take_string(c, h->descr, sizeof h->descr);
            seen_descr = 1;
        } else if (strcmp(key, "fortran_order") == 0) {
            ok = !seen_fortran;
            if (take_word(c, "True"))
                h->fortran = 1;
            else if (take_word(c, "False"))
                h->fortran = 0;
            else
                ok = 0;
            seen_fortran = 1;
        } else if (strcmp(key, "shape") == 0) {
            ok = !seen_shape && take_shape(c, h->dims, &h->ndim);
            seen_shape = 1;
        } else {
            return FAIL(src, "%s: %s: unknown key '%s' in the .npy header", src->fn, src->name,
                        key);
        }
        if (!ok)
            return FAIL(src, "%s: %s: the .npy header's '%s' is repeated or malformed", src->fn,
                        src->name, key);
        if (!take(c, ',')) {
            if (!take(c, '}'))
                return FAIL(src, "%s: %s: the .npy header dict is not closed", src->fn, src->name);
            break;
        }
    }
    skip_space(c);
    if (c->p != c->end)
        return FAIL(src, "%s: %s: bytes after the .npy header dict", src->fn, src->name);
    if (!seen_descr || !seen_fortran || !seen_shape)
        return FAIL(src, "%s: %s: the .npy header lacks '%s'", src->fn, src->name,
                    !seen_descr     ? "descr"
                    : !seen_fortran ? "fortran_order"
                                    : "shape");
    return SGAD_OK;
}

static sgad_status parse_npy(const source *src, const unsigned char *p, size_t n, layout *out)
{
    if (n < 6 || memcmp(p, "\x93NUMPY", 6) != 0)
        return FAIL(src, "%s: %s: bad magic: not a .npy file", src->fn, src->name);
    if (n < 8)
        return FAIL(src, "%s: %s: %zu bytes, too short for a .npy version", src->fn, src->name, n);
    if ((p[6] != 1 && p[6] != 2) || p[7] != 0)
        return FAIL(src, "%s: %s: .npy format version %u.%u; only 1.0 and 2.0 are supported",
                    src->fn, src->name, p[6], p[7]);
    const size_t fixed = p[6] == 1 ? 10 : 12;
    if (n < fixed)
        return FAIL(src, "%s: %s: %zu bytes, too short for a .npy header length", src->fn,
                    src->name, n);
    const uint64_t hlen = p[6] == 1 ? (uint64_t)p[8] | (uint64_t)p[9] << 8
                                    : (uint64_t)p[8] | (uint64_t)p[9] << 8 | (uint64_t)p[10] << 16 |
                                          (uint64_t)p[11] << 24;
    if (hlen > n - fixed)
        return FAIL(src, "%s: %s: the .npy header length %llu goes beyond the file (%zu bytes)",
                    src->fn, src->name, (unsigned long long)hlen, n);
    npy_header h = {.ndim = -1};
    cursor c = {p + fixed, p + fixed + hlen};
    SGAD__TRY(parse_dict(src, &c, &h));
    if (strcmp(h.descr, "<f8") == 0)
        out->width = 8;
    else if (strcmp(h.descr, "<f4") == 0)
        out->width = 4;
    else
        return FAIL(src, "%s: %s: dtype '%s'; only '<f4' and '<f8' are read", src->fn, src->name,
                    h.descr);
    if (h.fortran)
        return FAIL(src, "%s: %s: fortran_order is True; only C order is read", src->fn, src->name);
    if (h.ndim == 1)
        return FAIL(src,
                    "%s: %s: a 1-D shape (%lld,); save it as (n, 1) or (1, n) to say which "
                    "axis holds the stimuli",
                    src->fn, src->name, (long long)h.dims[0]);
    if (h.ndim != 2)
        return FAIL(src, "%s: %s: a shape of %d dimensions; a matrix has 2", src->fn, src->name,
                    h.ndim);
    if (h.dims[0] == 0 || h.dims[1] == 0)
        return FAIL(src, "%s: %s: shape (%lld, %lld) is empty", src->fn, src->name,
                    (long long)h.dims[0], (long long)h.dims[1]);
    if (!product_fits(h.dims[0], h.dims[1]))
        return FAIL(src, "%s: %s: the shape asks for more than %lld values", src->fn, src->name,
                    (long long)SGAD_MATRIX_MAX_VALUES);
    out->rows = h.dims[0];
    out->cols = h.dims[1];
    out->offset = fixed + (size_t)hlen;
    out->big = 0;
    return SGAD_OK;
}

/* ---- IDX ---- */

static uint32_t be32(const unsigned char *q)
{
    return (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
}

static sgad_status parse_idx(const source *src, const unsigned char *p, size_t n, layout *out)
{
    if (n < 4)
        return FAIL(src, "%s: %s: %zu bytes, too short for an IDX header", src->fn, src->name, n);
    if (p[2] != 0x0D && p[2] != 0x0E)
        return FAIL(src, "%s: %s: IDX type 0x%02x; only floats (0x0D, 0x0E) are read as a matrix",
                    src->fn, src->name, p[2]);
    if (p[3] != 2)
        return FAIL(src, "%s: %s: an IDX file of %u dimensions; a matrix has 2", src->fn, src->name,
                    p[3]);
    if (n < 12)
        return FAIL(src, "%s: %s: %zu bytes, shorter than its IDX header", src->fn, src->name, n);
    const int64_t rows = be32(p + 4), cols = be32(p + 8);
    if (rows == 0 || cols == 0)
        return FAIL(src, "%s: %s: IDX dimensions %lld x %lld are empty", src->fn, src->name,
                    (long long)rows, (long long)cols);
    if (!product_fits(rows, cols))
        return FAIL(src, "%s: %s: the IDX dimensions ask for more than %lld values", src->fn,
                    src->name, (long long)SGAD_MATRIX_MAX_VALUES);
    *out = (layout){rows, cols, 12, p[2] == 0x0D ? 4 : 8, 1};
    return SGAD_OK;
}

/* ---- values ---- */

static double value_at(const unsigned char *q, int width, int big)
{
    uint64_t bits = 0;
    for (int b = 0; b < width; b++)
        bits |= (uint64_t)q[big ? width - 1 - b : b] << (8 * b);
    if (width == 8) {
        double d;
        memcpy(&d, &bits, sizeof d);
        return d;
    }
    const uint32_t bits32 = (uint32_t)bits;
    float f;
    memcpy(&f, &bits32, sizeof f);
    return f;
}

/* Checks the data's length and every value; writes them if out is set. */
static sgad_status read_values(const source *src, const unsigned char *p, size_t n, const layout *l,
                               double *out)
{
    /* rows * cols <= 2^31 and width <= 8: the byte count fits in 64 bits. */
    const uint64_t count = (uint64_t)l->rows * (uint64_t)l->cols;
    const uint64_t want = count * (uint64_t)l->width, have = n - l->offset;
    if (have != want)
        return FAIL(src,
                    "%s: %s: %llu data bytes, but shape %lld x %lld of %d-byte values needs %llu",
                    src->fn, src->name, (unsigned long long)have, (long long)l->rows,
                    (long long)l->cols, l->width, (unsigned long long)want);
    const unsigned char *q = p + l->offset;
    for (uint64_t i = 0; i < count; i++, q += l->width) {
        const double v = value_at(q, l->width, l->big);
        if (!isfinite(v))
            return FAIL(src, "%s: %s: value [%lld][%lld] is %g; values must be finite", src->fn,
                        src->name, (long long)(i / (uint64_t)l->cols),
                        (long long)(i % (uint64_t)l->cols), v);
        if (out)
            out[i] = v;
    }
    return SGAD_OK;
}

static sgad_status read_matrix(const source *src, const unsigned char *p, size_t n, layout *l)
{
    if (n >= 1 && p[0] == 0x93)
        return parse_npy(src, p, n, l);
    if (n >= 2 && p[0] == 0 && p[1] == 0)
        return parse_idx(src, p, n, l);
    return FAIL(src, "%s: %s: bad magic: neither .npy (\\x93NUMPY) nor IDX (00 00)", src->fn,
                src->name);
}

sgad_status sgad_matrix_read_memory(sgad_ctx *ctx, const void *data, size_t size, double *out,
                                    int64_t capacity, int64_t *rows, int64_t *cols)
{
    if (!ctx)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(ctx, data || size == 0, SGAD_E_INVALID_ARG, "%s: data is NULL", fn_read);
    const source src = {ctx, fn_read, "buffer"};
    const unsigned char *p = data ? data : (const unsigned char *)"";
    layout l;
    SGAD__TRY(read_matrix(&src, p, size, &l));
    SGAD__CHECK(ctx, !out || capacity >= l.rows * l.cols, SGAD_E_SHAPE,
                "%s: the matrix holds %lld x %lld values, capacity is %lld", fn_read,
                (long long)l.rows, (long long)l.cols, (long long)capacity);
    SGAD__TRY(read_values(&src, p, size, &l, out));
    if (rows)
        *rows = l.rows;
    if (cols)
        *cols = l.cols;
    return SGAD_OK;
}

sgad_status sgad_matrix_load(sgad_ctx *ctx, const char *path, double **out, int64_t *rows,
                             int64_t *cols)
{
    if (!ctx)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(ctx, path && out, SGAD_E_INVALID_ARG, "%s: path or out is NULL", fn_load);
    *out = NULL;
    unsigned char *buf;
    size_t size;
    /* The largest payload of 8-byte values plus 1 MiB of header: a file
     * beyond that is refused unread (NumPy writes headers of a few hundred
     * bytes); the exact length check is read_values'. */
    SGAD__TRY(sgad__read_file(ctx, fn_load, path, (size_t)SGAD_MATRIX_MAX_VALUES * 8 + (1u << 20),
                              &buf, &size));
    const source src = {ctx, fn_load, path};
    layout l;
    sgad_status s = read_matrix(&src, buf, size, &l);
    double *m = NULL;
    if (s == SGAD_OK) {
        m = sgad__alloc(ctx, (size_t)(l.rows * l.cols) * sizeof *m);
        s = m ? read_values(&src, buf, size, &l, m) : SGAD_E_NOMEM;
    }
    sgad__free(ctx, buf);
    if (s != SGAD_OK) {
        sgad__free(ctx, m);
        return s;
    }
    *out = m;
    if (rows)
        *rows = l.rows;
    if (cols)
        *cols = l.cols;
    return SGAD_OK;
}

void sgad_matrix_free(sgad_ctx *ctx, double *matrix)
{
    if (ctx)
        sgad__free(ctx, matrix);
}
