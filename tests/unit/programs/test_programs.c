/* SPDX-License-Identifier: MIT */
/* The programs people run: sgad-train for a few iterations on a tiny IDX
 * file the test writes, sgad-sample on its checkpoint (PNG grid, IDX file,
 * strips; in batches, bitwise the same whatever the batch), sgad-inspect,
 * resume, the signals a scheduler sends (SIGINT, SIGTERM, SIGUSR1), the
 * JSON-lines log read back with jansson, sgad-eval's classifier cache,
 * wrong arguments, and sgad-similarity on a checkpoint and on matrices
 * the test writes. No test depends on speed: a signal is sent once the log
 * or a checkpoint shows the run got there. */
#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_util.h"

static const char *examples(void)
{
    const char *d = getenv("SGAD_TEST_PROGRAMS");
    return d ? d : "build/release/examples";
}

static int sh(const char *fmt, const char *a, const char *b)
{
    char cmd[4096];
    char body[3500];
    snprintf(body, sizeof body, fmt, a, b);
    snprintf(cmd, sizeof cmd, "cd %s && ASAN_OPTIONS=detect_leaks=0 %s", examples(), body);
    const int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* 16 images of 28x28 with a bright bar whose place depends on the image. */
static void write_tiny_idx(const char *path)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    const unsigned char head[16] = {0, 0, 8, 3, 0, 0, 0, 16, 0, 0, 0, 28, 0, 0, 0, 28};
    fwrite(head, 1, 16, f);
    for (int i = 0; i < 16; i++)
        for (int p = 0; p < 784; p++)
            fputc((p / 28) / 4 == i % 7 ? 230 : 10, f);
    fclose(f);
}

/* The labels of write_tiny_idx's images (IDX1): the bar's place. */
static void write_tiny_labels(const char *path)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    const unsigned char head[8] = {0, 0, 8, 1, 0, 0, 0, 16};
    fwrite(head, 1, 8, f);
    for (int i = 0; i < 16; i++)
        fputc(i % 7, f);
    fclose(f);
}

static int count_lines(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[8192];
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

static void expect_png(sgad_ctx *ctx, const char *path, int64_t h, int64_t w)
{
    sgad_dataset *d;
    size_t n;
    unsigned char *bytes = tu_read_file(path, &n);
    ck_assert_msg(bytes != NULL, "%s missing", path);
    ASSERT_OK(ctx, sgad_dataset_open_memory(ctx, SGAD_DATA_PNG, bytes, n, NULL, 0, &d));
    free(bytes);
    int64_t hh, ww;
    ASSERT_OK(ctx, sgad_dataset_image_dims(d, NULL, &hh, &ww));
    ck_assert_msg(hh == h && ww == w, "%s is %lldx%lld, expected %lldx%lld", path, (long long)hh,
                  (long long)ww, (long long)h, (long long)w);
    sgad_dataset_free(d);
}

/* Every line of a train.jsonl is a JSON object (jansson reads it) whose
 * figures are numbers, or null with their key in "nonfinite"; the
 * iterations are 1, 2, ..., n with --log-every 1, a resumed run's lines
 * following the stopped run's. Returns n (0 for an empty or missing log). */
static long long check_log(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[16384];
    long long n = 0;
    while (fgets(line, sizeof line, f)) {
        json_error_t err;
        json_t *o = json_loads(line, 0, &err);
        ck_assert_msg(o && json_is_object(o), "%s: not a JSON object (%s): %s", path, err.text,
                      line);
        const json_t *it = json_object_get(o, "iteration");
        ck_assert_msg(json_is_integer(it) && json_integer_value(it) == n + 1,
                      "%s: iteration %lld expected: %s", path, n + 1, line);
        n++;
        const json_t *flags = json_object_get(o, "nonfinite");
        const char *key;
        json_t *v;
        json_object_foreach(o, key, v)
        {
            if (!strcmp(key, "nonfinite") || json_is_array(v))
                continue;
            int flagged = 0;
            for (size_t i = 0; i < json_array_size(flags); i++)
                flagged |= !strcmp(json_string_value(json_array_get(flags, i)), key);
            ck_assert_msg(json_is_number(v) || (json_is_null(v) && flagged), "%s: %s in %s", path,
                          key, line);
        }
        ck_assert_msg(json_array_size(json_object_get(o, "firing_rates_g")) > 0, "%s", line);
        json_decref(o);
    }
    fclose(f);
    return n;
}

/* Waits until done(arg) (polling, up to 4 minutes: no test depends on
 * speed, and a loaded machine runs a few iterations a second), failing
 * the test if the process pid has ended meanwhile. */
static void await(int (*done)(const void *), const void *arg, pid_t pid, const char *what)
{
    for (int tries = 0; tries < 12000 && !done(arg); tries++) {
        int st = 0;
        ck_assert_msg(waitpid(pid, &st, WNOHANG) == 0, "sgad-train ended (status %d) before %s", st,
                      what);
        const struct timespec pause = {0, 20000000};
        nanosleep(&pause, NULL);
    }
    ck_assert_msg(done(arg), "no %s after 4 minutes", what);
}

/* A run of sgad-train in the background (stderr to ERR), waited on by
 * the test. */
typedef struct bg_run {
    char dir[64], data[128], out[128], log[160], ckpts[160], err[128];
    pid_t pid;
    long long after; /* for log_beyond: an iteration the log must pass */
} bg_run;

static void start_run(bg_run *r, const char *tag)
{
    snprintf(r->dir, sizeof r->dir, "/tmp/sgad-%s-XXXXXX", tag);
    ck_assert_ptr_nonnull(mkdtemp(r->dir));
    snprintf(r->data, sizeof r->data, "%s/tiny.idx", r->dir);
    snprintf(r->out, sizeof r->out, "%s/run", r->dir);
    snprintf(r->log, sizeof r->log, "%s/train.jsonl", r->out);
    snprintf(r->ckpts, sizeof r->ckpts, "%s/checkpoints", r->out);
    snprintf(r->err, sizeof r->err, "%s/err.txt", r->dir);
    write_tiny_idx(r->data);
    char bin[512];
    snprintf(bin, sizeof bin, "%s/sgad-train", examples());
    r->pid = fork();
    ck_assert_int_ge(r->pid, 0);
    if (r->pid == 0) {
        if (!freopen(r->err, "w", stderr))
            _exit(127);
        setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
        execl(bin, bin, "--data", r->data, "--iters", "1000000", "--batch", "4", "--steps", "2",
              "--threads", "1", "--checkpoint-every", "0", "--sample-every", "0", "--keep", "0",
              "--log-every", "1", "--out", r->out, (char *)NULL);
        _exit(127);
    }
}

static long long last_logged(const char *log)
{
    FILE *f = fopen(log, "r");
    if (!f)
        return 0;
    char line[16384];
    long long it = 0;
    while (fgets(line, sizeof line, f))
        if (line[strlen(line) - 1] == '\n') /* a whole line */
            sscanf(line, "{\"iteration\":%lld", &it);
    fclose(f);
    return it;
}

/* The iteration of the newest checkpoint in dir, 0 if none. Checkpoints
 * appear whole (renamed from a temporary file), so a name is a file. */
static long long newest_checkpoint(const char *dir)
{
    DIR *d = opendir(dir);
    long long newest = 0, it;
    char tail[32];
    const struct dirent *e;
    while (d && (e = readdir(d)))
        if (sscanf(e->d_name, "ckpt-%lld.safetensor%31s", &it, tail) == 2 && !strcmp(tail, "s") &&
            it > newest)
            newest = it;
    if (d)
        closedir(d);
    return newest;
}

static int log_started(const void *r)
{
    return last_logged(((const bg_run *)r)->log) >= 1;
}

static int log_beyond(const void *r)
{
    return last_logged(((const bg_run *)r)->log) > ((const bg_run *)r)->after;
}

static int checkpoint_saved(const void *r)
{
    return newest_checkpoint(((const bg_run *)r)->ckpts) >= 1;
}

/* The child's exit status after sig, or -1 if it did not exit. */
static int stop_with(bg_run *r, int sig)
{
    ck_assert_int_eq(kill(r->pid, sig), 0);
    int st;
    ck_assert_int_eq(waitpid(r->pid, &st, 0), r->pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int file_has(const char *path, const char *needle)
{
    size_t n;
    char *text = (char *)tu_read_file(path, &n);
    const int has = text && strstr(text, needle);
    free(text);
    return has;
}

static void remove_dir(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* A float64 [rows x cols] .npy file (format 1.0) of the values v. */
static void write_npy(const char *path, const double *v, int rows, int cols)
{
    char head[128];
    int len = snprintf(head, sizeof head,
                       "{'descr': '<f8', 'fortran_order': False, 'shape': (%d, %d), }", rows, cols);
    while ((10 + len + 1) % 64)
        head[len++] = ' ';
    head[len++] = '\n';
    const unsigned char magic[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)len, 0};
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fwrite(magic, 1, 10, f);
    fwrite(head, 1, (size_t)len, f);
    fwrite(v, sizeof *v, (size_t)rows * (size_t)cols, f);
    fclose(f);
}

/* The number under key in a JSON object, NaN if missing or not a number. */
static double json_number_at(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

START_TEST(train_then_sample)
{
    sgad_ctx *ctx = tu_ctx(1);
    char dir[] = "/tmp/sgad-prog-XXXXXX", data[256], p[512];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(data, sizeof data, "%s/tiny.idx", dir);
    write_tiny_idx(data);
    /* value options as --flag=value, as getopt_long takes them */
    ck_assert_int_eq(sh("./sgad-train --model=sgad --data=%s --iters=2 --batch=4 --steps 2 "
                        "--threads 1 --checkpoint-every 1 --sample-every 1 --log-every=1 "
                        "--out=%s/run 2>/dev/null",
                        data, dir),
                     0);
    snprintf(p, sizeof p, "%s/run/train.jsonl", dir);
    ck_assert_int_eq(count_lines(p, "\"iteration\":"), 2);
    ck_assert_int_eq(check_log(p), 2);
    ck_assert_int_eq(count_lines(p, "\"firing_rates_g\":[0."), 2);
    snprintf(p, sizeof p, "%s/run/samples.png", dir);
    expect_png(ctx, p, 8 * 30 - 2, 8 * 30 - 2);
    snprintf(p, sizeof p, "%s/run/checkpoints/ckpt-000000000002.safetensors", dir);
    ck_assert_int_eq(access(p, R_OK), 0);
    /* resume to 3 iterations */
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "./sgad-train --data %s --iters 3 --batch 4 --threads 1 "
             "--resume %s/run/checkpoints --out %s/run 2>/dev/null",
             data, dir, dir);
    ck_assert_int_eq(sh("%s%s", cmd, ""), 0);
    snprintf(p, sizeof p, "%s/run/train.jsonl", dir);
    ck_assert_int_eq(count_lines(p, "\"iteration\":3,"), 1);
    ck_assert_int_eq(check_log(p), 3);
    /* sample: grid, IDX, strips */
    snprintf(cmd, sizeof cmd,
             "./sgad-sample --checkpoint=%s/run/checkpoints --n=5 --seed 3 "
             "--grid %s/g.png --idx %s/s.idx --strips %s/strips 2>/dev/null",
             dir, dir, dir, dir);
    ck_assert_int_eq(sh("%s%s", cmd, ""), 0);
    snprintf(p, sizeof p, "%s/g.png", dir);
    expect_png(ctx, p, 2 * 30 - 2, 3 * 30 - 2); /* 5 samples: 2 rows of 3 */
    snprintf(p, sizeof p, "%s/s.idx", dir);
    sgad_dataset *d;
    ASSERT_OK(ctx, sgad_dataset_open(ctx, SGAD_DATA_IDX, p, NULL, &d));
    ck_assert_int_eq(sgad_dataset_count(d), 5);
    sgad_dataset_free(d);
    snprintf(p, sizeof p, "%s/strips/strip-004.png", dir);
    expect_png(ctx, p, 28 + 6, 2 * 30 - 2); /* T = 2 frames and the score bars */
    /* inspect */
    snprintf(cmd, sizeof cmd,
             "./sgad-inspect %s/run/checkpoints/ckpt-000000000003.safetensors "
             "> %s/inspect.txt",
             dir, dir);
    ck_assert_int_eq(sh("%s%s", cmd, ""), 0);
    snprintf(p, sizeof p, "%s/inspect.txt", dir);
    ck_assert_int_eq(count_lines(p, "  G.13.query.weight "), 1);
    ck_assert_int_eq(sh("./sgad-inspect %s/tiny.idx 2>/dev/null%s", dir, ""), 1);
    /* similarity: D's three LIF layers against one recorded "area" */
    double area[16 * 4];
    uint64_t state = 9;
    for (int i = 0; i < 16 * 4; i++)
        area[i] = tu_uniform(&state);
    snprintf(p, sizeof p, "%s/area.npy", dir);
    write_npy(p, area, 16, 4);
    snprintf(cmd, sizeof cmd,
             "./sgad-similarity --checkpoint %s/run/checkpoints --stimuli %s --area V=%s "
             "--rdm euclidean --folds 2 --csv %s/sim.csv --save-layers %s/layers "
             "> %s/sim.jsonl 2>/dev/null",
             dir, data, p, dir, dir, dir);
    ck_assert_int_eq(sh("%s%s", cmd, ""), 0);
    snprintf(p, sizeof p, "%s/sim.jsonl", dir);
    ck_assert_int_eq(count_lines(p, "\"area\": \"V\""), 3 * 5);
    ck_assert_int_eq(count_lines(p, "\"layer\": \"lif3\""), 5);
    snprintf(p, sizeof p, "%s/sim.csv", dir);
    ck_assert_int_eq(count_lines(p, ",V,"), 3 * 5);
    snprintf(p, sizeof p, "%s/layers/layer03-lif1.npy", dir);
    ck_assert_int_eq(access(p, R_OK), 0);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
    sgad_ctx_free(ctx);
}
END_TEST

/* SIGINT (Ctrl-C) once training runs: a checkpoint and status 130. */
/* A preset SGAD checkpoint (28x28, T = 2) after one iteration, with small
 * running variances so that G spikes in evaluation mode too (an untrained
 * G's are near 1 and its images all alike). */
static void write_sgad_checkpoint(sgad_ctx *ctx, const char *path)
{
    sgad_trainer *t;
    ASSERT_OK(ctx, sgad_trainer_create_preset(ctx, SGAD_MODEL_SGAD, SGAD_SHAPE_28X28X1, 2, 15,
                                              SGAD_LOSS_EM, SGAD_OPTIMIZER_RMSPROP, &t));
    sgad_tensor *real = tu_tensor(ctx, 4, 1, 28, 28, 0);
    uint64_t state = 4;
    tu_fill_uniform(sgad_tensor_data(real), 4 * 784, 0, 1, &state);
    ASSERT_OK(ctx, sgad_trainer_step(t, real, NULL));
    sgad_net *g = sgad_trainer_net(t, 0);
    for (int i = 0; i < sgad_net_param_count(g); i++) {
        const char *name;
        sgad_tensor *v;
        ASSERT_OK(ctx, sgad_net_param(g, i, &name, &v, NULL));
        for (int64_t j = 0; strstr(name, "running_var") && j < sgad_tensor_numel(v); j++)
            sgad_tensor_data(v)[j] = 1e-4f;
    }
    ASSERT_OK(ctx, sgad_checkpoint_save(t, path));
    sgad_tensor_free(real);
    sgad_trainer_free(t);
}

/* The IDX file of n samples of the checkpoint as the library makes it:
 * sgad_trainer_sample on all n latents at once, sgad_image_write_idx. */
static void library_idx(sgad_ctx *ctx, const char *ckpt, int n, uint64_t seed, const char *out)
{
    sgad_checkpoint *c;
    sgad_trainer *t;
    ASSERT_OK(ctx, sgad_checkpoint_read(ctx, ckpt, &c));
    ASSERT_OK(ctx, sgad_checkpoint_create_trainer(c, ctx, &t));
    sgad_checkpoint_free(c);
    sgad_tensor *z = tu_tensor(ctx, 1, n, 15, 0), *img = tu_tensor(ctx, 1, n, 1, 28, 28, 0);
    ASSERT_OK(ctx, sgad_draw_latents(ctx, seed, z));
    ASSERT_OK(ctx, sgad_trainer_sample(t, z, img));
    ASSERT_OK(ctx, sgad_image_write_idx(ctx, out, img));
    sgad_tensor_free(z);
    sgad_tensor_free(img);
    sgad_trainer_free(t);
}

/* sgad-sample draws in batches: with running statistics the files are the
 * same whatever the batch, and the library's; with batch statistics they
 * follow (seed, batch) and differ from those; the grid shows the first
 * 64. And 10000 samples fit an address space of 1 GiB, which the old
 * single batch overran more than sixfold (docs/results.md). */
START_TEST(sample_in_batches)
{
    sgad_ctx *ctx = tu_ctx(1);
    char dir[] = "/tmp/sgad-batch-XXXXXX", p[512], q[512], cmd[2048];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(p, sizeof p, "%s/g.ckpt", dir);
    write_sgad_checkpoint(ctx, p);
    const char *base = "./sgad-sample --checkpoint %s/g.ckpt --seed 5 --threads 1 %s 2>/dev/null";
    static const char *const running[] = {"--n 150 --batch 7 --idx %s/r7.idx",
                                          "--n 150 --batch 150 --idx %s/r150.idx",
                                          "--n 150 --idx %s/r64.idx --grid %s/grid.png",
                                          "--n 150 --bn batch --idx %s/b64.idx",
                                          "--n 150 --bn batch --threads 2 --idx %s/b64t2.idx",
                                          "--n 150 --bn batch --batch 30 --idx %s/b30.idx"};
    for (size_t i = 0; i < sizeof running / sizeof *running; i++) {
        char args[600];
        snprintf(args, sizeof args, running[i], dir, dir);
        ck_assert_msg(sh(base, dir, args) == 0, "sgad-sample %s failed", args);
    }
    snprintf(p, sizeof p, "%s/lib.idx", dir);
    snprintf(q, sizeof q, "%s/g.ckpt", dir);
    library_idx(ctx, q, 150, 5, p);
    static const char *const same[][2] = {
        {"r7", "r150"}, {"r7", "r64"}, {"r7", "lib"}, {"b64", "b64t2"}};
    static const char *const differ[][2] = {{"b64", "r64"}, {"b64", "b30"}};
    for (int k = 0; k < 6; k++) {
        const char *const *pair = k < 4 ? same[k] : differ[k - 4];
        snprintf(cmd, sizeof cmd, "cmp -s %s/%s.idx %s/%s.idx", dir, pair[0], dir, pair[1]);
        ck_assert_msg((system(cmd) == 0) == (k < 4), "%s.idx and %s.idx should %s", pair[0],
                      pair[1], k < 4 ? "match" : "differ");
    }
    snprintf(p, sizeof p, "%s/r7.idx", dir);
    sgad_dataset *d;
    ASSERT_OK(ctx, sgad_dataset_open(ctx, SGAD_DATA_IDX, p, NULL, &d));
    float a[784], b[784];
    sgad_tensor *ta, *tb;
    const int64_t one[4] = {1, 1, 28, 28};
    ASSERT_OK(ctx, sgad_tensor_wrap(ctx, 4, one, a, &ta));
    ASSERT_OK(ctx, sgad_tensor_wrap(ctx, 4, one, b, &tb));
    ASSERT_OK(ctx, sgad_dataset_read(d, 0, ta));
    ASSERT_OK(ctx, sgad_dataset_read(d, 149, tb));
    ck_assert(memcmp(a, b, sizeof a) != 0); /* not one image for all */
    sgad_tensor_free(ta);
    sgad_tensor_free(tb);
    sgad_dataset_free(d);
    snprintf(p, sizeof p, "%s/grid.png", dir);
    expect_png(ctx, p, 8 * 30 - 2, 8 * 30 - 2);
    /* a last batch of one sample has no batch statistics */
    ck_assert_int_eq(sh(base, dir, "--n 129 --bn batch"), 2);
    ck_assert_int_eq(sh(base, dir, "--n 4 --bn sometimes"), 2);
#ifndef __SANITIZE_ADDRESS__ /* ASan reserves terabytes of address space */
    snprintf(cmd, sizeof cmd,
             "ulimit -v 1048576 && ./sgad-sample --checkpoint %s/g.ckpt --n 10000 --threads 1 "
             "--idx %s/big.idx",
             dir, dir);
    ck_assert_int_eq(sh("%s 2>/dev/null%s", cmd, ""), 0);
    snprintf(p, sizeof p, "%s/big.idx", dir);
    ASSERT_OK(ctx, sgad_dataset_open(ctx, SGAD_DATA_IDX, p, NULL, &d));
    ck_assert_int_eq(sgad_dataset_count(d), 10000);
    sgad_dataset_free(d);
#endif
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
    sgad_ctx_free(ctx);
}
END_TEST

START_TEST(sigint_saves_a_checkpoint)
{
    bg_run r;
    start_run(&r, "int");
    await(log_started, &r, r.pid, "log line");
    ck_assert_int_eq(stop_with(&r, SIGINT), 130);
    ck_assert_msg(newest_checkpoint(r.ckpts) >= 1, "no checkpoint in %s", r.ckpts);
    ck_assert(file_has(r.err, "sgad-train: SIGINT; the checkpoint above resumes the run"));
    remove_dir(r.dir);
}
END_TEST

/* A scheduler's warning, then its stop: SIGUSR1 saves a checkpoint and
 * training goes on; SIGTERM saves one and exits with 143; resuming from
 * it continues at the saved iteration, the log's lines following on. */
START_TEST(sigusr1_then_sigterm_then_resume)
{
    bg_run r;
    start_run(&r, "term");
    await(log_started, &r, r.pid, "log line");
    ck_assert_int_eq(kill(r.pid, SIGUSR1), 0);
    await(checkpoint_saved, &r, r.pid, "checkpoint after SIGUSR1");
    r.after = newest_checkpoint(r.ckpts);
    await(log_beyond, &r, r.pid, "iteration after SIGUSR1's checkpoint");
    ck_assert_int_eq(stop_with(&r, SIGTERM), 143);
    const long long saved = newest_checkpoint(r.ckpts);
    ck_assert_msg(saved > r.after, "SIGTERM saved %lld, SIGUSR1 %lld", saved, r.after);
    ck_assert_int_eq(check_log(r.log), saved); /* the stop's iteration is logged last */
    ck_assert(file_has(r.err, "sgad-train: SIGUSR1: saved a checkpoint; training goes on"));
    ck_assert(file_has(r.err, "sgad-train: SIGTERM; the checkpoint above resumes the run"));
    char cmd[1024], until[32], expect[96];
    snprintf(until, sizeof until, "%lld", saved + 2);
    snprintf(cmd, sizeof cmd,
             "./sgad-train --data %s --iters %s --batch 4 --threads 1 --log-every 1 "
             "--resume %s --out %s 2>%s/resume.txt",
             r.data, until, r.ckpts, r.out, r.dir);
    ck_assert_int_eq(sh("%s%s", cmd, ""), 0);
    snprintf(cmd, sizeof cmd, "%s/resume.txt", r.dir);
    snprintf(expect, sizeof expect, "at iteration %lld\n", saved);
    ck_assert_msg(file_has(cmd, expect), "the resumed run did not start at %lld", saved);
    ck_assert_int_eq(check_log(r.log), saved + 2);
    remove_dir(r.dir);
}
END_TEST

/* sgad-eval without --classifier: the first run trains one on the
 * training split beside the real file (MNIST's names) and caches it under
 * XDG_CACHE_HOME, the second uses it, a damaged entry is retrained. */
static void eval_cached(const char *dir, const char *expect)
{
    char cmd[2048], out[160], err[160];
    snprintf(out, sizeof out, "%s/eval.out", dir);
    snprintf(err, sizeof err, "%s/eval.err", dir);
    snprintf(cmd, sizeof cmd,
             "XDG_CACHE_HOME=%s/cache ./sgad-eval --images=%s/t10k-images-idx3-ubyte "
             "--real %s/t10k-images-idx3-ubyte --epochs 1 --count=16 --threads 1 >%s 2>%s",
             dir, dir, dir, out, err);
    ck_assert_int_eq(sh("%s%s", cmd, ""), 0);
    ck_assert_msg(file_has(err, expect), "sgad-eval did not say '%s'", expect);
    /* the last line of stdout is JSON naming the cached classifier */
    FILE *f = fopen(out, "r");
    ck_assert_ptr_nonnull(f);
    char line[16384], last[16384] = "";
    while (fgets(line, sizeof line, f))
        snprintf(last, sizeof last, "%s", line);
    fclose(f);
    json_error_t e;
    json_t *o = json_loads(last, 0, &e);
    ck_assert_msg(o != NULL, "not JSON (%s): %s", e.text, last);
    char prefix[128];
    snprintf(prefix, sizeof prefix, "%s/cache/sgad/classifier-", dir);
    const char *cls = json_string_value(json_object_get(o, "classifier"));
    ck_assert_msg(cls && !strncmp(cls, prefix, strlen(prefix)), "classifier %s", cls);
    ck_assert_int_eq((int)json_integer_value(json_object_get(o, "samples")), 16);
    json_decref(o);
}

START_TEST(eval_caches_its_classifier)
{
    char dir[] = "/tmp/sgad-cache-XXXXXX", p[256];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(p, sizeof p, "%s/t10k-images-idx3-ubyte", dir);
    write_tiny_idx(p);
    snprintf(p, sizeof p, "%s/train-images-idx3-ubyte", dir);
    write_tiny_idx(p);
    snprintf(p, sizeof p, "%s/train-labels-idx1-ubyte", dir);
    write_tiny_labels(p);
    eval_cached(dir, "sgad-eval: no --classifier: training one on ");
    eval_cached(dir, "sgad-eval: using the cached classifier ");
    /* one byte of the cached classifier changed: never trusted */
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "f=$(ls %s/cache/sgad/classifier-*.safetensors) && "
             "printf 'X' | dd of=\"$f\" bs=1 seek=3000 conv=notrunc 2>/dev/null",
             dir);
    ck_assert_int_eq(system(cmd), 0);
    eval_cached(dir, "is damaged (the classifier file is not the one its key file records); "
                     "training a new one");
    eval_cached(dir, "sgad-eval: using the cached classifier ");
    /* a key file that names other data: retrained too */
    snprintf(cmd, sizeof cmd, "sed -i 's/^epochs 1/epochs 9/' %s/cache/sgad/classifier-*.key", dir);
    ck_assert_int_eq(system(cmd), 0);
    eval_cached(dir, "is damaged (its key does not match the data and settings)");
    eval_cached(dir, "sgad-eval: using the cached classifier ");
    remove_dir(dir);
}
END_TEST

START_TEST(wrong_arguments_get_usage)
{
    ck_assert_int_eq(sh("./sgad-train --iters 0 2>/dev/null%s%s", "", ""), 2);
    ck_assert_int_eq(sh("./sgad-train --model foo 2>/dev/null%s%s", "", ""), 2);
    ck_assert_int_eq(sh("./sgad-train --model=foo 2>/dev/null%s%s", "", ""), 2);
    ck_assert_int_eq(sh("./sgad-train --iters= 2>/dev/null%s%s", "", ""), 2);
    ck_assert_int_eq(sh("./sgad-train --nope=1 2>/dev/null%s%s", "", ""), 2);
    ck_assert_int_eq(sh("./sgad-sample --checkpoint x --ema=1 2>/dev/null%s%s", "", ""), 2);
    ck_assert_int_eq(sh("./sgad-eval --images a --real b --classifier c --train-images d "
                        "2>/dev/null%s%s",
                        "", ""),
                     2);
    ck_assert_int_eq(sh("./sgad-train --iters 5 --epochs 1 2>/dev/null%s%s", "", ""), 2);
    ck_assert_int_eq(sh("./sgad-train --data /nonexistent 2>/dev/null%s%s", "", ""), 1);
    ck_assert_int_eq(sh("./sgad-sample --n 3 2>/dev/null%s%s", "", ""), 2);
    ck_assert_int_eq(sh("./sgad-sample --checkpoint /nonexistent 2>/dev/null%s%s", "", ""), 1);
    ck_assert_int_eq(sh("./sgad-inspect 2>/dev/null%s%s", "", ""), 2);
    ck_assert_int_eq(sh("./sgad-train --help >/dev/null%s%s", "", ""), 0);
    ck_assert_int_eq(sh("./sgad-sample --help >/dev/null%s%s", "", ""), 0);
    ck_assert_int_eq(sh("./sgad-inspect --help >/dev/null%s%s", "", ""), 0);
}
END_TEST

START_TEST(similarity_pair_and_arguments)
{
    char dir[] = "/tmp/sgad-sim-XXXXXX", x[256], y[256], out[256], cmd[1024];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(x, sizeof x, "%s/x.npy", dir);
    snprintf(y, sizeof y, "%s/y.npy", dir);
    snprintf(out, sizeof out, "%s/out.txt", dir);
    double v[24 * 3];
    uint64_t state = 5;
    for (int i = 0; i < 24 * 3; i++)
        v[i] = tu_uniform(&state);
    write_npy(x, v, 24, 3);
    write_npy(y, v, 24, 3);
    snprintf(cmd, sizeof cmd, "./sgad-similarity --pair %s %s > %s", x, y, out);
    ck_assert_int_eq(sh("%s%s", cmd, ""), 0);
    size_t n;
    char *line = (char *)tu_read_file(out, &n);
    ck_assert_ptr_nonnull(line);
    ck_assert_int_eq(count_lines(out, "{"), 1);
    json_error_t err;
    json_t *o = json_loads(line, 0, &err);
    ck_assert_msg(o && json_is_object(o), "not a JSON object (%s): %s", err.text, line);
    /* Identical matrices: every measure at its maximum. The encoding's
     * ridge shrinks a little and predicts held-out stimuli, so it is just
     * under 1. */
    const char *ones[] = {"rsa", "cka_linear", "cka_rbf", "svcca"};
    for (int k = 0; k < 4; k++)
        ck_assert_msg(fabs(json_number_at(o, ones[k]) - 1) < 1e-9, "%s in %s", ones[k], line);
    const double enc = json_number_at(o, "encoding");
    ck_assert_msg(enc > 0.999 && enc <= 1, "encoding in %s", line);
    ck_assert_msg(json_integer_value(json_object_get(o, "stimuli")) == 24, "%s", line);
    ck_assert_int_eq(json_object_size(json_object_get(o, "undefined")), 0);
    json_decref(o);
    free(line);
    /* --flag=value as everywhere, also for --pair's first file. */
    ck_assert_int_eq(sh("./sgad-similarity --pair=%s %s --seed=3 --folds=4 >/dev/null", x, y), 0);
    ck_assert_int_eq(sh("./sgad-similarity --pair %s %s --folds=1 2>/dev/null", x, y), 2);
    /* Wrong arguments: exit 2; a file that is not there: exit 1 naming it. */
    ck_assert_int_eq(sh("./sgad-similarity --pair %s 2>/dev/null%s", x, ""), 2);
    ck_assert_int_eq(sh("./sgad-similarity --pair %s %s --rdm cosine 2>/dev/null", x, y), 2);
    ck_assert_int_eq(sh("./sgad-similarity --pair %s %s --stimuli a 2>/dev/null", x, y), 2);
    ck_assert_int_eq(
        sh("./sgad-similarity --checkpoint c --stimuli s --area V1 2>/dev/null%s%s", "", ""), 2);
    ck_assert_int_eq(sh("./sgad-similarity --checkpoint c --area V1=%s 2>/dev/null%s", x, ""), 2);
    ck_assert_int_eq(sh("./sgad-similarity --frobnicate 2>/dev/null%s%s", "", ""), 2);
    snprintf(cmd, sizeof cmd, "./sgad-similarity --pair %s/none.npy %s 2> %s", dir, y, out);
    ck_assert_int_eq(sh("%s%s", cmd, ""), 1);
    ck_assert_int_eq(count_lines(out, "none.npy"), 1);
    snprintf(cmd, sizeof cmd,
             "./sgad-similarity --checkpoint %s/none.safetensors --stimuli %s --area V=%s 2> %s",
             dir, x, y, out);
    ck_assert_int_eq(sh("%s%s", cmd, ""), 1);
    ck_assert_int_eq(count_lines(out, "none.safetensors"), 1);
    ck_assert_int_eq(sh("./sgad-similarity --help | grep -q -- --pair%s%s", "", ""), 0);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

Suite *suite_programs(void)
{
    Suite *s = suite_create("programs");
    TCase *tc = tcase_create("programs");
    tcase_set_timeout(tc, 900); /* a test waits up to 4 minutes a step on a loaded machine */
    tcase_add_test(tc, train_then_sample);
    tcase_add_test(tc, sample_in_batches);
    tcase_add_test(tc, sigint_saves_a_checkpoint);
    tcase_add_test(tc, sigusr1_then_sigterm_then_resume);
    tcase_add_test(tc, eval_caches_its_classifier);
    tcase_add_test(tc, wrong_arguments_get_usage);
    tcase_add_test(tc, similarity_pair_and_arguments);
    suite_add_tcase(s, tc);
    return s;
}
