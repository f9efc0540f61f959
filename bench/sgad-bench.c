/* SPDX-License-Identifier: MIT */
/* sgad-bench: times whole training iterations and sampling of a preset.
 *
 *   sgad-bench [--model sgad|swgan|sgan|hybrid] [--shape 28x28x1|32x32x3|64x64x3]
 *              [--batch B] [--steps T] [--threads K] [--iters N]
 *              [--path auto|dense|events] [--checkpoint FILE --data IDX]
 *
 * --path sets SGAD_OPT_INPUT_PATH on every layer that has it (linear,
 * conv2d, convt2d): dense measures the dense products alone, events forces
 * event-driven ones; after the warm-up every such layer's
 * SGAD_OPT_INPUT_PATH_TAKEN must show the forced path, or the run fails.
 * --checkpoint continues a trained state (model, shape and T come from the
 * file) on real batches of --data (IDX), since the event paths' gains
 * depend on firing rates, which a fresh net on noise does not have; the
 * JSON then has every spiking layer's firing rate in the last iteration.
 * After one warm-up iteration it runs N training iterations (D update and
 * G update) on random data or the data's batches, then after one warm-up
 * sampling call N timed
 * ones of B images each (the first call of a shape grows the buffers its
 * layers keep: at 64x64x3 it took a third longer), and prints
 * a line per phase and, last, one JSON line: median_ms, min_ms (training
 * iteration), sample_images_per_s, peak_rss_mib, gflop_per_iter (the
 * matrix products of one iteration, counted from the layers' shapes),
 * achieved_gflops, and sgemm_gflops: BLIS's sgemm in this process on the
 * shape of G's widest layer at the same thread count. gflop_per_iter is
 * the work the PyTorch reference's autograd does for the same iteration
 * (bench/flops_check.py proves the two counts equal), whatever libsgad
 * saves by skipping zeros or repeated inputs. */
#include <blis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <sgad/sgad.h>

/* sgad_input_path's values, which are pinned: 0, 1, 2. */
static const char *const path_names[] = {"auto", "dense", "events"};

typedef struct options {
    sgad_model model;
    sgad_image_shape shape;
    int batch, steps, threads, iters;
    sgad_input_path path;
    const char *checkpoint, *data; /* NULL: a fresh preset on random images */
} options;

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

static void check(sgad_ctx *ctx, sgad_status s, const char *what)
{
    if (s != SGAD_OK) {
        fprintf(stderr, "sgad-bench: %s: %s\n", what, sgad_ctx_last_error(ctx));
        exit(1);
    }
}

static void usage(FILE *f)
{
    fprintf(f, "usage: sgad-bench [--model sgad|swgan|sgan|hybrid] "
               "[--shape 28x28x1|32x32x3|64x64x3]\n"
               "                  [--batch B] [--steps T] [--threads K] [--iters N]\n"
               "                  [--path auto|dense|events] [--checkpoint FILE --data IDX]\n");
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    const long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < lo || v > hi)
        return 0;
    *out = (int)v;
    return 1;
}

static int parse_enum(const char *s, const char *const *names, int count, int *out)
{
    for (int i = 0; i < count; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = i;
            return 1;
        }
    return 0;
}

static options parse(int argc, char **argv)
{
    static const char *const models[] = {"sgan", "swgan", "sgad", "hybrid"};
    static const char *const shapes[] = {"28x28x1", "32x32x3", "64x64x3"};
    options o = {SGAD_MODEL_SGAD, SGAD_SHAPE_28X28X1, 64, 16, 1, 3, SGAD_PATH_AUTO, NULL, NULL};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int ok = v != NULL, e = 0;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        } else if (strcmp(a, "--model") == 0) {
            ok = ok && parse_enum(v, models, 4, &e);
            o.model = (sgad_model)e;
        } else if (strcmp(a, "--shape") == 0) {
            ok = ok && parse_enum(v, shapes, 3, &e);
            o.shape = (sgad_image_shape)e;
        } else if (strcmp(a, "--batch") == 0) {
            ok = ok && parse_int(v, 1, 4096, &o.batch);
        } else if (strcmp(a, "--steps") == 0) {
            ok = ok && parse_int(v, 1, 1024, &o.steps);
        } else if (strcmp(a, "--threads") == 0) {
            ok = ok && parse_int(v, 1, 256, &o.threads);
        } else if (strcmp(a, "--iters") == 0) {
            ok = ok && parse_int(v, 1, 100000, &o.iters);
        } else if (strcmp(a, "--path") == 0) {
            ok = ok && parse_enum(v, path_names, 3, &e);
            o.path = (sgad_input_path)e;
        } else if (strcmp(a, "--checkpoint") == 0) {
            o.checkpoint = v;
        } else if (strcmp(a, "--data") == 0) {
            o.data = v;
        } else {
            ok = 0;
        }
        if (!ok) {
            fprintf(stderr, "sgad-bench: bad argument '%s'%s%s\n", a, v ? " " : "", v ? v : "");
            usage(stderr);
            exit(2);
        }
        i++;
    }
    if ((o.checkpoint == NULL) != (o.data == NULL)) {
        fprintf(stderr, "sgad-bench: --checkpoint and --data go together\n");
        exit(2);
    }
    return o;
}

/* ---- counting the matrix products --------------------------------------- */

static int64_t numel_of(int nd, const int64_t *dims)
{
    int64_t n = 1;
    for (int i = 0; i < nd; i++)
        n *= dims[i];
    return n;
}

static int is_product(sgad_layer_kind kind)
{
    return kind == SGAD_LAYER_LINEAR || kind == SGAD_LAYER_CONV2D || kind == SGAD_LAYER_CONVT2D ||
           kind == SGAD_LAYER_ATTENTION;
}

/* Layer l's parameter called `want`, or NULL. */
static sgad_tensor *param_named(sgad_ctx *ctx, sgad_layer *l, const char *want)
{
    for (int p = 0; p < sgad_layer_param_count(l); p++) {
        const char *name;
        sgad_tensor *w;
        check(ctx, sgad_layer_param(l, p, &name, &w, NULL), "param");
        if (strcmp(name, want) == 0)
            return w;
    }
    return NULL;
}

/* The attention decoder per step after the first and per sample (Eq. 6):
 * with a down map phi (RGB), phi of V and of X; the query of phi(V), the
 * keys of phi(V) and phi(X); the two query-key dot products. */
static double attention_flops(sgad_ctx *ctx, sgad_layer *l, const int64_t *in)
{
    const sgad_tensor *q = param_named(ctx, l, "query.weight");
    const sgad_tensor *down = param_named(ctx, l, "down.weight");
    const double h = (double)sgad_tensor_dim(q, 0), k = (double)sgad_tensor_dim(q, 1);
    const double phi = down ? 2.0 * (double)sgad_tensor_numel(down) : 0.0;
    return 2.0 * (double)(in[0] - 1) * (double)in[1] * (phi + 3.0 * k * h + 2.0 * h);
}

/* Forward multiply-adds x 2 of layer i in the net's last forward. */
static double layer_flops(sgad_ctx *ctx, sgad_net *net, int i)
{
    sgad_layer *l = sgad_net_layer(net, i);
    const sgad_layer_kind kind = sgad_layer_get_kind(l);
    if (!is_product(kind))
        return 0;
    int ndi, ndo;
    int64_t in[SGAD_MAX_DIMS], out[SGAD_MAX_DIMS];
    check(ctx, sgad_net_activation_dims(net, i - 1, &ndi, in), "input dims");
    check(ctx, sgad_net_activation_dims(net, i, &ndo, out), "output dims");
    if (kind == SGAD_LAYER_ATTENTION)
        return attention_flops(ctx, l, in);
    sgad_tensor *w;
    check(ctx, sgad_layer_param(l, 0, NULL, &w, NULL), "weight");
    /* per output (input, for convt) value: the weight's numel over dim 0 */
    const double per = (double)sgad_tensor_numel(w) / (double)sgad_tensor_dim(w, 0);
    if (kind == SGAD_LAYER_CONVT2D)
        return 2.0 * (double)numel_of(ndi, in) * per;
    return 2.0 * (double)numel_of(ndo, out) * per;
}

/* A net's forward flops, and those of its first matrix product: backward
 * needs no input gradient there when the net's input needs none. */
typedef struct net_work {
    double forward, first;
} net_work;

static net_work net_flops(sgad_ctx *ctx, sgad_net *net)
{
    net_work w = {0, 0};
    for (int i = 0; i < sgad_net_layer_count(net); i++) {
        const double f = layer_flops(ctx, net, i);
        if (w.forward == 0)
            w.first = f;
        w.forward += f;
    }
    return w;
}

/* One iteration as the reference runs it (sgad_trainer_step, PyTorch's
 * autograd): G forward twice and backward once, D forward three times and
 * backward three times. A backward costs two forwards (input and weight
 * gradients) less the first product's input gradient where nothing needs
 * it: G's latent always, D's input in the D update (real images, and fakes
 * made without gradients). */
static double iteration_flops(sgad_ctx *ctx, sgad_net *g, sgad_net *d)
{
    const net_work gw = net_flops(ctx, g), dw = net_flops(ctx, d);
    return 4.0 * gw.forward - gw.first + 9.0 * dw.forward - 2.0 * dw.first;
}

/* G's largest linear layer as an sgemm: rows x in by in x out. */
static void widest_product(sgad_ctx *ctx, sgad_net *g, dim_t *m, dim_t *n, dim_t *k)
{
    double best = 0;
    for (int i = 0; i < sgad_net_layer_count(g); i++) {
        sgad_layer *l = sgad_net_layer(g, i);
        if (sgad_layer_get_kind(l) != SGAD_LAYER_LINEAR)
            continue;
        sgad_tensor *w;
        int nd;
        int64_t in[SGAD_MAX_DIMS];
        check(ctx, sgad_layer_param(l, 0, NULL, &w, NULL), "weight");
        check(ctx, sgad_net_activation_dims(g, i - 1, &nd, in), "input dims");
        if ((double)sgad_tensor_numel(w) > best) {
            best = (double)sgad_tensor_numel(w);
            *n = (dim_t)sgad_tensor_dim(w, 0);
            *k = (dim_t)sgad_tensor_dim(w, 1);
            *m = (dim_t)(numel_of(nd, in) / *k);
        }
    }
}

/* The layers whose products can be event-driven: those with
 * SGAD_OPT_INPUT_PATH. */
static int has_input_path(const sgad_layer *l)
{
    const sgad_layer_kind kind = sgad_layer_get_kind(l);
    return kind == SGAD_LAYER_LINEAR || kind == SGAD_LAYER_CONV2D || kind == SGAD_LAYER_CONVT2D;
}

/* Sets SGAD_OPT_INPUT_PATH on every layer of net that has it. */
static void set_input_path(sgad_ctx *ctx, sgad_net *net, sgad_input_path path)
{
    for (int i = 0; i < sgad_net_layer_count(net); i++) {
        sgad_layer *l = sgad_net_layer(net, i);
        if (has_input_path(l))
            check(ctx, sgad_layer_set(l, SGAD_OPT_INPUT_PATH, (double)path), "input path");
    }
}

/* Whether a layer's last forward took the forced path: dense, or events of
 * any kind (by train and by period are events too). */
static int took(sgad_input_path forced, double taken)
{
    if (forced == SGAD_PATH_DENSE)
        return taken == SGAD_PATH_DENSE;
    return taken != SGAD_PATH_DENSE && taken != SGAD_PATH_AUTO;
}

/* Exits with a message unless every layer with a path option took the
 * forced one in its last forward: a benchmark labelled dense must be. */
static void check_paths_taken(sgad_ctx *ctx, sgad_net *net, const char *name,
                              sgad_input_path forced)
{
    if (forced == SGAD_PATH_AUTO)
        return;
    for (int i = 0; i < sgad_net_layer_count(net); i++) {
        sgad_layer *l = sgad_net_layer(net, i);
        double taken;
        if (!has_input_path(l))
            continue;
        check(ctx, sgad_layer_get(l, SGAD_OPT_INPUT_PATH_TAKEN, &taken), "path taken");
        if (!took(forced, taken)) {
            fprintf(stderr, "sgad-bench: %s layer %d (%s) took path %g, not the forced %s\n", name,
                    i, sgad_layer_kind_name(sgad_layer_get_kind(l)), taken, path_names[forced]);
            exit(1);
        }
    }
}

/* "[[layer, rate], ...]" for every layer of G (which 0) or D (1) that
 * spikes, from the trainer's last iteration, into buf. */
static void firing_rates_json(const sgad_trainer *t, int which, char *buf, size_t cap)
{
    size_t len = (size_t)snprintf(buf, cap, "[");
    const sgad_net *net = sgad_trainer_net(t, which);
    for (int i = 0; i < sgad_net_layer_count(net) && len < cap; i++) {
        double rate;
        if (sgad_trainer_firing_rate(t, which, i, &rate) != SGAD_OK)
            continue; /* not a spiking layer */
        len += (size_t)snprintf(buf + len, cap - len, "%s[%d,%.5f]", len > 1 ? "," : "", i, rate);
    }
    if (len < cap)
        snprintf(buf + len, cap - len, "]");
}

/* ---- BLIS in the same process -------------------------------------------- */

static double sgemm_gflops(int threads, dim_t m, dim_t n, dim_t k)
{
    float *a = calloc((size_t)(m * k), sizeof *a), *b = calloc((size_t)(k * n), sizeof *b);
    float *c = calloc((size_t)(m * n), sizeof *c);
    if (!a || !b || !c) {
        fprintf(stderr, "sgad-bench: out of memory\n");
        exit(1);
    }
    float one = 1.0f, zero = 0.0f;
    rntm_t rntm = BLIS_RNTM_INITIALIZER;
    bli_rntm_set_num_threads(threads, &rntm);
    double best = 1e30;
    for (int r = 0; r < 4; r++) {
        const double t0 = now();
        bli_sgemm_ex(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, m, n, k, &one, a, k, 1, b, n, 1, &zero,
                     c, n, 1, NULL, &rntm);
        const double dt = now() - t0;
        best = r > 0 && dt < best ? dt : best; /* the first run warms up */
    }
    free(a);
    free(b);
    free(c);
    return 2.0 * (double)m * (double)n * (double)k / best * 1e-9;
}

/* ---- the runs ------------------------------------------------------------ */

static sgad_tensor *random_tensor(sgad_ctx *ctx, int nd, const int64_t *dims, float lo, float hi,
                                  uint64_t *state)
{
    sgad_tensor *t;
    check(ctx, sgad_tensor_create(ctx, nd, dims, &t), "tensor");
    float *p = sgad_tensor_data(t);
    for (int64_t i = 0; i < sgad_tensor_numel(t); i++) {
        *state = *state * 6364136223846793005ull + 1442695040888963407ull;
        p[i] = lo + (hi - lo) * (float)((*state >> 40) * 0x1p-24);
    }
    return t;
}

/* A trainer over fresh preset nets, as the PyTorch reference builds its
 * models (the loss by model, RMSprop); *g and *d are the caller's to free
 * after the trainer. */
static sgad_trainer *fresh_trainer(sgad_ctx *ctx, const options *o, sgad_net **g, sgad_net **d)
{
    check(ctx, sgad_preset_create(ctx, o->model, o->shape, o->steps, 0, g, d), "preset");
    /* the latent size is the first linear layer's input width */
    sgad_tensor *w1;
    check(ctx, sgad_layer_param(sgad_net_layer(*g, 1), 0, NULL, &w1, NULL), "latent");
    const int minimax = o->model == SGAD_MODEL_SGAN || o->model == SGAD_MODEL_HYBRID;
    sgad_trainer *t;
    check(ctx,
          sgad_trainer_create(ctx, *g, *d, (int)sgad_tensor_dim(w1, 1),
                              minimax ? SGAD_LOSS_MINIMAX : SGAD_LOSS_EM, SGAD_OPTIMIZER_RMSPROP,
                              &t),
          "trainer");
    return t;
}

/* The trainer a checkpoint (a file, or a directory's newest valid file)
 * describes, with its weights and optimizer state; o's model, shape and
 * steps are set from it. */
static sgad_trainer *trainer_from_checkpoint(sgad_ctx *ctx, options *o)
{
    char path[4096];
    const char *file = o->checkpoint;
    if (sgad_checkpoint_find_latest(ctx, o->checkpoint, path, sizeof path) == SGAD_OK)
        file = path; /* a directory of checkpoints */
    sgad_checkpoint *c;
    check(ctx, sgad_checkpoint_read(ctx, file, &c), file);
    sgad_trainer *t;
    check(ctx, sgad_checkpoint_create_trainer(c, ctx, &t), "trainer from checkpoint");
    sgad_checkpoint_free(c);
    int steps;
    check(ctx, sgad_trainer_preset(t, &o->model, &o->shape, &steps, NULL), "preset of checkpoint");
    o->steps = steps;
    return t;
}

int main(int argc, char **argv)
{
    options o = parse(argc, argv);
    static const int64_t sides[3][2] = {{1, 28}, {3, 32}, {3, 64}};
    sgad_ctx *ctx;
    if (sgad_ctx_create(&ctx) != SGAD_OK)
        return 1;
    check(ctx, sgad_ctx_set_threads(ctx, o.threads), "threads");
    sgad_net *own_g = NULL, *own_d = NULL; /* a fresh trainer's nets */
    sgad_trainer *t =
        o.checkpoint ? trainer_from_checkpoint(ctx, &o) : fresh_trainer(ctx, &o, &own_g, &own_d);
    sgad_net *g = sgad_trainer_net(t, 0), *d = sgad_trainer_net(t, 1);
    set_input_path(ctx, g, o.path);
    set_input_path(ctx, d, o.path);
    /* the latent size is the first linear layer's input width */
    sgad_tensor *w1;
    check(ctx, sgad_layer_param(sgad_net_layer(g, 1), 0, NULL, &w1, NULL), "latent");
    const int latent = (int)sgad_tensor_dim(w1, 1);
    uint64_t state = 42;
    const int64_t c = sides[o.shape][0], side = sides[o.shape][1];
    const int64_t rdims[4] = {o.batch, c, side, side}, zd[3] = {1, o.batch, latent};
    sgad_tensor *real = random_tensor(ctx, 4, rdims, 0, 1, &state);
    sgad_dataset *data = NULL;
    if (o.data) {
        check(ctx, sgad_dataset_open(ctx, SGAD_DATA_IDX, o.data, NULL, &data), "data");
        check(ctx, sgad_dataset_batch(data, 1, 0, 0, real, NULL), "batch");
    }
    check(ctx, sgad_trainer_step(t, real, NULL), "warm-up iteration");
    check_paths_taken(ctx, g, "G", o.path);
    check_paths_taken(ctx, d, "D", o.path);
    const double gflop = iteration_flops(ctx, g, d) * 1e-9;
    dim_t gm = 0, gn = 0, gk = 0;
    widest_product(ctx, g, &gm, &gn, &gk);

    double *ms = calloc((size_t)o.iters, sizeof *ms), *sms = calloc((size_t)o.iters, sizeof *sms);
    if (!ms || !sms)
        return 1;
    const int64_t batches = data ? sgad_dataset_batches(data, o.batch) : 1;
    for (int i = 0; i < o.iters; i++) {
        if (data) /* real batches, read outside the timed step */
            check(ctx, sgad_dataset_batch(data, 1, 0, (i + 1) % batches, real, NULL), "batch");
        const double t0 = now();
        check(ctx, sgad_trainer_step(t, real, NULL), "iteration");
        ms[i] = 1e3 * (now() - t0);
        printf("iteration %d: %.1f ms\n", i + 1, ms[i]);
        fflush(stdout);
    }
    int ndo;
    int64_t odims[SGAD_MAX_DIMS];
    check(ctx, sgad_net_output_dims(g, 3, zd, &ndo, odims), "output dims");
    sgad_tensor *z = random_tensor(ctx, 3, zd, -2, 2, &state), *images;
    check(ctx, sgad_tensor_create(ctx, ndo, odims, &images), "images");
    check(ctx, sgad_trainer_sample(t, z, images), "sampling warm-up");
    for (int i = 0; i < o.iters; i++) {
        const double t0 = now();
        check(ctx, sgad_trainer_sample(t, z, images), "sample");
        sms[i] = 1e3 * (now() - t0);
    }
    qsort(ms, (size_t)o.iters, sizeof *ms, cmp_double);
    qsort(sms, (size_t)o.iters, sizeof *sms, cmp_double);
    const double med = ms[(o.iters - 1) / 2];
    const double sample_rate = o.batch / (sms[(o.iters - 1) / 2] * 1e-3);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    const double rss_mib = (double)ru.ru_maxrss / 1024.0;
    const double ref = sgemm_gflops(o.threads, gm, gn, gk);
    char rates_g[2048], rates_d[2048];
    firing_rates_json(t, 0, rates_g, sizeof rates_g);
    firing_rates_json(t, 1, rates_d, sizeof rates_d);
    printf("training: median %.1f ms, min %.1f ms per iteration; sampling %.1f images/s\n", med,
           ms[0], sample_rate);
    printf("{\"model\":\"%s\",\"shape\":\"%lldx%lldx%lld\",\"batch\":%d,\"steps\":%d,"
           "\"threads\":%d,\"path\":\"%s\",\"iters\":%d,\"median_ms\":%.2f,\"min_ms\":%.2f,"
           "\"sample_images_per_s\":%.2f,\"peak_rss_mib\":%.1f,\"gflop_per_iter\":%.6f,"
           "\"achieved_gflops\":%.2f,\"sgemm_gflops\":%.2f,\"sgemm_mnk\":[%ld,%ld,%ld],"
           "\"state\":\"%s\",\"trained_iterations\":%lld,\"firing_rates\":{\"G\":%s,\"D\":%s}}\n",
           sgad_model_name(o.model), (long long)side, (long long)side, (long long)c, o.batch,
           o.steps, o.threads, path_names[o.path], o.iters, med, ms[0], sample_rate, rss_mib, gflop,
           gflop / (med * 1e-3), ref, (long)gm, (long)gn, (long)gk,
           o.checkpoint ? "trained" : "fresh",
           (long long)(sgad_trainer_iterations(t) - o.iters - 1), rates_g, rates_d);
    free(ms);
    free(sms);
    sgad_tensor_free(real);
    sgad_tensor_free(z);
    sgad_tensor_free(images);
    sgad_dataset_free(data);
    sgad_trainer_free(t);
    sgad_net_free(own_g);
    sgad_net_free(own_d);
    sgad_ctx_free(ctx);
    return 0;
}
