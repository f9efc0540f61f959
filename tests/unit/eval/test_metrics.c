/* SPDX-License-Identifier: MIT */
/* The Fréchet distance (metrics.h) against numpy/scipy on the committed
 * fixtures of tests/gen_metrics_fixtures.py, against closed forms, and its
 * refusals.
 *
 * Tolerances. Each fixture line holds scipy's value (sqrtm of S1 S2, the
 * usual recipe), numpy's value through symmetric eigendecompositions (the
 * method libsgad uses) and the scale |mu1 - mu2|^2 + tr S1 + tr S2: FD is
 * that scale minus 2 tr((S1 S2)^(1/2)), so an error relative to the scale
 * is what rounding produces. Both sides work in double from the same
 * float32 features; covariances summed in a different order and a
 * different LAPACK differ by ~d * 1e-16 of the scale (~1e-14 for d = 128),
 * so agreement with numpy's eigh is asserted to 1e-10 of the scale. When a
 * covariance is singular (fewer vectors than features: rank_deficient) its
 * zero eigenvalues come out as +-1e-16 of the scale, and their square roots
 * (~1e-8) enter the trace: any two correct programs then differ by ~1e-9
 * of the scale (measured: 6e-10 against numpy's eigh, 4e-9 between scipy's
 * sqrtm and eigh), so such cases, and agreement with scipy's sqrtm on every
 * case, are asserted to 1e-7 of the scale. Any real error (a
 * wrong normalisation, a dropped term, a transposed eigenvector) moves the
 * value by far more.
 *
 * Mutation note (each tried on a copy of the tree; the tests that fail):
 *   dividing the covariance by n instead of n - 1   -> matches_numpy_and_scipy,
 *                                                     one_dimension_closed_form,
 *                                                     stats_then_distance
 *   dropping the factor 2 on the cross trace        -> matches_numpy_and_scipy,
 *                                                     identical_is_zero..., closed form
 *   eigenvectors read as columns of the row-major   -> matches_numpy_and_scipy,
 *     array in square_root                             identical_is_zero...,
 *                                                     stats_then_distance (symmetry)
 *   no clamp of FD at 0                              -> identical_is_zero... (-3.6e-15)
 *   no finiteness check of the features              -> refuses_bad_input */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "test_util.h"

static sgad_tensor *wrap(sgad_ctx *ctx, const fx_array *x)
{
    sgad_tensor *t;
    ASSERT_OK(ctx, sgad_tensor_wrap(ctx, x->ndim, x->dims, x->data, &t));
    return t;
}

/* Distance between the fixture's two sets. */
static double fixture_distance(sgad_ctx *ctx, const char *name)
{
    char file[64];
    snprintf(file, sizeof file, "metrics_%s", name);
    fixture *f = fx_load(file);
    sgad_tensor *a = wrap(ctx, fx_get(f, "a")), *b = wrap(ctx, fx_get(f, "b"));
    double fd = -1;
    ASSERT_OK(ctx, sgad_frechet_distance(a, b, &fd));
    sgad_tensor_free(a);
    sgad_tensor_free(b);
    fx_free(f);
    return fd;
}

START_TEST(matches_numpy_and_scipy)
{
    const char *dir = getenv("SGAD_TEST_DIR");
    char path[1024], name[64];
    snprintf(path, sizeof path, "%s/fixtures/metrics_expected.txt", dir ? dir : "tests");
    FILE *fp = fopen(path, "r");
    ck_assert_msg(fp != NULL, "cannot open %s", path);
    sgad_ctx *ctx = tu_ctx(1);
    double scipy_fd, eigh_fd, scale;
    int cases = 0;
    while (fscanf(fp, "%63s %lf %lf %lf", name, &scipy_fd, &eigh_fd, &scale) == 4) {
        const double fd = fixture_distance(ctx, name);
        const double tol = strstr(name, "rank_deficient") ? 1e-7 : 1e-10;
        ck_assert_msg(fabs(fd - eigh_fd) <= tol * scale,
                      "%s: FD %.17g, numpy eigh %.17g "
                      "(scale %g)",
                      name, fd, eigh_fd, scale);
        ck_assert_msg(fabs(fd - scipy_fd) <= 1e-7 * scale,
                      "%s: FD %.17g, scipy sqrtm %.17g "
                      "(scale %g)",
                      name, fd, scipy_fd, scale);
        cases++;
    }
    fclose(fp);
    ck_assert_int_eq(cases, 5);
    sgad_ctx_free(ctx);
}
END_TEST

START_TEST(identical_is_zero_and_shift_is_its_square)
{
    sgad_ctx *ctx = tu_ctx(1);
    const double same = fixture_distance(ctx, "identical");
    ck_assert_msg(same >= 0 && same < 1e-12, "identical sets: FD %g", same);
    /* b = a + (1, -2, 0.5, 0, 3, -0.25) in float32: same covariance up to
     * float rounding of the shifted values, FD = |shift|^2 = 14.3125 */
    const double shifted = fixture_distance(ctx, "shifted");
    ck_assert_msg(fabs(shifted - 14.3125) < 1e-5, "shifted sets: FD %.10g", shifted);
    sgad_ctx_free(ctx);
}
END_TEST

/* d = 1: FD = (m1 - m2)^2 + (s1 - s2)^2. a = {0, 2}: mean 1, variance 2
 * (unbiased); b = {1, 5}: mean 3, variance 8. FD = 4 + (sqrt 2 - sqrt 8)^2
 * = 6. Dividing by n instead would give 4 + (1 - 2)^2 = 5. */
START_TEST(one_dimension_closed_form)
{
    sgad_ctx *ctx = tu_ctx(1);
    float xa[2] = {0, 2}, xb[2] = {1, 5};
    const int64_t dims[2] = {2, 1};
    sgad_tensor *a, *b;
    ASSERT_OK(ctx, sgad_tensor_wrap(ctx, 2, dims, xa, &a));
    ASSERT_OK(ctx, sgad_tensor_wrap(ctx, 2, dims, xb, &b));
    double fd;
    ASSERT_OK(ctx, sgad_frechet_distance(a, b, &fd));
    ck_assert_msg(fabs(fd - 6.0) < 1e-12, "FD %.17g, expected 6", fd);
    sgad_tensor_free(a);
    sgad_tensor_free(b);
    sgad_ctx_free(ctx);
}
END_TEST

/* The statistics step cached and reused gives the same bits as the one
 * call, and its mean and covariance are numpy's for a hand-checked set. */
START_TEST(stats_then_distance)
{
    sgad_ctx *ctx = tu_ctx(1);
    float x[6] = {1, 2, 3, 6, 5, 4}; /* rows (1,2) (3,6) (5,4) */
    const int64_t dims[3] = {1, 3, 2};
    sgad_tensor *t;
    ASSERT_OK(ctx, sgad_tensor_wrap(ctx, 3, dims, x, &t));
    double mean[2], cov[4];
    ASSERT_OK(ctx, sgad_feature_stats(t, 2, mean, cov));
    ck_assert(mean[0] == 3 && mean[1] == 4);
    /* np.cov([[1,3,5],[2,6,4]]) = [[4, 2], [2, 4]] */
    ck_assert_msg(cov[0] == 4 && cov[1] == 2 && cov[2] == 2 && cov[3] == 4, "cov %g %g %g %g",
                  cov[0], cov[1], cov[2], cov[3]);
    sgad_tensor_free(t);

    fixture *f = fx_load("metrics_random64");
    sgad_tensor *a = wrap(ctx, fx_get(f, "a")), *b = wrap(ctx, fx_get(f, "b"));
    double *s = malloc((2 * 64 * 64 + 128) * sizeof *s);
    ck_assert_ptr_nonnull(s);
    ASSERT_OK(ctx, sgad_feature_stats(a, 64, s + 2 * 4096, s));
    ASSERT_OK(ctx, sgad_feature_stats(b, 64, s + 2 * 4096 + 64, s + 4096));
    double cached, direct;
    ASSERT_OK(ctx, sgad_frechet_distance_stats(ctx, 64, s + 2 * 4096, s, s + 2 * 4096 + 64,
                                               s + 4096, &cached));
    ASSERT_OK(ctx, sgad_frechet_distance(a, b, &direct));
    ck_assert(cached == direct);
    /* symmetric in its arguments up to rounding */
    double swapped;
    ASSERT_OK(ctx, sgad_frechet_distance(b, a, &swapped));
    ck_assert_msg(fabs(swapped - direct) < 1e-10 * direct, "%.17g vs %.17g", swapped, direct);
    free(s);
    sgad_tensor_free(a);
    sgad_tensor_free(b);
    fx_free(f);
    sgad_ctx_free(ctx);
}
END_TEST

static void expect_error(sgad_ctx *ctx, sgad_status want, sgad_status got, const char *needle)
{
    ck_assert_msg(got == want, "got %s, expected %s", sgad_status_name(got),
                  sgad_status_name(want));
    ck_assert_msg(strstr(sgad_ctx_last_error(ctx), needle) != NULL, "message \"%s\" lacks \"%s\"",
                  sgad_ctx_last_error(ctx), needle);
}

START_TEST(refuses_bad_input)
{
    sgad_ctx *ctx = tu_ctx(1);
    float x[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    sgad_tensor *one, *three_by_four, *four_by_three, *flat;
    const int64_t d1[2] = {1, 12}, d34[2] = {3, 4}, d43[2] = {4, 3}, df[1] = {12};
    ASSERT_OK(ctx, sgad_tensor_wrap(ctx, 2, d1, x, &one));
    ASSERT_OK(ctx, sgad_tensor_wrap(ctx, 2, d34, x, &three_by_four));
    ASSERT_OK(ctx, sgad_tensor_wrap(ctx, 2, d43, x, &four_by_three));
    ASSERT_OK(ctx, sgad_tensor_wrap(ctx, 1, df, x, &flat));
    double fd, mean[4], cov[16];
    expect_error(ctx, SGAD_E_INVALID_ARG, sgad_frechet_distance(one, one, &fd), "at least 2");
    expect_error(ctx, SGAD_E_SHAPE, sgad_frechet_distance(three_by_four, four_by_three, &fd),
                 "4 features per vector, the second 3");
    expect_error(ctx, SGAD_E_SHAPE, sgad_frechet_distance(flat, flat, &fd), "[n, d]");
    expect_error(ctx, SGAD_E_SHAPE, sgad_feature_stats(three_by_four, 3, mean, cov),
                 "expects 3 features");
    x[6] = NAN;
    expect_error(ctx, SGAD_E_NUMERIC, sgad_frechet_distance(three_by_four, three_by_four, &fd),
                 "feature 2 of vector 1 is nan");
    x[6] = 7;
    ASSERT_OK(ctx, sgad_feature_stats(three_by_four, 4, mean, cov));
    cov[1] += 1; /* no longer symmetric */
    expect_error(ctx, SGAD_E_NUMERIC,
                 sgad_frechet_distance_stats(ctx, 4, mean, cov, mean, cov, &fd), "not symmetric");
    cov[1] -= 1;
    mean[3] = INFINITY;
    expect_error(ctx, SGAD_E_NUMERIC,
                 sgad_frechet_distance_stats(ctx, 4, mean, cov, mean, cov, &fd), "mean1[3]");
    expect_error(ctx, SGAD_E_INVALID_ARG,
                 sgad_frechet_distance_stats(ctx, 0, mean, cov, mean, cov, &fd), "outside");
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_frechet_distance(NULL, one, &fd));
    ASSERT_STATUS(SGAD_E_INVALID_ARG,
                  sgad_frechet_distance_stats(NULL, 4, mean, cov, mean, cov, &fd));
    sgad_tensor_free(one);
    sgad_tensor_free(three_by_four);
    sgad_tensor_free(four_by_three);
    sgad_tensor_free(flat);
    sgad_ctx_free(ctx);
}
END_TEST

Suite *suite_metrics(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("frechet");
    tcase_add_test(tc, matches_numpy_and_scipy);
    tcase_add_test(tc, identical_is_zero_and_shift_is_its_square);
    tcase_add_test(tc, one_dimension_closed_form);
    tcase_add_test(tc, stats_then_distance);
    tcase_add_test(tc, refuses_bad_input);
    suite_add_tcase(s, tc);
    return s;
}
