/* SPDX-License-Identifier: MIT */
/* The feature classifier (classifier.h) and sgad-eval: the cross-entropy
 * and its gradient against closed forms and finite differences, learning
 * a separable task, save/load round trips and damaged files, and the
 * program's JSON on small generated IDX files and a tiny checkpoint.
 *
 * Mutation note (each tried on a copy of the tree; the test that fails):
 *   a softmax gradient without the 1/rows factor   -> cross_entropy_closed_form,
 *                                                     cross_entropy_gradient
 *   the one-hot term dropped from the gradient       -> both, and learns_separable_task
 *   loading that skips the batch-norm running
 *     statistics                                     -> save_load_same_features
 *   an entropy that takes log(0) of absent classes  -> program_judges_sets (NaN)
 * Not caught here: dropping the batch-norm re-estimation at the end of an
 * epoch (calibrate in classifier_train.c). The synthetic task is too easy
 * to suffer from it; on Fashion-MNIST it is worth 9 points of test
 * accuracy (docs/metrics.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_util.h"

/* ---- synthetic data ------------------------------------------------------ */

/* Image i of class k = i % classes: a bright horizontal band in the k-th
 * of `classes` equal slices of the rows, a little noise elsewhere; size x
 * size bytes. */
static void make_image(unsigned char *p, int size, int classes, int k, uint64_t *rng)
{
    for (int y = 0; y < size; y++)
        for (int x = 0; x < size; x++) {
            const int band = y * classes / size == k;
            p[y * size + x] =
                (unsigned char)(band ? 200 + tu_uniform(rng) * 55 : tu_uniform(rng) * 60);
        }
}

/* IDX image and label files in memory (see data.h). */
typedef struct idx_pair {
    unsigned char *images, *labels;
    size_t images_size, labels_size;
} idx_pair;

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* n images; same_image: every image is image 0 (a collapsed set). */
static idx_pair make_idx(int n, int size, int classes, uint64_t seed, int same_image)
{
    idx_pair r;
    const size_t per = (size_t)size * (size_t)size;
    r.images_size = 16 + (size_t)n * per;
    r.labels_size = 8 + (size_t)n;
    r.images = malloc(r.images_size);
    r.labels = malloc(r.labels_size);
    ck_assert(r.images && r.labels);
    put_be32(r.images, 0x803);
    put_be32(r.images + 4, (uint32_t)n);
    put_be32(r.images + 8, (uint32_t)size);
    put_be32(r.images + 12, (uint32_t)size);
    put_be32(r.labels, 0x801);
    put_be32(r.labels + 4, (uint32_t)n);
    uint64_t rng = seed;
    for (int i = 0; i < n; i++) {
        const int k = same_image ? 0 : i % classes;
        if (same_image && i > 0)
            memcpy(r.images + 16 + i * per, r.images + 16, per);
        else
            make_image(r.images + 16 + i * per, size, classes, k, &rng);
        r.labels[8 + i] = (unsigned char)k;
    }
    return r;
}

static void free_idx(idx_pair *p)
{
    free(p->images);
    free(p->labels);
}

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(p, 1, n, f), n);
    fclose(f);
}

/* ---- cross-entropy ------------------------------------------------------- */

/* Equal logits: loss log K whatever the label; gradient (1/K - onehot)/rows. */
START_TEST(cross_entropy_closed_form)
{
    sgad_ctx *ctx = tu_ctx(1);
    sgad_tensor *z = tu_tensor(ctx, 2, 4, 0), *g = tu_tensor(ctx, 2, 4, 0);
    for (int i = 0; i < 8; i++)
        sgad_tensor_data(z)[i] = 3.5f;
    const int labels[2] = {1, 3};
    double loss;
    ASSERT_OK(ctx, sgad_cross_entropy(z, labels, g, &loss));
    ck_assert_msg(fabs(loss - log(4.0)) < 1e-12, "loss %.17g", loss);
    for (int i = 0; i < 8; i++) {
        const double want = (0.25 - (i == 1 || i == 7)) / 2;
        ck_assert_msg(fabs(sgad_tensor_data(g)[i] - want) < 1e-7, "g[%d] = %g, want %g", i,
                      (double)sgad_tensor_data(g)[i], want);
    }
    /* huge logits must not overflow: loss = 1000 - 0 for the wrong class */
    sgad_tensor_data(z)[0] = 1000;
    sgad_tensor_data(z)[1] = 0;
    sgad_tensor_data(z)[2] = -1000;
    sgad_tensor_data(z)[3] = -1000;
    ASSERT_OK(ctx, sgad_cross_entropy(z, labels, NULL, &loss));
    ck_assert_msg(isfinite(loss) && fabs(loss - (1000 + log(4.0)) / 2) < 1e-9, "loss %g", loss);
    sgad_tensor_free(z);
    sgad_tensor_free(g);
    sgad_ctx_free(ctx);
}
END_TEST

/* Central differences of the loss in double against the analytic gradient.
 * The loss is computed in double from float logits, so with eps = 1e-3 the
 * difference's rounding noise is ~1e-13 and its truncation error ~eps^2
 * |f'''| ~ 1e-7: a tolerance of 1e-5 is loose for correct code, while a
 * missing 1/rows, one-hot term or softmax normalisation errs by > 1e-2. */
START_TEST(cross_entropy_gradient)
{
    sgad_ctx *ctx = tu_ctx(2);
    const int rows = 5, k = 7;
    sgad_tensor *z = tu_tensor(ctx, 1, rows, k, 0), *g = tu_tensor(ctx, 1, rows, k, 0);
    uint64_t rng = 11;
    tu_fill_uniform(sgad_tensor_data(z), rows * k, -3, 3, &rng);
    const int labels[5] = {0, 6, 3, 3, 1};
    double loss;
    ASSERT_OK(ctx, sgad_cross_entropy(z, labels, g, &loss));
    float *v = sgad_tensor_data(z);
    for (int i = 0; i < rows * k; i++) {
        const float keep = v[i];
        double up, down;
        v[i] = keep + 1e-3f;
        ASSERT_OK(ctx, sgad_cross_entropy(z, labels, NULL, &up));
        v[i] = keep - 1e-3f;
        ASSERT_OK(ctx, sgad_cross_entropy(z, labels, NULL, &down));
        const double step = (double)(keep + 1e-3f) - (double)(keep - 1e-3f);
        v[i] = keep;
        const double fd = (up - down) / step;
        ck_assert_msg(fabs(fd - sgad_tensor_data(g)[i]) < 1e-5,
                      "dlogit %d: analytic %.9g, "
                      "finite difference %.9g",
                      i, (double)sgad_tensor_data(g)[i], fd);
    }
    sgad_tensor_free(z);
    sgad_tensor_free(g);
    sgad_ctx_free(ctx);
}
END_TEST

START_TEST(cross_entropy_refusals)
{
    sgad_ctx *ctx = tu_ctx(1);
    sgad_tensor *z = tu_tensor(ctx, 2, 3, 0), *g = tu_tensor(ctx, 5, 0);
    int labels[2] = {0, 3};
    double loss;
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_cross_entropy(z, labels, NULL, &loss));
    ck_assert_ptr_nonnull(strstr(sgad_ctx_last_error(ctx), "label 3 of row 1 outside [0, 3)"));
    labels[1] = 2;
    ASSERT_STATUS(SGAD_E_SHAPE, sgad_cross_entropy(z, labels, g, &loss));
    sgad_tensor_data(z)[4] = NAN;
    ASSERT_STATUS(SGAD_E_NUMERIC, sgad_cross_entropy(z, labels, NULL, &loss));
    sgad_tensor_free(z);
    sgad_tensor_free(g);
    sgad_ctx_free(ctx);
}
END_TEST

/* ---- the classifier ------------------------------------------------------ */

static sgad_dataset *open_pair(sgad_ctx *ctx, const idx_pair *p)
{
    sgad_dataset *d;
    ASSERT_OK(ctx, sgad_dataset_open_memory(ctx, SGAD_DATA_IDX, p->images, p->images_size,
                                            p->labels, p->labels_size, &d));
    return d;
}

/* 4 classes of 8x8 bands: an untrained net is at chance (~0.25); a few
 * epochs must separate them on images it never saw. Under valgrind
 * (SGAD_TEST_SKIP_SLOW) one epoch runs the same code without the wait for
 * learning (a minute there); the other runs check that it learns. */
START_TEST(learns_separable_task)
{
    const int slow_ok = !getenv("SGAD_TEST_SKIP_SLOW");
    sgad_ctx *ctx = tu_ctx(3);
    idx_pair train = make_idx(256, 8, 4, 5, 0), test = make_idx(128, 8, 4, 99, 0);
    sgad_dataset *dtrain = open_pair(ctx, &train), *dtest = open_pair(ctx, &test);
    sgad_classifier *c;
    ASSERT_OK(ctx, sgad_classifier_create(ctx, 1, 8, 4, &c));
    ck_assert_int_eq(sgad_classifier_feature_dim(c), 64);
    double loss0 = 0, loss = 0, acc = 0;
    for (int e = 0; e < (slow_ok ? 6 : 1); e++)
        ASSERT_OK(ctx,
                  sgad_classifier_train_epoch(c, dtrain, 0, 16, 7, e, e ? &loss : &loss0, NULL));
    ASSERT_OK(ctx, sgad_classifier_accuracy(c, dtest, 0, 50, &acc));
    if (slow_ok) {
        ck_assert_msg(loss < loss0 / 4, "loss %g after 6 epochs, %g in the first", loss, loss0);
        ck_assert_msg(acc >= 0.95, "test accuracy %g", acc);
    }
    /* --count: only the first images, and refusals of bad arguments */
    ASSERT_OK(ctx, sgad_classifier_train_epoch(c, dtrain, 40, 16, 7, 6, NULL, NULL));
    ASSERT_STATUS(SGAD_E_INVALID_ARG,
                  sgad_classifier_train_epoch(c, dtrain, 257, 16, 7, 0, NULL, NULL));
    sgad_dataset *unlabelled;
    ASSERT_OK(ctx, sgad_dataset_open_memory(ctx, SGAD_DATA_IDX, train.images, train.images_size,
                                            NULL, 0, &unlabelled));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_classifier_accuracy(c, unlabelled, 0, 8, &acc));
    ck_assert_ptr_nonnull(strstr(sgad_ctx_last_error(ctx), "no labels"));
    sgad_tensor *wrong = tu_tensor(ctx, 2, 1, 9, 9, 0);
    ASSERT_STATUS(SGAD_E_SHAPE, sgad_classifier_run(c, wrong, NULL, NULL));
    sgad_tensor_free(wrong);
    sgad_dataset_free(unlabelled);
    sgad_classifier_free(c);
    sgad_dataset_free(dtrain);
    sgad_dataset_free(dtest);
    free_idx(&train);
    free_idx(&test);
    sgad_ctx_free(ctx);
}
END_TEST

/* Features of 12 images from a classifier after a few steps (so batch-norm
 * statistics are no longer their initial values). */
static sgad_tensor *features_of(sgad_ctx *ctx, sgad_classifier *c, sgad_tensor *images, int *labels)
{
    sgad_tensor *f = tu_tensor(ctx, 12, 64, 0);
    ASSERT_OK(ctx, sgad_classifier_run(c, images, f, labels));
    return f;
}

START_TEST(save_load_same_features)
{
    sgad_ctx *ctx = tu_ctx(4);
    idx_pair data = make_idx(64, 12, 3, 8, 0);
    sgad_dataset *d = open_pair(ctx, &data);
    sgad_classifier *c, *back;
    ASSERT_OK(ctx, sgad_classifier_create(ctx, 1, 12, 3, &c));
    ASSERT_OK(ctx, sgad_classifier_train_epoch(c, d, 0, 16, 1, 0, NULL, NULL));
    sgad_tensor *images = tu_tensor(ctx, 12, 1, 12, 12, 0);
    ASSERT_OK(ctx, sgad_dataset_read(d, 0, images));
    int la[12], lb[12];
    sgad_tensor *fa = features_of(ctx, c, images, la);
    char dir[] = "/tmp/sgad-cls-XXXXXX", path[256];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/c.safetensors", dir);
    ASSERT_OK(ctx, sgad_classifier_save(c, path));
    sgad_ctx *other = tu_ctx(77); /* different seed: other initial weights */
    ASSERT_OK(other, sgad_classifier_load(other, path, &back));
    ck_assert_int_eq(sgad_classifier_classes(back), 3);
    sgad_tensor *fb = features_of(other, back, images, lb);
    ck_assert_msg(memcmp(sgad_tensor_data(fa), sgad_tensor_data(fb), 12 * 64 * sizeof(float)) == 0,
                  "features differ after save and load");
    ck_assert(memcmp(la, lb, sizeof la) == 0);
    sgad_classifier_free(back);
    /* one flipped byte in the data: the checksum names the damage */
    size_t n;
    unsigned char *bytes = tu_read_file(path, &n);
    ck_assert_ptr_nonnull(bytes);
    bytes[n - 5] ^= 0x40;
    write_file(path, bytes, n);
    free(bytes);
    ASSERT_STATUS(SGAD_E_FORMAT, sgad_classifier_load(other, path, &back));
    ck_assert_msg(strstr(sgad_ctx_last_error(other), "damaged") != NULL, "message: %s",
                  sgad_ctx_last_error(other));
    ck_assert_ptr_null(back);
    /* a file that is not there */
    snprintf(path, sizeof path, "%s/missing.safetensors", dir);
    ASSERT_STATUS(SGAD_E_IO, sgad_classifier_load(other, path, &back));
    sgad_tensor_free(fa);
    sgad_tensor_free(fb);
    sgad_tensor_free(images);
    sgad_classifier_free(c);
    sgad_dataset_free(d);
    free_idx(&data);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
    sgad_ctx_free(other);
    sgad_ctx_free(ctx);
}
END_TEST

/* ---- the program --------------------------------------------------------- */

static const char *examples(void)
{
    const char *d = getenv("SGAD_TEST_PROGRAMS");
    return d ? d : "build/release/examples";
}

/* Runs a command in the programs' folder with stdout to out; exit status. */
static int run(const char *args, const char *out)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cd %s && ASAN_OPTIONS=detect_leaks=0 %s > %s 2>%s.err", examples(),
             args, out, out);
    const int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The last line of a file, in a static buffer. */
static const char *last_line(const char *path)
{
    static char line[16384];
    char buf[16384];
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "%s missing", path);
    line[0] = '\0';
    while (fgets(buf, sizeof buf, f))
        snprintf(line, sizeof line, "%s", buf);
    fclose(f);
    return line;
}

/* The number after "key": in a JSON line; fails the test if absent. */
static double field(const char *json, const char *key)
{
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\": ", key);
    const char *at = strstr(json, pattern);
    ck_assert_msg(at != NULL, "no %s in %s", key, json);
    return strtod(at + strlen(pattern), NULL);
}

/* The class shares: count values into share; returns how many. */
static int shares(const char *json, double *share, int cap)
{
    const char *at = strstr(json, "\"class_share\": [");
    ck_assert_ptr_nonnull(at);
    at += strlen("\"class_share\": [");
    int n = 0;
    while (n < cap && *at != ']') {
        char *end;
        share[n++] = strtod(at, &end);
        at = end;
        while (*at == ',' || *at == ' ')
            at++;
    }
    return n;
}

typedef struct paths {
    char dir[64], images[96], labels[96], same[96], cls[96], out[96];
} paths;

static void make_files(paths *p)
{
    snprintf(p->dir, sizeof p->dir, "/tmp/sgad-eval-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(p->dir));
    snprintf(p->images, sizeof p->images, "%s/images.idx", p->dir);
    snprintf(p->labels, sizeof p->labels, "%s/labels.idx", p->dir);
    snprintf(p->same, sizeof p->same, "%s/same.idx", p->dir);
    snprintf(p->cls, sizeof p->cls, "%s/cls.safetensors", p->dir);
    snprintf(p->out, sizeof p->out, "%s/out.txt", p->dir);
    idx_pair data = make_idx(96, 28, 4, 3, 0), same = make_idx(40, 28, 4, 3, 1);
    write_file(p->images, data.images, data.images_size);
    write_file(p->labels, data.labels, data.labels_size);
    write_file(p->same, same.images, same.images_size);
    free_idx(&data);
    free_idx(&same);
}

START_TEST(program_judges_sets)
{
    paths p;
    make_files(&p);
    char args[2048];
    snprintf(args, sizeof args,
             "./sgad-eval --train-classifier %s --train-images %s "
             "--train-labels %s --count 80 --epochs 10 --batch 16 --threads 1",
             p.cls, p.images, p.labels);
    ck_assert_int_eq(run(args, p.out), 0);
    ck_assert_ptr_nonnull(strstr(last_line(p.out), "saved the classifier"));
    /* the real set against itself: distance ~0, the classifier's accuracy */
    snprintf(args, sizeof args,
             "./sgad-eval --images %s --real %s --real-labels %s "
             "--classifier %s --count 64",
             p.images, p.images, p.labels, p.cls);
    ck_assert_int_eq(run(args, p.out), 0);
    const char *json = last_line(p.out);
    /* 64 images of 64 features: the covariance is singular, so the zero
     * distance comes out as ~1e-8 (the roots of rounding-sized eigenvalues,
     * see test_metrics.c), far below the collapsed set's below */
    ck_assert_msg(field(json, "frechet") < 1e-6, "%s", json);
    ck_assert_int_eq((int)field(json, "samples"), 64);
    ck_assert_int_eq((int)field(json, "real"), 64);
    ck_assert_int_eq((int)field(json, "feature_dim"), 64);
    ck_assert_msg(fabs(field(json, "max_entropy") - log(10.0)) < 1e-6, "%s", json);
    ck_assert_msg(field(json, "real_accuracy") >= 0.9, "%s", json);
    double share[16], sum = 0;
    ck_assert_int_eq(shares(json, share, 16), 10);
    for (int k = 0; k < 10; k++)
        sum += share[k];
    ck_assert_msg(fabs(sum - 1) < 1e-6, "shares sum to %g", sum);
    /* a collapsed set, one image repeated: entropy 0, one class takes all,
     * and a distance far from the real set's */
    snprintf(args, sizeof args, "./sgad-eval --images %s --real %s --classifier %s", p.same,
             p.images, p.cls);
    ck_assert_int_eq(run(args, p.out), 0);
    json = last_line(p.out);
    ck_assert_msg(field(json, "entropy") < 1e-12, "%s", json);
    ck_assert_int_eq((int)field(json, "samples"), 40); /* the smaller file's count */
    ck_assert_msg(field(json, "frechet") > 1e-3, "%s", json);
    ck_assert_ptr_nonnull(strstr(json, "\"real_accuracy\": null"));
    double top = 0;
    ck_assert_int_eq(shares(json, share, 16), 10);
    for (int k = 0; k < 10; k++)
        top = fmax(top, share[k]);
    ck_assert_msg(top == 1, "%s", json);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", p.dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* A checkpoint two iterations old: samples from its generator are judged. */
START_TEST(program_samples_a_checkpoint)
{
    paths p;
    make_files(&p);
    char args[2048];
    snprintf(args, sizeof args,
             "./sgad-eval --train-classifier %s --train-images %s "
             "--train-labels %s --count 32 --epochs 1 --batch 16",
             p.cls, p.images, p.labels);
    ck_assert_int_eq(run(args, p.out), 0);
    snprintf(args, sizeof args,
             "./sgad-train --data %s --iters 2 --batch 4 --steps 2 "
             "--threads 1 --checkpoint-every 2 --sample-every 0 --out %s/run",
             p.images, p.dir);
    ck_assert_int_eq(run(args, p.out), 0);
    snprintf(args, sizeof args,
             "./sgad-eval --checkpoint %s/run/checkpoints --real %s "
             "--real-labels %s --classifier %s --count 24 --batch 10 --seed 5",
             p.dir, p.images, p.labels, p.cls);
    ck_assert_int_eq(run(args, p.out), 0);
    const char *json = last_line(p.out);
    ck_assert_int_eq((int)field(json, "samples"), 24);
    const double fd = field(json, "frechet");
    ck_assert_msg(isfinite(fd) && fd > 0, "%s", json);
    /* the same seed gives the same samples whatever the batch (up to the
     * rounding of products blocked differently for other batch sizes) */
    char first[16384];
    snprintf(first, sizeof first, "%s", json);
    double a[16], b[16];
    const int classes = shares(first, a, 16);
    snprintf(args, sizeof args,
             "./sgad-eval --checkpoint %s/run/checkpoints --real %s "
             "--real-labels %s --classifier %s --count 24 --batch 7 --seed 5",
             p.dir, p.images, p.labels, p.cls);
    ck_assert_int_eq(run(args, p.out), 0);
    json = last_line(p.out);
    ck_assert_msg(fabs(field(json, "frechet") - fd) <= 1e-6 * fd, "%s against %s", json, first);
    ck_assert_int_eq(shares(json, b, 16), classes);
    ck_assert(memcmp(a, b, (size_t)classes * sizeof *a) == 0);
    ck_assert_ptr_nonnull(strstr(json, "\"bn\": \"running\", \"batch\": 7"));
    /* with batch statistics the samples follow (seed, batch); a last batch
     * of one sample has no statistics */
    double batch_fd[2];
    for (int k = 0; k < 2; k++) {
        snprintf(args, sizeof args,
                 "./sgad-eval --checkpoint %s/run/checkpoints --real %s --classifier %s "
                 "--count 24 --batch 8 --seed 5 --bn batch --threads %d",
                 p.dir, p.images, p.cls, k + 1);
        ck_assert_int_eq(run(args, p.out), 0);
        json = last_line(p.out);
        ck_assert_ptr_nonnull(strstr(json, "\"bn\": \"batch\", \"batch\": 8"));
        batch_fd[k] = field(json, "frechet");
    }
    ck_assert_msg(batch_fd[0] == batch_fd[1], "%.17g against %.17g", batch_fd[0], batch_fd[1]);
    snprintf(args, sizeof args,
             "./sgad-eval --checkpoint %s/run/checkpoints --real %s --classifier %s "
             "--count 24 --batch 23 --bn batch",
             p.dir, p.images, p.cls);
    ck_assert_int_eq(run(args, p.out), 1);
    ck_assert_int_eq(run("./sgad-eval --images a --real b --classifier c --bn batch", p.out), 2);
    /* wrong arguments: 2; a runtime failure: 1 with the library's message */
    ck_assert_int_eq(
        run("./sgad-eval --images a.idx --checkpoint b --real c --classifier d", p.out), 2);
    ck_assert_int_eq(run("./sgad-eval --count 1x", p.out), 2);
    snprintf(args, sizeof args, "./sgad-eval --images %s --real %s --classifier %s", p.images,
             p.images, p.images);
    ck_assert_int_eq(run(args, p.out), 1);
    char err[256];
    snprintf(err, sizeof err, "%s.err", p.out);
    size_t n;
    char *text = (char *)tu_read_file(err, &n);
    ck_assert_msg(text && strstr(text, "sgad-eval: classifier: "), "stderr: %s", text);
    free(text);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", p.dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* 32x32x3 in CIFAR-10's binary layout (a label byte, then 3072 bytes of
 * R, G and B planes): sgad-eval trains on it and reads its labels. */
START_TEST(program_reads_cifar)
{
    paths p;
    make_files(&p);
    char bin[160], args[2048];
    snprintf(bin, sizeof bin, "%s/data_batch_1.bin", p.dir);
    const int n = 40;
    unsigned char *rec = malloc((size_t)n * 3073);
    ck_assert_ptr_nonnull(rec);
    uint64_t rng = 9;
    for (int i = 0; i < n; i++) {
        rec[i * 3073] = (unsigned char)(i % 2);
        for (int c = 0; c < 3; c++)
            make_image(rec + i * 3073 + 1 + c * 1024, 32, 2, i % 2, &rng);
    }
    write_file(bin, rec, (size_t)n * 3073);
    free(rec);
    snprintf(args, sizeof args,
             "./sgad-eval --train-classifier %s --train-images %s "
             "--epochs 1 --batch 8",
             p.cls, bin);
    ck_assert_int_eq(run(args, p.out), 0);
    snprintf(args, sizeof args, "./sgad-eval --images %s --real %s --classifier %s", bin, bin,
             p.cls);
    ck_assert_int_eq(run(args, p.out), 0);
    const char *json = last_line(p.out);
    ck_assert_int_eq((int)field(json, "samples"), n);
    ck_assert_msg(field(json, "real_accuracy") >= 0, "%s", json); /* labels from the file */
    /* a grey classifier refuses RGB images with the library's message */
    snprintf(args, sizeof args,
             "./sgad-eval --train-classifier %s --train-images %s "
             "--train-labels %s --count 16 --epochs 1 --batch 8",
             p.cls, p.images, p.labels);
    ck_assert_int_eq(run(args, p.out), 0);
    snprintf(args, sizeof args, "./sgad-eval --images %s --real %s --classifier %s", bin, bin,
             p.cls);
    ck_assert_int_eq(run(args, p.out), 1);
    char err[160];
    snprintf(err, sizeof err, "%s.err", p.out);
    size_t len;
    char *text = (char *)tu_read_file(err, &len);
    ck_assert_msg(text && strstr(text, "holds 32x32x3 images; the classifier takes 28x28x1"),
                  "stderr: %s", text);
    free(text);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", p.dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

Suite *suite_eval(void)
{
    Suite *s = suite_create("eval");
    TCase *tc = tcase_create("classifier");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, cross_entropy_closed_form);
    tcase_add_test(tc, cross_entropy_gradient);
    tcase_add_test(tc, cross_entropy_refusals);
    tcase_add_test(tc, learns_separable_task);
    tcase_add_test(tc, save_load_same_features);
    tcase_add_test(tc, program_judges_sets);
    tcase_add_test(tc, program_samples_a_checkpoint);
    tcase_add_test(tc, program_reads_cifar);
    suite_add_tcase(s, tc);
    return s;
}
