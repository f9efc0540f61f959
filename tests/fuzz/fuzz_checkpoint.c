/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the checkpoint reader: any bytes go to
 * sgad_checkpoint_read_memory, and what reads is listed and restored into
 * a small trainer (tests/tiny_gan.c, the nets of the seed corpus). Built
 * with -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION, which lets a file with
 * a wrong checksum through, so mutations reach the checks behind it.
 * `make fuzz FUZZ_SECONDS=N` builds and runs it. */
#include <stddef.h>
#include <stdint.h>

#include "sgad/sgad.h"
#include "tiny_gan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sgad_ctx *ctx;
    static tiny_gan gan;
    if (!ctx && (sgad_ctx_create(&ctx) != SGAD_OK || tiny_gan_create(ctx, 4, 1, &gan) != 0))
        return 0;
    sgad_checkpoint *c = NULL;
    if (sgad_checkpoint_read_memory(ctx, data, size, &c) != SGAD_OK)
        return 0;
    for (int i = 0; i < sgad_checkpoint_meta_count(c); i++) {
        const char *k, *v;
        sgad_checkpoint_meta_entry(c, i, &k, &v);
    }
    for (int i = 0; i < sgad_checkpoint_tensor_count(c); i++) {
        const char *name;
        int nd;
        int64_t dims[SGAD_MAX_DIMS];
        sgad_checkpoint_tensor_info(c, i, &name, &nd, dims);
    }
    sgad_checkpoint_restore(c, gan.t);
    sgad_checkpoint_restore_generator(c, gan.g, 0);
    sgad_checkpoint_restore_generator(c, gan.g, 1);
    sgad_checkpoint_free(c);
    return 0;
}
