/* Convolution, transposed convolution and average pooling: outputs against
 * direct loops, gradients against finite differences at several shapes. */
#include <string.h>

#include "gradcheck.h"
#include "test_util.h"

/* Direct conv2d of one sample: y[o][oy][ox]. */
static double naive_conv(const float *x, const float *w, const float *b, int C, int H, int W,
                         int k, int s, int p, int o, int oy, int ox)
{
    double sum = b ? b[o] : 0.0;
    for (int c = 0; c < C; c++)
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++) {
                const int y = oy * s - p + i, xx = ox * s - p + j;
                if (y >= 0 && y < H && xx >= 0 && xx < W)
                    sum += (double)w[((o * C + c) * k + i) * k + j] * x[(c * H + y) * W + xx];
            }
    return sum;
}

static sgad_tensor *param(sgad_ctx *ctx, sgad_layer *l, int i)
{
    sgad_tensor *t;
    ASSERT_OK(ctx, sgad_layer_param(l, i, NULL, &t, NULL));
    return t;
}

START_TEST(conv2d_matches_direct_loops)
{
    sgad_ctx *ctx = tu_ctx(2);
    const int C = 3, O = 4, H = 7, W = 5, k = 3, s = 2, p = 1, OH = 4, OW = 3;
    sgad_layer *l = NULL;
    ASSERT_OK(ctx, sgad_conv2d_create(ctx, C, O, k, s, p, 1, &l));
    sgad_tensor *x = tu_tensor(ctx, 2, 3, C, H, W, 0), *y = tu_tensor(ctx, 2, 3, O, OH, OW, 0);
    uint64_t rng = 7;
    tu_fill_uniform(sgad_tensor_data(x), sgad_tensor_numel(x), -1, 1, &rng);
    ASSERT_OK(ctx, sgad_layer_forward(l, x, y));
    const float *w = sgad_tensor_data(param(ctx, l, 0)), *b = sgad_tensor_data(param(ctx, l, 1));
    for (int n = 0; n < 6; n++)
        for (int o = 0; o < O; o++)
            for (int oy = 0; oy < OH; oy++)
                for (int ox = 0; ox < OW; ox++) {
                    const double want = naive_conv(sgad_tensor_data(x) + n * C * H * W, w, b, C,
                                                   H, W, k, s, p, o, oy, ox);
                    const float got = sgad_tensor_data(y)[((n * O + o) * OH + oy) * OW + ox];
                    ck_assert_double_eq_tol(got, want, 1e-5);
                }
    sgad_tensor_free(x);
    sgad_tensor_free(y);
    sgad_layer_free(l);
    sgad_ctx_free(ctx);
}
END_TEST

/* The transposed convolution is the adjoint of the convolution with the
 * same weight: <convT(u), v> = <u, conv(v)> when biases are zero. */
START_TEST(convt2d_is_the_adjoint_of_conv2d)
{
    sgad_ctx *ctx = tu_ctx(3);
    sgad_layer *conv = NULL, *convt = NULL;
    ASSERT_OK(ctx, sgad_conv2d_create(ctx, 2, 3, 4, 2, 1, 0, &conv));
    ASSERT_OK(ctx, sgad_convt2d_create(ctx, 3, 2, 4, 2, 1, 0, &convt));
    memcpy(sgad_tensor_data(param(ctx, convt, 0)), sgad_tensor_data(param(ctx, conv, 0)),
           3 * 2 * 16 * sizeof(float));
    sgad_tensor *u = tu_tensor(ctx, 1, 2, 3, 4, 3, 0), *cu = tu_tensor(ctx, 1, 2, 2, 8, 6, 0);
    sgad_tensor *v = tu_tensor(ctx, 1, 2, 2, 8, 6, 0), *cv = tu_tensor(ctx, 1, 2, 3, 4, 3, 0);
    uint64_t rng = 1;
    tu_fill_uniform(sgad_tensor_data(u), 72, -1, 1, &rng);
    tu_fill_uniform(sgad_tensor_data(v), 192, -1, 1, &rng);
    ASSERT_OK(ctx, sgad_layer_forward(convt, u, cu));
    ASSERT_OK(ctx, sgad_layer_forward(conv, v, cv));
    double lhs = 0, rhs = 0;
    for (int i = 0; i < 192; i++)
        lhs += (double)sgad_tensor_data(cu)[i] * sgad_tensor_data(v)[i];
    for (int i = 0; i < 72; i++)
        rhs += (double)sgad_tensor_data(u)[i] * sgad_tensor_data(cv)[i];
    ck_assert_double_eq_tol(lhs, rhs, 1e-4 * (1 + (lhs < 0 ? -lhs : lhs)));
    sgad_tensor_free(u);
    sgad_tensor_free(cu);
    sgad_tensor_free(v);
    sgad_tensor_free(cv);
    sgad_layer_free(conv);
    sgad_layer_free(convt);
    sgad_ctx_free(ctx);
}
END_TEST

START_TEST(output_shapes_of_sgad_layers)
{
    sgad_ctx *ctx = tu_ctx(1);
    sgad_layer *c = NULL, *t = NULL, *p = NULL;
    ASSERT_OK(ctx, sgad_conv2d_create(ctx, 1, 32, 5, 1, 0, 1, &c));
    ASSERT_OK(ctx, sgad_convt2d_create(ctx, 128, 64, 4, 2, 1, 1, &t));
    ASSERT_OK(ctx, sgad_avgpool2d_create(ctx, 2, 0, 0, &p));
    int nd;
    int64_t od[SGAD_MAX_DIMS];
    const int64_t img[5] = {16, 64, 1, 28, 28}, g[5] = {16, 64, 128, 7, 7};
    const int64_t f[5] = {16, 64, 32, 24, 24};
    ASSERT_OK(ctx, sgad_layer_output_dims(c, 5, img, &nd, od));
    ck_assert(od[2] == 32 && od[3] == 24 && od[4] == 24);
    ASSERT_OK(ctx, sgad_layer_output_dims(t, 5, g, &nd, od));
    ck_assert(od[2] == 64 && od[3] == 14 && od[4] == 14);
    ASSERT_OK(ctx, sgad_layer_output_dims(p, 5, f, &nd, od));
    ck_assert(od[2] == 32 && od[3] == 12 && od[4] == 12);
    const int64_t small[5] = {1, 1, 1, 3, 3}, wrong_c[5] = {1, 1, 2, 28, 28};
    ASSERT_STATUS(SGAD_E_SHAPE, sgad_layer_output_dims(c, 5, small, &nd, od));
    ck_assert_ptr_nonnull(strstr(sgad_ctx_last_error(ctx), "gives no output"));
    ASSERT_STATUS(SGAD_E_SHAPE, sgad_layer_output_dims(c, 5, wrong_c, &nd, od));
    sgad_layer *bad = NULL;
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_conv2d_create(ctx, 0, 1, 3, 1, 0, 1, &bad));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_convt2d_create(ctx, 1, 1, 3, 0, 0, 1, &bad));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_avgpool2d_create(ctx, 2, 2, 2, &bad));
    ck_assert_ptr_null(bad);
    sgad_layer_free(c);
    sgad_layer_free(t);
    sgad_layer_free(p);
    sgad_ctx_free(ctx);
}
END_TEST

typedef struct conv_case {
    int transposed, cin, cout, k, s, p, bias;
    int64_t dims[5];
} conv_case;

START_TEST(conv_gradients)
{
    sgad_ctx *ctx = tu_ctx(4);
    const gc_opts o = gc_default();
    const conv_case cases[] = {
        {0, 1, 2, 3, 1, 0, 1, {1, 1, 1, 5, 4}},  {0, 2, 3, 3, 2, 1, 1, {2, 3, 2, 7, 5}},
        {0, 3, 2, 1, 1, 0, 0, {3, 2, 3, 3, 4}},  {0, 2, 2, 5, 1, 2, 1, {1, 2, 2, 6, 6}},
        {1, 2, 1, 4, 2, 1, 1, {1, 1, 2, 3, 4}},  {1, 3, 2, 3, 1, 0, 1, {2, 3, 3, 4, 3}},
        {1, 2, 3, 4, 2, 1, 0, {3, 2, 2, 2, 3}},  {1, 1, 2, 1, 1, 0, 1, {1, 2, 1, 3, 3}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const conv_case *c = &cases[i];
        sgad_layer *l = NULL;
        if (c->transposed)
            ASSERT_OK(ctx, sgad_convt2d_create(ctx, c->cin, c->cout, c->k, c->s, c->p, c->bias,
                                               &l));
        else
            ASSERT_OK(ctx, sgad_conv2d_create(ctx, c->cin, c->cout, c->k, c->s, c->p, c->bias,
                                              &l));
        gc_check_layer(l, 5, c->dims, &o);
        sgad_layer_free(l);
    }
    sgad_ctx_free(ctx);
}
END_TEST

/* Enough samples that the 8 MiB column budget splits them into chunks. */
START_TEST(conv_chunks_agree_with_one_pass)
{
    sgad_ctx *ctx = tu_ctx(5);
    sgad_layer *l = NULL;
    ASSERT_OK(ctx, sgad_conv2d_create(ctx, 8, 4, 3, 1, 1, 1, &l));
    /* 8*9 rows x 32*32 columns x 4 bytes = 288 KiB per sample: 28 per chunk, so 70 samples take 3 chunks. */
    sgad_tensor *x = tu_tensor(ctx, 2, 35, 8, 32, 32, 0), *y = tu_tensor(ctx, 2, 35, 4, 32, 32, 0);
    uint64_t rng = 3;
    tu_fill_uniform(sgad_tensor_data(x), sgad_tensor_numel(x), -1, 1, &rng);
    ASSERT_OK(ctx, sgad_layer_forward(l, x, y));
    const float *w = sgad_tensor_data(param(ctx, l, 0)), *b = sgad_tensor_data(param(ctx, l, 1));
    for (int n = 0; n < 70; n += 23)
        for (int o = 0; o < 4; o++) {
            const double want = naive_conv(sgad_tensor_data(x) + n * 8 * 1024, w, b, 8, 32, 32, 3,
                                           1, 1, o, 17, 9);
            ck_assert_double_eq_tol(sgad_tensor_data(y)[((n * 4 + o) * 32 + 17) * 32 + 9], want,
                                    1e-5);
        }
    sgad_tensor_free(x);
    sgad_tensor_free(y);
    sgad_layer_free(l);
    sgad_ctx_free(ctx);
}
END_TEST

START_TEST(avgpool_values_and_gradients)
{
    sgad_ctx *ctx = tu_ctx(1);
    sgad_layer *p2 = NULL, *p3 = NULL;
    ASSERT_OK(ctx, sgad_avgpool2d_create(ctx, 2, 0, 0, &p2));
    ASSERT_OK(ctx, sgad_avgpool2d_create(ctx, 3, 2, 1, &p3));
    sgad_tensor *x = tu_tensor(ctx, 1, 1, 1, 2, 4, 0), *y = tu_tensor(ctx, 1, 1, 1, 1, 2, 0);
    const float xs[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    memcpy(sgad_tensor_data(x), xs, sizeof xs);
    ASSERT_OK(ctx, sgad_layer_forward(p2, x, y));
    ck_assert_float_eq(sgad_tensor_data(y)[0], 3.5f);
    ck_assert_float_eq(sgad_tensor_data(y)[1], 5.5f);
    const gc_opts o = gc_default();
    const int64_t d1[5] = {2, 3, 2, 4, 6}, d2[5] = {1, 1, 1, 5, 7};
    gc_check_layer(p2, 5, d1, &o);
    gc_check_layer(p3, 5, d1, &o);
    gc_check_layer(p3, 5, d2, &o);
    sgad_tensor_free(x);
    sgad_tensor_free(y);
    sgad_layer_free(p2);
    sgad_layer_free(p3);
    sgad_ctx_free(ctx);
}
END_TEST

Suite *suite_conv(void)
{
    Suite *s = suite_create("conv");
    TCase *tc = tcase_create("conv");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, conv2d_matches_direct_loops);
    tcase_add_test(tc, convt2d_is_the_adjoint_of_conv2d);
    tcase_add_test(tc, output_shapes_of_sgad_layers);
    tcase_add_test(tc, conv_gradients);
    tcase_add_test(tc, conv_chunks_agree_with_one_pass);
    tcase_add_test(tc, avgpool_values_and_gradients);
    suite_add_tcase(s, tc);
    return s;
}
