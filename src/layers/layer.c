/* SPDX-License-Identifier: MIT */
/* Generic layer calls: argument and shape checks, then dispatch to the
 * kind's ops (layer_impl.h). */
#include <string.h>

#include "core/rng.h"
#include "layer_impl.h"

sgad_status sgad__layer_alloc(sgad_ctx *ctx, const sgad__layer_ops *ops, size_t size,
                              sgad_layer **out)
{
    sgad_layer *l = sgad__calloc(ctx, 1, size);
    if (!l)
        return SGAD_E_NOMEM;
    l->ops = ops;
    l->ctx = ctx;
    l->training = 1;
    *out = l;
    return SGAD_OK;
}

sgad_status sgad__layer_add_param(sgad_layer *l, const char *name, int ndim, const int64_t *dims,
                                  int trainable, float **value)
{
    sgad__param *p = &l->params[l->nparams];
    SGAD__TRY(sgad_tensor_create(l->ctx, ndim, dims, &p->value));
    p->name = name;
    l->nparams++;
    if (trainable)
        SGAD__TRY(sgad_tensor_create(l->ctx, ndim, dims, &p->grad));
    if (value)
        *value = p->value->data;
    return SGAD_OK;
}

void sgad__init_uniform(sgad_ctx *ctx, float *p, int64_t n, float bound)
{
    uint64_t stream = sgad__ctx_next_stream(ctx);
    for (int64_t i = 0; i < n; i++)
        p[i] = bound * (2.0f * sgad__rng_uniform(ctx->seed, stream, (uint64_t)i) - 1.0f);
}

int64_t sgad__sample_numel(const sgad__shape *s)
{
    int64_t n = 1;
    for (int i = 2; i < s->ndim; i++)
        n *= s->dims[i];
    return n;
}

void sgad_layer_free(sgad_layer *l)
{
    if (!l)
        return;
    if (l->ops->destroy)
        l->ops->destroy(l);
    for (int i = 0; i < l->nparams; i++) {
        sgad_tensor_free(l->params[i].value);
        sgad_tensor_free(l->params[i].grad);
    }
    sgad__free(l->ctx, l);
}

const char *sgad_layer_kind_name(sgad_layer_kind kind)
{
    switch (kind) {
    case SGAD_LAYER_LINEAR: return "linear";
    case SGAD_LAYER_CONV2D: return "conv2d";
    case SGAD_LAYER_CONVT2D: return "convt2d";
    case SGAD_LAYER_BATCHNORM1D: return "batchnorm1d";
    case SGAD_LAYER_BATCHNORM2D: return "batchnorm2d";
    case SGAD_LAYER_AVGPOOL2D: return "avgpool2d";
    case SGAD_LAYER_SIGMOID: return "sigmoid";
    case SGAD_LAYER_LEAKY_RELU: return "leaky_relu";
    case SGAD_LAYER_RESHAPE: return "reshape";
    case SGAD_LAYER_LIF: return "lif";
    case SGAD_LAYER_IF: return "if";
    case SGAD_LAYER_MP: return "mp";
    case SGAD_LAYER_ATTENTION: return "attention";
    case SGAD_LAYER_REPEAT: return "repeat";
    case SGAD_LAYER_LAST_STEP: return "last_step";
    case SGAD_LAYER_TIME_MEAN: return "time_mean";
    }
    return "unknown";
}

sgad_layer_kind sgad_layer_get_kind(const sgad_layer *l)
{
    return l ? l->ops->kind : (sgad_layer_kind)0;
}

sgad_ctx *sgad_layer_ctx(const sgad_layer *l)
{
    return l ? l->ctx : NULL;
}

/* ---- options (bounds and checks: core/options.c) ------------------------- */

sgad_status sgad_layer_set(sgad_layer *l, sgad_option option, double value)
{
    if (!l)
        return SGAD_E_INVALID_ARG;
    const char *kind = sgad_layer_kind_name(l->ops->kind);
    SGAD__TRY(sgad__option_check(l->ctx, "sgad_layer_set", kind, option, value));
    SGAD__CHECK(l->ctx, l->ops->set != NULL, SGAD_E_UNSUPPORTED,
                "sgad_layer_set: a %s layer has no option %d", kind, (int)option);
    return l->ops->set(l, option, value);
}

sgad_status sgad_layer_get(const sgad_layer *l, sgad_option option, double *value)
{
    if (!l)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(l->ctx, value != NULL, SGAD_E_INVALID_ARG, "sgad_layer_get: value is NULL");
    SGAD__CHECK(l->ctx, l->ops->get != NULL, SGAD_E_UNSUPPORTED,
                "sgad_layer_get: a %s layer has no option %d", sgad_layer_kind_name(l->ops->kind),
                (int)option);
    return l->ops->get(l, option, value);
}

/* ---- shapes ------------------------------------------------------------- */

static sgad_status input_shape(const sgad_layer *l, const char *fn, int ndim, const int64_t *dims,
                               sgad__shape *in)
{
    SGAD__CHECK(l->ctx, dims != NULL, SGAD_E_INVALID_ARG, "%s: dims is NULL", fn);
    SGAD__CHECK(l->ctx, ndim >= 2 && ndim <= SGAD_MAX_DIMS, SGAD_E_SHAPE,
                "%s: %s input needs [T, N, ...] with 2..%d dims, got %d", fn,
                sgad_layer_kind_name(l->ops->kind), SGAD_MAX_DIMS, ndim);
    in->ndim = ndim;
    for (int i = 0; i < ndim; i++) {
        SGAD__CHECK(l->ctx, dims[i] >= 1 && dims[i] <= SGAD__MAX_NUMEL, SGAD_E_SHAPE,
                    "%s: input dims[%d]=%lld must be at least 1", fn, i, (long long)dims[i]);
        in->dims[i] = dims[i];
    }
    return SGAD_OK;
}

sgad_status sgad_layer_output_dims(const sgad_layer *l, int ndim, const int64_t *in_dims,
                                   int *out_ndim, int64_t *out_dims)
{
    if (!l)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(l->ctx, out_ndim && out_dims, SGAD_E_INVALID_ARG,
                "sgad_layer_output_dims: output pointer is NULL");
    sgad__shape in, out;
    SGAD__TRY(input_shape(l, "sgad_layer_output_dims", ndim, in_dims, &in));
    SGAD__TRY(l->ops->out_shape(l, &in, &out));
    *out_ndim = out.ndim;
    memcpy(out_dims, out.dims, (size_t)out.ndim * sizeof *out_dims);
    return SGAD_OK;
}

/* ---- forward and backward ---------------------------------------------- */

sgad_status sgad__layer_forward_raw(sgad_layer *l, const sgad__shape *in, const float *x, float *y)
{
    l->has_forward = 0;
    l->has_rate = 0;
    SGAD__TRY(l->ops->forward(l, in, x, y));
    l->has_forward = 1;
    l->last_in = *in;
    return SGAD_OK;
}

sgad_status sgad__layer_backward_raw(sgad_layer *l, const sgad__shape *in, const float *x,
                                     const float *y, const float *dy, float *dx)
{
    SGAD__CHECK(l->ctx, l->has_forward, SGAD_E_STATE, "backward: the %s layer has not run forward",
                sgad_layer_kind_name(l->ops->kind));
    char a[SGAD__SHAPE_STR_LEN], b[SGAD__SHAPE_STR_LEN];
    SGAD__CHECK(l->ctx, sgad__shape_equal(in, &l->last_in), SGAD_E_STATE,
                "backward: input %s differs from the last forward's %s",
                sgad__shape_str(in, a, sizeof a), sgad__shape_str(&l->last_in, b, sizeof b));
    return l->ops->backward(l, in, x, y, dy, dx);
}

sgad_status sgad_layer_forward(sgad_layer *l, const sgad_tensor *x, sgad_tensor *y)
{
    static const char fn[] = "sgad_layer_forward";
    if (!l)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(l->ctx, x && y, SGAD_E_INVALID_ARG, "%s: x or y is NULL", fn);
    sgad__shape in, out;
    SGAD__TRY(input_shape(l, fn, x->ndim, x->dims, &in));
    SGAD__TRY(l->ops->out_shape(l, &in, &out));
    SGAD__TRY(sgad__expect_shape(l->ctx, fn, "y", y, &out));
    SGAD__CHECK(l->ctx, !sgad__tensors_overlap(x, y), SGAD_E_INVALID_ARG,
                "%s: x and y share memory", fn);
    return sgad__layer_forward_raw(l, &in, x->data, y->data);
}

sgad_status sgad_layer_backward(sgad_layer *l, const sgad_tensor *x, const sgad_tensor *y,
                                const sgad_tensor *dy, sgad_tensor *dx)
{
    static const char fn[] = "sgad_layer_backward";
    if (!l)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(l->ctx, x && y && dy, SGAD_E_INVALID_ARG, "%s: x, y or dy is NULL", fn);
    sgad__shape in, out;
    SGAD__TRY(input_shape(l, fn, x->ndim, x->dims, &in));
    SGAD__TRY(l->ops->out_shape(l, &in, &out));
    SGAD__TRY(sgad__expect_shape(l->ctx, fn, "y", y, &out));
    SGAD__TRY(sgad__expect_shape(l->ctx, fn, "dy", dy, &out));
    if (dx) {
        SGAD__TRY(sgad__expect_shape(l->ctx, fn, "dx", dx, &in));
        SGAD__CHECK(l->ctx,
                    !sgad__tensors_overlap(dx, dy) && !sgad__tensors_overlap(dx, x) &&
                        !sgad__tensors_overlap(dx, y),
                    SGAD_E_INVALID_ARG, "%s: dx shares memory with x, y or dy", fn);
    }
    return sgad__layer_backward_raw(l, &in, x->data, y->data, dy->data, dx ? dx->data : NULL);
}

sgad_status sgad_layer_set_training(sgad_layer *l, int training)
{
    if (!l)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(l->ctx, training == 0 || training == 1, SGAD_E_INVALID_ARG,
                "sgad_layer_set_training: training=%d must be 0 or 1", training);
    l->training = training;
    return SGAD_OK;
}

void sgad_layer_zero_grad(sgad_layer *l)
{
    if (!l)
        return;
    for (int i = 0; i < l->nparams; i++)
        if (l->params[i].grad)
            memset(l->params[i].grad->data, 0, (size_t)l->params[i].grad->numel * sizeof(float));
}

int sgad_layer_param_count(const sgad_layer *l)
{
    return l ? l->nparams : 0;
}

sgad_status sgad_layer_param(sgad_layer *l, int i, const char **name, sgad_tensor **value,
                             sgad_tensor **grad)
{
    if (!l)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(l->ctx, i >= 0 && i < l->nparams, SGAD_E_INVALID_ARG,
                "sgad_layer_param: index %d outside [0, %d)", i, l->nparams);
    if (name)
        *name = l->params[i].name;
    if (value)
        *value = l->params[i].value;
    if (grad)
        *grad = l->params[i].grad;
    return SGAD_OK;
}

sgad_status sgad_layer_firing_rate(const sgad_layer *l, double *rate)
{
    if (!l)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(l->ctx, rate != NULL, SGAD_E_INVALID_ARG, "sgad_layer_firing_rate: rate is NULL");
    SGAD__CHECK(l->ctx, l->ops->spiking, SGAD_E_UNSUPPORTED,
                "sgad_layer_firing_rate: a %s layer does not spike",
                sgad_layer_kind_name(l->ops->kind));
    SGAD__CHECK(l->ctx, l->has_rate, SGAD_E_STATE,
                "sgad_layer_firing_rate: the layer has not run forward");
    *rate = l->firing_rate;
    return SGAD_OK;
}

/* ---- optional ops (layer_impl.h) ---------------------------------------- */

int sgad__layer_spiking(const sgad_layer *l)
{
    return l->ops->spiking;
}

void sgad__layer_set_repeats(sgad_layer *l, int64_t repeats)
{
    if (l->ops->set_repeats)
        l->ops->set_repeats(l, repeats);
}

void sgad__layer_set_stats_only(sgad_layer *l, int on)
{
    if (l->ops->set_stats_only)
        l->ops->set_stats_only(l, on);
}

int sgad__layer_affine(const sgad_layer *l, int64_t steps, int64_t channels, float *scale,
                       float *shift)
{
    return l->ops->affine ? l->ops->affine(l, steps, channels, scale, shift) : 0;
}

sgad_status sgad__layer_replay(sgad_layer *l)
{
    return l->ops->replay ? l->ops->replay(l) : SGAD_OK;
}

void sgad__layer_set_shared_input(sgad_layer *l, int on)
{
    if (l->ops->set_shared_input)
        l->ops->set_shared_input(l, on);
}

void sgad__layer_set_input_norm(sgad_layer *l, const sgad_layer *norm)
{
    if (l->ops->set_input_norm)
        l->ops->set_input_norm(l, norm);
}

void sgad__layer_set_output_pool(sgad_layer *l, int64_t k)
{
    if (l->ops->set_output_pool)
        l->ops->set_output_pool(l, k);
}

int64_t sgad__layer_pool_window(const sgad_layer *l)
{
    return l->ops->pool_window ? l->ops->pool_window(l) : 0;
}

void sgad__layer_set_batch_stats(sgad_layer *l, int on)
{
    if (l->ops->set_batch_stats)
        l->ops->set_batch_stats(l, on);
}
