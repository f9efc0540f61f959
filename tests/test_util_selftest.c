/* SPDX-License-Identifier: MIT */
/* The test helpers' own checks: a helper that lets a wrong value through
 * makes every test built on it unable to fail. */
#include <check.h>
#include <math.h>

#include "test_util.h"

START_TEST(worst_error_sees_nan_anywhere)
{
    const float ref[4] = {1, 2, 3, 4};
    for (int at = 0; at < 4; at++) {
        float got[4] = {1, 2, 3, 4};
        got[at] = NAN;
        const double worst = tu_max_scaled_err(got, ref, 4, 1e-5, 1e-6);
        ck_assert_msg(isnan(worst), "NaN at %d: worst error %g", at, worst);
    }
}
END_TEST

START_TEST(worst_error_is_the_largest)
{
    const float ref[3] = {1, 1, 1}, got[3] = {1.5f, 3, 1};
    /* |3 - 1| / (0 + 1 * 1) = 2 */
    ck_assert_double_eq_tol(tu_max_scaled_err(got, ref, 3, 1.0, 0.0), 2.0, 1e-12);
    ck_assert_double_eq(tu_max_scaled_err(ref, ref, 3, 1e-5, 1e-6), 0.0);
}
END_TEST

Suite *suite_test_util(void)
{
    Suite *s = suite_create("test_util");
    TCase *tc = tcase_create("worst_error");
    tcase_add_test(tc, worst_error_sees_nan_anywhere);
    tcase_add_test(tc, worst_error_is_the_largest);
    suite_add_tcase(s, tc);
    return s;
}
