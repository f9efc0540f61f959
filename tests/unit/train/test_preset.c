/* SPDX-License-Identifier: MIT */
/* The paper's models as presets: shapes for every model and image size,
 * gradients flowing from D's score back into G, and a user-built G. */
#include <string.h>

#include "test_util.h"

static void dims_of(sgad_ctx *ctx, sgad_net *net, int nd, const int64_t *in, int *ond, int64_t *out)
{
    ASSERT_OK(ctx, sgad_net_output_dims(net, nd, in, ond, out));
}

START_TEST(every_model_and_shape_connects)
{
    sgad_ctx *ctx = tu_ctx(1);
    const int64_t sides[3] = {28, 32, 64}, chans[3] = {1, 3, 3};
    for (int model = SGAD_MODEL_SGAN; model <= SGAD_MODEL_HYBRID; model++)
        for (int shape = 0; shape < 3; shape++) {
            sgad_net *g = NULL, *d = NULL;
            ASSERT_OK(ctx, sgad_preset_create(ctx, (sgad_model)model, (sgad_image_shape)shape, 3, 0,
                                              &g, &d));
            sgad_tensor *w;
            ASSERT_OK(ctx, sgad_net_param(g, 0, NULL, &w, NULL)); /* first linear */
            const int64_t latent = sgad_tensor_dim(w, 1);
            ck_assert_int_eq(latent, model == SGAD_MODEL_SGAN ? 100 : shape == 2 ? 20 : 15);
            ck_assert_int_eq(sgad_tensor_dim(w, 0), 1024);
            const int64_t z[3] = {1, 2, latent};
            int nd;
            int64_t img[SGAD_MAX_DIMS], score[SGAD_MAX_DIMS];
            dims_of(ctx, g, 3, z, &nd, img);
            ck_assert_int_eq(nd, 5);
            ck_assert_int_eq(img[0], model == SGAD_MODEL_SGAN ? 3 : 1);
            ck_assert(img[1] == 2 && img[2] == chans[shape] && img[3] == sides[shape] &&
                      img[4] == sides[shape]);
            dims_of(ctx, d, 5, img, &nd, score);
            ck_assert(nd == 3 && score[0] == 1 && score[1] == 2 && score[2] == 1);
            sgad_net_free(g);
            sgad_net_free(d);
        }
    sgad_net *g = (sgad_net *)&g, *d = (sgad_net *)&d;
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_preset_create(ctx, (sgad_model)9, 0, 0, 0, &g, &d));
    ck_assert(g == NULL && d == NULL);
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_preset_create(ctx, SGAD_MODEL_SGAD, 0, -1, 0, &g, &d));
    ck_assert_str_eq(sgad_model_name(SGAD_MODEL_HYBRID), "hybrid");
    sgad_ctx_free(ctx);
}
END_TEST

/* One WGAN generator pass: D's score gradient reaches G's first weights. */
START_TEST(score_gradient_reaches_the_generator)
{
    sgad_ctx *ctx = tu_ctx(2);
    sgad_net *g, *d;
    ASSERT_OK(ctx, sgad_preset_create(ctx, SGAD_MODEL_SGAD, SGAD_SHAPE_28X28X1, 4, 0, &g, &d));
    sgad_tensor *z = tu_tensor(ctx, 1, 4, 15, 0), *img = tu_tensor(ctx, 1, 4, 1, 28, 28, 0);
    sgad_tensor *dscore = tu_tensor(ctx, 1, 4, 1, 0), *dimg = tu_tensor(ctx, 1, 4, 1, 28, 28, 0);
    uint64_t rng = 5;
    tu_fill_uniform(sgad_tensor_data(z), 60, -2, 2, &rng);
    ASSERT_OK(ctx, sgad_net_forward(g, z, img));
    for (int i = 0; i < 4 * 784; i++)
        ck_assert(sgad_tensor_data(img)[i] > 0.0f && sgad_tensor_data(img)[i] < 1.0f);
    ASSERT_OK(ctx, sgad_net_forward(d, img, NULL));
    for (int i = 0; i < 4; i++)
        sgad_tensor_data(dscore)[i] = 0.25f; /* d mean(D(fake)) */
    sgad_net_zero_grad(g);
    ASSERT_OK(ctx, sgad_net_backward(d, dscore, dimg));
    ASSERT_OK(ctx, sgad_net_backward(g, dimg, NULL));
    sgad_tensor *gw;
    ASSERT_OK(ctx, sgad_net_param(g, 0, NULL, NULL, &gw));
    double sum = 0;
    for (int64_t i = 0; i < sgad_tensor_numel(gw); i++)
        sum += sgad_tensor_data(gw)[i] * sgad_tensor_data(gw)[i];
    ck_assert_double_gt(sum, 0.0);
    double rate;
    ASSERT_OK(ctx, sgad_net_firing_rate(g, 3, &rate)); /* the first LIF */
    ck_assert(rate > 0.0 && rate < 1.0);
    sgad_tensor_free(z);
    sgad_tensor_free(img);
    sgad_tensor_free(dscore);
    sgad_tensor_free(dimg);
    sgad_net_free(g);
    sgad_net_free(d);
    sgad_ctx_free(ctx);
}
END_TEST

/* Users build their own generator with the same calls the presets use. */
START_TEST(user_built_generator)
{
    sgad_ctx *ctx = tu_ctx(3);
    sgad_net *g;
    sgad_layer *l;
    ASSERT_OK(ctx, sgad_net_create(ctx, &g));
    ASSERT_OK(ctx, sgad_repeat_create(ctx, 5, &l));
    ASSERT_OK(ctx, sgad_net_adopt(g, l));
    ASSERT_OK(ctx, sgad_linear_create(ctx, 8, 64, 1, &l));
    ASSERT_OK(ctx, sgad_net_adopt(g, l));
    ASSERT_OK(ctx, sgad_batchnorm1d_create(ctx, 64, &l));
    ASSERT_OK(ctx, sgad_net_adopt(g, l));
    ASSERT_OK(ctx, sgad_lif_create(ctx, &l));
    ASSERT_OK(ctx, sgad_net_adopt(g, l));
    ASSERT_OK(ctx, sgad_linear_create(ctx, 64, 36, 1, &l));
    ASSERT_OK(ctx, sgad_net_adopt(g, l));
    ASSERT_OK(ctx, sgad_sigmoid_create(ctx, &l));
    ASSERT_OK(ctx, sgad_net_adopt(g, l));
    ASSERT_OK(ctx, sgad_attention_decoder_create(ctx, 36, 16, 0, 1, &l));
    ASSERT_OK(ctx, sgad_net_adopt(g, l));
    sgad_tensor *z = tu_tensor(ctx, 1, 3, 8, 0), *img = tu_tensor(ctx, 1, 3, 36, 0);
    uint64_t rng = 9;
    tu_fill_uniform(sgad_tensor_data(z), 24, -1, 1, &rng);
    ASSERT_OK(ctx, sgad_net_forward(g, z, img));
    float scores[15];
    ASSERT_OK(ctx, sgad_attention_decoder_scores(sgad_net_layer(g, 6), scores, 15));
    ck_assert_float_eq(scores[0], 1.0f);
    ck_assert(scores[14] > 0.0f && scores[14] < 1.0f);
    sgad_tensor_free(z);
    sgad_tensor_free(img);
    sgad_net_free(g);
    sgad_ctx_free(ctx);
}
END_TEST

/* Each model's name leads back to the model, and names that are not the
 * library's (other case, padding, empty, NULL) are refused. */
START_TEST(model_names_round_trip)
{
    static const char *const names[] = {"sgan", "swgan", "sgad", "hybrid"};
    for (int m = SGAD_MODEL_SGAN; m <= SGAD_MODEL_HYBRID; m++) {
        ck_assert_str_eq(sgad_model_name((sgad_model)m), names[m]);
        sgad_model back = (sgad_model)-1;
        ASSERT_STATUS(SGAD_OK, sgad_model_from_name(sgad_model_name((sgad_model)m), &back));
        ck_assert_int_eq(back, m);
    }
    ck_assert_str_eq(sgad_model_name((sgad_model)4), "unknown");
    ck_assert_str_eq(sgad_model_name((sgad_model)-1), "unknown");
    static const char *const wrong[] = {"",    "SGAD",  "Sgan",   "sgad ",  " sgad",
                                        "sga", "sgadx", "custom", "unknown"};
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        sgad_model out = SGAD_MODEL_SWGAN;
        ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_model_from_name(wrong[i], &out));
        ck_assert_int_eq(out, SGAD_MODEL_SWGAN); /* unchanged on failure */
    }
    sgad_model out = SGAD_MODEL_SWGAN;
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_model_from_name(NULL, &out));
    ck_assert_int_eq(out, SGAD_MODEL_SWGAN);
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_model_from_name("sgad", NULL));
}
END_TEST

Suite *suite_preset(void)
{
    Suite *s = suite_create("preset");
    TCase *tc = tcase_create("preset");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, every_model_and_shape_connects);
    tcase_add_test(tc, score_gradient_reaches_the_generator);
    tcase_add_test(tc, user_built_generator);
    tcase_add_test(tc, model_names_round_trip);
    suite_add_tcase(s, tc);
    return s;
}
