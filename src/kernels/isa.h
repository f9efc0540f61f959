/* SPDX-License-Identifier: MIT */
/* Hot loops compiled twice: for the build's baseline (x86-64-v2, what any
 * machine the library targets runs) and with AVX2 (8-float vectors for the
 * element-wise loops, three-operand instructions everywhere). The dynamic
 * loader picks one per function once, by the CPU (GCC's target_clones, an
 * ifunc); OpenMP regions inside such a function are cloned with it, and
 * the helpers it calls per row or sample are forced inline
 * (SGAD__ALWAYS_INLINE) so that they are built into each clone. What the
 * clones save is in docs/bench.md [bench:isa-clones].
 *
 * Both clones give the same bits: the library is built with
 * -ffp-contract=off, so no multiply-add is fused, and without -ffast-math
 * the compiler never reorders a float sum; a wider vector only computes
 * more independent elements at once, and kernels holding their own 4- or
 * 8-float vectors (simd.h) compute the same lanes in either clone. The
 * ASan build has no clones (ISA_CLONES=0 defines SGAD_NO_TARGET_CLONES),
 * so the suite runs the baseline loops there, and `make check-same-bits`
 * compares an SGAD training's checkpoint from that build with the default
 * build's byte for byte.
 *
 * Only GCC on x86-64 Linux (glibc's ifunc) clones; elsewhere, and with
 * SGAD_NO_TARGET_CLONES, each function is built once for the baseline. */
#ifndef SGAD_ISA_H
#define SGAD_ISA_H

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) &&       \
    !defined(SGAD_NO_TARGET_CLONES)
#define SGAD__AVX2_CLONE __attribute__((target_clones("avx2", "default")))
#else
#define SGAD__AVX2_CLONE
#endif

/* For the helpers of a cloned function: GCC's inliner does not reliably
 * inline a function built for the baseline into a clone built for another
 * target (im2col's row copy stayed a baseline call), and a helper called
 * per row must not become a call. */
#if defined(__GNUC__)
#define SGAD__ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define SGAD__ALWAYS_INLINE inline
#endif

#endif
