/* SPDX-License-Identifier: MIT */
/* Crash-safe replacement of a file: the new content is written to a
 * temporary file in the same directory, flushed with fsync, closed,
 * renamed over the target, and the directory is flushed. On any failure
 * before the rename the target is untouched and the temporary file
 * removed. Used by checkpoints and image output. */
#ifndef SGAD_ATOMIC_FILE_H
#define SGAD_ATOMIC_FILE_H

#include <stddef.h>

#include "internal.h"

/* Writes the content through emit(user, fd), which reports failures with
 * sgad__fail; fn names the public call in messages. */
sgad_status sgad__atomic_write(sgad_ctx *ctx, const char *fn, const char *path,
                               sgad_status (*emit)(void *user, int fd), void *user);

/* Writes n bytes to fd, retrying short writes and EINTR. */
sgad_status sgad__write_all(sgad_ctx *ctx, const char *fn, int fd, const void *buf, size_t n);

/* Reads a whole regular file of at most max bytes into memory the caller
 * frees with sgad__free. */
sgad_status sgad__read_file(sgad_ctx *ctx, const char *fn, const char *path, size_t max,
                            unsigned char **out, size_t *size);

#endif /* SGAD_ATOMIC_FILE_H */
