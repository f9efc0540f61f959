/* SPDX-License-Identifier: MIT */
/* Time-axis layers: repeat, last step, mean over time. */
#include <string.h>

#include "gradcheck.h"
#include "test_util.h"

START_TEST(repeat_last_and_mean_values)
{
    sgad_ctx *ctx = tu_ctx(1);
    sgad_layer *rep = NULL, *last = NULL, *mean = NULL;
    ASSERT_OK(ctx, sgad_repeat_create(ctx, 3, &rep));
    ASSERT_OK(ctx, sgad_last_step_create(ctx, 0.25, &last));
    ASSERT_OK(ctx, sgad_time_mean_create(ctx, &mean));
    sgad_tensor *x = tu_tensor(ctx, 1, 2, 2, 0), *seq = tu_tensor(ctx, 3, 2, 2, 0);
    sgad_tensor *one = tu_tensor(ctx, 1, 2, 2, 0);
    const float xs[4] = {1, 2, 3, 4};
    memcpy(sgad_tensor_data(x), xs, sizeof xs);
    ASSERT_OK(ctx, sgad_layer_forward(rep, x, seq));
    for (int t = 0; t < 3; t++)
        ck_assert_mem_eq(sgad_tensor_data(seq) + 4 * t, xs, sizeof xs);
    for (int i = 0; i < 4; i++)
        sgad_tensor_data(seq)[8 + i] = 8.0f; /* last step */
    ASSERT_OK(ctx, sgad_layer_forward(last, seq, one));
    ck_assert_float_eq(sgad_tensor_data(one)[2], 2.0f);
    ASSERT_OK(ctx, sgad_layer_forward(mean, seq, one));
    ck_assert_float_eq_tol(sgad_tensor_data(one)[0], (1 + 1 + 8) / 3.0f, 1e-6f);
    ASSERT_STATUS(SGAD_E_SHAPE, sgad_layer_forward(rep, seq, one));
    sgad_layer *bad = NULL;
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_repeat_create(ctx, 0, &bad));
    ck_assert_ptr_null(bad);
    sgad_tensor_free(x);
    sgad_tensor_free(seq);
    sgad_tensor_free(one);
    sgad_layer_free(rep);
    sgad_layer_free(last);
    sgad_layer_free(mean);
    sgad_ctx_free(ctx);
}
END_TEST

START_TEST(time_layer_gradients)
{
    sgad_ctx *ctx = tu_ctx(1);
    sgad_layer *rep = NULL, *last = NULL, *mean = NULL;
    ASSERT_OK(ctx, sgad_repeat_create(ctx, 4, &rep));
    ASSERT_OK(ctx, sgad_last_step_create(ctx, 1.0 / 16, &last));
    ASSERT_OK(ctx, sgad_time_mean_create(ctx, &mean));
    const gc_opts o = gc_default();
    const int64_t one[4] = {1, 3, 2, 2}, seq[4] = {5, 3, 2, 2};
    gc_check_layer(rep, 4, one, &o);
    gc_check_layer(last, 4, seq, &o);
    gc_check_layer(mean, 4, seq, &o);
    gc_check_layer(last, 4, one, &o);
    sgad_layer_free(rep);
    sgad_layer_free(last);
    sgad_layer_free(mean);
    sgad_ctx_free(ctx);
}
END_TEST

Suite *suite_time(void)
{
    Suite *s = suite_create("time");
    TCase *tc = tcase_create("time");
    tcase_add_test(tc, repeat_last_and_mean_values);
    tcase_add_test(tc, time_layer_gradients);
    suite_add_tcase(s, tc);
    return s;
}
