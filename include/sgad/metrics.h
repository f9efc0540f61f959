/* SPDX-License-Identifier: MIT */
/** @file
 * libsgad: the Fréchet distance between two sets of feature vectors.
 *
 * Each set is summarised by its mean mu and its unbiased covariance S
 * (divided by n - 1, as numpy.cov), both in double precision, and
 *
 * @verbatim
 *   FD = |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2))
 * @endverbatim
 *
 * is the Fréchet (2-Wasserstein) distance between the two Gaussians with
 * those moments. The trace of the matrix square root is computed without
 * ever forming a non-symmetric matrix: with S1 = V diag(l) V^T (a symmetric
 * eigendecomposition, LAPACK's dsyevd), R = V diag(sqrt(max(l, 0))) V^T,
 * the eigenvalues e of the symmetric R S2 R give tr((S1 S2)^(1/2)) =
 * sum sqrt(max(e, 0)). This stays accurate when the covariances are
 * singular (fewer samples than dimensions), where a general matrix square
 * root loses digits. A result below 0 from rounding is reported as 0.
 *
 * The statistics step is separate (sgad_feature_stats) so that a caller can
 * compute a real set's statistics once and reuse them for many generated
 * sets (sgad_frechet_distance_stats).
 *
 * Features are an sgad_tensor whose last dimension is the feature size d
 * and whose other dimensions multiply to the number of vectors n, e.g.
 * [n, d] or [1, n, d]. 1 <= d <= SGAD_FRECHET_MAX_DIM.
 *
 * Errors (with a message in the context): SGAD_E_INVALID_ARG for NULL
 * pointers, fewer than 2 vectors or d out of range; SGAD_E_SHAPE when the
 * two sets' feature sizes differ or d does not match the arrays given;
 * SGAD_E_NUMERIC for a NaN or infinity in the input or a covariance that is
 * not symmetric; SGAD_E_NOMEM; SGAD_E_INTERNAL if LAPACK reports a failure.
 *
 * Threads: an object is used by one thread at a time, together with the
 * context it was made from (context.h). These calls keep no state. The
 * eigendecompositions run in Debian's LAPACK, whose matrix products go
 * through the BLAS interface of the installed BLAS (BLIS here) with that
 * library's process-wide defaults (one thread unless BLIS_NUM_THREADS or
 * OMP_NUM_THREADS say otherwise): the context's thread count does not
 * reach them. */
#ifndef SGAD_METRICS_H
#define SGAD_METRICS_H

#include <stdint.h>

#include "context.h"
#include "export.h"
#include "status.h"
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Largest feature size the Fréchet calls accept: the covariances take
 *  d * d doubles each (128 MiB at this size) and the work grows as d^3. */
#define SGAD_FRECHET_MAX_DIM 4096

/** Mean and unbiased covariance of a set of feature vectors.
 *  @param features n vectors of d floats (see the file comment), n >= 2.
 *  @param d the feature size the caller expects (the last dimension).
 *  @param mean receives d doubles (caller-owned).
 *  @param cov receives d * d doubles, row-major and symmetric (caller-owned).
 *  @return SGAD_OK; SGAD_E_INVALID_ARG (NULL, n < 2, d out of range),
 *  SGAD_E_SHAPE (d differs from the tensor's last dimension),
 *  SGAD_E_NUMERIC (a non-finite feature, named by its index), SGAD_E_NOMEM.
 *  Errors go to the tensor's context. */
SGAD_API sgad_status sgad_feature_stats(const sgad_tensor *features, int64_t d, double *mean,
                                        double *cov);

/** The Fréchet distance between two Gaussians given by their statistics
 *  (as sgad_feature_stats writes them; nothing is modified).
 *  @param ctx receives the error message.
 *  @param d the feature size, 1..SGAD_FRECHET_MAX_DIM.
 *  @param mean1 d doubles. @param cov1 d * d doubles, symmetric.
 *  @param mean2 d doubles. @param cov2 d * d doubles, symmetric.
 *  @param distance receives FD (>= 0).
 *  @return SGAD_OK; SGAD_E_INVALID_ARG (NULL, d out of range),
 *  SGAD_E_NUMERIC (a non-finite value, or a covariance whose (i, j) and
 *  (j, i) entries differ by more than 1e-6 of its largest diagonal entry),
 *  SGAD_E_NOMEM, SGAD_E_INTERNAL (LAPACK failed to converge). */
SGAD_API sgad_status sgad_frechet_distance_stats(sgad_ctx *ctx, int64_t d, const double *mean1,
                                                 const double *cov1, const double *mean2,
                                                 const double *cov2, double *distance);

/** The Fréchet distance between two sets of feature vectors: statistics of
 *  each (sgad_feature_stats), then sgad_frechet_distance_stats. The sets may
 *  hold different numbers of vectors but must have the same feature size.
 *  @param a, b the two sets (n >= 2 vectors each); errors go to a's context.
 *  @param distance receives FD (>= 0).
 *  @return as the two calls; SGAD_E_SHAPE if the feature sizes differ. */
SGAD_API sgad_status sgad_frechet_distance(const sgad_tensor *a, const sgad_tensor *b,
                                           double *distance);

#ifdef __cplusplus
}
#endif

#endif /* SGAD_METRICS_H */
