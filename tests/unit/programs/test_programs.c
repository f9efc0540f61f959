/* The programs people run: sgad-train for a few iterations on a tiny IDX
 * file the test writes, sgad-sample on its checkpoint (PNG grid, IDX file,
 * strips), sgad-inspect, resume, SIGINT, and wrong arguments. */
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

START_TEST(train_then_sample)
{
    sgad_ctx *ctx = tu_ctx(1);
    char dir[] = "/tmp/sgad-prog-XXXXXX", data[256], p[512];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(data, sizeof data, "%s/tiny.idx", dir);
    write_tiny_idx(data);
    ck_assert_int_eq(sh("./sgad-train --data %s --iters 2 --batch 4 --steps 2 --threads 1 "
                        "--checkpoint-every 1 --sample-every 1 --log-every 1 --out %s/run "
                        "2>/dev/null",
                        data, dir),
                     0);
    snprintf(p, sizeof p, "%s/run/train.jsonl", dir);
    ck_assert_int_eq(count_lines(p, "\"iteration\":"), 2);
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
    /* sample: grid, IDX, strips */
    snprintf(cmd, sizeof cmd,
             "./sgad-sample --checkpoint %s/run/checkpoints --n 5 --seed 3 "
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
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
    sgad_ctx_free(ctx);
}
END_TEST

START_TEST(sigint_saves_a_checkpoint)
{
    char dir[] = "/tmp/sgad-int-XXXXXX", data[256], bin[512], out[300];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(data, sizeof data, "%s/tiny.idx", dir);
    snprintf(out, sizeof out, "%s/run", dir);
    write_tiny_idx(data);
    snprintf(bin, sizeof bin, "%s/sgad-train", examples());
    const pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        freopen("/dev/null", "w", stderr);
        setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
        execl(bin, bin, "--data", data, "--iters", "100000", "--batch", "4", "--steps", "2",
              "--threads", "1", "--checkpoint-every", "0", "--sample-every", "0", "--out", out,
              (char *)NULL);
        _exit(127);
    }
    const struct timespec wait = {1, 500000000};
    nanosleep(&wait, NULL);
    kill(pid, SIGINT);
    int st;
    waitpid(pid, &st, 0);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 130, "status %d", st);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "ls %s/checkpoints/ckpt-*.safetensors >/dev/null 2>&1", out);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(wrong_arguments_get_usage)
{
    ck_assert_int_eq(sh("./sgad-train --iters 0 2>/dev/null%s%s", "", ""), 2);
    ck_assert_int_eq(sh("./sgad-train --model foo 2>/dev/null%s%s", "", ""), 2);
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

Suite *suite_programs(void)
{
    Suite *s = suite_create("programs");
    TCase *tc = tcase_create("programs");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, train_then_sample);
    tcase_add_test(tc, sigint_saves_a_checkpoint);
    tcase_add_test(tc, wrong_arguments_get_usage);
    suite_add_tcase(s, tc);
    return s;
}
