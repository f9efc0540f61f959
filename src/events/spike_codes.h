/* SPDX-License-Identifier: MIT */
/* Activations kept as one byte per value. A spike map holds 0 and 1; a
 * spike map averaged over k x k windows holds multiples of 1/k^2 in [0, 1].
 * A net keeps such outputs, which only the parameter gradients of the next
 * layer read back, as their grid index (value * levels) instead of a float:
 * a quarter of the memory, and the values come back bit for bit. */
#ifndef SGAD_SPIKE_CODES_H
#define SGAD_SPIKE_CODES_H

#include <stdint.h>

#include "core/internal.h"

/* Largest grid a byte holds: levels steps from 0 to 1. */
#define SGAD__CODES_MAX_LEVELS 255

/* codes[j] = x[j] * levels, for x[j] on the grid of 1/levels. */
void sgad__codes_pack(const sgad_ctx *ctx, int64_t n, int levels, const float *x, uint8_t *codes);

/* x[j] = codes[j] * (1 / levels), in float as the pooling layer scales, so
 * that packed values come back as they were. */
void sgad__codes_unpack(const sgad_ctx *ctx, int64_t n, int levels, const uint8_t *codes, float *x);

#endif /* SGAD_SPIKE_CODES_H */
