/* SPDX-License-Identifier: MIT */
/* Counter-based generator built on the SplitMix64 finaliser, a bijection on
 * 64-bit words with full avalanche: hashing (key, counter) gives independent
 * looking values without any state to carry between calls. */
#include <math.h>

#include "rng.h"

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t sgad__rng_u64(uint64_t seed, uint64_t stream, uint64_t i)
{
    uint64_t key = mix64(seed + 0x9e3779b97f4a7c15ULL * (mix64(stream) | 1));
    return mix64(key + 0x9e3779b97f4a7c15ULL * (i + 1));
}

float sgad__rng_uniform(uint64_t seed, uint64_t stream, uint64_t i)
{
    return (float)(sgad__rng_u64(seed, stream, i) >> 40) * (1.0f / 16777216.0f);
}

void sgad__rng_normal_fill(uint64_t seed, uint64_t stream, uint64_t first, float *p, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        const uint64_t k = first + (uint64_t)i;
        const double u1 = ((double)(sgad__rng_u64(seed, stream, 2 * k) >> 11) + 1.0) * 0x1p-53;
        const double u2 = (double)(sgad__rng_u64(seed, stream, 2 * k + 1) >> 11) * 0x1p-53;
        p[i] = (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
    }
}
