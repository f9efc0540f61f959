/* Writing a checkpoint: one canonical byte sequence for a given state (the
 * tensors in the state's order, the metadata in its order, the JSON padded
 * with spaces to a multiple of 8 bytes), to memory or crash-safely to a
 * file: temporary file in the same directory, write, fsync, close, rename,
 * fsync of the directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "checkpoint_impl.h"
#include "rng.h"

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
static sgad_status build_header(sgad_ctx *ctx, const sgad__state *s, text *h)
{
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

static uint64_t data_bytes(const sgad__state *s)
{
    uint64_t n = 0;
    for (int i = 0; i < s->count; i++)
        n += (uint64_t)s->entries[i].tensor->numel * sizeof(float);
    return n;
}

sgad_status sgad__checkpoint_size(sgad_ctx *ctx, const sgad__state *s, size_t *size)
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
    if (k->fd < 0) {
        SGAD__CHECK(k->ctx, n <= k->cap - k->pos, SGAD_E_INTERNAL,
                    "sgad_checkpoint_save: the buffer is smaller than the size computed");
        memcpy(k->mem + k->pos, p, n);
        k->pos += n;
        return SGAD_OK;
    }
    const unsigned char *b = p;
    while (n > 0) {
        const ssize_t w = write(k->fd, b, n > ((size_t)1 << 30) ? (size_t)1 << 30 : n);
        if (w < 0 && errno == EINTR)
            continue;
        SGAD__CHECK(k->ctx, w > 0, SGAD_E_IO, "sgad_checkpoint_save: write failed: %s",
                    w < 0 ? strerror(errno) : "no progress");
        b += w;
        n -= (size_t)w;
    }
    return SGAD_OK;
}

/* The checksum is the CRC-32 of the whole file as written with the
 * checksum's digits as "00000000": length, header and data are covered. */
static void set_checksum(const sgad__state *s, const unsigned char len[8], text *h)
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

sgad_status sgad__checkpoint_emit(sgad_ctx *ctx, const sgad__state *s, sgad__sink *sink)
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

static sgad_status open_temp(sgad_ctx *ctx, const char *path, char *tmp, size_t cap, int *fd)
{
    static const char fn[] = "sgad_checkpoint_save";
    for (uint64_t attempt = 0; attempt < 16; attempt++) {
        const uint64_t tag = sgad__rng_u64((uint64_t)getpid(), sgad__ctx_next_stream(ctx), attempt);
        const int n = snprintf(tmp, cap, "%s.tmp-%08llx", path, (unsigned long long)(tag >> 32));
        SGAD__CHECK(ctx, n > 0 && (size_t)n < cap, SGAD_E_INVALID_ARG, "%s: path too long: %.64s...",
                    fn, path);
        *fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (*fd >= 0)
            return SGAD_OK;
        SGAD__CHECK(ctx, errno == EEXIST || errno == EINTR, SGAD_E_IO,
                    "%s: cannot create %s: %s", fn, tmp, strerror(errno));
    }
    return sgad__fail(ctx, SGAD_E_IO, "%s: no free temporary name beside %s", fn, path);
}

/* Flushes the directory holding path, so the rename itself is durable. */
static sgad_status sync_dir(sgad_ctx *ctx, const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    const size_t n = slash ? (size_t)(slash - path) : 0;
    SGAD__CHECK(ctx, n < sizeof dir, SGAD_E_INVALID_ARG, "sgad_checkpoint_save: path too long");
    if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else if (slash)
        snprintf(dir, sizeof dir, "%.*s", (int)n, path);
    else
        snprintf(dir, sizeof dir, ".");
    const int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    SGAD__CHECK(ctx, fd >= 0, SGAD_E_IO, "sgad_checkpoint_save: saved, but cannot open %s to "
                "flush it: %s", dir, strerror(errno));
    const int r = fsync(fd);
    const int e = errno;
    close(fd);
    SGAD__CHECK(ctx, r == 0, SGAD_E_IO, "sgad_checkpoint_save: saved, but flushing directory "
                "%s failed: %s", dir, strerror(e));
    return SGAD_OK;
}

/* Writes, flushes and closes the temporary file; keeps an existing file's
 * permissions. */
static sgad_status fill_temp(sgad_ctx *ctx, const char *path, int fd, const sgad__state *s)
{
    static const char fn[] = "sgad_checkpoint_save";
    struct stat st;
    if (stat(path, &st) == 0)
        SGAD__CHECK(ctx, fchmod(fd, st.st_mode & 07777) == 0, SGAD_E_IO,
                    "%s: cannot copy the permissions of %s: %s", fn, path, strerror(errno));
    sgad__sink sink = {ctx, fd, NULL, 0, 0};
    SGAD__TRY(sgad__checkpoint_emit(ctx, s, &sink));
    /* A failed fsync is not retried: Linux may have dropped the pages. */
    SGAD__CHECK(ctx, fsync(fd) == 0, SGAD_E_IO, "%s: fsync failed: %s", fn, strerror(errno));
    return SGAD_OK;
}

sgad_status sgad__atomic_save(sgad_ctx *ctx, const char *path, const sgad__state *s)
{
    static const char fn[] = "sgad_checkpoint_save";
    char tmp[4096];
    int fd = -1;
    SGAD__TRY(open_temp(ctx, path, tmp, sizeof tmp, &fd));
    sgad_status st = fill_temp(ctx, path, fd, s);
    if (close(fd) != 0 && st == SGAD_OK)
        st = sgad__fail(ctx, SGAD_E_IO, "%s: closing %s failed: %s", fn, tmp, strerror(errno));
    if (st == SGAD_OK && rename(tmp, path) != 0)
        st = sgad__fail(ctx, SGAD_E_IO, "%s: cannot rename %s to %s: %s", fn, tmp, path,
                        strerror(errno));
    if (st != SGAD_OK) {
        unlink(tmp);
        return st;
    }
    return sync_dir(ctx, path);
}
