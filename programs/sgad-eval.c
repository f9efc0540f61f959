/* SPDX-License-Identifier: MIT */
/* sgad-eval: judges generated images with a small classifier trained on
 * the real data (classifier.h): the Fréchet distance between its features
 * of generated and of real images (metrics.h), and the spread of the
 * classes it sees in the generated ones. docs/metrics.md, sgad-eval(1).
 *
 *   sgad-eval --train-classifier OUT --train-images FILE [--train-labels FILE]
 *             [--test-images FILE --test-labels FILE] [--epochs N] [--count N]
 *             [--batch B] [--threads K] [--seed S]
 *   sgad-eval (--checkpoint PATH | --images FILE) --real FILE [--real-labels FILE]
 *             [--classifier PATH | --train-images FILE [--train-labels FILE]]
 *             [--count N] [--ema] [--bn batch|running] [--seed S] [--threads K]
 *             [--batch B] [--epochs N]
 *
 * Without --classifier an evaluation trains one on the real data's
 * training split once and caches it (eval_cache.h). A checkpoint's samples
 * are drawn B at a time (the classifier's batch too), so memory holds one
 * batch's forward whatever N; --bn picks the statistics G's batch norms
 * use (sgad-sample(1)).
 *
 * The last line on stdout of an evaluation is one JSON object (the
 * contract the experiment scripts read). Exit 0 on success, 2 on wrong
 * arguments, 1 on a runtime error with the library's message on stderr. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sgad/sgad.h>

#include "cli.h"
#include "eval_cache.h"
#include "jsonl.h"

typedef struct options {
    const char *train_out, *train_images, *train_labels, *test_images, *test_labels;
    const char *checkpoint, *images, *real, *real_labels, *classifier;
    long long epochs, count, batch, threads, seed;
    int ema, bn_batch; /* bn_batch: G's batch norms on each batch's statistics */
} options;

static void usage(FILE *f)
{
    fprintf(f, "usage: sgad-eval --train-classifier OUT --train-images FILE [--train-labels FILE]\n"
               "                 [--test-images FILE --test-labels FILE] [--epochs N] [--count N]\n"
               "                 [--batch B] [--threads K] [--seed S]\n"
               "       sgad-eval (--checkpoint PATH | --images FILE) --real FILE\n"
               "                 [--real-labels FILE] [--classifier PATH | --train-images FILE\n"
               "                 [--train-labels FILE]] [--count N] [--ema] [--bn batch|running]\n"
               "                 [--seed S] [--threads K] [--batch B] [--epochs N]\n"
               "Image files are IDX (raw or .gz; labels IDX1) or CIFAR-10 (a data_batch .bin\n"
               "file or a directory of them, labels included). Without --classifier, one is\n"
               "trained on the real data's training split (or --train-images) and cached in\n"
               "$XDG_CACHE_HOME/sgad (~/.cache/sgad). Options take their value as the next\n"
               "argument or after '=' (--count=1000).\n");
}

static int bad(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "sgad-eval: ");
    fprintf(stderr, fmt, a, b);
    fprintf(stderr, "\n");
    usage(stderr);
    return 2;
}

/* The option's string slot, or NULL if it is not a string option. */
static const char **string_slot(options *o, const char *a)
{
    static const char *const names[] = {
        "--train-classifier", "--train-images", "--train-labels", "--test-images", "--test-labels",
        "--checkpoint",       "--images",       "--real",         "--real-labels", "--classifier"};
    const char **slots[] = {&o->train_out,   &o->train_images, &o->train_labels, &o->test_images,
                            &o->test_labels, &o->checkpoint,   &o->images,       &o->real,
                            &o->real_labels, &o->classifier};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(a, names[i]))
            return slots[i];
    return NULL;
}

static int parse_one(options *o, const char *a, const char *v, int *takes)
{
    const char **slot = string_slot(o, a);
    *takes = 1;
    if (slot)
        return (*slot = v) != NULL;
    if (!strcmp(a, "--ema")) {
        *takes = 0;
        return o->ema = 1;
    }
    if (!strcmp(a, "--bn")) {
        o->bn_batch = v && !strcmp(v, "batch");
        return v && (o->bn_batch || !strcmp(v, "running"));
    }
    if (!strcmp(a, "--epochs"))
        return cli_integer(v, 1, 1000, &o->epochs);
    if (!strcmp(a, "--count"))
        return cli_integer(v, 2, 10000000, &o->count);
    if (!strcmp(a, "--batch"))
        return cli_integer(v, 2, 65536, &o->batch);
    if (!strcmp(a, "--threads"))
        return cli_integer(v, 1, 256, &o->threads);
    if (!strcmp(a, "--seed"))
        return cli_integer(v, 0, 1LL << 62, &o->seed);
    return -1;
}

static int check_modes(const options *o)
{
    if (o->train_out) {
        if (!o->train_images)
            return bad("--train-classifier needs --train-images%s", "", "");
        if (!o->test_images != !o->test_labels)
            return bad("--test-images and --test-labels go together%s", "", "");
        if (o->checkpoint || o->images || o->real || o->classifier || o->ema)
            return bad("--train-classifier cannot be combined with an evaluation's options%s", "",
                       "");
        return 0;
    }
    if (!o->checkpoint == !o->images)
        return bad("give exactly one of --checkpoint and --images (or --train-classifier)%s", "",
                   "");
    if (!o->real)
        return bad("an evaluation needs --real%s", "", "");
    if (o->images && (o->ema || o->bn_batch))
        return bad("--ema and --bn apply to --checkpoint only%s", "", "");
    if (o->test_images || o->test_labels)
        return bad("--test-images/--test-labels belong to --train-classifier%s", "", "");
    if (o->classifier && (o->train_images || o->train_labels))
        return bad("--train-images/--train-labels name the data of a classifier to train and "
                   "cache, not with --classifier%s",
                   "", "");
    if (o->train_labels && !o->train_images)
        return bad("--train-labels goes with --train-images%s", "", "");
    return 0;
}

static int parse(int argc, char **argv, options *o)
{
    *o = (options){.epochs = 2, .batch = 64, .threads = 1, .seed = 1};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            exit(0);
        }
        cli_arg arg; /* "--flag value" or "--flag=value" */
        cli_split(&arg, argc, argv, i);
        const char *a = arg.flag, *v = arg.value;
        int takes;
        const int ok = parse_one(o, a, v, &takes);
        if (ok < 0)
            return bad("unknown option '%s'%s", argv[i], "");
        if (!ok || (!takes && arg.attached)) /* "--ema=x": a switch takes no value */
            return bad("bad value for %s: '%s'", a, v ? v : "(missing)");
        i += cli_used(&arg, takes);
    }
    return check_modes(o);
}

static int fail(sgad_ctx *ctx, const char *what)
{
    fprintf(stderr, "sgad-eval: %s: %s\n", what, sgad_ctx_last_error(ctx));
    return 1;
}

/* CIFAR-10 for a directory or a .bin file, IDX otherwise. */
static int open_images(sgad_ctx *ctx, const char *path, const char *labels, sgad_dataset **d)
{
    struct stat st;
    const size_t n = strlen(path);
    const int cifar =
        (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) || (n > 4 && !strcmp(path + n - 4, ".bin"));
    if (sgad_dataset_open(ctx, cifar ? SGAD_DATA_CIFAR10 : SGAD_DATA_IDX, path,
                          cifar ? NULL : labels, d) != SGAD_OK)
        return fail(ctx, path);
    return 0;
}

static int has_labels(sgad_dataset *d)
{
    int label = -1;
    return sgad_dataset_label(d, 0, &label) == SGAD_OK && label >= 0;
}

static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* ---- training the classifier --------------------------------------------- */

static int train_epochs(sgad_ctx *ctx, sgad_classifier *c, sgad_dataset *d, const options *o)
{
    const double start = seconds();
    for (long long e = 0; e < o->epochs; e++) {
        double loss, acc;
        if (sgad_classifier_train_epoch(c, d, o->count, o->batch, (uint64_t)o->seed, e, &loss,
                                        &acc) != SGAD_OK)
            return fail(ctx, "training");
        fprintf(stderr, "sgad-eval: epoch %lld: loss %.4f, batch accuracy %.4f, %.1f s\n", e + 1,
                loss, acc, seconds() - start);
    }
    printf("trained %lld epoch(s) on %lld images in %.1f s\n", o->epochs,
           o->count ? o->count : (long long)sgad_dataset_count(d), seconds() - start);
    return 0;
}

static int report_accuracy(sgad_ctx *ctx, sgad_classifier *c, sgad_dataset *d, long long count,
                           const char *what)
{
    double acc;
    if (sgad_classifier_accuracy(c, d, count, 256, &acc) != SGAD_OK)
        return fail(ctx, what);
    printf("%s accuracy: %.4f (%lld images)\n", what, acc,
           count ? count : (long long)sgad_dataset_count(d));
    return 0;
}

static int train(sgad_ctx *ctx, const options *o)
{
    sgad_dataset *d = NULL, *test = NULL;
    sgad_classifier *c = NULL;
    int64_t ch, h, w;
    int rc = open_images(ctx, o->train_images, o->train_labels, &d);
    if (!rc && !has_labels(d))
        rc = bad("%s has no labels: give --train-labels%s", o->train_images, "");
    if (!rc && o->count > sgad_dataset_count(d)) {
        fprintf(stderr, "sgad-eval: --count %lld but %s holds %lld images\n", o->count,
                o->train_images, (long long)sgad_dataset_count(d));
        rc = 1;
    }
    if (!rc && sgad_dataset_image_dims(d, &ch, &h, &w) != SGAD_OK)
        rc = fail(ctx, "training images");
    if (!rc && h != w) {
        fprintf(stderr, "sgad-eval: the classifier takes square images, not %lldx%lld\n",
                (long long)h, (long long)w);
        rc = 1;
    }
    if (!rc && sgad_classifier_create(ctx, ch, h, 10, &c) != SGAD_OK)
        rc = fail(ctx, "classifier");
    if (!rc)
        rc = train_epochs(ctx, c, d, o);
    if (!rc)
        rc = report_accuracy(ctx, c, d, o->count, "training");
    if (!rc && o->test_images)
        rc = open_images(ctx, o->test_images, o->test_labels, &test);
    if (!rc && test)
        rc = report_accuracy(ctx, c, test, 0, "test");
    if (!rc && sgad_classifier_save(c, o->train_out) != SGAD_OK)
        rc = fail(ctx, o->train_out);
    if (!rc)
        printf("saved the classifier to %s\n", o->train_out);
    sgad_classifier_free(c);
    sgad_dataset_free(d);
    sgad_dataset_free(test);
    return rc;
}

/* ---- evaluation ---------------------------------------------------------- */

/* Where the images to judge come from: a dataset, or a generator. */
typedef struct source {
    sgad_dataset *data;
    sgad_trainer *trainer;
    sgad_tensor *z; /* [1, n, latent]: every sample's latent, drawn at once */
    unsigned flags;
} source;

typedef struct features {
    sgad_tensor *values; /* [n, F] */
    int *labels;         /* n */
} features;

static int open_generator(sgad_ctx *ctx, const options *o, int64_t n, source *s)
{
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s", o->checkpoint);
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
        sgad_checkpoint_find_latest(ctx, o->checkpoint, path, sizeof path) != SGAD_OK)
        return fail(ctx, "checkpoint");
    sgad_checkpoint *c;
    if (sgad_checkpoint_read(ctx, path, &c) != SGAD_OK)
        return fail(ctx, "checkpoint");
    const sgad_status made = sgad_checkpoint_create_trainer(c, ctx, &s->trainer);
    sgad_checkpoint_free(c);
    int latent;
    if (made != SGAD_OK || sgad_trainer_preset(s->trainer, NULL, NULL, NULL, &latent) != SGAD_OK)
        return fail(ctx, "checkpoint");
    const int64_t zd[3] = {1, n, latent};
    if (sgad_tensor_create(ctx, 3, zd, &s->z) != SGAD_OK ||
        sgad_draw_latents(ctx, (uint64_t)o->seed, s->z) != SGAD_OK)
        return fail(ctx, "latents");
    s->flags = (o->ema ? SGAD_SAMPLE_EMA : 0) | (o->bn_batch ? SGAD_SAMPLE_BATCH_STATS : 0);
    if (o->bn_batch && n % o->batch == 1) {
        fprintf(stderr, "sgad-eval: --bn batch: the last batch would hold 1 sample, which has no "
                        "batch statistics; choose --count and --batch so that none does\n");
        return 1;
    }
    return 0;
}

/* Samples first .. first+b-1 into images [b, C, H, W]; a generator that
 * emits T steps of spikes (SGAN) gives its last step. */
static sgad_status generate(sgad_ctx *ctx, source *s, int64_t first, int64_t b, sgad_tensor *images)
{
    const int64_t latent = sgad_tensor_dim(s->z, 2);
    const int64_t zd[3] = {1, b, latent};
    sgad_tensor *z = NULL, *out = NULL;
    int nd;
    int64_t od[SGAD_MAX_DIMS];
    sgad_status st = sgad_tensor_wrap(ctx, 3, zd, sgad_tensor_data(s->z) + first * latent, &z);
    if (st == SGAD_OK)
        st = sgad_net_output_dims(sgad_trainer_net(s->trainer, 0), 3, zd, &nd, od);
    if (st == SGAD_OK)
        st = sgad_tensor_create(ctx, nd, od, &out);
    if (st == SGAD_OK)
        st = sgad_trainer_sample_ex(s->trainer, z, out, s->flags, NULL, NULL);
    if (st == SGAD_OK) {
        const int64_t per = sgad_tensor_numel(images);
        if (sgad_tensor_numel(out) % per != 0)
            st = SGAD_E_SHAPE;
        else
            memcpy(sgad_tensor_data(images), sgad_tensor_data(out) + sgad_tensor_numel(out) - per,
                   (size_t)per * 4);
        if (st != SGAD_OK)
            fprintf(stderr, "sgad-eval: the generator's images are not the classifier's size\n");
    }
    sgad_tensor_free(z);
    sgad_tensor_free(out);
    return st;
}

/* Features and labels of images 0..n-1 of a source, batch at a time. */
static int extract(sgad_ctx *ctx, sgad_classifier *cls, source *s, int64_t n, int64_t batch,
                   features *f)
{
    int64_t ch, h, w;
    const int64_t fd[2] = {n, sgad_classifier_feature_dim(cls)};
    sgad_classifier_image_dims(cls, &ch, &h, &w);
    f->labels = malloc((size_t)n * sizeof *f->labels);
    if (!f->labels || sgad_tensor_create(ctx, 2, fd, &f->values) != SGAD_OK)
        return fail(ctx, "features");
    for (int64_t first = 0; first < n; first += batch) {
        const int64_t b = n - first < batch ? n - first : batch;
        const int64_t id[4] = {b, ch, h, w}, bd[2] = {b, fd[1]};
        sgad_tensor *images = NULL, *slice = NULL;
        sgad_status st = sgad_tensor_create(ctx, 4, id, &images);
        if (st == SGAD_OK)
            st = s->data ? sgad_dataset_read(s->data, first, images)
                         : generate(ctx, s, first, b, images);
        if (st == SGAD_OK)
            st = sgad_tensor_wrap(ctx, 2, bd, sgad_tensor_data(f->values) + first * fd[1], &slice);
        if (st == SGAD_OK)
            st = sgad_classifier_run(cls, images, slice, f->labels + first);
        sgad_tensor_free(images);
        sgad_tensor_free(slice);
        if (st != SGAD_OK)
            return fail(ctx, s->data ? "images" : "sampling");
    }
    return 0;
}

/* The number of images to judge: --count, else 10000 or fewer if a file
 * holds fewer. */
static int sample_count(const options *o, sgad_dataset *real, sgad_dataset *gen, int64_t *n)
{
    int64_t avail = sgad_dataset_count(real);
    if (gen && sgad_dataset_count(gen) < avail)
        avail = sgad_dataset_count(gen);
    if (o->count > avail) {
        fprintf(stderr, "sgad-eval: --count %lld but the image files hold only %lld\n", o->count,
                (long long)avail);
        return 1;
    }
    *n = o->count ? o->count : (avail < 10000 ? avail : 10000);
    if (*n < 2) {
        fprintf(stderr, "sgad-eval: %lld image(s); a distance needs at least 2\n", (long long)*n);
        return 1;
    }
    return 0;
}

typedef struct result {
    double frechet, entropy, max_entropy, real_accuracy;
    int has_accuracy;
    int64_t n, dim;
    int classes;
    double share[1000];
} result;

static void class_stats(const features *gen, int64_t n, int classes, result *r)
{
    int64_t count[1000] = {0};
    for (int64_t i = 0; i < n; i++)
        count[gen->labels[i]]++;
    for (int k = 0; k < classes; k++) /* exact: a class with all n is exactly 1 */
        r->share[k] = (double)count[k] / (double)n;
    r->entropy = 0;
    for (int k = 0; k < classes; k++)
        if (r->share[k] > 0)
            r->entropy -= r->share[k] * log(r->share[k]);
    r->max_entropy = log((double)classes);
}

static void real_accuracy(sgad_dataset *real, const features *f, int64_t n, result *r)
{
    r->has_accuracy = has_labels(real);
    int64_t right = 0;
    for (int64_t i = 0; r->has_accuracy && i < n; i++) {
        int truth = -1;
        sgad_dataset_label(real, i, &truth);
        right += truth == f->labels[i];
    }
    r->real_accuracy = (double)right / (double)n;
}

/* The last line on stdout: one JSON object, written with jansson
 * (jsonl.h: a non-finite figure is null and named in "nonfinite"), with a
 * space after ',' and ':' as it always had. */
static int print_json(const options *o, const result *r)
{
    json_t *j = json_object();
    int bad = !j || jsonl_set_real(j, "frechet", r->frechet) ||
              json_object_set_new(j, "samples", json_integer(r->n)) ||
              json_object_set_new(j, "real", json_integer(r->n)) ||
              jsonl_set_real(j, "entropy", r->entropy) ||
              jsonl_set_real(j, "max_entropy", r->max_entropy) ||
              json_object_set_new(j, "class_share", json_array());
    for (int k = 0; !bad && k < r->classes; k++)
        bad = jsonl_append_real(j, "class_share", r->share[k]);
    bad = bad ||
          (r->has_accuracy ? jsonl_set_real(j, "real_accuracy", r->real_accuracy)
                           : json_object_set_new(j, "real_accuracy", json_null())) ||
          jsonl_set_text(j, "classifier", o->classifier) ||
          json_object_set_new(j, "feature_dim", json_integer(r->dim)) ||
          (o->checkpoint && /* how the generated images were drawn */
           (jsonl_set_text(j, "bn", o->bn_batch ? "batch" : "running") ||
            json_object_set_new(j, "batch", json_integer(o->batch)))) ||
          jsonl_write(stdout, j, JSON_REAL_PRECISION(9));
    json_decref(j);
    if (bad)
        fprintf(stderr, "sgad-eval: could not write the result's JSON line\n");
    return bad;
}

static int print_result(const options *o, const result *r)
{
    printf("samples %lld (%s) against %lld real images, %lld features\n", (long long)r->n,
           o->checkpoint ? "generated" : o->images, (long long)r->n, (long long)r->dim);
    printf("frechet distance %.6g\n", r->frechet);
    printf("class entropy %.4f of at most %.4f nats\n", r->entropy, r->max_entropy);
    if (r->has_accuracy)
        printf("classifier accuracy on the real images %.4f\n", r->real_accuracy);
    return print_json(o, r);
}

typedef struct evaluation {
    sgad_classifier *cls;
    sgad_dataset *real;
    source gen;
    features fr, fg;
    result r;
} evaluation;

static int measure(sgad_ctx *ctx, const options *o, evaluation *e)
{
    int64_t n;
    if (sample_count(o, e->real, e->gen.data, &n))
        return 1;
    if (o->checkpoint && open_generator(ctx, o, n, &e->gen))
        return 1;
    source real = {e->real, NULL, NULL, 0};
    if (extract(ctx, e->cls, &real, n, o->batch, &e->fr) ||
        extract(ctx, e->cls, &e->gen, n, o->batch, &e->fg))
        return 1;
    if (sgad_frechet_distance(e->fg.values, e->fr.values, &e->r.frechet) != SGAD_OK)
        return fail(ctx, "frechet distance");
    e->r.n = n;
    e->r.dim = sgad_classifier_feature_dim(e->cls);
    e->r.classes = sgad_classifier_classes(e->cls);
    class_stats(&e->fg, n, e->r.classes, &e->r);
    real_accuracy(e->real, &e->fr, n, &e->r);
    return print_result(o, &e->r);
}

/* Nonzero (after a message) unless d holds the classifier's image size. */
static int check_size(sgad_classifier *cls, sgad_dataset *d, const char *path)
{
    int64_t c, h, w, dc, dh, dw;
    sgad_classifier_image_dims(cls, &c, &h, &w);
    sgad_dataset_image_dims(d, &dc, &dh, &dw);
    if (c == dc && h == dh && w == dw)
        return 0;
    fprintf(stderr,
            "sgad-eval: %s holds %lldx%lldx%lld images; the classifier takes "
            "%lldx%lldx%lld\n",
            path, (long long)dh, (long long)dw, (long long)dc, (long long)h, (long long)w,
            (long long)c);
    return 1;
}

static int evaluate(sgad_ctx *ctx, const options *o)
{
    evaluation e;
    memset(&e, 0, sizeof e);
    int rc = 0;
    if (sgad_classifier_load(ctx, o->classifier, &e.cls) != SGAD_OK)
        rc = fail(ctx, "classifier");
    if (!rc)
        rc = open_images(ctx, o->real, o->real_labels, &e.real);
    if (!rc)
        rc = check_size(e.cls, e.real, o->real);
    if (!rc && o->images)
        rc = open_images(ctx, o->images, NULL, &e.gen.data);
    if (!rc && o->images)
        rc = check_size(e.cls, e.gen.data, o->images);
    if (!rc)
        rc = measure(ctx, o, &e);
    sgad_tensor_free(e.fr.values);
    sgad_tensor_free(e.fg.values);
    free(e.fr.labels);
    free(e.fg.labels);
    sgad_tensor_free(e.gen.z);
    sgad_trainer_free(e.gen.trainer);
    sgad_dataset_free(e.gen.data);
    sgad_dataset_free(e.real);
    sgad_classifier_free(e.cls);
    return rc;
}

/* ---- the cached classifier ------------------------------------------------ */

/* eval_cache_train: a classifier trained as --train-classifier would, on
 * all the request's images with its seed, batch and epochs, through a
 * context of its own seeded with the request's seed, so that neither
 * --seed (the latents') nor --batch (the features') of the evaluation
 * changes the cached classifier. */
static int train_for_cache(void *user, const eval_cache_request *req, const char *path)
{
    const options *o = user;
    options t = {.train_out = path,
                 .train_images = req->images,
                 .train_labels = req->labels,
                 .epochs = req->epochs,
                 .batch = req->batch,
                 .threads = o->threads,
                 .seed = req->seed};
    sgad_ctx *ctx;
    if (sgad_ctx_create(&ctx) != SGAD_OK)
        return 1;
    int rc = sgad_ctx_set_threads(ctx, (int)o->threads) != SGAD_OK ? fail(ctx, "threads") : 0;
    if (!rc && sgad_ctx_set_seed(ctx, (uint64_t)req->seed) != SGAD_OK)
        rc = fail(ctx, "seed");
    if (!rc)
        rc = train(ctx, &t);
    sgad_ctx_free(ctx);
    return rc;
}

/* Points o->classifier at the cached classifier for --real's training
 * split, training it first if needed; path holds it. */
static int use_cache(sgad_ctx *ctx, options *o, char *path, size_t cap)
{
    char images[4096], labels[4096];
    const int rc = eval_cache_split(o->real, o->real_labels, o->train_images, o->train_labels,
                                    images, labels, sizeof images);
    if (rc)
        return rc;
    const eval_cache_request req = {images, labels[0] ? labels : NULL, o->epochs, 64, 1};
    if (eval_cache_classifier(ctx, &req, train_for_cache, o, path, cap))
        return 1;
    o->classifier = path;
    return 0;
}

int main(int argc, char **argv)
{
    char cached[4096];
    options o;
    const int wrong = parse(argc, argv, &o);
    if (wrong)
        return wrong;
    sgad_ctx *ctx;
    if (sgad_ctx_create(&ctx) != SGAD_OK)
        return 1;
    int rc = sgad_ctx_set_threads(ctx, (int)o.threads) != SGAD_OK ? fail(ctx, "threads") : 0;
    if (!rc)
        sgad_ctx_set_seed(ctx, (uint64_t)o.seed);
    if (!rc && !o.train_out && !o.classifier)
        rc = use_cache(ctx, &o, cached, sizeof cached);
    if (!rc)
        rc = o.train_out ? train(ctx, &o) : evaluate(ctx, &o);
    sgad_ctx_free(ctx);
    return rc;
}
