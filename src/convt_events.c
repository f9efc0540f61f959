/* Event-driven transposed convolution (convt_events.h).
 *
 * Both passes work channel-last: the weights are laid out [in][k][k][out]
 * and each output pixel's channels are contiguous, so one spike costs k*k
 * contiguous multiply-adds of `out` values. Work is split by sample in the
 * forward pass and by input channel in the weight gradient, so each output
 * value belongs to one thread and is summed in a fixed order. Both keep
 * their running sums near the core: the forward pass takes the output
 * channels a tile at a time, the weight gradient sums each (tap, panel)
 * over a chunk's spikes in registers. */
#include <string.h>

#include "convt_events.h"
#include "events.h"
#include "parallel.h"
#include "simd.h"

static void axpy(int64_t n, float a, const float *restrict src, float *restrict dst)
{
    for (int64_t j = 0; j < n; j++)
        dst[j] += a * src[j];
}

/* w [in][out][k*k] -> wl [in][k*k][out] */
static void weights_to_taps(int64_t in_ch, int64_t out_ch, int64_t kk, const float *w,
                            float *wl)
{
    for (int64_t i = 0; i < in_ch; i++)
        for (int64_t o = 0; o < out_ch; o++)
            for (int64_t t = 0; t < kk; t++)
                wl[(i * kk + t) * out_ch + o] = w[(i * out_ch + o) * kk + t];
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

/* One nonzero input of a sample: channel, position and value. */
typedef struct event {
    int32_t c, py, px;
    float v;
} event;

/* Lists one sample's nonzero inputs x [in][OH][OW] in memory order, which
 * is the order their products are summed in; pos is room for in*OH*OW
 * positions. */
static int64_t list_events(const sgad__conv_geom *g, int64_t in_ch, const float *x,
                           int32_t *pos, event *ev)
{
    const int64_t P = g->oh * g->ow;
    const int64_t n = sgad__nonzero_positions(x, in_ch * P, pos);
    for (int64_t e = 0; e < n; e++) {
        const int32_t c = (int32_t)(pos[e] / P), at = (int32_t)(pos[e] % P);
        ev[e] = (event){c, at / (int32_t)g->ow, at % (int32_t)g->ow, x[pos[e]]};
    }
    return n;
}

/* The kernel taps [*first, *end) along one axis that an input at `pos`
 * sends inside an output of `size`: the bounds checks leave the inner
 * loops. */
static int64_t tap_range(const sgad__conv_geom *g, int64_t pos, int64_t size, int64_t *first,
                         int64_t *end)
{
    const int64_t origin = pos * g->s - g->p; /* where tap 0 lands */
    *first = origin < 0 ? -origin : 0;
    *end = size - origin < g->k ? size - origin : g->k;
    return origin;
}

/* Output channels per pass of the forward: the accumulators of a 14x14
 * image (ConvT1's) then take 25 KiB and stay in L1, where all 64 took 50
 * KiB and every tap's add went through L2. */
#define OUT_TILE 32

/* acc[0..OUT_TILE) += v * w[0..OUT_TILE): a whole tile unrolled, the
 * common case of a layer with OUT_TILE outputs or more. */
static void add_tile(float v, const float *restrict w, float *restrict acc)
{
    for (int k = 0; k < OUT_TILE; k += 4)
        sgad__store4(acc + k, sgad__load4(acc + k) + v * sgad__load4(w + k));
}

/* Adds v times each tap's weight row (n values, rows ld_w apart, ld_w * k
 * per kernel row) into the accumulator row (n values, rows n apart) of the
 * output pixel the tap lands on. */
static void add_event(const sgad__conv_geom *g, const event *e, const float *w, int64_t ld_w,
                      float *acc, int64_t n)
{
    int64_t i0, i1, j0, j1;
    const int64_t oy = tap_range(g, e->py, g->h, &i0, &i1);
    const int64_t ox = tap_range(g, e->px, g->w, &j0, &j1);
    for (int64_t ki = i0; ki < i1; ki++) {
        const float *wr = w + ki * g->k * ld_w;
        float *ar = acc + ((oy + ki) * g->w + ox) * n;
        for (int64_t kj = j0; kj < j1; kj++) {
            if (n == OUT_TILE)
                add_tile(e->v, wr + kj * ld_w, ar + kj * n);
            else
                axpy(n, e->v, wr + kj * ld_w, ar + kj * n);
        }
    }
}

/* A thread's memory for the forward pass: output accumulators [H*W][tile]
 * and room for one sample's events and their positions. */
typedef struct workspace {
    float *acc;
    event *ev;
    int32_t *pos;
} workspace;

/* One sample: its nonzero inputs listed once, then the accumulators summed
 * from them for each tile of output channels, and y [out][H*W] + bias
 * written from them. */
static void forward_sample(const sgad__conv_geom *g, int64_t in_ch, const float *x,
                           const float *wl, const float *bias, const workspace *ws, float *y)
{
    const int64_t out = g->c, hw = g->h * g->w, kk = g->k * g->k;
    const int64_t count = list_events(g, in_ch, x, ws->pos, ws->ev);
    float *acc = ws->acc;
    for (int64_t o0 = 0; o0 < out; o0 += OUT_TILE) {
        const int64_t n = out - o0 < OUT_TILE ? out - o0 : OUT_TILE;
        memset(acc, 0, (size_t)(hw * n) * sizeof *acc);
        for (int64_t e = 0; e < count; e++)
            add_event(g, &ws->ev[e], wl + ws->ev[e].c * kk * out + o0, out, acc, n);
        for (int64_t o = 0; o < n; o++)
            for (int64_t pix = 0; pix < hw; pix++)
                y[(o0 + o) * hw + pix] = acc[pix * n + o] + (bias ? bias[o0 + o] : 0.0f);
    }
}

/* Bytes of one thread's workspace for acc_len accumulators and a sample
 * of `inputs` input values. */
static int64_t workspace_bytes(int64_t acc_len, int64_t inputs)
{
    return acc_len * (int64_t)sizeof(float) + inputs * (int64_t)(sizeof(event) + sizeof(int32_t));
}

/* Thread t's workspace in memory laid out thread by thread (acc, then ev,
 * then pos: every part stays 4-byte aligned). */
static workspace workspace_of(char *mem, int t, int64_t acc_len, int64_t inputs)
{
    char *own = mem + t * workspace_bytes(acc_len, inputs);
    workspace ws;
    ws.acc = (float *)own;
    ws.ev = (event *)(own + acc_len * (int64_t)sizeof(float));
    ws.pos = (int32_t *)(ws.ev + inputs);
    return ws;
}

sgad_status sgad__convt_events_forward(sgad_ctx *ctx, const sgad__conv_geom *g, int64_t batch,
                                       int64_t in_ch, const float *x, const float *w,
                                       const float *bias, float *y)
{
    const int64_t out = g->c, hw = g->h * g->w, kk = g->k * g->k, P = g->oh * g->ow;
    const int threads = sgad__par_threads(ctx, batch * out * hw);
    const int64_t per_thread = workspace_bytes(hw * out, in_ch * P);
    float *wl = sgad__scratch(ctx, 4, (size_t)(in_ch * kk * out) * sizeof *wl);
    char *mem = wl ? sgad__scratch(ctx, 5, (size_t)(threads * per_thread)) : NULL;
    if (!mem)
        return SGAD_E_NOMEM;
    weights_to_taps(in_ch, out, kk, w, wl);
    /* Samples in chunks of 4 handed out as threads finish: their spike
     * counts differ (a batch is step by step, and the first steps fire
     * least), so equal halves left one thread waiting. */
#pragma omp parallel for num_threads(threads) schedule(dynamic, 4)
    for (int64_t b = 0; b < batch; b++) {
        const workspace ws = workspace_of(mem, sgad__thread_index(), hw * out, in_ch * P);
        forward_sample(g, in_ch, x + b * in_ch * P, wl, bias, &ws, y + b * out * hw);
    }
    return SGAD_OK;
}

/* One spike of an input channel in a chunk: where its sample's output
 * gradient rows start in dyl, its position and value. */
typedef struct spike {
    int64_t rows;
    int32_t py, px;
    float v;
} spike;

/* Bytes of output gradient per weight-gradient chunk (ConvT1: 20
 * samples). Measured with ConvT1 at a 6% rate, 1 thread: 8 MiB chunks
 * 190 ms, 1 MiB 115-130 ms, 128 KiB 173 ms (too few spikes per register
 * sum). */
#define DYL_BYTES ((int64_t)1024 << 10)

/* Output channels per register panel of the weight gradient. */
#define PANEL 32
#define PANEL_VECS (PANEL / 4)

/* Adds channel c's gradient rows gl[c][tap][0..out) over one chunk. Each
 * (tap, panel) is summed over the channel's spikes in registers and added
 * to gl once: adding every spike's rows into gl directly made each add wait
 * for the previous spike's store to the same row, which took most of the
 * pass. dyl rows are ld floats (out rounded up to whole panels, zero
 * padded). */
static void weight_grad_channel(const sgad__conv_geom *g, const float *dyl, int64_t ld,
                                int64_t nspikes, const spike *sp, float *gl)
{
    const int64_t out = g->c;
    for (int64_t ki = 0; ki < g->k; ki++)
        for (int64_t kj = 0; kj < g->k; kj++)
            for (int64_t o0 = 0; o0 < out; o0 += PANEL) {
                sgad__v4 acc[PANEL_VECS] = {{0}};
                for (int64_t e = 0; e < nspikes; e++) {
                    const int64_t oy = sp[e].py * g->s - g->p + ki;
                    const int64_t ox = sp[e].px * g->s - g->p + kj;
                    if (oy < 0 || oy >= g->h || ox < 0 || ox >= g->w)
                        continue;
                    const float *row = dyl + sp[e].rows + (oy * g->w + ox) * ld + o0;
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

/* Lists channel c's spikes in a chunk of `batch` samples, sample by sample
 * in raster order. */
static int64_t list_spikes(const sgad__conv_geom *g, int64_t in_ch, int64_t c, int64_t batch,
                           const float *x, int64_t ld, spike *sp)
{
    const int64_t P = g->oh * g->ow, hw = g->h * g->w;
    int64_t n = 0;
    for (int64_t b = 0; b < batch; b++)
        for (int64_t py = 0; py < g->oh; py++)
            for (int64_t px = 0; px < g->ow; px++) {
                const float v = x[(b * in_ch + c) * P + py * g->ow + px];
                if (v != 0.0f)
                    sp[n++] = (spike){b * hw * ld, (int32_t)py, (int32_t)px, v};
            }
    return n;
}

sgad_status sgad__convt_events_weight_grad(sgad_ctx *ctx, const sgad__conv_geom *g,
                                           int64_t batch, int64_t in_ch, const float *x,
                                           const float *dy, float *dw)
{
    const int64_t out = g->c, hw = g->h * g->w, kk = g->k * g->k, P = g->oh * g->ow;
    const int64_t ld = (out + PANEL - 1) / PANEL * PANEL;
    /* Samples per chunk: the chunk's dyl, read for every tap, panel and
     * spike in no useful order, stays near the core. */
    const int64_t per_sample = hw * ld * (int64_t)sizeof(float);
    int64_t chunk = per_sample < DYL_BYTES ? DYL_BYTES / per_sample : 1;
    if (chunk > batch)
        chunk = batch;
    const int threads = sgad__par_threads(ctx, chunk * out * hw);
    float *gl = sgad__scratch(ctx, 4, (size_t)(in_ch * kk * out) * sizeof *gl);
    float *dyl = gl ? sgad__scratch(ctx, 5, (size_t)(chunk * hw * ld) * sizeof *dyl) : NULL;
    spike *lists = dyl ? sgad__scratch(ctx, 0, (size_t)(threads * chunk * P) * sizeof *lists)
                       : NULL;
    if (!lists)
        return SGAD_E_NOMEM;
    memset(gl, 0, (size_t)(in_ch * kk * out) * sizeof *gl);
    for (int64_t b0 = 0; b0 < batch; b0 += chunk) {
        const int64_t nb = batch - b0 < chunk ? batch - b0 : chunk;
        sgad__planes_to_rows(ctx, nb, out, hw, ld, dy + b0 * out * hw, dyl);
#pragma omp parallel for num_threads(threads) schedule(static)
        for (int64_t c = 0; c < in_ch; c++) {
            spike *sp = lists + (int64_t)sgad__thread_index() * chunk * P;
            const int64_t n = list_spikes(g, in_ch, c, nb, x + b0 * in_ch * P, ld, sp);
            weight_grad_channel(g, dyl, ld, n, sp, gl + c * kk * out);
        }
    }
    add_taps_to_weights(in_ch, out, kk, gl, dw);
    return SGAD_OK;
}
