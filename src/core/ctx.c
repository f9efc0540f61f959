/* SPDX-License-Identifier: MIT */
/* The context: allocator, threads, seed, scratch memory and error text. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static void *default_alloc(void *opaque, size_t size)
{
    (void)opaque;
    return malloc(size);
}

static void default_free(void *opaque, void *ptr)
{
    (void)opaque;
    free(ptr);
}

sgad_status sgad_ctx_create(sgad_ctx **out)
{
    return sgad_ctx_create_ex(NULL, NULL, NULL, out);
}

sgad_status sgad_ctx_create_ex(sgad_alloc_fn alloc_fn, sgad_free_fn free_fn, void *opaque,
                               sgad_ctx **out)
{
    if (!out || (alloc_fn == NULL) != (free_fn == NULL))
        return SGAD_E_INVALID_ARG;
    *out = NULL;
    if (!alloc_fn) {
        alloc_fn = default_alloc;
        free_fn = default_free;
    }
    sgad_ctx *ctx = alloc_fn(opaque, sizeof *ctx);
    if (!ctx)
        return SGAD_E_NOMEM;
    memset(ctx, 0, sizeof *ctx);
    ctx->alloc_fn = alloc_fn;
    ctx->free_fn = free_fn;
    ctx->opaque = opaque;
    ctx->threads = 1;
    *out = ctx;
    return SGAD_OK;
}

void sgad_ctx_free(sgad_ctx *ctx)
{
    if (!ctx)
        return;
    sgad__scratch_release(ctx);
    ctx->free_fn(ctx->opaque, ctx);
}

sgad_status sgad_ctx_set_threads(sgad_ctx *ctx, int threads)
{
    if (!ctx)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(ctx, threads >= 1 && threads <= SGAD_MAX_THREADS, SGAD_E_INVALID_ARG,
                "sgad_ctx_set_threads: threads=%d outside [1, %d]", threads, SGAD_MAX_THREADS);
    ctx->threads = threads;
    return SGAD_OK;
}

int sgad_ctx_threads(const sgad_ctx *ctx)
{
    return ctx ? ctx->threads : 0;
}

sgad_status sgad_ctx_set_seed(sgad_ctx *ctx, uint64_t seed)
{
    if (!ctx)
        return SGAD_E_INVALID_ARG;
    ctx->seed = seed;
    ctx->rng_counter = 0;
    return SGAD_OK;
}

uint64_t sgad__ctx_next_stream(sgad_ctx *ctx)
{
    return ctx->rng_counter++;
}

const char *sgad_ctx_last_error(const sgad_ctx *ctx)
{
    if (!ctx)
        return "no context (NULL sgad_ctx)";
    return ctx->err;
}

void sgad_ctx_clear_error(sgad_ctx *ctx)
{
    if (ctx)
        ctx->err[0] = '\0';
}

sgad_status sgad__fail(sgad_ctx *ctx, sgad_status status, const char *fmt, ...)
{
    if (!ctx)
        return status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->err, sizeof ctx->err, fmt, ap);
    va_end(ap);
    return status;
}

/* BLIS's small-matrix kernels load past the end of an operand (seen with
 * valgrind for 3x10 products). gemm.c now keeps BLIS off that path; the
 * slack stays as a margin for BLIS versions and paths we have not seen. */
#define ALLOC_SLACK 64

void *sgad__alloc(sgad_ctx *ctx, size_t size)
{
    if (size > SIZE_MAX - ALLOC_SLACK) {
        sgad__fail(ctx, SGAD_E_NOMEM, "allocation of %zu bytes overflows", size);
        return NULL;
    }
    void *p = ctx->alloc_fn(ctx->opaque, size + ALLOC_SLACK);
    if (!p)
        sgad__fail(ctx, SGAD_E_NOMEM, "out of memory allocating %zu bytes", size);
    return p;
}

void *sgad__calloc(sgad_ctx *ctx, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size) {
        sgad__fail(ctx, SGAD_E_NOMEM, "allocation of %zu x %zu bytes overflows", count, size);
        return NULL;
    }
    void *p = sgad__alloc(ctx, count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

void sgad__free(sgad_ctx *ctx, void *ptr)
{
    if (ptr)
        ctx->free_fn(ctx->opaque, ptr);
}

/* Grows a scratch slot to at least size bytes, copying what it held if
 * `keep`. */
static void *grow_scratch(sgad_ctx *ctx, sgad__scratch_slot slot, size_t size, int keep)
{
    if (ctx->scratch_size[slot] >= size && ctx->scratch[slot])
        return ctx->scratch[slot];
    void *p = sgad__alloc(ctx, size);
    if (!p)
        return NULL;
    if (keep && ctx->scratch[slot])
        memcpy(p, ctx->scratch[slot], ctx->scratch_size[slot]);
    sgad__free(ctx, ctx->scratch[slot]);
    ctx->scratch[slot] = p;
    ctx->scratch_size[slot] = size;
    return p;
}

void *sgad__scratch(sgad_ctx *ctx, sgad__scratch_slot slot, size_t size)
{
    return grow_scratch(ctx, slot, size, 0);
}

void *sgad__scratch_keep(sgad_ctx *ctx, sgad__scratch_slot slot, size_t size)
{
    return grow_scratch(ctx, slot, size, 1);
}

void sgad__scratch_release(sgad_ctx *ctx)
{
    for (int i = 0; i < SGAD__SCRATCH_SLOTS; i++) {
        sgad__free(ctx, ctx->scratch[i]);
        ctx->scratch[i] = NULL;
        ctx->scratch_size[i] = 0;
    }
}

sgad_status sgad_ctx_set_reduce_hook(sgad_ctx *ctx, sgad_reduce_hook hook, void *user)
{
    if (!ctx)
        return SGAD_E_INVALID_ARG;
    ctx->reduce = hook;
    ctx->reduce_user = user;
    return SGAD_OK;
}

sgad_status sgad__ctx_reduce(sgad_ctx *ctx, const char *fn, double *values, int64_t count)
{
    if (!ctx->reduce)
        return SGAD_OK;
    const sgad_status s = ctx->reduce(ctx->reduce_user, values, count);
    SGAD__CHECK(ctx, s == SGAD_OK, s, "%s: the reduce hook returned %s", fn, sgad_status_name(s));
    return SGAD_OK;
}
