/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the float-matrix reader (similarity.h): any bytes go
 * to sgad_matrix_read_memory, first for the shape, then into a buffer of
 * exactly that size; a small matrix that reads is then compared with
 * itself by the cheaper similarity measures, so that whatever finite
 * values a file can carry also reach them. `make fuzz` builds and runs it
 * with the other targets; its seeds are tests/fuzz/seeds_npy.py's. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "sgad/sgad.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sgad_ctx *ctx;
    if (!ctx && sgad_ctx_create(&ctx) != SGAD_OK)
        return 0;
    int64_t rows, cols;
    if (sgad_matrix_read_memory(ctx, data, size, NULL, 0, &rows, &cols) != SGAD_OK)
        return 0;
    /* the shape was validated against the bytes present: at most size / 4
     * values */
    double *m = malloc((size_t)(rows * cols) * sizeof *m);
    if (!m)
        return 0;
    if (sgad_matrix_read_memory(ctx, data, size, m, rows * cols, NULL, NULL) == SGAD_OK &&
        rows >= 4 && rows <= 64 && cols <= 64) {
        const sgad_rep x = {m, SGAD_DTYPE_F64, rows, cols, 0};
        const sgad_rep y = {m, SGAD_DTYPE_F64, rows, cols > 1 ? cols - 1 : 1, cols};
        double v, p;
        sgad_rsa(ctx, &x, &y, SGAD_RDM_CORRELATION, 3, 1, &v, &p);
        sgad_rsa(ctx, &x, &y, SGAD_RDM_EUCLIDEAN, 0, 0, &v, NULL);
        sgad_cka(ctx, &x, &y, SGAD_CKA_LINEAR, 1, 1, &v);
        sgad_cka(ctx, &x, &y, SGAD_CKA_RBF, 1, 0, &v);
        sgad_svcca(ctx, &x, &y, 0.99, &v, NULL, NULL);
        sgad_encoding_score(ctx, &x, &y, 2, NULL, 0, SGAD_SUMMARY_MEDIAN, &v, NULL);
    }
    free(m);
    return 0;
}
