/* Four-float vectors through the GNU C vector extension (GCC and clang):
 * one SSE register on every x86-64, one NEON register on arm64. Kernels
 * that must hold accumulators in registers across a loop say so with these
 * instead of intrinsics or hoping for the auto-vectoriser. */
#ifndef SGAD_SIMD_H
#define SGAD_SIMD_H

#include <string.h>

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

#endif /* SGAD_SIMD_H */
