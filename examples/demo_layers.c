/* SPDX-License-Identifier: MIT */
/* A tour of libsgad's spiking layers: a small convolutional spiking network
 * learns to tell horizontal from vertical bars in noisy 8x8 images, trained
 * with surrogate gradients through time (BPTT) and plain SGD.
 *
 *   conv(1->8, k3, p1) -> batchnorm2d -> LIF -> avgpool(2) -> reshape
 *   -> linear(128 -> 2) -> MP readout; the class is the larger membrane
 *   potential at the last step, trained with softmax cross-entropy.
 *
 * Usage: demo_layers [epochs] [threads] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sgad/sgad.h>

#define SIDE 8
#define STEPS 8
#define BATCH 32
#define TRAIN 1024
#define TEST 256

#define CHECK(ctx, call)                                                                           \
    do {                                                                                           \
        sgad_status s_ = (call);                                                                   \
        if (s_ != SGAD_OK) {                                                                       \
            fprintf(stderr, "demo: %s failed: %s\n", #call, sgad_ctx_last_error(ctx));             \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

static uint64_t rng_state = 42;

static double uniform(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rng_state >> 11) * (1.0 / 9007199254740992.0);
}

/* One image: a bright bar (row for class 0, column for class 1) on noise. */
static void make_image(float *img, int label)
{
    const int pos = (int)(uniform() * SIDE);
    for (int r = 0; r < SIDE; r++)
        for (int c = 0; c < SIDE; c++) {
            const int on = label == 0 ? r == pos : c == pos;
            img[r * SIDE + c] = (float)(0.3 * uniform() + (on ? 0.7 : 0.0));
        }
}

static void make_set(float *images, int *labels, int n)
{
    for (int i = 0; i < n; i++) {
        labels[i] = (int)(uniform() * 2);
        make_image(images + i * SIDE * SIDE, labels[i]);
    }
}

static void add(sgad_ctx *ctx, sgad_net *net, sgad_layer *layer)
{
    CHECK(ctx, sgad_net_adopt(net, layer));
}

static sgad_net *build_net(sgad_ctx *ctx)
{
    sgad_net *net;
    sgad_layer *l;
    const int64_t flat[1] = {8 * 4 * 4};
    CHECK(ctx, sgad_net_create(ctx, &net));
    CHECK(ctx, sgad_conv2d_create(ctx, 1, 8, 3, 1, 1, 1, &l));
    add(ctx, net, l);
    CHECK(ctx, sgad_batchnorm2d_create(ctx, 8, &l));
    add(ctx, net, l);
    CHECK(ctx, sgad_lif_create(ctx, &l));
    add(ctx, net, l);
    CHECK(ctx, sgad_avgpool2d_create(ctx, 2, 0, 0, &l));
    add(ctx, net, l);
    CHECK(ctx, sgad_reshape_create(ctx, 1, flat, &l));
    add(ctx, net, l);
    CHECK(ctx, sgad_linear_create(ctx, flat[0], 2, 1, &l));
    add(ctx, net, l);
    CHECK(ctx, sgad_mp_create(ctx, &l));
    add(ctx, net, l);
    return net;
}

/* Softmax cross-entropy on the last step's membrane; writes dL/dV into the
 * last step of dy (other steps get no gradient). Returns the summed loss
 * and counts correct predictions. */
static double loss_and_grad(const float *out, float *dy, const int *labels, int n, int *correct)
{
    const float *last = out + (STEPS - 1) * n * 2;
    float *dlast = dy + (STEPS - 1) * n * 2;
    memset(dy, 0, (size_t)STEPS * n * 2 * sizeof *dy);
    double loss = 0;
    for (int i = 0; i < n; i++) {
        const double a = last[2 * i], b = last[2 * i + 1], m = a > b ? a : b;
        const double ea = exp(a - m), eb = exp(b - m), z = ea + eb;
        const double p1 = eb / z;
        loss -= log((labels[i] ? eb : ea) / z);
        *correct += (b > a) == (labels[i] == 1);
        dlast[2 * i] = (float)(((1 - p1) - (labels[i] == 0)) / n);
        dlast[2 * i + 1] = (float)((p1 - (labels[i] == 1)) / n);
    }
    return loss;
}

static void sgd_step(sgad_ctx *ctx, sgad_net *net, float lr)
{
    for (int i = 0; i < sgad_net_param_count(net); i++) {
        sgad_tensor *v, *g;
        CHECK(ctx, sgad_net_param(net, i, NULL, &v, &g));
        if (!g)
            continue; /* batch-norm running statistics are not trained */
        float *p = sgad_tensor_data(v);
        const float *d = sgad_tensor_data(g);
        for (int64_t k = 0; k < sgad_tensor_numel(v); k++)
            p[k] -= lr * d[k];
    }
}

/* Runs one pass over n images; trains when lr > 0. Returns accuracy. */
static double run_epoch(sgad_ctx *ctx, sgad_net *net, const float *images, const int *labels, int n,
                        float lr, double *mean_loss)
{
    const int64_t img_dims[4] = {BATCH, 1, SIDE, SIDE};
    const int64_t seq_dims[5] = {STEPS, BATCH, 1, SIDE, SIDE};
    const int64_t out_dims[3] = {STEPS, BATCH, 2};
    sgad_tensor *img, *seq, *dy;
    CHECK(ctx, sgad_tensor_create(ctx, 4, img_dims, &img));
    CHECK(ctx, sgad_tensor_create(ctx, 5, seq_dims, &seq));
    CHECK(ctx, sgad_tensor_create(ctx, 3, out_dims, &dy));
    int correct = 0;
    double loss = 0;
    for (int start = 0; start + BATCH <= n; start += BATCH) {
        memcpy(sgad_tensor_data(img), images + start * SIDE * SIDE,
               sizeof(float) * BATCH * SIDE * SIDE);
        CHECK(ctx, sgad_encode(ctx, SGAD_ENCODE_DIRECT, 0, img, seq));
        CHECK(ctx, sgad_net_forward(net, seq, NULL));
        loss += loss_and_grad(sgad_tensor_data(sgad_net_output(net)), sgad_tensor_data(dy),
                              labels + start, BATCH, &correct);
        if (lr > 0) {
            sgad_net_zero_grad(net);
            CHECK(ctx, sgad_net_backward(net, dy, NULL));
            sgd_step(ctx, net, lr);
        }
    }
    sgad_tensor_free(img);
    sgad_tensor_free(seq);
    sgad_tensor_free(dy);
    *mean_loss = loss / (n / BATCH * BATCH);
    return (double)correct / (n / BATCH * BATCH);
}

int main(int argc, char **argv)
{
    const int epochs = argc > 1 ? atoi(argv[1]) : 8;
    const int threads = argc > 2 ? atoi(argv[2]) : 1;
    if (epochs < 1 || threads < 1) {
        fprintf(stderr, "usage: demo_layers [epochs >= 1] [threads >= 1]\n");
        return 2;
    }
    printf("libsgad %s: spiking CNN (T=%d, LIF, surrogate gradients) on bars 8x8\n",
           sgad_version_string(), STEPS);
    sgad_ctx *ctx;
    if (sgad_ctx_create(&ctx) != SGAD_OK)
        return 1;
    CHECK(ctx, sgad_ctx_set_threads(ctx, threads));
    CHECK(ctx, sgad_ctx_set_seed(ctx, 1));
    sgad_net *net = build_net(ctx);

    static float train_x[TRAIN * SIDE * SIDE], test_x[TEST * SIDE * SIDE];
    static int train_y[TRAIN], test_y[TEST];
    make_set(train_x, train_y, TRAIN);
    make_set(test_x, test_y, TEST);

    double test_acc = 0;
    for (int e = 1; e <= epochs; e++) {
        const clock_t t0 = clock();
        double train_loss, test_loss, rate;
        CHECK(ctx, sgad_net_set_training(net, 1));
        const double train_acc = run_epoch(ctx, net, train_x, train_y, TRAIN, 0.5f, &train_loss);
        CHECK(ctx, sgad_net_set_training(net, 0));
        test_acc = run_epoch(ctx, net, test_x, test_y, TEST, 0.0f, &test_loss);
        CHECK(ctx, sgad_net_firing_rate(net, 2, &rate));
        printf("epoch %2d  loss %.4f  train acc %5.1f%%  test acc %5.1f%%  LIF firing %4.1f%%"
               "  %.2fs\n",
               e, train_loss, 100 * train_acc, 100 * test_acc, 100 * rate,
               (double)(clock() - t0) / CLOCKS_PER_SEC);
    }
    sgad_net_free(net);
    sgad_ctx_free(ctx);
    return test_acc > 0.9 ? 0 : 1;
}
