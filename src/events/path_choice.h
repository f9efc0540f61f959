/* SPDX-License-Identifier: MIT */
/* The choice between a layer's dense product and its event-driven one
 * (nonzeros.h): events pay below a share of nonzero inputs, so the choice
 * counts that share on a sample of the input (share_sample.h) and, for a
 * product linear in an input over several steps, also on the input's
 * periodic parts (periodic.h). */
#ifndef SGAD_PATH_CHOICE_H
#define SGAD_PATH_CHOICE_H

#include <stdint.h>

#include "core/internal.h"

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

#endif /* SGAD_PATH_CHOICE_H */
