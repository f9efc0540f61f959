/* Event-driven transposed convolution (convt_events.h).
 *
 * Both passes work channel-last: the weights are laid out [in][k][k][out]
 * and each output pixel's channels are contiguous, so one spike costs k*k
 * contiguous multiply-adds of `out` values. Work is split by sample in the
 * forward pass and by input channel in the weight gradient, so each output
 * value belongs to one thread and is summed in a fixed order. */
#include <string.h>

#include "convt_events.h"
#include "parallel.h"

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

/* For each tap of the kernel that a spike of value v at input position
 * (py, px) sends into the output image, adds v times a row of src into a
 * row of dst. Rows are `out` values; with from_taps, src is indexed by tap
 * ([k*k][out]: weights) and dst by output pixel ([H*W][out]); without, the
 * other way round (gradients into the taps). */
static void spike_taps(const sgad__conv_geom *g, int64_t py, int64_t px, float v,
                       const float *src, float *dst, int from_taps)
{
    const int64_t out = g->c;
    for (int64_t ki = 0; ki < g->k; ki++) {
        const int64_t oy = py * g->s - g->p + ki;
        if (oy < 0 || oy >= g->h)
            continue;
        for (int64_t kj = 0; kj < g->k; kj++) {
            const int64_t ox = px * g->s - g->p + kj;
            if (ox < 0 || ox >= g->w)
                continue;
            const int64_t tap = (ki * g->k + kj) * out, pix = (oy * g->w + ox) * out;
            axpy(out, v, src + (from_taps ? tap : pix), dst + (from_taps ? pix : tap));
        }
    }
}

/* One sample: acc [H*W][out] from its spikes, then y [out][H*W] + bias. */
static void forward_sample(const sgad__conv_geom *g, int64_t in_ch, const float *x,
                           const float *wl, const float *bias, float *acc, float *y)
{
    const int64_t out = g->c, hw = g->h * g->w, kk = g->k * g->k;
    memset(acc, 0, (size_t)(hw * out) * sizeof *acc);
    for (int64_t c = 0; c < in_ch; c++)
        for (int64_t py = 0; py < g->oh; py++)
            for (int64_t px = 0; px < g->ow; px++) {
                const float v = x[(c * g->oh + py) * g->ow + px];
                if (v != 0.0f)
                    spike_taps(g, py, px, v, wl + c * kk * out, acc, 1);
            }
    for (int64_t o = 0; o < out; o++)
        for (int64_t pix = 0; pix < hw; pix++)
            y[o * hw + pix] = acc[pix * out + o] + (bias ? bias[o] : 0.0f);
}

sgad_status sgad__convt_events_forward(sgad_ctx *ctx, const sgad__conv_geom *g, int64_t batch,
                                       int64_t in_ch, const float *x, const float *w,
                                       const float *bias, float *y)
{
    const int64_t out = g->c, hw = g->h * g->w, kk = g->k * g->k, P = g->oh * g->ow;
    const int threads = sgad__par_threads(ctx, batch * out * hw);
    float *wl = sgad__scratch(ctx, 4, (size_t)(in_ch * kk * out) * sizeof *wl);
    float *acc = wl ? sgad__scratch(ctx, 5, (size_t)(threads * hw * out) * sizeof *acc) : NULL;
    if (!acc)
        return SGAD_E_NOMEM;
    weights_to_taps(in_ch, out, kk, w, wl);
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t b = 0; b < batch; b++)
        forward_sample(g, in_ch, x + b * in_ch * P, wl, bias,
                       acc + (int64_t)sgad__thread_index() * hw * out, y + b * out * hw);
    return SGAD_OK;
}

/* Gradient rows [c0, c1) of gl [in][k*k][out] from `batch` samples whose
 * output gradients are channel-last in dyl [B][H*W][out]. */
static void weight_grad_channels(const sgad__conv_geom *g, int64_t in_ch, int64_t c0,
                                 int64_t c1, int64_t batch, const float *x, const float *dyl,
                                 float *gl)
{
    const int64_t out = g->c, hw = g->h * g->w, kk = g->k * g->k, P = g->oh * g->ow;
    for (int64_t b = 0; b < batch; b++)
        for (int64_t c = c0; c < c1; c++)
            for (int64_t py = 0; py < g->oh; py++)
                for (int64_t px = 0; px < g->ow; px++) {
                    const float v = x[(b * in_ch + c) * P + py * g->ow + px];
                    if (v != 0.0f)
                        spike_taps(g, py, px, v, dyl + b * hw * out, gl + c * kk * out, 0);
                }
}

sgad_status sgad__convt_events_weight_grad(sgad_ctx *ctx, const sgad__conv_geom *g,
                                           int64_t batch, int64_t in_ch, const float *x,
                                           const float *dy, float *dw)
{
    const int64_t out = g->c, hw = g->h * g->w, kk = g->k * g->k, P = g->oh * g->ow;
    const int64_t chunk = sgad__chunk_samples(out, hw, batch);
    float *gl = sgad__scratch(ctx, 4, (size_t)(in_ch * kk * out) * sizeof *gl);
    float *dyl = gl ? sgad__scratch(ctx, 5, (size_t)(chunk * hw * out) * sizeof *dyl) : NULL;
    if (!dyl)
        return SGAD_E_NOMEM;
    memset(gl, 0, (size_t)(in_ch * kk * out) * sizeof *gl);
    const int threads = sgad__par_threads(ctx, chunk * out * hw);
    for (int64_t b0 = 0; b0 < batch; b0 += chunk) {
        const int64_t nb = batch - b0 < chunk ? batch - b0 : chunk;
#pragma omp parallel for num_threads(threads) schedule(static)
        for (int64_t b = 0; b < nb; b++)
            for (int64_t o = 0; o < out; o++)
                for (int64_t pix = 0; pix < hw; pix++)
                    dyl[(b * hw + pix) * out + o] = dy[((b0 + b) * out + o) * hw + pix];
#pragma omp parallel for num_threads(threads) schedule(static)
        for (int64_t c = 0; c < in_ch; c++)
            weight_grad_channels(g, in_ch, c, c + 1, nb, x + b0 * in_ch * P, dyl, gl);
    }
    add_taps_to_weights(in_ch, out, kk, gl, dw);
    return SGAD_OK;
}
