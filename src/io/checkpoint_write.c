/* SPDX-License-Identifier: MIT */
/* Writing a checkpoint: one canonical byte sequence for given contents (the
 * tensors in their list's order, the metadata in its order, the JSON padded
 * with spaces to a multiple of 8 bytes), to memory or crash-safely to a
 * file: temporary file in the same directory, write, fsync, close, rename,
 * fsync of the directory. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "checkpoint_impl.h"
#include "core/atomic_file.h"

/* ---- the header ---------------------------------------------------------- */

typedef struct text {
    sgad_ctx *ctx;
    char *buf;
    size_t len, cap;
    int failed;
} text;

static void append(text *t, const char *s, size_t n)
{
    if (t->failed)
        return;
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        while (cap < t->len + n + 1)
            cap *= 2;
        char *p = sgad__alloc(t->ctx, cap);
        if (!p) {
            t->failed = 1;
            return;
        }
        if (t->len)
            memcpy(p, t->buf, t->len);
        sgad__free(t->ctx, t->buf);
        t->buf = p;
        t->cap = cap;
    }
    memcpy(t->buf + t->len, s, n);
    t->len += n;
    t->buf[t->len] = '\0';
}

static void appendf(text *t, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void appendf(text *t, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    const int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof small)
        t->failed = 1; /* our names and values are far shorter */
    else
        append(t, small, (size_t)n);
}

/* The JSON header, padded so that the data starts 8-byte aligned, with
 * the checksum's 8 hex digits as zeros (see set_checksum). Names and values
 * are ours (printable ASCII without quotes or backslashes), so they need no
 * escaping. */
static sgad_status build_header(sgad_ctx *ctx, const sgad__ckpt_contents *s, text *h)
{
    SGAD__CHECK(ctx, s->nmeta <= SGAD__CKPT_META_SLOTS, SGAD_E_INTERNAL,
                "sgad_checkpoint_save: %d metadata entries, more than the %d slots", s->nmeta,
                SGAD__CKPT_META_SLOTS);
    memset(h, 0, sizeof *h);
    h->ctx = ctx;
    append(h, "{\"__metadata__\":{", 17);
    for (int i = 0; i < s->nmeta; i++)
        appendf(h, "%s\"%s\":\"%s\"", i ? "," : "", s->keys[i], s->values[i]);
    static const char checksum[] = ",\"checksum\":\"crc32:00000000\"}";
    append(h, checksum, sizeof checksum - 1);
    uint64_t offset = 0;
    for (int i = 0; i < s->count; i++) {
        const sgad_tensor *v = s->entries[i].tensor;
        appendf(h, ",\"%s\":{\"dtype\":\"F32\",\"shape\":[", s->entries[i].name);
        for (int d = 0; d < v->ndim; d++)
            appendf(h, "%s%lld", d ? "," : "", (long long)v->dims[d]);
        const uint64_t end = offset + (uint64_t)v->numel * sizeof(float);
        appendf(h, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)offset,
                (unsigned long long)end);
        offset = end;
    }
    append(h, "}", 1);
    while (!h->failed && (h->len + 8) % 8 != 0)
        append(h, " ", 1);
    if (h->failed) {
        sgad__free(ctx, h->buf);
        return sgad__fail(ctx, SGAD_E_NOMEM, "sgad_checkpoint_save: no memory for the header");
    }
    return SGAD_OK;
}

static uint64_t data_bytes(const sgad__ckpt_contents *s)
{
    uint64_t n = 0;
    for (int i = 0; i < s->count; i++)
        n += (uint64_t)s->entries[i].tensor->numel * sizeof(float);
    return n;
}

sgad_status sgad__checkpoint_size(sgad_ctx *ctx, const sgad__ckpt_contents *s, size_t *size)
{
    text h;
    SGAD__TRY(build_header(ctx, s, &h));
    *size = 8 + h.len + (size_t)data_bytes(s);
    sgad__free(ctx, h.buf);
    return SGAD_OK;
}

/* ---- sinks ---------------------------------------------------------------- */

static sgad_status sink_write(sgad__sink *k, const void *p, size_t n)
{
    if (k->fd >= 0)
        return sgad__write_all(k->ctx, "sgad_checkpoint_save", k->fd, p, n);
    SGAD__CHECK(k->ctx, n <= k->cap - k->pos, SGAD_E_INTERNAL,
                "sgad_checkpoint_save: the buffer is smaller than the size computed");
    memcpy(k->mem + k->pos, p, n);
    k->pos += n;
    return SGAD_OK;
}

/* The checksum is the CRC-32 of the whole file as written with the
 * checksum's digits as "00000000": length, header and data are covered. */
static void set_checksum(const sgad__ckpt_contents *s, const unsigned char len[8], text *h)
{
    uLong crc = crc32_z(0L, Z_NULL, 0);
    crc = crc32_z(crc, len, 8);
    crc = crc32_z(crc, (const Bytef *)h->buf, h->len);
    for (int i = 0; i < s->count; i++)
        crc = crc32_z(crc, (const Bytef *)s->entries[i].tensor->data,
                      (z_size_t)s->entries[i].tensor->numel * sizeof(float));
    char digits[9];
    snprintf(digits, sizeof digits, "%08lx", (unsigned long)crc);
    memcpy(strstr(h->buf, "\"checksum\":\"crc32:") + 18, digits, 8);
}

sgad_status sgad__checkpoint_emit(sgad_ctx *ctx, const sgad__ckpt_contents *s, sgad__sink *sink)
{
    text h;
    SGAD__TRY(build_header(ctx, s, &h));
    unsigned char len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (unsigned char)((uint64_t)h.len >> (8 * i));
    set_checksum(s, len, &h);
    sgad_status st = sink_write(sink, len, 8);
    if (st == SGAD_OK)
        st = sink_write(sink, h.buf, h.len);
    sgad__free(ctx, h.buf);
    for (int i = 0; st == SGAD_OK && i < s->count; i++)
        st = sink_write(sink, s->entries[i].tensor->data,
                        (size_t)s->entries[i].tensor->numel * sizeof(float));
    return st;
}

/* ---- crash-safe files ------------------------------------------------------ */

typedef struct emit_job {
    sgad_ctx *ctx;
    const sgad__ckpt_contents *s;
} emit_job;

static sgad_status emit_to_fd(void *user, int fd)
{
    emit_job *job = user;
    sgad__sink sink = {job->ctx, fd, NULL, 0, 0};
    return sgad__checkpoint_emit(job->ctx, job->s, &sink);
}

sgad_status sgad__atomic_save(sgad_ctx *ctx, const char *path, const sgad__ckpt_contents *s)
{
    emit_job job = {ctx, s};
    return sgad__atomic_write(ctx, "sgad_checkpoint_save", path, emit_to_fd, &job);
}
