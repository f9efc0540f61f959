/* SPDX-License-Identifier: MIT */
/* Reshape of each sample, e.g. flattening [C, H, W] for a linear layer or
 * unflattening features into an image. Data is C-ordered, so it is a copy
 * (layers never share buffers). */
#include <string.h>

#include "core/parallel.h"
#include "layer_impl.h"

typedef struct reshape {
    sgad_layer base;
    sgad__shape sample; /* per-sample dims, without T and N */
} reshape;

static sgad_status reshape_out_shape(const sgad_layer *l, const sgad__shape *in, sgad__shape *out)
{
    const reshape *r = (const reshape *)l;
    char a[SGAD__SHAPE_STR_LEN], b[SGAD__SHAPE_STR_LEN];
    SGAD__CHECK(l->ctx, sgad__sample_numel(in) == sgad__shape_numel(&r->sample), SGAD_E_SHAPE,
                "reshape to %s per sample needs %lld values per sample, input %s has %lld",
                sgad__shape_str(&r->sample, a, sizeof a), (long long)sgad__shape_numel(&r->sample),
                sgad__shape_str(in, b, sizeof b), (long long)sgad__sample_numel(in));
    out->ndim = 2 + r->sample.ndim;
    out->dims[0] = in->dims[0];
    out->dims[1] = in->dims[1];
    memcpy(out->dims + 2, r->sample.dims, (size_t)r->sample.ndim * sizeof *out->dims);
    return SGAD_OK;
}

static sgad_status reshape_forward(sgad_layer *l, const sgad__shape *in, const float *x, float *y)
{
    sgad__par_copy(l->ctx, y, x, sgad__shape_numel(in));
    return SGAD_OK;
}

static sgad_status reshape_backward(sgad_layer *l, const sgad__shape *in, const float *x,
                                    const float *y, const float *dy, float *dx)
{
    (void)x;
    (void)y;
    if (dx)
        sgad__par_copy(l->ctx, dx, dy, sgad__shape_numel(in));
    return SGAD_OK;
}

static const sgad__layer_ops reshape_ops = {
    .kind = SGAD_LAYER_RESHAPE,
    .out_shape = reshape_out_shape,
    .forward = reshape_forward,
    .backward = reshape_backward,
    .backward_skips = SGAD__SKIPS_X | SGAD__SKIPS_Y,
    .steps_alike = 1,
    .same_floats = 1,
};

sgad_status sgad_reshape_create(sgad_ctx *ctx, int ndim, const int64_t *sample_dims,
                                sgad_layer **out)
{
    static const char fn[] = "sgad_reshape_create";
    if (!ctx)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(ctx, out != NULL && sample_dims != NULL, SGAD_E_INVALID_ARG,
                "%s: out or sample_dims is NULL", fn);
    *out = NULL;
    SGAD__CHECK(ctx, ndim >= 1 && ndim <= SGAD_MAX_DIMS - 2, SGAD_E_INVALID_ARG,
                "%s: ndim=%d outside [1, %d]", fn, ndim, SGAD_MAX_DIMS - 2);
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        SGAD__CHECK(ctx, sample_dims[i] >= 1 && sample_dims[i] <= SGAD__MAX_NUMEL / n,
                    SGAD_E_INVALID_ARG,
                    "%s: sample_dims[%d]=%lld must be at least 1 (and "
                    "the product below 2^40)",
                    fn, i, (long long)sample_dims[i]);
        n *= sample_dims[i];
    }
    SGAD__TRY(sgad__layer_alloc(ctx, &reshape_ops, sizeof(reshape), out));
    reshape *r = (reshape *)*out;
    r->sample.ndim = ndim;
    memcpy(r->sample.dims, sample_dims, (size_t)ndim * sizeof *sample_dims);
    return SGAD_OK;
}
