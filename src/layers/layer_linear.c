/* SPDX-License-Identifier: MIT */
/* Linear layer: y = x W^T + b over all T*N rows at once, so each pass is a
 * single BLIS GEMM whatever T is. When the input is sparse (spikes), the
 * forward pass and the weight gradient are event-driven instead (nonzeros.h):
 * they touch W^T only for the nonzero inputs. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "events/event_tiles.h"
#include "events/panels.h"
#include "events/path_choice.h"
#include "events/spike_trains.h"
#include "input_path.h"
#include "kernels/gemm.h"
#include "layer_impl.h"

typedef struct linear {
    sgad_layer base;
    int64_t in, out;
    float *weight, *bias; /* bias NULL without bias */
    sgad__input_path path;
    int by_trains; /* the last forward's events went by spike train */
} linear;

/* Share of nonzero inputs below which the event path (forward and weight
 * gradient together) is faster than BLIS [bench:linear-break-even]; the
 * lower end of the layers measured, so no layer takes events that lose. */
#define LINEAR_BREAK_EVEN 0.25

static sgad_status linear_out_shape(const sgad_layer *l, const sgad__shape *in, sgad__shape *out)
{
    const linear *lin = (const linear *)l;
    char buf[SGAD__SHAPE_STR_LEN];
    SGAD__CHECK(l->ctx, in->ndim == 3 && in->dims[2] == lin->in, SGAD_E_SHAPE,
                "linear(%lld -> %lld) expects input [T, N, %lld], got %s (use a reshape layer "
                "to flatten images)",
                (long long)lin->in, (long long)lin->out, (long long)lin->in,
                sgad__shape_str(in, buf, sizeof buf));
    *out = *in;
    out->dims[2] = lin->out;
    return SGAD_OK;
}

/* Grouping by spike train is not tried below this many steps (too few
 * for trains to repeat much) or outputs (the listing, a sort per sample,
 * costs more than it can save [bench:trains-min-out]). */
#define TRAINS_MIN_STEPS 4
#define TRAINS_MIN_OUT 64

/* Lists the input by spike train (spike_trains.h) when that pays: binary
 * spikes whose trains repeat enough that the products add at most half
 * the weight rows the plain events would. Sets lin->by_trains, which the
 * backward follows. */
static sgad_status choose_trains(linear *lin, const sgad__shape *in, const float *x,
                                 sgad__trains *tr)
{
    lin->by_trains = 0;
    if (in->dims[0] < TRAINS_MIN_STEPS || in->dims[0] > SGAD__TRAINS_MAX_STEPS ||
        lin->out < TRAINS_MIN_OUT)
        return SGAD_OK;
    SGAD__TRY(sgad__trains_list(lin->base.ctx, SGAD__SCRATCH_EVENT_LISTS, in->dims[0], in->dims[1],
                                lin->in, x, tr));
    lin->by_trains = tr->usable && 2 * tr->work <= tr->spikes;
    if (lin->by_trains)
        lin->path.taken = SGAD_PATH_EVENTS_BY_TRAIN;
    return SGAD_OK;
}

/* The event products' view of w (the weight, or its gradient to add to)
 * in panels built one at a time per thread (panels.h): the whole panel
 * form of a large layer would be a scratch buffer the size of its weight
 * [bench:linear-panels]. */
static sgad_status weight_panels(const linear *lin, float *w, sgad__panels *p)
{
    sgad_ctx *ctx = lin->base.ctx;
    float *own =
        sgad__scratch(ctx, SGAD__SCRATCH_EVENT_WEIGHTS,
                      (size_t)(ctx->threads * sgad__panels_own_size(lin->in)) * sizeof *own);
    if (!own)
        return SGAD_E_NOMEM;
    *p = sgad__panels_of_weight(lin->out, lin->in, w, own);
    return SGAD_OK;
}

/* y += x W^T on the event path: by spike train where that pays
 * (choose_trains), else by the nonzeros of each row. */
static sgad_status forward_events(linear *lin, const sgad__shape *in, const float *x, float *y)
{
    sgad_ctx *ctx = lin->base.ctx;
    sgad__trains tr;
    SGAD__TRY(choose_trains(lin, in, x, &tr));
    if (lin->by_trains) {
        sgad__panels W;
        SGAD__TRY(weight_panels(lin, lin->weight, &W));
        sgad__trains_matmul(ctx, &tr, &W, y);
        return SGAD_OK;
    }
    sgad__tiles xs;
    SGAD__TRY(sgad__tiles_list(ctx, SGAD__SCRATCH_EVENT_LISTS, in->dims[0] * in->dims[1], lin->in,
                               x, 0, &xs));
    float *own =
        sgad__scratch(ctx, SGAD__SCRATCH_EVENT_WEIGHTS,
                      (size_t)(ctx->threads * sgad__tiles_matmul_own_size()) * sizeof *own);
    if (!own)
        return SGAD_E_NOMEM;
    sgad__tiles_matmul(ctx, &xs, lin->weight, lin->out, y, own);
    return SGAD_OK;
}

static sgad_status linear_forward(sgad_layer *l, const sgad__shape *in, const float *x, float *y)
{
    linear *lin = (linear *)l;
    const int64_t rows = in->dims[0] * in->dims[1];
    float beta = 0.0f;
    if (lin->bias) {
        for (int64_t r = 0; r < rows; r++)
            memcpy(y + r * lin->out, lin->bias, (size_t)lin->out * sizeof *y);
        beta = 1.0f;
    }
    /* the event listings index rows and inputs in 31 bits */
    const int indexable = rows < INT32_MAX && lin->in < INT32_MAX;
    if (indexable ? sgad__input_path_choose(l->ctx, &lin->path, x, sgad__shape_numel(in),
                                            LINEAR_BREAK_EVEN)
                  : sgad__input_path_take_dense(&lin->path)) {
        if (!lin->bias)
            memset(y, 0, (size_t)(rows * lin->out) * sizeof *y);
        return forward_events(lin, in, x, y);
    }
    sgad__sgemm(l->ctx, 0, 1, rows, lin->out, lin->in, 1.0f, x, lin->in, lin->weight, lin->in, beta,
                y, lin->out);
    return SGAD_OK;
}

/* dw += dy^T x on the event path: by spike train where the forward went
 * so, else with x listed by column, so that each weight is summed over
 * the rows in registers (listed by row, each event had to add to a row of
 * the gradient's panel in memory). */
static sgad_status weight_grad_events(const linear *lin, const sgad__shape *in, const float *x,
                                      const float *dy, float *dw)
{
    sgad_ctx *ctx = lin->base.ctx;
    if (lin->by_trains) {
        sgad__panels G;
        SGAD__TRY(weight_panels(lin, dw, &G));
        sgad__trains tr;
        SGAD__TRY(sgad__trains_list(ctx, SGAD__SCRATCH_EVENT_LISTS, in->dims[0], in->dims[1],
                                    lin->in, x, &tr));
        sgad__trains_outer(ctx, &tr, dy, &G);
        return SGAD_OK;
    }
    const int64_t rows = in->dims[0] * in->dims[1];
    sgad__tiles xs;
    SGAD__TRY(sgad__tiles_list(ctx, SGAD__SCRATCH_EVENT_LISTS, rows, lin->in, x, 1, &xs));
    float *own =
        sgad__scratch(ctx, SGAD__SCRATCH_EVENT_WEIGHTS,
                      (size_t)(ctx->threads * sgad__tiles_outer_own_size(rows)) * sizeof *own);
    if (!own)
        return SGAD_E_NOMEM;
    sgad__tiles_outer(ctx, &xs, dy, lin->out, dw, own);
    return SGAD_OK;
}

static sgad_status linear_backward(sgad_layer *l, const sgad__shape *in, const float *x,
                                   const float *y, const float *dy, float *dx)
{
    (void)y;
    const linear *lin = (const linear *)l;
    const int64_t rows = in->dims[0] * in->dims[1];
    float *dw = l->params[0].grad->data;
    if (l->input_grad_only) {
        /* no parameter gradients */
    } else if (lin->path.events) {
        SGAD__TRY(weight_grad_events(lin, in, x, dy, dw));
    } else {
        sgad__sgemm(l->ctx, 1, 0, lin->out, lin->in, rows, 1.0f, dy, lin->out, x, lin->in, 1.0f, dw,
                    lin->in);
    }
    if (lin->bias && !l->input_grad_only) {
        float *db = l->params[1].grad->data;
        for (int64_t r = 0; r < rows; r++)
            for (int64_t o = 0; o < lin->out; o++)
                db[o] += dy[r * lin->out + o];
    }
    if (dx)
        sgad__sgemm(l->ctx, 0, 0, rows, lin->in, lin->out, 1.0f, dy, lin->out, lin->weight, lin->in,
                    0.0f, dx, lin->in);
    return SGAD_OK;
}

static sgad_status linear_set(sgad_layer *l, sgad_option option, double value)
{
    return sgad__input_path_set(l, &((linear *)l)->path, option, value);
}

static sgad_status linear_get(const sgad_layer *l, sgad_option option, double *value)
{
    return sgad__input_path_get(l, &((const linear *)l)->path, option, value);
}

static const sgad__layer_ops linear_ops = {
    .kind = SGAD_LAYER_LINEAR,
    .out_shape = linear_out_shape,
    .forward = linear_forward,
    .backward = linear_backward,
    .set = linear_set,
    .get = linear_get,
    .backward_skips = SGAD__SKIPS_Y | SGAD__SKIPS_X_FOR_DX,
    .steps_alike = 1,
};

sgad_status sgad_linear_create(sgad_ctx *ctx, int64_t in_features, int64_t out_features,
                               int has_bias, sgad_layer **out)
{
    if (!ctx)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(ctx, out != NULL, SGAD_E_INVALID_ARG, "sgad_linear_create: out is NULL");
    *out = NULL;
    SGAD__CHECK(
        ctx, in_features >= 1 && out_features >= 1 && in_features <= SGAD__MAX_NUMEL / out_features,
        SGAD_E_INVALID_ARG,
        "sgad_linear_create: in_features=%lld, out_features=%lld "
        "must be at least 1 and their product below 2^40",
        (long long)in_features, (long long)out_features);
    SGAD__CHECK(ctx, has_bias == 0 || has_bias == 1, SGAD_E_INVALID_ARG,
                "sgad_linear_create: has_bias=%d must be 0 or 1", has_bias);
    sgad_layer *l;
    SGAD__TRY(sgad__layer_alloc(ctx, &linear_ops, sizeof(linear), &l));
    linear *lin = (linear *)l;
    lin->in = in_features;
    lin->out = out_features;
    const int64_t wdims[2] = {out_features, in_features};
    sgad_status s = sgad__layer_add_param(l, "weight", 2, wdims, 1, &lin->weight);
    if (s == SGAD_OK && has_bias)
        s = sgad__layer_add_param(l, "bias", 1, &out_features, 1, &lin->bias);
    if (s != SGAD_OK) {
        sgad_layer_free(l);
        return s;
    }
    /* PyTorch's default: kaiming_uniform(a=sqrt 5) gives U(+-1/sqrt(in)),
     * and the bias uses the same bound. */
    const float bound = 1.0f / sqrtf((float)in_features);
    sgad__init_uniform(ctx, lin->weight, out_features * in_features, bound);
    if (lin->bias)
        sgad__init_uniform(ctx, lin->bias, out_features, bound);
    *out = l;
    return SGAD_OK;
}
