/* SPDX-License-Identifier: MIT */
/* Threads for element-wise kernels. BLIS threads the matrix products; the
 * loops between them (neurons, batch norm, pooling, patch copies) use
 * OpenMP with the context's thread count. Every parallel loop gives each
 * output element (or each reduced channel) to exactly one thread, which
 * computes it in the same order as the serial loop, so results do not
 * depend on the thread count. */
#ifndef SGAD_PARALLEL_H
#define SGAD_PARALLEL_H

#include <string.h>

#include "internal.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* Below this many elements of work a loop stays serial: waking a second
 * thread costs more than it saves. */
#define SGAD__PAR_MIN_WORK ((int64_t)1 << 15)

/* The thread count for a loop over `work` elements. */
static inline int sgad__par_threads(const sgad_ctx *ctx, int64_t work)
{
    return work >= SGAD__PAR_MIN_WORK ? ctx->threads : 1;
}

/* The calling thread's index inside a parallel loop (0 outside one, and in
 * a build without OpenMP, where every loop runs serially). */
static inline int sgad__thread_index(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/* Nonzero inside an active parallel region: work there (a chunk of a
 * convolution) runs on the calling thread only. */
static inline int sgad__in_parallel(void)
{
#ifdef _OPENMP
    return omp_in_parallel();
#else
    return 0;
#endif
}

/* dst[0..n) = src[0..n) in one band per thread: a large copy (a reshape's
 * 25 MB) on one thread left the other waiting. */
static inline void sgad__par_copy(const sgad_ctx *ctx, float *dst, const float *src, int64_t n)
{
    const int threads = sgad__par_threads(ctx, n);
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int t = 0; t < threads; t++) {
        const int64_t i0 = n * t / threads, i1 = n * (t + 1) / threads;
        memcpy(dst + i0, src + i0, (size_t)(i1 - i0) * sizeof *dst);
    }
}

#endif /* SGAD_PARALLEL_H */
