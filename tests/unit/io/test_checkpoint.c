/* SPDX-License-Identifier: MIT */
/* Checkpoints: round trips that resume bitwise, a canonical writer, and
 * one hand-made bad file per rejection rule with the exact status; every
 * prefix, every header bit flip and random data flips of a valid file. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "test_util.h"
#include "tiny_gan.h"

typedef struct bytes {
    unsigned char *p;
    size_t n;
} bytes;

static bytes save_to_memory(sgad_ctx *ctx, sgad_trainer *t)
{
    bytes b = {NULL, 0};
    ASSERT_STATUS(SGAD_E_SHAPE, sgad_checkpoint_save_memory(t, NULL, 0, &b.n));
    ck_assert_uint_gt(b.n, 8);
    b.p = malloc(b.n);
    ck_assert_ptr_nonnull(b.p);
    size_t again = 0;
    ASSERT_OK(ctx, sgad_checkpoint_save_memory(t, b.p, b.n, &again));
    ck_assert_uint_eq(again, b.n);
    return b;
}

static tiny_gan make_gan(sgad_ctx *ctx, uint64_t seed, int iterations)
{
    tiny_gan g;
    ck_assert_int_eq(tiny_gan_create(ctx, 16, seed, &g), 0);
    ASSERT_OK(ctx, tiny_gan_train(&g, iterations));
    return g;
}

START_TEST(round_trip_resumes_bitwise)
{
    sgad_ctx *ctx = tu_ctx(1);
    tiny_gan a = make_gan(ctx, 5, 3), b = make_gan(ctx, 9, 0);
    ASSERT_OK(ctx, sgad_trainer_set(a.t, SGAD_OPT_EMA_DECAY, 0.9));
    ASSERT_OK(ctx, sgad_trainer_set(a.t, SGAD_OPT_SCHEDULE, SGAD_SCHEDULE_COSINE));
    ASSERT_OK(ctx, sgad_trainer_set(a.t, SGAD_OPT_SCHEDULE_LENGTH, 10));
    ASSERT_OK(ctx, sgad_trainer_set_epoch(a.t, 2));
    ASSERT_OK(ctx, sgad_optimizer_set(sgad_trainer_optimizer(a.t, 1), SGAD_OPT_LR, 3e-4));
    ASSERT_OK(ctx, tiny_gan_train(&a, 2));
    bytes saved = save_to_memory(ctx, a.t);
    sgad_checkpoint *c;
    ASSERT_OK(ctx, sgad_checkpoint_read_memory(ctx, saved.p, saved.n, &c));
    ck_assert_str_eq(sgad_checkpoint_meta(c, "model"), "custom");
    ck_assert_str_eq(sgad_checkpoint_meta(c, "iteration"), "5");
    ck_assert_str_eq(sgad_checkpoint_meta(c, "epoch"), "2");
    ASSERT_OK(ctx, sgad_checkpoint_restore(c, b.t));
    sgad_checkpoint_free(c);
    ck_assert_int_eq(sgad_trainer_iterations(b.t), 5);
    ck_assert_int_eq(sgad_trainer_epoch(b.t), 2);
    double lr;
    ASSERT_OK(ctx, sgad_optimizer_get(sgad_trainer_optimizer(b.t, 1), SGAD_OPT_LR, &lr));
    ck_assert(lr == 3e-4);
    /* b is now a; both go on identically, and save identical bytes */
    bytes again = save_to_memory(ctx, b.t);
    ck_assert_uint_eq(again.n, saved.n);
    ck_assert_mem_eq(again.p, saved.p, saved.n);
    ASSERT_OK(ctx, tiny_gan_train(&a, 3));
    ASSERT_OK(ctx, tiny_gan_train(&b, 3));
    bytes ea = save_to_memory(ctx, a.t), eb = save_to_memory(ctx, b.t);
    ck_assert_uint_eq(ea.n, eb.n);
    ck_assert_mem_eq(ea.p, eb.p, ea.n);
    ck_assert(memcmp(ea.p, saved.p, saved.n < ea.n ? saved.n : ea.n) != 0);
    free(saved.p);
    free(again.p);
    free(ea.p);
    free(eb.p);
    tiny_gan_free(&a);
    tiny_gan_free(&b);
    sgad_ctx_free(ctx);
}
END_TEST

START_TEST(files_generator_and_python_layout)
{
    sgad_ctx *ctx = tu_ctx(1);
    tiny_gan a = make_gan(ctx, 5, 2), b = make_gan(ctx, 6, 0);
    char dir[] = "/tmp/sgad-ckpt-XXXXXX", path[512];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/a.safetensors", dir);
    ASSERT_OK(ctx, sgad_checkpoint_save(a.t, path));
    sgad_checkpoint *c;
    ASSERT_OK(ctx, sgad_checkpoint_read(ctx, path, &c));
    /* the generator alone, from the full checkpoint */
    ASSERT_OK(ctx, sgad_checkpoint_restore_generator(c, b.g, 0));
    ASSERT_STATUS(SGAD_E_SHAPE, sgad_checkpoint_restore_generator(c, b.g, 1)); /* no EMA saved */
    for (int i = 0; i < sgad_net_param_count(a.g); i++) {
        sgad_tensor *va, *vb;
        ASSERT_OK(ctx, sgad_net_param(a.g, i, NULL, &va, NULL));
        ASSERT_OK(ctx, sgad_net_param(b.g, i, NULL, &vb, NULL));
        ck_assert_mem_eq(sgad_tensor_data(va), sgad_tensor_data(vb),
                         (size_t)sgad_tensor_numel(va) * sizeof(float));
    }
    /* tensors by name, in safetensors order, with their shapes */
    const char *name;
    int nd;
    int64_t dims[SGAD_MAX_DIMS];
    ASSERT_OK(ctx, sgad_checkpoint_tensor_info(c, 0, &name, &nd, dims));
    ck_assert_str_eq(name, "G.1.weight");
    ck_assert(nd == 2 && dims[0] == 16 && dims[1] == 4);
    sgad_tensor *w = tu_tensor(ctx, 16, 4, 0), *wa;
    ASSERT_OK(ctx, sgad_checkpoint_tensor_read(c, "G.1.weight", w));
    ASSERT_OK(ctx, sgad_net_param(a.g, 0, NULL, &wa, NULL));
    ck_assert_mem_eq(sgad_tensor_data(w), sgad_tensor_data(wa), 64 * sizeof(float));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_checkpoint_tensor_read(c, "nope", w));
    ck_assert_ptr_null(sgad_checkpoint_meta(c, "nope"));
    sgad_checkpoint_free(c);
    /* not a regular file; missing file */
    ASSERT_STATUS(SGAD_E_IO, sgad_checkpoint_read(ctx, dir, &c));
    ck_assert_ptr_nonnull(strstr(sgad_ctx_last_error(ctx), "not a regular file"));
    snprintf(path, sizeof path, "%s/missing", dir);
    ASSERT_STATUS(SGAD_E_IO, sgad_checkpoint_read(ctx, path, &c));
    /* a save into a missing directory fails and leaves nothing behind */
    snprintf(path, sizeof path, "%s/no/such/dir/x.safetensors", dir);
    ASSERT_STATUS(SGAD_E_IO, sgad_checkpoint_save(a.t, path));
    snprintf(path, sizeof path, "rm -rf %s", dir);
    ck_assert_int_eq(system(path), 0);
    sgad_tensor_free(w);
    tiny_gan_free(&a);
    tiny_gan_free(&b);
    sgad_ctx_free(ctx);
}
END_TEST

START_TEST(rotation_keeps_newest_and_skips_damaged)
{
    sgad_ctx *ctx = tu_ctx(1);
    tiny_gan a = make_gan(ctx, 5, 0);
    char dir[] = "/tmp/sgad-rot-XXXXXX", path[512], latest[512];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ASSERT_STATUS(SGAD_E_IO, sgad_checkpoint_find_latest(ctx, dir, latest, sizeof latest));
    snprintf(path, sizeof path, "%s/ckpt-000000000099.safetensors.tmp-deadbeef", dir);
    FILE *stale = fopen(path, "w"); /* what a killed save leaves */
    ck_assert_ptr_nonnull(stale);
    fclose(stale);
    for (int i = 0; i < 5; i++) {
        ASSERT_OK(ctx, tiny_gan_train(&a, 1));
        ASSERT_OK(ctx, sgad_checkpoint_save_rotating(a.t, dir, 3, path, sizeof path));
    }
    ck_assert_ptr_nonnull(strstr(path, "ckpt-000000000005.safetensors"));
    for (int k = 1; k <= 5; k++) {
        char p[512];
        snprintf(p, sizeof p, "%s/ckpt-%012d.safetensors", dir, k);
        ck_assert_int_eq(access(p, F_OK) == 0, k >= 3); /* the newest three */
    }
    snprintf(path, sizeof path, "%s/ckpt-000000000099.safetensors.tmp-deadbeef", dir);
    ck_assert_int_ne(access(path, F_OK), 0); /* swept */
    ASSERT_OK(ctx, sgad_checkpoint_find_latest(ctx, dir, latest, sizeof latest));
    ck_assert_ptr_nonnull(strstr(latest, "ckpt-000000000005"));
    /* damage the newest: the one before is found */
    FILE *f = fopen(latest, "r+b");
    ck_assert_ptr_nonnull(f);
    fseek(f, -3, SEEK_END);
    fputc('x', f);
    fclose(f);
    ASSERT_OK(ctx, sgad_checkpoint_find_latest(ctx, dir, latest, sizeof latest));
    ck_assert_ptr_nonnull(strstr(latest, "ckpt-000000000004"));
    snprintf(path, sizeof path, "rm -rf %s", dir);
    ck_assert_int_eq(system(path), 0);
    tiny_gan_free(&a);
    sgad_ctx_free(ctx);
}
END_TEST

/* ---- hand-made files -------------------------------------------------------- */

/* Recomputes the whole-file checksum (digits taken as zeros), as the
 * writer does: what an attacker can do too. */
static void fix_checksum(bytes *b)
{
    unsigned char *at = NULL;
    for (size_t i = 8; i + 6 <= b->n && !at; i++)
        if (memcmp(b->p + i, "crc32:", 6) == 0)
            at = b->p + i + 6;
    ck_assert_ptr_nonnull(at);
    memcpy(at, "00000000", 8);
    char crc[9];
    snprintf(crc, sizeof crc, "%08lx", crc32_z(crc32_z(0L, Z_NULL, 0), b->p, b->n));
    memcpy(at, crc, 8);
}

/* Assembles header + data, with a correct checksum in the metadata unless
 * crc_override is not NULL. The header's "%CRC%" is replaced. */
static bytes craft(const char *header_fmt, const void *data, size_t data_len,
                   const char *crc_override)
{
    char crc[32];
    snprintf(crc, sizeof crc, "%s", crc_override ? crc_override : "crc32:00000000");
    char header[4096];
    const char *at = strstr(header_fmt, "%CRC%");
    if (at)
        snprintf(header, sizeof header, "%.*s%s%s", (int)(at - header_fmt), header_fmt, crc,
                 at + 5);
    else
        snprintf(header, sizeof header, "%s", header_fmt);
    const size_t hn = strlen(header);
    bytes b;
    b.n = 8 + hn + data_len;
    b.p = malloc(b.n);
    ck_assert_ptr_nonnull(b.p);
    for (int i = 0; i < 8; i++)
        b.p[i] = (unsigned char)((uint64_t)hn >> (8 * i));
    memcpy(b.p + 8, header, hn);
    if (data_len)
        memcpy(b.p + 8 + hn, data, data_len);
    if (!crc_override && at)
        fix_checksum(&b);
    return b;
}

#define META                                                                                       \
    "\"__metadata__\":{\"format\":\"libsgad-checkpoint\",\"format_version\":\"1\","                \
    "\"checksum\":\"%CRC%\"}"

static void expect_read(sgad_status want, bytes b, const char *message_part)
{
    sgad_ctx *ctx = tu_ctx(1);
    sgad_checkpoint *c = (sgad_checkpoint *)1;
    const sgad_status got = sgad_checkpoint_read_memory(ctx, b.p, b.n, &c);
    ck_assert_msg(got == want, "got %s (%s), expected %s", sgad_status_name(got),
                  sgad_ctx_last_error(ctx), sgad_status_name(want));
    if (want != SGAD_OK) {
        ck_assert_ptr_null(c);
        ck_assert_msg(strstr(sgad_ctx_last_error(ctx), message_part) != NULL,
                      "message \"%s\" lacks \"%s\"", sgad_ctx_last_error(ctx), message_part);
    }
    sgad_checkpoint_free(c == (sgad_checkpoint *)1 ? NULL : c);
    free(b.p);
    sgad_ctx_free(ctx);
}

START_TEST(each_rule_rejects_its_file)
{
    const float two[2] = {1.0f, 2.0f}, four[4] = {1, 2, 3, 4};
    /* the valid base case */
    expect_read(SGAD_OK,
                craft("{" META ",\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
                      "\"data_offsets\":[0,8]}}",
                      two, 8, NULL),
                "");
    bytes tiny = {malloc(4), 4};
    memset(tiny.p, 0, 4);
    expect_read(SGAD_E_FORMAT, tiny, "shorter than the 8-byte");
    bytes huge = craft("{}", NULL, 0, NULL);
    huge.p[3] = 0x7f; /* header length far past the end */
    expect_read(SGAD_E_FORMAT, huge, "header length");
    expect_read(SGAD_E_FORMAT, craft("{" META ",\"a\":", NULL, 0, NULL), "not valid JSON");
    expect_read(SGAD_E_FORMAT, craft("[1,2]", NULL, 0, NULL), "not a JSON object");
    expect_read(SGAD_E_FORMAT,
                craft("{" META ",\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
                      "\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\","
                      "\"shape\":[1],\"data_offsets\":[4,8]}}",
                      two, 8, NULL),
                "not valid JSON"); /* duplicate key, rejected by the parser */
    expect_read(SGAD_E_FORMAT,
                craft("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
                      "\"data_offsets\":[0,8]}}",
                      two, 8, NULL),
                "no __metadata__");
    expect_read(SGAD_E_FORMAT, craft("{\"__metadata__\":{\"format\":\"other\"}}", NULL, 0, NULL),
                "not a libsgad checkpoint");
    expect_read(SGAD_E_FORMAT,
                craft("{\"__metadata__\":{\"format\":\"libsgad-checkpoint\","
                      "\"format_version\":\"2\",\"checksum\":\"%CRC%\"}}",
                      NULL, 0, NULL),
                "format version 2");
    expect_read(SGAD_E_FORMAT,
                craft("{\"__metadata__\":{\"format\":\"libsgad-checkpoint\","
                      "\"format_version\":\"1\",\"checksum\":7}}",
                      NULL, 0, NULL),
                "is not a string");
    expect_read(SGAD_E_FORMAT,
                craft("{" META ",\"a\":{\"dtype\":\"F16\",\"shape\":[4],"
                      "\"data_offsets\":[0,8]}}",
                      two, 8, NULL),
                "dtype F16");
    expect_read(SGAD_E_FORMAT,
                craft("{" META ",\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
                      "\"data_offsets\":[0,8],\"x\":1}}",
                      two, 8, NULL),
                "exactly dtype");
    expect_read(SGAD_E_FORMAT,
                craft("{" META ",\"\":{\"dtype\":\"F32\",\"shape\":[2],"
                      "\"data_offsets\":[0,8]}}",
                      two, 8, NULL),
                "tensor name");
    expect_read(SGAD_E_FORMAT,
                craft("{" META ",\"a\":{\"dtype\":\"F32\",\"shape\":[],"
                      "\"data_offsets\":[0,0]}}",
                      NULL, 0, NULL),
                "shape must");
    expect_read(SGAD_E_FORMAT,
                craft("{" META ",\"a\":{\"dtype\":\"F32\",\"shape\":[0],"
                      "\"data_offsets\":[0,0]}}",
                      NULL, 0, NULL),
                "dimension 0");
    expect_read(SGAD_E_FORMAT,
                craft("{" META ",\"a\":{\"dtype\":\"F32\",\"shape\":[2147483647,"
                      "2147483647,4],\"data_offsets\":[0,8]}}",
                      two, 8, NULL),
                "more than 2^40");
    expect_read(SGAD_E_FORMAT,
                craft("{" META ",\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
                      "\"data_offsets\":[-8,0]}}",
                      two, 8, NULL),
                "0 <= begin");
    expect_read(SGAD_E_FORMAT,
                craft("{" META ",\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
                      "\"data_offsets\":[0,12]}}",
                      four, 12, NULL),
                "its shape "
                "needs 8");
    expect_read(SGAD_E_FORMAT,
                craft("{" META ",\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
                      "\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":"
                      "[2],\"data_offsets\":[4,12]}}",
                      four, 12, NULL),
                "a gap or an overlap");
    expect_read(SGAD_E_FORMAT,
                craft("{" META ",\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
                      "\"data_offsets\":[8,16]}}",
                      four, 16, NULL),
                "a gap or an overlap");
    expect_read(SGAD_E_FORMAT,
                craft("{" META ",\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
                      "\"data_offsets\":[0,8]}}",
                      four, 16, NULL),
                "the file has 16"); /* trailing bytes: a polyglot */
    expect_read(SGAD_E_FORMAT,
                craft("{" META ",\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
                      "\"data_offsets\":[0,8]}}",
                      two, 8, "crc32:00000000"),
                "damaged");
    expect_read(SGAD_E_FORMAT,
                craft("{" META ",\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
                      "\"data_offsets\":[0,8]}}",
                      two, 8, "crc32:zz"),
                "8 lowercase hex digits");
}
END_TEST

/* Replaces the first occurrence of from by to in a saved checkpoint's
 * header (same length, so offsets stay valid) and fixes the checksum. */
static void patch_header(bytes *b, const char *from, const char *to)
{
    ck_assert_uint_eq(strlen(from), strlen(to));
    uint64_t hn = 0;
    for (int i = 7; i >= 0; i--)
        hn = hn << 8 | b->p[i];
    char *h = (char *)b->p + 8;
    char *at = NULL;
    for (size_t i = 0; i + strlen(from) <= hn && !at; i++)
        if (memcmp(h + i, from, strlen(from)) == 0)
            at = h + i;
    ck_assert_msg(at != NULL, "no %s in the header", from);
    memcpy(at, to, strlen(to));
}

static float *tensor_bytes(bytes *b, sgad_ctx *ctx, const char *name)
{
    sgad_checkpoint *c;
    ASSERT_OK(ctx, sgad_checkpoint_read_memory(ctx, b->p, b->n, &c));
    uint64_t hn = 0;
    for (int i = 7; i >= 0; i--)
        hn = hn << 8 | b->p[i];
    /* find the offset through the public view: tensors are in offset order */
    uint64_t off = 0;
    for (int i = 0; i < sgad_checkpoint_tensor_count(c); i++) {
        const char *n;
        int nd;
        int64_t dims[SGAD_MAX_DIMS];
        ASSERT_OK(ctx, sgad_checkpoint_tensor_info(c, i, &n, &nd, dims));
        if (strcmp(n, name) == 0)
            break;
        int64_t numel = 1;
        for (int d = 0; d < nd; d++)
            numel *= dims[d];
        off += (uint64_t)numel * 4;
    }
    sgad_checkpoint_free(c);
    return (float *)(void *)(b->p + 8 + hn + off);
}

static void expect_restore(sgad_status want, bytes b, const char *part)
{
    sgad_ctx *ctx = tu_ctx(1);
    tiny_gan target = make_gan(ctx, 7, 1);
    bytes before = save_to_memory(ctx, target.t);
    sgad_checkpoint *c = NULL;
    sgad_status got = sgad_checkpoint_read_memory(ctx, b.p, b.n, &c);
    if (got == SGAD_OK)
        got = sgad_checkpoint_restore(c, target.t);
    ck_assert_msg(got == want, "got %s (%s), expected %s", sgad_status_name(got),
                  sgad_ctx_last_error(ctx), sgad_status_name(want));
    ck_assert_msg(strstr(sgad_ctx_last_error(ctx), part) != NULL, "message \"%s\" lacks \"%s\"",
                  sgad_ctx_last_error(ctx), part);
    bytes after = save_to_memory(ctx, target.t); /* nothing changed */
    ck_assert_uint_eq(after.n, before.n);
    ck_assert_mem_eq(after.p, before.p, before.n);
    sgad_checkpoint_free(c);
    free(before.p);
    free(after.p);
    free(b.p);
    tiny_gan_free(&target);
    sgad_ctx_free(ctx);
}

static bytes valid_saved(int hidden)
{
    sgad_ctx *ctx = tu_ctx(1);
    tiny_gan g;
    ck_assert_int_eq(tiny_gan_create(ctx, hidden, 5, &g), 0);
    ASSERT_OK(ctx, tiny_gan_train(&g, 2));
    bytes b = save_to_memory(ctx, g.t);
    tiny_gan_free(&g);
    sgad_ctx_free(ctx);
    return b;
}

START_TEST(restore_checks_model_and_values)
{
    sgad_ctx *ctx = tu_ctx(1);
    expect_restore(SGAD_E_SHAPE, valid_saved(8), "another shape");
    bytes b = valid_saved(16);
    patch_header(&b, "\"G.1.weight\"", "\"G.1.weighx\"");
    fix_checksum(&b);
    expect_restore(SGAD_E_SHAPE, b, "has no G.1.weight");
    b = valid_saved(16);
    patch_header(&b, "\"latent\":\"4\"", "\"latent\":\"5\"");
    fix_checksum(&b);
    expect_restore(SGAD_E_SHAPE, b, "latent 5");
    b = valid_saved(16);
    patch_header(&b, "\"loss\":\"em\"", "\"loss\":\"xx\"");
    fix_checksum(&b);
    expect_restore(SGAD_E_FORMAT, b, "loss");
    b = valid_saved(16);
    patch_header(&b, "\"n_critic\":\"1\"", "\"n_critic\":\"0\"");
    fix_checksum(&b);
    expect_restore(SGAD_E_FORMAT, b, "n_critic");
    b = valid_saved(16);
    tensor_bytes(&b, ctx, "G.1.weight")[3] = NAN;
    fix_checksum(&b);
    expect_restore(SGAD_E_NUMERIC, b, "not finite");
    b = valid_saved(16);
    tensor_bytes(&b, ctx, "G.2.running_var")[0] = -1.0f;
    fix_checksum(&b);
    expect_restore(SGAD_E_NUMERIC, b, "negative");
    b = valid_saved(16);
    tensor_bytes(&b, ctx, "opt.D.2.weight.square_avg")[0] = -1.0f;
    fix_checksum(&b);
    expect_restore(SGAD_E_NUMERIC, b, "negative");
    /* a preset trainer refuses a checkpoint of other nets */
    sgad_trainer *p;
    ASSERT_OK(ctx, sgad_trainer_create_preset(ctx, SGAD_MODEL_SWGAN, SGAD_SHAPE_28X28X1, 2, 0,
                                              SGAD_LOSS_EM, SGAD_OPTIMIZER_RMSPROP, &p));
    b = valid_saved(16);
    sgad_checkpoint *c;
    ASSERT_OK(ctx, sgad_checkpoint_read_memory(ctx, b.p, b.n, &c));
    ASSERT_STATUS(SGAD_E_SHAPE, sgad_checkpoint_restore(c, p));
    sgad_trainer *q = (sgad_trainer *)1;
    ASSERT_STATUS(SGAD_E_UNSUPPORTED, sgad_checkpoint_create_trainer(c, ctx, &q));
    ck_assert_ptr_null(q);
    sgad_checkpoint_free(c);
    sgad_trainer_free(p);
    free(b.p);
    sgad_ctx_free(ctx);
}
END_TEST

START_TEST(every_prefix_and_header_flip_is_caught)
{
    sgad_ctx *ctx = tu_ctx(1);
    bytes b = valid_saved(4);
    uint64_t hn = 0;
    for (int i = 7; i >= 0; i--)
        hn = hn << 8 | b.p[i];
    sgad_checkpoint *c;
    for (size_t n = 0; n < b.n; n++) {
        ck_assert_int_eq(sgad_checkpoint_read_memory(ctx, b.p, n, &c), SGAD_E_FORMAT);
        ck_assert_ptr_null(c);
    }
    int loaded_same = 0;
    /* every byte; every 16th under valgrind, where each parse is slow */
    const size_t stride = getenv("SGAD_TEST_SKIP_SLOW") ? 16 : 1;
    for (size_t i = 0; i < 8 + hn; i += stride)
        for (int bit = 0; bit < 8; bit++) {
            b.p[i] ^= (unsigned char)(1u << bit);
            const sgad_status s = sgad_checkpoint_read_memory(ctx, b.p, b.n, &c);
            if (s == SGAD_OK) { /* the checksum covers the header too */
                loaded_same++;
                sgad_checkpoint_free(c);
            }
            b.p[i] ^= (unsigned char)(1u << bit);
        }
    ck_assert_int_eq(loaded_same, 0);
    uint64_t state = 3;
    for (int k = 0; k < 2000; k++) { /* data flips: the checksum catches every one */
        const size_t i = 8 + hn + (size_t)(tu_uniform(&state) * (double)(b.n - 8 - hn));
        const unsigned char m = (unsigned char)(1u << (k % 8));
        b.p[i] ^= m;
        ck_assert_int_eq(sgad_checkpoint_read_memory(ctx, b.p, b.n, &c), SGAD_E_FORMAT);
        b.p[i] ^= m;
    }
    free(b.p);
    sgad_ctx_free(ctx);
}
END_TEST

START_TEST(preset_checkpoint_rebuilds_its_trainer)
{
    if (getenv("SGAD_TEST_SKIP_SLOW")) /* minutes under valgrind; ASan runs it */
        return;
    sgad_ctx *ctx = tu_ctx(1);
    sgad_trainer *t, *u;
    ASSERT_OK(ctx, sgad_trainer_create_preset(ctx, SGAD_MODEL_SGAD, SGAD_SHAPE_28X28X1, 2, 0,
                                              SGAD_LOSS_EM, SGAD_OPTIMIZER_ADAM, &t));
    sgad_model model;
    int steps, latent;
    ASSERT_OK(ctx, sgad_trainer_preset(t, &model, NULL, &steps, &latent));
    ck_assert(model == SGAD_MODEL_SGAD && steps == 2 && latent == 15);
    sgad_tensor *real = tu_tensor(ctx, 2, 1, 28, 28, 0);
    uint64_t state = 1;
    tu_fill_uniform(sgad_tensor_data(real), 2 * 784, 0, 1, &state);
    ASSERT_OK(ctx, sgad_trainer_step(t, real, NULL));
    bytes b = save_to_memory(ctx, t);
    sgad_checkpoint *c;
    ASSERT_OK(ctx, sgad_checkpoint_read_memory(ctx, b.p, b.n, &c));
    ck_assert_str_eq(sgad_checkpoint_meta(c, "model"), "sgad");
    ck_assert_str_eq(sgad_checkpoint_meta(c, "optimizer"), "adam");
    ASSERT_OK(ctx, sgad_checkpoint_create_trainer(c, ctx, &u));
    sgad_checkpoint_free(c);
    ASSERT_OK(ctx, sgad_trainer_step(t, real, NULL));
    ASSERT_OK(ctx, sgad_trainer_step(u, real, NULL));
    bytes bt = save_to_memory(ctx, t), bu = save_to_memory(ctx, u);
    ck_assert_uint_eq(bt.n, bu.n);
    ck_assert_mem_eq(bt.p, bu.p, bt.n);
    free(b.p);
    free(bt.p);
    free(bu.p);
    sgad_tensor_free(real);
    sgad_trainer_free(t);
    sgad_trainer_free(u);
    sgad_ctx_free(ctx);
}
END_TEST

Suite *suite_checkpoint(void)
{
    Suite *s = suite_create("checkpoint");
    TCase *tc = tcase_create("checkpoint");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, round_trip_resumes_bitwise);
    tcase_add_test(tc, files_generator_and_python_layout);
    tcase_add_test(tc, rotation_keeps_newest_and_skips_damaged);
    tcase_add_test(tc, each_rule_rejects_its_file);
    tcase_add_test(tc, restore_checks_model_and_values);
    tcase_add_test(tc, every_prefix_and_header_flip_is_caught);
    tcase_add_test(tc, preset_checkpoint_rebuilds_its_trainer);
    suite_add_tcase(s, tc);
    return s;
}
