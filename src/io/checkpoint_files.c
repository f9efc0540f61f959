/* SPDX-License-Identifier: MIT */
/* Checkpoint files: reading whole files and buffers into a checkpoint, the
 * numbered files of a directory (naming and pruning them; saving one is the
 * trainer's, train/checkpoint_rotate.c), and finding the newest valid one. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint_impl.h"
#include "core/atomic_file.h"

sgad_status sgad_checkpoint_read_memory(sgad_ctx *ctx, const void *buf, size_t size,
                                        sgad_checkpoint **out)
{
    static const char fn[] = "sgad_checkpoint_read_memory";
    if (!ctx)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(ctx, out && (buf || size == 0), SGAD_E_INVALID_ARG, "%s: out or buf is NULL", fn);
    *out = NULL;
    SGAD__CHECK(ctx, (uint64_t)size <= SGAD__CKPT_MAX_FILE, SGAD_E_FORMAT,
                "%s: %zu bytes, more than a checkpoint may have", fn, size);
    unsigned char *copy = sgad__alloc(ctx, size ? size : 1);
    if (!copy)
        return SGAD_E_NOMEM;
    if (size)
        memcpy(copy, buf, size);
    return sgad__checkpoint_parse(ctx, copy, size, out);
}

sgad_status sgad_checkpoint_read(sgad_ctx *ctx, const char *path, sgad_checkpoint **out)
{
    static const char fn[] = "sgad_checkpoint_read";
    if (!ctx)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(ctx, out && path, SGAD_E_INVALID_ARG, "%s: out or path is NULL", fn);
    *out = NULL;
    unsigned char *buf;
    size_t size;
    SGAD__TRY(sgad__read_file(ctx, fn, path, (size_t)SGAD__CKPT_MAX_FILE, &buf, &size));
    return sgad__checkpoint_parse(ctx, buf, size, out);
}

/* ---- directories ------------------------------------------------------------ */

/* The iteration of "ckpt-<12 digits>.safetensors", or -1. */
static long long checkpoint_number(const char *name)
{
    if (strlen(name) != 5 + 12 + 12 || strncmp(name, "ckpt-", 5) != 0 ||
        strcmp(name + 17, ".safetensors") != 0)
        return -1;
    long long v = 0;
    for (int i = 5; i < 17; i++) {
        if (name[i] < '0' || name[i] > '9')
            return -1;
        v = v * 10 + (name[i] - '0');
    }
    return v;
}

static int is_stale_temp(const char *name)
{
    return strncmp(name, "ckpt-", 5) == 0 && strstr(name, ".safetensors.tmp-") != NULL;
}

static int descending(const void *a, const void *b)
{
    const long long x = *(const long long *)a, y = *(const long long *)b;
    return (x < y) - (x > y);
}

/* The checkpoint numbers in dir, newest first; stale temporary files are
 * removed when sweep is set. */
static sgad_status list_dir(sgad_ctx *ctx, const char *fn, const char *dir, int sweep,
                            long long **nums, int *count)
{
    DIR *d = opendir(dir);
    SGAD__CHECK(ctx, d != NULL, SGAD_E_IO, "%s: cannot open directory %s: %s", fn, dir,
                strerror(errno));
    int cap = 16, n = 0;
    long long *v = sgad__alloc(ctx, (size_t)cap * sizeof *v);
    struct dirent *e;
    while (v && (e = readdir(d)) != NULL) {
        if (sweep && is_stale_temp(e->d_name)) {
            char p[4096];
            if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) < (int)sizeof p)
                unlink(p);
            continue;
        }
        const long long k = checkpoint_number(e->d_name);
        if (k < 0)
            continue;
        if (n == cap) {
            long long *w = sgad__alloc(ctx, (size_t)cap * 2 * sizeof *w);
            if (w)
                memcpy(w, v, (size_t)n * sizeof *v);
            sgad__free(ctx, v);
            v = w;
            cap *= 2;
            if (!v)
                break;
        }
        v[n++] = k;
    }
    closedir(d);
    if (!v)
        return SGAD_E_NOMEM;
    qsort(v, (size_t)n, sizeof *v, descending);
    *nums = v;
    *count = n;
    return SGAD_OK;
}

sgad_status sgad__ckpt_numbered_path(sgad_ctx *ctx, const char *fn, const char *dir, long long k,
                                     char *out, size_t cap)
{
    const int n = snprintf(out, cap, "%s/ckpt-%012lld.safetensors", dir, k);
    SGAD__CHECK(ctx, n > 0 && (size_t)n < cap, SGAD_E_INVALID_ARG,
                "%s: path too long for the "
                "buffer",
                fn);
    return SGAD_OK;
}

sgad_status sgad__ckpt_prune(sgad_ctx *ctx, const char *fn, const char *dir, int keep)
{
    char path[4096];
    long long *nums;
    int n;
    SGAD__TRY(list_dir(ctx, fn, dir, 1, &nums, &n));
    for (int i = keep; keep > 0 && i < n; i++)
        if (sgad__ckpt_numbered_path(ctx, fn, dir, nums[i], path, sizeof path) == SGAD_OK)
            unlink(path);
    sgad__free(ctx, nums);
    return SGAD_OK;
}

sgad_status sgad_checkpoint_find_latest(sgad_ctx *ctx, const char *dir, char *path_out, size_t cap)
{
    static const char fn[] = "sgad_checkpoint_find_latest";
    if (!ctx)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(ctx, dir && path_out, SGAD_E_INVALID_ARG, "%s: dir or path_out is NULL", fn);
    long long *nums;
    int n;
    SGAD__TRY(list_dir(ctx, fn, dir, 0, &nums, &n));
    sgad_status s = SGAD_E_IO;
    for (int i = 0; i < n && s != SGAD_OK; i++) {
        sgad_checkpoint *c = NULL;
        if (sgad__ckpt_numbered_path(ctx, fn, dir, nums[i], path_out, cap) != SGAD_OK ||
            sgad_checkpoint_read(ctx, path_out, &c) != SGAD_OK)
            continue; /* damaged: try the one before */
        sgad_checkpoint_free(c);
        s = SGAD_OK;
    }
    sgad__free(ctx, nums);
    if (s != SGAD_OK)
        return sgad__fail(ctx, SGAD_E_IO, "%s: %s holds no readable checkpoint (%d damaged)", fn,
                          dir, n);
    sgad_ctx_clear_error(ctx);
    return SGAD_OK;
}
