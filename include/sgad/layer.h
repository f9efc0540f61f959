/* SPDX-License-Identifier: MIT */
/** @file
 * libsgad: layers.
 *
 * A layer maps a time-major input tensor [T, N, ...] to an output tensor
 * [T, N, ...], processing all T steps in one call. Stateless layers (linear,
 * convolutions, pooling, activations) treat the T*N samples as one batch;
 * neurons (neuron.h) run their dynamics over t; batch norm normalises each
 * time step with that step's own statistics.
 *
 * Gradients follow PyTorch's conventions: backward adds the parameter
 * gradients into the layer's grad tensors (call sgad_layer_zero_grad between
 * optimizer steps) and writes the input gradient.
 *
 * Weight layouts (PyTorch's):
 *   linear   weight [out, in],              bias [out]
 *   conv2d   weight [out, in, k, k],        bias [out]
 *   convt2d  weight [in, out, k, k],        bias [out]
 *   batchnorm weight/bias/running_mean/running_var [C]
 *
 * Ownership: the caller owns a layer made by a *_create call and frees it
 * with sgad_layer_free, unless it was given to a net (net.h), which then
 * owns it. Errors are reported through the layer's context.
 *
 * Threads: an object is used by one thread at a time, together with the
 * context it was made from (context.h); objects of different contexts may
 * be used in parallel. sgad_option_bounds and
 * sgad_layer_kind_name may be called from any thread. */
#ifndef SGAD_LAYER_H
#define SGAD_LAYER_H

#include <stdint.h>

#include "context.h"
#include "export.h"
#include "status.h"
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A layer (opaque). Made by a sgad_<kind>_create call, freed by
 *  sgad_layer_free or by the net that adopted it. */
typedef struct sgad_layer sgad_layer;

/** Kinds of layer. Values are pinned; new kinds are appended. */
typedef enum sgad_layer_kind {
    SGAD_LAYER_LINEAR = 1,
    SGAD_LAYER_CONV2D = 2,
    SGAD_LAYER_CONVT2D = 3,
    SGAD_LAYER_BATCHNORM1D = 4,
    SGAD_LAYER_BATCHNORM2D = 5,
    SGAD_LAYER_AVGPOOL2D = 6,
    SGAD_LAYER_SIGMOID = 7,
    SGAD_LAYER_LEAKY_RELU = 8,
    SGAD_LAYER_RESHAPE = 9,
    SGAD_LAYER_LIF = 10,
    SGAD_LAYER_IF = 11,
    SGAD_LAYER_MP = 12,
    SGAD_LAYER_ATTENTION = 13,
    SGAD_LAYER_REPEAT = 14,
    SGAD_LAYER_LAST_STEP = 15,
    SGAD_LAYER_TIME_MEAN = 16
} sgad_layer_kind;

/** Settings a layer may have, read and written as doubles with
 *  sgad_layer_set/get. Settings are sticky. Values are pinned. */
typedef enum sgad_option {
    SGAD_OPT_NEURON_TAU = 100,        /**< membrane time constant, (1, 1e6]; default 2 */
    SGAD_OPT_NEURON_THRESHOLD = 101,  /**< firing threshold V_th, (0, 1e6]; default 1 */
    SGAD_OPT_NEURON_V_RESET = 102,    /**< hard-reset value and initial V, [-1e6, 1e6]; default 0 */
    SGAD_OPT_NEURON_RESET_MODE = 103, /**< an sgad_reset_mode; default SGAD_RESET_HARD */
    SGAD_OPT_NEURON_DETACH_RESET = 104, /**< 1: no gradient through the reset; default 1 */
    SGAD_OPT_NEURON_DECAY_INPUT = 105,  /**< 1: input scaled by 1/tau; default 1 */
    SGAD_OPT_NEURON_SURROGATE = 106,    /**< an sgad_surrogate; default SGAD_SURROGATE_ATAN */
    SGAD_OPT_NEURON_ALPHA = 107,        /**< surrogate sharpness, (0, 1e3]; default 2 */
    SGAD_OPT_BN_MOMENTUM = 200,         /**< running-statistics momentum, [0, 1]; default 0.1 */
    SGAD_OPT_BN_EPS = 201,              /**< variance epsilon, (0, 1]; default 1e-5 */
    SGAD_OPT_LEAKY_SLOPE = 300,         /**< LeakyReLU negative slope, [0, 1e3]; default 0.01 */
    SGAD_OPT_LR = 400,                  /**< optimizer learning rate, [0, 1e3]; default 2e-4 */
    SGAD_OPT_RMSPROP_ALPHA = 401,       /**< RMSprop smoothing, [0, 1); default 0.99 */
    SGAD_OPT_EPS = 402,                 /**< optimizer epsilon, (0, 1]; default 1e-8 */
    SGAD_OPT_ADAM_BETA1 = 403,          /**< Adam beta1, [0, 1); default 0.9 */
    SGAD_OPT_ADAM_BETA2 = 404,          /**< Adam beta2, [0, 1); default 0.999 */
    SGAD_OPT_WEIGHT_DECAY = 405,        /**< L2 penalty added to gradients, [0, 1e3]; default 0 */
    SGAD_OPT_N_CRITIC = 500,        /**< trainer: D updates per G update, [1, 1000]; default 1 */
    SGAD_OPT_CLIP = 501,            /**< trainer: clamp D's parameters to [-c, c] after its
                                              update, [0, 1e3], 0 = off; default 0 */
    SGAD_OPT_EMA_DECAY = 502,       /**< trainer: decay of G's weight average, [0, 1),
                                              0 = off; default 0 */
    SGAD_OPT_SCHEDULE = 503,        /**< trainer: an sgad_schedule; default constant */
    SGAD_OPT_SCHEDULE_LENGTH = 504, /**< trainer: iterations the schedule spans,
                                              [1, 1e15]; default 1 */
    SGAD_OPT_SCHEDULE_PERIOD = 505, /**< trainer: iterations between learning-rate
                                              changes (an epoch's, to step as PyTorch does
                                              per epoch), [1, 1e15]; default 1 */
    SGAD_OPT_INPUT_PATH = 600,      /**< linear, conv2d, convt2d: how the products read the
                                              input, an sgad_input_path; default
                                              SGAD_PATH_AUTO */
    SGAD_OPT_INPUT_PATH_TAKEN = 601 /**< linear, conv2d, convt2d, read-only
                                              (sgad_layer_get): the sgad_input_path the
                                              last forward pass took, never
                                              SGAD_PATH_AUTO after one; SGAD_PATH_AUTO
                                              before the first */
} sgad_option;

/** How a linear, convolution or transposed-convolution layer computes its
 *  forward pass and weight gradient (SGAD_OPT_INPUT_PATH). Both paths give
 *  the same values up to float rounding (the order of the sums differs);
 *  the input gradient is always dense. Values are pinned. */
typedef enum sgad_input_path {
    /** Per call, by the measured share of nonzero inputs: event-driven when
     *  the input is sparse enough to win, as spike trains usually are. */
    SGAD_PATH_AUTO = 0,
    SGAD_PATH_DENSE = 1, /**< always dense matrix products (BLIS) */
    /** Always event-driven: work only for nonzero inputs. Within it a
     *  layer takes one of the two refinements below where they do less
     *  work; SGAD_OPT_INPUT_PATH_TAKEN reports which. */
    SGAD_PATH_EVENTS = 2,
    /** Reported only (linear): binary spikes grouped by spike train, each
     *  train's weight rows summed once and added at its steps. */
    SGAD_PATH_EVENTS_BY_TRAIN = 3,
    /** Reported only (conv2d over T >= 2 steps): events on the input's
     *  periodic parts, x_t = the sum of a_p over the divisors p of t, which
     *  neurons with a constant input (a directly encoded image) make far
     *  sparser than x. */
    SGAD_PATH_EVENTS_BY_PERIOD = 4
} sgad_input_path;

/** Writes the closed bounds of an option's valid values. Enumerated options
 *  report their smallest and largest value; a read-only option the range
 *  of what it reports. */
SGAD_API sgad_status sgad_option_bounds(sgad_option option, double *lo, double *hi);

/** Sets an option. SGAD_E_INVALID_ARG if the value is out of bounds or not
 *  finite; SGAD_E_UNSUPPORTED if this kind of layer has no such option. */
SGAD_API sgad_status sgad_layer_set(sgad_layer *layer, sgad_option option, double value);

/** Reads an option into *value. */
SGAD_API sgad_status sgad_layer_get(const sgad_layer *layer, sgad_option option, double *value);

/** y = x W^T + b over inputs [T, N, in] -> [T, N, out]. has_bias is 0 or 1.
 *  Weights are drawn as PyTorch does: U(-1/sqrt(in), 1/sqrt(in)). */
SGAD_API sgad_status sgad_linear_create(sgad_ctx *ctx, int64_t in_features, int64_t out_features,
                                        int has_bias, sgad_layer **out);

/** 2-D convolution [T, N, in, H, W] -> [T, N, out, OH, OW] with a square
 *  kernel, stride and zero padding: OH = (H + 2 padding - kernel) / stride + 1. */
SGAD_API sgad_status sgad_conv2d_create(sgad_ctx *ctx, int64_t in_channels, int64_t out_channels,
                                        int kernel, int stride, int padding, int has_bias,
                                        sgad_layer **out);

/** Transposed 2-D convolution [T, N, in, H, W] -> [T, N, out, OH, OW] with
 *  OH = (H - 1) stride - 2 padding + kernel (PyTorch's, output_padding 0). */
SGAD_API sgad_status sgad_convt2d_create(sgad_ctx *ctx, int64_t in_channels, int64_t out_channels,
                                         int kernel, int stride, int padding, int has_bias,
                                         sgad_layer **out);

/** Batch norm over [T, N, F] (1d) or [T, N, C, H, W] (2d). In training each
 *  time step is normalised with its own batch statistics, and the running
 *  statistics are updated once per step (T times per forward), as a PyTorch
 *  BatchNorm module called at every step does. In evaluation the running
 *  statistics are used. weight = 1, bias = 0, running mean 0, var 1. */
SGAD_API sgad_status sgad_batchnorm1d_create(sgad_ctx *ctx, int64_t features, sgad_layer **out);
/** As sgad_batchnorm1d_create, for images [T, N, C, H, W] with C = channels. */
SGAD_API sgad_status sgad_batchnorm2d_create(sgad_ctx *ctx, int64_t channels, sgad_layer **out);

/** Average pooling over [T, N, C, H, W] with zero padding counted in the
 *  average (PyTorch's count_include_pad=True). stride 0 means stride = kernel. */
SGAD_API sgad_status sgad_avgpool2d_create(sgad_ctx *ctx, int kernel, int stride, int padding,
                                           sgad_layer **out);

/** Element-wise 1 / (1 + exp(-x)), any shape. */
SGAD_API sgad_status sgad_sigmoid_create(sgad_ctx *ctx, sgad_layer **out);

/** Element-wise x for x >= 0, slope * x otherwise, any shape. */
SGAD_API sgad_status sgad_leaky_relu_create(sgad_ctx *ctx, double slope, sgad_layer **out);

/** Reshapes each sample: [T, N, ...] -> [T, N, sample_dims...]; the element
 *  count per sample must match. ndim is 1..SGAD_MAX_DIMS-2. */
SGAD_API sgad_status sgad_reshape_create(sgad_ctx *ctx, int ndim, const int64_t *sample_dims,
                                         sgad_layer **out);

/** Direct encoding as a layer: [1, N, ...] -> [steps, N, ...], the same
 *  sample at every step; backward sums the gradient over the steps. As the
 *  first layer of a net it lets the net take static inputs (a latent z, an
 *  image) and run them over time. */
SGAD_API sgad_status sgad_repeat_create(sgad_ctx *ctx, int steps, sgad_layer **out);

/** [T, N, ...] -> [1, N, ...]: the last step times scale. SGAD reads the
 *  discriminator's score and SWGAN's image as the final membrane / T. */
SGAD_API sgad_status sgad_last_step_create(sgad_ctx *ctx, double scale, sgad_layer **out);

/** [T, N, ...] -> [1, N, ...]: the mean over the T steps. */
SGAD_API sgad_status sgad_time_mean_create(sgad_ctx *ctx, sgad_layer **out);

/** Frees the layer. Never free a layer a net owns. NULL is a no-op. */
SGAD_API void sgad_layer_free(sgad_layer *layer);

/** @return the layer's kind, or 0 if layer is NULL. */
SGAD_API sgad_layer_kind sgad_layer_get_kind(const sgad_layer *layer);

/** @return the kind as text, e.g. "conv2d". Static, never NULL. */
SGAD_API const char *sgad_layer_kind_name(sgad_layer_kind kind);

/** @return the context the layer was made from, or NULL if layer is NULL. */
SGAD_API sgad_ctx *sgad_layer_ctx(const sgad_layer *layer);

/** Computes the output dimensions for input dimensions [T, N, ...] without
 *  running the layer. out_dims must hold SGAD_MAX_DIMS values. */
SGAD_API sgad_status sgad_layer_output_dims(const sgad_layer *layer, int ndim,
                                            const int64_t *in_dims, int *out_ndim,
                                            int64_t *out_dims);

/** Runs the layer over all T steps. y must have the dimensions
 *  sgad_layer_output_dims gives and must not overlap x. Neuron state starts
 *  from its reset value at every call: nothing leaks between calls. */
SGAD_API sgad_status sgad_layer_forward(sgad_layer *layer, const sgad_tensor *x, sgad_tensor *y);

/** Back-propagates through the last forward (BPTT for neurons). Pass the
 *  same x and y as that forward, unchanged, and dy of y's shape. Adds the
 *  parameter gradients into the grad tensors and writes dx (x's shape), or
 *  skips the input gradient if dx is NULL. SGAD_E_STATE if there was no
 *  forward or the shapes differ from it. */
SGAD_API sgad_status sgad_layer_backward(sgad_layer *layer, const sgad_tensor *x,
                                         const sgad_tensor *y, const sgad_tensor *dy,
                                         sgad_tensor *dx);

/** Training (1, the default) or evaluation (0) mode; matters for batch norm. */
SGAD_API sgad_status sgad_layer_set_training(sgad_layer *layer, int training);

/** Sets every parameter gradient to zero. NULL is a no-op. */
SGAD_API void sgad_layer_zero_grad(sgad_layer *layer);

/** @return how many parameters and buffers the layer has (0 if NULL). */
SGAD_API int sgad_layer_param_count(const sgad_layer *layer);

/** Reads parameter i (0 <= i < count). Any output may be NULL.
 *  @param name   e.g. "weight", "bias", "running_mean"; static text.
 *  @param value  the parameter tensor, owned by the layer; write to it to
 *                set weights.
 *  @param grad   its gradient tensor, owned by the layer, or NULL for a
 *                buffer that is not trained (batch-norm running stats). */
SGAD_API sgad_status sgad_layer_param(sgad_layer *layer, int i, const char **name,
                                      sgad_tensor **value, sgad_tensor **grad);

/** Fraction of outputs that were spikes in the last forward, for neurons
 *  that spike (LIF, IF). SGAD_E_UNSUPPORTED for other layers, SGAD_E_STATE
 *  before the first forward. */
SGAD_API sgad_status sgad_layer_firing_rate(const sgad_layer *layer, double *rate);

#ifdef __cplusplus
}
#endif

#endif /* SGAD_LAYER_H */
