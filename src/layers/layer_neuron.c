/* SPDX-License-Identifier: MIT */
/* LIF, IF and MP neurons (equations in neuron.h). Forward walks the T steps
 * with one membrane value per element. Backward (BPTT) keeps nothing from
 * forward: elements are independent, so it takes them a block at a time,
 * recomputes the block's pre-spike potentials H_t for all t into a small
 * buffer, and runs the reverse recursion on the block.
 *
 * Two settings let a net keep less (net.c): the input may be a batch
 * norm's input, the neuron applying the batch norm itself (input_norm),
 * and the output may be averaged over pooling windows inside the neuron
 * (pool_k). Both give the bits the separate layers give. */
#include <math.h>
#include <string.h>

#include "core/parallel.h"
#include "kernels/isa.h"
#include "layer_impl.h"
#include "surrogate.h"

typedef struct neuron {
    sgad_layer base;
    float tau, v_th, v_reset, alpha;
    int reset_mode, detach_reset, decay_input, surrogate;
    int shared_input;             /* the input holds one step, read at every step */
    const sgad_layer *input_norm; /* x is this batch norm's input (forward and backward) */
    int64_t pool_k;               /* > 0: output averaged over k x k windows, stride k */
} neuron;

static sgad_status same_shape(const sgad_layer *l, const sgad__shape *in, sgad__shape *out)
{
    (void)l;
    *out = *in;
    return SGAD_OK;
}

/* Coefficients of the charge equation H = a V + b X + c. */
typedef struct charge {
    float a, b, c;
} charge;

static charge charge_of(const neuron *n)
{
    charge q = {1.0f, 1.0f, 0.0f}; /* IF */
    if (n->base.ops->kind != SGAD_LAYER_IF) {
        q.a = 1.0f - 1.0f / n->tau;
        q.b = n->decay_input ? 1.0f / n->tau : 1.0f;
        q.c = n->v_reset / n->tau;
    }
    if (n->base.ops->kind == SGAD_LAYER_MP) {
        q.b = 1.0f / n->tau;
        q.c = 0.0f;
    }
    return q;
}

static float initial_v(const neuron *n)
{
    return n->base.ops->kind != SGAD_LAYER_MP && n->reset_mode == SGAD_RESET_HARD ? n->v_reset
                                                                                  : 0.0f;
}

/* What a membrane becomes after a step: h, or after a spike v_reset (hard
 * reset) or h - v_th (soft). The reset kind is read once into this struct:
 * read through the neuron inside a loop, the compiler must reload it after
 * every store and leaves the loop scalar. */
typedef struct reset {
    int hard;
    float v_reset, v_th;
} reset;

static reset reset_of(const neuron *n)
{
    const reset r = {n->reset_mode == SGAD_RESET_HARD, n->v_reset, n->v_th};
    return r;
}

static inline float after_spike(reset r, float h, int fired)
{
    const float spiked = r.hard ? r.v_reset : h - r.v_th;
    return fired ? spiked : h;
}

/* A batch norm's output computed from its input (input_norm): element j
 * of step t is x * scale[t*C + c] + shift[t*C + c], channel c = j / S % C,
 * the batch norm's own expression (its affine op). */
typedef struct norm_map {
    const float *scale, *shift;
    int64_t C, S;
} norm_map;

/* Where a forward reads and writes: step t of the input at x + t * x_step
 * (x_step 0: one step shared by all), the batch norm's input with a map;
 * element j of step t's output at y + t * y_step + j - y_base. */
typedef struct fwd_io {
    const float *x;
    int64_t x_step;
    float *y;
    int64_t y_step, y_base;
    const norm_map *map;
} fwd_io;

/* One step of elements [j0, j1): charge with xt, fire into yt, reset;
 * returns the number of spikes. */
static SGAD__ALWAYS_INLINE int32_t fire_step(const neuron *n, int64_t j0, int64_t j1,
                                             const float *restrict xt, float *restrict v,
                                             float *restrict yt)
{
    const charge q = charge_of(n);
    const reset r = reset_of(n);
    const float vth = n->v_th;
    int32_t fired = 0; /* at most one block per step: no overflow */
    for (int64_t j = j0; j < j1; j++) {
        const float h = q.a * v[j] + q.b * xt[j] + q.c;
        const int fire = h > vth;
        fired += fire;
        v[j] = after_spike(r, h, fire);
        yt[j] = fire ? 1.0f : 0.0f;
    }
    return fired;
}

/* Elements a mapped forward takes at a time (and a backward block). */
#define BLOCK 256

/* out[j] = the neuron's input at step t for elements j0 + j, j < len, from
 * the batch norm's input xt (at element j0). Taken in runs that share one
 * channel (S > 1) or have consecutive channels (S = 1), so that the loops
 * vectorise; the same expression as the batch norm, so the same bits. */
SGAD__AVX2_CLONE
static void map_inputs(const norm_map *m, int64_t t, int64_t j0, int64_t len,
                       const float *restrict xt, float *restrict out)
{
    const float *sc = m->scale + t * m->C, *sh = m->shift + t * m->C;
    for (int64_t j = 0; j < len;) {
        const int64_t e = j0 + j, c = e / m->S % m->C;
        if (m->S > 1) {
            const int64_t run = m->S - e % m->S < len - j ? m->S - e % m->S : len - j;
            const float a = sc[c], b = sh[c];
            for (int64_t i = j; i < j + run; i++)
                out[i] = xt[i] * a + b;
            j += run;
        } else {
            const int64_t run = m->C - c < len - j ? m->C - c : len - j;
            for (int64_t i = 0; i < run; i++)
                out[j + i] = xt[j + i] * sc[c + i] + sh[c + i];
            j += run;
        }
    }
}

/* As spiking_forward_range with a map: BLOCK elements at a time, their
 * inputs mapped into a small buffer step by step. */
SGAD__AVX2_CLONE
static int64_t mapped_forward_range(const neuron *n, int64_t T, const fwd_io *io, int64_t j0,
                                    int64_t j1, float *restrict v)
{
    int64_t spikes = 0;
    for (int64_t b0 = j0; b0 < j1; b0 += BLOCK) {
        const int64_t b1 = b0 + BLOCK < j1 ? b0 + BLOCK : j1;
        float xb[BLOCK];
        for (int64_t t = 0; t < T; t++) {
            map_inputs(io->map, t, b0, b1 - b0, io->x + t * io->x_step + b0, xb);
            spikes += fire_step(n, b0, b1, xb - b0, v, io->y + t * io->y_step - io->y_base);
        }
    }
    return spikes;
}

/* Forward of the elements [j0, j1) over all T steps, with their membranes
 * in v; returns the number of spikes. */
SGAD__AVX2_CLONE
static int64_t spiking_forward_range(const neuron *n, int64_t T, const fwd_io *io, int64_t j0,
                                     int64_t j1, float *restrict v)
{
    const float v0 = initial_v(n);
    for (int64_t j = j0; j < j1; j++)
        v[j] = v0;
    if (io->map)
        return mapped_forward_range(n, T, io, j0, j1, v);
    int64_t spikes = 0;
    for (int64_t t = 0; t < T; t++)
        spikes +=
            fire_step(n, j0, j1, io->x + t * io->x_step, v, io->y + t * io->y_step - io->y_base);
    return spikes;
}

/* Elements per forward block: a block's membranes (16 KiB) stay in L1 while
 * the T steps stream past. */
#define FWD_BLOCK 4096

/* The output pooled inside the neuron (pool_k = k): an average pool with a
 * k x k window and stride k over [T, N, C, H, W] with k dividing H and W,
 * so that a net need not hold the spikes, the largest tensor of a spiking
 * conv net, nor their gradient. Work goes by bands of k image rows, which
 * no window crosses. */
typedef struct pool_map {
    int64_t k, w; /* window and image width */
    int64_t step; /* pooled values per step */
    float inv;    /* 1 / k^2, as the pooling layer scales */
} pool_map;

static pool_map pool_map_of(const neuron *n, const sgad__shape *in)
{
    const int64_t k = n->pool_k, M = sgad__shape_numel(in) / in->dims[0];
    const pool_map p = {k, in->dims[4], M / (k * k), 1.0f / (float)(k * k)};
    return p;
}

/* A block's elements as stretches of image rows, for the pooled gradient:
 * stretch i is elements [at, at + n) of the block, columns [x, x + n) of
 * a row whose pooled values start at `pooled` within a step. Rows are
 * counted across planes (k divides H and W), so row r pools into pooled
 * row r / k. */
typedef struct row_stretch {
    int32_t at, n, x, pooled;
} row_stretch;

/* The stretches of elements [j0, j0 + len) into s (at most len / w + 2);
 * returns their number. */
static SGAD__ALWAYS_INLINE int64_t row_stretches(const pool_map *p, int64_t j0, int64_t len,
                                                 row_stretch *s)
{
    const int64_t ow = p->w / p->k;
    int64_t row = j0 / p->w, x = j0 % p->w, count = 0;
    for (int64_t at = 0; at < len; row++, x = 0) {
        const int64_t n = p->w - x < len - at ? p->w - x : len - at;
        s[count++] = (row_stretch){(int32_t)at, (int32_t)n, (int32_t)x, (int32_t)(row / p->k * ow)};
        at += n;
    }
    return count;
}

/* out[i] = pooled[(x + i) / k] * inv for i < n: each pooled value
 * repeated k times. 2x2 windows go in pairs, which vectorise, where an
 * indexed load per element does not [bench:pooled-expand]. */
static SGAD__ALWAYS_INLINE void expand_row(const float *restrict pooled, int64_t k, int64_t x,
                                           int64_t n, float inv, float *restrict out)
{
    int64_t i = 0;
    if (k == 2 && x % 2 == 0) {
        const float *q = pooled + x / 2;
        const int64_t pairs = n / 2;
        for (int64_t m = 0; m < pairs; m++) {
            const float v = q[m] * inv;
            out[2 * m] = v;
            out[2 * m + 1] = v;
        }
        i = 2 * pairs;
    }
    for (int64_t qi = (x + i) / k, r = (x + i) % k; i < n; i++) {
        out[i] = pooled[qi] * inv;
        if (++r == k) {
            r = 0;
            qi++;
        }
    }
}

/* out[j] = the pooled gradient (step `src`) of the block's element j,
 * times 1/k^2 as the pooling layer scales. */
static SGAD__ALWAYS_INLINE void expand_pooled(const pool_map *p, const row_stretch *s,
                                              int64_t count, const float *src, float *out)
{
    for (int64_t i = 0; i < count; i++)
        expand_row(src + s[i].pooled, p->k, s[i].x, s[i].n, p->inv, out + s[i].at);
}

/* Window sums of bands [u0, u1) from their spikes s ([T][len], len the
 * bands' elements), in the pooling layer's order. */
static void pool_bands(const pool_map *p, int64_t T, int64_t u0, int64_t u1, const float *s,
                       float *y)
{
    const int64_t ow = p->w / p->k, len = (u1 - u0) * p->k * p->w;
    for (int64_t t = 0; t < T; t++)
        sgad__avgpool_bands(p->k, p->w, ow, u1 - u0, s + t * len, y + t * p->step + u0 * ow);
}

SGAD__AVX2_CLONE
static sgad_status pooled_forward(const neuron *n, const sgad__shape *in, const float *x,
                                  const norm_map *map, float *v, float *y, int64_t *spikes_out)
{
    const pool_map p = pool_map_of(n, in);
    const int64_t T = in->dims[0], M = sgad__shape_numel(in) / T, band = p.k * p.w;
    const int64_t per = band < FWD_BLOCK ? FWD_BLOCK / band : 1, bands = M / band;
    const int64_t tasks = (bands + per - 1) / per;
    const int threads = sgad__par_threads(n->base.ctx, T * M);
    float *s = sgad__scratch(n->base.ctx, SGAD__SCRATCH_NEURON_BLOCKS,
                             (size_t)(threads * T * per * band) * sizeof *s);
    if (!s)
        return SGAD_E_NOMEM;
    int64_t spikes = 0;
#pragma omp parallel for num_threads(threads) schedule(static) reduction(+ : spikes)
    for (int64_t b = 0; b < tasks; b++) {
        const int64_t u0 = b * per, u1 = u0 + per < bands ? u0 + per : bands;
        float *mine = s + (int64_t)sgad__thread_index() * T * per * band;
        const fwd_io io = {x, n->shared_input ? 0 : M, mine, (u1 - u0) * band, u0 * band, map};
        spikes += spiking_forward_range(n, T, &io, u0 * band, u1 * band, v);
        pool_bands(&p, T, u0, u1, mine, y);
    }
    *spikes_out = spikes;
    return SGAD_OK;
}

/* Floats of the input_norm's factors for input shape [T, N, C, ...]. */
static int64_t norm_table_len(const sgad__shape *in)
{
    return 2 * in->dims[0] * (in->ndim > 2 ? in->dims[2] : 1);
}

/* The input_norm's factors for input shape [T, N, C, ...], written into
 * tab (norm_table_len floats). */
static sgad_status norm_map_of(const neuron *n, const sgad__shape *in, float *tab, norm_map *map)
{
    sgad_ctx *ctx = n->base.ctx;
    const int64_t T = in->dims[0], C = in->ndim > 2 ? in->dims[2] : 0;
    SGAD__CHECK(ctx, C > 0 && sgad__layer_affine(n->input_norm, T, C, tab, tab + T * C),
                SGAD_E_STATE,
                "%s: the batch norm before it has not run forward on this "
                "input, so its output cannot be computed",
                sgad_layer_kind_name(n->base.ops->kind));
    map->scale = tab;
    map->shift = tab + T * C;
    map->C = C;
    map->S = 1;
    for (int i = 3; i < in->ndim; i++)
        map->S *= in->dims[i];
    return SGAD_OK;
}

SGAD__AVX2_CLONE
static sgad_status neuron_forward(sgad_layer *l, const sgad__shape *in, const float *x, float *y)
{
    const neuron *n = (const neuron *)l;
    const int64_t T = in->dims[0], M = sgad__shape_numel(in) / T;
    /* membranes, then with an input_norm its factors */
    const int64_t tab = n->input_norm ? norm_table_len(in) : 0;
    float *v = sgad__scratch(l->ctx, SGAD__SCRATCH_NEURON_STATE, (size_t)(M + tab) * sizeof *v);
    if (!v)
        return SGAD_E_NOMEM;
    norm_map map_store, *map = NULL;
    if (n->input_norm) {
        map = &map_store;
        SGAD__TRY(norm_map_of(n, in, v + M, map));
    }
    if (!l->ops->spiking) { /* MP: the membrane potential is the output */
        const charge q = charge_of(n);
        for (int64_t j = 0; j < M; j++)
            v[j] = 0.0f;
        for (int64_t t = 0; t < T; t++)
            for (int64_t j = 0; j < M; j++)
                y[t * M + j] = v[j] = q.a * v[j] + q.b * x[t * M + j];
        return SGAD_OK;
    }
    const int64_t blocks = (M + FWD_BLOCK - 1) / FWD_BLOCK;
    int64_t spikes = 0;
    if (n->pool_k) {
        SGAD__CHECK(l->ctx,
                    in->ndim == 5 && in->dims[3] % n->pool_k == 0 && in->dims[4] % n->pool_k == 0,
                    SGAD_E_SHAPE,
                    "%s: pooling inside the neuron needs [T, N, C, H, W] with "
                    "H and W multiples of %lld",
                    sgad_layer_kind_name(l->ops->kind), (long long)n->pool_k);
        SGAD__TRY(pooled_forward(n, in, x, map, v, y, &spikes));
    } else {
        const fwd_io io = {x, n->shared_input ? 0 : M, y, M, 0, map};
#pragma omp parallel for num_threads(sgad__par_threads(l->ctx, T * M)) schedule(static) \
    reduction(+ : spikes)
        for (int64_t b = 0; b < blocks; b++) {
            const int64_t j0 = b * FWD_BLOCK, j1 = j0 + FWD_BLOCK < M ? j0 + FWD_BLOCK : M;
            spikes += spiking_forward_range(n, T, &io, j0, j1, v);
        }
    }
    l->has_rate = 1;
    l->firing_rate = (double)spikes / (double)(T * M);
    return SGAD_OK;
}

SGAD__AVX2_CLONE
static sgad_status mp_backward(const neuron *n, int64_t T, int64_t M, const float *dy, float *dx)
{
    const charge q = charge_of(n);
    float *g = sgad__scratch(n->base.ctx, SGAD__SCRATCH_NEURON_STATE, (size_t)M * sizeof *g);
    if (!g)
        return SGAD_E_NOMEM;
    memset(g, 0, (size_t)M * sizeof *g);
    for (int64_t t = T - 1; t >= 0; t--)
        for (int64_t j = 0; j < M; j++) {
            g[j] = dy[t * M + j] + q.a * g[j];
            dx[t * M + j] = q.b * g[j];
        }
    return SGAD_OK;
}

/* BPTT over elements [j0, j0 + len) with h as T x BLOCK scratch. Callers
 * pass the surrogate kind as a constant, so each kind gets its own loop.
 * With a shared input (one step read at every step), x has one step and
 * dx gets the gradient summed over the steps. With a map, x is a batch
 * norm's input and the neuron's input is recomputed from it. */
static SGAD__ALWAYS_INLINE void spiking_block_backward(const neuron *n, int surrogate, int64_t T,
                                                       int64_t M, int64_t j0, int64_t len,
                                                       const norm_map *map, const pool_map *pool,
                                                       const float *x, const float *dy, float *dx,
                                                       float *h)
{
    const charge q = charge_of(n);
    const reset r = reset_of(n);
    const float vth = n->v_th, v_reset = n->v_reset, alpha = n->alpha;
    const int64_t x_step = n->shared_input ? 0 : M;
    float v[BLOCK], gv[BLOCK];
    float mapped[BLOCK]; /* the step's inputs (map) or output gradients (pool) */
    row_stretch rows[BLOCK + 2];
    int64_t nrows = 0;
    for (int64_t j = 0; j < len; j++) {
        v[j] = initial_v(n);
        gv[j] = 0.0f;
        if (n->shared_input)
            dx[j0 + j] = 0.0f;
    }
    if (pool)
        nrows = row_stretches(pool, j0, len, rows);
    for (int64_t t = 0; t < T; t++) {
        const float *xt = x + t * x_step + j0;
        if (map) {
            map_inputs(map, t, j0, len, xt, mapped);
            xt = mapped;
        }
        for (int64_t j = 0; j < len; j++) {
            const float ht = q.a * v[j] + q.b * xt[j] + q.c;
            h[t * BLOCK + j] = ht;
            v[j] = after_spike(r, ht, ht > vth);
        }
    }
    const int hard = n->reset_mode == SGAD_RESET_HARD, attached = !n->detach_reset;
    for (int64_t t = T - 1; t >= 0; t--) {
        const float *dyt = dy + t * M + j0;
        if (pool) { /* each element's window's gradient */
            expand_pooled(pool, rows, nrows, dy + t * pool->step, mapped);
            dyt = mapped;
        }
        for (int64_t j = 0; j < len; j++) {
            const float ht = h[t * BLOCK + j], s = ht > vth ? 1.0f : 0.0f;
            /* dV_t/dH_t with S held fixed, and dV_t/dS_t for attached resets. */
            const float dv_dh = hard ? 1.0f - s : 1.0f;
            const float dv_ds = hard ? v_reset - ht : -vth;
            float ds = dyt[j];
            if (attached)
                ds += gv[j] * dv_ds;
            const float dh = gv[j] * dv_dh + ds * sgad__surrogate(surrogate, alpha, ht - vth);
            if (n->shared_input)
                dx[j0 + j] += dh * q.b;
            else
                dx[t * M + j0 + j] = dh * q.b;
            gv[j] = dh * q.a;
        }
    }
}

SGAD__AVX2_CLONE
static void spiking_backward_block(const neuron *n, int64_t T, int64_t M, int64_t j0, int64_t len,
                                   const norm_map *map, const pool_map *pool, const float *x,
                                   const float *dy, float *dx, float *h)
{
    switch (n->surrogate) {
    case SGAD_SURROGATE_SIGMOID:
        spiking_block_backward(n, SGAD_SURROGATE_SIGMOID, T, M, j0, len, map, pool, x, dy, dx, h);
        break;
    case SGAD_SURROGATE_TRIANGLE:
        spiking_block_backward(n, SGAD_SURROGATE_TRIANGLE, T, M, j0, len, map, pool, x, dy, dx, h);
        break;
    default:
        spiking_block_backward(n, SGAD_SURROGATE_ATAN, T, M, j0, len, map, pool, x, dy, dx, h);
        break;
    }
}

static sgad_status neuron_backward(sgad_layer *l, const sgad__shape *in, const float *x,
                                   const float *y, const float *dy, float *dx)
{
    (void)y;
    const neuron *n = (const neuron *)l;
    if (!dx)
        return SGAD_OK; /* neurons have no parameters */
    const int64_t T = in->dims[0], M = sgad__shape_numel(in) / T;
    if (!l->ops->spiking)
        return mp_backward(n, T, M, dy, dx);
    norm_map map_store, *map = NULL;
    if (n->input_norm) { /* the table in the state slot, free during a spiking backward */
        float *tab = sgad__scratch(l->ctx, SGAD__SCRATCH_NEURON_STATE,
                                   (size_t)norm_table_len(in) * sizeof *tab);
        if (!tab)
            return SGAD_E_NOMEM;
        map = &map_store;
        SGAD__TRY(norm_map_of(n, in, tab, map));
    }
    const pool_map pool_store = n->pool_k ? pool_map_of(n, in) : (pool_map){0, 0, 0, 0.0f};
    const pool_map *pool = n->pool_k ? &pool_store : NULL;
    const int threads = sgad__par_threads(l->ctx, T * M);
    float *h = sgad__scratch(l->ctx, SGAD__SCRATCH_NEURON_BLOCKS,
                             (size_t)(threads * T * BLOCK) * sizeof *h);
    if (!h)
        return SGAD_E_NOMEM;
    const int64_t blocks = (M + BLOCK - 1) / BLOCK;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t b = 0; b < blocks; b++) {
        const int64_t j0 = b * BLOCK, len = M - j0 < BLOCK ? M - j0 : BLOCK;
        spiking_backward_block(n, T, M, j0, len, map, pool, x, dy, dx,
                               h + (int64_t)sgad__thread_index() * T * BLOCK);
    }
    return SGAD_OK;
}

/* Which options a kind accepts. */
static int accepts(const sgad_layer *l, sgad_option option)
{
    if (l->ops->kind == SGAD_LAYER_MP)
        return option == SGAD_OPT_NEURON_TAU;
    if (l->ops->kind == SGAD_LAYER_IF &&
        (option == SGAD_OPT_NEURON_TAU || option == SGAD_OPT_NEURON_DECAY_INPUT))
        return 0;
    return option >= SGAD_OPT_NEURON_TAU && option <= SGAD_OPT_NEURON_ALPHA;
}

static void set_shared_input(sgad_layer *l, int on)
{
    ((neuron *)l)->shared_input = on;
}

static void set_output_pool(sgad_layer *l, int64_t k)
{
    ((neuron *)l)->pool_k = k;
}

static void set_input_norm(sgad_layer *l, const sgad_layer *norm)
{
    ((neuron *)l)->input_norm = norm;
}

static sgad_status neuron_set(sgad_layer *l, sgad_option option, double value)
{
    neuron *n = (neuron *)l;
    SGAD__CHECK(l->ctx, accepts(l, option), SGAD_E_UNSUPPORTED,
                "sgad_layer_set: a %s neuron has no option %d", sgad_layer_kind_name(l->ops->kind),
                (int)option);
    switch (option) {
    case SGAD_OPT_NEURON_TAU: n->tau = (float)value; break;
    case SGAD_OPT_NEURON_THRESHOLD: n->v_th = (float)value; break;
    case SGAD_OPT_NEURON_V_RESET: n->v_reset = (float)value; break;
    case SGAD_OPT_NEURON_RESET_MODE: n->reset_mode = (int)value; break;
    case SGAD_OPT_NEURON_DETACH_RESET: n->detach_reset = (int)value; break;
    case SGAD_OPT_NEURON_DECAY_INPUT: n->decay_input = (int)value; break;
    case SGAD_OPT_NEURON_SURROGATE: n->surrogate = (int)value; break;
    default: n->alpha = (float)value; break;
    }
    return SGAD_OK;
}

static sgad_status neuron_get(const sgad_layer *l, sgad_option option, double *value)
{
    const neuron *n = (const neuron *)l;
    SGAD__CHECK(l->ctx, accepts(l, option), SGAD_E_UNSUPPORTED,
                "sgad_layer_get: a %s neuron has no option %d", sgad_layer_kind_name(l->ops->kind),
                (int)option);
    switch (option) {
    case SGAD_OPT_NEURON_TAU: *value = n->tau; break;
    case SGAD_OPT_NEURON_THRESHOLD: *value = n->v_th; break;
    case SGAD_OPT_NEURON_V_RESET: *value = n->v_reset; break;
    case SGAD_OPT_NEURON_RESET_MODE: *value = n->reset_mode; break;
    case SGAD_OPT_NEURON_DETACH_RESET: *value = n->detach_reset; break;
    case SGAD_OPT_NEURON_DECAY_INPUT: *value = n->decay_input; break;
    case SGAD_OPT_NEURON_SURROGATE: *value = n->surrogate; break;
    default: *value = n->alpha; break;
    }
    return SGAD_OK;
}

/* LIF and IF spike, and take the settings a net fuses them with; MP emits
 * its membrane potential. */
#define SPIKING_OPS(layer_kind)                                                                    \
    {                                                                                              \
        .kind = (layer_kind), .out_shape = same_shape, .forward = neuron_forward,                  \
        .backward = neuron_backward, .set = neuron_set, .get = neuron_get,                         \
        .backward_skips = SGAD__SKIPS_Y, .spiking = 1, .set_shared_input = set_shared_input,       \
        .set_input_norm = set_input_norm, .set_output_pool = set_output_pool,                      \
    }
static const sgad__layer_ops lif_ops = SPIKING_OPS(SGAD_LAYER_LIF);
static const sgad__layer_ops if_ops = SPIKING_OPS(SGAD_LAYER_IF);
static const sgad__layer_ops mp_ops = {
    .kind = SGAD_LAYER_MP,
    .out_shape = same_shape,
    .forward = neuron_forward,
    .backward = neuron_backward,
    .set = neuron_set,
    .get = neuron_get,
    .backward_skips = SGAD__SKIPS_Y,
};

static sgad_status neuron_create(sgad_ctx *ctx, const char *fn, const sgad__layer_ops *ops,
                                 sgad_layer **out)
{
    if (!ctx)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(ctx, out != NULL, SGAD_E_INVALID_ARG, "%s: out is NULL", fn);
    *out = NULL;
    SGAD__TRY(sgad__layer_alloc(ctx, ops, sizeof(neuron), out));
    neuron *n = (neuron *)*out;
    n->tau = 2.0f;
    n->v_th = 1.0f;
    n->v_reset = 0.0f;
    n->alpha = 2.0f;
    n->reset_mode = SGAD_RESET_HARD;
    n->detach_reset = 1;
    n->decay_input = 1;
    n->surrogate = SGAD_SURROGATE_ATAN;
    return SGAD_OK;
}

sgad_status sgad_lif_create(sgad_ctx *ctx, sgad_layer **out)
{
    return neuron_create(ctx, "sgad_lif_create", &lif_ops, out);
}

sgad_status sgad_if_create(sgad_ctx *ctx, sgad_layer **out)
{
    return neuron_create(ctx, "sgad_if_create", &if_ops, out);
}

sgad_status sgad_mp_create(sgad_ctx *ctx, sgad_layer **out)
{
    return neuron_create(ctx, "sgad_mp_create", &mp_ops, out);
}
