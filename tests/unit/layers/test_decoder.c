/* SPDX-License-Identifier: MIT */
/* The attention-scored decoder: values in a case solvable by hand,
 * gradients against finite differences for every variant, scores. */
#include <math.h>
#include <string.h>

#include "gradcheck.h"
#include "test_util.h"

static sgad_layer *make_decoder(sgad_ctx *ctx, int features, int hidden, int down, int sep)
{
    sgad_layer *l = NULL;
    ASSERT_OK(ctx, sgad_attention_decoder_create(ctx, features, hidden, down, sep, &l));
    return l;
}

static void fill_param(sgad_ctx *ctx, sgad_layer *l, const char *want, float value)
{
    for (int i = 0; i < sgad_layer_param_count(l); i++) {
        const char *name;
        sgad_tensor *v;
        ASSERT_OK(ctx, sgad_layer_param(l, i, &name, &v, NULL));
        if (strcmp(name, want) == 0) {
            for (int64_t k = 0; k < sgad_tensor_numel(v); k++)
                sgad_tensor_data(v)[k] = value;
            return;
        }
    }
    ck_abort_msg("no parameter %s", want);
}

/* A zero query makes both logits 0: s_v = s_x = 1/2 and V_t = (V_{t-1} + X_t) / 2. */
START_TEST(zero_query_halves_each_step)
{
    sgad_ctx *ctx = tu_ctx(1);
    sgad_layer *dec = make_decoder(ctx, 4, 3, 0, 0);
    fill_param(ctx, dec, "query.weight", 0.0f);
    fill_param(ctx, dec, "query.bias", 0.0f);
    sgad_tensor *x = tu_tensor(ctx, 3, 2, 1, 2, 2, 0), *y = tu_tensor(ctx, 1, 2, 1, 2, 2, 0);
    uint64_t rng = 4;
    float *X = sgad_tensor_data(x);
    tu_fill_uniform(X, 24, 0, 1, &rng);
    ASSERT_OK(ctx, sgad_layer_forward(dec, x, y));
    for (int n = 0; n < 2; n++)
        for (int i = 0; i < 4; i++) {
            double v = X[n * 4 + i];
            for (int t = 1; t < 3; t++)
                v = 0.5 * v + 0.5 * X[(t * 2 + n) * 4 + i];
            ck_assert_double_eq_tol(sgad_tensor_data(y)[n * 4 + i], v, 1e-6);
        }
    float scores[6];
    ASSERT_OK(ctx, sgad_attention_decoder_scores(dec, scores, 6));
    ck_assert_float_eq(scores[0], 1.0f);
    ck_assert_float_eq(scores[1], 1.0f);
    for (int i = 2; i < 6; i++)
        ck_assert_float_eq_tol(scores[i], 0.5f, 1e-7f);
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_attention_decoder_scores(dec, scores, 5));
    sgad_tensor_free(x);
    sgad_tensor_free(y);
    sgad_layer_free(dec);
    sgad_ctx_free(ctx);
}
END_TEST

/* Scores are a softmax pair, and T = 1 passes X_0 through. */
START_TEST(scores_are_probabilities)
{
    sgad_ctx *ctx = tu_ctx(2);
    sgad_layer *dec = make_decoder(ctx, 6, 5, 0, 1);
    sgad_tensor *x = tu_tensor(ctx, 4, 3, 6, 0), *y = tu_tensor(ctx, 1, 3, 6, 0);
    uint64_t rng = 8;
    tu_fill_uniform(sgad_tensor_data(x), 72, -2, 2, &rng);
    ASSERT_OK(ctx, sgad_layer_forward(dec, x, y));
    float s[12];
    ASSERT_OK(ctx, sgad_attention_decoder_scores(dec, s, 12));
    int differs = 0;
    for (int i = 3; i < 12; i++) {
        ck_assert(s[i] > 0.0f && s[i] < 1.0f);
        differs += fabsf(s[i] - 0.5f) > 1e-3f;
    }
    ck_assert_int_gt(differs, 0);
    sgad_tensor *x1 = tu_tensor(ctx, 1, 3, 6, 0);
    memcpy(sgad_tensor_data(x1), sgad_tensor_data(x), 18 * sizeof(float));
    ASSERT_OK(ctx, sgad_layer_forward(dec, x1, y));
    ck_assert_mem_eq(sgad_tensor_data(y), sgad_tensor_data(x1), 18 * sizeof(float));
    sgad_tensor_free(x);
    sgad_tensor_free(x1);
    sgad_tensor_free(y);
    sgad_layer_free(dec);
    sgad_ctx_free(ctx);
}
END_TEST

START_TEST(gradients_of_every_variant)
{
    sgad_ctx *ctx = tu_ctx(3);
    gc_opts o = gc_default();
    o.x_lo = 0; /* the decoder sees sigmoid outputs */
    o.x_hi = 1;
    o.kink = 0;
    const int64_t shapes[][5] = {{1, 2, 1, 2, 3}, {3, 1, 1, 2, 3}, {5, 3, 1, 2, 3}};
    for (int down = 0; down <= 1; down++)
        for (int sep = 0; sep <= 1; sep++) {
            sgad_layer *dec = make_decoder(ctx, 6, 4, down ? 5 : 0, sep);
            /* Larger weights give scores far from 1/2, so the softmax path
             * carries real gradient. */
            for (int i = 0; i < sgad_layer_param_count(dec); i++) {
                sgad_tensor *v;
                ASSERT_OK(ctx, sgad_layer_param(dec, i, NULL, &v, NULL));
                for (int64_t k = 0; k < sgad_tensor_numel(v); k++)
                    sgad_tensor_data(v)[k] *= 4.0f;
            }
            for (int s = 0; s < 3; s++)
                gc_check_layer(dec, 5, shapes[s], &o);
            sgad_layer_free(dec);
        }
    sgad_ctx_free(ctx);
}
END_TEST

START_TEST(parameters_and_bad_arguments)
{
    sgad_ctx *ctx = tu_ctx(1);
    sgad_layer *dec = make_decoder(ctx, 12, 4, 8, 1);
    const char *want[8] = {"down.weight", "down.bias", "query.weight", "query.bias",
                           "key.weight",  "key.bias",  "key_x.weight", "key_x.bias"};
    ck_assert_int_eq(sgad_layer_param_count(dec), 8);
    for (int i = 0; i < 8; i++) {
        const char *name;
        sgad_tensor *v;
        ASSERT_OK(ctx, sgad_layer_param(dec, i, &name, &v, NULL));
        ck_assert_str_eq(name, want[i]);
    }
    sgad_tensor *w;
    ASSERT_OK(ctx, sgad_layer_param(dec, 2, NULL, &w, NULL));
    ck_assert(sgad_tensor_dim(w, 0) == 4 && sgad_tensor_dim(w, 1) == 8);
    sgad_tensor *x = tu_tensor(ctx, 2, 2, 11, 0), *y = tu_tensor(ctx, 1, 2, 11, 0);
    ASSERT_STATUS(SGAD_E_SHAPE, sgad_layer_forward(dec, x, y));
    ck_assert_ptr_nonnull(strstr(sgad_ctx_last_error(ctx), "12 values per sample"));
    float s[4];
    ASSERT_STATUS(SGAD_E_STATE, sgad_attention_decoder_scores(dec, s, 4));
    sgad_layer *other = NULL;
    ASSERT_OK(ctx, sgad_sigmoid_create(ctx, &other));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_attention_decoder_scores(other, s, 4));
    sgad_layer *bad = NULL;
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_attention_decoder_create(ctx, 0, 4, 0, 0, &bad));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_attention_decoder_create(ctx, 4, 4, -1, 0, &bad));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_attention_decoder_create(ctx, 4, 4, 0, 2, &bad));
    ck_assert_ptr_null(bad);
    sgad_tensor_free(x);
    sgad_tensor_free(y);
    sgad_layer_free(other);
    sgad_layer_free(dec);
    sgad_ctx_free(ctx);
}
END_TEST

/* Forward and backward of x on a decoder that ran on other shapes before
 * against a fresh copy of it: the same output, input and parameter
 * gradients, bit for bit. */
static void check_reuse(sgad_ctx *ctx, sgad_layer *used, sgad_layer *fresh, int steps, int batch,
                        uint64_t seed)
{
    sgad_tensor *x = tu_tensor(ctx, steps, batch, 6, 0), *dy = tu_tensor(ctx, 1, batch, 6, 0);
    sgad_tensor *y[2] = {tu_tensor(ctx, 1, batch, 6, 0), tu_tensor(ctx, 1, batch, 6, 0)};
    sgad_tensor *dx[2] = {tu_tensor(ctx, steps, batch, 6, 0), tu_tensor(ctx, steps, batch, 6, 0)};
    uint64_t rng = seed;
    tu_fill_uniform(sgad_tensor_data(x), sgad_tensor_numel(x), 0, 1, &rng);
    tu_fill_uniform(sgad_tensor_data(dy), sgad_tensor_numel(dy), -1, 1, &rng);
    sgad_layer *dec[2] = {used, fresh};
    for (int i = 0; i < 2; i++) {
        sgad_layer_zero_grad(dec[i]);
        ASSERT_OK(ctx, sgad_layer_forward(dec[i], x, y[i]));
        ASSERT_OK(ctx, sgad_layer_backward(dec[i], x, y[i], dy, dx[i]));
    }
    ck_assert_mem_eq(sgad_tensor_data(y[0]), sgad_tensor_data(y[1]),
                     (size_t)sgad_tensor_numel(y[0]) * sizeof(float));
    ck_assert_mem_eq(sgad_tensor_data(dx[0]), sgad_tensor_data(dx[1]),
                     (size_t)sgad_tensor_numel(dx[0]) * sizeof(float));
    for (int p = 0; p < sgad_layer_param_count(used); p++) {
        sgad_tensor *g0, *g1;
        ASSERT_OK(ctx, sgad_layer_param(used, p, NULL, NULL, &g0));
        ASSERT_OK(ctx, sgad_layer_param(fresh, p, NULL, NULL, &g1));
        ck_assert_mem_eq(sgad_tensor_data(g0), sgad_tensor_data(g1),
                         (size_t)sgad_tensor_numel(g0) * sizeof(float));
    }
    sgad_tensor *all[] = {x, dy, y[0], y[1], dx[0], dx[1]};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        sgad_tensor_free(all[i]);
}

/* The caches are reused across calls: fewer steps of more samples fit the
 * rows already reserved but not the per-sample buffers (which once were
 * sized by the rows alone and overran). */
START_TEST(caches_follow_steps_and_batch)
{
    sgad_ctx *ctx = tu_ctx(5);
    for (int down = 0; down <= 1; down++) {
        sgad_layer *used = make_decoder(ctx, 6, 4, down ? 5 : 0, 0);
        sgad_layer *fresh[3];
        for (int i = 0; i < 3; i++) {
            fresh[i] = make_decoder(ctx, 6, 4, down ? 5 : 0, 0);
            for (int p = 0; p < sgad_layer_param_count(used); p++) {
                sgad_tensor *a, *b;
                ASSERT_OK(ctx, sgad_layer_param(used, p, NULL, &a, NULL));
                ASSERT_OK(ctx, sgad_layer_param(fresh[i], p, NULL, &b, NULL));
                memcpy(sgad_tensor_data(b), sgad_tensor_data(a),
                       (size_t)sgad_tensor_numel(a) * sizeof(float));
            }
        }
        check_reuse(ctx, used, fresh[0], 8, 2, 11); /* 16 rows of 2 samples */
        check_reuse(ctx, used, fresh[1], 2, 8, 12); /* 16 rows of 8 samples */
        check_reuse(ctx, used, fresh[2], 3, 4, 13); /* fewer of both */
        sgad_layer_free(used);
        for (int i = 0; i < 3; i++)
            sgad_layer_free(fresh[i]);
    }
    sgad_ctx_free(ctx);
}
END_TEST

Suite *suite_decoder(void)
{
    Suite *s = suite_create("decoder");
    TCase *tc = tcase_create("attention");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, zero_query_halves_each_step);
    tcase_add_test(tc, scores_are_probabilities);
    tcase_add_test(tc, gradients_of_every_variant);
    tcase_add_test(tc, parameters_and_bad_arguments);
    tcase_add_test(tc, caches_follow_steps_and_batch);
    suite_add_tcase(s, tc);
    return s;
}
