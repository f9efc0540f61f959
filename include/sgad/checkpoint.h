/* SPDX-License-Identifier: MIT */
/** @file
 * libsgad: checkpoints of the whole training state.
 *
 * A checkpoint is one file in the safetensors layout: an 8-byte
 * little-endian header length, a UTF-8 JSON header mapping each tensor name
 * to {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]} plus a
 * "__metadata__" map of strings, then the raw little-endian float32 data.
 * Python reads it with numpy or the safetensors package
 * (docs/checkpoints.md). It holds everything a bitwise resume needs:
 *
 * @verbatim
 *   G.<param>, D.<param>        parameters and batch-norm statistics
 *   ema.G.<param>               G's moving average, when on
 *   opt.G.<state>, opt.D.<state> optimizer state (RMSprop square_avg,
 *                               Adam exp_avg and exp_avg_sq)
 *   __metadata__                format and library version, the preset
 *                               (model, image shape, T, latent), loss,
 *                               optimizer kinds and settings, trainer
 *                               settings, seed, iteration, epoch, optimizer
 *                               step counts, and a CRC-32 of the data
 * @endverbatim
 *
 * Reading validates before trusting: bounded header, sorted contiguous
 * offsets covering the data exactly, no duplicate names, overflow-checked
 * sizes, the checksum; restoring then checks every name, shape and value
 * against the trainer and changes nothing unless all of it fits. Errors
 * are SGAD_E_FORMAT (malformed), SGAD_E_SHAPE (a different model),
 * SGAD_E_NUMERIC (non-finite values), SGAD_E_IO (the file system), with a
 * message naming what is wrong.
 *
 * Saving is crash-safe: the file is written under a temporary name in the
 * same directory, flushed with fsync, renamed over the target, and the
 * directory is flushed; on any failure the previous file is untouched and
 * the temporary file removed.
 *
 * Threads: an object is used by one thread at a time, together with the
 * context it was made from (context.h); objects of different contexts may
 * be used in parallel. */
#ifndef SGAD_CHECKPOINT_H
#define SGAD_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "context.h"
#include "export.h"
#include "net.h"
#include "status.h"
#include "trainer.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A checkpoint read into memory and checked for well-formedness. */
typedef struct sgad_checkpoint sgad_checkpoint;

/** Saves the trainer's whole state to path, crash-safely. */
SGAD_API sgad_status sgad_checkpoint_save(sgad_trainer *t, const char *path);

/** Serialises the trainer's state into buf. Writes the size needed into
 *  *size; if buf is NULL or cap is smaller, writes nothing else and returns
 *  SGAD_E_SHAPE (call again with a buffer that large). */
SGAD_API sgad_status sgad_checkpoint_save_memory(sgad_trainer *t, void *buf, size_t cap,
                                                 size_t *size);

/** Saves to dir/ckpt-<iteration, 12 digits>.safetensors and then deletes
 *  all but the newest `keep` such files of dir (keep 0 keeps all), and
 *  temporary files that killed saves left there. The path written goes to
 *  path_out (if not NULL, cap bytes). */
SGAD_API sgad_status sgad_checkpoint_save_rotating(sgad_trainer *t, const char *dir, int keep,
                                                   char *path_out, size_t cap);

/** Finds the newest checkpoint of dir (by the iteration in its name) that
 *  reads without error, skipping damaged ones; its path goes to path_out.
 *  SGAD_E_IO if there is none. */
SGAD_API sgad_status sgad_checkpoint_find_latest(sgad_ctx *ctx, const char *dir, char *path_out,
                                                 size_t cap);

/** Reads and checks a checkpoint file (a regular file of at most 64 GiB). */
SGAD_API sgad_status sgad_checkpoint_read(sgad_ctx *ctx, const char *path, sgad_checkpoint **out);

/** Reads and checks a checkpoint from memory (copied; buf may be freed
 *  after the call). */
SGAD_API sgad_status sgad_checkpoint_read_memory(sgad_ctx *ctx, const void *buf, size_t size,
                                                 sgad_checkpoint **out);

/** Frees a checkpoint. NULL is a no-op. */
SGAD_API void sgad_checkpoint_free(sgad_checkpoint *c);

/** @return the number of metadata entries (0 if c is NULL). */
SGAD_API int sgad_checkpoint_meta_count(const sgad_checkpoint *c);

/** Reads metadata entry i (0 <= i < count): key and value, owned by the
 *  checkpoint until sgad_checkpoint_free. Either output may be NULL.
 *  SGAD_E_INVALID_ARG if i is out of range. */
SGAD_API sgad_status sgad_checkpoint_meta_entry(const sgad_checkpoint *c, int i, const char **key,
                                                const char **value);

/** The value of a metadata key, or NULL. */
SGAD_API const char *sgad_checkpoint_meta(const sgad_checkpoint *c, const char *key);

/** @return the number of tensors (0 if c is NULL). */
SGAD_API int sgad_checkpoint_tensor_count(const sgad_checkpoint *c);

/** Reads tensor i's name (owned by the checkpoint) and shape (dims:
 *  SGAD_MAX_DIMS entries), in file order. SGAD_E_INVALID_ARG if i is out
 *  of range. */
SGAD_API sgad_status sgad_checkpoint_tensor_info(const sgad_checkpoint *c, int i, const char **name,
                                                 int *ndim, int64_t *dims);

/** Copies tensor `name` into dst (same number of values). */
SGAD_API sgad_status sgad_checkpoint_tensor_read(const sgad_checkpoint *c, const char *name,
                                                 sgad_tensor *dst);

/** Puts the whole saved state into t: parameters, statistics, optimizer
 *  state and settings, moving average, counters, seed and trainer settings.
 *  t must have the same nets (names and shapes) and optimizer kinds; a
 *  preset trainer must be of the same preset. All or nothing. */
SGAD_API sgad_status sgad_checkpoint_restore(const sgad_checkpoint *c, sgad_trainer *t);

/** Loads only the generator's parameters and statistics into g (e.g. a net
 *  from sgad_preset_create), or with use_ema its moving average. All or
 *  nothing. */
SGAD_API sgad_status sgad_checkpoint_restore_generator(const sgad_checkpoint *c, sgad_net *g,
                                                       int use_ema);

/** Builds a preset trainer as the checkpoint describes and restores it.
 *  SGAD_E_UNSUPPORTED for a checkpoint of caller-built nets. */
SGAD_API sgad_status sgad_checkpoint_create_trainer(const sgad_checkpoint *c, sgad_ctx *ctx,
                                                    sgad_trainer **out);

#ifdef __cplusplus
}
#endif

#endif /* SGAD_CHECKPOINT_H */
