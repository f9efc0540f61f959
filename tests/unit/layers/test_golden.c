/* SPDX-License-Identifier: MIT */
/* libsgad against PyTorch: every layer kind and a Linear-BN-LIF chain run
 * on the inputs and weights of fixtures made by tests/gen_fixtures.py, and
 * must give PyTorch's outputs, input gradients, parameter gradients and
 * updated buffers.
 *
 * Tolerance: 1e-5 relative, with an absolute floor of 1e-6 times the
 * tensor's largest magnitude, since both sides compute in float32 with
 * different summation orders and an element that is a cancellation of
 * O(max) terms (batch-norm outputs, gradients near 0) carries an error of
 * that size, not of its own size. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fixture.h"
#include "test_util.h"

typedef struct model {
    sgad_ctx *ctx;
    sgad_layer *layer;     /* either one layer ... */
    sgad_net *net;         /* ... or a net */
    const char *zero_grad; /* a parameter whose true gradient is exactly 0 */
} model;

/* A bias right before batch norm, or a key bias that shifts both logits of
 * the softmax equally, cannot change the loss: its gradient is 0 and both
 * sides compute rounding noise. Such a gradient must be tiny against the
 * gradients that do flow (dx), not equal to PyTorch's noise. */
static void expect_zero(const char *case_name, const char *what, const float *got, int64_t n,
                        const fx_array *dx)
{
    double peak = 0;
    for (int64_t i = 0; i < dx->numel; i++)
        peak = fmax(peak, fabs(dx->data[i]));
    for (int64_t i = 0; i < n; i++)
        ck_assert_msg(fabs(got[i]) <= 1e-5 * (1 + peak), "%s: %s[%lld] = %.3g should be ~0",
                      case_name, what, (long long)i, (double)got[i]);
}

static int param_count(const model *m)
{
    return m->layer ? sgad_layer_param_count(m->layer) : sgad_net_param_count(m->net);
}

static void param(const model *m, int i, const char **name, sgad_tensor **v, sgad_tensor **g)
{
    if (m->layer)
        ASSERT_OK(m->ctx, sgad_layer_param(m->layer, i, name, v, g));
    else
        ASSERT_OK(m->ctx, sgad_net_param(m->net, i, name, v, g));
}

static void expect_close(const char *fixture_name, const char *what, const float *got,
                         const fx_array *ref, int64_t n)
{
    ck_assert_msg(n == ref->numel, "%s: %s has %lld values, reference %lld", fixture_name, what,
                  (long long)n, (long long)ref->numel);
    double peak = 0;
    for (int64_t i = 0; i < n; i++)
        peak = fmax(peak, fabs(ref->data[i]));
    const double atol = 1e-6 * peak;
    for (int64_t i = 0; i < n; i++) {
        const double err = fabs((double)got[i] - ref->data[i]);
        ck_assert_msg(err <= 1e-5 * fabs(ref->data[i]) + atol, "%s: %s[%lld] = %.8g, PyTorch %.8g",
                      fixture_name, what, (long long)i, (double)got[i], (double)ref->data[i]);
    }
}

static sgad_tensor *tensor_of(sgad_ctx *ctx, const fx_array *a)
{
    sgad_tensor *t = NULL;
    ASSERT_OK(ctx, sgad_tensor_create(ctx, a->ndim, a->dims, &t));
    memcpy(sgad_tensor_data(t), a->data, (size_t)a->numel * sizeof(float));
    return t;
}

/* A tensor of a's shape full of NaN, for outputs: a pass that leaves any
 * value unwritten then fails the comparison instead of passing on stale
 * data. */
static sgad_tensor *nan_like(sgad_ctx *ctx, const fx_array *a)
{
    sgad_tensor *t = NULL;
    ASSERT_OK(ctx, sgad_tensor_create(ctx, a->ndim, a->dims, &t));
    float *p = sgad_tensor_data(t);
    for (int64_t i = 0; i < a->numel; i++)
        p[i] = NAN;
    return t;
}

static void load_params(const model *m, const fixture *f, const char *case_name)
{
    for (int i = 0; i < param_count(m); i++) {
        const char *name;
        sgad_tensor *v, *g;
        param(m, i, &name, &v, &g);
        const fx_array *a = fx_find(f, name);
        if (!a)
            continue; /* e.g. running stats of a fixture that does not set them */
        ck_assert_msg(a->numel == sgad_tensor_numel(v), "%s: %s size", case_name, name);
        memcpy(sgad_tensor_data(v), a->data, (size_t)a->numel * sizeof(float));
    }
}

static void check_params(const model *m, const fixture *f, const char *case_name)
{
    char key[96];
    for (int i = 0; i < param_count(m); i++) {
        const char *name;
        sgad_tensor *v, *g;
        param(m, i, &name, &v, &g);
        snprintf(key, sizeof key, "grad.%s", name);
        const fx_array *ref = fx_find(f, key);
        if (g && m->zero_grad && strcmp(name, m->zero_grad) == 0) {
            expect_zero(case_name, key, sgad_tensor_data(g), sgad_tensor_numel(g), fx_get(f, "dx"));
        } else if (g) {
            ck_assert_msg(ref != NULL, "%s: no reference for %s", case_name, key);
            expect_close(case_name, key, sgad_tensor_data(g), ref, sgad_tensor_numel(g));
        }
        snprintf(key, sizeof key, "after.%s", name);
        if ((ref = fx_find(f, key)) != NULL)
            expect_close(case_name, key, sgad_tensor_data(v), ref, sgad_tensor_numel(v));
    }
}

/* Loads the case, runs forward and backward, compares everything. */
static void run_golden(const char *case_name, model *m)
{
    fixture *f = fx_load(case_name);
    load_params(m, f, case_name);
    sgad_tensor *x = tensor_of(m->ctx, fx_get(f, "x")), *r = tensor_of(m->ctx, fx_get(f, "r"));
    sgad_tensor *y = nan_like(m->ctx, fx_get(f, "y")), *dx = nan_like(m->ctx, fx_get(f, "x"));
    if (m->layer) {
        ASSERT_OK(m->ctx, sgad_layer_forward(m->layer, x, y));
        expect_close(case_name, "y", sgad_tensor_data(y), fx_get(f, "y"), sgad_tensor_numel(y));
        ASSERT_OK(m->ctx, sgad_layer_backward(m->layer, x, y, r, dx));
    } else {
        ASSERT_OK(m->ctx, sgad_net_forward(m->net, x, y));
        expect_close(case_name, "y", sgad_tensor_data(y), fx_get(f, "y"), sgad_tensor_numel(y));
        ASSERT_OK(m->ctx, sgad_net_backward(m->net, r, dx));
    }
    expect_close(case_name, "dx", sgad_tensor_data(dx), fx_get(f, "dx"), sgad_tensor_numel(dx));
    check_params(m, f, case_name);
    const fx_array *scores = fx_find(f, "scores");
    if (scores) {
        float got[256];
        ck_assert_int_le(scores->numel, 256);
        ASSERT_OK(m->ctx, sgad_attention_decoder_scores(m->layer, got, scores->numel));
        expect_close(case_name, "scores", got, scores, scores->numel);
    }
    sgad_tensor_free(x);
    sgad_tensor_free(r);
    sgad_tensor_free(y);
    sgad_tensor_free(dx);
    fx_free(f);
}

static void golden_layer(const char *case_name, sgad_ctx *ctx, sgad_layer *l)
{
    model m = {ctx, l, NULL, strncmp(case_name, "attention", 9) == 0 ? "key.bias" : NULL};
    run_golden(case_name, &m);
    sgad_layer_free(l);
}

START_TEST(dense_layers)
{
    sgad_ctx *ctx = tu_ctx(1);
    sgad_layer *l;
    ASSERT_OK(ctx, sgad_linear_create(ctx, 5, 4, 1, &l));
    golden_layer("linear_bias", ctx, l);
    ASSERT_OK(ctx, sgad_linear_create(ctx, 5, 4, 0, &l));
    golden_layer("linear_nobias", ctx, l);
    ASSERT_OK(ctx, sgad_sigmoid_create(ctx, &l));
    golden_layer("sigmoid", ctx, l);
    ASSERT_OK(ctx, sgad_leaky_relu_create(ctx, 0.2, &l));
    golden_layer("leaky_relu", ctx, l);
    sgad_ctx_free(ctx);
}
END_TEST

START_TEST(convolutions_and_pooling)
{
    sgad_ctx *ctx = tu_ctx(1);
    sgad_layer *l;
    ASSERT_OK(ctx, sgad_conv2d_create(ctx, 1, 3, 5, 1, 0, 1, &l));
    golden_layer("conv2d_k5", ctx, l);
    ASSERT_OK(ctx, sgad_conv2d_create(ctx, 2, 3, 3, 2, 1, 1, &l));
    golden_layer("conv2d_k3s2p1", ctx, l);
    ASSERT_OK(ctx, sgad_convt2d_create(ctx, 3, 2, 4, 2, 1, 1, &l));
    golden_layer("convt2d_k4s2p1", ctx, l);
    ASSERT_OK(ctx, sgad_convt2d_create(ctx, 2, 2, 3, 1, 0, 1, &l));
    golden_layer("convt2d_k3", ctx, l);
    ASSERT_OK(ctx, sgad_avgpool2d_create(ctx, 2, 0, 0, &l));
    golden_layer("avgpool2d_k2", ctx, l);
    ASSERT_OK(ctx, sgad_avgpool2d_create(ctx, 3, 2, 1, &l));
    golden_layer("avgpool2d_k3s2p1", ctx, l);
    sgad_ctx_free(ctx);
}
END_TEST

START_TEST(batch_norm_per_step)
{
    sgad_ctx *ctx = tu_ctx(1);
    sgad_layer *l;
    ASSERT_OK(ctx, sgad_batchnorm1d_create(ctx, 3, &l));
    golden_layer("batchnorm1d_train", ctx, l);
    ASSERT_OK(ctx, sgad_batchnorm2d_create(ctx, 3, &l));
    golden_layer("batchnorm2d_train", ctx, l);
    ASSERT_OK(ctx, sgad_batchnorm2d_create(ctx, 3, &l));
    ASSERT_OK(ctx, sgad_layer_set_training(l, 0));
    golden_layer("batchnorm2d_eval", ctx, l);
    sgad_ctx_free(ctx);
}
END_TEST

START_TEST(neurons)
{
    sgad_ctx *ctx = tu_ctx(1);
    sgad_layer *l;
    ASSERT_OK(ctx, sgad_lif_create(ctx, &l));
    golden_layer("lif", ctx, l);
    ASSERT_OK(ctx, sgad_lif_create(ctx, &l));
    ASSERT_OK(ctx, sgad_layer_set(l, SGAD_OPT_NEURON_RESET_MODE, SGAD_RESET_SOFT));
    golden_layer("lif_soft", ctx, l);
    ASSERT_OK(ctx, sgad_lif_create(ctx, &l));
    ASSERT_OK(ctx, sgad_layer_set(l, SGAD_OPT_NEURON_DETACH_RESET, 0));
    golden_layer("lif_attached", ctx, l);
    ASSERT_OK(ctx, sgad_if_create(ctx, &l));
    golden_layer("if", ctx, l);
    ASSERT_OK(ctx, sgad_mp_create(ctx, &l));
    golden_layer("mp", ctx, l);
    sgad_ctx_free(ctx);
}
END_TEST

START_TEST(linear_bn_lif_chain)
{
    sgad_ctx *ctx = tu_ctx(1);
    sgad_net *net;
    sgad_layer *l;
    ASSERT_OK(ctx, sgad_net_create(ctx, &net));
    ASSERT_OK(ctx, sgad_linear_create(ctx, 4, 6, 1, &l));
    ASSERT_OK(ctx, sgad_net_adopt(net, l));
    ASSERT_OK(ctx, sgad_batchnorm1d_create(ctx, 6, &l));
    ASSERT_OK(ctx, sgad_net_adopt(net, l));
    ASSERT_OK(ctx, sgad_lif_create(ctx, &l));
    ASSERT_OK(ctx, sgad_net_adopt(net, l));
    model m = {ctx, NULL, net, "0.bias"};
    run_golden("chain_linear_bn_lif", &m);
    double rate;
    ASSERT_OK(ctx, sgad_net_firing_rate(net, 2, &rate));
    ck_assert(rate > 0.0 && rate < 1.0); /* the fixture exercises both branches */
    sgad_net_free(net);
    sgad_ctx_free(ctx);
}
END_TEST

START_TEST(attention_decoder)
{
    sgad_ctx *ctx = tu_ctx(1);
    sgad_layer *l;
    ASSERT_OK(ctx, sgad_attention_decoder_create(ctx, 12, 8, 0, 0, &l));
    golden_layer("attention", ctx, l);
    ASSERT_OK(ctx, sgad_attention_decoder_create(ctx, 12, 8, 10, 0, &l));
    golden_layer("attention_down", ctx, l);
    sgad_ctx_free(ctx);
}
END_TEST

Suite *suite_golden(void)
{
    Suite *s = suite_create("golden");
    TCase *tc = tcase_create("pytorch");
    tcase_add_test(tc, dense_layers);
    tcase_add_test(tc, convolutions_and_pooling);
    tcase_add_test(tc, batch_norm_per_step);
    tcase_add_test(tc, neurons);
    tcase_add_test(tc, linear_bn_lif_chain);
    tcase_add_test(tc, attention_decoder);
    suite_add_tcase(s, tc);
    return s;
}
