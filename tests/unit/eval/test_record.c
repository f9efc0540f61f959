/* SPDX-License-Identifier: MIT */
/* sgad_record (record.h): firing rates and input means over T match a
 * forward in evaluation mode read by hand, the batch size changes no
 * value, the layers' modes are put back, and bad arguments are refused. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

enum { T = 4, N = 7, IN = 6, OUT = 5 };

/* repeat(T) -> linear(IN -> OUT) -> batchnorm1d -> LIF: layers 0..3. */
static sgad_net *small_net(sgad_ctx *ctx)
{
    sgad_net *net;
    sgad_layer *l;
    ASSERT_OK(ctx, sgad_net_create(ctx, &net));
    ASSERT_OK(ctx, sgad_repeat_create(ctx, T, &l));
    ASSERT_OK(ctx, sgad_net_adopt(net, l));
    ASSERT_OK(ctx, sgad_linear_create(ctx, IN, OUT, 1, &l));
    ASSERT_OK(ctx, sgad_net_adopt(net, l));
    ASSERT_OK(ctx, sgad_batchnorm1d_create(ctx, OUT, &l));
    ASSERT_OK(ctx, sgad_net_adopt(net, l));
    ASSERT_OK(ctx, sgad_lif_create(ctx, &l));
    ASSERT_OK(ctx, sgad_net_adopt(net, l));
    return net;
}

static sgad_tensor *stimuli(sgad_ctx *ctx)
{
    uint64_t state = 11;
    sgad_tensor *s = tu_tensor(ctx, N, IN, 0);
    tu_fill_uniform(sgad_tensor_data(s), N * IN, 0.0f, 3.0f, &state);
    return s;
}

/* The net's output for all stimuli at once, in its current mode. */
static void forward_all(sgad_ctx *ctx, sgad_net *net, const sgad_tensor *s, float *y)
{
    sgad_tensor *x = tu_tensor(ctx, 1, N, IN, 0);
    memcpy(sgad_tensor_data(x), sgad_tensor_data(s), sizeof(float) * N * IN);
    ASSERT_OK(ctx, sgad_net_forward(net, x, NULL));
    const sgad_tensor *o = sgad_net_output(net);
    memcpy(y, sgad_tensor_data(o), sizeof(float) * (size_t)sgad_tensor_numel(o));
    sgad_tensor_free(x);
}

START_TEST(rates_match_a_forward_read_by_hand)
{
    sgad_ctx *ctx = tu_ctx(3);
    sgad_net *net = small_net(ctx);
    sgad_tensor *s = stimuli(ctx);
    const int64_t sample[1] = {IN};
    int64_t units;
    ASSERT_OK(ctx, sgad_record_units(net, 1, sample, 3, SGAD_RECORD_OUTPUT_MEAN, &units));
    ck_assert_int_eq(units, OUT);
    ASSERT_OK(ctx, sgad_record_units(net, 1, sample, 0, SGAD_RECORD_INPUT_MEAN, &units));
    ck_assert_int_eq(units, IN); /* the net's input */

    float rate[N * OUT], rate1[N * OUT], current[N * OUT], bn[N * OUT];
    const int layers[2] = {3, 2};
    float *out[2] = {rate, bn};
    ASSERT_OK(ctx, sgad_record(net, s, 3, SGAD_RECORD_OUTPUT_MEAN, 2, layers, out));
    float *out1[1] = {rate1};
    ASSERT_OK(ctx, sgad_record(net, s, 1, SGAD_RECORD_OUTPUT_MEAN, 1, layers, out1));
    ck_assert_mem_eq(rate, rate1, sizeof rate); /* evaluation mode: batches do not mix */
    float *out2[1] = {current};
    ASSERT_OK(ctx, sgad_record(net, s, 64, SGAD_RECORD_INPUT_MEAN, 1, layers, out2));
    ck_assert_mem_eq(current, bn, sizeof bn); /* a neuron's input is the batch norm's output */

    /* By hand: the LIF's spikes [T, N, OUT] of one evaluation forward. */
    float spikes[T * N * OUT];
    ASSERT_OK(ctx, sgad_net_set_training(net, 0));
    forward_all(ctx, net, s, spikes);
    int fired = 0, silent = 0;
    for (int i = 0; i < N; i++)
        for (int u = 0; u < OUT; u++) {
            double sum = 0;
            for (int t = 0; t < T; t++)
                sum += spikes[(t * N + i) * OUT + u];
            ck_assert_float_eq(rate[i * OUT + u], (float)(sum / T));
            fired += sum > 0;
            silent += sum < T;
        }
    ck_assert_msg(fired > 0 && silent > 0, "the test needs some spikes and some silence");
    sgad_tensor_free(s);
    sgad_net_free(net);
    sgad_ctx_free(ctx);
}
END_TEST

START_TEST(modes_are_put_back)
{
    sgad_ctx *ctx = tu_ctx(3);
    sgad_net *net = small_net(ctx);
    sgad_tensor *s = stimuli(ctx);
    /* In training the batch norm uses the batch's statistics, in evaluation
     * its running ones: the outputs differ, so equal outputs before and
     * after recording mean the net is in training mode again. */
    float before[T * N * OUT], after[T * N * OUT], eval[T * N * OUT], rate[N * OUT];
    forward_all(ctx, net, s, before);
    const int layer = 3;
    float *out[1] = {rate};
    ASSERT_OK(ctx, sgad_record(net, s, 4, SGAD_RECORD_OUTPUT_MEAN, 1, &layer, out));
    forward_all(ctx, net, s, after);
    ck_assert_mem_eq(before, after, sizeof before);
    ASSERT_OK(ctx, sgad_net_set_training(net, 0));
    forward_all(ctx, net, s, eval);
    ck_assert_msg(memcmp(before, eval, sizeof eval) != 0, "modes give the same output");
    sgad_tensor_free(s);
    sgad_net_free(net);
    sgad_ctx_free(ctx);
}
END_TEST

START_TEST(bad_arguments_are_refused)
{
    sgad_ctx *ctx = tu_ctx(3);
    sgad_net *net = small_net(ctx);
    sgad_tensor *s = stimuli(ctx);
    float rate[N * OUT];
    float *out[1] = {rate};
    const int good = 3, far = 4;
    const int64_t sample[1] = {IN};
    int64_t units;
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_record(NULL, s, 1, 0, 1, &good, out));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_record(net, s, 0, 0, 1, &good, out));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_record(net, s, 1, 0, 1, &far, out));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_record(net, s, 1, (sgad_record_mode)2, 1, &good, out));
    ASSERT_STATUS(SGAD_E_INVALID_ARG,
                  sgad_record_units(net, 1, sample, far, SGAD_RECORD_OUTPUT_MEAN, &units));
    sgad_tensor *wrong = tu_tensor(ctx, N, IN + 1, 0);
    ASSERT_STATUS(SGAD_E_SHAPE, sgad_record(net, wrong, 2, 0, 1, &good, out));
    const int64_t wide[1] = {IN + 1};
    ASSERT_STATUS(SGAD_E_SHAPE,
                  sgad_record_units(net, 1, wide, good, SGAD_RECORD_OUTPUT_MEAN, &units));
    sgad_tensor_free(wrong);
    sgad_tensor_free(s);
    sgad_net_free(net);
    sgad_ctx_free(ctx);
}
END_TEST

Suite *suite_record(void)
{
    Suite *s = suite_create("record");
    TCase *tc = tcase_create("record");
    tcase_add_test(tc, rates_match_a_forward_read_by_hand);
    tcase_add_test(tc, modes_are_put_back);
    tcase_add_test(tc, bad_arguments_are_refused);
    suite_add_tcase(s, tc);
    return s;
}
