/* SPDX-License-Identifier: MIT */
/* Cross-validated ridge encoding (similarity.h).
 *
 * One fit is an SVD of the centred training rows of x, Xc = U S V^T; the
 * ridge solution for strength lambda is V diag(s / (s^2 + lambda)) U^T yc,
 * so every strength of the grid costs only a rescaling of the same two
 * products A = (x_test - mean) V and C = U^T yc:
 *
 *     prediction(t, j) = mean_j + sum_k A(t, k) s_k / (s_k^2 + lambda) C(k, j).
 *
 * Singular values at the rounding level are left out: their directions
 * are noise from the centring (a centred matrix of m rows has rank m - 1
 * at most), and s / (s^2 + lambda) would weigh that noise by 1 / lambda.
 *
 * Rows are named by index lists, so the outer folds and the inner folds
 * (positions within an outer training set) share one fitting routine. */
#include <math.h>
#include <string.h>

#include "similarity_impl.h"

static const char fn[] = "sgad_encoding_score";

#define MAX_ALPHAS 100

/* First row of fold f of k over n rows. */
static int64_t fold_start(int64_t n, int64_t k, int64_t f)
{
    return f * n / k;
}

/* The data of one call: the copied representations and the grid. */
typedef struct problem {
    sgad_ctx *ctx;
    const double *x, *y;
    int64_t n, p, q;
    const double *alpha;
    int grid;
} problem;

/* c (k x q) = U_k^T yc: the centred targets in the first k left singular
 * directions (u is m x r, yc m x q). */
static void project_targets(const double *u, const double *yc, int64_t m, int64_t r, int64_t k,
                            int64_t q, double *c)
{
    for (int64_t l = 0; l < k; l++)
        for (int64_t j = 0; j < q; j++) {
            double sum = 0;
            for (int64_t i = 0; i < m; i++)
                sum += u[i * r + l] * yc[i * q + j];
            c[l * q + j] = sum;
        }
}

/* a (t x k, row stride r) = (x_test - mean) V_k for rows test[0..t). */
static void project_tests(const problem *pb, const int64_t *test, int64_t t, const double *mx,
                          const double *vt, int64_t r, int64_t k, double *a)
{
    const int64_t p = pb->p;
    for (int64_t i = 0; i < t; i++) {
        const double *xi = pb->x + test[i] * p;
        for (int64_t l = 0; l < k; l++) {
            const double *vl = vt + l * p;
            double sum = 0;
            for (int64_t j = 0; j < p; j++)
                sum += (xi[j] - mx[j]) * vl[j];
            a[i * r + l] = sum;
        }
    }
}

/* The ridge fit's singular values and projections: s (k), a (t x k, row
 * stride r), c (k x q), the targets' means my (q), and the unit lambda is
 * scaled by. */
typedef struct fitted {
    const double *s, *a, *c, *my;
    int64_t r, k;
    double unit;
} fitted;

/* For every alpha g, the predictions of the t test rows into
 * pred[(g * t + i) * q + j]: my + sum over l of a_il s_l / (s_l^2 + lambda) c_lj. */
static void predict_grid(const problem *pb, const fitted *f, int64_t t, double *pred)
{
    const int64_t q = pb->q;
    for (int g = 0; g < pb->grid; g++) {
        const double lambda = pb->alpha[g] * f->unit;
        double *pg = pred + (size_t)g * (size_t)(t * q);
        for (int64_t i = 0; i < t; i++)
            for (int64_t j = 0; j < q; j++)
                pg[i * q + j] = f->my[j];
        for (int64_t l = 0; l < f->k; l++) {
            /* 0 only if both underflow: then the direction is noise */
            const double den = f->s[l] * f->s[l] + lambda;
            const double d = den > 0 ? f->s[l] / den : 0;
            for (int64_t i = 0; i < t; i++) {
                const double ail = f->a[i * f->r + l] * d;
                for (int64_t j = 0; j < q; j++)
                    pg[i * q + j] += ail * f->c[l * q + j];
            }
        }
    }
}

/* Fits on rows train[0..m) and writes, for every alpha g, the predictions
 * of rows test[0..t) into pred[(g * t + i) * q + j]. */
static sgad_status fit_predict(const problem *pb, const int64_t *train, int64_t m,
                               const int64_t *test, int64_t t, double *pred)
{
    sgad_ctx *ctx = pb->ctx;
    const int64_t p = pb->p, q = pb->q, r = m < p ? m : p;
    /* xc (m x p), yc (m x q), means (p + q), s (r), u (m x r), vt (r x p),
     * a (t x r), c (r x q) */
    const size_t need = (size_t)(m * p + m * q + p + q + r + m * r + r * p + t * r + r * q);
    double *w = sgad__alloc(ctx, need * sizeof *w);
    if (!w)
        return SGAD_E_NOMEM;
    double *xc = w, *yc = xc + m * p, *mx = yc + m * q, *my = mx + p, *s = my + q, *u = s + r,
           *vt = u + m * r, *a = vt + r * p, *c = a + t * r;
    for (int64_t i = 0; i < m; i++) {
        memcpy(xc + i * p, pb->x + train[i] * p, (size_t)p * sizeof *xc);
        memcpy(yc + i * q, pb->y + train[i] * q, (size_t)q * sizeof *yc);
    }
    sgad__sim_centre_columns(xc, m, p, mx);
    sgad__sim_centre_columns(yc, m, q, my);
    double frob = 0;
    for (int64_t i = 0; i < m * p; i++)
        frob += xc[i] * xc[i];
    const sgad_status st = sgad__sim_svd(ctx, fn, xc, m, p, s, u, vt);
    if (st == SGAD_OK) {
        const int64_t k = sgad__sim_numerical_rank(s, r, m, p);
        project_targets(u, yc, m, r, k, q, c);
        project_tests(pb, test, t, mx, vt, r, k, a);
        /* lambda = alpha * |Xc|_F^2 / p */
        const fitted f = {s, a, c, my, r, k, frob / (double)p};
        predict_grid(pb, &f, t, pred);
    }
    sgad__free(ctx, w);
    return st;
}

/* Chooses, per recorded unit, the alpha whose inner cross-validated
 * predictions over the training rows train[0..m) correlate best with it;
 * choice[j] is an index into the grid. pooled holds grid * m * q doubles. */
static sgad_status choose_alphas(const problem *pb, const int64_t *train, int64_t m, int64_t k,
                                 int64_t *inner_train, double *pooled, double *fold_pred,
                                 int *choice)
{
    const int64_t q = pb->q;
    for (int64_t h = 0; h < k; h++) {
        const int64_t lo = fold_start(m, k, h), hi = fold_start(m, k, h + 1), t = hi - lo;
        int64_t mi = 0;
        for (int64_t i = 0; i < m; i++)
            if (i < lo || i >= hi)
                inner_train[mi++] = train[i];
        SGAD__TRY(fit_predict(pb, inner_train, mi, train + lo, t, fold_pred));
        for (int g = 0; g < pb->grid; g++)
            memcpy(pooled + ((size_t)g * (size_t)m + (size_t)lo) * (size_t)q,
                   fold_pred + (size_t)g * (size_t)(t * q), (size_t)(t * q) * sizeof *pooled);
    }
    /* y's values on the training rows, gathered once per unit */
    double *yt = fold_pred; /* m doubles; fold_pred is free again */
    for (int64_t j = 0; j < q; j++) {
        for (int64_t i = 0; i < m; i++)
            yt[i] = pb->y[train[i] * q + j];
        double best = -INFINITY;
        choice[j] = 0;
        for (int g = 0; g < pb->grid; g++) {
            const double r =
                sgad__sim_pearson(pooled + (size_t)g * (size_t)(m * q) + j, q, yt, 1, m, NULL);
            if (r > best) {
                best = r;
                choice[j] = g;
            }
        }
    }
    return SGAD_OK;
}

/* The folds are valid if every outer training set can be split into k
 * non-empty inner folds, each leaving 2 training rows or more. */
static sgad_status check_folds(sgad_ctx *ctx, int64_t n, int64_t k)
{
    SGAD__CHECK(ctx, k >= 2 && k <= n, SGAD_E_INVALID_ARG, "%s: folds %lld outside [2, %lld]", fn,
                (long long)k, (long long)n);
    for (int64_t f = 0; f < k; f++) {
        const int64_t m = n - (fold_start(n, k, f + 1) - fold_start(n, k, f));
        int64_t least = m;
        for (int64_t h = 0; h < k; h++) {
            const int64_t left = m - (fold_start(m, k, h + 1) - fold_start(m, k, h));
            least = left < least ? left : least;
        }
        SGAD__CHECK(ctx, m >= k && least >= 2, SGAD_E_INVALID_ARG,
                    "%s: %lld folds of %lld stimuli leave an inner training set of %lld "
                    "stimuli; 2 are needed (use fewer folds; %lld stimuli always suffice)",
                    fn, (long long)k, (long long)n, (long long)(m >= k ? least : 0),
                    (long long)(4 * k));
    }
    return SGAD_OK;
}

static sgad_status check_alphas(sgad_ctx *ctx, const double *alphas, int count)
{
    SGAD__CHECK(ctx, (alphas && count >= 1 && count <= MAX_ALPHAS) || (!alphas && count == 0),
                SGAD_E_INVALID_ARG,
                "%s: %d alphas; give 1..%d of them, or NULL and 0 for the default grid", fn, count,
                MAX_ALPHAS);
    for (int g = 0; g < count; g++)
        SGAD__CHECK(ctx, isfinite(alphas[g]) && alphas[g] > 0, SGAD_E_INVALID_ARG,
                    "%s: alphas[%d] is %g; ridge strengths must be finite and > 0", fn, g,
                    alphas[g]);
    return SGAD_OK;
}

/* The held-out predictions of every row (n x q) with alphas chosen inside
 * each outer training set. */
static sgad_status predict_all(const problem *pb, int64_t k, double *out)
{
    sgad_ctx *ctx = pb->ctx;
    const int64_t n = pb->n, q = pb->q, grid = pb->grid;
    /* train + inner train indices (2n), pooled (grid n q), fold predictions
     * (grid n q, also m doubles of y), choices (q ints) */
    int64_t *idx = sgad__alloc(ctx, (size_t)(2 * n) * sizeof *idx);
    double *pooled = sgad__alloc(ctx, (size_t)(2 * grid * n * q + n) * sizeof *pooled);
    int *choice = sgad__alloc(ctx, (size_t)q * sizeof *choice);
    sgad_status st = idx && pooled && choice ? SGAD_OK : SGAD_E_NOMEM;
    double *fold_pred = pooled ? pooled + grid * n * q : NULL;
    for (int64_t f = 0; f < k && st == SGAD_OK; f++) {
        const int64_t lo = fold_start(n, k, f), hi = fold_start(n, k, f + 1), t = hi - lo;
        int64_t m = 0;
        for (int64_t i = 0; i < n; i++)
            if (i < lo || i >= hi)
                idx[m++] = i;
        for (int64_t i = lo; i < hi; i++)
            idx[n + i - lo] = i;
        st = choose_alphas(pb, idx, m, k, idx + n + t, pooled, fold_pred, choice);
        if (st == SGAD_OK)
            st = fit_predict(pb, idx, m, idx + n, t, fold_pred);
        for (int64_t i = 0; i < t && st == SGAD_OK; i++)
            for (int64_t j = 0; j < q; j++)
                out[(lo + i) * q + j] =
                    fold_pred[((size_t)choice[j] * (size_t)t + (size_t)i) * (size_t)q + (size_t)j];
    }
    sgad__free(ctx, idx);
    sgad__free(ctx, pooled);
    sgad__free(ctx, choice);
    return st;
}

sgad_status sgad_encoding_score(sgad_ctx *ctx, const sgad_rep *x, const sgad_rep *y, int folds,
                                const double *alphas, int alpha_count, sgad_summary summary,
                                double *score, double *unit_r)
{
    static const double default_alphas[SGAD_ENCODING_DEFAULT_ALPHAS] = {
        1e-4, 1e-3, 1e-2, 1e-1, 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6};
    if (!ctx)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(ctx, score, SGAD_E_INVALID_ARG, "%s: score is NULL", fn);
    SGAD__TRY(sgad__sim_check_pair(ctx, fn, x, y, 3));
    SGAD__TRY(check_folds(ctx, x->rows, folds));
    SGAD__TRY(check_alphas(ctx, alphas, alpha_count));
    SGAD__CHECK(ctx, summary == SGAD_SUMMARY_MEAN || summary == SGAD_SUMMARY_MEDIAN,
                SGAD_E_INVALID_ARG, "%s: summary %d is not an sgad_summary", fn, (int)summary);
    const int64_t n = x->rows, q = y->cols;
    double *xd = NULL, *yd = NULL, *pred = NULL, *r = NULL;
    sgad_status st = sgad__sim_copy(ctx, fn, "x", x, &xd);
    if (st == SGAD_OK)
        st = sgad__sim_copy(ctx, fn, "y", y, &yd);
    if (st == SGAD_OK) {
        const int64_t j = sgad__sim_constant_column(yd, n, q);
        if (j >= 0)
            st = sgad__fail(ctx, SGAD_E_NUMERIC,
                            "%s: y's column %lld is constant; a correlation with it is undefined",
                            fn, (long long)j);
    }
    if (st == SGAD_OK) {
        pred = sgad__alloc(ctx, (size_t)(n * q + q) * sizeof *pred);
        st = pred ? SGAD_OK : SGAD_E_NOMEM;
    }
    if (st == SGAD_OK) {
        const problem pb = {ctx,
                            xd,
                            yd,
                            n,
                            x->cols,
                            q,
                            alphas ? alphas : default_alphas,
                            alphas ? alpha_count : SGAD_ENCODING_DEFAULT_ALPHAS};
        st = predict_all(&pb, folds, pred);
    }
    if (st == SGAD_OK) {
        r = pred + n * q;
        double sum = 0;
        for (int64_t j = 0; j < q; j++) {
            r[j] = sgad__sim_pearson(pred + j, q, yd + j, q, n, NULL);
            sum += r[j];
            if (unit_r)
                unit_r[j] = r[j];
        }
        *score = summary == SGAD_SUMMARY_MEAN ? sum / (double)q : sgad__sim_median(r, q);
    }
    sgad__free(ctx, xd);
    sgad__free(ctx, yd);
    sgad__free(ctx, pred);
    return st;
}
