/* Hot loops compiled twice: for the build's baseline (x86-64-v2, what any
 * machine the library targets runs) and for x86-64-v3 (AVX2: 8-float
 * vectors for the element-wise loops, three-operand instructions for the
 * hand-vectorised kernels). The dynamic loader picks one per function
 * once, by the CPU (GCC's target_clones, an ifunc); OpenMP regions inside
 * such a function are cloned with it. On this project's machines the v3
 * clones take 2-3% off a training iteration (docs/bench.md).
 *
 * Both clones give the same bits: the library is built with
 * -ffp-contract=off, so no multiply-add is fused, and without
 * -ffast-math the compiler never reorders a float sum; a wider vector only
 * computes more independent elements at once. `make check-baseline` runs
 * the tests against a build without clones and compares its training bits
 * with the default build's.
 *
 * Only GCC on x86-64 with ifunc support (glibc) clones; elsewhere, and with
 * -DSGAD_NO_TARGET_CLONES, each function is built once for the baseline. */
#ifndef SGAD_ISA_H
#define SGAD_ISA_H

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
    defined(__linux__) && !defined(SGAD_NO_TARGET_CLONES)
#define SGAD__AVX2_CLONE __attribute__((target_clones("avx2", "default")))
#else
#define SGAD__AVX2_CLONE
#endif

/* For the helpers of a cloned function: GCC's inliner does not by itself
 * inline a function built for the baseline into a clone built for another
 * target, and a helper called per row must not become a call. */
#if defined(__GNUC__)
#define SGAD__ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define SGAD__ALWAYS_INLINE inline
#endif

#endif
