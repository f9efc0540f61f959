/* SPDX-License-Identifier: MIT */
/* e^x in single precision, written so that a loop of it vectorises: libm's
 * expf is a call per value, and the sigmoid in front of the 64x64x3
 * decoder takes 12.6 million values a forward [bench:exp-sigmoid].
 *
 * The usual reduction: x = n ln 2 + r with n an integer and |r| <= ln 2 / 2
 * (ln 2 in two parts, so n ln 2 is exact enough), e^r by a degree-7
 * polynomial (the Taylor coefficients tuned for this interval, as in
 * Cephes's expf), and 2^n put straight into a float's exponent. Within 1
 * ulp of the exact value over the whole range (0.96 at worst over 1.75
 * million points; tests/test_layers.c checks it against double exp). No
 * branch and no table: both AVX2 and baseline clones compute the same bits
 * (-ffp-contract=off). Inputs are clamped to [-87, 88], where e^x stays
 * a normal float (e^-87 = 1.6e-38, e^88 = 1.7e38); NaN stays NaN. */
#ifndef SGAD_EXP_H
#define SGAD_EXP_H

#include <stdint.h>
#include <string.h>

#include "isa.h"
#include "simd.h"

/* The constants of the reduction and the polynomial. */
#define SGAD__EXP_LO -87.0f
#define SGAD__EXP_HI 88.0f
#define SGAD__EXP_MAGIC 12582912.0f /* 1.5 * 2^23 */
#define SGAD__EXP_MAGIC_BITS 0x4B400000u
#define SGAD__LOG2E 1.44269504088896341f
#define SGAD__LN2_HI 0.693359375f /* ln 2 = LN2_HI + LN2_LO */
#define SGAD__LN2_LO -2.12194440e-4f

/* The steps shared by the scalar and the vector forms: x clamped, then
 * t = x log2(e) + 1.5 * 2^23 holds n = round(x log2(e)) in its low
 * mantissa bits, and the result is poly(r) times 2^n built from those
 * bits. X is float or sgad__v8, U the matching unsigned type. */
#define SGAD__EXP_BODY(X, U, x, result)                                                            \
    do {                                                                                           \
        const X t_ = (x)*SGAD__LOG2E + SGAD__EXP_MAGIC;                                            \
        const X n_ = t_ - SGAD__EXP_MAGIC;                                                         \
        X r_ = (x)-n_ * SGAD__LN2_HI;                                                              \
        r_ = r_ - n_ * SGAD__LN2_LO;                                                               \
        X p_ = r_ * 1.9875691500e-4f + 1.3981999507e-3f;                                           \
        p_ = p_ * r_ + 8.3334519073e-3f;                                                           \
        p_ = p_ * r_ + 4.1665795894e-2f;                                                           \
        p_ = p_ * r_ + 1.6666665459e-1f;                                                           \
        p_ = p_ * r_ + 5.0000001201e-1f;                                                           \
        p_ = p_ * (r_ * r_) + r_ + 1.0f;                                                           \
        U bits_;                                                                                   \
        memcpy(&bits_, &t_, sizeof bits_);                                                         \
        bits_ = (bits_ - SGAD__EXP_MAGIC_BITS + 127u) << 23; /* n + 127 in the exponent */         \
        X scale_;                                                                                  \
        memcpy(&scale_, &bits_, sizeof scale_);                                                    \
        (result) = p_ * scale_;                                                                    \
    } while (0)

static SGAD__ALWAYS_INLINE float sgad__exp(float x)
{
    x = x < SGAD__EXP_LO ? SGAD__EXP_LO : x; /* false for NaN: NaN stays */
    x = x > SGAD__EXP_HI ? SGAD__EXP_HI : x;
    float y;
    SGAD__EXP_BODY(float, uint32_t, x, y);
    return y;
}

/* *v = e^*v lane by lane, the same bits as sgad__exp: the clamps are
 * selects on the comparisons' masks (a scalar conditional kept GCC from
 * vectorising the loop). Through a pointer: a function taking an
 * eight-float vector by value draws -Wpsabi where AVX is off. */
typedef uint32_t sgad__v8u __attribute__((vector_size(32)));

static SGAD__ALWAYS_INLINE void sgad__exp8(sgad__v8 *v)
{
    sgad__v8 x = *v;
    const sgad__v8 lo = (sgad__v8){0} + SGAD__EXP_LO, hi = (sgad__v8){0} + SGAD__EXP_HI;
    sgad__v8u below = (sgad__v8u)(x < lo), above = (sgad__v8u)(x > hi);
    x = (sgad__v8)((below & (sgad__v8u)lo) | (~below & (sgad__v8u)x));
    x = (sgad__v8)((above & (sgad__v8u)hi) | (~above & (sgad__v8u)x));
    SGAD__EXP_BODY(sgad__v8, sgad__v8u, x, *v);
}

#endif /* SGAD_EXP_H */
