/* SPDX-License-Identifier: MIT */
/* Linear, batch norm, sigmoid, leaky ReLU and reshape: values against
 * plain loops, gradients against finite differences, bad shapes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "kernels/exp.h" /* src/: the sigmoid's e^x */
#include "test_util.h"

static sgad_layer *make_linear(sgad_ctx *ctx, int in, int out, int bias)
{
    sgad_layer *l = NULL;
    ASSERT_OK(ctx, sgad_linear_create(ctx, in, out, bias, &l));
    return l;
}

START_TEST(linear_matches_plain_loops)
{
    sgad_ctx *ctx = tu_ctx(7);
    sgad_layer *l = make_linear(ctx, 5, 3, 1);
    sgad_tensor *w, *b;
    ASSERT_OK(ctx, sgad_layer_param(l, 0, NULL, &w, NULL));
    ASSERT_OK(ctx, sgad_layer_param(l, 1, NULL, &b, NULL));
    ck_assert_int_eq(sgad_tensor_dim(w, 0), 3); /* PyTorch layout [out, in] */
    ck_assert_int_eq(sgad_tensor_dim(w, 1), 5);
    sgad_tensor *x = tu_tensor(ctx, 2, 4, 5, 0), *y = tu_tensor(ctx, 2, 4, 3, 0);
    uint64_t rng = 3;
    tu_fill_uniform(sgad_tensor_data(x), 40, -1, 1, &rng);
    ASSERT_OK(ctx, sgad_layer_forward(l, x, y));
    const float *W = sgad_tensor_data(w), *B = sgad_tensor_data(b), *X = sgad_tensor_data(x);
    for (int r = 0; r < 8; r++)
        for (int o = 0; o < 3; o++) {
            double want = B[o];
            for (int i = 0; i < 5; i++)
                want += (double)W[o * 5 + i] * X[r * 5 + i];
            ck_assert_double_eq_tol(sgad_tensor_data(y)[r * 3 + o], want, 1e-5);
        }
    sgad_tensor_free(x);
    sgad_tensor_free(y);
    sgad_layer_free(l);
    sgad_ctx_free(ctx);
}
END_TEST

START_TEST(linear_init_is_seeded_and_bounded)
{
    sgad_ctx *a = tu_ctx(11), *b = tu_ctx(11), *c = tu_ctx(12);
    sgad_layer *la = make_linear(a, 16, 8, 1), *lb = make_linear(b, 16, 8, 1);
    sgad_layer *lc = make_linear(c, 16, 8, 1);
    sgad_tensor *wa, *wb, *wc;
    ASSERT_OK(a, sgad_layer_param(la, 0, NULL, &wa, NULL));
    ASSERT_OK(b, sgad_layer_param(lb, 0, NULL, &wb, NULL));
    ASSERT_OK(c, sgad_layer_param(lc, 0, NULL, &wc, NULL));
    ck_assert_mem_eq(sgad_tensor_data(wa), sgad_tensor_data(wb), 128 * sizeof(float));
    ck_assert(memcmp(sgad_tensor_data(wa), sgad_tensor_data(wc), 128 * sizeof(float)) != 0);
    double lo = 1, hi = -1;
    for (int i = 0; i < 128; i++) {
        const double v = sgad_tensor_data(wa)[i];
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    /* U(-1/4, 1/4) for 16 inputs: 128 draws come close to both ends. */
    ck_assert(lo >= -0.25 && lo < -0.2 && hi <= 0.25 && hi > 0.2);
    sgad_layer_free(la);
    sgad_layer_free(lb);
    sgad_layer_free(lc);
    sgad_ctx_free(a);
    sgad_ctx_free(b);
    sgad_ctx_free(c);
}
END_TEST

START_TEST(linear_gradients)
{
    sgad_ctx *ctx = tu_ctx(1);
    const gc_opts o = gc_default();
    const int64_t shapes[][3] = {{1, 1, 7}, {3, 2, 7}, {1, 5, 7}, {4, 1, 7}};
    for (int bias = 0; bias <= 1; bias++) {
        sgad_layer *l = make_linear(ctx, 7, 4, bias);
        for (int i = 0; i < 4; i++)
            gc_check_layer(l, 3, shapes[i], &o);
        sgad_layer_free(l);
    }
    sgad_ctx_free(ctx);
}
END_TEST

START_TEST(linear_rejects_wrong_features)
{
    sgad_ctx *ctx = tu_ctx(1);
    sgad_layer *l = make_linear(ctx, 6, 2, 1);
    sgad_tensor *x = tu_tensor(ctx, 2, 3, 5, 0), *y = tu_tensor(ctx, 2, 3, 2, 0);
    ASSERT_STATUS(SGAD_E_SHAPE, sgad_layer_forward(l, x, y));
    ck_assert_ptr_nonnull(strstr(sgad_ctx_last_error(ctx), "[2, 3, 5]"));
    sgad_tensor *x6 = tu_tensor(ctx, 2, 3, 6, 0), *y3 = tu_tensor(ctx, 2, 3, 3, 0);
    ASSERT_STATUS(SGAD_E_SHAPE, sgad_layer_forward(l, x6, y3));
    ck_assert_ptr_nonnull(strstr(sgad_ctx_last_error(ctx), "expected [2, 3, 2]"));
    sgad_tensor *img = tu_tensor(ctx, 2, 3, 1, 2, 3, 0);
    ASSERT_STATUS(SGAD_E_SHAPE, sgad_layer_forward(l, img, y));
    sgad_tensor_free(x);
    sgad_tensor_free(y);
    sgad_tensor_free(x6);
    sgad_tensor_free(y3);
    sgad_tensor_free(img);
    sgad_layer_free(l);
    sgad_ctx_free(ctx);
}
END_TEST

/* Batch norm: per-step statistics, running stats T times, eval mode. */
START_TEST(batchnorm_normalises_each_step)
{
    sgad_ctx *ctx = tu_ctx(1);
    sgad_layer *bn = NULL;
    ASSERT_OK(ctx, sgad_batchnorm2d_create(ctx, 2, &bn));
    sgad_tensor *x = tu_tensor(ctx, 3, 4, 2, 2, 3, 0), *y = tu_tensor(ctx, 3, 4, 2, 2, 3, 0);
    float *X = sgad_tensor_data(x);
    uint64_t rng = 9;
    tu_fill_uniform(X, sgad_tensor_numel(x), 0, 4, &rng);
    for (int64_t i = 0; i < 48; i++)
        X[48 + i] += 10.0f; /* step 1 has a very different mean */
    ASSERT_OK(ctx, sgad_layer_forward(bn, x, y));
    const float *Y = sgad_tensor_data(y);
    double run_mean[2] = {0, 0}, run_var[2] = {1, 1};
    for (int t = 0; t < 3; t++)
        for (int c = 0; c < 2; c++) {
            double m = 0, v = 0, ym = 0, yv = 0;
            for (int n = 0; n < 4; n++)
                for (int s = 0; s < 6; s++) {
                    const int i = ((t * 4 + n) * 2 + c) * 6 + s;
                    m += X[i] / 24.0;
                    ym += Y[i] / 24.0;
                }
            for (int n = 0; n < 4; n++)
                for (int s = 0; s < 6; s++) {
                    const int i = ((t * 4 + n) * 2 + c) * 6 + s;
                    v += (X[i] - m) * (X[i] - m) / 24.0;
                    yv += (Y[i] - ym) * (Y[i] - ym) / 24.0;
                }
            ck_assert_double_eq_tol(ym, 0.0, 1e-5);
            ck_assert_double_eq_tol(yv, v / (v + 1e-5), 1e-4);
            run_mean[c] = 0.9 * run_mean[c] + 0.1 * m;
            run_var[c] = 0.9 * run_var[c] + 0.1 * v * 24.0 / 23.0;
        }
    sgad_tensor *rm, *rv;
    ASSERT_OK(ctx, sgad_layer_param(bn, 2, NULL, &rm, NULL));
    ASSERT_OK(ctx, sgad_layer_param(bn, 3, NULL, &rv, NULL));
    for (int c = 0; c < 2; c++) {
        ck_assert_double_eq_tol(sgad_tensor_data(rm)[c], run_mean[c], 1e-5);
        ck_assert_double_eq_tol(sgad_tensor_data(rv)[c], run_var[c], 1e-4);
    }
    /* Evaluation uses the running statistics. */
    ASSERT_OK(ctx, sgad_layer_set_training(bn, 0));
    ASSERT_OK(ctx, sgad_layer_forward(bn, x, y));
    const float want = (float)((X[5] - run_mean[0]) / sqrt(run_var[0] + 1e-5));
    ck_assert_float_eq_tol(Y[5], want, 1e-5f);
    sgad_tensor_free(x);
    sgad_tensor_free(y);
    sgad_layer_free(bn);
    sgad_ctx_free(ctx);
}
END_TEST

static void randomise_affine(sgad_ctx *ctx, sgad_layer *bn, uint64_t *rng)
{
    for (int i = 0; i < 2; i++) {
        sgad_tensor *p;
        ASSERT_OK(ctx, sgad_layer_param(bn, i, NULL, &p, NULL));
        tu_fill_uniform(sgad_tensor_data(p), sgad_tensor_numel(p), 0.5f, 1.5f, rng);
    }
}

START_TEST(batchnorm_gradients)
{
    sgad_ctx *ctx = tu_ctx(1);
    gc_opts o = gc_default();
    uint64_t rng = 5;
    sgad_layer *bn1 = NULL, *bn2 = NULL;
    ASSERT_OK(ctx, sgad_batchnorm1d_create(ctx, 3, &bn1));
    ASSERT_OK(ctx, sgad_batchnorm2d_create(ctx, 2, &bn2));
    randomise_affine(ctx, bn1, &rng);
    randomise_affine(ctx, bn2, &rng);
    /* Normalisation divides by the batch std: keep inputs spread out and the
     * step small so the difference quotient stays in the smooth regime. */
    o.eps = 3e-3f;
    o.x_lo = -2;
    o.x_hi = 2;
    const int64_t d1[][3] = {{1, 4, 3}, {3, 5, 3}, {2, 2, 3}};
    for (int i = 0; i < 3; i++)
        gc_check_layer(bn1, 3, d1[i], &o);
    const int64_t d2[][5] = {{1, 2, 2, 3, 2}, {3, 1, 2, 3, 4}, {2, 3, 2, 1, 1}};
    for (int i = 0; i < 3; i++)
        gc_check_layer(bn2, 5, d2[i], &o);
    ASSERT_OK(ctx, sgad_layer_set_training(bn2, 0));
    gc_check_layer(bn2, 5, d2[1], &o);
    sgad_layer_free(bn1);
    sgad_layer_free(bn2);
    sgad_ctx_free(ctx);
}
END_TEST

START_TEST(batchnorm_rejects_bad_input)
{
    sgad_ctx *ctx = tu_ctx(1);
    sgad_layer *bn = NULL;
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_batchnorm1d_create(ctx, 0, &bn));
    ASSERT_OK(ctx, sgad_batchnorm1d_create(ctx, 4, &bn));
    sgad_tensor *one = tu_tensor(ctx, 2, 1, 4, 0), *y1 = tu_tensor(ctx, 2, 1, 4, 0);
    ASSERT_STATUS(SGAD_E_SHAPE, sgad_layer_forward(bn, one, y1));
    ck_assert_ptr_nonnull(strstr(sgad_ctx_last_error(ctx), "more than 1 value"));
    ASSERT_OK(ctx, sgad_layer_set_training(bn, 0));
    ASSERT_OK(ctx, sgad_layer_forward(bn, one, y1)); /* fine in evaluation */
    sgad_tensor *x5 = tu_tensor(ctx, 2, 3, 5, 0);
    ASSERT_STATUS(SGAD_E_SHAPE, sgad_layer_forward(bn, x5, x5));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_layer_set(bn, SGAD_OPT_BN_MOMENTUM, 1.5));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_layer_set(bn, SGAD_OPT_BN_EPS, NAN));
    ASSERT_OK(ctx, sgad_layer_set(bn, SGAD_OPT_BN_MOMENTUM, 0.5));
    double v;
    ASSERT_OK(ctx, sgad_layer_get(bn, SGAD_OPT_BN_MOMENTUM, &v));
    ck_assert_double_eq(v, 0.5);
    ASSERT_STATUS(SGAD_E_UNSUPPORTED, sgad_layer_set(bn, SGAD_OPT_NEURON_TAU, 3));
    sgad_tensor_free(one);
    sgad_tensor_free(y1);
    sgad_tensor_free(x5);
    sgad_layer_free(bn);
    sgad_ctx_free(ctx);
}
END_TEST

START_TEST(activations_values_and_gradients)
{
    sgad_ctx *ctx = tu_ctx(1);
    sgad_layer *sig = NULL, *leaky = NULL;
    ASSERT_OK(ctx, sgad_sigmoid_create(ctx, &sig));
    ASSERT_OK(ctx, sgad_leaky_relu_create(ctx, 0.2, &leaky));
    sgad_tensor *x = tu_tensor(ctx, 1, 1, 3, 0), *y = tu_tensor(ctx, 1, 1, 3, 0);
    const float xs[3] = {-2.0f, 0.0f, 3.0f};
    memcpy(sgad_tensor_data(x), xs, sizeof xs);
    ASSERT_OK(ctx, sgad_layer_forward(sig, x, y));
    ck_assert_float_eq_tol(sgad_tensor_data(y)[0], 0.11920292f, 1e-7f);
    ck_assert_float_eq_tol(sgad_tensor_data(y)[1], 0.5f, 1e-7f);
    ASSERT_OK(ctx, sgad_layer_forward(leaky, x, y));
    ck_assert_float_eq(sgad_tensor_data(y)[0], -0.4f);
    ck_assert_float_eq(sgad_tensor_data(y)[2], 3.0f);
    double slope;
    ASSERT_OK(ctx, sgad_layer_get(leaky, SGAD_OPT_LEAKY_SLOPE, &slope));
    ck_assert_double_eq_tol(slope, 0.2, 1e-7);
    sgad_layer *rejected = NULL;
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_leaky_relu_create(ctx, -1, &rejected));
    ck_assert_ptr_null(rejected);

    gc_opts o = gc_default();
    o.x_lo = -4;
    o.x_hi = 4;
    const int64_t d[][5] = {{1, 1, 5, 0, 0}, {3, 2, 2, 3, 4}};
    gc_check_layer(sig, 3, d[0], &o);
    gc_check_layer(sig, 5, d[1], &o);
    o.kink = 0.05f; /* leaky ReLU has a kink at 0: stay 5 steps away */
    gc_check_layer(leaky, 3, d[0], &o);
    gc_check_layer(leaky, 5, d[1], &o);
    sgad_tensor_free(x);
    sgad_tensor_free(y);
    sgad_layer_free(sig);
    sgad_layer_free(leaky);
    sgad_ctx_free(ctx);
}
END_TEST

/* Units in the last place of the float nearest `exact`, by which `got`
 * misses it. */
static double ulps_off(float got, double exact)
{
    const float near = (float)exact;
    const double ulp = (double)nextafterf(fabsf(near), INFINITY) - fabs((double)near);
    return fabs((double)got - exact) / ulp;
}

/* The sigmoid's e^x (src/exp.h): within 1 ulp of double exp over its
 * whole range, the eight-lane form the same bits as the scalar one (NaN,
 * infinities and the clamped tails included), and the layer's tails and
 * NaN right. */
START_TEST(exp_within_an_ulp_and_sigmoid_tails)
{
    double worst = 0;
    for (int i = 0; i <= 1750000; i++) {
        const float x = -87.0f + (float)i * 1e-4f;
        const double off = ulps_off(sgad__exp(x), exp((double)x));
        worst = off > worst ? off : worst;
    }
    ck_assert_msg(worst <= 1.0, "e^x misses by %.2f ulp", worst);

    float xs[64] = {NAN, INFINITY, -INFINITY, -100.0f, 100.0f, -87.5f, 88.5f, -0.0f};
    uint64_t state = 3;
    tu_fill_uniform(xs + 8, 56, -90.0f, 90.0f, &state);
    for (int i = 0; i < 64; i += 8) {
        sgad__v8 v;
        SGAD__LOAD8(v, xs + i);
        sgad__exp8(&v);
        float lanes[8];
        SGAD__STORE8(lanes, v);
        for (int k = 0; k < 8; k++) {
            const float one = sgad__exp(xs[i + k]);
            ck_assert_msg(memcmp(&one, &lanes[k], sizeof one) == 0, "e^%g: lane %g, scalar %g",
                          (double)xs[i + k], (double)lanes[k], (double)one);
        }
    }

    /* 1003 values: eight-lane blocks and a tail of 3 */
    sgad_ctx *ctx = tu_ctx(1);
    sgad_layer *sig = NULL;
    ASSERT_OK(ctx, sgad_sigmoid_create(ctx, &sig));
    sgad_tensor *x = tu_tensor(ctx, 1, 1, 1003, 0), *y = tu_tensor(ctx, 1, 1, 1003, 0);
    float *px = sgad_tensor_data(x);
    tu_fill_uniform(px, 1003, -20.0f, 20.0f, &state);
    const float tails[6] = {-1000.0f, -90.0f, 90.0f, 1000.0f, -INFINITY, INFINITY};
    memcpy(px + 16, tails, sizeof tails);
    memcpy(px + 1000, tails, 3 * sizeof *tails);
    px[7] = px[1002] = NAN;
    ASSERT_OK(ctx, sgad_layer_forward(sig, x, y));
    const float *py = sgad_tensor_data(y);
    for (int i = 0; i < 1003; i++) {
        if (isnan(px[i])) {
            ck_assert_msg(isnan(py[i]), "sigmoid(NaN) = %g at %d", (double)py[i], i);
            continue;
        }
        const double want = 1.0 / (1.0 + exp(-(double)px[i]));
        ck_assert_msg(py[i] >= 0.0f && py[i] <= 1.0f && fabs(py[i] - want) <= 3e-7 * want + 1e-37,
                      "sigmoid(%g) = %.9g, want %.9g", (double)px[i], (double)py[i], want);
    }
    ck_assert_float_eq(py[19], 1.0f); /* sigmoid(1000) */
    sgad_tensor_free(x);
    sgad_tensor_free(y);
    sgad_layer_free(sig);
    sgad_ctx_free(ctx);
}
END_TEST

START_TEST(reshape_flattens_and_checks_counts)
{
    sgad_ctx *ctx = tu_ctx(1);
    const int64_t img[3] = {2, 3, 4}, flat[1] = {24}, wrong[1] = {25};
    sgad_layer *r = NULL;
    ASSERT_OK(ctx, sgad_reshape_create(ctx, 3, img, &r));
    int ndim;
    int64_t out[SGAD_MAX_DIMS];
    const int64_t in[3] = {5, 2, 24};
    ASSERT_OK(ctx, sgad_layer_output_dims(r, 3, in, &ndim, out));
    ck_assert_int_eq(ndim, 5);
    ck_assert(out[0] == 5 && out[1] == 2 && out[2] == 2 && out[3] == 3 && out[4] == 4);
    const int64_t bad_in[3] = {5, 2, 23};
    ASSERT_STATUS(SGAD_E_SHAPE, sgad_layer_output_dims(r, 3, bad_in, &ndim, out));
    gc_opts o = gc_default();
    gc_check_layer(r, 3, in, &o);
    sgad_layer_free(r);
    ASSERT_OK(ctx, sgad_reshape_create(ctx, 1, flat, &r));
    sgad_layer_free(r);
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_reshape_create(ctx, 0, wrong, &r));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_reshape_create(ctx, 1, NULL, &r));
    sgad_ctx_free(ctx);
}
END_TEST

/* One run of a linear layer on a fixed input at `threads` threads: y, dx,
 * dW and db, in one buffer. */
static float *linear_run(int threads, int in, int out, int rows, int64_t *n)
{
    sgad_ctx *ctx = tu_ctx(17);
    ASSERT_OK(ctx, sgad_ctx_set_threads(ctx, threads));
    sgad_layer *l = make_linear(ctx, in, out, 1);
    sgad_tensor *x = tu_tensor(ctx, 1, rows, in, 0), *dx = tu_tensor(ctx, 1, rows, in, 0);
    sgad_tensor *y = tu_tensor(ctx, 1, rows, out, 0), *dy = tu_tensor(ctx, 1, rows, out, 0);
    uint64_t rng = 29;
    tu_fill_uniform(sgad_tensor_data(x), (int64_t)rows * in, -1, 1, &rng);
    tu_fill_uniform(sgad_tensor_data(dy), (int64_t)rows * out, -1, 1, &rng);
    sgad_layer_zero_grad(l);
    ASSERT_OK(ctx, sgad_layer_forward(l, x, y));
    ASSERT_OK(ctx, sgad_layer_backward(l, x, y, dy, dx));
    sgad_tensor *dw, *db;
    ASSERT_OK(ctx, sgad_layer_param(l, 0, NULL, NULL, &dw));
    ASSERT_OK(ctx, sgad_layer_param(l, 1, NULL, NULL, &db));
    const sgad_tensor *parts[] = {y, dx, dw, db};
    *n = 0;
    for (int i = 0; i < 4; i++)
        *n += sgad_tensor_numel(parts[i]);
    float *all = malloc((size_t)*n * sizeof *all), *p = all;
    ck_assert_ptr_nonnull(all);
    for (int i = 0; i < 4; i++) {
        memcpy(p, sgad_tensor_data(parts[i]), (size_t)sgad_tensor_numel(parts[i]) * sizeof *p);
        p += sgad_tensor_numel(parts[i]);
    }
    sgad_tensor_free(x);
    sgad_tensor_free(dx);
    sgad_tensor_free(y);
    sgad_tensor_free(dy);
    sgad_layer_free(l);
    sgad_ctx_free(ctx);
    return all;
}

/* Products with a small output (at most 16384 values) and enough work are
 * split into bands of rows, one per thread: a forward of 64 rows into 200
 * outputs (odd widths and 21/21/22-row bands at 3 threads) and a weight
 * gradient of 32 x 25 summed over 4096 rows give the same bits at 1, 2
 * and 3 threads. */
START_TEST(small_products_same_bits_at_any_thread_count)
{
    static const int shapes[2][3] = {{784, 200, 64}, {25, 32, 4096}}; /* in, out, rows */
    for (int s = 0; s < 2; s++) {
        int64_t n1, n;
        float *one = linear_run(1, shapes[s][0], shapes[s][1], shapes[s][2], &n1);
        for (int threads = 2; threads <= 3; threads++) {
            float *more = linear_run(threads, shapes[s][0], shapes[s][1], shapes[s][2], &n);
            ck_assert(n == n1);
            ck_assert_msg(memcmp(one, more, (size_t)n * sizeof *one) == 0,
                          "linear %d -> %d on %d rows: %d threads differ from 1", shapes[s][0],
                          shapes[s][1], shapes[s][2], threads);
            free(more);
        }
        free(one);
    }
}
END_TEST

Suite *suite_layers(void)
{
    Suite *s = suite_create("layers");
    TCase *tc = tcase_create("dense");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, linear_matches_plain_loops);
    tcase_add_test(tc, linear_init_is_seeded_and_bounded);
    tcase_add_test(tc, linear_gradients);
    tcase_add_test(tc, linear_rejects_wrong_features);
    tcase_add_test(tc, batchnorm_normalises_each_step);
    tcase_add_test(tc, batchnorm_gradients);
    tcase_add_test(tc, batchnorm_rejects_bad_input);
    tcase_add_test(tc, activations_values_and_gradients);
    tcase_add_test(tc, exp_within_an_ulp_and_sigmoid_tails);
    tcase_add_test(tc, reshape_flattens_and_checks_counts);
    tcase_add_test(tc, small_products_same_bits_at_any_thread_count);
    suite_add_tcase(s, tc);
    return s;
}
