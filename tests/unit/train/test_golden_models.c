/* The paper's four models against PyTorch (tests/gen_model_fixtures.py):
 * with the same weights, z and real batch, libsgad's presets must give
 * PyTorch's images and scores, then one sgad_trainer_step must hand the
 * optimizers PyTorch's gradients and leave PyTorch's parameters and
 * batch-norm statistics.
 *
 * Weights come from a formula of (name, salt) both sides compute; the
 * fixture holds the salt, and for tensors over 8192 elements every
 * stride-th gradient and parameter plus the gradient's L1 norm.
 *
 * Tolerances:
 * - images, scores, gradients, buffers: 1e-4 relative, with an absolute
 *   floor of 1e-5 times the tensor's largest magnitude (an element that is a
 *   cancellation of O(max) terms carries an error of that size).
 * - images, scores, gradients, buffers: the floor is raised to 4 times
 *   PyTorch's own float32 error on that array (measured by the script
 *   against a float64 run) where that is larger: some gradients (D's first
 *   convolution under a mean over many cancelling terms) are that badly
 *   conditioned in any float32 summation order.
 * - parameters after RMSprop's first step, p1 = p0 - lr u(g) with
 *   u(g) = g / (0.1 |g| + eps): u is 10 sign(g) for |g| >> eps / 0.1 and
 *   has slope eps / (0.1 |g| + eps)^2, so a gradient within dg of
 *   PyTorch's moves p1 by at most lr dg times that slope at the smallest
 *   |g| allowed, capped at the whole width of the step, 20 lr (when the
 *   sign itself is unsure). Plus 4 ulp of p1 and 1e-6 of the step for the
 *   float arithmetic.
 * - a bias right before BatchNorm (and, under the EM loss, D's last bias,
 *   which moves D(real) and D(fake) alike) has a true gradient of 0: both
 *   sides compute rounding noise, which RMSprop's normalisation would turn
 *   into a step of up to lr / sqrt(1 - alpha) = 10 lr in a random
 *   direction, and the batch-norm statistics of the G update would inherit
 *   it. So its gradient must be ~0 against its layer's weight gradient
 *   (1e-3 of the largest), and then, in the script and here through the
 *   trainer's gradient hook, it is set to exactly 0 before the step; the
 *   parameter must then be unchanged bitwise. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "test_util.h"

#define RTOL 1e-4
#define ATOL_SCALE 1e-5
#define MAX_PARAMS 64

typedef struct captured {
    char name[80];
    float *grad;
    int64_t numel;
} captured;

typedef struct golden {
    const char *model_name;
    fixture *fx;
    sgad_ctx *ctx;
    sgad_net *g, *d;
    uint64_t salt;
    int ncaptured;
    captured cap[2 * MAX_PARAMS];
} golden;

/* ---- the weight formula, as gen_model_fixtures.py computes it ---------- */

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xCBF29CE484222325ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001B3ull;
    return h;
}

static void fill_formula(float *dst, int64_t n, const char *name, uint64_t salt, double centre,
                         double half)
{
    const uint64_t golden_gamma = 0x9E3779B97F4A7C15ull;
    const uint64_t key = fnv1a(name) ^ (salt * golden_gamma);
    for (int64_t j = 0; j < n; j++) {
        uint64_t z = key + (uint64_t)(j + 1) * golden_gamma;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        const double u = (double)(z >> 40) * 0x1p-24;
        const double v = centre + half * (2.0 * u - 1.0);
        dst[j] = (float)(floor(v * 1024.0 + 0.5) / 1024.0);
    }
}

/* ---- helpers ------------------------------------------------------------- */

static void full_name(char *out, size_t size, int which, const char *name)
{
    snprintf(out, size, "%s.%s", which ? "D" : "G", name);
}

static const fx_array *get(const golden *gd, const char *prefix, const char *name)
{
    char key[128];
    ck_assert_msg((size_t)snprintf(key, sizeof key, "%s%s", prefix, name) < sizeof key,
                  "fixture key %s%s too long", prefix, name);
    return fx_get(gd->fx, key);
}

static const fx_array *find(const golden *gd, const char *prefix, const char *name)
{
    char key[128];
    ck_assert_msg((size_t)snprintf(key, sizeof key, "%s%s", prefix, name) < sizeof key,
                  "fixture key %s%s too long", prefix, name);
    return fx_find(gd->fx, key);
}

static double peak_of(const float *p, int64_t n)
{
    double m = 0;
    for (int64_t i = 0; i < n; i++)
        m = fmax(m, fabs(p[i]));
    return m;
}

/* The absolute floor for array `key`: ATOL_SCALE of its largest magnitude,
 * or 4 times PyTorch's own float32 error on it, whichever is larger. */
static double atol_of(const golden *gd, const char *key, const fx_array *ref)
{
    const fx_array *e = find(gd, "err.", key);
    return fmax(ATOL_SCALE * peak_of(ref->data, ref->numel), e ? 4.0 * e->data[0] : 0.0);
}

/* A diagnosis aid for SGAD_GOLDEN_REPORT: prints the worst element of a
 * comparison in multiples of its tolerance (NaN counts as the worst). The
 * verdict that follows is the same with or without it. */
static void report_worst(const golden *gd, const char *key, const float *got, int64_t count,
                         int64_t offset, int64_t stride, double atol)
{
    const fx_array *ref = fx_get(gd->fx, key);
    double worst = 0;
    int64_t at = 0;
    for (int64_t k = 0; k < count; k++) {
        const double e =
            fabs(got[offset + k * stride] - ref->data[k]) / (RTOL * fabs(ref->data[k]) + atol);
        if (!(e <= worst)) {
            worst = e;
            at = k;
            if (isnan(e))
                break;
        }
    }
    printf("%s %-28s worst %.3g x tolerance at %lld (%.8g vs %.8g, peak %.3g)\n", gd->model_name,
           key, worst, (long long)(offset + at * stride), (double)got[offset + at * stride],
           (double)ref->data[at], atol / ATOL_SCALE);
}

/* Compares got[offset + k * stride] with ref[k], the fixture's array key. */
static void expect_close(const golden *gd, const char *key, const float *got, int64_t n,
                         int64_t offset, int64_t stride)
{
    const char *what = key;
    const fx_array *ref = fx_get(gd->fx, key);
    const int64_t count = stride > 1 ? (n - offset + stride - 1) / stride : n;
    ck_assert_msg(count == ref->numel, "%s: %s has %lld values to compare, reference %lld",
                  gd->model_name, what, (long long)count, (long long)ref->numel);
    const double atol = atol_of(gd, key, ref);
    if (getenv("SGAD_GOLDEN_REPORT"))
        report_worst(gd, key, got, count, offset, stride, atol);
    for (int64_t k = 0; k < count; k++) {
        const double a = got[offset + k * stride], b = ref->data[k];
        ck_assert_msg(fabs(a - b) <= RTOL * fabs(b) + atol, "%s: %s[%lld] = %.8g, PyTorch %.8g",
                      gd->model_name, what, (long long)(offset + k * stride), a, b);
    }
}

static void sample_spec(const golden *gd, const char *name, int64_t *offset, int64_t *stride)
{
    const fx_array *s = find(gd, "sample.", name);
    *offset = s ? (int64_t)s->data[0] : 0;
    *stride = s ? (int64_t)s->data[1] : 1;
}

/* Sets every parameter and buffer of both nets from the formula. */
static void init_weights(golden *gd)
{
    int listed = 0;
    for (int i = 0; i < gd->fx->count; i++)
        listed += strncmp(gd->fx->arrays[i].name, "init.", 5) == 0;
    ck_assert_int_eq(listed, sgad_net_param_count(gd->g) + sgad_net_param_count(gd->d));
    for (int which = 0; which < 2; which++) {
        sgad_net *net = which ? gd->d : gd->g;
        for (int i = 0; i < sgad_net_param_count(net); i++) {
            const char *name;
            sgad_tensor *v;
            char full[96];
            ASSERT_OK(gd->ctx, sgad_net_param(net, i, &name, &v, NULL));
            full_name(full, sizeof full, which, name);
            const fx_array *init = get(gd, "init.", full);
            fill_formula(sgad_tensor_data(v), sgad_tensor_numel(v), full, gd->salt, init->data[0],
                         init->data[1]);
        }
    }
}

static golden open_model(const char *model_name, sgad_model model)
{
    golden gd;
    memset(&gd, 0, sizeof gd);
    char file[64];
    snprintf(file, sizeof file, "model_%s", model_name);
    gd.model_name = model_name;
    gd.fx = fx_load(file);
    gd.ctx = tu_ctx(1);
    gd.salt = (uint64_t)fx_get(gd.fx, "salt")->data[0];
    const fx_array *z = fx_get(gd.fx, "z"), *fake = fx_get(gd.fx, "fake");
    const int steps = model == SGAD_MODEL_SGAN ? (int)fake->dims[0] : 3;
    ASSERT_OK(gd.ctx, sgad_preset_create(gd.ctx, model, SGAD_SHAPE_28X28X1, steps, (int)z->dims[2],
                                         &gd.g, &gd.d));
    init_weights(&gd);
    return gd;
}

static void close_model(golden *gd)
{
    for (int i = 0; i < gd->ncaptured; i++)
        free(gd->cap[i].grad);
    sgad_net_free(gd->g);
    sgad_net_free(gd->d);
    sgad_ctx_free(gd->ctx);
    fx_free(gd->fx);
}

static sgad_tensor *tensor_from(sgad_ctx *ctx, const fx_array *a)
{
    sgad_tensor *t;
    ASSERT_OK(ctx, sgad_tensor_create(ctx, a->ndim, a->dims, &t));
    memcpy(sgad_tensor_data(t), a->data, (size_t)a->numel * sizeof(float));
    return t;
}

/* A tensor of a's shape full of NaN, for outputs: a forward that leaves
 * any value unwritten then fails the comparison. */
static sgad_tensor *nan_like(sgad_ctx *ctx, const fx_array *a)
{
    sgad_tensor *t;
    ASSERT_OK(ctx, sgad_tensor_create(ctx, a->ndim, a->dims, &t));
    float *p = sgad_tensor_data(t);
    for (int64_t i = 0; i < a->numel; i++)
        p[i] = NAN;
    return t;
}

/* The real batch as D takes it: SGAN's D sees it repeated over T. */
static sgad_tensor *real_for_d(golden *gd, sgad_model model)
{
    const fx_array *real = fx_get(gd->fx, "real");
    const int64_t steps = model == SGAD_MODEL_SGAN ? fx_get(gd->fx, "fake")->dims[0] : 1;
    sgad_tensor *t = tu_tensor(gd->ctx, (int)steps, (int)real->dims[0], 1, 28, 28, 0);
    for (int64_t s = 0; s < steps; s++)
        memcpy(sgad_tensor_data(t) + s * real->numel, real->data,
               (size_t)real->numel * sizeof(float));
    return t;
}

/* ---- forward: images and scores ------------------------------------------ */

static void check_forward(golden *gd, sgad_model model)
{
    sgad_tensor *z = tensor_from(gd->ctx, fx_get(gd->fx, "z"));
    sgad_tensor *fake = nan_like(gd->ctx, fx_get(gd->fx, "fake"));
    sgad_tensor *real = real_for_d(gd, model);
    ASSERT_OK(gd->ctx, sgad_net_forward(gd->g, z, fake));
    expect_close(gd, "fake", sgad_tensor_data(fake), sgad_tensor_numel(fake), 0, 1);
    ASSERT_OK(gd->ctx, sgad_net_forward(gd->d, real, NULL));
    const sgad_tensor *out = sgad_net_output(gd->d);
    expect_close(gd, "score_real", sgad_tensor_data(out), sgad_tensor_numel(out), 0, 1);
    ASSERT_OK(gd->ctx, sgad_net_forward(gd->d, fake, NULL));
    out = sgad_net_output(gd->d);
    expect_close(gd, "score_fake", sgad_tensor_data(out), sgad_tensor_numel(out), 0, 1);
    sgad_tensor_free(z);
    sgad_tensor_free(fake);
    sgad_tensor_free(real);
    init_weights(gd); /* the forwards moved the batch-norm statistics */
}

/* ---- one iteration ----------------------------------------------------- */

static sgad_status capture(void *user, sgad_trainer *t, int which, sgad_net *net)
{
    (void)t;
    golden *gd = user;
    for (int i = 0; i < sgad_net_param_count(net); i++) {
        const char *name;
        sgad_tensor *g;
        if (sgad_net_param(net, i, &name, NULL, &g) != SGAD_OK)
            return SGAD_E_INTERNAL;
        if (!g || gd->ncaptured == 2 * MAX_PARAMS)
            continue;
        captured *c = &gd->cap[gd->ncaptured++];
        full_name(c->name, sizeof c->name, which, name);
        c->numel = sgad_tensor_numel(g);
        c->grad = malloc((size_t)c->numel * sizeof(float));
        if (!c->grad)
            return SGAD_E_NOMEM;
        memcpy(c->grad, sgad_tensor_data(g), (size_t)c->numel * sizeof(float));
        if (find(gd, "zero_grad.", c->name)) /* as the script does: see the top */
            memset(sgad_tensor_data(g), 0, (size_t)c->numel * sizeof(float));
    }
    return SGAD_OK;
}

static const captured *captured_grad(const golden *gd, const char *name)
{
    for (int i = 0; i < gd->ncaptured; i++)
        if (strcmp(gd->cap[i].name, name) == 0)
            return &gd->cap[i];
    ck_abort_msg("%s: no gradient of %s reached the hook", gd->model_name, name);
    return NULL;
}

static void check_zero_grad(const golden *gd, const char *name, const captured *c)
{
    char weight[96];
    snprintf(weight, sizeof weight, "%.*sweight", (int)(strlen(name) - 4), name);
    const captured *w = captured_grad(gd, weight);
    const double scale = peak_of(w->grad, w->numel);
    ck_assert_msg(scale > 0, "%s: %s has no gradient", gd->model_name, weight);
    for (int64_t j = 0; j < c->numel; j++)
        ck_assert_msg(fabs(c->grad[j]) <= 1e-3 * scale,
                      "%s: %s[%lld] = %.3g should be ~0 "
                      "(weight gradients reach %.3g)",
                      gd->model_name, name, (long long)j, (double)c->grad[j], scale);
}

static void check_grad(const golden *gd, const char *name, const captured *c)
{
    int64_t offset, stride;
    sample_spec(gd, name, &offset, &stride);
    char key[128];
    snprintf(key, sizeof key, "grad.%s", name);
    expect_close(gd, key, c->grad, c->numel, offset, stride);
    const fx_array *l1 = find(gd, "l1.", name);
    if (!l1)
        return;
    double sum = 0;
    for (int64_t j = 0; j < c->numel; j++)
        sum += fabs(c->grad[j]);
    ck_assert_msg(fabs(sum - l1->data[0]) <= RTOL * l1->data[0],
                  "%s: L1 of %s's gradient "
                  "%.8g, PyTorch %.8g",
                  gd->model_name, name, sum, (double)l1->data[0]);
}

/* p1 within the derived tolerance of PyTorch's (see the top of the file). */
static void check_after_step(const golden *gd, const char *name, const float *p1, int64_t n,
                             double lr)
{
    int64_t offset, stride;
    sample_spec(gd, name, &offset, &stride);
    char key[128];
    snprintf(key, sizeof key, "grad.%s", name);
    const fx_array *ref = get(gd, "after.", name), *g = fx_get(gd->fx, key);
    const double g_atol = atol_of(gd, key, g), eps = 1e-8;
    for (int64_t k = 0; k < ref->numel; k++) {
        const int64_t j = offset + k * stride;
        ck_assert(j < n);
        const double want = ref->data[k], gk = fabs(g->data[k]);
        /* u(g) = g / (0.1 |g| + eps) has slope eps / (0.1 |g| + eps)^2: a
         * gradient off by dg moves the step by at most lr dg times the slope
         * at the smallest |g| it may have, and never by more than 20 lr. */
        const double dg = RTOL * gk + g_atol, low = fmax(gk - dg, 0.0);
        const double slope = eps / ((0.1 * low + eps) * (0.1 * low + eps));
        const double tol =
            4 * ldexp(fabs(want), -23) + 10 * lr * 1e-6 + fmin(20 * lr, lr * dg * slope);
        ck_assert_msg(fabs(p1[j] - want) <= tol,
                      "%s: %s[%lld] = %.9g after the step, PyTorch "
                      "%.9g (tolerance %.3g)",
                      gd->model_name, name, (long long)j, (double)p1[j], want, tol);
    }
}

static void check_zero_grad_step(const golden *gd, const char *name, const float *p1, int64_t n,
                                 double lr)
{
    const fx_array *init = get(gd, "init.", name);
    float *p0 = malloc((size_t)n * sizeof *p0);
    ck_assert_ptr_nonnull(p0);
    fill_formula(p0, n, name, gd->salt, init->data[0], init->data[1]);
    (void)lr;
    for (int64_t j = 0; j < n; j++) /* a zero gradient leaves RMSprop's parameter alone */
        ck_assert_msg(p1[j] == p0[j], "%s: %s[%lld] moved %.3g on a zero gradient", gd->model_name,
                      name, (long long)j, (double)(p1[j] - p0[j]));
    free(p0);
}

static void check_net_after(golden *gd, int which, double lr)
{
    sgad_net *net = which ? gd->d : gd->g;
    for (int i = 0; i < sgad_net_param_count(net); i++) {
        const char *short_name;
        sgad_tensor *v, *g;
        char name[96];
        ASSERT_OK(gd->ctx, sgad_net_param(net, i, &short_name, &v, &g));
        full_name(name, sizeof name, which, short_name);
        const float *p1 = sgad_tensor_data(v);
        const int64_t n = sgad_tensor_numel(v);
        int64_t offset, stride;
        sample_spec(gd, name, &offset, &stride);
        if (!g) { /* a batch-norm buffer */
            char key[128];
            snprintf(key, sizeof key, "after.%s", name);
            expect_close(gd, key, p1, n, offset, stride);
            continue;
        }
        const captured *c = captured_grad(gd, name);
        if (find(gd, "zero_grad.", name)) {
            check_zero_grad(gd, name, c);
            check_zero_grad_step(gd, name, p1, n, lr);
            continue;
        }
        check_grad(gd, name, c);
        check_after_step(gd, name, p1, n, lr);
    }
}

static void check_iteration(golden *gd, sgad_loss loss)
{
    sgad_trainer *t;
    const double lr_g = fx_get(gd->fx, "lr_g")->data[0], lr_d = fx_get(gd->fx, "lr_d")->data[0];
    ASSERT_OK(gd->ctx, sgad_trainer_create(gd->ctx, gd->g, gd->d, (int)fx_get(gd->fx, "z")->dims[2],
                                           loss, SGAD_OPTIMIZER_RMSPROP, &t));
    ASSERT_OK(gd->ctx, sgad_optimizer_set(sgad_trainer_optimizer(t, 0), SGAD_OPT_LR, lr_g));
    ASSERT_OK(gd->ctx, sgad_optimizer_set(sgad_trainer_optimizer(t, 1), SGAD_OPT_LR, lr_d));
    ASSERT_OK(gd->ctx, sgad_trainer_set_grad_hook(t, capture, gd));
    sgad_tensor *z = tensor_from(gd->ctx, fx_get(gd->fx, "z"));
    sgad_tensor *real = tensor_from(gd->ctx, fx_get(gd->fx, "real"));
    ASSERT_OK(gd->ctx, sgad_trainer_step(t, real, z));
    check_net_after(gd, 1, lr_d);
    check_net_after(gd, 0, lr_g);
    sgad_tensor_free(z);
    sgad_tensor_free(real);
    sgad_trainer_free(t);
}

static void run_model(const char *name, sgad_model model, sgad_loss loss)
{
    /* Minutes under valgrind; the trainer suites run these presets there. */
    if (getenv("SGAD_TEST_SKIP_SLOW"))
        return;
    golden gd = open_model(name, model);
    check_forward(&gd, model);
    check_iteration(&gd, loss);
    close_model(&gd);
}

START_TEST(sgad_matches_pytorch)
{
    run_model("sgad", SGAD_MODEL_SGAD, SGAD_LOSS_EM);
}
END_TEST

START_TEST(swgan_matches_pytorch)
{
    run_model("swgan", SGAD_MODEL_SWGAN, SGAD_LOSS_EM);
}
END_TEST

START_TEST(sgan_matches_pytorch)
{
    run_model("sgan", SGAD_MODEL_SGAN, SGAD_LOSS_MINIMAX);
}
END_TEST

START_TEST(hybrid_matches_pytorch)
{
    run_model("hybrid", SGAD_MODEL_HYBRID, SGAD_LOSS_MINIMAX);
}
END_TEST

Suite *suite_golden_models(void)
{
    Suite *s = suite_create("golden_models");
    TCase *tc = tcase_create("models");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, sgad_matches_pytorch);
    tcase_add_test(tc, swgan_matches_pytorch);
    tcase_add_test(tc, sgan_matches_pytorch);
    tcase_add_test(tc, hybrid_matches_pytorch);
    suite_add_tcase(s, tc);
    return s;
}
