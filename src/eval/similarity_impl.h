/* SPDX-License-Identifier: MIT */
/* Internals shared by the similarity measures (similarity.h):
 *   similarity_common.c    checking and copying representations, centring,
 *                          Pearson, average ranks, the median, the SVD
 *   similarity_rsa.c       RDMs and RSA with its permutation test
 *   similarity_encoding.c  cross-validated ridge encoding
 *   similarity_svcca.c     SVCCA
 *   similarity_cka.c       linear and RBF CKA
 * Every measure copies its inputs into dense row-major doubles first
 * (sgad__sim_copy), so the rest of the code sees one layout and one type. */
#ifndef SGAD_SIMILARITY_IMPL_H
#define SGAD_SIMILARITY_IMPL_H

#include "core/internal.h"

/* Checks a view (non-NULL data, a known dtype, rows in [min_rows,
 * SGAD_SIMILARITY_MAX_STIMULI], cols in [1, SGAD_SIMILARITY_MAX_UNITS],
 * stride 0 or >= cols); name ("x" or "y") goes into messages. */
sgad_status sgad__sim_check(sgad_ctx *ctx, const char *fn, const char *name, const sgad_rep *r,
                            int64_t min_rows);

/* Checks both views and that they hold the same number of stimuli. */
sgad_status sgad__sim_check_pair(sgad_ctx *ctx, const char *fn, const sgad_rep *x,
                                 const sgad_rep *y, int64_t min_rows);

/* Largest magnitude of an input value: squares stay below 1e200, so sums
 * of up to SGAD_SIMILARITY_MAX_STIMULI * SGAD_SIMILARITY_MAX_UNITS of them
 * (and of products of them) cannot overflow anywhere in the measures. */
#define SGAD__SIM_MAX_MAGNITUDE 1e100

/* A checked view copied into rows * cols doubles (sgad__alloc; the caller
 * frees it), refusing a non-finite value, or one above
 * SGAD__SIM_MAX_MAGNITUDE, by its row and column. */
sgad_status sgad__sim_copy(sgad_ctx *ctx, const char *fn, const char *name, const sgad_rep *r,
                           double **out);

/* Subtracts each column's mean from a row-major n x p matrix; the means go
 * to mean (p doubles) unless it is NULL. */
void sgad__sim_centre_columns(double *a, int64_t n, int64_t p, double *mean);

/* Index of the first column of a row-major n x p matrix whose values are
 * all equal (exactly), or -1. */
int64_t sgad__sim_constant_column(const double *a, int64_t n, int64_t p);

/* Pearson correlation of a and b (n values each, strides sa and sb),
 * centred in two passes; 0 with *defined = 0 when either has no variance. */
double sgad__sim_pearson(const double *a, int64_t sa, const double *b, int64_t sb, int64_t n,
                         int *defined);

/* The ranks 1..n of v, ties given the average of the ranks they span (as
 * scipy.stats.rankdata's default). */
sgad_status sgad__sim_ranks(sgad_ctx *ctx, const double *v, int64_t n, double *ranks);

/* The median of v (n >= 1, reordered in place): the middle value, or the
 * mean of the two middle ones when n is even. */
double sgad__sim_median(double *v, int64_t n);

/* Thin SVD of the row-major n x p matrix a (destroyed): r = min(n, p)
 * singular values into s, descending; u (n x r, row-major) and vt (r x p,
 * row-major) as well when both are given, A = U diag(s) V^T. */
sgad_status sgad__sim_svd(sgad_ctx *ctx, const char *fn, double *a, int64_t n, int64_t p, double *s,
                          double *u, double *vt);

/* How many of the r singular values s (descending) are above the rounding
 * level max(n, p) * 2^-52 * s[0] of an n x p matrix. */
int64_t sgad__sim_numerical_rank(const double *s, int64_t r, int64_t n, int64_t p);

#endif /* SGAD_SIMILARITY_IMPL_H */
