/* SPDX-License-Identifier: MIT */
/* Event-driven against dense paths (SGAD_OPT_INPUT_PATH): the same layer on
 * the same sparse inputs gives the same outputs and gradients either way,
 * up to the rounding of differently ordered sums; the automatic choice
 * takes the event path for spike trains and the dense one for dense
 * inputs and for transposed convolutions with few output channels; the
 * event path is independent of the thread count and passes the
 * finite-difference check on its own; whole training iterations are the
 * same bits at 1 and 2 threads. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "kernels/divide.h" /* src/: the walks' division by a fixed number */
#include "test_util.h"

/* A layer under test: linear (in -> out), convt2d or conv2d with its
 * geometry. */
enum { LIN, CONVT, CONV };

typedef struct ev_case {
    int kind, in, out, k, s, p, bias;
    int t, n, h, w;
    double rate; /* share of nonzero inputs */
    int binary;  /* 1: spikes; 0: sparse values in (0, 1] as after pooling */
} ev_case;

static sgad_layer *make(sgad_ctx *ctx, const ev_case *c)
{
    sgad_layer *l = NULL;
    if (c->kind == CONVT)
        ASSERT_OK(ctx, sgad_convt2d_create(ctx, c->in, c->out, c->k, c->s, c->p, c->bias, &l));
    else if (c->kind == CONV)
        ASSERT_OK(ctx, sgad_conv2d_create(ctx, c->in, c->out, c->k, c->s, c->p, c->bias, &l));
    else
        ASSERT_OK(ctx, sgad_linear_create(ctx, c->in, c->out, c->bias, &l));
    return l;
}

static int in_dims(const ev_case *c, int64_t *d)
{
    d[0] = c->t;
    d[1] = c->n;
    d[2] = c->in;
    d[3] = c->h;
    d[4] = c->w;
    return c->kind == LIN ? 3 : 5;
}

/* Results of one forward and backward: y, dx and the weight and bias
 * gradients, copied out. */
typedef struct run {
    float *y, *dx, *dw, *db;
    int64_t ny, nx, nw, nb;
    int taken; /* SGAD_OPT_INPUT_PATH_TAKEN after the forward */
} run;

static float *copy_of(const float *p, int64_t n)
{
    float *q = malloc((size_t)n * sizeof *q);
    ck_assert_ptr_nonnull(q);
    memcpy(q, p, (size_t)n * sizeof *q);
    return q;
}

static run run_path(sgad_ctx *ctx, sgad_layer *l, int path, sgad_tensor *x, sgad_tensor *dy)
{
    ASSERT_OK(ctx, sgad_layer_set(l, SGAD_OPT_INPUT_PATH, path));
    int64_t d[SGAD_MAX_DIMS], od[SGAD_MAX_DIMS];
    const int nd = sgad_tensor_ndim(x);
    for (int i = 0; i < nd; i++)
        d[i] = sgad_tensor_dim(x, i);
    int ond;
    ASSERT_OK(ctx, sgad_layer_output_dims(l, nd, d, &ond, od));
    sgad_tensor *y, *dx;
    ASSERT_OK(ctx, sgad_tensor_create(ctx, ond, od, &y));
    ASSERT_OK(ctx, sgad_tensor_create(ctx, nd, d, &dx));
    sgad_layer_zero_grad(l);
    ASSERT_OK(ctx, sgad_layer_forward(l, x, y));
    double taken;
    ASSERT_OK(ctx, sgad_layer_get(l, SGAD_OPT_INPUT_PATH_TAKEN, &taken));
    ASSERT_OK(ctx, sgad_layer_backward(l, x, y, dy, dx));
    run r = {0};
    r.taken = (int)taken;
    r.ny = sgad_tensor_numel(y);
    r.nx = sgad_tensor_numel(dx);
    r.y = copy_of(sgad_tensor_data(y), r.ny);
    r.dx = copy_of(sgad_tensor_data(dx), r.nx);
    sgad_tensor *v, *g;
    const char *name;
    ASSERT_OK(ctx, sgad_layer_param(l, 0, &name, &v, &g));
    r.nw = sgad_tensor_numel(g);
    r.dw = copy_of(sgad_tensor_data(g), r.nw);
    if (sgad_layer_param_count(l) > 1) {
        ASSERT_OK(ctx, sgad_layer_param(l, 1, &name, &v, &g));
        r.nb = sgad_tensor_numel(g);
        r.db = copy_of(sgad_tensor_data(g), r.nb);
    }
    sgad_tensor_free(y);
    sgad_tensor_free(dx);
    return r;
}

static void run_free(run *r)
{
    free(r->y);
    free(r->dx);
    free(r->dw);
    free(r->db);
}

static int same_bits(const float *a, const float *b, int64_t n)
{
    return n == 0 || memcmp(a, b, (size_t)n * sizeof *a) == 0;
}

static void fill_sparse(float *x, int64_t n, const ev_case *c, uint64_t *state)
{
    for (int64_t i = 0; i < n; i++) {
        const double u = tu_uniform(state);
        const float pooled = (float)(0.25 * (1 + (int)(4 * u / c->rate))); /* 1/4 .. 1 */
        x[i] = u >= c->rate ? 0.0f : c->binary ? 1.0f : pooled;
    }
}

/* Relative tolerance of the comparison: both paths sum the same float
 * products in different orders, so they differ by a few ulp of the sums'
 * magnitudes: 1e-5 of a value plus 1e-5 absolute covers sums of up to
 * ~1000 terms of O(1). */
#define RTOL 1e-5
#define ATOL 1e-5

/* Frees a case's input, output gradient, layer and context. */
static void free_case(sgad_ctx *ctx, sgad_layer *l, sgad_tensor *x, sgad_tensor *dy)
{
    sgad_tensor_free(x);
    sgad_tensor_free(dy);
    sgad_layer_free(l);
    sgad_ctx_free(ctx);
}

/* A random output gradient [-1, 1) for layer l at input dims d. */
static sgad_tensor *output_gradient(sgad_ctx *ctx, sgad_layer *l, int nd, const int64_t *d,
                                    uint64_t *state)
{
    int64_t od[SGAD_MAX_DIMS];
    int ond;
    sgad_tensor *dy;
    ASSERT_OK(ctx, sgad_layer_output_dims(l, nd, d, &ond, od));
    ASSERT_OK(ctx, sgad_tensor_create(ctx, ond, od, &dy));
    tu_fill_uniform(sgad_tensor_data(dy), sgad_tensor_numel(dy), -1.0f, 1.0f, state);
    return dy;
}

/* Fails unless the event path at 2 threads gives the bits `one` got at 1
 * (outputs, weight and input gradients). */
static void expect_same_at_two_threads(sgad_ctx *ctx, sgad_layer *l, sgad_tensor *x,
                                       sgad_tensor *dy, const run *one, const char *what)
{
    ASSERT_OK(ctx, sgad_ctx_set_threads(ctx, 2));
    run two = run_path(ctx, l, SGAD_PATH_EVENTS, x, dy);
    ck_assert_msg(same_bits(two.y, one->y, one->ny) && same_bits(two.dw, one->dw, one->nw) &&
                      same_bits(two.dx, one->dx, one->nx),
                  "%s: the event path differs between 1 and 2 threads", what);
    run_free(&two);
    ASSERT_OK(ctx, sgad_ctx_set_threads(ctx, 1));
}

/* Fails unless got's outputs and gradients match want's to rounding. */
static void expect_close(const run *got, const run *want, const char *what)
{
    ck_assert_msg(tu_max_scaled_err(got->y, want->y, want->ny, RTOL, ATOL) <= 1.0,
                  "%s: outputs differ", what);
    ck_assert_msg(tu_max_scaled_err(got->dw, want->dw, want->nw, RTOL, ATOL) <= 1.0,
                  "%s: weight gradients differ", what);
    ck_assert_msg(tu_max_scaled_err(got->dx, want->dx, want->nx, RTOL, ATOL) <= 1.0,
                  "%s: input gradients differ", what);
    if (want->nb)
        ck_assert_msg(tu_max_scaled_err(got->db, want->db, want->nb, RTOL, ATOL) <= 1.0,
                      "%s: bias gradients differ", what);
}

static void compare_paths(const ev_case *c)
{
    sgad_ctx *ctx = tu_ctx(31);
    sgad_layer *l = make(ctx, c);
    int64_t d[5];
    const int nd = in_dims(c, d);
    sgad_tensor *x;
    ASSERT_OK(ctx, sgad_tensor_create(ctx, nd, d, &x));
    uint64_t state = 99;
    fill_sparse(sgad_tensor_data(x), sgad_tensor_numel(x), c, &state);
    sgad_tensor *dy = output_gradient(ctx, l, nd, d, &state);

    run dense = run_path(ctx, l, SGAD_PATH_DENSE, x, dy);
    run events = run_path(ctx, l, SGAD_PATH_EVENTS, x, dy);
    const char *what = c->kind == CONVT ? "convt2d" : c->kind == CONV ? "conv2d" : "linear";
    /* Random spikes neither repeat by train nor by period. */
    ck_assert_msg(dense.taken == SGAD_PATH_DENSE && events.taken == SGAD_PATH_EVENTS,
                  "%s: paths taken %d and %d", what, dense.taken, events.taken);
    char label[64];
    snprintf(label, sizeof label, "%s rate %.2f", what, c->rate);
    expect_close(&events, &dense, label);

    /* The automatic choice takes events on these sparse inputs (bitwise),
     * except for a transposed convolution with few output channels, where
     * the per-tap overhead makes events slower at any rate. */
    run autosel = run_path(ctx, l, SGAD_PATH_AUTO, x, dy);
    const run *expected = c->kind == CONVT && c->out < 16 ? &dense : &events;
    ck_assert_msg(same_bits(autosel.y, expected->y, expected->ny) &&
                      same_bits(autosel.dw, expected->dw, expected->nw),
                  "%s rate %.2f, %d outputs: the automatic path did not take %s", what, c->rate,
                  c->out, expected == &events ? "events" : "the dense path");

    expect_same_at_two_threads(ctx, l, x, dy, &events, label);
    run_free(&dense);
    run_free(&events);
    run_free(&autosel);
    free_case(ctx, l, x, dy);
}

START_TEST(linear_events_match_dense)
{
    const ev_case cases[] = {
        /* G's fc2 shape, scaled down; panels of 32 with a partial last one */
        {LIN, 96, 200, 0, 0, 0, 1, 4, 8, 0, 0, 0.05, 1},
        {LIN, 64, 32, 0, 0, 0, 0, 3, 5, 0, 0, 0.08, 1},
        {LIN, 50, 7, 0, 0, 0, 1, 2, 6, 0, 0, 0.10, 0},
        {LIN, 128, 1, 0, 0, 0, 1, 4, 4, 0, 0, 0.06, 1}, /* D's last layer: one output */
        /* D's fc1 (pooled, a fifth nonzero) past the tiles' sizes
         * (event_tiles.h): 1200 rows and 1100 inputs, each more than one
         * chunk of 1024 lines and several blocks of 256, partial last ones */
        {LIN, 1100, 40, 0, 0, 0, 1, 3, 400, 0, 0, 0.20, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        compare_paths(&cases[i]);
}
END_TEST

START_TEST(convt_events_match_dense)
{
    const ev_case cases[] = {
        /* G's ConvT1 geometry (k4 s2 p1), fewer channels */
        {CONVT, 16, 40, 4, 2, 1, 1, 3, 4, 7, 7, 0.06, 1},
        {CONVT, 8, 3, 4, 2, 1, 0, 2, 3, 5, 6, 0.10, 1},
        {CONVT, 6, 33, 3, 1, 0, 1, 2, 2, 4, 5, 0.08, 0},
        {CONVT, 5, 4, 5, 3, 2, 1, 2, 3, 3, 4, 0.09, 1},
        {CONVT, 12, 1, 4, 2, 1, 1, 2, 3, 7, 7, 0.04, 1}, /* G's ConvT2: one output */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        compare_paths(&cases[i]);
}
END_TEST

START_TEST(conv_events_match_dense)
{
    const ev_case cases[] = {
        /* D's conv2 geometry (k5 on 12x12 pooled spikes), fewer channels */
        {CONV, 8, 40, 5, 1, 0, 1, 3, 4, 12, 12, 0.10, 0},
        {CONV, 5, 33, 3, 2, 1, 1, 2, 3, 7, 8, 0.08, 1},
        {CONV, 3, 7, 4, 3, 2, 0, 2, 2, 9, 6, 0.12, 1},
        {CONV, 6, 64, 1, 1, 0, 1, 2, 2, 5, 5, 0.10, 1}, /* 1x1: one tap */
        {CONV, 2, 5, 5, 1, 3, 1, 2, 2, 4, 4, 0.10, 0},  /* padding wider than the image */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        compare_paths(&cases[i]);
}
END_TEST

/* Inputs of 2^20 values or more have their share of nonzeros estimated
 * from a sample (a cache line in every seven): sparse spikes still go to
 * events and dense ones to BLIS, bit for bit as the forced paths. */
START_TEST(auto_estimates_large_inputs_from_a_sample)
{
    const double rates[2] = {0.05, 0.6};
    sgad_ctx *ctx = tu_ctx(6);
    sgad_layer *l = NULL;
    ASSERT_OK(ctx, sgad_linear_create(ctx, 1024, 8, 1, &l));
    sgad_tensor *x, *dy;
    ASSERT_OK(ctx, sgad_tensor_create(ctx, 3, (int64_t[]){1, 1024, 1024}, &x));
    ASSERT_OK(ctx, sgad_tensor_create(ctx, 3, (int64_t[]){1, 1024, 8}, &dy));
    uint64_t state = 5;
    tu_fill_uniform(sgad_tensor_data(dy), sgad_tensor_numel(dy), -1.0f, 1.0f, &state);
    for (int r = 0; r < 2; r++) {
        float *px = sgad_tensor_data(x);
        for (int64_t i = 0; i < sgad_tensor_numel(x); i++)
            px[i] = tu_uniform(&state) < rates[r] ? 1.0f : 0.0f;
        run want = run_path(ctx, l, r == 0 ? SGAD_PATH_EVENTS : SGAD_PATH_DENSE, x, dy);
        run autosel = run_path(ctx, l, SGAD_PATH_AUTO, x, dy);
        ck_assert_msg(same_bits(autosel.y, want.y, want.ny) &&
                          same_bits(autosel.dw, want.dw, want.nw),
                      "rate %.2f: the automatic path did not take %s", rates[r],
                      r == 0 ? "events" : "the dense path");
        run_free(&want);
        run_free(&autosel);
    }
    free_case(ctx, l, x, dy);
}
END_TEST

/* Spike trains that repeat (inputs firing every 1, 2 or 4 steps, or
 * never, as neurons with a constant input do) go by train: the products
 * match the dense path to rounding and give the same bits at 1 and 2
 * threads. The same pattern at 0.5 instead of 1 is not spikes and takes
 * the plain events. */
START_TEST(repeating_spike_trains_go_by_train)
{
    enum { T = 8, N = 16, IN = 256, OUT = 200 };
    static const int periods[4] = {0, 1, 2, 4};
    sgad_ctx *ctx = tu_ctx(7);
    sgad_layer *l = NULL;
    ASSERT_OK(ctx, sgad_linear_create(ctx, IN, OUT, 1, &l));
    sgad_tensor *x, *dy;
    ASSERT_OK(ctx, sgad_tensor_create(ctx, 3, (int64_t[]){T, N, IN}, &x));
    ASSERT_OK(ctx, sgad_tensor_create(ctx, 3, (int64_t[]){T, N, OUT}, &dy));
    uint64_t state = 7;
    tu_fill_uniform(sgad_tensor_data(dy), sgad_tensor_numel(dy), -1.0f, 1.0f, &state);
    for (int level = 0; level < 2; level++) {
        const float spike = level == 0 ? 1.0f : 0.5f;
        for (int t = 0; t < T; t++)
            for (int n = 0; n < N; n++)
                for (int k = 0; k < IN; k++) {
                    const int p = periods[(n * 7 + k * 3) % 4];
                    sgad_tensor_data(x)[(t * N + n) * IN + k] =
                        p && t % p == (n + k) % p ? spike : 0.0f;
                }
        const char *label = spike == 1.0f ? "spikes of 1" : "spikes of 0.5";
        run dense = run_path(ctx, l, SGAD_PATH_DENSE, x, dy);
        run events = run_path(ctx, l, SGAD_PATH_EVENTS, x, dy);
        expect_close(&events, &dense, label);
        const int want = spike == 1.0f ? SGAD_PATH_EVENTS_BY_TRAIN : SGAD_PATH_EVENTS;
        ck_assert_msg(events.taken == want, "%s: path taken %d, not %d", label, events.taken, want);
        expect_same_at_two_threads(ctx, l, x, dy, &events, label);
        run_free(&dense);
        run_free(&events);
    }
    free_case(ctx, l, x, dy);
}
END_TEST

/* Pooled spikes of neurons driven by a constant input, as D's conv2 reads
 * them: each neuron of a 2x2 window fires at steps p, 2p, 3p, ... (from 1)
 * for its own period p, or never; the pooled value is the share of the
 * window firing at the step. */
static void fill_pooled_periodic(float *x, int T, int N, int C, int H, int W, uint64_t *state)
{
    static const int periods[32] = {1, 2, 3, 4, 5, 7}; /* the other 26: never */
    const int64_t cells = (int64_t)N * C * H * W;
    int *period = malloc((size_t)cells * 4 * sizeof *period);
    ck_assert_ptr_nonnull(period);
    for (int64_t i = 0; i < cells * 4; i++)
        period[i] = periods[(int)(tu_uniform(state) * 32)];
    for (int t = 1; t <= T; t++)
        for (int64_t i = 0; i < cells; i++) {
            int firing = 0;
            for (int k = 0; k < 4; k++)
                firing += period[i * 4 + k] && t % period[i * 4 + k] == 0;
            x[(t - 1) * cells + i] = 0.25f * (float)firing;
        }
    free(period);
}

/* Such inputs go by period under SGAD_PATH_EVENTS and the automatic
 * choice: the products on the input's periodic parts match the dense path
 * to rounding (outputs, weight, bias and input gradients), the automatic
 * path is the same bits, two threads give the same bits as one, and the
 * layer reports the path. Geometries: D's conv2 (k5 on 12x12), and a
 * strided, padded one over 12 steps (12 has six divisors). */
START_TEST(periodic_inputs_go_by_period)
{
    const ev_case cases[] = {
        {CONV, 6, 40, 5, 1, 0, 1, 8, 3, 12, 12, 0, 0},
        {CONV, 3, 7, 3, 2, 1, 0, 12, 2, 9, 10, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const ev_case *c = &cases[i];
        sgad_ctx *ctx = tu_ctx(41);
        sgad_layer *l = make(ctx, c);
        double taken, lo, hi;
        ASSERT_OK(ctx, sgad_layer_get(l, SGAD_OPT_INPUT_PATH_TAKEN, &taken));
        ck_assert(taken == SGAD_PATH_AUTO); /* no forward yet */
        int64_t d[5];
        const int nd = in_dims(c, d);
        sgad_tensor *x;
        ASSERT_OK(ctx, sgad_tensor_create(ctx, nd, d, &x));
        uint64_t state = 17;
        fill_pooled_periodic(sgad_tensor_data(x), c->t, c->n, c->in, c->h, c->w, &state);
        sgad_tensor *dy = output_gradient(ctx, l, nd, d, &state);

        run dense = run_path(ctx, l, SGAD_PATH_DENSE, x, dy);
        run events = run_path(ctx, l, SGAD_PATH_EVENTS, x, dy);
        run autosel = run_path(ctx, l, SGAD_PATH_AUTO, x, dy);
        ck_assert_msg(events.taken == SGAD_PATH_EVENTS_BY_PERIOD &&
                          autosel.taken == SGAD_PATH_EVENTS_BY_PERIOD,
                      "case %zu: paths taken %d and %d", i, events.taken, autosel.taken);
        const char *label = i == 0 ? "D's conv2 geometry" : "strided, padded, T 12";
        expect_close(&events, &dense, label);
        ck_assert_msg(same_bits(autosel.y, events.y, events.ny) &&
                          same_bits(autosel.dw, events.dw, events.nw),
                      "case %zu: the automatic path differs from the forced one", i);
        expect_same_at_two_threads(ctx, l, x, dy, &events, label);

        /* What the layer reports cannot be set. */
        ASSERT_STATUS(SGAD_E_INVALID_ARG,
                      sgad_layer_set(l, SGAD_OPT_INPUT_PATH_TAKEN, SGAD_PATH_DENSE));
        ASSERT_OK(ctx, sgad_option_bounds(SGAD_OPT_INPUT_PATH_TAKEN, &lo, &hi));
        ck_assert(lo == SGAD_PATH_AUTO && hi == SGAD_PATH_EVENTS_BY_PERIOD);
        run_free(&dense);
        run_free(&events);
        run_free(&autosel);
        free_case(ctx, l, x, dy);
    }
}
END_TEST

/* Dense inputs stay on BLIS under the automatic choice. */
START_TEST(auto_keeps_dense_inputs_dense)
{
    const ev_case c = {LIN, 64, 48, 0, 0, 0, 1, 2, 8, 0, 0, 1.0, 0};
    sgad_ctx *ctx = tu_ctx(5);
    sgad_layer *l = make(ctx, &c);
    int64_t d[5];
    const int nd = in_dims(&c, d);
    sgad_tensor *x, *dy;
    ASSERT_OK(ctx, sgad_tensor_create(ctx, nd, d, &x));
    uint64_t state = 3;
    tu_fill_uniform(sgad_tensor_data(x), sgad_tensor_numel(x), 0.1f, 1.0f, &state);
    ASSERT_OK(ctx, sgad_tensor_create(ctx, 3, (int64_t[]){2, 8, 48}, &dy));
    tu_fill_uniform(sgad_tensor_data(dy), sgad_tensor_numel(dy), -1.0f, 1.0f, &state);
    run dense = run_path(ctx, l, SGAD_PATH_DENSE, x, dy);
    run autosel = run_path(ctx, l, SGAD_PATH_AUTO, x, dy);
    ck_assert(same_bits(autosel.y, dense.y, dense.ny));
    ck_assert(same_bits(autosel.dw, dense.dw, dense.nw));
    double v;
    ASSERT_OK(ctx, sgad_layer_get(l, SGAD_OPT_INPUT_PATH, &v));
    ck_assert(v == SGAD_PATH_AUTO);
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_layer_set(l, SGAD_OPT_INPUT_PATH, 3));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_layer_set(l, SGAD_OPT_INPUT_PATH, 0.5));
    sgad_layer *pool;
    ASSERT_OK(ctx, sgad_avgpool2d_create(ctx, 2, 2, 0, &pool));
    ASSERT_STATUS(SGAD_E_UNSUPPORTED, sgad_layer_set(pool, SGAD_OPT_INPUT_PATH, 1));
    sgad_layer_free(pool);
    run_free(&dense);
    run_free(&autosel);
    free_case(ctx, l, x, dy);
}
END_TEST

/* The event path on its own against finite differences (dense inputs, so
 * every weight has a nonzero gradient to check). */
START_TEST(events_pass_finite_differences)
{
    sgad_ctx *ctx = tu_ctx(8);
    const gc_opts o = gc_default();
    sgad_layer *l;
    ASSERT_OK(ctx, sgad_linear_create(ctx, 9, 37, 1, &l));
    ASSERT_OK(ctx, sgad_layer_set(l, SGAD_OPT_INPUT_PATH, SGAD_PATH_EVENTS));
    ck_assert(gc_check_layer(l, 3, (int64_t[]){2, 3, 9}, &o) <= 1.0);
    sgad_layer_free(l);
    ASSERT_OK(ctx, sgad_convt2d_create(ctx, 3, 5, 4, 2, 1, 1, &l));
    ASSERT_OK(ctx, sgad_layer_set(l, SGAD_OPT_INPUT_PATH, SGAD_PATH_EVENTS));
    ck_assert(gc_check_layer(l, 5, (int64_t[]){2, 2, 3, 3, 4}, &o) <= 1.0);
    sgad_layer_free(l);
    ASSERT_OK(ctx, sgad_conv2d_create(ctx, 3, 4, 3, 2, 1, 1, &l));
    ASSERT_OK(ctx, sgad_layer_set(l, SGAD_OPT_INPUT_PATH, SGAD_PATH_EVENTS));
    ck_assert(gc_check_layer(l, 5, (int64_t[]){2, 2, 3, 5, 6}, &o) <= 1.0);
    sgad_layer_free(l);
    sgad_ctx_free(ctx);
}
END_TEST

/* Every threaded kernel gives each output to one thread in the serial
 * order, so whole training iterations are bitwise the same at 1 and 2
 * threads (the SGAD preset, whose spike layers take the event paths). */
START_TEST(trainer_same_bits_at_any_thread_count)
{
    if (getenv("SGAD_TEST_SKIP_SLOW")) /* a minute under valgrind; ASan runs it */
        return;
    float *w[2][2];
    int64_t n[2][2];
    for (int k = 0; k < 2; k++) {
        sgad_ctx *ctx = tu_ctx(12);
        ASSERT_OK(ctx, sgad_ctx_set_threads(ctx, k + 1));
        sgad_trainer *t;
        ASSERT_OK(ctx, sgad_trainer_create_preset(ctx, SGAD_MODEL_SGAD, SGAD_SHAPE_28X28X1, 4, 0,
                                                  SGAD_LOSS_EM, SGAD_OPTIMIZER_RMSPROP, &t));
        sgad_tensor *real = tu_tensor(ctx, 8, 1, 28, 28, 0);
        uint64_t state = 5;
        tu_fill_uniform(sgad_tensor_data(real), 8 * 784, 0, 1, &state);
        for (int i = 0; i < 2; i++)
            ASSERT_OK(ctx, sgad_trainer_step(t, real, NULL));
        for (int which = 0; which < 2; which++)
            w[k][which] = tu_net_weights(ctx, sgad_trainer_net(t, which), &n[k][which]);
        sgad_tensor_free(real);
        sgad_trainer_free(t);
        sgad_ctx_free(ctx);
    }
    for (int which = 0; which < 2; which++) {
        ck_assert(n[0][which] == n[1][which]);
        ck_assert_msg(same_bits(w[0][which], w[1][which], n[0][which]),
                      "%s differs between 1 and 2 threads", which ? "D" : "G");
        free(w[0][which]);
        free(w[1][which]);
    }
}
END_TEST

/* The event walks split positions by H*W and by W with sgad__divide: it
 * must equal the division for every numerator below 2^31, at the edges of
 * each quotient and at the largest divisors. */
START_TEST(divider_matches_division)
{
    static const uint32_t big[] = {65535,          65536,       65537,      1u << 30,
                                   (1u << 30) + 1, 2147483646u, 2147483647u};
    uint32_t seed = 12345;
    for (int i = 0; i < 3000 + (int)(sizeof big / sizeof *big); i++) {
        const uint32_t d = i < 3000 ? (uint32_t)i + 1 : big[i - 3000];
        const sgad__divider v = sgad__divider_of(d);
        const uint32_t top = 2147483647u;
        const uint32_t q_top = top / d;
        const uint32_t edges[] = {
            0, 1, d - 1, d, d + 1 <= top ? d + 1 : top, q_top * d - 1, q_top * d, top - 1, top};
        for (size_t e = 0; e < sizeof edges / sizeof *edges; e++)
            ck_assert_uint_eq(sgad__divide(edges[e], v), edges[e] / d);
        for (int r = 0; r < 64; r++) {
            seed = seed * 1103515245u + 12345u;
            const uint32_t n = seed >> 1; /* below 2^31 */
            ck_assert_uint_eq(sgad__divide(n, v), n / d);
        }
    }
}
END_TEST

Suite *suite_events(void)
{
    Suite *s = suite_create("events");
    TCase *tc = tcase_create("paths");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, linear_events_match_dense);
    tcase_add_test(tc, convt_events_match_dense);
    tcase_add_test(tc, conv_events_match_dense);
    tcase_add_test(tc, auto_keeps_dense_inputs_dense);
    tcase_add_test(tc, auto_estimates_large_inputs_from_a_sample);
    tcase_add_test(tc, repeating_spike_trains_go_by_train);
    tcase_add_test(tc, periodic_inputs_go_by_period);
    tcase_add_test(tc, events_pass_finite_differences);
    tcase_add_test(tc, trainer_same_bits_at_any_thread_count);
    tcase_add_test(tc, divider_matches_division);
    suite_add_tcase(s, tc);
    return s;
}
