/* SPDX-License-Identifier: MIT */
/* The libsgad net a NIR chain describes (docs/nir.md has the mapping).
 * Each node becomes one layer, checked against the shape flowing in from
 * the Input; what libsgad cannot run as the node says is refused with the
 * node's name, never approximated. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nir_graph.h"

/* Copies vals into layer l's parameter `want` (same element count). */
static int set_param(sgad_layer *l, const char *want, const float *vals, int64_t count)
{
    for (int i = 0; i < sgad_layer_param_count(l); i++) {
        const char *name;
        sgad_tensor *v;
        if (sgad_layer_param(l, i, &name, &v, NULL) == SGAD_OK && strcmp(name, want) == 0) {
            if (sgad_tensor_numel(v) != count)
                return -1;
            memcpy(sgad_tensor_data(v), vals, (size_t)count * sizeof *vals);
            return 0;
        }
    }
    return -1;
}

/* The state of one import: where the chain is and what flows there. */
typedef struct importer {
    const nir_graph *g;
    sgad_ctx *ctx;
    sgad_net *net;
    FILE *log;
    char *err;
    int ndim; /* the sample shape flowing in (no T, N) */
    int64_t dims[SGAD_MAX_DIMS];
} importer;

static int node_fail(importer *im, const nir_node *n, const char *why)
{
    if (!n) /* a layer from the graph's metadata */
        return nir_fail(im->err, "%s", why);
    return nir_fail(im->err, "node '%s' (%s): %s", n->name, nir_type_name(n->type), why);
}

static const char *shape_text(int ndim, const int64_t *dims, char *buf, size_t cap)
{
    int at = snprintf(buf, cap, "[");
    for (int d = 0; d < ndim && at < (int)cap - 24; d++)
        at += snprintf(buf + at, cap - (size_t)at, "%s%lld", d ? ", " : "", (long long)dims[d]);
    snprintf(buf + at, cap - (size_t)at, "]");
    return buf;
}

static int shape_mismatch(importer *im, const nir_node *n, const char *what, int ndim,
                          const int64_t *dims)
{
    char a[96], b[96];
    char why[320];
    snprintf(why, sizeof why, "shape mismatch: %s %s, but its input is %s", what,
             shape_text(ndim, dims, a, sizeof a), shape_text(im->ndim, im->dims, b, sizeof b));
    return node_fail(im, n, why);
}

/* Appends l (made by a create call with status s) and advances the shape. */
static int push(importer *im, const nir_node *n, sgad_status s, sgad_layer *l, const char *what)
{
    if (s != SGAD_OK)
        return node_fail(im, n, sgad_ctx_last_error(im->ctx));
    int64_t in[SGAD_MAX_DIMS] = {1, 1}, out[SGAD_MAX_DIMS];
    int nd;
    memcpy(in + 2, im->dims, (size_t)im->ndim * sizeof *in);
    if (sgad_layer_output_dims(l, im->ndim + 2, in, &nd, out) != SGAD_OK ||
        sgad_net_adopt(im->net, l) != SGAD_OK) {
        const int rc = node_fail(im, n, sgad_ctx_last_error(im->ctx));
        sgad_layer_free(l);
        return rc;
    }
    im->ndim = nd - 2;
    memcpy(im->dims, out + 2, (size_t)im->ndim * sizeof *out);
    if (im->log && n)
        fprintf(im->log, "  %-24s %-10s -> %s\n", n->name, nir_type_name(n->type), what);
    return 0;
}

static int all_zero_bits(const float *v, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (v[i] != 0.0f || signbit(v[i]))
            return 0;
    return 1;
}

static int affine(importer *im, const nir_node *n)
{
    const int64_t out = n->wdims[0], in = n->wdims[1];
    if (im->ndim != 1 || im->dims[0] != in)
        return shape_mismatch(im, n, "its weight takes", 1, &in);
    /* A bias of +0.0 everywhere adds nothing: the layer is made without one,
     * as libsgad's bias-free linear layers are written. */
    const int has_bias = n->type == NIR_AFFINE && !all_zero_bits(n->bias, out);
    sgad_layer *l = NULL;
    sgad_status s = sgad_linear_create(im->ctx, in, out, has_bias, &l);
    if (s == SGAD_OK && (set_param(l, "weight", n->weight, out * in) < 0 ||
                         (has_bias && set_param(l, "bias", n->bias, out) < 0))) {
        sgad_layer_free(l);
        return node_fail(im, n, "cannot set its weights");
    }
    char what[96];
    snprintf(what, sizeof what, "linear %lld -> %lld%s", (long long)in, (long long)out,
             has_bias ? "" : ", no bias");
    return push(im, n, s, l, what);
}

static int conv2d(importer *im, const nir_node *n)
{
    const int64_t out = n->wdims[0], in = n->wdims[1], k = n->wdims[2];
    if (n->wdims[3] != k || n->stride[0] != n->stride[1] || n->padding[0] != n->padding[1])
        return node_fail(im, n,
                         "libsgad's conv2d has a square kernel and equal strides and "
                         "paddings in both directions");
    if (n->dilation[0] != 1 || n->dilation[1] != 1 || n->groups != 1)
        return node_fail(im, n, "libsgad's conv2d has no dilation and one group");
    const int64_t want[3] = {in, im->ndim == 3 ? im->dims[1] : 0, im->ndim == 3 ? im->dims[2] : 0};
    if (im->ndim != 3 || im->dims[0] != in)
        return shape_mismatch(im, n, "its weight takes channels", 1, &in);
    if (n->has_dims && memcmp(n->dims, want, sizeof want) != 0)
        return shape_mismatch(im, n, "input_shape says", 3, n->dims);
    if (k > 1024 || n->stride[0] < 1 || n->stride[0] > 1024 || n->padding[0] < 0 ||
        n->padding[0] > 1024)
        return node_fail(im, n,
                         "kernel, stride and padding must be in [1, 1024], [1, 1024] "
                         "and [0, 1024]");
    const int has_bias = !all_zero_bits(n->bias, out);
    sgad_layer *l = NULL;
    sgad_status s = sgad_conv2d_create(im->ctx, in, out, (int)k, (int)n->stride[0],
                                       (int)n->padding[0], has_bias, &l);
    if (s == SGAD_OK && (set_param(l, "weight", n->weight, out * in * k * k) < 0 ||
                         (has_bias && set_param(l, "bias", n->bias, out) < 0))) {
        sgad_layer_free(l);
        return node_fail(im, n, "cannot set its weights");
    }
    char what[128];
    snprintf(what, sizeof what, "conv2d %lld -> %lld, kernel %lld, stride %lld, padding %lld%s",
             (long long)in, (long long)out, (long long)k, (long long)n->stride[0],
             (long long)n->padding[0], has_bias ? "" : ", no bias");
    return push(im, n, s, l, what);
}

static int set_all(sgad_layer *l, const sgad_option *opts, const double *vals, int count)
{
    for (int i = 0; i < count; i++)
        if (sgad_layer_set(l, opts[i], vals[i]) != SGAD_OK)
            return -1;
    return 0;
}

/* LIF, IF and LI: the discrete-time mapping of docs/nir.md, inverted. */
static int neuron(importer *im, const nir_node *n)
{
    if (nir_numel(n->ndim, n->dims) != nir_numel(im->ndim, im->dims))
        return shape_mismatch(im, n, "its parameters are shaped", n->ndim, n->dims);
    sgad_layer *l = NULL;
    sgad_status s;
    char what[160];
    if (n->type == NIR_LI) {
        if (n->r != 1.0f || n->v_leak != 0.0f)
            return node_fail(im, n,
                             "libsgad's membrane readout (MP) is an LI with r = 1 and "
                             "v_leak = 0");
        s = sgad_mp_create(im->ctx, &l);
        const sgad_option o[] = {SGAD_OPT_NEURON_TAU};
        const double v[] = {n->tau};
        if (s == SGAD_OK && set_all(l, o, v, 1) < 0) {
            sgad_layer_free(l);
            return node_fail(im, n, sgad_ctx_last_error(im->ctx));
        }
        snprintf(what, sizeof what, "mp, tau %g", (double)n->tau);
        return push(im, n, s, l, what);
    }
    double decay = 1;
    if (n->type == NIR_LIF) {
        if (n->v_leak != n->v_reset)
            return node_fail(im, n,
                             "libsgad's LIF leaks towards its reset value: v_leak must "
                             "equal v_reset");
        if (n->r != 1.0f && n->r != n->tau)
            return node_fail(im, n, "r must be 1 (libsgad's decay_input on) or tau (off)");
        decay = n->r == 1.0f;
        s = sgad_lif_create(im->ctx, &l);
    } else {
        if (n->r != 1.0f)
            return node_fail(im, n, "libsgad's IF adds its input unscaled: r must be 1");
        s = sgad_if_create(im->ctx, &l);
    }
    const sgad_option o[] = {SGAD_OPT_NEURON_THRESHOLD, SGAD_OPT_NEURON_V_RESET,
                             SGAD_OPT_NEURON_RESET_MODE, SGAD_OPT_NEURON_DECAY_INPUT,
                             SGAD_OPT_NEURON_TAU};
    const double v[] = {n->v_threshold, n->v_reset, SGAD_RESET_HARD, decay, n->tau};
    if (s == SGAD_OK && set_all(l, o, v, n->type == NIR_LIF ? 5 : 3) < 0) {
        const int rc = node_fail(im, n, sgad_ctx_last_error(im->ctx));
        sgad_layer_free(l);
        return rc;
    }
    if (n->type == NIR_LIF)
        snprintf(what, sizeof what, "lif, tau %g, v_th %g, v_reset %g, decay_input %d, hard reset",
                 (double)n->tau, (double)n->v_threshold, (double)n->v_reset, (int)decay);
    else
        snprintf(what, sizeof what, "if, v_th %g, v_reset %g, hard reset", (double)n->v_threshold,
                 (double)n->v_reset);
    return push(im, n, s, l, what);
}

static int avgpool(importer *im, const nir_node *n)
{
    if (n->kernel[0] != n->kernel[1] || n->stride[0] != n->stride[1] ||
        n->padding[0] != n->padding[1])
        return node_fail(im, n,
                         "libsgad's avgpool2d has a square window and equal strides "
                         "and paddings in both directions");
    if (im->ndim != 3)
        return shape_mismatch(im, n, "pooling takes [C, H, W]", 0, NULL);
    if (n->kernel[0] < 1 || n->kernel[0] > 1024 || n->stride[0] < 1 || n->stride[0] > 1024 ||
        n->padding[0] < 0 || 2 * n->padding[0] > n->kernel[0])
        return node_fail(im, n,
                         "kernel and stride must be in [1, 1024] and padding in "
                         "[0, kernel/2]");
    sgad_layer *l = NULL;
    sgad_status s = sgad_avgpool2d_create(im->ctx, (int)n->kernel[0], (int)n->stride[0],
                                          (int)n->padding[0], &l);
    char what[96];
    snprintf(what, sizeof what, "avgpool2d, kernel %lld, stride %lld, padding %lld",
             (long long)n->kernel[0], (long long)n->stride[0], (long long)n->padding[0]);
    return push(im, n, s, l, what);
}

/* NIR's Flatten: dimensions start_dim..end_dim of the sample (no batch;
 * negative counts from the end) become one. */
static int flatten(importer *im, const nir_node *n)
{
    if (n->has_dims &&
        (n->ndim != im->ndim || memcmp(n->dims, im->dims, (size_t)n->ndim * sizeof *n->dims) != 0))
        return shape_mismatch(im, n, "input_type says", n->ndim, n->dims);
    const int64_t a = n->start_dim < 0 ? n->start_dim + im->ndim : n->start_dim,
                  b = n->end_dim < 0 ? n->end_dim + im->ndim : n->end_dim;
    if (a < 0 || b >= im->ndim || a > b)
        return node_fail(im, n, "start_dim and end_dim are outside its input's dimensions");
    int64_t out[SGAD_MAX_DIMS];
    int nd = 0;
    for (int d = 0; d < im->ndim; d++) {
        if (d <= a || d > b)
            out[nd++] = im->dims[d];
        else
            out[nd - 1] *= im->dims[d];
    }
    sgad_layer *l = NULL;
    sgad_status s = sgad_reshape_create(im->ctx, nd, out, &l);
    char what[96], sh[64];
    snprintf(what, sizeof what, "reshape to %s", shape_text(nd, out, sh, sizeof sh));
    return push(im, n, s, l, what);
}

static int node_layer(importer *im, int i)
{
    const nir_node *n = &im->g->nodes[i];
    switch (n->type) {
    case NIR_AFFINE:
    case NIR_LINEAR: return affine(im, n);
    case NIR_CONV2D: return conv2d(im, n);
    case NIR_LIF:
    case NIR_IF:
    case NIR_LI: return neuron(im, n);
    case NIR_AVGPOOL2D: return avgpool(im, n);
    case NIR_FLATTEN: return flatten(im, n);
    case NIR_SCALE: {
        /* libsgad scales only in its last-step readout: a Scale right before
         * the Output of a graph read at its last step. */
        if (i != im->g->count - 2 || im->g->readout != NIR_READOUT_LAST_STEP)
            return node_fail(im, n,
                             "libsgad has no per-step scale layer; a Scale is imported "
                             "only as the last-step readout's factor (right before the "
                             "Output, metadata sgad_readout = last_step)");
        if (nir_numel(n->ndim, n->dims) != nir_numel(im->ndim, im->dims))
            return shape_mismatch(im, n, "its scale is shaped", n->ndim, n->dims);
        sgad_layer *l = NULL;
        sgad_status s = sgad_last_step_create(im->ctx, n->scale, &l);
        char what[64];
        snprintf(what, sizeof what, "last_step, scale %g", (double)n->scale);
        return push(im, n, s, l, what);
    }
    case NIR_INPUT:
    case NIR_OUTPUT:
    case NIR_TYPE_COUNT: break;
    }
    return node_fail(im, n, "misplaced");
}

int nir_to_net(const nir_graph *g, sgad_ctx *ctx, sgad_net **out, FILE *log, char *err)
{
    *out = NULL;
    importer im = {g, ctx, NULL, log, err, g->nodes[0].ndim, {0}};
    memcpy(im.dims, g->nodes[0].dims, sizeof im.dims);
    if (sgad_net_create(ctx, &im.net) != SGAD_OK)
        return nir_fail(err, "%s", sgad_ctx_last_error(ctx));
    char what[64];
    int rc = 0;
    if (g->steps > 0) {
        sgad_layer *l = NULL;
        snprintf(what, sizeof what, "repeat over %d steps", g->steps);
        const sgad_status s = sgad_repeat_create(ctx, g->steps, &l);
        rc = push(&im, NULL, s, l, what);
        if (log)
            fprintf(log, "  %-24s %-10s -> %s\n", "(metadata)", "sgad_steps", what);
    }
    for (int i = 1; i + 1 < g->count && rc == 0; i++)
        rc = node_layer(&im, i);
    const nir_node *o = &g->nodes[g->count - 1];
    const int scaled = g->count >= 3 && g->nodes[g->count - 2].type == NIR_SCALE;
    if (rc == 0 && g->readout != NIR_READOUT_NONE && !scaled) {
        sgad_layer *l = NULL;
        const int mean = g->readout == NIR_READOUT_TIME_MEAN;
        const sgad_status s =
            mean ? sgad_time_mean_create(ctx, &l) : sgad_last_step_create(ctx, 1.0, &l);
        rc = push(&im, NULL, s, l, mean ? "time_mean" : "last_step, scale 1");
        if (rc == 0 && log)
            fprintf(log, "  %-24s %-10s -> %s\n", "(metadata)", "readout",
                    mean ? "time_mean" : "last_step");
    }
    if (rc == 0 && (o->ndim != im.ndim || memcmp(o->dims, im.dims, (size_t)o->ndim * 8) != 0))
        rc = shape_mismatch(&im, o, "its shape is", o->ndim, o->dims);
    if (rc == 0 && sgad_net_layer_count(im.net) == 0)
        rc = nir_fail(err, "the graph has no node between its Input and Output");
    if (rc == 0)
        rc = sgad_net_set_training(im.net, 0) == SGAD_OK ? 0 : -1;
    if (rc < 0) {
        sgad_net_free(im.net);
        return -1;
    }
    *out = im.net;
    return 0;
}
