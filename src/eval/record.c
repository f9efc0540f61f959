/* SPDX-License-Identifier: MIT */
/* Recording a net's layers over stimuli (record.h).
 *
 * Only public net calls do the work (forward, activation dims, activation
 * copy), so recording sees exactly what the net computed; the one internal
 * read is each layer's training flag, to put every layer back in the mode
 * it was in (a trainer's nets stay in training mode between steps, and a
 * caller may have set layers differently one by one).
 *
 * Sums over the T steps are in double and divided once, so a rate of k
 * spikes in T steps is k / T rounded once to float. */
#include <string.h>

#include <sgad/record.h>

#include "core/internal.h"
#include "layers/layer_impl.h"

static sgad_ctx *net_ctx(const sgad_net *net)
{
    return sgad_layer_ctx(sgad_net_layer(net, 0));
}

/* The layer whose output a mode reads for `layer`: the layer itself, or
 * the one before it (-1: the net's input). */
static int source_of(int layer, sgad_record_mode mode)
{
    return mode == SGAD_RECORD_INPUT_MEAN ? layer - 1 : layer;
}

sgad_status sgad_record_units(const sgad_net *net, int sample_ndim, const int64_t *sample_dims,
                              int layer, sgad_record_mode mode, int64_t *units)
{
    static const char fn[] = "sgad_record_units";
    sgad_ctx *ctx = net ? net_ctx(net) : NULL;
    if (!ctx)
        return SGAD_E_INVALID_ARG; /* no net, or a net without layers: no context to tell */
    SGAD__CHECK(ctx, sample_dims && units, SGAD_E_INVALID_ARG, "%s: sample_dims or units is NULL",
                fn);
    SGAD__CHECK(ctx, sample_ndim >= 1 && sample_ndim <= SGAD_MAX_DIMS - 2, SGAD_E_INVALID_ARG,
                "%s: sample_ndim %d outside 1..%d", fn, sample_ndim, SGAD_MAX_DIMS - 2);
    SGAD__CHECK(ctx, mode == SGAD_RECORD_OUTPUT_MEAN || mode == SGAD_RECORD_INPUT_MEAN,
                SGAD_E_INVALID_ARG, "%s: unknown mode %d", fn, (int)mode);
    const int nlayers = sgad_net_layer_count(net);
    SGAD__CHECK(ctx, layer >= 0 && layer < nlayers, SGAD_E_INVALID_ARG,
                "%s: layer %d outside [0, %d)", fn, layer, nlayers);
    int nd = sample_ndim + 2;
    int64_t dims[SGAD_MAX_DIMS] = {1, 1};
    memcpy(dims + 2, sample_dims, (size_t)sample_ndim * sizeof *dims);
    /* The shape after layer i, for i up to the source layer. */
    for (int i = 0; i <= source_of(layer, mode); i++) {
        int64_t next[SGAD_MAX_DIMS];
        SGAD__TRY(sgad_layer_output_dims(sgad_net_layer(net, i), nd, dims, &nd, next));
        memcpy(dims, next, sizeof dims);
    }
    int64_t u = 1;
    for (int d = 2; d < nd; d++)
        u *= dims[d];
    *units = u;
    return SGAD_OK;
}

static sgad_status check_args(sgad_ctx *ctx, const char *fn, const sgad_net *net,
                              const sgad_tensor *stimuli, int64_t batch, sgad_record_mode mode,
                              int count, const int *layers, float *const *out)
{
    SGAD__CHECK(ctx, stimuli && layers && out, SGAD_E_INVALID_ARG,
                "%s: stimuli, layers or out is NULL", fn);
    SGAD__CHECK(ctx, batch >= 1 && count >= 1, SGAD_E_INVALID_ARG,
                "%s: batch %lld and count %d must be at least 1", fn, (long long)batch, count);
    SGAD__CHECK(ctx, mode == SGAD_RECORD_OUTPUT_MEAN || mode == SGAD_RECORD_INPUT_MEAN,
                SGAD_E_INVALID_ARG, "%s: unknown mode %d", fn, (int)mode);
    const int nlayers = sgad_net_layer_count(net);
    for (int k = 0; k < count; k++) {
        SGAD__CHECK(ctx, layers[k] >= 0 && layers[k] < nlayers, SGAD_E_INVALID_ARG,
                    "%s: layers[%d] = %d outside [0, %d)", fn, k, layers[k], nlayers);
        SGAD__CHECK(ctx, out[k] != NULL, SGAD_E_INVALID_ARG, "%s: out[%d] is NULL", fn, k);
    }
    SGAD__CHECK(ctx, stimuli->ndim >= 2 && stimuli->ndim <= SGAD_MAX_DIMS - 1, SGAD_E_SHAPE,
                "%s: stimuli have %d dimensions; [N, ...] needs 2..%d", fn, stimuli->ndim,
                SGAD_MAX_DIMS - 1);
    return SGAD_OK;
}

/* Averages one layer's activation [T, b, units...] over T into rows
 * first .. first+b-1 of out (units values each). */
static sgad_status average_over_time(sgad_ctx *ctx, const char *fn, const sgad_net *net, int src,
                                     int64_t first, int64_t b, float *out)
{
    int nd;
    int64_t dims[SGAD_MAX_DIMS];
    SGAD__TRY(sgad_net_activation_dims(net, src, &nd, dims));
    SGAD__CHECK(ctx, nd >= 2 && dims[1] == b, SGAD_E_SHAPE,
                "%s: layer %d's output is not time-major over the batch of %lld", fn, src,
                (long long)b);
    const int64_t steps = dims[0];
    int64_t units = 1;
    for (int d = 2; d < nd; d++)
        units *= dims[d];
    const sgad__shape flat = {1, {steps * b * units}};
    sgad_tensor *act = NULL;
    SGAD__TRY(sgad__tensor_new(ctx, &flat, &act));
    sgad_status st = sgad_net_activation(net, src, act);
    if (st == SGAD_OK) {
        for (int64_t i = 0; i < b; i++) {
            float *row = out + (first + i) * units;
            for (int64_t u = 0; u < units; u++) {
                double sum = 0;
                for (int64_t t = 0; t < steps; t++)
                    sum += act->data[(t * b + i) * units + u];
                row[u] = (float)(sum / (double)steps);
            }
        }
    }
    sgad_tensor_free(act);
    return st;
}

/* One batch: forward stimuli first .. first+b-1 and average every layer. */
static sgad_status record_batch(sgad_ctx *ctx, const char *fn, sgad_net *net,
                                const sgad_tensor *stimuli, int64_t first, int64_t b,
                                sgad_record_mode mode, int count, const int *layers,
                                float *const *out)
{
    const int64_t per = stimuli->numel / stimuli->dims[0];
    int64_t dims[SGAD_MAX_DIMS] = {1, b};
    memcpy(dims + 2, stimuli->dims + 1, (size_t)(stimuli->ndim - 1) * sizeof *dims);
    sgad_tensor *x = NULL;
    /* The net copies its input, so a view of the caller's data is enough. */
    SGAD__TRY(sgad_tensor_wrap(ctx, stimuli->ndim + 1, dims, stimuli->data + first * per, &x));
    sgad_status st = sgad_net_forward(net, x, NULL);
    sgad_tensor_free(x);
    for (int k = 0; st == SGAD_OK && k < count; k++)
        st = average_over_time(ctx, fn, net, source_of(layers[k], mode), first, b, out[k]);
    return st;
}

sgad_status sgad_record(sgad_net *net, const sgad_tensor *stimuli, int64_t batch,
                        sgad_record_mode mode, int count, const int *layers, float *const *out)
{
    static const char fn[] = "sgad_record";
    sgad_ctx *ctx = net ? net_ctx(net) : NULL;
    if (!ctx)
        return SGAD_E_INVALID_ARG;
    SGAD__TRY(check_args(ctx, fn, net, stimuli, batch, mode, count, layers, out));
    const int nlayers = sgad_net_layer_count(net);
    int *was_training = sgad__alloc(ctx, (size_t)nlayers * sizeof *was_training);
    if (!was_training)
        return SGAD_E_NOMEM;
    for (int i = 0; i < nlayers; i++)
        was_training[i] = sgad_net_layer(net, i)->training;
    sgad_status st = sgad_net_set_training(net, 0);
    const int64_t n = stimuli->dims[0];
    for (int64_t first = 0; st == SGAD_OK && first < n; first += batch) {
        const int64_t b = n - first < batch ? n - first : batch;
        st = record_batch(ctx, fn, net, stimuli, first, b, mode, count, layers, out);
    }
    /* Every layer back in its own mode, even after a failure. */
    for (int i = 0; i < nlayers; i++)
        sgad_layer_set_training(sgad_net_layer(net, i), was_training[i]);
    sgad__free(ctx, was_training);
    return st;
}
