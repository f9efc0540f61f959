/* SPDX-License-Identifier: MIT */
/* The Fréchet distance from two sets of statistics (metrics.h).
 *
 * tr((S1 S2)^(1/2)) is computed through symmetric matrices only: S1 S2 is
 * similar to R S2 R with R = S1^(1/2) (R^-1 (R R S2) R = R S2 R when R is
 * invertible, and by continuity otherwise), and R S2 R is symmetric
 * positive semi-definite, so its eigenvalues are real and >= 0 up to
 * rounding and the trace of its square root is the sum of their roots.
 * Symmetric eigensolvers are backward stable, which the general square
 * root of a non-symmetric, possibly singular, S1 S2 is not. */
#include <math.h>
#include <string.h>

#include "core/internal.h"
#include "metrics_impl.h"
#include "metrics_lapack.h"

static const char fn[] = "sgad_frechet_distance";

/* Eigenvalues of the symmetric d x d matrix a (row-major; symmetric, so
 * Fortran's column order reads the same matrix) into w, ascending; with
 * vectors, a's rows become the eigenvectors. */
static sgad_status symmetric_eigen(sgad_ctx *ctx, int d, double *a, double *w, int vectors)
{
    const char jobz = vectors ? 'V' : 'N', uplo = 'U';
    int lwork = -1, liwork = -1, info = 0, iwork_size = 0;
    double work_size = 0;
    dsyevd_(&jobz, &uplo, &d, a, &d, w, &work_size, &lwork, &iwork_size, &liwork, &info, 1, 1);
    SGAD__CHECK(ctx, info == 0, SGAD_E_INTERNAL,
                "%s: LAPACK dsyevd workspace query failed "
                "(info %d)",
                fn, info);
    lwork = (int)work_size + 1;
    liwork = iwork_size > 1 ? iwork_size : 1;
    double *work = sgad__alloc(ctx, (size_t)lwork * sizeof *work);
    int *iwork = sgad__alloc(ctx, (size_t)liwork * sizeof *iwork);
    if (work && iwork)
        dsyevd_(&jobz, &uplo, &d, a, &d, w, work, &lwork, iwork, &liwork, &info, 1, 1);
    sgad__free(ctx, work);
    sgad__free(ctx, iwork);
    if (!work || !iwork)
        return SGAD_E_NOMEM;
    SGAD__CHECK(ctx, info == 0, SGAD_E_INTERNAL, "%s: LAPACK dsyevd did not converge (info %d)", fn,
                info);
    return SGAD_OK;
}

/* R = V diag(sqrt(max(l, 0))) V^T from the eigenvectors in v's rows (each
 * row of the column-major result is one eigenvector). */
static void square_root(int d, const double *v, const double *l, double *r)
{
    memset(r, 0, (size_t)d * (size_t)d * sizeof *r);
    for (int k = 0; k < d; k++) {
        const double s = sqrt(l[k] > 0 ? l[k] : 0);
        if (s == 0)
            continue;
        const double *vk = v + (size_t)k * (size_t)d;
        for (int i = 0; i < d; i++) {
            const double a = s * vk[i];
            double *ri = r + (size_t)i * (size_t)d;
            for (int j = 0; j < d; j++)
                ri[j] += a * vk[j];
        }
    }
}

/* c = a b for row-major d x d matrices. */
static void multiply(int d, const double *a, const double *b, double *c)
{
    memset(c, 0, (size_t)d * (size_t)d * sizeof *c);
    for (int i = 0; i < d; i++)
        for (int k = 0; k < d; k++) {
            const double aik = a[(size_t)i * d + k];
            const double *bk = b + (size_t)k * d;
            double *ci = c + (size_t)i * d;
            for (int j = 0; j < d; j++)
                ci[j] += aik * bk[j];
        }
}

/* tr((S1 S2)^(1/2)) with the working memory m (3 d^2 + d doubles). */
static sgad_status trace_sqrt_product(sgad_ctx *ctx, int d, const double *s1, const double *s2,
                                      double *m, double *trace)
{
    const size_t dd = (size_t)d * (size_t)d;
    double *v = m, *r = m + dd, *t = m + 2 * dd, *w = m + 3 * dd;
    memcpy(v, s1, dd * sizeof *v);
    SGAD__TRY(symmetric_eigen(ctx, d, v, w, 1));
    square_root(d, v, w, r);
    multiply(d, r, s2, t);
    multiply(d, t, r, v);
    for (int i = 0; i < d; i++) /* exact symmetry for the solver */
        for (int j = i + 1; j < d; j++)
            v[(size_t)i * d + j] = v[(size_t)j * d + i] =
                0.5 * (v[(size_t)i * d + j] + v[(size_t)j * d + i]);
    SGAD__TRY(symmetric_eigen(ctx, d, v, w, 0));
    double sum = 0;
    for (int i = 0; i < d; i++)
        sum += sqrt(w[i] > 0 ? w[i] : 0);
    *trace = sum;
    return SGAD_OK;
}

static sgad_status check_stats(sgad_ctx *ctx, int64_t d, const double *mean, const double *cov,
                               int which)
{
    for (int64_t i = 0; i < d; i++)
        SGAD__CHECK(ctx, isfinite(mean[i]), SGAD_E_NUMERIC,
                    "%s: mean%d[%lld] is %g; statistics "
                    "must be finite",
                    fn, which, (long long)i, mean[i]);
    double scale = 0;
    for (int64_t i = 0; i < d * d; i++)
        SGAD__CHECK(ctx, isfinite(cov[i]), SGAD_E_NUMERIC,
                    "%s: cov%d[%lld][%lld] is %g; "
                    "statistics must be finite",
                    fn, which, (long long)(i / d), (long long)(i % d), cov[i]);
    for (int64_t i = 0; i < d; i++)
        scale = fmax(scale, fabs(cov[i * d + i]));
    for (int64_t i = 0; i < d; i++)
        for (int64_t j = i + 1; j < d; j++)
            SGAD__CHECK(ctx, fabs(cov[i * d + j] - cov[j * d + i]) <= 1e-6 * scale, SGAD_E_NUMERIC,
                        "%s: cov%d is not symmetric: [%lld][%lld] = %g but [%lld][%lld] = %g", fn,
                        which, (long long)i, (long long)j, cov[i * d + j], (long long)j,
                        (long long)i, cov[j * d + i]);
    return SGAD_OK;
}

sgad_status sgad_frechet_distance_stats(sgad_ctx *ctx, int64_t d, const double *mean1,
                                        const double *cov1, const double *mean2, const double *cov2,
                                        double *distance)
{
    if (!ctx)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(ctx, mean1 && cov1 && mean2 && cov2 && distance, SGAD_E_INVALID_ARG,
                "%s: a mean, covariance or the result pointer is NULL", fn);
    SGAD__CHECK(ctx, d >= 1 && d <= SGAD_FRECHET_MAX_DIM, SGAD_E_INVALID_ARG,
                "%s: feature size %lld outside [1, %d]", fn, (long long)d, SGAD_FRECHET_MAX_DIM);
    SGAD__TRY(check_stats(ctx, d, mean1, cov1, 1));
    SGAD__TRY(check_stats(ctx, d, mean2, cov2, 2));
    double *m = sgad__alloc(ctx, (size_t)(3 * d * d + d) * sizeof *m);
    if (!m)
        return SGAD_E_NOMEM;
    double cross = 0;
    const sgad_status st = trace_sqrt_product(ctx, (int)d, cov1, cov2, m, &cross);
    sgad__free(ctx, m);
    SGAD__TRY(st);
    double fd = 0;
    for (int64_t i = 0; i < d; i++) {
        const double diff = mean1[i] - mean2[i];
        fd += diff * diff + cov1[i * d + i] + cov2[i * d + i];
    }
    fd -= 2 * cross;
    *distance = fd > 0 ? fd : 0; /* a squared distance; below 0 only by rounding */
    return SGAD_OK;
}

sgad_status sgad_frechet_distance(const sgad_tensor *a, const sgad_tensor *b, double *distance)
{
    if (!a || !b)
        return SGAD_E_INVALID_ARG;
    sgad_ctx *ctx = a->ctx;
    SGAD__CHECK(ctx, distance, SGAD_E_INVALID_ARG, "%s: distance must not be NULL", fn);
    int64_t na, da, nb, db;
    SGAD__TRY(sgad__features_shape(a, fn, &na, &da));
    SGAD__TRY(sgad__features_shape(b, fn, &nb, &db));
    SGAD__CHECK(ctx, da == db, SGAD_E_SHAPE,
                "%s: the first set has %lld features per vector, "
                "the second %lld",
                fn, (long long)da, (long long)db);
    const size_t dd = (size_t)(da * da);
    double *s = sgad__alloc(ctx, (2 * dd + 2 * (size_t)da) * sizeof *s);
    if (!s)
        return SGAD_E_NOMEM;
    double *cov1 = s, *cov2 = s + dd, *mean1 = s + 2 * dd, *mean2 = mean1 + da;
    sgad_status st = sgad_feature_stats(a, da, mean1, cov1);
    if (st == SGAD_OK) {
        st = sgad_feature_stats(b, da, mean2, cov2);
        if (st != SGAD_OK && b->ctx != ctx) /* the message went to b's context */
            sgad__fail(ctx, st, "%s", sgad_ctx_last_error(b->ctx));
    }
    if (st == SGAD_OK)
        st = sgad_frechet_distance_stats(ctx, da, mean1, cov1, mean2, cov2, distance);
    sgad__free(ctx, s);
    return st;
}
