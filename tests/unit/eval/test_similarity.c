/* SPDX-License-Identifier: MIT */
/* The similarity measures (similarity.h): against an independent numpy/
 * scipy implementation on the committed fixtures of
 * tests/gen_similarity_fixtures.py, against known answers, and their
 * refusals.
 *
 * Tolerances. The fixtures' scores are computed in double from the same
 * float32 values by other routes (feature-space CKA, whitened CCA,
 * pdist), so the two sides differ by rounding only: a few hundred
 * operations deep at 1e-16 each, asserted to 1e-9 relative. The encoding
 * and SVCCA make discrete choices (a ridge strength, a number of
 * components); the generator refuses cases where a choice is closer than
 * 1e-6 to flipping, so rounding cannot flip it here.
 *
 * Known answers use data drawn here from a fixed seed (Box-Muller on
 * tu_uniform). The statistical ones (independent matrices, the planted
 * encoding) compare a mean over draws with its expectation, with a
 * tolerance of about 4 standard errors (measured in numpy over 200 draws
 * of the same sizes; the numbers are beside each test). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "test_util.h"

static double normal(uint64_t *state)
{
    const double u = tu_uniform(state), v = tu_uniform(state);
    return sqrt(-2 * log(1 - u)) * cos(2 * M_PI * v);
}

static double *normals(int64_t n, uint64_t *state)
{
    double *a = malloc((size_t)n * sizeof *a);
    ck_assert_ptr_nonnull(a);
    for (int64_t i = 0; i < n; i++)
        a[i] = normal(state);
    return a;
}

static sgad_rep rep64(const double *a, int64_t rows, int64_t cols)
{
    return (sgad_rep){a, SGAD_DTYPE_F64, rows, cols, 0};
}

/* c = a b: a n x p, b p x q, all row-major. */
static double *matmul(const double *a, const double *b, int64_t n, int64_t p, int64_t q)
{
    double *c = calloc((size_t)(n * q), sizeof *c);
    ck_assert_ptr_nonnull(c);
    for (int64_t i = 0; i < n; i++)
        for (int64_t k = 0; k < p; k++)
            for (int64_t j = 0; j < q; j++)
                c[i * q + j] += a[i * p + k] * b[k * q + j];
    return c;
}

/* A random p x p orthogonal matrix: Gram-Schmidt (twice) on normal rows. */
static double *orthogonal(int64_t p, uint64_t *state)
{
    double *q = normals(p * p, state);
    for (int pass = 0; pass < 2; pass++)
        for (int64_t i = 0; i < p; i++) {
            for (int64_t k = 0; k < i; k++) {
                double dot = 0;
                for (int64_t j = 0; j < p; j++)
                    dot += q[i * p + j] * q[k * p + j];
                for (int64_t j = 0; j < p; j++)
                    q[i * p + j] -= dot * q[k * p + j];
            }
            double norm = 0;
            for (int64_t j = 0; j < p; j++)
                norm += q[i * p + j] * q[i * p + j];
            for (int64_t j = 0; j < p; j++)
                q[i * p + j] /= sqrt(norm);
        }
    return q;
}

/* Every measure's score, in a fixed order, for the comparisons below. */
enum {
    M_RSA_CORR,
    M_RSA_EUCL,
    M_SVCCA_99,
    M_SVCCA_1,
    M_CKA_LIN,
    M_CKA_LIN_U,
    M_CKA_RBF,
    M_CKA_RBF_U,
    M_ENCODING,
    M_COUNT
};
static const char *const measure_names[M_COUNT] = {
    "rsa correlation", "rsa euclidean", "svcca 0.99",   "svcca 1", "cka linear",
    "cka linear unb.", "cka rbf",       "cka rbf unb.", "encoding"};

static void all_scores(sgad_ctx *ctx, const sgad_rep *x, const sgad_rep *y, double *out)
{
    ASSERT_OK(ctx, sgad_rsa(ctx, x, y, SGAD_RDM_CORRELATION, 0, 0, &out[M_RSA_CORR], NULL));
    ASSERT_OK(ctx, sgad_rsa(ctx, x, y, SGAD_RDM_EUCLIDEAN, 0, 0, &out[M_RSA_EUCL], NULL));
    ASSERT_OK(ctx, sgad_svcca(ctx, x, y, 0.99, &out[M_SVCCA_99], NULL, NULL));
    ASSERT_OK(ctx, sgad_svcca(ctx, x, y, 1, &out[M_SVCCA_1], NULL, NULL));
    ASSERT_OK(ctx, sgad_cka(ctx, x, y, SGAD_CKA_LINEAR, 1, 0, &out[M_CKA_LIN]));
    ASSERT_OK(ctx, sgad_cka(ctx, x, y, SGAD_CKA_LINEAR, 1, 1, &out[M_CKA_LIN_U]));
    ASSERT_OK(ctx, sgad_cka(ctx, x, y, SGAD_CKA_RBF, 1, 0, &out[M_CKA_RBF]));
    ASSERT_OK(ctx, sgad_cka(ctx, x, y, SGAD_CKA_RBF, 1, 1, &out[M_CKA_RBF_U]));
    ASSERT_OK(
        ctx, sgad_encoding_score(ctx, x, y, 5, NULL, 0, SGAD_SUMMARY_MEAN, &out[M_ENCODING], NULL));
}

/* ---- against numpy/scipy ---- */

static double fixture_score(sgad_ctx *ctx, const fixture *f, const char *measure)
{
    const fx_array *xa = fx_get(f, "x"), *ya = fx_get(f, "y");
    const sgad_rep x = {xa->data, SGAD_DTYPE_F32, xa->dims[0], xa->dims[1], 0};
    const sgad_rep y = {ya->data, SGAD_DTYPE_F32, ya->dims[0], ya->dims[1], 0};
    double v = NAN;
    double scale = 1;
    if (strcmp(measure, "rsa_correlation") == 0)
        ASSERT_OK(ctx, sgad_rsa(ctx, &x, &y, SGAD_RDM_CORRELATION, 0, 0, &v, NULL));
    else if (strcmp(measure, "rsa_euclidean") == 0)
        ASSERT_OK(ctx, sgad_rsa(ctx, &x, &y, SGAD_RDM_EUCLIDEAN, 0, 0, &v, NULL));
    else if (strcmp(measure, "encoding_mean") == 0)
        ASSERT_OK(ctx, sgad_encoding_score(ctx, &x, &y, 5, NULL, 0, SGAD_SUMMARY_MEAN, &v, NULL));
    else if (strcmp(measure, "encoding_median") == 0)
        ASSERT_OK(ctx, sgad_encoding_score(ctx, &x, &y, 5, NULL, 0, SGAD_SUMMARY_MEDIAN, &v, NULL));
    else if (sscanf(measure, "svcca_%lf", &scale) == 1)
        ASSERT_OK(ctx, sgad_svcca(ctx, &x, &y, scale, &v, NULL, NULL));
    else if (strcmp(measure, "cka_linear") == 0)
        ASSERT_OK(ctx, sgad_cka(ctx, &x, &y, SGAD_CKA_LINEAR, 1, 0, &v));
    else if (strcmp(measure, "cka_linear_unbiased") == 0)
        ASSERT_OK(ctx, sgad_cka(ctx, &x, &y, SGAD_CKA_LINEAR, 1, 1, &v));
    else if (strcmp(measure, "cka_rbf_unbiased") == 0)
        ASSERT_OK(ctx, sgad_cka(ctx, &x, &y, SGAD_CKA_RBF, 1, 1, &v));
    else if (sscanf(measure, "cka_rbf%lf", &scale) == 1 || strcmp(measure, "cka_rbf") == 0)
        ASSERT_OK(ctx, sgad_cka(ctx, &x, &y, SGAD_CKA_RBF, scale, 0, &v));
    else
        ck_abort_msg("unknown measure %s in similarity_expected.txt", measure);
    return v;
}

START_TEST(matches_numpy_and_scipy)
{
    const char *dir = getenv("SGAD_TEST_DIR");
    char path[1024], name[64], measure[64], last[64] = "";
    snprintf(path, sizeof path, "%s/fixtures/similarity_expected.txt", dir ? dir : "tests");
    FILE *fp = fopen(path, "r");
    ck_assert_msg(fp != NULL, "cannot open %s", path);
    sgad_ctx *ctx = tu_ctx(1);
    fixture *f = NULL;
    double expected, worst = 0;
    int lines = 0;
    while (fscanf(fp, "%63s %63s %lf", name, measure, &expected) == 3) {
        if (strcmp(name, last) != 0) {
            char file[96];
            snprintf(file, sizeof file, "similarity_%s", name);
            fx_free(f);
            f = fx_load(file);
            snprintf(last, sizeof last, "%s", name);
        }
        const double v = fixture_score(ctx, f, measure);
        const double rel = fabs(v - expected) / fabs(expected);
        ck_assert_msg(rel <= 1e-9, "%s %s: %.17g, numpy/scipy %.17g (relative %.3g)", name, measure,
                      v, expected, rel);
        worst = fmax(worst, rel);
        lines++;
    }
    fclose(fp);
    fx_free(f);
    ck_assert_int_eq(lines, 49);
    if (getenv("SGAD_TEST_VERBOSE"))
        printf("similarity: %d scores, worst relative difference from numpy/scipy %.3g\n", lines,
               worst);
    sgad_ctx_free(ctx);
}
END_TEST

/* ---- known answers ---- */

/* Every measure is 1 for identical representations, and for a copy with
 * its units permuted (the encoding to within what ridge's shrinkage and
 * cross-validation leave: above 0.999 with 60 stimuli of 12 units). */
START_TEST(identical_and_permuted_score_one)
{
    sgad_ctx *ctx = tu_ctx(1);
    uint64_t state = 11;
    const int64_t n = 60, p = 12;
    double *x = normals(n * p, &state), *xp = malloc((size_t)(n * p) * sizeof *xp);
    ck_assert_ptr_nonnull(xp);
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < p; j++)
            xp[i * p + j] = x[i * p + (j * 5 + 3) % p]; /* 5 is coprime to 12 */
    const sgad_rep a = rep64(x, n, p), b = rep64(xp, n, p);
    double same[M_COUNT], perm[M_COUNT];
    all_scores(ctx, &a, &a, same);
    all_scores(ctx, &a, &b, perm);
    for (int m = 0; m < M_COUNT; m++) {
        const double tol = m == M_ENCODING ? 1e-3 : 1e-12;
        ck_assert_msg(fabs(same[m] - 1) <= tol, "%s of x with itself: %.17g", measure_names[m],
                      same[m]);
        ck_assert_msg(fabs(perm[m] - 1) <= tol, "%s of x with its units permuted: %.17g",
                      measure_names[m], perm[m]);
    }
    free(x);
    free(xp);
    sgad_ctx_free(ctx);
}
END_TEST

/* x Q s (Q orthogonal, s = 3.7) against y scores as x does for the
 * measures invariant to rotation and isotropic scaling: Euclidean RSA,
 * SVCCA, CKA (linear and RBF, both estimators), the encoding (lambda
 * scales with |Xc|_F^2, and its folds' fits are rotation-equivariant).
 * Correlation RSA centres each stimulus over its units, which a rotation
 * does not preserve: only scaling is asserted for it. */
START_TEST(rotation_and_scaling_invariance)
{
    sgad_ctx *ctx = tu_ctx(1);
    uint64_t state = 12;
    const int64_t n = 40, p = 15, q = 9;
    double *x = normals(n * p, &state), *w = normals(p * q, &state);
    double *y = matmul(x, w, n, p, q);
    for (int64_t i = 0; i < n * q; i++)
        y[i] = tanh(y[i]) + 0.5 * normal(&state);
    double *rot = orthogonal(p, &state), *xr = matmul(x, rot, n, p, p);
    double *xs = malloc((size_t)(n * p) * sizeof *xs);
    ck_assert_ptr_nonnull(xs);
    for (int64_t i = 0; i < n * p; i++) {
        xr[i] *= 3.7;
        xs[i] = 3.7 * x[i];
    }
    const sgad_rep a = rep64(x, n, p), ar = rep64(xr, n, p), as = rep64(xs, n, p),
                   b = rep64(y, n, q);
    double base[M_COUNT], rotated[M_COUNT], scaled[M_COUNT];
    all_scores(ctx, &a, &b, base);
    all_scores(ctx, &ar, &b, rotated);
    all_scores(ctx, &as, &b, scaled);
    for (int m = 0; m < M_COUNT; m++) {
        ck_assert_msg(fabs(scaled[m] - base[m]) <= 1e-10, "%s: %.17g scaled, %.17g before",
                      measure_names[m], scaled[m], base[m]);
        if (m != M_RSA_CORR)
            ck_assert_msg(fabs(rotated[m] - base[m]) <= 1e-10, "%s: %.17g rotated, %.17g before",
                          measure_names[m], rotated[m], base[m]);
    }
    ck_assert_msg(fabs(rotated[M_RSA_CORR] - base[M_RSA_CORR]) > 1e-3,
                  "correlation RSA unchanged by a rotation (%.17g): the data do not test it",
                  base[M_RSA_CORR]);
    free(x);
    free(w);
    free(y);
    free(rot);
    free(xr);
    free(xs);
    sgad_ctx_free(ctx);
}
END_TEST

/* An invertible map that is not orthogonal (I + a strictly upper
 * triangular random matrix) changes linear CKA but not SVCCA with every
 * direction kept: the column space is the same. */
START_TEST(invertible_map_moves_cka_not_svcca)
{
    sgad_ctx *ctx = tu_ctx(1);
    uint64_t state = 13;
    const int64_t n = 50, p = 8, q = 6;
    double *x = normals(n * p, &state), *y = normals(n * q, &state), *m = normals(p * p, &state);
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < q; j++)
            y[i * q + j] += x[i * p + j]; /* y shares x's first 6 units */
    for (int64_t i = 0; i < p; i++)
        for (int64_t j = 0; j <= i; j++)
            m[i * p + j] = i == j ? 1 : 0;
    double *xm = matmul(x, m, n, p, p);
    const sgad_rep a = rep64(x, n, p), am = rep64(xm, n, p), b = rep64(y, n, q);
    double cka0, cka1, sv0, sv1;
    ASSERT_OK(ctx, sgad_cka(ctx, &a, &b, SGAD_CKA_LINEAR, 1, 0, &cka0));
    ASSERT_OK(ctx, sgad_cka(ctx, &am, &b, SGAD_CKA_LINEAR, 1, 0, &cka1));
    ASSERT_OK(ctx, sgad_svcca(ctx, &a, &b, 1, &sv0, NULL, NULL));
    ASSERT_OK(ctx, sgad_svcca(ctx, &am, &b, 1, &sv1, NULL, NULL));
    ck_assert_msg(fabs(cka1 - cka0) > 0.05, "linear CKA %.6f before the map, %.6f after", cka0,
                  cka1);
    ck_assert_msg(fabs(sv1 - sv0) < 1e-10, "SVCCA %.17g before the map, %.17g after", sv0, sv1);
    free(x);
    free(y);
    free(m);
    free(xm);
    sgad_ctx_free(ctx);
}
END_TEST

/* Independent Gaussian matrices (n 60, p 10, q 8), 30 draws:
 *   - biased linear CKA: E ~ sqrt(p q) / sqrt((n - 1 + p)(n - 1 + q)) =
 *     0.1315 (numpy, 200 draws: mean 0.134, sd 0.022);
 *   - unbiased linear CKA: E = 0 (numpy: 0.005, sd 0.026);
 *   - SVCCA with every direction kept: the squared canonical correlations
 *     sum to tr(Px Py), whose expectation for independent uniformly
 *     oriented subspaces of the (n - 1)-dimensional centred space is
 *     p q / (n - 1) = 1.356 (numpy: 1.39, sd 0.19);
 *   - Euclidean RSA: E ~ 0 (numpy: -0.001, sd 0.062), and its permutation
 *     p-values are uniform, mean 1/2 (sd of a mean of 30: 0.053). */
START_TEST(independent_matrices_score_near_zero)
{
    sgad_ctx *ctx = tu_ctx(1);
    uint64_t state = 14;
    const int64_t n = 60, p = 10, q = 8, draws = 30;
    double cka = 0, cka_u = 0, cka_u2 = 0, rho2 = 0, rsa = 0, rsa2 = 0, pmean = 0;
    for (int64_t d = 0; d < draws; d++) {
        double *x = normals(n * p, &state), *y = normals(n * q, &state);
        const sgad_rep a = rep64(x, n, p), b = rep64(y, n, q);
        double v, pv, rho[8];
        int64_t count;
        ASSERT_OK(ctx, sgad_cka(ctx, &a, &b, SGAD_CKA_LINEAR, 1, 0, &v));
        cka += v / draws;
        ASSERT_OK(ctx, sgad_cka(ctx, &a, &b, SGAD_CKA_LINEAR, 1, 1, &v));
        cka_u += v / draws;
        cka_u2 += v * v / draws;
        ASSERT_OK(ctx, sgad_svcca(ctx, &a, &b, 1, &v, rho, &count));
        ck_assert_int_eq(count, 8);
        for (int k = 0; k < 8; k++)
            rho2 += rho[k] * rho[k] / draws;
        ASSERT_OK(ctx, sgad_rsa(ctx, &a, &b, SGAD_RDM_EUCLIDEAN, 199, (uint64_t)d, &v, &pv));
        rsa += v / draws;
        rsa2 += v * v / draws;
        pmean += pv / draws;
        free(x);
        free(y);
    }
    const double expect_cka = sqrt((double)(p * q)) / sqrt((double)((n - 1 + p) * (n - 1 + q)));
    const double rsa_sd = sqrt(rsa2 - rsa * rsa), cka_u_sd = sqrt(cka_u2 - cka_u * cka_u);
    if (getenv("SGAD_TEST_VERBOSE"))
        printf("independent: CKA %.4f (expected %.4f), unbiased CKA %.4f sd %.4f, sum rho^2 "
               "%.3f (expected %.3f), RSA %.4f sd %.4f, mean p %.3f\n",
               cka, expect_cka, cka_u, cka_u_sd, rho2, (double)(p * q) / (double)(n - 1), rsa,
               rsa_sd, pmean);
    ck_assert_msg(fabs(cka - expect_cka) < 0.02, "mean linear CKA %.4f, expected %.4f", cka,
                  expect_cka);
    ck_assert_msg(fabs(cka_u) < 0.02 && cka_u_sd > 0.01 && cka_u_sd < 0.05,
                  "unbiased CKA mean %.4f sd %.4f", cka_u, cka_u_sd);
    ck_assert_msg(fabs(rho2 - (double)(p * q) / (double)(n - 1)) < 0.15,
                  "sum of squared canonical correlations %.3f, expected %.3f", rho2,
                  (double)(p * q) / (double)(n - 1));
    ck_assert_msg(fabs(rsa) < 0.045 && rsa_sd > 0.035 && rsa_sd < 0.095, "RSA mean %.4f sd %.4f",
                  rsa, rsa_sd);
    ck_assert_msg(fabs(pmean - 0.5) < 0.18, "mean permutation p-value %.3f", pmean);
    sgad_ctx_free(ctx);
}
END_TEST

/* A planted linear map: y = x W + noise with x standard normal (n 400,
 * p 10), every column of W of norm 1 (signal variance 1) and noise sd 1.
 * A perfect model predicts with r = 1 / sqrt(2); a least-squares fit on
 * m = 320 training rows adds an estimation error of variance about
 * p / (m - p - 1) to the prediction, so
 *     r ~ 1 / sqrt((1 + 1) (1 + p / (m - p - 1))) = 0.6959.
 * The mean over 20 units has a standard error of about 0.006. */
START_TEST(encoding_recovers_planted_map)
{
    sgad_ctx *ctx = tu_ctx(1);
    uint64_t state = 15;
    const int64_t n = 400, p = 10, q = 20, m = n - n / 5;
    double *x = normals(n * p, &state), *w = normals(p * q, &state);
    for (int64_t j = 0; j < q; j++) {
        double norm = 0;
        for (int64_t k = 0; k < p; k++)
            norm += w[k * q + j] * w[k * q + j];
        for (int64_t k = 0; k < p; k++)
            w[k * q + j] /= sqrt(norm);
    }
    double *y = matmul(x, w, n, p, q);
    for (int64_t i = 0; i < n * q; i++)
        y[i] += normal(&state);
    const sgad_rep a = rep64(x, n, p), b = rep64(y, n, q);
    double score, median, r[20];
    ASSERT_OK(ctx, sgad_encoding_score(ctx, &a, &b, 5, NULL, 0, SGAD_SUMMARY_MEAN, &score, r));
    ASSERT_OK(ctx,
              sgad_encoding_score(ctx, &a, &b, 5, NULL, 0, SGAD_SUMMARY_MEDIAN, &median, NULL));
    const double expected = 1 / sqrt(2 * (1 + (double)p / (double)(m - p - 1)));
    if (getenv("SGAD_TEST_VERBOSE"))
        printf("planted map: mean r %.4f, median %.4f, expected %.4f\n", score, median, expected);
    ck_assert_msg(fabs(score - expected) < 0.025, "mean r %.4f, expected %.4f", score, expected);
    double sum = 0;
    for (int j = 0; j < 20; j++)
        sum += r[j];
    ck_assert_msg(fabs(sum / 20 - score) < 1e-12, "unit_r does not average to the score");
    free(x);
    free(w);
    free(y);
    sgad_ctx_free(ctx);
}
END_TEST

/* Strongly related representations: every permutation scores below the
 * observed RSA, so p = 1 / (1 + permutations); the same seed gives the
 * same p, and float and double views of the same values the same score. */
START_TEST(permutation_test_and_views)
{
    sgad_ctx *ctx = tu_ctx(1);
    uint64_t state = 16;
    const int64_t n = 30, p = 6;
    double *x = normals(n * p, &state), *y = malloc((size_t)(n * 2 * p) * sizeof *y);
    float *xf = malloc((size_t)(n * p) * sizeof *xf);
    ck_assert_ptr_nonnull(y);
    ck_assert_ptr_nonnull(xf);
    for (int64_t i = 0; i < n * p; i++) {
        x[i] = (float)x[i]; /* representable in float */
        xf[i] = (float)x[i];
    }
    /* y: x's units in the even columns of a 2p stride, noise in the odd ones */
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < p; j++) {
            y[i * 2 * p + j] = x[i * p + j] + 0.1 * normal(&state);
            y[i * 2 * p + p + j] = 1e9; /* never read: outside the view */
        }
    const sgad_rep a = rep64(x, n, p), af = {xf, SGAD_DTYPE_F32, n, p, 0};
    const sgad_rep b = {y, SGAD_DTYPE_F64, n, p, 2 * p};
    double s1, p1, s2, p2, s3, p3;
    ASSERT_OK(ctx, sgad_rsa(ctx, &a, &b, SGAD_RDM_CORRELATION, 99, 7, &s1, &p1));
    ASSERT_OK(ctx, sgad_rsa(ctx, &a, &b, SGAD_RDM_CORRELATION, 99, 7, &s2, &p2));
    ASSERT_OK(ctx, sgad_rsa(ctx, &af, &b, SGAD_RDM_CORRELATION, 99, 8, &s3, &p3));
    ck_assert_msg(s1 > 0.9, "RSA of x and x + small noise: %g", s1);
    ck_assert_msg(p1 == 0.01 && p2 == p1 && p3 == p1, "p-values %g %g %g", p1, p2, p3);
    ck_assert_msg(s1 == s2 && s1 == s3, "scores %.17g %.17g %.17g", s1, s2, s3);
    double rdm[9];
    const sgad_rep three = rep64(x, 3, p);
    ASSERT_OK(ctx, sgad_rdm(ctx, &three, SGAD_RDM_EUCLIDEAN, rdm));
    for (int i = 0; i < 3; i++) {
        ck_assert(rdm[i * 3 + i] == 0);
        for (int k = 0; k < 3; k++) {
            double ss = 0;
            for (int j = 0; j < p; j++)
                ss += (x[i * p + j] - x[k * p + j]) * (x[i * p + j] - x[k * p + j]);
            ck_assert(fabs(rdm[i * 3 + k] - sqrt(ss)) < 1e-12);
        }
    }
    free(x);
    free(y);
    free(xf);
    sgad_ctx_free(ctx);
}
END_TEST

/* ---- refusals ---- */

static void assert_message(sgad_ctx *ctx, const char *part)
{
    ck_assert_msg(strstr(sgad_ctx_last_error(ctx), part) != NULL, "message \"%s\" lacks \"%s\"",
                  sgad_ctx_last_error(ctx), part);
}

START_TEST(refuses_bad_input)
{
    sgad_ctx *ctx = tu_ctx(1);
    uint64_t state = 17;
    double *x = normals(40, &state), *y = normals(40, &state), v, pv;
    const sgad_rep a = rep64(x, 10, 4), b = rep64(y, 10, 4), two = rep64(x, 2, 4),
                   nine = rep64(y, 9, 4);
    ASSERT_STATUS(SGAD_E_INVALID_ARG,
                  sgad_rsa(ctx, &two, &two, SGAD_RDM_EUCLIDEAN, 0, 0, &v, NULL));
    assert_message(ctx, "2 stimuli");
    ASSERT_STATUS(SGAD_E_SHAPE, sgad_cka(ctx, &a, &nine, SGAD_CKA_LINEAR, 1, 0, &v));
    assert_message(ctx, "x holds 10 stimuli, y 9");
    ASSERT_STATUS(SGAD_E_SHAPE, sgad_svcca(ctx, &a, &nine, 0.99, &v, NULL, NULL));
    const sgad_rep four = rep64(x, 3, 4);
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_cka(ctx, &four, &four, SGAD_CKA_LINEAR, 1, 1, &v));
    const sgad_rep strided = {x, SGAD_DTYPE_F64, 10, 4, 3};
    ASSERT_STATUS(SGAD_E_SHAPE, sgad_cka(ctx, &strided, &b, SGAD_CKA_LINEAR, 1, 0, &v));
    const sgad_rep bad_type = {x, (sgad_dtype)7, 10, 4, 0};
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_cka(ctx, &bad_type, &b, SGAD_CKA_LINEAR, 1, 0, &v));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_cka(ctx, NULL, &b, SGAD_CKA_LINEAR, 1, 0, &v));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_cka(ctx, &a, &b, SGAD_CKA_RBF, 0, 0, &v));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_svcca(ctx, &a, &b, 0, &v, NULL, NULL));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_svcca(ctx, &a, &b, 1.5, &v, NULL, NULL));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_rsa(ctx, &a, &b, (sgad_rdm_distance)5, 0, 0, &v, NULL));
    ASSERT_STATUS(SGAD_E_INVALID_ARG,
                  sgad_rsa(ctx, &a, &b, SGAD_RDM_EUCLIDEAN, 10, 0, &v, NULL)); /* no p_value */
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_rsa(ctx, &a, &b, SGAD_RDM_EUCLIDEAN, -1, 0, &v, &pv));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_rsa(NULL, &a, &b, SGAD_RDM_EUCLIDEAN, 0, 0, &v, NULL));
    /* folds: 10 stimuli in 5 folds leave outer training sets of 8 and inner
     * ones of 6; 4 folds of 10 are fine, 6 are not (8 rows, inner fold...) */
    const double bad_alpha[2] = {1, -1};
    ASSERT_STATUS(SGAD_E_INVALID_ARG,
                  sgad_encoding_score(ctx, &a, &b, 1, NULL, 0, SGAD_SUMMARY_MEAN, &v, NULL));
    ASSERT_STATUS(SGAD_E_INVALID_ARG,
                  sgad_encoding_score(ctx, &a, &b, 11, NULL, 0, SGAD_SUMMARY_MEAN, &v, NULL));
    const sgad_rep six = rep64(x, 6, 4), six_y = rep64(y, 6, 4);
    ASSERT_STATUS(SGAD_E_INVALID_ARG,
                  sgad_encoding_score(ctx, &six, &six_y, 2, NULL, 0, SGAD_SUMMARY_MEAN, &v, NULL));
    assert_message(ctx, "inner training set of 1");
    ASSERT_STATUS(SGAD_E_INVALID_ARG,
                  sgad_encoding_score(ctx, &a, &b, 2, bad_alpha, 2, SGAD_SUMMARY_MEAN, &v, NULL));
    assert_message(ctx, "alphas[1]");
    ASSERT_STATUS(SGAD_E_INVALID_ARG,
                  sgad_encoding_score(ctx, &a, &b, 2, NULL, 0, (sgad_summary)3, &v, NULL));

    /* non-finite values, named by row and column */
    x[2 * 4 + 1] = NAN;
    ASSERT_STATUS(SGAD_E_NUMERIC, sgad_cka(ctx, &a, &b, SGAD_CKA_LINEAR, 1, 0, &v));
    assert_message(ctx, "x[2][1] is nan");
    x[2 * 4 + 1] = 0;
    y[9 * 4 + 3] = INFINITY;
    ASSERT_STATUS(SGAD_E_NUMERIC, sgad_rsa(ctx, &a, &b, SGAD_RDM_EUCLIDEAN, 0, 0, &v, NULL));
    assert_message(ctx, "y[9][3] is inf");
    y[9 * 4 + 3] = 0;

    /* constant columns where they make a measure undefined */
    for (int i = 0; i < 10; i++)
        y[i * 4 + 2] = 1.5;
    ASSERT_STATUS(SGAD_E_NUMERIC,
                  sgad_encoding_score(ctx, &a, &b, 2, NULL, 0, SGAD_SUMMARY_MEAN, &v, NULL));
    assert_message(ctx, "y's column 2 is constant");
    ASSERT_OK(ctx, sgad_cka(ctx, &a, &b, SGAD_CKA_LINEAR, 1, 0, &v)); /* fine for CKA */
    ASSERT_OK(ctx, sgad_svcca(ctx, &a, &b, 0.99, &v, NULL, NULL));    /* and SVCCA */
    for (int j = 0; j < 4; j++)
        x[4 * 4 + j] = 2; /* stimulus 4: all units equal */
    ASSERT_STATUS(SGAD_E_NUMERIC, sgad_rsa(ctx, &a, &b, SGAD_RDM_CORRELATION, 0, 0, &v, NULL));
    assert_message(ctx, "stimulus 4 has all its 4 units equal");
    for (int i = 0; i < 10; i++)
        for (int j = 0; j < 4; j++)
            x[i * 4 + j] = j; /* every column constant, every stimulus alike */
    ASSERT_STATUS(SGAD_E_NUMERIC, sgad_cka(ctx, &a, &b, SGAD_CKA_LINEAR, 1, 0, &v));
    assert_message(ctx, "every column of x is constant");
    ASSERT_STATUS(SGAD_E_NUMERIC, sgad_svcca(ctx, &a, &b, 0.99, &v, NULL, NULL));
    assert_message(ctx, "every column of x is constant");
    ASSERT_STATUS(SGAD_E_NUMERIC, sgad_cka(ctx, &a, &b, SGAD_CKA_RBF, 1, 0, &v));
    assert_message(ctx, "median distance");
    ASSERT_STATUS(SGAD_E_NUMERIC, sgad_rsa(ctx, &a, &b, SGAD_RDM_EUCLIDEAN, 0, 0, &v, NULL));
    assert_message(ctx, "x's dissimilarities are all equal");
    free(x);
    free(y);
    sgad_ctx_free(ctx);
}
END_TEST

Suite *suite_similarity(void)
{
    Suite *s = suite_create("similarity");
    TCase *tc = tcase_create("measures");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, matches_numpy_and_scipy);
    tcase_add_test(tc, identical_and_permuted_score_one);
    tcase_add_test(tc, rotation_and_scaling_invariance);
    tcase_add_test(tc, invertible_map_moves_cka_not_svcca);
    tcase_add_test(tc, independent_matrices_score_near_zero);
    tcase_add_test(tc, encoding_recovers_planted_map);
    tcase_add_test(tc, permutation_test_and_views);
    tcase_add_test(tc, refuses_bad_input);
    suite_add_tcase(s, tc);
    return s;
}
