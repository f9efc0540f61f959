/* SPDX-License-Identifier: MIT */
/* Encoders from a static input [N, ...] to T steps [T, N, ...]. */
#include <string.h>

#include "core/internal.h"
#include "core/rng.h"

static sgad_status check_pair(sgad_ctx *ctx, const char *fn, const sgad_tensor *stat,
                              const sgad_tensor *seq)
{
    SGAD__CHECK(ctx, stat && seq, SGAD_E_INVALID_ARG, "%s: a tensor is NULL", fn);
    sgad__shape a, b;
    sgad__shape_of(stat, &a);
    sgad__shape_of(seq, &b);
    int ok = b.ndim == a.ndim + 1;
    for (int i = 0; ok && i < a.ndim; i++)
        ok = a.dims[i] == b.dims[i + 1];
    char sa[SGAD__SHAPE_STR_LEN], sb[SGAD__SHAPE_STR_LEN];
    SGAD__CHECK(ctx, ok, SGAD_E_SHAPE, "%s: the sequence %s must be [T] + the input's %s", fn,
                sgad__shape_str(&b, sb, sizeof sb), sgad__shape_str(&a, sa, sizeof sa));
    return SGAD_OK;
}

/* One spike of value 1/(i+1) at the step i with x T in (T-i-1, T-i]. */
static void ttfs(const float *x, int64_t T, int64_t M, float *y)
{
    memset(y, 0, (size_t)(T * M) * sizeof *y);
    for (int64_t j = 0; j < M; j++) {
        const double xt = (double)x[j] * (double)T;
        if (!(xt > 0.0))
            continue;
        for (int64_t i = 0; i < T; i++)
            if (xt > (double)(T - i - 1) && xt <= (double)(T - i)) {
                y[i * M + j] = 1.0f / (float)(i + 1);
                break;
            }
        if (xt > (double)T)
            y[j] = 1.0f; /* above 1 fires at once, like x = 1 */
    }
}

sgad_status sgad_encode(sgad_ctx *ctx, sgad_encoding encoding, uint64_t seed, const sgad_tensor *x,
                        sgad_tensor *y)
{
    static const char fn[] = "sgad_encode";
    if (!ctx)
        return SGAD_E_INVALID_ARG;
    SGAD__TRY(check_pair(ctx, fn, x, y));
    const int64_t T = y->dims[0], M = x->numel;
    switch (encoding) {
    case SGAD_ENCODE_DIRECT:
        for (int64_t t = 0; t < T; t++)
            memcpy(y->data + t * M, x->data, (size_t)M * sizeof(float));
        return SGAD_OK;
    case SGAD_ENCODE_RATE:
        for (int64_t t = 0; t < T; t++)
            for (int64_t j = 0; j < M; j++)
                y->data[t * M + j] =
                    sgad__rng_uniform(seed, 0, (uint64_t)(t * M + j)) < x->data[j] ? 1.0f : 0.0f;
        return SGAD_OK;
    case SGAD_ENCODE_TTFS: ttfs(x->data, T, M, y->data); return SGAD_OK;
    }
    return sgad__fail(ctx, SGAD_E_INVALID_ARG, "%s: unknown encoding %d", fn, (int)encoding);
}

sgad_status sgad_encode_backward(sgad_ctx *ctx, sgad_encoding encoding, const sgad_tensor *dy,
                                 sgad_tensor *dx)
{
    static const char fn[] = "sgad_encode_backward";
    if (!ctx)
        return SGAD_E_INVALID_ARG;
    SGAD__TRY(check_pair(ctx, fn, dx, dy));
    SGAD__CHECK(ctx, encoding == SGAD_ENCODE_DIRECT, SGAD_E_UNSUPPORTED,
                "%s: only direct encoding has a gradient (encoding %d)", fn, (int)encoding);
    const int64_t T = dy->dims[0], M = dx->numel;
    memcpy(dx->data, dy->data, (size_t)M * sizeof(float));
    for (int64_t t = 1; t < T; t++)
        for (int64_t j = 0; j < M; j++)
            dx->data[j] += dy->data[t * M + j];
    return SGAD_OK;
}
