/* SPDX-License-Identifier: MIT */
/* Helpers shared by the similarity measures (similarity_impl.h). */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "similarity_impl.h"
#include "similarity_lapack.h"

sgad_status sgad__sim_check(sgad_ctx *ctx, const char *fn, const char *name, const sgad_rep *r,
                            int64_t min_rows)
{
    SGAD__CHECK(ctx, r && r->data, SGAD_E_INVALID_ARG, "%s: %s or its data is NULL", fn, name);
    SGAD__CHECK(ctx, r->dtype == SGAD_DTYPE_F32 || r->dtype == SGAD_DTYPE_F64, SGAD_E_INVALID_ARG,
                "%s: %s has dtype %d; SGAD_DTYPE_F32 or SGAD_DTYPE_F64 expected", fn, name,
                (int)r->dtype);
    SGAD__CHECK(ctx, r->rows >= min_rows && r->rows <= SGAD_SIMILARITY_MAX_STIMULI,
                SGAD_E_INVALID_ARG, "%s: %s has %lld stimuli; %lld..%d are accepted", fn, name,
                (long long)r->rows, (long long)min_rows, SGAD_SIMILARITY_MAX_STIMULI);
    SGAD__CHECK(ctx, r->cols >= 1 && r->cols <= SGAD_SIMILARITY_MAX_UNITS, SGAD_E_INVALID_ARG,
                "%s: %s has %lld units; 1..%lld are accepted", fn, name, (long long)r->cols,
                (long long)SGAD_SIMILARITY_MAX_UNITS);
    SGAD__CHECK(ctx, r->stride == 0 || (r->stride >= r->cols && r->stride <= SGAD__MAX_NUMEL),
                SGAD_E_SHAPE, "%s: %s's stride %lld is shorter than its %lld units", fn, name,
                (long long)r->stride, (long long)r->cols);
    return SGAD_OK;
}

sgad_status sgad__sim_check_pair(sgad_ctx *ctx, const char *fn, const sgad_rep *x,
                                 const sgad_rep *y, int64_t min_rows)
{
    SGAD__TRY(sgad__sim_check(ctx, fn, "x", x, min_rows));
    SGAD__TRY(sgad__sim_check(ctx, fn, "y", y, min_rows));
    SGAD__CHECK(ctx, x->rows == y->rows, SGAD_E_SHAPE,
                "%s: x holds %lld stimuli, y %lld; row i of both must be stimulus i", fn,
                (long long)x->rows, (long long)y->rows);
    return SGAD_OK;
}

sgad_status sgad__sim_copy(sgad_ctx *ctx, const char *fn, const char *name, const sgad_rep *r,
                           double **out)
{
    const int64_t n = r->rows, p = r->cols, stride = r->stride ? r->stride : r->cols;
    double *a = sgad__alloc(ctx, (size_t)(n * p) * sizeof *a);
    if (!a)
        return SGAD_E_NOMEM;
    for (int64_t i = 0; i < n; i++) {
        double *ai = a + i * p;
        if (r->dtype == SGAD_DTYPE_F64)
            memcpy(ai, (const double *)r->data + i * stride, (size_t)p * sizeof *ai);
        else
            for (int64_t j = 0; j < p; j++)
                ai[j] = ((const float *)r->data)[i * stride + j];
        for (int64_t j = 0; j < p; j++)
            if (!(fabs(ai[j]) <= SGAD__SIM_MAX_MAGNITUDE)) {
                const double v = ai[j];
                sgad__free(ctx, a);
                return sgad__fail(ctx, SGAD_E_NUMERIC, "%s: %s[%lld][%lld] is %g; %s", fn, name,
                                  (long long)i, (long long)j, v,
                                  isfinite(v) ? "magnitudes above 1e100 would overflow the sums "
                                                "of squares"
                                              : "values must be finite");
            }
    }
    *out = a;
    return SGAD_OK;
}

void sgad__sim_centre_columns(double *a, int64_t n, int64_t p, double *mean)
{
    for (int64_t j = 0; j < p; j++) {
        double sum = 0;
        for (int64_t i = 0; i < n; i++)
            sum += a[i * p + j];
        const double m = sum / (double)n;
        for (int64_t i = 0; i < n; i++)
            a[i * p + j] -= m;
        if (mean)
            mean[j] = m;
    }
}

int64_t sgad__sim_constant_column(const double *a, int64_t n, int64_t p)
{
    for (int64_t j = 0; j < p; j++) {
        int64_t i = 1;
        while (i < n && a[i * p + j] == a[j])
            i++;
        if (i == n)
            return j;
    }
    return -1;
}

double sgad__sim_pearson(const double *a, int64_t sa, const double *b, int64_t sb, int64_t n,
                         int *defined)
{
    double ma = 0, mb = 0;
    for (int64_t i = 0; i < n; i++) {
        ma += a[i * sa];
        mb += b[i * sb];
    }
    ma /= (double)n;
    mb /= (double)n;
    double ab = 0, aa = 0, bb = 0;
    for (int64_t i = 0; i < n; i++) {
        const double da = a[i * sa] - ma, db = b[i * sb] - mb;
        ab += da * db;
        aa += da * da;
        bb += db * db;
    }
    if (!(aa > 0 && bb > 0)) {
        if (defined)
            *defined = 0;
        return 0;
    }
    if (defined)
        *defined = 1;
    return ab / sqrt(aa * bb);
}

typedef struct ranked {
    double v;
    int64_t i;
} ranked;

/* By value, then by position: a total order, so the sort's result does not
 * depend on qsort's algorithm. */
static int by_value(const void *pa, const void *pb)
{
    const ranked *a = pa, *b = pb;
    if (a->v != b->v)
        return a->v < b->v ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

sgad_status sgad__sim_ranks(sgad_ctx *ctx, const double *v, int64_t n, double *ranks)
{
    ranked *r = sgad__alloc(ctx, (size_t)n * sizeof *r);
    if (!r)
        return SGAD_E_NOMEM;
    for (int64_t i = 0; i < n; i++)
        r[i] = (ranked){v[i], i};
    qsort(r, (size_t)n, sizeof *r, by_value);
    for (int64_t lo = 0; lo < n;) {
        int64_t hi = lo + 1;
        while (hi < n && r[hi].v == r[lo].v)
            hi++;
        /* positions lo..hi-1 hold ranks lo+1..hi; their average */
        const double avg = 0.5 * (double)(lo + 1 + hi);
        for (int64_t k = lo; k < hi; k++)
            ranks[r[k].i] = avg;
        lo = hi;
    }
    sgad__free(ctx, r);
    return SGAD_OK;
}

static int by_double(const void *pa, const void *pb)
{
    const double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

double sgad__sim_median(double *v, int64_t n)
{
    qsort(v, (size_t)n, sizeof *v, by_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The row-major n x p matrix is the column-major p x n matrix A^T, whose
 * SVD A^T = V S U^T LAPACK computes: its left vectors (p x r, column-major)
 * are V^T row-major, its right ones (r x n, column-major) are U row-major,
 * so no transposition is needed. */
sgad_status sgad__sim_svd(sgad_ctx *ctx, const char *fn, double *a, int64_t n, int64_t p, double *s,
                          double *u, double *vt)
{
    const int m_ = (int)p, n_ = (int)n, r = (int)(n < p ? n : p);
    const char jobz = u && vt ? 'S' : 'N';
    int lwork = -1, info = 0, ld_one = 1;
    double work_size = 0;
    int *iwork = sgad__alloc(ctx, (size_t)8 * (size_t)r * sizeof *iwork);
    if (!iwork)
        return SGAD_E_NOMEM;
    double *uu = jobz == 'S' ? vt : NULL, *vv = jobz == 'S' ? u : NULL;
    const int *ldu = jobz == 'S' ? &m_ : &ld_one, *ldvt = jobz == 'S' ? &r : &ld_one;
    dgesdd_(&jobz, &m_, &n_, a, &m_, s, uu, ldu, vv, ldvt, &work_size, &lwork, iwork, &info, 1);
    double *work = NULL;
    if (info == 0) {
        lwork = (int)work_size + 1;
        work = sgad__alloc(ctx, (size_t)lwork * sizeof *work);
        if (work)
            dgesdd_(&jobz, &m_, &n_, a, &m_, s, uu, ldu, vv, ldvt, work, &lwork, iwork, &info, 1);
    }
    sgad__free(ctx, iwork);
    sgad__free(ctx, work);
    if (info == 0 && !work)
        return SGAD_E_NOMEM;
    SGAD__CHECK(ctx, info == 0, SGAD_E_INTERNAL, "%s: LAPACK dgesdd failed (info %d)", fn, info);
    return SGAD_OK;
}

int64_t sgad__sim_numerical_rank(const double *s, int64_t r, int64_t n, int64_t p)
{
    if (r == 0 || !(s[0] > 0))
        return 0;
    const double tol = (double)(n > p ? n : p) * DBL_EPSILON * s[0];
    int64_t k = 0;
    while (k < r && s[k] > tol)
        k++;
    return k;
}
