/* SPDX-License-Identifier: MIT */
/* Spike inputs grouped by spike train (spike_trains.h). Sums run in a fixed
 * order (trains ascending, inputs ascending within a train, steps
 * ascending), each panel of the output on one thread, so results do not
 * depend on the thread count. */
#include <stdlib.h>
#include <string.h>

#include "core/parallel.h"
#include "kernels/isa.h"
#include "kernels/simd.h"
#include "panels.h"
#include "spike_trains.h"

#define B SGAD__PANEL
#define V (B / 4)

static int compare_keys(const void *a, const void *b)
{
    const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static uint32_t train_of(uint64_t key)
{
    return (uint32_t)(key >> 32);
}

/* Sample n's keys: trains built step by step, then the firing inputs
 * moved to the front and sorted. Returns how many fire; *odd is set if a
 * nonzero is not 1 (and then nothing is sorted: the list is not used). */
static SGAD__ALWAYS_INLINE int64_t list_sample(const sgad__trains *tr, int64_t n, const float *x,
                                               int *odd)
{
    uint64_t *key = tr->key + n * tr->cols;
    memset(key, 0, (size_t)tr->cols * sizeof *key);
    int bad = 0;
    for (int64_t t = 0; t < tr->steps; t++) {
        const float *row = x + (t * tr->samples + n) * tr->cols;
        const uint64_t bit = (uint64_t)1 << (32 + t);
        for (int64_t k = 0; k < tr->cols; k++) {
            key[k] |= row[k] != 0.0f ? bit : 0;
            bad |= row[k] != 0.0f && row[k] != 1.0f;
        }
    }
    *odd = bad;
    if (bad)
        return 0;
    int64_t firing = 0;
    for (int64_t k = 0; k < tr->cols; k++)
        if (key[k])
            key[firing++] = key[k] | (uint64_t)k;
    qsort(key, (size_t)firing, sizeof *key, compare_keys);
    return firing;
}

/* Spikes and row additions of sample n's sorted keys. */
static void sample_work(const uint64_t *key, int64_t firing, int64_t *spikes, int64_t *work)
{
    *spikes = *work = 0;
    for (int64_t i = 0; i < firing; i++) {
        const int bits = __builtin_popcount(train_of(key[i]));
        *spikes += bits;
        *work += 1 + (i == 0 || train_of(key[i - 1]) != train_of(key[i]) ? bits : 0);
    }
}

/* Values of an input tested for one that is neither 0 nor 1 before it is
 * listed: a pooled spike map (D's fc1 input) shows one within its first
 * few rows, and listing it by train would be a whole pass for nothing
 * [bench:trains-probe]. */
#define BINARY_PROBE ((int64_t)1 << 16)

static int binary_prefix(const float *x, int64_t n)
{
    for (int64_t i = 0; i < n && i < BINARY_PROBE; i++)
        if (x[i] != 0.0f && x[i] != 1.0f)
            return 0;
    return 1;
}

SGAD__AVX2_CLONE
sgad_status sgad__trains_list(sgad_ctx *ctx, sgad__scratch_slot slot, int64_t steps,
                              int64_t samples, int64_t cols, const float *x, sgad__trains *tr)
{
    memset(tr, 0, sizeof *tr);
    tr->steps = steps;
    tr->samples = samples;
    tr->cols = cols;
    if (steps > SGAD__TRAINS_MAX_STEPS || cols > UINT32_MAX ||
        !binary_prefix(x, steps * samples * cols))
        return SGAD_OK; /* not usable */
    const size_t keys = (size_t)(samples * cols) * sizeof(uint64_t);
    char *mem = sgad__scratch(ctx, slot, keys + (size_t)samples * sizeof(int64_t));
    if (!mem)
        return SGAD_E_NOMEM;
    tr->key = (uint64_t *)mem;
    tr->count = (int64_t *)(mem + keys);
    int64_t spikes = 0, work = 0;
    int odd = 0;
#pragma omp parallel for num_threads(sgad__par_threads(ctx, steps * samples * cols)) \
    schedule(static) reduction(+ : spikes, work) reduction(| : odd)
    for (int64_t n = 0; n < samples; n++) {
        int bad;
        int64_t s, w;
        tr->count[n] = list_sample(tr, n, x, &bad);
        sample_work(tr->key + n * cols, tr->count[n], &s, &w);
        spikes += s;
        work += w;
        odd |= bad;
    }
    tr->usable = !odd;
    tr->spikes = spikes;
    tr->work = work;
    return SGAD_OK;
}

/* One panel of sample n: for each train, the sum of its inputs' rows of
 * the panel, added at each of its steps to y's panel of that step. */
static SGAD__ALWAYS_INLINE void matmul_sample(const sgad__trains *tr, int64_t n, const float *panel,
                                              int64_t out, int64_t width, float *y)
{
    const uint64_t *key = tr->key + n * tr->cols;
    for (int64_t i = 0; i < tr->count[n];) {
        const uint32_t train = train_of(key[i]);
        sgad__v4 acc[V] = {{0}};
        for (; i < tr->count[n] && train_of(key[i]) == train; i++) {
            const float *w = panel + (int64_t)(uint32_t)key[i] * B;
            for (int k = 0; k < V; k++)
                acc[k] += sgad__load4(w + 4 * k);
        }
        float sum[B];
        for (int k = 0; k < V; k++)
            sgad__store4(sum + 4 * k, acc[k]);
        for (int64_t t = 0; t < tr->steps; t++)
            if (train >> t & 1) {
                float *row = y + (t * tr->samples + n) * out;
                for (int64_t j = 0; j < width; j++)
                    row[j] += sum[j];
            }
    }
}

SGAD__AVX2_CLONE
void sgad__trains_matmul(const sgad_ctx *ctx, const sgad__trains *tr, const sgad__panels *W,
                         float *y)
{
    const int64_t out = W->out, blocks = (out + B - 1) / B;
#pragma omp parallel for num_threads(sgad__par_threads(ctx, tr->work *out / 8 + 1)) schedule(static)
    for (int64_t b = 0; b < blocks; b++) {
        const int64_t width = out - b * B < B ? out - b * B : B;
        const float *panel = sgad__panel_read(W, b);
        for (int64_t n = 0; n < tr->samples; n++)
            matmul_sample(tr, n, panel, out, width, y + b * B);
    }
}

/* One panel of sample n: for each train, the sum of g's panel over its
 * steps, added to the panel rows of its inputs. */
static SGAD__ALWAYS_INLINE void outer_sample(const sgad__trains *tr, int64_t n, const float *g,
                                             int64_t out, int64_t width, float *panel)
{
    const uint64_t *key = tr->key + n * tr->cols;
    for (int64_t i = 0; i < tr->count[n];) {
        const uint32_t train = train_of(key[i]);
        float sum[B] = {0};
        for (int64_t t = 0; t < tr->steps; t++)
            if (train >> t & 1) {
                const float *row = g + (t * tr->samples + n) * out;
                for (int64_t j = 0; j < width; j++)
                    sum[j] += row[j];
            }
        sgad__v4 sv[V];
        for (int k = 0; k < V; k++)
            sv[k] = sgad__load4(sum + 4 * k);
        for (; i < tr->count[n] && train_of(key[i]) == train; i++) {
            float *dst = panel + (int64_t)(uint32_t)key[i] * B;
            for (int k = 0; k < V; k++)
                sgad__store4(dst + 4 * k, sgad__load4(dst + 4 * k) + sv[k]);
        }
    }
}

SGAD__AVX2_CLONE
void sgad__trains_outer(const sgad_ctx *ctx, const sgad__trains *tr, const float *g,
                        const sgad__panels *G)
{
    const int64_t out = G->out, blocks = (out + B - 1) / B;
#pragma omp parallel for num_threads(sgad__par_threads(ctx, tr->work *out / 8 + 1)) schedule(static)
    for (int64_t b = 0; b < blocks; b++) {
        const int64_t width = out - b * B < B ? out - b * B : B;
        float *panel = sgad__panel_sum(G);
        for (int64_t n = 0; n < tr->samples; n++)
            outer_sample(tr, n, g + b * B, out, width, panel);
        sgad__panel_done(G, b, panel);
    }
}
