/* SPDX-License-Identifier: MIT */
/* Small helpers shared by the tests. */
#ifndef SGAD_TEST_UTIL_H
#define SGAD_TEST_UTIL_H

#include <check.h>
#include <stdint.h>

#include "sgad/sgad.h"

/* Fails the test with the context's message unless the call returns OK. */
#define ASSERT_OK(ctx, call)                                                                       \
    do {                                                                                           \
        sgad_status s_ = (call);                                                                   \
        ck_assert_msg(s_ == SGAD_OK, "%s -> %s: %s", #call, sgad_status_name(s_),                  \
                      sgad_ctx_last_error(ctx));                                                   \
    } while (0)

/* Fails unless the call returns the given status. */
#define ASSERT_STATUS(want, call)                                                                  \
    do {                                                                                           \
        sgad_status s_ = (call);                                                                   \
        ck_assert_msg(s_ == (want), "%s -> %s, expected %s", #call, sgad_status_name(s_),          \
                      sgad_status_name(want));                                                     \
    } while (0)

/* A context with the given seed; the test frees it. */
sgad_ctx *tu_ctx(uint64_t seed);

/* An owned tensor of up to 6 dims given as int arguments ending with 0. */
sgad_tensor *tu_tensor(sgad_ctx *ctx, int d0, ...);

/* Fills with uniform values in [lo, hi) from a simple seeded generator. */
void tu_fill_uniform(float *p, int64_t n, float lo, float hi, uint64_t *state);

/* Next uniform double in [0, 1). */
double tu_uniform(uint64_t *state);

/* Max |a-b| / (atol + rtol |b|) over n values; <= 1 means within tolerance. */
double tu_max_scaled_err(const float *a, const float *b, int64_t n, double rtol, double atol);

/* The whole file at path in a malloc'd buffer with a NUL after its *n
 * bytes (for messages); NULL if it cannot be opened. */
unsigned char *tu_read_file(const char *path, size_t *n);
/* All parameters and buffers of a net, concatenated into a malloc'd array
 * (the caller frees it) of *n floats: for bitwise comparisons. */
float *tu_net_weights(sgad_ctx *ctx, sgad_net *net, int64_t *n);
#endif
