/* SPDX-License-Identifier: MIT */
/* The single place libsgad calls BLIS. Dimensions are checked here because
 * BLIS aborts the process on bad arguments. */
#include <blis.h>

#include "core/parallel.h"
#include "gemm.h"

static void scale_rows(int64_t m, int64_t n, float beta, float *c, int64_t ldc)
{
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++)
            c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
}

/* BLIS's threaded path for products with a small output and a long inner
 * dimension (a weight gradient such as 32 x 25 summed over 10^4 columns)
 * rounds differently at different thread counts (seen with libblis 0.9 on
 * odd output widths). Such products never take that path: the cheap ones
 * run on one thread, the others in bands of rows (split_rows), and results
 * stay independent of the thread count. */
static int small_output(int64_t m, int64_t n)
{
    return m * n <= 16384;
}

/* One BLIS product on `threads` threads. */
static void blis_sgemm(int threads, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
                       float alpha, const float *a, int64_t lda, const float *b, int64_t ldb,
                       float beta, float *c, int64_t ldc)
{
    rntm_t rntm = BLIS_RNTM_INITIALIZER;
    bli_rntm_set_num_threads(threads, &rntm);
    /* BLIS 0.9's small-matrix ("sup") kernels, which take thin products,
     * load past an operand's edge: valgrind saw transposed-convolution
     * products read hundreds of bytes beyond their operands (into the next
     * heap block, also with BLIS on one thread), far more than any fixed
     * slack, and a large operand ends near the end of its mapping. The
     * packing path reads exactly the operands' elements; it costs some
     * speed on thin products (docs/bench.md). */
    bli_rntm_set_l3_sup(false, &rntm);
    bli_sgemm_ex(trans_a ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE,
                 trans_b ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE, m, n, k, &alpha, (float *)a, lda, 1,
                 (float *)b, ldb, 1, &beta, c, ldc, 1, NULL, &rntm);
}

/* A small-output product worth splitting: the threads then take its rows
 * in equal bands, one BLIS call each. A row of C is the same sum in the
 * same order whichever band it is in (BLIS's block sizes do not depend on
 * m), so the result does not depend on the thread count either. The
 * decoder's step-by-step 64 x 256 x 784 products are such products: in one
 * BLIS call they run on one thread while the others wait
 * [bench:gemm-row-bands]. */
#define SPLIT_MIN_FLOPS ((int64_t)1 << 22)

static void split_rows(const sgad_ctx *ctx, int trans_a, int trans_b, int64_t m, int64_t n,
                       int64_t k, float alpha, const float *a, int64_t lda, const float *b,
                       int64_t ldb, float beta, float *c, int64_t ldc)
{
    const int threads = ctx->threads < m ? ctx->threads : (int)m;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int i = 0; i < threads; i++) {
        const int64_t r0 = m * i / threads, r1 = m * (i + 1) / threads;
        const float *ai = trans_a ? a + r0 : a + r0 * lda;
        blis_sgemm(1, trans_a, trans_b, r1 - r0, n, k, alpha, ai, lda, b, ldb, beta, c + r0 * ldc,
                   ldc);
    }
}

void sgad__sgemm(const sgad_ctx *ctx, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
                 float alpha, const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                 float *c, int64_t ldc)
{
    if (m <= 0 || n <= 0)
        return;
    if (k <= 0) {
        scale_rows(m, n, beta, c, ldc);
        return;
    }
    const int alone = sgad__in_parallel() || ctx->threads == 1;
    if (!alone && small_output(m, n) && 2 * m * n * k >= SPLIT_MIN_FLOPS && m >= 2 * ctx->threads)
        split_rows(ctx, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    else
        blis_sgemm(alone || small_output(m, n) ? 1 : ctx->threads, trans_a, trans_b, m, n, k, alpha,
                   a, lda, b, ldb, beta, c, ldc);
}
