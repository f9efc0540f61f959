/* SPDX-License-Identifier: MIT */
/* Central-difference gradient checks (see gradcheck.h). Layers and nets
 * share the code through a small "model" interface of forward/backward and
 * parameter access. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "test_util.h"

gc_opts gc_default(void)
{
    gc_opts o = {1e-2f, 1e-2, 2e-3, -1.0f, 1.0f, 0.0f, 48, 12345};
    return o;
}

typedef struct model {
    sgad_layer *layer;
    sgad_net *net;
    sgad_ctx *ctx;
    sgad_tensor *x, *y, *r, *dx;
} model;

static void model_forward(model *m)
{
    if (m->layer)
        ASSERT_OK(m->ctx, sgad_layer_forward(m->layer, m->x, m->y));
    else
        ASSERT_OK(m->ctx, sgad_net_forward(m->net, m->x, m->y));
}

static void model_backward(model *m)
{
    if (m->layer) {
        sgad_layer_zero_grad(m->layer);
        ASSERT_OK(m->ctx, sgad_layer_backward(m->layer, m->x, m->y, m->r, m->dx));
    } else {
        sgad_net_zero_grad(m->net);
        ASSERT_OK(m->ctx, sgad_net_backward(m->net, m->r, m->dx));
    }
}

static int model_param_count(model *m)
{
    return m->layer ? sgad_layer_param_count(m->layer) : sgad_net_param_count(m->net);
}

static void model_param(model *m, int i, const char **name, sgad_tensor **v, sgad_tensor **g)
{
    if (m->layer)
        ASSERT_OK(m->ctx, sgad_layer_param(m->layer, i, name, v, g));
    else
        ASSERT_OK(m->ctx, sgad_net_param(m->net, i, name, v, g));
}

static double loss(model *m)
{
    model_forward(m);
    const float *y = sgad_tensor_data(m->y), *r = sgad_tensor_data(m->r);
    double sum = 0;
    for (int64_t i = 0; i < sgad_tensor_numel(m->y); i++)
        sum += (double)y[i] * (double)r[i];
    return sum;
}

/* Compares analytic gradient g of tensor p (both n long) with differences. */
static double check_tensor(model *m, const char *what, float *p, const float *g, int64_t n,
                           const gc_opts *o, uint64_t *rng)
{
    int64_t checks = (o->max_checks > 0 && o->max_checks < n) ? o->max_checks : n;
    double worst = 0;
    for (int64_t c = 0; c < checks; c++) {
        int64_t i = checks == n ? c : (int64_t)(tu_uniform(rng) * (double)n);
        float saved = p[i];
        p[i] = saved + o->eps;
        double lp = loss(m);
        p[i] = saved - o->eps;
        double lm = loss(m);
        p[i] = saved;
        double fd = (lp - lm) / (2.0 * (double)o->eps);
        double err = fabs((double)g[i] - fd) / (o->atol + o->rtol * fabs(fd));
        ck_assert_msg(err <= 1.0, "%s[%lld]: analytic %.6g vs finite difference %.6g", what,
                      (long long)i, (double)g[i], fd);
        if (err > worst)
            worst = err;
    }
    return worst;
}

static void push_from_kink(float *x, int64_t n, float kink)
{
    for (int64_t i = 0; i < n; i++)
        if (fabsf(x[i]) < kink)
            x[i] = x[i] < 0 ? x[i] - kink : x[i] + kink;
}

static double run(model *m, int ndim, const int64_t *in_dims, const gc_opts *o)
{
    uint64_t rng = o->seed;
    int out_ndim;
    int64_t out_dims[SGAD_MAX_DIMS];
    if (m->layer)
        ASSERT_OK(m->ctx, sgad_layer_output_dims(m->layer, ndim, in_dims, &out_ndim, out_dims));
    else
        ASSERT_OK(m->ctx, sgad_net_output_dims(m->net, ndim, in_dims, &out_ndim, out_dims));
    ASSERT_OK(m->ctx, sgad_tensor_create(m->ctx, ndim, in_dims, &m->x));
    ASSERT_OK(m->ctx, sgad_tensor_create(m->ctx, ndim, in_dims, &m->dx));
    ASSERT_OK(m->ctx, sgad_tensor_create(m->ctx, out_ndim, out_dims, &m->y));
    ASSERT_OK(m->ctx, sgad_tensor_create(m->ctx, out_ndim, out_dims, &m->r));
    float *x = sgad_tensor_data(m->x);
    int64_t nx = sgad_tensor_numel(m->x);
    tu_fill_uniform(x, nx, o->x_lo, o->x_hi, &rng);
    if (o->kink > 0)
        push_from_kink(x, nx, o->kink);
    tu_fill_uniform(sgad_tensor_data(m->r), sgad_tensor_numel(m->r), -1.0f, 1.0f, &rng);

    model_forward(m);
    model_backward(m);
    double worst = check_tensor(m, "dx", x, sgad_tensor_data(m->dx), nx, o, &rng);
    for (int i = 0; i < model_param_count(m); i++) {
        const char *name;
        sgad_tensor *v, *g;
        model_param(m, i, &name, &v, &g);
        if (!g)
            continue;
        /* Copy: the checks run forwards only, but keep the analytic values
         * safe from any layer that might touch grads in forward. */
        int64_t n = sgad_tensor_numel(g);
        float *copy = malloc((size_t)n * sizeof *copy);
        ck_assert_ptr_nonnull(copy);
        memcpy(copy, sgad_tensor_data(g), (size_t)n * sizeof *copy);
        double e = check_tensor(m, name, sgad_tensor_data(v), copy, n, o, &rng);
        free(copy);
        if (e > worst)
            worst = e;
    }
    sgad_tensor_free(m->x);
    sgad_tensor_free(m->dx);
    sgad_tensor_free(m->y);
    sgad_tensor_free(m->r);
    return worst;
}

double gc_check_layer(sgad_layer *layer, int ndim, const int64_t *in_dims, const gc_opts *o)
{
    model m = {layer, NULL, sgad_layer_ctx(layer), NULL, NULL, NULL, NULL};
    return run(&m, ndim, in_dims, o);
}

double gc_check_net(sgad_net *net, int ndim, const int64_t *in_dims, const gc_opts *o)
{
    model m = {NULL, net, NULL, NULL, NULL, NULL, NULL};
    m.ctx = sgad_layer_ctx(sgad_net_layer(net, 0));
    return run(&m, ndim, in_dims, o);
}
