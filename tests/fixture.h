/* SPDX-License-Identifier: MIT */
/* Reader for the golden fixtures written by tests/gen_fixtures.py. */
#ifndef SGAD_TEST_FIXTURE_H
#define SGAD_TEST_FIXTURE_H

#include <stdint.h>

typedef struct fx_array {
    char name[64];
    int ndim;
    int64_t dims[6];
    int64_t numel;
    float *data;
} fx_array;

typedef struct fixture {
    int count;
    fx_array *arrays;
} fixture;

/* Loads $SGAD_TEST_DIR/fixtures/<name>.bin (SGAD_TEST_DIR defaults to
 * "tests"); fails the running Check test on any problem. */
fixture *fx_load(const char *name);
void fx_free(fixture *f);

/* The array called name, or NULL. */
const fx_array *fx_find(const fixture *f, const char *name);

/* Like fx_find, but fails the test when the array is missing. */
const fx_array *fx_get(const fixture *f, const char *name);

#endif
