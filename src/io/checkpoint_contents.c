/* SPDX-License-Identifier: MIT */
/* The ordered list of named tensors a checkpoint file is written from.
 * Borrowed tensors come first and owned views last, so that freeing the
 * list frees exactly the entries from owned_from on. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "checkpoint_impl.h"

sgad_status sgad__ckpt_contents_init(sgad_ctx *ctx, sgad__ckpt_contents *c, int cap)
{
    memset(c, 0, sizeof *c);
    c->owned_from = -1;
    c->entries = sgad__calloc(ctx, (size_t)(cap ? cap : 1), sizeof *c->entries);
    if (!c->entries)
        return SGAD_E_NOMEM;
    c->cap = cap;
    return SGAD_OK;
}

static sgad_status append(sgad_ctx *ctx, sgad__ckpt_contents *c, const char *prefix,
                          const char *name, sgad_tensor *v)
{
    SGAD__CHECK(ctx, c->count < c->cap, SGAD_E_INTERNAL, "checkpoint: state list overflow");
    sgad__ckpt_entry *e = &c->entries[c->count];
    const int n = snprintf(e->name, sizeof e->name, "%s%s", prefix, name);
    SGAD__CHECK(ctx, n > 0 && (size_t)n < sizeof e->name, SGAD_E_INTERNAL,
                "checkpoint: name %s%s too long", prefix, name);
    e->tensor = v;
    c->count++;
    return SGAD_OK;
}

sgad_status sgad__ckpt_contents_add(sgad_ctx *ctx, sgad__ckpt_contents *c, const char *prefix,
                                    const char *name, sgad_tensor *v)
{
    SGAD__CHECK(ctx, c->owned_from < 0, SGAD_E_INTERNAL,
                "checkpoint: borrowed %s%s after an owned view", prefix, name);
    return append(ctx, c, prefix, name, v);
}

sgad_status sgad__ckpt_contents_adopt(sgad_ctx *ctx, sgad__ckpt_contents *c, const char *prefix,
                                      const char *name, sgad_tensor *view)
{
    const sgad_status st = append(ctx, c, prefix, name, view);
    if (st != SGAD_OK) {
        sgad_tensor_free(view);
        return st;
    }
    c->owned_from = c->owned_from < 0 ? c->count - 1 : c->owned_from;
    return SGAD_OK;
}

void sgad__ckpt_contents_free(sgad_ctx *ctx, sgad__ckpt_contents *c)
{
    for (int i = c->owned_from < 0 ? c->count : c->owned_from; i < c->count; i++)
        sgad_tensor_free(c->entries[i].tensor);
    sgad__free(ctx, c->entries);
    c->entries = NULL;
    c->count = 0;
}

sgad_status sgad__ckpt_contents_check_finite(sgad_ctx *ctx, const char *fn,
                                             const sgad__ckpt_contents *c)
{
    for (int i = 0; i < c->count; i++) {
        const sgad_tensor *v = c->entries[i].tensor;
        for (int64_t j = 0; j < v->numel; j++)
            SGAD__CHECK(ctx, isfinite(v->data[j]), SGAD_E_NUMERIC,
                        "%s: %s[%lld] = %g; a checkpoint holds finite values only", fn,
                        c->entries[i].name, (long long)j, (double)v->data[j]);
    }
    return SGAD_OK;
}
