/* SPDX-License-Identifier: MIT */
/* libFuzzer target for a data reader: any bytes go to
 * sgad_dataset_open_memory in the format SGAD_FUZZ_FORMAT (set by the
 * Makefile: one binary per reader), and what opens is read back. */
#include <stddef.h>
#include <stdint.h>

#include "sgad/sgad.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sgad_ctx *ctx;
    if (!ctx && sgad_ctx_create(&ctx) != SGAD_OK)
        return 0;
    sgad_dataset *d;
    if (sgad_dataset_open_memory(ctx, SGAD_FUZZ_FORMAT, data, size, NULL, 0, &d) != SGAD_OK)
        return 0;
    int64_t c, h, w;
    sgad_dataset_image_dims(d, &c, &h, &w);
    const int64_t n = sgad_dataset_count(d) < 4 ? sgad_dataset_count(d) : 4;
    const int64_t dims[4] = {n, c, h, w};
    sgad_tensor *t;
    if (n > 0 && sgad_tensor_create(ctx, 4, dims, &t) == SGAD_OK) {
        sgad_dataset_read(d, 0, t);
        if (sgad_dataset_batches(d, n) > 0)
            sgad_dataset_batch(d, 1, 0, 0, t, NULL);
        sgad_tensor_free(t);
    }
    sgad_dataset_free(d);
    return 0;
}
