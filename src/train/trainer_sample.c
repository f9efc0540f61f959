/* SPDX-License-Identifier: MIT */
/* Sampling (trainer.h): G in evaluation mode, optionally with its moving
 * average swapped in and with its batch norms on the sampled batch's
 * statistics, and the attention decoder's per-step inputs and scores read
 * back for the paper's Fig. 5. */
#include <string.h>

#include "layers/layer_impl.h"
#include "trainer_impl.h"

/* Index of G's last attention-scored decoder, or -1. */
static int find_decoder(const sgad_net *g)
{
    for (int i = sgad_net_layer_count(g) - 1; i >= 0; i--)
        if (sgad_layer_get_kind(sgad_net_layer(g, i)) == SGAD_LAYER_ATTENTION)
            return i;
    return -1;
}

static sgad_status check_request(sgad_trainer *t, const char *fn, unsigned flags, int want_steps)
{
    const unsigned known = (unsigned)SGAD_SAMPLE_EMA | (unsigned)SGAD_SAMPLE_BATCH_STATS;
    SGAD__CHECK(t->ctx, (flags & ~known) == 0, SGAD_E_INVALID_ARG, "%s: unknown flags 0x%x", fn,
                flags);
    SGAD__CHECK(t->ctx, !(flags & SGAD_SAMPLE_EMA) || t->ema.count > 0, SGAD_E_STATE,
                "%s: SGAD_SAMPLE_EMA asked but the moving average is off (set "
                "SGAD_OPT_EMA_DECAY before training)",
                fn);
    SGAD__CHECK(t->ctx, !want_steps || find_decoder(t->g) >= 0, SGAD_E_STATE,
                "%s: per-step inputs and scores need a generator with an attention-scored "
                "decoder",
                fn);
    return SGAD_OK;
}

/* Copies the decoder's inputs and scores of the forward just run. */
static sgad_status read_steps(sgad_trainer *t, const char *fn, sgad_tensor *steps,
                              sgad_tensor *scores)
{
    const int at = find_decoder(t->g);
    int nd;
    int64_t dims[SGAD_MAX_DIMS];
    SGAD__TRY(sgad_net_activation_dims(t->g, at - 1, &nd, dims));
    const int64_t count = dims[0] * dims[1]; /* T * N */
    if (steps)
        SGAD__TRY(sgad_net_activation(t->g, at - 1, steps));
    if (!scores)
        return SGAD_OK;
    SGAD__CHECK(t->ctx, scores->numel == count, SGAD_E_SHAPE,
                "%s: scores must hold T*N = %lld values, it holds %lld", fn, (long long)count,
                (long long)scores->numel);
    return sgad_attention_decoder_scores(sgad_net_layer(t->g, at), scores->data, count);
}

/* Batch statistics in G's batch norms (in evaluation mode: no running
 * statistics move), on or off; kinds without batch statistics ignore it. */
static void set_batch_stats(sgad_net *g, int on)
{
    for (int i = 0; i < sgad_net_layer_count(g); i++)
        sgad__layer_set_batch_stats(sgad_net_layer(g, i), on);
}

sgad_status sgad_trainer_sample_ex(sgad_trainer *t, const sgad_tensor *z, sgad_tensor *images,
                                   unsigned flags, sgad_tensor *steps, sgad_tensor *scores)
{
    static const char fn[] = "sgad_trainer_sample";
    if (!t)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(t->ctx, z && images, SGAD_E_INVALID_ARG, "%s: z or images is NULL", fn);
    SGAD__TRY(check_request(t, fn, flags, steps || scores));
    const int use_ema = (flags & SGAD_SAMPLE_EMA) != 0;
    const int batch_stats = (flags & SGAD_SAMPLE_BATCH_STATS) != 0;
    SGAD__TRY(sgad_net_set_training(t->g, 0));
    if (use_ema)
        sgad__copies_swap(&t->ema);
    if (batch_stats)
        set_batch_stats(t->g, 1);
    /* only the decoder's input is read back (read_steps), so the rest
     * need no buffers of their own */
    const int keep_from = steps || scores ? find_decoder(t->g) - 1 : sgad_net_layer_count(t->g) - 1;
    sgad_status s = sgad__net_forward_lean(t->g, z, images, keep_from);
    if (s == SGAD_OK && (steps || scores))
        s = read_steps(t, fn, steps, scores);
    if (batch_stats) /* undone on every path: later evaluation uses running statistics */
        set_batch_stats(t->g, 0);
    if (use_ema)
        sgad__copies_swap(&t->ema);
    sgad_net_set_training(t->g, 1);
    return s;
}

sgad_status sgad_trainer_sample(sgad_trainer *t, const sgad_tensor *z, sgad_tensor *images)
{
    return sgad_trainer_sample_ex(t, z, images, 0, NULL, NULL);
}
