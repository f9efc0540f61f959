/* SPDX-License-Identifier: MIT */
/* Internals of the checkpoint file format (checkpoint.h): named tensors
 * and string metadata, nothing of the objects they come from. Shared by:
 *   checkpoint_format.c    reading and validating the safetensors layout
 *   checkpoint_contents.c  the ordered list of tensors a file is written from
 *   checkpoint_meta.c      writing and parsing metadata entries
 *   checkpoint_write.c     the canonical writer and crash-safe file saving
 *   checkpoint_files.c     reading files and buffers, naming and pruning a
 *                          directory's numbered files, finding the newest
 *                          valid one
 * The folders above map their objects to this: the trainer's state in
 * train/, the feature classifier in eval/. */
#ifndef SGAD_CHECKPOINT_IMPL_H
#define SGAD_CHECKPOINT_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "core/internal.h"

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

/* What a file is written from: named tensors in file order and metadata
 * entries in file order. Entries from owned_from on are tensor views the
 * list owns (adopted after every borrowed one); -1: none. */
#define SGAD__CKPT_META_SLOTS 64

typedef struct sgad__ckpt_entry {
    char name[SGAD_MAX_NAME + 32];
    sgad_tensor *tensor;
} sgad__ckpt_entry;

typedef struct sgad__ckpt_contents {
    int count, cap;
    sgad__ckpt_entry *entries;
    int owned_from;
    int nmeta; /* more than the slots makes the writer fail */
    char keys[SGAD__CKPT_META_SLOTS][48];
    char values[SGAD__CKPT_META_SLOTS][96];
} sgad__ckpt_contents;

/* An empty list with room for cap tensors. */
sgad_status sgad__ckpt_contents_init(sgad_ctx *ctx, sgad__ckpt_contents *c, int cap);
/* Appends tensor v (borrowed) as prefix followed by name. */
sgad_status sgad__ckpt_contents_add(sgad_ctx *ctx, sgad__ckpt_contents *c, const char *prefix,
                                    const char *name, sgad_tensor *v);
/* Appends view, which the list then owns (freed here on failure too). */
sgad_status sgad__ckpt_contents_adopt(sgad_ctx *ctx, sgad__ckpt_contents *c, const char *prefix,
                                      const char *name, sgad_tensor *view);
/* Frees the owned views and the entries; c may be from a failed init. */
void sgad__ckpt_contents_free(sgad_ctx *ctx, sgad__ckpt_contents *c);
/* SGAD_E_NUMERIC, in fn's name, for the first value that is not finite:
 * a checkpoint holds finite values only. */
sgad_status sgad__ckpt_contents_check_finite(sgad_ctx *ctx, const char *fn,
                                             const sgad__ckpt_contents *c);

/* Metadata: the one writer every kind of file uses, and value parsers. */

/* Appends key with a printf-formatted value. */
void sgad__ckpt_meta(sgad__ckpt_contents *c, const char *key, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* The entries every file starts with: format, format_version, kind (none
 * when kind is NULL: a training checkpoint) and library_version. */
void sgad__ckpt_meta_start(sgad__ckpt_contents *c, const char *kind);
/* 1 if text is a whole number in [lo, hi] (then in *out), else 0. */
int sgad__ckpt_parse_whole(const char *text, long long lo, long long hi, long long *out);
/* 1 if text is a finite number (then in *out), else 0. */
int sgad__ckpt_parse_finite(const char *text, double *out);

/* Where serialised bytes go: a file descriptor or a memory buffer. */
typedef struct sgad__sink {
    sgad_ctx *ctx;
    int fd; /* -1 for memory */
    unsigned char *mem;
    size_t cap, pos;
} sgad__sink;

/* The file's size for contents s. */
sgad_status sgad__checkpoint_size(sgad_ctx *ctx, const sgad__ckpt_contents *s, size_t *size);
/* Writes the whole file for contents s into sink. */
sgad_status sgad__checkpoint_emit(sgad_ctx *ctx, const sgad__ckpt_contents *s, sgad__sink *sink);

/* Replaces path by what emit writes, crash-safely (see checkpoint.h). */
sgad_status sgad__atomic_save(sgad_ctx *ctx, const char *path, const sgad__ckpt_contents *s);

/* The path of dir's file for number k (ckpt-<12 digits>.safetensors). */
sgad_status sgad__ckpt_numbered_path(sgad_ctx *ctx, const char *fn, const char *dir, long long k,
                                     char *out, size_t cap);
/* Removes stale temporary files from dir and, when keep > 0, every
 * numbered file but the keep newest. */
sgad_status sgad__ckpt_prune(sgad_ctx *ctx, const char *fn, const char *dir, int keep);

#endif /* SGAD_CHECKPOINT_IMPL_H */
