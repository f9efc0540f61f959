/* SPDX-License-Identifier: MIT */
/* A libsgad net as NIR nodes (docs/nir.md has the mapping and why).
 *
 * libsgad's public API has no getter for a convolution's stride and
 * padding or a pooling layer's kernel, stride and padding, and the
 * program must not reach into the library's internals (it links only the
 * public ABI). They are recovered exactly from what the API does give:
 * sgad_layer_output_dims, whose sizes follow
 *   OH(H) = floor((H + 2p - k) / s) + 1  for H + 2p >= k, else rejected,
 * and, for pooling, one forward pass of an impulse, whose output is
 * 1 / k^2 (the layer multiplies the window's sum by 1/k^2, and the sum of
 * one 1 and zeros is exactly 1). A last-step layer's scale is read the
 * same way: the output of a single 1. Each recovered value is checked
 * against the output sizes over a range of inputs before it is written. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nir_graph.h"

/* The largest input side probed: strides, kernels and paddings of
 * libsgad's layers are at most 1024. */
#define PROBE_MAX 4200

/* The output side of layer l for an H x H input (in_ch channels), 0 if the
 * layer rejects it. */
static int64_t out_side(const sgad_layer *l, int64_t in_ch, int64_t h)
{
    const int64_t in[5] = {1, 1, in_ch, h, h};
    int64_t out[SGAD_MAX_DIMS];
    int nd;
    if (sgad_layer_output_dims(l, 5, in, &nd, out) != SGAD_OK || nd != 5)
        return 0;
    return out[3];
}

/* Stride s and padding p of a square window of side k (known), from the
 * output sizes alone. Let h0 be the smallest accepted input side and d1 <
 * d2 the first two sides after it where the output grows: s = d2 - d1,
 * and h0 + 2p - k = q s + (s - (d1 - h0)) with q = OH(h0) - 1. */
static int probe_stride_padding(const sgad_layer *l, int64_t in_ch, int64_t k, int64_t *s,
                                int64_t *p)
{
    int64_t h0 = 1;
    while (h0 <= PROBE_MAX && out_side(l, in_ch, h0) == 0)
        h0++;
    if (h0 > PROBE_MAX)
        return -1;
    int64_t grow[2], found = 0, prev = out_side(l, in_ch, h0);
    for (int64_t h = h0 + 1; h <= h0 + PROBE_MAX && found < 2; h++) {
        const int64_t o = out_side(l, in_ch, h);
        if (o != prev)
            grow[found++] = h;
        prev = o;
    }
    if (found < 2)
        return -1;
    *s = grow[1] - grow[0];
    const int64_t q = out_side(l, in_ch, h0) - 1, twice_p = q * *s + *s - (grow[0] - h0) - h0 + k;
    if (twice_p < 0 || twice_p % 2)
        return -1;
    *p = twice_p / 2;
    /* The recovered geometry must give every output size the layer gives. */
    for (int64_t h = 1; h <= 4 * *s + 2 * k + 8; h++) {
        const int64_t want = h + 2 * *p >= k ? (h + 2 * *p - k) / *s + 1 : 0;
        if (out_side(l, in_ch, h) != want)
            return -1;
    }
    return 0;
}

/* The output of layer l for an input [1, 1, dims...] that is 1 at its
 * first element and 0 elsewhere: the first output value. */
static int probe_first_output(sgad_layer *l, int ndim, const int64_t *dims, float *value)
{
    sgad_ctx *ctx = sgad_layer_ctx(l);
    int64_t od[SGAD_MAX_DIMS];
    int ond;
    sgad_tensor *x = NULL, *y = NULL;
    int rc = -1;
    if (sgad_layer_output_dims(l, ndim, dims, &ond, od) == SGAD_OK &&
        sgad_tensor_create(ctx, ndim, dims, &x) == SGAD_OK &&
        sgad_tensor_create(ctx, ond, od, &y) == SGAD_OK) {
        sgad_tensor_data(x)[0] = 1.0f;
        if (sgad_layer_forward(l, x, y) == SGAD_OK) {
            *value = sgad_tensor_data(y)[0];
            rc = 0;
        }
    }
    sgad_tensor_free(x);
    sgad_tensor_free(y);
    return rc;
}

static int probe_pool(sgad_layer *l, int64_t *k, int64_t *s, int64_t *p)
{
    int64_t h = 1;
    while (h <= PROBE_MAX && out_side(l, 1, h) == 0)
        h++;
    const int64_t dims[5] = {1, 1, 1, h, h};
    float inv;
    if (h > PROBE_MAX || probe_first_output(l, 5, dims, &inv) < 0 || !(inv > 0))
        return -1;
    *k = (int64_t)llround(1.0 / sqrt((double)inv));
    if (*k < 1 || 1.0f / (float)(*k * *k) != inv)
        return -1;
    return probe_stride_padding(l, 1, *k, s, p);
}

/* A parameter of layer l by name, or NULL. */
static sgad_tensor *param(sgad_layer *l, const char *want)
{
    for (int i = 0; i < sgad_layer_param_count(l); i++) {
        const char *name;
        sgad_tensor *v;
        if (sgad_layer_param(l, i, &name, &v, NULL) == SGAD_OK && strcmp(name, want) == 0)
            return v;
    }
    return NULL;
}

static float *copy_of(const sgad_tensor *t)
{
    const int64_t n = sgad_tensor_numel(t);
    float *c = n > 0 ? malloc((size_t)n * sizeof *c) : NULL;
    if (c)
        memcpy(c, sgad_tensor_data(t), (size_t)n * sizeof *c);
    return c;
}

/* Weight and bias of a linear or conv2d layer into n (bias zeros when the
 * layer has none: NIR's Conv2d always has one). */
static int take_weights(sgad_layer *l, nir_node *n)
{
    const sgad_tensor *w = param(l, "weight"), *b = param(l, "bias");
    if (!w)
        return -1;
    n->wndim = sgad_tensor_ndim(w);
    for (int d = 0; d < n->wndim; d++)
        n->wdims[d] = sgad_tensor_dim(w, d);
    n->weight = copy_of(w);
    n->bias = b ? copy_of(b) : calloc((size_t)n->wdims[0], sizeof *n->bias);
    return n->weight && n->bias ? 0 : -1;
}

/* Folds an evaluation-mode batch norm into the weights before it:
 * BN(y) = (y - mean) s + beta with s = gamma / sqrt(var + eps) per output
 * channel, so W' = s W and b' = s (b - mean) + beta. libsgad keeps one set
 * of running statistics for all steps (it updates them once per step), so
 * one fold serves every step. In double, rounded once to float. */
static int fold_bn(sgad_layer *bn, nir_node *n)
{
    const sgad_tensor *gamma = param(bn, "weight"), *beta = param(bn, "bias"),
                      *mean = param(bn, "running_mean"), *var = param(bn, "running_var");
    double eps;
    const int64_t C = n->wdims[0], per = nir_numel(n->wndim - 1, n->wdims + 1);
    if (!gamma || !beta || !mean || !var || sgad_tensor_numel(mean) != C ||
        sgad_layer_get(bn, SGAD_OPT_BN_EPS, &eps) != SGAD_OK)
        return -1;
    const float *g = sgad_tensor_data(gamma), *bt = sgad_tensor_data(beta),
                *m = sgad_tensor_data(mean), *v = sgad_tensor_data(var);
    for (int64_t c = 0; c < C; c++) {
        const double s = (double)g[c] / sqrt((double)v[c] + eps);
        for (int64_t j = 0; j < per; j++)
            n->weight[c * per + j] = (float)(s * (double)n->weight[c * per + j]);
        n->bias[c] = (float)(s * ((double)n->bias[c] - (double)m[c]) + (double)bt[c]);
    }
    return 0;
}

/* Collects refusals: one line per layer. */
typedef struct refusals {
    char *err;
    size_t used;
    int count;
} refusals;

static void refuse(refusals *r, int layer, const sgad_layer *l, const char *why)
{
    r->count++;
    const int n =
        snprintf(r->err + r->used, NIR_ERR_LEN - r->used, "%slayer %d (%s): %s",
                 r->used ? "\n" : "", layer, sgad_layer_kind_name(sgad_layer_get_kind(l)), why);
    if (n > 0 && r->used + (size_t)n < NIR_ERR_LEN)
        r->used += (size_t)n;
}

static double get(const sgad_layer *l, sgad_option o)
{
    double v = NAN;
    sgad_layer_get(l, o, &v);
    return v;
}

/* LIF, IF or MP as LIF, IF or LI. Returns the refusal, or NULL. */
static const char *neuron_node(const sgad_layer *l, nir_node *n)
{
    const sgad_layer_kind kind = sgad_layer_get_kind(l);
    n->tau = (float)get(l, SGAD_OPT_NEURON_TAU);
    n->v_threshold = (float)get(l, SGAD_OPT_NEURON_THRESHOLD);
    n->v_reset = (float)get(l, SGAD_OPT_NEURON_V_RESET);
    if (kind == SGAD_LAYER_MP) {
        /* V_t = V_{t-1} + (X_t - V_{t-1}) / tau from V = 0, output V. */
        n->type = NIR_LI;
        n->r = 1.0f;
        n->v_leak = 0.0f;
        return NULL;
    }
    if (get(l, SGAD_OPT_NEURON_RESET_MODE) != SGAD_RESET_HARD)
        return "soft reset (V -= V_th after a spike) has no NIR equivalent: NIR's LIF and IF "
               "reset to v_reset";
    if (kind == SGAD_LAYER_IF) {
        n->type = NIR_IF;
        n->r = 1.0f;
        return NULL;
    }
    /* H = V + ((v_reset - V) + r X) / tau: r = 1 with decay_input, r = tau
     * without; the leak goes towards v_reset, so v_leak = v_reset. */
    n->type = NIR_LIF;
    n->r = get(l, SGAD_OPT_NEURON_DECAY_INPUT) != 0 ? 1.0f : n->tau;
    n->v_leak = n->v_reset;
    return NULL;
}

static const char *unsupported(sgad_layer_kind kind)
{
    switch (kind) {
    case SGAD_LAYER_CONVT2D: return "NIR has no transposed convolution";
    case SGAD_LAYER_SIGMOID: return "NIR has no sigmoid";
    case SGAD_LAYER_LEAKY_RELU: return "NIR has no leaky ReLU";
    case SGAD_LAYER_ATTENTION:
        return "the attention decoder (attention-scored image decoder) has no NIR equivalent";
    default: return "not a layer NIR can express";
    }
}

/* One layer (and the batch norm after it, if folded) as a node. *skip is
 * set when the next layer was folded. cur: the sample shape flowing in. */
static void layer_node(sgad_net *net, int i, int last, int cur_nd, const int64_t *cur, nir_graph *g,
                       refusals *r, int *skip)
{
    sgad_layer *l = sgad_net_layer(net, i);
    const sgad_layer_kind kind = sgad_layer_get_kind(l);
    sgad_layer *next = i < last ? sgad_net_layer(net, i + 1) : NULL;
    const sgad_layer_kind next_kind = next ? sgad_layer_get_kind(next) : 0;
    char name[NIR_NAME_LEN], why[256];
    snprintf(name, sizeof name, "%d_%s", i, sgad_layer_kind_name(kind));
    nir_node *n;
    switch (kind) {
    case SGAD_LAYER_REPEAT: {
        int64_t in[3] = {1, 1, 1}, out[SGAD_MAX_DIMS];
        int nd;
        if (i != 0 || sgad_layer_output_dims(l, 3, in, &nd, out) != SGAD_OK)
            refuse(r, i, l, "repeat is written as the graph's input only when it comes first");
        else
            g->steps = (int)out[0];
        return;
    }
    case SGAD_LAYER_LINEAR:
    case SGAD_LAYER_CONV2D: {
        const int conv = kind == SGAD_LAYER_CONV2D;
        const sgad_layer_kind bn_kind = conv ? SGAD_LAYER_BATCHNORM2D : SGAD_LAYER_BATCHNORM1D;
        n = nir_graph_add(g,
                          conv               ? NIR_CONV2D
                          : param(l, "bias") ? NIR_AFFINE
                                             : NIR_LINEAR,
                          name, r->err + r->used);
        if (!n || take_weights(l, n) < 0) {
            refuse(r, i, l, "cannot read its weights");
            return;
        }
        if (next_kind == bn_kind) {
            *skip = 1;
            n->type = conv ? NIR_CONV2D : NIR_AFFINE; /* the fold gives a bias */
            snprintf(n->name, sizeof n->name, "%d_%s_%s", i, sgad_layer_kind_name(kind),
                     sgad_layer_kind_name(next_kind));
            if (fold_bn(next, n) < 0)
                refuse(r, i + 1, next, "cannot read its parameters to fold them");
        }
        if (conv) {
            n->kernel[0] = n->kernel[1] = n->wdims[2];
            if (probe_stride_padding(l, n->wdims[1], n->wdims[2], &n->stride[0], &n->padding[0]) <
                0) {
                refuse(r, i, l, "its stride and padding could not be recovered");
                return;
            }
            n->stride[1] = n->stride[0];
            n->padding[1] = n->padding[0];
            n->ndim = cur_nd;
            memcpy(n->dims, cur, (size_t)cur_nd * sizeof *cur);
        }
        return;
    }
    case SGAD_LAYER_BATCHNORM1D:
    case SGAD_LAYER_BATCHNORM2D:
        refuse(r, i, l,
               "batch norm is folded into the linear or conv2d layer right before it, and "
               "this one follows none");
        return;
    case SGAD_LAYER_LIF:
    case SGAD_LAYER_IF:
    case SGAD_LAYER_MP: {
        n = nir_graph_add(g, NIR_LIF, name, r->err + r->used);
        const char *no = n ? neuron_node(l, n) : "out of memory";
        if (no) {
            refuse(r, i, l, no);
            return;
        }
        n->ndim = cur_nd;
        memcpy(n->dims, cur, (size_t)cur_nd * sizeof *cur);
        return;
    }
    case SGAD_LAYER_AVGPOOL2D:
        n = nir_graph_add(g, NIR_AVGPOOL2D, name, r->err + r->used);
        if (!n || probe_pool(l, &n->kernel[0], &n->stride[0], &n->padding[0]) < 0) {
            refuse(r, i, l, "its kernel, stride and padding could not be recovered");
            return;
        }
        n->kernel[1] = n->kernel[0];
        n->stride[1] = n->stride[0];
        n->padding[1] = n->padding[0];
        return;
    case SGAD_LAYER_RESHAPE: {
        int64_t in[SGAD_MAX_DIMS] = {1, 1}, out[SGAD_MAX_DIMS];
        int nd;
        memcpy(in + 2, cur, (size_t)cur_nd * sizeof *cur);
        if (sgad_layer_output_dims(l, cur_nd + 2, in, &nd, out) != SGAD_OK || nd != 3) {
            refuse(r, i, l,
                   "only a reshape to one dimension (a flatten) has a NIR equivalent (Flatten)");
            return;
        }
        n = nir_graph_add(g, NIR_FLATTEN, name, r->err + r->used);
        if (n) {
            /* NIR's shapes leave the batch out: dimensions 0..-1 are the
             * whole sample. */
            n->start_dim = 0;
            n->end_dim = -1;
            n->ndim = cur_nd;
            memcpy(n->dims, cur, (size_t)cur_nd * sizeof *cur);
        }
        return;
    }
    case SGAD_LAYER_LAST_STEP:
    case SGAD_LAYER_TIME_MEAN: {
        if (i != last) {
            refuse(r, i, l, "a time reduction is written as the graph's readout only when last");
            return;
        }
        if (kind == SGAD_LAYER_TIME_MEAN) {
            g->readout = NIR_READOUT_TIME_MEAN;
            return;
        }
        g->readout = NIR_READOUT_LAST_STEP;
        const int64_t one[3] = {1, 1, 1};
        float scale;
        n = nir_graph_add(g, NIR_SCALE, name, r->err + r->used);
        if (!n || probe_first_output(l, 3, one, &scale) < 0) {
            refuse(r, i, l, "its scale could not be read");
            return;
        }
        n->scale = scale;
        n->ndim = cur_nd;
        memcpy(n->dims, cur, (size_t)cur_nd * sizeof *cur);
        return;
    }
    default:
        snprintf(why, sizeof why, "%s", unsupported(kind));
        refuse(r, i, l, why);
        return;
    }
}

int nir_from_net(sgad_net *net, int sample_ndim, const int64_t *sample_dims, nir_graph *g,
                 char *err)
{
    memset(g, 0, sizeof *g);
    err[0] = '\0';
    refusals r = {err, 0, 0};
    const int layers = sgad_net_layer_count(net);
    if (layers < 1)
        return nir_fail(err, "the net has no layers");
    nir_node *n = nir_graph_add(g, NIR_INPUT, "input", err);
    if (!n)
        return -1;
    n->ndim = sample_ndim;
    memcpy(n->dims, sample_dims, (size_t)sample_ndim * sizeof *sample_dims);
    /* The shape flowing through, [T, N, sample...], N = 1. */
    int nd = sample_ndim + 2;
    int64_t dims[SGAD_MAX_DIMS] = {1, 1};
    memcpy(dims + 2, sample_dims, (size_t)sample_ndim * sizeof *sample_dims);
    for (int i = 0; i < layers; i++) {
        sgad_layer *l = sgad_net_layer(net, i);
        int skip = 0;
        layer_node(net, i, layers - 1, nd - 2, dims + 2, g, &r, &skip);
        for (int k = 0; k <= skip; k++) {
            int64_t out[SGAD_MAX_DIMS];
            int ond;
            if (sgad_layer_output_dims(sgad_net_layer(net, i + k), nd, dims, &ond, out) !=
                SGAD_OK) {
                refuse(&r, i + k, l, "rejects the shape of its input");
                nir_graph_free(g);
                return -1;
            }
            nd = ond;
            memcpy(dims, out, (size_t)nd * sizeof *dims);
        }
        i += skip;
    }
    n = r.count ? NULL : nir_graph_add(g, NIR_OUTPUT, "output", err);
    if (!n) {
        nir_graph_free(g);
        return -1;
    }
    n->ndim = nd - 2;
    memcpy(n->dims, dims + 2, (size_t)(nd - 2) * sizeof *dims);
    return 0;
}
