/* SPDX-License-Identifier: MIT */
/* The float-matrix reader (similarity.h: sgad_matrix_read_memory,
 * sgad_matrix_load): files numpy wrote, hand-made valid .npy and IDX
 * files, and one hand-made bad file per rejection rule, each checked for
 * its status and the words of its message, through memory and through a
 * file. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_util.h"

/* A .npy file: magic, version major.0, the header padded with spaces to
 * a multiple of 64 bytes and ended by a newline (as numpy writes it; the
 * reader does not require the padding), then `data`. */
static unsigned char *npy(int major, const char *header, const void *data, size_t data_size,
                          size_t *size)
{
    const size_t fixed = major == 1 ? 10 : 12, len = strlen(header);
    size_t hlen = len + 1;
    hlen += (64 - (fixed + hlen) % 64) % 64;
    *size = fixed + hlen + data_size;
    unsigned char *p = malloc(*size);
    ck_assert_ptr_nonnull(p);
    memcpy(p, "\x93NUMPY", 6);
    p[6] = (unsigned char)major;
    p[7] = 0;
    for (size_t b = 0; b < fixed - 8; b++)
        p[8 + b] = (unsigned char)(hlen >> (8 * b));
    memset(p + fixed, ' ', hlen);
    memcpy(p + fixed, header, len);
    p[fixed + hlen - 1] = '\n';
    if (data_size)
        memcpy(p + fixed + hlen, data, data_size);
    return p;
}

/* Six little-endian doubles 0.5, 1.5 .. 5.5 (the tests' hosts are
 * little-endian, as fixture.c assumes too). */
static const double six[6] = {0.5, 1.5, 2.5, 3.5, 4.5, 5.5};

static void write_file(const char *path, const unsigned char *p, size_t n)
{
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(p, 1, n, fp), n);
    ck_assert_int_eq(fclose(fp), 0);
}

/* The bytes must be refused, from memory and from a file, with status
 * want and a message containing part. */
static void assert_refused(const unsigned char *p, size_t n, sgad_status want, const char *part)
{
    sgad_ctx *ctx = tu_ctx(1);
    double out[8];
    int64_t rows = -1, cols = -1;
    ASSERT_STATUS(want, sgad_matrix_read_memory(ctx, p, n, out, 8, &rows, &cols));
    ck_assert_msg(strstr(sgad_ctx_last_error(ctx), part) != NULL, "message \"%s\" lacks \"%s\"",
                  sgad_ctx_last_error(ctx), part);
    ck_assert_msg(rows == -1 && cols == -1, "a refused read wrote its shape");
    char path[] = "/tmp/sgad_npy_XXXXXX";
    const int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    write_file(path, p, n);
    double *m = (double *)1;
    ASSERT_STATUS(want, sgad_matrix_load(ctx, path, &m, &rows, &cols));
    ck_assert_msg(m == NULL, "a refused load left a matrix");
    ck_assert_msg(strstr(sgad_ctx_last_error(ctx), path) != NULL &&
                      strstr(sgad_ctx_last_error(ctx), part) != NULL,
                  "file message \"%s\"", sgad_ctx_last_error(ctx));
    unlink(path);
    sgad_ctx_free(ctx);
}

static void refuse_npy(int major, const char *header, size_t data_size, const char *part)
{
    size_t n;
    unsigned char *p = npy(major, header, six, data_size, &n);
    assert_refused(p, n, SGAD_E_FORMAT, part);
    free(p);
}

#define F8_2x3 "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }"

START_TEST(reads_what_numpy_writes)
{
    const char *dir = getenv("SGAD_TEST_DIR");
    const char *files[2] = {"npy_f4.npy", "npy_f8_v2.npy"};
    sgad_ctx *ctx = tu_ctx(1);
    for (int f = 0; f < 2; f++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/fixtures/%s", dir ? dir : "tests", files[f]);
        double *m;
        int64_t rows, cols;
        ASSERT_OK(ctx, sgad_matrix_load(ctx, path, &m, &rows, &cols));
        ck_assert_int_eq(rows, 3);
        ck_assert_int_eq(cols, 5);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 5; j++)
                ck_assert_msg(m[i * 5 + j] == i - j / 4.0, "%s [%d][%d] = %g", files[f], i, j,
                              m[i * 5 + j]);
        sgad_matrix_free(ctx, m);
    }
    sgad_matrix_free(ctx, NULL);
    sgad_ctx_free(ctx);
}
END_TEST

START_TEST(reads_hand_made_files)
{
    sgad_ctx *ctx = tu_ctx(1);
    double out[6];
    int64_t rows, cols;
    size_t n;
    /* version 1.0, keys in another order, double quotes, no trailing comma */
    unsigned char *p =
        npy(1, "{\"shape\": (3,2), \"fortran_order\": False, \"descr\": \"<f8\"}", six, 48, &n);
    ASSERT_OK(ctx, sgad_matrix_read_memory(ctx, p, n, NULL, 0, &rows, &cols));
    ck_assert(rows == 3 && cols == 2);
    ASSERT_STATUS(SGAD_E_SHAPE, sgad_matrix_read_memory(ctx, p, n, out, 5, NULL, NULL));
    ASSERT_OK(ctx, sgad_matrix_read_memory(ctx, p, n, out, 6, NULL, NULL));
    for (int i = 0; i < 6; i++)
        ck_assert(out[i] == six[i]);
    free(p);
    /* version 2.0, float32 */
    const float f4[6] = {-1, 2, 0.25f, 8, 1e-3f, 3};
    p = npy(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 6), }", f4, 24, &n);
    ASSERT_OK(ctx, sgad_matrix_read_memory(ctx, p, n, out, 6, &rows, &cols));
    ck_assert(rows == 1 && cols == 6);
    for (int i = 0; i < 6; i++)
        ck_assert(out[i] == (double)f4[i]);
    free(p);
    /* IDX float32 (0x0D) and float64 (0x0E), big-endian, 2 x 3 */
    unsigned char idx[12 + 48] = {0, 0, 0x0D, 2, 0, 0, 0, 2, 0, 0, 0, 3};
    for (int i = 0; i < 6; i++) {
        float v = (float)six[i];
        unsigned char b[4];
        memcpy(b, &v, 4);
        for (int k = 0; k < 4; k++)
            idx[12 + 4 * i + k] = b[3 - k];
    }
    ASSERT_OK(ctx, sgad_matrix_read_memory(ctx, idx, 12 + 24, out, 6, &rows, &cols));
    ck_assert(rows == 2 && cols == 3 && out[5] == 5.5);
    idx[2] = 0x0E;
    for (int i = 0; i < 6; i++) {
        unsigned char b[8];
        memcpy(b, &six[i], 8);
        for (int k = 0; k < 8; k++)
            idx[12 + 8 * i + k] = b[7 - k];
    }
    ASSERT_OK(ctx, sgad_matrix_read_memory(ctx, idx, sizeof idx, out, 6, &rows, &cols));
    for (int i = 0; i < 6; i++)
        ck_assert(out[i] == six[i]);
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_matrix_read_memory(NULL, idx, 1, out, 6, NULL, NULL));
    ASSERT_STATUS(SGAD_E_INVALID_ARG, sgad_matrix_read_memory(ctx, NULL, 4, out, 6, NULL, NULL));
    double *m;
    ASSERT_STATUS(SGAD_E_IO, sgad_matrix_load(ctx, "/nonexistent/x.npy", &m, NULL, NULL));
    sgad_ctx_free(ctx);
}
END_TEST

/* One bad file per rule of src/io/npy.c, in the order they are checked. */
START_TEST(refuses_each_bad_file)
{
    size_t n;
    unsigned char *p = npy(1, F8_2x3, six, 48, &n);
    p[5] = 'X'; /* \x93NUMPX */
    assert_refused(p, n, SGAD_E_FORMAT, "bad magic");
    assert_refused((const unsigned char *)"PK\3\4", 4, SGAD_E_FORMAT, "bad magic");
    assert_refused((const unsigned char *)"", 0, SGAD_E_FORMAT, "bad magic");
    free(p);
    p = npy(1, F8_2x3, six, 48, &n);
    p[6] = 3; /* version 3.0 (UTF-8 headers) */
    assert_refused(p, n, SGAD_E_FORMAT, "version 3.0");
    p[6] = 1;
    p[7] = 1; /* 1.1 */
    assert_refused(p, n, SGAD_E_FORMAT, "version 1.1");
    p[7] = 0;
    p[8] = 0xff; /* header length 0x..ff: beyond the 112-byte file */
    p[9] = 0x7f;
    assert_refused(p, n, SGAD_E_FORMAT, "header length 32767 goes beyond the file");
    assert_refused(p, 9, SGAD_E_FORMAT, "too short for a .npy header length");
    free(p);
    refuse_npy(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (2, 3), }", 48, "dtype '<i8'");
    refuse_npy(1, "{'descr': '>f8', 'fortran_order': False, 'shape': (2, 3), }", 48, "dtype '>f8'");
    refuse_npy(1, "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", 48,
               "fortran_order is True");
    refuse_npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (6,), }", 48,
               "a 1-D shape (6,)");
    refuse_npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2, 3), }", 48,
               "a shape of 3 dimensions");
    refuse_npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (), }", 8,
               "a shape of 0 dimensions");
    refuse_npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (0, 3), }", 0,
               "shape (0, 3) is empty");
    refuse_npy(1,
               "{'descr': '<f8', 'fortran_order': False, "
               "'shape': (4294967296, 4294967296), }",
               48, "the shape asks for more than 2147483648 values");
    refuse_npy(1,
               "{'descr': '<f8', 'fortran_order': False, "
               "'shape': (2, 99999999999999999999999999), }",
               48, "the shape asks for more than");
    refuse_npy(2, F8_2x3, 40, "40 data bytes, but shape 2 x 3 of 8-byte values needs 48");
    refuse_npy(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 48,
               "48 data bytes, but shape 2 x 3 of 4-byte values needs 24");
    /* the header itself */
    refuse_npy(1, "{'descr': '<f8', 'shape': (2, 3), }", 48, "lacks 'fortran_order'");
    refuse_npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), 'x': 1}", 48,
               "unknown key 'x'");
    refuse_npy(1, "{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (2, 3)}", 48,
               "'descr' is repeated or malformed");
    refuse_npy(1, "{'descr': '<f8', 'fortran_order': Maybe, 'shape': (2, 3)}", 48,
               "'fortran_order' is repeated or malformed");
    refuse_npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, -3)}", 48,
               "'shape' is repeated or malformed");
    refuse_npy(1, "['descr', '<f8']", 48, "not a dict");
    refuse_npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3)} x", 48,
               "bytes after the .npy header dict");
    refuse_npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3)", 48, "not closed");
    /* a non-finite value, by row and column */
    double bad[6];
    memcpy(bad, six, sizeof bad);
    bad[5] = NAN;
    p = npy(1, F8_2x3, bad, 48, &n);
    assert_refused(p, n, SGAD_E_FORMAT, "value [1][2] is nan");
    free(p);
    /* IDX: another type, other dimensions, a short header, empty, short data */
    unsigned char idx[12 + 24] = {0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3};
    assert_refused(idx, sizeof idx, SGAD_E_FORMAT, "IDX type 0x08");
    idx[2] = 0x0D;
    idx[3] = 3;
    assert_refused(idx, sizeof idx, SGAD_E_FORMAT, "an IDX file of 3 dimensions");
    idx[3] = 2;
    assert_refused(idx, 10, SGAD_E_FORMAT, "shorter than its IDX header");
    assert_refused(idx, 20, SGAD_E_FORMAT, "8 data bytes, but shape 2 x 3 of 4-byte values");
    idx[7] = 0;
    assert_refused(idx, sizeof idx, SGAD_E_FORMAT, "IDX dimensions 0 x 3 are empty");
}
END_TEST

Suite *suite_npy(void)
{
    Suite *s = suite_create("npy");
    TCase *tc = tcase_create("reader");
    tcase_add_test(tc, reads_what_numpy_writes);
    tcase_add_test(tc, reads_hand_made_files);
    tcase_add_test(tc, refuses_each_bad_file);
    suite_add_tcase(s, tc);
    return s;
}
