/* SPDX-License-Identifier: MIT */
/* Patch extraction for convolutions over a chunk of B samples.
 *
 * An image is [C, H, W] per sample; the kernel k x k slides with stride s
 * and zero padding p over OH x OW positions (P = OH*OW). The column matrix
 * is [C*k*k, B*P], column b*P + position, so one GEMM covers the chunk.
 * All four run over the samples on the context's threads; each sample's
 * values are written by one thread in the serial order. */
#ifndef SGAD_IM2COL_H
#define SGAD_IM2COL_H

#include <stdint.h>

#include "core/internal.h"

typedef struct sgad__conv_geom {
    int64_t c, h, w; /* image */
    int64_t k, s, p; /* kernel, stride, padding */
    int64_t oh, ow;  /* positions */
} sgad__conv_geom;

/* col[C*k*k, B*P] from B images of C*H*W values each. */
void sgad__im2col(const sgad_ctx *ctx, const sgad__conv_geom *g, int64_t batch, const float *img,
                  float *col);

/* Adjoint of im2col: adds col back into B images (which the caller zeroes). */
void sgad__col2im(const sgad_ctx *ctx, const sgad__conv_geom *g, int64_t batch, const float *col,
                  float *img);

/* [B][C][P] (sample-major) -> [C][B*P] (channel-major). */
void sgad__to_channel_major(const sgad_ctx *ctx, int64_t batch, int64_t c, int64_t p,
                            const float *src, float *dst);

/* [C][B*P] -> [B][C][P], adding bias[c] when bias is not NULL. */
void sgad__from_channel_major(const sgad_ctx *ctx, int64_t batch, int64_t c, int64_t p,
                              const float *src, const float *bias, float *dst);

/* [B][P][C] (position-major, as the event products leave a chunk) ->
 * [B][C][P], adding bias[c] when bias is not NULL. */
void sgad__planes_from_rows(const sgad_ctx *ctx, int64_t batch, int64_t c, int64_t p,
                            const float *src, const float *bias, float *dst);

/* [B][C][P] -> [B][P][ld]: each row holds the C values, then zeros up to
 * ld >= C (padding for kernels that read whole vector panels). */
void sgad__planes_to_rows(const sgad_ctx *ctx, int64_t batch, int64_t c, int64_t p, int64_t ld,
                          const float *src, float *dst);

/* Samples per chunk so that a [rows, B*cols_per_sample] float buffer stays
 * under the chunk budget (at least 1). */
int64_t sgad__chunk_samples(int64_t rows, int64_t cols_per_sample, int64_t total);

#endif
