/* Internals of checkpoints (checkpoint.h), shared by:
 *   checkpoint_format.c  reading and validating the safetensors layout
 *   checkpoint_write.c   the canonical writer and crash-safe file saving
 *   checkpoint_state.c   the trainer's state as named tensors and metadata,
 *                        and restoring it
 *   checkpoint_dir.c     rotation and finding the newest valid file */
#ifndef SGAD_CHECKPOINT_IMPL_H
#define SGAD_CHECKPOINT_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "train/trainer_impl.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "libsgad checkpoints are written and read as little-endian memory images"
#endif

#define SGAD__CKPT_FORMAT "libsgad-checkpoint"
#define SGAD__CKPT_VERSION "1"
#define SGAD__CKPT_MAX_HEADER ((uint64_t)16 << 20) /* bytes of JSON */
#define SGAD__CKPT_MAX_TENSORS 65536
#define SGAD__CKPT_MAX_META 4096
#define SGAD__CKPT_MAX_NAME 255
#define SGAD__CKPT_MAX_FILE ((uint64_t)64 << 30)

typedef struct sgad__ckpt_tensor {
    char *name;
    int ndim;
    int64_t dims[SGAD_MAX_DIMS];
    uint64_t begin, end; /* byte offsets into the data section */
} sgad__ckpt_tensor;

struct sgad_checkpoint {
    sgad_ctx *ctx;
    unsigned char *file; /* the whole file, owned */
    size_t size;
    const unsigned char *data; /* the data section inside file */
    uint64_t data_size;
    int ntensors; /* in order of their offsets */
    sgad__ckpt_tensor *tensors;
    int nmeta;
    char **keys, **values;
};

/* Validates the layout of file (size bytes, which the checkpoint takes
 * over; freed on failure too) and builds the handle. */
sgad_status sgad__checkpoint_parse(sgad_ctx *ctx, unsigned char *file, size_t size,
                                   sgad_checkpoint **out);

/* The tensor called name, or NULL. */
const sgad__ckpt_tensor *sgad__checkpoint_find(const sgad_checkpoint *c, const char *name);

/* The trainer's state as an ordered list of named tensors and metadata. */
typedef struct sgad__state_entry {
    char name[SGAD_MAX_NAME + 32];
    sgad_tensor *tensor; /* borrowed */
} sgad__state_entry;

typedef struct sgad__state {
    int count;
    sgad__state_entry *entries;
    int owned_from; /* entries from here on are views the state owns; -1: none */
    int nmeta;
    char keys[64][48];
    char values[64][96];
} sgad__state;

/* ema: G's moving average to list as ema.G.* (count 0 for none). */
sgad_status sgad__state_collect(sgad_trainer *t, const sgad__copies *ema, sgad__state *s);
void sgad__state_free(sgad_ctx *ctx, sgad__state *s);

/* Where serialised bytes go: a file descriptor or a memory buffer. */
typedef struct sgad__sink {
    sgad_ctx *ctx;
    int fd; /* -1 for memory */
    unsigned char *mem;
    size_t cap, pos;
} sgad__sink;

/* The file's size for state s. */
sgad_status sgad__checkpoint_size(sgad_ctx *ctx, const sgad__state *s, size_t *size);
/* Writes the whole file for state s into sink. */
sgad_status sgad__checkpoint_emit(sgad_ctx *ctx, const sgad__state *s, sgad__sink *sink);

/* Replaces path by what emit writes, crash-safely (see checkpoint.h). */
sgad_status sgad__atomic_save(sgad_ctx *ctx, const char *path, const sgad__state *s);

#endif /* SGAD_CHECKPOINT_IMPL_H */
