/* SPDX-License-Identifier: MIT */
/* Matrix products through BLIS. <blis.h> is included only in gemm.c. */
#ifndef SGAD_GEMM_H
#define SGAD_GEMM_H

#include "core/internal.h"

/* C = alpha op(A) op(B) + beta C for row-major matrices, op(A) m x k and
 * op(B) k x n, where op transposes when trans_* is nonzero: A is then stored
 * k x m. lda, ldb, ldc are row strides. With beta == 0, C is not read.
 * Uses ctx's thread count through a per-call BLIS runtime object, or one
 * thread when called inside a parallel region (each thread its own product);
 * a product with a small output is split into bands of rows, one per
 * thread, or runs on one thread when it is cheap. Results do not depend on
 * the thread count.
 * BLIS may read a few bytes past an operand's last element; buffers from
 * sgad__alloc carry slack for that (ctx.c). */
void sgad__sgemm(const sgad_ctx *ctx, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
                 float alpha, const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                 float *c, int64_t ldc);

#endif /* SGAD_GEMM_H */
