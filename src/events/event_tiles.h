/* SPDX-License-Identifier: MIT */
/* The linear layer's event-driven products (nonzeros.h) for inputs of any
 * density below the break-even: y += x W^T (forward) and dW += dy^T x
 * (weight gradient), with x sparse.
 *
 * Both are one kernel: "lines" (x's rows for the forward, its columns for
 * the weight gradient) each sum the rows of a dense operand M (W^T, or dy)
 * picked by their events, SGAD__PANEL output columns at a time. M is
 * taken in blocks of SGAD__TILE_BLOCK rows, which stay in the L1 cache
 * while a chunk of SGAD__TILE_LINES lines passes over them, their partial
 * sums in L2: reading each event's row from a whole panel of M (D's fc1 at
 * 64x64x3 images: 1.4 MiB) missed both caches. So the events are listed in
 * tiles: by chunk of lines, then by block, then by line, each line's
 * events in index order, and a pass over one block reads one contiguous
 * run of them. A partial sum is carried from block to block unchanged, so
 * every output is the sum over its events in index order, as one pass
 * would give, whatever the thread count. */
#ifndef SGAD_EVENT_TILES_H
#define SGAD_EVENT_TILES_H

#include "core/internal.h"

#define SGAD__TILE_BLOCK 256
#define SGAD__TILE_LINES 1024

/* x's nonzeros in tiles: line l's events with indices in block k are
 * index/value[begin[k * lines + l] .. end[k * lines + l]). */
typedef struct sgad__tiles {
    int64_t lines, span, blocks; /* indices in [0, span), blocks of them */
    int64_t count;
    int64_t *begin, *end;
    int32_t *index;
    float *value;
} sgad__tiles;

/* Lists the nonzeros of x [rows x cols] (both below 2^31) in tiles whose
 * lines are x's rows, or with by_column its columns, into memory of the
 * context's scratch slot `slot`, valid until that slot is next used. */
sgad_status sgad__tiles_list(sgad_ctx *ctx, sgad__scratch_slot slot, int64_t rows, int64_t cols,
                             const float *x, int by_column, sgad__tiles *t);

/* Floats of working memory per context thread the products need. */
int64_t sgad__tiles_matmul_own_size(void);
int64_t sgad__tiles_outer_own_size(int64_t rows);

/* y [rows x out] += x w^T for x [rows x in] listed by row and the weight
 * w [out x in]. */
void sgad__tiles_matmul(const sgad_ctx *ctx, const sgad__tiles *x, const float *w, int64_t out,
                        float *y, float *own);

/* w [out x in] += g^T x for x [rows x in] listed by column and g
 * [rows x out]. */
void sgad__tiles_outer(const sgad_ctx *ctx, const sgad__tiles *x, const float *g, int64_t out,
                       float *w, float *own);

#endif /* SGAD_EVENT_TILES_H */
