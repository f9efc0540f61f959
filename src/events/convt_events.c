/* SPDX-License-Identifier: MIT */
/* Event-driven transposed convolution (convt_events.h).
 *
 * The forward pass gathers: each output pixel sums, in registers and a
 * tile of output channels at a time, the weight rows of the spikes of the
 * input pixels that reach it, grouped by pixel beforehand (scattering each
 * spike's k*k rows into the output instead loaded and stored every running
 * sum once per spike). The weight gradient works channel-last on the
 * layout [in][k][k][out], one input channel per thread, each (tap, panel)
 * summed over a chunk's spikes in registers. Every output value belongs to
 * one thread and is summed in a fixed order, so results do not depend on
 * the thread count. */
#include <string.h>

#include "convt_events.h"
#include "core/parallel.h"
#include "kernels/divide.h"
#include "kernels/isa.h"
#include "kernels/simd.h"
#include "nonzeros.h"

/* w [in][out][k*k] -> wt [k*k][in][out], the forward's layout: the spikes
 * an output pixel gathers under one tap read rows `out` floats apart.
 * ([in][k*k][out] put them k*k*out apart, 4 KiB for ConvT1, so every row
 * fell into the same few L1 sets and the gather waited on L2.) */
static void weights_by_tap(int64_t in_ch, int64_t out_ch, int64_t kk, const float *w, float *wt)
{
    for (int64_t i = 0; i < in_ch; i++)
        for (int64_t o = 0; o < out_ch; o++)
            for (int64_t t = 0; t < kk; t++)
                wt[(t * in_ch + i) * out_ch + o] = w[(i * out_ch + o) * kk + t];
}

/* dw [in][out][k*k] += gl [in][k*k][out] */
static void add_taps_to_weights(int64_t in_ch, int64_t out_ch, int64_t kk, const float *gl,
                                float *dw)
{
    for (int64_t i = 0; i < in_ch; i++)
        for (int64_t o = 0; o < out_ch; o++)
            for (int64_t t = 0; t < kk; t++)
                dw[(i * out_ch + o) * kk + t] += gl[(i * kk + t) * out_ch + o];
}

/* One sample's nonzero inputs grouped by input pixel: pixel q's are
 * chan[first[q] .. first[q+1]) with their values, channels ascending. */
typedef struct pixel_spikes {
    int32_t *first; /* P + 1 */
    int32_t *chan;
    float *val;
    int binary; /* every value is 1 */
} pixel_spikes;

/* Groups the nonzeros of one sample x [in][P] by pixel: listed in memory
 * order (channel-major) into pos, then placed by a counting sort, which
 * keeps each pixel's channels ascending. A position splits into channel
 * and pixel by a multiply and shift (divide.h; in*P < 2^31, nonzeros.h). */
static void group_by_pixel(int64_t in_ch, int64_t P, const float *x, int32_t *pos, pixel_spikes *ps)
{
    const int64_t n = sgad__nonzero_positions(x, in_ch * P, pos);
    const sgad__divider by_pixels = sgad__divider_of((uint32_t)P);
    memset(ps->first, 0, (size_t)(P + 1) * sizeof *ps->first);
    for (int64_t e = 0; e < n; e++)
        ps->first[pos[e] - P * sgad__divide((uint32_t)pos[e], by_pixels) + 1]++;
    for (int64_t q = 0; q < P; q++)
        ps->first[q + 1] += ps->first[q];
    /* first[q] runs as pixel q's cursor and ends at first[q + 1]; one
     * shift afterwards restores it. */
    int binary = 1;
    for (int64_t e = 0; e < n; e++) {
        const int32_t c = (int32_t)sgad__divide((uint32_t)pos[e], by_pixels);
        const int32_t q = (int32_t)(pos[e] - c * P), at = ps->first[q]++;
        ps->chan[at] = c;
        ps->val[at] = x[pos[e]];
        binary &= x[pos[e]] == 1.0f;
    }
    ps->binary = binary;
    memmove(ps->first + 1, ps->first, (size_t)P * sizeof *ps->first);
    ps->first[0] = 0;
}

/* The input rows [lo, hi] along one axis that reach output row o, the
 * first one under tap `tap`: input i lands tap o + p - i*s of it. */
typedef struct reach {
    int64_t lo, hi, tap;
} reach;

static reach reach_of(int64_t o, int64_t k, int64_t s, int64_t p, int64_t n)
{
    const int64_t d = o + p; /* input i reaches o under tap d - i*s, in [0, k) */
    reach r = {d - (k - 1) > 0 ? (d - (k - 1) + s - 1) / s : 0, d / s, 0};
    if (r.hi > n - 1)
        r.hi = n - 1;
    r.tap = d - r.lo * s;
    return r;
}

/* Output channels per pass of the forward: a pixel's running sums of a
 * tile stay in vector registers over all the spikes that reach it. */
#define OUT_TILE 32
#define TILE_VECS (OUT_TILE / 4)

/* The sums of one output pixel over a whole tile: each spike of the input
 * pixels that reach it adds v times its tap's weight row (rows of the
 * layout [k*k][in][out]). Channels ascending within an input pixel, input
 * pixels in raster order: a fixed order, as the sums must have. */
static SGAD__ALWAYS_INLINE void pixel_tile(const sgad__conv_geom *g, const pixel_spikes *ps,
                                           reach ry, reach rx, const float *w, int64_t in_ch,
                                           int64_t out, float *sum)
{
    sgad__v4 acc[TILE_VECS] = {{0}};
    for (int64_t iy = ry.lo, ki = ry.tap; iy <= ry.hi; iy++, ki -= g->s)
        for (int64_t ix = rx.lo, kj = rx.tap; ix <= rx.hi; ix++, kj -= g->s) {
            const int64_t q = iy * g->ow + ix, tap = ki * g->k + kj;
            const float *base = w + tap * in_ch * out;
            if (ps->binary)
                for (int32_t e = ps->first[q]; e < ps->first[q + 1]; e++) {
                    const float *row = base + ps->chan[e] * out;
                    for (int j = 0; j < TILE_VECS; j++)
                        acc[j] += sgad__load4(row + 4 * j);
                }
            else
                for (int32_t e = ps->first[q]; e < ps->first[q + 1]; e++) {
                    const float *row = base + ps->chan[e] * out;
                    for (int j = 0; j < TILE_VECS; j++)
                        acc[j] += ps->val[e] * sgad__load4(row + 4 * j);
                }
        }
    for (int j = 0; j < TILE_VECS; j++)
        sgad__store4(sum + 4 * j, acc[j]);
}

/* The same for a last tile of n < OUT_TILE channels. */
static void pixel_part(const sgad__conv_geom *g, const pixel_spikes *ps, reach ry, reach rx,
                       const float *w, int64_t in_ch, int64_t out, int64_t n, float *sum)
{
    memset(sum, 0, (size_t)n * sizeof *sum);
    for (int64_t iy = ry.lo, ki = ry.tap; iy <= ry.hi; iy++, ki -= g->s)
        for (int64_t ix = rx.lo, kj = rx.tap; ix <= rx.hi; ix++, kj -= g->s) {
            const int64_t q = iy * g->ow + ix, tap = ki * g->k + kj;
            for (int32_t e = ps->first[q]; e < ps->first[q + 1]; e++) {
                const float *row = w + (tap * in_ch + ps->chan[e]) * out;
                for (int64_t o = 0; o < n; o++)
                    sum[o] += ps->val[e] * row[o];
            }
        }
}

/* A thread's memory for the forward pass: output sums [H*W][tile] and
 * room for one sample's spikes grouped by pixel. */
typedef struct workspace {
    float *acc;
    pixel_spikes ps;
    int32_t *pos;
} workspace;

/* One sample: its nonzero inputs grouped by pixel once, then for each tile
 * of output channels every output pixel summed in registers from the
 * spikes that reach it, and y [out][H*W] + bias written from the sums. */
static SGAD__ALWAYS_INLINE void forward_sample(const sgad__conv_geom *g, int64_t in_ch,
                                               const float *x, const float *wl, const float *bias,
                                               workspace *ws, float *y)
{
    const int64_t out = g->c, hw = g->h * g->w;
    group_by_pixel(in_ch, g->oh * g->ow, x, ws->pos, &ws->ps);
    float *acc = ws->acc;
    for (int64_t o0 = 0; o0 < out; o0 += OUT_TILE) {
        const int64_t n = out - o0 < OUT_TILE ? out - o0 : OUT_TILE;
        for (int64_t oy = 0; oy < g->h; oy++) {
            const reach ry = reach_of(oy, g->k, g->s, g->p, g->oh);
            for (int64_t ox = 0; ox < g->w; ox++) {
                const reach rx = reach_of(ox, g->k, g->s, g->p, g->ow);
                float *sum = acc + (oy * g->w + ox) * n;
                if (n == OUT_TILE)
                    pixel_tile(g, &ws->ps, ry, rx, wl + o0, in_ch, out, sum);
                else
                    pixel_part(g, &ws->ps, ry, rx, wl + o0, in_ch, out, n, sum);
            }
        }
        for (int64_t o = 0; o < n; o++)
            for (int64_t pix = 0; pix < hw; pix++)
                y[(o0 + o) * hw + pix] = acc[pix * n + o] + (bias ? bias[o0 + o] : 0.0f);
    }
}

/* Bytes of one thread's workspace for acc_len sums and a sample of P
 * pixels and `inputs` input values. */
static int64_t workspace_bytes(int64_t acc_len, int64_t P, int64_t inputs)
{
    return (acc_len + P + 1) * (int64_t)sizeof(float) +
           inputs * (int64_t)(2 * sizeof(int32_t) + sizeof(float));
}

/* Thread t's workspace in memory laid out thread by thread (acc, first,
 * chan, val, pos: 4-byte values throughout). */
static workspace workspace_of(char *mem, int t, int64_t acc_len, int64_t P, int64_t inputs)
{
    char *own = mem + t * workspace_bytes(acc_len, P, inputs);
    workspace ws;
    ws.acc = (float *)own;
    ws.ps.first = (int32_t *)(ws.acc + acc_len);
    ws.ps.chan = ws.ps.first + P + 1;
    ws.ps.val = (float *)(ws.ps.chan + inputs);
    ws.pos = (int32_t *)(ws.ps.val + inputs);
    return ws;
}

SGAD__AVX2_CLONE
sgad_status sgad__convt_events_forward(sgad_ctx *ctx, const sgad__conv_geom *g, int64_t batch,
                                       int64_t in_ch, const float *x, const float *w,
                                       const float *bias, float *y)
{
    const int64_t out = g->c, hw = g->h * g->w, kk = g->k * g->k, P = g->oh * g->ow;
    const int threads = sgad__par_threads(ctx, batch * out * hw);
    const int64_t acc_len = hw * (out < OUT_TILE ? out : OUT_TILE);
    const int64_t per_thread = workspace_bytes(acc_len, P, in_ch * P);
    float *wl =
        sgad__scratch(ctx, SGAD__SCRATCH_EVENT_WEIGHTS, (size_t)(in_ch * kk * out) * sizeof *wl);
    char *mem =
        wl ? sgad__scratch(ctx, SGAD__SCRATCH_EVENT_LISTS, (size_t)(threads * per_thread)) : NULL;
    if (!mem)
        return SGAD_E_NOMEM;
    weights_by_tap(in_ch, out, kk, w, wl);
    /* Samples in chunks of 4 handed out as threads finish: their spike
     * counts differ (a batch is step by step, and the first steps fire
     * least), so equal halves left one thread waiting. */
#pragma omp parallel for num_threads(threads) schedule(dynamic, 4)
    for (int64_t b = 0; b < batch; b++) {
        workspace ws = workspace_of(mem, sgad__thread_index(), acc_len, P, in_ch * P);
        forward_sample(g, in_ch, x + b * in_ch * P, wl, bias, &ws, y + b * out * hw);
    }
    return SGAD_OK;
}

/* One spike of an input channel in a chunk: where the rows under its
 * kernel start in dyl (padded_rows), and its value. */
typedef struct spike {
    int64_t rows;
    float v;
} spike;

/* Bytes of output gradient per weight-gradient chunk (ConvT1: 20
 * samples): large chunks leave the caches, small ones give too few spikes
 * per register sum; 1 MiB is the fastest size tried
 * [bench:convt-wgrad-chunk]. */
#define DYL_BYTES ((int64_t)1024 << 10)

/* Output channels per register panel of the weight gradient. */
#define PANEL 32
#define PANEL_VECS (PANEL / 4)

/* Rows of one padded image: the output framed by p rows and columns, where
 * the taps of the input's edge pixels fall (output size (n-1)s - 2p + k:
 * tap t of input i lands at i*s - p + t, within [-p, n_out + p)). */
static int64_t padded_width(const sgad__conv_geom *g)
{
    return g->w + 2 * g->p;
}

static int64_t padded_pixels(const sgad__conv_geom *g)
{
    return (g->h + 2 * g->p) * padded_width(g);
}

/* dy [B][out][H][W] -> dyl [B][padded pixels][ld]: each pixel's channels
 * as a row of ld floats (out rounded up to whole panels), zero rows in the
 * frame. Every tap of every spike then reads a row without a bounds check,
 * and a zero row adds nothing to a sum (the same bits). */
SGAD__AVX2_CLONE
static void padded_rows(const sgad_ctx *ctx, const sgad__conv_geom *g, int64_t batch, int64_t ld,
                        const float *dy, float *dyl)
{
    const int64_t out = g->c, hw = g->h * g->w, pw = padded_width(g);
    const int64_t image = padded_pixels(g) * ld;
#pragma omp parallel for num_threads(sgad__par_threads(ctx, batch *image)) schedule(static)
    for (int64_t b = 0; b < batch; b++) {
        float *dst = dyl + b * image;
        memset(dst, 0, (size_t)image * sizeof *dst);
        for (int64_t y = 0; y < g->h; y++)
            for (int64_t x = 0; x < g->w; x++) {
                float *restrict d = dst + ((y + g->p) * pw + x + g->p) * ld;
                const float *restrict s = dy + b * out * hw + y * g->w + x;
                for (int64_t o = 0; o < out; o++)
                    d[o] = s[o * hw];
            }
    }
}

/* Adds channel c's gradient rows gl[c][tap][0..out) over one chunk. Each
 * (tap, panel) is summed over the channel's spikes in registers and added
 * to gl once: adding every spike's rows into gl directly made each add wait
 * for the previous spike's store to the same row, which took most of the
 * pass. Binary spikes add their rows without the multiply (the same bits).
 * dyl rows are ld floats (out rounded up to whole panels, zero padded). */
SGAD__AVX2_CLONE
static void weight_grad_channel(const sgad__conv_geom *g, const float *dyl, int64_t ld,
                                int64_t nspikes, const spike *sp, int binary, float *gl)
{
    const int64_t out = g->c, pw = padded_width(g);
    for (int64_t ki = 0; ki < g->k; ki++)
        for (int64_t kj = 0; kj < g->k; kj++) {
            const float *tap = dyl + (ki * pw + kj) * ld;
            for (int64_t o0 = 0; o0 < out; o0 += PANEL) {
                sgad__v4 acc[PANEL_VECS] = {{0}};
                for (int64_t e = 0; e < nspikes; e++) {
                    const float *row = tap + sp[e].rows + o0;
                    if (binary)
                        for (int k = 0; k < PANEL_VECS; k++)
                            acc[k] += sgad__load4(row + 4 * k);
                    else
                        for (int k = 0; k < PANEL_VECS; k++)
                            acc[k] += sp[e].v * sgad__load4(row + 4 * k);
                }
                float sum[PANEL];
                for (int k = 0; k < PANEL_VECS; k++)
                    sgad__store4(sum + 4 * k, acc[k]);
                float *dst = gl + (ki * g->k + kj) * out + o0;
                for (int64_t o = 0; o < PANEL && o0 + o < out; o++)
                    dst[o] += sum[o];
            }
        }
}

/* Lists channel c's spikes in a chunk of `batch` samples, sample by sample
 * in raster order; *binary says whether every value is 1. */
static SGAD__ALWAYS_INLINE int64_t list_spikes(const sgad__conv_geom *g, int64_t in_ch, int64_t c,
                                               int64_t batch, const float *x, int64_t ld, spike *sp,
                                               int *binary)
{
    const int64_t P = g->oh * g->ow, pw = padded_width(g), image = padded_pixels(g) * ld;
    int64_t n = 0;
    int ones = 1;
    for (int64_t b = 0; b < batch; b++)
        for (int64_t py = 0; py < g->oh; py++)
            for (int64_t px = 0; px < g->ow; px++) {
                const float v = x[(b * in_ch + c) * P + py * g->ow + px];
                if (v != 0.0f) {
                    /* tap (0, 0) lands at (py s - p, px s - p), framed at +p */
                    sp[n++] = (spike){b * image + (py * g->s * pw + px * g->s) * ld, v};
                    ones &= v == 1.0f;
                }
            }
    *binary = ones;
    return n;
}

SGAD__AVX2_CLONE
sgad_status sgad__convt_events_weight_grad(sgad_ctx *ctx, const sgad__conv_geom *g, int64_t batch,
                                           int64_t in_ch, const float *x, const float *dy,
                                           float *dw)
{
    const int64_t out = g->c, kk = g->k * g->k, P = g->oh * g->ow;
    const int64_t ld = (out + PANEL - 1) / PANEL * PANEL, image = padded_pixels(g) * ld;
    /* Samples per chunk: the chunk's dyl, read for every tap, panel and
     * spike in no useful order, stays near the core. Counted on the rows
     * without their frame: a chunk is where each register sum is added to
     * gl, so its size sets the sums' association, which the frame (zero
     * rows only) must not change. */
    const int64_t per_sample = g->h * g->w * ld * (int64_t)sizeof(float);
    int64_t chunk = per_sample < DYL_BYTES ? DYL_BYTES / per_sample : 1;
    if (chunk > batch)
        chunk = batch;
    const int threads = sgad__par_threads(ctx, chunk * image);
    float *gl =
        sgad__scratch(ctx, SGAD__SCRATCH_EVENT_WEIGHTS, (size_t)(in_ch * kk * out) * sizeof *gl);
    float *dyl =
        gl ? sgad__scratch(ctx, SGAD__SCRATCH_EVENT_LISTS, (size_t)(chunk * image) * sizeof *dyl)
           : NULL;
    spike *lists = dyl ? sgad__scratch(ctx, SGAD__SCRATCH_CONV_COLUMNS,
                                       (size_t)(threads * chunk * P) * sizeof *lists)
                       : NULL;
    if (!lists)
        return SGAD_E_NOMEM;
    memset(gl, 0, (size_t)(in_ch * kk * out) * sizeof *gl);
    for (int64_t b0 = 0; b0 < batch; b0 += chunk) {
        const int64_t nb = batch - b0 < chunk ? batch - b0 : chunk;
        padded_rows(ctx, g, nb, ld, dy + b0 * out * g->h * g->w, dyl);
#pragma omp parallel for num_threads(threads) schedule(static)
        for (int64_t c = 0; c < in_ch; c++) {
            spike *sp = lists + (int64_t)sgad__thread_index() * chunk * P;
            int binary;
            const int64_t n = list_spikes(g, in_ch, c, nb, x + b0 * in_ch * P, ld, sp, &binary);
            weight_grad_channel(g, dyl, ld, n, sp, binary, gl + c * kk * out);
        }
    }
    add_taps_to_weights(in_ch, out, kk, gl, dw);
    return SGAD_OK;
}
