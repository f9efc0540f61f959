/* SPDX-License-Identifier: MIT */
/* Convolution, transposed convolution and average pooling: outputs against
 * direct loops written from the definitions, gradients against finite
 * differences, chunked runs against sample-by-sample runs, shapes, weight
 * initialisation and errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "test_util.h"

enum { CONV, CONVT, POOL };

/* One layer configuration at one input shape [T, N, cin, h, w]. */
typedef struct conv_case {
    int kind, cin, cout, k, s, p, bias;
    int t, n, h, w;
} conv_case;

static sgad_layer *make_layer(sgad_ctx *ctx, const conv_case *c)
{
    sgad_layer *l = NULL;
    if (c->kind == CONV)
        ASSERT_OK(ctx, sgad_conv2d_create(ctx, c->cin, c->cout, c->k, c->s, c->p, c->bias, &l));
    else if (c->kind == CONVT)
        ASSERT_OK(ctx, sgad_convt2d_create(ctx, c->cin, c->cout, c->k, c->s, c->p, c->bias, &l));
    else
        ASSERT_OK(ctx, sgad_avgpool2d_create(ctx, c->k, c->s, c->p, &l));
    return l;
}

/* Output size along one axis, from the formulas in layer.h (pooling with
 * stride 0 means stride = kernel). */
static int out_size(const conv_case *c, int n)
{
    const int s = c->s ? c->s : c->k;
    if (c->kind == CONVT)
        return (n - 1) * s - 2 * c->p + c->k;
    return (n + 2 * c->p - c->k) / s + 1;
}

static int out_channels(const conv_case *c)
{
    return c->kind == POOL ? c->cin : c->cout;
}

static const float *param_data(sgad_ctx *ctx, sgad_layer *l, int i)
{
    sgad_tensor *t = NULL;
    ASSERT_OK(ctx, sgad_layer_param(l, i, NULL, &t, NULL));
    return sgad_tensor_data(t);
}

static float *grad_data(sgad_ctx *ctx, sgad_layer *l, int i)
{
    sgad_tensor *g = NULL;
    ASSERT_OK(ctx, sgad_layer_param(l, i, NULL, NULL, &g));
    return sgad_tensor_data(g);
}

/* ---- direct loops --------------------------------------------------------- */

/* y[n][o][oy][ox] = b[o] + sum_{c,i,j} w[o][c][i][j] x[n][c][oy*s-p+i][ox*s-p+j]. */
static void naive_conv2d(const conv_case *c, const float *x, const float *w, const float *b,
                         double *y)
{
    const int S = c->t * c->n, oh = out_size(c, c->h), ow = out_size(c, c->w);
    for (int n = 0; n < S; n++)
        for (int o = 0; o < c->cout; o++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++) {
                    double sum = b ? b[o] : 0.0;
                    for (int ci = 0; ci < c->cin; ci++)
                        for (int i = 0; i < c->k; i++)
                            for (int j = 0; j < c->k; j++) {
                                const int iy = oy * c->s - c->p + i, ix = ox * c->s - c->p + j;
                                if (iy < 0 || iy >= c->h || ix < 0 || ix >= c->w)
                                    continue;
                                sum += (double)w[((o * c->cin + ci) * c->k + i) * c->k + j] *
                                       x[((n * c->cin + ci) * c->h + iy) * c->w + ix];
                            }
                    y[((n * c->cout + o) * oh + oy) * ow + ox] = sum;
                }
}

/* The transposed convolution as PyTorch defines it: every input pixel
 * x[n][ci][iy][ix] adds w[ci][o][i][j] times itself at output
 * (iy*s - p + i, ix*s - p + j), positions outside the output dropped. */
static void naive_convt2d(const conv_case *c, const float *x, const float *w, const float *b,
                          double *y)
{
    const int S = c->t * c->n, oh = out_size(c, c->h), ow = out_size(c, c->w);
    for (int n = 0; n < S; n++)
        for (int o = 0; o < c->cout; o++)
            for (int q = 0; q < oh * ow; q++)
                y[(n * c->cout + o) * oh * ow + q] = b ? b[o] : 0.0;
    for (int n = 0; n < S; n++)
        for (int ci = 0; ci < c->cin; ci++)
            for (int iy = 0; iy < c->h; iy++)
                for (int ix = 0; ix < c->w; ix++) {
                    const double v = x[((n * c->cin + ci) * c->h + iy) * c->w + ix];
                    for (int o = 0; o < c->cout; o++)
                        for (int i = 0; i < c->k; i++)
                            for (int j = 0; j < c->k; j++) {
                                const int oy = iy * c->s - c->p + i, ox = ix * c->s - c->p + j;
                                if (oy < 0 || oy >= oh || ox < 0 || ox >= ow)
                                    continue;
                                y[((n * c->cout + o) * oh + oy) * ow + ox] +=
                                    v * w[((ci * c->cout + o) * c->k + i) * c->k + j];
                            }
                }
}

/* Mean over the k x k window with padded zeros counted (count_include_pad). */
static void naive_avgpool(const conv_case *c, const float *x, double *y)
{
    const int planes = c->t * c->n * c->cin, oh = out_size(c, c->h), ow = out_size(c, c->w);
    const int s = c->s ? c->s : c->k;
    for (int pl = 0; pl < planes; pl++)
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                double sum = 0;
                for (int i = 0; i < c->k; i++)
                    for (int j = 0; j < c->k; j++) {
                        const int iy = oy * s - c->p + i, ix = ox * s - c->p + j;
                        if (iy >= 0 && iy < c->h && ix >= 0 && ix < c->w)
                            sum += x[(pl * c->h + iy) * c->w + ix];
                    }
                y[(pl * oh + oy) * ow + ox] = sum / (c->k * c->k);
            }
}

/* Fails unless every got[i] is within rtol of want[i] (plus a floor of
 * rtol for values near zero). */
static void expect_close(const char *what, const float *got, const double *want, int64_t n,
                         double rtol)
{
    for (int64_t i = 0; i < n; i++)
        ck_assert_msg(fabs(got[i] - want[i]) <= rtol * (1.0 + fabs(want[i])),
                      "%s[%lld]: got %.9g, direct loops %.9g", what, (long long)i, (double)got[i],
                      want[i]);
}

static void check_against_loops(sgad_ctx *ctx, const conv_case *c)
{
    sgad_layer *l = make_layer(ctx, c);
    const int oh = out_size(c, c->h), ow = out_size(c, c->w);
    sgad_tensor *x = tu_tensor(ctx, c->t, c->n, c->cin, c->h, c->w, 0);
    sgad_tensor *y = tu_tensor(ctx, c->t, c->n, out_channels(c), oh, ow, 0);
    uint64_t rng = 17 + (uint64_t)c->k;
    tu_fill_uniform(sgad_tensor_data(x), sgad_tensor_numel(x), -1, 1, &rng);
    ASSERT_OK(ctx, sgad_layer_forward(l, x, y));
    const int64_t ny = sgad_tensor_numel(y);
    double *want = malloc((size_t)ny * sizeof *want);
    ck_assert_ptr_nonnull(want);
    const float *w = c->kind == POOL ? NULL : param_data(ctx, l, 0);
    const float *b = c->bias && c->kind != POOL ? param_data(ctx, l, 1) : NULL;
    if (c->kind == CONV)
        naive_conv2d(c, sgad_tensor_data(x), w, b, want);
    else if (c->kind == CONVT)
        naive_convt2d(c, sgad_tensor_data(x), w, b, want);
    else
        naive_avgpool(c, sgad_tensor_data(x), want);
    expect_close(sgad_layer_kind_name(sgad_layer_get_kind(l)), sgad_tensor_data(y), want, ny, 1e-5);
    free(want);
    sgad_tensor_free(x);
    sgad_tensor_free(y);
    sgad_layer_free(l);
}

START_TEST(conv2d_matches_direct_loops)
{
    sgad_ctx *ctx = tu_ctx(2);
    const conv_case cases[] = {
        {CONV, 3, 4, 3, 2, 1, 1, 2, 3, 7, 5},   /* non-square, stride 2, padding 1 */
        {CONV, 1, 2, 5, 1, 0, 1, 1, 1, 9, 6},   /* kernel 5, one channel, T = N = 1 */
        {CONV, 2, 3, 5, 1, 2, 0, 3, 1, 6, 8},   /* "same" padding, no bias */
        {CONV, 4, 2, 1, 1, 0, 1, 1, 2, 3, 5},   /* kernel 1 */
        {CONV, 2, 2, 4, 3, 1, 1, 2, 2, 11, 7},  /* kernel 4, stride 3 */
        {CONV, 1, 1, 3, 1, 2, 1, 1, 1, 1, 2},   /* padding wider than the image */
        {CONV, 2, 3, 9, 1, 1, 1, 1, 2, 11, 10}, /* 81 taps: more than im2col keeps */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        check_against_loops(ctx, &cases[i]);
    sgad_ctx_free(ctx);
}
END_TEST

START_TEST(convt2d_matches_direct_loops)
{
    sgad_ctx *ctx = tu_ctx(3);
    const conv_case cases[] = {
        {CONVT, 3, 2, 4, 2, 1, 1, 2, 3, 7, 5}, /* the SGAD up-sampling step, non-square */
        {CONVT, 1, 3, 3, 1, 0, 1, 1, 1, 4, 6}, /* kernel 3, one input channel */
        {CONVT, 2, 1, 5, 3, 2, 0, 3, 1, 3, 2}, /* kernel 5, stride 3, no bias */
        {CONVT, 4, 2, 1, 1, 0, 1, 1, 2, 3, 5}, /* kernel 1 */
        {CONVT, 2, 2, 3, 2, 1, 1, 1, 1, 1, 1}, /* one pixel in */
        {CONVT, 2, 3, 2, 4, 0, 1, 1, 2, 3, 2}, /* stride beyond the kernel: gaps */
        {CONVT, 2, 2, 9, 2, 3, 1, 1, 2, 4, 3}, /* 81 taps: more than col2im keeps */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        check_against_loops(ctx, &cases[i]);
    sgad_ctx_free(ctx);
}
END_TEST

START_TEST(avgpool_matches_direct_loops_and_hand_values)
{
    sgad_ctx *ctx = tu_ctx(1);
    const conv_case cases[] = {
        {POOL, 3, 0, 2, 0, 0, 0, 2, 2, 6, 4}, /* the SGAD pool: k2, stride = kernel */
        {POOL, 2, 0, 2, 2, 0, 0, 2, 3, 7, 5}, /* the same with an odd last row, column */
        {POOL, 2, 0, 3, 2, 1, 0, 1, 3, 7, 5}, /* padded, odd sizes rounded down */
        {POOL, 1, 0, 3, 1, 1, 0, 2, 1, 4, 5}, {POOL, 2, 0, 1, 1, 0, 0, 1, 1, 3, 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        check_against_loops(ctx, &cases[i]);
    /* [[1, 2], [3, 4]] with k2 s1 p1: corners see one value of four, the
     * centre all four, edges two. */
    sgad_layer *l = NULL;
    ASSERT_OK(ctx, sgad_avgpool2d_create(ctx, 2, 1, 1, &l));
    sgad_tensor *x = tu_tensor(ctx, 1, 1, 1, 2, 2, 0), *y = tu_tensor(ctx, 1, 1, 1, 3, 3, 0);
    const float xs[4] = {1, 2, 3, 4},
                ys[9] = {0.25f, 0.75f, 0.5f, 1.0f, 2.5f, 1.5f, 0.75f, 1.75f, 1.0f};
    memcpy(sgad_tensor_data(x), xs, sizeof xs);
    ASSERT_OK(ctx, sgad_layer_forward(l, x, y));
    for (int i = 0; i < 9; i++)
        ck_assert_float_eq(sgad_tensor_data(y)[i], ys[i]);
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
    sgad_tensor *wt = NULL;
    ASSERT_OK(ctx, sgad_layer_param(convt, 0, NULL, &wt, NULL));
    memcpy(sgad_tensor_data(wt), param_data(ctx, conv, 0), 3 * 2 * 16 * sizeof(float));
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
    ck_assert(fabs(lhs) > 0.1); /* a real product, not two zeros */
    ck_assert_double_eq_tol(lhs, rhs, 1e-5 * (1 + fabs(lhs)));
    sgad_tensor_free(u);
    sgad_tensor_free(cu);
    sgad_tensor_free(v);
    sgad_tensor_free(cv);
    sgad_layer_free(conv);
    sgad_layer_free(convt);
    sgad_ctx_free(ctx);
}
END_TEST

/* ---- shapes --------------------------------------------------------------- */

static void expect_out_dims(sgad_ctx *ctx, sgad_layer *l, const int64_t in[5], int c, int h, int w)
{
    int nd = 0;
    int64_t od[SGAD_MAX_DIMS];
    ASSERT_OK(ctx, sgad_layer_output_dims(l, 5, in, &nd, od));
    ck_assert_int_eq(nd, 5);
    ck_assert_int_eq(od[0], in[0]);
    ck_assert_int_eq(od[1], in[1]);
    ck_assert_int_eq(od[2], c);
    ck_assert_int_eq(od[3], h);
    ck_assert_int_eq(od[4], w);
}

START_TEST(output_shapes)
{
    sgad_ctx *ctx = tu_ctx(1);
    sgad_layer *c5 = NULL, *c3 = NULL, *t4 = NULL, *t3 = NULL, *p2 = NULL, *p3 = NULL;
    ASSERT_OK(ctx, sgad_conv2d_create(ctx, 1, 32, 5, 1, 0, 1, &c5));
    ASSERT_OK(ctx, sgad_conv2d_create(ctx, 3, 8, 3, 2, 1, 1, &c3));
    ASSERT_OK(ctx, sgad_convt2d_create(ctx, 128, 64, 4, 2, 1, 1, &t4));
    ASSERT_OK(ctx, sgad_convt2d_create(ctx, 2, 5, 3, 2, 0, 0, &t3));
    ASSERT_OK(ctx, sgad_avgpool2d_create(ctx, 2, 0, 0, &p2));
    ASSERT_OK(ctx, sgad_avgpool2d_create(ctx, 3, 2, 1, &p3));
    const int64_t mnist[5] = {16, 64, 1, 28, 28}, odd[5] = {2, 3, 3, 7, 5};
    const int64_t g[5] = {16, 64, 128, 7, 7}, small[5] = {1, 2, 2, 3, 4};
    const int64_t f[5] = {16, 64, 32, 24, 24};
    expect_out_dims(ctx, c5, mnist, 32, 24, 24);
    expect_out_dims(ctx, c3, odd, 8, 4, 3);
    expect_out_dims(ctx, t4, g, 64, 14, 14);
    expect_out_dims(ctx, t3, small, 5, 7, 9);
    expect_out_dims(ctx, p2, f, 32, 12, 12);
    expect_out_dims(ctx, p3, odd, 3, 4, 3);
    sgad_layer_free(c5);
    sgad_layer_free(c3);
    sgad_layer_free(t4);
    sgad_layer_free(t3);
    sgad_layer_free(p2);
    sgad_layer_free(p3);
    sgad_ctx_free(ctx);
}
END_TEST

/* ---- parameters ----------------------------------------------------------- */

/* Checks a parameter's name and dims and that its values fill (-bound,
 * bound): the largest |value| of n uniform draws is above 0.9 bound with
 * probability 1 - 0.9^n, which is certain for the sizes used. */
static void expect_param(sgad_ctx *ctx, sgad_layer *l, int i, const char *name, int ndim,
                         const int64_t *dims, double bound)
{
    const char *got = NULL;
    sgad_tensor *v = NULL, *g = NULL;
    ASSERT_OK(ctx, sgad_layer_param(l, i, &got, &v, &g));
    ck_assert_str_eq(got, name);
    ck_assert_ptr_nonnull(g);
    ck_assert_int_eq(sgad_tensor_ndim(v), ndim);
    for (int d = 0; d < ndim; d++)
        ck_assert_int_eq(sgad_tensor_dim(v, d), dims[d]);
    double peak = 0;
    for (int64_t j = 0; j < sgad_tensor_numel(v); j++)
        peak = fmax(peak, fabs(sgad_tensor_data(v)[j]));
    ck_assert_msg(peak <= bound && peak > 0.9 * bound, "%s: max |value| %g, bound %g", name, peak,
                  bound);
}

START_TEST(parameters_use_pytorch_layouts_and_bounds)
{
    sgad_ctx *ctx = tu_ctx(9);
    sgad_layer *c = NULL, *t = NULL, *nb = NULL, *p = NULL;
    ASSERT_OK(ctx, sgad_conv2d_create(ctx, 6, 40, 3, 1, 0, 1, &c));
    ASSERT_OK(ctx, sgad_convt2d_create(ctx, 3, 40, 4, 2, 1, 1, &t));
    ASSERT_OK(ctx, sgad_conv2d_create(ctx, 2, 3, 3, 1, 0, 0, &nb));
    ASSERT_OK(ctx, sgad_avgpool2d_create(ctx, 2, 0, 0, &p));
    /* conv2d: fan_in = in * k * k = 54. */
    const int64_t cw[4] = {40, 6, 3, 3}, cb[1] = {40};
    expect_param(ctx, c, 0, "weight", 4, cw, 1 / sqrt(54.0));
    expect_param(ctx, c, 1, "bias", 1, cb, 1 / sqrt(54.0));
    /* convt2d: PyTorch takes fan_in from weight dim 1, out * k * k = 640. */
    const int64_t tw[4] = {3, 40, 4, 4};
    expect_param(ctx, t, 0, "weight", 4, tw, 1 / sqrt(640.0));
    expect_param(ctx, t, 1, "bias", 1, cb, 1 / sqrt(640.0));
    ck_assert_int_eq(sgad_layer_param_count(c), 2);
    ck_assert_int_eq(sgad_layer_param_count(nb), 1);
    ck_assert_int_eq(sgad_layer_param_count(p), 0);
    sgad_layer_free(c);
    sgad_layer_free(t);
    sgad_layer_free(nb);
    sgad_layer_free(p);
    sgad_ctx_free(ctx);
}
END_TEST

/* ---- gradients ------------------------------------------------------------ */

static double gradcheck_case(sgad_ctx *ctx, const conv_case *c)
{
    sgad_layer *l = make_layer(ctx, c);
    const int64_t dims[5] = {c->t, c->n, c->cin, c->h, c->w};
    const gc_opts o = gc_default();
    const double worst = gc_check_layer(l, 5, dims, &o);
    sgad_layer_free(l);
    return worst;
}

START_TEST(gradients_match_finite_differences)
{
    sgad_ctx *ctx = tu_ctx(4);
    const conv_case cases[] = {
        {CONV, 1, 2, 3, 1, 0, 1, 1, 1, 5, 4},  {CONV, 2, 3, 3, 2, 1, 1, 2, 3, 7, 5},
        {CONV, 3, 2, 1, 1, 0, 0, 3, 2, 3, 4},  {CONV, 2, 2, 5, 1, 2, 1, 1, 2, 6, 6},
        {CONV, 1, 3, 4, 2, 1, 1, 2, 1, 6, 9},  {CONV, 2, 1, 5, 1, 0, 1, 1, 1, 7, 5},
        {CONVT, 2, 1, 4, 2, 1, 1, 1, 1, 3, 4}, {CONVT, 3, 2, 3, 1, 0, 1, 2, 3, 4, 3},
        {CONVT, 2, 3, 4, 2, 1, 0, 3, 2, 2, 3}, {CONVT, 1, 2, 1, 1, 0, 1, 1, 2, 3, 3},
        {CONVT, 2, 2, 5, 2, 2, 1, 2, 1, 3, 2}, {CONVT, 1, 1, 3, 3, 1, 1, 1, 1, 2, 3},
        {POOL, 2, 0, 2, 0, 0, 0, 2, 3, 4, 6},  {POOL, 2, 0, 3, 2, 1, 0, 2, 3, 4, 6},
        {POOL, 1, 0, 3, 2, 1, 0, 1, 1, 5, 7},  {POOL, 3, 0, 1, 1, 0, 0, 1, 2, 2, 3},
    };
    double worst = 0;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        worst = fmax(worst, gradcheck_case(ctx, &cases[i]));
    ck_assert(worst <= 1.0);
    if (getenv("SGAD_TEST_VERBOSE"))
        printf("conv gradients: worst scaled error %.3g\n", worst);
    sgad_ctx_free(ctx);
}
END_TEST

/* ---- chunking ------------------------------------------------------------- */

/* Largest |a - b| over the tensor relative to the largest |b|. */
static double peak_rel_err(const float *a, const float *b, int64_t n)
{
    double diff = 0, peak = 0;
    for (int64_t i = 0; i < n; i++) {
        const double d = fabs((double)a[i] - b[i]);
        diff = d > diff || d != d ? d : diff;
        peak = fmax(peak, fabs(b[i]));
    }
    return peak > 0 ? diff / peak : diff;
}

static float *copy_of(const float *p, int64_t n)
{
    float *c = malloc((size_t)n * sizeof *c);
    ck_assert_ptr_nonnull(c);
    memcpy(c, p, (size_t)n * sizeof *c);
    return c;
}

/* Tensors of one whole run: x [S, cin, h, w] (T*N = S), y, dy, dx. */
typedef struct run {
    sgad_tensor *x, *y, *dy, *dx;
} run;

static run run_new(sgad_ctx *ctx, const conv_case *c, int samples)
{
    const int oh = out_size(c, c->h), ow = out_size(c, c->w), oc = out_channels(c);
    const run r = {tu_tensor(ctx, 1, samples, c->cin, c->h, c->w, 0),
                   tu_tensor(ctx, 1, samples, oc, oh, ow, 0),
                   tu_tensor(ctx, 1, samples, oc, oh, ow, 0),
                   tu_tensor(ctx, 1, samples, c->cin, c->h, c->w, 0)};
    return r;
}

static void run_free(run *r)
{
    sgad_tensor_free(r->x);
    sgad_tensor_free(r->y);
    sgad_tensor_free(r->dy);
    sgad_tensor_free(r->dx);
}

/* Copies sample n of the whole run into the one-sample run (or back). */
static void copy_sample(const sgad_tensor *from, sgad_tensor *to, int64_t from_n, int64_t to_n)
{
    const int64_t per = sgad_tensor_numel(to) / sgad_tensor_dim(to, 1);
    const int64_t per_from = sgad_tensor_numel(from) / sgad_tensor_dim(from, 1);
    ck_assert_int_eq(per, per_from);
    memcpy(sgad_tensor_data(to) + to_n * per, sgad_tensor_data(from) + from_n * per,
           (size_t)per * sizeof(float));
}

/* Runs every sample alone (one chunk each) and collects y, dx and the
 * summed parameter gradients into `into`'s tensors and the layer. */
static void run_sample_by_sample(sgad_ctx *ctx, sgad_layer *l, const conv_case *c, const run *whole,
                                 run *into)
{
    run one = run_new(ctx, c, 1);
    sgad_layer_zero_grad(l);
    for (int64_t n = 0; n < sgad_tensor_dim(whole->x, 1); n++) {
        copy_sample(whole->x, one.x, n, 0);
        copy_sample(whole->dy, one.dy, n, 0);
        ASSERT_OK(ctx, sgad_layer_forward(l, one.x, one.y));
        ASSERT_OK(ctx, sgad_layer_backward(l, one.x, one.y, one.dy, one.dx));
        copy_sample(one.y, into->y, 0, n);
        copy_sample(one.dx, into->dx, 0, n);
    }
    run_free(&one);
}

static void expect_chunks_agree(sgad_ctx *ctx, const conv_case *c, int samples)
{
    sgad_layer *l = make_layer(ctx, c);
    run whole = run_new(ctx, c, samples), alone = run_new(ctx, c, samples);
    uint64_t rng = 3;
    tu_fill_uniform(sgad_tensor_data(whole.x), sgad_tensor_numel(whole.x), -1, 1, &rng);
    tu_fill_uniform(sgad_tensor_data(whole.dy), sgad_tensor_numel(whole.dy), -1, 1, &rng);
    ASSERT_OK(ctx, sgad_layer_forward(l, whole.x, whole.y));
    ASSERT_OK(ctx, sgad_layer_backward(l, whole.x, whole.y, whole.dy, whole.dx));
    const int64_t nw = c->cin * c->cout * c->k * c->k;
    float *dw = copy_of(grad_data(ctx, l, 0), nw), *db = copy_of(grad_data(ctx, l, 1), c->cout);
    run_sample_by_sample(ctx, l, c, &whole, &alone);
    const int64_t ny = sgad_tensor_numel(whole.y), nx = sgad_tensor_numel(whole.x);
    ck_assert_double_le(peak_rel_err(sgad_tensor_data(whole.y), sgad_tensor_data(alone.y), ny),
                        1e-6);
    ck_assert_double_le(peak_rel_err(sgad_tensor_data(whole.dx), sgad_tensor_data(alone.dx), nx),
                        1e-6);
    ck_assert_double_le(peak_rel_err(dw, grad_data(ctx, l, 0), nw), 1e-5);
    ck_assert_double_le(peak_rel_err(db, grad_data(ctx, l, 1), c->cout), 1e-5);
    free(dw);
    free(db);
    run_free(&whole);
    run_free(&alone);
    sgad_layer_free(l);
}

/* The column buffer is capped at 8 MiB: with 8*9 rows of 32*32 columns a
 * sample needs 288 KiB, so 70 samples run as chunks of 28, 28 and 14. A
 * whole run must equal the same samples run one at a time. */
START_TEST(chunked_runs_match_sample_by_sample_runs)
{
    sgad_ctx *ctx = tu_ctx(5);
    const conv_case conv = {CONV, 8, 4, 3, 1, 1, 1, 1, 70, 32, 32};
    const conv_case convt = {CONVT, 4, 8, 3, 1, 1, 1, 1, 70, 32, 32};
    expect_chunks_agree(ctx, &conv, 70);
    expect_chunks_agree(ctx, &convt, 70);
    sgad_ctx_free(ctx);
}
END_TEST

/* Backward adds into the parameter gradients, and skipping dx changes
 * none of them. */
START_TEST(backward_accumulates_and_dx_is_optional)
{
    sgad_ctx *ctx = tu_ctx(6);
    const conv_case cases[] = {{CONV, 2, 3, 3, 2, 1, 1, 2, 2, 7, 5},
                               {CONVT, 2, 3, 4, 2, 1, 1, 2, 2, 3, 4}};
    for (int i = 0; i < 2; i++) {
        const conv_case *c = &cases[i];
        sgad_layer *l = make_layer(ctx, c);
        run r = run_new(ctx, c, c->t * c->n);
        uint64_t rng = 8;
        tu_fill_uniform(sgad_tensor_data(r.x), sgad_tensor_numel(r.x), -1, 1, &rng);
        tu_fill_uniform(sgad_tensor_data(r.dy), sgad_tensor_numel(r.dy), -1, 1, &rng);
        ASSERT_OK(ctx, sgad_layer_forward(l, r.x, r.y));
        ASSERT_OK(ctx, sgad_layer_backward(l, r.x, r.y, r.dy, r.dx));
        const int64_t nw = c->cin * c->cout * c->k * c->k;
        float *dw = copy_of(grad_data(ctx, l, 0), nw), *db = copy_of(grad_data(ctx, l, 1), c->cout);
        ASSERT_OK(ctx, sgad_layer_backward(l, r.x, r.y, r.dy, NULL));
        for (int64_t j = 0; j < nw; j++)
            ck_assert_float_eq_tol(grad_data(ctx, l, 0)[j], 2 * dw[j], 1e-5f * (1 + fabsf(dw[j])));
        for (int j = 0; j < c->cout; j++)
            ck_assert_float_eq_tol(grad_data(ctx, l, 1)[j], 2 * db[j], 1e-5f * (1 + fabsf(db[j])));
        ck_assert(fabsf(db[0]) > 1e-3f); /* a real sum, not nothing twice */
        free(dw);
        free(db);
        run_free(&r);
        sgad_layer_free(l);
    }
    sgad_ctx_free(ctx);
}
END_TEST

/* ---- errors --------------------------------------------------------------- */

/* The last call failed with a message that contains `part`. */
static void expect_message(sgad_ctx *ctx, const char *part)
{
    const char *msg = sgad_ctx_last_error(ctx);
    ck_assert_msg(msg[0] != '\0' && strstr(msg, part) != NULL, "message \"%s\" lacks \"%s\"", msg,
                  part);
    sgad_ctx_clear_error(ctx);
}

START_TEST(bad_create_arguments_are_refused)
{
    sgad_ctx *ctx = tu_ctx(1);
    /* A failed create sets *out to NULL whatever it held. */
    sgad_layer *valid = NULL, *l = NULL;
    ASSERT_OK(ctx, sgad_avgpool2d_create(ctx, 2, 0, 0, &valid));
    l = valid;
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_conv2d_create(ctx, 0, 1, 3, 1, 0, 1, &l));
    ck_assert_ptr_null(l);
    expect_message(ctx, "in_channels=0");
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_conv2d_create(ctx, 1, 0, 3, 1, 0, 1, &l));
    expect_message(ctx, "out_channels=0");
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_conv2d_create(ctx, 1, 1, 0, 1, 0, 1, &l));
    expect_message(ctx, "kernel=0");
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_convt2d_create(ctx, 1, 1, 3, 0, 0, 1, &l));
    expect_message(ctx, "stride=0");
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_convt2d_create(ctx, 1, 1, 3, 1, -1, 1, &l));
    expect_message(ctx, "padding=-1");
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_conv2d_create(ctx, 1, 1, 3, 1, 0, 2, &l));
    expect_message(ctx, "has_bias=2");
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_conv2d_create(ctx, 1, 1, 3, 1, 0, 1, NULL));
    expect_message(ctx, "out is NULL");
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_avgpool2d_create(ctx, 0, 0, 0, &l));
    expect_message(ctx, "kernel=0");
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_avgpool2d_create(ctx, 2, 2, 2, &l));
    expect_message(ctx, "padding=2");
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_avgpool2d_create(ctx, 3, -1, 0, &l));
    expect_message(ctx, "stride=-1");
    ck_assert_ptr_null(l);
    l = valid;
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_convt2d_create(ctx, 1, 1, 3, 1, -1, 1, &l));
    ck_assert_ptr_null(l);
    sgad_layer_free(valid);
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_conv2d_create(NULL, 1, 1, 3, 1, 0, 1, &l));
    sgad_ctx_free(ctx);
}
END_TEST

START_TEST(bad_shapes_are_refused)
{
    sgad_ctx *ctx = tu_ctx(1);
    sgad_layer *c = NULL, *t = NULL, *p = NULL;
    ASSERT_OK(ctx, sgad_conv2d_create(ctx, 1, 4, 5, 1, 0, 1, &c));
    ASSERT_OK(ctx, sgad_convt2d_create(ctx, 2, 1, 1, 1, 1, 1, &t));
    ASSERT_OK(ctx, sgad_avgpool2d_create(ctx, 3, 1, 0, &p));
    int nd;
    int64_t od[SGAD_MAX_DIMS];
    const int64_t tiny[5] = {1, 1, 1, 3, 3}, one[5] = {1, 1, 2, 1, 1}, flat[3] = {1, 2, 784};
    ASSERT_STATUS(SGAD_E_SHAPE, sgad_layer_output_dims(c, 5, tiny, &nd, od));
    expect_message(ctx, "input 3x3 with kernel 5");
    /* (1 - 1) * 1 - 2 * 1 + 1 = -1 rows. */
    ASSERT_STATUS(SGAD_E_SHAPE, sgad_layer_output_dims(t, 5, one, &nd, od));
    expect_message(ctx, "gives no output");
    ASSERT_OK(ctx, sgad_layer_output_dims(p, 5, tiny, &nd, od));
    ck_assert(od[3] == 1 && od[4] == 1);
    ASSERT_STATUS(SGAD_E_SHAPE, sgad_layer_output_dims(p, 5, one, &nd, od));
    expect_message(ctx, "smaller than kernel 3");
    ASSERT_STATUS(SGAD_E_SHAPE, sgad_layer_output_dims(c, 3, flat, &nd, od));
    expect_message(ctx, "[T, N, 1, H, W]");
    ASSERT_STATUS(SGAD_E_SHAPE, sgad_layer_output_dims(p, 3, flat, &nd, od));
    expect_message(ctx, "[T, N, C, H, W]");
    sgad_layer_free(c);
    sgad_layer_free(t);
    sgad_layer_free(p);
    sgad_ctx_free(ctx);
}
END_TEST

START_TEST(bad_tensors_and_call_order_are_refused)
{
    sgad_ctx *ctx = tu_ctx(1);
    sgad_layer *l = NULL;
    ASSERT_OK(ctx, sgad_conv2d_create(ctx, 2, 3, 3, 1, 1, 1, &l));
    sgad_tensor *x = tu_tensor(ctx, 1, 2, 2, 5, 4, 0), *y = tu_tensor(ctx, 1, 2, 3, 5, 4, 0);
    sgad_tensor *wrong_c = tu_tensor(ctx, 1, 2, 3, 5, 4, 0);
    sgad_tensor *wrong_y = tu_tensor(ctx, 1, 2, 3, 3, 2, 0);
    sgad_tensor *dx = tu_tensor(ctx, 1, 2, 2, 5, 4, 0), *x2 = tu_tensor(ctx, 1, 1, 2, 5, 4, 0);
    sgad_tensor *y2 = tu_tensor(ctx, 1, 1, 3, 5, 4, 0);
    ASSERT_STATUS(SGAD_E_STATE, sgad_layer_backward(l, x, y, y, dx));
    expect_message(ctx, "has not run forward");
    ASSERT_STATUS(SGAD_E_SHAPE, sgad_layer_forward(l, wrong_c, y));
    expect_message(ctx, "conv2d(2 -> 3)");
    ASSERT_STATUS(SGAD_E_SHAPE, sgad_layer_forward(l, x, wrong_y));
    expect_message(ctx, "y is [1, 2, 3, 3, 2], expected [1, 2, 3, 5, 4]");
    ASSERT_OK(ctx, sgad_layer_forward(l, x, y));
    ASSERT_STATUS(SGAD_E_SHAPE, sgad_layer_backward(l, x, y, wrong_y, dx));
    expect_message(ctx, "dy is");
    ASSERT_STATUS(SGAD_E_SHAPE, sgad_layer_backward(l, x, y, y, wrong_c));
    expect_message(ctx, "dx is");
    ASSERT_STATUS(SGAD_E_STATE, sgad_layer_backward(l, x2, y2, y2, NULL));
    expect_message(ctx, "differs from the last forward");
    ASSERT_OK(ctx, sgad_layer_backward(l, x, y, y, dx));
    sgad_tensor_free(x);
    sgad_tensor_free(y);
    sgad_tensor_free(wrong_c);
    sgad_tensor_free(wrong_y);
    sgad_tensor_free(dx);
    sgad_tensor_free(x2);
    sgad_tensor_free(y2);
    sgad_layer_free(l);
    sgad_ctx_free(ctx);
}
END_TEST

Suite *suite_conv(void)
{
    Suite *s = suite_create("conv");
    TCase *tc = tcase_create("conv");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, conv2d_matches_direct_loops);
    tcase_add_test(tc, convt2d_matches_direct_loops);
    tcase_add_test(tc, avgpool_matches_direct_loops_and_hand_values);
    tcase_add_test(tc, convt2d_is_the_adjoint_of_conv2d);
    tcase_add_test(tc, output_shapes);
    tcase_add_test(tc, parameters_use_pytorch_layouts_and_bounds);
    tcase_add_test(tc, gradients_match_finite_differences);
    tcase_add_test(tc, chunked_runs_match_sample_by_sample_runs);
    tcase_add_test(tc, backward_accumulates_and_dx_is_optional);
    tcase_add_test(tc, bad_create_arguments_are_refused);
    tcase_add_test(tc, bad_shapes_are_refused);
    tcase_add_test(tc, bad_tensors_and_call_order_are_refused);
    suite_add_tcase(s, tc);
    return s;
}
