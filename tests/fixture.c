/* SPDX-License-Identifier: MIT */
/* Fixture reader: bounds-checked although the files are our own. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

static void read_exact(FILE *fp, void *buf, size_t n, const char *path)
{
    ck_assert_msg(fread(buf, 1, n, fp) == n, "%s: truncated fixture", path);
}

static uint32_t read_u32(FILE *fp, const char *path)
{
    unsigned char b[4];
    read_exact(fp, b, 4, path);
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void read_array(FILE *fp, fx_array *a, const char *path)
{
    const uint32_t len = read_u32(fp, path);
    ck_assert_msg(len > 0 && len < sizeof a->name, "%s: bad name length %u", path, len);
    read_exact(fp, a->name, len, path);
    a->name[len] = '\0';
    const uint32_t ndim = read_u32(fp, path);
    ck_assert_msg(ndim <= 6, "%s: %s has %u dims", path, a->name, ndim);
    a->ndim = (int)ndim;
    a->numel = 1;
    for (uint32_t i = 0; i < ndim; i++) {
        int64_t d;
        read_exact(fp, &d, sizeof d, path); /* little-endian hosts only, like the tests */
        ck_assert_msg(d >= 1 && d <= (1 << 20), "%s: %s dim %lld", path, a->name, (long long)d);
        a->dims[i] = d;
        a->numel *= d;
        ck_assert_msg(a->numel <= (1 << 24), "%s: %s too large", path, a->name);
    }
    a->data = malloc((size_t)a->numel * sizeof(float));
    ck_assert_ptr_nonnull(a->data);
    read_exact(fp, a->data, (size_t)a->numel * sizeof(float), path);
}

fixture *fx_load(const char *name)
{
    const char *dir = getenv("SGAD_TEST_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/fixtures/%s.bin", dir ? dir : "tests", name);
    FILE *fp = fopen(path, "rb");
    ck_assert_msg(fp != NULL, "cannot open %s (set SGAD_TEST_DIR to the tests folder)", path);
    char magic[4];
    read_exact(fp, magic, 4, path);
    ck_assert_msg(memcmp(magic, "SGFX", 4) == 0, "%s: not a fixture", path);
    const uint32_t count = read_u32(fp, path);
    ck_assert_msg(count >= 1 && count <= 1024, "%s: %u arrays", path, count);
    fixture *f = calloc(1, sizeof *f);
    ck_assert_ptr_nonnull(f);
    f->arrays = calloc(count, sizeof *f->arrays);
    ck_assert_ptr_nonnull(f->arrays);
    f->count = (int)count;
    for (uint32_t i = 0; i < count; i++)
        read_array(fp, &f->arrays[i], path);
    ck_assert_msg(fgetc(fp) == EOF, "%s: trailing bytes", path);
    fclose(fp);
    return f;
}

void fx_free(fixture *f)
{
    if (!f)
        return;
    for (int i = 0; i < f->count; i++)
        free(f->arrays[i].data);
    free(f->arrays);
    free(f);
}

const fx_array *fx_find(const fixture *f, const char *name)
{
    for (int i = 0; i < f->count; i++)
        if (strcmp(f->arrays[i].name, name) == 0)
            return &f->arrays[i];
    return NULL;
}

const fx_array *fx_get(const fixture *f, const char *name)
{
    const fx_array *a = fx_find(f, name);
    ck_assert_msg(a != NULL, "fixture has no array %s", name);
    return a;
}
