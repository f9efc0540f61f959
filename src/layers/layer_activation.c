/* SPDX-License-Identifier: MIT */
/* Element-wise activations: sigmoid and leaky ReLU. Any input shape. Their
 * backward passes use the forward output where it determines the slope, so
 * nothing is cached. Loops run on the context's threads (the sampling's
 * final sigmoid had run on one while the other waited). */
#include <math.h>

#include "core/parallel.h"
#include "kernels/exp.h"
#include "kernels/isa.h"
#include "layer_impl.h"

typedef struct activation {
    sgad_layer base;
    float slope; /* leaky ReLU only */
} activation;

static sgad_status same_shape(const sgad_layer *l, const sgad__shape *in, sgad__shape *out)
{
    (void)l;
    *out = *in;
    return SGAD_OK;
}

SGAD__AVX2_CLONE
static sgad_status sigmoid_forward(sgad_layer *l, const sgad__shape *in, const float *x, float *y)
{
    const int64_t n = sgad__shape_numel(in), vectors = n / 8;
#pragma omp parallel for num_threads(sgad__par_threads(l->ctx, n)) schedule(static)
    for (int64_t i = 0; i < vectors; i++) {
        sgad__v8 v;
        SGAD__LOAD8(v, x + 8 * i);
        v = -v;
        sgad__exp8(&v);
        v = 1.0f / (1.0f + v);
        SGAD__STORE8(y + 8 * i, v);
    }
    for (int64_t i = 8 * vectors; i < n; i++)
        y[i] = 1.0f / (1.0f + sgad__exp(-x[i]));
    return SGAD_OK;
}

/* dsigmoid/dx = y (1 - y). */
static sgad_status sigmoid_backward(sgad_layer *l, const sgad__shape *in, const float *x,
                                    const float *y, const float *dy, float *dx)
{
    (void)x;
    if (!dx)
        return SGAD_OK;
    const int64_t n = sgad__shape_numel(in);
#pragma omp parallel for num_threads(sgad__par_threads(l->ctx, n)) schedule(static)
    for (int64_t i = 0; i < n; i++)
        dx[i] = dy[i] * y[i] * (1.0f - y[i]);
    return SGAD_OK;
}

static sgad_status leaky_forward(sgad_layer *l, const sgad__shape *in, const float *x, float *y)
{
    const float slope = ((const activation *)l)->slope;
    const int64_t n = sgad__shape_numel(in);
#pragma omp parallel for num_threads(sgad__par_threads(l->ctx, n)) schedule(static)
    for (int64_t i = 0; i < n; i++)
        y[i] = x[i] >= 0.0f ? x[i] : slope * x[i];
    return SGAD_OK;
}

/* The slope at x = 0 is taken as 1, as PyTorch does. */
static sgad_status leaky_backward(sgad_layer *l, const sgad__shape *in, const float *x,
                                  const float *y, const float *dy, float *dx)
{
    (void)y;
    if (!dx)
        return SGAD_OK;
    const float slope = ((const activation *)l)->slope;
    const int64_t n = sgad__shape_numel(in);
#pragma omp parallel for num_threads(sgad__par_threads(l->ctx, n)) schedule(static)
    for (int64_t i = 0; i < n; i++)
        dx[i] = x[i] >= 0.0f ? dy[i] : slope * dy[i];
    return SGAD_OK;
}

static sgad_status leaky_set(sgad_layer *l, sgad_option option, double value)
{
    SGAD__CHECK(l->ctx, option == SGAD_OPT_LEAKY_SLOPE, SGAD_E_UNSUPPORTED,
                "sgad_layer_set: leaky_relu has no option %d", (int)option);
    ((activation *)l)->slope = (float)value;
    return SGAD_OK;
}

static sgad_status leaky_get(const sgad_layer *l, sgad_option option, double *value)
{
    SGAD__CHECK(l->ctx, option == SGAD_OPT_LEAKY_SLOPE, SGAD_E_UNSUPPORTED,
                "sgad_layer_get: leaky_relu has no option %d", (int)option);
    *value = ((const activation *)l)->slope;
    return SGAD_OK;
}

static const sgad__layer_ops sigmoid_ops = {
    .kind = SGAD_LAYER_SIGMOID,
    .out_shape = same_shape,
    .forward = sigmoid_forward,
    .backward = sigmoid_backward,
    .backward_skips = SGAD__SKIPS_X,
    .steps_alike = 1,
};
static const sgad__layer_ops leaky_ops = {
    .kind = SGAD_LAYER_LEAKY_RELU,
    .out_shape = same_shape,
    .forward = leaky_forward,
    .backward = leaky_backward,
    .set = leaky_set,
    .get = leaky_get,
    .backward_skips = SGAD__SKIPS_Y,
    .steps_alike = 1,
};

sgad_status sgad_sigmoid_create(sgad_ctx *ctx, sgad_layer **out)
{
    if (!ctx)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(ctx, out != NULL, SGAD_E_INVALID_ARG, "sgad_sigmoid_create: out is NULL");
    *out = NULL;
    return sgad__layer_alloc(ctx, &sigmoid_ops, sizeof(activation), out);
}

sgad_status sgad_leaky_relu_create(sgad_ctx *ctx, double slope, sgad_layer **out)
{
    if (!ctx)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(ctx, out != NULL, SGAD_E_INVALID_ARG, "sgad_leaky_relu_create: out is NULL");
    *out = NULL;
    double lo, hi;
    sgad_option_bounds(SGAD_OPT_LEAKY_SLOPE, &lo, &hi);
    SGAD__CHECK(ctx, isfinite(slope) && slope >= lo && slope <= hi, SGAD_E_INVALID_ARG,
                "sgad_leaky_relu_create: slope=%g outside [%g, %g]", slope, lo, hi);
    SGAD__TRY(sgad__layer_alloc(ctx, &leaky_ops, sizeof(activation), out));
    ((activation *)*out)->slope = (float)slope;
    return SGAD_OK;
}
