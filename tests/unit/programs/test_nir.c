/* SPDX-License-Identifier: MIT */
/* sgad-nir (docs/nir.md), run as a child process with the graphs
 * tests/nir_handmade.py writes by hand from the NIR specification with
 * h5py: the handmade graphs import and give the expected spikes; a
 * checkpoint's D exports in the spec's layout and imports to bitwise the
 * same outputs as the net the export describes; import then export gives
 * the same graph; G and damaged or unsupported files are refused by name
 * with exit status 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_util.h"

static const char *env_or(const char *name, const char *fallback)
{
    const char *d = getenv(name);
    return d ? d : fallback;
}

/* Runs `body` (a printf format over dir) with P = sgad-nir, PY = the
 * handmade script, H = ckpt_helper, in dir: the exit status. */
static int run(const char *dir, const char *body)
{
    char cmd[4096], text[2048];
    snprintf(text, sizeof text, body, dir, dir, dir, dir, dir, dir);
    snprintf(cmd, sizeof cmd,
             "cd %s && P=%s/sgad-nir PY='/usr/bin/python3 %s/nir_handmade.py' H=%s/ckpt_helper "
             "ASAN_OPTIONS=detect_leaks=0 sh -c '%s' >>log.txt 2>&1",
             dir, env_or("SGAD_TEST_PROGRAMS", "build/release/programs"),
             env_or("SGAD_TEST_DIR", "tests"), env_or("SGAD_TEST_BIN", "build/release/tests"),
             text);
    const int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Whether dir/log.txt contains needle. */
static int logged(const char *dir, const char *needle)
{
    char p[512];
    snprintf(p, sizeof p, "%s/log.txt", dir);
    size_t n;
    char *text = (char *)tu_read_file(p, &n);
    const int found = text && strstr(text, needle) != NULL;
    free(text);
    return found;
}

/* A passed test removes its directory; a failed one leaves it, with
 * log.txt, for a look. */
static void remove_dir(const char *dir)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static char *workdir(void)
{
    static char dir[64];
    snprintf(dir, sizeof dir, "/tmp/sgad-nir-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_int_eq(run(dir, "$PY write ."), 0);
    return dir;
}

START_TEST(handmade_graph_spikes)
{
    const char *dir = workdir();
    /* Input -> Affine -> LIF -> Output: the spike train computed by hand
     * in nir_handmade.py, bit for bit. */
    ck_assert_int_eq(run(dir, "$P import small.nir --input small_x.f32 --steps 4 --batch 2 "
                              "--output small_y.f32 && $PY compare small_y.f32 "
                              "small_expected.f32 0"),
                     0);
    /* Every node type, against the spec's dynamics in float64. */
    ck_assert_int_eq(run(dir, "$P import rich.nir --input rich_x.f32 --batch 3 --output "
                              "rich_y.f32 && $PY compare rich_y.f32 rich_expected.f32 1e-5"),
                     0);
    /* Import then export: the same chain, and its import the same bits. */
    ck_assert_int_eq(run(dir, "$P import rich.nir --out again.nir && $PY same-graph rich.nir "
                              "again.nir && $PY check-layout again.nir && $P import again.nir "
                              "--input rich_x.f32 --batch 3 --output again_y.f32 && $PY compare "
                              "rich_y.f32 again_y.f32 0"),
                     0);
    ck_assert_msg(logged(dir, "lif, tau 2, v_th 1, v_reset 0, decay_input 1, hard reset"),
                  "the import log names the LIF's settings");
    remove_dir(dir);
}
END_TEST

START_TEST(checkpoint_round_trip)
{
    const char *dir = workdir();
    ck_assert_int_eq(run(dir, "$H train-sized 2 4 1 1 c.ckpt"), 0);
    ck_assert_int_eq(run(dir, "$P export --checkpoint c.ckpt --net d --out d.nir && "
                              "$PY check-layout d.nir"),
                     0);
    ck_assert_msg(logged(dir, "Input, Conv2d, LIF, AvgPool2d, Conv2d, LIF, AvgPool2d, Flatten, "
                              "Affine, LIF, Affine, LI, Scale, Output"),
                  "SGAD's D as NIR nodes");
    /* Images of D's shape, [1, 4, 1, 28, 28], in [0, 4). */
    ck_assert_int_eq(run(dir, "/usr/bin/python3 -c \"import numpy as np; "
                              "(np.random.default_rng(3).random((4, 784), dtype=np.float32) * 4)"
                              ".tofile(\\\"x.f32\\\")\""),
                     0);
    /* The folded net in memory and the net read back from the file: the
     * same bits. The original net (batch norm unfolded) rounds differently. */
    ck_assert_int_eq(run(dir, "$P run --checkpoint c.ckpt --net d --fold-bn --input x.f32 --batch "
                              "4 --output folded.f32 && $P import d.nir --input x.f32 --batch 4 "
                              "--output imported.f32 && $PY compare folded.f32 imported.f32 0"),
                     0);
    ck_assert_int_eq(run(dir, "$P run --checkpoint c.ckpt --net d --input x.f32 --batch 4 "
                              "--output original.f32 && $PY compare original.f32 imported.f32 "
                              "1e-4"),
                     0);
    ck_assert_int_eq(run(dir, "$P import d.nir --out d2.nir && $PY same-graph d.nir d2.nir"), 0);
    /* SGAD's G: every layer NIR cannot express is named. */
    ck_assert_int_eq(run(dir, "$P export --checkpoint c.ckpt --net g --out g.nir"), 1);
    ck_assert(logged(dir, "layer 13 (attention): the attention decoder"));
    ck_assert(logged(dir, "(convt2d): NIR has no transposed convolution"));
    char g[512];
    snprintf(g, sizeof g, "%s/g.nir", dir);
    ck_assert_int_eq(access(g, F_OK), -1);
    remove_dir(dir);
}
END_TEST

START_TEST(bad_files_refused)
{
    const char *dir = workdir();
    static const struct {
        const char *file, *says;
    } bad[] = {
        {"bad_not_hdf5.nir", "not an HDF5 file"},
        {"bad_missing_type.nir", "node 'fc': missing dataset 'type'"},
        {"bad_unknown_type.nir", "node 'lif' has type 'CubaLIF', which sgad-nir does not import"},
        {"bad_shape.nir", "node 'fc' (Affine): shape mismatch"},
        {"bad_bias.nir", "node 'fc': shape mismatch: one value per output"},
        {"bad_edge.nir", "names a node that does not exist: 'nowhere'"},
        {"bad_tau.nir", "tau differs between neurons"},
        {"bad_no_weight.nir", "missing dataset 'weight'"},
        {"missing.nir", "cannot read the file"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char body[256];
        snprintf(body, sizeof body, "$P import %s", bad[i].file);
        ck_assert_msg(run(dir, body) == 1, "%s: exit status 1 expected", bad[i].file);
        ck_assert_msg(logged(dir, bad[i].says), "%s: the message says '%s'", bad[i].file,
                      bad[i].says);
    }
    /* Wrong arguments: 2. */
    ck_assert_int_eq(run(dir, "$P convert x"), 2);
    ck_assert_int_eq(run(dir, "$P export --checkpoint c --net q --out x"), 2);
    ck_assert_int_eq(run(dir, "$P import small.nir --input small_x.f32 --batch 2"), 2);
    remove_dir(dir);
}
END_TEST

Suite *suite_nir(void)
{
    Suite *s = suite_create("nir");
    TCase *tc = tcase_create("sgad-nir");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, handmade_graph_spikes);
    tcase_add_test(tc, checkpoint_round_trip);
    tcase_add_test(tc, bad_files_refused);
    suite_add_tcase(s, tc);
    return s;
}
