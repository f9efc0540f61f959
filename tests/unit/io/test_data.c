/* SPDX-License-Identifier: MIT */
/* Datasets and images: each reader on small files in its real format that
 * the test writes itself (IDX raw and gzip, CIFAR-10 records, PNG), every
 * malformed variant rejected with its message, shuffled batches, and PNG
 * grids and strips read back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "test_util.h"

typedef struct buf {
    unsigned char *p;
    size_t n;
} buf;

/* An IDX file: magic 0 0 type ndim, big-endian dims, then bytes. */
static buf idx(unsigned char type, int ndim, const uint32_t *dims, size_t payload, int fill)
{
    buf b;
    b.n = 4 + 4 * (size_t)ndim + payload;
    b.p = malloc(b.n);
    ck_assert_ptr_nonnull(b.p);
    b.p[0] = b.p[1] = 0;
    b.p[2] = type;
    b.p[3] = (unsigned char)ndim;
    for (int i = 0; i < ndim; i++)
        for (int k = 0; k < 4; k++)
            b.p[4 + 4 * i + k] = (unsigned char)(dims[i] >> (24 - 8 * k));
    for (size_t i = 0; i < payload; i++)
        b.p[4 + 4 * ndim + i] = (unsigned char)(fill < 0 ? (int)((i * 37) % 256) : fill);
    return b;
}

static buf images_idx(uint32_t n, uint32_t h, uint32_t w)
{
    const uint32_t d[3] = {n, h, w};
    return idx(0x08, 3, d, (size_t)n * h * w, -1);
}

static buf labels_idx(uint32_t n, int fill)
{
    const uint32_t d[1] = {n};
    buf b = idx(0x08, 1, d, n, 0);
    for (uint32_t i = 0; i < n; i++)
        b.p[8 + i] = (unsigned char)(fill >= 0 ? fill : (int)(i % 10));
    return b;
}

static buf gzip(buf in)
{
    buf out;
    out.n = compressBound((uLong)in.n) + 64;
    out.p = malloc(out.n);
    z_stream z;
    memset(&z, 0, sizeof z);
    ck_assert_int_eq(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = in.p;
    z.avail_in = (uInt)in.n;
    z.next_out = out.p;
    z.avail_out = (uInt)out.n;
    ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
    out.n = z.total_out;
    deflateEnd(&z);
    return out;
}

static void expect_open(sgad_status want, sgad_data_format f, buf data, buf labels,
                        const char *part)
{
    sgad_ctx *ctx = tu_ctx(1);
    sgad_dataset *d = (sgad_dataset *)1;
    const sgad_status got =
        sgad_dataset_open_memory(ctx, f, data.p, data.n, labels.p, labels.n, &d);
    ck_assert_msg(got == want, "got %s (%s), expected %s", sgad_status_name(got),
                  sgad_ctx_last_error(ctx), sgad_status_name(want));
    if (want != SGAD_OK) {
        ck_assert_ptr_null(d);
        ck_assert_msg(strstr(sgad_ctx_last_error(ctx), part) != NULL, "message \"%s\" lacks \"%s\"",
                      sgad_ctx_last_error(ctx), part);
    }
    sgad_dataset_free(want == SGAD_OK ? d : NULL);
    free(data.p);
    free(labels.p);
    sgad_ctx_free(ctx);
}

static const buf none = {NULL, 0};

START_TEST(idx_reads_raw_and_gzip)
{
    sgad_ctx *ctx = tu_ctx(1);
    for (int gz = 0; gz < 2; gz++) {
        buf img = images_idx(6, 3, 4), lab = labels_idx(6, -1);
        buf ig = gz ? gzip(img) : img, lg = gz ? gzip(lab) : lab;
        sgad_dataset *d;
        ASSERT_OK(ctx, sgad_dataset_open_memory(ctx, SGAD_DATA_IDX, ig.p, ig.n, lg.p, lg.n, &d));
        ck_assert_int_eq(sgad_dataset_count(d), 6);
        int64_t c, h, w;
        ASSERT_OK(ctx, sgad_dataset_image_dims(d, &c, &h, &w));
        ck_assert(c == 1 && h == 3 && w == 4);
        sgad_tensor *t = tu_tensor(ctx, 2, 1, 3, 4, 0);
        ASSERT_OK(ctx, sgad_dataset_read(d, 1, t));
        for (int k = 0; k < 24; k++) /* image 1 starts at byte 12 of the payload */
            ck_assert_float_eq(sgad_tensor_data(t)[k], (float)(((12 + k) * 37) % 256) / 255.0f);
        int label;
        ASSERT_OK(ctx, sgad_dataset_label(d, 3, &label));
        ck_assert_int_eq(label, 3);
        sgad_tensor_free(t);
        sgad_dataset_free(d);
        if (gz) {
            free(ig.p);
            free(lg.p);
        }
        free(img.p);
        free(lab.p);
    }
    sgad_ctx_free(ctx);
}
END_TEST

START_TEST(idx_rejects_malformed_files)
{
    const uint32_t d2[2] = {3, 4}, d3[3] = {2, 3, 4}, zero[3] = {2, 0, 4};
    const uint32_t huge[3] = {0xffffffffu, 0xffffffffu, 0xffffffffu};
    buf b = images_idx(2, 3, 4);
    b.p[0] = 1;
    expect_open(SGAD_E_FORMAT, SGAD_DATA_IDX, b, none, "not an IDX file");
    expect_open(SGAD_E_FORMAT, SGAD_DATA_IDX, idx(0x0D, 3, d3, 24 * 4, 0), none,
                "only unsigned bytes");
    expect_open(SGAD_E_FORMAT, SGAD_DATA_IDX, idx(0x08, 2, d2, 12, 0), none, "2 dimensions");
    expect_open(SGAD_E_FORMAT, SGAD_DATA_IDX, idx(0x08, 3, zero, 0, 0), none, "dimension 1 is 0");
    expect_open(SGAD_E_FORMAT, SGAD_DATA_IDX, idx(0x08, 3, huge, 8, 0), none, "ask for more");
    expect_open(SGAD_E_FORMAT, SGAD_DATA_IDX, idx(0x08, 3, d3, 23, 0), none, "23 data bytes");
    expect_open(SGAD_E_FORMAT, SGAD_DATA_IDX, idx(0x08, 3, d3, 25, 0), none, "25 data bytes");
    buf tiny = images_idx(2, 3, 4);
    tiny.n = 7;
    expect_open(SGAD_E_FORMAT, SGAD_DATA_IDX, tiny, none, "shorter than an IDX header");
    /* gzip: truncated, trailing garbage, more data than declared */
    buf img = images_idx(2, 3, 4), z = gzip(img);
    z.n -= 6;
    expect_open(SGAD_E_FORMAT, SGAD_DATA_IDX, z, none, "truncated");
    z = gzip(img);
    z.p = realloc(z.p, z.n + 3);
    memcpy(z.p + z.n, "abc", 3);
    z.n += 3;
    expect_open(SGAD_E_FORMAT, SGAD_DATA_IDX, z, none, "bytes after the gzip stream");
    buf longer = idx(0x08, 3, d3, 30, 1);
    expect_open(SGAD_E_FORMAT, SGAD_DATA_IDX, gzip(longer), none, "holds more than");
    free(longer.p);
    buf shorter = idx(0x08, 3, d3, 10, 1);
    expect_open(SGAD_E_FORMAT, SGAD_DATA_IDX, gzip(shorter), none, "ends before");
    free(shorter.p);
    z = gzip(img);
    z.p[z.n / 2] ^= 0x55; /* corrupt deflate data or CRC */
    expect_open(SGAD_E_FORMAT, SGAD_DATA_IDX, z, none, "gzip stream");
    /* labels */
    expect_open(SGAD_E_FORMAT, SGAD_DATA_IDX, images_idx(2, 3, 4), labels_idx(2, 10),
                "not in 0..9");
    expect_open(SGAD_E_FORMAT, SGAD_DATA_IDX, images_idx(2, 3, 4), labels_idx(3, 1),
                "3 labels for 2 images");
    free(img.p);
}
END_TEST

static buf cifar(int records, int label)
{
    buf b = {malloc((size_t)records * 3073), (size_t)records * 3073};
    for (int r = 0; r < records; r++) {
        b.p[r * 3073] = (unsigned char)(label >= 0 ? label : r % 10);
        for (int k = 0; k < 3072; k++)
            b.p[r * 3073 + 1 + k] = (unsigned char)((k + r) % 251);
    }
    return b;
}

START_TEST(cifar_records_and_directories)
{
    sgad_ctx *ctx = tu_ctx(1);
    buf b = cifar(3, -1);
    sgad_dataset *d;
    ASSERT_OK(ctx, sgad_dataset_open_memory(ctx, SGAD_DATA_CIFAR10, b.p, b.n, NULL, 0, &d));
    ck_assert_int_eq(sgad_dataset_count(d), 3);
    sgad_tensor *t = tu_tensor(ctx, 1, 3, 32, 32, 0);
    ASSERT_OK(ctx, sgad_dataset_read(d, 2, t));
    ck_assert_float_eq(sgad_tensor_data(t)[1024], (float)((1024 + 2) % 251) / 255.0f); /* G plane */
    int label;
    ASSERT_OK(ctx, sgad_dataset_label(d, 2, &label));
    ck_assert_int_eq(label, 2);
    sgad_dataset_free(d);
    /* a directory of batches */
    char dir[] = "/tmp/sgad-cifar-XXXXXX", path[256];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    for (int i = 1; i <= 2; i++) {
        snprintf(path, sizeof path, "%s/data_batch_%d.bin", dir, i);
        FILE *f = fopen(path, "wb");
        ck_assert_uint_eq(fwrite(b.p, 1, b.n, f), b.n);
        fclose(f);
    }
    snprintf(path, sizeof path, "%s/test_batch.bin", dir); /* not training data */
    FILE *f = fopen(path, "wb");
    fwrite(b.p, 1, 3073, f);
    fclose(f);
    ASSERT_OK(ctx, sgad_dataset_open(ctx, SGAD_DATA_CIFAR10, dir, NULL, &d));
    ck_assert_int_eq(sgad_dataset_count(d), 6);
    sgad_dataset_free(d);
    snprintf(path, sizeof path, "rm -rf %s", dir);
    ck_assert_int_eq(system(path), 0);
    free(b.p);
    sgad_tensor_free(t);
    sgad_ctx_free(ctx);
    buf c100 = {malloc(3074 * 2), 3074 * 2}; /* CIFAR-100 records */
    memset(c100.p, 0, c100.n);
    expect_open(SGAD_E_FORMAT, SGAD_DATA_CIFAR10, c100, none, "whole number of 3073-byte");
    expect_open(SGAD_E_FORMAT, SGAD_DATA_CIFAR10, cifar(2, 10), none, "not 0..9");
}
END_TEST

START_TEST(batches_shuffle_by_seed_and_epoch)
{
    sgad_ctx *ctx = tu_ctx(1);
    const uint32_t dims[3] = {10, 1, 1};
    buf b = idx(0x08, 3, dims, 10, 0);
    for (int i = 0; i < 10; i++)
        b.p[16 + i] = (unsigned char)(i * 20); /* image i has value 20 i */
    sgad_dataset *d;
    ASSERT_OK(ctx, sgad_dataset_open_memory(ctx, SGAD_DATA_IDX, b.p, b.n, NULL, 0, &d));
    ck_assert_int_eq(sgad_dataset_batches(d, 3), 3);
    sgad_tensor *t = tu_tensor(ctx, 3, 1, 1, 1, 0);
    int seen[10] = {0}, order[2][9];
    for (int e = 0; e < 2; e++)
        for (int k = 0; k < 3; k++) {
            int labels[3];
            ASSERT_OK(ctx, sgad_dataset_batch(d, 7, e, k, t, labels));
            ck_assert_int_eq(labels[0], -1);
            for (int j = 0; j < 3; j++) {
                const int id = (int)(sgad_tensor_data(t)[j] * 255.0f / 20.0f + 0.5f);
                order[e][3 * k + j] = id;
                if (e == 0)
                    seen[id]++;
            }
        }
    for (int i = 0, total = 0; i < 10; i++) {
        ck_assert_int_le(seen[i], 1); /* no image twice in an epoch */
        total += seen[i];
        if (i == 9)
            ck_assert_int_eq(total, 9);
    }
    ck_assert(memcmp(order[0], order[1], sizeof order[0]) != 0); /* epochs differ */
    int again[3];
    for (int k = 0; k < 1; k++) { /* the same (seed, epoch) gives the same batch */
        ASSERT_OK(ctx, sgad_dataset_batch(d, 7, 0, 2, t, NULL));
        for (int j = 0; j < 3; j++)
            again[j] = (int)(sgad_tensor_data(t)[j] * 255.0f / 20.0f + 0.5f);
        ck_assert_mem_eq(again, &order[0][6], sizeof again);
    }
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_dataset_batch(d, 7, 0, 3, t, NULL));
    sgad_tensor *wrong = tu_tensor(ctx, 3, 1, 2, 1, 0);
    ASSERT_STATUS(SGAD_E_SHAPE, sgad_dataset_batch(d, 7, 0, 0, wrong, NULL));
    sgad_tensor_free(wrong);
    sgad_tensor_free(t);
    sgad_dataset_free(d);
    free(b.p);
    sgad_ctx_free(ctx);
}
END_TEST

/* A file's bytes as a buf (the test frees p). */
static buf slurp(const char *path)
{
    buf b;
    b.p = tu_read_file(path, &b.n);
    ck_assert_msg(b.p != NULL, "cannot read %s", path);
    return b;
}

START_TEST(png_grid_strip_and_folders)
{
    sgad_ctx *ctx = tu_ctx(1);
    char dir[] = "/tmp/sgad-png-XXXXXX", path[512];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    /* a 2x3 grid of four gray 5x4 images */
    sgad_tensor *img = tu_tensor(ctx, 4, 1, 5, 4, 0);
    for (int i = 0; i < 80; i++)
        sgad_tensor_data(img)[i] = (float)(i % 20) / 19.0f;
    snprintf(path, sizeof path, "%s/grid.png", dir);
    ASSERT_OK(ctx, sgad_image_write_grid(ctx, path, img, 2, 3));
    buf g = slurp(path);
    sgad_dataset *d;
    ASSERT_OK(ctx, sgad_dataset_open_memory(ctx, SGAD_DATA_PNG, g.p, g.n, NULL, 0, &d));
    int64_t c, h, w;
    ASSERT_OK(ctx, sgad_dataset_image_dims(d, &c, &h, &w));
    ck_assert(c == 3 && h == 2 * 5 + 2 && w == 3 * 4 + 4); /* read as RGB */
    sgad_tensor *back = tu_tensor(ctx, 1, 3, h, w, 0);
    ASSERT_OK(ctx, sgad_dataset_read(d, 0, back));
    /* image 1 sits at column 6 (4 + gap 2), row 0; its pixel (2, 3) is 11/19 */
    const float got = sgad_tensor_data(back)[2 * w + 6 + 3];
    ck_assert_float_eq_tol(got, 11.0f / 19.0f, 0.5f / 255.0f);
    ck_assert_float_eq(sgad_tensor_data(back)[5 * w + 0], 0.0f); /* the gap is black */
    sgad_dataset_free(d);
    /* a strip of T = 3 steps with score bars */
    sgad_tensor *steps = tu_tensor(ctx, 3, 2, 1, 5, 4, 0), *scores = tu_tensor(ctx, 3, 2, 0);
    const float s[6] = {1.0f, 1.0f, 0.5f, 0.25f, 0.0f, 0.75f};
    memcpy(sgad_tensor_data(scores), s, sizeof s);
    snprintf(path, sizeof path, "%s/strip.png", dir);
    ASSERT_OK(ctx, sgad_image_write_strip(ctx, path, steps, scores, 1));
    buf sb = slurp(path);
    sb.p[sb.n] = 0;
    int has_text = 0; /* the tEXt chunk with the scores */
    static const char want[] = "1.000e+00 2.500e-01 7.500e-01";
    for (size_t i = 0; i + sizeof want - 1 <= sb.n && !has_text; i++)
        has_text = memcmp(sb.p + i, want, sizeof want - 1) == 0;
    ck_assert(has_text);
    ASSERT_OK(ctx, sgad_dataset_open_memory(ctx, SGAD_DATA_PNG, sb.p, sb.n, NULL, 0, &d));
    ASSERT_OK(ctx, sgad_dataset_image_dims(d, &c, &h, &w));
    ck_assert(h == 5 + 2 + 4 && w == 3 * 4 + 4);
    sgad_tensor *sback = tu_tensor(ctx, 1, 3, h, w, 0);
    ASSERT_OK(ctx, sgad_dataset_read(d, 0, sback));
    const float *px = sgad_tensor_data(sback);
    ck_assert_float_eq(px[8 * w + 6 + 0], 1.0f); /* step 1, score 0.25: 1 of 4 pixels lit */
    ck_assert_float_eq(px[8 * w + 6 + 1], 0.0f);
    ck_assert_float_eq(px[8 * w + 12 + 2], 1.0f); /* step 2, score 0.75: 3 lit */
    ck_assert_float_eq(px[8 * w + 12 + 3], 0.0f);
    sgad_dataset_free(d);
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_image_write_strip(ctx, path, steps, scores, 2));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_image_write_grid(ctx, path, img, 0, 3));
    /* a folder of PNGs, one of another size */
    char sub[300];
    snprintf(sub, sizeof sub, "%s/faces", dir);
    ck_assert_int_eq(mkdir(sub, 0755), 0);
    sgad_tensor *one = tu_tensor(ctx, 1, 3, 6, 6, 0);
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%d.png", sub, i);
        ASSERT_OK(ctx, sgad_image_write_grid(ctx, path, i == 2 ? img : one, 1, 1));
    }
    snprintf(path, sizeof path, "%s/notes.txt", sub);
    FILE *f = fopen(path, "w");
    fputs("not an image", f);
    fclose(f);
    ASSERT_OK(ctx, sgad_dataset_open(ctx, SGAD_DATA_PNG, sub, NULL, &d));
    ck_assert_int_eq(sgad_dataset_count(d), 3);
    sgad_tensor *pair = tu_tensor(ctx, 2, 3, 6, 6, 0);
    ASSERT_OK(ctx, sgad_dataset_read(d, 0, pair));
    ASSERT_STATUS(SGAD_E_FORMAT, sgad_dataset_read(d, 1, pair)); /* 2.png is 4x5 */
    ck_assert_ptr_nonnull(strstr(sgad_ctx_last_error(ctx), "the dataset's images are 6x6"));
    sgad_dataset_free(d);
    /* damaged PNGs */
    buf bad = slurp(path);
    expect_open(SGAD_E_FORMAT, SGAD_DATA_PNG, bad, none, "not a PNG");
    buf cut = {malloc(g.n), g.n - 20};
    memcpy(cut.p, g.p, g.n);
    expect_open(SGAD_E_FORMAT, SGAD_DATA_PNG, cut, none, "(memory)");
    buf crc = {malloc(g.n), g.n};
    memcpy(crc.p, g.p, g.n);
    crc.p[40] ^= 0xff; /* inside IHDR or IDAT: a CRC error */
    expect_open(SGAD_E_FORMAT, SGAD_DATA_PNG, crc, none, "(memory)");
    snprintf(path, sizeof path, "rm -rf %s", dir);
    ck_assert_int_eq(system(path), 0);
    free(g.p);
    free(sb.p);
    sgad_tensor_free(img);
    sgad_tensor_free(back);
    sgad_tensor_free(steps);
    sgad_tensor_free(scores);
    sgad_tensor_free(sback);
    sgad_tensor_free(one);
    sgad_tensor_free(pair);
    sgad_ctx_free(ctx);
}
END_TEST

/* ---- PNGs of other depths and colour types, built byte by byte ---------- */

static void put32(buf *b, uint32_t v)
{
    for (int k = 0; k < 4; k++)
        b->p[b->n++] = (unsigned char)(v >> (24 - 8 * k));
}

static void chunk(buf *b, const char *type, const unsigned char *data, uint32_t len)
{
    put32(b, len);
    memcpy(b->p + b->n, type, 4);
    if (len)
        memcpy(b->p + b->n + 4, data, len);
    const uLong crc = crc32(crc32(0L, Z_NULL, 0), b->p + b->n, len + 4);
    b->n += len + 4;
    put32(b, (uint32_t)crc);
}

/* A w x h PNG of the given depth and colour type with rows of `row` bytes
 * (without the filter byte); palette (3 x entries bytes) for type 3. */
static buf make_png(uint32_t w, uint32_t h, int depth, int type, const unsigned char *rows,
                    size_t row, const unsigned char *palette, int entries)
{
    buf b = {malloc(4096 + h * (row + 1) * 2), 0};
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    memcpy(b.p, sig, 8);
    b.n = 8;
    unsigned char ihdr[13] = {0};
    for (int k = 0; k < 4; k++) {
        ihdr[k] = (unsigned char)(w >> (24 - 8 * k));
        ihdr[4 + k] = (unsigned char)(h >> (24 - 8 * k));
    }
    ihdr[8] = (unsigned char)depth;
    ihdr[9] = (unsigned char)type;
    chunk(&b, "IHDR", ihdr, 13);
    if (palette)
        chunk(&b, "PLTE", palette, (uint32_t)(3 * entries));
    unsigned char raw[4096], z[8192];
    size_t rn = 0;
    for (uint32_t y = 0; y < h; y++) {
        raw[rn++] = 0; /* filter: none */
        memcpy(raw + rn, rows + y * row, row);
        rn += row;
    }
    uLongf zn = sizeof z;
    ck_assert_int_eq(compress(z, &zn, raw, rn), Z_OK);
    chunk(&b, "IDAT", z, (uint32_t)zn);
    chunk(&b, "IEND", NULL, 0);
    return b;
}

static float pixel(const buf *png, int channel, int index)
{
    sgad_ctx *ctx = tu_ctx(1);
    sgad_dataset *d;
    ASSERT_OK(ctx, sgad_dataset_open_memory(ctx, SGAD_DATA_PNG, png->p, png->n, NULL, 0, &d));
    int64_t c, h, w;
    ASSERT_OK(ctx, sgad_dataset_image_dims(d, &c, &h, &w));
    sgad_tensor *t = tu_tensor(ctx, 1, 3, (int)h, (int)w, 0);
    ASSERT_OK(ctx, sgad_dataset_read(d, 0, t));
    const float v = sgad_tensor_data(t)[channel * h * w + index];
    sgad_tensor_free(t);
    sgad_dataset_free(d);
    sgad_ctx_free(ctx);
    return v;
}

START_TEST(png_depths_and_palettes_become_8bit_rgb)
{
    /* 16-bit RGB, 2x1: the high byte survives */
    const unsigned char rgb16[12] = {0x12, 0x34, 0x80, 0x00, 0xff, 0xff, 0, 0, 0x40, 0x01, 0, 9};
    buf b = make_png(2, 1, 16, 2, rgb16, 12, NULL, 0);
    ck_assert_float_eq(pixel(&b, 0, 0), 0x12 / 255.0f);
    ck_assert_float_eq(pixel(&b, 1, 0), 0x80 / 255.0f);
    ck_assert_float_eq(pixel(&b, 1, 1), 0x40 / 255.0f);
    free(b.p);
    /* palette, 4 bits per index, 3x1 */
    const unsigned char pal[9] = {255, 0, 0, 0, 255, 0, 0, 0, 255}, idx4[2] = {0x01, 0x20};
    b = make_png(3, 1, 4, 3, idx4, 2, pal, 3);
    ck_assert_float_eq(pixel(&b, 0, 0), 1.0f); /* red */
    ck_assert_float_eq(pixel(&b, 1, 1), 1.0f); /* green */
    ck_assert_float_eq(pixel(&b, 2, 2), 1.0f); /* blue */
    free(b.p);
    /* gray + alpha, 16-bit: gray copied to all three channels, alpha dropped */
    const unsigned char ga16[4] = {0xc0, 0x00, 0x00, 0x10};
    b = make_png(1, 1, 16, 4, ga16, 4, NULL, 0);
    ck_assert_float_eq(pixel(&b, 2, 0), 0xc0 / 255.0f);
    free(b.p);
    /* an index beyond the palette reads as black (libpng pads the palette
     * to 256 entries), never from outside it */
    const unsigned char beyond[2] = {0x09, 0x00};
    b = make_png(3, 1, 4, 3, beyond, 2, pal, 3);
    ck_assert_float_eq(pixel(&b, 0, 1), 0.0f); /* index 9 */
    ck_assert_float_eq(pixel(&b, 0, 0), 1.0f); /* index 0 beside it is red */
    free(b.p);
    /* a bit depth libpng refuses */
    const unsigned char bad[3] = {1, 2, 3};
    expect_open(SGAD_E_FORMAT, SGAD_DATA_PNG, make_png(3, 1, 5, 2, bad, 3, NULL, 0), none,
                "(memory)");
}
END_TEST

Suite *suite_data(void)
{
    Suite *s = suite_create("data");
    TCase *tc = tcase_create("data");
    tcase_add_test(tc, idx_reads_raw_and_gzip);
    tcase_add_test(tc, idx_rejects_malformed_files);
    tcase_add_test(tc, cifar_records_and_directories);
    tcase_add_test(tc, batches_shuffle_by_seed_and_epoch);
    tcase_add_test(tc, png_grid_strip_and_folders);
    tcase_add_test(tc, png_depths_and_palettes_become_8bit_rgb);
    suite_add_tcase(s, tc);
    return s;
}
