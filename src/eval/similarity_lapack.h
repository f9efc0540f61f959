/* SPDX-License-Identifier: MIT */
/* The LAPACK routine the similarity measures use (similarity.h), declared
 * here for the reasons metrics_lapack.h gives: Debian ships no C header
 * for the Fortran interface, every argument goes by reference, and the
 * CHARACTER argument's hidden length follows the last argument. */
#ifndef SGAD_SIMILARITY_LAPACK_H
#define SGAD_SIMILARITY_LAPACK_H

#include <stddef.h>

/* Singular values (descending, into s) of the column-major m x n matrix a
 * (destroyed), by divide and conquer; with jobz "S" also the first
 * min(m, n) left singular vectors (u, m x min, ld ldu) and right ones (vt,
 * min x n, ld ldvt). lwork = -1 asks for the workspace size; iwork holds
 * 8 min(m, n) ints. */
void dgesdd_(const char *jobz, const int *m, const int *n, double *a, const int *lda, double *s,
             double *u, const int *ldu, double *vt, const int *ldvt, double *work, const int *lwork,
             int *iwork, int *info, size_t jobz_len);

#endif /* SGAD_SIMILARITY_LAPACK_H */
