/* SPDX-License-Identifier: MIT */
/* Saving the trainer into a directory of numbered checkpoints, named by
 * its iteration, keeping the newest few (checkpoint.h). The file names
 * and the pruning are the format's (io/checkpoint_files.c). */
#include "io/checkpoint_impl.h"
#include "trainer_impl.h"

sgad_status sgad_checkpoint_save_rotating(sgad_trainer *t, const char *dir, int keep,
                                          char *path_out, size_t cap)
{
    static const char fn[] = "sgad_checkpoint_save_rotating";
    if (!t)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(t->ctx, dir && *dir && keep >= 0, SGAD_E_INVALID_ARG,
                "%s: dir is missing or keep=%d < 0", fn, keep);
    SGAD__CHECK(t->ctx, t->iterations <= 999999999999LL, SGAD_E_INVALID_ARG,
                "%s: iteration %lld has more than 12 digits", fn, (long long)t->iterations);
    char path[4096];
    SGAD__TRY(sgad__ckpt_numbered_path(t->ctx, fn, dir, t->iterations, path, sizeof path));
    SGAD__TRY(sgad_checkpoint_save(t, path));
    if (path_out)
        SGAD__TRY(sgad__ckpt_numbered_path(t->ctx, fn, dir, t->iterations, path_out, cap));
    return sgad__ckpt_prune(t->ctx, fn, dir, keep);
}
