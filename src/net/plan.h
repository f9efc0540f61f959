/* SPDX-License-Identifier: MIT */
/* A net's plan: where each layer's output lives and how each layer runs,
 * decided from the layers' traits (layer_impl.h), their output shapes and
 * the mode, before anything is allocated or run. The reasons are in
 * docs/design.md, section "Where the time and memory go, and what the net
 * does about it". net.c allocates per the plan and runs it. */
#ifndef SGAD_NET_PLAN_H
#define SGAD_NET_PLAN_H

#include "layers/layer_impl.h"

typedef struct sgad__plan_mode {
    int training;  /* every layer is in training: keep what backward reads */
    int keep_from; /* > 0: a lean forward (sampling) keeping only the
                      outputs of layers keep_from.. and the last */
} sgad__plan_mode;

/* Layer i and its output. */
typedef struct sgad__plan_layer {
    int kept;         /* the output outlives the forward (as floats of its
                         own, or as codes when packed); else it lives in a
                         gradient buffer, or nowhere (stats_only, pool_k) */
    int packed;       /* kept as spike codes of `levels` (spike_codes.h);
                         the floats live in a gradient buffer until the
                         next layer's forward. Implies kept. */
    int levels;       /* > 0: the values lie on the grid of 1/levels in
                         [0, 1] (1: spikes) */
    int compact;      /* the output holds one time step standing for all */
    int run_start;    /* a repeat starting a run: its output is its input */
    int run_end;      /* a run's last layer: computed on one step, then
                         repeated */
    int shared_input; /* the input is compact and the layer reads its one
                         step at every step (set_shared_input); otherwise
                         a layer with a compact input runs on one step */
    int stats_only;   /* writes no output (set_stats_only): layer i + 1
                         computes it from layer i's input (set_input_norm) */
    int64_t pool_k;   /* > 0: the output is never written; the layer pools
                         it k x k into layer i + 1's output
                         (set_output_pool), and layer i + 1 does not run */
    int view;         /* the output is its input's gradient buffer as it
                         lies (same_floats): nothing is copied either way */
} sgad__plan_layer;

typedef struct sgad__plan {
    int uses_grads;          /* some output lives in the gradient buffers */
    sgad__plan_layer *layer; /* [nlayers], the caller's */
} sgad__plan;

/* Fills plan for layers[0..nlayers) with output shapes shapes[0..nlayers)
 * in `mode`. Reads only the layers' ops tables and their pool_window; the
 * same arguments give the same plan. */
void sgad__net_plan(sgad_layer *const *layers, int nlayers, const sgad__shape *shapes,
                    sgad__plan_mode mode, sgad__plan *plan);

#endif /* SGAD_NET_PLAN_H */
