/* im2col / col2im and layout transposes for chunked convolutions. */
#include <string.h>

#include "im2col.h"

/* Column buffers are kept under 8 MiB: large enough for GEMMs that run at
 * full speed, small enough to stay near the caches and bound memory. */
#define CHUNK_BYTES ((int64_t)8 << 20)

int64_t sgad__chunk_samples(int64_t rows, int64_t cols_per_sample, int64_t total)
{
    int64_t per_sample = rows * cols_per_sample * (int64_t)sizeof(float);
    int64_t b = per_sample > 0 ? CHUNK_BYTES / per_sample : total;
    if (b < 1)
        b = 1;
    return b < total ? b : total;
}

void sgad__im2col(const sgad__conv_geom *g, int64_t batch, const float *img, float *col)
{
    const int64_t P = g->oh * g->ow, cols = batch * P, hw = g->h * g->w;
    for (int64_t c = 0; c < g->c; c++)
        for (int64_t ki = 0; ki < g->k; ki++)
            for (int64_t kj = 0; kj < g->k; kj++) {
                float *row = col + ((c * g->k + ki) * g->k + kj) * cols;
                for (int64_t b = 0; b < batch; b++) {
                    const float *src = img + (b * g->c + c) * hw;
                    float *dst = row + b * P;
                    for (int64_t oy = 0; oy < g->oh; oy++) {
                        const int64_t y = oy * g->s - g->p + ki;
                        float *out = dst + oy * g->ow;
                        if (y < 0 || y >= g->h) {
                            memset(out, 0, (size_t)g->ow * sizeof *out);
                            continue;
                        }
                        for (int64_t ox = 0; ox < g->ow; ox++) {
                            const int64_t x = ox * g->s - g->p + kj;
                            out[ox] = (x >= 0 && x < g->w) ? src[y * g->w + x] : 0.0f;
                        }
                    }
                }
            }
}

void sgad__col2im(const sgad__conv_geom *g, int64_t batch, const float *col, float *img)
{
    const int64_t P = g->oh * g->ow, cols = batch * P, hw = g->h * g->w;
    for (int64_t c = 0; c < g->c; c++)
        for (int64_t ki = 0; ki < g->k; ki++)
            for (int64_t kj = 0; kj < g->k; kj++) {
                const float *row = col + ((c * g->k + ki) * g->k + kj) * cols;
                for (int64_t b = 0; b < batch; b++) {
                    float *dst = img + (b * g->c + c) * hw;
                    const float *src = row + b * P;
                    for (int64_t oy = 0; oy < g->oh; oy++) {
                        const int64_t y = oy * g->s - g->p + ki;
                        if (y < 0 || y >= g->h)
                            continue;
                        for (int64_t ox = 0; ox < g->ow; ox++) {
                            const int64_t x = ox * g->s - g->p + kj;
                            if (x >= 0 && x < g->w)
                                dst[y * g->w + x] += src[oy * g->ow + ox];
                        }
                    }
                }
            }
}

void sgad__to_channel_major(int64_t batch, int64_t c, int64_t p, const float *src, float *dst)
{
    for (int64_t b = 0; b < batch; b++)
        for (int64_t i = 0; i < c; i++)
            memcpy(dst + i * batch * p + b * p, src + (b * c + i) * p, (size_t)p * sizeof *dst);
}

void sgad__from_channel_major(int64_t batch, int64_t c, int64_t p, const float *src,
                              const float *bias, float *dst)
{
    for (int64_t b = 0; b < batch; b++)
        for (int64_t i = 0; i < c; i++) {
            const float *s = src + i * batch * p + b * p;
            float *d = dst + (b * c + i) * p;
            const float add = bias ? bias[i] : 0.0f;
            for (int64_t j = 0; j < p; j++)
                d[j] = s[j] + add;
        }
}
