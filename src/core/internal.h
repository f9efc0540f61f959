/* SPDX-License-Identifier: MIT */
/* Internal declarations shared by every source file. Non-static internal
 * symbols carry the sgad__ prefix so the static library cannot clash with
 * its users' symbols. */
#ifndef SGAD_INTERNAL_H
#define SGAD_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "sgad/sgad.h"

#define SGAD__ERR_LEN 512

/* The context's scratch slots (sgad__scratch): reusable working memory,
 * one buffer per slot. Several kernels share a slot, which is safe because
 * a context is used by one thread at a time and kernels do not nest: a
 * layer's forward or backward takes its slots when it starts and leaves
 * nothing in them that a later call reads, and a kernel that needs
 * several buffers at once takes them from different slots. Only the net
 * keeps its slots' contents across calls (from its layers' forwards to
 * their backwards), so no layer uses those. */
typedef enum sgad__scratch_slot {
    /* A convolution's patch columns per thread (layer_conv.c); the event
     * convolution's periodic parts of a chunk (conv_events.c); the event
     * transposed convolution's spike lists per thread in its weight
     * gradient (convt_events.c). */
    SGAD__SCRATCH_CONV_COLUMNS = 0,
    /* A convolution's GEMM results per thread (layer_conv.c); the event
     * convolution's position-major output rows of a chunk
     * (conv_events.c). */
    SGAD__SCRATCH_CONV_PRODUCTS = 1,
    /* A neuron's membranes and input-norm table in its forward, the
     * gradient it carries in an MP backward, the input-norm table in a
     * spiking backward (layer_neuron.c). */
    SGAD__SCRATCH_NEURON_STATE = 2,
    /* A neuron's blocks of all steps per thread: the pooled forward's
     * spikes, the backward's carried gradients (layer_neuron.c). */
    SGAD__SCRATCH_NEURON_BLOCKS = 3,
    /* The event products' weight operand: the linear layer's panels or
     * tile sums per thread (layer_linear.c), the event convolution's weight
     * panels (conv_events.c), the event transposed convolution's weight
     * or its gradient by tap (convt_events.c). */
    SGAD__SCRATCH_EVENT_WEIGHTS = 4,
    /* The event listings: the linear layer's input in tiles or by spike
     * train (layer_linear.c, event_tiles.c, spike_trains.c); the event
     * transposed convolution's workspaces per thread in its forward and
     * its chunk of the output gradient in its weight gradient
     * (convt_events.c). */
    SGAD__SCRATCH_EVENT_LISTS = 5,
    /* The two gradient buffers of the context's nets, which they take in
     * turns (net.c). */
    SGAD__SCRATCH_NET_GRAD_0 = 6,
    SGAD__SCRATCH_NET_GRAD_1 = 7,
} sgad__scratch_slot;

#define SGAD__SCRATCH_SLOTS (SGAD__SCRATCH_NET_GRAD_1 + 1)

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
    /* Reusable working memory for kernels, by sgad__scratch_slot. */
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
void *sgad__scratch(sgad_ctx *ctx, sgad__scratch_slot slot, size_t size);

/* Like sgad__scratch, but a slot that grows keeps its contents. */
void *sgad__scratch_keep(sgad_ctx *ctx, sgad__scratch_slot slot, size_t size);
void sgad__scratch_release(sgad_ctx *ctx);

/* Sums values across processes through the context's reduce hook (a no-op
 * without one); fn names the caller in messages. */
sgad_status sgad__ctx_reduce(sgad_ctx *ctx, const char *fn, double *values, int64_t count);

/* A fresh random stream id for the next object that needs random numbers. */
uint64_t sgad__ctx_next_stream(sgad_ctx *ctx);

/* Checks a value against the option's row of the table in options.c
 * (bounds, wholeness, read-only), recording a message naming fn and owner. */
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

/* SGAD_OK if t has shape want, else SGAD_E_SHAPE with "fn: what is [..],
 * expected [..]". */
sgad_status sgad__expect_shape(sgad_ctx *ctx, const char *fn, const char *what,
                               const sgad_tensor *t, const sgad__shape *want);

/* Creates an owned tensor of shape s (zero-filled). */
sgad_status sgad__tensor_new(sgad_ctx *ctx, const sgad__shape *s, sgad_tensor **out);

#endif /* SGAD_INTERNAL_H */
