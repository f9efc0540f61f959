/* SPDX-License-Identifier: MIT */
/* A program outside the tree that uses libsgad as an installed package:
 * built only with `pkg-config --cflags --libs sgad` (tests/consumer.sh).
 * It checks the header against the library, trains the SGAD preset for one
 * iteration on a tiny batch, and checks that a bad call reports an error.
 * Prints "consumer-c: ok" and exits 0 when every check holds. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <sgad/sgad.h>

#define BATCH 4

static int failed(sgad_ctx *ctx, sgad_status s, const char *call)
{
    if (s == SGAD_OK)
        return 0;
    fprintf(stderr, "consumer-c: %s: %s: %s\n", call, sgad_status_name(s),
            sgad_ctx_last_error(ctx));
    return 1;
}

/* A batch of bright squares on black, values in [0, 1]. */
static void fill_batch(sgad_tensor *real)
{
    float *p = sgad_tensor_data(real);
    for (int n = 0; n < BATCH; n++)
        for (int y = 0; y < 28; y++)
            for (int x = 0; x < 28; x++)
                p[(n * 28 + y) * 28 + x] =
                    (x > 4 + 3 * n && x < 20 && y > 6 && y < 22) ? 1.0f : 0.0f;
}

/* Trains one iteration and checks that it counted and moved G's weights. */
static int train_once(sgad_ctx *ctx)
{
    sgad_trainer *t = NULL;
    sgad_tensor *real = NULL;
    int64_t dims[4] = {BATCH, 1, 28, 28};
    int bad = failed(ctx,
                     sgad_trainer_create_preset(ctx, SGAD_MODEL_SGAD, SGAD_SHAPE_28X28X1, 0, 0,
                                                SGAD_LOSS_EM, SGAD_OPTIMIZER_RMSPROP, &t),
                     "sgad_trainer_create_preset") ||
              failed(ctx, sgad_trainer_set_seed(t, 7), "sgad_trainer_set_seed") ||
              failed(ctx, sgad_tensor_create(ctx, 4, dims, &real), "sgad_tensor_create");
    sgad_tensor *w = NULL;
    float before = 0.0f;
    if (!bad) {
        fill_batch(real);
        bad = failed(ctx, sgad_net_param(sgad_trainer_net(t, 0), 0, NULL, &w, NULL),
                     "sgad_net_param");
    }
    if (!bad) {
        before = sgad_tensor_data(w)[0];
        bad = failed(ctx, sgad_trainer_step(t, real, NULL), "sgad_trainer_step");
    }
    double wdist = NAN;
    if (!bad)
        bad = failed(ctx, sgad_trainer_stat(t, SGAD_STAT_WASSERSTEIN, &wdist), "sgad_trainer_stat");
    if (!bad &&
        (sgad_trainer_iterations(t) != 1 || !isfinite(wdist) || sgad_tensor_data(w)[0] == before)) {
        fprintf(stderr, "consumer-c: after one step: iterations %lld, W %g, G weight %g -> %g\n",
                (long long)sgad_trainer_iterations(t), wdist, before, sgad_tensor_data(w)[0]);
        bad = 1;
    }
    if (!bad)
        printf("consumer-c: one SGAD iteration moved G's first weight %g -> %g\n", before,
               sgad_tensor_data(w)[0]);
    sgad_tensor_free(real);
    sgad_trainer_free(t);
    return bad;
}

/* A bad argument must come back as a status and a message, not a crash. */
static int bad_call_reports(sgad_ctx *ctx)
{
    int64_t dims[1] = {0};
    sgad_tensor *t = NULL;
    sgad_status s = sgad_tensor_create(ctx, 1, dims, &t);
    if (s != SGAD_E_INVALID_ARG || t != NULL || strlen(sgad_ctx_last_error(ctx)) == 0) {
        fprintf(stderr, "consumer-c: a zero dimension gave %s, \"%s\"\n", sgad_status_name(s),
                sgad_ctx_last_error(ctx));
        return 1;
    }
    printf("consumer-c: a bad call says: %s\n", sgad_ctx_last_error(ctx));
    return 0;
}

int main(void)
{
    if (sgad_version_number() != SGAD_VERSION_NUMBER) {
        fprintf(stderr, "consumer-c: header %d, library %u\n", SGAD_VERSION_NUMBER,
                sgad_version_number());
        return 1;
    }
    printf("consumer-c: libsgad %s\n", sgad_version_string());
    sgad_ctx *ctx = NULL;
    if (sgad_ctx_create(&ctx) != SGAD_OK) {
        fprintf(stderr, "consumer-c: sgad_ctx_create failed\n");
        return 1;
    }
    int bad = train_once(ctx) || bad_call_reports(ctx);
    sgad_ctx_free(ctx);
    if (!bad)
        printf("consumer-c: ok\n");
    return bad;
}
