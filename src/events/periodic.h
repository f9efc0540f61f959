/* SPDX-License-Identifier: MIT */
/* Inputs split into periodic parts over time. A neuron driven by a
 * constant input (D's first LIF reads the same image at every step) fires
 * at steps p, 2p, 3p, ... for a period p set by that input; after a
 * pooling, a value is a sum of a few such trains, so about a quarter of
 * D's conv2 input is nonzero at a step. Written over time as
 *
 *     x_t = sum over the divisors p of t of a_p     (steps t = 1..T),
 *
 * the same input has parts a_p that are zero wherever no neuron of period
 * p feeds the value, so far fewer of them are nonzero than of x
 * [bench:periodic-parts]. The parts are x's Moebius
 * inversion, a_t = sum over d | t of mu(t/d) x_d; every input has them,
 * and for pooled spikes (multiples of 1/k^2) they are exact.
 *
 * A product linear in its input then runs on the parts: y_t = sum over
 * p | t of W a_p (plus the bias once), and the weight gradient is
 * sum over p of (sum over k of g_{kp}) (x) a_p. Only the input gradient
 * needs every step. Rows are indexed as the layers' [T, N, ...] batch:
 * row s * samples + n is sample n at step s + 1. Every sum runs in a fixed
 * order, so results do not depend on the thread count. */
#ifndef SGAD_PERIODIC_H
#define SGAD_PERIODIC_H

#include <stdint.h>

#include "core/internal.h"

/* Most steps the split is tried on: the work per value grows with the
 * divisors of the steps, and longer runs have not been measured. Every
 * function below takes steps in [1, SGAD__PERIODIC_MAX_STEPS] (their term
 * tables are sized by it). */
#define SGAD__PERIODIC_MAX_STEPS 64

/* Shares of nonzero values in x [steps, plane] and in its parts,
 * estimated on the same sample of positions as the event paths' choice. */
void sgad__periodic_shares(const sgad_ctx *ctx, int64_t steps, int64_t plane, const float *x,
                           double *x_share, double *part_share);

/* parts[i] = part row row0 + i of x [steps, samples, len], for i < rows. */
void sgad__periodic_parts(const sgad_ctx *ctx, int64_t steps, int64_t samples, int64_t len,
                          const float *x, int64_t row0, int64_t rows, float *parts);

/* In place, y [steps, samples, channels, size] from the products of its
 * parts: y_t = sum over p | t of y_p, plus bias[c] (bias may be NULL). */
void sgad__periodic_sum(const sgad_ctx *ctx, int64_t steps, int64_t samples, int64_t channels,
                        int64_t size, const float *bias, float *y);

/* out[i] = the sum over the multiples t of p of g_t, for part row
 * row0 + i (step p) of g [steps, samples, len], for i < rows. */
void sgad__periodic_grads(const sgad_ctx *ctx, int64_t steps, int64_t samples, int64_t len,
                          const float *g, int64_t row0, int64_t rows, float *out);

#endif /* SGAD_PERIODIC_H */
