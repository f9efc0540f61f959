/* SPDX-License-Identifier: MIT */
/* The planner (plan.h). A pure function of the layers' traits, the shapes
 * and the mode: it allocates nothing and calls no layer but pool_window.
 * Invariants of every plan:
 *   - in training, an output that some backward reads (backward_skips) is
 *     kept, unless a fused neuron or batch norm never writes it;
 *   - in evaluation every output is kept; the last output always is;
 *   - runs start at a repeat and go on over steps_alike layers only, so a
 *     compact output stands for T equal steps;
 *   - a batch norm is stats_only and a neuron pools only outside runs, on
 *     all T steps, so that their per-step factors and spikes are exact. */
#include <stdint.h>

#include "events/spike_codes.h"
#include "plan.h"

typedef struct planner {
    sgad_layer *const *layers;
    int n;
    const sgad__shape *shapes;
    sgad__plan_layer *p;
} planner;

/* The plan of layer i's input: the net's input for i = 0, which is never
 * compact, packed or left unwritten. */
static const sgad__plan_layer *input_plan(const planner *pl, int i)
{
    static const sgad__plan_layer net_input = {.kept = 1};
    return i ? &pl->p[i - 1] : &net_input;
}

static const sgad__layer_ops *ops_of(const planner *pl, int i)
{
    return pl->layers[i]->ops;
}

static int64_t pool_window(const sgad_layer *l)
{
    return l->ops->pool_window ? l->ops->pool_window(l) : 0;
}

static int64_t numel(const sgad__shape *s)
{
    int64_t n = 1;
    for (int d = 0; d < s->ndim; d++)
        n *= s->dims[d];
    return n;
}

/* Marks the runs: a repeat followed by at least one step-alike layer has a
 * compact output, as have the run's layers but its last, which is repeated
 * (run_end) unless the layer after it reads one step at every step. */
static void mark_runs(const planner *pl)
{
    for (int r = 0; r + 1 < pl->n; r++) {
        if (!ops_of(pl, r)->repeats_step || !ops_of(pl, r + 1)->steps_alike)
            continue;
        int q = r + 1;
        while (q + 1 < pl->n && ops_of(pl, q + 1)->steps_alike)
            q++;
        pl->p[r].run_start = 1;
        for (int i = r; i < q; i++)
            pl->p[i].compact = 1;
        if (q + 1 < pl->n && ops_of(pl, q + 1)->set_shared_input) {
            pl->p[q].compact = 1;
            pl->p[q + 1].shared_input = 1;
        } else {
            pl->p[q].run_end = 1;
        }
        r = q;
    }
}

/* Whether a backward reads layer i's output: its own (as y) or the next
 * layer's (as x). */
static int output_read_back(const planner *pl, int i)
{
    if (i == pl->n - 1)
        return 1;
    return !(ops_of(pl, i)->backward_skips & SGAD__SKIPS_Y) ||
           !(ops_of(pl, i + 1)->backward_skips & SGAD__SKIPS_X);
}

/* Whether layer i's output can be left to layer i + 1 to compute from
 * layer i's input: a norm read by a layer that applies it, both on all T
 * steps (outside a run), so the factors are per step. */
static int norm_fusable(const planner *pl, int i)
{
    if (i + 1 >= pl->n || !ops_of(pl, i)->set_stats_only || !ops_of(pl, i + 1)->set_input_norm)
        return 0;
    const sgad__plan_layer *p = &pl->p[i];
    return !input_plan(pl, i)->compact && !p->compact && !p->run_end;
}

/* The window k layer i can pool its output with into layer i + 1's, or 0:
 * layer i + 1 averages k x k windows that tile [T, N, C, H, W]. */
static int64_t pool_fusable(const planner *pl, int i)
{
    if (i + 1 >= pl->n || !ops_of(pl, i)->set_output_pool)
        return 0;
    const int64_t k = pool_window(pl->layers[i + 1]);
    const sgad__shape *s = &pl->shapes[i];
    /* the neuron indexes a step's pooled values with 32 bits */
    const int fits = k > 0 && s->ndim == 5 && s->dims[3] % k == 0 && s->dims[4] % k == 0 &&
                     numel(s) / s->dims[0] / (k * k) <= INT32_MAX;
    return fits ? k : 0;
}

/* The grid layer i's output lies on: 1 for spikes, k^2 for spikes
 * averaged over k x k windows, the input's for the same floats; 0 for
 * anything else. */
static int output_levels(const planner *pl, int i)
{
    const sgad__layer_ops *ops = ops_of(pl, i);
    const int in = input_plan(pl, i)->levels;
    const int64_t k = pool_window(pl->layers[i]);
    if (ops->spiking)
        return 1;
    if (ops->same_floats)
        return in;
    if (in == 1 && k > 0 && k * k <= SGAD__CODES_MAX_LEVELS)
        return (int)(k * k);
    return 0;
}

/* Whether a kept output i goes to codes: spike valued, all steps held, and
 * read back by a layer that reads it for its parameter gradients only. */
static int packable(const planner *pl, int i)
{
    const sgad__plan_layer *p = &pl->p[i];
    return p->levels > 0 && !p->compact && !p->run_end && i + 1 < pl->n &&
           (ops_of(pl, i + 1)->backward_skips & SGAD__SKIPS_X_FOR_DX);
}

static int keeps_output(const planner *pl, int i, int training, int keep_from)
{
    if (i == pl->n - 1)
        return 1;
    if (keep_from > 0)
        return i >= keep_from;
    const sgad__plan_layer *p = &pl->p[i];
    return !training || (!p->stats_only && !p->pool_k && output_read_back(pl, i));
}

/* Whether layer i's output is a view of its input's gradient buffer: the
 * same floats, from an unkept output to an unkept or packed one, all steps
 * held on both sides. */
static int reshape_view(const planner *pl, int i)
{
    if (i < 1 || i + 1 >= pl->n || !ops_of(pl, i)->same_floats)
        return 0;
    const sgad__plan_layer *in = &pl->p[i - 1], *out = &pl->p[i];
    return !in->kept && !in->compact && !in->run_end && !in->stats_only && !in->pool_k &&
           (!out->kept || out->packed) && !out->compact && !out->run_end;
}

void sgad__net_plan(sgad_layer *const *layers, int nlayers, const sgad__shape *shapes,
                    sgad__plan_mode mode, sgad__plan *plan)
{
    const planner pl = {layers, nlayers, shapes, plan->layer};
    const int keep_from = mode.keep_from > 0 ? mode.keep_from : 0;
    const int training = mode.training && keep_from == 0;
    for (int i = 0; i < nlayers; i++)
        pl.p[i] = (sgad__plan_layer){0};
    plan->uses_grads = training || keep_from > 0;
    mark_runs(&pl);
    for (int i = 0; i < nlayers; i++) {
        sgad__plan_layer *p = &pl.p[i];
        p->stats_only = (training || (keep_from > 0 && i < keep_from)) && norm_fusable(&pl, i);
        p->pool_k = training ? pool_fusable(&pl, i) : 0;
        p->levels = output_levels(&pl, i);
        p->kept = keeps_output(&pl, i, training, keep_from);
        p->packed = p->kept && training && packable(&pl, i);
    }
    for (int i = 0; i < nlayers; i++)
        pl.p[i].view = reshape_view(&pl, i);
}
