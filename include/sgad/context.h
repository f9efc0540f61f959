/* SPDX-License-Identifier: MIT */
/** @file
 * libsgad: the context.
 *
 * A context owns the settings shared by every object made from it (thread
 * count, random seed, allocator) and the text of the last error. It is the
 * unit of threading: one context and all its objects are used by one thread
 * at a time; different contexts are fully independent. There is no global
 * state in libsgad.
 *
 * Errors: a call that fails returns its status and leaves a message in the
 * context (sgad_ctx_last_error), e.g. "sgad_ctx_set_threads: threads=0
 * outside [1, 256]". A call given a NULL handle returns SGAD_E_INVALID_ARG
 * and cannot leave a message. libsgad never aborts, exits or prints. */
#ifndef SGAD_CONTEXT_H
#define SGAD_CONTEXT_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A context (opaque). Made by sgad_ctx_create, freed by sgad_ctx_free. */
typedef struct sgad_ctx sgad_ctx;

/** Allocator hooks. alloc must return memory aligned for any type, or NULL. */
typedef void *(*sgad_alloc_fn)(void *opaque, size_t size);
/** Releases memory the matching sgad_alloc_fn returned. */
typedef void (*sgad_free_fn)(void *opaque, void *ptr);

/** Largest thread count sgad_ctx_set_threads accepts. */
#define SGAD_MAX_THREADS 256

/** Creates a context with malloc/free, 1 thread and seed 0.
 *  @param out receives the context; the caller frees it with sgad_ctx_free.
 *  @return SGAD_OK, SGAD_E_INVALID_ARG (out is NULL) or SGAD_E_NOMEM. */
SGAD_API sgad_status sgad_ctx_create(sgad_ctx **out);

/** As sgad_ctx_create, with the caller's allocator: every allocation libsgad
 *  makes for this context goes through alloc_fn/free_fn (BLIS keeps its own
 *  internal pool). Both functions must be given, or neither (NULL, NULL). */
SGAD_API sgad_status sgad_ctx_create_ex(sgad_alloc_fn alloc_fn, sgad_free_fn free_fn, void *opaque,
                                        sgad_ctx **out);

/** Frees the context. Free every object made from it first. NULL is a no-op. */
SGAD_API void sgad_ctx_free(sgad_ctx *ctx);

/** Sets how many threads compute kernels (BLIS and element-wise loops) use,
 *  1..SGAD_MAX_THREADS. Passed per call: BLIS's global settings are never
 *  touched, so other users of BLIS in the process are unaffected.
 *  @return SGAD_OK, or SGAD_E_INVALID_ARG out of range (nothing changes). */
SGAD_API sgad_status sgad_ctx_set_threads(sgad_ctx *ctx, int threads);

/** @return the thread count, or 0 if ctx is NULL. */
SGAD_API int sgad_ctx_threads(const sgad_ctx *ctx);

/** Sets the seed of the context's counter-based random generator. Objects
 *  created afterwards (weight initialisation) draw from it in creation
 *  order, so the same seed and the same sequence of calls give bitwise the
 *  same weights. Resets the generator's counter.
 *  @return SGAD_OK, or SGAD_E_INVALID_ARG if ctx is NULL. */
SGAD_API sgad_status sgad_ctx_set_seed(sgad_ctx *ctx, uint64_t seed);

/** @return the text of the last failure of a call on this context or one of
 *  its objects, e.g. "sgad_layer_forward: linear expects 784 input features,
 *  got 1024". "" if there was none. Owned by ctx, valid until the next call
 *  that fails. A NULL ctx gives a static message. */
SGAD_API const char *sgad_ctx_last_error(const sgad_ctx *ctx);

/** Clears the last error text. NULL is a no-op. */
SGAD_API void sgad_ctx_clear_error(sgad_ctx *ctx);

/** Sums count doubles elementwise across the processes of a data-parallel
 *  run, in place (e.g. MPI_Allreduce with MPI_SUM). Returns SGAD_OK or an
 *  error that fails the calling forward or backward. */
typedef sgad_status (*sgad_reduce_hook)(void *user, double *values, int64_t count);

/** Installs (NULL: removes) the hook batch-norm layers in training mode
 *  call to turn their per-process statistics into statistics of the whole
 *  global batch (synchronised batch norm): the per-channel sums and count
 *  in forward, the sums of dy and dy * x-hat in backward. Every process
 *  must then run the same layers on equally shaped shards. Without a hook
 *  each process normalises with its own batch. The hook runs on the thread
 *  that called the forward or backward.
 *  @return SGAD_OK, or SGAD_E_INVALID_ARG if ctx is NULL. */
SGAD_API sgad_status sgad_ctx_set_reduce_hook(sgad_ctx *ctx, sgad_reduce_hook hook, void *user);

#ifdef __cplusplus
}
#endif

#endif /* SGAD_CONTEXT_H */
