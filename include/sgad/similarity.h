/* SPDX-License-Identifier: MIT */
/** @file
 * libsgad: how alike two representations of the same stimuli are (the
 * paper's Section 5.4: a discriminator's layers against recordings from
 * mouse visual cortex), and a reader for the matrices they come in.
 *
 * A representation is a row matrix [stimuli x units] in the caller's
 * memory (sgad_rep: float or double, row-major, any row stride); nothing
 * is copied into the caller's view and nothing is kept after a call. Row i
 * of both representations must be the response to the same stimulus i.
 * Every measure works in double precision and gives the same result for
 * any thread count (the calls are single-threaded; LAPACK runs with its
 * own process-wide settings, see metrics.h).
 *
 * The measures (docs/similarity.md has the formulas and references):
 *   sgad_rsa       representational similarity analysis: the Spearman
 *                  correlation of two representational dissimilarity
 *                  matrices (sgad_rdm), with an optional permutation test
 *   sgad_encoding_score  ridge regression from the model's units to each
 *                  recorded unit, k-fold cross-validated over stimuli; the
 *                  mean (or median) held-out Pearson r over recorded units
 *   sgad_svcca     SVD of each representation, keeping the components that
 *                  explain a share of its variance, then CCA; the mean
 *                  canonical correlation
 *   sgad_cka       centred kernel alignment, linear or RBF, with the biased
 *                  or the unbiased HSIC estimator
 *
 * Common errors (with a message in the context): SGAD_E_INVALID_ARG for a
 * NULL pointer, a bad option, fewer than 3 stimuli (4 for the unbiased
 * CKA), or more than SGAD_SIMILARITY_MAX_STIMULI stimuli or
 * SGAD_SIMILARITY_MAX_UNITS units; SGAD_E_SHAPE when the two
 * representations hold different numbers of stimuli or a stride is shorter
 * than a row; SGAD_E_NUMERIC for a NaN or infinity, or a magnitude above
 * 1e100 that would overflow the sums of squares (named by row and column),
 * or when the data make the measure undefined (a constant recorded
 * unit for the encoding, a stimulus whose units are all equal for the
 * correlation RDM, a representation with every column constant; the
 * message names which); SGAD_E_NOMEM; SGAD_E_INTERNAL if LAPACK fails.
 *
 * Threads: these calls keep no state; a context is used by one thread at a
 * time (context.h). */
#ifndef SGAD_SIMILARITY_H
#define SGAD_SIMILARITY_H

#include <stddef.h>
#include <stdint.h>

#include "context.h"
#include "export.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Element types of a representation. Values are pinned. */
typedef enum sgad_dtype { SGAD_DTYPE_F32 = 0, SGAD_DTYPE_F64 = 1 } sgad_dtype;

/** A view of a representation: rows (stimuli) x cols (units) values of
 *  type dtype; value (i, j) is at element i * stride + j of data. The
 *  caller owns the memory; calls only read it. */
typedef struct sgad_rep {
    const void *data; /**< the first value (float or double) */
    sgad_dtype dtype; /**< SGAD_DTYPE_F32 or SGAD_DTYPE_F64 */
    int64_t rows;     /**< stimuli, 3..SGAD_SIMILARITY_MAX_STIMULI */
    int64_t cols;     /**< units, 1..SGAD_SIMILARITY_MAX_UNITS */
    int64_t stride;   /**< elements from one row to the next; 0 means cols */
} sgad_rep;

/** Most stimuli a measure accepts: RSA works on four n x n double
 *  matrices (2 GiB at this size), CKA on two. */
#define SGAD_SIMILARITY_MAX_STIMULI 8192
/** Most units a representation may have. */
#define SGAD_SIMILARITY_MAX_UNITS ((int64_t)1 << 24)

/** Dissimilarities between stimuli for an RDM. Values are pinned. */
typedef enum sgad_rdm_distance {
    /** 1 - Pearson correlation between the two stimuli's unit vectors
     *  (each centred over its units); in [0, 2]. Undefined for a stimulus
     *  whose units are all equal (SGAD_E_NUMERIC names the row). */
    SGAD_RDM_CORRELATION = 0,
    /** Euclidean distance between the two stimuli's unit vectors. */
    SGAD_RDM_EUCLIDEAN = 1
} sgad_rdm_distance;

/** The representational dissimilarity matrix of x: rdm[i * n + j] is the
 *  dissimilarity of stimuli i and j (n = x->rows), symmetric with a zero
 *  diagonal.
 *  @param rdm receives n * n doubles (caller-owned).
 *  @return SGAD_OK or a common error (file comment). */
SGAD_API sgad_status sgad_rdm(sgad_ctx *ctx, const sgad_rep *x, sgad_rdm_distance distance,
                              double *rdm);

/** Representational similarity analysis (Kriegeskorte et al. 2008): the
 *  RDMs of x and y (sgad_rdm, same distance for both), compared by the
 *  Spearman correlation of their n (n - 1) / 2 entries above the diagonal,
 *  ties ranked by their average rank (as scipy.stats.spearmanr):
 *
 * @verbatim
 *   score = Pearson(rank(upper(RDM_x)), rank(upper(RDM_y)))
 * @endverbatim
 *
 *  With permutations > 0 it also gives a one-sided permutation p-value:
 *  the stimuli of y's RDM are relabelled (rows and columns together) by
 *  `permutations` uniformly random permutations drawn from the
 *  counter-based generator under seed, and
 *  p = (1 + #{permuted score >= score}) / (1 + permutations).
 *  The same seed gives the same p-value on every machine.
 *  @param permutations 0 (no test) .. 1000000.
 *  @param score receives the Spearman correlation in [-1, 1].
 *  @param p_value receives p in (0, 1], or NaN when permutations is 0; may
 *  be NULL then.
 *  @return SGAD_OK; a common error; SGAD_E_NUMERIC when an RDM's entries
 *  above the diagonal are all equal (the correlation is undefined). */
SGAD_API sgad_status sgad_rsa(sgad_ctx *ctx, const sgad_rep *x, const sgad_rep *y,
                              sgad_rdm_distance distance, int64_t permutations, uint64_t seed,
                              double *score, double *p_value);

/** How per-unit scores are summarised. Values are pinned. */
typedef enum sgad_summary { SGAD_SUMMARY_MEAN = 0, SGAD_SUMMARY_MEDIAN = 1 } sgad_summary;

/** Default fold count of sgad_encoding_score. */
#define SGAD_ENCODING_DEFAULT_FOLDS 5
/** Number of ridge strengths in the default grid: alpha = 10^-4 .. 10^6,
 *  one per decade. */
#define SGAD_ENCODING_DEFAULT_ALPHAS 11

/** Regression-based encoding: how well the model's units x predict each
 *  recorded unit of y, by ridge regression cross-validated over stimuli.
 *
 *  Stimuli are split into `folds` contiguous folds in row order (fold f
 *  holds rows floor(f n / k) .. floor((f + 1) n / k) - 1); shuffle the
 *  rows of both representations alike beforehand if their order carries
 *  structure. For each fold, a ridge model is fitted on the other folds
 *  (the training rows) and predicts the fold's rows. A fit centres x and y
 *  on the training rows' means (an unpenalised intercept) and solves, per
 *  recorded unit j, through the SVD Xc = U S V^T of the centred training
 *  x,
 *
 * @verbatim
 *   b_j = V diag(s / (s^2 + lambda_j)) U^T yc_j,
 *   lambda_j = alpha_j * |Xc|_F^2 / (units of x),
 * @endverbatim
 *
 *  leaving out singular values below max(rows, cols) * 2^-52 * s_max
 *  (rounding noise). Scaling lambda by the mean squared column norm makes
 *  the score invariant to a rescaling of x. alpha_j is chosen per recorded
 *  unit inside the training rows only: they are split again into `folds`
 *  contiguous inner folds, each alpha of the grid predicts every inner
 *  fold from the others, and the alpha whose pooled inner predictions
 *  correlate best (Pearson) with unit j wins (the first in grid order on a
 *  tie). The held-out predictions of all outer folds are pooled (each
 *  stimulus predicted once) and correlated with y:
 *
 * @verbatim
 *   r_j = Pearson(prediction_j, y_j),   score = mean_j r_j (or median)
 * @endverbatim
 *
 *  A prediction with no variance scores r = 0.
 *  @param x the model's representation [n x p]. @param y the recorded one
 *  [n x q]; a constant column of y is an error (SGAD_E_NUMERIC names it).
 *  @param folds 2..n; every outer training set must hold at least folds
 *  rows and every inner training set 2 or more (n >= 4 folds is always
 *  enough; SGAD_E_INVALID_ARG otherwise, with the size that falls short).
 *  @param alphas alpha_count ridge strengths > 0, finite; NULL (with
 *  alpha_count 0) for the default grid.
 *  @param summary SGAD_SUMMARY_MEAN or SGAD_SUMMARY_MEDIAN over units.
 *  @param score receives the summary of r_j.
 *  @param unit_r receives q doubles, r_j per recorded unit; may be NULL.
 *  @return SGAD_OK or a common error. */
SGAD_API sgad_status sgad_encoding_score(sgad_ctx *ctx, const sgad_rep *x, const sgad_rep *y,
                                         int folds, const double *alphas, int alpha_count,
                                         sgad_summary summary, double *score, double *unit_r);

/** Default share of variance SVCCA keeps. */
#define SGAD_SVCCA_DEFAULT_VARIANCE 0.99

/** SVCCA (Raghu et al. 2017). Each representation is centred over
 *  stimuli and decomposed, Xc = U S V^T; it keeps its top k singular
 *  directions, the fewest whose s^2 sum to at least `variance` of the
 *  total (variance 1 keeps every direction above max(rows, cols) * 2^-52 *
 *  s_max). The reduced representations are U_k S_k; CCA between them
 *  gives min(kx, ky) canonical correlations, the singular values of
 *  Ux_k^T Uy_k (both bases orthonormal), and
 *
 * @verbatim
 *   score = mean of the canonical correlations, in [0, 1].
 * @endverbatim
 *
 *  With variance 1 the score is invariant to any invertible linear map of
 *  either representation's units.
 *  @param variance in (0, 1].
 *  @param score receives the mean canonical correlation.
 *  @param correlations receives the canonical correlations, largest first
 *  (min(kx, ky) <= min(n, x->cols, y->cols) values, caller-owned); may be
 *  NULL.
 *  @param count receives min(kx, ky); may be NULL.
 *  @return SGAD_OK; a common error; SGAD_E_NUMERIC if either
 *  representation has every column constant. */
SGAD_API sgad_status sgad_svcca(sgad_ctx *ctx, const sgad_rep *x, const sgad_rep *y,
                                double variance, double *score, double *correlations,
                                int64_t *count);

/** CKA kernels. Values are pinned. */
typedef enum sgad_cka_kernel {
    /** k(a, b) = a . b on units centred over stimuli. */
    SGAD_CKA_LINEAR = 0,
    /** k(a, b) = exp(-|a - b|^2 / (2 sigma^2)), sigma^2 = scale^2 times the
     *  median of |x_i - x_j|^2 over the pairs i < j (the median bandwidth). */
    SGAD_CKA_RBF = 1
} sgad_cka_kernel;

/** Centred kernel alignment (Kornblith et al. 2019) of the stimuli's Gram
 *  matrices K (from x) and L (from y), n x n. With H = I - 11^T / n,
 *
 * @verbatim
 *   biased:   HSIC(K, L) = tr(HKH HLH)   (the 1/(n-1)^2 cancels)
 *   CKA = HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L))
 * @endverbatim
 *
 *  With unbiased nonzero, HSIC is the unbiased estimator of Song et al.
 *  (2012): with K~, L~ the Gram matrices with a zero diagonal,
 *  HSIC_1 = [tr(K~L~) + 1^T K~ 1 1^T L~ 1 / ((n-1)(n-2))
 *            - 2/(n-2) 1^T K~ L~ 1] / (n (n-3)), needing n >= 4; the
 *  result may then be slightly below 0. Linear CKA is 1 for identical
 *  representations and invariant to orthogonal maps and isotropic scaling
 *  of the units, not to other invertible maps.
 *  @param kernel SGAD_CKA_LINEAR or SGAD_CKA_RBF.
 *  @param rbf_scale the bandwidth's multiple of the median distance, > 0
 *  (1 is the usual choice); ignored for the linear kernel.
 *  @param unbiased 0 for the biased estimator, 1 for the unbiased one.
 *  @param score receives CKA.
 *  @return SGAD_OK; a common error; SGAD_E_NUMERIC if a representation has
 *  every column constant, if half or more of its pairs of stimuli
 *  coincide (a zero median distance), or if an unbiased HSIC(K, K) is not
 *  above 0. */
SGAD_API sgad_status sgad_cka(sgad_ctx *ctx, const sgad_rep *x, const sgad_rep *y,
                              sgad_cka_kernel kernel, double rbf_scale, int unbiased,
                              double *score);

/** Largest matrix the readers accept, in values. */
#define SGAD_MATRIX_MAX_VALUES ((int64_t)1 << 31)

/** Reads a two-dimensional float matrix from a file's bytes into doubles,
 *  in row-major order. Two formats, told apart by their first bytes:
 *   - NumPy .npy, format version 1.0 or 2.0, dtype '<f4' or '<f8',
 *     fortran_order False, a shape of two dimensions (a 1-D array is
 *     refused: reshape it to (n, 1) or (1, n) to say which it is);
 *   - IDX with type 0x0D (big-endian float32) or 0x0E (float64) and two
 *     dimensions (raw; not gzip).
 *  The data must be exactly as long as the shape says, and every value
 *  finite. Anything else gives SGAD_E_FORMAT with a message naming the
 *  fault (bad magic, unsupported version, a header longer than the file,
 *  another dtype, Fortran order, a shape of other than 2 dimensions or a
 *  zero dimension, more than SGAD_MATRIX_MAX_VALUES values, data shorter or
 *  longer than the shape, a non-finite value with its row and column).
 *
 *  Memory: the caller owns both buffers. Call it once with out NULL to
 *  learn rows and cols, then with out pointing to at least rows * cols
 *  doubles (capacity says how many); a smaller capacity gives
 *  SGAD_E_SHAPE and writes nothing.
 *  @param data, size the file's bytes (not kept).
 *  @param out receives rows * cols doubles, or NULL to ask the shape only.
 *  @param capacity doubles available at out.
 *  @param rows, cols receive the shape (either may be NULL).
 *  @return SGAD_OK, SGAD_E_INVALID_ARG (NULL ctx or data with size > 0),
 *  SGAD_E_FORMAT, SGAD_E_SHAPE. */
SGAD_API sgad_status sgad_matrix_read_memory(sgad_ctx *ctx, const void *data, size_t size,
                                             double *out, int64_t capacity, int64_t *rows,
                                             int64_t *cols);

/** Reads a matrix file (as sgad_matrix_read_memory) into an array that
 *  the library allocates through the context's allocator; the caller
 *  releases it with sgad_matrix_free on the same context.
 *  @param out receives rows * cols doubles, row-major; NULL on failure.
 *  @return as sgad_matrix_read_memory; SGAD_E_IO if the file cannot be
 *  read; SGAD_E_NOMEM. Messages name the file. */
SGAD_API sgad_status sgad_matrix_load(sgad_ctx *ctx, const char *path, double **out, int64_t *rows,
                                      int64_t *cols);

/** Frees an array sgad_matrix_load returned. NULL is a no-op. */
SGAD_API void sgad_matrix_free(sgad_ctx *ctx, double *matrix);

#ifdef __cplusplus
}
#endif

#endif /* SGAD_SIMILARITY_H */
