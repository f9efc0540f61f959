/* SPDX-License-Identifier: MIT */
/* Copies of tensor sets for the trainer: the snapshot an iteration rolls
 * back to, and the exponential moving average of G. */
#include <string.h>

#include "trainer_impl.h"

static sgad_status grow(sgad_ctx *ctx, sgad__copies *c)
{
    const size_t n = (size_t)c->count + 1;
    sgad_tensor **t = sgad__calloc(ctx, n, sizeof *t);
    float **p = sgad__calloc(ctx, n, sizeof *p);
    if (!t || !p) {
        sgad__free(ctx, t);
        sgad__free(ctx, p);
        return SGAD_E_NOMEM;
    }
    if (c->count) {
        memcpy(t, c->tensors, (size_t)c->count * sizeof *t);
        memcpy(p, c->copies, (size_t)c->count * sizeof *p);
    }
    sgad__free(ctx, c->tensors);
    sgad__free(ctx, c->copies);
    c->tensors = t;
    c->copies = p;
    return SGAD_OK;
}

static sgad_status add(sgad_ctx *ctx, sgad__copies *c, sgad_tensor *v)
{
    SGAD__TRY(grow(ctx, c));
    float *copy = sgad__alloc(ctx, (size_t)v->numel * sizeof(float));
    if (!copy)
        return SGAD_E_NOMEM;
    memcpy(copy, v->data, (size_t)v->numel * sizeof(float));
    c->tensors[c->count] = v;
    c->copies[c->count] = copy;
    c->count++;
    return SGAD_OK;
}

sgad_status sgad__copies_add_net(sgad_ctx *ctx, sgad__copies *c, sgad_net *net, sgad_optimizer *opt)
{
    for (int i = 0; i < sgad_net_param_count(net); i++) {
        sgad_tensor *v;
        SGAD__TRY(sgad_net_param(net, i, NULL, &v, NULL));
        SGAD__TRY(add(ctx, c, v));
    }
    for (int i = 0; opt && i < sgad_optimizer_state_count(opt); i++) {
        sgad_tensor *v;
        SGAD__TRY(sgad_optimizer_state(opt, i, NULL, &v));
        SGAD__TRY(add(ctx, c, v));
    }
    return SGAD_OK;
}

sgad_status sgad__copies_add_buffers(sgad_ctx *ctx, sgad__copies *c, sgad_net *net)
{
    for (int i = 0; i < sgad_net_param_count(net); i++) {
        sgad_tensor *v, *g;
        SGAD__TRY(sgad_net_param(net, i, NULL, &v, &g));
        if (!g)
            SGAD__TRY(add(ctx, c, v));
    }
    return SGAD_OK;
}

void sgad__copies_free(sgad_ctx *ctx, sgad__copies *c)
{
    for (int i = 0; i < c->count; i++)
        sgad__free(ctx, c->copies[i]);
    sgad__free(ctx, c->copies);
    sgad__free(ctx, c->tensors);
    memset(c, 0, sizeof *c);
}

void sgad__copies_save(sgad__copies *c)
{
    for (int i = 0; i < c->count; i++)
        memcpy(c->copies[i], c->tensors[i]->data, (size_t)c->tensors[i]->numel * sizeof(float));
}

void sgad__copies_restore(sgad__copies *c)
{
    for (int i = 0; i < c->count; i++)
        memcpy(c->tensors[i]->data, c->copies[i], (size_t)c->tensors[i]->numel * sizeof(float));
}

void sgad__copies_swap(sgad__copies *c)
{
    for (int i = 0; i < c->count; i++) {
        float *a = c->tensors[i]->data, *b = c->copies[i];
        for (int64_t j = 0; j < c->tensors[i]->numel; j++) {
            const float keep = a[j];
            a[j] = b[j];
            b[j] = keep;
        }
    }
}

void sgad__copies_average(sgad__copies *c, double decay)
{
    const float keep = (float)decay, take = (float)(1.0 - decay);
    for (int i = 0; i < c->count; i++) {
        const float *v = c->tensors[i]->data;
        float *avg = c->copies[i];
        for (int64_t j = 0; j < c->tensors[i]->numel; j++)
            avg[j] = keep * avg[j] + take * v[j];
    }
}
