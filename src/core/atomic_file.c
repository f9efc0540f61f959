/* SPDX-License-Identifier: MIT */
/* Crash-safe file replacement and whole-file reads (atomic_file.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "rng.h"

sgad_status sgad__write_all(sgad_ctx *ctx, const char *fn, int fd, const void *buf, size_t n)
{
    const unsigned char *b = buf;
    while (n > 0) {
        const ssize_t w = write(fd, b, n > ((size_t)1 << 30) ? (size_t)1 << 30 : n);
        if (w < 0 && errno == EINTR)
            continue;
        SGAD__CHECK(ctx, w > 0, SGAD_E_IO, "%s: write failed: %s", fn,
                    w < 0 ? strerror(errno) : "no progress");
        b += w;
        n -= (size_t)w;
    }
    return SGAD_OK;
}

static sgad_status open_temp(sgad_ctx *ctx, const char *fn, const char *path, char *tmp, size_t cap,
                             int *fd)
{
    for (uint64_t attempt = 0; attempt < 16; attempt++) {
        const uint64_t tag = sgad__rng_u64((uint64_t)getpid(), sgad__ctx_next_stream(ctx), attempt);
        const int n = snprintf(tmp, cap, "%s.tmp-%08llx", path, (unsigned long long)(tag >> 32));
        SGAD__CHECK(ctx, n > 0 && (size_t)n < cap, SGAD_E_INVALID_ARG,
                    "%s: path too long: "
                    "%.64s...",
                    fn, path);
        *fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (*fd >= 0)
            return SGAD_OK;
        SGAD__CHECK(ctx, errno == EEXIST || errno == EINTR, SGAD_E_IO, "%s: cannot create %s: %s",
                    fn, tmp, strerror(errno));
    }
    return sgad__fail(ctx, SGAD_E_IO, "%s: no free temporary name beside %s", fn, path);
}

/* Flushes the directory holding path, so the rename itself is durable. */
static sgad_status sync_dir(sgad_ctx *ctx, const char *fn, const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    const size_t n = slash ? (size_t)(slash - path) : 0;
    SGAD__CHECK(ctx, n < sizeof dir, SGAD_E_INVALID_ARG, "%s: path too long", fn);
    if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else if (slash)
        snprintf(dir, sizeof dir, "%.*s", (int)n, path);
    else
        snprintf(dir, sizeof dir, ".");
    const int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    SGAD__CHECK(ctx, fd >= 0, SGAD_E_IO, "%s: saved, but cannot open %s to flush it: %s", fn, dir,
                strerror(errno));
    const int r = fsync(fd);
    const int e = errno;
    close(fd);
    SGAD__CHECK(ctx, r == 0, SGAD_E_IO, "%s: saved, but flushing directory %s failed: %s", fn, dir,
                strerror(e));
    return SGAD_OK;
}

/* Writes, flushes and closes the temporary file; keeps an existing file's
 * permissions. */
static sgad_status fill_temp(sgad_ctx *ctx, const char *fn, const char *path, int fd,
                             sgad_status (*emit)(void *, int), void *user)
{
    struct stat st;
    if (stat(path, &st) == 0)
        SGAD__CHECK(ctx, fchmod(fd, st.st_mode & 07777) == 0, SGAD_E_IO,
                    "%s: cannot copy the permissions of %s: %s", fn, path, strerror(errno));
    SGAD__TRY(emit(user, fd));
    /* A failed fsync is not retried: Linux may have dropped the pages. */
    SGAD__CHECK(ctx, fsync(fd) == 0, SGAD_E_IO, "%s: fsync failed: %s", fn, strerror(errno));
    return SGAD_OK;
}

sgad_status sgad__atomic_write(sgad_ctx *ctx, const char *fn, const char *path,
                               sgad_status (*emit)(void *user, int fd), void *user)
{
    char tmp[4096];
    int fd = -1;
    SGAD__TRY(open_temp(ctx, fn, path, tmp, sizeof tmp, &fd));
    sgad_status st = fill_temp(ctx, fn, path, fd, emit, user);
    if (close(fd) != 0 && st == SGAD_OK)
        st = sgad__fail(ctx, SGAD_E_IO, "%s: closing %s failed: %s", fn, tmp, strerror(errno));
    if (st == SGAD_OK && rename(tmp, path) != 0)
        st = sgad__fail(ctx, SGAD_E_IO, "%s: cannot rename %s to %s: %s", fn, tmp, path,
                        strerror(errno));
    if (st != SGAD_OK) {
        unlink(tmp);
        return st;
    }
    return sync_dir(ctx, fn, path);
}

sgad_status sgad__read_file(sgad_ctx *ctx, const char *fn, const char *path, size_t max,
                            unsigned char **out, size_t *size)
{
    *out = NULL;
    *size = 0;
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    SGAD__CHECK(ctx, fd >= 0, SGAD_E_IO, "%s: cannot open %s: %s", fn, path, strerror(errno));
    struct stat st;
    sgad_status s = SGAD_OK;
    if (fstat(fd, &st) != 0)
        s = sgad__fail(ctx, SGAD_E_IO, "%s: cannot stat %s: %s", fn, path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        s = sgad__fail(ctx, SGAD_E_IO, "%s: %s is not a regular file", fn, path);
    else if (st.st_size < 0 || (uint64_t)st.st_size > (uint64_t)max)
        s = sgad__fail(ctx, SGAD_E_FORMAT, "%s: %s is larger than %zu bytes", fn, path, max);
    const size_t n = s == SGAD_OK ? (size_t)st.st_size : 0;
    unsigned char *buf = s == SGAD_OK ? sgad__alloc(ctx, n ? n : 1) : NULL;
    if (s == SGAD_OK && !buf)
        s = SGAD_E_NOMEM;
    size_t got = 0;
    while (s == SGAD_OK && got < n) {
        const ssize_t r =
            read(fd, buf + got, n - got > ((size_t)1 << 30) ? (size_t)1 << 30 : n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            s = sgad__fail(ctx, SGAD_E_IO, "%s: reading %s: %s", fn, path,
                           r < 0 ? strerror(errno) : "the file shrank while being read");
        else
            got += (size_t)r;
    }
    close(fd);
    if (s != SGAD_OK) {
        sgad__free(ctx, buf);
        return s;
    }
    *out = buf;
    *size = n;
    return SGAD_OK;
}
