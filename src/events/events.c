/* Event-driven products (events.h).
 *
 * Both products split the output columns into panels of SGAD__PANEL and
 * give each panel to one thread; the [in x out] operand is stored panel by
 * panel, so a panel is one contiguous block (rows of a plain [in x out]
 * matrix a power-of-two apart would fight over the same cache sets).
 * Within a panel every output value is summed over the events in list
 * order, so results do not depend on the thread count. */
#include <string.h>

#include "core/parallel.h"
#include "events.h"
#include "kernels/isa.h"
#include "kernels/simd.h"
#include "layers/layer_impl.h"
#include "periodic.h"

#define ZERO_BLOCK 8

/* Whether none of x[0..ZERO_BLOCK) differs from zero, as `x != 0.0f` has
 * it (-0.0 is zero, NaN is not): the float bits with the sign bit shifted
 * out are ORed, two vectors at a time. */
static int zero_block(const float *x)
{
    typedef uint32_t bits4 __attribute__((vector_size(16)));
    bits4 a, b;
    memcpy(&a, x, sizeof a);
    memcpy(&b, x + 4, sizeof b);
    const bits4 any = (a << 1) | (b << 1);
    uint64_t half[2];
    memcpy(half, &any, sizeof half);
    return (half[0] | half[1]) == 0;
}

/* Most blocks of a sparse input are all zero and skipped whole. In the
 * others every position goes into a block-sized list whose end moves past
 * the nonzero ones only (the same test on the bits), which avoids a
 * mispredicted branch per value; then the list is copied out (index holds
 * exactly the positions: sgad__events_list packs the rows' lists back to
 * back). */
SGAD__AVX2_CLONE
int64_t sgad__nonzero_positions(const float *x, int64_t n, int32_t *index)
{
    int64_t count = 0, i0 = 0;
    for (; i0 + ZERO_BLOCK <= n; i0 += ZERO_BLOCK) {
        if (zero_block(x + i0))
            continue;
        uint32_t bits[ZERO_BLOCK];
        int32_t found[ZERO_BLOCK];
        int k = 0;
        memcpy(bits, x + i0, sizeof bits);
        for (int i = 0; i < ZERO_BLOCK; i++) {
            found[k] = (int32_t)(i0 + i);
            k += (bits[i] << 1) != 0;
        }
        for (int i = 0; i < k; i++)
            index[count + i] = found[i];
        count += k;
    }
    for (int64_t i = i0; i < n; i++)
        if (x[i] != 0.0f)
            index[count++] = (int32_t)i;
    return count;
}

/* The share of nonzero values in x[0..n), estimated in large inputs. */
SGAD__AVX2_CLONE
static double nonzero_share(const sgad_ctx *ctx, const float *x, int64_t n)
{
    if (n <= 0)
        return 0.0;
    const sgad__share_sample sm = sgad__share_sample_of(n, n);
    int64_t nonzero = 0;
#pragma omp parallel for num_threads(sgad__par_threads(ctx, sm.runs * sm.run)) \
    schedule(static) reduction(+ : nonzero)
    for (int64_t i = 0; i < sm.runs; i++)
        for (int64_t j = 0; j < sm.run; j++)
            nonzero += x[i * sm.period + j] != 0.0f;
    return (double)nonzero / (double)(sm.runs * sm.run);
}

/* Records the path chosen. */
static int take(sgad__input_path *p, int events, int periodic)
{
    p->events = events;
    p->periodic = events && periodic;
    p->taken = !events       ? SGAD_PATH_DENSE
               : p->periodic ? SGAD_PATH_EVENTS_BY_PERIOD
                             : SGAD_PATH_EVENTS;
    return events;
}

int sgad__input_path_take_dense(sgad__input_path *p)
{
    return take(p, 0, 0);
}

int sgad__input_path_choose(const sgad_ctx *ctx, sgad__input_path *p, const float *x, int64_t n,
                            double break_even)
{
    if (p->setting != SGAD_PATH_AUTO)
        return take(p, p->setting == SGAD_PATH_EVENTS, 0);
    /* no share is below 0: skip the count */
    return take(p, break_even > 0.0 && nonzero_share(ctx, x, n) < break_even, 0);
}

int sgad__input_path_choose_periodic(const sgad_ctx *ctx, sgad__input_path *p, int64_t steps,
                                     int64_t plane, const float *x, double break_even)
{
    if (p->setting == SGAD_PATH_DENSE || steps < 2 || steps > SGAD__PERIODIC_MAX_STEPS)
        return sgad__input_path_choose(ctx, p, x, steps * plane, break_even);
    double x_share, part_share;
    sgad__periodic_shares(ctx, steps, plane, x, &x_share, &part_share);
    /* Half: the parts cost a pass to write and one to sum the outputs. */
    const int periodic = 2.0 * part_share <= x_share;
    const double share = periodic ? part_share : x_share;
    return take(p, p->setting == SGAD_PATH_EVENTS || share < break_even, periodic);
}

sgad_status sgad__input_path_set(sgad_layer *l, sgad__input_path *p, sgad_option option,
                                 double value)
{
    SGAD__CHECK(l->ctx, option == SGAD_OPT_INPUT_PATH, SGAD_E_UNSUPPORTED,
                "sgad_layer_set: a %s layer has no option %d", sgad_layer_kind_name(l->ops->kind),
                (int)option);
    p->setting = (int)value;
    return SGAD_OK;
}

sgad_status sgad__input_path_get(const sgad_layer *l, const sgad__input_path *p, sgad_option option,
                                 double *value)
{
    SGAD__CHECK(l->ctx, option == SGAD_OPT_INPUT_PATH || option == SGAD_OPT_INPUT_PATH_TAKEN,
                SGAD_E_UNSUPPORTED, "sgad_layer_get: a %s layer has no option %d",
                sgad_layer_kind_name(l->ops->kind), (int)option);
    *value = option == SGAD_OPT_INPUT_PATH ? p->setting : p->taken;
    return SGAD_OK;
}

#define B SGAD__PANEL

int64_t sgad__panels_size(int64_t in, int64_t out)
{
    return (out + B - 1) / B * B * in;
}

/* Panel b of w^T for w [out x in] into p [in x B], columns past out zero. */
SGAD__AVX2_CLONE
static void panel_from_weight(int64_t out, int64_t in, const float *w, int64_t b, float *p)
{
    const int64_t rows = out - b * B < B ? out - b * B : B;
    sgad__transpose(rows, in, w + b * B * in, in, p, B, 0);
    for (int64_t i = 0; i < in; i++) /* a last, partial panel: zero columns */
        for (int64_t j = rows; j < B; j++)
            p[i * B + j] = 0.0f;
}

/* w's rows of panel b += the transpose of p. */
SGAD__AVX2_CLONE
static void panel_add_to_weight(int64_t out, int64_t in, const float *p, int64_t b, float *w)
{
    const int64_t rows = out - b * B < B ? out - b * B : B;
    sgad__transpose(in, rows, p, B, w + b * B * in, in, 1);
}

void sgad__panels_from_weight(const sgad_ctx *ctx, int64_t out, int64_t in, const float *w,
                              float *panels)
{
    const int64_t blocks = (out + B - 1) / B;
#pragma omp parallel for num_threads(sgad__par_threads(ctx, out *in)) schedule(static)
    for (int64_t b = 0; b < blocks; b++)
        panel_from_weight(out, in, w, b, panels + b * in * B);
}

void sgad__panels_add_to_weight(const sgad_ctx *ctx, int64_t out, int64_t in, const float *panels,
                                float *w)
{
    const int64_t blocks = (out + B - 1) / B;
#pragma omp parallel for num_threads(sgad__par_threads(ctx, out *in)) schedule(static)
    for (int64_t b = 0; b < blocks; b++)
        panel_add_to_weight(out, in, panels + b * in * B, b, w);
}

sgad__panels sgad__panels_of_weight(int64_t out, int64_t in, float *w, float *own)
{
    const sgad__panels p = {.in = in, .out = out, .own = own, .w = w};
    return p;
}

int64_t sgad__panels_own_size(int64_t in)
{
    return in * B;
}

/* The calling thread's own block. */
static float *own_block(const sgad__panels *p)
{
    return p->own + (int64_t)sgad__thread_index() * p->in * B;
}

const float *sgad__panel_read(const sgad__panels *W, int64_t b)
{
    float *p = own_block(W);
    panel_from_weight(W->out, W->in, W->w, b, p);
    return p;
}

float *sgad__panel_sum(const sgad__panels *G)
{
    float *p = own_block(G);
    memset(p, 0, (size_t)(G->in * B) * sizeof *p);
    return p;
}

void sgad__panel_done(const sgad__panels *G, int64_t b, const float *panel)
{
    panel_add_to_weight(G->out, G->in, panel, b, G->w);
}
