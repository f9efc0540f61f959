/* SPDX-License-Identifier: MIT */
/* A small GAN built from public calls, for checkpoint tests and their
 * helper program: G [1, N, 4] -> [1, N, 1, 4, 4], D -> [1, N, 1], T = 2,
 * with batch norm, LIF neurons and RMSprop state; `hidden` sets the width
 * (and so the file size). */
#ifndef SGAD_TEST_TINY_GAN_H
#define SGAD_TEST_TINY_GAN_H

#include "sgad/sgad.h"

typedef struct tiny_gan {
    sgad_net *g, *d;
    sgad_trainer *t;
    sgad_tensor *real;
} tiny_gan;

/* Builds the nets and a trainer with the given seed; 0 on success. */
int tiny_gan_create(sgad_ctx *ctx, int hidden, uint64_t seed, tiny_gan *out);
/* Runs n iterations on batches that depend only on the iteration number. */
sgad_status tiny_gan_train(tiny_gan *gan, int n);
void tiny_gan_free(tiny_gan *gan);

#endif
