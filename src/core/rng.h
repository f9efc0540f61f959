/* SPDX-License-Identifier: MIT */
/* Counter-based random numbers: value i of stream s under seed k is a pure
 * function of (k, s, i), so results do not depend on call order within a
 * stream, on threads, or on the machine. */
#ifndef SGAD_RNG_H
#define SGAD_RNG_H

#include <stdint.h>

/* 64 random bits for counter i of (seed, stream). */
uint64_t sgad__rng_u64(uint64_t seed, uint64_t stream, uint64_t i);

/* A float uniform in [0, 1) with 24 random bits. */
float sgad__rng_uniform(uint64_t seed, uint64_t stream, uint64_t i);

/* Fills p[0..n) with standard normal values number first .. first+n-1 of
 * (seed, stream) (Box-Muller on counters 2k and 2k + 1 for value k). */
void sgad__rng_normal_fill(uint64_t seed, uint64_t stream, uint64_t first, float *p, int64_t n);

#endif /* SGAD_RNG_H */
