/* SPDX-License-Identifier: MIT */
/* RMSprop and Adam with PyTorch's arithmetic (optim.h). Gradients are all
 * checked before anything is written, so a refused step changes nothing. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/internal.h"
#include "core/parallel.h"
#include "kernels/isa.h"

typedef struct opt_slot {
    sgad_tensor *param, *grad; /* borrowed from the net */
    sgad_tensor *state[2];     /* RMSprop: square_avg; Adam: exp_avg, exp_avg_sq */
    char param_name[SGAD_MAX_NAME];
    char names[2][SGAD_MAX_NAME + 16];
} opt_slot;

struct sgad_optimizer {
    sgad_ctx *ctx;
    sgad_optimizer_kind kind;
    sgad_net *net;
    int nparams_net; /* the net's parameter count at creation */
    int nslots;
    opt_slot *slots;
    int64_t steps;
    double lr, alpha, eps, beta1, beta2, weight_decay;
};

static int states_per_slot(const sgad_optimizer *o)
{
    return o->kind == SGAD_OPTIMIZER_ADAM ? 2 : 1;
}

static sgad_status add_slot(sgad_optimizer *o, const char *name, sgad_tensor *v, sgad_tensor *g)
{
    static const char *suffix[2][2] = {{".square_avg", ""}, {".exp_avg", ".exp_avg_sq"}};
    opt_slot *s = &o->slots[o->nslots];
    s->param = v;
    s->grad = g;
    snprintf(s->param_name, sizeof s->param_name, "%s", name);
    sgad__shape shape;
    sgad__shape_of(v, &shape);
    for (int k = 0; k < states_per_slot(o); k++) {
        SGAD__TRY(sgad__tensor_new(o->ctx, &shape, &s->state[k]));
        snprintf(s->names[k], sizeof s->names[k], "%s%s", name, suffix[o->kind][k]);
    }
    o->nslots++;
    return SGAD_OK;
}

static sgad_status collect(sgad_optimizer *o)
{
    const int n = sgad_net_param_count(o->net);
    o->slots = sgad__calloc(o->ctx, (size_t)(n ? n : 1), sizeof *o->slots);
    if (!o->slots)
        return SGAD_E_NOMEM;
    for (int i = 0; i < n; i++) {
        const char *name;
        sgad_tensor *v, *g;
        SGAD__TRY(sgad_net_param(o->net, i, &name, &v, &g));
        if (g)
            SGAD__TRY(add_slot(o, name, v, g));
    }
    return SGAD_OK;
}

sgad_status sgad_optimizer_create(sgad_ctx *ctx, sgad_optimizer_kind kind, sgad_net *net,
                                  sgad_optimizer **out)
{
    static const char fn[] = "sgad_optimizer_create";
    if (!ctx)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(ctx, out && net, SGAD_E_INVALID_ARG, "%s: out or net is NULL", fn);
    *out = NULL;
    SGAD__CHECK(ctx, kind == SGAD_OPTIMIZER_RMSPROP || kind == SGAD_OPTIMIZER_ADAM,
                SGAD_E_INVALID_ARG, "%s: unknown optimizer kind %d", fn, (int)kind);
    sgad_optimizer *o = sgad__calloc(ctx, 1, sizeof *o);
    if (!o)
        return SGAD_E_NOMEM;
    *o = (sgad_optimizer){ctx, kind,  net, sgad_net_param_count(net), 0, NULL, 0, 2e-4, 0.99, 1e-8,
                          0.9, 0.999, 0.0};
    sgad_status s = collect(o);
    if (s != SGAD_OK) {
        sgad_optimizer_free(o);
        return s;
    }
    *out = o;
    return SGAD_OK;
}

void sgad_optimizer_free(sgad_optimizer *o)
{
    if (!o)
        return;
    for (int i = 0; i < o->nslots; i++)
        for (int k = 0; k < 2; k++)
            sgad_tensor_free(o->slots[i].state[k]);
    sgad__free(o->ctx, o->slots);
    sgad__free(o->ctx, o);
}

static double *option_field(sgad_optimizer *o, sgad_option option)
{
    const int adam = o->kind == SGAD_OPTIMIZER_ADAM;
    switch (option) {
    case SGAD_OPT_LR: return &o->lr;
    case SGAD_OPT_EPS: return &o->eps;
    case SGAD_OPT_WEIGHT_DECAY: return &o->weight_decay;
    case SGAD_OPT_RMSPROP_ALPHA: return adam ? NULL : &o->alpha;
    case SGAD_OPT_ADAM_BETA1: return adam ? &o->beta1 : NULL;
    case SGAD_OPT_ADAM_BETA2: return adam ? &o->beta2 : NULL;
    default: return NULL;
    }
}

static const char *kind_name(const sgad_optimizer *o)
{
    return o->kind == SGAD_OPTIMIZER_ADAM ? "adam" : "rmsprop";
}

sgad_status sgad_optimizer_set(sgad_optimizer *o, sgad_option option, double value)
{
    if (!o)
        return SGAD_E_INVALID_ARG;
    SGAD__TRY(sgad__option_check(o->ctx, "sgad_optimizer_set", kind_name(o), option, value));
    double *field = option_field(o, option);
    SGAD__CHECK(o->ctx, field != NULL, SGAD_E_UNSUPPORTED,
                "sgad_optimizer_set: %s has no option %d", kind_name(o), (int)option);
    *field = value;
    return SGAD_OK;
}

sgad_status sgad_optimizer_get(const sgad_optimizer *o, sgad_option option, double *value)
{
    if (!o)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(o->ctx, value != NULL, SGAD_E_INVALID_ARG, "sgad_optimizer_get: value is NULL");
    const double *field = option_field((sgad_optimizer *)o, option);
    SGAD__CHECK(o->ctx, field != NULL, SGAD_E_UNSUPPORTED,
                "sgad_optimizer_get: %s has no option %d", kind_name(o), (int)option);
    *value = *field;
    return SGAD_OK;
}

/* Whether x[0..n) holds an infinity or a NaN, whose exponent bits are all
 * ones: tested on the bits and OR-ed, so that the loop vectorises and
 * splits over threads (isfinite with an early return ran one value at a
 * time). */
static int any_not_finite(const sgad_ctx *ctx, const float *x, int64_t n)
{
    uint32_t bad = 0;
#pragma omp parallel for num_threads(sgad__par_threads(ctx, n)) schedule(static) reduction(| : bad)
    for (int64_t j = 0; j < n; j++) {
        uint32_t bits;
        memcpy(&bits, x + j, sizeof bits);
        bad |= (bits & 0x7f800000u) == 0x7f800000u;
    }
    return bad != 0;
}

static sgad_status check_finite(const sgad_optimizer *o)
{
    for (int i = 0; i < o->nslots; i++) {
        const sgad_tensor *g = o->slots[i].grad;
        if (!any_not_finite(o->ctx, g->data, g->numel))
            continue;
        for (int64_t j = 0; j < g->numel; j++) /* the first one, for the message */
            SGAD__CHECK(o->ctx, isfinite(g->data[j]), SGAD_E_NUMERIC,
                        "sgad_optimizer_step: gradient of %s is %g at index %lld; step refused",
                        o->slots[i].param_name, (double)g->data[j], (long long)j);
    }
    return SGAD_OK;
}

/* The updates below are element by element, so any split over threads
 * gives the same bits. */
SGAD__AVX2_CLONE
static void rmsprop_update(const sgad_optimizer *o, opt_slot *s, double rate)
{
    const float alpha = (float)o->alpha, lr = (float)rate, eps = (float)o->eps;
    const float wd = (float)o->weight_decay;
    float *p = s->param->data, *sq = s->state[0]->data;
    const float *g = s->grad->data;
    const int64_t n = s->param->numel;
#pragma omp parallel for num_threads(sgad__par_threads(o->ctx, n)) schedule(static)
    for (int64_t j = 0; j < n; j++) {
        const float gj = wd != 0.0f ? g[j] + wd * p[j] : g[j];
        sq[j] = sq[j] * alpha + (1.0f - alpha) * gj * gj;
        p[j] += -lr * (gj / (sqrtf(sq[j]) + eps));
    }
}

static void adam_update(const sgad_optimizer *o, opt_slot *s, double rate)
{
    const float b1 = (float)o->beta1, b2 = (float)o->beta2, eps = (float)o->eps;
    const float wd = (float)o->weight_decay;
    const double bc1 = 1.0 - pow(o->beta1, (double)o->steps);
    const double bc2 = 1.0 - pow(o->beta2, (double)o->steps);
    const float step_size = (float)(rate / bc1), bc2_sqrt = (float)sqrt(bc2);
    float *p = s->param->data, *m = s->state[0]->data, *v = s->state[1]->data;
    const float *g = s->grad->data;
    const int64_t n = s->param->numel;
#pragma omp parallel for num_threads(sgad__par_threads(o->ctx, n)) schedule(static)
    for (int64_t j = 0; j < n; j++) {
        const float gj = wd != 0.0f ? g[j] + wd * p[j] : g[j];
        m[j] = m[j] * b1 + (1.0f - b1) * gj;
        v[j] = v[j] * b2 + (1.0f - b2) * gj * gj;
        p[j] += -step_size * (m[j] / (sqrtf(v[j]) / bc2_sqrt + eps));
    }
}

sgad_status sgad_optimizer_step(sgad_optimizer *o)
{
    if (!o)
        return SGAD_E_INVALID_ARG;
    return sgad__optimizer_step_at(o, o->lr);
}

sgad_status sgad__optimizer_step_at(sgad_optimizer *o, double rate)
{
    SGAD__CHECK(o->ctx, sgad_net_param_count(o->net) == o->nparams_net, SGAD_E_STATE,
                "sgad_optimizer_step: the net gained layers after the optimizer was made");
    SGAD__TRY(check_finite(o));
    o->steps++;
    for (int i = 0; i < o->nslots; i++) {
        if (o->kind == SGAD_OPTIMIZER_ADAM)
            adam_update(o, &o->slots[i], rate);
        else
            rmsprop_update(o, &o->slots[i], rate);
    }
    return SGAD_OK;
}

sgad_optimizer_kind sgad_optimizer_get_kind(const sgad_optimizer *o)
{
    return o ? o->kind : SGAD_OPTIMIZER_RMSPROP;
}

int64_t sgad_optimizer_steps(const sgad_optimizer *o)
{
    return o ? o->steps : 0;
}

int sgad_optimizer_state_count(const sgad_optimizer *o)
{
    return o ? o->nslots * states_per_slot(o) : 0;
}

sgad_status sgad_optimizer_state(sgad_optimizer *o, int i, const char **name, sgad_tensor **value)
{
    if (!o)
        return SGAD_E_INVALID_ARG;
    const int per = states_per_slot(o);
    SGAD__CHECK(o->ctx, i >= 0 && i < o->nslots * per, SGAD_E_INVALID_ARG,
                "sgad_optimizer_state: index %d outside [0, %d)", i, o->nslots * per);
    opt_slot *s = &o->slots[i / per];
    if (name)
        *name = s->names[i % per];
    if (value)
        *value = s->state[i % per];
    return SGAD_OK;
}

void sgad__optimizer_set_steps(sgad_optimizer *o, int64_t steps)
{
    o->steps = steps;
}
