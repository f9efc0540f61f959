/* SPDX-License-Identifier: MIT */
/* The small GAN of tiny_gan.h. */
#include "tiny_gan.h"

#include <string.h>

#define PUSH(net, make)                                                                            \
    do {                                                                                           \
        sgad_layer *l_ = NULL;                                                                     \
        if ((make) != SGAD_OK || sgad_net_adopt((net), l_) != SGAD_OK) {                           \
            sgad_layer_free(l_);                                                                   \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

static int build(sgad_ctx *ctx, int hidden, sgad_net *g, sgad_net *d)
{
    const int64_t img[3] = {1, 4, 4}, flat[1] = {16};
    PUSH(g, sgad_repeat_create(ctx, 2, &l_));
    PUSH(g, sgad_linear_create(ctx, 4, hidden, 1, &l_));
    PUSH(g, sgad_batchnorm1d_create(ctx, hidden, &l_));
    PUSH(g, sgad_lif_create(ctx, &l_));
    PUSH(g, sgad_linear_create(ctx, hidden, 16, 1, &l_));
    PUSH(g, sgad_reshape_create(ctx, 3, img, &l_));
    PUSH(g, sgad_mp_create(ctx, &l_));
    PUSH(g, sgad_last_step_create(ctx, 0.5, &l_));
    PUSH(g, sgad_sigmoid_create(ctx, &l_));
    PUSH(d, sgad_repeat_create(ctx, 2, &l_));
    PUSH(d, sgad_reshape_create(ctx, 1, flat, &l_));
    PUSH(d, sgad_linear_create(ctx, 16, hidden, 1, &l_));
    PUSH(d, sgad_lif_create(ctx, &l_));
    PUSH(d, sgad_linear_create(ctx, hidden, 1, 1, &l_));
    PUSH(d, sgad_mp_create(ctx, &l_));
    PUSH(d, sgad_last_step_create(ctx, 0.5, &l_));
    return 0;
}

int tiny_gan_create(sgad_ctx *ctx, int hidden, uint64_t seed, tiny_gan *out)
{
    const int64_t rd[4] = {8, 1, 4, 4};
    memset(out, 0, sizeof *out);
    if (sgad_ctx_set_seed(ctx, seed) != SGAD_OK || sgad_net_create(ctx, &out->g) != SGAD_OK ||
        sgad_net_create(ctx, &out->d) != SGAD_OK || build(ctx, hidden, out->g, out->d) != 0 ||
        sgad_trainer_create(ctx, out->g, out->d, 4, SGAD_LOSS_EM, SGAD_OPTIMIZER_RMSPROP,
                            &out->t) != SGAD_OK ||
        sgad_trainer_set_seed(out->t, seed) != SGAD_OK ||
        sgad_tensor_create(ctx, 4, rd, &out->real) != SGAD_OK) {
        tiny_gan_free(out);
        return 1;
    }
    return 0;
}

sgad_status tiny_gan_train(tiny_gan *gan, int n)
{
    for (int i = 0; i < n; i++) {
        /* two stroke patterns, chosen by the iteration number */
        const int64_t it = sgad_trainer_iterations(gan->t);
        float *p = sgad_tensor_data(gan->real);
        for (int k = 0; k < 8 * 16; k++)
            p[k] = ((k % 16) / 4 == (int)((it + k / 16) % 4)) ? 0.9f : 0.1f;
        const sgad_status s = sgad_trainer_step(gan->t, gan->real, NULL);
        if (s != SGAD_OK)
            return s;
    }
    return SGAD_OK;
}

void tiny_gan_free(tiny_gan *gan)
{
    sgad_tensor_free(gan->real);
    sgad_trainer_free(gan->t);
    sgad_net_free(gan->g);
    sgad_net_free(gan->d);
    memset(gan, 0, sizeof *gan);
}
