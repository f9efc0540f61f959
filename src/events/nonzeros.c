/* SPDX-License-Identifier: MIT */
/* Listing nonzero values (nonzeros.h). */
#include <string.h>

#include "kernels/isa.h"
#include "nonzeros.h"

#define ZERO_BLOCK 8

/* Whether none of x[0..ZERO_BLOCK) differs from zero, as `x != 0.0f` has
 * it (-0.0 is zero, NaN is not): the float bits with the sign bit shifted
 * out are ORed, two vectors at a time. */
static int zero_block(const float *x)
{
    typedef uint32_t bits4 __attribute__((vector_size(16)));
    bits4 a, b;
    memcpy(&a, x, sizeof a);
    memcpy(&b, x + 4, sizeof b);
    const bits4 any = (a << 1) | (b << 1);
    uint64_t half[2];
    memcpy(half, &any, sizeof half);
    return (half[0] | half[1]) == 0;
}

/* Most blocks of a sparse input are all zero and skipped whole. In the
 * others every position goes into a block-sized list whose end moves past
 * the nonzero ones only (the same test on the bits), which avoids a
 * mispredicted branch per value; then the list is copied out, so that
 * nothing is written to index past the positions found. */
SGAD__AVX2_CLONE
int64_t sgad__nonzero_positions(const float *x, int64_t n, int32_t *index)
{
    int64_t count = 0, i0 = 0;
    for (; i0 + ZERO_BLOCK <= n; i0 += ZERO_BLOCK) {
        if (zero_block(x + i0))
            continue;
        uint32_t bits[ZERO_BLOCK];
        int32_t found[ZERO_BLOCK];
        int k = 0;
        memcpy(bits, x + i0, sizeof bits);
        for (int i = 0; i < ZERO_BLOCK; i++) {
            found[k] = (int32_t)(i0 + i);
            k += (bits[i] << 1) != 0;
        }
        for (int i = 0; i < k; i++)
            index[count + i] = found[i];
        count += k;
    }
    for (int64_t i = i0; i < n; i++)
        if (x[i] != 0.0f)
            index[count++] = (int32_t)i;
    return count;
}
