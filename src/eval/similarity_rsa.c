/* SPDX-License-Identifier: MIT */
/* Representational dissimilarity matrices and RSA (similarity.h).
 *
 * The Spearman correlation is the Pearson correlation of average ranks.
 * The ranks of the n (n - 1) / 2 entries above the diagonal are computed
 * once per RDM; relabelling y's stimuli only moves its ranks around, so
 * their mean and spread stay the same and a permuted score needs only the
 * new cross sum. The observed score goes through the same function with
 * the identity permutation, so a permutation that reproduces the observed
 * arrangement reproduces its score bit for bit and counts as >=. */
#include <math.h>
#include <string.h>

#include "core/rng.h"
#include "similarity_impl.h"

static const char fn_rdm[] = "sgad_rdm";
static const char fn_rsa[] = "sgad_rsa";

#define MAX_PERMUTATIONS 1000000
/* The generator's stream for the permutations (any fixed value: the seed
 * is the caller's). */
#define PERMUTATION_STREAM UINT64_C(0x5253415045524d) /* "RSAPERM" */

/* 1 - Pearson between rows: each row centred over its units and scaled to
 * unit length, then dot products. A row whose units are all equal has no
 * direction and makes its dissimilarities undefined. */
static sgad_status correlation_rdm(sgad_ctx *ctx, const char *fn, const char *name, double *a,
                                   int64_t n, int64_t p, double *rdm)
{
    for (int64_t i = 0; i < n; i++) {
        double *ai = a + i * p;
        int64_t j = 1;
        while (j < p && ai[j] == ai[0])
            j++;
        SGAD__CHECK(ctx, j < p, SGAD_E_NUMERIC,
                    "%s: %s: stimulus %lld has all its %lld units equal; its correlation "
                    "distance is undefined",
                    fn, name, (long long)i, (long long)p);
        double sum = 0;
        for (j = 0; j < p; j++)
            sum += ai[j];
        const double mean = sum / (double)p;
        double ss = 0;
        for (j = 0; j < p; j++) {
            ai[j] -= mean;
            ss += ai[j] * ai[j];
        }
        const double inv = 1 / sqrt(ss);
        for (j = 0; j < p; j++)
            ai[j] *= inv;
    }
    for (int64_t i = 0; i < n; i++) {
        rdm[i * n + i] = 0;
        for (int64_t k = i + 1; k < n; k++) {
            double dot = 0;
            for (int64_t j = 0; j < p; j++)
                dot += a[i * p + j] * a[k * p + j];
            rdm[i * n + k] = rdm[k * n + i] = 1 - dot;
        }
    }
    return SGAD_OK;
}

/* Differences summed directly rather than through |a|^2 + |b|^2 - 2 a.b,
 * which cancels badly for nearby stimuli. */
static void euclidean_rdm(const double *a, int64_t n, int64_t p, double *rdm)
{
    for (int64_t i = 0; i < n; i++) {
        rdm[i * n + i] = 0;
        for (int64_t k = i + 1; k < n; k++) {
            double ss = 0;
            for (int64_t j = 0; j < p; j++) {
                const double d = a[i * p + j] - a[k * p + j];
                ss += d * d;
            }
            rdm[i * n + k] = rdm[k * n + i] = sqrt(ss);
        }
    }
}

static sgad_status rdm_of(sgad_ctx *ctx, const char *fn, const char *name, const sgad_rep *x,
                          sgad_rdm_distance distance, double *rdm)
{
    double *a;
    SGAD__TRY(sgad__sim_copy(ctx, fn, name, x, &a));
    sgad_status s = SGAD_OK;
    if (distance == SGAD_RDM_CORRELATION)
        s = correlation_rdm(ctx, fn, name, a, x->rows, x->cols, rdm);
    else
        euclidean_rdm(a, x->rows, x->cols, rdm);
    sgad__free(ctx, a);
    return s;
}

static sgad_status check_distance(sgad_ctx *ctx, const char *fn, sgad_rdm_distance distance)
{
    SGAD__CHECK(ctx, distance == SGAD_RDM_CORRELATION || distance == SGAD_RDM_EUCLIDEAN,
                SGAD_E_INVALID_ARG, "%s: distance %d is not an sgad_rdm_distance", fn,
                (int)distance);
    return SGAD_OK;
}

sgad_status sgad_rdm(sgad_ctx *ctx, const sgad_rep *x, sgad_rdm_distance distance, double *rdm)
{
    if (!ctx)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(ctx, rdm, SGAD_E_INVALID_ARG, "%s: rdm is NULL", fn_rdm);
    SGAD__TRY(sgad__sim_check(ctx, fn_rdm, "x", x, 3));
    SGAD__TRY(check_distance(ctx, fn_rdm, distance));
    return rdm_of(ctx, fn_rdm, "x", x, distance, rdm);
}

/* The ranks of an RDM's upper triangle, centred (their mean is (N + 1) / 2
 * exactly), into a full symmetric n x n matrix for permuted reading; the
 * sum of their squares into *ss. */
static sgad_status centred_ranks(sgad_ctx *ctx, const char *name, const double *rdm, int64_t n,
                                 double *upper, double *ranks, double *full, double *ss)
{
    const int64_t pairs = n * (n - 1) / 2;
    int64_t t = 0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t k = i + 1; k < n; k++)
            upper[t++] = rdm[i * n + k];
    SGAD__TRY(sgad__sim_ranks(ctx, upper, pairs, ranks));
    const double mean = 0.5 * (double)(pairs + 1);
    double sum = 0;
    t = 0;
    for (int64_t i = 0; i < n; i++) {
        full[i * n + i] = 0;
        for (int64_t k = i + 1; k < n; k++, t++) {
            const double c = ranks[t] - mean;
            full[i * n + k] = full[k * n + i] = c;
            sum += c * c;
        }
    }
    SGAD__CHECK(ctx, sum > 0, SGAD_E_NUMERIC,
                "%s: %s's dissimilarities are all equal; their rank correlation is undefined",
                fn_rsa, name);
    *ss = sum;
    return SGAD_OK;
}

/* sum over i < k of x(i, k) y(perm i, perm k) / sqrt(sxx syy). */
static double permuted_score(const double *cx, const double *cy, const int64_t *perm, int64_t n,
                             double scale)
{
    double sum = 0;
    for (int64_t i = 0; i < n; i++) {
        const double *yi = cy + perm[i] * n;
        for (int64_t k = i + 1; k < n; k++)
            sum += cx[i * n + k] * yi[perm[k]];
    }
    return sum / scale;
}

/* A uniform permutation by Fisher-Yates from counters draw * n .. of the
 * generator; the modulo's bias is below n / 2^64. */
static void shuffle(int64_t *perm, int64_t n, uint64_t seed, uint64_t draw)
{
    for (int64_t i = 0; i < n; i++)
        perm[i] = i;
    for (int64_t i = n - 1; i > 0; i--) {
        const uint64_t r =
            sgad__rng_u64(seed, PERMUTATION_STREAM, draw * (uint64_t)n + (uint64_t)i);
        const int64_t j = (int64_t)(r % (uint64_t)(i + 1));
        const int64_t tmp = perm[i];
        perm[i] = perm[j];
        perm[j] = tmp;
    }
}

sgad_status sgad_rsa(sgad_ctx *ctx, const sgad_rep *x, const sgad_rep *y,
                     sgad_rdm_distance distance, int64_t permutations, uint64_t seed, double *score,
                     double *p_value)
{
    if (!ctx)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(ctx, score && (p_value || permutations == 0), SGAD_E_INVALID_ARG,
                "%s: score (or p_value, with permutations) is NULL", fn_rsa);
    SGAD__TRY(sgad__sim_check_pair(ctx, fn_rsa, x, y, 3));
    SGAD__TRY(check_distance(ctx, fn_rsa, distance));
    SGAD__CHECK(ctx, permutations >= 0 && permutations <= MAX_PERMUTATIONS, SGAD_E_INVALID_ARG,
                "%s: permutations %lld outside [0, %d]", fn_rsa, (long long)permutations,
                MAX_PERMUTATIONS);
    const int64_t n = x->rows, nn = n * n, pairs = n * (n - 1) / 2;
    /* rdm x, rdm y, centred ranks x, centred ranks y (n x n each), the upper
     * triangle and its ranks (pairs each), a permutation */
    double *m = sgad__alloc(ctx, (size_t)(4 * nn + 2 * pairs) * sizeof *m);
    int64_t *perm = sgad__alloc(ctx, (size_t)n * sizeof *perm);
    if (!m || !perm) {
        sgad__free(ctx, m);
        sgad__free(ctx, perm);
        return SGAD_E_NOMEM;
    }
    double *rx = m, *ry = rx + nn, *cx = ry + nn, *cy = cx + nn, *upper = cy + nn,
           *ranks = upper + pairs;
    double sxx = 0, syy = 0;
    sgad_status s = rdm_of(ctx, fn_rsa, "x", x, distance, rx);
    if (s == SGAD_OK)
        s = rdm_of(ctx, fn_rsa, "y", y, distance, ry);
    if (s == SGAD_OK)
        s = centred_ranks(ctx, "x", rx, n, upper, ranks, cx, &sxx);
    if (s == SGAD_OK)
        s = centred_ranks(ctx, "y", ry, n, upper, ranks, cy, &syy);
    if (s == SGAD_OK) {
        const double scale = sqrt(sxx * syy);
        for (int64_t i = 0; i < n; i++)
            perm[i] = i;
        const double observed = permuted_score(cx, cy, perm, n, scale);
        int64_t as_large = 0;
        for (int64_t t = 0; t < permutations; t++) {
            shuffle(perm, n, seed, (uint64_t)t);
            as_large += permuted_score(cx, cy, perm, n, scale) >= observed;
        }
        /* |score| <= 1 up to rounding; clamp so callers can rely on it */
        *score = observed > 1 ? 1 : observed < -1 ? -1 : observed;
        if (p_value)
            *p_value = permutations ? (double)(1 + as_large) / (double)(1 + permutations) : NAN;
    }
    sgad__free(ctx, m);
    sgad__free(ctx, perm);
    return s;
}
