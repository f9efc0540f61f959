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

#endif /* SGAD_SIMD_H */
