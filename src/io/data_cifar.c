/* SPDX-License-Identifier: MIT */
/* CIFAR-10 binary batches: records of 1 label byte (0..9) and 3072 bytes
 * of a 32x32 image, red plane, green plane, blue plane; no header. A file
 * whose size is not a whole number of records (CIFAR-100's 3074-byte
 * records, say) is rejected. */
#include <string.h>

#include "data_impl.h"

#define RECORD 3073

sgad_status sgad__cifar_load(sgad_dataset *d, const char *name, const unsigned char *data,
                             size_t size)
{
    static const char fn[] = "sgad_dataset_open";
    SGAD__CHECK(d->ctx, size > 0 && size % RECORD == 0, SGAD_E_FORMAT,
                "%s: %s: %zu bytes is not a whole number of %d-byte CIFAR-10 records", fn, name,
                size, RECORD);
    const int64_t n = (int64_t)(size / RECORD), old = d->count;
    SGAD__CHECK(d->ctx, old + n <= SGAD__DATA_MAX_IMAGES, SGAD_E_FORMAT, "%s: too many images", fn);
    unsigned char *px = sgad__alloc(d->ctx, (size_t)(old + n) * 3072);
    int *lab = sgad__alloc(d->ctx, (size_t)(old + n) * sizeof *lab);
    if (!px || !lab) {
        sgad__free(d->ctx, px);
        sgad__free(d->ctx, lab);
        return SGAD_E_NOMEM;
    }
    if (old) { /* appending another batch file */
        memcpy(px, d->pixels, (size_t)old * 3072);
        memcpy(lab, d->labels, (size_t)old * sizeof *lab);
    }
    sgad_status s = SGAD_OK;
    for (int64_t i = 0; i < n && s == SGAD_OK; i++) {
        const unsigned char *r = data + (size_t)i * RECORD;
        if (r[0] > 9)
            s = sgad__fail(d->ctx, SGAD_E_FORMAT, "%s: %s: record %lld has label %d, not 0..9", fn,
                           name, (long long)i, r[0]);
        lab[old + i] = r[0];
        memcpy(px + (size_t)(old + i) * 3072, r + 1, 3072);
    }
    if (s != SGAD_OK) {
        sgad__free(d->ctx, px);
        sgad__free(d->ctx, lab);
        return s;
    }
    sgad__free(d->ctx, d->pixels);
    sgad__free(d->ctx, d->labels);
    d->pixels = px;
    d->labels = lab;
    d->count = old + n;
    d->c = 3;
    d->h = d->w = 32;
    return SGAD_OK;
}
