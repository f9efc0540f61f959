/* SPDX-License-Identifier: MIT */
/* Spike inputs grouped by spike train. In a linear layer's input [T, N, in]
 * of spikes, the train of input k in sample n (the steps at which it is 1)
 * often repeats across inputs: a neuron driven by a constant input (G's
 * first LIF reads the same latent at every step) fires periodically, so a
 * sample's few hundred firing inputs share a handful of trains. The
 * products then sum the weight rows of each train's inputs once and add
 * that sum at the train's steps, instead of adding one weight row per
 * spike: for SGAD's fc2 about 230 row additions per sample instead of
 * about 1500. */
#ifndef SGAD_SPIKE_TRAINS_H
#define SGAD_SPIKE_TRAINS_H

#include <stdint.h>

#include "core/internal.h"
#include "panels.h"

/* Longest train: a step per bit of the upper half of a key. */
#define SGAD__TRAINS_MAX_STEPS 32

/* x [steps, samples, cols] listed by train: sample n's firing inputs at
 * key + n * cols, count[n] of them, each key (train << 32 | k), sorted, so
 * that inputs with the same train are adjacent. */
typedef struct sgad__trains {
    int64_t steps, samples, cols;
    uint64_t *key;
    int64_t *count;
    int usable;     /* 0: some nonzero is not 1, or too many steps */
    int64_t spikes; /* nonzeros of x */
    int64_t work;   /* weight rows the products add: firing inputs plus,
                       per sample, the steps of each distinct train */
} sgad__trains;

/* Lists x by train into the context's scratch slot `slot` (valid until
 * the slot's next use). Not usable for more than SGAD__TRAINS_MAX_STEPS
 * steps or values other than 0 and 1. */
sgad_status sgad__trains_list(sgad_ctx *ctx, sgad__scratch_slot slot, int64_t steps,
                              int64_t samples, int64_t cols, const float *x, sgad__trains *tr);

/* y [steps * samples x out] += x W^T, W^T in panels (panels.h). */
void sgad__trains_matmul(const sgad_ctx *ctx, const sgad__trains *tr, const sgad__panels *W,
                         float *y);

/* G += x^T g, g [steps * samples x out], G in panels (panels.h). */
void sgad__trains_outer(const sgad_ctx *ctx, const sgad__trains *tr, const float *g,
                        const sgad__panels *G);

#endif /* SGAD_SPIKE_TRAINS_H */
