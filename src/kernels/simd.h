/* SPDX-License-Identifier: MIT */
/* Four-float vectors through the GNU C vector extension (GCC and clang):
 * one SSE register on every x86-64, one NEON register on arm64. Kernels
 * that must hold accumulators in registers across a loop say so with these
 * instead of intrinsics or hoping for the auto-vectoriser. */
#ifndef SGAD_SIMD_H
#define SGAD_SIMD_H

#include <stdint.h>
#include <string.h>

#include "isa.h"

typedef float sgad__v4 __attribute__((vector_size(16)));

/* Unaligned load and store. */
static inline sgad__v4 sgad__load4(const float *p)
{
    sgad__v4 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void sgad__store4(float *p, sgad__v4 v)
{
    memcpy(p, &v, sizeof v);
}

/* Eight-float vectors: one AVX register in a function built for AVX2
 * (isa.h), two SSE registers elsewhere. Their loads and stores are macros:
 * GCC warns (-Wpsabi) of any function taking or returning one where AVX
 * is not enabled, even an inline one. */
typedef float sgad__v8 __attribute__((vector_size(32)));
#define SGAD__LOAD8(dst, p) memcpy(&(dst), (p), sizeof(sgad__v8))
#define SGAD__STORE8(p, v) memcpy((p), &(v), sizeof(sgad__v8))

/* Lanes i0..i3 of the 8 lanes of a then b. clang has
 * __builtin_shufflevector; GCC has it only from version 12, and
 * __builtin_shuffle, with the same meaning, from 4.7. */
#if defined(__clang__)
#define SGAD__SHUFFLE(a, b, i0, i1, i2, i3) __builtin_shufflevector(a, b, i0, i1, i2, i3)
#else
typedef int32_t sgad__v4i __attribute__((vector_size(16)));
#define SGAD__SHUFFLE(a, b, i0, i1, i2, i3) __builtin_shuffle(a, b, (sgad__v4i){i0, i1, i2, i3})
#endif

/* Transposes the 4 x 4 block held in r[0..4) (row i in r[i]) in place. */
static inline void sgad__transpose4(sgad__v4 r[4])
{
    const sgad__v4 t0 = SGAD__SHUFFLE(r[0], r[1], 0, 4, 1, 5);
    const sgad__v4 t1 = SGAD__SHUFFLE(r[0], r[1], 2, 6, 3, 7);
    const sgad__v4 t2 = SGAD__SHUFFLE(r[2], r[3], 0, 4, 1, 5);
    const sgad__v4 t3 = SGAD__SHUFFLE(r[2], r[3], 2, 6, 3, 7);
    r[0] = SGAD__SHUFFLE(t0, t2, 0, 1, 4, 5);
    r[1] = SGAD__SHUFFLE(t0, t2, 2, 3, 6, 7);
    r[2] = SGAD__SHUFFLE(t1, t3, 0, 1, 4, 5);
    r[3] = SGAD__SHUFFLE(t1, t3, 2, 3, 6, 7);
}

/* dst[j][i] = src[i][j] (or += with `add`) for i < rows, j < cols; rows of
 * src lds apart, of dst ldd apart. Whole 4 x 4 blocks are transposed in
 * registers: a scalar copy into a panel wrote one float per cache line of
 * it at a time. Each value is written or added once, so the same bits. */
static SGAD__ALWAYS_INLINE void sgad__transpose(int64_t rows, int64_t cols, const float *src,
                                                int64_t lds, float *dst, int64_t ldd, int add)
{
    int64_t i0 = 0;
    for (; i0 + 4 <= rows; i0 += 4) {
        int64_t j0 = 0;
        for (; j0 + 4 <= cols; j0 += 4) {
            sgad__v4 r[4];
            for (int k = 0; k < 4; k++)
                r[k] = sgad__load4(src + (i0 + k) * lds + j0);
            sgad__transpose4(r);
            for (int k = 0; k < 4; k++) {
                float *d = dst + (j0 + k) * ldd + i0;
                sgad__store4(d, add ? sgad__load4(d) + r[k] : r[k]);
            }
        }
        for (int64_t i = i0; i < i0 + 4; i++)
            for (int64_t j = j0; j < cols; j++)
                dst[j * ldd + i] = add ? dst[j * ldd + i] + src[i * lds + j] : src[i * lds + j];
    }
    for (int64_t i = i0; i < rows; i++)
        for (int64_t j = 0; j < cols; j++)
            dst[j * ldd + i] = add ? dst[j * ldd + i] + src[i * lds + j] : src[i * lds + j];
}

#endif /* SGAD_SIMD_H */
