/* SPDX-License-Identifier: MIT */
/* Optimizers: three steps against torch.optim, refused non-finite steps,
 * options, state listing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "test_util.h"

/* A net of one linear layer in -> out with bias. */
static sgad_net *linear_net(sgad_ctx *ctx, int64_t in, int64_t out)
{
    sgad_net *net;
    sgad_layer *l;
    ASSERT_OK(ctx, sgad_net_create(ctx, &net));
    ASSERT_OK(ctx, sgad_linear_create(ctx, in, out, 1, &l));
    ASSERT_OK(ctx, sgad_net_adopt(net, l));
    return net;
}

static sgad_net *one_linear(sgad_ctx *ctx)
{
    return linear_net(ctx, 4, 3);
}

static void copy_into(sgad_tensor *t, const fx_array *a)
{
    ck_assert_int_eq(sgad_tensor_numel(t), a->numel);
    memcpy(sgad_tensor_data(t), a->data, (size_t)a->numel * sizeof(float));
}

static void golden_steps(const char *case_name, sgad_optimizer_kind kind, double wd)
{
    sgad_ctx *ctx = tu_ctx(1);
    sgad_net *net = one_linear(ctx);
    sgad_optimizer *opt;
    ASSERT_OK(ctx, sgad_optimizer_create(ctx, kind, net, &opt));
    ASSERT_OK(ctx, sgad_optimizer_set(opt, SGAD_OPT_LR, 0.01));
    ASSERT_OK(ctx, sgad_optimizer_set(opt, SGAD_OPT_WEIGHT_DECAY, wd));
    fixture *f = fx_load(case_name);
    const char *names[2] = {"0.weight", "0.bias"};
    sgad_tensor *v[2], *g[2];
    for (int i = 0; i < 2; i++) {
        ASSERT_OK(ctx, sgad_net_param(net, i, NULL, &v[i], &g[i]));
        copy_into(v[i], fx_get(f, names[i]));
    }
    char key[64];
    for (int t = 1; t <= 3; t++) {
        for (int i = 0; i < 2; i++) {
            snprintf(key, sizeof key, "g%d.%s", t, names[i]);
            copy_into(g[i], fx_get(f, key));
        }
        ASSERT_OK(ctx, sgad_optimizer_step(opt));
    }
    ck_assert_int_eq(sgad_optimizer_steps(opt), 3);
    for (int i = 0; i < 2; i++) {
        snprintf(key, sizeof key, "after.%s", names[i]);
        const fx_array *want = fx_get(f, key);
        /* Same float32 operations in the same order; allow a few ulps. */
        ck_assert_double_le(
            tu_max_scaled_err(sgad_tensor_data(v[i]), want->data, want->numel, 1e-6, 1e-7), 1.0);
    }
    fx_free(f);
    sgad_optimizer_free(opt);
    sgad_net_free(net);
    sgad_ctx_free(ctx);
}

START_TEST(rmsprop_matches_torch)
{
    golden_steps("rmsprop", SGAD_OPTIMIZER_RMSPROP, 0.0);
}
END_TEST

START_TEST(adam_matches_torch)
{
    golden_steps("adam", SGAD_OPTIMIZER_ADAM, 0.1);
}
END_TEST

START_TEST(non_finite_gradient_refuses_the_step)
{
    sgad_ctx *ctx = tu_ctx(2);
    sgad_net *net = one_linear(ctx);
    sgad_optimizer *opt;
    ASSERT_OK(ctx, sgad_optimizer_create(ctx, SGAD_OPTIMIZER_ADAM, net, &opt));
    sgad_tensor *w, *gw, *gb;
    ASSERT_OK(ctx, sgad_net_param(net, 0, NULL, &w, &gw));
    ASSERT_OK(ctx, sgad_net_param(net, 1, NULL, NULL, &gb));
    for (int i = 0; i < 12; i++)
        sgad_tensor_data(gw)[i] = 0.5f;
    ASSERT_OK(ctx, sgad_optimizer_step(opt));
    float before[12], state[12];
    memcpy(before, sgad_tensor_data(w), sizeof before);
    sgad_tensor *m;
    ASSERT_OK(ctx, sgad_optimizer_state(opt, 0, NULL, &m));
    memcpy(state, sgad_tensor_data(m), sizeof state);
    sgad_tensor_data(gb)[2] = NAN;
    ASSERT_STATUS(SGAD_E_NUMERIC, sgad_optimizer_step(opt));
    ck_assert_ptr_nonnull(strstr(sgad_ctx_last_error(ctx), "0.bias"));
    ck_assert_ptr_nonnull(strstr(sgad_ctx_last_error(ctx), "index 2"));
    ck_assert_mem_eq(before, sgad_tensor_data(w), sizeof before);
    ck_assert_mem_eq(state, sgad_tensor_data(m), sizeof state);
    ck_assert_int_eq(sgad_optimizer_steps(opt), 1);
    sgad_tensor_data(gb)[2] = INFINITY;
    ASSERT_STATUS(SGAD_E_NUMERIC, sgad_optimizer_step(opt));
    sgad_optimizer_free(opt);
    sgad_net_free(net);
    sgad_ctx_free(ctx);
}
END_TEST

static void fill_ramp(sgad_tensor *t)
{
    for (int64_t i = 0; i < sgad_tensor_numel(t); i++)
        sgad_tensor_data(t)[i] = (float)(i % 97) * 0.01f - 0.3f;
}

START_TEST(large_steps_split_over_threads)
{
    float *weights[2];
    for (int threads = 1; threads <= 2; threads++) {
        sgad_ctx *ctx = tu_ctx(5);
        ASSERT_OK(ctx, sgad_ctx_set_threads(ctx, threads));
        /* 80000 weights: enough for the optimizer's loops to split */
        sgad_net *net = linear_net(ctx, 400, 200);
        sgad_optimizer *opt;
        ASSERT_OK(ctx, sgad_optimizer_create(ctx, SGAD_OPTIMIZER_RMSPROP, net, &opt));
        sgad_tensor *w, *gw;
        ASSERT_OK(ctx, sgad_net_param(net, 0, NULL, &w, &gw));
        const int64_t n = sgad_tensor_numel(w);
        fill_ramp(gw);
        ASSERT_OK(ctx, sgad_optimizer_step(opt));
        /* a non-finite value anywhere, also in the second thread's half,
         * refuses the step and is named by its index */
        float before[3];
        const int64_t at[3] = {0, n / 2 + 1, n - 1};
        const float bad[3] = {NAN, INFINITY, -INFINITY};
        for (int k = 0; k < 3; k++) {
            for (int i = 0; i < 3; i++)
                before[i] = sgad_tensor_data(w)[at[i]];
            const float kept = sgad_tensor_data(gw)[at[k]];
            sgad_tensor_data(gw)[at[k]] = bad[k];
            ASSERT_STATUS(SGAD_E_NUMERIC, sgad_optimizer_step(opt));
            char index[32];
            snprintf(index, sizeof index, "index %lld", (long long)at[k]);
            ck_assert_ptr_nonnull(strstr(sgad_ctx_last_error(ctx), index));
            for (int i = 0; i < 3; i++)
                ck_assert_float_eq(sgad_tensor_data(w)[at[i]], before[i]);
            sgad_tensor_data(gw)[at[k]] = kept;
        }
        ASSERT_OK(ctx, sgad_optimizer_step(opt));
        weights[threads - 1] = malloc((size_t)n * sizeof(float));
        ck_assert_ptr_nonnull(weights[threads - 1]);
        memcpy(weights[threads - 1], sgad_tensor_data(w), (size_t)n * sizeof(float));
        sgad_optimizer_free(opt);
        sgad_net_free(net);
        sgad_ctx_free(ctx);
    }
    /* element by element: the same bits on any number of threads */
    ck_assert_mem_eq(weights[0], weights[1], 80000 * sizeof(float));
    free(weights[0]);
    free(weights[1]);
}
END_TEST

START_TEST(options_states_and_misuse)
{
    sgad_ctx *ctx = tu_ctx(3);
    sgad_net *net = one_linear(ctx);
    sgad_layer *bn;
    ASSERT_OK(ctx, sgad_batchnorm1d_create(ctx, 3, &bn));
    ASSERT_OK(ctx, sgad_net_adopt(net, bn));
    sgad_optimizer *rms, *adam;
    ASSERT_OK(ctx, sgad_optimizer_create(ctx, SGAD_OPTIMIZER_RMSPROP, net, &rms));
    ASSERT_OK(ctx, sgad_optimizer_create(ctx, SGAD_OPTIMIZER_ADAM, net, &adam));
    /* Trainable: 0.weight, 0.bias, 1.weight, 1.bias; running stats are not. */
    ck_assert_int_eq(sgad_optimizer_state_count(rms), 4);
    ck_assert_int_eq(sgad_optimizer_state_count(adam), 8);
    const char *name;
    ASSERT_OK(ctx, sgad_optimizer_state(rms, 2, &name, NULL));
    ck_assert_str_eq(name, "1.weight.square_avg");
    ASSERT_OK(ctx, sgad_optimizer_state(adam, 1, &name, NULL));
    ck_assert_str_eq(name, "0.weight.exp_avg_sq");
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_optimizer_state(adam, 8, &name, NULL));
    double v;
    ASSERT_OK(ctx, sgad_optimizer_get(rms, SGAD_OPT_RMSPROP_ALPHA, &v));
    ck_assert_double_eq(v, 0.99);
    ASSERT_OK(ctx, sgad_optimizer_get(adam, SGAD_OPT_LR, &v));
    ck_assert_double_eq(v, 2e-4);
    ASSERT_STATUS(SGAD_E_UNSUPPORTED, sgad_optimizer_set(adam, SGAD_OPT_RMSPROP_ALPHA, 0.9));
    ASSERT_STATUS(SGAD_E_UNSUPPORTED, sgad_optimizer_set(rms, SGAD_OPT_ADAM_BETA1, 0.5));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_optimizer_set(adam, SGAD_OPT_ADAM_BETA2, 1.0));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_optimizer_set(rms, SGAD_OPT_LR, -1));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_optimizer_set(rms, SGAD_OPT_EPS, 0));
    sgad_layer *extra;
    ASSERT_OK(ctx, sgad_linear_create(ctx, 3, 2, 1, &extra));
    ASSERT_OK(ctx, sgad_net_adopt(net, extra));
    ASSERT_STATUS(SGAD_E_STATE, sgad_optimizer_step(rms));
    sgad_optimizer *bad = NULL;
    ASSERT_STATUS(SGAD_E_INVALID_ARG,
                  sgad_optimizer_create(ctx, (sgad_optimizer_kind)5, net, &bad));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_optimizer_create(ctx, SGAD_OPTIMIZER_ADAM, NULL, &bad));
    ck_assert_ptr_null(bad);
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_optimizer_step(NULL));
    sgad_optimizer_free(NULL);
    sgad_optimizer_free(rms);
    sgad_optimizer_free(adam);
    sgad_net_free(net);
    sgad_ctx_free(ctx);
}
END_TEST

Suite *suite_optim(void)
{
    Suite *s = suite_create("optim");
    TCase *tc = tcase_create("optim");
    tcase_add_test(tc, rmsprop_matches_torch);
    tcase_add_test(tc, adam_matches_torch);
    tcase_add_test(tc, non_finite_gradient_refuses_the_step);
    tcase_add_test(tc, large_steps_split_over_threads);
    tcase_add_test(tc, options_states_and_misuse);
    suite_add_tcase(s, tc);
    return s;
}
