/* SPDX-License-Identifier: MIT */
/* SVCCA (similarity.h).
 *
 * After the SVD step each representation is U_k S_k, whose columns span
 * the same subspace of stimulus space as the orthonormal U_k. CCA between
 * two sets of variables depends only on the subspaces they span: the
 * canonical correlations are the cosines of the principal angles between
 * them, the singular values of Ux_k^T Uy_k. So no covariance is inverted
 * (which is where CCA usually loses accuracy) and the orthonormal bases
 * come straight from LAPACK's SVD. */
#include <math.h>
#include <string.h>

#include "similarity_impl.h"

static const char fn[] = "sgad_svcca";

/* The centred representation's top directions: u (n x r, row-major, the
 * first *kept columns used) and how many are kept. */
static sgad_status reduce(sgad_ctx *ctx, const char *name, const sgad_rep *x, double variance,
                          double *u, int64_t *kept)
{
    const int64_t n = x->rows, p = x->cols, r = n < p ? n : p;
    double *a;
    SGAD__TRY(sgad__sim_copy(ctx, fn, name, x, &a));
    sgad__sim_centre_columns(a, n, p, NULL);
    double *w = sgad__alloc(ctx, (size_t)(r + r * p) * sizeof *w);
    sgad_status st = w ? sgad__sim_svd(ctx, fn, a, n, p, w, u, w + r) : SGAD_E_NOMEM;
    if (st == SGAD_OK) {
        const double *s = w;
        int64_t k = sgad__sim_numerical_rank(s, r, n, p);
        if (k == 0) {
            st = sgad__fail(ctx, SGAD_E_NUMERIC,
                            "%s: every column of %s is constant; it spans no direction", fn, name);
        } else if (variance < 1) {
            double total = 0, sum = 0;
            for (int64_t l = 0; l < r; l++)
                total += s[l] * s[l];
            int64_t l = 0;
            while (l < k && (sum += s[l] * s[l]) < variance * total)
                l++;
            k = l < k ? l + 1 : k;
        }
        *kept = k;
    }
    sgad__free(ctx, a);
    sgad__free(ctx, w);
    return st;
}

sgad_status sgad_svcca(sgad_ctx *ctx, const sgad_rep *x, const sgad_rep *y, double variance,
                       double *score, double *correlations, int64_t *count)
{
    if (!ctx)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(ctx, score, SGAD_E_INVALID_ARG, "%s: score is NULL", fn);
    SGAD__TRY(sgad__sim_check_pair(ctx, fn, x, y, 3));
    SGAD__CHECK(ctx, variance > 0 && variance <= 1, SGAD_E_INVALID_ARG,
                "%s: variance %g outside (0, 1]", fn, variance);
    const int64_t n = x->rows, rx = n < x->cols ? n : x->cols, ry = n < y->cols ? n : y->cols;
    const int64_t rmin = rx < ry ? rx : ry;
    /* ux (n x rx), uy (n x ry), m = ux_k^T uy_k (at most rx x ry), its
     * singular values (rmin) */
    double *w = sgad__alloc(ctx, (size_t)(n * rx + n * ry + rx * ry + rmin) * sizeof *w);
    if (!w)
        return SGAD_E_NOMEM;
    double *ux = w, *uy = ux + n * rx, *m = uy + n * ry, *rho = m + rx * ry;
    int64_t kx = 0, ky = 0;
    sgad_status st = reduce(ctx, "x", x, variance, ux, &kx);
    if (st == SGAD_OK)
        st = reduce(ctx, "y", y, variance, uy, &ky);
    if (st == SGAD_OK) {
        for (int64_t a = 0; a < kx; a++)
            for (int64_t b = 0; b < ky; b++) {
                double sum = 0;
                for (int64_t i = 0; i < n; i++)
                    sum += ux[i * rx + a] * uy[i * ry + b];
                m[a * ky + b] = sum;
            }
        st = sgad__sim_svd(ctx, fn, m, kx, ky, rho, NULL, NULL);
    }
    if (st == SGAD_OK) {
        const int64_t k = kx < ky ? kx : ky;
        double sum = 0;
        for (int64_t l = 0; l < k; l++) {
            /* cosines: above 1 only by rounding */
            rho[l] = rho[l] > 1 ? 1 : rho[l];
            sum += rho[l];
            if (correlations)
                correlations[l] = rho[l];
        }
        *score = sum / (double)k;
        if (count)
            *count = k;
    }
    sgad__free(ctx, w);
    return st;
}
