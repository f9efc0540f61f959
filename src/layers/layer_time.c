/* SPDX-License-Identifier: MIT */
/* Layers that change the time axis: repeat a static input over T steps
 * (direct encoding), keep the scaled last step, or average over time. */
#include <math.h>
#include <string.h>

#include "layer_impl.h"

typedef struct time_layer {
    sgad_layer base;
    int64_t steps; /* repeat: output steps */
    float scale;   /* last step: factor */
} time_layer;

static sgad_status repeat_out_shape(const sgad_layer *l, const sgad__shape *in, sgad__shape *out)
{
    char buf[SGAD__SHAPE_STR_LEN];
    SGAD__CHECK(l->ctx, in->dims[0] == 1, SGAD_E_SHAPE,
                "repeat expects one time step [1, N, ...], got %s",
                sgad__shape_str(in, buf, sizeof buf));
    *out = *in;
    out->dims[0] = ((const time_layer *)l)->steps;
    return SGAD_OK;
}

static sgad_status to_one_step(const sgad_layer *l, const sgad__shape *in, sgad__shape *out)
{
    (void)l;
    *out = *in;
    out->dims[0] = 1;
    return SGAD_OK;
}

static sgad_status repeat_forward(sgad_layer *l, const sgad__shape *in, const float *x, float *y)
{
    const int64_t n = sgad__shape_numel(in);
    for (int64_t t = 0; t < ((time_layer *)l)->steps; t++)
        memcpy(y + t * n, x, (size_t)n * sizeof *y);
    return SGAD_OK;
}

static sgad_status repeat_backward(sgad_layer *l, const sgad__shape *in, const float *x,
                                   const float *y, const float *dy, float *dx)
{
    (void)x;
    (void)y;
    if (!dx)
        return SGAD_OK;
    const int64_t n = sgad__shape_numel(in);
    memcpy(dx, dy, (size_t)n * sizeof *dx);
    for (int64_t t = 1; t < ((time_layer *)l)->steps; t++)
        for (int64_t i = 0; i < n; i++)
            dx[i] += dy[t * n + i];
    return SGAD_OK;
}

static sgad_status last_forward(sgad_layer *l, const sgad__shape *in, const float *x, float *y)
{
    const int64_t n = sgad__shape_numel(in) / in->dims[0];
    const float scale = ((time_layer *)l)->scale;
    const float *last = x + (in->dims[0] - 1) * n;
    for (int64_t i = 0; i < n; i++)
        y[i] = scale * last[i];
    return SGAD_OK;
}

static sgad_status last_backward(sgad_layer *l, const sgad__shape *in, const float *x,
                                 const float *y, const float *dy, float *dx)
{
    (void)x;
    (void)y;
    if (!dx)
        return SGAD_OK;
    const int64_t n = sgad__shape_numel(in) / in->dims[0];
    const float scale = ((time_layer *)l)->scale;
    memset(dx, 0, (size_t)(sgad__shape_numel(in) - n) * sizeof *dx);
    float *last = dx + (in->dims[0] - 1) * n;
    for (int64_t i = 0; i < n; i++)
        last[i] = scale * dy[i];
    return SGAD_OK;
}

static sgad_status mean_forward(sgad_layer *l, const sgad__shape *in, const float *x, float *y)
{
    (void)l;
    const int64_t T = in->dims[0], n = sgad__shape_numel(in) / T;
    memset(y, 0, (size_t)n * sizeof *y);
    for (int64_t t = 0; t < T; t++)
        for (int64_t i = 0; i < n; i++)
            y[i] += x[t * n + i];
    for (int64_t i = 0; i < n; i++)
        y[i] /= (float)T;
    return SGAD_OK;
}

static sgad_status mean_backward(sgad_layer *l, const sgad__shape *in, const float *x,
                                 const float *y, const float *dy, float *dx)
{
    (void)l;
    (void)x;
    (void)y;
    if (!dx)
        return SGAD_OK;
    const int64_t T = in->dims[0], n = sgad__shape_numel(in) / T;
    for (int64_t t = 0; t < T; t++)
        for (int64_t i = 0; i < n; i++)
            dx[t * n + i] = dy[i] / (float)T;
    return SGAD_OK;
}

static const sgad__layer_ops repeat_ops = {
    .kind = SGAD_LAYER_REPEAT,
    .out_shape = repeat_out_shape,
    .forward = repeat_forward,
    .backward = repeat_backward,
    .backward_skips = SGAD__SKIPS_X | SGAD__SKIPS_Y,
    .repeats_step = 1,
};
static const sgad__layer_ops last_ops = {
    .kind = SGAD_LAYER_LAST_STEP,
    .out_shape = to_one_step,
    .forward = last_forward,
    .backward = last_backward,
    .backward_skips = SGAD__SKIPS_X | SGAD__SKIPS_Y,
};
static const sgad__layer_ops mean_ops = {
    .kind = SGAD_LAYER_TIME_MEAN,
    .out_shape = to_one_step,
    .forward = mean_forward,
    .backward = mean_backward,
    .backward_skips = SGAD__SKIPS_X | SGAD__SKIPS_Y,
};

/* Allocates the layer after its arguments were found valid (valid = 1),
 * else records `why`; *out is NULL on failure. */
static sgad_status time_create(sgad_ctx *ctx, const char *fn, const sgad__layer_ops *ops, int valid,
                               const char *why, sgad_layer **out)
{
    if (!ctx)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(ctx, out != NULL, SGAD_E_INVALID_ARG, "%s: out is NULL", fn);
    *out = NULL;
    SGAD__CHECK(ctx, valid, SGAD_E_INVALID_ARG, "%s: %s", fn, why);
    return sgad__layer_alloc(ctx, ops, sizeof(time_layer), out);
}

sgad_status sgad_repeat_create(sgad_ctx *ctx, int steps, sgad_layer **out)
{
    SGAD__TRY(time_create(ctx, "sgad_repeat_create", &repeat_ops, steps >= 1 && steps <= 1000000,
                          "steps must be in [1, 1000000]", out));
    ((time_layer *)*out)->steps = steps;
    return SGAD_OK;
}

sgad_status sgad_last_step_create(sgad_ctx *ctx, double scale, sgad_layer **out)
{
    SGAD__TRY(time_create(ctx, "sgad_last_step_create", &last_ops, isfinite(scale),
                          "scale must be finite", out));
    ((time_layer *)*out)->scale = (float)scale;
    return SGAD_OK;
}

sgad_status sgad_time_mean_create(sgad_ctx *ctx, sgad_layer **out)
{
    return time_create(ctx, "sgad_time_mean_create", &mean_ops, 1, "", out);
}
