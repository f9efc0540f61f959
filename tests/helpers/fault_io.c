/* SPDX-License-Identifier: MIT */
/* An LD_PRELOAD shim that makes the n-th call of one file-system function
 * fail, for the checkpoint crash tests:
 *   SGAD_FAULT_OP = open | write | fsync | close | rename
 *   SGAD_FAULT_AT = n (1-based; calls on fds 0-2 are not counted)
 * The failing call returns -1 with errno EIO (ENOSPC for write), as a
 * full or failing disk would. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static long counter;

static int should_fail(const char *op)
{
    const char *want = getenv("SGAD_FAULT_OP"), *at = getenv("SGAD_FAULT_AT");
    if (!want || !at || strcmp(want, op) != 0)
        return 0;
    return ++counter == atol(at);
}

ssize_t write(int fd, const void *buf, size_t n)
{
    static ssize_t (*real)(int, const void *, size_t);
    if (!real)
        real = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    if (fd > 2 && should_fail("write")) {
        errno = ENOSPC;
        return -1;
    }
    return real(fd, buf, n);
}

int fsync(int fd)
{
    static int (*real)(int);
    if (!real)
        real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    if (should_fail("fsync")) {
        errno = EIO;
        return -1;
    }
    return real(fd);
}

int close(int fd)
{
    static int (*real)(int);
    if (!real)
        real = (int (*)(int))dlsym(RTLD_NEXT, "close");
    if (fd > 2 && should_fail("close")) {
        real(fd); /* the descriptor is gone either way, as on Linux */
        errno = EIO;
        return -1;
    }
    return real(fd);
}

int rename(const char *from, const char *to)
{
    static int (*real)(const char *, const char *);
    if (!real)
        real = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
    if (should_fail("rename")) {
        errno = EIO;
        return -1;
    }
    return real(from, to);
}

int open(const char *path, int flags, ...)
{
    static int (*real)(const char *, int, ...);
    if (!real)
        real = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
    mode_t mode = 0;
    if (flags & O_CREAT) {
        va_list ap;
        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, int);
        va_end(ap);
    }
    if (should_fail("open")) {
        errno = EIO;
        return -1;
    }
    return real(path, flags, mode);
}
