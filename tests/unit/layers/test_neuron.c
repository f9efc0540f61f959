/* SPDX-License-Identifier: MIT */
/* Neurons: forward values by hand, BPTT against an independent plain
 * implementation of the equations, MP against finite differences, state
 * isolation, firing rates, options, surrogates and encoders. */
#include <math.h>
#include <string.h>

#include "gradcheck.h"
#include "test_util.h"

static sgad_layer *make(sgad_ctx *ctx, sgad_layer_kind kind)
{
    sgad_layer *l = NULL;
    if (kind == SGAD_LAYER_LIF)
        ASSERT_OK(ctx, sgad_lif_create(ctx, &l));
    else if (kind == SGAD_LAYER_IF)
        ASSERT_OK(ctx, sgad_if_create(ctx, &l));
    else
        ASSERT_OK(ctx, sgad_mp_create(ctx, &l));
    return l;
}

/* Constant input 1.5, tau 2, V_th 1: H = 0.75 (no spike, V = 0.75), then
 * 0.75 + (1.5 - 0.75)/2 = 1.125 (spike, V = 0), then 0.75 again, ... */
START_TEST(lif_forward_by_hand)
{
    sgad_ctx *ctx = tu_ctx(1);
    sgad_layer *lif = make(ctx, SGAD_LAYER_LIF), *mp = make(ctx, SGAD_LAYER_MP);
    sgad_tensor *x = tu_tensor(ctx, 4, 1, 1, 0), *y = tu_tensor(ctx, 4, 1, 1, 0);
    for (int t = 0; t < 4; t++)
        sgad_tensor_data(x)[t] = 1.5f;
    ASSERT_OK(ctx, sgad_layer_forward(lif, x, y));
    const float spikes[4] = {0, 1, 0, 1};
    ck_assert_mem_eq(sgad_tensor_data(y), spikes, sizeof spikes);
    double rate;
    ASSERT_OK(ctx, sgad_layer_firing_rate(lif, &rate));
    ck_assert_double_eq(rate, 0.5);
    ASSERT_OK(ctx, sgad_layer_forward(mp, x, y));
    const float mem[4] = {0.75f, 1.125f, 1.3125f, 1.40625f};
    ck_assert_mem_eq(sgad_tensor_data(y), mem, sizeof mem);
    ASSERT_STATUS(SGAD_E_UNSUPPORTED, sgad_layer_firing_rate(mp, &rate));
    /* Exactly at threshold does not fire (the authors' x > 0): input 2. */
    for (int t = 0; t < 4; t++)
        sgad_tensor_data(x)[t] = 2.0f;
    ASSERT_OK(ctx, sgad_layer_forward(lif, x, y));
    ck_assert_float_eq(sgad_tensor_data(y)[0], 0.0f); /* H = 1.0 */
    ck_assert_float_eq(sgad_tensor_data(y)[1], 1.0f); /* H = 1.5 */
    sgad_tensor_free(x);
    sgad_tensor_free(y);
    sgad_layer_free(lif);
    sgad_layer_free(mp);
    sgad_ctx_free(ctx);
}
END_TEST

typedef struct cfg {
    int kind, hard, detach, decay, surrogate;
    double tau, vth, vreset, alpha;
} cfg;

static double ref_surrogate(int kind, double alpha, double u)
{
    if (kind == SGAD_SURROGATE_SIGMOID) {
        const double s = 1 / (1 + exp(-alpha * u));
        return alpha * s * (1 - s);
    }
    if (kind == SGAD_SURROGATE_TRIANGLE)
        return fmax(0.0, alpha * (1 - alpha * fabs(u)));
    const double z = M_PI / 2 * alpha * u;
    return alpha / 2 / (1 + z * z);
}

/* Plain BPTT of one element in double, written from the equations as a
 * forward pass that records every quantity and a reverse pass over the
 * recorded graph (not the library's block recursion). */
static void ref_element(const cfg *c, int T, const double *x, const double *dy, double *dx)
{
    double H[64], S[64], V[65];
    V[0] = c->hard ? c->vreset : 0.0; /* V[t] is the state before step t */
    for (int t = 0; t < T; t++) {
        if (c->kind == SGAD_LAYER_IF)
            H[t] = V[t] + x[t];
        else if (c->decay)
            H[t] = V[t] + (x[t] - (V[t] - c->vreset)) / c->tau;
        else
            H[t] = V[t] - (V[t] - c->vreset) / c->tau + x[t];
        S[t] = H[t] > c->vth ? 1.0 : 0.0;
        V[t + 1] = c->hard ? H[t] * (1 - S[t]) + c->vreset * S[t] : H[t] - c->vth * S[t];
    }
    const double dHdV = c->kind == SGAD_LAYER_IF ? 1.0 : 1.0 - 1.0 / c->tau;
    const double dHdX = c->kind == SGAD_LAYER_IF || !c->decay ? 1.0 : 1.0 / c->tau;
    double gV = 0; /* dL/dV[t+1] */
    for (int t = T - 1; t >= 0; t--) {
        /* V[t+1] = f(H, S(H)): total derivative through both arguments. */
        const double dVdH = c->hard ? 1 - S[t] : 1.0;
        const double dVdS = c->detach ? 0.0 : (c->hard ? c->vreset - H[t] : -c->vth);
        const double dLdS = dy[t] + gV * dVdS;
        const double dLdH = gV * dVdH + dLdS * ref_surrogate(c->surrogate, c->alpha, H[t] - c->vth);
        dx[t] = dLdH * dHdX;
        gV = dLdH * dHdV;
    }
}

static void configure(sgad_ctx *ctx, sgad_layer *l, const cfg *c)
{
    if (c->kind == SGAD_LAYER_LIF) {
        ASSERT_OK(ctx, sgad_layer_set(l, SGAD_OPT_NEURON_TAU, c->tau));
        ASSERT_OK(ctx, sgad_layer_set(l, SGAD_OPT_NEURON_DECAY_INPUT, c->decay));
    }
    ASSERT_OK(ctx, sgad_layer_set(l, SGAD_OPT_NEURON_THRESHOLD, c->vth));
    ASSERT_OK(ctx, sgad_layer_set(l, SGAD_OPT_NEURON_V_RESET, c->vreset));
    ASSERT_OK(ctx, sgad_layer_set(l, SGAD_OPT_NEURON_RESET_MODE,
                                  c->hard ? SGAD_RESET_HARD : SGAD_RESET_SOFT));
    ASSERT_OK(ctx, sgad_layer_set(l, SGAD_OPT_NEURON_DETACH_RESET, c->detach));
    ASSERT_OK(ctx, sgad_layer_set(l, SGAD_OPT_NEURON_SURROGATE, c->surrogate));
    ASSERT_OK(ctx, sgad_layer_set(l, SGAD_OPT_NEURON_ALPHA, c->alpha));
}

static void check_bptt(sgad_ctx *ctx, const cfg *c, int T, int N, int F, uint64_t seed)
{
    sgad_layer *l = make(ctx, (sgad_layer_kind)c->kind);
    configure(ctx, l, c);
    sgad_tensor *x = tu_tensor(ctx, T, N, F, 0), *y = tu_tensor(ctx, T, N, F, 0);
    sgad_tensor *dy = tu_tensor(ctx, T, N, F, 0), *dx = tu_tensor(ctx, T, N, F, 0);
    uint64_t rng = seed;
    tu_fill_uniform(sgad_tensor_data(x), sgad_tensor_numel(x), -0.5f, 2.5f, &rng);
    tu_fill_uniform(sgad_tensor_data(dy), sgad_tensor_numel(dy), -1, 1, &rng);
    ASSERT_OK(ctx, sgad_layer_forward(l, x, y));
    ASSERT_OK(ctx, sgad_layer_backward(l, x, y, dy, dx));
    const int M = N * F;
    for (int j = 0; j < M; j++) {
        double xe[64], dye[64], dxe[64];
        for (int t = 0; t < T; t++) {
            xe[t] = sgad_tensor_data(x)[t * M + j];
            dye[t] = sgad_tensor_data(dy)[t * M + j];
        }
        ref_element(c, T, xe, dye, dxe);
        for (int t = 0; t < T; t++) {
            const double got = sgad_tensor_data(dx)[t * M + j];
            /* float32 against double: a non-leaky IF carries its state
             * through 16 undamped steps, so allow 1e-4 relative. */
            ck_assert_msg(fabs(got - dxe[t]) <= 1e-4 * fabs(dxe[t]) + 1e-6,
                          "kind %d hard %d detach %d decay %d surrogate %d T %d: dx[%d][%d] = "
                          "%.8g, reference %.8g",
                          c->kind, c->hard, c->detach, c->decay, c->surrogate, T, t, j, got,
                          dxe[t]);
        }
    }
    sgad_tensor_free(x);
    sgad_tensor_free(y);
    sgad_tensor_free(dy);
    sgad_tensor_free(dx);
    sgad_layer_free(l);
}

START_TEST(bptt_matches_plain_reference)
{
    sgad_ctx *ctx = tu_ctx(1);
    const int shapes[][3] = {{1, 1, 7}, {5, 3, 11}, {16, 2, 300}};
    int cases = 0;
    for (int kind = SGAD_LAYER_LIF; kind <= SGAD_LAYER_IF; kind++)
        for (int hard = 0; hard <= 1; hard++)
            for (int detach = 0; detach <= 1; detach++)
                for (int decay = 0; decay <= 1; decay++)
                    for (int sur = 0; sur <= 2; sur++) {
                        if (kind == SGAD_LAYER_IF && decay == 0)
                            continue; /* IF has no decay_input option */
                        const cfg c = {kind,
                                       hard,
                                       detach,
                                       decay,
                                       sur,
                                       2.0 + 0.5 * sur,
                                       hard ? 1.0 : 0.8,
                                       hard ? 0.1 * sur : 0.0,
                                       sur == 2 ? 1.0 : 2.0};
                        for (int s = 0; s < 3; s++)
                            check_bptt(ctx, &c, shapes[s][0], shapes[s][1], shapes[s][2],
                                       (uint64_t)(cases * 3 + s + 1));
                        cases++;
                    }
    ck_assert_int_eq(cases, 36);
    sgad_ctx_free(ctx);
}
END_TEST

START_TEST(mp_gradients_and_state_isolation)
{
    sgad_ctx *ctx = tu_ctx(1);
    sgad_layer *mp = make(ctx, SGAD_LAYER_MP), *lif = make(ctx, SGAD_LAYER_LIF);
    ASSERT_OK(ctx, sgad_layer_set(mp, SGAD_OPT_NEURON_TAU, 3.0));
    const gc_opts o = gc_default();
    const int64_t d1[3] = {1, 2, 3}, d2[3] = {6, 2, 3};
    gc_check_layer(mp, 3, d1, &o);
    gc_check_layer(mp, 3, d2, &o);
    /* Forward on A, then B, equals a fresh forward on B. */
    sgad_tensor *a = tu_tensor(ctx, 8, 4, 5, 0), *b = tu_tensor(ctx, 8, 4, 5, 0);
    sgad_tensor *y1 = tu_tensor(ctx, 8, 4, 5, 0), *y2 = tu_tensor(ctx, 8, 4, 5, 0);
    uint64_t rng = 2;
    tu_fill_uniform(sgad_tensor_data(a), 160, 0, 3, &rng);
    tu_fill_uniform(sgad_tensor_data(b), 160, 0, 3, &rng);
    ASSERT_OK(ctx, sgad_layer_forward(lif, b, y1));
    ASSERT_OK(ctx, sgad_layer_forward(lif, a, y2));
    ASSERT_OK(ctx, sgad_layer_forward(lif, b, y2));
    ck_assert_mem_eq(sgad_tensor_data(y1), sgad_tensor_data(y2), 160 * sizeof(float));
    double rate;
    ASSERT_OK(ctx, sgad_layer_firing_rate(lif, &rate));
    double count = 0;
    for (int i = 0; i < 160; i++)
        count += sgad_tensor_data(y2)[i];
    ck_assert_double_eq(rate, count / 160);
    ck_assert(rate > 0.05 && rate < 0.95);
    sgad_tensor_free(a);
    sgad_tensor_free(b);
    sgad_tensor_free(y1);
    sgad_tensor_free(y2);
    sgad_layer_free(mp);
    sgad_layer_free(lif);
    sgad_ctx_free(ctx);
}
END_TEST

START_TEST(options_round_trip_and_bounds)
{
    sgad_ctx *ctx = tu_ctx(1);
    sgad_layer *lif = make(ctx, SGAD_LAYER_LIF), *ifn = make(ctx, SGAD_LAYER_IF);
    sgad_layer *mp = make(ctx, SGAD_LAYER_MP);
    double v;
    const struct {
        sgad_option opt;
        double def;
    } defaults[] = {{SGAD_OPT_NEURON_TAU, 2},
                    {SGAD_OPT_NEURON_THRESHOLD, 1},
                    {SGAD_OPT_NEURON_V_RESET, 0},
                    {SGAD_OPT_NEURON_RESET_MODE, SGAD_RESET_HARD},
                    {SGAD_OPT_NEURON_DETACH_RESET, 1},
                    {SGAD_OPT_NEURON_DECAY_INPUT, 1},
                    {SGAD_OPT_NEURON_SURROGATE, SGAD_SURROGATE_ATAN},
                    {SGAD_OPT_NEURON_ALPHA, 2}};
    for (int i = 0; i < 8; i++) {
        ASSERT_OK(ctx, sgad_layer_get(lif, defaults[i].opt, &v));
        ck_assert_double_eq(v, defaults[i].def);
    }
    ASSERT_OK(ctx, sgad_layer_set(lif, SGAD_OPT_NEURON_TAU, 4.5));
    ASSERT_OK(ctx, sgad_layer_get(lif, SGAD_OPT_NEURON_TAU, &v));
    ck_assert_double_eq(v, 4.5);
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_layer_set(lif, SGAD_OPT_NEURON_TAU, 0.5));
    ck_assert_ptr_nonnull(strstr(sgad_ctx_last_error(ctx), "0.5"));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_layer_set(lif, SGAD_OPT_NEURON_THRESHOLD, -1));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_layer_set(lif, SGAD_OPT_NEURON_SURROGATE, 3));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_layer_set(lif, SGAD_OPT_NEURON_RESET_MODE, 0.5));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_layer_set(lif, SGAD_OPT_NEURON_ALPHA, INFINITY));
    ASSERT_STATUS(SGAD_E_UNSUPPORTED, sgad_layer_set(ifn, SGAD_OPT_NEURON_TAU, 3));
    ASSERT_STATUS(SGAD_E_UNSUPPORTED, sgad_layer_set(mp, SGAD_OPT_NEURON_THRESHOLD, 3));
    ASSERT_STATUS(SGAD_E_UNSUPPORTED, sgad_layer_set(lif, SGAD_OPT_BN_EPS, 0.1));
    ASSERT_OK(ctx, sgad_layer_set(mp, SGAD_OPT_NEURON_TAU, 3));
    sgad_layer_free(lif);
    sgad_layer_free(ifn);
    sgad_layer_free(mp);
    sgad_ctx_free(ctx);
}
END_TEST

/* Surrogate shapes through the layer: the backward of one step with dy = 1
 * and a detached hard reset is g(H - V_th) / tau. Each integrates to 1. */
START_TEST(surrogates_have_unit_area)
{
    sgad_ctx *ctx = tu_ctx(1);
    const double alphas[3] = {2, 4, 1};
    for (int sur = 0; sur <= 2; sur++) {
        sgad_layer *l = make(ctx, SGAD_LAYER_IF);
        ASSERT_OK(ctx, sgad_layer_set(l, SGAD_OPT_NEURON_SURROGATE, sur));
        ASSERT_OK(ctx, sgad_layer_set(l, SGAD_OPT_NEURON_ALPHA, alphas[sur]));
        enum { K = 4001 };
        sgad_tensor *x = tu_tensor(ctx, 1, K, 0), *y = tu_tensor(ctx, 1, K, 0);
        sgad_tensor *dy = tu_tensor(ctx, 1, K, 0), *dx = tu_tensor(ctx, 1, K, 0);
        const double lo = -9, step = 18.0 / (K - 1);
        for (int i = 0; i < K; i++) {
            sgad_tensor_data(x)[i] = (float)(1 + lo + i * step); /* H - V_th = lo + i step */
            sgad_tensor_data(dy)[i] = 1.0f;
        }
        ASSERT_OK(ctx, sgad_layer_forward(l, x, y));
        ASSERT_OK(ctx, sgad_layer_backward(l, x, y, dy, dx));
        double area = 0;
        for (int i = 0; i < K; i++)
            area += sgad_tensor_data(dx)[i] * step;
        /* The window [-9, 9] misses arctan's slow tails: its area there is
         * 2 atan(pi/2 alpha 9) / pi; the others are inside to < 1e-12. */
        const double want = sur == 0 ? 2 * atan(M_PI / 2 * alphas[0] * 9) / M_PI : 1.0;
        ck_assert_double_eq_tol(area, want, 1e-3);
        /* Peaks at u = 0: alpha/2, alpha/4 and alpha, all 1 here. */
        ck_assert_double_eq_tol(sgad_tensor_data(dx)[K / 2], 1.0, 1e-5);
        sgad_tensor_free(x);
        sgad_tensor_free(y);
        sgad_tensor_free(dy);
        sgad_tensor_free(dx);
        sgad_layer_free(l);
    }
    sgad_ctx_free(ctx);
}
END_TEST

START_TEST(encoders)
{
    sgad_ctx *ctx = tu_ctx(1);
    sgad_tensor *x = tu_tensor(ctx, 2, 3, 0), *y = tu_tensor(ctx, 4, 2, 3, 0);
    const float xs[6] = {0.0f, 0.2f, 0.5f, 0.76f, 1.0f, 0.3f};
    memcpy(sgad_tensor_data(x), xs, sizeof xs);
    ASSERT_OK(ctx, sgad_encode(ctx, SGAD_ENCODE_DIRECT, 0, x, y));
    for (int t = 0; t < 4; t++)
        ck_assert_mem_eq(sgad_tensor_data(y) + 6 * t, xs, sizeof xs);
    ASSERT_OK(ctx, sgad_encode(ctx, SGAD_ENCODE_TTFS, 0, x, y));
    /* x T = 0, 0.8, 2, 3.04, 4, 1.2: steps none, 3, 2, 0, 0, 2. */
    const int step[6] = {-1, 3, 2, 0, 0, 2};
    for (int j = 0; j < 6; j++)
        for (int t = 0; t < 4; t++) {
            const float want = t == step[j] ? 1.0f / (float)(t + 1) : 0.0f;
            ck_assert_float_eq(sgad_tensor_data(y)[t * 6 + j], want);
        }
    sgad_tensor *dx = tu_tensor(ctx, 2, 3, 0);
    ASSERT_OK(ctx, sgad_encode_backward(ctx, SGAD_ENCODE_DIRECT, y, dx));
    ck_assert_float_eq_tol(sgad_tensor_data(dx)[2], 1.0f / 3, 1e-6f); /* sum over t */
    ck_assert_float_eq(sgad_tensor_data(dx)[0], 0.0f);
    ASSERT_STATUS(SGAD_E_UNSUPPORTED, sgad_encode_backward(ctx, SGAD_ENCODE_RATE, y, dx));
    ASSERT_STATUS(SGAD_E_SHAPE, sgad_encode(ctx, SGAD_ENCODE_DIRECT, 0, y, x));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_encode(ctx, (sgad_encoding)7, 0, x, y));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_encode(NULL, SGAD_ENCODE_DIRECT, 0, x, y));

    /* Rate: reproducible per seed, different across seeds, mean ~ p. */
    sgad_tensor *p = tu_tensor(ctx, 1, 0), *r1 = tu_tensor(ctx, 20000, 1, 0);
    sgad_tensor *r2 = tu_tensor(ctx, 20000, 1, 0);
    sgad_tensor_data(p)[0] = 0.3f;
    ASSERT_OK(ctx, sgad_encode(ctx, SGAD_ENCODE_RATE, 11, p, r1));
    ASSERT_OK(ctx, sgad_encode(ctx, SGAD_ENCODE_RATE, 11, p, r2));
    ck_assert_mem_eq(sgad_tensor_data(r1), sgad_tensor_data(r2), 20000 * sizeof(float));
    ASSERT_OK(ctx, sgad_encode(ctx, SGAD_ENCODE_RATE, 12, p, r2));
    ck_assert(memcmp(sgad_tensor_data(r1), sgad_tensor_data(r2), 20000 * sizeof(float)) != 0);
    double mean = 0;
    for (int i = 0; i < 20000; i++)
        mean += sgad_tensor_data(r1)[i] / 20000.0;
    /* Binomial std of the mean: sqrt(0.3 * 0.7 / 20000) = 0.0032; 5 sigma. */
    ck_assert_double_eq_tol(mean, 0.3, 0.016);
    sgad_tensor_free(x);
    sgad_tensor_free(y);
    sgad_tensor_free(dx);
    sgad_tensor_free(p);
    sgad_tensor_free(r1);
    sgad_tensor_free(r2);
    sgad_ctx_free(ctx);
}
END_TEST

Suite *suite_neuron(void)
{
    Suite *s = suite_create("neuron");
    TCase *tc = tcase_create("neuron");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, lif_forward_by_hand);
    tcase_add_test(tc, bptt_matches_plain_reference);
    tcase_add_test(tc, mp_gradients_and_state_isolation);
    tcase_add_test(tc, options_round_trip_and_bounds);
    tcase_add_test(tc, surrogates_have_unit_area);
    tcase_add_test(tc, encoders);
    suite_add_tcase(s, tc);
    return s;
}
