/* SPDX-License-Identifier: MIT */
/* The net's planner alone (src/net/plan.h): plans of SGAD-like
 * discriminators and generators in training, evaluation and sampling,
 * from the layers' traits and shapes, with no net and no forward. */
#include <string.h>

#include "net/plan.h"
#include "test_util.h"

enum { MAX_LAYERS = 16 };

/* A list of layers with their output shapes for an input shape. */
typedef struct stack {
    sgad_ctx *ctx;
    int n;
    sgad_layer *layers[MAX_LAYERS];
    sgad__shape shapes[MAX_LAYERS];
    sgad__plan_layer p[MAX_LAYERS];
} stack;

/* Takes &l: the layer pointer is read after the create call has run. */
static void push(stack *s, sgad_status made, sgad_layer **l)
{
    ASSERT_OK(s->ctx, made);
    ck_assert_int_lt(s->n, MAX_LAYERS);
    s->layers[s->n++] = *l;
}

static void infer(stack *s, int ndim, const int64_t *dims)
{
    int nd = ndim;
    int64_t d[SGAD_MAX_DIMS];
    memcpy(d, dims, (size_t)ndim * sizeof *d);
    for (int i = 0; i < s->n; i++) {
        sgad__shape *o = &s->shapes[i];
        ASSERT_OK(s->ctx, sgad_layer_output_dims(s->layers[i], nd, d, &o->ndim, o->dims));
        nd = o->ndim;
        memcpy(d, o->dims, (size_t)nd * sizeof *d);
    }
}

static const sgad__plan_layer *plan(stack *s, int training, int keep_from, int *uses_grads)
{
    sgad__plan pl = {-1, s->p};
    const sgad__plan_mode mode = {training, keep_from};
    sgad__net_plan(s->layers, s->n, s->shapes, mode, &pl);
    if (uses_grads)
        *uses_grads = pl.uses_grads;
    return s->p;
}

static void release(stack *s)
{
    for (int i = 0; i < s->n; i++)
        sgad_layer_free(s->layers[i]);
    sgad_ctx_free(s->ctx);
}

/* SGAD's D on [1, 2, 1, 16, 16], narrowed: 0 repeat(4), 1 conv(1->2, k5)
 * [12x12], 2 bn2d, 3 lif, 4 pool(2) [6x6], 5 conv(2->3, k3) [4x4],
 * 6 bn2d, 7 lif, 8 pool(2) [2x2], 9 reshape(12), 10 linear(12->5),
 * 11 lif, 12 linear(5->1), 13 mp, 14 last_step. */
static void discriminator(stack *s)
{
    sgad_ctx *ctx = s->ctx = tu_ctx(7);
    sgad_layer *l = NULL;
    const int64_t flat[1] = {12}, in[5] = {1, 2, 1, 16, 16};
    push(s, sgad_repeat_create(ctx, 4, &l), &l);
    push(s, sgad_conv2d_create(ctx, 1, 2, 5, 1, 0, 1, &l), &l);
    push(s, sgad_batchnorm2d_create(ctx, 2, &l), &l);
    push(s, sgad_lif_create(ctx, &l), &l);
    push(s, sgad_avgpool2d_create(ctx, 2, 2, 0, &l), &l);
    push(s, sgad_conv2d_create(ctx, 2, 3, 3, 1, 0, 1, &l), &l);
    push(s, sgad_batchnorm2d_create(ctx, 3, &l), &l);
    push(s, sgad_lif_create(ctx, &l), &l);
    push(s, sgad_avgpool2d_create(ctx, 2, 2, 0, &l), &l);
    push(s, sgad_reshape_create(ctx, 1, flat, &l), &l);
    push(s, sgad_linear_create(ctx, 12, 5, 1, &l), &l);
    push(s, sgad_lif_create(ctx, &l), &l);
    push(s, sgad_linear_create(ctx, 5, 1, 1, &l), &l);
    push(s, sgad_mp_create(ctx, &l), &l);
    push(s, sgad_last_step_create(ctx, 0.25, &l), &l);
    infer(s, 5, in);
}

/* SWGAN's G on [1, 2, 3], narrowed: 0 repeat(4), 1 linear(3->6), 2 bn1d,
 * 3 lif, 4 linear(6->8), 5 bn1d, 6 lif, 7 reshape(2, 2, 2),
 * 8 convt(2->1, k4, s2, p1) [4x4], 9 mp, 10 last_step, 11 sigmoid. */
static void generator(stack *s)
{
    sgad_ctx *ctx = s->ctx = tu_ctx(8);
    sgad_layer *l = NULL;
    const int64_t map[3] = {2, 2, 2}, in[3] = {1, 2, 3};
    push(s, sgad_repeat_create(ctx, 4, &l), &l);
    push(s, sgad_linear_create(ctx, 3, 6, 1, &l), &l);
    push(s, sgad_batchnorm1d_create(ctx, 6, &l), &l);
    push(s, sgad_lif_create(ctx, &l), &l);
    push(s, sgad_linear_create(ctx, 6, 8, 1, &l), &l);
    push(s, sgad_batchnorm1d_create(ctx, 8, &l), &l);
    push(s, sgad_lif_create(ctx, &l), &l);
    push(s, sgad_reshape_create(ctx, 3, map, &l), &l);
    push(s, sgad_convt2d_create(ctx, 2, 1, 4, 2, 1, 1, &l), &l);
    push(s, sgad_mp_create(ctx, &l), &l);
    push(s, sgad_last_step_create(ctx, 0.25, &l), &l);
    push(s, sgad_sigmoid_create(ctx, &l), &l);
    infer(s, 3, in);
}

/* The layers (by index, -1 ends) whose plan has `field` nonzero. */
#define ASSERT_ONLY(p, n, field, ...)                                                              \
    do {                                                                                           \
        const int want_[] = {__VA_ARGS__, -1};                                                     \
        for (int i_ = 0, k_ = 0; i_ < (n); i_++) {                                                 \
            const int on_ = want_[k_] == i_;                                                       \
            ck_assert_msg(((p)[i_].field != 0) == on_, "layer %d: " #field " is %lld", i_,         \
                          (long long)(p)[i_].field);                                               \
            k_ += on_;                                                                             \
        }                                                                                          \
    } while (0)

START_TEST(discriminator_in_training)
{
    stack s = {0};
    discriminator(&s);
    int grads = 0;
    const sgad__plan_layer *p = plan(&s, 1, 0, &grads);
    ck_assert(grads);
    /* the repeat's run: conv and batch norm on one step, the LIF reading
     * that step at every step */
    ASSERT_ONLY(p, s.n, run_start, 0);
    ASSERT_ONLY(p, s.n, compact, 0, 1, 2);
    ASSERT_ONLY(p, s.n, run_end, -1);
    ASSERT_ONLY(p, s.n, shared_input, 3);
    /* the first batch norm is in the run, the second is applied by its LIF */
    ASSERT_ONLY(p, s.n, stats_only, 6);
    /* both conv LIFs pool 2x2 themselves; the linear one has no pool */
    ASSERT_ONLY(p, s.n, pool_k, 3, 7);
    ck_assert_int_eq(p[3].pool_k, 2);
    ck_assert_int_eq(p[7].pool_k, 2);
    /* kept: what some backward reads, and the score */
    ASSERT_ONLY(p, s.n, kept, 0, 1, 2, 4, 5, 9, 10, 11, 12, 14);
    /* pooled spikes and spikes read by conv or linear layers as codes */
    ASSERT_ONLY(p, s.n, packed, 4, 9, 11);
    ck_assert_int_eq(p[4].levels, 4);
    ck_assert_int_eq(p[9].levels, 4);
    ck_assert_int_eq(p[11].levels, 1);
    ck_assert_int_eq(p[10].levels, 0);
    /* the reshape of an unkept pooled map is a view */
    ASSERT_ONLY(p, s.n, view, 9);
    release(&s);
}
END_TEST

START_TEST(evaluation_keeps_every_output)
{
    stack s = {0};
    discriminator(&s);
    int grads = 1;
    const sgad__plan_layer *p = plan(&s, 0, 0, &grads);
    ck_assert(!grads);
    for (int i = 0; i < s.n; i++) {
        ck_assert_msg(p[i].kept && !p[i].packed && !p[i].view, "layer %d", i);
        ck_assert_msg(!p[i].stats_only && !p[i].pool_k, "layer %d", i);
    }
    /* runs do not depend on the mode */
    ASSERT_ONLY(p, s.n, compact, 0, 1, 2);
    ASSERT_ONLY(p, s.n, shared_input, 3);
    release(&s);
}
END_TEST

START_TEST(generator_in_training)
{
    stack s = {0};
    generator(&s);
    const sgad__plan_layer *p = plan(&s, 1, 0, NULL);
    ASSERT_ONLY(p, s.n, compact, 0, 1, 2);
    ASSERT_ONLY(p, s.n, shared_input, 3);
    ASSERT_ONLY(p, s.n, stats_only, 5);
    ASSERT_ONLY(p, s.n, pool_k, -1);
    ASSERT_ONLY(p, s.n, kept, 0, 1, 2, 3, 4, 7, 8, 11);
    ASSERT_ONLY(p, s.n, packed, 3, 7);
    ASSERT_ONLY(p, s.n, view, 7);
    release(&s);
}
END_TEST

START_TEST(lean_sampling_keeps_the_last_outputs)
{
    stack s = {0};
    generator(&s);
    int grads = 0;
    const sgad__plan_layer *p = plan(&s, 0, 8, &grads);
    ck_assert(grads);
    ASSERT_ONLY(p, s.n, kept, 8, 9, 10, 11);
    /* the batch norm outside the run is still applied by its LIF, but no
     * neuron pools and nothing is packed outside training */
    ASSERT_ONLY(p, s.n, stats_only, 5);
    ASSERT_ONLY(p, s.n, pool_k, -1);
    ASSERT_ONLY(p, s.n, packed, -1);
    ASSERT_ONLY(p, s.n, view, 7);
    /* the same whether the layers are in training or not */
    const sgad__plan_layer lean = p[5];
    p = plan(&s, 1, 8, NULL);
    ck_assert_int_eq(p[5].stats_only, lean.stats_only);
    ASSERT_ONLY(p, s.n, kept, 8, 9, 10, 11);
    release(&s);
}
END_TEST

/* repeat, linear, leaky, linear, mp on [1, 2, 3]: the run ends at the
 * second linear, repeated for the MP neuron, which cannot share a step. */
START_TEST(a_run_ends_where_no_layer_reads_one_step)
{
    stack s = {0};
    sgad_ctx *ctx = s.ctx = tu_ctx(9);
    sgad_layer *l = NULL;
    const int64_t in[3] = {1, 2, 3};
    push(&s, sgad_repeat_create(ctx, 4, &l), &l);
    push(&s, sgad_linear_create(ctx, 3, 5, 1, &l), &l);
    push(&s, sgad_leaky_relu_create(ctx, 0.2, &l), &l);
    push(&s, sgad_linear_create(ctx, 5, 2, 1, &l), &l);
    push(&s, sgad_mp_create(ctx, &l), &l);
    infer(&s, 3, in);
    const sgad__plan_layer *p = plan(&s, 1, 0, NULL);
    ASSERT_ONLY(p, s.n, run_start, 0);
    ASSERT_ONLY(p, s.n, compact, 0, 1, 2);
    ASSERT_ONLY(p, s.n, run_end, 3);
    ASSERT_ONLY(p, s.n, shared_input, -1);
    release(&s);
}
END_TEST

/* bn2d, lif, pool(2), sigmoid on 5x5 maps: the windows do not tile, so
 * the LIF does not pool, and its spikes are not kept (neither it nor the
 * pooling reads them back); the batch norm, on all steps, is applied by
 * the LIF. */
START_TEST(pooling_fuses_only_where_windows_tile)
{
    stack s = {0};
    sgad_ctx *ctx = s.ctx = tu_ctx(10);
    sgad_layer *l = NULL;
    const int64_t in[5] = {3, 2, 2, 5, 5};
    push(&s, sgad_batchnorm2d_create(ctx, 2, &l), &l);
    push(&s, sgad_lif_create(ctx, &l), &l);
    push(&s, sgad_avgpool2d_create(ctx, 2, 2, 0, &l), &l);
    push(&s, sgad_sigmoid_create(ctx, &l), &l);
    infer(&s, 5, in);
    const sgad__plan_layer *p = plan(&s, 1, 0, NULL);
    ASSERT_ONLY(p, s.n, pool_k, -1);
    ASSERT_ONLY(p, s.n, stats_only, 0);
    ASSERT_ONLY(p, s.n, kept, 3);
    release(&s);
}
END_TEST

Suite *suite_plan(void)
{
    Suite *s = suite_create("plan");
    TCase *tc = tcase_create("plan");
    tcase_add_test(tc, discriminator_in_training);
    tcase_add_test(tc, evaluation_keeps_every_output);
    tcase_add_test(tc, generator_in_training);
    tcase_add_test(tc, lean_sampling_keeps_the_last_outputs);
    tcase_add_test(tc, a_run_ends_where_no_layer_reads_one_step);
    tcase_add_test(tc, pooling_fuses_only_where_windows_tile);
    suite_add_tcase(s, tc);
    return s;
}
