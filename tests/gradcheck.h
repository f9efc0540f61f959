/* SPDX-License-Identifier: MIT */
/* Finite-difference gradient checks for layers and nets.
 *
 * The loss is L = sum(y .* r) for a fixed random r, accumulated in double,
 * so dL/dy = r. The analytic gradients come from one backward with dy = r;
 * each is compared with the central difference (L(p+eps) - L(p-eps)) / 2eps.
 *
 * Tolerances: forward runs in float32, so L carries a rounding error of
 * about 1e-7 * sum|y r|; divided by 2 eps that is the noise floor of the
 * difference. With eps = 1e-2 and O(1) values that floor is ~1e-4 in
 * absolute terms for the tensor sizes used here; the truncation error of
 * central differences is eps^2 |f'''| / 6 ~ 2e-5 for smooth layers and zero
 * for layers linear in the perturbed value. The defaults (rtol 1e-2, atol
 * 2e-3) leave a margin of ~10 over both while still catching any wrong
 * index, missing term or factor (errors of order 1). */
#ifndef SGAD_TEST_GRADCHECK_H
#define SGAD_TEST_GRADCHECK_H

#include <stdint.h>

#include "sgad/sgad.h"

typedef struct gc_opts {
    float eps;   /* finite-difference step */
    double rtol; /* relative tolerance */
    double atol; /* absolute tolerance */
    float x_lo;  /* inputs drawn uniform in [x_lo, x_hi) */
    float x_hi;
    float kink;     /* > 0: inputs closer than this to 0 are pushed away (non-smooth points) */
    int max_checks; /* elements checked per tensor, a random subset; 0 = all */
    uint64_t seed;
} gc_opts;

gc_opts gc_default(void);

/* Checks dx and every trainable parameter's gradient of `layer` at input
 * dims; fails the running Check test on any mismatch, naming the tensor and
 * element. Returns the worst scaled error (<= 1 passes). */
double gc_check_layer(sgad_layer *layer, int ndim, const int64_t *in_dims, const gc_opts *o);

/* The same for a whole net: dx and every trainable parameter. */
double gc_check_net(sgad_net *net, int ndim, const int64_t *in_dims, const gc_opts *o);

#endif
