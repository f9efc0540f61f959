/* SPDX-License-Identifier: MIT */
/* Periodic parts over time (periodic.h). Steps are numbered from 1 here,
 * as in the formulas; row s of a [T, N, ...] batch is step s + 1. */
#include <string.h>

#include "core/parallel.h"
#include "kernels/isa.h"
#include "periodic.h"
#include "share_sample.h"

/* The Moebius function: 0 if m has a square factor, else (-1)^(number of
 * its prime factors). */
static int mobius(int64_t m)
{
    int sign = 1;
    for (int64_t q = 2; q * q <= m; q++) {
        if (m % q)
            continue;
        m /= q;
        if (m % q == 0)
            return 0;
        sign = -sign;
    }
    return m > 1 ? -sign : sign;
}

/* Terms of a part at most: t <= 64 has at most 3 distinct primes
 * (2 * 3 * 5 * 7 > 64), so at most 2^3 divisors d with mu(t/d) != 0. */
#define MAX_TERMS 8

/* The terms of every part: part t (from 1) is the sum over k in
 * [first[t-1], first[t]) of sign[k] * x_{step[k]}, x_t first. */
typedef struct inversion {
    int first[SGAD__PERIODIC_MAX_STEPS + 1];
    int step[SGAD__PERIODIC_MAX_STEPS * MAX_TERMS];
    int sign[SGAD__PERIODIC_MAX_STEPS * MAX_TERMS];
} inversion;

static void inversion_terms(int64_t steps, inversion *inv)
{
    int k = 0;
    inv->first[0] = 0;
    for (int64_t t = 1; t <= steps; t++) {
        for (int64_t d = t; d >= 1; d--) {
            const int mu = t % d == 0 ? mobius(t / d) : 0;
            if (mu) {
                inv->step[k] = (int)d;
                inv->sign[k++] = mu;
            }
        }
        inv->first[t] = k;
    }
}

SGAD__AVX2_CLONE
void sgad__periodic_shares(const sgad_ctx *ctx, int64_t steps, int64_t plane, const float *x,
                           double *x_share, double *part_share)
{
    inversion inv;
    inversion_terms(steps, &inv);
    const sgad__share_sample sm = sgad__share_sample_of(plane, plane * steps);
    int64_t nx = 0, na = 0;
#pragma omp parallel for num_threads(sgad__par_threads(ctx, sm.runs * sm.run * steps)) \
    schedule(static) reduction(+ : nx, na)
    for (int64_t r = 0; r < sm.runs; r++)
        for (int64_t j = 0; j < sm.run; j++) {
            const float *v = x + r * sm.period + j;
            for (int64_t t = 1; t <= steps; t++) {
                float a = 0.0f;
                for (int k = inv.first[t - 1]; k < inv.first[t]; k++)
                    a += (float)inv.sign[k] * v[(inv.step[k] - 1) * plane];
                nx += v[(t - 1) * plane] != 0.0f;
                na += a != 0.0f;
            }
        }
    const double values = (double)(sm.runs * sm.run * steps);
    *x_share = (double)nx / values;
    *part_share = (double)na / values;
}

/* dst[0..n) += src or -= src. */
static void add_signed(float *dst, const float *src, int64_t n, int sign)
{
    if (sign > 0)
        for (int64_t j = 0; j < n; j++)
            dst[j] += src[j];
    else
        for (int64_t j = 0; j < n; j++)
            dst[j] -= src[j];
}

SGAD__AVX2_CLONE
void sgad__periodic_parts(const sgad_ctx *ctx, int64_t steps, int64_t samples, int64_t len,
                          const float *x, int64_t row0, int64_t rows, float *parts)
{
    inversion inv;
    inversion_terms(steps, &inv);
#pragma omp parallel for num_threads(sgad__par_threads(ctx, rows *len)) schedule(static)
    for (int64_t i = 0; i < rows; i++) {
        const int64_t t = (row0 + i) / samples + 1, n = (row0 + i) % samples;
        float *a = parts + i * len;
        memcpy(a, x + (row0 + i) * len, (size_t)len * sizeof *a);
        for (int k = inv.first[t - 1] + 1; k < inv.first[t]; k++)
            add_signed(a, x + ((inv.step[k] - 1) * samples + n) * len, len, inv.sign[k]);
    }
}

SGAD__AVX2_CLONE
void sgad__periodic_sum(const sgad_ctx *ctx, int64_t steps, int64_t samples, int64_t channels,
                        int64_t size, const float *bias, float *y)
{
    const int64_t plane = samples * channels * size;
    /* Each (sample, channel) block on one thread; steps from the last, so
     * the parts a step adds (its divisors' rows) are still parts. */
#pragma omp parallel for num_threads(sgad__par_threads(ctx, steps *plane)) schedule(static)
    for (int64_t q = 0; q < samples * channels; q++) {
        const float b = bias ? bias[q % channels] : 0.0f;
        for (int64_t t = steps; t >= 1; t--) {
            float *dst = y + (t - 1) * plane + q * size;
            for (int64_t p = 1; p < t; p++)
                if (t % p == 0)
                    add_signed(dst, y + (p - 1) * plane + q * size, size, 1);
            for (int64_t j = 0; bias && j < size; j++)
                dst[j] += b;
        }
    }
}

SGAD__AVX2_CLONE
void sgad__periodic_grads(const sgad_ctx *ctx, int64_t steps, int64_t samples, int64_t len,
                          const float *g, int64_t row0, int64_t rows, float *out)
{
#pragma omp parallel for num_threads(sgad__par_threads(ctx, rows *len)) schedule(static)
    for (int64_t i = 0; i < rows; i++) {
        const int64_t p = (row0 + i) / samples + 1, n = (row0 + i) % samples;
        float *o = out + i * len;
        memcpy(o, g + (row0 + i) * len, (size_t)len * sizeof *o);
        for (int64_t t = 2 * p; t <= steps; t += p)
            add_signed(o, g + ((t - 1) * samples + n) * len, len, 1);
    }
}
