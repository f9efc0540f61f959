/* SPDX-License-Identifier: MIT */
/* The paper's four models against PyTorch (tests/gen_model_fixtures.py):
 * with the same weights, z and real batches, libsgad's presets must give
 * PyTorch's images and scores, then each of three sgad_trainer_steps (a
 * fresh z and real batch each) must hand the optimizers PyTorch's
 * gradients and leave PyTorch's parameters and batch-norm statistics.
 * SGAD, SWGAN, SGAN and the hybrid at 28x28x1 (three iterations); SGAD at
 * 32x32x3 and the hybrid at 32x32x3 and 64x64x3 (one iteration, T = 2):
 * three-channel images, SGAD's RGB decoder (queries and keys see a
 * Linear(features -> 1024) + ReLU of the images), at 64x64 three
 * transposed convolutions.
 *
 * Weights come from a formula of (name, salt) both sides compute; the
 * fixture holds the salt, and for tensors over 8192 elements every
 * stride-th gradient and parameter plus the gradient's L1 norm; iterations
 * 2 and 3 keep every m-th element of iteration 1's sample (at most 512 per
 * tensor, "sample_late.<p>").
 *
 * Why three iterations. RMSprop's first step is p1 = p0 - lr g / (sqrt(v1)
 * + eps) with v1 = (1 - alpha) g^2, i.e. about lr sign(g) / sqrt(1 - alpha)
 * = 10 lr sign(g) whatever g's size: it tests the gradient's sign and
 * little else. It is the same step if the square average's decay (alpha
 * on v's old value) is wrong, or if v is not kept from one step to the
 * next: both only show once v has a history. Step k divides g_k by
 * sqrt(alpha v_(k-1) + (1 - alpha) g_k^2), which depends on the earlier
 * gradients' sizes, so the second and third steps (on other batches, so
 * other gradients) check the running average itself.
 *
 * The learning rate is 1e-6 (the fixture's lr_g, lr_d), not the paper's
 * 2e-4: on a gradient near eps / sqrt(1 - alpha) = 1e-7 the step's size
 * hangs on g's rounding, so two float32 implementations end an iteration
 * with weights up to ~lr apart there; at 2e-4 PyTorch's own float32 and
 * float64 runs then parted on thousands of spikes by iteration 3. At 1e-6
 * the membranes differ by rounding only, and the script picks a salt (and
 * for iterations 2 and 3 a batch) for which every membrane is 4 times its
 * rounding error, as PyTorch's float32 and float64 runs differ, plus 2^-22
 * from the threshold. The optimizer check below works in units of lr, so a
 * small lr makes it no looser.
 *
 * Tolerances:
 * - images, scores, gradients, buffers: 1e-4 relative, with an absolute
 *   floor of 1e-5 times the tensor's largest magnitude (an element that is a
 *   cancellation of O(max) terms carries an error of that size), raised to
 *   4 times PyTorch's own float32 error on that array (the script measures
 *   it against a float64 run; err.<array>) where that is larger: some
 *   gradients (D's first convolution under a mean over many cancelling
 *   terms) are that badly conditioned in any float32 summation order.
 * - parameters after step k: the step p_k - p_(k-1) is -lr u_k with
 *   u_k = g_k / (sqrt(v_k) + eps), v_k = sum_(i<=k) (1 - alpha)
 *   alpha^(k-i) g_i^2. Each g_i is known to within dg_i (the gradient
 *   tolerance above, against which libsgad's gradients are checked), and
 *   u is increasing in g_k and, for g_k >= 0, decreasing in the other
 *   terms of v_k (increasing for g_k < 0), so the u of every history in
 *   those boxes lies in [u(g_k - dg_k, ...), u(g_k + dg_k, ...)] taken at
 *   the corners (step_range). libsgad's step, and PyTorch's own (which
 *   anchors this model of RMSprop to torch.optim), must lie in -lr times
 *   that range, widened by 4 ulp of the parameter and 1e-6 of the largest
 *   step, 10 lr, for the float arithmetic. p_0 is exact on both sides, so
 *   step after step this bounds each parameter too. Where dg_k >= |g_k|
 *   the sign itself is unsure and the range is nearly [-10, 10].
 * - a bias right before BatchNorm (and, under the EM loss, D's last bias,
 *   which moves D(real) and D(fake) alike) has a true gradient of 0: both
 *   sides compute rounding noise, which RMSprop's normalisation would turn
 *   into a step of up to lr / sqrt(1 - alpha) = 10 lr in a random
 *   direction, and the batch-norm statistics of the G update would inherit
 *   it. So its gradient must be ~0 against its layer's weight gradient
 *   (1e-3 of the largest), and then, in the script and here through the
 *   trainer's gradient hook, it is set to exactly 0 before each step; the
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
#define MAX_ITERATIONS 3
#define MAX_LAYERS 32
/* torch.optim.RMSprop's defaults, which the script uses; open_model checks
 * the trainer's optimizers have them. */
#define ALPHA 0.99
#define EPS 1e-8

typedef struct captured {
    char name[80];
    float *grad;
    int64_t numel;
} captured;

typedef struct golden {
    const char *model_name; /* for messages: "sgad", "hybrid 64x64x3" */
    fixture *fx;
    sgad_ctx *ctx;
    sgad_net *g, *d;
    uint64_t salt;
    int iteration; /* 1-based: the trainer step being checked */
    int ncaptured;
    captured cap[2 * MAX_PARAMS];
    float *before[2][MAX_PARAMS]; /* each parameter's sampled values before the step */
    sgad_input_path path;         /* forced on every layer that has the option; AUTO: none */
    /* each layer's firing rate after each iteration (NaN: not spiking) */
    double rates[MAX_ITERATIONS][2][MAX_LAYERS];
} golden;

/* ---- the weight formula, as gen_model_fixtures.py computes it ---------- */

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xCBF29CE484222325ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001B3ull;
    return h;
}

static const uint64_t golden_gamma = 0x9E3779B97F4A7C15ull;

/* Element j of the formula's tensor keyed by key = fnv1a(name) ^ salt * gamma. */
static float formula_at(uint64_t key, int64_t j, double centre, double half)
{
    uint64_t z = key + (uint64_t)(j + 1) * golden_gamma;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    const double u = (double)(z >> 40) * 0x1p-24;
    const double v = centre + half * (2.0 * u - 1.0);
    return (float)(floor(v * 1024.0 + 0.5) / 1024.0);
}

static uint64_t formula_key(const char *name, uint64_t salt)
{
    return fnv1a(name) ^ (salt * golden_gamma);
}

static void fill_formula(float *dst, int64_t n, const char *name, uint64_t salt, double centre,
                         double half)
{
    const uint64_t key = formula_key(name, salt);
    for (int64_t j = 0; j < n; j++)
        dst[j] = formula_at(key, j, centre, half);
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

/* The fixture's name of iteration k's array: "<what>.<name>" for the first
 * iteration, "it<k>.<what>.<name>" for later ones ("z", "real" alone when
 * name is NULL). */
static void iteration_key(char *out, size_t size, int k, const char *what, const char *name)
{
    char prefix[16] = "";
    if (k > 1)
        snprintf(prefix, sizeof prefix, "it%d.", k);
    const int n = name ? snprintf(out, size, "%s%s.%s", prefix, what, name)
                       : snprintf(out, size, "%s%s", prefix, what);
    ck_assert_msg(n >= 0 && (size_t)n < size, "fixture key %s%s too long", prefix, what);
}

static const fx_array *iteration_array(const golden *gd, int k, const char *what, const char *name)
{
    char key[128];
    iteration_key(key, sizeof key, k, what, name);
    return fx_get(gd->fx, key);
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
    printf("%s %-32s worst %.3g x tolerance at %lld (%.8g vs %.8g, peak %.3g)\n", gd->model_name,
           key, worst, (long long)(offset + at * stride), (double)got[offset + at * stride],
           (double)ref->data[at], atol / ATOL_SCALE);
}

/* Compares got[offset + k * stride] with ref[k], the fixture's array key. */
static void expect_close(const golden *gd, const char *key, const float *got, int64_t n,
                         int64_t offset, int64_t stride)
{
    const fx_array *ref = fx_get(gd->fx, key);
    const int64_t count = stride > 1 ? (n - offset + stride - 1) / stride : n;
    ck_assert_msg(count == ref->numel, "%s: %s has %lld values to compare, reference %lld",
                  gd->model_name, key, (long long)count, (long long)ref->numel);
    const double atol = atol_of(gd, key, ref);
    if (getenv("SGAD_GOLDEN_REPORT"))
        report_worst(gd, key, got, count, offset, stride, atol);
    for (int64_t k = 0; k < count; k++) {
        const double a = got[offset + k * stride], b = ref->data[k];
        ck_assert_msg(fabs(a - b) <= RTOL * fabs(b) + atol, "%s: %s[%lld] = %.8g, PyTorch %.8g",
                      gd->model_name, key, (long long)(offset + k * stride), a, b);
    }
}

/* The elements of `name` that iteration k's arrays hold: offset + i stride.
 * Iterations 2 and 3 keep a coarser sample with the same offset and a
 * stride that is a multiple of the first's, so their elements have every
 * iteration's values. */
static void sample_spec(const golden *gd, int k, const char *name, int64_t *offset, int64_t *stride)
{
    const fx_array *s = k > 1 ? find(gd, "sample_late.", name) : NULL;
    if (!s)
        s = find(gd, "sample.", name);
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

static golden open_model(const char *model_name, const char *file, sgad_model model,
                         sgad_image_shape shape)
{
    golden gd;
    memset(&gd, 0, sizeof gd);
    gd.model_name = model_name;
    gd.fx = fx_load(file);
    gd.ctx = tu_ctx(1);
    gd.salt = (uint64_t)fx_get(gd.fx, "salt")->data[0];
    const fx_array *z = fx_get(gd.fx, "z");
    const int steps = (int)fx_get(gd.fx, "steps")->data[0];
    ASSERT_OK(gd.ctx,
              sgad_preset_create(gd.ctx, model, shape, steps, (int)z->dims[2], &gd.g, &gd.d));
    init_weights(&gd);
    return gd;
}

static void forget_captured(golden *gd)
{
    for (int i = 0; i < gd->ncaptured; i++)
        free(gd->cap[i].grad);
    gd->ncaptured = 0;
}

static void close_model(golden *gd)
{
    forget_captured(gd);
    for (int which = 0; which < 2; which++)
        for (int i = 0; i < MAX_PARAMS; i++)
            free(gd->before[which][i]);
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
    sgad_tensor *t = tu_tensor(gd->ctx, (int)steps, (int)real->dims[0], (int)real->dims[1],
                               (int)real->dims[2], (int)real->dims[3], 0);
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

/* ---- the iterations ------------------------------------------------------ */

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
                      "%s: iteration %d: %s[%lld] = %.3g should be ~0 "
                      "(weight gradients reach %.3g)",
                      gd->model_name, gd->iteration, name, (long long)j, (double)c->grad[j], scale);
}

static void check_grad(const golden *gd, const char *name, const captured *c)
{
    const int k = gd->iteration;
    int64_t offset, stride;
    sample_spec(gd, k, name, &offset, &stride);
    char key[128];
    iteration_key(key, sizeof key, k, "grad", name);
    expect_close(gd, key, c->grad, c->numel, offset, stride);
    const double atol = atol_of(gd, key, fx_get(gd->fx, key));
    iteration_key(key, sizeof key, k, "l1", name);
    const fx_array *l1 = fx_find(gd->fx, key);
    if (!l1)
        return;
    double sum = 0;
    for (int64_t j = 0; j < c->numel; j++)
        sum += fabs(c->grad[j]);
    /* Each element may be off by RTOL |g| + atol (as the sample is held
     * to), so the norm by RTOL L1 + n atol. */
    const double tol = RTOL * l1->data[0] + (double)c->numel * atol;
    ck_assert_msg(fabs(sum - l1->data[0]) <= tol,
                  "%s: iteration %d: L1 of %s's gradient %.8g, PyTorch %.8g (tolerance %.3g)",
                  gd->model_name, k, name, sum, (double)l1->data[0], tol);
}

/* RMSprop's normalised step for gradient g when the square average's other
 * terms sum to a: u = g / (sqrt(a + (1 - alpha) g^2) + eps). */
static double rms_u(double g, double a)
{
    return g / (sqrt(a + (1 - ALPHA) * g * g) + EPS);
}

/* [*lo, *hi]: every u_k of a gradient history g_i +- dg_i, i = 1..k (see
 * the top of the file). u is increasing in g_k; a, the decayed sum of the
 * earlier squares, lowers |u|, so the least u takes the least g_k with the
 * largest a if that g_k is positive (else the smallest a), and the
 * greatest u the mirror image. */
static void step_range(const double *g, const double *dg, int k, double *lo, double *hi)
{
    double a_lo = 0, a_hi = 0;
    for (int i = 0; i + 1 < k; i++) {
        const double c = (1 - ALPHA) * pow(ALPHA, k - 1 - i);
        const double small = fmax(fabs(g[i]) - dg[i], 0), large = fabs(g[i]) + dg[i];
        a_lo += c * small * small;
        a_hi += c * large * large;
    }
    const double g_lo = g[k - 1] - dg[k - 1], g_hi = g[k - 1] + dg[k - 1];
    *lo = rms_u(g_lo, g_lo >= 0 ? a_hi : a_lo);
    *hi = rms_u(g_hi, g_hi >= 0 ? a_lo : a_hi);
}

/* Element j of iteration i's array `what` of parameter name (i's sample
 * holds j: see sample_spec). */
static double at_element(const golden *gd, int i, const char *what, const char *name, int64_t j)
{
    int64_t offset, stride;
    sample_spec(gd, i, name, &offset, &stride);
    ck_assert((j - offset) % stride == 0);
    const fx_array *a = iteration_array(gd, i, what, name);
    const int64_t at = (j - offset) / stride;
    ck_assert(at >= 0 && at < a->numel);
    return a->data[at];
}

/* Step k of parameter `name` (p1 its values now, p0 its sampled values
 * before the step): libsgad's step and PyTorch's must both lie in the range
 * step_range allows for PyTorch's gradients within their tolerances. */
static void check_step(const golden *gd, const char *name, const float *p0, const float *p1,
                       int64_t n, double lr)
{
    const int k = gd->iteration;
    int64_t offset, stride;
    sample_spec(gd, k, name, &offset, &stride);
    const fx_array *init = get(gd, "init.", name);
    const uint64_t key = formula_key(name, gd->salt);
    double atol[MAX_ITERATIONS];
    for (int i = 1; i <= k; i++) {
        char gkey[128];
        iteration_key(gkey, sizeof gkey, i, "grad", name);
        atol[i - 1] = atol_of(gd, gkey, fx_get(gd->fx, gkey));
    }
    int64_t count = 0, sharp = 0;
    for (int64_t j = offset; j < n; j += stride, count++) {
        double g[MAX_ITERATIONS], dg[MAX_ITERATIONS], lo, hi;
        for (int i = 1; i <= k; i++) {
            g[i - 1] = at_element(gd, i, "grad", name, j);
            dg[i - 1] = RTOL * fabs(g[i - 1]) + atol[i - 1];
        }
        step_range(g, dg, k, &lo, &hi);
        sharp += hi - lo < 0.5;
        const double want = at_element(gd, k, "after", name, j);
        const double torch_before = k == 1 ? formula_at(key, j, init->data[0], init->data[1])
                                           : at_element(gd, k - 1, "after", name, j);
        const double slop = 4 * ldexp(fmax(fabs(want), fabs(p1[j])), -23) + 10 * lr * 1e-6;
        const double least = -lr * hi - slop, most = -lr * lo + slop;
        const double ours = (double)p1[j] - p0[count], theirs = want - torch_before;
        ck_assert_msg(theirs >= least && theirs <= most,
                      "%s: iteration %d: PyTorch's step of %s[%lld] %.6g lr is not RMSprop's "
                      "of its gradients, [%.6g, %.6g] lr: fixture and test disagree",
                      gd->model_name, k, name, (long long)j, theirs / lr, least / lr, most / lr);
        ck_assert_msg(ours >= least && ours <= most,
                      "%s: iteration %d: %s[%lld] stepped %.6g lr to %.9g, PyTorch %.6g lr to "
                      "%.9g; the gradients allow [%.6g, %.6g] lr",
                      gd->model_name, k, name, (long long)j, ours / lr, (double)p1[j], theirs / lr,
                      want, least / lr, most / lr);
    }
    if (getenv("SGAD_GOLDEN_REPORT"))
        printf("%s step %d %-27s %lld of %lld elements checked to within 0.5 lr\n", gd->model_name,
               k, name, (long long)sharp, (long long)count);
}

static void check_zero_grad_step(const golden *gd, const char *name, const float *p1, int64_t n)
{
    const fx_array *init = get(gd, "init.", name);
    float *p0 = malloc((size_t)n * sizeof *p0);
    ck_assert_ptr_nonnull(p0);
    fill_formula(p0, n, name, gd->salt, init->data[0], init->data[1]);
    for (int64_t j = 0; j < n; j++) /* a zero gradient leaves RMSprop's parameter alone */
        ck_assert_msg(p1[j] == p0[j], "%s: iteration %d: %s[%lld] moved %.3g on a zero gradient",
                      gd->model_name, gd->iteration, name, (long long)j, (double)(p1[j] - p0[j]));
    free(p0);
}

/* Keeps each parameter's values at the elements the coming iteration's
 * arrays hold, for check_step. */
static void remember_before(golden *gd)
{
    for (int which = 0; which < 2; which++) {
        sgad_net *net = which ? gd->d : gd->g;
        ck_assert_int_le(sgad_net_param_count(net), MAX_PARAMS);
        for (int i = 0; i < sgad_net_param_count(net); i++) {
            const char *short_name;
            sgad_tensor *v;
            char name[96];
            ASSERT_OK(gd->ctx, sgad_net_param(net, i, &short_name, &v, NULL));
            full_name(name, sizeof name, which, short_name);
            int64_t offset, stride;
            sample_spec(gd, gd->iteration, name, &offset, &stride);
            const int64_t n = sgad_tensor_numel(v), count = (n - offset + stride - 1) / stride;
            float *keep = realloc(gd->before[which][i], (size_t)count * sizeof *keep);
            ck_assert_ptr_nonnull(keep);
            for (int64_t k = 0; k < count; k++)
                keep[k] = sgad_tensor_data(v)[offset + k * stride];
            gd->before[which][i] = keep;
        }
    }
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
        if (!g) { /* a batch-norm buffer */
            int64_t offset, stride;
            sample_spec(gd, gd->iteration, name, &offset, &stride);
            char key[128];
            iteration_key(key, sizeof key, gd->iteration, "after", name);
            expect_close(gd, key, p1, n, offset, stride);
            continue;
        }
        const captured *c = captured_grad(gd, name);
        if (find(gd, "zero_grad.", name)) {
            check_zero_grad(gd, name, c);
            check_zero_grad_step(gd, name, p1, n);
            continue;
        }
        check_grad(gd, name, c);
        check_step(gd, name, gd->before[which][i], p1, n, lr);
    }
}

/* Layers whose products have a dense and an event-driven path. */
static int has_input_path(const sgad_layer *l)
{
    const sgad_layer_kind kind = sgad_layer_get_kind(l);
    return kind == SGAD_LAYER_LINEAR || kind == SGAD_LAYER_CONV2D || kind == SGAD_LAYER_CONVT2D;
}

/* Sets gd->path on every such layer of G and D (nothing for AUTO). */
static void force_paths(golden *gd)
{
    for (int which = 0; gd->path != SGAD_PATH_AUTO && which < 2; which++) {
        sgad_net *net = which ? gd->d : gd->g;
        for (int i = 0; i < sgad_net_layer_count(net); i++)
            if (has_input_path(sgad_net_layer(net, i)))
                ASSERT_OK(gd->ctx, sgad_layer_set(sgad_net_layer(net, i), SGAD_OPT_INPUT_PATH,
                                                  (double)gd->path));
    }
}

/* Every such layer's last forward took the forced path (any event path
 * counts as events), and every layer's firing rate is recorded for
 * iteration k. */
static void check_paths_and_record_rates(golden *gd, const sgad_trainer *t, int k)
{
    for (int which = 0; which < 2; which++) {
        sgad_net *net = which ? gd->d : gd->g;
        ck_assert_int_le(sgad_net_layer_count(net), MAX_LAYERS);
        for (int i = 0; i < sgad_net_layer_count(net); i++) {
            sgad_layer *l = sgad_net_layer(net, i);
            double rate = NAN, taken;
            if (sgad_trainer_firing_rate(t, which, i, &rate) != SGAD_OK)
                rate = NAN;
            gd->rates[k - 1][which][i] = rate;
            if (gd->path == SGAD_PATH_AUTO || !has_input_path(l))
                continue;
            ASSERT_OK(gd->ctx, sgad_layer_get(l, SGAD_OPT_INPUT_PATH_TAKEN, &taken));
            const int dense = taken == SGAD_PATH_DENSE;
            ck_assert_msg(dense == (gd->path == SGAD_PATH_DENSE),
                          "%s: %s layer %d took path %g, not the forced %s", gd->model_name,
                          which ? "D" : "G", i, taken,
                          gd->path == SGAD_PATH_DENSE ? "dense" : "events");
        }
    }
}

static void check_iterations(golden *gd, sgad_loss loss)
{
    sgad_trainer *t;
    const double lr_g = fx_get(gd->fx, "lr_g")->data[0], lr_d = fx_get(gd->fx, "lr_d")->data[0];
    const int iterations = (int)fx_get(gd->fx, "iterations")->data[0];
    ck_assert_int_le(iterations, MAX_ITERATIONS);
    ASSERT_OK(gd->ctx, sgad_trainer_create(gd->ctx, gd->g, gd->d, (int)fx_get(gd->fx, "z")->dims[2],
                                           loss, SGAD_OPTIMIZER_RMSPROP, &t));
    for (int which = 0; which < 2; which++) {
        sgad_optimizer *opt = sgad_trainer_optimizer(t, which);
        double alpha, eps;
        ASSERT_OK(gd->ctx, sgad_optimizer_get(opt, SGAD_OPT_RMSPROP_ALPHA, &alpha));
        ASSERT_OK(gd->ctx, sgad_optimizer_get(opt, SGAD_OPT_EPS, &eps));
        ck_assert(alpha == ALPHA && eps == EPS);
        ASSERT_OK(gd->ctx, sgad_optimizer_set(opt, SGAD_OPT_LR, which ? lr_d : lr_g));
    }
    ASSERT_OK(gd->ctx, sgad_trainer_set_grad_hook(t, capture, gd));
    for (int k = 1; k <= iterations; k++) {
        gd->iteration = k;
        forget_captured(gd);
        remember_before(gd);
        sgad_tensor *z = tensor_from(gd->ctx, iteration_array(gd, k, "z", NULL));
        sgad_tensor *real = tensor_from(gd->ctx, iteration_array(gd, k, "real", NULL));
        ASSERT_OK(gd->ctx, sgad_trainer_step(t, real, z));
        check_paths_and_record_rates(gd, t, k);
        check_net_after(gd, 1, lr_d);
        check_net_after(gd, 0, lr_g);
        sgad_tensor_free(z);
        sgad_tensor_free(real);
    }
    sgad_trainer_free(t);
}

/* Runs one fixture's checks with `path` forced on every layer that has
 * one (SGAD_PATH_AUTO: each call chooses); rates, if not NULL, receives
 * every layer's firing rate after each iteration. */
static void run_model_path(const char *name, sgad_model model, sgad_image_shape shape,
                           sgad_loss loss, sgad_input_path path, double (*rates)[2][MAX_LAYERS])
{
    char file[64], label[64];
    if (shape == SGAD_SHAPE_28X28X1) {
        snprintf(file, sizeof file, "model_%s", name);
        snprintf(label, sizeof label, "%s", name);
    } else {
        snprintf(file, sizeof file, "model_%s_%s", name, sgad_image_shape_name(shape));
        snprintf(label, sizeof label, "%s %s", name, sgad_image_shape_name(shape));
    }
    if (path != SGAD_PATH_AUTO) {
        const size_t len = strlen(label);
        snprintf(label + len, sizeof label - len, ", %s paths",
                 path == SGAD_PATH_DENSE ? "dense" : "event");
    }
    golden gd = open_model(label, file, model, shape);
    gd.path = path;
    force_paths(&gd);
    check_forward(&gd, model);
    check_iterations(&gd, loss);
    if (rates)
        memcpy(rates, gd.rates, sizeof gd.rates);
    close_model(&gd);
}

static void run_model(const char *name, sgad_model model, sgad_image_shape shape, sgad_loss loss)
{
    /* Minutes under valgrind; the trainer suites run these presets there. */
    if (getenv("SGAD_TEST_SKIP_SLOW"))
        return;
    run_model_path(name, model, shape, loss, SGAD_PATH_AUTO, NULL);
}

START_TEST(sgad_matches_pytorch)
{
    run_model("sgad", SGAD_MODEL_SGAD, SGAD_SHAPE_28X28X1, SGAD_LOSS_EM);
}
END_TEST

START_TEST(swgan_matches_pytorch)
{
    run_model("swgan", SGAD_MODEL_SWGAN, SGAD_SHAPE_28X28X1, SGAD_LOSS_EM);
}
END_TEST

START_TEST(sgan_matches_pytorch)
{
    run_model("sgan", SGAD_MODEL_SGAN, SGAD_SHAPE_28X28X1, SGAD_LOSS_MINIMAX);
}
END_TEST

START_TEST(hybrid_matches_pytorch)
{
    run_model("hybrid", SGAD_MODEL_HYBRID, SGAD_SHAPE_28X28X1, SGAD_LOSS_MINIMAX);
}
END_TEST

START_TEST(sgad_rgb32_matches_pytorch)
{
    run_model("sgad", SGAD_MODEL_SGAD, SGAD_SHAPE_32X32X3, SGAD_LOSS_EM);
}
END_TEST

START_TEST(hybrid_rgb32_matches_pytorch)
{
    run_model("hybrid", SGAD_MODEL_HYBRID, SGAD_SHAPE_32X32X3, SGAD_LOSS_MINIMAX);
}
END_TEST

START_TEST(hybrid_rgb64_matches_pytorch)
{
    run_model("hybrid", SGAD_MODEL_HYBRID, SGAD_SHAPE_64X64X3, SGAD_LOSS_MINIMAX);
}
END_TEST

/* SGAD's three iterations with every linear, convolution and transposed
 * convolution forced to the dense products, then to the event-driven
 * ones: both match PyTorch to the golden tolerances, and, since the
 * fixture's weights and margins keep every membrane clear of its
 * threshold, both fire exactly the same spikes: every layer's firing rate
 * (a count over the layer) is the same number after every iteration. */
START_TEST(sgad_dense_and_event_paths_agree)
{
    if (getenv("SGAD_TEST_SKIP_SLOW"))
        return;
    static double dense[MAX_ITERATIONS][2][MAX_LAYERS], events[MAX_ITERATIONS][2][MAX_LAYERS];
    run_model_path("sgad", SGAD_MODEL_SGAD, SGAD_SHAPE_28X28X1, SGAD_LOSS_EM, SGAD_PATH_DENSE,
                   dense);
    run_model_path("sgad", SGAD_MODEL_SGAD, SGAD_SHAPE_28X28X1, SGAD_LOSS_EM, SGAD_PATH_EVENTS,
                   events);
    int spiking = 0;
    for (int k = 0; k < MAX_ITERATIONS; k++)
        for (int w = 0; w < 2; w++)
            for (int i = 0; i < MAX_LAYERS; i++) {
                const double a = dense[k][w][i], b = events[k][w][i];
                if (isnan(a) && isnan(b))
                    continue;
                spiking++;
                ck_assert_msg(a == b,
                              "iteration %d, %s layer %d: firing rate %.9g dense, %.9g events",
                              k + 1, w ? "D" : "G", i, a, b);
            }
    ck_assert_int_ge(spiking, 3 * 6); /* three LIFs in each of G and D, every iteration */
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
    tcase_add_test(tc, sgad_rgb32_matches_pytorch);
    tcase_add_test(tc, hybrid_rgb32_matches_pytorch);
    tcase_add_test(tc, hybrid_rgb64_matches_pytorch);
    tcase_add_test(tc, sgad_dense_and_event_paths_agree);
    suite_add_tcase(s, tc);
    return s;
}
