/* SPDX-License-Identifier: MIT */
/* Spike-valued activations as bytes (spike_codes.h). */
#include "spike_codes.h"

#include "core/parallel.h"
#include "kernels/isa.h"

SGAD__AVX2_CLONE
void sgad__codes_pack(const sgad_ctx *ctx, int64_t n, int levels, const float *x, uint8_t *codes)
{
    const float scale = (float)levels;
#pragma omp parallel for num_threads(sgad__par_threads(ctx, n)) schedule(static)
    for (int64_t j = 0; j < n; j++)
        codes[j] = (uint8_t)(x[j] * scale + 0.5f); /* on the grid: exact after rounding */
}

SGAD__AVX2_CLONE
void sgad__codes_unpack(const sgad_ctx *ctx, int64_t n, int levels, const uint8_t *codes, float *x)
{
    const float step = 1.0f / (float)levels;
#pragma omp parallel for num_threads(sgad__par_threads(ctx, n)) schedule(static)
    for (int64_t j = 0; j < n; j++)
        x[j] = (float)codes[j] * step;
}
