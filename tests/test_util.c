/* SPDX-License-Identifier: MIT */
/* Shared test helpers. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

sgad_ctx *tu_ctx(uint64_t seed)
{
    sgad_ctx *ctx = NULL;
    ck_assert_int_eq(sgad_ctx_create(&ctx), SGAD_OK);
    ck_assert_int_eq(sgad_ctx_set_seed(ctx, seed), SGAD_OK);
    return ctx;
}

sgad_tensor *tu_tensor(sgad_ctx *ctx, int d0, ...)
{
    int64_t dims[SGAD_MAX_DIMS];
    int n = 0;
    va_list ap;
    va_start(ap, d0);
    for (int d = d0; d != 0 && n < SGAD_MAX_DIMS; d = va_arg(ap, int))
        dims[n++] = d;
    va_end(ap);
    sgad_tensor *t = NULL;
    ASSERT_OK(ctx, sgad_tensor_create(ctx, n, dims, &t));
    return t;
}

double tu_uniform(uint64_t *state)
{
    /* xorshift64*: plenty for test data, independent of the library's RNG. */
    uint64_t x = *state ? *state : 0x2545F4914F6CDD1DULL;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) * (1.0 / 9007199254740992.0);
}

void tu_fill_uniform(float *p, int64_t n, float lo, float hi, uint64_t *state)
{
    for (int64_t i = 0; i < n; i++)
        p[i] = lo + (hi - lo) * (float)tu_uniform(state);
}

double tu_max_scaled_err(const float *a, const float *b, int64_t n, double rtol, double atol)
{
    double worst = 0;
    for (int64_t i = 0; i < n; i++) {
        const double e = fabs((double)a[i] - (double)b[i]) / (atol + rtol * fabs((double)b[i]));
        if (isnan(e))
            return e; /* a NaN anywhere is the worst error: no later value may hide it */
        if (e > worst)
            worst = e;
    }
    return worst;
}

float *tu_net_weights(sgad_ctx *ctx, sgad_net *net, int64_t *n)
{
    int64_t total = 0;
    for (int i = 0; i < sgad_net_param_count(net); i++) {
        sgad_tensor *v;
        ASSERT_OK(ctx, sgad_net_param(net, i, NULL, &v, NULL));
        total += sgad_tensor_numel(v);
    }
    float *out = malloc((size_t)total * sizeof *out), *p = out;
    ck_assert_ptr_nonnull(out);
    for (int i = 0; i < sgad_net_param_count(net); i++) {
        sgad_tensor *v;
        ASSERT_OK(ctx, sgad_net_param(net, i, NULL, &v, NULL));
        memcpy(p, sgad_tensor_data(v), (size_t)sgad_tensor_numel(v) * sizeof *p);
        p += sgad_tensor_numel(v);
    }
    *n = total;
    return out;
}

unsigned char *tu_read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    const long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    ck_assert_int_ge(len, 0);
    unsigned char *p = malloc((size_t)len + 1);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(fread(p, 1, (size_t)len, f), (size_t)len);
    p[len] = 0;
    fclose(f);
    *n = (size_t)len;
    return p;
}
