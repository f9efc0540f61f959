/* SPDX-License-Identifier: MIT */
/* Status codes, version, context, tensors, options and API misuse. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

START_TEST(status_names_are_distinct_and_total)
{
    for (int i = 0; i <= SGAD_E_INTERNAL; i++) {
        ck_assert_str_ne(sgad_status_name((sgad_status)i), "SGAD_E_UNKNOWN");
        ck_assert_str_ne(sgad_status_string((sgad_status)i), "unknown status");
        for (int j = 0; j < i; j++)
            ck_assert_str_ne(sgad_status_name((sgad_status)i), sgad_status_name((sgad_status)j));
    }
    ck_assert_str_eq(sgad_status_name(SGAD_E_SHAPE), "SGAD_E_SHAPE");
    ck_assert_str_eq(sgad_status_name((sgad_status)999), "SGAD_E_UNKNOWN");
    ck_assert_str_eq(sgad_status_string((sgad_status)-1), "unknown status");
}
END_TEST

START_TEST(version_matches_header)
{
    ck_assert_uint_eq(sgad_version_number(), SGAD_VERSION_NUMBER);
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", SGAD_VERSION_MAJOR, SGAD_VERSION_MINOR,
             SGAD_VERSION_PATCH);
    ck_assert_str_eq(sgad_version_string(), want);
}
END_TEST

/* An allocator that fails on the k-th allocation and counts live blocks. */
typedef struct failing_alloc {
    int countdown;
    int live;
} failing_alloc;

static void *fa_alloc(void *opaque, size_t size)
{
    failing_alloc *fa = opaque;
    if (fa->countdown-- == 0)
        return NULL;
    fa->live++;
    return malloc(size);
}

static void fa_free(void *opaque, void *ptr)
{
    failing_alloc *fa = opaque;
    fa->live--;
    free(ptr);
}

START_TEST(ctx_settings_are_checked)
{
    sgad_ctx *ctx = tu_ctx(1);
    ck_assert_int_eq(sgad_ctx_threads(ctx), 1);
    ASSERT_OK(ctx, sgad_ctx_set_threads(ctx, 2));
    ck_assert_int_eq(sgad_ctx_threads(ctx), 2);
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_ctx_set_threads(ctx, 0));
    ck_assert_ptr_nonnull(strstr(sgad_ctx_last_error(ctx), "threads=0"));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_ctx_set_threads(ctx, SGAD_MAX_THREADS + 1));
    ck_assert_int_eq(sgad_ctx_threads(ctx), 2);
    sgad_ctx_clear_error(ctx);
    ck_assert_str_eq(sgad_ctx_last_error(ctx), "");
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_ctx_create(NULL));
    sgad_ctx *other = NULL;
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_ctx_create_ex(NULL, fa_free, NULL, &other));
    ck_assert_ptr_null(other);
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_ctx_set_threads(NULL, 1));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_ctx_set_seed(NULL, 1));
    ck_assert_int_eq(sgad_ctx_threads(NULL), 0);
    ck_assert_str_ne(sgad_ctx_last_error(NULL), "");
    sgad_ctx_free(NULL);
    sgad_ctx_free(ctx);
}
END_TEST

START_TEST(tensor_create_wrap_reshape)
{
    sgad_ctx *ctx = tu_ctx(1);
    const int64_t dims[3] = {2, 3, 4};
    sgad_tensor *t = NULL;
    ASSERT_OK(ctx, sgad_tensor_create(ctx, 3, dims, &t));
    ck_assert_int_eq(sgad_tensor_ndim(t), 3);
    ck_assert_int_eq(sgad_tensor_numel(t), 24);
    ck_assert_int_eq(sgad_tensor_dim(t, 2), 4);
    ck_assert_int_eq(sgad_tensor_dim(t, 3), 0);
    ck_assert_int_eq(sgad_tensor_dim(t, -1), 0);
    for (int i = 0; i < 24; i++)
        ck_assert_float_eq(sgad_tensor_data(t)[i], 0.0f);
    const int64_t flat[2] = {6, 4}, bad[2] = {5, 5};
    ASSERT_OK(ctx, sgad_tensor_reshape(t, 2, flat));
    ck_assert_int_eq(sgad_tensor_dim(t, 0), 6);
    ASSERT_STATUS(SGAD_E_SHAPE, sgad_tensor_reshape(t, 2, bad));
    ck_assert_ptr_nonnull(strstr(sgad_ctx_last_error(ctx), "24"));
    sgad_tensor_free(t);

    float buf[6] = {1, 2, 3, 4, 5, 6};
    const int64_t d2[2] = {2, 3};
    ASSERT_OK(ctx, sgad_tensor_wrap(ctx, 2, d2, buf, &t));
    ck_assert_ptr_eq(sgad_tensor_data(t), buf);
    sgad_tensor_free(t); /* must not free buf */
    ck_assert_float_eq(buf[5], 6.0f);
    sgad_tensor_free(NULL);
    sgad_ctx_free(ctx);
}
END_TEST

START_TEST(tensor_rejects_bad_dims)
{
    sgad_ctx *ctx = tu_ctx(1);
    sgad_tensor *t = (sgad_tensor *)&t;
    const int64_t zero[2] = {3, 0}, neg[1] = {-4}, huge[3] = {1 << 20, 1 << 20, 1 << 20};
    const int64_t ok[1] = {4};
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_tensor_create(ctx, 2, zero, &t));
    ck_assert_ptr_null(t);
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_tensor_create(ctx, 1, neg, &t));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_tensor_create(ctx, 3, huge, &t));
    ck_assert_ptr_nonnull(strstr(sgad_ctx_last_error(ctx), "2^40"));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_tensor_create(ctx, 0, ok, &t));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_tensor_create(ctx, SGAD_MAX_DIMS + 1, ok, &t));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_tensor_create(ctx, 1, NULL, &t));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_tensor_create(ctx, 1, ok, NULL));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_tensor_create(NULL, 1, ok, &t));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_tensor_wrap(ctx, 1, ok, NULL, &t));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_tensor_reshape(NULL, 1, ok));
    ck_assert_int_eq(sgad_tensor_numel(NULL), 0);
    ck_assert_ptr_null(sgad_tensor_data(NULL));
    sgad_ctx_free(ctx);
}
END_TEST

START_TEST(option_bounds_are_defined)
{
    double lo, hi;
    ASSERT_STATUS(SGAD_OK, sgad_option_bounds(SGAD_OPT_NEURON_TAU, &lo, &hi));
    ck_assert(lo == 1.0 && hi > lo);
    ASSERT_STATUS(SGAD_OK, sgad_option_bounds(SGAD_OPT_BN_MOMENTUM, &lo, &hi));
    ck_assert(lo == 0.0 && hi == 1.0);
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_option_bounds((sgad_option)42, &lo, &hi));
}
END_TEST

START_TEST(layer_calls_reject_null_and_misuse)
{
    sgad_ctx *ctx = tu_ctx(1);
    sgad_layer *l = NULL;
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_linear_create(NULL, 2, 3, 1, &l));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_linear_create(ctx, 2, 3, 1, NULL));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_linear_create(ctx, 0, 3, 1, &l));
    ck_assert_ptr_nonnull(strstr(sgad_ctx_last_error(ctx), "in_features=0"));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_linear_create(ctx, 2, 3, 7, &l));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_layer_forward(NULL, NULL, NULL));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_layer_set(NULL, SGAD_OPT_BN_EPS, 1e-3));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_layer_set_training(NULL, 1));
    ck_assert_int_eq(sgad_layer_param_count(NULL), 0);
    ck_assert_int_eq(sgad_layer_get_kind(NULL), 0);
    sgad_layer_free(NULL);
    sgad_layer_zero_grad(NULL);

    ASSERT_OK(ctx, sgad_linear_create(ctx, 2, 3, 1, &l));
    sgad_tensor *x = tu_tensor(ctx, 1, 4, 2, 0), *y = tu_tensor(ctx, 1, 4, 3, 0);
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_layer_forward(l, x, NULL));
    float shared[20] = {0};
    const int64_t xd[3] = {1, 4, 2}, yd[3] = {1, 4, 3};
    sgad_tensor *xa, *ya;
    ASSERT_OK(ctx, sgad_tensor_wrap(ctx, 3, xd, shared, &xa));
    ASSERT_OK(ctx, sgad_tensor_wrap(ctx, 3, yd, shared + 4, &ya));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_layer_forward(l, xa, ya));
    ck_assert_ptr_nonnull(strstr(sgad_ctx_last_error(ctx), "share memory"));
    sgad_tensor_free(xa);
    sgad_tensor_free(ya);
    ASSERT_STATUS(SGAD_E_STATE, sgad_layer_backward(l, x, y, y, NULL));
    ck_assert_ptr_nonnull(strstr(sgad_ctx_last_error(ctx), "not run forward"));
    ASSERT_STATUS(SGAD_E_UNSUPPORTED, sgad_layer_set(l, SGAD_OPT_BN_EPS, 1e-3));
    ASSERT_STATUS(SGAD_E_UNSUPPORTED, sgad_layer_firing_rate(l, &(double){0}));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_layer_set_training(l, 2));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_layer_param(l, 2, NULL, NULL, NULL));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_layer_param(l, -1, NULL, NULL, NULL));
    sgad_tensor_free(x);
    sgad_tensor_free(y);
    sgad_layer_free(l);
    sgad_ctx_free(ctx);
}
END_TEST

/* Builds a small net and runs forward and backward; returns the first
 * failing status. */
static sgad_status build_and_run(sgad_ctx *ctx)
{
    sgad_net *net = NULL;
    sgad_layer *l = NULL;
    sgad_tensor *x = NULL, *dy = NULL, *dx = NULL;
    const int64_t xd[3] = {2, 3, 4}, yd[3] = {2, 3, 5};
    sgad_status s = sgad_net_create(ctx, &net);
    if (s == SGAD_OK)
        s = sgad_linear_create(ctx, 4, 5, 1, &l);
    if (s == SGAD_OK && (s = sgad_net_adopt(net, l)) != SGAD_OK)
        sgad_layer_free(l);
    if (s == SGAD_OK)
        s = sgad_batchnorm1d_create(ctx, 5, &l);
    if (s == SGAD_OK && (s = sgad_net_adopt(net, l)) != SGAD_OK)
        sgad_layer_free(l);
    if (s == SGAD_OK)
        s = sgad_tensor_create(ctx, 3, xd, &x);
    if (s == SGAD_OK)
        s = sgad_tensor_create(ctx, 3, yd, &dy);
    if (s == SGAD_OK)
        s = sgad_tensor_create(ctx, 3, xd, &dx);
    if (s == SGAD_OK)
        s = sgad_net_forward(net, x, NULL);
    if (s == SGAD_OK)
        s = sgad_net_backward(net, dy, dx);
    sgad_tensor_free(x);
    sgad_tensor_free(dy);
    sgad_tensor_free(dx);
    sgad_net_free(net);
    return s;
}

START_TEST(every_allocation_failure_is_reported_and_leaks_nothing)
{
    int failures = 0;
    for (int k = 0; k < 1000; k++) {
        failing_alloc fa = {k, 0};
        sgad_ctx *ctx = NULL;
        sgad_status s = sgad_ctx_create_ex(fa_alloc, fa_free, &fa, &ctx);
        if (s == SGAD_OK) {
            s = build_and_run(ctx);
            if (s != SGAD_OK)
                ck_assert_ptr_nonnull(strstr(sgad_ctx_last_error(ctx), "memory"));
            sgad_ctx_free(ctx);
        }
        ck_assert_int_eq(fa.live, 0);
        if (s == SGAD_OK) {
            ck_assert_int_gt(failures, 10); /* the loop did exercise failures */
            return;
        }
        ck_assert_int_eq(s, SGAD_E_NOMEM);
        failures++;
    }
    ck_abort_msg("never succeeded within 1000 allocations");
}
END_TEST

Suite *suite_core(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("api");
    tcase_add_test(tc, status_names_are_distinct_and_total);
    tcase_add_test(tc, version_matches_header);
    tcase_add_test(tc, ctx_settings_are_checked);
    tcase_add_test(tc, tensor_create_wrap_reshape);
    tcase_add_test(tc, tensor_rejects_bad_dims);
    tcase_add_test(tc, option_bounds_are_defined);
    tcase_add_test(tc, layer_calls_reject_null_and_misuse);
    tcase_add_test(tc, every_allocation_failure_is_reported_and_leaks_nothing);
    suite_add_tcase(s, tc);
    return s;
}
