/* SPDX-License-Identifier: MIT */
/* Dense (BLIS) against event-driven products on spike inputs: for each
 * layer whose input is a spike train in the SGAD 28x28 model, and D's fc1
 * of the 64x64x3 one, the forward pass and the weight gradient are timed
 * on inputs of several shares of nonzeros (binary spikes, or for D's fc1
 * pooled ones), once with SGAD_PATH_DENSE and once with SGAD_PATH_EVENTS,
 * and the ratio printed. The break-even rates in src/layer_linear.c and
 * src/layer_conv.c come from this program. Times are the process's CPU
 * time, not wall time: on a shared machine that keeps the comparison fair
 * at 1 thread (at K threads it is the sum over the threads).
 *
 * Usage: bench_events [--threads K] [--reps R] [--batch N] [--steps T] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sgad/sgad.h>

static int threads = 1, reps = 3, batch = 64, steps = 16;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void check(sgad_ctx *ctx, sgad_status s, const char *what)
{
    if (s != SGAD_OK) {
        fprintf(stderr, "bench_events: %s: %s\n", what, sgad_ctx_last_error(ctx));
        exit(1);
    }
}

/* Spikes with the given share of nonzeros, spread by a fixed hash:
 * binary, or with `pooled` 2x2 averages of binary spikes (0.25 steps), as
 * D's fc1 reads after its average pooling. */
static void fill_spikes(float *x, int64_t n, double share, int pooled)
{
    const double rate = pooled ? 1.0 - pow(1.0 - share, 0.25) : share;
    uint64_t h = 0x9e3779b97f4a7c15u;
    for (int64_t i = 0; i < n; i++) {
        float v = 0.0f;
        for (int k = 0; k < (pooled ? 4 : 1); k++) {
            h ^= h << 13;
            h ^= h >> 7;
            h ^= h << 17;
            v += (double)(h >> 11) * 0x1.0p-53 < rate ? 1.0f : 0.0f;
        }
        x[i] = pooled ? 0.25f * v : v;
    }
}

/* Best of `reps` forward + backward (weight gradient and input gradient)
 * seconds, with the layer set to `path`. */
static double time_path(sgad_ctx *ctx, sgad_layer *l, int path, sgad_tensor *x, sgad_tensor *y,
                        sgad_tensor *dy, sgad_tensor *dx, double *fwd)
{
    check(ctx, sgad_layer_set(l, SGAD_OPT_INPUT_PATH, path), "path");
    double best = 1e30, best_f = 1e30;
    for (int r = 0; r <= reps; r++) {
        const double t0 = now();
        check(ctx, sgad_layer_forward(l, x, y), "forward");
        const double t1 = now();
        check(ctx, sgad_layer_backward(l, x, y, dy, dx), "backward");
        const double t2 = now();
        if (r > 0 && t2 - t0 < best) {
            best = t2 - t0;
            best_f = t1 - t0;
        }
    }
    *fwd = best_f;
    return best;
}

static void bench_layer(sgad_ctx *ctx, const char *name, sgad_layer *l, int ndim,
                        const int64_t *sample, int pooled)
{
    int64_t in_dims[SGAD_MAX_DIMS] = {steps, batch}, out_dims[SGAD_MAX_DIMS];
    memcpy(in_dims + 2, sample, (size_t)ndim * sizeof *in_dims);
    int out_ndim;
    check(ctx, sgad_layer_output_dims(l, ndim + 2, in_dims, &out_ndim, out_dims), name);
    sgad_tensor *x, *y, *dy, *dx;
    check(ctx, sgad_tensor_create(ctx, ndim + 2, in_dims, &x), "x");
    check(ctx, sgad_tensor_create(ctx, ndim + 2, in_dims, &dx), "dx");
    check(ctx, sgad_tensor_create(ctx, out_ndim, out_dims, &y), "y");
    check(ctx, sgad_tensor_create(ctx, out_ndim, out_dims, &dy), "dy");
    float *dyd = sgad_tensor_data(dy);
    for (int64_t i = 0; i < sgad_tensor_numel(dy); i++)
        dyd[i] = (float)((i * 104729) % 1000) / 1000.0f - 0.5f;
    const double rates[] = {0.01, 0.03, 0.06, 0.10, 0.15, 0.25, 0.35, 0.50};
    for (size_t i = 0; i < sizeof rates / sizeof *rates; i++) {
        fill_spikes(sgad_tensor_data(x), sgad_tensor_numel(x), rates[i], pooled);
        double fd, fe;
        const double dense = time_path(ctx, l, SGAD_PATH_DENSE, x, y, dy, dx, &fd);
        const double events = time_path(ctx, l, SGAD_PATH_EVENTS, x, y, dy, dx, &fe);
        printf("%-30s %6.2f %10.1f %10.1f %10.1f %10.1f %8.2fx\n", name, rates[i], 1e3 * fd,
               1e3 * fe, 1e3 * dense, 1e3 * events, dense / events);
    }
    sgad_tensor_free(x);
    sgad_tensor_free(y);
    sgad_tensor_free(dy);
    sgad_tensor_free(dx);
}

static void parse(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        int *target = !strcmp(argv[i], "--threads") ? &threads
                      : !strcmp(argv[i], "--reps")  ? &reps
                      : !strcmp(argv[i], "--batch") ? &batch
                      : !strcmp(argv[i], "--steps") ? &steps
                                                    : NULL;
        if (!target || i + 1 >= argc || (*target = atoi(argv[++i])) < 1) {
            fprintf(stderr, "usage: bench_events [--threads K] [--reps R] [--batch N] "
                            "[--steps T]\n");
            exit(2);
        }
    }
}

int main(int argc, char **argv)
{
    parse(argc, argv);
    sgad_ctx *ctx;
    if (sgad_ctx_create(&ctx) != SGAD_OK)
        return 1;
    check(ctx, sgad_ctx_set_threads(ctx, threads), "threads");
    printf("libsgad %s dense vs event-driven: batch %d, T %d, %d thread(s), best of %d\n",
           sgad_version_string(), batch, steps, threads, reps);
    printf("%-30s %6s %10s %10s %10s %10s %9s\n", "layer", "rate", "fwd dense", "fwd events",
           "all dense", "all events", "speedup");
    sgad_layer *l;
    const int64_t fc2[1] = {1024}, fc1[1] = {1024}, convt1[3] = {128, 7, 7};
    check(ctx, sgad_linear_create(ctx, 1024, 6272, 1, &l), "fc2");
    bench_layer(ctx, "G fc2 linear 1024->6272", l, 1, fc2, 0);
    sgad_layer_free(l);
    check(ctx, sgad_convt2d_create(ctx, 128, 64, 4, 2, 1, 1, &l), "convt1");
    bench_layer(ctx, "G convT1 128->64 k4s2p1 7->14", l, 3, convt1, 0);
    sgad_layer_free(l);
    const int64_t convt2[3] = {64, 14, 14};
    check(ctx, sgad_convt2d_create(ctx, 64, 1, 4, 2, 1, 1, &l), "convt2");
    bench_layer(ctx, "G convT2 64->1 k4s2p1 14->28", l, 3, convt2, 0);
    sgad_layer_free(l);
    const int64_t conv2[3] = {32, 12, 12};
    check(ctx, sgad_conv2d_create(ctx, 32, 64, 5, 1, 0, 1, &l), "conv2");
    bench_layer(ctx, "D conv2 32->64 k5 12->8", l, 3, conv2, 0);
    sgad_layer_free(l);
    check(ctx, sgad_linear_create(ctx, 1024, 1024, 1, &l), "fc1");
    bench_layer(ctx, "D fc1 linear 1024->1024", l, 1, fc1, 1);
    sgad_layer_free(l);
    const int64_t fc1_64[1] = {10816};
    check(ctx, sgad_linear_create(ctx, 10816, 2048, 1, &l), "fc1 64x64x3");
    bench_layer(ctx, "D fc1 10816->2048 (64x64x3)", l, 1, fc1_64, 1);
    sgad_layer_free(l);
    sgad_ctx_free(ctx);
    return 0;
}
