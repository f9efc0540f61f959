/* SPDX-License-Identifier: MIT */
/* Internals of the trainer (trainer.h), shared by its files:
 *   trainer.c           life cycle, options, figures, one iteration
 *   trainer_state.c     copies of tensor sets: the snapshot an iteration
 *                       rolls back to, and G's moving average
 *   trainer_schedule.c  learning-rate schedules
 *   trainer_sample.c    sampling, with the average and per-step outputs */
#ifndef SGAD_TRAINER_IMPL_H
#define SGAD_TRAINER_IMPL_H

#include "core/internal.h"

/* A list of tensors (borrowed) with one private copy of each. */
typedef struct sgad__copies {
    int count;
    sgad_tensor **tensors;
    float **copies;
} sgad__copies;

struct sgad_trainer {
    sgad_ctx *ctx;
    sgad_net *g, *d;
    sgad_optimizer *opt_g, *opt_d;
    int latent;
    sgad_loss loss;
    uint64_t seed;
    int64_t iterations, epoch;
    /* A preset trainer owns its nets and remembers how they were made. */
    int owns_nets;
    sgad_model model;
    sgad_image_shape shape;
    int steps;
    /* Settings. */
    int n_critic;
    double clip, ema_decay;
    sgad_schedule schedule;
    int64_t schedule_length, schedule_period;
    sgad_grad_hook hook;
    void *hook_user;
    int shard_index; /* this process's slice of a data-parallel batch */
    /* Figures of the last iteration; firing rates per layer of G and D
     * (NaN for layers that do not spike). */
    double stats[SGAD_STAT_LR_G + 1];
    double *rates[2];
    sgad__copies snapshot; /* every tensor a failed iteration may have changed */
    sgad__copies ema;      /* G's parameters and buffers; count 0 when off */
    /* Work tensors, remade when the batch shape changes. */
    sgad_tensor *z, *real_seq, *fake, *dfake, *score_grad;
};

/* Collects every parameter and buffer of net, and with opt every state
 * tensor of the optimizer, appending to c. */
sgad_status sgad__copies_add_net(sgad_ctx *ctx, sgad__copies *c, sgad_net *net,
                                 sgad_optimizer *opt);
/* Adds the net's buffers only (parameters without a gradient). */
sgad_status sgad__copies_add_buffers(sgad_ctx *ctx, sgad__copies *c, sgad_net *net);
void sgad__copies_free(sgad_ctx *ctx, sgad__copies *c);
void sgad__copies_save(sgad__copies *c);    /* tensors -> copies */
void sgad__copies_restore(sgad__copies *c); /* copies -> tensors */
void sgad__copies_swap(sgad__copies *c);    /* tensors <-> copies */
/* copies = decay * copies + (1 - decay) * tensors */
void sgad__copies_average(sgad__copies *c, double decay);

/* The schedule's factor on the learning rates at this iteration. */
double sgad__schedule_factor(sgad_schedule kind, int64_t length, int64_t period, int64_t iteration);

#endif /* SGAD_TRAINER_IMPL_H */
