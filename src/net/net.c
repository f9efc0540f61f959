/* SPDX-License-Identifier: MIT */
/* A net: layers run in sequence over all T steps, per a plan (plan.h)
 * made before each forward from the layers' traits, shapes and mode. Why
 * the plan saves what it saves: docs/design.md, sections "Execution" and
 * "Where the time and memory go, and what the net does about it".
 *
 * Invariants:
 *   - acts[i] holds layer i's output from the last forward if the plan
 *     kept it (as floats, or as codes when packed); an unkept output's
 *     floats live in a gradient buffer until overwritten;
 *   - the two gradient buffers belong to the context and hold nothing
 *     between a net's calls; each forward and backward fetches them anew
 *     and repoints the outputs kept in them (repoint_shared);
 *   - a layer's settings (set_repeats, set_stats_only, set_input_norm,
 *     set_output_pool, set_shared_input) are made around the net's own
 *     call only (set_modes), so a layer used alone behaves as always;
 *   - whatever the plan, outputs and gradients are bit for bit those of
 *     the layers run one by one with every output kept (test_net.c). */
#include <stdio.h>
#include <string.h>

#include "core/parallel.h"
#include "events/spike_codes.h"
#include "layers/layer_impl.h"
#include "plan.h"

typedef struct net_buf {
    sgad__shape shape;
    float *data;    /* owned, or a gradient buffer (or NULL) when shared */
    int64_t cap;    /* floats allocated; 0 when shared */
    int shared;     /* data is not owned */
    uint8_t *codes; /* a packed output's codes */
    int64_t codes_cap;
} net_buf;

typedef struct net_param_ref {
    char name[SGAD_MAX_NAME];
    int layer, index;
} net_param_ref;

struct sgad_net {
    sgad_ctx *ctx;
    int nlayers, cap;
    sgad_layer **layers;
    net_buf *acts;   /* acts[i]: output of layer i */
    sgad__plan plan; /* of the last forward; plan.layer[i] for layer i */
    net_buf input;   /* copy of the last forward's input */
    float *grad[2];  /* gradient ping-pong buffers, the context's */
    int nparams, param_cap;
    net_param_ref *params;
    int has_forward;
    int keep_from;        /* > 0: a lean forward keeps only the outputs
                               from this layer on (sgad__net_forward_lean) */
    sgad_tensor out_view; /* borrowed view of the last output */
};

sgad_status sgad_net_create(sgad_ctx *ctx, sgad_net **out)
{
    if (!ctx)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(ctx, out != NULL, SGAD_E_INVALID_ARG, "sgad_net_create: out is NULL");
    *out = sgad__calloc(ctx, 1, sizeof **out);
    if (!*out)
        return SGAD_E_NOMEM;
    (*out)->ctx = ctx;
    return SGAD_OK;
}

void sgad_net_free(sgad_net *net)
{
    if (!net)
        return;
    sgad_ctx *ctx = net->ctx;
    for (int i = 0; i < net->nlayers; i++) {
        sgad_layer_free(net->layers[i]);
        if (!net->acts[i].shared)
            sgad__free(ctx, net->acts[i].data);
        sgad__free(ctx, net->acts[i].codes);
    }
    sgad__free(ctx, net->layers);
    sgad__free(ctx, net->acts);
    sgad__free(ctx, net->plan.layer);
    sgad__free(ctx, net->input.data);
    sgad__free(ctx, net->params);
    sgad__free(ctx, net);
}

/* Grows an array of `*cap` elements of `size` bytes to hold `need`. */
static sgad_status grow(sgad_ctx *ctx, void **arr, int *cap, int need, size_t size)
{
    if (need <= *cap)
        return SGAD_OK;
    int n = *cap ? *cap * 2 : 8;
    while (n < need)
        n *= 2;
    void *p = sgad__calloc(ctx, (size_t)n, size);
    if (!p)
        return SGAD_E_NOMEM;
    if (*arr)
        memcpy(p, *arr, (size_t)*cap * size);
    sgad__free(ctx, *arr);
    *arr = p;
    *cap = n;
    return SGAD_OK;
}

sgad_status sgad_net_adopt(sgad_net *net, sgad_layer *layer)
{
    if (!net)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(net->ctx, layer != NULL, SGAD_E_INVALID_ARG, "sgad_net_adopt: layer is NULL");
    SGAD__CHECK(net->ctx, layer->ctx == net->ctx, SGAD_E_INVALID_ARG,
                "sgad_net_adopt: the layer comes from another context");
    SGAD__CHECK(net->ctx, !layer->owned_by_net, SGAD_E_INVALID_ARG,
                "sgad_net_adopt: the layer already belongs to a net");
    SGAD__CHECK(net->ctx, net->nlayers < 100000, SGAD_E_INVALID_ARG,
                "sgad_net_adopt: a net holds at most 100000 layers");
    /* Grow every array before changing anything, so failure leaves the net
     * as it was. */
    int cap = net->cap, pcap = net->param_cap;
    SGAD__TRY(grow(net->ctx, (void **)&net->layers, &cap, net->nlayers + 1, sizeof(sgad_layer *)));
    cap = net->cap;
    SGAD__TRY(grow(net->ctx, (void **)&net->acts, &cap, net->nlayers + 1, sizeof(net_buf)));
    cap = net->cap;
    SGAD__TRY(grow(net->ctx, (void **)&net->plan.layer, &cap, net->nlayers + 1,
                   sizeof(sgad__plan_layer)));
    SGAD__TRY(grow(net->ctx, (void **)&net->params, &pcap, net->nparams + layer->nparams,
                   sizeof(net_param_ref)));
    net->cap = cap;
    net->param_cap = pcap;
    for (int i = 0; i < layer->nparams; i++) {
        net_param_ref *ref = &net->params[net->nparams++];
        snprintf(ref->name, sizeof ref->name, "%d.%s", net->nlayers, layer->params[i].name);
        ref->layer = net->nlayers;
        ref->index = i;
    }
    net->layers[net->nlayers++] = layer;
    layer->owned_by_net = 1;
    net->has_forward = 0;
    return SGAD_OK;
}

int sgad_net_layer_count(const sgad_net *net)
{
    return net ? net->nlayers : 0;
}

sgad_layer *sgad_net_layer(const sgad_net *net, int i)
{
    if (!net || i < 0 || i >= net->nlayers)
        return NULL;
    return net->layers[i];
}

/* Prefixes the context's message with the failing layer's position. */
static sgad_status blame_layer(sgad_net *net, const char *fn, int i, sgad_status s)
{
    char msg[SGAD__ERR_LEN];
    memcpy(msg, net->ctx->err, sizeof msg);
    return sgad__fail(net->ctx, s, "%s: layer %d (%s): %s", fn, i,
                      sgad_layer_kind_name(net->layers[i]->ops->kind), msg);
}

static sgad_status input_shape(sgad_net *net, const char *fn, int ndim, const int64_t *dims,
                               sgad__shape *in)
{
    SGAD__CHECK(net->ctx, net->nlayers > 0, SGAD_E_STATE, "%s: the net has no layers", fn);
    SGAD__CHECK(net->ctx, dims != NULL, SGAD_E_INVALID_ARG, "%s: dims is NULL", fn);
    SGAD__CHECK(net->ctx, ndim >= 2 && ndim <= SGAD_MAX_DIMS, SGAD_E_SHAPE,
                "%s: input needs [T, N, ...] with 2..%d dims, got %d", fn, SGAD_MAX_DIMS, ndim);
    in->ndim = ndim;
    for (int i = 0; i < ndim; i++) {
        SGAD__CHECK(net->ctx, dims[i] >= 1, SGAD_E_SHAPE,
                    "%s: input dims[%d]=%lld must be "
                    "at least 1",
                    fn, i, (long long)dims[i]);
        in->dims[i] = dims[i];
    }
    return SGAD_OK;
}

/* Computes every layer's output shape into shapes[0..nlayers). */
static sgad_status infer_shapes(sgad_net *net, const char *fn, const sgad__shape *in,
                                sgad__shape *shapes)
{
    const sgad__shape *cur = in;
    for (int i = 0; i < net->nlayers; i++) {
        const sgad_layer *l = net->layers[i];
        sgad_status s = l->ops->out_shape(l, cur, &shapes[i]);
        if (s != SGAD_OK)
            return blame_layer(net, fn, i, s);
        cur = &shapes[i];
    }
    return SGAD_OK;
}

sgad_status sgad_net_output_dims(const sgad_net *cnet, int ndim, const int64_t *in_dims,
                                 int *out_ndim, int64_t *out_dims)
{
    static const char fn[] = "sgad_net_output_dims";
    if (!cnet)
        return SGAD_E_INVALID_ARG;
    sgad_net *net = (sgad_net *)cnet; /* only the context's error text changes */
    SGAD__CHECK(net->ctx, out_ndim && out_dims, SGAD_E_INVALID_ARG,
                "%s: output pointer is "
                "NULL",
                fn);
    sgad__shape in;
    SGAD__TRY(input_shape(net, fn, ndim, in_dims, &in));
    sgad__shape *shapes = sgad__calloc(net->ctx, (size_t)net->nlayers, sizeof *shapes);
    if (!shapes)
        return SGAD_E_NOMEM;
    sgad_status s = infer_shapes(net, fn, &in, shapes);
    if (s == SGAD_OK) {
        const sgad__shape *o = &shapes[net->nlayers - 1];
        *out_ndim = o->ndim;
        memcpy(out_dims, o->dims, (size_t)o->ndim * sizeof *out_dims);
    }
    sgad__free(net->ctx, shapes);
    return s;
}

/* Floats a buffer holds: all steps, or one step when compact. */
static int64_t buf_numel(const sgad__shape *shape, int compact)
{
    const int64_t n = sgad__shape_numel(shape);
    return compact ? n / shape->dims[0] : n;
}

static sgad_status buf_reserve(sgad_ctx *ctx, net_buf *b, const sgad__shape *shape, int compact)
{
    const int64_t n = buf_numel(shape, compact);
    if (n > b->cap) {
        float *p = sgad__alloc(ctx, (size_t)n * sizeof *p);
        if (!p)
            return SGAD_E_NOMEM;
        sgad__free(ctx, b->data);
        b->data = p;
        b->cap = n;
    }
    b->shape = *shape;
    return SGAD_OK;
}

static sgad_status codes_reserve(sgad_ctx *ctx, net_buf *b, int64_t n)
{
    if (n <= b->codes_cap)
        return SGAD_OK;
    uint8_t *p = sgad__alloc(ctx, (size_t)n);
    if (!p)
        return SGAD_E_NOMEM;
    sgad__free(ctx, b->codes);
    b->codes = p;
    b->codes_cap = n;
    return SGAD_OK;
}

static int all_training(const sgad_net *net)
{
    for (int i = 0; i < net->nlayers; i++)
        if (!net->layers[i]->training)
            return 0;
    return 1;
}

/* The two gradient buffers belong to the context (SGAD__SCRATCH_NET_GRAD_*),
 * not to the net: the nets of a context never run at once, and a net's
 * buffers hold nothing between its calls (gradients in flight during a
 * backward, outputs no backward reads during a forward), so G and D of a
 * trainer share one pair instead of holding two (98 MiB less at SGAD's
 * 28x28 shapes). Each forward and backward fetches them anew, since
 * another net may have grown them in between. */
static sgad_status reserve_grads(sgad_net *net)
{
    int64_t need = sgad__shape_numel(&net->input.shape);
    for (int i = 0; i + 1 < net->nlayers; i++) {
        const int64_t n = sgad__shape_numel(&net->acts[i].shape);
        if (n > need)
            need = n;
    }
    for (int k = 0; k < 2; k++) {
        net->grad[k] =
            sgad__scratch(net->ctx, SGAD__SCRATCH_NET_GRAD_0 + k, (size_t)need * sizeof(float));
        if (!net->grad[k])
            return SGAD_E_NOMEM;
    }
    return SGAD_OK;
}

/* The plan of layer i's input: the net's input for i = 0, which is kept,
 * whole and never packed. */
static const sgad__plan_layer *input_plan(const sgad_net *net, int i)
{
    static const sgad__plan_layer net_input = {.kept = 1};
    return i ? &net->plan.layer[i - 1] : &net_input;
}

static const net_buf *input_buf(const sgad_net *net, int i)
{
    return i ? &net->acts[i - 1] : &net->input;
}

/* Points the outputs kept in the gradient buffers at the buffers' current
 * places: they take turns, so that a layer never reads and writes the same
 * one. Called after every fetch of the buffers. */
static void repoint_shared(sgad_net *net)
{
    int turn = 0;
    for (int i = 0; i < net->nlayers; i++) {
        net_buf *b = &net->acts[i];
        const sgad__plan_layer *p = &net->plan.layer[i];
        if (p->view) {
            b->data = net->acts[i - 1].data;
        } else if (b->shared && !p->pool_k && !p->stats_only) {
            b->data = net->grad[turn];
            turn ^= 1;
        }
    }
}

/* Marks an activation as kept in a gradient buffer (repoint_shared says
 * which), freeing what it owned. */
static void share_buf(sgad_ctx *ctx, net_buf *b)
{
    if (!b->shared)
        sgad__free(ctx, b->data);
    b->data = NULL;
    b->cap = 0;
    b->shared = 1;
}

/* Gives output i the buffers its plan asks for. */
static sgad_status reserve_output(sgad_net *net, int i, const sgad__shape *shape)
{
    net_buf *b = &net->acts[i];
    const sgad__plan_layer *p = &net->plan.layer[i];
    b->shape = *shape;
    if (!p->kept) {
        share_buf(net->ctx, b);
        return SGAD_OK;
    }
    if (p->packed) {
        SGAD__TRY(codes_reserve(net->ctx, b, sgad__shape_numel(shape)));
        share_buf(net->ctx, b);
        return SGAD_OK;
    }
    if (b->shared) {
        b->data = NULL;
        b->cap = 0;
        b->shared = 0;
    }
    return buf_reserve(net->ctx, b, shape, p->compact);
}

/* Plans the coming forward for input shape `in` (shapes already inferred)
 * and sizes every buffer for it. */
static sgad_status reserve_all(sgad_net *net, const sgad__shape *in, const sgad__shape *shapes)
{
    SGAD__TRY(buf_reserve(net->ctx, &net->input, in, 0));
    const sgad__plan_mode mode = {all_training(net), net->keep_from};
    sgad__net_plan(net->layers, net->nlayers, shapes, mode, &net->plan);
    for (int i = 0; i < net->nlayers; i++)
        net->acts[i].shape = shapes[i];
    if (net->plan.uses_grads)
        SGAD__TRY(reserve_grads(net)); /* sized from the shapes just set */
    for (int i = 0; i < net->nlayers; i++)
        SGAD__TRY(reserve_output(net, i, &shapes[i]));
    repoint_shared(net);
    return SGAD_OK;
}

/* The shape layer i is called with: one step when its input is compact,
 * unless it reads that step at every step (shared_input). */
static sgad__shape layer_input_shape(const sgad_net *net, int i)
{
    sgad__shape s = input_buf(net, i)->shape;
    if (input_plan(net, i)->compact && !net->plan.layer[i].shared_input)
        s.dims[0] = 1;
    return s;
}

/* Applies (on) or undoes the settings the plan gives layer i: with a
 * compact input, T running-statistics updates per step and the one step
 * read at every step; stats only; applying the stats-only layer before it;
 * pooling into the next layer's output. Forward and backward take the same
 * settings. */
static void set_modes(sgad_net *net, int i, int on)
{
    sgad_layer *l = net->layers[i];
    const sgad__plan_layer *in = input_plan(net, i), *out = &net->plan.layer[i];
    if (in->compact) {
        sgad__layer_set_repeats(l, on ? input_buf(net, i)->shape.dims[0] : 1);
        sgad__layer_set_shared_input(l, on);
    }
    sgad__layer_set_stats_only(l, on && out->stats_only);
    sgad__layer_set_input_norm(l, on && in->stats_only ? net->layers[i - 1] : NULL);
    sgad__layer_set_output_pool(l, on ? out->pool_k : 0);
}

/* The x layer i reads: its input, or when it applies the stats-only layer
 * before it, that layer's input. */
static const float *layer_x(const sgad_net *net, int i)
{
    if (!input_plan(net, i)->stats_only)
        return input_buf(net, i)->data;
    return input_buf(net, i - 1)->data;
}

/* dst's T steps of n values each = its first step. */
static void repeat_first_step(float *dst, int64_t steps, int64_t n)
{
    for (int64_t t = 1; t < steps; t++)
        memcpy(dst + t * n, dst, (size_t)n * sizeof *dst);
}

static sgad_status forward_layer(sgad_net *net, int i)
{
    net_buf *out = &net->acts[i];
    const sgad__plan_layer *p = &net->plan.layer[i];
    const sgad__shape shape = layer_input_shape(net, i);
    if (p->run_start) { /* keep the one step */
        memcpy(out->data, input_buf(net, i)->data,
               (size_t)sgad__shape_numel(&shape) * sizeof(float));
        return SGAD_OK;
    }
    if (p->view)
        return SGAD_OK; /* the floats are the input's */
    /* a layer pooling inside writes the next layer's output */
    float *y = p->pool_k ? net->acts[i + 1].data : out->data;
    set_modes(net, i, 1);
    const sgad_status s = sgad__layer_forward_raw(net->layers[i], &shape, layer_x(net, i), y);
    set_modes(net, i, 0);
    SGAD__TRY(s);
    if (p->run_end)
        repeat_first_step(out->data, out->shape.dims[0],
                          sgad__shape_numel(&out->shape) / out->shape.dims[0]);
    return SGAD_OK;
}

static sgad_status run_forward(sgad_net *net, const char *fn, const sgad_tensor *x, sgad_tensor *y)
{
    sgad__shape in, *shapes = NULL;
    SGAD__TRY(input_shape(net, fn, x->ndim, x->dims, &in));
    shapes = sgad__calloc(net->ctx, (size_t)net->nlayers, sizeof *shapes);
    if (!shapes)
        return SGAD_E_NOMEM;
    sgad_status s = infer_shapes(net, fn, &in, shapes);
    if (s == SGAD_OK && y)
        s = sgad__expect_shape(net->ctx, fn, "y", y, &shapes[net->nlayers - 1]);
    if (s == SGAD_OK)
        s = reserve_all(net, &in, shapes);
    sgad__free(net->ctx, shapes);
    SGAD__TRY(s);
    memcpy(net->input.data, x->data, (size_t)x->numel * sizeof(float));
    for (int i = 0; i < net->nlayers; i++) {
        s = forward_layer(net, i);
        if (s != SGAD_OK)
            return blame_layer(net, fn, i, s);
        if (net->plan.layer[i].pool_k)
            i++; /* the next layer's output is written */
        const net_buf *cur = &net->acts[i];
        const sgad__plan_layer *p = &net->plan.layer[i];
        if (p->packed)
            sgad__codes_pack(net->ctx, sgad__shape_numel(&cur->shape), p->levels, cur->data,
                             cur->codes);
    }
    return SGAD_OK;
}

sgad_status sgad_net_forward(sgad_net *net, const sgad_tensor *x, sgad_tensor *y)
{
    static const char fn[] = "sgad_net_forward";
    if (!net)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(net->ctx, x != NULL, SGAD_E_INVALID_ARG, "%s: x is NULL", fn);
    net->has_forward = 0;
    SGAD__TRY(run_forward(net, fn, x, y));
    const net_buf *o = &net->acts[net->nlayers - 1];
    net->out_view.ctx = net->ctx;
    net->out_view.ndim = o->shape.ndim;
    memcpy(net->out_view.dims, o->shape.dims, sizeof o->shape.dims);
    net->out_view.numel = sgad__shape_numel(&o->shape);
    net->out_view.data = o->data;
    net->out_view.owns_data = 0;
    if (y)
        memcpy(y->data, o->data, (size_t)y->numel * sizeof(float));
    net->has_forward = 1;
    return SGAD_OK;
}

sgad_status sgad__net_forward_lean(sgad_net *net, const sgad_tensor *x, sgad_tensor *y,
                                   int keep_from)
{
    if (!net)
        return SGAD_E_INVALID_ARG;
    net->keep_from = keep_from < 1 ? 1 : keep_from;
    const sgad_status s = sgad_net_forward(net, x, y);
    net->keep_from = 0;
    return s;
}

const sgad_tensor *sgad_net_output(const sgad_net *net)
{
    return net && net->has_forward ? &net->out_view : NULL;
}

static sgad_status find_activation(const sgad_net *net, const char *fn, int layer,
                                   const net_buf **buf)
{
    SGAD__CHECK(net->ctx, layer >= -1 && layer < net->nlayers, SGAD_E_INVALID_ARG,
                "%s: layer %d outside [-1, %d)", fn, layer, net->nlayers);
    SGAD__CHECK(net->ctx, net->has_forward, SGAD_E_STATE,
                "%s: the net has not run a forward since it last changed", fn);
    *buf = layer < 0 ? &net->input : &net->acts[layer];
    return SGAD_OK;
}

sgad_status sgad_net_activation_dims(const sgad_net *net, int layer, int *ndim, int64_t *dims)
{
    static const char fn[] = "sgad_net_activation_dims";
    const net_buf *b = NULL; /* set by find_activation on success */
    if (!net)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(net->ctx, ndim && dims, SGAD_E_INVALID_ARG, "%s: ndim or dims is NULL", fn);
    SGAD__TRY(find_activation(net, fn, layer, &b));
    *ndim = b->shape.ndim;
    memcpy(dims, b->shape.dims, (size_t)b->shape.ndim * sizeof *dims);
    return SGAD_OK;
}

sgad_status sgad_net_activation(const sgad_net *net, int layer, sgad_tensor *dst)
{
    static const char fn[] = "sgad_net_activation";
    const net_buf *b = NULL; /* set by find_activation on success */
    if (!net)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(net->ctx, dst != NULL, SGAD_E_INVALID_ARG, "%s: dst is NULL", fn);
    SGAD__TRY(find_activation(net, fn, layer, &b));
    const sgad__plan_layer *p = input_plan(net, layer + 1); /* the net's input's at -1 */
    SGAD__CHECK(net->ctx, !b->shared || p->packed, SGAD_E_STATE,
                "%s: layer %d's output was not kept by the last forward (in training, no "
                "backward reads it; sampling keeps only the last outputs); run a forward in "
                "evaluation mode (sgad_net_set_training 0) to see it",
                fn, layer);
    const int64_t n = sgad__shape_numel(&b->shape);
    SGAD__CHECK(net->ctx, dst->numel == n, SGAD_E_SHAPE,
                "%s: layer %d made %lld values, dst holds %lld", fn, layer, (long long)n,
                (long long)dst->numel);
    if (p->packed)
        sgad__codes_unpack(net->ctx, n, p->levels, b->codes, dst->data);
    else
        memcpy(dst->data, b->data, (size_t)buf_numel(&b->shape, p->compact) * sizeof(float));
    if (p->compact)
        repeat_first_step(dst->data, b->shape.dims[0], n / b->shape.dims[0]);
    return SGAD_OK;
}

/* The gradient buffer other than `held` (an index, or -1 for a caller's). */
static int other_buffer(int held)
{
    return held == 0 ? 1 : 0;
}

/* dst[j] = the sum over the steps of src[t][j], in step order. */
static void sum_steps(const sgad_ctx *ctx, int64_t steps, int64_t n, const float *src, float *dst)
{
#pragma omp parallel for num_threads(sgad__par_threads(ctx, steps *n)) schedule(static)
    for (int64_t j = 0; j < n; j++) {
        float sum = src[j];
        for (int64_t t = 1; t < steps; t++)
            sum += src[t * n + j];
        dst[j] = sum;
    }
}

/* Backward of layer i, whose input was kept as bytes. The floats come
 * back in `spare`, the gradient buffer grad_out is not in (which grad_in
 * may be): first the parameter gradients, which read them, then the input
 * gradient, which does not (SGAD__SKIPS_X_FOR_DX) and may overwrite
 * them; x is NULL there, so that a layer breaking that rule fails loudly
 * in the tests rather than reading garbage. */
static sgad_status backward_packed(sgad_net *net, int i, const sgad__shape *shape,
                                   const float *grad_out, float *grad_in, float *spare)
{
    sgad_layer *l = net->layers[i];
    const net_buf *in = &net->acts[i - 1], *out = &net->acts[i];
    if (!l->input_grad_only) {
        sgad__codes_unpack(net->ctx, sgad__shape_numel(shape), input_plan(net, i)->levels,
                           in->codes, spare);
        SGAD__TRY(sgad__layer_backward_raw(l, shape, spare, out->data, grad_out, NULL));
    }
    if (!grad_in)
        return SGAD_OK;
    const int only = l->input_grad_only;
    l->input_grad_only = 1;
    const sgad_status s = sgad__layer_backward_raw(l, shape, NULL, out->data, grad_out, grad_in);
    l->input_grad_only = only;
    return s;
}

static sgad_status backward_layer(sgad_net *net, int i, const float *grad_out, float *grad_in,
                                  float *spare)
{
    const sgad__shape shape = layer_input_shape(net, i);
    if (net->plan.layer[i].run_start) {
        /* the gradient is already summed over the steps */
        if (grad_in)
            memcpy(grad_in, grad_out, (size_t)sgad__shape_numel(&shape) * sizeof *grad_in);
        return SGAD_OK;
    }
    if (input_plan(net, i)->packed)
        return backward_packed(net, i, &shape, grad_out, grad_in, spare);
    /* with pooling inside, grad_out is the next layer's output gradient */
    set_modes(net, i, 1);
    const sgad_status s = sgad__layer_backward_raw(net->layers[i], &shape, layer_x(net, i),
                                                   net->acts[i].data, grad_out, grad_in);
    set_modes(net, i, 0);
    return s;
}

/* The first layer with a trained parameter (nlayers if none). */
static int first_trained_layer(const sgad_net *net)
{
    for (int i = 0; i < net->nlayers; i++)
        for (int k = 0; k < net->layers[i]->nparams; k++)
            if (net->layers[i]->params[k].grad)
                return i;
    return net->nlayers;
}

sgad_status sgad__net_backward_input(sgad_net *net, const sgad_tensor *dy, sgad_tensor *dx)
{
    for (int i = 0; i < net->nlayers; i++)
        net->layers[i]->input_grad_only = 1;
    const sgad_status s = sgad_net_backward(net, dy, dx);
    for (int i = 0; i < net->nlayers; i++)
        net->layers[i]->input_grad_only = 0;
    return s;
}

sgad_status sgad__net_replay_forward(sgad_net *net)
{
    SGAD__CHECK(net->ctx, net->has_forward, SGAD_E_STATE, "replay: the net has not run forward");
    for (int i = 0; i < net->nlayers; i++)
        SGAD__TRY(sgad__layer_replay(net->layers[i]));
    return SGAD_OK;
}

sgad_status sgad_net_backward(sgad_net *net, const sgad_tensor *dy, sgad_tensor *dx)
{
    static const char fn[] = "sgad_net_backward";
    if (!net)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(net->ctx, dy != NULL, SGAD_E_INVALID_ARG, "%s: dy is NULL", fn);
    SGAD__CHECK(net->ctx, net->has_forward, SGAD_E_STATE, "%s: no forward to go back through", fn);
    SGAD__TRY(sgad__expect_shape(net->ctx, fn, "dy", dy, &net->acts[net->nlayers - 1].shape));
    if (dx) {
        SGAD__TRY(sgad__expect_shape(net->ctx, fn, "dx", dx, &net->input.shape));
        SGAD__CHECK(net->ctx, !sgad__tensors_overlap(dx, dy), SGAD_E_INVALID_ARG,
                    "%s: dx and dy share memory", fn);
    }
    SGAD__TRY(reserve_grads(net));
    repoint_shared(net); /* moved if another net grew the buffers */
    const float *grad_out = dy->data;
    int held = -1; /* the gradient buffer grad_out is in */
    /* Without dx, the layers before the first trained one need no gradient,
     * and that layer no input gradient (a discriminator's first conv after
     * its repeat, a generator's first linear layer). */
    const int stop = dx ? 0 : first_trained_layer(net);
    for (int i = net->nlayers - 1; i >= stop; i--) {
        const net_buf *out = &net->acts[i];
        const sgad__plan_layer *p = &net->plan.layer[i];
        if (input_plan(net, i)->pool_k)
            continue; /* pooled by the layer before it */
        if (p->view && i > stop)
            continue; /* the gradient passes as it lies */
        if (p->run_end) {
            const int64_t steps = out->shape.dims[0];
            float *one = net->grad[other_buffer(held)];
            sum_steps(net->ctx, steps, sgad__shape_numel(&out->shape) / steps, grad_out, one);
            grad_out = one;
            held = other_buffer(held);
        }
        float *grad_in = i > stop ? net->grad[other_buffer(held)] : (dx ? dx->data : NULL);
        const sgad_status s =
            backward_layer(net, i, grad_out, grad_in, net->grad[other_buffer(held)]);
        if (s != SGAD_OK)
            return blame_layer(net, fn, i, s);
        grad_out = grad_in;
        held = i ? other_buffer(held) : -1;
    }
    return SGAD_OK;
}

void sgad_net_zero_grad(sgad_net *net)
{
    if (!net)
        return;
    for (int i = 0; i < net->nlayers; i++)
        sgad_layer_zero_grad(net->layers[i]);
}

sgad_status sgad_net_set_training(sgad_net *net, int training)
{
    if (!net)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(net->ctx, training == 0 || training == 1, SGAD_E_INVALID_ARG,
                "sgad_net_set_training: training=%d must be 0 or 1", training);
    for (int i = 0; i < net->nlayers; i++)
        net->layers[i]->training = training;
    return SGAD_OK;
}

int sgad_net_param_count(const sgad_net *net)
{
    return net ? net->nparams : 0;
}

sgad_status sgad_net_param(sgad_net *net, int i, const char **name, sgad_tensor **value,
                           sgad_tensor **grad)
{
    if (!net)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(net->ctx, i >= 0 && i < net->nparams, SGAD_E_INVALID_ARG,
                "sgad_net_param: index %d outside [0, %d)", i, net->nparams);
    const net_param_ref *ref = &net->params[i];
    if (name)
        *name = ref->name;
    return sgad_layer_param(net->layers[ref->layer], ref->index, NULL, value, grad);
}

sgad_status sgad_net_firing_rate(const sgad_net *net, int layer, double *rate)
{
    if (!net)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(net->ctx, layer >= 0 && layer < net->nlayers, SGAD_E_INVALID_ARG,
                "sgad_net_firing_rate: layer %d outside [0, %d)", layer, net->nlayers);
    return sgad_layer_firing_rate(net->layers[layer], rate);
}
