/* Event-driven products: matrix products whose left operand is sparse, as
 * spike trains are (a few percent of LIF outputs are 1). The operand is
 * first listed as its nonzero values ("events"); the products then do work
 * only for those, so their cost follows the number of spikes rather than
 * the operand's size. This header holds what the products share: the
 * listing step, the choice of path and the weight panels; the products
 * are in event_tiles.h (linear), spike_trains.h, conv_events.h and
 * convt_events.h. */
#ifndef SGAD_EVENTS_H
#define SGAD_EVENTS_H

#include "core/internal.h"

/* Writes the positions of the nonzero values of x[0..n) (n < 2^31), in
 * order, to index and returns their count: the listing step of every
 * event path. Tests blocks of 8 values at once, since most blocks of a
 * sparse spike input are all zero. */
int64_t sgad__nonzero_positions(const float *x, int64_t n, int32_t *index);

/* The sample the path choices count (events.c, periodic.c): in inputs of
 * SGAD__SHARE_SAMPLE_MIN values or more, a run of SGAD__SHARE_RUN values
 * (a cache line) out of every SGAD__SHARE_RUN * SGAD__SHARE_STRIDE. The
 * choice needs the share to a percent or so, which 10^5 samples give, and
 * a full count was a pass over the input of its own (6% of a sampling
 * run's time; every 7th value alone still read every cache line). 7 shares
 * no factor with the power-of-two row lengths of images and feature maps
 * once the runs are counted, so the sample does not keep to a few columns.
 * Smaller inputs are counted whole. */
#define SGAD__SHARE_STRIDE 7
#define SGAD__SHARE_RUN 16
#define SGAD__SHARE_SAMPLE_MIN ((int64_t)1 << 20)

/* The positions counted along `len` values (a whole input, or one step's
 * plane of it) when the input has `total` values: `runs` runs of `run`
 * values, `period` apart. */
typedef struct sgad__share_sample {
    int64_t run, period, runs;
} sgad__share_sample;

static inline sgad__share_sample sgad__share_sample_of(int64_t len, int64_t total)
{
    const int64_t period = SGAD__SHARE_RUN * SGAD__SHARE_STRIDE;
    if (total < SGAD__SHARE_SAMPLE_MIN || len < period)
        return (sgad__share_sample){len, len, 1};
    return (sgad__share_sample){SGAD__SHARE_RUN, period, len / period};
}

/* A layer's SGAD_OPT_INPUT_PATH setting (an sgad_input_path) and the path
 * its last forward took, which its backward then follows. */
typedef struct sgad__input_path {
    int setting;
    int events;
    int periodic; /* events on the input's periodic parts (periodic.h) */
    int taken;    /* an sgad_input_path, for SGAD_OPT_INPUT_PATH_TAKEN; the
                     layer refines SGAD_PATH_EVENTS where it went by train */
} sgad__input_path;

/* Chooses the path for a forward over input x[0..n): events when set so,
 * or, under SGAD_PATH_AUTO, when the share of nonzeros is below
 * `break_even` (the share below which events win for that kind of
 * product, measured with bench/bench_events). Records and returns it. */
int sgad__input_path_choose(const sgad_ctx *ctx, sgad__input_path *p, const float *x, int64_t n,
                            double break_even);

/* Records the dense path whatever the setting (an input the event paths
 * cannot index) and returns 0. */
int sgad__input_path_take_dense(sgad__input_path *p);

/* The same for an input x [steps, plane] that a product linear in it
 * reads: events on its periodic parts (periodic.h) where they have at most
 * half the nonzeros of x, else as sgad__input_path_choose. */
int sgad__input_path_choose_periodic(const sgad_ctx *ctx, sgad__input_path *p, int64_t steps,
                                     int64_t plane, const float *x, double break_even);

/* sgad_layer_set of SGAD_OPT_INPUT_PATH and sgad_layer_get of it and of
 * SGAD_OPT_INPUT_PATH_TAKEN, for a layer that has them. */
sgad_status sgad__input_path_set(sgad_layer *l, sgad__input_path *p, sgad_option option,
                                 double value);
sgad_status sgad__input_path_get(const sgad_layer *l, const sgad__input_path *p, sgad_option option,
                                 double *value);

/* Output columns per panel: a panel's accumulators fit in the vector
 * registers, and a panel of the [in x out] operand (in x 32 floats,
 * contiguous) stays in the L2 cache while every row passes over it. */
#define SGAD__PANEL 32

/* Floats of the panel form of an [in x out] operand: out rounded up to
 * whole panels, each panel [in x SGAD__PANEL]. */
int64_t sgad__panels_size(int64_t in, int64_t out);

/* Panels of w^T from a weight matrix w [out x in] (a convolution's [out x C*k*k]). */
void sgad__panels_from_weight(const sgad_ctx *ctx, int64_t out, int64_t in, const float *w,
                              float *panels);

/* w [out x in] += the matrix whose panels of the transpose are given. */
void sgad__panels_add_to_weight(const sgad_ctx *ctx, int64_t out, int64_t in, const float *panels,
                                float *w);

/* The [in x out] operand of the spike-train products (spike_trains.h),
 * in panels: each thread builds the panel it works on in its own block of
 * `own` (threads x in x SGAD__PANEL floats) from the weight w [out x in],
 * so that a large layer's whole panel form (G's fc2: 24.5 MiB) is never
 * held. For a weight gradient, w is the gradient the blocks are added to
 * as they finish. */
typedef struct sgad__panels {
    int64_t in, out;
    float *own;
    float *w;
} sgad__panels;

/* The panels of w [out x in]; own has room for sgad__panels_own_size
 * floats per context thread. */
sgad__panels sgad__panels_of_weight(int64_t out, int64_t in, float *w, float *own);
int64_t sgad__panels_own_size(int64_t in);

/* Panel b for reading (matmul), built now in the thread's block. */
const float *sgad__panel_read(const sgad__panels *W, int64_t b);

/* A panel to sum into (outer): the thread's block, zeroed;
 * sgad__panel_done adds it to w as panel b. */
float *sgad__panel_sum(const sgad__panels *G);
void sgad__panel_done(const sgad__panels *G, int64_t b, const float *panel);

#endif /* SGAD_EVENTS_H */
