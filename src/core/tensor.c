/* SPDX-License-Identifier: MIT */
/* Tensors: dimensions plus an owned or borrowed float buffer. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* Validates dims and computes the element count; records why not. */
static sgad_status check_dims(sgad_ctx *ctx, const char *fn, int ndim, const int64_t *dims,
                              int64_t *numel)
{
    SGAD__CHECK(ctx, dims != NULL, SGAD_E_INVALID_ARG, "%s: dims is NULL", fn);
    SGAD__CHECK(ctx, ndim >= 1 && ndim <= SGAD_MAX_DIMS, SGAD_E_INVALID_ARG,
                "%s: ndim=%d outside [1, %d]", fn, ndim, SGAD_MAX_DIMS);
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        SGAD__CHECK(ctx, dims[i] >= 1 && dims[i] <= SGAD__MAX_NUMEL, SGAD_E_INVALID_ARG,
                    "%s: dims[%d]=%lld must be at least 1", fn, i, (long long)dims[i]);
        SGAD__CHECK(ctx, n <= SGAD__MAX_NUMEL / dims[i], SGAD_E_INVALID_ARG,
                    "%s: more than 2^40 elements", fn);
        n *= dims[i];
    }
    *numel = n;
    return SGAD_OK;
}

static sgad_status tensor_init(sgad_ctx *ctx, const char *fn, int ndim, const int64_t *dims,
                               float *data, sgad_tensor **out)
{
    if (!ctx)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(ctx, out != NULL, SGAD_E_INVALID_ARG, "%s: out is NULL", fn);
    *out = NULL;
    int64_t numel;
    SGAD__TRY(check_dims(ctx, fn, ndim, dims, &numel));
    sgad_tensor *t = sgad__calloc(ctx, 1, sizeof *t);
    if (!t)
        return SGAD_E_NOMEM;
    t->ctx = ctx;
    t->ndim = ndim;
    t->numel = numel;
    memcpy(t->dims, dims, (size_t)ndim * sizeof *dims);
    if (data) {
        t->data = data;
    } else {
        t->data = sgad__calloc(ctx, (size_t)numel, sizeof(float));
        if (!t->data) {
            sgad__free(ctx, t);
            return SGAD_E_NOMEM;
        }
        t->owns_data = 1;
    }
    *out = t;
    return SGAD_OK;
}

sgad_status sgad_tensor_create(sgad_ctx *ctx, int ndim, const int64_t *dims, sgad_tensor **out)
{
    return tensor_init(ctx, "sgad_tensor_create", ndim, dims, NULL, out);
}

sgad_status sgad_tensor_wrap(sgad_ctx *ctx, int ndim, const int64_t *dims, float *data,
                             sgad_tensor **out)
{
    if (!ctx)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(ctx, data != NULL, SGAD_E_INVALID_ARG, "sgad_tensor_wrap: data is NULL");
    return tensor_init(ctx, "sgad_tensor_wrap", ndim, dims, data, out);
}

sgad_status sgad__tensor_new(sgad_ctx *ctx, const sgad__shape *s, sgad_tensor **out)
{
    return tensor_init(ctx, "tensor", s->ndim, s->dims, NULL, out);
}

void sgad_tensor_free(sgad_tensor *t)
{
    if (!t)
        return;
    if (t->owns_data)
        sgad__free(t->ctx, t->data);
    sgad__free(t->ctx, t);
}

float *sgad_tensor_data(const sgad_tensor *t)
{
    return t ? t->data : NULL;
}

int sgad_tensor_ndim(const sgad_tensor *t)
{
    return t ? t->ndim : 0;
}

int64_t sgad_tensor_dim(const sgad_tensor *t, int i)
{
    if (!t || i < 0 || i >= t->ndim)
        return 0;
    return t->dims[i];
}

int64_t sgad_tensor_numel(const sgad_tensor *t)
{
    return t ? t->numel : 0;
}

sgad_status sgad_tensor_reshape(sgad_tensor *t, int ndim, const int64_t *dims)
{
    if (!t)
        return SGAD_E_INVALID_ARG;
    int64_t numel;
    SGAD__TRY(check_dims(t->ctx, "sgad_tensor_reshape", ndim, dims, &numel));
    SGAD__CHECK(t->ctx, numel == t->numel, SGAD_E_SHAPE,
                "sgad_tensor_reshape: %lld elements cannot become %lld", (long long)t->numel,
                (long long)numel);
    t->ndim = ndim;
    memcpy(t->dims, dims, (size_t)ndim * sizeof *dims);
    return SGAD_OK;
}

int64_t sgad__shape_numel(const sgad__shape *s)
{
    int64_t n = 1;
    for (int i = 0; i < s->ndim; i++)
        n *= s->dims[i];
    return n;
}

int sgad__shape_equal(const sgad__shape *a, const sgad__shape *b)
{
    if (a->ndim != b->ndim)
        return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->dims[i] != b->dims[i])
            return 0;
    return 1;
}

void sgad__shape_of(const sgad_tensor *t, sgad__shape *s)
{
    s->ndim = t->ndim;
    memcpy(s->dims, t->dims, sizeof s->dims);
}

const char *sgad__shape_str(const sgad__shape *s, char *buf, size_t len)
{
    size_t used = 0;
    used += (size_t)snprintf(buf, len, "[");
    for (int i = 0; i < s->ndim && used < len; i++)
        used +=
            (size_t)snprintf(buf + used, len - used, i ? ", %lld" : "%lld", (long long)s->dims[i]);
    if (used < len)
        snprintf(buf + used, len - used, "]");
    return buf;
}

int sgad__tensors_overlap(const sgad_tensor *a, const sgad_tensor *b)
{
    const float *a0 = a->data, *a1 = a->data + a->numel;
    const float *b0 = b->data, *b1 = b->data + b->numel;
    return a0 < b1 && b0 < a1;
}

sgad_status sgad__expect_shape(sgad_ctx *ctx, const char *fn, const char *what,
                               const sgad_tensor *t, const sgad__shape *want)
{
    sgad__shape got;
    sgad__shape_of(t, &got);
    char a[SGAD__SHAPE_STR_LEN], b[SGAD__SHAPE_STR_LEN];
    SGAD__CHECK(ctx, sgad__shape_equal(&got, want), SGAD_E_SHAPE, "%s: %s is %s, expected %s", fn,
                what, sgad__shape_str(&got, a, sizeof a), sgad__shape_str(want, b, sizeof b));
    return SGAD_OK;
}
