/* SPDX-License-Identifier: MIT */
/* programs/jsonl.c alone (compiled into the test binary): every line it
 * writes is one JSON object that jansson reads back, a value that is not
 * finite is null with its key in "nonfinite", and text is valid UTF-8. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "jsonl.h"
#include "test_util.h"

/* Writes o with jsonl_write and reads the line back with jansson. */
static json_t *round_trip(const json_t *o, size_t flags)
{
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(jsonl_write(f, o, flags), 0);
    rewind(f);
    char line[4096];
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    const size_t n = strlen(line);
    ck_assert_msg(n > 0 && line[n - 1] == '\n', "not one whole line: %s", line);
    ck_assert_msg(fgetc(f) == EOF, "more than one line");
    fclose(f);
    json_error_t err;
    json_t *back = json_loads(line, 0, &err);
    ck_assert_msg(back != NULL, "not JSON (%s): %s", err.text, line);
    return back;
}

START_TEST(nonfinite_values_are_null_and_named)
{
    json_t *o = json_object();
    ck_assert_int_eq(jsonl_set_real(o, "a", 1.5), 0);
    ck_assert_int_eq(jsonl_set_real(o, "b", NAN), 0);
    ck_assert_int_eq(jsonl_set_real(o, "c", -INFINITY), 0);
    ck_assert_int_eq(jsonl_append_real(o, "r", 0.25), 0);
    ck_assert_int_eq(jsonl_append_real(o, "r", INFINITY), 0);
    ck_assert_int_eq(jsonl_append_real(o, "r", NAN), 0); /* "r" named once */
    json_t *back = round_trip(o, JSON_COMPACT | JSON_REAL_PRECISION(9));
    ck_assert(json_real_value(json_object_get(back, "a")) == 1.5);
    ck_assert(json_is_null(json_object_get(back, "b")));
    ck_assert(json_is_null(json_object_get(back, "c")));
    const json_t *r = json_object_get(back, "r");
    ck_assert_int_eq((int)json_array_size(r), 3);
    ck_assert(json_real_value(json_array_get(r, 0)) == 0.25);
    ck_assert(json_is_null(json_array_get(r, 1)) && json_is_null(json_array_get(r, 2)));
    const json_t *flags = json_object_get(back, "nonfinite");
    ck_assert_int_eq((int)json_array_size(flags), 3);
    static const char *const named[] = {"b", "c", "r"};
    for (int i = 0; i < 3; i++)
        ck_assert_str_eq(json_string_value(json_array_get(flags, (size_t)i)), named[i]);
    json_decref(back);
    json_decref(o);
}
END_TEST

START_TEST(finite_values_have_no_flag)
{
    json_t *o = json_pack("{s:I}", "iteration", (json_int_t)7);
    ck_assert_int_eq(jsonl_set_real(o, "x", 2e-4), 0);
    ck_assert_int_eq(jsonl_append_real(o, "r", -3.0), 0);
    json_t *back = round_trip(o, JSON_COMPACT | JSON_REAL_PRECISION(9));
    ck_assert_ptr_null(json_object_get(back, "nonfinite"));
    ck_assert_int_eq((int)json_integer_value(json_object_get(back, "iteration")), 7);
    ck_assert(fabs(json_real_value(json_object_get(back, "x")) - 2e-4) < 1e-12);
    json_decref(back);
    json_decref(o);
}
END_TEST

/* Quotes, backslashes and control characters are escaped; bytes that are
 * not UTF-8 (a path's) become '?', valid sequences stay. */
START_TEST(text_is_valid_utf8)
{
    json_t *o = json_object();
    ck_assert_int_eq(jsonl_set_text(o, "p", "a\"b\\c\n\xff\xc3\xa9\xed\xa0\x80z"), 0);
    json_t *back = round_trip(o, JSON_REAL_PRECISION(9));
    ck_assert_str_eq(json_string_value(json_object_get(back, "p")), "a\"b\\c\n?\xc3\xa9???z");
    json_decref(back);
    json_decref(o);
}
END_TEST

START_TEST(write_errors_are_reported)
{
    json_t *o = json_pack("{s:i}", "a", 1);
    FILE *f = fopen("/dev/null", "r"); /* not writable */
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(jsonl_write(f, o, JSON_COMPACT), -1);
    fclose(f);
    json_decref(o);
}
END_TEST

Suite *suite_jsonl(void)
{
    Suite *s = suite_create("jsonl");
    TCase *tc = tcase_create("jsonl");
    tcase_add_test(tc, nonfinite_values_are_null_and_named);
    tcase_add_test(tc, finite_values_have_no_flag);
    tcase_add_test(tc, text_is_valid_utf8);
    tcase_add_test(tc, write_errors_are_reported);
    suite_add_tcase(s, tc);
    return s;
}
