/* SPDX-License-Identifier: MIT */
/* The interface every kind of layer implements, and the shared layer state.
 *
 * A kind of layer lives in one src/layer_<kind>.c. It defines a struct whose
 * first member is `sgad_layer base`, fills in an sgad__layer_ops table and
 * provides the public *_create function. The generic code in layer.c checks
 * arguments and shapes before calling the ops, so ops may assume:
 *   - in has ndim >= 2 ([T, N, ...]) and was accepted by out_shape;
 *   - x, y, dy are dense buffers of the matching shapes; dx may be NULL,
 *     meaning the caller does not need the input gradient;
 *   - backward follows a forward with the same input shape, and x and y are
 *     that forward's input and output.
 * Parameter gradients are accumulated (+=), PyTorch-style. */
#ifndef SGAD_LAYER_IMPL_H
#define SGAD_LAYER_IMPL_H

#include "core/internal.h"

typedef struct sgad__layer_ops {
    sgad_layer_kind kind;
    /* Checks the input shape (recording a message naming the layer and the
     * values on failure) and computes the output shape. */
    sgad_status (*out_shape)(const sgad_layer *l, const sgad__shape *in, sgad__shape *out);
    sgad_status (*forward)(sgad_layer *l, const sgad__shape *in, const float *x, float *y);
    sgad_status (*backward)(sgad_layer *l, const sgad__shape *in, const float *x, const float *y,
                            const float *dy, float *dx);
    /* Options; NULL if the kind has none. The value is already checked
     * against sgad_option_bounds. */
    sgad_status (*set)(sgad_layer *l, sgad_option option, double value);
    sgad_status (*get)(const sgad_layer *l, sgad_option option, double *value);
    /* Frees kind-specific memory (not the params, not the struct); may be NULL. */
    void (*destroy)(sgad_layer *l);
    /* What backward never reads: SGAD__SKIPS_X, SGAD__SKIPS_Y or both (0:
     * reads both), and SGAD__SKIPS_X_FOR_DX if it reads x for the
     * parameter gradients only (with input_grad_only set it takes x NULL).
     * A net keeps an output only if some backward reads it, so a wrong flag
     * here means wrong gradients: set it only for what the backward
     * provably ignores. */
    int backward_skips;

    /* Traits a net plans with (net/plan.h). Each holds for every layer of
     * the kind, whatever its options. */
    int steps_alike;  /* maps each time step alone and the same way at
                         every step, and is linear in its output gradient
                         for a given input */
    int repeats_step; /* output: the one-step input at every step */
    int spiking;      /* output: spikes, 0 or 1; has a firing rate */
    int same_floats;  /* output: the input's floats in the same order, and
                         dx is dy (a reshape) */

    /* Optional ops a net uses to run layers together (net.c); NULL for
     * kinds without them. Callers go through the sgad__layer_* helpers
     * below, which do nothing (or report nothing) without them. The
     * settings hold until set again; a net sets them around its own calls
     * only. */
    /* Each training forward updates the running statistics `repeats` times
     * with its batch's, as that many identical time steps would. */
    void (*set_repeats)(sgad_layer *l, int64_t repeats);
    /* With `on`, forward computes and records its statistics (and moves
     * the running ones) but writes no output; the layer after it applies
     * them (set_input_norm). A kind with it has affine and replay. */
    void (*set_stats_only)(sgad_layer *l, int on);
    /* For `channels` channels and a last forward on `steps` steps: fills
     * scale and shift ([steps][channels] each) such that input value x of
     * channel c at step t gave x * scale[t*C + c] + shift[t*C + c], bit for
     * bit, and returns 1; 0 (nothing written) for other counts. Valid
     * until the next forward or a change of the parameters. */
    int (*affine)(const sgad_layer *l, int64_t steps, int64_t channels, float *scale, float *shift);
    /* Applies the running-statistics updates of the last training forward
     * once more, exactly as running that forward again would; SGAD_E_STATE
     * without one. */
    sgad_status (*replay)(sgad_layer *l);
    /* With `on`, the input holds one time step that stands for every step
     * of the [T, N, ...] shape the layer is called with, and backward
     * writes the input gradient summed over the steps (one step). */
    void (*set_shared_input)(sgad_layer *l, int on);
    /* With `norm` (a layer with set_stats_only, or NULL to undo), forward
     * and backward take x as norm's input of the same shape, all T steps,
     * and compute the layer's input from it with norm's affine (norm
     * having run forward just before). */
    void (*set_input_norm)(sgad_layer *l, const sgad_layer *norm);
    /* With k > 0, forward writes its output averaged over k x k windows
     * with stride k (as sgad_avgpool2d_create(k, k, 0) would, same bits)
     * and backward takes dy of that pooled shape; the input must be [T, N,
     * C, H, W] with k dividing H and W. 0 undoes it. */
    void (*set_output_pool)(sgad_layer *l, int64_t k);
    /* k if the output averages the input over k x k windows with stride k
     * and no padding, else 0. */
    int64_t (*pool_window)(const sgad_layer *l);
    /* With `on`, a forward in evaluation mode normalises each step with
     * that step's statistics over this process's batch, as PyTorch's train
     * mode does, but moves no running statistics and leaves nothing for
     * replay: the layer's lasting state stays as it was. Unlike the
     * settings above, the caller of the net sets it around a whole
     * forward (sampling, trainer_sample.c) and must undo it. */
    void (*set_batch_stats)(sgad_layer *l, int on);
} sgad__layer_ops;

#define SGAD__SKIPS_X 1
#define SGAD__SKIPS_Y 2
#define SGAD__SKIPS_X_FOR_DX 4

#define SGAD__MAX_PARAMS 8

typedef struct sgad__param {
    const char *name; /* static text */
    sgad_tensor *value;
    sgad_tensor *grad; /* NULL for buffers that are not trained */
} sgad__param;

struct sgad_layer {
    const sgad__layer_ops *ops;
    sgad_ctx *ctx;
    int training;
    int owned_by_net;
    int nparams;
    sgad__param params[SGAD__MAX_PARAMS];
    int has_forward; /* backward is allowed for last_in */
    sgad__shape last_in;
    int has_rate;        /* set by spiking neurons in forward */
    int input_grad_only; /* backward skips the parameter gradients (a net
                              sets it for one call: sgad__net_backward_input) */
    double firing_rate;
};

/* Allocates a zeroed layer struct of `size` bytes (the kind's struct, whose
 * first member is sgad_layer) in training mode. */
sgad_status sgad__layer_alloc(sgad_ctx *ctx, const sgad__layer_ops *ops, size_t size,
                              sgad_layer **out);

/* Adds a zero-filled parameter (with a gradient if trainable) of the given
 * dims. On failure the caller frees the layer with sgad_layer_free. */
sgad_status sgad__layer_add_param(sgad_layer *l, const char *name, int ndim, const int64_t *dims,
                                  int trainable, float **value);

/* Fills p[0..n) with U(-bound, bound) from a fresh stream of the layer's
 * context: PyTorch's default initialisation of linear and conv weights. */
void sgad__init_uniform(sgad_ctx *ctx, float *p, int64_t n, float bound);

/* Runs forward/backward with the bookkeeping of the public calls but none
 * of their argument checks; the net uses these on shapes it has checked. */
sgad_status sgad__layer_forward_raw(sgad_layer *l, const sgad__shape *in, const float *x, float *y);
sgad_status sgad__layer_backward_raw(sgad_layer *l, const sgad__shape *in, const float *x,
                                     const float *y, const float *dy, float *dx);

/* The optional ops (sgad__layer_ops) for any layer: each does nothing, or
 * reports nothing, for a kind without the op. */
int sgad__layer_spiking(const sgad_layer *l);
void sgad__layer_set_repeats(sgad_layer *l, int64_t repeats);
void sgad__layer_set_stats_only(sgad_layer *l, int on);
int sgad__layer_affine(const sgad_layer *l, int64_t steps, int64_t channels, float *scale,
                       float *shift);
sgad_status sgad__layer_replay(sgad_layer *l); /* SGAD_OK without the op */
void sgad__layer_set_shared_input(sgad_layer *l, int on);
void sgad__layer_set_input_norm(sgad_layer *l, const sgad_layer *norm);
void sgad__layer_set_output_pool(sgad_layer *l, int64_t k);
int64_t sgad__layer_pool_window(const sgad_layer *l);
void sgad__layer_set_batch_stats(sgad_layer *l, int on);

/* Consecutive bands of k image rows of width w (row stride w), each
 * averaged over ow windows k x k with stride k into ow outputs of dst,
 * summing in the order the pooling layer does, so the bits are the same. */
void sgad__avgpool_bands(int64_t k, int64_t w, int64_t ow, int64_t bands, const float *src,
                         float *dst);

/* For a net whose last forward ran in training: has the same effect on
 * its state as running that forward again on the same input with the
 * parameters unchanged (only batch norms' running statistics move), and
 * leaves its activations as they are. */
sgad_status sgad__net_replay_forward(sgad_net *net);

/* sgad_net_forward keeping only the outputs of layers keep_from.. (and
 * the last): the others take turns in the context's gradient buffers, as
 * in training, so an inference pass allocates nothing per layer. For
 * sampling; at least layer 1 on. */
sgad_status sgad__net_forward_lean(sgad_net *net, const sgad_tensor *x, sgad_tensor *y,
                                   int keep_from);

/* sgad_net_backward computing dx only: no parameter gradient of the net
 * is computed or changed. For the critic's backward in G's update, where
 * only the gradient reaching G counts. */
sgad_status sgad__net_backward_input(sgad_net *net, const sgad_tensor *dy, sgad_tensor *dx);

/* Per-sample feature count: product of dims[2..]. */
int64_t sgad__sample_numel(const sgad__shape *s);

#endif /* SGAD_LAYER_IMPL_H */
