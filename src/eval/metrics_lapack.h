/* SPDX-License-Identifier: MIT */
/* The two LAPACK routines the Fréchet distance uses, declared here because
 * Debian's liblapack-dev ships no C header for the Fortran interface (the
 * LAPACKE wrappers are a separate package we do not need). Fortran passes
 * every argument by reference and, for each CHARACTER argument, a hidden
 * length after the last argument; gfortran-built LAPACK reads those
 * lengths, so they are declared and passed (as 1) rather than left to
 * chance (GCC PR 90329). Integers are LAPACK's default 32-bit INTEGER. */
#ifndef SGAD_METRICS_LAPACK_H
#define SGAD_METRICS_LAPACK_H

#include <stddef.h>

/* Eigenvalues (ascending, into w) and, with jobz "V", eigenvectors
 * (overwriting a's columns) of a symmetric n x n matrix, divide and
 * conquer. lwork = -1 / liwork = -1 ask for the workspace sizes. */
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w,
             double *work, const int *lwork, int *iwork, const int *liwork, int *info,
             size_t jobz_len, size_t uplo_len);

#endif /* SGAD_METRICS_LAPACK_H */
