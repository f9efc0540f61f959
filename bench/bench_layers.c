/* SPDX-License-Identifier: MIT */
/* Times forward and backward of each layer kind at the SGAD 28x28 shapes
 * (batch 64, T 16 by default) and sets the achieved GFLOP/s beside a plain
 * BLIS sgemm of the same size, measured in the same run.
 *
 * Usage: bench_layers [--threads K] [--reps R] [--batch N] [--steps T] */
#include <blis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sgad/sgad.h>

typedef struct row {
    const char *name;
    sgad_layer *layer;
    int ndim;
    int64_t dims[5]; /* per sample (after T, N) */
    double m, n, k;  /* the forward as one GEMM; m = 0 for element-wise layers */
} row;

static int threads = 1, reps = 5, batch = 64, steps = 16;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

static void check(sgad_ctx *ctx, sgad_status s, const char *what)
{
    if (s != SGAD_OK) {
        fprintf(stderr, "bench: %s: %s\n", what, sgad_ctx_last_error(ctx));
        exit(1);
    }
}

/* Seconds for one sgemm of m x k by k x n on `threads` threads. */
static double blis_seconds(double m, double n, double k)
{
    const dim_t M = (dim_t)m, N = (dim_t)n, K = (dim_t)k;
    float *a = calloc((size_t)(M * K), sizeof *a), *b = calloc((size_t)(K * N), sizeof *b);
    float *c = calloc((size_t)(M * N), sizeof *c);
    if (!a || !b || !c) {
        fprintf(stderr, "bench: out of memory\n");
        exit(1);
    }
    float one = 1.0f, zero = 0.0f;
    rntm_t rntm = BLIS_RNTM_INITIALIZER;
    bli_rntm_set_num_threads(threads, &rntm);
    double t[64];
    for (int r = 0; r <= reps; r++) {
        const double t0 = now();
        bli_sgemm_ex(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, M, N, K, &one, a, K, 1, b, N, 1, &zero,
                     c, N, 1, NULL, &rntm);
        if (r > 0)
            t[r - 1] = now() - t0;
    }
    free(a);
    free(b);
    free(c);
    return median(t, reps);
}

static void bench_row(sgad_ctx *ctx, const row *rw, double *total_ms)
{
    int64_t in_dims[7] = {steps, batch}, out_dims[SGAD_MAX_DIMS];
    memcpy(in_dims + 2, rw->dims, (size_t)rw->ndim * sizeof *in_dims);
    int out_ndim;
    check(ctx, sgad_layer_output_dims(rw->layer, rw->ndim + 2, in_dims, &out_ndim, out_dims),
          rw->name);
    sgad_tensor *x, *y, *dy, *dx;
    check(ctx, sgad_tensor_create(ctx, rw->ndim + 2, in_dims, &x), "x");
    check(ctx, sgad_tensor_create(ctx, rw->ndim + 2, in_dims, &dx), "dx");
    check(ctx, sgad_tensor_create(ctx, out_ndim, out_dims, &y), "y");
    check(ctx, sgad_tensor_create(ctx, out_ndim, out_dims, &dy), "dy");
    float *xd = sgad_tensor_data(x), *dyd = sgad_tensor_data(dy);
    for (int64_t i = 0; i < sgad_tensor_numel(x); i++)
        xd[i] = (float)((i * 7919) % 1000) / 500.0f - 0.2f; /* some neurons fire */
    for (int64_t i = 0; i < sgad_tensor_numel(dy); i++)
        dyd[i] = (float)((i * 104729) % 1000) / 1000.0f - 0.5f;
    double tf[64], tb[64];
    for (int r = 0; r <= reps; r++) {
        double t0 = now();
        check(ctx, sgad_layer_forward(rw->layer, x, y), rw->name);
        const double t1 = now();
        check(ctx, sgad_layer_backward(rw->layer, x, y, dy, dx), rw->name);
        const double t2 = now();
        if (r > 0) {
            tf[r - 1] = t1 - t0;
            tb[r - 1] = t2 - t1;
        }
    }
    const double f = median(tf, reps), b = median(tb, reps);
    *total_ms += 1e3 * (f + b);
    printf("%-34s %9.2f %9.2f", rw->name, 1e3 * f, 1e3 * b);
    if (rw->m > 0) {
        const double flops = 2.0 * rw->m * rw->n * rw->k; /* forward; backward is twice */
        const double ours = 3.0 * flops / (f + b) * 1e-9;
        const double ref = flops / blis_seconds(rw->m, rw->n, rw->k) * 1e-9;
        printf(" %9.1f %9.1f %7.0f%%\n", ours, ref, 100.0 * ours / ref);
    } else {
        printf(" %9s %9s %8s\n", "-", "-", "-");
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
            fprintf(stderr, "usage: bench_layers [--threads K] [--reps R<=63] [--batch N] "
                            "[--steps T]\n");
            exit(2);
        }
    }
    if (reps > 63)
        reps = 63;
}

int main(int argc, char **argv)
{
    parse(argc, argv);
    sgad_ctx *ctx;
    if (sgad_ctx_create(&ctx) != SGAD_OK)
        return 1;
    check(ctx, sgad_ctx_set_threads(ctx, threads), "threads");
    const double R = (double)steps * batch;
    row rows[18];
    int n = 0;
#define ROW(label, call, nd, d0, d1, d2, m_, n_, k_)                                               \
    do {                                                                                           \
        row *r_ = &rows[n];                                                                        \
        r_->name = label;                                                                          \
        check(ctx, call, label);                                                                   \
        n++;                                                                                       \
        r_->ndim = nd;                                                                             \
        r_->dims[0] = d0;                                                                          \
        r_->dims[1] = d1;                                                                          \
        r_->dims[2] = d2;                                                                          \
        r_->m = m_;                                                                                \
        r_->n = n_;                                                                                \
        r_->k = k_;                                                                                \
    } while (0)
    ROW("G fc1 linear 15->1024", sgad_linear_create(ctx, 15, 1024, 1, &rows[n].layer), 1, 15, 0, 0,
        R, 1024, 15);
    ROW("G fc2 linear 1024->6272", sgad_linear_create(ctx, 1024, 6272, 1, &rows[n].layer), 1, 1024,
        0, 0, R, 6272, 1024);
    ROW("G bn1d(1024)", sgad_batchnorm1d_create(ctx, 1024, &rows[n].layer), 1, 1024, 0, 0, 0, 0, 0);
    ROW("G bn1d(6272)", sgad_batchnorm1d_create(ctx, 6272, &rows[n].layer), 1, 6272, 0, 0, 0, 0, 0);
    ROW("G lif [6272]", sgad_lif_create(ctx, &rows[n].layer), 1, 6272, 0, 0, 0, 0, 0);
    ROW("G convT1 128->64 k4s2p1 7->14",
        sgad_convt2d_create(ctx, 128, 64, 4, 2, 1, 1, &rows[n].layer), 3, 128, 7, 7, 64 * 16,
        R * 49, 128);
    ROW("G bn2d(64)@14x14", sgad_batchnorm2d_create(ctx, 64, &rows[n].layer), 3, 64, 14, 14, 0, 0,
        0);
    ROW("G convT2 64->1 k4s2p1 14->28", sgad_convt2d_create(ctx, 64, 1, 4, 2, 1, 1, &rows[n].layer),
        3, 64, 14, 14, 16, R * 196, 64);
    ROW("G sigmoid@28x28", sgad_sigmoid_create(ctx, &rows[n].layer), 3, 1, 28, 28, 0, 0, 0);
    ROW("G attention decoder 784",
        sgad_attention_decoder_create(ctx, 784, 256, 0, 0, &rows[n].layer), 3, 1, 28, 28, 0, 0, 0);
    ROW("D conv1 1->32 k5 28->24", sgad_conv2d_create(ctx, 1, 32, 5, 1, 0, 1, &rows[n].layer), 3, 1,
        28, 28, 32, R * 576, 25);
    ROW("D bn2d(32)@24x24", sgad_batchnorm2d_create(ctx, 32, &rows[n].layer), 3, 32, 24, 24, 0, 0,
        0);
    ROW("D lif [32,24,24]", sgad_lif_create(ctx, &rows[n].layer), 3, 32, 24, 24, 0, 0, 0);
    ROW("D avgpool2 24->12", sgad_avgpool2d_create(ctx, 2, 0, 0, &rows[n].layer), 3, 32, 24, 24, 0,
        0, 0);
    ROW("D conv2 32->64 k5 12->8", sgad_conv2d_create(ctx, 32, 64, 5, 1, 0, 1, &rows[n].layer), 3,
        32, 12, 12, 64, R * 64, 800);
    ROW("D fc1 linear 1024->1024", sgad_linear_create(ctx, 1024, 1024, 1, &rows[n].layer), 1, 1024,
        0, 0, R, 1024, 1024);
    ROW("D fc2 linear 1024->1", sgad_linear_create(ctx, 1024, 1, 1, &rows[n].layer), 1, 1024, 0, 0,
        R, 1, 1024);
    ROW("D mp node [1]", sgad_mp_create(ctx, &rows[n].layer), 1, 1, 0, 0, 0, 0, 0);
#undef ROW
    printf("libsgad %s layer bench: batch %d, T %d, %d thread(s), median of %d\n",
           sgad_version_string(), batch, steps, threads, reps);
    printf("%-34s %9s %9s %9s %9s %8s\n", "layer", "fwd ms", "bwd ms", "GFLOP/s", "sgemm", "ratio");
    double total = 0;
    for (int i = 0; i < n; i++) {
        bench_row(ctx, &rows[i], &total);
        sgad_layer_free(rows[i].layer);
    }
    printf("%-34s %19.1f ms forward+backward\n", "total", total);
    sgad_ctx_free(ctx);
    return 0;
}
