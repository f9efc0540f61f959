/* SPDX-License-Identifier: MIT */
/* Mean and unbiased covariance of a set of feature vectors (metrics.h).
 * Everything is accumulated in double: features from a network are float,
 * but a covariance summed over 10000 vectors in float would lose about four
 * of float's seven digits, and the Fréchet distance subtracts traces of
 * similar size, so it needs all the digits it can get. */
#include <math.h>
#include <string.h>

#include "core/internal.h"
#include "metrics_impl.h"

sgad_status sgad__features_shape(const sgad_tensor *t, const char *fn, int64_t *n, int64_t *d)
{
    *d = t->dims[t->ndim - 1];
    *n = t->numel / *d;
    SGAD__CHECK(t->ctx, t->ndim >= 2, SGAD_E_SHAPE,
                "%s: features must be [n, d] (or [1, n, d]); "
                "got %d dimension(s)",
                fn, t->ndim);
    SGAD__CHECK(t->ctx, *n >= 2, SGAD_E_INVALID_ARG,
                "%s: %lld feature vector(s); a covariance "
                "needs at least 2",
                fn, (long long)*n);
    SGAD__CHECK(t->ctx, *d >= 1 && *d <= SGAD_FRECHET_MAX_DIM, SGAD_E_INVALID_ARG,
                "%s: feature size %lld outside [1, %d]", fn, (long long)*d, SGAD_FRECHET_MAX_DIM);
    return SGAD_OK;
}

static sgad_status check_finite(const sgad_tensor *t, const char *fn, int64_t d)
{
    for (int64_t i = 0; i < t->numel; i++)
        SGAD__CHECK(t->ctx, isfinite(t->data[i]), SGAD_E_NUMERIC,
                    "%s: feature %lld of vector "
                    "%lld is %g; features must be finite",
                    fn, (long long)(i % d), (long long)(i / d), (double)t->data[i]);
    return SGAD_OK;
}

/* cov = sum over vectors of (x - mean)(x - mean)^T / (n - 1), upper
 * triangle first, then mirrored, so the result is exactly symmetric. */
static void covariance(const float *x, int64_t n, int64_t d, const double *mean, double *cov,
                       double *centred)
{
    memset(cov, 0, (size_t)(d * d) * sizeof *cov);
    for (int64_t r = 0; r < n; r++) {
        for (int64_t j = 0; j < d; j++)
            centred[j] = (double)x[r * d + j] - mean[j];
        for (int64_t i = 0; i < d; i++) {
            const double ci = centred[i];
            double *row = cov + i * d;
            for (int64_t j = i; j < d; j++)
                row[j] += ci * centred[j];
        }
    }
    for (int64_t i = 0; i < d; i++)
        for (int64_t j = i; j < d; j++) {
            cov[i * d + j] /= (double)(n - 1);
            cov[j * d + i] = cov[i * d + j];
        }
}

sgad_status sgad_feature_stats(const sgad_tensor *features, int64_t d, double *mean, double *cov)
{
    static const char fn[] = "sgad_feature_stats";
    if (!features)
        return SGAD_E_INVALID_ARG;
    sgad_ctx *ctx = features->ctx;
    SGAD__CHECK(ctx, mean && cov, SGAD_E_INVALID_ARG, "%s: mean and cov must not be NULL", fn);
    int64_t n, dim;
    SGAD__TRY(sgad__features_shape(features, fn, &n, &dim));
    SGAD__CHECK(ctx, d == dim, SGAD_E_SHAPE,
                "%s: the caller expects %lld features per vector, "
                "the tensor has %lld",
                fn, (long long)d, (long long)dim);
    SGAD__TRY(check_finite(features, fn, d));
    double *centred = sgad__alloc(ctx, (size_t)d * sizeof *centred);
    if (!centred)
        return SGAD_E_NOMEM;
    memset(mean, 0, (size_t)d * sizeof *mean);
    for (int64_t r = 0; r < n; r++)
        for (int64_t j = 0; j < d; j++)
            mean[j] += features->data[r * d + j];
    for (int64_t j = 0; j < d; j++)
        mean[j] /= (double)n;
    covariance(features->data, n, d, mean, cov, centred);
    sgad__free(ctx, centred);
    return SGAD_OK;
}
