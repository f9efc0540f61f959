/* SPDX-License-Identifier: MIT */
/* sgad-train: trains one of the paper's four models on a dataset, with
 * checkpoints, sample grids, a JSON-lines log and a progress line. Run
 * `sgad-train --help`.
 *
 * Signals, for schedulers that stop or warn a job: SIGINT and SIGTERM save
 * a checkpoint and exit with 128 + the signal (130, 143); SIGUSR1 saves
 * one and training goes on. A handler only records the signal; the loop
 * acts on it between iterations, since an iteration is all or nothing in
 * the library and the state between two is the one a checkpoint holds. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sgad/sgad.h>

#include "cli.h"
#include "jsonl.h"
#include "parallel.h"

typedef struct options {
    const char *model_name, *data, *labels, *format, *loss, *optimizer, *schedule;
    const char *checkpoint_dir, *resume, *log, *out;
    long long iters, epochs, checkpoint_every, sample_every, log_every, stop_at;
    int batch, steps, latent, threads, keep;
    double lr_d, lr_g, ema, clip, time_limit;
    int n_critic;
    unsigned long long seed;
    sgad_model model; /* the one model_name names */
} options;

/* Set by the handler, read and cleared by the loop only. stop_signal: the
 * first SIGINT or SIGTERM (0: none), kept since the run ends on it;
 * save_requested: a SIGUSR1 not yet served by a checkpoint. The handler
 * runs with the other two signals blocked (sa_mask), so its test-and-set
 * of stop_signal is not interleaved with another handler's. */
static volatile sig_atomic_t stop_signal, save_requested;

static void on_signal(int sig)
{
    if (sig == SIGUSR1)
        save_requested = 1;
    else if (!stop_signal)
        stop_signal = sig;
}

/* SA_RESTART: a system call that the signal interrupts (a write of the
 * log, an MPI exchange's socket) resumes instead of failing with EINTR. */
static void catch_signals(void)
{
    static const int signals[] = {SIGINT, SIGTERM, SIGUSR1};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < 3; i++)
        sigaddset(&sa.sa_mask, signals[i]);
    for (int i = 0; i < 3; i++)
        sigaction(signals[i], &sa, NULL);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: sgad-train [--model sgad|swgan|sgan|hybrid] [--data PATH] [--labels PATH]\n"
            "                  [--format idx|cifar|png] [--iters N | --epochs N] [--batch B]\n"
            "                  [--steps T] [--latent Z] [--lr-d X] [--lr-g X] [--loss em|minimax]\n"
            "                  [--optimizer rmsprop|adam] [--schedule constant|cosine|paper]\n"
            "                  [--n-critic K] [--clip C] [--ema DECAY] [--seed S] [--threads K]\n"
            "                  [--checkpoint-dir DIR] [--checkpoint-every N] [--keep K]\n"
            "                  [--resume PATH|DIR] [--sample-every N] [--log FILE]\n"
            "                  [--log-every N] [--time-limit SECONDS] [--stop-at ITERATION]\n"
            "                  [--out DIR]\n"
            "Defaults: SGAD on Debian's Fashion-MNIST, 1000 iterations, batch 64, T 16,\n"
            "RMSprop lr 2e-4 (SGAN: D 4e-4), checkpoints in OUT/checkpoints every 500\n"
            "iterations keeping 3, samples every 500, log OUT/train.jsonl every 10.\n"
            "--time-limit and --stop-at end a run early with a checkpoint, as Ctrl-C does;\n"
            "--resume continues it with the schedule it was started with. Options take\n"
            "their value as the next argument or after '=' (--iters=100). SIGINT and\n"
            "SIGTERM save a checkpoint and exit with 130 and 143; SIGUSR1 saves one and\n"
            "goes on.\n");
}

static int bad(const char *opt, const char *value)
{
    fprintf(stderr, "sgad-train: bad value for %s: '%s'\n", opt, value ? value : "(missing)");
    usage(stderr);
    return 2;
}

static int one_of(const char *s, const char *a, const char *b, const char *c)
{
    return s && (!strcmp(s, a) || !strcmp(s, b) || (c && !strcmp(s, c)));
}

static int parse(int argc, char **argv, options *o)
{
    *o = (options){.model_name = "sgad",
                   .data = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz",
                   .optimizer = "rmsprop",
                   .schedule = "constant",
                   .out = "sgad-out",
                   .checkpoint_every = 500,
                   .sample_every = 500,
                   .log_every = 10,
                   .batch = 64,
                   .steps = 16,
                   .threads = 2,
                   .keep = 3,
                   .lr_d = -1,
                   .lr_g = 2e-4,
                   .n_critic = 1,
                   .seed = 1};
    /* Every option takes a value: the next argument, or the text after '='. */
    const cli_option table[] = {
        {"--model", CLI_TEXT, .text = &o->model_name},
        {"--data", CLI_TEXT, .text = &o->data},
        {"--labels", CLI_TEXT, .text = &o->labels},
        {"--format", CLI_TEXT, .text = &o->format},
        {"--loss", CLI_TEXT, .text = &o->loss},
        {"--optimizer", CLI_TEXT, .text = &o->optimizer},
        {"--schedule", CLI_TEXT, .text = &o->schedule},
        {"--checkpoint-dir", CLI_TEXT, .text = &o->checkpoint_dir},
        {"--resume", CLI_TEXT, .text = &o->resume},
        {"--log", CLI_TEXT, .text = &o->log},
        {"--out", CLI_TEXT, .text = &o->out},
        {"--iters", CLI_LLONG, .llong_field = &o->iters, .lo = 1, .hi = 1000000000LL},
        {"--epochs", CLI_LLONG, .llong_field = &o->epochs, .lo = 1, .hi = 100000},
        {"--batch", CLI_INT, .int_field = &o->batch, .lo = 1, .hi = 4096},
        {"--steps", CLI_INT, .int_field = &o->steps, .lo = 1, .hi = 1024},
        {"--latent", CLI_INT, .int_field = &o->latent, .lo = 1, .hi = 4096},
        {"--threads", CLI_INT, .int_field = &o->threads, .lo = 1, .hi = 256},
        {"--checkpoint-every", CLI_LLONG, .llong_field = &o->checkpoint_every, .lo = 0,
         .hi = 1000000000LL},
        {"--sample-every", CLI_LLONG, .llong_field = &o->sample_every, .lo = 0, .hi = 1000000000LL},
        {"--log-every", CLI_LLONG, .llong_field = &o->log_every, .lo = 1, .hi = 1000000000LL},
        {"--keep", CLI_INT, .int_field = &o->keep, .lo = 0, .hi = 1000},
        {"--stop-at", CLI_LLONG, .llong_field = &o->stop_at, .lo = 1, .hi = 1000000000LL},
        {"--n-critic", CLI_INT, .int_field = &o->n_critic, .lo = 1, .hi = 1000},
        {"--seed", CLI_ULLONG, .ullong_field = &o->seed, .lo = 0, .hi = LLONG_MAX},
        {"--lr-d", CLI_REAL, .real_field = &o->lr_d, .real_lo = 0, .real_hi = 10},
        {"--lr-g", CLI_REAL, .real_field = &o->lr_g, .real_lo = 0, .real_hi = 10},
        {"--ema", CLI_REAL, .real_field = &o->ema, .real_lo = 0, .real_hi = 0.999999},
        {"--clip", CLI_REAL, .real_field = &o->clip, .real_lo = 0, .real_hi = 1000},
        {"--time-limit", CLI_REAL, .real_field = &o->time_limit, .real_lo = 0, .real_hi = 1e9},
    };
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            exit(0);
        }
        cli_arg a;
        cli_split(&a, argc, argv, i);
        const cli_option *opt = cli_find(table, sizeof table / sizeof table[0], a.flag);
        if (!opt) {
            fprintf(stderr, "sgad-train: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
        if (!cli_store(opt, a.value))
            return bad(a.flag, a.value);
        i += cli_used(&a, 1);
    }
    if (sgad_model_from_name(o->model_name, &o->model) != SGAD_OK)
        return bad("--model", o->model_name);
    if (o->format && !one_of(o->format, "idx", "cifar", "png"))
        return bad("--format", o->format);
    if (o->loss && !one_of(o->loss, "em", "minimax", NULL))
        return bad("--loss", o->loss);
    if (!one_of(o->optimizer, "rmsprop", "adam", NULL))
        return bad("--optimizer", o->optimizer);
    if (!one_of(o->schedule, "constant", "cosine", "paper"))
        return bad("--schedule", o->schedule);
    if (o->iters && o->epochs) {
        fprintf(stderr, "sgad-train: give --iters or --epochs, not both\n");
        usage(stderr);
        return 2;
    }
    return 0;
}

/* ---- setting up ------------------------------------------------------------ */

typedef struct run {
    options o;
    int rank, ranks;     /* this process of `ranks` data-parallel ones (parallel.h) */
    sgad_tensor *global; /* a whole global batch; real views this rank's slice of it */
    sgad_ctx *ctx;
    sgad_dataset *data;
    sgad_trainer *t;
    sgad_tensor *real, *z, *samples;
    FILE *log;
    long long total, per_epoch, first;
    int stopped; /* the run ended on a signal, agreed by every rank */
    double started;
    char ckpt_dir[1024];
} run;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int lib_fail(run *r, const char *what)
{
    fprintf(stderr, "sgad-train: %s: %s\n", what, sgad_ctx_last_error(r->ctx));
    return 1;
}

static sgad_data_format guess_format(const char *path, const char *format)
{
    if (format)
        return !strcmp(format, "idx")     ? SGAD_DATA_IDX
               : !strcmp(format, "cifar") ? SGAD_DATA_CIFAR10
                                          : SGAD_DATA_PNG;
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        char probe[4096];
        snprintf(probe, sizeof probe, "%s/data_batch_1.bin", path);
        return access(probe, R_OK) == 0 ? SGAD_DATA_CIFAR10 : SGAD_DATA_PNG;
    }
    const size_t n = strlen(path);
    return n > 4 && !strcmp(path + n - 4, ".bin") ? SGAD_DATA_CIFAR10 : SGAD_DATA_IDX;
}

static int shape_of(run *r, sgad_image_shape *shape)
{
    int64_t c, h, w;
    sgad_dataset_image_dims(r->data, &c, &h, &w);
    if (c == 1 && h == 28 && w == 28)
        *shape = SGAD_SHAPE_28X28X1;
    else if (c == 3 && h == 32 && w == 32)
        *shape = SGAD_SHAPE_32X32X3;
    else if (c == 3 && h == 64 && w == 64)
        *shape = SGAD_SHAPE_64X64X3;
    else {
        fprintf(stderr,
                "sgad-train: %s has %lldx%lldx%lld images; the models take 28x28x1, "
                "32x32x3 or 64x64x3\n",
                r->o.data, (long long)h, (long long)w, (long long)c);
        return 1;
    }
    return 0;
}

static int configure(run *r)
{
    const options *o = &r->o;
    sgad_trainer *t = r->t;
    const int sgan = o->model == SGAD_MODEL_SGAN;
    const double lr_d = o->lr_d >= 0 ? o->lr_d : sgan ? 4e-4 : 2e-4;
    const int schedule = !strcmp(o->schedule, "cosine")  ? SGAD_SCHEDULE_COSINE
                         : !strcmp(o->schedule, "paper") ? SGAD_SCHEDULE_PAPER
                                                         : SGAD_SCHEDULE_CONSTANT;
    if (sgad_optimizer_set(sgad_trainer_optimizer(t, 0), SGAD_OPT_LR, o->lr_g) != SGAD_OK ||
        sgad_optimizer_set(sgad_trainer_optimizer(t, 1), SGAD_OPT_LR, lr_d) != SGAD_OK ||
        sgad_trainer_set(t, SGAD_OPT_N_CRITIC, o->n_critic) != SGAD_OK ||
        sgad_trainer_set(t, SGAD_OPT_CLIP, o->clip) != SGAD_OK ||
        sgad_trainer_set(t, SGAD_OPT_EMA_DECAY, o->ema) != SGAD_OK ||
        sgad_trainer_set(t, SGAD_OPT_SCHEDULE, schedule) != SGAD_OK ||
        sgad_trainer_set(t, SGAD_OPT_SCHEDULE_LENGTH, (double)r->total) != SGAD_OK ||
        sgad_trainer_set(t, SGAD_OPT_SCHEDULE_PERIOD, o->epochs ? (double)r->per_epoch : 1.0) !=
            SGAD_OK ||
        sgad_trainer_set_seed(t, o->seed) != SGAD_OK)
        return lib_fail(r, "settings");
    return 0;
}

/* A new preset trainer, or the one a checkpoint (file or directory) holds. */
static int make_trainer(run *r, sgad_image_shape shape)
{
    const options *o = &r->o;
    if (!o->resume) {
        const int sgan_hybrid = o->model == SGAD_MODEL_SGAN || o->model == SGAD_MODEL_HYBRID;
        const int minimax = o->loss ? !strcmp(o->loss, "minimax") : sgan_hybrid;
        if (sgad_trainer_create_preset(r->ctx, o->model, shape, o->steps, o->latent,
                                       minimax ? SGAD_LOSS_MINIMAX : SGAD_LOSS_EM,
                                       !strcmp(o->optimizer, "adam") ? SGAD_OPTIMIZER_ADAM
                                                                     : SGAD_OPTIMIZER_RMSPROP,
                                       &r->t) != SGAD_OK)
            return lib_fail(r, "model");
        return configure(r);
    }
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s", o->resume);
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
        sgad_checkpoint_find_latest(r->ctx, o->resume, path, sizeof path) != SGAD_OK)
        return lib_fail(r, "resume");
    sgad_checkpoint *c;
    if (sgad_checkpoint_read(r->ctx, path, &c) != SGAD_OK)
        return lib_fail(r, "resume");
    const sgad_status s = sgad_checkpoint_create_trainer(c, r->ctx, &r->t);
    sgad_checkpoint_free(c);
    if (s != SGAD_OK)
        return lib_fail(r, "resume");
    fprintf(stderr, "sgad-train: resumed %s at iteration %lld\n", path,
            (long long)sgad_trainer_iterations(r->t));
    return 0;
}

static int setup(run *r)
{
    const options *o = &r->o;
    if (sgad_ctx_create(&r->ctx) != SGAD_OK)
        return 1;
    if (sgad_ctx_set_threads(r->ctx, o->threads) != SGAD_OK)
        return lib_fail(r, "threads");
    if (sgad_dataset_open(r->ctx, guess_format(o->data, o->format), o->data, o->labels, &r->data) !=
        SGAD_OK)
        return lib_fail(r, "data");
    sgad_image_shape shape;
    if (shape_of(r, &shape))
        return 1;
    r->per_epoch = sgad_dataset_batches(r->data, o->batch);
    if (r->per_epoch < 1) {
        fprintf(stderr, "sgad-train: %lld images make no batch of %d\n",
                (long long)sgad_dataset_count(r->data), o->batch);
        return 1;
    }
    r->total = o->epochs ? o->epochs * r->per_epoch : o->iters ? o->iters : 1000;
    if (make_trainer(r, shape))
        return 1;
    int64_t c, h, w;
    sgad_dataset_image_dims(r->data, &c, &h, &w);
    sgad_model model;
    int latent;
    sgad_trainer_preset(r->t, &model, NULL, NULL, &latent);
    if (o->batch % r->ranks != 0) {
        fprintf(stderr, "sgad-train: the batch %d does not split over %d ranks\n", o->batch,
                r->ranks);
        return 1;
    }
    const int64_t rd[4] = {o->batch / r->ranks, c, h, w}, gd[4] = {o->batch, c, h, w};
    const int64_t zd[3] = {1, 64, latent};
    int nd;
    int64_t sd[SGAD_MAX_DIMS];
    if (sgad_tensor_create(r->ctx, 4, gd, &r->global) != SGAD_OK ||
        sgad_tensor_wrap(r->ctx, 4, rd, sgad_tensor_data(r->global) + r->rank * rd[0] * c * h * w,
                         &r->real) != SGAD_OK ||
        sgad_tensor_create(r->ctx, 3, zd, &r->z) != SGAD_OK ||
        sgad_net_output_dims(sgad_trainer_net(r->t, 0), 3, zd, &nd, sd) != SGAD_OK ||
        sgad_tensor_create(r->ctx, nd, sd, &r->samples) != SGAD_OK ||
        sgad_draw_latents(r->ctx, 12345, r->z) != SGAD_OK)
        return lib_fail(r, "buffers");
    if (parallel_attach(r->ctx, r->t) != SGAD_OK)
        return lib_fail(r, "mpi");
    if (r->rank != 0)
        return 0; /* rank 0 alone writes */
    mkdir(o->out, 0777);
    snprintf(r->ckpt_dir, sizeof r->ckpt_dir, "%s", o->checkpoint_dir ? o->checkpoint_dir : "");
    if (!o->checkpoint_dir)
        snprintf(r->ckpt_dir, sizeof r->ckpt_dir, "%s/checkpoints", o->out);
    mkdir(r->ckpt_dir, 0777);
    char log_path[1100];
    snprintf(log_path, sizeof log_path, "%s/train.jsonl", o->out);
    r->log = fopen(o->log ? o->log : log_path, "a");
    if (!r->log) {
        fprintf(stderr, "sgad-train: cannot open the log %s: %s\n", o->log ? o->log : log_path,
                strerror(errno));
        return 1;
    }
    return 0;
}

/* ---- running ---------------------------------------------------------------- */

/* For the MPI test: SGAD_MPI_TEST_DIE_AT=N kills rank 1 after iteration N. */
static void test_failure(const run *r, long long done)
{
    const char *at = getenv("SGAD_MPI_TEST_DIE_AT");
    if (at && r->rank == 1 && done == atoll(at))
        raise(SIGKILL);
}

/* The firing rate of each spiking layer of G (which 0) or D (1). An empty
 * array for a net without spiking layers, so the key is always there. */
static int log_rates(json_t *line, sgad_trainer *t, int which)
{
    sgad_net *net = sgad_trainer_net(t, which);
    const char *key = which ? "firing_rates_d" : "firing_rates_g";
    if (json_object_set_new(line, key, json_array()))
        return -1;
    for (int i = 0; i < sgad_net_layer_count(net); i++) {
        double r;
        if (sgad_trainer_firing_rate(t, which, i, &r) == SGAD_OK && jsonl_append_real(line, key, r))
            return -1;
    }
    return 0;
}

/* One line of train.jsonl (jsonl.h: non-finite figures are null and named
 * in "nonfinite"). A line that cannot be made or written is reported once
 * and training goes on: the log is a record, the checkpoints are the run. */
static void write_log(run *r, double seconds)
{
    static const char *const names[] = {"d_real", "d_fake",      "wasserstein", "loss_d",
                                        "loss_g", "grad_norm_d", "grad_norm_g", "g_updated",
                                        "lr_d",   "lr_g"};
    static int reported;
    sgad_trainer *t = r->t;
    json_t *line =
        json_pack("{s:I,s:I,s:f}", "iteration", (json_int_t)sgad_trainer_iterations(t), "epoch",
                  (json_int_t)sgad_trainer_epoch(t), "seconds", round(seconds * 1000) / 1000);
    int bad = !line;
    for (int k = 0; !bad && k <= SGAD_STAT_LR_G; k++) {
        double v;
        sgad_trainer_stat(t, (sgad_stat)k, &v);
        bad = jsonl_set_real(line, names[k], v);
    }
    bad = bad || log_rates(line, t, 0) || log_rates(line, t, 1) ||
          jsonl_write(r->log, line, JSON_COMPACT | JSON_REAL_PRECISION(9));
    json_decref(line);
    if (bad && !reported) {
        reported = 1;
        fprintf(stderr, "sgad-train: could not write the log: %s\n", strerror(errno));
    }
}

static void progress(run *r, double seconds)
{
    const long long it = (long long)sgad_trainer_iterations(r->t), done = it - r->first;
    const double rate = seconds > 0 ? (double)done / seconds : 0;
    double dr, df, w, lg;
    sgad_trainer_stat(r->t, SGAD_STAT_D_REAL, &dr);
    sgad_trainer_stat(r->t, SGAD_STAT_D_FAKE, &df);
    sgad_trainer_stat(r->t, SGAD_STAT_WASSERSTEIN, &w);
    sgad_trainer_stat(r->t, SGAD_STAT_LOSS_G, &lg);
    double eta = rate > 0 ? (double)(r->total - it) / rate : 0;
    double frac = (double)it / (double)r->total;
    if (r->o.time_limit > 0) { /* the time budget may end the run first */
        eta = fmin(eta, fmax(r->o.time_limit - seconds, 0.0));
        frac = fmax(frac, fmin(seconds / r->o.time_limit, 1.0));
    }
    const int tty = isatty(STDERR_FILENO);
    char bar[21];
    const int fill = (int)(20.0 * frac);
    for (int i = 0; i < 20; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[20] = 0;
    fprintf(stderr,
            "%s[%s] %lld/%lld  %.2f it/s  ETA %.0fs  D(real) %.4f  D(fake) %.4f  W %.4f"
            "  loss G %.4f%s",
            tty ? "\r" : "", bar, it, r->total, rate, eta, dr, df, w, lg, tty ? "  " : "\n");
    fflush(stderr);
}

/* 64 samples from fixed latents as an 8x8 grid (SGAN's spike trains: the
 * last step), kept per iteration and as OUT/samples.png. */
static int save_samples(run *r)
{
    char path[1200];
    if (sgad_trainer_sample_ex(r->t, r->z, r->samples, r->o.ema > 0 ? SGAD_SAMPLE_EMA : 0, NULL,
                               NULL) != SGAD_OK)
        return lib_fail(r, "sample");
    const int64_t steps = sgad_tensor_dim(r->samples, 0),
                  per = sgad_tensor_numel(r->samples) / steps;
    const int64_t one[5] = {1, sgad_tensor_dim(r->samples, 1), sgad_tensor_dim(r->samples, 2),
                            sgad_tensor_dim(r->samples, 3), sgad_tensor_dim(r->samples, 4)};
    sgad_tensor *last;
    if (sgad_tensor_wrap(r->ctx, 5, one, sgad_tensor_data(r->samples) + (steps - 1) * per, &last) !=
        SGAD_OK)
        return lib_fail(r, "samples");
    int rc = 0;
    snprintf(path, sizeof path, "%s/samples-%06lld.png", r->o.out,
             (long long)sgad_trainer_iterations(r->t));
    if (sgad_image_write_grid(r->ctx, path, last, 8, 8) != SGAD_OK)
        rc = lib_fail(r, "samples");
    snprintf(path, sizeof path, "%s/samples.png", r->o.out);
    if (!rc && sgad_image_write_grid(r->ctx, path, last, 8, 8) != SGAD_OK)
        rc = lib_fail(r, "samples");
    sgad_tensor_free(last);
    return rc;
}

static int save_checkpoint(run *r)
{
    char path[4096];
    if (sgad_checkpoint_save_rotating(r->t, r->ckpt_dir, r->o.keep, path, sizeof path) != SGAD_OK)
        return lib_fail(r, "checkpoint");
    fprintf(stderr, "%ssgad-train: saved %s\n", isatty(STDERR_FILENO) ? "\n" : "", path);
    return 0;
}

/* What every rank acts on after an iteration: whether the run ends there,
 * the signal that stops it, and whether SIGUSR1 asked for a checkpoint.
 * Each is the largest over the ranks (parallel_agree), so a signal that
 * reached one rank acts on all at the same iteration, and ranks that saw
 * different stopping signals all take the higher number (SIGTERM, 15, over
 * SIGINT, 2): every rank then exits with the same status. */
typedef struct decision {
    int last, stop_signal, save;
} decision;

static decision decide(const run *r, long long done, double seconds)
{
    const options *o = &r->o;
    /* read, then cleared: a SIGUSR1 that lands between the two is served
     * by the checkpoint this one asks for, as it comes after it */
    const int save = save_requested;
    if (save)
        save_requested = 0;
    int v[3] = {done == r->total || done == o->stop_at ||
                    (o->time_limit > 0 && seconds >= o->time_limit),
                stop_signal, save};
    if (parallel_agree(v, 3))
        v[0] = 1; /* a failed exchange ends the run; v holds this rank's own */
    return (decision){v[0] || v[1], v[1], v[2]};
}

static const char *signal_name(int sig)
{
    return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal";
}

/* Rank 0's part of an iteration: the log, samples and checkpoints. */
static int record(run *r, long long done, double seconds, decision d)
{
    const options *o = &r->o;
    if (done % o->log_every == 0 || d.last) {
        write_log(r, seconds);
        progress(r, seconds);
    }
    if ((o->sample_every && done % o->sample_every == 0) || d.last)
        if (save_samples(r))
            return 1;
    if ((o->checkpoint_every && done % o->checkpoint_every == 0) || d.last || d.save) {
        if (save_checkpoint(r))
            return 1;
        if (d.save && !d.last)
            fprintf(stderr, "sgad-train: SIGUSR1: saved a checkpoint; training goes on\n");
    }
    if (d.stop_signal)
        fprintf(stderr, "sgad-train: %s; the checkpoint above resumes the run\n",
                signal_name(d.stop_signal));
    return 0;
}

static int train(run *r)
{
    const options *o = &r->o;
    r->first = (long long)sgad_trainer_iterations(r->t);
    r->started = now();
    while ((long long)sgad_trainer_iterations(r->t) < r->total) {
        const long long it = (long long)sgad_trainer_iterations(r->t);
        const long long epoch = it / r->per_epoch;
        if (sgad_trainer_set_epoch(r->t, epoch) != SGAD_OK ||
            sgad_dataset_batch(r->data, o->seed, epoch, it % r->per_epoch, r->global, NULL) !=
                SGAD_OK)
            return lib_fail(r, "data");
        if (sgad_trainer_step(r->t, r->real, NULL) != SGAD_OK)
            return lib_fail(r, "iteration");
        test_failure(r, it + 1);
        const long long done = it + 1;
        const double seconds = now() - r->started;
        const decision d = decide(r, done, seconds); /* the same on every rank */
        if (r->rank == 0 && record(r, done, seconds, d))
            return 1; /* main stops the other ranks */
        if (d.stop_signal) {
            /* No rank exits before rank 0 has saved: mpirun kills the
             * whole job as soon as one rank exits with a nonzero status.
             * An exit status, not the signal re-raised: the shell's $? is
             * 128 + the signal either way, but a status also reaches
             * mpirun as every rank's own, after MPI_Finalize. */
            int saved = 1;
            parallel_agree(&saved, 1);
            r->stopped = 1;
            return 128 + d.stop_signal;
        }
        if (d.last)
            break;
    }
    if (r->rank == 0)
        fprintf(stderr,
                "sgad-train: %lld iterations in %.1f s on %d rank%s; samples in "
                "%s/samples.png\n",
                (long long)sgad_trainer_iterations(r->t) - r->first, now() - r->started, r->ranks,
                r->ranks > 1 ? "s" : "", o->out);
    return 0;
}

static void finish(run *r)
{
    if (r->log)
        fclose(r->log);
    sgad_tensor_free(r->real);
    sgad_tensor_free(r->global);
    sgad_tensor_free(r->z);
    sgad_tensor_free(r->samples);
    sgad_trainer_free(r->t);
    sgad_dataset_free(r->data);
    sgad_ctx_free(r->ctx);
}

int main(int argc, char **argv)
{
    run r;
    memset(&r, 0, sizeof r);
    /* first of all, so a signal during MPI's start or the data's loading
     * is kept for the first iteration boundary instead of ending the
     * process (SIGUSR1's default action) without a checkpoint */
    catch_signals();
    if (parallel_init(&argc, &argv, &r.rank, &r.ranks))
        return 1;
    const int bad_args = parse(argc, argv, &r.o);
    if (bad_args)
        return bad_args;
    int rc = setup(&r);
    if (!rc)
        rc = train(&r);
    if (rc && !r.stopped) /* a stop on a signal is agreed: every rank exits alike */
        parallel_abort_others(rc);
    finish(&r);
    parallel_finalize();
    return rc;
}
