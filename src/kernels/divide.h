/* SPDX-License-Identifier: MIT */
/* Division by a number fixed for a loop, as a multiply and a shift: the
 * event walks split every nonzero's position into channel, row and column,
 * and a hardware division per value is slow enough to show in their
 * profile [bench:fixed-divide]. */
#ifndef SGAD_DIVIDE_H
#define SGAD_DIVIDE_H

#include <stdint.h>

/* floor(n / d) = (n * m) >> shift for every 0 <= n < 2^31, by Granlund and
 * Montgomery's bound: with l = ceil(log2 d) and m = ceil(2^(31+l) / d),
 * 2^(31+l) <= m d < 2^(31+l) + 2^l. m <= 2^32, so n * m < 2^63. */
typedef struct sgad__divider {
    uint64_t m;
    int shift;
} sgad__divider;

/* For 1 <= d < 2^31. */
static inline sgad__divider sgad__divider_of(uint32_t d)
{
    int l = 0;
    while (((uint64_t)1 << l) < d)
        l++;
    const uint64_t top = (uint64_t)1 << (31 + l);
    const sgad__divider v = {(top + d - 1) / d, 31 + l};
    return v;
}

/* floor(n / d) for the divider of d; n < 2^31. */
static inline uint32_t sgad__divide(uint32_t n, sgad__divider v)
{
    return (uint32_t)(((uint64_t)n * v.m) >> v.shift);
}

#endif /* SGAD_DIVIDE_H */
