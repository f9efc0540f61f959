/* SPDX-License-Identifier: MIT */
/* Centred kernel alignment (similarity.h).
 *
 * Both estimators work on the n x n Gram matrices. The linear kernel's
 * Gram matrix is taken from units already centred over stimuli, which is
 * HKH for the uncentred K; the biased estimator centres every Gram matrix
 * again anyway (H is idempotent, so the linear kernel loses nothing), and
 * the unbiased estimator's value does not depend on the centring of the
 * units, only its rounding does. */
#include <math.h>
#include <string.h>

#include "similarity_impl.h"

static const char fn[] = "sgad_cka";

/* Squared distances between rows, summed from differences (accurate for
 * nearby stimuli). */
static void squared_distances(const double *a, int64_t n, int64_t p, double *d2)
{
    for (int64_t i = 0; i < n; i++) {
        d2[i * n + i] = 0;
        for (int64_t k = i + 1; k < n; k++) {
            double ss = 0;
            for (int64_t j = 0; j < p; j++) {
                const double d = a[i * p + j] - a[k * p + j];
                ss += d * d;
            }
            d2[i * n + k] = d2[k * n + i] = ss;
        }
    }
}

/* The Gram matrix of x's stimuli into g (n x n); scratch holds n (n - 1) / 2
 * doubles for the median. */
static sgad_status gram(sgad_ctx *ctx, const char *name, const sgad_rep *x, sgad_cka_kernel kernel,
                        double rbf_scale, double *g, double *scratch)
{
    const int64_t n = x->rows, p = x->cols;
    double *a;
    SGAD__TRY(sgad__sim_copy(ctx, fn, name, x, &a));
    sgad_status st = SGAD_OK;
    if (kernel == SGAD_CKA_LINEAR) {
        sgad__sim_centre_columns(a, n, p, NULL);
        for (int64_t i = 0; i < n; i++)
            for (int64_t k = i; k < n; k++) {
                double sum = 0;
                for (int64_t j = 0; j < p; j++)
                    sum += a[i * p + j] * a[k * p + j];
                g[i * n + k] = g[k * n + i] = sum;
            }
        double trace = 0;
        for (int64_t i = 0; i < n; i++)
            trace += g[i * n + i];
        if (!(trace > 0))
            st = sgad__fail(ctx, SGAD_E_NUMERIC,
                            "%s: every column of %s is constant; its kernel carries no "
                            "information",
                            fn, name);
    } else {
        squared_distances(a, n, p, g);
        int64_t t = 0;
        for (int64_t i = 0; i < n; i++)
            for (int64_t k = i + 1; k < n; k++)
                scratch[t++] = g[i * n + k];
        const double median = sgad__sim_median(scratch, t);
        const double width = 2 * rbf_scale * rbf_scale * median;
        if (!(median > 0)) {
            st = sgad__fail(ctx, SGAD_E_NUMERIC,
                            "%s: half or more of %s's pairs of stimuli coincide; the median "
                            "distance (the RBF bandwidth) is 0",
                            fn, name);
        } else if (!(width > 0 && isfinite(1 / width))) {
            st = sgad__fail(ctx, SGAD_E_NUMERIC,
                            "%s: the RBF bandwidth of %s, 2 (%g)^2 times the median %g, is out "
                            "of the range of doubles",
                            fn, name, rbf_scale, median);
        } else {
            const double inv = 1 / width;
            for (int64_t i = 0; i < n * n; i++)
                g[i] = exp(-g[i] * inv);
        }
    }
    sgad__free(ctx, a);
    return st;
}

/* HKH in place: subtract row means and column means, add the grand mean
 * (the matrix is symmetric, so row and column means are the same). */
static void double_centre(double *g, int64_t n, double *mean)
{
    double grand = 0;
    for (int64_t i = 0; i < n; i++) {
        double sum = 0;
        for (int64_t k = 0; k < n; k++)
            sum += g[i * n + k];
        mean[i] = sum / (double)n;
        grand += mean[i];
    }
    grand /= (double)n;
    for (int64_t i = 0; i < n; i++)
        for (int64_t k = 0; k < n; k++)
            g[i * n + k] += grand - mean[i] - mean[k];
}

/* tr(K L) of symmetric K and L, i.e. their elementwise product summed. */
static double frobenius(const double *k, const double *l, int64_t n)
{
    double sum = 0;
    for (int64_t i = 0; i < n * n; i++)
        sum += k[i] * l[i];
    return sum;
}

/* Song et al.'s unbiased HSIC of two Gram matrices whose diagonals are 0;
 * kr and lr are their row sums. */
static double hsic_unbiased(const double *k, const double *kr, const double *l, const double *lr,
                            int64_t n)
{
    double ksum = 0, lsum = 0, cross = 0;
    for (int64_t i = 0; i < n; i++) {
        ksum += kr[i];
        lsum += lr[i];
        cross += kr[i] * lr[i];
    }
    const double nd = (double)n;
    return (frobenius(k, l, n) + ksum * lsum / ((nd - 1) * (nd - 2)) - 2 / (nd - 2) * cross) /
           (nd * (nd - 3));
}

static void zero_diagonal_row_sums(double *g, int64_t n, double *rows)
{
    for (int64_t i = 0; i < n; i++) {
        g[i * n + i] = 0;
        double sum = 0;
        for (int64_t k = 0; k < n; k++)
            sum += g[i * n + k];
        rows[i] = sum;
    }
}

static sgad_status alignment(sgad_ctx *ctx, double *k, double *l, int64_t n, int unbiased,
                             double *rows, double *score)
{
    double kl, kk, ll;
    if (unbiased) {
        double *kr = rows, *lr = rows + n;
        zero_diagonal_row_sums(k, n, kr);
        zero_diagonal_row_sums(l, n, lr);
        kl = hsic_unbiased(k, kr, l, lr, n);
        kk = hsic_unbiased(k, kr, k, kr, n);
        ll = hsic_unbiased(l, lr, l, lr, n);
    } else {
        double_centre(k, n, rows);
        double_centre(l, n, rows);
        kl = frobenius(k, l, n);
        kk = frobenius(k, k, n);
        ll = frobenius(l, l, n);
    }
    SGAD__CHECK(ctx, kk > 0 && ll > 0, SGAD_E_NUMERIC,
                "%s: HSIC of %s with itself is %g; CKA needs it above 0 (too few stimuli for "
                "the unbiased estimator, or a representation without variance)",
                fn, kk > 0 ? "y" : "x", kk > 0 ? ll : kk);
    *score = kl / sqrt(kk * ll);
    return SGAD_OK;
}

sgad_status sgad_cka(sgad_ctx *ctx, const sgad_rep *x, const sgad_rep *y, sgad_cka_kernel kernel,
                     double rbf_scale, int unbiased, double *score)
{
    if (!ctx)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(ctx, score, SGAD_E_INVALID_ARG, "%s: score is NULL", fn);
    SGAD__CHECK(ctx, unbiased == 0 || unbiased == 1, SGAD_E_INVALID_ARG,
                "%s: unbiased is %d; 0 or 1 expected", fn, unbiased);
    SGAD__TRY(sgad__sim_check_pair(ctx, fn, x, y, unbiased ? 4 : 3));
    SGAD__CHECK(ctx, kernel == SGAD_CKA_LINEAR || kernel == SGAD_CKA_RBF, SGAD_E_INVALID_ARG,
                "%s: kernel %d is not an sgad_cka_kernel", fn, (int)kernel);
    SGAD__CHECK(ctx, kernel == SGAD_CKA_LINEAR || (isfinite(rbf_scale) && rbf_scale > 0),
                SGAD_E_INVALID_ARG, "%s: rbf_scale %g; the bandwidth's multiple must be > 0", fn,
                rbf_scale);
    const int64_t n = x->rows, nn = n * n;
    /* K, L (n x n each), the median's scratch (n (n - 1) / 2), row sums or
     * means (2 n) */
    double *w = sgad__alloc(ctx, (size_t)(2 * nn + n * (n - 1) / 2 + 2 * n) * sizeof *w);
    if (!w)
        return SGAD_E_NOMEM;
    double *k = w, *l = k + nn, *scratch = l + nn, *rows = scratch + n * (n - 1) / 2;
    sgad_status st = gram(ctx, "x", x, kernel, rbf_scale, k, scratch);
    if (st == SGAD_OK)
        st = gram(ctx, "y", y, kernel, rbf_scale, l, scratch);
    if (st == SGAD_OK)
        st = alignment(ctx, k, l, n, unbiased, rows, score);
    sgad__free(ctx, w);
    return st;
}
