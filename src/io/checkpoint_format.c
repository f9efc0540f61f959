/* SPDX-License-Identifier: MIT */
/* Reading a checkpoint: the safetensors layout, validated before anything
 * in it is trusted. The rules, in the order they are checked:
 *   - at least 8 bytes; the header length n is at most 16 MiB and fits;
 *   - the header is one JSON object (jansson, duplicate keys rejected);
 *   - "__metadata__" is an object of strings; every other key is a tensor
 *     name of 1..255 printable ASCII characters whose value has exactly
 *     "dtype" ("F32"), "shape" (1..6 dims, each 1..2^31-1) and
 *     "data_offsets" ([begin, end], integers >= 0);
 *   - 4 * prod(shape) == end - begin, computed without overflow;
 *   - sorted by begin, the tensors tile the data section exactly: the first
 *     begins at 0, each begins where the previous ends, the last ends at
 *     the end of the file (no gaps, overlaps or trailing bytes);
 *   - the metadata names this format and version and holds a CRC-32 of
 *     the whole file (taken with its own digits as zeros), which must
 *     match. Structure is checked first: a CRC only guards against
 *     accidents, anyone can recompute it. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "checkpoint_impl.h"

static const char fn[] = "sgad_checkpoint_read";

static void free_partial(sgad_checkpoint *c)
{
    sgad_ctx *ctx = c->ctx;
    for (int i = 0; i < c->ntensors; i++)
        sgad__free(ctx, c->tensors[i].name);
    for (int i = 0; i < c->nmeta; i++) {
        sgad__free(ctx, c->keys[i]);
        sgad__free(ctx, c->values[i]);
    }
    sgad__free(ctx, c->tensors);
    sgad__free(ctx, c->keys);
    sgad__free(ctx, c->values);
    sgad__free(ctx, c->file);
    sgad__free(ctx, c);
}

void sgad_checkpoint_free(sgad_checkpoint *c)
{
    if (c)
        free_partial(c);
}

static char *copy_string(sgad_ctx *ctx, const char *s)
{
    const size_t n = strlen(s) + 1;
    char *p = sgad__alloc(ctx, n);
    if (p)
        memcpy(p, s, n);
    return p;
}

static int valid_name(const char *s)
{
    const size_t n = strlen(s);
    if (n == 0 || n > SGAD__CKPT_MAX_NAME)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
            return 0;
    return 1;
}

static sgad_status parse_metadata(sgad_checkpoint *c, json_t *meta)
{
    SGAD__CHECK(c->ctx, json_is_object(meta), SGAD_E_FORMAT, "%s: __metadata__ is not an object",
                fn);
    const size_t n = json_object_size(meta);
    SGAD__CHECK(c->ctx, n <= SGAD__CKPT_MAX_META, SGAD_E_FORMAT,
                "%s: %zu metadata entries, more than %d", fn, n, SGAD__CKPT_MAX_META);
    c->keys = sgad__calloc(c->ctx, n ? n : 1, sizeof *c->keys);
    c->values = sgad__calloc(c->ctx, n ? n : 1, sizeof *c->values);
    if (!c->keys || !c->values)
        return SGAD_E_NOMEM;
    const char *key;
    json_t *value;
    json_object_foreach(meta, key, value)
    {
        SGAD__CHECK(c->ctx, json_is_string(value), SGAD_E_FORMAT,
                    "%s: metadata entry \"%.64s\" is not a string", fn, key);
        c->keys[c->nmeta] = copy_string(c->ctx, key);
        c->values[c->nmeta] = copy_string(c->ctx, json_string_value(value));
        c->nmeta++;
        if (!c->keys[c->nmeta - 1] || !c->values[c->nmeta - 1])
            return SGAD_E_NOMEM;
    }
    return SGAD_OK;
}

static sgad_status parse_shape(sgad_checkpoint *c, const char *name, json_t *shape,
                               sgad__ckpt_tensor *t, uint64_t *bytes)
{
    const size_t nd = json_is_array(shape) ? json_array_size(shape) : 0;
    SGAD__CHECK(c->ctx, nd >= 1 && nd <= SGAD_MAX_DIMS, SGAD_E_FORMAT,
                "%s: tensor %s: shape must be an array of 1 to %d dimensions", fn, name,
                SGAD_MAX_DIMS);
    uint64_t numel = 1;
    for (size_t i = 0; i < nd; i++) {
        json_t *d = json_array_get(shape, i);
        const json_int_t v = json_is_integer(d) ? json_integer_value(d) : -1;
        SGAD__CHECK(c->ctx, v >= 1 && v <= INT32_MAX, SGAD_E_FORMAT,
                    "%s: tensor %s: dimension %zu is not an integer in [1, 2^31)", fn, name, i);
        t->dims[i] = (int64_t)v;
        /* numel stays below 2^40 here, so the product cannot overflow */
        numel *= (uint64_t)v;
        SGAD__CHECK(c->ctx, numel <= ((uint64_t)1 << 40), SGAD_E_FORMAT,
                    "%s: tensor %s has more than 2^40 elements", fn, name);
    }
    t->ndim = (int)nd;
    *bytes = numel * 4;
    return SGAD_OK;
}

static sgad_status parse_offsets(sgad_checkpoint *c, const char *name, json_t *off,
                                 sgad__ckpt_tensor *t, uint64_t bytes)
{
    SGAD__CHECK(c->ctx, json_is_array(off) && json_array_size(off) == 2, SGAD_E_FORMAT,
                "%s: tensor %s: data_offsets must be [begin, end]", fn, name);
    json_t *b = json_array_get(off, 0), *e = json_array_get(off, 1);
    SGAD__CHECK(c->ctx,
                json_is_integer(b) && json_is_integer(e) && json_integer_value(b) >= 0 &&
                    json_integer_value(e) >= json_integer_value(b),
                SGAD_E_FORMAT, "%s: tensor %s: data_offsets must be integers 0 <= begin <= end", fn,
                name);
    t->begin = (uint64_t)json_integer_value(b);
    t->end = (uint64_t)json_integer_value(e);
    SGAD__CHECK(c->ctx, t->end - t->begin == bytes, SGAD_E_FORMAT,
                "%s: tensor %s: data_offsets span %llu bytes, its shape needs %llu", fn, name,
                (unsigned long long)(t->end - t->begin), (unsigned long long)bytes);
    return SGAD_OK;
}

static sgad_status parse_tensor(sgad_checkpoint *c, const char *name, json_t *v)
{
    SGAD__CHECK(c->ctx, valid_name(name), SGAD_E_FORMAT,
                "%s: tensor name \"%.64s\" is empty, longer than %d bytes or not printable "
                "ASCII",
                fn, name, SGAD__CKPT_MAX_NAME);
    SGAD__CHECK(c->ctx, json_is_object(v) && json_object_size(v) == 3, SGAD_E_FORMAT,
                "%s: tensor %s must have exactly dtype, shape and data_offsets", fn, name);
    json_t *dtype = json_object_get(v, "dtype"), *shape = json_object_get(v, "shape");
    json_t *off = json_object_get(v, "data_offsets");
    SGAD__CHECK(c->ctx, dtype && shape && off, SGAD_E_FORMAT,
                "%s: tensor %s must have exactly dtype, shape and data_offsets", fn, name);
    SGAD__CHECK(c->ctx, json_is_string(dtype) && strcmp(json_string_value(dtype), "F32") == 0,
                SGAD_E_FORMAT, "%s: tensor %s: dtype %.16s; libsgad checkpoints hold F32 only", fn,
                name, json_is_string(dtype) ? json_string_value(dtype) : "(not a string)");
    sgad__ckpt_tensor *t = &c->tensors[c->ntensors];
    uint64_t bytes = 0;
    SGAD__TRY(parse_shape(c, name, shape, t, &bytes));
    SGAD__TRY(parse_offsets(c, name, off, t, bytes));
    t->name = copy_string(c->ctx, name);
    if (!t->name)
        return SGAD_E_NOMEM;
    c->ntensors++;
    return SGAD_OK;
}

static int by_begin(const void *a, const void *b)
{
    const sgad__ckpt_tensor *x = a, *y = b;
    return (x->begin > y->begin) - (x->begin < y->begin);
}

/* Sorted by offset, the tensors must tile the data section exactly. */
static sgad_status check_tiling(sgad_checkpoint *c)
{
    qsort(c->tensors, (size_t)c->ntensors, sizeof *c->tensors, by_begin);
    uint64_t expect = 0;
    for (int i = 0; i < c->ntensors; i++) {
        const sgad__ckpt_tensor *t = &c->tensors[i];
        SGAD__CHECK(c->ctx, t->begin == expect, SGAD_E_FORMAT,
                    "%s: tensor %s begins at byte %llu of the data, expected %llu (a gap or an "
                    "overlap)",
                    fn, t->name, (unsigned long long)t->begin, (unsigned long long)expect);
        expect = t->end;
    }
    SGAD__CHECK(c->ctx, expect == c->data_size, SGAD_E_FORMAT,
                "%s: the tensors cover %llu bytes of data, the file has %llu", fn,
                (unsigned long long)expect, (unsigned long long)c->data_size);
    return SGAD_OK;
}

static sgad_status parse_header(sgad_checkpoint *c, json_t *root)
{
    SGAD__CHECK(c->ctx, json_is_object(root), SGAD_E_FORMAT,
                "%s: the header is not a JSON "
                "object",
                fn);
    const size_t n = json_object_size(root);
    SGAD__CHECK(c->ctx, n <= SGAD__CKPT_MAX_TENSORS + 1, SGAD_E_FORMAT,
                "%s: %zu header entries, more than %d", fn, n, SGAD__CKPT_MAX_TENSORS + 1);
    c->tensors = sgad__calloc(c->ctx, n ? n : 1, sizeof *c->tensors);
    if (!c->tensors)
        return SGAD_E_NOMEM;
    json_t *meta = json_object_get(root, "__metadata__");
    SGAD__CHECK(c->ctx, meta != NULL, SGAD_E_FORMAT,
                "%s: no __metadata__: not a libsgad "
                "checkpoint",
                fn);
    SGAD__TRY(parse_metadata(c, meta));
    const char *key;
    json_t *value;
    json_object_foreach(root, key, value)
    {
        if (strcmp(key, "__metadata__") != 0)
            SGAD__TRY(parse_tensor(c, key, value));
    }
    return check_tiling(c);
}

/* The checksum covers the whole file with its own 8 digits read as "0":
 * a flipped bit anywhere, header included, is caught. The raw header must
 * hold the key exactly once (inside a JSON string a quote is escaped, so
 * the pattern cannot hide there). */
static sgad_status check_checksum(sgad_checkpoint *c, uint64_t header_len)
{
    static const char pattern[] = "\"checksum\":\"crc32:";
    const size_t plen = sizeof pattern - 1;
    const char *h = (const char *)c->file + 8, *at = NULL;
    int found = 0;
    for (uint64_t i = 0; i + plen + 9 <= header_len; i++)
        if (memcmp(h + i, pattern, plen) == 0) {
            at = h + i + plen;
            found++;
        }
    SGAD__CHECK(c->ctx, found == 1, SGAD_E_FORMAT,
                "%s: the header must hold one checksum of "
                "the form crc32:xxxxxxxx (found %d)",
                fn, found);
    unsigned long want = 0;
    for (int i = 0; i < 8; i++) {
        const char d = at[i];
        SGAD__CHECK(c->ctx, (d >= '0' && d <= '9') || (d >= 'a' && d <= 'f'), SGAD_E_FORMAT,
                    "%s: the checksum must be 8 lowercase hex digits", fn);
        want = want << 4 | (unsigned long)(d <= '9' ? d - '0' : d - 'a' + 10);
    }
    SGAD__CHECK(c->ctx, at[8] == '"', SGAD_E_FORMAT,
                "%s: the checksum must be 8 lowercase hex "
                "digits",
                fn);
    const size_t pos = (size_t)((const unsigned char *)at - c->file);
    uLong crc = crc32_z(0L, Z_NULL, 0);
    crc = crc32_z(crc, c->file, pos);
    crc = crc32_z(crc, (const Bytef *)"00000000", 8);
    crc = crc32_z(crc, c->file + pos + 8, c->size - pos - 8);
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
    want = crc; /* let mutated files reach the checks behind this one */
#endif
    SGAD__CHECK(c->ctx, crc == want, SGAD_E_FORMAT,
                "%s: checksum %08lx, the header says %08lx: the file is damaged", fn,
                (unsigned long)crc, want);
    return SGAD_OK;
}

static sgad_status check_metadata(sgad_checkpoint *c, uint64_t header_len)
{
    const char *format = sgad_checkpoint_meta(c, "format");
    const char *version = sgad_checkpoint_meta(c, "format_version");
    SGAD__CHECK(c->ctx, format && strcmp(format, SGAD__CKPT_FORMAT) == 0, SGAD_E_FORMAT,
                "%s: metadata format is not \"%s\": not a libsgad checkpoint", fn,
                SGAD__CKPT_FORMAT);
    SGAD__CHECK(c->ctx, version && strcmp(version, SGAD__CKPT_VERSION) == 0, SGAD_E_FORMAT,
                "%s: format version %.16s; this libsgad reads version %s", fn,
                version ? version : "(none)", SGAD__CKPT_VERSION);
    return check_checksum(c, header_len);
}

sgad_status sgad__checkpoint_parse(sgad_ctx *ctx, unsigned char *file, size_t size,
                                   sgad_checkpoint **out)
{
    *out = NULL;
    sgad_checkpoint *c = sgad__calloc(ctx, 1, sizeof *c);
    if (!c) {
        sgad__free(ctx, file);
        return SGAD_E_NOMEM;
    }
    c->ctx = ctx;
    c->file = file;
    c->size = size;
    sgad_status s = SGAD_OK;
    uint64_t n = 0;
    if (size < 8)
        s = sgad__fail(ctx, SGAD_E_FORMAT,
                       "%s: %zu bytes, shorter than the 8-byte header "
                       "length",
                       fn, size);
    for (int i = 7; s == SGAD_OK && i >= 0; i--)
        n = n << 8 | file[i];
    if (s == SGAD_OK && (n < 2 || n > SGAD__CKPT_MAX_HEADER || n > size - 8))
        s = sgad__fail(ctx, SGAD_E_FORMAT,
                       "%s: header length %llu is not in [2, %llu] or runs "
                       "past the end of the %zu-byte file",
                       fn, (unsigned long long)n, (unsigned long long)SGAD__CKPT_MAX_HEADER, size);
    if (s == SGAD_OK) {
        c->data = file + 8 + n;
        c->data_size = size - 8 - n;
        json_error_t err;
        json_t *root = json_loadb((const char *)file + 8, (size_t)n, JSON_REJECT_DUPLICATES, &err);
        if (!root)
            s = sgad__fail(ctx, SGAD_E_FORMAT, "%s: header is not valid JSON: %s (column %d)", fn,
                           err.text, err.column);
        else
            s = parse_header(c, root);
        json_decref(root);
    }
    if (s == SGAD_OK)
        s = check_metadata(c, n);
    if (s != SGAD_OK) {
        free_partial(c);
        return s;
    }
    *out = c;
    return SGAD_OK;
}

const sgad__ckpt_tensor *sgad__checkpoint_find(const sgad_checkpoint *c, const char *name)
{
    for (int i = 0; i < c->ntensors; i++)
        if (strcmp(c->tensors[i].name, name) == 0)
            return &c->tensors[i];
    return NULL;
}

/* ---- the public read-only view ------------------------------------------- */

int sgad_checkpoint_meta_count(const sgad_checkpoint *c)
{
    return c ? c->nmeta : 0;
}

sgad_status sgad_checkpoint_meta_entry(const sgad_checkpoint *c, int i, const char **key,
                                       const char **value)
{
    if (!c)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(c->ctx, i >= 0 && i < c->nmeta, SGAD_E_INVALID_ARG,
                "sgad_checkpoint_meta_entry: index %d outside [0, %d)", i, c->nmeta);
    if (key)
        *key = c->keys[i];
    if (value)
        *value = c->values[i];
    return SGAD_OK;
}

const char *sgad_checkpoint_meta(const sgad_checkpoint *c, const char *key)
{
    if (!c || !key)
        return NULL;
    for (int i = 0; i < c->nmeta; i++)
        if (strcmp(c->keys[i], key) == 0)
            return c->values[i];
    return NULL;
}

int sgad_checkpoint_tensor_count(const sgad_checkpoint *c)
{
    return c ? c->ntensors : 0;
}

sgad_status sgad_checkpoint_tensor_info(const sgad_checkpoint *c, int i, const char **name,
                                        int *ndim, int64_t *dims)
{
    if (!c)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(c->ctx, i >= 0 && i < c->ntensors, SGAD_E_INVALID_ARG,
                "sgad_checkpoint_tensor_info: index %d outside [0, %d)", i, c->ntensors);
    const sgad__ckpt_tensor *t = &c->tensors[i];
    if (name)
        *name = t->name;
    if (ndim)
        *ndim = t->ndim;
    if (dims)
        memcpy(dims, t->dims, (size_t)t->ndim * sizeof *dims);
    return SGAD_OK;
}

sgad_status sgad_checkpoint_tensor_read(const sgad_checkpoint *c, const char *name,
                                        sgad_tensor *dst)
{
    static const char f[] = "sgad_checkpoint_tensor_read";
    if (!c)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(c->ctx, name && dst, SGAD_E_INVALID_ARG, "%s: name or dst is NULL", f);
    const sgad__ckpt_tensor *t = sgad__checkpoint_find(c, name);
    SGAD__CHECK(c->ctx, t != NULL, SGAD_E_INVALID_ARG, "%s: no tensor %.64s", f, name);
    SGAD__CHECK(c->ctx, (uint64_t)dst->numel * 4 == t->end - t->begin, SGAD_E_SHAPE,
                "%s: %s holds %llu values, dst %lld", f, name,
                (unsigned long long)((t->end - t->begin) / 4), (long long)dst->numel);
    memcpy(dst->data, c->data + t->begin, (size_t)(t->end - t->begin));
    return SGAD_OK;
}
