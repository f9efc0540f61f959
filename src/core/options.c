/* SPDX-License-Identifier: MIT */
/* Every sgad_option's valid values, in one table: sgad_option_bounds
 * reports a row, sgad__option_check checks a value against it. A new
 * option needs a row here and nothing else in this file. */
#include <math.h>

#include "internal.h"

typedef struct option_row {
    sgad_option option;
    double lo, hi;        /* closed bounds */
    int integral;         /* enumerated, boolean and counting options take whole numbers */
    int read_only;        /* reported by sgad_layer_get, never set */
    const char *taken_by; /* the objects that take the option */
} option_row;

static const option_row option_rows[] = {
    {SGAD_OPT_NEURON_TAU, 1.0, 1e6, 0, 0, "neuron"},
    {SGAD_OPT_NEURON_THRESHOLD, 1e-12, 1e6, 0, 0, "neuron"},
    {SGAD_OPT_NEURON_V_RESET, -1e6, 1e6, 0, 0, "neuron"},
    {SGAD_OPT_NEURON_RESET_MODE, SGAD_RESET_HARD, SGAD_RESET_SOFT, 1, 0, "neuron"},
    {SGAD_OPT_NEURON_DETACH_RESET, 0, 1, 1, 0, "neuron"},
    {SGAD_OPT_NEURON_DECAY_INPUT, 0, 1, 1, 0, "neuron"},
    {SGAD_OPT_NEURON_SURROGATE, SGAD_SURROGATE_ATAN, SGAD_SURROGATE_TRIANGLE, 1, 0, "neuron"},
    {SGAD_OPT_NEURON_ALPHA, 1e-12, 1e3, 0, 0, "neuron"},
    {SGAD_OPT_BN_MOMENTUM, 0, 1, 0, 0, "batch norm"},
    {SGAD_OPT_BN_EPS, 1e-12, 1, 0, 0, "batch norm"},
    {SGAD_OPT_LEAKY_SLOPE, 0, 1e3, 0, 0, "leaky ReLU"},
    {SGAD_OPT_LR, 0, 1e3, 0, 0, "optimizer"},
    {SGAD_OPT_RMSPROP_ALPHA, 0, 1 - 1e-12, 0, 0, "optimizer"},
    {SGAD_OPT_EPS, 1e-30, 1, 0, 0, "optimizer"},
    {SGAD_OPT_ADAM_BETA1, 0, 1 - 1e-12, 0, 0, "optimizer"},
    {SGAD_OPT_ADAM_BETA2, 0, 1 - 1e-12, 0, 0, "optimizer"},
    {SGAD_OPT_WEIGHT_DECAY, 0, 1e3, 0, 0, "optimizer"},
    {SGAD_OPT_N_CRITIC, 1, 1000, 1, 0, "trainer"},
    {SGAD_OPT_CLIP, 0, 1e3, 0, 0, "trainer"},
    {SGAD_OPT_EMA_DECAY, 0, 1 - 1e-12, 0, 0, "trainer"},
    {SGAD_OPT_SCHEDULE, SGAD_SCHEDULE_CONSTANT, SGAD_SCHEDULE_PAPER, 1, 0, "trainer"},
    {SGAD_OPT_SCHEDULE_LENGTH, 1, 1e15, 1, 0, "trainer"},
    {SGAD_OPT_SCHEDULE_PERIOD, 1, 1e15, 1, 0, "trainer"},
    {SGAD_OPT_INPUT_PATH, SGAD_PATH_AUTO, SGAD_PATH_EVENTS, 1, 0, "layer path"},
    {SGAD_OPT_INPUT_PATH_TAKEN, SGAD_PATH_AUTO, SGAD_PATH_EVENTS_BY_PERIOD, 1, 1, "layer path"},
};

static const option_row *find_option(sgad_option option)
{
    for (size_t i = 0; i < sizeof option_rows / sizeof option_rows[0]; i++)
        if (option_rows[i].option == option)
            return &option_rows[i];
    return NULL;
}

sgad_status sgad_option_bounds(sgad_option option, double *lo, double *hi)
{
    const option_row *row = find_option(option);
    if (!row)
        return SGAD_E_INVALID_ARG;
    if (lo)
        *lo = row->lo;
    if (hi)
        *hi = row->hi;
    return SGAD_OK;
}

sgad_status sgad__option_check(sgad_ctx *ctx, const char *fn, const char *owner, sgad_option option,
                               double value)
{
    const option_row *row = find_option(option);
    SGAD__CHECK(ctx, row != NULL, SGAD_E_INVALID_ARG, "%s: unknown option %d", fn, (int)option);
    /* SGAD_OPT_INPUT_PATH_TAKEN is the one read-only option; the message
     * names the option to set in its place. */
    SGAD__CHECK(ctx, !row->read_only, SGAD_E_INVALID_ARG,
                "%s: option %d is read-only (it reports the path of the last forward pass; "
                "set SGAD_OPT_INPUT_PATH, %d, instead)",
                fn, (int)option, (int)SGAD_OPT_INPUT_PATH);
    SGAD__CHECK(ctx, isfinite(value) && value >= row->lo && value <= row->hi, SGAD_E_INVALID_ARG,
                "%s: option %d = %g on %s outside [%g, %g]", fn, (int)option, value, owner, row->lo,
                row->hi);
    SGAD__CHECK(ctx, !row->integral || value == floor(value), SGAD_E_INVALID_ARG,
                "%s: option %d takes a whole number, got %g", fn, (int)option, value);
    return SGAD_OK;
}
