/* Internal declarations shared by every source file. Non-static internal
 * symbols carry the sgad__ prefix so the static library cannot clash with
 * its users' symbols. */
#ifndef SGAD_INTERNAL_H
#define SGAD_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "sgad/sgad.h"

#define SGAD__ERR_LEN 512
#define SGAD__SCRATCH_SLOTS 8

/* Largest element count of one tensor: keeps every size product far from
 * overflow in int64 and size_t arithmetic. */
#define SGAD__MAX_NUMEL ((int64_t)1 << 40)

struct sgad_ctx {
    sgad_alloc_fn alloc_fn;
    sgad_free_fn free_fn;
    void *opaque;
    int threads;
    uint64_t seed;
    uint64_t rng_counter; /* next stream handed out by sgad__ctx_next_stream */
    /* Reusable working memory for kernels (im2col buffers, transposes). A
     * context is used by one thread at a time and kernels do not nest, so
     * one buffer per slot suffices. Slots: 0-1 convolution patches, 2-3
     * neurons, 4-5 event-driven products (events.c), 6-7 the gradient
     * buffers of the context's nets (net.c). */
    void *scratch[SGAD__SCRATCH_SLOTS];
    size_t scratch_size[SGAD__SCRATCH_SLOTS];
    char err[SGAD__ERR_LEN];
    sgad_reduce_hook reduce;
    void *reduce_user;
};

struct sgad_tensor {
    sgad_ctx *ctx;
    int ndim;
    int owns_data;
    int64_t dims[SGAD_MAX_DIMS];
    int64_t numel;
    float *data;
};

/* Dimensions without data, for shape checks and inference. */
typedef struct sgad__shape {
    int ndim;
    int64_t dims[SGAD_MAX_DIMS];
} sgad__shape;

/* Records a formatted message in ctx (if not NULL) and returns status. */
sgad_status sgad__fail(sgad_ctx *ctx, sgad_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Returns from the calling function with status and a message unless cond. */
#define SGAD__CHECK(ctx, cond, status, ...)                                                        \
    do {                                                                                           \
        if (!(cond))                                                                               \
            return sgad__fail((ctx), (status), __VA_ARGS__);                                       \
    } while (0)

/* Propagates a failed status. */
#define SGAD__TRY(expr)                                                                            \
    do {                                                                                           \
        sgad_status sgad__s = (expr);                                                              \
        if (sgad__s != SGAD_OK)                                                                    \
            return sgad__s;                                                                        \
    } while (0)

/* Allocation through the context's hooks. Failures record a message. */
void *sgad__alloc(sgad_ctx *ctx, size_t size);
void *sgad__calloc(sgad_ctx *ctx, size_t count, size_t size);
void sgad__free(sgad_ctx *ctx, void *ptr);

/* A scratch buffer of at least size bytes in the given slot, owned by ctx;
 * valid until the next call for the same slot. NULL on failure. */
void *sgad__scratch(sgad_ctx *ctx, int slot, size_t size);

/* Like sgad__scratch, but a slot that grows keeps its contents. */
void *sgad__scratch_keep(sgad_ctx *ctx, int slot, size_t size);
void sgad__scratch_release(sgad_ctx *ctx);

/* Sums values across processes through the context's reduce hook (a no-op
 * without one); fn names the caller in messages. */
sgad_status sgad__ctx_reduce(sgad_ctx *ctx, const char *fn, double *values, int64_t count);

/* A fresh random stream id for the next object that needs random numbers. */
uint64_t sgad__ctx_next_stream(sgad_ctx *ctx);

/* Checks a value against sgad_option_bounds (and wholeness for enumerated
 * options), recording a message naming fn and owner. */
sgad_status sgad__option_check(sgad_ctx *ctx, const char *fn, const char *owner, sgad_option option,
                               double value);

/* One optimizer step with learning rate `rate` in place of the option (the
 * trainer's schedule); the option is left as the caller set it. */
sgad_status sgad__optimizer_step_at(sgad_optimizer *opt, double rate);

/* Puts an optimizer's step counter back (the trainer's rollback). */
void sgad__optimizer_set_steps(sgad_optimizer *opt, int64_t steps);

/* Shapes. */
int64_t sgad__shape_numel(const sgad__shape *s);
int sgad__shape_equal(const sgad__shape *a, const sgad__shape *b);
void sgad__shape_of(const sgad_tensor *t, sgad__shape *s);
/* Writes "[16, 64, 1, 28, 28]" into buf. */
const char *sgad__shape_str(const sgad__shape *s, char *buf, size_t len);
#define SGAD__SHAPE_STR_LEN 128

/* Nonzero if the two tensors' data ranges share memory. */
int sgad__tensors_overlap(const sgad_tensor *a, const sgad_tensor *b);

/* Creates an owned tensor of shape s (zero-filled). */
sgad_status sgad__tensor_new(sgad_ctx *ctx, const sgad__shape *s, sgad_tensor **out);

#endif /* SGAD_INTERNAL_H */
