/* SPDX-License-Identifier: MIT */
/* The trainer's settings: n_critic, weight clipping, learning-rate
 * schedules, G's moving average, per-layer firing rates, and sampling with
 * the decoder's per-step inputs and scores. A tiny GAN (tiny_gan.c) keeps
 * them fast, also under valgrind; the decoder test needs the SGAD preset. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "tiny_gan.h"

typedef struct rig {
    sgad_ctx *ctx;
    sgad_net *g, *d;
    sgad_trainer *t;
    sgad_tensor *real;
} rig;

/* A preset at 28x28 (for the decoder), or with model < 0 the tiny GAN:
 * G [1, N, 4] -> [1, N, 1, 4, 4], T = 2. */
static rig make_rig(int model, int steps)
{
    rig r;
    r.ctx = tu_ctx(11);
    if (model >= 0) {
        ASSERT_OK(r.ctx, sgad_preset_create(r.ctx, (sgad_model)model, SGAD_SHAPE_28X28X1, steps, 15,
                                            &r.g, &r.d));
        ASSERT_OK(r.ctx, sgad_trainer_create(r.ctx, r.g, r.d, 15, SGAD_LOSS_EM,
                                             SGAD_OPTIMIZER_RMSPROP, &r.t));
        r.real = tu_tensor(r.ctx, 4, 1, 28, 28, 0);
    } else {
        tiny_gan gan;
        ck_assert_int_eq(tiny_gan_create(r.ctx, 32, 11, &gan), 0);
        r.g = gan.g;
        r.d = gan.d;
        r.t = gan.t;
        sgad_tensor_free(gan.real);
        r.real = tu_tensor(r.ctx, 4, 1, 4, 4, 0);
    }
    ASSERT_OK(r.ctx, sgad_trainer_set_seed(r.t, 3));
    uint64_t state = 23;
    tu_fill_uniform(sgad_tensor_data(r.real), sgad_tensor_numel(r.real), 0, 1, &state);
    return r;
}

#define TINY (-1)

static void free_rig(rig *r)
{
    sgad_tensor_free(r->real);
    sgad_trainer_free(r->t);
    sgad_net_free(r->g);
    sgad_net_free(r->d);
    sgad_ctx_free(r->ctx);
}

static int same_weights(sgad_ctx *ctx, sgad_net *net, const float *w, int64_t n)
{
    int64_t m;
    float *now = tu_net_weights(ctx, net, &m);
    const int same = m == n && memcmp(now, w, (size_t)n * sizeof *w) == 0;
    free(now);
    return same;
}

START_TEST(n_critic_updates_g_every_nth_iteration)
{
    rig r = make_rig(TINY, 2);
    ASSERT_OK(r.ctx, sgad_trainer_set(r.t, SGAD_OPT_N_CRITIC, 3));
    int64_t n;
    float *g0 = tu_net_weights(r.ctx, r.g, &n);
    double updated;
    for (int i = 0; i < 2; i++) {
        ASSERT_OK(r.ctx, sgad_trainer_step(r.t, r.real, NULL));
        ASSERT_OK(r.ctx, sgad_trainer_stat(r.t, SGAD_STAT_G_UPDATED, &updated));
        ck_assert(updated == 0.0);
    }
    /* G's batch norms ran (in the D update) but its parameters did not move:
     * compare the trained ones through the optimizer's step count instead. */
    ck_assert_int_eq(sgad_optimizer_steps(sgad_trainer_optimizer(r.t, 0)), 0);
    ck_assert_int_eq(sgad_optimizer_steps(sgad_trainer_optimizer(r.t, 1)), 2);
    sgad_tensor *w;
    ASSERT_OK(r.ctx, sgad_net_param(r.g, 0, NULL, &w, NULL)); /* the first linear weight */
    ck_assert_mem_eq(sgad_tensor_data(w), g0, (size_t)sgad_tensor_numel(w) * sizeof *g0);
    ASSERT_OK(r.ctx, sgad_trainer_step(r.t, r.real, NULL));
    ASSERT_OK(r.ctx, sgad_trainer_stat(r.t, SGAD_STAT_G_UPDATED, &updated));
    ck_assert(updated == 1.0);
    ck_assert_int_eq(sgad_optimizer_steps(sgad_trainer_optimizer(r.t, 0)), 1);
    ck_assert(memcmp(sgad_tensor_data(w), g0, (size_t)sgad_tensor_numel(w) * sizeof *g0) != 0);
    double v;
    ASSERT_OK(r.ctx, sgad_trainer_get(r.t, SGAD_OPT_N_CRITIC, &v));
    ck_assert(v == 3.0);
    free(g0);
    free_rig(&r);
}
END_TEST

START_TEST(clipping_bounds_trained_parameters_of_d_only)
{
    rig r = make_rig(TINY, 2);
    const double c = 0.01;
    ASSERT_OK(r.ctx, sgad_trainer_set(r.t, SGAD_OPT_CLIP, c));
    ASSERT_OK(r.ctx, sgad_trainer_step(r.t, r.real, NULL));
    int at_bound = 0, buffers_beyond = 0;
    for (int i = 0; i < sgad_net_param_count(r.d); i++) {
        sgad_tensor *v, *g;
        ASSERT_OK(r.ctx, sgad_net_param(r.d, i, NULL, &v, &g));
        const float *p = sgad_tensor_data(v);
        for (int64_t j = 0; j < sgad_tensor_numel(v); j++) {
            if (!g) {
                buffers_beyond += fabsf(p[j]) > (float)c;
                continue;
            }
            ck_assert_msg(fabsf(p[j]) <= (float)c, "D parameter %d[%lld] = %g", i, (long long)j,
                          (double)p[j]);
            at_bound += fabsf(p[j]) == (float)c;
        }
    }
    ck_assert_int_gt(at_bound, 400);     /* initial weights are far larger than c */
    ck_assert_int_eq(buffers_beyond, 0); /* the tiny D has no batch norm */
    /* G is never clipped: its first weight matrix keeps values beyond c. */
    sgad_tensor *w;
    ASSERT_OK(r.ctx, sgad_net_param(r.g, 0, NULL, &w, NULL));
    float big = 0;
    for (int64_t j = 0; j < sgad_tensor_numel(w); j++)
        big = fmaxf(big, fabsf(sgad_tensor_data(w)[j]));
    ck_assert(big > 0.1f);
    free_rig(&r);
}
END_TEST

/* The factor each schedule must give, written out from its definition. */
static double expected_factor(sgad_schedule kind, int64_t length, int64_t period, int64_t it)
{
    const double pi = 3.14159265358979323846;
    const int64_t p = it / period * period, hold = kind == SGAD_SCHEDULE_PAPER ? length / 2 : 0;
    if (kind == SGAD_SCHEDULE_CONSTANT || p < hold)
        return 1.0;
    if (p >= length)
        return 0.0;
    return 0.5 * (1.0 + cos(pi * (double)(p - hold) / (double)(length - hold)));
}

static void check_schedule(sgad_schedule kind, int64_t length, int64_t period, const double *want,
                           int iters)
{
    rig a = make_rig(TINY, 2), b = make_rig(TINY, 2);
    ASSERT_OK(a.ctx, sgad_trainer_set(a.t, SGAD_OPT_SCHEDULE, kind));
    ASSERT_OK(a.ctx, sgad_trainer_set(a.t, SGAD_OPT_SCHEDULE_LENGTH, (double)length));
    ASSERT_OK(a.ctx, sgad_trainer_set(a.t, SGAD_OPT_SCHEDULE_PERIOD, (double)period));
    ASSERT_OK(a.ctx, sgad_optimizer_set(sgad_trainer_optimizer(a.t, 1), SGAD_OPT_LR, 4e-4));
    for (int i = 0; i < iters; i++) {
        double lr_d, lr_g, base;
        const double f = expected_factor(kind, length, period, i);
        ck_assert_double_eq_tol(f, want[i], 1e-12);
        /* b gets the same rates by hand, with no schedule */
        ASSERT_OK(b.ctx, sgad_optimizer_set(sgad_trainer_optimizer(b.t, 0), SGAD_OPT_LR, 2e-4 * f));
        ASSERT_OK(b.ctx, sgad_optimizer_set(sgad_trainer_optimizer(b.t, 1), SGAD_OPT_LR, 4e-4 * f));
        ASSERT_OK(a.ctx, sgad_trainer_step(a.t, a.real, NULL));
        ASSERT_OK(b.ctx, sgad_trainer_step(b.t, b.real, NULL));
        ASSERT_OK(a.ctx, sgad_trainer_stat(a.t, SGAD_STAT_LR_D, &lr_d));
        ASSERT_OK(a.ctx, sgad_trainer_stat(a.t, SGAD_STAT_LR_G, &lr_g));
        ck_assert_double_eq_tol(lr_d, 4e-4 * want[i], 1e-15);
        ck_assert_double_eq_tol(lr_g, 2e-4 * want[i], 1e-15);
        ASSERT_OK(a.ctx, sgad_optimizer_get(sgad_trainer_optimizer(a.t, 1), SGAD_OPT_LR, &base));
        ck_assert(base == 4e-4); /* the rate the caller set stays */
    }
    int64_t n;
    float *wb = tu_net_weights(b.ctx, b.g, &n);
    ck_assert(same_weights(a.ctx, a.g, wb, n));
    free(wb);
    wb = tu_net_weights(b.ctx, b.d, &n);
    ck_assert(same_weights(a.ctx, a.d, wb, n));
    free(wb);
    free_rig(&a);
    free_rig(&b);
}

START_TEST(cosine_schedule)
{
    const double want[6] = {1.0, 0.8535533905932737, 0.5, 0.14644660940672627, 0, 0};
    check_schedule(SGAD_SCHEDULE_COSINE, 4, 1, want, 6);
}
END_TEST

START_TEST(paper_schedule_holds_then_anneals)
{
    const double want[6] = {1, 1, 1, 0.5, 0, 0};
    check_schedule(SGAD_SCHEDULE_PAPER, 4, 1, want, 6);
}
END_TEST

START_TEST(schedule_steps_per_period)
{
    const double want[6] = {1, 1, 0.5, 0.5, 0, 0}; /* cosine over 2 "epochs" of 2 */
    check_schedule(SGAD_SCHEDULE_COSINE, 4, 2, want, 6);
}
END_TEST

START_TEST(ema_averages_g_and_samples_with_it)
{
    rig r = make_rig(TINY, 2);
    sgad_tensor *z = tu_tensor(r.ctx, 1, 3, 4, 0);
    sgad_tensor *img = tu_tensor(r.ctx, 1, 3, 1, 4, 4, 0);
    ASSERT_STATUS(SGAD_E_STATE, sgad_trainer_sample_ex(r.t, z, img, SGAD_SAMPLE_EMA, NULL, NULL));
    const double decay = 0.75;
    ASSERT_OK(r.ctx, sgad_trainer_set(r.t, SGAD_OPT_EMA_DECAY, decay));
    int64_t n;
    float *avg = tu_net_weights(r.ctx, r.g, &n); /* the average starts at G's weights */
    for (int i = 0; i < 3; i++) {
        ASSERT_OK(r.ctx, sgad_trainer_step(r.t, r.real, NULL));
        float *now = tu_net_weights(r.ctx, r.g, &n);
        for (int64_t j = 0; j < n; j++)
            avg[j] = (float)decay * avg[j] + (float)(1.0 - decay) * now[j];
        free(now);
    }
    uint64_t state = 5;
    tu_fill_uniform(sgad_tensor_data(z), 12, -2, 2, &state);
    float *trained = tu_net_weights(r.ctx, r.g, &n);
    ASSERT_OK(r.ctx, sgad_trainer_sample_ex(r.t, z, img, SGAD_SAMPLE_EMA, NULL, NULL));
    ck_assert(same_weights(r.ctx, r.g, trained, n)); /* swapped back bitwise */
    /* the same images from a G loaded with the expected average */
    sgad_tensor *want = tu_tensor(r.ctx, 1, 3, 1, 4, 4, 0);
    const float *p = avg;
    for (int i = 0; i < sgad_net_param_count(r.g); i++) {
        sgad_tensor *v;
        ASSERT_OK(r.ctx, sgad_net_param(r.g, i, NULL, &v, NULL));
        memcpy(sgad_tensor_data(v), p, (size_t)sgad_tensor_numel(v) * sizeof *p);
        p += sgad_tensor_numel(v);
    }
    ASSERT_OK(r.ctx, sgad_trainer_sample(r.t, z, want));
    ck_assert(tu_max_scaled_err(sgad_tensor_data(img), sgad_tensor_data(want), 3 * 16, 1e-5,
                                1e-6) <= 1.0);
    /* and they differ from the trained G's images */
    ck_assert(memcmp(trained, avg, (size_t)n * sizeof *avg) != 0);
    ASSERT_OK(r.ctx, sgad_trainer_set(r.t, SGAD_OPT_EMA_DECAY, 0));
    ASSERT_STATUS(SGAD_E_STATE, sgad_trainer_sample_ex(r.t, z, img, SGAD_SAMPLE_EMA, NULL, NULL));
    free(avg);
    free(trained);
    sgad_tensor_free(z);
    sgad_tensor_free(img);
    sgad_tensor_free(want);
    free_rig(&r);
}
END_TEST

START_TEST(firing_rates_per_layer)
{
    rig r = make_rig(TINY, 2);
    double rate;
    ASSERT_STATUS(SGAD_E_STATE, sgad_trainer_firing_rate(r.t, 0, 3, &rate));
    ASSERT_OK(r.ctx, sgad_trainer_step(r.t, r.real, NULL));
    int spiking[2] = {0, 0};
    for (int which = 0; which < 2; which++) {
        sgad_net *net = which ? r.d : r.g;
        for (int i = 0; i < sgad_net_layer_count(net); i++) {
            const sgad_layer_kind kind = sgad_layer_get_kind(sgad_net_layer(net, i));
            const sgad_status s = sgad_trainer_firing_rate(r.t, which, i, &rate);
            if (kind != SGAD_LAYER_LIF) {
                ck_assert_int_eq(s, SGAD_E_UNSUPPORTED);
                continue;
            }
            ck_assert_int_eq(s, SGAD_OK);
            ck_assert(rate >= 0 && rate <= 1);
            spiking[which]++;
            if (which == 0) { /* G's rates are those of its last forward */
                double last;
                ASSERT_OK(r.ctx, sgad_net_firing_rate(r.g, i, &last));
                ck_assert(rate == last);
            }
        }
    }
    ck_assert_int_eq(spiking[0], 1); /* one LIF layer in each tiny net */
    ck_assert_int_eq(spiking[1], 1);
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_trainer_firing_rate(r.t, 2, 0, &rate));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_trainer_firing_rate(r.t, 0, 99, &rate));
    free_rig(&r);
}
END_TEST

/* Sampling keeps only G's last outputs (the rest take turns in the
 * context's gradient buffers): the images are bit for bit those of G's
 * own evaluation forward, which keeps every output, and training goes on
 * from the same state afterwards (not under valgrind, where the second
 * round would add half a minute to the first). */
START_TEST(sampling_matches_an_evaluation_forward)
{
    const int T = 3, N = 4;
    rig r = make_rig(SGAD_MODEL_SGAD, T);
    sgad_tensor *z = tu_tensor(r.ctx, 1, N, 15, 0);
    sgad_tensor *img = tu_tensor(r.ctx, 1, N, 1, 28, 28, 0);
    sgad_tensor *want = tu_tensor(r.ctx, 1, N, 1, 28, 28, 0);
    sgad_tensor *spikes = tu_tensor(r.ctx, T, N, 128, 7, 7, 0);
    uint64_t state = 9;
    tu_fill_uniform(sgad_tensor_data(z), N * 15, -2, 2, &state);
    ASSERT_OK(r.ctx, sgad_trainer_step(r.t, r.real, NULL));
    /* An untrained G's running variances (near 1) leave its LIFs silent in
     * evaluation and its images constant; small ones make it spike. */
    for (int i = 0; i < sgad_net_param_count(r.g); i++) {
        const char *name;
        sgad_tensor *v;
        ASSERT_OK(r.ctx, sgad_net_param(r.g, i, &name, &v, NULL));
        if (strstr(name, "running_var"))
            for (int64_t j = 0; j < sgad_tensor_numel(v); j++)
                sgad_tensor_data(v)[j] = 1e-4f;
    }
    ASSERT_OK(r.ctx, sgad_trainer_sample(r.t, z, img));
    /* the reshaped spikes of G (layer 7) were not kept by the sampling */
    ASSERT_STATUS(SGAD_E_STATE, sgad_net_activation(r.g, 7, spikes));
    ASSERT_OK(r.ctx, sgad_net_set_training(r.g, 0));
    ASSERT_OK(r.ctx, sgad_net_forward(r.g, z, want));
    ASSERT_OK(r.ctx, sgad_net_activation(r.g, 7, spikes));
    ASSERT_OK(r.ctx, sgad_net_set_training(r.g, 1));
    ck_assert(memcmp(sgad_tensor_data(img), sgad_tensor_data(want), N * 784 * sizeof(float)) == 0);
    double spread = 0;
    for (int i = 1; i < N * 784; i++)
        spread += fabs(sgad_tensor_data(img)[i] - sgad_tensor_data(img)[0]);
    double fired = 0;
    for (int64_t i = 0; i < sgad_tensor_numel(spikes); i++)
        fired += sgad_tensor_data(spikes)[i];
    ck_assert_msg(spread > 0 && fired > 0, "spread %g, spikes %g: a constant image", spread, fired);
    if (!getenv("SGAD_TEST_SKIP_SLOW")) {
        ASSERT_OK(r.ctx, sgad_trainer_step(r.t, r.real, NULL));
        ASSERT_OK(r.ctx, sgad_trainer_sample(r.t, z, img));
        ASSERT_OK(r.ctx, sgad_net_set_training(r.g, 0));
        ASSERT_OK(r.ctx, sgad_net_forward(r.g, z, want));
        ASSERT_OK(r.ctx, sgad_net_set_training(r.g, 1));
        ck_assert(memcmp(sgad_tensor_data(img), sgad_tensor_data(want), N * 784 * sizeof(float)) ==
                  0);
    }
    sgad_tensor *all[] = {z, img, want, spikes};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        sgad_tensor_free(all[i]);
    free_rig(&r);
}
END_TEST

/* SGAD_SAMPLE_BATCH_STATS samples what G in training mode (PyTorch's train
 * mode, the authors' sampling) computes, bit for bit, yet leaves G, running
 * statistics included, and the course of training as they were. */
START_TEST(sampling_with_batch_statistics)
{
    const int T = 3, N = 5;
    rig r = make_rig(SGAD_MODEL_SGAD, T), twin = make_rig(SGAD_MODEL_SGAD, T);
    sgad_tensor *z = tu_tensor(r.ctx, 1, N, 15, 0);
    sgad_tensor *img = tu_tensor(r.ctx, 1, N, 1, 28, 28, 0);
    sgad_tensor *plain = tu_tensor(r.ctx, 1, N, 1, 28, 28, 0);
    sgad_tensor *want = tu_tensor(r.ctx, 1, N, 1, 28, 28, 0);
    sgad_tensor *steps = tu_tensor(r.ctx, T, N, 1, 28, 28, 0), *scores = tu_tensor(r.ctx, T, N, 0);
    uint64_t state = 12;
    tu_fill_uniform(sgad_tensor_data(z), N * 15, -2, 2, &state);
    ASSERT_OK(r.ctx, sgad_trainer_step(r.t, r.real, NULL));
    ASSERT_OK(twin.ctx, sgad_trainer_step(twin.t, twin.real, NULL));
    int64_t n;
    float *before = tu_net_weights(r.ctx, r.g, &n);
    ASSERT_OK(r.ctx, sgad_trainer_sample_ex(r.t, z, img, SGAD_SAMPLE_BATCH_STATS, NULL, NULL));
    ck_assert(same_weights(r.ctx, r.g, before, n)); /* running statistics too */
    ASSERT_OK(r.ctx, sgad_trainer_sample_ex(r.t, z, want, SGAD_SAMPLE_BATCH_STATS, steps, scores));
    ck_assert(memcmp(sgad_tensor_data(img), sgad_tensor_data(want), N * 784 * sizeof(float)) == 0);
    /* one sample alone has no batch statistics; the flag is undone anyway */
    sgad_tensor *z1 = tu_tensor(r.ctx, 1, 1, 15, 0), *img1 = tu_tensor(r.ctx, 1, 1, 1, 28, 28, 0);
    ASSERT_STATUS(SGAD_E_SHAPE,
                  sgad_trainer_sample_ex(r.t, z1, img1, SGAD_SAMPLE_BATCH_STATS, NULL, NULL));
    ASSERT_OK(r.ctx, sgad_trainer_sample(r.t, z, plain));
    ck_assert(same_weights(r.ctx, r.g, before, n));
    /* training goes on as in the twin, which never sampled */
    ASSERT_OK(r.ctx, sgad_trainer_step(r.t, r.real, NULL));
    ASSERT_OK(twin.ctx, sgad_trainer_step(twin.t, twin.real, NULL));
    float *trained = tu_net_weights(twin.ctx, twin.g, &n);
    ck_assert(same_weights(r.ctx, r.g, trained, n));
    free(trained);
    /* the references: G's forward in training mode (which moves the
     * running statistics: put them back after) and in evaluation mode */
    const float *p = before;
    for (int i = 0; i < sgad_net_param_count(r.g); i++) {
        sgad_tensor *v;
        ASSERT_OK(r.ctx, sgad_net_param(r.g, i, NULL, &v, NULL));
        memcpy(sgad_tensor_data(v), p, (size_t)sgad_tensor_numel(v) * sizeof *p);
        p += sgad_tensor_numel(v);
    }
    ASSERT_OK(r.ctx, sgad_net_forward(r.g, z, want));
    ck_assert(memcmp(sgad_tensor_data(img), sgad_tensor_data(want), N * 784 * sizeof(float)) == 0);
    ck_assert(!same_weights(r.ctx, r.g, before, n));
    ASSERT_OK(r.ctx, sgad_net_set_training(r.g, 0));
    ASSERT_OK(r.ctx, sgad_net_forward(r.g, z, want));
    ASSERT_OK(r.ctx, sgad_net_set_training(r.g, 1));
    ck_assert(memcmp(sgad_tensor_data(plain), sgad_tensor_data(want), N * 784 * sizeof(float)) ==
              0);
    ck_assert(memcmp(sgad_tensor_data(plain), sgad_tensor_data(img), N * 784 * sizeof(float)) != 0);
    free(before);
    sgad_tensor *all[] = {z, img, plain, want, steps, scores, z1, img1};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        sgad_tensor_free(all[i]);
    free_rig(&r);
    free_rig(&twin);
}
END_TEST

/* The scores and inputs rebuild the image by Eq. 6: V_t = (1 - s_x) V_{t-1} + s_x X_t. */
START_TEST(sample_reports_decoder_steps_and_scores)
{
    const int T = 3, N = 2;
    rig r = make_rig(SGAD_MODEL_SGAD, T);
    sgad_tensor *z = tu_tensor(r.ctx, 1, N, 15, 0);
    sgad_tensor *img = tu_tensor(r.ctx, 1, N, 1, 28, 28, 0);
    sgad_tensor *steps = tu_tensor(r.ctx, T, N, 1, 28, 28, 0);
    sgad_tensor *scores = tu_tensor(r.ctx, T, N, 0);
    uint64_t state = 8;
    tu_fill_uniform(sgad_tensor_data(z), N * 15, -2, 2, &state);
    ASSERT_OK(r.ctx, sgad_trainer_sample_ex(r.t, z, img, 0, steps, scores));
    const float *x = sgad_tensor_data(steps), *s = sgad_tensor_data(scores);
    for (int n = 0; n < N; n++) {
        ck_assert(s[n] == 1.0f);
        float v[784];
        memcpy(v, x + n * 784, sizeof v);
        for (int t = 1; t < T; t++) {
            const float sx = s[t * N + n];
            ck_assert(sx > 0 && sx < 1);
            for (int j = 0; j < 784; j++)
                v[j] = (1 - sx) * v[j] + sx * x[(t * N + n) * 784 + j];
        }
        ck_assert(tu_max_scaled_err(v, sgad_tensor_data(img) + n * 784, 784, 1e-5, 1e-6) <= 1);
    }
    sgad_tensor *wrong = tu_tensor(r.ctx, T, N + 1, 0);
    ASSERT_STATUS(SGAD_E_SHAPE, sgad_trainer_sample_ex(r.t, z, img, 0, NULL, wrong));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_trainer_sample_ex(r.t, z, img, 0x10, NULL, NULL));
    rig w = make_rig(TINY, 2); /* no attention decoder */
    sgad_tensor *wz = tu_tensor(w.ctx, 1, N, 4, 0), *wimg = tu_tensor(w.ctx, 1, N, 1, 4, 4, 0);
    ASSERT_STATUS(SGAD_E_STATE, sgad_trainer_sample_ex(w.t, wz, wimg, 0, NULL, scores));
    sgad_tensor_free(wz);
    sgad_tensor_free(wimg);
    sgad_tensor_free(z);
    sgad_tensor_free(img);
    sgad_tensor_free(steps);
    sgad_tensor_free(scores);
    sgad_tensor_free(wrong);
    free_rig(&r);
    free_rig(&w);
}
END_TEST

START_TEST(option_errors)
{
    rig r = make_rig(TINY, 2);
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_trainer_set(r.t, SGAD_OPT_N_CRITIC, 0));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_trainer_set(r.t, SGAD_OPT_N_CRITIC, 2.5));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_trainer_set(r.t, SGAD_OPT_CLIP, -1));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_trainer_set(r.t, SGAD_OPT_EMA_DECAY, 1));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_trainer_set(r.t, SGAD_OPT_SCHEDULE, 3));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_trainer_set(r.t, SGAD_OPT_SCHEDULE_LENGTH, 0));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_trainer_set(r.t, SGAD_OPT_CLIP, NAN));
    ASSERT_STATUS(SGAD_E_UNSUPPORTED, sgad_trainer_set(r.t, SGAD_OPT_NEURON_TAU, 2));
    ck_assert_ptr_nonnull(strstr(sgad_ctx_last_error(r.ctx), "not a trainer's"));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_trainer_set(NULL, SGAD_OPT_CLIP, 1));
    double v;
    ASSERT_STATUS(SGAD_E_UNSUPPORTED, sgad_trainer_get(r.t, SGAD_OPT_LR, &v));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_trainer_get(r.t, SGAD_OPT_CLIP, NULL));
    ASSERT_OK(r.ctx, sgad_trainer_get(r.t, SGAD_OPT_SCHEDULE_PERIOD, &v));
    ck_assert(v == 1.0);
    ASSERT_OK(r.ctx, sgad_trainer_get(r.t, SGAD_OPT_EMA_DECAY, &v));
    ck_assert(v == 0.0);
    free_rig(&r);
}
END_TEST

START_TEST(net_activations_read_back)
{
    rig r = make_rig(TINY, 2);
    int nd;
    int64_t dims[SGAD_MAX_DIMS];
    ASSERT_STATUS(SGAD_E_STATE, sgad_net_activation_dims(r.g, 0, &nd, dims));
    sgad_tensor *z = tu_tensor(r.ctx, 1, 2, 4, 0);
    uint64_t state = 4;
    tu_fill_uniform(sgad_tensor_data(z), 8, -1, 1, &state);
    ASSERT_OK(r.ctx, sgad_net_forward(r.g, z, NULL));
    ASSERT_OK(r.ctx, sgad_net_activation_dims(r.g, -1, &nd, dims));
    ck_assert_int_eq(nd, 3);
    sgad_tensor *in = tu_tensor(r.ctx, 8, 0);
    ASSERT_OK(r.ctx, sgad_net_activation(r.g, -1, in));
    ck_assert_mem_eq(sgad_tensor_data(in), sgad_tensor_data(z), 8 * sizeof(float));
    /* layer 0 repeats z over T = 2 steps */
    ASSERT_OK(r.ctx, sgad_net_activation_dims(r.g, 0, &nd, dims));
    ck_assert(nd == 3 && dims[0] == 2 && dims[1] == 2 && dims[2] == 4);
    sgad_tensor *rep = tu_tensor(r.ctx, 2, 2, 4, 0);
    ASSERT_OK(r.ctx, sgad_net_activation(r.g, 0, rep));
    ck_assert_mem_eq(sgad_tensor_data(rep) + 8, sgad_tensor_data(z), 8 * sizeof(float));
    /* the last activation is the output */
    const int last = sgad_net_layer_count(r.g) - 1;
    sgad_tensor *out = tu_tensor(r.ctx, 2 * 16, 0);
    ASSERT_OK(r.ctx, sgad_net_activation(r.g, last, out));
    ck_assert_mem_eq(sgad_tensor_data(out), sgad_tensor_data(sgad_net_output(r.g)),
                     2 * 16 * sizeof(float));
    ASSERT_STATUS(SGAD_E_SHAPE, sgad_net_activation(r.g, last, in));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_net_activation(r.g, last + 1, out));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_net_activation(r.g, -2, out));
    sgad_tensor_free(z);
    sgad_tensor_free(in);
    sgad_tensor_free(rep);
    sgad_tensor_free(out);
    free_rig(&r);
}
END_TEST

START_TEST(seeded_latents_are_standard_normal_and_reproducible)
{
    sgad_ctx *ctx = tu_ctx(1);
    sgad_tensor *a = tu_tensor(ctx, 1, 100, 100, 0), *b = tu_tensor(ctx, 1, 100, 100, 0);
    ASSERT_OK(ctx, sgad_draw_latents(ctx, 7, a));
    ASSERT_OK(ctx, sgad_draw_latents(ctx, 7, b));
    ck_assert_mem_eq(sgad_tensor_data(a), sgad_tensor_data(b), 10000 * sizeof(float));
    double mean = 0, var = 0;
    int beyond3 = 0;
    for (int i = 0; i < 10000; i++) {
        const double v = sgad_tensor_data(a)[i];
        mean += v / 10000;
        var += v * v / 10000;
        beyond3 += fabs(v) > 3;
    }
    /* 10000 draws: the mean's standard error is 0.01, the variance's 0.014 */
    ck_assert(fabs(mean) < 0.04 && fabs(var - 1) < 0.06);
    ck_assert(beyond3 > 5 && beyond3 < 55); /* 27 expected */
    ASSERT_OK(ctx, sgad_draw_latents(ctx, 8, b));
    ck_assert(memcmp(sgad_tensor_data(a), sgad_tensor_data(b), 10000 * sizeof(float)) != 0);
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_draw_latents(ctx, 7, NULL));
    sgad_tensor_free(a);
    sgad_tensor_free(b);
    sgad_ctx_free(ctx);
}
END_TEST

Suite *suite_trainer_options(void)
{
    Suite *s = suite_create("trainer_options");
    TCase *tc = tcase_create("options");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, n_critic_updates_g_every_nth_iteration);
    tcase_add_test(tc, clipping_bounds_trained_parameters_of_d_only);
    tcase_add_test(tc, cosine_schedule);
    tcase_add_test(tc, paper_schedule_holds_then_anneals);
    tcase_add_test(tc, schedule_steps_per_period);
    tcase_add_test(tc, ema_averages_g_and_samples_with_it);
    tcase_add_test(tc, firing_rates_per_layer);
    tcase_add_test(tc, sample_reports_decoder_steps_and_scores);
    tcase_add_test(tc, sampling_matches_an_evaluation_forward);
    tcase_add_test(tc, sampling_with_batch_statistics);
    tcase_add_test(tc, option_errors);
    tcase_add_test(tc, net_activations_read_back);
    tcase_add_test(tc, seeded_latents_are_standard_normal_and_reproducible);
    suite_add_tcase(s, tc);
    return s;
}
