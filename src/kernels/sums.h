/* SPDX-License-Identifier: MIT */
/* Sums of float runs in double, shared by the reductions (batch-norm
 * statistics, convolution bias gradients, the decoder's scores, gradient
 * norms). */
#ifndef SGAD_SUMS_H
#define SGAD_SUMS_H

#include <stdint.h>

/* The sum of p[0..n) in double. Four partial sums take the values in turn
 * and are added at the end: a fixed order (the same bits on any thread
 * count) that keeps four additions in flight instead of one waiting on the
 * last, which made these loops latency-bound (and a single chain cannot be
 * vectorised without reordering it). */
static inline double sgad__sum_floats(const float *p, int64_t n)
{
    double a[4] = {0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
        for (int k = 0; k < 4; k++)
            a[k] += p[i + k];
    for (; i < n; i++)
        a[0] += p[i];
    return (a[0] + a[1]) + (a[2] + a[3]);
}

/* The sum of x[i] * y[i] over [0..n) in double, in the same four chains
 * (x == y gives the sum of squares). */
static inline double sgad__dot(const float *x, const float *y, int64_t n)
{
    double a[4] = {0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
        for (int k = 0; k < 4; k++)
            a[k] += (double)x[i + k] * y[i + k];
    for (; i < n; i++)
        a[0] += (double)x[i] * y[i];
    return (a[0] + a[1]) + (a[2] + a[3]);
}

#endif /* SGAD_SUMS_H */
