/* SPDX-License-Identifier: MIT */
/* Nets: composition, parameter listing, ownership, gradients end to end,
 * buffer reuse across batch sizes, and errors that name the layer. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "test_util.h"

/* Takes &l: the layer pointer is read after the create call has run. */
static void add(sgad_ctx *ctx, sgad_net *net, sgad_status made, sgad_layer **l)
{
    ASSERT_OK(ctx, made);
    ASSERT_OK(ctx, sgad_net_adopt(net, *l));
}

/* linear(6->8) bn1d(8) leaky(0.2) linear(8->12) reshape(3x2x2) sigmoid */
static sgad_net *dense_net(sgad_ctx *ctx)
{
    sgad_net *net = NULL;
    sgad_layer *l = NULL;
    const int64_t img[3] = {3, 2, 2};
    ASSERT_OK(ctx, sgad_net_create(ctx, &net));
    add(ctx, net, sgad_linear_create(ctx, 6, 8, 1, &l), &l);
    add(ctx, net, sgad_batchnorm1d_create(ctx, 8, &l), &l);
    add(ctx, net, sgad_leaky_relu_create(ctx, 0.2, &l), &l);
    add(ctx, net, sgad_linear_create(ctx, 8, 12, 0, &l), &l);
    add(ctx, net, sgad_reshape_create(ctx, 3, img, &l), &l);
    add(ctx, net, sgad_sigmoid_create(ctx, &l), &l);
    return net;
}

/* [repeat(3)] conv(1->2, k3) [bn2d(2)] act pool(2) reshape(8) linear(8->3)
 * on [T, N, 1, 6, 6], act a LIF or a leaky ReLU (WIDE: reshape(300) and
 * linear(300->3) on [T, N, 1, 4, 302], rows longer than the neuron's
 * blocks). The activation's output
 * feeds only the pooling layer and the pooling's only the reshape, so in
 * training neither is kept; after the repeat the net runs conv and batch
 * norm (and with a leaky ReLU everything to the end) on one step. */
enum { WITH_REPEAT = 1, WITH_BN = 2, SPIKING = 4, POOL3 = 8 /* 3x3 windows */, WIDE = 16 };

static sgad_net *pooled_net(sgad_ctx *ctx, int parts)
{
    sgad_net *net = NULL;
    sgad_layer *l = NULL;
    const int64_t flat[1] = {parts & WIDE ? 300 : 8};
    ASSERT_OK(ctx, sgad_net_create(ctx, &net));
    if (parts & WITH_REPEAT)
        add(ctx, net, sgad_repeat_create(ctx, 3, &l), &l);
    add(ctx, net, sgad_conv2d_create(ctx, 1, 2, 3, 1, 0, 1, &l), &l);
    if (parts & WITH_BN)
        add(ctx, net, sgad_batchnorm2d_create(ctx, 2, &l), &l);
    if (parts & SPIKING)
        add(ctx, net, sgad_lif_create(ctx, &l), &l);
    else
        add(ctx, net, sgad_leaky_relu_create(ctx, 0.2, &l), &l);
    add(ctx, net, sgad_avgpool2d_create(ctx, parts & POOL3 ? 3 : 2, 0, 0, &l), &l);
    add(ctx, net, sgad_reshape_create(ctx, 1, flat, &l), &l);
    add(ctx, net, sgad_linear_create(ctx, flat[0], 3, 1, &l), &l);
    return net;
}

START_TEST(unread_outputs_are_not_kept_in_training)
{
    sgad_ctx *ctx = tu_ctx(21);
    sgad_net *net = pooled_net(ctx, SPIKING);
    sgad_tensor *x = tu_tensor(ctx, 3, 2, 1, 6, 6, 0), *spikes = tu_tensor(ctx, 3, 2, 2, 4, 4, 0);
    sgad_tensor *flat = tu_tensor(ctx, 3, 2, 8, 0);
    uint64_t state = 4;
    tu_fill_uniform(sgad_tensor_data(x), sgad_tensor_numel(x), -3, 3, &state);
    ASSERT_OK(ctx, sgad_net_forward(net, x, NULL));
    ASSERT_STATUS(SGAD_E_STATE, sgad_net_activation(net, 1, spikes));
    ck_assert_ptr_nonnull(strstr(sgad_ctx_last_error(ctx), "evaluation mode"));
    ASSERT_STATUS(SGAD_E_STATE, sgad_net_activation(net, 2, flat));
    ASSERT_OK(ctx, sgad_net_activation(net, 3, flat)); /* the linear layer reads it */
    /* kept as bytes, it reads back as pooled spikes: multiples of 1/4 */
    int pooled_nonzero = 0;
    for (int64_t i = 0; i < sgad_tensor_numel(flat); i++) {
        const float v = sgad_tensor_data(flat)[i];
        ck_assert(v >= 0.0f && v <= 1.0f && v * 4.0f == (float)(int)(v * 4.0f));
        pooled_nonzero += v > 0.0f;
    }
    ck_assert(pooled_nonzero > 0);
    int nd;
    int64_t dims[SGAD_MAX_DIMS];
    ASSERT_OK(ctx, sgad_net_activation_dims(net, 1, &nd, dims));
    ck_assert(nd == 5 && dims[2] == 2 && dims[3] == 4);
    /* In evaluation every output is kept: the spikes are there, 0 or 1. */
    ASSERT_OK(ctx, sgad_net_set_training(net, 0));
    ASSERT_OK(ctx, sgad_net_forward(net, x, NULL));
    ASSERT_OK(ctx, sgad_net_activation(net, 1, spikes));
    int fired = 0;
    for (int64_t i = 0; i < sgad_tensor_numel(spikes); i++) {
        const float v = sgad_tensor_data(spikes)[i];
        ck_assert(v == 0.0f || v == 1.0f);
        fired += v == 1.0f;
    }
    ck_assert(fired > 0);
    sgad_tensor_free(x);
    sgad_tensor_free(spikes);
    sgad_tensor_free(flat);
    sgad_net_free(net);
    sgad_ctx_free(ctx);
}
END_TEST

/* Gradients are right with outputs in the shared spares. */
START_TEST(gradients_with_unkept_outputs)
{
    sgad_ctx *ctx = tu_ctx(22);
    sgad_net *net = pooled_net(ctx, 0);
    gc_opts o = gc_default();
    /* as in gradients_through_the_whole_net: the leaky ReLU's kink needs a
     * step small enough to stay on one side of it */
    o.eps = 1e-3f;
    const int64_t d[5] = {2, 2, 1, 6, 6};
    ck_assert(gc_check_net(net, 5, d, &o) <= 1.0);
    sgad_net_free(net);
    sgad_ctx_free(ctx);
}
END_TEST

static void copy_params(sgad_net *from, sgad_net *to)
{
    for (int i = 0; i < sgad_net_param_count(from); i++) {
        sgad_tensor *a, *b;
        ck_assert_int_eq(sgad_net_param(from, i, NULL, &a, NULL), SGAD_OK);
        ck_assert_int_eq(sgad_net_param(to, i, NULL, &b, NULL), SGAD_OK);
        memcpy(sgad_tensor_data(b), sgad_tensor_data(a),
               (size_t)sgad_tensor_numel(a) * sizeof(float));
    }
}

/* Layers after a repeat run on one step: the same outputs, gradients and
 * batch-norm statistics as running every step of the repeated input. */
static void check_repeat_runs(int spiking)
{
    sgad_ctx *ctx = tu_ctx(23);
    const int parts = WITH_BN | (spiking ? SPIKING : 0);
    sgad_net *a = pooled_net(ctx, WITH_REPEAT | parts), *b = pooled_net(ctx, parts);
    copy_params(a, b);
    sgad_tensor *x1 = tu_tensor(ctx, 1, 4, 1, 6, 6, 0), *x3 = tu_tensor(ctx, 3, 4, 1, 6, 6, 0);
    sgad_tensor *ya = tu_tensor(ctx, 3, 4, 3, 0), *yb = tu_tensor(ctx, 3, 4, 3, 0);
    sgad_tensor *dy = tu_tensor(ctx, 3, 4, 3, 0), *dx1 = tu_tensor(ctx, 1, 4, 1, 6, 6, 0);
    sgad_tensor *dx3 = tu_tensor(ctx, 3, 4, 1, 6, 6, 0);
    uint64_t state = 8;
    tu_fill_uniform(sgad_tensor_data(x1), 144, -3, 3, &state);
    for (int t = 0; t < 3; t++)
        memcpy(sgad_tensor_data(x3) + t * 144, sgad_tensor_data(x1), 144 * sizeof(float));
    tu_fill_uniform(sgad_tensor_data(dy), 36, -1, 1, &state);
    ASSERT_OK(ctx, sgad_net_forward(a, x1, ya));
    ASSERT_OK(ctx, sgad_net_forward(b, x3, yb));
    ck_assert(tu_max_scaled_err(sgad_tensor_data(ya), sgad_tensor_data(yb), 36, 1e-5, 1e-6) <= 1);
    ASSERT_OK(ctx, sgad_net_backward(a, dy, dx1));
    ASSERT_OK(ctx, sgad_net_backward(b, dy, dx3));
    float summed[144] = {0};
    for (int t = 0; t < 3; t++)
        for (int j = 0; j < 144; j++)
            summed[j] += sgad_tensor_data(dx3)[t * 144 + j];
    ck_assert(tu_max_scaled_err(sgad_tensor_data(dx1), summed, 144, 1e-5, 1e-6) <= 1);
    for (int i = 0; i < sgad_net_param_count(a); i++) {
        const char *name;
        sgad_tensor *va, *ga, *vb, *gb;
        ASSERT_OK(ctx, sgad_net_param(a, i, &name, &va, &ga));
        ASSERT_OK(ctx, sgad_net_param(b, i, NULL, &vb, &gb));
        const int64_t n = sgad_tensor_numel(va);
        if (ga)
            ck_assert_msg(
                tu_max_scaled_err(sgad_tensor_data(ga), sgad_tensor_data(gb), n, 1e-5, 1e-6) <= 1,
                "gradient of %s", name);
        else /* running statistics: the same values, updated once per step */
            ck_assert_msg(
                memcmp(sgad_tensor_data(va), sgad_tensor_data(vb), (size_t)n * sizeof(float)) == 0,
                "%s", name);
    }
    /* The conv's output, held for one step, reads back as all three. */
    sgad_tensor *conv_a = tu_tensor(ctx, 3, 4, 2, 4, 4, 0);
    sgad_tensor *conv_b = tu_tensor(ctx, 3, 4, 2, 4, 4, 0);
    ASSERT_OK(ctx, sgad_net_activation(a, 1, conv_a));
    ASSERT_OK(ctx, sgad_net_activation(b, 0, conv_b));
    ck_assert(tu_max_scaled_err(sgad_tensor_data(conv_a), sgad_tensor_data(conv_b), 384, 1e-6,
                                1e-6) <= 1);
    sgad_tensor *all[] = {x1, x3, ya, yb, dy, dx1, dx3, conv_a, conv_b};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        sgad_tensor_free(all[i]);
    sgad_net_free(a);
    sgad_net_free(b);
    sgad_ctx_free(ctx);
}

START_TEST(layers_after_a_repeat_run_on_one_step)
{
    check_repeat_runs(0); /* the run reaches the net's end */
    check_repeat_runs(1); /* the run ends at batch norm, before the neuron */
}
END_TEST

START_TEST(params_are_listed_with_pytorch_names)
{
    sgad_ctx *ctx = tu_ctx(3);
    sgad_net *net = dense_net(ctx);
    ck_assert_int_eq(sgad_net_layer_count(net), 6);
    ck_assert_int_eq(sgad_net_param_count(net), 7);
    const char *want[7] = {"0.weight",       "0.bias",        "1.weight", "1.bias",
                           "1.running_mean", "1.running_var", "3.weight"};
    for (int i = 0; i < 7; i++) {
        const char *name;
        sgad_tensor *v, *g;
        ASSERT_OK(ctx, sgad_net_param(net, i, &name, &v, &g));
        ck_assert_str_eq(name, want[i]);
        ck_assert_ptr_nonnull(v);
        ck_assert(i == 4 || i == 5 ? g == NULL : g != NULL);
    }
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_net_param(net, 7, NULL, NULL, NULL));
    ck_assert_ptr_null(sgad_net_layer(net, 6));
    ck_assert_int_eq(sgad_layer_get_kind(sgad_net_layer(net, 4)), SGAD_LAYER_RESHAPE);
    sgad_net_free(net);
    sgad_ctx_free(ctx);
}
END_TEST

START_TEST(gradients_through_the_whole_net)
{
    sgad_ctx *ctx = tu_ctx(3);
    sgad_net *net = dense_net(ctx);
    gc_opts o = gc_default();
    /* The leaky ReLU after batch norm has a kink at 0 that a perturbed
     * weight can push a value across; a small step keeps the difference
     * quotient on one side for these seeded inputs. */
    o.eps = 1e-3f;
    o.x_lo = -2;
    o.x_hi = 2;
    const int64_t d1[3] = {2, 4, 6}, d2[3] = {1, 3, 6};
    gc_check_net(net, 3, d1, &o);
    gc_check_net(net, 3, d2, &o); /* a smaller batch reuses the buffers */
    sgad_net_free(net);
    sgad_ctx_free(ctx);
}
END_TEST

START_TEST(forward_is_repeatable_and_output_is_borrowed)
{
    sgad_ctx *ctx = tu_ctx(3);
    sgad_net *net = dense_net(ctx);
    ck_assert_ptr_null(sgad_net_output(net));
    sgad_tensor *x = tu_tensor(ctx, 2, 5, 6, 0), *y = tu_tensor(ctx, 2, 5, 3, 2, 2, 0);
    uint64_t rng = 1;
    tu_fill_uniform(sgad_tensor_data(x), 60, -1, 1, &rng);
    ASSERT_OK(ctx, sgad_net_forward(net, x, y));
    const sgad_tensor *out = sgad_net_output(net);
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(sgad_tensor_ndim(out), 5);
    ck_assert_mem_eq(sgad_tensor_data(out), sgad_tensor_data(y), 120 * sizeof(float));
    float first[120];
    memcpy(first, sgad_tensor_data(y), sizeof first);
    ASSERT_OK(ctx, sgad_net_forward(net, x, y));
    ck_assert_mem_eq(first, sgad_tensor_data(y), sizeof first);
    /* x was copied: changing it after forward cannot change backward. */
    int nd;
    int64_t od[SGAD_MAX_DIMS];
    const int64_t xd[3] = {2, 5, 6};
    ASSERT_OK(ctx, sgad_net_output_dims(net, 3, xd, &nd, od));
    ck_assert(nd == 5 && od[0] == 2 && od[1] == 5 && od[2] == 3 && od[3] == 2 && od[4] == 2);
    sgad_tensor_free(x);
    sgad_tensor_free(y);
    sgad_net_free(net);
    sgad_ctx_free(ctx);
}
END_TEST

START_TEST(errors_name_the_layer)
{
    sgad_ctx *ctx = tu_ctx(3);
    sgad_net *net = dense_net(ctx);
    sgad_tensor *x = tu_tensor(ctx, 2, 5, 7, 0);
    ASSERT_STATUS(SGAD_E_SHAPE, sgad_net_forward(net, x, NULL));
    ck_assert_ptr_nonnull(strstr(sgad_ctx_last_error(ctx), "layer 0 (linear)"));
    sgad_tensor *dy = tu_tensor(ctx, 2, 5, 3, 2, 2, 0);
    ASSERT_STATUS(SGAD_E_STATE, sgad_net_backward(net, dy, NULL));
    sgad_tensor *x6 = tu_tensor(ctx, 2, 5, 6, 0), *bad = tu_tensor(ctx, 2, 5, 12, 0);
    ASSERT_STATUS(SGAD_E_SHAPE, sgad_net_forward(net, x6, bad));
    ASSERT_OK(ctx, sgad_net_forward(net, x6, NULL));
    ASSERT_STATUS(SGAD_E_SHAPE, sgad_net_backward(net, bad, NULL));
    ASSERT_STATUS(SGAD_E_SHAPE, sgad_net_backward(net, dy, bad));
    ASSERT_OK(ctx, sgad_net_backward(net, dy, NULL));
    sgad_net *sig = NULL;
    sgad_layer *l = NULL;
    ASSERT_OK(ctx, sgad_net_create(ctx, &sig));
    add(ctx, sig, sgad_sigmoid_create(ctx, &l), &l);
    ASSERT_OK(ctx, sgad_net_forward(sig, x6, NULL));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_net_backward(sig, x6, x6));
    ck_assert_ptr_nonnull(strstr(sgad_ctx_last_error(ctx), "share memory"));
    sgad_net_free(sig);
    sgad_net *empty = NULL;
    ASSERT_OK(ctx, sgad_net_create(ctx, &empty));
    ASSERT_STATUS(SGAD_E_STATE, sgad_net_forward(empty, x6, NULL));
    ck_assert_ptr_nonnull(strstr(sgad_ctx_last_error(ctx), "no layers"));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_net_forward(NULL, x6, NULL));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_net_forward(net, NULL, NULL));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_net_set_training(net, 3));
    sgad_net_free(empty);
    sgad_tensor_free(x);
    sgad_tensor_free(x6);
    sgad_tensor_free(dy);
    sgad_tensor_free(bad);
    sgad_net_free(net);
    sgad_ctx_free(ctx);
}
END_TEST

START_TEST(adopt_takes_ownership_only_on_success)
{
    sgad_ctx *ctx = tu_ctx(3), *other = tu_ctx(4);
    sgad_net *a = NULL, *b = NULL;
    ASSERT_OK(ctx, sgad_net_create(ctx, &a));
    ASSERT_OK(ctx, sgad_net_create(ctx, &b));
    sgad_layer *l = NULL, *foreign = NULL;
    ASSERT_OK(ctx, sgad_sigmoid_create(ctx, &l));
    ASSERT_OK(other, sgad_sigmoid_create(other, &foreign));
    ASSERT_OK(ctx, sgad_net_adopt(a, l));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_net_adopt(b, l));
    ck_assert_ptr_nonnull(strstr(sgad_ctx_last_error(ctx), "already belongs"));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_net_adopt(b, foreign));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_net_adopt(b, NULL));
    ck_assert_int_eq(sgad_net_layer_count(b), 0);
    sgad_layer_free(foreign); /* still ours */
    sgad_net_free(a);         /* frees l */
    sgad_net_free(b);
    sgad_net_free(NULL);
    sgad_ctx_free(ctx);
    sgad_ctx_free(other);
}
END_TEST

START_TEST(zero_grad_and_accumulation)
{
    sgad_ctx *ctx = tu_ctx(3);
    sgad_net *net = dense_net(ctx);
    sgad_tensor *x = tu_tensor(ctx, 2, 4, 6, 0), *dy = tu_tensor(ctx, 2, 4, 3, 2, 2, 0);
    uint64_t rng = 2;
    tu_fill_uniform(sgad_tensor_data(x), 48, -1, 1, &rng);
    tu_fill_uniform(sgad_tensor_data(dy), 96, -1, 1, &rng);
    sgad_tensor *g;
    ASSERT_OK(ctx, sgad_net_param(net, 0, NULL, NULL, &g));
    ASSERT_OK(ctx, sgad_net_forward(net, x, NULL));
    ASSERT_OK(ctx, sgad_net_backward(net, dy, NULL));
    float once[48];
    memcpy(once, sgad_tensor_data(g), sizeof once);
    ASSERT_OK(ctx, sgad_net_backward(net, dy, NULL));
    for (int i = 0; i < 48; i++)
        ck_assert_float_eq_tol(sgad_tensor_data(g)[i], 2 * once[i], 1e-6f);
    sgad_net_zero_grad(net);
    for (int i = 0; i < 48; i++)
        ck_assert_float_eq(sgad_tensor_data(g)[i], 0.0f);
    sgad_tensor_free(x);
    sgad_tensor_free(dy);
    sgad_net_free(net);
    sgad_ctx_free(ctx);
}
END_TEST

/* An allocator that overwrites memory with NaNs as it frees it, so a net
 * reading a buffer another net's growth freed gets NaNs rather than stale
 * values that happen to be right (writing into one before reading it is
 * left to `make check-asan`, which reports it: checked by dropping the
 * backward's re-fetch of the buffers). The size sits in a 16-byte header. */
static void *poison_alloc(void *opaque, size_t size)
{
    (void)opaque;
    size_t *p = malloc(size + 16);
    if (!p)
        return NULL;
    p[0] = size;
    return (char *)p + 16;
}

static void poison_free(void *opaque, void *ptr)
{
    (void)opaque;
    size_t *p = (size_t *)((char *)ptr - 16);
    memset(ptr, 0xff, p[0]);
    free(p);
}

/* One forward and backward of a fresh spiking pooled net (weights copied
 * from `like`) on x and dy, with `between` run forward and backward on
 * `big` in the same context after the forward; returns dx and every
 * parameter gradient, concatenated. */
static float *run_with_other_net(sgad_net *like, int between, sgad_tensor *x, sgad_tensor *dy,
                                 sgad_tensor *big, int64_t *len)
{
    sgad_ctx *ctx = NULL;
    ASSERT_OK(ctx, sgad_ctx_create_ex(poison_alloc, poison_free, NULL, &ctx));
    sgad_net *a = pooled_net(ctx, SPIKING | WITH_BN), *b = pooled_net(ctx, SPIKING | WITH_BN);
    copy_params(like, a);
    sgad_tensor *dx = tu_tensor(ctx, 3, 2, 1, 6, 6, 0), *dbig = tu_tensor(ctx, 3, 16, 3, 0);
    ASSERT_OK(ctx, sgad_net_forward(a, x, NULL));
    if (between) { /* B's batch is 8x A's: the shared buffers grow and move */
        ASSERT_OK(ctx, sgad_net_forward(b, big, NULL));
        ASSERT_OK(ctx, sgad_net_backward(b, dbig, NULL));
    }
    ASSERT_OK(ctx, sgad_net_backward(a, dy, dx));
    *len = sgad_tensor_numel(dx);
    for (int i = 0; i < sgad_net_param_count(a); i++) {
        sgad_tensor *g;
        ASSERT_OK(ctx, sgad_net_param(a, i, NULL, NULL, &g));
        *len += g ? sgad_tensor_numel(g) : 0;
    }
    float *out = malloc((size_t)*len * sizeof *out), *p = out;
    ck_assert_ptr_nonnull(out);
    memcpy(p, sgad_tensor_data(dx), (size_t)sgad_tensor_numel(dx) * sizeof *p);
    p += sgad_tensor_numel(dx);
    for (int i = 0; i < sgad_net_param_count(a); i++) {
        sgad_tensor *g;
        ASSERT_OK(ctx, sgad_net_param(a, i, NULL, NULL, &g));
        if (g) {
            memcpy(p, sgad_tensor_data(g), (size_t)sgad_tensor_numel(g) * sizeof *p);
            p += sgad_tensor_numel(g);
        }
    }
    sgad_tensor_free(dx);
    sgad_tensor_free(dbig);
    sgad_net_free(a);
    sgad_net_free(b);
    sgad_ctx_free(ctx);
    return out;
}

/* The nets of a context share its two gradient buffers: another net run in
 * between (growing and moving them) changes nothing in a net's backward. */
START_TEST(nets_of_a_context_share_gradient_buffers)
{
    sgad_ctx *ctx = tu_ctx(25);
    sgad_net *like = pooled_net(ctx, SPIKING | WITH_BN);
    sgad_tensor *x = tu_tensor(ctx, 3, 2, 1, 6, 6, 0), *dy = tu_tensor(ctx, 3, 2, 3, 0);
    sgad_tensor *big = tu_tensor(ctx, 3, 16, 1, 6, 6, 0);
    uint64_t state = 12;
    tu_fill_uniform(sgad_tensor_data(x), sgad_tensor_numel(x), -3, 3, &state);
    tu_fill_uniform(sgad_tensor_data(dy), sgad_tensor_numel(dy), -1, 1, &state);
    tu_fill_uniform(sgad_tensor_data(big), sgad_tensor_numel(big), -3, 3, &state);
    int64_t n1, n2;
    float *alone = run_with_other_net(like, 0, x, dy, big, &n1);
    float *shared = run_with_other_net(like, 1, x, dy, big, &n2);
    ck_assert_int_eq(n1, n2);
    ck_assert_msg(memcmp(alone, shared, (size_t)n1 * sizeof *alone) == 0,
                  "another net in between changed the gradients");
    double norm = 0;
    for (int64_t i = 0; i < n1; i++)
        norm += fabs(alone[i]);
    ck_assert(norm > 0); /* the comparison saw real gradients */
    free(alone);
    free(shared);
    sgad_tensor_free(x);
    sgad_tensor_free(dy);
    sgad_tensor_free(big);
    sgad_net_free(like);
    sgad_ctx_free(ctx);
}
END_TEST

/* linear(5->12) bn1d(12) lif linear(12->3). In training the batch norm's
 * output is read only by the LIF, which recomputes it in backward. */
static sgad_net *norm_lif_net(sgad_ctx *ctx)
{
    sgad_net *net = NULL;
    sgad_layer *l = NULL;
    ASSERT_OK(ctx, sgad_net_create(ctx, &net));
    add(ctx, net, sgad_linear_create(ctx, 5, 12, 1, &l), &l);
    add(ctx, net, sgad_batchnorm1d_create(ctx, 12, &l), &l);
    add(ctx, net, sgad_lif_create(ctx, &l), &l);
    add(ctx, net, sgad_linear_create(ctx, 12, 3, 1, &l), &l);
    return net;
}

/* dx, then every parameter gradient, in one malloc'd array of *n floats. */
static float *gather_grads(sgad_net *net, const sgad_tensor *dx, int64_t *n)
{
    int64_t total = sgad_tensor_numel(dx);
    for (int i = 0; i < sgad_net_param_count(net); i++) {
        sgad_tensor *g;
        ck_assert_int_eq(sgad_net_param(net, i, NULL, NULL, &g), SGAD_OK);
        total += g ? sgad_tensor_numel(g) : 0;
    }
    float *out = malloc((size_t)total * sizeof *out), *p = out;
    ck_assert_ptr_nonnull(out);
    memcpy(p, sgad_tensor_data(dx), (size_t)sgad_tensor_numel(dx) * sizeof *p);
    p += sgad_tensor_numel(dx);
    for (int i = 0; i < sgad_net_param_count(net); i++) {
        sgad_tensor *g;
        ck_assert_int_eq(sgad_net_param(net, i, NULL, NULL, &g), SGAD_OK);
        if (g) {
            memcpy(p, sgad_tensor_data(g), (size_t)sgad_tensor_numel(g) * sizeof *p);
            p += sgad_tensor_numel(g);
        }
    }
    *n = total;
    return out;
}

/* The net's layers run one by one through the public layer calls, every
 * output kept, as the reference for the net's own bookkeeping. */
static void chain_backward(sgad_ctx *ctx, sgad_net *net, sgad_tensor *x, const sgad_tensor *dy,
                           sgad_tensor *dx, sgad_tensor *y)
{
    enum { MAX_LAYERS = 8 };
    const int nl = sgad_net_layer_count(net);
    ck_assert(nl <= MAX_LAYERS);
    sgad_tensor *acts[MAX_LAYERS + 1] = {x}, *grads[MAX_LAYERS + 1] = {dx};
    for (int i = 0; i < nl; i++) {
        int nd;
        int64_t dims[SGAD_MAX_DIMS];
        ASSERT_OK(ctx, sgad_net_activation_dims(net, i, &nd, dims));
        ASSERT_OK(ctx, sgad_tensor_create(ctx, nd, dims, &acts[i + 1]));
        ASSERT_OK(ctx, sgad_tensor_create(ctx, nd, dims, &grads[i + 1]));
        ASSERT_OK(ctx, sgad_layer_forward(sgad_net_layer(net, i), acts[i], acts[i + 1]));
    }
    memcpy(sgad_tensor_data(y), sgad_tensor_data(acts[nl]),
           (size_t)sgad_tensor_numel(y) * sizeof(float));
    memcpy(sgad_tensor_data(grads[nl]), sgad_tensor_data(dy),
           (size_t)sgad_tensor_numel(dy) * sizeof(float));
    for (int i = nl - 1; i >= 0; i--)
        ASSERT_OK(ctx, sgad_layer_backward(sgad_net_layer(net, i), acts[i], acts[i + 1],
                                           grads[i + 1], grads[i]));
    for (int i = 1; i <= nl; i++) {
        sgad_tensor_free(acts[i]);
        sgad_tensor_free(grads[i]);
    }
}

/* In training a net saves memory three ways: a batch norm's output read
 * only by a LIF is not kept (the LIF's backward recomputes it from the
 * batch norm's input); a LIF followed by a 2x2 pooling pools its spikes
 * itself, never writing them; spikes and pooled spikes that a linear
 * layer reads back are kept as bytes. The outputs and gradients are bit
 * for bit those of the layers run one by one with every output kept: batch
 * norm 1d and 2d, 2x2 and 3x3 windows, images whose side the window
 * divides (fused) or not (pooled by the pooling layer), and rows longer
 * than a block of the neuron's backward (which expands the pooled gradient
 * row by row). */
static sgad_tensor *tensor_like(sgad_ctx *ctx, const sgad_tensor *t)
{
    int64_t dims[SGAD_MAX_DIMS];
    for (int i = 0; i < sgad_tensor_ndim(t); i++)
        dims[i] = sgad_tensor_dim(t, i);
    sgad_tensor *out = NULL;
    ASSERT_OK(ctx, sgad_tensor_create(ctx, sgad_tensor_ndim(t), dims, &out));
    return out;
}

static void check_norm_recomputed(sgad_ctx *ctx, sgad_net *net, int norm_layer, sgad_tensor *x,
                                  sgad_tensor *y, uint64_t seed)
{
    sgad_tensor *dx = tensor_like(ctx, x), *dy = tensor_like(ctx, y), *bn_out = NULL;
    sgad_tensor *y_layers = tensor_like(ctx, y);
    int nd;
    int64_t dims[SGAD_MAX_DIMS];
    uint64_t state = seed;
    tu_fill_uniform(sgad_tensor_data(x), sgad_tensor_numel(x), -3, 3, &state);
    tu_fill_uniform(sgad_tensor_data(dy), sgad_tensor_numel(dy), -1, 1, &state);
    ASSERT_OK(ctx, sgad_net_forward(net, x, y));
    ASSERT_OK(ctx, sgad_net_activation_dims(net, norm_layer, &nd, dims));
    ASSERT_OK(ctx, sgad_tensor_create(ctx, nd, dims, &bn_out));
    ASSERT_STATUS(SGAD_E_STATE, sgad_net_activation(net, norm_layer, bn_out));
    sgad_net_zero_grad(net);
    ASSERT_OK(ctx, sgad_net_backward(net, dy, dx));
    int64_t n1, n2;
    float *by_net = gather_grads(net, dx, &n1);
    sgad_net_zero_grad(net);
    chain_backward(ctx, net, x, dy, dx, y_layers);
    ck_assert_msg(memcmp(sgad_tensor_data(y), sgad_tensor_data(y_layers),
                         (size_t)sgad_tensor_numel(y) * sizeof(float)) == 0,
                  "the net's output differs from that of its layers run one by one");
    float *by_layers = gather_grads(net, dx, &n2);
    ck_assert_int_eq(n1, n2);
    ck_assert_msg(memcmp(by_net, by_layers, (size_t)n1 * sizeof *by_net) == 0,
                  "the net's gradients differ from those of its layers run one by one");
    double norm = 0;
    for (int64_t i = 0; i < n1; i++)
        norm += fabs(by_net[i]);
    ck_assert(norm > 0);
    free(by_net);
    free(by_layers);
    sgad_tensor_free(dx);
    sgad_tensor_free(dy);
    sgad_tensor_free(bn_out);
    sgad_tensor_free(y_layers);
}

START_TEST(memory_savers_leave_results_unchanged)
{
    sgad_ctx *ctx = tu_ctx(26);
    sgad_net *dense = norm_lif_net(ctx), *conv = pooled_net(ctx, SPIKING | WITH_BN);
    sgad_net *conv3 = pooled_net(ctx, SPIKING | WITH_BN | POOL3);
    sgad_net *wide = pooled_net(ctx, SPIKING | WITH_BN | WIDE);
    sgad_tensor *x1 = tu_tensor(ctx, 3, 4, 5, 0), *y1 = tu_tensor(ctx, 3, 4, 3, 0);
    sgad_tensor *x2 = tu_tensor(ctx, 3, 4, 1, 6, 6, 0), *y2 = tu_tensor(ctx, 3, 4, 3, 0);
    sgad_tensor *odd = tu_tensor(ctx, 3, 4, 1, 7, 7, 0);  /* 5x5 spikes: not fused */
    sgad_tensor *x3 = tu_tensor(ctx, 3, 4, 1, 8, 8, 0);   /* 6x6 spikes in 3x3 windows */
    sgad_tensor *x4 = tu_tensor(ctx, 3, 4, 1, 4, 302, 0); /* 2x300 spikes, 600 a plane */
    check_norm_recomputed(ctx, dense, 1, x1, y1, 31);
    check_norm_recomputed(ctx, conv, 1, x2, y2, 32);
    check_norm_recomputed(ctx, conv, 1, odd, y2, 33);
    check_norm_recomputed(ctx, conv3, 1, x3, y2, 34);
    check_norm_recomputed(ctx, wide, 1, x4, y2, 35);
    sgad_tensor *all[] = {x1, y1, x2, y2, odd, x3, x4};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        sgad_tensor_free(all[i]);
    sgad_net_free(dense);
    sgad_net_free(conv);
    sgad_net_free(conv3);
    sgad_net_free(wide);
    sgad_ctx_free(ctx);
}
END_TEST

Suite *suite_net(void)
{
    Suite *s = suite_create("net");
    TCase *tc = tcase_create("net");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, params_are_listed_with_pytorch_names);
    tcase_add_test(tc, unread_outputs_are_not_kept_in_training);
    tcase_add_test(tc, gradients_with_unkept_outputs);
    tcase_add_test(tc, layers_after_a_repeat_run_on_one_step);
    tcase_add_test(tc, gradients_through_the_whole_net);
    tcase_add_test(tc, forward_is_repeatable_and_output_is_borrowed);
    tcase_add_test(tc, errors_name_the_layer);
    tcase_add_test(tc, adopt_takes_ownership_only_on_success);
    tcase_add_test(tc, zero_grad_and_accumulation);
    tcase_add_test(tc, nets_of_a_context_share_gradient_buffers);
    tcase_add_test(tc, memory_savers_leave_results_unchanged);
    suite_add_tcase(s, tc);
    return s;
}
