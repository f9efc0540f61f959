/* SPDX-License-Identifier: MIT */
/* The linear layer's event products in tiles (event_tiles.h). */
#include <string.h>

#include "core/parallel.h"
#include "event_tiles.h"
#include "kernels/isa.h"
#include "kernels/simd.h"
#include "nonzeros.h"
#include "panels.h"

#define BLOCK SGAD__TILE_BLOCK
#define LINES SGAD__TILE_LINES
#define B SGAD__PANEL

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* The listing's working memory at the front of its slot: each tile
 * entry's begin and end (the end counts, then serves as the write
 * cursor), and per thread one row of x's counts or nonzero positions. */
static size_t head_size(int64_t entries, int threads, int64_t cols)
{
    return (size_t)(2 * entries) * sizeof(int64_t) + (size_t)(threads * cols) * sizeof(int32_t);
}

static int32_t *place_head(sgad__tiles *t, void *mem, int64_t entries)
{
    t->begin = mem;
    t->end = t->begin + entries;
    return (int32_t *)(t->end + entries);
}

/* The nonzeros of x[0..n), by compares alone: counting needs no
 * positions, and at a fifth of nonzero values (D's fc1 input) finding them
 * took as long as storing the events. */
SGAD__AVX2_CLONE
static int64_t count_nonzero(const float *x, int64_t n)
{
    int32_t count = 0; /* n < 2^31 */
    for (int64_t i = 0; i < n; i++)
        count += x[i] != 0.0f;
    return count;
}

/* count[i] += 1 where x[i] is nonzero, i < n. */
SGAD__AVX2_CLONE
static void add_nonzero(const float *x, int64_t n, int32_t *count)
{
    for (int64_t i = 0; i < n; i++)
        count[i] += x[i] != 0.0f;
}

/* Rows [rb * BLOCK, ..) of x, a block of rows, the listing's unit of work:
 * listed by column, all its rows fall in one block of indices, so one
 * thread owns the entries it touches and stores each column's events in
 * row order. */
static int64_t row_end(int64_t rows, int64_t rb)
{
    return min64((rb + 1) * BLOCK, rows);
}

/* Sets the tile entries' ends to their counts of events from the block of
 * rows rb; `count` has room for cols values. */
static void count_rows(const float *x, int64_t rows, int64_t cols, int64_t rb, int by_column,
                       int32_t *count, const sgad__tiles *t)
{
    if (by_column) {
        memset(count, 0, (size_t)cols * sizeof *count);
        for (int64_t r = rb * BLOCK; r < row_end(rows, rb); r++)
            add_nonzero(x + r * cols, cols, count);
        for (int64_t c = 0; c < cols; c++)
            t->end[rb * t->lines + c] = count[c];
        return;
    }
    for (int64_t r = rb * BLOCK; r < row_end(rows, rb); r++)
        for (int64_t k = 0; k < t->blocks; k++)
            t->end[k * t->lines + r] =
                count_nonzero(x + r * cols + k * BLOCK, min64(BLOCK, cols - k * BLOCK));
}

/* Stores the events of the block of rows rb at their entries' cursors;
 * `pos` has room for cols positions. */
static void write_rows(const float *x, int64_t rows, int64_t cols, int64_t rb, int by_column,
                       int32_t *pos, const sgad__tiles *t)
{
    for (int64_t r = rb * BLOCK; r < row_end(rows, rb); r++) {
        const float *row = x + r * cols;
        const int64_t n = sgad__nonzero_positions(row, cols, pos);
        for (int64_t e = 0; e < n; e++) {
            const int64_t c = pos[e];
            const int64_t k = t->end[by_column ? rb * t->lines + c : c / BLOCK * t->lines + r]++;
            t->index[k] = (int32_t)(by_column ? r : c);
            t->value[k] = row[c];
        }
    }
}

/* Entries in storage order (chunk of lines, block, line): each begins
 * where the one before ends. Returns the number of events. */
static int64_t lay_out(const sgad__tiles *t)
{
    int64_t total = 0;
    for (int64_t l0 = 0; l0 < t->lines; l0 += LINES)
        for (int64_t k = 0; k < t->blocks; k++)
            for (int64_t l = l0; l < min64(l0 + LINES, t->lines); l++) {
                const int64_t entry = k * t->lines + l, n = t->end[entry];
                t->begin[entry] = t->end[entry] = total;
                total += n;
            }
    return total;
}

sgad_status sgad__tiles_list(sgad_ctx *ctx, sgad__scratch_slot slot, int64_t rows, int64_t cols,
                             const float *x, int by_column, sgad__tiles *t)
{
    t->lines = by_column ? cols : rows;
    t->span = by_column ? rows : cols;
    t->blocks = (t->span + BLOCK - 1) / BLOCK;
    const int64_t entries = t->blocks * t->lines, row_blocks = (rows + BLOCK - 1) / BLOCK;
    const int threads = sgad__par_threads(ctx, rows * cols);
    const size_t head = head_size(entries, ctx->threads, cols);
    void *mem = sgad__scratch(ctx, slot, head);
    if (!mem)
        return SGAD_E_NOMEM;
    int32_t *pos = place_head(t, mem, entries);
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t rb = 0; rb < row_blocks; rb++)
        count_rows(x, rows, cols, rb, by_column, pos + sgad__thread_index() * cols, t);
    t->count = lay_out(t);
    const size_t events = (size_t)t->count * (sizeof(int32_t) + sizeof(float));
    mem = sgad__scratch_keep(ctx, slot, head + events);
    if (!mem)
        return SGAD_E_NOMEM;
    pos = place_head(t, mem, entries);
    t->value = (float *)((char *)mem + head);
    t->index = (int32_t *)(t->value + t->count);
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t rb = 0; rb < row_blocks; rb++)
        write_rows(x, rows, cols, rb, by_column, pos + sgad__thread_index() * cols, t);
    return SGAD_OK;
}

/* Lines [l0, l1) over block k of M, m [BLOCK x B] (M's rows from
 * k * BLOCK): partial[l - l0][0..B) += the sum over the line's events in
 * the block of value * m[index - k * BLOCK][0..B), in eight-float
 * registers; block 0 starts the sums. */
static SGAD__ALWAYS_INLINE void block_sums(const sgad__tiles *t, int64_t k, int64_t l0, int64_t l1,
                                           const float *m, float *partial)
{
    const int64_t lo = k * BLOCK;
    for (int64_t l = l0; l < l1; l++) {
        float *p = partial + (l - l0) * B;
        sgad__v8 acc[B / 8] = {{0}};
        if (k > 0)
            for (int j = 0; j < B / 8; j++)
                SGAD__LOAD8(acc[j], p + 8 * j);
        const int64_t entry = k * t->lines + l;
        for (int64_t e = t->begin[entry]; e < t->end[entry]; e++) {
            const float v = t->value[e], *row = m + (t->index[e] - lo) * B;
            for (int j = 0; j < B / 8; j++) {
                sgad__v8 mj;
                SGAD__LOAD8(mj, row + 8 * j);
                acc[j] += v * mj;
            }
        }
        for (int j = 0; j < B / 8; j++)
            SGAD__STORE8(p + 8 * j, acc[j]);
    }
}

/* A thread's block of `own`, of `size` floats. */
static float *own_block(float *own, int64_t size)
{
    return own + (int64_t)sgad__thread_index() * size;
}

int64_t sgad__tiles_matmul_own_size(void)
{
    return (BLOCK + LINES) * B;
}

/* Rows [r0, r1) of y's panel b (its n columns from b * B): each block of
 * W^T is built in m from w [out x in] as it is needed. */
static SGAD__ALWAYS_INLINE void matmul_chunk(const sgad__tiles *x, const float *w, int64_t out,
                                             int64_t b, int64_t n, int64_t r0, int64_t r1, float *m,
                                             float *partial, float *y)
{
    const int64_t in = x->span;
    for (int64_t k = 0; k < x->blocks; k++) {
        const int64_t lo = k * BLOCK, len = min64(BLOCK, in - lo);
        sgad__transpose(n, len, w + b * B * in + lo, in, m, B, 0);
        for (int64_t i = 0; n < B && i < len; i++) /* a last, partial panel */
            memset(m + i * B + n, 0, (size_t)(B - n) * sizeof *m);
        block_sums(x, k, r0, r1, m, partial);
    }
    for (int64_t r = r0; r < r1; r++)
        for (int64_t j = 0; j < n; j++)
            y[r * out + b * B + j] += partial[(r - r0) * B + j];
}

SGAD__AVX2_CLONE
void sgad__tiles_matmul(const sgad_ctx *ctx, const sgad__tiles *x, const float *w, int64_t out,
                        float *y, float *own)
{
    const int64_t panels = (out + B - 1) / B;
#pragma omp parallel for num_threads(sgad__par_threads(ctx, x->count *out / 8 + 1)) schedule(static)
    for (int64_t b = 0; b < panels; b++) {
        float *m = own_block(own, sgad__tiles_matmul_own_size()), *partial = m + BLOCK * B;
        const int64_t n = min64(out - b * B, B);
        for (int64_t r0 = 0; r0 < x->lines; r0 += LINES)
            matmul_chunk(x, w, out, b, n, r0, min64(r0 + LINES, x->lines), m, partial, y);
    }
}

int64_t sgad__tiles_outer_own_size(int64_t rows)
{
    return (LINES + rows) * B;
}

/* g's panel b, n columns of the rows of g [rows x out], into gp [rows x
 * B] with zero columns past n: contiguous, where g's own rows lie `out`
 * apart (a power of two for most layers, so that they would share a few
 * cache sets). */
static SGAD__ALWAYS_INLINE void copy_panel(const float *g, int64_t rows, int64_t out, int64_t b,
                                           int64_t n, float *gp)
{
    for (int64_t r = 0; r < rows; r++) {
        memcpy(gp + r * B, g + r * out + b * B, (size_t)n * sizeof *gp);
        memset(gp + r * B + n, 0, (size_t)(B - n) * sizeof *gp);
    }
}

SGAD__AVX2_CLONE
void sgad__tiles_outer(const sgad_ctx *ctx, const sgad__tiles *x, const float *g, int64_t out,
                       float *w, float *own)
{
    const int64_t in = x->lines, rows = x->span, panels = (out + B - 1) / B;
#pragma omp parallel for num_threads(sgad__par_threads(ctx, x->count *out / 8 + 1)) schedule(static)
    for (int64_t b = 0; b < panels; b++) {
        float *partial = own_block(own, sgad__tiles_outer_own_size(rows));
        float *gp = partial + LINES * B;
        const int64_t n = min64(out - b * B, B);
        copy_panel(g, rows, out, b, n, gp);
        for (int64_t i0 = 0; i0 < in; i0 += LINES) {
            const int64_t i1 = min64(i0 + LINES, in);
            for (int64_t k = 0; k < x->blocks; k++)
                block_sums(x, k, i0, i1, gp + k * BLOCK * B, partial);
            sgad__transpose(i1 - i0, n, partial, B, w + b * B * in + i0, in, 1);
        }
    }
}
